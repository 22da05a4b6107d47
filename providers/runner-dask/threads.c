/*
 * threads.c - the work-stealing thread pool (runner dask, mode threads).
 *
 * Design note.
 *
 * Readiness. Every step with several inputs has an atomic countdown of
 * the inputs it still waits for (from sy_job_step_inputs). When a step
 * settles, the worker that settled it decrements the countdown of each
 * consumer (acq_rel, so the consumer's runner sees the values its inputs
 * stored); the worker that takes a countdown to zero owns that consumer
 * from then on. Each step is therefore scheduled exactly once, and no lock
 * is taken to find out. A step with one input is ready as soon as that
 * input settles: it has no countdown, which saves an atomic operation per
 * step on chains and fans, and its countdown's memory is never touched (a
 * page fault costs as much as a thousand empty steps on some machines).
 *
 * Wide joins. A step with WIDE_MIN inputs or more (the reduce of a wide
 * fan-in) would have every worker decrement the same countdown, a cache
 * line bouncing between cores at every step. Each worker instead counts
 * its decrements of such a step locally (one pending batch per worker)
 * and subtracts them at once when it moves to another wide step or runs
 * out of local work, before it steals or sleeps. A batch is thus never
 * held by an idle worker, so the join still becomes ready; the release
 * half of that one subtraction publishes every value the batch counted.
 *
 * Deques. Each worker owns a Chase-Lev deque (Le, Pop, Cohen, Zappa
 * Nardelli, "Correct and Efficient Work-Stealing for Weak Memory Models",
 * PPoPP 2013) of step numbers: the owner pushes and pops at the bottom
 * without a lock (one fence on pop), thieves take from the top with a CAS.
 * The stores that publish work are release stores rather than the paper's
 * release fences, which costs nothing on x86 and lets ThreadSanitizer,
 * which does not model fences, see the synchronization. A ring that fills
 * is replaced by one twice its size; old rings stay allocated until the
 * run ends, because a thief may still be reading one (this is the usual
 * way to make the growable deque safe without hazard pointers, and the
 * rings sum to less than twice the largest one).
 *
 * Continuation. Of the consumers a step makes ready, the worker runs the
 * first one itself next, without touching its deque, and pushes the rest
 * for itself or thieves. A chain of steps thus runs on one core with warm
 * caches and no deque traffic at all.
 *
 * Starting. With several roots every worker starts at once. With one
 * root (a chain, a fan from one source) only the calling thread runs
 * until it first pushes a step for others: a chain never starts the
 * other threads, so two workers cost what one does on it instead of
 * paying for a thread's creation and an idle thief that keeps reading
 * the busy worker's cache lines (issue 16).
 *
 * Idling. A worker with nothing to run and nothing to steal spins briefly
 * (pause instructions, then sched_yield), then sleeps on a condition
 * variable. A pusher only takes the lock when the sleeper count is
 * non-zero; the count and the deques form a Dekker pair (sleeper: count++,
 * fence, look at the deques; pusher: publish, fence, look at the count),
 * so a wake-up cannot be lost. A wake-up epoch guards against spurious
 * returns from the wait.
 *
 * Termination. Each worker counts the steps it settled (ran, failed or
 * skipped) in its own cache line; an idle worker sums the counts, and when
 * they reach the number of steps it stops the pool. There is thus no
 * shared counter written per step. A stop flag (all done, fail-fast,
 * cancel) makes every worker leave after the step it is running; the
 * calling thread is worker 0 and joins the others, so steps that were
 * running when a failure or a cancel came always finish before the run
 * returns.
 *
 * Failure policy (dask.c has the words for users). The decisions are the
 * runner SDK's (sy_sched, with SY_SCHED_OWN_READINESS: this pool finds
 * ready steps itself, so the scheduler keeps no tables and a step that
 * succeeds never calls it); the mechanics are here:
 *   - fail-fast: the first failure (sy_sched_fail says stop) sets the stop
 *     flag; a step a worker already took but has not started is dropped.
 *   - keep_going: a failed step settles like a finished one, but it marks
 *     its consumers poisoned before counting them down; a poisoned step
 *     that becomes ready is not run but SKIPPED, and poisons its own
 *     consumers, so the skip spreads transitively through the same
 *     scheduling path and each step is still settled exactly once.
 *   - retries: a failed step runs again on the same worker after the
 *     delay sy_sched_retry() gives (it emits RETRIED), until it succeeds
 *     or the policy says no more.
 *   - timeout: a thread cannot be stopped from outside without leaving the
 *     process in an unknown state, so a step always runs to its end. When
 *     it succeeded but ran longer than the timeout it is reported FAILED
 *     with SY_ETIMEOUT after the fact (its outputs are kept until the job
 *     is freed, nothing reads them) and is not retried: its inputs have
 *     already been counted down. Use mode = processes to stop steps early.
 *   - cancel: checked before each step; sets the stop flag; SY_ECANCELED.
 *   - a flow node's `retries` and `timeout` override the options for its
 *     steps (the scheduler's per-step retries; the timeout read here).
 * Failures are rare, so the scheduler keeps the first one under its lock;
 * each worker runs steps with its own sy_error and counts the steps it
 * ran in its own cache line, handed to the scheduler once at the end.
 *
 * Slots (a flow node's `resources.cpus`). When some step asks for more
 * than one cpu, every step holds max(cpus, 1) of the pool's `workers`
 * slots while it runs: a worker that took a step waits, before running
 * it, until that many slots are free, and gives them back after. Waiters
 * queue behind one another (one mutex and condition variable), so a
 * wide step is not starved by narrow ones that keep starting. A step
 * asking more cpus than there are workers holds them all, after a
 * WARNING event at the start of the run. A flow that asks for no cpus
 * takes none of this path (slots is NULL).
 *
 * Memory: the pool allocates once per run (counters, flags, workers and
 * their first rings); nothing is allocated per step unless a ring grows.
 * Values are released by the core when their last consumer has run.
 */
#include "modes.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CACHE_LINE 64
#define NONE UINT32_MAX
#define RING_FIRST 256  /* initial ring capacity (a power of two) */
#define SPIN_ROUNDS 64  /* idle scans with pause before yielding */
#define YIELD_ROUNDS 16 /* idle scans with sched_yield before sleeping */
#define WIDE_MIN 16     /* inputs from which a join's countdown is batched */

/* Per-step flags: MULTI and WIDE are set before the workers start and
 * never change; POISONED is or-ed in by whoever settles a failed input. */
#define F_POISONED 1u
#define F_MULTI 2u /* two inputs or more: has a countdown in deps */
#define F_WIDE 4u  /* WIDE_MIN inputs or more: countdown batched */

/* A steal that lost a race: the deque was not empty, try again. */
#define ABORT (UINT32_MAX - 1)

typedef struct ring {
  int64_t cap;       /* a power of two */
  struct ring *prev; /* the ring this one replaced (freed at the end) */
  _Atomic uint32_t slot[];
} ring;

typedef struct pool pool;

/* One worker. top is written by thieves, bottom by the owner, the rest
 * mostly by the owner: three cache lines, so no two writers share one. */
typedef struct worker {
  _Alignas(CACHE_LINE) _Atomic int64_t top;
  _Alignas(CACHE_LINE) _Atomic int64_t bottom;
  _Atomic(ring *) ring;
  _Atomic size_t settled; /* steps this worker settled (owner writes) */
  _Alignas(CACHE_LINE) size_t settled_own; /* the owner's copy */
  size_t done_own;                         /* of those, run successfully */
  uint64_t rng;                            /* victim choice (xorshift) */
  uint32_t batch_step;  /* a wide join this worker owes decrements, or NONE */
  uint32_t batch_count; /* how many */
  pool *p;
  int id;
  int thread_started;
  pthread_t tid;
  sy_error err; /* this worker's steps' errors */
} worker;

struct pool {
  sy_job *job;
  const dask *d;
  sy_sched *S; /* the failure policy */
  size_t n;
  int nw;
  _Atomic uint32_t *deps;       /* per F_MULTI step: inputs not settled */
  _Atomic unsigned char *flags; /* per step: F_* */
  worker *w;
  _Alignas(CACHE_LINE) _Atomic int stop;
  _Alignas(CACHE_LINE) _Atomic int sleepers;
  _Atomic unsigned epoch;
  int spawned; /* workers 1..nw-1 were started (see spawn_workers) */
  pthread_mutex_t lock;
  pthread_cond_t wake;
  /* Slots (cpus): NULL when no step asks for more than one. */
  uint16_t *slots;  /* per step: slots it holds while running */
  int free_slots;   /* under slot_lock */
  int slot_waiting; /* a worker is gathering slots (under slot_lock) */
  pthread_mutex_t slot_lock;
  pthread_cond_t slot_cond;
};

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield" ::: "memory");
#endif
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- the deque -------------------------------------------------------- */

static ring *ring_new(int64_t cap, ring *prev) {
  ring *r = malloc(sizeof *r + (size_t)cap * sizeof r->slot[0]);
  if (r) {
    r->cap = cap;
    r->prev = prev;
  }
  return r;
}

static inline uint32_t ring_get(ring *r, int64_t i) {
  return atomic_load_explicit(&r->slot[i & (r->cap - 1)], memory_order_relaxed);
}

static inline void ring_put(ring *r, int64_t i, uint32_t v) {
  atomic_store_explicit(&r->slot[i & (r->cap - 1)], v, memory_order_relaxed);
}

/* Owner only. Returns 0, or SY_ENOMEM when the ring was full and could
 * not grow. */
static int dq_push(worker *w, uint32_t v) {
  int64_t b = atomic_load_explicit(&w->bottom, memory_order_relaxed);
  int64_t t = atomic_load_explicit(&w->top, memory_order_acquire);
  ring *r = atomic_load_explicit(&w->ring, memory_order_relaxed);
  if (b - t > r->cap - 1) {
    ring *g = ring_new(r->cap * 2, r);
    if (!g)
      return SY_ENOMEM;
    for (int64_t i = t; i < b; i++)
      ring_put(g, i, ring_get(r, i));
    atomic_store_explicit(&w->ring, g, memory_order_release);
    r = g;
  }
  ring_put(r, b, v);
  atomic_store_explicit(&w->bottom, b + 1, memory_order_release);
  return 0;
}

/* Owner only: the newest step, or NONE. */
static uint32_t dq_take(worker *w) {
  int64_t b = atomic_load_explicit(&w->bottom, memory_order_relaxed) - 1;
  ring *r = atomic_load_explicit(&w->ring, memory_order_relaxed);
  atomic_store_explicit(&w->bottom, b, memory_order_relaxed);
  atomic_thread_fence(memory_order_seq_cst);
  int64_t t = atomic_load_explicit(&w->top, memory_order_relaxed);
  uint32_t v = NONE;
  if (t <= b) {
    v = ring_get(r, b);
    if (t == b) {
      /* The last one: race the thieves for it. */
      if (!atomic_compare_exchange_strong_explicit(
              &w->top, &t, t + 1, memory_order_seq_cst, memory_order_relaxed))
        v = NONE;
      atomic_store_explicit(&w->bottom, b + 1, memory_order_release);
    }
  } else {
    atomic_store_explicit(&w->bottom, b + 1, memory_order_release);
  }
  return v;
}

/* Any thread: the oldest step, NONE when empty, ABORT when it lost a
 * race (the deque may still hold work). */
static uint32_t dq_steal(worker *w) {
  int64_t t = atomic_load_explicit(&w->top, memory_order_acquire);
  atomic_thread_fence(memory_order_seq_cst);
  int64_t b = atomic_load_explicit(&w->bottom, memory_order_acquire);
  if (t >= b)
    return NONE;
  ring *r = atomic_load_explicit(&w->ring, memory_order_acquire);
  uint32_t v = ring_get(r, t);
  if (!atomic_compare_exchange_strong_explicit(
          &w->top, &t, t + 1, memory_order_seq_cst, memory_order_relaxed))
    return ABORT;
  return v;
}

static int dq_nonempty(worker *w) {
  int64_t t = atomic_load_explicit(&w->top, memory_order_acquire);
  int64_t b = atomic_load_explicit(&w->bottom, memory_order_acquire);
  return b > t;
}

/* ---- waking and stopping ---------------------------------------------- */

static void *worker_main(void *arg);

/* Starts workers 1..nw-1. Called once, by worker 0, either before the run
 * (several roots) or when it first has a step to share; until then it is
 * the only thread, so `spawned` needs no atomic access (pthread_create
 * orders the store before anything the new threads do). A thread that
 * cannot start leaves its work to be stolen by the others. */
static void spawn_workers(pool *p) {
  p->spawned = 1;
  for (int i = 1; i < p->nw; i++)
    p->w[i].thread_started =
        pthread_create(&p->w[i].tid, NULL, worker_main, &p->w[i]) == 0;
}

/* After publishing `pushed` steps: start the other workers if this is the
 * first step to share, else wake sleepers, if there are any. */
static void notify(pool *p, int pushed) {
  if (!p->spawned) {
    spawn_workers(p);
    return;
  }
  atomic_thread_fence(memory_order_seq_cst);
  if (atomic_load_explicit(&p->sleepers, memory_order_relaxed) == 0)
    return;
  pthread_mutex_lock(&p->lock);
  atomic_fetch_add_explicit(&p->epoch, 1, memory_order_relaxed);
  if (pushed == 1)
    pthread_cond_signal(&p->wake);
  else
    pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->lock);
}

static void stop_pool(pool *p) {
  atomic_store(&p->stop, 1);
  pthread_mutex_lock(&p->lock);
  atomic_fetch_add_explicit(&p->epoch, 1, memory_order_relaxed);
  pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->lock);
}

static int all_settled(pool *p) {
  size_t sum = 0;
  for (int i = 0; i < p->nw; i++)
    sum += atomic_load_explicit(&p->w[i].settled, memory_order_relaxed);
  return sum >= p->n;
}

static int work_anywhere(pool *p) {
  for (int i = 0; i < p->nw; i++)
    if (dq_nonempty(&p->w[i]))
      return 1;
  return 0;
}

/* Blocks until someone publishes work or stops the pool. */
static void sleep_until_work(pool *p) {
  unsigned e = atomic_load(&p->epoch);
  atomic_fetch_add(&p->sleepers, 1);
  atomic_thread_fence(memory_order_seq_cst);
  if (!work_anywhere(p) && !atomic_load(&p->stop) && !all_settled(p)) {
    pthread_mutex_lock(&p->lock);
    while (atomic_load_explicit(&p->epoch, memory_order_relaxed) == e &&
           !atomic_load(&p->stop))
      pthread_cond_wait(&p->wake, &p->lock);
    pthread_mutex_unlock(&p->lock);
  }
  atomic_fetch_sub(&p->sleepers, 1);
}

/* Tries every other worker once, from a random one on. */
static uint32_t steal_any(pool *p, worker *w) {
  if (p->nw < 2)
    return NONE;
  w->rng ^= w->rng << 13;
  w->rng ^= w->rng >> 7;
  w->rng ^= w->rng << 17;
  int start = (int)(w->rng % (uint64_t)p->nw);
  for (int round = 0; round < 4; round++) {
    int aborted = 0;
    for (int k = 0; k < p->nw; k++) {
      int v = (start + k) % p->nw;
      if (v == w->id)
        continue;
      uint32_t s = dq_steal(&p->w[v]);
      if (s == ABORT)
        aborted = 1;
      else if (s != NONE)
        return s;
    }
    if (!aborted)
      break;
  }
  return NONE;
}

/* ---- running steps ---------------------------------------------------- */

static void settle(worker *w) {
  atomic_store_explicit(&w->settled, ++w->settled_own, memory_order_relaxed);
}

/* Step s failed for good: the policy decides whether the run goes on. */
static void record_failure(pool *p, worker *w, size_t s, int rc) {
  if (!sy_sched_fail(p->S, s, rc, w->err.message))
    stop_pool(p);
}

/* Subtracts the worker's pending batch from its wide join; returns the
 * join when that made it ready, else NONE. */
static uint32_t flush_batch(pool *p, worker *w) {
  uint32_t c = w->batch_step, k = w->batch_count;
  if (c == NONE)
    return NONE;
  w->batch_step = NONE;
  w->batch_count = 0;
  return atomic_fetch_sub_explicit(&p->deps[c], k, memory_order_acq_rel) == k
             ? c
             : NONE;
}

/* Counts down the consumers of s; returns one that became ready (the
 * continuation) and pushes the others. */
static uint32_t release_consumers(pool *p, worker *w, size_t s, int poison) {
  const uint32_t *cons;
  size_t nc = sy_job_step_consumers(p->job, s, &cons);
  uint32_t next = NONE;
  int pushed = 0;
  for (size_t i = 0; i < nc; i++) {
    uint32_t c = cons[i];
    unsigned f;
    if (poison)
      f = atomic_fetch_or_explicit(&p->flags[c], F_POISONED,
                                   memory_order_relaxed);
    else
      f = atomic_load_explicit(&p->flags[c], memory_order_relaxed);
    if (f & F_WIDE) {
      if (w->batch_step == c) {
        w->batch_count++;
        continue;
      }
      uint32_t ready = flush_batch(p, w);
      w->batch_step = c;
      w->batch_count = 1;
      if (ready == NONE)
        continue;
      c = ready;
    } else if ((f & F_MULTI) &&
               atomic_fetch_sub_explicit(&p->deps[c], 1,
                                         memory_order_acq_rel) != 1) {
      continue;
    }
    if (next == NONE) {
      next = c;
    } else if (dq_push(w, c) == 0) {
      pushed++;
    } else {
      /* The step can be neither queued nor run: fail the run. */
      sy_error_set(&w->err, SY_ENOMEM,
                   "runner dask: out of memory queueing step %u", c);
      record_failure(p, w, c, SY_ENOMEM);
      stop_pool(p);
      break;
    }
  }
  if (pushed)
    notify(p, pushed);
  return next;
}

/* Takes step s's slots (waiting behind any worker already waiting). */
static void slots_take(pool *p, size_t s) {
  int k = p->slots[s];
  pthread_mutex_lock(&p->slot_lock);
  while (p->slot_waiting)
    pthread_cond_wait(&p->slot_cond, &p->slot_lock);
  p->slot_waiting = 1;
  while (p->free_slots < k)
    pthread_cond_wait(&p->slot_cond, &p->slot_lock);
  p->free_slots -= k;
  p->slot_waiting = 0;
  pthread_cond_broadcast(&p->slot_cond);
  pthread_mutex_unlock(&p->slot_lock);
}

static void slots_give(pool *p, size_t s) {
  pthread_mutex_lock(&p->slot_lock);
  p->free_slots += p->slots[s];
  pthread_cond_broadcast(&p->slot_cond);
  pthread_mutex_unlock(&p->slot_lock);
}

/* Runs step s with its retries; returns 0 or the failure's code with
 * w->err set. */
static int run_with_retries(pool *p, worker *w, size_t s) {
  const dask *d = p->d;
  int64_t timeout = d->cfg.timeout;
  sy_step_resources res = {.size = sizeof res};
  if (sy_job_step_resources(p->job, s, &res) == 0 && res.timeout)
    timeout = (int64_t)res.timeout * 1000000000;
  for (unsigned attempt = 1;; attempt++) {
    sy_error_clear(&w->err);
    int64_t t0 = timeout > 0 ? now_ns() : 0;
    if (p->slots)
      slots_take(p, s);
    int rc = sy_job_run_step(p->job, s, &w->err);
    if (p->slots)
      slots_give(p, s);
    if (rc == 0) {
      int64_t took = timeout > 0 ? now_ns() - t0 : 0;
      if (took <= timeout)
        return 0;
      /* Succeeded, too slowly; its inputs are counted down already, so
       * it must not run again. */
      rc = sy_error_set(&w->err, SY_ETIMEOUT,
                        "step %zu (%s) ran %.3gs, longer than the timeout "
                        "%.3gs (threads cannot be stopped early; use mode "
                        "= processes)",
                        s, sy_job_step_label(p->job, s), (double)took / 1e9,
                        (double)timeout / 1e9);
      sy_job_emit(p->job, SY_EVENT_FAILED, s, rc, w->err.message);
      return rc;
    }
    int64_t delay = sy_sched_retry(p->S, s, attempt, rc, w->err.message);
    if (delay < 0)
      return rc;
    dask_sleep(p->job, delay);
    if (sy_job_cancelled(p->job))
      return rc;
  }
}

/* Settles step s; returns the continuation or NONE. */
static uint32_t run_one(pool *p, worker *w, uint32_t s) {
  if (atomic_load_explicit(&p->flags[s], memory_order_relaxed) & F_POISONED) {
    sy_sched_skip(p->S, s);
    settle(w);
    return release_consumers(p, w, s, 1);
  }
  int rc = run_with_retries(p, w, s);
  settle(w);
  if (rc == 0) {
    w->done_own++;
    return release_consumers(p, w, s, 0);
  }
  record_failure(p, w, s, rc);
  if (p->d->cfg.keep_going && !atomic_load(&p->stop))
    return release_consumers(p, w, s, 1);
  return NONE;
}

static void work(worker *w) {
  pool *p = w->p;
  uint32_t next = NONE;
  unsigned idle = 0;
  for (;;) {
    if (next == NONE)
      next = dq_take(w);
    if (next == NONE)
      next = flush_batch(p, w); /* before stealing, idling or stopping */
    if (next == NONE)
      next = steal_any(p, w);
    if (next == NONE) {
      if (atomic_load_explicit(&p->stop, memory_order_acquire))
        break;
      if (all_settled(p)) {
        stop_pool(p);
        break;
      }
      if (idle < SPIN_ROUNDS) {
        for (int i = 0; i < 32; i++)
          cpu_relax();
      } else if (idle < SPIN_ROUNDS + YIELD_ROUNDS) {
        sched_yield();
      } else {
        sleep_until_work(p);
        idle = 0;
        continue;
      }
      idle++;
      continue;
    }
    idle = 0;
    if (atomic_load_explicit(&p->stop, memory_order_acquire))
      break;
    if (sy_job_cancelled(p->job)) {
      stop_pool(p);
      break;
    }
    next = run_one(p, w, next);
  }
}

static void *worker_main(void *arg) {
  worker *w = arg;
  sy_job_set_worker(w->id);
  work(w);
  return NULL;
}

/* ---- the run ---------------------------------------------------------- */

int dask_threads_run(dask *d, sy_job *job, sy_error *err) {
  size_t n = sy_job_size(job);
  if (n == 0)
    return sy_job_cancelled(job) ? sy_error_set(err, SY_ECANCELED, "canceled")
                                 : 0;
  if (n >= NONE - 1)
    return sy_error_set(err, SY_ERANGE, "runner dask: %zu steps are too many",
                        n);
  int nw = d->workers > 0 ? d->workers : 1;
  if ((size_t)nw > n)
    nw = (int)n;
  int rc = SY_ENOMEM;
  sy_sched_policy pol = {.size = sizeof pol,
                         .flags = SY_SCHED_OWN_READINESS,
                         .keep_going = d->cfg.keep_going,
                         .retries = (uint32_t)d->cfg.retries,
                         .backoff_ns = d->cfg.backoff};
  sy_sched *S;
  if ((rc = sy_sched_new(job, &pol, &S, err)) != 0)
    return rc;
  pool *p = aligned_alloc(CACHE_LINE, (sizeof *p + CACHE_LINE - 1) /
                                          CACHE_LINE * CACHE_LINE);
  if (!p) {
    sy_sched_free(S);
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  }
  memset(p, 0, sizeof *p);
  p->S = S;
  p->job = job;
  p->d = d;
  p->n = n;
  p->nw = nw;
  p->deps = malloc(n * sizeof *p->deps);
  p->flags = malloc(n * sizeof *p->flags);
  p->w = aligned_alloc(CACHE_LINE, (size_t)nw * sizeof *p->w);
  int locks = 0;
  if (!p->deps || !p->flags || !p->w)
    goto oom;
  memset(p->w, 0, (size_t)nw * sizeof *p->w);
  if (pthread_mutex_init(&p->lock, NULL) != 0)
    goto oom;
  locks++;
  if (pthread_cond_init(&p->wake, NULL) != 0)
    goto oom;
  locks++;
  atomic_init(&p->stop, 0);
  atomic_init(&p->sleepers, 0);
  atomic_init(&p->epoch, 0);
  for (int i = 0; i < nw; i++) {
    worker *w = &p->w[i];
    ring *r = ring_new(RING_FIRST, NULL);
    if (!r)
      goto oom;
    atomic_init(&w->ring, r);
    atomic_init(&w->top, 0);
    atomic_init(&w->bottom, 0);
    atomic_init(&w->settled, 0);
    w->p = p;
    w->id = i;
    w->rng = 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1);
    w->batch_step = NONE;
  }
  /* Slots, when some step asks for more than one cpu. */
  for (size_t s = 0; s < n && !p->slots; s++) {
    sy_step_resources res = {.size = sizeof res};
    if (sy_job_step_resources(job, s, &res) == 0 && res.cpus > 1)
      p->slots = malloc(n * sizeof *p->slots);
    if (res.cpus > 1 && !p->slots)
      goto oom;
  }
  if (p->slots) {
    if (pthread_mutex_init(&p->slot_lock, NULL) != 0)
      goto oom;
    locks++;
    if (pthread_cond_init(&p->slot_cond, NULL) != 0)
      goto oom;
    locks++;
    p->free_slots = d->workers > 0 ? d->workers : 1;
    for (size_t s = 0; s < n; s++) {
      sy_step_resources res = {.size = sizeof res};
      sy_job_step_resources(job, s, &res);
      uint32_t k = res.cpus ? res.cpus : 1;
      if (k > (uint32_t)p->free_slots) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "asks for cpus = %u; runner dask has %d workers: it holds "
                 "all %d while it runs",
                 res.cpus, p->free_slots, p->free_slots);
        sy_job_emit(job, SY_EVENT_WARNING, s, 0, msg);
        k = (uint32_t)p->free_slots;
      }
      p->slots[s] = (uint16_t)k;
    }
  }
  /* Counters first (only steps with several inputs have one), then the
   * roots, dealt round-robin. */
  int deal = 0, roots = 0;
  for (size_t s = 0; s < n; s++) {
    const uint32_t *in;
    size_t n_in = sy_job_step_inputs(job, s, &in);
    unsigned char f = n_in >= WIDE_MIN ? F_MULTI | F_WIDE
                      : n_in >= 2      ? F_MULTI
                                       : 0;
    atomic_init(&p->flags[s], f);
    if (f)
      atomic_init(&p->deps[s], (uint32_t)n_in);
  }
  for (size_t s = 0; s < n; s++) {
    const uint32_t *in;
    if (sy_job_step_inputs(job, s, &in) != 0)
      continue;
    if (dq_push(&p->w[deal], (uint32_t)s) != 0)
      goto oom;
    deal = (deal + 1) % nw;
    roots++;
  }
  /* Workers 1..nw-1 are threads. With one root they start only when
   * worker 0 first has a step to share (notify): a chain never starts
   * them, so a core the graph cannot use costs nothing (no thread
   * creation, no idle thief reading worker 0's cache lines). */
  if (roots > 1 || nw == 1)
    spawn_workers(p);
  sy_job_set_worker(0);
  work(&p->w[0]);
  sy_job_set_worker(-1);
  for (int i = 1; i < nw; i++)
    if (p->w[i].thread_started)
      pthread_join(p->w[i].tid, NULL);

  for (int i = 0; i < nw; i++)
    sy_sched_count_done(S, p->w[i].done_own);
  rc = sy_sched_result(S, err);
  goto done;
oom:
  rc = sy_error_set(err, SY_ENOMEM, "out of memory");
done:
  for (int i = 0; p->w && i < nw; i++) {
    ring *r = atomic_load_explicit(&p->w[i].ring, memory_order_relaxed);
    while (r) {
      ring *prev = r->prev;
      free(r);
      r = prev;
    }
  }
  if (locks > 3)
    pthread_cond_destroy(&p->slot_cond);
  if (locks > 2)
    pthread_mutex_destroy(&p->slot_lock);
  if (locks > 1)
    pthread_cond_destroy(&p->wake);
  if (locks > 0)
    pthread_mutex_destroy(&p->lock);
  free(p->slots);
  free(p->w);
  free((void *)p->flags);
  free((void *)p->deps);
  free(p);
  sy_sched_free(S);
  return rc;
}
