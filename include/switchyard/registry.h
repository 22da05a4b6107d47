/*
 * switchyard/registry.h - the REGISTRY provider kind: releases and trained
 * states, by project / release / generation.
 *
 * A *release* is a frozen flow: `switchyard release FLOW --version V`
 * stores a manifest (a bytes value: the flow, written out whole, and the
 * actors it uses with their versions) as release V of the flow's project.
 * Release versions of a project strictly increase (compared as dotted
 * numbers, "1.10" > "1.9"); the registry refuses a version that is not
 * newer than the latest with SY_EEXIST.
 *
 * A *generation* is one training of a release: the states bundle and a
 * tag (both bytes values). Generations are numbered 1, 2, ... per
 * release; publishing one is atomic (no reader ever sees a partial
 * generation) and two concurrent trainers get distinct numbers.
 *
 * Names: project and release are [A-Za-z0-9_.-]+ and do not start with
 * '.'; the core checks them before calling. Values passed in are
 * borrowed; values returned are owned by the caller.
 * Since ABI 1.0.
 */
#ifndef SWITCHYARD_REGISTRY_H
#define SWITCHYARD_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "value.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One entry of a listing: a release (generation 0) or a generation. */
typedef struct sy_registry_entry {
  uint32_t size;        /* sizeof(sy_registry_entry) */
  const char *project;
  const char *release;
  uint32_t generation;  /* 0 for the release itself */
  int64_t mtime;        /* seconds since the epoch */
} sy_registry_entry;

typedef int (*sy_registry_visit_fn)(void *ud, const sy_registry_entry *e);

typedef struct sy_registry_ops {
  uint32_t size; /* sizeof(sy_registry_ops) */
  /* Stores release `release` of `project` with its manifest. */
  int (*put_release)(void *self, const char *project, const char *release,
                     const sy_value *manifest, sy_error *err);
  /* The manifest of a release; release NULL = the latest. *found (may be
   * NULL) receives the release's name (malloc'ed, caller frees). A missing
   * project or release is SY_ENOENT naming what exists. */
  int (*get_release)(void *self, const char *project, const char *release,
                     sy_value **manifest, char **found, sy_error *err);
  /* Publishes a new generation of a release; *generation receives its
   * number. The release must exist (SY_ENOENT). */
  int (*put_generation)(void *self, const char *project, const char *release,
                        const sy_value *states, const sy_value *tag,
                        uint32_t *generation, sy_error *err);
  /* Reads a generation; generation 0 = the latest. *found receives the
   * number read. A release without generations is SY_ENOENT. */
  int (*get_generation)(void *self, const char *project, const char *release,
                        uint32_t generation, sy_value **states,
                        sy_value **tag, uint32_t *found, sy_error *err);
  /* Visits releases and generations, sorted by project, release (as
   * versions), generation; project and release may be NULL (= all). */
  int (*list)(void *self, const char *project, const char *release,
              sy_registry_visit_fn fn, void *ud, sy_error *err);
} sy_registry_ops;

#ifdef __cplusplus
}
#endif
#endif /* SWITCHYARD_REGISTRY_H */
