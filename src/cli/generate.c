/* Text generation for `mambacl run` (see generate.h). */
#include "cli/generate.h"
#include "mcl_internal.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- Ctrl-C ------------------------------------------------------------- */

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    if (interrupted) { /* the second Ctrl-C: end now */
        static const char msg[] = "\nmambacl: interrupted twice, exiting\n";
        ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)w;
        _exit(130);
    }
    interrupted = 1;
}

void gen_install_sigint(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);
}

bool gen_interrupted(void) { return interrupted != 0; }
void gen_clear_interrupt(void) { interrupted = 0; }

/* ---- the text buffer ----------------------------------------------------- */

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

void gen_write_utf8(FILE *out, const char *s, size_t n)
{
    if (tok_utf8_valid(s, n)) {
        fwrite(s, 1, n, out);
        return;
    }
    tok_buf fixed = {0};
    if (tok_utf8_repair(s, n, &fixed)) fwrite(fixed.p, 1, fixed.len, out);
    else fwrite(s, 1, n, out); /* out of memory: the raw bytes rather than nothing */
    tok_buf_free(&fixed);
}

mcl_status gen_text_flush(gen_text *b, const gen_opts *o, FILE *out, bool final)
{
    size_t end = b->data ? mcl_text_safe_end(b->data, b->len, o->stops, o->n_stops, final) : 0;
    if (end > b->printed) {
        gen_write_utf8(out, b->data + b->printed, end - b->printed);
        fflush(out);
        b->printed = end;
    }
    if (ferror(out))
        return mcl_error_set(MCL_ERR_IO, "writing the generated text failed: %s", strerror(errno ? errno : EIO));
    return MCL_OK;
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

/* ---- the prefill: progress line and Ctrl-C --------------------------------- */

#define PROGRESS_MIN_TOKENS 256 /* shorter prefills get no callback (no per-layer waits) */

typedef struct prefill_watch {
    double t0, last;
    bool show;      /* a progress line on stderr (a terminal, not --quiet) */
    bool shown;     /* something was drawn: clear it at the end */
} prefill_watch;

static bool on_prefill(uint64_t done, uint64_t total, void *user)
{
    prefill_watch *w = user;
    double now = mcl_now_ms();
    if (w->show && now - w->t0 > 300.0 && (now - w->last > 100.0 || done == total)) {
        double rate = done / ((now - w->t0) / 1e3);
        fprintf(stderr, "\rprefill: %llu / %llu tokens (%.0f%%), %.0f tokens/s ", (unsigned long long)done,
                (unsigned long long)total, 100.0 * (double)done / (double)total, rate);
        fflush(stderr);
        w->last = now;
        w->shown = true;
    }
    return !interrupted;
}

/* mcl_prefill with the Ctrl-C check and the progress line; *ms its time. */
static mcl_status watched_prefill(mcl_model *m, mcl_state **states, const int32_t *const *tokens,
                                  const int *lengths, int n, float *logits, const gen_opts *o, double *ms)
{
    long long total = 0;
    for (int i = 0; i < n; i++) total += lengths[i];
    prefill_watch w = {.t0 = mcl_now_ms(), .show = !o->quiet && isatty(STDERR_FILENO)};
    w.last = w.t0;
    if (total >= PROGRESS_MIN_TOKENS) mcl_model_set_prefill_progress(m, on_prefill, &w);
    mcl_status st = mcl_prefill(m, states, tokens, lengths, n, logits);
    mcl_model_set_prefill_progress(m, NULL, NULL);
    *ms = mcl_now_ms() - w.t0;
    if (w.shown) fprintf(stderr, "\r\033[K");
    return st;
}

/* ---- one sequence, streamed --------------------------------------------------- */

typedef struct gen_loop {
    mcl_model *m;
    mcl_sampler *sampler;
    float *logits;      // [vocab]
    int32_t *history;   // [cap_hist] prompt and generated ids (the repeat penalty's window)
    int n_hist, cap_hist;
    int32_t eos;
} gen_loop;

static mcl_status loop_init(gen_loop *g, mcl_model *m, mcl_tokenizer *tok, const int32_t *prompt, int n,
                            const gen_opts *o)
{
    memset(g, 0, sizeof *g);
    g->m = m;
    g->eos = o->ignore_eos ? -1 : mcl_tokenizer_eos_id(tok);
    g->logits = malloc((size_t)mcl_model_vocab(m) * sizeof *g->logits);
    g->cap_hist = n + (o->n_predict > 0 ? o->n_predict : 1024) + 1;
    g->history = malloc((size_t)g->cap_hist * sizeof *g->history);
    if (!g->logits || !g->history) return mcl_error_set(MCL_ERR_NOMEM, "out of host memory");
    memcpy(g->history, prompt, (size_t)n * sizeof *prompt);
    g->n_hist = n;
    return mcl_sampler_create(&o->sampler, mcl_model_vocab(m), &g->sampler);
}

/* Appends id to the history; with -n -1 the history keeps its last half
 * when full (the penalty looks at repeat_last_n ids only). */
static void loop_push(gen_loop *g, int32_t id)
{
    if (g->n_hist == g->cap_hist) {
        int keep = g->cap_hist / 2;
        memmove(g->history, g->history + g->n_hist - keep, (size_t)keep * sizeof *g->history);
        g->n_hist = keep;
    }
    g->history[g->n_hist++] = id;
}

static void loop_free(gen_loop *g)
{
    mcl_sampler_free(g->sampler);
    free(g->logits);
    free(g->history);
}

static bool more_wanted(const gen_opts *o, int made) { return o->n_predict < 0 || made < o->n_predict; }

static mcl_status stream_tokens(gen_loop *g, mcl_state *s, mcl_tokenizer *tok, const gen_opts *o, FILE *out,
                                gen_stats *stats, int32_t *pending)
{
    gen_text b = {0};
    mcl_status st = MCL_OK;
    bool stop = false;
    double t0 = 0.0;
    *pending = -1;
    for (int i = 0; more_wanted(o, i) && !stop && !interrupted && st == MCL_OK; i++) {
        if (i == 1) t0 = mcl_now_ms(); /* decode steps start here: the first token came from the prefill */
        if (i > 0) {
            st = mcl_decode(g->m, &s, pending, 1, g->logits);
            *pending = -1;
            if (st != MCL_OK) break;
            stats->decode_tokens++;
        }
        int32_t next = mcl_sampler_sample(g->sampler, g->logits, g->history, (size_t)g->n_hist);
        if (next == g->eos) break;
        loop_push(g, next);
        *pending = next;
        stats->generated++;
        st = gen_text_add(tok, &b, next, o, &stop);
        if (st == MCL_OK) st = gen_text_flush(&b, o, out, stop);
    }
    if (st == MCL_OK) st = gen_text_flush(&b, o, out, true);
    if (t0 > 0.0) stats->decode_ms = mcl_now_ms() - t0;
    stats->interrupted = interrupted != 0;
    free(b.data);
    return st;
}

#define GREEDY_CHUNK 32 /* decode steps per mcl_decode_greedy call: the printing's granularity */

/* Whether the sampler is the plain argmax and nothing can stop the text
 * inside a run of steps: mcl_decode_greedy's case (stream_greedy). */
static bool greedy_streams(const gen_opts *o)
{
    const mcl_sampler_params *p = &o->sampler;
    return p->temperature == 0.0f && (p->repeat_penalty == 0.0f || p->repeat_penalty == 1.0f) && o->n_stops == 0;
}

/* Appends and prints the chosen id (stream_tokens' bookkeeping); *end when
 * it is the end of the sequence (not kept). */
static mcl_status greedy_take(gen_loop *g, mcl_tokenizer *tok, const gen_opts *o, gen_text *b, gen_stats *stats,
                              int32_t id, int32_t *pending, bool *end)
{
    bool stop = false;
    *end = id == g->eos;
    if (*end) return MCL_OK;
    loop_push(g, id);
    *pending = id;
    stats->generated++;
    MCL_TRY(gen_text_add(tok, b, id, o, &stop));
    MCL_ASSERT(!stop, "no stop strings in greedy streaming");
    return MCL_OK;
}

/* stream_tokens for greedy_streams: the decode steps GREEDY_CHUNK at a time
 * through mcl_decode_greedy (chained on the device where it can: the host
 * does not read logits between them), the text printed after each run.
 * The same ids, state, statistics and *pending as stream_tokens; Ctrl-C is
 * seen between runs. */
static mcl_status stream_greedy(gen_loop *g, mcl_state *s, mcl_tokenizer *tok, const gen_opts *o, FILE *out,
                                gen_stats *stats, int32_t *pending)
{
    gen_text b = {0};
    int32_t ids[GREEDY_CHUNK], eos = g->eos;
    bool end = false;
    double t0 = 0.0;
    *pending = -1;
    if (!more_wanted(o, 0)) return MCL_OK;
    mcl_status st = greedy_take(g, tok, o, &b, stats, mcl_sampler_sample(g->sampler, g->logits, NULL, 0), pending,
                                &end); /* the prefill's token */
    for (int made = 1; st == MCL_OK && !end && more_wanted(o, made) && !interrupted;) {
        if ((st = gen_text_flush(&b, o, out, false)) != MCL_OK) break;
        if (made == 1) t0 = mcl_now_ms();
        int want = o->n_predict < 0 || o->n_predict - made > GREEDY_CHUNK ? GREEDY_CHUNK : o->n_predict - made, n = 0;
        st = mcl_decode_greedy(g->m, s, *pending, want, &eos, eos >= 0, ids, &n);
        if (st != MCL_OK) break;
        *pending = -1;
        stats->decode_tokens += n;
        for (int j = 0; j < n && st == MCL_OK && !end; j++, made++)
            st = greedy_take(g, tok, o, &b, stats, ids[j], pending, &end);
        if (end) *pending = -1; /* the state has consumed every id before the end of sequence */
    }
    if (st == MCL_OK) st = gen_text_flush(&b, o, out, true);
    if (t0 > 0.0) stats->decode_ms = mcl_now_ms() - t0;
    stats->interrupted = interrupted != 0;
    free(b.data);
    return st;
}

mcl_status gen_stream(mcl_model *m, mcl_tokenizer *tok, mcl_state *s, const int32_t *prompt, int n_prompt,
                      const gen_opts *o, FILE *out, gen_stats *stats, int32_t *pending)
{
    gen_loop g;
    int32_t last = -1;
    memset(stats, 0, sizeof *stats);
    stats->prompt_tokens = n_prompt;
    stats->seed = o->sampler.seed;
    mcl_status st = loop_init(&g, m, tok, prompt, n_prompt, o);
    if (st == MCL_OK) st = watched_prefill(m, &s, &prompt, &n_prompt, 1, g.logits, o, &stats->prefill_ms);
    if (st == MCL_OK) st = (greedy_streams(o) ? stream_greedy : stream_tokens)(&g, s, tok, o, out, stats, &last);
    if (st == MCL_ERR_INTERRUPTED) stats->interrupted = true;
    if (pending) *pending = last;
    loop_free(&g);
    return st;
}

void gen_print_stats(const gen_stats *s, const char *device, int n_seqs)
{
    double pre = s->prefill_ms > 0 ? s->prompt_tokens / (s->prefill_ms / 1e3) : 0.0;
    char gen[128];
    if (s->decode_tokens > 0 && s->decode_ms > 0)
        snprintf(gen, sizeof gen, "generated: %d tokens, %.1f tokens/s over %d decode steps", s->generated,
                 s->decode_tokens / (s->decode_ms / 1e3), s->decode_tokens);
    else
        snprintf(gen, sizeof gen, "generated: %d token%s (no decode step, no decode rate)", s->generated,
                 s->generated == 1 ? "" : "s");
    fprintf(stderr,
            "\n[mambacl] prompt: %d tokens, %.1f tokens/s | %s%s | sequences: %d | seed: %llu | device: %s\n",
            s->prompt_tokens, pre, gen, s->interrupted ? " (interrupted)" : "", n_seqs,
            (unsigned long long)s->seed, device);
}

/* ---- batches ------------------------------------------------------------------ */

/* One sequence of a batch. */
typedef struct batch_seq {
    gen_loop g;      /* its sampler and history; g.logits unused (shared rows) */
    gen_text text;
    mcl_state *state;
    int made;        /* tokens generated */
    int row;         /* its row in the last logits */
    bool done, reported;
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
    loop_push(&q->g, *id);
    q->made++;
    stats->generated++;
    mcl_status st = gen_text_add(tok, &q->text, *id, o, &stop);
    q->done = stop || !more_wanted(o, q->made);
    return st;
}

static void report_done(batch_seq *seqs, int n, gen_done_fn done, void *user, bool all)
{
    for (int i = 0; i < n; i++) {
        if (seqs[i].reported || !(seqs[i].done || all)) continue;
        seqs[i].reported = true;
        done(i, seqs[i].text.data ? seqs[i].text.data : "", user);
    }
}

/* One round: a token for every live sequence, then one batched decode of
 * those that go on. *live receives how many went on. */
static mcl_status batch_round(mcl_model *m, batch_seq *seqs, int n, float *logits, mcl_tokenizer *tok,
                              const gen_opts *o, gen_stats *stats, int *live)
{
    mcl_state **states = malloc((size_t)n * sizeof *states);
    int32_t *next = malloc((size_t)n * sizeof *next);
    int vocab = mcl_model_vocab(m), k = 0;
    mcl_status st = (states && next) ? MCL_OK : mcl_error_set(MCL_ERR_NOMEM, "out of host memory");
    for (int i = 0; i < n && st == MCL_OK; i++) {
        int32_t id;
        if (seqs[i].done) continue;
        st = batch_step_seq(&seqs[i], logits + (size_t)seqs[i].row * (size_t)vocab, tok, o, &id, stats);
        if (st != MCL_OK || seqs[i].done) continue;
        seqs[i].row = k;
        states[k] = seqs[i].state;
        next[k++] = id;
    }
    if (st == MCL_OK && k > 0) {
        st = mcl_decode(m, states, next, k, logits);
        stats->decode_tokens += k;
    }
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
        seqs[i].done = o->n_predict == 0;
    }
    return MCL_OK;
}

mcl_status gen_batch(mcl_model *m, mcl_tokenizer *tok, int32_t *const *prompts, const int *lengths, int n,
                     const gen_opts *o, gen_done_fn done, void *user, gen_stats *stats)
{
    batch_seq *seqs = calloc((size_t)n, sizeof *seqs);
    float *logits = malloc((size_t)n * (size_t)mcl_model_vocab(m) * sizeof *logits);
    mcl_state **states = malloc((size_t)n * sizeof *states);
    memset(stats, 0, sizeof *stats);
    stats->seed = o->sampler.seed;
    mcl_status st = (seqs && logits && states) ? batch_setup(m, tok, seqs, prompts, lengths, n, o)
                                               : mcl_error_set(MCL_ERR_NOMEM, "out of host memory");
    for (int i = 0; i < n; i++) stats->prompt_tokens += lengths[i];
    if (st == MCL_OK) {
        for (int i = 0; i < n; i++) states[i] = seqs[i].state;
        st = watched_prefill(m, states, (const int32_t *const *)prompts, lengths, n, logits, o, &stats->prefill_ms);
    }
    double t1 = mcl_now_ms();
    for (int live = n; st == MCL_OK && live > 0 && !interrupted;) {
        st = batch_round(m, seqs, n, logits, tok, o, stats, &live);
        if (st == MCL_OK) report_done(seqs, n, done, user, false);
    }
    if (stats->decode_tokens > 0) stats->decode_ms = mcl_now_ms() - t1;
    stats->interrupted = interrupted != 0;
    if (st == MCL_OK) report_done(seqs, n, done, user, true); /* Ctrl-C: the rest as they stand */
    for (int i = 0; seqs && i < n; i++) {
        free(seqs[i].text.data);
        mcl_state_free(seqs[i].state);
        loop_free(&seqs[i].g);
    }
    free(seqs);
    free(logits);
    free(states);
    return st;
}
