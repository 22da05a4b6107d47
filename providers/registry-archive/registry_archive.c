/*
 * registry_archive.c - registry "archive": the registry tree kept inside
 * one archive file (tar or zip, optionally gzip- or zstd-compressed)
 * through libarchive.
 *
 * Layout. The archive holds the same tree as the file registry, every
 * file an encoded value (sy_value_encode):
 *
 *   <project>/<release>/manifest
 *   <project>/<release>/<generation>/states
 *   <project>/<release>/<generation>/tag
 *   <project>/<release>/<generation>/removed   (a removed generation's
 *                                               tombstone, alone)
 *   <project>/<release>/<generation>/note.NAME (a note, ABI 1.4: NAME is
 *                                               1 to 64 of [a-z0-9_-])
 *
 * Directory entries for those folders are accepted (other tools write
 * them) but never written. Generations are decimal, 1 and up, without
 * leading zeros. Any other entry makes the archive corrupt.
 *
 * Reading is safety first. Nothing is ever extracted to disk: entries are
 * read into memory, only those an operation needs, and decoded with
 * sy_value_decode. Before anything else every entry header is checked and
 * the whole archive refused, naming the entry and the reason, when it has
 * an absolute path or a ".." component (SY_EPERM), is a symbolic link, a
 * hard link, a device, a FIFO or anything but a regular file or folder
 * (SY_EPERM), claims more than `max_entry` bytes (SY_ETOOBIG: the limit,
 * not the archive, is what says no), or does not fit the layout
 * (SY_ECORRUPT). A header's size is never trusted for allocation: buffers
 * grow with the bytes really read, which are counted against `max_entry`
 * and against the header's claim. A truncated archive is SY_ECORRUPT.
 * Only tar (any dialect), zip, cpio and empty files are recognized, with
 * gzip, bzip2, xz and zstd filters: libarchive's "all formats" would also
 * take mtree, whose reader opens the files an mtree text names on the
 * local disk, so a hostile "archive" could make us serve /etc/shadow.
 *
 * Snapshots. An operation opens the archive file once and reads it
 * through that descriptor: pass 1 checks and indexes every header, pass 2
 * (from offset 0 again) reads the entries needed. A writer renaming a new
 * archive over the name meanwhile does not disturb the open descriptor, so
 * an operation always sees one whole archive. A missing file is an empty
 * registry.
 *
 * Writing (put_release, put_generation) never changes the archive in
 * place. Under an exclusive flock() on "<path>.lock" (kept forever: deleting
 * a lock file races), the writer indexes the current archive, checks the
 * version rule, writes "<path>.tmp.<pid>.<random>" (O_EXCL) holding a
 * copy of every existing entry (name, type, mode, mtime and data) plus the
 * new ones, fsync()s it, renames it over <path> and fsync()s the folder.
 * A crash at any moment leaves the old archive or the new one, never a
 * mix; a killed writer's temporary file is removed by the next writer
 * (under the lock no one else can be writing one). Two writers serialize
 * on the lock, so they never lose each other's generations. The cost is a
 * full copy per commit, which suits a registry's few, large writes.
 *
 * Instances hold their (immutable) configuration and a read snapshot (the
 * index of the archive file last read and a reader left where it stopped,
 * see `snap`) under a mutex, so every operation may run from any thread;
 * flock() locks belong to open file descriptions, so two threads of one
 * process exclude each other like two processes.
 *
 * Truncation. A registry archive cut anywhere is SY_ECORRUPT naming the
 * file: libarchive reads a tar that ends at an entry's boundary as
 * complete ("some writers omit the block of nulls"), so a tar must end
 * with its two blocks of zeros; a zip must end with its end-of-central-
 * directory record (or, compressed, decompress to its end); an empty file
 * is refused (every archive written, even one with no entries, has an end
 * record). Only a missing file is an empty registry.
 */
#include "registry_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Bytes per read() from the archive file, and the discard buffer. */
#define BLOCK 65536
/* The most entries an archive may hold: a hostile one must not make the
 * index grow without bound. */
#define MAX_ENTRIES (1u << 20)
/* The longest entry name accepted; longer ones cannot fit the layout. */
#define MAX_NAME 1024
/* How much of a (possibly hostile) name a message quotes. */
#define SHOW 120

enum member {
  M_DIR = 0,
  M_MANIFEST = 1,
  M_STATES = 2,
  M_TAG = 3,
  M_REMOVED = 4, /* a removed generation's tombstone */
  M_NOTE = 5     /* a note of a whole generation (ABI 1.4) */
};

/* One checked entry of the archive. */
typedef struct rec {
  char *project;
  char *release; /* NULL for a project folder */
  uint32_t gen;  /* 0 for a manifest or a release folder */
  int member;    /* enum member */
  int64_t mtime;
  size_t no;  /* its place in the archive, from 0 */
  char *note; /* M_NOTE: the note's name; NULL otherwise */
} rec;

typedef struct idx {
  rec *v;
  size_t n, cap;
} idx;

/* The reading side's cache: the index of one archive file and a reader
 * left where the last read stopped. Writers never change an archive file
 * in place (they rename a new one over it), so while the path names the
 * same file (device, inode, size and mtime) the index still holds; reading
 * entries in order (a listing, then each generation: what import does)
 * then reads the file once instead of once per entry. */
typedef struct snap {
  bool valid;
  int fd; /* the file; -1 when none */
  dev_t dev;
  ino_t ino;
  off_t size;
  struct timespec mtime;
  idx x;
  struct archive *a; /* NULL: no reader open */
  size_t next_no;    /* the entry a's next header is */
} snap;

typedef struct ra {
  char *path;      /* the archive */
  char *lock;      /* "<path>.lock" */
  char *dir;       /* the archive's folder */
  char *base;      /* the archive's file name */
  int format;      /* RA_FORMAT_* for writes */
  int compression; /* RA_COMPRESS_* for writes */
  uint64_t max_entry;
  pthread_mutex_t mu; /* guards s */
  snap s;
} ra;

/* ---- small helpers ----------------------------------------------------- */

/* A printable copy of a name that may come from a hostile archive, cut to
 * SHOW bytes, so that a message can quote it safely on a terminal. */
static const char *shown(const char *s, char buf[SHOW + 4]) {
  size_t i = 0;
  for (; s && s[i] && i < SHOW; i++) {
    unsigned char c = (unsigned char)s[i];
    buf[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
  }
  if (s && s[i])
    memcpy(buf + i, "...", 3), i += 3;
  buf[i] = '\0';
  return buf;
}

/* A note's name: 1 to 64 of [a-z0-9_-] (registry.h). */
static bool note_name_ok_n(const char *s, size_t n) {
  if (n == 0 || n > 64)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
          s[i] == '_' || s[i] == '-'))
      return false;
  return true;
}

/* Project and release names: [A-Za-z0-9_.-]+, not starting with '.'. */
static bool valid_name_n(const char *s, size_t n) {
  if (n == 0 || s[0] == '.')
    return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
      return false;
  }
  return true;
}

static bool valid_name(const char *s) {
  return s && valid_name_n(s, strlen(s));
}

/* A generation number: decimal, no leading zero, 1 to UINT32_MAX. */
static bool parse_gen(const char *s, size_t n, uint32_t *out) {
  if (n == 0 || n > 10 || s[0] == '0')
    return false;
  uint64_t g = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    g = g * 10 + (uint64_t)(s[i] - '0');
  }
  if (g > UINT32_MAX)
    return false;
  *out = (uint32_t)g;
  return true;
}

/* The core's version order (registry.h): invalid versions, stored before
 * versions were checked, sort before every valid one. */
int registry_archive_version_compare(const char *a, const char *b) {
  return sy_release_version_compare(a, b);
}

/* Versions first; distinct spellings of one version ("1.01", "1.1") get a
 * fixed order so that listings are deterministic. */
static int release_order(const char *a, const char *b) {
  int c = registry_archive_version_compare(a, b);
  return c ? c : strcmp(a, b);
}

static const char *member_name(int m) {
  return m == M_MANIFEST  ? "manifest"
         : m == M_STATES  ? "states"
         : m == M_REMOVED ? "removed"
                          : "tag";
}

/* The entry name a (file) record stands for. */
static const char *rec_name(const rec *v, char buf[MAX_NAME]) {
  if (v->member == M_MANIFEST)
    snprintf(buf, MAX_NAME, "%s/%s/manifest", v->project, v->release);
  else if (v->member == M_NOTE)
    snprintf(buf, MAX_NAME, "%s/%s/%u/note.%s", v->project, v->release, v->gen,
             v->note);
  else
    snprintf(buf, MAX_NAME, "%s/%s/%u/%s", v->project, v->release, v->gen,
             member_name(v->member));
  return buf;
}

/* ---- the index ----------------------------------------------------------- */

/* Frees the names a record owns. */
static void rec_clear(rec *v) {
  free(v->project);
  free(v->release);
  free(v->note);
  v->project = v->release = v->note = NULL;
}

static void idx_free(idx *x) {
  for (size_t i = 0; i < x->n; i++)
    rec_clear(&x->v[i]);
  free(x->v);
  x->v = NULL;
  x->n = x->cap = 0;
}

static int idx_add(idx *x, const rec *r, sy_error *err) {
  if (x->n == x->cap) {
    size_t cap = x->cap ? x->cap * 2 : 32;
    rec *v = realloc(x->v, cap * sizeof *v);
    if (!v)
      return sy_error_set(err, SY_ENOMEM, "out of memory");
    x->v = v;
    x->cap = cap;
  }
  x->v[x->n++] = *r;
  return 0;
}

static int rec_cmp(const void *pa, const void *pb) {
  const rec *a = pa, *b = pb;
  int c = strcmp(a->project, b->project);
  if (c)
    return c;
  if (!a->release || !b->release)
    return (a->release != NULL) - (b->release != NULL);
  c = release_order(a->release, b->release);
  if (c)
    return c;
  if (a->gen != b->gen)
    return a->gen < b->gen ? -1 : 1;
  if (a->member != b->member)
    return a->member - b->member;
  return a->member == M_NOTE ? strcmp(a->note, b->note) : 0;
}

/* ---- checking one entry ---------------------------------------------- */

/* An entry's name as libarchive decoded it, or NULL. */
static const char *entry_name(struct archive_entry *e) {
  const char *name = archive_entry_pathname(e);
  return name ? name : archive_entry_pathname_utf8(e);
}

/* Checks an entry's header: where it points, what it is, how big it
 * claims to be and whether it fits the layout. Fills *out (owning the
 * names) on success. */
static int check_entry(const ra *r, struct archive_entry *e, size_t no,
                       rec *out, sy_error *err) {
  char sh[SHOW + 4], sh2[SHOW + 4];
  const char *name = entry_name(e);
  if (!name || !*name)
    return sy_error_set(err, SY_ECORRUPT,
                        "archive '%s': entry #%zu has no readable name",
                        r->path, no);
  if (name[0] == '/')
    return sy_error_set(err, SY_EPERM,
                        "archive '%s': entry '%s': absolute path", r->path,
                        shown(name, sh));
  for (const char *p = name; *p;) {
    size_t n = strcspn(p, "/");
    if (n == 2 && p[0] == '.' && p[1] == '.')
      return sy_error_set(err, SY_EPERM,
                          "archive '%s': entry '%s': path has a '..' "
                          "component",
                          r->path, shown(name, sh));
    p += n;
    if (*p == '/')
      p++;
  }
  const char *link = archive_entry_symlink(e);
  mode_t type = archive_entry_filetype(e);
  if (link || type == AE_IFLNK)
    return sy_error_set(err, SY_EPERM,
                        "archive '%s': entry '%s': symbolic link (to '%s'), "
                        "not a regular file",
                        r->path, shown(name, sh), shown(link ? link : "", sh2));
  link = archive_entry_hardlink(e);
  if (link)
    return sy_error_set(err, SY_EPERM,
                        "archive '%s': entry '%s': hard link (to '%s'), not "
                        "a regular file",
                        r->path, shown(name, sh), shown(link, sh2));
  if (type != AE_IFREG && type != AE_IFDIR) {
    const char *what = type == AE_IFCHR    ? "character device"
                       : type == AE_IFBLK  ? "block device"
                       : type == AE_IFIFO  ? "FIFO"
                       : type == AE_IFSOCK ? "socket"
                                           : "entry of unknown type";
    return sy_error_set(err, SY_EPERM,
                        "archive '%s': entry '%s': %s, not a regular file",
                        r->path, shown(name, sh), what);
  }
  if (type == AE_IFREG && archive_entry_size_is_set(e)) {
    int64_t size = archive_entry_size(e);
    if (size < 0)
      return sy_error_set(err, SY_ECORRUPT,
                          "archive '%s': entry '%s': negative size", r->path,
                          shown(name, sh));
    if ((uint64_t)size > r->max_entry)
      return sy_error_set(err, SY_ETOOBIG,
                          "archive '%s': entry '%s': claims %lld bytes, "
                          "more than max_entry (%llu)",
                          r->path, shown(name, sh), (long long)size,
                          (unsigned long long)r->max_entry);
  }

  /* The layout: split into at most four components. */
  size_t len = strlen(name);
  const char *c[5];
  size_t cl[5], nc = 0;
  if (len > MAX_NAME)
    goto layout;
  if (type == AE_IFDIR && name[len - 1] == '/')
    len--;
  for (size_t i = 0; i <= len;) {
    size_t n = 0;
    while (i + n < len && name[i + n] != '/')
      n++;
    if (nc == 5)
      goto layout;
    c[nc] = name + i;
    cl[nc++] = n;
    i += n + 1;
  }
  memset(out, 0, sizeof *out);
  if (nc < 1 || !valid_name_n(c[0], cl[0]) ||
      (nc >= 2 && !valid_name_n(c[1], cl[1])))
    goto layout;
  if (type == AE_IFDIR) {
    if (nc > 3 || (nc == 3 && !parse_gen(c[2], cl[2], &out->gen)))
      goto layout;
    out->member = M_DIR;
  } else if (nc == 3 && cl[2] == 8 && memcmp(c[2], "manifest", 8) == 0) {
    out->member = M_MANIFEST;
  } else if (nc == 4 && parse_gen(c[2], cl[2], &out->gen) &&
             ((cl[3] == 6 && memcmp(c[3], "states", 6) == 0) ||
              (cl[3] == 3 && memcmp(c[3], "tag", 3) == 0) ||
              (cl[3] == 7 && memcmp(c[3], "removed", 7) == 0))) {
    out->member = cl[3] == 6 ? M_STATES : cl[3] == 3 ? M_TAG : M_REMOVED;
  } else if (nc == 4 && parse_gen(c[2], cl[2], &out->gen) && cl[3] > 5 &&
             memcmp(c[3], "note.", 5) == 0 &&
             note_name_ok_n(c[3] + 5, cl[3] - 5)) {
    out->member = M_NOTE;
    if (!(out->note = strndup(c[3] + 5, cl[3] - 5)))
      return sy_error_set(err, SY_ENOMEM, "out of memory");
  } else {
    goto layout;
  }
  out->project = strndup(c[0], cl[0]);
  out->release = nc >= 2 ? strndup(c[1], cl[1]) : NULL;
  out->mtime = archive_entry_mtime(e);
  if (!out->project || (nc >= 2 && !out->release)) {
    rec_clear(out);
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  }
  return 0;
layout:
  return sy_error_set(
      err, SY_ECORRUPT,
      "archive '%s': entry '%s': not part of the registry "
      "layout (<project>/<release>/manifest or "
      "<project>/<release>/<generation>/{states,tag,removed,note.NAME})",
      r->path, shown(name, sh));
}

/* ---- reading ------------------------------------------------------------ */

/* Opens the archive file; *fd is -1 (and the registry empty) when it does
 * not exist. */
static int open_archive(const ra *r, int *fd, sy_error *err) {
  *fd = open(r->path, O_RDONLY | O_CLOEXEC);
  if (*fd < 0) {
    if (errno == ENOENT)
      return 0;
    return sy_error_set(err, sy_code_from_errno(errno), "cannot open '%s': %s",
                        r->path, strerror(errno));
  }
  struct stat st;
  if (fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(*fd);
    *fd = -1;
    return sy_error_set(err, SY_EPERM, "archive '%s' is not a regular file",
                        r->path);
  }
  if (st.st_size == 0) {
    /* Every archive this provider writes, even one with no entries, has
     * an end-of-archive record: an empty file lost its contents. */
    close(*fd);
    *fd = -1;
    return sy_error_set(err, SY_ECORRUPT,
                        "archive '%s' is empty (0 bytes): truncated, or not "
                        "a registry; restore it, or remove it to start an "
                        "empty registry (a missing file is one)",
                        r->path);
  }
  return 0;
}

/* A reader over fd from its start. See the top of the file for why the
 * formats are listed one by one. */
static int open_reader(const ra *r, int fd, struct archive **out,
                       sy_error *err) {
  *out = NULL;
  if (lseek(fd, 0, SEEK_SET) != 0)
    return sy_error_set(err, SY_EIO, "cannot seek in '%s': %s", r->path,
                        strerror(errno));
  struct archive *a = archive_read_new();
  if (!a)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  archive_read_support_format_tar(a);
  archive_read_support_format_zip(a);
  archive_read_support_format_cpio(a);
  archive_read_support_format_empty(a);
  archive_read_support_filter_gzip(a);
  archive_read_support_filter_bzip2(a);
  archive_read_support_filter_xz(a);
  archive_read_support_filter_zstd(a);
  if (archive_read_open_fd(a, fd, BLOCK) != ARCHIVE_OK) {
    sy_error_set(err, SY_ECORRUPT, "archive '%s': %s", r->path,
                 archive_error_string(a) ? archive_error_string(a)
                                         : "cannot be read");
    archive_read_free(a);
    return SY_ECORRUPT;
  }
  *out = a;
  return 0;
}

/* The next header: 1 with *e set, 0 at the end, or an error. */
static int next_header(const ra *r, struct archive *a, struct archive_entry **e,
                       size_t no, sy_error *err) {
  int rc = archive_read_next_header(a, e);
  if (rc == ARCHIVE_EOF)
    return 0;
  if (rc == ARCHIVE_OK || rc == ARCHIVE_WARN)
    return 1;
  const char *why = archive_error_string(a);
  return sy_error_set(err, SY_ECORRUPT, "archive '%s': entry #%zu: %s", r->path,
                      no, why ? why : "unreadable header");
}

/* Reads the current entry's data. With buf NULL the bytes are only
 * counted (into *len); otherwise *buf receives them (malloc()ed). Either
 * way no more than max_entry bytes are accepted, whatever the header
 * said, and a count that differs from the header's claim is corruption. */
static int read_data(const ra *r, struct archive *a, struct archive_entry *e,
                     void **buf, size_t *len, sy_error *err) {
  char sh[SHOW + 4];
  const char *name = entry_name(e);
  int64_t claim = archive_entry_size_is_set(e) ? archive_entry_size(e) : -1;
  uint64_t max = r->max_entry;
  char *b = NULL;
  size_t n = 0, cap;
  int rc = 0;
  if (buf) {
    /* Start from the claim but never above 1 MiB: memory follows the bytes
     * really read. One spare byte shows whether the data ends. */
    cap = claim >= 0 && claim < (1 << 20) ? (size_t)claim + 1 : (1 << 20);
    if (cap > max + 1)
      cap = (size_t)max + 1;
  } else {
    cap = BLOCK;
  }
  b = malloc(cap);
  if (!b)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  for (;;) {
    size_t used = buf ? n : 0;
    if (buf && used == cap) {
      size_t ncap = cap * 2;
      if (ncap > max + 1)
        ncap = (size_t)max + 1;
      char *nb = realloc(b, ncap);
      if (!nb) {
        rc = sy_error_set(err, SY_ENOMEM, "out of memory");
        goto fail;
      }
      b = nb;
      cap = ncap;
    }
    la_ssize_t got = archive_read_data(a, b + used, cap - used);
    if (got < 0) {
      const char *why = archive_error_string(a);
      rc =
          sy_error_set(err, SY_ECORRUPT, "archive '%s': entry '%s': %s",
                       r->path, shown(name, sh), why ? why : "unreadable data");
      goto fail;
    }
    if (got == 0)
      break;
    n += (size_t)got;
    if (n > max) {
      rc = sy_error_set(err, SY_ETOOBIG,
                        "archive '%s': entry '%s': holds more than "
                        "max_entry (%llu) bytes",
                        r->path, shown(name, sh), (unsigned long long)max);
      goto fail;
    }
  }
  if (claim >= 0 && (uint64_t)claim != n) {
    rc = sy_error_set(err, SY_ECORRUPT,
                      "archive '%s': entry '%s': holds %zu bytes, its "
                      "header claims %lld (truncated?)",
                      r->path, shown(name, sh), n, (long long)claim);
    goto fail;
  }
  *len = n;
  if (buf)
    *buf = b;
  else
    free(b);
  return 0;
fail:
  free(b);
  return rc;
}

/* A zip read to its last entry may still have lost its end: libarchive's
 * streaming zip reader stops at the central directory. A whole zip file
 * ends with the end-of-central-directory record ("PK\5\6", 22 bytes and a
 * comment); a compressed one (zip inside gzip or zstd) must decompress to
 * its end without error. */
static int zip_whole(const ra *r, int fd, bool filtered, size_t entries,
                     sy_error *err) {
  struct stat st;
  if (fstat(fd, &st) != 0)
    return sy_error_set(err, SY_EIO, "cannot read '%s': %s", r->path,
                        strerror(errno));
  bool ok = false;
  if (filtered) {
    struct archive *a = archive_read_new();
    if (!a)
      return sy_error_set(err, SY_ENOMEM, "out of memory");
    archive_read_support_format_raw(a);
    archive_read_support_filter_gzip(a);
    archive_read_support_filter_bzip2(a);
    archive_read_support_filter_xz(a);
    archive_read_support_filter_zstd(a);
    struct archive_entry *e;
    if (lseek(fd, 0, SEEK_SET) == 0 &&
        archive_read_open_fd(a, fd, BLOCK) == ARCHIVE_OK &&
        archive_read_next_header(a, &e) == ARCHIVE_OK) {
      char buf[BLOCK];
      la_ssize_t n;
      while ((n = archive_read_data(a, buf, sizeof buf)) > 0)
        ;
      ok = n == 0;
    }
    archive_read_free(a);
  } else {
    size_t tail = st.st_size < 22 + 65535 ? (size_t)st.st_size : 22 + 65535;
    unsigned char *b = malloc(tail ? tail : 1);
    if (!b)
      return sy_error_set(err, SY_ENOMEM, "out of memory");
    if (pread(fd, b, tail, st.st_size - (off_t)tail) == (ssize_t)tail)
      for (size_t i = tail >= 22 ? tail - 22 + 1 : 0; i-- > 0 && !ok;)
        ok = memcmp(b + i, "PK\5\6", 4) == 0 &&
             i + 22 + (size_t)sy_le16_get(b + i + 20) == tail;
    free(b);
  }
  if (ok)
    return 0;
  return sy_error_set(err, SY_ECORRUPT,
                      "archive '%s' is truncated: a zip whose end (the "
                      "central directory) is missing or cut, after %zu "
                      "entries; restore it from a backup or an export "
                      "(nothing was changed)",
                      r->path, entries);
}

/* Pass 1: checks every header of the archive behind fd (-1: none) and
 * indexes the entries, sorted, with the layout's rules checked: no
 * duplicate files, a manifest for every release that has generations,
 * both members in every generation. */
static int scan(const ra *r, int fd, idx *x, sy_error *err) {
  struct archive *a = NULL;
  struct archive_entry *e;
  char sh[SHOW + 4];
  int rc = 0;
  size_t no = 0;
  memset(x, 0, sizeof *x);
  if (fd < 0)
    return 0;
  rc = open_reader(r, fd, &a, err);
  if (rc)
    return rc;
  for (;;) {
    int64_t before = archive_filter_bytes(a, 0);
    rc = next_header(r, a, &e, no, err);
    if (rc == 0 &&
        (archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_TAR &&
        archive_filter_bytes(a, 0) - before < 1024) {
      /* libarchive takes the end of the file at an entry's boundary for
       * the end of a tar ("some writers omit the block of nulls"), but a
       * tar cut there lost its later entries: every tar this provider
       * writes ends with the two 512-byte blocks of zeros. */
      rc = sy_error_set(err, SY_ECORRUPT,
                        "archive '%s' is truncated: it ends after %zu "
                        "entries without the end-of-archive blocks; restore "
                        "it from a backup or an export (nothing was changed)",
                        r->path, no);
      break;
    }
    if (rc <= 0)
      break;
    if (no >= MAX_ENTRIES) {
      rc = sy_error_set(err, SY_ETOOBIG, "archive '%s': more than %u entries",
                        r->path, MAX_ENTRIES);
      break;
    }
    rec one;
    rc = check_entry(r, e, no, &one, err);
    if (rc)
      break;
    one.no = no;
    rc = idx_add(x, &one, err);
    if (rc) {
      rec_clear(&one);
      break;
    }
    no++;
    if (archive_entry_filetype(e) == AE_IFREG &&
        !archive_entry_size_is_set(e)) {
      /* No size in the header: count the bytes against the limit. */
      size_t n;
      rc = read_data(r, a, e, NULL, &n, err);
    } else if (archive_entry_size_is_set(e) && archive_entry_size(e) > 0) {
      if (archive_read_data_skip(a) != ARCHIVE_OK)
        rc = sy_error_set(err, SY_ECORRUPT, "archive '%s': entry '%s': %s",
                          r->path, shown(entry_name(e), sh),
                          archive_error_string(a) ? archive_error_string(a)
                                                  : "unreadable data");
    }
    if (rc)
      break;
  }
  if (rc == 0 &&
      (archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_ZIP)
    rc = zip_whole(r, fd, archive_filter_count(a) > 1, no, err);
  if (rc == 0) {
    /* Skipping seeks, and a seek past the end of a file succeeds: a tar
     * cut inside its last entry would pass for whole. What was consumed
     * must lie within the file. */
    struct stat st;
    int64_t used = archive_filter_bytes(a, -1);
    if (fstat(fd, &st) == 0 && used > (int64_t)st.st_size)
      rc = sy_error_set(err, SY_ECORRUPT,
                        "archive '%s': truncated (%lld bytes, entries need "
                        "%lld)",
                        r->path, (long long)st.st_size, (long long)used);
  }
  archive_read_free(a);
  if (rc)
    goto fail;

  if (x->n)
    qsort(x->v, x->n, sizeof *x->v, rec_cmp);
  for (size_t i = 0; i < x->n; i++) {
    const rec *v = &x->v[i];
    if (v->member == M_DIR)
      continue;
    if (i + 1 < x->n && rec_cmp(v, &x->v[i + 1]) == 0) {
      char nm[MAX_NAME];
      rc = sy_error_set(err, SY_ECORRUPT,
                        "archive '%s': entry '%s' appears twice", r->path,
                        rec_name(v, nm));
      goto fail;
    }
  }
  /* Walk release by release: a manifest first, then whole generations
   * or tombstones of removed ones (never both for one number). */
  const char *prel = NULL, *pproj = NULL;
  bool have_manifest = false;
  uint32_t whole_gen = 0;
  for (size_t i = 0; i < x->n; i++) {
    const rec *v = &x->v[i];
    if (v->member == M_DIR)
      continue;
    if (!prel || strcmp(v->project, pproj) != 0 ||
        strcmp(v->release, prel) != 0) {
      pproj = v->project;
      prel = v->release;
      have_manifest = false;
      whole_gen = 0;
    }
    if (v->member == M_MANIFEST) {
      have_manifest = true;
      continue;
    }
    if (!have_manifest) {
      char nm[MAX_NAME];
      rc = sy_error_set(err, SY_ECORRUPT,
                        "archive '%s': entry '%s': release has no manifest",
                        r->path, rec_name(v, nm));
      goto fail;
    }
    /* Sorted by member, a whole generation is states then tag. */
    bool whole =
        v->member == M_STATES && i + 1 < x->n && x->v[i + 1].member == M_TAG &&
        rec_cmp(&(rec){v->project, v->release, v->gen, M_TAG, 0, 0, NULL},
                &x->v[i + 1]) == 0;
    if (v->member == M_NOTE) {
      /* Sorted by member, a generation's notes follow its tag. */
      if (whole_gen != v->gen) {
        char nm[MAX_NAME];
        rc = sy_error_set(err, SY_ECORRUPT,
                          "archive '%s': entry '%s': a note of a generation "
                          "that is not there",
                          r->path, rec_name(v, nm));
        goto fail;
      }
      continue;
    }
    if (v->member == M_REMOVED) {
      if (whole_gen == v->gen) {
        rc = sy_error_set(err, SY_ECORRUPT,
                          "archive '%s': generation '%s/%s/%u' is both "
                          "there and removed",
                          r->path, v->project, v->release, v->gen);
        goto fail;
      }
      continue;
    }
    if (!whole) {
      rc = sy_error_set(err, SY_ECORRUPT,
                        "archive '%s': generation '%s/%s/%u' lacks its %s",
                        r->path, v->project, v->release, v->gen,
                        v->member == M_STATES ? "tag" : "states");
      goto fail;
    }
    whole_gen = v->gen;
    i++;
  }
  return 0;
fail:
  idx_free(x);
  return rc;
}

/* Pass 2: reads the entries of the snapshot's index that recs point to
 * (n of them) into bufs/lens. The snapshot's reader goes on from where
 * the last read stopped when every entry wanted lies ahead of it, and
 * starts again from the top otherwise: reading entries in archive order
 * reads the file once. Called with the snapshot lock held. */
static int read_at(ra *r, const rec *const *recs, size_t n, void **bufs,
                   size_t *lens, sy_error *err) {
  snap *s = &r->s;
  struct archive_entry *e;
  size_t left = n, lo = SIZE_MAX;
  rec one;
  int rc = 0;
  for (size_t i = 0; i < n; i++) {
    bufs[i] = NULL;
    lo = recs[i]->no < lo ? recs[i]->no : lo;
  }
  if (s->a && s->next_no > lo) {
    archive_read_free(s->a);
    s->a = NULL;
  }
  if (!s->a) {
    if ((rc = open_reader(r, s->fd, &s->a, err)) != 0)
      return rc;
    s->next_no = 0;
  }
  while (left) {
    size_t no = s->next_no++;
    rc = next_header(r, s->a, &e, no, err);
    if (rc < 0)
      goto fail;
    if (rc == 0) {
      rc = sy_error_set(err, SY_ECORRUPT, "archive '%s': entries vanished",
                        r->path);
      goto fail;
    }
    /* The same checks as pass 1: the bytes are the same, but checking
     * costs nothing and keeps this function safe on its own. */
    rc = check_entry(r, e, no, &one, err);
    if (rc)
      goto fail;
    rec_clear(&one);
    for (size_t i = 0; i < n; i++) {
      if (!bufs[i] && recs[i]->no == no) {
        rc = read_data(r, s->a, e, &bufs[i], &lens[i], err);
        if (rc)
          goto fail;
        left--;
        break;
      }
    }
  }
  return 0;
fail:
  archive_read_free(s->a);
  s->a = NULL;
  for (size_t i = 0; i < n; i++) {
    free(bufs[i]);
    bufs[i] = NULL;
  }
  return rc;
}

/* Drops the snapshot (lock held). */
static void snap_drop(snap *s) {
  if (s->a)
    archive_read_free(s->a);
  if (s->fd >= 0)
    close(s->fd);
  idx_free(&s->x);
  s->a = NULL;
  s->fd = -1;
  s->valid = false;
}

/* Makes the snapshot that of the archive now at the path (lock held): the
 * cached one when the path still names the same file, unchanged, else a
 * fresh open and scan. A missing file is an empty index (fd -1). */
static int snap_get(ra *r, sy_error *err) {
  snap *s = &r->s;
  struct stat st;
  if (s->valid && s->fd >= 0 && stat(r->path, &st) == 0 &&
      st.st_dev == s->dev && st.st_ino == s->ino && st.st_size == s->size &&
      st.st_mtim.tv_sec == s->mtime.tv_sec &&
      st.st_mtim.tv_nsec == s->mtime.tv_nsec)
    return 0;
  snap_drop(s);
  int fd = -1;
  int rc = open_archive(r, &fd, err);
  if (rc)
    return rc;
  if (fd >= 0) {
    if (fstat(fd, &st) != 0) {
      rc = sy_error_set(err, SY_EIO, "cannot read '%s': %s", r->path,
                        strerror(errno));
      close(fd);
      return rc;
    }
    s->dev = st.st_dev;
    s->ino = st.st_ino;
    s->size = st.st_size;
    s->mtime = st.st_mtim;
  }
  if ((rc = scan(r, fd, &s->x, err)) != 0) {
    if (fd >= 0)
      close(fd);
    return rc;
  }
  s->fd = fd;
  s->valid = true;
  return 0;
}

static int decode(const ra *r, const char *name, const void *buf, size_t len,
                  sy_value **out, sy_error *err) {
  sy_error derr;
  sy_error_clear(&derr);
  int rc = sy_value_decode(buf, len, out, &derr);
  if (rc)
    return sy_error_set(err, rc, "archive '%s': entry '%s': %s", r->path, name,
                        derr.message);
  return 0;
}

/* "a, b, c" of the distinct names in the index that match: projects when
 * project is NULL, else that project's releases. Cut with ", ..." to fit. */
static void join_names(const idx *x, const char *project, char *out,
                       size_t cap) {
  size_t len = 0;
  const char *last = NULL;
  out[0] = '\0';
  for (size_t i = 0; i < x->n; i++) {
    const rec *v = &x->v[i];
    const char *name;
    if (project) {
      if (v->member != M_MANIFEST || strcmp(v->project, project) != 0)
        continue;
      name = v->release;
    } else {
      if (v->member != M_MANIFEST)
        continue;
      name = v->project;
    }
    if (last && strcmp(last, name) == 0)
      continue;
    last = name;
    size_t need = strlen(name) + (len ? 2 : 0);
    if (len + need + 5 > cap) {
      snprintf(out + len, cap - len, "%s...", len ? ", " : "");
      return;
    }
    len +=
        (size_t)snprintf(out + len, cap - len, "%s%s", len ? ", " : "", name);
  }
}

/* Finds the manifest record of project/release (release NULL: the
 * latest); SY_ENOENT naming what exists otherwise. */
static int find_release(const ra *r, const idx *x, const char *project,
                        const char *release, const rec **out, sy_error *err) {
  const rec *latest = NULL;
  bool any = false;
  char names[400];
  *out = NULL;
  for (size_t i = 0; i < x->n; i++) {
    const rec *v = &x->v[i];
    if (v->member != M_MANIFEST || strcmp(v->project, project) != 0)
      continue;
    any = true;
    if (!release || strcmp(v->release, release) == 0)
      latest = v; /* sorted: the last one seen is the newest */
  }
  if (latest) {
    *out = latest;
    return 0;
  }
  if (!any) {
    join_names(x, NULL, names, sizeof names);
    return sy_error_set(
        err, SY_ENOENT, "no project '%s' in '%s'; %s%s", project, r->path,
        names[0] ? "projects: " : "the registry is empty", names);
  }
  join_names(x, project, names, sizeof names);
  return sy_error_set(err, SY_ENOENT,
                      "project '%s' has no release '%s'; releases: %s", project,
                      release, names);
}

static int check_names(const char *project, const char *release,
                       bool need_release, sy_error *err) {
  /* Entry names must fit MAX_NAME with "/4294967295/states". */
  if (project && release && strlen(project) + strlen(release) > MAX_NAME - 32)
    return sy_error_set(err, SY_EINVAL,
                        "project and release names are "
                        "longer than %d bytes together",
                        MAX_NAME - 32);
  if (!valid_name(project))
    return sy_error_set(err, SY_EINVAL, "invalid project name '%s'",
                        project ? project : "(null)");
  if ((release || need_release) && !valid_name(release))
    return sy_error_set(err, SY_EINVAL, "invalid release name '%s'",
                        release ? release : "(null)");
  return 0;
}

/* ---- writing ---------------------------------------------------------- */

/* An entry to add: its name and its encoded value. */
typedef struct addition {
  char name[MAX_NAME];
  void *buf;
  size_t len;
} addition;

static int mkdir_p(const char *dir, sy_error *err) {
  char *p = strdup(dir);
  int rc = 0;
  if (!p)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  for (char *s = p + 1;; s++) {
    if (*s == '/' || *s == '\0') {
      char c = *s;
      *s = '\0';
      if (mkdir(p, 0755) != 0 && errno != EEXIST) {
        rc = sy_error_set(err, sy_code_from_errno(errno),
                          "cannot create '%s': %s", p, strerror(errno));
        break;
      }
      *s = c;
      if (!c)
        break;
    }
  }
  free(p);
  return rc;
}

/* Takes the writers' lock; *fd holds it until closed. */
static int lock_take(const ra *r, int *fd, sy_error *err) {
  int rc = mkdir_p(r->dir, err);
  if (rc)
    return rc;
  *fd = open(r->lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (*fd < 0)
    return sy_error_set(err, sy_code_from_errno(errno),
                        "cannot open lock '%s': %s", r->lock, strerror(errno));
  while (flock(*fd, LOCK_EX) != 0) {
    if (errno != EINTR) {
      rc = sy_error_set(err, SY_EIO, "cannot lock '%s': %s", r->lock,
                        strerror(errno));
      close(*fd);
      *fd = -1;
      return rc;
    }
  }
  return 0;
}

/* Removes temporary archives left by killed writers. Called under the
 * lock, when no other writer can own one. */
static void remove_stale(const ra *r) {
  size_t bl = strlen(r->base);
  DIR *d = opendir(r->dir);
  if (!d)
    return;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (strncmp(de->d_name, r->base, bl) == 0 &&
        strncmp(de->d_name + bl, ".tmp.", 5) == 0)
      unlinkat(dirfd(d), de->d_name, 0);
  }
  closedir(d);
}

static int add_filter(struct archive *w, int compression) {
  switch (compression) {
  case RA_COMPRESS_GZIP:
    return archive_write_add_filter_gzip(w);
  case RA_COMPRESS_ZSTD:
    return archive_write_add_filter_zstd(w);
  default:
    return archive_write_add_filter_none(w);
  }
}

static int set_format(struct archive *w, int format) {
  return format == RA_FORMAT_ZIP ? archive_write_set_format_zip(w)
                                 : archive_write_set_format_pax_restricted(w);
}

static int write_one(const ra *r, struct archive *w, const char *name,
                     mode_t type, mode_t perm, time_t sec, long nsec,
                     const void *buf, size_t len, sy_error *err) {
  char sh[SHOW + 4];
  struct archive_entry *e = archive_entry_new();
  int rc = 0;
  if (!e)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  archive_entry_set_pathname(e, name);
  archive_entry_set_filetype(e, type);
  archive_entry_set_perm(e, perm);
  archive_entry_set_mtime(e, sec, nsec);
  archive_entry_set_size(e, type == AE_IFREG ? (la_int64_t)len : 0);
  if (archive_write_header(w, e) != ARCHIVE_OK)
    goto fail;
  for (size_t off = 0; off < len;) {
    la_ssize_t n = archive_write_data(w, (const char *)buf + off, len - off);
    if (n <= 0)
      goto fail;
    off += (size_t)n;
  }
  if (archive_write_finish_entry(w) != ARCHIVE_OK)
    goto fail;
  archive_entry_free(e);
  return 0;
fail:
  rc = sy_error_set(err, SY_EIO, "cannot write entry '%s' to a new '%s': %s",
                    shown(name, sh), r->path,
                    archive_error_string(w) ? archive_error_string(w)
                                            : "write failed");
  archive_entry_free(e);
  return rc;
}

/* Whether an entry's name lies at or under `prefix` (a folder name). */
static bool under(const char *name, const char *prefix) {
  size_t n = strlen(prefix);
  return strncmp(name, prefix, n) == 0 && (name[n] == '\0' || name[n] == '/');
}

/* Copies every entry of the archive behind oldfd (-1: none) into w, but
 * those at or under `skip` (NULL: none). */
/* Copies the old archive's entries (but those under `skip`) into w.
 * `expect` is how many entries the scan of the same file found under the
 * same lock: a second read that ends early (a damaged zip whose data
 * reads differently than it skips) must not write an archive that lost
 * the rest, so a count that differs is corruption and nothing changes. */
static int copy_entries(const ra *r, int oldfd, struct archive *w,
                        const char *skip, size_t expect, sy_error *err) {
  struct archive *a = NULL;
  struct archive_entry *e;
  size_t no = 0;
  int rc;
  if (oldfd < 0)
    return 0;
  rc = open_reader(r, oldfd, &a, err);
  if (rc)
    return rc;
  for (;;) {
    rc = next_header(r, a, &e, no, err);
    if (rc <= 0)
      break;
    rec one;
    rc = check_entry(r, e, no++, &one, err);
    if (rc)
      break;
    rec_clear(&one);
    if (skip && under(entry_name(e), skip)) {
      if (archive_read_data_skip(a) != ARCHIVE_OK) {
        rc = sy_error_set(err, SY_ECORRUPT, "archive '%s': %s", r->path,
                          archive_error_string(a) ? archive_error_string(a)
                                                  : "unreadable data");
        break;
      }
      continue;
    }
    mode_t type = archive_entry_filetype(e);
    void *buf = NULL;
    size_t len = 0;
    if (type == AE_IFREG) {
      rc = read_data(r, a, e, &buf, &len, err);
      if (rc)
        break;
    }
    rc = write_one(r, w, entry_name(e), type, archive_entry_perm(e) & 0777,
                   archive_entry_mtime(e), archive_entry_mtime_nsec(e), buf,
                   len, err);
    free(buf);
    if (rc)
      break;
  }
  if (rc == 0 && no != expect)
    rc = sy_error_set(err, SY_ECORRUPT,
                      "archive '%s' is damaged: reading it again found %zu "
                      "entries where the first read found %zu; nothing was "
                      "changed: restore it from a backup or an export",
                      r->path, no, expect);
  archive_read_free(a);
  return rc;
}

/* Writes more entries into a new archive (put_release_all). */
typedef int (*more_fn)(void *ud, const ra *r, struct archive *w, sy_error *err);

/* Writes a new archive holding the old one's entries (but those under
 * `skip`), `adds` and what `more` writes, then renames it over the old
 * one. Must be called under the lock. */
static int write_archive(const ra *r, int oldfd, size_t old_entries,
                         const addition *adds, size_t nadds, const char *skip,
                         more_fn more, void *ud, sy_error *err) {
  char *tmp = NULL;
  struct archive *w = NULL;
  int fd = -1, rc = 0;
  uint64_t rnd = 0;
  if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd)
    rnd = (uint64_t)time(NULL) ^ ((uint64_t)(uintptr_t)&rnd << 16);
  size_t tl = strlen(r->path) + 64;
  tmp = malloc(tl);
  if (!tmp)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  snprintf(tmp, tl, "%s.tmp.%ld.%016llx", r->path, (long)getpid(),
           (unsigned long long)rnd);
  remove_stale(r);
  fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    /* A clash of random temporary names stays SY_EIO: SY_EEXIST from a
     * registry means a release that exists or is not newer (registry.h). */
    int e = errno;
    rc = sy_error_set(err, e == EEXIST ? SY_EIO : sy_code_from_errno(e),
                      "cannot create '%s': %s", tmp, strerror(e));
    free(tmp);
    return rc;
  }
  struct stat st;
  if (oldfd >= 0 && fstat(oldfd, &st) == 0)
    (void)fchmod(fd, st.st_mode & 0777);

  w = archive_write_new();
  if (!w) {
    rc = sy_error_set(err, SY_ENOMEM, "out of memory");
    goto fail;
  }
  if (set_format(w, r->format) != ARCHIVE_OK ||
      add_filter(w, r->compression) != ARCHIVE_OK ||
      archive_write_set_bytes_in_last_block(w, 1) != ARCHIVE_OK ||
      archive_write_open_fd(w, fd) != ARCHIVE_OK) {
    rc = sy_error_set(err, SY_EIO, "cannot start a new '%s': %s", r->path,
                      archive_error_string(w) ? archive_error_string(w)
                                              : "libarchive failed");
    goto fail;
  }
  rc = copy_entries(r, oldfd, w, skip, old_entries, err);
  if (rc)
    goto fail;
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  for (size_t i = 0; i < nadds; i++) {
    rc = write_one(r, w, adds[i].name, AE_IFREG, 0644, now.tv_sec, now.tv_nsec,
                   adds[i].buf, adds[i].len, err);
    if (rc)
      goto fail;
  }
  if (more && (rc = more(ud, r, w, err)) != 0)
    goto fail;
  if (archive_write_close(w) != ARCHIVE_OK) {
    rc = sy_error_set(err, SY_EIO, "cannot finish a new '%s': %s", r->path,
                      archive_error_string(w) ? archive_error_string(w)
                                              : "write failed");
    goto fail;
  }
  archive_write_free(w);
  w = NULL;
  if (fsync(fd) != 0) {
    rc =
        sy_error_set(err, SY_EIO, "cannot sync '%s': %s", tmp, strerror(errno));
    goto fail;
  }
  int cfd = fd;
  fd = -1;
  if (close(cfd) != 0) {
    rc = sy_error_set(err, SY_EIO, "cannot write '%s': %s", tmp,
                      strerror(errno));
    goto fail;
  }
  if (rename(tmp, r->path) != 0) {
    rc = sy_error_set(err, sy_code_from_errno(errno), "cannot replace '%s': %s",
                      r->path, strerror(errno));
    goto fail;
  }
  /* Best effort: make the new name itself survive a crash. */
  int dfd = open(r->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)fsync(dfd);
    close(dfd);
  }
  free(tmp);
  return 0;
fail:
  if (w)
    archive_write_free(w);
  if (fd >= 0)
    close(fd);
  unlink(tmp);
  free(tmp);
  return rc;
}

/* ---- the operations ------------------------------------------------------ */

/* The version rule for a new release, against the index (writer's lock
 * held): the version is valid, not there yet, and newer than the latest. */
static int check_new_release(const ra *r, const idx *x, const char *project,
                             const char *release, sy_error *err) {
  (void)r;
  if (!sy_release_version_valid(release))
    return sy_error_set(err, SY_EINVAL,
                        "release version '%s' is not valid (numbers joined "
                        "by '.', e.g. 1.0 or 2.1-rc.1)",
                        release);
  const rec *latest = NULL;
  for (size_t i = 0; i < x->n; i++) {
    const rec *v = &x->v[i];
    if (v->member != M_MANIFEST || strcmp(v->project, project) != 0)
      continue;
    if (strcmp(v->release, release) == 0)
      return sy_error_set(err, SY_EEXIST, "release %s/%s exists", project,
                          release);
    latest = v; /* sorted: the last one is the newest */
  }
  if (latest && registry_archive_version_compare(release, latest->release) <= 0)
    return sy_error_set(err, SY_EEXIST,
                        "release '%s' of '%s' is not newer than the latest, "
                        "'%s'",
                        release, project, latest->release);
  return 0;
}

/* A reader's hold: the names checked (check_names' need_release), the
 * archive's snapshot under r->mu and the release in it. On success r->mu
 * is held for the caller to unlock; on failure it is not. */
static int read_begin(ra *r, const char *project, const char *release,
                      bool need_release, const rec **v, sy_error *err) {
  int rc = check_names(project, release, need_release, err);
  if (rc)
    return rc;
  pthread_mutex_lock(&r->mu);
  if ((rc = snap_get(r, err)) ||
      (rc = find_release(r, &r->s.x, project, release, v, err)))
    pthread_mutex_unlock(&r->mu);
  return rc;
}

static int ra_get_release(void *self, const char *project, const char *release,
                          sy_value **manifest, char **found, sy_error *err) {
  ra *r = self;
  int rc;
  void *buf = NULL;
  size_t len = 0;
  char name[MAX_NAME];
  const rec *v;
  if (manifest)
    *manifest = NULL;
  if (found)
    *found = NULL;
  if ((rc = read_begin(r, project, release, false, &v, err)))
    return rc;
  snprintf(name, sizeof name, "%s/%s/manifest", project, v->release);
  if (manifest) {
    if ((rc = read_at(r, &v, 1, &buf, &len, err)) ||
        (rc = decode(r, name, buf, len, manifest, err)))
      goto done;
  }
  if (found && !(*found = strdup(v->release))) {
    rc = sy_error_set(err, SY_ENOMEM, "out of memory");
    if (manifest) {
      sy_value_unref(*manifest);
      *manifest = NULL;
    }
  }
done:
  pthread_mutex_unlock(&r->mu);
  free(buf);
  return rc;
}

/* A writer's hold on the archive: the writers' lock, the archive open
 * and its index, taken in that order by edit_begin and released by
 * edit_end (whatever edit_begin got to). */
typedef struct edit {
  int lock, fd;
  idx x;
} edit;

static int edit_begin(const ra *r, edit *w, sy_error *err) {
  int rc;
  if ((rc = lock_take(r, &w->lock, err)) || (rc = open_archive(r, &w->fd, err)))
    return rc;
  return scan(r, w->fd, &w->x, err);
}

static void edit_end(edit *w) {
  idx_free(&w->x);
  if (w->fd >= 0)
    close(w->fd);
  if (w->lock >= 0)
    close(w->lock);
}

static int ra_put_generation(void *self, const char *project,
                             const char *release, const sy_value *states,
                             const sy_value *tag, uint32_t *generation,
                             sy_error *err) {
  const ra *r = self;
  addition add[2] = {{.buf = NULL}, {.buf = NULL}};
  edit w = {.lock = -1, .fd = -1};
  int rc;
  const rec *rel;
  rc = check_names(project, release, true, err);
  if (rc)
    return rc;
  if (!states || !tag)
    return sy_error_set(err, SY_EINVAL, "a generation needs states and a tag");
  if ((rc = sy_value_encode(states, &add[0].buf, &add[0].len)) ||
      (rc = sy_value_encode(tag, &add[1].buf, &add[1].len))) {
    sy_error_set(err, rc, "cannot encode the generation of %s/%s", project,
                 release);
    goto done;
  }
  if ((rc = edit_begin(r, &w, err)) ||
      (rc = find_release(r, &w.x, project, release, &rel, err)))
    goto done;
  /* Removed generations keep their numbers: never given out again. */
  uint32_t last = 0;
  for (size_t i = 0; i < w.x.n; i++) {
    const rec *v = &w.x.v[i];
    if ((v->member == M_STATES || v->member == M_REMOVED) &&
        strcmp(v->project, project) == 0 && strcmp(v->release, release) == 0 &&
        v->gen > last)
      last = v->gen;
  }
  if (last == UINT32_MAX) {
    rc = sy_error_set(err, SY_ERANGE,
                      "release %s/%s has no generation "
                      "numbers left",
                      project, release);
    goto done;
  }
  snprintf(add[0].name, sizeof add[0].name, "%s/%s/%u/states", project, release,
           last + 1);
  snprintf(add[1].name, sizeof add[1].name, "%s/%s/%u/tag", project, release,
           last + 1);
  rc = write_archive(r, w.fd, w.x.n, add, 2, NULL, NULL, NULL, err);
  if (rc == 0 && generation)
    *generation = last + 1;
done:
  edit_end(&w);
  free(add[0].buf);
  free(add[1].buf);
  return rc;
}

/* The record of one member of a generation in the sorted index, or NULL. */
static const rec *find_member(const idx *x, const char *project,
                              const char *release, uint32_t gen, int member) {
  rec key = {(char *)project, (char *)release, gen, member, 0, 0, NULL};
  size_t lo = 0, hi = x->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = rec_cmp(&key, &x->v[mid]);
    if (c == 0)
      return &x->v[mid];
    if (c < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return NULL;
}

static int ra_get_generation(void *self, const char *project,
                             const char *release, uint32_t generation,
                             sy_value **states, sy_value **tag, uint32_t *found,
                             sy_error *err) {
  ra *r = self;
  int rc;
  void *bufs[2] = {NULL, NULL};
  size_t lens[2] = {0, 0};
  char sn[MAX_NAME], tn[MAX_NAME];
  const rec *rel;
  if (states)
    *states = NULL;
  if (tag)
    *tag = NULL;
  if ((rc = read_begin(r, project, release, true, &rel, err)))
    return rc;
  const idx *x = &r->s.x;
  uint32_t last = 0;
  if (generation == 0) {
    for (size_t i = 0; i < x->n; i++) {
      const rec *v = &x->v[i];
      if (v->member == M_STATES && v->gen > last &&
          strcmp(v->project, project) == 0 && strcmp(v->release, release) == 0)
        last = v->gen;
    }
    if (last == 0) {
      rc = sy_error_set(err, SY_ENOENT, "release %s/%s has no generations",
                        project, release);
      goto done;
    }
    generation = last;
  }
  const rec *m[2] = {find_member(x, project, release, generation, M_STATES),
                     find_member(x, project, release, generation, M_TAG)};
  if (!m[0] || !m[1]) {
    bool removed =
        find_member(x, project, release, generation, M_REMOVED) != NULL;
    for (size_t i = 0; i < x->n; i++) {
      const rec *v = &x->v[i];
      if (v->member == M_STATES && v->gen > last &&
          strcmp(v->project, project) == 0 && strcmp(v->release, release) == 0)
        last = v->gen;
    }
    if (removed)
      rc = sy_error_set(err, SY_ENOENT,
                        "release %s/%s: generation %u was removed", project,
                        release, generation);
    else if (last == 0)
      rc = sy_error_set(err, SY_ENOENT, "release %s/%s has no generations",
                        project, release);
    else
      rc = sy_error_set(err, SY_ENOENT,
                        "release %s/%s has no generation %u; the latest is %u",
                        project, release, generation, last);
    goto done;
  }
  snprintf(sn, sizeof sn, "%s/%s/%u/states", project, release, generation);
  snprintf(tn, sizeof tn, "%s/%s/%u/tag", project, release, generation);
  if ((rc = read_at(r, m, 2, bufs, lens, err)))
    goto done;
  if (states && (rc = decode(r, sn, bufs[0], lens[0], states, err)))
    goto done;
  if (tag && (rc = decode(r, tn, bufs[1], lens[1], tag, err))) {
    if (states) {
      sy_value_unref(*states);
      *states = NULL;
    }
    goto done;
  }
  if (found)
    *found = generation;
done:
  pthread_mutex_unlock(&r->mu);
  free(bufs[0]);
  free(bufs[1]);
  return rc;
}

static int ra_list(void *self, const char *project, const char *release,
                   sy_registry_visit_fn fn, void *ud, sy_error *err) {
  ra *r = self;
  int rc;
  if (!fn)
    return sy_error_set(err, SY_EINVAL, "no visitor");
  if ((project && !valid_name(project)) || (release && !valid_name(release)))
    return sy_error_set(err, SY_EINVAL, "invalid project or release name");
  /* The entries are copied out under the lock and visited after it, so a
   * visitor may call this instance again. */
  idx out = {0};
  pthread_mutex_lock(&r->mu);
  const idx *x = &r->s.x;
  rc = snap_get(r, err);
  for (size_t i = 0; rc == 0 && i < x->n; i++) {
    const rec *v = &x->v[i];
    if (v->member == M_DIR || v->member == M_TAG || v->member == M_REMOVED ||
        v->member == M_NOTE || (project && strcmp(v->project, project) != 0) ||
        (release && strcmp(v->release, release) != 0))
      continue;
    rec c = *v;
    c.note = NULL;
    /* A generation's time is that of its later member. */
    if (v->member == M_STATES && i + 1 < x->n && x->v[i + 1].mtime > c.mtime)
      c.mtime = x->v[i + 1].mtime;
    c.project = strdup(v->project);
    c.release = strdup(v->release);
    if (!c.project || !c.release) {
      free(c.project);
      free(c.release);
      rc = sy_error_set(err, SY_ENOMEM, "out of memory");
    } else if ((rc = idx_add(&out, &c, err)) != 0) {
      free(c.project);
      free(c.release);
    }
  }
  pthread_mutex_unlock(&r->mu);
  for (size_t i = 0; i < out.n && rc == 0; i++) {
    const rec *v = &out.v[i];
    sy_registry_entry e = {sizeof e, v->project, v->release, v->gen, v->mtime};
    rc = fn(ud, &e);
  }
  idx_free(&out);
  return rc;
}

/* Removes a release (generation 0: with its generations) or leaves a
 * tombstone for one generation, by writing the archive anew without it. */
static int ra_remove(void *self, const char *project, const char *release,
                     uint32_t generation, sy_error *err) {
  const ra *r = self;
  addition add = {.buf = NULL};
  edit w = {.lock = -1, .fd = -1};
  int rc;
  const rec *rel;
  char skip[MAX_NAME];
  rc = check_names(project, release, true, err);
  if (rc)
    return rc;
  if ((rc = edit_begin(r, &w, err)) ||
      (rc = find_release(r, &w.x, project, release, &rel, err)))
    goto done;
  if (generation == 0) {
    snprintf(skip, sizeof skip, "%s/%s", project, release);
    rc = write_archive(r, w.fd, w.x.n, NULL, 0, skip, NULL, NULL, err);
    goto done;
  }
  if (!find_member(&w.x, project, release, generation, M_STATES)) {
    bool removed =
        find_member(&w.x, project, release, generation, M_REMOVED) != NULL;
    rc = sy_error_set(err, SY_ENOENT,
                      removed ? "release %s/%s: generation %u was removed "
                                "already"
                              : "release %s/%s has no generation %u",
                      project, release, generation);
    goto done;
  }
  /* The tombstone keeps the number taken (put_generation counts it). */
  sy_value *mark = NULL;
  if ((rc = sy_bytes_new("removed\n", 8, "text/plain", &mark)) != 0 ||
      (rc = sy_value_encode(mark, &add.buf, &add.len)) != 0) {
    sy_value_unref(mark);
    rc = sy_error_set(err, rc, "out of memory");
    goto done;
  }
  sy_value_unref(mark);
  snprintf(skip, sizeof skip, "%s/%s/%u", project, release, generation);
  snprintf(add.name, sizeof add.name, "%s/%s/%u/removed", project, release,
           generation);
  rc = write_archive(r, w.fd, w.x.n, &add, 1, skip, NULL, NULL, err);
done:
  edit_end(&w);
  free(add.buf);
  return rc;
}

/* put_release_all's generations, written as `next` yields them. */
typedef struct pull {
  const char *project, *release;
  sy_registry_next_fn next;
  void *ud;
  uint32_t count;
} pull;

static int write_pulled(void *ud, const ra *r, struct archive *w,
                        sy_error *err) {
  pull *p = ud;
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  for (;;) {
    sy_value *states = NULL, *tag = NULL;
    int rc = p->next(p->ud, &states, &tag, err);
    if (rc <= 0)
      return rc;
    void *sb = NULL, *tb = NULL;
    size_t sl = 0, tl = 0;
    char sn[MAX_NAME], tn[MAX_NAME];
    if (p->count == UINT32_MAX)
      rc = sy_error_set(err, SY_ERANGE, "release %s/%s: too many generations",
                        p->project, p->release);
    else if (!states || !tag)
      rc = sy_error_set(err, SY_EINVAL, "a generation needs states and a tag");
    else if ((rc = sy_value_encode(states, &sb, &sl)) != 0 ||
             (rc = sy_value_encode(tag, &tb, &tl)) != 0)
      sy_error_set(err, rc, "cannot encode generation %u of %s/%s",
                   p->count + 1, p->project, p->release);
    sy_value_unref(states);
    sy_value_unref(tag);
    if (rc == 0) {
      p->count++;
      snprintf(sn, sizeof sn, "%s/%s/%u/states", p->project, p->release,
               p->count);
      snprintf(tn, sizeof tn, "%s/%s/%u/tag", p->project, p->release, p->count);
      rc = write_one(r, w, sn, AE_IFREG, 0644, now.tv_sec, now.tv_nsec, sb, sl,
                     err);
      if (rc == 0)
        rc = write_one(r, w, tn, AE_IFREG, 0644, now.tv_sec, now.tv_nsec, tb,
                       tl, err);
    }
    free(sb);
    free(tb);
    if (rc)
      return rc;
  }
}

/* A new release: its manifest and, when p is not NULL, the generations p
 * pulls, in one rewrite of the archive (put_release, put_release_all). */
static int put_release_with(const ra *r, const char *project,
                            const char *release, const sy_value *manifest,
                            pull *p, sy_error *err) {
  addition add = {.buf = NULL};
  edit w = {.lock = -1, .fd = -1};
  int rc;
  rc = check_names(project, release, true, err);
  if (rc)
    return rc;
  if (!manifest)
    return sy_error_set(err, SY_EINVAL, "no manifest");
  snprintf(add.name, sizeof add.name, "%s/%s/manifest", project, release);
  rc = sy_value_encode(manifest, &add.buf, &add.len);
  if (rc) {
    sy_error_set(err, rc, "cannot encode the manifest of %s/%s", project,
                 release);
    goto done;
  }
  if ((rc = edit_begin(r, &w, err)) ||
      (rc = check_new_release(r, &w.x, project, release, err)))
    goto done;
  rc = write_archive(r, w.fd, w.x.n, &add, 1, NULL, p ? write_pulled : NULL, p,
                     err);
done:
  edit_end(&w);
  free(add.buf);
  return rc;
}

static int ra_put_release(void *self, const char *project, const char *release,
                          const sy_value *manifest, sy_error *err) {
  return put_release_with(self, project, release, manifest, NULL, err);
}

static int ra_put_release_all(void *self, const char *project,
                              const char *release, const sy_value *manifest,
                              sy_registry_next_fn next, void *ud,
                              uint32_t *count, sy_error *err) {
  pull p = {project, release, next, ud, 0};
  if (count)
    *count = 0;
  if (!manifest || !next)
    return sy_error_set(err, SY_EINVAL, "no manifest or no generations");
  int rc = put_release_with(self, project, release, manifest, &p, err);
  if (rc == 0 && count)
    *count = p.count;
  return rc;
}

/* ---- notes (ABI 1.4) ----------------------------------------------------
 * A note is the entry "<project>/<release>/<generation>/note.NAME". Putting
 * one rewrites the archive like every other write (under the lock, a new
 * file renamed over the old one), without the note's old entry and with
 * the new one, so a reader sees the old note or the new one, whole.
 * Removing a generation or a release removes its notes with it. */

/* The number of generation `generation` (0: the latest whole one) of a
 * release in the index, or SY_ENOENT saying what is there. */
static int note_gen(const ra *r, const idx *x, const char *project,
                    const char *release, uint32_t generation, uint32_t *out,
                    sy_error *err) {
  const rec *rel;
  int rc = find_release(r, x, project, release, &rel, err);
  if (rc)
    return rc;
  uint32_t last = 0;
  for (size_t i = 0; i < x->n; i++) {
    const rec *v = &x->v[i];
    if (v->member == M_STATES && v->gen > last &&
        strcmp(v->project, project) == 0 && strcmp(v->release, release) == 0)
      last = v->gen;
  }
  if (generation == 0 && last == 0)
    return sy_error_set(err, SY_ENOENT, "release %s/%s has no generations",
                        project, release);
  if (generation == 0)
    generation = last;
  if (!find_member(x, project, release, generation, M_STATES))
    return sy_error_set(err, SY_ENOENT,
                        find_member(x, project, release, generation, M_REMOVED)
                            ? "release %s/%s: generation %u was removed"
                            : "release %s/%s has no generation %u",
                        project, release, generation);
  *out = generation;
  return 0;
}

static int check_note(const char *name, sy_error *err) {
  if (!name || !note_name_ok_n(name, strlen(name)))
    return sy_error_set(err, SY_EINVAL,
                        "note name '%s': use 1 to 64 of a-z, 0-9, '_', '-'",
                        name ? name : "");
  return 0;
}

static int ra_put_note(void *self, const char *project, const char *release,
                       uint32_t generation, const char *name,
                       const sy_value *value, uint32_t *found, sy_error *err) {
  const ra *r = self;
  addition add = {.buf = NULL};
  idx x = {0};
  int lock = -1, fd = -1, rc;
  uint32_t gen = 0;
  if ((rc = check_names(project, release, true, err)) ||
      (rc = check_note(name, err)))
    return rc;
  if (!value)
    return sy_error_set(err, SY_EINVAL, "note %s: no value", name);
  if (strlen(project) + strlen(release) + strlen(name) + 20 > MAX_NAME)
    return sy_error_set(err, SY_EINVAL,
                        "note %s: project, release and note names are longer "
                        "than %d bytes together",
                        name, MAX_NAME - 20);
  if ((rc = sy_value_encode(value, &add.buf, &add.len)) != 0) {
    sy_error_set(err, rc, "note %s: cannot encode it: %s", name,
                 sy_strerror(rc));
    goto done;
  }
  if ((rc = lock_take(r, &lock, err)) || (rc = open_archive(r, &fd, err)) ||
      (rc = scan(r, fd, &x, err)) ||
      (rc = note_gen(r, &x, project, release, generation, &gen, err)))
    goto done;
  snprintf(add.name, sizeof add.name, "%s/%s/%u/note.%s", project, release, gen,
           name);
  /* The old note, if any, is left out of the copy: `under` matches the
   * entry's own name. */
  rc = write_archive(r, fd, x.n, &add, 1, add.name, NULL, NULL, err);
  if (rc == 0 && found)
    *found = gen;
done:
  idx_free(&x);
  if (fd >= 0)
    close(fd);
  if (lock >= 0)
    close(lock);
  free(add.buf);
  return rc;
}

static int ra_get_note(void *self, const char *project, const char *release,
                       uint32_t generation, const char *name, sy_value **value,
                       sy_error *err) {
  ra *r = self;
  void *buf = NULL;
  size_t len = 0;
  uint32_t gen = 0;
  char nm[MAX_NAME];
  int rc;
  *value = NULL;
  if ((rc = check_names(project, release, true, err)) ||
      (rc = check_note(name, err)))
    return rc;
  pthread_mutex_lock(&r->mu);
  if ((rc = snap_get(r, err)) ||
      (rc = note_gen(r, &r->s.x, project, release, generation, &gen, err)))
    goto done;
  rec key = {(char *)project, (char *)release, gen, M_NOTE, 0, 0, (char *)name};
  const rec *v = NULL;
  for (size_t i = 0; i < r->s.x.n && !v; i++)
    if (rec_cmp(&key, &r->s.x.v[i]) == 0)
      v = &r->s.x.v[i];
  if (!v) {
    rc = sy_error_set(err, SY_ENOENT,
                      "release %s/%s: generation %u has no "
                      "note '%s'",
                      project, release, gen, name);
    goto done;
  }
  snprintf(nm, sizeof nm, "%s/%s/%u/note.%s", project, release, gen, name);
  if ((rc = read_at(r, &v, 1, &buf, &len, err)) == 0)
    rc = decode(r, nm, buf, len, value, err);
done:
  pthread_mutex_unlock(&r->mu);
  free(buf);
  return rc;
}

static int ra_list_notes(void *self, const char *project, const char *release,
                         uint32_t generation, sy_registry_note_fn fn, void *ud,
                         sy_error *err) {
  ra *r = self;
  uint32_t gen = 0;
  char **names = NULL;
  size_t n = 0;
  int rc;
  if (!fn)
    return sy_error_set(err, SY_EINVAL, "no visitor");
  if ((rc = check_names(project, release, true, err)))
    return rc;
  /* The names are copied out under the lock and visited after it, so fn
   * may call this instance again. */
  pthread_mutex_lock(&r->mu);
  const idx *x = &r->s.x;
  if ((rc = snap_get(r, err)) == 0 &&
      (rc = note_gen(r, x, project, release, generation, &gen, err)) == 0) {
    for (size_t i = 0; i < x->n; i++) {
      const rec *v = &x->v[i];
      if (v->member != M_NOTE || v->gen != gen ||
          strcmp(v->project, project) != 0 || strcmp(v->release, release) != 0)
        continue;
      char **nv = realloc(names, (n + 1) * sizeof *nv);
      if (!nv || !(nv[n] = strdup(v->note))) {
        if (nv)
          names = nv;
        rc = sy_error_set(err, SY_ENOMEM, "out of memory");
        break;
      }
      names = nv;
      n++;
    }
  }
  pthread_mutex_unlock(&r->mu);
  /* The index is sorted: the names come in order. */
  for (size_t i = 0; rc == 0 && i < n; i++)
    rc = fn(ud, names[i]);
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
  return rc;
}

/* ---- instances ---------------------------------------------------------- */

static const char *const format_names[] = {"tar", "zip", NULL};
static const char *const compression_names[] = {"none", "gzip", "zstd", NULL};

static void ra_destroy(void *self) {
  ra *r = self;
  if (!r)
    return;
  snap_drop(&r->s);
  pthread_mutex_destroy(&r->mu);
  free(r->path);
  free(r->lock);
  free(r->dir);
  free(r->base);
  free(r);
}

static int ra_create(const void *config, void **self, sy_error *err) {
  const registry_archive_config *c = config;
  ra *r = NULL;
  int rc = 0;
  *self = NULL;
  if (!c->path || !*c->path || c->path[strlen(c->path) - 1] == '/')
    return sy_error_set(err, SY_ECONFIG, "path '%s' does not name a file",
                        c->path ? c->path : "");
  if (c->format < RA_FORMAT_TAR || c->format > RA_FORMAT_ZIP ||
      c->compression < RA_COMPRESS_NONE || c->compression > RA_COMPRESS_ZSTD)
    return sy_error_set(err, SY_ECONFIG, "unknown format or compression");
  if (c->max_entry == 0)
    return sy_error_set(err, SY_ECONFIG, "max_entry must be at least 1");

  /* Refuse now, not at the first commit, a compression this libarchive
   * cannot do in-process (without zstd support it would fall back to an
   * external program, or fail). */
  struct archive *w = archive_write_new();
  if (!w)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  if (set_format(w, c->format) != ARCHIVE_OK ||
      add_filter(w, c->compression) != ARCHIVE_OK) {
    rc = sy_error_set(
        err, SY_ENOTSUP,
        "format %s with compression %s is not available in "
        "%s (%s); choose compression = none or gzip",
        format_names[c->format], compression_names[c->compression],
        archive_version_details(),
        archive_error_string(w) ? archive_error_string(w) : "not built in");
    archive_write_free(w);
    return rc;
  }
  archive_write_free(w);

  r = calloc(1, sizeof *r);
  if (!r)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  pthread_mutex_init(&r->mu, NULL);
  r->s.fd = -1;
  r->path = strdup(c->path);
  r->lock = malloc(strlen(c->path) + 6);
  const char *slash = strrchr(c->path, '/');
  r->dir = slash ? strndup(c->path, (size_t)(slash - c->path)) : strdup(".");
  r->base = strdup(slash ? slash + 1 : c->path);
  if (!r->path || !r->lock || !r->dir || !r->base) {
    ra_destroy(r);
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  }
  if (slash == c->path) {
    free(r->dir);
    r->dir = strdup("/");
    if (!r->dir) {
      ra_destroy(r);
      return sy_error_set(err, SY_ENOMEM, "out of memory");
    }
  }
  sprintf(r->lock, "%s.lock", c->path);
  r->format = c->format;
  r->compression = c->compression;
  r->max_entry = c->max_entry;
  *self = r;
  return 0;
}

static const sy_option ra_options[] = {
    {"path", SY_OPT_PATH, 0, "~/.local/share/switchyard/registry.tar", NULL,
     NULL, NULL, offsetof(registry_archive_config, path),
     "the archive file that holds the whole registry; a missing file is an "
     "empty registry"},
    {"format", SY_OPT_ENUM, 0, "tar", NULL, NULL, format_names,
     offsetof(registry_archive_config, format),
     "the format new archives are written in (tar is pax); tar, zip and "
     "cpio archives are all read"},
    {"compression", SY_OPT_ENUM, 0, "none", NULL, NULL, compression_names,
     offsetof(registry_archive_config, compression),
     "the compression new archives are written with"},
    {"max_entry", SY_OPT_SIZE, 0, "1GiB", "1", NULL, NULL,
     offsetof(registry_archive_config, max_entry),
     "the most bytes one archive entry may hold; archives with bigger "
     "entries are refused"},
    SY_OPTION_END};

static const sy_registry_ops ra_ops = {sizeof(sy_registry_ops),
                                       ra_put_release,
                                       ra_get_release,
                                       ra_put_generation,
                                       ra_get_generation,
                                       ra_list,
                                       ra_remove,
                                       ra_put_release_all,
                                       ra_put_note,
                                       ra_get_note,
                                       ra_list_notes};

const sy_provider registry_archive_provider = {
    sizeof(sy_provider),
    SY_KIND_REGISTRY,
    "archive",
    "1.0.0",
    "Keeps releases and trained generations in one tar or zip archive file, "
    "read safely and replaced atomically.",
    ra_options,
    sizeof(registry_archive_config),
    ra_create,
    ra_destroy,
    &ra_ops};
