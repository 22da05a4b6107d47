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
 * Thread-safety: every function takes the catalog's own lock, so calls may
 * come from any thread; a lookup may load a plugin (lazy loading, below).
 * Each function says its ownership and the ABI minor it appeared in.
 * Since ABI 1.0.
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

/* Makes an empty catalog. Returns 0, SY_EINVAL (out is NULL) or
 * SY_ENOMEM. Ownership: the caller owns *out and frees it with
 * sy_catalog_free(). Thread-safety: any thread. Since ABI 1.0. */
SY_API int sy_catalog_new(sy_catalog **out);
/* Unloads every plugin and frees the catalog (NULL is a no-op). Instances
 * made from it must be destroyed first; every pointer it handed out (a
 * provider, a file name, a problem) dies with it. Thread-safety: no other
 * call on this catalog may run or follow. Since ABI 1.0. */
SY_API void sy_catalog_free(sy_catalog *cat);

/* Lazy loading (since 1.3): after sy_catalog_set_lazy(cat, 1), a folder
 * scan reads the folder's manifest (".switchyard-manifest" inside it, or
 * the user's cache when the folder is not writable) and loads only the
 * files it does not describe as they are now (size, mtime, ctime, inode);
 * the others are listed from it and loaded, with every check above, at
 * the first sy_catalog_find() of one of their providers. Clashes are
 * decided and reported at the scan, in the order the files were found, as
 * when everything is loaded. The manifest is written again when a file
 * was added, changed or removed. sy_platform_open() turns this on.
 * Returns 0 or SY_EINVAL. Thread-safety: any thread (the catalog locks);
 * it affects the scans that follow. Since ABI 1.3. */
SY_API int sy_catalog_set_lazy(sy_catalog *cat, int lazy);

/* Loads one plugin file now. Returns 0 (also when some of its providers
 * were left out for a clash, each kept as a problem), or a negative code
 * with the reason in err (which names the file); a refused file is also
 * kept as a problem. A file already loaded (same device and inode) is
 * skipped with 0. Ownership: path is copied; err may be NULL.
 * Thread-safety: any thread (the catalog locks). Since ABI 1.0. */
SY_API int sy_catalog_load_file(sy_catalog *cat, const char *path,
                                sy_error *err);
/* Loads (or, when lazy, makes known) every "*.so" in dir, in name order.
 * Refused files become problems and do not fail the scan. Fails only when
 * dir itself cannot be read or is not trusted (owned by neither root nor
 * the invoking user, or group- or world-writable without being sticky and
 * root's). A missing folder is not an error when `optional` is non-zero.
 * Ownership: dir is copied; err may be NULL. Thread-safety: any thread
 * (the catalog locks). Since ABI 1.0; lazy since 1.3. */
SY_API int sy_catalog_scan_dir(sy_catalog *cat, const char *dir, int optional,
                               sy_error *err);
/* Scans each folder of a colon-separated list (empty items skipped;
 * missing folders skipped) as sy_catalog_scan_dir; every folder is
 * scanned and the first failure returned. Ownership and thread-safety as
 * sy_catalog_scan_dir. Since ABI 1.0. */
SY_API int sy_catalog_scan_path(sy_catalog *cat, const char *path_list,
                                sy_error *err);
/* Adds a plugin linked into the program (no dlopen), with the same checks.
 * `origin` (copied) is shown where a file would be. Ownership: the
 * descriptor stays the caller's and must outlive the catalog.
 * Thread-safety: any thread (the catalog locks). Since ABI 1.0. */
SY_API int sy_catalog_add_static(sy_catalog *cat, const sy_plugin *plugin,
                                 const char *origin, sy_error *err);

/* The provider of that kind and name, or NULL. When it lives in a file
 * not loaded yet (lazy), that one file is loaded first; if it is refused
 * then, the result is NULL and the refusal a new problem. Ownership: the
 * provider belongs to its plugin and lives until sy_catalog_free().
 * Thread-safety: any thread, concurrently (the catalog locks). Since ABI
 * 1.0; loads on demand since 1.3. */
SY_API const sy_provider *sy_catalog_find(const sy_catalog *cat, sy_kind kind,
                                          const char *name);
/* Number of providers, after loading every file not loaded yet (a lazy
 * catalog); sy_catalog_known_count() counts without loading.
 * Thread-safety: any thread (the catalog locks). Since ABI 1.0. */
SY_API size_t sy_catalog_count(const sy_catalog *cat);
/* The i-th provider, sorted by kind then name, after loading every file
 * not loaded yet; file and plugin (may be NULL) receive where it came
 * from. NULL when i is out of range. Ownership: everything returned lives
 * until sy_catalog_free(). Thread-safety: any thread (the catalog locks);
 * indexes are stable only while no other thread loads files. Since ABI
 * 1.0. */
SY_API const sy_provider *sy_catalog_at(const sy_catalog *cat, size_t i,
                                        const char **file,
                                        const sy_plugin **plugin);
/* Every provider the catalog knows, loaded or not, without loading any:
 * what `switchyard providers` lists. Same order as sy_catalog_at().
 * Thread-safety: any thread (the catalog locks). Since ABI 1.3. */
SY_API size_t sy_catalog_known_count(const sy_catalog *cat);
/* The i-th known provider's name (NULL when i is out of range); kind,
 * version, description and file (each may be NULL) receive the rest.
 * Ownership: the strings live until sy_catalog_free(). Thread-safety: any
 * thread (the catalog locks). Since ABI 1.3. */
SY_API const char *sy_catalog_known_at(const sy_catalog *cat, size_t i,
                                       sy_kind *kind, const char **version,
                                       const char **description,
                                       const char **file);
/* Where a provider this catalog returned came from: its file and plugin
 * (each may be NULL). Returns 0, SY_EINVAL, or SY_ENOENT when prov is not
 * this catalog's. Loads nothing. Ownership: both live until
 * sy_catalog_free(). Thread-safety: any thread (the catalog locks). Since
 * ABI 1.3. */
SY_API int sy_catalog_origin(const sy_catalog *cat, const sy_provider *prov,
                             const char **file, const sy_plugin **plugin);
/* Refused plugins and providers, and plugin_path folders that do not exist:
 * how many. A lazy catalog may add one later, when a file it loads on
 * demand is refused. Thread-safety: any thread (the catalog locks). Since
 * ABI 1.0. */
SY_API size_t sy_catalog_problem_count(const sy_catalog *cat);
/* The i-th problem's file (or "file:line" of the setting) and reason (each
 * may be NULL). Returns 0 or SY_ERANGE. Ownership: both live until
 * sy_catalog_free(). Thread-safety: any thread (the catalog locks). Since
 * ABI 1.0. */
SY_API int sy_catalog_problem_at(const sy_catalog *cat, size_t i,
                                 const char **file, const char **reason);

#ifdef __cplusplus
}
#endif
#endif /* SWITCHYARD_CATALOG_H */
