/*
 * actor_sys.h - private to the actor-sys plugin and its unit test.
 *
 * The plugin offers one actor, `sys.exec`, that runs a shell command line
 * on its inputs (exec.c). This header exposes its config struct, instance
 * and entry points so that tests/unit/test_actor_sys.c can compile exec.c
 * in, fill a config by hand and call the provider without the loader.
 * Nothing here is installed or seen by the core; the plugin is built with
 * -fvisibility=hidden, so these names never leave the shared object.
 */
#ifndef SY_ACTOR_SYS_H
#define SY_ACTOR_SYS_H

#include <stddef.h>
#include <stdint.h>

#include <switchyard/actor.h>
#include <switchyard/plugin.h>

/* The `stdin` parameter: indices into its choices table. */
enum { SYS_STDIN_NONE = 0, SYS_STDIN_IN0 = 1, SYS_STDIN_AUTO = 2 };
/* The `output` parameter: indices into its choices table. */
enum { SYS_OUTPUT_CSV = 0, SYS_OUTPUT_BYTES = 1 };

/* Filled by the core from a flow node's `params` (option.h says where each
 * type lands). Owned by the core, valid until the instance is destroyed. */
typedef struct sys_exec_config {
  const char *command;     /* required; run with /bin/sh -c */
  int stdin_mode;          /* SYS_STDIN_* */
  int output;              /* SYS_OUTPUT_* */
  const char *media_type;  /* of a bytes output */
  int64_t timeout;         /* nanoseconds; 0 = none */
  const char *const *env;  /* NULL-terminated "NAME=VALUE", or NULL */
  const char *cwd;         /* the child's working folder, or NULL */
  const char *const *deps; /* NULL-terminated files whose content goes into
                              the cache key, or NULL */
} sys_exec_config;

/* One configured sys.exec node. Read-only after create(), so apply may run
 * on it from several threads at once. */
typedef struct sys_exec {
  const sys_exec_config *cfg; /* borrowed from the core */
  int uses_in;                /* the command has an {in} or {inN} */
  int uses_out;               /* the command has an {out} */
  /* The most bytes of output accepted (stdout or the {out} file);
   * SY_VALUE_MAX_BYTES, lowered only by the unit test. */
  size_t max_output;
} sys_exec;

/* The provider descriptor of sys.exec (exec.c). */
extern const sy_provider sys_exec_provider;

/* The provider's entry points, exported to the test through the
 * descriptor too; see exec.c for what they do. */
int sys_exec_create(const void *config, void **self, sy_error *err);
void sys_exec_destroy(void *self);
int sys_exec_apply(void *self, const sy_value *const *in, size_t n_in,
                   sy_value **out, sy_error *err);
int sys_exec_fingerprint(const void *self, uint8_t key[16], sy_error *err);

#endif /* SY_ACTOR_SYS_H */
