/*
 * plugin.c - the actor-sys plugin: actors that reach out to the system.
 *
 * It offers one provider, the `sys.exec` actor (exec.c), which runs a shell
 * command line on its inputs. The descriptor lives next to its code in
 * exec.c so that the unit test, which compiles exec.c in without this file,
 * sees the same option table the loader does; this file only defines the
 * plugin's one exported entry symbol.
 */
#include <switchyard/plugin.h>

#include "actor_sys.h"

SY_PLUGIN_DEFINE("actor-sys", "1.0.0", &sys_exec_provider)
