/*
 * state.c - the actor state codec (include/switchyard/state.h).
 *
 * The layout is the one actor-std has written since its first release
 * (magic, version, length, payload, FNV-1a 64), so states saved before
 * the codec was public load unchanged. FNV-1a is kept for that reason: it
 * guards against damage, not against forgery, and states are small.
 *
 * Reading never trusts a length: the header's payload length must match
 * the value's size exactly, every get checks its field against the bytes
 * left before touching them, and counts are checked against the bytes
 * left before the caller allocates for them. The checksum is verified
 * first, but nothing relies on it: a well-sealed lying payload is refused
 * by the same checks (the fuzz target tests/fuzz/fuzz_state.c reseals).
 *
 * Failures are sticky (the first code is kept, later calls do nothing),
 * so that a save or a load may check once, at the end.
 */
#include "switchyard/state.h"
#include "switchyard/endian.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t fnv1a64(const uint8_t *p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

/* ---- writing --------------------------------------------------------- */

static void w_fail(sy_state_writer *w, int code) {
  if (!w->failed)
    w->failed = code;
}

static void w_put(sy_state_writer *w, const void *p, size_t n) {
  if (!w || w->failed || n == 0)
    return;
  /* The payload length is a u32 and a value at most SY_VALUE_MAX_BYTES. */
  if (n > SY_VALUE_MAX_BYTES || w->len + n > SY_VALUE_MAX_BYTES) {
    w_fail(w, SY_ETOOBIG);
    return;
  }
  if (w->len + n > w->cap) {
    size_t cap = w->cap ? w->cap : 256;
    while (cap < w->len + n)
      cap *= 2;
    uint8_t *data = realloc(w->data, cap);
    if (!data) {
      w_fail(w, SY_ENOMEM);
      return;
    }
    w->data = data;
    w->cap = cap;
  }
  memcpy(w->data + w->len, p, n);
  w->len += n;
}

static bool magic_ok(const char *magic) {
  size_t n = 0;
  if (!magic)
    return false;
  for (; n <= SY_STATE_MAGIC_MAX && magic[n]; n++)
    if (magic[n] < 0x21 || magic[n] > 0x7e)
      return false;
  return n >= 1 && n <= SY_STATE_MAGIC_MAX;
}

int sy_state_begin(sy_state_writer *w, const char *magic, uint32_t version) {
  uint8_t head[SY_STATE_HEADER_SIZE] = {0};
  if (!w)
    return SY_EINVAL;
  memset(w, 0, sizeof *w);
  if (!magic_ok(magic) || version == 0) {
    w->failed = SY_EINVAL;
    return SY_EINVAL;
  }
  memcpy(head, magic, strlen(magic));
  sy_le32_put(head + 8, version);
  /* head + 12: the payload length, patched by sy_state_finish. */
  w_put(w, head, sizeof head);
  return w->failed;
}

void sy_state_put_u32(sy_state_writer *w, uint32_t v) {
  uint8_t b[4];
  sy_le32_put(b, v);
  w_put(w, b, sizeof b);
}

void sy_state_put_u64(sy_state_writer *w, uint64_t v) {
  uint8_t b[8];
  sy_le64_put(b, v);
  w_put(w, b, sizeof b);
}

void sy_state_put_i64(sy_state_writer *w, int64_t v) {
  sy_state_put_u64(w, (uint64_t)v);
}

void sy_state_put_f64(sy_state_writer *w, double v) {
  uint64_t bits;
  memcpy(&bits, &v, sizeof bits);
  sy_state_put_u64(w, bits);
}

void sy_state_put_f64s(sy_state_writer *w, const double *v, size_t n) {
  if (!v && n) {
    if (w)
      w_fail(w, SY_EINVAL);
    return;
  }
  for (size_t i = 0; i < n; i++)
    sy_state_put_f64(w, v[i]);
}

void sy_state_put_str(sy_state_writer *w, const char *s) {
  if (!w)
    return;
  if (!s) {
    w_fail(w, SY_EINVAL);
    return;
  }
  size_t n = strlen(s);
  if (n > SY_VALUE_MAX_BYTES) {
    w_fail(w, SY_ETOOBIG);
    return;
  }
  sy_state_put_u32(w, (uint32_t)n);
  w_put(w, s, n);
}

void sy_state_discard(sy_state_writer *w) {
  if (!w)
    return;
  free(w->data);
  memset(w, 0, sizeof *w);
}

int sy_state_finish(sy_state_writer *w, const char *actor, sy_value **out,
                    sy_error *err) {
  int rc;
  if (!actor)
    actor = "state";
  if (!w || !out)
    return sy_error_set(err, SY_EINVAL, "%s: cannot save the state: %s", actor,
                        sy_strerror(SY_EINVAL));
  *out = NULL;
  if (!w->failed && w->len < SY_STATE_HEADER_SIZE)
    w->failed = SY_EINVAL; /* never begun */
  if (!w->failed) {
    sy_le32_put(w->data + 12, (uint32_t)(w->len - SY_STATE_HEADER_SIZE));
    sy_state_put_u64(w, fnv1a64(w->data, w->len));
  }
  rc = w->failed;
  if (!rc) {
    rc = sy_bytes_wrap(w->data, w->len, SY_STATE_MEDIA, free, out);
    if (rc == 0)
      w->data = NULL; /* now owned by the value */
  }
  if (rc)
    sy_error_set(err, rc, "%s: cannot save the state: %s", actor,
                 sy_strerror(rc));
  sy_state_discard(w);
  return rc;
}

/* ---- reading --------------------------------------------------------- */

static const char *value_kind(const sy_value *v) {
  switch (sy_value_type_of(v)) {
  case SY_VALUE_BYTES:
    return "a bytes value";
  case SY_VALUE_FRAME:
    return "a frame";
  default:
    return "nothing";
  }
}

int sy_state_open(sy_state_reader *r, const sy_value *state, const char *actor,
                  const char *magic, uint32_t min_version, uint32_t max_version,
                  sy_error *err) {
  size_t len = 0;
  const uint8_t *p;
  const char *media;
  uint32_t version, payload;
  uint8_t want[SY_STATE_MAGIC_MAX] = {0};

  if (!actor)
    actor = "state";
  if (!r)
    return sy_error_set(err, SY_EINVAL, "%s: no state reader", actor);
  memset(r, 0, sizeof *r);
  r->actor = actor;
  r->failed = SY_ECORRUPT; /* until the state is found good */
  if (!magic_ok(magic) || min_version == 0 || min_version > max_version) {
    r->failed = SY_EINVAL;
    return sy_error_set(err, SY_EINVAL,
                        "%s: bad magic or version range for a state", actor);
  }
  memcpy(want, magic, strlen(magic));
  if (sy_value_type_of(state) != SY_VALUE_BYTES) {
    r->failed = SY_ETYPE;
    return sy_error_set(err, SY_ETYPE, "%s: state is %s, expected bytes", actor,
                        value_kind(state));
  }
  media = sy_bytes_media_type(state);
  if (!media || strcmp(media, SY_STATE_MEDIA) != 0)
    return sy_error_set(err, SY_ECORRUPT,
                        "%s: state has media type '%s', expected '%s'", actor,
                        media ? media : "", SY_STATE_MEDIA);
  p = sy_bytes_data(state, &len);
  if (len < SY_STATE_HEADER_SIZE + SY_STATE_TRAILER_SIZE)
    return sy_error_set(err, SY_ECORRUPT,
                        "%s: state is %zu bytes, too short for a header", actor,
                        len);
  if (memcmp(p, want, sizeof want) != 0)
    return sy_error_set(err, SY_ECORRUPT,
                        "%s: state has a bad magic (not a %s state)", actor,
                        actor);
  version = sy_le32_get(p + 8);
  /* The version before the length and the checksum: a later version may
   * frame its payload differently, and must get this message, not one
   * about damage. */
  if (version < min_version || version > max_version) {
    if (min_version == max_version)
      return sy_error_set(err, SY_ECORRUPT,
                          "%s: state format version %u is not supported "
                          "(this plugin reads %u); train the model again "
                          "with this plugin, or load it with the plugin that "
                          "saved it",
                          actor, (unsigned)version, (unsigned)min_version);
    return sy_error_set(err, SY_ECORRUPT,
                        "%s: state format version %u is not supported (this "
                        "plugin reads %u to %u); train the model again with "
                        "this plugin, or load it with the plugin that saved "
                        "it",
                        actor, (unsigned)version, (unsigned)min_version,
                        (unsigned)max_version);
  }
  payload = sy_le32_get(p + 12);
  if ((uint64_t)payload + SY_STATE_HEADER_SIZE + SY_STATE_TRAILER_SIZE != len)
    return sy_error_set(err, SY_ECORRUPT,
                        "%s: state length %zu does not match its header "
                        "(payload %u bytes)",
                        actor, len, (unsigned)payload);
  if (sy_le64_get(p + len - SY_STATE_TRAILER_SIZE) !=
      fnv1a64(p, len - SY_STATE_TRAILER_SIZE))
    return sy_error_set(err, SY_ECORRUPT, "%s: state checksum mismatch", actor);
  r->data = p;
  r->pos = SY_STATE_HEADER_SIZE;
  r->len = len - SY_STATE_TRAILER_SIZE;
  r->version = version;
  r->failed = 0;
  return 0;
}

/* Whether n more bytes may be read; marks r failed otherwise. */
static bool r_has(sy_state_reader *r, size_t n) {
  if (!r || r->failed)
    return false;
  if (r->len - r->pos < n) {
    r->failed = SY_ECORRUPT;
    return false;
  }
  return true;
}

int sy_state_get_u32(sy_state_reader *r, uint32_t *v) {
  *v = 0;
  if (!r_has(r, 4))
    return SY_ECORRUPT;
  *v = sy_le32_get(r->data + r->pos);
  r->pos += 4;
  return 0;
}

int sy_state_get_u64(sy_state_reader *r, uint64_t *v) {
  *v = 0;
  if (!r_has(r, 8))
    return SY_ECORRUPT;
  *v = sy_le64_get(r->data + r->pos);
  r->pos += 8;
  return 0;
}

int sy_state_get_i64(sy_state_reader *r, int64_t *v) {
  uint64_t u;
  int rc = sy_state_get_u64(r, &u);
  *v = (int64_t)u;
  return rc;
}

int sy_state_get_f64(sy_state_reader *r, double *v) {
  uint64_t bits;
  int rc = sy_state_get_u64(r, &bits);
  memcpy(v, &bits, sizeof *v);
  return rc;
}

int sy_state_get_f64s(sy_state_reader *r, double *v, size_t n) {
  if (n && !v)
    return SY_EINVAL;
  if (!r_has(r, 0) || n > (r->len - r->pos) / 8) {
    if (r && !r->failed)
      r->failed = SY_ECORRUPT;
    if (n)
      memset(v, 0, n * sizeof *v);
    return SY_ECORRUPT;
  }
  for (size_t i = 0; i < n; i++)
    sy_state_get_f64(r, &v[i]);
  return 0;
}

int sy_state_get_count(sy_state_reader *r, size_t each, uint32_t *n) {
  size_t pos = r ? r->pos : 0;
  if (sy_state_get_u32(r, n) < 0)
    return SY_ECORRUPT;
  if (each == 0 || *n > (r->len - r->pos) / each) {
    r->pos = pos; /* report the count's offset */
    r->failed = SY_ECORRUPT;
    *n = 0;
    return SY_ECORRUPT;
  }
  return 0;
}

int sy_state_get_str(sy_state_reader *r, size_t min, size_t max, char **s) {
  uint32_t n;
  size_t pos = r ? r->pos : 0;
  *s = NULL;
  if (max > SY_VALUE_MAX_BYTES)
    max = SY_VALUE_MAX_BYTES;
  if (sy_state_get_u32(r, &n) < 0)
    return SY_ECORRUPT;
  if (n < min || n > max || r->len - r->pos < n ||
      (n && memchr(r->data + r->pos, '\0', n))) {
    r->pos = pos;
    r->failed = SY_ECORRUPT;
    return SY_ECORRUPT;
  }
  *s = malloc((size_t)n + 1);
  if (!*s) {
    r->pos = pos;
    r->failed = SY_ENOMEM;
    return SY_ENOMEM;
  }
  if (n)
    memcpy(*s, r->data + r->pos, n);
  (*s)[n] = '\0';
  r->pos += n;
  return 0;
}

size_t sy_state_left(const sy_state_reader *r) {
  return r && !r->failed ? r->len - r->pos : 0;
}

int sy_state_reject(sy_state_reader *r) {
  if (r && !r->failed)
    r->failed = SY_ECORRUPT;
  return SY_ECORRUPT;
}

int sy_state_close(sy_state_reader *r, sy_error *err) {
  if (!r)
    return sy_error_set(err, SY_EINVAL, "state: no reader");
  const char *actor = r->actor ? r->actor : "state";
  int rc = r->failed;
  if (!r->data)
    return rc ? rc : SY_EINVAL; /* open failed and said why */
  if (rc == SY_ENOMEM)
    sy_error_set(err, rc, "%s: out of memory loading the state", actor);
  else if (rc == 0 && r->pos != r->len)
    rc = sy_error_set(err, SY_ECORRUPT,
                      "%s: state: malformed payload at offset %zu (%zu bytes "
                      "left over after the last field)",
                      actor, r->pos, r->len - r->pos);
  else if (rc)
    rc = sy_error_set(err, SY_ECORRUPT,
                      "%s: state: malformed payload at offset %zu", actor,
                      r->pos);
  return rc;
}
