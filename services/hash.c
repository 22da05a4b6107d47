/*
 * hash.c - the core's content hash (XXH3-128) offered to plugins
 * (include/switchyard/hash.h), so that providers fingerprint with the
 * same function as the core and link no hashing library of their own.
 *
 * A hasher wraps XXH3_state_t, which libxxhash allocates itself (it needs
 * 64-byte alignment); keeping it opaque means a newer libxxhash with a
 * larger state changes nothing for plugins.
 */
#include "switchyard/hash.h"

#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

struct sy_hasher {
  XXH3_state_t *st;
};

static void canonical(XXH128_hash_t h, uint8_t out[SY_HASH_SIZE]) {
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, h);
  memcpy(out, c.digest, SY_HASH_SIZE);
}

void sy_hash(const void *data, size_t len, uint8_t out[SY_HASH_SIZE]) {
  static const char empty[1];
  canonical(XXH3_128bits(len ? data : empty, len), out);
}

int sy_hasher_new(sy_hasher **out) {
  if (!out)
    return SY_EINVAL;
  *out = NULL;
  sy_hasher *h = malloc(sizeof *h);
  if (!h)
    return SY_ENOMEM;
  h->st = XXH3_createState();
  if (!h->st) {
    free(h);
    return SY_ENOMEM;
  }
  XXH3_128bits_reset(h->st);
  *out = h;
  return 0;
}

void sy_hasher_reset(sy_hasher *h) {
  if (h)
    XXH3_128bits_reset(h->st);
}

void sy_hasher_update(sy_hasher *h, const void *data, size_t len) {
  if (h && len)
    XXH3_128bits_update(h->st, data, len);
}

void sy_hasher_digest(const sy_hasher *h, uint8_t out[SY_HASH_SIZE]) {
  if (h)
    canonical(XXH3_128bits_digest(h->st), out);
}

void sy_hasher_free(sy_hasher *h) {
  if (!h)
    return;
  XXH3_freeState(h->st);
  free(h);
}
