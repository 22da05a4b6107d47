/*
 * manifest.h - the plugin manifest of one folder (core-private).
 *
 * What each plugin file of a folder provides (kind, name, version,
 * description), with the file's size, mtime, ctime and inode when that
 * was read, so that a start can list every provider and load only the
 * files whose providers it uses. See loader.c for how the catalog uses it
 * and docs/design.md for where it lives.
 *
 * The manifest is untrusted input: sy__manifest_read() refuses (returns
 * non-zero, never crashes) anything but a complete, well-formed manifest
 * of this very core build, and nothing in it is ever loaded without the
 * loader's own checks.
 */
#ifndef SY_CORE_MANIFEST_H
#define SY_CORE_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "switchyard/plugin.h"

/* The manifest's name inside a plugin folder (hidden: never scanned). */
#define SY__MANIFEST_NAME ".switchyard-manifest"
/* Limits of what a manifest may hold; a larger one is refused. */
#define SY__MANIFEST_MAX_BYTES (1u << 20)
#define SY__MANIFEST_MAX_FILES 4096
#define SY__MANIFEST_MAX_PROVIDERS 4096

typedef struct sy__man_prov {
  sy_kind kind;
  char *name, *version, *description;
} sy__man_prov;

/* One plugin file: its name in the folder, what it looked like when it
 * was read, and its providers. */
typedef struct sy__man_file {
  char *name;
  uint64_t size, ino;
  int64_t mtime_ns, ctime_ns;
  int has_code;     /* code holds the file's content hash (optional key) */
  uint8_t code[16]; /* as sy__catalog_code_hash: XXH3-128, canonical */
  sy__man_prov *provs;
  size_t nprovs;
} sy__man_file;

typedef struct sy__manifest {
  sy__man_file *files;
  size_t nfiles, cap;
} sy__manifest;

/* Parses manifest text (`len` bytes, need not be NUL-terminated) into
 * *out, which the caller frees with sy__manifest_free() either way.
 * Returns 0, or -1 for anything but a complete, valid manifest written by
 * this core build (version, build signature and ABI all equal). */
int sy__manifest_parse(const char *text, size_t len, sy__manifest *out);
/* Reads and parses the manifest at `path`: a regular file (not a link),
 * owned by root or the invoking user, not group- or world-writable, at
 * most SY__MANIFEST_MAX_BYTES. Returns 0 or -1 (missing, untrusted,
 * unreadable or invalid: the caller rebuilds it). */
int sy__manifest_read(const char *path, sy__manifest *out);
/* Writes m to `path` atomically (a hidden temporary in the same folder,
 * renamed over it), mode 0644. Returns 0 or -1 (errno set); a failure
 * leaves no temporary behind. */
int sy__manifest_write(const char *path, const sy__manifest *m);
void sy__manifest_free(sy__manifest *m);

/* The record of file `name`, or NULL. */
const sy__man_file *sy__manifest_find(const sy__manifest *m, const char *name);
/* Removes (and frees) the record of file `name`, if there is one. */
void sy__manifest_remove(sy__manifest *m, const char *name);
/* Appends a deep copy of f. Returns 0, 1 when f cannot be stored (a
 * name or text the format cannot hold, too many entries: f is left out
 * and its file is then loaded at every start, as without a manifest), or
 * -1 (out of memory). */
int sy__manifest_add_copy(sy__manifest *m, const sy__man_file *f);
/* Whether a string may be stored: non-empty, no control character, not
 * quotes of both kinds. */
int sy__manifest_storable(const char *s);

/* Where the manifest of `dir` lives in the user's cache when `dir` is not
 * writable: $XDG_CACHE_HOME (else ~/.cache) /switchyard-plugins/<hash of
 * the folder's real path>.manifest. Caller frees; NULL when there is no
 * home or the folder cannot be resolved. */
char *sy__manifest_cache_path(const char *dir);
/* Creates the folder of a cache path (mode 0700, parents as needed) and
 * checks that it is the user's own and written by nobody else. 0 or -1. */
int sy__manifest_cache_prepare(const char *path);

#endif /* SY_CORE_MANIFEST_H */
