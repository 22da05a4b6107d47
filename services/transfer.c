/*
 * transfer.c - copying releases between registries: export to and import
 * from an archive registry file (the `archive` provider), so a release
 * with its generations moves between registries of any kind.
 *
 * Export writes in a scratch folder beside FILE and renames the archive
 * over FILE once whole. Import and export copy each release with the
 * registry's put_release_all (all or nothing); a release the target has
 * already with the same manifest gets only the generations it lacks.
 * Then each generation's notes (ABI 1.4: the `eval` table) follow it to
 * the number it got in the target; a note the target holds already, the
 * same value, is not written again.
 */
#include "switchyard/config.h"
#include "switchyard/error.h"
#include "switchyard/lifecycle.h"
#include "switchyard/registry.h"
#include "switchyard/value.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- registries ----------------------------------------------------- */

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

/* ---- notes -------------------------------------------------------------- */

typedef struct note_names {
  char **v;
  size_t n;
} note_names;

static int collect_note(void *ud, const char *name) {
  note_names *l = ud;
  char **v = realloc(l->v, (l->n + 1) * sizeof *v);
  if (!v)
    return SY_ENOMEM;
  l->v = v;
  if (!(v[l->n] = strdup(name)))
    return SY_ENOMEM;
  l->n++;
  return 0;
}

static void note_names_free(note_names *l) {
  for (size_t i = 0; i < l->n; i++)
    free(l->v[i]);
  free(l->v);
  memset(l, 0, sizeof *l);
}

/* Copies the notes of generation `sg` of a release in `from` to
 * generation `dg` of it in `to`. A source that keeps no notes has none to
 * copy; a target that keeps none, when there are some, is SY_ENOTSUP. */
static int copy_notes(reg *from, reg *to, const char *project,
                      const char *release, uint32_t sg, uint32_t dg,
                      sy_error *err) {
  if (!HAS_OP(from, list_notes) || !HAS_OP(from, get_note))
    return 0;
  note_names l = {0};
  int rc = from->ops->list_notes(from->self, project, release, sg, collect_note,
                                 &l, err);
  if (rc == SY_ENOMEM && !err->message[0])
    sy_error_set(err, rc, "out of memory");
  if (rc == 0 && l.n && (!HAS_OP(to, put_note) || !HAS_OP(to, get_note)))
    rc = sy_error_set(err, SY_ENOTSUP,
                      "generation %u has notes (%s%s), which the target "
                      "registry (provider %s) cannot keep",
                      sg, l.v[0], l.n > 1 ? ", ..." : "",
                      sy_instance_provider(to->inst)->name);
  for (size_t i = 0; rc == 0 && i < l.n; i++) {
    sy_value *v = NULL, *have = NULL;
    uint8_t a[SY_VALUE_HASH_SIZE], b[SY_VALUE_HASH_SIZE];
    sy_error e;
    sy_error_clear(&e);
    rc = from->ops->get_note(from->self, project, release, sg, l.v[i], &v, err);
    if (rc == 0 &&
        to->ops->get_note(to->self, project, release, dg, l.v[i], &have, &e) ==
            0 &&
        sy_value_hash(v, a) == 0 && sy_value_hash(have, b) == 0 &&
        memcmp(a, b, sizeof a) == 0) {
      sy_value_unref(v);
      sy_value_unref(have);
      continue; /* there already */
    }
    uint32_t got = 0;
    if (rc == 0)
      rc = to->ops->put_note(to->self, project, release, dg, l.v[i], v, &got,
                             err);
    if (rc)
      sy_error_prefix(err, "generation %u, note %s", sg, l.v[i]);
    sy_value_unref(v);
    sy_value_unref(have);
  }
  note_names_free(&l);
  return rc;
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
  uint32_t *skip = NULL, *dest = NULL; /* dest: the target's numbers */
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
    /* The target numbered the generations anew, in the same order. */
    if (rc == 0 && it->n &&
        (rc = list_rels(to, it->project, it->release, &there, err)) == 0) {
      if (there.n != 1 || there.v[0].n != it->n)
        rc = sy_error_set(err, SY_EIO,
                          "the target holds %zu generations after the copy "
                          "of %zu",
                          there.n ? there.v[0].n : 0, it->n);
      for (size_t i = 0; rc == 0 && i < it->n; i++)
        rc = copy_notes(from, to, it->project, it->release, it->gens[i],
                        there.v[0].gens[i], err);
    }
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
  if (it->n && (!(skip = calloc(it->n, sizeof *skip)) ||
                !(dest = calloc(it->n, sizeof *dest)))) {
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
        dest[i] = there.v[0].gens[k];
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
    if (rc == 0) {
      (*copied)++;
      dest[p.next - 1] = made;
    }
  }
  for (size_t i = 0; rc == 0 && i < it->n; i++)
    if (dest[i])
      rc = copy_notes(from, to, it->project, it->release, it->gens[i], dest[i],
                      err);
  for (size_t i = 0; i < it->n; i++)
    *skipped += skip ? (int)skip[i] : 0;
done:
  if (rc)
    sy_error_prefix(err, "%s:%s", it->project, it->release);
  rel_list_free(&there);
  free(skip);
  free(dest);
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

/* ---- export and import -------------------------------------------------- */

int sy_registry_export(sy_platform *p, const char *registry, const char *ref,
                       const char *file, int *copied, sy_error *err) {
  sy_error local;
  if (!err)
    err = &local;
  sy_error_clear(err);
  if (copied)
    *copied = 0;
  if (!p || !ref || !file)
    return sy_error_set(err, SY_EINVAL,
                        "export: a platform, a reference and a file are "
                        "needed");
  sy_registry_ref rf = {0};
  reg r = {0}, other = {0};
  rel_list rels = {0};
  char *target = NULL, *scratch = NULL, *staged = NULL;
  int rc = sy_registry_ref_parse(ref, 1, 2, &rf, err);
  if (rc)
    return rc;
  if ((rc = open_registry(p, registry, &r, err)) != 0)
    goto done;
  /* The archive is written in a scratch folder beside FILE and renamed
   * over FILE once whole: a failed or killed export leaves FILE as it
   * was (or absent). */
  if ((rc = export_target(file, &target, err)) != 0)
    goto done;
  if ((rc = list_rels(&r, rf.project, rf.release, &rels, err)) != 0)
    goto done;
  if (rels.n == 0) {
    rc = sy_error_set(err, SY_ENOENT, "nothing to export for '%s'", ref);
    goto done;
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
    rc = sy_error_set(err, SY_ENOMEM, "out of memory");
    goto done;
  }
  remove_stale_scratch(dir, base);
  free(dir);
  if (!mkdtemp(scratch)) {
    rc = sy_error_set(err, sy_code_from_errno(errno),
                      "export: cannot create a scratch folder beside '%s': "
                      "%s",
                      target, strerror(errno));
    free(scratch);
    scratch = NULL;
    goto done;
  }
  if (asprintf(&staged, "%s/%s", scratch, base) < 0) {
    staged = NULL;
    rc = sy_error_set(err, SY_ENOMEM, "out of memory");
    goto done;
  }
  if ((rc = open_archive(p, staged, &other, err)) != 0)
    goto done;
  int n = 0, skipped = 0;
  for (size_t i = 0; i < rels.n && rc == 0; i++)
    rc = copy_release(&r, &other, &rels.v[i], &n, &skipped, err);
  sy_instance_destroy(other.inst);
  other.inst = NULL;
  struct stat st;
  if (rc == 0 && stat(target, &st) == 0 && !S_ISREG(st.st_mode))
    rc = sy_error_set(err, SY_EINVAL,
                      "export: '%s' stopped being a regular file", target);
  if (rc == 0 && rename(staged, target) != 0)
    rc = sy_error_set(err, sy_code_from_errno(errno),
                      "export: cannot rename '%s' to '%s': %s", staged, target,
                      strerror(errno));
  if (rc == 0 && copied)
    *copied = n;
done:
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
  return rc;
}

int sy_registry_import(sy_platform *p, const char *registry, const char *file,
                       int *copied, int *skipped, sy_error *err) {
  sy_error local;
  if (!err)
    err = &local;
  sy_error_clear(err);
  if (copied)
    *copied = 0;
  if (skipped)
    *skipped = 0;
  if (!p || !file)
    return sy_error_set(err, SY_EINVAL,
                        "import: a platform and a file are needed");
  reg r = {0}, other = {0};
  rel_list rels = {0};
  int rc = open_registry(p, registry, &r, err);
  if (rc)
    goto done;
  struct stat st;
  if (stat(file, &st) != 0) {
    rc = sy_error_set(err, SY_ENOENT, "import: cannot read '%s': %s", file,
                      strerror(errno));
    goto done;
  }
  if ((rc = open_archive(p, file, &other, err)) != 0)
    goto done;
  if ((rc = list_rels(&other, NULL, NULL, &rels, err)) != 0)
    goto done;
  int n = 0, had = 0;
  for (size_t i = 0; i < rels.n && rc == 0; i++)
    rc = copy_release(&other, &r, &rels.v[i], &n, &had, err);
  if (rc == 0) {
    if (copied)
      *copied = n;
    if (skipped)
      *skipped = had;
  }
done:
  rel_list_free(&rels);
  sy_instance_destroy(r.inst);
  sy_instance_destroy(other.inst);
  return rc;
}
