/*
 * runner-inline - runs every step in program order on the calling thread.
 *
 * Program order is topological, so a plain loop is a valid schedule; this
 * is the lowest-overhead runner and the reference the other runners are
 * compared against. It stops at the first failing step.
 */
#include <switchyard/switchyard.h>
#include <switchyard/runner.h>
#include <switchyard/event.h>

static int inline_run(void *self, sy_job *job, sy_error *err) {
  (void)self;
  size_t n = sy_job_size(job);
  for (size_t s = 0; s < n; s++) {
    if (sy_job_cancelled(job))
      return sy_error_set(err, SY_ECANCELED, "canceled before step %zu", s);
    int rc = sy_job_run_step(job, s, err);
    if (rc != 0)
      return rc;
  }
  return 0;
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
