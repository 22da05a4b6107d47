/*
 * inspect.c - trained states as JSON, for `registry show --states` and
 * `state show` (sy_states_describe, lifecycle.h).
 *
 * Each stateful actor describes its own state (sy_actor_ops.describe_state,
 * ABI 1.4) as JSON text; this file walks a bundle, asks each entry's actor
 * and assembles one document. The actors' text is parsed here with jansson,
 * never trusted: an actor that writes something other than one JSON object
 * fails the call naming it, so the output is always valid JSON. Parsing
 * also lets the document be printed with one indentation throughout.
 * libjansson is loaded at the first call, not at every start
 * (jansson_lazy.c).
 */
#include "switchyard/actor.h"
#include "switchyard/buf.h"
#include "switchyard/catalog.h"
#include "switchyard/lifecycle.h"
#include "switchyard/plugin.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "jansson_lazy.h"

typedef struct describe_walk {
  const sy_catalog *cat;
  json_t *doc;
  sy_error *err;
} describe_walk;

static int set_new(json_t *obj, const char *key, json_t *v) {
  return v && json_object_set_new(obj, key, v) == 0 ? 0 : SY_ENOMEM;
}

static int describe_one(void *ud, const char *node, const char *actor,
                        const char *version, const sy_value *state) {
  describe_walk *w = ud;
  json_t *entry = json_object();
  const sy_provider *prov = sy_catalog_find(w->cat, SY_KIND_ACTOR, actor);
  const sy_actor_ops *ops = prov ? prov->ops : NULL;
  int rc = entry ? 0 : SY_ENOMEM;
  if (rc == 0)
    rc = set_new(entry, "actor", json_string(actor));
  if (rc == 0)
    rc = set_new(entry, "version", json_string(version));
  if (rc == 0 && (!ops || !SY_ACTOR_HAS_DESCRIBE_STATE(ops))) {
    rc = set_new(entry, "state", json_null());
    if (rc == 0)
      rc = set_new(entry, "note",
                   json_string(ops ? "this actor cannot describe its state"
                                   : "the actor is not loaded (no plugin "
                                     "provides it)"));
  } else if (rc == 0) {
    sy_buf text = SY_BUF_INIT;
    json_error_t jerr;
    rc = ops->describe_state(state, &text, w->err);
    if (rc == 0 && text.failed)
      rc = sy_error_set(w->err, SY_ENOMEM, "out of memory");
    if (rc) {
      sy_error_prefix(w->err, "node '%s' (%s)", node, actor);
    } else {
      json_t *v = json_loadb(text.data ? text.data : "", text.len, 0, &jerr);
      if (!json_is_object(v)) {
        rc = sy_error_set(w->err, SY_ECORRUPT,
                          "node '%s' (%s): the actor described its state as "
                          "%s (%s); report this to the plugin's author",
                          node, actor,
                          v ? "JSON that is not an object" : "invalid JSON",
                          v ? "an object was expected" : jerr.text);
        json_decref(v);
      } else {
        rc = set_new(entry, "state", v);
      }
    }
    sy_buf_free(&text);
  }
  if (rc == 0)
    rc = set_new(w->doc, node, entry);
  else
    json_decref(entry);
  if (rc == SY_ENOMEM && !w->err->message[0])
    sy_error_set(w->err, SY_ENOMEM, "out of memory");
  return rc;
}

int sy_states_describe(sy_platform *p, const void *data, size_t len,
                       char **json, sy_error *err) {
  *json = NULL;
  /* libjansson is loaded now, at its first use (jansson_lazy.c). */
  const char *why = sy_jansson_lazy_error();
  if (why)
    return sy_error_set(err, SY_EIO, "cannot describe trained states: %s", why);
  describe_walk w = {sy_platform_catalog(p), json_object(), err};
  if (!w.doc)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  int rc = sy_states_each(data, len, describe_one, &w, err);
  if (rc == 0 &&
      !(*json = json_dumps(w.doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
                                      JSON_REAL_PRECISION(17))))
    rc = sy_error_set(err, SY_ENOMEM, "out of memory");
  json_decref(w.doc);
  return rc;
}
