/*
 * key.h - the bytes a cache key hashes, gathered and hashed at once.
 *
 * Shared by the program's instruction keys (program.c) and the flow hash
 * (compile.c): one encoding, so a string is always its length then its
 * bytes, a u32 little-endian. Core only; static inline, nothing exported.
 */
#ifndef SY_CORE_KEY_H
#define SY_CORE_KEY_H

#include <stdint.h>
#include <string.h>
#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack */
#include <xxhash.h>

#include "switchyard/endian.h"

static inline void digest(XXH3_state_t *st, uint8_t out[16]) {
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, XXH3_128bits_digest(st));
  memcpy(out, c.digest, 16);
}

/* The bytes a key hashes, gathered on the stack and hashed at once:
 * XXH3 gives the same hash for one call as for the same bytes fed in
 * pieces, and one call is several times cheaper than the ~15 updates of
 * a step. An instruction too large for the buffer streams instead. */
typedef struct keybuf {
  XXH3_state_t *st; /* NULL until the buffer overflows */
  XXH3_state_t *spare;
  size_t len;
  uint8_t buf[1024];
} keybuf;

/* Streaming (k->st set), the buffer only gathers small pieces. */
static inline void k_flush(keybuf *k) {
  XXH3_128bits_update(k->st, k->buf, k->len);
  k->len = 0;
}

static inline void k_put(keybuf *k, const void *p, size_t n) {
  if (n <= sizeof k->buf - k->len) {
    memcpy(k->buf + k->len, p, n);
    k->len += n;
    return;
  }
  if (!k->st) {
    k->st = k->spare;
    XXH3_128bits_reset(k->st);
  }
  k_flush(k);
  XXH3_128bits_update(k->st, p, n);
}

/* A string with its length, so ("ab","c") and ("a","bc") differ (NULL:
 * length ~0, no bytes); a u32 little-endian. */
static inline void k_str(keybuf *k, const char *s) {
  size_t n = s ? strlen(s) : 0;
  uint64_t v = s ? (uint64_t)n : UINT64_MAX;
  uint8_t len[8];
  sy_le64_put(len, v);
  k_put(k, len, sizeof len);
  if (s)
    k_put(k, s, n);
}

static inline void k_u32(keybuf *k, uint32_t v) {
  uint8_t b[4];
  sy_le32_put(b, v);
  k_put(k, b, sizeof b);
}

#endif /* SY_CORE_KEY_H */
