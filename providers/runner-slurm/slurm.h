/*
 * slurm.h - runner-slurm's pieces: its config and how it runs Slurm's
 * commands (proc.c).
 */
#ifndef SY_RUNNER_SLURM_H
#define SY_RUNNER_SLURM_H

#include <stdbool.h>
#include <stdint.h>
#include <switchyard/switchyard.h>

enum { SLURM_STEP = 0, SLURM_CHAIN = 1 };

typedef struct slurm_config {
  const char *partition;   /* "" = the cluster's default */
  const char *account;     /* "" = the user's default */
  const char *sbatch_args; /* more sbatch options, split at whitespace */
  int64_t poll;            /* ns between two looks at the queue */
  const char *workdir;     /* shared folder: program, scripts, job logs */
  int granularity;         /* SLURM_STEP or SLURM_CHAIN */
  bool keep_going;
  int64_t retries;
  int64_t backoff; /* ns before the first resubmission */
  const char *command;
} slurm_config;

/* Runs argv (argv[0] looked up on PATH) with stdin from /dev/null and
 * collects its standard output into out and error into errb (either may
 * be NULL: dropped; each NUL-terminated, at most 1 MiB kept). Returns the
 * exit status (0-255; 128+N for a signal), or an SY_E* code (< 0) with
 * err set when it could not be run at all (SY_ECONFIG: not installed). */
int slurm_cmd(char *const argv[], sy_buf *out, sy_buf *errb, sy_error *err);

/* The last non-empty line of b into line (cap bytes), returned. */
const char *slurm_last_line(sy_buf *b, char *line, size_t cap);

#endif /* SY_RUNNER_SLURM_H */
