/*
 * fx_good2.c - a second well-formed fixture plugin: the runner "alpha" and
 * the sink "beta". With fx_good it gives names that sort differently from
 * load order, and a runner and a feed that share the name "alpha".
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
    "alpha",
    "2.0.0",
    "Runs nothing either; a loader test fixture.",
    NULL,
    0,
    NULL,
    NULL,
    &fx_ops_any};

static const sy_provider fx_sink = {sizeof(sy_provider),
                                    SY_KIND_SINK,
                                    "beta",
                                    "2.0.0",
                                    "Drops everything; a loader test fixture.",
                                    NULL,
                                    0,
                                    NULL,
                                    NULL,
                                    &fx_ops_any};

SY_PLUGIN_DEFINE("fx-good2", "2.0.0", &fx_runner, &fx_sink)
