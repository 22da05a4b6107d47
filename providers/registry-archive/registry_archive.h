/*
 * registry_archive.h - private to the registry-archive provider, its unit
 * test and its fuzz target. Nothing here is installed.
 */
#ifndef SY_REGISTRY_ARCHIVE_H
#define SY_REGISTRY_ARCHIVE_H

#include <stdint.h>

#include <switchyard/switchyard.h>
#include <switchyard/registry.h>

/* Indexes into the `format` and `compression` choices. */
enum { RA_FORMAT_TAR = 0, RA_FORMAT_ZIP = 1 };
enum { RA_COMPRESS_NONE = 0, RA_COMPRESS_GZIP = 1, RA_COMPRESS_ZSTD = 2 };

typedef struct registry_archive_config {
  const char *path;   /* the one archive file */
  int format;         /* RA_FORMAT_* */
  int compression;    /* RA_COMPRESS_* */
  uint64_t max_entry; /* the most bytes one entry may hold */
} registry_archive_config;

extern const sy_provider registry_archive_provider;

/* Compares two release names as versions: <0, 0 or >0, as
 * sy_release_version_compare (registry.h) does: "1.10" > "1.9", "1" <
 * "1.0", "1.0-rc.1" < "1.0", and a name that is no valid version (stored
 * before ABI 1.3 checked them) is older than every valid one. */
int registry_archive_version_compare(const char *a, const char *b);

#endif /* SY_REGISTRY_ARCHIVE_H */
