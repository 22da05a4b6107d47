/*
 * test_res.c - per-step resources in flows (resources, retries, timeout,
 * defaults): parsing and its errors with file:line, the side table in the
 * program and its file (round trip, and a version 2 program still
 * loading with everything unset), keys untouched; and the runner SDK's
 * units (sy_job_units) on chain, diamond, wide, iris and shortcut
 * shapes.
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "flow.h"
#include "job.h"
#include "program.h"
#include "switchyard/endian.h"
#include "switchyard/flow.h"
#include "fixture.h"

static sy_platform *plat;

static int suite_init(void) {
  if (fx_tmpdir_make("/tmp/sy-test-res-XXXXXX") != 0 ||
      fx_write_dag_fixture() != 0)
    return -1;
  char o1[600], o2[600];
  fx_use_built_plugins();
  snprintf(o1, sizeof o1, "FEED.data.path=%s", fx_tmpdir);
  snprintf(o2, sizeof o2, "SINK.out.path=%s", fx_tmp_path("out.csv"));
  const char *overrides[] = {"FEED.data.provider=csv", o1,
                             "SINK.out.provider=csv", o2, NULL};
  sy_error err;
  return fx_platform_open(overrides, &plat, &err) == 0 ? 0 : -1;
}

static int suite_clean(void) {
  sy_platform_close(plat);
  return fx_tmpdir_remove();
}

/* ---- the unit parsers ---------------------------------------------------- */

static void test_parse_units(void) {
  uint64_t v = 0;
  CU_ASSERT(sy__flow_parse_memory("4G", &v) == 0 && v == 4ull << 30);
  CU_ASSERT(sy__flow_parse_memory("512M", &v) == 0 && v == 512ull << 20);
  CU_ASSERT(sy__flow_parse_memory("16k", &v) == 0 && v == 16ull << 10);
  CU_ASSERT(sy__flow_parse_memory("2TB", &v) == 0 && v == 2ull << 40);
  CU_ASSERT(sy__flow_parse_memory("1000", &v) == 0 && v == 1000);
  CU_ASSERT(sy__flow_parse_memory("0", &v) != 0);
  CU_ASSERT(sy__flow_parse_memory("4X", &v) != 0);
  CU_ASSERT(sy__flow_parse_memory("G", &v) != 0);
  CU_ASSERT(sy__flow_parse_memory("-1G", &v) != 0);
  CU_ASSERT(sy__flow_parse_memory("", &v) != 0);
  CU_ASSERT(sy__flow_parse_memory("99999999999999999999", &v) != 0);
  CU_ASSERT(sy__flow_parse_memory("99999999999T", &v) != 0);
  CU_ASSERT(sy__flow_parse_timeout("90s", &v) == 0 && v == 90);
  CU_ASSERT(sy__flow_parse_timeout("10m", &v) == 0 && v == 600);
  CU_ASSERT(sy__flow_parse_timeout("1h30m", &v) == 0 && v == 5400);
  CU_ASSERT(sy__flow_parse_timeout("2d", &v) == 0 && v == 172800);
  CU_ASSERT(sy__flow_parse_timeout("45", &v) == 0 && v == 45);
  CU_ASSERT(sy__flow_parse_timeout("1h30", &v) != 0);
  CU_ASSERT(sy__flow_parse_timeout("0s", &v) != 0);
  CU_ASSERT(sy__flow_parse_timeout("10x", &v) != 0);
  CU_ASSERT(sy__flow_parse_timeout("m", &v) != 0);
  CU_ASSERT(sy__flow_parse_timeout("", &v) != 0);
  CU_ASSERT(sy__flow_parse_timeout("1500ms", &v) != 0); /* whole seconds */
  CU_ASSERT(sy__flow_parse_memory("1.5G", &v) == 0 && v == 3ull << 29);
  CU_ASSERT(sy__flow_parse_timeout("99999999999d", &v) != 0);
}

/* ---- flows ----------------------------------------------------------------
 */

#define HEAD                                                                   \
  "name = \"r\";\n"                                                            \
  "source = { feed = \"data\"; table = \"points\"; };\n"

static void test_flow_values_and_defaults(void) {
  const char *text =
      HEAD "defaults = { resources = { cpus = 2; memory = \"1G\"; };\n"
           "  retries = 1; timeout = \"1h\"; };\n"
           "actors = (\n"
           "  { id = \"a\"; actor = \"std.select\";"
           "    params = { columns = [\"x1\"]; }; },\n"
           "  { id = \"b\"; actor = \"std.scaler\";\n"
           "    resources = { cpus = 4; gpus = 1; }; retries = 0;\n"
           "    timeout = \"90s\"; }\n"
           ");\n";
  sy_flow *flow = NULL;
  sy_error err;
  CU_ASSERT_EQUAL_FATAL(sy__flow_load_string(text, "r.flow", &flow, &err), 0);
  const sy_flow_node *a = &flow->nodes[0], *b = &flow->nodes[1];
  CU_ASSERT_EQUAL(a->res->cpus, 2);
  CU_ASSERT_EQUAL(a->res->memory, 1ull << 30);
  CU_ASSERT_EQUAL(a->res->gpus, 0);
  CU_ASSERT_EQUAL(a->res->retries, 1);
  CU_ASSERT_EQUAL(a->res->timeout, 3600);
  /* Node values override field by field; the rest stays the default. */
  CU_ASSERT_EQUAL(b->res->cpus, 4);
  CU_ASSERT_EQUAL(b->res->memory, 1ull << 30);
  CU_ASSERT_EQUAL(b->res->gpus, 1);
  CU_ASSERT_EQUAL(b->res->retries, 0);
  CU_ASSERT_EQUAL(b->res->timeout, 90);
  /* Written back as text (a release keeps its flow), the values stay. */
  char *back = NULL;
  size_t blen = 0;
  CU_ASSERT_EQUAL_FATAL(sy_flow_text(flow, &back, &blen), 0);
  sy_flow *again = NULL;
  CU_ASSERT_EQUAL_FATAL(sy__flow_load_string(back, "back.flow", &again, &err),
                        0);
  for (size_t i = 0; i < 2; i++) {
    const sy_flow_res *x = flow->nodes[i].res, *y = again->nodes[i].res;
    CU_ASSERT(x->cpus == y->cpus && x->gpus == y->gpus &&
              x->retries == y->retries && x->memory == y->memory &&
              x->timeout == y->timeout);
  }
  sy__flow_free(again);
  free(back);
  sy__flow_free(flow);

  /* Without any: all unset. */
  CU_ASSERT_EQUAL_FATAL(sy__flow_load_string(HEAD
                                             "actors = ({ id = \"a\"; actor = "
                                             "\"std.scaler\"; });\n",
                                             "r.flow", &flow, &err),
                        0);
  CU_ASSERT_FALSE(sy__flow_res_any(flow->nodes[0].res));
  CU_ASSERT_EQUAL(flow->nodes[0].res->retries, -1);
  sy__flow_free(flow);
}

/* The flow `body` (after HEAD) fails to load with a message containing
 * `want`. */
static void expect_error(const char *body, const char *want) {
  char text[2048];
  snprintf(text, sizeof text, HEAD "%s", body);
  sy_flow *flow = NULL;
  sy_error err;
  sy_error_clear(&err);
  int rc = sy__flow_load_string(text, "bad.flow", &flow, &err);
  CU_ASSERT_NOT_EQUAL(rc, 0);
  if (!strstr(err.message, want))
    fprintf(stderr, "\n  want '%s'\n  got  '%s'\n", want, err.message);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, want));
  sy__flow_free(flow);
}

static void test_flow_errors(void) {
  expect_error("actors = ({ id = \"a\"; actor = \"std.scaler\";\n"
               "  resources = { cpu = 2; }; });\n",
               "bad.flow:4: a.resources: unknown key 'cpu' (did you mean "
               "'cpus'?); allowed: cpus, memory, gpus");
  expect_error("actors = ({ id = \"a\"; actor = \"std.scaler\";\n"
               "  resources = { cpus = 0; }; });\n",
               "bad.flow:4: a.resources.cpus: expected a positive integer "
               "(CPU cores, e.g. cpus = 2;)");
  expect_error("actors = ({ id = \"a\"; actor = \"std.scaler\";\n"
               "  resources = { gpus = \"one\"; }; });\n",
               "bad.flow:4: a.resources.gpus: expected a positive integer "
               "(GPUs, e.g. gpus = 2;), got a string");
  expect_error("actors = ({ id = \"a\"; actor = \"std.scaler\";\n"
               "  resources = { memory = \"4Q\"; }; });\n",
               "bad.flow:4: a.resources.memory: expected a size such as "
               "\"512M\" or \"4G\" (K, M, G, T: powers of 1024; a plain "
               "number: bytes), got '4Q'");
  expect_error("actors = ({ id = \"a\"; actor = \"std.scaler\";\n"
               "  timeout = \"10 minutes\"; });\n",
               "bad.flow:4: a.timeout: expected a duration such as \"90s\"");
  expect_error("actors = ({ id = \"a\"; actor = \"std.scaler\";\n"
               "  retries = -1; });\n",
               "bad.flow:4: a.retries: expected a number of extra attempts "
               "0..1000");
  expect_error("actors = ({ id = \"a\"; actor = \"std.scaler\";\n"
               "  resources = 2; });\n",
               "bad.flow:4: a.resources: expected a group { cpus = 2;");
  expect_error("defaults = { retry = 2; };\n"
               "actors = ({ id = \"a\"; actor = \"std.scaler\"; });\n",
               "bad.flow:3: defaults: unknown key 'retry'; allowed: "
               "resources, retries, timeout");
  expect_error("defaults = { timeout = 0; };\n"
               "actors = ({ id = \"a\"; actor = \"std.scaler\"; });\n",
               "bad.flow:3: defaults.timeout: expected a duration");
  expect_error("defaults = 3;\n"
               "actors = ({ id = \"a\"; actor = \"std.scaler\"; });\n",
               "bad.flow:3: defaults: expected a group");
}

/* ---- programs --------------------------------------------------------------
 */

static const char *const chain_flow =
    "name = \"chain\";\n"
    "source = { feed = \"data\"; table = \"points\"; };\n"
    "%s"
    "actors = (\n"
    "  { id = \"a\"; actor = \"std.select\"; %s"
    "    params = { columns = [\"x1\", \"x2\"]; }; },\n"
    "  { id = \"b\"; actor = \"std.drop\"; %s"
    "    params = { columns = [\"x2\"]; }; },\n"
    "  { id = \"c\"; actor = \"std.head\"; params = { n = 5; }; }\n"
    ");\n"
    "sink = \"out\";\n";

static sy_program *compile_text(const char *name, const char *text) {
  CU_ASSERT_EQUAL_FATAL(fx_write_text(name, text), 0);
  sy_program *prog = NULL;
  sy_error err;
  int rc = sy_program_compile(plat, fx_tmp_path(name), SY_MODE_RUN, NULL,
                              stderr, &prog, &err);
  if (rc)
    fprintf(stderr, "compile: %s\n", err.message);
  CU_ASSERT_EQUAL_FATAL(rc, 0);
  return prog;
}

static sy_program *compile_chain(const char *defaults, const char *ra,
                                 const char *rb) {
  char text[2048];
  snprintf(text, sizeof text, chain_flow, defaults, ra, rb);
  return compile_text("chain.flow", text);
}

static sy_job *job_of(const sy_program *prog) {
  sy_job *job = NULL;
  sy_error err;
  int rc = sy_job_new(plat, prog, NULL, &job, &err);
  if (rc)
    fprintf(stderr, "job: %s\n", err.message);
  CU_ASSERT_EQUAL_FATAL(rc, 0);
  return job;
}

static size_t step_of(const sy_job *job, const char *node, sy_op op) {
  for (size_t s = 0; s < sy_job_size(job); s++)
    if (strcmp(sy_job_step_node(job, s), node) == 0 &&
        sy_job_step_op(job, s) == op)
      return s;
  CU_FAIL_FATAL("no such step");
  return 0;
}

static void test_step_resources_and_keys(void) {
  sy_program *plain = compile_chain("", "", "");
  sy_program *res = compile_chain(
      "defaults = { retries = 2; };\n",
      "resources = { cpus = 2; memory = \"4G\"; }; timeout = \"10m\";",
      "resources = { gpus = 1; }; retries = 5;");
  sy_job *jp = job_of(plain), *jr = job_of(res);
  CU_ASSERT_EQUAL_FATAL(sy_job_size(jp), sy_job_size(jr));
  /* Resources change no key. */
  for (size_t s = 0; s < sy_job_size(jp); s++)
    CU_ASSERT_STRING_EQUAL(sy_job_step_key(jp, s), sy_job_step_key(jr, s));
  size_t a = step_of(jr, "a", SY_OP_APPLY), b = step_of(jr, "b", SY_OP_APPLY);
  size_t c = step_of(jr, "c", SY_OP_APPLY);
  sy_step_resources r = {.size = sizeof r};
  CU_ASSERT_EQUAL(sy_job_step_resources(jr, a, &r), 0);
  CU_ASSERT_EQUAL(r.cpus, 2);
  CU_ASSERT_EQUAL(r.memory, 4ull << 30);
  CU_ASSERT_EQUAL(r.gpus, 0);
  CU_ASSERT_EQUAL(r.retries, 2);
  CU_ASSERT_EQUAL(r.timeout, 600);
  char text[128];
  sy_step_resources_format(&r, text, sizeof text);
  CU_ASSERT_STRING_EQUAL(text, "cpus=2 memory=4G retries=2 timeout=10m");
  CU_ASSERT_EQUAL(sy_job_step_resources(jr, b, &r), 0);
  CU_ASSERT_EQUAL(r.cpus, 0);
  CU_ASSERT_EQUAL(r.gpus, 1);
  CU_ASSERT_EQUAL(r.retries, 5);
  CU_ASSERT_EQUAL(sy_job_step_resources(jr, c, &r), 0);
  CU_ASSERT_EQUAL(r.retries, 2); /* the defaults only */
  CU_ASSERT_EQUAL(r.cpus, 0);
  /* Steps that run no actor code carry nothing. */
  size_t feed = step_of(jr, "source", SY_OP_FEED);
  CU_ASSERT_EQUAL(sy_job_step_resources(jr, feed, &r), 0);
  CU_ASSERT_EQUAL(r.retries, -1);
  CU_ASSERT_EQUAL(r.timeout, 0);
  sy_step_resources_format(&r, text, sizeof text);
  CU_ASSERT_STRING_EQUAL(text, "");
  /* A plain flow: nothing anywhere. */
  CU_ASSERT_EQUAL(sy_job_step_resources(jp, a, &r), 0);
  CU_ASSERT_EQUAL(r.cpus, 0);
  CU_ASSERT_EQUAL(r.retries, -1);
  /* An older caller's smaller struct: fields past its size untouched. */
  struct {
    sy_step_resources r;
  } small;
  memset(&small, 0x5a, sizeof small);
  small.r.size = offsetof(sy_step_resources, retries) + 4;
  CU_ASSERT_EQUAL(sy_job_step_resources(jr, a, &small.r), 0);
  CU_ASSERT_EQUAL(small.r.cpus, 2);
  CU_ASSERT_EQUAL(small.r.retries, 2);
  CU_ASSERT_EQUAL(small.r.memory, 0x5a5a5a5a5a5a5a5aull);
  CU_ASSERT_EQUAL(small.r.size, offsetof(sy_step_resources, retries) + 4);
  /* Bad calls. */
  r.size = 2;
  CU_ASSERT_EQUAL(sy_job_step_resources(jr, a, &r), SY_EINVAL);
  r.size = sizeof r;
  CU_ASSERT_EQUAL(sy_job_step_resources(jr, 999, &r), SY_ERANGE);
  CU_ASSERT_EQUAL(sy_job_step_resources(jr, a, NULL), SY_EINVAL);
  sy_job_free(jp);
  sy_job_free(jr);
  sy_program_free(plain);
  sy_program_free(res);
}

static void test_format(void) {
  sy_step_resources r = {sizeof r, 3, 2, 0, 1536ull << 20, 5400};
  char text[128];
  size_t n = sy_step_resources_format(&r, text, sizeof text);
  CU_ASSERT_STRING_EQUAL(text, "cpus=3 memory=1536M gpus=2 retries=0 "
                               "timeout=1h30m");
  CU_ASSERT_EQUAL(n, strlen(text));
  r = (sy_step_resources){sizeof r, 0, 0, -1, 1000, 90};
  sy_step_resources_format(&r, text, sizeof text);
  CU_ASSERT_STRING_EQUAL(text, "memory=1000 timeout=1m30s");
  /* Truncated, still terminated. */
  n = sy_step_resources_format(&r, text, 5);
  CU_ASSERT_EQUAL(n, 4);
  CU_ASSERT_STRING_EQUAL(text, "memo");
}

static void test_program_file(void) {
  sy_program *res = compile_chain(
      "defaults = { timeout = \"2h\"; };\n",
      "resources = { cpus = 2; memory = \"4G\"; }; retries = 3;", "");
  sy_error err;
  const char *path = fx_tmp_path("res.program");
  CU_ASSERT_EQUAL_FATAL(sy_program_save(res, path, &err), 0);
  sy_program *back = NULL;
  CU_ASSERT_EQUAL_FATAL(sy_program_load(path, &back, &err), 0);
  CU_ASSERT_EQUAL(back->n_res, res->n_res);
  CU_ASSERT_EQUAL(back->n_res, 3); /* a, b, c: all have the timeout */
  sy_job *j1 = job_of(res), *j2 = job_of(back);
  for (size_t s = 0; s < sy_job_size(j1); s++) {
    sy_step_resources x = {.size = sizeof x}, y = {.size = sizeof y};
    CU_ASSERT_EQUAL(sy_job_step_resources(j1, s, &x), 0);
    CU_ASSERT_EQUAL(sy_job_step_resources(j2, s, &y), 0);
    CU_ASSERT_EQUAL(memcmp(&x, &y, sizeof x), 0);
  }
  size_t a = step_of(j2, "a", SY_OP_APPLY);
  sy_step_resources r = {.size = sizeof r};
  sy_job_step_resources(j2, a, &r);
  CU_ASSERT(r.cpus == 2 && r.memory == 4ull << 30 && r.retries == 3 &&
            r.timeout == 7200);
  sy_job_free(j1);
  sy_job_free(j2);
  sy_program_free(back);
  sy_program_free(res);

  /* A version 2 file (no resources section) still loads, all unset: made
   * from a version 3 encoding of a program without resources by taking
   * away its empty section (u32 0 before the checksum). */
  sy_program *plain = compile_chain("", "", "");
  void *buf = NULL;
  size_t len = 0;
  CU_ASSERT_EQUAL_FATAL(sy__program_encode(plain, &buf, &len), 0);
  uint8_t *b = buf;
  CU_ASSERT_EQUAL(sy_le16_get(b + 4), 3);
  CU_ASSERT_EQUAL(sy_le32_get(b + len - 12), 0);
  sy_le16_put(b + 4, 2);
  len -= 4;
  sy_le64_put(b + len - 8, XXH3_64bits(b, len - 8));
  sy_program *old = NULL;
  CU_ASSERT_EQUAL_FATAL(sy__program_decode(b, len, &old, &err), 0);
  CU_ASSERT_EQUAL(old->n, plain->n);
  CU_ASSERT_EQUAL(old->n_res, 0);
  sy_job *jo = job_of(old);
  for (size_t s = 0; s < sy_job_size(jo); s++) {
    sy_step_resources x = {.size = sizeof x};
    CU_ASSERT_EQUAL(sy_job_step_resources(jo, s, &x), 0);
    CU_ASSERT(x.cpus == 0 && x.retries == -1 && x.timeout == 0);
  }
  sy_job_free(jo);
  sy_program_free(old);
  /* Version 1 and a future version 4 are refused with a clear message. */
  for (unsigned v = 1; v <= 4; v += 3) {
    sy_le16_put(b + 4, (uint16_t)v);
    sy_le64_put(b + len - 8, XXH3_64bits(b, len - 8));
    sy_error_clear(&err);
    CU_ASSERT_EQUAL(sy__program_decode(b, len, &old, &err), SY_ECORRUPT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "versions 2 to 3: recompile"));
  }
  free(buf);
  sy_program_free(plain);
}

/* ---- units -----------------------------------------------------------------
 */

/* Whether step s has a PURE step upstream of it (or is one). */
static int after_pure(const sy_job *job, size_t s) {
  if (sy_job_step_class(job, s) == SY_STEP_PURE)
    return 1;
  const uint32_t *in;
  size_t ni = sy_job_step_inputs(job, s, &in);
  for (size_t i = 0; i < ni; i++)
    if (after_pure(job, in[i]))
      return 1;
  return 0;
}

/* What every partition must satisfy (runner.h): a topological numbering
 * (deps below the unit, increasing, exactly the units its steps read
 * from outside it), steps increasing, GETs in their input's unit, a
 * LOCAL step only first, a unit's class its first step's, and past a
 * unit's first step only its own values or LOCAL values with no PURE
 * step upstream read. Returns the number of units. */
static size_t check_units(const sy_job *job, uint32_t *of) {
  size_t n = sy_job_size(job);
  size_t nu = sy_job_units(job, of);
  CU_ASSERT_FATAL(nu >= 1 && nu <= n);
  size_t seen = 0;
  for (size_t u = 0; u < nu; u++) {
    const uint32_t *steps, *deps;
    size_t ns = sy_job_unit_steps(job, u, &steps);
    size_t nd = sy_job_unit_deps(job, u, &deps);
    CU_ASSERT_FATAL(ns >= 1);
    seen += ns;
    sy_step_class uc = sy_job_step_class(job, steps[0]);
    CU_ASSERT_EQUAL(sy_job_unit_class(job, u),
                    uc == SY_STEP_PURE ? SY_STEP_PURE : SY_STEP_LOCAL);
    size_t reads = 0; /* distinct outside units read */
    uint8_t read[64] = {0};
    for (size_t k = 0; k < ns; k++) {
      CU_ASSERT_EQUAL(of[steps[k]], u);
      CU_ASSERT(k == 0 || steps[k] > steps[k - 1]);
      const uint32_t *in;
      size_t ni = sy_job_step_inputs(job, steps[k], &in);
      sy_step_class c = sy_job_step_class(job, steps[k]);
      if (c == SY_STEP_ROUTE && ni == 1)
        CU_ASSERT_EQUAL(of[in[0]], u);
      if (k > 0)
        CU_ASSERT(c == SY_STEP_ROUTE ||
                  (c == SY_STEP_PURE && uc == SY_STEP_PURE));
      for (size_t i = 0; i < ni; i++) {
        if (of[in[i]] == u)
          continue;
        if (k > 0) /* past the first step: a value ready before any job */
          CU_ASSERT(!after_pure(job, in[i]));
        CU_ASSERT_FATAL(of[in[i]] < 64);
        if (!read[of[in[i]]]++)
          reads++;
        int found = 0;
        for (size_t d = 0; d < nd; d++)
          found |= deps[d] == of[in[i]];
        CU_ASSERT(found);
      }
    }
    CU_ASSERT_EQUAL(nd, reads);
    for (size_t d = 0; d < nd; d++) {
      CU_ASSERT(deps[d] < u);
      CU_ASSERT(d == 0 || deps[d] > deps[d - 1]);
    }
  }
  CU_ASSERT_EQUAL(seen, n);
  CU_ASSERT_EQUAL(sy_job_unit_steps(job, nu, NULL), 0);
  CU_ASSERT_EQUAL(sy_job_unit_class(job, nu), 0);
  return nu;
}

static void test_units_chain(void) {
  sy_program *prog = compile_chain("", "", "");
  sy_job *job = job_of(prog);
  uint32_t of[64];
  CU_ASSERT_FATAL(sy_job_size(job) <= 64);
  /* feed | a -> b -> c | sink */
  CU_ASSERT_EQUAL(check_units(job, of), 3);
  size_t feed = step_of(job, "source", SY_OP_FEED);
  size_t a = step_of(job, "a", SY_OP_APPLY), b = step_of(job, "b", SY_OP_APPLY);
  size_t c = step_of(job, "c", SY_OP_APPLY);
  size_t sink = step_of(job, "sink", SY_OP_SINK);
  CU_ASSERT(of[a] == of[b] && of[b] == of[c]);
  CU_ASSERT(of[feed] != of[a] && of[sink] != of[c]);
  const uint32_t *steps, *deps;
  CU_ASSERT_EQUAL(sy_job_unit_steps(job, of[a], &steps), 3);
  CU_ASSERT(steps[0] == a && steps[1] == b && steps[2] == c);
  CU_ASSERT_EQUAL(sy_job_unit_class(job, of[a]), SY_STEP_PURE);
  CU_ASSERT_EQUAL(sy_job_unit_class(job, of[sink]), SY_STEP_LOCAL);
  CU_ASSERT_EQUAL(sy_job_unit_deps(job, of[a], &deps), 1);
  CU_ASSERT_EQUAL(deps[0], of[feed]);
  CU_ASSERT_EQUAL(sy_job_unit_deps(job, of[sink], &deps), 1);
  CU_ASSERT_EQUAL(deps[0], of[a]);
  CU_ASSERT_EQUAL(sy_job_unit_deps(job, of[feed], &deps), 0);
  /* NULL: just the count. */
  CU_ASSERT_EQUAL(sy_job_units(job, NULL), 3);
  sy_job_free(job);
  sy_program_free(prog);
}

/* A diamond under a labelled source: top feeds a chain l -> l2 and r,
 * which both joins. */
static const char *const diamond_flow =
    "name = \"diamond\";\n"
    "source = { feed = \"data\"; table = \"points\"; label = \"y\"; };\n"
    "actors = (\n"
    "  { id = \"top\"; actor = \"std.select\";"
    "    params = { columns = [\"x1\", \"x2\"]; }; },\n"
    "  { id = \"l\"; actor = \"std.select\"; inputs = [\"top\"];"
    "    params = { columns = [\"x1\"]; }; },\n"
    "  { id = \"l2\"; actor = \"std.head\"; params = { n = 9; }; },\n"
    "  { id = \"r\"; actor = \"std.select\"; inputs = [\"top\"];"
    "    params = { columns = [\"x2\"]; }; },\n"
    "  { id = \"r2\"; actor = \"std.head\"; params = { n = 9; }; },\n"
    "  { id = \"both\"; actor = \"std.concat\"; inputs = [\"l2\", \"r2\"]; }\n"
    ");\n"
    "sink = \"out\";\n";

static void test_units_diamond(void) {
  sy_program *prog = compile_text("diamond.flow", diamond_flow);
  sy_job *job = job_of(prog);
  uint32_t of[64];
  CU_ASSERT_FATAL(sy_job_size(job) <= 64);
  size_t nu = check_units(job, of);
  size_t feed = step_of(job, "source", SY_OP_FEED);
  size_t get0 = step_of(job, "source", SY_OP_GET);
  size_t top = step_of(job, "top", SY_OP_APPLY);
  size_t l = step_of(job, "l", SY_OP_APPLY),
         l2 = step_of(job, "l2", SY_OP_APPLY);
  size_t r = step_of(job, "r", SY_OP_APPLY),
         r2 = step_of(job, "r2", SY_OP_APPLY);
  size_t both = step_of(job, "both", SY_OP_APPLY);
  size_t sink = step_of(job, "sink", SY_OP_SINK);
  /* The GET rides with the feed: one LOCAL unit. */
  CU_ASSERT_EQUAL(of[get0], of[feed]);
  CU_ASSERT(sy_job_unit_steps(job, of[feed], NULL) >= 2);
  CU_ASSERT_EQUAL(sy_job_unit_class(job, of[feed]), SY_STEP_LOCAL);
  /* top has two consumers: it stays alone; each arm is a chain. */
  CU_ASSERT(of[top] != of[l] && of[top] != of[r]);
  CU_ASSERT_EQUAL(sy_job_unit_steps(job, of[top], NULL), 1);
  CU_ASSERT_EQUAL(of[l], of[l2]);
  CU_ASSERT_EQUAL(of[r], of[r2]);
  CU_ASSERT_NOT_EQUAL(of[l], of[r]);
  const uint32_t *deps;
  CU_ASSERT_EQUAL_FATAL(sy_job_unit_deps(job, of[l], &deps), 1);
  CU_ASSERT_EQUAL(deps[0], of[top]);
  /* both reads two units: it starts its own, depending on both arms. */
  CU_ASSERT(of[both] != of[l2] && of[both] != of[r2]);
  CU_ASSERT_EQUAL_FATAL(sy_job_unit_deps(job, of[both], &deps), 2);
  CU_ASSERT_EQUAL(deps[0], of[l] < of[r] ? of[l] : of[r]);
  CU_ASSERT_EQUAL(deps[1], of[l] < of[r] ? of[r] : of[l]);
  CU_ASSERT_NOT_EQUAL(of[sink], of[both]);
  /* feed+get | top | l-l2 | r-r2 | both | sink */
  CU_ASSERT_EQUAL(nu, 6);
  sy_job_free(job);
  sy_program_free(prog);
}

static void test_units_wide(void) {
  char text[4096];
  size_t used = (size_t)snprintf(
      text, sizeof text,
      "name = \"wide\";\nsource = { feed = \"data\"; table = \"points\"; };\n"
      "actors = (\n");
  const char *cols[] = {"x1", "x2", "x3", "y", "x1"};
  for (int i = 0; i < 5; i++)
    used += (size_t)snprintf(text + used, sizeof text - used,
                             "  { id = \"w%d\"; actor = \"std.select\"; inputs "
                             "= [\"source\"]; params = { columns = "
                             "[\"%s\"]; }; },\n",
                             i, cols[i]);
  snprintf(text + used, sizeof text - used,
           "  { id = \"all\"; actor = \"std.concat\"; inputs = [\"w0\", "
           "\"w1\", \"w2\", \"w3\", \"w4\"]; params = { axis = \"rows\"; }; "
           "}\n);\nsink = \"out\";\n");
  sy_program *prog = compile_text("wide.flow", text);
  sy_job *job = job_of(prog);
  uint32_t of[64];
  CU_ASSERT_FATAL(sy_job_size(job) <= 64);
  /* feed | w0 | ... | w4 | all | sink: no chain, the feed has 5
   * consumers and all reads 5 units. */
  CU_ASSERT_EQUAL(check_units(job, of), 8);
  size_t all = step_of(job, "all", SY_OP_APPLY);
  const uint32_t *deps;
  CU_ASSERT_EQUAL(sy_job_unit_deps(job, of[all], &deps), 5);
  sy_job_free(job);
  sy_program_free(prog);
}

/* iris: scale and model both train on the feed's features, model on its
 * label too; model's apply reads scale's apply. One PURE unit: each step
 * past the first reads its chain and the feed's GETs, ready before any
 * job. (The one-input rule made it 4 PURE units.) */
static void test_units_iris(void) {
  sy_program *prog = compile_text(
      "iris.flow",
      "name = \"iris\";\n"
      "source = { feed = \"data\"; table = \"points\"; label = \"y\"; };\n"
      "actors = (\n"
      "  { id = \"scale\"; actor = \"std.scaler\"; },\n"
      "  { id = \"model\"; actor = \"std.logreg\"; inputs = [\"scale\"];"
      "    params = { epochs = 5; }; }\n"
      ");\nsink = \"out\";\n");
  CU_ASSERT_PTR_NOT_NULL_FATAL(prog);
  sy_job *job = job_of(prog);
  uint32_t of[64];
  CU_ASSERT_FATAL(sy_job_size(job) <= 64);
  CU_ASSERT_EQUAL(check_units(job, of), 3);
  size_t feed = step_of(job, "source", SY_OP_FEED);
  size_t ts = step_of(job, "scale", SY_OP_TRAIN);
  size_t as = step_of(job, "scale", SY_OP_APPLY);
  size_t tm = step_of(job, "model", SY_OP_TRAIN);
  size_t am = step_of(job, "model", SY_OP_APPLY);
  size_t sink = step_of(job, "sink", SY_OP_SINK);
  CU_ASSERT(of[ts] == of[as] && of[as] == of[tm] && of[tm] == of[am]);
  CU_ASSERT_EQUAL(sy_job_unit_class(job, of[ts]), SY_STEP_PURE);
  CU_ASSERT_EQUAL(sy_job_unit_steps(job, of[ts], NULL), 4);
  /* the label's GET stays with the feed: model's train reads it there */
  const uint32_t *in, *deps;
  CU_ASSERT_EQUAL_FATAL(sy_job_step_inputs(job, tm, &in), 2);
  CU_ASSERT_EQUAL(of[in[1]], of[feed]);
  CU_ASSERT_EQUAL_FATAL(sy_job_unit_deps(job, of[ts], &deps), 1);
  CU_ASSERT_EQUAL(deps[0], of[feed]);
  CU_ASSERT_EQUAL_FATAL(sy_job_unit_deps(job, of[sink], &deps), 1);
  CU_ASSERT_EQUAL(deps[0], of[ts]);
  sy_job_free(job);
  sy_program_free(prog);
}

/* A shortcut: b reads a, c reads a and b. c waits for b anyway, so a-b-c
 * is one unit. Add d reading a (and e joining c and d): d does not read
 * b, so b joining a would make d wait for b; b stays apart, and c, which
 * then reads two units, starts its own. */
static void test_units_shortcut(void) {
  static const char *const base =
      "name = \"cut\";\n"
      "source = { feed = \"data\"; table = \"points\"; };\n"
      "actors = (\n"
      "  { id = \"a\"; actor = \"std.select\";"
      "    params = { columns = [\"x1\", \"x2\"]; }; },\n"
      "  { id = \"b\"; actor = \"std.head\"; params = { n = 9; }; },\n"
      "  { id = \"c\"; actor = \"std.concat\"; inputs = [\"a\", \"b\"];"
      "    params = { axis = \"rows\"; }; }%s\n"
      ");\nsink = \"out\";\n";
  char text[2048];
  for (int with_d = 0; with_d < 2; with_d++) {
    snprintf(text, sizeof text, base,
             with_d ? ",\n  { id = \"d\"; actor = \"std.head\"; inputs = "
                      "[\"a\"]; params = { n = 3; }; },\n"
                      "  { id = \"e\"; actor = \"std.concat\"; inputs = "
                      "[\"c\", \"d\"]; params = { axis = \"rows\"; }; }"
                    : "");
    sy_program *prog = compile_text("cut.flow", text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(prog);
    sy_job *job = job_of(prog);
    uint32_t of[64];
    CU_ASSERT_FATAL(sy_job_size(job) <= 64);
    size_t nu = check_units(job, of);
    size_t a = step_of(job, "a", SY_OP_APPLY);
    size_t b = step_of(job, "b", SY_OP_APPLY);
    size_t c = step_of(job, "c", SY_OP_APPLY);
    if (!with_d) {
      /* feed | a-b-c | sink */
      CU_ASSERT_EQUAL(nu, 3);
      CU_ASSERT(of[a] == of[b] && of[b] == of[c]);
    } else {
      /* feed | a | b | c | d | e | sink */
      size_t d = step_of(job, "d", SY_OP_APPLY);
      CU_ASSERT_EQUAL(nu, 7);
      CU_ASSERT(of[a] != of[b] && of[b] != of[c] && of[a] != of[d]);
    }
    sy_job_free(job);
    sy_program_free(prog);
  }
}

/* The scheduler gives a step its node's retries over the policy's. */
static void test_sched_retries(void) {
  sy_program *prog =
      compile_chain("defaults = { retries = 0; };\n", "", "retries = 2;");
  sy_job *job = job_of(prog);
  size_t a = step_of(job, "a", SY_OP_APPLY), b = step_of(job, "b", SY_OP_APPLY);
  sy_sched_policy pol = {.size = sizeof pol, .retries = 5};
  sy_sched *S = NULL;
  sy_error err;
  CU_ASSERT_EQUAL_FATAL(sy_sched_new(job, &pol, &S, &err), 0);
  /* a: retries = 0 (the defaults) beats the policy's 5. */
  CU_ASSERT_EQUAL(sy_sched_retry(S, a, 1, SY_EFAILED, "x"), -1);
  /* b: 2, not 5. */
  CU_ASSERT(sy_sched_retry(S, b, 1, SY_EFAILED, "x") >= 0);
  CU_ASSERT(sy_sched_retry(S, b, 2, SY_EFAILED, "x") >= 0);
  CU_ASSERT_EQUAL(sy_sched_retry(S, b, 3, SY_EFAILED, "x"), -1);
  /* The feed has no node resources: the policy's 5. */
  size_t feed = step_of(job, "source", SY_OP_FEED);
  CU_ASSERT(sy_sched_retry(S, feed, 5, SY_EFAILED, "x") >= 0);
  CU_ASSERT_EQUAL(sy_sched_retry(S, feed, 6, SY_EFAILED, "x"), -1);
  sy_sched_free(S);
  /* With no retries in the policy, the ready set still retries b. */
  pol.retries = 0;
  CU_ASSERT_EQUAL_FATAL(sy_sched_new(job, &pol, &S, &err), 0);
  size_t s;
  int retried = 0;
  while (sy_sched_next(S, 0, &s)) {
    if (s == b && sy_sched_failed(S, s, SY_EFAILED, "flaky")) {
      retried++;
      continue;
    }
    sy_sched_done(S, s);
  }
  CU_ASSERT_EQUAL(retried, 2);
  CU_ASSERT_EQUAL(sy_sched_state(S, b), SY_STEP_FAILED);
  sy_sched_free(S);
  sy_job_free(job);
  sy_program_free(prog);
}

int main(void) {
  static const CU_TestInfo tests[] = {
      {"memory and duration units", test_parse_units},
      {"flow: values and defaults", test_flow_values_and_defaults},
      {"flow: errors name file:line", test_flow_errors},
      {"step resources; keys unchanged", test_step_resources_and_keys},
      {"resources text", test_format},
      {"program file: round trip, version 2", test_program_file},
      {"units: chain", test_units_chain},
      {"units: diamond", test_units_diamond},
      {"units: wide", test_units_wide},
      {"units: iris (feature and label inputs)", test_units_iris},
      {"units: shortcut, and a branch that keeps it apart",
       test_units_shortcut},
      {"sched: per-step retries", test_sched_retries},
      CU_TEST_INFO_NULL};
  return fx_run_suite("res", suite_init, suite_clean, tests);
}
