/*
 * switchyard/actor.h - the ACTOR provider kind.
 *
 * An actor is one kind of node in a flow: `std.scaler`, `sys.exec`. Its
 * provider name is "lib.actor"; its version is the provider's version.
 * The cache key of every step that runs an actor hashes its version, its
 * parameters, the content of the plugin file it was loaded from (so a
 * rebuilt plugin never gets an old result, even with the same version)
 * and, when the actor has one, its fingerprint (see below). Its parameters
 * are the provider's option table: a flow's `params = { ... }` group is
 * validated and filled into the config struct by the same machinery as
 * INI options, and create() makes one actor instance per flow node.
 *
 * Calls and concurrency (the contract the runners rely on):
 *   - create/destroy: any thread, never concurrently on one instance.
 *   - train and state_load mutate the instance; the core never runs them
 *     concurrently with any other call on the same instance.
 *   - apply must not mutate the instance: after training or loading, the
 *     core (and an embedding server) may call apply from several threads
 *     at once on one instance.
 *   - different instances never share state (no globals).
 *
 * Values passed in are borrowed (valid for the call); values returned in
 * out[] / *state are owned by the caller (one reference each).
 *
 * Since ABI 1.0.
 */
#ifndef SWITCHYARD_ACTOR_H
#define SWITCHYARD_ACTOR_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"
#include "value.h"

#ifdef __cplusplus
extern "C" {
#endif

/* No upper bound on the number of inputs (std.concat). */
#define SY_ARITY_MANY UINT32_MAX

/* Actor flags. */
/* SY_ACTOR_STATEFUL: has train, state_save and state_load (and apply,
 * as every actor); since ABI 1.3 the loader leaves out, with a warning
 * naming the file, a stateful actor that lacks one of them. */
#define SY_ACTOR_STATEFUL 0x1u    /* has train + state_save/state_load */
#define SY_ACTOR_SUPERVISED 0x2u  /* train wants the label column */
#define SY_ACTOR_INCREMENTAL 0x4u /* train continues from a loaded state */
/* SY_ACTOR_ROW_SUBSET (ABI 1.4): apply passes on a subset of its input's
 * rows (std.split, std.head). The label the flow's source keeps apart
 * does not follow it, so the core refuses, with the node's file:line, a
 * flow where an actor that trains on that label (SUPERVISED) reads rows
 * that went through such an actor. Older cores ignore the bit. */
#define SY_ACTOR_ROW_SUBSET 0x8u
/* SY_ACTOR_ROW_WISE (ABI 1.5): apply maps each input row to one output
 * row that depends on that row alone (and the trained state): applying
 * it to each row of a frame and stacking the results gives its result on
 * the whole frame, bit for bit. std.scaler, std.linreg, std.logreg,
 * std.select and std.drop are; std.head (which rows it keeps depends on
 * the others) is not. A serving host may then run the row kernels
 * (prepare_row) row by row over a batch (SY_ROW_BATCH, flow.h). Older
 * cores ignore the bit. */
#define SY_ACTOR_ROW_WISE 0x10u

/* ---- row kernels (since ABI 1.2) ------------------------------------
 *
 * The fastest serving path (sy_row_call, flow.h) runs a flow on one row of
 * numbers with no frame at all: when it is bound, each actor describes a
 * kernel for the columns it will be given, and each call then only runs
 * the kernels on arrays of doubles.
 *
 * prepare_row is told the input row's column names (n_in, in_names: every
 * cell an f64, never null) and fills in the output row's: n_out names in
 * out_names[] (each either one of in_names[] or a string the instance
 * owns), and the kernel, one of:
 *
 *   SY_ROW_MAP    a selection: output column j is input column map[j];
 *                 costs nothing per call.
 *   SY_ROW_SCALE  per column c (n_out = n_in), by mode[c]:
 *                 SY_ROW_PASS out = in;  SY_ROW_CENTER out = in - a[c];
 *                 SY_ROW_STANDARD out = (in - a[c]) / b[c];
 *                 SY_ROW_ZERO out = 0.0.
 *   SY_ROW_DOT    one output: c0 + w[0] * in[map[0]] + w[1] * in[map[1]]
 *                 + ... for n_terms terms, added in that order, with the
 *                 weights in a[].
 *   SY_ROW_FN     anything else: fn(ctx, in, out), opaque to the core.
 *
 * The core runs MAP, SCALE and DOT itself and fuses them (a standardising
 * SCALE feeding a DOT becomes one loop, which the compiler vectorises),
 * keeping each operation as written, in order, so that the bits do not
 * change; an FN kernel is a call through a pointer per row. map[], mode[],
 * a[] and b[] are room for cap entries made by the core, which copies what
 * it needs before prepare_row's caller returns.
 *
 * Running the kernel on a row must give exactly what apply gives on a
 * one-row frame with those columns, bit for bit: the output frame's
 * cells, all f64 and non-null, in column order. Where that cannot hold (a
 * string or integer output, a null, a row count other than one)
 * prepare_row returns SY_ENOTSUP with a message saying why; an input that
 * apply would refuse gets apply's error. An FN kernel only reads ctx (and
 * the instance, which the core keeps alive and unchanged for as long as
 * the kernel lives), and may run from several threads at once; release,
 * when not NULL, frees ctx. */
typedef void (*sy_row_fn)(const void *ctx, const double *in, double *out);

typedef enum sy_row_kind {
  SY_ROW_MAP = 0,
  SY_ROW_SCALE = 1,
  SY_ROW_DOT = 2,
  SY_ROW_FN = 3
} sy_row_kind;

/* SY_ROW_SCALE modes. */
enum {
  SY_ROW_PASS = 0,
  SY_ROW_CENTER = 1,
  SY_ROW_STANDARD = 2,
  SY_ROW_ZERO = 3
};

typedef struct sy_row_kernel {
  uint32_t size; /* sizeof(sy_row_kernel) as the core saw it */
  /* Set by the core: */
  uint32_t n_in;               /* columns of the input row */
  const char *const *in_names; /* their names */
  uint32_t cap;                /* room in each array below */
  /* Set by prepare_row: */
  uint32_t n_out;             /* columns of the output row, <= cap */
  const char **out_names;     /* room made by the core */
  uint32_t kind;              /* sy_row_kind */
  uint32_t n_terms;           /* DOT: terms, <= cap */
  uint32_t *map;              /* MAP, DOT: input columns (room) */
  uint8_t *mode;              /* SCALE: per column (room) */
  double *a;                  /* SCALE: per column; DOT: weights (room) */
  double *b;                  /* SCALE: per column (room) */
  double c0;                  /* DOT: the constant term */
  sy_row_fn fn;               /* FN: the kernel */
  void *ctx;                  /* FN: its first argument */
  void (*release)(void *ctx); /* FN: frees ctx, or NULL */
  /* Since ABI 1.5 (write them only when SY_ROW_HAS_LABELS(k)): room made
   * by the core, cap entries each, all NULL / 0 on entry. An FN kernel
   * whose apply gives a string column (a classifier's predicted class)
   * sets labels[j] for that output column j to the instance's table of
   * the n_labels[j] strings it can hold, and writes in out[j] the index
   * of the cell's string as an exact double (0, 1, ...). Apply's cell
   * must be that string, never null. The strings live as long as the
   * kernel. A host sees such a column only when it binds with
   * SY_ROW_LABELS (flow.h); other kernels read no label column (the core
   * refuses the flow for the row path). (ABI 1.5) */
  const char *const **labels;
  uint32_t *n_labels;
} sy_row_kernel;

/* Whether the core that made k has room for labels. Since ABI 1.5. */
#define SY_ROW_HAS_LABELS(k)                                                   \
  ((k)->size >= offsetof(sy_row_kernel, n_labels) + sizeof((k)->n_labels) &&   \
   (k)->labels != NULL && (k)->n_labels != NULL)

typedef struct sy_actor_ops {
  uint32_t size;       /* sizeof(sy_actor_ops) as the plugin saw it */
  uint32_t min_inputs; /* at least 0 */
  uint32_t max_inputs; /* >= min_inputs, or SY_ARITY_MANY */
  uint32_t n_outputs;  /* at least 1 */
  uint32_t flags;      /* SY_ACTOR_* */
  /* Computes the outputs from the inputs (and the trained state). */
  int (*apply)(void *self, const sy_value *const *in, size_t n_in,
               sy_value **out, sy_error *err);
  /* Fits the state on the inputs; label is NULL unless SUPERVISED. An
   * incremental actor continues from the state it was loaded with. */
  int (*train)(void *self, const sy_value *const *in, size_t n_in,
               const sy_value *label, sy_error *err);
  /* Serializes the trained state as a bytes value (any layout the actor
   * likes; it should carry its own version). */
  int (*state_save)(void *self, sy_value **state, sy_error *err);
  /* Restores a state made by state_save, possibly by another process of
   * another machine; must refuse bytes it does not understand. */
  int (*state_load)(void *self, const sy_value *state, sy_error *err);
  /* Since ABI 1.1; optional (NULL, or absent when size says the plugin
   * was built against 1.0: check SY_ACTOR_HAS_APPLY_INTO). apply for a
   * serving loop that calls the same actor again and again: on entry each
   * out[k] is NULL or a value that this instance returned at output k of
   * an earlier apply/apply_into and that the caller holds exclusively
   * (sy_value_exclusive). The actor may rewrite such a frame in place
   * (sy_frame_f64_mut, sy_frame_set_valid) when its result has the same
   * shape, and leave it in out[k]; otherwise it drops it and puts a new
   * value there, exactly as apply would. The results must be equal to
   * apply's, bit for bit, and so must every error. On failure the caller
   * drops whatever out[] holds. Same concurrency as apply: the instance is
   * only read; each concurrent caller passes its own out[]. */
  int (*apply_into)(void *self, const sy_value *const *in, size_t n_in,
                    sy_value **out, sy_error *err);
  /* Since ABI 1.2; optional (check SY_ACTOR_HAS_PREPARE_ROW). Compiles a
   * row kernel for a one-input actor (see sy_row_kernel above). Called
   * after the state is loaded; reads the instance only. */
  int (*prepare_row)(const void *self, sy_row_kernel *k, sy_error *err);
  /* Since ABI 1.3; optional (check SY_ACTOR_HAS_FINGERPRINT). What the
   * results depend on besides the inputs, the parameters as written, the
   * version and the plugin's code, which the core hashes itself: for
   * example the content of files the actor reads (sys.exec's `deps`).
   * Writes a 128-bit hash of it to key; the core adds it to the cache key
   * of every step of this node. Called when a flow is compiled, from the
   * compiling thread, on an instance created from the node's parameters
   * for this call alone and destroyed after it; reads the instance only.
   * An error fails the compile; the core prefixes the flow file:line and
   * the node, so the message says what is missing and what to do. */
  int (*fingerprint)(const void *self, uint8_t key[16], sy_error *err);
  /* Since ABI 1.4; optional (check SY_ACTOR_HAS_DESCRIBE_STATE). Describes a
   * state that this actor's state_save made, for people: appends ONE JSON
   * object (RFC 8259, UTF-8 text) to json, e.g. {"means": {...}}. It is
   * given the state alone, no instance, because inspecting a model must
   * not need the flow's parameters (`switchyard state show FILE` has only
   * the file); so it checks the state as state_load does and refuses
   * bytes it does not understand with an error (json is then dropped).
   * Text, not a library's JSON type, so that the ABI ties plugins to no
   * JSON library and the schema is the actor's: the core parses what it
   * gets (jansson) and refuses, naming the actor, anything that is not
   * one JSON object; numbers should keep 17 significant digits and write
   * null for what is not finite. The json buffer is the caller's; only
   * append to it. A pure function of its arguments: any thread, any
   * number at once. */
  int (*describe_state)(const sy_value *state, sy_buf *json, sy_error *err);
} sy_actor_ops;

/* Whether ops (as the plugin laid it out) has a non-NULL apply_into.
 * Since ABI 1.1. */
#define SY_ACTOR_HAS_APPLY_INTO(ops)                                           \
  ((ops)->size >=                                                              \
       offsetof(sy_actor_ops, apply_into) + sizeof((ops)->apply_into) &&       \
   (ops)->apply_into != NULL)

/* Whether ops has a non-NULL prepare_row. Since ABI 1.2. */
#define SY_ACTOR_HAS_PREPARE_ROW(ops)                                          \
  ((ops)->size >=                                                              \
       offsetof(sy_actor_ops, prepare_row) + sizeof((ops)->prepare_row) &&     \
   (ops)->prepare_row != NULL)

/* Whether ops has a non-NULL fingerprint. Since ABI 1.3. */
#define SY_ACTOR_HAS_FINGERPRINT(ops)                                          \
  ((ops)->size >=                                                              \
       offsetof(sy_actor_ops, fingerprint) + sizeof((ops)->fingerprint) &&     \
   (ops)->fingerprint != NULL)

/* Whether ops has a non-NULL describe_state. Since ABI 1.4. */
#define SY_ACTOR_HAS_DESCRIBE_STATE(ops)                                       \
  ((ops)->size >= offsetof(sy_actor_ops, describe_state) +                     \
                      sizeof((ops)->describe_state) &&                         \
   (ops)->describe_state != NULL)

#ifdef __cplusplus
}
#endif
#endif /* SWITCHYARD_ACTOR_H */
