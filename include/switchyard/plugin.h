/*
 * switchyard/plugin.h - the plugin ABI.
 *
 * A plugin is a shared object that exports exactly one symbol,
 * sy_plugin_entry(), returning a pointer to a static const sy_plugin. The
 * descriptor begins with fixed fields that SY_PLUGIN_DEFINE fills, so an
 * author cannot get them wrong (the nginx way):
 *
 *   abi_major  must equal the core's SY_ABI_MAJOR
 *   abi_minor  must not be newer than the core's SY_ABI_MINOR
 *   size       sizeof(sy_plugin) as the plugin saw it; must cover 1.0's
 *   build      SY_BUILD_SIGNATURE: pointer and integer sizes, byte order
 *
 * The loader checks all four before it calls any other code of the plugin
 * (it uses RTLD_NOW | RTLD_LOCAL, so a plugin with unresolved symbols is
 * refused at dlopen()). Then it walks the NULL-terminated provider array.
 *
 * A provider is one kind+name the plugin offers: a runner, feed, sink,
 * registry, storage or actor. It has a typed option table (see option.h),
 * create/destroy for one configured instance, and a pointer to the kind's
 * operations struct, which begins with its own size so that the struct can
 * grow at the end within an ABI major (the SQLite way: members added later
 * are marked "since 1.N", and the core checks `size` before calling them).
 *
 * Ownership: the descriptor, its strings and tables are static and owned by
 * the plugin; the core never frees them and unloads the plugin only after
 * every instance is destroyed. create() gets a config struct filled by the
 * core (owned by the core, valid until destroy()) and returns the instance
 * in *self. A provider keeps no global mutable state: two instances of one
 * provider run side by side.
 *
 * Since ABI 1.0.
 */
#ifndef SWITCHYARD_PLUGIN_H
#define SWITCHYARD_PLUGIN_H

#include <stdint.h>

#include "error.h"
#include "option.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI version, independent of the package version. The major changes
 * when anything in a public struct changes other than growth at the end of
 * an ops struct; the minor when something is added. */
#define SY_ABI_MAJOR 1
#define SY_ABI_MINOR 5

typedef enum sy_kind {
  SY_KIND_RUNNER = 1,
  SY_KIND_FEED = 2,
  SY_KIND_SINK = 3,
  SY_KIND_REGISTRY = 4,
  SY_KIND_STORAGE = 5,
  SY_KIND_ACTOR = 6
} sy_kind;
#define SY_KIND_COUNT 6

/* "runner", "feed", ... ; NULL for an invalid kind. */
SY_API const char *sy_kind_name(sy_kind kind);
/* Case-insensitive: "RUNNER" and "runner" both give SY_KIND_RUNNER.
 * Returns 0 or SY_EINVAL. */
SY_API int sy_kind_parse(const char *text, sy_kind *kind);

typedef struct sy_provider {
  uint32_t size;            /* sizeof(sy_provider) as the plugin saw it */
  sy_kind kind;             /* SY_KIND_* */
  const char *name;         /* [a-z0-9_.-]+, unique per kind */
  const char *version;      /* the provider's own version, "1.2.0" */
  const char *description;  /* one sentence */
  const sy_option *options; /* SY_OPTION_END-terminated; NULL = none */
  size_t config_size;       /* size of the struct options are written to */
  /* Creates an instance from a filled config. Returns 0 or SY_E*. May be
   * NULL when the provider needs no per-instance state (self is NULL). */
  int (*create)(const void *config, void **self, sy_error *err);
  /* Releases what create() made; NULL when create is NULL. */
  void (*destroy)(void *self);
  /* The kind's operations struct (runner.h, actor.h, ...); it begins with
   * a uint32_t holding its own size. */
  const void *ops;
} sy_provider;

typedef struct sy_plugin {
  uint32_t abi_major;
  uint32_t abi_minor;
  uint32_t size;
  const char *build;
  const char *name;                    /* the plugin's name, e.g. "actor-std" */
  const char *version;                 /* the plugin's version */
  const sy_provider *const *providers; /* NULL-terminated */
} sy_plugin;

/* The name of the one symbol every plugin exports. */
#define SY_PLUGIN_ENTRY_SYMBOL "sy_plugin_entry"
typedef const sy_plugin *(*sy_plugin_entry_fn)(void);

#define SY__STR(x) #x
#define SY__XSTR(x) SY__STR(x)
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define SY__ENDIAN "be"
#else
#define SY__ENDIAN "le"
#endif
/* What must match between the core and a plugin besides the ABI version:
 * the data model and byte order the structs were laid out for. */
#define SY_BUILD_SIGNATURE                                                     \
  "sy" SY__XSTR(SY_ABI_MAJOR) ":p" SY__XSTR(__SIZEOF_POINTER__) ":l" SY__XSTR( \
      __SIZEOF_LONG__) ":z" SY__XSTR(__SIZEOF_SIZE_T__) ":d" SY__XSTR(__SIZEOF_DOUBLE__) ":" SY__ENDIAN

/* Defines sy_plugin_entry() for a plugin offering the listed providers
 * (pointers to static const sy_provider). Use once per shared object:
 *
 *   SY_PLUGIN_DEFINE("my-plugin", "1.0.0", &my_runner, &my_feed);
 */
#define SY_PLUGIN_DEFINE(name_, version_, ...)                                 \
  static const sy_provider *const sy__plugin_providers[] = {__VA_ARGS__,       \
                                                            NULL};             \
  static const sy_plugin sy__plugin_descriptor = {                             \
      SY_ABI_MAJOR,        SY_ABI_MINOR, (uint32_t)sizeof(sy_plugin),          \
      SY_BUILD_SIGNATURE,  (name_),      (version_),                           \
      sy__plugin_providers};                                                   \
  SY_API const sy_plugin *sy_plugin_entry(void);                               \
  SY_API const sy_plugin *sy_plugin_entry(void) {                              \
    return &sy__plugin_descriptor;                                             \
  }

#ifdef __cplusplus
}
#endif
#endif /* SWITCHYARD_PLUGIN_H */
