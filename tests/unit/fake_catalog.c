/*
 * fake_catalog.c - an in-memory catalog for the config tests.
 *
 * The real catalog (core/loader.c) loads plugins with dlopen(); the config
 * tests only need providers that are linked into the test itself, so this
 * file implements the catalog API over an array and nothing else. It is
 * linked into tests/unit/test_config only, which is built from core sources
 * rather than libswitchyard, so it cannot clash with the real catalog.
 *
 * To test against the real catalog instead: drop this file and the core
 * sources from tests_unit_test_config_SOURCES in Makefile.am and set
 * tests_unit_test_config_LDADD = $(sy_test_libs); the tests use only
 * sy_catalog_new/add_static/free, which the real catalog provides too.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fake_entry {
  const sy_provider *provider;
  const sy_plugin *plugin;
  const char *origin;
} fake_entry;

struct sy_catalog {
  fake_entry *items;
  size_t len, cap;
};

int sy_catalog_new(sy_catalog **out) {
  *out = calloc(1, sizeof **out);
  return *out ? 0 : SY_ENOMEM;
}

void sy_catalog_free(sy_catalog *cat) {
  if (cat)
    free(cat->items);
  free(cat);
}

static int cmp_entry(const void *a, const void *b) {
  const sy_provider *x = ((const fake_entry *)a)->provider;
  const sy_provider *y = ((const fake_entry *)b)->provider;
  if (x->kind != y->kind)
    return x->kind < y->kind ? -1 : 1;
  return strcmp(x->name, y->name);
}

int sy_catalog_add_static(sy_catalog *cat, const sy_plugin *plugin,
                          const char *origin, sy_error *err) {
  if (!plugin || plugin->abi_major != SY_ABI_MAJOR || !plugin->providers)
    return sy_error_set(err, SY_EPLUGIN, "%s: bad descriptor", origin);
  for (const sy_provider *const *p = plugin->providers; *p; p++) {
    char owner[128];
    snprintf(owner, sizeof owner, "%s.%s", sy_kind_name((*p)->kind),
             (*p)->name);
    int rc = sy__opt_check_table((*p)->options, owner, err);
    if (rc != 0)
      return rc;
    if (sy_catalog_find(cat, (*p)->kind, (*p)->name))
      return sy_error_set(err, SY_EEXIST, "%s: %s provided twice", origin,
                          owner);
    if (cat->len == cat->cap) {
      size_t cap = cat->cap ? cat->cap * 2 : 8;
      fake_entry *v = realloc(cat->items, cap * sizeof *v);
      if (!v)
        return sy_error_set(err, SY_ENOMEM, "out of memory");
      cat->items = v;
      cat->cap = cap;
    }
    cat->items[cat->len++] = (fake_entry){*p, plugin, origin};
  }
  qsort(cat->items, cat->len, sizeof *cat->items, cmp_entry);
  return 0;
}

const sy_provider *sy_catalog_find(const sy_catalog *cat, sy_kind kind,
                                   const char *name) {
  for (size_t i = 0; cat && name && i < cat->len; i++)
    if (cat->items[i].provider->kind == kind &&
        strcmp(cat->items[i].provider->name, name) == 0)
      return cat->items[i].provider;
  return NULL;
}

size_t sy_catalog_count(const sy_catalog *cat) {
  return cat ? cat->len : 0;
}

const sy_provider *sy_catalog_at(const sy_catalog *cat, size_t i,
                                 const char **file, const sy_plugin **plugin) {
  if (!cat || i >= cat->len)
    return NULL;
  if (file)
    *file = cat->items[i].origin;
  if (plugin)
    *plugin = cat->items[i].plugin;
  return cat->items[i].provider;
}

size_t sy_catalog_problem_count(const sy_catalog *cat) {
  (void)cat;
  return 0;
}

int sy_catalog_problem_at(const sy_catalog *cat, size_t i, const char **file,
                          const char **reason) {
  (void)cat;
  (void)i;
  (void)file;
  (void)reason;
  return SY_ENOENT;
}
