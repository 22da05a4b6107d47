/* runner-min.c - a complete third-party runner on the runner SDK: ready
 * steps run one at a time, lowest-numbered first, with the built-in
 * runners' failure policy (keep_going; retries after a doubling backoff). */
#include <stddef.h>
#include <stdlib.h>
#include <switchyard/switchyard.h>

typedef struct min_config {
  bool keep_going;
  int64_t retries;
} min_config;

static const sy_option min_options[] = {
    {"keep_going", SY_OPT_BOOL, 0, "false", NULL, NULL, NULL,
     offsetof(min_config, keep_going), "Run what does not need a failure."},
    {"retries", SY_OPT_INT, 0, "0", "0", "100", NULL,
     offsetof(min_config, retries), "Extra attempts for a failed step."},
    SY_OPTION_END};

static int min_run(void *self, sy_job *job, sy_error *err) {
  const min_config *c = self;
  sy_sched_policy pol = {.size = sizeof pol, .keep_going = c->keep_going};
  pol.retries = (uint32_t)c->retries, pol.backoff_ns = 100000000; /* 0.1s */
  sy_sched *S;
  int rc = sy_sched_new(job, &pol, &S, err);
  while (rc == 0 && !sy_sched_finished(S)) {
    size_t s;
    sy_error e = {0};
    if (!sy_sched_next(S, 0, &s))
      sy_sched_wait(S); /* nothing ready: a retry is due later */
    else if ((e.code = sy_job_run_step(job, s, &e)) == 0)
      sy_sched_done(S, s);
    else
      sy_sched_failed(S, s, e.code, e.message); /* retry, skip or stop */
  }
  rc = rc ? rc : sy_sched_result(S, err); /* "x (1 step failed, 3 skipped)" */
  sy_sched_free(S);
  return rc;
}

static int min_create(const void *config, void **self, sy_error *err) {
  if (!(*self = malloc(sizeof(min_config))))
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  *(min_config *)*self = *(const min_config *)config;
  return 0;
}

static const sy_runner_ops min_ops = {.size = sizeof min_ops, .run = min_run};
static const sy_provider min_provider = {sizeof(sy_provider),
                                         SY_KIND_RUNNER,
                                         "min",
                                         "1.0.0",
                                         "one ready step at a time",
                                         min_options,
                                         sizeof(min_config),
                                         min_create,
                                         free,
                                         &min_ops};
SY_PLUGIN_DEFINE("runner-min", "1.0.0", &min_provider)
