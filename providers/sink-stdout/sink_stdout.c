/*
 * sink_stdout.c - sink "stdout": results on the standard output.
 *
 * A frame is written as CSV (the core's dialect, sy_csv_write) or as an
 * aligned table for people; format "auto" picks the table when the stream
 * is a terminal and CSV otherwise, so `switchyard run x | cut -d, -f2`
 * gets machine-readable text without a flag. Under an MPI launcher
 * (mpirun) "auto" is always CSV: rank 0's stdout is mpirun's
 * pseudo-terminal, not a person's. A bytes value is written raw,
 * as the program that made it meant it.
 *
 * The table is rendered in two passes over the rows it shows (one for the
 * column widths, one to print), formatting each cell into a small buffer
 * both times, so that memory does not grow with the frame. Numbers are
 * right-aligned; long strings are cut at TABLE_CELL_MAX characters with
 * "..."; control characters become spaces so that one cell cannot break
 * the layout. Widths count UTF-8 characters, not bytes.
 *
 * Errors: every fwrite and the final fflush are checked; a closed pipe
 * (EPIPE, when the process ignores SIGPIPE) or a full disk fail the write
 * with SY_EIO naming the cause. The instance is immutable after create,
 * so it holds no per-call state.
 */
#include "sink_stdout.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TABLE_CELL_MAX 40 /* characters shown of one cell */

typedef struct sink_stdout {
  int format;
  size_t max_rows; /* 0 = all */
  FILE *out;
} sink_stdout;

/* One write call's stream and the errno of its first failure. */
typedef struct out_ctx {
  FILE *out;
  int eno;
} out_ctx;

static int out_write(void *ud, const void *buf, size_t len) {
  out_ctx *o = ud;
  if (o->eno)
    return SY_EIO;
  if (len && fwrite(buf, 1, len, o->out) != len) {
    o->eno = errno ? errno : EIO;
    return SY_EIO;
  }
  return 0;
}

static int out_str(out_ctx *o, const char *s) {
  return out_write(o, s, strlen(s));
}

static int out_pad(out_ctx *o, size_t n, char ch) {
  char buf[64];
  memset(buf, ch, sizeof buf);
  int rc = 0;
  while (n && rc == 0) {
    size_t k = n < sizeof buf ? n : sizeof buf;
    rc = out_write(o, buf, k);
    n -= k;
  }
  return rc;
}

static size_t utf8_chars(const char *s) {
  size_t n = 0;
  for (; *s; s++)
    n += ((unsigned char)*s & 0xC0) != 0x80;
  return n;
}

/* Copies s for display into buf (at least TABLE_CELL_MAX * 4 + 4 bytes):
 * control characters become spaces, and text beyond TABLE_CELL_MAX
 * characters is cut and ended with "...". Returns the characters shown. */
static size_t display_text(const char *s, char *buf) {
  size_t chars = utf8_chars(s), n = 0, shown = 0;
  size_t keep = chars > TABLE_CELL_MAX ? TABLE_CELL_MAX - 3 : chars;
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    int lead = (ch & 0xC0) != 0x80;
    if (lead && shown == keep)
      break;
    shown += lead;
    buf[n++] = (char)(ch < 0x20 || ch == 0x7f ? ' ' : ch);
  }
  if (chars > keep) {
    memcpy(buf + n, "...", 3);
    n += 3;
    shown += 3;
  }
  buf[n] = '\0';
  return shown;
}

#define CELL_BUF (TABLE_CELL_MAX * 4 + 8)

/* Formats one cell for the table; returns its width in characters. */
static size_t display_cell(const sy_value *f, size_t c, size_t r,
                           char buf[CELL_BUF]) {
  if (sy_frame_is_null(f, c, r))
    return (size_t)snprintf(buf, CELL_BUF, "null");
  switch (sy_frame_col_type(f, c)) {
  case SY_COL_F64:
    return (size_t)snprintf(buf, CELL_BUF, "%.10g", sy_frame_f64(f, c)[r]);
  case SY_COL_I64:
    return (size_t)snprintf(buf, CELL_BUF, "%" PRId64, sy_frame_i64(f, c)[r]);
  default:
    return display_text(sy_frame_str(f, c, r), buf);
  }
}

/* Writes one padded cell; the last column's left-aligned text gets no
 * trailing spaces. */
static int put_cell(out_ctx *o, const char *text, size_t chars, size_t width,
                    int right, int first, int last) {
  int rc = first ? 0 : out_str(o, "  ");
  size_t pad = width > chars ? width - chars : 0;
  if (rc == 0 && right)
    rc = out_pad(o, pad, ' ');
  if (rc == 0)
    rc = out_str(o, text);
  if (rc == 0 && !right && !last)
    rc = out_pad(o, pad, ' ');
  return rc;
}

static int write_table(const sink_stdout *s, out_ctx *o, const sy_value *f) {
  size_t cols = sy_frame_cols(f), rows = sy_frame_rows(f);
  size_t shown = s->max_rows && s->max_rows < rows ? s->max_rows : rows;
  size_t *width = NULL;
  char buf[CELL_BUF];
  int rc = 0;
  if (cols == 0) {
    rc = out_str(o, "(no columns)\n");
    goto done;
  }
  width = calloc(cols, sizeof *width);
  if (!width) {
    rc = SY_ENOMEM;
    goto done;
  }
  for (size_t c = 0; c < cols; c++) {
    width[c] = display_text(sy_frame_col_name(f, c), buf);
    for (size_t r = 0; r < shown; r++) {
      size_t w = display_cell(f, c, r, buf);
      if (w > width[c])
        width[c] = w;
    }
  }
  for (size_t c = 0; c < cols && rc == 0; c++) {
    size_t w = display_text(sy_frame_col_name(f, c), buf);
    rc = put_cell(o, buf, w, width[c], sy_frame_col_type(f, c) != SY_COL_STR,
                  c == 0, c + 1 == cols);
  }
  rc = rc ? rc : out_str(o, "\n");
  for (size_t c = 0; c < cols && rc == 0; c++) {
    rc = c ? out_str(o, "  ") : 0;
    rc = rc ? rc : out_pad(o, width[c], '-');
  }
  rc = rc ? rc : out_str(o, "\n");
  for (size_t r = 0; r < shown && rc == 0; r++) {
    for (size_t c = 0; c < cols && rc == 0; c++) {
      size_t w = display_cell(f, c, r, buf);
      rc = put_cell(o, buf, w, width[c], sy_frame_col_type(f, c) != SY_COL_STR,
                    c == 0, c + 1 == cols);
    }
    rc = rc ? rc : out_str(o, "\n");
  }
  if (rc == 0 && shown < rows) {
    char more[64];
    snprintf(more, sizeof more, "... %zu more row%s\n", rows - shown,
             rows - shown == 1 ? "" : "s");
    rc = out_str(o, more);
  }
done:
  free(width);
  return rc;
}

/* True when an MPI launcher started this process. mpirun hands rank 0 a
 * pseudo-terminal as stdout even when its own stdout is a file (`mpirun
 * ... > out.csv`), so isatty() says nothing about a person reading:
 * there, "auto" means CSV. Open MPI sets OMPI_COMM_WORLD_*, PMIx-based
 * launchers PMIX_RANK, MPICH's Hydra PMI_RANK. */
static int under_launcher(void) {
  static const char *const vars[] = {
      "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"};
  for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
    if (getenv(vars[i]))
      return 1;
  return 0;
}

static int sink_write(void *self, const char *name, const sy_value *value,
                      sy_error *err) {
  const sink_stdout *s = self;
  out_ctx o = {s->out, 0};
  int rc;
  clearerr(s->out);
  errno = 0;
  switch (sy_value_type_of(value)) {
  case SY_VALUE_BYTES: {
    size_t len = 0;
    const void *data = sy_bytes_data(value, &len);
    rc = out_write(&o, data, len);
    break;
  }
  case SY_VALUE_FRAME: {
    int format = s->format;
    if (format == SINK_STDOUT_AUTO)
      format = isatty(fileno(s->out)) && !under_launcher() ? SINK_STDOUT_TABLE
                                                           : SINK_STDOUT_CSV;
    if (format == SINK_STDOUT_TABLE) {
      rc = write_table(s, &o, value);
      if (rc == SY_ENOMEM)
        return sy_error_set(err, rc, "stdout: out of memory");
    } else {
      sy_error tmp;
      rc = sy_csv_write(value, ',', out_write, &o, &tmp);
      if (rc < 0 && rc != SY_EIO)
        return sy_error_set(err, rc, "stdout: %s", tmp.message);
    }
    break;
  }
  default:
    return sy_error_set(err, SY_ETYPE,
                        "stdout: '%s' is neither a frame nor bytes",
                        name ? name : "value");
  }
  if (rc == 0 && fflush(s->out) != 0) {
    o.eno = errno ? errno : EIO;
    rc = SY_EIO;
  }
  if (rc < 0)
    return sy_error_set(
        err, SY_EIO, "stdout: cannot write '%s': %s", name ? name : "value",
        o.eno == EPIPE ? "broken pipe (reader gone)" : strerror(o.eno));
  return 0;
}

int sink_stdout_open(const sink_stdout_config *cfg, FILE *out, void **self,
                     sy_error *err) {
  if (cfg->format < SINK_STDOUT_AUTO || cfg->format > SINK_STDOUT_TABLE)
    return sy_error_set(err, SY_ECONFIG, "format: unknown format %d",
                        cfg->format);
  if (cfg->max_rows < 0)
    return sy_error_set(err, SY_ECONFIG, "max_rows: must be 0 or more");
  sink_stdout *s = calloc(1, sizeof *s);
  if (!s)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  s->format = cfg->format;
  s->max_rows = (size_t)cfg->max_rows;
  s->out = out;
  *self = s;
  return 0;
}

static int sink_create(const void *config, void **self, sy_error *err) {
  return sink_stdout_open(config, stdout, self, err);
}

static void sink_destroy(void *self) {
  free(self);
}

static const sy_sink_ops sink_ops = {
    sizeof(sy_sink_ops),
    sink_write,
};

static const char *const format_choices[] = {"auto", "csv", "table", NULL};

static const sy_option sink_options[] = {
    {"format", SY_OPT_ENUM, 0, "auto", NULL, NULL, format_choices,
     offsetof(sink_stdout_config, format),
     "Output format: table on a terminal and csv otherwise (auto; csv "
     "under mpirun, whose pseudo-terminal is not a person's), or always "
     "csv or table."},
    {"max_rows", SY_OPT_INT, 0, "50", "0", NULL, NULL,
     offsetof(sink_stdout_config, max_rows),
     "Rows a table shows before a '... N more rows' line; 0 shows all."},
    {"passthrough", SY_OPT_LIST, 0, NULL, NULL, NULL, NULL,
     offsetof(sink_stdout_config, passthrough),
     "Source columns (the label too) written beside the results, e.g. "
     "species; _row adds the source row number. The core adds them: the "
     "results must keep one row per source row."},
    SY_OPTION_END,
};

const sy_provider sink_stdout_provider = {
    sizeof(sy_provider),
    SY_KIND_SINK,
    "stdout",
    "1.0.0",
    "Writes results to the standard output as CSV or an aligned table.",
    sink_options,
    sizeof(sink_stdout_config),
    sink_create,
    sink_destroy,
    &sink_ops,
};
