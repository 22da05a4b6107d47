/*
 * events.c - the event bus: step events, their listeners, notes, and
 * cancellation.
 *
 * Emitting takes the job's emit lock, so listeners run one at a time and
 * need no locking of their own; with no listener the cost is one load and
 * a branch, which keeps runners' hot paths free of a global lock when
 * nobody is watching. The listeners that write files (a JSON-lines log,
 * a Chrome trace, a progress line) are services/listeners.c, built on
 * sy_job_listen_until_free like any other.
 */
#include "job.h"

#include <stdarg.h>
#include <stdio.h>
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

void sy_job_set_worker(int worker) {
  this_worker = worker;
}

int64_t sy__now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

const char *sy_event_name(sy_event_type type) {
  static const char *const names[] = {NULL,   "queued", "started", "cached",
                                      "done", "failed", "retried", "skipped",
                                      "note", "warning"};
  return (type >= SY_EVENT_QUEUED && type <= SY_EVENT_WARNING) ? names[type]
                                                               : "?";
}

int sy__events_init(sy_job *job) {
  size_t m = job->n ? job->n : 1;
  job->started = calloc(m, sizeof *job->started);
  job->attempts = calloc(m, sizeof *job->attempts);
  job->ran = calloc(m, sizeof *job->ran);
  if (!job->started || !job->attempts || !job->ran)
    return SY_ENOMEM;
  for (size_t s = 0; s < m; s++)
    atomic_init(&job->ran[s], 0);
  atomic_init(&job->skip_run_check, 0);
  pthread_mutex_init(&job->emit_lock, NULL);
  atomic_init(&job->cancelled, 0);
  job->t0 = sy__now_ns();
  return 0;
}

void sy__events_free(sy_job *job) {
  /* A runner that emits STARTED for steps run elsewhere (procs, mpi) may
   * leave this thread pointing at the job: no note may reach it now. */
  if (note_to.job == job)
    note_to.job = NULL;
  for (size_t i = 0; i < job->n_listeners; i++)
    if (job->listeners[i].done)
      job->listeners[i].done(job->listeners[i].ud, job);
  if (job->started)
    pthread_mutex_destroy(&job->emit_lock);
  free(job->started);
  free(job->attempts);
  free(job->ran);
  free(job->listeners);
}

int sy_job_listen_until_free(sy_job *job, sy_listener_fn fn,
                             sy_listener_done_fn done, void *ud) {
  struct sy__listener *l =
      realloc(job->listeners, (job->n_listeners + 1) * sizeof *l);
  if (!l)
    return SY_ENOMEM;
  l[job->n_listeners].fn = fn;
  l[job->n_listeners].done = done;
  l[job->n_listeners].ud = ud;
  job->listeners = l;
  job->n_listeners++;
  return 0;
}

int sy_job_listen(sy_job *job, sy_listener_fn fn, void *ud) {
  return sy_job_listen_until_free(job, fn, NULL, ud);
}

void *sy_job_listener_data(const sy_job *job, sy_listener_fn fn) {
  for (size_t i = 0; job && i < job->n_listeners; i++)
    if (job->listeners[i].fn == fn)
      return job->listeners[i].ud;
  return NULL;
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
  sy_event ev = {sizeof ev, type, (uint32_t)step, this_worker, now, 0,
                 code,      0,    message};
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
