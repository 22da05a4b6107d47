/*
 * entry.c - the plugin entry of sink-stdout. It lives apart from the
 * provider's code so that the unit test can link that code without a
 * second sy_plugin_entry.
 */
#include "sink_stdout.h"

SY_PLUGIN_DEFINE("sink-stdout", "1.0.0", &sink_stdout_provider)
