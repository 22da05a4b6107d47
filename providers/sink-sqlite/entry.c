/*
 * entry.c - the plugin entry of sink-sqlite, apart from the provider's
 * code so that a unit test can link that code without a second entry.
 */
#include "sink_sqlite.h"

SY_PLUGIN_DEFINE("sink-sqlite", "1.0.0", &sink_sqlite_provider)
