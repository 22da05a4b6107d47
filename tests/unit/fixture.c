/*
 * fixture.c - see fixture.h.
 */
#include "fixture.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- the runner --------------------------------------------------------- */

int fx_run_suite(const char *name, CU_InitializeFunc init, CU_CleanupFunc clean,
                 const CU_TestInfo *tests) {
  if (CU_initialize_registry() != CUE_SUCCESS)
    return 2;
  CU_pSuite suite = CU_add_suite(name, init, clean);
  if (!suite)
    goto fail;
  for (const CU_TestInfo *t = tests; t->pName; t++)
    if (!CU_add_test(suite, t->pName, t->pTestFunc))
      goto fail;
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  int failed = CU_get_number_of_failures() != 0 ||
               CU_get_number_of_tests_failed() != 0 ||
               CU_get_number_of_suites_failed() != 0;
  CU_cleanup_registry();
  return failed;
fail:
  CU_cleanup_registry();
  return 2;
}

/* ---- temporary folders -------------------------------------------------- */

static int rm_failed;

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw) {
  (void)st, (void)ftw;
  /* Make folders writable again so that their entries can go. */
  if (flag == FTW_DP)
    chmod(path, 0700);
  if (remove(path) != 0)
    rm_failed = 1;
  return 0;
}

int fx_rmtree(const char *dir) {
  rm_failed = 0;
  chmod(dir, 0700);
  if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
    return -1;
  return rm_failed ? -1 : 0;
}

char fx_tmpdir[256];
static char tmpdir_template[256];

int fx_tmpdir_make(const char *template_) {
  if (template_ != tmpdir_template)
    snprintf(tmpdir_template, sizeof tmpdir_template, "%s", template_);
  snprintf(fx_tmpdir, sizeof fx_tmpdir, "%s", tmpdir_template);
  return mkdtemp(fx_tmpdir) ? 0 : -1;
}

int fx_tmpdir_remove(void) {
  return fx_rmtree(fx_tmpdir);
}

void fx_tmpdir_reset(void) {
  fx_tmpdir_remove();
  CU_ASSERT_FATAL(fx_tmpdir_make(tmpdir_template) == 0);
}

const char *fx_tmp_path(const char *name) {
  static char path[512];
  snprintf(path, sizeof path, "%s/%s", fx_tmpdir, name);
  return path;
}

int fx_write_text(const char *name, const char *text) {
  FILE *f = fopen(fx_tmp_path(name), "w");
  if (!f)
    return -1;
  fputs(text, f);
  return fclose(f) == 0 ? 0 : -1;
}

char *fx_read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  if (buf)
    buf[n] = '\0';
  if (len)
    *len = (size_t)n;
  fclose(f);
  return buf;
}

/* ---- the build's plugins ------------------------------------------------ */

const char *fx_plugins_dir(void) {
  static char dir[600];
  const char *top = getenv("top_builddir");
  snprintf(dir, sizeof dir, "%s/plugins.d", top ? top : ".");
  return dir;
}

void fx_use_built_plugins(void) {
  setenv("SWITCHYARD_PLUGIN_PATH", fx_plugins_dir(), 1);
}

int fx_platform_open(const char *const *overrides, sy_platform **p,
                     sy_error *err) {
  sy_platform_options opts = {sizeof opts, NULL, overrides, 1, 1, NULL};
  sy_error_clear(err);
  return sy_platform_open(&opts, p, err);
}

/* ---- data that test_job and test_dask_procs both run -------------------- */

const char *const fx_dag_flow =
    "name = \"dag\";\n"
    "source = { feed = \"data\"; table = \"points\"; label = \"y\"; };\n"
    "actors = (\n"
    "  { id = \"a\"; actor = \"std.select\"; inputs = [\"source\"];"
    "    params = { columns = [\"x1\"]; }; },\n"
    "  { id = \"b\"; actor = \"std.select\"; inputs = [\"source\"];"
    "    params = { columns = [\"x2\", \"x3\"]; }; },\n"
    "  { id = \"sa\"; actor = \"std.scaler\"; inputs = [\"a\"]; },\n"
    "  { id = \"sb\"; actor = \"std.scaler\"; inputs = [\"b\"]; },\n"
    "  { id = \"both\"; actor = \"std.concat\"; inputs = [\"sa\", \"sb\"]; },\n"
    "  { id = \"model\"; actor = \"std.linreg\"; inputs = [\"both\"]; }\n"
    ");\n"
    "sink = \"out\";\n";

int fx_write_dag_fixture(void) {
  FILE *f = fopen(fx_tmp_path("points.csv"), "w");
  if (!f)
    return -1;
  fputs("x1,x2,x3,y\n", f);
  unsigned s = 42;
  for (int i = 0; i < 300; i++) {
    double v[3];
    for (int k = 0; k < 3; k++) {
      s = s * 1103515245u + 12345u;
      v[k] = (double)((s >> 8) % 10000) / 100.0;
    }
    fprintf(f, "%.2f,%.2f,%.2f,%.4f\n", v[0], v[1], v[2],
            1.5 + 2 * v[0] - 0.5 * v[1] + 0.25 * v[2] + (i % 7) * 0.01);
  }
  fclose(f);
  return fx_write_text("dag.flow", fx_dag_flow);
}
