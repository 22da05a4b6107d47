/*
 * fuzz_manifest.c - libFuzzer target for the plugin manifest reader.
 *
 * Built and run by tests/fuzz/run.sh from the sources line below. The
 * manifest is untrusted input (docs/design.md, "Lazy plugin loading"):
 * whatever the bytes, sy__manifest_parse() must return 0 or -1 without
 * touching memory it does not own, and what it accepts must be whole:
 * every file named, with at least one provider, every provider with a
 * name, version and description. An accepted manifest is written out and
 * read back, and must give the same records.
 */
// clang-format off
// sources: core/manifest.c core/ini.c core/error.c core/kind.c core/version.c core/file.c
// libs: -lxxhash
// clang-format on
#include "internal.h"
#include "manifest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_whole(const sy__manifest *m) {
  for (size_t i = 0; i < m->nfiles; i++) {
    const sy__man_file *f = &m->files[i];
    if (!f->name || f->nprovs == 0)
      abort();
    for (size_t j = 0; j < f->nprovs; j++)
      if (!sy_kind_name(f->provs[j].kind) || !f->provs[j].name ||
          !f->provs[j].version || !f->provs[j].description)
        abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sy__manifest m;
  if (sy__manifest_parse((const char *)data, size, &m) == 0) {
    check_whole(&m);
    char path[] = "/tmp/fuzz_manifest_XXXXXX";
    int fd = mkstemp(path);
    if (fd >= 0) {
      close(fd);
      sy__manifest back;
      if (sy__manifest_write(path, &m) != 0 ||
          sy__manifest_read(path, &back) != 0 || back.nfiles != m.nfiles)
        abort();
      sy__manifest_free(&back);
      unlink(path);
    }
  }
  sy__manifest_free(&m);
  return 0;
}
