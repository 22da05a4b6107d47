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
  char *text; /* canonical text, see above */
  int line;
  sy_flow_ptype type;
  const char *file;
} sy_flow_param;

typedef struct sy_flow_input {
  char *node;      /* an actor id, or "source" */
  uint32_t output; /* which output of that node */
  int32_t target;  /* set by sy__flow_validate: the index of that node in
                      nodes, -1 for the source, -2 for no node (before,
                      the loader may leave a hint there) */
  int line;
  const char *file;
} sy_flow_input;

typedef struct sy_flow_node {
  char *id;
  char *actor; /* provider name, "std.scaler" */
  int line;
  sy_flow_input *inputs;
  size_t n_inputs;
  sy_flow_param *params;
  size_t n_params;
  const sy_provider *provider; /* resolved by sy__flow_validate */
  const char *file;
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
  sy_flow_node *nodes; /* file order */
  size_t n_nodes;
  uint32_t *order; /* topological order (indices into nodes), set by
                      sy__flow_validate; ties keep file order */
  int resolved;    /* sy__flow_validate set every input's target */
  char **files;    /* every source file seen (owned), for the `file` fields */
  size_t n_files;
  /* Every string and small array above except nodes, order and files
   * lives here and is freed with the flow; nothing is freed alone. */
  sy__arena mem;
} sy_flow;

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

/* The node with that id, or NULL. */
sy_flow_node *sy__flow_find(const sy_flow *flow, const char *id);

#endif /* SY_CORE_FLOW_H */
