/* Text generation for `mambacl run` (see generate.h). */
#include "cli/generate.h"
#include "mcl_internal.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>


static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

void gen_install_sigint(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);
}


static mcl_status buf_append(gen_text *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 256) + n;
        char *d = realloc(b->data, cap);
        if (!d) return MCL_ERR_NOMEM;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return MCL_OK;
}

/* Position of the first complete stop string in b, or -1. */
static long find_stop(const gen_text *b, const gen_opts *o)
{
    return b->data ? mcl_text_find_stop(b->data, b->len, o->stops, o->n_stops) : -1;
}

void gen_text_flush(gen_text *b, const gen_opts *o, FILE *out, bool final)
{
    size_t end = b->data ? mcl_text_safe_end(b->data, b->len, o->stops, o->n_stops, final) : 0;
    if (end > b->printed) {
        fwrite(b->data + b->printed, 1, end - b->printed, out);
        fflush(out);
        b->printed = end;
    }
}

mcl_status gen_text_add(mcl_tokenizer *tok, gen_text *b, int32_t id, const gen_opts *o, bool *stop)
{
    const char *bytes;
    size_t n;
    mcl_status st = mcl_tokenizer_token_text(tok, id, &bytes, &n);
    if (st == MCL_OK) st = buf_append(b, bytes, n);
    if (st != MCL_OK) return st;
    long at = find_stop(b, o);
    if (at >= 0) {
        b->len = (size_t)at;
        b->data[at] = '\0';
        *stop = true;
    }
    return MCL_OK;
}

typedef struct gen_loop {
    mcl_model *m;
    mcl_sampler *sampler;
    float *logits;      // [vocab]
    int32_t *history;   // [n_prompt + n_predict]
    int n_hist;
    int32_t eos;
} gen_loop;

static mcl_status loop_init(gen_loop *g, mcl_model *m, mcl_tokenizer *tok, const int32_t *prompt, int n,
                            const gen_opts *o)
{
    memset(g, 0, sizeof *g);
    g->m = m;
    g->eos = o->ignore_eos ? -1 : mcl_tokenizer_eos_id(tok);
    g->logits = malloc((size_t)mcl_model_vocab(m) * sizeof *g->logits);
    g->history = malloc((size_t)(n + o->n_predict + 1) * sizeof *g->history);
    if (!g->logits || !g->history) return MCL_ERR_NOMEM;
    memcpy(g->history, prompt, (size_t)n * sizeof *prompt);
    g->n_hist = n;
    return mcl_sampler_create(&o->sampler, mcl_model_vocab(m), &g->sampler);
}

static void loop_free(gen_loop *g)
{
    mcl_sampler_free(g->sampler);
    free(g->logits);
    free(g->history);
}

static mcl_status stream_tokens(gen_loop *g, mcl_state *s, mcl_tokenizer *tok, const gen_opts *o, FILE *out,
                                gen_stats *stats)
{
    gen_text b = {0};
    mcl_status st = MCL_OK;
    bool stop = false;
    double t0 = mcl_now_ms();
    for (int i = 0; i < o->n_predict && !stop && !interrupted && st == MCL_OK; i++) {
        int32_t next = mcl_sampler_sample(g->sampler, g->logits, g->history, (size_t)g->n_hist);
        if (next == g->eos) break;
        g->history[g->n_hist++] = next;
        stats->generated++;
        st = gen_text_add(tok, &b, next, o, &stop);
        if (st == MCL_OK) gen_text_flush(&b, o, out, stop);
        if (st == MCL_OK && !stop && i + 1 < o->n_predict) st = mcl_decode(g->m, &s, &next, 1, g->logits);
    }
    if (st == MCL_OK) gen_text_flush(&b, o, out, true);
    stats->decode_ms = mcl_now_ms() - t0;
    free(b.data);
    return st;
}

mcl_status gen_stream(mcl_model *m, mcl_tokenizer *tok, const int32_t *prompt, int n_prompt, const gen_opts *o,
                      FILE *out, gen_stats *stats)
{
    gen_loop g;
    mcl_state *s = NULL;
    memset(stats, 0, sizeof *stats);
    stats->prompt_tokens = n_prompt;
    mcl_status st = loop_init(&g, m, tok, prompt, n_prompt, o);
    if (st == MCL_OK) st = mcl_state_create(m, &s);
    if (st == MCL_OK) {
        double t0 = mcl_now_ms();
        st = mcl_prefill(m, &s, &prompt, &n_prompt, 1, g.logits);
        stats->prefill_ms = mcl_now_ms() - t0;
    }
    if (st == MCL_OK) st = stream_tokens(&g, s, tok, o, out, stats);
    mcl_state_free(s);
    loop_free(&g);
    return st;
}

void gen_print_stats(const gen_stats *s, const char *device, int n_seqs)
{
    double pre = s->prefill_ms > 0 ? s->prompt_tokens / (s->prefill_ms / 1e3) : 0.0;
    double dec = s->decode_ms > 0 ? s->generated / (s->decode_ms / 1e3) : 0.0;
    fprintf(stderr,
            "\n[mambacl] prompt: %d tokens, %.1f tokens/s | generated: %d tokens, %.1f tokens/s%s | "
            "sequences: %d | device: %s\n",
            s->prompt_tokens, pre, s->generated, dec, interrupted ? " (interrupted)" : "", n_seqs, device);
}

/* One sequence of a batch. */
typedef struct batch_seq {
    gen_loop g;      /* its sampler and history; g.logits unused (shared rows) */
    gen_text text;
    mcl_state *state;
    int made;        /* tokens generated */
    int row;         /* its row in the last logits */
    bool done;
} batch_seq;

/* Samples the next token of a live sequence from its logits row; marks it
 * done at the end-of-sequence token, a stop string or the length limit. */
static mcl_status batch_step_seq(batch_seq *q, const float *row, mcl_tokenizer *tok, const gen_opts *o,
                                 int32_t *id, gen_stats *stats)
{
    bool stop = false;
    *id = mcl_sampler_sample(q->g.sampler, row, q->g.history, (size_t)q->g.n_hist);
    if (*id == q->g.eos) {
        q->done = true;
        return MCL_OK;
    }
    q->g.history[q->g.n_hist++] = *id;
    q->made++;
    stats->generated++;
    mcl_status st = gen_text_add(tok, &q->text, *id, o, &stop);
    q->done = stop || q->made >= o->n_predict;
    return st;
}

/* One round: a token for every live sequence, then one batched decode of
 * those that go on. *live receives how many went on. */
static mcl_status batch_round(mcl_model *m, batch_seq *seqs, int n, float *logits, mcl_tokenizer *tok,
                              const gen_opts *o, gen_stats *stats, int *live)
{
    mcl_state **states = malloc((size_t)n * sizeof *states);
    int32_t *next = malloc((size_t)n * sizeof *next);
    int vocab = mcl_model_vocab(m), k = 0;
    mcl_status st = (states && next) ? MCL_OK : MCL_ERR_NOMEM;
    for (int i = 0; i < n && st == MCL_OK; i++) {
        int32_t id;
        if (seqs[i].done) continue;
        st = batch_step_seq(&seqs[i], logits + (size_t)seqs[i].row * (size_t)vocab, tok, o, &id, stats);
        if (st != MCL_OK || seqs[i].done) continue;
        seqs[i].row = k;
        states[k] = seqs[i].state;
        next[k++] = id;
    }
    if (st == MCL_OK && k > 0) st = mcl_decode(m, states, next, k, logits);
    *live = k;
    free(states);
    free(next);
    return st;
}

static mcl_status batch_setup(mcl_model *m, mcl_tokenizer *tok, batch_seq *seqs, int32_t *const *prompts,
                              const int *lengths, int n, const gen_opts *o)
{
    for (int i = 0; i < n; i++) {
        MCL_TRY(loop_init(&seqs[i].g, m, tok, prompts[i], lengths[i], o));
        MCL_TRY(mcl_state_create(m, &seqs[i].state));
        seqs[i].row = i;
    }
    return MCL_OK;
}

mcl_status gen_batch(mcl_model *m, mcl_tokenizer *tok, int32_t *const *prompts, const int *lengths, int n,
                     const gen_opts *o, char **completions, gen_stats *stats)
{
    batch_seq *seqs = calloc((size_t)n, sizeof *seqs);
    float *logits = malloc((size_t)n * (size_t)mcl_model_vocab(m) * sizeof *logits);
    mcl_state **states = malloc((size_t)n * sizeof *states);
    memset(stats, 0, sizeof *stats);
    mcl_status st = (seqs && logits && states) ? batch_setup(m, tok, seqs, prompts, lengths, n, o) : MCL_ERR_NOMEM;
    for (int i = 0; i < n; i++) stats->prompt_tokens += lengths[i];
    if (st == MCL_OK) {
        for (int i = 0; i < n; i++) states[i] = seqs[i].state;
        double t0 = mcl_now_ms();
        st = mcl_prefill(m, states, (const int32_t *const *)prompts, lengths, n, logits);
        stats->prefill_ms = mcl_now_ms() - t0;
    }
    double t1 = mcl_now_ms();
    for (int live = n; st == MCL_OK && live > 0 && !interrupted;)
        st = batch_round(m, seqs, n, logits, tok, o, stats, &live);
    stats->decode_ms = mcl_now_ms() - t1;
    for (int i = 0; seqs && i < n; i++) {
        completions[i] = seqs[i].text.data ? seqs[i].text.data : strdup("");
        mcl_state_free(seqs[i].state);
        loop_free(&seqs[i].g);
    }
    free(seqs);
    free(logits);
    free(states);
    return st;
}
