/*
 * frame.c - the stateless frame actors: std.select, std.drop, std.head and
 * std.concat.
 *
 * Each builds a new frame from borrowed inputs and never keeps anything
 * between calls; an instance only holds its copied parameters, so apply
 * may run from any number of threads at once. Column data is copied by
 * the values API (frames are immutable once handed on, so sharing buffers
 * between frames is not offered). select, drop and head also have
 * apply_into (ABI 1.1): the serving path hands back their earlier output,
 * held exclusively, and the cells are copied into it instead of into a
 * new frame with new names and buffers.
 */
#include "std.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- std.select / std.drop ---------------------------------------------- */

typedef struct columns_actor {
  const char *name; /* "std.select" or "std.drop", for messages */
  char **columns;   /* NULL-terminated copy of the parameter */
  size_t n;
} columns_actor;

static int columns_create(const char *name, const void *config, void **self,
                          sy_error *err) {
  const std_columns_config *cfg = config;
  columns_actor *a = NULL;
  bool ok;
  int rc = 0;

  if (!cfg || std_strv_len(cfg->columns) == 0) {
    rc = sy_error_set(err, SY_ECONFIG,
                      "%s: 'columns' must name at least one column", name);
    goto fail;
  }
  for (size_t i = 0; cfg->columns[i]; i++)
    for (size_t j = 0; j < i; j++)
      if (strcmp(cfg->columns[i], cfg->columns[j]) == 0) {
        rc = sy_error_set(err, SY_ECONFIG,
                          "%s: column '%s' is listed twice in 'columns'", name,
                          cfg->columns[i]);
        goto fail;
      }
  a = calloc(1, sizeof *a);
  if (!a)
    goto nomem;
  a->name = name;
  a->columns = std_strv_dup(cfg->columns, &ok);
  if (!ok)
    goto nomem;
  a->n = std_strv_len((const char *const *)a->columns);
  *self = a;
  return 0;
nomem:
  rc = sy_error_set(err, SY_ENOMEM, "%s: out of memory", name);
fail:
  if (a)
    std_strv_free(a->columns);
  free(a);
  return rc;
}

static int select_create(const void *config, void **self, sy_error *err) {
  return columns_create("std.select", config, self, err);
}

static int drop_create(const void *config, void **self, sy_error *err) {
  return columns_create("std.drop", config, self, err);
}

static void columns_destroy(void *self) {
  columns_actor *a = self;
  if (!a)
    return;
  std_strv_free(a->columns);
  free(a);
}

/* Whether `name` is one of the actor's listed columns. */
static bool listed(const columns_actor *a, const char *name) {
  for (size_t i = 0; i < a->n; i++)
    if (strcmp(name, a->columns[i]) == 0)
      return true;
  return false;
}

/* Fails naming the first listed column the frame lacks, with the list of
 * the ones it has. */
static int check_columns_exist(const columns_actor *a, const sy_value *f,
                               sy_error *err) {
  char avail[512];
  for (size_t i = 0; i < a->n; i++)
    if (sy_frame_col_index(f, a->columns[i]) < 0) {
      std_column_list(f, avail, sizeof avail);
      return sy_error_set(err, SY_EINVAL,
                          "%s: unknown column '%s' (available: %s)", a->name,
                          a->columns[i], avail);
    }
  return 0;
}

static int select_apply(void *self, const sy_value *const *in, size_t n_in,
                        sy_value **out, sy_error *err) {
  const columns_actor *a = self;
  sy_value *f = NULL;
  int rc;

  if ((rc = std_want_frame(a->name, in, n_in, 0, err)) < 0 ||
      (rc = check_columns_exist(a, in[0], err)) < 0)
    goto fail;
  if ((rc = sy_frame_new(sy_frame_rows(in[0]), &f)) < 0)
    goto fail_code;
  for (size_t i = 0; i < a->n; i++) {
    size_t c = (size_t)sy_frame_col_index(in[0], a->columns[i]);
    if ((rc = sy_frame_add_column_from(f, a->columns[i], in[0], c)) < 0)
      goto fail_code;
  }
  *out = f;
  return 0;
fail_code:
  sy_error_set(err, rc, "%s: cannot build the output frame: %s", a->name,
               sy_strerror(rc));
fail:
  sy_value_unref(f);
  return rc;
}

static int drop_apply(void *self, const sy_value *const *in, size_t n_in,
                      sy_value **out, sy_error *err) {
  const columns_actor *a = self;
  sy_value *f = NULL;
  int rc;

  if ((rc = std_want_frame(a->name, in, n_in, 0, err)) < 0 ||
      (rc = check_columns_exist(a, in[0], err)) < 0)
    goto fail;
  if ((rc = sy_frame_new(sy_frame_rows(in[0]), &f)) < 0)
    goto fail_code;
  for (size_t c = 0; c < sy_frame_cols(in[0]); c++) {
    const char *name = sy_frame_col_name(in[0], c);
    if (!listed(a, name) &&
        (rc = sy_frame_add_column_from(f, name, in[0], c)) < 0)
      goto fail_code;
  }
  *out = f;
  return 0;
fail_code:
  sy_error_set(err, rc, "%s: cannot build the output frame: %s", a->name,
               sy_strerror(rc));
fail:
  sy_value_unref(f);
  return rc;
}

/* ---- std.head ----------------------------------------------------------- */

typedef struct head_actor {
  size_t n;
} head_actor;

static int head_create(const void *config, void **self, sy_error *err) {
  const std_head_config *cfg = config;
  head_actor *a;
  if (!cfg || cfg->n < 0)
    return sy_error_set(err, SY_ECONFIG, "std.head: 'n' must be at least 0");
  a = malloc(sizeof *a);
  if (!a)
    return sy_error_set(err, SY_ENOMEM, "std.head: out of memory");
  a->n = (uint64_t)cfg->n > SIZE_MAX ? SIZE_MAX : (size_t)cfg->n;
  *self = a;
  return 0;
}

static void head_destroy(void *self) {
  free(self);
}

static int head_apply(void *self, const sy_value *const *in, size_t n_in,
                      sy_value **out, sy_error *err) {
  const head_actor *a = self;
  sy_value *f = NULL;
  size_t rows;
  int rc;

  if ((rc = std_want_frame("std.head", in, n_in, 0, err)) < 0)
    goto fail;
  rows = sy_frame_rows(in[0]);
  if (rows > a->n)
    rows = a->n;
  if ((rc = sy_frame_new(rows, &f)) < 0)
    goto fail_code;
  for (size_t c = 0; c < sy_frame_cols(in[0]); c++)
    if ((rc = sy_frame_add_column_from(f, NULL, in[0], c)) < 0)
      goto fail_code;
  *out = f;
  return 0;
fail_code:
  sy_error_set(err, rc, "std.head: cannot build the output frame: %s",
               sy_strerror(rc));
fail:
  sy_value_unref(f);
  return rc;
}

/* ---- apply_into: select, drop and head ---------------------------------- */

/* Each finds, for every output column, the input column it copies, and
 * lets std_refill copy the cells into the earlier output when it fits;
 * anything unusual (a missing column, a string column, a new shape) takes
 * the plain apply, which also gives its error messages. select's output
 * names are its parameter, the same for every call of an instance, so
 * only drop and head (whose names come from the input) compare names. */

static int select_apply_into(void *self, const sy_value *const *in, size_t n_in,
                             sy_value **out, sy_error *err) {
  const columns_actor *a = self;
  size_t idx[STD_INTO_MAX_COLS];
  if (n_in == 1 && sy_value_type_of(in[0]) == SY_VALUE_FRAME &&
      a->n <= STD_INTO_MAX_COLS &&
      std_into_fits(out[0], sy_frame_rows(in[0]), a->n)) {
    size_t i = 0;
    for (; i < a->n; i++) {
      int c = std_col_find(in[0], a->columns[i], i);
      if (c < 0)
        break;
      idx[i] = (size_t)c;
    }
    int rc = i == a->n ? std_refill(out[0], in[0], idx, false) : 1;
    if (rc <= 0)
      return rc < 0 ? sy_error_set(err, rc, "%s: %s", a->name, sy_strerror(rc))
                    : 0;
  }
  return std_into_fallback(select_apply, self, in, n_in, out, 1, err);
}

static int drop_apply_into(void *self, const sy_value *const *in, size_t n_in,
                           sy_value **out, sy_error *err) {
  const columns_actor *a = self;
  size_t idx[STD_INTO_MAX_COLS];
  if (n_in == 1 && sy_value_type_of(in[0]) == SY_VALUE_FRAME &&
      sy_frame_cols(in[0]) <= STD_INTO_MAX_COLS) {
    size_t cols = sy_frame_cols(in[0]), kept = 0, dropped = 0;
    for (size_t c = 0; c < cols; c++) {
      if (listed(a, sy_frame_col_name(in[0], c)))
        dropped++;
      else
        idx[kept++] = c;
    }
    /* Every listed column must be there (names in a frame are unique). */
    int rc = 1;
    if (dropped == a->n && std_into_fits(out[0], sy_frame_rows(in[0]), kept))
      rc = std_refill(out[0], in[0], idx, true);
    if (rc <= 0)
      return rc < 0 ? sy_error_set(err, rc, "%s: %s", a->name, sy_strerror(rc))
                    : 0;
  }
  return std_into_fallback(drop_apply, self, in, n_in, out, 1, err);
}

static int head_apply_into(void *self, const sy_value *const *in, size_t n_in,
                           sy_value **out, sy_error *err) {
  const head_actor *a = self;
  size_t idx[STD_INTO_MAX_COLS];
  if (n_in == 1 && sy_value_type_of(in[0]) == SY_VALUE_FRAME &&
      sy_frame_cols(in[0]) <= STD_INTO_MAX_COLS) {
    size_t rows = sy_frame_rows(in[0]), cols = sy_frame_cols(in[0]);
    if (rows > a->n)
      rows = a->n;
    for (size_t c = 0; c < cols; c++)
      idx[c] = c;
    int rc = 1;
    if (std_into_fits(out[0], rows, cols))
      rc = std_refill(out[0], in[0], idx, true);
    if (rc <= 0)
      return rc < 0 ? sy_error_set(err, rc, "std.head: %s", sy_strerror(rc))
                    : 0;
  }
  return std_into_fallback(head_apply, self, in, n_in, out, 1, err);
}

/* ---- prepare_row: select, drop and head are pure selections ------------ */

static int select_prepare_row(const void *self, sy_row_kernel *k,
                              sy_error *err) {
  const columns_actor *a = self;
  int rc = std_row_probe(a->name, select_apply, self, k, err);
  if (rc)
    return rc;
  for (size_t i = 0; i < a->n; i++) {
    /* The probe found every column, so this cannot miss. */
    k->map[i] = (uint32_t)std_row_find(k, a->columns[i]);
    k->out_names[i] = a->columns[i];
  }
  k->n_out = (uint32_t)a->n;
  k->kind = SY_ROW_MAP;
  return 0;
}

static int drop_prepare_row(const void *self, sy_row_kernel *k, sy_error *err) {
  const columns_actor *a = self;
  int rc = std_row_probe(a->name, drop_apply, self, k, err);
  if (rc)
    return rc;
  k->n_out = 0;
  for (uint32_t c = 0; c < k->n_in; c++) {
    if (!listed(a, k->in_names[c])) {
      k->map[k->n_out] = c;
      k->out_names[k->n_out++] = k->in_names[c];
    }
  }
  k->kind = SY_ROW_MAP;
  return 0;
}

static int head_prepare_row(const void *self, sy_row_kernel *k, sy_error *err) {
  const head_actor *a = self;
  if (a->n == 0)
    return sy_error_set(err, SY_ENOTSUP, "std.head: n = 0 leaves no row");
  for (uint32_t c = 0; c < k->n_in; c++) {
    k->map[c] = c;
    k->out_names[c] = k->in_names[c];
  }
  k->n_out = k->n_in;
  k->kind = SY_ROW_MAP;
  return 0;
}

/* ---- std.concat --------------------------------------------------------- */

typedef struct concat_actor {
  int axis;
} concat_actor;

static int concat_create(const void *config, void **self, sy_error *err) {
  const std_concat_config *cfg = config;
  concat_actor *a;
  if (!cfg || (cfg->axis != STD_AXIS_COLUMNS && cfg->axis != STD_AXIS_ROWS))
    return sy_error_set(err, SY_ECONFIG,
                        "std.concat: 'axis' must be columns or rows");
  a = malloc(sizeof *a);
  if (!a)
    return sy_error_set(err, SY_ENOMEM, "std.concat: out of memory");
  a->axis = cfg->axis;
  *self = a;
  return 0;
}

static void concat_destroy(void *self) {
  free(self);
}

static const char *col_type_name(sy_col_type t) {
  switch (t) {
  case SY_COL_F64:
    return "f64";
  case SY_COL_I64:
    return "i64";
  case SY_COL_STR:
    return "str";
  default:
    return "?";
  }
}

static int concat_columns(const sy_value *const *in, size_t n_in,
                          sy_value **out, sy_error *err) {
  size_t rows = sy_frame_rows(in[0]);
  sy_value *f = NULL;
  int rc;

  for (size_t k = 1; k < n_in; k++)
    if (sy_frame_rows(in[k]) != rows) {
      rc = sy_error_set(err, SY_EINVAL,
                        "std.concat: input %zu has %zu rows, input 1 has %zu "
                        "(axis = columns needs equal row counts)",
                        k + 1, sy_frame_rows(in[k]), rows);
      goto fail;
    }
  if ((rc = sy_frame_new(rows, &f)) < 0)
    goto fail_code;
  for (size_t k = 0; k < n_in; k++)
    for (size_t c = 0; c < sy_frame_cols(in[k]); c++) {
      const char *name = sy_frame_col_name(in[k], c);
      if (sy_frame_col_index(f, name) >= 0) {
        rc = sy_error_set(err, SY_EINVAL,
                          "std.concat: duplicate column '%s' (input %zu)", name,
                          k + 1);
        goto fail;
      }
      if ((rc = sy_frame_add_column_from(f, name, in[k], c)) < 0)
        goto fail_code;
    }
  *out = f;
  return 0;
fail_code:
  sy_error_set(err, rc, "std.concat: cannot build the output frame: %s",
               sy_strerror(rc));
fail:
  sy_value_unref(f);
  return rc;
}

static int concat_rows(const sy_value *const *in, size_t n_in, sy_value **out,
                       sy_error *err) {
  size_t cols = sy_frame_cols(in[0]), total = 0;
  sy_frame_builder *fb = NULL;
  sy_value *f = NULL;
  int rc;

  for (size_t k = 0; k < n_in; k++) {
    if (sy_frame_cols(in[k]) != cols) {
      rc = sy_error_set(err, SY_EINVAL,
                        "std.concat: input %zu has %zu columns, input 1 has "
                        "%zu (axis = rows needs the same columns)",
                        k + 1, sy_frame_cols(in[k]), cols);
      goto fail;
    }
    for (size_t c = 0; c < cols; c++) {
      const char *a = sy_frame_col_name(in[0], c);
      const char *b = sy_frame_col_name(in[k], c);
      sy_col_type ta = sy_frame_col_type(in[0], c);
      sy_col_type tb = sy_frame_col_type(in[k], c);
      if (strcmp(a, b) != 0) {
        rc = sy_error_set(err, SY_EINVAL,
                          "std.concat: input %zu column %zu is '%s', input 1 "
                          "has '%s' there (axis = rows needs the same "
                          "columns in the same order)",
                          k + 1, c + 1, b, a);
        goto fail;
      }
      if (ta != tb) {
        rc = sy_error_set(err, SY_ETYPE,
                          "std.concat: column '%s' is %s in input %zu but %s "
                          "in input 1",
                          a, col_type_name(tb), k + 1, col_type_name(ta));
        goto fail;
      }
    }
    if (sy_frame_rows(in[k]) > SY_VALUE_MAX_ROWS - total) {
      rc =
          sy_error_set(err, SY_ETOOBIG, "std.concat: more than %zu rows in all",
                       (size_t)SY_VALUE_MAX_ROWS);
      goto fail;
    }
    total += sy_frame_rows(in[k]);
  }
  /* Column by column, the cells of every input one after the other. */
  if ((rc = sy_frame_builder_new(total, &fb)) < 0)
    goto fail_code;
  for (size_t c = 0; c < cols; c++) {
    sy_frame_builder_column(fb, sy_frame_col_name(in[0], c),
                            sy_frame_col_type(in[0], c));
    for (size_t k = 0; k < n_in; k++)
      sy_frame_builder_append_from(fb, c, in[k], c);
  }
  if ((rc = sy_frame_builder_finish(fb, &f, err)) < 0) {
    sy_error_prefix(err, "std.concat: cannot build the output frame");
    goto fail;
  }
  *out = f;
  return 0;
fail_code:
  sy_error_set(err, rc, "std.concat: cannot build the output frame: %s",
               sy_strerror(rc));
fail:
  sy_value_unref(f);
  return rc;
}

static int concat_apply(void *self, const sy_value *const *in, size_t n_in,
                        sy_value **out, sy_error *err) {
  const concat_actor *a = self;
  int rc;
  if (n_in == 0)
    return sy_error_set(err, SY_EINVAL, "std.concat: needs at least 1 input");
  for (size_t k = 0; k < n_in; k++)
    if ((rc = std_want_frame("std.concat", in, n_in, k, err)) < 0)
      return rc;
  if (a->axis == STD_AXIS_ROWS)
    return concat_rows(in, n_in, out, err);
  return concat_columns(in, n_in, out, err);
}

/* ---- descriptors -------------------------------------------------------- */

static const sy_option select_options[] = {
    {"columns", SY_OPT_LIST, SY_OPT_REQUIRED, NULL, NULL, NULL, NULL,
     offsetof(std_columns_config, columns),
     "Columns to keep, in the order they appear in the output."},
    SY_OPTION_END};

static const sy_option drop_options[] = {
    {"columns", SY_OPT_LIST, SY_OPT_REQUIRED, NULL, NULL, NULL, NULL,
     offsetof(std_columns_config, columns),
     "Columns to remove; every one must exist in the input."},
    SY_OPTION_END};

static const sy_option head_options[] = {
    {"n", SY_OPT_INT, 0, "10", "0", NULL, NULL, offsetof(std_head_config, n),
     "Number of leading rows to keep (fewer when the input is shorter)."},
    SY_OPTION_END};

static const char *const concat_axes[] = {"columns", "rows", NULL};
static const sy_option concat_options[] = {
    {"axis", SY_OPT_ENUM, 0, "columns", NULL, NULL, concat_axes,
     offsetof(std_concat_config, axis),
     "Place the inputs side by side (columns) or one under the other "
     "(rows)."},
    SY_OPTION_END};

static const sy_actor_ops select_ops = {.size = sizeof(sy_actor_ops),
                                        .min_inputs = 1,
                                        .max_inputs = 1,
                                        .n_outputs = 1,
                                        .flags = SY_ACTOR_ROW_WISE,
                                        .apply = select_apply,
                                        .apply_into = select_apply_into,
                                        .prepare_row = select_prepare_row};
static const sy_actor_ops drop_ops = {.size = sizeof(sy_actor_ops),
                                      .min_inputs = 1,
                                      .max_inputs = 1,
                                      .n_outputs = 1,
                                      .flags = SY_ACTOR_ROW_WISE,
                                      .apply = drop_apply,
                                      .apply_into = drop_apply_into,
                                      .prepare_row = drop_prepare_row};
static const sy_actor_ops head_ops = {.size = sizeof(sy_actor_ops),
                                      .flags = SY_ACTOR_ROW_SUBSET,
                                      .min_inputs = 1,
                                      .max_inputs = 1,
                                      .n_outputs = 1,
                                      .apply = head_apply,
                                      .apply_into = head_apply_into,
                                      .prepare_row = head_prepare_row};
/* concat has no apply_into: its inputs vary in number and shape, and it
 * is rarely on a one-row serving path. */
static const sy_actor_ops concat_ops = {.size = sizeof(sy_actor_ops),
                                        .min_inputs = 1,
                                        .max_inputs = SY_ARITY_MANY,
                                        .n_outputs = 1,
                                        .apply = concat_apply};

const sy_provider std_select_provider = {
    sizeof(sy_provider),
    SY_KIND_ACTOR,
    "std.select",
    STD_VERSION,
    "Keeps the listed columns of a frame, in the listed order.",
    select_options,
    sizeof(std_columns_config),
    select_create,
    columns_destroy,
    &select_ops};

const sy_provider std_drop_provider = {
    sizeof(sy_provider),
    SY_KIND_ACTOR,
    "std.drop",
    STD_VERSION,
    "Removes the listed columns from a frame.",
    drop_options,
    sizeof(std_columns_config),
    drop_create,
    columns_destroy,
    &drop_ops};

const sy_provider std_head_provider = {sizeof(sy_provider),
                                       SY_KIND_ACTOR,
                                       "std.head",
                                       STD_VERSION,
                                       "Keeps the first n rows of a frame.",
                                       head_options,
                                       sizeof(std_head_config),
                                       head_create,
                                       head_destroy,
                                       &head_ops};

const sy_provider std_concat_provider = {
    sizeof(sy_provider),
    SY_KIND_ACTOR,
    "std.concat",
    STD_VERSION,
    "Joins frames side by side or appends their rows.",
    concat_options,
    sizeof(std_concat_config),
    concat_create,
    concat_destroy,
    &concat_ops};
