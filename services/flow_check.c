/*
 * flow_check.c - sy_flow_check, what `switchyard check` finds: the flow
 * as the core loads and validates it (sy_flow_load), and then what can
 * only be found with the platform's help: the feed and sink instances the
 * flow names, and, when the feed can describe its table (sy_feed_ops
 * describe, ABI 1.3), the columns the flow relies on.
 *
 * Design notes:
 *
 * - It reads the flow through the core's public accessors (flow.h), so
 *   it knows the flow model only as any client may.
 *
 * - Instances are created and destroyed again, exactly as compile and run
 *   create them, so an unknown name and a bad instance config give the
 *   errors those commands would give, here with the flow's file:line. A
 *   feed or sink create() only checks its config (none writes anything).
 *
 * - Columns are followed from the source through the actors whose output
 *   columns are known from their input without running them: std.select
 *   (the listed columns), std.drop (the others), std.head and std.scaler
 *   (the same columns). Any other actor's output is unknown, and nothing
 *   below it is checked, so the check never refuses a flow that would run.
 *   Naming std actors here (outside the core) is deliberate: they are the
 *   platform's own, and an actor op describing output columns would be a
 *   larger API than this needs.
 *
 * - A sink's `passthrough` names (sink-stdout, sink-csv) must be source
 *   columns (the label included) or "_row"; the sink instance is created
 *   to read its parsed list, and the value's config origin (FILE:LINE or
 *   "-o") locates the problem, since the list is not in the flow.
 *
 * - The label column only has to be in the table when an actor trains on
 *   it (SY_ACTOR_SUPERVISED): applying a trained flow to new data without
 *   labels is normal (the job then passes the whole table on).
 */
#include "switchyard/actor.h"
#include "switchyard/config.h"
#include "switchyard/flow.h"
#include "switchyard/io.h"
#include "switchyard/platform.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct colset {
  const char **names; /* borrowed from the described table or the flow */
  size_t n;
  int known;
} colset;

typedef struct dchecker {
  const sy_flow *flow;
  FILE *report;
  sy_error *err;
  int rc;
  /* The described table: names owned here. */
  char **cols;
  sy_col_type *types; /* per column: its type, 0 when unknown */
  size_t n_cols, cap_cols;
} dchecker;

/* Reports a problem and keeps the first one's code and error. */
static void keep(dchecker *C, const sy_error *e) {
  if (C->report)
    fprintf(C->report, "%s\n", e->message);
  if (C->rc == 0) {
    C->rc = e->code;
    if (C->err)
      *C->err = *e;
  }
}

static void SY_PRINTF(5, 6) problem(dchecker *C, int code, const char *file,
                                    int line, const char *fmt, ...) {
  char msg[SY_ERROR_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  sy_error e;
  sy_error_set(&e, code, "%s:%d: %s", file, line, msg);
  keep(C, &e);
}

/* A problem at `where`, a config value's origin ("FILE:LINE", "-o"). */
static void SY_PRINTF(4, 5)
    problem_at(dchecker *C, int code, const char *where, const char *fmt, ...) {
  char msg[SY_ERROR_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  sy_error e;
  sy_error_set(&e, code, "%s: %s", where, msg);
  keep(C, &e);
}

static int add_column(void *ud, const char *name, sy_col_type type) {
  dchecker *C = ud;
  if (C->n_cols == C->cap_cols) {
    size_t cap = C->cap_cols ? C->cap_cols * 2 : 16;
    char **c = realloc(C->cols, cap * sizeof *c);
    if (c)
      C->cols = c;
    sy_col_type *t = realloc(C->types, cap * sizeof *t);
    if (t)
      C->types = t;
    if (!c || !t)
      return SY_ENOMEM;
    C->cap_cols = cap;
  }
  C->types[C->n_cols] = type;
  if (!(C->cols[C->n_cols] = strdup(name)))
    return SY_ENOMEM;
  C->n_cols++;
  return 0;
}

static int in_set(const colset *s, const char *name) {
  for (size_t i = 0; i < s->n; i++)
    if (strcmp(s->names[i], name) == 0)
      return 1;
  return 0;
}

/* "a, b, c" into buf, cut with "..." when it does not fit. */
static void list_names(const colset *s, char *buf, size_t cap) {
  size_t used = 0;
  buf[0] = '\0';
  if (s->n == 0) {
    snprintf(buf, cap, "(none)");
    return;
  }
  for (size_t i = 0; i < s->n; i++) {
    int k =
        snprintf(buf + used, cap - used, "%s%s", i ? ", " : "", s->names[i]);
    if (k < 0 || (size_t)k >= cap - used) {
      memcpy(buf + cap - 4, "...", 4);
      return;
    }
    used += (size_t)k;
  }
}

/* std.select / std.drop (node i): every listed column must be in `in`;
 * fills out (names borrowed from in) with what the actor passes on. */
static int check_listed(dchecker *C, size_t i_node, const colset *in,
                        int select, colset *out, const char *label) {
  const char *pfile = NULL, *actor = NULL;
  int pline = 0;
  const char *ptext =
      sy_flow_node_param(C->flow, i_node, "columns", &pfile, &pline);
  const char *id = sy_flow_node_id(C->flow, i_node, NULL);
  sy_flow_node_actor(C->flow, i_node, &actor, NULL);
  out->known = 0;
  if (!ptext)
    return 0; /* a missing required parameter was reported already */
  out->names = malloc((in->n ? in->n : 1) * sizeof *out->names);
  if (!out->names)
    return SY_ENOMEM;
  out->n = 0;
  /* Canonical list text: items joined by ',' (items hold no comma). */
  const char *s = ptext;
  while (*s) {
    size_t len = strcspn(s, ",");
    char name[SY_VALUE_MAX_NAME + 1];
    snprintf(name, sizeof name, "%.*s", (int)len, s);
    s += len + (s[len] == ',');
    if (in_set(in, name))
      continue;
    char avail[512];
    list_names(in, avail, sizeof avail);
    if (label && strcmp(name, label) == 0)
      problem(C, SY_EINVAL, pfile, pline,
              "node '%s' (%s): column '%s' is the label, which the source "
              "keeps apart from the features (available: %s)",
              id, actor, name, avail);
    else
      problem(C, SY_EINVAL, pfile, pline,
              "node '%s' (%s): unknown column '%s' (available: %s)", id, actor,
              name, avail);
  }
  for (size_t i = 0; i < in->n; i++) {
    /* Whether in->names[i] is listed. */
    int listed = 0;
    for (const char *q = ptext; *q && !listed;) {
      size_t len = strcspn(q, ",");
      listed = strlen(in->names[i]) == len && memcmp(q, in->names[i], len) == 0;
      q += len + (q[len] == ',');
    }
    if (listed == select)
      out->names[out->n++] = in->names[i];
  }
  /* select keeps the listed order, which only matters for the message
   * lists further down; the set is what is checked. */
  out->known = 1;
  return 0;
}

/* Follows the columns from the source down the actors whose output
 * columns are known (see the top of this file). */
static int follow_columns(dchecker *C, const colset *features,
                          const char *label) {
  const sy_flow *flow = C->flow;
  size_t n_nodes = sy_flow_node_count(flow);
  const uint32_t *order = sy_flow_order(flow);
  colset *sets = calloc(n_nodes ? n_nodes : 1, sizeof *sets);
  int rc = 0;
  if (!sets)
    return SY_ENOMEM;
  for (size_t k = 0; order && k < n_nodes && rc == 0; k++) {
    uint32_t i = order[k];
    const sy_provider *provider = NULL;
    const char *actor = NULL;
    uint32_t output = 0;
    sy_flow_node_id(flow, i, &provider);
    sy_flow_node_actor(flow, i, &actor, NULL);
    if (!provider || sy_flow_node_input_count(flow, i) != 1)
      continue;
    int32_t t = sy_flow_node_input(flow, i, 0, &output);
    if (output != 0)
      continue;
    const colset *in = NULL;
    if (t == -1)
      in = features;
    else if (t >= 0 && (size_t)t < n_nodes && sets[t].known)
      in = &sets[t];
    if (!in)
      continue;
    if (strcmp(actor, "std.select") == 0)
      rc = check_listed(C, i, in, 1, &sets[i], label);
    else if (strcmp(actor, "std.drop") == 0)
      rc = check_listed(C, i, in, 0, &sets[i], label);
    else if (strcmp(actor, "std.head") == 0 ||
             strcmp(actor, "std.scaler") == 0) {
      sets[i].names = malloc((in->n ? in->n : 1) * sizeof *sets[i].names);
      if (!sets[i].names) {
        rc = SY_ENOMEM;
        break;
      }
      memcpy(sets[i].names, in->names, in->n * sizeof *in->names);
      sets[i].n = in->n;
      sets[i].known = 1;
    }
  }
  for (size_t i = 0; i < n_nodes; i++)
    free(sets[i].names);
  free(sets);
  return rc;
}

static const char *platform_default(sy_platform *p, const char *key,
                                    const char *fallback) {
  const char *v = sy_config_get(sy_platform_config(p), "PLATFORM", key, NULL);
  return v && *v ? v : fallback;
}

/* The node that trains on the label (its index), or -1. */
static long supervised(const sy_flow *flow) {
  for (size_t i = 0; i < sy_flow_node_count(flow); i++) {
    const sy_provider *p = NULL;
    sy_flow_node_id(flow, i, &p);
    if (p && p->kind == SY_KIND_ACTOR &&
        (((const sy_actor_ops *)p->ops)->flags & SY_ACTOR_SUPERVISED))
      return (long)i;
  }
  return -1;
}

static const char *type_name(sy_col_type t) {
  return t == SY_COL_F64 ? "f64" : t == SY_COL_I64 ? "i64" : "string";
}

/* Every column the source's pushdown names must be in the table, and a
 * condition's value must fit its column's type (where the feed knows it).
 * Returns the pushdown (NULL: none). */
static const sy_feed_query *check_pushdown(dchecker *C, const colset *table,
                                           const char *feed_name,
                                           const char *table_name) {
  const int *wlines = NULL;
  int cline = 0, oline = 0;
  const sy_feed_query *q =
      sy_flow_source_query(C->flow, &wlines, &cline, &oline);
  const char *sfile = NULL;
  int sline = 0;
  sy_flow_source(C->flow, NULL, NULL, NULL, &sfile, &sline);
  if (!q)
    return NULL;
  char avail[512];
  list_names(table, avail, sizeof avail);
  for (size_t i = 0; i < q->n_columns; i++)
    if (!in_set(table, q->columns[i]))
      problem(C, SY_EINVAL, sfile, cline ? cline : sline,
              "source.columns: table '%s' of feed '%s' has no column '%s' "
              "(columns: %s)",
              table_name, feed_name, q->columns[i], avail);
  for (size_t i = 0; i < q->n_where; i++) {
    const sy_feed_cond *w = &q->where[i];
    int line = wlines && wlines[i] ? wlines[i] : sline;
    size_t k = 0;
    while (k < table->n && strcmp(table->names[k], w->column) != 0)
      k++;
    if (k == table->n) {
      problem(C, SY_EINVAL, sfile, line,
              "source.where: table '%s' of feed '%s' has no column '%s' "
              "(columns: %s)",
              table_name, feed_name, w->column, avail);
      continue;
    }
    sy_col_type t = C->types[k];
    int num_val = w->type != SY_COL_STR;
    if (t && (t == SY_COL_STR) == num_val)
      problem(C, SY_ETYPE, sfile, line,
              "source.where: column '%s' of table '%s' is %s, but the value "
              "compared with it is %s; write a %s",
              w->column, table_name, type_name(t),
              num_val ? "a number" : "a string",
              t == SY_COL_STR ? "string in quotes" : "number without quotes");
  }
  for (size_t i = 0; i < q->n_order; i++)
    if (!in_set(table, q->order[i].column))
      problem(C, SY_EINVAL, sfile, oline ? oline : sline,
              "source.order: table '%s' of feed '%s' has no column '%s' "
              "(columns: %s)",
              table_name, feed_name, q->order[i].column, avail);
  return q;
}

/* The sink's `passthrough` names (the option of that name sink-stdout and
 * sink-csv have) must be columns of the source, its label included, or
 * "_row"; the run would fail on them only after all its work. `source`
 * holds the source's columns (the pushdown's when it names some). */
static int check_passthrough(dchecker *C, sy_platform *p, const colset *source,
                             const char *label, const char *feed_name,
                             const char *table_name) {
  const sy_flow *flow = C->flow;
  const char *sink = sy_flow_sink(flow, NULL);
  if (!sink)
    sink = platform_default(p, "sink", "out");
  sy_instance *inst = NULL;
  sy_error e;
  sy_error_clear(&e);
  int rc = sy_instance_create(sy_platform_config(p), sy_platform_catalog(p),
                              SY_KIND_SINK, sink, &inst, &e);
  if (rc)
    return rc == SY_ENOMEM ? rc : 0; /* said where the sink is checked */
  const sy_option *o =
      sy_option_find(sy_instance_provider(inst)->options, "passthrough");
  const char *cfg = sy_instance_config(inst);
  const char *const *list = NULL;
  if (o && o->type == SY_OPT_LIST && cfg)
    memcpy(&list, cfg + o->offset, sizeof list);
  char section[160];
  snprintf(section, sizeof section, "SINK.%s", sink);
  const char *where = NULL;
  sy_config_get(sy_platform_config(p), section, "passthrough", &where);
  char at[400];
  snprintf(at, sizeof at, "%s: %s.passthrough",
           where ? where : sy_flow_file(flow), section);
  for (size_t i = 0; list && list[i]; i++) {
    const char *name = list[i];
    if (strcmp(name, "_row") == 0 || in_set(source, name) ||
        (label && strcmp(name, label) == 0))
      continue;
    const char *near = sy_suggest(name, source->names, source->n);
    if (!near && label)
      near = sy_suggest(name, &label, 1);
    char avail[512];
    list_names(source, avail, sizeof avail);
    problem_at(C, SY_EINVAL, at,
               "the source (table '%s' of feed '%s') has no column '%s'%s%s%s "
               "(columns: %s%s%s; or _row, the row number)",
               table_name, feed_name, name, near ? " (did you mean '" : "",
               near ? near : "", near ? "'?)" : "", avail,
               label ? ", label " : "", label ? label : "");
  }
  sy_instance_destroy(inst);
  return 0;
}

static int check_table(dchecker *C, sy_platform *p, sy_instance *feed,
                       const char *feed_name) {
  const sy_flow *flow = C->flow;
  const sy_feed_ops *ops = sy_instance_provider(feed)->ops;
  const char *table_name = NULL, *label = NULL, *sfile = NULL;
  int sline = 0;
  sy_flow_source(flow, NULL, &table_name, &label, &sfile, &sline);
  if (!table_name || !SY_FEED_HAS_DESCRIBE(ops))
    return 0;
  sy_error e;
  sy_error_clear(&e);
  int rc = ops->describe(sy_instance_self(feed), table_name, add_column, C, &e);
  if (rc == SY_ENOMEM)
    return rc;
  if (rc < 0) {
    problem(C, rc, sfile, sline, "source: feed '%s', table '%s': %s", feed_name,
            table_name, e.message);
    return 0;
  }
  colset table = {(const char **)C->cols, C->n_cols, 1};
  long trains = label ? supervised(flow) : -1;
  if (label && trains >= 0 && !in_set(&table, label)) {
    char avail[512];
    const char *actor = NULL;
    sy_flow_node_actor(flow, (size_t)trains, &actor, NULL);
    list_names(&table, avail, sizeof avail);
    problem(C, SY_EINVAL, sfile, sline,
            "source.label: table '%s' of feed '%s' has no column '%s' "
            "(columns: %s); node '%s' (%s) trains on it",
            table_name, feed_name, label, avail,
            sy_flow_node_id(flow, (size_t)trains, NULL), actor);
  }
  const sy_feed_query *q = check_pushdown(C, &table, feed_name, table_name);
  /* The features: the table (or the pushdown's columns) less its label
   * column. */
  const char *const *names = q && q->n_columns ? q->columns : table.names;
  size_t n_names = q && q->n_columns ? q->n_columns : table.n;
  colset features = {malloc((n_names ? n_names : 1) * sizeof(char *)), 0, 1};
  if (!features.names)
    return SY_ENOMEM;
  for (size_t i = 0; i < n_names; i++)
    if (!label || strcmp(names[i], label) != 0)
      features.names[features.n++] = names[i];
  rc = follow_columns(C, &features, label);
  if (rc == 0)
    rc = check_passthrough(C, p, &features,
                           label && in_set(&table, label) ? label : NULL,
                           feed_name, table_name);
  free(features.names);
  return rc;
}

/* What can be found with the platform, on a flow that passed
 * sy_flow_load: every problem reported, 0 or the first one's code. */
static int check_platform(const sy_flow *flow, sy_platform *p, FILE *report,
                          sy_error *err) {
  dchecker C = {flow, report, err, 0, NULL, NULL, 0, 0};
  int rc = 0;
  const sy_config *cfg = sy_platform_config(p);
  const sy_catalog *cat = sy_platform_catalog(p);
  sy_error e;
  const char *feed = NULL, *sfile = NULL;
  int sline = 0;
  if (sy_flow_source(flow, &feed, NULL, NULL, &sfile, &sline)) {
    if (!feed)
      feed = platform_default(p, "feed", "data");
    sy_instance *inst = NULL;
    sy_error_clear(&e);
    rc = sy_instance_create(cfg, cat, SY_KIND_FEED, feed, &inst, &e);
    if (rc == 0) {
      rc = check_table(&C, p, inst, feed);
      sy_instance_destroy(inst);
    } else if (rc != SY_ENOMEM) {
      problem(&C, rc, sfile, sline, "source.feed: %s", e.message);
      rc = 0;
    }
  }
  int sink_line = 0;
  const char *sink = sy_flow_sink(flow, &sink_line);
  if (rc == 0 && sink) {
    sy_instance *inst = NULL;
    sy_error_clear(&e);
    rc = sy_instance_create(cfg, cat, SY_KIND_SINK, sink, &inst, &e);
    sy_instance_destroy(inst);
    if (rc != 0 && rc != SY_ENOMEM) {
      problem(&C, rc, sy_flow_file(flow), sink_line, "sink: %s", e.message);
      rc = 0;
    }
  }
  for (size_t i = 0; i < C.n_cols; i++)
    free(C.cols[i]);
  free(C.cols);
  free(C.types);
  if (rc == SY_ENOMEM)
    return sy_error_set(err, rc, "%s: out of memory", sy_flow_file(flow));
  return C.rc;
}

int sy_flow_check(sy_platform *p, const char *path, FILE *report,
                  sy_error *err) {
  sy_flow *flow = NULL;
  int rc = sy_flow_load(p, path, NULL, report, &flow, err);
  if (rc == 0)
    rc = check_platform(flow, p, report, err);
  if (rc && report && err && rc != SY_ENOMEM)
    err->message[0] = '\0'; /* written to report already */
  sy_flow_free(flow);
  return rc;
}
