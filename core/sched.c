/*
 * sched.c - the runner SDK's scheduler: a ready set with the failure
 * policy built in (include/switchyard/runner.h, "the scheduler").
 *
 * Design note.
 *
 * Two users. An event-loop runner (runner-inline, runner-dask's processes
 * mode, runner-mpi's root) drives the ready set from one thread: next,
 * done or failed, due, finished. A thread pool that finds ready steps
 * itself, lock-free (runner-dask's threads mode), uses the policy calls
 * only (retry, fail, skip, count_done, result) and asks for no tables
 * (SY_SCHED_OWN_READINESS): its success path never enters this file, and a
 * failure takes the one lock here, which is rare by definition.
 *
 * The ready set is one bitmap per step class and one for all classes, so
 * sy_sched_next() hands out the lowest-numbered ready step of the classes
 * asked for: a runner that runs one step at a time keeps program order
 * (what runner-inline always did, so sinks write in the order the flow
 * names them), and one that wants only PURE steps for its workers finds
 * them without walking past the LOCAL ones. Each bitmap has a hint, the
 * lowest word that may hold a bit; it only moves back when a lower step
 * becomes ready, so a run in program order scans every word once.
 *
 * Readiness is a countdown per step of the inputs not done yet, counted
 * along consumer edges (a step that reads one input twice counts it
 * twice, as sy_job_step_inputs lists it twice). The countdowns are made
 * from the job's consumer lists, a compact array, so making a scheduler
 * does not walk the instructions (88 bytes a step). The class bitmaps are
 * only kept once a runner first asks by class (sy_sched_next with a mask,
 * sy_sched_ready): a runner that takes any ready step (runner-inline)
 * then never reads an instruction here, which on layered graphs of 1e5
 * steps cost it more than the rest of the scheduler together (each newly
 * ready step's class was a cache miss). The per-retry tables (attempts,
 * due times) exist only when the policy allows retries, the skipping
 * stack only under keep_going.
 *
 * In order, one at a time. Program order is topological, so while a
 * runner takes any step (no mask), never has two running and nothing has
 * failed, the next step is simply the one after the last: the scheduler
 * starts in that mode and keeps no countdown at all (runner-inline runs
 * that way to the end, at the cost of its old plain loop, where counting
 * down consumers cost it 12 to 29 ns a step, most in mispredicted
 * "became ready?" branches on layered graphs). The first call that needs
 * more (a mask, a second step running, a failure, take, a question about
 * what is ready) builds the countdowns from the steps' states, once, and
 * the scheduler goes on as described above. Every table is allocated up
 * front, so that switch cannot fail.
 *
 * The policy is the one runner-dask and runner-mpi had each carried
 * (providers/common/policy.c, and a copy in threads.c): retries with a
 * doubling backoff capped at 10 s, no retry after a cancel, a SY_ECANCELED
 * failure or a fail-fast stop; the first final failure is the run's;
 * keep_going skips everything downstream of a failure.
 */
#include "internal.h"
#include "job.h"
#include "switchyard/event.h"
#include "switchyard/runner.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BACKOFF_CAP_NS 10000000000LL
#define SLEEP_SLICE_NS 50000000LL /* a cancel is noticed this quickly */
#define N_CLASS 4 /* index by sy_step_class (1..3); 0: every class */

struct sy_sched {
  sy_job *job;
  size_t n;
  sy_sched_policy pol;
  int own; /* SY_SCHED_OWN_READINESS: no tables below */
  /* The ready set (one thread). */
  uint8_t *st;              /* per step: sy_step_state */
  uint32_t *missing;        /* per step: inputs not done */
  uint64_t *ready[N_CLASS]; /* bitmaps of READY steps: all, by class */
  size_t hint[N_CLASS];     /* lowest word that may hold a bit */
  size_t n_ready[N_CLASS];
  size_t words;
  int classed;        /* the class bitmaps (1..3) are kept */
  int in_order;       /* no countdowns yet: steps go out in program order */
  size_t cursor;      /* in_order: the next step to hand out */
  uint32_t *attempts; /* per step: retries used (only with retries) */
  int64_t *due;       /* per step: when a DELAYED retry is due */
  size_t *stack;      /* scratch for skipping downstream */
  size_t n_running, n_delayed, n_done_loop;
  /* The policy (any thread). */
  atomic_int stop;
  atomic_size_t n_done; /* sy_sched_count_done */
  atomic_size_t n_skipped;
  pthread_mutex_t lock; /* the fields below */
  size_t n_failed;
  int first_rc;
  char first_msg[SY_ERROR_MAX];
};

static int64_t mono_ns(void *ud) {
  (void)ud;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t now(const sy_sched *S) {
  return S->pol.clock(S->pol.clock_ud);
}

/* ---- making and freeing ------------------------------------------------ */

static void free_tables(sy_sched *S) {
  free(S->st);
  free(S->missing);
  for (int c = 0; c < N_CLASS; c++)
    free(S->ready[c]);
  free(S->attempts);
  free(S->due);
  free(S->stack);
}

static inline unsigned class_of(const sy_sched *S, size_t s) {
  return (unsigned)sy__op_class(S->job->prog->code[s].op);
}

static inline void bit_set(sy_sched *S, unsigned c, size_t s) {
  size_t w = s / 64;
  S->ready[c][w] |= (uint64_t)1 << (s % 64);
  S->n_ready[c]++;
  if (w < S->hint[c])
    S->hint[c] = w;
}

static inline void bit_clear(sy_sched *S, unsigned c, size_t s) {
  S->ready[c][s / 64] &= ~((uint64_t)1 << (s % 64));
  S->n_ready[c]--;
}

static inline void set_ready(sy_sched *S, size_t s) {
  S->st[s] = SY_STEP_READY;
  bit_set(S, 0, s);
  if (S->classed)
    bit_set(S, class_of(S, s), s);
}

/* Starts keeping the class bitmaps: sorts the READY steps into them. */
static void keep_classes(sy_sched *S) {
  if (S->classed)
    return;
  S->classed = 1;
  for (size_t w = S->hint[0]; S->n_ready[0] > 0 && w < S->words; w++)
    for (uint64_t b = S->ready[0][w]; b; b &= b - 1) {
      size_t s = w * 64 + (size_t)__builtin_ctzll(b);
      bit_set(S, class_of(S, s), s);
    }
}

static int make_tables(sy_sched *S) {
  size_t n = S->n, m = n ? n : 1;
  S->words = (n + 63) / 64;
  S->st = calloc(m, 1);
  S->missing = calloc(m, sizeof *S->missing);
  int ok = S->st && S->missing;
  for (int c = 0; c < N_CLASS; c++)
    ok &= (S->ready[c] = calloc(S->words ? S->words : 1, 8)) != NULL;
  /* A flow node's `retries` may allow retries the policy does not. */
  int any_retries = S->pol.retries > 0;
  const sy_program *prog = S->job->prog;
  for (uint32_t i = 0; i < prog->n_res && !any_retries; i++)
    any_retries = prog->res[i].retries > 0;
  if (any_retries) {
    S->attempts = calloc(m, sizeof *S->attempts);
    S->due = calloc(m, sizeof *S->due);
    ok &= S->attempts && S->due;
  }
  if (S->pol.keep_going)
    ok &= (S->stack = malloc(m * sizeof *S->stack)) != NULL;
  if (!ok)
    return SY_ENOMEM;
  S->in_order = 1; /* the countdowns come when they are needed */
  return 0;
}

/* Leaves the in-order mode: the countdowns count each input edge whose
 * source is not DONE, and the WAITING steps with none left are READY. */
static void leave_order(sy_sched *S) {
  if (!S->in_order)
    return;
  S->in_order = 0;
  const sy_job *job = S->job;
  for (size_t s = 0; s < S->n; s++)
    if (S->st[s] != SY_STEP_DONE)
      for (uint32_t e = job->cons_start[s]; e < job->cons_start[s + 1]; e++)
        S->missing[job->cons[e]]++;
  for (size_t s = 0; s < S->n; s++)
    if (S->st[s] == SY_STEP_WAITING && S->missing[s] == 0)
      set_ready(S, s);
}

int sy_sched_new(sy_job *job, const sy_sched_policy *policy, sy_sched **out,
                 sy_error *err) {
  if (!job || !out)
    return sy_error_set(err, SY_EINVAL, "sy_sched_new: bad arguments");
  *out = NULL;
  sy_sched_policy pol = {sizeof pol, 0, 0, 0, 0, NULL, NULL};
  if (policy) {
    if (policy->size < sizeof pol)
      return sy_error_set(err, SY_EINVAL,
                          "sy_sched_new: policy size %u is smaller than "
                          "this library's (%zu); set .size = "
                          "sizeof(sy_sched_policy)",
                          policy->size, sizeof pol);
    pol = *policy;
  }
  if (!pol.clock)
    pol.clock = mono_ns;
  if (pol.backoff_ns < 0)
    pol.backoff_ns = 0;
  sy_sched *S = calloc(1, sizeof *S);
  if (!S)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  S->job = job;
  S->n = sy_job_size(job);
  S->pol = pol;
  S->own = (pol.flags & SY_SCHED_OWN_READINESS) != 0;
  atomic_init(&S->stop, 0);
  atomic_init(&S->n_done, 0);
  atomic_init(&S->n_skipped, 0);
  if (pthread_mutex_init(&S->lock, NULL) != 0) {
    free(S);
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  }
  if (!S->own && make_tables(S) != 0) {
    sy_sched_free(S);
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  }
  *out = S;
  return 0;
}

void sy_sched_free(sy_sched *S) {
  if (!S)
    return;
  free_tables(S);
  pthread_mutex_destroy(&S->lock);
  free(S);
}

/* ---- the policy (any thread) -------------------------------------------- */

static int64_t backoff_ns(int64_t backoff, unsigned attempt) {
  int64_t ns = backoff;
  for (unsigned i = 1; i < attempt && ns < BACKOFF_CAP_NS; i++)
    ns *= 2;
  return ns > BACKOFF_CAP_NS ? BACKOFF_CAP_NS : ns;
}

/* The job's consumer lists and cancel flag are read in place: next and
 * done run once per step on runner-inline's path. */
static inline size_t consumers(const sy_sched *S, size_t s,
                               const uint32_t **cons) {
  const sy_job *job = S->job;
  *cons = job->cons + job->cons_start[s];
  return job->cons_start[s + 1] - job->cons_start[s];
}

/* Inline for sy_sched_next: an exported function is not inlined in a
 * shared library (it could be interposed). */
static inline int stopping(const sy_sched *S) {
  return atomic_load_explicit(&S->stop, memory_order_relaxed) ||
         atomic_load_explicit(&S->job->cancelled, memory_order_relaxed);
}

int sy_sched_stopping(const sy_sched *S) {
  return stopping(S);
}

/* The retries a step gets: its flow node's `retries` when set, else the
 * policy's (the runner's option). */
static unsigned retries_of(const sy_sched *S, size_t step) {
  const sy__node_res *r = sy__step_res(S->job->prog, (uint32_t)step);
  return r && r->retries >= 0 ? (unsigned)r->retries : S->pol.retries;
}

/* Whether attempt `attempt` (1-based) of step that failed with code is
 * retried. */
static int may_retry(const sy_sched *S, size_t step, unsigned attempt,
                     int code) {
  return attempt <= retries_of(S, step) && code != SY_ECANCELED &&
         !sy_sched_stopping(S);
}

int64_t sy_sched_retry(sy_sched *S, size_t step, unsigned attempt, int code,
                       const char *message) {
  if (!may_retry(S, step, attempt, code))
    return -1;
  sy_job_emit(S->job, SY_EVENT_RETRIED, step, code, message);
  return backoff_ns(S->pol.backoff_ns, attempt);
}

int sy_sched_fail(sy_sched *S, size_t step, int code, const char *message) {
  (void)step;
  pthread_mutex_lock(&S->lock);
  if (S->n_failed++ == 0) {
    S->first_rc = code < 0 ? code : SY_EFAILED;
    snprintf(S->first_msg, sizeof S->first_msg, "%s",
             message && *message ? message : sy_strerror(code));
  }
  pthread_mutex_unlock(&S->lock);
  if (S->pol.keep_going)
    return 1;
  atomic_store(&S->stop, 1);
  return 0;
}

void sy_sched_skip(sy_sched *S, size_t step) {
  atomic_fetch_add_explicit(&S->n_skipped, 1, memory_order_relaxed);
  sy_job_emit(S->job, SY_EVENT_SKIPPED, step, 0, NULL);
}

void sy_sched_count_done(sy_sched *S, size_t n) {
  atomic_fetch_add_explicit(&S->n_done, n, memory_order_relaxed);
}

static size_t done_count(const sy_sched *S) {
  return S->n_done_loop + atomic_load(&((sy_sched *)S)->n_done);
}

size_t sy_sched_summary(const sy_sched *S, char *buf, size_t cap) {
  pthread_mutex_lock(&((sy_sched *)S)->lock);
  size_t failed = S->n_failed;
  pthread_mutex_unlock(&((sy_sched *)S)->lock);
  size_t skipped = atomic_load(&((sy_sched *)S)->n_skipped);
  if (buf && cap)
    snprintf(buf, cap, "%zu step%s failed, %zu skipped", failed,
             failed == 1 ? "" : "s", skipped);
  return failed;
}

int sy_sched_first_failure(const sy_sched *S, const char **message) {
  pthread_mutex_lock(&((sy_sched *)S)->lock);
  int rc = S->n_failed ? S->first_rc : 0;
  pthread_mutex_unlock(&((sy_sched *)S)->lock);
  if (message)
    *message = rc ? S->first_msg : "";
  return rc;
}

int sy_sched_result(const sy_sched *S, sy_error *err) {
  size_t done = done_count(S);
  if (sy_job_cancelled(S->job))
    return sy_error_set(err, SY_ECANCELED, "canceled: %zu of %zu steps done",
                        done, S->n);
  char summary[64];
  size_t failed = sy_sched_summary(S, summary, sizeof summary);
  if (failed > 0) {
    size_t skipped = atomic_load(&((sy_sched *)S)->n_skipped);
    if (S->pol.keep_going && (failed > 1 || skipped > 0))
      return sy_error_set(err, S->first_rc, "%s (%s)", S->first_msg, summary);
    return sy_error_set(err, S->first_rc, "%s", S->first_msg);
  }
  if (done < S->n)
    return sy_error_set(err, SY_ESTATE, "ran %zu of %zu steps", done, S->n);
  return 0;
}

/* ---- the ready set (one thread) ------------------------------------------ */

static void promote_due(sy_sched *S) {
  int64_t t = now(S);
  for (size_t s = 0; S->n_delayed > 0 && s < S->n; s++)
    if (S->st[s] == SY_STEP_DELAYED && S->due[s] <= t) {
      S->n_delayed--;
      set_ready(S, s);
    }
}

/* The lowest READY step of class c, or SIZE_MAX. */
static size_t lowest(sy_sched *S, unsigned c) {
  uint64_t *b = S->ready[c];
  for (size_t w = S->hint[c]; w < S->words; w++)
    if (b[w]) {
      S->hint[c] = w;
      return w * 64 + (size_t)__builtin_ctzll(b[w]);
    }
  S->hint[c] = S->words;
  return SIZE_MAX;
}

#define ALL_CLASSES                                                            \
  (SY_SCHED_CLASS(SY_STEP_PURE) | SY_SCHED_CLASS(SY_STEP_LOCAL) |              \
   SY_SCHED_CLASS(SY_STEP_ROUTE))

int sy_sched_next(sy_sched *S, unsigned mask, size_t *step) {
  if (S->own || stopping(S))
    return 0;
  if (S->in_order) {
    if (S->n_running == 0 &&
        (mask == 0 || (mask & ALL_CLASSES) == ALL_CLASSES)) {
      if (S->cursor >= S->n)
        return 0;
      *step = S->cursor++;
      S->st[*step] = SY_STEP_RUNNING;
      S->n_running = 1;
      return 1;
    }
    leave_order(S);
  }
  if (S->n_delayed > 0)
    promote_due(S);
  size_t best = SIZE_MAX;
  if (mask == 0 || (mask & ALL_CLASSES) == ALL_CLASSES) {
    if (S->n_ready[0] > 0)
      best = lowest(S, 0);
  } else {
    keep_classes(S);
    for (unsigned c = 1; c < N_CLASS; c++)
      if ((mask & SY_SCHED_CLASS(c)) && S->n_ready[c] > 0) {
        size_t s = lowest(S, c);
        if (s < best)
          best = s;
      }
  }
  if (best == SIZE_MAX)
    return 0;
  bit_clear(S, 0, best);
  if (S->classed)
    bit_clear(S, class_of(S, best), best);
  S->st[best] = SY_STEP_RUNNING;
  S->n_running++;
  *step = best;
  return 1;
}

int sy_sched_take(sy_sched *S, size_t step) {
  if (S->own || step >= S->n)
    return SY_ESTATE;
  leave_order(S); /* a second step may run now */
  if (S->st[step] != SY_STEP_WAITING)
    return SY_ESTATE;
  S->st[step] = SY_STEP_RUNNING;
  S->n_running++;
  return 0;
}

/* Marks every WAITING step downstream of s SKIPPED, with a SKIPPED event
 * each. A step is pushed once, when it turns SKIPPED, so n slots do. */
static void skip_downstream(sy_sched *S, size_t s) {
  size_t top = 0;
  if (!S->stack)
    return; /* not keep_going: nothing is skipped */
  S->stack[top++] = s;
  sy_job_set_worker(-1);
  while (top > 0) {
    const uint32_t *cons;
    size_t nc = consumers(S, S->stack[--top], &cons);
    for (size_t i = 0; i < nc; i++) {
      size_t c = cons[i];
      if (S->st[c] != SY_STEP_WAITING)
        continue;
      S->st[c] = SY_STEP_SKIPPED;
      sy_sched_skip(S, c);
      S->stack[top++] = c;
    }
  }
}

void sy_sched_untake(sy_sched *S, size_t step) {
  if (S->own || step >= S->n || S->st[step] != SY_STEP_RUNNING)
    return;
  leave_order(S);
  S->n_running--;
  S->st[step] = SY_STEP_WAITING;
  if (S->missing[step] == 0) {
    set_ready(S, step);
    return;
  }
  if (!S->pol.keep_going)
    return; /* the run stops anyway */
  const uint32_t *in;
  size_t na = sy_job_step_inputs(S->job, step, &in);
  for (size_t i = 0; i < na; i++)
    if (S->st[in[i]] == SY_STEP_FAILED || S->st[in[i]] == SY_STEP_SKIPPED) {
      S->st[step] = SY_STEP_SKIPPED;
      sy_job_set_worker(-1);
      sy_sched_skip(S, step);
      skip_downstream(S, step);
      return;
    }
}

void sy_sched_done(sy_sched *S, size_t step) {
  if (S->own || step >= S->n || S->st[step] != SY_STEP_RUNNING)
    return;
  S->st[step] = SY_STEP_DONE;
  S->n_running--;
  S->n_done_loop++;
  if (S->in_order)
    return; /* the next step is the one after it */
  const uint32_t *cons;
  size_t nc = consumers(S, step, &cons);
  for (size_t i = 0; i < nc; i++) {
    size_t c = cons[i];
    if (--S->missing[c] == 0 && S->st[c] == SY_STEP_WAITING)
      set_ready(S, c);
  }
}

int sy_sched_failed(sy_sched *S, size_t step, int code, const char *message) {
  if (S->own || step >= S->n || S->st[step] != SY_STEP_RUNNING)
    return 0;
  leave_order(S); /* its consumers must now wait for it */
  S->n_running--;
  if (S->attempts && may_retry(S, step, S->attempts[step] + 1, code)) {
    unsigned attempt = ++S->attempts[step];
    sy_job_set_worker(-1);
    sy_job_emit(S->job, SY_EVENT_RETRIED, step, code, message);
    S->st[step] = SY_STEP_DELAYED;
    S->due[step] = now(S) + backoff_ns(S->pol.backoff_ns, attempt);
    S->n_delayed++;
    return 1;
  }
  S->st[step] = SY_STEP_FAILED;
  if (sy_sched_fail(S, step, code, message))
    skip_downstream(S, step);
  return 0;
}

int64_t sy_sched_due(const sy_sched *S) {
  int64_t until = 0;
  for (size_t s = 0; !S->own && S->n_delayed > 0 && s < S->n; s++)
    if (S->st[s] == SY_STEP_DELAYED && (!until || S->due[s] < until))
      until = S->due[s];
  return until;
}

void sy_sched_wait(sy_sched *S) {
  int64_t until = sy_sched_due(S);
  while (until && !sy_job_cancelled(S->job)) {
    int64_t left = until - now(S);
    if (left <= 0)
      break;
    int64_t slice = left < SLEEP_SLICE_NS ? left : SLEEP_SLICE_NS;
    struct timespec ts = {(time_t)(slice / 1000000000),
                          (long)(slice % 1000000000)};
    nanosleep(&ts, NULL);
  }
}

int sy_sched_finished(const sy_sched *S) {
  if (S->own)
    return 1;
  if (S->n_running > 0)
    return 0;
  if (sy_sched_stopping(S))
    return 1;
  if (S->in_order)
    return S->cursor >= S->n;
  return S->n_ready[0] == 0 && S->n_delayed == 0;
}

sy_step_state sy_sched_state(const sy_sched *S, size_t step) {
  if (S->own || step >= S->n)
    return SY_STEP_WAITING;
  leave_order((sy_sched *)S); /* to tell WAITING from READY */
  return (sy_step_state)S->st[step];
}

size_t sy_sched_running(const sy_sched *S) {
  return S->own ? 0 : S->n_running;
}

size_t sy_sched_ready(const sy_sched *S, unsigned mask) {
  if (S->own || sy_sched_stopping(S))
    return 0; /* as sy_sched_next: nothing more is handed out */
  leave_order((sy_sched *)S);
  if (mask == 0 || (mask & ALL_CLASSES) == ALL_CLASSES)
    return S->n_ready[0];
  keep_classes((sy_sched *)S);
  size_t k = 0;
  for (unsigned c = 1; c < N_CLASS; c++)
    if (mask & SY_SCHED_CLASS(c))
      k += S->n_ready[c];
  return k;
}
