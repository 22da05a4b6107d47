/*
 * entry.c - the plugin entry of sink-postgres.
 */
#include "sink_postgres.h"

SY_PLUGIN_DEFINE("sink-postgres", "1.0.0", &sink_postgres_provider)
