/*
 * executor.c - the step executor: what each instruction means, and
 * running one step of a job in this process.
 *
 * sy_step_execute() is the one place where an instruction's meaning lives
 * (docs/lifecycle.md); runners only decide the order. It reads nothing but
 * its arguments and the job's instances, and changes no job state other
 * than the per-step actor cache, so a runner may call it in a forked child
 * and hand the outputs back with sy_job_step_done(). Making the job and
 * its tables is job.c's.
 */
#include "bundle.h"
#include "job.h"
#include "query.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

/* ---- actors --------------------------------------------------------- */

void sy__actor_free(actor_slot *a) {
  if (!a)
    return;
  if (a->self && a->provider->destroy)
    a->provider->destroy(a->self);
  sy_value_unref(a->state);
  sy__pool_release(&a->pool);
  free(a->config);
  free(a);
}

/* The file a catalog provider was loaded from, or NULL (built in). Only
 * for an error message: a scan of the catalog. */
static const char *provider_file(const sy_catalog *cat, const sy_provider *pr) {
  for (size_t i = 0; i < sy_catalog_count(cat); i++) {
    const char *file = NULL;
    if (sy_catalog_at(cat, i, &file, NULL) == pr)
      return file;
  }
  return NULL;
}

/* The refusal to run an actor whose plugin changed since the program was
 * compiled: its results would be stored under keys that name the old
 * code, and served as the old code's to every later reader. */
static int stale_code_error(const sy_job *job, const sy_instr *in,
                            const sy_provider *pr, sy_error *err) {
  const sy_program *prog = job->prog;
  const char *file = provider_file(sy_platform_catalog(job->platform), pr);
  const char *flow = prog->flow_file[0] ? prog->flow_file : "FLOW";
  if (!file)
    return sy_error_set(err, SY_ESTATE,
                        "%s (%s): the program was compiled against a plugin "
                        "file of %s %s, but this process has it built in: "
                        "other code than the program's keys name; "
                        "recompile the flow: switchyard compile %s -o "
                        "PROGRAM",
                        in->node, in->target, in->target, pr->version, flow);
  return sy_error_set(err, SY_ESTATE,
                      "%s (%s): plugin %s changed since the program was "
                      "compiled (same version %s, other code): its results "
                      "would be stored under the old code's keys; "
                      "recompile the flow: switchyard compile %s -o PROGRAM",
                      in->node, in->target, file, pr->version, flow);
}

/* Makes an actor instance from the instruction's parameters. */
static int actor_new(const sy_job *job, const sy_instr *in, actor_slot **out,
                     sy_error *err) {
  const sy_catalog *cat = sy_platform_catalog(job->platform);
  const sy_provider *pr = sy_catalog_find(cat, SY_KIND_ACTOR, in->target);
  if (!pr)
    return sy_error_set(err, SY_ENOENT,
                        "%s: no actor '%s' is loaded; try: switchyard "
                        "providers list",
                        in->node, in->target);
  if (strcmp(pr->version, in->version) != 0)
    return sy_error_set(err, SY_ESTATE,
                        "%s: actor %s is version %s here but the program was "
                        "compiled with %s; recompile the flow",
                        in->node, in->target, pr->version, in->version);
  for (uint32_t i = 0; i < job->n_stale_code; i++)
    if (strcmp(job->stale_code[i]->target, in->target) == 0)
      return stale_code_error(job, in, pr, err);
  actor_slot *a = calloc(1, sizeof *a);
  int rc = 0;
  if (!a || !(a->config = calloc(1, pr->config_size ? pr->config_size : 1))) {
    free(a);
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  }
  a->provider = pr;
  for (uint32_t p = 0; p < in->n_params && rc == 0; p++)
    if (!sy__opt_find(pr->options, in->params[p].key))
      rc = sy_error_set(err, SY_ECONFIG, "%s: %s has no parameter '%s'",
                        in->node, in->target, in->params[p].key);
  for (const sy_option *o = pr->options; rc == 0 && o && o->name; o++) {
    const char *text = o->def;
    for (uint32_t p = 0; p < in->n_params; p++)
      if (strcmp(in->params[p].key, o->name) == 0)
        text = in->params[p].text;
    if (!text) {
      if (o->flags & SY_OPT_REQUIRED)
        rc = sy_error_set(err, SY_ECONFIG, "%s: parameter '%s' is required",
                          in->node, o->name);
      continue;
    }
    rc = sy__opt_parse(o, text, a->config, &a->pool, err);
    if (rc)
      sy_error_prefix(err, "%s: parameter %s", in->node, o->name);
  }
  if (rc == 0 && pr->create) {
    rc = pr->create(a->config, &a->self, err);
    if (rc)
      sy_error_prefix(err, "%s (%s)", in->node, in->target);
  }
  if (rc) {
    a->self = NULL;
    sy__actor_free(a);
    return rc;
  }
  *out = a;
  return 0;
}

static const sy_actor_ops *actor_ops(const actor_slot *a) {
  return a->provider->ops;
}

/* ---- frames --------------------------------------------------------- */

/* Splits a table into features (every column but the label) and the
 * label (that column alone; no column when the table lacks it). */
int sy__split_label(const sy_value *table, const char *label,
                    sy_value **features, sy_value **lab, sy_error *err) {
  *features = *lab = NULL;
  if (sy_value_type_of(table) != SY_VALUE_FRAME)
    return sy_error_set(err, SY_ETYPE, "the feed returned bytes, not a table");
  size_t rows = sy_frame_rows(table), cols = sy_frame_cols(table);
  int li = sy_frame_col_index(table, label);
  if (li < 0) {
    /* No label column (apply on new data): the table is the features. */
    int rc = sy_frame_new(rows, lab);
    if (rc)
      return sy_error_set(err, rc, "out of memory");
    *features = sy_value_ref((sy_value *)table);
    return 0;
  }
  int rc = sy_frame_new(rows, features);
  if (rc == 0)
    rc = sy_frame_new(rows, lab);
  for (size_t c = 0; rc == 0 && c < cols; c++)
    rc = sy_frame_add_column_from((int)c == li ? *lab : *features, NULL, table,
                                  c);
  if (rc) {
    sy_value_unref(*features);
    sy_value_unref(*lab);
    *features = *lab = NULL;
    return sy_error_set(err, rc, "cannot split the label column: %s",
                        sy_strerror(rc));
  }
  return 0;
}

/* ---- the executor --------------------------------------------------- */

static int exec_feed(sy_job *job, size_t s, sy_value **out, sy_error *err) {
  const sy_instr *in = &job->prog->code[s];
  sy_instance *inst = job->feeds[s];
  const sy_feed_ops *ops = sy_instance_provider(inst)->ops;
  sy_value *table = NULL;
  int rc;
  const char *pushdown = NULL;
  for (uint32_t p = 0; p < in->n_params; p++)
    if (strcmp(in->params[p].key, SY__PUSHDOWN_PARAM) == 0)
      pushdown = in->params[p].text;
  if (pushdown) {
    /* The feed pushes the query down when it can; otherwise the whole
     * table is read and the query applied here, so that every feed gives
     * the same rows. */
    sy__query q;
    if ((rc = sy__query_decode(pushdown, &q, err)) != 0)
      return rc;
    if (SY_FEED_HAS_QUERY(ops)) {
      rc = ops->query(sy_instance_self(inst), in->table, &q.q, &table, err);
    } else if ((rc = ops->read(sy_instance_self(inst), in->table, &table,
                               err)) == 0) {
      sy_value *all = table;
      table = NULL;
      rc = sy_feed_query_apply(all, &q.q, &table, err);
      sy_value_unref(all);
      if (rc)
        sy_error_prefix(err, "table '%s'", in->table);
    }
    sy__query_free(&q);
  } else {
    rc = ops->read(sy_instance_self(inst), in->table, &table, err);
  }
  if (rc) {
    sy_error_prefix(err, "feed.%s", in->target);
    return rc;
  }
  if (!table)
    return sy_error_set(err, SY_EPLUGIN, "feed.%s returned no value",
                        in->target);
  if (in->n_outputs == 1) {
    out[0] = table;
    return 0;
  }
  rc = sy__split_label(table, in->label, &out[0], &out[1], err);
  sy_value_unref(table);
  return rc;
}

int sy__job_actor(sy_job *job, size_t s, const sy_value *state,
                  actor_slot **out, sy_error *err) {
  const sy_instr *in = &job->prog->code[s];
  /* The group is looked at first: a grouped step never reads its own
   * actors[] entry, whose pages then stay untouched (a page fault costs
   * more than a thousand empty steps on some virtual machines). */
  actor_slot *a = NULL;
  int rc = 0;
  if (job->actor_group[s] != UINT32_MAX) {
    struct sy__actor_group *g = &job->groups[job->actor_group[s]];
    a = atomic_load_explicit(&g->slot, memory_order_acquire);
    if (!a) {
      pthread_mutex_lock(&g->lock);
      a = atomic_load_explicit(&g->slot, memory_order_relaxed);
      if (!a && (rc = actor_new(job, in, &a, err)) == 0)
        atomic_store_explicit(&g->slot, a, memory_order_release);
      pthread_mutex_unlock(&g->lock);
      if (rc)
        return rc;
    }
  } else if (!(a = job->actors[s])) {
    if ((rc = actor_new(job, in, &a, err)) != 0)
      return rc;
    job->actors[s] = a;
  }
  const sy_actor_ops *ops = actor_ops(a);
  if (state && a->state != state) {
    if (!ops->state_load)
      return sy_error_set(err, SY_EPLUGIN, "%s: %s cannot load a state",
                          in->node, in->target);
    if ((rc = ops->state_load(a->self, state, err)) != 0) {
      sy_error_prefix(err, "%s (%s): loading state", in->node, in->target);
      sy_value_unref(a->state);
      a->state = NULL;
      return rc;
    }
    sy_value_unref(a->state);
    a->state = sy_value_ref((sy_value *)state);
  }
  *out = a;
  return 0;
}

static int exec_apply(sy_job *job, size_t s, const sy_value *const *vin,
                      size_t n_in, sy_value **out, sy_error *err) {
  const sy_instr *in = &job->prog->code[s];
  const sy_value *state = NULL;
  if (in->flags & SY_INSTR_STATE_IN) {
    state = vin[0];
    vin++;
    n_in--;
  }
  actor_slot *a = NULL;
  int rc = sy__job_actor(job, s, state, &a, err);
  if (rc)
    return rc;
  const sy_actor_ops *ops = actor_ops(a);
  for (uint32_t k = 0; k < in->n_outputs; k++)
    out[k] = NULL;
  rc = ops->apply(a->self, vin, n_in, out, err);
  for (uint32_t k = 0; rc == 0 && k < in->n_outputs; k++)
    if (!out[k])
      rc = sy_error_set(err, SY_EPLUGIN, "returned no output %u", k);
  if (rc) {
    for (uint32_t k = 0; k < in->n_outputs; k++) {
      sy_value_unref(out[k]);
      out[k] = NULL;
    }
    sy_error_prefix(err, "%s (%s)", in->node, in->target);
  }
  return rc;
}

static int exec_train(sy_job *job, size_t s, const sy_value *const *vin,
                      size_t n_in, sy_value **out, sy_error *err) {
  const sy_instr *in = &job->prog->code[s];
  const sy_value *label = NULL;
  if (in->flags & SY_INSTR_LABEL) {
    label = vin[n_in - 1];
    n_in--;
    if (sy_value_type_of(label) != SY_VALUE_FRAME || sy_frame_cols(label) == 0)
      return sy_error_set(err, SY_EINVAL,
                          "%s (%s): the source table has no label column; "
                          "check source.label",
                          in->node, in->target);
  }
  const sy_value *from = NULL;
  if (in->flags & SY_INSTR_STATE_IN) {
    from = vin[0];
    vin++;
    n_in--;
  }
  actor_slot *a = NULL;
  int rc = actor_new(job, in, &a, err);
  if (rc)
    return rc;
  const sy_actor_ops *ops = actor_ops(a);
  if (from && ops->state_load &&
      (rc = ops->state_load(a->self, from, err)) != 0) {
    sy_error_prefix(err, "%s (%s): loading the earlier state", in->node,
                    in->target);
    sy__actor_free(a);
    return rc;
  }
  if (!ops->train || !ops->state_save) {
    rc = sy_error_set(err, SY_EPLUGIN, "%s: %s declares state but cannot train",
                      in->node, in->target);
  } else if ((rc = ops->train(a->self, vin, n_in, label, err)) == 0) {
    out[0] = NULL;
    rc = ops->state_save(a->self, &out[0], err);
    if (rc == 0 && !out[0])
      rc = sy_error_set(err, SY_EPLUGIN, "saved no state");
  }
  if (rc)
    sy_error_prefix(err, "%s (%s): train", in->node, in->target);
  sy__actor_free(a);
  return rc;
}

static int exec_load(sy_job *job, size_t s, sy_value **out, sy_error *err) {
  const sy_instr *in = &job->prog->code[s];
  for (size_t i = 0; i < job->n_states; i++) {
    const sy_bundle_entry *e = &job->states[i];
    if (strcmp(e->node, in->node) != 0)
      continue;
    if (strcmp(e->actor, in->target) != 0 ||
        strcmp(e->version, in->version) != 0)
      return sy_error_set(err, SY_ESTATE,
                          "%s: the state was trained by %s %s, the flow "
                          "uses %s %s; train again",
                          in->node, e->actor, e->version, in->target,
                          in->version);
    out[0] = sy_value_ref(e->state);
    return 0;
  }
  return sy_error_set(err, SY_ENOENT,
                      "%s: no trained state for this actor in %s; train "
                      "again",
                      in->node, job->prog->state_file);
}

static int exec_dump(sy_job *job, size_t s, const sy_value *const *vin,
                     size_t n_in, sy_value **out, sy_error *err) {
  const sy_instr *in = &job->prog->code[s];
  sy_bundle_entry *e = calloc(n_in ? n_in : 1, sizeof *e);
  if (!e)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  for (size_t i = 0; i < n_in; i++) {
    const sy_instr *src = &job->prog->code[in->args[i]];
    e[i].node = src->node;
    e[i].actor = src->target;
    e[i].version = src->version;
    e[i].state = (sy_value *)vin[i];
  }
  int rc = sy__bundle_encode(e, n_in, &out[0], err);
  free(e); /* the entries only borrowed */
  return rc;
}

static int exec_commit(sy_job *job, const sy_value *bundle, sy_value **out,
                       sy_error *err) {
  if (job->state_file) {
    size_t len = 0;
    const void *data = sy_bytes_data(bundle, &len);
    int rc = sy__write_file_atomic(job->state_file, data, len, err);
    if (rc)
      return rc;
  }
  if (job->prog->commit_to[0]) {
    int rc = sy__registry_commit(job, bundle, err);
    if (rc)
      return rc;
  }
  out[0] = sy_value_ref((sy_value *)bundle);
  return 0;
}

/* The sink's `passthrough` list (an SY_OPT_LIST option of that name in
 * its provider's table), or NULL. */
static const char *const *sink_passthrough(const sy_instance *inst) {
  const sy_provider *prov = sy_instance_provider(inst);
  const sy_option *o = sy_option_find(prov->options, "passthrough");
  const char *cfg = sy_instance_config(inst);
  if (!o || o->type != SY_OPT_LIST || !cfg)
    return NULL;
  const char *const *list;
  memcpy(&list, cfg + o->offset, sizeof list);
  return list;
}

/* The results with the passthrough columns after them: each named column
 * of the label or else of the source's features, or "_row", the source
 * row number (from 0). The results must have one row per source row. */
static int add_passthrough(const char *const *names, const sy_value *v,
                           const sy_value *const *src, size_t n_src,
                           sy_value **out, sy_error *err) {
  size_t rows = sy_frame_rows(v);
  sy_value *o = NULL;
  int64_t *ids = NULL;
  int rc;
  if (sy_value_type_of(v) != SY_VALUE_FRAME)
    return sy_error_set(err, SY_ETYPE,
                        "passthrough: the results are not a "
                        "frame");
  if (sy_frame_rows(src[0]) != rows)
    return sy_error_set(err, SY_EINVAL,
                        "passthrough: the results have %zu rows but the "
                        "source has %zu, so its columns cannot be put "
                        "beside them (an actor such as std.split or "
                        "std.head changed the rows); remove passthrough",
                        rows, sy_frame_rows(src[0]));
  if ((rc = sy_frame_new(rows, &o)) != 0)
    return sy_error_set(err, rc, "passthrough: %s", sy_strerror(rc));
  for (size_t c = 0; rc == 0 && c < sy_frame_cols(v); c++)
    rc = sy_frame_add_column_from(o, NULL, v, c);
  for (size_t i = 0; rc == 0 && names[i]; i++) {
    int col = -1;
    size_t from = 0;
    for (size_t k = n_src; k-- > 0 && col < 0;)
      if ((col = sy_frame_col_index(src[k], names[i])) >= 0)
        from = k;
    if (col >= 0) {
      rc = sy_frame_add_column_from(o, NULL, src[from], (size_t)col);
    } else if (strcmp(names[i], "_row") == 0) {
      ids = malloc((rows ? rows : 1) * sizeof *ids);
      if (!ids) {
        rc = SY_ENOMEM;
        break;
      }
      for (size_t r = 0; r < rows; r++)
        ids[r] = (int64_t)r;
      rc = sy_frame_add_i64(o, "_row", ids, NULL);
    } else {
      sy_value_unref(o);
      return sy_error_set(err, SY_EINVAL,
                          "passthrough: the source has no column '%s' (and "
                          "it is not _row, the row number)",
                          names[i]);
    }
    if (rc == SY_EEXIST) {
      sy_value_unref(o);
      free(ids);
      return sy_error_set(err, rc,
                          "passthrough: column '%s' is already in the "
                          "results; leave it out of passthrough",
                          names[i]);
    }
  }
  free(ids);
  if (rc) {
    sy_value_unref(o);
    return sy_error_set(err, rc, "passthrough: %s", sy_strerror(rc));
  }
  *out = o;
  return 0;
}

static int exec_sink(sy_job *job, size_t s, const sy_value *const *vals,
                     size_t n_vals, sy_value **out, sy_error *err) {
  const sy_instr *in = &job->prog->code[s];
  sy_instance *inst = job->sinks[s];
  const sy_sink_ops *ops = sy_instance_provider(inst)->ops;
  const sy_instr *src = &job->prog->code[in->args[0]];
  const sy_value *v = vals[0];
  sy_value *with = NULL;
  const char *const *pass = n_vals > 1 ? sink_passthrough(inst) : NULL;
  int rc = pass && pass[0]
               ? add_passthrough(pass, v, vals + 1, n_vals - 1, &with, err)
               : 0;
  if (rc == 0)
    rc = ops->write(sy_instance_self(inst), src->node, with ? with : v, err);
  sy_value_unref(with);
  if (rc) {
    sy_error_prefix(err, "sink.%s", in->target);
    return rc;
  }
  out[0] = sy_value_ref((sy_value *)v);
  return 0;
}

int sy__step_cacheable(const sy_job *job, size_t s) {
  const sy_instr *in = &job->prog->code[s];
  if (in->flags & SY_INSTR_VOLATILE)
    return 0;
  return in->op == SY_OP_APPLY || in->op == SY_OP_TRAIN || in->op == SY_OP_FEED;
}

/* A storage that fails is not a reason to fail the run: a failed read is
 * a miss and a failed write is a result not kept. */
static int cache_get(sy_job *job, size_t s, sy_value **out, int count);

int sy__cache_lookup(sy_job *job, size_t s, sy_value **out) {
  return cache_get(job, s, out, 1);
}

/* count: add the answer to the job's hits and misses. */
static int cache_get(sy_job *job, size_t s, sy_value **out, int count) {
  const sy_instr *in = &job->prog->code[s];
  const sy_storage_ops *ops = sy_instance_provider(job->storage)->ops;
  sy_error e;
  sy_error_clear(&e);
  for (uint32_t k = 0; k < in->n_outputs; k++)
    out[k] = NULL;
  char hex[33];
  sy__hex(in->key, 16, hex);
  int rc =
      ops->get(sy_instance_self(job->storage), hex, out, in->n_outputs, &e);
  /* A note (code 0: a damaged entry, one that records another key) or a
   * failed read: either way a miss, said as a NOTE event (the CLI prints
   * notes at -v, --log records them). */
  if (e.message[0]) {
    char msg[sizeof e.message + 16];
    snprintf(msg, sizeof msg, "%s%s", e.message, rc ? "; a miss" : "");
    sy_job_emit(job, SY_EVENT_NOTE, s, 0, msg);
  }
  int hit = rc == 0;
  for (uint32_t k = 0; k < in->n_outputs; k++)
    hit &= out[k] != NULL;
  if (!hit)
    for (uint32_t k = 0; k < in->n_outputs; k++) {
      sy_value_unref(out[k]);
      out[k] = NULL;
    }
  if (count)
    atomic_fetch_add(hit ? &job->cache_hits : &job->cache_misses, 1);
  return hit;
}

/* Returns the storage's answer; err (may be NULL) receives its detail. */
static int cache_store(sy_job *job, size_t s, sy_value **out, sy_error *err) {
  const sy_instr *in = &job->prog->code[s];
  const sy_storage_ops *ops = sy_instance_provider(job->storage)->ops;
  sy_error e;
  sy_error_clear(&e);
  char hex[33];
  sy__hex(in->key, 16, hex);
  int rc = ops->put(sy_instance_self(job->storage), hex, out, in->n_outputs,
                    sy__instr_text(job->prog, (uint32_t)s), &e);
  if (rc && err) {
    *err = e;
    sy_error_prefix(err, "storing the result");
  }
  return rc;
}

static int step_execute(sy_job *job, size_t s, const sy_value *const *in,
                        size_t n_in, sy_value **out, int *cached, int keep,
                        sy_error *err);

/* The rows the feed read, for the tag of a trained generation. */
static void note_feed_rows(sy_job *job, const sy_value *v) {
  if (v && sy_value_type_of(v) == SY_VALUE_FRAME)
    atomic_store(&job->feed_rows, sy_frame_rows(v));
}

int sy_step_execute(sy_job *job, size_t s, const sy_value *const *in,
                    size_t n_in, sy_value **out, sy_error *err) {
  int cached = 0;
  return step_execute(job, s, in, n_in, out, &cached, 0, err);
}

static int step_meaning(sy_job *job, size_t s, const sy_value *const *in,
                        size_t n_in, sy_value **out, sy_error *err);

/* The step this thread executes, for crash reports (sy_job_running_step).
 * Initial-exec: a plain %fs-relative access, no allocation on first use,
 * so a signal handler can read them. The library is linked, not
 * dlopen()ed, by the programs that install crash handlers. */
static __thread const sy_job *running_job
    __attribute__((tls_model("initial-exec")));
static __thread uint32_t running_step
    __attribute__((tls_model("initial-exec")));

int sy_job_running_step(size_t *step, sy_op *op, const char **node,
                        const char **target) {
  const sy_job *job = running_job;
  if (!job)
    return 0;
  const sy_instr *in = &job->prog->code[running_step];
  if (step)
    *step = running_step;
  if (op)
    *op = in->op;
  if (node)
    *node = in->node;
  if (target)
    *target = in->target;
  return 1;
}

/* keep: the outputs must reach the storage (sy_job_exec_stored, where the
 * storage is how values move between processes): store them whatever the
 * cache mode and cacheability say, and fail when storing fails. On that
 * failure out still holds the outputs, for the caller to release. */
static int step_execute(sy_job *job, size_t s, const sy_value *const *in,
                        size_t n_in, sy_value **out, int *cached, int keep,
                        sy_error *err) {
  if (!job || s >= job->n || !out)
    return sy_error_set(err, SY_EINVAL, "sy_step_execute: bad arguments");
  int cacheable = job->storage && sy__step_cacheable(job, s);
  *cached = 0;
  if (cacheable && job->cache_read && sy__cache_lookup(job, s, out)) {
    *cached = 1;
    if (job->prog->code[s].op == SY_OP_FEED)
      note_feed_rows(job, out[0]);
    return 0;
  }
  running_job = job;
  running_step = (uint32_t)s;
  int rc = step_meaning(job, s, in, n_in, out, err);
  running_job = NULL;
  if (rc == 0 && keep)
    rc = cache_store(job, s, out, err);
  else if (rc == 0 && cacheable && job->cache_write)
    cache_store(job, s, out, NULL);
  if (rc == 0 && job->prog->code[s].op == SY_OP_FEED)
    note_feed_rows(job, out[0]);
  return rc;
}

/* What each op means: the only place it is written down in code. */
static int step_meaning(sy_job *job, size_t s, const sy_value *const *in,
                        size_t n_in, sy_value **out, sy_error *err) {
  const sy_instr *ins = &job->prog->code[s];
  switch (ins->op) {
  case SY_OP_FEED:
    return exec_feed(job, s, out, err);
  case SY_OP_GET:
    if (ins->index >= n_in)
      return sy_error_set(err, SY_EINVAL, "get: no output %u", ins->index);
    out[0] = sy_value_ref((sy_value *)in[ins->index]);
    return 0;
  case SY_OP_APPLY:
    return exec_apply(job, s, in, n_in, out, err);
  case SY_OP_TRAIN:
    return exec_train(job, s, in, n_in, out, err);
  case SY_OP_LOAD:
    return exec_load(job, s, out, err);
  case SY_OP_DUMP:
    return exec_dump(job, s, in, n_in, out, err);
  case SY_OP_COMMIT:
    return exec_commit(job, in[0], out, err);
  case SY_OP_SINK:
    return exec_sink(job, s, in, n_in, out, err);
  }
  return sy_error_set(err, SY_EINVAL, "unknown op %d", (int)ins->op);
}

/* ---- running steps in this process ---------------------------------- */

/* The values step s reads. GET reads every output of its argument; any
 * other op reads output 0 of each argument. */
static size_t gather(const sy_job *job, size_t s, const sy_value **buf,
                     size_t cap) {
  const sy_instr *in = &job->prog->code[s];
  size_t n = 0;
  if (in->op == SY_OP_GET) {
    const sy_instr *src = &job->prog->code[in->args[0]];
    sy_value *const *v = job->vals + job->out_start[in->args[0]];
    for (uint32_t k = 0; k < src->n_outputs && n < cap; k++)
      buf[n++] = v[k];
    return n;
  }
  for (uint32_t a = 0; a < in->n_args && n < cap; a++)
    buf[n++] = job->vals[job->out_start[in->args[a]]];
  return n;
}

static size_t n_inputs(const sy_job *job, size_t s) {
  const sy_instr *in = &job->prog->code[s];
  if (in->op == SY_OP_GET)
    return job->prog->code[in->args[0]].n_outputs;
  return in->n_args;
}

void sy__release_outputs(sy_job *job, size_t s) {
  for (uint32_t i = job->out_start[s]; i < job->out_start[s + 1]; i++) {
    sy_value_unref(job->vals[i]);
    job->vals[i] = NULL;
  }
}

size_t sy_job_step_input_count(const sy_job *job, size_t s) {
  return n_inputs(job, s);
}

size_t sy_job_step_input_values(const sy_job *job, size_t s,
                                const sy_value **buf, size_t cap) {
  return gather(job, s, buf, cap);
}

void sy_job_step_result(sy_job *job, size_t s, const sy_value *const *out) {
  /* What the job reports after the run: the bundle a COMMIT committed. */
  const sy_instr *in = &job->prog->code[s];
  if (in->op == SY_OP_COMMIT && !job->committed && in->n_outputs && out)
    job->committed = sy_value_ref((sy_value *)out[0]);
}

int sy_job_step_done(sy_job *job, size_t s, sy_value **out) {
  const sy_instr *in = &job->prog->code[s];
  if (job->cons_start[s + 1] == job->cons_start[s] &&
      atomic_load_explicit(&job->pending[s], memory_order_relaxed) <
          UINT32_MAX / 2) {
    /* A step nobody reads (SINK, COMMIT) keeps nothing but its result,
     * unless it is kept (sy_job_keep). */
    sy_job_step_result(job, s, (const sy_value *const *)out);
    for (uint32_t k = 0; k < in->n_outputs; k++)
      sy_value_unref(out[k]);
  } else {
    memcpy(job->vals + job->out_start[s], out, in->n_outputs * sizeof *out);
  }
  for (uint32_t a = 0; a < in->n_args; a++) {
    uint32_t src = in->args[a];
    if (atomic_fetch_sub_explicit(&job->pending[src], 1,
                                  memory_order_acq_rel) == 1)
      sy__release_outputs(job, src);
  }
  return 0;
}

int sy_job_run_step(sy_job *job, size_t s, sy_error *err) {
  /* A step runs once: a second run would store its outputs over the
   * first ones and count its inputs down again, releasing values other
   * steps still need. */
  if (atomic_load_explicit(&job->ran[s], memory_order_relaxed) != 0)
    return sy_error_set(err, SY_ESTATE,
                        "step %zu (%s) already ran; a runner runs each step "
                        "once",
                        s, sy__instr_text(job->prog, (uint32_t)s));
  const sy_value *small[16];
  sy_value *outs_small[8];
  size_t need = n_inputs(job, s);
  const sy_value **in = need <= 16 ? small : malloc(need * sizeof *in);
  uint32_t nout = job->prog->code[s].n_outputs;
  sy_value **out = nout <= 8 ? outs_small : calloc(nout, sizeof *out);
  int rc;
  if (!in || !out) {
    rc = sy_error_set(err, SY_ENOMEM, "out of memory");
    goto done;
  }
  size_t n = gather(job, s, in, need);
  memset(out, 0, nout * sizeof *out);
  sy_job_emit(job, SY_EVENT_STARTED, s, 0, NULL);
  int cached = 0;
  rc = step_execute(job, s, in, n, out, &cached, 0, err);
  if (rc == 0) {
    rc = sy_job_step_done(job, s, out);
    sy_job_emit(job, cached ? SY_EVENT_CACHED : SY_EVENT_DONE, s, 0, NULL);
  } else {
    sy_error_prefix(err, "step %zu (%s)", s,
                    sy__instr_text(job->prog, (uint32_t)s));
    sy_job_emit(job, SY_EVENT_FAILED, s, rc, err ? err->message : NULL);
  }
done:
  if (in != small)
    free(in);
  if (out != outs_small)
    free(out);
  return rc;
}

/* ---- one step per process, through the storage (switchyard exec) ---- */

int sy_job_step_stored(sy_job *job, size_t s) {
  if (!job || s >= job->n || !job->storage || !job->cache_read)
    return 0;
  const sy_instr *ins = &job->prog->code[s];
  if (ins->op == SY_OP_GET
          ? ins->n_args != 1 || !sy__step_cacheable(job, ins->args[0])
          : !sy__step_cacheable(job, s))
    return 0;
  sy_value *small[8];
  sy_value **vals =
      ins->n_outputs <= 8 ? small : calloc(ins->n_outputs, sizeof *vals);
  int hit = vals && cache_get(job, s, vals, 0);
  for (uint32_t k = 0; hit && k < ins->n_outputs; k++)
    sy_value_unref(vals[k]);
  if (vals != small)
    free(vals);
  return hit;
}

/* The storage is the transport: every input is read back under its
 * producer's key (all of a producer's outputs, since a storage entry holds
 * them together), and the outputs are written under the step's own key
 * when another step reads them, so the next process finds them there. No
 * value stays in the job, and the job's countdowns are left alone. */
int sy_job_exec_stored(sy_job *job, size_t s, sy_error *err) {
  if (!job || s >= job->n)
    return sy_error_set(err, SY_ERANGE,
                        "step %zu is out of range: the program has %u steps", s,
                        job ? job->n : 0);
  const sy_instr *ins = &job->prog->code[s];
  if (!job->storage)
    return sy_error_set(err, SY_EINVAL,
                        "step %zu (%s): no storage to read its inputs from "
                        "and write its outputs to; configure [PLATFORM] "
                        "storage (a STORAGE instance) and do not pass "
                        "--cache off",
                        s, sy__instr_text(job->prog, (uint32_t)s));
  /* held: every output of every argument, argument after argument. */
  size_t n_held = 0;
  for (uint32_t a = 0; a < ins->n_args; a++)
    n_held += job->prog->code[ins->args[a]].n_outputs;
  size_t need = n_inputs(job, s);
  sy_value **held = calloc(n_held ? n_held : 1, sizeof *held);
  const sy_value **in = malloc((need ? need : 1) * sizeof *in);
  sy_value **out = calloc(ins->n_outputs ? ins->n_outputs : 1, sizeof *out);
  int rc = 0;
  if (!held || !in || !out) {
    rc = sy_error_set(err, SY_ENOMEM, "out of memory");
    goto done;
  }
  size_t off = 0, n = 0;
  for (uint32_t a = 0; a < ins->n_args; a++) {
    uint32_t src = ins->args[a];
    const sy_instr *from = &job->prog->code[src];
    if (!sy__cache_lookup(job, src, held + off)) {
      rc = sy_error_set(err, SY_ENOENT,
                        "step %zu (%s): its input, step %u (%s), is not in "
                        "the storage; run `switchyard exec PROGRAM --step "
                        "%u` first",
                        s, sy__instr_text(job->prog, (uint32_t)s), src,
                        sy__instr_text(job->prog, src), src);
      goto done;
    }
    /* The same selection as gather(): GET reads every output of its
     * argument, any other op output 0 of each. */
    if (ins->op == SY_OP_GET)
      for (uint32_t k = 0; k < from->n_outputs; k++)
        in[n++] = held[off + k];
    else
      in[n++] = held[off];
    off += from->n_outputs;
  }
  int keep = job->cons_start[s + 1] > job->cons_start[s];
  int cached = 0;
  sy_job_emit(job, SY_EVENT_STARTED, s, 0, NULL);
  rc = step_execute(job, s, in, n, out, &cached, keep, err);
  if (rc == 0) {
    sy_job_emit(job, cached ? SY_EVENT_CACHED : SY_EVENT_DONE, s, 0, NULL);
  } else {
    sy_error_prefix(err, "step %zu (%s)", s,
                    sy__instr_text(job->prog, (uint32_t)s));
    sy_job_emit(job, SY_EVENT_FAILED, s, rc, err ? err->message : NULL);
  }
done:
  for (size_t i = 0; held && i < n_held; i++)
    sy_value_unref(held[i]);
  for (uint32_t k = 0; out && k < ins->n_outputs; k++)
    sy_value_unref(out[k]);
  free(held);
  free(in);
  free(out);
  return rc;
}
