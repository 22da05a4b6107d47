/*
 * switchyard/event.h - what happens to each step of a job, as it happens.
 *
 * sy_job_run_step() emits STARTED and then DONE, CACHED or FAILED for the
 * step it runs; sy_job_run() emits QUEUED for every step before the runner
 * starts. A runner that executes steps elsewhere (another process, another
 * machine) emits STARTED/DONE/FAILED itself with sy_job_emit(), and so do
 * runners for RETRIED (a failed step is run again) and SKIPPED (keep-going
 * mode: a step downstream of a failure is not run).
 *
 * NOTE (since ABI 1.3) carries something a user may want to know that is
 * no error, from the code running a step: an actor that leaves out an
 * input column it cannot use says so with sy_note(), and the command line
 * prints notes at -v. A listener must ignore event types it does not
 * know: later minors may add more.
 *
 * WARNING (since ABI 1.4) is something the user should see even without
 * -v, from a runner: a step that ran past its flow `timeout` on a runner
 * that cannot interrupt it (runner-inline), a step asking more cpus than
 * the runner has. The message names the step's limit; the command line
 * prints warnings on stderr, and the run log records them.
 *
 * Listeners are called synchronously, from whichever thread emitted, one
 * at a time (the job serializes them), so a listener needs no locking of
 * its own but must be quick. With no listener, emitting costs one branch.
 *
 * Since ABI 1.0.
 */
#ifndef SWITCHYARD_EVENT_H
#define SWITCHYARD_EVENT_H

#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "runner.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sy_event_type {
  SY_EVENT_QUEUED = 1,
  SY_EVENT_STARTED = 2,
  SY_EVENT_CACHED = 3,
  SY_EVENT_DONE = 4,
  SY_EVENT_FAILED = 5,
  SY_EVENT_RETRIED = 6,
  SY_EVENT_SKIPPED = 7,
  SY_EVENT_NOTE = 8,   /* since ABI 1.3 */
  SY_EVENT_WARNING = 9 /* since ABI 1.4 */
} sy_event_type;

/* "queued", "started", ... */
SY_API const char *sy_event_name(sy_event_type type);

typedef struct sy_event {
  uint32_t size; /* sizeof(sy_event) */
  sy_event_type type;
  uint32_t step;
  int32_t worker;      /* the runner's worker number; -1 when none */
  int64_t time_ns;     /* since the job started (monotonic clock) */
  int64_t duration_ns; /* DONE, CACHED, FAILED: since STARTED; else 0 */
  int code;            /* FAILED, RETRIED: the error code; else 0 */
  uint32_t attempt;    /* 1 for the first run of a step, 2 after a retry */
  const char *message; /* FAILED, RETRIED: the error; NOTE, WARNING: it
                          (borrowed); or NULL */
} sy_event;

typedef void (*sy_listener_fn)(void *ud, const sy_job *job,
                               const sy_event *event);

/* Adds a listener; call before the job runs. Returns 0 or SY_ENOMEM. */
SY_API int sy_job_listen(sy_job *job, sy_listener_fn fn, void *ud);

/* Called once for a listener when its job is freed. */
typedef void (*sy_listener_done_fn)(void *ud, const sy_job *job);
/* sy_job_listen with an end: done(ud, job) is called once from
 * sy_job_free(), after the job's last event and while the job and its
 * program can still be read, in the order the listeners were added; the
 * listener owns ud and frees it there (done may be NULL). On SY_ENOMEM
 * nothing is added and done is not called. Call before the job runs, from
 * one thread. Since ABI 1.3. */
SY_API int sy_job_listen_until_free(sy_job *job, sy_listener_fn fn,
                                    sy_listener_done_fn done, void *ud);
/* The ud of the first listener added with fn, or NULL (borrowed): how
 * an API that added a listener finds its state again. Not while
 * listeners are being added. Since ABI 1.3. */
SY_API void *sy_job_listener_data(const sy_job *job, sy_listener_fn fn);
/* Emits an event for a step (time is taken now). For STARTED the job
 * remembers the time, so the matching DONE/FAILED carries the duration. */
SY_API void sy_job_emit(sy_job *job, sy_event_type type, size_t step, int code,
                        const char *message);
/* Reports a note (printf-style; one line, no newline needed) about the
 * step this thread is running: a NOTE event for that step, with duration
 * 0. For actors, from create, train, apply or state_load: e.g.
 * "std.scaler: column 'name' is text (string), not scaled". The step is
 * the one sy_job_run_step (or sy_job_exec_stored) last emitted STARTED
 * for on this thread, until its DONE, CACHED or FAILED; outside a step
 * (an actor called directly, the row-call fast path) the note goes
 * nowhere. A step whose result comes from the cache runs no actor and
 * so repeats no note; notes of a step run in another process reach that
 * process's listeners. Costs one branch when nobody listens. Any thread.
 * Since ABI 1.3. */
SY_API void sy_note(const char *fmt, ...) SY_PRINTF(1, 2);

/* The worker number this thread's events carry (thread-local; -1 by
 * default). Runners call it once at the start of each worker thread, and
 * before emitting on behalf of a remote worker. */
SY_API void sy_job_set_worker(int worker);

/* Built-in listeners (services/listeners.c, on the API above); the files
 * are written as events arrive (the trace is completed when the job is
 * freed). Each returns 0 or SY_EIO. */
/* One JSON object per line: event, step, label, key, worker, t, dur. */
SY_API int sy_job_log_to(sy_job *job, const char *path, sy_error *err);
/* A Chrome trace (opens in Perfetto): one row per worker. */
SY_API int sy_job_trace_to(sy_job *job, const char *path, sy_error *err);
/* A single progress line, redrawn in place on `tty`, at most ten times a
 * second: done/total, failed, running, elapsed. The line is cleared when
 * a sink step starts and drawn again once it is done, so a sink writing
 * to the same terminal never shares a line with it. (--log and --trace
 * files are opened with sy_output_stream(), switchyard/file.h: a device,
 * FIFO, socket or folder is refused.) */
SY_API int sy_job_progress_to(sy_job *job, FILE *tty, sy_error *err);
/* Since ABI 1.3. Ends the progress line, if one is drawn (a newline after
 * its last state), so that what is printed next, an error above all,
 * starts on a line of its own. Call it when sy_job_run() returns, before
 * printing. Not to be called while the job runs. */
SY_API void sy_job_progress_end(sy_job *job);

/* Asks the job to stop: runners start no new step and return
 * SY_ECANCELED once the running ones finish. Async-signal-safe. */
SY_API void sy_job_cancel(sy_job *job);
SY_API int sy_job_cancelled(const sy_job *job);

#ifdef __cplusplus
}
#endif
#endif /* SWITCHYARD_EVENT_H */
