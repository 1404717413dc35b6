/* Text generation for `mambacl run`: streaming with UTF-8 hold-back, stop
 * strings, end-of-sequence, Ctrl-C, statistics; and batched generation. */
#ifndef MCL_CLI_GENERATE_H
#define MCL_CLI_GENERATE_H

#include <stdio.h>
#include "mambacl.h"

#define GEN_MAX_STOPS 16

typedef struct gen_opts {
    int n_predict;                    /* tokens to generate at most */
    mcl_sampler_params sampler;
    const char *stops[GEN_MAX_STOPS]; /* stop strings (not printed) */
    int n_stops;
    bool ignore_eos;                  /* keep going past the end-of-sequence token */
    bool quiet;                       /* no statistics on stderr */
    bool echo_prompt;                 /* print the prompt before the completion */
} gen_opts;

typedef struct gen_stats {
    int prompt_tokens, generated;
    double prefill_ms, decode_ms;
} gen_stats;

/* Generated text and how much of it has been printed. */
typedef struct gen_text {
    char *data;     /* malloc'ed, NUL-terminated; free() it */
    size_t len, cap, printed;
} gen_text;

/* Appends the bytes of token `id`; *stop becomes true when a stop string is
 * complete (the text is cut where it begins). */
mcl_status gen_text_add(mcl_tokenizer *tok, gen_text *b, int32_t id, const gen_opts *o, bool *stop);

/* Prints what is safe to print to `out`: never half a UTF-8 character nor
 * the beginning of a possible stop string, unless `final`. */
void gen_text_flush(gen_text *b, const gen_opts *o, FILE *out, bool final);

/* Set by the SIGINT handler that gen_install_sigint installs: the loops stop
 * at the next token and print what they have. */
void gen_install_sigint(void);

/* Generates a completion of `prompt` and streams it to `out`. */
mcl_status gen_stream(mcl_model *m, mcl_tokenizer *tok, const int32_t *prompt, int n_prompt,
                      const gen_opts *o, FILE *out, gen_stats *stats);

/* Generates completions of n prompts as one batch (one prefill call, batched
 * decode steps); completions[i] (malloc'ed) receives each text. */
mcl_status gen_batch(mcl_model *m, mcl_tokenizer *tok, int32_t *const *prompts, const int *lengths, int n,
                     const gen_opts *o, char **completions, gen_stats *stats);

/* Prints "prompt: ... | generated: ... | device: ..." to stderr. */
void gen_print_stats(const gen_stats *s, const char *device, int n_seqs);

#endif
