/*
 * runner_inline.h - private to the runner-inline provider and the plugin
 * that ships it (providers/base/entry.c). The descriptor is visible
 * across the plugin's files and hidden in the .so by -fvisibility=hidden.
 */
#ifndef SY_RUNNER_INLINE_H
#define SY_RUNNER_INLINE_H

#include <switchyard/switchyard.h>

extern const sy_provider runner_inline_provider;

#endif /* SY_RUNNER_INLINE_H */
