/*
 * lifecycle.c - release, and compiling train/apply against a registry.
 *
 * A release's manifest is a flow file: comment lines that name the
 * project, release, flow hash and actor versions, then the flow written
 * out whole from the validated model (so @includes are resolved and the
 * release does not depend on files that may change). Reading a release
 * back is reading that flow text.
 *
 * Programs refer to the registry by a text reference,
 * "registry:INSTANCE:PROJECT:RELEASE[:GENERATION]": a train program names
 * the release it commits to, an apply program the generation it loads, so
 * a saved program still says where its states come from. Reading and
 * writing those states when the program runs is the core's
 * (core/states.c); this file only makes the references.
 */
#include "switchyard/buf.h"
#include "switchyard/config.h"
#include "switchyard/flow.h"
#include "switchyard/lifecycle.h"
#include "switchyard/registry.h"

#include <errno.h>
#include <stddef.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#define MANIFEST_MEDIA "application/x-switchyard-release"

/* ---- registries ----------------------------------------------------- */

typedef struct reg {
  sy_instance *inst;
  const sy_registry_ops *ops;
  void *self;
  char name[128];
} reg;

static int reg_open(sy_platform *p, const char *name, reg *r, sy_error *err) {
  memset(r, 0, sizeof *r);
  const char *used = NULL;
  int rc = sy_platform_registry(p, name, &r->inst, &used, err);
  if (rc)
    return rc;
  snprintf(r->name, sizeof r->name, "%s", used);
  r->ops = sy_instance_provider(r->inst)->ops;
  r->self = sy_instance_self(r->inst);
  return 0;
}

static void reg_close(reg *r) {
  sy_instance_destroy(r->inst);
}

/* ---- the project layer ------------------------------------------------ */

/* The option table of a config section of the project's switchyard.ini:
 * [PLATFORM]'s, or the provider's of KIND.instance (its `provider` key in
 * the project file or the platform config, else the instance's name). */
static const sy_option *section_options(sy_platform *p, const sy_config *proj,
                                        const char *sec) {
  if (strcmp(sec, "PLATFORM") == 0)
    return sy_config_platform_options();
  const char *dot = strchr(sec, '.');
  if (!dot)
    return NULL;
  for (int k = 1; k <= SY_KIND_COUNT; k++) {
    const char *kn = sy_kind_name((sy_kind)k);
    if (!kn || strlen(kn) != (size_t)(dot - sec) ||
        strncasecmp(kn, sec, (size_t)(dot - sec)) != 0)
      continue;
    const char *prov = sy_config_get(proj, sec, "provider", NULL);
    if (!prov)
      prov = sy_config_get(sy_platform_config(p), sec, "provider", NULL);
    const sy_provider *pr = sy_catalog_find(sy_platform_catalog(p), (sy_kind)k,
                                            prov ? prov : dot + 1);
    return pr ? pr->options : NULL;
  }
  return NULL;
}

/* Writes the flow's project layer into a manifest: the values of the
 * switchyard.ini beside the flow, if there is one, one "# config:" line
 * each, with relative values of path options made absolute against the
 * file's folder (as reading the file would resolve them). */
static int write_project_layer(sy_platform *p, const char *flow_path, sy_buf *b,
                               sy_error *err) {
  const char *slash = strrchr(flow_path, '/');
  char *dir = slash ? strndup(flow_path, (size_t)(slash - flow_path) +
                                             (slash == flow_path))
                    : strdup(".");
  char *real = dir ? realpath(dir, NULL) : NULL;
  free(dir);
  if (!real)
    return sy_error_set(err, SY_EIO, "%s: cannot resolve its folder: %s",
                        flow_path, strerror(errno));
  char ini[PATH_MAX + 32];
  snprintf(ini, sizeof ini, "%s%sswitchyard.ini", real,
           strcmp(real, "/") == 0 ? "" : "/");
  struct stat st;
  int rc = 0;
  sy_config *proj = NULL;
  if (stat(ini, &st) != 0 || !S_ISREG(st.st_mode))
    goto done; /* no project layer */
  if ((rc = sy_config_new(&proj)) != 0 ||
      (rc = sy_config_load_file(proj, ini, 0, err)) != 0)
    goto done;
  sy_buf_printf(b, "# project-config: %s\n", ini);
  for (size_t i = 0; i < sy_config_section_count(proj); i++) {
    const char *sec = sy_config_section_at(proj, i);
    const sy_option *opts = section_options(p, proj, sec);
    for (size_t k = 0; k < sy_config_key_count(proj, sec); k++) {
      const char *key = sy_config_key_at(proj, sec, k);
      const char *from = NULL;
      const char *v = sy_config_get(proj, sec, key, &from);
      const sy_option *o = opts ? sy_option_find(opts, key) : NULL;
      /* Only what the file says: not the built-in defaults. */
      if (!v || !from || strncmp(from, ini, strlen(ini)) != 0 ||
          from[strlen(ini)] != ':')
        continue;
      if (o && o->type == SY_OPT_PATH && *v && v[0] != '/' && v[0] != '~' &&
          v[0] != '$') {
        while (v[0] == '.' && v[1] == '/')
          v += 2;
        if (strcmp(v, ".") == 0 || !*v)
          sy_buf_printf(b, "# config: [%s] %s = %s\n", sec, key, real);
        else
          sy_buf_printf(b, "# config: [%s] %s = %s%s%s\n", sec, key, real,
                        strcmp(real, "/") == 0 ? "" : "/", v);
      } else
        sy_buf_printf(b, "# config: [%s] %s = %s\n", sec, key, v);
    }
  }
done:
  sy_config_free(proj);
  free(real);
  return rc;
}

/* Applies a release's project layer (its "# config:" lines) to the
 * platform config at the place of a flow's switchyard.ini: it replaces
 * values from the defaults and the default files (sysconf, user, ./),
 * and yields to -c files and -o. */
static int apply_project_layer(sy_platform *p, const char *text,
                               const char *where, sy_error *err) {
  sy_config *cfg = sy_platform_config(p);
  char origin[700];
  snprintf(origin, sizeof origin, "%s (the release's project layer)", where);
  for (const char *line = text; line && *line == '#';) {
    const char *nl = strchr(line, '\n');
    size_t n = nl ? (size_t)(nl - line) : strlen(line);
    if (n > 11 && strncmp(line, "# config: [", 11) == 0) {
      char *l = strndup(line + 11, n - 11);
      if (!l)
        return sy_error_set(err, SY_ENOMEM, "out of memory");
      char *close = strchr(l, ']');
      char *eq = close ? strstr(close, " = ") : NULL;
      int rc = 0;
      if (close && eq && close[1] == ' ' && eq > close + 2) {
        *close = '\0';
        *eq = '\0';
        const char *key = close + 2, *value = eq + 3, *was = NULL;
        sy_config_get(cfg, l, key, &was);
        if (sy_platform_below_project(p, was))
          rc = sy_config_set(cfg, l, key, value, origin, err);
      } else {
        rc = sy_error_set(err, SY_ECORRUPT, "%s: bad project layer line '%.*s'",
                          where, (int)n, line);
      }
      free(l);
      if (rc)
        return rc;
    }
    line = nl ? nl + 1 : NULL;
  }
  return 0;
}

/* ---- release ---------------------------------------------------------- */

int sy_release(sy_platform *p, const char *flow_path, const char *version,
               const char *registry, FILE *report, sy_error *err) {
  if (!sy_release_version_valid(version))
    return sy_error_set(err, SY_EUSAGE,
                        "release version '%s' is not valid: use numbers "
                        "joined by '.', without leading zeros, and "
                        "optionally '-' and a pre-release tag (1.0, 2.10.3, "
                        "1.0-rc.1); see docs/lifecycle.md",
                        version ? version : "");
  sy_flow *flow = NULL;
  int rc = sy_flow_load(p, flow_path, NULL, report, &flow, err);
  if (rc)
    return rc;
  const char *name = sy_flow_name(flow);
  if (!sy_registry_name_valid(name)) {
    rc = sy_error_set(err, SY_ECONFIG,
                      "%s: the flow's name '%s' is its project name in the "
                      "registry: use letters, digits, '.', '_' and '-'",
                      flow_path, name);
    sy_flow_free(flow);
    return rc;
  }
  char hex[33];
  sy_flow_hash_hex(flow, hex);
  sy_buf b = SY_BUF_INIT;
  sy_buf_printf(
      &b,
      "# switchyard release manifest 1\n# project: %s\n# release: %s\n"
      "# flow-hash: %s\n# actors:",
      name, version, hex);
  size_t n_nodes = sy_flow_node_count(flow);
  for (size_t i = 0; i < n_nodes; i++) {
    const char *actor, *actor_version;
    sy_flow_node_actor(flow, i, &actor, &actor_version);
    sy_buf_printf(&b, " %s %s%s", actor, actor_version,
                  i + 1 < n_nodes ? "," : "");
  }
  sy_buf_printf(&b, "\n");
  if ((rc = write_project_layer(p, flow_path, &b, err)) != 0) {
    sy_buf_free(&b);
    sy_flow_free(flow);
    return rc;
  }
  char *flow_text = NULL;
  if (sy_flow_text(flow, &flow_text, NULL) != 0)
    b.failed = 1;
  else
    sy_buf_printf(&b, "%s", flow_text);
  free(flow_text);
  sy_value *manifest = NULL;
  reg r;
  if (b.failed || sy_bytes_new(b.data, b.len, MANIFEST_MEDIA, &manifest)) {
    rc = sy_error_set(err, SY_ENOMEM, "out of memory");
  } else if ((rc = reg_open(p, registry, &r, err)) == 0) {
    rc = r.ops->put_release(r.self, name, version, manifest, err);
    if (rc)
      sy_error_prefix(err, "registry.%s", r.name);
    reg_close(&r);
  }
  sy_value_unref(manifest);
  sy_buf_free(&b);
  sy_flow_free(flow);
  return rc;
}

/* ---- compiling a target --------------------------------------------- */

/* The manifest's text, NUL-terminated (caller frees), and its flow hash. */
static char *manifest_text(const sy_value *m, char hash[33]) {
  size_t len = 0;
  const char *data = sy_bytes_data(m, &len);
  char *text = data ? strndup(data, len) : NULL;
  hash[0] = '\0';
  const char *h = text ? strstr(text, "\n# flow-hash: ") : NULL;
  if (h && strlen(h + 14) >= 32) {
    memcpy(hash, h + 14, 32);
    hash[32] = '\0';
  }
  return text;
}

typedef struct release_list {
  char **names;
  size_t n, cap;
} release_list;

static int collect_release(void *ud, const sy_registry_entry *e) {
  release_list *l = ud;
  if (e->generation != 0)
    return 0;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 8;
    char **names = realloc(l->names, cap * sizeof *names);
    if (!names)
      return SY_ENOMEM;
    l->names = names;
    l->cap = cap;
  }
  if (!(l->names[l->n] = strdup(e->release)))
    return SY_ENOMEM;
  l->n++;
  return 0;
}

/* The release of `project` whose frozen flow hashes to `hex`, newest
 * first; *found receives its name. */
static int find_release(reg *r, const char *project, const char *hex,
                        char **found, sy_error *err) {
  release_list l = {0};
  int rc = r->ops->list(r->self, project, NULL, collect_release, &l, err);
  *found = NULL;
  for (size_t i = l.n; rc == 0 && i-- > 0 && !*found;) {
    sy_value *m = NULL;
    sy_error e;
    if (r->ops->get_release(r->self, project, l.names[i], &m, NULL, &e) != 0)
      continue;
    char h[33];
    char *text = manifest_text(m, h);
    if (strcmp(h, hex) == 0)
      *found = strdup(l.names[i]);
    free(text);
    sy_value_unref(m);
  }
  for (size_t i = 0; i < l.n; i++)
    free(l.names[i]);
  free(l.names);
  return rc;
}

/* sy_program_compile_target; no_feed: for a callable (no feed instance,
 * the request takes the feed's place). */
static int compile_target(sy_platform *p, const char *target, sy_mode mode,
                          const sy_target_options *opts, int no_feed,
                          FILE *report, sy_program **out, sy_error *err) {
  *out = NULL;
  struct stat st;
  int is_file = stat(target, &st) == 0 && S_ISREG(st.st_mode);
  reg r;
  int rc = reg_open(p,
                    opts && opts->size >= offsetof(sy_target_options, from)
                        ? opts->registry
                        : NULL,
                    &r, err);
  if (rc)
    return rc;
  sy_flow *flow = NULL;
  char *project = NULL, *release = NULL, *text = NULL, *copy = NULL;
  uint32_t generation = 0;
  sy_value *manifest = NULL, *states = NULL, *tag = NULL;
  char where[512], ref[640];
  if (is_file) {
    if ((rc = sy_flow_load(p, target, NULL, report, &flow, err)) != 0)
      goto done;
    char hex[33];
    sy_flow_hash_hex(flow, hex);
    if (!(project = strdup(sy_flow_name(flow)))) {
      rc = sy_error_set(err, SY_ENOMEM, "out of memory");
      goto done;
    }
    sy_error e;
    sy_error_clear(&e);
    find_release(&r, project, hex, &release, &e);
    if (!release) {
      rc = sy_error_set(err, SY_ENOENT,
                        "%s: no release of project '%s' in registry '%s' "
                        "holds this flow; release it first (switchyard "
                        "release %s --version V) or keep states in a file "
                        "(--state FILE)",
                        target, project, r.name, target);
      goto done;
    }
  } else {
    sy_registry_ref parsed;
    sy_error perr;
    sy_error_clear(&perr);
    int prc = sy_registry_ref_parse(target, 1, 3, &parsed, &perr);
    if (prc == SY_ENOMEM) {
      rc = sy_error_set(err, SY_ENOMEM, "out of memory");
      goto done;
    }
    if (prc != 0) {
      rc = sy_error_set(err, SY_EUSAGE,
                        "'%s' is neither a flow file nor "
                        "PROJECT[:RELEASE[:GENERATION]] (%s)",
                        target, perr.message);
      goto done;
    }
    copy = parsed.text; /* freed at done, with the fields that point in it */
    generation = parsed.generation;
    if (parsed.generation && mode == SY_MODE_TRAIN) {
      rc = sy_error_set(err, SY_EUSAGE,
                        "train takes PROJECT[:RELEASE], not a generation "
                        "('%s'); to continue from one, use --from %u",
                        target, parsed.generation);
      goto done;
    }
    project = strdup(parsed.project);
    if (!project) {
      rc = sy_error_set(err, SY_ENOMEM, "out of memory");
      goto done;
    }
    if ((rc = r.ops->get_release(r.self, project, parsed.release, &manifest,
                                 &release, err)) != 0) {
      sy_error_prefix(err, "registry.%s", r.name);
      goto done;
    }
    char hash[33];
    text = manifest_text(manifest, hash);
    snprintf(where, sizeof where, "registry:%s:%s", project, release);
    if (text && (rc = apply_project_layer(p, text, where, err)) != 0)
      goto done;
    if (!text || (rc = sy_flow_load(p, where, text, report, &flow, err)) != 0) {
      if (!text)
        rc = sy_error_set(err, SY_ENOMEM, "out of memory");
      goto done;
    }
  }

  uint32_t branch = opts && opts->size >= offsetof(sy_target_options, branch) +
                                              sizeof opts->branch
                        ? opts->branch
                        : 0;
  if (branch && (rc = sy_flow_sweep_fix(flow, branch - 1, err)) != 0)
    goto done;
  sy_flow_compile_options ctx = {sizeof ctx, NULL, NULL, NULL, 0, no_feed};
  uint8_t states_hash[16];
  char from_ref[640];
  uint32_t from =
      opts && opts->size >= offsetof(sy_target_options, from) + sizeof(uint32_t)
          ? opts->from
          : 0;
  if (mode == SY_MODE_TRAIN) {
    snprintf(ref, sizeof ref, "registry:%s:%s:%s", r.name, project, release);
    ctx.commit_to = ref;
  }
  if (mode == SY_MODE_TRAIN && from) {
    uint32_t found = 0;
    rc = r.ops->get_generation(r.self, project, release, from, &states, &tag,
                               &found, err);
    if (rc) {
      sy_error_prefix(err, "registry.%s: %s:%s", r.name, project, release);
      goto done;
    }
    snprintf(from_ref, sizeof from_ref, "registry:%s:%s:%s:%u", r.name, project,
             release, found);
    sy_value_hash(states, states_hash);
    ctx.states = from_ref;
    ctx.states_hash = states_hash;
    ctx.incremental = 1;
  } else if (mode == SY_MODE_APPLY) {
    uint32_t found = 0;
    rc = r.ops->get_generation(r.self, project, release, generation, &states,
                               &tag, &found, err);
    if (rc) {
      sy_error_prefix(err, "registry.%s: %s:%s", r.name, project, release);
      goto done;
    }
    snprintf(ref, sizeof ref, "registry:%s:%s:%s:%u", r.name, project, release,
             found);
    sy_value_hash(states, states_hash);
    ctx.states = ref;
    ctx.states_hash = states_hash;
  }
  rc = sy_flow_compile(p, flow, mode, &ctx, out, err);
done:
  sy_value_unref(manifest);
  sy_value_unref(states);
  sy_value_unref(tag);
  sy_flow_free(flow);
  free(project);
  free(release);
  free(text);
  free(copy);
  reg_close(&r);
  return rc;
}

int sy_target_flow(sy_platform *p, const char *target, const char *registry,
                   FILE *report, sy_flow **out, char **origin, sy_error *err) {
  *out = NULL;
  if (origin)
    *origin = NULL;
  struct stat st;
  if (stat(target, &st) == 0 && S_ISREG(st.st_mode)) {
    int rc = sy_flow_load(p, target, NULL, report, out, err);
    if (rc == 0 && origin && !(*origin = strdup(""))) {
      sy_flow_free(*out);
      *out = NULL;
      rc = sy_error_set(err, SY_ENOMEM, "out of memory");
    }
    return rc;
  }
  sy_registry_ref parsed;
  sy_error perr;
  sy_error_clear(&perr);
  int rc = sy_registry_ref_parse(target, 1, 2, &parsed, &perr);
  if (rc == SY_ENOMEM)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  if (rc != 0)
    return sy_error_set(
        err, SY_EUSAGE,
        "'%s' is neither a flow file nor PROJECT[:RELEASE] (%s)", target,
        perr.message);
  reg r;
  if ((rc = reg_open(p, registry, &r, err)) != 0) {
    sy_registry_ref_free(&parsed);
    return rc;
  }
  sy_value *manifest = NULL;
  char *release = NULL, *text = NULL, where[512];
  if ((rc = r.ops->get_release(r.self, parsed.project, parsed.release,
                               &manifest, &release, err)) != 0) {
    sy_error_prefix(err, "registry.%s", r.name);
    goto done;
  }
  char hash[33];
  text = manifest_text(manifest, hash);
  snprintf(where, sizeof where, "registry:%s:%s", parsed.project, release);
  if (!text) {
    rc = sy_error_set(err, SY_ENOMEM, "out of memory");
    goto done;
  }
  if ((rc = apply_project_layer(p, text, where, err)) != 0 ||
      (rc = sy_flow_load(p, where, text, report, out, err)) != 0)
    goto done;
  if (origin) {
    size_t n = strlen(parsed.project) + strlen(release) + 2;
    if ((*origin = malloc(n)) != NULL)
      snprintf(*origin, n, "%s:%s", parsed.project, release);
    else {
      sy_flow_free(*out);
      *out = NULL;
      rc = sy_error_set(err, SY_ENOMEM, "out of memory");
    }
  }
done:
  sy_value_unref(manifest);
  free(release);
  free(text);
  reg_close(&r);
  sy_registry_ref_free(&parsed);
  return rc;
}

int sy_program_compile_target(sy_platform *p, const char *target, sy_mode mode,
                              const sy_target_options *opts, FILE *report,
                              sy_program **out, sy_error *err) {
  return compile_target(p, target, mode, opts, 0, report, out, err);
}

int sy_callable_new_target(sy_platform *p, const char *target,
                           const sy_target_options *opts, FILE *report,
                           sy_callable **out, sy_error *err) {
  *out = NULL;
  sy_program *prog = NULL;
  int rc =
      compile_target(p, target, SY_MODE_APPLY, opts, 1, report, &prog, err);
  return rc ? rc : sy_callable_from_program(p, prog, out, err);
}
