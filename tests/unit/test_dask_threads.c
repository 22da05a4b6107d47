/*
 * test_dask_threads.c - the parallel runner's thread pool (runner dask,
 * mode threads), driven through the public API over the built providers
 * (plugins.d of the build tree), as a user's flow would be.
 *
 * The data is a generated CSV; the flows use std actors for real work and
 * sys.exec for steps that fail (`exit 3`), take long (`sleep`), or leave a
 * marker file behind so a test can tell whether a step ever started. No
 * assertion is on time: where a test needs one step to happen after
 * another, the later step's shell command waits for the earlier one's
 * marker (with a generous cap), so a loaded machine only makes it slower.
 */
#include <CUnit/Basic.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <switchyard/switchyard.h>
#include <switchyard/event.h>
#include <switchyard/flow.h>
#include <switchyard/runner.h>
#include "fixture.h"

#define WORKERS 4

static int exists(const char *name) {
  return access(fx_tmp_path(name), F_OK) == 0;
}

static void remove_file(const char *name) {
  unlink(fx_tmp_path(name));
}

/* ---- running a flow ---------------------------------------------------- */

/* What one run saw: its events, per step, and its result. */
typedef struct run_log {
  size_t n; /* steps */
  unsigned *started, *done, *failed, *skipped, *retried;
  int min_worker, max_worker;
  atomic_int sys_started; /* STARTED events of sys.exec steps */
  int rc;
  sy_error err;
  /* Cancel from another thread once this many sys.exec steps started. */
  int cancel_after;
  sy_job *job;
} run_log;

static void on_event(void *ud, const sy_job *job, const sy_event *ev) {
  run_log *log = ud;
  if (ev->step >= log->n)
    return;
  switch (ev->type) {
  case SY_EVENT_STARTED:
    log->started[ev->step]++;
    if (strcmp(sy_job_step_target(job, ev->step), "sys.exec") == 0)
      atomic_fetch_add(&log->sys_started, 1);
    break;
  case SY_EVENT_DONE:
    log->done[ev->step]++;
    break;
  case SY_EVENT_FAILED:
    log->failed[ev->step]++;
    break;
  case SY_EVENT_SKIPPED:
    log->skipped[ev->step]++;
    break;
  case SY_EVENT_RETRIED:
    log->retried[ev->step]++;
    break;
  default:
    return;
  }
  if (ev->type != SY_EVENT_SKIPPED) {
    if (ev->worker < log->min_worker)
      log->min_worker = ev->worker;
    if (ev->worker > log->max_worker)
      log->max_worker = ev->worker;
  }
}

static unsigned total(const run_log *log, const unsigned *per_step) {
  unsigned t = 0;
  for (size_t s = 0; s < log->n; s++)
    t += per_step[s];
  (void)log;
  return t;
}

static void *canceller(void *arg) {
  run_log *log = arg;
  /* Bounded: 20 s at most, then cancel anyway. */
  for (int i = 0; i < 4000; i++) {
    if (atomic_load(&log->sys_started) >= log->cancel_after)
      break;
    usleep(5000);
  }
  sy_job_cancel(log->job);
  return NULL;
}

static void log_free(run_log *log) {
  free(log->started);
  free(log->done);
  free(log->failed);
  free(log->skipped);
  free(log->retried);
}

/* Runs the flow file `flow` on `runner`; the sink output lands in
 * sink_file. The log (if given) records the events and the result. */
static int run_flow(const char *flow, const char *runner, const char *sink_file,
                    run_log *log) {
  char o1[700], o2[700];
  fx_use_built_plugins();
  snprintf(o1, sizeof o1, "FEED.data.path=%s", fx_tmpdir);
  snprintf(o2, sizeof o2, "SINK.out.path=%s", fx_tmp_path(sink_file));
  const char *overrides[] = {
      "FEED.data.provider=csv", o1, "SINK.out.provider=csv", o2,
      /* fail-fast, no retries */
      "RUNNER.par.provider=dask", "RUNNER.par.workers=4",
      /* keep going */
      "RUNNER.kg.provider=dask", "RUNNER.kg.workers=4",
      "RUNNER.kg.keep_going=true",
      /* one retry, quickly */
      "RUNNER.r1.provider=dask", "RUNNER.r1.workers=4", "RUNNER.r1.retries=1",
      "RUNNER.r1.backoff=1ms",
      /* a timeout threads can only report afterwards */
      "RUNNER.to.provider=dask", "RUNNER.to.workers=4",
      "RUNNER.to.timeout=100ms",
      /* one worker: the pool with nobody to steal */
      "RUNNER.one.provider=dask", "RUNNER.one.workers=1", NULL};
  sy_platform *p = NULL;
  sy_program *prog = NULL;
  sy_job *job = NULL;
  pthread_t tid;
  int have_thread = 0;
  sy_error err;
  int rc = fx_platform_open(overrides, &p, &err);
  if (rc == 0)
    rc = sy_program_compile(p, fx_tmp_path(flow), SY_MODE_RUN, NULL, stderr,
                            &prog, &err);
  if (rc == 0)
    rc = sy_job_new(p, prog, NULL, &job, &err);
  if (rc == 0 && log) {
    log->n = sy_job_size(job);
    log->started = calloc(log->n, sizeof(unsigned));
    log->done = calloc(log->n, sizeof(unsigned));
    log->failed = calloc(log->n, sizeof(unsigned));
    log->skipped = calloc(log->n, sizeof(unsigned));
    log->retried = calloc(log->n, sizeof(unsigned));
    log->min_worker = 1 << 30;
    log->max_worker = -(1 << 30);
    log->job = job;
    CU_ASSERT_FATAL(log->started && log->done && log->failed && log->skipped &&
                    log->retried);
    rc = sy_job_listen(job, on_event, log);
    if (rc == 0 && log->cancel_after > 0)
      have_thread = pthread_create(&tid, NULL, canceller, log) == 0;
  }
  if (rc == 0)
    rc = sy_job_run(job, runner, &err);
  if (have_thread)
    pthread_join(tid, NULL);
  if (rc && !log)
    fprintf(stderr, "run %s on %s: %s\n", flow, runner, err.message);
  if (log) {
    log->rc = rc;
    log->err = err;
    log->job = NULL;
  }
  sy_job_free(job);
  sy_program_free(prog);
  sy_platform_close(p);
  return rc;
}

/* ---- fixtures ---------------------------------------------------------- */

/* 24 independent branches (select -> head -> scaler, a different head
 * length each), concatenated by rows: the output order depends on the
 * inputs' order, not on which branch finished first. */
static int write_wide(void) {
  FILE *f = fopen(fx_tmp_path("wide.flow"), "w");
  if (!f)
    return -1;
  fputs("name = \"wide\";\n"
        "source = { feed = \"data\"; table = \"points\"; };\n"
        "actors = (\n",
        f);
  for (int i = 0; i < 24; i++)
    fprintf(
        f,
        "  { id = \"s%d\"; actor = \"std.select\"; inputs = [\"source\"];"
        " params = { columns = [\"x1\", \"x2\"]; }; },\n"
        "  { id = \"h%d\"; actor = \"std.head\"; inputs = [\"s%d\"];"
        " params = { n = %d; }; },\n"
        "  { id = \"c%d\"; actor = \"std.scaler\"; inputs = [\"h%d\"]; },\n",
        i, i, i, 5 + i, i, i);
  fputs("  { id = \"all\"; actor = \"std.concat\"; inputs = [", f);
  for (int i = 0; i < 24; i++)
    fprintf(f, "%s\"c%d\"", i ? ", " : "", i);
  fputs("]; params = { axis = \"rows\"; }; }\n);\n", f);
  return fclose(f);
}

/* A chain of 60 steps, each reading the one before. */
static int write_deep(void) {
  FILE *f = fopen(fx_tmp_path("deep.flow"), "w");
  if (!f)
    return -1;
  fputs("name = \"deep\";\n"
        "source = { feed = \"data\"; table = \"points\"; };\n"
        "actors = (\n",
        f);
  const char *prev = "source";
  char name[32];
  for (int i = 0; i < 30; i++) {
    fprintf(
        f,
        "  { id = \"h%d\"; actor = \"std.head\"; inputs = [\"%s\"];"
        " params = { n = %d; }; },\n"
        "  { id = \"c%d\"; actor = \"std.scaler\"; inputs = [\"h%d\"]; }%s\n",
        i, prev, 200 - 3 * i, i, i, i < 29 ? "," : "");
    snprintf(name, sizeof name, "c%d", i);
    prev = name;
  }
  fputs(");\n", f);
  return fclose(f);
}

static int suite_init(void) {
  if (fx_tmpdir_make("/tmp/sy-test-dask-XXXXXX") != 0)
    return -1;
  FILE *f = fopen(fx_tmp_path("points.csv"), "w");
  if (!f)
    return -1;
  fputs("x1,x2,x3\n", f);
  unsigned s = 7;
  for (int i = 0; i < 200; i++) {
    double v[3];
    for (int k = 0; k < 3; k++) {
      s = s * 1103515245u + 12345u;
      v[k] = (double)((s >> 8) % 10000) / 100.0;
    }
    fprintf(f, "%.2f,%.2f,%.2f\n", v[0], v[1], v[2]);
  }
  if (fclose(f) != 0 || write_wide() != 0 || write_deep() != 0)
    return -1;
  return 0;
}

/* A sys.exec step: `cmd` with {dir} replaced by the temp folder. */
static void exec_actor(FILE *f, const char *id, const char *input,
                       const char *cmd) {
  fprintf(f,
          "  { id = \"%s\"; actor = \"sys.exec\"; inputs = [\"%s\"];"
          " params = { command = \"",
          id, input);
  for (const char *c = cmd; *c; c++) {
    if (strncmp(c, "{dir}", 5) == 0) {
      fputs(fx_tmpdir, f);
      c += 4;
    } else {
      fputc(*c, f);
    }
  }
  fputs("\"; }; },\n", f);
}

/* ---- tests ------------------------------------------------------------- */

static void same_as_inline(const char *flow, const char *runner, int runs) {
  CU_ASSERT_EQUAL_FATAL(run_flow(flow, "inline", "inline.csv", NULL), 0);
  char *expect = fx_read_all(fx_tmp_path("inline.csv"), NULL);
  CU_ASSERT_FATAL(expect != NULL);
  CU_ASSERT(strlen(expect) > 100);
  for (int i = 0; i < runs; i++) {
    remove_file("par.csv");
    CU_ASSERT_EQUAL(run_flow(flow, runner, "par.csv", NULL), 0);
    char *got = fx_read_all(fx_tmp_path("par.csv"), NULL);
    CU_ASSERT_PTR_NOT_NULL(got);
    if (got && strcmp(got, expect) != 0) {
      CU_FAIL("the parallel output differs from inline");
      i = runs;
    }
    free(got);
  }
  free(expect);
}

static void test_dask_threads_wide_matches_inline(void) {
  same_as_inline("wide.flow", "par", 50);
}

static void test_dask_threads_deep_matches_inline(void) {
  same_as_inline("deep.flow", "par", 20);
  same_as_inline("deep.flow", "one", 3);
  same_as_inline("wide.flow", "one", 3);
}

static void test_dask_threads_events_once_per_step(void) {
  for (int r = 0; r < 10; r++) {
    run_log log = {0};
    CU_ASSERT_EQUAL_FATAL(run_flow("wide.flow", "par", "ev.csv", &log), 0);
    CU_ASSERT(log.n > 70);
    for (size_t s = 0; s < log.n; s++) {
      CU_ASSERT_EQUAL(log.started[s], 1);
      CU_ASSERT_EQUAL(log.done[s], 1);
      CU_ASSERT_EQUAL(log.failed[s] + log.skipped[s] + log.retried[s], 0);
    }
    CU_ASSERT(log.min_worker >= 0);
    CU_ASSERT(log.max_worker < WORKERS);
    log_free(&log);
  }
}

/* fail-fast: `bad` fails while `slow` still runs; `after`, which reads
 * `slow`, must never start. `slow` waits for bad's marker first, so the
 * order does not depend on how busy the machine is. */
static void test_dask_threads_fail_fast(void) {
  FILE *f = fopen(fx_tmp_path("ff.flow"), "w");
  CU_ASSERT_FATAL(f != NULL);
  fputs("name = \"ff\";\n"
        "source = { feed = \"data\"; table = \"points\"; };\n"
        "actors = (\n",
        f);
  exec_actor(f, "slow", "source",
             "i=0; while [ ! -e {dir}/ff_bad ] && [ $i -lt 400 ]; do "
             "sleep 0.05; i=$((i+1)); done; sleep 0.3; cat");
  exec_actor(f, "bad", "source", "touch {dir}/ff_bad; echo broken >&2; exit 3");
  exec_actor(f, "after", "slow", "touch {dir}/ff_after; cat");
  fputs("  { id = \"all\"; actor = \"std.concat\"; inputs = [\"after\", "
        "\"bad\"]; params = { axis = \"rows\"; }; }\n);\n",
        f);
  CU_ASSERT_EQUAL_FATAL(fclose(f), 0);
  for (int r = 0; r < 2; r++) {
    remove_file("ff_bad");
    remove_file("ff_after");
    run_log log = {0};
    int rc = run_flow("ff.flow", "par", "ff.csv", &log);
    CU_ASSERT_EQUAL(rc, SY_EFAILED);
    CU_ASSERT_PTR_NOT_NULL(strstr(log.err.message, "bad"));
    CU_ASSERT_PTR_NOT_NULL(strstr(log.err.message, "status 3"));
    CU_ASSERT_PTR_NULL(strstr(log.err.message, "skipped"));
    CU_ASSERT(exists("ff_bad"));
    CU_ASSERT(!exists("ff_after"));
    /* The running sibling was let finish. */
    CU_ASSERT_EQUAL(total(&log, log.failed), 1);
    CU_ASSERT(total(&log, log.done) >= 2); /* feed and slow */
    log_free(&log);
  }
}

/* keep_going: independent branches run, everything downstream of the
 * failure is skipped (transitively: dep, dep2, all and the sink). */
static void test_dask_threads_keep_going(void) {
  FILE *f = fopen(fx_tmp_path("kg.flow"), "w");
  CU_ASSERT_FATAL(f != NULL);
  fputs("name = \"kg\";\n"
        "source = { feed = \"data\"; table = \"points\"; };\n"
        "actors = (\n",
        f);
  exec_actor(f, "bad", "source", "exit 3");
  exec_actor(f, "dep", "bad", "touch {dir}/kg_dep; cat");
  fputs("  { id = \"dep2\"; actor = \"std.head\"; inputs = [\"dep\"]; },\n", f);
  exec_actor(f, "ind1", "source", "sleep 0.2; touch {dir}/kg_ind1; cat");
  exec_actor(f, "ind2", "source", "touch {dir}/kg_ind2; cat");
  exec_actor(f, "ind3", "ind2", "touch {dir}/kg_ind3; cat");
  fputs("  { id = \"all\"; actor = \"std.concat\"; inputs = [\"dep2\", "
        "\"ind1\", \"ind3\"]; params = { axis = \"rows\"; }; }\n);\n",
        f);
  CU_ASSERT_EQUAL_FATAL(fclose(f), 0);
  for (int r = 0; r < 3; r++) {
    remove_file("kg_dep");
    remove_file("kg_ind1");
    remove_file("kg_ind2");
    remove_file("kg_ind3");
    run_log log = {0};
    int rc = run_flow("kg.flow", "kg", "kg.csv", &log);
    CU_ASSERT_EQUAL(rc, SY_EFAILED);
    /* The scheduler's summary, as every runner words it. */
    CU_ASSERT_PTR_NOT_NULL(
        strstr(log.err.message, "(1 step failed, 4 skipped)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(log.err.message, "bad"));
    CU_ASSERT(exists("kg_ind1") && exists("kg_ind2") && exists("kg_ind3"));
    CU_ASSERT(!exists("kg_dep"));
    CU_ASSERT_EQUAL(total(&log, log.skipped), 4);
    CU_ASSERT_EQUAL(total(&log, log.failed), 1);
    for (size_t s = 0; s < log.n; s++) {
      /* A step settles once: run, or skipped without starting. */
      CU_ASSERT(log.skipped[s] + log.started[s] == 1);
      CU_ASSERT(log.skipped[s] == 0 || log.done[s] == 0);
    }
    log_free(&log);
  }
  /* Fail-fast on the same flow: the message is the failure alone. */
  run_log log = {0};
  CU_ASSERT_EQUAL(run_flow("kg.flow", "par", "kg.csv", &log), SY_EFAILED);
  CU_ASSERT_PTR_NULL(strstr(log.err.message, "skipped"));
  CU_ASSERT_EQUAL(total(&log, log.skipped), 0);
  log_free(&log);
}

/* keep_going into a wide join (20 inputs: the runner batches such a
 * join's countdown per worker): the failure skips the join and its sink,
 * every other branch runs, and each step settles exactly once. */
static void test_dask_threads_keep_going_wide_join(void) {
  FILE *f = fopen(fx_tmp_path("kgw.flow"), "w");
  CU_ASSERT_FATAL(f != NULL);
  fputs("name = \"kgw\";\n"
        "source = { feed = \"data\"; table = \"points\"; };\n"
        "actors = (\n",
        f);
  exec_actor(f, "bad", "source", "exit 3");
  for (int i = 0; i < 19; i++)
    fprintf(f,
            "  { id = \"h%d\"; actor = \"std.head\"; inputs = [\"source\"];"
            " params = { n = %d; }; },\n",
            i, 3 + i);
  fputs("  { id = \"all\"; actor = \"std.concat\"; inputs = [\"bad\"", f);
  for (int i = 0; i < 19; i++)
    fprintf(f, ", \"h%d\"", i);
  fputs("]; params = { axis = \"rows\"; }; }\n);\n", f);
  CU_ASSERT_EQUAL_FATAL(fclose(f), 0);
  for (int r = 0; r < 5; r++) {
    run_log log = {0};
    int rc = run_flow("kgw.flow", "kg", "kgw.csv", &log);
    CU_ASSERT_EQUAL(rc, SY_EFAILED);
    /* The scheduler's summary, as every runner words it. */
    CU_ASSERT_PTR_NOT_NULL(
        strstr(log.err.message, "(1 step failed, 2 skipped)"));
    CU_ASSERT_EQUAL(total(&log, log.skipped), 2);
    CU_ASSERT_EQUAL(total(&log, log.failed), 1);
    for (size_t s = 0; s < log.n; s++)
      CU_ASSERT(log.skipped[s] + log.started[s] == 1);
    log_free(&log);
  }
}

/* A command that fails the first time and succeeds the second. */
static void test_dask_threads_retries(void) {
  FILE *f = fopen(fx_tmp_path("rt.flow"), "w");
  CU_ASSERT_FATAL(f != NULL);
  fputs("name = \"rt\";\n"
        "source = { feed = \"data\"; table = \"points\"; };\n"
        "actors = (\n",
        f);
  exec_actor(f, "flaky", "source",
             "if [ -e {dir}/rt_once ]; then cat; else touch {dir}/rt_once; "
             "echo first >&2; exit 1; fi");
  fputs("  { id = \"h\"; actor = \"std.head\"; inputs = [\"flaky\"]; }\n);\n",
        f);
  CU_ASSERT_EQUAL_FATAL(fclose(f), 0);

  remove_file("rt_once");
  run_log log = {0};
  CU_ASSERT_EQUAL(run_flow("rt.flow", "r1", "rt.csv", &log), 0);
  CU_ASSERT_EQUAL(total(&log, log.retried), 1);
  CU_ASSERT_EQUAL(total(&log, log.failed), 1); /* the first attempt */
  CU_ASSERT(exists("rt.csv"));
  log_free(&log);

  remove_file("rt_once");
  run_log log0 = {0};
  CU_ASSERT_EQUAL(run_flow("rt.flow", "par", "rt0.csv", &log0), SY_EFAILED);
  CU_ASSERT_EQUAL(total(&log0, log0.retried), 0);
  CU_ASSERT_PTR_NOT_NULL(strstr(log0.err.message, "flaky"));
  log_free(&log0);
}

/* A step longer than the timeout is reported once it returns. */
static void test_dask_threads_timeout_reported(void) {
  FILE *f = fopen(fx_tmp_path("to.flow"), "w");
  CU_ASSERT_FATAL(f != NULL);
  fputs("name = \"to\";\n"
        "source = { feed = \"data\"; table = \"points\"; };\n"
        "actors = (\n",
        f);
  exec_actor(f, "slow", "source", "sleep 0.4; cat");
  fputs("  { id = \"h\"; actor = \"std.head\"; inputs = [\"slow\"]; }\n);\n",
        f);
  CU_ASSERT_EQUAL_FATAL(fclose(f), 0);
  run_log log = {0};
  CU_ASSERT_EQUAL(run_flow("to.flow", "to", "to.csv", &log), SY_ETIMEOUT);
  CU_ASSERT_PTR_NOT_NULL(strstr(log.err.message, "longer than the timeout"));
  CU_ASSERT_PTR_NOT_NULL(strstr(log.err.message, "mode = processes"));
  CU_ASSERT(!exists("to.csv"));
  log_free(&log);
}

/* Cancelled while the first steps sleep: nothing new starts. */
static void test_dask_threads_cancel(void) {
  FILE *f = fopen(fx_tmp_path("cx.flow"), "w");
  CU_ASSERT_FATAL(f != NULL);
  fputs("name = \"cx\";\n"
        "source = { feed = \"data\"; table = \"points\"; };\n"
        "actors = (\n",
        f);
  char id[16];
  for (int i = 0; i < 16; i++) {
    snprintf(id, sizeof id, "z%d", i);
    exec_actor(f, id, "source", "sleep 0.3; cat");
  }
  fputs("  { id = \"all\"; actor = \"std.concat\"; inputs = [", f);
  for (int i = 0; i < 16; i++)
    fprintf(f, "%s\"z%d\"", i ? ", " : "", i);
  fputs("]; params = { axis = \"rows\"; }; }\n);\n", f);
  CU_ASSERT_EQUAL_FATAL(fclose(f), 0);
  run_log log = {0};
  log.cancel_after = 1;
  CU_ASSERT_EQUAL(run_flow("cx.flow", "par", "cx.csv", &log), SY_ECANCELED);
  /* At most the first wave (one step per worker) ran. */
  CU_ASSERT(atomic_load(&log.sys_started) >= 1);
  CU_ASSERT(atomic_load(&log.sys_started) < 16);
  CU_ASSERT(!exists("cx.csv"));
  log_free(&log);
}

int main(void) {
  static const CU_TestInfo tests[] = {
      {"test_dask_threads_wide_matches_inline",
       test_dask_threads_wide_matches_inline},
      {"test_dask_threads_deep_matches_inline",
       test_dask_threads_deep_matches_inline},
      {"test_dask_threads_events_once_per_step",
       test_dask_threads_events_once_per_step},
      {"test_dask_threads_fail_fast", test_dask_threads_fail_fast},
      {"test_dask_threads_keep_going", test_dask_threads_keep_going},
      {"test_dask_threads_keep_going_wide_join",
       test_dask_threads_keep_going_wide_join},
      {"test_dask_threads_retries", test_dask_threads_retries},
      {"test_dask_threads_timeout_reported",
       test_dask_threads_timeout_reported},
      {"test_dask_threads_cancel", test_dask_threads_cancel},
      CU_TEST_INFO_NULL,
  };
  /* A scheduler bug is often a hang: fail instead of waiting forever. */
  alarm(600);
  return fx_run_suite("dask_threads", suite_init, fx_tmpdir_remove, tests);
}
