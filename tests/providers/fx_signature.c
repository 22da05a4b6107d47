/*
 * fx_signature.c - a fixture plugin claiming a build signature of another
 * data model (32-bit pointers, big-endian); the loader must refuse it.
 */
#include <stdint.h>

#include <switchyard/switchyard.h>

typedef struct fx_ops {
  uint32_t size;
  void (*fns[8])(void); /* as large as any kind's ops */
} fx_ops;

static const fx_ops fx_ops_any = {.size = sizeof(fx_ops)};

static const sy_provider fx_runner = {
    sizeof(sy_provider),
    SY_KIND_RUNNER,
    "foreign",
    "1.0.0",
    "A runner built for another machine; a loader test fixture.",
    NULL,
    0,
    NULL,
    NULL,
    &fx_ops_any};

static const sy_provider *const fx_providers[] = {&fx_runner, NULL};

static const sy_plugin fx_descriptor = {
    SY_ABI_MAJOR,         SY_ABI_MINOR,   (uint32_t)sizeof(sy_plugin),
    "sy1:p4:l4:z4:d8:be", "fx-signature", "1.0.0",
    fx_providers};

SY_API const sy_plugin *sy_plugin_entry(void);
SY_API const sy_plugin *sy_plugin_entry(void) {
  return &fx_descriptor;
}
