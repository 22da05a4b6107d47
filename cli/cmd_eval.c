/*
 * cmd_eval.c - `switchyard eval`: cross-validation or a holdout split of
 * a flow (or a release), with its sweep branches, as one program; and
 * the best branch for `train --best` (cmd_flow.c).
 *
 *   eval FLOW|PROJECT[:RELEASE] (--folds K | --holdout F) [--seed S]
 *        [--metric M[,M...]] [--best METRIC] [--sink NAME]
 *        [-R RUNNER] [--log FILE] [--trace FILE] [--cache MODE]
 *        [--registry R]
 *
 * The program is the library's (sy_flow_compile_eval); this file parses
 * the arguments, runs the job, reads the metrics.table step it kept and
 * prints it.
 */
#include "cli.h"
#include "switchyard/event.h"
#include "switchyard/flow.h"
#include "switchyard/lifecycle.h"
#include "switchyard/registry.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Splits "a,b" into a NULL-terminated array of pointers into `copy`. */
static const char **split_list(char *copy, size_t *n) {
  size_t cap = 1;
  for (const char *c = copy; *c; c++)
    cap += *c == ',';
  const char **v = calloc(cap + 1, sizeof *v);
  *n = 0;
  if (!v)
    return NULL;
  for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ","))
    v[(*n)++] = tok;
  return v;
}

static int parse_fraction(const char *text, double *out) {
  char *end;
  errno = 0;
  double v = text ? strtod(text, &end) : 0;
  if (!text || !*text || *end || errno || !(v > 0 && v < 1))
    return -1;
  *out = v;
  return 0;
}

static int parse_uint(const char *text, unsigned long max, unsigned long *out) {
  char *end;
  if (!text || *text < '0' || *text > '9')
    return -1;
  errno = 0;
  unsigned long v = strtoul(text, &end, 10);
  if (*end || errno || v > max)
    return -1;
  *out = v;
  return 0;
}

/* Prints the table frame: one row per (branch and) metric. */
static void print_table(const sy_value *t, FILE *out) {
  size_t rows = sy_frame_rows(t), cols = sy_frame_cols(t);
  int mb = sy_frame_col_index(t, "branch");
  size_t wb = 6;
  for (size_t r = 0; mb >= 0 && r < rows; r++) {
    const char *b = sy_frame_str(t, (size_t)mb, r);
    if (b && strlen(b) > wb)
      wb = strlen(b);
  }
  for (size_t c = 0; c < cols; c++) {
    const char *name = sy_frame_col_name(t, c);
    if ((int)c == mb)
      fprintf(out, "%-*s  ", (int)wb, name);
    else if (sy_frame_col_type(t, c) == SY_COL_STR)
      fprintf(out, "%-9s", name);
    else
      fprintf(out, " %10s", name);
  }
  fputc('\n', out);
  for (size_t r = 0; r < rows; r++) {
    for (size_t c = 0; c < cols; c++) {
      if ((int)c == mb)
        fprintf(out, "%-*s  ", (int)wb, sy_frame_str(t, c, r));
      else if (sy_frame_col_type(t, c) == SY_COL_STR)
        fprintf(out, "%-9s", sy_frame_str(t, c, r));
      else
        fprintf(out, " %10.6f", sy_frame_f64(t, c)[r]);
    }
    fputc('\n', out);
  }
}

/* Keeps the table with generation `gen` (0: the latest) of release
 * origin ("PROJECT:RELEASE") as its note "eval" (sy_registry_ops
 * put_note, ABI 1.4). A release without generations, or a registry
 * without notes, is said and is not an error. */
static int store_eval(cli_ctx *ctx, sy_platform *p, const char *registry,
                      const char *origin, uint32_t gen, const sy_value *t) {
  sy_error err;
  sy_error_clear(&err);
  sy_instance *inst = NULL;
  int status = CLI_OK;
  char *copy = strdup(origin);
  char *colon = copy ? strchr(copy, ':') : NULL;
  if (!colon) {
    free(copy);
    cli_errorf("out of memory");
    return CLI_FAILED;
  }
  *colon = '\0';
  const char *project = copy, *release = colon + 1;
  int rc = sy_platform_registry(p, registry, &inst, NULL, &err);
  if (rc == 0) {
    const sy_registry_ops *ops = sy_instance_provider(inst)->ops;
    void *self = sy_instance_self(inst);
    uint32_t found = 0;
    if (ops->size <
            offsetof(sy_registry_ops, put_note) + sizeof ops->put_note ||
        !ops->put_note) {
      if (ctx->verbosity >= 0)
        fprintf(stderr,
                "switchyard: registry '%s' (provider %s) keeps no notes: "
                "the evaluation is not stored\n",
                sy_instance_name(inst), sy_instance_provider(inst)->name);
    } else if ((rc = ops->put_note(self, project, release, gen, "eval", t,
                                   &found, &err)) == 0) {
      if (ctx->verbosity >= 0)
        fprintf(stderr,
                "switchyard: stored the evaluation with generation %u of "
                "%s:%s\n",
                found, project, release);
    } else if (rc == SY_ENOENT && !gen) {
      rc = 0;
      if (ctx->verbosity >= 0)
        fprintf(stderr,
                "switchyard: %s:%s has no generation yet: the evaluation is "
                "not stored (train it first)\n",
                project, release);
    }
  }
  if (rc != 0) {
    cli_error(&err);
    status = rc == SY_ENOENT ? CLI_USAGE : CLI_FAILED;
  }
  sy_instance_destroy(inst);
  free(copy);
  return status;
}

/* The best branch by `metric` in the table: its index (rows are branch by
 * branch, one per metric), or -1 when the metric is not in it. */
static long best_branch(const sy_value *t, const char *metric, double *value) {
  int mc = sy_frame_col_index(t, "metric"), vc = sy_frame_col_index(t, "mean");
  int higher = sy_eval_metric_higher(metric);
  long best = -1, idx = 0;
  for (size_t r = 0; mc >= 0 && vc >= 0 && r < sy_frame_rows(t); r++) {
    const char *m = sy_frame_str(t, (size_t)mc, r);
    if (!m || strcmp(m, metric) != 0)
      continue;
    double v = sy_frame_f64(t, (size_t)vc)[r];
    if (best < 0 || (higher ? v > *value : v < *value)) {
      best = idx;
      *value = v;
    }
    idx++;
  }
  return best;
}

int cli_eval(cli_ctx *ctx, const cli_eval_args *a, int print, size_t *best,
             char **best_label) {
  sy_error err;
  sy_error_clear(&err);
  unsigned long folds = 0, seed = 0;
  double holdout = 0;
  if (a->folds && (parse_uint(a->folds, 1000, &folds) != 0 || folds < 2)) {
    cli_errorf("%s: --folds takes a number of folds from 2 to 1000, not '%s'",
               a->cmd, a->folds);
    return CLI_USAGE;
  }
  if (a->holdout && parse_fraction(a->holdout, &holdout) != 0) {
    cli_errorf("%s: --holdout takes the test fraction, above 0 and below 1 "
               "(0.2), not '%s'",
               a->cmd, a->holdout);
    return CLI_USAGE;
  }
  if (a->folds && a->holdout) {
    cli_errorf("%s: --folds and --holdout exclude each other", a->cmd);
    return CLI_USAGE;
  }
  if (!a->folds && !a->holdout)
    folds = 5;
  if (a->seed && parse_uint(a->seed, 0xFFFFFFFFul, &seed) != 0) {
    cli_errorf("%s: --seed takes a whole number, not '%s'", a->cmd, a->seed);
    return CLI_USAGE;
  }
  /* A flow's folder is its project, as for run. */
  struct stat st;
  if (stat(a->target, &st) == 0 && S_ISREG(st.st_mode)) {
    const char *slash = strrchr(a->target, '/');
    free(ctx->project_dir);
    ctx->project_dir =
        slash ? strndup(a->target,
                        (size_t)(slash - a->target + (slash == a->target)))
              : strdup(".");
  }
  sy_platform *p = cli_platform(ctx);
  if (!p)
    return CLI_USAGE;
  /* PROJECT:RELEASE:GEN: the release's flow, the table kept with GEN. */
  char target[512];
  uint32_t gen = 0;
  snprintf(target, sizeof target, "%s", a->target);
  if (!(stat(a->target, &st) == 0 && S_ISREG(st.st_mode))) {
    sy_registry_ref ref;
    sy_error perr;
    sy_error_clear(&perr);
    if (sy_registry_ref_parse(a->target, 1, 3, &ref, &perr) == 0) {
      if (ref.generation) {
        gen = ref.generation;
        snprintf(target, sizeof target, "%s:%s", ref.project, ref.release);
      }
      sy_registry_ref_free(&ref);
    }
  }
  char *list = a->metrics ? strdup(a->metrics)
               : a->best  ? strdup(a->best)
                          : NULL;
  size_t n_metrics = 0;
  const char **metrics = list ? split_list(list, &n_metrics) : NULL;
  if ((a->metrics || a->best) && !metrics) {
    free(list);
    cli_errorf("out of memory");
    return CLI_FAILED;
  }
  if (a->best && sy_eval_metric_higher(a->best) < 0) {
    cli_errorf("%s: --best: unknown metric '%s'; known: accuracy, log_loss, "
               "roc_auc, r2, rmse, mae",
               a->cmd, a->best);
    free(metrics);
    free(list);
    return CLI_USAGE;
  }
  int has_best = !a->best;
  for (size_t i = 0; i < n_metrics; i++)
    has_best |= a->best && strcmp(metrics[i], a->best) == 0;
  if (!has_best) {
    cli_errorf("%s: --best %s is not among --metric %s", a->cmd, a->best,
               a->metrics);
    free(metrics);
    free(list);
    return CLI_USAGE;
  }
  int status = CLI_OK, rc;
  sy_flow *flow = NULL;
  sy_program *prog = NULL;
  sy_job *job = NULL;
  char *origin = NULL;
  size_t table = 0;
  if ((rc = sy_target_flow(p, target, a->registry, stderr, &flow, &origin,
                           &err)) != 0) {
    cli_error(&err);
    status = rc == SY_ENOMEM ? CLI_FAILED : CLI_USAGE;
    goto done;
  }
  sy_eval_options eo = {sizeof eo,     (uint32_t)folds, holdout,
                        (int64_t)seed, metrics,         a->sink};
  if ((rc = sy_flow_compile_eval(p, flow, &eo, &prog, &table, &err)) != 0) {
    cli_error(&err);
    status = rc == SY_ENOMEM ? CLI_FAILED : CLI_USAGE;
    goto done;
  }
  sy_job_options jo = {sizeof jo, NULL, a->cache};
  rc = sy_job_new(p, prog, &jo, &job, &err);
  if (rc == 0 && a->log)
    rc = sy_job_log_to(job, a->log, &err);
  if (rc == 0 && a->trace)
    rc = sy_job_trace_to(job, a->trace, &err);
  if (rc == 0 && ctx->verbosity >= 0 && isatty(STDERR_FILENO))
    rc = sy_job_progress_to(job, stderr, &err);
  if (rc == 0)
    rc = sy_job_keep(job, table);
  if (rc != 0) {
    cli_error(&err);
    status = rc == SY_ENOMEM ? CLI_FAILED : CLI_USAGE;
    goto done;
  }
  rc = sy_job_run(job, a->runner, &err);
  sy_job_progress_end(job);
  if (rc != 0) {
    cli_error(&err);
    status = rc == SY_ECONFIG ? CLI_USAGE : CLI_FAILED;
    goto done;
  }
  const sy_value *t = sy_job_output(job, table, 0);
  if (!t) {
    cli_errorf("%s: the runner left the metrics table in another process; "
               "write it to a sink with --sink NAME",
               a->cmd);
    status = CLI_FAILED;
    goto done;
  }
  if (print && ctx->verbosity >= 0) {
    if (folds)
      printf("# %s: %lu-fold cross-validation, seed %lu\n",
             *origin ? origin : a->target, folds, seed);
    else
      printf("# %s: holdout %g, seed %lu\n", *origin ? origin : a->target,
             holdout, seed);
    print_table(t, stdout);
  }
  if (print && *origin &&
      (status = store_eval(ctx, p, a->registry, origin, gen, t)) != CLI_OK)
    goto done;
  size_t branches = 1;
  sy_flow_sweep_branches(flow, &branches);
  const char *by = a->best ? a->best : metrics ? metrics[0] : NULL;
  if (!by) {
    /* The first metric of the table. */
    int mc = sy_frame_col_index(t, "metric");
    by = mc >= 0 && sy_frame_rows(t) ? sy_frame_str(t, (size_t)mc, 0) : NULL;
  }
  double v = 0;
  long b = by ? best_branch(t, by, &v) : -1;
  if (b >= 0 && (branches > 1 || best)) {
    char *label = NULL;
    if (sy_flow_sweep_label(flow, (size_t)b, &label) == 0) {
      if (branches > 1 && print && ctx->verbosity >= 0)
        printf("best by %s: %s (mean %.6f)\n", by, label, v);
      if (best_label)
        *best_label = label;
      else
        free(label);
    }
    if (best)
      *best = (size_t)b;
  }
  if (fflush(stdout) != 0 || ferror(stdout))
    status = CLI_FAILED;
done:
  sy_job_free(job);
  sy_program_free(prog);
  sy_flow_free(flow);
  free(origin);
  free(metrics);
  free(list);
  return status;
}

static int cmd_eval(cli_ctx *ctx, int argc, char **argv) {
  static const struct option longopts[] = {
      {"folds", required_argument, NULL, 'k'},
      {"holdout", required_argument, NULL, 'H'},
      {"seed", required_argument, NULL, 'S'},
      {"metric", required_argument, NULL, 'M'},
      {"best", required_argument, NULL, 'B'},
      {"sink", required_argument, NULL, 'K'},
      {"log", required_argument, NULL, 'l'},
      {"trace", required_argument, NULL, 't'},
      {"cache", required_argument, NULL, 'c'},
      {"registry", required_argument, NULL, 'r'},
      {"runner", required_argument, NULL, 'R'},
      {NULL, 0, NULL, 0}};
  cli_eval_args a = {0};
  a.cmd = "eval";
  int c;
  opterr = 0;
  optind = 0;
  while ((c = getopt_long(argc, argv, "R:", longopts, NULL)) != -1) {
    switch (c) {
    case 'k':
      a.folds = optarg;
      break;
    case 'H':
      a.holdout = optarg;
      break;
    case 'S':
      a.seed = optarg;
      break;
    case 'M':
      a.metrics = optarg;
      break;
    case 'B':
      a.best = optarg;
      break;
    case 'K':
      a.sink = optarg;
      break;
    case 'l':
      a.log = optarg;
      break;
    case 't':
      a.trace = optarg;
      break;
    case 'c':
      a.cache = optarg;
      break;
    case 'r':
      a.registry = optarg;
      break;
    case 'R':
      a.runner = optarg;
      break;
    default:
      cli_errorf("eval: unknown option '%s'", argv[optind - 1]);
      fputs("try: switchyard eval --help\n", stderr);
      return CLI_USAGE;
    }
  }
  if (optind != argc - 1) {
    cli_errorf("eval: expected one FLOW or PROJECT[:RELEASE]");
    fputs("try: switchyard eval --help\n", stderr);
    return CLI_USAGE;
  }
  a.target = argv[optind];
  return cli_eval(ctx, &a, 1, NULL, NULL);
}

const cli_command cli_cmd_eval = {
    "eval", "score a flow by cross-validation or a holdout split",
    "eval FLOW|PROJECT[:RELEASE[:GEN]] [--folds K | --holdout F] [--seed S] "
    "[--metric M[,M...]] [--best METRIC] [--sink NAME] [-R RUNNER] [--log "
    "FILE] [--trace FILE] [--cache MODE] [--registry R]",
    "Trains the flow's stateful actors on the train rows of each fold and\n"
    "scores their predictions on its test rows; prints, per metric, the\n"
    "mean and standard deviation over folds and each fold's value. Folds\n"
    "(and the branches of swept parameters) are branches of one program:\n"
    "they run in parallel where the runner can, and are cached.\n"
    "  --folds K      k-fold cross-validation (default 5)\n"
    "  --holdout F    instead, one split: the fraction F of the rows is the\n"
    "                 test part; stratified by class for a string or\n"
    "                 integer label, as the folds are\n"
    "  --seed S       the seed of the row shuffle (default 0)\n"
    "  --metric M,..  accuracy, log_loss, roc_auc (binary), r2, rmse, mae;\n"
    "                 default accuracy,log_loss for std.logreg, else\n"
    "                 r2,rmse,mae\n"
    "  --best METRIC  the metric that picks the best sweep branch (default\n"
    "                 the first); alone, the only metric computed\n"
    "  --sink NAME    also write the table to this sink instance\n"
    "  --registry R   for PROJECT[:RELEASE]: the registry instance\n"
    "A release's evaluation is also stored with its generation GEN\n"
    "(default the latest) as the note \"eval\", which `registry show`\n"
    "prints; export and import carry it (a registry without notes\n"
    "says so).\n"
    "  -R, --log, --trace, --cache as for run\n",
    cmd_eval};
