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
#include "switchyard/actor.h"
#include "switchyard/io.h"
#include "switchyard/runner.h"
#include "switchyard/storage.h"
#include "switchyard/registry.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

/* One loaded plugin. `handle` is NULL for a static plugin; `file` is the
 * path it was loaded from, or the origin of a static one. `fd` is the
 * descriptor it was dlopen()ed through (-1 for a static plugin), kept open
 * until it is dlclose()d. */
typedef struct plugin_rec {
  void *handle;
  int fd;
  char *file;
  const sy_plugin *desc;
  bool has_id; /* dev/ino are known: the same file is not loaded twice */
  dev_t dev;
  ino_t ino;
  bool has_code; /* code holds the file's content hash */
  uint8_t code[16];
} plugin_rec;

typedef struct entry {
  const sy_provider *prov;
  const plugin_rec *rec;
} entry;

typedef struct problem {
  char *file;
  char *reason;
} problem;

struct sy_catalog {
  plugin_rec **plugins; /* pointers, so that entries can point at them */
  size_t nplugins, capplugins;
  entry *entries;
  size_t nentries, capentries;
  problem *problems;
  size_t nproblems, capproblems;
};

/* ---- small helpers ---------------------------------------------------- */

static char *dup_str(const char *s) {
  size_t n = strlen(s) + 1;
  char *p = malloc(n);
  if (p)
    memcpy(p, s, n);
  return p;
}

/* Returns `items` grown to hold at least `need` elements of `size` bytes
 * (updating *cap), or NULL when out of memory; items is then untouched. */
static void *grow_array(void *items, size_t *cap, size_t need, size_t size) {
  if (need <= *cap)
    return items;
  size_t ncap = *cap ? *cap : 8;
  while (ncap < need)
    ncap *= 2;
  if (ncap > SIZE_MAX / size)
    return NULL;
  void *p = realloc(items, ncap * size);
  if (p)
    *cap = ncap;
  return p;
}

/* Keeps a refusal. Failing to keep it (out of memory) is not worth failing
 * the refusal itself for: the caller still gets the error. */
static void add_problem(sy_catalog *cat, const char *file, const char *reason) {
  problem *grown = grow_array(cat->problems, &cat->capproblems,
                              cat->nproblems + 1, sizeof *cat->problems);
  if (!grown)
    return;
  cat->problems = grown;
  char *f = dup_str(file);
  char *r = dup_str(reason);
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
 * check_not_writable. */
static int check_trusted(const char *what, const char *shown, const char *path,
                         const struct stat *st, sy_error *err) {
  uid_t me = getuid();
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
    return dup_str(buf);
  }
  return realpath(path, NULL);
}

/* Checks every folder above the absolute path `real`, from its own folder
 * up to /. */
static int check_folders(const char *real, sy_error *err) {
  char *dir = dup_str(real);
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
    rc = check_trusted("folder", dir, dir, &st, err);
    if (rc != 0 || strcmp(dir, "/") == 0)
      break;
  }
  free(dir);
  return rc;
}

/* The folders that lead to `path` itself, when it is not the resolved path
 * (a symlink, or a path through one): whoever could write one of them
 * could point the path at another file, so they are checked as well. */
static int check_link_folders(const char *path, sy_error *err) {
  const char *slash = strrchr(path, '/');
  char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path))
                    : dup_str(".");
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
      rc = check_folders(probe, err);
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

/* Closes the descriptor of a plugin that was dlclose()d, unless the object
 * is still mapped (a library marked NODELETE, or one some other handle
 * holds): then its number must stay taken, or the next plugin opened under
 * the same number would be given the old object by the dynamic linker,
 * which matches names first. Leaking one descriptor is the lesser harm. */
static void release_fd(int fd) {
  if (fd < 0)
    return;
  char name[64];
  fd_name(fd, name, sizeof name);
  void *still = dlopen(name, RTLD_LAZY | RTLD_NOLOAD);
  if (still) {
    dlclose(still);
    return;
  }
  close(fd);
}

/* ---- descriptor checks ------------------------------------------------ */

size_t sy__ops_min_size(sy_kind kind) {
  /* Each kind's ABI 1.0 ops struct, whole: members added in a later minor
   * go after these, and the core checks `size` before it calls them. */
  switch (kind) {
  case SY_KIND_RUNNER:
    return sizeof(sy_runner_ops);
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

/* The size of what an option of that type writes into the config struct,
 * or 0 for an unknown type. */
static size_t opt_value_size(sy_opt_type type) {
  switch (type) {
  case SY_OPT_STRING:
  case SY_OPT_PATH:
    return sizeof(const char *);
  case SY_OPT_BOOL:
    return sizeof(bool);
  case SY_OPT_INT:
  case SY_OPT_DURATION:
    return sizeof(int64_t);
  case SY_OPT_DOUBLE:
    return sizeof(double);
  case SY_OPT_SIZE:
    return sizeof(uint64_t);
  case SY_OPT_ENUM:
    return sizeof(int);
  case SY_OPT_LIST:
    return sizeof(const char *const *);
  }
  return 0;
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
    size_t vsize = opt_value_size(o->type);
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
  return *out ? 0 : SY_ENOMEM;
}

void sy_catalog_free(sy_catalog *cat) {
  if (!cat)
    return;
  /* Unload in reverse order of loading, as a linker would. */
  for (size_t i = cat->nplugins; i-- > 0;) {
    plugin_rec *rec = cat->plugins[i];
    if (rec->handle)
      dlclose(rec->handle);
    release_fd(rec->fd);
    free(rec->file);
    free(rec);
  }
  for (size_t i = 0; i < cat->nproblems; i++) {
    free(cat->problems[i].file);
    free(cat->problems[i].reason);
  }
  free(cat->plugins);
  free(cat->entries);
  free(cat->problems);
  free(cat);
}

static int entry_cmp(const void *a, const void *b) {
  const entry *x = a, *y = b;
  if (x->prov->kind != y->prov->kind)
    return x->prov->kind < y->prov->kind ? -1 : 1;
  return strcmp(x->prov->name, y->prov->name);
}

/* The entry of kind+name among the first `count` (sorted) entries. */
static const entry *find_entry(const entry *entries, size_t count,
                               sy_kind kind, const char *name) {
  if (count == 0)
    return NULL;
  sy_provider key_prov;
  memset(&key_prov, 0, sizeof key_prov);
  key_prov.kind = kind;
  key_prov.name = name;
  entry key = {&key_prov, NULL};
  return bsearch(&key, entries, count, sizeof *entries, entry_cmp);
}

/* The file the catalog's provider `prov` came from. */
static const char *provider_file(const sy_catalog *cat,
                                 const sy_provider *prov) {
  for (size_t j = 0; j < cat->nentries; j++)
    if (cat->entries[j].prov == prov)
      return cat->entries[j].rec->file;
  return "(unknown)";
}

/* Refuses a plugin whose first provider's kind+name the catalog already
 * has, naming both files (used when every provider clashes). */
static int check_duplicates(const sy_catalog *cat, const sy_plugin *pl,
                            sy_error *err) {
  for (size_t i = 0; pl->providers[i]; i++) {
    const sy_provider *p = pl->providers[i];
    const sy_provider *old = sy_catalog_find(cat, p->kind, p->name);
    if (!old)
      continue;
    return sy_error_set(err, SY_EEXIST,
                        "provides %s '%s' already provided by %s",
                        sy_kind_name(p->kind), p->name,
                        provider_file(cat, old));
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

/* Checks a descriptor against the catalog and adds it with its providers.
 * A provider whose kind+name the catalog has already is left out and kept
 * as a problem naming both files; when that is every provider, the plugin
 * is refused. On failure nothing is added and the caller still owns
 * `handle` and `fd`. `st` is the file's stat and `code` its content hash,
 * both NULL for a static plugin. Messages are bare. */
static int add_plugin(sy_catalog *cat, void *handle, int fd,
                      const sy_plugin *pl, const char *file,
                      const struct stat *st, const uint8_t *code,
                      sy_error *err) {
  int rc = check_plugin(pl, err);
  if (rc != 0)
    goto fail;

  size_t n = 0, fresh = 0, usable = 0;
  const sy_provider *bad = NULL;
  for (; pl->providers[n]; n++) {
    const sy_provider *p = pl->providers[n];
    if (sy_catalog_find(cat, p->kind, p->name))
      continue;
    fresh++;
    if (actor_unusable(p))
      bad = bad ? bad : p;
    else
      usable++;
  }
  if (n > 0 && fresh == 0) {
    rc = check_duplicates(cat, pl, err);
    goto fail;
  }
  if (n > 0 && usable == 0) {
    rc = sy_error_set(err, SY_EPLUGIN, "actor '%s' %s", bad->name,
                      actor_unusable(bad));
    goto fail;
  }
  /* Reserve everything first so that nothing can fail half way. */
  plugin_rec **plugins = grow_array(cat->plugins, &cat->capplugins,
                                    cat->nplugins + 1, sizeof *plugins);
  if (!plugins)
    goto fail_oom;
  cat->plugins = plugins;
  if (usable > 0) {
    entry *entries = grow_array(cat->entries, &cat->capentries,
                                cat->nentries + usable, sizeof *entries);
    if (!entries)
      goto fail_oom;
    cat->entries = entries;
  }
  plugin_rec *rec = calloc(1, sizeof *rec);
  if (!rec)
    goto fail_oom;
  rec->file = dup_str(file);
  if (!rec->file) {
    free(rec);
    goto fail_oom;
  }
  rec->handle = handle;
  rec->fd = fd;
  rec->desc = pl;
  if (st) {
    rec->has_id = true;
    rec->dev = st->st_dev;
    rec->ino = st->st_ino;
  }
  if (code) {
    rec->has_code = true;
    memcpy(rec->code, code, 16);
  }
  /* The clashes are found before any entry is added: entries of this
   * plugin must not count as earlier providers. */
  size_t sorted = cat->nentries;
  for (size_t i = 0; i < n; i++) {
    const sy_provider *p = pl->providers[i];
    const entry *e = find_entry(cat->entries, sorted, p->kind, p->name);
    const sy_provider *old = e ? e->prov : NULL;
    if (old) {
      char reason[SY_ERROR_MAX];
      snprintf(reason, sizeof reason,
               "%s '%s' not loaded: already provided by %s, which was "
               "loaded first; the rest of this plugin is loaded",
               sy_kind_name(p->kind), p->name, provider_file(cat, old));
      add_problem(cat, file, reason);
      continue;
    }
    const char *why = actor_unusable(p);
    if (why) {
      char reason[SY_ERROR_MAX];
      snprintf(reason, sizeof reason,
               "actor '%s' not loaded: it %s; the rest of this plugin is "
               "loaded",
               p->name, why);
      add_problem(cat, file, reason);
      continue;
    }
    cat->entries[cat->nentries].prov = p;
    cat->entries[cat->nentries].rec = rec;
    cat->nentries++;
  }
  cat->plugins[cat->nplugins++] = rec;
  qsort(cat->entries, cat->nentries, sizeof *cat->entries, entry_cmp);
  return 0;

fail_oom:
  rc = sy_error_set(err, SY_ENOMEM, "out of memory adding plugin");
fail:
  return rc;
}

/* Whether the file with that identity is already in the catalog: a folder
 * listed twice in a search path must not turn into duplicate refusals. */
static bool already_loaded(const sy_catalog *cat, const struct stat *st) {
  for (size_t i = 0; i < cat->nplugins; i++) {
    const plugin_rec *rec = cat->plugins[i];
    if (rec->has_id && rec->dev == st->st_dev && rec->ino == st->st_ino)
      return true;
  }
  return false;
}

/* Puts `path` where the dynamic linker's text says `name`, so that its
 * messages name the plugin file rather than its descriptor. */
static void name_in_message(const char *why, const char *name,
                            const char *path, char *out, size_t cap) {
  const char *at = strstr(why, name);
  if (!at) {
    snprintf(out, cap, "%s", why);
    return;
  }
  snprintf(out, cap, "%.*s%s%s", (int)(at - why), why, path,
           at + strlen(name));
}

int sy_catalog_load_file(sy_catalog *cat, const char *path, sy_error *err) {
  if (!cat || !path || !*path)
    return sy_error_set(err, SY_EINVAL, "no catalog or no file to load");
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
  rc = check_trusted("file", strcmp(real, path) ? real : NULL, path, &st,
                     &local);
  if (rc == 0)
    rc = check_folders(real, &local);
  if (rc == 0 && strcmp(real, path) != 0)
    rc = check_link_folders(path, &local);
  if (rc != 0)
    goto fail;
  if (already_loaded(cat, &st))
    goto done;
  rc = hash_fd(fd, code, &local);
  if (rc != 0)
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
  rc = add_plugin(cat, handle, fd, entry_fn(), path, &st, code, &local);
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
    dlclose(handle);
    release_fd(fd);
  } else if (fd >= 0) {
    close(fd);
  }
  free(real);
  return refuse(cat, path, &local, err);
}

/* Loads only visible "*.so" files: editors and package managers leave
 * hidden temporaries (".x.so.swp", ".x.so.dpkg-new") that are no plugins. */
static int so_filter(const struct dirent *d) {
  size_t n = strlen(d->d_name);
  return d->d_name[0] != '.' && n > 3 && strcmp(d->d_name + n - 3, ".so") == 0;
}

int sy_catalog_scan_dir(sy_catalog *cat, const char *dir, int optional,
                        sy_error *err) {
  if (!cat || !dir || !*dir)
    return sy_error_set(err, SY_EINVAL, "no catalog or no folder to scan");
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
  rc = check_trusted("folder", NULL, dir, &st, &local);
  if (rc != 0)
    goto fail;
  n = scandir(dir, &names, so_filter, alphasort);
  if (n < 0) {
    rc =
        sy_error_set(&local, SY_EIO, "cannot read folder: %s", strerror(errno));
    goto fail;
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
    sy_catalog_load_file(cat, path, NULL);
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

int sy_catalog_scan_path(sy_catalog *cat, const char *path_list,
                         sy_error *err) {
  if (!cat)
    return sy_error_set(err, SY_EINVAL, "no catalog");
  sy_error_clear(err);
  if (!path_list)
    return 0;
  char *copy = dup_str(path_list);
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
  if (add_plugin(cat, NULL, -1, plugin, origin, NULL, NULL, &local) != 0)
    return refuse(cat, origin, &local, err);
  sy_error_clear(err);
  return 0;
}

const sy_provider *sy_catalog_find(const sy_catalog *cat, sy_kind kind,
                                   const char *name) {
  if (!cat || !name)
    return NULL;
  const entry *e = find_entry(cat->entries, cat->nentries, kind, name);
  return e ? e->prov : NULL;
}

void sy__catalog_add_problem(sy_catalog *cat, const char *file,
                             const char *reason) {
  if (cat && file && reason)
    add_problem(cat, file, reason);
}

int sy__catalog_code_hash(const sy_catalog *cat, const sy_provider *prov,
                          uint8_t out[16]) {
  memset(out, 0, 16);
  if (!cat || !prov || !prov->name)
    return 0;
  const entry *e = find_entry(cat->entries, cat->nentries, prov->kind,
                              prov->name);
  if (!e || e->prov != prov || !e->rec->has_code)
    return 0;
  memcpy(out, e->rec->code, 16);
  return 1;
}

size_t sy_catalog_count(const sy_catalog *cat) {
  return cat ? cat->nentries : 0;
}

const sy_provider *sy_catalog_at(const sy_catalog *cat, size_t i,
                                 const char **file, const sy_plugin **plugin) {
  if (!cat || i >= cat->nentries)
    return NULL;
  const entry *e = &cat->entries[i];
  if (file)
    *file = e->rec->file;
  if (plugin)
    *plugin = e->rec->desc;
  return e->prov;
}

size_t sy_catalog_problem_count(const sy_catalog *cat) {
  return cat ? cat->nproblems : 0;
}

int sy_catalog_problem_at(const sy_catalog *cat, size_t i, const char **file,
                          const char **reason) {
  if (!cat || i >= cat->nproblems)
    return SY_ERANGE;
  if (file)
    *file = cat->problems[i].file;
  if (reason)
    *reason = cat->problems[i].reason;
  return 0;
}
