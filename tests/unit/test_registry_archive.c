/*
 * test_registry_archive.c - the registry-archive provider.
 *
 * The provider's source is compiled into this binary (see Makefile.am; its
 * entry.c is left out) and driven through its descriptor with config
 * structs filled by hand, as the core would fill them from the option
 * table. Each test works in its own temporary folder.
 *
 * Hostile archives are built here with libarchive's writer (or by hand,
 * for a tar header that claims 2 GiB): every one must be refused with a
 * message naming the entry and the reason, must never make anything appear
 * outside the registry, and must never be "repaired" by a write. Crash
 * safety is tested by killing a committing child with SIGKILL at random
 * moments; concurrency by four forked writers.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "../../providers/registry-archive/registry_archive.h"
#include "fixture.h"

/* ---- helpers ----------------------------------------------------------- */

static char reg[320]; /* the registry archive's path in fx_tmpdir */

static int make_tmpdir(void) {
  if (fx_tmpdir_make("/tmp/sy-regarchive-XXXXXX") != 0)
    return -1;
  snprintf(reg, sizeof reg, "%s/reg/registry.tar", fx_tmpdir);
  return 0;
}

static int suite_init(void) {
  return make_tmpdir();
}
static int suite_clean(void) {
  fx_tmpdir_remove();
  return 0;
}

static void reset_tmpdir(void) {
  fx_tmpdir_remove();
  CU_ASSERT_FATAL(make_tmpdir() == 0);
  char d[300];
  snprintf(d, sizeof d, "%s/reg", fx_tmpdir);
  CU_ASSERT_FATAL(mkdir(d, 0755) == 0);
}

static const sy_registry_ops *ops(void) {
  return registry_archive_provider.ops;
}

static void *open_reg(const char *path, int format, int compression,
                      uint64_t max_entry) {
  registry_archive_config c = {path, format, compression, max_entry};
  void *self = NULL;
  sy_error err;
  sy_error_clear(&err);
  int rc = registry_archive_provider.create(&c, &self, &err);
  if (rc)
    fprintf(stderr, "\ncreate: %s\n", err.message);
  CU_ASSERT_EQUAL_FATAL(rc, 0);
  return self;
}

static void *open_default(void) {
  return open_reg(reg, RA_FORMAT_TAR, RA_COMPRESS_NONE, (uint64_t)1 << 30);
}

static sy_value *text(const char *s) {
  sy_value *v = NULL;
  CU_ASSERT_FATAL(sy_bytes_new(s, strlen(s), "text/plain", &v) == 0);
  return v;
}

static sy_value *frame(int64_t seed) {
  sy_value *f = NULL;
  int64_t n[3] = {seed, seed + 1, seed + 2};
  double x[3] = {0.5 * (double)seed, -1.0, 1e300};
  const char *s[3] = {"a", NULL, "c,d"};
  CU_ASSERT_FATAL(sy_frame_new(3, &f) == 0);
  CU_ASSERT_FATAL(sy_frame_add_i64(f, "n", n, NULL) == 0);
  CU_ASSERT_FATAL(sy_frame_add_f64(f, "x", x, NULL) == 0);
  CU_ASSERT_FATAL(sy_frame_add_str(f, "s", s) == 0);
  return f;
}

/* The text of a bytes value, NUL-terminated (caller frees). */
static char *text_of(const sy_value *v) {
  size_t len = 0;
  const void *d = sy_bytes_data(v, &len);
  char *s = malloc(len + 1);
  memcpy(s, d, len);
  s[len] = '\0';
  return s;
}

/* Collects a listing as "project/release/generation " words. */
typedef struct listing {
  char text[8192];
  size_t n;
  int stop_after; /* 0 = never */
} listing;

static int collect(void *ud, const sy_registry_entry *e) {
  listing *l = ud;
  size_t len = strlen(l->text);
  snprintf(l->text + len, sizeof l->text - len, "%s/%s/%u ", e->project,
           e->release, e->generation);
  CU_ASSERT_EQUAL(e->size, sizeof *e);
  CU_ASSERT(e->mtime > 0);
  l->n++;
  return l->stop_after && l->n == (size_t)l->stop_after ? 42 : 0;
}

static int put_rel(void *r, const char *p, const char *rel, sy_error *err) {
  sy_value *m = text(rel);
  int rc = ops()->put_release(r, p, rel, m, err);
  sy_value_unref(m);
  return rc;
}

static int put_gen(void *r, const char *p, const char *rel, const char *tag,
                   uint32_t *g, sy_error *err) {
  sy_value *s = text(tag), *t = text(tag);
  int rc = ops()->put_generation(r, p, rel, s, t, g, err);
  sy_value_unref(s);
  sy_value_unref(t);
  return rc;
}

static bool file_exists(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0;
}

/* Whole file content (caller frees) and its length. */
static unsigned char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  rewind(f);
  unsigned char *b = malloc((size_t)n + 1);
  *len = fread(b, 1, (size_t)n, f);
  fclose(f);
  return b;
}

/* How many names in the registry's folder start with `prefix`. */
static int count_in_reg(const char *prefix) {
  char d[300];
  snprintf(d, sizeof d, "%s/reg", fx_tmpdir);
  DIR *dir = opendir(d);
  int n = 0;
  struct dirent *de;
  while (dir && (de = readdir(dir)) != NULL)
    n += strncmp(de->d_name, prefix, strlen(prefix)) == 0;
  if (dir)
    closedir(dir);
  return n;
}

/* ---- hostile archives --------------------------------------------------- */

typedef struct hent {
  const char *name;
  mode_t type;         /* 0 = regular file */
  const char *symlink; /* set: a symbolic link to this */
  const char *hardlink;
  const char *value; /* the entry holds text(value) encoded; NULL = raw */
  const char *raw;   /* used when value is NULL */
  size_t len;        /* raw: bytes of raw (0: strlen) */
  bool nosize;       /* leave the header's size unset */
} hent;

/* Writes an archive at path with libarchive's writer. */
static void build(const char *path, int zip, int gzip, const hent *ents,
                  size_t n) {
  struct archive *w = archive_write_new();
  CU_ASSERT_FATAL(w != NULL);
  if (zip)
    archive_write_set_format_zip(w);
  else
    archive_write_set_format_pax_restricted(w);
  if (gzip)
    archive_write_add_filter_gzip(w);
  archive_write_set_bytes_in_last_block(w, 1);
  CU_ASSERT_FATAL(archive_write_open_filename(w, path) == ARCHIVE_OK);
  for (size_t i = 0; i < n; i++) {
    const hent *h = &ents[i];
    void *buf = NULL;
    size_t len = 0;
    if (h->value) {
      sy_value *v = text(h->value);
      CU_ASSERT_FATAL(sy_value_encode(v, &buf, &len) == 0);
      sy_value_unref(v);
    } else if (h->raw) {
      len = h->len ? h->len : strlen(h->raw);
      buf = malloc(len);
      memcpy(buf, h->raw, len);
    }
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, h->name);
    archive_entry_set_filetype(e, h->symlink ? AE_IFLNK
                                  : h->type  ? h->type
                                             : AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_mtime(e, 1700000000, 0);
    if (h->symlink)
      archive_entry_set_symlink(e, h->symlink);
    if (h->hardlink)
      archive_entry_set_hardlink(e, h->hardlink);
    if (!h->nosize)
      archive_entry_set_size(e, (la_int64_t)len);
    CU_ASSERT_FATAL(archive_write_header(w, e) >= ARCHIVE_WARN);
    if (len)
      CU_ASSERT(archive_write_data(w, buf, len) == (la_ssize_t)len);
    archive_entry_free(e);
    free(buf);
  }
  CU_ASSERT_FATAL(archive_write_close(w) == ARCHIVE_OK);
  archive_write_free(w);
}

/* Opens the hostile archive at `reg` and checks that every operation is
 * refused with `code` and a message holding `what` and `why`, that a
 * write does not change the archive, and that nothing else appears. */
static void expect_refused(uint64_t max_entry, int code, const char *what,
                           const char *why) {
  void *r = open_reg(reg, RA_FORMAT_TAR, RA_COMPRESS_NONE, max_entry);
  sy_error err;
  listing l = {.n = 0};
  size_t before_len = 0, after_len = 0;
  unsigned char *before = slurp(reg, &before_len);
  sy_value *m = NULL, *s = NULL, *t = NULL;
  char *found = NULL;
  uint32_t g = 0;

  sy_error_clear(&err);
  CU_ASSERT_EQUAL(ops()->list(r, NULL, NULL, collect, &l, &err), code);
  if (getenv("SHOWMSG") || !strstr(err.message, what) ||
      !strstr(err.message, why))
    fprintf(stderr, "\nmessage: %s\n", err.message);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, what));
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, why));
  CU_ASSERT_EQUAL(l.n, 0);
  CU_ASSERT_EQUAL(ops()->get_release(r, "p", NULL, &m, &found, &err), code);
  CU_ASSERT_PTR_NULL(m);
  CU_ASSERT_PTR_NULL(found);
  CU_ASSERT_EQUAL(ops()->get_generation(r, "p", "1", 0, &s, &t, &g, &err),
                  code);
  CU_ASSERT_EQUAL(put_rel(r, "p", "9", &err), code);
  CU_ASSERT_EQUAL(put_gen(r, "p", "1", "x", &g, &err), code);
  CU_ASSERT_EQUAL(ops()->remove(r, "p", "1", 0, &err), code);

  /* The archive is untouched, no temporary file is left, and no entry
   * was ever written out as a file (the names aim at fx_tmpdir/ and reg/). */
  unsigned char *after = slurp(reg, &after_len);
  CU_ASSERT_EQUAL(before_len, after_len);
  CU_ASSERT(before && after && memcmp(before, after, before_len) == 0);
  CU_ASSERT_EQUAL(count_in_reg("registry.tar.tmp"), 0);
  char p[400];
  const char *outside[] = {"evil", "reg/evil", "reg/p", "abs", "p"};
  for (size_t i = 0; i < sizeof outside / sizeof *outside; i++) {
    snprintf(p, sizeof p, "%s/%s", fx_tmpdir, outside[i]);
    CU_ASSERT(!file_exists(p));
  }
  CU_ASSERT(!file_exists("/abs/path"));
  free(before);
  free(after);
  registry_archive_provider.destroy(r);
}

/* ---- tests --------------------------------------------------------------- */

static void test_registry_archive_descriptor(void) {
  const sy_provider *p = &registry_archive_provider;
  CU_ASSERT_EQUAL(p->size, sizeof(sy_provider));
  CU_ASSERT_EQUAL(p->kind, SY_KIND_REGISTRY);
  CU_ASSERT_STRING_EQUAL(p->name, "archive");
  CU_ASSERT_EQUAL(ops()->size, sizeof(sy_registry_ops));
  for (const sy_option *o = p->options; o->name; o++) {
    CU_ASSERT_PTR_NOT_NULL(o->help);
    CU_ASSERT(o->offset < p->config_size);
  }
}

static void test_registry_archive_version_compare(void) {
  static const struct {
    const char *a, *b;
    int want;
  } cases[] = {
      {"1", "1", 0},
      {"1.10", "1.9", 1},
      {"1.9", "1.10", -1},
      {"2", "10", -1},
      {"1.0", "1", 1},
      {"1", "1.0", -1},
      {"0.0.1", "0.0.0.9", 1},
      {"1-rc", "1", -1},
      {"1.0-rc.9", "1.0-rc.10", -1},
      {"3.0", "2.99.99", 1},
      {"123456789012345678901234567890", "123456789012345678901234567891", -1},
      {"99999999999999999999", "100000000000000000000", -1},
      /* Invalid (stored before the check): older than every valid one. */
      {"1.a", "1.2", -1},
      {"01", "0", -1},
      {"1.0.", "1.0", -1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    int got = registry_archive_version_compare(cases[i].a, cases[i].b);
    int back = registry_archive_version_compare(cases[i].b, cases[i].a);
    if (got != cases[i].want)
      fprintf(stderr, "\n%s vs %s: %d, want %d\n", cases[i].a, cases[i].b, got,
              cases[i].want);
    CU_ASSERT_EQUAL(got, cases[i].want);
    CU_ASSERT_EQUAL(back, -cases[i].want);
  }
}

static void test_registry_archive_create_checks(void) {
  reset_tmpdir();
  sy_error err;
  void *self = NULL;
  registry_archive_config c = {"", RA_FORMAT_TAR, RA_COMPRESS_NONE, 1};
  CU_ASSERT_EQUAL(registry_archive_provider.create(&c, &self, &err),
                  SY_ECONFIG);
  c.path = "/tmp/dir/";
  CU_ASSERT_EQUAL(registry_archive_provider.create(&c, &self, &err),
                  SY_ECONFIG);
  c.path = reg;
  c.max_entry = 0;
  CU_ASSERT_EQUAL(registry_archive_provider.create(&c, &self, &err),
                  SY_ECONFIG);
  CU_ASSERT_PTR_NULL(self);
  /* Debian's libarchive has zstd, so every combination is available. */
  for (int f = 0; f < 2; f++)
    for (int z = 0; z < 3; z++)
      registry_archive_provider.destroy(open_reg(reg, f, z, 1024));
  /* create() writes nothing. */
  CU_ASSERT_EQUAL(count_in_reg("registry"), 0);
}

static void test_registry_archive_empty(void) {
  reset_tmpdir();
  void *r = open_default();
  sy_error err;
  listing l = {.n = 0};
  sy_value *m = NULL, *s = NULL, *t = NULL;
  CU_ASSERT_EQUAL(ops()->list(r, NULL, NULL, collect, &l, &err), 0);
  CU_ASSERT_EQUAL(l.n, 0);
  CU_ASSERT_EQUAL(ops()->get_release(r, "p", NULL, &m, NULL, &err), SY_ENOENT);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "the registry is empty"));
  CU_ASSERT_EQUAL(ops()->get_generation(r, "p", "1", 0, &s, &t, NULL, &err),
                  SY_ENOENT);
  CU_ASSERT_EQUAL(put_gen(r, "p", "1", "x", NULL, &err), SY_ENOENT);
  /* An empty (0-byte) file is a truncated archive, not an empty
   * registry: every archive written has an end-of-archive record. It is
   * refused, and no write replaces it. */
  FILE *f = fopen(reg, "wb");
  fclose(f);
  CU_ASSERT_EQUAL(ops()->list(r, NULL, NULL, collect, &l, &err), SY_ECORRUPT);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, reg));
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "empty (0 bytes)"));
  CU_ASSERT_EQUAL(put_rel(r, "p", "1", &err), SY_ECORRUPT);
  struct stat st;
  CU_ASSERT(stat(reg, &st) == 0 && st.st_size == 0);
  /* Removed, it is an empty registry again. */
  unlink(reg);
  CU_ASSERT_EQUAL(put_rel(r, "p", "1", &err), 0);
  CU_ASSERT_EQUAL(ops()->list(r, NULL, NULL, collect, &l, &err), 0);
  CU_ASSERT_STRING_EQUAL(l.text, "p/1/0 ");
  registry_archive_provider.destroy(r);
}

/* Names the core should have checked are checked again: nothing that
 * could leave the layout reaches the archive. */
static void test_registry_archive_refuses_bad_names(void) {
  reset_tmpdir();
  void *r = open_default();
  sy_error err;
  listing l = {.n = 0};
  char longname[700];
  memset(longname, 'a', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  CU_ASSERT_EQUAL(put_rel(r, "..", "1", &err), SY_EINVAL);
  CU_ASSERT_EQUAL(put_rel(r, "p", "../1", &err), SY_EINVAL);
  CU_ASSERT_EQUAL(put_rel(r, "p/q", "1", &err), SY_EINVAL);
  CU_ASSERT_EQUAL(put_rel(r, ".p", "1", &err), SY_EINVAL);
  CU_ASSERT_EQUAL(put_rel(r, longname, longname, &err), SY_EINVAL);
  CU_ASSERT_EQUAL(put_gen(r, "p", "", "x", NULL, &err), SY_EINVAL);
  CU_ASSERT_EQUAL(ops()->list(r, "a/b", NULL, collect, &l, &err), SY_EINVAL);
  CU_ASSERT(!file_exists(reg));
  CU_ASSERT_EQUAL(put_rel(r, longname, "1", &err), 0);
  CU_ASSERT_EQUAL(ops()->list(r, NULL, NULL, collect, &l, &err), 0);
  CU_ASSERT_EQUAL(l.n, 1);
  registry_archive_provider.destroy(r);
}

/* Every format and compression: releases, versions, generations, lists. */
static void test_registry_archive_round_trip(void) {
  static const char *fmt[] = {"tar", "zip"}, *cmp[] = {"none", "gzip", "zstd"};
  for (int f = 0; f < 2; f++) {
    for (int z = 0; z < 3; z++) {
      reset_tmpdir();
      void *r = open_reg(reg, f, z, (uint64_t)1 << 30);
      sy_error err;
      sy_error_clear(&err);
      uint32_t g = 0;
      fprintf(stderr, "[%s+%s] ", fmt[f], cmp[z]);

      CU_ASSERT_EQUAL(put_rel(r, "p", "1.0", &err), 0);
      CU_ASSERT_EQUAL(put_rel(r, "p", "1.2", &err), 0);
      CU_ASSERT_EQUAL(put_rel(r, "p", "1.10", &err), 0);
      CU_ASSERT_EQUAL(put_rel(r, "p", "1.9", &err), SY_EEXIST);
      CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "not newer"));
      CU_ASSERT_EQUAL(put_rel(r, "p", "1.10", &err), SY_EEXIST);
      CU_ASSERT_EQUAL(put_rel(r, "p", "1.010", &err), SY_EINVAL);
      CU_ASSERT_EQUAL(put_rel(r, "p", "a", &err), SY_EINVAL);
      CU_ASSERT_EQUAL(put_rel(r, "q", "0.1", &err), 0);

      sy_value *states = frame(7), *tag = text("first");
      CU_ASSERT_EQUAL(
          ops()->put_generation(r, "p", "1.10", states, tag, &g, &err), 0);
      CU_ASSERT_EQUAL(g, 1);
      CU_ASSERT_EQUAL(put_gen(r, "p", "1.10", "second", &g, &err), 0);
      CU_ASSERT_EQUAL(g, 2);
      CU_ASSERT_EQUAL(put_gen(r, "p", "1.2", "other", &g, &err), 0);
      CU_ASSERT_EQUAL(g, 1);
      CU_ASSERT_EQUAL(put_gen(r, "p", "7", "x", &g, &err), SY_ENOENT);
      CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "1.0, 1.2, 1.10"));

      /* The file is what was asked for. */
      size_t len = 0;
      unsigned char *b = slurp(reg, &len);
      CU_ASSERT_FATAL(b != NULL && len > 300);
      bool magic;
      if (z == RA_COMPRESS_GZIP)
        magic = b[0] == 0x1f && b[1] == 0x8b;
      else if (z == RA_COMPRESS_ZSTD)
        magic = b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd;
      else if (f == RA_FORMAT_ZIP)
        magic = memcmp(b, "PK\003\004", 4) == 0;
      else
        magic = memcmp(b + 257, "ustar", 5) == 0;
      CU_ASSERT(magic);
      free(b);

      sy_value *m = NULL, *s = NULL, *t = NULL;
      char *found = NULL;
      CU_ASSERT_EQUAL(ops()->get_release(r, "p", NULL, &m, &found, &err), 0);
      CU_ASSERT_STRING_EQUAL(found, "1.10");
      sy_value *want = text("1.10");
      CU_ASSERT(sy_value_equal(m, want));
      sy_value_unref(want);
      sy_value_unref(m);
      free(found);
      CU_ASSERT_EQUAL(ops()->get_release(r, "p", "1.2", &m, NULL, &err), 0);
      want = text("1.2");
      CU_ASSERT(sy_value_equal(m, want));
      sy_value_unref(want);
      sy_value_unref(m);
      CU_ASSERT_EQUAL(ops()->get_release(r, "p", "3", &m, NULL, &err),
                      SY_ENOENT);
      CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "releases: 1.0, 1.2, 1.10"));
      CU_ASSERT_EQUAL(ops()->get_release(r, "z", NULL, &m, NULL, &err),
                      SY_ENOENT);
      CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "projects: p, q"));

      uint32_t got = 0;
      CU_ASSERT_EQUAL(
          ops()->get_generation(r, "p", "1.10", 1, &s, &t, &got, &err), 0);
      CU_ASSERT_EQUAL(got, 1);
      CU_ASSERT(sy_value_equal(s, states));
      CU_ASSERT(sy_value_equal(t, tag));
      sy_value_unref(s);
      sy_value_unref(t);
      CU_ASSERT_EQUAL(
          ops()->get_generation(r, "p", "1.10", 0, &s, &t, &got, &err), 0);
      CU_ASSERT_EQUAL(got, 2);
      char *tt = text_of(t);
      CU_ASSERT_STRING_EQUAL(tt, "second");
      free(tt);
      sy_value_unref(s);
      sy_value_unref(t);
      CU_ASSERT_EQUAL(
          ops()->get_generation(r, "p", "1.10", 3, &s, &t, &got, &err),
          SY_ENOENT);
      CU_ASSERT_EQUAL(
          ops()->get_generation(r, "p", "1.0", 0, &s, &t, &got, &err),
          SY_ENOENT);
      CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "no generations"));
      sy_value_unref(states);
      sy_value_unref(tag);

      listing l = {.n = 0};
      CU_ASSERT_EQUAL(ops()->list(r, NULL, NULL, collect, &l, &err), 0);
      CU_ASSERT_STRING_EQUAL(l.text, "p/1.0/0 p/1.2/0 p/1.2/1 p/1.10/0 "
                                     "p/1.10/1 p/1.10/2 q/0.1/0 ");
      memset(&l, 0, sizeof l);
      CU_ASSERT_EQUAL(ops()->list(r, "p", "1.10", collect, &l, &err), 0);
      CU_ASSERT_STRING_EQUAL(l.text, "p/1.10/0 p/1.10/1 p/1.10/2 ");
      memset(&l, 0, sizeof l);
      CU_ASSERT_EQUAL(ops()->list(r, "q", NULL, collect, &l, &err), 0);
      CU_ASSERT_STRING_EQUAL(l.text, "q/0.1/0 ");
      /* A visitor's non-zero return stops the walk and is returned. */
      memset(&l, 0, sizeof l);
      l.stop_after = 2;
      CU_ASSERT_EQUAL(ops()->list(r, NULL, NULL, collect, &l, &err), 42);
      CU_ASSERT_EQUAL(l.n, 2);
      CU_ASSERT_EQUAL(count_in_reg("registry.tar.tmp"), 0);
      registry_archive_provider.destroy(r);
    }
  }
}

/* Another format or compression reads what was written before and
 * converts the archive at its next write. */
static void test_registry_archive_reads_any_format(void) {
  reset_tmpdir();
  void *zip = open_reg(reg, RA_FORMAT_ZIP, RA_COMPRESS_GZIP, 1 << 20);
  void *tar = open_reg(reg, RA_FORMAT_TAR, RA_COMPRESS_ZSTD, 1 << 20);
  sy_error err;
  listing l = {.n = 0};
  CU_ASSERT_EQUAL(put_rel(zip, "p", "1", &err), 0);
  CU_ASSERT_EQUAL(put_gen(zip, "p", "1", "a", NULL, &err), 0);
  CU_ASSERT_EQUAL(put_gen(tar, "p", "1", "b", NULL, &err), 0);
  CU_ASSERT_EQUAL(ops()->list(zip, NULL, NULL, collect, &l, &err), 0);
  CU_ASSERT_STRING_EQUAL(l.text, "p/1/0 p/1/1 p/1/2 ");
  sy_value *s = NULL, *t = NULL;
  CU_ASSERT_EQUAL(ops()->get_generation(zip, "p", "1", 1, &s, &t, NULL, &err),
                  0);
  char *tt = text_of(t);
  CU_ASSERT_STRING_EQUAL(tt, "a");
  free(tt);
  sy_value_unref(s);
  sy_value_unref(t);
  registry_archive_provider.destroy(zip);
  registry_archive_provider.destroy(tar);
}

static void test_registry_archive_refuses_dotdot(void) {
  reset_tmpdir();
  hent e[] = {{.name = "../evil", .value = "x"}};
  build(reg, 0, 0, e, 1);
  expect_refused(1 << 20, SY_EPERM, "'../evil'", "'..' component");
  hent e2[] = {{.name = "p/1/manifest", .value = "m"},
               {.name = "p/../../evil", .value = "x"}};
  build(reg, 0, 0, e2, 2);
  expect_refused(1 << 20, SY_EPERM, "'p/../../evil'", "'..' component");
  /* The same in a gzip-compressed zip. */
  build(reg, 1, 1, e, 1);
  expect_refused(1 << 20, SY_EPERM, "'../evil'", "'..' component");
}

static void test_registry_archive_refuses_absolute(void) {
  reset_tmpdir();
  hent e[] = {{.name = "/abs/path", .value = "x"}};
  build(reg, 0, 0, e, 1);
  expect_refused(1 << 20, SY_EPERM, "'/abs/path'", "absolute path");
  build(reg, 1, 0, e, 1);
  expect_refused(1 << 20, SY_EPERM, "'/abs/path'", "absolute path");
}

static void test_registry_archive_refuses_links_and_devices(void) {
  reset_tmpdir();
  hent sym[] = {{.name = "p/1/manifest", .symlink = "/etc/passwd"}};
  build(reg, 0, 0, sym, 1);
  expect_refused(1 << 20, SY_EPERM, "'p/1/manifest'",
                 "symbolic link (to '/etc/passwd')");
  hent hard[] = {{.name = "p/0/manifest", .value = "m"},
                 {.name = "p/1/manifest", .hardlink = "p/0/manifest"}};
  build(reg, 0, 0, hard, 2);
  expect_refused(1 << 20, SY_EPERM, "'p/1/manifest'",
                 "hard link (to 'p/0/manifest')");
  hent dev[] = {{.name = "p/1/manifest", .type = AE_IFCHR}};
  build(reg, 0, 0, dev, 1);
  expect_refused(1 << 20, SY_EPERM, "'p/1/manifest'", "character device");
  hent fifo[] = {{.name = "p/1/manifest", .type = AE_IFIFO}};
  build(reg, 0, 0, fifo, 1);
  expect_refused(1 << 20, SY_EPERM, "'p/1/manifest'", "FIFO");
}

/* A ustar header for a regular file claiming `size` bytes. */
static void tar_header(unsigned char h[512], const char *name,
                       unsigned long long size) {
  memset(h, 0, 512);
  memcpy(h, name, strlen(name));
  memcpy(h + 100, "0000644", 8);
  memcpy(h + 108, "0000000", 8);
  memcpy(h + 116, "0000000", 8);
  snprintf((char *)h + 124, 12, "%011llo", size);
  snprintf((char *)h + 136, 12, "%011o", 1700000000u);
  memset(h + 148, ' ', 8);
  h[156] = '0';
  memcpy(h + 257, "ustar", 6);
  memcpy(h + 263, "00", 2);
  unsigned sum = 0;
  for (int i = 0; i < 512; i++)
    sum += h[i];
  snprintf((char *)h + 148, 8, "%06o", sum);
}

static void test_registry_archive_refuses_huge_claims(void) {
  reset_tmpdir();
  /* A header claiming 2 GiB followed by a few bytes. */
  unsigned char h[1024];
  tar_header(h, "p/1/manifest", 2ull << 30);
  memset(h + 512, 'A', 512);
  FILE *f = fopen(reg, "wb");
  CU_ASSERT_FATAL(f != NULL);
  fwrite(h, 1, sizeof h, f);
  fclose(f);
  expect_refused((uint64_t)1 << 30, SY_ETOOBIG, "'p/1/manifest'",
                 "claims 2147483648 bytes, more than max_entry (1073741824)");
  /* An honest header above a small max_entry. */
  hent big[] = {{.name = "p/1/manifest",
                 .value = "0123456789012345678901"
                          "23456789012345678901"}};
  build(reg, 0, 0, big, 1);
  expect_refused(64, SY_ETOOBIG, "'p/1/manifest'", "more than max_entry (64)");
  /* No size in the header at all (a zip entry streamed through gzip):
   * the bytes are counted as they are read. */
  hent nosize[] = {{.name = "p/1/manifest",
                    .value = "0123456789012345678901234567890123456789012345"
                             "67890123456789",
                    .nosize = true}};
  build(reg, 1, 1, nosize, 1);
  expect_refused(64, SY_ETOOBIG, "'p/1/manifest'", "more than max_entry (64)");
}

static void test_registry_archive_refuses_truncated(void) {
  char big[70000];
  for (size_t i = 0; i < sizeof big - 1; i++)
    big[i] = (char)('a' + (i * 7919) % 26);
  big[sizeof big - 1] = '\0';
  for (int kind = 0; kind < 4; kind++) {
    reset_tmpdir();
    hent e[] = {{.name = "p/1/manifest", .value = big}};
    build(reg, kind >= 2, kind % 2, e, 1);
    size_t len = 0;
    unsigned char *b = slurp(reg, &len);
    CU_ASSERT_FATAL(b != NULL);
    FILE *f = fopen(reg, "wb");
    fwrite(b, 1, len / 2, f);
    fclose(f);
    free(b);
    expect_refused(1 << 20, SY_ECORRUPT, reg, "");
  }
  /* A header that claims more than is there. */
  reset_tmpdir();
  unsigned char h[1024];
  tar_header(h, "p/1/manifest", 4000);
  memset(h + 512, 'A', 512);
  FILE *f = fopen(reg, "wb");
  fwrite(h, 1, sizeof h, f);
  fclose(f);
  expect_refused(1 << 20, SY_ECORRUPT, "'p/1/manifest'", "runcated");
}

static void test_registry_archive_refuses_bad_layout(void) {
  reset_tmpdir();
  hent readme[] = {{.name = "README", .raw = "hello"}};
  build(reg, 0, 0, readme, 1);
  expect_refused(1 << 20, SY_ECORRUPT, "'README'",
                 "not part of the registry layout");
  hent zero[] = {{.name = "p/1/manifest", .value = "m"},
                 {.name = "p/1/01/states", .value = "s"},
                 {.name = "p/1/01/tag", .value = "t"}};
  build(reg, 0, 0, zero, 3);
  expect_refused(1 << 20, SY_ECORRUPT, "'p/1/01/states'", "layout");
  hent dot[] = {{.name = "p/.hidden/manifest", .value = "m"}};
  build(reg, 0, 0, dot, 1);
  expect_refused(1 << 20, SY_ECORRUPT, "'p/.hidden/manifest'", "layout");
  hent half[] = {{.name = "p/1/manifest", .value = "m"},
                 {.name = "p/1/1/states", .value = "s"}};
  build(reg, 0, 0, half, 2);
  expect_refused(1 << 20, SY_ECORRUPT, "'p/1/1'", "lacks its tag");
  hent orphan[] = {{.name = "p/1/1/states", .value = "s"},
                   {.name = "p/1/1/tag", .value = "t"}};
  build(reg, 0, 0, orphan, 2);
  expect_refused(1 << 20, SY_ECORRUPT, "'p/1/1/states'", "has no manifest");
  hent twice[] = {{.name = "p/1/manifest", .value = "m"},
                  {.name = "p/1/manifest", .value = "n"}};
  build(reg, 0, 0, twice, 2);
  expect_refused(1 << 20, SY_ECORRUPT, "'p/1/manifest'", "appears twice");
  /* A control character in a name is quoted harmlessly. */
  hent ctl[] = {{.name = "p/1/\033[2Jmanifest", .value = "m"}};
  build(reg, 0, 0, ctl, 1);
  expect_refused(1 << 20, SY_ECORRUPT, "'p/1/?[2Jmanifest'", "layout");
}

/* Not an archive at all; and an mtree text, which libarchive's "all
 * formats" would follow to a file on the local disk. */
static void test_registry_archive_refuses_non_archives(void) {
  reset_tmpdir();
  FILE *f = fopen(reg, "wb");
  fputs("this is not an archive, just some text that goes on for a while "
        "so that no format can claim it\n",
        f);
  fclose(f);
  expect_refused(1 << 20, SY_ECORRUPT, reg, "");
  /* The mtree names a real encoded value as the manifest's contents. */
  char val[400];
  snprintf(val, sizeof val, "%s/value.bin", fx_tmpdir);
  sy_value *v = text("stolen");
  void *buf;
  size_t len;
  CU_ASSERT_FATAL(sy_value_encode(v, &buf, &len) == 0);
  f = fopen(val, "wb");
  fwrite(buf, 1, len, f);
  fclose(f);
  free(buf);
  sy_value_unref(v);
  f = fopen(reg, "wb");
  fprintf(f, "#mtree\np/1/manifest type=file contents=%s\n", val);
  fclose(f);
  expect_refused(1 << 20, SY_ECORRUPT, reg, "");
}

/* A layout-valid entry whose bytes are no encoded value: listing works,
 * reading it names the entry. */
static void test_registry_archive_bad_value(void) {
  reset_tmpdir();
  hent e[] = {{.name = "p/1/manifest", .raw = "not a value"}};
  build(reg, 0, 0, e, 1);
  void *r = open_default();
  sy_error err;
  listing l = {.n = 0};
  sy_value *m = NULL;
  CU_ASSERT_EQUAL(ops()->list(r, NULL, NULL, collect, &l, &err), 0);
  CU_ASSERT_STRING_EQUAL(l.text, "p/1/0 ");
  CU_ASSERT_EQUAL(ops()->get_release(r, "p", "1", &m, NULL, &err), SY_ECORRUPT);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "entry 'p/1/manifest': value:"));
  CU_ASSERT_PTR_NULL(m);
  /* Directory entries other tools write are fine. */
  hent dirs[] = {{.name = "p/", .type = AE_IFDIR},
                 {.name = "p/1/", .type = AE_IFDIR},
                 {.name = "p/1/manifest", .value = "m"},
                 {.name = "p/1/1", .type = AE_IFDIR},
                 {.name = "p/1/1/states", .value = "s"},
                 {.name = "p/1/1/tag", .value = "t"}};
  build(reg, 0, 0, dirs, 6);
  memset(&l, 0, sizeof l);
  CU_ASSERT_EQUAL(ops()->list(r, NULL, NULL, collect, &l, &err), 0);
  CU_ASSERT_STRING_EQUAL(l.text, "p/1/0 p/1/1 ");
  CU_ASSERT_EQUAL(put_gen(r, "p", "1", "u", NULL, &err), 0);
  memset(&l, 0, sizeof l);
  CU_ASSERT_EQUAL(ops()->list(r, NULL, NULL, collect, &l, &err), 0);
  CU_ASSERT_STRING_EQUAL(l.text, "p/1/0 p/1/1 p/1/2 ");
  registry_archive_provider.destroy(r);
}

/* Four processes commit five generations each at once: twenty distinct
 * generations, none lost. */
static void test_registry_archive_concurrent_writers(void) {
  reset_tmpdir();
  void *r = open_default();
  sy_error err;
  CU_ASSERT_EQUAL_FATAL(put_rel(r, "p", "1", &err), 0);
  pid_t kids[4];
  for (int c = 0; c < 4; c++) {
    kids[c] = fork();
    CU_ASSERT_FATAL(kids[c] >= 0);
    if (kids[c] == 0) {
      alarm(120); /* never hang the suite */
      void *mine = open_default();
      int bad = 0;
      for (int k = 0; k < 5; k++) {
        char tag[32];
        snprintf(tag, sizeof tag, "c%d-k%d", c, k);
        bad |= put_gen(mine, "p", "1", tag, NULL, &err) != 0;
      }
      registry_archive_provider.destroy(mine);
      _exit(bad);
    }
  }
  for (int c = 0; c < 4; c++) {
    int st = 0;
    CU_ASSERT(waitpid(kids[c], &st, 0) == kids[c]);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }
  listing l = {.n = 0};
  CU_ASSERT_EQUAL(ops()->list(r, "p", "1", collect, &l, &err), 0);
  CU_ASSERT_EQUAL(l.n, 21);
  int seen[4][5] = {{0}};
  for (uint32_t g = 1; g <= 20; g++) {
    sy_value *s = NULL, *t = NULL;
    uint32_t got = 0;
    CU_ASSERT_EQUAL_FATAL(
        ops()->get_generation(r, "p", "1", g, &s, &t, &got, &err), 0);
    CU_ASSERT_EQUAL(got, g);
    char *tt = text_of(t);
    int c = -1, k = -1;
    CU_ASSERT(sscanf(tt, "c%d-k%d", &c, &k) == 2);
    if (c >= 0 && c < 4 && k >= 0 && k < 5)
      seen[c][k]++;
    free(tt);
    sy_value_unref(s);
    sy_value_unref(t);
  }
  for (int c = 0; c < 4; c++)
    for (int k = 0; k < 5; k++)
      CU_ASSERT_EQUAL(seen[c][k], 1);
  registry_archive_provider.destroy(r);
}

/* Reads every generation of p/1 and checks that states and tag agree;
 * returns how many there are (generations must be 1..n). */
static uint32_t check_whole(void *r) {
  sy_error err;
  listing l = {.n = 0};
  int rc = ops()->list(r, "p", "1", collect, &l, &err);
  if (rc)
    fprintf(stderr, "\nlist: %s\n", err.message);
  CU_ASSERT_EQUAL_FATAL(rc, 0);
  uint32_t n = (uint32_t)l.n - 1;
  for (uint32_t g = 1; g <= n; g++) {
    sy_value *s = NULL, *t = NULL;
    CU_ASSERT_EQUAL_FATAL(
        ops()->get_generation(r, "p", "1", g, &s, &t, NULL, &err), 0);
    CU_ASSERT(sy_value_equal(s, t));
    sy_value_unref(s);
    sy_value_unref(t);
  }
  return n;
}

/* A child commits generations in a loop and is killed with SIGKILL at a
 * random moment, many times over: every time, the archive reads fully
 * and holds only whole generations, and none already seen is lost. */
/* ---- truncation, removal, whole releases (issue 10) --------------------- */

/* A registry archive cut anywhere (at an entry's boundary too, where
 * libarchive sees a plausible end of a tar) is refused naming the file,
 * and no write replaces it: never an empty or shorter registry that the
 * next train would renumber. */
static void test_registry_archive_truncated_anywhere(void) {
  for (int kind = 0; kind < 4; kind++) {
    reset_tmpdir();
    int fmt = kind >= 2 ? RA_FORMAT_ZIP : RA_FORMAT_TAR;
    int z = kind % 2 ? RA_COMPRESS_GZIP : RA_COMPRESS_NONE;
    void *r = open_reg(reg, fmt, z, (uint64_t)1 << 30);
    sy_error err;
    uint32_t g;
    CU_ASSERT_EQUAL_FATAL(put_rel(r, "p", "1", &err), 0);
    for (int i = 0; i < 3; i++)
      CU_ASSERT_EQUAL_FATAL(put_gen(r, "p", "1", "states", &g, &err), 0);
    registry_archive_provider.destroy(r);
    size_t len = 0;
    unsigned char *whole = slurp(reg, &len);
    CU_ASSERT_FATAL(whole != NULL && len > 200);
    size_t cuts[64], n = 0;
    cuts[n++] = 0;
    cuts[n++] = 1;
    cuts[n++] = 100;
    /* A tar at every block boundary; compressed or zip, at many bytes. */
    size_t step = kind == 0 ? 512 : len / 40 + 1;
    for (size_t c = step; c < len && n < 56; c += step)
      cuts[n++] = c;
    cuts[n++] = len - 1;
    cuts[n++] = len / 2;
    for (size_t i = 0; i < n; i++) {
      FILE *f = fopen(reg, "wb");
      fwrite(whole, 1, cuts[i], f);
      fclose(f);
      if (getenv("SHOWMSG"))
        fprintf(stderr, "\n[kind %d cut %zu of %zu]", kind, cuts[i], len);
      expect_refused((uint64_t)1 << 30, SY_ECORRUPT, reg, "");
    }
    free(whole);
  }
}

static void list_text(void *r, listing *l) {
  sy_error err;
  memset(l, 0, sizeof *l);
  CU_ASSERT_EQUAL(ops()->list(r, NULL, NULL, collect, l, &err), 0);
}

static void test_registry_archive_remove(void) {
  reset_tmpdir();
  void *r = open_default();
  sy_error err;
  listing l;
  uint32_t g = 0;
  sy_value *s = NULL, *t = NULL;
  CU_ASSERT_EQUAL(ops()->remove(r, "p", "1.0", 0, &err), SY_ENOENT);
  CU_ASSERT_EQUAL_FATAL(put_rel(r, "p", "1.0", &err), 0);
  for (int i = 0; i < 3; i++)
    CU_ASSERT_EQUAL_FATAL(put_gen(r, "p", "1.0", "x", &g, &err), 0);
  CU_ASSERT_EQUAL(ops()->remove(r, "p", "1.0", 3, &err), 0);
  list_text(r, &l);
  CU_ASSERT_STRING_EQUAL(l.text, "p/1.0/0 p/1.0/1 p/1.0/2 ");
  CU_ASSERT_EQUAL(ops()->get_generation(r, "p", "1.0", 3, &s, &t, &g, &err),
                  SY_ENOENT);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "was removed"));
  CU_ASSERT_EQUAL(ops()->remove(r, "p", "1.0", 3, &err), SY_ENOENT);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "already"));
  CU_ASSERT_EQUAL(ops()->remove(r, "p", "1.0", 9, &err), SY_ENOENT);
  /* The number stays taken: the next generation is 4, not 3. */
  CU_ASSERT_EQUAL(put_gen(r, "p", "1.0", "y", &g, &err), 0);
  CU_ASSERT_EQUAL(g, 4);
  CU_ASSERT_EQUAL(ops()->get_generation(r, "p", "1.0", 0, &s, &t, &g, &err), 0);
  CU_ASSERT_EQUAL(g, 4);
  sy_value_unref(s);
  sy_value_unref(t);
  /* Removing the latest leaves the one before it the latest. */
  CU_ASSERT_EQUAL(ops()->remove(r, "p", "1.0", 4, &err), 0);
  CU_ASSERT_EQUAL(ops()->get_generation(r, "p", "1.0", 0, &s, &t, &g, &err), 0);
  CU_ASSERT_EQUAL(g, 2);
  sy_value_unref(s);
  sy_value_unref(t);
  /* A whole release, with its generations and tombstones; the version
   * is free again, and the archive left is empty but whole. */
  CU_ASSERT_EQUAL(ops()->remove(r, "p", "1.0", 0, &err), 0);
  list_text(r, &l);
  CU_ASSERT_STRING_EQUAL(l.text, "");
  CU_ASSERT(file_exists(reg));
  CU_ASSERT_EQUAL(ops()->get_release(r, "p", "1.0", &s, NULL, &err), SY_ENOENT);
  CU_ASSERT_EQUAL(put_rel(r, "p", "1.0", &err), 0);
  CU_ASSERT_EQUAL(put_gen(r, "p", "1.0", "z", &g, &err), 0);
  CU_ASSERT_EQUAL(g, 1);
  CU_ASSERT_EQUAL(count_in_reg("registry.tar.tmp"), 0);
  registry_archive_provider.destroy(r);
}

/* Yields n generations, failing with SY_EIO at fail_at (0: never). */
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
  *states = frame(g->at);
  *tag = text(b);
  return 1;
}

static void test_registry_archive_release_all(void) {
  reset_tmpdir();
  void *r = open_default();
  sy_error err;
  listing l;
  uint32_t count = 0, g = 0;
  sy_value *m = text("manifest"), *s = NULL, *t = NULL;
  CU_ASSERT_EQUAL_FATAL(put_rel(r, "p", "1.0", &err), 0);
  size_t before_len = 0, after_len = 0;
  unsigned char *before = slurp(reg, &before_len);
  /* A failure half-way leaves the archive as it was. */
  gens broken = {5, 0, 3};
  CU_ASSERT_EQUAL(
      ops()->put_release_all(r, "p", "2.0", m, next_gen, &broken, &count, &err),
      SY_EIO);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "source broke at 3"));
  unsigned char *after = slurp(reg, &after_len);
  CU_ASSERT(before_len == after_len && memcmp(before, after, before_len) == 0);
  free(before);
  free(after);
  CU_ASSERT_EQUAL(count_in_reg("registry.tar.tmp"), 0);
  /* Whole. */
  gens ok = {5, 0, 0};
  CU_ASSERT_EQUAL(
      ops()->put_release_all(r, "p", "2.0", m, next_gen, &ok, &count, &err), 0);
  CU_ASSERT_EQUAL(count, 5);
  list_text(r, &l);
  CU_ASSERT_STRING_EQUAL(l.text, "p/1.0/0 p/2.0/0 p/2.0/1 p/2.0/2 p/2.0/3 "
                                 "p/2.0/4 p/2.0/5 ");
  CU_ASSERT_EQUAL(ops()->get_generation(r, "p", "2.0", 3, &s, &t, &g, &err), 0);
  sy_value *want = frame(3);
  CU_ASSERT(sy_value_equal(s, want));
  sy_value_unref(want);
  sy_value_unref(s);
  sy_value_unref(t);
  /* The version rules of put_release. */
  gens again = {1, 0, 0};
  CU_ASSERT_EQUAL(
      ops()->put_release_all(r, "p", "2.0", m, next_gen, &again, &count, &err),
      SY_EEXIST);
  again.at = 0;
  CU_ASSERT_EQUAL(
      ops()->put_release_all(r, "p", "1.5", m, next_gen, &again, &count, &err),
      SY_EEXIST);
  again.at = 0;
  CU_ASSERT_EQUAL(
      ops()->put_release_all(r, "p", "2.0.", m, next_gen, &again, &count, &err),
      SY_EINVAL);
  sy_value_unref(m);
  registry_archive_provider.destroy(r);
}

/* Versions stored before they were checked ("a", "1.0.") rank below every
 * valid one: they never block a release, the latest is a valid one, and
 * they can be read and removed by name. */
static void test_registry_archive_invalid_stored_versions(void) {
  reset_tmpdir();
  hent e[] = {{.name = "p/a/manifest", .value = "a"},
              {.name = "p/1.0/manifest", .value = "1.0"},
              {.name = "p/1.0./manifest", .value = "1.0."}};
  build(reg, 0, 0, e, 3);
  void *r = open_default();
  sy_error err;
  listing l;
  sy_value *m = NULL;
  char *found = NULL;
  CU_ASSERT_EQUAL(ops()->get_release(r, "p", NULL, &m, &found, &err), 0);
  CU_ASSERT_STRING_EQUAL(found, "1.0");
  sy_value_unref(m);
  free(found);
  CU_ASSERT_EQUAL(put_rel(r, "p", "1.1", &err), 0);
  CU_ASSERT_EQUAL(put_rel(r, "p", "0.5", &err), SY_EEXIST);
  list_text(r, &l);
  CU_ASSERT_STRING_EQUAL(l.text, "p/1.0./0 p/a/0 p/1.0/0 p/1.1/0 ");
  CU_ASSERT_EQUAL(ops()->get_release(r, "p", "a", &m, NULL, &err), 0);
  sy_value_unref(m);
  CU_ASSERT_EQUAL(ops()->remove(r, "p", "a", 0, &err), 0);
  CU_ASSERT_EQUAL(ops()->remove(r, "p", "1.0.", 0, &err), 0);
  list_text(r, &l);
  CU_ASSERT_STRING_EQUAL(l.text, "p/1.0/0 p/1.1/0 ");
  registry_archive_provider.destroy(r);
}

/* Reading every generation in turn reads the archive once (the snapshot
 * keeps its place), and a snapshot never outlives the file it came from. */
static void test_registry_archive_reads_in_order(void) {
  reset_tmpdir();
  void *r = open_default();
  sy_error err;
  uint32_t count = 0, g = 0;
  sy_value *m = text("manifest"), *s = NULL, *t = NULL;
  gens many = {300, 0, 0};
  CU_ASSERT_EQUAL_FATAL(
      ops()->put_release_all(r, "p", "1.0", m, next_gen, &many, &count, &err),
      0);
  sy_value_unref(m);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  /* In order, then backwards and out of order: the same values. */
  for (uint32_t i = 1; i <= 300; i++) {
    CU_ASSERT_EQUAL_FATAL(
        ops()->get_generation(r, "p", "1.0", i, &s, &t, &g, &err), 0);
    sy_value *want = frame(i);
    CU_ASSERT(sy_value_equal(s, want));
    sy_value_unref(want);
    sy_value_unref(s);
    sy_value_unref(t);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  for (uint32_t i = 300; i >= 1; i -= 37) {
    CU_ASSERT_EQUAL(ops()->get_generation(r, "p", "1.0", i, &s, &t, &g, &err),
                    0);
    sy_value *want = frame(i);
    CU_ASSERT(sy_value_equal(s, want));
    sy_value_unref(want);
    sy_value_unref(s);
    sy_value_unref(t);
    if (i <= 37)
      break;
  }
  /* Another instance (another process, as far as this one knows)
   * replaces the archive: the next read sees the new file. */
  void *other = open_default();
  CU_ASSERT_EQUAL(put_gen(other, "p", "1.0", "late", &g, &err), 0);
  CU_ASSERT_EQUAL(g, 301);
  registry_archive_provider.destroy(other);
  CU_ASSERT_EQUAL(ops()->get_generation(r, "p", "1.0", 0, &s, &t, &g, &err), 0);
  CU_ASSERT_EQUAL(g, 301);
  sy_value_unref(s);
  sy_value_unref(t);
  double secs =
      (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  if (getenv("SHOWMSG"))
    fprintf(stderr, "\n300 in-order reads: %.3f s\n", secs);
  registry_archive_provider.destroy(r);
}

static void test_registry_archive_crash_safety(void) {
  reset_tmpdir();
  void *r = open_default();
  sy_error err;
  CU_ASSERT_EQUAL_FATAL(put_rel(r, "p", "1", &err), 0);
  unsigned seed = 12345;
  uint32_t seen = 0;
  int kills_mid_write = 0;
  char *pad = malloc(20001);
  memset(pad, 'z', 20000);
  pad[20000] = '\0';
  for (int it = 0; it < 60; it++) {
    int pp[2];
    CU_ASSERT_FATAL(pipe(pp) == 0);
    pid_t kid = fork();
    CU_ASSERT_FATAL(kid >= 0);
    if (kid == 0) {
      alarm(60);
      signal(SIGPIPE, SIG_IGN); /* the parent stops listening early */
      close(pp[0]);
      void *mine = open_default();
      for (unsigned k = 0;; k++) {
        char *tag = malloc(20100);
        snprintf(tag, 20100, "it%d-k%u-%s", it, k, pad);
        if (put_gen(mine, "p", "1", tag, NULL, &err) != 0)
          _exit(1);
        free(tag);
        (void)!write(pp[1], "c", 1); /* one byte per commit */
      }
    }
    close(pp[1]);
    /* Every fourth time, let one commit finish first, so that the test
     * makes progress however slow the machine; the kill still lands at a
     * random moment of the commits that follow. */
    if (it % 4 == 0) {
      struct pollfd pfd = {pp[0], POLLIN, 0};
      char c;
      CU_ASSERT(poll(&pfd, 1, 60000) == 1 && read(pp[0], &c, 1) == 1);
    }
    close(pp[0]);
    seed = seed * 1103515245u + 12345u;
    struct timespec d = {0, (long)((seed >> 8) % 60000) * 1000L};
    nanosleep(&d, NULL);
    kill(kid, SIGKILL);
    int st = 0;
    CU_ASSERT(waitpid(kid, &st, 0) == kid);
    CU_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    kills_mid_write += count_in_reg("registry.tar.tmp") > 0;
    uint32_t now = check_whole(r);
    CU_ASSERT(now >= seen);
    seen = now;
  }
  free(pad);
  CU_ASSERT(seen >= 15);
  /* The next writer removes what killed writers left behind. */
  uint32_t g = 0;
  CU_ASSERT_EQUAL(put_gen(r, "p", "1", "last", &g, &err), 0);
  CU_ASSERT_EQUAL(g, seen + 1);
  CU_ASSERT_EQUAL(count_in_reg("registry.tar.tmp"), 0);
  fprintf(stderr, "[%u generations, %d kills left a temporary file] ", seen,
          kills_mid_write);
  registry_archive_provider.destroy(r);
}

/* Notes (ABI 1.4): kept beside a generation, replaced whole, listed in
 * order, removed with the generation, and a note of a missing generation
 * is a corrupt archive. */
static int note_words(void *ud, const char *name) {
  char *buf = ud;
  size_t len = strlen(buf);
  snprintf(buf + len, 256 - len, "%s ", name);
  return 0;
}

static void test_registry_archive_notes(void) {
  reset_tmpdir();
  void *r = open_default();
  sy_error err;
  sy_error_clear(&err);
  uint32_t g = 0, found = 0;
  CU_ASSERT_PTR_NOT_NULL_FATAL(ops()->put_note);
  CU_ASSERT_PTR_NOT_NULL_FATAL(ops()->get_note);
  CU_ASSERT_PTR_NOT_NULL_FATAL(ops()->list_notes);
  CU_ASSERT_EQUAL_FATAL(put_rel(r, "p", "1", &err), 0);
  sy_value *a = text("first"), *b = text("second"), *v = NULL;
  CU_ASSERT_EQUAL(ops()->put_note(r, "p", "1", 0, "eval", a, &found, &err),
                  SY_ENOENT); /* no generation yet */
  CU_ASSERT_EQUAL_FATAL(put_gen(r, "p", "1", "g1", &g, &err), 0);
  CU_ASSERT_EQUAL_FATAL(put_gen(r, "p", "1", "g2", &g, &err), 0);
  CU_ASSERT_EQUAL(ops()->put_note(r, "p", "1", 0, "eval", a, &found, &err), 0);
  CU_ASSERT_EQUAL(found, 2); /* 0: the latest */
  CU_ASSERT_EQUAL(ops()->put_note(r, "p", "1", 1, "zz-x_9", b, NULL, &err), 0);
  CU_ASSERT_EQUAL(ops()->put_note(r, "p", "1", 1, "eval", a, NULL, &err), 0);
  CU_ASSERT_EQUAL(ops()->put_note(r, "p", "1", 1, "eval", b, NULL, &err), 0);
  CU_ASSERT_EQUAL(ops()->get_note(r, "p", "1", 1, "eval", &v, &err), 0);
  char *t = v ? text_of(v) : NULL;
  CU_ASSERT_STRING_EQUAL(t ? t : "", "second"); /* replaced */
  free(t);
  sy_value_unref(v);
  v = NULL;
  CU_ASSERT_EQUAL(ops()->get_note(r, "p", "1", 2, "eval", &v, &err), 0);
  t = v ? text_of(v) : NULL;
  CU_ASSERT_STRING_EQUAL(t ? t : "", "first");
  free(t);
  sy_value_unref(v);
  v = NULL;
  CU_ASSERT_EQUAL(ops()->get_note(r, "p", "1", 2, "zz-x_9", &v, &err),
                  SY_ENOENT);
  CU_ASSERT_EQUAL(ops()->get_note(r, "p", "1", 7, "eval", &v, &err), SY_ENOENT);
  CU_ASSERT_EQUAL(ops()->put_note(r, "p", "1", 1, "Bad.Name", a, NULL, &err),
                  SY_EINVAL);
  CU_ASSERT_EQUAL(ops()->put_note(r, "p", "1", 1, "", a, NULL, &err),
                  SY_EINVAL);
  char words[256] = "";
  CU_ASSERT_EQUAL(ops()->list_notes(r, "p", "1", 1, note_words, words, &err),
                  0);
  CU_ASSERT_STRING_EQUAL(words, "eval zz-x_9 ");
  /* Every write went through a temporary file renamed over the archive. */
  CU_ASSERT_EQUAL(count_in_reg("registry.tar.tmp"), 0);
  /* Listing generations is not disturbed by notes. */
  listing l = {.text = ""};
  CU_ASSERT_EQUAL(ops()->list(r, "p", NULL, collect, &l, &err), 0);
  CU_ASSERT_STRING_EQUAL(l.text, "p/1/0 p/1/1 p/1/2 ");
  /* Removing generation 1 removes its notes. */
  CU_ASSERT_EQUAL(ops()->remove(r, "p", "1", 1, &err), 0);
  CU_ASSERT_EQUAL(ops()->list_notes(r, "p", "1", 1, note_words, words, &err),
                  SY_ENOENT);
  words[0] = '\0';
  CU_ASSERT_EQUAL(ops()->list_notes(r, "p", "1", 0, note_words, words, &err),
                  0);
  CU_ASSERT_STRING_EQUAL(words, "eval ");
  sy_value_unref(a);
  sy_value_unref(b);
  registry_archive_provider.destroy(r);
  /* A note whose generation is not there. */
  hent stray[] = {{.name = "p/1/manifest", .value = "m"},
                  {.name = "p/1/3/note.eval", .value = "n"}};
  build(reg, 0, 0, stray, 2);
  expect_refused(1 << 20, SY_ECORRUPT, "'p/1/3/note.eval'",
                 "a note of a generation that is not there");
  hent badname[] = {{.name = "p/1/manifest", .value = "m"},
                    {.name = "p/1/1/states", .value = "s"},
                    {.name = "p/1/1/tag", .value = "t"},
                    {.name = "p/1/1/note.A", .value = "n"}};
  build(reg, 0, 0, badname, 4);
  expect_refused(1 << 20, SY_ECORRUPT, "'p/1/1/note.A'", "layout");
}

int main(void) {
  static const CU_TestInfo tests[] = {
      {"descriptor", test_registry_archive_descriptor},
      {"version_compare", test_registry_archive_version_compare},
      {"create_checks", test_registry_archive_create_checks},
      {"empty", test_registry_archive_empty},
      {"refuses_bad_names", test_registry_archive_refuses_bad_names},
      {"round_trip", test_registry_archive_round_trip},
      {"reads_any_format", test_registry_archive_reads_any_format},
      {"refuses_dotdot", test_registry_archive_refuses_dotdot},
      {"refuses_absolute", test_registry_archive_refuses_absolute},
      {"refuses_links_and_devices",
       test_registry_archive_refuses_links_and_devices},
      {"refuses_huge_claims", test_registry_archive_refuses_huge_claims},
      {"refuses_truncated", test_registry_archive_refuses_truncated},
      {"refuses_bad_layout", test_registry_archive_refuses_bad_layout},
      {"refuses_non_archives", test_registry_archive_refuses_non_archives},
      {"bad_value", test_registry_archive_bad_value},
      {"concurrent_writers", test_registry_archive_concurrent_writers},
      {"crash_safety", test_registry_archive_crash_safety},
      {"truncated_anywhere", test_registry_archive_truncated_anywhere},
      {"remove", test_registry_archive_remove},
      {"release_all", test_registry_archive_release_all},
      {"invalid_stored_versions",
       test_registry_archive_invalid_stored_versions},
      {"reads_in_order", test_registry_archive_reads_in_order},
      {"notes", test_registry_archive_notes},
      CU_TEST_INFO_NULL,
  };
  return fx_run_suite("registry_archive", suite_init, suite_clean, tests);
}
