/*
 * entry.c - the plugin entry of registry-file. It lives apart from the
 * provider's code so that the unit test can link that code without a
 * second sy_plugin_entry.
 */
#include "registry_file.h"

SY_PLUGIN_DEFINE("registry-file", "1.0.0", &registry_file_provider)
