/*
 * loader.c - the plugin loader and the catalog of loaded providers.
 *
 * Design note.
 *
 * Search order is the caller's business, not the loader's: the CLI scans
 * $SWITCHYARD_PLUGIN_PATH first, then the [PLATFORM] plugin_path of the
 * config, then the built-in plugins.d. This file only offers the three
 * building blocks (scan_path, scan_dir, load_file) plus add_static for
 * plugins linked into the program. Because the first provider of a
 * kind+name wins and a later duplicate is refused, the caller's order is
 * what lets a user shadow a built-in provider.
 *
 * What a file must pass before it joins the catalog, in this order:
 *
 *   1. trust, as sshd's StrictModes and sudo check: the file is opened
 *      (O_RDONLY | O_CLOEXEC, following symlinks) and everything else is
 *      checked on that descriptor. It must be a regular file; the file and
 *      every folder above its resolved path (readlink of /proc/self/fd/N),
 *      up to /, must be owned by root or by the invoking user, and none may
 *      be group- or world-writable, except a folder that is sticky and
 *      owned by root (/tmp). When the path given was a symlink, the folders
 *      leading to the link are checked the same way (whoever writes them
 *      could repoint it). Anybody who could write any of them could run
 *      code in us;
 *   2. its content is hashed (XXH3-128 of the descriptor's bytes): the
 *      code hash enters the cache key of every step that runs one of its
 *      actors, so a rebuilt plugin never gets an old result;
 *   3. dlopen("/proc/self/fd/N", RTLD_NOW | RTLD_LOCAL): the very file that
 *      was checked and hashed is mapped, whatever happens to its path
 *      meanwhile, and no constructor of a refused file ever runs.
 *      Unresolved symbols fail here, with the dynamic linker's text. The
 *      descriptor stays open while the plugin is loaded: the dynamic
 *      linker knows the object by that name, and a reused descriptor
 *      number must not find it;
 *   4. the entry symbol SY_PLUGIN_ENTRY_SYMBOL exists;
 *   5. the descriptor: ABI major equal, minor not newer, size covers the
 *      1.0 layout, build signature equal, then every provider and option
 *      table (sy__plugin_check);
 *   6. kind+name clashes: the first provider of a kind+name wins. A later
 *      plugin's clashing provider is refused on its own (a problem naming
 *      both files) and the rest of that plugin loads; a plugin whose every
 *      provider clashes is refused as a whole;
 *   7. a stateful actor (SY_ACTOR_STATEFUL) has train, apply, state_save
 *      and state_load: one that lacks any is refused on its own like a
 *      clash (a problem naming the file, the rest loads), and a plugin
 *      with no other provider is refused as a whole.
 *
 * A failed check in 1-5 refuses the whole plugin: it is dlclose()d and
 * contributes no provider at all, the refusal is kept as a problem (file
 * and reason), and a folder scan goes on with the next file. Every message
 * names the file and says what was found against what is supported, so a
 * user can act on it without reading this code.
 *
 * The catalog keeps its providers sorted by kind then name, re-sorted after
 * each plugin is added, so that lookups (which may run from any thread once
 * the catalog is built) never write.
 */
#include "internal.h"
#include "manifest.h"
#include "switchyard/actor.h"
#include "switchyard/io.h"
#include "switchyard/runner.h"
#include "switchyard/storage.h"
#include "switchyard/registry.h"

#include <dirent.h>
#include <dlfcn.h>
#include <link.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

/* One plugin file the catalog knows (or a static plugin), in the order
 * they were found. `handle` is NULL for a static plugin or one not loaded
 * (yet); `file` is the path it was loaded from, or the origin of a static
 * one. `fd` is the descriptor it was dlopen()ed through (-1 for a static
 * plugin or one not loaded), kept open until it is dlclose()d. */
enum { REC_LOADED, REC_PENDING, REC_GONE };
typedef struct dirman dirman;
typedef struct plugin_rec {
  void *handle;
  int fd;
  char *file;
  const sy_plugin *desc; /* NULL until loaded */
  bool has_id; /* dev/ino are known: the same file is not loaded twice */
  dev_t dev;
  ino_t ino;
  bool has_code; /* code holds the file's content hash */
  uint8_t code[16];
  /* REC_PENDING: known through a manifest, loaded at first lookup;
   * REC_GONE: known but refused (when loaded, or every provider lost a
   * clash), with no entry left. */
  int state;
  dirman *dm;          /* the folder whose manifest made it known */
  sy__manifest record; /* that record (one file), owning the strings of
                          its entries while they wait */
} plugin_rec;

/* One provider: loaded (prov set), or waiting in a file not loaded yet
 * (prov NULL; the strings are the manifest record's). */
typedef struct entry {
  sy_kind kind;
  const char *name, *version, *description;
  const sy_provider *prov;
  plugin_rec *rec;
} entry;

typedef struct problem {
  char *file;
  char *reason;
} problem;

/* A scanned folder's manifest: where it is written, and what it says. */
struct dirman {
  char *path; /* NULL: nowhere (no cache folder) */
  bool in_cache;
  sy__manifest next;
};

struct sy_catalog {
  /* Every public function holds it: a lookup may load a plugin. */
  pthread_mutex_t lock;
  bool lazy;            /* folder scans use manifests */
  plugin_rec **plugins; /* every file known, in the order found */
  size_t nplugins, capplugins;
  plugin_rec **loaded; /* those loaded, in the order loaded */
  size_t nloaded, caploaded;
  entry *entries; /* sorted by kind then name */
  size_t nentries, capentries;
  problem *problems;
  size_t nproblems, capproblems;
  dirman **dirs;
  size_t ndirs, capdirs;
};

/* ---- small helpers ---------------------------------------------------- */

/* Keeps a refusal. Failing to keep it (out of memory) is not worth failing
 * the refusal itself for: the caller still gets the error. */
static void add_problem(sy_catalog *cat, const char *file, const char *reason) {
  problem *grown = sy__grow_array(cat->problems, &cat->capproblems,
                                  cat->nproblems + 1, sizeof *cat->problems);
  if (!grown)
    return;
  cat->problems = grown;
  char *f = strdup(file);
  char *r = strdup(reason);
  if (!f || !r) {
    free(f);
    free(r);
    return;
  }
  cat->problems[cat->nproblems].file = f;
  cat->problems[cat->nproblems].reason = r;
  cat->nproblems++;
}

/* Records the bare reason in `local` as a problem of `file` ("not loaded:
 * <reason>"), then hands the caller the same reason prefixed with the
 * file. Returns the code. */
static int refuse(sy_catalog *cat, const char *file, const sy_error *local,
                  sy_error *err) {
  char reason[SY_ERROR_MAX + 16];
  snprintf(reason, sizeof reason, "not loaded: %s", local->message);
  add_problem(cat, file, reason);
  if (err) {
    *err = *local;
    sy_error_prefix(err, "%s", file);
  }
  return local->code;
}

/* Refuses a file or folder that others may write: whoever can write it
 * can make us run their code. The message reads "<what> is ...", with
 * `shown` after `what` when the path is not already the message's prefix
 * (NULL otherwise), and ends with the command that fixes it. */
static int check_not_writable(const char *what, const char *shown,
                              const char *path, const struct stat *st,
                              sy_error *err) {
  const char *who = NULL;
  if (st->st_mode & S_IWOTH)
    who = "world";
  else if (st->st_mode & S_IWGRP)
    who = "group";
  if (!who)
    return 0;
  return sy_error_set(err, SY_EPERM, "%s%s%s is %s-writable; run chmod go-w %s",
                      what, shown ? " " : "", shown ? shown : "", who, path);
}

/* One link of the trust chain: the plugin file, or a folder on its
 * resolved path. It must be owned by root or by the invoking user, and
 * written by nobody else: not group- or world-writable, unless it is a
 * folder that is sticky and owned by root (such as /tmp, where only an
 * entry's owner may rename or remove it). `what` and `shown` as in
 * check_not_writable; `me` is getuid(), asked once per file by the
 * caller. */
static int check_trusted(uid_t me, const char *what, const char *shown,
                         const char *path, const struct stat *st,
                         sy_error *err) {
  if (st->st_uid != 0 && st->st_uid != me)
    return sy_error_set(err, SY_EPERM,
                        "%s%s%s is owned by uid %lu, neither root nor you "
                        "(uid %lu); run chown root %s",
                        what, shown ? " " : "", shown ? shown : "",
                        (unsigned long)st->st_uid, (unsigned long)me, path);
  if (S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX) && st->st_uid == 0)
    return 0;
  return check_not_writable(what, shown, path, st, err);
}

/* The absolute path of the file open at fd, symlinks resolved: what the
 * kernel says at /proc/self/fd/N, else realpath(path). Caller frees; NULL
 * when neither works. */
static char *resolved_path(int fd, const char *path) {
  char link[64], buf[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, buf, sizeof buf - 1);
  if (n > 0 && buf[0] == '/') {
    buf[n] = '\0';
    return strdup(buf);
  }
  return realpath(path, NULL);
}

/* Checks every folder above the absolute path `real`, from its own folder
 * up to /. */
static int check_folders(const char *real, uid_t me, sy_error *err) {
  char *dir = strdup(real);
  if (!dir)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  int rc = 0;
  for (;;) {
    char *slash = strrchr(dir, '/');
    if (!slash)
      break;
    if (slash == dir)
      slash[1] = '\0'; /* "/x" lives in "/" */
    else
      *slash = '\0';
    struct stat st;
    if (stat(dir, &st) != 0) {
      rc = sy_error_set(err, SY_EIO, "cannot stat folder %s: %s", dir,
                        strerror(errno));
      break;
    }
    rc = check_trusted(me, "folder", dir, dir, &st, err);
    if (rc != 0 || strcmp(dir, "/") == 0)
      break;
  }
  free(dir);
  return rc;
}

/* The folders that lead to `path` itself, when it is not the resolved path
 * (a symlink, or a path through one): whoever could write one of them
 * could point the path at another file, so they are checked as well. */
static int check_link_folders(const char *path, uid_t me, sy_error *err) {
  const char *slash = strrchr(path, '/');
  char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path))
                    : strdup(".");
  char *real = dir ? realpath(dir, NULL) : NULL;
  int rc = 0;
  if (!dir)
    rc = sy_error_set(err, SY_ENOMEM, "out of memory");
  else if (!real)
    rc = sy_error_set(err, SY_EIO, "cannot resolve folder %s: %s", dir,
                      strerror(errno));
  if (rc == 0) {
    /* check_folders starts at the folder of its argument. */
    size_t n = strlen(real);
    char *probe = malloc(n + 3);
    if (!probe) {
      rc = sy_error_set(err, SY_ENOMEM, "out of memory");
    } else {
      memcpy(probe, real, n);
      memcpy(probe + n, n > 1 ? "/x" : "x", n > 1 ? 3 : 2);
      rc = check_folders(probe, me, err);
      free(probe);
    }
  }
  free(real);
  free(dir);
  return rc;
}

/* XXH3-128 of everything readable at fd, read with pread (the offset of
 * fd is left alone). */
static int hash_fd(int fd, uint8_t out[16], sy_error *err) {
  XXH3_state_t *st = XXH3_createState();
  if (!st)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  XXH3_128bits_reset(st);
  char buf[65536];
  off_t off = 0;
  int rc = 0;
  for (;;) {
    ssize_t n = pread(fd, buf, sizeof buf, off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      rc = sy_error_set(err, SY_EIO, "cannot read: %s", strerror(errno));
      break;
    }
    if (n == 0)
      break;
    XXH3_128bits_update(st, buf, (size_t)n);
    off += n;
  }
  if (rc == 0) {
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits_digest(st));
    memcpy(out, c.digest, 16);
  }
  XXH3_freeState(st);
  return rc;
}

/* The name the dynamic linker knows a plugin by: its descriptor. */
static void fd_name(int fd, char *buf, size_t cap) {
  snprintf(buf, cap, "/proc/self/fd/%d", fd);
}

/* dlclose()s a plugin's handle, then closes its descriptor unless the
 * object is still mapped (a library marked NODELETE, such as runner-mpi,
 * or one some other handle holds): then its number must stay taken, or
 * the next plugin opened under the same number would be given the old
 * object by the dynamic linker, which matches names first. Leaking one
 * descriptor is the lesser harm.
 *
 * Whether the object is still mapped is asked of the dynamic linker's
 * list of objects (dladdr of its dynamic section, found before the
 * dlclose), not by dlopen(RTLD_NOLOAD) of its /proc/self/fd name: that
 * one opens, reads and stats the file again, four system calls per
 * plugin at every exit. Should another object be mapped at that address
 * by another thread meanwhile, the descriptor is kept: the safe side. */
static void unload(void *handle, int fd) {
  struct link_map *lm = NULL;
  const void *probe = NULL;
  if (handle && dlinfo(handle, RTLD_DI_LINKMAP, &lm) == 0 && lm)
    probe = lm->l_ld;
  if (handle)
    dlclose(handle);
  if (fd < 0)
    return;
  Dl_info info;
  if (handle && (!probe || dladdr(probe, &info) != 0))
    return; /* still mapped, or cannot tell: keep the number taken */
  close(fd);
}

/* ---- descriptor checks ------------------------------------------------ */

size_t sy__ops_min_size(sy_kind kind) {
  /* Each kind's ABI 1.0 ops struct, whole: members added in a later minor
   * go after these, and the core checks `size` before it calls them. */
  switch (kind) {
  case SY_KIND_RUNNER:
    /* resources (its help text) came in 1.4: optional. */
    return offsetof(sy_runner_ops, resources);
  case SY_KIND_FEED:
    /* describe came in 1.3: a feed built against 1.0 stops before it. */
    return offsetof(sy_feed_ops, describe);
  case SY_KIND_SINK:
    return sizeof(sy_sink_ops);
  case SY_KIND_ACTOR:
    /* apply_into came in 1.1: an actor built against 1.0 stops before it. */
    return offsetof(sy_actor_ops, apply_into);
  case SY_KIND_REGISTRY:
    /* remove and put_release_all came in 1.3 (optional). */
    return offsetof(sy_registry_ops, remove);
  case SY_KIND_STORAGE:
    /* temporaries and sweep came in 1.3. */
    return offsetof(sy_storage_ops, temporaries);
  }
  return 0;
}

static bool valid_provider_name(const char *s) {
  if (!s || !*s)
    return false;
  for (; *s; s++) {
    char c = *s;
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '.' || c == '-'))
      return false;
  }
  return true;
}

static bool valid_option_name(const char *s) {
  if (!*s)
    return false;
  for (; *s; s++) {
    char c = *s;
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  }
  return true;
}

/* The structural part of an option table check: what the loader must know
 * before the core may write into a provider's config struct. Whether
 * defaults and bounds parse is options.c's business (sy__opt_check_table);
 * this only guarantees that nothing writes outside the struct. */
static int check_options(const sy_option *opts, size_t config_size,
                         sy_error *err) {
  for (size_t i = 0; opts[i].name; i++) {
    const sy_option *o = &opts[i];
    if (!valid_option_name(o->name))
      return sy_error_set(err, SY_EPLUGIN,
                          "option #%zu name '%s' must match [a-z0-9_]+", i + 1,
                          o->name);
    if (!o->help || !*o->help)
      return sy_error_set(err, SY_EPLUGIN, "option '%s' has no help text",
                          o->name);
    size_t vsize = sy__opt_value_size(o->type);
    if (vsize == 0)
      return sy_error_set(err, SY_EPLUGIN, "option '%s' has invalid type %d",
                          o->name, (int)o->type);
    if (o->type == SY_OPT_ENUM && (!o->choices || !o->choices[0]))
      return sy_error_set(err, SY_EPLUGIN,
                          "option '%s' is an enum with no choices", o->name);
    for (size_t j = 0; j < i; j++)
      if (strcmp(opts[j].name, o->name) == 0)
        return sy_error_set(err, SY_EPLUGIN, "option '%s' is declared twice",
                            o->name);
    if (o->offset > config_size || vsize > config_size - o->offset)
      return sy_error_set(err, SY_EPLUGIN,
                          "option '%s' at offset %zu (%s, %zu bytes) does "
                          "not fit in config_size %zu",
                          o->name, o->offset, sy_opt_type_name(o->type), vsize,
                          config_size);
  }
  return 0;
}

/* Checks one provider; `label` receives "runner 'dask'" once kind and name
 * are known, "provider #N" before. Messages are bare (no file). */
static int check_provider(const sy_provider *p, size_t index, sy_error *err) {
  char label[128];
  snprintf(label, sizeof label, "provider #%zu", index + 1);
  if (p->size < sizeof(sy_provider))
    return sy_error_set(err, SY_EABI,
                        "%s: descriptor is %u bytes, ABI %d.0 needs at "
                        "least %zu",
                        label, (unsigned)p->size, SY_ABI_MAJOR,
                        sizeof(sy_provider));
  const char *kind = sy_kind_name(p->kind);
  if (!kind)
    return sy_error_set(err, SY_EPLUGIN, "%s: invalid kind %d", label,
                        (int)p->kind);
  if (!valid_provider_name(p->name))
    return sy_error_set(err, SY_EPLUGIN,
                        "%s: %s name '%s' must match [a-z0-9_.-]+", label, kind,
                        p->name ? p->name : "(null)");
  snprintf(label, sizeof label, "%s '%s'", kind, p->name);
  if (!p->version || !*p->version)
    return sy_error_set(err, SY_EPLUGIN, "%s has no version", label);
  if (!p->description || !*p->description)
    return sy_error_set(err, SY_EPLUGIN, "%s has no description", label);
  if (!p->ops)
    return sy_error_set(err, SY_EPLUGIN, "%s has no ops", label);
  uint32_t ops_size = *(const uint32_t *)p->ops;
  size_t ops_min = sy__ops_min_size(p->kind);
  if (ops_size < ops_min)
    return sy_error_set(err, SY_EABI,
                        "%s: ops is %u bytes, %s ABI %d.0 needs at least %zu",
                        label, (unsigned)ops_size, kind, SY_ABI_MAJOR, ops_min);
  if (!p->create != !p->destroy)
    return sy_error_set(err, SY_EPLUGIN,
                        "%s: create and destroy must both be set or both "
                        "be NULL",
                        label);
  if (p->options) {
    if (p->config_size == 0)
      return sy_error_set(err, SY_EPLUGIN,
                          "%s has options but config_size is 0", label);
    int rc = check_options(p->options, p->config_size, err);
    if (rc != 0) {
      sy_error_prefix(err, "%s", label);
      return rc;
    }
  }
  return 0;
}

/* The whole descriptor check with bare messages (no file). */
static int check_plugin(const sy_plugin *pl, sy_error *err) {
  if (!pl)
    return sy_error_set(err, SY_EPLUGIN, "entry returned no descriptor");
  if (pl->abi_major != SY_ABI_MAJOR)
    return sy_error_set(err, SY_EABI,
                        "built for plugin ABI %u.x, this switchyard "
                        "supports %d.x",
                        (unsigned)pl->abi_major, SY_ABI_MAJOR);
  if (pl->abi_minor > SY_ABI_MINOR)
    return sy_error_set(err, SY_EABI,
                        "needs ABI %u.%u, this switchyard supports up to "
                        "%d.%d; upgrade switchyard",
                        (unsigned)pl->abi_major, (unsigned)pl->abi_minor,
                        SY_ABI_MAJOR, SY_ABI_MINOR);
  /* Only the three leading uint32_t fields may be read before this. */
  if (pl->size < sizeof(sy_plugin))
    return sy_error_set(err, SY_EABI,
                        "descriptor is %u bytes, ABI %d.0 needs at least %zu",
                        (unsigned)pl->size, SY_ABI_MAJOR, sizeof(sy_plugin));
  if (!pl->build || strcmp(pl->build, SY_BUILD_SIGNATURE) != 0)
    return sy_error_set(err, SY_EABI, "built with signature %s, expected %s",
                        pl->build ? pl->build : "(none)", SY_BUILD_SIGNATURE);
  if (!pl->name || !*pl->name)
    return sy_error_set(err, SY_EPLUGIN, "plugin has no name");
  if (!pl->providers)
    return sy_error_set(err, SY_EPLUGIN, "plugin '%s' has no provider list",
                        pl->name);
  for (size_t i = 0; pl->providers[i]; i++) {
    const sy_provider *p = pl->providers[i];
    int rc = check_provider(p, i, err);
    if (rc != 0)
      return rc;
    /* A plugin naming one kind+name twice would shadow itself. */
    for (size_t j = 0; j < i; j++) {
      const sy_provider *q = pl->providers[j];
      if (q->kind == p->kind && strcmp(q->name, p->name) == 0)
        return sy_error_set(err, SY_EEXIST, "provides %s '%s' twice",
                            sy_kind_name(p->kind), p->name);
    }
  }
  return 0;
}

int sy__plugin_check(const sy_plugin *plugin, const char *file, sy_error *err) {
  sy_error local;
  sy_error_clear(&local);
  int rc = check_plugin(plugin, &local);
  if (rc != 0 && err) {
    *err = local;
    sy_error_prefix(err, "%s", file ? file : "(unknown)");
  }
  return rc;
}

/* ---- the catalog ------------------------------------------------------ */

int sy_catalog_new(sy_catalog **out) {
  if (!out)
    return SY_EINVAL;
  *out = calloc(1, sizeof **out);
  if (!*out)
    return SY_ENOMEM;
  if (pthread_mutex_init(&(*out)->lock, NULL) != 0) {
    free(*out);
    *out = NULL;
    return SY_ENOMEM;
  }
  return 0;
}

static void dirman_free(dirman *dm) {
  if (!dm)
    return;
  free(dm->path);
  sy__manifest_free(&dm->next);
  free(dm);
}

void sy_catalog_free(sy_catalog *cat) {
  if (!cat)
    return;
  /* Unload in reverse order of loading, as a linker would. */
  for (size_t i = cat->nloaded; i-- > 0;) {
    plugin_rec *rec = cat->loaded[i];
    unload(rec->handle, rec->fd);
  }
  for (size_t i = 0; i < cat->nplugins; i++) {
    plugin_rec *rec = cat->plugins[i];
    free(rec->file);
    sy__manifest_free(&rec->record);
    free(rec);
  }
  for (size_t i = 0; i < cat->nproblems; i++) {
    free(cat->problems[i].file);
    free(cat->problems[i].reason);
  }
  for (size_t i = 0; i < cat->ndirs; i++)
    dirman_free(cat->dirs[i]);
  pthread_mutex_destroy(&cat->lock);
  free(cat->dirs);
  free(cat->plugins);
  free(cat->loaded);
  free(cat->entries);
  free(cat->problems);
  free(cat);
}

static int entry_cmp(const void *a, const void *b) {
  const entry *x = a, *y = b;
  if (x->kind != y->kind)
    return x->kind < y->kind ? -1 : 1;
  return strcmp(x->name, y->name);
}

/* The entry of kind+name among the first `count` (sorted) entries. */
static entry *find_entry(entry *entries, size_t count, sy_kind kind,
                         const char *name) {
  if (count == 0)
    return NULL;
  entry key;
  memset(&key, 0, sizeof key);
  key.kind = kind;
  key.name = name;
  return bsearch(&key, entries, count, sizeof *entries, entry_cmp);
}

/* Room for `more` entries (0 or SY_ENOMEM). */
static int reserve_entries(sy_catalog *cat, size_t more) {
  entry *grown = sy__grow_array(cat->entries, &cat->capentries,
                                cat->nentries + more, sizeof *grown);
  if (!grown)
    return SY_ENOMEM;
  cat->entries = grown;
  return 0;
}

/* Room for one more record in `*list` (0 or SY_ENOMEM). */
static int reserve_rec(plugin_rec ***list, size_t n, size_t *cap) {
  plugin_rec **grown = sy__grow_array(*list, cap, n + 1, sizeof *grown);
  if (!grown)
    return SY_ENOMEM;
  *list = grown;
  return 0;
}

/* Refuses a plugin whose first provider's kind+name the catalog already
 * has, naming both files (used when every provider clashes). */
static int check_duplicates(sy_catalog *cat, const sy_plugin *pl,
                            sy_error *err) {
  for (size_t i = 0; pl->providers[i]; i++) {
    const sy_provider *p = pl->providers[i];
    const entry *old =
        find_entry(cat->entries, cat->nentries, p->kind, p->name);
    if (!old)
      continue;
    return sy_error_set(err, SY_EEXIST,
                        "provides %s '%s' already provided by %s",
                        sy_kind_name(p->kind), p->name, old->rec->file);
  }
  return 0;
}

/* Why stateful actor provider p cannot be used, or NULL when it can (or
 * is not a stateful actor). A stateful actor is trained, saved, loaded
 * and applied; one that lacks any of these ops is refused here, at load
 * time, naming its file, instead of failing the first run that uses it. */
static const char *actor_unusable(const sy_provider *p) {
  if (p->kind != SY_KIND_ACTOR)
    return NULL;
  const sy_actor_ops *ops = p->ops;
  if (!(ops->flags & SY_ACTOR_STATEFUL))
    return NULL;
  if (!ops->train)
    return "is stateful (SY_ACTOR_STATEFUL) but has no train";
  if (!ops->apply)
    return "is stateful (SY_ACTOR_STATEFUL) but has no apply";
  if (!ops->state_save || !ops->state_load)
    return "is stateful (SY_ACTOR_STATEFUL) but lacks state_save or "
           "state_load";
  return NULL;
}

/* Keeps the problem of a provider that lost a clash to `winner`. */
static void clash_problem(sy_catalog *cat, const char *file, sy_kind kind,
                          const char *name, const char *winner) {
  char reason[SY_ERROR_MAX];
  snprintf(reason, sizeof reason,
           "%s '%s' not loaded: already provided by %s, which was "
           "loaded first; the rest of this plugin is loaded",
           sy_kind_name(kind), name, winner);
  add_problem(cat, file, reason);
}

/* Whether the manifest record of a pending file lists kind+name. */
static bool record_lists(const plugin_rec *rec, sy_kind kind,
                         const char *name) {
  const sy__man_file *f = rec->record.nfiles ? &rec->record.files[0] : NULL;
  for (size_t i = 0; f && i < f->nprovs; i++)
    if (f->provs[i].kind == kind && strcmp(f->provs[i].name, name) == 0)
      return true;
  return false;
}

/* Checks a descriptor against the catalog and adds it with its providers.
 * A provider whose kind+name the catalog has already is left out and kept
 * as a problem naming both files; when that is every provider, the plugin
 * is refused. `pending` is the record of a file known through a manifest
 * that is being loaded now (its entries are filled in; clashes its record
 * listed were reported when the folder was scanned), NULL for a new one.
 * On failure nothing is added and the caller still owns `handle` and
 * `fd`. `st` is the file's stat and `code` its content hash, both NULL for
 * a static plugin. Messages are bare. */
static int add_plugin(sy_catalog *cat, plugin_rec *pending, void *handle,
                      int fd, const sy_plugin *pl, const char *file,
                      const struct stat *st, const uint8_t *code,
                      sy_error *err) {
  int rc = check_plugin(pl, err);
  if (rc != 0)
    return rc;

  size_t n = 0, fresh = 0, usable = 0;
  const sy_provider *bad = NULL;
  for (; pl->providers[n]; n++) {
    const sy_provider *p = pl->providers[n];
    const entry *e = find_entry(cat->entries, cat->nentries, p->kind, p->name);
    if (e && !(pending && e->rec == pending))
      continue;
    fresh++;
    if (actor_unusable(p))
      bad = bad ? bad : p;
    else
      usable++;
  }
  if (n > 0 && fresh == 0)
    return check_duplicates(cat, pl, err);
  if (n > 0 && usable == 0)
    return sy_error_set(err, SY_EPLUGIN, "actor '%s' %s", bad->name,
                        actor_unusable(bad));
  /* Reserve everything first so that nothing can fail half way. */
  if (reserve_rec(&cat->loaded, cat->nloaded, &cat->caploaded) != 0 ||
      (!pending &&
       reserve_rec(&cat->plugins, cat->nplugins, &cat->capplugins) != 0) ||
      reserve_entries(cat, usable) != 0)
    return sy_error_set(err, SY_ENOMEM, "out of memory adding plugin");
  plugin_rec *rec = pending;
  if (!rec) {
    rec = calloc(1, sizeof *rec);
    if (!rec || !(rec->file = strdup(file))) {
      free(rec);
      return sy_error_set(err, SY_ENOMEM, "out of memory adding plugin");
    }
  }
  if (st) { /* a pending file may have been replaced since the scan */
    rec->has_id = true;
    rec->dev = st->st_dev;
    rec->ino = st->st_ino;
  }
  rec->handle = handle;
  rec->fd = fd;
  rec->desc = pl;
  rec->state = REC_LOADED;
  if (code) {
    rec->has_code = true;
    memcpy(rec->code, code, 16);
  }
  /* The clashes are found before any entry is added: entries of this
   * plugin must not count as earlier providers. */
  size_t sorted = cat->nentries;
  for (size_t i = 0; i < n; i++) {
    const sy_provider *p = pl->providers[i];
    entry *e = find_entry(cat->entries, sorted, p->kind, p->name);
    const char *why = actor_unusable(p);
    if (why && (!e || e->rec == rec)) {
      /* Left out (a pending record never lists one: see record_add). */
      char reason[SY_ERROR_MAX];
      snprintf(reason, sizeof reason,
               "actor '%s' not loaded: it %s; the rest of this plugin is "
               "loaded",
               p->name, why);
      add_problem(cat, file, reason);
      continue;
    }
    if (e && e->rec == rec) {
      e->prov = p;
      e->version = p->version;
      e->description = p->description;
      continue;
    }
    if (e) {
      if (!pending || !record_lists(pending, p->kind, p->name))
        clash_problem(cat, file, p->kind, p->name, e->rec->file);
      continue;
    }
    entry *ne = &cat->entries[cat->nentries++];
    ne->kind = p->kind;
    ne->name = p->name;
    ne->version = p->version;
    ne->description = p->description;
    ne->prov = p;
    ne->rec = rec;
  }
  /* What the record listed and the plugin does not offer is gone. */
  size_t kept = 0;
  for (size_t i = 0; i < cat->nentries; i++)
    if (cat->entries[i].prov || cat->entries[i].rec != rec)
      cat->entries[kept++] = cat->entries[i];
  cat->nentries = kept;
  cat->loaded[cat->nloaded++] = rec;
  if (!pending)
    cat->plugins[cat->nplugins++] = rec;
  qsort(cat->entries, cat->nentries, sizeof *cat->entries, entry_cmp);
  return 0;
}

/* The catalog's record of the file with that identity, if any: a folder
 * listed twice in a search path must not turn into duplicate refusals. */
static plugin_rec *known_file(const sy_catalog *cat, const struct stat *st) {
  for (size_t i = 0; i < cat->nplugins; i++) {
    plugin_rec *rec = cat->plugins[i];
    if (rec->has_id && rec->dev == st->st_dev && rec->ino == st->st_ino)
      return rec;
  }
  return NULL;
}

/* Puts `path` where the dynamic linker's text says `name`, so that its
 * messages name the plugin file rather than its descriptor. */
static void name_in_message(const char *why, const char *name, const char *path,
                            char *out, size_t cap) {
  const char *at = strstr(why, name);
  if (!at) {
    snprintf(out, cap, "%s", why);
    return;
  }
  snprintf(out, cap, "%.*s%s%s", (int)(at - why), why, path, at + strlen(name));
}

/* ---- manifests ---------------------------------------------------------- */

static int64_t ns_of(struct timespec t) {
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Whether a record still describes the file as it is now. */
static bool record_fresh(const sy__man_file *r, const struct stat *st) {
  return S_ISREG(st->st_mode) && r->size == (uint64_t)st->st_size &&
         r->ino == (uint64_t)st->st_ino && r->mtime_ns == ns_of(st->st_mtim) &&
         r->ctime_ns == ns_of(st->st_ctim);
}

static const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

/* Adds the record of a valid plugin (named `name` in its folder) to m.
 * Returns 0, 1 (it cannot be stored) or -1 (out of memory). */
static int record_add(sy__manifest *m, const char *name, const sy_plugin *pl,
                      const struct stat *st, const uint8_t *code) {
  size_t n = 0;
  for (; pl->providers[n]; n++)
    if (actor_unusable(pl->providers[n]))
      return 1; /* loaded, and warned about, at every scan */
  sy__man_prov *provs = calloc(n ? n : 1, sizeof *provs);
  if (!provs)
    return -1;
  /* A view of the plugin's strings; sy__manifest_add_copy copies them. */
  for (size_t i = 0; i < n; i++) {
    provs[i].kind = pl->providers[i]->kind;
    provs[i].name = (char *)pl->providers[i]->name;
    provs[i].version = (char *)pl->providers[i]->version;
    provs[i].description = (char *)pl->providers[i]->description;
  }
  sy__man_file f = {(char *)name,
                    (uint64_t)st->st_size,
                    (uint64_t)st->st_ino,
                    ns_of(st->st_mtim),
                    ns_of(st->st_ctim),
                    code != NULL,
                    {0},
                    provs,
                    n};
  if (code)
    memcpy(f.code, code, sizeof f.code);
  int rc = sy__manifest_add_copy(m, &f);
  free(provs);
  return rc;
}

/* Whether a loaded plugin offers exactly what its record said. */
static bool record_matches(const plugin_rec *rec) {
  const sy__man_file *f = &rec->record.files[0];
  size_t n = 0;
  for (; rec->desc->providers[n]; n++) {
    const sy_provider *p = rec->desc->providers[n];
    size_t j = 0;
    while (j < f->nprovs && !(f->provs[j].kind == p->kind &&
                              strcmp(f->provs[j].name, p->name) == 0))
      j++;
    if (j == f->nprovs || strcmp(f->provs[j].version, p->version) != 0 ||
        strcmp(f->provs[j].description, p->description) != 0)
      return false;
  }
  return n == f->nprovs;
}

/* Writes a folder's manifest where it lives. Failing to is no error: the
 * next start reads the plugins again. */
static void dirman_write(dirman *dm) {
  if (!dm->path)
    return;
  if (dm->in_cache && sy__manifest_cache_prepare(dm->path) != 0)
    return;
  sy__manifest_write(dm->path, &dm->next);
}

/* After a file known through a manifest was loaded or refused: its record
 * is replaced by what the plugin really offers (when it differs), or
 * dropped (when it was refused: the next start loads it and reports why),
 * and the manifest is written again. */
static void dirman_update(plugin_rec *rec) {
  dirman *dm = rec->dm;
  if (!dm)
    return;
  if (rec->state == REC_LOADED && record_matches(rec))
    return;
  const char *name = base_name(rec->file);
  const sy__man_file *r = sy__manifest_find(&dm->next, name);
  if (r && rec->state == REC_LOADED) {
    /* The same file as the record saw, offering other things. */
    struct stat st;
    memset(&st, 0, sizeof st);
    st.st_mode = S_IFREG;
    st.st_size = (off_t)r->size;
    st.st_ino = (ino_t)r->ino;
    st.st_mtim.tv_sec = r->mtime_ns / 1000000000;
    st.st_mtim.tv_nsec = r->mtime_ns % 1000000000;
    st.st_ctim.tv_sec = r->ctime_ns / 1000000000;
    st.st_ctim.tv_nsec = r->ctime_ns % 1000000000;
    sy__manifest_remove(&dm->next, name);
    record_add(&dm->next, name, rec->desc, &st,
               rec->has_code ? rec->code : NULL);
  } else if (r) {
    sy__manifest_remove(&dm->next, name);
  }
  dirman_write(dm);
}

/* ---- loading ------------------------------------------------------------ */

static int load_rec(sy_catalog *cat, plugin_rec *rec, sy_error *err);

/* Opens, checks, hashes and loads one file and adds its providers.
 * `pending`: the manifest record being loaded now, or NULL. `collect`:
 * where the record of a valid plugin goes for a folder's new manifest
 * (NULL: nowhere). Errors as sy_catalog_load_file. */
static int load_path(sy_catalog *cat, const char *path, plugin_rec *pending,
                     sy__manifest *collect, sy_error *err) {
  sy_error local;
  sy_error_clear(&local);
  char *real = NULL;
  void *handle = NULL;
  int fd = -1;
  int rc;
  struct stat st;
  uint8_t code[16];
  char name[64];

  /* Everything below looks at this descriptor, never at the path again.
   * O_NONBLOCK: opening a FIFO must not wait for a writer. */
  fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    rc = sy_error_set(&local, errno == ENOENT ? SY_ENOENT : SY_EIO,
                      "cannot open: %s", strerror(errno));
    goto fail;
  }
  if (fstat(fd, &st) != 0) {
    rc = sy_error_set(&local, SY_EIO, "cannot stat: %s", strerror(errno));
    goto fail;
  }
  if (!S_ISREG(st.st_mode)) {
    rc = sy_error_set(&local, SY_EPERM, "not a regular file");
    goto fail;
  }
  real = resolved_path(fd, path);
  if (!real) {
    rc = sy_error_set(&local, SY_EIO, "cannot resolve its path: %s",
                      strerror(errno));
    goto fail;
  }
  /* The file as opened, named by its resolved path when a link led there. */
  uid_t me = getuid();
  rc = check_trusted(me, "file", strcmp(real, path) ? real : NULL, path, &st,
                     &local);
  if (rc == 0)
    rc = check_folders(real, me, &local);
  if (rc == 0 && strcmp(real, path) != 0)
    rc = check_link_folders(path, me, &local);
  if (rc != 0)
    goto fail;
  plugin_rec *known = known_file(cat, &st);
  if (known && known != pending) {
    /* The same file by another name: skipped, but a folder's manifest
     * still lists it under this one. */
    if (collect && known->state == REC_LOADED)
      record_add(collect, base_name(path), known->desc, &st,
                 known->has_code ? known->code : NULL);
    if (known->state == REC_PENDING) {
      /* Asked for by name: loaded now, as an eager catalog has it. */
      close(fd);
      free(real);
      return load_rec(cat, known, err);
    }
    goto done;
  }
  /* A file its manifest record still describes (size, inode, mtime and
   * ctime of the opened descriptor) has the recorded content hash; any
   * other is read whole and hashed. */
  const sy__man_file *was =
      pending && pending->record.nfiles ? &pending->record.files[0] : NULL;
  if (was && was->has_code && record_fresh(was, &st))
    memcpy(code, was->code, sizeof code);
  else if ((rc = hash_fd(fd, code, &local)) != 0)
    goto fail;

  fd_name(fd, name, sizeof name);
  dlerror();
  handle = dlopen(name, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *why = dlerror();
    char said[SY_ERROR_MAX];
    name_in_message(why ? why : "unknown dlopen error", name, path, said,
                    sizeof said);
    rc = sy_error_set(&local, SY_EPLUGIN, "cannot load: %s", said);
    goto fail;
  }
  dlerror();
  void *sym = dlsym(handle, SY_PLUGIN_ENTRY_SYMBOL);
  if (!sym || dlerror() != NULL) {
    rc = sy_error_set(&local, SY_EPLUGIN,
                      "no entry symbol %s; is it a switchyard plugin?",
                      SY_PLUGIN_ENTRY_SYMBOL);
    goto fail;
  }
  /* POSIX guarantees that dlsym's object pointer converts to a function
   * pointer; the memcpy keeps ISO C's pedantic mode quiet about it. */
  sy_plugin_entry_fn entry_fn;
  memcpy(&entry_fn, &sym, sizeof entry_fn);
  const sy_plugin *pl = entry_fn();
  /* A valid plugin is recorded even when all its providers clash: what
   * it offers does not depend on the order it was found in. */
  sy_error ignored;
  if (collect && check_plugin(pl, &ignored) == 0)
    record_add(collect, base_name(path), pl, &st, code);
  rc = add_plugin(cat, pending, handle, fd, pl, path, &st, code, &local);
  if (rc != 0)
    goto fail;
  handle = NULL; /* the catalog owns it and fd now */
  fd = -1;

done:
  if (fd >= 0)
    close(fd); /* never dlopen()ed through it */
  free(real);
  sy_error_clear(err);
  return 0;

fail:
  if (handle) {
    unload(handle, fd);
  } else if (fd >= 0) {
    close(fd);
  }
  free(real);
  return refuse(cat, path, &local, err);
}

/* Loads a file that a manifest made known, at its first use. A refused
 * one leaves the catalog with its providers, as it would have at a start
 * without a manifest. Returns 0 or the refusal's code. */
static int load_rec(sy_catalog *cat, plugin_rec *rec, sy_error *err) {
  if (rec->state != REC_PENDING)
    return rec->state == REC_LOADED ? 0 : SY_ENOENT;
  int rc = load_path(cat, rec->file, rec, NULL, err);
  if (rc != 0) {
    rec->state = REC_GONE;
    size_t kept = 0;
    for (size_t i = 0; i < cat->nentries; i++)
      if (cat->entries[i].rec != rec)
        cat->entries[kept++] = cat->entries[i];
    cat->nentries = kept;
  }
  dirman_update(rec);
  return rc;
}

/* Every file still waiting, in the order they were found. */
static void load_all(sy_catalog *cat) {
  for (size_t i = 0; i < cat->nplugins; i++)
    if (cat->plugins[i]->state == REC_PENDING)
      load_rec(cat, cat->plugins[i], NULL);
}

/* Makes a file known through its (fresh) manifest record without loading
 * it: its providers join the catalog, to be loaded at first lookup. The
 * clashes are found and reported as loading it would. 0 or SY_ENOMEM. */
static int add_pending(sy_catalog *cat, dirman *dm, const char *path,
                       const struct stat *st, const sy__man_file *r) {
  plugin_rec *rec = calloc(1, sizeof *rec);
  if (!rec || !(rec->file = strdup(path)) ||
      sy__manifest_add_copy(&rec->record, r) != 0 ||
      reserve_rec(&cat->plugins, cat->nplugins, &cat->capplugins) != 0 ||
      reserve_entries(cat, r->nprovs) != 0) {
    if (rec) {
      free(rec->file);
      sy__manifest_free(&rec->record);
    }
    free(rec);
    return SY_ENOMEM;
  }
  rec->fd = -1;
  rec->state = REC_PENDING;
  rec->dm = dm;
  rec->has_id = true;
  rec->dev = st->st_dev;
  rec->ino = st->st_ino;
  cat->plugins[cat->nplugins++] = rec;
  const sy__man_file *f = &rec->record.files[0];
  size_t fresh = 0;
  for (size_t i = 0; i < f->nprovs; i++)
    if (!find_entry(cat->entries, cat->nentries, f->provs[i].kind,
                    f->provs[i].name))
      fresh++;
  if (fresh == 0) {
    /* Refused whole, as loading it would: nothing of it could be used. */
    const entry *old = find_entry(cat->entries, cat->nentries, f->provs[0].kind,
                                  f->provs[0].name);
    char reason[SY_ERROR_MAX];
    snprintf(reason, sizeof reason,
             "not loaded: provides %s '%s' already provided by %s",
             sy_kind_name(f->provs[0].kind), f->provs[0].name, old->rec->file);
    add_problem(cat, path, reason);
    rec->state = REC_GONE;
    return 0;
  }
  size_t sorted = cat->nentries;
  for (size_t i = 0; i < f->nprovs; i++) {
    const sy__man_prov *p = &f->provs[i];
    const entry *old = find_entry(cat->entries, sorted, p->kind, p->name);
    if (old) {
      clash_problem(cat, path, p->kind, p->name, old->rec->file);
      continue;
    }
    entry *e = &cat->entries[cat->nentries++];
    e->kind = p->kind;
    e->name = p->name;
    e->version = p->version;
    e->description = p->description;
    e->prov = NULL;
    e->rec = rec;
  }
  qsort(cat->entries, cat->nentries, sizeof *cat->entries, entry_cmp);
  return 0;
}

/* Loads only visible "*.so" files: editors and package managers leave
 * hidden temporaries (".x.so.swp", ".x.so.dpkg-new") that are no plugins. */
static int so_filter(const struct dirent *d) {
  size_t n = strlen(d->d_name);
  return d->d_name[0] != '.' && n > 3 && strcmp(d->d_name + n - 3, ".so") == 0;
}

/* The lazy half of a folder scan: files whose manifest record is fresh
 * become known without being loaded; the others are loaded now, and the
 * manifest is written again when anything changed. */
static int scan_lazy(sy_catalog *cat, const char *dir, struct dirent **names,
                     int n, sy_error *err) {
  dirman *dm = calloc(1, sizeof *dm);
  dirman **grown =
      sy__grow_array(cat->dirs, &cat->capdirs, cat->ndirs + 1, sizeof *grown);
  size_t len = strlen(dir) + sizeof "/" SY__MANIFEST_NAME;
  char *inside = malloc(len);
  if (!dm || !grown || !inside) {
    free(dm);
    free(inside);
    if (grown)
      cat->dirs = grown;
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  }
  cat->dirs = grown;
  cat->dirs[cat->ndirs++] = dm;
  snprintf(inside, len, "%s/%s", dir, SY__MANIFEST_NAME);

  /* The folder's own manifest (written by whoever can write the folder,
   * an installer say), else the user's cached one. */
  sy__manifest old;
  char *cached = NULL;
  bool have = sy__manifest_read(inside, &old) == 0;
  if (!have) {
    sy__manifest_free(&old);
    cached = sy__manifest_cache_path(dir);
    have = cached && sy__manifest_read(cached, &old) == 0;
    if (!have)
      sy__manifest_free(&old);
  }
  if (access(dir, W_OK) == 0) {
    dm->path = inside;
    inside = NULL;
  } else {
    if (!cached)
      cached = sy__manifest_cache_path(dir);
    dm->path = cached;
    dm->in_cache = true;
    cached = NULL;
  }
  free(inside);
  free(cached);

  /* The records read become the folder's manifest as they are (no
   * copy); a stale one is replaced by what loading its file finds. */
  bool dirty = !have;
  if (have)
    dm->next = old;
  int rc = 0;
  for (int i = 0; i < n && rc == 0; i++) {
    const char *base = names[i]->d_name;
    size_t plen = strlen(dir) + 1 + strlen(base) + 1;
    char *path = malloc(plen);
    if (!path) {
      rc = sy_error_set(err, SY_ENOMEM, "out of memory");
      break;
    }
    snprintf(path, plen, "%s/%s", dir, base);
    const sy__man_file *r = sy__manifest_find(&dm->next, base);
    struct stat st;
    if (r && stat(path, &st) == 0 && record_fresh(r, &st)) {
      if (!known_file(cat, &st) && add_pending(cat, dm, path, &st, r) != 0)
        rc = sy_error_set(err, SY_ENOMEM, "out of memory");
    } else {
      if (r) {
        sy__manifest_remove(&dm->next, base);
        dirty = true;
      }
      size_t before = dm->next.nfiles;
      /* A refused file is a problem in the catalog, not a failed scan. */
      load_path(cat, path, NULL, &dm->next, NULL);
      if (dm->next.nfiles != before)
        dirty = true;
    }
    free(path);
  }
  /* A record of a file that is gone. */
  for (size_t i = 0; i < dm->next.nfiles;) {
    bool listed = false;
    for (int j = 0; j < n && !listed; j++)
      listed = strcmp(dm->next.files[i].name, names[j]->d_name) == 0;
    if (listed) {
      i++;
      continue;
    }
    sy__manifest_remove(&dm->next, dm->next.files[i].name);
    dirty = true;
  }
  if (rc == 0 && dirty)
    dirman_write(dm);
  return rc;
}

int sy_catalog_load_file(sy_catalog *cat, const char *path, sy_error *err) {
  if (!cat || !path || !*path)
    return sy_error_set(err, SY_EINVAL, "no catalog or no file to load");
  pthread_mutex_lock(&cat->lock);
  int rc = load_path(cat, path, NULL, NULL, err);
  pthread_mutex_unlock(&cat->lock);
  return rc;
}

int sy_catalog_set_lazy(sy_catalog *cat, int lazy) {
  if (!cat)
    return SY_EINVAL;
  pthread_mutex_lock(&cat->lock);
  cat->lazy = lazy != 0;
  pthread_mutex_unlock(&cat->lock);
  return 0;
}

static int scan_dir_locked(sy_catalog *cat, const char *dir, int optional,
                           sy_error *err) {
  sy_error local;
  sy_error_clear(&local);
  struct dirent **names = NULL;
  int n = -1;
  int rc;
  struct stat st;

  if (stat(dir, &st) != 0) {
    if (errno == ENOENT && optional)
      goto done;
    rc = sy_error_set(&local, errno == ENOENT ? SY_ENOENT : SY_EIO,
                      "cannot read folder: %s", strerror(errno));
    goto fail;
  }
  if (!S_ISDIR(st.st_mode)) {
    rc = sy_error_set(&local, SY_EINVAL, "not a folder");
    goto fail;
  }
  rc = check_trusted(getuid(), "folder", NULL, dir, &st, &local);
  if (rc != 0)
    goto fail;
  n = scandir(dir, &names, so_filter, alphasort);
  if (n < 0) {
    rc =
        sy_error_set(&local, SY_EIO, "cannot read folder: %s", strerror(errno));
    goto fail;
  }
  if (cat->lazy) {
    rc = scan_lazy(cat, dir, names, n, &local);
    if (rc != 0)
      goto fail;
    goto done;
  }
  for (int i = 0; i < n; i++) {
    size_t len = strlen(dir) + 1 + strlen(names[i]->d_name) + 1;
    char *path = malloc(len);
    if (!path) {
      rc = sy_error_set(&local, SY_ENOMEM, "out of memory");
      goto fail;
    }
    snprintf(path, len, "%s/%s", dir, names[i]->d_name);
    /* A refused file is a problem in the catalog, not a failed scan. */
    load_path(cat, path, NULL, NULL, NULL);
    free(path);
  }

done:
  for (int i = 0; i < n; i++)
    free(names[i]);
  free(names);
  sy_error_clear(err);
  return 0;

fail:
  for (int i = 0; i < n; i++)
    free(names[i]);
  free(names);
  return refuse(cat, dir, &local, err);
}

int sy_catalog_scan_dir(sy_catalog *cat, const char *dir, int optional,
                        sy_error *err) {
  if (!cat || !dir || !*dir)
    return sy_error_set(err, SY_EINVAL, "no catalog or no folder to scan");
  pthread_mutex_lock(&cat->lock);
  int rc = scan_dir_locked(cat, dir, optional, err);
  pthread_mutex_unlock(&cat->lock);
  return rc;
}

int sy_catalog_scan_path(sy_catalog *cat, const char *path_list,
                         sy_error *err) {
  if (!cat)
    return sy_error_set(err, SY_EINVAL, "no catalog");
  sy_error_clear(err);
  if (!path_list)
    return 0;
  char *copy = strdup(path_list);
  if (!copy)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  /* An untrusted or unreadable folder does not hide the others: every
   * folder is scanned, and the first failure is reported. */
  int first = 0;
  sy_error local;
  char *item = copy;
  while (item) {
    char *colon = strchr(item, ':');
    if (colon)
      *colon = '\0';
    if (*item) {
      int rc = sy_catalog_scan_dir(cat, item, 1, &local);
      if (rc != 0 && first == 0) {
        first = rc;
        if (err)
          *err = local;
      }
    }
    item = colon ? colon + 1 : NULL;
  }
  free(copy);
  return first;
}

int sy_catalog_add_static(sy_catalog *cat, const sy_plugin *plugin,
                          const char *origin, sy_error *err) {
  if (!cat || !origin)
    return sy_error_set(err, SY_EINVAL, "no catalog or no origin");
  sy_error local;
  sy_error_clear(&local);
  pthread_mutex_lock(&cat->lock);
  int rc = add_plugin(cat, NULL, NULL, -1, plugin, origin, NULL, NULL, &local);
  if (rc != 0)
    rc = refuse(cat, origin, &local, err);
  else
    sy_error_clear(err);
  pthread_mutex_unlock(&cat->lock);
  return rc;
}

/* ---- lookups -------------------------------------------------------------
 * The catalog is const to its readers: what it holds (every provider
 * found) does not change when a lookup loads the file one lives in. The
 * lock makes that load, and every read, one at a time. */

static sy_catalog *unconst(const sy_catalog *cat) {
  return (sy_catalog *)cat;
}

const sy_provider *sy_catalog_find(const sy_catalog *cat, sy_kind kind,
                                   const char *name) {
  if (!cat || !name)
    return NULL;
  sy_catalog *c = unconst(cat);
  pthread_mutex_lock(&c->lock);
  entry *e = find_entry(c->entries, c->nentries, kind, name);
  if (e && !e->prov) {
    load_rec(c, e->rec, NULL);
    e = find_entry(c->entries, c->nentries, kind, name);
  }
  const sy_provider *p = e ? e->prov : NULL;
  pthread_mutex_unlock(&c->lock);
  return p;
}

void sy__catalog_add_problem(sy_catalog *cat, const char *file,
                             const char *reason) {
  if (!cat || !file || !reason)
    return;
  pthread_mutex_lock(&cat->lock);
  add_problem(cat, file, reason);
  pthread_mutex_unlock(&cat->lock);
}

int sy__catalog_code_hash(const sy_catalog *cat, const sy_provider *prov,
                          uint8_t out[16]) {
  memset(out, 0, 16);
  if (!cat || !prov || !prov->name)
    return 0;
  sy_catalog *c = unconst(cat);
  pthread_mutex_lock(&c->lock);
  const entry *e = find_entry(c->entries, c->nentries, prov->kind, prov->name);
  int found = e && e->prov == prov && e->rec->has_code;
  if (found)
    memcpy(out, e->rec->code, 16);
  pthread_mutex_unlock(&c->lock);
  return found;
}

size_t sy_catalog_count(const sy_catalog *cat) {
  if (!cat)
    return 0;
  sy_catalog *c = unconst(cat);
  pthread_mutex_lock(&c->lock);
  load_all(c);
  size_t n = c->nentries;
  pthread_mutex_unlock(&c->lock);
  return n;
}

const sy_provider *sy_catalog_at(const sy_catalog *cat, size_t i,
                                 const char **file, const sy_plugin **plugin) {
  if (!cat)
    return NULL;
  sy_catalog *c = unconst(cat);
  pthread_mutex_lock(&c->lock);
  load_all(c);
  const sy_provider *p = NULL;
  if (i < c->nentries) {
    const entry *e = &c->entries[i];
    if (file)
      *file = e->rec->file;
    if (plugin)
      *plugin = e->rec->desc;
    p = e->prov;
  }
  pthread_mutex_unlock(&c->lock);
  return p;
}

size_t sy_catalog_known_count(const sy_catalog *cat) {
  if (!cat)
    return 0;
  sy_catalog *c = unconst(cat);
  pthread_mutex_lock(&c->lock);
  size_t n = c->nentries;
  pthread_mutex_unlock(&c->lock);
  return n;
}

const char *sy_catalog_known_at(const sy_catalog *cat, size_t i, sy_kind *kind,
                                const char **version, const char **description,
                                const char **file) {
  if (!cat)
    return NULL;
  sy_catalog *c = unconst(cat);
  pthread_mutex_lock(&c->lock);
  const char *name = NULL;
  if (i < c->nentries) {
    const entry *e = &c->entries[i];
    name = e->name;
    if (kind)
      *kind = e->kind;
    if (version)
      *version = e->version;
    if (description)
      *description = e->description;
    if (file)
      *file = e->rec->file;
  }
  pthread_mutex_unlock(&c->lock);
  return name;
}

int sy_catalog_origin(const sy_catalog *cat, const sy_provider *prov,
                      const char **file, const sy_plugin **plugin) {
  if (!cat || !prov)
    return SY_EINVAL;
  sy_catalog *c = unconst(cat);
  pthread_mutex_lock(&c->lock);
  int rc = SY_ENOENT;
  for (size_t i = 0; i < c->nentries; i++) {
    const entry *e = &c->entries[i];
    if (e->prov != prov)
      continue;
    if (file)
      *file = e->rec->file;
    if (plugin)
      *plugin = e->rec->desc;
    rc = 0;
    break;
  }
  pthread_mutex_unlock(&c->lock);
  return rc;
}

size_t sy_catalog_problem_count(const sy_catalog *cat) {
  if (!cat)
    return 0;
  sy_catalog *c = unconst(cat);
  pthread_mutex_lock(&c->lock);
  size_t n = c->nproblems;
  pthread_mutex_unlock(&c->lock);
  return n;
}

int sy_catalog_problem_at(const sy_catalog *cat, size_t i, const char **file,
                          const char **reason) {
  if (!cat)
    return SY_ERANGE;
  sy_catalog *c = unconst(cat);
  pthread_mutex_lock(&c->lock);
  int rc = SY_ERANGE;
  if (i < c->nproblems) {
    if (file)
      *file = c->problems[i].file;
    if (reason)
      *reason = c->problems[i].reason;
    rc = 0;
  }
  pthread_mutex_unlock(&c->lock);
  return rc;
}
