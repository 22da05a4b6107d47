/*
 * internal.h - what core files share with each other (and with tests), but
 * not with providers. Names are sy__*; nothing here is installed.
 */
#ifndef SY_CORE_INTERNAL_H
#define SY_CORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "switchyard/switchyard.h"

/* ---- options.c ------------------------------------------------------- */

/* Loads libconfig at its first use (libconfig_lazy.c): NULL when it is
 * loaded, else a sentence saying why not. Call before config_init(). */
const char *sy__libconfig_load(void);

/* Returns `items` grown to hold at least `need` elements of `size` bytes
 * (doubling *cap, from 8), or NULL when out of memory or when the size
 * would overflow; items is then untouched. (buf.c) */
void *sy__grow_array(void *items, size_t *cap, size_t need, size_t size);

/* A list of heap blocks freed together: the strings and arrays the core
 * writes into a provider's config struct. */
typedef struct sy__pool {
  void **items;
  size_t len, cap;
} sy__pool;
void *sy__pool_add(sy__pool *pool,
                   void *block); /* NULL (and frees block) on OOM */
char *sy__pool_strdup(sy__pool *pool, const char *s);
void sy__pool_release(sy__pool *pool);

/* The option named `name` in a SY_OPTION_END-terminated table, or NULL. */
const sy_option *sy__opt_find(const sy_option *opts, const char *name);
/* Parses `text` as the option's type, checks range/choices, and writes the
 * result into config + opt->offset (config may be NULL to only validate).
 * Strings are allocated in pool. On error err says what was expected, but
 * not where: the caller prefixes file:line. */
int sy__opt_parse(const sy_option *opt, const char *text, void *config,
                  sy__pool *pool, sy_error *err);
/* The size of what an option of that type writes into the config struct,
 * or 0 for an unknown type (loader.c checks tables with it, config.c
 * fills structs). */
size_t sy__opt_value_size(sy_opt_type type);
/* Checks a table as the loader must: names valid and unique, help present,
 * type known, enum has choices, required has no default, min/max/default
 * parse. `owner` prefixes errors ("runner.dask"). */
int sy__opt_check_table(const sy_option *opts, const char *owner,
                        sy_error *err);
/* The candidate nearest to `name` by edit distance, or NULL when none is
 * close enough to be a plausible typo. */
const char *sy__suggest(const char *name, const char *const *candidates,
                        size_t n);

/* Expands ${VAR} (unset: error) and, when `tilde`, a leading ~ or ~/. The
 * result is malloc()ed into *out. */
int sy__expand(const char *text, bool tilde, char **out, sy_error *err);

/* Parsers shared by options and other core code. */
int sy__parse_bool(const char *s, bool *out);
int sy__parse_int(const char *s, int64_t *out);
int sy__parse_double(const char *s, double *out);
int sy__parse_size(const char *s, uint64_t *out);
int sy__parse_duration(const char *s, int64_t *ns);

/* ---- ini.c ----------------------------------------------------------- */

/* Called for each section header (key == NULL) and each key = value.
 * Returning non-zero stops the parse with that code. */
typedef int (*sy__ini_fn)(void *ud, const char *section, const char *key,
                          const char *value, int line, sy_error *err);
/* Parses INI text (NUL-terminated, `len` bytes). `name` is used in errors
 * ("name:12: ..."). */
int sy__ini_parse(const char *text, size_t len, const char *name, sy__ini_fn fn,
                  void *ud, sy_error *err);

/* ---- config.c -------------------------------------------------------- */

/* The built-in option table of [PLATFORM] (plugin_path, runner, registry,
 * storage, feed, sink, log_level). Offsets are all 0: read the values with
 * sy_config_get() and parse one with sy__opt_parse() where needed. */
const sy_option *sy__platform_options(void);
/* Whether a config value's origin is a layer below a project's
 * switchyard.ini (a default, or a file read before the -c files): a
 * release's recorded project layer replaces such values (lifecycle.c). */
int sy__platform_below_project(const sy_platform *p, const char *origin);

/* ---- loader.c -------------------------------------------------------- */

/* Checks a descriptor as the loader does before using it; `file` names it
 * in errors. Exposed for the conformance tests. */
int sy__plugin_check(const sy_plugin *plugin, const char *file, sy_error *err);
/* The smallest ops size the core accepts for a kind (ABI 1.0 layout). */
size_t sy__ops_min_size(sy_kind kind);
/* The content hash (XXH3-128) of the file the catalog's provider `prov`
 * was loaded from, into out: returns 1, or 0 with out all zero for a
 * static plugin or a provider that is not the catalog's. Read-only: safe
 * from any thread once the catalog is built. */
int sy__catalog_code_hash(const sy_catalog *cat, const sy_provider *prov,
                          uint8_t out[16]);
/* Keeps a problem that is not a plugin file's (a plugin_path folder that
 * does not exist): `file` is where it comes from, "file:line" when known.
 * Dropped silently when out of memory, like every problem. */
void sy__catalog_add_problem(sy_catalog *cat, const char *file,
                             const char *reason);

/* events.c: sends this thread's sy_note() calls to fn(ud, message)
 * instead of the running step's listeners (fn NULL: back to those). For
 * tests that call actors without a job. */
typedef void (*sy__note_fn)(void *ud, const char *message);
void sy__note_to(sy__note_fn fn, void *ud);

#endif /* SY_CORE_INTERNAL_H */
