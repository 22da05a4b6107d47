/*
 * sink_postgres.h - private to the sink-postgres provider.
 */
#ifndef SY_SINK_POSTGRES_H
#define SY_SINK_POSTGRES_H

#include <switchyard/switchyard.h>
#include <switchyard/io.h>

typedef struct sink_postgres_config {
  const char *conninfo;    /* libpq connection string */
  const char *password;    /* secret; "" for none */
  const char *table;       /* "{name}" replaced by the node's name */
  int mode;                /* 0 replace, 1 append */
  int64_t connect_timeout; /* ns */
} sink_postgres_config;

extern const sy_provider sink_postgres_provider;

#endif /* SY_SINK_POSTGRES_H */
