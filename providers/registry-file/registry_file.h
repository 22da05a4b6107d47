/*
 * registry_file.h - private to the registry-file provider and its unit
 * test.
 *
 * The test compiles registry_file.c into its own binary (not entry.c,
 * which only holds SY_PLUGIN_DEFINE), fills registry_file_config by hand
 * and reaches the two helpers below, which the plugin does not export
 * (providers are built with -fvisibility=hidden).
 */
#ifndef SY_REGISTRY_FILE_H
#define SY_REGISTRY_FILE_H

#include <switchyard/switchyard.h>
#include <switchyard/registry.h>

typedef struct registry_file_config {
  const char *path; /* the registry's root folder; made by create() */
} registry_file_config;

extern const sy_provider registry_file_provider;

/* Compares two release versions as dotted numbers: negative when a is
 * older than b, 0 when they are the same version, positive when a is
 * newer. Parts are split at '.'; two all-digit parts compare as numbers
 * (of any length: "1.10" > "1.9", "1.01" == "1.1"), any other parts as
 * byte strings, and a numeric part is older than a non-numeric one. When
 * one version is a prefix of the other, the shorter is older
 * ("1.2" < "1.2.0"). */
int registry_file_version_compare(const char *a, const char *b);

/* Test only: makes the instance call _exit(9) when a write reaches its
 * n-th crash point (counted from this call; 0 turns it off), so a test
 * can kill a committing child at every step of a commit deterministically.
 * The points lie between the system calls of put_release and
 * put_generation (see "Crash points" in registry_file.c). The plugin never
 * calls this, so production instances never crash on purpose. */
void registry_file_crash_at(void *self, int n);

#endif /* SY_REGISTRY_FILE_H */
