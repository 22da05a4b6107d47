/*
 * error.c - error codes and the error object.
 *
 * Messages are cut at SY_ERROR_MAX - 1 bytes with a trailing "..." so that
 * a reader can tell a cut message from a whole one.
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

const char *sy_strerror(int code) {
  switch (code) {
#define SY__ERR_MSG(name, num, msg)                                            \
  case -(num):                                                                 \
    return msg;
    SY_ERRNO_MAP(SY__ERR_MSG)
#undef SY__ERR_MSG
  case 0:
    return "success";
  default:
    return "unknown error";
  }
}

const char *sy_err_name(int code) {
  switch (code) {
#define SY__ERR_NAME(name, num, msg)                                           \
  case -(num):                                                                 \
    return "SY_E" #name;
    SY_ERRNO_MAP(SY__ERR_NAME)
#undef SY__ERR_NAME
  case 0:
    return "SY_OK";
  default:
    return "SY_EUNKNOWN";
  }
}

int sy_code_from_errno(int e) {
  switch (e) {
  case ENOENT:
  case ENOTDIR:
    return SY_ENOENT;
  case EACCES:
  case EPERM:
  case EROFS:
    return SY_EPERM;
  case ENOMEM:
    return SY_ENOMEM;
  case EEXIST:
  case ENOTEMPTY:
    return SY_EEXIST;
  default:
    return SY_EIO;
  }
}

void sy_error_clear(sy_error *err) {
  if (err) {
    err->code = 0;
    err->message[0] = '\0';
  }
}

static void mark_cut(char *buf, size_t cap, int wanted) {
  if (wanted >= 0 && (size_t)wanted >= cap && cap > 4)
    memcpy(buf + cap - 4, "...", 4);
}

int sy_error_setv(sy_error *err, int code, const char *fmt, va_list ap) {
  if (!err)
    return code;
  err->code = code;
  int n = vsnprintf(err->message, sizeof err->message, fmt, ap);
  if (n < 0)
    err->message[0] = '\0';
  mark_cut(err->message, sizeof err->message, n);
  return code;
}

int sy_error_set(sy_error *err, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  sy_error_setv(err, code, fmt, ap);
  va_end(ap);
  return code;
}

int sy_error_prefix(sy_error *err, const char *fmt, ...) {
  if (!err)
    return SY_EINVAL;
  char prefix[SY_ERROR_MAX];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  if (n < 0)
    return err->code;
  char old[SY_ERROR_MAX];
  memcpy(old, err->message, sizeof old);
  n = snprintf(err->message, sizeof err->message, "%s: %s", prefix, old);
  mark_cut(err->message, sizeof err->message, n);
  return err->code;
}
