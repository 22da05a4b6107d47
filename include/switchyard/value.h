/*
 * switchyard/value.h - the values that flow between steps.
 *
 * A value is what a feed produces, an actor takes and returns, a sink
 * writes and a storage caches. There are two types:
 *
 *   bytes  an opaque byte string with a media type ("text/plain",
 *          "application/octet-stream", "application/json; charset=utf-8").
 *   frame  a table of named columns, each of f64, i64 or string, with the
 *          same number of rows; any cell may be null.
 *
 * Ownership: values are reference-counted. Every function that returns a
 * value in *out gives the caller one reference, which the caller drops
 * with sy_value_unref(). sy_value_ref() takes another reference; the count
 * is atomic, so references may be taken and dropped from any thread.
 * Pointers returned by accessors (sy_bytes_data, sy_frame_f64, ...) borrow
 * from the value and stay valid while the caller holds a reference.
 *
 * Immutability: a value is immutable once handed on. A frame is built by
 * its creator, column by column, while it holds the only reference; the
 * first sy_value_ref() freezes it for good, and adding a column to a
 * frozen frame fails with SY_ESTATE. Because frozen values never change,
 * every read-only function below may run from any number of threads at
 * once without locking. Building a frame is single-threaded.
 *
 * Encoding: sy_value_encode() writes one versioned, little-endian,
 * checksummed byte string that is identical on every host; it is what
 * storage, registries and the MPI runner move around. sy_value_decode()
 * checks every length against the bytes that are really there before it
 * allocates anything, so hostile input yields SY_ECORRUPT (or SY_ETOOBIG),
 * never a crash. The wire format is described at the top of core/value.c.
 *
 * Equality and hashing are bitwise on content: two f64 cells are equal
 * when their bits are (NaN equals the same NaN; -0.0 differs from 0.0).
 * Null cells compare equal to each other whatever was passed as their
 * data. Equal values have equal hashes.
 *
 * Since ABI 1.0.
 */
#ifndef SWITCHYARD_VALUE_H
#define SWITCHYARD_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The most bytes a value may occupy: a bytes value's data, a frame's
 * encoded body, and any length claimed by an encoding. Bigger requests and
 * claims fail with SY_ETOOBIG. Since ABI 1.0. */
#define SY_VALUE_MAX_BYTES ((size_t)1 << 30)
/* The most rows a frame may have (one f64 column of that many rows fills
 * SY_VALUE_MAX_BYTES). Since ABI 1.0. */
#define SY_VALUE_MAX_ROWS (SY_VALUE_MAX_BYTES / 8)
/* Longest media type and column name, in bytes. Since ABI 1.0. */
#define SY_VALUE_MAX_NAME 255
/* Size of the content hash written by sy_value_hash(). Since ABI 1.0. */
#define SY_VALUE_HASH_SIZE 16

typedef struct sy_value sy_value;

/* Since ABI 1.0. Numbers are part of the wire format; never renumber. */
typedef enum sy_value_type {
  SY_VALUE_BYTES = 1,
  SY_VALUE_FRAME = 2
} sy_value_type;

/* Since ABI 1.0. Numbers are part of the wire format; never renumber. */
typedef enum sy_col_type {
  SY_COL_F64 = 1,
  SY_COL_I64 = 2,
  SY_COL_STR = 3
} sy_col_type;

/* Receives one column of a table being described (sy_csv_read_header,
 * sy_feed_ops.describe): its name, borrowed for the call, and its type,
 * or 0 when it is not known without reading the rows. Returns 0, or a
 * negative SY_E* code that stops the description and is returned by it.
 * Since ABI 1.3. */
typedef int (*sy_column_fn)(void *ud, const char *name, sy_col_type type);

/* ---- references ------------------------------------------------------ */

/* Takes one more reference to v and returns v; NULL gives NULL. Freezes a
 * frame under construction. Any thread. Since ABI 1.0. */
SY_API sy_value *sy_value_ref(sy_value *v);
/* Drops one reference; the last one frees the value (and calls the free
 * function given to sy_bytes_wrap). NULL is ignored. Any thread.
 * Since ABI 1.0. */
SY_API void sy_value_unref(sy_value *v);
/* The type of v, or 0 when v is NULL. Any thread. Since ABI 1.0. */
SY_API sy_value_type sy_value_type_of(const sy_value *v);

/* ---- bytes ----------------------------------------------------------- */

/* Makes a bytes value holding a copy of data[0..len). data may be NULL
 * when len is 0. media_type NULL means "application/octet-stream";
 * otherwise it must be 1 to SY_VALUE_MAX_NAME printable ASCII characters
 * with a '/'. Returns 0 with one reference in *out, or SY_EINVAL,
 * SY_ETOOBIG (len > SY_VALUE_MAX_BYTES), SY_ENOMEM. Any thread.
 * Since ABI 1.0. */
SY_API int sy_bytes_new(const void *data, size_t len, const char *media_type,
                        sy_value **out);
/* Like sy_bytes_new but without a copy: on success the value owns data
 * and calls free_fn(data) when its last reference goes (free_fn NULL: data
 * is never freed, for static or longer-lived buffers). The caller must not
 * change data afterwards. On failure nothing is taken: the caller still
 * owns data. media_type is copied. Any thread. Since ABI 1.0. */
SY_API int sy_bytes_wrap(void *data, size_t len, const char *media_type,
                         void (*free_fn)(void *), sy_value **out);
/* The bytes (never NULL for a bytes value, even when empty) and, when len
 * is not NULL, their count. NULL (and *len 0) when v is not a bytes value.
 * Borrowed from v. Any thread. Since ABI 1.0. */
SY_API const void *sy_bytes_data(const sy_value *v, size_t *len);
/* The media type, borrowed from v; NULL when v is not a bytes value.
 * Any thread. Since ABI 1.0. */
SY_API const char *sy_bytes_media_type(const sy_value *v);

/* ---- frames ---------------------------------------------------------- */

/* Makes an empty frame of `rows` rows and no columns. Returns 0 with one
 * reference in *out, or SY_EINVAL, SY_ETOOBIG (rows > SY_VALUE_MAX_ROWS),
 * SY_ENOMEM. Any thread. Since ABI 1.0. */
SY_API int sy_frame_new(size_t rows, sy_value **out);

/* Appends a column, copying everything (the caller keeps its arrays).
 * `name` must be 1 to SY_VALUE_MAX_NAME bytes. `data` holds one cell per
 * row (may be NULL only when the frame has 0 rows). `valid` is NULL when
 * every cell is present, else one byte per row, 0 meaning null; the data
 * of null cells is ignored. For strings a NULL entry is a null cell;
 * strings are NUL-terminated and copied as bytes (UTF-8 is expected, not
 * checked).
 * Returns 0, or SY_EINVAL (bad argument, not a frame), SY_EEXIST (a
 * column of that name exists), SY_ESTATE (the frame is frozen: it has been
 * handed on with sy_value_ref), SY_ETOOBIG, SY_ENOMEM. On failure the
 * frame is unchanged. Only the thread building the frame. Since ABI 1.0. */
SY_API int sy_frame_add_f64(sy_value *f, const char *name, const double *data,
                            const uint8_t *valid);
SY_API int sy_frame_add_i64(sy_value *f, const char *name, const int64_t *data,
                            const uint8_t *valid);
SY_API int sy_frame_add_str(sy_value *f, const char *name,
                            const char *const *data);

/* Adds to the frame dst under construction (R rows) a copy of the first R
 * cells of column c of frame src, with their type and nulls, named `name`
 * (NULL: the source column's name); the same rules as sy_frame_add_*.
 * Returns 0, SY_EINVAL (c out of range, src has fewer than R rows),
 * SY_EEXIST, SY_ESTATE or SY_ENOMEM. Thread-safety: as sy_frame_add_*.
 * Since ABI 1.0. */
SY_API int sy_frame_add_column_from(sy_value *dst, const char *name,
                                    const sy_value *src, size_t c);

/* Rows and columns; 0 when f is not a frame. Any thread. Since ABI 1.0. */
SY_API size_t sy_frame_rows(const sy_value *f);
SY_API size_t sy_frame_cols(const sy_value *f);
/* Column c's name (borrowed) or NULL; its type or 0 when out of range.
 * Any thread. Since ABI 1.0. */
SY_API const char *sy_frame_col_name(const sy_value *f, size_t c);
SY_API sy_col_type sy_frame_col_type(const sy_value *f, size_t c);
/* The index of the column called name, or SY_ENOENT (also when f is not
 * a frame). Any thread. Since ABI 1.0. */
SY_API int sy_frame_col_index(const sy_value *f, const char *name);
/* Column c's cells, borrowed from f; NULL when c is out of range or of
 * another type. Never NULL for a matching column, even with 0 rows. Null
 * cells read as 0. Any thread. Since ABI 1.0. */
SY_API const double *sy_frame_f64(const sy_value *f, size_t c);
SY_API const int64_t *sy_frame_i64(const sy_value *f, size_t c);
/* One string cell, borrowed from f; NULL when the cell is null or out of
 * range, or the column is not a string column. Any thread. Since ABI 1.0. */
SY_API const char *sy_frame_str(const sy_value *f, size_t c, size_t row);
/* Column c's validity, one byte per row (1 present, 0 null), borrowed from
 * f; NULL when the column has no nulls (or c is out of range). Any thread.
 * Since ABI 1.0. */
SY_API const uint8_t *sy_frame_valid(const sy_value *f, size_t c);
/* Whether the cell is null; false when c or row is out of range. Any
 * thread. Since ABI 1.0. */
SY_API bool sy_frame_is_null(const sy_value *f, size_t c, size_t row);
/* Writes one cell as text into buf (NUL-terminated): f64 in the shortest
 * "%.*g" form that reads back to the same double ("nan", "inf", "-inf"
 * for those), i64 in decimal, a string as is, a null cell as "". Returns
 * the text's length (without the NUL), SY_ERANGE when it does not fit in
 * cap bytes (buf then holds ""), or SY_EINVAL. Any thread.
 * Since ABI 1.0. */
SY_API int sy_frame_format_cell(const sy_value *f, size_t c, size_t row,
                                char *buf, size_t cap);

/* ---- building a frame cell by cell (since ABI 1.3) -------------------
 *
 * sy_frame_new and sy_frame_add_* want each column whole, in an array the
 * caller made. A builder takes cells as they come: a feed parsing records,
 * an actor computing row by row, or columns stitched from several frames.
 *
 *   sy_frame_builder *b;
 *   sy_frame_builder_new(SY_FRAME_GROW, &b);        (or a known row count)
 *   int id = sy_frame_builder_column(b, "id", SY_COL_I64);
 *   int name = sy_frame_builder_column(b, "name", SY_COL_STR);
 *   for (each record) {
 *     sy_frame_builder_i64(b, id, rec->id);
 *     sy_frame_builder_str(b, name, rec->name);    (NULL: a null cell)
 *   }
 *   rc = sy_frame_builder_finish(b, &frame, err);   (frees b)
 *
 * Cells are appended to one column at a time, in row order; columns may be
 * filled in any order (one after the other, or a row across all of them).
 * With a known row count the cells of every column are reserved at once
 * and appending more than that many is SY_ERANGE; with SY_FRAME_GROW the
 * columns grow as needed, and finish wants them all of one length. Nulls
 * are explicit (sy_frame_builder_null, a NULL string, a 0 in a validity
 * array) and stored canonically, as sy_frame_add_* stores them. finish
 * moves the cells into the frame without copying them.
 *
 * Failures are sticky: each call returns 0 or the code of the first
 * failure (SY_EINVAL, SY_EEXIST, SY_ETYPE for a cell of another type than
 * its column, SY_ERANGE, SY_ETOOBIG, SY_ENOMEM), after which every call
 * does nothing and returns that code, and finish fails with it and its
 * message ("column 'x' is f64, not string"). A loop of appends may
 * therefore leave its checking to finish.
 *
 * Ownership and threads: the builder belongs to its creator and is used
 * by one thread at a time; finish or sy_frame_builder_free releases it.
 * Strings and arrays passed in are copied; nothing is kept. */

/* Row count of a builder whose columns grow as cells come. Since ABI
 * 1.3. */
#define SY_FRAME_GROW SIZE_MAX

typedef struct sy_frame_builder sy_frame_builder;

/* Makes a builder of `rows` rows (up to SY_VALUE_MAX_ROWS), or of as many
 * as the columns get with SY_FRAME_GROW. Returns 0 with the builder in
 * *out, owned by the caller until sy_frame_builder_finish or
 * sy_frame_builder_free, or SY_EINVAL, SY_ETOOBIG, SY_ENOMEM. Any thread.
 * Since ABI 1.3. */
SY_API int sy_frame_builder_new(size_t rows, sy_frame_builder **out);
/* Frees a builder and everything appended to it, for a caller that gives
 * up before finish; NULL is ignored. The owner's thread. Since ABI 1.3. */
SY_API void sy_frame_builder_free(sy_frame_builder *b);
/* Adds an empty column named `name` (copied; 1 to SY_VALUE_MAX_NAME
 * bytes, not the name of an earlier column) of the given type. Returns its
 * index (0, 1, ...: the order of the frame's columns) or a negative code.
 * One thread at a time per builder. Since ABI 1.3. */
SY_API int sy_frame_builder_column(sy_frame_builder *b, const char *name,
                                   sy_col_type type);
/* Append one cell to column col, which must be of that type. A string is
 * NUL-terminated (str) or len bytes without a NUL (strn), and copied; a
 * NULL string is a null cell. null appends a null cell to a column of any
 * type. One thread at a time per builder. Since ABI 1.3. */
SY_API int sy_frame_builder_f64(sy_frame_builder *b, size_t col, double v);
SY_API int sy_frame_builder_i64(sy_frame_builder *b, size_t col, int64_t v);
SY_API int sy_frame_builder_str(sy_frame_builder *b, size_t col, const char *s);
SY_API int sy_frame_builder_strn(sy_frame_builder *b, size_t col, const char *s,
                                 size_t len);
SY_API int sy_frame_builder_null(sy_frame_builder *b, size_t col);
/* Append n cells at once: v[0..n) with valid as sy_frame_add_f64 takes it
 * (NULL: every cell present; else 0 marks a null), or n strings (NULL
 * entries are nulls). v may be NULL when n is 0. Everything is copied.
 * One thread at a time per builder. Since ABI 1.3. */
SY_API int sy_frame_builder_f64s(sy_frame_builder *b, size_t col,
                                 const double *v, const uint8_t *valid,
                                 size_t n);
SY_API int sy_frame_builder_i64s(sy_frame_builder *b, size_t col,
                                 const int64_t *v, const uint8_t *valid,
                                 size_t n);
SY_API int sy_frame_builder_strs(sy_frame_builder *b, size_t col,
                                 const char *const *v, size_t n);
/* Appends every cell of column src_col of frame src, nulls included, to
 * column col, which must be of the same type (SY_ETYPE otherwise). src is
 * only read (borrowed for the call; cells are copied), so other threads
 * may read it meanwhile. One thread at a time per builder. Since ABI 1.3.
 */
SY_API int sy_frame_builder_append_from(sy_frame_builder *b, size_t col,
                                        const sy_value *src, size_t src_col);
/* Makes the frame: 0 with one reference to a new, frozen frame (no column
 * may be added; it is immutable like any value handed on) in *out, the
 * caller's.
 * Otherwise the first failure's code with its message in err, or
 * SY_EINVAL when the columns' lengths differ from each other or from the
 * row count given ("column 'b' has 2 cells, the first column has 3").
 * Frees b either way. A builder without columns gives a frame of its row
 * count (0 with SY_FRAME_GROW) and no columns. The owner's thread. Since
 * ABI 1.3. */
SY_API int sy_frame_builder_finish(sy_frame_builder *b, sy_value **out,
                                   sy_error *err);

/* ---- reusing a frame's buffers (since ABI 1.1) ------------------------ */

/* A serving loop that computes the same shape of result again and again
 * may overwrite the cells of a frame it made earlier instead of building
 * a new one, provided nobody else can see that frame: its holder has the
 * only reference. The rule is the one of Rust's Rc::get_mut: a reference
 * count of 1 held by the caller means no other reader exists (pointers
 * borrowed from a value are only valid while their borrower holds a
 * reference, see above), so rewriting cells cannot be observed. Column
 * names, types, the row count and the column set never change this way;
 * only cells and their nulls do. */

/* Whether the caller's reference is the only one to v (false for NULL).
 * Meaningful only to a holder of a reference: the answer cannot turn from
 * false to true behind its back while it keeps its own. Since ABI 1.1. */
SY_API bool sy_value_exclusive(const sy_value *v);
/* Writable cells of f64 (i64) column c of f, or NULL when f is not a frame
 * the caller holds exclusively, c is out of range or of another type. The
 * caller writes every cell, then calls sy_frame_set_valid for the column
 * (unless it knows the column had no nulls and has none now). Since ABI
 * 1.1. */
SY_API double *sy_frame_f64_mut(sy_value *f, size_t c);
SY_API int64_t *sy_frame_i64_mut(sy_value *f, size_t c);
/* Sets the nulls of numeric column c of an exclusively held frame f:
 * valid NULL means every cell is present, else one byte per row, 0 meaning
 * null (as sy_frame_add_f64 takes it); the cells under nulls are zeroed so
 * that the frame stays canonical (equality and hashing see no stale data).
 * Returns 0, SY_EINVAL (not a numeric column, c out of range), SY_ESTATE
 * (f is shared) or SY_ENOMEM. Since ABI 1.1. */
SY_API int sy_frame_set_valid(sy_value *f, size_t c, const uint8_t *valid);

/* ---- encoding, hashing, equality ------------------------------------- */

/* Encodes v into a malloc()ed buffer that the caller frees with free().
 * Returns 0, or SY_EINVAL, SY_ETOOBIG (the body would exceed
 * SY_VALUE_MAX_BYTES), SY_ENOMEM. Any thread. Since ABI 1.0. */
SY_API int sy_value_encode(const sy_value *v, void **buf, size_t *len);
/* Decodes buf[0..len) as written by sy_value_encode. Returns 0 with one
 * reference in *out (an unfrozen value), or SY_ECORRUPT with err saying
 * what is wrong and at which byte offset ("value: offset 24: ..."),
 * SY_ETOOBIG when a length claims more than the limits allow, SY_ENOTSUP
 * for a newer format version, SY_EINVAL, SY_ENOMEM. err may be NULL.
 * Any thread. Since ABI 1.0. */
SY_API int sy_value_decode(const void *buf, size_t len, sy_value **out,
                           sy_error *err);
/* Writes a 128-bit content hash (XXH3-128 of the encoding without its
 * checksum, in canonical big-endian byte order) into out. Equal values
 * give equal hashes; the hash changes with the format version. Returns 0,
 * SY_EINVAL, SY_ETOOBIG or SY_ENOMEM. Any thread. Since ABI 1.0. */
SY_API int sy_value_hash(const sy_value *v, uint8_t out[SY_VALUE_HASH_SIZE]);
/* Whether a and b have the same type and content (see the top of this
 * file); two NULLs are equal. Any thread. Since ABI 1.0. */
SY_API bool sy_value_equal(const sy_value *a, const sy_value *b);

#ifdef __cplusplus
}
#endif
#endif /* SWITCHYARD_VALUE_H */
