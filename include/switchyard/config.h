/*
 * switchyard/config.h - the platform configuration (INI).
 *
 * Sections are [PLATFORM] and [KIND.instance]; KIND is one of RUNNER, FEED,
 * SINK, REGISTRY, STORAGE, ACTOR (any case). In an instance section the key
 * `provider` names the provider and defaults to the instance name.
 *
 * A config is built from layers, later wins per key: built-in defaults
 * (from the option tables), then files in the order they are loaded, then
 * overrides. Every value keeps its origin ("file:line", "-o", "default") so
 * errors and `switchyard config` can say where it came from. Within one
 * file a key set twice is an error; across layers it is the point.
 *
 * Values: `${VAR}` is replaced by the environment variable (an unset one is
 * an error naming it); a leading `~` or `~/` in a path-typed option is the
 * home folder. Comments start with ';' or '#' at the beginning of a line or
 * after whitespace. Quotes around a value ("..." or '...') are removed.
 *
 * Thread-safety: build from one thread; reads are safe once built. Each
 * function says its ownership, thread safety and the ABI minor it
 * appeared in. Since ABI 1.0.
 */
#ifndef SWITCHYARD_CONFIG_H
#define SWITCHYARD_CONFIG_H

#include <stddef.h>

#include "catalog.h"
#include "error.h"
#include "plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sy_config sy_config;

/* Makes an empty config (built-in defaults only). Returns 0 or SY_ENOMEM;
 * out must not be NULL. Ownership: the caller owns *out (sy_config_free).
 * Thread-safety: any thread. Since ABI 1.0. */
SY_API int sy_config_new(sy_config **out);
/* Frees the config and every string it handed out (NULL is a no-op).
 * Instances made from it keep their own copies. Thread-safety: no other
 * call on this config may run or follow. Since ABI 1.0. */
SY_API void sy_config_free(sy_config *cfg);

/* Reads one INI file as a new layer. A missing file is skipped when
 * `optional` is non-zero. Syntax errors name file:line. Ownership: path is
 * copied (it becomes part of each value's origin); err may be NULL.
 * Thread-safety: while building, one thread at a time. Since ABI 1.0. */
SY_API int sy_config_load_file(sy_config *cfg, const char *path, int optional,
                               sy_error *err);
/* Reads INI text as a layer; `name` is used as the file in origins.
 * Ownership: text and name are copied. Thread-safety: while building, one
 * thread at a time. Since ABI 1.0. */
SY_API int sy_config_load_string(sy_config *cfg, const char *text,
                                 const char *name, sy_error *err);
/* Applies "SECTION.KEY=VALUE" (KIND.instance.key=value for instances,
 * PLATFORM.key=value), origin "-o". Ownership: copied. Thread-safety:
 * while building, one thread at a time. Since ABI 1.0. */
SY_API int sy_config_override(sy_config *cfg, const char *assignment,
                              sy_error *err);
/* Sets one value with an explicit origin. Ownership: all strings copied.
 * Thread-safety: while building, one thread at a time. Since ABI 1.0. */
SY_API int sy_config_set(sy_config *cfg, const char *section, const char *key,
                         const char *value, const char *origin, sy_error *err);

/* The effective raw value, or NULL. *origin (may be NULL) receives where it
 * came from. Section names compare case-insensitively in the kind part.
 * Ownership: both strings are the config's, valid until it is freed or
 * changed. Thread-safety: any thread once built. Since ABI 1.0. */
SY_API const char *sy_config_get(const sy_config *cfg, const char *section,
                                 const char *key, const char **origin);

/* Sections in first-seen order: how many. Thread-safety: any thread once
 * built. Since ABI 1.0. */
SY_API size_t sy_config_section_count(const sy_config *cfg);
/* The i-th section's name ("RUNNER.parallel"), or NULL out of range.
 * Ownership: the config's. Thread-safety: any thread once built. Since
 * ABI 1.0. */
SY_API const char *sy_config_section_at(const sy_config *cfg, size_t i);
/* How many keys a section sets (0 for an unknown section). Thread-safety:
 * any thread once built. Since ABI 1.0. */
SY_API size_t sy_config_key_count(const sy_config *cfg, const char *section);
/* The i-th key a section sets, or NULL. Ownership: the config's.
 * Thread-safety: any thread once built. Since ABI 1.0. */
SY_API const char *sy_config_key_at(const sy_config *cfg, const char *section,
                                    size_t i);

/* Checks every section against the catalog: kind known, provider found,
 * each key declared with a valid value, required keys present. Stops at
 * the first error, which names file:line and ends with a hint. A lazy
 * catalog loads the plugin of each configured provider (their option
 * tables are needed) and, for an unknown name, every plugin (for the
 * suggestion). cat may be NULL: then only [PLATFORM] and the section
 * names are checked. Thread-safety: any thread once both are built.
 * Since ABI 1.0. */
SY_API int sy_config_validate(const sy_config *cfg, const sy_catalog *cat,
                              sy_error *err);

/* The options of the [PLATFORM] section (plugin_path, runner, registry,
 * storage, feed, sink, log_level, cache), SY_OPTION_END-terminated; a
 * static table, never freed. Their offsets are all 0: read the values
 * with sy_config_get(). Thread-safe. Since ABI 1.3. */
SY_API const sy_option *sy_config_platform_options(void);

/* One configured instance: a provider plus its filled config. */
typedef struct sy_instance sy_instance;

/* Creates the instance [KIND.name]: finds its provider (a lazy catalog
 * loads that provider's plugin, and only that one), fills the config from
 * the section (defaults for the rest), calls create(). An instance name
 * with no section is allowed when a provider of that name exists (it
 * gets the defaults). Ownership: the caller owns *out
 * (sy_instance_destroy); it must be destroyed before the catalog is
 * freed, and it keeps no pointer into cfg. Thread-safety: any thread once
 * cfg and cat are built; what create() may do from several threads at
 * once is the provider's business (plugin.h: no global mutable state).
 * Since ABI 1.0. */
SY_API int sy_instance_create(const sy_config *cfg, const sy_catalog *cat,
                              sy_kind kind, const char *name, sy_instance **out,
                              sy_error *err);
/* Calls the provider's destroy() and frees the instance (NULL is a
 * no-op). Thread-safety: not while another thread uses the instance.
 * Since ABI 1.0. */
SY_API void sy_instance_destroy(sy_instance *inst);
/* The instance's provider. Ownership: the catalog's. Thread-safety: any
 * thread. Since ABI 1.0. */
SY_API const sy_provider *sy_instance_provider(const sy_instance *inst);
/* What the provider's create() returned (NULL when it has no create).
 * Ownership: the instance's. Thread-safety: any thread; using it is the
 * provider's business. Since ABI 1.0. */
SY_API void *sy_instance_self(const sy_instance *inst);
/* The filled config struct (the provider's layout). Ownership: the
 * instance's, valid until it is destroyed. Thread-safety: any thread.
 * Since ABI 1.0. */
SY_API const void *sy_instance_config(const sy_instance *inst);
/* The instance name ("parallel" for [RUNNER.parallel]). Ownership: the
 * instance's. Thread-safety: any thread. Since ABI 1.0. */
SY_API const char *sy_instance_name(const sy_instance *inst);

#ifdef __cplusplus
}
#endif
#endif /* SWITCHYARD_CONFIG_H */
