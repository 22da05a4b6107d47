/*
 * switchyard/storage.h - the STORAGE provider kind: the result cache.
 *
 * A storage keeps step results by the step's cache key (32 hex digits,
 * see docs/lifecycle.md). Before the core runs a cacheable step it asks
 * the storage for the key; a hit is used instead of running the step
 * (event CACHED), a miss runs it and stores the outputs.
 *
 * Contract:
 *   - get: a missing key is not an error: return 0 with every out[i] NULL.
 *     A damaged or truncated entry must also be a miss (remove it and
 *     say so through err->message with code 0 if you like), never a crash
 *     and never a wrong value: verify a checksum before trusting bytes.
 *     An entry must also be checked against the key it is read under
 *     (record the key in the entry, inside the checksum): one put under
 *     another key, e.g. a file copied over this one, is a miss too.
 *   - put: all-or-nothing and atomic (write to a temporary name, then
 *     rename), so a crash leaves either no entry or a whole one. Storing a
 *     key that exists is not an error.
 *   - Calls may come from several threads at once (one per runner worker)
 *     and from several processes sharing the storage.
 *
 * Values passed in are borrowed; values returned are owned by the caller.
 * Since ABI 1.0.
 */
#ifndef SWITCHYARD_STORAGE_H
#define SWITCHYARD_STORAGE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "value.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sy_storage_entry {
  uint32_t size;     /* sizeof(sy_storage_entry) */
  const char *key;   /* 32 hex digits */
  const char *label; /* "apply model (std.logreg)", as given to put */
  uint64_t bytes;    /* stored size */
  int64_t mtime;     /* seconds since the epoch */
  uint32_t outputs;  /* number of values */
} sy_storage_entry;

/* Return non-zero to stop the listing (that value is returned). */
typedef int (*sy_storage_visit_fn)(void *ud, const sy_storage_entry *e);

typedef struct sy_storage_ops {
  uint32_t size; /* sizeof(sy_storage_ops) */
  int (*get)(void *self, const char *key, sy_value **out, size_t n,
             sy_error *err);
  int (*put)(void *self, const char *key, sy_value *const *values, size_t n,
             const char *label, sy_error *err);
  int (*list)(void *self, sy_storage_visit_fn fn, void *ud, sy_error *err);
  int (*remove)(void *self, const char *key, sy_error *err);
  /* Since ABI 1.3; NULL, or a struct whose size ends before them, when
   * the storage keeps no temporary files. What unfinished puts left:
   * temporaries of writers still running, or killed. `cache list -v`
   * shows them and `cache gc` collects them.
   *
   * temporaries visits each one: e->key is its name relative to the
   * storage (not a cache key; it cannot be passed to get or remove),
   * e->label says which entry it was to become and whether its writer is
   * still running, as far as the storage can tell; bytes and mtime are
   * the file's, outputs 0. sweep removes those whose last write is more
   * than grace_s seconds ago and whose writer is not known to be running
   * (a writer on another machine cannot be seen: grace_s alone protects
   * it), and visits each one it removed (fn may be NULL). Both return 0,
   * a visitor's non-zero value (which stops the walk) or an SY_E* code.
   * Same threading as list. */
  int (*temporaries)(void *self, sy_storage_visit_fn fn, void *ud,
                     sy_error *err);
  int (*sweep)(void *self, int64_t grace_s, sy_storage_visit_fn fn, void *ud,
               sy_error *err);
} sy_storage_ops;

/* ---- garbage collection (services/cache.c) ---------------------------- */

typedef struct sy_instance sy_instance; /* config.h */

/* What sy_cache_gc keeps. Since ABI 1.3. */
typedef struct sy_cache_gc_options {
  uint32_t size;         /* sizeof(sy_cache_gc_options) */
  uint64_t max_bytes;    /* oldest entries go until at most this many
                            bytes remain; UINT64_MAX: no size limit */
  int64_t older_than_ns; /* entries older than this go too; < 0: none */
  int64_t grace_ns;      /* temporary files written to more recently
                            than this are kept (their writer may run) */
} sy_cache_gc_options;

/* What sy_cache_gc removed. Since ABI 1.3. */
typedef struct sy_cache_gc_result {
  size_t removed;           /* entries */
  uint64_t freed;           /* their bytes */
  size_t temporaries;       /* temporary files of unfinished writes */
  uint64_t temporary_bytes; /* their bytes */
} sy_cache_gc_result;

/* The cache's garbage collection (`switchyard cache gc`) on a STORAGE
 * instance: removes entries oldest first while the total is over
 * max_bytes, and every entry older than older_than_ns; then, when the
 * storage has temporaries/sweep, the temporary files of writers that
 * died, once past grace_ns. An entry that cannot be removed is left (and
 * not counted). Returns 0 (with *out filled, out may be NULL) or the
 * code of a failed list or sweep (err says why). Calls the storage's ops
 * from the calling thread only; the instance is borrowed. Since ABI 1.3.
 */
SY_API int sy_cache_gc(sy_instance *storage, const sy_cache_gc_options *opts,
                       sy_cache_gc_result *out, sy_error *err);

#ifdef __cplusplus
}
#endif
#endif /* SWITCHYARD_STORAGE_H */
