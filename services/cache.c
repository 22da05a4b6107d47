/*
 * cache.c - the result cache's garbage collection (sy_cache_gc), over a
 * STORAGE instance's public ops: the policy `switchyard cache gc` runs.
 */
#include "switchyard/config.h"
#include "switchyard/storage.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct gc_entry {
  char *key;
  uint64_t bytes;
  int64_t mtime;
} gc_entry;

typedef struct gc_list {
  gc_entry *e;
  size_t n, cap;
} gc_list;

static int collect(void *ud, const sy_storage_entry *e) {
  gc_list *l = ud;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 64;
    gc_entry *grown = realloc(l->e, cap * sizeof *grown);
    if (!grown)
      return SY_ENOMEM;
    l->e = grown;
    l->cap = cap;
  }
  gc_entry *c = &l->e[l->n];
  c->key = strdup(e->key);
  if (!c->key)
    return SY_ENOMEM;
  c->bytes = e->bytes;
  c->mtime = e->mtime;
  l->n++;
  return 0;
}

static int by_age(const void *a, const void *b) {
  const gc_entry *x = a, *y = b;
  return (x->mtime > y->mtime) - (x->mtime < y->mtime);
}

static int count_swept(void *ud, const sy_storage_entry *e) {
  sy_cache_gc_result *r = ud;
  r->temporaries++;
  r->temporary_bytes += e->bytes;
  return 0;
}

/* The storage's temporaries/sweep ops, or none (a storage built against
 * ABI 1.2 or older, or one that keeps no temporary files). */
static int has_sweep(const sy_storage_ops *ops) {
  return ops->size >= offsetof(sy_storage_ops, sweep) + sizeof ops->sweep &&
         ops->temporaries && ops->sweep;
}

int sy_cache_gc(sy_instance *storage, const sy_cache_gc_options *opts,
                sy_cache_gc_result *out, sy_error *err) {
  sy_cache_gc_result r = {0, 0, 0, 0};
  if (out)
    *out = r;
  if (!storage || !opts || opts->size < sizeof *opts)
    return sy_error_set(err, SY_EINVAL, "sy_cache_gc: no storage or options");
  const sy_provider *prov = sy_instance_provider(storage);
  if (prov->kind != SY_KIND_STORAGE)
    return sy_error_set(err, SY_EINVAL,
                        "sy_cache_gc: instance '%s' is not a storage",
                        sy_instance_name(storage));
  const sy_storage_ops *ops = prov->ops;
  void *self = sy_instance_self(storage);
  gc_list l = {NULL, 0, 0};
  int rc = ops->list(self, collect, &l, err);
  if (rc == 0) {
    qsort(l.e, l.n, sizeof *l.e, by_age);
    time_t now = time(NULL);
    uint64_t total = 0;
    for (size_t i = 0; i < l.n; i++)
      total += l.e[i].bytes;
    /* Oldest first, until under the size limit, and everything older
     * than the age limit. */
    for (size_t i = 0; i < l.n; i++) {
      int old =
          opts->older_than_ns >= 0 &&
          (int64_t)(now - l.e[i].mtime) * 1000000000LL > opts->older_than_ns;
      if (!old && total <= opts->max_bytes)
        continue;
      sy_error e;
      sy_error_clear(&e);
      if (ops->remove(self, l.e[i].key, &e) == 0) {
        r.removed++;
        r.freed += l.e[i].bytes;
        total -= l.e[i].bytes;
      }
    }
    /* Also what killed writers left, once past the grace period (and
     * never while their writer runs here). */
    if (has_sweep(ops))
      rc =
          ops->sweep(self, opts->grace_ns / 1000000000LL, count_swept, &r, err);
  }
  for (size_t i = 0; i < l.n; i++)
    free(l.e[i].key);
  free(l.e);
  if (out)
    *out = r;
  return rc;
}
