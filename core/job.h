/*
 * job.h - what the callable (and tests) need from job.c beyond runner.h.
 */
#ifndef SY_CORE_JOB_H
#define SY_CORE_JOB_H

#include "bundle.h"
#include "program.h"
#include "switchyard/event.h"

#include <pthread.h>
#include <stdatomic.h>

struct sy__actor_group {
  pthread_mutex_t lock; /* taken only to create the instance */
  _Atomic(struct actor_slot *) slot;
};

struct sy__listener {
  sy_listener_fn fn;
  sy_listener_done_fn done; /* or NULL */
  void *ud;
};

typedef struct actor_slot {
  const sy_provider *provider;
  void *config;
  sy__pool pool;
  void *self;
  sy_value *state; /* the state loaded into self (one reference) */
} actor_slot;

struct sy_job {
  sy_platform *platform;
  const sy_program *prog;
  uint32_t n;
  /* Output slots, allocated once: step s's values are
   * vals[out_start[s] .. out_start[s + 1]), NULL while not computed or
   * once released, so completing a step allocates and frees nothing. */
  sy_value **vals;
  uint32_t *out_start;  /* n + 1 offsets into vals */
  atomic_uint *pending; /* per step: consumer edges still to run */
  uint32_t *cons_start; /* CSR: consumers of step i are */
  uint32_t *cons;       /*   cons[cons_start[i] .. cons_start[i+1]) */
  actor_slot **actors;  /* per step, created on first use */
  /* Stateless actors with the same name, version and parameters share one
   * instance (apply must not modify it, so sharing is safe): steps map to
   * a group, each group's instance is made once, on first use. */
  uint32_t *actor_group; /* per step: a group, or UINT32_MAX */
  /* Actor targets whose plugin is not the code the program was compiled
   * against (prog->codes): found once when the job is made, so binding
   * an actor checks nothing while this is empty (it nearly always is). */
  const sy__code_pin **stale_code;
  uint32_t n_stale_code;
  struct sy__actor_group *groups;
  uint32_t n_groups;
  sy_instance **feeds;     /* per step (FEED), shared by target */
  sy_instance **sinks;     /* per step (SINK) */
  sy_bundle_entry *states; /* apply: the loaded bundle */
  size_t n_states;
  char *state_file;    /* train: commit target, or NULL */
  sy_value *committed; /* train: the bundle committed */
  /* Events (events.c). */
  struct sy__listener *listeners;
  size_t n_listeners;
  pthread_mutex_t emit_lock; /* listeners are called one at a time */
  int64_t t0;                /* job start, monotonic ns */
  int64_t *started;          /* per step: time of its STARTED, or 0 */
  uint32_t *attempts;        /* per step: STARTED events so far */
  /* Per step: DONE and CACHED events, from whichever thread or runner
   * emitted them, even with no listener: sy_job_run() checks after a
   * successful run that each is exactly 1 (the runner's work). */
  atomic_uint *ran;
  atomic_int skip_run_check; /* sy_job_skip_run_check() was called */
  atomic_int cancelled;
  /* The result cache (storage instance) and how it is used. */
  sy_instance *storage;
  int cache_read, cache_write;
  atomic_uint cache_hits, cache_misses;
  /* Lifecycle (lifecycle.c). */
  atomic_ullong feed_rows; /* rows the feed read, for the generation tag */
  uint32_t generation;     /* train: the generation committed */
  /* The partition into units (units.c), made on first use. */
  _Atomic(struct sy__units *) units;
};

/* The runner SDK's class of an op (sy_job_step_class; the reasons are
 * in runner.h): written once, inline for the scheduler's per-step path. */
static inline sy_step_class sy__op_class(sy_op op) {
  switch (op) {
  case SY_OP_APPLY:
  case SY_OP_TRAIN:
    return SY_STEP_PURE;
  case SY_OP_GET:
    return SY_STEP_ROUTE;
  default: /* FEED, LOAD, DUMP, COMMIT, SINK */
    return SY_STEP_LOCAL;
  }
}

/* units.c: frees a job's partition into units (NULL: nothing). */
struct sy__units;
void sy__units_free(struct sy__units *u);

/* The actor instance of APPLY step s, made on first use (shared by the
 * step's group) and loaded with state when that is not NULL and not
 * already loaded: what exec_apply runs apply on. */
int sy__job_actor(sy_job *job, size_t s, const sy_value *state,
                  actor_slot **out, sy_error *err);

/* sy_job_new, with bind_io = 0 to skip creating the feed and sink
 * instances (the callable replaces both). */
int sy__job_new(sy_platform *p, const sy_program *prog,
                const sy_job_options *opts, int bind_io, sy_job **out,
                sy_error *err);
/* Forgets every step's values except those marked in keep. */
void sy__job_reset(sy_job *job, const uint8_t *keep);
/* Output k of step s, borrowed, or NULL when not computed (or released). */
sy_value *sy__job_output(const sy_job *job, size_t s, size_t k);
/* Splits a table into features and the label column. */
int sy__split_label(const sy_value *table, const char *label,
                    sy_value **features, sy_value **lab, sy_error *err);

/* events.c: set up and tear down the event state of a job. */
int sy__events_init(sy_job *job);
void sy__events_free(sy_job *job);
int64_t sy__now_ns(void);

/* executor.c, for job.c: frees an actor instance (NULL: nothing);
 * forgets step s's outputs; looks step s up in the result cache (1 and
 * out filled on a hit, else 0). */
void sy__actor_free(actor_slot *a);
void sy__release_outputs(sy_job *job, size_t s);
int sy__cache_lookup(sy_job *job, size_t s, sy_value **out);

/* Whether step s's result may be cached (apply, train, a fingerprinted
 * feed); sinks, commits and cheap bookkeeping steps never are. */
int sy__step_cacheable(const sy_job *job, size_t s);

/* lifecycle.c: the states an apply program loads from a registry, and a
 * train program's commit of a new generation. */
int sy__registry_states(sy_job *job, sy_value **bundle, sy_error *err);
int sy__registry_commit(sy_job *job, const sy_value *bundle, sy_error *err);

#endif /* SY_CORE_JOB_H */
