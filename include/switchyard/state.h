/*
 * switchyard/state.h - a codec for actor states.
 *
 * A stateful actor's state_save returns a bytes value that another
 * process, on another machine or in another year, hands to state_load.
 * This codec frames such a state and checks it on load, so that an actor
 * writes only its fields and its state_load cannot be crashed by the
 * bytes it is given:
 *
 *   offset  size  field (all integers little-endian)
 *   0       8     magic: what the state is, 1 to 8 ASCII letters,
 *                 digits or punctuation, padded with NUL bytes
 *                 ("SYSCALER")
 *   8       4     format version of the fields, the actor's own (>= 1)
 *   12      4     payload length P
 *   16      P     the fields, in the order they were written
 *   16+P    8     checksum: FNV-1a 64 of every byte before it
 *
 * The media type is SY_STATE_MEDIA. Fields carry no tags: the magic and
 * the version say which fields follow, in which order, so bump the
 * version whenever that changes, and have state_load accept the versions
 * it can still read (sy_state_open's min_version..max_version). Fields:
 *   u32, u64, i64   4, 8, 8 bytes
 *   f64             the IEEE-754 bits as a u64
 *   str             u32 byte length, then the bytes (no NUL inside)
 *   arrays          the elements one after the other; a count the reader
 *                   needs is a u32 field of its own (sy_state_get_count)
 *
 * Loading trusts nothing. sy_state_open checks the media type, the magic,
 * the version, the payload length against the bytes really there and the
 * checksum; then every get checks its field against the bytes left before
 * reading or allocating, and sy_state_get_count refuses a count that the
 * bytes left cannot hold, so a lying length can neither crash the reader
 * nor make it reserve memory. Every refusal is SY_ECORRUPT with a message
 * that names the actor and what is wrong ("std.scaler: state: malformed
 * payload at offset 20"); a version the actor cannot read says to train
 * again. The writer and the reader are sticky: after the first failure
 * every later call does nothing and fails, so a sequence of puts or gets
 * may be checked once, at sy_state_finish or sy_state_close.
 *
 * Ownership and threads: the writer and the reader live in the caller's
 * memory (usually on the stack) and are used by one thread at a time;
 * different ones are independent. The reader borrows the state value's
 * bytes, so the caller keeps its reference until sy_state_close. Their
 * members are the codec's: read none but sy_state_reader.version, write
 * none.
 *
 * actor-std's std.scaler, std.linreg and std.logreg keep their states
 * with this codec. Since ABI 1.3.
 */
#ifndef SWITCHYARD_STATE_H
#define SWITCHYARD_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "value.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The media type of every state this codec writes. Since ABI 1.3. */
#define SY_STATE_MEDIA "application/x-switchyard-state"
/* Bytes before the payload (magic, version, length) and after it (the
 * checksum). Since ABI 1.3. */
#define SY_STATE_HEADER_SIZE 16
#define SY_STATE_TRAILER_SIZE 8
/* Longest magic, in bytes. Since ABI 1.3. */
#define SY_STATE_MAGIC_MAX 8

/* ---- writing --------------------------------------------------------- */

/* A state being written. Since ABI 1.3. */
typedef struct sy_state_writer {
  uint8_t *data; /* malloc()ed, owned by the writer */
  size_t len, cap;
  int failed; /* 0, or the first failure's SY_E* code */
} sy_state_writer;

/* Starts a state in w, the caller's (whatever w held is overwritten, not
 * freed): magic is 1 to SY_STATE_MAGIC_MAX ASCII letters, digits or
 * punctuation (no space), version at least 1. Returns 0, or SY_EINVAL
 * (bad magic or version) or SY_ENOMEM, which w also keeps for
 * sy_state_finish. w then holds memory until sy_state_finish or
 * sy_state_discard. One thread at a time per writer. Since ABI 1.3. */
SY_API int sy_state_begin(sy_state_writer *w, const char *magic,
                          uint32_t version);
/* Append one field each (copied; nothing is kept). One thread at a time
 * per writer. Since ABI 1.3. */
SY_API void sy_state_put_u32(sy_state_writer *w, uint32_t v);
SY_API void sy_state_put_u64(sy_state_writer *w, uint64_t v);
SY_API void sy_state_put_i64(sy_state_writer *w, int64_t v);
SY_API void sy_state_put_f64(sy_state_writer *w, double v);
/* n doubles, without a count (v may be NULL when n is 0; copied). One
 * thread at a time per writer. Since ABI 1.3. */
SY_API void sy_state_put_f64s(sy_state_writer *w, const double *v, size_t n);
/* A string of at most SY_VALUE_MAX_BYTES bytes (longer: SY_ETOOBIG;
 * copied). One thread at a time per writer. Since ABI 1.3. */
SY_API void sy_state_put_str(sy_state_writer *w, const char *s);
/* Seals the state (length, checksum) and hands its bytes to a new bytes
 * value of media type SY_STATE_MEDIA: 0 with one reference in *out, the
 * caller's. Otherwise the first failure of w, with err saying "ACTOR:
 * cannot save the state: ...". Empties w either way (nothing is left to
 * free). One thread at a time per writer. Since ABI 1.3. */
SY_API int sy_state_finish(sy_state_writer *w, const char *actor,
                           sy_value **out, sy_error *err);
/* Frees what w holds without making a value, for a state_save that gives
 * up half way; w is then empty. One thread at a time per writer. Since
 * ABI 1.3. */
SY_API void sy_state_discard(sy_state_writer *w);

/* ---- reading --------------------------------------------------------- */

/* A state being read. Since ABI 1.3. */
typedef struct sy_state_reader {
  const uint8_t *data; /* borrowed from the state value */
  size_t len;          /* end of the payload */
  size_t pos;          /* next byte to read */
  uint32_t version;    /* the format version found (read it) */
  int failed;          /* 0, or the first failure's SY_E* code */
  const char *actor;   /* for messages; borrowed */
} sy_state_reader;

/* Opens state for reading: it must be a bytes value of media type
 * SY_STATE_MEDIA, with this magic, a version from min_version to
 * max_version (found in r->version), a payload length that matches its
 * size and a good checksum. Returns 0 with r covering the payload;
 * SY_ETYPE when state is not a bytes value; SY_ECORRUPT otherwise, with
 * err saying what ("ACTOR: state has a bad magic (not a ACTOR state)",
 * "...: state format version 3 is not supported (this plugin reads 1 to
 * 2); train the model again with this plugin, or load it with the plugin
 * that saved it"). r is the caller's; it borrows state's bytes and
 * actor, which must outlive it (until sy_state_close); nothing needs
 * freeing. One thread at a time per reader. Since ABI 1.3. */
SY_API int sy_state_open(sy_state_reader *r, const sy_value *state,
                         const char *actor, const char *magic,
                         uint32_t min_version, uint32_t max_version,
                         sy_error *err);
/* Read one field each into *v: 0, or SY_ECORRUPT when it runs past the
 * payload (or r failed earlier), *v then 0. One thread at a time per
 * reader. Since ABI 1.3. */
SY_API int sy_state_get_u32(sy_state_reader *r, uint32_t *v);
SY_API int sy_state_get_u64(sy_state_reader *r, uint64_t *v);
SY_API int sy_state_get_i64(sy_state_reader *r, int64_t *v);
SY_API int sy_state_get_f64(sy_state_reader *r, double *v);
/* Reads n doubles into the caller's v[0..n): 0 or SY_ECORRUPT (v is
 * then zeroed). One thread at a time per reader. Since ABI 1.3. */
SY_API int sy_state_get_f64s(sy_state_reader *r, double *v, size_t n);
/* Reads a u32 count of items that take at least `each` bytes apiece in
 * what follows (each >= 1), and checks that the bytes left can hold that
 * many: allocate for *n after this, never before. 0 or SY_ECORRUPT (*n
 * then 0). One thread at a time per reader. Since ABI 1.3. */
SY_API int sy_state_get_count(sy_state_reader *r, size_t each, uint32_t *n);
/* Reads a string of min to max bytes (max at most SY_VALUE_MAX_BYTES)
 * without a NUL into a malloc()ed, NUL-terminated copy that the caller
 * frees: 0, SY_ECORRUPT or SY_ENOMEM (*s then NULL). One thread at a time
 * per reader. Since ABI 1.3. */
SY_API int sy_state_get_str(sy_state_reader *r, size_t min, size_t max,
                            char **s);
/* The payload bytes not read yet (0 once r failed), for checks of counts
 * that sy_state_get_count cannot express (a product of two). Only reads
 * r. Since ABI 1.3. */
SY_API size_t sy_state_left(const sy_state_reader *r);
/* Marks r failed at its current offset, for a field the actor finds wrong
 * (a NaN weight, an unknown type tag). Returns SY_ECORRUPT. One thread at
 * a time per reader. Since ABI 1.3. */
SY_API int sy_state_reject(sy_state_reader *r);
/* Ends reading: 0 when every get succeeded and the payload is used up
 * exactly; else SY_ECORRUPT (SY_ENOMEM when a get ran out of memory) with
 * err saying "ACTOR: state: malformed payload at offset N" (or "... N
 * bytes left over after the last field"). After a failed sy_state_open
 * it only returns that failure's code, leaving err as open set it. r
 * holds nothing afterwards. One thread at a time per reader. Since ABI
 * 1.3. */
SY_API int sy_state_close(sy_state_reader *r, sy_error *err);

#ifdef __cplusplus
}
#endif
#endif /* SWITCHYARD_STATE_H */
