/*
 * version.c - the package version of the loaded library.
 */
#include "internal.h"

const char *sy_version(void) { return SY_VERSION; }
