/*
 * test_loader.c - the plugin loader and the catalog.
 *
 * The fixture plugins in tests/providers/ are real shared objects built by
 * `make check`; the test finds them in $top_builddir/tests/providers/.libs
 * (top_builddir falls back to "."). Each test copies the ones it needs into
 * a fresh temporary folder so that it can arrange names, permissions and
 * odd entries (symlinks, fifos, folders named x.so) without touching the
 * build tree, and removes the folder afterwards.
 *
 * Checks that a fixture cannot express cheaply (one per provider or option
 * rule) use sy_catalog_add_static with a descriptor built here, which runs
 * the same checks without dlopen().
 */
#include "internal.h"

#include <CUnit/Basic.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fixture.h"

#define PATH_CAP 512

/* ---- fixtures and temporary folders ----------------------------------- */

static char fixture_dir[PATH_CAP];

/* Test paths are short; a cut one would make the test meaningless. */
static void must_fit(int n, size_t cap) {
  if (n < 0 || (size_t)n >= cap) {
    fprintf(stderr, "test_loader: path too long\n");
    abort();
  }
}

static void fixture_path(char *buf, const char *name) {
  must_fit(snprintf(buf, PATH_CAP, "%s/%s.so", fixture_dir, name), PATH_CAP);
}

/* Folders made and not yet removed: a failed CU_ASSERT_FATAL leaves its
 * test early, so main removes whatever is left after the run. */
#define MAX_TMP 16
static char tmp_dirs[MAX_TMP][PATH_CAP];

/* A fresh 0755 folder under $TMPDIR (or /tmp). Returns 0 or -1. */
static int tmp_make(char *dir) {
  const char *base = getenv("TMPDIR");
  must_fit(snprintf(dir, PATH_CAP, "%s/sy_loader_XXXXXX",
                    base && *base ? base : "/tmp"),
           PATH_CAP);
  if (!mkdtemp(dir))
    return -1;
  for (size_t i = 0; i < MAX_TMP; i++) {
    if (!tmp_dirs[i][0]) {
      memcpy(tmp_dirs[i], dir, PATH_CAP);
      break;
    }
  }
  return chmod(dir, 0755);
}

static void tmp_remove(const char *dir) {
  fx_rmtree(dir);
  for (size_t i = 0; i < MAX_TMP; i++)
    if (strcmp(tmp_dirs[i], dir) == 0) {
      tmp_dirs[i][0] = '\0';
      break;
    }
}

static void tmp_remove_all(void) {
  for (size_t i = 0; i < MAX_TMP; i++)
    if (tmp_dirs[i][0])
      tmp_remove(tmp_dirs[i]);
}

/* Joins dir and name into buf. */
static const char *join(char *buf, const char *dir, const char *name) {
  must_fit(snprintf(buf, PATH_CAP, "%s/%s", dir, name), PATH_CAP);
  return buf;
}

/* Copies fixture `name` to dir/as with the given mode. Returns 0 or -1. */
static int put_fixture(const char *dir, const char *name, const char *as,
                       mode_t mode) {
  char src[PATH_CAP], dst[PATH_CAP];
  fixture_path(src, name);
  join(dst, dir, as);
  int in = open(src, O_RDONLY);
  if (in < 0)
    return -1;
  int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (out < 0) {
    close(in);
    return -1;
  }
  int rc = 0;
  char buf[8192];
  ssize_t n;
  while ((n = read(in, buf, sizeof buf)) > 0)
    if (write(out, buf, (size_t)n) != n) {
      rc = -1;
      break;
    }
  if (n < 0)
    rc = -1;
  close(in);
  if (close(out) != 0)
    rc = -1;
  /* chmod, not the umask, decides: the tests need exact modes. */
  if (rc == 0 && chmod(dst, mode) != 0)
    rc = -1;
  return rc;
}

static bool contains(const char *hay, const char *needle) {
  return hay && needle && strstr(hay, needle) != NULL;
}

/* Whether the shared object at path is still mapped in this process. */
static bool is_loaded(const char *path) {
  void *h = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
  if (!h)
    return false;
  dlclose(h);
  return true;
}

/* Asserts a refusal: the code, the message naming file and phrase, and one
 * more problem recorded for that file with the phrase in its reason. */
static void assert_refused(const sy_catalog *cat, int rc, const sy_error *err,
                           int code, const char *file, const char *phrase,
                           size_t problems_before) {
  CU_ASSERT_EQUAL(rc, code);
  CU_ASSERT_EQUAL(err->code, code);
  CU_ASSERT(contains(err->message, file));
  CU_ASSERT(contains(err->message, phrase));
  if (!contains(err->message, phrase))
    fprintf(stderr, "\n  message was: %s\n  wanted: %s\n", err->message,
            phrase);
  CU_ASSERT_EQUAL(sy_catalog_problem_count(cat), problems_before + 1);
  const char *pfile = NULL, *reason = NULL;
  CU_ASSERT_EQUAL(sy_catalog_problem_at(cat, problems_before, &pfile, &reason),
                  0);
  CU_ASSERT(pfile && strcmp(pfile, file) == 0);
  CU_ASSERT(contains(reason, phrase));
}

/* Loads one fixture alone from a fresh folder and expects a refusal that
 * leaves the catalog empty and the plugin unloaded. */
static void refuse_fixture(const char *name, int code, const char *phrase) {
  char dir[PATH_CAP], file[PATH_CAP], as[64];
  sy_catalog *cat = NULL;
  sy_error err;
  CU_ASSERT_FATAL(tmp_make(dir) == 0);
  snprintf(as, sizeof as, "%s.so", name);
  CU_ASSERT_FATAL(put_fixture(dir, name, as, 0755) == 0);
  join(file, dir, as);
  CU_ASSERT_FATAL(sy_catalog_new(&cat) == 0);
  int rc = sy_catalog_load_file(cat, file, &err);
  assert_refused(cat, rc, &err, code, file, phrase, 0);
  CU_ASSERT_EQUAL(sy_catalog_count(cat), 0);
  /* A refused plugin is dlclose()d at once. */
  CU_ASSERT(!is_loaded(file));
  sy_catalog_free(cat);
  tmp_remove(dir);
}

/* ---- refusals of fixture files ---------------------------------------- */

static void test_loader_refuses_abi_major(void) {
  refuse_fixture("fx_abi_major", SY_EABI,
                 "built for plugin ABI 2.x, this switchyard supports 1.x");
}

static void test_loader_refuses_newer_minor(void) {
  refuse_fixture("fx_abi_minor", SY_EABI,
                 "needs ABI 1.99, this switchyard supports up to "
                 "1." SY__XSTR(SY_ABI_MINOR) "; upgrade switchyard");
}

/* The layout of tests/providers/fx_small.c. */
typedef struct fx_small_plugin {
  uint32_t abi_major;
  uint32_t abi_minor;
  uint32_t size;
  const char *build;
} fx_small_plugin;

static void test_loader_refuses_small_descriptor(void) {
  char phrase[128];
  snprintf(phrase, sizeof phrase,
           "descriptor is %zu bytes, ABI 1.0 needs at least %zu",
           sizeof(fx_small_plugin), sizeof(sy_plugin));
  refuse_fixture("fx_small", SY_EABI, phrase);
}

static void test_loader_refuses_build_signature(void) {
  refuse_fixture(
      "fx_signature", SY_EABI,
      "built with signature sy1:p4:l4:z4:d8:be, expected " SY_BUILD_SIGNATURE);
}

static void test_loader_refuses_missing_entry(void) {
  refuse_fixture("fx_noentry", SY_EPLUGIN,
                 "no entry symbol sy_plugin_entry; is it a switchyard "
                 "plugin?");
}

static void test_loader_refuses_unresolved_symbol(void) {
  /* The dynamic linker's own words, which name the missing symbol. */
  refuse_fixture("fx_unresolved", SY_EPLUGIN, "fx_missing_function_xyzzy");
  refuse_fixture("fx_unresolved", SY_EPLUGIN, "cannot load: ");
}

static void test_loader_refuses_option_without_help(void) {
  refuse_fixture("fx_badopts", SY_EPLUGIN,
                 "runner 'badopts': option 'retries' has no help text");
}

/* ---- trust checks ------------------------------------------------------ */

static void test_loader_refuses_group_writable_file(void) {
  char dir[PATH_CAP], file[PATH_CAP], phrase[PATH_CAP + 64];
  sy_catalog *cat = NULL;
  sy_error err;
  CU_ASSERT_FATAL(tmp_make(dir) == 0);
  CU_ASSERT_FATAL(put_fixture(dir, "fx_good", "good.so", 0664) == 0);
  join(file, dir, "good.so");
  CU_ASSERT_FATAL(sy_catalog_new(&cat) == 0);
  int rc = sy_catalog_load_file(cat, file, &err);
  must_fit(snprintf(phrase, sizeof phrase,
                    "file is group-writable; run chmod go-w %s", file),
           sizeof phrase);
  assert_refused(cat, rc, &err, SY_EPERM, file, phrase, 0);
  CU_ASSERT_EQUAL(sy_catalog_count(cat), 0);
  /* Refused before dlopen(): it never got mapped. */
  CU_ASSERT(!is_loaded(file));
  sy_catalog_free(cat);
  tmp_remove(dir);
}

static void test_loader_refuses_world_writable_file(void) {
  char dir[PATH_CAP], file[PATH_CAP];
  sy_catalog *cat = NULL;
  sy_error err;
  CU_ASSERT_FATAL(tmp_make(dir) == 0);
  CU_ASSERT_FATAL(put_fixture(dir, "fx_good", "good.so", 0666) == 0);
  join(file, dir, "good.so");
  CU_ASSERT_FATAL(sy_catalog_new(&cat) == 0);
  int rc = sy_catalog_load_file(cat, file, &err);
  assert_refused(cat, rc, &err, SY_EPERM, file,
                 "file is world-writable; run chmod go-w", 0);
  CU_ASSERT_EQUAL(sy_catalog_count(cat), 0);
  sy_catalog_free(cat);
  tmp_remove(dir);
}

static void test_loader_refuses_writable_folder(void) {
  char dir[PATH_CAP], file[PATH_CAP], phrase[PATH_CAP + 64];
  sy_catalog *cat = NULL;
  sy_error err;
  CU_ASSERT_FATAL(tmp_make(dir) == 0);
  CU_ASSERT_FATAL(put_fixture(dir, "fx_good", "good.so", 0755) == 0);
  CU_ASSERT_FATAL(chmod(dir, 0775) == 0);
  join(file, dir, "good.so");
  must_fit(snprintf(phrase, sizeof phrase,
                    "folder is group-writable; run chmod go-w %s", dir),
           sizeof phrase);
  CU_ASSERT_FATAL(sy_catalog_new(&cat) == 0);

  /* Scanning the folder fails as a whole. */
  int rc = sy_catalog_scan_dir(cat, dir, 0, &err);
  assert_refused(cat, rc, &err, SY_EPERM, dir, phrase, 0);
  CU_ASSERT_EQUAL(sy_catalog_count(cat), 0);

  /* Loading a file from it directly is refused too, naming the folder. */
  must_fit(snprintf(phrase, sizeof phrase,
                    "folder %s is group-writable; run chmod go-w %s", dir, dir),
           sizeof phrase);
  rc = sy_catalog_load_file(cat, file, &err);
  assert_refused(cat, rc, &err, SY_EPERM, file, phrase, 1);
  CU_ASSERT_EQUAL(sy_catalog_count(cat), 0);
  sy_catalog_free(cat);
  tmp_remove(dir);
}

/* The trust chain: a symlink in a trusted folder whose target sits in a
 * world-writable folder is refused before dlopen(), so the constructor of
 * fx_ctor never runs (no marker file); trusted again, it loads and the
 * constructor runs. */
static void test_loader_refuses_link_into_writable_folder(void) {
  char dir[PATH_CAP], open_dir[PATH_CAP], target[PATH_CAP], link[PATH_CAP],
      marker[PATH_CAP], phrase[PATH_CAP + 64];
  sy_catalog *cat = NULL;
  sy_error err;
  struct stat st;
  CU_ASSERT_FATAL(tmp_make(dir) == 0);
  CU_ASSERT_FATAL(tmp_make(open_dir) == 0);
  CU_ASSERT_FATAL(put_fixture(open_dir, "fx_ctor", "ctor.so", 0755) == 0);
  CU_ASSERT_FATAL(chmod(open_dir, 0777) == 0);
  join(target, open_dir, "ctor.so");
  join(link, dir, "ctor.so");
  join(marker, dir, "constructor-ran");
  CU_ASSERT_FATAL(symlink(target, link) == 0);
  CU_ASSERT_FATAL(setenv("FX_CTOR_MARKER", marker, 1) == 0);

  CU_ASSERT_FATAL(sy_catalog_new(&cat) == 0);
  int rc = sy_catalog_scan_dir(cat, dir, 0, &err);
  CU_ASSERT_EQUAL(rc, 0); /* the folder is fine: the file is a problem */
  CU_ASSERT_EQUAL(sy_catalog_count(cat), 0);
  CU_ASSERT_EQUAL(sy_catalog_problem_count(cat), 1);
  rc = sy_catalog_load_file(cat, link, &err);
  must_fit(snprintf(phrase, sizeof phrase,
                    "folder %s is world-writable; run chmod go-w %s", open_dir,
                    open_dir),
           sizeof phrase);
  assert_refused(cat, rc, &err, SY_EPERM, link, phrase, 1);
  CU_ASSERT(stat(marker, &st) != 0 && errno == ENOENT);
  CU_ASSERT(!is_loaded(target));
  sy_catalog_free(cat);

  /* Sticky and root-owned (as /tmp is), the folder is trusted. */
  if (geteuid() == 0) {
    CU_ASSERT_FATAL(chmod(open_dir, 01777) == 0);
    CU_ASSERT_FATAL(sy_catalog_new(&cat) == 0);
    CU_ASSERT_EQUAL(sy_catalog_load_file(cat, link, &err), 0);
    CU_ASSERT_EQUAL(sy_catalog_count(cat), 1);
    CU_ASSERT(stat(marker, &st) == 0);
    sy_catalog_free(cat);
    unlink(marker);
  }
  /* Not writable by others: loads, and the constructor runs. */
  CU_ASSERT_FATAL(chmod(open_dir, 0755) == 0);
  CU_ASSERT_FATAL(sy_catalog_new(&cat) == 0);
  CU_ASSERT_EQUAL(sy_catalog_load_file(cat, link, &err), 0);
  CU_ASSERT_EQUAL(sy_catalog_count(cat), 1);
  CU_ASSERT(stat(marker, &st) == 0);
  sy_catalog_free(cat);
  unsetenv("FX_CTOR_MARKER");
  tmp_remove(dir);
  tmp_remove(open_dir);
}

/* A link that sits in a writable folder could be repointed: refused, even
 * though the file it leads to is trusted. */
static void test_loader_refuses_link_in_writable_folder(void) {
  char dir[PATH_CAP], open_dir[PATH_CAP], target[PATH_CAP], link[PATH_CAP],
      phrase[PATH_CAP + 64];
  sy_catalog *cat = NULL;
  sy_error err;
  CU_ASSERT_FATAL(tmp_make(dir) == 0);
  CU_ASSERT_FATAL(tmp_make(open_dir) == 0);
  CU_ASSERT_FATAL(put_fixture(dir, "fx_good", "good.so", 0755) == 0);
  join(target, dir, "good.so");
  join(link, open_dir, "good.so");
  CU_ASSERT_FATAL(symlink(target, link) == 0);
  CU_ASSERT_FATAL(chmod(open_dir, 0777) == 0);
  must_fit(snprintf(phrase, sizeof phrase,
                    "folder %s is world-writable; run chmod go-w %s", open_dir,
                    open_dir),
           sizeof phrase);
  CU_ASSERT_FATAL(sy_catalog_new(&cat) == 0);
  int rc = sy_catalog_load_file(cat, link, &err);
  assert_refused(cat, rc, &err, SY_EPERM, link, phrase, 0);
  CU_ASSERT(!is_loaded(target));
  /* The same file by its own path is fine. */
  CU_ASSERT_EQUAL(sy_catalog_load_file(cat, target, &err), 0);
  CU_ASSERT_EQUAL(sy_catalog_count(cat), 2);
  sy_catalog_free(cat);
  tmp_remove(dir);
  tmp_remove(open_dir);
}

/* Every folder up to / counts, not only the file's own. */
static void test_loader_refuses_writable_ancestor(void) {
  char dir[PATH_CAP], sub[PATH_CAP], file[PATH_CAP], phrase[PATH_CAP + 64];
  sy_catalog *cat = NULL;
  sy_error err;
  CU_ASSERT_FATAL(tmp_make(dir) == 0);
  join(sub, dir, "sub");
  CU_ASSERT_FATAL(mkdir(sub, 0755) == 0);
  CU_ASSERT_FATAL(put_fixture(sub, "fx_good", "good.so", 0755) == 0);
  CU_ASSERT_FATAL(chmod(dir, 0757) == 0);
  join(file, sub, "good.so");
  must_fit(snprintf(phrase, sizeof phrase,
                    "folder %s is world-writable; run chmod go-w %s", dir, dir),
           sizeof phrase);
  CU_ASSERT_FATAL(sy_catalog_new(&cat) == 0);
  int rc = sy_catalog_load_file(cat, file, &err);
  assert_refused(cat, rc, &err, SY_EPERM, file, phrase, 0);
  CU_ASSERT(!is_loaded(file));
  sy_catalog_free(cat);
  CU_ASSERT_FATAL(chmod(dir, 0755) == 0);
  tmp_remove(dir);
}

/* A file or folder owned by somebody else (neither root nor the invoking
 * user) is refused. Needs root to give a file away. */
static void test_loader_refuses_foreign_owner(void) {
  if (geteuid() != 0)
    return;
  char dir[PATH_CAP], sub[PATH_CAP], file[PATH_CAP];
  sy_catalog *cat = NULL;
  sy_error err;
  CU_ASSERT_FATAL(tmp_make(dir) == 0);
  CU_ASSERT_FATAL(put_fixture(dir, "fx_good", "good.so", 0755) == 0);
  join(file, dir, "good.so");
  CU_ASSERT_FATAL(chown(file, 4242, 4242) == 0);
  CU_ASSERT_FATAL(sy_catalog_new(&cat) == 0);
  int rc = sy_catalog_load_file(cat, file, &err);
  assert_refused(cat, rc, &err, SY_EPERM, file,
                 "file is owned by uid 4242, neither root nor you", 0);
  CU_ASSERT_FATAL(chown(file, 0, 0) == 0);
  join(sub, dir, "sub");
  CU_ASSERT_FATAL(mkdir(sub, 0755) == 0);
  CU_ASSERT_FATAL(put_fixture(sub, "fx_good2", "good2.so", 0755) == 0);
  CU_ASSERT_FATAL(chown(sub, 4242, 4242) == 0);
  join(file, sub, "good2.so");
  rc = sy_catalog_load_file(cat, file, &err);
  assert_refused(cat, rc, &err, SY_EPERM, file, "is owned by uid 4242", 1);
  CU_ASSERT(contains(err.message, sub));
  CU_ASSERT_EQUAL(sy_catalog_count(cat), 0);
  sy_catalog_free(cat);
  tmp_remove(dir);
}

/* The catalog keeps each file's content hash: two builds of one plugin
 * with the same names and version differ, two copies of one build do not,
 * and a static plugin has none. */
static void test_loader_code_hash(void) {
  char dir[PATH_CAP], a[PATH_CAP], b[PATH_CAP];
  uint8_t ha[16], hb[16], hc[16];
  sy_catalog *cat = NULL;
  sy_error err;
  CU_ASSERT_FATAL(tmp_make(dir) == 0);
  CU_ASSERT_FATAL(put_fixture(dir, "fx_code_a", "a.so", 0755) == 0);
  CU_ASSERT_FATAL(put_fixture(dir, "fx_code_b", "b.so", 0755) == 0);
  join(a, dir, "a.so");
  join(b, dir, "b.so");
  CU_ASSERT_FATAL(sy_catalog_new(&cat) == 0);
  CU_ASSERT_EQUAL_FATAL(sy_catalog_load_file(cat, a, &err), 0);
  const sy_provider *pa = sy_catalog_find(cat, SY_KIND_ACTOR, "fx.mark");
  CU_ASSERT_PTR_NOT_NULL_FATAL(pa);
  CU_ASSERT_EQUAL(sy__catalog_code_hash(cat, pa, ha), 1);
  sy_catalog_free(cat);

  CU_ASSERT_FATAL(sy_catalog_new(&cat) == 0);
  CU_ASSERT_EQUAL_FATAL(sy_catalog_load_file(cat, b, &err), 0);
  const sy_provider *pb = sy_catalog_find(cat, SY_KIND_ACTOR, "fx.mark");
  CU_ASSERT_PTR_NOT_NULL_FATAL(pb);
  CU_ASSERT_STRING_EQUAL(pb->version, "1.0.0");
  CU_ASSERT_EQUAL(sy__catalog_code_hash(cat, pb, hb), 1);
  CU_ASSERT(memcmp(ha, hb, 16) != 0);
  /* A provider the catalog does not hold has no hash. */
  static const sy_provider stranger = {.kind = SY_KIND_ACTOR,
                                       .name = "fx.mark"};
  CU_ASSERT_EQUAL(sy__catalog_code_hash(cat, &stranger, hc), 0);
  sy_catalog_free(cat);

  /* A copy of build A hashes as A. */
  CU_ASSERT_FATAL(put_fixture(dir, "fx_code_a", "a2.so", 0755) == 0);
  CU_ASSERT_FATAL(sy_catalog_new(&cat) == 0);
  CU_ASSERT_EQUAL_FATAL(sy_catalog_load_file(cat, join(a, dir, "a2.so"), &err),
                        0);
  pa = sy_catalog_find(cat, SY_KIND_ACTOR, "fx.mark");
  CU_ASSERT_EQUAL(sy__catalog_code_hash(cat, pa, hc), 1);
  CU_ASSERT(memcmp(ha, hc, 16) == 0);
  sy_catalog_free(cat);
  tmp_remove(dir);
}

static void test_loader_refuses_directory_named_so(void) {
  char dir[PATH_CAP], file[PATH_CAP];
  sy_catalog *cat = NULL;
  sy_error err;
  CU_ASSERT_FATAL(tmp_make(dir) == 0);
  join(file, dir, "x.so");
  CU_ASSERT_FATAL(mkdir(file, 0755) == 0);
  CU_ASSERT_FATAL(put_fixture(dir, "fx_good2", "y.so", 0755) == 0);
  CU_ASSERT_FATAL(sy_catalog_new(&cat) == 0);
  int rc = sy_catalog_load_file(cat, file, &err);
  assert_refused(cat, rc, &err, SY_EPERM, file, "not a regular file", 0);
  /* In a scan it is one more problem, and y.so still loads. */
  rc = sy_catalog_scan_dir(cat, dir, 0, &err);
  CU_ASSERT_EQUAL(rc, 0);
  CU_ASSERT_EQUAL(sy_catalog_count(cat), 2);
  CU_ASSERT_EQUAL(sy_catalog_problem_count(cat), 2);
  sy_catalog_free(cat);
  tmp_remove(dir);
}

static void test_loader_refuses_fifo(void) {
  char dir[PATH_CAP], file[PATH_CAP];
  sy_catalog *cat = NULL;
  sy_error err;
  CU_ASSERT_FATAL(tmp_make(dir) == 0);
  join(file, dir, "pipe.so");
  CU_ASSERT_FATAL(mkfifo(file, 0644) == 0);
  CU_ASSERT_FATAL(sy_catalog_new(&cat) == 0);
  int rc = sy_catalog_load_file(cat, file, &err);
  assert_refused(cat, rc, &err, SY_EPERM, file, "not a regular file", 0);
  sy_catalog_free(cat);
  tmp_remove(dir);
}

static void test_loader_refuses_missing_file(void) {
  char dir[PATH_CAP], file[PATH_CAP];
  sy_catalog *cat = NULL;
  sy_error err;
  CU_ASSERT_FATAL(tmp_make(dir) == 0);
  join(file, dir, "absent.so");
  CU_ASSERT_FATAL(sy_catalog_new(&cat) == 0);
  int rc = sy_catalog_load_file(cat, file, &err);
  assert_refused(cat, rc, &err, SY_ENOENT, file, "cannot open", 0);
  sy_catalog_free(cat);
  tmp_remove(dir);
}

static void test_loader_accepts_symlink(void) {
  char dir[PATH_CAP], link[PATH_CAP];
  sy_catalog *cat = NULL;
  sy_error err;
  CU_ASSERT_FATAL(tmp_make(dir) == 0);
  /* The target is not "*.so", so only the link is scanned. */
  CU_ASSERT_FATAL(put_fixture(dir, "fx_good", "target.bin", 0755) == 0);
  join(link, dir, "link.so");
  CU_ASSERT_FATAL(symlink("target.bin", link) == 0);
  CU_ASSERT_FATAL(sy_catalog_new(&cat) == 0);
  CU_ASSERT_EQUAL(sy_catalog_scan_dir(cat, dir, 0, &err), 0);
  CU_ASSERT_EQUAL(sy_catalog_count(cat), 2);
  CU_ASSERT_EQUAL(sy_catalog_problem_count(cat), 0);
  const char *file = NULL;
  CU_ASSERT_PTR_NOT_NULL(sy_catalog_at(cat, 0, &file, NULL));
  CU_ASSERT(file && strcmp(file, link) == 0);
  sy_catalog_free(cat);
  tmp_remove(dir);
}

static void test_loader_skips_hidden_and_other_files(void) {
  char dir[PATH_CAP];
  sy_catalog *cat = NULL;
  sy_error err;
  CU_ASSERT_FATAL(tmp_make(dir) == 0);
  CU_ASSERT_FATAL(put_fixture(dir, "fx_good", ".hidden.so", 0755) == 0);
  CU_ASSERT_FATAL(put_fixture(dir, "fx_abi_major", "notes.txt", 0755) == 0);
  CU_ASSERT_FATAL(put_fixture(dir, "fx_abi_major", "old.so.bak", 0755) == 0);
  CU_ASSERT_FATAL(put_fixture(dir, "fx_good2", "good2.so", 0755) == 0);
  CU_ASSERT_FATAL(sy_catalog_new(&cat) == 0);
  CU_ASSERT_EQUAL(sy_catalog_scan_dir(cat, dir, 0, &err), 0);
  CU_ASSERT_EQUAL(sy_catalog_count(cat), 2);
  CU_ASSERT_EQUAL(sy_catalog_problem_count(cat), 0);
  CU_ASSERT_PTR_NULL(sy_catalog_find(cat, SY_KIND_RUNNER, "zeta"));
  sy_catalog_free(cat);
  tmp_remove(dir);
}

/* ---- loading good plugins ----------------------------------------------- */

static void test_loader_good_folder_loads_all(void) {
  char dir[PATH_CAP], good[PATH_CAP];
  sy_catalog *cat = NULL;
  sy_error err;
  CU_ASSERT_FATAL(tmp_make(dir) == 0);
  CU_ASSERT_FATAL(put_fixture(dir, "fx_good", "good.so", 0755) == 0);
  CU_ASSERT_FATAL(put_fixture(dir, "fx_good2", "good2.so", 0644) == 0);
  join(good, dir, "good.so");
  CU_ASSERT_FATAL(sy_catalog_new(&cat) == 0);
  CU_ASSERT_EQUAL(sy_catalog_scan_dir(cat, dir, 0, &err), 0);
  CU_ASSERT_EQUAL(err.code, 0);
  CU_ASSERT_EQUAL(sy_catalog_count(cat), 4);
  CU_ASSERT_EQUAL(sy_catalog_problem_count(cat), 0);
  const sy_provider *feed = sy_catalog_find(cat, SY_KIND_FEED, "alpha");
  CU_ASSERT_PTR_NOT_NULL_FATAL(feed);
  CU_ASSERT_STRING_EQUAL(feed->version, "1.0.0");
  CU_ASSERT_PTR_NOT_NULL(feed->options);
  CU_ASSERT(is_loaded(good));
  sy_catalog_free(cat);
  /* Freeing the catalog unloads its plugins. */
  CU_ASSERT(!is_loaded(good));
  tmp_remove(dir);
}

static void test_loader_bad_files_do_not_stop_scan(void) {
  static const char *const bad[] = {
      "fx_abi_major", "fx_abi_minor",  "fx_small",  "fx_signature",
      "fx_noentry",   "fx_unresolved", "fx_badopts"};
  const size_t nbad = sizeof bad / sizeof bad[0];
  char dir[PATH_CAP], as[64];
  sy_catalog *cat = NULL;
  sy_error err;
  CU_ASSERT_FATAL(tmp_make(dir) == 0);
  /* Bad files sort before, between and after the good ones. */
  CU_ASSERT_FATAL(put_fixture(dir, "fx_good", "b_good.so", 0755) == 0);
  CU_ASSERT_FATAL(put_fixture(dir, "fx_good2", "m_good2.so", 0755) == 0);
  for (size_t i = 0; i < nbad; i++) {
    snprintf(as, sizeof as, "%c_%s.so", i % 2 ? 'a' : 'z', bad[i]);
    CU_ASSERT_FATAL(put_fixture(dir, bad[i], as, 0755) == 0);
  }
  CU_ASSERT_FATAL(put_fixture(dir, "fx_good2", "n_writable.so", 0666) == 0);
  CU_ASSERT_FATAL(sy_catalog_new(&cat) == 0);
  CU_ASSERT_EQUAL(sy_catalog_scan_dir(cat, dir, 0, &err), 0);
  CU_ASSERT_EQUAL(sy_catalog_count(cat), 4);
  CU_ASSERT_EQUAL(sy_catalog_problem_count(cat), nbad + 1);
  /* Every problem names a file of this folder. */
  for (size_t i = 0; i < sy_catalog_problem_count(cat); i++) {
    const char *file = NULL, *reason = NULL;
    CU_ASSERT_EQUAL(sy_catalog_problem_at(cat, i, &file, &reason), 0);
    CU_ASSERT(file && strncmp(file, dir, strlen(dir)) == 0);
    CU_ASSERT(reason && *reason);
  }
  sy_catalog_free(cat);
  tmp_remove(dir);
}

/* A clash refuses only the clashing provider: the first file keeps it, the
 * second loses that one provider and keeps the rest, and the problem
 * names both files. */
static void test_loader_clash_refuses_only_that_provider(void) {
  char dir[PATH_CAP], good[PATH_CAP], dup[PATH_CAP], phrase[PATH_CAP + 160];
  sy_catalog *cat = NULL;
  sy_error err;
  CU_ASSERT_FATAL(tmp_make(dir) == 0);
  CU_ASSERT_FATAL(put_fixture(dir, "fx_good", "1_good.so", 0755) == 0);
  CU_ASSERT_FATAL(put_fixture(dir, "fx_duplicate", "2_dup.so", 0755) == 0);
  join(good, dir, "1_good.so");
  join(dup, dir, "2_dup.so");
  CU_ASSERT_FATAL(sy_catalog_new(&cat) == 0);
  CU_ASSERT_EQUAL(sy_catalog_scan_dir(cat, dir, 0, &err), 0);
  /* fx_good's runner zeta and feed alpha, fx_duplicate's sink only_here. */
  CU_ASSERT_EQUAL(sy_catalog_count(cat), 3);
  CU_ASSERT_EQUAL(sy_catalog_problem_count(cat), 1);
  const char *file = NULL, *reason = NULL;
  CU_ASSERT_EQUAL(sy_catalog_problem_at(cat, 0, &file, &reason), 0);
  snprintf(phrase, sizeof phrase,
           "runner 'zeta' not loaded: already provided by %s, which was "
           "loaded first; the rest of this plugin is loaded",
           good);
  CU_ASSERT(file && strcmp(file, dup) == 0);
  CU_ASSERT(contains(reason, phrase));
  if (!contains(reason, phrase))
    fprintf(stderr, "\n  reason was: %s\n", reason ? reason : "(none)");

  /* The rest of the second plugin joined, and it stays loaded. */
  const sy_provider *sink = sy_catalog_find(cat, SY_KIND_SINK, "only_here");
  CU_ASSERT_PTR_NOT_NULL(sink);
  CU_ASSERT(is_loaded(dup));
  const char *zeta_file = NULL, *sink_file = NULL;
  for (size_t i = 0; i < sy_catalog_count(cat); i++) {
    const sy_provider *p = sy_catalog_at(cat, i, &file, NULL);
    if (p->kind == SY_KIND_RUNNER && strcmp(p->name, "zeta") == 0)
      zeta_file = file;
    if (p == sink)
      sink_file = file;
  }
  CU_ASSERT(zeta_file && strcmp(zeta_file, good) == 0);
  CU_ASSERT(sink_file && strcmp(sink_file, dup) == 0);
  /* Loading it again is a no-op: the same file is not loaded twice. */
  CU_ASSERT_EQUAL(sy_catalog_load_file(cat, dup, &err), 0);
  CU_ASSERT_EQUAL(sy_catalog_problem_count(cat), 1);
  sy_catalog_free(cat);
  CU_ASSERT(!is_loaded(dup));
  tmp_remove(dir);
}

/* A stateful actor without train is refused on its own, with a problem
 * naming the file; the plugin's other actor loads. Alone in its plugin,
 * it gets the whole file refused with the same reason. */
static void test_loader_refuses_stateful_actor_without_train(void) {
  char dir[PATH_CAP], mixed[PATH_CAP], only[PATH_CAP];
  sy_catalog *cat = NULL;
  sy_error err;
  CU_ASSERT_FATAL(tmp_make(dir) == 0);
  CU_ASSERT_FATAL(put_fixture(dir, "fx_stateful", "stateful.so", 0755) == 0);
  join(mixed, dir, "stateful.so");
  CU_ASSERT_FATAL(sy_catalog_new(&cat) == 0);
  CU_ASSERT_EQUAL(sy_catalog_load_file(cat, mixed, &err), 0);
  CU_ASSERT_PTR_NOT_NULL(sy_catalog_find(cat, SY_KIND_ACTOR, "fx.sound"));
  CU_ASSERT_PTR_NULL(sy_catalog_find(cat, SY_KIND_ACTOR, "fx.untrainable"));
  CU_ASSERT_EQUAL(sy_catalog_count(cat), 1);
  CU_ASSERT_EQUAL(sy_catalog_problem_count(cat), 1);
  const char *file = NULL, *reason = NULL;
  CU_ASSERT_EQUAL(sy_catalog_problem_at(cat, 0, &file, &reason), 0);
  CU_ASSERT(file && strcmp(file, mixed) == 0);
  CU_ASSERT(contains(reason, "actor 'fx.untrainable' not loaded: it is "
                             "stateful (SY_ACTOR_STATEFUL) but has no "
                             "train; the rest of this plugin is loaded"));
  if (!contains(reason, "has no train"))
    fprintf(stderr, "\n  reason was: %s\n", reason ? reason : "(none)");
  CU_ASSERT(is_loaded(mixed));
  sy_catalog_free(cat);
  cat = NULL;

  CU_ASSERT_FATAL(put_fixture(dir, "fx_stateful_only", "only.so", 0755) == 0);
  join(only, dir, "only.so");
  CU_ASSERT_FATAL(sy_catalog_new(&cat) == 0);
  int rc = sy_catalog_load_file(cat, only, &err);
  assert_refused(cat, rc, &err, SY_EPLUGIN, only,
                 "actor 'fx.untrainable' is stateful (SY_ACTOR_STATEFUL) "
                 "but has no train",
                 0);
  CU_ASSERT_EQUAL(sy_catalog_count(cat), 0);
  CU_ASSERT(!is_loaded(only));
  sy_catalog_free(cat);
  tmp_remove(dir);
}

/* A plugin whose every provider clashes brings nothing: it is refused
 * whole, naming the file that was first. */
static void test_loader_refuses_plugin_that_only_clashes(void) {
  char dir[PATH_CAP], first[PATH_CAP], again[PATH_CAP], phrase[PATH_CAP + 64];
  sy_catalog *cat = NULL;
  sy_error err;
  CU_ASSERT_FATAL(tmp_make(dir) == 0);
  CU_ASSERT_FATAL(put_fixture(dir, "fx_good", "1_good.so", 0755) == 0);
  CU_ASSERT_FATAL(put_fixture(dir, "fx_good", "2_copy.so", 0755) == 0);
  join(first, dir, "1_good.so");
  join(again, dir, "2_copy.so");
  CU_ASSERT_FATAL(sy_catalog_new(&cat) == 0);
  CU_ASSERT_EQUAL(sy_catalog_load_file(cat, first, &err), 0);
  int rc = sy_catalog_load_file(cat, again, &err);
  snprintf(phrase, sizeof phrase, "already provided by %s", first);
  assert_refused(cat, rc, &err, SY_EEXIST, again, phrase, 0);
  CU_ASSERT_EQUAL(sy_catalog_count(cat), 2);
  CU_ASSERT(!is_loaded(again));
  sy_catalog_free(cat);
  tmp_remove(dir);
}

static void test_loader_same_file_twice_is_skipped(void) {
  char dir[PATH_CAP], file[PATH_CAP];
  sy_catalog *cat = NULL;
  sy_error err;
  CU_ASSERT_FATAL(tmp_make(dir) == 0);
  CU_ASSERT_FATAL(put_fixture(dir, "fx_good", "good.so", 0755) == 0);
  join(file, dir, "good.so");
  CU_ASSERT_FATAL(sy_catalog_new(&cat) == 0);
  CU_ASSERT_EQUAL(sy_catalog_load_file(cat, file, &err), 0);
  CU_ASSERT_EQUAL(sy_catalog_load_file(cat, file, &err), 0);
  /* A folder listed twice in a path is no duplicate either. */
  CU_ASSERT_EQUAL(sy_catalog_scan_dir(cat, dir, 0, &err), 0);
  CU_ASSERT_EQUAL(sy_catalog_count(cat), 2);
  CU_ASSERT_EQUAL(sy_catalog_problem_count(cat), 0);
  sy_catalog_free(cat);
  CU_ASSERT(!is_loaded(file));
  tmp_remove(dir);
}

static void test_loader_scan_path_list(void) {
  char a[PATH_CAP], b[PATH_CAP], list[4 * PATH_CAP];
  sy_catalog *cat = NULL;
  sy_error err;
  CU_ASSERT_FATAL(tmp_make(a) == 0);
  CU_ASSERT_FATAL(tmp_make(b) == 0);
  CU_ASSERT_FATAL(put_fixture(a, "fx_good", "good.so", 0755) == 0);
  CU_ASSERT_FATAL(put_fixture(b, "fx_good2", "good2.so", 0755) == 0);
  /* Empty items and a missing folder are skipped. */
  snprintf(list, sizeof list, ":%s::%s/missing:%s:", a, a, b);
  CU_ASSERT_FATAL(sy_catalog_new(&cat) == 0);
  CU_ASSERT_EQUAL(sy_catalog_scan_path(cat, list, &err), 0);
  CU_ASSERT_EQUAL(sy_catalog_count(cat), 4);
  CU_ASSERT_EQUAL(sy_catalog_problem_count(cat), 0);
  CU_ASSERT_EQUAL(sy_catalog_scan_path(cat, "", &err), 0);
  CU_ASSERT_EQUAL(sy_catalog_scan_path(cat, NULL, &err), 0);
  CU_ASSERT_EQUAL(sy_catalog_count(cat), 4);
  sy_catalog_free(cat);

  /* An untrusted folder fails the path, but the others still load. */
  CU_ASSERT_FATAL(chmod(a, 0777) == 0);
  CU_ASSERT_FATAL(sy_catalog_new(&cat) == 0);
  snprintf(list, sizeof list, "%s:%s", a, b);
  CU_ASSERT_EQUAL(sy_catalog_scan_path(cat, list, &err), SY_EPERM);
  CU_ASSERT(contains(err.message, a));
  CU_ASSERT(contains(err.message, "world-writable"));
  CU_ASSERT_EQUAL(sy_catalog_count(cat), 2);
  CU_ASSERT_PTR_NOT_NULL(sy_catalog_find(cat, SY_KIND_SINK, "beta"));
  sy_catalog_free(cat);
  tmp_remove(a);
  tmp_remove(b);
}

static void test_loader_scan_dir_missing(void) {
  char dir[PATH_CAP], missing[PATH_CAP];
  sy_catalog *cat = NULL;
  sy_error err;
  CU_ASSERT_FATAL(tmp_make(dir) == 0);
  join(missing, dir, "nope");
  CU_ASSERT_FATAL(sy_catalog_new(&cat) == 0);
  CU_ASSERT_EQUAL(sy_catalog_scan_dir(cat, missing, 1, &err), 0);
  CU_ASSERT_EQUAL(sy_catalog_problem_count(cat), 0);
  int rc = sy_catalog_scan_dir(cat, missing, 0, &err);
  assert_refused(cat, rc, &err, SY_ENOENT, missing, "cannot read folder", 0);
  /* An empty folder is fine and loads nothing. */
  CU_ASSERT_EQUAL(sy_catalog_scan_dir(cat, dir, 0, &err), 0);
  CU_ASSERT_EQUAL(sy_catalog_count(cat), 0);
  sy_catalog_free(cat);
  tmp_remove(dir);
}

static void test_loader_sorted_by_kind_then_name(void) {
  static const struct {
    sy_kind kind;
    const char *name, *plugin;
  } want[] = {{SY_KIND_RUNNER, "alpha", "fx-good2"},
              {SY_KIND_RUNNER, "zeta", "fx-good"},
              {SY_KIND_FEED, "alpha", "fx-good"},
              {SY_KIND_SINK, "beta", "fx-good2"}};
  char dir[PATH_CAP], f1[PATH_CAP], f2[PATH_CAP];
  sy_catalog *cat = NULL;
  sy_error err;
  CU_ASSERT_FATAL(tmp_make(dir) == 0);
  CU_ASSERT_FATAL(put_fixture(dir, "fx_good", "good.so", 0755) == 0);
  CU_ASSERT_FATAL(put_fixture(dir, "fx_good2", "good2.so", 0755) == 0);
  join(f1, dir, "good.so");
  join(f2, dir, "good2.so");
  CU_ASSERT_FATAL(sy_catalog_new(&cat) == 0);
  CU_ASSERT_EQUAL(sy_catalog_load_file(cat, f1, &err), 0);
  CU_ASSERT_EQUAL(sy_catalog_load_file(cat, f2, &err), 0);
  CU_ASSERT_EQUAL_FATAL(sy_catalog_count(cat), 4);
  for (size_t i = 0; i < 4; i++) {
    const char *file = NULL;
    const sy_plugin *pl = NULL;
    const sy_provider *p = sy_catalog_at(cat, i, &file, &pl);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(p->kind, want[i].kind);
    CU_ASSERT_STRING_EQUAL(p->name, want[i].name);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pl);
    CU_ASSERT_STRING_EQUAL(pl->name, want[i].plugin);
    CU_ASSERT_STRING_EQUAL(file, strcmp(want[i].plugin, "fx-good") ? f2 : f1);
  }
  CU_ASSERT_PTR_NULL(sy_catalog_at(cat, 4, NULL, NULL));
  sy_catalog_free(cat);
  tmp_remove(dir);
}

static void test_loader_find_by_kind_and_name(void) {
  char dir[PATH_CAP];
  sy_catalog *cat = NULL;
  sy_error err;
  CU_ASSERT_FATAL(tmp_make(dir) == 0);
  CU_ASSERT_FATAL(put_fixture(dir, "fx_good", "good.so", 0755) == 0);
  CU_ASSERT_FATAL(put_fixture(dir, "fx_good2", "good2.so", 0755) == 0);
  CU_ASSERT_FATAL(sy_catalog_new(&cat) == 0);
  CU_ASSERT_EQUAL(sy_catalog_scan_dir(cat, dir, 0, &err), 0);
  const sy_provider *r = sy_catalog_find(cat, SY_KIND_RUNNER, "alpha");
  const sy_provider *f = sy_catalog_find(cat, SY_KIND_FEED, "alpha");
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  /* Same name, different kinds: two providers. */
  CU_ASSERT_PTR_NOT_EQUAL(r, f);
  CU_ASSERT_EQUAL(r->kind, SY_KIND_RUNNER);
  CU_ASSERT_EQUAL(f->kind, SY_KIND_FEED);
  CU_ASSERT_PTR_NULL(sy_catalog_find(cat, SY_KIND_SINK, "alpha"));
  CU_ASSERT_PTR_NULL(sy_catalog_find(cat, SY_KIND_RUNNER, "nope"));
  CU_ASSERT_PTR_NULL(sy_catalog_find(cat, SY_KIND_RUNNER, NULL));
  CU_ASSERT_PTR_NULL(sy_catalog_find(NULL, SY_KIND_RUNNER, "alpha"));
  sy_catalog_free(cat);
  tmp_remove(dir);
}

static void test_loader_bad_arguments(void) {
  sy_catalog *cat = NULL;
  sy_error err;
  const char *file = NULL;
  CU_ASSERT_EQUAL(sy_catalog_new(NULL), SY_EINVAL);
  CU_ASSERT_FATAL(sy_catalog_new(&cat) == 0);
  CU_ASSERT_EQUAL(sy_catalog_load_file(cat, NULL, &err), SY_EINVAL);
  CU_ASSERT_EQUAL(sy_catalog_scan_dir(cat, NULL, 0, &err), SY_EINVAL);
  CU_ASSERT_EQUAL(sy_catalog_add_static(cat, NULL, NULL, &err), SY_EINVAL);
  CU_ASSERT_EQUAL(sy_catalog_problem_at(cat, 0, &file, NULL), SY_ERANGE);
  CU_ASSERT_EQUAL(sy_catalog_count(NULL), 0);
  CU_ASSERT_EQUAL(sy_catalog_problem_count(NULL), 0);
  sy_catalog_free(cat);
  sy_catalog_free(NULL);
}

/* ---- static plugins and per-provider checks ---------------------------- */

typedef struct t_ops {
  uint32_t size;
  void (*fns[8])(void); /* as large as any kind's ops */
} t_ops;

typedef struct t_config {
  int64_t count;
  const char *label;
  int mode;
} t_config;

static const t_ops t_ops_ok = {.size = sizeof(t_ops)};
static const t_ops t_ops_zero = {0};
static const char *const t_modes[] = {"a", "b", NULL};
static const char *const t_no_modes[] = {NULL};

static int t_create(const void *config, void **self, sy_error *err) {
  *self = NULL;
  return 0;
}
static void t_destroy(void *self) {}

/* A valid descriptor that each test breaks in one place. */
static sy_option t_opts[4];
static sy_provider t_prov, t_prov2;
static const sy_provider *t_provs[3];
static sy_plugin t_plugin;

static void t_reset(void) {
  const sy_option opts[4] = {{"count", SY_OPT_INT, 0, "1", "0", "9", NULL,
                              offsetof(t_config, count), "How many."},
                             {"label", SY_OPT_STRING, 0, NULL, NULL, NULL, NULL,
                              offsetof(t_config, label), "What to call it."},
                             {"mode", SY_OPT_ENUM, 0, "a", NULL, NULL, t_modes,
                              offsetof(t_config, mode), "Which way."},
                             SY_OPTION_END};
  memcpy(t_opts, opts, sizeof opts);
  const sy_provider prov = {sizeof(sy_provider),
                            SY_KIND_STORAGE,
                            "mem",
                            "0.1.0",
                            "Keeps results in memory.",
                            t_opts,
                            sizeof(t_config),
                            t_create,
                            t_destroy,
                            &t_ops_ok};
  t_prov = prov;
  t_prov2 = prov;
  t_prov2.kind = SY_KIND_ACTOR;
  t_prov2.name = "std.noop";
  t_provs[0] = &t_prov;
  t_provs[1] = &t_prov2;
  t_provs[2] = NULL;
  const sy_plugin pl = {SY_ABI_MAJOR,
                        SY_ABI_MINOR,
                        sizeof(sy_plugin),
                        SY_BUILD_SIGNATURE,
                        "static-test",
                        "0.1.0",
                        t_provs};
  t_plugin = pl;
}

#define T_ORIGIN "builtin:test"

/* Adds t_plugin and expects a refusal with code and phrase. */
static void refuse_static(int code, const char *phrase) {
  sy_catalog *cat = NULL;
  sy_error err;
  CU_ASSERT_FATAL(sy_catalog_new(&cat) == 0);
  int rc = sy_catalog_add_static(cat, &t_plugin, T_ORIGIN, &err);
  assert_refused(cat, rc, &err, code, T_ORIGIN, phrase, 0);
  CU_ASSERT_EQUAL(sy_catalog_count(cat), 0);
  sy_catalog_free(cat);
  /* sy__plugin_check agrees and names the file it is given. */
  rc = sy__plugin_check(&t_plugin, "some/file.so", &err);
  CU_ASSERT_EQUAL(rc, code);
  CU_ASSERT(contains(err.message, "some/file.so: "));
  CU_ASSERT(contains(err.message, phrase));
  t_reset();
}

static void test_loader_add_static(void) {
  sy_catalog *cat = NULL;
  sy_error err;
  t_reset();
  CU_ASSERT_EQUAL(sy__plugin_check(&t_plugin, "x", &err), 0);
  CU_ASSERT_FATAL(sy_catalog_new(&cat) == 0);
  CU_ASSERT_EQUAL(sy_catalog_add_static(cat, &t_plugin, T_ORIGIN, &err), 0);
  CU_ASSERT_EQUAL(err.code, 0);
  CU_ASSERT_EQUAL(sy_catalog_count(cat), 2);
  const char *file = NULL;
  const sy_plugin *pl = NULL;
  /* Storage sorts before actor. */
  const sy_provider *p = sy_catalog_at(cat, 0, &file, &pl);
  CU_ASSERT_PTR_EQUAL(p, &t_prov);
  CU_ASSERT_PTR_EQUAL(pl, &t_plugin);
  CU_ASSERT(file && strcmp(file, T_ORIGIN) == 0);
  CU_ASSERT_PTR_EQUAL(sy_catalog_find(cat, SY_KIND_ACTOR, "std.noop"),
                      &t_prov2);
  /* Adding it again is a duplicate, named by its origin. */
  int rc = sy_catalog_add_static(cat, &t_plugin, "builtin:again", &err);
  assert_refused(cat, rc, &err, SY_EEXIST, "builtin:again",
                 "provides storage 'mem' already provided by " T_ORIGIN, 0);
  sy_catalog_free(cat);
}

static void test_loader_static_abi_checks(void) {
  t_reset();
  t_plugin.abi_major = 0;
  refuse_static(SY_EABI, "built for plugin ABI 0.x");
  t_plugin.abi_minor = SY_ABI_MINOR + 1;
  refuse_static(SY_EABI, "upgrade switchyard");
  t_plugin.size = 8;
  refuse_static(SY_EABI, "descriptor is 8 bytes");
  t_plugin.build = NULL;
  refuse_static(SY_EABI, "built with signature (none), expected");
}

static void test_loader_refuses_plugin_without_name(void) {
  t_reset();
  t_plugin.name = "";
  refuse_static(SY_EPLUGIN, "plugin has no name");
  t_plugin.name = NULL;
  refuse_static(SY_EPLUGIN, "plugin has no name");
}

static void test_loader_refuses_null_provider_list(void) {
  t_reset();
  t_plugin.providers = NULL;
  refuse_static(SY_EPLUGIN, "has no provider list");
}

static void test_loader_refuses_small_provider(void) {
  char phrase[128];
  t_reset();
  t_prov2.size = 16;
  snprintf(phrase, sizeof phrase,
           "provider #2: descriptor is 16 bytes, ABI 1.0 needs at least %zu",
           sizeof(sy_provider));
  refuse_static(SY_EABI, phrase);
}

static void test_loader_refuses_invalid_kind(void) {
  t_reset();
  t_prov.kind = (sy_kind)42;
  refuse_static(SY_EPLUGIN, "provider #1: invalid kind 42");
  t_prov.kind = (sy_kind)0;
  refuse_static(SY_EPLUGIN, "invalid kind 0");
}

static void test_loader_refuses_bad_provider_name(void) {
  t_reset();
  t_prov.name = "Mem";
  refuse_static(SY_EPLUGIN, "storage name 'Mem' must match [a-z0-9_.-]+");
  t_prov.name = "a b";
  refuse_static(SY_EPLUGIN, "must match");
  t_prov.name = "";
  refuse_static(SY_EPLUGIN, "must match");
  t_prov.name = NULL;
  refuse_static(SY_EPLUGIN, "must match");
}

static void test_loader_refuses_provider_without_version(void) {
  t_reset();
  t_prov.version = "";
  refuse_static(SY_EPLUGIN, "storage 'mem' has no version");
}

static void test_loader_refuses_provider_without_description(void) {
  t_reset();
  t_prov.description = NULL;
  refuse_static(SY_EPLUGIN, "storage 'mem' has no description");
}

static void test_loader_refuses_provider_without_ops(void) {
  t_reset();
  t_prov.ops = NULL;
  refuse_static(SY_EPLUGIN, "storage 'mem' has no ops");
}

static void test_loader_refuses_small_ops(void) {
  t_reset();
  t_prov.ops = &t_ops_zero;
  refuse_static(SY_EABI, "storage 'mem': ops is 0 bytes");
}

static void test_loader_refuses_create_without_destroy(void) {
  t_reset();
  t_prov.destroy = NULL;
  refuse_static(SY_EPLUGIN, "create and destroy must both be set");
  t_prov.create = NULL;
  t_prov.destroy = t_destroy;
  refuse_static(SY_EPLUGIN, "create and destroy must both be set");
  /* Both NULL is fine. */
  t_prov.create = NULL;
  t_prov.destroy = NULL;
  sy_error err;
  CU_ASSERT_EQUAL(sy__plugin_check(&t_plugin, "x", &err), 0);
}

static void test_loader_refuses_options_without_config(void) {
  t_reset();
  t_prov.config_size = 0;
  refuse_static(SY_EPLUGIN, "has options but config_size is 0");
}

static void test_loader_refuses_static_option_without_help(void) {
  t_reset();
  t_opts[1].help = NULL;
  refuse_static(SY_EPLUGIN, "storage 'mem': option 'label' has no help text");
}

static void test_loader_refuses_option_bad_type(void) {
  t_reset();
  t_opts[0].type = (sy_opt_type)99;
  refuse_static(SY_EPLUGIN, "option 'count' has invalid type 99");
}

static void test_loader_refuses_enum_without_choices(void) {
  t_reset();
  t_opts[2].choices = NULL;
  refuse_static(SY_EPLUGIN, "option 'mode' is an enum with no choices");
  t_opts[2].choices = t_no_modes;
  refuse_static(SY_EPLUGIN, "option 'mode' is an enum with no choices");
}

static void test_loader_refuses_duplicate_option(void) {
  t_reset();
  t_opts[2].name = "count";
  t_opts[2].type = SY_OPT_INT;
  refuse_static(SY_EPLUGIN, "option 'count' is declared twice");
}

static void test_loader_refuses_option_outside_config(void) {
  t_reset();
  /* The last int64_t byte past the end of the struct. */
  t_opts[0].offset = sizeof(t_config) - sizeof(int64_t) + 1;
  refuse_static(SY_EPLUGIN, "does not fit in config_size");
  t_opts[0].offset = (size_t)-1;
  refuse_static(SY_EPLUGIN, "does not fit in config_size");
}

static void test_loader_refuses_bad_option_name(void) {
  t_reset();
  t_opts[0].name = "Count";
  refuse_static(SY_EPLUGIN, "option #1 name 'Count' must match [a-z0-9_]+");
}

static void test_loader_refuses_provider_twice_in_plugin(void) {
  t_reset();
  t_prov2 = t_prov;
  refuse_static(SY_EEXIST, "provides storage 'mem' twice");
}

static void test_loader_ops_min_size(void) {
  for (int k = 1; k <= SY_KIND_COUNT; k++)
    CU_ASSERT(sy__ops_min_size((sy_kind)k) >= sizeof(uint32_t));
  CU_ASSERT_EQUAL(sy__ops_min_size((sy_kind)0), 0);
  CU_ASSERT_EQUAL(sy__ops_min_size((sy_kind)(SY_KIND_COUNT + 1)), 0);
}

/* ---- main --------------------------------------------------------------- */

int main(void) {
  const char *top = getenv("top_builddir");
  snprintf(fixture_dir, sizeof fixture_dir, "%s/tests/providers/.libs",
           top && *top ? top : ".");
  char probe[PATH_CAP];
  fixture_path(probe, "fx_good");
  if (access(probe, R_OK) != 0) {
    fprintf(stderr, "test_loader: fixture %s not found (%s); run make check\n",
            probe, strerror(errno));
    return 99;
  }

  static const CU_TestInfo tests[] = {
#define T(fn) {#fn, fn}
      T(test_loader_refuses_abi_major),
      T(test_loader_refuses_newer_minor),
      T(test_loader_refuses_small_descriptor),
      T(test_loader_refuses_build_signature),
      T(test_loader_refuses_missing_entry),
      T(test_loader_refuses_unresolved_symbol),
      T(test_loader_refuses_option_without_help),
      T(test_loader_refuses_group_writable_file),
      T(test_loader_refuses_world_writable_file),
      T(test_loader_refuses_writable_folder),
      T(test_loader_refuses_link_into_writable_folder),
      T(test_loader_refuses_link_in_writable_folder),
      T(test_loader_refuses_writable_ancestor),
      T(test_loader_refuses_foreign_owner),
      T(test_loader_code_hash),
      T(test_loader_refuses_directory_named_so),
      T(test_loader_refuses_fifo),
      T(test_loader_refuses_missing_file),
      T(test_loader_accepts_symlink),
      T(test_loader_skips_hidden_and_other_files),
      T(test_loader_good_folder_loads_all),
      T(test_loader_bad_files_do_not_stop_scan),
      T(test_loader_clash_refuses_only_that_provider),
      T(test_loader_refuses_plugin_that_only_clashes),
      T(test_loader_refuses_stateful_actor_without_train),
      T(test_loader_same_file_twice_is_skipped),
      T(test_loader_scan_path_list),
      T(test_loader_scan_dir_missing),
      T(test_loader_sorted_by_kind_then_name),
      T(test_loader_find_by_kind_and_name),
      T(test_loader_bad_arguments),
      T(test_loader_add_static),
      T(test_loader_static_abi_checks),
      T(test_loader_refuses_plugin_without_name),
      T(test_loader_refuses_null_provider_list),
      T(test_loader_refuses_small_provider),
      T(test_loader_refuses_invalid_kind),
      T(test_loader_refuses_bad_provider_name),
      T(test_loader_refuses_provider_without_version),
      T(test_loader_refuses_provider_without_description),
      T(test_loader_refuses_provider_without_ops),
      T(test_loader_refuses_small_ops),
      T(test_loader_refuses_create_without_destroy),
      T(test_loader_refuses_options_without_config),
      T(test_loader_refuses_static_option_without_help),
      T(test_loader_refuses_option_bad_type),
      T(test_loader_refuses_enum_without_choices),
      T(test_loader_refuses_duplicate_option),
      T(test_loader_refuses_option_outside_config),
      T(test_loader_refuses_bad_option_name),
      T(test_loader_refuses_provider_twice_in_plugin),
      T(test_loader_ops_min_size),
#undef T
      CU_TEST_INFO_NULL,
  };
  int failed = fx_run_suite("loader", NULL, NULL, tests);
  tmp_remove_all();
  return failed;
}
