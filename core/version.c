/*
 * version.c - the package version of the loaded library.
 */
#include "switchyard/switchyard.h"

const char *sy_version(void) {
  return SY_VERSION;
}
