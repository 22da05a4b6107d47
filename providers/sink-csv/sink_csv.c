/*
 * sink_csv.c - sink "csv": each result written to a CSV file, atomically.
 *
 * The target is `path`, with every "{name}" replaced by the flow node's
 * name, so one instance can write one file per result ("out/{name}.csv").
 * A frame is written as CSV (sy_csv_write, the core's dialect); a bytes
 * value is written raw.
 *
 * Atomicity and confinement come from the core's atomic writer
 * (switchyard/file.h, sy_output_open): the text goes to
 * "<target>.tmp.<pid>.<random>" in the target's folder (created with
 * O_EXCL, so two writers never share one), is fsync()ed, and only then
 * renamed over the target; any failure before the rename unlinks the
 * temporary file, so a reader sees the old file or the new one, never
 * half of one, and a failed write leaves no litter. A target that is a
 * directory, device, FIFO or socket is refused (never opened, so a FIFO
 * cannot hang the run); a symlink is written through (its target gets
 * the new data, the link stays).
 *
 * The instance only borrows its config and holds no other state.
 */
#include "sink_csv.h"

#include "switchyard/file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

typedef struct fd_ctx {
  sy_output *out;
  sy_error *err;
  int failed; /* err holds the write's own message */
} fd_ctx;

static int fd_write(void *ud, const void *buf, size_t len) {
  fd_ctx *o = ud;
  int rc = sy_output_write(o->out, buf, len, o->err);
  o->failed |= rc != 0;
  return rc;
}

static int sink_write(void *self, const char *name, const sy_value *value,
                      sy_error *err) {
  const sink_csv *s = self;
  char *target = NULL;
  fd_ctx o = {NULL, err, 0};
  int rc;
  sy_value_type type = sy_value_type_of(value);
  if (type != SY_VALUE_FRAME && type != SY_VALUE_BYTES) {
    rc = sy_error_set(err, SY_ETYPE, "'%s' is neither a frame nor bytes",
                      name ? name : "value");
    goto fail;
  }
  if ((rc = target_path(s->path, name, &target, err)) < 0)
    goto fail;
  /* Refuses a directory, device, FIFO or socket, writes through a
   * symlink, and makes the temporary file beside the target. */
  if ((rc = sy_output_open(target, &o.out, err)) < 0)
    goto fail;
  if (type == SY_VALUE_BYTES) {
    size_t len = 0;
    const void *data = sy_bytes_data(value, &len);
    rc = fd_write(&o, data, len);
  } else {
    sy_error tmp_err;
    sy_error_clear(&tmp_err);
    rc = sy_csv_write(value, s->delim, fd_write, &o, &tmp_err);
    if (rc < 0 && !o.failed)
      sy_error_set(err, rc, "'%s': %s", target, tmp_err.message);
  }
  if (rc < 0)
    goto fail;
  rc = sy_output_commit(o.out, err);
  o.out = NULL;
  if (rc < 0)
    goto fail;
  free(target);
  return 0;
fail:
  sy_output_abort(o.out);
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
     "folder must exist. Only a regular file or a new name is written (a "
     "folder, device, FIFO or socket is refused); a symlink is written "
     "through to its target."},
    {"delimiter", SY_OPT_STRING, 0, ",", NULL, NULL, NULL,
     offsetof(sink_csv_config, delimiter),
     "Field separator: exactly one character, e.g. ';' or a tab."},
    {"passthrough", SY_OPT_LIST, 0, NULL, NULL, NULL, NULL,
     offsetof(sink_csv_config, passthrough),
     "Source columns (the label too) written beside the results, e.g. "
     "species; _row adds the source row number. The core adds them: the "
     "results must keep one row per source row."},
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
