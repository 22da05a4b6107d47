/*
 * cmd_flow.c - the flow commands: check, compile, run, train, apply, and
 * exec, which runs one step of a compiled program.
 *
 *   check FLOW                          validate; print every problem
 *   compile FLOW [--mode M] [-o PROGRAM] [--explain] [--state FILE]
 *   run FLOW                            train in memory if needed, apply,
 *                                       write to the sink
 *   train FLOW --state FILE             fit, commit the states to FILE
 *   apply FLOW --state FILE             load the states, apply, sink
 *   exec PROGRAM --step N[,N...] | --list  steps, inputs and outputs
 *                                       through the storage; or the steps
 *
 * Exit status: 0 ok; 1 the run failed; 2 usage, config or flow errors.
 */
#include "cli.h"
#include "switchyard/event.h"
#include "switchyard/file.h"
#include "switchyard/flow.h"
#include "switchyard/lifecycle.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <signal.h>
#include <stdint.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

typedef struct flow_args {
  const char *flow;
  const char *from;
  const char *cache;
  const char *registry;
  const char *log;
  const char *trace;
  const char *state;
  const char *output;
  const char *mode;
  const char *runner; /* -R after the command, for run/train/apply */
  const char *step;
  const char *best, *folds, *holdout, *seed; /* train --best */
  int explain;
  int list;
} flow_args;

/* Parses FLOW (exec: PROGRAM) and the options a command allows ("s" state,
 * "o" output, "m" mode, "e" explain, "l" log, "t" trace, "c" cache, "r"
 * registry, "f" from, "n" step, "L" list). */
static int parse(const char *cmd, const char *allowed, int argc, char **argv,
                 flow_args *a) {
  static const struct option longopts[] = {
      {"state", required_argument, NULL, 's'},
      {"output", required_argument, NULL, 'o'},
      {"mode", required_argument, NULL, 'm'},
      {"explain", no_argument, NULL, 'e'},
      {"log", required_argument, NULL, 'l'},
      {"trace", required_argument, NULL, 't'},
      {"cache", required_argument, NULL, 'c'},
      {"registry", required_argument, NULL, 'r'},
      {"from", required_argument, NULL, 'f'},
      {"runner", required_argument, NULL, 'R'},
      {"step", required_argument, NULL, 'n'},
      {"list", no_argument, NULL, 'L'},
      {"best", required_argument, NULL, 'b'},
      {"folds", required_argument, NULL, 'k'},
      {"holdout", required_argument, NULL, 'H'},
      {"seed", required_argument, NULL, 'S'},
      {NULL, 0, NULL, 0}};
  memset(a, 0, sizeof *a);
  int c;
  opterr = 0;
  optind = 0; /* 0 makes glibc reinitialize its scanning state */
  while ((c = getopt_long(argc, argv, "s:o:m:eR:", longopts, NULL)) != -1) {
    if (c == '?' || !strchr(allowed, c)) {
      cli_errorf("%s: unknown option '%s'", cmd, argv[optind - 1]);
      fprintf(stderr, "try: switchyard %s --help\n", cmd);
      return CLI_USAGE;
    }
    switch (c) {
    case 's':
      a->state = optarg;
      break;
    case 'o':
      a->output = optarg;
      break;
    case 'm':
      a->mode = optarg;
      break;
    case 'e':
      a->explain = 1;
      break;
    case 'l':
      a->log = optarg;
      break;
    case 't':
      a->trace = optarg;
      break;
    case 'c':
      a->cache = optarg;
      break;
    case 'r':
      a->registry = optarg;
      break;
    case 'f':
      a->from = optarg;
      break;
    case 'R':
      a->runner = optarg;
      break;
    case 'n':
      a->step = optarg;
      break;
    case 'L':
      a->list = 1;
      break;
    case 'b':
      a->best = optarg;
      break;
    case 'k':
      a->folds = optarg;
      break;
    case 'H':
      a->holdout = optarg;
      break;
    case 'S':
      a->seed = optarg;
      break;
    }
  }
  if (optind != argc - 1) {
    cli_errorf("%s: expected one %s file", cmd,
               strcmp(cmd, "exec") == 0 ? "PROGRAM" : "FLOW");
    fprintf(stderr, "try: switchyard %s --help\n", cmd);
    return CLI_USAGE;
  }
  a->flow = argv[optind];
  return CLI_OK;
}

/* The flow's folder is its project: its switchyard.ini is a config layer. */
static void set_project(cli_ctx *ctx, const char *flow) {
  const char *slash = strrchr(flow, '/');
  free(ctx->project_dir);
  ctx->project_dir =
      slash ? strndup(flow, (size_t)(slash - flow + (slash == flow)))
            : strdup(".");
}

/* Before anything runs, every failure is about what the user gave us (the
 * flow, the config, the states): exit 2; only running out of memory is 1. */
static int status_before_run(int rc) {
  return rc == SY_ENOMEM ? CLI_FAILED : CLI_USAGE;
}

static int cmd_check(cli_ctx *ctx, int argc, char **argv) {
  flow_args a;
  int rc = parse("check", "", argc, argv, &a);
  if (rc)
    return rc;
  set_project(ctx, a.flow);
  sy_platform *p = cli_platform(ctx);
  if (!p)
    return CLI_USAGE;
  sy_error err;
  sy_error_clear(&err);
  if (sy_flow_check(p, a.flow, stderr, &err) != 0) {
    cli_errorf("%s: the flow has errors (see above)", a.flow);
    return CLI_USAGE;
  }
  if (ctx->verbosity >= 0)
    printf("%s: ok\n", a.flow);
  return CLI_OK;
}

static int cmd_compile(cli_ctx *ctx, int argc, char **argv) {
  flow_args a;
  int rc = parse("compile", "smoe", argc, argv, &a);
  if (rc)
    return rc;
  sy_mode mode = SY_MODE_RUN;
  if (a.mode && sy_mode_parse(a.mode, &mode) != 0) {
    cli_errorf("compile: --mode must be run, train or apply, not '%s'", a.mode);
    return CLI_USAGE;
  }
  sy_error err;
  sy_error_clear(&err);
  /* A path that cannot be written is refused before the work (the
   * writer checks again when it opens the file). */
  if (a.output && sy_output_check(a.output, &err) != 0) {
    cli_error(&err);
    return CLI_USAGE;
  }
  set_project(ctx, a.flow);
  sy_platform *p = cli_platform(ctx);
  if (!p)
    return CLI_USAGE;
  sy_program *prog = NULL;
  sy_compile_options copts = {sizeof copts, a.state};
  rc = sy_program_compile(p, a.flow, mode, &copts, stderr, &prog, &err);
  if (rc) {
    cli_error(&err);
    return status_before_run(rc);
  }
  int status = CLI_OK;
  if (a.output && sy_program_save(prog, a.output, &err) != 0) {
    cli_error(&err);
    status = CLI_FAILED;
  }
  if (status == CLI_OK && (a.explain || !a.output))
    sy_program_explain(prog, stdout);
  sy_program_free(prog);
  return status;
}

/* Ctrl-C asks the running job to stop cleanly; a second one kills. */
static sy_job *volatile running_job;

static void on_interrupt(int sig) {
  if (running_job) {
    sy_job_cancel(running_job);
    running_job = NULL;
    return;
  }
  signal(sig, SIG_DFL);
  raise(sig);
}

static void watch_interrupts(sy_job *job) {
  running_job = job;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = job ? on_interrupt : SIG_DFL;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

/* This process's rank when an MPI launcher started it (mpirun sets one of
 * these: Open MPI, PMIx, MPICH's Hydra), else 0. Only rank 0 reports:
 * the other ranks run the same command to serve the MPI runner, and their
 * logs, progress lines and messages would repeat or clobber rank 0's. */
static long launcher_rank(void) {
  static const char *const vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK",
                                     "PMI_RANK"};
  for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
    const char *v = getenv(vars[i]);
    char *end;
    long r = v && *v ? strtol(v, &end, 10) : 0;
    if (v && *v && !*end && r > 0)
      return r;
  }
  return 0;
}

/* -v: each note an actor makes ("std.scaler: column 'name' is text ...")
 * on stderr, after the step it came from; ud is non-NULL when a progress
 * line is drawn there, which the note must not run into. */
static void print_note(void *ud, const sy_job *job, const sy_event *ev) {
  if (ev->type != SY_EVENT_NOTE || !ev->message)
    return;
  fprintf(stderr, "%sswitchyard: note: step %u (%s): %s\n",
          ud ? "\r\033[K" : "", ev->step, sy_job_step_label(job, ev->step),
          ev->message);
}

/* Unless -q: each warning (sy_warn: "std.logreg: lbfgs did not converge
 * ..."), the same way. */
static void print_warning(void *ud, const sy_job *job, const sy_event *ev) {
  if (ev->type != SY_EVENT_WARNING || !ev->message)
    return;
  fprintf(stderr, "%sswitchyard: warning: step %u (%s): %s\n",
          ud ? "\r\033[K" : "", ev->step, sy_job_step_label(job, ev->step),
          ev->message);
}

/* Binds a program to the platform as run, train, apply and exec do: the
 * cache mode, the run log, the trace, (progress) the progress line and
 * (verbosity > 0) the notes and (verbosity >= 0) the warnings. On
 * failure *job is NULL. */
static int bind_job(sy_platform *p, const sy_program *prog, const flow_args *a,
                    const char *state_file, int progress, int verbosity,
                    sy_job **job, sy_error *err) {
  sy_job_options jopts = {sizeof jopts, state_file, a->cache};
  int rc = sy_job_new(p, prog, &jopts, job, err);
  if (rc == 0 && a->log)
    rc = sy_job_log_to(*job, a->log, err);
  if (rc == 0 && a->trace)
    rc = sy_job_trace_to(*job, a->trace, err);
  if (rc == 0 && progress)
    rc = sy_job_progress_to(*job, stderr, err);
  if (rc == 0 && verbosity > 0 &&
      (rc = sy_job_listen(*job, print_note, progress ? *job : NULL)) != 0)
    sy_error_set(err, rc, "out of memory");
  if (rc == 0 && verbosity >= 0 &&
      (rc = sy_job_listen(*job, print_warning, progress ? *job : NULL)) != 0)
    sy_error_set(err, rc, "out of memory");
  if (rc) {
    sy_job_free(*job);
    *job = NULL;
  }
  return rc;
}

/* Counts the steps that ran (DONE or CACHED). */
static void count_ran(void *ud, const sy_job *job, const sy_event *ev) {
  (void)job;
  if (ev->type == SY_EVENT_DONE || ev->type == SY_EVENT_CACHED)
    ++*(size_t *)ud;
}

/* Runs the job; its progress line, if any, is ended before the caller
 * prints anything (an error, the train summary). */
static int run_job(sy_job *job, const char *runner, sy_error *err) {
  int rc = sy_job_run(job, runner, err);
  sy_job_progress_end(job);
  return rc;
}

static int run_mode(cli_ctx *ctx, const char *cmd, sy_mode mode, int argc,
                    char **argv) {
  flow_args a;
  int rc = parse(cmd,
                 mode == SY_MODE_RUN     ? "sltceR"
                 : mode == SY_MODE_TRAIN ? "sltcrefRbkHS"
                                         : "sltcreR",
                 argc, argv, &a);
  if (rc)
    return rc;
  if (a.state && a.registry) {
    cli_errorf("%s: --state and --registry exclude each other", cmd);
    return CLI_USAGE;
  }
  /* Without --state, train and apply use the registry. */
  int use_registry = mode != SY_MODE_RUN && !a.state;
  unsigned long from = 0;
  if (a.from) {
    char *end;
    /* Digits only, no sign, no space, no leading zero: "+1" and "01" are
     * not generation 1. */
    if (a.from[0] >= '1' && a.from[0] <= '9' &&
        strspn(a.from, "0123456789") == strlen(a.from))
      from = strtoul(a.from, &end, 10);
    if (from == 0 || from > UINT32_MAX || !use_registry) {
      cli_errorf("train: --from takes a generation number (1, 2, ...) and "
                 "needs the registry (not --state)");
      return CLI_USAGE;
    }
  }
  bool helper = launcher_rank() > 0;
  if (helper) {
    a.log = a.trace = NULL;
    if (ctx->verbosity >= 0)
      ctx->verbosity = -1;
    ctx->verbosity_set = 1; /* log_level does not make a helper speak */
  }
  sy_error err;
  sy_error_clear(&err);
  /* train --state names a file to write: one that cannot be written is
   * refused before anything is trained (the writer checks again when it
   * opens the file). */
  if (mode == SY_MODE_TRAIN && a.state && sy_output_check(a.state, &err) != 0) {
    cli_error(&err);
    return CLI_USAGE;
  }
  set_project(ctx, a.flow);
  sy_platform *p = cli_platform(ctx);
  if (!p)
    return CLI_USAGE;
  sy_program *prog = NULL;
  sy_job *job = NULL;
  sy_compile_options copts = {sizeof copts, a.state};
  sy_target_options topts = {sizeof topts, a.registry, (uint32_t)from, 0};
  FILE *notes = helper ? NULL : stderr;
  if ((a.folds || a.holdout || a.seed) && !a.best) {
    cli_errorf("train: --folds, --holdout and --seed go with --best METRIC");
    return CLI_USAGE;
  }
  if (a.best) {
    /* Evaluate the sweep branches, then train the best one. */
    cli_eval_args ea = {"train", a.flow,     a.folds, a.holdout, a.seed,
                        NULL,    a.best,     NULL,    NULL,      NULL,
                        a.cache, a.registry, a.runner};
    size_t best = 0;
    char *label = NULL;
    int st = cli_eval(ctx, &ea, ctx->verbosity > 0, &best, &label);
    if (st != CLI_OK) {
      free(label);
      return st;
    }
    if (ctx->verbosity >= 0)
      fprintf(stderr, "switchyard: best by %s: %s\n", a.best,
              label && *label ? label : "(no sweeps: the flow as written)");
    free(label);
    topts.branch = (uint32_t)best + 1;
  }
  if (use_registry) {
    rc = sy_program_compile_target(p, a.flow, mode, &topts, notes, &prog, &err);
  } else if (topts.branch) {
    sy_flow *flow = NULL;
    rc = sy_flow_load(p, a.flow, NULL, notes, &flow, &err);
    if (rc == 0)
      rc = sy_flow_sweep_fix(flow, topts.branch - 1, &err);
    if (rc == 0)
      rc = sy_flow_compile(p, flow, mode, NULL, &prog, &err);
    sy_flow_free(flow);
  } else {
    rc = sy_program_compile(p, a.flow, mode, &copts, notes, &prog, &err);
  }
  if (rc) {
    cli_error(&err);
    return status_before_run(rc);
  }
  rc = bind_job(p, prog, &a, mode == SY_MODE_TRAIN ? a.state : NULL,
                ctx->verbosity >= 0 && isatty(STDERR_FILENO), ctx->verbosity,
                &job, &err);
  int status = CLI_OK;
  if (rc == 0 && a.explain) {
    rc = sy_job_explain(job, stdout);
    sy_job_free(job);
    sy_program_free(prog);
    return rc ? CLI_FAILED : CLI_OK;
  }
  /* train: whether any step ran, for the summary. */
  size_t ran = 0;
  if (rc == 0 && mode == SY_MODE_TRAIN &&
      (rc = sy_job_listen(job, count_ran, &ran)) != 0)
    sy_error_set(&err, rc, "out of memory");
  if (rc == 0)
    watch_interrupts(job);
  if (rc) {
    cli_error(&err);
    status = status_before_run(rc);
  } else if ((rc = run_job(job, a.runner, &err)) != 0) {
    cli_error(&err);
    status = rc == SY_ECONFIG ? CLI_USAGE : CLI_FAILED;
  } else if (mode == SY_MODE_TRAIN && ctx->verbosity >= 0) {
    /* The core checked that every step ran, unless the runner runs none
     * by design (graphviz): then nothing was committed. A runner may also
     * have run the commit in another process, which committed there;
     * this one holds no states then. */
    if (!sy_job_states(job) && ran == 0)
      fprintf(stderr, "switchyard: nothing was trained or committed (the "
                      "runner ran no step)\n");
    else if (!sy_job_states(job) && use_registry)
      fprintf(stderr,
              "switchyard: committed a new generation of %s (in "
              "another process; `switchyard registry list` shows "
              "it)\n",
              sy_program_origin(prog));
    else if (use_registry)
      fprintf(stderr, "switchyard: committed generation %u of %s\n",
              sy_job_generation(job), sy_program_origin(prog));
    else
      fprintf(stderr, "switchyard: trained states written to %s\n", a.state);
  }
  watch_interrupts(NULL);
  sy_job_free(job);
  sy_program_free(prog);
  return status;
}

static int cmd_run(cli_ctx *ctx, int argc, char **argv) {
  return run_mode(ctx, "run", SY_MODE_RUN, argc, argv);
}
static int cmd_train(cli_ctx *ctx, int argc, char **argv) {
  return run_mode(ctx, "train", SY_MODE_TRAIN, argc, argv);
}
static int cmd_apply(cli_ctx *ctx, int argc, char **argv) {
  return run_mode(ctx, "apply", SY_MODE_APPLY, argc, argv);
}

static void note_start(void *ud, const sy_job *job, const sy_event *ev) {
  (void)job;
  if (ev->type == SY_EVENT_STARTED)
    *(int *)ud = 1;
}

/* One line per step for a batch or cluster engine to build its DAG from:
 * number, op, label, key, inputs ("1,2" or "-"), tab-separated, and a
 * sixth field only for a step whose flow node sets resources ("cpus=2
 * memory=4G retries=3 timeout=10m"). A label names flow ids, which may
 * hold anything: tabs and newlines become spaces so a line stays one
 * record. */
static void list_steps(const sy_job *job, FILE *out) {
  for (size_t s = 0; s < sy_job_size(job); s++) {
    fprintf(out, "%zu\t%s\t", s, sy_op_name(sy_job_step_op(job, s)));
    for (const char *c = sy_job_step_label(job, s); *c; c++)
      fputc(*c == '\t' || *c == '\n' || *c == '\r' ? ' ' : *c, out);
    fprintf(out, "\t%s\t", sy_job_step_key(job, s));
    const uint32_t *idx = NULL;
    size_t n = sy_job_step_inputs(job, s, &idx);
    for (size_t i = 0; i < n; i++)
      fprintf(out, "%s%u", i ? "," : "", idx[i]);
    if (!n)
      fputc('-', out);
    sy_step_resources r = {.size = sizeof r};
    char res[160] = "";
    if (sy_job_step_resources(job, s, &r) == 0)
      sy_step_resources_format(&r, res, sizeof res);
    if (res[0])
      fprintf(out, "\t%s", res);
    fputc('\n', out);
  }
}

/* Sets *step from one number of --step's text: a whole decimal number, no
 * sign, ending at the end of the text or at a comma (*end is set there). */
static int parse_step(const char *text, size_t *step, const char **end) {
  char *e;
  if (!text || *text < '0' || *text > '9')
    return -1;
  errno = 0;
  unsigned long long v = strtoull(text, &e, 10);
  if ((*e && *e != ',') || errno || v > SIZE_MAX)
    return -1;
  *step = (size_t)v;
  *end = e;
  return 0;
}

/* --step N or --step N,M,...: the steps one exec runs, in that order (a
 * batch job that runs a chain of steps in one process). *steps is
 * malloc()ed; 0, 1 for bad text, SY_ENOMEM. */
static int parse_steps(const char *text, size_t **steps, size_t *n) {
  size_t cap = 1;
  for (const char *c = text; *c; c++)
    cap += *c == ',';
  if (!(*steps = malloc(cap * sizeof **steps)))
    return SY_ENOMEM;
  *n = 0;
  for (const char *c = text;;) {
    const char *end;
    if (parse_step(c, &(*steps)[*n], &end) != 0)
      return 1;
    ++*n;
    if (!*end)
      return 0;
    c = end + 1;
  }
}

static int cmd_exec(cli_ctx *ctx, int argc, char **argv) {
  flow_args a;
  int rc = parse("exec", "sltcnL", argc, argv, &a);
  if (rc)
    return rc;
  size_t *steps = NULL, n_steps = 0;
  if (!a.list == !a.step) {
    cli_errorf("exec: give either --step N or --list");
    fputs("try: switchyard exec --help\n", stderr);
    return CLI_USAGE;
  }
  if (a.step && (rc = parse_steps(a.step, &steps, &n_steps)) != 0) {
    free(steps);
    if (rc == SY_ENOMEM)
      return CLI_FAILED;
    cli_errorf("exec: --step takes a step number (0, 1, ...; see exec "
               "--list), or several separated by commas, not '%s'",
               a.step);
    return CLI_USAGE;
  }
  sy_error err;
  sy_error_clear(&err);
  sy_program *prog = NULL;
  sy_job *job = NULL;
  if ((rc = sy_program_load(a.flow, &prog, &err)) != 0) {
    cli_error(&err);
    free(steps);
    return status_before_run(rc);
  }
  /* The program's project is the folder of the flow it came from, so its
   * switchyard.ini (the feed's folder, ...) applies as it did to compile. */
  if (*sy_program_flow_file(prog))
    set_project(ctx, sy_program_flow_file(prog));
  int status = CLI_OK;
  sy_platform *p = cli_platform(ctx);
  if (!p) {
    status = CLI_USAGE;
    goto done;
  }
  if ((rc = bind_job(p, prog, &a, a.state, 0, ctx->verbosity, &job, &err)) !=
      0) {
    cli_error(&err);
    status = status_before_run(rc);
    goto done;
  }
  if (a.list) {
    list_steps(job, stdout);
    status = fflush(stdout) == 0 && !ferror(stdout) ? CLI_OK : CLI_FAILED;
    goto done;
  }
  for (size_t i = 0; i < n_steps; i++)
    if (steps[i] >= sy_job_size(job)) {
      cli_errorf("exec: step %zu is out of range: %s has %zu steps, 0 to %zu",
                 steps[i], a.flow, sy_job_size(job), sy_job_size(job) - 1);
      status = CLI_USAGE;
      goto done;
    }
  /* The step's own failure is a failed run (1); one found before it
   * started (no storage, an input not produced yet) is about what the
   * caller gave us (2), as for the other commands. Several steps run in
   * the order given, and the first failure ends the command. */
  int started = 0;
  if ((rc = sy_job_listen(job, note_start, &started)) == 0)
    for (size_t i = 0; i < n_steps && rc == 0; i++) {
      started = 0; /* the exit status is about the step that failed */
      rc = sy_job_exec_stored(job, steps[i], &err);
    }
  else
    sy_error_set(&err, rc, "out of memory");
  if (rc) {
    cli_error(&err);
    status = started ? CLI_FAILED : status_before_run(rc);
  }
done:
  sy_job_free(job);
  sy_program_free(prog);
  free(steps);
  return status;
}

const cli_command cli_cmd_check = {
    "check", "validate a flow file and report every problem", "check FLOW",
    "Reports, each with file:line: syntax errors, duplicate ids, unknown\n"
    "actors and inputs, cycles, wrong arity, unknown, mistyped or missing\n"
    "parameters; an unknown feed or sink instance; and, when the feed can\n"
    "describe its table without reading the rows (csv reads the header), a\n"
    "missing table, a missing label column and unknown std.select or\n"
    "std.drop columns. Exit 0 when the flow is valid, 2 otherwise.\n",
    cmd_check};

const cli_command cli_cmd_compile = {
    "compile", "compile a flow into a program (and explain it)",
    "compile FLOW [--mode run|train|apply] [-o PROGRAM] [--explain] "
    "[--state FILE]",
    "  --mode M       the lifecycle action to compile for (default run)\n"
    "  -o PROGRAM     write the versioned program file\n"
    "  --explain      print the program readably (the default without -o)\n"
    "  --state FILE   apply mode: the trained states the program will load\n",
    cmd_compile};

const cli_command cli_cmd_run = {
    "run", "run a flow: apply it (training in memory if needed) to the sink",
    "run FLOW [-R RUNNER] [--log FILE] [--trace FILE] [--cache MODE] "
    "[--explain]",
    "  -R RUNNER      the runner instance (default: [PLATFORM] runner); also\n"
    "                 accepted before the command\n"
    "  --log FILE     write every step event as JSON lines\n"
    "  --trace FILE   write a Chrome trace (open it in Perfetto)\n"
    "  --explain      say for every step whether it would run and why\n"
    "                 (cached or not), and run nothing\n"
    "  --cache MODE   off, read, write or readwrite: whether step results\n"
    "                 come from and go to the storage (default: [PLATFORM]\n"
    "                 cache)\n"
    "A progress line is drawn on stderr when it is a terminal (not with\n"
    "-q). Ctrl-C stops cleanly: no new step starts.\n",
    cmd_run};

const cli_command cli_cmd_train = {
    "train", "fit a release's stateful actors, commit a new generation",
    "train PROJECT[:RELEASE] | FLOW [--registry R [--from GEN] | --state "
    "FILE] "
    "[--best METRIC [--folds K | --holdout F] [--seed S]] "
    "[--log FILE] [--trace FILE] [--cache MODE]",
    "Commits the trained states as a new generation (1, 2, ...) of the\n"
    "release (default the latest; for a FLOW, the release holding that\n"
    "flow) in the registry ([PLATFORM] registry, or --registry R).\n"
    "  --from GEN     incremental actors (std.scaler) continue from\n"
    "                 generation GEN's states; the others train afresh\n"
    "  --state FILE   instead, write the states to FILE (no registry)\n"
    "  --best METRIC  for a flow that sweeps parameters: evaluate every\n"
    "                 branch as `eval` does (--folds K, default 5, or\n"
    "                 --holdout F; --seed S) and train the best by METRIC\n"
    "  -R, --log, --trace, --cache, --explain as for run\n",
    cmd_train};

const cli_command cli_cmd_apply = {
    "apply", "apply trained states to the feed's data, results to the sink",
    "apply PROJECT[:RELEASE[:GENERATION]] | FLOW [--registry R | --state "
    "FILE] [--log FILE] [--trace FILE] [--cache MODE]",
    "Loads a generation (default the latest) from the registry.\n"
    "  --state FILE   instead, the states written by `train --state FILE`\n"
    "  -R, --log, --trace, --cache, --explain as for run\n",
    cmd_apply};

const cli_command cli_cmd_exec = {
    "exec", "run one step of a compiled program, through the storage",
    "exec PROGRAM --step N[,N...] | --list [--cache MODE] [--log FILE] "
    "[--trace FILE] [--state FILE]",
    "PROGRAM is a file written by `switchyard compile FLOW -o PROGRAM`.\n"
    "What a batch or cluster engine (Slurm, Argo, ...) runs per step: the\n"
    "step's inputs are read from the storage ([PLATFORM] storage) under\n"
    "their steps' keys and its outputs written there, so each step may run\n"
    "in its own process on its own machine when they share the storage.\n"
    "  --step N       execute step N; its inputs' steps must have run;\n"
    "                 N,M,... executes several in that order (a chain)\n"
    "  --list         print one line per step, tab-separated: number, op,\n"
    "                 label, key, input step numbers (\"1,2\", or \"-\"),\n"
    "                 and, for a step whose flow node sets any, its\n"
    "                 resources (\"cpus=2 memory=4G retries=3 timeout=10m\")\n"
    "  --cache MODE   read, write or readwrite (default: [PLATFORM] cache);\n"
    "                 with read, a step whose result is stored is not run\n"
    "                 again; off is refused (the storage is the transport)\n"
    "  --log FILE     write the step's events as JSON lines\n"
    "  --trace FILE   write a Chrome trace of the step\n"
    "  --state FILE   train programs: where the commit step writes states;\n"
    "                 apply programs: the states the load steps read,\n"
    "                 instead of the file or generation the program names\n"
    "The switchyard.ini beside the flow the program was compiled from is\n"
    "read, as for run. Exit 0 when the step succeeded, 1 when it failed, 2\n"
    "for usage errors, a bad program, or an input not produced yet.\n",
    cmd_exec};
