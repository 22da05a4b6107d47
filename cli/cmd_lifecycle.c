/*
 * cmd_lifecycle.c - release, registry and cache commands.
 *
 *   release FLOW --version V [--registry R]
 *   registry list [PROJECT[:RELEASE]] [--registry R]
 *   registry show PROJECT[:RELEASE[:GENERATION]] [--registry R]
 *   registry export PROJECT[:RELEASE] FILE [--registry R]
 *   registry import FILE [--registry R]
 *   cache list [GLOB] | cache rm GLOB |
 *   cache gc [--max-size S] [--older-than D] [--grace D]
 *
 * Export writes an archive registry file (the `archive` provider), so a
 * release with its generations moves between registries of any kind.
 */
#include "cli.h"
#include "internal.h"
#include "switchyard/lifecycle.h"
#include "switchyard/registry.h"
#include "switchyard/storage.h"

#include <fnmatch.h>
#include <stddef.h>
#include <getopt.h>
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
  if (!name)
    name = sy_config_get(sy_platform_config(p), "PLATFORM", "registry", NULL);
  if (!name || !*name)
    name = "local";
  int rc = sy_instance_create(sy_platform_config(p), sy_platform_catalog(p),
                              SY_KIND_REGISTRY, name, &r->inst, err);
  if (rc == 0) {
    r->ops = sy_instance_provider(r->inst)->ops;
    r->self = sy_instance_self(r->inst);
  }
  return rc;
}

/* An archive registry at `path`, for export and import. */
static int open_archive(sy_platform *p, const char *path, reg *r,
                        sy_error *err) {
  sy_config *cfg = sy_platform_config(p);
  int rc = sy_config_set(cfg, "REGISTRY.transfer", "provider", "archive",
                         "command line", err);
  if (rc == 0)
    rc = sy_config_set(cfg, "REGISTRY.transfer", "path", path, "-o", err);
  return rc ? rc : open_registry(p, "transfer", r, err);
}

static int print_entry(void *ud, const sy_registry_entry *e) {
  (void)ud;
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

typedef struct copy_ctx {
  reg *from, *to;
  const char *release; /* NULL: every release */
  sy_error *err;
  int copied;
} copy_ctx;

/* Copies one release and, in order, its generations (renumbered by the
 * target as they arrive). */
static int copy_entry(void *ud, const sy_registry_entry *e) {
  copy_ctx *c = ud;
  if (c->release && strcmp(c->release, e->release) != 0)
    return 0;
  int rc;
  if (e->generation == 0) {
    sy_value *m = NULL;
    rc = c->from->ops->get_release(c->from->self, e->project, e->release, &m,
                                   NULL, c->err);
    if (rc == 0)
      rc = c->to->ops->put_release(c->to->self, e->project, e->release, m,
                                   c->err);
    sy_value_unref(m);
  } else {
    sy_value *states = NULL, *tag = NULL;
    uint32_t found = 0, made = 0;
    rc = c->from->ops->get_generation(c->from->self, e->project, e->release,
                                      e->generation, &states, &tag, &found,
                                      c->err);
    if (rc == 0)
      rc = c->to->ops->put_generation(c->to->self, e->project, e->release,
                                      states, tag, &made, c->err);
    sy_value_unref(states);
    sy_value_unref(tag);
  }
  if (rc == 0)
    c->copied++;
  return rc;
}

static int cmd_registry(cli_ctx *ctx, int argc, char **argv) {
  const char *name = take_opt(&argc, argv, "registry");
  if (unknown_args("registry", argc, argv, 1))
    return CLI_USAGE;
  const char *sub = argc > 1 ? argv[1] : "list";
  sy_platform *p = cli_platform(ctx);
  if (!p)
    return CLI_USAGE;
  sy_error err;
  sy_error_clear(&err);
  reg r = {0}, other = {0};
  int rc = 0, status = CLI_OK;
  char *ref = NULL, *parts[3] = {NULL, NULL, NULL};
  if (strcmp(sub, "list") == 0 || strcmp(sub, "show") == 0 ||
      strcmp(sub, "export") == 0) {
    int want = strcmp(sub, "export") == 0 ? 4 : strcmp(sub, "show") == 0 ? 3 : 0;
    if ((want && argc != want) || (!want && argc > 3)) {
      cli_errorf("usage: switchyard registry %s", strcmp(sub, "export") == 0
                                                      ? "export PROJECT[:RELEASE] FILE"
                                                  : strcmp(sub, "show") == 0
                                                      ? "show PROJECT[:RELEASE[:GENERATION]]"
                                                      : "list [PROJECT[:RELEASE]]");
      return CLI_USAGE;
    }
    if (argc > 2 && !(ref = strdup(argv[2])))
      return CLI_FAILED;
    for (int i = 0; ref && i < 3; i++) {
      char *s = i ? parts[i - 1] : ref;
      char *colon = s ? strchr(s, ':') : NULL;
      parts[i] = i ? (colon ? (*colon = '\0', colon + 1) : NULL) : ref;
      if (!parts[i])
        break;
    }
  } else if (strcmp(sub, "import") == 0) {
    if (argc != 3) {
      cli_errorf("usage: switchyard registry import FILE");
      return CLI_USAGE;
    }
  } else {
    cli_errorf("unknown subcommand 'registry %s'", sub);
    fputs("try: switchyard registry --help\n", stderr);
    return CLI_USAGE;
  }
  if ((rc = open_registry(p, name, &r, &err)) != 0)
    goto fail;
  if (strcmp(sub, "list") == 0) {
    printf("%-20s %-12s %-10s %s\n", "PROJECT", "RELEASE", "GENERATION",
           "TIME");
    rc = r.ops->list(r.self, parts[0], parts[1], print_entry, NULL, &err);
  } else if (strcmp(sub, "show") == 0) {
    sy_value *m = NULL, *states = NULL, *tag = NULL;
    char *found = NULL;
    uint32_t gen = 0;
    if (parts[2])
      gen = (uint32_t)strtoul(parts[2], NULL, 10);
    rc = r.ops->get_release(r.self, parts[0], parts[1], &m, &found, &err);
    if (rc == 0) {
      size_t len = 0;
      const char *text = sy_bytes_data(m, &len);
      printf("%.*s", (int)len, text);
      uint32_t got = 0;
      sy_error e;
      sy_error_clear(&e);
      if (r.ops->get_generation(r.self, parts[0], found, gen, &states, &tag,
                                &got, &e) == 0) {
        const char *t = sy_bytes_data(tag, &len);
        printf("\n# generation %u\n", got);
        for (const char *line = t; line && line < t + len;) {
          const char *nl = memchr(line, '\n', (size_t)(t + len - line));
          size_t n = nl ? (size_t)(nl - line) : (size_t)(t + len - line);
          printf("#   %.*s\n", (int)n, line);
          line += n + 1;
        }
      } else if (gen) {
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
  } else if (strcmp(sub, "export") == 0) {
    if ((rc = open_archive(p, argv[3], &other, &err)) != 0)
      goto fail;
    copy_ctx c = {&r, &other, parts[1], &err, 0};
    rc = r.ops->list(r.self, parts[0], parts[1], copy_entry, &c, &err);
    if (rc == 0 && c.copied == 0)
      rc = sy_error_set(&err, SY_ENOENT, "nothing to export for '%s'",
                        argv[2]);
    if (rc == 0 && ctx->verbosity >= 0)
      printf("exported %d entries to %s\n", c.copied, argv[3]);
  } else { /* import */
    if ((rc = open_archive(p, argv[2], &other, &err)) != 0)
      goto fail;
    copy_ctx c = {&other, &r, NULL, &err, 0};
    rc = other.ops->list(other.self, NULL, NULL, copy_entry, &c, &err);
    if (rc == 0 && ctx->verbosity >= 0)
      printf("imported %d entries from %s\n", c.copied, argv[2]);
  }
fail:
  if (rc) {
    cli_error(&err);
    status = (rc == SY_ENOENT || rc == SY_EEXIST || rc == SY_ECONFIG ||
              rc == SY_EINVAL)
                 ? CLI_USAGE
                 : CLI_FAILED;
  }
  sy_instance_destroy(r.inst);
  sy_instance_destroy(other.inst);
  free(ref);
  return status;
}

const cli_command cli_cmd_registry = {
    "registry", "list, show, export and import releases and generations",
    "registry [list [PROJECT[:RELEASE]] | show REF | export REF FILE | "
    "import FILE] [--registry R]",
    "  list             projects, releases and generations\n"
    "  show REF         a release's frozen flow and a generation's tag\n"
    "                   (REF: PROJECT[:RELEASE[:GENERATION]], latest by "
    "default)\n"
    "  export REF FILE  copy a release (or a project) with its generations\n"
    "                   into an archive file\n"
    "  import FILE      copy everything from an archive file in\n"
    "Generations are renumbered by the registry they are copied into.\n",
    cmd_registry};

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
           s >= 86400 ? s / 86400 : s >= 3600 ? s / 3600 : s >= 60 ? s / 60 : s,
           s >= 86400 ? 'd' : s >= 3600 ? 'h' : s >= 60 ? 'm' : 's');
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
    printf("%-60s %10s %8s  %s\n", e->key, size, age,
           e->label ? e->label : "");
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
  if (grace_text && sy__parse_duration(grace_text, &grace) != 0) {
    cli_errorf("cache gc: --grace: expected a duration such as 1h or 0s, "
               "got '%s'",
               grace_text);
    return CLI_USAGE;
  }
  uint64_t limit = UINT64_MAX;
  int64_t age = -1;
  if (max_size && sy__parse_size(max_size, &limit) != 0) {
    cli_errorf("cache gc: --max-size: expected a size such as 512M, got '%s'",
               max_size);
    return CLI_USAGE;
  }
  if (older && sy__parse_duration(older, &age) != 0) {
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
  const sy_storage_ops *ops = sy_instance_provider(inst)->ops;
  void *self = sy_instance_self(inst);
  cache_list l = {NULL, 0, 0, argc > 2 ? argv[2] : NULL};
  rc = ops->list(self, collect, &l, &err);
  qsort(l.e, l.n, sizeof *l.e, by_age);
  time_t now = time(NULL);
  uint64_t total = 0;
  for (size_t i = 0; i < l.n; i++)
    total += l.e[i].bytes;
  size_t removed = 0;
  uint64_t freed = 0;
  temp_walk tw = {is_list ? l.glob : NULL, 0, now, 0, 0};
  if (rc == 0 && is_list) {
    printf("%-32s %-44s %10s %8s\n", "KEY", "STEP", "SIZE", "AGE");
    for (size_t i = 0; i < l.n; i++) {
      char size[32], ago[32];
      human_size(l.e[i].bytes, size, sizeof size);
      age_text((long long)(now - l.e[i].mtime), ago, sizeof ago);
      printf("%-32s %-44.44s %10s %8s\n", l.e[i].key, l.e[i].label, size,
             ago);
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
    /* rm: every match; gc: oldest first, until under the size limit, and
     * everything older than the age limit. */
    for (size_t i = 0; i < l.n && rc == 0; i++) {
      int drop = is_rm;
      if (is_gc) {
        drop = (age >= 0 && (int64_t)(now - l.e[i].mtime) * 1000000000LL > age) ||
               total > limit;
      }
      if (!drop)
        continue;
      sy_error e;
      sy_error_clear(&e);
      if (ops->remove(self, l.e[i].key, &e) == 0) {
        removed++;
        freed += l.e[i].bytes;
        total -= l.e[i].bytes;
      }
    }
    /* gc: also what killed writers left, once past the grace period
     * (and never while their writer runs here). */
    if (rc == 0 && is_gc && has_temp_ops(ops))
      rc = ops->sweep(self, grace / 1000000000LL, count_temp, &tw, &err);
    char size[32];
    human_size(freed, size, sizeof size);
    if (ctx->verbosity >= 0 && is_gc) {
      char tsize[32];
      human_size(tw.bytes, tsize, sizeof tsize);
      printf("removed %zu entries (%s) and %zu temporary files (%s)\n",
             removed, size, tw.n, tsize);
    } else if (ctx->verbosity >= 0) {
      printf("removed %zu entries (%s)\n", removed, size);
    }
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
