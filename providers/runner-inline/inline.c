/*
 * runner-inline - runs every step in program order on the calling thread.
 *
 * Program order is topological, so running the lowest-numbered ready step
 * each time (what the SDK's scheduler hands out) is program order itself;
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
 */
#include <switchyard/switchyard.h>

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

static int inline_run(void *self, sy_job *job, sy_error *err) {
  (void)self;
  sy_sched *S;
  int rc = sy_sched_new(job, NULL, &S, err);
  if (rc)
    return rc;
  size_t s;
  sy_error e;
  sy_error_clear(&e);
  for (;;) {
    while (sy_sched_next(S, 0, &s)) {
      int src = run_step(job, s, &e);
      if (src == 0) {
        sy_sched_done(S, s);
      } else {
        sy_sched_failed(S, s, src, e.message);
        sy_error_clear(&e);
      }
    }
    if (sy_sched_finished(S))
      break;
    sy_sched_wait(S); /* a retry's backoff */
  }
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

static const sy_provider inline_runner = {
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

SY_PLUGIN_DEFINE("runner-inline", "1.0.0", &inline_runner)
