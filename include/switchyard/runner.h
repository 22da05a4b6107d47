/*
 * switchyard/runner.h - the RUNNER provider kind, the job it runs, and the
 * runner SDK.
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
 * The runner SDK (ABI 1.3) answers what a runner would otherwise have to
 * know about instructions, and carries the failure policy:
 *   - sy_job_step_class(): may a step run in any process (PURE), must it
 *     run in the job's process (LOCAL), or does it only pick a value
 *     (ROUTE, a GET);
 *   - sy_job_output_source(): where a value really lives, through GETs;
 *   - sy_job_step_result(): what the job keeps of a LOCAL step that a
 *     runner ran with sy_step_execute() (a COMMIT's bundle);
 *   - sy_sched: a ready set in step order with fail-fast, keep-going,
 *     retries with a doubling backoff, downstream skipping and the run's
 *     summary ("1 step failed, 3 skipped"). An event-loop runner drives
 *     it from one thread; a thread pool that tracks readiness itself uses
 *     its policy calls only (SY_SCHED_OWN_READINESS), which take no lock
 *     unless a step fails.
 * docs/provider-guide.md shows a complete runner in under 60 lines.
 *
 * Each function says its ownership, thread safety and the ABI minor it
 * first appeared in. "Any thread" means it may be called concurrently
 * with any other call on the same job.
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

/* What a RUNNER provider implements (its sy_provider.ops). Since ABI 1.0. */
typedef struct sy_runner_ops {
  uint32_t size; /* sizeof(sy_runner_ops) */
  /* Runs every step of the job, or stops at the first failure; returns 0
   * when all steps succeeded, else the failing step's code with err
   * naming the step. Called on the thread that called sy_job_run(), once
   * per run; the runner owns nothing of the job and must not keep it. */
  int (*run)(void *self, sy_job *job, sy_error *err);
  /* What the runner does with a flow node's resources, retries and
   * timeout (sy_step_resources): one line per key, "cpus: ...",
   * "memory: ...", "gpus: ...", "retries: ...", "timeout: ...", each
   * ending in a newline; `switchyard providers help runner.NAME` prints
   * it. A static string owned by the plugin, or NULL (not said). Read
   * only when size covers it. Since ABI 1.4. */
  const char *resources;
} sy_runner_ops;

/* What an instruction does (see docs/lifecycle.md). Since ABI 1.0. */
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

/* "feed", "apply", ...: a static string, "?" for an unknown op. Any
 * thread. Since ABI 1.0. */
SY_API const char *sy_op_name(sy_op op);

/* ---- the job's shape --------------------------------------------------
 * All of these read the compiled program only: any thread, at any time
 * while the job lives; pointers they return are owned by the job and stay
 * valid until sy_job_free(). `step` must be below sy_job_size(). */

/* Number of steps (a plain value). Any thread. Since ABI 1.0. */
SY_API size_t sy_job_size(const sy_job *job);
/* The step's op (a plain value). Any thread. Since ABI 1.0. */
SY_API sy_op sy_job_step_op(const sy_job *job, size_t step);
/* The steps this one reads, in argument order; *idx is owned by the job.
 * Any thread. Since ABI 1.0. */
SY_API size_t sy_job_step_inputs(const sy_job *job, size_t step,
                                 const uint32_t **idx);
/* The steps that read this one; *idx is owned by the job. Any thread.
 * Since ABI 1.0. */
SY_API size_t sy_job_step_consumers(const sy_job *job, size_t step,
                                    const uint32_t **idx);
/* Number of values the step produces (1 except FEED with a label and
 * multi-output actors); a plain value. Any thread. Since ABI 1.0. */
SY_API size_t sy_job_step_outputs(const sy_job *job, size_t step);
/* "apply model (std.logreg)": for progress lines, logs and drawings.
 * Owned by the job. Any thread. Since ABI 1.0. */
SY_API const char *sy_job_step_label(const sy_job *job, size_t step);
/* The flow node id ("model"). Owned by the job. Any thread.
 * Since ABI 1.0. */
SY_API const char *sy_job_step_node(const sy_job *job, size_t step);
/* The target (actor, feed or sink name). Owned by the job. Any thread.
 * Since ABI 1.0. */
SY_API const char *sy_job_step_target(const sy_job *job, size_t step);
/* The 128-bit cache key as 32 hex digits. Owned by the job. Any thread.
 * Since ABI 1.0. */
SY_API const char *sy_job_step_key(const sy_job *job, size_t step);
/* For a GET step, which output of its one input it passes on; 0 for any
 * other op. Lets a runner that keeps values apart from the job (on other
 * machines) resolve a GET without moving data; sy_job_output_source()
 * does the whole walk. A plain value. Any thread. Since ABI 1.1. */
SY_API uint32_t sy_job_step_index(const sy_job *job, size_t step);

/* Where a step may run. Since ABI 1.3. */
typedef enum sy_step_class {
  /* Runs actor code on its inputs and nothing else (APPLY, TRAIN): it may
   * run in any process that has the job (a forked worker, another MPI
   * rank) given its input values, with sy_step_execute(). */
  SY_STEP_PURE = 1,
  /* Must run in the job's own process, once: it has a side effect there
   * (SINK writes, COMMIT commits), reads what only this process has bound
   * (FEED, LOAD), or only bundles states for a COMMIT (DUMP: moving it
   * would send the states away and the bundle back for nothing). */
  SY_STEP_LOCAL = 2,
  /* Moves no data: picks one output of its input (GET). A runner that
   * keeps values itself runs nothing for it and reads the value where
   * sy_job_output_source() says it lives. */
  SY_STEP_ROUTE = 3
} sy_step_class;

/* The class of a step: what a runner asks instead of keeping its own list
 * of ops. Any thread. Since ABI 1.3. */
SY_API sy_step_class sy_job_step_class(const sy_job *job, size_t step);

/* Where output `out` of `step` really lives: follows GETs (a GET's only
 * output is output sy_job_step_index() of its input, which may itself be a
 * GET) to the step that produces the value; returns that step and sets
 * *src_out (may be NULL) to its output index. Input i of a step other
 * than a GET is output 0 of its i-th argument, so its value lives at
 * sy_job_output_source(job, args[i], 0, &k). Step numbers are plain
 * values; nothing is allocated. Any thread. Since ABI 1.3. */
SY_API size_t sy_job_output_source(const sy_job *job, size_t step, uint32_t out,
                                   uint32_t *src_out);

/* ---- per-step resources (ABI 1.4) --------------------------------------
 * What a flow node asks for (`resources = { cpus = 2; memory = "4G";
 * gpus = 1; }`, `retries = 3;`, `timeout = "10m";`, and the flow's
 * `defaults = { ... }`, see docs/lifecycle.md). They travel in the compiled
 * program and are not part of any cache key: they do not change results.
 * Only the steps that run a node's actor code (APPLY, TRAIN) carry them;
 * every other step reads as all unset. A runner honours what it can and
 * says so in its help text; a per-step retries/timeout overrides the
 * runner's own option, which stays the default. Since ABI 1.4. */
typedef struct sy_step_resources {
  uint32_t size;    /* sizeof(sy_step_resources): set by the caller */
  uint32_t cpus;    /* CPU cores; 0: unset */
  uint32_t gpus;    /* GPUs; 0: unset */
  int32_t retries;  /* extra attempts; -1: unset (the runner's option) */
  uint64_t memory;  /* bytes; 0: unset */
  uint64_t timeout; /* seconds; 0: unset (the runner's option) */
} sy_step_resources;

/* Fills *out with what step asks for. The caller sets out->size to the
 * sizeof(sy_step_resources) it was built with; fields beyond it are left
 * alone, so a plugin built against an older or newer header works.
 * Returns 0, SY_ERANGE for a step out of range, SY_EINVAL when out is NULL
 * or out->size is below offsetof(sy_step_resources, cpus) + 4. A plain
 * copy: nothing is allocated; reads the compiled program only (a binary
 * search among the nodes that set anything; none at all costs nothing).
 * Any thread. Since ABI 1.4. */
SY_API int sy_job_step_resources(const sy_job *job, size_t step,
                                 sy_step_resources *out);

/* "cpus=2 memory=4G gpus=1 retries=3 timeout=10m": the fields set in *r
 * (within r->size), space-separated, sizes in the largest unit of 1024
 * that divides them, durations as d/h/m/s; "" when none is set. Writes at
 * most cap bytes into buf (NUL-terminated when cap > 0) and returns the
 * length written. Any thread. Since ABI 1.4. */
SY_API size_t sy_step_resources_format(const sy_step_resources *r, char *buf,
                                       size_t cap);

/* ---- units: chains of steps for engines that submit jobs (ABI 1.4) -----
 * A partition of the steps into units, for runners that submit one
 * cluster job per unit (Slurm, Argo) instead of one per step. Base
 * units first:
 *   - a PURE step starts a base unit;
 *   - a ROUTE step (GET) with one input joins its input's unit: it moves
 *     no data and runs (or is resolved) where its input's values are;
 *   - any other step (FEED, LOAD, DUMP, COMMIT, SINK; a ROUTE step with
 *     another number of inputs) starts a LOCAL unit: it runs in the
 *     submitting process, and a LOCAL unit never joins or takes in
 *     another.
 * Then chains: each PURE base unit V, in step order, joins the unit F
 * (as grown so far) of the PURE values it reads when
 *   (a) every value V reads from outside itself is F's, or is LOCAL and
 *       has no PURE step upstream of it (a feed, or a GET of one: ready
 *       before any job runs), and F is one unit; and
 *   (b) every other PURE unit reading a value of F also reads one of V
 *       (it waits for V anyway, so F + V costs no parallelism).
 * So a line of actor steps is one unit, whatever feeds and labels each
 * step also reads (iris: scale -> model, where model also reads the
 * label, is one unit), a step with two PURE producers in two units
 * starts its own, and branches that could run at once stay apart (a
 * diamond's arms). Why it is sound: a unit's steps read only values of
 * its own earlier steps, of units it depends on that are done before it
 * starts, and (past its first step) LOCAL values that depend on no PURE
 * step, so a unit runs as one job once the units it reads are done, and
 * there is no cycle between units.
 * A unit's class is its first step's: PURE (steps after the first are
 * PURE steps and GETs) or LOCAL (one step and its GETs). Steps inside a
 * unit run in increasing step order. Units are numbered 0..u-1 in a
 * topological order: every unit a unit reads has a smaller number; among
 * the units ready at each point, the one with the earliest first step
 * comes first (so with no feed read past a chain's start, the numbers go
 * in the order of the units' first steps). The partition is a pure
 * function of the program: two jobs of one program (two processes)
 * agree on it. */

/* Number of units; fills unit_of_step[s] (unless NULL; sy_job_size()
 * entries) with each step's unit. Returns 0 only when memory ran out (a
 * job with steps has at least one unit). The partition is made on the
 * first call of any sy_job_unit* function and kept by the job; the array
 * is the caller's. Any thread. Since ABI 1.4. */
SY_API size_t sy_job_units(const sy_job *job, uint32_t *unit_of_step);
/* The steps of a unit, in increasing (run) order; *steps is owned by the
 * job and valid until sy_job_free(). 0 (and *steps NULL) for a unit out of
 * range or when memory ran out. Any thread. Since ABI 1.4. */
SY_API size_t sy_job_unit_steps(const sy_job *job, size_t unit,
                                const uint32_t **steps);
/* The units whose values a unit reads (any of its steps' inputs from
 * outside it, by unit), distinct and increasing; *deps is owned by the
 * job and valid until sy_job_free(). 0 for a unit that reads no other unit. Any
 * thread. Since ABI 1.4. */
SY_API size_t sy_job_unit_deps(const sy_job *job, size_t unit,
                               const uint32_t **deps);
/* A unit's class: SY_STEP_PURE (submit it anywhere) or SY_STEP_LOCAL
 * (run it in the submitting process); 0 for a unit out of range. Any
 * thread. Since ABI 1.4. */
SY_API sy_step_class sy_job_unit_class(const sy_job *job, size_t unit);

/* ---- running steps ---------------------------------------------------- */

/* Runs one step in this process: gathers its inputs' values, executes it
 * (sy_step_execute), keeps its outputs for its consumers, and releases an
 * input's values once its last consumer has run. Emits STARTED, then
 * DONE, CACHED or FAILED; err (may be NULL) receives the failure, which
 * names the step. Refuses a step that already ran (SY_ESTATE). The job
 * owns the outputs and releases them itself. Any thread: may run
 * concurrently for different steps whose inputs are all done; each step
 * must run successfully exactly once. Since ABI 1.0. */
SY_API int sy_job_run_step(sy_job *job, size_t step, sy_error *err);

/* For runners that execute elsewhere: how many values step reads (a
 * plain value). Any thread. Since ABI 1.0. */
SY_API size_t sy_job_step_input_count(const sy_job *job, size_t step);
/* Those values in order, borrowed from the job (valid until the step is
 * done); buf must hold sy_job_step_input_count() entries; returns the
 * count. Only once every input is done. Any thread. Since ABI 1.0. */
SY_API size_t sy_job_step_input_values(const sy_job *job, size_t step,
                                       const sy_value **buf, size_t cap);
/* Executes the meaning of a step on given inputs (borrowed); out receives
 * sy_job_step_outputs() values, owned by the caller. No job state
 * changes and no event is emitted, so it can run in a forked child or on
 * another machine. Any thread. Since ABI 1.0. */
SY_API int sy_step_execute(sy_job *job, size_t step, const sy_value *const *in,
                           size_t n_in, sy_value **out, sy_error *err);
/* Hands the outputs computed elsewhere to the job (takes ownership of
 * each out[i]; the array stays the caller's) and releases inputs as
 * sy_job_run_step() does. Emits nothing: the runner emits DONE. Any
 * thread, once per step. Since ABI 1.0. */
SY_API int sy_job_step_done(sy_job *job, size_t step, sy_value **out);
/* For a runner that keeps values apart from the job (on other machines)
 * and ran a LOCAL step in this process with sy_step_execute(): lets the
 * job keep what it reports after the run from the step's outputs (a
 * COMMIT's bundle, sy_job_states()); a no-op for steps whose outputs the
 * job does not keep. Borrows out (takes its own references); changes no
 * countdown. Any thread, once per step. Since ABI 1.3. */
SY_API void sy_job_step_result(sy_job *job, size_t step,
                               const sy_value *const *out);

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
 * steps (any thread). Since ABI 1.1. */
SY_API int sy_job_exec_stored(sy_job *job, size_t step, sy_error *err);

/* For a runner that moves values through the storage and would rather
 * not start a job for nothing: 1 when the storage already holds what
 * sy_job_exec_stored(job, step) would make, so that step need not run
 * anywhere: the cache mode reads, the step is cacheable (APPLY, TRAIN or
 * FEED, with a content fingerprint upstream) and its outputs are stored
 * under its key, or the step is a GET of such a step and its outputs are
 * stored under its own key (as exec_stored left them for its readers).
 * 0 otherwise, also for a step out of range or a storage that fails (a
 * miss). A runner that skips the step emits STARTED and then CACHED (a
 * GET: DONE) itself, as sy_job_exec_stored would have. Reads the
 * storage (and drops what it read); emits nothing but the storage's
 * notes (a damaged entry) and changes no countdown or cache counter. Any
 * thread. (ABI 1.4) */
SY_API int sy_job_step_stored(sy_job *job, size_t step);

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

/* ---- the scheduler ------------------------------------------------------
 *
 * A step's life in a scheduler: WAITING (for inputs) -> READY -> RUNNING
 * -> DONE; or, after a failed attempt, DELAYED (a retry waits for its
 * backoff) -> READY, or FAILED for good; SKIPPED when keep_going meets a
 * failure upstream. The failure policy:
 *   - fail-fast (default): after a step fails for good nothing new is
 *     handed out; steps already running are let finish; the run's error
 *     is the failure's;
 *   - keep_going: every step not downstream of a failure still runs; the
 *     ones downstream are SKIPPED (a SKIPPED event each), and the run's
 *     error is the first failure's message followed by a summary:
 *     "... (1 step failed, 3 skipped)";
 *   - retries: a failed attempt is retried up to `retries` times, or
 *     (since ABI 1.4) as many times as the step's flow node says
 *     (sy_step_resources.retries, when set: it overrides the policy) (a
 *     RETRIED event each), retry r waiting backoff * 2^(r-1), at most
 *     10 s; a cancel, a SY_ECANCELED failure or a fail-fast stop retries
 *     nothing;
 *   - cancel (sy_job_cancel): nothing new is handed out, and the result is
 *     SY_ECANCELED, "canceled: 3 of 10 steps done".
 * The scheduler emits RETRIED and SKIPPED; the runner emits (or has
 * sy_job_run_step emit) STARTED, DONE and FAILED.
 *
 * Since ABI 1.3. */
typedef struct sy_sched sy_sched;

/* How a scheduler treats failures. Since ABI 1.3. */
typedef struct sy_sched_policy {
  uint32_t size;      /* sizeof(sy_sched_policy) */
  uint32_t flags;     /* SY_SCHED_* below */
  int keep_going;     /* run everything not downstream of a failure */
  uint32_t retries;   /* extra attempts for a failed step */
  int64_t backoff_ns; /* delay before the first retry; doubles, max 10 s */
  /* The monotonic clock, in ns, for retry due times; NULL: the system's
   * CLOCK_MONOTONIC. For tests and simulations. */
  int64_t (*clock)(void *clock_ud);
  void *clock_ud;
} sy_sched_policy;

/* The runner tracks readiness itself (a lock-free thread pool): the
 * scheduler builds no ready set, and only the calls marked "policy" below
 * may be used. Since ABI 1.3. */
#define SY_SCHED_OWN_READINESS 1u

/* A step's state in a scheduler. Since ABI 1.3. */
typedef enum sy_step_state {
  SY_STEP_WAITING = 0,
  SY_STEP_READY = 1,
  SY_STEP_RUNNING = 2,
  SY_STEP_DELAYED = 3,
  SY_STEP_DONE = 4,
  SY_STEP_FAILED = 5,
  SY_STEP_SKIPPED = 6
} sy_step_state;

/* Classes for sy_sched_next()'s mask: 1u << SY_STEP_PURE, ... 0 means any.
 * Since ABI 1.3. */
#define SY_SCHED_CLASS(c) (1u << (c))

/* Makes a scheduler for one run of job; policy NULL means fail-fast, no
 * retries. Steps without inputs start READY. Returns 0 with *out owned by
 * the caller (sy_sched_free), or SY_EINVAL (policy->size too small),
 * SY_ENOMEM. The job must outlive it. Any thread. Since ABI 1.3. */
SY_API int sy_sched_new(sy_job *job, const sy_sched_policy *policy,
                        sy_sched **out, sy_error *err);
/* Frees it and everything it owns; NULL is ignored. One thread, with
 * nothing using it concurrently. Since ABI 1.3. */
SY_API void sy_sched_free(sy_sched *sched);

/* -- the ready set: one thread at a time (an event loop). The scheduler
 * borrows the job; steps, counts and times are plain values; messages
 * passed in are copied. -- */

/* Hands out the lowest-numbered READY step whose class is in mask (0:
 * any) and marks it RUNNING: returns 1 with *step set, or 0 when none is
 * ready now, the run stopped (fail-fast) or the job was cancelled. Due
 * retries become READY first. Program order is therefore kept by a runner
 * that runs one step at a time. The step is a plain value; the runner then
 * owes the scheduler its outcome (done, failed or untake). One thread at
 * a time. Since ABI 1.3. */
SY_API int sy_sched_next(sy_sched *sched, unsigned mask, size_t *step);
/* Marks a WAITING step RUNNING before it is ready, for a runner that
 * queues a step behind the steps that make its inputs on one executor
 * (runner-mpi's prefetch). Returns 0, or SY_ESTATE when the step is not
 * WAITING. One thread at a time. Since ABI 1.3. */
SY_API int sy_sched_take(sy_sched *sched, size_t step);
/* A RUNNING step comes back without having been attempted (taken early,
 * and an input it was queued behind failed): it WAITS again, becomes READY
 * if its inputs are done meanwhile, or is SKIPPED (with its downstream)
 * under keep_going when one of them failed for good. One thread at a time.
 * Since ABI 1.3. */
SY_API void sy_sched_untake(sy_sched *sched, size_t step);
/* A RUNNING step succeeded: its consumers whose inputs are now all done
 * become READY. One thread at a time. Since ABI 1.3. */
SY_API void sy_sched_done(sy_sched *sched, size_t step);
/* An attempt of a RUNNING step failed (its FAILED event already out):
 * applies the policy; returns 1 when the step will be retried (DELAYED,
 * RETRIED emitted), else 0 (FAILED: the run stops, or under keep_going
 * its downstream is SKIPPED). message is copied. One thread at a time.
 * Since ABI 1.3. */
SY_API int sy_sched_failed(sy_sched *sched, size_t step, int code,
                           const char *message);
/* The clock time (see sy_sched_policy.clock) at which the earliest
 * DELAYED retry is due; 0 when none is. One thread at a time.
 * Since ABI 1.3. */
SY_API int64_t sy_sched_due(const sy_sched *sched);
/* Sleeps until the earliest retry is due, in slices that notice a cancel;
 * returns at once when none is. For runners with nothing else to wait on.
 * One thread at a time. Since ABI 1.3. */
SY_API void sy_sched_wait(sy_sched *sched);
/* Whether the run is over: nothing RUNNING, and nothing READY or DELAYED
 * that will still be handed out. One thread at a time. Since ABI 1.3. */
SY_API int sy_sched_finished(const sy_sched *sched);
/* The step's state. One thread at a time (with the ready-set calls).
 * Since ABI 1.3. */
SY_API sy_step_state sy_sched_state(const sy_sched *sched, size_t step);
/* Steps RUNNING. One thread at a time. Since ABI 1.3. */
SY_API size_t sy_sched_running(const sy_sched *sched);
/* Steps READY whose class is in mask (0: any), that is the steps
 * sy_sched_next() would hand out now: 0 once the run stops (fail-fast)
 * or the job is cancelled; due retries are counted once sy_sched_next()
 * has made them READY. A plain value. One thread at a time.
 * Since ABI 1.3. */
SY_API size_t sy_sched_ready(const sy_sched *sched, unsigned mask);

/* -- the policy: any thread; no lock unless a step fails. Messages
 * passed in are copied. -- */

/* Whether nothing new should start: a failure under fail-fast, or a
 * cancel. Any thread. Since ABI 1.3. */
SY_API int sy_sched_stopping(const sy_sched *sched);
/* Attempt `attempt` (1-based) of a step just failed, for a runner that
 * retries in place (it owns the step): returns the delay in ns before
 * the next attempt and emits RETRIED, or -1 when the step is not retried
 * (then call sy_sched_fail). Emits on the calling thread's worker. Any
 * thread. Since ABI 1.3. */
SY_API int64_t sy_sched_retry(sy_sched *sched, size_t step, unsigned attempt,
                              int code, const char *message);
/* A step failed for good (for a runner that tracks readiness itself):
 * records it (the first one is the run's error; message is copied) and
 * returns 1 when the run keeps going (keep_going: the caller skips the
 * downstream steps, each with sy_sched_skip), 0 when it stops. Takes a
 * lock. Any thread. Since ABI 1.3. */
SY_API int sy_sched_fail(sy_sched *sched, size_t step, int code,
                         const char *message);
/* A step is skipped because an input failed or was skipped (for a runner
 * that tracks readiness itself): emits SKIPPED and counts it. Any thread.
 * Since ABI 1.3. */
SY_API void sy_sched_skip(sy_sched *sched, size_t step);
/* Adds n steps done to the count (for a runner that tracks readiness
 * itself, e.g. each worker once at the end). Any thread. Since ABI 1.3. */
SY_API void sy_sched_count_done(sy_sched *sched, size_t n);
/* "1 step failed, 3 skipped" into buf (cap bytes, truncated); returns the
 * number of steps failed. Any thread, once the steps have settled.
 * Since ABI 1.3. */
SY_API size_t sy_sched_summary(const sy_sched *sched, char *buf, size_t cap);
/* The run's outcome, once sy_sched_finished() (or a pool's join): 0 when
 * every step is done; SY_ECANCELED "canceled: 3 of 10 steps done" after a
 * cancel; the first failure's code and message (keep_going with more
 * than that one step failed or any skipped: followed by
 * " (2 steps failed, 3 skipped)"); SY_ESTATE "ran 3 of 10 steps" when
 * steps are left over. err may be NULL. Any thread, after the run.
 * Since ABI 1.3. */
SY_API int sy_sched_result(const sy_sched *sched, sy_error *err);
/* The first failure: its code (0 when none) and, in *message when not
 * NULL, its text (owned by the scheduler). Any thread, after the run.
 * Since ABI 1.3. */
SY_API int sy_sched_first_failure(const sy_sched *sched, const char **message);

#ifdef __cplusplus
}
#endif
#endif /* SWITCHYARD_RUNNER_H */
