/*
 * switchyard/io.h - the FEED and SINK provider kinds.
 *
 * A feed brings tables in: `read` returns one table as a frame value. Its
 * optional `fingerprint` hashes a table's content without parsing it, so
 * that the compiler can give the feed step a cache key that changes
 * exactly when the data does; without it, feed steps are never cached.
 *
 * Its optional `describe` (since ABI 1.3) names a table's columns and
 * their types without reading the rows, so that `switchyard check` can
 * find a missing label column or an unknown column in std.select before
 * anything runs; without it, those checks are skipped.
 *
 * Its optional `query` (since ABI 1.4) reads a table with the flow's
 * pushdown applied: the columns kept, the rows matching every condition,
 * in the order asked, at most `limit` of them (sy_feed_query below). A
 * database feed turns it into its own query (values bound as parameters,
 * never spliced into the text); the result must be exactly what
 * sy_feed_query_apply() makes of the whole table, so that every feed
 * gives the same rows. A feed without it gets read() and the core applies
 * the query itself with sy_feed_query_apply().
 *
 * A sink takes results out: `write` receives one value per call and must
 * leave no half-written output behind when it fails (write to a temporary
 * name and rename, or write nothing).
 *
 * Concurrency: one instance's calls never run concurrently unless the
 * provider says so in its description. Values returned are owned by the
 * caller; values passed in are borrowed. Since ABI 1.0.
 */
#ifndef SWITCHYARD_IO_H
#define SWITCHYARD_IO_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "value.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- pushdown (since ABI 1.4) ---------------------------------------
 *
 * What a flow's source asks of its table, beyond its name:
 *
 *   source = { table = "iris"; columns = ["sepal_length", "species"];
 *              where = ( { column = "species"; op = "!="; value = "setosa"; },
 *                        { column = "sepal_length"; op = ">"; value = 5.0; } );
 *              order = ["sepal_length desc"]; limit = 10; };
 *
 * Semantics (sy_feed_query_apply is the reference; SQL feeds match it):
 * - every condition must hold (AND). A null cell never matches, whatever
 *   the op (as in SQL). A numeric column compares numerically with an
 *   int or float value; a string column compares bytewise (strcmp, SQL's
 *   "C" collation) with a string value; any other pairing is a type
 *   mismatch (SY_ETYPE).
 * - order: by each key in turn, nulls last (ascending and descending),
 *   ties keeping the table's row order.
 * - limit: at most that many rows after where and order; < 0: no limit.
 * - columns: the columns kept, in that order (n_columns 0: every column
 *   in the table's order). where and order may name other columns.
 * Every name must be a column of the table (SY_EINVAL otherwise).
 * Everything a query points to is borrowed from its maker. */
typedef enum sy_cmp {
  SY_CMP_EQ = 1, /* "="  (also "==") */
  SY_CMP_NE,     /* "!=" (also "<>") */
  SY_CMP_LT,     /* "<" */
  SY_CMP_LE,     /* "<=" */
  SY_CMP_GT,     /* ">" */
  SY_CMP_GE      /* ">=" */
} sy_cmp;

typedef struct sy_feed_cond {
  const char *column;
  sy_cmp op;
  sy_col_type type; /* of the value: which of f64, i64, str is set */
  double f64;
  int64_t i64;
  const char *str;
} sy_feed_cond;

typedef struct sy_feed_order {
  const char *column;
  int desc; /* 0 ascending, 1 descending */
} sy_feed_order;

typedef struct sy_feed_query {
  uint32_t size; /* sizeof(sy_feed_query) */
  const char *const *columns;
  size_t n_columns; /* 0: every column */
  const sy_feed_cond *where;
  size_t n_where;
  const sy_feed_order *order;
  size_t n_order;
  int64_t limit; /* < 0: no limit */
} sy_feed_query;

/* The SQL spelling of op ("=", "<>", "<", "<=", ">", ">="), or NULL.
 * Any thread. Since ABI 1.4. */
SY_API const char *sy_cmp_sql(sy_cmp op);

/* Applies q to a whole table (a frame, borrowed): 0 with one new
 * reference in *out, the caller's; or SY_EINVAL (an unknown column, with
 * the table's columns in the message), SY_ETYPE (a value that does not fit
 * its column), SY_ENOMEM, with err set. Any thread. Since ABI 1.4. */
SY_API int sy_feed_query_apply(const sy_value *table, const sy_feed_query *q,
                               sy_value **out, sy_error *err);

/* Frees a query that sy_job_feed_query (flow.h) made, with everything it
 * points to; NULL: nothing. Never for a query of the caller's own making.
 * Any thread. (ABI 1.4) */
SY_API void sy_feed_query_free(sy_feed_query *q);

typedef struct sy_feed_ops {
  uint32_t size; /* sizeof(sy_feed_ops) */
  int (*read)(void *self, const char *table, sy_value **out, sy_error *err);
  /* Optional (NULL): a 128-bit hash of the table's content. Since ABI
   * 1.4 it may fail with SY_ENOTSUP to say that this table's content
   * cannot be fingerprinted (a live database without a version column):
   * the feed step is then never cached, as without the op. */
  int (*fingerprint)(void *self, const char *table, uint8_t key[16],
                     sy_error *err);
  /* Since ABI 1.3; optional (NULL, or absent when size says the plugin
   * was built against an older ABI: check SY_FEED_HAS_DESCRIBE). Calls
   * column(ud, name, type) once per column of the table, in order,
   * without reading its rows: type is 0 where the feed would have to read
   * rows to know it (an inferred CSV column). Fails as read would for a
   * table that does not exist or whose header read would refuse; returns
   * what column returned when that is negative. Same concurrency as
   * read. */
  int (*describe)(void *self, const char *table, sy_column_fn column, void *ud,
                  sy_error *err);
  /* Since ABI 1.4; optional (NULL, or absent: check SY_FEED_HAS_QUERY).
   * read() with the pushdown q applied (q is borrowed for the call and
   * never NULL); *out owned by the caller. Must give what
   * sy_feed_query_apply(read(table), q) gives, or fail as it would (an
   * unknown column, a value of the wrong type: SY_EINVAL / SY_ETYPE).
   * Same concurrency as read. */
  int (*query)(void *self, const char *table, const struct sy_feed_query *q,
               sy_value **out, sy_error *err);
} sy_feed_ops;

/* Whether ops (as the plugin laid it out) has a non-NULL describe.
 * Since ABI 1.3. */
#define SY_FEED_HAS_DESCRIBE(ops)                                              \
  ((ops)->size >= offsetof(sy_feed_ops, describe) + sizeof((ops)->describe) && \
   (ops)->describe != NULL)

/* Whether ops has a non-NULL query. Since ABI 1.4. */
#define SY_FEED_HAS_QUERY(ops)                                                 \
  ((ops)->size >= offsetof(sy_feed_ops, query) + sizeof((ops)->query) &&       \
   (ops)->query != NULL)

typedef struct sy_sink_ops {
  uint32_t size; /* sizeof(sy_sink_ops) */
  /* `name` is the flow node whose output this is (for sinks that write
   * one file per result). */
  int (*write)(void *self, const char *name, const sy_value *value,
               sy_error *err);
} sy_sink_ops;

#ifdef __cplusplus
}
#endif
#endif /* SWITCHYARD_IO_H */
