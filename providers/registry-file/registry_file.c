/*
 * registry_file.c - registry "file": releases and trained states in a
 * folder tree.
 *
 * Layout under the root (option `path`):
 *
 *   <project>/.lock                      flock()ed while a release is added
 *   <project>/<release>/manifest         the release's manifest
 *   <project>/<release>/<N>/states       generation N's states bundle
 *   <project>/<release>/<N>/tag          generation N's tag
 *   <project>/<release>/<N>/removed      generation N was removed (its
 *                                        files go; the folder keeps N)
 *   <project>/.staging-<pid>-<random>/   a release being written
 *   <project>/<release>/.staging-<pid>-<random>/  a generation being written
 *
 * Every file holds one value in the core's encoding (sy_value_encode), so
 * it is checksummed and a damaged file reads as SY_ECORRUPT naming it,
 * never as a wrong value. Generation folders are named by their decimal
 * number, without leading zeros.
 *
 * Publishing is a rename. A release or a generation is written whole into
 * a fresh staging folder (mkdtemp, so two writers never share one), its
 * files and the folder are fsync()ed, and only then is the folder renamed
 * to its public name. rename() of a folder is atomic, and it fails with
 * EEXIST or ENOTEMPTY when the target exists and is not empty, which every
 * published folder is (it holds its files). So:
 *   - readers never see a partial release or generation: names starting
 *     with '.' are not valid project or release names and are skipped, and
 *     a generation folder only appears once it is complete;
 *   - two trainers committing at once get distinct numbers: each reads the
 *     highest number N and renames its staging folder to N+1; the loser of
 *     a race gets ENOTEMPTY and tries the next number, so no commit is
 *     lost and numbers stay contiguous (folders are never deleted);
 *   - two releases of the same version at once: one rename wins, the other
 *     gets SY_EEXIST.
 * Release versions must strictly increase per project, which is a
 * read-compare-publish sequence; it runs under an exclusive flock() on
 * <project>/.lock so that two different versions released at once cannot
 * both pass the check. Readers take no lock. The parent folder is
 * fsync()ed after each rename so the new name survives a power cut.
 *
 * Stale staging folders: a writer killed mid-commit leaves its staging
 * folder behind. Every write first removes the staging folders of its
 * parent folder whose writer is gone: the pid in the name no longer exists
 * on this host (kill(pid, 0) gives ESRCH), or the folder is older than
 * STALE_SECONDS (which covers a pid reused since, and writers on other
 * hosts sharing the registry over a network file system; a commit takes
 * seconds, not an hour). If a cleaner still removes a live writer's folder
 * (another host whose pid happens not to exist here), that writer's rename
 * fails with SY_EIO and nothing partial is published.
 *
 * Crash points: registry_file_crash_at() (test only) makes the instance
 * _exit(9) at the n-th crash point; crash_point() calls sit between the
 * system calls of a write, including one in the middle of writing a file,
 * so the unit test can kill a commit at each step.
 *
 * The instance holds its root path and the test hook's counters (atomic);
 * every operation may run from several threads and processes at once.
 */
#include "registry_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STAGING_PREFIX ".staging-"
#define REMOVED_MARK "removed" /* a removed generation's tombstone */
#define STALE_SECONDS 3600
#define NAME_MAX_LEN 200 /* leaves room under NAME_MAX for staging names */
#define NAMES_SHOWN 10   /* names listed in a "not found" message */
/* Encoded values carry a small header on top of SY_VALUE_MAX_BYTES. */
#define FILE_MAX_BYTES (SY_VALUE_MAX_BYTES + ((size_t)1 << 16))

typedef struct regfile {
  char *root;
  atomic_int crash_at; /* test only: the crash point to die at; 0 = none */
  atomic_int points;   /* test only: crash points passed since crash_at */
} regfile;

/* ---- small helpers ------------------------------------------------------ */

static void crash_point(regfile *rf) {
  int at = atomic_load(&rf->crash_at);
  if (at > 0 && atomic_fetch_add(&rf->points, 1) + 1 == at)
    _exit(9);
}

void registry_file_crash_at(void *self, int n) {
  regfile *rf = self;
  atomic_store(&rf->points, 0);
  atomic_store(&rf->crash_at, n);
}

/* printf into a malloc()ed string; NULL when out of memory. */
static char *fmt(const char *f, ...) SY_PRINTF(1, 2);
static char *fmt(const char *f, ...) {
  va_list ap;
  va_start(ap, f);
  char *s = NULL;
  int n = vasprintf(&s, f, ap);
  va_end(ap);
  return n < 0 ? NULL : s;
}

static int oom(sy_error *err) {
  return sy_error_set(err, SY_ENOMEM, "out of memory");
}

static bool valid_name(const char *s) {
  size_t n = 0;
  if (!s || !*s || *s == '.')
    return false;
  for (; s[n]; n++) {
    char c = s[n];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
          (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
      return false;
  }
  return n <= NAME_MAX_LEN;
}

static int check_name(const char *what, const char *s, sy_error *err) {
  if (valid_name(s))
    return 0;
  return sy_error_set(err, SY_EINVAL,
                      "%s name '%s' is not valid: use 1 to %d of A-Z a-z "
                      "0-9 _ . -, not starting with '.'",
                      what, s ? s : "(null)", NAME_MAX_LEN);
}

/* Parses a generation folder name: decimal, no sign, no leading zero,
 * 1 to UINT32_MAX. */
static bool parse_generation(const char *s, uint32_t *out) {
  uint64_t v = 0;
  if (!*s || *s == '0')
    return false;
  for (; *s; s++) {
    if (*s < '0' || *s > '9')
      return false;
    v = v * 10 + (uint64_t)(*s - '0');
    if (v > UINT32_MAX)
      return false;
  }
  *out = (uint32_t)v;
  return true;
}

/* ---- versions ------------------------------------------------------------ */

/* The core's version order (registry.h): names that are no valid version
 * (stored before versions were checked) sort before every valid one. */
int registry_file_version_compare(const char *a, const char *b) {
  return sy_release_version_compare(a, b);
}

/* Version order with the name as tie-break, so that "1.1" and "1.01"
 * (which only a hand-made folder could hold side by side) sort stably. */
static int cmp_release(const void *x, const void *y) {
  const char *a = *(const char *const *)x, *b = *(const char *const *)y;
  int c = registry_file_version_compare(a, b);
  return c ? c : strcmp(a, b);
}

static int cmp_project(const void *x, const void *y) {
  return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static int cmp_u32(const void *x, const void *y) {
  uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
  return a < b ? -1 : a > b;
}

/* ---- folder scans -------------------------------------------------------- */

typedef struct names {
  char **v;
  size_t n, cap;
} names;

static void names_free(names *ns) {
  for (size_t i = 0; i < ns->n; i++)
    free(ns->v[i]);
  free(ns->v);
  ns->v = NULL;
  ns->n = ns->cap = 0;
}

static int names_add(names *ns, const char *s) {
  if (ns->n == ns->cap) {
    size_t cap = ns->cap ? ns->cap * 2 : 16;
    char **v = realloc(ns->v, cap * sizeof *v);
    if (!v)
      return SY_ENOMEM;
    ns->v = v;
    ns->cap = cap;
  }
  if (!(ns->v[ns->n] = strdup(s)))
    return SY_ENOMEM;
  ns->n++;
  return 0;
}

static bool is_dir_at(int dfd, const char *name) {
  struct stat st;
  return fstatat(dfd, name, &st, 0) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file_at(int dfd, const char *name) {
  struct stat st;
  return fstatat(dfd, name, &st, 0) == 0 && S_ISREG(st.st_mode);
}

/* The valid project or release names in dir (sub-folders only; with
 * `need` set, only those holding a file of that name), sorted with cmp.
 * A missing folder is SY_ENOENT with errno's text in err. */
static int scan_names(const char *dir, const char *need,
                      int (*cmp)(const void *, const void *), names *out,
                      sy_error *err) {
  DIR *d = opendir(dir);
  if (!d) {
    int e = errno;
    return sy_error_set(err, sy_code_from_errno(e), "cannot read '%s': %s", dir,
                        strerror(e));
  }
  int rc = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (!valid_name(de->d_name) || !is_dir_at(dirfd(d), de->d_name))
      continue;
    if (need) {
      char *p = fmt("%s/%s", de->d_name, need);
      bool ok = p && is_file_at(dirfd(d), p);
      free(p);
      if (!ok)
        continue;
    }
    if ((rc = names_add(out, de->d_name)) != 0) {
      oom(err);
      break;
    }
  }
  closedir(d);
  if (rc == 0 && out->n)
    qsort(out->v, out->n, sizeof *out->v, cmp);
  if (rc)
    names_free(out);
  return rc;
}

/* The generation numbers in a release folder, ascending (malloc()ed). */
static int scan_generations(const char *dir, uint32_t **out, size_t *n,
                            sy_error *err) {
  *out = NULL;
  *n = 0;
  DIR *d = opendir(dir);
  if (!d) {
    int e = errno;
    return sy_error_set(err, sy_code_from_errno(e), "cannot read '%s': %s", dir,
                        strerror(e));
  }
  uint32_t *v = NULL;
  size_t cnt = 0, cap = 0;
  int rc = 0;
  struct dirent *de;
  uint32_t g;
  while ((de = readdir(d)) != NULL) {
    if (!parse_generation(de->d_name, &g) || !is_dir_at(dirfd(d), de->d_name))
      continue;
    if (cnt == cap) {
      size_t c2 = cap ? cap * 2 : 16;
      uint32_t *v2 = realloc(v, c2 * sizeof *v2);
      if (!v2) {
        rc = oom(err);
        break;
      }
      v = v2;
      cap = c2;
    }
    v[cnt++] = g;
  }
  closedir(d);
  if (rc) {
    free(v);
    return rc;
  }
  if (cnt)
    qsort(v, cnt, sizeof *v, cmp_u32);
  *out = v;
  *n = cnt;
  return 0;
}

/* "a, b, c" (the first NAMES_SHOWN, then "..."), or `none`; malloc()ed. */
static char *join_names(const names *ns, const char *none) {
  if (ns->n == 0)
    return strdup(none);
  size_t len = 8;
  for (size_t i = 0; i < ns->n && i < NAMES_SHOWN; i++)
    len += strlen(ns->v[i]) + 2;
  char *s = malloc(len), *w = s;
  if (!s)
    return NULL;
  for (size_t i = 0; i < ns->n && i < NAMES_SHOWN; i++)
    w += sprintf(w, "%s%s", i ? ", " : "", ns->v[i]);
  if (ns->n > NAMES_SHOWN)
    strcpy(w, ", ...");
  return s;
}

/* SY_ENOENT for a missing project, naming the projects that exist. */
static int no_project(regfile *rf, const char *project, sy_error *err) {
  names ns = {0};
  sy_error ignored;
  scan_names(rf->root, NULL, cmp_project, &ns, &ignored);
  char *list = join_names(&ns, "none yet");
  int rc =
      sy_error_set(err, SY_ENOENT, "no project '%s' in '%s' (projects: %s)",
                   project, rf->root, list ? list : "?");
  free(list);
  names_free(&ns);
  return rc;
}

/* Checks that the release exists; SY_ENOENT names what does. */
static int find_release(regfile *rf, const char *project, const char *release,
                        sy_error *err) {
  char *pdir = fmt("%s/%s", rf->root, project);
  char *man = fmt("%s/%s/%s/manifest", rf->root, project, release);
  int rc = 0;
  struct stat st;
  if (!pdir || !man) {
    rc = oom(err);
  } else if (stat(pdir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    rc = no_project(rf, project, err);
  } else if (stat(man, &st) != 0 || !S_ISREG(st.st_mode)) {
    names ns = {0};
    sy_error ignored;
    scan_names(pdir, "manifest", cmp_release, &ns, &ignored);
    char *list = join_names(&ns, "none yet");
    rc = sy_error_set(err, SY_ENOENT,
                      "project '%s' has no release %s (releases: %s)", project,
                      release, list ? list : "?");
    free(list);
    names_free(&ns);
  }
  free(pdir);
  free(man);
  return rc;
}

/* ---- files --------------------------------------------------------------- */

static int fsync_path(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  /* Some file systems cannot sync a folder (EINVAL); nothing to do then. */
  int r = fsync(fd);
  int e = errno;
  close(fd);
  if (r != 0 && e != EINVAL) {
    errno = e;
    return -1;
  }
  return 0;
}

static int write_all(int fd, const char *p, size_t len) {
  while (len) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0)
      return -1;
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

/* Writes buf into dir/name (a new file) and, unless `nosync` (the caller
 * syncs the whole file system before it publishes), fsync()s it. */
static int write_file_sync(regfile *rf, const char *dir, const char *name,
                           const void *buf, size_t len, bool nosync,
                           sy_error *err) {
  char *path = fmt("%s/%s", dir, name);
  if (!path)
    return oom(err);
  int rc = 0;
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    goto fail;
  /* Half, a crash point, the rest: a crash here leaves a torn file in the
   * staging folder, which must never become visible. */
  size_t half = len / 2;
  if (write_all(fd, buf, half) != 0)
    goto fail;
  crash_point(rf);
  if (write_all(fd, (const char *)buf + half, len - half) != 0)
    goto fail;
  crash_point(rf);
  if (!nosync && fsync(fd) != 0)
    goto fail;
  crash_point(rf);
  if (close(fd) != 0) {
    fd = -1;
    goto fail;
  }
  free(path);
  return 0;
fail:;
  int e = errno;
  rc = sy_error_set(err, sy_code_from_errno(e), "cannot write '%s': %s", path,
                    strerror(e));
  if (fd >= 0)
    close(fd);
  free(path);
  return rc;
}

static int write_file(regfile *rf, const char *dir, const char *name,
                      const void *buf, size_t len, sy_error *err) {
  return write_file_sync(rf, dir, name, buf, len, false, err);
}

/* Reads and decodes dir/name. A missing file is SY_ENOENT, a damaged one
 * SY_ECORRUPT; both name the file. */
static int read_value(const char *dir, const char *name, sy_value **out,
                      sy_error *err) {
  *out = NULL;
  char *path = fmt("%s/%s", dir, name);
  if (!path)
    return oom(err);
  int rc = 0;
  char *buf = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    int e = errno;
    rc = sy_error_set(err, sy_code_from_errno(e), "cannot read '%s': %s", path,
                      strerror(e));
    goto done;
  }
  if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > FILE_MAX_BYTES) {
    rc = sy_error_set(err, SY_ECORRUPT, "'%s' is not a value file", path);
    goto done;
  }
  size_t got = 0;
  void *data = NULL;
  if ((rc = sy_file_read_fd(fd, path, FILE_MAX_BYTES, &data, &got, err)) != 0) {
    if (rc == SY_ETOOBIG) /* grew while read */
      rc = sy_error_set(err, SY_ECORRUPT, "'%s' is not a value file", path);
    goto done;
  }
  buf = data;
  sy_error derr;
  sy_error_clear(&derr);
  rc = sy_value_decode(buf, got, out, &derr);
  if (rc != 0) {
    /* A length claiming more than the limits is damage here too: this
     * provider only ever writes values that encoded. */
    if (rc == SY_ETOOBIG)
      rc = SY_ECORRUPT;
    rc = sy_error_set(err, rc, "'%s' is damaged: %s", path, derr.message);
  }
done:
  if (fd >= 0)
    close(fd);
  free(buf);
  free(path);
  return rc;
}

/* Removes a folder and what it holds: a staging folder (files), or a
 * release moved aside (generation folders of files), so `depth` 2 is
 * enough; symbolic links are removed, never followed. */
static void remove_tree_depth(int dfd, const char *name, int depth) {
  int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd >= 0) {
    DIR *d = fdopendir(fd);
    if (d) {
      struct dirent *de;
      while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
          continue;
        struct stat st;
        if (depth > 0 &&
            fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISDIR(st.st_mode))
          remove_tree_depth(fd, de->d_name, depth - 1);
        else
          unlinkat(fd, de->d_name, 0);
      }
      closedir(d);
    } else {
      close(fd);
    }
  }
  unlinkat(dfd, name, AT_REMOVEDIR);
}

static void remove_tree(int dfd, const char *name) {
  remove_tree_depth(dfd, name, 2);
}

/* Removes the staging folders in dir whose writer is gone (see the top of
 * the file). Best effort: a folder that cannot be removed stays. */
static void remove_stale(const char *dir) {
  DIR *d = opendir(dir);
  if (!d)
    return;
  time_t now = time(NULL);
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    const char *n = de->d_name;
    if (strncmp(n, STAGING_PREFIX, sizeof STAGING_PREFIX - 1) != 0)
      continue;
    char *end = NULL;
    long pid = strtol(n + sizeof STAGING_PREFIX - 1, &end, 10);
    struct stat st;
    if (fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISDIR(st.st_mode))
      continue;
    bool dead = pid > 0 && pid <= INT_MAX && end && *end == '-' &&
                kill((pid_t)pid, 0) != 0 && errno == ESRCH;
    if (dead || now - st.st_mtime > STALE_SECONDS)
      remove_tree(dirfd(d), n);
  }
  closedir(d);
}

/* Makes dir/.staging-<pid>-XXXXXX (malloc()ed into *out). */
static int make_staging(const char *dir, char **out, sy_error *err) {
  char *t = fmt("%s/" STAGING_PREFIX "%ld-XXXXXX", dir, (long)getpid());
  if (!t)
    return oom(err);
  if (!mkdtemp(t)) {
    int e = errno;
    int rc = sy_error_set(err, sy_code_from_errno(e),
                          "cannot create a staging folder in '%s': %s", dir,
                          strerror(e));
    free(t);
    return rc;
  }
  *out = t;
  return 0;
}

static void discard_staging(const char *staging) {
  char *slash = strrchr(staging, '/');
  char *parent = strndup(staging, (size_t)(slash - staging));
  int dfd = parent ? open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
  if (dfd >= 0) {
    remove_tree(dfd, slash + 1);
    close(dfd);
  }
  free(parent);
}

/* mkdir -p with mode 0755; an error names the folder that failed. */
static int make_dirs(const char *path, sy_error *err) {
  char *p = strdup(path);
  if (!p)
    return oom(err);
  int rc = 0;
  for (char *s = p + 1;; s++) {
    if (*s != '/' && *s != '\0')
      continue;
    char c = *s;
    *s = '\0';
    if (mkdir(p, 0755) != 0 && errno != EEXIST) {
      int e = errno;
      rc = sy_error_set(err, sy_code_from_errno(e),
                        "cannot create folder '%s': %s", p, strerror(e));
      break;
    }
    *s = c;
    if (c == '\0')
      break;
  }
  free(p);
  return rc;
}

/* ---- instance -------------------------------------------------------------
 */

static int rf_create(const void *config, void **self, sy_error *err) {
  const registry_file_config *cfg = config;
  if (!cfg->path || !*cfg->path)
    return sy_error_set(err, SY_ECONFIG, "path: a folder is required");
  regfile *rf = calloc(1, sizeof *rf);
  if (!rf || !(rf->root = strdup(cfg->path))) {
    free(rf);
    return oom(err);
  }
  /* Trailing slashes would double up in every path we build. */
  for (size_t n = strlen(rf->root); n > 1 && rf->root[n - 1] == '/'; n--)
    rf->root[n - 1] = '\0';
  atomic_init(&rf->crash_at, 0);
  atomic_init(&rf->points, 0);
  int rc = make_dirs(rf->root, err);
  struct stat st;
  if (rc == 0 && (stat(rf->root, &st) != 0 || !S_ISDIR(st.st_mode)))
    rc = sy_error_set(err, SY_ECONFIG, "'%s' is not a folder", rf->root);
  if (rc) {
    sy_error_prefix(err, "path");
    free(rf->root);
    free(rf);
    return rc;
  }
  *self = rf;
  return 0;
}

static void rf_destroy(void *self) {
  regfile *rf = self;
  if (rf)
    free(rf->root);
  free(rf);
}

/* ---- releases -------------------------------------------------------------
 */

/* The version rule's first half, before anything is written. */
static int check_version(const char *project, const char *release,
                         sy_error *err) {
  if (sy_release_version_valid(release))
    return 0;
  return sy_error_set(err, SY_EINVAL,
                      "release %s of %s: '%s' is not a valid version "
                      "(numbers joined by '.', e.g. 1.0 or 2.1-rc.1)",
                      release, project, release);
}

/* Makes <project>/ and a fresh staging folder in it, with the manifest
 * written and synced (*staging malloc()ed). */
static int stage_release(regfile *rf, const char *pdir, const void *buf,
                         size_t len, char **staging, sy_error *err) {
  *staging = NULL;
  if (mkdir(pdir, 0755) == 0) {
    fsync_path(rf->root);
  } else if (errno != EEXIST) {
    int e = errno;
    return sy_error_set(err, sy_code_from_errno(e),
                        "cannot create folder '%s': %s", pdir, strerror(e));
  }
  remove_stale(pdir);
  int rc = make_staging(pdir, staging, err);
  if (rc)
    return rc;
  crash_point(rf);
  return write_file(rf, *staging, "manifest", buf, len, err);
}

/* Publishes a staged release folder as <pdir>/<release>: under the
 * project's lock, so that two different versions released at once cannot
 * both pass, checks that the release is new and newer than the latest,
 * then renames. On success *staging is freed and NULL. */
static int publish_release(regfile *rf, const char *pdir, char **staging,
                           const char *project, const char *release,
                           sy_error *err) {
  names rels = {0};
  int lfd = -1, rc;
  char *target = fmt("%s/%s", pdir, release);
  char *lock = fmt("%s/.lock", pdir);
  if (!target || !lock) {
    rc = oom(err);
    goto done;
  }
  if (fsync_path(*staging) != 0) {
    int e = errno;
    rc = sy_error_set(err, SY_EIO, "cannot sync '%s': %s", *staging,
                      strerror(e));
    goto done;
  }
  crash_point(rf);
  lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lfd < 0 || flock(lfd, LOCK_EX) != 0) {
    int e = errno;
    rc = sy_error_set(err, sy_code_from_errno(e), "cannot lock '%s': %s", lock,
                      strerror(e));
    goto done;
  }
  if ((rc = scan_names(pdir, "manifest", cmp_release, &rels, err)) != 0)
    goto done;
  for (size_t i = 0; i < rels.n; i++)
    if (strcmp(rels.v[i], release) == 0) {
      rc = sy_error_set(err, SY_EEXIST, "release %s of %s exists already",
                        release, project);
      goto done;
    }
  if (rels.n &&
      registry_file_version_compare(release, rels.v[rels.n - 1]) <= 0) {
    rc = sy_error_set(err, SY_EEXIST,
                      "release %s of %s is not newer than %s (the latest)",
                      release, project, rels.v[rels.n - 1]);
    goto done;
  }
  if (rename(*staging, target) != 0) {
    int e = errno;
    if (e == EEXIST || e == ENOTEMPTY)
      rc = sy_error_set(err, SY_EEXIST, "release %s of %s exists already",
                        release, project);
    else
      rc = sy_error_set(err, sy_code_from_errno(e),
                        "cannot rename '%s' to '%s': %s", *staging, target,
                        strerror(e));
    goto done;
  }
  free(*staging);
  *staging = NULL;
  crash_point(rf);
  fsync_path(pdir); /* best effort: the release is published already */
  rc = 0;
done:
  if (lfd >= 0)
    close(lfd); /* releases the flock */
  names_free(&rels);
  free(lock);
  free(target);
  return rc;
}

/* Writes one generation's folder, <dir>/<g>, whole; not synced: the
 * caller syncs the file system once before publishing. */
static int write_generation_dir(regfile *rf, const char *dir, uint32_t g,
                                const sy_value *states, const sy_value *tag,
                                sy_error *err) {
  void *sbuf = NULL, *tbuf = NULL;
  size_t slen = 0, tlen = 0;
  char *gdir = fmt("%s/%" PRIu32, dir, g);
  int rc;
  if (!gdir)
    return oom(err);
  if (!states || !tag) {
    rc = sy_error_set(err, SY_EINVAL, "a generation needs states and a tag");
  } else if ((rc = sy_value_encode(states, &sbuf, &slen)) != 0 ||
             (rc = sy_value_encode(tag, &tbuf, &tlen)) != 0) {
    sy_error_set(err, rc, "generation %" PRIu32 ": cannot encode it: %s", g,
                 sy_strerror(rc));
  } else if (mkdir(gdir, 0755) != 0) {
    int e = errno;
    rc = sy_error_set(err, sy_code_from_errno(e),
                      "cannot create folder '%s': %s", gdir, strerror(e));
  } else if ((rc = write_file_sync(rf, gdir, "states", sbuf, slen, true,
                                   err)) == 0) {
    rc = write_file_sync(rf, gdir, "tag", tbuf, tlen, true, err);
  }
  free(sbuf);
  free(tbuf);
  free(gdir);
  return rc;
}

/* The whole release is written into one staging folder, generations
 * (those next() gives, when it is not NULL) included, and published by
 * one rename: all or nothing, and linear (no folder is scanned per
 * generation). put_release, and put_release_all (`all`: generations
 * are required). */
static int put_release_with(regfile *rf, const char *project,
                            const char *release, const sy_value *manifest,
                            bool all, sy_registry_next_fn next, void *ud,
                            uint32_t *count, sy_error *err) {
  char *pdir = NULL, *staging = NULL;
  void *buf = NULL;
  size_t len = 0;
  uint32_t n = 0;
  int rc;
  if (count)
    *count = 0;
  if ((rc = check_name("project", project, err)) != 0 ||
      (rc = check_name("release", release, err)) != 0 ||
      (rc = check_version(project, release, err)) != 0)
    return rc;
  if (all && (!manifest || !next))
    return sy_error_set(err, SY_EINVAL,
                        "release %s of %s: no manifest or no generations",
                        release, project);
  if (!manifest)
    return sy_error_set(err, SY_EINVAL, "release %s of %s: no manifest",
                        release, project);
  if ((rc = sy_value_encode(manifest, &buf, &len)) != 0) {
    sy_error_set(err, rc, "release %s of %s: cannot encode the manifest: %s",
                 release, project, sy_strerror(rc));
    goto done;
  }
  if (!(pdir = fmt("%s/%s", rf->root, project))) {
    rc = oom(err);
    goto done;
  }
  if ((rc = stage_release(rf, pdir, buf, len, &staging, err)) != 0)
    goto done;
  for (; next;) {
    sy_value *states = NULL, *tag = NULL;
    rc = next(ud, &states, &tag, err);
    if (rc <= 0)
      break;
    if (n == UINT32_MAX)
      rc = sy_error_set(err, SY_ERANGE,
                        "release %s of %s: too many "
                        "generations",
                        release, project);
    else
      rc = write_generation_dir(rf, staging, n + 1, states, tag, err);
    sy_value_unref(states);
    sy_value_unref(tag);
    if (rc) {
      sy_error_prefix(err, "release %s of %s", release, project);
      break;
    }
    n++;
  }
  if (rc)
    goto done;
  if (next) {
    /* One syncfs() for the thousands of files just written, instead of an
     * fsync() each (the cost of an import was mostly those): all of them
     * are on disk before the rename publishes them. (The manifest alone
     * was synced when it was staged.) */
    int sfd = open(staging, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sfd < 0 || syncfs(sfd) != 0) {
      int e = errno;
      rc = sy_error_set(err, SY_EIO, "cannot sync '%s': %s", staging,
                        strerror(e));
      if (sfd >= 0)
        close(sfd);
      goto done;
    }
    close(sfd);
    crash_point(rf);
  }
  rc = publish_release(rf, pdir, &staging, project, release, err);
  if (rc == 0 && count)
    *count = n;
done:
  if (staging)
    discard_staging(staging);
  free(staging);
  free(pdir);
  free(buf);
  return rc;
}

static int rf_put_release(void *self, const char *project, const char *release,
                          const sy_value *manifest, sy_error *err) {
  return put_release_with(self, project, release, manifest, false, NULL, NULL,
                          NULL, err);
}

static int rf_put_release_all(void *self, const char *project,
                              const char *release, const sy_value *manifest,
                              sy_registry_next_fn next, void *ud,
                              uint32_t *count, sy_error *err) {
  return put_release_with(self, project, release, manifest, true, next, ud,
                          count, err);
}

static int rf_get_release(void *self, const char *project, const char *release,
                          sy_value **manifest, char **found, sy_error *err) {
  regfile *rf = self;
  names rels = {0};
  char *pdir = NULL, *rdir = NULL, *name = NULL;
  int rc;
  *manifest = NULL;
  if (found)
    *found = NULL;
  if ((rc = check_name("project", project, err)) != 0 ||
      (release && (rc = check_name("release", release, err)) != 0))
    return rc;
  if (release) {
    if ((rc = find_release(rf, project, release, err)) != 0)
      goto done;
    name = strdup(release);
  } else {
    if (!(pdir = fmt("%s/%s", rf->root, project))) {
      rc = oom(err);
      goto done;
    }
    if (scan_names(pdir, "manifest", cmp_release, &rels, err) != 0) {
      rc = no_project(rf, project, err);
      goto done;
    }
    if (rels.n == 0) {
      rc =
          sy_error_set(err, SY_ENOENT, "project '%s' has no releases", project);
      goto done;
    }
    name = strdup(rels.v[rels.n - 1]);
  }
  if (!name || !(rdir = fmt("%s/%s/%s", rf->root, project, name))) {
    rc = oom(err);
    goto done;
  }
  if ((rc = read_value(rdir, "manifest", manifest, err)) != 0)
    goto done;
  if (found) {
    *found = name;
    name = NULL;
  }
done:
  names_free(&rels);
  free(name);
  free(rdir);
  free(pdir);
  return rc;
}

/* ---- generations ----------------------------------------------------------
 */

static int rf_put_generation(void *self, const char *project,
                             const char *release, const sy_value *states,
                             const sy_value *tag, uint32_t *generation,
                             sy_error *err) {
  regfile *rf = self;
  char *rdir = NULL, *staging = NULL, *target = NULL;
  void *sbuf = NULL, *tbuf = NULL;
  size_t slen = 0, tlen = 0;
  uint32_t *gens = NULL;
  size_t ngens = 0;
  int rc;
  if ((rc = check_name("project", project, err)) != 0 ||
      (rc = check_name("release", release, err)) != 0)
    return rc;
  if (!states || !tag)
    return sy_error_set(err, SY_EINVAL, "release %s of %s: %s", release,
                        project, "a generation needs states and a tag");
  if ((rc = find_release(rf, project, release, err)) != 0)
    return rc;
  if ((rc = sy_value_encode(states, &sbuf, &slen)) != 0 ||
      (rc = sy_value_encode(tag, &tbuf, &tlen)) != 0) {
    sy_error_set(err, rc, "release %s of %s: cannot encode the %s: %s", release,
                 project, sbuf && !tbuf ? "tag" : "states", sy_strerror(rc));
    goto done;
  }
  if (!(rdir = fmt("%s/%s/%s", rf->root, project, release))) {
    rc = oom(err);
    goto done;
  }
  remove_stale(rdir);
  if ((rc = make_staging(rdir, &staging, err)) != 0)
    goto done;
  crash_point(rf);
  if ((rc = write_file(rf, staging, "states", sbuf, slen, err)) != 0 ||
      (rc = write_file(rf, staging, "tag", tbuf, tlen, err)) != 0)
    goto done;
  if (fsync_path(staging) != 0) {
    int e = errno;
    rc =
        sy_error_set(err, SY_EIO, "cannot sync '%s': %s", staging, strerror(e));
    goto done;
  }
  crash_point(rf);
  /* Claim the next number: the rename fails when a concurrent trainer
   * took it first (the target is a non-empty folder), and then the next
   * number is tried. After a collision the folder is scanned again, so a
   * burst of commits elsewhere costs one scan, not one try per commit. */
  if ((rc = scan_generations(rdir, &gens, &ngens, err)) != 0)
    goto done;
  uint64_t next = ngens ? (uint64_t)gens[ngens - 1] + 1 : 1;
  for (;;) {
    if (next > UINT32_MAX) {
      rc = sy_error_set(err, SY_ERANGE,
                        "release %s of %s: no generation "
                        "numbers left",
                        release, project);
      goto done;
    }
    free(target);
    if (!(target = fmt("%s/%" PRIu64, rdir, next))) {
      rc = oom(err);
      goto done;
    }
    if (rename(staging, target) == 0)
      break;
    int e = errno;
    if (e != EEXIST && e != ENOTEMPTY) {
      rc = sy_error_set(
          err,
          sy_code_from_errno(e) == SY_ENOENT ? SY_EIO : sy_code_from_errno(e),
          "cannot rename '%s' to '%s': %s", staging, target, strerror(e));
      goto done;
    }
    free(gens);
    gens = NULL;
    if ((rc = scan_generations(rdir, &gens, &ngens, err)) != 0)
      goto done;
    uint64_t top = ngens ? (uint64_t)gens[ngens - 1] + 1 : 1;
    next = top > next + 1 ? top : next + 1;
  }
  free(staging);
  staging = NULL;
  crash_point(rf);
  fsync_path(rdir); /* best effort: the generation is published already */
  crash_point(rf);
  if (generation)
    *generation = (uint32_t)next;
  rc = 0;
done:
  if (staging)
    discard_staging(staging);
  free(gens);
  free(staging);
  free(target);
  free(rdir);
  free(sbuf);
  free(tbuf);
  return rc;
}

/* Whether generation folder g of the release in rdir was removed (holds
 * the tombstone REMOVED_MARK). */
static bool gen_removed(const char *rdir, uint32_t g) {
  char *p = fmt("%s/%" PRIu32 "/" REMOVED_MARK, rdir, g);
  struct stat st;
  bool r = p && lstat(p, &st) == 0;
  free(p);
  return r;
}

/* Reads generation g of the release in rdir. A removed one is SY_ENOENT
 * saying so, also when its files vanish while they are read. */
static int read_generation(const char *rdir, uint32_t g, sy_value **states,
                           sy_value **tag, sy_error *err) {
  char *gdir = fmt("%s/%" PRIu32, rdir, g);
  if (!gdir)
    return oom(err);
  int rc = gen_removed(rdir, g) ? SY_ENOENT
                                : read_value(gdir, "states", states, err);
  if (rc == 0 && (rc = read_value(gdir, "tag", tag, err)) != 0) {
    sy_value_unref(*states);
    *states = NULL;
  }
  if (rc == SY_ENOENT && gen_removed(rdir, g))
    rc = sy_error_set(err, SY_ENOENT, "generation %" PRIu32 " was removed", g);
  free(gdir);
  return rc;
}

static int rf_get_generation(void *self, const char *project,
                             const char *release, uint32_t generation,
                             sy_value **states, sy_value **tag, uint32_t *found,
                             sy_error *err) {
  regfile *rf = self;
  char *rdir = NULL;
  uint32_t *gens = NULL;
  size_t ngens = 0;
  int rc;
  *states = NULL;
  *tag = NULL;
  if ((rc = check_name("project", project, err)) != 0 ||
      (rc = check_name("release", release, err)) != 0)
    return rc;
  if ((rc = find_release(rf, project, release, err)) != 0)
    return rc;
  if (!(rdir = fmt("%s/%s/%s", rf->root, project, release))) {
    rc = oom(err);
    goto done;
  }
  if (generation) {
    /* A generation by number is read straight away: no folder scan, so
     * reading every generation in turn (export) stays linear. The scan
     * is only for the message when it is not there. */
    sy_error e;
    sy_error_clear(&e);
    rc = read_generation(rdir, generation, states, tag, &e);
    if (rc == 0 || rc != SY_ENOENT || gen_removed(rdir, generation)) {
      if (rc)
        rc = sy_error_set(err, e.code, "release %s of %s: %s", release, project,
                          e.message);
      goto done;
    }
    if ((rc = scan_generations(rdir, &gens, &ngens, err)) != 0)
      goto done;
    bool have = false;
    for (size_t i = 0; i < ngens && !have; i++)
      have = gens[i] == generation;
    if (have) /* there, but a file is missing: say which */
      rc = sy_error_set(err, e.code, "%s", e.message);
    else if (ngens == 0)
      rc = sy_error_set(err, SY_ENOENT, "release %s of %s has no generations",
                        release, project);
    else
      rc = sy_error_set(err, SY_ENOENT,
                        "release %s of %s has no generation %" PRIu32
                        " (generations: %" PRIu32 " to %" PRIu32 ")",
                        release, project, generation, gens[0], gens[ngens - 1]);
    goto done;
  }
  if ((rc = scan_generations(rdir, &gens, &ngens, err)) != 0)
    goto done;
  /* The latest complete one: a published folder is always whole, so
   * skipping one means it was removed or damaged afterwards; if none is
   * whole, the error of the newest damaged one says why. */
  sy_error first;
  sy_error_clear(&first);
  rc = SY_ENOENT;
  for (size_t i = ngens; i-- > 0 && rc != 0;) {
    if (gen_removed(rdir, gens[i]))
      continue;
    sy_error e;
    sy_error_clear(&e);
    rc = read_generation(rdir, gens[i], states, tag, &e);
    if (rc == 0)
      generation = gens[i];
    else if (first.code == 0)
      first = e;
  }
  if (rc != 0 && first.code != 0)
    rc = sy_error_set(err, first.code, "%s", first.message);
  else if (rc != 0)
    rc = sy_error_set(err, SY_ENOENT, "release %s of %s has no generations",
                      release, project);
  if (rc == 0 && found)
    *found = generation;
done:
  if (rc == 0 && found && generation)
    *found = generation;
  free(gens);
  free(rdir);
  return rc;
}

/* ---- removing -------------------------------------------------------------
 */

/* A release is moved aside by one rename (onto an empty staging folder,
 * which rename() replaces) and then deleted: readers see it whole or not
 * at all, and a remover killed before deleting leaves a staging folder
 * that the next writer cleans up. A generation gets a tombstone first
 * (the file REMOVED_MARK, made with O_EXCL and synced: from then on no
 * reader returns it), then loses its files; its folder stays, so its
 * number is never given to a later generation. */
static int rf_remove(void *self, const char *project, const char *release,
                     uint32_t generation, sy_error *err) {
  regfile *rf = self;
  char *pdir = NULL, *rdir = NULL, *gdir = NULL, *lock = NULL, *staging = NULL,
       *mark = NULL;
  int lfd = -1, fd = -1, rc;
  if ((rc = check_name("project", project, err)) != 0 ||
      (rc = check_name("release", release, err)) != 0)
    return rc;
  if ((rc = find_release(rf, project, release, err)) != 0)
    return rc;
  pdir = fmt("%s/%s", rf->root, project);
  rdir = fmt("%s/%s/%s", rf->root, project, release);
  lock = fmt("%s/%s/.lock", rf->root, project);
  if (!pdir || !rdir || !lock) {
    rc = oom(err);
    goto done;
  }
  if (generation == 0) {
    /* Under the project's lock, like a release being added. */
    lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lfd < 0 || flock(lfd, LOCK_EX) != 0) {
      int e = errno;
      rc = sy_error_set(err, sy_code_from_errno(e), "cannot lock '%s': %s",
                        lock, strerror(e));
      goto done;
    }
    remove_stale(pdir);
    if ((rc = make_staging(pdir, &staging, err)) != 0)
      goto done;
    crash_point(rf);
    if (rename(rdir, staging) != 0) {
      int e = errno;
      rc = sy_error_set(
          err,
          sy_code_from_errno(e) == SY_EEXIST ? SY_EIO : sy_code_from_errno(e),
          "cannot move '%s' aside: %s", rdir, strerror(e));
      goto done;
    }
    crash_point(rf);
    fsync_path(pdir);
    crash_point(rf);
    goto done; /* the staging folder (the old release) is deleted below */
  }
  if (!(gdir = fmt("%s/%" PRIu32, rdir, generation)) ||
      !(mark = fmt("%s/" REMOVED_MARK, gdir))) {
    rc = oom(err);
    goto done;
  }
  struct stat st;
  if (stat(gdir, &st) != 0 || !S_ISDIR(st.st_mode) ||
      gen_removed(rdir, generation)) {
    bool removed = gen_removed(rdir, generation);
    rc = sy_error_set(err, SY_ENOENT,
                      removed ? "release %s of %s: generation %" PRIu32
                                " was removed already"
                              : "release %s of %s has no generation %" PRIu32,
                      release, project, generation);
    goto done;
  }
  fd = open(mark, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0 || fsync(fd) != 0 || fsync_path(gdir) != 0) {
    int e = errno;
    rc = sy_error_set(err, e == EEXIST ? SY_ENOENT : sy_code_from_errno(e),
                      "cannot mark '%s' removed: %s", gdir, strerror(e));
    goto done;
  }
  crash_point(rf);
  /* The data goes; a remover killed here leaves files no reader returns. */
  char *sp = fmt("%s/states", gdir), *tp = fmt("%s/tag", gdir);
  if (sp)
    unlink(sp);
  if (tp)
    unlink(tp);
  free(sp);
  free(tp);
  fsync_path(gdir);
  rc = 0;
done:
  if (fd >= 0)
    close(fd);
  if (lfd >= 0)
    close(lfd);
  if (staging)
    discard_staging(staging);
  free(staging);
  free(mark);
  free(gdir);
  free(lock);
  free(rdir);
  free(pdir);
  return rc;
}

/* ---- listing ------------------------------------------------------------- */

static int64_t mtime_at(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (int64_t)st.st_mtime : 0;
}

/* Visits one release and its complete generations. */
static int list_release(regfile *rf, const char *project, const char *release,
                        sy_registry_visit_fn fn, void *ud, sy_error *err) {
  char *rdir = fmt("%s/%s/%s", rf->root, project, release);
  char *man = fmt("%s/manifest", rdir ? rdir : "");
  uint32_t *gens = NULL;
  size_t ngens = 0;
  int rc = 0;
  if (!rdir || !man) {
    rc = oom(err);
    goto done;
  }
  sy_registry_entry e = {sizeof e, project, release, 0, mtime_at(man)};
  if ((rc = fn(ud, &e)) != 0)
    goto done;
  if ((rc = scan_generations(rdir, &gens, &ngens, err)) != 0)
    goto done;
  int dfd = open(rdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  for (size_t i = 0; dfd >= 0 && i < ngens && rc == 0; i++) {
    char s[32], t[32], g[16];
    snprintf(g, sizeof g, "%" PRIu32, gens[i]);
    snprintf(s, sizeof s, "%s/states", g);
    snprintf(t, sizeof t, "%s/tag", g);
    char m[40];
    snprintf(m, sizeof m, "%s/" REMOVED_MARK, g);
    struct stat ms;
    if (!is_file_at(dfd, s) || !is_file_at(dfd, t) ||
        fstatat(dfd, m, &ms, AT_SYMLINK_NOFOLLOW) == 0)
      continue;
    struct stat st;
    e.generation = gens[i];
    e.mtime = fstatat(dfd, g, &st, 0) == 0 ? (int64_t)st.st_mtime : 0;
    rc = fn(ud, &e);
  }
  if (dfd >= 0)
    close(dfd);
done:
  free(gens);
  free(man);
  free(rdir);
  return rc;
}

static int rf_list(void *self, const char *project, const char *release,
                   sy_registry_visit_fn fn, void *ud, sy_error *err) {
  regfile *rf = self;
  names projects = {0}, rels = {0};
  char *pdir = NULL;
  int rc = 0;
  if (!fn)
    return sy_error_set(err, SY_EINVAL, "list: no visit function");
  if ((project && (rc = check_name("project", project, err)) != 0) ||
      (release && (rc = check_name("release", release, err)) != 0))
    return rc;
  if (project && release) {
    if ((rc = find_release(rf, project, release, err)) != 0)
      return rc;
  }
  if (project) {
    if ((rc = names_add(&projects, project)) != 0) {
      oom(err);
      goto done;
    }
  } else if ((rc = scan_names(rf->root, NULL, cmp_project, &projects, err)) !=
             0) {
    goto done;
  }
  for (size_t p = 0; p < projects.n && rc == 0; p++) {
    free(pdir);
    if (!(pdir = fmt("%s/%s", rf->root, projects.v[p]))) {
      rc = oom(err);
      break;
    }
    names_free(&rels);
    if (scan_names(pdir, "manifest", cmp_release, &rels, err) != 0) {
      /* Asked for by name: say which exist. Found by the scan and gone
       * since (or unreadable): nothing of it to list. */
      if (project)
        rc = no_project(rf, project, err);
      else
        sy_error_clear(err);
      continue;
    }
    if (release && !project) {
      /* One release name across all projects. */
      for (size_t r = 0; r < rels.n && rc == 0; r++)
        if (strcmp(rels.v[r], release) == 0)
          rc = list_release(rf, projects.v[p], release, fn, ud, err);
      continue;
    }
    if (release) {
      rc = list_release(rf, projects.v[p], release, fn, ud, err);
      continue;
    }
    for (size_t r = 0; r < rels.n && rc == 0; r++)
      rc = list_release(rf, projects.v[p], rels.v[r], fn, ud, err);
  }
done:
  names_free(&rels);
  names_free(&projects);
  free(pdir);
  return rc;
}

/* ---- notes (ABI 1.4) -------------------------------------------------------
 * A note is the file "note.NAME" in a generation's folder, written to a
 * temporary name beside it, synced and renamed over, so a reader sees the
 * old note or the new one whole. A killed writer leaves its temporary
 * file ("note.NAME.tmp-PID-XXXXXX"), which no reader looks at. */

static bool note_name_ok(const char *name) {
  size_t n = name ? strlen(name) : 0;
  if (n == 0 || n > 64)
    return false;
  for (const char *c = name; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' ||
          *c == '-'))
      return false;
  return true;
}

/* The folder of generation `generation` (0: the latest whole one). */
static int note_gen_dir(regfile *rf, const char *project, const char *release,
                        uint32_t generation, const char *name, char **gdir,
                        uint32_t *found, sy_error *err) {
  sy_value *states = NULL, *tag = NULL;
  uint32_t got = 0;
  *gdir = NULL;
  if (!note_name_ok(name))
    return sy_error_set(err, SY_EINVAL,
                        "note name '%s': use 1 to 64 of a-z, 0-9, '_', '-'",
                        name ? name : "");
  int rc = rf_get_generation(rf, project, release, generation, &states, &tag,
                             &got, err);
  sy_value_unref(states);
  sy_value_unref(tag);
  if (rc != 0)
    return rc;
  if (!(*gdir = fmt("%s/%s/%s/%" PRIu32, rf->root, project, release, got)))
    return oom(err);
  if (found)
    *found = got;
  return 0;
}

static int rf_put_note(void *self, const char *project, const char *release,
                       uint32_t generation, const char *name,
                       const sy_value *value, uint32_t *found, sy_error *err) {
  regfile *rf = self;
  char *gdir = NULL, *tmp = NULL, *final = NULL;
  void *buf = NULL;
  size_t len = 0;
  int rc =
      note_gen_dir(rf, project, release, generation, name, &gdir, found, err);
  if (rc != 0)
    return rc;
  if ((rc = sy_value_encode(value, &buf, &len)) != 0) {
    rc = sy_error_set(err, rc, "note %s: cannot encode it: %s", name,
                      sy_strerror(rc));
    goto done;
  }
  tmp = fmt("note.%s.tmp-%ld-%08lx", name, (long)getpid(),
            (unsigned long)random());
  final = fmt("%s/note.%s", gdir, name);
  char *tpath = tmp ? fmt("%s/%s", gdir, tmp) : NULL;
  if (!tmp || !final || !tpath) {
    free(tpath);
    rc = oom(err);
    goto done;
  }
  if ((rc = write_file(rf, gdir, tmp, buf, len, err)) == 0 &&
      rename(tpath, final) != 0) {
    int e = errno;
    rc = sy_error_set(err, sy_code_from_errno(e), "cannot publish '%s': %s",
                      final, strerror(e));
  }
  if (rc != 0)
    unlink(tpath);
  else
    fsync_path(gdir);
  free(tpath);
done:
  free(buf);
  free(tmp);
  free(final);
  free(gdir);
  return rc;
}

static int rf_get_note(void *self, const char *project, const char *release,
                       uint32_t generation, const char *name, sy_value **value,
                       sy_error *err) {
  regfile *rf = self;
  char *gdir = NULL, *file = NULL;
  *value = NULL;
  int rc =
      note_gen_dir(rf, project, release, generation, name, &gdir, NULL, err);
  if (rc == 0 && !(file = fmt("note.%s", name)))
    rc = oom(err);
  if (rc == 0)
    rc = read_value(gdir, file, value, err);
  free(file);
  free(gdir);
  return rc;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int rf_list_notes(void *self, const char *project, const char *release,
                         uint32_t generation, sy_registry_note_fn fn, void *ud,
                         sy_error *err) {
  regfile *rf = self;
  char *gdir = NULL;
  names ns = {0};
  if (!fn)
    return sy_error_set(err, SY_EINVAL, "no visitor");
  /* "eval" stands for any valid name: the generation is what is checked. */
  int rc =
      note_gen_dir(rf, project, release, generation, "eval", &gdir, NULL, err);
  if (rc)
    return rc;
  DIR *d = opendir(gdir);
  if (!d) {
    int e = errno;
    rc = sy_error_set(err, sy_code_from_errno(e), "cannot read '%s': %s", gdir,
                      strerror(e));
    free(gdir);
    return rc;
  }
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    /* Temporaries ("note.NAME.tmp-...") are not valid names. */
    if (strncmp(de->d_name, "note.", 5) != 0 || !note_name_ok(de->d_name + 5) ||
        !is_file_at(dirfd(d), de->d_name))
      continue;
    if ((rc = names_add(&ns, de->d_name + 5)) != 0) {
      rc = oom(err);
      break;
    }
  }
  closedir(d);
  free(gdir);
  if (rc == 0 && ns.n)
    qsort(ns.v, ns.n, sizeof *ns.v, cmp_str);
  for (size_t i = 0; rc == 0 && i < ns.n; i++)
    rc = fn(ud, ns.v[i]);
  names_free(&ns);
  return rc;
}

/* ---- descriptor ---------------------------------------------------------- */

static const sy_registry_ops rf_ops = {
    sizeof(sy_registry_ops),
    rf_put_release,
    rf_get_release,
    rf_put_generation,
    rf_get_generation,
    rf_list,
    rf_remove,
    rf_put_release_all,
    rf_put_note,
    rf_get_note,
    rf_list_notes,
};

static const sy_option rf_options[] = {
    {"path", SY_OPT_PATH, 0, "~/.local/share/switchyard/registry", NULL, NULL,
     NULL, offsetof(registry_file_config, path),
     "Folder that holds the registry (project/release/generation); created "
     "when missing."},
    SY_OPTION_END,
};

const sy_provider registry_file_provider = {
    sizeof(sy_provider),
    SY_KIND_REGISTRY,
    "file",
    "1.0.0",
    "Keeps releases and trained generations in a folder tree, published "
    "atomically by rename so readers never see half of one.",
    rf_options,
    sizeof(registry_file_config),
    rf_create,
    rf_destroy,
    &rf_ops,
};
