/*
 * fixture.h - what the unit tests share: the CUnit runner behind every
 * main(), a temporary folder per test program, small file helpers, and
 * the way to reach the build's plugins.
 *
 * fixture.c is compiled into each test binary (see Makefile.am,
 * sy_test_fixture); nothing here asserts on its own except where a
 * comment says so, so a test's failures still point at the test.
 */
#ifndef SY_TEST_FIXTURE_H
#define SY_TEST_FIXTURE_H

#include <stddef.h>

#include <CUnit/Basic.h>

#include <switchyard/error.h>
#include <switchyard/platform.h>

/* ---- the runner --------------------------------------------------------- */

/* Runs one suite named `name` (init and clean may be NULL) holding the
 * tests of a CU_TEST_INFO_NULL-terminated table, in verbose mode.
 * Returns 0 when everything passed; 1 when an assertion or a test
 * failed, or the suite's init or clean did (which CUnit does not count
 * as a failure on its own); 2 when the suite could not be registered. */
int fx_run_suite(const char *name, CU_InitializeFunc init, CU_CleanupFunc clean,
                 const CU_TestInfo *tests);

/* ---- temporary folders -------------------------------------------------- */

/* Removes dir and everything below it, making folders writable first so
 * that a test that took write permission away does not leave litter.
 * Returns 0, or -1 when something could not be removed. */
int fx_rmtree(const char *dir);

/* The test program's own temporary folder. */
extern char fx_tmpdir[256];

/* Makes fx_tmpdir from a mkdtemp() template such as "/tmp/sy-x-XXXXXX";
 * the template is kept for fx_tmpdir_reset. Returns 0 or -1. */
int fx_tmpdir_make(const char *template_);
/* Removes fx_tmpdir and all below it; returns as fx_rmtree. */
int fx_tmpdir_remove(void);
/* Inside a test: a fresh, empty fx_tmpdir from the same template.
 * Asserts (fatally) that it could be made. */
void fx_tmpdir_reset(void);

/* fx_tmpdir/name, in a buffer that the next call overwrites. */
const char *fx_tmp_path(const char *name);

/* Writes text to fx_tmpdir/name. Returns 0, or -1 when the file could not
 * be opened or closed. */
int fx_write_text(const char *name, const char *text);

/* The whole content of a file, NUL-terminated (caller frees), or NULL.
 * *len (when len is not NULL) gets its size. */
char *fx_read_all(const char *path, size_t *len);

/* ---- the build's plugins ------------------------------------------------ */

/* $top_builddir/plugins.d (top_builddir falls back to "."). */
const char *fx_plugins_dir(void);

/* Points SWITCHYARD_PLUGIN_PATH at fx_plugins_dir(). */
void fx_use_built_plugins(void);

/* sy_platform_open with nothing but `overrides` (NULL-terminated
 * "SECTION.KEY=VALUE"): no config files, no built-in plugins folder, so
 * the plugins are the ones SWITCHYARD_PLUGIN_PATH names. err is cleared
 * first. */
int fx_platform_open(const char *const *overrides, sy_platform **p,
                     sy_error *err);

/* ---- data that test_job and test_dask_procs both run -------------------- */

/* Writes into fx_tmpdir points.csv (x1,x2,x3,y: 300 rows drawn from a
 * fixed seed, y a linear function of the x plus a little noise) and
 * dag.flow (two selects, a scaler on each, concat, linreg; sink "out").
 * Returns 0 or -1. */
int fx_write_dag_fixture(void);
/* The text of that dag.flow. */
extern const char *const fx_dag_flow;

#endif
