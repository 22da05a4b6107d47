/*
 * bundle.c - a set of trained states as one bytes value.
 *
 * Train dumps every stateful actor's state into one bundle; apply loads
 * from it. Layout (little-endian), media type
 * "application/x-switchyard-states":
 *
 *   "SYSB" u32 version(=1) u32 count
 *   count x (str node, str actor, str actor_version, u64 n, n bytes of
 *            sy_value_encode(state))
 *   u64 XXH3-64 of every byte before it
 *
 * where str = u32 length + bytes. Decoding checks every length against
 * what is left and refuses anything else with SY_ECORRUPT.
 */
#include "bundle.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "switchyard/endian.h"
#include "switchyard/lifecycle.h"

#define BUNDLE_MAGIC "SYSB"
#define BUNDLE_VERSION 1
#define BUNDLE_MEDIA "application/x-switchyard-states"

void sy__bundle_free(sy_bundle_entry *e, size_t n) {
  for (size_t i = 0; e && i < n; i++) {
    free(e[i].node);
    free(e[i].actor);
    free(e[i].version);
    sy_value_unref(e[i].state);
  }
  free(e);
}

int sy__bundle_encode(const sy_bundle_entry *e, size_t n, sy_value **out,
                      sy_error *err) {
  void **enc = calloc(n ? n : 1, sizeof *enc);
  size_t *enc_len = calloc(n ? n : 1, sizeof *enc_len);
  int rc = 0;
  uint8_t *buf = NULL;
  if (!enc || !enc_len) {
    rc = sy_error_set(err, SY_ENOMEM, "out of memory");
    goto done;
  }
  size_t total = 12 + 8;
  for (size_t i = 0; i < n; i++) {
    if ((rc = sy_value_encode(e[i].state, &enc[i], &enc_len[i])) != 0) {
      sy_error_set(err, rc, "cannot encode the state of %s", e[i].node);
      goto done;
    }
    total += 12 + strlen(e[i].node) + strlen(e[i].actor) +
             strlen(e[i].version) + 8 + enc_len[i];
  }
  buf = malloc(total);
  if (!buf) {
    rc = sy_error_set(err, SY_ENOMEM, "out of memory");
    goto done;
  }
  uint8_t *p = buf;
  memcpy(p, BUNDLE_MAGIC, 4);
  sy_le32_put(p + 4, BUNDLE_VERSION);
  sy_le32_put(p + 8, (uint32_t)n);
  p += 12;
  for (size_t i = 0; i < n; i++) {
    const char *strs[3] = {e[i].node, e[i].actor, e[i].version};
    for (int s = 0; s < 3; s++) {
      size_t len = strlen(strs[s]);
      sy_le32_put(p, (uint32_t)len);
      memcpy(p + 4, strs[s], len);
      p += 4 + len;
    }
    sy_le64_put(p, enc_len[i]);
    memcpy(p + 8, enc[i], enc_len[i]);
    p += 8 + enc_len[i];
  }
  sy_le64_put(p, XXH3_64bits(buf, (size_t)(p - buf)));
  rc = sy_bytes_new(buf, total, BUNDLE_MEDIA, out);
  if (rc)
    sy_error_set(err, rc, "out of memory");
done:
  for (size_t i = 0; enc && i < n; i++)
    free(enc[i]);
  free(enc);
  free(enc_len);
  free(buf);
  return rc;
}

static char *take_str(const uint8_t **p, const uint8_t *end) {
  if (end - *p < 4)
    return NULL;
  uint32_t len = sy_le32_get(*p);
  if ((size_t)(end - *p - 4) < len || memchr(*p + 4, 0, len))
    return NULL;
  char *s = malloc((size_t)len + 1);
  if (!s)
    return NULL;
  memcpy(s, *p + 4, len);
  s[len] = '\0';
  *p += 4 + len;
  return s;
}

int sy__bundle_decode(const void *data, size_t len, sy_bundle_entry **out,
                      size_t *count, sy_error *err) {
  const uint8_t *b = data;
  *out = NULL;
  *count = 0;
  if (len < 20 || memcmp(b, BUNDLE_MAGIC, 4) != 0)
    return sy_error_set(err, SY_ECORRUPT, "not a switchyard state bundle");
  if (sy_le64_get(b + len - 8) != XXH3_64bits(b, len - 8))
    return sy_error_set(err, SY_ECORRUPT,
                        "state bundle checksum mismatch (damaged file)");
  if (sy_le32_get(b + 4) != BUNDLE_VERSION)
    return sy_error_set(err, SY_ECORRUPT, "state bundle version %u unknown",
                        sy_le32_get(b + 4));
  uint32_t n = sy_le32_get(b + 8);
  const uint8_t *p = b + 12, *end = b + len - 8;
  if (n > (size_t)(end - p) / 20)
    return sy_error_set(err, SY_ECORRUPT, "state bundle count %u too large", n);
  sy_bundle_entry *e = calloc(n ? n : 1, sizeof *e);
  if (!e)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  int rc = 0;
  for (uint32_t i = 0; i < n && rc == 0; i++) {
    e[i].node = take_str(&p, end);
    e[i].actor = e[i].node ? take_str(&p, end) : NULL;
    e[i].version = e[i].actor ? take_str(&p, end) : NULL;
    if (!e[i].version || end - p < 8) {
      rc = sy_error_set(err, SY_ECORRUPT, "state bundle entry %u damaged", i);
      break;
    }
    uint64_t sl = sy_le64_get(p);
    p += 8;
    if (sl > (uint64_t)(end - p)) {
      rc = sy_error_set(err, SY_ECORRUPT, "state bundle entry %u truncated", i);
      break;
    }
    rc = sy_value_decode(p, (size_t)sl, &e[i].state, err);
    if (rc)
      sy_error_prefix(err, "state of %s", e[i].node);
    p += sl;
  }
  if (rc == 0 && p != end)
    rc = sy_error_set(err, SY_ECORRUPT, "state bundle has trailing bytes");
  if (rc) {
    sy__bundle_free(e, n);
    return rc;
  }
  *out = e;
  *count = n;
  return 0;
}

int sy_states_each(const void *data, size_t len, sy_states_fn fn, void *ud,
                   sy_error *err) {
  sy_bundle_entry *e = NULL;
  size_t n = 0;
  int rc = sy__bundle_decode(data, len, &e, &n, err);
  for (size_t i = 0; rc == 0 && i < n; i++)
    rc = fn(ud, e[i].node, e[i].actor, e[i].version, e[i].state);
  sy__bundle_free(e, n);
  return rc;
}
