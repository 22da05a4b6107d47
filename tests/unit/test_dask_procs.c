/*
 * test_dask_procs.c - runner-dask in mode processes, end to end over the
 * built providers plus the fx_faulty fixture (actors that segfault, abort,
 * hang or fail once on purpose).
 *
 * What must hold: the process pool gives byte-identical results to the
 * inline runner; a worker that crashes or times out fails only its step
 * (with a message that names the signal and the step) and is replaced;
 * keep_going still runs what does not depend on the failure and SKIPs what
 * does; retries rerun a failed step; cancellation stops the run. After
 * every run no worker is left: no child process, no zombie.
 *
 * The plugins are loaded from a private folder holding copies of the
 * build's plugins.d and of fx_faulty.so (the loader wants files and a
 * folder that only their owner may write).
 */
#include <CUnit/Basic.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <switchyard/switchyard.h>
#include "fixture.h"

static int copy_file(const char *from, const char *to) {
  size_t len = 0;
  char *data = fx_read_all(from, &len);
  if (!data)
    return -1;
  int fd = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0755);
  int ok = fd >= 0 && write(fd, data, len) == (ssize_t)len;
  if (fd >= 0)
    ok &= close(fd) == 0 && chmod(to, 0755) == 0;
  free(data);
  return ok ? 0 : -1;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- children -------------------------------------------------------- */

/* Processes whose parent is this one, zombies included (/proc). */
static int count_children(void) {
  DIR *d = opendir("/proc");
  if (!d)
    return -1;
  int n = 0;
  long me = (long)getpid();
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9')
      continue;
    char p[300], buf[512];
    snprintf(p, sizeof p, "/proc/%s/stat", e->d_name);
    FILE *f = fopen(p, "r");
    if (!f)
      continue;
    size_t k = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[k] = '\0';
    char *close_paren = strrchr(buf, ')');
    char state;
    long ppid;
    if (close_paren && sscanf(close_paren + 1, " %c %ld", &state, &ppid) == 2 &&
        ppid == me)
      n++;
  }
  closedir(d);
  return n;
}

/* No worker outlived the run: no child at all, and nothing to reap. */
static void assert_no_children(void) {
  CU_ASSERT_EQUAL(count_children(), 0);
  int status;
  errno = 0;
  CU_ASSERT_EQUAL(waitpid(-1, &status, WNOHANG), -1);
  CU_ASSERT_EQUAL(errno, ECHILD);
}

/* ---- events ---------------------------------------------------------- */

typedef struct record {
  sy_event_type type;
  int worker;
  int code;
  char node[32];
} record;

typedef struct recorder {
  record ev[512];
  size_t n;
  atomic_int bad_started; /* the node "bad" has STARTED */
} recorder;

static void record_event(void *ud, const sy_job *job, const sy_event *ev) {
  recorder *r = ud;
  const char *node = sy_job_step_node(job, ev->step);
  if (ev->type == SY_EVENT_STARTED && strcmp(node, "bad") == 0)
    atomic_store(&r->bad_started, 1);
  if (r->n == sizeof r->ev / sizeof r->ev[0])
    return;
  record *e = &r->ev[r->n++];
  e->type = ev->type;
  e->worker = ev->worker;
  e->code = ev->code;
  snprintf(e->node, sizeof e->node, "%s", node);
}

static size_t count_events(const recorder *r, sy_event_type type,
                           const char *node) {
  size_t n = 0;
  for (size_t i = 0; i < r->n; i++)
    n += r->ev[i].type == type && (!node || strcmp(r->ev[i].node, node) == 0);
  return n;
}

/* ---- running flows ---------------------------------------------------- */

typedef struct hooks {
  void (*start)(sy_job *job, void *ud); /* after the job is made */
  void (*end)(void *ud);                /* after it ran, before it is freed */
  void *ud;
} hooks;

/* Runs FLOW in mode; runner options are "key=value" for [RUNNER.iso]
 * (dask, processes), or NULL for the inline runner. */
static int run_flow(const char *flow, sy_mode mode, const char *const *ropts,
                    const char *state, const char *sink_file, recorder *rec,
                    const hooks *h, sy_error *err) {
  char plugins[600], o1[700], o2[700];
  const char *overrides[24];
  char kv[16][200];
  size_t no = 0;
  snprintf(plugins, sizeof plugins, "%s/plugins", fx_tmpdir);
  setenv("SWITCHYARD_PLUGIN_PATH", plugins, 1);
  snprintf(o1, sizeof o1, "FEED.data.path=%s", fx_tmpdir);
  snprintf(o2, sizeof o2, "SINK.out.path=%s/%s", fx_tmpdir, sink_file);
  overrides[no++] = "FEED.data.provider=csv";
  overrides[no++] = o1;
  overrides[no++] = "SINK.out.provider=csv";
  overrides[no++] = o2;
  overrides[no++] = "RUNNER.iso.provider=dask";
  overrides[no++] = "RUNNER.iso.mode=processes";
  for (size_t i = 0; ropts && ropts[i] && i < 16; i++) {
    snprintf(kv[i], sizeof kv[i], "RUNNER.iso.%s", ropts[i]);
    overrides[no++] = kv[i];
  }
  overrides[no] = NULL;
  sy_platform *p = NULL;
  sy_program *prog = NULL;
  sy_job *job = NULL;
  int rc = fx_platform_open(overrides, &p, err);
  char flow_path[600];
  snprintf(flow_path, sizeof flow_path, "%s/%s", fx_tmpdir, flow);
  sy_compile_options copts = {sizeof copts, state};
  if (rc == 0)
    rc = sy_program_compile(p, flow_path, mode, &copts, stderr, &prog, err);
  if (rc == 0) {
    sy_job_options jopts = {sizeof jopts, mode == SY_MODE_TRAIN ? state : NULL,
                            "off"};
    rc = sy_job_new(p, prog, &jopts, &job, err);
  }
  if (rc == 0 && rec) {
    rec->n = 0;
    atomic_store(&rec->bad_started, 0);
    rc = sy_job_listen(job, record_event, rec);
  }
  if (rc == 0) {
    if (h && h->start)
      h->start(job, h->ud);
    rc = sy_job_run(job, ropts ? "iso" : "inline", err);
    if (h && h->end)
      h->end(h->ud);
  }
  sy_job_free(job);
  sy_program_free(prog);
  sy_platform_close(p);
  return rc;
}

/* A flow with two branches: "good" -> "good2" from x1, and "bad" (the
 * given actor) -> "after" from x2; "both" joins them for the sink. */
static void write_branch_flow(const char *name, const char *bad_actor) {
  char text[2048];
  snprintf(
      text, sizeof text,
      "name = \"branches\";\n"
      "source = { feed = \"data\"; table = \"points\"; };\n"
      "actors = (\n"
      "  { id = \"a\"; actor = \"std.select\"; inputs = [\"source\"];"
      "    params = { columns = [\"x1\"]; }; },\n"
      "  { id = \"b\"; actor = \"std.select\"; inputs = [\"source\"];"
      "    params = { columns = [\"x2\"]; }; },\n"
      "  { id = \"good\"; actor = \"fault.pass\"; inputs = [\"a\"]; },\n"
      "  { id = \"bad\"; actor = \"%s\"; inputs = [\"b\"]; },\n"
      "  { id = \"good2\"; actor = \"fault.pass\"; inputs = [\"good\"]; },\n"
      "  { id = \"after\"; actor = \"fault.pass\"; inputs = [\"bad\"]; },\n"
      "  { id = \"both\"; actor = \"std.concat\";"
      "    inputs = [\"good2\", \"after\"]; }\n"
      ");\n"
      "sink = \"out\";\n",
      bad_actor);
  CU_ASSERT_EQUAL_FATAL(fx_write_text(name, text), 0);
}

static int make_plugin_dir(void) {
  const char *top = getenv("top_builddir");
  char src[1200], dst[1200], dir[300];
  snprintf(dir, sizeof dir, "%s/plugins", fx_tmpdir);
  if (mkdir(dir, 0755) != 0 || chmod(dir, 0755) != 0)
    return -1;
  snprintf(src, sizeof src, "%s/plugins.d", top ? top : ".");
  DIR *d = opendir(src);
  if (!d)
    return -1;
  struct dirent *e;
  int rc = 0, n = 0;
  while (rc == 0 && (e = readdir(d)) != NULL) {
    size_t len = strlen(e->d_name);
    if (len < 4 || strcmp(e->d_name + len - 3, ".so") != 0)
      continue;
    snprintf(src, sizeof src, "%s/plugins.d/%s", top ? top : ".", e->d_name);
    snprintf(dst, sizeof dst, "%s/%s", dir, e->d_name);
    rc = copy_file(src, dst);
    n++;
  }
  closedir(d);
  snprintf(src, sizeof src, "%s/tests/providers/.libs/fx_faulty.so",
           top ? top : ".");
  snprintf(dst, sizeof dst, "%s/fx_faulty.so", dir);
  if (rc == 0)
    rc = copy_file(src, dst);
  return rc == 0 && n > 0 ? 0 : -1;
}

static int suite_init(void) {
  if (fx_tmpdir_make("/tmp/sy-test-dask-procs-XXXXXX") != 0)
    return -1;
  if (make_plugin_dir() != 0) {
    fprintf(stderr, "cannot copy the plugins into %s\n", fx_tmpdir);
    return -1;
  }
  return fx_write_dag_fixture();
}

/* ---- tests ----------------------------------------------------------- */

static const char *const three[] = {"workers=3", NULL};

static void test_dask_procs_matches_inline(void) {
  sy_error err;
  recorder *rec = calloc(1, sizeof *rec);
  CU_ASSERT_FATAL(rec != NULL);
  CU_ASSERT_EQUAL_FATAL(run_flow("dag.flow", SY_MODE_RUN, NULL, NULL,
                                 "inline.csv", NULL, NULL, &err),
                        0);
  int rc = run_flow("dag.flow", SY_MODE_RUN, three, NULL, "procs.csv", rec,
                    NULL, &err);
  if (rc)
    fprintf(stderr, "procs: %s\n", err.message);
  CU_ASSERT_EQUAL_FATAL(rc, 0);
  assert_no_children();
  char *expect = fx_read_all(fx_tmp_path("inline.csv"), NULL);
  char *got = fx_read_all(fx_tmp_path("procs.csv"), NULL);
  CU_ASSERT_FATAL(expect && got);
  CU_ASSERT(strncmp(expect, "prediction\n", 11) == 0);
  CU_ASSERT_STRING_EQUAL(got, expect);
  /* Actor steps ran in workers, the feed and the sink in the parent. */
  size_t remote = 0, local = 0;
  for (size_t i = 0; i < rec->n; i++) {
    if (rec->ev[i].type != SY_EVENT_DONE)
      continue;
    int parent = strcmp(rec->ev[i].node, "source") == 0 ||
                 strcmp(rec->ev[i].node, "sink") == 0;
    if (parent) {
      CU_ASSERT_EQUAL(rec->ev[i].worker, -1);
      local++;
    } else {
      CU_ASSERT(rec->ev[i].worker >= 0 && rec->ev[i].worker < 3);
      remote++;
    }
  }
  CU_ASSERT(remote >= 6);
  CU_ASSERT(local >= 2);
  CU_ASSERT_EQUAL(count_events(rec, SY_EVENT_FAILED, NULL), 0);

  /* train + apply: the states and the output match the inline runner. */
  char *s_inline = strdup(fx_tmp_path("inline.state"));
  char *s_procs = strdup(fx_tmp_path("procs.state"));
  CU_ASSERT_EQUAL_FATAL(run_flow("dag.flow", SY_MODE_TRAIN, NULL, s_inline,
                                 "unused.csv", NULL, NULL, &err),
                        0);
  rc = run_flow("dag.flow", SY_MODE_TRAIN, three, s_procs, "unused.csv", NULL,
                NULL, &err);
  if (rc)
    fprintf(stderr, "procs train: %s\n", err.message);
  CU_ASSERT_EQUAL_FATAL(rc, 0);
  assert_no_children();
  size_t la = 0, lb = 0;
  char *a = fx_read_all(s_inline, &la);
  char *b = fx_read_all(s_procs, &lb);
  CU_ASSERT_FATAL(a && b);
  CU_ASSERT_EQUAL(la, lb);
  CU_ASSERT(la == lb && memcmp(a, b, la) == 0);
  free(a);
  free(b);
  rc = run_flow("dag.flow", SY_MODE_APPLY, three, s_procs, "apply.csv", NULL,
                NULL, &err);
  if (rc)
    fprintf(stderr, "procs apply: %s\n", err.message);
  CU_ASSERT_EQUAL(rc, 0);
  assert_no_children();
  char *applied = fx_read_all(fx_tmp_path("apply.csv"), NULL);
  CU_ASSERT_PTR_NOT_NULL(applied);
  if (applied)
    CU_ASSERT_STRING_EQUAL(applied, expect);
  free(applied);
  free(s_inline);
  free(s_procs);
  free(expect);
  free(got);
  free(rec);
}

/* The crashing actor fails its step alone; fail-fast stops the run. */
static void check_crash(const char *actor, const char *signal_text) {
  sy_error err;
  recorder *rec = calloc(1, sizeof *rec);
  CU_ASSERT_FATAL(rec != NULL);
  write_branch_flow("crash.flow", actor);
  int rc = run_flow("crash.flow", SY_MODE_RUN, three, NULL, "crash.csv", rec,
                    NULL, &err);
  CU_ASSERT_EQUAL(rc, SY_ECRASHED);
  if (!strstr(err.message, signal_text))
    fprintf(stderr, "message: %s\n", err.message);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, signal_text));
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "while running step"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, actor));
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "(pid "));
  CU_ASSERT_EQUAL(count_events(rec, SY_EVENT_FAILED, NULL), 1);
  CU_ASSERT_EQUAL(count_events(rec, SY_EVENT_FAILED, "bad"), 1);
  CU_ASSERT_EQUAL(count_events(rec, SY_EVENT_DONE, "after"), 0);
  CU_ASSERT_EQUAL(count_events(rec, SY_EVENT_DONE, "sink"), 0);
  CU_ASSERT_NOT_EQUAL(access(fx_tmp_path("crash.csv"), F_OK), 0);
  assert_no_children();
  free(rec);
}

/* keep_going, one worker: the crash takes the only worker, so the rest
 * of the independent branch runs on its replacement; dependants are
 * SKIPPED. */
static void check_keep_going(const char *actor, const char *const *ropts,
                             int code) {
  sy_error err;
  recorder *rec = calloc(1, sizeof *rec);
  CU_ASSERT_FATAL(rec != NULL);
  write_branch_flow("keep.flow", actor);
  int rc = run_flow("keep.flow", SY_MODE_RUN, ropts, NULL, "keep.csv", rec,
                    NULL, &err);
  CU_ASSERT_EQUAL(rc, code);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "1 step failed, 3 skipped"));
  CU_ASSERT_EQUAL(count_events(rec, SY_EVENT_FAILED, "bad"), 1);
  for (size_t i = 0; i < rec->n; i++)
    if (rec->ev[i].type == SY_EVENT_FAILED)
      CU_ASSERT_EQUAL(rec->ev[i].code, code);
  CU_ASSERT_EQUAL(count_events(rec, SY_EVENT_DONE, "good"), 1);
  CU_ASSERT_EQUAL(count_events(rec, SY_EVENT_DONE, "good2"), 1);
  CU_ASSERT_EQUAL(count_events(rec, SY_EVENT_SKIPPED, "after"), 1);
  CU_ASSERT_EQUAL(count_events(rec, SY_EVENT_SKIPPED, "both"), 1);
  CU_ASSERT_EQUAL(count_events(rec, SY_EVENT_SKIPPED, "sink"), 1);
  CU_ASSERT_EQUAL(count_events(rec, SY_EVENT_SKIPPED, NULL), 3);
  CU_ASSERT_EQUAL(count_events(rec, SY_EVENT_STARTED, "after"), 0);
  assert_no_children();
  free(rec);
}

static const char *const keep_one[] = {"workers=1", "keep_going=true", NULL};

static void test_dask_procs_segv_fails_alone(void) {
  check_crash("fault.segv", "died from signal 11 (Segmentation fault)");
  check_keep_going("fault.segv", keep_one, SY_ECRASHED);
}

static void test_dask_procs_abort_fails_alone(void) {
  check_crash("fault.abort", "died from signal 6 (Aborted)");
  check_keep_going("fault.abort", keep_one, SY_ECRASHED);
}

static void test_dask_procs_timeout_kills_worker(void) {
  static const char *const opts[] = {"workers=2", "timeout=300ms", NULL};
  sy_error err;
  recorder *rec = calloc(1, sizeof *rec);
  CU_ASSERT_FATAL(rec != NULL);
  write_branch_flow("hang.flow", "fault.hang");
  double t0 = now_s();
  int rc = run_flow("hang.flow", SY_MODE_RUN, opts, NULL, "hang.csv", rec, NULL,
                    &err);
  double took = now_s() - t0;
  CU_ASSERT_EQUAL(rc, SY_ETIMEOUT);
  if (!strstr(err.message, "ran longer than 300ms; its worker was killed"))
    fprintf(stderr, "message: %s\n", err.message);
  CU_ASSERT_PTR_NOT_NULL(
      strstr(err.message, "ran longer than 300ms; its worker was killed"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "(apply bad (fault.hang))"));
  CU_ASSERT(took < 10.0);
  CU_ASSERT_EQUAL(count_events(rec, SY_EVENT_FAILED, "bad"), 1);
  assert_no_children();
  free(rec);
  static const char *const keep[] = {"workers=1", "timeout=300ms",
                                     "keep_going=true", NULL};
  check_keep_going("fault.hang", keep, SY_ETIMEOUT);
}

static void test_dask_procs_retry_flaky(void) {
  char marker[600], text[2048];
  snprintf(marker, sizeof marker, "%s/flaky.marker", fx_tmpdir);
  snprintf(text, sizeof text,
           "name = \"flaky\";\n"
           "source = { feed = \"data\"; table = \"points\"; };\n"
           "actors = ( { id = \"f\"; actor = \"fault.flaky\";"
           " inputs = [\"source\"]; params = { marker = \"%s\"; }; } );\n"
           "sink = \"out\";\n",
           marker);
  CU_ASSERT_EQUAL_FATAL(fx_write_text("flaky.flow", text), 0);
  sy_error err;
  recorder *rec = calloc(1, sizeof *rec);
  CU_ASSERT_FATAL(rec != NULL);

  static const char *const once[] = {"workers=2", "retries=1", "backoff=10ms",
                                     NULL};
  unlink(marker);
  int rc = run_flow("flaky.flow", SY_MODE_RUN, once, NULL, "flaky.csv", rec,
                    NULL, &err);
  if (rc)
    fprintf(stderr, "flaky: %s\n", err.message);
  CU_ASSERT_EQUAL(rc, 0);
  CU_ASSERT_EQUAL(count_events(rec, SY_EVENT_RETRIED, NULL), 1);
  CU_ASSERT_EQUAL(count_events(rec, SY_EVENT_RETRIED, "f"), 1);
  CU_ASSERT_EQUAL(count_events(rec, SY_EVENT_STARTED, "f"), 2);
  CU_ASSERT_EQUAL(count_events(rec, SY_EVENT_DONE, "f"), 1);
  CU_ASSERT_EQUAL(count_events(rec, SY_EVENT_DONE, "sink"), 1);
  CU_ASSERT_EQUAL(access(fx_tmp_path("flaky.csv"), F_OK), 0);
  assert_no_children();

  static const char *const never[] = {"workers=2", "retries=0", NULL};
  unlink(marker);
  rc = run_flow("flaky.flow", SY_MODE_RUN, never, NULL, "flaky0.csv", rec, NULL,
                &err);
  CU_ASSERT_EQUAL(rc, SY_EFAILED);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "flaky: first attempt fails"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "(apply f (fault.flaky))"));
  CU_ASSERT_EQUAL(count_events(rec, SY_EVENT_RETRIED, NULL), 0);
  CU_ASSERT_NOT_EQUAL(access(fx_tmp_path("flaky0.csv"), F_OK), 0);
  assert_no_children();
  free(rec);
}

/* Cancels the job from another thread once the hanging step runs. */
typedef struct canceller {
  pthread_t thread;
  sy_job *job;
  recorder *rec;
  int children; /* worker processes seen just before the cancel */
  int started;
} canceller;

static void *cancel_main(void *ud) {
  canceller *c = ud;
  for (int i = 0; i < 1000 && !atomic_load(&c->rec->bad_started); i++) {
    struct timespec ts = {0, 10000000};
    nanosleep(&ts, NULL);
  }
  c->children = count_children();
  sy_job_cancel(c->job);
  return NULL;
}

static void cancel_start(sy_job *job, void *ud) {
  canceller *c = ud;
  c->job = job;
  c->started = pthread_create(&c->thread, NULL, cancel_main, c) == 0;
}

static void cancel_end(void *ud) {
  canceller *c = ud;
  if (c->started)
    pthread_join(c->thread, NULL);
}

static void test_dask_procs_cancel_kills_workers(void) {
  sy_error err;
  recorder *rec = calloc(1, sizeof *rec);
  CU_ASSERT_FATAL(rec != NULL);
  write_branch_flow("cancel.flow", "fault.hang");
  canceller c = {.rec = rec};
  hooks h = {cancel_start, cancel_end, &c};
  double t0 = now_s();
  int rc = run_flow("cancel.flow", SY_MODE_RUN, three, NULL, "cancel.csv", rec,
                    &h, &err);
  CU_ASSERT(c.started);
  CU_ASSERT_EQUAL(rc, SY_ECANCELED);
  CU_ASSERT(now_s() - t0 < 20.0);
  CU_ASSERT(c.children >= 1);
  CU_ASSERT_EQUAL(count_events(rec, SY_EVENT_FAILED, "bad"), 1);
  CU_ASSERT_EQUAL(count_events(rec, SY_EVENT_DONE, "sink"), 0);
  assert_no_children();
  free(rec);
}

int main(void) {
  static const CU_TestInfo tests[] = {
      {"test_dask_procs_matches_inline", test_dask_procs_matches_inline},
      {"test_dask_procs_segv_fails_alone", test_dask_procs_segv_fails_alone},
      {"test_dask_procs_abort_fails_alone", test_dask_procs_abort_fails_alone},
      {"test_dask_procs_timeout_kills_worker",
       test_dask_procs_timeout_kills_worker},
      {"test_dask_procs_retry_flaky", test_dask_procs_retry_flaky},
      {"test_dask_procs_cancel_kills_workers",
       test_dask_procs_cancel_kills_workers},
      CU_TEST_INFO_NULL,
  };
  return fx_run_suite("dask_procs", suite_init, fx_tmpdir_remove, tests);
}
