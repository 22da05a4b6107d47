/*
 * switchyard/csv.h - reading and writing CSV text as frames.
 *
 * The core owns the one CSV dialect of the platform so that the csv feed,
 * the csv and stdout sinks and any actor that shells out (sys.exec) agree
 * on it byte for byte: RFC 4180 with a choice of delimiter.
 *
 * Reading (sy_csv_read):
 *   - fields may be quoted with '"'; inside quotes "" is one quote, and
 *     delimiters, CR and LF are data; records end with LF or CRLF; the last
 *     record's line end is optional; a leading UTF-8 BOM is skipped; a CR
 *     not followed by LF is data.
 *   - the first record is the header unless no_header is set (then the
 *     columns are called c1, c2, ...). Header names must be non-empty,
 *     unique and at most SY_VALUE_MAX_NAME bytes.
 *   - every record must have as many fields as the first one. An empty line
 *     is a record with one empty field when there is one column, and is
 *     skipped otherwise (it cannot be a record then).
 *   - an unquoted empty field is null; a quoted empty field ("") is the
 *     empty string in a string column (and null in a number column).
 *   - a column's type is inferred from its values (the cells other than
 *     null and ""): i64 when every value is a decimal integer
 *     ([+-]?[0-9]+) that fits in 64 bits, else f64 when every value is a
 *     finite decimal number ([+-]?digits[.digits][(e|E)[+-]digits],
 *     either digits part may be empty but not both). When some values are
 *     numbers and some are not, the majority decides: a column whose
 *     values are mostly numbers is a numeric column with bad cells, and
 *     its first value that is not a number is an error (below), so that
 *     one typo never turns a feature into text that actors skip; a column
 *     whose numbers are half of its values or fewer is string. A column
 *     with no value is i64 (all null), or string when it holds "". The
 *     rule does not depend on the order of the rows. Declared types
 *     override inference (declare string to read a mostly numeric column
 *     as text); a declared f64 column also accepts nan, inf and -inf (any
 *     case) and any finite number.
 *   - a NUL byte anywhere is an error: CSV is text, and a string cell
 *     cannot hold one.
 *
 * Errors are SY_ESYNTAX with "NAME:LINE:COLUMN: ..." where LINE and COLUMN
 * are 1-based and COLUMN counts UTF-8 characters of that line:
 *
 *   NAME:L:C: unterminated quoted field          (C: the opening quote)
 *   NAME:L:C: quote in unquoted field            (C: the quote)
 *   NAME:L:C: text after closing quote           (C: that text)
 *   NAME:L:C: NUL byte
 *   NAME:L:1: 4 fields, header has 5             ("first row has" when
 *                                                 no_header is set)
 *   NAME:L:C: empty column name
 *   NAME:L:C: duplicate column name 'x'
 *   NAME:L:C: column name longer than 255 bytes
 *   NAME:L:C: column 'x': 'abc' is not an i64   (or "an f64"; C: the
 *                                                 field's first character)
 *   NAME:L:C: column 'x': 'abc' is not a number, but 9 of the column's
 *             10 values are; fix the cell, or declare the column's type
 *             (...)                              (inferred columns; since
 *                                                 ABI 1.3, before which
 *                                                 the column was string)
 *
 * and SY_ETOOBIG "NAME: more than N rows" beyond SY_VALUE_MAX_ROWS,
 * SY_EINVAL for a bad delimiter or types entry ("NAME: types: ...").
 *
 * Writing (sy_csv_write): the header row, then one line per row, each
 * ended by LF. A field is quoted when it contains the delimiter, a quote,
 * CR or LF, when it is a non-null empty string (so that it reads back as
 * "" rather than null), and when it is the very first field and begins
 * with a UTF-8 BOM. Nulls are empty. i64 is decimal. f64 is written with
 * the first of %.15g, %.16g, %.17g that reads back to the same double,
 * with ".0" appended when that text looks like an integer (so that the
 * column reads back as f64), and nan, inf, -inf for those. A frame with
 * no columns writes nothing.
 *
 * Since ABI 1.0.
 */
#ifndef SWITCHYARD_CSV_H
#define SWITCHYARD_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "value.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Options for sy_csv_read. Zero-initialise, then set size to
 * sizeof(sy_csv_options) so that members added later (at the end) can be
 * recognised. Since ABI 1.0. */
typedef struct sy_csv_options {
  uint32_t size;  /* sizeof(sy_csv_options) */
  char delimiter; /* ',' when 0; never '"', CR or LF */
  int no_header;  /* 0 = the first row is the header */
  /* NULL or a NULL-terminated list of "column:type" entries, type one of
   * f64, i64, string (the type follows the last ':', so column names may
   * contain ':'). A later entry for the same column wins. Naming a column
   * the data lacks is an error. */
  const char *const *types;
  const char *name; /* shown in errors, e.g. the file path; NULL: "csv" */
} sy_csv_options;

/* Parses data[0..len) (need not be NUL-terminated) into a frame. opts may
 * be NULL for the defaults. Returns 0 with one reference to a new,
 * unfrozen frame in *out, or SY_ESYNTAX, SY_EINVAL, SY_ETOOBIG, SY_ENOMEM
 * with err filled (see the top of this file). Empty input (or only a BOM)
 * gives a frame with no rows and no columns. Borrows everything it is
 * given. Any thread. Since ABI 1.0. */
SY_API int sy_csv_read(const char *data, size_t len, const sy_csv_options *opts,
                       sy_value **out, sy_error *err);

/* Reads only the first record of data[0..len): the header, or with
 * no_header the first row (columns c1, c2, ...), and calls fn(ud, name,
 * type) once per column in order, type being the column's declared type
 * or 0 (inference needs the rows). data may be the beginning of a longer
 * text: with complete 0, a first record that does not end within data
 * (no line end after it yet) returns 1, and the caller calls again with
 * more of the text; with complete 1, data is all of it. Makes the checks
 * sy_csv_read makes on the header (names non-empty, unique, not too long;
 * every declared column exists; the syntax of the first record) with the
 * same messages, and nothing about the rows. Empty input has no columns.
 * Returns 0, 1, SY_ESYNTAX, SY_EINVAL, SY_ENOMEM or what fn returned.
 * Borrows everything. Any thread. Since ABI 1.3. */
SY_API int sy_csv_read_header(const char *data, size_t len, int complete,
                              const sy_csv_options *opts, sy_column_fn fn,
                              void *ud, sy_error *err);

/* Receives output of sy_csv_write: len > 0 bytes at buf, borrowed for the
 * call. Returns 0, or a negative SY_E* code that stops the write and is
 * returned by sy_csv_write. Since ABI 1.0. */
typedef int (*sy_write_fn)(void *ud, const void *buf, size_t len);

/* Writes frame as CSV through write(ud, ...), in chunks of up to 64 KiB.
 * delimiter 0 means ','. Returns 0, SY_ETYPE when frame is not a frame,
 * SY_EINVAL for a bad delimiter, SY_ENOMEM, or what write returned; err
 * says which. On failure part of the text may have been written. Borrows
 * frame. Any thread. Since ABI 1.0. */
SY_API int sy_csv_write(const sy_value *frame, char delimiter,
                        sy_write_fn write, void *ud, sy_error *err);

/* Formats a double as sy_csv_write writes an f64 cell (see the top of
 * this file: the shortest of %.15g..%.17g that reads back to the same
 * bits, ".0" after integer-looking text, nan, inf, -inf), always in the
 * C locale, NUL-terminated in buf[0..cap). Returns the length, which
 * never exceeds 31 (cap 32 always suffices), or SY_EINVAL when cap is
 * under 32; bytes of buf[0..32) past the NUL may be overwritten. For the other
 * writers that must print numbers byte for byte as the CSV sinks do
 * (`switchyard serve`). Any thread, no allocation. (ABI 1.4) */
SY_API int sy_csv_format_f64(double v, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif /* SWITCHYARD_CSV_H */
