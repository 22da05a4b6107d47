/*
 * storage_file.c - storage "file": the result cache as a folder of files.
 *
 * Layout. An entry is one file, "<path>/<k0k1>/<key>", where key is the
 * step's cache key (exactly 32 lowercase hex digits; anything else is
 * refused with SY_EINVAL before a path is built, so a key can never name
 * a file outside the folder) and k0k1 its first two digits. 256
 * sub-folders keep directories small for big caches.
 *
 * Entry file, format version 2. Integers little-endian, written byte by
 * byte:
 *
 *   offset    size  field
 *   0         4     magic "SYCE"
 *   4         4     format version, 2
 *   8         4     number of outputs N (1..STORAGE_FILE_MAX_OUTPUTS)
 *   12        4     label length L (0..STORAGE_FILE_MAX_LABEL)
 *   16        32    the entry's own key (32 lowercase hex digits)
 *   48        L     label text (as given to put, informational)
 *   48+L      8*N   each output's encoded length
 *   48+L+8N   ...   each output's sy_value_encode() bytes, in order
 *   end-8     8     XXH3-64 of every byte before it
 *
 * The lengths must add up to the file size exactly; together with the
 * checksum (and sy_value_encode's own) that makes a truncated, extended or
 * bit-flipped file detectable before any of it is trusted.
 *
 * Own key. A whole, well-formed entry can still be the wrong one: a file
 * copied or renamed over another name (by hand, a sync tool, a restore)
 * passes every check above. So the header records the key the entry was
 * put under, inside the checksum, and get() serves an entry only when
 * that key is the one asked for; any other is a miss, removed like a
 * damaged one, with a note that says which key it held. Version 1 entries
 * (no key) are misses too, never errors: the step runs again and put()
 * rewrites the entry in the current format.
 *
 * Publication. put() writes the whole entry to a temporary file in the
 * same sub-folder ("<sub>/.tmp.<key>.<pid>.<random>", made with O_EXCL),
 * (fsyncs it when the `fsync` option asks) and renames it over the final name.
 * rename() is atomic, so a reader opening the final name sees either the old
 * file or the new one, whole; a writer killed half-way leaves only its
 * temporary file. That is the only synchronisation: no locks, so any number of
 * threads and processes may share one folder. Two writers of the same key both
 * succeed and the last rename wins; both wrote the same result, since the
 * key is a hash of everything that produced it.
 *
 * Leftover temporary files are removed opportunistically: the first put
 * into a sub-folder (per instance, then at most once an hour) sweeps that
 * sub-folder for ".tmp." files older than an hour. A fresh one may belong
 * to a writer still running, so it is left alone; so is one whose writer
 * (the pid in its name) is still running on this machine, however old.
 * get() and put() otherwise never scan a directory: get is one open,
 * fstat and read. temporaries() lists them all and sweep() removes them
 * under the same rule with the caller's grace period: what `cache list
 * -v` and `cache gc` use, so that what a killed writer left is collected
 * even in sub-folders that no put visits again.
 *
 * Damage. get() treats anything it cannot fully verify as a miss: the
 * file is removed (only if the name still refers to the file that was
 * read, so a good entry renamed over it meanwhile survives) and err gets
 * a note with code 0 that the core logs. A reader allocates at most the
 * file's size, as reported by fstat, for its own buffer.
 *
 * The instance holds its folder name and, per sub-folder, when it last
 * swept it (atomics, as puts run on many threads). Nothing else is shared.
 */
#include "storage_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
/* XXH3 from libxxhash-dev's header, inlined (XXH_INLINE_ALL): the plugin
 * maps no libxxhash.so of its own at every start; the same function. */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "switchyard/endian.h"

#define KEY_LEN 32
/* Longest header list() reads: everything before the first output. */
#define HEADER_MAX                                                             \
  (STORAGE_FILE_FIXED + STORAGE_FILE_MAX_LABEL + 8u * STORAGE_FILE_MAX_OUTPUTS)
/* Room after the folder name in a path buffer: "/xx/" + a temporary name
 * ".tmp." + key + "." + pid + "." + 16 hex digits, with margin. */
#define PATH_TAIL 96

typedef struct storage_file {
  bool fsync; /* the `fsync` option */
  char *root; /* the folder, without trailing slashes */
  size_t root_len;
  /* Per sub-folder: wall-clock second of this instance's last sweep of
   * temporary files, 0 for never. */
  _Atomic int64_t swept[256];
  /* Mixed into temporary names, so that two puts of one key from one
   * process differ even if getrandom() is unavailable. */
  atomic_uint_fast64_t seq;
} storage_file;

/* ---- helpers ----------------------------------------------------------- */

static int key_ok(const char *key) {
  if (!key)
    return 0;
  for (int i = 0; i < KEY_LEN; i++) {
    char c = key[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return 0;
  }
  return key[KEY_LEN] == '\0';
}

static int check_key(const char *key, sy_error *err) {
  if (key_ok(key))
    return 0;
  return sy_error_set(err, SY_EINVAL,
                      "storage.file: '%.40s%s' is not a cache key (32 "
                      "lowercase hex digits)",
                      key ? key : "(null)",
                      key && strlen(key) > 40 ? "..." : "");
}

/* "<root>/<k0k1>" into buf (at least root_len + PATH_TAIL bytes). */
static void sub_path(const storage_file *s, const char *key, char *buf) {
  memcpy(buf, s->root, s->root_len);
  buf[s->root_len] = '/';
  buf[s->root_len + 1] = key[0];
  buf[s->root_len + 2] = key[1];
  buf[s->root_len + 3] = '\0';
}

/* "<root>/<k0k1>/<key>" into buf. */
static void entry_path(const storage_file *s, const char *key, char *buf) {
  sub_path(s, key, buf);
  buf[s->root_len + 3] = '/';
  memcpy(buf + s->root_len + 4, key, KEY_LEN + 1);
}

static int hexval(char c) {
  return c >= '0' && c <= '9'   ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                : -1;
}

/* mkdir -p. Existing folders are fine; the last component must end up a
 * folder. A folder that is there already (every start but the first)
 * costs one stat, not a mkdir per level from /. */
static int make_dirs(const char *path, sy_error *err) {
  struct stat st;
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
    return 0;
  char *p = strdup(path);
  int rc = 0;
  if (!p)
    return sy_error_set(err, SY_ENOMEM, "storage.file: out of memory");
  for (char *c = p + 1;; c++) {
    if (*c != '/' && *c != '\0')
      continue;
    char saved = *c;
    *c = '\0';
    if (mkdir(p, 0777) != 0 && errno != EEXIST) {
      int e = errno;
      rc = sy_error_set(err, sy_code_from_errno(e),
                        "storage.file: cannot create folder '%s': %s", p,
                        strerror(e));
      goto done;
    }
    *c = saved;
    if (saved == '\0')
      break;
  }
  if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
    rc = sy_error_set(err, SY_ECONFIG,
                      "storage.file: path: '%s' is not a "
                      "folder",
                      path);
done:
  free(p);
  return rc;
}

/* Reads exactly len bytes at the current offset; 1 when the file ended
 * early, a negative errno-mapped code on error. */
static int read_all(int fd, uint8_t *buf, size_t len) {
  size_t got = 0;
  while (got < len) {
    ssize_t r = read(fd, buf + got, len - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return sy_code_from_errno(errno);
    if (r == 0)
      return 1;
    got += (size_t)r;
  }
  return 0;
}

/* Writes every byte of iov[0..cnt), which it may modify. */
static int writev_all(int fd, struct iovec *iov, int cnt) {
  while (cnt > 0) {
    ssize_t w = writev(fd, iov, cnt > IOV_MAX ? IOV_MAX : cnt);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0)
      return -1;
    size_t left = (size_t)w;
    while (cnt > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      iov++;
      cnt--;
    }
    if (cnt > 0) {
      iov->iov_base = (uint8_t *)iov->iov_base + left;
      iov->iov_len -= left;
    }
  }
  return 0;
}

/* ---- header ------------------------------------------------------------ */

typedef struct header {
  uint32_t outputs;
  uint32_t label_len;
  const uint8_t *key;   /* KEY_LEN bytes inside the buffer, not checked */
  const uint8_t *label; /* inside the buffer parsed */
  const uint8_t *lens;  /* N little-endian u64, inside the buffer */
  uint64_t size;        /* header size: 16 + L + 8N */
} header;

/* Parses and checks the header at p[0..avail) of an entry file of
 * file_size bytes: magic, version, bounds, and that the output lengths add
 * up to the file size exactly. Returns NULL or what is wrong. The key it
 * records is left to the caller to compare. */
static const char *parse_header(const uint8_t *p, size_t avail,
                                uint64_t file_size, header *h) {
  if (file_size < STORAGE_FILE_FIXED + STORAGE_FILE_CHECKSUM ||
      avail < STORAGE_FILE_FIXED)
    return "truncated header";
  if (memcmp(p, STORAGE_FILE_MAGIC, 4) != 0)
    return "bad magic";
  if (sy_le32_get(p + 4) == 1)
    return "format version 1, which records no key";
  if (sy_le32_get(p + 4) != STORAGE_FILE_VERSION)
    return "unknown format version";
  h->outputs = sy_le32_get(p + 8);
  h->label_len = sy_le32_get(p + 12);
  if (h->outputs == 0 || h->outputs > STORAGE_FILE_MAX_OUTPUTS)
    return "bad output count";
  if (h->label_len > STORAGE_FILE_MAX_LABEL)
    return "bad label length";
  h->size = STORAGE_FILE_FIXED + (uint64_t)h->label_len + 8u * h->outputs;
  if (h->size + STORAGE_FILE_CHECKSUM > file_size || h->size > avail)
    return "truncated header";
  h->key = p + 16;
  h->label = p + STORAGE_FILE_FIXED;
  h->lens = h->label + h->label_len;
  /* Each length is checked against what remains before it is added, so
   * the sum cannot overflow. */
  uint64_t left = file_size - h->size - STORAGE_FILE_CHECKSUM;
  for (uint32_t i = 0; i < h->outputs; i++) {
    uint64_t len = sy_le64_get(h->lens + 8u * i);
    if (len > left)
      return "output lengths exceed the file";
    left -= len;
  }
  if (left != 0)
    return "output lengths do not add up to the file size";
  return NULL;
}

/* ---- create, destroy --------------------------------------------------- */

static int sf_create(const void *config, void **self, sy_error *err) {
  const storage_file_config *cfg = config;
  storage_file *s = NULL;
  int rc;
  *self = NULL;
  if (!cfg->path || !*cfg->path) {
    rc = sy_error_set(err, SY_ECONFIG, "path: a folder is required");
    goto fail;
  }
  if (!(s = calloc(1, sizeof *s)) || !(s->root = strdup(cfg->path))) {
    rc = sy_error_set(err, SY_ENOMEM, "out of memory");
    goto fail;
  }
  s->fsync = cfg->fsync;
  s->root_len = strlen(s->root);
  while (s->root_len > 1 && s->root[s->root_len - 1] == '/')
    s->root[--s->root_len] = '\0';
  if (s->root_len + PATH_TAIL >= PATH_MAX) {
    rc = sy_error_set(err, SY_ECONFIG, "path: '%s' is too long", s->root);
    goto fail;
  }
  if ((rc = make_dirs(s->root, err)) != 0)
    goto fail;
  for (int i = 0; i < 256; i++)
    atomic_init(&s->swept[i], 0);
  atomic_init(&s->seq, 0);
  *self = s;
  return 0;
fail:
  if (s)
    free(s->root);
  free(s);
  return rc;
}

static void sf_destroy(void *self) {
  storage_file *s = self;
  if (!s)
    return;
  free(s->root);
  free(s);
}

/* ---- get --------------------------------------------------------------- */

/* Removes a damaged entry, unless a writer has renamed a new file over the
 * name since `st` was taken from the damaged one. Fills the note. With
 * `mismatch`, why is the other key the entry records. */
static void drop_damaged(const char *path, const struct stat *st,
                         const char *key, const char *why, int mismatch,
                         sy_error *err) {
  struct stat now;
  const char *failed = NULL;
  if (stat(path, &now) == 0 && now.st_dev == st->st_dev &&
      now.st_ino == st->st_ino && unlink(path) != 0 && errno != ENOENT)
    failed = strerror(errno);
  if (mismatch && failed)
    sy_error_set(err, 0,
                 "storage.file: cache entry %s records another key (%s): a "
                 "file copied or renamed over it; not used, and it could "
                 "not be removed: %s",
                 key, why, failed);
  else if (mismatch)
    sy_error_set(err, 0,
                 "storage.file: cache entry %s records another key (%s): a "
                 "file copied or renamed over it; not used, and removed",
                 key, why);
  else if (failed)
    sy_error_set(err, 0,
                 "storage.file: cache entry %s was damaged (%s) and could "
                 "not be removed: %s",
                 key, why, failed);
  else
    sy_error_set(err, 0,
                 "storage.file: cache entry %s was damaged and was removed "
                 "(%s)",
                 key, why);
}

static int sf_get(void *self, const char *key, sy_value **out, size_t n,
                  sy_error *err) {
  storage_file *s = self;
  char path[PATH_MAX];
  uint8_t *buf = NULL;
  const char *why = NULL;
  char other[KEY_LEN + 1]; /* the key a mismatched entry records */
  struct stat st;
  header h;
  int fd = -1, rc = 0;
  if (!out || n == 0)
    return sy_error_set(err, SY_EINVAL, "storage.file: get: no outputs");
  for (size_t i = 0; i < n; i++)
    out[i] = NULL;
  if ((rc = check_key(key, err)) != 0)
    return rc;
  sy_error_clear(err);
  entry_path(s, key, path);
  fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    int e = errno;
    if (e == ENOENT)
      return 0; /* a miss */
    if (e == ELOOP) {
      /* A symbolic link: never written by put, so not trusted. */
      if (unlink(path) != 0 && errno != ENOENT)
        return sy_error_set(err, 0,
                            "storage.file: cache entry %s was damaged (a "
                            "symbolic link) and could not be removed",
                            key);
      return sy_error_set(err, 0,
                          "storage.file: cache entry %s was damaged and was "
                          "removed (a symbolic link)",
                          key);
    }
    return sy_error_set(err, sy_code_from_errno(e), "storage.file: '%s': %s",
                        path, strerror(e));
  }
  if (fstat(fd, &st) != 0) {
    int e = errno;
    rc = sy_error_set(err, sy_code_from_errno(e), "storage.file: '%s': %s",
                      path, strerror(e));
    goto done;
  }
  if (!S_ISREG(st.st_mode)) {
    why = "not a regular file";
    goto damaged;
  }
  uint64_t size = (uint64_t)st.st_size;
  if (size < STORAGE_FILE_FIXED + STORAGE_FILE_CHECKSUM) {
    why = "truncated header";
    goto damaged;
  }
  if (size > SIZE_MAX) {
    why = "too large";
    goto damaged;
  }
  if (!(buf = malloc((size_t)size))) {
    rc = sy_error_set(err, SY_ENOMEM,
                      "storage.file: no memory to read cache entry %s "
                      "(%llu bytes)",
                      key, (unsigned long long)size);
    goto done;
  }
  if ((rc = read_all(fd, buf, (size_t)size)) < 0) {
    rc = sy_error_set(err, rc, "storage.file: reading '%s' failed", path);
    goto done;
  }
  if (rc == 1) {
    /* The file shrank under us: not one of ours (ours never change). */
    rc = 0;
    why = "truncated";
    goto damaged;
  }
  uint64_t body = size - STORAGE_FILE_CHECKSUM;
  if (XXH3_64bits(buf, (size_t)body) != sy_le64_get(buf + body)) {
    why = "checksum mismatch";
    goto damaged;
  }
  if ((why = parse_header(buf, (size_t)size, size, &h)) != NULL)
    goto damaged;
  if (memcmp(h.key, key, KEY_LEN) != 0) {
    /* Whole and well-formed, but put under another key: a file copied or
     * renamed over this name. Never served. */
    memcpy(other, h.key, KEY_LEN);
    other[KEY_LEN] = '\0';
    for (int i = 0; i < KEY_LEN; i++)
      if (hexval(other[i]) < 0)
        other[i] = '?';
    why = other;
    goto damaged;
  }
  if (h.outputs != n) {
    why = "holds another number of outputs";
    goto damaged;
  }
  uint64_t off = h.size;
  for (size_t i = 0; i < n; i++) {
    uint64_t len = sy_le64_get(h.lens + 8u * i);
    int drc = sy_value_decode(buf + off, (size_t)len, &out[i], NULL);
    if (drc == SY_ENOMEM) {
      rc =
          sy_error_set(err, SY_ENOMEM,
                       "storage.file: no memory to decode cache entry %s", key);
      goto done;
    }
    if (drc != 0) {
      out[i] = NULL;
      why = "an output does not decode";
      goto damaged;
    }
    off += len;
  }
  goto done;
damaged:
  for (size_t i = 0; i < n; i++) {
    sy_value_unref(out[i]);
    out[i] = NULL;
  }
  drop_damaged(path, &st, key, why, why == other, err);
done:
  if (rc != 0) {
    for (size_t i = 0; i < n; i++) {
      sy_value_unref(out[i]);
      out[i] = NULL;
    }
  }
  free(buf);
  if (fd >= 0)
    close(fd);
  return rc;
}

/* ---- put --------------------------------------------------------------- */

/* ---- temporary files -------------------------------------------------- */

/* A temporary file's name, ".tmp.<key>.<pid>.<16 hex digits>", taken
 * apart: the key it was to become and its writer's pid. Returns 0, or -1
 * for a name put() does not make (then key is "" and pid 0). */
static int temp_parse(const char *name, char key[KEY_LEN + 1], long *pid) {
  size_t pre = strlen(STORAGE_FILE_TMP_PREFIX);
  key[0] = '\0';
  *pid = 0;
  if (strncmp(name, STORAGE_FILE_TMP_PREFIX, pre) != 0)
    return -1;
  const char *k = name + pre;
  for (int i = 0; i < KEY_LEN; i++)
    if (hexval(k[i]) < 0)
      return -1;
  if (k[KEY_LEN] != '.')
    return -1;
  char *end;
  errno = 0;
  long p = strtol(k + KEY_LEN + 1, &end, 10);
  if (errno || p <= 0 || *end != '.')
    return -1;
  memcpy(key, k, KEY_LEN);
  key[KEY_LEN] = '\0';
  *pid = p;
  return 0;
}

/* Whether process pid runs on this machine (in this pid namespace). A pid
 * reused by another program looks running too: that only keeps a file
 * longer. */
static int writer_running(long pid) {
  if (pid <= 0 || (pid_t)pid != pid)
    return 0;
  return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* Whether a temporary file may be removed: older than grace_s seconds and
 * not written by a process still running here. */
static int temp_stale(const char *name, const struct stat *st, time_t now,
                      int64_t grace_s) {
  char key[KEY_LEN + 1];
  long pid;
  if (!S_ISREG(st->st_mode) || (int64_t)(now - st->st_mtime) <= grace_s)
    return 0;
  temp_parse(name, key, &pid);
  return !writer_running(pid);
}

/* Removes the sub-folder's temporary files older than STORAGE_FILE_TMP_AGE
 * whose writer is gone: left by writers that crashed. Best effort; errors
 * are ignored. */
static void sweep(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *de;
  time_t now = time(NULL);
  if (!d)
    return;
  while ((de = readdir(d)) != NULL) {
    struct stat st;
    if (strncmp(de->d_name, STORAGE_FILE_TMP_PREFIX,
                strlen(STORAGE_FILE_TMP_PREFIX)) != 0)
      continue;
    if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        temp_stale(de->d_name, &st, now, STORAGE_FILE_TMP_AGE))
      unlinkat(dirfd(d), de->d_name, 0);
  }
  closedir(d);
}

static void maybe_sweep(storage_file *s, const char *key, const char *dir) {
  int slot = hexval(key[0]) * 16 + hexval(key[1]);
  int64_t now = (int64_t)time(NULL);
  int64_t last = atomic_load_explicit(&s->swept[slot], memory_order_relaxed);
  if (last != 0 && now - last < STORAGE_FILE_TMP_AGE)
    return;
  /* One thread wins the slot; the others go on without sweeping. */
  if (atomic_compare_exchange_strong(&s->swept[slot], &last, now))
    sweep(dir);
}

/* Opens a new temporary file beside the entry; its name goes into tmp. */
static int open_temp(storage_file *s, const char *key, char *tmp,
                     sy_error *err) {
  for (int attempt = 0; attempt < 8; attempt++) {
    uint64_t r = 0;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      r = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15u ^ (uint64_t)ts.tv_sec;
    }
    r ^= atomic_fetch_add(&s->seq, 1) * 0xBF58476D1CE4E5B9u;
    sub_path(s, key, tmp);
    snprintf(tmp + s->root_len + 3, PATH_TAIL,
             "/" STORAGE_FILE_TMP_PREFIX "%s.%ld.%016llx", key, (long)getpid(),
             (unsigned long long)r);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0)
      return fd;
    int e = errno;
    if (e == EEXIST)
      continue;
    if (e == ENOENT && attempt == 0) {
      /* The sub-folder (or the whole cache) is not there yet. */
      char dir[PATH_MAX];
      sub_path(s, key, dir);
      int rc = make_dirs(dir, err);
      if (rc != 0)
        return rc;
      continue;
    }
    return sy_error_set(err, sy_code_from_errno(e),
                        "storage.file: cannot create '%s': %s", tmp,
                        strerror(e));
  }
  return sy_error_set(err, SY_EIO,
                      "storage.file: no free temporary name for entry %s", key);
}

static int sf_put(void *self, const char *key, sy_value *const *values,
                  size_t n, const char *label, sy_error *err) {
  storage_file *s = self;
  char tmp[PATH_MAX], path[PATH_MAX];
  void **enc = NULL;
  size_t *lens = NULL;
  uint8_t *head = NULL;
  struct iovec *iov = NULL;
  uint8_t sum[STORAGE_FILE_CHECKSUM];
  XXH3_state_t *xs = NULL;
  int fd = -1, rc = 0, tmp_made = 0, published = 0;
  if ((rc = check_key(key, err)) != 0)
    return rc;
  if (!values || n == 0 || n > STORAGE_FILE_MAX_OUTPUTS)
    return sy_error_set(err, SY_EINVAL,
                        "storage.file: put: %zu outputs (1 to %u allowed)", n,
                        STORAGE_FILE_MAX_OUTPUTS);
  for (size_t i = 0; i < n; i++)
    if (!values[i])
      return sy_error_set(err, SY_EINVAL,
                          "storage.file: put: output %zu is missing", i);
  /* Labels are informational: a long one is cut, at a UTF-8 boundary. */
  size_t label_len = label ? strlen(label) : 0;
  if (label_len > STORAGE_FILE_MAX_LABEL) {
    label_len = STORAGE_FILE_MAX_LABEL;
    while (label_len > 0 && ((uint8_t)label[label_len] & 0xC0) == 0x80)
      label_len--;
  }
  size_t head_len = STORAGE_FILE_FIXED + label_len + 8 * n;
  if (!(enc = calloc(n, sizeof *enc)) || !(lens = calloc(n, sizeof *lens)) ||
      !(head = malloc(head_len)) || !(iov = calloc(n + 2, sizeof *iov)) ||
      !(xs = XXH3_createState())) {
    rc = sy_error_set(err, SY_ENOMEM, "storage.file: out of memory");
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    if ((rc = sy_value_encode(values[i], &enc[i], &lens[i])) != 0) {
      rc = sy_error_set(err, rc, "storage.file: cannot encode output %zu: %s",
                        i, sy_strerror(rc));
      goto done;
    }
  }
  memcpy(head, STORAGE_FILE_MAGIC, 4);
  sy_le32_put(head + 4, STORAGE_FILE_VERSION);
  sy_le32_put(head + 8, (uint32_t)n);
  sy_le32_put(head + 12, (uint32_t)label_len);
  memcpy(head + 16, key, KEY_LEN);
  if (label_len)
    memcpy(head + STORAGE_FILE_FIXED, label, label_len);
  for (size_t i = 0; i < n; i++)
    sy_le64_put(head + STORAGE_FILE_FIXED + label_len + 8 * i, lens[i]);
  XXH3_64bits_reset(xs);
  XXH3_64bits_update(xs, head, head_len);
  iov[0].iov_base = head;
  iov[0].iov_len = head_len;
  for (size_t i = 0; i < n; i++) {
    XXH3_64bits_update(xs, enc[i], lens[i]);
    iov[i + 1].iov_base = enc[i];
    iov[i + 1].iov_len = lens[i];
  }
  sy_le64_put(sum, XXH3_64bits_digest(xs));
  iov[n + 1].iov_base = sum;
  iov[n + 1].iov_len = sizeof sum;

  if ((fd = open_temp(s, key, tmp, err)) < 0) {
    rc = fd;
    fd = -1;
    goto done;
  }
  tmp_made = 1;
  /* With `fsync`, the bytes reach the disk before the name is published.
   * Without it (the default: an fsync costs milliseconds per step), a
   * power cut may publish a name before its bytes; get then finds a
   * damaged entry, removes it and the step is recomputed. A crash of the
   * process alone cannot do that: the rename publishes whole files. */
  if (writev_all(fd, iov, (int)(n + 2)) != 0 || (s->fsync && fsync(fd) != 0)) {
    int e = errno;
    rc = sy_error_set(err, sy_code_from_errno(e),
                      "storage.file: writing '%s': %s", tmp, strerror(e));
    goto done;
  }
  int cfd = fd;
  fd = -1;
  if (close(cfd) != 0) {
    int e = errno;
    rc = sy_error_set(err, sy_code_from_errno(e),
                      "storage.file: writing '%s': %s", tmp, strerror(e));
    goto done;
  }
  entry_path(s, key, path);
  if (rename(tmp, path) != 0) {
    int e = errno;
    rc = sy_error_set(err, sy_code_from_errno(e),
                      "storage.file: cannot publish entry %s: %s", key,
                      strerror(e));
    goto done;
  }
  published = 1;
  sub_path(s, key, path);
  maybe_sweep(s, key, path);
done:
  if (fd >= 0)
    close(fd);
  if (tmp_made && !published)
    unlink(tmp);
  XXH3_freeState(xs);
  free(iov);
  free(head);
  if (enc)
    for (size_t i = 0; i < n; i++)
      free(enc[i]);
  free(enc);
  free(lens);
  return rc;
}

/* ---- list, remove ------------------------------------------------------ */

/* Reads an entry's header into e; a damaged one is listed as "(damaged)"
 * with 0 outputs. Returns 1 to skip (gone, or not a regular file). */
static int read_entry(int dfd, const char *name, uint8_t *buf, char *label,
                      sy_storage_entry *e) {
  struct stat st;
  header h;
  int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return 1;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return 1;
  }
  uint64_t size = (uint64_t)st.st_size;
  size_t want = size < HEADER_MAX ? (size_t)size : HEADER_MAX;
  ssize_t got;
  do
    got = pread(fd, buf, want, 0);
  while (got < 0 && errno == EINTR);
  close(fd);
  e->bytes = size;
  e->mtime = (int64_t)st.st_mtime;
  const char *bad = got < 0 ? "" : parse_header(buf, (size_t)got, size, &h);
  if (!bad && memcmp(h.key, name, KEY_LEN) != 0) {
    /* get() would refuse it: another key's entry under this name. */
    e->label = "(records another key)";
    e->outputs = 0;
  } else if (!bad) {
    memcpy(label, h.label, h.label_len);
    label[h.label_len] = '\0';
    e->label = label;
    e->outputs = h.outputs;
  } else {
    e->label = "(damaged)";
    e->outputs = 0;
  }
  return 0;
}

static int sf_list(void *self, sy_storage_visit_fn fn, void *ud,
                   sy_error *err) {
  storage_file *s = self;
  uint8_t *buf = NULL;
  char *label = NULL;
  DIR *top = NULL, *sub = NULL;
  struct dirent *de;
  int rc = 0;
  if (!fn)
    return sy_error_set(err, SY_EINVAL, "storage.file: list: no visitor");
  if (!(buf = malloc(HEADER_MAX)) ||
      !(label = malloc(STORAGE_FILE_MAX_LABEL + 1))) {
    rc = sy_error_set(err, SY_ENOMEM, "storage.file: out of memory");
    goto done;
  }
  if (!(top = opendir(s->root))) {
    int e = errno;
    if (e != ENOENT)
      rc = sy_error_set(err, sy_code_from_errno(e), "storage.file: '%s': %s",
                        s->root, strerror(e));
    goto done;
  }
  while ((de = readdir(top)) != NULL) {
    const char *dn = de->d_name;
    if (hexval(dn[0]) < 0 || hexval(dn[1]) < 0 || dn[2] != '\0')
      continue;
    int sfd = openat(dirfd(top), dn, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sfd < 0)
      continue; /* removed meanwhile, or not a folder */
    if (!(sub = fdopendir(sfd))) {
      close(sfd);
      continue;
    }
    struct dirent *fe;
    while ((fe = readdir(sub)) != NULL) {
      /* Temporary files and anything else that is not a key are skipped;
       * so is a key in the wrong sub-folder, which get would never find. */
      if (!key_ok(fe->d_name) || fe->d_name[0] != dn[0] ||
          fe->d_name[1] != dn[1])
        continue;
      sy_storage_entry e = {sizeof e, fe->d_name, NULL, 0, 0, 0};
      if (read_entry(dirfd(sub), fe->d_name, buf, label, &e) != 0)
        continue;
      if ((rc = fn(ud, &e)) != 0)
        goto done;
    }
    closedir(sub);
    sub = NULL;
  }
done:
  if (sub)
    closedir(sub);
  if (top)
    closedir(top);
  free(label);
  free(buf);
  return rc;
}

static int sf_remove(void *self, const char *key, sy_error *err) {
  storage_file *s = self;
  char path[PATH_MAX];
  int rc;
  if ((rc = check_key(key, err)) != 0)
    return rc;
  entry_path(s, key, path);
  if (unlink(path) != 0) {
    int e = errno;
    if (e == ENOENT)
      return sy_error_set(err, SY_ENOENT, "storage.file: no cache entry %s",
                          key);
    return sy_error_set(err, sy_code_from_errno(e),
                        "storage.file: cannot remove '%s': %s", path,
                        strerror(e));
  }
  return 0;
}

/* Walks every temporary file of the cache: for temporaries() (remove_s <
 * 0: visit all) and sweep() (visit those removed, being stale under
 * remove_s). */
static int walk_temps(storage_file *s, int64_t remove_s, sy_storage_visit_fn fn,
                      void *ud, sy_error *err) {
  DIR *top = NULL, *sub = NULL;
  struct dirent *de;
  int rc = 0;
  time_t now = time(NULL);
  if (!(top = opendir(s->root))) {
    int e = errno;
    if (e != ENOENT)
      rc = sy_error_set(err, sy_code_from_errno(e), "storage.file: '%s': %s",
                        s->root, strerror(e));
    return rc;
  }
  while (rc == 0 && (de = readdir(top)) != NULL) {
    const char *dn = de->d_name;
    if (hexval(dn[0]) < 0 || hexval(dn[1]) < 0 || dn[2] != '\0')
      continue;
    int sfd = openat(dirfd(top), dn, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sfd < 0)
      continue;
    if (!(sub = fdopendir(sfd))) {
      close(sfd);
      continue;
    }
    struct dirent *fe;
    while (rc == 0 && (fe = readdir(sub)) != NULL) {
      struct stat st;
      if (strncmp(fe->d_name, STORAGE_FILE_TMP_PREFIX,
                  strlen(STORAGE_FILE_TMP_PREFIX)) != 0 ||
          fstatat(dirfd(sub), fe->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        continue;
      char name[NAME_MAX + 4], label[160], key[KEY_LEN + 1];
      long pid;
      snprintf(name, sizeof name, "%.2s/%s", dn, fe->d_name);
      if (remove_s >= 0) {
        if (!temp_stale(fe->d_name, &st, now, remove_s) ||
            unlinkat(dirfd(sub), fe->d_name, 0) != 0)
          continue;
      }
      if (temp_parse(fe->d_name, key, &pid) == 0)
        snprintf(label, sizeof label,
                 "unfinished write of %.12s..., writer pid %ld %s", key, pid,
                 writer_running(pid) && remove_s < 0 ? "running here"
                                                     : "not running here");
      else
        snprintf(label, sizeof label, "unfinished write, writer unknown");
      sy_storage_entry e = {
          sizeof e, name, label, (uint64_t)st.st_size, (int64_t)st.st_mtime, 0};
      if (fn)
        rc = fn(ud, &e);
    }
    closedir(sub);
    sub = NULL;
  }
  closedir(top);
  return rc;
}

static int sf_temporaries(void *self, sy_storage_visit_fn fn, void *ud,
                          sy_error *err) {
  if (!fn)
    return sy_error_set(err, SY_EINVAL,
                        "storage.file: temporaries: no visitor");
  return walk_temps(self, -1, fn, ud, err);
}

static int sf_sweep(void *self, int64_t grace_s, sy_storage_visit_fn fn,
                    void *ud, sy_error *err) {
  if (grace_s < 0)
    return sy_error_set(err, SY_EINVAL,
                        "storage.file: sweep: negative grace period");
  return walk_temps(self, grace_s, fn, ud, err);
}

/* ---- descriptor -------------------------------------------------------- */

static const sy_storage_ops sf_ops = {
    sizeof(sy_storage_ops), sf_get,   sf_put, sf_list, sf_remove,
    sf_temporaries,         sf_sweep,
};

static const sy_option sf_options[] = {
    {"path", SY_OPT_PATH, 0, "~/.cache/switchyard", NULL, NULL, NULL,
     offsetof(storage_file_config, path),
     "Folder holding the cache entries, one file per step result; created "
     "when missing and safe to share between processes."},
    {"fsync", SY_OPT_BOOL, 0, "false", NULL, NULL, NULL,
     offsetof(storage_file_config, fsync),
     "Flush each entry to disk before publishing it; without it a power "
     "cut can cost recomputation, never a wrong result."},
    SY_OPTION_END,
};

const sy_provider storage_file_provider = {
    sizeof(sy_provider),
    SY_KIND_STORAGE,
    "file",
    "1.0.0",
    "Caches step results in a folder, one checksummed file per cache key.",
    sf_options,
    sizeof(storage_file_config),
    sf_create,
    sf_destroy,
    &sf_ops,
};
