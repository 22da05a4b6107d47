/*
 * fuzz_serve.c - libFuzzer target for the request decoder of `switchyard
 * serve` (cli/serve_req.c): serve_decode() on hostile bodies, and the
 * answer encoders on whatever it accepts.
 *
 * Built by tests/fuzz/run.sh from the two lines below. The first byte
 * picks the body kind (JSON or CSV) and the schema (open, or three typed
 * columns with a label); the rest is the body. A refused body must say
 * why with a 400, 413 or 422; an accepted one is a frame of at least one
 * row, whose JSON answer jansson reads back as an object of `rows` rows.
 * The JSON decoder is yajl's streaming parser filling column arrays.
 */
// clang-format off
// sources: cli/serve_req.c services/csv.c core/value.c core/error.c core/buf.c
// libs: -ljansson -l:libyajl_s.a -lxxhash -lm -lpthread
// clang-format on
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../cli/serve_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  int kind = data[0] & 1 ? SERVE_BODY_CSV : SERVE_BODY_JSON;
  serve_schema s = {0};
  s.open = 1;
  if (data[0] & 2) {
    s.open = 0;
    if (serve_schema_add(&s, "a", SY_COL_F64) ||
        serve_schema_add(&s, "b", SY_COL_I64) ||
        serve_schema_add(&s, "c", SY_COL_STR) || !(s.label = strdup("y")))
      abort();
  }
  sy_value *f = NULL;
  serve_fail e;
  int rc = serve_decode((const char *)data + 1, size - 1, kind, &s, &f, &e);
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
