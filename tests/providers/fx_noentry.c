/*
 * fx_noentry.c - a shared object that is no switchyard plugin: it exports
 * a function, but not sy_plugin_entry.
 */
#include <switchyard/switchyard.h>

SY_API int fx_not_a_plugin(int x);
SY_API int fx_not_a_plugin(int x) {
  return x + 1;
}
