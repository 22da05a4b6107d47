/*
 * entry.c - the plugin entry of feed-sqlite, apart from the provider's
 * code so that a unit test can link that code without a second entry.
 */
#include "feed_sqlite.h"

SY_PLUGIN_DEFINE("feed-sqlite", "1.0.0", &feed_sqlite_provider)
