/*
 * fuzz_flow.c - libFuzzer target for sy__flow_load_string() and
 * sy__flow_validate().
 *
 * Built and run by tests/fuzz/run.sh from the `sources:` and `libs:`
 * lines below (the whole core: the loader now needs most of it).
 *
 * Each input is read as flow text; whatever loads is validated against a
 * catalog with two static actors (one with a ranged int and an enum, one
 * variadic with two outputs), so the checks, the cycle naming and the
 * order computation all see arbitrary graphs. Errors must be well-formed
 * ("NAME:LINE: ..."), an accepted flow must have a complete order, and
 * nothing may leak on any path.
 */
// clang-format off
// sources: core/*.c services/*.c
// libs: -lconfig -ljansson -ldl -lxxhash -lm -lpthread
// clang-format on
#include "flow.h"

#include <stdlib.h>
#include <string.h>

#include "switchyard/actor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/* libconfig 1.5's scanner leaks its string buffer on some syntax errors
 * (allocated and lost inside libconfig.so); that is not ours to fix, and
 * none of our allocations has a libconfig frame on its stack. */
const char *__lsan_default_suppressions(void) {
  return "leak:libconfig.so\n";
}

static int apply(void *self, const sy_value *const *in, size_t n_in,
                 sy_value **out, sy_error *err) {
  (void)self, (void)in, (void)n_in, (void)out;
  return sy_error_set(err, SY_ENOTSUP, "fuzz");
}

typedef struct a_cfg {
  int64_t n;
  int mode;
} a_cfg;
static const char *const modes[] = {"x", "y", NULL};
static const sy_option a_opts[] = {
    {"n", SY_OPT_INT, 0, "1", "0", "9", NULL, offsetof(a_cfg, n), "N."},
    {"mode", SY_OPT_ENUM, 0, "x", NULL, NULL, modes, offsetof(a_cfg, mode),
     "Mode."},
    SY_OPTION_END};
static const sy_actor_ops a_ops = {
    sizeof(sy_actor_ops), 1, 1, 1, 0, apply, NULL, NULL, NULL, NULL};
static const sy_provider a = {
    sizeof(sy_provider), SY_KIND_ACTOR, "a",  "1",   "A.", a_opts,
    sizeof(a_cfg),       NULL,          NULL, &a_ops};
static const sy_actor_ops b_ops = {sizeof(sy_actor_ops),
                                   0,
                                   SY_ARITY_MANY,
                                   2,
                                   0,
                                   apply,
                                   NULL,
                                   NULL,
                                   NULL,
                                   NULL};
static const sy_provider b = {sizeof(sy_provider),
                              SY_KIND_ACTOR,
                              "b",
                              "1",
                              "B.",
                              NULL,
                              0,
                              NULL,
                              NULL,
                              &b_ops};
static const sy_provider *const providers[] = {&a, &b, NULL};
static const sy_plugin plugin = {
    SY_ABI_MAJOR,       SY_ABI_MINOR, (uint32_t)sizeof(sy_plugin),
    SY_BUILD_SIGNATURE, "fuzz",       "1",
    providers};

static sy_catalog *catalog(void) {
  static sy_catalog *cat;
  if (!cat && (sy_catalog_new(&cat) != 0 ||
               sy_catalog_add_static(cat, &plugin, "fuzz", NULL) != 0))
    abort();
  return cat;
}

static void well_formed(const sy_error *e) {
  if (e->code >= 0 || strncmp(e->message, "fuzz.flow:", 10) != 0)
    abort();
}

static void on_problem(void *ud, const sy_error *problem) {
  (void)ud;
  well_formed(problem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  if (!text)
    return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  sy_flow *flow = NULL;
  sy_error err;
  int rc = sy__flow_load_string(text, "fuzz.flow", &flow, &err);
  if (rc != 0) {
    /* Syntax errors inside an @include name the included file. */
    if (rc != SY_ENOMEM && rc != SY_ESYNTAX)
      well_formed(&err);
  } else {
    rc = sy__flow_validate(flow, catalog(), on_problem, NULL, &err);
    if (rc == 0 && !flow->order)
      abort();
    if (rc != 0 && rc != SY_ENOMEM)
      well_formed(&err);
    sy__flow_free(flow);
  }
  free(text);
  return 0;
}
