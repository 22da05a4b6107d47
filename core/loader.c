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
 *   1. trust: it is a regular file (stat() follows symlinks, so a link to
 *      a regular file is fine) and neither it nor its folder is group- or
 *      world-writable; anybody who can write there could run code in us;
 *   2. dlopen(RTLD_NOW | RTLD_LOCAL): unresolved symbols fail here, with
 *      the dynamic linker's text, instead of at the first call;
 *   3. the entry symbol SY_PLUGIN_ENTRY_SYMBOL exists;
 *   4. the descriptor: ABI major equal, minor not newer, size covers the
 *      1.0 layout, build signature equal, then every provider and option
 *      table (sy__plugin_check);
 *   5. no provider's kind+name is already in the catalog.
 *
 * A plugin is all or nothing: when any check fails it is dlclose()d and
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
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>

/* One loaded plugin. `handle` is NULL for a static plugin; `file` is the
 * path it was loaded from, or the origin of a static one. */
typedef struct plugin_rec {
  void *handle;
  char *file;
  const sy_plugin *desc;
  bool has_id; /* dev/ino are known: the same file is not loaded twice */
  dev_t dev;
  ino_t ino;
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

/* Records the bare reason in `local` as a problem of `file`, then hands
 * the caller the same reason prefixed with the file. Returns the code. */
static int refuse(sy_catalog *cat, const char *file, const sy_error *local,
                  sy_error *err) {
  add_problem(cat, file, local->message);
  if (err) {
    *err = *local;
    sy_error_prefix(err, "%s", file);
  }
  return local->code;
}

/* The folder part of a path: "." when there is none. Caller frees. */
static char *dir_of(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash)
    return dup_str(".");
  size_t n = (size_t)(slash - path);
  if (n == 0)
    n = 1; /* "/x.so" lives in "/" */
  char *d = malloc(n + 1);
  if (d) {
    memcpy(d, path, n);
    d[n] = '\0';
  }
  return d;
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

/* ---- descriptor checks ------------------------------------------------ */

size_t sy__ops_min_size(sy_kind kind) {
  /* Each kind's ABI 1.0 ops struct, whole: members added in a later minor
   * go after these, and the core checks `size` before it calls them. */
  switch (kind) {
  case SY_KIND_RUNNER:
    return sizeof(sy_runner_ops);
  case SY_KIND_FEED:
    return sizeof(sy_feed_ops);
  case SY_KIND_SINK:
    return sizeof(sy_sink_ops);
  case SY_KIND_ACTOR:
    /* apply_into came in 1.1: an actor built against 1.0 stops before it. */
    return offsetof(sy_actor_ops, apply_into);
  case SY_KIND_REGISTRY:
    /* remove and put_release_all came in 1.3 (optional). */
    return offsetof(sy_registry_ops, remove);
  case SY_KIND_STORAGE:
    return sizeof(sy_storage_ops);
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

/* Refuses a kind+name that the catalog already has, naming both files. */
static int check_duplicates(const sy_catalog *cat, const sy_plugin *pl,
                            sy_error *err) {
  for (size_t i = 0; pl->providers[i]; i++) {
    const sy_provider *p = pl->providers[i];
    const sy_provider *old = sy_catalog_find(cat, p->kind, p->name);
    if (!old)
      continue;
    const char *file = "(unknown)";
    for (size_t j = 0; j < cat->nentries; j++)
      if (cat->entries[j].prov == old)
        file = cat->entries[j].rec->file;
    return sy_error_set(err, SY_EEXIST,
                        "provides %s '%s' already provided by %s",
                        sy_kind_name(p->kind), p->name, file);
  }
  return 0;
}

/* Checks a descriptor against the catalog and adds it with its providers.
 * On failure nothing is added and the caller still owns `handle`. `st` is
 * the file's stat, NULL for a static plugin. Messages are bare. */
static int add_plugin(sy_catalog *cat, void *handle, const sy_plugin *pl,
                      const char *file, const struct stat *st, sy_error *err) {
  int rc = check_plugin(pl, err);
  if (rc != 0)
    goto fail;
  rc = check_duplicates(cat, pl, err);
  if (rc != 0)
    goto fail;

  size_t n = 0;
  while (pl->providers[n])
    n++;
  /* Reserve everything first so that nothing can fail half way. */
  plugin_rec **plugins = grow_array(cat->plugins, &cat->capplugins,
                                    cat->nplugins + 1, sizeof *plugins);
  if (!plugins)
    goto fail_oom;
  cat->plugins = plugins;
  if (n > 0) {
    entry *entries = grow_array(cat->entries, &cat->capentries,
                                cat->nentries + n, sizeof *entries);
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
  rec->desc = pl;
  if (st) {
    rec->has_id = true;
    rec->dev = st->st_dev;
    rec->ino = st->st_ino;
  }
  cat->plugins[cat->nplugins++] = rec;
  for (size_t i = 0; i < n; i++) {
    cat->entries[cat->nentries].prov = pl->providers[i];
    cat->entries[cat->nentries].rec = rec;
    cat->nentries++;
  }
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

int sy_catalog_load_file(sy_catalog *cat, const char *path, sy_error *err) {
  if (!cat || !path || !*path)
    return sy_error_set(err, SY_EINVAL, "no catalog or no file to load");
  sy_error local;
  sy_error_clear(&local);
  char *dir = NULL;
  char *dlpath = NULL;
  void *handle = NULL;
  int rc;
  struct stat st, dst;

  if (stat(path, &st) != 0) {
    rc = sy_error_set(&local, errno == ENOENT ? SY_ENOENT : SY_EIO,
                      "cannot stat: %s", strerror(errno));
    goto fail;
  }
  if (!S_ISREG(st.st_mode)) {
    rc = sy_error_set(&local, SY_EPERM, "not a regular file");
    goto fail;
  }
  rc = check_not_writable("file", NULL, path, &st, &local);
  if (rc != 0)
    goto fail;
  dir = dir_of(path);
  if (!dir) {
    rc = sy_error_set(&local, SY_ENOMEM, "out of memory");
    goto fail;
  }
  if (stat(dir, &dst) != 0) {
    rc = sy_error_set(&local, SY_EIO, "cannot stat folder %s: %s", dir,
                      strerror(errno));
    goto fail;
  }
  rc = check_not_writable("folder", dir, dir, &dst, &local);
  if (rc != 0)
    goto fail;
  if (already_loaded(cat, &st))
    goto done;

  /* Without a slash dlopen() would search the library path instead of
   * opening the file that was just checked. */
  if (!strchr(path, '/')) {
    dlpath = malloc(strlen(path) + 3);
    if (!dlpath) {
      rc = sy_error_set(&local, SY_ENOMEM, "out of memory");
      goto fail;
    }
    strcpy(dlpath, "./");
    strcat(dlpath, path);
  }
  dlerror();
  handle = dlopen(dlpath ? dlpath : path, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *why = dlerror();
    rc = sy_error_set(&local, SY_EPLUGIN, "cannot load: %s",
                      why ? why : "unknown dlopen error");
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
  rc = add_plugin(cat, handle, entry_fn(), path, &st, &local);
  if (rc != 0)
    goto fail;
  handle = NULL; /* the catalog owns it now */

done:
  free(dlpath);
  free(dir);
  sy_error_clear(err);
  return 0;

fail:
  if (handle)
    dlclose(handle);
  free(dlpath);
  free(dir);
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
  rc = check_not_writable("folder", NULL, dir, &st, &local);
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
  if (add_plugin(cat, NULL, plugin, origin, NULL, &local) != 0)
    return refuse(cat, origin, &local, err);
  sy_error_clear(err);
  return 0;
}

const sy_provider *sy_catalog_find(const sy_catalog *cat, sy_kind kind,
                                   const char *name) {
  if (!cat || !name || cat->nentries == 0)
    return NULL;
  sy_provider key_prov;
  memset(&key_prov, 0, sizeof key_prov);
  key_prov.kind = kind;
  key_prov.name = name;
  entry key = {&key_prov, NULL};
  const entry *e = bsearch(&key, cat->entries, cat->nentries,
                           sizeof *cat->entries, entry_cmp);
  return e ? e->prov : NULL;
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
