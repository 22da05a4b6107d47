/*
 * graphviz.h - the drawing runner's shared parts (private to the plugin).
 *
 * graphviz.c holds the options, the graph it builds from the job and the
 * output; runlog.c reads a JSON-lines run log (`switchyard run --log`)
 * into one final status per step, which the drawing shows as colours.
 */
#ifndef SY_RUNNER_GRAPHVIZ_H
#define SY_RUNNER_GRAPHVIZ_H

#include <locale.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <switchyard/switchyard.h>
#include <switchyard/runner.h>

/* What a step's last event in the log says about it. */
typedef enum gv_status {
  GV_NEVER = 0,   /* no event but "queued": never started */
  GV_STARTED = 1, /* started, never finished (the run was stopped) */
  GV_DONE = 2,
  GV_CACHED = 3,
  GV_FAILED = 4,
  GV_SKIPPED = 5
} gv_status;

typedef struct gv_step_run {
  gv_status status;
  double dur;  /* seconds, of the last done/cached/failed event */
  int worker;  /* of the last started or finished event; -1 = none */
  char *error; /* the last failed event's message (owned), or NULL */
} gv_step_run;

typedef struct gv_runlog {
  gv_step_run *runs; /* one per step of the job */
  size_t n;
  size_t records; /* log lines that named a step of this program */
  bool by_index;  /* no key matched: lines matched by step number */
} gv_runlog;

/* Reads the run log at `path` for `job`. Each line is matched to the
 * step with the same "key"; when no key of the whole log belongs to this
 * program (the flow changed since the run), lines are matched by "step"
 * number instead and log->by_index says so. Lines of steps this program
 * lacks are ignored. A malformed line fails with SY_ESYNTAX and
 * "path:line: why"; an unreadable file with SY_EIO. */
int gv_runlog_read(const char *path, const sy_job *job, gv_runlog *log,
                   sy_error *err);
void gv_runlog_free(gv_runlog *log);

/* Parses one line (NUL-terminated, modified in place: strings are
 * decoded where they lie) into its fields; numbers are read in `c_locale`
 * (the "C" locale, whatever the host program set). Returns NULL when the
 * line is valid, else why it is not. */
typedef struct gv_record {
  const char *event; /* required */
  int64_t step;      /* required, >= 0 */
  const char *key;   /* NULL when absent */
  double dur;        /* 0 when absent */
  int worker;        /* -1 when absent */
  const char *error; /* NULL when absent or null */
} gv_record;
const char *gv_parse_line(char *line, locale_t c_locale, gv_record *rec);

#endif /* SY_RUNNER_GRAPHVIZ_H */
