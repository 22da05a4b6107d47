/*
 * runner-argo - turns the job's program into an Argo Workflow and, with
 * `submit = true`, hands it to the cluster. Runs no step in this process.
 *
 * `switchyard -R k8s run FLOW > wf.yaml` writes an argoproj.io/v1alpha1
 * Workflow: a DAG template with one task per step (granularity = step) or
 * per unit of the runner SDK's partition (granularity = chain,
 * sy_job_units: a chain of actor steps, whatever feeds they also read,
 * is one task, a GET rides with its input), `depends` from the edges,
 * and a container per task (image, imagePullPolicy, the service account,
 * the `volume` claim mounted at `mount`) running
 *
 *     switchyard -c RUN/switchyard.ini exec RUN/program --step N
 *
 * (a chain runs its steps one after the other in one container). Values
 * move between tasks through a file storage on the volume (MOUNT/store),
 * as `exec` moves them; the storage is also the cache, so a resubmitted
 * Workflow resumes. Every step runs as a task, feeds and sinks too: no
 * submitting process stays on the cluster, so the sink's output is the
 * sink task's (`argo logs`), as `exec` writes it.
 *
 * A Workflow runs from an empty volume. What the tasks need beyond the
 * image travels in the Workflow: the compiled program, the config the
 * steps run with (switchyard.ini: the feed and sink sections the program
 * names, their paths moved onto the volume, and a file storage there), and
 * the feed's tables (a csv feed's <table>.csv; a file a feed's path names).
 * A first task, `stage`, gets them as raw artifacts, base64 text, and
 * decodes them to RUN = MOUNT/runs/<hash of their contents>/, so two
 * Workflows never overwrite each other's program. All of it must fit the
 * Kubernetes object size limit (`limit`, 1 MiB): past it the runner
 * refuses, naming the size, and `stage = DIR` writes the same files to a
 * folder the user copies to the volume instead (the Workflow then has no
 * stage task).
 *
 * Per-step settings (sy_job_step_resources): a node's cpus, memory and
 * gpus become the container's resources.requests and limits alike (gpus
 * as `gpu_resource`), its retries retryStrategy.limit and its timeout
 * activeDeadlineSeconds; the runner's `retries` and `timeout` options are
 * the defaults; a chain task takes its steps' most and their timeouts'
 * sum. `keep_going` becomes the DAG's failFast: false (Argo then runs
 * every branch not downstream of a failure, as keep_going does;
 * continueOn would also run the steps downstream of it, which have no
 * inputs). The schema the tests validate against types int-or-string
 * fields as strings, so those are written as strings.
 *
 * Trained states: an apply program's (what its LOAD steps read, from a
 * state file or a registry generation, sy_job_loaded_states) travel like
 * the program, as RUN/states, and every task runs `exec --state
 * RUN/states`, which reads them instead of what the program names. A
 * train program with --state FILE (sy_job_commit_file) commits on the
 * volume: every task gets `--state RUN/trained/<FILE's name>`, which the
 * COMMIT step writes, and the runner prints that path. Training into a
 * registry is refused as not supported yet (the tasks cannot reach this
 * machine's registry).
 */
#include "argo.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { GRAN_STEP = 0, GRAN_CHAIN = 1 };
static const char *const granularities[] = {"step", "chain", NULL};
static const char *const pull_policies[] = {"IfNotPresent", "Always", "Never",
                                            NULL};

typedef struct argo_config {
  const char *output;
  const char *image;
  int pull_policy;
  const char *service_account;
  const char *namespace_;
  const char *volume;
  const char *mount;
  const char *command;
  int granularity;
  bool keep_going;
  int64_t retries;
  int64_t timeout;
  const char *stage;
  uint64_t limit;
  bool submit;
  int64_t poll;
  const char *gpu_resource;
} argo_config;

static const sy_option argo_options[] = {
    {"output", SY_OPT_PATH, 0, "-", NULL, NULL, NULL,
     offsetof(argo_config, output),
     "Where the Workflow YAML goes: - for stdout, else a file written "
     "through a temporary name and a rename."},
    {"image", SY_OPT_STRING, 0, "switchyard:latest", NULL, NULL, NULL,
     offsetof(argo_config, image),
     "Container image of every task: it must hold switchyard, its plugins "
     "and the actors' commands, and sh and base64 for the stage task."},
    {"image_pull_policy", SY_OPT_ENUM, 0, "IfNotPresent", NULL, NULL,
     pull_policies, offsetof(argo_config, pull_policy),
     "The containers' imagePullPolicy: IfNotPresent, Always or Never."},
    {"service_account", SY_OPT_STRING, 0, "", NULL, NULL, NULL,
     offsetof(argo_config, service_account),
     "The Workflow's serviceAccountName; empty: the namespace's default."},
    {"namespace", SY_OPT_STRING, 0, "", NULL, NULL, NULL,
     offsetof(argo_config, namespace_),
     "metadata.namespace of the Workflow; empty: the client's current one."},
    {"volume", SY_OPT_STRING, 0, "switchyard", NULL, NULL, NULL,
     offsetof(argo_config, volume),
     "The PersistentVolumeClaim every task mounts: the program, its config "
     "and data, and the storage that moves values between tasks live "
     "there. ReadWriteMany when tasks may run on different nodes."},
    {"mount", SY_OPT_STRING, 0, "/switchyard", NULL, NULL, NULL,
     offsetof(argo_config, mount),
     "Where the volume is mounted in every container (an absolute path)."},
    {"command", SY_OPT_STRING, 0, "switchyard", NULL, NULL, NULL,
     offsetof(argo_config, command),
     "The switchyard executable in the image (a name on its PATH, or a "
     "path)."},
    {"granularity", SY_OPT_ENUM, 0, "step", NULL, NULL, granularities,
     offsetof(argo_config, granularity),
     "step: one task per step; chain: one task per chain of actor steps "
     "(the runner SDK's units, as -R batch's jobs: an actor step joins the "
     "task of the actor steps it reads when all else it reads comes from "
     "feeds and every other reader of that task reads it too)."},
    {"keep_going", SY_OPT_BOOL, 0, "false", NULL, NULL, NULL,
     offsetof(argo_config, keep_going),
     "After a task fails, run every task not downstream of it (the DAG's "
     "failFast: false)."},
    {"retries", SY_OPT_INT, 0, "0", "0", "100", NULL,
     offsetof(argo_config, retries),
     "Extra attempts of a failed task (retryStrategy.limit); a node's "
     "`retries` overrides it; a chain task takes its steps' most."},
    {"timeout", SY_OPT_DURATION, 0, "0", "0", NULL, NULL,
     offsetof(argo_config, timeout),
     "Time a task may run before Kubernetes stops it "
     "(activeDeadlineSeconds, rounded up to seconds); 0: no limit. A "
     "node's `timeout` overrides it; a chain task gets its steps' sum."},
    {"stage", SY_OPT_PATH, 0, "", NULL, NULL, NULL,
     offsetof(argo_config, stage),
     "Write the program, config, data and trained states to this folder "
     "instead of carrying them in the Workflow: copy the folder's contents "
     "to the volume's root before submitting. For flows past `limit`, and "
     "for feeds whose path names a folder (written whole)."},
    {"limit", SY_OPT_SIZE, 0, "1MiB", "1KiB", NULL, NULL,
     offsetof(argo_config, limit),
     "Largest Workflow written without `stage` (Kubernetes refuses objects "
     "past about 1.5 MB)."},
    {"submit", SY_OPT_BOOL, 0, "false", NULL, NULL, NULL,
     offsetof(argo_config, submit),
     "Submit the Workflow and wait for it: `argo submit --wait` when argo "
     "is on PATH, else `kubectl create` and its phase every `poll`."},
    {"poll", SY_OPT_DURATION, 0, "5s", "10ms", NULL, NULL,
     offsetof(argo_config, poll),
     "How often the Workflow's status is asked for (kubectl only; its "
     "tasks' nodes become the steps' events, for the progress line and "
     "--log)."},
    {"gpu_resource", SY_OPT_STRING, 0, "nvidia.com/gpu", NULL, NULL, NULL,
     offsetof(argo_config, gpu_resource),
     "The extended resource a node's `gpus` is requested as (e.g. "
     "amd.com/gpu); its `cpus` become cpu and its `memory` memory, in "
     "requests and limits alike (a chain task: its steps' most)."},
    SY_OPTION_END};

/* ---- what travels ---------------------------------------------------------
 * A file for the volume: its path below RUN (or below the mount, for
 * dirs), its bytes (malloc'ed), or a folder to make (dir). */
typedef struct shipped {
  char *dest; /* relative to RUN */
  char *data;
  size_t len;
  int dir;
} shipped;

typedef struct ship_list {
  shipped *v;
  size_t n, cap;
} ship_list;

static int ship_add(ship_list *l, const char *dest, char *data, size_t len,
                    int dir) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 8;
    shipped *v = realloc(l->v, cap * sizeof *v);
    if (!v)
      return SY_ENOMEM;
    l->v = v;
    l->cap = cap;
  }
  char *d = strdup(dest);
  if (!d)
    return SY_ENOMEM;
  l->v[l->n++] = (shipped){d, data, len, dir};
  return 0;
}

static void ship_free(ship_list *l) {
  for (size_t i = 0; i < l->n; i++) {
    free(l->v[i].dest);
    free(l->v[i].data);
  }
  free(l->v);
}

/* ---- the units: what one task runs ---------------------------------------*/
typedef struct units {
  size_t n;        /* tasks */
  uint32_t *of;    /* per step: its unit */
  uint32_t *first; /* per unit: its first step (units are in step order) */
  uint32_t *count; /* per unit: its steps, which are of[] == u in order */
} units;

static void units_free(units *u) {
  free(u->of);
  free(u->first);
  free(u->count);
}

/* One unit per step, or (chain) the runner SDK's partition (its rule in
 * runner.h): a chain of actor steps is one unit, a GET joins its input's
 * unit, and every feed or sink step is a unit of its own. */
static int make_units(const sy_job *job, int chain, units *u, sy_error *err) {
  size_t n = sy_job_size(job);
  memset(u, 0, sizeof *u);
  u->of = calloc(n ? n : 1, sizeof *u->of);
  u->first = calloc(n ? n : 1, sizeof *u->first);
  u->count = calloc(n ? n : 1, sizeof *u->count);
  if (!u->of || !u->first || !u->count)
    goto oom;
  if (!chain) {
    for (size_t s = 0; s < n; s++) {
      u->of[s] = u->first[s] = (uint32_t)s;
      u->count[s] = 1;
    }
    u->n = n;
    return 0;
  }
  if (n && (u->n = sy_job_units(job, u->of)) == 0)
    goto oom;
  for (size_t k = 0; k < u->n; k++) {
    const uint32_t *steps = NULL;
    size_t m = sy_job_unit_steps(job, k, &steps);
    if (m == 0)
      goto oom;
    u->first[k] = steps[0];
    u->count[k] = (uint32_t)m;
  }
  return 0;
oom:
  units_free(u);
  return sy_error_set(err, SY_ENOMEM, "out of memory");
}

/* ---- the config the tasks run with ---------------------------------------*/

typedef struct gen {
  const argo_config *cfg;
  sy_job *job;
  const char *mount; /* without a trailing slash ("" for "/") */
  char run_dir[64];  /* "runs/<hash>" */
  /* exec --state for every task: an apply program's shipped states
   * ("states"), or where a train program's commit writes them
   * ("trained/<name>"); below RUN, "" when neither */
  char state_rel[300];
  ship_list files;
  sy_buf ini;
} gen;

static int is_path_option(const sy_provider *prov, const char *key) {
  const sy_option *o =
      prov && prov->options ? sy_option_find(prov->options, key) : NULL;
  return o && o->type == SY_OPT_PATH;
}

static const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

/* Whether a section of this kind and name was already written. */
static int seen(char **names, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(names[i], name) == 0)
      return 1;
  return 0;
}

/* stage = DIR and a feed option naming a folder: every file below it
 * (symbolic links followed) goes to dest/<its path below the folder>. */
static int ship_folder(gen *g, const char *dir, const char *dest, int depth,
                       sy_error *err) {
  if (depth > 16)
    return sy_error_set(err, SY_ENOTSUP,
                        "%s: folders nested past 16 levels are not staged",
                        dir);
  DIR *d = opendir(dir);
  if (!d)
    return sy_error_set(err, sy_code_from_errno(errno),
                        "cannot open the folder %s: %s", dir, strerror(errno));
  if (ship_add(&g->files, dest, NULL, 0, 1) != 0) {
    closedir(d);
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  }
  int rc = 0;
  struct dirent *e;
  while (rc == 0 && (e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    char *from = NULL, *to = NULL;
    if (asprintf(&from, "%s/%s", dir, e->d_name) < 0)
      from = NULL;
    if (asprintf(&to, "%s/%s", dest, e->d_name) < 0)
      to = NULL;
    struct stat st;
    if (!from || !to) {
      rc = sy_error_set(err, SY_ENOMEM, "out of memory");
    } else if (stat(from, &st) != 0) {
      rc = sy_error_set(err, sy_code_from_errno(errno), "%s: %s", from,
                        strerror(errno));
    } else if (S_ISDIR(st.st_mode)) {
      rc = ship_folder(g, from, to, depth + 1, err);
    } else if (S_ISREG(st.st_mode)) {
      void *data = NULL;
      size_t len = 0;
      rc = sy_file_read(from, SIZE_MAX / 4, &data, &len, err);
      if (rc == 0 && ship_add(&g->files, to, data, len, 0) != 0) {
        free(data);
        rc = sy_error_set(err, SY_ENOMEM, "out of memory");
      }
    }
    free(from);
    free(to);
  }
  closedir(d);
  return rc;
}

/* Reads the feed's data that step s needs into the files to ship, to go
 * to RUN/data/<feed>/<file name>. */
static int ship_feed_data(gen *g, const char *feed, const sy_instance *inst,
                          size_t s, sy_error *err) {
  const sy_provider *prov = sy_instance_provider(inst);
  const void *conf = sy_instance_config(inst);
  size_t limit =
      g->cfg->stage && *g->cfg->stage ? SIZE_MAX / 4 : (size_t)g->cfg->limit;
  char dest[4096];
  for (const sy_option *o = prov->options; o && o->name; o++) {
    if (o->type != SY_OPT_PATH)
      continue;
    const char *path = *(const char *const *)((const char *)conf + o->offset);
    if (!path || !*path)
      continue;
    char *file = NULL;
    const char *name = NULL, *csv_table = NULL;
    struct stat st;
    if (strcmp(prov->name, "csv") == 0 && strcmp(o->name, "path") == 0) {
      /* the csv feed: a folder with one <table>.csv per table */
      const char *table = csv_table = sy_job_feed_table(g->job, s);
      size_t len = strlen(path) + strlen(table) + 8;
      if (!(file = malloc(len)))
        return sy_error_set(err, SY_ENOMEM, "out of memory");
      snprintf(file, len, "%s/%s.csv", path, table);
      name = base_name(file);
    } else if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
      /* one file travels as it is: an SQLite database in WAL mode keeps
       * its last commits in FILE-wal until a checkpoint */
      char wal[4200];
      snprintf(wal, sizeof wal, "%s-wal", path);
      if (strcmp(prov->name, "sqlite") == 0 && stat(wal, &st) == 0 &&
          st.st_size > 0)
        return sy_error_set(err, SY_ECONFIG,
                            "runner.argo: [FEED.%s] %s = %s: the database "
                            "has commits in %s that are not in the file "
                            "yet; checkpoint it first (sqlite3 %s 'PRAGMA "
                            "wal_checkpoint(TRUNCATE)')",
                            feed, o->name, path, wal, path);
      if (!(file = strdup(path)))
        return sy_error_set(err, SY_ENOMEM, "out of memory");
      name = base_name(file);
    } else if (stat(path, &st) == 0 && S_ISDIR(st.st_mode) && g->cfg->stage &&
               *g->cfg->stage) {
      /* stage = DIR: the folder is written there whole */
      if (strchr(feed, '/') || feed[0] == '.' || base_name(path)[0] == '.')
        return sy_error_set(err, SY_ENOTSUP,
                            "runner.argo: [FEED.%s] %s = %s: a name that "
                            "starts with '.' cannot be staged",
                            feed, o->name, path);
      snprintf(dest, sizeof dest, "data/%s/%s", feed, base_name(path));
      int rc = ship_folder(g, path, dest, 0, err);
      if (rc)
        return sy_error_prefix(err, "runner.argo: [FEED.%s] %s = %s", feed,
                               o->name, path),
               rc;
      continue;
    } else {
      int folder = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
      return sy_error_set(
          err, SY_ECONFIG,
          "runner.argo: [FEED.%s] %s = %s (provider %s) %s: only one file "
          "(a database file, a table file), or a csv feed's tables, can "
          "travel inside the Workflow; set stage = DIR (e.g. -o "
          "RUNNER.k8s.stage=staged), which writes %s with the program to "
          "DIR for you to copy to the volume's root",
          feed, o->name, path, prov->name,
          folder ? "names a folder" : "names no file here",
          folder ? "the folder" : "the data");
    }
    /* the names become folders on the volume: none may leave RUN */
    if (strchr(feed, '/') || feed[0] == '.' || name[0] == '.' ||
        (csv_table && strchr(csv_table, '/'))) {
      sy_error_set(err, SY_ENOTSUP,
                   "runner.argo: [FEED.%s] %s: a table in a subfolder, or "
                   "a name that starts with '.', cannot travel in the "
                   "Workflow; not supported yet",
                   feed, file);
      free(file);
      return SY_ENOTSUP;
    }
    snprintf(dest, sizeof dest, "data/%s/%s", feed, name);
    int dup = 0;
    for (size_t i = 0; i < g->files.n; i++)
      dup |= strcmp(g->files.v[i].dest, dest) == 0;
    void *data = NULL;
    size_t len = 0;
    int rc = dup ? 0 : sy_file_read(file, limit, &data, &len, err);
    if (rc == SY_ETOOBIG)
      rc = sy_error_set(err, SY_ECONFIG,
                        "runner.argo: [FEED.%s] %s is larger than the "
                        "Workflow's limit of %llu bytes, and the feed's data "
                        "travels in the Workflow; set stage = DIR (e.g. -o "
                        "RUNNER.k8s.stage=DIR), which writes it to DIR for "
                        "you to copy to the volume instead",
                        feed, file, (unsigned long long)g->cfg->limit);
    free(file);
    if (rc == SY_ECONFIG)
      return rc;
    if (rc)
      return sy_error_prefix(err, "runner.argo: [FEED.%s]", feed), rc;
    if (!dup && (rc = ship_add(&g->files, dest, data, len, 0)) != 0) {
      free(data);
      return sy_error_set(err, rc, "out of memory");
    }
  }
  return 0;
}

/* [KIND.name] with every key as the effective config has it, but the
 * path options, which are written for every path the instance resolved
 * (set or default): a FEED's point at its data under RUN/data/<name>, a
 * SINK's at RUN/out/<name>. */
static int write_section(gen *g, sy_kind kind, const char *name,
                         const sy_instance *inst, sy_error *err) {
  const sy_config *cfg = sy_platform_config(sy_job_platform(g->job));
  const sy_provider *prov = sy_instance_provider(inst);
  const void *conf = sy_instance_config(inst);
  char sec[256];
  snprintf(sec, sizeof sec, "%s.%s", sy_kind_name(kind), name);
  for (char *c = sec; *c && *c != '.'; c++)
    if (*c >= 'a' && *c <= 'z')
      *c = (char)(*c - 'a' + 'A');
  sy_buf_printf(&g->ini, "\n[%s]\nprovider = %s\n", sec, prov->name);
  size_t nk = sy_config_key_count(cfg, sec);
  for (size_t i = 0; i < nk; i++) {
    const char *key = sy_config_key_at(cfg, sec, i);
    const char *value = key ? sy_config_get(cfg, sec, key, NULL) : NULL;
    if (!key || !value || strcmp(key, "provider") == 0 ||
        is_path_option(prov, key))
      continue;
    if (strchr(value, '\n') || strchr(value, '\r'))
      return sy_error_set(err, SY_ECONFIG,
                          "runner.argo: [%s] %s spans lines; it cannot be "
                          "written to the tasks' config",
                          sec, key);
    sy_buf_printf(&g->ini, "%s = %s\n", key, value);
  }
  for (const sy_option *o = prov->options; o && o->name; o++) {
    if (o->type != SY_OPT_PATH)
      continue;
    const char *value = *(const char *const *)((const char *)conf + o->offset);
    if (!value || !*value)
      continue;
    const char *what = kind == SY_KIND_FEED ? "data" : "out";
    /* a csv feed's path is a folder: the folder itself */
    int folder = kind == SY_KIND_FEED && strcmp(prov->name, "csv") == 0 &&
                 strcmp(o->name, "path") == 0;
    /* relative to the config file's folder, RUN: the config holds no
     * mount path, so the same files work wherever the volume is */
    sy_buf_printf(&g->ini, "%s = %s/%s%s%s\n", o->name, what, name,
                  folder ? "" : "/", folder ? "" : base_name(value));
    if (kind == SY_KIND_SINK) {
      char dest[512];
      snprintf(dest, sizeof dest, "out/%s", name);
      if (ship_add(&g->files, dest, NULL, 0, 1) != 0)
        return sy_error_set(err, SY_ENOMEM, "out of memory");
    }
  }
  return 0;
}

/* The FEED and SINK instances the program names, their sections and the
 * feeds' data. */
static int ship_instances(gen *g, int data_only, sy_error *err) {
  sy_platform *p = sy_job_platform(g->job);
  const sy_config *cfg = sy_platform_config(p);
  sy_catalog *cat = sy_platform_catalog(p);
  size_t n = sy_job_size(g->job);
  char **names = calloc(n ? n : 1, sizeof *names);
  size_t nn = 0;
  int rc = names ? 0 : sy_error_set(err, SY_ENOMEM, "out of memory");
  for (size_t s = 0; rc == 0 && s < n; s++) {
    sy_op op = sy_job_step_op(g->job, s);
    if (op != SY_OP_FEED && op != SY_OP_SINK)
      continue;
    sy_kind kind = op == SY_OP_FEED ? SY_KIND_FEED : SY_KIND_SINK;
    const char *name = sy_job_step_target(g->job, s);
    sy_instance *inst = NULL;
    if ((rc = sy_instance_create(cfg, cat, kind, name, &inst, err)) != 0)
      break;
    if (op == SY_OP_FEED && data_only)
      rc = ship_feed_data(g, name, inst, s, err);
    char key[300];
    snprintf(key, sizeof key, "%d.%s", (int)kind, name);
    if (rc == 0 && !data_only && !seen(names, nn, key)) {
      if (!(names[nn] = strdup(key)))
        rc = sy_error_set(err, SY_ENOMEM, "out of memory");
      else
        nn++;
      if (rc == 0)
        rc = write_section(g, kind, name, inst, err);
    }
    sy_instance_destroy(inst);
  }
  for (size_t i = 0; i < nn; i++)
    free(names[i]);
  free(names);
  return rc;
}

/* An apply program: the trained states its LOAD steps read (from a state
 * file or a registry generation of this machine) travel as RUN/states,
 * which every task's `exec --state` reads instead. */
static int ship_states(gen *g, sy_error *err) {
  sy_value *bundle = NULL;
  int rc = sy_job_loaded_states(g->job, &bundle, err);
  if (rc || !bundle)
    return rc;
  size_t len = 0;
  const void *bytes = sy_bytes_data(bundle, &len);
  char *copy = malloc(len ? len : 1);
  if (!bytes || !copy) {
    free(copy);
    sy_value_unref(bundle);
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  }
  memcpy(copy, bytes, len);
  sy_value_unref(bundle);
  if (ship_add(&g->files, "states", copy, len, 0) != 0) {
    free(copy);
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  }
  snprintf(g->state_rel, sizeof g->state_rel, "states");
  return 0;
}

/* A train program with --state FILE: the commit task writes the states to
 * RUN/trained/<FILE's name> on the volume (the folder travels, empty). */
static int ship_commit(gen *g, const char *file, sy_error *err) {
  const char *name = base_name(file);
  if (!*name || name[0] == '.' || strlen(name) > 200)
    return sy_error_set(err, SY_ECONFIG,
                        "runner.argo: --state %s: the state file's name "
                        "names the file the commit task writes on the "
                        "volume; give one that does not start with '.' "
                        "(and under 200 bytes)",
                        file);
  if (ship_add(&g->files, "trained", NULL, 0, 1) != 0)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  snprintf(g->state_rel, sizeof g->state_rel, "trained/%s", name);
  return 0;
}

/* The program file's bytes: sy_program_save writes files only, so through
 * a private temporary folder. */
static int program_bytes(const sy_job *job, char **data, size_t *len,
                         sy_error *err) {
  const char *tmp = getenv("TMPDIR");
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/switchyard-argo.XXXXXX",
           tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(dir))
    return sy_error_set(err, SY_EIO,
                        "runner.argo: cannot make a temporary folder %s: %s",
                        dir, strerror(errno));
  char file[4200];
  snprintf(file, sizeof file, "%s/program", dir);
  int rc = sy_program_save(sy_job_program(job), file, err);
  void *buf = NULL;
  if (rc == 0)
    rc = sy_file_read(file, SIZE_MAX / 4, &buf, len, err);
  unlink(file);
  rmdir(dir);
  *data = buf;
  return rc;
}

static int build_ini(gen *g, sy_error *err) {
  const sy_config *cfg = sy_platform_config(sy_job_platform(g->job));
  const char *cache = sy_config_get(cfg, "PLATFORM", "cache", NULL);
  /* off would make exec refuse: the storage is the transport */
  if (!cache || strcmp(cache, "off") == 0)
    cache = "write";
  sy_buf_printf(&g->ini,
                "; written by switchyard's runner-argo: the config of the "
                "Workflow's tasks\n[PLATFORM]\nstorage = volume\ncache = "
                "%s\n",
                cache);
  static const char *const keep[] = {"feed", "sink", "log_level", NULL};
  for (const char *const *k = keep; *k; k++) {
    const char *v = sy_config_get(cfg, "PLATFORM", *k, NULL);
    if (v && *v)
      sy_buf_printf(&g->ini, "%s = %s\n", *k, v);
  }
  /* MOUNT/store, relative to RUN = MOUNT/runs/<hash> */
  sy_buf_puts(&g->ini, "\n[STORAGE.volume]\nprovider = file\npath = "
                       "../../store\n");
  int rc = ship_instances(g, 0, err);
  if (rc == 0 && g->ini.failed)
    rc = sy_error_set(err, SY_ENOMEM, "out of memory");
  return rc;
}

/* ---- the Workflow ----------------------------------------------------------
 */

static const char *const stage_script =
    "set -e; while [ \"$#\" -ge 2 ]; do if [ \"$1\" = - ]; then "
    "mkdir -p \"$2\"; else mkdir -p \"$(dirname \"$2\")\"; base64 -d \"$1\" "
    "> \"$2.part\"; mv \"$2.part\" \"$2\"; fi; shift 2; done";

static const char *const chain_script =
    "c=$1 p=$2; shift 2; for s in \"$@\"; do \"$0\" -c \"$c\" exec \"$p\" "
    "--step \"$s\" || exit; done";

/* the same, with exec --state "$3" */
static const char *const chain_state_script =
    "c=$1 p=$2 t=$3; shift 3; for s in \"$@\"; do \"$0\" -c \"$c\" exec "
    "\"$p\" --state \"$t\" --step \"$s\" || exit; done";

#define STAGE_DIR "/tmp/switchyard-stage"

static void unit_name(const sy_job *job, const units *u, size_t k, int chain,
                      char *out, size_t cap) {
  size_t s = u->first[k];
  char raw[256], dns[48];
  sy_op op = sy_job_step_op(job, s);
  snprintf(raw, sizeof raw, "%s-%s", sy_op_name(op),
           op == SY_OP_FEED || op == SY_OP_SINK ? sy_job_step_target(job, s)
                                                : sy_job_step_node(job, s));
  argo_dns_name(raw, dns, 40);
  snprintf(out, cap, "%s%zu-%s", chain ? "c" : "s", chain ? k : s, dns);
}

static void list_item(sy_buf *b, int depth, const char *value) {
  argo_yaml_indent(b, depth);
  sy_buf_puts(b, "- ");
  argo_yaml_str(b, value);
  sy_buf_puts(b, "\n");
}

/* image, pull policy, workingDir and the volume mount of a container. */
static void container_head(const gen *g, sy_buf *b, int d) {
  argo_yaml_kv(b, d, "image", g->cfg->image);
  argo_yaml_kv(b, d, "imagePullPolicy", pull_policies[g->cfg->pull_policy]);
}

static void container_mount(const gen *g, sy_buf *b, int d) {
  argo_yaml_indent(b, d);
  sy_buf_puts(b, "volumeMounts:\n");
  argo_yaml_indent(b, d);
  sy_buf_puts(b, "  - name: \"work\"\n");
  argo_yaml_kv(b, d + 2, "mountPath", *g->mount ? g->mount : "/");
}

static void stage_template(const gen *g, sy_buf *b) {
  sy_buf_puts(b, "    - name: \"stage\"\n      inputs:\n        artifacts:\n");
  char name[32], path[128];
  for (size_t i = 0; i < g->files.n; i++) {
    if (g->files.v[i].dir)
      continue;
    snprintf(name, sizeof name, "file-%zu", i);
    snprintf(path, sizeof path, STAGE_DIR "/%zu.b64", i);
    sy_buf_puts(b, "          - name: ");
    argo_yaml_str(b, name);
    sy_buf_puts(b, "\n");
    argo_yaml_kv(b, 6, "path", path);
    sy_buf_puts(b, "            raw:\n              data: \"");
    argo_base64(b, g->files.v[i].data, g->files.v[i].len);
    sy_buf_puts(b, "\"\n");
  }
  sy_buf_puts(b, "      container:\n");
  container_head(g, b, 4);
  sy_buf_puts(b, "        command:\n");
  list_item(b, 5, "sh");
  list_item(b, 5, "-c");
  list_item(b, 5, stage_script);
  list_item(b, 5, "stage");
  sy_buf_puts(b, "        args:\n");
  char dest[4096];
  for (size_t i = 0; i < g->files.n; i++) {
    snprintf(path, sizeof path, STAGE_DIR "/%zu.b64", i);
    snprintf(dest, sizeof dest, "%s/%s/%s", g->mount, g->run_dir,
             g->files.v[i].dest);
    list_item(b, 5, g->files.v[i].dir ? "-" : path);
    list_item(b, 5, dest);
  }
  container_mount(g, b, 4);
}

/* What one task asks of Kubernetes: the steps' resources (sy_job_step_
 * resources), unset fields taking the runner's options. */
typedef struct task_needs {
  uint32_t cpus, gpus;
  uint64_t memory;    /* bytes */
  int64_t retries;    /* 0: none */
  uint64_t timeout_s; /* 0: none */
} task_needs;

/* A unit runs its steps one after the other in one container: it needs
 * the most cpus, memory and GPUs any of them asks for, the most retries,
 * and the sum of their timeouts (none when one step has none). */
static void unit_needs(const gen *g, const units *u, size_t k,
                       task_needs *need) {
  const argo_config *c = g->cfg;
  memset(need, 0, sizeof *need);
  uint64_t def_timeout =
      c->timeout > 0 ? (uint64_t)((c->timeout + 999999999) / 1000000000) : 0;
  int unlimited = 0;
  for (size_t s = u->first[k]; s < sy_job_size(g->job); s++) {
    if (u->of[s] != k)
      continue;
    sy_step_resources r;
    memset(&r, 0, sizeof r);
    r.size = sizeof r;
    if (sy_job_step_resources(g->job, s, &r) != 0) {
      r.retries = -1;
      r.timeout = 0;
    }
    if (r.cpus > need->cpus)
      need->cpus = r.cpus;
    if (r.gpus > need->gpus)
      need->gpus = r.gpus;
    if (r.memory > need->memory)
      need->memory = r.memory;
    int64_t retries = r.retries >= 0 ? r.retries : c->retries;
    if (retries > need->retries)
      need->retries = retries;
    uint64_t t = r.timeout ? r.timeout : def_timeout;
    if (t == 0)
      unlimited = 1;
    need->timeout_s += t;
  }
  if (unlimited)
    need->timeout_s = 0;
}

/* A Kubernetes quantity for bytes: "4Gi", "512Mi", or plain bytes. */
static void quantity(uint64_t bytes, char *out, size_t cap) {
  static const char *const units_[] = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  int unit = -1;
  while (unit < 5 && bytes >= 1024 && bytes % 1024 == 0) {
    bytes /= 1024;
    unit++;
  }
  snprintf(out, cap, "%llu%s", (unsigned long long)bytes,
           unit < 0 ? "" : units_[unit]);
}

static void step_template(const gen *g, sy_buf *b, const units *u, size_t k,
                          const char *name) {
  const argo_config *c = g->cfg;
  char prog[4200], ini[4200], wd[4096], num[32], state[4400];
  snprintf(wd, sizeof wd, "%s/%s", g->mount, g->run_dir);
  snprintf(prog, sizeof prog, "%s/program", wd);
  snprintf(ini, sizeof ini, "%s/switchyard.ini", wd);
  snprintf(state, sizeof state, "%s/%s", wd, g->state_rel);
  int with_state = g->state_rel[0] != '\0';
  task_needs need;
  unit_needs(g, u, k, &need);
  sy_buf_puts(b, "    - name: ");
  argo_yaml_str(b, name);
  sy_buf_puts(b, "\n");
  if (need.retries > 0)
    sy_buf_printf(b, "      retryStrategy:\n        limit: \"%lld\"\n",
                  (long long)need.retries);
  if (need.timeout_s > 0)
    sy_buf_printf(b, "      activeDeadlineSeconds: \"%llu\"\n",
                  (unsigned long long)need.timeout_s);
  sy_buf_puts(b, "      container:\n");
  container_head(g, b, 4);
  argo_yaml_kv(b, 4, "workingDir", wd);
  if (need.cpus || need.memory || need.gpus) {
    /* requests = limits: the pod gets what the step asked for, no more
     * (Kubernetes' Guaranteed class when cpus and memory are both set) */
    char mem[32];
    quantity(need.memory, mem, sizeof mem);
    sy_buf_puts(b, "        resources:\n");
    for (int lim = 0; lim < 2; lim++) {
      sy_buf_puts(b, lim ? "          limits:\n" : "          requests:\n");
      if (need.cpus)
        sy_buf_printf(b, "            cpu: \"%u\"\n", need.cpus);
      if (need.memory)
        sy_buf_printf(b, "            memory: \"%s\"\n", mem);
      if (need.gpus) {
        argo_yaml_indent(b, 6);
        argo_yaml_str(b, c->gpu_resource);
        sy_buf_printf(b, ": \"%u\"\n", need.gpus);
      }
    }
  }
  sy_buf_puts(b, "        command:\n");
  if (u->count[k] == 1) {
    snprintf(num, sizeof num, "%u", u->first[k]);
    static const char *const mid[] = {"-c", NULL, "exec", NULL, "--step"};
    list_item(b, 5, c->command);
    for (size_t i = 0; i < 4; i++)
      list_item(b, 5, i == 1 ? ini : i == 3 ? prog : mid[i]);
    if (with_state) {
      list_item(b, 5, "--state");
      list_item(b, 5, state);
    }
    list_item(b, 5, mid[4]);
    list_item(b, 5, num);
  } else {
    list_item(b, 5, "sh");
    list_item(b, 5, "-c");
    list_item(b, 5, with_state ? chain_state_script : chain_script);
    sy_buf_puts(b, "        args:\n");
    list_item(b, 5, c->command);
    list_item(b, 5, ini);
    list_item(b, 5, prog);
    if (with_state)
      list_item(b, 5, state);
    for (size_t s = u->first[k]; s < sy_job_size(g->job); s++) {
      if (u->of[s] != k)
        continue;
      snprintf(num, sizeof num, "%zu", s);
      list_item(b, 5, num);
    }
  }
  container_mount(g, b, 4);
}

/* The tasks' names, one per unit (80 bytes each), or NULL. */
static char **make_names(const sy_job *job, const units *u, int chain) {
  char **names = calloc(u->n ? u->n : 1, sizeof *names);
  for (size_t k = 0; names && k < u->n; k++) {
    if (!(names[k] = malloc(80))) {
      while (k-- > 0)
        free(names[k]);
      free(names);
      return NULL;
    }
    unit_name(job, u, k, chain, names[k], 80);
  }
  return names;
}

static void free_names(char **names, size_t n) {
  for (size_t k = 0; names && k < n; k++)
    free(names[k]);
  free(names);
}

static int build_yaml(gen *g, const units *u, char *const *names, int staged,
                      sy_buf *b, sy_error *err) {
  const argo_config *c = g->cfg;
  size_t n = sy_job_size(g->job);
  const char *flow = sy_program_name(sy_job_program(g->job));
  char gen_name[48];
  argo_dns_name(*flow ? flow : "switchyard", gen_name, 40);
  sy_buf_puts(b, "apiVersion: \"argoproj.io/v1alpha1\"\nkind: \"Workflow\"\n"
                 "metadata:\n");
  sy_buf_printf(b, "  generateName: \"%s-\"\n", gen_name);
  if (*c->namespace_)
    argo_yaml_kv(b, 1, "namespace", c->namespace_);
  sy_buf_puts(b, "  labels:\n");
  argo_yaml_kv(b, 2, "switchyard/flow", gen_name);
  sy_buf_puts(b, "spec:\n  entrypoint: \"main\"\n");
  if (*c->service_account)
    argo_yaml_kv(b, 1, "serviceAccountName", c->service_account);
  sy_buf_puts(b, "  volumes:\n    - name: \"work\"\n"
                 "      persistentVolumeClaim:\n");
  argo_yaml_kv(b, 4, "claimName", c->volume);
  sy_buf_puts(b, "  templates:\n    - name: \"main\"\n      dag:\n");
  if (c->keep_going)
    sy_buf_puts(b, "        failFast: false\n");
  sy_buf_puts(b, "        tasks:\n");
  if (!staged)
    sy_buf_puts(b, "          - name: \"stage\"\n"
                   "            template: \"stage\"\n");
  for (size_t k = 0; k < u->n; k++) {
    sy_buf_puts(b, "          - name: ");
    argo_yaml_str(b, names[k]);
    sy_buf_puts(b, "\n            template: ");
    argo_yaml_str(b, names[k]);
    sy_buf_puts(b, "\n");
    /* the units this one reads, each once: inputs of any of its steps
     * from another unit */
    sy_buf deps = SY_BUF_INIT;
    uint8_t *mark = calloc(u->n, 1);
    if (!mark) {
      deps.failed = 1;
    } else {
      for (size_t s = u->first[k]; s < n; s++) {
        if (u->of[s] != k)
          continue;
        const uint32_t *in = NULL;
        size_t m = sy_job_step_inputs(g->job, s, &in);
        for (size_t i = 0; i < m; i++) {
          uint32_t d = u->of[in[i]];
          if (d == k || mark[d])
            continue;
          mark[d] = 1;
          sy_buf_printf(&deps, "%s%s", deps.len ? " && " : "", names[d]);
        }
      }
      free(mark);
    }
    if (deps.len == 0 && !staged)
      sy_buf_puts(&deps, "stage");
    if (deps.failed)
      b->failed = 1;
    if (deps.len)
      argo_yaml_kv(b, 6, "depends", deps.data);
    sy_buf_free(&deps);
  }
  if (!staged)
    stage_template(g, b);
  for (size_t k = 0; k < u->n; k++)
    step_template(g, b, u, k, names[k]);
  if (b->failed)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  return 0;
}

/* ---- output ----------------------------------------------------------------
 */

/* "-" is stdout; a "-" set in a config file arrives as "folder/-". */
static int is_stdout(const char *file) {
  size_t n = file ? strlen(file) : 0;
  return n == 0 || strcmp(file, "-") == 0 ||
         (n >= 2 && strcmp(file + n - 2, "/-") == 0);
}

/* mkdir -p of path's folder (the path itself when dir). */
static int make_dirs(const char *path, int dir, sy_error *err) {
  char *p = strdup(path);
  if (!p)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  if (!dir) {
    char *slash = strrchr(p, '/');
    if (!slash) {
      free(p);
      return 0;
    }
    *slash = '\0';
  }
  for (char *c = p + 1;; c++) {
    if (*c == '/' || *c == '\0') {
      char save = *c;
      *c = '\0';
      if (mkdir(p, 0777) != 0 && errno != EEXIST) {
        int e = errno;
        int rc = sy_error_set(err, sy_code_from_errno(e),
                              "runner.argo: cannot make the folder %s: %s", p,
                              strerror(e));
        free(p);
        return rc;
      }
      *c = save;
      if (!save)
        break;
    }
  }
  free(p);
  return 0;
}

static int write_stage(const gen *g, const char *stage, sy_error *err) {
  char path[8192];
  for (size_t i = 0; i < g->files.n; i++) {
    const shipped *f = &g->files.v[i];
    snprintf(path, sizeof path, "%s/%s/%s", stage, g->run_dir, f->dest);
    int rc = make_dirs(path, f->dir, err);
    if (rc == 0 && !f->dir)
      rc = sy_file_write(path, f->data, f->len, err);
    if (rc)
      return sy_error_prefix(err, "runner.argo: stage"), rc;
  }
  fprintf(stderr,
          "switchyard: staged %s/%s for the volume: copy %s's contents to "
          "the root of volume claim %s before submitting the Workflow\n",
          stage, g->run_dir, stage, g->cfg->volume);
  return 0;
}

static int argo_run(void *self, sy_job *job, sy_error *err) {
  const argo_config *c = self;
  /* The steps run on the cluster, not here. */
  sy_job_skip_run_check(job);
  size_t n = sy_job_size(job);
  int loads = 0, commits = 0;
  for (size_t s = 0; s < n; s++) {
    sy_op op = sy_job_step_op(job, s);
    loads |= op == SY_OP_LOAD;
    commits |= op == SY_OP_COMMIT;
  }
  const sy_program *program = sy_job_program(job);
  if (commits && *sy_program_origin(program))
    /* the commit would go to a registry instance of this machine's
     * config, which the cluster's tasks cannot reach */
    return sy_error_set(err, SY_ENOTSUP,
                        "runner.argo: training into the registry (%s) is "
                        "not supported yet under -R k8s: the Workflow's "
                        "tasks cannot reach this machine's registry; train "
                        "the flow with --state FILE instead (`switchyard "
                        "-R k8s train FLOW --state FILE`: the commit task "
                        "writes FILE's name on the volume), or train "
                        "locally",
                        sy_program_origin(program));
  if (c->mount[0] != '/')
    return sy_error_set(err, SY_ECONFIG,
                        "runner.argo: mount = %s is not an absolute path",
                        c->mount);
  int staged = c->stage && *c->stage;
  gen g;
  memset(&g, 0, sizeof g);
  g.cfg = c;
  g.job = job;
  g.ini = (sy_buf)SY_BUF_INIT;
  char *mount = strdup(c->mount);
  if (!mount)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  for (size_t len = strlen(mount); len > 0 && mount[len - 1] == '/';)
    mount[--len] = '\0';
  g.mount = mount;
  units u;
  memset(&u, 0, sizeof u);
  sy_buf yaml = SY_BUF_INIT;
  char *prog = NULL, *tmpfile = NULL;
  size_t prog_len = 0;
  int rc = program_bytes(job, &prog, &prog_len, err);
  if (rc == 0 && (rc = ship_add(&g.files, "program", prog, prog_len, 0)) != 0)
    sy_error_set(err, rc, "out of memory");
  else if (rc == 0)
    prog = NULL;
  if (rc == 0 && loads)
    rc = ship_states(&g, err);
  else if (rc == 0 && commits && sy_job_commit_file(job))
    rc = ship_commit(&g, sy_job_commit_file(job), err);
  if (rc == 0)
    rc = ship_instances(&g, 1, err);
  if (rc == 0) {
    /* RUN is named after what travels, so Workflows of different programs
     * or data never share a folder, and the same one reuses it. */
    sy_hasher *h = NULL;
    if ((rc = sy_hasher_new(&h)) != 0) {
      sy_error_set(err, rc, "out of memory");
    } else {
      for (size_t i = 0; i < g.files.n; i++) {
        sy_hasher_update(h, g.files.v[i].dest, strlen(g.files.v[i].dest) + 1);
        sy_hasher_update(h, g.files.v[i].data, g.files.v[i].len);
      }
      uint8_t d[SY_HASH_SIZE];
      sy_hasher_digest(h, d);
      sy_hasher_free(h);
      snprintf(g.run_dir, sizeof g.run_dir, "runs/");
      for (size_t i = 0; i < 8; i++)
        snprintf(g.run_dir + 5 + 2 * i, 3, "%02x", d[i]);
    }
  }
  if (rc == 0)
    rc = build_ini(&g, err);
  if (rc == 0) {
    char *ini = malloc(g.ini.len + 1);
    if (!ini ||
        (memcpy(ini, g.ini.data, g.ini.len + 1),
         (rc = ship_add(&g.files, "switchyard.ini", ini, g.ini.len, 0)) != 0)) {
      free(ini);
      rc = sy_error_set(err, SY_ENOMEM, "out of memory");
    }
  }
  if (rc == 0)
    rc = make_units(job, c->granularity == GRAN_CHAIN, &u, err);
  char **names = NULL;
  if (rc == 0 && !(names = make_names(job, &u, c->granularity == GRAN_CHAIN)))
    rc = sy_error_set(err, SY_ENOMEM, "out of memory");
  if (rc == 0)
    rc = build_yaml(&g, &u, names, staged, &yaml, err);
  if (rc == 0 && !staged && yaml.len > c->limit)
    rc = sy_error_set(err, SY_ECONFIG,
                      "runner.argo: the Workflow would be %zu bytes, past "
                      "the limit of %llu (Kubernetes refuses objects past "
                      "about 1 MiB): the program and the feed's data travel "
                      "in it; set stage = DIR (e.g. -o RUNNER.k8s.stage=DIR), "
                      "which writes them to DIR for you to copy to the "
                      "volume instead",
                      yaml.len, (unsigned long long)c->limit);
  if (rc == 0 && staged)
    rc = write_stage(&g, c->stage, err);
  const char *file = c->output;
  if (rc == 0 && c->submit && is_stdout(c->output)) {
    const char *tmp = getenv("TMPDIR");
    size_t len = strlen(tmp && *tmp ? tmp : "/tmp") + 40;
    if (!(tmpfile = malloc(len))) {
      rc = sy_error_set(err, SY_ENOMEM, "out of memory");
    } else {
      snprintf(tmpfile, len, "%s/switchyard-wf.XXXXXX.yaml",
               tmp && *tmp ? tmp : "/tmp");
      int fd = mkstemps(tmpfile, 5);
      if (fd < 0) {
        rc = sy_error_set(err, SY_EIO, "runner.argo: cannot make %s: %s",
                          tmpfile, strerror(errno));
        free(tmpfile);
        tmpfile = NULL;
      } else {
        close(fd);
        file = tmpfile;
      }
    }
  }
  if (rc == 0 && !tmpfile && is_stdout(file)) {
    if (fwrite(yaml.data, 1, yaml.len, stdout) != yaml.len ||
        fflush(stdout) != 0)
      rc = sy_error_set(err, SY_EIO,
                        "runner.argo: cannot write the Workflow to stdout: "
                        "%s",
                        strerror(errno));
  } else if (rc == 0) {
    if ((rc = sy_file_write(file, yaml.data, yaml.len, err)) != 0)
      sy_error_prefix(err, "runner.argo: %s: cannot write the Workflow", file);
  }
  if (rc == 0 && commits && g.state_rel[0])
    fprintf(stderr,
            "switchyard: the Workflow's commit task writes the trained "
            "states to %s/%s/%s on volume claim %s; copy the file from "
            "there (`kubectl cp POD:%s/%s/%s FILE` from a pod that mounts "
            "the claim) and apply with `switchyard apply FLOW --state "
            "FILE`\n",
            *g.mount ? g.mount : "", g.run_dir, g.state_rel, c->volume,
            *g.mount ? g.mount : "", g.run_dir, g.state_rel);
  if (rc == 0 && c->submit) {
    argo_tasks tasks = {u.n, names, u.of};
    rc = argo_submit(job, file, c->poll, &tasks, err);
  }
  if (tmpfile) {
    unlink(tmpfile);
    free(tmpfile);
  }
  free(prog);
  free_names(names, u.n);
  units_free(&u);
  sy_buf_free(&yaml);
  sy_buf_free(&g.ini);
  ship_free(&g.files);
  free(mount);
  return rc;
}

static int argo_create(const void *config, void **self, sy_error *err) {
  argo_config *c = malloc(sizeof *c);
  if (!c)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  /* The strings stay the core's; they live until destroy. */
  *c = *(const argo_config *)config;
  *self = c;
  return 0;
}

static void argo_destroy(void *self) {
  free(self);
}

static const sy_runner_ops argo_ops = {
    .size = sizeof(sy_runner_ops),
    .run = argo_run,
    .resources =
        "cpus: the task's container resources.requests.cpu and limits.cpu "
        "(a chain task: the most any of its steps asks for)\n"
        "memory: resources.requests.memory and limits.memory, as Ki/Mi/Gi "
        "(a chain task: the most)\n"
        "gpus: requests and limits of `gpu_resource` (nvidia.com/gpu) (a "
        "chain task: the most)\n"
        "retries: the task's retryStrategy.limit, overriding the `retries` "
        "option (a chain task: the most)\n"
        "timeout: the task's activeDeadlineSeconds, overriding the `timeout` "
        "option (a chain task: the sum over its steps; none when one step "
        "has none)\n",
};

static const sy_provider argo_provider = {
    .size = sizeof(sy_provider),
    .kind = SY_KIND_RUNNER,
    .name = "argo",
    .version = "1.0.0",
    .description =
        "writes the program as an Argo Workflow, a task per step or chain "
        "running `switchyard exec` on a volume, and with submit = true "
        "submits it and waits. Handles run and apply programs (their trained "
        "states travel in the Workflow) and train --state FILE (the commit "
        "task writes the states on the volume, at the path the runner "
        "prints); training into a registry is not supported yet",
    .options = argo_options,
    .config_size = sizeof(argo_config),
    .create = argo_create,
    .destroy = argo_destroy,
    .ops = &argo_ops,
};

SY_PLUGIN_DEFINE("runner-argo", "1.0.0", &argo_provider)
