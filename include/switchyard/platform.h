/*
 * switchyard/platform.h - one call to get a ready config and catalog.
 *
 * sy_platform_open() does what the `switchyard` command does before any
 * command runs, so an embedding program gets the same behaviour:
 *
 *   config layers, later wins:
 *     built-in defaults (the option tables)
 *     $(sysconfdir)/switchyard.ini    (uninstalled tree: <tree>/etc/...)
 *     $XDG_CONFIG_HOME/switchyard/switchyard.ini (~/.config/...)
 *     ./switchyard.ini
 *     <project_dir>/switchyard.ini     (the folder of the flow file)
 *     each opts->config_files, in order (-c)
 *     each opts->overrides, in order (-o)
 *   plugin folders, first loaded wins a kind+name:
 *     each folder of $SWITCHYARD_PLUGIN_PATH (colon list)
 *     each folder of [PLATFORM] plugin_path (colon list; a relative folder
 *       is relative to the folder of the INI file that set it, or to the
 *       current folder when set by an override; one that does not exist
 *       becomes a catalog problem naming that "file:line")
 *     the built-in plugins.d: <tree>/plugins.d when the running program
 *       sits in a build tree that has one, else $(pkglibdir)/plugins.d
 *
 * Relative values of path options are resolved against the folder of the
 * file that set them (a value from -o against the current folder), so a
 * project's switchyard.ini can say `path = data`.
 *
 * The "tree" is the folder of the running executable (with libtool's
 * .libs/ stripped) when it holds a plugins.d folder: that is how
 * ./switchyard runs right after `make`, uninstalled.
 *
 * Thread-safety: open and close from one thread; the config and catalog
 * may then be read from any thread. Since ABI 1.0.
 */
#ifndef SWITCHYARD_PLATFORM_H
#define SWITCHYARD_PLATFORM_H

#include <stdint.h>

#include "catalog.h"
#include "config.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sy_platform_options {
  uint32_t size;                   /* sizeof(sy_platform_options) */
  const char *const *config_files; /* NULL-terminated, may be NULL */
  const char *const *overrides;    /* "SECTION.KEY=VALUE", NULL-terminated */
  int no_default_files;            /* skip sysconfdir, user and ./ files */
  int no_builtin_plugins;          /* skip the built-in plugins.d */
  const char *project_dir;         /* folder whose switchyard.ini is read
                                      after ./switchyard.ini; NULL = none */
} sy_platform_options;

typedef struct sy_platform sy_platform;

/* Builds the config and the catalog. Refused plugins do not fail the call
 * (see sy_catalog_problem_count); an unreadable or invalid config file
 * does. opts may be NULL for the defaults. The caller owns *out. */
SY_API int sy_platform_open(const sy_platform_options *opts, sy_platform **out,
                            sy_error *err);
SY_API void sy_platform_close(sy_platform *p);
SY_API sy_config *sy_platform_config(const sy_platform *p);
SY_API sy_catalog *sy_platform_catalog(const sy_platform *p);
/* The folders that were scanned for plugins, in order, NULL-terminated. */
SY_API const char *const *sy_platform_plugin_dirs(const sy_platform *p);
/* The build tree the running program sits in (the "tree" above), or ""
 * when it runs installed: where a program finds its own uninstalled
 * files beside plugins.d (switchyard serve's JSON module). Found once;
 * any thread. (ABI 1.5) */
SY_API const char *sy_build_tree(void);
/* The config files that were read (existing ones only), NULL-terminated. */
SY_API const char *const *sy_platform_config_files(const sy_platform *p);

/* Creates the registry instance `name`, or the [PLATFORM] registry when
 * name is NULL or "" ("local" when that is unset too): what every command
 * that takes --registry opens. *out is the caller's, freed with
 * sy_instance_destroy(); *used (may be NULL) receives the instance name
 * used, valid while the platform's config is unchanged. Safe from any
 * thread while the platform's config is not being changed. Since ABI
 * 1.3. */
SY_API int sy_platform_registry(sy_platform *p, const char *name,
                                sy_instance **out, const char **used,
                                sy_error *err);

/* Flow parameters given from outside the flow, for every flow this
 * platform loads afterwards (`-p NAME=VALUE`, `--params FILE`). Loading a
 * flow sets each declared parameter (params = { NAME = { type = ...;
 * default = ...; }; }) to its value; a name the flow does not declare, or
 * a value that is not of the declared type, fails that load (SY_ECONFIG,
 * SY_ETYPE, naming where the value came from). A later value for a name
 * replaces an earlier one.
 * sy_platform_set_param takes "NAME=VALUE" (the value is text, read by
 * the declared type); SY_EUSAGE for one without '=' or with a bad name.
 * sy_platform_load_params reads a libconfig file of `NAME = VALUE;`
 * settings, typed as written (an int serves a float parameter); errors
 * name file:line. Ownership: everything is copied. Thread safety: not
 * concurrently with other uses of p. (ABI 1.4) */
SY_API int sy_platform_set_param(sy_platform *p, const char *assignment,
                                 sy_error *err);
SY_API int sy_platform_load_params(sy_platform *p, const char *path,
                                   sy_error *err);

/* For programs that run flows in their own process (the inline runner,
 * runner-dask's threads mode): installs handlers for SIGSEGV, SIGBUS,
 * SIGFPE, SIGILL and SIGABRT that, when an actor brings the process down,
 * write to stderr which step it was running and the signal, with a hint,
 * then let the signal go on to the handler that was there before (by
 * default: the process dies of it, exit status and core dump unchanged).
 * Since ABI 1.3 it also registers an atexit() handler: an exit() called
 * while sy_job_run() is in progress (an actor that calls exit(0) in this
 * process) is reported, naming the step the exiting thread runs, and the
 * exit status becomes 1 instead of a silent success.
 * Forked children stay silent. Process-wide: call it once, from main; the
 * library never installs it by itself. 0 or SY_EIO. Since ABI 1.2. */
SY_API int sy_crash_report_install(void);

#ifdef __cplusplus
}
#endif
#endif /* SWITCHYARD_PLATFORM_H */
