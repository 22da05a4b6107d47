/*
 * cmd_lifecycle.c - release, registry and cache commands.
 *
 *   release FLOW --version V [--registry R]
 *   registry list [PROJECT[:RELEASE]] [--registry R]
 *   registry show PROJECT[:RELEASE[:GENERATION]] [--registry R]
 *   registry rm PROJECT:RELEASE[:GENERATION] [--registry R]
 *   registry export PROJECT[:RELEASE] FILE [--registry R]
 *   registry import FILE [--registry R]
 *   cache list [GLOB] | cache rm GLOB |
 *   cache gc [--max-size S] [--older-than D] [--grace D]
 *
 * Export writes an archive registry file (the `archive` provider), so a
 * release with its generations moves between registries of any kind;
 * import copies one in. The copying is the library's (sy_registry_export
 * and sy_registry_import, lifecycle.h): this file parses the arguments,
 * prints what was done and maps errors to exit statuses.
 */
#include "cli.h"
#include "switchyard/file.h"
#include "switchyard/lifecycle.h"
#include "switchyard/registry.h"
#include "switchyard/storage.h"

#include <fnmatch.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Pulls "--NAME VALUE" / "--NAME=VALUE" out of argv (compacting it). */
static const char *take_opt(int *argc, char **argv, const char *name) {
  size_t n = strlen(name);
  for (int i = 1; i < *argc; i++) {
    const char *a = argv[i];
    if (strncmp(a, "--", 2) != 0 || strncmp(a + 2, name, n) != 0)
      continue;
    const char *v = NULL;
    int used = 0;
    if (a[2 + n] == '=') {
      v = a + 3 + n;
      used = 1;
    } else if (a[2 + n] == '\0' && i + 1 < *argc) {
      v = argv[i + 1];
      used = 2;
    } else {
      continue;
    }
    for (int k = i; k + used < *argc; k++)
      argv[k] = argv[k + used];
    *argc -= used;
    return v;
  }
  return NULL;
}

static int unknown_args(const char *cmd, int argc, char **argv, int from) {
  for (int i = from; i < argc; i++)
    if (argv[i][0] == '-') {
      cli_errorf("%s: unknown option '%s'", cmd, argv[i]);
      fprintf(stderr, "try: switchyard %s --help\n", cmd);
      return 1;
    }
  return 0;
}

/* ---- release -------------------------------------------------------- */

static int cmd_release(cli_ctx *ctx, int argc, char **argv) {
  const char *version = take_opt(&argc, argv, "version");
  const char *registry = take_opt(&argc, argv, "registry");
  if (unknown_args("release", argc, argv, 1))
    return CLI_USAGE;
  if (argc != 2 || !version) {
    cli_errorf("usage: switchyard release FLOW --version V [--registry R]");
    return CLI_USAGE;
  }
  sy_platform *p = cli_platform(ctx);
  if (!p)
    return CLI_USAGE;
  sy_error err;
  sy_error_clear(&err);
  int rc = sy_release(p, argv[1], version, registry, stderr, &err);
  if (rc) {
    cli_error(&err);
    return rc == SY_EIO ? CLI_FAILED : CLI_USAGE;
  }
  if (ctx->verbosity >= 0)
    printf("released %s as version %s\n", argv[1], version);
  return CLI_OK;
}

const cli_command cli_cmd_release = {
    "release", "freeze a flow into the registry as a project release",
    "release FLOW --version V [--registry R]",
    "Stores the flow, written out whole, with its actors' names and\n"
    "versions, as release V of the project named by the flow's `name`.\n"
    "Versions of a project must strictly increase (1.9 < 1.10).\n"
    "  --registry R   the registry instance (default [PLATFORM] registry)\n",
    cmd_release};

/* ---- registry ------------------------------------------------------- */

typedef struct reg {
  sy_instance *inst;
  const sy_registry_ops *ops;
  void *self;
} reg;

static int open_registry(sy_platform *p, const char *name, reg *r,
                         sy_error *err) {
  int rc = sy_platform_registry(p, name, &r->inst, NULL, err);
  if (rc == 0) {
    r->ops = sy_instance_provider(r->inst)->ops;
    r->self = sy_instance_self(r->inst);
  }
  return rc;
}

/* ---- references ------------------------------------------------------ */

/* Parses a reference strictly (sy_registry_ref_parse: the rules every
 * command shares). `parts` is the most parts allowed, `need` the fewest.
 * A mistake is an error naming the reference (exit 2), never a silent
 * "latest". */
static int parse_ref(const char *cmd, const char *text, int need, int parts,
                     sy_registry_ref *out) {
  sy_error err;
  sy_error_clear(&err);
  int rc = sy_registry_ref_parse(text, need, parts, out, &err);
  if (rc == 0)
    return CLI_OK;
  cli_errorf("%s: %s", cmd, err.message);
  return rc == SY_ENOMEM ? CLI_FAILED : CLI_USAGE;
}

/* ---- list -------------------------------------------------------------- */

static int print_entry(void *ud, const sy_registry_entry *e) {
  int *printed = ud;
  if (!(*printed)++)
    printf("%-20s %-12s %-10s %s\n", "PROJECT", "RELEASE", "GENERATION",
           "TIME");
  char when[32] = "";
  time_t t = (time_t)e->mtime;
  struct tm tm;
  if (localtime_r(&t, &tm))
    strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
  if (e->generation == 0)
    printf("%-20s %-12s %-10s %s\n", e->project, e->release, "-", when);
  else
    printf("%-20s %-12s %-10u %s\n", e->project, e->release, e->generation,
           when);
  return 0;
}

/* ---- what a registry offers -------------------------------------------- */

#define HAS_OP(r, op)                                                          \
  ((r)->ops->size >= offsetof(sy_registry_ops, op) + sizeof((r)->ops->op) &&   \
   (r)->ops->op != NULL)

/* One release and its generations, from a listing. */
/* ---- the command -------------------------------------------------------- */

/* Removes the flag "--NAME" from argv; 1 when it was there. */
static int take_flag(int *argc, char **argv, const char *name) {
  for (int i = 1; i < *argc; i++)
    if (strncmp(argv[i], "--", 2) == 0 && strcmp(argv[i] + 2, name) == 0) {
      for (int k = i; k + 1 < *argc; k++)
        argv[k] = argv[k + 1];
      (*argc)--;
      return 1;
    }
  return 0;
}

/* Prints a bundle of states as JSON (sy_states_describe). */
static int print_states(sy_platform *p, const void *data, size_t len,
                        sy_error *err) {
  char *json = NULL;
  int rc = sy_states_describe(p, data, len, &json, err);
  if (rc == 0)
    printf("%s\n", json);
  free(json);
  return rc;
}

static int cmd_registry(cli_ctx *ctx, int argc, char **argv) {
  const char *name = take_opt(&argc, argv, "registry");
  int states_only = take_flag(&argc, argv, "states");
  if (unknown_args("registry", argc, argv, 1))
    return CLI_USAGE;
  const char *sub = argc > 1 ? argv[1] : "list";
  static const struct {
    const char *sub, *usage;
    int args, need, parts; /* args: argc wanted (0: 2 or 3) */
  } forms[] = {
      {"list", "list [PROJECT[:RELEASE]]", 0, 1, 2},
      {"show", "show PROJECT[:RELEASE[:GENERATION]]", 3, 1, 3},
      {"export", "export PROJECT[:RELEASE] FILE", 4, 1, 2},
      {"import", "import FILE", 3, 0, 0},
      {"rm", "rm PROJECT:RELEASE[:GENERATION]", 3, 2, 3},
  };
  int f = -1;
  for (int i = 0; i < (int)(sizeof forms / sizeof forms[0]); i++)
    if (strcmp(sub, forms[i].sub) == 0)
      f = i;
  if (f < 0) {
    cli_errorf("unknown subcommand 'registry %s'", sub);
    fputs("try: switchyard registry --help\n", stderr);
    return CLI_USAGE;
  }
  if (states_only && strcmp(sub, "show") != 0) {
    cli_errorf("registry %s: --states goes with 'registry show' only", sub);
    return CLI_USAGE;
  }
  if ((forms[f].args && argc != forms[f].args) ||
      (!forms[f].args && argc > 3)) {
    cli_errorf("usage: switchyard registry %s", forms[f].usage);
    return CLI_USAGE;
  }
  sy_registry_ref rf = {0};
  int status;
  if (forms[f].parts && argc > 2 &&
      (status = parse_ref("registry", argv[2], forms[f].need, forms[f].parts,
                          &rf)) != CLI_OK)
    return status;
  status = CLI_OK;
  sy_platform *p = cli_platform(ctx);
  if (!p) {
    sy_registry_ref_free(&rf);
    return CLI_USAGE;
  }
  sy_error err;
  sy_error_clear(&err);
  reg r = {0};
  int rc = 0;
  /* Export and import are the library's (sy_registry_export and
   * sy_registry_import, services/transfer.c): they open the registry
   * themselves. */
  int transfer = strcmp(sub, "export") == 0 || strcmp(sub, "import") == 0;
  if (!transfer && (rc = open_registry(p, name, &r, &err)) != 0)
    goto fail;
  if (strcmp(sub, "list") == 0) {
    int printed = 0;
    rc = r.ops->list(r.self, rf.project, rf.release, print_entry, &printed,
                     &err);
    if (rc == 0 && !printed)
      printf("%-20s %-12s %-10s %s\n", "PROJECT", "RELEASE", "GENERATION",
             "TIME");
  } else if (strcmp(sub, "show") == 0) {
    sy_value *m = NULL, *states = NULL, *tag = NULL;
    char *found = NULL;
    rc = r.ops->get_release(r.self, rf.project, rf.release, &m, &found, &err);
    if (rc == 0) {
      /* The generation first: a missing one is an error before any
       * output. */
      size_t len = 0;
      uint32_t got = 0;
      sy_error e;
      sy_error_clear(&e);
      int grc = r.ops->get_generation(r.self, rf.project, found, rf.generation,
                                      &states, &tag, &got, &e);
      const char *text = sy_bytes_data(m, &len);
      if (states_only && grc == 0) {
        /* Only the JSON, so that it pipes into jq. */
        const void *bytes = sy_bytes_data(states, &len);
        rc = bytes ? print_states(p, bytes, len, &err)
                   : sy_error_set(&err, SY_ECORRUPT,
                                  "%s: the generation's states are not bytes",
                                  argv[2]);
      } else if (states_only) {
        if (!rf.generation && grc == SY_ENOENT)
          sy_error_set(&e, SY_ENOENT,
                       "%s: no generation trained yet; run `switchyard train "
                       "%s` first",
                       argv[2], argv[2]);
        rc = e.code;
        err = e;
      } else if (grc == 0 || (!rf.generation && grc == SY_ENOENT))
        printf("%.*s", (int)len, text);
      if (states_only) {
      } else if (grc == 0) {
        const char *t = sy_bytes_data(tag, &len);
        printf("\n# generation %u\n", got);
        for (const char *line = t; line && line < t + len;) {
          const char *nl = memchr(line, '\n', (size_t)(t + len - line));
          size_t n = nl ? (size_t)(nl - line) : (size_t)(t + len - line);
          printf("#   %.*s\n", (int)n, line);
          line += n + 1;
        }
      } else if (rf.generation || e.code != SY_ENOENT) {
        rc = e.code;
        err = e;
      } else {
        printf("\n# no generation trained yet\n");
      }
    }
    sy_value_unref(m);
    sy_value_unref(states);
    sy_value_unref(tag);
    free(found);
  } else if (strcmp(sub, "rm") == 0) {
    if (!HAS_OP(&r, remove)) {
      rc = sy_error_set(
          &err, SY_ENOTSUP, "registry '%s' (provider %s) cannot remove entries",
          sy_instance_name(r.inst), sy_instance_provider(r.inst)->name);
      goto fail;
    }
    rc = r.ops->remove(r.self, rf.project, rf.release, rf.generation, &err);
    if (rc == 0 && ctx->verbosity >= 0)
      printf("removed %s\n", argv[2]);
  } else if (strcmp(sub, "export") == 0) {
    int copied = 0;
    rc = sy_registry_export(p, name, argv[2], argv[3], &copied, &err);
    if (rc == 0 && ctx->verbosity >= 0)
      printf("exported %d entries to %s\n", copied, argv[3]);
  } else { /* import */
    int copied = 0, skipped = 0;
    rc = sy_registry_import(p, name, argv[2], &copied, &skipped, &err);
    if (rc == 0 && ctx->verbosity >= 0) {
      if (skipped)
        printf("imported %d entries from %s (%d there already)\n", copied,
               argv[2], skipped);
      else
        printf("imported %d entries from %s\n", copied, argv[2]);
    }
  }
fail:
  if (rc) {
    cli_error(&err);
    status = (rc == SY_ENOENT || rc == SY_EEXIST || rc == SY_ECONFIG ||
              rc == SY_EINVAL || rc == SY_ENOTSUP)
                 ? CLI_USAGE
                 : CLI_FAILED;
  }
  sy_instance_destroy(r.inst);
  sy_registry_ref_free(&rf);
  return status;
}

const cli_command cli_cmd_registry = {
    "registry", "list, show, export and import releases and generations",
    "registry [list [PROJECT[:RELEASE]] | show REF [--states] | rm REF | "
    "export REF FILE | import FILE] [--registry R]",
    "  list             projects, releases and generations\n"
    "  show REF         a release's frozen flow and a generation's tag\n"
    "                   (REF: PROJECT[:RELEASE[:GENERATION]], latest by "
    "default)\n"
    "  show REF --states  only the generation's trained states, as JSON\n"
    "                   (each stateful actor's, e.g. a scaler's means)\n"
    "  rm REF           remove a release with its generations, or one\n"
    "                   generation (REF: PROJECT:RELEASE[:GENERATION]);\n"
    "                   a removed generation's number is never reused\n"
    "  export REF FILE  copy a release (or a project) with its generations\n"
    "                   into an archive file, written whole or not at all\n"
    "  import FILE      copy everything from an archive file in, each\n"
    "                   release whole or not at all; a rerun adds only\n"
    "                   what is missing\n"
    "Generations are renumbered by the registry they are copied into.\n",
    cmd_registry};

/* ---- state ---------------------------------------------------------- */

/* The most bytes `state show` reads: states files are written whole by
 * train, and a larger file is not one. */
#define STATE_FILE_MAX ((size_t)1 << 31)

static int cmd_state(cli_ctx *ctx, int argc, char **argv) {
  if (unknown_args("state", argc, argv, 1))
    return CLI_USAGE;
  if (argc != 3 || strcmp(argv[1], "show") != 0) {
    cli_errorf("usage: switchyard state show FILE");
    return CLI_USAGE;
  }
  sy_platform *p = cli_platform(ctx);
  if (!p)
    return CLI_USAGE;
  sy_error err;
  sy_error_clear(&err);
  void *data = NULL;
  size_t len = 0;
  int rc = sy_file_read(argv[2], STATE_FILE_MAX, &data, &len, &err);
  if (rc == 0 && (rc = print_states(p, data, len, &err)) != 0)
    sy_error_prefix(&err, "%s", argv[2]);
  free(data);
  if (rc) {
    cli_error(&err);
    return rc == SY_ENOENT ? CLI_USAGE : CLI_FAILED;
  }
  return CLI_OK;
}

const cli_command cli_cmd_state = {
    "state", "print a trained states file's states as JSON", "state show FILE",
    "  show FILE  each stateful actor's trained state in FILE (written by\n"
    "             `train --state FILE`) as one JSON object: per flow node,\n"
    "             the actor, its version and what the actor says of its\n"
    "             state (std.scaler: means and scales; std.linreg:\n"
    "             coefficients, intercept, r2; std.logreg: coefficients\n"
    "             per class, loss, iterations, converged)\n",
    cmd_state};

/* ---- cache ---------------------------------------------------------- */

typedef struct cache_entry {
  char *key, *label;
  uint64_t bytes;
  int64_t mtime;
} cache_entry;

typedef struct cache_list {
  cache_entry *e;
  size_t n, cap;
  const char *glob;
} cache_list;

static int collect(void *ud, const sy_storage_entry *e) {
  cache_list *l = ud;
  if (l->glob && fnmatch(l->glob, e->key, 0) != 0 &&
      fnmatch(l->glob, e->label ? e->label : "", 0) != 0)
    return 0;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 64;
    cache_entry *grown = realloc(l->e, cap * sizeof *grown);
    if (!grown)
      return SY_ENOMEM;
    l->e = grown;
    l->cap = cap;
  }
  cache_entry *c = &l->e[l->n];
  c->key = strdup(e->key);
  c->label = strdup(e->label ? e->label : "");
  c->bytes = e->bytes;
  c->mtime = e->mtime;
  if (!c->key || !c->label) {
    free(c->key);
    free(c->label);
    return SY_ENOMEM;
  }
  l->n++;
  return 0;
}

/* Temporary files of unfinished writes (sy_storage_ops.temporaries and
 * sweep, since ABI 1.3): counted, and listed at -v. */
typedef struct temp_walk {
  const char *glob; /* list: only names or labels that match */
  int print;        /* list -v: one line each */
  time_t now;
  size_t n;
  uint64_t bytes;
} temp_walk;

static void age_text(long long s, char *buf, size_t cap) {
  snprintf(buf, cap, "%lld%c",
           s >= 86400  ? s / 86400
           : s >= 3600 ? s / 3600
           : s >= 60   ? s / 60
                       : s,
           s >= 86400  ? 'd'
           : s >= 3600 ? 'h'
           : s >= 60   ? 'm'
                       : 's');
}

static void human_size(uint64_t n, char *buf, size_t cap);

static int count_temp(void *ud, const sy_storage_entry *e) {
  temp_walk *w = ud;
  if (w->glob && fnmatch(w->glob, e->key, 0) != 0 &&
      fnmatch(w->glob, e->label ? e->label : "", 0) != 0)
    return 0;
  w->n++;
  w->bytes += e->bytes;
  if (w->print) {
    char size[32], age[32];
    human_size(e->bytes, size, sizeof size);
    age_text((long long)(w->now - e->mtime), age, sizeof age);
    printf("%-60s %10s %8s  %s\n", e->key, size, age, e->label ? e->label : "");
  }
  return 0;
}

/* The storage's temporaries/sweep op, or NULL when it has none (a storage
 * built against ABI 1.2 or older, or one that keeps no temporary files). */
static int has_temp_ops(const sy_storage_ops *ops) {
  return ops->size >= offsetof(sy_storage_ops, sweep) + sizeof ops->sweep &&
         ops->temporaries && ops->sweep;
}

static int by_age(const void *a, const void *b) {
  const cache_entry *x = a, *y = b;
  return (x->mtime > y->mtime) - (x->mtime < y->mtime);
}

static void human_size(uint64_t n, char *buf, size_t cap) {
  const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = (double)n;
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    u++;
  }
  snprintf(buf, cap, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

static int cmd_cache(cli_ctx *ctx, int argc, char **argv) {
  const char *max_size = take_opt(&argc, argv, "max-size");
  const char *older = take_opt(&argc, argv, "older-than");
  const char *grace_text = take_opt(&argc, argv, "grace");
  /* `cache list -v`: -v and -q also after the subcommand. */
  for (int i = 1; i < argc;) {
    int v = strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0;
    int q = strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "--quiet") == 0;
    if (!v && !q) {
      i++;
      continue;
    }
    ctx->verbosity_set = 1;
    if (q)
      ctx->verbosity = -1;
    else if (ctx->verbosity >= 0)
      ctx->verbosity++;
    for (int k = i; k + 1 < argc; k++)
      argv[k] = argv[k + 1];
    argc--;
  }
  if (unknown_args("cache", argc, argv, 1))
    return CLI_USAGE;
  const char *sub = argc > 1 ? argv[1] : "list";
  int is_list = strcmp(sub, "list") == 0, is_rm = strcmp(sub, "rm") == 0,
      is_gc = strcmp(sub, "gc") == 0;
  if (!is_list && !is_rm && !is_gc) {
    cli_errorf("unknown subcommand 'cache %s'", sub);
    fputs("try: switchyard cache --help\n", stderr);
    return CLI_USAGE;
  }
  if ((is_rm && argc != 3) || (is_list && argc > 3) || (is_gc && argc != 2) ||
      ((max_size || older || grace_text) && !is_gc)) {
    cli_errorf("usage: switchyard cache [list [GLOB] | rm GLOB | gc "
               "[--max-size SIZE] [--older-than DURATION] [--grace "
               "DURATION]]");
    return CLI_USAGE;
  }
  /* Temporary files younger than this may belong to a writer still at
   * work: gc leaves them alone. */
  int64_t grace = 3600LL * 1000000000LL;
  if (grace_text && sy_parse_duration(grace_text, &grace) != 0) {
    cli_errorf("cache gc: --grace: expected a duration such as 1h or 0s, "
               "got '%s'",
               grace_text);
    return CLI_USAGE;
  }
  uint64_t limit = UINT64_MAX;
  int64_t age = -1;
  if (max_size && sy_parse_size(max_size, &limit) != 0) {
    cli_errorf("cache gc: --max-size: expected a size such as 512M, got '%s'",
               max_size);
    return CLI_USAGE;
  }
  if (older && sy_parse_duration(older, &age) != 0) {
    cli_errorf("cache gc: --older-than: expected a duration such as 7d, got "
               "'%s'",
               older);
    return CLI_USAGE;
  }
  sy_platform *p = cli_platform(ctx);
  if (!p)
    return CLI_USAGE;
  const char *name =
      sy_config_get(sy_platform_config(p), "PLATFORM", "storage", NULL);
  sy_error err;
  sy_error_clear(&err);
  sy_instance *inst = NULL;
  int rc = sy_instance_create(sy_platform_config(p), sy_platform_catalog(p),
                              SY_KIND_STORAGE, name && *name ? name : "cache",
                              &inst, &err);
  if (rc) {
    cli_error(&err);
    return CLI_USAGE;
  }
  if (is_gc) {
    /* The policy is the library's (sy_cache_gc); this prints what it did. */
    sy_cache_gc_options go = {sizeof go, limit, age, grace};
    sy_cache_gc_result gr;
    rc = sy_cache_gc(inst, &go, &gr, &err);
    if (rc == 0 && ctx->verbosity >= 0) {
      char size[32], tsize[32];
      human_size(gr.freed, size, sizeof size);
      human_size(gr.temporary_bytes, tsize, sizeof tsize);
      printf("removed %zu entries (%s) and %zu temporary files (%s)\n",
             gr.removed, size, gr.temporaries, tsize);
    }
    sy_instance_destroy(inst);
    if (rc) {
      cli_error(&err);
      return CLI_FAILED;
    }
    return CLI_OK;
  }
  const sy_storage_ops *ops = sy_instance_provider(inst)->ops;
  void *self = sy_instance_self(inst);
  cache_list l = {NULL, 0, 0, argc > 2 ? argv[2] : NULL};
  rc = ops->list(self, collect, &l, &err);
  qsort(l.e, l.n, sizeof *l.e, by_age);
  time_t now = time(NULL);
  temp_walk tw = {is_list ? l.glob : NULL, 0, now, 0, 0};
  if (rc == 0 && is_list) {
    printf("%-32s %-44s %10s %8s\n", "KEY", "STEP", "SIZE", "AGE");
    for (size_t i = 0; i < l.n; i++) {
      char size[32], ago[32];
      human_size(l.e[i].bytes, size, sizeof size);
      age_text((long long)(now - l.e[i].mtime), ago, sizeof ago);
      printf("%-32s %-44.44s %10s %8s\n", l.e[i].key, l.e[i].label, size, ago);
    }
    /* What unfinished writes left: listed at -v, counted otherwise. */
    if (has_temp_ops(ops)) {
      tw.print = ctx->verbosity > 0;
      if (tw.print) {
        fflush(stdout);
        printf("\n%-60s %10s %8s  %s\n", "TEMPORARY FILE", "SIZE", "AGE",
               "WRITE");
      }
      rc = ops->temporaries(self, count_temp, &tw, &err);
      if (rc == 0 && tw.n && ctx->verbosity == 0) {
        char size[32];
        human_size(tw.bytes, size, sizeof size);
        fflush(stdout);
        cli_errorf("%zu temporary file%s (%s) of unfinished writes: `cache "
                   "list -v` shows them, `cache gc` removes them after "
                   "their grace period",
                   tw.n, tw.n == 1 ? "" : "s", size);
      }
    }
  } else if (rc == 0) {
    /* rm: every match. */
    size_t removed = 0;
    uint64_t freed = 0;
    for (size_t i = 0; i < l.n; i++) {
      sy_error e;
      sy_error_clear(&e);
      if (ops->remove(self, l.e[i].key, &e) == 0) {
        removed++;
        freed += l.e[i].bytes;
      }
    }
    char size[32];
    human_size(freed, size, sizeof size);
    if (ctx->verbosity >= 0)
      printf("removed %zu entries (%s)\n", removed, size);
  }
  for (size_t i = 0; i < l.n; i++) {
    free(l.e[i].key);
    free(l.e[i].label);
  }
  free(l.e);
  sy_instance_destroy(inst);
  if (rc) {
    cli_error(&err);
    return CLI_FAILED;
  }
  return CLI_OK;
}

const cli_command cli_cmd_cache = {
    "cache", "list, remove or garbage-collect cached step results",
    "cache [list [GLOB] | rm GLOB | gc [--max-size SIZE] [--older-than "
    "DURATION] [--grace DURATION]]",
    "The cache is the [PLATFORM] storage instance. GLOB matches the key or\n"
    "the step (\"apply model*\").\n"
    "  list [GLOB]    key, step, size and age of each entry; with -v also\n"
    "                 the temporary files of unfinished writes\n"
    "  rm GLOB        remove the matching entries\n"
    "  gc             remove the oldest entries until the cache is under\n"
    "                 --max-size, and every entry older than --older-than;\n"
    "                 and temporary files of killed writers older than\n"
    "                 --grace (default 1h; never one whose writer still\n"
    "                 runs on this machine)\n",
    cmd_cache};
