/*
 * actor-bench - the actors bench/runners drives: they do (almost) nothing,
 * so that what a run costs is the scheduler and the step executor.
 *
 *   bench.source  no inputs; returns a new 1-byte bytes value. The roots of
 *                 every benchmark graph.
 *   bench.empty   any number of inputs; returns another reference to its
 *                 first input (a new 1-byte value when it has none).
 *   bench.spin    like bench.empty, after spinning `us` microseconds of
 *                 this thread's CPU time (a busy loop, never a sleep, so
 *                 parallel speedup is real work done on several cores).
 *
 * Every actor runs in a fresh instance per step (the core makes one per
 * step), so none of them allocates in create(): bench.spin's instance is
 * its config struct itself, which the core keeps until destroy(). The
 * spin measures CPU time rather than wall time, so a step that is
 * preempted on a busy machine still does the same amount of work.
 *
 * Not installed: built as a check/noinst module and loaded from a private
 * folder named by SWITCHYARD_PLUGIN_PATH.
 */
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <switchyard/switchyard.h>
#include <switchyard/actor.h>

typedef struct spin_config {
  int64_t us;
} spin_config;

static const sy_option spin_options[] = {
    {"us", SY_OPT_INT, 0, "50", "0", "10000000", NULL,
     offsetof(spin_config, us),
     "Microseconds of CPU time each step spins before it returns."},
    SY_OPTION_END};

static int64_t thread_cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Burns CPU until this thread has used `ns` more nanoseconds. The clock
 * is read only every few hundred iterations because reading it is a
 * system call; the overshoot is well under a microsecond. */
static void spin_ns(int64_t ns) {
  int64_t end = thread_cpu_ns() + ns;
  volatile uint64_t x = 1;
  while (thread_cpu_ns() < end)
    for (int i = 0; i < 256; i++)
      x = x * 6364136223846793005u + 1442695040888963407u;
}

/* Returns another reference to the first input, or a fresh tiny value. */
static int pass_first(const sy_value *const *in, size_t n_in, sy_value **out,
                      sy_error *err) {
  if (n_in > 0) {
    out[0] = sy_value_ref((sy_value *)in[0]);
    return 0;
  }
  int rc = sy_bytes_new("x", 1, NULL, &out[0]);
  if (rc)
    return sy_error_set(err, rc, "bench: cannot make a value");
  return 0;
}

static int source_apply(void *self, const sy_value *const *in, size_t n_in,
                        sy_value **out, sy_error *err) {
  (void)self;
  (void)in;
  (void)n_in;
  return pass_first(NULL, 0, out, err);
}

static int empty_apply(void *self, const sy_value *const *in, size_t n_in,
                       sy_value **out, sy_error *err) {
  (void)self;
  return pass_first(in, n_in, out, err);
}

static int spin_create(const void *config, void **self, sy_error *err) {
  (void)err;
  /* The config outlives the instance and apply only reads it. */
  *self = (void *)config;
  return 0;
}

static void spin_destroy(void *self) {
  (void)self;
}

static int spin_apply(void *self, const sy_value *const *in, size_t n_in,
                      sy_value **out, sy_error *err) {
  const spin_config *cfg = self;
  spin_ns(cfg->us * 1000);
  return pass_first(in, n_in, out, err);
}

static const sy_actor_ops source_ops = {
    .size = sizeof(sy_actor_ops),
    .min_inputs = 0,
    .max_inputs = 0,
    .n_outputs = 1,
    .apply = source_apply,
};

static const sy_actor_ops empty_ops = {
    .size = sizeof(sy_actor_ops),
    .min_inputs = 0,
    .max_inputs = SY_ARITY_MANY,
    .n_outputs = 1,
    .apply = empty_apply,
};

static const sy_actor_ops spin_ops = {
    .size = sizeof(sy_actor_ops),
    .min_inputs = 0,
    .max_inputs = SY_ARITY_MANY,
    .n_outputs = 1,
    .apply = spin_apply,
};

static const sy_provider source_provider = {
    .size = sizeof(sy_provider),
    .kind = SY_KIND_ACTOR,
    .name = "bench.source",
    .version = "1.0.0",
    .description = "returns a new one-byte value; the roots of the "
                   "benchmark graphs",
    .ops = &source_ops,
};

static const sy_provider empty_provider = {
    .size = sizeof(sy_provider),
    .kind = SY_KIND_ACTOR,
    .name = "bench.empty",
    .version = "1.0.0",
    .description = "returns its first input unchanged, doing no work",
    .ops = &empty_ops,
};

static const sy_provider spin_provider = {
    .size = sizeof(sy_provider),
    .kind = SY_KIND_ACTOR,
    .name = "bench.spin",
    .version = "1.0.0",
    .description = "spins a fixed amount of CPU time, then returns its "
                   "first input",
    .options = spin_options,
    .config_size = sizeof(spin_config),
    .create = spin_create,
    .destroy = spin_destroy,
    .ops = &spin_ops,
};

SY_PLUGIN_DEFINE("actor-bench", "1.0.0", &source_provider, &empty_provider,
                 &spin_provider)
