/*
 * switchyard/flow.h - flows, programs, jobs and the serving callable.
 *
 * The path of a flow through the core:
 *
 *   flow file --sy_program_compile--> program --sy_job_new--> job
 *   job --sy_job_run--> the configured runner schedules its steps
 *
 * A program is portable: it names actors, feeds and sinks by name and
 * carries parameters as text, so sy_program_save() output can be executed
 * step by step by another process or machine. A job binds a program to
 * this process: instances of the feed, sink and actors, and the values of
 * finished steps.
 *
 * Ownership: every *_new / compile / load hands the caller an object to
 * free with its *_free. A job borrows its platform and program: both must
 * outlive it. Thread-safety: one thread drives a job (the runner it calls
 * may use many); a callable serves one call at a time.
 * Since ABI 1.0.
 */
#ifndef SWITCHYARD_FLOW_H
#define SWITCHYARD_FLOW_H

#include <stdint.h>
#include <stdio.h>

#include "actor.h"
#include "error.h"
#include "platform.h"
#include "runner.h"
#include "value.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The lifecycle action a program is compiled for (docs/lifecycle.md). */
typedef enum sy_mode {
  SY_MODE_RUN = 1,   /* train in memory where needed, apply, sink */
  SY_MODE_TRAIN = 2, /* fit stateful actors, commit their states */
  SY_MODE_APPLY = 3  /* load trained states, apply, sink */
} sy_mode;

SY_API const char *sy_mode_name(sy_mode mode);
SY_API int sy_mode_parse(const char *text, sy_mode *mode);

typedef struct sy_program sy_program;

typedef struct sy_compile_options {
  uint32_t size;          /* sizeof(sy_compile_options) */
  const char *state_file; /* apply: states to load (train writes them) */
} sy_compile_options;

/* Reads, validates and compiles a flow file. Problems with the flow file
 * are all printed to `report` (may be NULL) as "file:line: ..." lines;
 * err->code then says what failed and, having been reported, err->message
 * is left empty (with report NULL, err->message holds the first problem).
 * Other errors (config, feed, states) are only in err. */
SY_API int sy_program_compile(sy_platform *p, const char *flow_path,
                              sy_mode mode, const sy_compile_options *opts,
                              FILE *report, sy_program **out, sy_error *err);
/* Checks a flow without compiling it; prints every problem to report.
 * Besides the flow's own shape and actors, it creates (and destroys) the
 * feed and sink instances the flow names and, when the feed describes its
 * table (sy_feed_ops describe), checks the table, its label column and
 * the columns std.select / std.drop name (since ABI 1.3). Returns 0 or
 * the first problem's code. */
SY_API int sy_flow_check(sy_platform *p, const char *flow_path, FILE *report,
                         sy_error *err);
SY_API void sy_program_free(sy_program *prog);
SY_API sy_mode sy_program_mode(const sy_program *prog);
/* The flow's name (`name = ...` in the flow file; "" when it has none),
 * borrowed from the program. Thread-safe. Since ABI 1.3. */
SY_API const char *sy_program_name(const sy_program *prog);
/* The hash of the flow the program was compiled from, as
 * sy_flow_hash_hex writes it (32 hex digits and a NUL; a release's
 * "flow hash"). Thread-safe. (ABI 1.4) */
SY_API void sy_program_flow_hash_hex(const sy_program *prog, char out[33]);
/* The flow file the program was compiled from, as the compiler was given
 * it (borrowed; "" when unknown): its folder is the program's project,
 * whose switchyard.ini `switchyard exec` reads as `run` does. Since ABI
 * 1.1. */
SY_API const char *sy_program_flow_file(const sy_program *prog);
/* Writes the versioned program file (atomically: temp name + rename). */
SY_API int sy_program_save(const sy_program *prog, const char *path,
                           sy_error *err);
/* Reads a program file; hostile or damaged files fail with SY_ECORRUPT. */
SY_API int sy_program_load(const char *path, sy_program **out, sy_error *err);
/* Prints the program readably: one step per line with its arguments,
 * parameters and cache key. */
SY_API int sy_program_explain(const sy_program *prog, FILE *out);

/* A flow as read from its file and validated against the catalog, for
 * what compiles a flow in more than one step (releases, registries:
 * services/lifecycle.c). Opaque; one thread at a time. Since ABI 1.3. */
typedef struct sy_flow sy_flow;
/* Reads the flow file at path (text NULL), or the flow text `text` that
 * path names in messages, and validates it against the platform's
 * catalog. Problems are printed to report (may be NULL) as for
 * sy_program_compile, and then not repeated in err->message. The caller
 * owns *out (sy_flow_free). Since ABI 1.3. */
SY_API int sy_flow_load(sy_platform *p, const char *path, const char *text,
                        FILE *report, sy_flow **out, sy_error *err);
/* Frees a flow (NULL: nothing). Since ABI 1.3. */
SY_API void sy_flow_free(sy_flow *flow);
/* The flow's name (borrowed from the flow). Since ABI 1.3. */
SY_API const char *sy_flow_name(const sy_flow *flow);
/* The hash of the flow's meaning (nodes, actors and versions, params), in
 * 32 hex digits and a NUL: the "flow hash" of programs and releases.
 * Since ABI 1.3. */
SY_API void sy_flow_hash_hex(const sy_flow *flow, char out[33]);
/* The flow's actor nodes in file order: actor name and the version of
 * the provider it resolved to (both borrowed). Since ABI 1.3. */
SY_API size_t sy_flow_node_count(const sy_flow *flow);
SY_API void sy_flow_node_actor(const sy_flow *flow, size_t i,
                               const char **actor, const char **version);
/* Reading a loaded flow, for checks that name file:line (services/
 * flow_check.c). Strings are borrowed from the flow; reading is safe from
 * several threads. i is a node index below sy_flow_node_count. */
/* The flow file as given. Since ABI 1.3. */
SY_API const char *sy_flow_file(const sy_flow *flow);
/* 1 and the source group (feed NULL: the [PLATFORM] feed; label NULL:
 * none; where it is written), or 0 when the flow has no source. Since
 * ABI 1.3. */
SY_API int sy_flow_source(const sy_flow *flow, const char **feed,
                          const char **table, const char **label,
                          const char **file, int *line);
/* The source's pushdown (columns, where, order, limit), borrowed from
 * the flow, or NULL when it has none; where its parts are written (the
 * source's file, sy_flow_source): one line per where condition in
 * *where_lines, the columns' and the order's line (0 when absent). Any
 * argument but flow may be NULL. Read-only: any thread. (ABI 1.4) */
SY_API const struct sy_feed_query *sy_flow_source_query(const sy_flow *flow,
                                                        const int **where_lines,
                                                        int *columns_line,
                                                        int *order_line);
/* The sink instance (NULL: none) and the line it is named on. Since ABI
 * 1.3. */
SY_API const char *sy_flow_sink(const sy_flow *flow, int *line);
/* Node indices in topological order (sy_flow_node_count of them; ties
 * keep file order), or NULL when the graph has a cycle. Since ABI 1.3. */
SY_API const uint32_t *sy_flow_order(const sy_flow *flow);
/* Node i's id and the provider its actor resolved to (NULL: unknown).
 * Since ABI 1.3. */
SY_API const char *sy_flow_node_id(const sy_flow *flow, size_t i,
                                   const sy_provider **provider);
/* Node i's inputs: how many, and input k's node index (-1: the source,
 * -2: none) and which output of it. Since ABI 1.3. */
SY_API size_t sy_flow_node_input_count(const sy_flow *flow, size_t i);
SY_API int32_t sy_flow_node_input(const sy_flow *flow, size_t i, size_t k,
                                  uint32_t *output);
/* Node i's parameter `key` as canonical text (lists comma-joined), and
 * where it is written; NULL when the node does not set it. Since ABI
 * 1.3. */
SY_API const char *sy_flow_node_param(const sy_flow *flow, size_t i,
                                      const char *key, const char **file,
                                      int *line);
/* The flow written out whole as flow-file text (includes resolved), which
 * sy_flow_load reads back to the same flow; malloc()ed, NUL-terminated,
 * the caller frees it. 0 or SY_ENOMEM. Since ABI 1.3. */
SY_API int sy_flow_text(const sy_flow *flow, char **text, size_t *len);

/* Where a compiled program's states come from and go to, beyond
 * sy_compile_options. Since ABI 1.3. */
typedef struct sy_flow_compile_options {
  uint32_t size;              /* sizeof(sy_flow_compile_options) */
  const char *states;         /* apply: where LOAD reads ("registry:..."
                                 or a file); incremental train: the states
                                 it starts from */
  const uint8_t *states_hash; /* content hash of those states (16 bytes),
                                 or NULL to hash the file named states */
  const char *commit_to;      /* train: "registry:INST:PROJECT:RELEASE" */
  int incremental;            /* train: incremental actors start from the
                                 states at `states` (LOAD, then TRAIN) */
  int no_feed;                /* make no feed instance: the FEED step is
                                 never run (the serving callable) */
} sy_flow_compile_options;
/* Compiles a loaded flow (which it does not change; it may be compiled
 * again). opts may be NULL. The caller owns *out. Since ABI 1.3. */
SY_API int sy_flow_compile(sy_platform *p, const sy_flow *flow, sy_mode mode,
                           const sy_flow_compile_options *opts,
                           sy_program **out, sy_error *err);

/* Building a program by hand, without a flow file (benchmarks and graph
 * generators; the compiler is the way for everything else).
 * sy_program_new makes an empty program of that mode, named `name`; the
 * caller owns it (sy_program_free). sy_program_add_apply appends an APPLY
 * step of `actor` (its version as recorded, e.g. "1.0.0") with node id
 * `node`, reading output 0 of each of the n_args earlier steps in args,
 * with n_params parameters given as canonical text (keys in strictly
 * ascending strcmp order), producing n_outputs values; everything is
 * copied. It returns the step's index (>= 0), or SY_EINVAL for an
 * argument that is not an earlier step or keys out of order, SY_ENOMEM.
 * The step's cache key is computed as the compiler does. A program is
 * not thread-safe while it is being built. Since ABI 1.3. */
SY_API int sy_program_new(sy_mode mode, const char *name, sy_program **out,
                          sy_error *err);
SY_API int sy_program_add_apply(sy_program *prog, const char *node,
                                const char *actor, const char *version,
                                const uint32_t *args, uint32_t n_args,
                                const char *const *param_keys,
                                const char *const *param_values,
                                uint32_t n_params, uint32_t n_outputs);

/* ---- evaluation and sweeps (ABI 1.4) ---------------------------------
 * `switchyard eval`: a flow compiled into one program whose branches are
 * the folds of a cross-validation (or one holdout split) and, for a flow
 * whose nodes sweep parameters (sweep = { rate = [0.01, 0.1]; }), every
 * combination of swept values. Each branch trains the flow's stateful
 * actors on its train rows (metrics.fold), applies them to its test rows,
 * and scores the predictions (metrics.<metric>); one metrics.table step
 * gathers every score: a frame with, per branch and metric, "branch"
 * (with sweeps only), "metric", "mean", "std" (over folds, n - 1) and
 * "fold1".."foldK" (k-fold only). Branches are independent steps, so
 * every runner runs them, in parallel where it can, and the cache keeps
 * each one. */
typedef struct sy_eval_options {
  uint32_t size;  /* sizeof(sy_eval_options) */
  uint32_t folds; /* k-fold cross-validation, K >= 2; 0: holdout */
  double holdout; /* with folds 0: the test fraction, 0 < holdout < 1 */
  int64_t seed;   /* of the row shuffle */
  const char *const *metrics; /* NULL-terminated: accuracy, log_loss,
                                 roc_auc, r2, rmse, mae; NULL or empty:
                                 accuracy and log_loss for std.logreg,
                                 else r2, rmse and mae */
  const char *sink; /* also write the table to this sink instance; NULL:
                       no sink step */
} sy_eval_options;
/* Compiles flow for evaluation; *table_step is the metrics.table step
 * (keep it with sy_job_keep to read it after the run). The caller owns
 * *out. Not thread-safe with other uses of p. (ABI 1.4) */
SY_API int sy_flow_compile_eval(sy_platform *p, const sy_flow *flow,
                                const sy_eval_options *opts, sy_program **out,
                                size_t *table_step, sy_error *err);
/* 1 when more is better for the eval metric `name` (accuracy, roc_auc,
 * r2), 0 when less is (log_loss, rmse, mae), -1 for an unknown name.
 * Thread-safe. (ABI 1.4) */
SY_API int sy_eval_metric_higher(const char *name);
/* The number of sweep branches of a flow (1 without sweeps); SY_ETOOBIG
 * above 4096. Thread-safe on a loaded flow. (ABI 1.4) */
SY_API int sy_flow_sweep_branches(const sy_flow *flow, size_t *count);
/* Branch b's label, "node.key=value ..." ("" without sweeps), as the
 * eval table's "branch" column has it; malloc()ed, the caller frees it.
 * (ABI 1.4) */
SY_API int sy_flow_sweep_label(const sy_flow *flow, size_t b, char **label);
/* Replaces every sweep by branch b's value, so that the flow compiles for
 * run, train and apply (`train --best`). One thread. (ABI 1.4) */
SY_API int sy_flow_sweep_fix(sy_flow *flow, size_t b, sy_error *err);

typedef struct sy_job_options {
  uint32_t size;          /* sizeof(sy_job_options) */
  const char *state_file; /* train: where to commit states (NULL: keep);
                             apply (ABI 1.4): the states the LOAD steps
                             read instead of the program's */
  const char *cache;      /* off, read, write, readwrite; NULL: [PLATFORM]
                             cache. Uses the [PLATFORM] storage instance. */
} sy_job_options;

/* Binds a program to the platform's instances. */
SY_API int sy_job_new(sy_platform *p, const sy_program *prog,
                      const sy_job_options *opts, sy_job **out, sy_error *err);
/* Keeps step s's outputs until the job is freed (they are otherwise
 * released once their consumers ran), so sy_job_output reads them after
 * sy_job_run; call before the run. Values computed in another process
 * (runner-dask processes, MPI) are there only when the step's value comes
 * back to this one. 0, or SY_ERANGE for a step out of range. One thread.
 * (ABI 1.4) */
SY_API int sy_job_keep(sy_job *job, size_t step);
/* Runs the job on a runner instance (NULL: [PLATFORM] runner). */
SY_API int sy_job_run(sy_job *job, const char *runner, sy_error *err);
/* Prints, for every step, whether a run would execute it and why: its
 * result is cached, it is not (yet), it is never cached (sinks, commits),
 * or the cache is off. Runs nothing. */
SY_API int sy_job_explain(sy_job *job, FILE *out);
/* After a train job: the states bundle it committed (borrowed), or NULL. */
SY_API const sy_value *sy_job_states(const sy_job *job);
/* The program the job runs (borrowed: it must outlive the job anyway).
 * Thread-safe. Since ABI 1.3. */
SY_API const sy_program *sy_job_program(const sy_job *job);
/* For a runner that starts `switchyard exec` elsewhere and must give it
 * the same platform (runner-slurm): the platform the job was bound on
 * (borrowed: it outlives the job), the job's result cache (the [PLATFORM]
 * storage instance, borrowed from the job; NULL when the cache is off)
 * and its cache mode, "off", "read", "write" or "readwrite" (a static
 * string). Thread-safe. (ABI 1.4) */
SY_API sy_platform *sy_job_platform(const sy_job *job);
SY_API sy_instance *sy_job_storage(const sy_job *job);
SY_API const char *sy_job_cache_mode(const sy_job *job);
/* For a runner that ships the program to machines that cannot read the
 * submitter's files (runner-argo). sy_job_commit_file: the file a COMMIT
 * step writes the trained states to (sy_job_options.state_file, as `train
 * --state FILE` gives it; borrowed from the job), or NULL when the job
 * names none. sy_job_loaded_states: the trained states the program's LOAD
 * steps read (from its state file or registry generation, read when the
 * job was made), as one bundle value in *out (the bytes `train --state`
 * writes; the caller unrefs it), or *out = NULL when the program has no
 * LOAD step. `switchyard exec --state FILE` makes an apply program's LOAD
 * steps read FILE instead of what the program names. Thread-safe.
 * (ABI 1.4) */
SY_API const char *sy_job_commit_file(const sy_job *job);
SY_API int sy_job_loaded_states(const sy_job *job, sy_value **out,
                                sy_error *err);

/* For crash reports (sy_crash_report_install): whether this thread is
 * executing a step (sy_step_execute, which runners call through
 * sy_job_run_step), and if so which: returns 1 and fills step, op, node
 * and target (borrowed from the job's program; any pointer may be NULL),
 * else 0. Reads two thread-locals and the program: async-signal-safe.
 * Since ABI 1.3. */
SY_API int sy_job_running_step(size_t *step, sy_op *op, const char **node,
                               const char **target);
/* How many sy_job_run() calls are in progress in this process (an exit()
 * meanwhile cuts a run short). Async-signal-safe. Since ABI 1.3. */
SY_API int sy_job_runs_in_progress(void);
SY_API void sy_job_free(sy_job *job);

/* ---- a job driven step by step (services/callable.c) -----------------
 * What the serving callable needs from a job beyond runner.h: it puts a
 * request where the FEED's outputs would be (sy_job_step_done), runs the
 * other steps with sy_job_run_step or calls their actors itself, reads
 * results back and resets the job between calls. All since ABI 1.3; one
 * caller drives such a job, from one thread at a time. */

/* sy_job_new without feed, sink or storage instances: FEED steps must be
 * given their outputs (sy_job_step_done) and SINK steps must not run;
 * nothing is read from or written to a cache. The caller owns *out.
 * Since ABI 1.3. */
SY_API int sy_job_new_unbound(sy_platform *p, const sy_program *prog,
                              sy_job **out, sy_error *err);
/* Output k of step s (borrowed), or NULL while not computed or once
 * released. Since ABI 1.3. */
SY_API sy_value *sy_job_output(const sy_job *job, size_t step, size_t k);
/* Forgets the values of every step not marked in keep (job size bytes,
 * non-zero: keep), so that the steps can run again; kept values stay,
 * and are never released by their consumers. Since ABI 1.3. */
SY_API void sy_job_reset(sy_job *job, const uint8_t *keep);
/* Whether anything besides the caller sees the job's steps: a listener,
 * or a result cache in use. Since ABI 1.3. */
SY_API int sy_job_observed(const sy_job *job);
/* Whether step s's first argument is a state (an APPLY or TRAIN of a
 * stateful actor), which the step's actor is loaded with. Since ABI 1.3.
 */
SY_API int sy_job_step_takes_state(const sy_job *job, size_t step);
/* A FEED step's label column ("" for none; borrowed). Since ABI 1.3. */
SY_API const char *sy_job_feed_label(const sy_job *job, size_t step);
/* A FEED step's table ("iris" for `table = "iris"`; "" for any other
 * step; borrowed from the job's program): with sy_job_platform(), what a
 * runner that ships a flow elsewhere needs to find the feed's data
 * (runner-argo); a serving callable's input columns (serve). Any
 * thread. Since ABI 1.4. */
SY_API const char *sy_job_feed_table(const sy_job *job, size_t step);
/* A FEED step's pushdown (the flow source's columns, where, order and
 * limit), decoded: 0 with *out a new query owned by the caller (free it
 * with sy_feed_query_free), or *out NULL when the step has none or is not
 * a FEED step; SY_ENOMEM / SY_ECORRUPT with err set. What a serving
 * callable applies to its requests. Any thread. (ABI 1.4) */
SY_API int sy_job_feed_query(const sy_job *job, size_t step,
                             struct sy_feed_query **out, sy_error *err);
/* The actor instance of APPLY step s, made on first use (shared by steps
 * of the same stateless actor and parameters) and loaded with state
 * unless already loaded with it (state NULL: none): what the executor
 * runs apply on. ops and self are borrowed from the job. 0 or an error
 * prefixed with the step's node and actor. Since ABI 1.3. */
SY_API int sy_job_step_actor(sy_job *job, size_t step, const sy_value *state,
                             const sy_actor_ops **ops, void **self,
                             sy_error *err);
/* The instance the executor has bound to APPLY step s, without making
 * one: 1 with ops, self and the state it was loaded with (borrowed; NULL
 * for none), or 0 when none is bound yet. Since ABI 1.3. */
SY_API int sy_job_step_bound_actor(const sy_job *job, size_t step,
                                   const sy_actor_ops **ops, void **self,
                                   const sy_value **state);
/* Splits a table into features and the label column, as a FEED with a
 * label does: the features are every other column, the label that
 * column alone (a frame with no column when the table lacks it). Both
 * are the caller's. Thread-safe. Since ABI 1.3. */
SY_API int sy_frame_split_label(const sy_value *table, const char *label,
                                sy_value **features, sy_value **lab,
                                sy_error *err);

/* A flow compiled once for apply, called once per request: the serving
 * path. The feed is replaced by the input frame; the value that would go
 * to the sink is returned instead. */
typedef struct sy_callable sy_callable;

/* states: a state file written by `switchyard train --state FILE`, or NULL
 * for a flow without stateful actors. */
SY_API int sy_callable_new(sy_platform *p, const char *flow_path,
                           const char *state_file, sy_callable **out,
                           sy_error *err);
/* input is borrowed; *output is owned by the caller. After the first
 * call, the callable keeps each step's result and rewrites it in place
 * at the next call of the same shape (services/callable.c): drop *output
 * before the next call and a steady stream of requests allocates
 * nothing; a result still held is never touched (that step builds a new
 * frame instead). The source's columns and where apply to input as
 * sy_callable_query says. */
SY_API int sy_callable_call(sy_callable *c, const sy_value *input,
                            sy_value **output, sy_error *err);
SY_API void sy_callable_free(sy_callable *c);
/* A callable from a program compiled for apply (by sy_flow_compile with
 * no_feed set, or sy_callable_new_target, lifecycle.h): takes ownership
 * of prog, also when it fails (SY_EINVAL for a program of another mode).
 * The platform must outlive the callable. Not thread-safe with other uses
 * of p. (ABI 1.4) */
SY_API int sy_callable_from_program(sy_platform *p, sy_program *prog,
                                    sy_callable **out, sy_error *err);
/* The program the callable runs (borrowed: valid while c lives; reading
 * it is thread-safe). (ABI 1.4) */
SY_API const sy_program *sy_callable_program(const sy_callable *c);

/* Where the requests stand in for: the feed instance, table and label
 * column of the flow's source (each borrowed from the callable, "" when
 * the flow names none), to learn the input columns from. Thread-safe.
 * (ABI 1.4) */
SY_API void sy_callable_source(const sy_callable *c, const char **feed,
                               const char **table, const char **label);
/* The source's pushdown (columns, where, order, limit; borrowed from the
 * callable), or NULL when it has none. sy_callable_call applies it to
 * each request: the request keeps `columns` (the label only when it
 * carries it) and every row must match `where` (a row that does not is
 * refused with SY_EINVAL naming it; a condition on the label holds only
 * when the request carries the label); `order` and `limit` do not apply
 * to a request. Thread-safe. (ABI 1.4) */
SY_API const struct sy_feed_query *sy_callable_query(const sy_callable *c);

/* One row of numbers in, one row of numbers out: the callable compiled
 * down to its actors' row kernels (actor.h), for a server answering one
 * request at a time. A row call is bound once to the request's column
 * names; each call then takes the row's cells as doubles (never null)
 * and writes the result row's cells, with no frame, no allocation and no
 * name looked up. The results equal sy_callable_call's on a one-row
 * frame of those f64 columns, bit for bit. Since ABI 1.2. */
typedef struct sy_row_call sy_row_call;

/* Binds a row call to the request columns names[0..n) (the label column,
 * if the flow's source names one and it is among them, is set aside as
 * sy_callable_call does). Fails with SY_ENOTSUP, naming the step, when
 * the flow cannot run on rows: a step that is not a one-input actor with
 * prepare_row (std.concat, sys.exec, ...), a result that is not all
 * f64 (a label column: see sy_callable_bind_row_flags), and (ABI 1.4) a
 * source whose where applies to requests or whose columns (less the
 * label) are not names, in that order; use sy_callable_call for those.
 * Loads the states the flow needs, as a first call would. The callable
 * must outlive the row call; the names are copied. */
SY_API int sy_callable_bind_row(sy_callable *c, const char *const *names,
                                size_t n, sy_row_call **out, sy_error *err);
/* sy_callable_bind_row with flags: SY_ROW_LABELS lets the result carry
 * label columns (a classifier's predicted class, a string column on the
 * frame path): out[i] is then an index into sy_row_call_labels(r, i).
 * Without it (and with sy_callable_bind_row), such a flow is refused with
 * SY_ENOTSUP, as before 1.5: a host that does not look at the labels
 * would print indexes. Flags this core does not know: SY_EINVAL.
 * (ABI 1.5) */
#define SY_ROW_LABELS 0x1u
/* SY_ROW_BATCH: every step must be row-wise (SY_ACTOR_ROW_WISE, actor.h),
 * so that sy_row_call_run on each row of a request gives, row by row,
 * sy_callable_call's result on the whole request; SY_ENOTSUP naming the
 * first step that is not. (ABI 1.5) */
#define SY_ROW_BATCH 0x2u
SY_API int sy_callable_bind_row_flags(sy_callable *c, const char *const *names,
                                      size_t n, unsigned flags,
                                      sy_row_call **out, sy_error *err);
/* The strings result column i's cells index (*n of them; valid while r
 * lives), or NULL when column i is a number. (ABI 1.5) */
SY_API const char *const *sy_row_call_labels(const sy_row_call *r, size_t i,
                                             size_t *n);
/* Columns in the result row, and their names (valid while r lives). */
SY_API size_t sy_row_call_width(const sy_row_call *r);
SY_API const char *sy_row_call_name(const sy_row_call *r, size_t i);
/* in: one double per bound column, in the order given to bind; out: room
 * for sy_row_call_width() doubles. One thread at a time per row call;
 * row calls of one callable may run concurrently. */
SY_API void sy_row_call_run(sy_row_call *r, const double *in, double *out);
SY_API void sy_row_call_free(sy_row_call *r);

#ifdef __cplusplus
}
#endif
#endif /* SWITCHYARD_FLOW_H */
