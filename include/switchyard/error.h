/*
 * switchyard/error.h - error codes and the error object.
 *
 * Every function of the library returns an int: 0 on success or a negative
 * SY_E* code. The codes come from one X-macro list, so the enum, the names
 * and the messages cannot drift apart (the libuv way). The list only grows
 * at the end; a code never changes its number.
 *
 * Detail travels in a caller-owned sy_error: a code plus a message that
 * names its context ("runner.parallel: ...", "pipeline.flow:12: ...") and
 * may end with a hint ("try: ..."). Functions that take an sy_error accept
 * NULL when the caller does not want the detail.
 *
 * Thread-safety: all functions here are reentrant; one sy_error must not be
 * written by two threads at once.
 * Since ABI 1.0.
 */
#ifndef SWITCHYARD_ERROR_H
#define SWITCHYARD_ERROR_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SY_API __attribute__((visibility("default")))
#define SY_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define SY_API
#define SY_PRINTF(f, a)
#endif

/* XX(name, number, message). Append only. */
#define SY_ERRNO_MAP(XX)                                                       \
  XX(NOMEM, 1, "out of memory")                                                \
  XX(INVAL, 2, "invalid argument")                                             \
  XX(IO, 3, "input/output error")                                              \
  XX(NOENT, 4, "no such file or entry")                                        \
  XX(SYNTAX, 5, "syntax error")                                                \
  XX(CONFIG, 6, "invalid configuration")                                       \
  XX(ABI, 7, "incompatible plugin ABI")                                        \
  XX(PLUGIN, 8, "invalid plugin")                                              \
  XX(EXIST, 9, "already exists")                                               \
  XX(PERM, 10, "permission denied or untrusted file")                          \
  XX(RANGE, 11, "value out of range")                                          \
  XX(TYPE, 12, "wrong type")                                                   \
  XX(NOTSUP, 13, "operation not supported")                                    \
  XX(CORRUPT, 14, "corrupt or truncated data")                                 \
  XX(CYCLE, 15, "cycle in graph")                                              \
  XX(FAILED, 16, "step failed")                                                \
  XX(CANCELED, 17, "canceled")                                                 \
  XX(TIMEOUT, 18, "timed out")                                                 \
  XX(CRASHED, 19, "worker crashed")                                            \
  XX(STATE, 20, "invalid state")                                               \
  XX(USAGE, 21, "usage error")                                                 \
  XX(TOOBIG, 22, "value too large")

typedef enum sy_errno {
#define SY__ERR_ENUM(name, num, msg) SY_E##name = -(num),
  SY_ERRNO_MAP(SY__ERR_ENUM)
#undef SY__ERR_ENUM
} sy_errno;

/* Longest message an sy_error keeps; longer ones are cut with "...". */
#define SY_ERROR_MAX 1024

typedef struct sy_error {
  int code;                   /* 0 or a negative SY_E* code */
  char message[SY_ERROR_MAX]; /* NUL-terminated, "" when none */
} sy_error;

/* Static text for a code ("out of memory"); "unknown error" otherwise. */
SY_API const char *sy_strerror(int code);
/* The code's name ("SY_ENOMEM"); "SY_EUNKNOWN" otherwise. */
SY_API const char *sy_err_name(int code);

/* Since ABI 1.2. The SY_E* code for a C errno value e, for providers that
 * report a failed system call: ENOENT and ENOTDIR are SY_ENOENT; EACCES,
 * EPERM and EROFS are SY_EPERM; ENOMEM is SY_ENOMEM; EEXIST and ENOTEMPTY
 * (rename() onto a folder that is not empty) are SY_EEXIST; anything else,
 * 0 included, is SY_EIO. Does not change errno, so
 * `sy_error_set(err, sy_code_from_errno(errno), "...: %s", strerror(errno))`
 * is safe. */
SY_API int sy_code_from_errno(int e);

/* Resets err to no error. err may be NULL. */
SY_API void sy_error_clear(sy_error *err);
/* Sets code and a printf-formatted message; returns code so callers can
 * write `return sy_error_set(err, SY_EINVAL, "...")`. err may be NULL. */
SY_API int sy_error_set(sy_error *err, int code, const char *fmt, ...)
    SY_PRINTF(3, 4);
SY_API int sy_error_setv(sy_error *err, int code, const char *fmt, va_list ap);
/* Prepends a printf-formatted context and ": " to the message; returns
 * err->code (or SY_EINVAL when err is NULL). */
SY_API int sy_error_prefix(sy_error *err, const char *fmt, ...) SY_PRINTF(2, 3);

#ifdef __cplusplus
}
#endif
#endif /* SWITCHYARD_ERROR_H */
