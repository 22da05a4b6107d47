/*
 * events.c - step events, their listeners, and cancellation.
 *
 * Emitting takes the job's emit lock, so listeners run one at a time and
 * need no locking of their own; with no listener the cost is one load and
 * a branch, which keeps runners' hot paths free of a global lock when
 * nobody is watching. The three built-in listeners write a JSON-lines
 * log, a Chrome trace and a progress line.
 */
#include "job.h"
#include "switchyard/file.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static _Thread_local int this_worker = -1;

/* Where sy_note() sends a note from this thread: the step this thread
 * last emitted STARTED for (until it ends), or a test's function. */
static _Thread_local struct {
  sy_job *job;
  size_t step;
  sy__note_fn fn;
  void *ud;
} note_to;

void sy_job_set_worker(int worker) { this_worker = worker; }

int64_t sy__now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

const char *sy_event_name(sy_event_type type) {
  static const char *const names[] = {NULL,      "queued",  "started",
                                      "cached",  "done",    "failed",
                                      "retried", "skipped", "note"};
  return (type >= SY_EVENT_QUEUED && type <= SY_EVENT_NOTE) ? names[type] : "?";
}

/* ---- the built-in listeners' state ---------------------------------- */

typedef struct trace_span {
  uint32_t step;
  int32_t worker;
  int64_t start, dur;
  uint8_t failed;
} trace_span;

struct sy__sinks {
  FILE *log;
  FILE *trace;
  char *trace_path;
  trace_span *spans;
  size_t n_spans, cap_spans;
  FILE *tty;
  size_t done, failed, running, total;
  int64_t last_draw;
  int drawn;       /* the line is on the terminal, not ended */
  size_t in_sinks; /* sink steps running: the line stays off meanwhile */
};

int sy__events_init(sy_job *job) {
  size_t m = job->n ? job->n : 1;
  job->started = calloc(m, sizeof *job->started);
  job->attempts = calloc(m, sizeof *job->attempts);
  job->ran = calloc(m, sizeof *job->ran);
  job->outputs = calloc(1, sizeof *job->outputs);
  if (!job->started || !job->attempts || !job->ran || !job->outputs)
    return SY_ENOMEM;
  for (size_t s = 0; s < m; s++)
    atomic_init(&job->ran[s], 0);
  atomic_init(&job->skip_run_check, 0);
  pthread_mutex_init(&job->emit_lock, NULL);
  atomic_init(&job->cancelled, 0);
  job->t0 = sy__now_ns();
  return 0;
}

static void write_trace(sy_job *job) {
  struct sy__sinks *o = job->outputs;
  FILE *f = o->trace;
  fputs("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n", f);
  fprintf(f,
          "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"args\":"
          "{\"name\":\"switchyard %s\"}}",
          job->prog->flow_name);
  for (size_t i = 0; i < o->n_spans; i++) {
    const trace_span *s = &o->spans[i];
    fputs(",\n{\"name\":", f);
    const char *label = sy_job_step_label(job, s->step);
    fputc('"', f);
    for (const char *c = label; *c; c++) {
      if (*c == '"' || *c == '\\')
        fputc('\\', f);
      if ((unsigned char)*c >= 0x20)
        fputc(*c, f);
    }
    fprintf(f,
            "\",\"cat\":\"%s\",\"ph\":\"X\",\"pid\":1,\"tid\":%d,"
            "\"ts\":%.3f,\"dur\":%.3f,\"args\":{\"step\":%u,\"key\":\"%s\"}}",
            s->failed ? "failed" : "done", s->worker + 1, s->start / 1e3,
            s->dur / 1e3, s->step, sy_job_step_key(job, s->step));
  }
  fputs("\n]}\n", f);
}

void sy__events_free(sy_job *job) {
  struct sy__sinks *o = job->outputs;
  /* A runner that emits STARTED for steps run elsewhere (procs, mpi) may
   * leave this thread pointing at the job: no note may reach it now. */
  if (note_to.job == job)
    note_to.job = NULL;
  if (o) {
    if (o->log)
      fclose(o->log);
    if (o->trace) {
      write_trace(job);
      fclose(o->trace);
    }
    if (o->tty && o->drawn)
      fputc('\n', o->tty);
    free(o->trace_path);
    free(o->spans);
    free(o);
  }
  if (job->started)
    pthread_mutex_destroy(&job->emit_lock);
  free(job->started);
  free(job->attempts);
  free(job->ran);
  free(job->listeners);
}

int sy_job_listen(sy_job *job, sy_listener_fn fn, void *ud) {
  struct sy__listener *l =
      realloc(job->listeners, (job->n_listeners + 1) * sizeof *l);
  if (!l)
    return SY_ENOMEM;
  l[job->n_listeners].fn = fn;
  l[job->n_listeners].ud = ud;
  job->listeners = l;
  job->n_listeners++;
  return 0;
}

void sy_job_emit(sy_job *job, sy_event_type type, size_t step, int code,
                 const char *message) {
  /* A step runs on the thread that emits its STARTED (sy_job_run_step),
   * so that is where its actors' notes come from. */
  if (type == SY_EVENT_STARTED) {
    note_to.job = job;
    note_to.step = step;
  } else if ((type == SY_EVENT_DONE || type == SY_EVENT_CACHED ||
              type == SY_EVENT_FAILED) &&
             note_to.job == job && note_to.step == step) {
    note_to.job = NULL;
  }
  if (step >= job->n)
    return;
  /* Counted with or without listeners: the core checks the runner's work
   * with these (sy_job_run). */
  if (type == SY_EVENT_DONE || type == SY_EVENT_CACHED)
    atomic_fetch_add_explicit(&job->ran[step], 1, memory_order_relaxed);
  if (job->n_listeners == 0)
    return;
  int64_t now = sy__now_ns() - job->t0;
  pthread_mutex_lock(&job->emit_lock);
  sy_event ev = {sizeof ev, type,       (uint32_t)step, this_worker, now, 0,
                 code,      0,          message};
  if (type == SY_EVENT_STARTED) {
    job->started[step] = now;
    job->attempts[step]++;
  } else if (type == SY_EVENT_DONE || type == SY_EVENT_FAILED ||
             type == SY_EVENT_CACHED) {
    ev.duration_ns = job->started[step] ? now - job->started[step] : 0;
  }
  ev.attempt = job->attempts[step] ? job->attempts[step] : 1;
  for (size_t i = 0; i < job->n_listeners; i++)
    job->listeners[i].fn(job->listeners[i].ud, job, &ev);
  pthread_mutex_unlock(&job->emit_lock);
}

void sy__note_to(sy__note_fn fn, void *ud) {
  note_to.fn = fn;
  note_to.ud = ud;
}

void sy_note(const char *fmt, ...) {
  sy_job *job = note_to.job;
  if (!note_to.fn && (!job || job->n_listeners == 0))
    return;
  char msg[SY_ERROR_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (note_to.fn)
    note_to.fn(note_to.ud, msg);
  else
    sy_job_emit(job, SY_EVENT_NOTE, note_to.step, 0, msg);
}

void sy_job_cancel(sy_job *job) {
  if (job)
    atomic_store(&job->cancelled, 1);
}

int sy_job_cancelled(const sy_job *job) {
  return atomic_load(&((sy_job *)job)->cancelled);
}

/* ---- JSON-lines log ------------------------------------------------- */

static void json_str(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *c = (const unsigned char *)s; c && *c; c++) {
    if (*c == '"' || *c == '\\')
      fprintf(f, "\\%c", *c);
    else if (*c == '\n')
      fputs("\\n", f);
    else if (*c < 0x20)
      fprintf(f, "\\u%04x", *c);
    else
      fputc(*c, f);
  }
  fputc('"', f);
}

static void log_listener(void *ud, const sy_job *job, const sy_event *ev) {
  FILE *f = ud;
  fprintf(f, "{\"event\":\"%s\",\"step\":%u,\"label\":",
          sy_event_name(ev->type), ev->step);
  json_str(f, sy_job_step_label(job, ev->step));
  fprintf(f,
          ",\"key\":\"%s\",\"worker\":%d,\"t\":%.6f,\"dur\":%.6f,"
          "\"attempt\":%u",
          sy_job_step_key(job, ev->step), ev->worker, ev->time_ns / 1e9,
          ev->duration_ns / 1e9, ev->attempt);
  if (ev->message) {
    fputs(ev->type == SY_EVENT_NOTE ? ",\"note\":" : ",\"error\":", f);
    json_str(f, ev->message);
  }
  fputs("}\n", f);
  if (ev->type == SY_EVENT_FAILED || ev->type == SY_EVENT_DONE)
    fflush(f);
}

int sy_job_log_to(sy_job *job, const char *path, sy_error *err) {
  FILE *f = NULL;
  int rc = sy_output_stream(path, &f, err);
  if (rc) {
    sy_error_prefix(err, "the run log (--log)");
    return rc;
  }
  if (sy_job_listen(job, log_listener, f) != 0) {
    fclose(f);
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  }
  if (job->outputs->log)
    fclose(job->outputs->log);
  job->outputs->log = f;
  return 0;
}

/* ---- Chrome trace --------------------------------------------------- */

static void trace_listener(void *ud, const sy_job *job, const sy_event *ev) {
  (void)job;
  struct sy__sinks *o = ud;
  if (ev->type != SY_EVENT_DONE && ev->type != SY_EVENT_FAILED &&
      ev->type != SY_EVENT_CACHED)
    return;
  if (o->n_spans == o->cap_spans) {
    size_t cap = o->cap_spans ? o->cap_spans * 2 : 256;
    trace_span *s = realloc(o->spans, cap * sizeof *s);
    if (!s)
      return; /* the trace loses a span rather than the run failing */
    o->spans = s;
    o->cap_spans = cap;
  }
  trace_span *s = &o->spans[o->n_spans++];
  s->step = ev->step;
  s->worker = ev->worker;
  s->dur = ev->duration_ns;
  s->start = ev->time_ns - ev->duration_ns;
  s->failed = ev->type == SY_EVENT_FAILED;
}

int sy_job_trace_to(sy_job *job, const char *path, sy_error *err) {
  FILE *f = NULL;
  int rc = sy_output_stream(path, &f, err);
  if (rc) {
    sy_error_prefix(err, "the trace (--trace)");
    return rc;
  }
  if (sy_job_listen(job, trace_listener, job->outputs) != 0) {
    fclose(f);
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  }
  job->outputs->trace = f;
  return 0;
}

/* ---- progress line -------------------------------------------------- */

static void draw(struct sy__sinks *o, int64_t now) {
  if (o->in_sinks)
    return;
  fprintf(o->tty, "\r\033[K[%zu/%zu] failed %zu, running %zu, %.1fs", o->done,
          o->total, o->failed, o->running, now / 1e9);
  fflush(o->tty);
  o->last_draw = now;
  o->drawn = 1;
}

/* Takes the line off the terminal (a sink is about to write there). */
static void clear_line(struct sy__sinks *o) {
  if (!o->drawn)
    return;
  fputs("\r\033[K", o->tty);
  fflush(o->tty);
  o->drawn = 0;
}

void sy_job_progress_end(sy_job *job) {
  struct sy__sinks *o = job ? job->outputs : NULL;
  if (!o || !o->tty || !o->drawn)
    return;
  fputc('\n', o->tty);
  fflush(o->tty);
  o->drawn = 0;
}

static void progress_listener(void *ud, const sy_job *job,
                              const sy_event *ev) {
  struct sy__sinks *o = ud;
  o->total = sy_job_size(job);
  int sink = sy_job_step_op(job, ev->step) == SY_OP_SINK;
  if (sink && ev->type == SY_EVENT_STARTED) {
    clear_line(o);
    o->in_sinks++;
  } else if (sink && o->in_sinks &&
             (ev->type == SY_EVENT_DONE || ev->type == SY_EVENT_FAILED ||
              ev->type == SY_EVENT_RETRIED)) {
    o->in_sinks--;
  }
  switch (ev->type) {
  case SY_EVENT_STARTED:
    o->running++;
    break;
  case SY_EVENT_DONE:
  case SY_EVENT_CACHED:
    o->done++;
    o->running -= o->running > 0 && ev->type == SY_EVENT_DONE;
    break;
  case SY_EVENT_FAILED:
    o->failed++;
    o->running -= o->running > 0;
    break;
  default:
    break;
  }
  int last = o->done + o->failed == o->total;
  if (last || ev->time_ns - o->last_draw >= 100000000)
    draw(o, ev->time_ns);
}

int sy_job_progress_to(sy_job *job, FILE *tty, sy_error *err) {
  if (sy_job_listen(job, progress_listener, job->outputs) != 0)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  job->outputs->tty = tty;
  return 0;
}
