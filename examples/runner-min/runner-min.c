/*
 * runner-min.c - a complete third-party runner on the runner SDK: ready
 * steps run one at a time, lowest-numbered first, with the built-in
 * runners' failure policy (keep_going, retries, backoff). Build:
 * cc -shared -fPIC -o runner-min.so runner-min.c $(pkg-config --cflags --libs switchyard)
 */
#include <stddef.h>
#include <switchyard/switchyard.h>

typedef struct min_config {
  bool keep_going;
  int64_t retries, backoff;
} min_config;

static const sy_option min_options[] = {
    {"keep_going", SY_OPT_BOOL, 0, "false", NULL, NULL, NULL,
     offsetof(min_config, keep_going), "Run what does not need a failure."},
    {"retries", SY_OPT_INT, 0, "0", "0", "100", NULL,
     offsetof(min_config, retries), "Extra attempts for a failed step."},
    {"backoff", SY_OPT_DURATION, 0, "100ms", "0", "1h", NULL,
     offsetof(min_config, backoff), "Delay before a retry; doubles."},
    SY_OPTION_END};

static int min_run(void *self, sy_job *job, sy_error *err) {
  const min_config *c = self;
  sy_sched_policy pol = {.size = sizeof pol, .keep_going = c->keep_going,
                         .retries = (uint32_t)c->retries,
                         .backoff_ns = c->backoff};
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
  if (rc == 0)
    rc = sy_sched_result(S, err); /* "... (1 step failed, 3 skipped)" */
  sy_sched_free(S);
  return rc;
}

static int min_create(const void *config, void **self, sy_error *err) {
  (void)err;
  *self = (void *)config; /* the core keeps it until destroy */
  return 0;
}
static void min_destroy(void *self) { (void)self; }

static const sy_runner_ops min_ops = {sizeof min_ops, min_run};
static const sy_provider min_provider = {
    sizeof(sy_provider), SY_KIND_RUNNER, "min", "1.0.0",
    "runs ready steps one at a time, with retries and keep_going",
    min_options, sizeof(min_config), min_create, min_destroy, &min_ops};
SY_PLUGIN_DEFINE("runner-min", "1.0.0", &min_provider)
