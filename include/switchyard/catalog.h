/*
 * switchyard/catalog.h - the table of loaded providers.
 *
 * The catalog is the core's list of every provider it loaded, with the file
 * it came from. (It is never called a "registry": that is a provider kind.)
 * Plugins are loaded from folders; a plugin the loader refuses is recorded
 * as a problem with its file and reason ("not loaded: ..."), and does not
 * stop the others.
 *
 * Trust (since 1.3): a file is opened once and checked on that descriptor
 * before it is loaded through it (/proc/self/fd/N): a regular file which,
 * like every folder above its resolved path up to /, is owned by root or
 * the invoking user and is not group- or world-writable, except a sticky
 * folder owned by root. Its content hash is kept for the cache keys.
 *
 * Clashes (since 1.3): the first provider of a kind+name wins. A later
 * plugin offering the same kind+name loses only that provider (a problem
 * of its file naming the first file) and the rest of it loads; a plugin
 * whose every provider clashes is refused whole (SY_EEXIST).
 *
 * Thread-safety: build a catalog from one thread; once built, lookups may
 * run from any thread. Since ABI 1.0.
 */
#ifndef SWITCHYARD_CATALOG_H
#define SWITCHYARD_CATALOG_H

#include <stddef.h>

#include "error.h"
#include "plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sy_catalog sy_catalog;

/* Returns 0 or SY_ENOMEM. The caller owns *out (sy_catalog_free). */
SY_API int sy_catalog_new(sy_catalog **out);
/* Unloads every plugin. Instances made from it must be destroyed first. */
SY_API void sy_catalog_free(sy_catalog *cat);

/* Loads one plugin file. Returns 0 (also when some of its providers were
 * left out for a clash, each kept as a problem), or a negative code with
 * the reason in err (which names the file); a refused file is also kept
 * as a problem. A file already loaded (same device and inode) is skipped
 * with 0. */
SY_API int sy_catalog_load_file(sy_catalog *cat, const char *path,
                                sy_error *err);
/* Loads every "*.so" in dir, in name order. Refused files become problems
 * and do not fail the scan. Fails only when dir itself cannot be read or
 * is not trusted (owned by neither root nor the invoking user, or group-
 * or world-writable without being sticky and root's). A missing folder is
 * not an error when `optional` is non-zero. */
SY_API int sy_catalog_scan_dir(sy_catalog *cat, const char *dir, int optional,
                               sy_error *err);
/* Scans each folder of a colon-separated list (empty items skipped;
 * missing folders skipped). */
SY_API int sy_catalog_scan_path(sy_catalog *cat, const char *path_list,
                                sy_error *err);
/* Adds a plugin linked into the program (no dlopen), with the same checks.
 * `origin` is shown where a file would be. */
SY_API int sy_catalog_add_static(sy_catalog *cat, const sy_plugin *plugin,
                                 const char *origin, sy_error *err);

/* The provider of that kind and name, or NULL. */
SY_API const sy_provider *sy_catalog_find(const sy_catalog *cat, sy_kind kind,
                                          const char *name);
/* Number of providers loaded. */
SY_API size_t sy_catalog_count(const sy_catalog *cat);
/* The i-th provider, sorted by kind then name; file and plugin (may be
 * NULL) receive where it came from. NULL when i is out of range. */
SY_API const sy_provider *sy_catalog_at(const sy_catalog *cat, size_t i,
                                        const char **file,
                                        const sy_plugin **plugin);
/* Refused plugins and providers, and plugin_path folders that do not exist:
 * how many, and the i-th one's file (or "file:line" of the setting) and
 * reason. */
SY_API size_t sy_catalog_problem_count(const sy_catalog *cat);
SY_API int sy_catalog_problem_at(const sy_catalog *cat, size_t i,
                                 const char **file, const char **reason);

#ifdef __cplusplus
}
#endif
#endif /* SWITCHYARD_CATALOG_H */
