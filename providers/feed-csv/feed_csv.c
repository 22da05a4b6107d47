/*
 * feed_csv.c - feed "csv": a folder of CSV files, one table per file.
 *
 * Table "iris" is the file "<path>/iris.csv". A table name is a plain
 * file name stem ([A-Za-z0-9_.-]+, not starting with '.'), so a flow can
 * never read outside the folder ("../etc/passwd" and "/x" are refused
 * before any file is touched).
 *
 * read() loads the whole file and hands it to sy_csv_read() (the core's
 * CSV dialect, include/switchyard/csv.h) with the file path as the name
 * errors show, and the declared types that concern this table: an entry
 * "iris.sepal_length:f64" of the `types` option becomes "sepal_length:f64"
 * for table "iris". Table names may contain '.', so an entry applies to
 * every table whose name followed by '.' starts it.
 *
 * fingerprint() hashes the file's bytes without parsing them (the core's
 * content hash, sy_hasher in switchyard/hash.h, streamed), together with a
 * format tag, the delimiter and the table's declared types: anything that
 * changes what read() would return changes the key, so a cached feed step is
 * reused exactly when it may be.
 *
 * describe() reads only as much of the file as holds the header (64 KiB
 * at a time) and reports its columns with their declared types, 0 for the
 * rest: what read() would infer depends on every row, which describe must
 * not read. So a file whose rows are malformed still describes.
 *
 * query() (ABI 1.4) reads the table whole and applies the flow's
 * pushdown with sy_feed_query_apply, the reference the SQL feeds match.
 *
 * The instance only borrows its config (valid until destroy) and keeps no
 * other state, so concurrent calls on one instance would be safe; the core
 * does not make them.
 */
#include "feed_csv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <switchyard/hash.h>

typedef struct feed_csv {
  const char *path;
  char delim;
  const char *const *types;
} feed_csv;

/* Bumped when read() would return something else for the same bytes, so
 * that old cache entries stop matching. */
#define FINGERPRINT_TAG "feed-csv/1"

static int table_name_ok(const char *t) {
  if (!t || !*t || *t == '.')
    return 0;
  for (const char *c = t; *c; c++) {
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
          (*c >= '0' && *c <= '9') || *c == '_' || *c == '.' || *c == '-'))
      return 0;
  }
  return 1;
}

/* "table.column:type" with a known type and non-empty parts. */
static int type_entry_ok(const char *e) {
  const char *colon = strrchr(e, ':');
  if (!colon)
    return 0;
  if (strcmp(colon + 1, "f64") && strcmp(colon + 1, "i64") &&
      strcmp(colon + 1, "string"))
    return 0;
  const char *dot = memchr(e, '.', (size_t)(colon - e));
  return dot && dot > e && dot + 1 < colon;
}

static int feed_create(const void *config, void **self, sy_error *err) {
  const feed_csv_config *cfg = config;
  feed_csv *f = NULL;
  struct stat st;
  int rc;
  if (!cfg->path || !*cfg->path) {
    rc = sy_error_set(err, SY_ECONFIG, "path: a folder is required");
    goto fail;
  }
  if (stat(cfg->path, &st) != 0) {
    int e = errno;
    rc = sy_error_set(err, sy_code_from_errno(e), "folder '%s': %s", cfg->path,
                      e == ENOENT ? "does not exist" : strerror(e));
    goto fail;
  }
  if (!S_ISDIR(st.st_mode)) {
    rc = sy_error_set(err, SY_ECONFIG, "path: '%s' is not a folder", cfg->path);
    goto fail;
  }
  const char *d = cfg->delimiter ? cfg->delimiter : ",";
  if (strlen(d) != 1 || *d == '"' || *d == '\r' || *d == '\n' ||
      (unsigned char)*d >= 0x80) {
    rc = sy_error_set(err, SY_ECONFIG,
                      "delimiter: '%s' is not one ASCII character other "
                      "than '\"', CR and LF",
                      d);
    goto fail;
  }
  for (size_t i = 0; cfg->types && cfg->types[i]; i++) {
    if (!type_entry_ok(cfg->types[i])) {
      rc = sy_error_set(err, SY_ECONFIG,
                        "types: '%s' is not table.column:type (type f64, "
                        "i64 or string)",
                        cfg->types[i]);
      goto fail;
    }
  }
  f = calloc(1, sizeof *f);
  if (!f) {
    rc = sy_error_set(err, SY_ENOMEM, "out of memory");
    goto fail;
  }
  f->path = cfg->path;
  f->delim = *d;
  f->types = cfg->types;
  *self = f;
  return 0;
fail:
  free(f);
  return rc;
}

static void feed_destroy(void *self) {
  free(self);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Fails with SY_ENOENT naming the tables the folder does have, because
 * "no such table" alone sends the user off to `ls`. */
static int no_table(const feed_csv *f, const char *table, sy_error *err) {
  char **names = NULL;
  size_t n = 0, cap = 0;
  char list[SY_ERROR_MAX] = "";
  size_t used = 0;
  DIR *dir = opendir(f->path);
  struct dirent *de;
  while (dir && (de = readdir(dir)) != NULL) {
    size_t len = strlen(de->d_name);
    if (len <= 4 || strcmp(de->d_name + len - 4, ".csv") != 0)
      continue;
    char *stem = strndup(de->d_name, len - 4);
    if (!stem)
      break;
    if (!table_name_ok(stem)) {
      free(stem);
      continue;
    }
    if (n == cap) {
      size_t ncap = cap ? cap * 2 : 16;
      char **nn = realloc(names, ncap * sizeof *nn);
      if (!nn) {
        free(stem);
        break;
      }
      names = nn;
      cap = ncap;
    }
    names[n++] = stem;
  }
  if (dir)
    closedir(dir);
  if (n)
    qsort(names, n, sizeof *names, cmp_str);
  for (size_t i = 0; i < n && used < sizeof list; i++) {
    int k = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                     names[i]);
    if (k < 0)
      break;
    used += (size_t)k;
  }
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
  if (n)
    return sy_error_set(err, SY_ENOENT, "no table '%s' in '%s' (tables: %s)",
                        table, f->path, list);
  return sy_error_set(err, SY_ENOENT,
                      "no table '%s' in '%s' (the folder has no .csv "
                      "files)",
                      table, f->path);
}

/* Opens <path>/<table>.csv; the path is returned in *file (malloc()ed). */
static int open_table(const feed_csv *f, const char *table, char **file,
                      int *fd, sy_error *err) {
  *file = NULL;
  *fd = -1;
  if (!table_name_ok(table))
    return sy_error_set(err, SY_EINVAL,
                        "invalid table name '%s': use letters, digits, '_', "
                        "'.' and '-', not starting with '.'",
                        table ? table : "(null)");
  size_t len = strlen(f->path) + strlen(table) + 6;
  char *p = malloc(len);
  if (!p)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  snprintf(p, len, "%s/%s.csv", f->path, table);
  int d = open(p, O_RDONLY | O_CLOEXEC);
  if (d < 0) {
    int e = errno;
    int rc = e == ENOENT ? no_table(f, table, err)
                         : sy_error_set(err, sy_code_from_errno(e), "'%s': %s",
                                        p, strerror(e));
    free(p);
    return rc;
  }
  struct stat st;
  if (fstat(d, &st) != 0 || !S_ISREG(st.st_mode)) {
    int rc = sy_error_set(err, SY_EINVAL, "'%s' is not a regular file", p);
    close(d);
    free(p);
    return rc;
  }
  *file = p;
  *fd = d;
  return 0;
}

/* The declared types of one table, as "column:type" suffixes of the
 * config's entries (borrowed), NULL-terminated; NULL when there are none. */
static int table_types(const feed_csv *f, const char *table,
                       const char ***out) {
  size_t tlen = strlen(table), n = 0;
  *out = NULL;
  for (size_t i = 0; f->types && f->types[i]; i++)
    n++;
  if (!n)
    return 0;
  const char **t = calloc(n + 1, sizeof *t);
  if (!t)
    return SY_ENOMEM;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    const char *e = f->types[i];
    if (strncmp(e, table, tlen) == 0 && e[tlen] == '.')
      t[k++] = e + tlen + 1;
  }
  if (!k) {
    free(t);
    t = NULL;
  }
  *out = t;
  return 0;
}

static int feed_read(void *self, const char *table, sy_value **out,
                     sy_error *err) {
  const feed_csv *f = self;
  char *file = NULL, *data = NULL;
  const char **types = NULL;
  size_t len = 0;
  int fd = -1, rc;
  if ((rc = open_table(f, table, &file, &fd, err)) < 0)
    goto fail;
  void *whole = NULL;
  if ((rc = sy_file_read_fd(fd, file, SIZE_MAX, &whole, &len, err)) != 0)
    goto fail;
  data = whole;
  if ((rc = table_types(f, table, &types)) < 0) {
    sy_error_set(err, rc, "out of memory");
    goto fail;
  }
  sy_csv_options opts = {0};
  opts.size = sizeof opts;
  opts.delimiter = f->delim;
  opts.types = types;
  opts.name = file;
  rc = sy_csv_read(data, len, &opts, out, err);
fail:
  free(types);
  free(data);
  if (fd >= 0)
    close(fd);
  free(file);
  return rc;
}

static int feed_fingerprint(void *self, const char *table, uint8_t key[16],
                            sy_error *err) {
  const feed_csv *f = self;
  char *file = NULL;
  const char **types = NULL;
  sy_hasher *st = NULL;
  char *buf = NULL;
  int fd = -1, rc;
  if ((rc = open_table(f, table, &file, &fd, err)) < 0)
    goto fail;
  rc = SY_ENOMEM;
  buf = malloc(65536);
  if (sy_hasher_new(&st) < 0 || !buf || table_types(f, table, &types) < 0) {
    sy_error_set(err, rc, "out of memory");
    goto fail;
  }
  /* Options first, each ended by a NUL so that no two option sets hash
   * the same bytes; then the file. */
  sy_hasher_update(st, FINGERPRINT_TAG, sizeof FINGERPRINT_TAG);
  sy_hasher_update(st, &f->delim, 1);
  for (size_t i = 0; types && types[i]; i++)
    sy_hasher_update(st, types[i], strlen(types[i]) + 1);
  sy_hasher_update(st, "", 1);
  for (;;) {
    ssize_t r = read(fd, buf, 65536);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      rc = sy_error_set(err, SY_EIO, "'%s': %s", file, strerror(errno));
      goto fail;
    }
    if (r == 0)
      break;
    sy_hasher_update(st, buf, (size_t)r);
  }
  sy_hasher_digest(st, key);
  rc = 0;
fail:
  free(buf);
  sy_hasher_free(st);
  free(types);
  if (fd >= 0)
    close(fd);
  free(file);
  return rc;
}

static int feed_describe(void *self, const char *table, sy_column_fn column,
                         void *ud, sy_error *err) {
  const feed_csv *f = self;
  char *file = NULL;
  const char **types = NULL;
  sy_buf b = SY_BUF_INIT;
  int fd = -1, rc;
  if ((rc = open_table(f, table, &file, &fd, err)) < 0)
    goto fail;
  if ((rc = table_types(f, table, &types)) < 0) {
    sy_error_set(err, rc, "out of memory");
    goto fail;
  }
  sy_csv_options opts = {0};
  opts.size = sizeof opts;
  opts.delimiter = f->delim;
  opts.types = types;
  opts.name = file;
  /* Read more only while the header has not ended in what was read. */
  for (int eof = 0;;) {
    /* Twice the bytes read so far (64 KiB first), or until a line end. */
    size_t want = b.len ? b.len : 65536;
    if (!eof && sy_buf_reserve(&b, want) != 0) {
      rc = sy_error_set(err, SY_ENOMEM, "'%s': out of memory", file);
      goto fail;
    }
    for (size_t end = b.len + want; !eof && b.len < end;) {
      ssize_t r = read(fd, b.data + b.len, end - b.len);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0) {
        rc = sy_error_set(err, SY_EIO, "'%s': %s", file, strerror(errno));
        goto fail;
      }
      if (r == 0)
        eof = 1;
      b.len += (size_t)r;
      b.data[b.len] = '\0';
      if (r > 0 && memchr(b.data + b.len - (size_t)r, '\n', (size_t)r))
        break; /* a line end: the header may be complete */
    }
    rc = sy_csv_read_header(b.data, b.len, eof, &opts, column, ud, err);
    if (rc <= 0)
      break;
  }
fail:
  sy_buf_free(&b);
  free(types);
  if (fd >= 0)
    close(fd);
  free(file);
  return rc;
}

/* A CSV file has no index to push a query into: the table is read whole
 * and the query applied by the core's reference (sy_feed_query_apply),
 * which the SQL feeds match row for row. */
static int feed_query(void *self, const char *table, const sy_feed_query *q,
                      sy_value **out, sy_error *err) {
  sy_value *all = NULL;
  int rc = feed_read(self, table, &all, err);
  if (rc == 0) {
    rc = sy_feed_query_apply(all, q, out, err);
    if (rc)
      sy_error_prefix(err, "table '%s'", table);
  }
  sy_value_unref(all);
  return rc;
}

static const sy_feed_ops feed_ops = {
    sizeof(sy_feed_ops), feed_read, feed_fingerprint, feed_describe, feed_query,
};

static const sy_option feed_options[] = {
    {"path", SY_OPT_PATH, 0, ".", NULL, NULL, NULL,
     offsetof(feed_csv_config, path),
     "Folder holding one <table>.csv file per table; relative to the "
     "config file that sets it, or to the current folder by default."},
    {"delimiter", SY_OPT_STRING, 0, ",", NULL, NULL, NULL,
     offsetof(feed_csv_config, delimiter),
     "Field separator: exactly one character, e.g. ';' or a tab."},
    {"types", SY_OPT_LIST, 0, NULL, NULL, NULL, NULL,
     offsetof(feed_csv_config, types),
     "Column types that override inference, as table.column:type entries "
     "with type f64, i64 or string. An undeclared column whose values are "
     "mostly numbers fails at its first other cell: declare it string to "
     "read it as text."},
    SY_OPTION_END,
};

const sy_provider feed_csv_provider = {
    sizeof(sy_provider),
    SY_KIND_FEED,
    "csv",
    "1.0.0",
    "Reads tables from a folder of CSV files, one <table>.csv per table.",
    feed_options,
    sizeof(feed_csv_config),
    feed_create,
    feed_destroy,
    &feed_ops,
};
