/*
 * runner-inline - runs every step in program order on the calling thread.
 *
 * Program order is topological, so running the lowest-numbered ready step
 * each time (what the SDK's scheduler hands out) is program order itself;
 * this is the lowest-overhead runner and the reference the other runners
 * are compared against. It stops at the first failing step (the
 * scheduler's default policy: fail-fast, no retries).
 */
#include <switchyard/switchyard.h>

static int inline_run(void *self, sy_job *job, sy_error *err) {
  (void)self;
  sy_sched *S;
  int rc = sy_sched_new(job, NULL, &S, err);
  if (rc)
    return rc;
  size_t s;
  sy_error e;
  sy_error_clear(&e);
  while (sy_sched_next(S, 0, &s)) {
    int src = sy_job_run_step(job, s, &e);
    if (src == 0) {
      sy_sched_done(S, s);
    } else {
      sy_sched_failed(S, s, src, e.message);
      sy_error_clear(&e);
    }
  }
  rc = sy_sched_result(S, err);
  sy_sched_free(S);
  return rc;
}

static const sy_runner_ops inline_ops = {
    .size = sizeof(sy_runner_ops),
    .run = inline_run,
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
