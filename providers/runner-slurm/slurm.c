/*
 * runner-slurm - runs a flow as Slurm batch jobs (`-R batch`).
 *
 * The program is saved into a folder of this run under `workdir`, which
 * the cluster's nodes must share with this machine, as they must share
 * the storage (a `file` storage): values move between jobs through it,
 * as `switchyard exec PROGRAM --step N` moves them. Each unit of steps
 * becomes one sbatch job running that command (granularity step: one
 * actor step and the GETs that pick its outputs; chain: a PURE unit of
 * the runner SDK's partition, sy_job_units(), one process for all of
 * its steps), unless every step of the unit is stored already
 * (sy_job_step_stored(): then no job, the steps are CACHED):
 *
 *   - LOCAL steps (feed, sink, commit, load, dump) and ROUTE steps whose
 *     input is here run in this process, with sy_job_exec_stored(), so a
 *     sink writes where the user ran the command;
 *   - a unit is submitted as soon as each of its inputs is done or being
 *     made by a submitted job, with --dependency=afterok on those jobs:
 *     Slurm starts it the moment they end, with no round trip through
 *     this process;
 *   - every `poll` the runner asks squeue for the state of its jobs (then
 *     scontrol, then sacct, for one squeue no longer lists) and reads each
 *     job's event log (`exec --log`), so that STARTED, DONE, CACHED,
 *     FAILED and notes reach this job's listeners (progress line, --log,
 *     --trace) as the steps run;
 *   - a failed job fails its step with the step's own error and the end
 *     of the job's stderr; the sy_sched policy decides: a retry submits
 *     the unit again, keep_going skips what is downstream; jobs submitted
 *     behind a failed one are cancelled and come back when their inputs
 *     are done again;
 *   - a cancel (Ctrl-C) scancels every job of the run and waits until
 *     Slurm has let them go.
 *
 * Slurm is driven through its commands, never libslurm (whose API is not
 * stable across Slurm versions), with argument vectors (proc.c).
 */
#include "slurm.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const granularities[] = {"step", "chain", NULL};

static const sy_option slurm_options[] = {
    {"partition", SY_OPT_STRING, 0, "", NULL, NULL, NULL,
     offsetof(slurm_config, partition),
     "Partition the jobs go to (sbatch --partition); empty: the cluster's "
     "default."},
    {"account", SY_OPT_STRING, 0, "", NULL, NULL, NULL,
     offsetof(slurm_config, account),
     "Account the jobs are charged to (sbatch --account); empty: yours."},
    {"sbatch_args", SY_OPT_STRING, 0, "", NULL, NULL, NULL,
     offsetof(slurm_config, sbatch_args),
     "More sbatch options for every job, split at spaces, no quoting "
     "(e.g. --qos=short --constraint=avx2); they come after the runner's "
     "own and win."},
    {"poll", SY_OPT_DURATION, 0, "1s", "10ms", "10m", NULL,
     offsetof(slurm_config, poll),
     "How often squeue is asked about the jobs and their logs are read."},
    {"workdir", SY_OPT_PATH, 0, "~/.cache/switchyard/slurm", NULL, NULL, NULL,
     offsetof(slurm_config, workdir),
     "A folder the cluster's nodes share with this machine: each run "
     "keeps its program, job script and job output in a folder there, "
     "removed when the run succeeds."},
    {"granularity", SY_OPT_ENUM, 0, "step", NULL, NULL, granularities,
     offsetof(slurm_config, granularity),
     "step: one job per actor step; chain: one job per chain of actor "
     "steps (the runner SDK's units, as -R k8s's tasks: an actor step "
     "joins the job of the actor steps it reads when all else it reads "
     "comes from feeds and every other reader of that job reads it too; "
     "fewer jobs, the same parallelism)."},
    {"keep_going", SY_OPT_BOOL, 0, "false", NULL, NULL, NULL,
     offsetof(slurm_config, keep_going),
     "After a failure, still run every step that does not depend on it."},
    {"retries", SY_OPT_INT, 0, "0", "0", "100", NULL,
     offsetof(slurm_config, retries),
     "How many times a failed job is submitted again before its step "
     "counts as failed."},
    {"backoff", SY_OPT_DURATION, 0, "1s", "0", "1h", NULL,
     offsetof(slurm_config, backoff),
     "Delay before the first resubmission; doubled for each further one."},
    {"command", SY_OPT_STRING, 0, "", NULL, NULL, NULL,
     offsetof(slurm_config, command),
     "The switchyard command the jobs run; empty: this program when it is "
     "switchyard, else `switchyard` on the jobs' PATH."},
    SY_OPTION_END};

/* ---- one run's state ------------------------------------------------- */

/* One submission: a Slurm job running some steps of one unit. */
typedef struct sub {
  char id[32];     /* Slurm's job id */
  uint32_t *steps; /* ascending */
  uint32_t n;
  uint32_t *deps; /* the submissions it waits for (afterok) */
  uint32_t n_deps;
  char *log; /* its `exec --log` */
  off_t log_off;
  int worker;
  bool active;  /* submitted and not settled */
  bool leaving; /* cancelled here; Slurm may not have let it go yet */
  bool started; /* Slurm ran it (RUNNING or later) */
  int unknown;  /* polls in a row in which no command knew it */
  int64_t failed_step;
  char *failed_msg; /* the step's error from the log */
  char state[32];   /* Slurm's last word on it */
} sub;

typedef struct run {
  const slurm_config *cfg;
  sy_job *job;
  sy_sched *S;
  size_t n;
  int32_t *unit_of; /* per step: its unit, or -1 (runs here) */
  uint32_t *ustart; /* unit u's steps: usteps[ustart[u] .. ustart[u+1]) */
  uint32_t *usteps;
  size_t n_units;
  int32_t *sub_of;  /* per step: the active submission running it, or -1 */
  uint8_t *started; /* per step: STARTED emitted for this attempt */
  uint8_t *in_set;  /* scratch, per step */
  uint8_t *workers; /* per worker number: in use */
  sub *subs;
  size_t n_subs, cap_subs;
  char *dir;     /* this run's folder */
  char *program; /* the saved program */
  char *script;  /* the job script */
  char *cwd;
  char **base; /* switchyard [-c FILE]... [-o S.K=V]... */
  size_t n_base;
  char **extra; /* sbatch_args, split */
  size_t n_extra;
  char *extra_text;
  const char *cache_mode;
} run;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Sleeps ns, in slices that notice a cancel. */
static void nap(sy_job *job, int64_t ns) {
  while (ns > 0 && !sy_job_cancelled(job)) {
    int64_t slice = ns < 50000000 ? ns : 50000000;
    struct timespec ts = {(time_t)(slice / 1000000000),
                          (long)(slice % 1000000000)};
    nanosleep(&ts, NULL);
    ns -= slice;
  }
}

static char *xprintf(const char *fmt, ...) SY_PRINTF(1, 2);
static char *xprintf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = NULL;
  if (vasprintf(&s, fmt, ap) < 0)
    s = NULL;
  va_end(ap);
  return s;
}

/* An argument vector being built; any failed allocation shows at the
 * end as ok == false. */
typedef struct argv_b {
  char **v;
  size_t n, cap;
  bool ok;
  char **owned; /* strings built for it, freed with it */
  size_t n_owned, cap_owned;
} argv_b;

static void arg(argv_b *a, const char *s) {
  if (!s) {
    a->ok = false;
    return;
  }
  if (a->n + 2 > a->cap) {
    size_t cap = a->cap ? a->cap * 2 : 32;
    char **v = realloc(a->v, cap * sizeof *v);
    if (!v) {
      a->ok = false;
      return;
    }
    a->v = v, a->cap = cap;
  }
  a->v[a->n++] = (char *)s;
  a->v[a->n] = NULL;
}

static void argf(argv_b *a, const char *fmt, ...) SY_PRINTF(2, 3);
static void argf(argv_b *a, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = NULL;
  if (vasprintf(&s, fmt, ap) < 0)
    s = NULL;
  va_end(ap);
  if (s && a->n_owned == a->cap_owned) {
    size_t cap = a->cap_owned ? a->cap_owned * 2 : 16;
    char **o = realloc(a->owned, cap * sizeof *o);
    if (!o) {
      free(s);
      s = NULL;
    } else {
      a->owned = o, a->cap_owned = cap;
    }
  }
  if (s)
    a->owned[a->n_owned++] = s;
  arg(a, s);
}

static void argv_free(argv_b *a) {
  for (size_t i = 0; i < a->n_owned; i++)
    free(a->owned[i]);
  free(a->owned);
  free(a->v);
}

/* ---- units: what one job runs ------------------------------------------ */

/* Unit u's steps are usteps[ustart[u] .. ustart[u + 1]). */
static size_t unit_size(const run *r, size_t u) {
  return r->ustart[u + 1] - r->ustart[u];
}

/* Cuts the program into units. granularity step: every actor (PURE)
 * step starts one, and a GET whose input is in a unit joins it (it only
 * picks an output of a value that is there). chain: the runner SDK's
 * partition (sy_job_units, its rule in runner.h), whose PURE units are
 * this runner's units: a chain of actor steps runs as one job, branches
 * that could run at once stay apart. Steps in no unit (the SDK's LOCAL
 * units) run here. Units are numbered in the SDK's topological order. */
static int make_units(run *r, sy_error *err) {
  size_t n = r->n;
  int32_t *u = r->unit_of;
  size_t nr = 0;
  if (r->cfg->granularity == SLURM_CHAIN) {
    uint32_t *of = malloc((n ? n : 1) * sizeof *of);
    size_t nsdk = of && n ? sy_job_units(r->job, of) : 0;
    int32_t *id = malloc((nsdk ? nsdk : 1) * sizeof *id);
    if (!of || !id || (n && !nsdk)) {
      free(of), free(id);
      return sy_error_set(err, SY_ENOMEM, "runner slurm: out of memory");
    }
    for (size_t k = 0; k < nsdk; k++)
      id[k] = sy_job_unit_class(r->job, k) == SY_STEP_PURE ? (int32_t)nr++ : -1;
    for (size_t s = 0; s < n; s++)
      u[s] = id[of[s]];
    free(of), free(id);
  } else {
    for (size_t s = 0; s < n; s++) {
      u[s] = -1;
      sy_step_class c = sy_job_step_class(r->job, s);
      const uint32_t *in;
      size_t na = sy_job_step_inputs(r->job, s, &in);
      if (c == SY_STEP_PURE)
        u[s] = (int32_t)nr++;
      else if (c == SY_STEP_ROUTE && na == 1 && u[in[0]] >= 0)
        u[s] = u[in[0]];
    }
  }
  r->n_units = nr;
  r->ustart = calloc(nr + 1, sizeof *r->ustart);
  r->usteps = malloc((n ? n : 1) * sizeof *r->usteps);
  if (!r->ustart || !r->usteps)
    return sy_error_set(err, SY_ENOMEM, "runner slurm: out of memory");
  for (size_t s = 0; s < n; s++)
    if (u[s] >= 0)
      r->ustart[u[s] + 1]++;
  for (size_t i = 0; i < nr; i++)
    r->ustart[i + 1] += r->ustart[i];
  uint32_t *fill = calloc(nr ? nr : 1, sizeof *fill);
  if (!fill)
    return sy_error_set(err, SY_ENOMEM, "runner slurm: out of memory");
  for (size_t s = 0; s < n; s++)
    if (u[s] >= 0)
      r->usteps[r->ustart[u[s]] + fill[u[s]]++] = (uint32_t)s;
  free(fill);
  return 0;
}

/* ---- events ------------------------------------------------------------ */

static void emit(run *r, const sub *b, sy_event_type t, size_t s, int code,
                 const char *msg) {
  sy_job_set_worker(b ? b->worker : -1);
  sy_job_emit(r->job, t, s, code, msg);
}

static void ensure_started(run *r, const sub *b, size_t s) {
  if (!r->started[s]) {
    r->started[s] = 1;
    emit(r, b, SY_EVENT_STARTED, s, 0, NULL);
  }
}

/* Step s of submission bi is done (its outputs are in the storage). */
static void step_done(run *r, size_t bi, size_t s, bool cached) {
  sub *b = &r->subs[bi];
  ensure_started(r, b, s);
  emit(r, b, cached ? SY_EVENT_CACHED : SY_EVENT_DONE, s, 0, NULL);
  r->sub_of[s] = -1;
  r->started[s] = 0;
  sy_sched_done(r->S, s);
}

/* Reads the lines submission bi's job added to its event log since the
 * last look and passes them on. A line still being written waits. */
static void read_log(run *r, size_t bi) {
  sub *b = &r->subs[bi];
  int fd = open(b->log, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return; /* not started yet */
  void *data = NULL;
  size_t len = 0;
  if (lseek(fd, b->log_off, SEEK_SET) != b->log_off ||
      sy_file_read_fd(fd, b->log, 64u << 20, &data, &len, NULL) != 0) {
    close(fd);
    return;
  }
  close(fd);
  char *p = data, *end = p + len;
  for (char *nl; p < end && (nl = memchr(p, '\n', (size_t)(end - p)));
       p = nl + 1) {
    json_t *ev = json_loadb(p, (size_t)(nl - p), 0, NULL);
    const char *what = json_string_value(json_object_get(ev, "event"));
    json_t *js = json_object_get(ev, "step");
    if (what && json_is_integer(js) && json_integer_value(js) >= 0 &&
        (size_t)json_integer_value(js) < r->n) {
      size_t s = (size_t)json_integer_value(js);
      if (r->sub_of[s] == (int32_t)bi) {
        if (strcmp(what, "started") == 0) {
          ensure_started(r, b, s);
        } else if (strcmp(what, "done") == 0) {
          step_done(r, bi, s, false);
        } else if (strcmp(what, "cached") == 0) {
          step_done(r, bi, s, true);
        } else if (strcmp(what, "failed") == 0) {
          const char *m = json_string_value(json_object_get(ev, "error"));
          free(b->failed_msg);
          b->failed_msg = strdup(m ? m : "");
          b->failed_step = (int64_t)s;
        } else if (strcmp(what, "note") == 0 || strcmp(what, "warning") == 0) {
          bool note = what[0] == 'n';
          const char *m =
              json_string_value(json_object_get(ev, note ? "note" : "warning"));
          if (m)
            emit(r, b, note ? SY_EVENT_NOTE : SY_EVENT_WARNING, s, 0, m);
        }
      }
    }
    json_decref(ev);
  }
  b->log_off += (off_t)(p - (char *)data);
  free(data);
}

/* ---- Slurm's view of the jobs ------------------------------------------ */

static bool state_is(const char *st, const char *const *list) {
  for (; *list; list++)
    if (strcmp(st, *list) == 0)
      return true;
  return false;
}

static const char *const st_ok[] = {"COMPLETED", NULL};
static const char *const st_bad[] = {"FAILED",        "CANCELLED", "TIMEOUT",
                                     "OUT_OF_MEMORY", "NODE_FAIL", "BOOT_FAIL",
                                     "DEADLINE",      "PREEMPTED", "REVOKED",
                                     "SPECIAL_EXIT",  NULL};
static const char *const st_waiting[] = {"PENDING",       "REQUEUED",
                                         "REQUEUE_HOLD",  "REQUEUE_FED",
                                         "RESV_DEL_HOLD", NULL};

static bool terminal(const char *st) {
  return state_is(st, st_ok) || state_is(st, st_bad);
}

/* The state of one job squeue did not list: scontrol (which knows jobs
 * for MinJobAge after they end), then sacct (when accounting is on).
 * Empty when neither knows it. */
static void ask_job(const char *id, char *st, size_t cap) {
  st[0] = '\0';
  sy_buf out = SY_BUF_INIT;
  char *sc[] = {"scontrol", "-o", "show", "job", (char *)id, NULL};
  if (slurm_cmd(sc, &out, NULL, NULL) == 0 && out.data) {
    const char *p = strstr(out.data, "JobState=");
    if (p) {
      p += strlen("JobState=");
      size_t k = strcspn(p, " \n");
      if (k < cap) {
        memcpy(st, p, k);
        st[k] = '\0';
      }
    }
  }
  if (!st[0]) {
    sy_buf_reset(&out);
    char *sa[] = {"sacct", "-n", "-X",       "-P", "-o",
                  "State", "-j", (char *)id, NULL};
    if (slurm_cmd(sa, &out, NULL, NULL) == 0 && out.data) {
      size_t k = strcspn(out.data, " \n"); /* "CANCELLED by 0" */
      if (k > 0 && k < cap) {
        memcpy(st, out.data, k);
        st[k] = '\0';
      }
    }
  }
  sy_buf_free(&out);
}

/* Asks squeue about every active submission at once and writes each one's
 * state into its sub (empty: squeue did not list it). */
static void ask_queue(run *r) {
  argv_b a = {.ok = true};
  arg(&a, "squeue");
  arg(&a, "-h");
  arg(&a, "-t");
  arg(&a, "all");
  arg(&a, "-o");
  arg(&a, "%i %T");
  sy_buf ids = SY_BUF_INIT;
  for (size_t i = 0; i < r->n_subs; i++)
    if (r->subs[i].active || r->subs[i].leaving) {
      r->subs[i].state[0] = '\0';
      sy_buf_printf(&ids, "%s%s", ids.len ? "," : "", r->subs[i].id);
    }
  if (!ids.len) {
    argv_free(&a);
    return;
  }
  arg(&a, "-j");
  arg(&a, ids.data);
  sy_buf out = SY_BUF_INIT;
  if (a.ok && !ids.failed && slurm_cmd(a.v, &out, NULL, NULL) == 0 &&
      out.data) {
    char *save = NULL;
    for (char *line = strtok_r(out.data, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
      char id[32], st[32];
      if (sscanf(line, "%31s %31s", id, st) != 2)
        continue;
      for (size_t i = 0; i < r->n_subs; i++)
        if ((r->subs[i].active || r->subs[i].leaving) &&
            strcmp(r->subs[i].id, id) == 0)
          snprintf(r->subs[i].state, sizeof r->subs[i].state, "%s", st);
    }
  }
  sy_buf_free(&out);
  sy_buf_free(&ids);
  argv_free(&a);
}

/* scancel of the given submissions; Slurm's answer does not matter (a job
 * that ended meanwhile cannot be cancelled and needs not be). */
static void scancel(run *r, const size_t *which, size_t n) {
  if (n == 0)
    return;
  argv_b a = {.ok = true};
  arg(&a, "scancel");
  for (size_t i = 0; i < n; i++) {
    arg(&a, r->subs[which[i]].id);
    r->subs[which[i]].leaving = true;
  }
  if (a.ok)
    slurm_cmd(a.v, NULL, NULL, NULL);
  argv_free(&a);
}

/* ---- settling submissions ---------------------------------------------- */

static void release_worker(run *r, sub *b) {
  if (b->worker >= 0)
    r->workers[b->worker] = 0;
  b->worker = -1;
}

/* Takes the not yet settled steps of submission bi back: they were not
 * attempted (their job was cancelled before it started, or they came
 * after the step that failed). */
static void untake_rest(run *r, size_t bi) {
  sub *b = &r->subs[bi];
  for (uint32_t i = 0; i < b->n; i++) {
    size_t s = b->steps[i];
    if (r->sub_of[s] != (int32_t)bi)
      continue;
    r->sub_of[s] = -1;
    r->started[s] = 0;
    sy_sched_untake(r->S, s);
  }
}

/* Cancels every active submission that waits for bi (afterok), and those
 * waiting for them: bi will not end well, so Slurm would never start
 * them. Their steps wait again; they are submitted anew once their inputs
 * are, or are skipped. */
static void drop_dependents(run *r, size_t bi) {
  size_t *todo = malloc((r->n_subs + 1) * sizeof *todo);
  size_t *gone = malloc((r->n_subs + 1) * sizeof *gone);
  if (!todo || !gone) {
    free(todo), free(gone);
    return;
  }
  size_t top = 0, n_gone = 0;
  todo[top++] = bi;
  while (top > 0) {
    size_t x = todo[--top];
    for (size_t c = 0; c < r->n_subs; c++) {
      sub *b = &r->subs[c];
      if (!b->active)
        continue;
      for (uint32_t k = 0; k < b->n_deps; k++)
        if (b->deps[k] == x) {
          b->active = false;
          release_worker(r, b);
          gone[n_gone++] = c;
          todo[top++] = c;
          break;
        }
    }
  }
  scancel(r, gone, n_gone);
  /* Untaken in submission order: upstream ones first, so that a skip
   * under keep_going reaches the steps downstream of them too. */
  for (size_t i = 0; i < n_gone; i++)
    untake_rest(r, gone[i]);
  free(todo), free(gone);
}

/* After a failure under fail-fast: jobs that did not start are cancelled
 * (nothing new starts); running ones are let finish. */
static void drop_waiting(run *r) {
  size_t *gone = malloc((r->n_subs + 1) * sizeof *gone);
  if (!gone)
    return;
  size_t n_gone = 0;
  for (size_t i = 0; i < r->n_subs; i++) {
    sub *b = &r->subs[i];
    if (b->active && !b->started) {
      b->active = false;
      release_worker(r, b);
      gone[n_gone++] = i;
    }
  }
  scancel(r, gone, n_gone);
  for (size_t i = 0; i < n_gone; i++)
    untake_rest(r, gone[i]);
  free(gone);
}

/* The last lines of a job's stderr (up to ~600 bytes), indented, for an
 * error message; "" when it wrote none. The line in which `switchyard
 * exec` reported the step's error (`skip`, already in the message) is
 * left out. */
static void stderr_tail(const run *r, const sub *b, const char *skip, char *out,
                        size_t cap) {
  out[0] = '\0';
  char *path = xprintf("%s/%s.err", r->dir, b->id);
  void *data = NULL;
  size_t len = 0;
  if (!path || sy_file_read(path, 16u << 20, &data, &len, NULL) != 0) {
    free(path);
    return;
  }
  free(path);
  sy_buf keep = SY_BUF_INIT;
  char *said = skip ? xprintf("switchyard: %s\n", skip) : NULL;
  char *cut = said ? memmem(data, len, said, strlen(said)) : NULL;
  size_t cut_len = cut ? strlen(said) : 0;
  free(said);
  for (char *line = data, *end = line + len; line < end;) {
    if (line == cut) {
      line += cut_len; /* exec's report of the error the message holds */
      continue;
    }
    char *nl = memchr(line, '\n', (size_t)(end - line));
    size_t n = nl ? (size_t)(nl - line) : (size_t)(end - line);
    if (cut > line && cut < line + n)
      n = (size_t)(cut - line);
    if (n > 0)
      sy_buf_printf(&keep, "  | %.*s\n", (int)n, line);
    line += n + (line + n < end && line[n] == '\n');
  }
  free(data);
  if (keep.len && !keep.failed) {
    size_t from = keep.len > 600 ? keep.len - 600 : 0;
    while (from > 0 && keep.data[from - 1] != '\n')
      from++; /* start at a line */
    snprintf(out, cap, "%s", keep.data + from);
    size_t o = strlen(out);
    if (o > 0 && out[o - 1] == '\n')
      out[o - 1] = '\0';
  }
  sy_buf_free(&keep);
}

/* Submission bi's job ended in state st (terminal). */
static void settle(run *r, size_t bi, const char *st) {
  read_log(r, bi);
  sub *b = &r->subs[bi];
  b->active = false;
  if (strcmp(st, "COMPLETED") == 0) {
    for (uint32_t i = 0; i < b->n; i++)
      if (r->sub_of[b->steps[i]] == (int32_t)bi)
        step_done(r, bi, b->steps[i], false); /* the log lost its line */
    release_worker(r, b);
    return;
  }
  /* Failed: the step its log says failed, else the first not done. */
  int64_t fs = -1;
  if (b->failed_step >= 0 && r->sub_of[b->failed_step] == (int32_t)bi)
    fs = b->failed_step;
  for (uint32_t i = 0; fs < 0 && i < b->n; i++)
    if (r->sub_of[b->steps[i]] == (int32_t)bi)
      fs = b->steps[i];
  if (fs < 0) {
    /* Every step is done, yet Slurm says the job failed: jobs waiting
     * for it (afterok) will never start; submit them again. */
    release_worker(r, b);
    drop_dependents(r, bi);
    return;
  }
  size_t s = (size_t)fs;
  int code = strcmp(st, "TIMEOUT") == 0         ? SY_ETIMEOUT
             : strcmp(st, "CANCELLED") == 0     ? SY_ECANCELED
             : strcmp(st, "OUT_OF_MEMORY") == 0 ? SY_ENOMEM
                                                : SY_EFAILED;
  char tail[700];
  stderr_tail(r, b, b->failed_step == fs ? b->failed_msg : NULL, tail,
              sizeof tail);
  char msg[SY_ERROR_MAX];
  if (b->failed_msg && b->failed_step == fs)
    snprintf(msg, sizeof msg, "%s (Slurm job %s, %s)%s%s", b->failed_msg, b->id,
             st, tail[0] ? "; its stderr:\n" : "", tail);
  else
    snprintf(msg, sizeof msg, "step %zu (%s): Slurm job %s ended %s%s%s", s,
             sy_job_step_label(r->job, s), b->id, st,
             tail[0] ? "; its stderr:\n" : "", tail);
  ensure_started(r, b, s);
  emit(r, b, SY_EVENT_FAILED, s, code, msg);
  r->sub_of[s] = -1;
  r->started[s] = 0;
  release_worker(r, b);
  sy_sched_failed(r->S, s, code, msg);
  untake_rest(r, bi);
  drop_dependents(r, bi);
  if (sy_sched_stopping(r->S))
    drop_waiting(r);
}

/* One look at the queue and the logs. */
static void poll_jobs(run *r) {
  ask_queue(r);
  for (size_t i = 0; i < r->n_subs; i++) {
    sub *b = &r->subs[i];
    if (b->leaving && !b->active) {
      /* Cancelled: only its end is waited for. */
      if (!b->state[0])
        ask_job(b->id, b->state, sizeof b->state);
      if (terminal(b->state) || (!b->state[0] && ++b->unknown >= 5))
        b->leaving = false;
      continue;
    }
    if (!b->active)
      continue;
    if (!b->state[0])
      ask_job(b->id, b->state, sizeof b->state);
    if (!b->state[0]) {
      /* Nobody knows it: a passing hiccup of slurmctld, or a job long
       * gone (squeue and scontrol forget ended jobs after MinJobAge). */
      if (++b->unknown < 5)
        continue;
      read_log(r, i);
      bool all_done = true;
      for (uint32_t k = 0; k < b->n; k++)
        all_done &= r->sub_of[b->steps[k]] != (int32_t)i;
      /* Its log says how it went when every step's result is in. */
      settle(r, i, all_done ? "COMPLETED" : "LOST");
      continue;
    }
    b->unknown = 0;
    if (!state_is(b->state, st_waiting) && !b->started) {
      b->started = true;
      /* The job's first step runs now; its STARTED line in the log is
       * not written out before the step ends. */
      for (uint32_t k = 0; k < b->n; k++)
        if (r->sub_of[b->steps[k]] == (int32_t)i) {
          ensure_started(r, b, b->steps[k]);
          break;
        }
    }
    read_log(r, i);
    if (terminal(b->state))
      settle(r, i, b->state);
  }
}

/* ---- submitting ---------------------------------------------------------- */

static int new_sub(run *r, size_t *out) {
  if (r->n_subs == r->cap_subs) {
    size_t cap = r->cap_subs ? r->cap_subs * 2 : 16;
    sub *s = realloc(r->subs, cap * sizeof *s);
    if (!s)
      return SY_ENOMEM;
    r->subs = s, r->cap_subs = cap;
  }
  sub *b = &r->subs[r->n_subs];
  memset(b, 0, sizeof *b);
  b->worker = -1;
  b->failed_step = -1;
  *out = r->n_subs++;
  return 0;
}

/* Whether step t may join a submission now: each input is in the set,
 * done, or being made by an active submission. */
static bool inputs_ready(run *r, size_t t) {
  const uint32_t *in;
  size_t na = sy_job_step_inputs(r->job, t, &in);
  for (size_t i = 0; i < na; i++) {
    size_t p = in[i];
    if (r->in_set[p] || sy_sched_state(r->S, p) == SY_STEP_DONE)
      continue;
    if (r->sub_of[p] >= 0 && r->subs[r->sub_of[p]].active)
      continue;
    return false;
  }
  return true;
}

/* Whether the steps of set (in_set marks them) need no job: every input
 * from outside the set is done, and the storage holds every step's
 * result (sy_job_step_stored: the cache mode reads, the step is
 * cacheable). A job already running upstream gets no say: its readers
 * are submitted behind it, and find the cache there. */
static bool all_stored(run *r, const uint32_t *set, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const uint32_t *in;
    size_t na = sy_job_step_inputs(r->job, set[i], &in);
    for (size_t k = 0; k < na; k++)
      if (!r->in_set[in[k]] && sy_sched_state(r->S, in[k]) != SY_STEP_DONE)
        return false;
  }
  for (size_t i = 0; i < n; i++)
    if (!sy_job_step_stored(r->job, set[i]))
      return false;
  return true;
}

/* What the steps of a job ask for (the flow's resources, sy_step_resources)
 * as sbatch options: the most cpus, memory and gpus any of them asks for,
 * and the sum of their timeouts when each has one (they run one after the
 * other). */
static void add_resources(run *r, const uint32_t *set, size_t n, argv_b *a) {
  uint32_t cpus = 0, gpus = 0;
  uint64_t mem = 0, time = 0;
  bool timed = true, any_actor = false;
  for (size_t i = 0; i < n; i++) {
    if (sy_job_step_class(r->job, set[i]) != SY_STEP_PURE)
      continue; /* GETs carry nothing */
    sy_step_resources q = {.size = sizeof q};
    if (sy_job_step_resources(r->job, set[i], &q) != 0)
      continue;
    any_actor = true;
    cpus = q.cpus > cpus ? q.cpus : cpus;
    gpus = q.gpus > gpus ? q.gpus : gpus;
    mem = q.memory > mem ? q.memory : mem;
    timed &= q.timeout > 0;
    time += q.timeout;
  }
  if (cpus)
    argf(a, "--cpus-per-task=%u", cpus);
  if (mem) /* sbatch counts in MiB ("M"); round up */
    argf(a, "--mem=%lluM", (unsigned long long)((mem + (1u << 20) - 1) >> 20));
  if (gpus)
    argf(a, "--gres=gpu:%u", gpus);
  if (any_actor && timed && time) /* Slurm rounds up to whole minutes */
    argf(a, "--time=%llu-%02llu:%02llu:%02llu",
         (unsigned long long)(time / 86400),
         (unsigned long long)(time / 3600 % 24),
         (unsigned long long)(time / 60 % 60), (unsigned long long)(time % 60));
}

/* Submits the steps of unit u that can go now: `first` (RUNNING: handed
 * out by the scheduler, or SIZE_MAX for none) and every WAITING step of
 * the unit whose inputs are ready (taken here). Returns the number of
 * steps submitted (0: none could go). A refused submission fails its
 * first step, as a failed job does. */
static size_t submit_unit(run *r, size_t u, size_t first) {
  const uint32_t *us = r->usteps + r->ustart[u];
  size_t nu = unit_size(r, u);
  uint32_t *set = malloc(nu * sizeof *set);
  if (!set) {
    if (first != SIZE_MAX) {
      emit(r, NULL, SY_EVENT_FAILED, first, SY_ENOMEM, "out of memory");
      sy_sched_failed(r->S, first, SY_ENOMEM, "out of memory");
    }
    return 0;
  }
  size_t n = 0;
  for (size_t i = 0; i < nu; i++) {
    size_t t = us[i];
    if (t == first ||
        (sy_sched_state(r->S, t) == SY_STEP_WAITING && inputs_ready(r, t))) {
      set[n++] = (uint32_t)t;
      r->in_set[t] = 1;
    }
  }
  bool cached = n > 0 && all_stored(r, set, n);
  for (size_t i = 0; i < n; i++)
    r->in_set[set[i]] = 0;
  if (n == 0) {
    free(set);
    return 0;
  }
  if (cached) { /* nothing to run: no job */
    char msg[SY_ERROR_MAX];
    snprintf(msg, sizeof msg,
             "runner slurm: no job for step%s %u%s (%.200s): %s in the "
             "storage",
             n > 1 ? "s" : "", set[0], n > 1 ? ".." : "",
             sy_job_step_label(r->job, set[0]),
             n > 1 ? "all their results are" : "its result is");
    emit(r, NULL, SY_EVENT_NOTE, set[0], 0, msg);
    for (size_t i = 0; i < n; i++) /* all, before any is done */
      if (set[i] != first)
        sy_sched_take(r->S, set[i]);
    for (size_t i = 0; i < n; i++) {
      emit(r, NULL, SY_EVENT_STARTED, set[i], 0, NULL);
      emit(r, NULL,
           sy_job_step_op(r->job, set[i]) == SY_OP_GET ? SY_EVENT_DONE
                                                       : SY_EVENT_CACHED,
           set[i], 0, NULL);
      sy_sched_done(r->S, set[i]);
    }
    free(set);
    return n;
  }
  for (size_t i = 0; i < n; i++)
    if (set[i] != first)
      sy_sched_take(r->S, set[i]);
  /* Its dependencies: the active submissions making its inputs. */
  size_t bi;
  if (new_sub(r, &bi) != 0)
    goto refused_nomem;
  sub *b = &r->subs[bi];
  b->steps = set; /* the submission's now */
  b->n = (uint32_t)n;
  size_t cap_deps = 0;
  for (size_t i = 0; i < n; i++) {
    const uint32_t *in;
    size_t na = sy_job_step_inputs(r->job, set[i], &in);
    for (size_t k = 0; k < na; k++) {
      int32_t d = r->sub_of[in[k]];
      if (d < 0 || !r->subs[d].active)
        continue;
      bool seen = false;
      for (uint32_t j = 0; j < b->n_deps; j++)
        seen |= b->deps[j] == (uint32_t)d;
      if (seen)
        continue;
      if (b->n_deps == cap_deps) {
        size_t cap = cap_deps ? cap_deps * 2 : 8;
        uint32_t *nd = realloc(b->deps, cap * sizeof *nd);
        if (!nd)
          goto refused_nomem;
        b->deps = nd, cap_deps = cap;
      }
      b->deps[b->n_deps++] = (uint32_t)d;
    }
  }
  b->log = xprintf("%s/sub-%zu.jsonl", r->dir, bi);
  if (!b->log)
    goto refused_nomem;

  argv_b a = {.ok = true};
  arg(&a, "sbatch");
  arg(&a, "--parsable");
  const char *flow = sy_program_name(sy_job_program(r->job));
  argf(&a, "--job-name=%s:%s", *flow ? flow : "switchyard",
       sy_job_step_node(r->job, set[0]));
  argf(&a, "--output=%s/%%j.out", r->dir);
  argf(&a, "--error=%s/%%j.err", r->dir);
  argf(&a, "--chdir=%s", r->cwd);
  arg(&a, "--export=ALL");
  arg(&a, "--kill-on-invalid-dep=yes");
  if (*r->cfg->partition)
    argf(&a, "--partition=%s", r->cfg->partition);
  if (*r->cfg->account)
    argf(&a, "--account=%s", r->cfg->account);
  add_resources(r, set, n, &a);
  if (b->n_deps) {
    sy_buf dep = SY_BUF_INIT;
    sy_buf_puts(&dep, "--dependency=afterok");
    for (uint32_t j = 0; j < b->n_deps; j++)
      sy_buf_printf(&dep, ":%s", r->subs[b->deps[j]].id);
    argf(&a, "%s", dep.failed ? NULL : dep.data);
    sy_buf_free(&dep);
  }
  for (size_t i = 0; i < r->n_extra; i++)
    arg(&a, r->extra[i]);
  arg(&a, r->script);
  for (size_t i = 0; i < r->n_base; i++)
    arg(&a, r->base[i]);
  arg(&a, "exec");
  arg(&a, r->program);
  arg(&a, "--step");
  sy_buf steps = SY_BUF_INIT;
  for (size_t i = 0; i < n; i++)
    sy_buf_printf(&steps, "%s%u", i ? "," : "", set[i]);
  argf(&a, "%s", steps.failed ? NULL : steps.data);
  sy_buf_free(&steps);
  arg(&a, "--cache");
  arg(&a, r->cache_mode);
  arg(&a, "--log");
  arg(&a, b->log);
  if (!a.ok) {
    argv_free(&a);
    goto refused_nomem;
  }
  sy_buf out = SY_BUF_INIT, errb = SY_BUF_INIT;
  sy_error e;
  sy_error_clear(&e);
  int rc = slurm_cmd(a.v, &out, &errb, &e);
  argv_free(&a);
  char line[SY_ERROR_MAX];
  if (rc == 0) {
    size_t k = out.data ? strcspn(out.data, ";\n") : 0; /* "id[;cluster]" */
    if (k == 0 || k >= sizeof b->id) {
      rc = 1;
      snprintf(line, sizeof line, "sbatch printed no job id: '%.100s'",
               out.data ? out.data : "");
    } else {
      memcpy(b->id, out.data, k);
      b->id[k] = '\0';
    }
  } else if (rc > 0) {
    snprintf(line, sizeof line, "sbatch failed (exit %d): %s", rc,
             slurm_last_line(&errb, (char[300]){0}, 300));
  } else { /* "runner slurm: cannot run sbatch: ..." */
    const char *m = e.message;
    if (strncmp(m, "runner slurm: ", strlen("runner slurm: ")) == 0)
      m += strlen("runner slurm: ");
    snprintf(line, sizeof line, "%s", m);
  }
  sy_buf_free(&out);
  sy_buf_free(&errb);
  if (rc != 0) {
    char msg[SY_ERROR_MAX];
    snprintf(msg, sizeof msg, "step %u (%.200s): runner slurm: %.700s", set[0],
             sy_job_step_label(r->job, set[0]), line);
    int code = rc < 0 ? rc : SY_EFAILED;
    emit(r, NULL, SY_EVENT_STARTED, set[0], 0, NULL);
    emit(r, NULL, SY_EVENT_FAILED, set[0], code, msg);
    sy_sched_failed(r->S, set[0], code, msg);
    for (size_t i = 1; i < n; i++)
      sy_sched_untake(r->S, set[i]);
    return n;
  }
  b->active = true;
  for (size_t i = 0; i < n; i++)
    r->sub_of[set[i]] = (int32_t)bi;
  for (size_t w = 0; w < r->n; w++)
    if (!r->workers[w]) {
      r->workers[w] = 1;
      b->worker = (int)w;
      break;
    }
  return n;

refused_nomem:
  for (size_t i = 0; i < n; i++)
    if (set[i] != first)
      sy_sched_untake(r->S, set[i]);
  if (first != SIZE_MAX) {
    emit(r, NULL, SY_EVENT_FAILED, first, SY_ENOMEM, "out of memory");
    sy_sched_failed(r->S, first, SY_ENOMEM, "out of memory");
  }
  if (r->n_subs == 0 || r->subs[r->n_subs - 1].steps != set)
    free(set); /* not handed to a submission */
  return n;
}

/* Submits, ahead of time, every unit whose inputs are done or being made
 * by submitted jobs: Slurm starts it when they end. */
static void submit_ahead(run *r) {
  if (sy_sched_stopping(r->S) || sy_job_cancelled(r->job))
    return;
  for (size_t u = 0; u < r->n_units; u++) {
    const uint32_t *us = r->usteps + r->ustart[u];
    bool waiting = false, busy = false;
    for (size_t i = 0; i < unit_size(r, u); i++) {
      sy_step_state st = sy_sched_state(r->S, us[i]);
      waiting |= st == SY_STEP_WAITING;
      busy |= st != SY_STEP_WAITING && st != SY_STEP_DONE;
    }
    if (waiting && !busy)
      submit_unit(r, u, SIZE_MAX);
  }
}

/* A COMMIT ran here through the storage, which keeps nothing in the job:
 * hands the job the bundle it committed (its input, stored), so that it
 * reports the states as after any other run (sy_job_states: "committed
 * generation 3"). Without it the run is still right, only less said. */
static void keep_commit(run *r, size_t s) {
  const uint32_t *in;
  if (sy_job_step_inputs(r->job, s, &in) != 1)
    return;
  sy_instance *st = sy_job_storage(r->job);
  const sy_storage_ops *ops = sy_instance_provider(st)->ops;
  size_t n = sy_job_step_outputs(r->job, in[0]);
  sy_value **v = calloc(n ? n : 1, sizeof *v);
  if (v && n &&
      ops->get(sy_instance_self(st), sy_job_step_key(r->job, in[0]), v, n,
               NULL) == 0 &&
      v[0])
    sy_job_step_result(r->job, s, (const sy_value *const *)v);
  for (size_t i = 0; v && i < n; i++)
    sy_value_unref(v[i]);
  free(v);
}

/* A step that runs in this process: through the storage, as the jobs run
 * theirs, so that what it makes reaches them and what they made reaches
 * it. */
static void run_here(run *r, size_t s) {
  sy_error e;
  sy_error_clear(&e);
  sy_job_set_worker(-1);
  int rc = sy_job_exec_stored(r->job, s, &e);
  if (rc == 0) {
    if (sy_job_step_op(r->job, s) == SY_OP_COMMIT)
      keep_commit(r, s);
    sy_sched_done(r->S, s);
    return;
  }
  if (rc == SY_ENOENT && strstr(e.message, "is not in the storage"))
    sy_error_prefix(&e, "runner slurm: is the storage on a file system "
                        "that this machine and the Slurm jobs share?");
  sy_sched_failed(r->S, s, rc, e.message);
}

/* ---- cancel -------------------------------------------------------------- */

/* Ctrl-C: every job of the run is cancelled, and the runner waits (up to
 * a minute) until Slurm has let them go, so none is left in squeue. */
static void cancel_all(run *r) {
  size_t *all = malloc((r->n_subs + 1) * sizeof *all);
  if (!all)
    return;
  size_t n = 0;
  for (size_t i = 0; i < r->n_subs; i++)
    if (r->subs[i].active)
      all[n++] = i;
  scancel(r, all, n);
  int64_t give_up = now_ns() + 60 * (int64_t)1000000000;
  for (;;) {
    ask_queue(r);
    bool left = false; /* this run's cancelled jobs, earlier ones too */
    for (size_t i = 0; i < r->n_subs; i++) {
      sub *b = &r->subs[i];
      if (b->leaving)
        left |= b->state[0] && !terminal(b->state);
    }
    if (!left || now_ns() > give_up)
      break;
    struct timespec ts = {0, 100000000};
    nanosleep(&ts, NULL);
  }
  for (size_t i = 0; i < n; i++) {
    size_t bi = all[i];
    sub *b = &r->subs[bi];
    read_log(r, bi); /* steps that ended before the cancel */
    b->active = b->leaving = false;
    for (uint32_t k = 0; k < b->n; k++) {
      size_t s = b->steps[k];
      if (r->sub_of[s] != (int32_t)bi || !r->started[s])
        continue;
      char msg[SY_ERROR_MAX];
      snprintf(msg, sizeof msg,
               "step %zu (%s): canceled; Slurm job %s was "
               "cancelled",
               s, sy_job_step_label(r->job, s), b->id);
      emit(r, b, SY_EVENT_FAILED, s, SY_ECANCELED, msg);
      r->sub_of[s] = -1;
      r->started[s] = 0;
      sy_sched_failed(r->S, s, SY_ECANCELED, msg);
    }
    untake_rest(r, bi);
    release_worker(r, b);
  }
  free(all);
}

/* ---- setting up a run ---------------------------------------------------- */

/* The command the jobs run: the option, else this program when it is
 * switchyard (the one a user ran, even uninstalled), else the one on the
 * jobs' PATH. */
static char *job_command(const slurm_config *c) {
  if (*c->command)
    return strdup(c->command);
  char self[PATH_MAX];
  ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
  if (k > 0) {
    self[k] = '\0';
    const char *base = strrchr(self, '/');
    base = base ? base + 1 : self;
    if (strcmp(base, "switchyard") == 0 || strcmp(base, "lt-switchyard") == 0)
      return strdup(self);
  }
  return strdup("switchyard");
}

/* Whether a value's origin is "FILE:LINE" of one of the files read. */
static bool from_file(const char *origin, const char *const *files) {
  for (size_t i = 0; files && files[i]; i++) {
    size_t n = strlen(files[i]);
    if (strncmp(origin, files[i], n) == 0 && origin[n] == ':' &&
        origin[n + 1] >= '0' && origin[n + 1] <= '9' &&
        strspn(origin + n + 1, "0123456789") == strlen(origin + n + 1))
      return true;
  }
  return false;
}

/* The platform the jobs need is this one: the same config files, read
 * again as -c in the same order (the jobs start in this folder, with this
 * environment, so they read the same defaults first), and as -o every
 * value that came from no file: -o overrides, and what a program set
 * itself (a release's project layer). */
static int base_args(run *r, sy_error *err) {
  sy_platform *p = sy_job_platform(r->job);
  const sy_config *cfg = sy_platform_config(p);
  const char *const *files = sy_platform_config_files(p);
  size_t n = 1;
  for (size_t i = 0; files && files[i]; i++)
    n += 2;
  for (size_t s = 0; s < sy_config_section_count(cfg); s++)
    n += 2 * sy_config_key_count(cfg, sy_config_section_at(cfg, s));
  r->base = calloc(n + 1, sizeof *r->base);
  if (!r->base || !(r->base[r->n_base++] = job_command(r->cfg)))
    return sy_error_set(err, SY_ENOMEM, "runner slurm: out of memory");
  for (size_t i = 0; files && files[i]; i++) {
    char *abs = realpath(files[i], NULL);
    if (!abs)
      continue; /* gone meanwhile: the jobs cannot read it either */
    r->base[r->n_base++] = strdup("-c");
    r->base[r->n_base++] = abs;
  }
  for (size_t s = 0; s < sy_config_section_count(cfg); s++) {
    const char *sec = sy_config_section_at(cfg, s);
    for (size_t k = 0; k < sy_config_key_count(cfg, sec); k++) {
      const char *key = sy_config_key_at(cfg, sec, k), *origin = NULL;
      const char *v = sy_config_get(cfg, sec, key, &origin);
      if (!v || !origin || strcmp(origin, "default") == 0 ||
          from_file(origin, files))
        continue;
      r->base[r->n_base++] = strdup("-o");
      r->base[r->n_base++] = xprintf("%s.%s=%s", sec, key, v);
    }
  }
  for (size_t i = 0; i < r->n_base; i++)
    if (!r->base[i])
      return sy_error_set(err, SY_ENOMEM, "runner slurm: out of memory");
  return 0;
}

static int split_extra(run *r, sy_error *err) {
  if (!(r->extra_text = strdup(r->cfg->sbatch_args)))
    return sy_error_set(err, SY_ENOMEM, "runner slurm: out of memory");
  size_t cap = 1;
  for (const char *c = r->extra_text; *c; c++)
    cap++;
  if (!(r->extra = calloc(cap, sizeof *r->extra)))
    return sy_error_set(err, SY_ENOMEM, "runner slurm: out of memory");
  char *save = NULL;
  for (char *w = strtok_r(r->extra_text, " \t\n", &save); w;
       w = strtok_r(NULL, " \t\n", &save))
    r->extra[r->n_extra++] = w;
  return 0;
}

static const char job_script[] =
    "#!/bin/sh\n"
    "# switchyard's Slurm runner: one job runs `switchyard exec PROGRAM\n"
    "# --step N[,N...]`, given as this script's arguments.\n"
    "exec \"$@\"\n";

/* mkdir -p of the workdir (0700 for the folders it makes). */
static int make_dirs(const char *path, sy_error *err) {
  char *p = strdup(path);
  if (!p)
    return sy_error_set(err, SY_ENOMEM, "runner slurm: out of memory");
  for (char *c = p + 1;; c++) {
    if (*c != '/' && *c)
      continue;
    char keep = *c;
    *c = '\0';
    if (mkdir(p, 0700) != 0 && errno != EEXIST) {
      int e = errno;
      sy_error_set(err, sy_code_from_errno(e),
                   "runner slurm: cannot make the workdir %s: %s", p,
                   strerror(e));
      free(p);
      return err ? err->code : SY_EIO;
    }
    *c = keep;
    if (!keep)
      break;
  }
  free(p);
  return 0;
}

static int setup(run *r, sy_error *err) {
  sy_instance *st = sy_job_storage(r->job);
  if (!st)
    return sy_error_set(
        err, SY_ECONFIG,
        "runner slurm: the cache is off, but values move between the Slurm "
        "jobs through the storage; run without --cache off (and without "
        "[PLATFORM] cache = off)");
  const char *prov = sy_instance_provider(st)->name;
  if (strcmp(prov, "file") != 0)
    return sy_error_set(
        err, SY_ECONFIG,
        "runner slurm: the storage [STORAGE.%s] has provider '%s'; values "
        "move between the Slurm jobs through the storage, which must be a "
        "`file` storage in a folder that the cluster's nodes share with "
        "this machine",
        sy_instance_name(st), prov);
  r->cache_mode = sy_job_cache_mode(r->job);
  size_t n = r->n;
  r->unit_of = malloc((n ? n : 1) * sizeof *r->unit_of);
  r->sub_of = malloc((n ? n : 1) * sizeof *r->sub_of);
  r->started = calloc(n ? n : 1, 1);
  r->in_set = calloc(n ? n : 1, 1);
  r->workers = calloc(n ? n : 1, 1);
  if (!r->unit_of || !r->sub_of || !r->started || !r->in_set || !r->workers)
    return sy_error_set(err, SY_ENOMEM, "runner slurm: out of memory");
  for (size_t s = 0; s < n; s++)
    r->sub_of[s] = -1;
  int rc = make_units(r, err);
  if (rc == 0)
    rc = split_extra(r, err);
  if (rc == 0)
    rc = base_args(r, err);
  if (rc)
    return rc;
  if (!(r->cwd = getcwd(NULL, 0)))
    return sy_error_set(err, sy_code_from_errno(errno),
                        "runner slurm: getcwd: %s", strerror(errno));
  if ((rc = make_dirs(r->cfg->workdir, err)) != 0)
    return rc;
  char *wd = realpath(r->cfg->workdir, NULL);
  r->dir = wd ? xprintf("%s/run-XXXXXX", wd) : NULL;
  free(wd);
  if (!r->dir || !mkdtemp(r->dir)) {
    int e = errno;
    free(r->dir);
    r->dir = NULL;
    return sy_error_set(err, sy_code_from_errno(e),
                        "runner slurm: cannot make a folder in the workdir "
                        "%s: %s",
                        r->cfg->workdir, strerror(e));
  }
  r->program = xprintf("%s/program.syp", r->dir);
  r->script = xprintf("%s/job.sh", r->dir);
  if (!r->program || !r->script)
    return sy_error_set(err, SY_ENOMEM, "runner slurm: out of memory");
  if ((rc = sy_program_save(sy_job_program(r->job), r->program, err)) != 0 ||
      (rc = sy_file_write(r->script, job_script, sizeof job_script - 1, err)) !=
          0) {
    sy_error_prefix(err, "runner slurm");
    return rc;
  }
  return 0;
}

/* Removes this run's folder (its own files only: nothing else is in it). */
static void remove_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (!d)
    return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    char *p = xprintf("%s/%s", dir, e->d_name);
    if (p)
      unlink(p);
    free(p);
  }
  closedir(d);
  rmdir(dir);
}

static void run_free(run *r) {
  for (size_t i = 0; i < r->n_subs; i++) {
    free(r->subs[i].steps);
    free(r->subs[i].deps);
    free(r->subs[i].log);
    free(r->subs[i].failed_msg);
  }
  free(r->subs);
  for (size_t i = 0; r->base && i < r->n_base; i++)
    free(r->base[i]);
  free(r->base);
  free(r->extra);
  free(r->extra_text);
  free(r->unit_of), free(r->ustart), free(r->usteps), free(r->sub_of);
  free(r->started), free(r->in_set), free(r->workers);
  free(r->dir), free(r->program), free(r->script), free(r->cwd);
}

/* ---- the loop ------------------------------------------------------------ */

static int slurm_run(void *self, sy_job *job, sy_error *err) {
  const slurm_config *c = self;
  run r = {.cfg = c, .job = job, .n = sy_job_size(job)};
  sy_sched_policy pol = {.size = sizeof pol,
                         .keep_going = c->keep_going,
                         .retries = (uint32_t)c->retries,
                         .backoff_ns = c->backoff};
  int rc = setup(&r, err);
  if (rc == 0)
    rc = sy_sched_new(job, &pol, &r.S, err);
  if (rc) {
    if (r.dir)
      remove_dir(r.dir);
    run_free(&r);
    return rc;
  }
  int64_t next_poll = 0;
  for (;;) {
    if (sy_job_cancelled(job)) {
      cancel_all(&r);
      break;
    }
    size_t s;
    while (!sy_job_cancelled(job) && sy_sched_next(r.S, 0, &s)) {
      if (sy_job_step_class(job, s) == SY_STEP_PURE && r.unit_of[s] >= 0)
        submit_unit(&r, (size_t)r.unit_of[s], s);
      else
        run_here(&r, s);
    }
    submit_ahead(&r);
    if (sy_sched_finished(r.S))
      break;
    bool active = false;
    for (size_t i = 0; i < r.n_subs && !active; i++)
      active = r.subs[i].active;
    int64_t now = now_ns();
    if (!active) {
      if (sy_sched_ready(r.S, 0) > 0 || sy_job_cancelled(job))
        continue;
      if (sy_sched_due(r.S)) {
        sy_sched_wait(r.S);
        continue;
      }
      rc = sy_error_set(err, SY_ESTATE,
                        "runner slurm: no step can run and no job is "
                        "running (a bug: please report it)");
      break;
    }
    if (next_poll == 0)
      next_poll = now + c->poll;
    int64_t until = next_poll, due = sy_sched_due(r.S);
    if (due && due < until)
      until = due; /* clock: the scheduler's is CLOCK_MONOTONIC too */
    nap(job, until - now);
    if (now_ns() >= next_poll && !sy_job_cancelled(job)) {
      poll_jobs(&r);
      next_poll = now_ns() + c->poll;
    }
  }
  /* A job whose steps are all done may still be ending (its process
   * exits, Slurm cleans up): the run is over when its jobs are, so that
   * none is left in squeue after the command (at most a minute). */
  for (int64_t give_up = now_ns() + 60 * (int64_t)1000000000;
       !sy_job_cancelled(job) && now_ns() < give_up;) {
    bool active = false;
    for (size_t i = 0; i < r.n_subs && !active; i++)
      active = r.subs[i].active || r.subs[i].leaving;
    if (!active)
      break;
    nap(job, c->poll);
    poll_jobs(&r);
  }
  sy_job_set_worker(-1);
  if (rc == 0)
    rc = sy_sched_result(r.S, err);
  bool submitted = false; /* a job wrote there: keep it when failed */
  for (size_t i = 0; i < r.n_subs; i++)
    submitted |= r.subs[i].id[0] != '\0';
  if (rc == 0 || !submitted)
    remove_dir(r.dir);
  else if (err && rc != SY_ECANCELED) {
    char first[SY_ERROR_MAX];
    snprintf(first, sizeof first, "%s", err->message);
    sy_error_set(err, rc, "%s\n(the jobs' files are kept in %s)", first, r.dir);
  }
  sy_sched_free(r.S);
  run_free(&r);
  return rc;
}

static int slurm_create(const void *config, void **self, sy_error *err) {
  slurm_config *c = malloc(sizeof *c);
  if (!c)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  *c = *(const slurm_config *)config;
  *self = c;
  return 0;
}

static const sy_runner_ops slurm_ops = {
    .size = sizeof(sy_runner_ops),
    .run = slurm_run,
    .resources =
        "cpus: sbatch --cpus-per-task (a chain's job: the most any of its "
        "steps asks for)\n"
        "memory: sbatch --mem, in MiB rounded up (a chain: the most)\n"
        "gpus: sbatch --gres=gpu:N (a chain: the most)\n"
        "retries: overrides the `retries` option for the node's steps: a "
        "failed job is submitted again\n"
        "timeout: sbatch --time, which Slurm rounds up to whole minutes (a "
        "chain: the sum, when each of its steps has one); a job past it "
        "ends TIMEOUT and its step fails\n",
};

static const sy_provider slurm_provider = {
    .size = sizeof(sy_provider),
    .kind = SY_KIND_RUNNER,
    .name = "slurm",
    .version = "1.0.0",
    .description =
        "runs the flow as Slurm batch jobs: one job per actor step (or per "
        "chain of steps) running `switchyard exec PROGRAM --step N`, edges "
        "as --dependency=afterok; feeds, sinks and commits run here; the "
        "storage must be a file storage the nodes share",
    .options = slurm_options,
    .config_size = sizeof(slurm_config),
    .create = slurm_create,
    .destroy = free,
    .ops = &slurm_ops,
};

SY_PLUGIN_DEFINE("runner-slurm", "1.0.0", &slurm_provider)
