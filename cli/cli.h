/*
 * cli.h - what the command's files share. The command is thin: it parses
 * arguments, calls the library, prints, and maps results to exit codes.
 */
#ifndef SY_CLI_H
#define SY_CLI_H

#include <stdio.h>

#include "switchyard/switchyard.h"
#include "switchyard/platform.h"

/* Exit codes, as documented in switchyard(1). */
#define CLI_OK 0
#define CLI_FAILED 1 /* a run (or a check) failed */
#define CLI_USAGE 2  /* bad usage or bad configuration */

typedef struct cli_ctx {
  const char *const *config_files; /* -c, NULL-terminated */
  const char *const *overrides;    /* -o and -R, NULL-terminated */
  int verbosity;                   /* -1 quiet, 0 normal, 1+ verbose */
  int verbosity_set;     /* -q or -v given: [PLATFORM] log_level is not used */
  char *project_dir;     /* folder of the flow file, if any */
  sy_platform *platform; /* opened on demand by cli_platform() */
  const char *const *params;      /* -p NAME=VALUE, NULL-terminated */
  const char *const *param_files; /* --params FILE, NULL-terminated */
} cli_ctx;

typedef struct cli_command {
  const char *name;
  const char *summary; /* one line for the command list */
  const char *usage;   /* "providers [list | help KIND.NAME | schema --json]" */
  const char *help;    /* the rest of --help */
  int (*run)(cli_ctx *ctx, int argc, char **argv);
} cli_command;

/* Opens the platform once (config layers + plugins); prints the error and
 * returns NULL on failure. Unless -q or -v was given, [PLATFORM] log_level
 * sets the verbosity (error: -1, warn and info: 0, debug: 1). Refused
 * plugins are reported on stderr unless quiet. */
sy_platform *cli_platform(cli_ctx *ctx);
/* Prints "switchyard: " + message to stderr. */
void cli_errorf(const char *fmt, ...) SY_PRINTF(1, 2);
/* Prints an sy_error as "switchyard: message". */
void cli_error(const sy_error *err);
/* Returns 1 when argv holds -h or --help (and prints the command's help). */
int cli_wants_help(const cli_command *cmd, int argc, char **argv);
void cli_print_help(const cli_command *cmd, FILE *out);
/* Splits "kind.name" into kind and a pointer to name; 0 or SY_EINVAL. */
int cli_parse_ref(const char *ref, sy_kind *kind, const char **name);

/* Writes s as a JSON string literal (with quotes), or null for NULL. */
void cli_json_string(FILE *out, const char *s);

extern const cli_command cli_cmd_providers;
extern const cli_command cli_cmd_config;
extern const cli_command cli_cmd_version;
extern const cli_command cli_cmd_check;
extern const cli_command cli_cmd_compile;
extern const cli_command cli_cmd_run;
extern const cli_command cli_cmd_train;
extern const cli_command cli_cmd_apply;
extern const cli_command cli_cmd_release;
extern const cli_command cli_cmd_registry;
extern const cli_command cli_cmd_cache;
extern const cli_command cli_cmd_exec;
extern const cli_command cli_cmd_state;
extern const cli_command cli_cmd_eval;

/* What `eval` and `train --best` take (cmd_eval.c); NULL: not given. */
typedef struct cli_eval_args {
  const char *cmd; /* for messages: "eval" or "train" */
  const char *target, *folds, *holdout, *seed, *metrics, *best, *sink;
  const char *log, *trace, *cache, *registry, *runner;
} cli_eval_args;
/* Runs the evaluation; prints the table when `print`. *best (may be
 * NULL) receives the best branch by --best (or the first metric), and
 * *best_label (may be NULL) its label (caller frees). Returns an exit
 * status. */
int cli_eval(cli_ctx *ctx, const cli_eval_args *a, int print, size_t *best,
             char **best_label);
extern const cli_command cli_cmd_serve;

#endif /* SY_CLI_H */
