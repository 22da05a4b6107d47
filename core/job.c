/*
 * job.c - a program bound to this process: making and freeing the job,
 * its instances and its per-step tables, running it on a runner, and
 * what runners and other clients may ask of it. What a step means is the
 * executor's (executor.c).
 *
 * Memory: every step's outputs are kept until each consumer edge has run
 * (an atomic countdown per step), then released at once, so a long flow
 * holds only the values still ahead of it. The slots that hold them are
 * one array made with the job (job->vals, indexed through out_start), so
 * a step's completion neither allocates nor frees: in a thread pool a
 * per-step malloc here was freed by another thread, which cost more than
 * an empty step.
 *
 * Actor instances: TRAIN makes a fresh instance, trains it, saves its state
 * and destroys it. APPLY with a state makes an instance and loads the
 * state, so a state that came from this process, another process or a
 * file is applied in exactly the same way. The instance is kept per step
 * and reused while the state is the same value (the callable's fast path).
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

/* ---- introspection -------------------------------------------------- */

size_t sy_job_size(const sy_job *job) {
  return job->n;
}
sy_op sy_job_step_op(const sy_job *job, size_t s) {
  return job->prog->code[s].op;
}
size_t sy_job_step_inputs(const sy_job *job, size_t s, const uint32_t **idx) {
  *idx = job->prog->code[s].args;
  return job->prog->code[s].n_args;
}
size_t sy_job_step_consumers(const sy_job *job, size_t s,
                             const uint32_t **idx) {
  *idx = job->cons + job->cons_start[s];
  return job->cons_start[s + 1] - job->cons_start[s];
}
size_t sy_job_step_outputs(const sy_job *job, size_t s) {
  return job->prog->code[s].n_outputs;
}
const char *sy_job_step_label(const sy_job *job, size_t s) {
  return sy__instr_text(job->prog, (uint32_t)s);
}
const char *sy_job_step_node(const sy_job *job, size_t s) {
  return job->prog->code[s].node;
}
const char *sy_job_step_target(const sy_job *job, size_t s) {
  return job->prog->code[s].target;
}
const char *sy_job_step_key(const sy_job *job, size_t s) {
  return sy__instr_key_hex(job->prog, (uint32_t)s);
}
uint32_t sy_job_step_index(const sy_job *job, size_t s) {
  return s < job->n && job->prog->code[s].op == SY_OP_GET
             ? job->prog->code[s].index
             : 0;
}
sy_step_class sy_job_step_class(const sy_job *job, size_t s) {
  return sy__op_class(job->prog->code[s].op);
}
size_t sy_job_output_source(const sy_job *job, size_t s, uint32_t k,
                            uint32_t *src_out) {
  while (s < job->n && job->prog->code[s].op == SY_OP_GET) {
    k = job->prog->code[s].index;
    s = job->prog->code[s].args[0];
  }
  if (src_out)
    *src_out = k;
  return s;
}
const sy_value *sy_job_states(const sy_job *job) {
  return job->committed;
}
const char *sy_job_commit_file(const sy_job *job) {
  return job->state_file;
}
int sy_job_loaded_states(const sy_job *job, sy_value **out, sy_error *err) {
  *out = NULL;
  int loads = 0;
  for (uint32_t s = 0; s < job->n; s++)
    loads |= job->prog->code[s].op == SY_OP_LOAD;
  if (!loads)
    return 0;
  return sy__bundle_encode(job->states, job->n_states, out, err);
}
const sy_program *sy_job_program(const sy_job *job) {
  return job->prog;
}
sy_platform *sy_job_platform(const sy_job *job) {
  return job->platform;
}
sy_instance *sy_job_storage(const sy_job *job) {
  return job->storage;
}
const char *sy_job_cache_mode(const sy_job *job) {
  if (!job->storage)
    return "off";
  return job->cache_read && job->cache_write ? "readwrite"
         : job->cache_read                   ? "read"
                                             : "write";
}

/* ---- lifecycle ------------------------------------------------------ */

void sy_job_free(sy_job *job) {
  if (!job)
    return;
  for (uint32_t s = 0; s < job->n; s++) {
    if (job->vals)
      sy__release_outputs(job, s);
    if (job->actors)
      sy__actor_free(job->actors[s]);
    /* Feeds and sinks may be shared by several steps: destroy once. */
    if (job->feeds && job->feeds[s]) {
      sy_instance *inst = job->feeds[s];
      for (uint32_t t = s; t < job->n; t++)
        if (job->feeds[t] == inst)
          job->feeds[t] = NULL;
      sy_instance_destroy(inst);
    }
    if (job->sinks && job->sinks[s]) {
      sy_instance *inst = job->sinks[s];
      for (uint32_t t = s; t < job->n; t++)
        if (job->sinks[t] == inst)
          job->sinks[t] = NULL;
      sy_instance_destroy(inst);
    }
  }
  sy__events_free(job);
  sy__units_free(atomic_load(&job->units));
  sy_instance_destroy(job->storage);
  for (uint32_t g = 0; g < job->n_groups; g++) {
    sy__actor_free(atomic_load(&job->groups[g].slot));
    pthread_mutex_destroy(&job->groups[g].lock);
  }
  free(job->groups);
  free(job->actor_group);
  free(job->stale_code);
  free(job->vals);
  free(job->out_start);
  free(job->pending);
  free(job->cons_start);
  free(job->cons);
  free(job->actors);
  free(job->feeds);
  free(job->sinks);
  sy__bundle_free(job->states, job->n_states);
  free(job->state_file);
  sy_value_unref(job->committed);
  free(job);
}

/* One instance per distinct target, shared by the steps that use it. */
static int bind_instance(sy_job *job, sy_instance **slots, size_t s,
                         sy_kind kind, sy_error *err) {
  const char *target = job->prog->code[s].target;
  for (size_t t = 0; t < s; t++)
    if (slots[t] && strcmp(job->prog->code[t].target, target) == 0 &&
        job->prog->code[t].op == job->prog->code[s].op) {
      slots[s] = slots[t];
      return 0;
    }
  return sy_instance_create(sy_platform_config(job->platform),
                            sy_platform_catalog(job->platform), kind, target,
                            &slots[s], err);
}

static int load_states(sy_job *job, const char *path, sy_error *err) {
  void *data = NULL;
  size_t len = 0;
  if (strncmp(path, "registry:", 9) == 0) {
    sy_value *bundle = NULL;
    int rc = sy__registry_states(job, &bundle, err);
    if (rc)
      return rc;
    const void *bytes = sy_bytes_data(bundle, &len);
    rc = bytes
             ? sy__bundle_decode(bytes, len, &job->states, &job->n_states, err)
             : sy_error_set(err, SY_ECORRUPT, "states are not bytes");
    if (rc)
      sy_error_prefix(err, "%s", path);
    sy_value_unref(bundle);
    return rc;
  }
  int rc = sy_file_read(path, SY__STATE_FILE_MAX, &data, &len, err);
  if (rc)
    return rc;
  rc = sy__bundle_decode(data, len, &job->states, &job->n_states, err);
  if (rc)
    sy_error_prefix(err, "%s", path);
  free(data);
  return rc;
}

/* The result cache: [PLATFORM] storage, used as [PLATFORM] cache (or the
 * job option) says. When the storage is only the built-in default name
 * and no such instance or provider exists, caching is simply off. */
static int bind_storage(sy_job *job, const sy_job_options *opts,
                        sy_error *err) {
  const sy_config *cfg = sy_platform_config(job->platform);
  const char *mode = opts && opts->size >= sizeof(sy_job_options) && opts->cache
                         ? opts->cache
                         : sy_config_get(cfg, "PLATFORM", "cache", NULL);
  if (!mode || !*mode)
    mode = "readwrite";
  if (strcmp(mode, "off") == 0)
    return 0;
  job->cache_read = strcmp(mode, "read") == 0 || strcmp(mode, "readwrite") == 0;
  job->cache_write =
      strcmp(mode, "write") == 0 || strcmp(mode, "readwrite") == 0;
  if (!job->cache_read && !job->cache_write)
    return sy_error_set(err, SY_ECONFIG,
                        "cache mode '%s' is not one of off, read, write, "
                        "readwrite",
                        mode);
  const char *origin = NULL;
  const char *name = sy_config_get(cfg, "PLATFORM", "storage", &origin);
  int defaulted = !name || !origin || strcmp(origin, "default") == 0;
  if (!name || !*name)
    name = "cache";
  sy_error e;
  sy_error_clear(&e);
  int rc = sy_instance_create(cfg, sy_platform_catalog(job->platform),
                              SY_KIND_STORAGE, name, &job->storage, &e);
  if (rc == 0)
    return 0;
  job->cache_read = job->cache_write = 0;
  job->storage = NULL;
  if (defaulted && rc == SY_ECONFIG && strstr(e.message, "unknown storage"))
    return 0;
  if (err)
    *err = e;
  return rc;
}

/* Same actor, version and parameters (programs keep parameters sorted). */
static int same_actor(const sy_instr *a, const sy_instr *b) {
  if (strcmp(a->target, b->target) || strcmp(a->version, b->version) ||
      a->n_params != b->n_params)
    return 0;
  for (uint32_t p = 0; p < a->n_params; p++)
    if (strcmp(a->params[p].key, b->params[p].key) ||
        strcmp(a->params[p].text, b->params[p].text))
      return 0;
  return 1;
}

static uint64_t actor_hash(const sy_instr *in) {
  uint64_t h = XXH3_64bits(in->target, strlen(in->target));
  for (uint32_t p = 0; p < in->n_params; p++) {
    h ^= XXH3_64bits(in->params[p].key, strlen(in->params[p].key)) * 31;
    h = h * 1099511628211u ^
        XXH3_64bits(in->params[p].text, strlen(in->params[p].text));
  }
  return h;
}

/* Maps every stateless APPLY step to a group of identical actors, with an
 * open-addressing table of group representatives. */
static int group_actors(sy_job *job, sy_error *err) {
  uint32_t n = job->n;
  job->actor_group = malloc((n ? n : 1) * sizeof *job->actor_group);
  size_t cap = 16;
  while (cap < 2 * (size_t)n)
    cap *= 2;
  uint32_t *table = malloc(cap * sizeof *table); /* representative step */
  uint32_t *rep_group = malloc((n ? n : 1) * sizeof *rep_group);
  if (!job->actor_group || !table || !rep_group) {
    free(table);
    free(rep_group);
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < cap; i++)
    table[i] = UINT32_MAX;
  const sy_catalog *cat = sy_platform_catalog(job->platform);
  const sy_provider *last = NULL;
  const char *last_name = NULL;
  for (uint32_t s = 0; s < n; s++) {
    const sy_instr *in = &job->prog->code[s];
    job->actor_group[s] = UINT32_MAX;
    if (in->op != SY_OP_APPLY || (in->flags & SY_INSTR_STATE_IN))
      continue;
    if (!last_name || strcmp(last_name, in->target) != 0) {
      last = sy_catalog_find(cat, SY_KIND_ACTOR, in->target);
      last_name = in->target;
    }
    const sy_actor_ops *ops = last ? last->ops : NULL;
    if (!ops || (ops->flags & SY_ACTOR_STATEFUL))
      continue; /* missing actors fail when their step runs */
    size_t i = actor_hash(in) & (cap - 1);
    while (table[i] != UINT32_MAX &&
           !same_actor(&job->prog->code[table[i]], in))
      i = (i + 1) & (cap - 1);
    if (table[i] == UINT32_MAX) {
      table[i] = s;
      rep_group[s] = job->n_groups++;
    }
    job->actor_group[s] = rep_group[table[i]];
  }
  free(table);
  free(rep_group);
  job->groups = calloc(job->n_groups ? job->n_groups : 1, sizeof *job->groups);
  if (!job->groups)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  for (uint32_t g = 0; g < job->n_groups; g++) {
    pthread_mutex_init(&job->groups[g].lock, NULL);
    atomic_init(&job->groups[g].slot, NULL);
  }
  return 0;
}

/* Finds the actor targets whose plugin is not the code the program was
 * compiled against (prog->codes): one catalog lookup per distinct actor,
 * not per step. A program compiled in this process always matches; a
 * saved one does not after a plugin was rebuilt with the same version.
 * Zero hashes (no file) compare too: a program compiled against a file
 * and run with the actor built in (or the reverse) ran other code. A
 * missing actor is left for its step to report. */
static int find_stale_code(sy_job *job, sy_error *err) {
  const sy_program *prog = job->prog;
  const sy_catalog *cat = sy_platform_catalog(job->platform);
  for (uint32_t i = 0; i < prog->n_codes; i++) {
    const sy__code_pin *pin = &prog->codes[i];
    const sy_provider *pr = sy_catalog_find(cat, SY_KIND_ACTOR, pin->target);
    uint8_t now[16];
    if (!pr)
      continue;
    sy__catalog_code_hash(cat, pr, now);
    if (memcmp(now, pin->hash, 16) == 0)
      continue;
    if (!job->stale_code &&
        !(job->stale_code = calloc(prog->n_codes, sizeof *job->stale_code)))
      return sy_error_set(err, SY_ENOMEM, "out of memory");
    job->stale_code[job->n_stale_code++] = pin;
  }
  return 0;
}

int sy_job_new(sy_platform *p, const sy_program *prog,
               const sy_job_options *opts, sy_job **out, sy_error *err) {
  return sy__job_new(p, prog, opts, 1, out, err);
}

int sy__job_new(sy_platform *p, const sy_program *prog,
                const sy_job_options *opts, int bind_io, sy_job **out,
                sy_error *err) {
  *out = NULL;
  sy_job *job = calloc(1, sizeof *job);
  if (!job)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  int rc = SY_ENOMEM;
  uint32_t n = prog->n;
  job->platform = p;
  job->prog = prog;
  job->n = n;
  size_t m = n ? n : 1;
  /* Per-step arrays on huge pages when large (program.h). */
  job->out_start = sy__big_malloc((m + 1) * sizeof *job->out_start);
  job->pending = sy__big_calloc(m, sizeof *job->pending);
  job->cons_start = sy__big_calloc(m + 1, sizeof *job->cons_start);
  job->actors = sy__big_calloc(m, sizeof *job->actors);
  job->feeds = sy__big_calloc(m, sizeof *job->feeds);
  job->sinks = sy__big_calloc(m, sizeof *job->sinks);
  if (!job->out_start || !job->pending || !job->cons_start || !job->actors ||
      !job->feeds || !job->sinks || sy__events_init(job) != 0)
    goto oom;
  /* Output slots: one array for every step's values. */
  uint64_t n_vals = 0;
  for (uint32_t s = 0; s < n; s++) {
    job->out_start[s] = (uint32_t)n_vals;
    n_vals += prog->code[s].n_outputs;
    if (n_vals > UINT32_MAX) {
      rc = sy_error_set(err, SY_ERANGE,
                        "%u steps with %llu outputs are too "
                        "many",
                        n, (unsigned long long)n_vals);
      goto fail;
    }
  }
  job->out_start[n] = (uint32_t)n_vals;
  if (!(job->vals = sy__big_calloc(n_vals ? n_vals : 1, sizeof *job->vals)))
    goto oom;
  /* Consumers, as a compressed adjacency list (one entry per edge). */
  size_t edges = 0;
  for (uint32_t s = 0; s < n; s++)
    for (uint32_t a = 0; a < prog->code[s].n_args; a++) {
      job->cons_start[prog->code[s].args[a] + 1]++;
      edges++;
    }
  for (uint32_t s = 0; s < n; s++)
    job->cons_start[s + 1] += job->cons_start[s];
  job->cons = sy__big_malloc((edges ? edges : 1) * sizeof *job->cons);
  uint32_t *fill = sy__big_calloc(m, sizeof *fill);
  if (!job->cons || !fill) {
    free(fill);
    goto oom;
  }
  for (uint32_t s = 0; s < n; s++)
    for (uint32_t a = 0; a < prog->code[s].n_args; a++) {
      uint32_t src = prog->code[s].args[a];
      job->cons[job->cons_start[src] + fill[src]++] = s;
    }
  free(fill);
  for (uint32_t s = 0; s < n; s++)
    atomic_init(&job->pending[s], job->cons_start[s + 1] - job->cons_start[s]);

  if ((rc = group_actors(job, err)) != 0 ||
      (rc = find_stale_code(job, err)) != 0)
    goto fail;
  for (uint32_t s = 0; bind_io && s < n; s++) {
    if (prog->code[s].op == SY_OP_FEED)
      rc = bind_instance(job, job->feeds, s, SY_KIND_FEED, err);
    else if (prog->code[s].op == SY_OP_SINK)
      rc = bind_instance(job, job->sinks, s, SY_KIND_SINK, err);
    else
      rc = 0;
    if (rc)
      goto fail;
  }
  /* An apply program's states may come from elsewhere than the program
   * names (`exec --state FILE` where the program was shipped to another
   * machine, runner-argo): LOAD keys hash the states' content, so a copy
   * of the same states gives the same keys. */
  const char *load_from = prog->state_file;
  if (prog->mode == SY_MODE_APPLY && opts && opts->state_file &&
      *opts->state_file)
    load_from = opts->state_file;
  if (load_from[0]) {
    int need = 0;
    for (uint32_t s = 0; s < n; s++)
      need |= prog->code[s].op == SY_OP_LOAD;
    if (need && (rc = load_states(job, load_from, err)) != 0)
      goto fail;
  }
  if (opts && opts->state_file && !(job->state_file = strdup(opts->state_file)))
    goto oom;
  if (bind_io && (rc = bind_storage(job, opts, err)) != 0)
    goto fail;
  *out = job;
  return 0;
oom:
  rc = sy_error_set(err, SY_ENOMEM, "out of memory");
fail:
  sy_job_free(job);
  return rc;
}

static int check_runner(sy_job *job, const char *name, const char *provider,
                        int rc, sy_error *e);

/* sy_job_run() calls in progress in this process. */
static atomic_int runs_in_progress;

int sy_job_runs_in_progress(void) {
  return atomic_load(&runs_in_progress);
}

int sy_job_run(sy_job *job, const char *runner, sy_error *err) {
  if (!runner || !*runner)
    runner = sy_config_get(sy_platform_config(job->platform), "PLATFORM",
                           "runner", NULL);
  if (!runner || !*runner)
    runner = "inline";
  sy_instance *inst = NULL;
  int rc = sy_instance_create(sy_platform_config(job->platform),
                              sy_platform_catalog(job->platform),
                              SY_KIND_RUNNER, runner, &inst, err);
  if (rc)
    return rc;
  const sy_provider *pr = sy_instance_provider(inst);
  const sy_runner_ops *ops = pr->ops;
  for (uint32_t s = 0; s < job->n && job->n_listeners; s++)
    sy_job_emit(job, SY_EVENT_QUEUED, s, 0, NULL);
  sy_error e;
  sy_error_clear(&e);
  atomic_fetch_add(&runs_in_progress, 1);
  rc = ops->run(sy_instance_self(inst), job, &e);
  atomic_fetch_sub(&runs_in_progress, 1);
  rc = check_runner(job, runner, pr->name, rc, &e);
  if (err)
    *err = e;
  sy_instance_destroy(inst);
  return rc;
}

void sy_job_skip_run_check(sy_job *job) {
  if (job)
    atomic_store(&job->skip_run_check, 1);
}

/* The core checks the runner's work: a failure has a message that names
 * the runner, and a success means every step of the program ran exactly
 * once (a DONE or CACHED event each), unless the runner said it runs none
 * here (sy_job_skip_run_check). */
static int check_runner(sy_job *job, const char *name, const char *provider,
                        int rc, sy_error *e) {
  if (rc > 0)
    return sy_error_set(e, SY_EPLUGIN,
                        "runner %s (%s) returned %d, which is not an error "
                        "code; the run failed",
                        name, provider, rc);
  if (rc != 0 && !e->message[0])
    return sy_error_set(e, rc,
                        "runner %s (%s) failed with %s (%s) and gave no "
                        "message",
                        name, provider, sy_err_name(rc), sy_strerror(rc));
  if (rc != 0)
    return rc;
  if (sy_job_cancelled(job))
    return sy_error_set(e, SY_ECANCELED, "canceled");
  if (atomic_load(&job->skip_run_check))
    return 0;
  uint32_t done = 0;
  for (uint32_t s = 0; s < job->n; s++)
    done += atomic_load(&job->ran[s]) == 1;
  for (uint32_t s = 0; s < job->n; s++) {
    unsigned n = atomic_load(&job->ran[s]);
    if (n == 0)
      return sy_error_set(e, SY_EPLUGIN,
                          "runner %s (%s) reported success, but step %u (%s) "
                          "never ran (%u of %u steps did); the run failed",
                          name, provider, s, sy__instr_text(job->prog, s), done,
                          job->n);
    if (n > 1)
      return sy_error_set(e, SY_EPLUGIN,
                          "runner %s (%s) reported success, but step %u (%s) "
                          "ran %u times; a runner runs each step once, so the "
                          "run failed",
                          name, provider, s, sy__instr_text(job->prog, s), n);
  }
  return 0;
}

/* ---- for the callable ----------------------------------------------- */

void sy__job_reset(sy_job *job, const uint8_t *keep) {
  for (uint32_t s = 0; s < job->n; s++) {
    if (!keep[s])
      sy__release_outputs(job, s);
    uint32_t c = job->cons_start[s + 1] - job->cons_start[s];
    /* Kept values must never reach zero: their countdown restarts high. */
    atomic_store(&job->pending[s], keep[s] ? UINT32_MAX / 2 : c);
    /* Each call runs its steps afresh (kept ones are not run again). */
    atomic_store_explicit(&job->ran[s], 0, memory_order_relaxed);
  }
}

sy_value *sy__job_output(const sy_job *job, size_t s, size_t k) {
  return job->out_start[s] + k < job->out_start[s + 1]
             ? job->vals[job->out_start[s] + k]
             : NULL;
}

/* ---- a job driven step by step (flow.h, ABI 1.3) -------------------- */

int sy_job_new_unbound(sy_platform *p, const sy_program *prog, sy_job **out,
                       sy_error *err) {
  return sy__job_new(p, prog, NULL, 0, out, err);
}

sy_value *sy_job_output(const sy_job *job, size_t s, size_t k) {
  return s < job->n ? sy__job_output(job, s, k) : NULL;
}

void sy_job_reset(sy_job *job, const uint8_t *keep) {
  sy__job_reset(job, keep);
}

int sy_job_keep(sy_job *job, size_t s) {
  if (s >= job->n)
    return SY_ERANGE;
  /* Never counted down to zero, as the callable's kept values. */
  atomic_store(&job->pending[s], UINT32_MAX / 2);
  return 0;
}

int sy_job_observed(const sy_job *job) {
  return job->n_listeners ||
         (job->storage && (job->cache_read || job->cache_write));
}

int sy_job_step_takes_state(const sy_job *job, size_t s) {
  return s < job->n && (job->prog->code[s].flags & SY_INSTR_STATE_IN) != 0;
}

const char *sy_job_feed_label(const sy_job *job, size_t s) {
  return s < job->n && job->prog->code[s].op == SY_OP_FEED
             ? job->prog->code[s].label
             : "";
}

const char *sy_job_feed_table(const sy_job *job, size_t s) {
  return s < job->n && job->prog->code[s].op == SY_OP_FEED &&
                 job->prog->code[s].table
             ? job->prog->code[s].table
             : "";
}

int sy_job_feed_query(const sy_job *job, size_t s, sy_feed_query **out,
                      sy_error *err) {
  *out = NULL;
  if (s >= job->n || job->prog->code[s].op != SY_OP_FEED)
    return 0;
  const sy_instr *in = &job->prog->code[s];
  for (uint32_t p = 0; p < in->n_params; p++) {
    if (strcmp(in->params[p].key, SY__PUSHDOWN_PARAM) != 0)
      continue;
    sy__query *q = malloc(sizeof *q);
    if (!q)
      return sy_error_set(err, SY_ENOMEM, "out of memory");
    int rc = sy__query_decode(in->params[p].text, q, err);
    if (rc) {
      free(q);
      return rc;
    }
    *out = &q->q;
    return 0;
  }
  return 0;
}

int sy_job_step_actor(sy_job *job, size_t s, const sy_value *state,
                      const sy_actor_ops **ops, void **self, sy_error *err) {
  if (s >= job->n || job->prog->code[s].op != SY_OP_APPLY)
    return sy_error_set(err, SY_EINVAL, "step %zu is not an apply step", s);
  actor_slot *a = NULL;
  int rc = sy__job_actor(job, s, state, &a, err);
  if (rc)
    return rc;
  *ops = a->provider->ops;
  *self = a->self;
  return 0;
}

int sy_job_step_bound_actor(const sy_job *job, size_t s,
                            const sy_actor_ops **ops, void **self,
                            const sy_value **state) {
  if (s >= job->n)
    return 0;
  const actor_slot *a = job->actors[s];
  if (!a && job->actor_group[s] != UINT32_MAX)
    a = atomic_load_explicit(&job->groups[job->actor_group[s]].slot,
                             memory_order_acquire);
  if (!a)
    return 0;
  *ops = a->provider->ops;
  *self = a->self;
  *state = a->state;
  return 1;
}

int sy_frame_split_label(const sy_value *table, const char *label,
                         sy_value **features, sy_value **lab, sy_error *err) {
  return sy__split_label(table, label, features, lab, err);
}

int sy_job_explain(sy_job *job, FILE *out) {
  const sy_program *prog = job->prog;
  unsigned runs = 0, cached = 0;
  for (uint32_t s = 0; s < job->n; s++) {
    const sy_instr *in = &prog->code[s];
    const char *why;
    if (!job->storage || !job->cache_read) {
      why = "runs: the cache is off";
      runs++;
    } else if (!sy__step_cacheable(job, s)) {
      why = in->op == SY_OP_SINK || in->op == SY_OP_COMMIT
                ? "runs: a side effect, never cached"
            : in->flags & SY_INSTR_VOLATILE
                ? "runs: its input has no content fingerprint"
                : "runs: cheap, never cached";
      runs++;
    } else {
      sy_value *small[8];
      sy_value **vals =
          in->n_outputs <= 8 ? small : calloc(in->n_outputs, sizeof *vals);
      int hit = vals && sy__cache_lookup(job, s, vals);
      for (uint32_t k = 0; hit && k < in->n_outputs; k++)
        sy_value_unref(vals[k]);
      if (vals != small)
        free(vals);
      why = hit ? "cached: its result is in the storage"
                : "runs: its key is not in the storage";
      hit ? cached++ : runs++;
    }
    fprintf(out, "%4u  %-40s %.12s  %s\n", s, sy__instr_text(job->prog, s),
            sy__instr_key_hex(job->prog, s), why);
  }
  fprintf(out, "%u steps: %u cached, %u to run\n", job->n, cached, runs);
  return ferror(out) ? SY_EIO : 0;
}
