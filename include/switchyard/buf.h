/*
 * switchyard/buf.h - a growable buffer of bytes or text.
 *
 * The one growable buffer of the core and the built-in providers: joined
 * lists and messages, encoders (programs, MPI messages), text written a
 * piece at a time. The bytes are always followed by a NUL that len does
 * not count, so a buffer of text is a C string as it is.
 *
 * Failure is sticky: once an append cannot get memory, `failed` is set,
 * every later append does nothing and returns SY_ENOMEM, and the bytes
 * appended before stay as they were. A sequence of appends may so be
 * checked once, at the end.
 *
 *   sy_buf b = SY_BUF_INIT;
 *   sy_buf_puts(&b, "a");
 *   sy_buf_printf(&b, " -> %s", name);
 *   if (b.failed) ...out of memory...
 *   use(b.data, b.len);
 *   sy_buf_free(&b);
 *
 * Ownership: the buffer is the caller's (usually on the stack) and data is
 * its malloc()ed memory: free it with sy_buf_free(), or take data and
 * free() it yourself. Read data, len and failed; write none of the fields
 * but through these functions. Threads: one buffer must not be used by
 * two threads at once; different buffers are independent. Since ABI 1.3.
 */
#ifndef SWITCHYARD_BUF_H
#define SWITCHYARD_BUF_H

#include <stddef.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Since ABI 1.3. data is NULL until the first append (then never NULL
 * and NUL-terminated); len bytes are used of cap; failed is 1 after an
 * append ran out of memory. */
typedef struct sy_buf {
  char *data;
  size_t len;
  size_t cap;
  int failed;
} sy_buf;

/* Since ABI 1.3. An empty buffer. */
#define SY_BUF_INIT                                                            \
  { NULL, 0, 0, 0 }

/* Since ABI 1.3. Makes room for `extra` more bytes (and the NUL) without
 * appending them: data + len then has extra writable bytes; add them with
 * sy_buf_add or, after writing them there, by raising len. 0 or
 * SY_ENOMEM. */
SY_API int sy_buf_reserve(sy_buf *b, size_t extra);

/* Since ABI 1.3. Appends n bytes (p may be NULL when n is 0). 0 or
 * SY_ENOMEM. */
SY_API int sy_buf_add(sy_buf *b, const void *p, size_t n);

/* Since ABI 1.3. Appends the string s (not its NUL). 0 or SY_ENOMEM. */
SY_API int sy_buf_puts(sy_buf *b, const char *s);

/* Since ABI 1.3. Appends printf-formatted text. 0 or SY_ENOMEM (also
 * when the format fails). */
SY_API int sy_buf_printf(sy_buf *b, const char *fmt, ...) SY_PRINTF(2, 3);

/* Since ABI 1.3. Empties the buffer but keeps its memory for the next
 * appends (failed stays as it is). */
SY_API void sy_buf_reset(sy_buf *b);

/* Since ABI 1.3. Frees data and leaves the buffer empty (failed cleared),
 * ready for reuse. b may be NULL. */
SY_API void sy_buf_free(sy_buf *b);

#ifdef __cplusplus
}
#endif
#endif /* SWITCHYARD_BUF_H */
