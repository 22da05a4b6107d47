/*
 * entry.c - the plugin entry of storage-file. It lives apart from the
 * provider's code so that the unit test can link that code without a
 * second sy_plugin_entry.
 */
#include "storage_file.h"

SY_PLUGIN_DEFINE("storage-file", "1.0.0", &storage_file_provider)
