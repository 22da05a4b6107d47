/*
 * fx_runner.c - a fixture RUNNER plugin whose runners get their job wrong
 * on purpose, for the core's check of a runner's work
 * (tests/e2e/runner-check.sh):
 *
 *   badrun.skip   runs every step but the last, returns 0
 *   badrun.none   runs no step, returns 0
 *   badrun.twice  runs every step, then step 0 again with
 *                 sy_job_run_step(), and returns what that says
 *   badrun.echo   runs every step, then reports step 0 done once more
 *                 (as a runner that ran it elsewhere twice would), returns 0
 *   badrun.mute   runs no step and returns SY_EIO with no message
 *   badrun.plus   runs every step and returns 1 (not an SY_E* code)
 *
 * and one that is right, for train's summary:
 *
 *   remote.commit runs every step, but COMMIT steps in a forked child
 *                 with sy_step_execute() (as a cluster runner runs steps
 *                 elsewhere), emitting their STARTED and DONE itself: the
 *                 commit happens, yet this process holds no states
 *
 * Each runs steps in program order on the calling thread, as
 * runner-inline does, and keeps no state.
 */
#include <stddef.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <switchyard/switchyard.h>
#include <switchyard/event.h>
#include <switchyard/runner.h>

/* Runs steps [0, n) in order; stops at the first failure. */
static int run_upto(sy_job *job, size_t n, sy_error *err) {
  for (size_t s = 0; s < n; s++) {
    int rc = sy_job_run_step(job, s, err);
    if (rc != 0)
      return rc;
  }
  return 0;
}

static int skip_run(void *self, sy_job *job, sy_error *err) {
  (void)self;
  size_t n = sy_job_size(job);
  return run_upto(job, n ? n - 1 : 0, err);
}

static int none_run(void *self, sy_job *job, sy_error *err) {
  (void)self;
  (void)job;
  (void)err;
  return 0;
}

static int twice_run(void *self, sy_job *job, sy_error *err) {
  (void)self;
  int rc = run_upto(job, sy_job_size(job), err);
  if (rc == 0 && sy_job_size(job) > 0)
    rc = sy_job_run_step(job, 0, err);
  return rc;
}

static int echo_run(void *self, sy_job *job, sy_error *err) {
  (void)self;
  int rc = run_upto(job, sy_job_size(job), err);
  if (rc == 0 && sy_job_size(job) > 0) {
    sy_job_emit(job, SY_EVENT_STARTED, 0, 0, NULL);
    sy_job_emit(job, SY_EVENT_DONE, 0, 0, NULL);
  }
  return rc;
}

static int mute_run(void *self, sy_job *job, sy_error *err) {
  (void)self;
  (void)job;
  (void)err;
  return SY_EIO;
}

static int plus_run(void *self, sy_job *job, sy_error *err) {
  (void)self;
  int rc = run_upto(job, sy_job_size(job), err);
  return rc ? rc : 1;
}

/* Runs COMMIT step s in a child process; the parent reports it. */
static int commit_elsewhere(sy_job *job, size_t s, sy_error *err) {
  const sy_value *in[16];
  size_t n = sy_job_step_input_count(job, s);
  if (n > 16)
    return sy_error_set(err, SY_ERANGE, "remote.commit: too many inputs");
  n = sy_job_step_input_values(job, s, in, n);
  sy_job_emit(job, SY_EVENT_STARTED, s, 0, NULL);
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0)
    return sy_error_set(err, SY_EIO, "remote.commit: fork failed");
  if (pid == 0) {
    sy_value *out[1] = {NULL};
    sy_error e;
    sy_error_clear(&e);
    int rc = sy_step_execute(job, s, in, n, out, &e);
    if (rc)
      fprintf(stderr, "remote.commit: %s\n", e.message);
    sy_value_unref(out[0]);
    fflush(stderr);
    _exit(rc ? 1 : 0);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    ;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    sy_job_emit(job, SY_EVENT_FAILED, s, SY_EFAILED, "commit failed");
    return sy_error_set(err, SY_EFAILED, "remote.commit: step %zu failed", s);
  }
  /* The outputs stayed over there: hand the job a placeholder. */
  sy_value *none[1] = {NULL};
  sy_job_step_done(job, s, none);
  sy_job_emit(job, SY_EVENT_DONE, s, 0, NULL);
  return 0;
}

static int remote_run(void *self, sy_job *job, sy_error *err) {
  (void)self;
  for (size_t s = 0; s < sy_job_size(job); s++) {
    int rc = sy_job_step_op(job, s) == SY_OP_COMMIT
                 ? commit_elsewhere(job, s, err)
                 : sy_job_run_step(job, s, err);
    if (rc != 0)
      return rc;
  }
  return 0;
}

#define FX_RUNNER(id, name, help, fn)                                          \
  static const sy_runner_ops id##_ops = {.size = sizeof(sy_runner_ops),        \
                                         .run = fn};                           \
  static const sy_provider id = {sizeof(sy_provider),                          \
                                 SY_KIND_RUNNER,                               \
                                 name,                                         \
                                 "1.0.0",                                      \
                                 help,                                         \
                                 NULL,                                         \
                                 0,                                            \
                                 NULL,                                         \
                                 NULL,                                         \
                                 &id##_ops}

FX_RUNNER(fx_skip, "badrun.skip",
          "Runs every step but the last and succeeds (test fixture).",
          skip_run);
FX_RUNNER(fx_none, "badrun.none", "Runs no step and succeeds (test fixture).",
          none_run);
FX_RUNNER(fx_twice, "badrun.twice",
          "Runs every step, then the first again (test fixture).", twice_run);
FX_RUNNER(fx_echo, "badrun.echo",
          "Runs every step and reports the first done twice (test fixture).",
          echo_run);
FX_RUNNER(fx_mute, "badrun.mute", "Fails with no message (test fixture).",
          mute_run);
FX_RUNNER(fx_plus, "badrun.plus",
          "Runs every step and returns 1 (test fixture).", plus_run);

FX_RUNNER(fx_remote, "remote.commit",
          "Runs commits in a forked process (test fixture).", remote_run);

SY_PLUGIN_DEFINE("fx-runner", "1.0.0", &fx_skip, &fx_none, &fx_twice, &fx_echo,
                 &fx_mute, &fx_plus, &fx_remote)
