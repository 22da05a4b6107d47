/*
 * entry.c - the plugin `base`: the five built-in providers a run nearly
 * always uses, in one file.
 *
 * runner-inline, feed-csv, sink-csv, sink-stdout and storage-file need no
 * library beyond libswitchyard (and libxxhash), and a cached run of a
 * small flow used to load four of them as four files. Every file a run
 * loads costs an open, the trust walk, mapping, relocation and, at exit,
 * unmapping; one file for the five cut that cost by three files. Each
 * provider keeps its own folder and source; this file only lists them.
 * The unit tests link the providers' sources without it (no second
 * sy_plugin_entry).
 *
 * A provider here is still found, shadowed and refused by kind and name
 * like any other: a plugin earlier in the search path that offers `csv`
 * feeds wins over this one's, and the rest of this plugin loads.
 */
#include "../feed-csv/feed_csv.h"
#include "../runner-inline/runner_inline.h"
#include "../sink-csv/sink_csv.h"
#include "../sink-stdout/sink_stdout.h"
#include "../storage-file/storage_file.h"

SY_PLUGIN_DEFINE("base", "1.0.0", &runner_inline_provider, &feed_csv_provider,
                 &sink_csv_provider, &sink_stdout_provider,
                 &storage_file_provider)
