/*
 * feed_sqlite.h - private to the feed-sqlite provider and its unit test.
 */
#ifndef SY_FEED_SQLITE_H
#define SY_FEED_SQLITE_H

#include <switchyard/switchyard.h>
#include <switchyard/io.h>

typedef struct feed_sqlite_config {
  const char *path;     /* the database file */
  int64_t busy_timeout; /* ns */
} feed_sqlite_config;

extern const sy_provider feed_sqlite_provider;

#endif /* SY_FEED_SQLITE_H */
