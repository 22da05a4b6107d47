/*
 * entry.c - the plugin entry of sink-csv. It lives apart from the
 * provider's code so that the unit test can link that code without a
 * second sy_plugin_entry.
 */
#include "sink_csv.h"

SY_PLUGIN_DEFINE("sink-csv", "1.0.0", &sink_csv_provider)
