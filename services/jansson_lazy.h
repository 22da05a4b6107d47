/*
 * jansson_lazy.h - why libjansson could not be loaded (jansson_lazy.c).
 */
#ifndef SY_JANSSON_LAZY_H
#define SY_JANSSON_LAZY_H

/* NULL once libjansson is loaded (it is loaded by this call when it was
 * not yet); else a sentence saying why it cannot be, for a message. */
const char *sy_jansson_lazy_error(void);

#endif /* SY_JANSSON_LAZY_H */
