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
 * release with its generations moves between registries of any kind. It
 * writes in a scratch folder beside FILE and renames the archive over
 * FILE once whole. Import and export copy each release with the
 * registry's put_release_all (all or nothing); a release the target has
 * already with the same manifest gets only the generations it lacks.
 */
#include "cli.h"
#include "switchyard/lifecycle.h"
#include "switchyard/registry.h"
#include "switchyard/storage.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stddef.h>
#include <getopt.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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
struct rel_item {
  char *project, *release;
  uint32_t *gens;
  size_t n, cap;
};

/* The releases (in order) and their generations, from a listing. */
typedef struct rel_list {
  struct rel_item *v;
  size_t n, cap;
} rel_list;

static void rel_list_free(rel_list *l) {
  for (size_t i = 0; i < l->n; i++) {
    free(l->v[i].project);
    free(l->v[i].release);
    free(l->v[i].gens);
  }
  free(l->v);
  memset(l, 0, sizeof *l);
}

static int collect_rel(void *ud, const sy_registry_entry *e) {
  rel_list *l = ud;
  if (e->generation == 0 || l->n == 0 ||
      strcmp(l->v[l->n - 1].project, e->project) != 0 ||
      strcmp(l->v[l->n - 1].release, e->release) != 0) {
    if (l->n == l->cap) {
      size_t cap = l->cap ? l->cap * 2 : 8;
      struct rel_item *v = realloc(l->v, cap * sizeof *v);
      if (!v)
        return SY_ENOMEM;
      l->v = v;
      l->cap = cap;
    }
    struct rel_item *it = &l->v[l->n];
    memset(it, 0, sizeof *it);
    it->project = strdup(e->project);
    it->release = strdup(e->release);
    l->n++;
    if (!it->project || !it->release)
      return SY_ENOMEM;
  }
  if (e->generation == 0)
    return 0;
  struct rel_item *it = &l->v[l->n - 1];
  if (it->n == it->cap) {
    size_t cap = it->cap ? it->cap * 2 : 16;
    uint32_t *g = realloc(it->gens, cap * sizeof *g);
    if (!g)
      return SY_ENOMEM;
    it->gens = g;
    it->cap = cap;
  }
  it->gens[it->n++] = e->generation;
  return 0;
}

static int list_rels(reg *r, const char *project, const char *release,
                     rel_list *l, sy_error *err) {
  int rc = r->ops->list(r->self, project, release, collect_rel, l, err);
  if (rc == SY_ENOMEM && !err->message[0])
    sy_error_set(err, rc, "out of memory");
  return rc;
}

/* Pulls the generations of one release from a registry, in order. */
typedef struct puller {
  reg *from;
  const struct rel_item *it;
  size_t next;
  const uint32_t *skip; /* NULL, or per generation: 1 = already there */
} puller;

static int pull_next(void *ud, sy_value **states, sy_value **tag,
                     sy_error *err) {
  puller *p = ud;
  while (p->next < p->it->n && p->skip && p->skip[p->next])
    p->next++;
  if (p->next >= p->it->n)
    return 0;
  uint32_t g = p->it->gens[p->next++], found = 0;
  int rc =
      p->from->ops->get_generation(p->from->self, p->it->project,
                                   p->it->release, g, states, tag, &found, err);
  return rc ? rc : 1;
}

/* Stores a new release with its generations all or nothing: with the
 * registry's put_release_all, or else release, generations and, on a
 * failure, the release removed again (when the registry can). */
static int put_whole(reg *to, const char *project, const char *release,
                     const sy_value *manifest, puller *p, uint32_t *count,
                     sy_error *err) {
  if (HAS_OP(to, put_release_all))
    return to->ops->put_release_all(to->self, project, release, manifest,
                                    pull_next, p, count, err);
  *count = 0;
  int rc = to->ops->put_release(to->self, project, release, manifest, err);
  for (;;) {
    sy_value *states = NULL, *tag = NULL;
    uint32_t made = 0;
    if (rc || (rc = pull_next(p, &states, &tag, err)) <= 0)
      break;
    rc = to->ops->put_generation(to->self, project, release, states, tag, &made,
                                 err);
    sy_value_unref(states);
    sy_value_unref(tag);
    if (rc == 0)
      (*count)++;
  }
  if (rc && *count && HAS_OP(to, remove)) {
    sy_error e;
    sy_error_clear(&e);
    to->ops->remove(to->self, project, release, 0, &e);
  }
  return rc;
}

/* One hash for a generation: its states and its tag. */
static int gen_hash(reg *r, const char *project, const char *release,
                    uint32_t g, uint8_t out[2 * SY_VALUE_HASH_SIZE],
                    sy_error *err) {
  sy_value *states = NULL, *tag = NULL;
  uint32_t found = 0;
  int rc = r->ops->get_generation(r->self, project, release, g, &states, &tag,
                                  &found, err);
  if (rc == 0 && ((rc = sy_value_hash(states, out)) != 0 ||
                  (rc = sy_value_hash(tag, out + SY_VALUE_HASH_SIZE)) != 0))
    sy_error_set(err, rc, "cannot hash generation %u", g);
  sy_value_unref(states);
  sy_value_unref(tag);
  return rc;
}

static int same_bytes(const sy_value *a, const sy_value *b) {
  size_t al = 0, bl = 0;
  const void *ad = sy_bytes_data(a, &al), *bd = sy_bytes_data(b, &bl);
  return ad && bd && al == bl && memcmp(ad, bd, al) == 0;
}

/* Copies one release with its generations from `from` to `to`. A release
 * `to` lacks arrives whole or not at all. One `to` has already with the
 * same manifest (an import that stopped half-way before, or a rerun) gets
 * the generations it lacks: those it holds already, the same states and
 * tag, are skipped. A release `to` has with another manifest is a
 * conflict (SY_EEXIST). *copied and *skipped count entries. */
static int copy_release(reg *from, reg *to, const struct rel_item *it,
                        int *copied, int *skipped, sy_error *err) {
  sy_value *m = NULL, *have = NULL;
  uint32_t *skip = NULL;
  uint8_t *hashes = NULL;
  rel_list there = {0};
  int rc = from->ops->get_release(from->self, it->project, it->release, &m,
                                  NULL, err);
  if (rc)
    return rc;
  sy_error e;
  sy_error_clear(&e);
  int hrc =
      to->ops->get_release(to->self, it->project, it->release, &have, NULL, &e);
  puller p = {from, it, 0, NULL};
  uint32_t count = 0;
  if (hrc == SY_ENOENT) {
    rc = put_whole(to, it->project, it->release, m, &p, &count, err);
    if (rc == 0)
      *copied += 1 + (int)count;
    goto done;
  }
  if (hrc) {
    rc = sy_error_set(err, hrc, "%s", e.message);
    goto done;
  }
  if (!same_bytes(m, have)) {
    rc = sy_error_set(err, SY_EEXIST,
                      "release %s of %s exists in the target with another "
                      "flow; remove it (switchyard registry rm %s:%s) or "
                      "leave it out",
                      it->release, it->project, it->project, it->release);
    goto done;
  }
  (*skipped)++;
  /* The generations the target holds, by content. */
  if ((rc = list_rels(to, it->project, it->release, &there, err)) != 0)
    goto done;
  size_t nthere = there.n ? there.v[0].n : 0;
  const size_t hs = 2 * SY_VALUE_HASH_SIZE;
  if (nthere && !(hashes = malloc(nthere * hs))) {
    rc = sy_error_set(err, SY_ENOMEM, "out of memory");
    goto done;
  }
  for (size_t i = 0; i < nthere && rc == 0; i++)
    rc = gen_hash(to, it->project, it->release, there.v[0].gens[i],
                  hashes + i * hs, err);
  if (rc)
    goto done;
  if (it->n && !(skip = calloc(it->n, sizeof *skip))) {
    rc = sy_error_set(err, SY_ENOMEM, "out of memory");
    goto done;
  }
  for (size_t i = 0; i < it->n && rc == 0; i++) {
    uint8_t h[2 * SY_VALUE_HASH_SIZE];
    if ((rc = gen_hash(from, it->project, it->release, it->gens[i], h, err)))
      break;
    for (size_t k = 0; k < nthere && !skip[i]; k++)
      if (memcmp(hashes + k * hs, h, hs) == 0) {
        skip[i] = 1;
        memset(hashes + k * hs, 0, hs); /* one match each */
      }
  }
  p.skip = skip;
  for (;;) {
    sy_value *states = NULL, *tag = NULL;
    uint32_t made = 0;
    if (rc || (rc = pull_next(&p, &states, &tag, err)) <= 0)
      break;
    rc = to->ops->put_generation(to->self, it->project, it->release, states,
                                 tag, &made, err);
    sy_value_unref(states);
    sy_value_unref(tag);
    if (rc == 0)
      (*copied)++;
  }
  for (size_t i = 0; i < it->n; i++)
    *skipped += skip ? (int)skip[i] : 0;
done:
  if (rc)
    sy_error_prefix(err, "%s:%s", it->project, it->release);
  rel_list_free(&there);
  free(skip);
  free(hashes);
  sy_value_unref(m);
  sy_value_unref(have);
  return rc;
}

/* ---- export's output file ---------------------------------------------- */

/* Where export writes: FILE itself, or, when FILE is a symbolic link, the
 * file it points to (outputs are written through links). A FILE that is a
 * folder, a device, a FIFO or a socket is refused. *out is malloc()ed. */
static int export_target(const char *file, char **out, sy_error *err) {
  struct stat st;
  *out = NULL;
  if (lstat(file, &st) == 0 && S_ISLNK(st.st_mode)) {
    char *real = realpath(file, NULL);
    if (!real)
      return sy_error_set(err, SY_EINVAL,
                          "export: '%s' is a symbolic link to nothing that "
                          "exists (%s); remove it or name another file",
                          file, strerror(errno));
    *out = real;
  } else if (!(*out = strdup(file))) {
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  }
  if (stat(*out, &st) == 0 && !S_ISREG(st.st_mode)) {
    const char *what = S_ISDIR(st.st_mode)    ? "a folder"
                       : S_ISFIFO(st.st_mode) ? "a FIFO"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                       : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)
                           ? "a device"
                           : "not a regular file";
    int rc = sy_error_set(err, SY_EINVAL,
                          "export: '%s' is %s; export writes a regular file "
                          "(name a new one)",
                          file, what);
    free(*out);
    *out = NULL;
    return rc;
  }
  return 0;
}

/* Removes a scratch folder of export's and what is in it (flat). */
static void remove_scratch(const char *dir) {
  DIR *d = opendir(dir);
  if (d) {
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
      if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
        unlinkat(dirfd(d), de->d_name, 0);
    closedir(d);
  }
  rmdir(dir);
}

/* Removes scratch folders left by exports that were killed: named
 * ".BASE.export-PID-XXXXXX" in the target folder, PID no longer running. */
static void remove_stale_scratch(const char *dir, const char *base) {
  DIR *d = opendir(dir);
  if (!d)
    return;
  size_t bl = strlen(base);
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    const char *n = de->d_name;
    if (n[0] != '.' || strncmp(n + 1, base, bl) != 0 ||
        strncmp(n + 1 + bl, ".export-", 8) != 0)
      continue;
    char *end = NULL;
    long pid = strtol(n + 1 + bl + 8, &end, 10);
    if (pid <= 0 || !end || *end != '-' ||
        !(kill((pid_t)pid, 0) != 0 && errno == ESRCH))
      continue;
    char *path = NULL;
    if (asprintf(&path, "%s/%s", dir, n) >= 0) {
      remove_scratch(path);
      free(path);
    }
  }
  closedir(d);
}

/* ---- the command -------------------------------------------------------- */

static int cmd_registry(cli_ctx *ctx, int argc, char **argv) {
  const char *name = take_opt(&argc, argv, "registry");
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
  reg r = {0}, other = {0};
  rel_list rels = {0};
  char *target = NULL, *scratch = NULL, *staged = NULL;
  int rc = 0;
  if ((rc = open_registry(p, name, &r, &err)) != 0)
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
      if (grc == 0 || (!rf.generation && grc == SY_ENOENT))
        printf("%.*s", (int)len, text);
      if (grc == 0) {
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
    /* The archive is written in a scratch folder beside FILE and renamed
     * over FILE once whole: a failed or killed export leaves FILE as it
     * was (or absent). */
    if ((rc = export_target(argv[3], &target, &err)) != 0)
      goto fail;
    if ((rc = list_rels(&r, rf.project, rf.release, &rels, &err)) != 0)
      goto fail;
    if (rels.n == 0) {
      rc = sy_error_set(&err, SY_ENOENT, "nothing to export for '%s'", argv[2]);
      goto fail;
    }
    char *slash = strrchr(target, '/');
    char *dir = slash ? strndup(target, (size_t)(slash - target)) : strdup(".");
    const char *base = slash ? slash + 1 : target;
    if (dir && !*dir) {
      free(dir);
      dir = strdup("/");
    }
    if (!dir || asprintf(&scratch, "%s/.%s.export-%ld-XXXXXX", dir, base,
                         (long)getpid()) < 0) {
      scratch = NULL;
      free(dir);
      rc = sy_error_set(&err, SY_ENOMEM, "out of memory");
      goto fail;
    }
    remove_stale_scratch(dir, base);
    free(dir);
    if (!mkdtemp(scratch)) {
      rc = sy_error_set(&err, sy_code_from_errno(errno),
                        "export: cannot create a scratch folder beside '%s': "
                        "%s",
                        target, strerror(errno));
      free(scratch);
      scratch = NULL;
      goto fail;
    }
    if (asprintf(&staged, "%s/%s", scratch, base) < 0) {
      staged = NULL;
      rc = sy_error_set(&err, SY_ENOMEM, "out of memory");
      goto fail;
    }
    if ((rc = open_archive(p, staged, &other, &err)) != 0)
      goto fail;
    int copied = 0, skipped = 0;
    for (size_t i = 0; i < rels.n && rc == 0; i++)
      rc = copy_release(&r, &other, &rels.v[i], &copied, &skipped, &err);
    sy_instance_destroy(other.inst);
    other.inst = NULL;
    struct stat st;
    if (rc == 0 && stat(target, &st) == 0 && !S_ISREG(st.st_mode))
      rc = sy_error_set(&err, SY_EINVAL,
                        "export: '%s' stopped being a regular file", target);
    if (rc == 0 && rename(staged, target) != 0)
      rc = sy_error_set(&err, sy_code_from_errno(errno),
                        "export: cannot rename '%s' to '%s': %s", staged,
                        target, strerror(errno));
    if (rc == 0 && ctx->verbosity >= 0)
      printf("exported %d entries to %s\n", copied, argv[3]);
  } else { /* import */
    struct stat st;
    if (stat(argv[2], &st) != 0) {
      rc = sy_error_set(&err, SY_ENOENT, "import: cannot read '%s': %s",
                        argv[2], strerror(errno));
      goto fail;
    }
    if ((rc = open_archive(p, argv[2], &other, &err)) != 0)
      goto fail;
    if ((rc = list_rels(&other, NULL, NULL, &rels, &err)) != 0)
      goto fail;
    int copied = 0, skipped = 0;
    for (size_t i = 0; i < rels.n && rc == 0; i++)
      rc = copy_release(&other, &r, &rels.v[i], &copied, &skipped, &err);
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
  if (scratch) {
    if (staged) {
      /* The archive provider's lock file sits beside the staged file. */
      char *lock = NULL;
      if (asprintf(&lock, "%s.lock", staged) >= 0) {
        unlink(lock);
        free(lock);
      }
    }
    remove_scratch(scratch);
  }
  rel_list_free(&rels);
  sy_instance_destroy(r.inst);
  sy_instance_destroy(other.inst);
  free(staged);
  free(scratch);
  free(target);
  sy_registry_ref_free(&rf);
  return status;
}

const cli_command cli_cmd_registry = {
    "registry", "list, show, export and import releases and generations",
    "registry [list [PROJECT[:RELEASE]] | show REF | rm REF | export REF FILE "
    "| import FILE] [--registry R]",
    "  list             projects, releases and generations\n"
    "  show REF         a release's frozen flow and a generation's tag\n"
    "                   (REF: PROJECT[:RELEASE[:GENERATION]], latest by "
    "default)\n"
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
