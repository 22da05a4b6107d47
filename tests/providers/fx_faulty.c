/*
 * fx_faulty.c - a fixture ACTOR plugin whose actors misbehave on purpose,
 * for the process-pool runner's tests (tests/unit/test_dask_procs.c):
 *
 *   fault.segv   apply writes through a NULL pointer: the process dies
 *                from SIGSEGV
 *   fault.abort  apply calls abort(): SIGABRT
 *   fault.hang   apply never returns (sleep(1) in a loop)
 *   fault.flaky  apply fails with SY_EFAILED when the file named by the
 *                required parameter `marker` does not exist (and creates
 *                it); once it exists, passes its input through
 *   fault.pass   passes its input through
 *   fault.exit   apply calls exit(0): the process ends "successfully" in
 *                the middle of a step (tests/e2e/runner-check.sh)
 *   fault.alloc  allocates and touches the parameter `mb` MiB, frees them
 *                and passes its input through; fails with SY_ENOMEM when
 *                the allocation fails (tests/e2e/proc-limits.sh)
 *
 * Each takes one input and gives one output, and keeps no state. Never
 * run these in a process you care about: they are meant to kill it.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <switchyard/switchyard.h>

static int pass_apply(void *self, const sy_value *const *in, size_t n_in,
                      sy_value **out, sy_error *err) {
  (void)self;
  (void)n_in;
  (void)err;
  out[0] = sy_value_ref((sy_value *)in[0]);
  return 0;
}

/* The store must really happen, whatever the optimizer and the sanitizers
 * think of it: the pointer is volatile, UBSan's null check is off here,
 * and SIGSEGV goes back to its default action first, so a sanitizer's
 * handler cannot turn the crash into a report and an exit status. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((no_sanitize("undefined", "address")))
#endif
static int
segv_apply(void *self, const sy_value *const *in, size_t n_in, sy_value **out,
           sy_error *err) {
  (void)self;
  (void)in;
  (void)n_in;
  (void)out;
  int *volatile nowhere = NULL;
  signal(SIGSEGV, SIG_DFL);
  *nowhere = 42;
  raise(SIGSEGV); /* in case the store did not fault */
  return sy_error_set(err, SY_EFAILED, "fault.segv: still alive");
}

/* Crashes the way a buggy actor does: a store to an address nobody
 * mapped, under whatever SIGSEGV handler the process has (the crash
 * report of sy_crash_report_install, a sanitizer's). The address comes
 * through a volatile so that the compiler cannot drop the store. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((no_sanitize("undefined", "address")))
#endif
static int
crash_apply(void *self, const sy_value *const *in, size_t n_in, sy_value **out,
            sy_error *err) {
  (void)self;
  (void)in;
  (void)n_in;
  (void)out;
  volatile uintptr_t where = 16;
  *(volatile int *)where = 42;
  raise(SIGSEGV); /* in case the store did not fault */
  return sy_error_set(err, SY_EFAILED, "fault.crash: still alive");
}

static int abort_apply(void *self, const sy_value *const *in, size_t n_in,
                       sy_value **out, sy_error *err) {
  (void)self;
  (void)in;
  (void)n_in;
  (void)out;
  (void)err;
  abort();
}

static int exit_apply(void *self, const sy_value *const *in, size_t n_in,
                      sy_value **out, sy_error *err) {
  (void)self;
  (void)in;
  (void)n_in;
  (void)out;
  (void)err;
  exit(0);
}

static int hang_apply(void *self, const sy_value *const *in, size_t n_in,
                      sy_value **out, sy_error *err) {
  (void)self;
  (void)in;
  (void)n_in;
  (void)out;
  volatile int forever = 1;
  while (forever)
    sleep(1);
  return sy_error_set(err, SY_EFAILED, "fault.hang: woke up");
}

typedef struct flaky_config {
  const char *marker;
} flaky_config;

static const sy_option flaky_options[] = {
    {"marker", SY_OPT_PATH, SY_OPT_REQUIRED, NULL, NULL, NULL, NULL,
     offsetof(flaky_config, marker),
     "File whose absence makes the next apply fail (and creates it)."},
    SY_OPTION_END};

static int flaky_create(const void *config, void **self, sy_error *err) {
  const flaky_config *cfg = config;
  char *copy = cfg->marker ? strdup(cfg->marker) : NULL;
  if (!copy)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  *self = copy;
  return 0;
}

static void flaky_destroy(void *self) {
  free(self);
}

static int flaky_apply(void *self, const sy_value *const *in, size_t n_in,
                       sy_value **out, sy_error *err) {
  const char *marker = self;
  if (access(marker, F_OK) != 0) {
    int fd = open(marker, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd >= 0)
      close(fd);
    return sy_error_set(err, SY_EFAILED, "flaky: first attempt fails");
  }
  return pass_apply(NULL, in, n_in, out, err);
}

typedef struct alloc_config {
  int64_t mb;
} alloc_config;

static const sy_option alloc_options[] = {
    {"mb", SY_OPT_INT, 0, "1", "0", "1048576", NULL, offsetof(alloc_config, mb),
     "MiB to allocate and touch."},
    SY_OPTION_END};

static int alloc_create(const void *config, void **self, sy_error *err) {
  alloc_config *c = malloc(sizeof *c);
  if (!c)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  *c = *(const alloc_config *)config;
  *self = c;
  return 0;
}

static int alloc_apply(void *self, const sy_value *const *in, size_t n_in,
                       sy_value **out, sy_error *err) {
  const alloc_config *c = self;
  size_t bytes = (size_t)c->mb << 20;
  char *volatile block = malloc(bytes ? bytes : 1);
  if (!block)
    return sy_error_set(err, SY_ENOMEM, "fault.alloc: cannot allocate %lld MiB",
                        (long long)c->mb);
  memset(block, 1, bytes);
  free(block);
  return pass_apply(NULL, in, n_in, out, err);
}

#define FX_OPS(fn)                                                             \
  {                                                                            \
    .size = sizeof(sy_actor_ops), .min_inputs = 1, .max_inputs = 1,            \
    .n_outputs = 1, .apply = fn                                                \
  }

static const sy_actor_ops segv_ops = FX_OPS(segv_apply);
static const sy_actor_ops abort_ops = FX_OPS(abort_apply);
static const sy_actor_ops crash_ops = FX_OPS(crash_apply);
static const sy_actor_ops hang_ops = FX_OPS(hang_apply);
static const sy_actor_ops exit_ops = FX_OPS(exit_apply);
static const sy_actor_ops flaky_ops = FX_OPS(flaky_apply);
static const sy_actor_ops alloc_ops = FX_OPS(alloc_apply);
/* fault.pass also has an opaque row kernel (SY_ROW_FN), the kind the core
 * cannot look into: a copy of the row, with its width in a context that
 * the core must release. */
static void pass_row(const void *ctx, const double *in, double *out) {
  memcpy(out, in, *(const uint32_t *)ctx * sizeof *in);
}

static int pass_prepare_row(const void *self, sy_row_kernel *k, sy_error *err) {
  (void)self;
  uint32_t *n = malloc(sizeof *n);
  if (!n)
    return sy_error_set(err, SY_ENOMEM, "fault.pass: out of memory");
  *n = k->n_in;
  for (uint32_t c = 0; c < k->n_in; c++)
    k->out_names[c] = k->in_names[c];
  k->n_out = k->n_in;
  k->kind = SY_ROW_FN;
  k->fn = pass_row;
  k->ctx = n;
  k->release = free;
  return 0;
}

static const sy_actor_ops pass_ops = {.size = sizeof(sy_actor_ops),
                                      .min_inputs = 1,
                                      .max_inputs = 1,
                                      .n_outputs = 1,
                                      .apply = pass_apply,
                                      .prepare_row = pass_prepare_row};

#define FX_ACTOR(id, name, help, ops)                                          \
  static const sy_provider id = {sizeof(sy_provider),                          \
                                 SY_KIND_ACTOR,                                \
                                 name,                                         \
                                 "1.0.0",                                      \
                                 help,                                         \
                                 NULL,                                         \
                                 0,                                            \
                                 NULL,                                         \
                                 NULL,                                         \
                                 &ops}

FX_ACTOR(fx_segv, "fault.segv", "Dies from SIGSEGV (test fixture).", segv_ops);
FX_ACTOR(fx_crash, "fault.crash",
         "Dies from a bad store, any handler kept (test fixture).", crash_ops);
FX_ACTOR(fx_abort, "fault.abort", "Dies from SIGABRT (test fixture).",
         abort_ops);
FX_ACTOR(fx_hang, "fault.hang", "Never returns (test fixture).", hang_ops);
FX_ACTOR(fx_exit, "fault.exit", "Calls exit(0) (test fixture).", exit_ops);
FX_ACTOR(fx_pass, "fault.pass", "Passes its input through (test fixture).",
         pass_ops);

static const sy_provider fx_flaky = {
    sizeof(sy_provider),
    SY_KIND_ACTOR,
    "fault.flaky",
    "1.0.0",
    "Fails until its marker file exists (test fixture).",
    flaky_options,
    sizeof(flaky_config),
    flaky_create,
    flaky_destroy,
    &flaky_ops};

static const sy_provider fx_alloc = {
    sizeof(sy_provider),
    SY_KIND_ACTOR,
    "fault.alloc",
    "1.0.0",
    "Allocates and touches `mb` MiB (test fixture).",
    alloc_options,
    sizeof(alloc_config),
    alloc_create,
    free,
    &alloc_ops};

SY_PLUGIN_DEFINE("fx-faulty", "1.0.0", &fx_segv, &fx_crash, &fx_abort, &fx_hang,
                 &fx_flaky, &fx_pass, &fx_exit, &fx_alloc)
