/*
 * policy.h - the failure policy of the runners that schedule steps from
 * one event loop: runner-dask's processes mode (providers/runner-dask/
 * procs.c) and runner-mpi's root (providers/runner-mpi/mpi.c).
 *
 * A failed attempt is retried up to `retries` times, each retry waiting a
 * backoff that doubles per attempt (capped at 10 s); a final failure stops
 * the run (fail-fast: nothing new starts) or, with keep_going, marks every
 * step downstream of it SKIPPED. The first final failure is the run's.
 *
 * Private to those plugins: policy.c is compiled into each of them (see
 * Makefile.am) and, like the rest of a plugin, hidden from the outside.
 */
#ifndef SY_PROVIDERS_POLICY_H
#define SY_PROVIDERS_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <switchyard/switchyard.h>

/* A step's life: WAIT (for inputs) -> QUEUED -> RUNNING -> DONE, or
 * FAILED (final), or DELAYED (a retry waits for its backoff) -> QUEUED;
 * SKIPPED when keep_going meets a failure upstream. */
enum {
  ST_WAIT,
  ST_QUEUED,
  ST_RUNNING,
  ST_DELAYED,
  ST_DONE,
  ST_FAILED,
  ST_SKIPPED
};

/* The steps' states and the run's failure bookkeeping. The runner fills
 * the first block before the run and allocates the per-step arrays (n
 * entries each, zeroed); the rest starts zeroed, with first cleared. */
typedef struct policy {
  sy_job *job;
  size_t n;            /* steps */
  int64_t max_retries; /* the runner's `retries` option */
  int64_t backoff;     /* its `backoff` option, ns */
  bool keep_going;     /* its `keep_going` option */
  uint8_t *st;         /* per step: ST_* */
  uint32_t *retries;   /* per step: retries used */
  int64_t *retry_at;   /* per step: when a DELAYED retry is due; 0 = none */
  size_t n_delayed;    /* steps DELAYED */
  size_t n_failed;     /* steps FAILED */
  size_t n_skipped;    /* steps SKIPPED */
  bool stop;           /* fail-fast after a failure: start nothing new */
  int rc;              /* the first final failure, or 0 */
  sy_error first;      /* its message */
} policy;

/* CLOCK_MONOTONIC in ns. */
int64_t policy_now_ns(void);

/* The delay before retry `attempt` (1-based): backoff * 2^(attempt-1), in
 * ns, capped at 10 s. */
int64_t policy_backoff_ns(int64_t backoff, unsigned attempt);

/* Marks every step downstream of s that still waits for its inputs
 * SKIPPED, with a SKIPPED event each (keep_going). */
void policy_skip_downstream(policy *P, size_t s);

/* A failed attempt of step s, whose FAILED event is already out: makes it
 * DELAYED for a retry (a RETRIED event, retry_at set) or FAILED for good,
 * and then skips its downstream (keep_going) or sets stop. */
void policy_step_failed(policy *P, size_t s, int code, const char *message);

#endif /* SY_PROVIDERS_POLICY_H */
