/*
 * switchyard/hash.h - the core's content hash, for plugins.
 *
 * The hash is XXH3-128, written as 16 bytes in canonical (big-endian)
 * order: the one the core uses for cache keys, plugin code hashes and
 * sy_value_hash(). A feed or an actor that fingerprints what its results
 * depend on (sy_feed_ops.fingerprint, sy_actor_ops.fingerprint) hashes
 * with these functions and needs no hashing library of its own. The same
 * bytes give the same hash on every host and in every release of a given
 * ABI major; bytes fed in several pieces give the hash of the same bytes
 * fed at once. It detects change, not tampering: it is not cryptographic.
 *
 * Since ABI 1.3.
 */
#ifndef SWITCHYARD_HASH_H
#define SWITCHYARD_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Size of a hash in bytes. Since ABI 1.3. */
#define SY_HASH_SIZE 16

/* One shot: writes the hash of data[0..len) into out. data may be NULL
 * when len is 0. Keeps no state; any thread. Since ABI 1.3. */
SY_API void sy_hash(const void *data, size_t len, uint8_t out[SY_HASH_SIZE]);

/* Streaming: a hasher takes the bytes in pieces. It is opaque (the state
 * is about 600 aligned bytes) and owned by its creator, who frees it with
 * sy_hasher_free(). One hasher must not be used from two threads at once;
 * different hashers are independent. */
typedef struct sy_hasher sy_hasher;

/* Makes a hasher, ready for sy_hasher_update. Returns 0 with the hasher
 * in *out, owned by the caller (sy_hasher_free), or SY_EINVAL (out NULL)
 * or SY_ENOMEM. Any thread. Since ABI 1.3. */
SY_API int sy_hasher_new(sy_hasher **out);
/* Starts over, as a new hasher would. One thread at a time per hasher.
 * Since ABI 1.3. */
SY_API void sy_hasher_reset(sy_hasher *h);
/* Adds data[0..len) (data may be NULL when len is 0; it is only read,
 * not kept). One thread at a time per hasher. Since ABI 1.3. */
SY_API void sy_hasher_update(sy_hasher *h, const void *data, size_t len);
/* Writes the hash of everything added since the last reset into out
 * (the caller's 16 bytes). The hasher is not changed: more may be added
 * afterwards. One thread at a time per hasher. Since ABI 1.3. */
SY_API void sy_hasher_digest(const sy_hasher *h, uint8_t out[SY_HASH_SIZE]);
/* Frees h (its owner's call; h is not used again); NULL is ignored.
 * Since ABI 1.3. */
SY_API void sy_hasher_free(sy_hasher *h);

#ifdef __cplusplus
}
#endif
#endif /* SWITCHYARD_HASH_H */
