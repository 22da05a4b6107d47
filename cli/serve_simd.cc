/*
 * serve_simd.cc - the fast path of serve's JSON request decoder: simdjson's
 * DOM parser (it validates the whole text, UTF-8 included) and a walk of
 * the tree into the frame the yajl decoder (cli/serve_req.c) builds.
 *
 * Built as a private module, serve-simdjson.so, that `switchyard serve`
 * dlopen()s at start (cli/serve_fast.c): the executable and
 * libswitchyard.so link neither libstdc++ nor libsimdjson, so no other
 * command maps them.
 *
 * sy_serve_simd_decode() takes only the common request and DECLINES
 * everything else: the caller then runs the yajl decoder, which gives
 * every error answer and every corner, byte for byte as before. Declined:
 * a body simdjson refuses (syntax, UTF-8, numbers past the doubles or
 * integers past 64 bits, nesting past 1024), any backslash in the body
 * (so no string or key has an escape, hence no NUL and no surrogate
 * question), a body over 256 KiB, any shape but {"rows": [{...}, ...]} or
 * {"columns": {"name": [...], ...}}, duplicate keys, unknown, missing or
 * ragged columns, no rows, a cell of the wrong type (booleans, objects,
 * arrays; strings mixed with numbers), an integer past i64, a column name
 * the frame refuses. What it takes becomes the same frame as yajl's:
 * columns in the schema's order then the label (or the request's order
 * without a schema), the same types (integers into f64 columns as
 * (double)i; a column inferred as i64 when all its cells are integers),
 * the same nulls, and doubles bit for bit (both round correctly).
 *
 * sy_serve_simd_rows() is the bound-row path's decoder: for a schema of
 * f64 columns alone it takes the same bodies when every cell is a number
 * and the label is absent, and writes the numbers straight into rows of
 * doubles, with no frame (the frame path, then a gather into rows, gave
 * the same doubles at twice the cost for a one-row request).
 *
 * Thread-safety: any thread; each thread keeps one parser and its scratch
 * arrays (thread_local), reused from request to request.
 */
#include <simdjson.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

extern "C" {
#include "serve_req.h"
}

namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

/* Bodies past this go to yajl: the parser keeps what it grew to. */
constexpr size_t body_max = 256 * 1024;

enum tag : uint8_t { T_NULL, T_INT, T_REAL, T_STR };

struct cell {
  uint8_t t;
  union {
    double d;
    int64_t i;
    const char *s;
  } u;
};

struct col {
  const char *name;
  size_t len;
  int type;     /* sy_col_type, or -1: inferred */
  size_t seen;  /* the last row (+ 1) that named it, for duplicates */
  size_t at;    /* cells[at .. at + rows) in the scratch */
  bool present; /* columns form: named; label: in rows[0] */
};

struct scratch {
  simdjson::dom::parser parser;
  std::vector<col> cols;
  std::vector<cell> cells;
  std::vector<double> f64;
  std::vector<int64_t> i64;
  std::vector<uint8_t> valid;
  std::vector<const char *> sv;
  std::vector<array> arrs;    /* columns form: each column's array */
  std::vector<double> rowbuf; /* decode_rows: the rows, row-major */
};

/* The thread's scratch, through a call the compiler cannot see into: a
 * thread_local named in the walk costs a __tls_get_addr per use in a
 * module loaded with dlopen. */
__attribute__((noinline)) scratch *thread_scratch() {
  static thread_local scratch x;
  return &x;
}

/* A cell from an element; false: not a cell this path takes. */
bool to_cell(const element &e, cell *c) {
  switch (e.type()) {
  case element_type::NULL_VALUE:
    c->t = T_NULL;
    return true;
  case element_type::INT64:
    c->t = T_INT;
    c->u.i = e.get_int64().value_unsafe();
    return true;
  case element_type::DOUBLE:
    c->t = T_REAL;
    c->u.d = e.get_double().value_unsafe();
    return true;
  case element_type::STRING:
    c->t = T_STR;
    c->u.s = e.get_c_str().value_unsafe();
    return true;
  default: /* UINT64 (yajl: too big), BOOL, ARRAY, OBJECT */
    return false;
  }
}

/* Whether column c (or the name c) is named k. */
inline bool named(const col &c, std::string_view k) {
  return c.len == k.size() && std::memcmp(c.name, k.data(), c.len) == 0;
}
inline bool named(std::string_view c, std::string_view k) {
  return c == k;
}

/* The column named k among cols[0..n) (columns, or the rows decoder's
 * names): an index, or -1. Rows name their columns in the same order,
 * mostly: the one after the last first (hint). */
template <class T>
__attribute__((always_inline)) inline int
find(const T *cols, size_t n, std::string_view k, size_t hint) {
  if (hint < n && named(cols[hint], k))
    return (int)hint;
  for (size_t i = 0; i < n; i++)
    if (named(cols[i], k))
      return (int)i;
  return -1;
}
int find(const std::vector<col> &cols, std::string_view k, size_t hint) {
  return find(cols.data(), cols.size(), k, hint);
}

constexpr int declined = SERVE_FAST_DECLINED;

/* The type of an inferred column, as the yajl path's jinfer. */
bool infer(const cell *c, size_t rows, int *type) {
  bool seen_int = false, seen_real = false, seen_str = false;
  for (size_t r = 0; r < rows; r++) {
    if (c[r].t == T_INT)
      seen_int = true;
    else if (c[r].t == T_REAL)
      seen_real = true;
    else if (c[r].t == T_STR)
      seen_str = true;
  }
  if (seen_str && (seen_int || seen_real))
    return false;
  *type = seen_str                 ? SY_COL_STR
          : seen_real || !seen_int ? SY_COL_F64
                                   : SY_COL_I64;
  return true;
}

/* Adds one column to the frame, as the yajl path's jcolumn. */
int add_column(scratch &x, sy_value *frame, const col &c, size_t rows) {
  size_t nl = std::strlen(c.name);
  if (nl == 0 || nl > SY_VALUE_MAX_NAME)
    return declined;
  const cell *cells = x.cells.data() + c.at;
  int type = c.type;
  if (type < 0 && !infer(cells, rows, &type))
    return declined;
  bool nulls = false;
  for (size_t r = 0; r < rows; r++) {
    const cell &v = cells[r];
    x.valid[r] = 1;
    switch (v.t) {
    case T_NULL:
      x.valid[r] = 0;
      nulls = true;
      x.f64[r] = 0;
      x.i64[r] = 0;
      x.sv[r] = nullptr;
      break;
    case T_INT:
      if (type == SY_COL_F64)
        x.f64[r] = (double)v.u.i;
      else if (type == SY_COL_I64)
        x.i64[r] = v.u.i;
      else
        return declined;
      break;
    case T_REAL:
      if (type != SY_COL_F64)
        return declined;
      x.f64[r] = v.u.d;
      break;
    case T_STR:
      if (type != SY_COL_STR)
        return declined;
      x.sv[r] = v.u.s;
      break;
    }
  }
  const uint8_t *valid = nulls ? x.valid.data() : nullptr;
  int rc = type == SY_COL_F64
               ? sy_frame_add_f64(frame, c.name, x.f64.data(), valid)
           : type == SY_COL_I64
               ? sy_frame_add_i64(frame, c.name, x.i64.data(), valid)
               : sy_frame_add_str(frame, c.name, x.sv.data());
  if (rc == SY_ENOMEM)
    return rc;
  return rc ? declined : 0;
}

/* The checks both decoders make first: the body's size, no backslash,
 * simdjson's parse, a top object of one key; its key and value (kept in
 * x's parser until its next parse), or false: declined. */
bool top_pair(scratch &x, const char *body, size_t len, std::string_view *key,
              element *value) {
  if (len > body_max || std::memchr(body, '\\', len))
    return false;
  element root;
  if (x.parser.parse(body, len).get(root))
    return false;
  object top;
  if (root.get_object().get(top) || top.size() != 1)
    return false;
  auto kv = *top.begin();
  *key = kv.key;
  *value = kv.value;
  return true;
}

int decode(scratch &x, const char *body, size_t len, const serve_schema *s,
           sy_value **out) {
  std::string_view key;
  element value;
  if (!top_pair(x, body, len, &key, &value))
    return declined;
  bool by_rows = key == "rows";
  if (!by_rows && key != "columns")
    return declined;

  /* The columns: the schema's then the label, or none yet (open). */
  std::vector<col> &cols = x.cols;
  cols.clear();
  bool open = s->open;
  const char *label = open ? nullptr : s->label;
  if (!open) {
    for (size_t i = 0; i < s->n; i++) {
      size_t l = std::strlen(s->names[i]);
      if (find(cols, std::string_view(s->names[i], l), 0) >= 0)
        return declined;
      cols.push_back({s->names[i], l, (int)s->types[i], 0, 0, false});
    }
    if (label) {
      size_t l = std::strlen(label);
      if (find(cols, std::string_view(label, l), 0) >= 0)
        return declined;
      cols.push_back({label, l, -1, 0, 0, false});
    }
  }
  size_t n_fixed = cols.size(); /* label included */
  size_t li = label ? n_fixed - 1 : SIZE_MAX;
  size_t rows = 0;
  std::vector<cell> &cells = x.cells;

  if (by_rows) {
    array arr;
    if (value.get_array().get(arr))
      return declined;
    rows = arr.size();
    if (rows == 0)
      return declined;
    cells.clear();
    if (!open) {
      cells.resize(n_fixed * rows);
      for (size_t c = 0; c < n_fixed; c++)
        cols[c].at = c * rows;
    }
    size_t r = 0;
    for (element re : arr) {
      object ro;
      if (re.get_object().get(ro))
        return declined;
      size_t hits = 0, hint = 0;
      for (auto f = ro.begin(); f != ro.end(); ++f) {
        std::string_view k = f.key();
        int c = find(cols, k, hint);
        if (c < 0 && open && r == 0) {
          /* rows[0] names the columns; the key's bytes stay in the
           * parser's document, NUL-terminated, until the frame is built */
          cols.push_back({f.key_c_str(), k.size(), -1, 0, 0, true});
          c = (int)cols.size() - 1;
        }
        if (c < 0)
          return declined; /* unknown (422) */
        col &cc = cols[(size_t)c];
        if (cc.seen == r + 1)
          return declined; /* duplicate key (400) */
        cc.seen = r + 1;
        hint = (size_t)c + 1;
        element v = f.value();
        if ((size_t)c == li) {
          if (r == 0)
            cc.present = true;
          if (!cc.present) { /* ignored, unless yajl would look inside */
            if (v.is_array() || v.is_object())
              return declined;
            continue;
          }
        }
        /* straight into its place: a cell built on the stack and copied
         * whole is read back before its two stores land (a stall per
         * cell) */
        cell *dst;
        if (open && r == 0) {
          cells.emplace_back();
          dst = &cells.back();
        } else {
          dst = &cells[cc.at + r];
        }
        if (!to_cell(v, dst))
          return declined;
        hits++;
      }
      if (open && r == 0) {
        /* cells of rows[0] went in column order: make room per column */
        std::vector<cell> first(cells);
        cells.assign(cols.size() * rows, cell{T_NULL, {0}});
        for (size_t c = 0; c < cols.size(); c++) {
          cols[c].at = c * rows;
          cells[c * rows] = first[c];
        }
      }
      size_t want =
          open ? cols.size() : s->n + (label && cols[li].present ? 1 : 0);
      if (hits != want)
        return declined; /* a column missing (422) */
      r++;
    }
  } else {
    object co;
    if (value.get_object().get(co))
      return declined;
    size_t hits = 0;
    std::vector<array> &arrs = x.arrs;
    arrs.assign(n_fixed, array());
    for (auto f = co.begin(); f != co.end(); ++f) {
      std::string_view k = f.key();
      int c = find(cols, k, 0);
      if (c < 0 && open) {
        cols.push_back({f.key_c_str(), k.size(), -1, 0, 0, false});
        arrs.emplace_back();
        c = (int)cols.size() - 1;
      }
      if (c < 0 || cols[(size_t)c].present)
        return declined; /* unknown (422), duplicate (400) */
      cols[(size_t)c].present = true;
      if (f.value().get_array().get(arrs[(size_t)c]))
        return declined;
      size_t n = arrs[(size_t)c].size();
      if (hits++ == 0)
        rows = n;
      else if (n != rows)
        return declined; /* ragged (422) */
    }
    if (rows == 0)
      return declined;
    for (size_t c = 0; c < (open ? cols.size() : s->n); c++)
      if (!cols[c].present)
        return declined; /* missing (422) */
    cells.resize(cols.size() * rows);
    for (size_t c = 0; c < cols.size(); c++) {
      cols[c].at = c * rows;
      if (!cols[c].present)
        continue; /* an absent label */
      size_t r = 0;
      for (element v : arrs[c])
        if (!to_cell(v, &cells[c * rows + r++]))
          return declined;
    }
  }

  if (x.f64.size() < rows) {
    x.f64.resize(rows);
    x.i64.resize(rows);
    x.valid.resize(rows);
    x.sv.resize(rows);
  }
  sy_value *frame = nullptr;
  int rc = sy_frame_new(rows, &frame);
  if (rc)
    return rc == SY_ENOMEM ? rc : declined;
  for (size_t c = 0; rc == 0 && c < cols.size(); c++)
    if ((size_t)c != li || cols[c].present)
      rc = add_column(x, frame, cols[c], rows);
  if (rc) {
    sy_value_unref(frame);
    return rc;
  }
  *out = frame;
  return 0;
}

/* A number cell of an f64 column, as add_column stores it; false: not
 * one (null, string, bool, array, object, or an integer past i64). */
inline bool to_f64(const element &e, double *d) {
  switch (e.type()) {
  case element_type::INT64:
    *d = (double)e.get_int64().value_unsafe();
    return true;
  case element_type::DOUBLE:
    *d = e.get_double().value_unsafe();
    return true;
  default:
    return false;
  }
}

/* The bound-row path's decoder: the same bodies decode() takes for a
 * schema of f64 columns alone, when every cell is a number and the label
 * is absent, straight into rows of doubles (row-major, the schema's
 * order) with no frame: x.rowbuf[0 .. rows * n). The rest, and more than
 * max_rows rows, is declined. */
int decode_rows(scratch &x, const char *body, size_t len, const serve_schema *s,
                size_t max_rows, size_t *rows_out) {
  size_t n = s->n;
  if (s->open || n == 0 || n > 64)
    return declined;
  std::string_view names[64];
  for (size_t i = 0; i < n; i++) {
    if (s->types[i] != SY_COL_F64)
      return declined;
    names[i] = s->names[i];
  }
  const uint64_t all = n == 64 ? ~0ULL : (1ULL << n) - 1;
  std::string_view key;
  element value;
  if (!top_pair(x, body, len, &key, &value))
    return declined;
  size_t rows;
  if (key == "rows") {
    array arr;
    if (value.get_array().get(arr))
      return declined;
    rows = arr.size();
    if (rows == 0 || rows > max_rows)
      return declined;
    if (x.rowbuf.size() < rows * n)
      x.rowbuf.resize(rows * n);
    double *xr = x.rowbuf.data();
    for (element re : arr) {
      object ro;
      if (re.get_object().get(ro))
        return declined;
      uint64_t seen = 0;
      size_t hint = 0;
      for (auto f = ro.begin(); f != ro.end(); ++f) {
        int c = find(names, n, f.key(), hint);
        /* unknown keys, the label (decode() drops it) and duplicates */
        if (c < 0 || (seen >> c & 1))
          return declined;
        seen |= 1ULL << c;
        hint = (size_t)c + 1;
        if (!to_f64(f.value(), &xr[c]))
          return declined;
      }
      if (seen != all)
        return declined; /* a column missing (422) */
      xr += n;
    }
  } else if (key == "columns") {
    object co;
    if (value.get_object().get(co))
      return declined;
    uint64_t seen = 0;
    rows = 0;
    for (auto f = co.begin(); f != co.end(); ++f) {
      int c = find(names, n, f.key(), 0);
      if (c < 0 || (seen >> c & 1))
        return declined; /* unknown, the label, duplicate */
      seen |= 1ULL << c;
      array a;
      if (f.value().get_array().get(a))
        return declined;
      size_t m = a.size();
      if (rows == 0) {
        if (m == 0 || m > max_rows)
          return declined;
        rows = m;
        if (x.rowbuf.size() < rows * n)
          x.rowbuf.resize(rows * n);
      } else if (m != rows) {
        return declined; /* ragged (422) */
      }
      double *xc = x.rowbuf.data() + c;
      for (element v : a) {
        if (!to_f64(v, xc))
          return declined;
        xc += n;
      }
    }
    if (seen != all)
      return declined;
  } else {
    return declined;
  }
  *rows_out = rows;
  return 0;
}

} // namespace

extern "C" __attribute__((visibility("default"))) int
sy_serve_simd_rows(const char *body, size_t len, const serve_schema *s,
                   size_t max_rows, const double **x, size_t *rows) {
  *x = nullptr;
  *rows = 0;
  try {
    scratch &sc = *thread_scratch();
    if (sc.rowbuf.capacity() > 65536) /* the last big request's rows */
      std::vector<double>().swap(sc.rowbuf);
    int rc = decode_rows(sc, body, len, s, max_rows, rows);
    if (rc == 0)
      *x = sc.rowbuf.data();
    else
      *rows = 0;
    return rc;
  } catch (...) { /* std::bad_alloc from the vector */
    return SY_ENOMEM;
  }
}

extern "C" __attribute__((visibility("default"))) int
sy_serve_simd_decode(const char *body, size_t len, const serve_schema *s,
                     sy_value **out) {
  *out = nullptr;
  try {
    scratch &x = *thread_scratch();
    int rc = decode(x, body, len, s, out);
    if (x.cells.capacity() > 65536) { /* a big request does not stay */
      std::vector<cell>().swap(x.cells);
      std::vector<double>().swap(x.f64);
      std::vector<int64_t>().swap(x.i64);
      std::vector<uint8_t>().swap(x.valid);
      std::vector<const char *>().swap(x.sv);
    }
    return rc;
  } catch (...) { /* std::bad_alloc from a vector */
    return SY_ENOMEM;
  }
}
