/*
 * runner-dask - the parallel runner: a work-stealing thread pool (mode
 * threads) or a pool of forked worker processes (mode processes).
 *
 * Failure policy, the same in both modes (the runner SDK's scheduler,
 * sy_sched in switchyard/runner.h, decides; each mode carries it out):
 *   - fail-fast (default): after a step fails, steps already running
 *     finish, nothing new starts, and the run returns the failing step's
 *     error;
 *   - keep_going: every step that does not depend on a failed one runs;
 *     the steps downstream of a failure are SKIPPED; the run returns the
 *     first failure and says how many steps failed;
 *   - retries = N: a failed step runs again up to N times, after a
 *     backoff that doubles (RETRIED event each time);
 *   - timeout: a step running longer fails with SY_ETIMEOUT (processes:
 *     its worker is killed and replaced; threads: a thread cannot be
 *     stopped, so the step runs to its end and, if it ran longer than
 *     the timeout, is then reported FAILED with SY_ETIMEOUT and is not
 *     retried; see threads.c);
 *   - sy_job_cancel() (Ctrl-C in the CLI): nothing new starts, running
 *     steps finish (processes: are killed), SY_ECANCELED.
 */
#include "modes.h"

#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

static const char *const modes[] = {"threads", "processes", NULL};

static const sy_option dask_options[] = {
    {"workers", SY_OPT_INT, 0, "0", "0", "1024", NULL,
     offsetof(dask_config, workers),
     "Worker threads or processes; 0 = one per core."},
    {"mode", SY_OPT_ENUM, 0, "threads", NULL, NULL, modes,
     offsetof(dask_config, mode),
     "threads: a work-stealing pool in this process; processes: forked "
     "workers, so a crashing step fails alone."},
    {"keep_going", SY_OPT_BOOL, 0, "false", NULL, NULL, NULL,
     offsetof(dask_config, keep_going),
     "After a failure, still run every step that does not depend on it."},
    {"retries", SY_OPT_INT, 0, "0", "0", "100", NULL,
     offsetof(dask_config, retries),
     "How many times a failed step is run again before it counts as "
     "failed."},
    {"timeout", SY_OPT_DURATION, 0, "0", "0", NULL, NULL,
     offsetof(dask_config, timeout),
     "Longest a step may run (e.g. 30s); 0 = no limit."},
    {"backoff", SY_OPT_DURATION, 0, "100ms", "0", "1h", NULL,
     offsetof(dask_config, backoff),
     "Delay before the first retry; doubled for each further one."},
    SY_OPTION_END};

static int dask_create(const void *config, void **self, sy_error *err) {
  dask *d = calloc(1, sizeof *d);
  if (!d)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  d->cfg = *(const dask_config *)config;
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  d->workers =
      d->cfg.workers > 0 ? (int)d->cfg.workers : (int)(cores > 0 ? cores : 1);
  *self = d;
  return 0;
}

static void dask_destroy(void *self) {
  free(self);
}

static int dask_run(void *self, sy_job *job, sy_error *err) {
  dask *d = self;
  return d->cfg.mode == DASK_PROCESSES ? dask_procs_run(d, job, err)
                                       : dask_threads_run(d, job, err);
}

static const sy_runner_ops dask_ops = {
    .size = sizeof(sy_runner_ops),
    .run = dask_run,
    .resources =
        "cpus: threads: a step holds that many of the `workers` slots while "
        "it runs (more than `workers`: all of them, with a warning); "
        "processes: not enforced\n"
        "memory: threads: not enforced; processes: the worker's address "
        "space may grow by that much while the step runs (RLIMIT_AS; "
        "commands it starts inherit the limit); a step over it fails, "
        "naming the limit\n"
        "gpus: ignored\n"
        "retries: overrides the `retries` option for the node's steps\n"
        "timeout: overrides the `timeout` option for the node's steps; "
        "threads: reported FAILED after the step, which cannot be "
        "stopped; processes: the worker is killed at the limit and "
        "replaced\n",
};

const sy_provider dask_provider = {
    .size = sizeof(sy_provider),
    .kind = SY_KIND_RUNNER,
    .name = "dask",
    .version = "1.0.0",
    .description = "runs independent steps in parallel: a work-stealing "
                   "thread pool, or forked worker processes",
    .options = dask_options,
    .config_size = sizeof(dask_config),
    .create = dask_create,
    .destroy = dask_destroy,
    .ops = &dask_ops,
};

SY_PLUGIN_DEFINE("runner-dask", "1.0.0", &dask_provider)
