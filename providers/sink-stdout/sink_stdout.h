/*
 * sink_stdout.h - private to the sink-stdout provider and its unit test.
 *
 * sink_stdout_open() is create() with the stream made a parameter, so the
 * test can point the sink at a temporary file or a pipe instead of the
 * process's stdout.
 */
#ifndef SY_SINK_STDOUT_H
#define SY_SINK_STDOUT_H

#include <stdio.h>

#include <switchyard/switchyard.h>
#include <switchyard/io.h>

enum { SINK_STDOUT_AUTO = 0, SINK_STDOUT_CSV = 1, SINK_STDOUT_TABLE = 2 };

typedef struct sink_stdout_config {
  int format;       /* SINK_STDOUT_*: index into auto|csv|table */
  int64_t max_rows; /* table rows shown; 0 = all */
  /* Source columns the core adds beside the results (NULL-terminated,
   * or NULL); the sink only declares it: see exec_sink in the core. */
  const char *const *passthrough;
} sink_stdout_config;

/* Makes an instance writing to out (borrowed; must outlive the instance).
 * Free it with sink_stdout_provider.destroy. */
int sink_stdout_open(const sink_stdout_config *cfg, FILE *out, void **self,
                     sy_error *err);

extern const sy_provider sink_stdout_provider;

#endif /* SY_SINK_STDOUT_H */
