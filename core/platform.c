/*
 * platform.c - config layers and plugin folders, in the documented order.
 *
 * The order lives in include/switchyard/platform.h; this file only follows
 * it. Two details worth knowing:
 *
 * - The build tree is found from /proc/self/exe. libtool runs an
 *   uninstalled program as <dir>/.libs/<name> (or lt-<name>), so a trailing
 *   ".libs" is stripped before looking for <dir>/plugins.d. An installed
 *   binary sits in $(bindir), where no plugins.d exists, so the check
 *   cannot misfire there.
 * - plugin_path is read from the merged config before any plugin is
 *   loaded, because the config decides where plugins come from; the config
 *   is validated against the catalog only later, by the caller.
 */
#include "flow.h"
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SY_SYSCONFDIR
#define SY_SYSCONFDIR "/usr/local/etc"
#endif
#ifndef SY_PLUGINSDIR
#define SY_PLUGINSDIR "/usr/local/lib/switchyard/plugins.d"
#endif

typedef struct strvec {
  char **items; /* NULL-terminated when len > 0 */
  size_t len, cap;
} strvec;

struct sy_platform {
  sy_config *config;
  sy_catalog *catalog;
  strvec plugin_dirs;
  strvec config_files;
  size_t n_default_files; /* config_files before the first -c file */
  sy__params *params;     /* -p / --params values (flow_params.c) */
};

const sy__params *sy__platform_params(const sy_platform *p) {
  return p ? p->params : NULL;
}
sy__params **sy__platform_params_slot(sy_platform *p) {
  return &p->params;
}

void sy__params_free(sy__params *ps) {
  if (!ps)
    return;
  for (size_t i = 0; i < ps->n; i++) {
    free(ps->v[i].name);
    free(ps->v[i].text);
    free(ps->v[i].origin);
  }
  free(ps->v);
  free(ps);
}

static int strvec_push(strvec *v, const char *s) {
  if (v->len + 2 > v->cap) {
    size_t cap = v->cap ? v->cap * 2 : 8;
    char **items = realloc(v->items, cap * sizeof *items);
    if (!items)
      return SY_ENOMEM;
    v->items = items;
    v->cap = cap;
  }
  char *copy = strdup(s);
  if (!copy)
    return SY_ENOMEM;
  v->items[v->len++] = copy;
  v->items[v->len] = NULL;
  return 0;
}

static void strvec_free(strvec *v) {
  for (size_t i = 0; i < v->len; i++)
    free(v->items[i]);
  free(v->items);
  v->items = NULL;
  v->len = v->cap = 0;
}

static int is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The build tree the running program lives in, or "" when installed. */
static void find_tree(char *tree, size_t cap) {
  char exe[PATH_MAX];
  tree[0] = '\0';
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0)
    return;
  exe[n] = '\0';
  char *slash = strrchr(exe, '/');
  if (!slash)
    return;
  *slash = '\0';
  size_t len = strlen(exe);
  if (len >= 6 && strcmp(exe + len - 6, "/.libs") == 0)
    exe[len - 6] = '\0';
  char probe[PATH_MAX];
  if ((size_t)snprintf(probe, sizeof probe, "%s/plugins.d", exe) >=
      sizeof probe)
    return;
  if (is_dir(probe) && strlen(exe) < cap)
    memcpy(tree, exe, strlen(exe) + 1);
}

static char build_tree[PATH_MAX];
static pthread_once_t build_tree_once = PTHREAD_ONCE_INIT;
static void build_tree_init(void) {
  find_tree(build_tree, sizeof build_tree);
}

const char *sy_build_tree(void) {
  pthread_once(&build_tree_once, build_tree_init);
  return build_tree;
}

static int load_layer(sy_platform *p, const char *path, int optional,
                      sy_error *err) {
  if (optional && !is_file(path))
    return 0;
  int rc = sy_config_load_file(p->config, path, optional, err);
  if (rc == 0)
    rc = strvec_push(&p->config_files, path);
  return rc;
}

/* The folder a value set at `origin` is relative to: the folder of the
 * file in "file:line", "" for "-o", a default or a file in the current
 * folder (the current folder). Caller frees; NULL on OOM. */
static char *origin_dir(const char *origin) {
  const char *colon = origin ? strrchr(origin, ':') : NULL;
  if (!colon || colon == origin || strncmp(origin, "-o", 2) == 0)
    return strdup("");
  const char *slash = NULL;
  for (const char *c = origin; c < colon; c++)
    if (*c == '/')
      slash = c;
  if (!slash)
    return strdup("");
  size_t n = slash == origin ? 1 : (size_t)(slash - origin);
  return strndup(origin, n);
}

/* Scans each folder of a colon list. `origin` is where the list was set
 * ("file:line", "-o", ...) for [PLATFORM] plugin_path, NULL for the
 * environment and the built-in folder: then a relative folder stays
 * relative to the current folder and a missing one is skipped silently.
 * With an origin, a relative folder is relative to the folder of the file
 * that set it, and a missing one is a problem in the catalog (a warning)
 * naming that file:line. */
static int scan_list(sy_platform *p, const char *list, const char *origin,
                     sy_error *err) {
  char *copy = strdup(list);
  char *base = origin ? origin_dir(origin) : strdup("");
  if (!copy || !base) {
    free(copy);
    free(base);
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  }
  int rc = 0;
  char *save = NULL;
  for (char *dir = strtok_r(copy, ":", &save); dir && rc == 0;
       dir = strtok_r(NULL, ":", &save)) {
    char *expanded = NULL;
    rc = sy__expand(dir, true, &expanded, err);
    if (rc != 0)
      break;
    if (*base && expanded[0] != '/') {
      size_t len = strlen(base) + 1 + strlen(expanded) + 1;
      char *joined = malloc(len);
      if (!joined) {
        free(expanded);
        rc = sy_error_set(err, SY_ENOMEM, "out of memory");
        break;
      }
      snprintf(joined, len, "%s/%s", base, expanded);
      free(expanded);
      expanded = joined;
    }
    if (is_dir(expanded)) {
      rc = sy_catalog_scan_dir(p->catalog, expanded, 1, err);
      if (rc == 0)
        rc = strvec_push(&p->plugin_dirs, expanded);
    } else if (origin) {
      struct stat st;
      int missing = stat(expanded, &st) != 0;
      char reason[PATH_MAX + 128];
      snprintf(reason, sizeof reason,
               "[PLATFORM] plugin_path: folder %s %s; no plugins loaded "
               "from it",
               expanded, missing ? "does not exist" : "is not a folder");
      sy__catalog_add_problem(p->catalog, origin, reason);
    }
    free(expanded);
  }
  free(copy);
  free(base);
  return rc;
}

int sy_platform_open(const sy_platform_options *opts, sy_platform **out,
                     sy_error *err) {
  sy_platform_options defaults = {sizeof defaults, NULL, NULL, 0, 0, NULL};
  if (!opts)
    opts = &defaults;
  if (!out || opts->size < sizeof(sy_platform_options))
    return sy_error_set(err, SY_EINVAL, "sy_platform_open: bad arguments");
  *out = NULL;
  int rc = SY_ENOMEM;
  char tree[PATH_MAX], path[PATH_MAX + 64];
  sy_platform *p = calloc(1, sizeof *p);
  if (!p)
    goto fail;
  if ((rc = sy_config_new(&p->config)) != 0 ||
      (rc = sy_catalog_new(&p->catalog)) != 0 ||
      (rc = sy_catalog_set_lazy(p->catalog, 1)) != 0)
    goto fail;
  find_tree(tree, sizeof tree);

  if (!opts->no_default_files) {
    if (tree[0])
      snprintf(path, sizeof path, "%s/etc/switchyard.ini", tree);
    else
      snprintf(path, sizeof path, "%s/switchyard.ini", SY_SYSCONFDIR);
    if ((rc = load_layer(p, path, 1, err)) != 0)
      goto fail;
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    path[0] = '\0';
    if (xdg && *xdg)
      snprintf(path, sizeof path, "%s/switchyard/switchyard.ini", xdg);
    else if (home && *home)
      snprintf(path, sizeof path, "%s/.config/switchyard/switchyard.ini", home);
    if (path[0] && (rc = load_layer(p, path, 1, err)) != 0)
      goto fail;
    if ((rc = load_layer(p, "./switchyard.ini", 1, err)) != 0)
      goto fail;
    if (opts->project_dir && *opts->project_dir) {
      snprintf(path, sizeof path, "%s/switchyard.ini", opts->project_dir);
      /* Not twice when the project is the current folder. */
      struct stat a, b;
      if (!(stat(path, &a) == 0 && stat("./switchyard.ini", &b) == 0 &&
            a.st_ino == b.st_ino && a.st_dev == b.st_dev) &&
          (rc = load_layer(p, path, 1, err)) != 0)
        goto fail;
    }
  }
  p->n_default_files = p->config_files.len;
  for (const char *const *f = opts->config_files; f && *f; f++)
    if ((rc = load_layer(p, *f, 0, err)) != 0)
      goto fail;
  for (const char *const *o = opts->overrides; o && *o; o++)
    if ((rc = sy_config_override(p->config, *o, err)) != 0)
      goto fail;
  /* [PLATFORM] needs no plugin to be checked: a misspelt key (with its
   * file:line or -o, and a did-you-mean) or a bad value fails every
   * command here, not only `config --check`. */
  if ((rc = sy_config_validate(p->config, NULL, err)) != 0)
    goto fail;

  const char *env = getenv("SWITCHYARD_PLUGIN_PATH");
  if (env && *env && (rc = scan_list(p, env, NULL, err)) != 0)
    goto fail;
  const char *cfg_origin = NULL;
  const char *cfg_path =
      sy_config_get(p->config, "PLATFORM", "plugin_path", &cfg_origin);
  if (cfg_path && *cfg_path &&
      (rc = scan_list(p, cfg_path, cfg_origin ? cfg_origin : "-o", err)) != 0)
    goto fail;
  if (!opts->no_builtin_plugins) {
    if (tree[0])
      snprintf(path, sizeof path, "%s/plugins.d", tree);
    else
      snprintf(path, sizeof path, "%s", SY_PLUGINSDIR);
    if ((rc = scan_list(p, path, NULL, err)) != 0)
      goto fail;
  }
  *out = p;
  return 0;
fail:
  if (rc == SY_ENOMEM && err && err->code == 0)
    sy_error_set(err, SY_ENOMEM, "out of memory");
  sy_platform_close(p);
  return rc;
}

void sy_platform_close(sy_platform *p) {
  if (!p)
    return;
  sy_config_free(p->config);
  sy_catalog_free(p->catalog);
  strvec_free(&p->plugin_dirs);
  strvec_free(&p->config_files);
  sy__params_free(p->params);
  free(p);
}

sy_config *sy_platform_config(const sy_platform *p) {
  return p->config;
}
sy_catalog *sy_platform_catalog(const sy_platform *p) {
  return p->catalog;
}

static const char *const empty_list[] = {NULL};

const char *const *sy_platform_plugin_dirs(const sy_platform *p) {
  return p->plugin_dirs.len ? (const char *const *)p->plugin_dirs.items
                            : empty_list;
}

int sy__platform_below_project(const sy_platform *p, const char *origin) {
  if (!origin || strcmp(origin, "default") == 0)
    return 1;
  const char *colon = strrchr(origin, ':');
  if (!colon)
    return 0; /* -o, or set by a command */
  size_t n = (size_t)(colon - origin);
  for (size_t i = 0; i < p->n_default_files; i++)
    if (strlen(p->config_files.items[i]) == n &&
        strncmp(p->config_files.items[i], origin, n) == 0)
      return 1;
  return 0;
}

int sy_platform_below_project(const sy_platform *p, const char *origin) {
  return sy__platform_below_project(p, origin);
}

const char *const *sy_platform_config_files(const sy_platform *p) {
  return p->config_files.len ? (const char *const *)p->config_files.items
                             : empty_list;
}

int sy_platform_registry(sy_platform *p, const char *name, sy_instance **out,
                         const char **used, sy_error *err) {
  if (!name || !*name)
    name = sy_config_get(sy_platform_config(p), "PLATFORM", "registry", NULL);
  if (!name || !*name)
    name = "local";
  if (used)
    *used = name;
  return sy_instance_create(sy_platform_config(p), sy_platform_catalog(p),
                            SY_KIND_REGISTRY, name, out, err);
}
