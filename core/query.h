/*
 * query.h - a flow source's pushdown inside the core (query.c): the
 * FEED step's "pushdown" parameter, written by the compiler and read back
 * by the executor.
 */
#ifndef SY_CORE_QUERY_H
#define SY_CORE_QUERY_H

#include "internal.h"

#include <stdio.h>

#include "switchyard/io.h"

/* The FEED step's parameter key that holds the pushdown. */
#define SY__PUSHDOWN_PARAM "pushdown"

/* A decoded query and the storage it points into (owned). */
typedef struct sy__query {
  sy_feed_query q;
  char *buf;
  const char **cols;
  sy_feed_cond *where;
  sy_feed_order *order;
} sy__query;

/* q as the parameter's canonical text (malloc()ed into *text); 0 or
 * SY_ENOMEM. */
int sy__query_encode(const sy_feed_query *q, char **text);
/* Reads text back; 0, or SY_ECORRUPT / SY_ENOMEM with err set. out is
 * the caller's to sy__query_free on success. */
int sy__query_decode(const char *text, sy__query *out, sy_error *err);
void sy__query_free(sy__query *q);
/* Writes the pushdown text as "        pushdown: columns a, b; where a >
 * 1 AND b = 'x'; order a desc; limit 3" plus a newline, for `compile
 * --explain`; 0, or < 0 (nothing written) when text does not decode. */
int sy__query_print(const char *text, FILE *out);
/* "=", "==", "!=", "<>", "<", "<=", ">", ">=" into *op; SY_EINVAL else. */
int sy__cmp_parse(const char *text, sy_cmp *op);
/* Whether the condition's value may be compared with a column of type
 * column (0: unknown, always fine); the error when it may not. */
int sy__cond_type_ok(sy_col_type column, const sy_feed_cond *c);
int sy__cond_type_error(const char *column, sy_col_type ctype,
                        const sy_feed_cond *c, sy_error *err);

#endif /* SY_CORE_QUERY_H */
