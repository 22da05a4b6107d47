/*
 * test_lazy.c - lazy plugin loading: a folder's manifest, what a lazy
 * catalog loads and when, and a manifest that is stale, corrupt, lying or
 * not where it can be written.
 *
 * Whether a plugin is mapped is asked of the dynamic linker (dlopen with
 * RTLD_NOLOAD), as test_loader.c does. The fixture plugins are copied
 * into a fresh folder per test, from $top_builddir/tests/providers/.libs.
 */
#include "internal.h"
#include "manifest.h"

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

static char fixture_dir[PATH_CAP];
static char dir[PATH_CAP];

/* Test paths are short; a cut one would make the test meaningless. */
static void must_fit(int n, size_t cap) {
  if (n < 0 || (size_t)n >= cap) {
    fprintf(stderr, "test_lazy: path too long\n");
    abort();
  }
}

static const char *join(char *buf, const char *d, const char *name) {
  must_fit(snprintf(buf, PATH_CAP, "%s/%s", d, name), PATH_CAP);
  return buf;
}

/* Copies fixture `name` to dir/as, mode 0755. Returns 0 or -1. */
static int put_fixture(const char *name, const char *as) {
  char src[PATH_CAP], dst[PATH_CAP];
  must_fit(snprintf(src, sizeof src, "%s/%s.so", fixture_dir, name),
           sizeof src);
  join(dst, dir, as);
  size_t len = 0;
  char *data = fx_read_all(src, &len);
  if (!data)
    return -1;
  /* A new file each time (not rewritten in place): a mapped old copy
   * keeps its own inode. */
  unlink(dst);
  int fd = open(dst, O_WRONLY | O_CREAT | O_EXCL, 0755);
  int rc = fd >= 0 && write(fd, data, len) == (ssize_t)len ? 0 : -1;
  if (fd >= 0 && close(fd) != 0)
    rc = -1;
  free(data);
  return rc == 0 ? chmod(dst, 0755) : -1;
}

static bool is_loaded(const char *path) {
  void *h = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
  if (!h)
    return false;
  dlclose(h);
  return true;
}

static const char *in_dir(const char *name) {
  static char buf[4][PATH_CAP];
  static int next;
  next = (next + 1) % 4;
  return join(buf[next], dir, name);
}

static const char *manifest_path(void) {
  return in_dir(SY__MANIFEST_NAME);
}

/* A fresh folder with fx_good as good.so and fx_good2 as good2.so. */
static void two_plugins(void) {
  fx_tmpdir_reset();
  must_fit(snprintf(dir, sizeof dir, "%s/plug", fx_tmpdir), sizeof dir);
  CU_ASSERT_FATAL(mkdir(dir, 0755) == 0 && chmod(dir, 0755) == 0);
  CU_ASSERT_FATAL(put_fixture("fx_good", "good.so") == 0);
  CU_ASSERT_FATAL(put_fixture("fx_good2", "good2.so") == 0);
}

static sy_catalog *lazy_scan(void) {
  sy_catalog *cat = NULL;
  sy_error err;
  CU_ASSERT_FATAL(sy_catalog_new(&cat) == 0);
  CU_ASSERT_EQUAL(sy_catalog_set_lazy(cat, 1), 0);
  CU_ASSERT_EQUAL(sy_catalog_scan_dir(cat, dir, 0, &err), 0);
  return cat;
}

static bool manifest_valid(void) {
  sy__manifest m;
  int rc = sy__manifest_read(manifest_path(), &m);
  sy__manifest_free(&m);
  return rc == 0;
}

static bool manifest_has(const char *text) {
  char *all = fx_read_all(manifest_path(), NULL);
  bool found = all && strstr(all, text);
  free(all);
  return found;
}

/* ---- the point: a start loads what it uses ---------------------------- */

static void test_lazy_second_scan_loads_nothing(void) {
  two_plugins();
  const char *good = in_dir("good.so"), *good2 = in_dir("good2.so");
  /* No manifest yet: everything is loaded, and the manifest written. */
  sy_catalog *cat = lazy_scan();
  CU_ASSERT(is_loaded(good) && is_loaded(good2));
  CU_ASSERT(manifest_valid());
  const sy_provider *p = sy_catalog_find(cat, SY_KIND_FEED, "alpha");
  uint8_t eager_code[16], lazy_code[16];
  CU_ASSERT_EQUAL(sy__catalog_code_hash(cat, p, eager_code), 1);
  sy_catalog_free(cat);
  CU_ASSERT(!is_loaded(good) && !is_loaded(good2));

  cat = lazy_scan();
  CU_ASSERT(!is_loaded(good));
  CU_ASSERT(!is_loaded(good2));
  /* Listed without loading. */
  CU_ASSERT_EQUAL(sy_catalog_known_count(cat), 4);
  CU_ASSERT_EQUAL(sy_catalog_problem_count(cat), 0);
  sy_kind kind = 0;
  const char *version = NULL, *desc = NULL, *file = NULL;
  bool saw_beta = false;
  for (size_t i = 0; i < sy_catalog_known_count(cat); i++) {
    const char *name =
        sy_catalog_known_at(cat, i, &kind, &version, &desc, &file);
    CU_ASSERT_PTR_NOT_NULL_FATAL(name);
    CU_ASSERT(version && *version && desc && *desc);
    if (kind == SY_KIND_SINK && strcmp(name, "beta") == 0)
      saw_beta = file && strcmp(file, good2) == 0;
  }
  CU_ASSERT(saw_beta);
  CU_ASSERT(!is_loaded(good) && !is_loaded(good2));
  /* A lookup loads that one file, hashed as an eager load hashes it. */
  p = sy_catalog_find(cat, SY_KIND_FEED, "alpha");
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  CU_ASSERT_PTR_NOT_NULL(p->options);
  CU_ASSERT(is_loaded(good));
  CU_ASSERT(!is_loaded(good2));
  CU_ASSERT_EQUAL(sy__catalog_code_hash(cat, p, lazy_code), 1);
  CU_ASSERT(memcmp(eager_code, lazy_code, 16) == 0);
  const char *origin = NULL;
  const sy_plugin *plugin = NULL;
  CU_ASSERT_EQUAL(sy_catalog_origin(cat, p, &origin, &plugin), 0);
  CU_ASSERT(origin && strcmp(origin, good) == 0);
  CU_ASSERT(plugin && strcmp(plugin->name, "fx-good") == 0);
  CU_ASSERT_PTR_NULL(sy_catalog_find(cat, SY_KIND_RUNNER, "nothing"));
  CU_ASSERT(!is_loaded(good2));
  /* What needs everything loads everything. */
  CU_ASSERT_EQUAL(sy_catalog_count(cat), 4);
  CU_ASSERT(is_loaded(good2));
  sy_catalog_free(cat);
}

/* Without sy_catalog_set_lazy a scan is what it always was: everything
 * loaded, nothing written into the folder. */
static void test_lazy_is_opt_in(void) {
  two_plugins();
  sy_catalog *cat = NULL;
  sy_error err;
  CU_ASSERT_FATAL(sy_catalog_new(&cat) == 0);
  CU_ASSERT_EQUAL(sy_catalog_scan_dir(cat, dir, 0, &err), 0);
  CU_ASSERT(is_loaded(in_dir("good.so")) && is_loaded(in_dir("good2.so")));
  CU_ASSERT(access(manifest_path(), F_OK) != 0);
  sy_catalog_free(cat);
}

/* ---- a stale manifest ------------------------------------------------- */

static void test_lazy_stale_records_are_read_again(void) {
  two_plugins();
  const char *good = in_dir("good.so"), *good2 = in_dir("good2.so");
  sy_catalog_free(lazy_scan());

  /* Touched (same size, new mtime): read again at the scan. */
  struct timespec times[2] = {{1000000000, 0}, {1000000000, 0}};
  CU_ASSERT_FATAL(utimensat(AT_FDCWD, good, times, 0) == 0);
  sy_catalog *cat = lazy_scan();
  CU_ASSERT(is_loaded(good));
  CU_ASSERT(!is_loaded(good2));
  sy_catalog_free(cat);
  CU_ASSERT(manifest_has("mtime = 1000000000000000000"));

  /* Replaced by another plugin (another size): what it offers now. */
  CU_ASSERT_FATAL(put_fixture("fx_duplicate", "good2.so") == 0);
  cat = lazy_scan();
  CU_ASSERT(is_loaded(good2));
  CU_ASSERT_PTR_NOT_NULL(sy_catalog_find(cat, SY_KIND_SINK, "only_here"));
  CU_ASSERT_PTR_NULL(sy_catalog_find(cat, SY_KIND_SINK, "beta"));
  sy_catalog_free(cat);
  CU_ASSERT(manifest_has("[provider sink only_here]"));
  CU_ASSERT(!manifest_has("[provider sink beta]"));

  /* Removed: gone from the list and from the manifest. */
  CU_ASSERT_FATAL(unlink(good2) == 0);
  cat = lazy_scan();
  CU_ASSERT_EQUAL(sy_catalog_known_count(cat), 2);
  CU_ASSERT(!is_loaded(good));
  sy_catalog_free(cat);
  CU_ASSERT(!manifest_has("good2.so"));
  CU_ASSERT(manifest_valid());

  /* Added: read at the scan, the others still wait. */
  CU_ASSERT_FATAL(put_fixture("fx_good2", "new.so") == 0);
  cat = lazy_scan();
  CU_ASSERT(is_loaded(in_dir("new.so")));
  CU_ASSERT(!is_loaded(good));
  CU_ASSERT_EQUAL(sy_catalog_known_count(cat), 4);
  sy_catalog_free(cat);
  CU_ASSERT(manifest_has("[plugin new.so]"));
}

/* ---- a corrupt or untrusted manifest ------------------------------------ */

static void check_rebuilt(const char *what) {
  sy_catalog *cat = lazy_scan();
  CU_ASSERT_EQUAL(sy_catalog_known_count(cat), 4);
  CU_ASSERT_EQUAL(sy_catalog_problem_count(cat), 0);
  /* Not trusted, so everything was read again... */
  CU_ASSERT(is_loaded(in_dir("good.so")) && is_loaded(in_dir("good2.so")));
  sy_catalog_free(cat);
  /* ...and the manifest is whole again. */
  CU_ASSERT(manifest_valid());
  if (!manifest_valid())
    fprintf(stderr, "\n  not rebuilt after: %s\n", what);
}

static void test_lazy_corrupt_manifest_is_rebuilt(void) {
  two_plugins();
  sy_catalog_free(lazy_scan());
  size_t len = 0;
  char *good_text = fx_read_all(manifest_path(), &len);
  CU_ASSERT_FATAL(good_text != NULL && len > 100);
  char *cut = strndup(good_text, len / 2);
  static const char nul[] = "[switchyard-manifest]\nformat = 1\n\0\n";
  const struct {
    const char *what;
    const char *text;
    size_t len;
  } bad[] = {
      {"garbage",
       "\x7f"
       "ELF\x01\x02 not a manifest \xff\xfe",
       25},
      {"cut in half", cut, strlen(cut)},
      {"a NUL byte", nul, sizeof nul - 1},
      {"empty", "", 0},
      {"another core", "[switchyard-manifest]\nformat = 1\ncore = x\n", 41},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    int fd = open(manifest_path(), O_WRONLY | O_TRUNC);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_FATAL(write(fd, bad[i].text, bad[i].len) == (ssize_t)bad[i].len);
    close(fd);
    check_rebuilt(bad[i].what);
  }
  /* Group-writable: whoever could write it is not trusted. */
  CU_ASSERT_FATAL(chmod(manifest_path(), 0664) == 0);
  check_rebuilt("group-writable");
  /* A link is not followed. */
  CU_ASSERT_FATAL(unlink(manifest_path()) == 0);
  char elsewhere[PATH_CAP];
  join(elsewhere, fx_tmpdir, "m");
  FILE *f = fopen(elsewhere, "w");
  CU_ASSERT_FATAL(f != NULL);
  fputs(good_text, f);
  fclose(f);
  CU_ASSERT_FATAL(symlink(elsewhere, manifest_path()) == 0);
  check_rebuilt("a symlink");
  free(cut);
  free(good_text);
}

/* Every prefix and many one-byte changes of a valid manifest: the parser
 * never crashes, and what it accepts is well formed. */
static void test_lazy_parse_never_trusts_text(void) {
  two_plugins();
  sy_catalog_free(lazy_scan());
  size_t len = 0;
  char *text = fx_read_all(manifest_path(), &len);
  CU_ASSERT_FATAL(text != NULL);
  sy__manifest m;
  CU_ASSERT_EQUAL(sy__manifest_parse(text, len, &m), 0);
  CU_ASSERT_EQUAL(m.nfiles, 2);
  sy__manifest_free(&m);
  size_t accepted = 0;
  for (size_t n = 0; n < len; n++) {
    if (sy__manifest_parse(text, n, &m) == 0) {
      accepted++;
      CU_ASSERT(m.nfiles <= 2);
      for (size_t i = 0; i < m.nfiles; i++)
        CU_ASSERT(m.files[i].nprovs > 0 && m.files[i].provs[0].description);
    }
    sy__manifest_free(&m);
  }
  /* Only cuts at the end of a whole record (and trailing blanks). */
  CU_ASSERT(accepted < 16);
  static const char swaps[] = {'\n', '\0', ']', '[', '=', '"', '9', 'x', ' '};
  char *copy = malloc(len);
  CU_ASSERT_FATAL(copy != NULL);
  for (size_t i = 0; i < len; i++) {
    for (size_t s = 0; s < sizeof swaps; s++) {
      memcpy(copy, text, len);
      copy[i] = swaps[s];
      if (sy__manifest_parse(copy, len, &m) == 0)
        for (size_t f = 0; f < m.nfiles; f++)
          CU_ASSERT(m.files[f].name && m.files[f].nprovs > 0);
      sy__manifest_free(&m);
    }
  }
  free(copy);
  free(text);
}

/* The reference for sy__manifest_storable, one byte at a time: not empty,
 * no control byte (below 0x20, or 0x7f), and not both kinds of quote. */
static int storable_ref(const char *s) {
  if (!*s)
    return 0;
  int dq = 0, sq = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p < 0x20 || *p == 0x7f)
      return 0;
    dq |= *p == '"';
    sq |= *p == '\'';
  }
  return !(dq && sq);
}

/* The word-at-a-time check agrees with the reference for every byte value
 * at every position of strings of 1 to 19 bytes, on several fillers
 * (0x80-0xff ones included, where a borrow could mislead it). */
static void test_lazy_storable_matches_bytewise(void) {
  static const unsigned char fill[] = {'a', ' ', '~', 0x80, 0xff, 0xc3, '"'};
  char s[24];
  size_t checked = 0, wrong = 0;
  for (size_t f = 0; f < sizeof fill; f++)
    for (size_t len = 1; len < 20; len++)
      for (size_t at = 0; at < len; at++)
        for (int b = 1; b < 256; b++) {
          memset(s, fill[f], len);
          s[len] = '\0';
          s[at] = (char)b;
          checked++;
          wrong += sy__manifest_storable(s) != storable_ref(s);
        }
  CU_ASSERT(checked > 300000);
  CU_ASSERT_EQUAL(wrong, 0);
  /* Two bytes that each break it, in one word and across words. */
  CU_ASSERT_FALSE(sy__manifest_storable("abc\tdefgh"));
  CU_ASSERT_FALSE(sy__manifest_storable("abcdefgh\x7f"));
  CU_ASSERT_FALSE(sy__manifest_storable("it's \"quoted\""));
  CU_ASSERT_TRUE(sy__manifest_storable("R\xc2\xb2 of a \"model\""));
  CU_ASSERT_FALSE(sy__manifest_storable(""));
  CU_ASSERT_FALSE(sy__manifest_storable(NULL));
}

/* ---- clashes are decided as when everything is loaded ------------------ */

static void problems_of(const sy_catalog *cat, char *out, size_t cap) {
  out[0] = '\0';
  for (size_t i = 0; i < sy_catalog_problem_count(cat); i++) {
    const char *file = NULL, *reason = NULL;
    sy_catalog_problem_at(cat, i, &file, &reason);
    size_t used = strlen(out);
    snprintf(out + used, cap - used, "%s: %s\n", file, reason);
  }
}

static void test_lazy_clashes_as_eager(void) {
  fx_tmpdir_reset();
  must_fit(snprintf(dir, sizeof dir, "%s/plug", fx_tmpdir), sizeof dir);
  CU_ASSERT_FATAL(mkdir(dir, 0755) == 0 && chmod(dir, 0755) == 0);
  CU_ASSERT_FATAL(put_fixture("fx_good", "1_good.so") == 0);
  CU_ASSERT_FATAL(put_fixture("fx_duplicate", "2_dup.so") == 0);
  CU_ASSERT_FATAL(put_fixture("fx_good", "3_copy.so") == 0);
  const char *good = in_dir("1_good.so"), *dup = in_dir("2_dup.so"),
             *copy = in_dir("3_copy.so");
  char eager[4096], lazy[4096];
  sy_catalog *cat = lazy_scan(); /* no manifest: everything loaded */
  problems_of(cat, eager, sizeof eager);
  CU_ASSERT_EQUAL(sy_catalog_problem_count(cat), 2);
  sy_catalog_free(cat);

  cat = lazy_scan();
  problems_of(cat, lazy, sizeof lazy);
  CU_ASSERT_STRING_EQUAL(lazy, eager);
  CU_ASSERT(!is_loaded(good) && !is_loaded(dup) && !is_loaded(copy));
  CU_ASSERT_EQUAL(sy_catalog_known_count(cat), 3);
  /* zeta is 1_good's, so only 1_good is loaded for it. */
  const sy_provider *zeta = sy_catalog_find(cat, SY_KIND_RUNNER, "zeta");
  const char *file = NULL;
  CU_ASSERT_EQUAL(sy_catalog_origin(cat, zeta, &file, NULL), 0);
  CU_ASSERT(file && strcmp(file, good) == 0);
  CU_ASSERT(is_loaded(good) && !is_loaded(dup));
  /* Loading 2_dup for its own sink reports nothing new. */
  CU_ASSERT_PTR_NOT_NULL(sy_catalog_find(cat, SY_KIND_SINK, "only_here"));
  CU_ASSERT(is_loaded(dup));
  CU_ASSERT_EQUAL(sy_catalog_problem_count(cat), 2);
  /* The copy that only clashes is never loaded. */
  CU_ASSERT_EQUAL(sy_catalog_count(cat), 3);
  CU_ASSERT(!is_loaded(copy));
  CU_ASSERT_EQUAL(sy_catalog_problem_count(cat), 2);
  sy_catalog_free(cat);
}

/* ---- a manifest that lies ----------------------------------------------- */

/* A record that claims a provider its file does not offer (edited, or a
 * plugin whose descriptor changes without the file changing): the name
 * is listed until the file is loaded, then it is gone, and the manifest
 * is written again with what the file really offers. */
static void test_lazy_lying_record_is_corrected(void) {
  two_plugins();
  sy_catalog_free(lazy_scan());
  char *text = fx_read_all(manifest_path(), NULL);
  CU_ASSERT_FATAL(text != NULL);
  char *rec = strstr(text, "[plugin good.so]");
  CU_ASSERT_FATAL(rec != NULL);
  char *count = strstr(rec, "providers = 2\n");
  CU_ASSERT_FATAL(count != NULL);
  size_t head = (size_t)(count - text);
  FILE *f = fopen(manifest_path(), "w");
  CU_ASSERT_FATAL(f != NULL);
  fprintf(f,
          "%.*sproviders = 3\n[provider sink ghost]\nversion = \"1\"\n"
          "description = \"not there\"\n%s",
          (int)head, text, count + strlen("providers = 2\n"));
  fclose(f);
  free(text);
  CU_ASSERT_FATAL(manifest_valid());

  sy_catalog *cat = lazy_scan();
  CU_ASSERT_EQUAL(sy_catalog_known_count(cat), 5);
  CU_ASSERT(!is_loaded(in_dir("good.so")));
  CU_ASSERT_PTR_NULL(sy_catalog_find(cat, SY_KIND_SINK, "ghost"));
  CU_ASSERT(is_loaded(in_dir("good.so")));
  CU_ASSERT_EQUAL(sy_catalog_known_count(cat), 4);
  CU_ASSERT_PTR_NOT_NULL(sy_catalog_find(cat, SY_KIND_RUNNER, "zeta"));
  sy_catalog_free(cat);
  CU_ASSERT(manifest_valid());
  CU_ASSERT(!manifest_has("ghost"));
}

/* A record's content hash spares reading the file, but only while the
 * record still describes it: any write to the file changes its ctime,
 * and then the file is read and hashed again. */
static void test_lazy_recorded_code_only_while_fresh(void) {
  two_plugins();
  sy_catalog *cat = lazy_scan();
  uint8_t real_code[16], code[16];
  const sy_provider *p = sy_catalog_find(cat, SY_KIND_FEED, "alpha");
  CU_ASSERT_EQUAL_FATAL(sy__catalog_code_hash(cat, p, real_code), 1);
  sy_catalog_free(cat);
  CU_ASSERT_FATAL(manifest_has("\ncode = "));
  /* Forge good.so's recorded hash: a loader that uses the record (the
   * file unchanged) must report the forged value. */
  char *text = fx_read_all(manifest_path(), NULL);
  CU_ASSERT_FATAL(text != NULL);
  char *rec = strstr(text, "[plugin good.so]");
  char *line = rec ? strstr(rec, "\ncode = ") : NULL;
  CU_ASSERT_FATAL(line != NULL);
  memset(line + 8, 'a', 32);
  FILE *f = fopen(manifest_path(), "w");
  CU_ASSERT_FATAL(f != NULL);
  fputs(text, f);
  CU_ASSERT_EQUAL_FATAL(fclose(f), 0);
  free(text);
  CU_ASSERT_FATAL(manifest_valid());
  cat = lazy_scan();
  p = sy_catalog_find(cat, SY_KIND_FEED, "alpha");
  CU_ASSERT_EQUAL(sy__catalog_code_hash(cat, p, code), 1);
  for (int i = 0; i < 16; i++)
    CU_ASSERT_EQUAL(code[i], 0xaa);
  sy_catalog_free(cat);
  /* chmod changes the file's ctime: the record is stale, the file is
   * hashed again, and the manifest gets the real hash back. */
  CU_ASSERT_FATAL(chmod(in_dir("good.so"), 0700) == 0 &&
                  chmod(in_dir("good.so"), 0755) == 0);
  cat = lazy_scan();
  p = sy_catalog_find(cat, SY_KIND_FEED, "alpha");
  CU_ASSERT_EQUAL(sy__catalog_code_hash(cat, p, code), 1);
  CU_ASSERT(memcmp(code, real_code, 16) == 0);
  sy_catalog_free(cat);
  CU_ASSERT(!manifest_has("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

/* ---- where the manifest lives ------------------------------------------- */

static void test_lazy_cache_when_folder_not_writable(void) {
  two_plugins();
  char home[PATH_CAP];
  join(home, fx_tmpdir, "home");
  CU_ASSERT_FATAL(mkdir(home, 0755) == 0);
  setenv("HOME", home, 1);
  unsetenv("XDG_CACHE_HOME");
  char *cache = sy__manifest_cache_path(dir);
  CU_ASSERT_PTR_NOT_NULL_FATAL(cache);
  char want[PATH_CAP];
  must_fit(snprintf(want, sizeof want, "%s/.cache/switchyard-plugins/", home),
           sizeof want);
  CU_ASSERT(strncmp(cache, want, strlen(want)) == 0);
  CU_ASSERT_EQUAL(sy__manifest_cache_prepare(cache), 0);
  struct stat st;
  CU_ASSERT(stat(want, &st) == 0 && (st.st_mode & 0777) == 0700);
  if (geteuid() == 0) {
    /* root writes every folder: the fallback cannot be seen from here. */
    free(cache);
    return;
  }
  CU_ASSERT_FATAL(chmod(dir, 0555) == 0);
  sy_catalog_free(lazy_scan());
  CU_ASSERT(access(manifest_path(), F_OK) != 0);
  CU_ASSERT(access(cache, F_OK) == 0);
  sy_catalog *cat = lazy_scan();
  CU_ASSERT(!is_loaded(in_dir("good.so")));
  CU_ASSERT_EQUAL(sy_catalog_known_count(cat), 4);
  sy_catalog_free(cat);
  chmod(dir, 0755);
  free(cache);
}

int main(void) {
  const char *top = getenv("top_builddir");
  must_fit(snprintf(fixture_dir, sizeof fixture_dir, "%s/tests/providers/.libs",
                    top && *top ? top : "."),
           sizeof fixture_dir);
  char probe[PATH_CAP];
  must_fit(snprintf(probe, sizeof probe, "%s/fx_good.so", fixture_dir),
           sizeof probe);
  if (access(probe, R_OK) != 0) {
    fprintf(stderr, "test_lazy: fixture %s not found (%s); run make check\n",
            probe, strerror(errno));
    return 99;
  }
  if (fx_tmpdir_make("/tmp/sy-lazy-XXXXXX") != 0 || chmod(fx_tmpdir, 0755))
    return 99;
  static const CU_TestInfo tests[] = {
#define T(fn) {#fn, fn}
      T(test_lazy_second_scan_loads_nothing),
      T(test_lazy_is_opt_in),
      T(test_lazy_stale_records_are_read_again),
      T(test_lazy_corrupt_manifest_is_rebuilt),
      T(test_lazy_parse_never_trusts_text),
      T(test_lazy_storable_matches_bytewise),
      T(test_lazy_clashes_as_eager),
      T(test_lazy_lying_record_is_corrected),
      T(test_lazy_recorded_code_only_while_fresh),
      T(test_lazy_cache_when_folder_not_writable),
#undef T
      CU_TEST_INFO_NULL};
  int rc = fx_run_suite("lazy", NULL, NULL, tests);
  fx_tmpdir_remove();
  return rc;
}
