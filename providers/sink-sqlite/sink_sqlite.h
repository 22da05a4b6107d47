/*
 * sink_sqlite.h - private to the sink-sqlite provider and its tests.
 */
#ifndef SY_SINK_SQLITE_H
#define SY_SINK_SQLITE_H

#include <switchyard/switchyard.h>
#include <switchyard/io.h>

typedef struct sink_sqlite_config {
  const char *path;     /* the database file */
  const char *table;    /* "{name}" replaced by the node's name */
  int mode;             /* 0 replace, 1 append */
  int64_t busy_timeout; /* ns */
} sink_sqlite_config;

extern const sy_provider sink_sqlite_provider;

#endif /* SY_SINK_SQLITE_H */
