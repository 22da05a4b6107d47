/*
 * test_storage_file.c - the storage-file provider (the result cache).
 *
 * The provider's source is compiled into this binary (see Makefile.am;
 * entry.c is left out, so there is no sy_plugin_entry clash) and driven
 * through its descriptor with the config struct filled by hand, as the
 * core would fill it from the option table. Each test works in its own
 * temporary folder.
 *
 * Damage is made by hand: entry files are truncated at every length and
 * flipped at every byte, and re-sealed with a valid outer checksum where
 * the point is to reach the checks behind it. Concurrency is tested with
 * threads and with forked processes hammering the same keys, and crash
 * safety by SIGKILLing a writer at random moments: in every case a reader
 * must see either no entry or a whole, correct one.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include <CUnit/Basic.h>

#include "../../providers/storage-file/storage_file.h"
#include "fixture.h"

/* ---- helpers ----------------------------------------------------------- */

static const sy_storage_ops *ops;

/* A test that needs an empty temporary folder calls fx_tmpdir_reset(). */
static int suite_init(void) {
  ops = storage_file_provider.ops;
  return fx_tmpdir_make("/tmp/sy-storage-XXXXXX");
}

static int suite_clean(void) {
  fx_tmpdir_remove();
  return 0;
}

/* An instance on `dir` (the test folder when NULL). */
static void *open_cache(const char *dir) {
  storage_file_config cfg = {.path = dir ? dir : fx_tmpdir};
  void *self = NULL;
  sy_error err;
  sy_error_clear(&err);
  int rc = storage_file_provider.create(&cfg, &self, &err);
  if (rc)
    fprintf(stderr, "create: %s\n", err.message);
  CU_ASSERT_FATAL(rc == 0);
  return self;
}

static void close_cache(void *self) {
  storage_file_provider.destroy(self);
}

/* A key made from a number: 32 lowercase hex digits. */
static void make_key(unsigned i, char key[33]) {
  snprintf(key, 33, "%08x%08x%08x%08x", i * 2654435761u, i, ~i,
           i ^ 0x5a5a5a5au);
}

static void entry_file(const char *key, char *buf, size_t cap) {
  snprintf(buf, cap, "%s/%.2s/%s", fx_tmpdir, key, key);
}

static int file_exists(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0;
}

static uint8_t *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  uint8_t *buf = NULL;
  long n;
  if (!f)
    return NULL;
  if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
      fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) &&
      fread(buf, 1, (size_t)n, f) == (size_t)n) {
    *len = (size_t)n;
  } else {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  return buf;
}

static int write_file(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "wb");
  if (!f)
    return -1;
  int ok = fwrite(data, 1, len, f) == len;
  return fclose(f) == 0 && ok ? 0 : -1;
}

static sy_value *bytes_of(const char *text, const char *media) {
  sy_value *v = NULL;
  CU_ASSERT_FATAL(sy_bytes_new(text, strlen(text), media, &v) == 0);
  return v;
}

/* A frame with every column type and some null cells, varied by seed. */
static sy_value *frame_of(int seed, size_t rows) {
  sy_value *f = NULL;
  double *d = calloc(rows, sizeof *d);
  int64_t *i64 = calloc(rows, sizeof *i64);
  uint8_t *valid = calloc(rows, 1);
  const char **s = calloc(rows, sizeof *s);
  static const char *words[] = {"setosa", "versicolor", "virginica", ""};
  CU_ASSERT_FATAL(d && i64 && valid && s);
  for (size_t r = 0; r < rows; r++) {
    d[r] = seed * 0.5 + (double)r / 3.0;
    i64[r] = (int64_t)r * seed - 7;
    valid[r] = (uint8_t)((r + (size_t)seed) % 5 != 0);
    s[r] = (r % 7 == 3) ? NULL : words[(r + (size_t)seed) % 4];
  }
  CU_ASSERT_FATAL(sy_frame_new(rows, &f) == 0);
  CU_ASSERT_FATAL(sy_frame_add_f64(f, "x", d, valid) == 0);
  CU_ASSERT_FATAL(sy_frame_add_i64(f, "n", i64, NULL) == 0);
  CU_ASSERT_FATAL(sy_frame_add_str(f, "species", s) == 0);
  free(d);
  free(i64);
  free(valid);
  free(s);
  return f;
}

static void unref_all(sy_value **v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    sy_value_unref(v[i]);
    v[i] = NULL;
  }
}

/* Puts one entry; asserts success. */
static void put_ok(void *c, const char *key, sy_value *const *v, size_t n,
                   const char *label) {
  sy_error err;
  sy_error_clear(&err);
  int rc = ops->put(c, key, v, n, label, &err);
  if (rc)
    fprintf(stderr, "put: %s\n", err.message);
  CU_ASSERT_EQUAL(rc, 0);
}

/* Gets and asserts a hit equal to want[0..n). */
static void expect_hit(void *c, const char *key, sy_value *const *want,
                       size_t n) {
  sy_value *got[8] = {0};
  sy_error err;
  sy_error_clear(&err);
  CU_ASSERT_EQUAL_FATAL(ops->get(c, key, got, n, &err), 0);
  CU_ASSERT_STRING_EQUAL(err.message, "");
  for (size_t i = 0; i < n; i++) {
    CU_ASSERT_PTR_NOT_NULL(got[i]);
    CU_ASSERT(sy_value_equal(got[i], want[i]));
  }
  unref_all(got, n);
}

/* Gets with n outputs and asserts a damage miss: outputs NULL, code 0,
 * the note, and the file gone. */
static void expect_damaged(void *c, const char *key, size_t n) {
  sy_value *got[8];
  sy_error err;
  char path[512];
  for (size_t i = 0; i < 8; i++)
    got[i] = NULL;
  sy_error_clear(&err);
  CU_ASSERT_EQUAL(ops->get(c, key, got, n, &err), 0);
  for (size_t i = 0; i < n; i++)
    CU_ASSERT_PTR_NULL(got[i]);
  unref_all(got, n);
  CU_ASSERT_EQUAL(err.code, 0);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "was damaged and was removed"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, key));
  entry_file(key, path, sizeof path);
  CU_ASSERT_FALSE(file_exists(path));
}

/* Gets with n outputs and asserts a miss because the entry records
 * another key: outputs NULL, code 0, a note naming both keys' place, and
 * the file gone. */
static void expect_other_key(void *c, const char *key, size_t n) {
  sy_value *got[8] = {0};
  sy_error err;
  char path[512];
  sy_error_clear(&err);
  CU_ASSERT_EQUAL(ops->get(c, key, got, n, &err), 0);
  for (size_t i = 0; i < n; i++)
    CU_ASSERT_PTR_NULL(got[i]);
  unref_all(got, n);
  CU_ASSERT_EQUAL(err.code, 0);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "records another key"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, key));
  entry_file(key, path, sizeof path);
  CU_ASSERT_FALSE(file_exists(path));
}

/* Replaces the trailing checksum of an entry image with a valid one. */
static void reseal(uint8_t *buf, size_t len) {
  uint64_t h = XXH3_64bits(buf, len - 8);
  for (int i = 0; i < 8; i++)
    buf[len - 8 + i] = (uint8_t)(h >> (8 * i));
}

/* ---- round trips, misses ----------------------------------------------- */

static void test_storage_file_roundtrip_one(void) {
  fx_tmpdir_reset();
  void *c = open_cache(NULL);
  char key[33];
  make_key(1, key);
  sy_value *v[1] = {bytes_of("hello, cache", "text/plain")};
  put_ok(c, key, v, 1, "hello (std.test)");
  expect_hit(c, key, v, 1);
  /* The entry is where the layout says, and nothing else is left. */
  char path[512];
  entry_file(key, path, sizeof path);
  CU_ASSERT(file_exists(path));
  snprintf(path, sizeof path, "%s/%.2s", fx_tmpdir, key);
  DIR *d = opendir(path);
  CU_ASSERT_PTR_NOT_NULL_FATAL(d);
  int files = 0;
  for (struct dirent *de; (de = readdir(d));)
    files += de->d_name[0] != '.';
  closedir(d);
  CU_ASSERT_EQUAL(files, 1);
  unref_all(v, 1);
  close_cache(c);
}

static void test_storage_file_roundtrip_three(void) {
  fx_tmpdir_reset();
  void *c = open_cache(NULL);
  char key[33];
  make_key(2, key);
  sy_value *v[3] = {frame_of(3, 50), bytes_of("", NULL), frame_of(4, 0)};
  put_ok(c, key, v, 3, "split (std.head)");
  expect_hit(c, key, v, 3);
  /* A second instance on the same folder sees it (nothing is in memory). */
  void *c2 = open_cache(NULL);
  expect_hit(c2, key, v, 3);
  close_cache(c2);
  unref_all(v, 3);
  close_cache(c);
}

static void test_storage_file_big_value(void) {
  fx_tmpdir_reset();
  void *c = open_cache(NULL);
  char key[33];
  make_key(3, key);
  sy_value *v[2] = {frame_of(1, 200000), NULL};
  size_t len = 3u << 20;
  char *blob = malloc(len);
  CU_ASSERT_FATAL(blob != NULL);
  for (size_t i = 0; i < len; i++)
    blob[i] = (char)(i * 131 + (i >> 11));
  CU_ASSERT_FATAL(sy_bytes_new(blob, len, NULL, &v[1]) == 0);
  free(blob);
  put_ok(c, key, v, 2, NULL);
  expect_hit(c, key, v, 2);
  unref_all(v, 2);
  close_cache(c);
}

static void test_storage_file_miss(void) {
  fx_tmpdir_reset();
  void *c = open_cache(NULL);
  char key[33];
  make_key(4, key);
  sy_value *marker = bytes_of("x", NULL);
  sy_value *got[3] = {marker, marker, marker};
  sy_error err;
  sy_error_clear(&err);
  CU_ASSERT_EQUAL(ops->get(c, key, got, 3, &err), 0);
  CU_ASSERT_PTR_NULL(got[0]);
  CU_ASSERT_PTR_NULL(got[1]);
  CU_ASSERT_PTR_NULL(got[2]);
  CU_ASSERT_EQUAL(err.code, 0);
  CU_ASSERT_STRING_EQUAL(err.message, "");
  sy_value_unref(marker);
  close_cache(c);
}

static void test_storage_file_overwrite(void) {
  fx_tmpdir_reset();
  void *c = open_cache(NULL);
  char key[33];
  make_key(5, key);
  sy_value *a[2] = {bytes_of("first", NULL), frame_of(1, 5)};
  sy_value *b[2] = {bytes_of("second", NULL), frame_of(2, 9)};
  put_ok(c, key, a, 2, "a");
  put_ok(c, key, b, 2, "b");
  expect_hit(c, key, b, 2);
  put_ok(c, key, b, 2, "b");
  expect_hit(c, key, b, 2);
  unref_all(a, 2);
  unref_all(b, 2);
  close_cache(c);
}

/* ---- damage ------------------------------------------------------------ */

/* Puts a 3-output entry and returns its file image. */
static uint8_t *sample_entry(void *c, const char *key, sy_value **v,
                             size_t *len) {
  char path[512];
  v[0] = frame_of(7, 6);
  v[1] = bytes_of("{\"k\": 1}", "application/json");
  v[2] = bytes_of("tail", NULL);
  put_ok(c, key, v, 3, "sample (std.test)");
  entry_file(key, path, sizeof path);
  uint8_t *img = read_file(path, len);
  CU_ASSERT_PTR_NOT_NULL_FATAL(img);
  return img;
}

static void test_storage_file_every_truncation_is_a_miss(void) {
  fx_tmpdir_reset();
  void *c = open_cache(NULL);
  char key[33], path[512];
  sy_value *v[3];
  size_t len;
  make_key(6, key);
  uint8_t *img = sample_entry(c, key, v, &len);
  entry_file(key, path, sizeof path);
  for (size_t cut = 0; cut < len; cut++) {
    CU_ASSERT_FATAL(write_file(path, img, cut) == 0);
    expect_damaged(c, key, 3);
  }
  /* Trailing bytes are damage too. */
  uint8_t *longer = malloc(len + 1);
  memcpy(longer, img, len);
  longer[len] = 0;
  CU_ASSERT_FATAL(write_file(path, longer, len + 1) == 0);
  expect_damaged(c, key, 3);
  /* The whole image still reads back: the loop tested the cuts only. */
  CU_ASSERT_FATAL(write_file(path, img, len) == 0);
  expect_hit(c, key, v, 3);
  free(longer);
  free(img);
  unref_all(v, 3);
  close_cache(c);
}

static void test_storage_file_every_flip_is_a_miss(void) {
  fx_tmpdir_reset();
  void *c = open_cache(NULL);
  char key[33], path[512];
  sy_value *v[3];
  size_t len;
  make_key(7, key);
  uint8_t *img = sample_entry(c, key, v, &len);
  entry_file(key, path, sizeof path);
  static const uint8_t masks[] = {0x01, 0x80, 0xff};
  for (size_t at = 0; at < len; at++) {
    for (size_t m = 0; m < sizeof masks; m++) {
      img[at] ^= masks[m];
      CU_ASSERT_FATAL(write_file(path, img, len) == 0);
      expect_damaged(c, key, 3);
      img[at] ^= masks[m];
    }
  }
  free(img);
  unref_all(v, 3);
  close_cache(c);
}

/* Damage behind a valid outer checksum: the header and value checks must
 * catch it on their own. */
static void test_storage_file_resealed_damage_is_a_miss(void) {
  fx_tmpdir_reset();
  void *c = open_cache(NULL);
  char key[33], path[512];
  sy_value *v[3];
  size_t len;
  make_key(8, key);
  uint8_t *img = sample_entry(c, key, v, &len);
  uint8_t *bad = malloc(len + 16);
  entry_file(key, path, sizeof path);
  uint32_t label_len = img[12];
  size_t key_at = 16, label_at = STORAGE_FILE_FIXED;
  size_t lens_at = label_at + label_len;
  CU_ASSERT_FATAL(bad != NULL);
  CU_ASSERT_EQUAL(memcmp(img + key_at, key, 32), 0);

  /* Every byte of the header flipped (magic, version, counts, key, label,
   * lengths) and re-sealed: only the label may change and still read; a
   * changed key is another key's entry. */
  for (size_t at = 0; at < lens_at + 24; at++) {
    memcpy(bad, img, len);
    bad[at] ^= 0x04;
    reseal(bad, len);
    CU_ASSERT_FATAL(write_file(path, bad, len) == 0);
    if (at >= label_at && at < lens_at)
      expect_hit(c, key, v, 3);
    else if (at >= key_at && at < label_at)
      expect_other_key(c, key, 3);
    else
      expect_damaged(c, key, 3);
  }
  /* A flip inside an output's encoding: sy_value_decode refuses it. */
  memcpy(bad, img, len);
  bad[len - 8 - 12] ^= 0x10;
  reseal(bad, len);
  CU_ASSERT_FATAL(write_file(path, bad, len) == 0);
  expect_damaged(c, key, 3);
  /* Lengths that claim more than the file, and an extra tail re-sealed. */
  memcpy(bad, img, len);
  bad[lens_at + 7] = 0x7f;
  reseal(bad, len);
  CU_ASSERT_FATAL(write_file(path, bad, len) == 0);
  expect_damaged(c, key, 3);
  memcpy(bad, img, len - 8);
  memset(bad + len - 8, 0, 16);
  reseal(bad, len + 8);
  CU_ASSERT_FATAL(write_file(path, bad, len + 8) == 0);
  expect_damaged(c, key, 3);
  /* Two lengths swapped: the sum holds, the values do not decode. */
  memcpy(bad, img, len);
  memcpy(bad + lens_at, img + lens_at + 8, 8);
  memcpy(bad + lens_at + 8, img + lens_at, 8);
  reseal(bad, len);
  CU_ASSERT_FATAL(write_file(path, bad, len) == 0);
  expect_damaged(c, key, 3);
  /* Not a regular file. */
  CU_ASSERT_FATAL(mkdir(path, 0755) == 0);
  sy_value *got[3] = {0};
  sy_error err;
  sy_error_clear(&err);
  CU_ASSERT_EQUAL(ops->get(c, key, got, 3, &err), 0);
  CU_ASSERT_PTR_NULL(got[0]);
  CU_ASSERT_EQUAL(err.code, 0);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "damaged"));
  rmdir(path);
  free(bad);
  free(img);
  unref_all(v, 3);
  close_cache(c);
}

static void test_storage_file_wrong_n_is_a_miss(void) {
  fx_tmpdir_reset();
  void *c = open_cache(NULL);
  char key[33];
  make_key(9, key);
  sy_value *v[2] = {bytes_of("one", NULL), bytes_of("two", NULL)};
  put_ok(c, key, v, 2, "two");
  expect_damaged(c, key, 1);
  put_ok(c, key, v, 2, "two");
  expect_damaged(c, key, 3);
  put_ok(c, key, v, 2, "two");
  expect_hit(c, key, v, 2);
  unref_all(v, 2);
  close_cache(c);
}

/* ---- list, remove, keys, create ---------------------------------------- */

typedef struct seen {
  int count;
  int stop_after;
  char keys[16][300]; /* a key, or a temporary file's name */
  char labels[16][1100];
  uint64_t bytes[16];
  int64_t mtime[16];
  uint32_t outputs[16];
} seen;

static int collect(void *ud, const sy_storage_entry *e) {
  seen *s = ud;
  CU_ASSERT_EQUAL(e->size, sizeof *e);
  if (s->count < 16) {
    snprintf(s->keys[s->count], sizeof s->keys[0], "%s", e->key);
    snprintf(s->labels[s->count], sizeof s->labels[0], "%s", e->label);
    s->bytes[s->count] = e->bytes;
    s->mtime[s->count] = e->mtime;
    s->outputs[s->count] = e->outputs;
  }
  s->count++;
  return s->stop_after && s->count >= s->stop_after ? 42 : 0;
}

static int find_seen(const seen *s, const char *key) {
  for (int i = 0; i < s->count && i < 16; i++)
    if (strcmp(s->keys[i], key) == 0)
      return i;
  return -1;
}

static void test_storage_file_list(void) {
  fx_tmpdir_reset();
  void *c = open_cache(NULL);
  char k[4][33], path[512], other[512];
  sy_value *v[3] = {bytes_of("a", NULL), frame_of(2, 3), bytes_of("c", NULL)};
  char longlabel[1500];
  memset(longlabel, 'L', sizeof longlabel - 1);
  longlabel[sizeof longlabel - 1] = '\0';
  for (unsigned i = 0; i < 4; i++)
    make_key(100 + i, k[i]);
  put_ok(c, k[0], v, 1, "one (std.a)");
  put_ok(c, k[1], v, 3, "three (std.b)");
  put_ok(c, k[2], v, 2, longlabel);
  /* A damaged entry, a temporary file, a stray file, a key in the wrong
   * sub-folder. */
  put_ok(c, k[3], v, 1, "soon damaged");
  entry_file(k[3], path, sizeof path);
  CU_ASSERT_FATAL(write_file(path, "SYCE\1\0\0\0garbage", 15) == 0);
  snprintf(other, sizeof other, "%s/%.2s/.tmp.%s.1.2", fx_tmpdir, k[0], k[0]);
  CU_ASSERT_FATAL(write_file(other, "partial", 7) == 0);
  snprintf(other, sizeof other, "%s/README", fx_tmpdir);
  CU_ASSERT_FATAL(write_file(other, "hi", 2) == 0);
  snprintf(other, sizeof other, "%s/%.2s/%s", fx_tmpdir, k[0], k[1]);
  if (strncmp(k[0], k[1], 2) != 0)
    CU_ASSERT_FATAL(write_file(other, "misplaced", 9) == 0);

  seen s = {0};
  sy_error err;
  sy_error_clear(&err);
  time_t before = time(NULL);
  CU_ASSERT_EQUAL(ops->list(c, collect, &s, &err), 0);
  CU_ASSERT_EQUAL(s.count, 4);
  int i0 = find_seen(&s, k[0]), i1 = find_seen(&s, k[1]),
      i2 = find_seen(&s, k[2]), i3 = find_seen(&s, k[3]);
  CU_ASSERT_FATAL(i0 >= 0 && i1 >= 0 && i2 >= 0 && i3 >= 0);
  CU_ASSERT_STRING_EQUAL(s.labels[i0], "one (std.a)");
  CU_ASSERT_EQUAL(s.outputs[i0], 1);
  CU_ASSERT_STRING_EQUAL(s.labels[i1], "three (std.b)");
  CU_ASSERT_EQUAL(s.outputs[i1], 3);
  CU_ASSERT_EQUAL(strlen(s.labels[i2]), STORAGE_FILE_MAX_LABEL);
  CU_ASSERT_EQUAL(s.outputs[i2], 2);
  CU_ASSERT_STRING_EQUAL(s.labels[i3], "(damaged)");
  CU_ASSERT_EQUAL(s.outputs[i3], 0);
  CU_ASSERT_EQUAL(s.bytes[i3], 15);
  for (int i = 0; i < 3; i++) {
    struct stat st;
    entry_file(k[i], path, sizeof path);
    CU_ASSERT_FATAL(stat(path, &st) == 0);
    int at = find_seen(&s, k[i]);
    CU_ASSERT_EQUAL(s.bytes[at], (uint64_t)st.st_size);
    CU_ASSERT_EQUAL(s.mtime[at], (int64_t)st.st_mtime);
    CU_ASSERT(s.mtime[at] <= before + 1);
  }
  /* Listing does not repair: the damaged entry is still there. */
  entry_file(k[3], path, sizeof path);
  CU_ASSERT(file_exists(path));
  /* A visitor that returns non-zero stops the listing with its value. */
  seen stop = {0};
  stop.stop_after = 2;
  CU_ASSERT_EQUAL(ops->list(c, collect, &stop, &err), 42);
  CU_ASSERT_EQUAL(stop.count, 2);
  unref_all(v, 3);
  close_cache(c);

  /* An empty cache lists nothing, also once its folder is gone. */
  fx_tmpdir_reset();
  c = open_cache(NULL);
  seen none = {0};
  CU_ASSERT_EQUAL(ops->list(c, collect, &none, &err), 0);
  CU_ASSERT_EQUAL(none.count, 0);
  rmdir(fx_tmpdir);
  CU_ASSERT_EQUAL(ops->list(c, collect, &none, &err), 0);
  CU_ASSERT_EQUAL(none.count, 0);
  /* and a put makes it again. */
  char key[33];
  make_key(1, key);
  sy_value *one[1] = {bytes_of("back", NULL)};
  put_ok(c, key, one, 1, "back");
  expect_hit(c, key, one, 1);
  unref_all(one, 1);
  close_cache(c);
}

/* Asserts that list() shows `key` with `label`. */
static void seen_keys_labels_check(void *c, const char *key,
                                   const char *label) {
  seen s = {0};
  sy_error err;
  sy_error_clear(&err);
  CU_ASSERT_EQUAL(ops->list(c, collect, &s, &err), 0);
  int i = find_seen(&s, key);
  CU_ASSERT_FATAL(i >= 0);
  CU_ASSERT_STRING_EQUAL(s.labels[i], label);
}

/* An entry copied over another one's name is whole and well-formed, but
 * holds the other key's result: it must be a miss (and go away), never a
 * hit, while the original still hits. A rewrite then hits again. */
static void test_storage_file_copied_entry_is_a_miss(void) {
  fx_tmpdir_reset();
  void *c = open_cache(NULL);
  char ka[33], kb[33], pa[512], pb[512];
  make_key(21, ka);
  make_key(22, kb);
  sy_value *a[1] = {bytes_of("features", NULL)};
  sy_value *b[1] = {bytes_of("predictions", NULL)};
  put_ok(c, ka, a, 1, "apply scale (std.scaler)");
  put_ok(c, kb, b, 1, "apply model (std.logreg)");
  entry_file(ka, pa, sizeof pa);
  entry_file(kb, pb, sizeof pb);
  size_t len = 0;
  uint8_t *img = read_file(pa, &len);
  CU_ASSERT_PTR_NOT_NULL_FATAL(img);
  CU_ASSERT_FATAL(write_file(pb, img, len) == 0);
  /* list says so before get is asked. */
  seen_keys_labels_check(c, kb, "(records another key)");
  sy_value *got[1] = {NULL};
  sy_error err;
  sy_error_clear(&err);
  CU_ASSERT_EQUAL(ops->get(c, kb, got, 1, &err), 0);
  CU_ASSERT_PTR_NULL(got[0]);
  CU_ASSERT_EQUAL(err.code, 0);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, kb));
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, ka)); /* the key it held */
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "records another key"));
  CU_ASSERT_FALSE(file_exists(pb));
  expect_hit(c, ka, a, 1);
  /* Also in another sub-folder (a rename across them). */
  put_ok(c, kb, b, 1, "apply model (std.logreg)");
  expect_hit(c, kb, b, 1);
  CU_ASSERT_FATAL(rename(pb, pa) == 0);
  expect_other_key(c, ka, 1);
  free(img);
  unref_all(a, 1);
  unref_all(b, 1);
  close_cache(c);
}

/* An entry of format version 1 (no key in its header) is a miss, never an
 * error, and the next put rewrites it in the current format. */
static void test_storage_file_version1_is_a_miss(void) {
  fx_tmpdir_reset();
  void *c = open_cache(NULL);
  char key[33], path[512], sub[512];
  make_key(23, key);
  sy_value *v[1] = {bytes_of("old", NULL)};
  void *enc = NULL;
  size_t enc_len = 0;
  CU_ASSERT_FATAL(sy_value_encode(v[0], &enc, &enc_len) == 0);
  /* The version 1 layout: magic, 1, N, L, label, lengths, values, sum. */
  const char *label = "v1";
  size_t len = 16 + 2 + 8 + enc_len + 8;
  uint8_t *img = calloc(1, len);
  CU_ASSERT_FATAL(img != NULL);
  memcpy(img, "SYCE", 4);
  img[4] = 1;
  img[8] = 1;
  img[12] = 2;
  memcpy(img + 16, label, 2);
  for (int i = 0; i < 8; i++)
    img[18 + i] = (uint8_t)((uint64_t)enc_len >> (8 * i));
  memcpy(img + 26, enc, enc_len);
  reseal(img, len);
  snprintf(sub, sizeof sub, "%s/%.2s", fx_tmpdir, key);
  CU_ASSERT_FATAL(mkdir(sub, 0755) == 0);
  entry_file(key, path, sizeof path);
  CU_ASSERT_FATAL(write_file(path, img, len) == 0);
  sy_value *got[1] = {NULL};
  sy_error err;
  sy_error_clear(&err);
  CU_ASSERT_EQUAL(ops->get(c, key, got, 1, &err), 0);
  CU_ASSERT_PTR_NULL(got[0]);
  CU_ASSERT_EQUAL(err.code, 0);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "format version 1"));
  put_ok(c, key, v, 1, "v2");
  expect_hit(c, key, v, 1);
  size_t now_len = 0;
  uint8_t *now = read_file(path, &now_len);
  CU_ASSERT_PTR_NOT_NULL_FATAL(now);
  CU_ASSERT_EQUAL(now[4], STORAGE_FILE_VERSION);
  CU_ASSERT_EQUAL(memcmp(now + 16, key, 32), 0);
  free(now);
  free(img);
  free(enc);
  unref_all(v, 1);
  close_cache(c);
}

static void test_storage_file_remove(void) {
  fx_tmpdir_reset();
  void *c = open_cache(NULL);
  char key[33], path[512];
  make_key(11, key);
  sy_value *v[1] = {bytes_of("gone soon", NULL)};
  put_ok(c, key, v, 1, "x");
  sy_error err;
  sy_error_clear(&err);
  CU_ASSERT_EQUAL(ops->remove(c, key, &err), 0);
  entry_file(key, path, sizeof path);
  CU_ASSERT_FALSE(file_exists(path));
  sy_value *got[1] = {NULL};
  CU_ASSERT_EQUAL(ops->get(c, key, got, 1, &err), 0);
  CU_ASSERT_PTR_NULL(got[0]);
  CU_ASSERT_EQUAL(ops->remove(c, key, &err), SY_ENOENT);
  CU_ASSERT_EQUAL(err.code, SY_ENOENT);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, key));
  unref_all(v, 1);
  close_cache(c);
}

static void test_storage_file_invalid_keys(void) {
  fx_tmpdir_reset();
  void *c = open_cache(NULL);
  static const char *bad[] = {
      "",
      "0123456789abcdef0123456789abcde",   /* 31 */
      "0123456789abcdef0123456789abcdef0", /* 33 */
      "0123456789ABCDEF0123456789abcdef",  /* upper case */
      "0123456789abcdef0123456789abcdeg",  /* not hex */
      "../../../../../../../../etc/passw",
      "0123456789abcdef/123456789abcdef",
      ".tmp.0123456789abcdef0123456789a",
      "0123456789abcdef 123456789abcdef",
      NULL,
  };
  sy_value *v[1] = {bytes_of("x", NULL)};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    sy_error err;
    sy_value *got[1] = {NULL};
    sy_error_clear(&err);
    CU_ASSERT_EQUAL(ops->put(c, bad[i], v, 1, "x", &err), SY_EINVAL);
    CU_ASSERT_EQUAL(err.code, SY_EINVAL);
    CU_ASSERT_EQUAL(ops->get(c, bad[i], got, 1, &err), SY_EINVAL);
    CU_ASSERT_PTR_NULL(got[0]);
    CU_ASSERT_EQUAL(ops->remove(c, bad[i], &err), SY_EINVAL);
  }
  /* Nothing was written. */
  seen s = {0};
  sy_error err;
  CU_ASSERT_EQUAL(ops->list(c, collect, &s, &err), 0);
  CU_ASSERT_EQUAL(s.count, 0);
  DIR *d = opendir(fx_tmpdir);
  int names = 0;
  for (struct dirent *de; d && (de = readdir(d));)
    names += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
  if (d)
    closedir(d);
  CU_ASSERT_EQUAL(names, 0);
  /* Bad output lists are refused too. */
  char key[33];
  make_key(12, key);
  sy_value *holes[2] = {v[0], NULL};
  CU_ASSERT_EQUAL(ops->put(c, key, holes, 2, "x", &err), SY_EINVAL);
  CU_ASSERT_EQUAL(ops->put(c, key, v, 0, "x", &err), SY_EINVAL);
  unref_all(v, 1);
  close_cache(c);
}

static void test_storage_file_create(void) {
  fx_tmpdir_reset();
  char path[512];
  storage_file_config cfg = {0};
  void *self = NULL;
  sy_error err;
  /* mkdir -p, with a trailing slash. */
  snprintf(path, sizeof path, "%s/a/b/c/", fx_tmpdir);
  void *c = open_cache(path);
  snprintf(path, sizeof path, "%s/a/b/c", fx_tmpdir);
  struct stat st;
  CU_ASSERT(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
  close_cache(c);
  /* A file where the folder should be, and no path at all. */
  snprintf(path, sizeof path, "%s/file", fx_tmpdir);
  CU_ASSERT_FATAL(write_file(path, "x", 1) == 0);
  cfg.path = path;
  sy_error_clear(&err);
  CU_ASSERT_NOT_EQUAL(storage_file_provider.create(&cfg, &self, &err), 0);
  CU_ASSERT_PTR_NULL(self);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "file"));
  cfg.path = "";
  CU_ASSERT_EQUAL(storage_file_provider.create(&cfg, &self, &err), SY_ECONFIG);
  cfg.path = NULL;
  CU_ASSERT_EQUAL(storage_file_provider.create(&cfg, &self, &err), SY_ECONFIG);
  /* The descriptor's option table names the documented default. */
  CU_ASSERT_EQUAL(storage_file_provider.kind, SY_KIND_STORAGE);
  CU_ASSERT_STRING_EQUAL(storage_file_provider.name, "file");
  CU_ASSERT_STRING_EQUAL(storage_file_provider.options[0].name, "path");
  CU_ASSERT_STRING_EQUAL(storage_file_provider.options[0].def,
                         "~/.cache/switchyard");
  CU_ASSERT_EQUAL(storage_file_provider.options[0].type, SY_OPT_PATH);
}

static void test_storage_file_old_temp_files_are_swept(void) {
  fx_tmpdir_reset();
  char key[33], sub[512], old[600], fresh[600];
  make_key(13, key);
  snprintf(sub, sizeof sub, "%s/%.2s", fx_tmpdir, key);
  CU_ASSERT_FATAL(mkdir(sub, 0755) == 0);
  /* pid 999999999: above any pid_max, so its writer is surely gone. */
  snprintf(old, sizeof old, "%s/.tmp.%s.999999999.0", sub, key);
  snprintf(fresh, sizeof fresh, "%s/.tmp.%s.2.0", sub, key);
  CU_ASSERT_FATAL(write_file(old, "old", 3) == 0);
  CU_ASSERT_FATAL(write_file(fresh, "fresh", 5) == 0);
  struct timespec t[2];
  clock_gettime(CLOCK_REALTIME, &t[0]);
  t[0].tv_sec -= 2 * STORAGE_FILE_TMP_AGE;
  t[1] = t[0];
  CU_ASSERT_FATAL(utimensat(AT_FDCWD, old, t, 0) == 0);
  void *c = open_cache(NULL);
  sy_value *v[1] = {bytes_of("v", NULL)};
  put_ok(c, key, v, 1, "x");
  CU_ASSERT_FALSE(file_exists(old));
  CU_ASSERT_TRUE(file_exists(fresh)); /* may belong to a live writer */
  expect_hit(c, key, v, 1);
  unref_all(v, 1);
  close_cache(c);
}

/* temporaries() shows every unfinished write; sweep() removes those older
 * than the grace period whose writer is gone, and nothing else: not a
 * fresh one, not an old one whose writer still runs here, not an entry. */
static void test_storage_file_temporaries_and_sweep(void) {
  fx_tmpdir_reset();
  void *c = open_cache(NULL);
  char key[33], dead_old[600], live_old[600], dead_new[600], stray[600];
  char entry[512];
  make_key(31, key);
  sy_value *v[1] = {bytes_of("v", NULL)};
  put_ok(c, key, v, 1, "kept");
  entry_file(key, entry, sizeof entry);
  /* No temporaries after a whole put. */
  seen none = {0};
  sy_error err;
  sy_error_clear(&err);
  CU_ASSERT_EQUAL(ops->temporaries(c, collect, &none, &err), 0);
  CU_ASSERT_EQUAL(none.count, 0);
  snprintf(dead_old, sizeof dead_old,
           "%s/%.2s/.tmp.%s.999999999.00000000000000aa", fx_tmpdir, key, key);
  snprintf(live_old, sizeof live_old, "%s/%.2s/.tmp.%s.%ld.00000000000000bb",
           fx_tmpdir, key, key, (long)getpid());
  snprintf(dead_new, sizeof dead_new,
           "%s/%.2s/.tmp.%s.999999998.00000000000000cc", fx_tmpdir, key, key);
  snprintf(stray, sizeof stray, "%s/%.2s/notes.txt", fx_tmpdir, key);
  CU_ASSERT_FATAL(write_file(dead_old, "dead", 4) == 0);
  CU_ASSERT_FATAL(write_file(live_old, "live", 4) == 0);
  CU_ASSERT_FATAL(write_file(dead_new, "new", 3) == 0);
  CU_ASSERT_FATAL(write_file(stray, "stray", 5) == 0);
  struct timespec t[2];
  clock_gettime(CLOCK_REALTIME, &t[0]);
  t[0].tv_sec -= 7200;
  t[1] = t[0];
  CU_ASSERT_FATAL(utimensat(AT_FDCWD, dead_old, t, 0) == 0);
  CU_ASSERT_FATAL(utimensat(AT_FDCWD, live_old, t, 0) == 0);

  seen all = {0};
  CU_ASSERT_EQUAL(ops->temporaries(c, collect, &all, &err), 0);
  CU_ASSERT_EQUAL(all.count, 3);
  for (int i = 0; i < all.count && i < 16; i++) {
    CU_ASSERT_PTR_NOT_NULL(strstr(all.keys[i], "/.tmp."));
    CU_ASSERT_EQUAL(all.outputs[i], 0);
    int live = strstr(all.labels[i], "running here") &&
               !strstr(all.labels[i], "not running");
    CU_ASSERT_EQUAL(live, strstr(all.keys[i], ".00000000000000bb") != NULL);
  }
  /* sweep with an hour's grace: only the old file of a dead writer. */
  seen gone = {0};
  CU_ASSERT_EQUAL(ops->sweep(c, 3600, collect, &gone, &err), 0);
  CU_ASSERT_EQUAL(gone.count, 1);
  CU_ASSERT_PTR_NOT_NULL(strstr(gone.keys[0], "999999999"));
  CU_ASSERT_EQUAL(gone.bytes[0], 4);
  CU_ASSERT_FALSE(file_exists(dead_old));
  CU_ASSERT_TRUE(file_exists(live_old)); /* its writer runs: this test */
  CU_ASSERT_TRUE(file_exists(dead_new)); /* may still be written */
  CU_ASSERT_TRUE(file_exists(stray));
  CU_ASSERT_TRUE(file_exists(entry));
  expect_hit(c, key, v, 1);
  /* A visitor is optional; a negative grace period is refused. */
  CU_ASSERT_EQUAL(ops->sweep(c, 3600, NULL, NULL, &err), 0);
  CU_ASSERT_EQUAL(ops->sweep(c, -1, NULL, NULL, &err), SY_EINVAL);
  CU_ASSERT_TRUE(file_exists(dead_new));
  /* No cache folder at all: nothing to list or sweep. */
  fx_tmpdir_reset();
  rmdir(fx_tmpdir);
  CU_ASSERT_EQUAL(ops->temporaries(c, collect, &none, &err), 0);
  CU_ASSERT_EQUAL(ops->sweep(c, 0, collect, &none, &err), 0);
  CU_ASSERT_EQUAL(none.count, 0);
  mkdir(fx_tmpdir, 0700);
  unref_all(v, 1);
  close_cache(c);
}

/* ---- concurrency ------------------------------------------------------- */

#define HAMMER_KEYS 4

/* The outputs of variant `var` (0 or 1) of key number k: big enough that
 * a write takes several syscalls. */
static void hammer_values(unsigned k, unsigned var, sy_value *v[2]) {
  size_t len = 96 * 1024 + k * 1000 + var * 17;
  char *blob = malloc(len);
  CU_ASSERT_FATAL(blob != NULL);
  for (size_t i = 0; i < len; i++)
    blob[i] = (char)('a' + (i * (k + 3) + var) % 26);
  v[0] = NULL;
  if (sy_bytes_new(blob, len, "text/plain", &v[0]) != 0)
    abort();
  free(blob);
  v[1] = frame_of((int)(k * 2 + var + 1), 300 + var);
}

typedef struct hammer {
  void *cache;
  unsigned seed;
  sy_value *want[HAMMER_KEYS][2][2];
  int iterations;
  int failures; /* written by one thread only */
} hammer;

/* Puts and gets random keys; every get must be a whole known variant. */
static int hammer_loop(void *cache, sy_value *want[HAMMER_KEYS][2][2],
                       unsigned seed, int iterations) {
  int failures = 0;
  char key[33];
  for (int it = 0; it < iterations; it++) {
    unsigned r = (unsigned)rand_r(&seed);
    unsigned k = r % HAMMER_KEYS, var = (r >> 8) & 1;
    make_key(500 + k, key);
    sy_error err;
    sy_error_clear(&err);
    if (ops->put(cache, key, want[k][var], 2, "hammer", &err) != 0)
      failures++;
    k = (r >> 12) % HAMMER_KEYS;
    make_key(500 + k, key);
    sy_value *got[2] = {NULL, NULL};
    sy_error_clear(&err);
    if (ops->get(cache, key, got, 2, &err) != 0 || err.message[0]) {
      failures++;
    } else if (got[0]) {
      int ok = 0;
      for (int w = 0; w < 2; w++)
        ok |= sy_value_equal(got[0], want[k][w][0]) &&
              sy_value_equal(got[1], want[k][w][1]);
      failures += !ok;
    } else if (got[1]) {
      failures++;
    }
    unref_all(got, 2);
  }
  return failures;
}

static void *hammer_thread(void *arg) {
  hammer *h = arg;
  h->failures = hammer_loop(h->cache, h->want, h->seed, h->iterations);
  return NULL;
}

static void make_wants(sy_value *want[HAMMER_KEYS][2][2]) {
  for (unsigned k = 0; k < HAMMER_KEYS; k++)
    for (unsigned var = 0; var < 2; var++) {
      hammer_values(k, var, want[k][var]);
      /* Freeze the frames before they are shared between threads. */
      sy_value_unref(sy_value_ref(want[k][var][1]));
    }
}

static void free_wants(sy_value *want[HAMMER_KEYS][2][2]) {
  for (unsigned k = 0; k < HAMMER_KEYS; k++)
    for (unsigned var = 0; var < 2; var++)
      unref_all(want[k][var], 2);
}

static void test_storage_file_concurrent_threads(void) {
  fx_tmpdir_reset();
  enum { THREADS = 8 };
  void *c = open_cache(NULL);
  static hammer h[THREADS];
  pthread_t tid[THREADS];
  make_wants(h[0].want);
  for (int t = 0; t < THREADS; t++) {
    h[t].cache = c;
    h[t].seed = 1234u + (unsigned)t;
    h[t].iterations = 60;
    h[t].failures = 0;
    if (t)
      memcpy(h[t].want, h[0].want, sizeof h[0].want);
    CU_ASSERT_FATAL(pthread_create(&tid[t], NULL, hammer_thread, &h[t]) == 0);
  }
  int failures = 0;
  for (int t = 0; t < THREADS; t++) {
    pthread_join(tid[t], NULL);
    failures += h[t].failures;
  }
  CU_ASSERT_EQUAL(failures, 0);
  free_wants(h[0].want);
  close_cache(c);
}

static void test_storage_file_concurrent_processes(void) {
  fx_tmpdir_reset();
  enum { PROCS = 6 };
  pid_t pid[PROCS];
  fflush(NULL);
  for (int p = 0; p < PROCS; p++) {
    pid[p] = fork();
    CU_ASSERT_FATAL(pid[p] >= 0);
    if (pid[p] == 0) {
      /* Each process has its own instance, as separate programs would. */
      sy_value *want[HAMMER_KEYS][2][2];
      storage_file_config cfg = {.path = fx_tmpdir};
      void *c = NULL;
      if (storage_file_provider.create(&cfg, &c, NULL) != 0)
        _exit(3);
      make_wants(want);
      int failures = hammer_loop(c, want, 99u + (unsigned)p, 60);
      _exit(failures ? 1 : 0);
    }
  }
  int bad = 0;
  for (int p = 0; p < PROCS; p++) {
    int status = 0;
    waitpid(pid[p], &status, 0);
    bad += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  CU_ASSERT_EQUAL(bad, 0);
  /* What is left is whole. */
  sy_value *want[HAMMER_KEYS][2][2];
  make_wants(want);
  void *c = open_cache(NULL);
  CU_ASSERT_EQUAL(hammer_loop(c, want, 7, 8), 0);
  close_cache(c);
  free_wants(want);
}

/* ---- crash safety ------------------------------------------------------ */

#define CRASH_KEYS 16

/* Variant `var` of key number k: its payload can be checked on its own,
 * because the variant is written at its start. */
static void crash_values(unsigned k, unsigned var, sy_value *v[2]) {
  size_t len = 1000 + (size_t)((k * 7919u + var * 104729u) % 150000u);
  char *blob = malloc(len);
  if (!blob)
    abort();
  int head = snprintf(blob, len, "%u:%u:", k, var);
  for (size_t i = (size_t)head; i < len; i++)
    blob[i] = (char)(i * 31 + k * 7 + var);
  if (sy_bytes_new(blob, len, NULL, &v[0]) != 0)
    abort();
  free(blob);
  int64_t cells[2] = {(int64_t)k, (int64_t)var};
  if (sy_frame_new(2, &v[1]) != 0 ||
      sy_frame_add_i64(v[1], "kv", cells, NULL) != 0)
    abort();
}

static void crash_writer(const char *dir, int notify, unsigned seed) {
  storage_file_config cfg = {.path = dir};
  void *c = NULL;
  char key[33];
  if (storage_file_provider.create(&cfg, &c, NULL) != 0)
    _exit(3);
  for (unsigned var = seed;; var++) {
    unsigned k = var % CRASH_KEYS;
    sy_value *v[2];
    crash_values(k, var, v);
    make_key(900 + k, key);
    if (ops->put(c, key, v, 2, "crash", NULL) != 0)
      _exit(4);
    unref_all(v, 2);
    if (write(notify, "p", 1) < 0)
      _exit(5);
  }
}

/* Checks one entry read back after the crashes: a hit whose payload is
 * exactly what its own variant says. */
static int crash_entry_ok(void *c, unsigned k) {
  char key[33];
  make_key(900 + k, key);
  sy_value *got[2] = {NULL, NULL};
  sy_error err;
  sy_error_clear(&err);
  int ok = 0;
  if (ops->get(c, key, got, 2, &err) == 0 && got[0] && got[1] &&
      !err.message[0]) {
    const int64_t *kv = sy_frame_i64(got[1], 0);
    if (kv && sy_frame_rows(got[1]) == 2) {
      sy_value *want[2];
      crash_values(k, (unsigned)kv[1], want);
      ok = kv[0] == (int64_t)k && sy_value_equal(got[0], want[0]) &&
           sy_value_equal(got[1], want[1]);
      unref_all(want, 2);
    }
  }
  if (!ok)
    fprintf(stderr, "crash: entry %u is not whole: %s\n", k, err.message);
  unref_all(got, 2);
  return ok;
}

static void test_storage_file_crash_leaves_whole_entries(void) {
  fx_tmpdir_reset();
  enum { ROUNDS = 200 };
  unsigned seed = 4242;
  int rounds = 0, kills_mid = 0;
  time_t start = time(NULL);
  for (; rounds < ROUNDS; rounds++) {
    /* A generous bound on the whole test, not an assertion. */
    if (time(NULL) - start > 60)
      break;
    int fds[2];
    CU_ASSERT_FATAL(pipe(fds) == 0);
    fflush(NULL);
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
      close(fds[0]);
      crash_writer(fx_tmpdir, fds[1], (unsigned)rounds * 1237u);
    }
    close(fds[1]);
    /* Wait for one whole put, so every round makes progress, then kill
     * the writer at a random moment of a later one. */
    struct pollfd pf = {fds[0], POLLIN, 0};
    char b;
    int ready = poll(&pf, 1, 30000) == 1 && read(fds[0], &b, 1) == 1;
    CU_ASSERT(ready);
    struct timespec nap = {0, (long)(rand_r(&seed) % 3000) * 1000L};
    nanosleep(&nap, NULL);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    kills_mid += WIFSIGNALED(status);
    close(fds[0]);
  }
  CU_ASSERT(rounds >= 20);
  CU_ASSERT_EQUAL(kills_mid, rounds);

  /* Every entry that exists is whole; the only other files are temporary
   * ones, and list() does not show those. */
  void *c = open_cache(NULL);
  int entries = 0, temps = 0, others = 0;
  DIR *top = opendir(fx_tmpdir);
  CU_ASSERT_PTR_NOT_NULL_FATAL(top);
  for (struct dirent *de; (de = readdir(top));) {
    if (de->d_name[0] == '.')
      continue;
    char sub[512];
    snprintf(sub, sizeof sub, "%s/%s", fx_tmpdir, de->d_name);
    DIR *d = opendir(sub);
    if (!d) {
      others++;
      continue;
    }
    for (struct dirent *fe; (fe = readdir(d));) {
      if (!strcmp(fe->d_name, ".") || !strcmp(fe->d_name, ".."))
        continue;
      if (!strncmp(fe->d_name, ".tmp.", 5)) {
        temps++;
        continue;
      }
      int found = 0;
      for (unsigned k = 0; k < CRASH_KEYS; k++) {
        char key[33];
        make_key(900 + k, key);
        if (!strcmp(fe->d_name, key)) {
          found = 1;
          entries++;
          CU_ASSERT(crash_entry_ok(c, k));
        }
      }
      others += !found;
    }
    closedir(d);
  }
  closedir(top);
  CU_ASSERT(entries >= 1);
  CU_ASSERT_EQUAL(others, 0);
  seen s = {0};
  sy_error err;
  CU_ASSERT_EQUAL(ops->list(c, collect, &s, &err), 0);
  CU_ASSERT_EQUAL(s.count, entries);
  for (int i = 0; i < s.count && i < 16; i++)
    CU_ASSERT_STRING_EQUAL(s.labels[i], "crash");
  printf("\n    %d rounds, %d entries, %d temporary files left ", rounds,
         entries, temps);

  /* A rerun over the leftovers succeeds: every key is written and read. */
  for (unsigned k = 0; k < CRASH_KEYS; k++) {
    char key[33];
    sy_value *v[2];
    crash_values(k, 7 + k, v);
    make_key(900 + k, key);
    put_ok(c, key, v, 2, "rerun");
    unref_all(v, 2);
    CU_ASSERT(crash_entry_ok(c, k));
  }
  close_cache(c);
}

int main(void) {
  static const CU_TestInfo tests[] = {
      {"test_storage_file_roundtrip_one", test_storage_file_roundtrip_one},
      {"test_storage_file_roundtrip_three", test_storage_file_roundtrip_three},
      {"test_storage_file_big_value", test_storage_file_big_value},
      {"test_storage_file_miss", test_storage_file_miss},
      {"test_storage_file_overwrite", test_storage_file_overwrite},
      {"test_storage_file_every_truncation_is_a_miss",
       test_storage_file_every_truncation_is_a_miss},
      {"test_storage_file_every_flip_is_a_miss",
       test_storage_file_every_flip_is_a_miss},
      {"test_storage_file_resealed_damage_is_a_miss",
       test_storage_file_resealed_damage_is_a_miss},
      {"test_storage_file_wrong_n_is_a_miss",
       test_storage_file_wrong_n_is_a_miss},
      {"test_storage_file_copied_entry_is_a_miss",
       test_storage_file_copied_entry_is_a_miss},
      {"test_storage_file_version1_is_a_miss",
       test_storage_file_version1_is_a_miss},
      {"test_storage_file_list", test_storage_file_list},
      {"test_storage_file_remove", test_storage_file_remove},
      {"test_storage_file_invalid_keys", test_storage_file_invalid_keys},
      {"test_storage_file_create", test_storage_file_create},
      {"test_storage_file_old_temp_files_are_swept",
       test_storage_file_old_temp_files_are_swept},
      {"test_storage_file_temporaries_and_sweep",
       test_storage_file_temporaries_and_sweep},
      {"test_storage_file_concurrent_threads",
       test_storage_file_concurrent_threads},
      {"test_storage_file_concurrent_processes",
       test_storage_file_concurrent_processes},
      {"test_storage_file_crash_leaves_whole_entries",
       test_storage_file_crash_leaves_whole_entries},
      CU_TEST_INFO_NULL,
  };
  return fx_run_suite("storage_file", suite_init, suite_clean, tests);
}
