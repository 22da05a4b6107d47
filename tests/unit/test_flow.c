/*
 * test_flow.c - flow files: loading (shape) and validation.
 *
 * Validation runs against a catalog holding one static plugin defined
 * here, with actors shaped to exercise every check: test.scale (1 in,
 * 1 out, an int "n" in 0..100 and an enum "mode"), test.model (stateful,
 * supervised, one parameter of each type, "epochs" required), test.split
 * (2 outputs), test.concat (1 or more inputs). Messages are checked for
 * their file:line and their key phrase, since those are what users and
 * editors rely on. File fixtures live in tests/unit/flows/, found through
 * $top_srcdir (set by `make check`).
 */
#include "flow.h"

#include <CUnit/Basic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "switchyard/actor.h"
#include "fixture.h"

/* ---- the fake actor plugin ---------------------------------------------- */

static int fake_apply(void *self, const sy_value *const *in, size_t n_in,
                      sy_value **out, sy_error *err) {
  (void)self, (void)in, (void)n_in, (void)out;
  return sy_error_set(err, SY_ENOTSUP, "fake actor");
}

static int fake_train(void *self, const sy_value *const *in, size_t n_in,
                      const sy_value *label, sy_error *err) {
  (void)self, (void)in, (void)n_in, (void)label;
  return sy_error_set(err, SY_ENOTSUP, "fake actor");
}

static int fake_save(void *self, sy_value **state, sy_error *err) {
  (void)self, (void)state;
  return sy_error_set(err, SY_ENOTSUP, "fake actor");
}

static int fake_load(void *self, const sy_value *state, sy_error *err) {
  (void)self, (void)state;
  return sy_error_set(err, SY_ENOTSUP, "fake actor");
}

typedef struct scale_cfg {
  int64_t n;
  int mode;
} scale_cfg;

static const char *const scale_modes[] = {"fast", "exact", NULL};

static const sy_option scale_opts[] = {
    {"n", SY_OPT_INT, 0, "10", "0", "100", NULL, offsetof(scale_cfg, n),
     "How many items to scale."},
    {"mode", SY_OPT_ENUM, 0, "fast", NULL, NULL, scale_modes,
     offsetof(scale_cfg, mode), "How to scale."},
    SY_OPTION_END};

static const sy_actor_ops scale_ops = {.size = sizeof(sy_actor_ops),
                                       .min_inputs = 1,
                                       .max_inputs = 1,
                                       .n_outputs = 1,
                                       .apply = fake_apply};

static const sy_provider scale_provider = {sizeof(sy_provider),
                                           SY_KIND_ACTOR,
                                           "test.scale",
                                           "1.0.0",
                                           "Scales its input.",
                                           scale_opts,
                                           sizeof(scale_cfg),
                                           NULL,
                                           NULL,
                                           &scale_ops};

typedef struct model_cfg {
  int64_t epochs;
  double rate;
  bool verbose;
  uint64_t size;
  int64_t timeout;
  const char *const *layers;
  const char *path;
  const char *label;
} model_cfg;

static const sy_option model_opts[] = {
    {"epochs", SY_OPT_INT, SY_OPT_REQUIRED, NULL, "1", NULL, NULL,
     offsetof(model_cfg, epochs), "Passes over the data."},
    {"rate", SY_OPT_DOUBLE, 0, "0.1", NULL, NULL, NULL,
     offsetof(model_cfg, rate), "Learning rate."},
    {"verbose", SY_OPT_BOOL, 0, "false", NULL, NULL, NULL,
     offsetof(model_cfg, verbose), "Print progress."},
    {"size", SY_OPT_SIZE, 0, "1MiB", NULL, NULL, NULL,
     offsetof(model_cfg, size), "Buffer size."},
    {"timeout", SY_OPT_DURATION, 0, "1m", NULL, NULL, NULL,
     offsetof(model_cfg, timeout), "Training time limit."},
    {"layers", SY_OPT_LIST, 0, "8,8", NULL, NULL, NULL,
     offsetof(model_cfg, layers), "Hidden layer widths."},
    {"path", SY_OPT_PATH, 0, NULL, NULL, NULL, NULL, offsetof(model_cfg, path),
     "Where to write a log."},
    {"label", SY_OPT_STRING, 0, NULL, NULL, NULL, NULL,
     offsetof(model_cfg, label), "A name for the model."},
    SY_OPTION_END};

static const sy_actor_ops model_ops = {.size = sizeof(sy_actor_ops),
                                       .min_inputs = 1,
                                       .max_inputs = 1,
                                       .n_outputs = 1,
                                       .flags = SY_ACTOR_STATEFUL |
                                                SY_ACTOR_SUPERVISED,
                                       .apply = fake_apply,
                                       .train = fake_train,
                                       .state_save = fake_save,
                                       .state_load = fake_load};

static const sy_provider model_provider = {sizeof(sy_provider),
                                           SY_KIND_ACTOR,
                                           "test.model",
                                           "1.0.0",
                                           "A supervised model.",
                                           model_opts,
                                           sizeof(model_cfg),
                                           NULL,
                                           NULL,
                                           &model_ops};

static const sy_actor_ops split_ops = {.size = sizeof(sy_actor_ops),
                                       .min_inputs = 1,
                                       .max_inputs = 1,
                                       .n_outputs = 2,
                                       .apply = fake_apply};

static const sy_provider split_provider = {sizeof(sy_provider),
                                           SY_KIND_ACTOR,
                                           "test.split",
                                           "1.0.0",
                                           "Splits rows in two.",
                                           NULL,
                                           0,
                                           NULL,
                                           NULL,
                                           &split_ops};

static const sy_actor_ops concat_ops = {.size = sizeof(sy_actor_ops),
                                        .min_inputs = 1,
                                        .max_inputs = SY_ARITY_MANY,
                                        .n_outputs = 1,
                                        .apply = fake_apply};

static const sy_provider concat_provider = {sizeof(sy_provider),
                                            SY_KIND_ACTOR,
                                            "test.concat",
                                            "1.0.0",
                                            "Joins its inputs' columns.",
                                            NULL,
                                            0,
                                            NULL,
                                            NULL,
                                            &concat_ops};

static const sy_provider *const test_providers[] = {
    &scale_provider, &model_provider, &split_provider, &concat_provider, NULL};

static const sy_plugin test_plugin = {
    SY_ABI_MAJOR,       SY_ABI_MINOR,  (uint32_t)sizeof(sy_plugin),
    SY_BUILD_SIGNATURE, "test-actors", "1.0.0",
    test_providers};

static sy_catalog *cat;

/* ---- helpers ------------------------------------------------------------ */

#define ASSERT_CONTAINS(hay, needle)                                           \
  do {                                                                         \
    const char *h_ = (hay);                                                    \
    bool ok_ = h_ && strstr(h_, (needle)) != NULL;                             \
    if (!ok_)                                                                  \
      fprintf(stderr, "\n    '%s'\n    lacks '%s'\n", h_ ? h_ : "(null)",      \
              (needle));                                                       \
    CU_ASSERT(ok_);                                                            \
  } while (0)

#define MAX_PROBLEMS 16

typedef struct problems {
  size_t n;
  sy_error e[MAX_PROBLEMS];
} problems;

static void collect(void *ud, const sy_error *problem) {
  problems *p = ud;
  if (p->n < MAX_PROBLEMS)
    p->e[p->n] = *problem;
  p->n++;
}

static char *fixture(const char *name) {
  const char *top = getenv("top_srcdir");
  static char path[4096];
  snprintf(path, sizeof path, "%s/tests/unit/flows/%s", top ? top : ".", name);
  return path;
}

/* Loads text as "pipeline.flow"; returns the code, err the detail. */
static int load_err(const char *text, sy_error *err) {
  sy_flow *flow = (sy_flow *)1;
  sy_error_clear(err);
  int rc = sy__flow_load_string(text, "pipeline.flow", &flow, err);
  CU_ASSERT(rc != 0 || flow != NULL);
  if (rc != 0)
    CU_ASSERT_PTR_NULL(flow);
  sy__flow_free(rc == 0 ? flow : NULL);
  return rc;
}

static sy_flow *load_ok(const char *text) {
  sy_flow *flow = NULL;
  sy_error err;
  sy_error_clear(&err);
  int rc = sy__flow_load_string(text, "pipeline.flow", &flow, &err);
  if (rc != 0)
    fprintf(stderr, "\n    unexpected: %s\n", err.message);
  CU_ASSERT_EQUAL_FATAL(rc, 0);
  return flow;
}

/* Loads and validates text; returns validate's code. */
static int check(const char *text, problems *p, sy_error *err) {
  memset(p, 0, sizeof *p);
  sy_error_clear(err);
  sy_flow *flow = load_ok(text);
  if (!flow)
    return SY_EINVAL;
  int rc = sy__flow_validate(flow, cat, collect, p, err);
  sy__flow_free(flow);
  return rc;
}

static const char *param(const sy_flow_node *n, const char *key,
                         sy_flow_ptype *type) {
  for (size_t i = 0; i < n->n_params; i++)
    if (strcmp(n->params[i].key, key) == 0) {
      if (type)
        *type = n->params[i].type;
      return n->params[i].text;
    }
  return NULL;
}

/* ---- the fast parser against libconfig ---------------------------------- */

/* Equal models, lines and files included (NULL strings equal NULL). */
static int same_str(const char *a, const char *b) {
  return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void assert_same_input(const sy_flow *fa, const sy_flow_input *a,
                              const sy_flow *fb, const sy_flow_input *b) {
  CU_ASSERT(same_str(a->node, b->node));
  CU_ASSERT_EQUAL(a->output, b->output);
  CU_ASSERT_EQUAL(a->line, b->line);
  CU_ASSERT(same_str(sy__flow_input_file(fa, a), sy__flow_input_file(fb, b)));
}

static void assert_same_flow(const sy_flow *a, const sy_flow *b) {
  CU_ASSERT(same_str(a->name, b->name));
  CU_ASSERT_EQUAL(a->name_line, b->name_line);
  CU_ASSERT(same_str(a->source.feed, b->source.feed));
  CU_ASSERT(same_str(a->source.table, b->source.table));
  CU_ASSERT(same_str(a->source.label, b->source.label));
  CU_ASSERT_EQUAL(a->source.line, b->source.line);
  CU_ASSERT(same_str(a->sink.instance, b->sink.instance));
  CU_ASSERT_EQUAL(a->sink.line, b->sink.line);
  if (a->sink.input.node || b->sink.input.node)
    assert_same_input(a, &a->sink.input, b, &b->sink.input);
  CU_ASSERT_EQUAL_FATAL(a->n_nodes, b->n_nodes);
  for (size_t i = 0; i < a->n_nodes; i++) {
    const sy_flow_node *x = &a->nodes[i], *y = &b->nodes[i];
    CU_ASSERT(same_str(x->id, y->id));
    CU_ASSERT(same_str(x->actor, y->actor));
    CU_ASSERT_EQUAL(x->line, y->line);
    CU_ASSERT_EQUAL_FATAL(x->n_inputs, y->n_inputs);
    for (size_t k = 0; k < x->n_inputs; k++)
      assert_same_input(a, &x->inputs[k], b, &y->inputs[k]);
    CU_ASSERT_EQUAL_FATAL(x->n_params, y->n_params);
    for (size_t k = 0; k < x->n_params; k++) {
      CU_ASSERT(same_str(x->params[k].key, y->params[k].key));
      CU_ASSERT(same_str(x->params[k].text, y->params[k].text));
      CU_ASSERT_EQUAL(x->params[k].line, y->params[k].line);
      CU_ASSERT_EQUAL(x->params[k].type, y->params[k].type);
    }
  }
}

/* Loads text twice: as it is (the fast parser reads it) and with a
 * carriage return appended, which the fast parser leaves to libconfig
 * (to libconfig it is a blank); the models, or the errors, must be the
 * same. */
static void compare_parsers(const char *text) {
  size_t n = strlen(text);
  char *forced = malloc(n + 3);
  CU_ASSERT_PTR_NOT_NULL_FATAL(forced);
  memcpy(forced, text, n);
  memcpy(forced + n, "\r\n", 3);
  sy_flow *fast = NULL, *slow = NULL;
  sy_error e1, e2;
  sy_error_clear(&e1);
  sy_error_clear(&e2);
  int rc1 = sy__flow_load_string(text, "pipeline.flow", &fast, &e1);
  int rc2 = sy__flow_load_string(forced, "pipeline.flow", &slow, &e2);
  free(forced);
  CU_ASSERT_EQUAL(rc1, rc2);
  if (rc1 != 0 || rc2 != 0)
    CU_ASSERT_STRING_EQUAL(e1.message, e2.message);
  if (rc1 == 0 && rc2 == 0)
    assert_same_flow(fast, slow);
  sy__flow_free(fast);
  sy__flow_free(slow);
}

static char *read_text(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  char *buf = malloc(1 << 20);
  size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
  fclose(f);
  if (buf)
    buf[n] = '\0';
  return buf;
}

static void test_flow_fast_parser_matches_libconfig(void) {
  static const char *const texts[] = {
      "name = \"a\";\nactors = ( { id = \"x\"; actor = \"t.one\"; } );\n",
      "name = \"a\";\nsource =\n  { table = \"t\"; label = \"y\"; };\n"
      "actors = (\n  {\n    id = \"x\"; actor = \"t.one\";\n"
      "    inputs = [ \"source\",\n      \"source:0\" ];\n"
      "    params = { k = 5; f = 0.25; g = -1.5; b = true; c = false;\n"
      "      s = \"str\"; l = [1, 2,\n 3]; m = (\"a\", 2); };\n  }\n  ,\n"
      "  { id = \"y\" ; actor : \"t.two\" }\n);\nsink = { instance = \"out\"; "
      "input = \"x\"; };\n",
      "# comment\nname = \"a\"; // another\n/* block\n comment */ actors = (\n"
      "{ id = \"x\", actor = \"t.one\", params = { n = +7; z = 0; }, },\n"
      "{ id = \"y\"; actor = \"t.two\"; inputs = \"x:1\"; });\nsink = \"out\"",
      /* Outside the subset: both go to libconfig. */
      "name = \"a\";\nactors = ( { id = \"x\"; actor = \"t.one\";\n"
      "  params = { h = 0x10; big = 3000000000; l = 5L; e = 1e3; }; } );\n",
      "name = \"a\";\nactors = ( { id = \"x\"; actor = \"t.one\";\n"
      "  params = { s = \"a\" \"b\"; }; } );\n",
      "name\n= \"a\";\nactors = ( { id = \"x\"\n; actor =\n \"t.one\"; } );\n",
      "name = \"a\";\nactors = ( { id = \"x\"; actor = \"t.one\"; }, );\n",
      /* Errors. */
      "name = \"a\";\nactors = ( { id = 5; actor = \"t.one\"; } );\n",
      "name = \"a\";\nactors = ( { id = \"x\"; actor = \"t.one\"; bad = 1; } "
      ");\n",
      "name = \"a\";\nname = \"b\";\nactors = ();\n",
      "name = \"a\"\nactors = ( { id = \"x\" actor = \"t\" } );\n",
  };
  for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
    compare_parsers(texts[i]);
  const char *top = getenv("top_srcdir");
  static const char *const examples[] = {"examples/iris/pipeline.flow",
                                         "examples/cleaning/pipeline.flow",
                                         "examples/provider-hello/greet.flow"};
  for (size_t i = 0; i < sizeof examples / sizeof *examples; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", top ? top : ".", examples[i]);
    char *text = read_text(path);
    CU_ASSERT_PTR_NOT_NULL(text);
    if (text)
      compare_parsers(text);
    free(text);
  }
}

/* ---- loading ------------------------------------------------------------ */

static void test_flow_load_happy_path(void) {
  sy_flow *flow = load_ok(
      "name = \"iris\";\n"           /* 1 */
      "description = \"A test.\";\n" /* 2 */
      "source = { feed = \"data\"; table = \"iris\"; label = \"y\"; };\n" /* 3
                                                                           */
      "actors = (\n"                                               /* 4 */
      "  { id = \"scale\"; actor = \"test.scale\"; },\n"           /* 5 */
      "  { id = \"model\"; actor = \"test.model\";\n"              /* 6 */
      "    params = { epochs = 200; rate = 0.1; verbose = true;\n" /* 7 */
      "               big = 5000000000L; label = \"x y\";\n"       /* 8 */
      "               layers = [16, 8]; mixed = (\"a\", 2, false); }; }\n"
      ");\n");
  CU_ASSERT_STRING_EQUAL(flow->file, "pipeline.flow");
  CU_ASSERT_STRING_EQUAL(flow->name, "iris");
  CU_ASSERT_EQUAL(flow->name_line, 1);
  CU_ASSERT_STRING_EQUAL(flow->source.feed, "data");
  CU_ASSERT_STRING_EQUAL(flow->source.table, "iris");
  CU_ASSERT_STRING_EQUAL(flow->source.label, "y");
  CU_ASSERT_EQUAL(flow->source.line, 3);
  CU_ASSERT_PTR_NULL(flow->sink.instance);
  CU_ASSERT_PTR_NULL(flow->order);
  CU_ASSERT_EQUAL_FATAL(flow->n_nodes, 2);
  const sy_flow_node *scale = &flow->nodes[0], *model = &flow->nodes[1];
  CU_ASSERT_STRING_EQUAL(scale->id, "scale");
  CU_ASSERT_STRING_EQUAL(scale->actor, "test.scale");
  CU_ASSERT_EQUAL(scale->line, 5);
  CU_ASSERT_STRING_EQUAL(scale->file, "pipeline.flow");
  /* Default inputs: the source for the first, the previous one after. */
  CU_ASSERT_EQUAL_FATAL(scale->n_inputs, 1);
  CU_ASSERT_STRING_EQUAL(scale->inputs[0].node, "source");
  CU_ASSERT_EQUAL(scale->inputs[0].output, 0);
  CU_ASSERT_EQUAL_FATAL(model->n_inputs, 1);
  CU_ASSERT_STRING_EQUAL(model->inputs[0].node, "scale");
  CU_ASSERT_EQUAL(model->line, 6);
  CU_ASSERT_EQUAL(model->n_params, 7);
  sy_flow_ptype t = 0;
  CU_ASSERT_STRING_EQUAL(param(model, "epochs", &t), "200");
  CU_ASSERT_EQUAL(t, SY_FLOW_PINT);
  CU_ASSERT_STRING_EQUAL(param(model, "rate", &t), "0.10000000000000001");
  CU_ASSERT_EQUAL(t, SY_FLOW_PFLOAT);
  CU_ASSERT_STRING_EQUAL(param(model, "verbose", &t), "true");
  CU_ASSERT_EQUAL(t, SY_FLOW_PBOOL);
  CU_ASSERT_STRING_EQUAL(param(model, "big", &t), "5000000000");
  CU_ASSERT_EQUAL(t, SY_FLOW_PINT);
  CU_ASSERT_STRING_EQUAL(param(model, "label", &t), "x y");
  CU_ASSERT_EQUAL(t, SY_FLOW_PSTRING);
  CU_ASSERT_STRING_EQUAL(param(model, "layers", &t), "16,8");
  CU_ASSERT_EQUAL(t, SY_FLOW_PLIST);
  CU_ASSERT_STRING_EQUAL(param(model, "mixed", &t), "a,2,false");
  CU_ASSERT_EQUAL(t, SY_FLOW_PLIST);
  CU_ASSERT_EQUAL(model->params[0].line, 7);
  CU_ASSERT_EQUAL(model->params[3].line, 8);
  CU_ASSERT_PTR_EQUAL(sy__flow_find(flow, "model"), model);
  CU_ASSERT_PTR_NULL(sy__flow_find(flow, "nope"));
  sy__flow_free(flow);
}

static void test_flow_load_include(void) {
  sy_flow *flow = NULL;
  sy_error err;
  const char *path = fixture("include_main.flow");
  int rc = sy__flow_load(path, &flow, &err);
  if (rc != 0)
    fprintf(stderr, "\n    %s\n", err.message);
  CU_ASSERT_EQUAL_FATAL(rc, 0);
  CU_ASSERT_STRING_EQUAL(flow->file, path);
  CU_ASSERT_STRING_EQUAL(flow->name, "included");
  CU_ASSERT_EQUAL_FATAL(flow->n_nodes, 2);
  /* Nodes written in the fragment say so, with the fragment's lines. */
  ASSERT_CONTAINS(flow->nodes[0].file, "part_actors.flow");
  CU_ASSERT_EQUAL(flow->nodes[0].line, 3);
  CU_ASSERT_EQUAL(flow->nodes[1].line, 4);
  CU_ASSERT_STRING_EQUAL(flow->sink.instance, "out");
  CU_ASSERT_STRING_EQUAL(flow->sink.input.node, "model");
  CU_ASSERT_EQUAL(sy__flow_validate(flow, cat, NULL, NULL, &err), 0);
  CU_ASSERT_PTR_EQUAL(flow->nodes[1].provider, &model_provider);
  sy__flow_free(flow);
}

static void test_flow_include_error_names_fragment(void) {
  sy_flow *flow = NULL;
  sy_error err;
  CU_ASSERT_EQUAL_FATAL(
      sy__flow_load(fixture("include_badparam.flow"), &flow, &err), 0);
  CU_ASSERT_NOT_EQUAL(sy__flow_validate(flow, cat, NULL, NULL, &err), 0);
  ASSERT_CONTAINS(err.message, "part_badparam.flow:4: scale.params.n:");
  sy__flow_free(flow);

  flow = (sy_flow *)1;
  CU_ASSERT_EQUAL(sy__flow_load(fixture("include_missing.flow"), &flow, &err),
                  SY_ESYNTAX);
  CU_ASSERT_PTR_NULL(flow);
  ASSERT_CONTAINS(err.message, "include_missing.flow:3: syntax error:");
}

/* sy__flow_load_valid, the one load-and-validate (check, compile,
 * release): from a file or from text; with a report, every problem goes
 * there and err keeps only the code. */
static void test_flow_load_valid(void) {
  sy_flow *flow = NULL;
  sy_error err;
  const char *path = fixture("include_main.flow");
  CU_ASSERT_EQUAL_FATAL(sy__flow_load_valid(path, NULL, cat, NULL, &flow, &err),
                        0);
  CU_ASSERT_PTR_EQUAL(flow->nodes[1].provider, &model_provider);
  sy__flow_free(flow);

  char *text = NULL;
  size_t len = 0;
  FILE *report = open_memstream(&text, &len);
  CU_ASSERT_PTR_NOT_NULL_FATAL(report);
  flow = (sy_flow *)1;
  CU_ASSERT_EQUAL(sy__flow_load_valid("mem.flow",
                                      "name = \"x\";\nactors = ( { id = "
                                      "\"a\" } ;\n",
                                      cat, report, &flow, &err),
                  SY_ESYNTAX);
  CU_ASSERT_PTR_NULL(flow);
  CU_ASSERT_STRING_EQUAL(err.message, "");
  fclose(report);
  ASSERT_CONTAINS(text, "mem.flow:2: syntax error");
  free(text);

  CU_ASSERT_NOT_EQUAL(sy__flow_load_valid(fixture("include_badparam.flow"),
                                          NULL, cat, NULL, &flow, &err),
                      0);
  CU_ASSERT_PTR_NULL(flow);
  ASSERT_CONTAINS(err.message, "part_badparam.flow:4: scale.params.n:");
}

static void test_flow_syntax_error(void) {
  sy_error err;
  CU_ASSERT_EQUAL(
      load_err("name = \"x\";\n\nactors = ( { id = \"a\" } ;\n", &err),
      SY_ESYNTAX);
  ASSERT_CONTAINS(err.message, "pipeline.flow:3: syntax error: ");

  sy_flow *flow = (sy_flow *)1;
  const char *path = fixture("syntax.flow");
  CU_ASSERT_EQUAL(sy__flow_load(path, &flow, &err), SY_ESYNTAX);
  CU_ASSERT_PTR_NULL(flow);
  char want[4200];
  snprintf(want, sizeof want, "%s:3: syntax error: ", path);
  ASSERT_CONTAINS(err.message, want);
}

static void test_flow_missing_file(void) {
  sy_flow *flow = (sy_flow *)1;
  sy_error err;
  CU_ASSERT_EQUAL(sy__flow_load("/nonexistent/x.flow", &flow, &err), SY_ENOENT);
  CU_ASSERT_PTR_NULL(flow);
  ASSERT_CONTAINS(err.message, "/nonexistent/x.flow: cannot open flow");
  const char *top = getenv("top_srcdir");
  CU_ASSERT_EQUAL(sy__flow_load(top ? top : ".", &flow, &err), SY_EIO);
  ASSERT_CONTAINS(err.message, "not a regular file");
}

static void test_flow_missing_name_or_actors(void) {
  sy_error err;
  CU_ASSERT_EQUAL(
      load_err("actors = ( { id = \"a\"; actor = \"x\"; } );\n", &err),
      SY_ECONFIG);
  ASSERT_CONTAINS(err.message, "pipeline.flow:1: missing 'name'");
  CU_ASSERT_EQUAL(load_err("name = \"x\";\n", &err), SY_ECONFIG);
  ASSERT_CONTAINS(err.message, "pipeline.flow:1: missing 'actors'");
  CU_ASSERT_EQUAL(load_err("name = \"x\";\nactors = ();\n", &err), SY_ECONFIG);
  ASSERT_CONTAINS(err.message, "pipeline.flow:2: actors: expected at least");
  CU_ASSERT_EQUAL(
      load_err("name = \"x\";\nactors = ( { actor = \"a\"; } );\n", &err),
      SY_ECONFIG);
  ASSERT_CONTAINS(err.message, "pipeline.flow:2: actors[0]: missing 'id'");
  CU_ASSERT_EQUAL(
      load_err("name = \"x\";\nactors = ( { id = \"a\"; } );\n", &err),
      SY_ECONFIG);
  ASSERT_CONTAINS(err.message, "pipeline.flow:2: actors[0]: missing 'actor'");
}

static void test_flow_wrong_types(void) {
  sy_error err;
  CU_ASSERT_EQUAL(load_err("name = \"x\";\n"
                           "actors = (\n"
                           "  { id = \"a\"; actor = \"test.scale\"; },\n"
                           "\n\n\n"
                           "  { id = 5; actor = \"test.scale\"; }\n"
                           ");\n",
                           &err),
                  SY_ETYPE);
  ASSERT_CONTAINS(err.message,
                  "pipeline.flow:7: actors[1].id: expected a string, got an "
                  "int");
  CU_ASSERT_EQUAL(load_err("name = 3;\nactors = ();\n", &err), SY_ETYPE);
  ASSERT_CONTAINS(err.message, "pipeline.flow:1: name: expected a string");
  CU_ASSERT_EQUAL(load_err("name = \"x\";\nactors = \"a\";\n", &err), SY_ETYPE);
  ASSERT_CONTAINS(err.message, "pipeline.flow:2: actors: expected a list");
  CU_ASSERT_EQUAL(load_err("name = \"x\";\nactors = ( 1 );\n", &err), SY_ETYPE);
  ASSERT_CONTAINS(err.message, "pipeline.flow:2: actors[0]: expected a group");
  CU_ASSERT_EQUAL(
      load_err("name = \"x\";\nactors = ( { id = \"a\"; actor = true; } );\n",
               &err),
      SY_ETYPE);
  ASSERT_CONTAINS(err.message, "actors[0].actor: expected a string, got a "
                               "bool");
  CU_ASSERT_EQUAL(load_err("name = \"x\";\nsource = \"iris\";\n"
                           "actors = ( { id = \"a\"; actor = \"b\"; } );\n",
                           &err),
                  SY_ETYPE);
  ASSERT_CONTAINS(err.message, "pipeline.flow:2: source: expected a group");
}

static void test_flow_unknown_keys(void) {
  sy_error err;
  CU_ASSERT_EQUAL(load_err("nmae = \"x\";\n", &err), SY_ECONFIG);
  ASSERT_CONTAINS(err.message, "pipeline.flow:1: unknown key 'nmae' (did you "
                               "mean 'name'?)");
  CU_ASSERT_EQUAL(load_err("name = \"x\";\nzzz = 1;\n", &err), SY_ECONFIG);
  ASSERT_CONTAINS(err.message, "pipeline.flow:2: unknown key 'zzz'; allowed: "
                               "name, source, actors, sink, defaults, "
                               "params, description");
  CU_ASSERT_EQUAL(load_err("name = \"x\";\nactors = (\n"
                           "  { id = \"a\"; actor = \"b\";\n"
                           "    inptus = \"source\"; } );\n",
                           &err),
                  SY_ECONFIG);
  ASSERT_CONTAINS(err.message, "pipeline.flow:4: actors[0]: unknown key "
                               "'inptus' (did you mean 'inputs'?)");
  CU_ASSERT_EQUAL(load_err("name = \"x\";\n"
                           "source = { table = \"t\"; labl = \"y\"; };\n"
                           "actors = ( { id = \"a\"; actor = \"b\"; } );\n",
                           &err),
                  SY_ECONFIG);
  ASSERT_CONTAINS(err.message, "pipeline.flow:2: source: unknown key 'labl' "
                               "(did you mean 'label'?)");
  CU_ASSERT_EQUAL(load_err("name = \"x\";\nsource = { feed = \"d\"; };\n"
                           "actors = ( { id = \"a\"; actor = \"b\"; } );\n",
                           &err),
                  SY_ECONFIG);
  ASSERT_CONTAINS(err.message, "pipeline.flow:2: source: missing 'table'");
}

static void test_flow_invalid_id(void) {
  sy_error err;
  CU_ASSERT_EQUAL(
      load_err(
          "name = \"x\";\nactors = ( { id = \"a:1\"; actor = \"b\"; } );\n",
          &err),
      SY_ECONFIG);
  ASSERT_CONTAINS(err.message,
                  "pipeline.flow:2: actors[0].id: 'a:1' is not a valid id");
}

static void test_flow_inputs_forms(void) {
  sy_flow *flow = load_ok(
      "name = \"x\";\n"
      "actors = (\n"
      "  { id = \"split\"; actor = \"test.split\"; inputs = \"source\"; },\n"
      "  { id = \"a\"; actor = \"test.scale\"; inputs = \"split:1\"; },\n"
      "  { id = \"b\"; actor = \"test.concat\";\n"
      "    inputs = [\"a\", \"split:0\", \"source\"]; },\n"
      "  { id = \"c\"; actor = \"test.concat\"; inputs = (\"b\"); },\n"
      "  { id = \"d\"; actor = \"test.concat\"; inputs = []; }\n"
      ");\n");
  CU_ASSERT_EQUAL_FATAL(flow->n_nodes, 5);
  const sy_flow_node *n = flow->nodes;
  CU_ASSERT_EQUAL(n[0].n_inputs, 1);
  CU_ASSERT_STRING_EQUAL(n[0].inputs[0].node, "source");
  CU_ASSERT_EQUAL_FATAL(n[1].n_inputs, 1);
  CU_ASSERT_STRING_EQUAL(n[1].inputs[0].node, "split");
  CU_ASSERT_EQUAL(n[1].inputs[0].output, 1);
  CU_ASSERT_EQUAL(n[1].inputs[0].line, 4);
  CU_ASSERT_EQUAL_FATAL(n[2].n_inputs, 3);
  CU_ASSERT_STRING_EQUAL(n[2].inputs[0].node, "a");
  CU_ASSERT_STRING_EQUAL(n[2].inputs[1].node, "split");
  CU_ASSERT_EQUAL(n[2].inputs[1].output, 0);
  CU_ASSERT_STRING_EQUAL(n[2].inputs[2].node, "source");
  CU_ASSERT_EQUAL(n[2].inputs[2].line, 6);
  CU_ASSERT_EQUAL_FATAL(n[3].n_inputs, 1);
  CU_ASSERT_STRING_EQUAL(n[3].inputs[0].node, "b");
  CU_ASSERT_EQUAL(n[4].n_inputs, 0);
  sy__flow_free(flow);
}

static void test_flow_bad_output_syntax(void) {
  static const char *const bad[] = {"split:x", ":1", "split:", "a:-1",
                                    "a:99999999999"};
  char text[256];
  sy_error err;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    snprintf(text, sizeof text,
             "name = \"x\";\nactors = (\n"
             "  { id = \"a\"; actor = \"b\"; inputs = [\"%s\"]; } );\n",
             bad[i]);
    CU_ASSERT_EQUAL(load_err(text, &err), SY_ECONFIG);
    ASSERT_CONTAINS(err.message, "pipeline.flow:3: actors[0].inputs[0]: '");
    ASSERT_CONTAINS(err.message, "is not an input (expected ID or ID:N");
  }
  CU_ASSERT_EQUAL(load_err("name = \"x\";\nactors = (\n"
                           "  { id = \"a\"; actor = \"b\"; inputs = 5; } );\n",
                           &err),
                  SY_ETYPE);
  ASSERT_CONTAINS(err.message, "pipeline.flow:3: actors[0].inputs: expected a "
                               "string or a list of strings, got an int");
  CU_ASSERT_EQUAL(
      load_err("name = \"x\";\nactors = (\n"
               "  { id = \"a\"; actor = \"b\"; inputs = (\"s\", 1); } );\n",
               &err),
      SY_ETYPE);
  ASSERT_CONTAINS(err.message, "pipeline.flow:3: actors[0].inputs[1]: "
                               "expected a string, got an int");
}

static void test_flow_bad_params(void) {
  sy_error err;
  CU_ASSERT_EQUAL(load_err("name = \"x\";\nactors = (\n"
                           "  { id = \"a\"; actor = \"b\";\n"
                           "    params = { g = { x = 1; }; }; } );\n",
                           &err),
                  SY_ETYPE);
  ASSERT_CONTAINS(err.message, "pipeline.flow:4: a.params.g: expected a value, "
                               "a list of values or { param = \"NAME\"; } (a "
                               "flow parameter), got a group");
  CU_ASSERT_EQUAL(load_err("name = \"x\";\nactors = (\n"
                           "  { id = \"a\"; actor = \"b\";\n"
                           "    params = { l = (1, { x = 1; }); }; } );\n",
                           &err),
                  SY_ETYPE);
  ASSERT_CONTAINS(err.message, "pipeline.flow:4: a.params.l[1]: expected a "
                               "value, got a group");
  CU_ASSERT_EQUAL(load_err("name = \"x\";\nactors = (\n"
                           "  { id = \"a\"; actor = \"b\";\n"
                           "    params = { l = [\"p,q\"]; }; } );\n",
                           &err),
                  SY_ECONFIG);
  ASSERT_CONTAINS(err.message, "pipeline.flow:4: a.params.l[0]: 'p,q': list "
                               "items cannot contain ','");
  CU_ASSERT_EQUAL(load_err("name = \"x\";\nactors = (\n"
                           "  { id = \"a\"; actor = \"b\"; params = 3; } );\n",
                           &err),
                  SY_ETYPE);
  ASSERT_CONTAINS(err.message, "pipeline.flow:3: a.params: expected a group");
}

static void test_flow_sink_forms(void) {
  const char *head = "name = \"x\";\nactors = (\n"
                     "  { id = \"split\"; actor = \"test.split\"; },\n"
                     "  { id = \"a\"; actor = \"test.scale\"; } );\n";
  char text[512];
  snprintf(text, sizeof text, "%ssink = \"out\";\n", head);
  sy_flow *flow = load_ok(text);
  CU_ASSERT_STRING_EQUAL(flow->sink.instance, "out");
  CU_ASSERT_STRING_EQUAL(flow->sink.input.node, "a");
  CU_ASSERT_EQUAL(flow->sink.input.output, 0);
  CU_ASSERT_EQUAL(flow->sink.line, 5);
  sy__flow_free(flow);

  snprintf(text, sizeof text,
           "%ssink = { instance = \"csv\"; input = \"split:1\"; };\n", head);
  flow = load_ok(text);
  CU_ASSERT_STRING_EQUAL(flow->sink.instance, "csv");
  CU_ASSERT_STRING_EQUAL(flow->sink.input.node, "split");
  CU_ASSERT_EQUAL(flow->sink.input.output, 1);
  sy__flow_free(flow);

  sy_error err;
  snprintf(text, sizeof text, "%ssink = { input = \"a\"; };\n", head);
  CU_ASSERT_EQUAL(load_err(text, &err), SY_ECONFIG);
  ASSERT_CONTAINS(err.message, "pipeline.flow:5: sink: missing 'instance'");
  snprintf(text, sizeof text, "%ssink = 4;\n", head);
  CU_ASSERT_EQUAL(load_err(text, &err), SY_ETYPE);
  ASSERT_CONTAINS(err.message, "pipeline.flow:5: sink: expected a string");
  snprintf(text, sizeof text, "%ssink = { instance = \"o\"; input = 1; };\n",
           head);
  CU_ASSERT_EQUAL(load_err(text, &err), SY_ETYPE);
  ASSERT_CONTAINS(err.message, "pipeline.flow:5: sink.input: expected a "
                               "string");
}

/* A long actors list keeps its children where the parser pushed them;
 * what the parser reads after it (a group, its keys) must not be
 * disturbed by that, and lines stay right. */
static void test_flow_long_list(void) {
  enum { N = 6000 };
  size_t cap = (size_t)N * 64 + 256, used = 0;
  char *text = malloc(cap);
  CU_ASSERT_PTR_NOT_NULL_FATAL(text);
  used += (size_t)snprintf(text + used, cap - used,
                           "name = \"long\";\nactors = (\n");
  for (int i = 0; i < N; i++)
    used += (size_t)snprintf(text + used, cap - used,
                             "  { id = \"n%d\"; actor = \"test.scale\"; }%s\n",
                             i, i + 1 < N ? "," : "");
  snprintf(text + used, cap - used,
           ");\nsink = { instance = \"out\"; input = \"n17\"; };\n");
  sy_flow *flow = load_ok(text);
  free(text);
  CU_ASSERT_EQUAL_FATAL(flow->n_nodes, N);
  CU_ASSERT_STRING_EQUAL(flow->nodes[0].id, "n0");
  CU_ASSERT_EQUAL(flow->nodes[0].line, 3);
  CU_ASSERT_STRING_EQUAL(flow->nodes[N - 1].id, "n5999");
  CU_ASSERT_STRING_EQUAL(flow->nodes[N - 1].actor, "test.scale");
  CU_ASSERT_EQUAL(flow->nodes[N - 1].line, N + 2);
  CU_ASSERT_STRING_EQUAL(flow->nodes[N - 1].inputs[0].node, "n5998");
  CU_ASSERT_STRING_EQUAL(flow->sink.instance, "out");
  CU_ASSERT_STRING_EQUAL(flow->sink.input.node, "n17");
  CU_ASSERT_EQUAL(flow->sink.line, N + 4);
  CU_ASSERT_EQUAL(sy__flow_validate(flow, cat, NULL, NULL, NULL), 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(flow->order);
  CU_ASSERT_EQUAL(flow->order[N - 1], N - 1);
  CU_ASSERT_EQUAL(flow->sink.input.target, 17);
  sy__flow_free(flow);
}

/* ---- validation --------------------------------------------------------- */

static void test_flow_validate_ok(void) {
  sy_flow *flow = load_ok(
      "name = \"x\";\n"
      "source = { table = \"t\"; label = \"y\"; };\n"
      "actors = (\n"
      "  { id = \"split\"; actor = \"test.split\"; },\n"
      "  { id = \"scale\"; actor = \"test.scale\"; inputs = \"split:1\";\n"
      "    params = { n = 100; mode = \"exact\"; }; },\n"
      "  { id = \"all\"; actor = \"test.concat\";\n"
      "    inputs = [\"scale\", \"split:0\", \"source\"]; },\n"
      "  { id = \"model\"; actor = \"test.model\";\n"
      "    params = { epochs = 3; rate = 1; verbose = false; size = 1024;\n"
      "      timeout = \"250ms\"; layers = [4, 2]; path = \"/tmp/x\";\n"
      "      label = \"m\"; }; }\n"
      ");\n"
      "sink = \"out\";\n");
  problems p = {0};
  sy_error err;
  int rc = sy__flow_validate(flow, cat, collect, &p, &err);
  if (rc != 0)
    fprintf(stderr, "\n    %s\n", err.message);
  CU_ASSERT_EQUAL(rc, 0);
  CU_ASSERT_EQUAL(p.n, 0);
  CU_ASSERT_PTR_EQUAL(flow->nodes[0].provider, &split_provider);
  CU_ASSERT_PTR_EQUAL(flow->nodes[3].provider, &model_provider);
  CU_ASSERT_PTR_NOT_NULL_FATAL(flow->order);
  CU_ASSERT_EQUAL(flow->order[0], 0);
  CU_ASSERT_EQUAL(flow->order[1], 1);
  CU_ASSERT_EQUAL(flow->order[2], 2);
  CU_ASSERT_EQUAL(flow->order[3], 3);
  /* Validating twice is harmless (order is replaced, not leaked). */
  CU_ASSERT_EQUAL(sy__flow_validate(flow, cat, NULL, NULL, NULL), 0);
  sy__flow_free(flow);
}

static void test_flow_order_ties_keep_file_order(void) {
  sy_flow *flow = load_ok("name = \"x\";\n"
                          "actors = (\n"
                          "  { id = \"x\"; actor = \"test.concat\";\n"
                          "    inputs = [\"y\", \"w\"]; },\n"
                          "  { id = \"y\"; actor = \"test.scale\"; "
                          "inputs = \"source\"; },\n"
                          "  { id = \"z\"; actor = \"test.scale\"; "
                          "inputs = \"source\"; },\n"
                          "  { id = \"w\"; actor = \"test.scale\"; "
                          "inputs = \"y\"; }\n"
                          ");\n");
  sy_error err;
  CU_ASSERT_EQUAL_FATAL(sy__flow_validate(flow, cat, NULL, NULL, &err), 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(flow->order);
  /* y and z are ready first; y wins (written first), which readies w;
   * z (index 2) precedes w (3); x waits for both y and w. */
  CU_ASSERT_EQUAL(flow->order[0], 1);
  CU_ASSERT_EQUAL(flow->order[1], 2);
  CU_ASSERT_EQUAL(flow->order[2], 3);
  CU_ASSERT_EQUAL(flow->order[3], 0);
  sy__flow_free(flow);
}

static void test_flow_duplicate_id(void) {
  problems p;
  sy_error err;
  CU_ASSERT_EQUAL(check("name = \"x\";\nactors = (\n"
                        "  { id = \"a\"; actor = \"test.scale\"; },\n"
                        "  { id = \"b\"; actor = \"test.scale\"; },\n"
                        "  { id = \"a\"; actor = \"test.scale\"; } );\n",
                        &p, &err),
                  SY_EEXIST);
  CU_ASSERT_EQUAL(p.n, 1);
  ASSERT_CONTAINS(err.message, "pipeline.flow:5: duplicate id 'a' (first "
                               "defined at pipeline.flow:3)");
}

/* A default input names the previous node's id; when an earlier node
 * has that id too, the input means the earlier one (ids resolve to the
 * first node with them), not the previous node. */
static void test_flow_default_input_with_duplicate_id(void) {
  sy_flow *flow = load_ok("name = \"x\";\n"
                          "actors = (\n"
                          "  { id = \"a\"; actor = \"test.scale\"; },\n"
                          "  { id = \"a\"; actor = \"test.scale\"; },\n"
                          "  { id = \"c\"; actor = \"test.scale\"; } );\n");
  problems p = {0};
  sy_error err;
  CU_ASSERT_EQUAL(sy__flow_validate(flow, cat, collect, &p, &err), SY_EEXIST);
  CU_ASSERT_EQUAL_FATAL(flow->nodes[2].n_inputs, 1);
  CU_ASSERT_STRING_EQUAL(flow->nodes[2].inputs[0].node, "a");
  CU_ASSERT_EQUAL(flow->nodes[2].inputs[0].target, 0);
  CU_ASSERT_EQUAL(flow->nodes[1].inputs[0].target, 0);
  CU_ASSERT_EQUAL(flow->nodes[0].inputs[0].target, -1);
  sy__flow_free(flow);
}

static void test_flow_source_id_is_duplicate(void) {
  problems p;
  sy_error err;
  CU_ASSERT_EQUAL(check("name = \"x\";\n"
                        "source = { table = \"t\"; label = \"y\"; };\n"
                        "actors = (\n"
                        "  { id = \"source\"; actor = \"test.scale\"; } );\n",
                        &p, &err),
                  SY_EEXIST);
  ASSERT_CONTAINS(err.message, "pipeline.flow:4: duplicate id 'source'");
  ASSERT_CONTAINS(err.message, "(source at pipeline.flow:2)");
}

static void test_flow_unknown_actor(void) {
  problems p;
  sy_error err;
  CU_ASSERT_EQUAL(check("name = \"x\";\nactors = (\n"
                        "  { id = \"a\"; actor = \"test.scal\"; },\n"
                        "  { id = \"b\"; actor = \"nothing.like.it\"; } );\n",
                        &p, &err),
                  SY_ENOENT);
  CU_ASSERT_EQUAL(p.n, 2);
  ASSERT_CONTAINS(err.message, "pipeline.flow:3: a: unknown actor "
                               "'test.scal' (did you mean 'test.scale'?); "
                               "try: switchyard providers list actor");
  ASSERT_CONTAINS(p.e[1].message, "pipeline.flow:4: b: unknown actor "
                                  "'nothing.like.it'; try:");
}

static void test_flow_unknown_input(void) {
  problems p;
  sy_error err;
  CU_ASSERT_EQUAL(check("name = \"x\";\nactors = (\n"
                        "  { id = \"scale\"; actor = \"test.scale\"; },\n"
                        "  { id = \"b\"; actor = \"test.scale\";\n"
                        "    inputs = \"scael\"; } );\n"
                        "sink = { instance = \"o\"; input = \"qqqqqq\"; };\n",
                        &p, &err),
                  SY_ENOENT);
  CU_ASSERT_EQUAL(p.n, 2);
  ASSERT_CONTAINS(err.message, "pipeline.flow:5: b: unknown input 'scael' "
                               "(did you mean 'scale'?)");
  ASSERT_CONTAINS(p.e[1].message, "pipeline.flow:6: sink: unknown input "
                                  "'qqqqqq'");
}

static void test_flow_cycle(void) {
  problems p;
  sy_error err;
  sy_flow *flow = load_ok("name = \"x\";\nactors = (\n"
                          "  { id = \"in\"; actor = \"test.scale\"; },\n"
                          "  { id = \"b\"; actor = \"test.scale\"; "
                          "inputs = \"a\"; },\n"
                          "  { id = \"c\"; actor = \"test.scale\"; "
                          "inputs = \"b\"; },\n"
                          "  { id = \"a\"; actor = \"test.concat\"; "
                          "inputs = [\"in\", \"c\"]; },\n"
                          "  { id = \"after\"; actor = \"test.scale\"; "
                          "inputs = \"a\"; },\n"
                          "  { id = \"self\"; actor = \"test.scale\"; "
                          "inputs = \"self\"; }\n"
                          ");\n");
  memset(&p, 0, sizeof p);
  CU_ASSERT_EQUAL(sy__flow_validate(flow, cat, collect, &p, &err), SY_ECYCLE);
  CU_ASSERT_EQUAL(p.n, 2);
  ASSERT_CONTAINS(err.message, "pipeline.flow:4: cycle: b -> c -> a -> b");
  ASSERT_CONTAINS(p.e[1].message, "pipeline.flow:8: cycle: self -> self");
  CU_ASSERT_PTR_NULL(flow->order);
  sy__flow_free(flow);
}

static void test_flow_arity(void) {
  problems p;
  sy_error err;
  CU_ASSERT_EQUAL(check("name = \"x\";\nactors = (\n"
                        "  { id = \"a\"; actor = \"test.scale\"; },\n"
                        "  { id = \"b\"; actor = \"test.scale\";\n"
                        "    inputs = [\"a\", \"source\"]; },\n"
                        "  { id = \"c\"; actor = \"test.concat\"; inputs = [];"
                        " } );\n",
                        &p, &err),
                  SY_ECONFIG);
  CU_ASSERT_EQUAL(p.n, 2);
  ASSERT_CONTAINS(err.message, "pipeline.flow:5: b: actor test.scale takes 1 "
                               "input, got 2; try: switchyard providers help "
                               "actor.test.scale");
  ASSERT_CONTAINS(p.e[1].message, "pipeline.flow:6: c: actor test.concat "
                                  "takes at least 1 input, got 0; try: "
                                  "switchyard providers help "
                                  "actor.test.concat");
}

static void test_flow_output_index(void) {
  problems p;
  sy_error err;
  CU_ASSERT_EQUAL(check("name = \"x\";\nactors = (\n"
                        "  { id = \"sp\"; actor = \"test.split\"; },\n"
                        "  { id = \"a\"; actor = \"test.scale\"; "
                        "inputs = \"sp:2\"; },\n"
                        "  { id = \"b\"; actor = \"test.scale\"; "
                        "inputs = \"sp:1\"; },\n"
                        "  { id = \"c\"; actor = \"test.scale\"; "
                        "inputs = \"b:1\"; },\n"
                        "  { id = \"d\"; actor = \"test.scale\"; "
                        "inputs = \"source:1\"; } );\n",
                        &p, &err),
                  SY_ERANGE);
  CU_ASSERT_EQUAL(p.n, 3);
  ASSERT_CONTAINS(err.message, "pipeline.flow:4: a: input 'sp:2': actor sp "
                               "(test.split) has 2 outputs (sp:0..sp:1); "
                               "try: switchyard providers help "
                               "actor.test.split");
  ASSERT_CONTAINS(p.e[1].message, "pipeline.flow:6: c: input 'b:1': actor b "
                                  "(test.scale) has 1 output");
  ASSERT_CONTAINS(p.e[2].message, "pipeline.flow:7: d: input 'source:1'");
}

static void test_flow_unknown_param(void) {
  problems p;
  sy_error err;
  CU_ASSERT_EQUAL(check("name = \"x\";\nactors = (\n"
                        "  { id = \"model\"; actor = \"test.model\";\n"
                        "    params = { epochs = 2;\n"
                        "      epohcs = 3; }; } );\n",
                        &p, &err),
                  SY_ECONFIG);
  CU_ASSERT_EQUAL(p.n, 1);
  ASSERT_CONTAINS(err.message, "pipeline.flow:5: model.params.epohcs: "
                               "unknown parameter of test.model (did you "
                               "mean 'epochs'?); try: switchyard providers "
                               "help actor.test.model");
  /* An actor without options has no parameters at all. */
  CU_ASSERT_EQUAL(check("name = \"x\";\nactors = (\n"
                        "  { id = \"s\"; actor = \"test.split\";\n"
                        "    params = { ways = 3; }; } );\n",
                        &p, &err),
                  SY_ECONFIG);
  ASSERT_CONTAINS(err.message, "pipeline.flow:4: s.params.ways: unknown "
                               "parameter of test.split; try:");
}

static void test_flow_mistyped_param(void) {
  problems p;
  sy_error err;
  CU_ASSERT_EQUAL(check("name = \"x\";\nactors = (\n"
                        "  { id = \"model\"; actor = \"test.model\";\n"
                        "    params = {\n"
                        "      epochs = \"200\";\n" /* 5 */
                        "      rate = \"fast\";\n"  /* 6 */
                        "      verbose = 1;\n"      /* 7 */
                        "      size = 1.5;\n"       /* 8 */
                        "      timeout = true;\n"   /* 9 */
                        "      layers = 3;\n"       /* 10 */
                        "      path = 4;\n"         /* 11 */
                        "      label = [\"a\"];\n"  /* 12 */
                        "    }; },\n"
                        "  { id = \"s\"; actor = \"test.scale\";\n"
                        "    params = { mode = 1; }; }\n" /* 15 */
                        ");\n",
                        &p, &err),
                  SY_ETYPE);
  CU_ASSERT_EQUAL_FATAL(p.n, 9);
  ASSERT_CONTAINS(p.e[0].message, "pipeline.flow:5: model.params.epochs: "
                                  "expected an int, got a string; try: "
                                  "switchyard providers help "
                                  "actor.test.model");
  ASSERT_CONTAINS(p.e[1].message, "pipeline.flow:6: model.params.rate: "
                                  "expected a number (int or float), got a "
                                  "string");
  ASSERT_CONTAINS(p.e[2].message, "pipeline.flow:7: model.params.verbose: "
                                  "expected a bool");
  ASSERT_CONTAINS(p.e[3].message, "pipeline.flow:8: model.params.size: "
                                  "expected a size");
  ASSERT_CONTAINS(p.e[4].message, "pipeline.flow:9: model.params.timeout: "
                                  "expected a duration");
  ASSERT_CONTAINS(p.e[5].message, "pipeline.flow:10: model.params.layers: "
                                  "expected a list or a comma-separated "
                                  "string, got an int");
  ASSERT_CONTAINS(p.e[6].message, "pipeline.flow:11: model.params.path: "
                                  "expected a string, got an int");
  ASSERT_CONTAINS(p.e[7].message, "pipeline.flow:12: model.params.label: "
                                  "expected a string, got a list");
  ASSERT_CONTAINS(p.e[8].message, "pipeline.flow:15: s.params.mode: expected "
                                  "a string");
}

static void test_flow_param_range_and_enum(void) {
  problems p;
  sy_error err;
  int rc = check("name = \"x\";\nactors = (\n"
                 "  { id = \"s\"; actor = \"test.scale\";\n"
                 "    params = { n = 200;\n"
                 "      mode = \"fsat\"; }; },\n"
                 "  { id = \"m\"; actor = \"test.model\";\n"
                 "    params = { epochs = 0; size = \"12 parsecs\"; }; } );\n",
                 &p, &err);
  CU_ASSERT(rc < 0);
  CU_ASSERT_EQUAL_FATAL(p.n, 4);
  ASSERT_CONTAINS(p.e[0].message, "pipeline.flow:4: s.params.n: expected an "
                                  "int between 0 and 100, got '200'; try: "
                                  "switchyard providers help "
                                  "actor.test.scale");
  ASSERT_CONTAINS(p.e[1].message, "pipeline.flow:5: s.params.mode: ");
  ASSERT_CONTAINS(p.e[1].message, "did you mean 'fast'");
  ASSERT_CONTAINS(p.e[2].message, "pipeline.flow:7: m.params.epochs: ");
  ASSERT_CONTAINS(p.e[3].message, "pipeline.flow:7: m.params.size: ");
}

static void test_flow_missing_required_param(void) {
  problems p;
  sy_error err;
  CU_ASSERT_EQUAL(check("name = \"x\";\nactors = (\n"
                        "  { id = \"s\"; actor = \"test.scale\"; },\n"
                        "  { id = \"model\"; actor = \"test.model\"; } );\n",
                        &p, &err),
                  SY_ECONFIG);
  CU_ASSERT_EQUAL(p.n, 1);
  ASSERT_CONTAINS(err.message, "pipeline.flow:4: model: missing required "
                               "parameter 'epochs' (int: Passes over the "
                               "data.); try: switchyard providers help "
                               "actor.test.model");
}

static void test_flow_reports_every_problem(void) {
  problems p;
  sy_error err;
  int rc = check("name = \"x\";\nactors = (\n"
                 "  { id = \"a\"; actor = \"test.scale\"; inputs = \"zz\"; },\n"
                 "  { id = \"a\"; actor = \"test.nope\"; },\n"
                 "  { id = \"m\"; actor = \"test.model\"; } );\n",
                 &p, &err);
  CU_ASSERT_EQUAL_FATAL(p.n, 4);
  /* The first problem is the one returned. */
  CU_ASSERT_EQUAL(rc, SY_EEXIST);
  CU_ASSERT_EQUAL(err.code, SY_EEXIST);
  CU_ASSERT_STRING_EQUAL(err.message, p.e[0].message);
  ASSERT_CONTAINS(p.e[0].message, "pipeline.flow:4: duplicate id 'a'");
  ASSERT_CONTAINS(p.e[1].message, "pipeline.flow:4: a: unknown actor");
  ASSERT_CONTAINS(p.e[2].message, "pipeline.flow:3: a: unknown input 'zz'");
  ASSERT_CONTAINS(p.e[3].message, "pipeline.flow:5: m: missing required");
  /* Reporting is optional. */
  sy_flow *flow = load_ok("name = \"x\";\n"
                          "actors = ( { id = \"a\"; actor = \"q\"; } );\n");
  CU_ASSERT_EQUAL(sy__flow_validate(flow, cat, NULL, NULL, NULL), SY_ENOENT);
  sy__flow_free(flow);
}

/* ---- main --------------------------------------------------------------- */

static int suite_init(void) {
  sy_error err;
  if (sy_catalog_new(&cat) != 0)
    return -1;
  if (sy_catalog_add_static(cat, &test_plugin, "test_flow.c", &err) != 0) {
    fprintf(stderr, "test plugin refused: %s\n", err.message);
    return -1;
  }
  return 0;
}

static int suite_clean(void) {
  sy_catalog_free(cat);
  cat = NULL;
  return 0;
}

int main(void) {
  static const CU_TestInfo tests[] = {
#define T(f) {#f, f}
      T(test_flow_load_happy_path),
      T(test_flow_load_include),
      T(test_flow_include_error_names_fragment),
      T(test_flow_load_valid),
      T(test_flow_syntax_error),
      T(test_flow_missing_file),
      T(test_flow_missing_name_or_actors),
      T(test_flow_wrong_types),
      T(test_flow_unknown_keys),
      T(test_flow_invalid_id),
      T(test_flow_inputs_forms),
      T(test_flow_bad_output_syntax),
      T(test_flow_bad_params),
      T(test_flow_sink_forms),
      T(test_flow_long_list),
      T(test_flow_validate_ok),
      T(test_flow_order_ties_keep_file_order),
      T(test_flow_duplicate_id),
      T(test_flow_default_input_with_duplicate_id),
      T(test_flow_source_id_is_duplicate),
      T(test_flow_unknown_actor),
      T(test_flow_unknown_input),
      T(test_flow_cycle),
      T(test_flow_arity),
      T(test_flow_output_index),
      T(test_flow_unknown_param),
      T(test_flow_mistyped_param),
      T(test_flow_param_range_and_enum),
      T(test_flow_missing_required_param),
      T(test_flow_reports_every_problem),
      T(test_flow_fast_parser_matches_libconfig),
#undef T
      CU_TEST_INFO_NULL,
  };
  return fx_run_suite("flow", suite_init, suite_clean, tests);
}
