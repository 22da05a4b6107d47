/*
 * fx_ctor.c - a fixture plugin with a constructor: when the dynamic linker
 * maps it, it creates the file named by $FX_CTOR_MARKER. The loader must
 * refuse an untrusted file before dlopen(), so for a refused file the
 * marker never appears (tests/unit/test_loader.c).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <switchyard/switchyard.h>

__attribute__((constructor)) static void fx_ctor_mark(void) {
  const char *marker = getenv("FX_CTOR_MARKER");
  if (!marker || !*marker)
    return;
  int fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0)
    close(fd);
}

typedef struct fx_ops {
  uint32_t size;
  void (*fns[8])(void); /* as large as any kind's ops */
} fx_ops;

static const fx_ops fx_ops_any = {.size = sizeof(fx_ops)};

static const sy_provider fx_runner = {
    sizeof(sy_provider),
    SY_KIND_RUNNER,
    "ctor",
    "1.0.0",
    "A runner whose plugin has a constructor; a loader test fixture.",
    NULL,
    0,
    NULL,
    NULL,
    &fx_ops_any};

SY_PLUGIN_DEFINE("fx-ctor", "1.0.0", &fx_runner)
