/*
 * test_unload.c - what sy_catalog_free leaves behind.
 *
 * A plugin is dlopen()ed through /proc/self/fd/N, and the dynamic linker
 * knows it by that name. When the catalog is freed, the descriptor of a
 * plugin that is unmapped is closed (no descriptor leaks), and the
 * descriptor of one that stays mapped (linked with -z nodelete, as
 * runner-mpi is) stays open: were its number reused, the next plugin
 * opened under it would be handed the old object.
 */
#include <CUnit/Basic.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fixture.h"
#include "switchyard/switchyard.h"

#define PATH_CAP 4096
static char fixture_dir[PATH_CAP / 2];
static char tmp_dir[PATH_CAP / 2];

/* Copies fixture `name` to tmp_dir/as, mode 0755; out gets the path. */
static int put_fixture(const char *name, const char *as, char *out) {
  char src[PATH_CAP];
  if (snprintf(src, sizeof src, "%s/%s.so", fixture_dir, name) >=
          (int)sizeof src ||
      snprintf(out, PATH_CAP, "%s/%s", tmp_dir, as) >= PATH_CAP)
    return -1;
  int in = open(src, O_RDONLY | O_CLOEXEC);
  if (in < 0)
    return -1;
  int o = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int rc = o < 0 ? -1 : 0;
  char buf[8192];
  ssize_t n = 0;
  while (rc == 0 && (n = read(in, buf, sizeof buf)) > 0)
    if (write(o, buf, (size_t)n) != n)
      rc = -1;
  if (n < 0)
    rc = -1;
  close(in);
  if (o >= 0 && close(o) != 0)
    rc = -1;
  if (rc == 0 && chmod(out, 0755) != 0)
    rc = -1;
  return rc;
}

/* How many descriptors this process has open. */
static int open_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  if (!d)
    return -1;
  int n = 0;
  for (struct dirent *e; (e = readdir(d));)
    if (e->d_name[0] != '.')
      n++;
  closedir(d);
  return n;
}

static sy_catalog *load(const char *file) {
  sy_catalog *cat = NULL;
  sy_error err;
  CU_ASSERT_FATAL(sy_catalog_new(&cat) == 0);
  int rc = sy_catalog_load_file(cat, file, &err);
  if (rc != 0)
    fprintf(stderr, "\n  %s: %s\n", file, err.message);
  CU_ASSERT_EQUAL(rc, 0);
  return cat;
}

/* An ordinary plugin leaves no descriptor open once its catalog is gone,
 * loaded and freed again and again. */
static void test_unload_closes_descriptor(void) {
  char file[PATH_CAP];
  CU_ASSERT_FATAL(put_fixture("fx_good", "good.so", file) == 0);
  int before = open_fds();
  CU_ASSERT_FATAL(before > 0);
  for (int i = 0; i < 3; i++) {
    sy_catalog *cat = load(file);
    CU_ASSERT_PTR_NOT_NULL(sy_catalog_find(cat, SY_KIND_FEED, "alpha"));
    CU_ASSERT(open_fds() > before);
    sy_catalog_free(cat);
  }
  CU_ASSERT_EQUAL(open_fds(), before);
}

/* A plugin that stays mapped keeps its descriptor number taken, so the
 * next plugin is the one that gets loaded. */
static void test_unload_keeps_number_of_mapped_plugin(void) {
  char sticky[PATH_CAP], other[PATH_CAP];
  CU_ASSERT_FATAL(put_fixture("fx_nodelete", "sticky.so", sticky) == 0);
  CU_ASSERT_FATAL(put_fixture("fx_good2", "other.so", other) == 0);
  int before = open_fds();
  sy_catalog *cat = load(sticky);
  CU_ASSERT_PTR_NOT_NULL(sy_catalog_find(cat, SY_KIND_FEED, "alpha"));
  sy_catalog_free(cat);
  CU_ASSERT_EQUAL(open_fds(), before + 1);
  cat = load(other);
  /* fx_good2's sink "beta", not fx_good's feed "alpha". */
  CU_ASSERT_PTR_NOT_NULL(sy_catalog_find(cat, SY_KIND_SINK, "beta"));
  CU_ASSERT_PTR_NULL(sy_catalog_find(cat, SY_KIND_FEED, "alpha"));
  sy_catalog_free(cat);
  CU_ASSERT_EQUAL(open_fds(), before + 1);
}

int main(void) {
  const char *top = getenv("top_builddir");
  snprintf(fixture_dir, sizeof fixture_dir, "%s/tests/providers/.libs",
           top && *top ? top : ".");
  const char *base = getenv("TMPDIR");
  snprintf(tmp_dir, sizeof tmp_dir, "%s/sy_unload_XXXXXX",
           base && *base ? base : "/tmp");
  if (!mkdtemp(tmp_dir) || chmod(tmp_dir, 0755) != 0) {
    fprintf(stderr, "test_unload: cannot make %s: %s\n", tmp_dir,
            strerror(errno));
    return 99;
  }
  static const CU_TestInfo tests[] = {
      {"test_unload_closes_descriptor", test_unload_closes_descriptor},
      {"test_unload_keeps_number_of_mapped_plugin",
       test_unload_keeps_number_of_mapped_plugin},
      CU_TEST_INFO_NULL,
  };
  int failed = fx_run_suite("unload", NULL, NULL, tests);
  fx_rmtree(tmp_dir);
  return failed ? 1 : 0;
}
