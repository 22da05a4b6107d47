/*
 * program.h - the compiled form of a flow (internal to the core).
 *
 * A program is a list of instructions in topological order: every argument
 * of instruction i is an instruction j < i. It holds names and text only
 * (no pointers into this process), so it can be saved, sent to another
 * process and executed there (sy_program_save / switchyard exec).
 *
 * Argument conventions per op (see docs/lifecycle.md):
 *   FEED    no args; n_outputs 1 (features) or 2 (features, label)
 *   GET     one arg (a multi-output step); `index` picks its output
 *   TRAIN   [state (SY_INSTR_STATE_IN)], inputs..., [label (SY_INSTR_LABEL)]
 *           -> state
 *   APPLY   [state (SY_INSTR_STATE_IN)], inputs... -> n_outputs values
 *   LOAD    no args -> the state of `node` from the bound state source
 *   DUMP    states... (one per stateful node, `nodes` names them) -> bundle
 *   COMMIT  one arg: the bundle -> the bundle (written to the state file)
 *   SINK    one arg -> the value (written to the sink)
 */
#ifndef SY_CORE_PROGRAM_H
#define SY_CORE_PROGRAM_H

#include "arena.h"
#include "internal.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "switchyard/flow.h"
#include "switchyard/runner.h"

#define SY_INSTR_STATE_IN 0x1u /* first argument is a state */
#define SY_INSTR_LABEL 0x2u    /* last argument is the label */
#define SY_INSTR_VOLATILE 0x4u /* never cached (feed without fingerprint) */

typedef struct sy_param {
  char *key;
  char *text;
} sy_param;

/* Strings and arrays of an instruction live in its program's arena
 * (prog->mem); target, version, table, label and parameter keys are
 * interned there, so the 1e6 steps of one actor share one copy. The
 * fields are ordered so that the struct has no padding (96 bytes). Its
 * label for humans and its key in hex are made when first asked for
 * (sy__instr_text, sy__instr_key_hex): a run without events, errors or
 * a storage never needs them, and formatting them cost ~70 bytes and a
 * snprintf per step. */
typedef struct sy_instr {
  sy_op op;
  uint32_t flags;
  uint32_t n_params;
  uint32_t n_args;
  uint32_t index;     /* GET: which output */
  uint32_t n_outputs; /* values produced */
  char *node;         /* flow node id; "source" for FEED, "states" for DUMP */
  char *target;       /* actor name / feed or sink instance; "" otherwise */
  char *version;      /* actor version at compile time; "" otherwise */
  char *table;        /* FEED: table */
  char *label;        /* FEED: label column or "" */
  sy_param *params;   /* sorted by key */
  uint32_t *args;
  uint8_t key[16]; /* cache key */
} sy_instr;

/* The labels of every step, made at once on first use. */
typedef struct sy__labels {
  char **text; /* per step: "apply model (std.logreg)", or NULL on OOM */
  sy__arena mem;
} sy__labels;

/* The plugin code an actor target was compiled against: the content
 * hash of its plugin file (sy__catalog_code_hash), all zero for a plugin
 * with no file (sy_catalog_add_static). A program holds one per distinct
 * actor target, beside the instructions (sy_instr stays 96 bytes), so a
 * saved program can tell, when a job binds it, that a plugin was rebuilt
 * since: its keys would then name results of code that no longer runs. */
typedef struct sy__code_pin {
  const char *target; /* in the program's arena */
  uint8_t hash[16];
} sy__code_pin;

/* What a node asks of the runner (resources, retries, timeout: the flow's
 * `resources = {...}` etc., defaults applied), kept beside the
 * instructions like the code pins (sy_instr stays 96 bytes), one entry
 * per node that sets anything, sorted by node id; its APPLY and TRAIN
 * steps carry it (sy_job_step_resources). Not part of any key. */
typedef struct sy__node_res {
  const char *node; /* in the program's arena */
  uint32_t cpus, gpus;
  int32_t retries; /* -1: unset */
  uint64_t memory, timeout;
} sy__node_res;

struct sy_program {
  sy_mode mode;
  char *flow_name;
  char *flow_file;
  char *state_file; /* apply: where LOAD reads ("registry:..." or a file) */
  char *commit_to;  /* train: "registry:INST:PROJECT:RELEASE", or "" */
  uint8_t flow_hash[16];
  sy_instr *code;
  uint32_t n;
  uint32_t cap;        /* entries allocated in code; 0 = exactly n (decoded) */
  sy__code_pin *codes; /* per distinct actor target (malloc'd), unsorted */
  uint32_t n_codes;
  sy__node_res *res; /* per node that sets any (malloc'd), sorted by node */
  uint32_t n_res;
  sy__arena mem;      /* the instructions' strings and arrays */
  const char **names; /* open-addressed set of the interned strings */
  uint32_t n_names, cap_names;
  /* Made by the first reader of a label or hex key, once the program is
   * complete (it is not changed after); readers may be several threads,
   * so it is published with a compare-and-swap. */
  _Atomic(sy__labels *) labels;
  /* The same for the keys in hex (33 bytes per step), apart from the
   * labels: a reader of keys alone (runner-mpi compares them across
   * ranks before every run) then does not format every step's label,
   * ~0.2 us a step (issue 16). */
  _Atomic(char *) hexes;
};

/* Appends an instruction (copying what it points to into the program's
 * arena); returns its index or < 0. */
int sy__program_emit(sy_program *prog, const sy_instr *tmpl);
/* The program's one interned copy of s ("" for NULL), or NULL on OOM. */
char *sy__program_intern(sy_program *prog, const char *s);
/* Fills the key of instruction i from its fields and args. */
void sy__instr_finish(sy_program *prog, uint32_t i, const uint8_t *extra,
                      size_t extra_len);
/* Step i's label for humans ("apply model (std.logreg)"; "?" when memory
 * ran out) and its key in hex ("" then). Both live as long as the program;
 * the first call makes them for every step. The program must be complete
 * (no emit after). Safe from several threads. */
const char *sy__instr_text(const sy_program *prog, uint32_t i);
const char *sy__instr_key_hex(const sy_program *prog, uint32_t i);
/* The resources of step i (NULL: none set; only APPLY and TRAIN steps
 * carry any). A binary search by node id. */
const sy__node_res *sy__step_res(const sy_program *prog, uint32_t i);
/* *in (NULL: nothing set) as the public struct, out->size its sizeof. */
void sy__node_res_public(const sy__node_res *in, sy_step_resources *out);
/* Fills prog->res from the nodes of flow that set any resource (their
 * ids interned); 0 or SY_ENOMEM. */
struct sy_flow;
int sy__program_set_res(sy_program *prog, const struct sy_flow *flow);
/* Serialized form (versioned, checksummed, little-endian). */
int sy__program_encode(const sy_program *prog, void **buf, size_t *len);
int sy__program_decode(const void *buf, size_t len, sy_program **out,
                       sy_error *err);
void sy__hex(const uint8_t *bytes, size_t n, char *out);

/* Writes a file whole or not at all: sy_file_write() (a temporary name
 * beside it, fsync, rename over; only a regular file or a new name). */
int sy__write_file_atomic(const char *path, const void *data, size_t len,
                          sy_error *err);
/* Opens path for reading (never blocking on a FIFO) and checks what was
 * opened: a regular file of at most `limit` bytes, else SY_EINVAL or
 * SY_ETOOBIG naming the path; SY_ENOENT and others when it cannot be
 * opened. *fd is the caller's on success. (core/file.c) */
int sy__file_open_regular(const char *path, size_t limit, int *fd,
                          sy_error *err);
/* The most a state file (train --state, apply --state) may hold. */
#define SY__STATE_FILE_MAX ((size_t)1 << 31)
/* Compiles a validated flow. */
struct sy_flow;
/* What the public compile options cannot say. */
typedef struct sy__compile_ctx {
  int no_feed;                /* the callable: make no feed instance (its
                                 step is never cached and never run) */
  const char *states;         /* apply: where LOAD reads (overrides
                                 opts->state_file) */
  const uint8_t *states_hash; /* content hash of those states, or NULL to
                                 hash the file named by `states` */
  const char *commit_to;      /* train: "registry:INST:PROJECT:RELEASE" */
  int incremental;            /* train: incremental actors start from the
                                 states at `states` (LOAD, then TRAIN) */
} sy__compile_ctx;
int sy__compile_flow(sy_platform *p, const struct sy_flow *flow, sy_mode mode,
                     const sy_compile_options *opts, const sy__compile_ctx *ctx,
                     sy_program **out, sy_error *err);
/* sy_program_compile with a context (NULL: none). */
int sy__program_compile(sy_platform *p, const char *path, sy_mode mode,
                        const sy_compile_options *opts, FILE *report,
                        const sy__compile_ctx *ctx, sy_program **out,
                        sy_error *err);
/* The hash of a flow's meaning (nodes, actors and versions, params). */
void sy__flow_hash(const struct sy_flow *flow, uint8_t out[16]);

#endif /* SY_CORE_PROGRAM_H */
