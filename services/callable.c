/*
 * callable.c - compile once, apply many times: the serving path.
 *
 * The flow is compiled for apply and bound as a job once; LOAD steps run
 * once and their states stay loaded in the per-step actor instances. Each
 * call puts the request where the feed's output would be, runs the apply
 * chain in program order (already topological) and returns what the sink
 * would have received. Nothing is read from a feed and nothing is written
 * to a sink.
 *
 * Two ways to run a call, with the same results:
 *
 *   general  the step executor (sy_job_run_step) runs every step, as any
 *            runner would: the first call always goes this way, because
 *            it is what makes the actor instances and loads their states.
 *   chain    afterwards, when the program is nothing but APPLY and GET
 *            steps over bound instances, nobody listens to the job's
 *            events and no result cache is in use, a call walks a plan
 *            made once (per step: the instance, its ops, where its inputs
 *            are) and calls the actors directly. Each APPLY step's output
 *            stays in the callable after the call; at the next call, when
 *            the callable holds it exclusively (the caller dropped what
 *            it was given), it is handed back to the actor's apply_into
 *            (ABI 1.1), which rewrites its cells in place when the shape
 *            did not change: no malloc, no column names, no frame built.
 *
 * The chain path runs APPLY with the same meaning as sy_step_execute (the
 * actor's apply on the step's inputs, the state already loaded) and GET
 * as "output `index` of the argument"; anything else in the program, or
 * an instance not yet bound or bound to another state, keeps the general
 * path. Errors carry the same prefixes as the executor's. A value the
 * caller still holds is never rewritten: exclusivity is the reference
 * count, so a result kept by the caller (or shared between two steps)
 * simply makes that step build a new frame.
 *
 * The source's pushdown (ABI 1.4) meets each request as it would meet
 * the table apply's feed reads: a request keeps the source's `columns`
 * (in that order; the label only when the request carries it) and must
 * match its `where` row by row. A row the `where` excludes is refused,
 * naming the row and the condition, rather than dropped: a response
 * answers its request row for row, and a silently shorter answer would
 * misalign every row after it. A condition on the label column holds
 * only for a request that carries the label (new data has none to test).
 * `order` and `limit` choose rows of a table and have no meaning for a
 * request, whose rows are answered in its own order, all of them.
 *
 * This file is a client of the core's public API only: the job is made
 * with sy_job_new_unbound and driven step by step (flow.h, "a job driven
 * step by step"); what it needs to know of each step is copied once into
 * a step_info when the callable is made.
 */
#include "switchyard/actor.h"
#include "switchyard/flow.h"
#include "switchyard/io.h"
#include "switchyard/runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHAIN_MAX_IN 16
#define CHAIN_MAX_OUT 8

/* What the callable needs to know of a program step (from the job's
 * public accessors, once). */
typedef struct step_info {
  sy_op op;
  uint32_t n_args;
  const uint32_t *args;
  uint32_t index; /* GET: which output */
  uint32_t n_outputs;
  int state_in; /* args[0] is a state */
  const char *node, *target;
} step_info;

/* One step of the chain plan. */
typedef struct chain_step {
  uint32_t step;
  sy_op op;           /* SY_OP_APPLY or SY_OP_GET */
  uint32_t n_in;      /* APPLY: inputs, the state not counted */
  const uint32_t *in; /* APPLY: the steps whose output 0 it reads;
                         GET: in[0] is the step it reads from */
  uint32_t index;     /* GET: which output */
  uint32_t n_out;
  const sy_actor_ops *ops;
  void *self;
  int into; /* ops has apply_into */
} chain_step;

struct sy_callable {
  sy_program *prog;
  sy_job *job;
  uint32_t n; /* steps */
  step_info *steps;
  const char *feed_label; /* the FEED's label column, "" for none */
  uint32_t feed;          /* the FEED step */
  uint32_t result;        /* the step whose output the sink would get */
  uint8_t *keep;          /* steps whose values persist across calls */
  uint32_t *run;          /* steps to run per call, in order */
  uint32_t n_run;
  /* The chain path (built after the first successful general call). */
  int chain_tried; /* a plan was attempted; chain != NULL if it worked */
  chain_step *chain;
  sy_value **vals;    /* per step, CHAIN_MAX_OUT slots: owned for APPLY
                         steps (kept across calls), borrowed for FEED and
                         GET (valid during a call only) */
  sy_value *no_label; /* the empty label frame of a request without one */
  sy_value *split[2]; /* a request with a label column, split (owned) */
  /* The source's pushdown (sy_job_feed_query, owned; NULL: none) and
   * what a request gets of it: req[0] without the label (columns less
   * the label, conditions on it left out; storage req_cols, req_where),
   * req[1] with it (the query's own columns and where). No order, no
   * limit. req_on: either has columns or conditions. */
  sy_feed_query *query;
  sy_feed_query req[2];
  const char **req_cols;
  sy_feed_cond *req_where;
  int req_on;
};

static sy_value **slot(const sy_callable *c, uint32_t s) {
  return c->vals + (size_t)s * CHAIN_MAX_OUT;
}

static void chain_drop_values(sy_callable *c) {
  if (!c->vals)
    return;
  for (uint32_t i = 0; c->chain && i < c->n_run; i++) {
    const chain_step *st = &c->chain[i];
    sy_value **v = slot(c, st->step);
    for (uint32_t k = 0; k < st->n_out; k++) {
      if (st->op == SY_OP_APPLY)
        sy_value_unref(v[k]);
      v[k] = NULL;
    }
  }
}

void sy_callable_free(sy_callable *c) {
  if (!c)
    return;
  chain_drop_values(c);
  free(c->vals);
  free(c->chain);
  sy_value_unref(c->no_label);
  sy_feed_query_free(c->query);
  free(c->req_cols);
  free(c->req_where);
  sy_job_free(c->job);
  sy_program_free(c->prog);
  free(c->keep);
  free(c->run);
  free(c->steps);
  free(c);
}

int sy_callable_new(sy_platform *p, const char *flow_path,
                    const char *state_file, sy_callable **out, sy_error *err) {
  *out = NULL;
  /* No feed instance: the FEED step is never run, the request takes
   * its place. */
  sy_flow_compile_options fopts = {sizeof fopts, state_file, NULL, NULL, 0, 1};
  sy_flow *flow = NULL;
  sy_program *prog = NULL;
  int rc = sy_flow_load(p, flow_path, NULL, NULL, &flow, err);
  if (rc == 0)
    rc = sy_flow_compile(p, flow, SY_MODE_APPLY, &fopts, &prog, err);
  sy_flow_free(flow);
  if (rc)
    return rc;
  return sy_callable_from_program(p, prog, out, err);
}

const sy_program *sy_callable_program(const sy_callable *c) {
  return c->prog;
}

void sy_callable_source(const sy_callable *c, const char **feed,
                        const char **table, const char **label) {
  if (feed)
    *feed = sy_job_step_target(c->job, c->feed);
  if (table)
    *table = sy_job_feed_table(c->job, c->feed);
  if (label)
    *label = c->feed_label;
}

const struct sy_feed_query *sy_callable_query(const sy_callable *c) {
  return c->query;
}

/* Decodes the source's pushdown and makes req[0] and req[1] of it. */
static int request_query_init(sy_callable *c, sy_error *err) {
  int rc = sy_job_feed_query(c->job, c->feed, &c->query, err);
  if (rc || !c->query)
    return rc;
  const sy_feed_query *q = c->query;
  const char *label = c->feed_label;
  c->req_cols = malloc((q->n_columns ? q->n_columns : 1) * sizeof *c->req_cols);
  c->req_where = malloc((q->n_where ? q->n_where : 1) * sizeof *c->req_where);
  if (!c->req_cols || !c->req_where)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  sy_feed_query *r = &c->req[0];
  *r = (sy_feed_query){sizeof *r, c->req_cols, 0, c->req_where, 0, NULL, 0, -1};
  for (size_t i = 0; i < q->n_columns; i++)
    if (!*label || strcmp(q->columns[i], label) != 0)
      c->req_cols[r->n_columns++] = q->columns[i];
  for (size_t i = 0; i < q->n_where; i++)
    if (!*label || strcmp(q->where[i].column, label) != 0)
      c->req_where[r->n_where++] = q->where[i];
  c->req[1] = (sy_feed_query){
      sizeof *r, q->columns, q->n_columns, q->where, q->n_where, NULL, 0, -1};
  c->req_on = q->n_columns > 0 || q->n_where > 0;
  return 0;
}

/* "sepal_length > 5" for a message. */
static void cond_text(const sy_feed_cond *w, char *buf, size_t cap) {
  const char *op = sy_cmp_sql(w->op);
  if (w->type == SY_COL_STR)
    snprintf(buf, cap, "%s %s '%s'", w->column, op ? op : "?", w->str);
  else if (w->type == SY_COL_I64)
    snprintf(buf, cap, "%s %s %lld", w->column, op ? op : "?",
             (long long)w->i64);
  else
    snprintf(buf, cap, "%s %s %.17g", w->column, op ? op : "?", w->f64);
}

/* Whether every row of the request matches q's conditions: 0, or
 * SY_EINVAL naming the first condition that excludes a row and its first
 * such row (1-based), or the error of sy_feed_query_apply (a column the
 * request lacks, a value of another type). The conditions are run on a
 * probe frame of the columns they read plus the row numbers, so the
 * semantics are sy_feed_query_apply's own. */
static int request_where(const sy_callable *c, const sy_value *in,
                         const sy_feed_query *q, sy_error *err) {
  size_t rows = sy_frame_rows(in);
  sy_value *probe = NULL;
  int64_t *ids = malloc((rows ? rows : 1) * sizeof *ids);
  char idname[32] = "#row";
  int rc = ids ? sy_frame_new(rows, &probe) : SY_ENOMEM;
  for (size_t i = 0; rc == 0 && i < q->n_where; i++) {
    const char *col = q->where[i].column;
    if (strcmp(col, idname) == 0)
      snprintf(idname, sizeof idname, "#row%zu", i + 1);
    if (sy_frame_col_index(probe, col) >= 0)
      continue;
    int at = sy_frame_col_index(in, col);
    if (at < 0) {
      sy_value_unref(probe);
      free(ids);
      return sy_error_set(err, SY_EINVAL,
                          "the request has no column '%s', which the "
                          "source's where reads (%s): send it",
                          col, sy_program_flow_file(c->prog));
    }
    rc = sy_frame_add_column_from(probe, NULL, in, (size_t)at);
  }
  for (size_t i = 0; rc == 0 && i < rows; i++)
    ids[i] = (int64_t)i;
  if (rc == 0)
    rc = sy_frame_add_i64(probe, idname, ids, NULL);
  free(ids);
  if (rc) {
    sy_value_unref(probe);
    return sy_error_set(err, rc, "out of memory");
  }
  for (size_t i = 0; rc == 0 && i < q->n_where; i++) {
    sy_feed_query one = {sizeof one, NULL, 0, &q->where[i], 1, NULL, 0, -1};
    sy_value *kept = NULL;
    if ((rc = sy_feed_query_apply(probe, &one, &kept, err)) != 0) {
      sy_error_prefix(err, "the request");
      break;
    }
    size_t n = sy_frame_rows(kept);
    if (n < rows) {
      const int64_t *k =
          sy_frame_i64(kept, (size_t)sy_frame_col_index(kept, idname));
      size_t first = 0;
      while (first < n && k[first] == (int64_t)first)
        first++;
      char cond[300];
      cond_text(&q->where[i], cond, sizeof cond);
      rc = sy_error_set(err, SY_EINVAL,
                        "request row %zu does not match the source's where "
                        "(%s, %s): the flow reads no such rows; send only "
                        "rows it would read",
                        first + 1, cond, sy_program_flow_file(c->prog));
    }
    sy_value_unref(kept);
  }
  sy_value_unref(probe);
  return rc;
}

/* The request as apply's feed would give it (see the top): 0 with a new
 * reference in *out, or an error about the request. */
static int request_query(const sy_callable *c, const sy_value *in,
                         sy_value **out, sy_error *err) {
  *out = NULL;
  int with_label =
      !*c->feed_label || sy_frame_col_index(in, c->feed_label) >= 0;
  const sy_feed_query *q = &c->req[with_label];
  int rc = q->n_where ? request_where(c, in, q, err) : 0;
  if (rc)
    return rc;
  if (q->n_columns == 0 && c->query->n_columns > 0)
    /* `columns` names nothing but the label, which the request lacks. */
    return sy_frame_new(sy_frame_rows(in), out)
               ? sy_error_set(err, SY_ENOMEM, "out of memory")
               : 0;
  if (q->n_columns == 0) {
    *out = sy_value_ref((sy_value *)in);
    return 0;
  }
  sy_feed_query cols = {sizeof cols, q->columns, q->n_columns, NULL, 0, NULL,
                        0,           -1};
  rc = sy_feed_query_apply(in, &cols, out, err);
  if (rc)
    sy_error_prefix(err, "the request (the source's columns, %s)",
                    sy_program_flow_file(c->prog));
  return rc;
}

int sy_callable_from_program(sy_platform *p, sy_program *prog,
                             sy_callable **out, sy_error *err) {
  *out = NULL;
  sy_callable *c = calloc(1, sizeof *c);
  if (!c) {
    sy_program_free(prog);
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  }
  c->prog = prog;
  int rc = 0;
  if (sy_program_mode(prog) != SY_MODE_APPLY) {
    rc = sy_error_set(err, SY_EINVAL,
                      "a callable needs a program compiled "
                      "for apply");
    goto fail;
  }
  rc = sy_job_new_unbound(p, c->prog, &c->job, err);
  if (rc)
    goto fail;
  uint32_t n = (uint32_t)sy_job_size(c->job);
  c->n = n;
  c->keep = calloc(n ? n : 1, 1);
  c->run = malloc((n ? n : 1) * sizeof *c->run);
  c->steps = calloc(n ? n : 1, sizeof *c->steps);
  if (!c->keep || !c->run || !c->steps) {
    rc = sy_error_set(err, SY_ENOMEM, "out of memory");
    goto fail;
  }
  c->feed_label = "";
  for (uint32_t s = 0; s < n; s++) {
    step_info *st = &c->steps[s];
    st->op = sy_job_step_op(c->job, s);
    st->n_args = (uint32_t)sy_job_step_inputs(c->job, s, &st->args);
    st->index = sy_job_step_index(c->job, s);
    st->n_outputs = (uint32_t)sy_job_step_outputs(c->job, s);
    st->state_in = sy_job_step_takes_state(c->job, s);
    st->node = sy_job_step_node(c->job, s);
    st->target = sy_job_step_target(c->job, s);
  }
  int have_feed = 0, have_sink = 0;
  for (uint32_t s = 0; s < n; s++) {
    const step_info *in = &c->steps[s];
    switch (in->op) {
    case SY_OP_FEED:
      c->feed = s;
      c->feed_label = sy_job_feed_label(c->job, s);
      have_feed = 1;
      break;
    case SY_OP_LOAD:
      c->keep[s] = 1;
      if ((rc = sy_job_run_step(c->job, s, err)) != 0)
        goto fail;
      break;
    case SY_OP_SINK:
      c->result = in->args[0];
      have_sink = 1;
      break;
    default:
      c->run[c->n_run++] = s;
    }
  }
  if (!have_feed || !have_sink) {
    rc = sy_error_set(err, SY_ESTATE, "%s: nothing to call",
                      sy_program_flow_file(prog));
    goto fail;
  }
  if ((rc = request_query_init(c, err)) != 0)
    goto fail;
  *out = c;
  return 0;
fail:
  sy_callable_free(c);
  return rc;
}

/* ---- the general path ---------------------------------------------- */

static int call_general(sy_callable *c, const sy_value *input,
                        sy_value **output, sy_error *err) {
  sy_job_reset(c->job, c->keep);
  const step_info *feed = &c->steps[c->feed];
  sy_value *outs[2] = {NULL, NULL};
  int rc = 0;
  if (feed->n_outputs == 2)
    rc = sy_frame_split_label(input, c->feed_label, &outs[0], &outs[1], err);
  else
    outs[0] = sy_value_ref((sy_value *)input);
  if (rc == 0)
    rc = sy_job_step_done(c->job, c->feed, outs);
  for (uint32_t i = 0; rc == 0 && i < c->n_run; i++)
    rc = sy_job_run_step(c->job, c->run[i], err);
  if (rc == 0) {
    sy_value *v = sy_job_output(c->job, c->result, 0);
    *output = v ? sy_value_ref(v) : NULL;
    if (!v)
      rc = sy_error_set(err, SY_ESTATE, "the call produced no result");
  }
  return rc;
}

/* ---- the chain path ------------------------------------------------ */

/* Builds the chain plan after a general call, or leaves c->chain NULL
 * when this program or job needs the general path. Returns 0 or
 * SY_ENOMEM. */
static int chain_build(sy_callable *c) {
  const sy_job *job = c->job;
  c->chain_tried = 1;
  if (sy_job_observed(job))
    return 0;
  if (c->steps[c->feed].n_outputs > 2)
    return 0;
  chain_step *plan = calloc(c->n_run ? c->n_run : 1, sizeof *plan);
  if (!plan)
    return SY_ENOMEM;
  for (uint32_t i = 0; i < c->n_run; i++) {
    uint32_t s = c->run[i];
    const step_info *in = &c->steps[s];
    chain_step *st = &plan[i];
    st->step = s;
    st->op = in->op;
    st->n_out = in->n_outputs;
    if (st->n_out > CHAIN_MAX_OUT)
      goto general;
    if (in->op == SY_OP_GET) {
      if (in->n_args != 1 || in->index >= c->steps[in->args[0]].n_outputs)
        goto general;
      st->in = in->args;
      st->index = in->index;
      continue;
    }
    if (in->op != SY_OP_APPLY)
      goto general;
    const sy_actor_ops *ops = NULL;
    void *self = NULL;
    const sy_value *loaded = NULL;
    if (!sy_job_step_bound_actor(job, s, &ops, &self, &loaded))
      goto general;
    uint32_t skip = in->state_in ? 1 : 0;
    if (skip) {
      /* The state must be the kept LOAD value the instance was loaded
       * with, as exec_apply would find it. */
      const sy_value *state = sy_job_output(job, in->args[0], 0);
      if (!c->keep[in->args[0]] || !state || loaded != state)
        goto general;
    }
    if (in->n_args - skip > CHAIN_MAX_IN)
      goto general;
    st->in = in->args + skip;
    st->n_in = in->n_args - skip;
    st->ops = ops;
    st->self = self;
    st->into = SY_ACTOR_HAS_APPLY_INTO(st->ops);
  }
  c->vals = calloc((size_t)c->n * CHAIN_MAX_OUT, sizeof *c->vals);
  if (!c->vals) {
    free(plan);
    return SY_ENOMEM;
  }
  c->chain = plan;
  /* The general call's values are no longer needed (LOADs are kept). */
  sy_job_reset(c->job, c->keep);
  return 0;
general:
  free(plan);
  return 0;
}

/* Puts the request where the feed's outputs would be: the features and
 * the label (an empty frame when the request has no label column, which
 * is what sy_frame_split_label makes, kept across calls of the same
 * rows). */
static int chain_feed(sy_callable *c, const sy_value *input, sy_error *err) {
  const step_info *feed = &c->steps[c->feed];
  sy_value **v = slot(c, c->feed);
  if (feed->n_outputs == 1) {
    v[0] = (sy_value *)input;
    return 0;
  }
  if (sy_frame_col_index(input, c->feed_label) >= 0) {
    int rc = sy_frame_split_label(input, c->feed_label, &c->split[0],
                                  &c->split[1], err);
    v[0] = c->split[0];
    v[1] = c->split[1];
    return rc;
  }
  size_t rows = sy_frame_rows(input);
  if (!c->no_label || sy_frame_rows(c->no_label) != rows) {
    sy_value_unref(c->no_label);
    c->no_label = NULL;
    int rc = sy_frame_new(rows, &c->no_label);
    if (rc)
      return sy_error_set(err, rc, "out of memory");
  }
  v[0] = (sy_value *)input;
  v[1] = c->no_label;
  return 0;
}

static int chain_apply(sy_callable *c, const chain_step *st, sy_error *err) {
  const sy_value *in[CHAIN_MAX_IN];
  for (uint32_t a = 0; a < st->n_in; a++)
    in[a] = slot(c, st->in[a])[0];
  sy_value **out = slot(c, st->step);
  /* Only what the callable alone holds may be rewritten; the rest (a
   * result the caller kept, a value two steps share) is let go. */
  for (uint32_t k = 0; k < st->n_out; k++)
    if (out[k] && (!st->into || !sy_value_exclusive(out[k]))) {
      sy_value_unref(out[k]);
      out[k] = NULL;
    }
  int rc = st->into ? st->ops->apply_into(st->self, in, st->n_in, out, err)
                    : st->ops->apply(st->self, in, st->n_in, out, err);
  for (uint32_t k = 0; rc == 0 && k < st->n_out; k++)
    if (!out[k])
      rc = sy_error_set(err, SY_EPLUGIN, "returned no output %u", k);
  if (rc) {
    for (uint32_t k = 0; k < st->n_out; k++) {
      sy_value_unref(out[k]);
      out[k] = NULL;
    }
    const step_info *ins = &c->steps[st->step];
    sy_error_prefix(err, "%s (%s)", ins->node, ins->target);
    sy_error_prefix(err, "step %u (%s)", st->step,
                    sy_job_step_label(c->job, st->step));
  }
  return rc;
}

static int call_chain(sy_callable *c, const sy_value *input, sy_value **output,
                      sy_error *err) {
  int rc = chain_feed(c, input, err);
  for (uint32_t i = 0; rc == 0 && i < c->n_run; i++) {
    const chain_step *st = &c->chain[i];
    if (st->op == SY_OP_GET)
      slot(c, st->step)[0] = slot(c, st->in[0])[st->index];
    else
      rc = chain_apply(c, st, err);
  }
  if (rc == 0) {
    sy_value *v = slot(c, c->result)[0];
    *output = v ? sy_value_ref(v) : NULL;
    if (!v)
      rc = sy_error_set(err, SY_ESTATE, "the call produced no result");
  }
  /* Borrowed pointers end with the call: the request is the caller's. */
  sy_value **f = slot(c, c->feed);
  f[0] = f[1] = NULL;
  for (uint32_t i = 0; i < c->n_run; i++)
    if (c->chain[i].op == SY_OP_GET)
      slot(c, c->chain[i].step)[0] = NULL;
  sy_value_unref(c->split[0]);
  sy_value_unref(c->split[1]);
  c->split[0] = c->split[1] = NULL;
  return rc;
}

int sy_callable_call(sy_callable *c, const sy_value *input, sy_value **output,
                     sy_error *err) {
  *output = NULL;
  if (!input || sy_value_type_of(input) != SY_VALUE_FRAME)
    return sy_error_set(err, SY_ETYPE, "a call takes a frame");
  sy_value *req = NULL;
  if (c->req_on) {
    int rc = request_query(c, input, &req, err);
    if (rc)
      return rc;
    input = req;
  }
  int rc;
  if (c->chain) {
    rc = call_chain(c, input, output, err);
  } else {
    rc = call_general(c, input, output, err);
    if (rc == 0 && !c->chain_tried && chain_build(c) != 0)
      c->chain_tried = 0; /* out of memory: try again after the next call */
  }
  sy_value_unref(req);
  return rc;
}

/* ---- the row path (sy_row_call) ------------------------------------ */

/* Where a step's output row lies during a row call: the cells of buffer
 * `buf` (0: the request row; i + 1: stage i's output) at idx[0..w), named
 * names[0..w). A selection (SY_ROW_MAP: std.select, std.drop, std.head)
 * only makes a new view; any other kernel reads a view and writes a new
 * buffer. */
typedef struct row_view {
  int ok; /* 0: not a row (the label, a multi-output step) */
  uint32_t buf;
  uint32_t w;
  uint32_t *idx;           /* owned */
  const char **names;      /* owned array; the strings are the request's copies
                              or the actor instances' */
  const char *const **lab; /* owned array: per column, its label table
                              (an FN kernel's, sy_row_kernel) or NULL */
  uint32_t *nlab;          /* owned array: the tables' lengths */
} row_view;

/* What a stage runs: an actor's SCALE, DOT or FN kernel, or FUSED, a
 * standardising SCALE and the DOT that alone reads it, in one loop. */
enum { ST_SCALE, ST_DOT, ST_FN, ST_FUSED };

typedef struct row_stage {
  uint8_t kind;
  uint8_t all_standard; /* SCALE: every column STANDARD */
  uint8_t direct;       /* DOT, FUSED: term j reads column j */
  uint8_t dead;         /* folded into the stage after it */
  uint32_t src;         /* the buffer it reads */
  uint32_t n_gather;
  uint32_t *gather; /* NULL: reads src as it is; else src[gather[k]] */
  double *gbuf;     /* the gathered row */
  double *dst;      /* its output row; NULL: the caller's out */
  uint32_t n;       /* SCALE: columns; DOT, FUSED: terms */
  uint8_t *mode;    /* SCALE */
  double *a, *b;    /* SCALE: per column; DOT: a = weights; FUSED:
                       (x - a) / b, then times w */
  double *w;        /* FUSED */
  uint32_t *idx;    /* DOT, FUSED: the column each term reads */
  double c0;        /* DOT, FUSED */
  sy_row_fn fn;     /* FN */
  const void *ctx;
} row_stage;

typedef struct row_release {
  void (*fn)(void *ctx);
  void *ctx;
} row_release;

struct sy_row_call {
  row_stage *st;
  uint32_t n_stages;
  uint32_t width;         /* of the result row */
  int res_direct;         /* the last stage writes into out */
  const row_stage *fused; /* the one live stage when it is FUSED, reads
                             the request as it is and writes the result */
  uint32_t res_src;       /* else out[j] = buffer(res_src)[res_idx[j]] */
  uint32_t *res_idx;
  const char **res_names;
  const char *const **res_lab; /* per result column: labels or NULL */
  uint32_t *res_nlab;
  char **names; /* the request's column names, copied */
  uint32_t n_names;
  row_release *rel;
  uint32_t n_rel;
};

/* The widest row one kernel may produce. */
#define ROW_CAP 4096u

static void stage_free(row_stage *st) {
  free(st->gather);
  free(st->gbuf);
  free(st->dst);
  free(st->mode);
  free(st->a);
  free(st->b);
  free(st->w);
  free(st->idx);
}

void sy_row_call_free(sy_row_call *r) {
  if (!r)
    return;
  for (uint32_t i = 0; i < r->n_rel; i++)
    r->rel[i].fn(r->rel[i].ctx);
  free(r->rel);
  for (uint32_t i = 0; r->st && i < r->n_stages; i++)
    stage_free(&r->st[i]);
  free(r->st);
  free(r->res_idx);
  free(r->res_names);
  free(r->res_lab);
  free(r->res_nlab);
  for (uint32_t i = 0; r->names && i < r->n_names; i++)
    free(r->names[i]);
  free(r->names);
  free(r);
}

size_t sy_row_call_width(const sy_row_call *r) {
  return r ? r->width : 0;
}

const char *sy_row_call_name(const sy_row_call *r, size_t i) {
  return r && i < r->width ? r->res_names[i] : NULL;
}

const char *const *sy_row_call_labels(const sy_row_call *r, size_t i,
                                      size_t *n) {
  const char *const *lab = r && i < r->width ? r->res_lab[i] : NULL;
  if (n)
    *n = lab ? r->res_nlab[i] : 0;
  return lab;
}

/* The kernels the core runs. Each keeps the operations of the actor's
 * apply, in the same order (sy_row_kernel in actor.h), and the build uses
 * -ffp-contract=off, so no multiply-add is fused and the bits are apply's.
 * The loops over arrays are written so that gcc vectorises them (its
 * default cost model at -O2 does not, for a trip count known only at run
 * time). */
#if defined(__GNUC__) && !defined(__clang__)
#define ROW_VECTORISE                                                          \
  __attribute__((optimize("tree-vectorize", "vect-cost-model=dynamic")))
#else
#define ROW_VECTORISE
#endif

ROW_VECTORISE static void run_scale(const row_stage *st, const double *x,
                                    double *out) {
  const double *a = st->a, *b = st->b;
  if (st->all_standard) {
    for (uint32_t c = 0; c < st->n; c++)
      out[c] = (x[c] - a[c]) / b[c];
    return;
  }
  for (uint32_t c = 0; c < st->n; c++)
    switch (st->mode[c]) {
    case SY_ROW_PASS:
      out[c] = x[c];
      break;
    case SY_ROW_CENTER:
      out[c] = x[c] - a[c];
      break;
    case SY_ROW_STANDARD:
      out[c] = (x[c] - a[c]) / b[c];
      break;
    default:
      out[c] = 0.0;
    }
}

static double run_dot(const row_stage *st, const double *x) {
  double s = st->c0;
  if (st->direct)
    for (uint32_t j = 0; j < st->n; j++)
      s += st->a[j] * x[j];
  else
    for (uint32_t j = 0; j < st->n; j++)
      s += st->a[j] * x[st->idx[j]];
  return s;
}

ROW_VECTORISE static double run_fused(const row_stage *st, const double *x) {
  const double *a = st->a, *b = st->b, *w = st->w;
  double s = st->c0;
  if (st->direct)
    for (uint32_t j = 0; j < st->n; j++)
      s += w[j] * ((x[j] - a[j]) / b[j]);
  else
    for (uint32_t j = 0; j < st->n; j++)
      s += w[j] * ((x[st->idx[j]] - a[j]) / b[j]);
  return s;
}

__attribute__((noinline)) static void
run_stages(const sy_row_call *r, const double *in, double *out) {
  for (uint32_t i = 0; i < r->n_stages; i++) {
    const row_stage *st = &r->st[i];
    if (st->dead)
      continue;
    const double *src = st->src ? r->st[st->src - 1].dst : in;
    if (st->gather) {
      for (uint32_t k = 0; k < st->n_gather; k++)
        st->gbuf[k] = src[st->gather[k]];
      src = st->gbuf;
    }
    double *dst = st->dst ? st->dst : out;
    switch (st->kind) {
    case ST_FUSED:
      dst[0] = run_fused(st, src);
      break;
    case ST_SCALE:
      run_scale(st, src, dst);
      break;
    case ST_DOT:
      dst[0] = run_dot(st, src);
      break;
    default:
      st->fn(st->ctx, src, dst);
    }
  }
  if (!r->res_direct) {
    const double *src = r->res_src ? r->st[r->res_src - 1].dst : in;
    for (uint32_t j = 0; j < r->width; j++)
      out[j] = src[r->res_idx[j]];
  }
}

/* Kept small, so that the common case (the whole flow one fused loop over
 * the request: select -> scaler -> linreg -> head, say) pays no more than
 * the loop itself. */
ROW_VECTORISE void sy_row_call_run(sy_row_call *r, const double *in,
                                   double *out) {
  if (r->fused)
    out[0] = run_fused(r->fused, in);
  else
    run_stages(r, in, out);
}

static int row_view_set(row_view *v, uint32_t buf, uint32_t w) {
  v->ok = 1;
  v->buf = buf;
  v->w = w;
  v->idx = malloc((w ? w : 1) * sizeof *v->idx);
  v->names = malloc((w ? w : 1) * sizeof *v->names);
  v->lab = calloc(w ? w : 1, sizeof *v->lab);
  v->nlab = calloc(w ? w : 1, sizeof *v->nlab);
  return v->idx && v->names && v->lab && v->nlab ? 0 : SY_ENOMEM;
}

static void row_view_clear(row_view *v) {
  free(v->idx);
  free(v->names);
  free(v->lab);
  free(v->nlab);
}

/* The first label column of v, or -1. */
static int row_view_label(const row_view *v) {
  for (uint32_t j = 0; j < v->w; j++)
    if (v->lab[j])
      return (int)j;
  return -1;
}

static void *dup_array(const void *p, size_t n, size_t size) {
  void *q = malloc(n ? n * size : 1);
  if (q && n)
    memcpy(q, p, n * size);
  return q;
}

/* Scratch for one prepare_row: room for every array of sy_row_kernel. */
typedef struct row_room {
  const char **names;
  uint32_t *map;
  uint8_t *mode;
  double *a, *b;
  const char *const **labels;
  uint32_t *n_labels;
} row_room;

/* Checks what prepare_row returned: SY_EPLUGIN when it cannot be run. */
static int kernel_sane(const sy_row_kernel *k, uint32_t n_in) {
  if (k->n_out > ROW_CAP)
    return 0;
  for (uint32_t j = 0; j < k->n_out; j++) {
    if (!k->out_names[j])
      return 0;
    /* Labels: an FN kernel's, each a table of at least one string. */
    if (k->labels[j]) {
      if (k->kind != SY_ROW_FN || k->n_labels[j] == 0)
        return 0;
      for (uint32_t i = 0; i < k->n_labels[j]; i++)
        if (!k->labels[j][i])
          return 0;
    }
  }
  switch (k->kind) {
  case SY_ROW_MAP:
    for (uint32_t j = 0; j < k->n_out; j++)
      if (k->map[j] >= n_in)
        return 0;
    return 1;
  case SY_ROW_SCALE:
    for (uint32_t c = 0; c < n_in; c++)
      if (k->mode[c] > SY_ROW_ZERO)
        return 0;
    return k->n_out == n_in;
  case SY_ROW_DOT:
    if (k->n_out != 1 || k->n_terms > ROW_CAP)
      return 0;
    for (uint32_t j = 0; j < k->n_terms; j++)
      if (k->map[j] >= n_in)
        return 0;
    return 1;
  case SY_ROW_FN:
    return k->fn != NULL;
  default:
    return 0;
  }
}

/* Copies a SCALE, DOT or FN kernel into stage st. */
static int stage_take(row_stage *st, const sy_row_kernel *k) {
  switch (k->kind) {
  case SY_ROW_SCALE:
    st->kind = ST_SCALE;
    st->n = k->n_in;
    st->all_standard = 1;
    for (uint32_t c = 0; c < st->n; c++)
      st->all_standard &= k->mode[c] == SY_ROW_STANDARD;
    st->mode = dup_array(k->mode, st->n, 1);
    st->a = dup_array(k->a, st->n, sizeof(double));
    st->b = dup_array(k->b, st->n, sizeof(double));
    return st->mode && st->a && st->b ? 0 : SY_ENOMEM;
  case SY_ROW_DOT:
    st->kind = ST_DOT;
    st->n = k->n_terms;
    st->c0 = k->c0;
    st->direct = 1;
    for (uint32_t j = 0; j < st->n; j++)
      st->direct &= k->map[j] == j;
    st->a = dup_array(k->a, st->n, sizeof(double));
    st->idx = dup_array(k->map, st->n, sizeof(uint32_t));
    return st->a && st->idx ? 0 : SY_ENOMEM;
  default:
    st->kind = ST_FN;
    st->fn = k->fn;
    st->ctx = k->ctx;
    return 0;
  }
}

/* One APPLY step: asks its actor for a kernel over the view it reads and
 * makes the step's view (and a stage, unless the kernel is a map). */
static int row_bind_step(sy_callable *c, sy_row_call *r, row_view *views,
                         uint32_t **widths, uint32_t s, const row_room *room,
                         unsigned flags, sy_error *err) {
  const step_info *ins = &c->steps[s];
  uint32_t skip = ins->state_in ? 1 : 0;
  if (ins->n_args - skip != 1 || ins->n_outputs != 1)
    return sy_error_set(err, SY_ENOTSUP,
                        "takes %u inputs and makes %u outputs; the row path "
                        "runs one-input, one-output actors only",
                        ins->n_args - skip, ins->n_outputs);
  const row_view *v = &views[ins->args[skip]];
  if (!v->ok)
    return sy_error_set(err, SY_ENOTSUP,
                        "reads an output that is not a row of numbers");
  const sy_value *state = skip ? sy_job_output(c->job, ins->args[0], 0) : NULL;
  const sy_actor_ops *ops = NULL;
  void *self = NULL;
  int rc = sy_job_step_actor(c->job, s, state, &ops, &self, err);
  if (rc)
    return rc;
  if (!SY_ACTOR_HAS_PREPARE_ROW(ops))
    return sy_error_set(err, SY_ENOTSUP,
                        "%s has no row kernel (prepare_row); serve this flow "
                        "with sy_callable_call",
                        ins->target);
  if ((flags & SY_ROW_BATCH) && !(ops->flags & SY_ACTOR_ROW_WISE))
    return sy_error_set(err, SY_ENOTSUP,
                        "%s is not row-wise (SY_ACTOR_ROW_WISE): a batch "
                        "must take sy_callable_call",
                        ins->target);
  sy_row_kernel k = {.size = sizeof k,
                     .n_in = v->w,
                     .in_names = v->names,
                     .cap = ROW_CAP,
                     .out_names = room->names,
                     .kind = SY_ROW_MAP,
                     .map = room->map,
                     .mode = room->mode,
                     .a = room->a,
                     .b = room->b,
                     .labels = room->labels,
                     .n_labels = room->n_labels};
  memset(room->labels, 0, ROW_CAP * sizeof *room->labels);
  memset(room->n_labels, 0, ROW_CAP * sizeof *room->n_labels);
  if ((rc = ops->prepare_row(self, &k, err)) != 0) {
    sy_error_prefix(err, "%s (%s)", ins->node, ins->target);
    return rc < 0 ? rc : SY_EPLUGIN;
  }
  if (k.kind == SY_ROW_FN && k.release) {
    row_release *rel = realloc(r->rel, (r->n_rel + 1) * sizeof *rel);
    if (!rel) {
      k.release(k.ctx);
      return sy_error_set(err, SY_ENOMEM, "out of memory");
    }
    r->rel = rel;
    r->rel[r->n_rel++] = (row_release){k.release, k.ctx};
  }
  if (!kernel_sane(&k, v->w))
    return sy_error_set(err, SY_EPLUGIN,
                        "%s: prepare_row returned a bad kernel", ins->target);
  /* A selection passes labels on; any other kernel would compute on a
   * class's index as if it were a number. */
  int lab = row_view_label(v);
  if (lab >= 0 && k.kind != SY_ROW_MAP)
    return sy_error_set(err, SY_ENOTSUP,
                        "reads the label column '%s' (a class, not a number); "
                        "select the numbers first or use sy_callable_call",
                        v->names[lab]);
  row_view *o = &views[s];
  if (k.kind == SY_ROW_MAP) {
    if (row_view_set(o, v->buf, k.n_out))
      return sy_error_set(err, SY_ENOMEM, "out of memory");
    for (uint32_t j = 0; j < k.n_out; j++) {
      o->idx[j] = v->idx[k.map[j]];
      o->names[j] = k.out_names[j];
      o->lab[j] = v->lab[k.map[j]];
      o->nlab[j] = v->nlab[k.map[j]];
    }
    return 0;
  }
  row_stage *st = realloc(r->st, (r->n_stages + 1) * sizeof *st);
  uint32_t *w = realloc(*widths, (r->n_stages + 2) * sizeof *w);
  if (st)
    r->st = st;
  if (w)
    *widths = w;
  if (!st || !w)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  st = &r->st[r->n_stages];
  memset(st, 0, sizeof *st);
  r->n_stages++;
  st->src = v->buf;
  int identity = v->w == (*widths)[v->buf];
  for (uint32_t j = 0; identity && j < v->w; j++)
    identity = v->idx[j] == j;
  if (!identity) {
    st->n_gather = v->w;
    st->gather = dup_array(v->idx, v->w, sizeof *v->idx);
    st->gbuf = malloc((v->w ? v->w : 1) * sizeof *st->gbuf);
    if (!st->gather || !st->gbuf)
      return sy_error_set(err, SY_ENOMEM, "out of memory");
  }
  st->dst = malloc((k.n_out ? k.n_out : 1) * sizeof *st->dst);
  (*widths)[r->n_stages] = k.n_out;
  if (stage_take(st, &k) || !st->dst || row_view_set(o, r->n_stages, k.n_out))
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  for (uint32_t j = 0; j < k.n_out; j++) {
    o->idx[j] = j;
    o->names[j] = k.out_names[j];
    o->lab[j] = k.labels[j];
    o->nlab[j] = k.n_labels[j];
  }
  return 0;
}

/* Folds a standardising SCALE into the DOT that is the only reader of its
 * output: term j then reads the SCALE's input and computes
 * w * ((x - a) / b), the same operations the two stages did apart. */
static int row_fuse(sy_row_call *r) {
  for (uint32_t d = 0; d < r->n_stages; d++) {
    row_stage *dot = &r->st[d];
    if (dot->kind != ST_DOT || dot->gather || dot->src == 0)
      continue;
    uint32_t si = dot->src - 1;
    row_stage *sc = &r->st[si];
    if (sc->kind != ST_SCALE || !sc->all_standard || sc->dead)
      continue;
    /* Nobody else may read the SCALE's output. */
    int alone = r->res_direct || r->res_src != dot->src;
    for (uint32_t i = 0; alone && i < r->n_stages; i++)
      alone = i == d || r->st[i].dead || r->st[i].src != dot->src;
    if (!alone)
      continue;
    double *a = malloc((dot->n ? dot->n : 1) * sizeof *a);
    double *b = malloc((dot->n ? dot->n : 1) * sizeof *b);
    uint32_t *idx = malloc((dot->n ? dot->n : 1) * sizeof *idx);
    if (!a || !b || !idx) {
      free(a);
      free(b);
      free(idx);
      return SY_ENOMEM;
    }
    int direct = 1;
    for (uint32_t j = 0; j < dot->n; j++) {
      uint32_t col = dot->idx[j]; /* a column of the SCALE's row */
      a[j] = sc->a[col];
      b[j] = sc->b[col];
      idx[j] = sc->gather ? sc->gather[col] : col;
      direct &= idx[j] == j;
    }
    /* The DOT now reads what the SCALE read; the SCALE's gather, if it
     * had one, is folded into idx. */
    dot->kind = ST_FUSED;
    dot->w = dot->a;
    dot->a = a;
    dot->b = b;
    free(dot->idx);
    dot->idx = idx;
    dot->direct = (uint8_t)direct;
    dot->src = sc->src;
    sc->dead = 1;
  }
  return 0;
}

int sy_callable_bind_row(sy_callable *c, const char *const *names, size_t n,
                         sy_row_call **out, sy_error *err) {
  return sy_callable_bind_row_flags(c, names, n, 0, out, err);
}

int sy_callable_bind_row_flags(sy_callable *c, const char *const *names,
                               size_t n, unsigned flags, sy_row_call **out,
                               sy_error *err) {
  *out = NULL;
  if (flags & ~(unsigned)(SY_ROW_LABELS | SY_ROW_BATCH))
    return sy_error_set(err, SY_EINVAL,
                        "unknown row-call flags 0x%x (this core knows "
                        "SY_ROW_LABELS and SY_ROW_BATCH)",
                        flags);
  if (n > ROW_CAP)
    return sy_error_set(err, SY_ETOOBIG,
                        "a row of %zu columns is too wide "
                        "(at most %u)",
                        n, ROW_CAP);
  for (size_t i = 0; i < n; i++) {
    if (!names[i] || !*names[i])
      return sy_error_set(err, SY_EINVAL, "column %zu has no name", i);
    for (size_t j = 0; j < i; j++)
      if (strcmp(names[i], names[j]) == 0)
        return sy_error_set(err, SY_EINVAL, "column '%s' is given twice",
                            names[i]);
  }
  if (c->req_on) {
    /* A row skips sy_callable_call, and so the source's pushdown: only
     * rows that are exactly its columns (less the label) in its order,
     * with no condition to check, may take this path. */
    const sy_feed_query *q = &c->req[0];
    int same = q->n_where == 0 && c->req[1].n_where == 0 && q->n_columns == n;
    for (size_t i = 0; same && i < n; i++)
      same = strcmp(q->columns[i], names[i]) == 0;
    if (!same)
      return sy_error_set(err, SY_ENOTSUP,
                          "the source's where or columns apply to each "
                          "request: use sy_callable_call");
  }
  const step_info *feed = &c->steps[c->feed];
  sy_row_call *r = calloc(1, sizeof *r);
  row_view *views = calloc(c->n ? c->n : 1, sizeof *views);
  uint32_t *widths = malloc(sizeof *widths);
  row_room room = {malloc(ROW_CAP * sizeof *room.names),
                   malloc(ROW_CAP * sizeof *room.map),
                   malloc(ROW_CAP),
                   malloc(ROW_CAP * sizeof *room.a),
                   malloc(ROW_CAP * sizeof *room.b),
                   malloc(ROW_CAP * sizeof *room.labels),
                   malloc(ROW_CAP * sizeof *room.n_labels)};
  int rc = 0;
  if (!r || !views || !widths || !room.names || !room.map || !room.mode ||
      !room.a || !room.b || !room.labels || !room.n_labels ||
      !(r->names = calloc(n ? n : 1, sizeof *r->names))) {
    rc = sy_error_set(err, SY_ENOMEM, "out of memory");
    goto done;
  }
  r->n_names = (uint32_t)n;
  for (size_t i = 0; i < n; i++)
    if (!(r->names[i] = strdup(names[i]))) {
      rc = sy_error_set(err, SY_ENOMEM, "out of memory");
      goto done;
    }
  widths[0] = (uint32_t)n;
  /* The features: every request column but the label. */
  if (feed->n_outputs > 2) {
    rc = sy_error_set(err, SY_ENOTSUP, "the feed makes %u outputs",
                      feed->n_outputs);
    goto done;
  }
  row_view *fv = &views[c->feed];
  if (row_view_set(fv, 0, (uint32_t)n)) {
    rc = sy_error_set(err, SY_ENOMEM, "out of memory");
    goto done;
  }
  fv->w = 0;
  for (uint32_t i = 0; i < (uint32_t)n; i++)
    if (feed->n_outputs == 1 || strcmp(r->names[i], c->feed_label) != 0) {
      fv->idx[fv->w] = i;
      fv->names[fv->w++] = r->names[i];
    }
  for (uint32_t i = 0; rc == 0 && i < c->n_run; i++) {
    uint32_t s = c->run[i];
    const step_info *ins = &c->steps[s];
    if (ins->op == SY_OP_GET) {
      /* Output 0 of the feed is the features; anything else (the label,
       * one of several outputs) is not a row this path can carry. */
      const row_view *v = &views[ins->args[0]];
      if (ins->n_args == 1 && ins->index == 0 &&
          (ins->args[0] == c->feed || c->steps[ins->args[0]].n_outputs == 1) &&
          v->ok) {
        if (row_view_set(&views[s], v->buf, v->w)) {
          rc = sy_error_set(err, SY_ENOMEM, "out of memory");
          break;
        }
        memcpy(views[s].idx, v->idx, v->w * sizeof *v->idx);
        memcpy(views[s].names, v->names, v->w * sizeof *v->names);
        memcpy(views[s].lab, v->lab, v->w * sizeof *v->lab);
        memcpy(views[s].nlab, v->nlab, v->w * sizeof *v->nlab);
      }
      continue;
    }
    if (ins->op != SY_OP_APPLY) {
      rc = sy_error_set(err, SY_ENOTSUP, "step %u (%s) is not an apply step", s,
                        sy_job_step_label(c->job, s));
      break;
    }
    rc = row_bind_step(c, r, views, &widths, s, &room, flags, err);
    if (rc)
      sy_error_prefix(err, "step %u (%s)", s, sy_job_step_label(c->job, s));
  }
  if (rc)
    goto done;
  const row_view *res = &views[c->result];
  if (!res->ok) {
    rc = sy_error_set(err, SY_ENOTSUP, "the result is not a row of numbers");
    goto done;
  }
  int lab = row_view_label(res);
  if (lab >= 0 && !(flags & SY_ROW_LABELS)) {
    rc = sy_error_set(err, SY_ENOTSUP,
                      "result column '%s' is a label (text), not a number: "
                      "bind with SY_ROW_LABELS or use sy_callable_call",
                      res->names[lab]);
    goto done;
  }
  r->width = res->w;
  r->res_src = res->buf;
  r->res_idx = dup_array(res->idx, res->w, sizeof *res->idx);
  r->res_names = dup_array(res->names, res->w, sizeof *res->names);
  r->res_lab = dup_array(res->lab, res->w, sizeof *res->lab);
  r->res_nlab = dup_array(res->nlab, res->w, sizeof *res->nlab);
  if (!r->res_idx || !r->res_names || !r->res_lab || !r->res_nlab) {
    rc = sy_error_set(err, SY_ENOMEM, "out of memory");
    goto done;
  }
  /* When the result is the last kernel's whole row, that kernel writes
   * straight into the caller's array. */
  int identity =
      r->n_stages && res->buf == r->n_stages && res->w == widths[res->buf];
  for (uint32_t j = 0; identity && j < res->w; j++)
    identity = res->idx[j] == j;
  if (identity) {
    r->res_direct = 1;
    free(r->st[r->n_stages - 1].dst);
    r->st[r->n_stages - 1].dst = NULL;
  }
  if (row_fuse(r)) {
    rc = sy_error_set(err, SY_ENOMEM, "out of memory");
    goto done;
  }
  uint32_t live = 0;
  for (uint32_t i = 0; i < r->n_stages; i++)
    live += !r->st[i].dead;
  const row_stage *last = r->n_stages ? &r->st[r->n_stages - 1] : NULL;
  if (live == 1 && last->kind == ST_FUSED && last->src == 0 && !last->gather &&
      r->res_direct)
    r->fused = last;
  *out = r;
  r = NULL;
done:
  for (uint32_t s = 0; views && s < c->n; s++)
    row_view_clear(&views[s]);
  free(views);
  free(widths);
  free(room.names);
  free(room.map);
  free(room.mode);
  free(room.a);
  free(room.b);
  free(room.labels);
  free(room.n_labels);
  sy_row_call_free(r);
  return rc;
}
