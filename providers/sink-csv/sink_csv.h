/*
 * sink_csv.h - private to the sink-csv provider and its unit test.
 */
#ifndef SY_SINK_CSV_H
#define SY_SINK_CSV_H

#include <switchyard/switchyard.h>
#include <switchyard/io.h>

typedef struct sink_csv_config {
  const char *path;      /* target file; "{name}" becomes the node name */
  const char *delimiter; /* exactly one character */
  /* Source columns the core adds beside the results (NULL-terminated,
   * or NULL); the sink only declares it: see exec_sink in the core. */
  const char *const *passthrough;
} sink_csv_config;

extern const sy_provider sink_csv_provider;

#endif /* SY_SINK_CSV_H */
