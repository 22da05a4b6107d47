/*
 * storage_file.h - private to the storage-file provider and its unit test.
 *
 * The config struct is what the core fills from the provider's option
 * table; the test fills it by hand and drives the provider through its
 * descriptor, so the descriptor is visible across this provider's files
 * (and hidden in the .so by -fvisibility=hidden).
 */
#ifndef SY_STORAGE_FILE_H
#define SY_STORAGE_FILE_H

#include <stdbool.h>
#include <switchyard/switchyard.h>
#include <switchyard/storage.h>

typedef struct storage_file_config {
  const char *path; /* the cache folder; made by create() when missing */
  bool fsync;       /* fsync each entry before publishing it */
} storage_file_config;

/* Entry file format, see the top of storage_file.c. Exposed so the test
 * can build entries by hand. */
#define STORAGE_FILE_MAGIC "SYCE"
#define STORAGE_FILE_VERSION 2u
#define STORAGE_FILE_KEY_LEN 32u /* the entry's own key, in the header */
/* magic, version, outputs, label length, key */
#define STORAGE_FILE_FIXED (16u + STORAGE_FILE_KEY_LEN)
#define STORAGE_FILE_CHECKSUM 8u /* trailing XXH3-64 */
#define STORAGE_FILE_MAX_LABEL 1024u
#define STORAGE_FILE_MAX_OUTPUTS 1024u
/* Temporary files are "<sub>/.tmp.<key>.<pid>.<random>"; ones older than
 * this many seconds are left over from a crash and get removed. */
#define STORAGE_FILE_TMP_PREFIX ".tmp."
#define STORAGE_FILE_TMP_AGE 3600

extern const sy_provider storage_file_provider;

#endif /* SY_STORAGE_FILE_H */
