/*
 * fx_oldfeed.c - a feed laid out as an ABI 1.0 plugin would be: its ops
 * struct ends after `fingerprint` (no describe, no query). It reads
 * <path>/<table>.csv with the core's CSV reader, typed as the e2e test's
 * csv feed types them. tests/e2e/sql.sh runs pushdown flows through it:
 * the core must apply the query itself (sy_feed_query_apply) and give the
 * rows the other feeds give.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <switchyard/switchyard.h>

typedef struct fx_oldfeed_config {
  const char *path;
} fx_oldfeed_config;

/* The ABI 1.0 feed ops: size, read, fingerprint. */
typedef struct fx_ops_1_0 {
  uint32_t size;
  int (*read)(void *self, const char *table, sy_value **out, sy_error *err);
  int (*fingerprint)(void *self, const char *table, uint8_t key[16],
                     sy_error *err);
} fx_ops_1_0;

static int old_read(void *self, const char *table, sy_value **out,
                    sy_error *err) {
  const fx_oldfeed_config *cfg = self;
  char path[4096];
  void *data = NULL;
  size_t len = 0;
  snprintf(path, sizeof path, "%s/%s.csv", cfg->path, table);
  int rc = sy_file_read(path, SIZE_MAX, &data, &len, err);
  if (rc)
    return rc;
  static const char *const types[] = {"age:i64", "score:f64", NULL};
  sy_csv_options opts = {0};
  opts.size = sizeof opts;
  opts.delimiter = ',';
  opts.types = strcmp(table, "people") == 0 ? types : NULL;
  opts.name = path;
  rc = sy_csv_read(data, len, &opts, out, err);
  free(data);
  return rc;
}

static int old_create(const void *config, void **self, sy_error *err) {
  (void)err;
  *self = (void *)config;
  return 0;
}

static void old_destroy(void *self) {
  (void)self;
}

static const fx_ops_1_0 old_ops = {sizeof(fx_ops_1_0), old_read, NULL};

static const sy_option old_options[] = {
    {"path", SY_OPT_PATH, SY_OPT_REQUIRED, NULL, NULL, NULL, NULL,
     offsetof(fx_oldfeed_config, path), "Folder of <table>.csv files."},
    SY_OPTION_END};

static const sy_provider old_feed = {sizeof(sy_provider),
                                     SY_KIND_FEED,
                                     "old",
                                     "1.0.0",
                                     "A feed with the ABI 1.0 ops; a fixture.",
                                     old_options,
                                     sizeof(fx_oldfeed_config),
                                     old_create,
                                     old_destroy,
                                     &old_ops};

SY_PLUGIN_DEFINE("fx-oldfeed", "1.0.0", &old_feed)
