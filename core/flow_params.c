/*
 * flow_params.c - flow parameters: values given from outside the flow
 * (-p NAME=VALUE, --params FILE) and binding them to the references
 * `key = { param = "NAME"; }` of actor parameters.
 *
 * The loader (flow.c) reads the declarations and binds every reference
 * to its parameter's default; sy__flow_bind_params then sets the values
 * the platform was given and binds the references again. Binding writes
 * the value's canonical text into the actor parameter itself, so the
 * program, the cache keys and the flow hash see a parameter exactly where
 * it is used: changing `rate` changes the keys of the steps of the nodes
 * that read it, and of what depends on them, and nothing else.
 *
 * A --params file is libconfig, like a flow: `rate = 0.5; epochs = 200;`,
 * typed as written (an int is taken for a float parameter), with
 * file:line in every message.
 */
#include "flow.h"

#include <errno.h>
#include <inttypes.h>
#include <libconfig.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "switchyard/platform.h"

static const char *const type_names[] = {"int", "float", "bool", "string"};

const char *sy__ptype_name(sy_flow_ptype t) {
  return t >= SY_FLOW_PINT && t <= SY_FLOW_PSTRING
             ? type_names[t - SY_FLOW_PINT]
             : "list";
}

sy_flow_decl *sy__flow_decl(const sy_flow *flow, const char *name) {
  for (size_t i = 0; flow && name && i < flow->n_decls; i++)
    if (strcmp(flow->decls[i].name, name) == 0)
      return &flow->decls[i];
  return NULL;
}

int sy__param_text(sy_flow_ptype t, const char *text, const char *what,
                   char **out, sy_error *err) {
  char buf[64];
  const char *canon = NULL;
  char *end = NULL;
  *out = NULL;
  errno = 0;
  switch (t) {
  case SY_FLOW_PINT: {
    long long v = text && *text ? strtoll(text, &end, 10) : 0;
    if (text && *text && end && !*end && errno == 0) {
      snprintf(buf, sizeof buf, "%lld", v);
      canon = buf;
    }
    break;
  }
  case SY_FLOW_PFLOAT: {
    double v = text && *text ? strtod(text, &end) : 0;
    if (text && *text && end && !*end && errno == 0 && isfinite(v)) {
      snprintf(buf, sizeof buf, "%.17g", v);
      canon = buf;
    }
    break;
  }
  case SY_FLOW_PBOOL:
    if (text && (strcmp(text, "true") == 0 || strcmp(text, "false") == 0))
      canon = text;
    break;
  case SY_FLOW_PSTRING:
    canon = text;
    break;
  default:
    break;
  }
  if (!canon)
    return sy_error_set(err, SY_ETYPE, "%s: expected %s %s, got '%s'", what,
                        t == SY_FLOW_PINT ? "an" : "a", sy__ptype_name(t),
                        text ? text : "");
  if (!(*out = strdup(canon)))
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  return 0;
}

/* The declared names, "a, b, c", into buf. */
static void decl_list(const sy_flow *flow, char *buf, size_t cap) {
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < flow->n_decls && used < cap; i++) {
    int w = snprintf(buf + used, cap - used, "%s%s", i ? ", " : "",
                     flow->decls[i].name);
    if (w < 0)
      break;
    used += (size_t)w;
  }
}

int sy__flow_bind_params(sy_flow *flow, const sy__params *ov, sy_error *err) {
  for (size_t i = 0; ov && i < ov->n; i++) {
    const sy__param_ov *o = &ov->v[i];
    sy_flow_decl *d = sy__flow_decl(flow, o->name);
    if (!d) {
      char list[256];
      decl_list(flow, list, sizeof list);
      const char **names = calloc(flow->n_decls + 1, sizeof *names);
      if (!names)
        return sy_error_set(err, SY_ENOMEM, "out of memory");
      for (size_t k = 0; k < flow->n_decls; k++)
        names[k] = flow->decls[k].name;
      const char *near = sy__suggest(o->name, names, flow->n_decls);
      int rc;
      if (!flow->n_decls)
        rc = sy_error_set(err, SY_ECONFIG,
                          "%s: unknown parameter '%s': %s declares no "
                          "parameters (params = { ... })",
                          o->origin, o->name, flow->file);
      else if (near)
        rc = sy_error_set(err, SY_ECONFIG,
                          "%s: unknown parameter '%s' (did you mean '%s'?); "
                          "%s declares: %s",
                          o->origin, o->name, near, flow->file, list);
      else
        rc = sy_error_set(err, SY_ECONFIG,
                          "%s: unknown parameter '%s'; %s declares: %s",
                          o->origin, o->name, flow->file, list);
      free(names);
      return rc;
    }
    char what[512];
    snprintf(what, sizeof what, "%s: parameter '%s' (declared at %s:%d)",
             o->origin, o->name, d->file, d->line);
    char *canon = NULL;
    int rc;
    if (o->type && o->type != d->type &&
        !(d->type == SY_FLOW_PFLOAT && o->type == SY_FLOW_PINT))
      return sy_error_set(
          err, SY_ETYPE, "%s: expected %s %s, got %s %s", what,
          d->type == SY_FLOW_PINT ? "an" : "a", sy__ptype_name(d->type),
          o->type == SY_FLOW_PINT ? "an" : "a", sy__ptype_name(o->type));
    if ((rc = sy__param_text(d->type, o->text, what, &canon, err)) != 0)
      return rc;
    d->text = sy__arena_strdup(&flow->mem, canon);
    d->origin = sy__arena_strdup(&flow->mem, o->origin);
    free(canon);
    if (!d->text || !d->origin)
      return sy_error_set(err, SY_ENOMEM, "out of memory");
  }
  for (size_t n = 0; n < flow->n_nodes; n++)
    for (size_t k = 0; k < flow->nodes[n].n_params; k++) {
      sy_flow_param *prm = &flow->nodes[n].params[k];
      const sy_flow_decl *d = prm->ref ? sy__flow_decl(flow, prm->ref) : NULL;
      if (d) {
        prm->text = d->text;
        prm->type = d->type;
      }
    }
  return 0;
}

/* ---- the platform's values (public API, ABI 1.4) -------------------- */

static int params_add(sy_platform *p, const char *name, const char *text,
                      sy_flow_ptype type, const char *origin, sy_error *err) {
  sy__params **slot = sy__platform_params_slot(p);
  if (!*slot && !(*slot = calloc(1, sizeof **slot)))
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  sy__params *ps = *slot;
  /* A later value of the same name wins: replace it in place. */
  sy__param_ov *o = NULL;
  for (size_t i = 0; i < ps->n && !o; i++)
    if (strcmp(ps->v[i].name, name) == 0)
      o = &ps->v[i];
  if (!o) {
    if (ps->n == ps->cap) {
      size_t cap = ps->cap ? ps->cap * 2 : 8;
      sy__param_ov *v = realloc(ps->v, cap * sizeof *v);
      if (!v)
        return sy_error_set(err, SY_ENOMEM, "out of memory");
      ps->v = v;
      ps->cap = cap;
    }
    o = &ps->v[ps->n++];
    memset(o, 0, sizeof *o);
    if (!(o->name = strdup(name))) {
      ps->n--;
      return sy_error_set(err, SY_ENOMEM, "out of memory");
    }
  }
  char *t = strdup(text), *org = strdup(origin);
  if (!t || !org) {
    free(t);
    free(org);
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  }
  free(o->text);
  free(o->origin);
  o->text = t;
  o->origin = org;
  o->type = type;
  return 0;
}

static int name_ok(const char *name) {
  if (!name ||
      !((*name >= 'a' && *name <= 'z') || (*name >= 'A' && *name <= 'Z')))
    return 0;
  for (const char *c = name; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
          (*c >= '0' && *c <= '9') || *c == '_' || *c == '-'))
      return 0;
  return 1;
}

int sy_platform_set_param(sy_platform *p, const char *assignment,
                          sy_error *err) {
  const char *eq = assignment ? strchr(assignment, '=') : NULL;
  char name[128];
  size_t n = eq ? (size_t)(eq - assignment) : 0;
  if (eq && n < sizeof name) {
    memcpy(name, assignment, n);
    name[n] = '\0';
  }
  if (!eq || n == 0 || n >= sizeof name || !name_ok(name))
    return sy_error_set(err, SY_EUSAGE,
                        "-p %s: expected NAME=VALUE (NAME a flow parameter: "
                        "letters, digits, '_', '-')",
                        assignment ? assignment : "");
  char origin[192];
  snprintf(origin, sizeof origin, "-p %s", name);
  return params_add(p, name, eq + 1, 0, origin, err);
}

int sy_platform_load_params(sy_platform *p, const char *path, sy_error *err) {
  config_t cfg;
  const char *why = sy__libconfig_load();
  if (why)
    return sy_error_set(err, SY_EIO, "--params %s: %s", path ? path : "", why);
  config_init(&cfg);
  int rc = 0;
  FILE *f = path ? fopen(path, "r") : NULL;
  if (!f) {
    rc = sy_error_set(err, errno == ENOENT ? SY_ENOENT : SY_EIO,
                      "--params %s: cannot open: %s", path ? path : "",
                      strerror(errno));
    goto done;
  }
  if (config_read(&cfg, f) != CONFIG_TRUE) {
    rc = sy_error_set(err, SY_ESYNTAX, "%s:%d: syntax error: %s", path,
                      config_error_line(&cfg),
                      config_error_text(&cfg) ? config_error_text(&cfg) : "?");
    goto done;
  }
  config_setting_t *root = config_root_setting(&cfg);
  for (int i = 0; rc == 0 && i < config_setting_length(root); i++) {
    config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
    char origin[600], buf[64];
    snprintf(origin, sizeof origin, "%s:%d", path,
             config_setting_source_line(s));
    const char *text = NULL;
    sy_flow_ptype type = 0;
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
      snprintf(buf, sizeof buf, "%lld", config_setting_get_int64(s));
      text = buf;
      type = SY_FLOW_PINT;
      break;
    case CONFIG_TYPE_FLOAT:
      snprintf(buf, sizeof buf, "%.17g", config_setting_get_float(s));
      text = buf;
      type = SY_FLOW_PFLOAT;
      break;
    case CONFIG_TYPE_BOOL:
      text = config_setting_get_bool(s) ? "true" : "false";
      type = SY_FLOW_PBOOL;
      break;
    case CONFIG_TYPE_STRING:
      text = config_setting_get_string(s);
      type = SY_FLOW_PSTRING;
      break;
    default:
      rc = sy_error_set(err, SY_ETYPE,
                        "%s: %s: expected NAME = VALUE; (an int, float, bool "
                        "or string), got a group or list",
                        origin, config_setting_name(s));
      continue;
    }
    rc = params_add(p, config_setting_name(s), text, type, origin, err);
  }
done:
  if (f)
    fclose(f);
  config_destroy(&cfg);
  return rc;
}
