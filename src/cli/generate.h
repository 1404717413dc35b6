/* Text generation for `mambacl run`: streaming with UTF-8 hold-back, stop
 * strings, end-of-sequence, Ctrl-C (also during the prefill), a prefill
 * progress line, statistics; and batched generation that prints each
 * completion as soon as it is finished. */
#ifndef MCL_CLI_GENERATE_H
#define MCL_CLI_GENERATE_H

#include <stdio.h>
#include "mambacl.h"

#define GEN_MAX_STOPS 16

typedef struct gen_opts {
    int n_predict;                    /* tokens to generate at most; -1 = no limit; 0 = prefill only */
    mcl_sampler_params sampler;
    const char *stops[GEN_MAX_STOPS]; /* stop strings (not printed) */
    int n_stops;
    bool ignore_eos;                  /* keep going past the end-of-sequence token */
    bool quiet;                       /* no statistics and no progress line on stderr */
    bool echo_prompt;                 /* print the prompt before the completion */
} gen_opts;

typedef struct gen_stats {
    int prompt_tokens, generated;
    int decode_tokens;  /* tokens that came out of decode steps (the first of each sequence comes from the prefill) */
    double prefill_ms, decode_ms;
    uint64_t seed;
    bool interrupted;   /* Ctrl-C stopped the generation */
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
 * the beginning of a possible stop string, unless `final`. Invalid UTF-8 is
 * printed as U+FFFD (as the tokenizer's decode does), a character left
 * unfinished at the end of a final flush too. MCL_ERR_IO when writing fails
 * (a full disk, a closed pipe). */
mcl_status gen_text_flush(gen_text *b, const gen_opts *o, FILE *out, bool final);

/* Writes s[0..n) to out with each maximal invalid UTF-8 subsequence replaced
 * by U+FFFD. */
void gen_write_utf8(FILE *out, const char *s, size_t n);

/* Installs the SIGINT handler: the first Ctrl-C makes the loops stop at the
 * next token (or the prefill at the next layer); a second one ends the
 * process at once (exit status 130). */
void gen_install_sigint(void);

/* Whether Ctrl-C was pressed since the last gen_clear_interrupt. */
bool gen_interrupted(void);
void gen_clear_interrupt(void);

/* Advances `s` over prompt[0..n_prompt) (n_prompt >= 1) and generates up to
 * o->n_predict tokens after it, streamed to `out`. The prefill stops on
 * Ctrl-C (MCL_ERR_INTERRUPTED; the state is then undefined) and shows a
 * progress line on a terminal. The state ends having seen the prompt and
 * every generated token but the last: *pending (may be NULL) receives that
 * last token, to feed before the state goes on, or -1 when there is none
 * (nothing generated, or the end-of-sequence token). */
mcl_status gen_stream(mcl_model *m, mcl_tokenizer *tok, mcl_state *s, const int32_t *prompt, int n_prompt,
                      const gen_opts *o, FILE *out, gen_stats *stats, int32_t *pending);

/* Called by gen_batch when completion i (0-based) is finished. */
typedef void (*gen_done_fn)(int i, const char *text, void *user);

/* Generates completions of n prompts as one batch (one prefill call, batched
 * decode steps). done(i, text, user) is called for each sequence as soon as
 * it is finished (end-of-sequence, stop string, length; all of them at
 * Ctrl-C), so in the order they finish. */
mcl_status gen_batch(mcl_model *m, mcl_tokenizer *tok, int32_t *const *prompts, const int *lengths, int n,
                     const gen_opts *o, gen_done_fn done, void *user, gen_stats *stats);

/* Prints "prompt: ... | generated: ... | seed | device: ..." to stderr; no
 * decode rate when no decode step ran. */
void gen_print_stats(const gen_stats *s, const char *device, int n_seqs);

#endif
