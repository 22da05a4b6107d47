/*
 * runner-inline - runs every step in program order on the calling thread.
 *
 * Program order is topological, so running the steps in program order
 * is what running the lowest-numbered ready step each time would do;
 * this is the lowest-overhead runner and the reference the other runners
 * are compared against. It stops at the first failing step (the
 * scheduler's default policy: fail-fast, no retries), except that a flow
 * node's `retries` runs its step again (the scheduler's per-step retries,
 * after its doubling backoff from 0: at once).
 *
 * A node's `timeout` cannot interrupt a step on the calling thread: a
 * step that ran longer is reported after it, as a WARNING event naming
 * the limit, and its result is kept. cpus, memory and gpus mean nothing
 * to one thread and are ignored.
 *
 * It ships in the plugin `base` (providers/base/entry.c).
 */
#include "runner_inline.h"

#include <stdio.h>
#include <time.h>

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Runs step s; warns when it ran past its flow timeout. */
static int run_step(sy_job *job, size_t s, sy_error *e) {
  sy_step_resources r = {.size = sizeof r};
  if (sy_job_step_resources(job, s, &r) != 0 || r.timeout == 0)
    return sy_job_run_step(job, s, e);
  int64_t t0 = now_ns();
  int rc = sy_job_run_step(job, s, e);
  int64_t took = now_ns() - t0;
  if (rc == 0 && took > (int64_t)r.timeout * 1000000000) {
    char msg[200];
    snprintf(msg, sizeof msg,
             "ran %.3gs, past its timeout of %llus (runner inline cannot "
             "interrupt a step: its result is kept)",
             (double)took / 1e9, (unsigned long long)r.timeout);
    sy_job_emit(job, SY_EVENT_WARNING, s, 0, msg);
  }
  return rc;
}

/* Program order is topological and one step runs at a time, so the
 * runner needs no ready set: it walks the steps in order and asks the
 * scheduler for its policy only (SY_SCHED_OWN_READINESS, as runner-dask's
 * thread pool does): whether a failed step is retried, the failure that
 * stops the run, how many steps were done, the run's result. A retry runs
 * at once (the backoff from 0 stays 0), before any later step, as the
 * lowest-numbered ready step would; the events and the result are the
 * scheduler's. Two calls a step fewer than sy_sched_next and
 * sy_sched_done, and no tables (88 bytes a step) to build. */
static int inline_run(void *self, sy_job *job, sy_error *err) {
  (void)self;
  sy_sched *S;
  const sy_sched_policy own = {.size = sizeof own,
                               .flags = SY_SCHED_OWN_READINESS};
  int rc = sy_sched_new(job, &own, &S, err);
  if (rc)
    return rc;
  size_t n = sy_job_size(job), done = 0;
  sy_error e;
  sy_error_clear(&e);
  for (size_t s = 0; s < n && !sy_sched_stopping(S); s++) {
    int src;
    for (unsigned attempt = 1; (src = run_step(job, s, &e)) != 0; attempt++) {
      sy_job_set_worker(-1); /* as sy_sched_failed: the event's worker */
      int64_t backoff = sy_sched_retry(S, s, attempt, src, e.message);
      if (backoff < 0) {
        sy_sched_fail(S, s, src, e.message);
        break;
      }
      sy_error_clear(&e);
    }
    sy_error_clear(&e);
    if (src != 0)
      break; /* fail-fast: nothing after it runs */
    done++;
  }
  sy_sched_count_done(S, done);
  rc = sy_sched_result(S, err);
  sy_sched_free(S);
  return rc;
}

static const sy_runner_ops inline_ops = {
    .size = sizeof(sy_runner_ops),
    .run = inline_run,
    .resources =
        "cpus: ignored (one step at a time on the calling thread)\n"
        "memory: ignored\n"
        "gpus: ignored\n"
        "retries: the step runs again at once, up to that many times\n"
        "timeout: cannot interrupt a step; a step that ran longer is "
        "reported after it (a warning naming the limit), its result kept\n",
};

const sy_provider runner_inline_provider = {
    .size = sizeof(sy_provider),
    .kind = SY_KIND_RUNNER,
    .name = "inline",
    .version = "1.0.0",
    .description = "runs every step in order on the calling thread, with "
                   "minimal overhead",
    .options = NULL,
    .config_size = 0,
    .create = NULL,
    .destroy = NULL,
    .ops = &inline_ops,
};
