/*
 * fx_unresolved.c - a fixture plugin that calls a function nothing
 * defines. It links (shared objects may leave symbols undefined), but
 * dlopen(RTLD_NOW) must fail and the loader must pass the reason on.
 */
#include <stdint.h>

#include <switchyard/switchyard.h>

/* Default visibility: a hidden undefined symbol would not even link. */
SY_API int fx_missing_function_xyzzy(void);

typedef struct fx_ops {
  uint32_t size;
  void (*fns[8])(void); /* as large as any kind's ops */
} fx_ops;

static const fx_ops fx_ops_any = {.size = sizeof(fx_ops)};

static int fx_create(const void *config, void **self, sy_error *err) {
  *self = NULL;
  return fx_missing_function_xyzzy();
}

static void fx_destroy(void *self) {}

static const sy_provider fx_runner = {
    sizeof(sy_provider),
    SY_KIND_RUNNER,
    "unresolved",
    "1.0.0",
    "A runner with an unresolved symbol; a loader test fixture.",
    NULL,
    0,
    fx_create,
    fx_destroy,
    &fx_ops_any};

SY_PLUGIN_DEFINE("fx-unresolved", "1.0.0", &fx_runner)
