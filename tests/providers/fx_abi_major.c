/*
 * fx_abi_major.c - a fixture plugin built for plugin ABI 2.x, which the
 * loader must refuse before it reads anything past the leading fields.
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
    "future",
    "1.0.0",
    "A runner from the future; a loader test fixture.",
    NULL,
    0,
    NULL,
    NULL,
    &fx_ops_any};

static const sy_provider *const fx_providers[] = {&fx_runner, NULL};

static const sy_plugin fx_descriptor = {2,
                                        0,
                                        (uint32_t)sizeof(sy_plugin),
                                        SY_BUILD_SIGNATURE,
                                        "fx-abi-major",
                                        "1.0.0",
                                        fx_providers};

SY_API const sy_plugin *sy_plugin_entry(void);
SY_API const sy_plugin *sy_plugin_entry(void) {
  return &fx_descriptor;
}
