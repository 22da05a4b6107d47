/*
 * fx_good.c - a well-formed fixture plugin with two providers: the runner
 * "zeta" and the feed "alpha" (with an option table). The loader tests
 * expect every one of its checks to pass on it. create() calls into the
 * library so that the plugin links libswitchyard, as real plugins do.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include <switchyard/switchyard.h>

/* Stands in for a kind's ops struct until those are defined: only the
 * leading size is read. */
typedef struct fx_ops {
  uint32_t size;
  void (*fns[8])(void); /* as large as any kind's ops */
} fx_ops;

static const fx_ops fx_runner_ops = {.size = sizeof(fx_ops)};
static const fx_ops fx_feed_ops = {.size = sizeof(fx_ops)};

typedef struct fx_feed_config {
  const char *path;
  int64_t rows;
  bool header;
  int mode;
  const char *token;
} fx_feed_config;

static const char *const fx_modes[] = {"fast", "safe", NULL};

static const sy_option fx_feed_options[] = {
    {"path", SY_OPT_PATH, SY_OPT_REQUIRED, NULL, NULL, NULL, NULL,
     offsetof(fx_feed_config, path), "Folder the rows are read from."},
    {"rows", SY_OPT_INT, 0, "10", "0", "1000", NULL,
     offsetof(fx_feed_config, rows), "How many rows to produce."},
    {"header", SY_OPT_BOOL, 0, "true", NULL, NULL, NULL,
     offsetof(fx_feed_config, header), "Whether the first row is a header."},
    {"mode", SY_OPT_ENUM, 0, "fast", NULL, NULL, fx_modes,
     offsetof(fx_feed_config, mode), "How carefully rows are read."},
    {"token", SY_OPT_STRING, SY_OPT_SECRET, NULL, NULL, NULL, NULL,
     offsetof(fx_feed_config, token),
     "Credential for the source; never shown."},
    SY_OPTION_END};

static int fx_feed_create(const void *config, void **self, sy_error *err) {
  const fx_feed_config *cfg = config;
  if (cfg->rows < 0)
    return sy_error_set(err, SY_ERANGE, "rows must not be negative");
  int64_t *rows = malloc(sizeof *rows);
  if (!rows)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  *rows = cfg->rows;
  *self = rows;
  return 0;
}

static void fx_feed_destroy(void *self) {
  free(self);
}

static const sy_provider fx_runner = {sizeof(sy_provider),
                                      SY_KIND_RUNNER,
                                      "zeta",
                                      "1.0.0",
                                      "Runs nothing; a loader test fixture.",
                                      NULL,
                                      0,
                                      NULL,
                                      NULL,
                                      &fx_runner_ops};

static const sy_provider fx_feed = {
    sizeof(sy_provider),
    SY_KIND_FEED,
    "alpha",
    "1.0.0",
    "Produces numbered rows; a loader test fixture.",
    fx_feed_options,
    sizeof(fx_feed_config),
    fx_feed_create,
    fx_feed_destroy,
    &fx_feed_ops};

SY_PLUGIN_DEFINE("fx-good", "1.0.0", &fx_runner, &fx_feed)
