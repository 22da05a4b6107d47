/*
 * test_job.c - the compiler, the job and the step executor, end to end
 * over the built providers (plugins.d of the build tree).
 *
 * The central property: a runner only schedules. A runner written here,
 * which runs ready steps in a random order, must produce byte-identical
 * sink output to the inline runner; so must train followed by apply, and
 * a program saved to a file and loaded back.
 */
#include <CUnit/Basic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "job.h"
#include "program.h"
#include "switchyard/event.h"
#include "switchyard/flow.h"
#include "fixture.h"

/* Both files of the temporary folder exist and hold the same text. */
static void assert_same_files(const char *x, const char *y) {
  char *a = fx_read_all(fx_tmp_path(x), NULL);
  char *b = fx_read_all(fx_tmp_path(y), NULL);
  CU_ASSERT_FATAL(a && b);
  CU_ASSERT_STRING_EQUAL(a, b);
  free(a);
  free(b);
}

/* ---- a runner written in the test: random ready order ------------------ */

static unsigned shuffle_seed = 1;

static int shuffle_run(void *self, sy_job *job, sy_error *err) {
  (void)self;
  size_t n = sy_job_size(job);
  int *missing = calloc(n, sizeof *missing);
  size_t *ready = calloc(n, sizeof *ready);
  size_t nready = 0, done = 0;
  int rc = 0;
  for (size_t s = 0; s < n; s++) {
    const uint32_t *in;
    missing[s] = (int)sy_job_step_inputs(job, s, &in);
    if (missing[s] == 0)
      ready[nready++] = s;
  }
  unsigned state = shuffle_seed;
  while (nready > 0 && rc == 0) {
    state = state * 1103515245u + 12345u;
    size_t pick = (state >> 8) % nready;
    size_t s = ready[pick];
    ready[pick] = ready[--nready];
    rc = sy_job_run_step(job, s, err);
    done++;
    const uint32_t *cons;
    size_t nc = sy_job_step_consumers(job, s, &cons);
    for (size_t i = 0; i < nc; i++)
      if (--missing[cons[i]] == 0)
        ready[nready++] = cons[i];
  }
  if (rc == 0 && done != n)
    rc = sy_error_set(err, SY_ESTATE, "shuffle: ran %zu of %zu steps", done, n);
  free(missing);
  free(ready);
  return rc;
}

static const sy_runner_ops shuffle_ops = {.size = sizeof(sy_runner_ops),
                                          .run = shuffle_run};
static const sy_provider shuffle_provider = {
    sizeof(sy_provider),
    SY_KIND_RUNNER,
    "shuffle",
    "1.0.0",
    "runs ready steps in a random order (test)",
    NULL,
    0,
    NULL,
    NULL,
    &shuffle_ops};
static const sy_provider *const shuffle_list[] = {&shuffle_provider, NULL};
static const sy_plugin shuffle_plugin = {
    SY_ABI_MAJOR,   SY_ABI_MINOR, sizeof(sy_plugin), SY_BUILD_SIGNATURE,
    "test-shuffle", "1.0.0",      shuffle_list};

/* ---- fixtures -------------------------------------------------------- */

/* store: a folder for a file storage instance "cache" (the default
 * storage), or NULL for none. */
static sy_platform *open_platform_with(const char *sink_file,
                                       const char *store) {
  char o1[700], o2[700], o3[700];
  fx_use_built_plugins();
  snprintf(o1, sizeof o1, "FEED.data.path=%s", fx_tmpdir);
  snprintf(o2, sizeof o2, "SINK.out.path=%s", fx_tmp_path(sink_file));
  snprintf(o3, sizeof o3, "STORAGE.cache.path=%s", store ? store : "");
  const char *overrides[] = {"FEED.data.provider=csv",
                             o1,
                             "SINK.out.provider=csv",
                             o2,
                             store ? "STORAGE.cache.provider=file" : NULL,
                             o3,
                             NULL};
  sy_platform *p = NULL;
  sy_error err;
  int rc = fx_platform_open(overrides, &p, &err);
  if (rc)
    fprintf(stderr, "platform: %s\n", err.message);
  CU_ASSERT_FATAL(rc == 0);
  rc = sy_catalog_add_static(sy_platform_catalog(p), &shuffle_plugin,
                             "test_job.c", &err);
  CU_ASSERT_FATAL(rc == 0);
  return p;
}

static sy_platform *open_platform(const char *sink_file) {
  return open_platform_with(sink_file, NULL);
}

/* Runs FLOW in mode on runner; the sink output lands in sink_file. */
static int run_flow(const char *flow, sy_mode mode, const char *runner,
                    const char *state, const char *sink_file) {
  sy_platform *p = open_platform(sink_file);
  sy_error err;
  sy_error_clear(&err);
  sy_program *prog = NULL;
  sy_job *job = NULL;
  sy_compile_options copts = {sizeof copts, state};
  int rc = sy_program_compile(p, fx_tmp_path(flow), mode, &copts, stderr, &prog,
                              &err);
  if (rc == 0) {
    sy_job_options jopts = {sizeof jopts, mode == SY_MODE_TRAIN ? state : NULL,
                            "off"};
    rc = sy_job_new(p, prog, &jopts, &job, &err);
  }
  if (rc == 0)
    rc = sy_job_run(job, runner, &err);
  if (rc)
    fprintf(stderr, "run %s: %s\n", flow, err.message);
  sy_job_free(job);
  sy_program_free(prog);
  sy_platform_close(p);
  return rc;
}

/* points.csv and dag.flow: see fx_write_dag_fixture. */
static int suite_init(void) {
  if (fx_tmpdir_make("/tmp/sy-test-job-XXXXXX") != 0)
    return -1;
  return fx_write_dag_fixture();
}

/* ---- tests ----------------------------------------------------------- */

static void test_job_random_order_matches_inline(void) {
  CU_ASSERT_EQUAL_FATAL(
      run_flow("dag.flow", SY_MODE_RUN, "inline", NULL, "inline.csv"), 0);
  char *expect = fx_read_all(fx_tmp_path("inline.csv"), NULL);
  CU_ASSERT_FATAL(expect != NULL);
  CU_ASSERT(strncmp(expect, "prediction\n", 11) == 0);
  CU_ASSERT(strlen(expect) > 300 * 4);
  for (unsigned seed = 1; seed <= 8; seed++) {
    shuffle_seed = seed;
    CU_ASSERT_EQUAL(
        run_flow("dag.flow", SY_MODE_RUN, "shuffle", NULL, "shuffle.csv"), 0);
    char *got = fx_read_all(fx_tmp_path("shuffle.csv"), NULL);
    CU_ASSERT_PTR_NOT_NULL(got);
    if (got)
      CU_ASSERT_STRING_EQUAL(got, expect);
    free(got);
  }
  free(expect);
}

static void test_job_train_then_apply_matches_run(void) {
  CU_ASSERT_EQUAL_FATAL(
      run_flow("dag.flow", SY_MODE_RUN, "inline", NULL, "run.csv"), 0);
  const char *state = strdup(fx_tmp_path("dag.state"));
  CU_ASSERT_EQUAL_FATAL(
      run_flow("dag.flow", SY_MODE_TRAIN, "inline", state, "unused.csv"), 0);
  CU_ASSERT_EQUAL(access(state, R_OK), 0);
  CU_ASSERT_NOT_EQUAL(access(fx_tmp_path("unused.csv"), F_OK), 0);
  CU_ASSERT_EQUAL_FATAL(
      run_flow("dag.flow", SY_MODE_APPLY, "inline", state, "apply.csv"), 0);
  assert_same_files("run.csv", "apply.csv");
  free((void *)state);
}

static void test_job_apply_refuses_damaged_state(void) {
  const char *state = strdup(fx_tmp_path("bad.state"));
  CU_ASSERT_EQUAL_FATAL(
      run_flow("dag.flow", SY_MODE_TRAIN, "inline", state, "unused.csv"), 0);
  FILE *f = fopen(state, "r+b");
  CU_ASSERT_FATAL(f != NULL);
  fseek(f, 40, SEEK_SET);
  int c = fgetc(f);
  fseek(f, 40, SEEK_SET);
  fputc(c ^ 0x20, f);
  fclose(f);
  CU_ASSERT_NOT_EQUAL(
      run_flow("dag.flow", SY_MODE_APPLY, "inline", state, "x.csv"), 0);
  CU_ASSERT_NOT_EQUAL(access(fx_tmp_path("x.csv"), F_OK), 0);
  free((void *)state);
}

static void test_job_program_file_round_trip(void) {
  sy_platform *p = open_platform("prog.csv");
  sy_error err;
  sy_error_clear(&err);
  sy_program *prog = NULL, *back = NULL;
  CU_ASSERT_EQUAL_FATAL(sy_program_compile(p, fx_tmp_path("dag.flow"),
                                           SY_MODE_RUN, NULL, stderr, &prog,
                                           &err),
                        0);
  char *file = strdup(fx_tmp_path("dag.program"));
  CU_ASSERT_EQUAL_FATAL(sy_program_save(prog, file, &err), 0);
  CU_ASSERT_EQUAL_FATAL(sy_program_load(file, &back, &err), 0);
  CU_ASSERT_EQUAL(back->n, prog->n);
  for (uint32_t i = 0; i < prog->n && i < back->n; i++) {
    CU_ASSERT_EQUAL(memcmp(prog->code[i].key, back->code[i].key, 16), 0);
    CU_ASSERT_STRING_EQUAL(sy__instr_text(prog, i), sy__instr_text(back, i));
    CU_ASSERT_STRING_EQUAL(sy__instr_key_hex(prog, i),
                           sy__instr_key_hex(back, i));
  }
  /* The loaded program runs and gives the same output. */
  sy_job *job = NULL;
  CU_ASSERT_EQUAL_FATAL(sy_job_new(p, back, NULL, &job, &err), 0);
  CU_ASSERT_EQUAL(sy_job_run(job, "inline", &err), 0);
  sy_job_free(job);
  sy_program_free(prog);
  sy_program_free(back);
  sy_platform_close(p);
  CU_ASSERT_EQUAL_FATAL(
      run_flow("dag.flow", SY_MODE_RUN, "inline", NULL, "direct.csv"), 0);
  assert_same_files("prog.csv", "direct.csv");
  /* Every truncation and a flipped byte are refused cleanly. */
  void *data = NULL;
  size_t len = 0;
  CU_ASSERT_EQUAL_FATAL(sy_file_read(file, 1 << 20, &data, &len, &err), 0);
  for (size_t cut = 0; cut < len; cut += 7) {
    sy_program *bad = NULL;
    CU_ASSERT_EQUAL(sy__program_decode(data, cut, &bad, &err), SY_ECORRUPT);
    CU_ASSERT_PTR_NULL(bad);
  }
  ((unsigned char *)data)[len / 2] ^= 1;
  sy_program *bad = NULL;
  CU_ASSERT_EQUAL(sy__program_decode(data, len, &bad, &err), SY_ECORRUPT);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "checksum"));
  free(data);
  free(file);
}

/* A saved program records, per actor, the plugin file's content hash it
 * was compiled against; a job over it refuses to run an actor whose
 * plugin is other code now (rebuilt with the same version), since its
 * results would be stored under keys that name the old code's. */
static void test_job_program_pins_plugin_code(void) {
  sy_platform *p = open_platform("pin.csv");
  sy_error err;
  sy_error_clear(&err);
  sy_program *prog = NULL, *back = NULL;
  CU_ASSERT_EQUAL_FATAL(sy_program_compile(p, fx_tmp_path("dag.flow"),
                                           SY_MODE_RUN, NULL, stderr, &prog,
                                           &err),
                        0);
  /* One entry per distinct actor, each the hash of a plugin file. */
  static const uint8_t zero[16];
  CU_ASSERT_EQUAL(prog->n_codes, 4); /* select, scaler, concat, linreg */
  int scaler = -1;
  for (uint32_t i = 0; i < prog->n_codes; i++) {
    CU_ASSERT_NOT_EQUAL(memcmp(prog->codes[i].hash, zero, 16), 0);
    if (strcmp(prog->codes[i].target, "std.scaler") == 0)
      scaler = (int)i;
  }
  CU_ASSERT_FATAL(scaler >= 0);
  char *file = strdup(fx_tmp_path("pin.program"));
  CU_ASSERT_EQUAL_FATAL(sy_program_save(prog, file, &err), 0);
  CU_ASSERT_EQUAL_FATAL(sy_program_load(file, &back, &err), 0);
  CU_ASSERT_EQUAL_FATAL(back->n_codes, prog->n_codes);
  for (uint32_t i = 0; i < prog->n_codes; i++) {
    CU_ASSERT_STRING_EQUAL(back->codes[i].target, prog->codes[i].target);
    CU_ASSERT_EQUAL(memcmp(back->codes[i].hash, prog->codes[i].hash, 16), 0);
  }
  /* Unchanged plugins: nothing is stale, the loaded program runs. */
  sy_job *job = NULL;
  CU_ASSERT_EQUAL_FATAL(sy_job_new(p, back, NULL, &job, &err), 0);
  CU_ASSERT_EQUAL(job->n_stale_code, 0);
  CU_ASSERT_EQUAL(sy_job_run(job, "inline", &err), 0);
  sy_job_free(job);
  /* The scaler's plugin as if rebuilt since: its steps are refused. */
  back->codes[scaler].hash[3] ^= 0x40;
  CU_ASSERT_EQUAL_FATAL(sy_job_new(p, back, NULL, &job, &err), 0);
  CU_ASSERT_EQUAL(job->n_stale_code, 1);
  sy_error_clear(&err);
  CU_ASSERT_EQUAL(sy_job_run(job, "inline", &err), SY_ESTATE);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "(std.scaler): plugin "));
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "actor-std.so changed since the "
                                             "program was compiled"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "switchyard compile "));
  if (!strstr(err.message, "changed since"))
    fprintf(stderr, "message: %s\n", err.message);
  sy_job_free(job);
  sy_program_free(prog);
  sy_program_free(back);
  sy_platform_close(p);
  free(file);
}

static void test_job_keys_change_only_downstream(void) {
  sy_platform *p = open_platform("k.csv");
  sy_error err;
  sy_program *a = NULL, *b = NULL;
  CU_ASSERT_EQUAL_FATAL(sy_program_compile(p, fx_tmp_path("dag.flow"),
                                           SY_MODE_RUN, NULL, stderr, &a, &err),
                        0);
  /* Same flow with one scaler parameter changed. */
  char *text = strdup(fx_dag_flow);
  char *at = strstr(text, "inputs = [\"b\"]; }");
  CU_ASSERT_FATAL(at != NULL);
  FILE *f = fopen(fx_tmp_path("dag2.flow"), "w");
  fwrite(text, 1, (size_t)(at - text), f);
  fputs("inputs = [\"b\"]; params = { with_mean = false; }; }", f);
  fputs(at + strlen("inputs = [\"b\"]; }"), f);
  fclose(f);
  free(text);
  CU_ASSERT_EQUAL_FATAL(sy_program_compile(p, fx_tmp_path("dag2.flow"),
                                           SY_MODE_RUN, NULL, stderr, &b, &err),
                        0);
  CU_ASSERT_EQUAL_FATAL(a->n, b->n);
  for (uint32_t i = 0; i < a->n; i++) {
    const char *node = a->code[i].node;
    int downstream = strcmp(node, "sb") == 0 || strcmp(node, "both") == 0 ||
                     strcmp(node, "model") == 0 || strcmp(node, "sink") == 0;
    int same = memcmp(a->code[i].key, b->code[i].key, 16) == 0;
    if (downstream == same)
      fprintf(stderr, "step %u (%s): key %s\n", i, sy__instr_text(a, i),
              same ? "unchanged" : "changed");
    CU_ASSERT_NOT_EQUAL(downstream, same);
  }
  sy_program_free(a);
  sy_program_free(b);
  sy_platform_close(p);
}

static void count_event(void *ud, const sy_job *job, const sy_event *ev) {
  (void)job;
  if (ev->type == SY_EVENT_STARTED || ev->type == SY_EVENT_DONE)
    (*(int *)ud)++;
}

/* One job per step, as one `switchyard exec` process per step: values move
 * only through the storage, and the sink output is the inline run's. */
static void test_job_exec_stored_matches_inline(void) {
  CU_ASSERT_EQUAL_FATAL(
      run_flow("dag.flow", SY_MODE_RUN, "inline", NULL, "direct.csv"), 0);
  char *store = strdup(fx_tmp_path("store"));
  sy_platform *p = open_platform_with("exec.csv", store);
  sy_error err;
  sy_error_clear(&err);
  sy_program *prog = NULL;
  CU_ASSERT_EQUAL_FATAL(sy_program_compile(p, fx_tmp_path("dag.flow"),
                                           SY_MODE_RUN, NULL, stderr, &prog,
                                           &err),
                        0);
  sy_job *job = NULL;
  int events = 0;
  CU_ASSERT_EQUAL_FATAL(sy_job_new(p, prog, NULL, &job, &err), 0);
  CU_ASSERT_EQUAL_FATAL(sy_job_listen(job, count_event, &events), 0);
  size_t n = sy_job_size(job);
  /* The last step first: its input is not stored yet, nothing starts. */
  CU_ASSERT_EQUAL(sy_job_exec_stored(job, n - 1, &err), SY_ENOENT);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "PROGRAM --step"));
  CU_ASSERT_EQUAL(events, 0);
  CU_ASSERT_EQUAL(sy_job_exec_stored(job, n, &err), SY_ERANGE);
  /* Nothing stored yet: no step's result is there (sy_job_step_stored). */
  for (size_t s = 0; s <= n; s++)
    CU_ASSERT_EQUAL(sy_job_step_stored(job, s), 0);
  sy_job_free(job);
  for (size_t s = 0; s < n; s++) {
    CU_ASSERT_EQUAL_FATAL(sy_job_new(p, prog, NULL, &job, &err), 0);
    int rc = sy_job_exec_stored(job, s, &err);
    if (rc)
      fprintf(stderr, "step %zu: %s\n", s, err.message);
    CU_ASSERT_EQUAL(rc, 0);
    sy_job_free(job);
  }
  /* Now every cacheable step's result (and every GET's, stored for its
   * readers) is there; a sink's never is; none when the cache does
   * not read (write: compute again). */
  CU_ASSERT_EQUAL_FATAL(sy_job_new(p, prog, NULL, &job, &err), 0);
  size_t stored = 0;
  for (size_t s = 0; s < n; s++) {
    sy_op op = sy_job_step_op(job, s);
    int want = op == SY_OP_APPLY || op == SY_OP_TRAIN || op == SY_OP_FEED ||
               op == SY_OP_GET;
    CU_ASSERT_EQUAL(sy_job_step_stored(job, s), want);
    stored += (size_t)want;
  }
  CU_ASSERT(stored >= 3);
  CU_ASSERT_EQUAL(sy_job_step_stored(job, n), 0);
  sy_job_free(job);
  sy_job_options wr = {.size = sizeof wr, .cache = "write"};
  CU_ASSERT_EQUAL_FATAL(sy_job_new(p, prog, &wr, &job, &err), 0);
  for (size_t s = 0; s < n; s++)
    CU_ASSERT_EQUAL(sy_job_step_stored(job, s), 0);
  sy_job_free(job);
  sy_program_free(prog);
  sy_platform_close(p);
  assert_same_files("direct.csv", "exec.csv");
  free(store);
}

/* Without a storage there is nothing to move values through. */
static void test_job_exec_stored_needs_storage(void) {
  sy_platform *p = open_platform("ns.csv");
  sy_error err;
  sy_error_clear(&err);
  sy_program *prog = NULL;
  sy_job *job = NULL;
  CU_ASSERT_EQUAL_FATAL(sy_program_compile(p, fx_tmp_path("dag.flow"),
                                           SY_MODE_RUN, NULL, stderr, &prog,
                                           &err),
                        0);
  CU_ASSERT_EQUAL_FATAL(sy_job_new(p, prog, NULL, &job, &err), 0);
  CU_ASSERT_EQUAL(sy_job_exec_stored(job, 0, &err), SY_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "[PLATFORM] storage"));
  sy_job_free(job);
  sy_program_free(prog);
  sy_platform_close(p);
}

/* Two threads call fn(prog) at once: each must get the same string,
 * made once (got[0] and got[1], not NULL). */
static void race(void *(*fn)(void *), sy_program *prog, void *got[2]) {
  pthread_t t[2];
  got[0] = got[1] = NULL;
  for (int k = 0; k < 2; k++)
    CU_ASSERT_EQUAL_FATAL(pthread_create(&t[k], NULL, fn, prog), 0);
  for (int k = 0; k < 2; k++)
    pthread_join(t[k], &got[k]);
  CU_ASSERT_PTR_NOT_NULL(got[0]);
  CU_ASSERT_PTR_EQUAL(got[0], got[1]);
}

/* Labels and hex keys are made when first asked for, by whichever
 * thread asks first; every thread then reads the same strings. */
static void *first_label(void *ud) {
  return (void *)sy__instr_text((const sy_program *)ud, 0);
}

static void test_job_labels_made_on_first_use(void) {
  sy_platform *p = open_platform("labels.csv");
  sy_error err;
  sy_error_clear(&err);
  sy_program *prog = NULL;
  CU_ASSERT_EQUAL_FATAL(sy_program_compile(p, fx_tmp_path("dag.flow"),
                                           SY_MODE_RUN, NULL, stderr, &prog,
                                           &err),
                        0);
  void *got[2];
  race(first_label, prog, got);
  CU_ASSERT_PTR_EQUAL(got[0], sy__instr_text(prog, 0));
  int seen = 0;
  for (uint32_t i = 0; i < prog->n; i++) {
    char hex[33];
    sy__hex(prog->code[i].key, 16, hex);
    CU_ASSERT_STRING_EQUAL(sy__instr_key_hex(prog, i), hex);
    const char *text = sy__instr_text(prog, i);
    switch (prog->code[i].op) {
    case SY_OP_FEED:
      CU_ASSERT_STRING_EQUAL(text, "feed data:points");
      seen |= 1;
      break;
    case SY_OP_SINK:
      CU_ASSERT_STRING_EQUAL(text, "sink out");
      seen |= 2;
      break;
    case SY_OP_APPLY:
      if (strcmp(prog->code[i].node, "model") == 0) {
        CU_ASSERT_STRING_EQUAL(text, "apply model (std.linreg)");
        seen |= 4;
      }
      break;
    case SY_OP_GET:
      if (prog->code[i].index == 1) {
        CU_ASSERT_STRING_EQUAL(text, "get source[1]");
        seen |= 8;
      }
      break;
    default:
      break;
    }
  }
  CU_ASSERT_EQUAL(seen, 15);
  /* Past the end: no label, no key. */
  CU_ASSERT_STRING_EQUAL(sy__instr_text(prog, prog->n), "?");
  CU_ASSERT_STRING_EQUAL(sy__instr_key_hex(prog, prog->n), "");
  sy_program_free(prog);
  sy_platform_close(p);
}

/* Keys in hex come without the text labels (issue 16: runner-mpi digests
 * every step's key before each run, and making the labels with them cost
 * ~0.2 us a step), from one table made on first use by whichever thread
 * asks first; the labels are still made when asked for. */
static void *first_key(void *ud) {
  return (void *)sy__instr_key_hex((const sy_program *)ud, 0);
}

static void test_job_keys_without_labels(void) {
  sy_platform *p = open_platform("keys.csv");
  sy_error err;
  sy_error_clear(&err);
  sy_program *prog = NULL;
  CU_ASSERT_EQUAL_FATAL(sy_program_compile(p, fx_tmp_path("dag.flow"),
                                           SY_MODE_RUN, NULL, stderr, &prog,
                                           &err),
                        0);
  sy_job *job = NULL;
  CU_ASSERT_EQUAL_FATAL(sy_job_new(p, prog, NULL, &job, &err), 0);
  void *got[2];
  race(first_key, prog, got);
  for (uint32_t i = 0; i < prog->n; i++) {
    char hex[33];
    sy__hex(prog->code[i].key, 16, hex);
    CU_ASSERT_STRING_EQUAL(sy_job_step_key(job, i), hex);
  }
  CU_ASSERT_PTR_NULL(atomic_load(&prog->labels));
  CU_ASSERT_STRING_EQUAL(sy__instr_text(prog, 0), "feed data:points");
  CU_ASSERT_PTR_NOT_NULL(atomic_load(&prog->labels));
  CU_ASSERT_PTR_EQUAL(sy__instr_key_hex(prog, 0), got[0]);
  sy_job_free(job);
  sy_program_free(prog);
  sy_platform_close(p);
}

static void test_job_train_needs_label(void) {
  CU_ASSERT_FATAL(
      fx_write_text(
          "nolabel.flow",
          "name = \"nolabel\";\n"
          "source = { feed = \"data\"; table = \"points\"; };\n"
          "actors = ( { id = \"m\"; actor = \"std.linreg\"; } );\n") == 0);
  sy_platform *p = open_platform("n.csv");
  sy_error err;
  sy_error_clear(&err);
  sy_program *prog = NULL;
  CU_ASSERT_EQUAL(sy_program_compile(p, fx_tmp_path("nolabel.flow"),
                                     SY_MODE_TRAIN, NULL, NULL, &prog, &err),
                  SY_ECONFIG);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "set source.label"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "nolabel.flow:3"));
  sy_program_free(prog);
  sy_platform_close(p);
}

int main(void) {
  static const CU_TestInfo tests[] = {
      {"test_job_random_order_matches_inline",
       test_job_random_order_matches_inline},
      {"test_job_train_then_apply_matches_run",
       test_job_train_then_apply_matches_run},
      {"test_job_apply_refuses_damaged_state",
       test_job_apply_refuses_damaged_state},
      {"test_job_program_file_round_trip", test_job_program_file_round_trip},
      {"test_job_program_pins_plugin_code", test_job_program_pins_plugin_code},
      {"test_job_keys_change_only_downstream",
       test_job_keys_change_only_downstream},
      {"test_job_train_needs_label", test_job_train_needs_label},
      {"test_job_labels_made_on_first_use", test_job_labels_made_on_first_use},
      {"test_job_keys_without_labels", test_job_keys_without_labels},
      {"test_job_exec_stored_matches_inline",
       test_job_exec_stored_matches_inline},
      {"test_job_exec_stored_needs_storage",
       test_job_exec_stored_needs_storage},
      CU_TEST_INFO_NULL,
  };
  return fx_run_suite("job", suite_init, fx_tmpdir_remove, tests);
}
