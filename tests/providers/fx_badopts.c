/*
 * fx_badopts.c - a fixture plugin whose option table has an option with
 * no help text; the loader must refuse the whole plugin.
 */
#include <stdint.h>

#include <switchyard/switchyard.h>

typedef struct fx_ops {
  uint32_t size;
  void (*fns[8])(void); /* as large as any kind's ops */
} fx_ops;

static const fx_ops fx_ops_any = {.size = sizeof(fx_ops)};

typedef struct fx_config {
  int64_t workers;
  int64_t retries;
} fx_config;

static const sy_option fx_options[] = {
    {"workers", SY_OPT_INT, 0, "1", "1", NULL, NULL,
     offsetof(fx_config, workers), "How many workers run at once."},
    {"retries", SY_OPT_INT, 0, "0", "0", NULL, NULL,
     offsetof(fx_config, retries), NULL},
    SY_OPTION_END};

static const sy_provider fx_runner = {
    sizeof(sy_provider),
    SY_KIND_RUNNER,
    "badopts",
    "1.0.0",
    "A runner with an undocumented option; a loader test fixture.",
    fx_options,
    sizeof(fx_config),
    NULL,
    NULL,
    &fx_ops_any};

SY_PLUGIN_DEFINE("fx-badopts", "1.0.0", &fx_runner)
