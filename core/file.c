/*
 * file.c - the files a user names: atomic and streaming writers that
 * refuse anything but a regular file, and a bounded whole-file reader.
 * The policy (symlinks written through, checks on what was opened) is
 * documented in include/switchyard/file.h.
 */
#include "switchyard/file.h"
#include "program.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Links followed before giving up, as the kernel's own limit. */
#define LINK_HOPS 40

struct sy_output {
  int dirfd;        /* the target's folder */
  int fd;           /* the temporary file, -1 once closed */
  char *target;     /* path with its symlinks resolved */
  char *base;       /* the target's name inside dirfd (points into target) */
  char *tmp;        /* the temporary file's name inside dirfd */
  const char *path; /* as the caller named it: for messages only */
  char *shown;      /* "path" or "path (-> target)" */
};

/* What a file that is not regular is, for messages. */
static const char *what_is(mode_t mode) {
  if (S_ISDIR(mode))
    return "a directory";
  if (S_ISCHR(mode))
    return "a character device";
  if (S_ISBLK(mode))
    return "a block device";
  if (S_ISFIFO(mode))
    return "a FIFO (named pipe)";
  if (S_ISSOCK(mode))
    return "a socket";
  if (S_ISLNK(mode))
    return "a symbolic link";
  return "not a regular file";
}

static int refuse(sy_error *err, const char *shown, mode_t mode) {
  return sy_error_set(err, SY_EINVAL,
                      "'%s' is %s, not a regular file; refusing to write it "
                      "(name a regular file or a new one)",
                      shown, what_is(mode));
}

/* Follows the symlinks of path's last component; *out is malloc()ed. A
 * name that does not exist (a dangling link's target too) is the file to
 * create. */
static int resolve(const char *path, char **out, sy_error *err) {
  char *cur = strdup(path);
  if (!cur)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  for (int hops = 0;; hops++) {
    struct stat st;
    if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode)) {
      *out = cur;
      return 0;
    }
    if (hops == LINK_HOPS) {
      free(cur);
      return sy_error_set(err, SY_EINVAL,
                          "'%s': more than %d symbolic links in a row", path,
                          LINK_HOPS);
    }
    char link[PATH_MAX];
    ssize_t n = readlink(cur, link, sizeof link - 1);
    if (n < 0) {
      int e = errno;
      free(cur);
      return sy_error_set(err, sy_code_from_errno(e), "'%s': %s", path,
                          strerror(e));
    }
    link[n] = '\0';
    const char *slash = strrchr(cur, '/');
    size_t dir = link[0] == '/' || !slash ? 0 : (size_t)(slash - cur) + 1;
    char *next = malloc(dir + (size_t)n + 1);
    if (!next) {
      free(cur);
      return sy_error_set(err, SY_ENOMEM, "out of memory");
    }
    memcpy(next, cur, dir);
    memcpy(next + dir, link, (size_t)n + 1);
    free(cur);
    cur = next;
  }
}

/* Sets o->target, o->base, o->shown and o->dirfd, and checks the entry:
 * absent or a regular file. *old gets the file that would be replaced,
 * or st_mode 0 when there is none. */
static int locate(sy_output *o, struct stat *old, sy_error *err) {
  int rc = resolve(o->path, &o->target, err);
  if (rc)
    return rc;
  size_t plen = strlen(o->path), tlen = strlen(o->target);
  int same = strcmp(o->path, o->target) == 0;
  o->shown = malloc(plen + tlen + 8);
  if (!o->shown)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  if (same)
    memcpy(o->shown, o->path, plen + 1);
  else
    snprintf(o->shown, plen + tlen + 8, "%s (-> %s)", o->path, o->target);

  char *slash = strrchr(o->target, '/');
  const char *dir = ".";
  if (slash) {
    o->base = slash + 1;
    *slash = '\0'; /* o->target is whole again below */
    dir = slash == o->target ? "/" : o->target;
  } else {
    o->base = o->target;
  }
  if (!*o->base || strcmp(o->base, ".") == 0 || strcmp(o->base, "..") == 0) {
    if (slash)
      *slash = '/';
    return refuse(err, o->shown, S_IFDIR);
  }
  o->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (o->dirfd < 0) {
    int e = errno;
    if (e == ENOENT || e == ENOTDIR)
      rc = sy_error_set(err, SY_ENOENT, "folder '%s' does not exist (for '%s')",
                        dir, o->path);
    else
      rc =
          sy_error_set(err, sy_code_from_errno(e), "folder '%s' (for '%s'): %s",
                       dir, o->path, strerror(e));
    if (slash)
      *slash = '/';
    return rc;
  }
  if (slash)
    *slash = '/';
  int e;
  struct stat st;
  memset(old, 0, sizeof *old);
  if (fstatat(o->dirfd, o->base, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    e = errno;
    if (e == ENOENT)
      return 0;
    return sy_error_set(err, sy_code_from_errno(e), "'%s': %s", o->shown,
                        strerror(e));
  }
  if (S_ISLNK(st.st_mode))
    return sy_error_set(err, SY_EINVAL,
                        "'%s' was replaced by a symbolic link while it was "
                        "opened; refusing to write it",
                        o->shown);
  if (!S_ISREG(st.st_mode))
    return refuse(err, o->shown, st.st_mode);
  *old = st;
  return 0;
}

static void output_free(sy_output *o) {
  if (!o)
    return;
  if (o->fd >= 0)
    close(o->fd);
  if (o->tmp && o->dirfd >= 0)
    unlinkat(o->dirfd, o->tmp, 0);
  if (o->dirfd >= 0)
    close(o->dirfd);
  free(o->tmp);
  free(o->target);
  free(o->shown);
  free(o);
}

static sy_output *output_new(const char *path) {
  sy_output *o = calloc(1, sizeof *o);
  if (o) {
    o->dirfd = o->fd = -1;
    o->path = path;
  }
  return o;
}

/* A new output for path, located (*o set even when locate fails, NULL
 * when path is empty or memory ran out). */
static int output_locate(const char *path, sy_output **o, struct stat *old,
                         sy_error *err) {
  *o = NULL;
  if (!path || !*path)
    return sy_error_set(err, SY_EINVAL, "no file name given");
  if (!(*o = output_new(path)))
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  return locate(*o, old, err);
}

int sy_output_check(const char *path, sy_error *err) {
  sy_output *o;
  struct stat old;
  int rc = output_locate(path, &o, &old, err);
  output_free(o);
  return rc;
}

int sy_output_open(const char *path, sy_output **out, sy_error *err) {
  *out = NULL;
  sy_output *o;
  struct stat old;
  int rc = output_locate(path, &o, &old, err);
  if (!o)
    return rc;
  if (rc)
    goto fail;
  /* "<name>.tmp.<pid>.<random>", the name cut so that the whole stays
   * within NAME_MAX. */
  size_t blen = strlen(o->base);
  int keep = blen > 200 ? 200 : (int)blen;
  size_t cap = (size_t)keep + 48;
  if (!(o->tmp = malloc(cap))) {
    rc = sy_error_set(err, SY_ENOMEM, "out of memory");
    goto fail;
  }
  for (int attempt = 0; attempt < 16 && o->fd < 0; attempt++) {
    uint32_t r;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
      r = (uint32_t)time(NULL) ^ (uint32_t)clock() ^ (uint32_t)attempt << 24;
    snprintf(o->tmp, cap, "%.*s.tmp.%ld.%08x", keep, o->base, (long)getpid(),
             (unsigned)r);
    o->fd = openat(o->dirfd, o->tmp,
                   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (o->fd < 0 && errno != EEXIST) {
      int e = errno;
      free(o->tmp);
      o->tmp = NULL; /* not ours: nothing to remove */
      rc = sy_error_set(err, sy_code_from_errno(e),
                        "'%s': cannot create a temporary file beside it: %s",
                        o->shown, strerror(e));
      goto fail;
    }
  }
  if (o->fd < 0) {
    free(o->tmp);
    o->tmp = NULL;
    rc = sy_error_set(err, SY_EEXIST,
                      "'%s': cannot create a temporary file beside it",
                      o->shown);
    goto fail;
  }
  /* The new file keeps the owner (where this process may give it) and
   * the permissions of the one it replaces, as its target would have
   * if it were rewritten in place. */
  if (old.st_mode) {
    (void)fchown(o->fd, old.st_uid, old.st_gid);
    (void)fchmod(o->fd, old.st_mode & 0777);
  }
  *out = o;
  return 0;
fail:
  output_free(o);
  return rc;
}

int sy_output_fd(const sy_output *o) {
  return o ? o->fd : -1;
}

const char *sy_output_target(const sy_output *o) {
  return o ? o->target : NULL;
}

int sy_output_write(sy_output *o, const void *data, size_t len, sy_error *err) {
  const char *p = data;
  while (len) {
    ssize_t w = write(o->fd, p, len);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0) {
      int e = errno;
      return sy_error_set(err, sy_code_from_errno(e), "cannot write '%s': %s",
                          o->shown, strerror(e));
    }
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

int sy_output_commit(sy_output *o, sy_error *err) {
  if (!o)
    return sy_error_set(err, SY_EINVAL, "sy_output_commit: no output");
  int rc = 0, e = 0;
  if (fsync(o->fd) != 0)
    e = errno;
  if (close(o->fd) != 0 && !e)
    e = errno;
  o->fd = -1;
  if (e) {
    rc = sy_error_set(err, sy_code_from_errno(e), "cannot write '%s': %s",
                      o->shown, strerror(e));
    goto done;
  }
  /* The entry must still be absent or a regular file: something put
   * there since the open (a device node, a FIFO, a link) is not
   * replaced. */
  struct stat st;
  if (fstatat(o->dirfd, o->base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISLNK(st.st_mode)) {
      rc = sy_error_set(err, SY_EINVAL,
                        "'%s' was replaced by a symbolic link while it was "
                        "written; refusing to replace it",
                        o->shown);
      goto done;
    }
    if (!S_ISREG(st.st_mode)) {
      rc = refuse(err, o->shown, st.st_mode);
      goto done;
    }
  } else if (errno != ENOENT) {
    e = errno;
    rc = sy_error_set(err, sy_code_from_errno(e), "'%s': %s", o->shown,
                      strerror(e));
    goto done;
  }
  if (renameat(o->dirfd, o->tmp, o->dirfd, o->base) != 0) {
    e = errno;
    rc = sy_error_set(err, sy_code_from_errno(e), "cannot replace '%s': %s",
                      o->shown, strerror(e));
    goto done;
  }
  free(o->tmp);
  o->tmp = NULL; /* renamed: nothing left to remove */
  /* Make the rename itself durable; a failure here loses nothing that a
   * caller could act on. */
  (void)fsync(o->dirfd);
done:
  output_free(o);
  return rc;
}

void sy_output_abort(sy_output *o) {
  output_free(o);
}

int sy_file_write(const char *path, const void *data, size_t len,
                  sy_error *err) {
  sy_output *o = NULL;
  int rc = sy_output_open(path, &o, err);
  if (rc == 0 && (rc = sy_output_write(o, data, len, err)) != 0)
    sy_output_abort(o);
  else if (rc == 0)
    rc = sy_output_commit(o, err);
  return rc;
}

int sy_output_stream(const char *path, FILE **out, sy_error *err) {
  *out = NULL;
  if (!path || !*path)
    return sy_error_set(err, SY_EINVAL, "no file name given");
  struct stat st;
  /* Refuse what is plainly not a file before opening it: opening some
   * devices has effects of its own. The check that counts is the fstat()
   * of what was opened, below. */
  if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
    return refuse(err, path, st.st_mode);
  int fd =
      open(path, O_WRONLY | O_CREAT | O_NOCTTY | O_NONBLOCK | O_CLOEXEC, 0666);
  if (fd < 0) {
    int e = errno;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
      return refuse(err, path, st.st_mode);
    return sy_error_set(err, sy_code_from_errno(e), "cannot write '%s': %s",
                        path, strerror(e));
  }
  int rc = 0;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    rc = sy_error_set(err, sy_code_from_errno(e), "cannot write '%s': %s", path,
                      strerror(e));
  } else if (!S_ISREG(st.st_mode)) {
    rc = refuse(err, path, st.st_mode);
  } else {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0 ||
        ftruncate(fd, 0) != 0 || !(*out = fdopen(fd, "w"))) {
      int e = errno;
      rc = sy_error_set(err, sy_code_from_errno(e), "cannot write '%s': %s",
                        path, strerror(e));
    }
  }
  if (rc)
    close(fd);
  return rc;
}

int sy__file_open_regular(const char *path, size_t limit, int *fd,
                          sy_error *err) {
  *fd = -1;
  if (!path || !*path)
    return sy_error_set(err, SY_EINVAL, "no file name given");
  /* O_NONBLOCK: a FIFO without a writer must not block the open. */
  int d = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (d < 0) {
    int e = errno;
    return sy_error_set(err, e == ENOENT ? SY_ENOENT : sy_code_from_errno(e),
                        "%s: cannot open: %s", path, strerror(e));
  }
  struct stat st;
  int rc = 0;
  if (fstat(d, &st) != 0) {
    int e = errno;
    rc = sy_error_set(err, sy_code_from_errno(e), "%s: %s", path, strerror(e));
  } else if (!S_ISREG(st.st_mode)) {
    rc = sy_error_set(err, SY_EINVAL,
                      "%s: is %s, not a regular file; refusing to read it",
                      path, what_is(st.st_mode));
  } else if ((uint64_t)st.st_size > limit) {
    rc = sy_error_set(err, SY_ETOOBIG,
                      "%s: %lld bytes, more than the limit of %zu bytes for "
                      "this file; is it the right file?",
                      path, (long long)st.st_size, limit);
  }
  if (rc) {
    close(d);
    return rc;
  }
  *fd = d;
  return 0;
}

int sy_file_read_fd(int fd, const char *name, size_t limit, void **data,
                    size_t *len, sy_error *err) {
  *data = NULL;
  *len = 0;
  if (!name)
    name = "(file)";
  if (limit > SIZE_MAX / 4)
    limit = SIZE_MAX / 4; /* so that the sums below cannot wrap */
  /* A regular file says how much to expect; it may grow while it is read,
   * so read up to one byte past the limit to notice. Anything else (a
   * pipe, /dev/null) grows the buffer as it comes. */
  struct stat st;
  size_t cap = 65536, n = 0;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
    cap = (uint64_t)st.st_size < limit ? (size_t)st.st_size + 1 : limit + 1;
  else if (cap > limit + 1)
    cap = limit + 1;
  int rc = 0;
  char *buf = sy__big_malloc(cap + 1);
  if (!buf)
    return sy_error_set(err, SY_ENOMEM, "%s: out of memory", name);
  for (;;) {
    if (n == cap) {
      if (cap > limit) {
        rc = sy_error_set(err, SY_ETOOBIG,
                          "%s: more than the limit of %zu bytes for this "
                          "file",
                          name, limit);
        goto done;
      }
      size_t grown = cap * 2 > limit + 1 ? limit + 1 : cap * 2;
      char *g = realloc(buf, grown + 1);
      if (!g) {
        rc = sy_error_set(err, SY_ENOMEM, "%s: out of memory", name);
        goto done;
      }
      buf = g;
      cap = grown;
    }
    ssize_t got = read(fd, buf + n, cap - n);
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0) {
      int e = errno;
      rc = sy_error_set(err, sy_code_from_errno(e), "%s: read error: %s", name,
                        strerror(e));
      goto done;
    }
    if (got == 0)
      break;
    n += (size_t)got;
  }
  if (n > limit) {
    rc = sy_error_set(err, SY_ETOOBIG,
                      "%s: more than the limit of %zu bytes for this file",
                      name, limit);
    goto done;
  }
  buf[n] = '\0';
  *data = buf;
  *len = n;
  buf = NULL;
done:
  free(buf);
  return rc;
}

int sy_file_read(const char *path, size_t limit, void **data, size_t *len,
                 sy_error *err) {
  *data = NULL;
  *len = 0;
  int fd = -1;
  int rc = sy__file_open_regular(path, limit, &fd, err);
  if (rc)
    return rc;
  rc = sy_file_read_fd(fd, path, limit, data, len, err);
  close(fd);
  return rc;
}
