/*
 * fx_small.c - a fixture plugin whose descriptor is smaller than the ABI
 * 1.0 layout (24 bytes on LP64): the loader must refuse it without reading
 * past its end. The struct is hand-built for that reason.
 */
#include <stdint.h>

#include <switchyard/switchyard.h>

typedef struct fx_small_plugin {
  uint32_t abi_major;
  uint32_t abi_minor;
  uint32_t size;
  const char *build;
} fx_small_plugin;

static const fx_small_plugin fx_descriptor = {SY_ABI_MAJOR, SY_ABI_MINOR,
                                              (uint32_t)sizeof(fx_small_plugin),
                                              SY_BUILD_SIGNATURE};

/* The loader reads the descriptor through sy_plugin; it must stop at the
 * size check, so the cast never lets it read past the small struct. */
SY_API const void *sy_plugin_entry(void);
SY_API const void *sy_plugin_entry(void) {
  return &fx_descriptor;
}
