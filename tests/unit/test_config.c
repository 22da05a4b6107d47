/*
 * test_config.c - the platform config: layers and origins, the section
 * rules, -o overrides, validation against a catalog, and instances.
 *
 * The providers below are linked into the test and added with
 * sy_catalog_add_static(); see fake_catalog.c for why the catalog here is
 * an in-memory one.
 */
#include "internal.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fixture.h"

/* ---- test providers ------------------------------------------------------ */

typedef struct dask_config {
  int64_t workers;
  int mode;
  const char *root;
  const char *label;
  int64_t timeout;
  uint64_t memory;
  double rate;
  bool verbose;
  const char *const *tags;
  const char *unset; /* no default, not required: stays NULL */
} dask_config;

static const char *const modes[] = {"threads", "processes", NULL};

static const sy_option dask_options[] = {
    {"workers", SY_OPT_INT, 0, "0", "0", "1024", NULL,
     offsetof(dask_config, workers), "Worker count; 0 = one per core."},
    {"mode", SY_OPT_ENUM, 0, "threads", NULL, NULL, modes,
     offsetof(dask_config, mode), "Threads or processes."},
    {"root", SY_OPT_PATH, 0, "~/.cache/dask", NULL, NULL, NULL,
     offsetof(dask_config, root), "Scratch folder."},
    {"label", SY_OPT_STRING, 0, "run", NULL, NULL, NULL,
     offsetof(dask_config, label), "A label."},
    {"timeout", SY_OPT_DURATION, 0, "30s", NULL, NULL, NULL,
     offsetof(dask_config, timeout), "Per-step timeout."},
    {"memory", SY_OPT_SIZE, 0, "1G", NULL, NULL, NULL,
     offsetof(dask_config, memory), "Memory limit."},
    {"rate", SY_OPT_DOUBLE, 0, "0.5", "0", "1", NULL,
     offsetof(dask_config, rate), "A rate."},
    {"verbose", SY_OPT_BOOL, 0, "no", NULL, NULL, NULL,
     offsetof(dask_config, verbose), "Talk more."},
    {"tags", SY_OPT_LIST, 0, "a,b", NULL, NULL, NULL,
     offsetof(dask_config, tags), "Tags."},
    {"unset", SY_OPT_STRING, 0, NULL, NULL, NULL, NULL,
     offsetof(dask_config, unset), "Nothing by default."},
    SY_OPTION_END};

/* What create() saw, so tests can check the config it was given. */
static int creates, destroys;

typedef struct dask_self {
  int64_t workers;
} dask_self;

static int dask_create(const void *config, void **self, sy_error *err) {
  const dask_config *c = config;
  dask_self *s = malloc(sizeof *s);
  if (!s)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  s->workers = c->workers;
  *self = s;
  creates++;
  return 0;
}

static void dask_destroy(void *self) {
  free(self);
  destroys++;
}

/* The catalog checks ops before it accepts a provider; none is called. */
static const sy_runner_ops runner_ops = {.size = sizeof(sy_runner_ops)};
static const sy_registry_ops registry_ops = {.size = sizeof(sy_registry_ops)};

static const sy_provider dask = {sizeof(sy_provider),
                                 SY_KIND_RUNNER,
                                 "dask",
                                 "1.0.0",
                                 "A work-stealing pool.",
                                 dask_options,
                                 sizeof(dask_config),
                                 dask_create,
                                 dask_destroy,
                                 &runner_ops};

static const sy_provider inline_runner = {sizeof(sy_provider),
                                          SY_KIND_RUNNER,
                                          "inline",
                                          "1.0.0",
                                          "Runs inline.",
                                          NULL,
                                          0,
                                          NULL,
                                          NULL,
                                          &runner_ops};

typedef struct file_config {
  const char *path;
} file_config;

static const sy_option file_options[] = {
    {"path", SY_OPT_PATH, SY_OPT_REQUIRED, NULL, NULL, NULL, NULL,
     offsetof(file_config, path), "Root folder of the registry."},
    SY_OPTION_END};

static const sy_provider file_registry = {
    sizeof(sy_provider), SY_KIND_REGISTRY,    "file", "1.0.0", "A folder tree.",
    file_options,        sizeof(file_config), NULL,   NULL,    &registry_ops};

static int broken_create(const void *config, void **self, sy_error *err) {
  (void)config;
  (void)self;
  return sy_error_set(err, SY_EIO, "cannot reach the scheduler");
}

static void broken_destroy(void *self) {
  (void)self;
  destroys++;
}

static const sy_provider broken = {
    sizeof(sy_provider), SY_KIND_RUNNER, "broken", "1.0.0",
    "Always fails.",     NULL,           0,        broken_create,
    broken_destroy,      &runner_ops};

SY_PLUGIN_DEFINE("test-plugin", "1.0.0", &dask, &inline_runner, &file_registry,
                 &broken)

static sy_catalog *cat;

static int setup(void) {
  sy_error err;
  if (sy_catalog_new(&cat) != 0)
    return -1;
  if (sy_catalog_add_static(cat, sy_plugin_entry(), "(test)", &err) != 0) {
    fprintf(stderr, "add_static: %s\n", err.message);
    return -1;
  }
  return 0;
}

static int teardown(void) {
  sy_catalog_free(cat);
  return 0;
}

/* ---- helpers ------------------------------------------------------------ */

static sy_config *config_from(const char *text) {
  sy_config *cfg = NULL;
  sy_error err;
  CU_ASSERT_EQUAL_FATAL(sy_config_new(&cfg), 0);
  int rc = sy_config_load_string(cfg, text, "a.ini", &err);
  if (rc != 0)
    fprintf(stderr, "\n  load: %s\n", err.message);
  CU_ASSERT_EQUAL(rc, 0);
  return cfg;
}

/* Validates text (plus optional -o), expecting exactly `want`. */
static void invalid(const char *text, const char *override, const char *want) {
  sy_config *cfg = config_from(text);
  sy_error err;
  sy_error_clear(&err);
  if (override)
    CU_ASSERT_EQUAL(sy_config_override(cfg, override, &err), 0);
  int rc = sy_config_validate(cfg, cat, &err);
  CU_ASSERT_EQUAL(rc, SY_ECONFIG);
  CU_ASSERT_EQUAL(err.code, SY_ECONFIG);
  if (strcmp(err.message, want) != 0)
    fprintf(stderr, "\n  got:  %s\n  want: %s\n", err.message, want);
  CU_ASSERT_STRING_EQUAL(err.message, want);
  sy_config_free(cfg);
}

static void expect_value(const sy_config *cfg, const char *section,
                         const char *key, const char *value,
                         const char *origin) {
  const char *o = NULL;
  const char *v = sy_config_get(cfg, section, key, &o);
  CU_ASSERT_PTR_NOT_NULL_FATAL(v);
  CU_ASSERT_STRING_EQUAL(v, value);
  CU_ASSERT_STRING_EQUAL(o, origin);
}

/* ---- tests -------------------------------------------------------------- */

static void test_config_defaults(void) {
  sy_config *cfg = NULL;
  CU_ASSERT_EQUAL_FATAL(sy_config_new(&cfg), 0);
  expect_value(cfg, "PLATFORM", "runner", "inline", "default");
  expect_value(cfg, "platform", "log_level", "info", "default");
  expect_value(cfg, "PLATFORM", "plugin_path", "", "default");
  CU_ASSERT_EQUAL(sy_config_section_count(cfg), 1);
  CU_ASSERT_STRING_EQUAL(sy_config_section_at(cfg, 0), "PLATFORM");
  sy_error err;
  CU_ASSERT_EQUAL(sy_config_validate(cfg, cat, &err), 0);
  const sy_option *po = sy__platform_options();
  CU_ASSERT_PTR_NOT_NULL(sy__opt_find(po, "log_level"));
  CU_ASSERT_EQUAL(sy__opt_check_table(po, "platform", &err), 0);
  sy_config_free(cfg);
}

static void test_config_layers_and_origins(void) {
  sy_config *cfg = config_from("[PLATFORM]\nrunner = parallel\n\n"
                               "[RUNNER.parallel]\nprovider = dask\n"
                               "workers = 4\nmode = threads\n");
  sy_error err;
  CU_ASSERT_EQUAL(sy_config_load_string(cfg,
                                        "[runner.parallel]\nworkers = 8\n"
                                        "[REGISTRY.local]\nprovider = file\n"
                                        "path = /r\n",
                                        "b.ini", &err),
                  0);
  CU_ASSERT_EQUAL(
      sy_config_override(cfg, "RUNNER.parallel.mode=processes", &err), 0);
  CU_ASSERT_EQUAL(sy_config_override(cfg, "platform.log_level = debug", &err),
                  0);
  expect_value(cfg, "PLATFORM", "runner", "parallel", "a.ini:2");
  expect_value(cfg, "PLATFORM", "storage", "cache", "default");
  expect_value(cfg, "PLATFORM", "log_level", "debug", "-o");
  expect_value(cfg, "RUNNER.parallel", "provider", "dask", "a.ini:5");
  expect_value(cfg, "runner.parallel", "workers", "8", "b.ini:2");
  expect_value(cfg, "Runner.parallel", "mode", "processes", "-o");
  expect_value(cfg, "REGISTRY.local", "path", "/r", "b.ini:5");
  CU_ASSERT_PTR_NULL(sy_config_get(cfg, "RUNNER.Parallel", "workers", NULL));
  CU_ASSERT_PTR_NULL(sy_config_get(cfg, "RUNNER.parallel", "nope", NULL));
  /* Sections and keys in first-seen order. */
  CU_ASSERT_EQUAL(sy_config_section_count(cfg), 3);
  CU_ASSERT_STRING_EQUAL(sy_config_section_at(cfg, 1), "RUNNER.parallel");
  CU_ASSERT_STRING_EQUAL(sy_config_section_at(cfg, 2), "REGISTRY.local");
  CU_ASSERT_PTR_NULL(sy_config_section_at(cfg, 3));
  CU_ASSERT_EQUAL(sy_config_key_count(cfg, "RUNNER.parallel"), 3);
  CU_ASSERT_STRING_EQUAL(sy_config_key_at(cfg, "RUNNER.parallel", 0),
                         "provider");
  CU_ASSERT_STRING_EQUAL(sy_config_key_at(cfg, "RUNNER.parallel", 2), "mode");
  CU_ASSERT_PTR_NULL(sy_config_key_at(cfg, "RUNNER.parallel", 3));
  CU_ASSERT_EQUAL(sy_config_key_count(cfg, "FEED.none"), 0);
  CU_ASSERT_EQUAL(sy_config_validate(cfg, cat, &err), 0);
  /* Explicit origins through sy_config_set. */
  CU_ASSERT_EQUAL(
      sy_config_set(cfg, "RUNNER.parallel", "workers", "2", "flow.sy:3", &err),
      0);
  expect_value(cfg, "RUNNER.parallel", "workers", "2", "flow.sy:3");
  sy_config_free(cfg);
}

static void test_config_duplicate_key(void) {
  sy_config *cfg = NULL;
  sy_error err;
  CU_ASSERT_EQUAL_FATAL(sy_config_new(&cfg), 0);
  int rc = sy_config_load_string(cfg,
                                 "[RUNNER.p]\nworkers = 1\n[PLATFORM]\n"
                                 "runner = p\n[RUNNER.p]\nworkers = 2\n",
                                 "dup.ini", &err);
  CU_ASSERT_EQUAL(rc, SY_ECONFIG);
  CU_ASSERT_STRING_EQUAL(err.message, "dup.ini:6: key 'workers' set twice "
                                      "in [RUNNER.p] (first at line 2)");
  /* A failed file leaves nothing behind. */
  CU_ASSERT_EQUAL(sy_config_section_count(cfg), 1);
  expect_value(cfg, "PLATFORM", "runner", "inline", "default");
  /* A repeated header merges; the same key in two files is layering. */
  CU_ASSERT_EQUAL(sy_config_load_string(cfg,
                                        "[RUNNER.p]\nworkers = 1\n[PLATFORM]\n"
                                        "[runner.p]\nmode = threads\n",
                                        "a.ini", &err),
                  0);
  CU_ASSERT_EQUAL(sy_config_key_count(cfg, "RUNNER.p"), 2);
  CU_ASSERT_EQUAL(
      sy_config_load_string(cfg, "[RUNNER.p]\nworkers = 3\n", "b.ini", &err),
      0);
  expect_value(cfg, "RUNNER.p", "workers", "3", "b.ini:2");
  sy_config_free(cfg);
}

static void test_config_section_names(void) {
  sy_config *cfg = NULL;
  sy_error err;
  CU_ASSERT_EQUAL_FATAL(sy_config_new(&cfg), 0);
  struct {
    const char *text, *want;
  } bad[] = {
      {"[PLATFORM]\nrunner = x\n\n[RUNER.x]\n",
       "s.ini:4: unknown section kind 'RUNER' in [RUNER.x] (did you mean "
       "'RUNNER'?); kinds: PLATFORM, RUNNER, FEED, SINK, REGISTRY, STORAGE, "
       "ACTOR"},
      {"[widget.x]\n", "s.ini:1: unknown section kind 'widget' in [widget.x]; "
                       "kinds: PLATFORM, RUNNER, FEED, SINK, REGISTRY, "
                       "STORAGE, ACTOR"},
      {"[PLATFROM]\n", "s.ini:1: unknown section kind 'PLATFROM' in "
                       "[PLATFROM] (did you mean 'PLATFORM'?); kinds: "
                       "PLATFORM, RUNNER, FEED, SINK, REGISTRY, STORAGE, "
                       "ACTOR"},
      {"[RUNNER]\n",
       "s.ini:1: [RUNNER] needs an instance name, as in [RUNNER.name]"},
      {"[PLATFORM.x]\n",
       "s.ini:1: [PLATFORM] takes no instance name, got [PLATFORM.x]"},
      {"[RUNNER.a.b]\n", "s.ini:1: invalid instance name 'a.b' in "
                         "[RUNNER.a.b]: use letters, digits, '_' and '-' "
                         "(no dots)"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    sy_error_clear(&err);
    CU_ASSERT_EQUAL(sy_config_load_string(cfg, bad[i].text, "s.ini", &err),
                    SY_ECONFIG);
    if (strcmp(err.message, bad[i].want) != 0)
      fprintf(stderr, "\n  got:  %s\n  want: %s\n", err.message, bad[i].want);
    CU_ASSERT_STRING_EQUAL(err.message, bad[i].want);
  }
  /* Syntax errors come through with the reader's file:line. */
  CU_ASSERT_EQUAL(sy_config_load_string(cfg, "[s\n", "s.ini", &err),
                  SY_ESYNTAX);
  CU_ASSERT_EQUAL(strncmp(err.message, "s.ini:1: ", 9), 0);
  CU_ASSERT_EQUAL(sy_config_section_count(cfg), 1);
  sy_config_free(cfg);
}

static void test_config_override_forms(void) {
  sy_config *cfg = NULL;
  sy_error err;
  CU_ASSERT_EQUAL_FATAL(sy_config_new(&cfg), 0);
  CU_ASSERT_EQUAL(sy_config_override(cfg, "runner.fast.provider=inline", &err),
                  0);
  expect_value(cfg, "RUNNER.fast", "provider", "inline", "-o");
  CU_ASSERT_EQUAL(sy_config_override(cfg, "FEED.data.sep=a=b", &err), 0);
  expect_value(cfg, "FEED.data", "sep", "a=b", "-o");
  CU_ASSERT_EQUAL(sy_config_override(cfg, "PLATFORM.plugin_path=", &err), 0);
  expect_value(cfg, "PLATFORM", "plugin_path", "", "-o");
  const char *bad[] = {"RUNNER.fast.workers", "workers=3", ".workers=3",
                       "RUNNER.fast.=3"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    CU_ASSERT_EQUAL(sy_config_override(cfg, bad[i], &err), SY_ECONFIG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "expected SECTION.KEY=VALUE"));
  }
  CU_ASSERT_EQUAL(sy_config_override(cfg, "RUNER.fast.workers=3", &err),
                  SY_ECONFIG);
  CU_ASSERT_EQUAL(strncmp(err.message,
                          "-o: unknown section kind 'RUNER' in [RUNER.fast] "
                          "(did you mean 'RUNNER'?)",
                          60),
                  0);
  CU_ASSERT_EQUAL(sy_config_override(cfg, "RUNNER.a.b.workers=3", &err),
                  SY_ECONFIG);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "invalid instance name 'a.b'"));
  CU_ASSERT_EQUAL(sy_config_override(cfg, NULL, &err), SY_EINVAL);
  sy_config_free(cfg);
}

static void test_config_unknown_provider(void) {
  invalid("[RUNNER.parallel]\nprovider = dsak\n", NULL,
          "a.ini:2: unknown runner provider 'dsak' for [RUNNER.parallel] "
          "(did you mean 'dask'?); try: switchyard providers list");
  /* The provider defaults to the instance name; the header is blamed. */
  invalid("\n[RUNNER.daks]\n", NULL,
          "a.ini:2: unknown runner provider 'daks' for [RUNNER.daks] (did "
          "you mean 'dask'?); try: switchyard providers list");
  /* Suggestions come from providers of the same kind only. */
  invalid("[FEED.dask]\n", NULL,
          "a.ini:1: unknown feed provider 'dask' for [FEED.dask]; try: "
          "switchyard providers list");
}

static void test_config_unknown_key(void) {
  invalid("[RUNNER.parallel]\nprovider = dask\nwrokers = 4\n", NULL,
          "a.ini:3: unknown key 'wrokers' in [RUNNER.parallel] (did you "
          "mean 'workers'?); try: switchyard providers help runner.parallel");
  invalid("[RUNNER.parallel]\nprovider = dask\ncolour = red\n", NULL,
          "a.ini:3: unknown key 'colour' in [RUNNER.parallel]; try: "
          "switchyard providers help runner.parallel");
  invalid("[PLATFORM]\nrunnr = x\n", NULL,
          "a.ini:2: unknown key 'runnr' in [PLATFORM] (did you mean "
          "'runner'?); keys: plugin_path, runner, registry, storage, feed, "
          "sink, log_level, cache, serve_listen");
}

static void test_config_bad_values(void) {
  invalid("[RUNNER.parallel]\nprovider = dask\nworkers = many\n", NULL,
          "a.ini:3: [RUNNER.parallel] workers: expected an int between 0 "
          "and 1024, got 'many'; try: switchyard providers help "
          "runner.parallel");
  invalid("[RUNNER.parallel]\nprovider = dask\nworkers = 2000\n", NULL,
          "a.ini:3: [RUNNER.parallel] workers: expected an int between 0 "
          "and 1024, got '2000'; try: switchyard providers help "
          "runner.parallel");
  invalid("[RUNNER.parallel]\nprovider = dask\nmode = thread\n", NULL,
          "a.ini:3: [RUNNER.parallel] mode: expected one of threads, "
          "processes; got 'thread' (did you mean 'threads'?); try: "
          "switchyard providers help runner.parallel");
  invalid("[RUNNER.dask]\ntimeout = soon\n", NULL,
          "a.ini:2: [RUNNER.dask] timeout: expected a duration such as "
          "250ms, 5s, 2m; got 'soon'; try: switchyard providers help "
          "runner.dask");
  invalid("[PLATFORM]\nlog_level = loud\n", NULL,
          "a.ini:2: [PLATFORM] log_level: expected one of error, warn, info, "
          "debug; got 'loud'; keys: plugin_path, runner, registry, storage, "
          "feed, sink, log_level, cache, serve_listen");
  /* A value from -o is blamed on -o. */
  invalid("[RUNNER.parallel]\nprovider = dask\nworkers = 4\n",
          "RUNNER.parallel.workers=-3",
          "-o: [RUNNER.parallel] workers: expected an int between 0 and "
          "1024, got '-3'; try: switchyard providers help runner.parallel");
}

static void test_config_missing_required(void) {
  invalid("[PLATFORM]\nregistry = local\n\n[REGISTRY.local]\n"
          "provider = file\n",
          NULL,
          "a.ini:4: [REGISTRY.local] missing required key 'path' (Root "
          "folder of the registry.); try: switchyard providers help "
          "registry.local");
  /* A section made by -o alone is blamed on -o. */
  sy_config *cfg = NULL;
  sy_error err;
  CU_ASSERT_EQUAL_FATAL(sy_config_new(&cfg), 0);
  CU_ASSERT_EQUAL(sy_config_override(cfg, "REGISTRY.file.x=1", &err), 0);
  CU_ASSERT_EQUAL(sy_config_validate(cfg, cat, &err), SY_ECONFIG);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "-o: unknown key 'x'"));
  sy_config_free(cfg);
  /* Without a catalog only [PLATFORM] is checked. */
  cfg = config_from("[RUNNER.nothing]\nwhatever = 1\n");
  CU_ASSERT_EQUAL(sy_config_validate(cfg, NULL, &err), 0);
  sy_config_free(cfg);
}

static void test_config_unset_variable(void) {
  unsetenv("SY_TEST_UNSET");
  invalid("[RUNNER.dask]\nlabel = ${SY_TEST_UNSET}\n", NULL,
          "a.ini:2: [RUNNER.dask] label: environment variable "
          "'SY_TEST_UNSET' is not set (used in '${SY_TEST_UNSET}'); try: "
          "switchyard providers help runner.dask");
}

static void test_config_instance_fills_struct(void) {
  char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
  setenv("HOME", "/home/ada", 1);
  setenv("SY_TEST_WORKERS", "6", 1);
  setenv("SY_TEST_LABEL", "nightly", 1);
  sy_config *cfg = config_from("[RUNNER.parallel]\nprovider = dask\n"
                               "workers = ${SY_TEST_WORKERS}\n"
                               "mode = processes\nroot = ~/scratch\n"
                               "label = ${SY_TEST_LABEL}-$$\n"
                               "timeout = 1m30s\nmemory = 2G\nrate = 0.25\n"
                               "verbose = on\ntags = x, y ,z\n");
  /* ${VAR} stays raw in the config and is expanded when parsed. */
  expect_value(cfg, "RUNNER.parallel", "workers", "${SY_TEST_WORKERS}",
               "a.ini:3");
  sy_instance *inst = NULL;
  sy_error err;
  int before = creates;
  int rc =
      sy_instance_create(cfg, cat, SY_KIND_RUNNER, "parallel", &inst, &err);
  if (rc != 0)
    fprintf(stderr, "\n  create: %s\n", err.message);
  CU_ASSERT_EQUAL_FATAL(rc, 0);
  CU_ASSERT_EQUAL(creates, before + 1);
  CU_ASSERT_PTR_EQUAL(sy_instance_provider(inst), &dask);
  CU_ASSERT_STRING_EQUAL(sy_instance_name(inst), "parallel");
  const dask_config *c = sy_instance_config(inst);
  CU_ASSERT_EQUAL(c->workers, 6);
  CU_ASSERT_EQUAL(c->mode, 1);
  CU_ASSERT_STRING_EQUAL(c->root, "/home/ada/scratch");
  CU_ASSERT_STRING_EQUAL(c->label, "nightly-$");
  CU_ASSERT_EQUAL(c->timeout, 90000000000);
  CU_ASSERT_EQUAL(c->memory, 2ull << 30);
  CU_ASSERT_DOUBLE_EQUAL(c->rate, 0.25, 1e-12);
  CU_ASSERT_TRUE(c->verbose);
  CU_ASSERT_STRING_EQUAL(c->tags[0], "x");
  CU_ASSERT_STRING_EQUAL(c->tags[1], "y");
  CU_ASSERT_STRING_EQUAL(c->tags[2], "z");
  CU_ASSERT_PTR_NULL(c->tags[3]);
  CU_ASSERT_PTR_NULL(c->unset);
  const dask_self *self = sy_instance_self(inst);
  CU_ASSERT_PTR_NOT_NULL_FATAL(self);
  CU_ASSERT_EQUAL(self->workers, 6);
  int d = destroys;
  sy_instance_destroy(inst);
  CU_ASSERT_EQUAL(destroys, d + 1);
  sy_config_free(cfg);
  if (home)
    setenv("HOME", home, 1);
  free(home);
}

static void test_config_instance_defaults(void) {
  char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
  setenv("HOME", "/home/bob", 1);
  sy_config *cfg = config_from("[RUNNER.empty]\nprovider = dask\n");
  sy_error err;
  sy_instance *inst = NULL;
  /* A section with no keys, and a provider named directly (no section). */
  const char *names[] = {"empty", "dask"};
  for (size_t i = 0; i < 2; i++) {
    CU_ASSERT_EQUAL_FATAL(
        sy_instance_create(cfg, cat, SY_KIND_RUNNER, names[i], &inst, &err), 0);
    const dask_config *c = sy_instance_config(inst);
    CU_ASSERT_EQUAL(c->workers, 0);
    CU_ASSERT_EQUAL(c->mode, 0);
    CU_ASSERT_STRING_EQUAL(c->root, "/home/bob/.cache/dask");
    CU_ASSERT_STRING_EQUAL(c->label, "run");
    CU_ASSERT_EQUAL(c->timeout, 30000000000);
    CU_ASSERT_EQUAL(c->memory, 1ull << 30);
    CU_ASSERT_FALSE(c->verbose);
    CU_ASSERT_STRING_EQUAL(c->tags[1], "b");
    sy_instance_destroy(inst);
  }
  /* A provider with no options and no create: self stays NULL. */
  CU_ASSERT_EQUAL_FATAL(
      sy_instance_create(cfg, cat, SY_KIND_RUNNER, "inline", &inst, &err), 0);
  CU_ASSERT_PTR_NULL(sy_instance_self(inst));
  CU_ASSERT_PTR_NOT_NULL(sy_instance_config(inst));
  sy_instance_destroy(inst);
  sy_instance_destroy(NULL);
  sy_config_free(cfg);
  if (home)
    setenv("HOME", home, 1);
  free(home);
}

static void test_config_instance_errors(void) {
  sy_config *cfg = config_from("[RUNNER.fail]\nprovider = broken\n"
                               "[RUNNER.bad]\nprovider = dask\n"
                               "workers = 9999\n"
                               "[REGISTRY.local]\nprovider = file\n");
  sy_error err;
  sy_instance *inst = (sy_instance *)&err; /* must be reset to NULL */
  int d = destroys;
  CU_ASSERT_EQUAL(
      sy_instance_create(cfg, cat, SY_KIND_RUNNER, "fail", &inst, &err),
      SY_EIO);
  CU_ASSERT_PTR_NULL(inst);
  CU_ASSERT_STRING_EQUAL(err.message,
                         "runner.fail: cannot reach the scheduler");
  CU_ASSERT_EQUAL(destroys, d); /* no destroy after a failed create */
  CU_ASSERT_EQUAL(
      sy_instance_create(cfg, cat, SY_KIND_RUNNER, "bad", &inst, &err),
      SY_ECONFIG);
  CU_ASSERT_PTR_NULL(inst);
  CU_ASSERT_EQUAL(strncmp(err.message,
                          "a.ini:5: [RUNNER.bad] workers: expected an int", 46),
                  0);
  CU_ASSERT_EQUAL(
      sy_instance_create(cfg, cat, SY_KIND_REGISTRY, "local", &inst, &err),
      SY_ECONFIG);
  CU_ASSERT_PTR_NOT_NULL(
      strstr(err.message, "a.ini:6: [REGISTRY.local] missing required key"));
  /* No section and no provider of that name. */
  CU_ASSERT_EQUAL(
      sy_instance_create(cfg, cat, SY_KIND_RUNNER, "fial", &inst, &err),
      SY_ECONFIG);
  CU_ASSERT_STRING_EQUAL(err.message,
                         "unknown runner instance 'fial': no [RUNNER.fial] "
                         "section and no runner provider of that name (did "
                         "you mean 'fail'?); try: switchyard providers list");
  /* A required key with no section at all. */
  CU_ASSERT_EQUAL(
      sy_instance_create(cfg, cat, SY_KIND_REGISTRY, "file", &inst, &err),
      SY_ECONFIG);
  CU_ASSERT_PTR_NOT_NULL(
      strstr(err.message, "[REGISTRY.file] missing required key 'path'"));
  /* err may be NULL. */
  CU_ASSERT_EQUAL(
      sy_instance_create(cfg, cat, SY_KIND_RUNNER, "fail", &inst, NULL),
      SY_EIO);
  sy_config_free(cfg);
}

static void test_config_load_file(void) {
  sy_config *cfg = NULL;
  sy_error err;
  CU_ASSERT_EQUAL_FATAL(sy_config_new(&cfg), 0);
  CU_ASSERT_EQUAL(
      sy_config_load_file(cfg, "/nonexistent/sy/switchyard.ini", 1, &err), 0);
  CU_ASSERT_EQUAL(
      sy_config_load_file(cfg, "/nonexistent/sy/switchyard.ini", 0, &err),
      SY_ENOENT);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "/nonexistent/sy/switchyard.ini"));
  char path[] = "/tmp/sy_test_config_XXXXXX";
  int fd = mkstemp(path);
  CU_ASSERT_FATAL(fd >= 0);
  static const char text[] = "[PLATFORM]\r\nrunner = fast\r\nfeed = x\0y\n";
  CU_ASSERT_EQUAL(write(fd, text, 27), 27); /* up to the CRLF after line 2 */
  CU_ASSERT_EQUAL(sy_config_load_file(cfg, path, 0, &err), 0);
  char want[64];
  snprintf(want, sizeof want, "%s:2", path);
  expect_value(cfg, "PLATFORM", "runner", "fast", want);
  /* The rest, with its NUL byte, is refused rather than cut short. */
  CU_ASSERT_EQUAL(write(fd, text + 27, sizeof text - 1 - 27),
                  (ssize_t)(sizeof text - 1 - 27));
  close(fd);
  CU_ASSERT_EQUAL(sy_config_load_file(cfg, path, 0, &err), SY_ESYNTAX);
  snprintf(want, sizeof want, "%s:3: NUL byte in line", path);
  CU_ASSERT_STRING_EQUAL(err.message, want);
  unlink(path);
  CU_ASSERT_EQUAL(sy_config_load_file(cfg, "/", 0, &err), SY_EIO);
  sy_config_free(cfg);
}

int main(void) {
  static const CU_TestInfo tests[] = {
      {"test_config_defaults", test_config_defaults},
      {"test_config_layers_and_origins", test_config_layers_and_origins},
      {"test_config_duplicate_key", test_config_duplicate_key},
      {"test_config_section_names", test_config_section_names},
      {"test_config_override_forms", test_config_override_forms},
      {"test_config_unknown_provider", test_config_unknown_provider},
      {"test_config_unknown_key", test_config_unknown_key},
      {"test_config_bad_values", test_config_bad_values},
      {"test_config_missing_required", test_config_missing_required},
      {"test_config_unset_variable", test_config_unset_variable},
      {"test_config_instance_fills_struct", test_config_instance_fills_struct},
      {"test_config_instance_defaults", test_config_instance_defaults},
      {"test_config_instance_errors", test_config_instance_errors},
      {"test_config_load_file", test_config_load_file},
      CU_TEST_INFO_NULL,
  };
  return fx_run_suite("config", setup, teardown, tests);
}
