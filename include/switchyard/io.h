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

typedef struct sy_feed_ops {
  uint32_t size; /* sizeof(sy_feed_ops) */
  int (*read)(void *self, const char *table, sy_value **out, sy_error *err);
  /* Optional (NULL): a 128-bit hash of the table's content. */
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
} sy_feed_ops;

/* Whether ops (as the plugin laid it out) has a non-NULL describe.
 * Since ABI 1.3. */
#define SY_FEED_HAS_DESCRIBE(ops)                                              \
  ((ops)->size >= offsetof(sy_feed_ops, describe) + sizeof((ops)->describe) && \
   (ops)->describe != NULL)

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
