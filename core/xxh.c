/*
 * xxh.c - libxxhash's XXH3, compiled into libswitchyard.
 *
 * The xxHash header from Debian's libxxhash-dev carries the whole
 * implementation; defined here once (XXH_IMPLEMENTATION), it gives the
 * library the same XXH3 functions libxxhash.so exports, hidden like all
 * of the library's own symbols, and the other files keep including
 * <xxhash.h> for the declarations. Linked as a shared library instead,
 * libxxhash was one more object mapped and relocated by every process
 * that starts (~40 us a start on the development VM, bench/startup), for
 * a few hundred lines of code. The hashes are the same bytes either way:
 * cache keys, program files and storage entries do not change.
 */
#define XXH_STATIC_LINKING_ONLY
#define XXH_IMPLEMENTATION
#include <xxhash.h>
