/*
 * jansson_lazy.c - libjansson, loaded when a trained state is first
 * described (sy_states_describe, inspect.c), not at every start.
 *
 * Each library linked into libswitchyard is mapped and relocated by every
 * process that starts, `switchyard run` included (about 40 us each on the
 * development VM, bench/startup); only `state show` and `registry show
 * --states` parse JSON. So libswitchyard does not link libjansson: this
 * file defines the json_* functions inspect.c calls (hidden, like all of
 * the library's own symbols: a program or plugin that links jansson keeps
 * its own), each of which dlopen()s the library at its first use and
 * forwards to it. The prototypes come from <jansson.h>, so the compiler
 * checks each wrapper against the library's signature.
 *
 * A call inspect.c adds that is not listed here fails to link: add one
 * line to the table and one wrapper. The first load takes a mutex; the
 * library stays loaded until exit. When libjansson cannot be loaded,
 * every function fails as jansson's own do when out of memory (NULL, -1),
 * and sy_jansson_lazy_error() says why for the caller's message.
 */
#include <jansson.h>

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#include "jansson_lazy.h"

#ifndef SY_JANSSON_SONAME
#define SY_JANSSON_SONAME "libjansson.so.4"
#endif

#define JANSSON_FUNCS(X)                                                       \
  X(object, json_object)                                                       \
  X(string, json_string)                                                       \
  X(null, json_null)                                                           \
  X(object_set_new, json_object_set_new)                                       \
  X(loadb, json_loadb)                                                         \
  X(dumps, json_dumps)                                                         \
  X(del, json_delete)

static struct {
#define X(field, name) __typeof__(name) *field;
  JANSSON_FUNCS(X)
#undef X
} lib;
static int lib_state; /* 0 not tried, 1 loaded, -1 failed */
static char lib_why[256];
static pthread_mutex_t lib_lock = PTHREAD_MUTEX_INITIALIZER;

static int lib_load(void) {
  pthread_mutex_lock(&lib_lock);
  if (lib_state == 0) {
    lib_state = -1;
    void *h = dlopen(SY_JANSSON_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      const char *e = dlerror();
      snprintf(lib_why, sizeof lib_why,
               "cannot load %s (%s): install libjansson4", SY_JANSSON_SONAME,
               e ? e : "unknown error");
    } else {
      int all = 1;
#define X(field, name)                                                         \
  if (all && !(*(void **)&lib.field = dlsym(h, #name))) {                      \
    snprintf(lib_why, sizeof lib_why, "%s has no %s", SY_JANSSON_SONAME,       \
             #name);                                                           \
    all = 0;                                                                   \
  }
      JANSSON_FUNCS(X)
#undef X
      lib_state = all ? 1 : -1;
    }
  }
  int ok = lib_state > 0;
  pthread_mutex_unlock(&lib_lock);
  return ok;
}

const char *sy_jansson_lazy_error(void) {
  return lib_load() ? NULL : lib_why;
}

json_t *json_object(void) {
  return lib_load() ? lib.object() : NULL;
}

json_t *json_string(const char *value) {
  return lib_load() ? lib.string(value) : NULL;
}

json_t *json_null(void) {
  return lib_load() ? lib.null() : NULL;
}

int json_object_set_new(json_t *object, const char *key, json_t *value) {
  if (lib_load())
    return lib.object_set_new(object, key, value);
  return -1;
}

json_t *json_loadb(const char *buffer, size_t buflen, size_t flags,
                   json_error_t *error) {
  if (lib_load())
    return lib.loadb(buffer, buflen, flags, error);
  if (error)
    snprintf(error->text, sizeof error->text, "%.*s",
             (int)(sizeof error->text - 1), lib_why);
  return NULL;
}

char *json_dumps(const json_t *json, size_t flags) {
  return lib_load() ? lib.dumps(json, flags) : NULL;
}

/* json_decref() (inline in <jansson.h>) calls it for the last reference:
 * only ever on a value the library made, so it is loaded. */
void json_delete(json_t *json) {
  if (lib_load())
    lib.del(json);
}
