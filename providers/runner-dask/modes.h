/*
 * modes.h - the parallel runner's shared parts (private to the plugin).
 *
 * dask.c holds the options and the dispatch; threads.c the work-stealing
 * thread pool; procs.c the pool of forked worker processes. Both modes
 * follow the same failure policy (see dask.c).
 */
#ifndef SY_RUNNER_DASK_MODES_H
#define SY_RUNNER_DASK_MODES_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <switchyard/switchyard.h>

enum { DASK_THREADS = 0, DASK_PROCESSES = 1 };

typedef struct dask_config {
  int64_t workers; /* 0 = one per core */
  int mode;        /* DASK_THREADS or DASK_PROCESSES */
  bool keep_going; /* run everything not downstream of a failure */
  int64_t retries; /* extra attempts for a failed step */
  int64_t timeout; /* per step, ns; 0 = none */
  int64_t backoff; /* first retry delay, ns; doubles per attempt */
} dask_config;

typedef struct dask {
  dask_config cfg;
  int workers; /* resolved: cfg.workers or the number of cores */
} dask;

/* Each returns 0 when every step succeeded, else the first failure's code
 * with err naming the step (and, with keep_going, how many failed). */
int dask_threads_run(dask *d, sy_job *job, sy_error *err);
int dask_procs_run(dask *d, sy_job *job, sy_error *err);

/* Sleeps ns (a retry's backoff, as sy_sched_retry gives it), in slices so
 * that a cancel is noticed quickly; returns early when the job is
 * cancelled. Inline here, not in dask.c: the modes call it and dask.c
 * calls the modes, and that was a cycle of calls between the files. */
static inline void dask_sleep(sy_job *job, int64_t ns) {
  while (ns > 0 && !sy_job_cancelled(job)) {
    int64_t slice = ns < 50000000 ? ns : 50000000;
    struct timespec ts = {(time_t)(slice / 1000000000),
                          (long)(slice % 1000000000)};
    nanosleep(&ts, NULL);
    ns -= slice;
  }
}

#endif /* SY_RUNNER_DASK_MODES_H */
