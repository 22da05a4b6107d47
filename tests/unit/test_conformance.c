/*
 * test_conformance.c - every provider in the build's plugins.d passes the
 * same checks: it loads without a problem, its descriptor and option table
 * are valid, every option has help, every default parses, and an instance
 * made from the defaults (plus a stand-in for each required option) can be
 * created and destroyed. Under ASan/valgrind the last check is also a leak
 * check. A new provider is covered by being built; nothing to register.
 */
#include <CUnit/Basic.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "fixture.h"

static sy_catalog *cat;
static const char *plugins; /* the build's plugins.d */
static char tmpdir[64];

static int suite_init(void) {
  plugins = fx_plugins_dir();
  snprintf(tmpdir, sizeof tmpdir, "/tmp/sy-conformance-XXXXXX");
  if (!mkdtemp(tmpdir))
    return -1;
  sy_error err;
  sy_error_clear(&err);
  if (sy_catalog_new(&cat) != 0)
    return -1;
  if (sy_catalog_scan_dir(cat, plugins, 0, &err) != 0) {
    fprintf(stderr, "scan %s: %s\n", plugins, err.message);
    return -1;
  }
  return 0;
}

static int suite_clean(void) {
  sy_catalog_free(cat);
  rmdir(tmpdir);
  return 0;
}

static void test_conformance_every_plugin_loads(void) {
  size_t problems = sy_catalog_problem_count(cat);
  for (size_t i = 0; i < problems; i++) {
    const char *file, *reason;
    sy_catalog_problem_at(cat, i, &file, &reason);
    fprintf(stderr, "refused: %s: %s\n", file, reason);
  }
  CU_ASSERT_EQUAL(problems, 0);
  /* Every .so file in plugins.d contributed at least one provider. */
  DIR *d = opendir(plugins);
  CU_ASSERT_FATAL(d != NULL);
  struct dirent *e;
  size_t files = 0;
  while ((e = readdir(d)) != NULL) {
    size_t n = strlen(e->d_name);
    if (n <= 3 || strcmp(e->d_name + n - 3, ".so") != 0)
      continue;
    files++;
    int found = 0;
    for (size_t i = 0; i < sy_catalog_count(cat); i++) {
      const char *file = NULL;
      sy_catalog_at(cat, i, &file, NULL);
      const char *base = strrchr(file, '/');
      found |= strcmp(base ? base + 1 : file, e->d_name) == 0;
    }
    if (!found)
      fprintf(stderr, "%s provides nothing\n", e->d_name);
    CU_ASSERT(found);
  }
  closedir(d);
  CU_ASSERT(files >= 5); /* the built-in plugins of this tree */
  CU_ASSERT(sy_catalog_count(cat) >= files);
}

static void test_conformance_descriptors_and_options(void) {
  for (size_t i = 0; i < sy_catalog_count(cat); i++) {
    const sy_plugin *plugin = NULL;
    const sy_provider *p = sy_catalog_at(cat, i, NULL, &plugin);
    char owner[128];
    snprintf(owner, sizeof owner, "%s.%s", sy_kind_name(p->kind), p->name);
    sy_error err;
    sy_error_clear(&err);
    CU_ASSERT_EQUAL(sy__plugin_check(plugin, owner, &err), 0);
    int rc = sy__opt_check_table(p->options, owner, &err);
    if (rc)
      fprintf(stderr, "%s\n", err.message);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT(strlen(p->description) >= 10);
    for (const sy_option *o = p->options; o && o->name; o++) {
      CU_ASSERT_PTR_NOT_NULL(o->help);
      CU_ASSERT(o->help && strlen(o->help) >= 10);
      if (o->def) {
        rc = sy__opt_parse(o, o->def, NULL, NULL, &err);
        if (rc)
          fprintf(stderr, "%s: default of %s: %s\n", owner, o->name,
                  err.message);
        CU_ASSERT_EQUAL(rc, 0);
      }
      if (o->type == SY_OPT_ENUM)
        CU_ASSERT(o->choices && o->choices[0]);
    }
  }
}

/* A value for a required option with no default. */
static const char *stand_in(const sy_option *o) {
  switch (o->type) {
  case SY_OPT_PATH:
    return tmpdir;
  case SY_OPT_ENUM:
    return o->choices[0];
  case SY_OPT_BOOL:
    return "false";
  case SY_OPT_INT:
  case SY_OPT_DOUBLE:
  case SY_OPT_SIZE:
  case SY_OPT_DURATION:
    return o->min ? o->min : "1";
  case SY_OPT_STRING:
    return strcmp(o->name, "command") == 0 ? "true" : "x";
  case SY_OPT_LIST:
    return "x";
  }
  return "x";
}

static void test_conformance_create_destroy_defaults(void) {
  for (size_t i = 0; i < sy_catalog_count(cat); i++) {
    const sy_provider *p = sy_catalog_at(cat, i, NULL, NULL);
    void *config = calloc(1, p->config_size ? p->config_size : 1);
    sy__pool pool = {0};
    sy_error err;
    sy_error_clear(&err);
    int rc = 0;
    for (const sy_option *o = p->options; rc == 0 && o && o->name; o++) {
      const char *text = o->def                         ? o->def
                         : (o->flags & SY_OPT_REQUIRED) ? stand_in(o)
                                                        : NULL;
      if (text)
        rc = sy__opt_parse(o, text, config, &pool, &err);
    }
    CU_ASSERT_EQUAL(rc, 0);
    if (rc == 0 && p->create) {
      void *self = NULL;
      rc = p->create(config, &self, &err);
      if (rc)
        fprintf(stderr, "%s.%s: create: %s\n", sy_kind_name(p->kind), p->name,
                err.message);
      CU_ASSERT_EQUAL(rc, 0);
      if (rc == 0)
        p->destroy(self);
    }
    sy__pool_release(&pool);
    free(config);
  }
}

int main(void) {
  static const CU_TestInfo tests[] = {
      {"test_conformance_every_plugin_loads",
       test_conformance_every_plugin_loads},
      {"test_conformance_descriptors_and_options",
       test_conformance_descriptors_and_options},
      {"test_conformance_create_destroy_defaults",
       test_conformance_create_destroy_defaults},
      CU_TEST_INFO_NULL,
  };
  return fx_run_suite("conformance", suite_init, suite_clean, tests);
}
