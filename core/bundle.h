/*
 * bundle.h - trained states as one value (see bundle.c for the layout).
 */
#ifndef SY_CORE_BUNDLE_H
#define SY_CORE_BUNDLE_H

#include "internal.h"
#include "switchyard/value.h"

typedef struct sy_bundle_entry {
  char *node;      /* flow node id */
  char *actor;     /* actor provider name */
  char *version;   /* actor version that produced the state */
  sy_value *state; /* one reference */
} sy_bundle_entry;

/* Entries are borrowed; *out is a new bytes value. */
int sy__bundle_encode(const sy_bundle_entry *e, size_t n, sy_value **out,
                      sy_error *err);
/* *out (count entries) is owned by the caller: sy__bundle_free. */
int sy__bundle_decode(const void *data, size_t len, sy_bundle_entry **out,
                      size_t *count, sy_error *err);
void sy__bundle_free(sy_bundle_entry *e, size_t n);

#endif /* SY_CORE_BUNDLE_H */
