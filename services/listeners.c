/*
 * listeners.c - the listeners that write files: a JSON-lines log
 * (--log), a Chrome trace (--trace) and a progress line on a terminal.
 *
 * Each is an ordinary listener on the core's event bus (switchyard/
 * event.h) that owns its state and is ended by the job
 * (sy_job_listen_until_free): the log is closed, the trace written out
 * and closed, the progress line ended, when the job is freed. Listeners
 * are called one at a time (the bus's emit lock), so none locks.
 */
#include "switchyard/event.h"
#include "switchyard/file.h"
#include "switchyard/flow.h"
#include "switchyard/runner.h"

#include <stdio.h>
#include <stdlib.h>

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
  fprintf(f,
          "{\"event\":\"%s\",\"step\":%u,\"label\":", sy_event_name(ev->type),
          ev->step);
  json_str(f, sy_job_step_label(job, ev->step));
  fprintf(f,
          ",\"key\":\"%s\",\"worker\":%d,\"t\":%.6f,\"dur\":%.6f,"
          "\"attempt\":%u",
          sy_job_step_key(job, ev->step), ev->worker, ev->time_ns / 1e9,
          ev->duration_ns / 1e9, ev->attempt);
  if (ev->message) {
    fputs(ev->type == SY_EVENT_NOTE      ? ",\"note\":"
          : ev->type == SY_EVENT_WARNING ? ",\"warning\":"
                                         : ",\"error\":",
          f);
    json_str(f, ev->message);
  }
  fputs("}\n", f);
  if (ev->type == SY_EVENT_FAILED || ev->type == SY_EVENT_DONE)
    fflush(f);
}

static void log_done(void *ud, const sy_job *job) {
  (void)job;
  fclose(ud);
}

int sy_job_log_to(sy_job *job, const char *path, sy_error *err) {
  FILE *f = NULL;
  int rc = sy_output_stream(path, &f, err);
  if (rc) {
    sy_error_prefix(err, "the run log (--log)");
    return rc;
  }
  if (sy_job_listen_until_free(job, log_listener, log_done, f) != 0) {
    fclose(f);
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  }
  return 0;
}

/* ---- Chrome trace --------------------------------------------------- */

typedef struct trace_span {
  uint32_t step;
  int32_t worker;
  int64_t start, dur;
  uint8_t failed;
} trace_span;

typedef struct trace {
  FILE *f;
  trace_span *spans;
  size_t n_spans, cap_spans;
} trace;

static void trace_listener(void *ud, const sy_job *job, const sy_event *ev) {
  (void)job;
  trace *o = ud;
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

/* Written whole when the job is freed. */
static void trace_done(void *ud, const sy_job *job) {
  trace *o = ud;
  FILE *f = o->f;
  fputs("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n", f);
  fprintf(f,
          "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"args\":"
          "{\"name\":\"switchyard %s\"}}",
          sy_program_name(sy_job_program(job)));
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
  fclose(f);
  free(o->spans);
  free(o);
}

int sy_job_trace_to(sy_job *job, const char *path, sy_error *err) {
  trace *o = calloc(1, sizeof *o);
  if (!o)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  int rc = sy_output_stream(path, &o->f, err);
  if (rc) {
    free(o);
    sy_error_prefix(err, "the trace (--trace)");
    return rc;
  }
  if (sy_job_listen_until_free(job, trace_listener, trace_done, o) != 0) {
    fclose(o->f);
    free(o);
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  }
  return 0;
}

/* ---- progress line -------------------------------------------------- */

typedef struct progress {
  FILE *tty;
  size_t done, failed, running, total;
  int64_t last_draw;
  int drawn;       /* the line is on the terminal, not ended */
  size_t in_sinks; /* sink steps running: the line stays off meanwhile */
} progress;

static void draw(progress *o, int64_t now) {
  if (o->in_sinks)
    return;
  fprintf(o->tty, "\r\033[K[%zu/%zu] failed %zu, running %zu, %.1fs", o->done,
          o->total, o->failed, o->running, now / 1e9);
  fflush(o->tty);
  o->last_draw = now;
  o->drawn = 1;
}

/* Takes the line off the terminal (a sink is about to write there). */
static void clear_line(progress *o) {
  if (!o->drawn)
    return;
  fputs("\r\033[K", o->tty);
  fflush(o->tty);
  o->drawn = 0;
}

static void progress_listener(void *ud, const sy_job *job, const sy_event *ev) {
  progress *o = ud;
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

static void progress_done(void *ud, const sy_job *job) {
  (void)job;
  progress *o = ud;
  if (o->drawn)
    fputc('\n', o->tty);
  free(o);
}

void sy_job_progress_end(sy_job *job) {
  progress *o = job ? sy_job_listener_data(job, progress_listener) : NULL;
  if (!o || !o->drawn)
    return;
  fputc('\n', o->tty);
  fflush(o->tty);
  o->drawn = 0;
}

int sy_job_progress_to(sy_job *job, FILE *tty, sy_error *err) {
  progress *o = calloc(1, sizeof *o);
  if (!o)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  o->tty = tty;
  if (sy_job_listen_until_free(job, progress_listener, progress_done, o) != 0) {
    free(o);
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  }
  return 0;
}
