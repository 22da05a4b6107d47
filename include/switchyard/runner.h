/*
 * switchyard/runner.h - the RUNNER provider kind, and the job it runs.
 *
 * A runner only schedules. The core compiles a flow into a program and
 * binds it to the configured instances as a job; the runner decides when
 * and where each step runs and calls sy_job_run_step() (or, to run a step
 * in another process, sy_step_execute() on inputs it moved there, or
 * sy_job_exec_stored() there, moving values through the storage). What a
 * step means lives only in the core, so a third-party runner needs nothing
 * but a traversal strategy.
 *
 * Steps are numbered 0..n-1 in a topological order: every input of step i
 * has a smaller number. A step is ready when all its inputs are done.
 *
 * Thread-safety: all sy_job_* introspection is read-only and safe from any
 * thread. sy_job_run_step() may run concurrently for different steps whose
 * inputs are all done; each step must run (successfully) exactly once, and
 * the core checks that it did (sy_job_skip_run_check).
 * Since ABI 1.0.
 */
#ifndef SWITCHYARD_RUNNER_H
#define SWITCHYARD_RUNNER_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "value.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sy_job sy_job;

typedef struct sy_runner_ops {
  uint32_t size; /* sizeof(sy_runner_ops) */
  /* Runs every step of the job, or stops at the first failure; returns 0
   * when all steps succeeded, else the failing step's code with err
   * naming the step. */
  int (*run)(void *self, sy_job *job, sy_error *err);
} sy_runner_ops;

/* What an instruction does (see docs/lifecycle.md). */
typedef enum sy_op {
  SY_OP_FEED = 1,   /* read a table from a feed: features [, label] */
  SY_OP_APPLY = 2,  /* actor apply: [state,] inputs... -> outputs */
  SY_OP_TRAIN = 3,  /* actor train: [state,] inputs... [, label] -> state */
  SY_OP_LOAD = 4,   /* load a trained state -> state */
  SY_OP_DUMP = 5,   /* gather states -> one bundle value */
  SY_OP_COMMIT = 6, /* commit a bundle (registry / state file) */
  SY_OP_SINK = 7,   /* write a value to a sink */
  SY_OP_GET = 8     /* pick output `index` of a multi-output step */
} sy_op;

/* "feed", "apply", ... */
SY_API const char *sy_op_name(sy_op op);

/* Number of steps. */
SY_API size_t sy_job_size(const sy_job *job);
SY_API sy_op sy_job_step_op(const sy_job *job, size_t step);
/* The steps this one reads, in argument order; *idx is owned by the job. */
SY_API size_t sy_job_step_inputs(const sy_job *job, size_t step,
                                 const uint32_t **idx);
/* The steps that read this one. */
SY_API size_t sy_job_step_consumers(const sy_job *job, size_t step,
                                    const uint32_t **idx);
/* Number of values the step produces (1 except FEED with a label and
 * multi-output actors). */
SY_API size_t sy_job_step_outputs(const sy_job *job, size_t step);
/* "apply model (std.logreg)": for progress lines, logs and drawings. */
SY_API const char *sy_job_step_label(const sy_job *job, size_t step);
/* The flow node id ("model"), the target (actor, feed or sink name). */
SY_API const char *sy_job_step_node(const sy_job *job, size_t step);
SY_API const char *sy_job_step_target(const sy_job *job, size_t step);
/* The 128-bit cache key as 32 hex digits. */
SY_API const char *sy_job_step_key(const sy_job *job, size_t step);
/* For a GET step, which output of its one input it passes on; 0 for any
 * other op. Lets a runner that keeps values apart from the job (on other
 * machines) resolve a GET without moving data. Since ABI 1.1. */
SY_API uint32_t sy_job_step_index(const sy_job *job, size_t step);

/* Runs one step in this process: gathers its inputs' values, executes it
 * (sy_step_execute), keeps its outputs for its consumers, and releases an
 * input's values once its last consumer has run. */
SY_API int sy_job_run_step(sy_job *job, size_t step, sy_error *err);

/* For runners that execute elsewhere: how many values step reads, and
 * those values in order (borrowed, valid until the step is done). buf
 * must hold sy_job_step_input_count() entries; returns the count. */
SY_API size_t sy_job_step_input_count(const sy_job *job, size_t step);
SY_API size_t sy_job_step_input_values(const sy_job *job, size_t step,
                                       const sy_value **buf, size_t cap);
/* Executes the meaning of a step on given inputs; out receives
 * sy_job_step_outputs() values, owned by the caller. No job state
 * changes, so it can run in a forked child or on another machine. */
SY_API int sy_step_execute(sy_job *job, size_t step,
                           const sy_value *const *in, size_t n_in,
                           sy_value **out, sy_error *err);
/* Hands the outputs computed elsewhere to the job (takes ownership of
 * each out[i]) and releases inputs as sy_job_run_step() does. */
SY_API int sy_job_step_done(sy_job *job, size_t step, sy_value **out);

/* Runs one step with the job's storage as the transport between
 * processes: what `switchyard exec PROGRAM --step N` does, one process
 * (one batch or cluster job) per step. Reads every input from the
 * storage under its producing step's key (sy_job_step_key; GET reads all
 * outputs of its argument), executes the step as sy_step_execute() does
 * (a cacheable step whose result is stored is not run again when the
 * cache mode reads), and writes the outputs under the step's own key
 * whenever another step reads them, whatever the cache mode and even for
 * steps the cache never keeps (GET, LOAD, DUMP, a feed without content
 * fingerprint); a SINK or COMMIT nobody reads stores nothing. Emits
 * STARTED, then DONE, CACHED or FAILED. Fails before the step starts,
 * with no event: SY_ERANGE for a step out of range, SY_EINVAL when the
 * job has no storage (none configured, or cache mode off), SY_ENOENT when
 * an input is not stored yet (err names the step to run first). A
 * failure to store the outputs fails the step. Keeps no value in the job
 * and changes none of its countdowns; may run concurrently for different
 * steps. Since ABI 1.1. */
SY_API int sy_job_exec_stored(sy_job *job, size_t step, sy_error *err);

/* The core checks the runner's work: when run() returns 0, every step of
 * the job must have run exactly once, as the DONE or CACHED event of each
 * step shows (sy_job_run_step emits them; a runner that executes steps
 * elsewhere emits them itself, see event.h), or sy_job_run() fails naming
 * the runner and the first step that did not. A runner that, by design,
 * executes no step of this job in this process calls this before it
 * returns 0, and the check is skipped: one that only draws the job
 * (runner-graphviz), or a helper process of a distributed run whose root
 * process does the counting (runner-mpi's ranks other than 0). Also: a
 * failure returned without a message gets one that names the runner, and
 * sy_job_run_step() refuses a step that already ran (SY_ESTATE). Any
 * thread. Since ABI 1.3. */
SY_API void sy_job_skip_run_check(sy_job *job);

#ifdef __cplusplus
}
#endif
#endif /* SWITCHYARD_RUNNER_H */
