/*
 * entry.c - the plugin entry of registry-archive. It lives apart from the
 * provider's code so that the unit test and the fuzz target can link that
 * code without a second sy_plugin_entry.
 */
#include "registry_archive.h"

SY_PLUGIN_DEFINE("registry-archive", "1.0.0", &registry_archive_provider)
