/* serve_fast.c - loads serve's fast JSON path, serve-simdjson.so
 * (cli/serve_simd.cc), once, when `switchyard serve` starts.
 *
 * The module is C++ and links libsimdjson and libstdc++: linked into the
 * executable, every command would map them at start (tests/e2e/startup.sh
 * forbids it). It lives in a private folder, $(pkglibdir) (next to, not
 * in, plugins.d, whose loader wants providers), or, uninstalled, in the
 * build tree the executable runs from (found as core/platform.c finds
 * the tree's plugins.d), where libtool leaves it: cli/.libs/. Missing or
 * broken, serve says so in one line and decodes every body with yajl,
 * which gives the same answers.
 */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve_req.h"
#include "switchyard/platform.h"

#ifndef SY_SERVE_MODULE_DIR
#define SY_SERVE_MODULE_DIR "/usr/local/lib/switchyard"
#endif
#define MODULE "serve-simdjson.so"

/* The module in the build tree the executable runs from, or "". */
static void tree_module(char *out, size_t cap) {
  const char *tree = sy_build_tree();
  out[0] = '\0';
  if (*tree && (size_t)snprintf(out, cap, "%s/cli/.libs/" MODULE, tree) >= cap)
    out[0] = '\0';
}

int serve_fast_load(const char *path, int quiet) {
  const char *off = getenv("SWITCHYARD_SERVE_NO_SIMD");
  if (off && *off && strcmp(off, "0") != 0) {
    serve_set_fast(NULL);
    serve_set_fast_rows(NULL);
    return 0;
  }
  char where[PATH_MAX + 64];
  if (path)
    snprintf(where, sizeof where, "%s", path);
  else {
    tree_module(where, sizeof where);
    if (!where[0])
      snprintf(where, sizeof where, "%s/" MODULE, SY_SERVE_MODULE_DIR);
  }
  /* never unloaded: its threads' parsers are freed at their exit */
  void *h = dlopen(where, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  void *fn = h ? dlsym(h, SERVE_FAST_SYMBOL) : NULL;
  void *rfn = fn ? dlsym(h, SERVE_ROWS_SYMBOL) : NULL;
  if (!rfn) {
    const char *why = dlerror();
    if (!quiet)
      fprintf(stderr,
              "switchyard: serve: JSON bodies are decoded by yajl alone: "
              "cannot load %s (%s)\n",
              where, why ? why : "no " SERVE_ROWS_SYMBOL);
    serve_set_fast(NULL);
    serve_set_fast_rows(NULL);
    return 0;
  }
  serve_fast_fn f;
  memcpy(&f, &fn, sizeof f);
  serve_rows_fn rf;
  memcpy(&rf, &rfn, sizeof rf);
  serve_set_fast(f);
  serve_set_fast_rows(rf);
  return 1;
}
