/*
 * runner-graphviz - draws the job's program with libgvc and runs nothing.
 *
 * A runner decides what happens to each step; this one decides that
 * nothing does, and renders the program instead: one node per step, one
 * edge per input, laid out by Graphviz's `dot` layout in this process
 * through libgvc (no `dot` command is spawned, so nothing is looked up on
 * PATH and no shell quoting is involved). `switchyard -R draw run FLOW >
 * flow.svg` draws the run program, `-R draw train FLOW --state S` the
 * train program; no feed is read, no actor runs, no sink is written.
 *
 * Legend (the same for every format):
 *   shape      feed = invhouse (data comes in), sink = house (goes out),
 *              train = box3d, apply = box, state steps (load, dump,
 *              commit) = cylinder, get = a small ellipse
 *   label      the step label ("apply model (std.logreg)") and the first
 *              8 hex digits of its cache key; the flow node's resources
 *              when it sets any ("cpus=2 memory=4G timeout=10m"); with a
 *              run log, done and failed steps also show their duration
 *              ("12.3 ms")
 *   edge       solid for data, dashed for a state (out of train, load or
 *              dump)
 *   fill       only with a run log (option `log`): done = palegreen,
 *              cached = lightblue, failed = salmon, skipped = lightgrey,
 *              started but never finished = khaki, never started = white;
 *              a failed step's tooltip (SVG) carries its error
 *
 * Output: to stdout by default; to a file through the core's atomic
 * writer (a temporary name in the same folder and a rename, so a reader
 * never sees half a drawing; only a regular file or a new name). PNG and
 * PDF are refused on a terminal, where they would only garble it.
 *
 * libgvc keeps some process-wide state (its plugin table is loaded per
 * context, but cgraph's string dictionary and error handler are global),
 * so two drawings must not be rendered on two threads at once; the CLI
 * runs one job at a time. This file keeps no state of its own outside the
 * instance. The GVC context is made per run and freed with it.
 *
 * Memory: everything this file allocates is freed (gvFreeRenderData,
 * gvFreeLayout, agclose, gvFreeContext). Valgrind still reports about
 * 12 KB definitely and 20 KB indirectly lost per run, all allocated inside
 * the libraries: libgvc 2.43 keeps the text of its plugin config
 * (graphviz/config6a, ~3.6 KB, once per gvContext), and fontconfig, pango
 * and cairo keep font caches from measuring the labels. They turn from
 * "reachable" into "lost" when the core dlclose()s this plugin and libgvc
 * goes with it, so the e2e test runs with LSan's leak check off.
 */
#include "graphviz.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gvc.h>

enum { FMT_DOT = 0, FMT_SVG = 1, FMT_PNG = 2, FMT_PDF = 3 };

static const char *const formats[] = {"dot", "svg", "png", "pdf", NULL};
static const char *const rankdirs[] = {"TB", "LR", "BT", "RL", NULL};

typedef struct gv_config {
  int format;
  const char *output;
  int rankdir;
  const char *log;
} gv_config;

static const sy_option gv_options[] = {
    {"format", SY_OPT_ENUM, 0, "svg", NULL, NULL, formats,
     offsetof(gv_config, format),
     "What to render: dot (Graphviz source with the layout), svg, png or "
     "pdf."},
    {"output", SY_OPT_PATH, 0, "-", NULL, NULL, NULL,
     offsetof(gv_config, output),
     "Where the drawing goes: - for stdout (png and pdf are refused on a "
     "terminal), else a file written through a temporary name and a "
     "rename."},
    {"rankdir", SY_OPT_ENUM, 0, "TB", NULL, NULL, rankdirs,
     offsetof(gv_config, rankdir),
     "Direction the program flows in: TB top to bottom, LR left to right, "
     "BT, RL."},
    {"log", SY_OPT_PATH, 0, NULL, NULL, NULL, NULL, offsetof(gv_config, log),
     "A run log written by `switchyard run --log FILE`: steps are coloured "
     "by their final status and show their duration."},
    SY_OPTION_END};

/* ---- the graph ---------------------------------------------------------- */

/* cgraph's setters take `char *` but copy what they are given (agstrdup)
 * and never write through the pointers, so passing const text is safe. */
static void set(void *obj, const char *name, const char *value) {
  agsafeset(obj, (char *)name, (char *)value, (char *)"");
}

static void declare(Agraph_t *g, int kind, const char *name,
                    const char *value) {
  agattr(g, kind, (char *)name, (char *)value);
}

static const char *shape_of(sy_op op) {
  switch (op) {
  case SY_OP_FEED:
    return "invhouse";
  case SY_OP_SINK:
    return "house";
  case SY_OP_TRAIN:
    return "box3d";
  case SY_OP_APPLY:
    return "box";
  case SY_OP_LOAD:
  case SY_OP_DUMP:
  case SY_OP_COMMIT:
    return "cylinder";
  case SY_OP_GET:
    return "ellipse";
  }
  return "box";
}

static const char *const fills[] = {
    [GV_NEVER] = "white",    [GV_STARTED] = "khaki",
    [GV_DONE] = "palegreen", [GV_CACHED] = "lightblue",
    [GV_FAILED] = "salmon",  [GV_SKIPPED] = "lightgrey",
};

/* "45 us" below 0.1 ms (the log has microsecond resolution), "12.3 ms"
 * below a second, "4.56 s" above; integer arithmetic, so the host
 * program's locale cannot turn the point into a comma. */
static void format_duration(double sec, char *buf, size_t cap) {
  if (!(sec >= 0) || sec > 1e9)
    sec = 0;
  long long us = (long long)(sec * 1e6 + 0.5);
  long long tenths_ms = (long long)(sec * 1e4 + 0.5);
  if (us < 100) {
    snprintf(buf, cap, "%lld us", us);
  } else if (tenths_ms < 10000) {
    snprintf(buf, cap, "%lld.%lld ms", tenths_ms / 10, tenths_ms % 10);
  } else {
    long long cs = (long long)(sec * 100 + 0.5);
    snprintf(buf, cap, "%lld.%02lld s", cs / 100, cs % 100);
  }
}

/* Appends text to a Graphviz escString: a backslash is doubled and a
 * newline becomes \n, so a label cannot smuggle in \N, \G or \l. */
static char *append_escaped(char *w, const char *s) {
  for (; *s; s++) {
    if (*s == '\\') {
      *w++ = '\\';
      *w++ = '\\';
    } else if (*s == '\n') {
      *w++ = '\\';
      *w++ = 'n';
    } else {
      *w++ = *s;
    }
  }
  return w;
}

/* The node's label: step label, key prefix, and the duration when the log
 * says the step ran. Returns a malloc'ed string or NULL. */
static char *node_label(const sy_job *job, size_t s, const gv_step_run *run) {
  const char *label = sy_job_step_label(job, s);
  const char *key = sy_job_step_key(job, s);
  char dur[32] = "";
  if (run && (run->status == GV_DONE || run->status == GV_FAILED))
    format_duration(run->dur, dur, sizeof dur);
  char res[160] = "";
  sy_step_resources r = {.size = sizeof r};
  if (sy_job_step_resources(job, s, &r) == 0)
    sy_step_resources_format(&r, res, sizeof res);
  char *out = malloc(2 * strlen(label) + 8 + sizeof dur + 2 * sizeof res + 8);
  if (!out)
    return NULL;
  char *w = append_escaped(out, label);
  w += sprintf(w, "\\n%.8s", key ? key : "");
  if (res[0]) {
    w += sprintf(w, "\\n");
    w = append_escaped(w, res);
  }
  if (dur[0])
    w += sprintf(w, "\\n%s", dur);
  *w = '\0';
  return out;
}

/* A tooltip (SVG shows it on hover): step number, full key, worker and,
 * for a failure, the error. Not an escString, so no escaping. */
static char *node_tooltip(const sy_job *job, size_t s, const gv_step_run *run) {
  const char *key = sy_job_step_key(job, s);
  const char *error = run && run->status == GV_FAILED ? run->error : NULL;
  size_t cap = 96 + strlen(key ? key : "") + (error ? strlen(error) : 0);
  char *out = malloc(cap);
  if (!out)
    return NULL;
  int w = snprintf(out, cap, "step %zu, key %s", s, key ? key : "?");
  if (run && run->worker >= 0)
    w += snprintf(out + w, cap - (size_t)w, ", worker %d", run->worker);
  if (error)
    snprintf(out + w, cap - (size_t)w, ": %s", error);
  return out;
}

static int build(const gv_config *cfg, const sy_job *job, const gv_runlog *log,
                 Agraph_t *g, sy_error *err) {
  size_t n = sy_job_size(job);
  int rc = 0;
  Agnode_t **nodes = calloc(n ? n : 1, sizeof *nodes);
  if (!nodes)
    return sy_error_set(err, SY_ENOMEM, "out of memory");

  declare(g, AGRAPH, "rankdir", rankdirs[cfg->rankdir]);
  declare(g, AGRAPH, "fontname", "Helvetica");
  declare(g, AGNODE, "fontname", "Helvetica");
  declare(g, AGNODE, "fontsize", "11");
  declare(g, AGNODE, "shape", "box");
  declare(g, AGNODE, "style", log ? "filled" : "");
  declare(g, AGNODE, "fillcolor", "white");
  declare(g, AGEDGE, "arrowsize", "0.7");
  declare(g, AGEDGE, "style", "solid");
  if (log && log->by_index) {
    set(g, "label",
        "run log: no step key matches this program (the flow "
        "changed?), steps matched by number");
    set(g, "labelloc", "t");
  }

  for (size_t s = 0; s < n && rc == 0; s++) {
    char name[32];
    snprintf(name, sizeof name, "s%zu", s);
    const gv_step_run *run = log ? &log->runs[s] : NULL;
    char *label = node_label(job, s, run);
    char *tip = node_tooltip(job, s, run);
    if (!label || !tip || !(nodes[s] = agnode(g, name, 1))) {
      rc = sy_error_set(err, SY_ENOMEM, "out of memory");
    } else {
      sy_op op = sy_job_step_op(job, s);
      set(nodes[s], "shape", shape_of(op));
      set(nodes[s], "label", label);
      set(nodes[s], "tooltip", tip);
      if (op == SY_OP_GET) {
        set(nodes[s], "fontsize", "9");
        set(nodes[s], "height", "0.3");
      }
      if (run)
        set(nodes[s], "fillcolor", fills[run->status]);
    }
    free(label);
    free(tip);
  }

  for (size_t s = 0; s < n && rc == 0; s++) {
    const uint32_t *in = NULL;
    size_t k = sy_job_step_inputs(job, s, &in);
    for (size_t i = 0; i < k && rc == 0; i++) {
      /* Inputs come before their step (runner.h); a program that says
       * otherwise is drawn without the bad edge rather than crashing. */
      if (in[i] >= s)
        continue;
      Agedge_t *e = agedge(g, nodes[in[i]], nodes[s], NULL, 1);
      if (!e) {
        rc = sy_error_set(err, SY_ENOMEM, "out of memory");
        break;
      }
      sy_op from = sy_job_step_op(job, in[i]);
      if (from == SY_OP_TRAIN || from == SY_OP_LOAD || from == SY_OP_DUMP)
        set(e, "style", "dashed");
    }
  }
  free(nodes);
  return rc;
}

/* Lays the graph out and renders it into *data (free with
 * gvFreeRenderData). */
static int render(const gv_config *cfg, const sy_job *job, const gv_runlog *log,
                  char **data, unsigned *len, sy_error *err) {
  int rc = 0;
  Agraph_t *g = NULL;
  int laid_out = 0;
  GVC_t *gvc = gvContext();
  if (!gvc)
    return sy_error_set(err, SY_ENOMEM,
                        "runner.graphviz: cannot make a Graphviz context");
  if (!(g = agopen((char *)"program", Agdirected, NULL))) {
    rc = sy_error_set(err, SY_ENOMEM, "out of memory");
    goto fail;
  }
  if ((rc = build(cfg, job, log, g, err)) != 0)
    goto fail;
  if (gvLayout(gvc, g, "dot") != 0) {
    rc = sy_error_set(err, SY_EPLUGIN,
                      "runner.graphviz: the dot layout failed; is the "
                      "Graphviz plugin set installed (Debian: libgvc6)?");
    goto fail;
  }
  laid_out = 1;
  if (gvRenderData(gvc, g, formats[cfg->format], data, len) != 0) {
    rc = sy_error_set(
        err, SY_EPLUGIN,
        "runner.graphviz: cannot render %s: libgvc has no plugin for it; "
        "on Debian the plugins come with libgvc6 and are listed in "
        "/usr/lib/x86_64-linux-gnu/graphviz/config6a (regenerate with "
        "`dot -c` as root)",
        formats[cfg->format]);
    goto fail;
  }
fail:
  if (laid_out)
    gvFreeLayout(gvc, g);
  if (g)
    agclose(g);
  gvFreeContext(gvc);
  return rc;
}

/* ---- output ------------------------------------------------------------- */

/* "-" is stdout. A path set in a config file is made relative to that
 * file's folder by the core, so "-" there arrives as "folder/-": a file
 * literally named "-" is not worth that surprise. */
static int is_stdout(const char *file) {
  size_t n = file ? strlen(file) : 0;
  return n == 0 || strcmp(file, "-") == 0 ||
         (n >= 2 && strcmp(file + n - 2, "/-") == 0);
}

static int write_stdout(const char *data, size_t len, sy_error *err) {
  if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0)
    return sy_error_set(err, SY_EIO,
                        "runner.graphviz: cannot write the drawing to "
                        "stdout: %s",
                        strerror(errno));
  return 0;
}

/* Writes file atomically through the core's writer (switchyard/file.h):
 * a temporary name beside it and a rename; a directory, device, FIFO or
 * socket is refused, a symlink written through. (Not "path": libgvc's
 * headers declare a global type of that name.) */
static int write_atomic(const char *file, const char *data, size_t len,
                        sy_error *err) {
  int rc = sy_file_write(file, data, len, err);
  if (rc)
    sy_error_prefix(err, "runner.graphviz: %s: cannot write the drawing", file);
  return rc;
}

/* ---- the runner --------------------------------------------------------- */

static int gv_create(const void *config, void **self, sy_error *err) {
  gv_config *c = malloc(sizeof *c);
  if (!c)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  /* The strings stay the core's; they live until destroy. */
  *c = *(const gv_config *)config;
  *self = c;
  return 0;
}

static void gv_destroy(void *self) {
  free(self);
}

static int gv_run(void *self, sy_job *job, sy_error *err) {
  const gv_config *cfg = self;
  int to_stdout = is_stdout(cfg->output);
  int binary = cfg->format == FMT_PNG || cfg->format == FMT_PDF;
  if (to_stdout && binary && isatty(STDOUT_FILENO))
    return sy_error_set(err, SY_ECONFIG,
                        "runner.graphviz: format %s is binary and stdout is "
                        "a terminal; redirect stdout (> flow.%s) or set the "
                        "runner's output (e.g. -o "
                        "RUNNER.draw.output=flow.%s)",
                        formats[cfg->format], formats[cfg->format],
                        formats[cfg->format]);
  /* This runner runs no step by design: the core must not fail the run
   * for steps that never ran. */
  sy_job_skip_run_check(job);
  gv_runlog log;
  memset(&log, 0, sizeof log);
  int have_log = cfg->log && *cfg->log;
  int rc = 0;
  char *data = NULL;
  unsigned len = 0;
  if (have_log && (rc = gv_runlog_read(cfg->log, job, &log, err)) != 0)
    goto done;
  if ((rc = render(cfg, job, have_log ? &log : NULL, &data, &len, err)) != 0)
    goto done;
  rc = to_stdout ? write_stdout(data, len, err)
                 : write_atomic(cfg->output, data, len, err);
done:
  if (data)
    gvFreeRenderData(data);
  gv_runlog_free(&log);
  return rc;
}

static const sy_runner_ops gv_ops = {
    .size = sizeof(sy_runner_ops),
    .run = gv_run,
    .resources = "cpus, memory, gpus, retries, timeout: runs nothing; each "
                 "step's are drawn in its label (\"cpus=2 memory=4G\")\n",
};

static const sy_provider gv_provider = {
    .size = sizeof(sy_provider),
    .kind = SY_KIND_RUNNER,
    .name = "graphviz",
    .version = "1.0.0",
    .description = "draws the program with Graphviz (dot, svg, png, pdf) "
                   "and runs nothing; with a run log, colours each step by "
                   "its status and time",
    .options = gv_options,
    .config_size = sizeof(gv_config),
    .create = gv_create,
    .destroy = gv_destroy,
    .ops = &gv_ops,
};

SY_PLUGIN_DEFINE("runner-graphviz", "1.0.0", &gv_provider)
