/*
 * fuzz_serve.c - libFuzzer target for the request decoder of `switchyard
 * serve` (cli/serve_req.c): serve_decode() on hostile bodies, and the
 * answer encoders on whatever it accepts.
 *
 * Built by tests/fuzz/run.sh from the lines below. The first byte
 * picks the body kind (JSON or CSV) and the schema (open, three typed
 * columns with a label, or two f64 columns with a label); the rest is
 * the body. A refused body must say
 * why with a 400, 413 or 422; an accepted one is a frame of at least one
 * row, whose JSON answer jansson reads back as an object of `rows` rows.
 * The JSON decoder is yajl's streaming parser filling column arrays.
 * Differential: every JSON body also goes to the simdjson fast path
 * (cli/serve_simd.cc), which must decline it or give the frame yajl
 * gives, bit for bit; it may never take a body yajl refuses. So must the
 * bound-row decoder (sy_serve_simd_rows): rows of doubles that are the
 * frame's cells, or declined.
 */
// clang-format off
// sources: cli/serve_req.c services/csv.c core/value.c core/error.c core/buf.c
// cxx: cli/serve_simd.cc
// libs: -ljansson -l:libyajl_s.a -lxxhash -lm -lpthread -lsimdjson -lstdc++
// clang-format on
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../cli/serve_req.h"

int sy_serve_simd_decode(const char *body, size_t len, const serve_schema *s,
                         sy_value **out);
int sy_serve_simd_rows(const char *body, size_t len, const serve_schema *s,
                       size_t max_rows, const double **x, size_t *rows);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  int kind = data[0] & 1 ? SERVE_BODY_CSV : SERVE_BODY_JSON;
  serve_schema s = {0};
  s.open = 1;
  if (data[0] & 4) { /* f64 columns alone: the bound-row decoder's */
    s.open = 0;
    if (serve_schema_add(&s, "a", SY_COL_F64) ||
        serve_schema_add(&s, "b", SY_COL_F64) || !(s.label = strdup("y")))
      abort();
  } else if (data[0] & 2) {
    s.open = 0;
    if (serve_schema_add(&s, "a", SY_COL_F64) ||
        serve_schema_add(&s, "b", SY_COL_I64) ||
        serve_schema_add(&s, "c", SY_COL_STR) || !(s.label = strdup("y")))
      abort();
  }
  sy_value *f = NULL;
  serve_fail e;
  serve_set_fast(NULL); /* yajl alone */
  int rc = serve_decode((const char *)data + 1, size - 1, kind, &s, &f, &e);
  if (kind == SERVE_BODY_JSON && size > 1) {
    sy_value *g = NULL;
    int fast = sy_serve_simd_decode((const char *)data + 1, size - 1, &s, &g);
    if (fast == 0 && (rc != 0 || !g || !sy_value_equal(f, g)))
      abort(); /* the fast path took a body yajl refuses, or differs */
    if (fast != 0 && (g || (fast != SERVE_FAST_DECLINED && fast != SY_ENOMEM)))
      abort();
    sy_value_unref(g);
    /* the bound-row decoder: yajl's frame, or declined */
    const double *x = NULL;
    size_t n = 0, max = data[0] & 8 ? 1 : 65536;
    int rows =
        sy_serve_simd_rows((const char *)data + 1, size - 1, &s, max, &x, &n);
    if (rows == 0) {
      if (rc != 0 || sy_frame_rows(f) != n || n > max ||
          sy_frame_cols(f) != s.n)
        abort();
      for (size_t c = 0; c < s.n; c++) {
        const double *col = sy_frame_f64(f, c);
        if (!col || sy_frame_valid(f, c))
          abort();
        for (size_t r = 0; r < n; r++)
          if (memcmp(&col[r], &x[r * s.n + c], sizeof(double)) != 0)
            abort();
      }
    } else if (rows != SERVE_FAST_DECLINED && rows != SY_ENOMEM) {
      abort();
    }
  }
  if (rc == SERVE_REFUSED) {
    if (f || (e.status != 400 && e.status != 413 && e.status != 422) ||
        !e.error[0] || !e.detail[0])
      abort();
  } else if (rc == 0) {
    if (!f || sy_frame_rows(f) == 0)
      abort();
    sy_buf b = SY_BUF_INIT, c = SY_BUF_INIT;
    if (serve_encode_json(f, &b) || serve_encode_csv(f, &c))
      abort();
    json_error_t je;
    json_t *back = json_loadb(b.data, b.len, 0, &je);
    if (!back ||
        json_array_size(json_object_get(back, "rows")) != sy_frame_rows(f))
      abort();
    json_decref(back);
    sy_buf_free(&b);
    sy_buf_free(&c);
  } else if (rc != SY_ENOMEM) {
    abort();
  }
  sy_value_unref(f);
  serve_schema_free(&s);
  return 0;
}
