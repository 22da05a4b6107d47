/*
 * compile.c - flow -> program.
 *
 * The compiler walks the validated flow in topological order and emits,
 * per node, what the mode asks for (docs/lifecycle.md has the semantics):
 *
 *   stateless node            APPLY(inputs)
 *   stateful, run / train     TRAIN(inputs [, label]) -> s; APPLY(s, inputs)
 *   stateful, apply           LOAD -> s; APPLY(s, inputs)
 *
 * then SINK (run, apply) or DUMP + COMMIT of every state (train). It then
 * drops every step nothing needed reads (train mode does not apply the
 * last model; run mode does not train a model whose output is unused), so
 * the program is exactly the work the mode implies.
 *
 * Cache keys (128-bit XXH3) chain: a step's key hashes its op, actor name
 * and version, canonical parameters and the keys of its arguments; the
 * feed's key hashes the feed's fingerprint of the table's content, and a
 * LOAD's key hashes the state file's content. A step that runs an actor
 * (TRAIN, LOAD, APPLY) also hashes the content hash of the plugin file the
 * actor came from (the loader's, sy__catalog_code_hash) and, when the
 * actor has the optional fingerprint op (ABI 1.3), what that returns for
 * the node's parameters (sys.exec: the content of its `deps`). So
 * changing data, a parameter, an actor version, a plugin's code, a
 * declared dependency or a state changes exactly the keys downstream of
 * it. The program records each distinct actor's code hash (prog->codes)
 * so that a job over a saved program can refuse code it was not
 * compiled against (job.c, find_stale_code).
 */
#include "flow.h"
#include "program.h"
#include "switchyard/buf.h"
#include "query.h"
#include "switchyard/endian.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "key.h"

/* ---- compiling ------------------------------------------------------ */

typedef struct compiler {
  sy_program *prog;
  const sy_flow *flow;
  int32_t features, label; /* steps of the source's outputs */
  int32_t **outs;          /* per node with several outputs: step of each
                              output (-1: none yet); NULL for one output */
  int32_t *outs_flat;      /* what outs points into (one allocation) */
  int32_t *apply;          /* per node: its APPLY step, -1 */
  int32_t *state;          /* per node: its state step (TRAIN/LOAD), -1 */
  uint8_t states_hash[16]; /* apply: content hash of the state file */
  uint32_t *ids;           /* open-addressed: node index + 1 by id, 0 empty */
  size_t ids_mask;         /* capacity - 1 (a power of two) */
  int incremental;         /* train from earlier states (--from) */
  const sy_catalog *cat;   /* where the actors' code hashes live */
  const sy_provider *code_of; /* the provider code[] is the hash of */
  uint8_t code[16];           /* its plugin file's content hash */
  const sy_provider **pinned; /* per prog->codes entry: its provider */
  uint32_t cap_pins;
  /* eval (compile_eval.c's part below): */
  int given_states;       /* APPLY stateful nodes with state[n], emitting
                             no TRAIN or LOAD (the test path of a fold) */
  const size_t *sweep_at; /* per node: index of its first sweep in pick */
  const uint32_t *pick;   /* per sweep: the value of this branch; NULL:
                             no sweeps are expanded */
  const uint8_t *dep;     /* per node: depends on a sweep */
  const char *branch;     /* "[rate=0.1]" for nodes that depend on one */
  const char *fold;       /* "@2" */
} compiler;

/* The id a node's steps carry: its own, or in an eval program with the
 * branch (for nodes a sweep reaches) and the fold appended. */
static const char *step_id(const compiler *c, size_t n, char *buf, size_t cap) {
  const char *id = c->flow->nodes[n].id;
  if (!c->fold && !c->branch)
    return id;
  snprintf(buf, cap, "%s%s%s", id,
           c->branch && c->dep && c->dep[n] ? c->branch : "",
           c->fold ? c->fold : "");
  return buf;
}

/* Finding an input's node by id was a linear scan per input, which made
 * compiling a long chain quadratic; the id table makes it one probe. Ids
 * are unique after validation; with duplicates the first node still wins
 * (it is inserted first and probing stops at the first match). */
static size_t id_slot(const char *id, size_t mask) {
  return (size_t)XXH3_64bits(id, strlen(id)) & mask;
}

static int index_ids(compiler *c) {
  size_t nn = c->flow->n_nodes, cap = 16;
  while (cap < 2 * nn)
    cap *= 2;
  c->ids = calloc(cap, sizeof *c->ids);
  if (!c->ids)
    return SY_ENOMEM;
  c->ids_mask = cap - 1;
  for (size_t n = 0; n < nn; n++) {
    const char *id = c->flow->nodes[n].id;
    size_t i = id_slot(id, c->ids_mask);
    while (c->ids[i] && strcmp(c->flow->nodes[c->ids[i] - 1].id, id) != 0)
      i = (i + 1) & c->ids_mask;
    if (!c->ids[i])
      c->ids[i] = (uint32_t)n + 1;
  }
  return 0;
}

static int cmp_param(const void *a, const void *b) {
  return strcmp(((const sy_param *)a)->key, ((const sy_param *)b)->key);
}

/* The step holding output `k` of node `n` (creating its GET if needed). */
static int output_step(compiler *c, size_t n, uint32_t k) {
  const sy_flow_node *node = &c->flow->nodes[n];
  const sy_actor_ops *ops = node->provider->ops;
  if (ops->n_outputs == 1)
    return c->apply[n];
  if (c->outs[n][k] >= 0)
    return c->outs[n][k];
  uint32_t arg = (uint32_t)c->apply[n];
  char idbuf[512];
  sy_instr get = {.op = SY_OP_GET,
                  .node = (char *)step_id(c, n, idbuf, sizeof idbuf),
                  .index = k,
                  .args = &arg,
                  .n_args = 1};
  int s = sy__program_emit(c->prog, &get);
  if (s < 0)
    return s;
  sy__instr_finish(c->prog, (uint32_t)s, NULL, 0);
  c->outs[n][k] = s;
  return s;
}

static int resolve(compiler *c, const sy_flow_input *in) {
  /* Validation found every input's node already. */
  if (c->flow->resolved) {
    if (in->target == -1)
      return c->features;
    if (in->target >= 0 && (size_t)in->target < c->flow->n_nodes)
      return output_step(c, (size_t)in->target, in->output);
    return SY_EINVAL;
  }
  if (strcmp(in->node, "source") == 0)
    return c->features;
  for (size_t i = id_slot(in->node, c->ids_mask); c->ids[i];
       i = (i + 1) & c->ids_mask)
    if (strcmp(c->flow->nodes[c->ids[i] - 1].id, in->node) == 0)
      return output_step(c, c->ids[i] - 1, in->output);
  return SY_EINVAL; /* validation guarantees this does not happen */
}

/* The actor's fingerprint for this node's parameters: an instance is made
 * from them as the job would make it, asked, and destroyed. Required
 * parameters were checked by validation. */
static int actor_fingerprint(const sy_flow *flow, const sy_flow_node *node,
                             uint8_t key[16], sy_error *err) {
  const sy_provider *pr = node->provider;
  const sy_actor_ops *ops = pr->ops;
  sy__pool pool = {0};
  void *self = NULL;
  void *config = calloc(1, pr->config_size ? pr->config_size : 1);
  int rc = config ? 0 : sy_error_set(err, SY_ENOMEM, "out of memory");
  for (const sy_option *o = pr->options; rc == 0 && o && o->name; o++) {
    const char *text = o->def;
    for (size_t p = 0; p < node->n_params; p++)
      if (strcmp(node->params[p].key, o->name) == 0)
        text = node->params[p].text;
    if (!text)
      continue;
    rc = sy__opt_parse(o, text, config, &pool, err);
    if (rc != 0)
      sy_error_prefix(err, "parameter %s", o->name);
  }
  if (rc == 0 && pr->create)
    rc = pr->create(config, &self, err);
  if (rc == 0)
    rc = ops->fingerprint(self, key, err);
  if (self && pr->destroy)
    pr->destroy(self);
  sy__pool_release(&pool);
  free(config);
  if (rc != 0)
    sy_error_prefix(err, "%s:%d: %s (%s)", node->file ? node->file : flow->file,
                    node->line, node->id, node->actor);
  return rc;
}

/* extra with the states' content hash in its first 16 bytes: a LOAD's. */
static const uint8_t *with_state(const compiler *c, uint8_t extra[48]) {
  memcpy(extra, c->states_hash, 16);
  return extra;
}

/* What every step of node n hashes besides the instruction: the content
 * hash of the actor's plugin file, then its fingerprint when it has one.
 * Fills extra (room for 32 bytes) and returns its length, or a negative
 * code. */
/* Records, once per distinct actor, the code hash its keys were made
 * with (prog->codes), for a job that binds a saved program to check. A
 * scan of the few distinct actors, and only when the provider differs
 * from the previous node's. */
static int pin_code(compiler *c, const sy_flow_node *node) {
  sy_program *prog = c->prog;
  for (uint32_t i = 0; i < prog->n_codes; i++)
    if (c->pinned[i] == node->provider)
      return 0;
  if (prog->n_codes == c->cap_pins) {
    uint32_t cap = c->cap_pins ? c->cap_pins * 2 : 8;
    sy__code_pin *codes = realloc(prog->codes, cap * sizeof *codes);
    if (codes)
      prog->codes = codes;
    const sy_provider **pinned =
        codes ? realloc(c->pinned, cap * sizeof *pinned) : NULL;
    if (!pinned)
      return SY_ENOMEM;
    c->pinned = pinned;
    c->cap_pins = cap;
  }
  sy__code_pin *pin = &prog->codes[prog->n_codes];
  if (!(pin->target = sy__program_intern(prog, node->actor)))
    return SY_ENOMEM;
  memcpy(pin->hash, c->code, 16);
  c->pinned[prog->n_codes++] = node->provider;
  return 0;
}

static int node_extra(compiler *c, const sy_flow_node *node, uint8_t extra[32],
                      sy_error *err) {
  const sy_actor_ops *ops = node->provider->ops;
  if (c->code_of != node->provider) {
    sy__catalog_code_hash(c->cat, node->provider, c->code);
    c->code_of = node->provider;
    if (pin_code(c, node) != 0)
      return sy_error_set(err, SY_ENOMEM, "out of memory");
  }
  memcpy(extra, c->code, 16);
  if (!SY_ACTOR_HAS_FINGERPRINT(ops))
    return 16;
  int rc = actor_fingerprint(c->flow, node, extra + 16, err);
  return rc != 0 ? rc : 32;
}

static int emit_node(compiler *c, size_t n, sy_mode mode, sy_error *err) {
  const sy_flow_node *node = &c->flow->nodes[n];
  const sy_actor_ops *ops = node->provider->ops;
  uint8_t extra[48]; /* the state's hash (LOAD), code hash, fingerprint */
  int nx = node_extra(c, node, extra + 16, err);
  if (nx < 0)
    return nx;
  size_t extra_len = (size_t)nx;
  int stateful = (ops->flags & SY_ACTOR_STATEFUL) != 0;
  int supervised = stateful && (ops->flags & SY_ACTOR_SUPERVISED);
  size_t nargs = node->n_inputs + 2;
  /* On the stack for the usual few inputs and parameters: two mallocs
   * per node were ~0.1 s per 1e6 nodes. */
  uint32_t args_buf[16];
  sy_param params_buf[8];
  size_t n_params = node->n_params;
  size_t room = n_params + (c->pick ? node->n_sweeps : 0);
  uint32_t *args = nargs <= 16 ? args_buf : malloc(nargs * sizeof *args);
  sy_param *params = room < 8 ? params_buf : calloc(room + 1, sizeof *params);
  char idbuf[512];
  int rc = 0;
  if (!args || !params) {
    rc = sy_error_set(err, SY_ENOMEM, "out of memory");
    goto done;
  }
  for (size_t p = 0; p < node->n_params; p++) {
    params[p].key = node->params[p].key;
    params[p].text = node->params[p].text;
  }
  /* A swept parameter takes this branch's value. */
  for (size_t w = 0; c->pick && w < node->n_sweeps; w++) {
    const sy_flow_sweep *sw = &node->sweeps[w];
    const char *v = sw->values[c->pick[c->sweep_at[n] + w]];
    size_t p = 0;
    while (p < n_params && strcmp(params[p].key, sw->key) != 0)
      p++;
    params[p].key = sw->key;
    params[p].text = (char *)v;
    if (p == n_params)
      n_params++;
  }
  if (n_params > 1)
    qsort(params, n_params, sizeof *params, cmp_param);
  uint32_t nin = 0;
  for (size_t i = 0; i < node->n_inputs; i++) {
    int s = resolve(c, &node->inputs[i]);
    if (s < 0) {
      rc = sy_error_set(err, s, "%s:%d: %s: cannot resolve input '%s'",
                        c->flow->file, node->line, node->id,
                        node->inputs[i].node);
      goto done;
    }
    args[1 + nin++] = (uint32_t)s;
  }
  sy_instr t = {.node = (char *)step_id(c, n, idbuf, sizeof idbuf),
                .target = node->actor,
                .version = (char *)node->provider->version,
                .params = params,
                .n_params = (uint32_t)n_params};
  if (stateful) {
    int s;
    if (c->given_states) {
      s = c->state[n]; /* trained on the train path of this fold */
    } else if (mode == SY_MODE_APPLY) {
      t.op = SY_OP_LOAD;
      t.n_args = 0;
      s = sy__program_emit(c->prog, &t);
      if (s >= 0)
        sy__instr_finish(c->prog, (uint32_t)s, with_state(c, extra),
                         16 + extra_len);
    } else {
      if (supervised && c->label < 0) {
        rc = sy_error_set(err, SY_ECONFIG,
                          "%s:%d: %s (%s) learns from a label, but the "
                          "flow's source has none; set source.label",
                          c->flow->file, node->line, node->id, node->actor);
        goto done;
      }
      t.op = SY_OP_TRAIN;
      t.args = args + 1;
      t.n_args = nin;
      if (supervised) {
        args[1 + nin] = (uint32_t)c->label;
        t.n_args++;
        t.flags |= SY_INSTR_LABEL;
      }
      if (c->incremental && (ops->flags & SY_ACTOR_INCREMENTAL)) {
        /* Continue from the earlier generation's state: LOAD it and hand
         * it to TRAIN first. */
        sy_instr load = t;
        load.op = SY_OP_LOAD;
        load.n_args = 0;
        load.flags = 0;
        int l = sy__program_emit(c->prog, &load);
        if (l < 0) {
          rc = sy_error_set(err, l, "out of memory");
          goto done;
        }
        sy__instr_finish(c->prog, (uint32_t)l, with_state(c, extra),
                         16 + extra_len);
        args[0] = (uint32_t)l;
        t.args = args;
        t.n_args++;
        t.flags |= SY_INSTR_STATE_IN;
      }
      s = sy__program_emit(c->prog, &t);
      if (s >= 0)
        sy__instr_finish(c->prog, (uint32_t)s, extra + 16, extra_len);
    }
    if (s < 0) {
      rc = sy_error_set(err, s, "out of memory");
      goto done;
    }
    c->state[n] = s;
    args[0] = (uint32_t)s;
    t.flags = SY_INSTR_STATE_IN;
    t.args = args;
    t.n_args = nin + 1;
  } else {
    t.flags = 0;
    t.args = args + 1;
    t.n_args = nin;
  }
  t.op = SY_OP_APPLY;
  t.n_outputs = ops->n_outputs;
  int s = sy__program_emit(c->prog, &t);
  if (s < 0) {
    rc = sy_error_set(err, s, "out of memory");
    goto done;
  }
  sy__instr_finish(c->prog, (uint32_t)s, extra + 16, extra_len);
  c->apply[n] = s;
done:
  if (args != args_buf)
    free(args);
  if (params != params_buf)
    free(params);
  return rc;
}

/* Drops steps no root needs, renumbering the rest (order is kept). The
 * roots are SINK and COMMIT steps, and *root when it is not NULL (it is
 * renumbered too). */
static int prune(sy_program *prog, uint32_t *root, sy_error *err) {
  uint8_t *need = sy__big_calloc(prog->n ? prog->n : 1, 1);
  uint32_t *map = sy__big_malloc((prog->n ? prog->n : 1) * sizeof *map);
  if (!need || !map) {
    free(need);
    free(map);
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  }
  for (uint32_t i = prog->n; i-- > 0;) {
    sy_op op = prog->code[i].op;
    if (op == SY_OP_SINK || op == SY_OP_COMMIT || (root && *root == i))
      need[i] = 1;
    if (need[i])
      for (uint32_t a = 0; a < prog->code[i].n_args; a++)
        need[prog->code[i].args[a]] = 1;
  }
  uint32_t kept = 0;
  for (uint32_t i = 0; i < prog->n; i++) {
    if (!need[i])
      continue; /* its strings stay in the arena until the program dies */
    map[i] = kept;
    sy_instr *in = &prog->code[i];
    for (uint32_t a = 0; a < in->n_args; a++)
      in->args[a] = map[in->args[a]];
    if (kept != i) /* a self-copy rewrote ~144 MB at 1e6 steps */
      prog->code[kept] = *in;
    kept++;
  }
  prog->n = kept;
  if (root)
    *root = map[*root];
  free(need);
  free(map);
  return 0;
}

/* The content hash of a state file, for LOAD keys; all zero when it
 * cannot be opened (loading it says why). One that is not a regular file
 * or is too large is refused here, before anything reads it. */
static int hash_file(const char *path, uint8_t out[16], sy_error *err) {
  memset(out, 0, 16);
  if (!path)
    return 0;
  sy_error local;
  int fd = -1;
  int rc = sy__file_open_regular(path, SY__STATE_FILE_MAX, &fd, &local);
  if (rc == SY_EINVAL || rc == SY_ETOOBIG) {
    if (err)
      *err = local;
    return rc;
  }
  FILE *f = rc == 0 ? fdopen(fd, "rb") : NULL;
  if (!f) {
    if (fd >= 0)
      close(fd);
    return 0;
  }
  XXH3_state_t *st = XXH3_createState();
  if (st) {
    XXH3_128bits_reset(st);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
      XXH3_128bits_update(st, buf, n);
    digest(st, out);
    XXH3_freeState(st);
  }
  fclose(f);
  return 0;
}

void sy__flow_hash(const sy_flow *flow, uint8_t out[16]) {
  /* Buffered: the same bytes as an update per field, in a few large
   * updates (a 1e6-node flow made ~8e6 small ones). */
  keybuf *k = malloc(sizeof *k);
  XXH3_state_t *st = XXH3_createState();
  memset(out, 0, 16);
  if (!st || !k) {
    free(k);
    XXH3_freeState(st);
    return;
  }
  XXH3_128bits_reset(st);
  k->st = st;
  k->len = 0;
  k_str(k, flow->name);
  k_str(k, flow->source.table);
  k_str(k, flow->source.label);
  if (flow->source.has_query) {
    char *q = NULL;
    if (sy__query_encode(&flow->source.query, &q) == 0)
      k_str(k, q);
    free(q);
  }
  for (size_t n = 0; n < flow->n_nodes; n++) {
    const sy_flow_node *node = &flow->nodes[n];
    k_str(k, node->id);
    k_str(k, node->actor);
    k_str(k, node->provider ? node->provider->version : "");
    for (size_t i = 0; i < node->n_inputs; i++) {
      k_str(k, node->inputs[i].node);
      k_u32(k, node->inputs[i].output);
    }
    for (size_t p = 0; p < node->n_params; p++) {
      k_str(k, node->params[p].key);
      k_str(k, node->params[p].text);
    }
    for (size_t w = 0; w < node->n_sweeps; w++) {
      k_str(k, "\x01sweep");
      k_str(k, node->sweeps[w].key);
      for (size_t v = 0; v < node->sweeps[w].n_values; v++)
        k_str(k, node->sweeps[w].values[v]);
    }
  }
  k_flush(k);
  digest(st, out);
  XXH3_freeState(st);
  free(k);
}

/* The feed instance's fingerprint of the table, when it has one. */
static int feed_fingerprint(sy_platform *p, const char *feed, const char *table,
                            uint8_t key[16], int *have, sy_error *err) {
  sy_instance *inst = NULL;
  *have = 0;
  int rc = sy_instance_create(sy_platform_config(p), sy_platform_catalog(p),
                              SY_KIND_FEED, feed, &inst, err);
  if (rc != 0)
    return rc;
  const sy_feed_ops *ops = sy_instance_provider(inst)->ops;
  if (ops->size >=
          offsetof(sy_feed_ops, fingerprint) + sizeof ops->fingerprint &&
      ops->fingerprint) {
    rc = ops->fingerprint(sy_instance_self(inst), table, key, err);
    if (rc == 0)
      *have = 1;
    else if (rc == SY_ENOTSUP) /* volatile data (ABI 1.4): never cached */
      rc = 0;
    else {
      /* Compiling is before the run: nothing ran (exit 2). */
      sy_error_prefix(err, "feed.%s", feed);
      sy_error_prefix(err, "before the run (the feed step's cache key)");
    }
  }
  sy_instance_destroy(inst);
  return rc;
}

/* A flow with no `source` group: 0 when nothing reads the source, else
 * an error naming the first reader (an actor's explicit or default input,
 * or the sink). */
static int check_sourceless(const sy_flow *flow, sy_error *err) {
  for (size_t n = 0; n < flow->n_nodes; n++) {
    const sy_flow_node *node = &flow->nodes[n];
    for (size_t i = 0; i < node->n_inputs; i++) {
      const sy_flow_input *in = &node->inputs[i];
      if (flow->resolved ? in->target != -1 : strcmp(in->node, "source") != 0)
        continue;
      return sy_error_set(
          err, SY_ECONFIG,
          "%s:%d: actor '%s' reads 'source'%s, but the flow has no "
          "`source` group; add one (source = { table = \"...\"; };) or, "
          "for an actor that makes its own data, write inputs = [];",
          sy__flow_input_file(flow, in), in->line > 0 ? in->line : node->line,
          node->id,
          n == 0 && node->n_inputs == 1 ? " (the first actor's default input)"
                                        : "");
    }
  }
  const sy_flow_input *sk = &flow->sink.input;
  if ((sk->node &&
       (flow->resolved ? sk->target == -1 : strcmp(sk->node, "source") == 0)) ||
      (!sk->node && flow->n_nodes == 0))
    return sy_error_set(err, SY_ECONFIG,
                        "%s: the sink reads 'source', but the flow has no "
                        "`source` group; add one",
                        flow->file);
  return 0;
}

static const char *platform_default(sy_platform *p, const char *key,
                                    const char *fallback) {
  const char *v = sy_config_get(sy_platform_config(p), "PLATFORM", key, NULL);
  return v && *v ? v : fallback;
}

/* The FEED step of the flow's source (and its two GETs with a label). */
static int emit_source(compiler *c, sy_platform *p, int use_feed,
                       sy_error *err) {
  const sy_flow *flow = c->flow;
  const char *feed = flow->source.feed ? flow->source.feed
                                       : platform_default(p, "feed", "data");
  uint8_t fp[16];
  int have_fp = 0;
  /* The callable replaces the feed: it needs no feed instance. */
  int rc = use_feed ? feed_fingerprint(p, feed, flow->source.table, fp,
                                       &have_fp, err)
                    : 0;
  if (rc != 0)
    return rc;
  sy_instr t = {.op = SY_OP_FEED,
                .node = "source",
                .target = (char *)feed,
                .table = flow->source.table,
                .label = flow->source.label,
                .n_outputs = flow->source.label ? 2 : 1,
                .flags = have_fp ? 0 : SY_INSTR_VOLATILE};
  /* The pushdown travels as the step's one parameter (query.c), so the
   * key, a saved program and `exec` all carry it. */
  sy_param pushdown = {SY__PUSHDOWN_PARAM, NULL};
  if (flow->source.has_query) {
    if (sy__query_encode(&flow->source.query, &pushdown.text) != 0)
      return sy_error_set(err, SY_ENOMEM, "out of memory");
    t.params = &pushdown;
    t.n_params = 1;
  }
  int s = sy__program_emit(c->prog, &t);
  free(pushdown.text);
  if (s < 0)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  sy__instr_finish(c->prog, (uint32_t)s, have_fp ? fp : NULL, have_fp ? 16 : 0);
  c->features = s;
  if (flow->source.label) {
    const uint32_t feed_step = (uint32_t)s;
    for (uint32_t k = 0; k < 2; k++) {
      uint32_t arg = feed_step;
      sy_instr get = {.op = SY_OP_GET,
                      .node = "source",
                      .index = k,
                      .args = &arg,
                      .n_args = 1};
      s = sy__program_emit(c->prog, &get);
      if (s < 0)
        return sy_error_set(err, SY_ENOMEM, "out of memory");
      sy__instr_finish(c->prog, (uint32_t)s, NULL, 0);
      if (k == 0)
        c->features = s;
      else
        c->label = s;
    }
  }
  return 0;
}

int sy__compile_flow(sy_platform *p, const sy_flow *flow, sy_mode mode,
                     const sy_compile_options *opts, const sy__compile_ctx *ctx,
                     sy_program **out, sy_error *err) {
  static const sy__compile_ctx none = {0, NULL, NULL, NULL, 0};
  if (!ctx)
    ctx = &none;
  int use_feed = !ctx->no_feed;
  for (size_t n = 0; n < flow->n_nodes; n++)
    if (flow->nodes[n].n_sweeps) {
      const sy_flow_sweep *w = &flow->nodes[n].sweeps[0];
      return sy_error_set(err, SY_ECONFIG,
                          "%s:%d: %s sweeps '%s' over %zu values: compare the "
                          "branches with `switchyard eval %s`, or train the "
                          "best one with `switchyard train %s --best METRIC`",
                          w->file, w->line, flow->nodes[n].id, w->key,
                          w->n_values, flow->file, flow->file);
    }
  compiler c = {0};
  int rc = SY_ENOMEM;
  size_t nn = flow->n_nodes;
  sy_program *prog = calloc(1, sizeof *prog);
  c.outs = sy__big_calloc(nn + 1, sizeof *c.outs);
  c.apply = sy__big_malloc((nn + 1) * sizeof *c.apply);
  c.state = sy__big_malloc((nn + 1) * sizeof *c.state);
  if (!prog || !c.outs || !c.apply || !c.state)
    goto oom;
  prog->mode = mode;
  prog->flow_name = strdup(flow->name ? flow->name : "");
  prog->flow_file = strdup(flow->file ? flow->file : "");
  const char *state_file = ctx->states ? ctx->states
                           : opts      ? opts->state_file
                                       : NULL;
  int loads =
      mode == SY_MODE_APPLY || (mode == SY_MODE_TRAIN && ctx->incremental);
  prog->state_file = strdup(state_file && loads ? state_file : "");
  prog->commit_to =
      strdup(ctx->commit_to && mode == SY_MODE_TRAIN ? ctx->commit_to : "");
  if (!prog->flow_name || !prog->flow_file || !prog->state_file ||
      !prog->commit_to)
    goto oom;
  sy__flow_hash(flow, prog->flow_hash);
  c.prog = prog;
  c.flow = flow;
  c.cat = p ? sy_platform_catalog(p) : NULL;
  if (!flow->resolved && index_ids(&c) != 0)
    goto oom;
  c.label = -1;
  /* A node with one output is its APPLY step: only the others need a
   * table of GET steps (a malloc per node was a third of compile time). */
  size_t multi = 0;
  for (size_t n = 0; n < nn; n++) {
    const sy_actor_ops *ops = flow->nodes[n].provider->ops;
    if (ops->n_outputs > 1)
      multi += ops->n_outputs;
  }
  /* The whole program's instructions at once: APPLY per node, TRAIN or
   * LOAD (and LOAD before an incremental TRAIN) per stateful node, the
   * GETs, then FEED, its two GETs and SINK or DUMP + COMMIT. Growing by
   * doubling instead copied the array ~twice at 1e6 steps. */
  size_t want = nn + multi + 5;
  for (size_t n = 0; n < nn; n++)
    if (((const sy_actor_ops *)flow->nodes[n].provider->ops)->flags &
        SY_ACTOR_STATEFUL)
      want += 2;
  if (want < UINT32_MAX / 2) {
    prog->code = sy__big_malloc(want * sizeof *prog->code);
    if (!prog->code)
      goto oom;
    prog->cap = (uint32_t)want;
  }
  c.outs_flat = malloc((multi ? multi : 1) * sizeof *c.outs_flat);
  if (!c.outs_flat)
    goto oom;
  multi = 0;
  for (size_t n = 0; n < nn; n++) {
    const sy_actor_ops *ops = flow->nodes[n].provider->ops;
    c.apply[n] = c.state[n] = -1;
    /* c.outs[n] is NULL already (calloc): not writing it leaves the
     * pages of a large flow untouched. */
    if (ops->n_outputs <= 1)
      continue;
    c.outs[n] = c.outs_flat + multi;
    multi += ops->n_outputs;
    for (uint32_t k = 0; k < ops->n_outputs; k++)
      c.outs[n][k] = -1;
  }

  /* The source. A flow without a `source` group whose actors make their
   * own data (`inputs = []`) has no FEED step at all; one that still
   * reads the source is refused here, naming the reader. The callable
   * (no feed instance) always has a FEED step: the request takes its
   * place. */
  c.features = -1;
  if (use_feed && !flow->source.file) {
    if ((rc = check_sourceless(flow, err)) != 0)
      goto fail;
  } else if ((rc = emit_source(&c, p, use_feed, err)) != 0) {
    goto fail;
  }

  /* LOAD keys hash the states' content. */
  if (ctx->states_hash)
    memcpy(c.states_hash, ctx->states_hash, 16);
  else if ((rc = hash_file(loads ? state_file : NULL, c.states_hash, err)))
    goto fail;
  c.incremental = mode == SY_MODE_TRAIN && ctx->incremental;

  int any_stateful = 0;
  for (size_t i = 0; i < nn; i++) {
    size_t n = flow->order[i];
    const sy_actor_ops *ops = flow->nodes[n].provider->ops;
    any_stateful |= (ops->flags & SY_ACTOR_STATEFUL) != 0;
    if ((rc = emit_node(&c, n, mode, err)) != 0)
      goto fail;
  }
  if (mode == SY_MODE_APPLY && any_stateful && !(state_file && *state_file)) {
    rc = sy_error_set(err, SY_ECONFIG,
                      "%s: the flow has stateful actors: apply needs "
                      "trained states; run `switchyard train %s --state "
                      "FILE` first and pass --state FILE",
                      flow->file, flow->file);
    goto fail;
  }

  if (mode == SY_MODE_TRAIN) {
    uint32_t *args = malloc((nn + 1) * sizeof *args);
    uint32_t na = 0;
    if (!args)
      goto oom;
    for (size_t i = 0; i < nn; i++)
      if (c.state[flow->order[i]] >= 0)
        args[na++] = (uint32_t)c.state[flow->order[i]];
    if (na == 0) {
      free(args);
      rc = sy_error_set(err, SY_ECONFIG,
                        "%s: nothing to train: the flow has no stateful "
                        "actor; use `switchyard run`",
                        flow->file);
      goto fail;
    }
    sy_instr dump = {
        .op = SY_OP_DUMP, .node = "states", .args = args, .n_args = na};
    int s = sy__program_emit(prog, &dump);
    free(args);
    if (s < 0)
      goto oom;
    sy__instr_finish(prog, (uint32_t)s, NULL, 0);
    uint32_t arg = (uint32_t)s;
    sy_instr commit = {.op = SY_OP_COMMIT,
                       .node = "states",
                       .args = &arg,
                       .n_args = 1,
                       .flags = SY_INSTR_VOLATILE};
    /* The flow parameters' values (and where each came from) ride on the
     * COMMIT step, which is never cached, so that the generation's tag
     * records them (states.c) on every runner, in-process or not. */
    sy_param *vals = flow->n_decls ? calloc(flow->n_decls, sizeof *vals) : NULL;
    char **texts = flow->n_decls ? calloc(flow->n_decls, sizeof *texts) : NULL;
    if (flow->n_decls && (!vals || !texts)) {
      free(vals);
      free(texts);
      goto oom;
    }
    size_t nv = 0;
    int vrc = 0;
    for (size_t i = 0; i < flow->n_decls && vrc == 0; i++) {
      const sy_flow_decl *d = &flow->decls[i];
      if (!d->text)
        continue;
      const char *org = d->origin ? d->origin : "default";
      if (strncmp(org, "-p ", 3) == 0)
        org = "-p";
      /* A float as its shortest text that reads back the same (0.3, not
       * the canonical 0.29999999999999999). */
      char shortest[40];
      const char *val = d->text;
      if (d->type == SY_FLOW_PFLOAT) {
        double x = strtod(d->text, NULL);
        for (int prec = 1; prec <= 17; prec++) {
          snprintf(shortest, sizeof shortest, "%.*g", prec, x);
          if (strtod(shortest, NULL) == x) {
            val = shortest;
            break;
          }
        }
      }
      if (asprintf(&texts[nv], "%s (%s)", val, org) < 0) {
        texts[nv] = NULL;
        vrc = SY_ENOMEM;
        break;
      }
      vals[nv].key = d->name;
      vals[nv].text = texts[nv];
      nv++;
    }
    if (vrc == 0 && nv > 1)
      qsort(vals, nv, sizeof *vals, cmp_param);
    commit.params = vals;
    commit.n_params = (uint32_t)nv;
    s = vrc ? vrc : sy__program_emit(prog, &commit);
    for (size_t i = 0; i < nv; i++)
      free(texts[i]);
    free(texts);
    free(vals);
    if (s < 0)
      goto oom;
    sy__instr_finish(prog, (uint32_t)s, NULL, 0);
  } else {
    int from = c.features;
    if (flow->sink.input.node) {
      from = resolve(&c, &flow->sink.input);
    } else if (nn > 0) {
      from = output_step(&c, nn - 1, 0);
    }
    if (from < 0)
      goto oom;
    const char *sink = flow->sink.instance ? flow->sink.instance
                                           : platform_default(p, "sink", "out");
    /* A sink instance that sets `passthrough` (sink-stdout, sink-csv)
     * also reads the source's features and label, whose named columns
     * the executor adds beside the results (exec_sink). */
    char section[256];
    snprintf(section, sizeof section, "SINK.%s", sink);
    const char *pass =
        sy_config_get(sy_platform_config(p), section, "passthrough", NULL);
    uint32_t args[3] = {(uint32_t)from, 0, 0}, n_args = 1;
    if (pass && *pass) {
      args[n_args++] = (uint32_t)c.features;
      if (c.label >= 0)
        args[n_args++] = (uint32_t)c.label;
    }
    sy_instr w = {.op = SY_OP_SINK,
                  .node = "sink",
                  .target = (char *)sink,
                  .args = args,
                  .n_args = n_args,
                  .flags = SY_INSTR_VOLATILE};
    int s = sy__program_emit(prog, &w);
    if (s < 0)
      goto oom;
    sy__instr_finish(prog, (uint32_t)s, NULL, 0);
  }
  if ((rc = prune(prog, NULL, err)) != 0)
    goto fail;
  if (sy__program_set_res(prog, flow) != 0)
    goto oom;
  *out = prog;
  prog = NULL;
  rc = 0;
  goto done;
oom:
  rc = sy_error_set(err, SY_ENOMEM, "out of memory");
fail:
  sy_program_free(prog);
done:
  free(c.outs);
  free(c.outs_flat);
  free(c.apply);
  free(c.state);
  free(c.ids);
  free(c.pinned);
  return rc;
}

static int res_cmp(const void *a, const void *b) {
  return strcmp(((const sy__node_res *)a)->node,
                ((const sy__node_res *)b)->node);
}

int sy__program_set_res(sy_program *prog, const sy_flow *flow) {
  size_t n = 0;
  for (size_t i = 0; i < flow->n_nodes; i++)
    n += sy__flow_res_any(flow->nodes[i].res) != 0;
  if (n == 0)
    return 0;
  sy__node_res *res = calloc(n, sizeof *res);
  if (!res)
    return SY_ENOMEM;
  n = 0;
  for (size_t i = 0; i < flow->n_nodes; i++) {
    const sy_flow_node *node = &flow->nodes[i];
    if (!sy__flow_res_any(node->res))
      continue;
    sy__node_res *r = &res[n++];
    if (!(r->node = sy__program_intern(prog, node->id))) {
      free(res);
      return SY_ENOMEM;
    }
    r->cpus = node->res->cpus;
    r->gpus = node->res->gpus;
    r->retries = node->res->retries;
    r->memory = node->res->memory;
    r->timeout = node->res->timeout;
  }
  qsort(res, n, sizeof *res, res_cmp);
  free(prog->res);
  prog->res = res;
  prog->n_res = (uint32_t)n;
  return 0;
}

/* ---- eval: folds and sweep branches of one program ------------------ */

/* The metrics eval knows, and whether more is better. */
static const struct {
  const char *name;
  int higher;
} eval_metrics[] = {{"accuracy", 1}, {"log_loss", 0}, {"roc_auc", 1},
                    {"r2", 1},       {"rmse", 0},     {"mae", 0}};
#define N_EVAL_METRICS (sizeof eval_metrics / sizeof eval_metrics[0])

int sy_eval_metric_higher(const char *name) {
  for (size_t i = 0; name && i < N_EVAL_METRICS; i++)
    if (strcmp(eval_metrics[i].name, name) == 0)
      return eval_metrics[i].higher;
  return -1;
}

/* One path's per-node step tables (see compiler). */
typedef struct eval_path {
  int32_t *apply, *state, **outs, *outs_flat;
} eval_path;

static void path_free(eval_path *p) {
  free(p->apply);
  free(p->state);
  free(p->outs);
  free(p->outs_flat);
}

static int path_alloc(const sy_flow *flow, eval_path *p) {
  size_t nn = flow->n_nodes, multi = 0;
  for (size_t n = 0; n < nn; n++) {
    const sy_actor_ops *ops = flow->nodes[n].provider->ops;
    if (ops->n_outputs > 1)
      multi += ops->n_outputs;
  }
  p->apply = malloc((nn + 1) * sizeof *p->apply);
  p->state = malloc((nn + 1) * sizeof *p->state);
  p->outs = calloc(nn + 1, sizeof *p->outs);
  p->outs_flat = malloc((multi + 1) * sizeof *p->outs_flat);
  if (!p->apply || !p->state || !p->outs || !p->outs_flat)
    return SY_ENOMEM;
  multi = 0;
  for (size_t n = 0; n < nn; n++) {
    const sy_actor_ops *ops = flow->nodes[n].provider->ops;
    p->apply[n] = p->state[n] = -1;
    if (ops->n_outputs <= 1)
      continue;
    p->outs[n] = p->outs_flat + multi;
    multi += ops->n_outputs;
  }
  return 0;
}

/* Forgets node n's steps on path p, so that it is emitted again. */
static void path_reset(const sy_flow *flow, eval_path *p, size_t n) {
  const sy_actor_ops *ops = flow->nodes[n].provider->ops;
  p->apply[n] = p->state[n] = -1;
  for (uint32_t k = 0; p->outs[n] && k < ops->n_outputs; k++)
    p->outs[n][k] = -1;
}

static void path_use(compiler *c, eval_path *p) {
  c->apply = p->apply;
  c->state = p->state;
  c->outs = p->outs;
}

/* An APPLY of a built-in eval actor (metrics.*); params in key order. */
static int emit_actor(compiler *c, const char *id, const char *actor,
                      const sy_param *params, uint32_t n_params,
                      const uint32_t *args, uint32_t n_args, uint32_t n_outputs,
                      sy_error *err) {
  const sy_provider *pr = sy_catalog_find(c->cat, SY_KIND_ACTOR, actor);
  if (!pr || !pr->ops)
    return sy_error_set(err, SY_ENOENT,
                        "eval needs the actor %s (plugin actor-metrics), which "
                        "is not installed; try: switchyard providers list "
                        "actor",
                        actor);
  sy_flow_node tmp = {0};
  tmp.id = (char *)id;
  tmp.actor = (char *)actor;
  tmp.provider = pr;
  uint8_t extra[32];
  int nx = node_extra(c, &tmp, extra, err);
  if (nx < 0)
    return nx;
  sy_instr t = {.op = SY_OP_APPLY,
                .node = (char *)id,
                .target = (char *)actor,
                .version = (char *)pr->version,
                .params = (sy_param *)params,
                .n_params = n_params,
                .args = (uint32_t *)args,
                .n_args = n_args,
                .n_outputs = n_outputs};
  int s = sy__program_emit(c->prog, &t);
  if (s < 0)
    return sy_error_set(err, s, "out of memory");
  sy__instr_finish(c->prog, (uint32_t)s, extra, (size_t)nx);
  return s;
}

static int emit_get(compiler *c, const char *id, uint32_t from, uint32_t k) {
  sy_instr get = {.op = SY_OP_GET,
                  .node = (char *)id,
                  .index = k,
                  .args = &from,
                  .n_args = 1};
  int s = sy__program_emit(c->prog, &get);
  if (s >= 0)
    sy__instr_finish(c->prog, (uint32_t)s, NULL, 0);
  return s;
}

int sy_flow_sweep_branches(const sy_flow *flow, size_t *count) {
  size_t b = 1;
  for (size_t n = 0; n < flow->n_nodes; n++)
    for (size_t w = 0; w < flow->nodes[n].n_sweeps; w++) {
      b *= flow->nodes[n].sweeps[w].n_values;
      if (b > 4096)
        return SY_ETOOBIG;
    }
  *count = b;
  return 0;
}

/* The value index of every sweep in branch b (mixed radix, the last
 * sweep written varying fastest), and its label "node.key=v ..." . */
static void branch_pick(const sy_flow *flow, size_t b, uint32_t *pick,
                        sy_buf *label) {
  size_t total = 0;
  for (size_t n = 0; n < flow->n_nodes; n++)
    total += flow->nodes[n].n_sweeps;
  size_t g = total;
  for (size_t n = flow->n_nodes; n-- > 0;)
    for (size_t w = flow->nodes[n].n_sweeps; w-- > 0;) {
      size_t m = flow->nodes[n].sweeps[w].n_values;
      pick[--g] = (uint32_t)(b % m);
      b /= m;
    }
  if (!label)
    return;
  g = 0;
  int first = 1;
  for (size_t n = 0; n < flow->n_nodes; n++)
    for (size_t w = 0; w < flow->nodes[n].n_sweeps; w++, g++) {
      const sy_flow_sweep *sw = &flow->nodes[n].sweeps[w];
      const char *v = sw->values[pick[g]];
      char shortest[40];
      if (sw->types[pick[g]] == SY_FLOW_PFLOAT) {
        /* The shortest text that reads back to the same double: 0.1,
         * not 0.10000000000000001. */
        double d = strtod(v, NULL);
        for (int prec = 1; prec <= 17; prec++) {
          snprintf(shortest, sizeof shortest, "%.*g", prec, d);
          if (strtod(shortest, NULL) == d)
            break;
        }
        v = shortest;
      }
      sy_buf_printf(label, "%s%s.%s=%s", first ? "" : " ", flow->nodes[n].id,
                    sw->key, v);
      first = 0;
    }
}

int sy_flow_sweep_label(const sy_flow *flow, size_t b, char **label) {
  size_t total = 0, count = 0;
  *label = NULL;
  if (sy_flow_sweep_branches(flow, &count) != 0 || b >= count)
    return SY_ERANGE;
  for (size_t n = 0; n < flow->n_nodes; n++)
    total += flow->nodes[n].n_sweeps;
  uint32_t *pick = calloc(total + 1, sizeof *pick);
  sy_buf buf = SY_BUF_INIT;
  if (!pick)
    return SY_ENOMEM;
  branch_pick(flow, b, pick, &buf);
  sy_buf_puts(&buf, "");
  free(pick);
  if (buf.failed) {
    sy_buf_free(&buf);
    return SY_ENOMEM;
  }
  *label = buf.data;
  return 0;
}

int sy_flow_sweep_fix(sy_flow *flow, size_t b, sy_error *err) {
  size_t total = 0, count = 0;
  if (sy_flow_sweep_branches(flow, &count) != 0 || b >= count)
    return sy_error_set(err, SY_ERANGE, "%s: no sweep branch %zu", flow->file,
                        b);
  for (size_t n = 0; n < flow->n_nodes; n++)
    total += flow->nodes[n].n_sweeps;
  uint32_t *pick = calloc(total + 1, sizeof *pick);
  if (!pick)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  branch_pick(flow, b, pick, NULL);
  size_t g = 0;
  int rc = 0;
  for (size_t n = 0; n < flow->n_nodes && rc == 0; n++) {
    sy_flow_node *node = &flow->nodes[n];
    for (size_t w = 0; w < node->n_sweeps && rc == 0; w++, g++) {
      const sy_flow_sweep *sw = &node->sweeps[w];
      size_t p = 0;
      while (p < node->n_params && strcmp(node->params[p].key, sw->key) != 0)
        p++;
      if (p == node->n_params) {
        /* The params array is in the flow's arena: grow by a copy. */
        sy_flow_param *grown =
            sy__arena_alloc(&flow->mem, (node->n_params + 1) * sizeof *grown);
        if (!grown) {
          rc = sy_error_set(err, SY_ENOMEM, "out of memory");
          break;
        }
        if (node->n_params)
          memcpy(grown, node->params, node->n_params * sizeof *grown);
        node->params = grown;
        node->n_params++;
      }
      sy_flow_param *prm = &node->params[p];
      prm->key = sw->key;
      prm->text = sw->values[pick[g]];
      prm->type = sw->types[pick[g]];
      prm->ref = NULL;
      prm->line = sw->line;
      prm->file = sw->file;
    }
  }
  for (size_t n = 0; n < flow->n_nodes && rc == 0; n++)
    flow->nodes[n].n_sweeps = 0;
  free(pick);
  return rc;
}

int sy_flow_compile_eval(sy_platform *p, const sy_flow *flow,
                         const sy_eval_options *o, sy_program **out,
                         size_t *table_step, sy_error *err) {
  *out = NULL;
  if (!o || o->size < sizeof *o)
    return sy_error_set(err, SY_EINVAL,
                        "sy_flow_compile_eval: options of an unknown size");
  if (!flow->source.label)
    return sy_error_set(err, SY_ECONFIG,
                        "%s: eval compares predictions with the label: set "
                        "source.label",
                        flow->file);
  uint32_t K = o->folds;
  if (K == 0 && !(o->holdout > 0 && o->holdout < 1))
    return sy_error_set(err, SY_EUSAGE,
                        "eval: give --folds K (2 or more) or --holdout F (0 < "
                        "F < 1)");
  if (K == 1 || K > 1000)
    return sy_error_set(err, SY_EUSAGE,
                        "eval: --folds must be between 2 and 1000, not %u", K);
  if (K == 0)
    K = 1;
  /* Metrics: as asked, or by the model. */
  const char *metrics[N_EVAL_METRICS];
  size_t M = 0;
  size_t nn = flow->n_nodes;
  size_t pred_node = nn - 1;
  if (flow->sink.input.node && flow->sink.input.target >= 0)
    pred_node = (size_t)flow->sink.input.target;
  if (o->metrics && o->metrics[0]) {
    for (const char *const *m = o->metrics; *m; m++) {
      if (sy_eval_metric_higher(*m) < 0) {
        const char *names[N_EVAL_METRICS];
        for (size_t i = 0; i < N_EVAL_METRICS; i++)
          names[i] = eval_metrics[i].name;
        const char *near = sy__suggest(*m, names, N_EVAL_METRICS);
        return sy_error_set(err, SY_EUSAGE,
                            "eval: unknown metric '%s'%s%s%s; known: "
                            "accuracy, log_loss, roc_auc, r2, rmse, mae",
                            *m, near ? " (did you mean '" : "",
                            near ? near : "", near ? "'?)" : "");
      }
      for (size_t i = 0; i < M; i++)
        if (strcmp(metrics[i], *m) == 0)
          return sy_error_set(err, SY_EUSAGE, "eval: metric '%s' given twice",
                              *m);
      if (M == N_EVAL_METRICS)
        break;
      metrics[M++] = *m;
    }
  } else if (strcmp(flow->nodes[pred_node].actor, "std.logreg") == 0) {
    metrics[M++] = "accuracy";
    metrics[M++] = "log_loss";
  } else {
    metrics[M++] = "r2";
    metrics[M++] = "rmse";
    metrics[M++] = "mae";
  }
  size_t B = 0;
  if (sy_flow_sweep_branches(flow, &B) != 0 || B * K > 4096)
    return sy_error_set(err, SY_ETOOBIG,
                        "%s: eval: too many branches x folds (at most 4096)",
                        flow->file);
  size_t n_sweeps = 0;
  for (size_t n = 0; n < nn; n++)
    n_sweeps += flow->nodes[n].n_sweeps;

  compiler c = {0};
  eval_path tr = {0}, te = {0};
  int rc = SY_ENOMEM;
  sy_program *prog = calloc(1, sizeof *prog);
  size_t *sweep_at = calloc(nn + 1, sizeof *sweep_at);
  uint32_t *pick = calloc(n_sweeps + 1, sizeof *pick);
  uint8_t *dep = calloc(nn + 1, 1);
  uint32_t *metric_steps = malloc((B * K * M + 1) * sizeof *metric_steps);
  char **labels = calloc(B + 1, sizeof *labels);
  sy_buf branches = SY_BUF_INIT;
  if (!prog || !sweep_at || !pick || !dep || !metric_steps || !labels ||
      path_alloc(flow, &tr) != 0 || path_alloc(flow, &te) != 0)
    goto oom;
  prog->mode = SY_MODE_RUN;
  prog->flow_name = strdup(flow->name ? flow->name : "");
  prog->flow_file = strdup(flow->file ? flow->file : "");
  prog->state_file = strdup("");
  prog->commit_to = strdup("");
  if (!prog->flow_name || !prog->flow_file || !prog->state_file ||
      !prog->commit_to)
    goto oom;
  sy__flow_hash(flow, prog->flow_hash);
  c.prog = prog;
  c.flow = flow;
  c.cat = sy_platform_catalog(p);
  c.label = -1;
  /* Sweeps, and which nodes they reach. */
  for (size_t n = 0, g = 0; n < nn; n++) {
    sweep_at[n] = g;
    g += flow->nodes[n].n_sweeps;
  }
  for (size_t i = 0; i < nn; i++) {
    size_t n = flow->order[i];
    const sy_flow_node *node = &flow->nodes[n];
    dep[n] = node->n_sweeps > 0;
    for (size_t k = 0; k < node->n_inputs; k++)
      if (node->inputs[k].target >= 0 && dep[node->inputs[k].target])
        dep[n] = 1;
  }
  c.sweep_at = sweep_at;
  c.pick = pick;
  c.dep = dep;
  for (size_t b = 0; b < B && n_sweeps; b++) {
    sy_buf l = SY_BUF_INIT;
    branch_pick(flow, b, pick, &l);
    sy_buf_puts(&l, "");
    if (l.failed) {
      sy_buf_free(&l);
      goto oom;
    }
    labels[b] = l.data;
    sy_buf_printf(&branches, "%s%s", b ? "," : "", labels[b]);
  }

  /* The source. */
  const char *feed = flow->source.feed ? flow->source.feed
                                       : platform_default(p, "feed", "data");
  uint8_t fp[16];
  int have_fp = 0;
  if ((rc = feed_fingerprint(p, feed, flow->source.table, fp, &have_fp, err)))
    goto fail;
  sy_instr t = {.op = SY_OP_FEED,
                .node = "source",
                .target = (char *)feed,
                .table = flow->source.table,
                .label = flow->source.label,
                .n_outputs = 2,
                .flags = have_fp ? 0 : SY_INSTR_VOLATILE};
  int s = sy__program_emit(prog, &t);
  if (s < 0)
    goto oom;
  sy__instr_finish(prog, (uint32_t)s, have_fp ? fp : NULL, have_fp ? 16 : 0);
  int F = emit_get(&c, "source", (uint32_t)s, 0);
  int L = emit_get(&c, "source", (uint32_t)s, 1);
  if (F < 0 || L < 0)
    goto oom;

  char foldk[32], seed[32], holdout[64], folds_text[32], kbuf[32];
  char idbuf[512], branch[1024];
  snprintf(seed, sizeof seed, "%lld", (long long)o->seed);
  snprintf(holdout, sizeof holdout, "%.17g", K == 1 ? o->holdout : 0.0);
  snprintf(folds_text, sizeof folds_text, "%u", K == 1 ? 2u : K);
  for (uint32_t k = 0; k < K; k++) {
    snprintf(foldk, sizeof foldk, "%u", k);
    snprintf(kbuf, sizeof kbuf, "@%u", k + 1);
    c.fold = K > 1 ? kbuf : NULL;
    int parts[2][2];
    for (int part = 0; part < 2; part++) {
      /* Keys in strcmp order. */
      sy_param fp_params[5] = {{"fold", foldk},
                               {"folds", folds_text},
                               {"holdout", holdout},
                               {"part", part ? "test" : "train"},
                               {"seed", seed}};
      snprintf(idbuf, sizeof idbuf, "%s%s", part ? "test" : "train",
               c.fold ? c.fold : "");
      uint32_t args[2] = {(uint32_t)F, (uint32_t)L};
      int f =
          emit_actor(&c, idbuf, "metrics.fold", fp_params, 5, args, 2, 2, err);
      if (f < 0) {
        rc = f;
        goto fail;
      }
      parts[part][0] = emit_get(&c, idbuf, (uint32_t)f, 0);
      parts[part][1] = emit_get(&c, idbuf, (uint32_t)f, 1);
      if (parts[part][0] < 0 || parts[part][1] < 0)
        goto oom;
    }
    for (size_t b = 0; b < B; b++) {
      if (n_sweeps) {
        branch_pick(flow, b, pick, NULL);
        snprintf(branch, sizeof branch, "[%s]", labels[b]);
        for (char *sp = branch; *sp; sp++)
          if (*sp == ' ')
            *sp = ',';
        c.branch = branch;
      }
      /* Train path: fit on the fold's train rows. A node no sweep
       * reaches is emitted once per fold (branch 0) and shared. */
      for (int pass = 0; pass < 2; pass++) {
        eval_path *pt = pass ? &te : &tr;
        path_use(&c, pt);
        if (pass)
          c.state = tr.state;
        c.given_states = pass;
        c.features = parts[pass][0];
        c.label = pass ? -1 : parts[0][1];
        for (size_t i = 0; i < nn; i++) {
          size_t n = flow->order[i];
          if (b > 0 && !dep[n])
            continue;
          if (!pass)
            path_reset(flow, &tr, n);
          else
            path_reset(flow, &te, n), te.state[n] = -1;
          if (pass)
            c.state = tr.state;
          if ((rc = emit_node(&c, n, SY_MODE_RUN, err)) != 0)
            goto fail;
        }
      }
      int pred = flow->sink.input.node ? resolve(&c, &flow->sink.input)
                                       : output_step(&c, nn - 1, 0);
      if (pred < 0)
        goto oom;
      for (size_t m = 0; m < M; m++) {
        char actor[64];
        snprintf(actor, sizeof actor, "metrics.%s", metrics[m]);
        snprintf(idbuf, sizeof idbuf, "%s%s%s", metrics[m],
                 c.branch ? c.branch : "", c.fold ? c.fold : "");
        uint32_t args[2] = {(uint32_t)pred, (uint32_t)parts[1][1]};
        int ms = emit_actor(&c, idbuf, actor, NULL, 0, args, 2, 1, err);
        if (ms < 0) {
          rc = ms;
          goto fail;
        }
        metric_steps[(b * K + k) * M + m] = (uint32_t)ms;
      }
    }
  }
  c.fold = c.branch = NULL;
  sy_buf names = SY_BUF_INIT;
  for (size_t m = 0; m < M; m++)
    sy_buf_printf(&names, "%s%s", m ? "," : "", metrics[m]);
  snprintf(kbuf, sizeof kbuf, "%u", K);
  sy_buf_puts(&branches, "");
  sy_param tp[3] = {
      {"branches", branches.data}, {"folds", kbuf}, {"metrics", names.data}};
  int table = names.failed || branches.failed
                  ? SY_ENOMEM
                  : emit_actor(&c, "table", "metrics.table",
                               n_sweeps ? tp : tp + 1, n_sweeps ? 3 : 2,
                               metric_steps, (uint32_t)(B * K * M), 1, err);
  sy_buf_free(&names);
  if (table < 0) {
    rc = table;
    if (rc == SY_ENOMEM)
      goto oom;
    goto fail;
  }
  if (o->sink) {
    uint32_t arg = (uint32_t)table;
    sy_instr w = {.op = SY_OP_SINK,
                  .node = "sink",
                  .target = (char *)o->sink,
                  .args = &arg,
                  .n_args = 1,
                  .flags = SY_INSTR_VOLATILE};
    s = sy__program_emit(prog, &w);
    if (s < 0)
      goto oom;
    sy__instr_finish(prog, (uint32_t)s, NULL, 0);
  }
  uint32_t root = (uint32_t)table;
  if ((rc = prune(prog, &root, err)) != 0)
    goto fail;
  if (sy__program_set_res(prog, flow) != 0)
    goto oom;
  *table_step = root;
  *out = prog;
  prog = NULL;
  rc = 0;
  goto done;
oom:
  rc = sy_error_set(err, SY_ENOMEM, "out of memory");
fail:
  sy_program_free(prog);
done:
  path_free(&tr);
  path_free(&te);
  free(c.pinned);
  free(sweep_at);
  free(pick);
  free(dep);
  free(metric_steps);
  for (size_t b = 0; labels && b < B; b++)
    free(labels[b]);
  free(labels);
  sy_buf_free(&branches);
  return rc;
}

/* ---- the public entry points ---------------------------------------- */

int sy_flow_load(sy_platform *p, const char *path, const char *text,
                 FILE *report, sy_flow **out, sy_error *err) {
  return sy__flow_load_valid_params(path, text, sy_platform_catalog(p),
                                    sy__platform_params(p), report, out, err);
}

void sy_flow_free(sy_flow *flow) {
  sy__flow_free(flow);
}

const char *sy_flow_name(const sy_flow *flow) {
  return flow->name ? flow->name : "";
}

void sy_flow_hash_hex(const sy_flow *flow, char out[33]) {
  uint8_t hash[16];
  sy__flow_hash(flow, hash);
  sy__hex(hash, 16, out);
}

size_t sy_flow_node_count(const sy_flow *flow) {
  return flow->n_nodes;
}

void sy_flow_node_actor(const sy_flow *flow, size_t i, const char **actor,
                        const char **version) {
  const sy_flow_node *n = &flow->nodes[i];
  if (actor)
    *actor = n->actor;
  if (version)
    *version = n->provider ? n->provider->version : "";
}

const char *sy_flow_file(const sy_flow *flow) {
  return flow->file ? flow->file : "";
}

int sy_flow_source(const sy_flow *flow, const char **feed, const char **table,
                   const char **label, const char **file, int *line) {
  if (feed)
    *feed = flow->source.feed;
  if (table)
    *table = flow->source.table;
  if (label)
    *label = flow->source.label;
  if (file)
    *file = flow->source.file;
  if (line)
    *line = flow->source.line;
  return flow->source.file != NULL;
}

const sy_feed_query *sy_flow_source_query(const sy_flow *flow,
                                          const int **where_lines,
                                          int *columns_line, int *order_line) {
  if (where_lines)
    *where_lines = flow->source.where_lines;
  if (columns_line)
    *columns_line = flow->source.columns_line;
  if (order_line)
    *order_line = flow->source.order_line;
  return flow->source.has_query ? &flow->source.query : NULL;
}

const char *sy_flow_sink(const sy_flow *flow, int *line) {
  if (line)
    *line = flow->sink.line;
  return flow->sink.instance;
}

const uint32_t *sy_flow_order(const sy_flow *flow) {
  return flow->order;
}

const char *sy_flow_node_id(const sy_flow *flow, size_t i,
                            const sy_provider **provider) {
  if (provider)
    *provider = flow->nodes[i].provider;
  return flow->nodes[i].id;
}

size_t sy_flow_node_input_count(const sy_flow *flow, size_t i) {
  return flow->nodes[i].n_inputs;
}

int32_t sy_flow_node_input(const sy_flow *flow, size_t i, size_t k,
                           uint32_t *output) {
  const sy_flow_input *in = &flow->nodes[i].inputs[k];
  if (output)
    *output = in->output;
  return in->target;
}

const char *sy_flow_node_param(const sy_flow *flow, size_t i, const char *key,
                               const char **file, int *line) {
  const sy_flow_node *n = &flow->nodes[i];
  for (size_t k = 0; k < n->n_params; k++)
    if (strcmp(n->params[k].key, key) == 0) {
      if (file)
        *file = n->params[k].file;
      if (line)
        *line = n->params[k].line;
      return n->params[k].text;
    }
  return NULL;
}

int sy_flow_compile(sy_platform *p, const sy_flow *flow, sy_mode mode,
                    const sy_flow_compile_options *opts, sy_program **out,
                    sy_error *err) {
  *out = NULL;
  sy__compile_ctx ctx = {0, NULL, NULL, NULL, 0};
  if (opts && opts->size >= sizeof *opts) {
    ctx.no_feed = opts->no_feed;
    ctx.states = opts->states;
    ctx.states_hash = opts->states_hash;
    ctx.commit_to = opts->commit_to;
    ctx.incremental = opts->incremental;
  } else if (opts) {
    return sy_error_set(err, SY_EINVAL,
                        "sy_flow_compile: options of an unknown size %u",
                        (unsigned)opts->size);
  }
  return sy__compile_flow(p, flow, mode, NULL, &ctx, out, err);
}

int sy__program_compile(sy_platform *p, const char *path, sy_mode mode,
                        const sy_compile_options *opts, FILE *report,
                        const sy__compile_ctx *ctx, sy_program **out,
                        sy_error *err) {
  sy_flow *flow = NULL;
  *out = NULL;
  int rc =
      sy__flow_load_valid_params(path, NULL, sy_platform_catalog(p),
                                 sy__platform_params(p), report, &flow, err);
  if (rc == 0)
    rc = sy__compile_flow(p, flow, mode, opts, ctx, out, err);
  sy__flow_free(flow);
  return rc;
}

int sy_program_compile(sy_platform *p, const char *path, sy_mode mode,
                       const sy_compile_options *opts, FILE *report,
                       sy_program **out, sy_error *err) {
  return sy__program_compile(p, path, mode, opts, report, NULL, out, err);
}
