/*
 * entry.c - the plugin entry of feed-csv. It lives apart from the
 * provider's code so that the unit test can link that code without a
 * second sy_plugin_entry.
 */
#include "feed_csv.h"

SY_PLUGIN_DEFINE("feed-csv", "1.0.0", &feed_csv_provider)
