/*
 * bench/feeds.c - times one feed instance reading one table, in-process:
 *
 *   bench/feeds CONFIG FEED TABLE MODE [REPEAT]
 *
 * MODE is "read" (the whole table), "where" (sy_feed_query: rows with
 * c0 < 100000, a tenth of bench/feeds.sh's table), "columns" (two of the
 * ten columns) or "fingerprint". Prints "rows seconds" of the best of
 * REPEAT runs (default 3). bench/feeds.sh drives it against the
 * databases' own exports.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <switchyard/switchyard.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: bench/feeds CONFIG FEED TABLE "
                    "read|where|columns|fingerprint [REPEAT]\n");
    return 2;
  }
  const char *files[] = {argv[1], NULL};
  sy_platform_options opts = {sizeof opts, files, NULL, 1, 0, NULL};
  sy_platform *p = NULL;
  sy_instance *inst = NULL;
  sy_error err;
  sy_error_clear(&err);
  int repeat = argc > 5 ? atoi(argv[5]) : 3;
  if (sy_platform_open(&opts, &p, &err) != 0 ||
      sy_instance_create(sy_platform_config(p), sy_platform_catalog(p),
                         SY_KIND_FEED, argv[2], &inst, &err) != 0) {
    fprintf(stderr, "bench/feeds: %s\n", err.message);
    sy_platform_close(p);
    return 1;
  }
  const sy_feed_ops *ops = sy_instance_provider(inst)->ops;
  const char *two[] = {"c0", "c5"};
  sy_feed_cond lt = {"c0", SY_CMP_LT, SY_COL_I64, 0, 100000, NULL};
  sy_feed_query q = {sizeof q, NULL, 0, NULL, 0, NULL, 0, -1};
  if (strcmp(argv[4], "where") == 0) {
    q.where = &lt;
    q.n_where = 1;
  } else if (strcmp(argv[4], "columns") == 0) {
    q.columns = two;
    q.n_columns = 2;
  }
  double best = 1e30;
  size_t rows = 0;
  int rc = 0;
  for (int i = 0; i < repeat && rc == 0; i++) {
    sy_value *v = NULL;
    uint8_t key[16];
    double t0 = now();
    if (strcmp(argv[4], "fingerprint") == 0)
      rc = ops->fingerprint(sy_instance_self(inst), argv[3], key, &err);
    else if (strcmp(argv[4], "read") == 0)
      rc = ops->read(sy_instance_self(inst), argv[3], &v, &err);
    else if (SY_FEED_HAS_QUERY(ops))
      rc = ops->query(sy_instance_self(inst), argv[3], &q, &v, &err);
    double t = now() - t0;
    if (t < best)
      best = t;
    if (v)
      rows = sy_frame_rows(v);
    sy_value_unref(v);
  }
  if (rc)
    fprintf(stderr, "bench/feeds: %s\n", err.message);
  else
    printf("%zu %.3f\n", rows, best);
  sy_instance_destroy(inst);
  sy_platform_close(p);
  return rc ? 1 : 0;
}
