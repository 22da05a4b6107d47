/*
 * switchyard/registry.h - the REGISTRY provider kind: releases and trained
 * states, by project / release / generation.
 *
 * A *release* is a frozen flow: `switchyard release FLOW --version V`
 * stores a manifest (a bytes value: the flow, written out whole, and the
 * actors it uses with their versions) as release V of the flow's project.
 * Release versions follow a grammar (sy_release_version_valid below) and
 * strictly increase per project (sy_release_version_compare: "1.10" >
 * "1.9", "2.0-rc.1" < "2.0"); the registry refuses a version that is not
 * newer than the latest with SY_EEXIST. A stored version that does not
 * follow the grammar (written before ABI 1.3 checked it) ranks below every
 * valid one, so it never blocks a later release; `registry rm` removes it.
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
  uint32_t size; /* sizeof(sy_registry_entry) */
  const char *project;
  const char *release;
  uint32_t generation; /* 0 for the release itself */
  int64_t mtime;       /* seconds since the epoch */
} sy_registry_entry;

typedef int (*sy_registry_visit_fn)(void *ud, const sy_registry_entry *e);

/* put_release_all pulls a release's generations through this, oldest
 * first: returns 1 with *states and *tag set (owned by the callee, who
 * unrefs them), 0 at the end, or an error code (with err set). Since ABI
 * 1.3. */
typedef int (*sy_registry_next_fn)(void *ud, sy_value **states, sy_value **tag,
                                   sy_error *err);

/* list_notes calls this with each note's name (borrowed); a non-zero
 * return stops the walk and is returned. Since ABI 1.4. */
typedef int (*sy_registry_note_fn)(void *ud, const char *name);

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
                        uint32_t generation, sy_value **states, sy_value **tag,
                        uint32_t *found, sy_error *err);
  /* Visits releases and generations, sorted by project, release (as
   * versions), generation; project and release may be NULL (= all). */
  int (*list)(void *self, const char *project, const char *release,
              sy_registry_visit_fn fn, void *ud, sy_error *err);

  /* ---- since ABI 1.3; optional: check `size` before using them, and
   * NULL means the provider does not offer the operation. ---- */

  /* Removes generation `generation` of a release, or (generation 0) the
   * release with all its generations, atomically: a reader sees the whole
   * entry or nothing of it, a killed remover leaves it whole or removed.
   * A removed generation's number is never given to a later one. A
   * missing release or generation is SY_ENOENT naming what exists. */
  int (*remove)(void *self, const char *project, const char *release,
                uint32_t generation, sy_error *err);
  /* Stores a new release with its manifest and every generation `next`
   * yields (numbered 1, 2, ...), all or nothing: readers see none of it
   * until the whole release is published, and a failure or a kill leaves
   * no trace of it. The same checks as put_release (SY_EEXIST when it
   * exists or is not newer). *count (may be NULL) receives the number of
   * generations stored. Cost linear in the generations' bytes. */
  int (*put_release_all)(void *self, const char *project, const char *release,
                         const sy_value *manifest, sy_registry_next_fn next,
                         void *ud, uint32_t *count, sy_error *err);

  /* ---- since ABI 1.4; optional (check `size`; NULL: not offered) ---- */

  /* Stores `value` as the note `name` ([a-z0-9_-], at most 64 bytes) of
   * generation `generation` of a release (0: the latest; *found, may be
   * NULL, receives its number), replacing an earlier note of that name,
   * whole or not at all. `switchyard eval PROJECT[:RELEASE[:GEN]]` keeps
   * its metrics table there as the note "eval". A missing release or
   * generation is SY_ENOENT. Notes are not part of a generation's
   * content (its hash is that of states and tag), but export and import
   * carry them (with list_notes). value is borrowed. */
  int (*put_note)(void *self, const char *project, const char *release,
                  uint32_t generation, const char *name, const sy_value *value,
                  uint32_t *found, sy_error *err);
  /* The note `name` of generation `generation` (0: the latest); SY_ENOENT
   * when it has none. The caller owns *value. */
  int (*get_note)(void *self, const char *project, const char *release,
                  uint32_t generation, const char *name, sy_value **value,
                  sy_error *err);
  /* Calls fn with the name of each note of generation `generation` (0:
   * the latest), sorted by name, until fn returns non-zero (returned);
   * SY_ENOENT for a missing release or generation. The name is borrowed
   * for the call. `registry export` and `import` copy notes through it.
   * Since ABI 1.4; optional: offered with put_note and get_note. */
  int (*list_notes)(void *self, const char *project, const char *release,
                    uint32_t generation, sy_registry_note_fn fn, void *ud,
                    sy_error *err);
} sy_registry_ops;

/* Release versions (since ABI 1.3; thread-safe, no allocation):
 *
 *   version  = number *( "." number ) [ "-" pre *( "." pre ) ]
 *   number   = "0" / ( "1"-"9" *digit )          (no leading zeros)
 *   pre      = 1*( "A"-"Z" / "a"-"z" / digit / "_" )
 *
 * at most 128 bytes: 1.0, 2.10.3, 1.0-rc.1, 3-beta_2. The numbers compare
 * as numbers part by part, a shorter version that is a prefix of a longer
 * one is older (1.2 < 1.2.0), and a pre-release is older than its version
 * (1.0-rc.1 < 1.0); pre-release parts compare as numbers when both are
 * digits, else as ASCII, digits before letters (rc.2 < rc.10 < rc.a).
 *
 * valid: 1 when s follows the grammar, else 0. compare: <0, 0, >0 as a is
 * older than, the same as or newer than b; an invalid version is older
 * than every valid one, and two invalid ones compare as strcmp(). */
SY_API int sy_release_version_valid(const char *s);
SY_API int sy_release_version_compare(const char *a, const char *b);

/* A registry reference, PROJECT[:RELEASE[:GENERATION]] (since ABI 1.3):
 * names are 1 to 128 bytes of [A-Za-z0-9_.-] not starting with '.'; a
 * generation is decimal digits without sign, space or leading zero, from
 * 1 to 4294967295. Nothing else is accepted: `iris:1.0:abc` is an error,
 * never "the latest". */
typedef struct sy_registry_ref {
  char *text;          /* the caller's copy the fields point into */
  const char *project; /* never NULL after a successful parse */
  const char *release; /* NULL when not given */
  uint32_t generation; /* 0 when not given */
} sy_registry_ref;

/* Parses text as a reference of min_parts to max_parts parts (1 to 3).
 * Returns 0, SY_EUSAGE with err saying "'TEXT' is not a valid
 * PROJECT:RELEASE reference: WHY", or SY_ENOMEM. On success the caller
 * owns *out and frees it with sy_registry_ref_free(); on failure *out is
 * empty. Thread-safe. Since ABI 1.3. */
SY_API int sy_registry_ref_parse(const char *text, int min_parts, int max_parts,
                                 sy_registry_ref *out, sy_error *err);
/* Frees what a parse made and empties *ref; NULL is allowed. Since ABI
 * 1.3. */
SY_API void sy_registry_ref_free(sy_registry_ref *ref);
/* 1 when s is a valid project or release name (see above), else 0.
 * Thread-safe, no allocation. Since ABI 1.3. */
SY_API int sy_registry_name_valid(const char *s);
/* A generation number as a reference writes it: 0 and *gen set, or
 * SY_EINVAL. Thread-safe, no allocation. Since ABI 1.3. */
SY_API int sy_registry_generation_parse(const char *s, uint32_t *gen);

#ifdef __cplusplus
}
#endif
#endif /* SWITCHYARD_REGISTRY_H */
