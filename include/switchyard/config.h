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
 * Thread-safety: build from one thread; reads are safe once built.
 * Since ABI 1.0.
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

SY_API int sy_config_new(sy_config **out);
SY_API void sy_config_free(sy_config *cfg);

/* Reads one INI file as a new layer. A missing file is skipped when
 * `optional` is non-zero. Syntax errors name file:line. */
SY_API int sy_config_load_file(sy_config *cfg, const char *path, int optional,
                               sy_error *err);
/* Reads INI text as a layer; `name` is used as the file in origins. */
SY_API int sy_config_load_string(sy_config *cfg, const char *text,
                                 const char *name, sy_error *err);
/* Applies "SECTION.KEY=VALUE" (KIND.instance.key=value for instances,
 * PLATFORM.key=value), origin "-o". */
SY_API int sy_config_override(sy_config *cfg, const char *assignment,
                              sy_error *err);
/* Sets one value with an explicit origin (copied). */
SY_API int sy_config_set(sy_config *cfg, const char *section, const char *key,
                         const char *value, const char *origin, sy_error *err);

/* The effective raw value, or NULL. *origin (may be NULL) receives where it
 * came from. Section names compare case-insensitively in the kind part. */
SY_API const char *sy_config_get(const sy_config *cfg, const char *section,
                                 const char *key, const char **origin);

/* Sections in first-seen order, and each one's keys. */
SY_API size_t sy_config_section_count(const sy_config *cfg);
SY_API const char *sy_config_section_at(const sy_config *cfg, size_t i);
SY_API size_t sy_config_key_count(const sy_config *cfg, const char *section);
SY_API const char *sy_config_key_at(const sy_config *cfg, const char *section,
                                    size_t i);

/* Checks every section against the catalog: kind known, provider found,
 * each key declared with a valid value, required keys present. Stops at
 * the first error, which names file:line and ends with a hint. */
SY_API int sy_config_validate(const sy_config *cfg, const sy_catalog *cat,
                              sy_error *err);

/* The options of the [PLATFORM] section (plugin_path, runner, registry,
 * storage, feed, sink, log_level, cache), SY_OPTION_END-terminated; a
 * static table, never freed. Their offsets are all 0: read the values
 * with sy_config_get(). Thread-safe. Since ABI 1.3. */
SY_API const sy_option *sy_config_platform_options(void);

/* One configured instance: a provider plus its filled config. */
typedef struct sy_instance sy_instance;

/* Creates the instance [KIND.name]: finds its provider, fills the config
 * from the section (defaults for the rest), calls create(). An instance
 * name with no section is allowed when a provider of that name exists (it
 * gets the defaults). The caller owns *out. */
SY_API int sy_instance_create(const sy_config *cfg, const sy_catalog *cat,
                              sy_kind kind, const char *name,
                              sy_instance **out, sy_error *err);
SY_API void sy_instance_destroy(sy_instance *inst);
SY_API const sy_provider *sy_instance_provider(const sy_instance *inst);
SY_API void *sy_instance_self(const sy_instance *inst);
SY_API const void *sy_instance_config(const sy_instance *inst);
SY_API const char *sy_instance_name(const sy_instance *inst);

#ifdef __cplusplus
}
#endif
#endif /* SWITCHYARD_CONFIG_H */
