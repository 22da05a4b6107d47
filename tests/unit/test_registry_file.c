/*
 * test_registry_file.c - unit tests of the registry-file provider.
 *
 * The provider's code is compiled into this binary (not its entry.c), so
 * the tests fill registry_file_config by hand, as the core would, and
 * reach the version comparison and the test-only crash hook.
 *
 * Concurrency and crash safety use real processes: children fork()ed from
 * the test commit generations into one registry at once, or are killed
 * (SIGKILL at random moments, and _exit(9) at each crash point of a
 * commit through registry_file_crash_at). Afterwards the registry must
 * hold only whole, decodable generations numbered 1..N without gaps or
 * duplicates, and the next commit must succeed and sweep the dead
 * writers' staging folders. No assertion depends on timing: the random
 * delays only vary where the kills land.
 */
#include <CUnit/Basic.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "registry_file.h"
#include "fixture.h"

static char top[128]; /* a temporary folder for every test's registry */
static int serial;    /* numbers each test's registry folder */

static const sy_registry_ops *ops(void) {
  return registry_file_provider.ops;
}

/* A fresh registry folder path under `top` (not created). */
static void fresh_path(char *buf, size_t cap) {
  snprintf(buf, cap, "%s/reg%d", top, ++serial);
}

static void *open_at(const char *path) {
  registry_file_config cfg = {path};
  void *self = NULL;
  sy_error err;
  sy_error_clear(&err);
  int rc = registry_file_provider.create(&cfg, &self, &err);
  if (rc)
    fprintf(stderr, "create %s: %s\n", path, err.message);
  CU_ASSERT_EQUAL_FATAL(rc, 0);
  return self;
}

static void *open_fresh(char *path, size_t cap) {
  fresh_path(path, cap);
  return open_at(path);
}

static void close_rf(void *self) {
  registry_file_provider.destroy(self);
}

static sy_value *text(const char *s) {
  sy_value *v = NULL;
  CU_ASSERT_EQUAL_FATAL(sy_bytes_new(s, strlen(s), "text/plain", &v), 0);
  return v;
}

static bool is_text(const sy_value *v, const char *s) {
  size_t n = 0;
  const void *d = sy_bytes_data(v, &n);
  return d && n == strlen(s) && memcmp(d, s, n) == 0;
}

static int release(void *rf, const char *project, const char *rel,
                   sy_error *err) {
  sy_value *m = text(rel);
  int rc = ops()->put_release(rf, project, rel, m, err);
  sy_value_unref(m);
  return rc;
}

static int commit(void *rf, const char *project, const char *rel,
                  const char *states, const char *tag, uint32_t *gen,
                  sy_error *err) {
  sy_value *s = text(states), *t = text(tag);
  int rc = ops()->put_generation(rf, project, rel, s, t, gen, err);
  sy_value_unref(s);
  sy_value_unref(t);
  return rc;
}

/* A bytes value of n bytes derived from seed, so a reader can check that
 * what it got is whole. */
static sy_value *pattern(unsigned seed, size_t n) {
  unsigned char *buf = malloc(n);
  sy_value *v = NULL;
  if (!buf)
    return NULL;
  for (size_t i = 0; i < n; i++)
    buf[i] = (unsigned char)(seed * 131u + i * 31u + (i >> 8));
  if (sy_bytes_wrap(buf, n, NULL, free, &v) != 0)
    free(buf);
  return v;
}

/* ---- listing helpers ------------------------------------------------------
 */

typedef struct seen {
  char line[4096];
  size_t count;
  uint32_t gens[4096];
  size_t ngens;
  int stop_after; /* 0 = never */
} seen;

static int collect(void *ud, const sy_registry_entry *e) {
  seen *s = ud;
  char buf[256];
  CU_ASSERT_EQUAL(e->size, sizeof *e);
  snprintf(buf, sizeof buf, "%s%s/%s/%" PRIu32, s->count ? " " : "", e->project,
           e->release, e->generation);
  if (strlen(s->line) + strlen(buf) < sizeof s->line)
    strcat(s->line, buf);
  if (e->generation && s->ngens < 4096)
    s->gens[s->ngens++] = e->generation;
  s->count++;
  return s->stop_after && (int)s->count == s->stop_after ? 42 : 0;
}

static size_t count_staging(const char *dir) {
  DIR *d = opendir(dir);
  size_t n = 0;
  struct dirent *de;
  if (!d)
    return 0;
  while ((de = readdir(d)) != NULL)
    n += strncmp(de->d_name, ".staging-", 9) == 0;
  closedir(d);
  return n;
}

/* ---- suite ----------------------------------------------------------------
 */

static int suite_init(void) {
  const char *tmp = getenv("TMPDIR");
  snprintf(top, sizeof top, "%s/sy-regfile-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  return mkdtemp(top) ? 0 : -1;
}

static int suite_clean(void) {
  fx_rmtree(top);
  return 0;
}

/* ---- descriptor and create ------------------------------------------------
 */

static void test_registry_file_descriptor(void) {
  const sy_provider *p = &registry_file_provider;
  CU_ASSERT_EQUAL(p->kind, SY_KIND_REGISTRY);
  CU_ASSERT_STRING_EQUAL(p->name, "file");
  CU_ASSERT_EQUAL(ops()->size, sizeof(sy_registry_ops));
  CU_ASSERT_STRING_EQUAL(p->options[0].name, "path");
  CU_ASSERT_EQUAL(p->options[0].type, SY_OPT_PATH);
  CU_ASSERT_STRING_EQUAL(p->options[0].def,
                         "~/.local/share/switchyard/registry");
  CU_ASSERT_PTR_NULL(p->options[1].name);
}

static void test_registry_file_create_makes_folder(void) {
  char path[256], deep[1100];
  fresh_path(path, sizeof path);
  snprintf(deep, sizeof deep, "%s/a/b/c/", path);
  void *rf = open_at(deep);
  struct stat st;
  snprintf(deep, sizeof deep, "%s/a/b/c", path);
  CU_ASSERT_EQUAL(stat(deep, &st), 0);
  CU_ASSERT(S_ISDIR(st.st_mode));
  close_rf(rf);
  /* An existing folder is fine too. */
  close_rf(open_at(deep));

  /* A file in the way: the error names the folder that cannot be made. */
  char file[1024];
  snprintf(file, sizeof file, "%s/plain", path);
  FILE *f = fopen(file, "w");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  fclose(f);
  snprintf(deep, sizeof deep, "%s/sub", file);
  registry_file_config cfg = {deep};
  void *self = NULL;
  sy_error err;
  sy_error_clear(&err);
  CU_ASSERT_NOT_EQUAL(registry_file_provider.create(&cfg, &self, &err), 0);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, deep));
  CU_ASSERT_PTR_NULL(self);
  cfg.path = file;
  CU_ASSERT_EQUAL(registry_file_provider.create(&cfg, &self, &err), SY_ECONFIG);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "not a folder"));
}

/* ---- versions -------------------------------------------------------------
 */

static void test_registry_file_version_compare(void) {
  static const struct {
    const char *a, *b;
    int want;
  } cases[] = {
      {"1.10", "1.9", 1},
      {"1.9", "1.10", -1},
      {"1.2", "1.2", 0},
      {"2", "10", -1},
      {"1.2", "1.2.0", -1},
      {"1.2.1", "1.2", 1},
      {"0.9.9", "1", -1},
      {"1.0-rc.1", "1.0", -1},
      {"1.0-rc.1", "1.0-rc.2", -1},
      {"1.0-rc.2", "1.0-rc.10", -1},
      {"1.0-rc.10", "1.0-rc.a", -1},
      {"1.0-rc", "1.0-rc.1", -1},
      {"1.0-alpha", "1.0-beta", -1},
      {"1.0-rc.1", "0.9", 1},
      {"100000000000000000000001", "99999999999999999999999", 1},
      {"2024.1.15", "2024.1.9", 1},
      /* Stored before versions were checked: older than any valid one,
       * so they never block a release again. */
      {"a", "0.1", -1},
      {"-1", "1.0", -1},
      {"1.0.", "1.0", -1},
      {"1..0", "0", -1},
      {"1.01", "1.1", -1},
      {"a", "b", -1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    int c = registry_file_version_compare(cases[i].a, cases[i].b);
    int sign = c < 0 ? -1 : c > 0;
    if (sign != cases[i].want)
      fprintf(stderr, "compare(%s, %s) = %d, want %d\n", cases[i].a, cases[i].b,
              sign, cases[i].want);
    CU_ASSERT_EQUAL(sign, cases[i].want);
    /* Antisymmetric. */
    int r = registry_file_version_compare(cases[i].b, cases[i].a);
    CU_ASSERT_EQUAL(r < 0 ? -1 : r > 0, -cases[i].want);
  }
}

/* One reference grammar for every command (sy_registry_ref_parse). */
static void test_registry_file_references(void) {
  static const struct {
    const char *text;
    int min, max, ok;
    const char *project, *release;
    uint32_t gen;
  } cases[] = {
      {"iris", 1, 3, 1, "iris", NULL, 0},
      {"iris:1.0", 1, 3, 1, "iris", "1.0", 0},
      {"iris:1.0:2", 1, 3, 1, "iris", "1.0", 2},
      {"iris:1.0:4294967295", 1, 3, 1, "iris", "1.0", 4294967295u},
      {"iris:1.0:4294967296", 1, 3, 0, NULL, NULL, 0},
      {"iris:1.0:abc", 1, 3, 0, NULL, NULL, 0},
      {"iris:1.0:01", 1, 3, 0, NULL, NULL, 0},
      {"iris:1.0:+1", 1, 3, 0, NULL, NULL, 0},
      {"iris:1.0:0", 1, 3, 0, NULL, NULL, 0},
      {"iris:1.0:", 1, 3, 0, NULL, NULL, 0},
      {"iris:", 1, 3, 0, NULL, NULL, 0},
      {":1.0", 1, 3, 0, NULL, NULL, 0},
      {".hidden", 1, 3, 0, NULL, NULL, 0},
      {"a b", 1, 3, 0, NULL, NULL, 0},
      {"iris:1.0:2:3", 1, 3, 0, NULL, NULL, 0},
      {"iris:1.0:2", 1, 2, 0, NULL, NULL, 0},
      {"iris", 2, 3, 0, NULL, NULL, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    sy_registry_ref ref;
    sy_error err;
    sy_error_clear(&err);
    int rc = sy_registry_ref_parse(cases[i].text, cases[i].min, cases[i].max,
                                   &ref, &err);
    if (!cases[i].ok) {
      CU_ASSERT_EQUAL(rc, SY_EUSAGE);
      CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "not a valid"));
      CU_ASSERT_PTR_NOT_NULL(strstr(err.message, cases[i].text));
      CU_ASSERT_PTR_NULL(ref.text);
      continue;
    }
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_STRING_EQUAL(ref.project, cases[i].project);
    if (cases[i].release) {
      CU_ASSERT_STRING_EQUAL(ref.release, cases[i].release);
    } else {
      CU_ASSERT_PTR_NULL(ref.release);
    }
    CU_ASSERT_EQUAL(ref.generation, cases[i].gen);
    sy_registry_ref_free(&ref);
    CU_ASSERT_PTR_NULL(ref.text);
  }
  char long_name[130];
  memset(long_name, 'a', 129);
  long_name[129] = '\0';
  CU_ASSERT_EQUAL(sy_registry_name_valid(long_name), 0);
  long_name[128] = '\0';
  CU_ASSERT_EQUAL(sy_registry_name_valid(long_name), 1);
}

static void test_registry_file_version_grammar(void) {
  static const char *const good[] = {"0",        "1",        "1.0",
                                     "2.10.3",   "10.0.0.1", "1.0-rc.1",
                                     "3-beta_2", "1.0-0",    "2024.1.15"};
  static const char *const bad[] = {
      "",     "-1",      "1.0.",      "1..0", "a",     "01",  "1.01",   ".1",
      "1.0-", "1.0-rc.", "1.0-rc..1", "v1",   "1.0+x", "1 0", "1.0-r c"};
  for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
    if (!sy_release_version_valid(good[i]))
      fprintf(stderr, "'%s' should be valid\n", good[i]);
    CU_ASSERT(sy_release_version_valid(good[i]));
  }
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    if (sy_release_version_valid(bad[i]))
      fprintf(stderr, "'%s' should be invalid\n", bad[i]);
    CU_ASSERT(!sy_release_version_valid(bad[i]));
  }
  char longv[200];
  memset(longv, '1', sizeof longv - 1);
  longv[sizeof longv - 1] = '\0';
  CU_ASSERT(!sy_release_version_valid(longv));
  CU_ASSERT(!sy_release_version_valid(NULL));
}

/* ---- releases ---------------------------------------------------------- */

static void test_registry_file_release_round_trip(void) {
  char path[256];
  void *rf = open_fresh(path, sizeof path);
  sy_error err;
  sy_error_clear(&err);
  sy_value *m = text("flow text");
  CU_ASSERT_EQUAL(ops()->put_release(rf, "iris", "1.0", m, &err), 0);
  sy_value_unref(m);
  sy_value *got = NULL;
  char *found = NULL;
  CU_ASSERT_EQUAL(ops()->get_release(rf, "iris", "1.0", &got, &found, &err), 0);
  CU_ASSERT(is_text(got, "flow text"));
  CU_ASSERT_STRING_EQUAL(sy_bytes_media_type(got), "text/plain");
  CU_ASSERT_STRING_EQUAL(found, "1.0");
  sy_value_unref(got);
  free(found);

  /* A frame manifest round-trips too (any value does). */
  sy_value *f = NULL;
  double d[2] = {1.5, -2};
  CU_ASSERT_EQUAL_FATAL(sy_frame_new(2, &f), 0);
  CU_ASSERT_EQUAL_FATAL(sy_frame_add_f64(f, "x", d, NULL), 0);
  CU_ASSERT_EQUAL(ops()->put_release(rf, "iris", "1.1", f, &err), 0);
  CU_ASSERT_EQUAL(ops()->get_release(rf, "iris", NULL, &got, &found, &err), 0);
  CU_ASSERT_STRING_EQUAL(found, "1.1");
  CU_ASSERT(sy_value_equal(got, f));
  sy_value_unref(got);
  sy_value_unref(f);
  free(found);
  /* found may be NULL. */
  CU_ASSERT_EQUAL(ops()->get_release(rf, "iris", NULL, &got, NULL, &err), 0);
  sy_value_unref(got);

  /* The manifest is stored in the core encoding, not raw. */
  char file[1024];
  snprintf(file, sizeof file, "%s/iris/1.0/manifest", path);
  struct stat st;
  CU_ASSERT_EQUAL(stat(file, &st), 0);
  CU_ASSERT((size_t)st.st_size > strlen("flow text"));
  /* Nothing is left in staging. */
  snprintf(file, sizeof file, "%s/iris", path);
  CU_ASSERT_EQUAL(count_staging(file), 0);
  close_rf(rf);
}

static void test_registry_file_release_versions_increase(void) {
  char path[256];
  void *rf = open_fresh(path, sizeof path);
  sy_error err;
  sy_error_clear(&err);
  CU_ASSERT_EQUAL(release(rf, "iris", "1.3", &err), 0);
  CU_ASSERT_EQUAL(release(rf, "iris", "1.2", &err), SY_EEXIST);
  CU_ASSERT_STRING_EQUAL(err.message,
                         "release 1.2 of iris is not newer than 1.3 (the "
                         "latest)");
  CU_ASSERT_EQUAL(release(rf, "iris", "1.3", &err), SY_EEXIST);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "exists"));
  /* Not a version (a leading zero): refused for what it is. */
  CU_ASSERT_EQUAL(release(rf, "iris", "1.03", &err), SY_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "not a valid version"));
  CU_ASSERT_EQUAL(release(rf, "iris", "1.9", &err), 0);
  CU_ASSERT_EQUAL(release(rf, "iris", "1.10", &err), 0);
  CU_ASSERT_EQUAL(release(rf, "iris", "1.9.5", &err), SY_EEXIST);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "1.10 (the latest)"));
  /* Other projects have their own sequence. */
  CU_ASSERT_EQUAL(release(rf, "wine", "0.1", &err), 0);

  sy_value *m = NULL;
  char *found = NULL;
  CU_ASSERT_EQUAL(ops()->get_release(rf, "iris", NULL, &m, &found, &err), 0);
  CU_ASSERT_STRING_EQUAL(found, "1.10");
  CU_ASSERT(is_text(m, "1.10"));
  sy_value_unref(m);
  free(found);
  /* Refused releases left nothing behind. */
  char dir[1024];
  snprintf(dir, sizeof dir, "%s/iris", path);
  CU_ASSERT_EQUAL(count_staging(dir), 0);
  close_rf(rf);
}

static void test_registry_file_names_validated(void) {
  char path[256];
  void *rf = open_fresh(path, sizeof path);
  sy_error err;
  sy_error_clear(&err);
  CU_ASSERT_EQUAL(release(rf, "iris", "1.0", &err), 0);
  static const char *bad[] = {".hidden", "a/b", "",       "a b",
                              "..",      "x\n", "../etc", "é"};
  sy_value *v = text("x"), *got = NULL, *got2 = NULL;
  uint32_t g = 0;
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    CU_ASSERT_EQUAL(ops()->put_release(rf, bad[i], "1.0", v, &err), SY_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, bad[i]));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "project"));
    CU_ASSERT_EQUAL(ops()->put_release(rf, "iris", bad[i], v, &err), SY_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "release"));
    CU_ASSERT_EQUAL(ops()->get_release(rf, bad[i], NULL, &got, NULL, &err),
                    SY_EINVAL);
    CU_ASSERT_EQUAL(ops()->put_generation(rf, "iris", bad[i], v, v, &g, &err),
                    SY_EINVAL);
    CU_ASSERT_EQUAL(
        ops()->get_generation(rf, bad[i], "1.0", 0, &got, &got2, &g, &err),
        SY_EINVAL);
    CU_ASSERT_EQUAL(ops()->list(rf, bad[i], NULL, collect, &(seen){0}, &err),
                    SY_EINVAL);
  }
  CU_ASSERT_EQUAL(ops()->put_release(rf, NULL, "1.0", v, &err), SY_EINVAL);
  /* Dots, dashes and underscores inside a name are fine. */
  CU_ASSERT_EQUAL(ops()->put_release(rf, "my_proj-2.x", "1.0-rc_1", v, &err),
                  0);
  sy_value_unref(v);
  close_rf(rf);
}

static void test_registry_file_missing_names_what_exists(void) {
  char path[256];
  void *rf = open_fresh(path, sizeof path);
  sy_error err;
  sy_error_clear(&err);
  sy_value *m = NULL, *t = NULL;
  uint32_t g = 0;
  CU_ASSERT_EQUAL(ops()->get_release(rf, "iris", NULL, &m, NULL, &err),
                  SY_ENOENT);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "none yet"));
  CU_ASSERT_EQUAL(release(rf, "iris", "1.2", &err), 0);
  CU_ASSERT_EQUAL(release(rf, "iris", "1.3", &err), 0);
  CU_ASSERT_EQUAL(release(rf, "wine", "0.1", &err), 0);

  CU_ASSERT_EQUAL(ops()->get_release(rf, "irsi", NULL, &m, NULL, &err),
                  SY_ENOENT);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "'irsi'"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "projects: iris, wine"));
  CU_ASSERT_EQUAL(ops()->get_release(rf, "iris", "1.4", &m, NULL, &err),
                  SY_ENOENT);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "no release 1.4"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "releases: 1.2, 1.3"));
  CU_ASSERT_PTR_NULL(m);
  CU_ASSERT_EQUAL(commit(rf, "iris", "2.0", "s", "t", &g, &err), SY_ENOENT);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "releases: 1.2, 1.3"));
  CU_ASSERT_EQUAL(commit(rf, "nope", "1.2", "s", "t", &g, &err), SY_ENOENT);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "projects: iris, wine"));
  CU_ASSERT_EQUAL(ops()->get_generation(rf, "iris", "1.9", 0, &m, &t, &g, &err),
                  SY_ENOENT);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "releases: 1.2, 1.3"));
  CU_ASSERT_EQUAL(ops()->list(rf, "nope", NULL, collect, &(seen){0}, &err),
                  SY_ENOENT);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "projects: iris, wine"));
  CU_ASSERT_EQUAL(ops()->list(rf, "iris", "0.1", collect, &(seen){0}, &err),
                  SY_ENOENT);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "releases: 1.2, 1.3"));
  close_rf(rf);
}

/* ---- generations --------------------------------------------------------- */

static void test_registry_file_generations(void) {
  char path[256];
  void *rf = open_fresh(path, sizeof path);
  sy_error err;
  sy_error_clear(&err);
  sy_value *s = NULL, *t = NULL;
  uint32_t g = 99;
  CU_ASSERT_EQUAL(release(rf, "iris", "1.0", &err), 0);
  CU_ASSERT_EQUAL(ops()->get_generation(rf, "iris", "1.0", 0, &s, &t, &g, &err),
                  SY_ENOENT);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "no generations"));
  for (uint32_t i = 1; i <= 3; i++) {
    char st[32], tg[32];
    snprintf(st, sizeof st, "states %" PRIu32, i);
    snprintf(tg, sizeof tg, "tag %" PRIu32, i);
    CU_ASSERT_EQUAL(commit(rf, "iris", "1.0", st, tg, &g, &err), 0);
    CU_ASSERT_EQUAL(g, i);
  }
  CU_ASSERT_EQUAL(ops()->get_generation(rf, "iris", "1.0", 0, &s, &t, &g, &err),
                  0);
  CU_ASSERT_EQUAL(g, 3);
  CU_ASSERT(is_text(s, "states 3"));
  CU_ASSERT(is_text(t, "tag 3"));
  sy_value_unref(s);
  sy_value_unref(t);
  CU_ASSERT_EQUAL(ops()->get_generation(rf, "iris", "1.0", 2, &s, &t, &g, &err),
                  0);
  CU_ASSERT_EQUAL(g, 2);
  CU_ASSERT(is_text(s, "states 2"));
  CU_ASSERT(is_text(t, "tag 2"));
  sy_value_unref(s);
  sy_value_unref(t);
  /* found may be NULL. */
  CU_ASSERT_EQUAL(
      ops()->get_generation(rf, "iris", "1.0", 1, &s, &t, NULL, &err), 0);
  CU_ASSERT(is_text(t, "tag 1"));
  sy_value_unref(s);
  sy_value_unref(t);
  CU_ASSERT_EQUAL(ops()->get_generation(rf, "iris", "1.0", 7, &s, &t, &g, &err),
                  SY_ENOENT);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "no generation 7"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "1 to 3"));
  CU_ASSERT_PTR_NULL(s);
  CU_ASSERT_PTR_NULL(t);
  /* A newer release numbers its generations from 1 again. */
  CU_ASSERT_EQUAL(release(rf, "iris", "1.1", &err), 0);
  CU_ASSERT_EQUAL(commit(rf, "iris", "1.1", "x", "y", &g, &err), 0);
  CU_ASSERT_EQUAL(g, 1);
  close_rf(rf);
}

static void test_registry_file_list(void) {
  char path[256];
  void *rf = open_fresh(path, sizeof path);
  sy_error err;
  sy_error_clear(&err);
  uint32_t g;
  seen s = {0};
  CU_ASSERT_EQUAL(ops()->list(rf, NULL, NULL, collect, &s, &err), 0);
  CU_ASSERT_EQUAL(s.count, 0);
  CU_ASSERT_EQUAL(release(rf, "wine", "0.1", &err), 0);
  CU_ASSERT_EQUAL(release(rf, "iris", "1.9", &err), 0);
  CU_ASSERT_EQUAL(release(rf, "iris", "1.10", &err), 0);
  CU_ASSERT_EQUAL(release(rf, "iris", "2", &err), 0);
  for (int i = 0; i < 11; i++)
    CU_ASSERT_EQUAL(commit(rf, "iris", "1.9", "s", "t", &g, &err), 0);
  CU_ASSERT_EQUAL(commit(rf, "iris", "2", "s", "t", &g, &err), 0);
  CU_ASSERT_EQUAL(commit(rf, "wine", "0.1", "s", "t", &g, &err), 0);
  /* What readers must not count: staging folders, a generation folder
   * without its files, folders with names that are not valid. */
  char d[1024];
  snprintf(d, sizeof d, "%s/iris/2/.staging-1-abc", path);
  CU_ASSERT_EQUAL(mkdir(d, 0755), 0);
  snprintf(d, sizeof d, "%s/iris/2/5", path);
  CU_ASSERT_EQUAL(mkdir(d, 0755), 0);
  snprintf(d, sizeof d, "%s/iris/2/007", path);
  CU_ASSERT_EQUAL(mkdir(d, 0755), 0);
  snprintf(d, sizeof d, "%s/.staging-1-xyz", path);
  CU_ASSERT_EQUAL(mkdir(d, 0755), 0);
  snprintf(d, sizeof d, "%s/iris/.staging-1-xyz", path);
  CU_ASSERT_EQUAL(mkdir(d, 0755), 0);

  CU_ASSERT_EQUAL(ops()->list(rf, NULL, NULL, collect, &s, &err), 0);
  CU_ASSERT_STRING_EQUAL(
      s.line, "iris/1.9/0 iris/1.9/1 iris/1.9/2 iris/1.9/3 iris/1.9/4 "
              "iris/1.9/5 iris/1.9/6 iris/1.9/7 iris/1.9/8 iris/1.9/9 "
              "iris/1.9/10 iris/1.9/11 iris/1.10/0 iris/2/0 iris/2/1 "
              "wine/0.1/0 wine/0.1/1");

  seen p = {0};
  CU_ASSERT_EQUAL(ops()->list(rf, "iris", "2", collect, &p, &err), 0);
  CU_ASSERT_STRING_EQUAL(p.line, "iris/2/0 iris/2/1");
  seen w = {0};
  CU_ASSERT_EQUAL(ops()->list(rf, "wine", NULL, collect, &w, &err), 0);
  CU_ASSERT_STRING_EQUAL(w.line, "wine/0.1/0 wine/0.1/1");
  seen r = {0};
  CU_ASSERT_EQUAL(ops()->list(rf, NULL, "0.1", collect, &r, &err), 0);
  CU_ASSERT_STRING_EQUAL(r.line, "wine/0.1/0 wine/0.1/1");
  /* A visitor's non-zero return stops the listing and is returned. */
  seen stop = {.stop_after = 3};
  CU_ASSERT_EQUAL(ops()->list(rf, NULL, NULL, collect, &stop, &err), 42);
  CU_ASSERT_EQUAL(stop.count, 3);
  /* Entries carry a plausible mtime. */
  close_rf(rf);
}

static int check_mtime(void *ud, const sy_registry_entry *e) {
  int64_t now = *(int64_t *)ud;
  CU_ASSERT(e->mtime > 0 && e->mtime <= now + 5);
  return 0;
}

static void test_registry_file_list_mtime(void) {
  char path[256];
  void *rf = open_fresh(path, sizeof path);
  sy_error err;
  uint32_t g;
  CU_ASSERT_EQUAL(release(rf, "iris", "1", &err), 0);
  CU_ASSERT_EQUAL(commit(rf, "iris", "1", "s", "t", &g, &err), 0);
  int64_t now = (int64_t)time(NULL);
  CU_ASSERT_EQUAL(ops()->list(rf, NULL, NULL, check_mtime, &now, &err), 0);
  close_rf(rf);
}

/* ---- damage -------------------------------------------------------------- */

static void flip_byte(const char *file, off_t at) {
  int fd = open(file, O_RDWR);
  unsigned char c = 0;
  CU_ASSERT_FATAL(fd >= 0);
  CU_ASSERT_EQUAL(pread(fd, &c, 1, at), 1);
  c ^= 0x5a;
  CU_ASSERT_EQUAL(pwrite(fd, &c, 1, at), 1);
  close(fd);
}

static void test_registry_file_corrupt_files(void) {
  char path[256], file[1024];
  void *rf = open_fresh(path, sizeof path);
  sy_error err;
  sy_error_clear(&err);
  sy_value *s = NULL, *t = NULL;
  uint32_t g = 0;
  CU_ASSERT_EQUAL(release(rf, "iris", "1.0", &err), 0);
  for (int i = 0; i < 3; i++)
    CU_ASSERT_EQUAL(
        commit(rf, "iris", "1.0", "states of the model", "tag", &g, &err), 0);
  /* A flipped byte in generation 2's states: its checksum no longer
   * matches. */
  snprintf(file, sizeof file, "%s/iris/1.0/2/states", path);
  struct stat st;
  CU_ASSERT_EQUAL_FATAL(stat(file, &st), 0);
  flip_byte(file, st.st_size - 3);
  CU_ASSERT_EQUAL(ops()->get_generation(rf, "iris", "1.0", 2, &s, &t, &g, &err),
                  SY_ECORRUPT);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, file));
  CU_ASSERT_PTR_NULL(s);
  CU_ASSERT_PTR_NULL(t);

  /* The latest is read whole; a damaged latest is skipped for the newest
   * whole one, and with none whole left the error names the file. */
  CU_ASSERT_EQUAL(ops()->get_generation(rf, "iris", "1.0", 0, &s, &t, &g, &err),
                  0);
  CU_ASSERT_EQUAL(g, 3);
  sy_value_unref(s);
  sy_value_unref(t);
  snprintf(file, sizeof file, "%s/iris/1.0/3/tag", path);
  CU_ASSERT_EQUAL(truncate(file, 5), 0);
  CU_ASSERT_EQUAL(ops()->get_generation(rf, "iris", "1.0", 3, &s, &t, &g, &err),
                  SY_ECORRUPT);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, file));
  CU_ASSERT_PTR_NULL(s);
  CU_ASSERT_EQUAL(ops()->get_generation(rf, "iris", "1.0", 0, &s, &t, &g, &err),
                  0);
  CU_ASSERT_EQUAL(g, 1);
  sy_value_unref(s);
  sy_value_unref(t);
  snprintf(file, sizeof file, "%s/iris/1.0/1/states", path);
  CU_ASSERT_EQUAL(truncate(file, 0), 0);
  CU_ASSERT_EQUAL(ops()->get_generation(rf, "iris", "1.0", 0, &s, &t, &g, &err),
                  SY_ECORRUPT);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "/iris/1.0/3/tag"));

  /* A damaged manifest. */
  snprintf(file, sizeof file, "%s/iris/1.0/manifest", path);
  flip_byte(file, 0);
  CU_ASSERT_EQUAL(ops()->get_release(rf, "iris", "1.0", &s, NULL, &err),
                  SY_ECORRUPT);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, file));
  CU_ASSERT_PTR_NULL(s);
  close_rf(rf);
}

/* ---- staging --------------------------------------------------------------
 */

static pid_t dead_pid(void) {
  pid_t pid = fork();
  if (pid == 0)
    _exit(0);
  waitpid(pid, NULL, 0);
  return pid;
}

static void test_registry_file_stale_staging_removed(void) {
  char path[256], d[1024], f[1100];
  void *rf = open_fresh(path, sizeof path);
  sy_error err;
  uint32_t g;
  CU_ASSERT_EQUAL(release(rf, "iris", "1.0", &err), 0);
  /* A dead writer's folder (with a torn file), a live writer's fresh one,
   * and a live pid's folder older than an hour. */
  snprintf(d, sizeof d, "%s/iris/1.0/.staging-%ld-dead01", path,
           (long)dead_pid());
  CU_ASSERT_EQUAL(mkdir(d, 0755), 0);
  snprintf(f, sizeof f, "%s/states", d);
  fclose(fopen(f, "w"));
  snprintf(d, sizeof d, "%s/iris/1.0/.staging-%ld-live01", path,
           (long)getpid());
  CU_ASSERT_EQUAL(mkdir(d, 0755), 0);
  snprintf(d, sizeof d, "%s/iris/1.0/.staging-%ld-old001", path,
           (long)getpid());
  CU_ASSERT_EQUAL(mkdir(d, 0755), 0);
  struct timeval old[2] = {{time(NULL) - 7200, 0}, {time(NULL) - 7200, 0}};
  CU_ASSERT_EQUAL(utimes(d, old), 0);
  snprintf(d, sizeof d, "%s/iris/1.0", path);
  CU_ASSERT_EQUAL(count_staging(d), 3);
  CU_ASSERT_EQUAL(commit(rf, "iris", "1.0", "s", "t", &g, &err), 0);
  CU_ASSERT_EQUAL(count_staging(d), 1);
  snprintf(d, sizeof d, "%s/iris/1.0/.staging-%ld-live01", path,
           (long)getpid());
  struct stat st;
  CU_ASSERT_EQUAL(stat(d, &st), 0);

  /* Releases sweep their project folder the same way. */
  snprintf(d, sizeof d, "%s/iris/.staging-%ld-dead02", path, (long)dead_pid());
  CU_ASSERT_EQUAL(mkdir(d, 0755), 0);
  CU_ASSERT_EQUAL(release(rf, "iris", "1.1", &err), 0);
  snprintf(d, sizeof d, "%s/iris", path);
  CU_ASSERT_EQUAL(count_staging(d), 0);
  close_rf(rf);
}

/* ---- concurrency --------------------------------------------------------- */

#define CHILDREN 8
#define COMMITS 5

/* Reads every generation 1..n and checks that each tag was written once. */
static void check_tags(void *rf, const char *rel, uint32_t n, char *seen_tag,
                       size_t tags) {
  sy_error err;
  for (uint32_t i = 1; i <= n; i++) {
    sy_value *s = NULL, *t = NULL;
    uint32_t g = 0;
    CU_ASSERT_EQUAL_FATAL(
        ops()->get_generation(rf, "iris", rel, i, &s, &t, &g, &err), 0);
    CU_ASSERT_EQUAL(g, i);
    size_t len = 0;
    const char *d = sy_bytes_data(t, &len);
    unsigned c, k;
    char buf[32] = "";
    memcpy(buf, d, len < sizeof buf - 1 ? len : sizeof buf - 1);
    CU_ASSERT_EQUAL_FATAL(sscanf(buf, "c%u-k%u", &c, &k), 2);
    CU_ASSERT_FATAL(c * COMMITS + k < tags);
    CU_ASSERT_EQUAL(seen_tag[c * COMMITS + k], 0);
    seen_tag[c * COMMITS + k] = 1;
    CU_ASSERT(is_text(s, buf)); /* the states match their tag: whole */
    sy_value_unref(s);
    sy_value_unref(t);
  }
}

static void test_registry_file_concurrent_processes(void) {
  char path[256];
  void *rf = open_fresh(path, sizeof path);
  sy_error err;
  CU_ASSERT_EQUAL_FATAL(release(rf, "iris", "1.0", &err), 0);
  int fds[2];
  CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
  pid_t kids[CHILDREN];
  for (int c = 0; c < CHILDREN; c++) {
    kids[c] = fork();
    CU_ASSERT_FATAL(kids[c] >= 0);
    if (kids[c] == 0) {
      close(fds[0]);
      for (int k = 0; k < COMMITS; k++) {
        char tag[32];
        uint32_t g = 0;
        snprintf(tag, sizeof tag, "c%d-k%d", c, k);
        if (commit(rf, "iris", "1.0", tag, tag, &g, &err) != 0) {
          fprintf(stderr, "child %d: %s\n", c, err.message);
          _exit(1);
        }
        if (write(fds[1], &g, sizeof g) != (ssize_t)sizeof g)
          _exit(1);
      }
      _exit(0);
    }
  }
  close(fds[1]);
  char got[CHILDREN * COMMITS + 1] = {0};
  uint32_t g;
  size_t n = 0;
  while (read(fds[0], &g, sizeof g) == (ssize_t)sizeof g) {
    n++;
    CU_ASSERT(g >= 1 && g <= CHILDREN * COMMITS);
    if (g >= 1 && g <= CHILDREN * COMMITS) {
      CU_ASSERT_EQUAL(got[g], 0); /* no number handed out twice */
      got[g] = 1;
    }
  }
  close(fds[0]);
  for (int c = 0; c < CHILDREN; c++) {
    int st = 0;
    waitpid(kids[c], &st, 0);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }
  CU_ASSERT_EQUAL(n, CHILDREN * COMMITS);
  seen s = {0};
  CU_ASSERT_EQUAL(ops()->list(rf, "iris", "1.0", collect, &s, &err), 0);
  CU_ASSERT_EQUAL(s.ngens, CHILDREN * COMMITS);
  for (size_t i = 0; i < s.ngens; i++)
    CU_ASSERT_EQUAL(s.gens[i], i + 1);
  char tags[CHILDREN * COMMITS] = {0};
  check_tags(rf, "1.0", CHILDREN * COMMITS, tags, sizeof tags);
  char d[1024];
  snprintf(d, sizeof d, "%s/iris/1.0", path);
  CU_ASSERT_EQUAL(count_staging(d), 0);
  close_rf(rf);
}

typedef struct thread_arg {
  void *rf;
  int c;
  int failures;
} thread_arg;

static void *thread_commits(void *p) {
  thread_arg *a = p;
  sy_error err;
  for (int k = 0; k < COMMITS; k++) {
    char tag[32];
    uint32_t g = 0;
    snprintf(tag, sizeof tag, "c%d-k%d", a->c, k);
    sy_value *v = NULL;
    if (sy_bytes_new(tag, strlen(tag), "text/plain", &v) != 0 ||
        ops()->put_generation(a->rf, "iris", "1.0", v, v, &g, &err) != 0)
      a->failures++;
    sy_value_unref(v);
  }
  return NULL;
}

static void test_registry_file_concurrent_threads(void) {
  char path[256];
  void *rf = open_fresh(path, sizeof path);
  sy_error err;
  CU_ASSERT_EQUAL_FATAL(release(rf, "iris", "1.0", &err), 0);
  pthread_t th[CHILDREN];
  thread_arg args[CHILDREN];
  for (int c = 0; c < CHILDREN; c++) {
    args[c] = (thread_arg){rf, c, 0};
    CU_ASSERT_EQUAL_FATAL(
        pthread_create(&th[c], NULL, thread_commits, &args[c]), 0);
  }
  for (int c = 0; c < CHILDREN; c++) {
    pthread_join(th[c], NULL);
    CU_ASSERT_EQUAL(args[c].failures, 0);
  }
  seen s = {0};
  CU_ASSERT_EQUAL(ops()->list(rf, "iris", "1.0", collect, &s, &err), 0);
  CU_ASSERT_EQUAL(s.ngens, CHILDREN * COMMITS);
  char tags[CHILDREN * COMMITS] = {0};
  check_tags(rf, "1.0", CHILDREN * COMMITS, tags, sizeof tags);
  close_rf(rf);
}

static void test_registry_file_concurrent_same_release(void) {
  char path[256];
  void *rf = open_fresh(path, sizeof path);
  sy_error err;
  pid_t kids[CHILDREN];
  for (int c = 0; c < CHILDREN; c++) {
    kids[c] = fork();
    CU_ASSERT_FATAL(kids[c] >= 0);
    if (kids[c] == 0) {
      int rc = release(rf, "iris", "2.0", &err);
      _exit(rc == 0 ? 0 : rc == SY_EEXIST ? 1 : 2);
    }
  }
  int won = 0, lost = 0;
  for (int c = 0; c < CHILDREN; c++) {
    int st = 0;
    waitpid(kids[c], &st, 0);
    CU_ASSERT_FATAL(WIFEXITED(st));
    won += WEXITSTATUS(st) == 0;
    lost += WEXITSTATUS(st) == 1;
  }
  CU_ASSERT_EQUAL(won, 1);
  CU_ASSERT_EQUAL(lost, CHILDREN - 1);
  char d[1024];
  snprintf(d, sizeof d, "%s/iris", path);
  CU_ASSERT_EQUAL(count_staging(d), 0);
  close_rf(rf);
}

/* ---- crash safety -------------------------------------------------------- */

#define STATES_BYTES (256 * 1024)

/* Commits one generation whose states are pattern(seed) and whose tag is
 * the seed, in decimal. */
static int commit_seeded(void *rf, unsigned seed, uint32_t *g, sy_error *err) {
  char tag[32];
  snprintf(tag, sizeof tag, "%u", seed);
  sy_value *s = pattern(seed, STATES_BYTES), *t = text(tag);
  int rc =
      s ? ops()->put_generation(rf, "iris", "1.0", s, t, g, err) : SY_ENOMEM;
  sy_value_unref(s);
  sy_value_unref(t);
  return rc;
}

/* After crashes: every listed generation is 1..n in order, both its files
 * decode, and the states are exactly what its tag says. Returns n. */
static uint32_t check_whole(void *rf) {
  sy_error err;
  seen s = {0};
  CU_ASSERT_EQUAL(ops()->list(rf, "iris", "1.0", collect, &s, &err), 0);
  for (size_t i = 0; i < s.ngens; i++) {
    CU_ASSERT_EQUAL(s.gens[i], i + 1); /* no gap, no duplicate */
    sy_value *st = NULL, *tg = NULL;
    uint32_t g = 0;
    int rc =
        ops()->get_generation(rf, "iris", "1.0", s.gens[i], &st, &tg, &g, &err);
    if (rc)
      fprintf(stderr, "generation %" PRIu32 ": %s\n", s.gens[i], err.message);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    char buf[32] = "";
    size_t len = 0;
    const char *d = sy_bytes_data(tg, &len);
    memcpy(buf, d, len < sizeof buf - 1 ? len : sizeof buf - 1);
    sy_value *want = pattern((unsigned)strtoul(buf, NULL, 10), STATES_BYTES);
    CU_ASSERT(sy_value_equal(st, want));
    sy_value_unref(want);
    sy_value_unref(st);
    sy_value_unref(tg);
  }
  return (uint32_t)s.ngens;
}

/* Kills a child at each crash point of a commit in turn (_exit(9) through
 * the test hook), then checks the registry. */
/* ---- removal, whole releases, stored invalid versions (issue 10) ------- */

static void test_registry_file_remove(void) {
  char path[256], file[1024];
  void *rf = open_fresh(path, sizeof path);
  sy_error err;
  uint32_t g = 0;
  sy_value *s = NULL, *t = NULL;
  CU_ASSERT_EQUAL(ops()->remove(rf, "iris", "1.0", 0, &err), SY_ENOENT);
  CU_ASSERT_EQUAL_FATAL(release(rf, "iris", "1.0", &err), 0);
  for (int i = 0; i < 3; i++)
    CU_ASSERT_EQUAL_FATAL(commit(rf, "iris", "1.0", "s", "t", &g, &err), 0);
  CU_ASSERT_EQUAL(ops()->remove(rf, "iris", "1.0", 3, &err), 0);
  seen l = {.count = 0};
  CU_ASSERT_EQUAL(ops()->list(rf, NULL, NULL, collect, &l, &err), 0);
  CU_ASSERT_STRING_EQUAL(l.line, "iris/1.0/0 iris/1.0/1 iris/1.0/2");
  CU_ASSERT_EQUAL(ops()->get_generation(rf, "iris", "1.0", 3, &s, &t, &g, &err),
                  SY_ENOENT);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "was removed"));
  CU_ASSERT_EQUAL(ops()->remove(rf, "iris", "1.0", 3, &err), SY_ENOENT);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "already"));
  CU_ASSERT_EQUAL(ops()->remove(rf, "iris", "1.0", 7, &err), SY_ENOENT);
  /* The data is gone, the number stays taken. */
  snprintf(file, sizeof file, "%s/iris/1.0/3/states", path);
  struct stat st;
  CU_ASSERT_NOT_EQUAL(stat(file, &st), 0);
  CU_ASSERT_EQUAL(commit(rf, "iris", "1.0", "s4", "t4", &g, &err), 0);
  CU_ASSERT_EQUAL(g, 4);
  CU_ASSERT_EQUAL(ops()->remove(rf, "iris", "1.0", 4, &err), 0);
  CU_ASSERT_EQUAL(ops()->get_generation(rf, "iris", "1.0", 0, &s, &t, &g, &err),
                  0);
  CU_ASSERT_EQUAL(g, 2);
  sy_value_unref(s);
  sy_value_unref(t);
  /* A release goes whole; its version is free again. */
  CU_ASSERT_EQUAL(release(rf, "iris", "1.1", &err), 0);
  CU_ASSERT_EQUAL(ops()->remove(rf, "iris", "1.0", 0, &err), 0);
  snprintf(file, sizeof file, "%s/iris/1.0", path);
  CU_ASSERT_NOT_EQUAL(stat(file, &st), 0);
  snprintf(file, sizeof file, "%s/iris", path);
  CU_ASSERT_EQUAL(count_staging(file), 0);
  memset(&l, 0, sizeof l);
  CU_ASSERT_EQUAL(ops()->list(rf, NULL, NULL, collect, &l, &err), 0);
  CU_ASSERT_STRING_EQUAL(l.line, "iris/1.1/0");
  CU_ASSERT_EQUAL(ops()->get_release(rf, "iris", "1.0", &s, NULL, &err),
                  SY_ENOENT);
  close_rf(rf);
}

/* A remover killed at any step leaves the release whole or gone, and
 * what it left behind is swept by the next writer. */
static void test_registry_file_remove_crash_points(void) {
  char path[256], pdir[1024];
  void *rf = open_fresh(path, sizeof path);
  sy_error err;
  uint32_t g = 0;
  snprintf(pdir, sizeof pdir, "%s/iris", path);
  int crashed = 0;
  for (int point = 1; point < 16; point++) {
    char v[16];
    snprintf(v, sizeof v, "1.%d", point);
    CU_ASSERT_EQUAL_FATAL(release(rf, "iris", v, &err), 0);
    CU_ASSERT_EQUAL_FATAL(commit(rf, "iris", v, "s", "t", &g, &err), 0);
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
      registry_file_crash_at(rf, point);
      _exit(ops()->remove(rf, "iris", v, 0, &err) == 0 ? 0 : 1);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    CU_ASSERT_FATAL(WIFEXITED(st));
    sy_value *m = NULL, *s = NULL, *t = NULL;
    int rc = ops()->get_release(rf, "iris", v, &m, NULL, &err);
    if (rc == 0) {
      /* Still there: whole, generation and all. */
      CU_ASSERT_EQUAL(ops()->get_generation(rf, "iris", v, 1, &s, &t, &g, &err),
                      0);
      sy_value_unref(s);
      sy_value_unref(t);
      sy_value_unref(m);
    } else {
      CU_ASSERT_EQUAL(rc, SY_ENOENT);
    }
    if (WEXITSTATUS(st) == 0)
      break;
    CU_ASSERT_EQUAL(WEXITSTATUS(st), 9);
    crashed++;
  }
  CU_ASSERT(crashed >= 2);
  /* The next write sweeps what the dead removers left. */
  CU_ASSERT_EQUAL(release(rf, "iris", "9.0", &err), 0);
  CU_ASSERT_EQUAL(count_staging(pdir), 0);
  close_rf(rf);
}

typedef struct gens {
  int n, at, fail_at;
} gens;

static int next_gen(void *ud, sy_value **states, sy_value **tag,
                    sy_error *err) {
  gens *g = ud;
  if (g->at == g->n)
    return 0;
  g->at++;
  if (g->at == g->fail_at)
    return sy_error_set(err, SY_EIO, "source broke at %d", g->at);
  char b[32];
  snprintf(b, sizeof b, "gen %d", g->at);
  *states = text(b);
  *tag = text(b);
  return 1;
}

static void test_registry_file_release_all(void) {
  char path[256], pdir[1024];
  void *rf = open_fresh(path, sizeof path);
  sy_error err;
  uint32_t count = 0, g = 0;
  sy_value *m = text("manifest"), *s = NULL, *t = NULL;
  snprintf(pdir, sizeof pdir, "%s/iris", path);
  CU_ASSERT_EQUAL_FATAL(release(rf, "iris", "1.0", &err), 0);
  gens broken = {4, 0, 3};
  CU_ASSERT_EQUAL(ops()->put_release_all(rf, "iris", "2.0", m, next_gen,
                                         &broken, &count, &err),
                  SY_EIO);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "source broke at 3"));
  CU_ASSERT_EQUAL(ops()->get_release(rf, "iris", "2.0", &s, NULL, &err),
                  SY_ENOENT);
  CU_ASSERT_EQUAL(count_staging(pdir), 0);
  gens ok = {4, 0, 0};
  CU_ASSERT_EQUAL(
      ops()->put_release_all(rf, "iris", "2.0", m, next_gen, &ok, &count, &err),
      0);
  CU_ASSERT_EQUAL(count, 4);
  seen l = {.count = 0};
  CU_ASSERT_EQUAL(ops()->list(rf, "iris", "2.0", collect, &l, &err), 0);
  CU_ASSERT_STRING_EQUAL(l.line, "iris/2.0/0 iris/2.0/1 iris/2.0/2 "
                                 "iris/2.0/3 iris/2.0/4");
  CU_ASSERT_EQUAL(ops()->get_generation(rf, "iris", "2.0", 2, &s, &t, &g, &err),
                  0);
  CU_ASSERT(is_text(s, "gen 2"));
  sy_value_unref(s);
  sy_value_unref(t);
  CU_ASSERT_EQUAL(commit(rf, "iris", "2.0", "s", "t", &g, &err), 0);
  CU_ASSERT_EQUAL(g, 5);
  gens again = {1, 0, 0};
  CU_ASSERT_EQUAL(ops()->put_release_all(rf, "iris", "2.0", m, next_gen, &again,
                                         &count, &err),
                  SY_EEXIST);
  CU_ASSERT_EQUAL(count_staging(pdir), 0);
  again.at = 0;
  CU_ASSERT_EQUAL(ops()->put_release_all(rf, "iris", "1.5", m, next_gen, &again,
                                         &count, &err),
                  SY_EEXIST);
  again.at = 0;
  CU_ASSERT_EQUAL(ops()->put_release_all(rf, "iris", "a", m, next_gen, &again,
                                         &count, &err),
                  SY_EINVAL);
  sy_value_unref(m);
  close_rf(rf);
}

/* Release folders named before versions were checked ("a", "1.0.") rank
 * below every valid version: they do not block a release, "latest" is a
 * valid one, and rm removes them. */
static void test_registry_file_invalid_stored_versions(void) {
  char path[256], from[1024], to[1024];
  void *rf = open_fresh(path, sizeof path);
  sy_error err;
  CU_ASSERT_EQUAL_FATAL(release(rf, "iris", "1.0", &err), 0);
  const char *bad[] = {"a", "1.0.", "-1"};
  for (size_t i = 0; i < 3; i++) {
    snprintf(to, sizeof to, "%s/iris/%s", path, bad[i]);
    CU_ASSERT_EQUAL_FATAL(mkdir(to, 0755), 0);
    snprintf(from, sizeof from, "%s/iris/1.0/manifest", path);
    snprintf(to, sizeof to, "%s/iris/%s/manifest", path, bad[i]);
    CU_ASSERT_EQUAL_FATAL(link(from, to), 0);
  }
  sy_value *m = NULL;
  char *found = NULL;
  CU_ASSERT_EQUAL(ops()->get_release(rf, "iris", NULL, &m, &found, &err), 0);
  CU_ASSERT_STRING_EQUAL(found, "1.0");
  sy_value_unref(m);
  free(found);
  CU_ASSERT_EQUAL(release(rf, "iris", "1.1", &err), 0);
  seen l = {.count = 0};
  CU_ASSERT_EQUAL(ops()->list(rf, NULL, NULL, collect, &l, &err), 0);
  CU_ASSERT_STRING_EQUAL(
      l.line, "iris/-1/0 iris/1.0./0 iris/a/0 iris/1.0/0 iris/1.1/0");
  for (size_t i = 0; i < 3; i++)
    CU_ASSERT_EQUAL(ops()->remove(rf, "iris", bad[i], 0, &err), 0);
  memset(&l, 0, sizeof l);
  CU_ASSERT_EQUAL(ops()->list(rf, NULL, NULL, collect, &l, &err), 0);
  CU_ASSERT_STRING_EQUAL(l.line, "iris/1.0/0 iris/1.1/0");
  close_rf(rf);
}

static void test_registry_file_crash_points(void) {
  char path[256], rdir[1024];
  void *rf = open_fresh(path, sizeof path);
  sy_error err;
  uint32_t g = 0, published = 0;
  CU_ASSERT_EQUAL_FATAL(release(rf, "iris", "1.0", &err), 0);
  snprintf(rdir, sizeof rdir, "%s/iris/1.0", path);
  int point, crashed = 0;
  for (point = 1; point < 64; point++) {
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
      registry_file_crash_at(rf, point);
      _exit(commit_seeded(rf, (unsigned)point, &g, &err) == 0 ? 0 : 1);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    CU_ASSERT_FATAL(WIFEXITED(st));
    uint32_t n = check_whole(rf);
    if (WEXITSTATUS(st) == 0)
      break; /* past the last crash point: the commit finished */
    CU_ASSERT_EQUAL(WEXITSTATUS(st), 9);
    crashed++;
    /* Crashed before the rename: nothing new, and the child's staging
     * folder is left (the one before it was swept by this child); after
     * the rename: one more generation and no staging. */
    CU_ASSERT(n == published || n == published + 1);
    CU_ASSERT_EQUAL(count_staging(rdir), n == published ? 1 : 0);
    published = n;
  }
  CU_ASSERT(crashed >= 8);   /* mkdtemp, 2 x (half, rest, fsync), sync, ... */
  CU_ASSERT(published >= 1); /* the points after the rename were reached */
  /* Leave a torn staging folder behind once more (crash mid-states). */
  pid_t leaver = fork();
  CU_ASSERT_FATAL(leaver >= 0);
  if (leaver == 0) {
    registry_file_crash_at(rf, 2);
    _exit(commit_seeded(rf, 999, &g, &err) == 0 ? 0 : 1);
  }
  waitpid(leaver, NULL, 0);
  uint32_t before = check_whole(rf);
  CU_ASSERT_EQUAL(count_staging(rdir), 1);
  /* The next commit works, gets the next number, and sweeps the dead
   * children's staging folders. */
  CU_ASSERT_EQUAL(commit_seeded(rf, 1000, &g, &err), 0);
  CU_ASSERT_EQUAL(g, before + 1);
  CU_ASSERT_EQUAL(count_staging(rdir), 0);
  CU_ASSERT_EQUAL(check_whole(rf), before + 1);

  /* The same for a release. */
  for (point = 1; point < 16; point++) {
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
      registry_file_crash_at(rf, point);
      _exit(release(rf, "iris", "2.0", &err) == 0 ? 0 : 1);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    CU_ASSERT_FATAL(WIFEXITED(st));
    sy_value *m = NULL;
    int rc = ops()->get_release(rf, "iris", "2.0", &m, NULL, &err);
    /* Either absent or whole. */
    CU_ASSERT(rc == SY_ENOENT || (rc == 0 && is_text(m, "2.0")));
    sy_value_unref(m);
    if (WEXITSTATUS(st) == 0 || rc == 0)
      break;
    CU_ASSERT_EQUAL(WEXITSTATUS(st), 9);
  }
  CU_ASSERT(point > 3);
  close_rf(rf);
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* SIGKILLs a committing child at random moments, many times. */
static void test_registry_file_kill_during_commits(void) {
  char path[256], rdir[1024];
  void *rf = open_fresh(path, sizeof path);
  sy_error err;
  uint32_t g = 0;
  CU_ASSERT_EQUAL_FATAL(release(rf, "iris", "1.0", &err), 0);
  snprintf(rdir, sizeof rdir, "%s/iris/1.0", path);
  unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
  fprintf(stderr, "\n  kill test seed %u\n", seed);
  srand(seed);
  /* Commits take from well under a millisecond (tmpfs) to tens of them
   * (fsync on a disk), so the kill delays scale with a measured commit:
   * 0 to 1.5 commits, at least 0 to 20 ms. That only spreads the kills
   * over every step of a commit; nothing asserted depends on it. */
  long long t0 = now_ms();
  for (unsigned k = 0; k < 3; k++)
    CU_ASSERT_EQUAL_FATAL(commit_seeded(rf, 900000000u + k, &g, &err), 0);
  long long span_us = (now_ms() - t0) * 1000 / 2;
  if (span_us < 20000)
    span_us = 20000;
  long long start = now_ms();
  int iterations = 0, killed = 0;
  /* 200 kills, or fewer if the machine is slow: the bound is on time
   * spent, not on what is asserted. */
  for (; iterations < 200 && now_ms() - start < 60000; iterations++) {
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
      for (unsigned k = 0;; k++)
        if (commit_seeded(rf, (unsigned)iterations * 100000u + k, &g, &err))
          _exit(1);
    }
    usleep((useconds_t)(rand() % span_us));
    kill(pid, SIGKILL);
    int st = 0;
    waitpid(pid, &st, 0);
    CU_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    killed += WIFSIGNALED(st);
  }
  uint32_t n = check_whole(rf);
  fprintf(stderr,
          "  %d kills (delays 0-%lld us), %" PRIu32
          " generations, %zu staging left\n",
          killed, span_us, n, count_staging(rdir));
  CU_ASSERT(killed >= 1);
  CU_ASSERT_EQUAL(commit_seeded(rf, 7, &g, &err), 0);
  CU_ASSERT_EQUAL(g, n + 1);
  CU_ASSERT_EQUAL(count_staging(rdir), 0);
  CU_ASSERT_EQUAL(check_whole(rf), n + 1);
  close_rf(rf);
}

int main(void) {
  static const CU_TestInfo tests[] = {
      {"descriptor", test_registry_file_descriptor},
      {"create_makes_folder", test_registry_file_create_makes_folder},
      {"version_compare", test_registry_file_version_compare},
      {"version_grammar", test_registry_file_version_grammar},
      {"references", test_registry_file_references},
      {"remove", test_registry_file_remove},
      {"remove_crash_points", test_registry_file_remove_crash_points},
      {"release_all", test_registry_file_release_all},
      {"invalid_stored_versions", test_registry_file_invalid_stored_versions},
      {"release_round_trip", test_registry_file_release_round_trip},
      {"release_versions_increase",
       test_registry_file_release_versions_increase},
      {"names_validated", test_registry_file_names_validated},
      {"missing_names_what_exists",
       test_registry_file_missing_names_what_exists},
      {"generations", test_registry_file_generations},
      {"list", test_registry_file_list},
      {"list_mtime", test_registry_file_list_mtime},
      {"corrupt_files", test_registry_file_corrupt_files},
      {"stale_staging_removed", test_registry_file_stale_staging_removed},
      {"concurrent_processes", test_registry_file_concurrent_processes},
      {"concurrent_threads", test_registry_file_concurrent_threads},
      {"concurrent_same_release", test_registry_file_concurrent_same_release},
      {"crash_points", test_registry_file_crash_points},
      {"kill_during_commits", test_registry_file_kill_during_commits},
      CU_TEST_INFO_NULL,
  };
  return fx_run_suite("registry_file", suite_init, suite_clean, tests);
}
