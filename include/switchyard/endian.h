/*
 * switchyard/endian.h - little-endian integers in byte buffers.
 *
 * Every format switchyard writes (values, programs, state bundles, actor
 * states, the storage's entry files, the MPI runner's messages) stores
 * its integers little-endian, whatever the host. These are the one codec
 * for them: the core uses them and so may a plugin. They are static
 * inline, byte by byte, so they need no alignment and compile to a plain
 * load or store on a little-endian host; nothing is exported.
 *
 * p must point at 2, 4 or 8 bytes the caller owns; the functions keep no
 * state and are safe from any thread. Since ABI 1.3.
 */
#ifndef SWITCHYARD_ENDIAN_H
#define SWITCHYARD_ENDIAN_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Since ABI 1.3. Writes v into p[0..2), low byte first. */
static inline void sy_le16_put(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

/* Since ABI 1.3. Writes v into p[0..4), low byte first. */
static inline void sy_le32_put(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

/* Since ABI 1.3. Writes v into p[0..8), low byte first. */
static inline void sy_le64_put(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

/* Since ABI 1.3. The u16 stored low byte first at p. */
static inline uint16_t sy_le16_get(const uint8_t *p) {
  return (uint16_t)(p[0] | (unsigned)p[1] << 8);
}

/* Since ABI 1.3. The u32 stored low byte first at p. */
static inline uint32_t sy_le32_get(const uint8_t *p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; i--)
    v = v << 8 | p[i];
  return v;
}

/* Since ABI 1.3. The u64 stored low byte first at p. */
static inline uint64_t sy_le64_get(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = v << 8 | p[i];
  return v;
}

#ifdef __cplusplus
}
#endif
#endif /* SWITCHYARD_ENDIAN_H */
