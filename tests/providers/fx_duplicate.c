/*
 * fx_duplicate.c - a fixture plugin offering the runner "zeta" that
 * fx_good already offers, plus a sink of its own. Loaded after fx_good it
 * must be refused whole: neither provider may join the catalog.
 */
#include <stdint.h>

#include <switchyard/switchyard.h>

typedef struct fx_ops {
  uint32_t size;
  void (*fns[8])(void); /* as large as any kind's ops */
} fx_ops;

static const fx_ops fx_ops_any = {.size = sizeof(fx_ops)};

static const sy_provider fx_sink = {
    sizeof(sy_provider),
    SY_KIND_SINK,
    "only_here",
    "1.0.0",
    "A sink that must not load; a loader test fixture.",
    NULL,
    0,
    NULL,
    NULL,
    &fx_ops_any};

static const sy_provider fx_runner = {
    sizeof(sy_provider),
    SY_KIND_RUNNER,
    "zeta",
    "1.0.0",
    "A second runner named zeta; a loader test fixture.",
    NULL,
    0,
    NULL,
    NULL,
    &fx_ops_any};

SY_PLUGIN_DEFINE("fx-duplicate", "1.0.0", &fx_sink, &fx_runner)
