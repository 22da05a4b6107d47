/*
 * fx_abi_minor.c - a fixture plugin that needs ABI 1.99, newer than the
 * core's minor; the loader must refuse it and suggest an upgrade.
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
    "newer",
    "1.0.0",
    "A runner needing a newer core; a loader test fixture.",
    NULL,
    0,
    NULL,
    NULL,
    &fx_ops_any};

static const sy_provider *const fx_providers[] = {&fx_runner, NULL};

static const sy_plugin fx_descriptor = {SY_ABI_MAJOR,
                                        99,
                                        (uint32_t)sizeof(sy_plugin),
                                        SY_BUILD_SIGNATURE,
                                        "fx-abi-minor",
                                        "1.0.0",
                                        fx_providers};

SY_API const sy_plugin *sy_plugin_entry(void);
SY_API const sy_plugin *sy_plugin_entry(void) {
  return &fx_descriptor;
}
