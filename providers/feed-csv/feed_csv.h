/*
 * feed_csv.h - private to the feed-csv provider and its unit test.
 *
 * The config struct is what the core fills from the provider's option
 * table; the test fills it by hand and calls the provider through its
 * descriptor, so the descriptor is visible across this provider's files
 * (and hidden in the .so by -fvisibility=hidden).
 */
#ifndef SY_FEED_CSV_H
#define SY_FEED_CSV_H

#include <switchyard/switchyard.h>
#include <switchyard/io.h>

typedef struct feed_csv_config {
  const char *path;         /* the folder holding <table>.csv files */
  const char *delimiter;    /* exactly one character */
  const char *const *types; /* NULL or "table.column:type" entries */
} feed_csv_config;

extern const sy_provider feed_csv_provider;

#endif /* SY_FEED_CSV_H */
