/*
 * plugin.c - the actor-std plugin's one entry point.
 *
 * Each actor is defined in its own file (frame.c, scaler.c, linreg.c,
 * logreg.c; prep.c holds impute, onehot and split); this file only lists them,
 * so adding an actor is one line here plus its file. The provider structs are
 * hidden (providers build with -fvisibility=hidden): sy_plugin_entry is the
 * only exported symbol.
 */
#include "std.h"

SY_PLUGIN_DEFINE("actor-std", STD_VERSION, &std_select_provider,
                 &std_drop_provider, &std_head_provider, &std_concat_provider,
                 &std_scaler_provider, &std_linreg_provider,
                 &std_logreg_provider, &std_impute_provider,
                 &std_onehot_provider, &std_split_provider)
