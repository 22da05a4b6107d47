/*
 * feed_postgres.h - private to the feed-postgres provider.
 */
#ifndef SY_FEED_POSTGRES_H
#define SY_FEED_POSTGRES_H

#include <switchyard/switchyard.h>
#include <switchyard/io.h>

typedef struct feed_postgres_config {
  const char *conninfo;       /* libpq connection string */
  const char *password;       /* secret; "" for none */
  const char *version_column; /* "" for none */
  const char *snapshot;       /* "" for none */
  int64_t connect_timeout;    /* ns */
} feed_postgres_config;

extern const sy_provider feed_postgres_provider;

#endif /* SY_FEED_POSTGRES_H */
