/*
 * libconfig_lazy.c - libconfig, loaded when a flow first needs it.
 *
 * A flow is read by the fast parser in flow.c; libconfig reads only what
 * that parser leaves to it (@include, the rarer syntax, a syntax error's
 * message) and --params files. Linked into libswitchyard, it was mapped
 * and relocated by every process that starts, `switchyard version`
 * included (about 40 us a start on the development VM, bench/startup).
 * So the library does not link libconfig: this file defines the config_*
 * functions flow.c and flow_params.c call (hidden, like all of the
 * library's own symbols: a program or plugin that links libconfig keeps
 * its own), each forwarding to the library, which sy__libconfig_load()
 * dlopen()s once. The prototypes come from <libconfig.h>, so the compiler
 * checks each wrapper against the library's signature; a config_*
 * function that flow.c starts calling and that is not listed here fails
 * to link (add one line to the table and one wrapper).
 *
 * Callers call sy__libconfig_load() before config_init() and report its
 * message when it fails; the wrappers are then never reached unloaded.
 */
#include "internal.h"

#include <dlfcn.h>
#include <libconfig.h>
#include <pthread.h>
#include <stdio.h>

#ifndef SY_LIBCONFIG_SONAME
#define SY_LIBCONFIG_SONAME "libconfig.so.9"
#endif

#define LIBCONFIG_FUNCS(X)                                                     \
  X(init, config_init)                                                         \
  X(destroy, config_destroy)                                                   \
  X(read, config_read)                                                         \
  X(read_string, config_read_string)                                           \
  X(set_include_dir, config_set_include_dir)                                   \
  X(get_bool, config_setting_get_bool)                                         \
  X(get_elem, config_setting_get_elem)                                         \
  X(get_float, config_setting_get_float)                                       \
  X(get_int64, config_setting_get_int64)                                       \
  X(get_string, config_setting_get_string)                                     \
  X(length, config_setting_length)

static struct {
#define X(field, name) __typeof__(name) *field;
  LIBCONFIG_FUNCS(X)
#undef X
} lib;
static int lib_state; /* 0 not tried, 1 loaded, -1 failed */
static char lib_why[256];
static pthread_mutex_t lib_lock = PTHREAD_MUTEX_INITIALIZER;

const char *sy__libconfig_load(void) {
  pthread_mutex_lock(&lib_lock);
  if (lib_state == 0) {
    lib_state = -1;
    void *h = dlopen(SY_LIBCONFIG_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      const char *e = dlerror();
      snprintf(lib_why, sizeof lib_why,
               "cannot load %s (%s): install libconfig9", SY_LIBCONFIG_SONAME,
               e ? e : "unknown error");
    } else {
      int all = 1;
#define X(field, name)                                                         \
  if (all && !(*(void **)&lib.field = dlsym(h, #name))) {                      \
    snprintf(lib_why, sizeof lib_why, "%s has no %s", SY_LIBCONFIG_SONAME,     \
             #name);                                                           \
    all = 0;                                                                   \
  }
      LIBCONFIG_FUNCS(X)
#undef X
      lib_state = all ? 1 : -1;
    }
  }
  const char *why = lib_state > 0 ? NULL : lib_why;
  pthread_mutex_unlock(&lib_lock);
  return why;
}

/* Each wrapper: the library when loaded, else what it does on a failure
 * (callers checked sy__libconfig_load() first, so this is a backstop). */
#define LOADED() (sy__libconfig_load() == NULL)

void config_init(config_t *config) {
  if (LOADED())
    lib.init(config);
}

void config_destroy(config_t *config) {
  if (LOADED())
    lib.destroy(config);
}

int config_read(config_t *config, FILE *stream) {
  return LOADED() ? lib.read(config, stream) : CONFIG_FALSE;
}

int config_read_string(config_t *config, const char *str) {
  return LOADED() ? lib.read_string(config, str) : CONFIG_FALSE;
}

void config_set_include_dir(config_t *config, const char *include_dir) {
  if (LOADED())
    lib.set_include_dir(config, include_dir);
}

int config_setting_get_bool(const config_setting_t *setting) {
  return LOADED() ? lib.get_bool(setting) : 0;
}

config_setting_t *config_setting_get_elem(const config_setting_t *setting,
                                          unsigned int idx) {
  return LOADED() ? lib.get_elem(setting, idx) : NULL;
}

double config_setting_get_float(const config_setting_t *setting) {
  return LOADED() ? lib.get_float(setting) : 0.0;
}

long long config_setting_get_int64(const config_setting_t *setting) {
  return LOADED() ? lib.get_int64(setting) : 0;
}

const char *config_setting_get_string(const config_setting_t *setting) {
  return LOADED() ? lib.get_string(setting) : NULL;
}

int config_setting_length(const config_setting_t *setting) {
  return LOADED() ? lib.length(setting) : 0;
}
