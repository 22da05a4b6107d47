/*
 * flow.h - a flow as read from its file (internal to the core).
 *
 * A flow file is libconfig syntax:
 *
 *   name    = "iris";
 *   source  = { feed = "data"; table = "iris"; label = "species"; };
 *   actors  = (
 *     { id = "scale"; actor = "std.scaler"; },
 *     { id = "model"; actor = "std.logreg"; inputs = ["scale"];
 *       params = { epochs = 200; rate = 0.1; }; }
 *   );
 *   sink    = "out";              # or { instance = "out"; input = "model"; }
 *
 * Flow parameters (flow_params.c): `params = { rate = { type = "float";
 * default = 0.1; }; };` at the top, `rate = { param = "rate"; }` in an
 * actor's params. A node's `sweep = { rate = [0.01, 0.1]; }` lists values
 * of its actor parameters that eval compiles into branches.
 *
 * `inputs` defaults to the previous actor in the list (the source for the
 * first one); "source" names the feed's features explicitly; "id:N" names
 * output N of a multi-output actor. The sink's input defaults to the last
 * actor. `feed` defaults to [PLATFORM] feed (a source group must name its
 * `table`), and `source` and `sink` are optional. No actor may be called
 * "source".
 *
 * Parameters are kept as canonical text (ints in decimal, floats "%.17g",
 * bools true/false, lists comma-joined) so that the program, the cache key
 * and the option parser all see one spelling.
 */
#ifndef SY_CORE_FLOW_H
#define SY_CORE_FLOW_H

#include "arena.h"
#include "internal.h"

/* How a parameter was written, for the type check against the option
 * (an int option refuses "5" written as a string). */
typedef enum sy_flow_ptype {
  SY_FLOW_PINT = 1, /* 5, 5L */
  SY_FLOW_PFLOAT,   /* 0.1 */
  SY_FLOW_PBOOL,    /* true */
  SY_FLOW_PSTRING,  /* "text" */
  SY_FLOW_PLIST     /* [1, 2] or ("a", 2) */
} sy_flow_ptype;

/* `file` in the structs below is where the thing was written: the flow
 * file or a file it @includes; it is sy_flow.file or one of
 * sy_flow.files, owned by the flow. */
typedef struct sy_flow_param {
  char *key;
  char *text; /* canonical text, see above; NULL only for a reference to a
                 flow parameter that has no value yet (validation says so) */
  int line;
  sy_flow_ptype type;
  const char *file;
  char *ref; /* `key = { param = "NAME"; }`: the flow parameter it takes
                its value (text, type) from; NULL for a literal */
} sy_flow_param;

/* A flow parameter, declared at the top of the flow:
 *   params = { rate = { type = "float"; default = 0.1; help = "..."; }; };
 * type is INT, FLOAT, BOOL or STRING; text is the value in use (the
 * default, or what sy__flow_bind_params set), canonical as above, or
 * NULL when it has none yet; origin says where that value came from
 * ("default", "-p", "FILE:LINE"). */
typedef struct sy_flow_decl {
  char *name;
  sy_flow_ptype type;
  char *text;
  char *help; /* NULL: none */
  const char *origin;
  int line;
  const char *file;
} sy_flow_decl;

/* `sweep = { rate = [0.01, 0.1]; }` on a node: the compiler runs the node
 * (and what depends on it) once per value; values are canonical text. */
typedef struct sy_flow_sweep {
  char *key; /* an actor parameter of the node */
  char **values;
  sy_flow_ptype *types;
  size_t n_values;
  int line;
  const char *file;
} sy_flow_sweep;

typedef struct sy_flow_input {
  char *node;      /* an actor id, or "source" */
  uint32_t output; /* which output of that node */
  int32_t target;  /* set by sy__flow_validate: the index of that node in
                      nodes, -1 for the source, -2 for no node (before,
                      the loader may leave a hint there) */
  int line;
  uint32_t file_ix; /* where it was written: 0 the flow's file, k its
                       files[k - 1] (sy__flow_input_file); an index, not a
                       pointer, so that an input takes 24 bytes (a 1e6-step
                       flow has ~2.5e6 of them; issue 16) */
} sy_flow_input;

/* What a node asks of the runner (resources, retries, timeout), after
 * the flow's `defaults` are applied; value 0 (retries -1) means unset.
 * Not part of the flow's hash or any cache key. */
typedef struct sy_flow_res {
  uint32_t cpus, gpus;
  int32_t retries;  /* -1: unset */
  uint64_t memory;  /* bytes */
  uint64_t timeout; /* seconds */
} sy_flow_res;
#define SY_FLOW_RES_UNSET ((sy_flow_res){0, 0, -1, 0, 0})
/* Whether anything is set. */
static inline int sy__flow_res_any(const sy_flow_res *r) {
  return r->cpus || r->gpus || r->retries >= 0 || r->memory || r->timeout;
}

/* 72 bytes: a 1e6-step flow has as many (issue 16). */
typedef struct sy_flow_node {
  char *id;
  char *actor; /* provider name, "std.scaler" */
  sy_flow_input *inputs;
  sy_flow_param *params;
  const sy_provider *provider; /* resolved by sy__flow_validate */
  const char *file;
  /* Resources, retries, timeout (defaults applied): the flow's
   * `defaults` when the node sets none of its own, else its own copy in
   * the flow's arena; never NULL once loaded. */
  const sy_flow_res *res;
  sy_flow_sweep *sweeps; /* in the flow's arena; n_sweeps of them */
  uint32_t n_inputs;
  uint32_t n_params;
  int line;
  uint32_t n_sweeps;
} sy_flow_node;

typedef struct sy_flow {
  char *file; /* path as given */
  char *name;
  int name_line;
  struct {
    char *feed; /* NULL: [PLATFORM] feed */
    char *table;
    char *label; /* NULL: unsupervised */
    int line;
    const char *file;
    /* The pushdown (columns, where, order, limit; ABI 1.4): has_query 0
     * when the source names none of them. Arrays in the flow's arena;
     * where_lines has one line per condition. */
    int has_query;
    sy_feed_query query;
    int *where_lines;
    int columns_line, order_line, limit_line;
  } source;
  struct {
    char *instance; /* NULL: no sink */
    sy_flow_input input;
    int line;
  } sink;
  sy_flow_res defaults; /* `defaults = { ... }`; all unset when absent */
  sy_flow_node *nodes;  /* file order */
  size_t n_nodes;
  uint32_t *order; /* topological order (indices into nodes), set by
                      sy__flow_validate; ties keep file order */
  int resolved;    /* sy__flow_validate set every input's target */
  char **files;    /* every source file seen (owned), for the `file` fields */
  size_t n_files;
  sy_flow_decl *decls; /* declared parameters (in mem), file order */
  size_t n_decls;
  /* Every string and small array above except nodes, order and files
   * lives here and is freed with the flow; nothing is freed alone. */
  sy__arena mem;
} sy_flow;

/* The file an input was written in. */
static inline const char *sy__flow_input_file(const sy_flow *flow,
                                              const sy_flow_input *in) {
  return in->file_ix == 0 || in->file_ix > flow->n_files
             ? flow->file
             : flow->files[in->file_ix - 1];
}

/* Reads and parses a flow file (libconfig; @include allowed, relative to
 * the file's folder). Syntax and shape errors name file:line. */
int sy__flow_load(const char *path, sy_flow **out, sy_error *err);
/* Same from text; `name` stands for the file in messages. */
int sy__flow_load_string(const char *text, const char *name, sy_flow **out,
                         sy_error *err);
void sy__flow_free(sy_flow *flow);

/* Called once per problem found by sy__flow_validate. */
typedef void (*sy__flow_report_fn)(void *ud, const sy_error *problem);
/* Checks everything that can be checked without data: duplicate ids,
 * unknown actor (suggesting the nearest), unknown input, cycles (naming
 * the cycle: "a -> b -> a"), arity against the actor's min/max inputs,
 * output index in range, unknown / mistyped / out-of-range parameter
 * (suggesting the nearest name), missing required parameter. Reports
 * every problem (report may be NULL), resolves providers, computes
 * `order`, and returns 0 or the first problem's code (err = first).
 * `order` is left NULL when the graph has a cycle; a node whose actor is
 * unknown keeps provider NULL. */
int sy__flow_validate(sy_flow *flow, const sy_catalog *cat,
                      sy__flow_report_fn report, void *ud, sy_error *err);
/* A report function that writes each problem's message, one a line, to
 * the FILE that ud is. */
void sy__flow_report_file(void *ud, const sy_error *problem);
/* The one "load a flow and validate it": loads `path` (or, when text is
 * not NULL, parses text with `path` naming it in messages) and validates
 * it against cat. With a report, every problem (a load error too) is
 * written there, one a line, and err keeps only the code (its message is
 * emptied so that it is not printed twice). *out is the flow on success
 * (the caller frees it), NULL on failure. */
int sy__flow_load_valid(const char *path, const char *text,
                        const sy_catalog *cat, FILE *report, sy_flow **out,
                        sy_error *err);

/* A memory size in bytes ("4G", "512MiB", "1024"; units are powers of
 * 1024) and a timeout in whole seconds ("90s", "10m", "1h30m", "2d", "45"
 * = seconds) as the flow's resources write them, with the option
 * parsers' spellings: 0 and *out set, or -1. Zero is refused. */
int sy__flow_parse_memory(const char *text, uint64_t *out);
int sy__flow_parse_timeout(const char *text, uint64_t *out);
/* ---- flow parameters (flow_params.c) ------------------------------ */

/* Values given for flow parameters from outside the flow: -p NAME=VALUE
 * (type 0: text, read by the declared type) or a --params file (typed as
 * written). origin names where, for messages. */
typedef struct sy__param_ov {
  char *name, *text, *origin;
  sy_flow_ptype type;
} sy__param_ov;
typedef struct sy__params {
  sy__param_ov *v;
  size_t n, cap;
} sy__params;
void sy__params_free(sy__params *ps);
/* The platform's (NULL: none); platform.c keeps them. */
const sy__params *sy__platform_params(const sy_platform *p);
sy__params **sy__platform_params_slot(sy_platform *p);
/* Sets every flow parameter named in ov (NULL: none) and every reference
 * to it. An unknown name (with a did-you-mean) is SY_ECONFIG, a value
 * that is not of the declared type SY_ETYPE; both name ov's origin. */
int sy__flow_bind_params(sy_flow *flow, const sy__params *ov, sy_error *err);
/* The declared parameter, or NULL. */
sy_flow_decl *sy__flow_decl(const sy_flow *flow, const char *name);
/* Reads text as a value of type t into canonical text (malloc()ed, into
 * *out); SY_ETYPE with a message naming `what` when it is not one. */
int sy__param_text(sy_flow_ptype t, const char *text, const char *what,
                   char **out, sy_error *err);
/* "int", "float", "bool", "string". */
const char *sy__ptype_name(sy_flow_ptype t);

/* sy__flow_load_valid with the values ov gives flow parameters, bound
 * between loading and validating (NULL: the defaults). */
int sy__flow_load_valid_params(const char *path, const char *text,
                               const sy_catalog *cat, const sy__params *ov,
                               FILE *report, sy_flow **out, sy_error *err);

/* The node with that id, or NULL. */
sy_flow_node *sy__flow_find(const sy_flow *flow, const char *id);

#endif /* SY_CORE_FLOW_H */
