/*
 * sink_csv.c - sink "csv": each result written to a CSV file, atomically.
 *
 * The target is `path`, with every "{name}" replaced by the flow node's
 * name, so one instance can write one file per result ("out/{name}.csv").
 * A frame is written as CSV (sy_csv_write, the core's dialect); a bytes
 * value is written raw.
 *
 * Atomicity: the text goes to "<target>.tmp.<pid>.<random>" in the same
 * folder (created with O_EXCL, so two writers never share one), is
 * fsync()ed, and only then renamed over the target; rename() within one
 * file system replaces the name in one step. Any failure before the
 * rename unlinks the temporary file, so a reader sees the old file or the
 * new one, never half of one, and a failed write leaves no litter. The
 * folder is fsync()ed after the rename (best effort) so that the new name
 * survives a crash.
 *
 * The instance only borrows its config and holds no other state.
 */
#include "sink_csv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct sink_csv {
  const char *path;
  char delim;
} sink_csv;

/* The target path for node `name` (malloc()ed into *out). A name that
 * would leave the folder ("..", "a/b") is refused. */
static int target_path(const char *path, const char *name, char **out,
                       sy_error *err) {
  static const char key[] = "{name}";
  const size_t klen = sizeof key - 1;
  size_t n = 0, nlen = name ? strlen(name) : 0;
  *out = NULL;
  for (const char *p = strstr(path, key); p; p = strstr(p + klen, key))
    n++;
  if (n && (!name || !*name || strchr(name, '/') || strcmp(name, ".") == 0 ||
            strcmp(name, "..") == 0))
    return sy_error_set(err, SY_EINVAL,
                        "node name '%s' cannot be used in a file name",
                        name ? name : "(null)");
  size_t len = strlen(path) + n * nlen + 1;
  char *t = malloc(len), *w = t;
  if (!t)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  for (const char *p = path; *p;) {
    if (strncmp(p, key, klen) == 0) {
      memcpy(w, name, nlen);
      w += nlen;
      p += klen;
    } else {
      *w++ = *p++;
    }
  }
  *w = '\0';
  *out = t;
  return 0;
}

/* The folder part of a path ("." when there is none), malloc()ed. */
static char *parent_of(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash)
    return strdup(".");
  if (slash == path)
    return strdup("/");
  return strndup(path, (size_t)(slash - path));
}

typedef struct fd_ctx {
  int fd;
  int eno;
} fd_ctx;

static int fd_write(void *ud, const void *buf, size_t len) {
  fd_ctx *o = ud;
  const char *p = buf;
  while (len) {
    ssize_t w = write(o->fd, p, len);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0) {
      o->eno = errno;
      return sy_code_from_errno(errno);
    }
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

/* Creates "<target>.tmp.<pid>.<random>" exclusively; retries on the rare
 * name clash. */
static int open_temp(const char *target, char **tmp, int *fd, sy_error *err) {
  size_t len = strlen(target) + 64;
  char *t = malloc(len);
  if (!t)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  for (int attempt = 0; attempt < 16; attempt++) {
    uint32_t r;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
      r = (uint32_t)time(NULL) ^ (uint32_t)clock() ^ (uint32_t)attempt << 24;
    snprintf(t, len, "%s.tmp.%ld.%08x", target, (long)getpid(), (unsigned)r);
    int d = open(t, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (d >= 0) {
      *tmp = t;
      *fd = d;
      return 0;
    }
    if (errno != EEXIST) {
      int e = errno;
      int rc = sy_error_set(err, sy_code_from_errno(e),
                            "cannot create '%s': %s", t, strerror(e));
      free(t);
      return rc;
    }
  }
  free(t);
  return sy_error_set(err, SY_EEXIST,
                      "cannot create a temporary file next to '%s'", target);
}

static int sink_write(void *self, const char *name, const sy_value *value,
                      sy_error *err) {
  const sink_csv *s = self;
  char *target = NULL, *dir = NULL, *tmp = NULL;
  fd_ctx o = {-1, 0};
  struct stat st;
  int rc;
  sy_value_type type = sy_value_type_of(value);
  if (type != SY_VALUE_FRAME && type != SY_VALUE_BYTES) {
    rc = sy_error_set(err, SY_ETYPE, "'%s' is neither a frame nor bytes",
                      name ? name : "value");
    goto fail;
  }
  if ((rc = target_path(s->path, name, &target, err)) < 0)
    goto fail;
  dir = parent_of(target);
  if (!dir) {
    rc = sy_error_set(err, SY_ENOMEM, "out of memory");
    goto fail;
  }
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    rc = sy_error_set(err, SY_ENOENT, "folder '%s' does not exist (for '%s')",
                      dir, target);
    goto fail;
  }
  if ((rc = open_temp(target, &tmp, &o.fd, err)) < 0)
    goto fail;
  if (type == SY_VALUE_BYTES) {
    size_t len = 0;
    const void *data = sy_bytes_data(value, &len);
    rc = fd_write(&o, data, len);
  } else {
    sy_error tmp_err;
    rc = sy_csv_write(value, s->delim, fd_write, &o, &tmp_err);
    if (rc < 0 && !o.eno) {
      sy_error_set(err, rc, "'%s': %s", target, tmp_err.message);
      goto fail;
    }
  }
  if (rc == 0 && fsync(o.fd) != 0) {
    o.eno = errno;
    rc = sy_code_from_errno(errno);
  }
  if (rc < 0) {
    sy_error_set(err, rc, "cannot write '%s': %s", tmp, strerror(o.eno));
    goto fail;
  }
  int fd = o.fd;
  o.fd = -1;
  if (close(fd) != 0) {
    int e = errno;
    rc = sy_error_set(err, sy_code_from_errno(e), "cannot write '%s': %s", tmp,
                      strerror(e));
    goto fail;
  }
  if (rename(tmp, target) != 0) {
    int e = errno;
    rc = sy_error_set(err, sy_code_from_errno(e),
                      "cannot rename '%s' to '%s': %s", tmp, target,
                      strerror(e));
    goto fail;
  }
  /* Make the rename itself durable; a failure here loses nothing that a
   * caller could act on, so it is not reported. */
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)fsync(dfd);
    close(dfd);
  }
  free(tmp);
  free(dir);
  free(target);
  return 0;
fail:
  if (o.fd >= 0)
    close(o.fd);
  if (tmp)
    unlink(tmp);
  free(tmp);
  free(dir);
  free(target);
  return rc;
}

static int sink_create(const void *config, void **self, sy_error *err) {
  const sink_csv_config *cfg = config;
  if (!cfg->path || !*cfg->path)
    return sy_error_set(err, SY_ECONFIG, "path: a file name is required");
  const char *d = cfg->delimiter ? cfg->delimiter : ",";
  if (strlen(d) != 1 || *d == '"' || *d == '\r' || *d == '\n' ||
      (unsigned char)*d >= 0x80)
    return sy_error_set(err, SY_ECONFIG,
                        "delimiter: '%s' is not one ASCII character other "
                        "than '\"', CR and LF",
                        d);
  sink_csv *s = calloc(1, sizeof *s);
  if (!s)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  s->path = cfg->path;
  s->delim = *d;
  *self = s;
  return 0;
}

static void sink_destroy(void *self) {
  free(self);
}

static const sy_sink_ops sink_ops = {
    sizeof(sy_sink_ops),
    sink_write,
};

static const sy_option sink_options[] = {
    {"path", SY_OPT_PATH, SY_OPT_REQUIRED, NULL, NULL, NULL, NULL,
     offsetof(sink_csv_config, path),
     "File to write; {name} is replaced by the flow node's name, and the "
     "folder must exist."},
    {"delimiter", SY_OPT_STRING, 0, ",", NULL, NULL, NULL,
     offsetof(sink_csv_config, delimiter),
     "Field separator: exactly one character, e.g. ';' or a tab."},
    SY_OPTION_END,
};

const sy_provider sink_csv_provider = {
    sizeof(sy_provider),
    SY_KIND_SINK,
    "csv",
    "1.0.0",
    "Writes each result to a CSV file, atomically (temporary file, then "
    "rename).",
    sink_options,
    sizeof(sink_csv_config),
    sink_create,
    sink_destroy,
    &sink_ops,
};
