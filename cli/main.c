/*
 * main.c - `switchyard [global options] COMMAND [args]`.
 *
 * Global options may come before the command (getopt stops at the first
 * non-option) or after it, anywhere among the command's arguments before
 * a "--": `switchyard run FLOW -o K=V -q` is `switchyard -o K=V -q run
 * FLOW`. A command that uses one of the letters for itself keeps it
 * after its name (compile -o PROGRAM; see owned_letters()). The value of
 * a command's own option is never taken for a global option.
 *
 *   -c FILE               add a config file layer (repeatable, in order)
 *   -o SECTION.KEY=VALUE  override one value (repeatable, last wins)
 *   -R RUNNER             shorthand for -o PLATFORM.runner=RUNNER
 *   -p NAME=VALUE         set a flow parameter (repeatable, last wins)
 *   --params FILE         flow parameters from a file (NAME = VALUE;)
 *   -q / -v               quieter / more verbose
 *   -h, --help, --version
 */
#include "cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const cli_command *const commands[] = {
    &cli_cmd_run,       &cli_cmd_train,  &cli_cmd_apply,    &cli_cmd_eval,
    &cli_cmd_release,   &cli_cmd_check,  &cli_cmd_compile,  &cli_cmd_exec,
    &cli_cmd_providers, &cli_cmd_config, &cli_cmd_registry, &cli_cmd_cache,
    &cli_cmd_state,     &cli_cmd_serve,  &cli_cmd_version,  NULL,
};

void cli_errorf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("switchyard: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

/* The catalog's problems not printed yet, as warnings. A lazy catalog
 * adds one when a plugin it loads at first use is refused: it is printed
 * before the error that follows from it, or at exit. */
static const sy_catalog *shown_cat;
static size_t shown_problems;
static int shown_quiet;

static void show_problems(void) {
  if (!shown_cat)
    return;
  size_t n = sy_catalog_problem_count(shown_cat);
  for (; shown_problems < n; shown_problems++) {
    const char *file = NULL, *reason = NULL;
    if (shown_quiet ||
        sy_catalog_problem_at(shown_cat, shown_problems, &file, &reason) != 0)
      continue;
    cli_errorf("warning: %s: %s", file, reason);
  }
}

void cli_error(const sy_error *err) {
  show_problems();
  if (err->message[0])
    cli_errorf("%s", err->message);
  else if (err->code)
    cli_errorf("%s (see above)", sy_strerror(err->code));
}

void cli_print_help(const cli_command *cmd, FILE *out) {
  fprintf(out, "usage: switchyard [global options] %s\n\n%s\n", cmd->usage,
          cmd->summary);
  if (cmd->help && *cmd->help)
    fprintf(out, "\n%s", cmd->help);
}

int cli_wants_help(const cli_command *cmd, int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0)
      break;
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      cli_print_help(cmd, stdout);
      return 1;
    }
  }
  return 0;
}

int cli_parse_ref(const char *ref, sy_kind *kind, const char **name) {
  const char *dot = strchr(ref, '.');
  if (!dot || dot == ref || !dot[1])
    return SY_EINVAL;
  char k[32];
  size_t len = (size_t)(dot - ref);
  if (len >= sizeof k)
    return SY_EINVAL;
  memcpy(k, ref, len);
  k[len] = '\0';
  if (sy_kind_parse(k, kind) != 0)
    return SY_EINVAL;
  *name = dot + 1;
  return 0;
}

void cli_json_string(FILE *out, const char *s) {
  if (!s) {
    fputs("null", out);
    return;
  }
  fputc('"', out);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
    case '"':
      fputs("\\\"", out);
      break;
    case '\\':
      fputs("\\\\", out);
      break;
    case '\n':
      fputs("\\n", out);
      break;
    case '\t':
      fputs("\\t", out);
      break;
    case '\r':
      fputs("\\r", out);
      break;
    default:
      if (*p < 0x20)
        fprintf(out, "\\u%04x", *p);
      else
        fputc(*p, out);
    }
  }
  fputc('"', out);
}

/* The verbosity [PLATFORM] log_level asks for (validated by the config:
 * error, warn, info or debug); 0 when it is not set. */
static int verbosity_of(const sy_config *cfg) {
  const char *level = sy_config_get(cfg, "PLATFORM", "log_level", NULL);
  if (!level)
    return 0;
  if (strcmp(level, "error") == 0)
    return -1;
  return strcmp(level, "debug") == 0 ? 1 : 0;
}

sy_platform *cli_platform(cli_ctx *ctx) {
  if (ctx->platform)
    return ctx->platform;
  sy_platform_options opts = {sizeof opts, ctx->config_files, ctx->overrides, 0,
                              0,           ctx->project_dir};
  sy_error err;
  sy_error_clear(&err);
  if (sy_platform_open(&opts, &ctx->platform, &err) != 0) {
    cli_error(&err);
    return NULL;
  }
  /* Flow parameters: the files first, then -p, so -p wins. */
  for (const char *const *f = ctx->param_files; f && *f; f++)
    if (sy_platform_load_params(ctx->platform, *f, &err) != 0) {
      cli_error(&err);
      return NULL;
    }
  for (const char *const *a = ctx->params; a && *a; a++)
    if (sy_platform_set_param(ctx->platform, *a, &err) != 0) {
      cli_error(&err);
      return NULL;
    }
  if (!ctx->verbosity_set)
    ctx->verbosity = verbosity_of(sy_platform_config(ctx->platform));
  shown_cat = sy_platform_catalog(ctx->platform);
  shown_problems = 0;
  shown_quiet = ctx->verbosity < 0;
  show_problems();
  return ctx->platform;
}

static void usage(FILE *out) {
  fputs("usage: switchyard [-c FILE]... [-o SECTION.KEY=VALUE]... "
        "[-R RUNNER] [-p NAME=VALUE]... [--params FILE] [-q|-v] COMMAND "
        "[ARGS]\n\n"
        "Runs ML and data pipelines (flows) on pluggable runners.\n\n"
        "Commands:\n",
        out);
  for (const cli_command *const *c = commands; *c; c++)
    fprintf(out, "  %-10s %s\n", (*c)->name, (*c)->summary);
  fputs("\nGlobal options:\n"
        "  -c FILE               add a config file (after the default "
        "layers)\n"
        "  -o SECTION.KEY=VALUE  override one config value\n"
        "  -R RUNNER             use this runner instance (same as -o "
        "PLATFORM.runner=RUNNER)\n"
        "  -p NAME=VALUE         set a flow parameter (repeatable)\n"
        "      --params FILE     flow parameters from a file (NAME = "
        "VALUE;)\n"
        "  -q, --quiet           print only errors\n"
        "  -v, --verbose         print more\n"
        "  -h, --help            this help; COMMAND --help for a command\n"
        "      --version         print the version\n"
        "They may also follow the command (run FLOW -o K=V -q); after "
        "compile,\n-o is its -o PROGRAM.\n\n"
        "Exit status: 0 ok, 1 a run or check failed, 2 usage or config "
        "error.\n"
        "See switchyard(1).\n",
        out);
}

/* Grows a NULL-terminated array of borrowed strings. */
static int push(const char ***list, size_t *len, const char *s) {
  const char **grown = realloc(*list, (*len + 2) * sizeof *grown);
  if (!grown)
    return -1;
  grown[(*len)++] = s;
  grown[*len] = NULL;
  *list = grown;
  return 0;
}

/* Letters of the global options that a command takes as its own after
 * its name. */
static const char *owned_letters(const cli_command *cmd) {
  return cmd == &cli_cmd_compile ? "o" : "";
}

/* Long options of the commands that take no value: any other "--name"
 * (without "=") takes the next word as its value, which is then never
 * read as a global option. */
static int is_flag(const char *arg) {
  static const char *const flags[] = {
      "--explain", "--list", "--json", "--check", "--help", "--states", NULL};
  for (const char *const *f = flags; *f; f++)
    if (strcmp(arg, *f) == 0)
      return 1;
  return 0;
}

/* Short options of the commands that take a value (run -R RUNNER,
 * --state's -s, --mode's -m, and a global letter the command owns). */
static int takes_value(const cli_command *cmd, const char *arg) {
  if (arg[0] != '-' || !arg[1] || arg[2])
    return 0;
  if (strchr("smR", arg[1]))
    return 1;
  return strchr(owned_letters(cmd), arg[1]) != NULL;
}

/* Takes the global options (-c FILE, -o K=V, -q, -v and their long
 * forms) out of a command's arguments, in order, appending them to the
 * ones given before the command, so later ones still win. Compacts argv;
 * returns 0, -1 out of memory, or CLI_USAGE (message printed). */
static int take_globals(const cli_command *cmd, int *argc, char **argv,
                        const char ***files, size_t *nfiles,
                        const char ***overrides, size_t *noverrides,
                        const char ***params, size_t *nparams,
                        const char ***pfiles, size_t *npfiles, int *verbosity,
                        int *verbosity_set) {
  const char *owns = owned_letters(cmd);
  int out = 1;
  for (int i = 1; i < *argc; i++) {
    char *a = argv[i];
    if (strcmp(a, "--") == 0) {
      while (i < *argc)
        argv[out++] = argv[i++];
      break;
    }
    const char *value = NULL;
    int letter = 0, used = 1;
    if (strcmp(a, "--config") == 0 || strcmp(a, "--option") == 0) {
      letter = a[2];
      used = 2;
    } else if (strncmp(a, "--config=", 9) == 0) {
      letter = 'c';
      value = a + 9;
    } else if (strncmp(a, "--option=", 9) == 0) {
      letter = 'o';
      value = a + 9;
    } else if (strcmp(a, "--params") == 0) {
      letter = 'P';
      used = 2;
    } else if (strncmp(a, "--params=", 9) == 0) {
      letter = 'P';
      value = a + 9;
    } else if (a[0] == '-' && a[1] == 'p') {
      letter = 'p';
      if (a[2])
        value = a + 2;
      else
        used = 2;
    } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "--verbose") == 0) {
      letter = a[2];
    } else if (a[0] == '-' && (a[1] == 'c' || a[1] == 'o') &&
               !strchr(owns, a[1])) {
      letter = a[1];
      if (a[2])
        value = a + 2;
      else
        used = 2;
    } else if (a[0] == '-' && a[1] && strspn(a + 1, "qv") == strlen(a + 1)) {
      letter = 'f'; /* -q, -v, -vv, -qv */
    }
    if (!letter) {
      argv[out++] = a;
      /* a command option's value is never a global option */
      if (i + 1 < *argc && ((a[0] == '-' && a[1] == '-' && a[2] &&
                             !strchr(a, '=') && !is_flag(a)) ||
                            takes_value(cmd, a)))
        argv[out++] = argv[++i];
      continue;
    }
    if (used == 2) {
      if (i + 1 >= *argc) {
        cli_errorf("%s: option %s needs an argument", cmd->name, a);
        fprintf(stderr, "try: switchyard %s --help\n", cmd->name);
        return CLI_USAGE;
      }
      value = argv[++i];
    }
    if (letter == 'c' && push(files, nfiles, value))
      return -1;
    if (letter == 'o' && push(overrides, noverrides, value))
      return -1;
    if (letter == 'p' && push(params, nparams, value))
      return -1;
    if (letter == 'P' && push(pfiles, npfiles, value))
      return -1;
    const char *flags = letter == 'f' ? a + 1 : "";
    if (letter == 'q')
      flags = "q";
    else if (letter == 'v')
      flags = "v";
    for (const char *f = flags; *f; f++) {
      *verbosity_set = 1;
      if (*f == 'q')
        *verbosity = -1;
      else if (*verbosity >= 0)
        (*verbosity)++;
    }
  }
  *argc = out;
  argv[out] = NULL;
  return 0;
}

int main(int argc, char **argv) {
  static const struct option longopts[] = {
      {"config", required_argument, NULL, 'c'},
      {"option", required_argument, NULL, 'o'},
      {"runner", required_argument, NULL, 'R'},
      {"params", required_argument, NULL, 'P'},
      {"quiet", no_argument, NULL, 'q'},
      {"verbose", no_argument, NULL, 'v'},
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, 'V'},
      {NULL, 0, NULL, 0}};
  const char **files = NULL, **overrides = NULL, **params = NULL,
             **pfiles = NULL;
  char **owned = NULL; /* -R expansions */
  size_t nfiles = 0, noverrides = 0, nowned = 0, nparams = 0, npfiles = 0;
  cli_ctx ctx = {0};
  int rc = CLI_USAGE, c;

  /* An actor that crashes this process (inline, threads) is named. */
  sy_crash_report_install();
  opterr = 0;
  while ((c = getopt_long(argc, argv, "+c:o:R:p:qvh", longopts, NULL)) != -1) {
    switch (c) {
    case 'p':
      if (push(&params, &nparams, optarg))
        goto oom;
      break;
    case 'P':
      if (push(&pfiles, &npfiles, optarg))
        goto oom;
      break;
    case 'c':
      if (push(&files, &nfiles, optarg))
        goto oom;
      break;
    case 'o':
      if (push(&overrides, &noverrides, optarg))
        goto oom;
      break;
    case 'R': {
      size_t n = strlen(optarg) + sizeof "PLATFORM.runner=";
      char *s = malloc(n);
      char **grown = realloc(owned, (nowned + 1) * sizeof *grown);
      if (!s || !grown) {
        free(s);
        if (grown)
          owned = grown;
        goto oom;
      }
      owned = grown;
      owned[nowned++] = s;
      snprintf(s, n, "PLATFORM.runner=%s", optarg);
      if (push(&overrides, &noverrides, s))
        goto oom;
      break;
    }
    case 'q':
      ctx.verbosity = -1;
      ctx.verbosity_set = 1;
      break;
    case 'v':
      ctx.verbosity_set = 1;
      if (ctx.verbosity >= 0)
        ctx.verbosity++;
      break;
    case 'h':
      usage(stdout);
      rc = CLI_OK;
      goto done;
    case 'V':
      printf("switchyard %s (plugin ABI %d.%d)\n", sy_version(), SY_ABI_MAJOR,
             SY_ABI_MINOR);
      rc = CLI_OK;
      goto done;
    default:
      if (optopt && strchr("coRpP", optopt))
        cli_errorf("option -%c needs an argument", optopt);
      else
        cli_errorf("unknown option '%s'", argv[optind - 1]);
      fputs("try: switchyard --help\n", stderr);
      goto done;
    }
  }
  if (optind >= argc) {
    usage(stderr);
    goto done;
  }
  const char *name = argv[optind];
  const cli_command *cmd = NULL;
  for (const cli_command *const *p = commands; *p; p++)
    if (strcmp((*p)->name, name) == 0)
      cmd = *p;
  if (!cmd) {
    const char *names[16];
    size_t n = 0;
    for (const cli_command *const *p = commands; *p && n < 16; p++)
      names[n++] = (*p)->name;
    const char *near = sy_suggest(name, names, n);
    if (near)
      cli_errorf("unknown command '%s' (did you mean '%s'?)", name, near);
    else
      cli_errorf("unknown command '%s'", name);
    fputs("try: switchyard --help\n", stderr);
    goto done;
  }
  int cargc = argc - optind;
  char **cargv = argv + optind;
  if (cli_wants_help(cmd, cargc, cargv)) {
    rc = CLI_OK;
    goto done;
  }
  int taken = take_globals(cmd, &cargc, cargv, &files, &nfiles, &overrides,
                           &noverrides, &params, &nparams, &pfiles, &npfiles,
                           &ctx.verbosity, &ctx.verbosity_set);
  if (taken < 0)
    goto oom;
  if (taken) {
    rc = taken;
    goto done;
  }
  ctx.config_files = files;
  ctx.overrides = overrides;
  ctx.params = params;
  ctx.param_files = pfiles;
  optind = 0; /* reset getopt for the command's own parsing */
  rc = cmd->run(&ctx, cargc, cargv);
  goto done;
oom:
  cli_errorf("out of memory");
  rc = CLI_FAILED;
done:
  show_problems();
  shown_cat = NULL;
  sy_platform_close(ctx.platform);
  free(ctx.project_dir);
  for (size_t i = 0; i < nowned; i++)
    free(owned[i]);
  free(owned);
  free(files);
  free(overrides);
  free(params);
  free(pfiles);
  return rc;
}
