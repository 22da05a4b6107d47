/*
 * switchyard/lifecycle.h - releases and trained generations in a registry.
 *
 * The lifecycle (docs/lifecycle.md): `release` freezes a flow into the
 * registry as release V of its project; `train` fits a release and commits
 * its states as a new generation; `apply` loads a generation (default the
 * latest) and applies. A *target* names what to train or apply:
 *
 *   PROJECT[:RELEASE[:GENERATION]]   from the registry (latest by default)
 *   path/to/pipeline.flow            the release of the flow's project
 *                                    whose frozen flow is this one
 *
 * Thread-safety: as for flow.h. Since ABI 1.0.
 */
#ifndef SWITCHYARD_LIFECYCLE_H
#define SWITCHYARD_LIFECYCLE_H

#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "flow.h"
#include "platform.h"
#include "value.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Validates the flow and stores it, written out whole (includes resolved)
 * with the names and versions of its actors, as release `version` of the
 * project named by the flow's `name`. registry: an instance name, or NULL
 * for [PLATFORM] registry. Versions of a project must strictly increase. */
SY_API int sy_release(sy_platform *p, const char *flow_path,
                      const char *version, const char *registry, FILE *report,
                      sy_error *err);

typedef struct sy_target_options {
  uint32_t size;        /* sizeof(sy_target_options) */
  const char *registry; /* instance name; NULL: [PLATFORM] registry */
  uint32_t from;        /* train: incremental actors start from this
                           generation's states; 0: from scratch */
  uint32_t branch;      /* (ABI 1.4) 1 + the sweep branch the flow's
                           sweeps are fixed to before compiling
                           (sy_flow_sweep_fix; `train --best`); 0: none */
} sy_target_options;

/* Loads what a target names: a flow file (sy_flow_load), or the frozen
 * flow of release PROJECT[:RELEASE] (default the latest) in the registry
 * (NULL: [PLATFORM] registry), with the release's project layer applied
 * to p's config as train and apply do. *origin (may be NULL) receives
 * "PROJECT:RELEASE", or "" for a file; malloc()ed. The caller frees
 * *out and *origin. Not concurrently with other uses of p. (ABI 1.4) */
SY_API int sy_target_flow(sy_platform *p, const char *target,
                          const char *registry, FILE *report, sy_flow **out,
                          char **origin, sy_error *err);

/* Compiles a target for run, train (the program commits a new generation
 * of the release) or apply (the program loads the generation named, or
 * the latest). */
SY_API int sy_program_compile_target(sy_platform *p, const char *target,
                                     sy_mode mode,
                                     const sy_target_options *opts,
                                     FILE *report, sy_program **out,
                                     sy_error *err);
/* The serving callable (flow.h) of an apply target: the flow file or the
 * PROJECT[:RELEASE[:GENERATION]] generation sy_program_compile_target
 * would compile for apply, compiled without a feed instance (the request
 * takes the feed's place, so the training data need not be there).
 * sy_program_origin(sy_callable_program(*out)) names the generation
 * loaded. The caller owns *out (sy_callable_free); p must outlive it and
 * is written (the release's project layer), so not concurrently with
 * other uses of p. (ABI 1.4) */
SY_API int sy_callable_new_target(sy_platform *p, const char *target,
                                  const sy_target_options *opts, FILE *report,
                                  sy_callable **out, sy_error *err);
/* "PROJECT:RELEASE" the program came from, or "" for a plain flow file;
 * for apply ":GENERATION" follows. Borrowed from the program. */
SY_API const char *sy_program_origin(const sy_program *prog);
/* After a train job that committed to a registry: the new generation's
 * number; 0 otherwise. */
SY_API uint32_t sy_job_generation(const sy_job *job);

/* Whether a config value's origin (as sy_config_get reports it) is a
 * layer below a project's switchyard.ini: a built-in default, or a file
 * read before the -c files. A release's recorded project layer replaces
 * such values, and yields to the others. Read-only. Since ABI 1.3. */
SY_API int sy_platform_below_project(const sy_platform *p, const char *origin);

/* Export and import (`switchyard registry export|import`): copying
 * releases with their generations between a registry and an archive
 * registry file (the `archive` provider), so they move between registries
 * of any kind. Each release is copied all or nothing; one the target has
 * already with the same frozen flow gets only the generations it lacks
 * (a rerun adds only what is missing), and one it has with another flow
 * is SY_EEXIST. Generations are renumbered by the registry they are
 * copied into. registry: an instance name, or NULL for [PLATFORM]
 * registry ("local" when unset). Both define the registry instance
 * "transfer" (provider archive) in the platform's config for the file.
 * Counts are entries: a release and each generation count one; err may
 * be NULL. */

/* Copies the release ref ("PROJECT:RELEASE", or "PROJECT" for all of its
 * releases; sy_registry_ref_parse) into the archive file `file`, written
 * whole or not at all: in a scratch folder beside it (scratch folders of
 * killed exports are removed) and renamed over it. A symbolic link is
 * written through; a folder, device, FIFO or socket is refused
 * (SY_EINVAL). Nothing to export is SY_ENOENT. *copied (may be NULL): the
 * entries written, on success. Ownership: every argument is borrowed;
 * nothing is returned to free. Thread safety: not concurrently with other
 * uses of p (it writes p's config). Since ABI 1.3. */
SY_API int sy_registry_export(sy_platform *p, const char *registry,
                              const char *ref, const char *file, int *copied,
                              sy_error *err);

/* Copies everything in the archive file `file` into the registry. A
 * missing file is SY_ENOENT. On success *copied is the entries added and
 * *skipped those the registry had already (either may be NULL).
 * Ownership: every argument is borrowed; nothing is returned to free.
 * Thread safety: not concurrently with other uses of p (it writes p's
 * config). Since ABI 1.3. */
SY_API int sy_registry_import(sy_platform *p, const char *registry,
                              const char *file, int *copied, int *skipped,
                              sy_error *err);

/* ---- inspecting trained states (ABI 1.4) ------------------------------ */

/* One entry of a bundle of trained states: the flow node, the actor's
 * provider name and version that saved it, and the state (all borrowed
 * for the call). Return 0 to go on, anything else to stop (returned). */
typedef int (*sy_states_fn)(void *ud, const char *node, const char *actor,
                            const char *version, const sy_value *state);

/* Calls fn for each entry, in order, of a bundle of trained states: the
 * bytes of a `train --state FILE` file or of a registry generation's
 * states. A damaged bundle is SY_ECORRUPT (nothing is called). Ownership:
 * data is borrowed; nothing is kept. Thread safety: any thread. Since
 * ABI 1.4. */
SY_API int sy_states_each(const void *data, size_t len, sy_states_fn fn,
                          void *ud, sy_error *err);

/* Describes a bundle of trained states (as sy_states_each reads it) as
 * one JSON object, pretty-printed, with a member per flow node in bundle
 * order: {"NODE": {"actor": "std.scaler", "version": "1.0.0", "state":
 * {...}}}. "state" is what the actor's describe_state (actor.h) wrote,
 * checked to be one JSON object (otherwise SY_ECORRUPT naming the node
 * and the actor); it is null, with "note" saying why, for an actor that
 * is not loaded or has no describe_state. An actor that refuses its state
 * fails the call, its message prefixed with the node. *json is the
 * caller's (free()). Thread safety: reads p's catalog only; any thread.
 * Since ABI 1.4. */
SY_API int sy_states_describe(sy_platform *p, const void *data, size_t len,
                              char **json, sy_error *err);

#ifdef __cplusplus
}
#endif
#endif /* SWITCHYARD_LIFECYCLE_H */
