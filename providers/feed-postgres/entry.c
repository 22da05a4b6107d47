/*
 * entry.c - the plugin entry of feed-postgres.
 */
#include "feed_postgres.h"

SY_PLUGIN_DEFINE("feed-postgres", "1.0.0", &feed_postgres_provider)
