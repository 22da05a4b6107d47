/*
 * procs.c - mode processes: actor steps run in forked worker processes, so
 * a step that crashes, hangs or corrupts its memory takes only its worker
 * with it.
 *
 * Design note.
 *
 * Who runs what. The job says (sy_job_step_class): PURE steps (the ones
 * that run actor code, ours or a third party's) go to workers; LOCAL and
 * ROUTE steps run in the parent with sy_job_run_step(), so every side
 * effect (reading the feed, writing the sink, committing states) happens
 * in one process, once. Their events carry worker -1, as for any step that no
 * worker ran; remote steps carry the worker's slot number 0..W-1 (a
 * replacement worker keeps the number of the one it replaces).
 *
 * Workers. The run forks min(workers, actor steps) workers at its start;
 * each inherits the job (program, platform, actor plugins) and so needs
 * nothing but the step number and its input values. Parent and worker
 * talk over one socketpair per worker (send() with MSG_NOSIGNAL, so a
 * write to a dead worker is an EPIPE, never a SIGPIPE, and the host's
 * signal mask is left alone). Frames, in host byte order (both ends are
 * the same binary on the same machine):
 *
 *   request  u32 step, u32 n_inputs, then per input u64 length + bytes of
 *            sy_value_encode()
 *   reply    i32 code, u32 count; code 0: count outputs, each u64 length +
 *            encoded bytes; code < 0: a message of count bytes
 *
 * A worker runs sy_step_execute() on the decoded inputs; it emits no
 * events and changes no state the parent can see. Before each fork the
 * parent flushes stdout and stderr, and a worker flushes them after each
 * step and leaves with _exit(): so actor output is written once, and the
 * parent's buffers and atexit handlers never run twice. Workers ignore
 * SIGINT (Ctrl-C reaches the whole process group; the parent decides,
 * through cancellation) and, on Linux, get SIGKILL if the thread that
 * forked them dies, so a killed parent leaves no orphan running a step.
 * The sockets are close-on-exec and each worker closes the parent's ends
 * of the other workers' sockets, so that closing a socket is always seen
 * as EOF by its worker (and a dead worker as EOF by the parent) even when
 * a step starts subprocesses of its own.
 *
 * The parent is one single-threaded event loop around the runner SDK's
 * scheduler (sy_sched): ready parent steps are run at once, ready PURE
 * steps are dispatched to idle workers (each the lowest-numbered ready
 * one); poll() then waits for replies, for at most the time to the
 * earliest step deadline or due retry, and at most 100 ms while anything
 * runs, so cancellation is noticed quickly. Requests and
 * replies are sent and read whole, blocking: the other end is always
 * ready for them, so this never waits on a step, only on a copy.
 *
 * fork() copies only the calling thread: a host that runs this mode while
 * other threads hold locks that actor code needs would deadlock its
 * workers (glibc keeps malloc and stdio usable after fork). The runner's
 * own state is touched by the parent's loop thread alone.
 *
 * Failures (the policy is described in dask.c and decided by the
 * scheduler, as for every runner built on the SDK): a worker that dies (EOF on
 * its socket, then waitpid) fails only its step, with SY_ECRASHED and the
 * signal or exit status in the message; one that runs past `timeout` is
 * SIGKILLed and its step fails with SY_ETIMEOUT. Either way the worker is
 * reaped and replaced by a fresh fork. Parent steps cannot be killed, so
 * the timeout applies to worker steps only. A failed attempt emits FAILED
 * (as sy_job_run_step() does for parent steps), then RETRIED when it will
 * run again after the backoff: the loop keeps serving other workers
 * meanwhile instead of sleeping. Cancellation SIGKILLs busy workers (their
 * steps fail with SY_ECANCELED) and the run returns SY_ECANCELED.
 *
 * At the end every worker's socket is closed (an idle worker reads EOF
 * and exits) and every worker is reaped; one that has not exited within
 * two seconds is killed first. No zombie or orphan outlives the run.
 */
#include "modes.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

/* The longest encoded value a frame may claim: a value's body is at most
 * SY_VALUE_MAX_BYTES; the rest is room for its header and column names. */
#define WIRE_MAX_VALUE ((uint64_t)SY_VALUE_MAX_BYTES + ((uint64_t)1 << 24))
/* Most inputs a request may claim (a step reads far fewer). */
#define WIRE_MAX_INPUTS (1u << 20)
/* Longest poll() while steps run, so that a cancel is noticed. */
#define TICK_NS 100000000LL
/* How long a worker may take to exit after its socket is closed. */
#define EXIT_GRACE_NS 2000000000LL

/* What the parent runs, and what goes to workers. */
#define PARENT_STEPS                                                           \
  (SY_SCHED_CLASS(SY_STEP_LOCAL) | SY_SCHED_CLASS(SY_STEP_ROUTE))
#define WORKER_STEPS SY_SCHED_CLASS(SY_STEP_PURE)

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- whole-frame I/O, for both ends ------------------------------------- */

static int send_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t k = send(fd, p, len, MSG_NOSIGNAL);
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0)
      return -1;
    p += k;
    len -= (size_t)k;
  }
  return 0;
}

/* 0: all len bytes read; 1: end of file (the other end is gone); -1: an
 * error (ECONNRESET counts as the other end being gone too). */
static int recv_all(int fd, void *buf, size_t len) {
  char *p = buf;
  while (len > 0) {
    ssize_t k = read(fd, p, len);
    if (k < 0 && errno == EINTR)
      continue;
    if (k == 0 || (k < 0 && errno == ECONNRESET))
      return 1;
    if (k < 0)
      return -1;
    p += k;
    len -= (size_t)k;
  }
  return 0;
}

/* An encoded value, ready to go out as u64 length + bytes. */
typedef struct wire_value {
  void *buf;
  size_t len;
} wire_value;

/* Encodes n values; returns 0 or the first failure's code (and frees what
 * it made). */
static int encode_all(const sy_value *const *v, size_t n, wire_value *w) {
  for (size_t k = 0; k < n; k++) {
    int rc = sy_value_encode(v[k], &w[k].buf, &w[k].len);
    if (rc) {
      for (size_t j = 0; j < k; j++)
        free(w[j].buf);
      return rc;
    }
  }
  return 0;
}

/* Sends n encoded values (only frees them when rc is already -1) and
 * frees them; returns -1 when the other end is gone, else rc. */
static int send_encoded(int fd, wire_value *w, size_t n, int rc) {
  for (size_t k = 0; k < n; k++) {
    uint64_t len = w[k].len;
    if (rc == 0)
      rc = send_all(fd, &len, sizeof len) || send_all(fd, w[k].buf, w[k].len)
               ? -1
               : 0;
    free(w[k].buf);
  }
  return rc;
}

/* Reads one u64 length + encoding and decodes it. Returns 0 with *out set;
 * 1 or -1 as recv_all (or -1 for a length beyond the limits: the stream
 * can no longer be trusted); 2 when the bytes arrived but do not decode
 * (*code and err say why; the stream is still in step). */
static int recv_value(int fd, sy_value **out, int *code, sy_error *err) {
  uint64_t n = 0;
  int r = recv_all(fd, &n, sizeof n);
  if (r)
    return r;
  if (n > WIRE_MAX_VALUE)
    return -1;
  void *buf = malloc(n ? (size_t)n : 1);
  if (!buf)
    return -1;
  r = recv_all(fd, buf, (size_t)n);
  if (r == 0) {
    *code = sy_value_decode(buf, (size_t)n, out, err);
    r = *code ? 2 : 0;
  }
  free(buf);
  return r;
}

/* ---- the worker --------------------------------------------------------- */

static int reply_error(int fd, int code, const char *message) {
  size_t len = strlen(message);
  int32_t hdr[2] = {code < 0 ? code : SY_EFAILED, (int32_t)len};
  return send_all(fd, hdr, sizeof hdr) || send_all(fd, message, len) ? -1 : 0;
}

/* Runs one request; -1 when the parent is gone or the stream is broken. */
static int serve(sy_job *job, int fd, uint32_t step, uint32_t n_in) {
  sy_error err;
  sy_error_clear(&err);
  if (step >= sy_job_size(job) || n_in > WIRE_MAX_INPUTS)
    return -1;
  size_t n_out = sy_job_step_outputs(job, step);
  sy_value **in = calloc(n_in ? n_in : 1, sizeof *in);
  sy_value **out = calloc(n_out ? n_out : 1, sizeof *out);
  wire_value *wire = calloc(n_out ? n_out : 1, sizeof *wire);
  int rc = 0, broken = 0;
  if (!in || !out || !wire) {
    broken = 1; /* the inputs cannot be drained without memory */
    goto done;
  }
  for (uint32_t i = 0; i < n_in; i++) {
    int code = 0;
    int r = recv_value(fd, &in[i], &code, rc ? NULL : &err);
    if (r == 1 || r == -1) {
      broken = 1;
      goto done;
    }
    if (r == 2 && rc == 0) {
      rc = code;
      sy_error_prefix(&err, "input %u did not reach the worker intact", i);
    }
  }
  if (rc == 0)
    rc = sy_step_execute(job, step, (const sy_value *const *)in, n_in, out,
                         &err);
  if (rc == 0 &&
      (rc = encode_all((const sy_value *const *)out, n_out, wire)) != 0)
    sy_error_set(&err, rc, "cannot send the result back: %s", sy_strerror(rc));
  /* Whatever the actor printed goes out now, before the parent moves on. */
  fflush(stdout);
  fflush(stderr);
  if (rc == 0) {
    int32_t hdr[2] = {0, (int32_t)n_out};
    broken = send_encoded(fd, wire, n_out, send_all(fd, hdr, sizeof hdr)) != 0;
  } else {
    broken = reply_error(fd, rc, err.message) != 0;
  }
done:
  for (uint32_t i = 0; in && i < n_in; i++)
    sy_value_unref(in[i]);
  for (size_t k = 0; out && k < n_out; k++)
    sy_value_unref(out[k]);
  free(in);
  free(out);
  free(wire);
  return broken ? -1 : 0;
}

static _Noreturn void worker_main(sy_job *job, int fd) {
  signal(SIGINT, SIG_IGN);
  for (;;) {
    uint32_t hdr[2];
    int r = recv_all(fd, hdr, sizeof hdr);
    if (r == 1)
      _exit(0); /* the parent closed the socket: the run is over */
    if (r != 0 || serve(job, fd, hdr[0], hdr[1]) != 0)
      _exit(1);
  }
}

/* ---- the parent's state ------------------------------------------------- */

typedef struct worker {
  pid_t pid;        /* 0 when the slot has no process */
  int fd;           /* the parent's end of the socketpair; -1 when none */
  long step;        /* the step it runs; -1 when idle */
  int64_t deadline; /* monotonic ns when its step times out; 0 = never */
} worker;

typedef struct pool {
  const dask *d;
  sy_job *job;
  size_t n;
  worker *w;
  int nw;
  sy_sched *S; /* ready steps, retries, the first failure */
  sy_error tmp;
} pool;

/* Writes "200ms", "1.5s", ... for a duration in ns. */
static void format_duration(int64_t ns, char *buf, size_t cap) {
  if (ns % 1000000000 == 0)
    snprintf(buf, cap, "%llds", (long long)(ns / 1000000000));
  else if (ns >= 1000000000)
    snprintf(buf, cap, "%.3gs", (double)ns / 1e9);
  else if (ns % 1000000 == 0)
    snprintf(buf, cap, "%lldms", (long long)(ns / 1000000));
  else if (ns % 1000 == 0)
    snprintf(buf, cap, "%lldus", (long long)(ns / 1000));
  else
    snprintf(buf, cap, "%lldns", (long long)ns);
}

/* ---- workers' lives ----------------------------------------------------- */

static int spawn(pool *p, int i, sy_error *err) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return sy_error_set(err, SY_EIO,
                        "runner dask: cannot start worker %d: "
                        "socketpair: %s",
                        i, strerror(errno));
  /* A byte left in a stdio buffer now would be written by both. */
  fflush(stdout);
  fflush(stderr);
#ifdef __linux__
  pid_t parent = getpid();
#endif
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(sv[0]);
    close(sv[1]);
    return sy_error_set(err, SY_EIO,
                        "runner dask: cannot start worker %d: "
                        "fork: %s",
                        i, strerror(e));
  }
  if (pid == 0) {
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
      _exit(1);
#endif
    for (int k = 0; k < p->nw; k++)
      if (p->w[k].fd >= 0)
        close(p->w[k].fd);
    close(sv[0]);
    worker_main(p->job, sv[1]);
  }
  close(sv[1]);
  p->w[i] = (worker){pid, sv[0], -1, 0};
  return 0;
}

/* Waits for a worker that is gone or going; *status as waitpid's. Returns
 * 0, or -1 when its status cannot be had (the host reaps children). */
static int reap(pid_t pid, int *status) {
  for (;;) {
    pid_t r = waitpid(pid, status, 0);
    if (r == pid)
      return 0;
    if (r < 0 && errno != EINTR)
      return -1;
  }
}

/* Empties slot i: its process is already dead or killed. */
static void bury(pool *p, int i, int *status, bool *known) {
  worker *w = &p->w[i];
  close(w->fd);
  *known = reap(w->pid, status) == 0;
  *w = (worker){0, -1, -1, 0};
}

/* Replaces a lost worker unless nothing more will be dispatched; a fork
 * that fails leaves the slot empty, and dispatch tries again. */
static void replace(pool *p, int i) {
  if (!sy_sched_stopping(p->S))
    (void)spawn(p, i, &p->tmp);
}

/* ---- step outcomes ------------------------------------------------------ */

/* Fails the step worker i runs (the worker is already buried). */
static void remote_failed(pool *p, int i, size_t s, int code,
                          const char *message) {
  sy_job_set_worker(i);
  sy_job_emit(p->job, SY_EVENT_FAILED, s, code, message);
  sy_sched_failed(p->S, s, code, message);
}

/* ---- running steps ------------------------------------------------------ */

static void run_local(pool *p, size_t s) {
  sy_job_set_worker(-1);
  sy_error_clear(&p->tmp);
  int rc = sy_job_run_step(p->job, s, &p->tmp);
  if (rc == 0)
    sy_sched_done(p->S, s);
  else
    sy_sched_failed(p->S, s, rc, p->tmp.message); /* FAILED was emitted */
}

/* Worker i's process is gone (EOF, or a broken stream: then it is killed
 * first). Fails its step, if any, and replaces it. */
static void worker_lost(pool *p, int i, bool kill_it, const char *what) {
  worker *w = &p->w[i];
  pid_t pid = w->pid;
  long s = w->step;
  if (kill_it)
    kill(pid, SIGKILL);
  int status = 0;
  bool known = false;
  bury(p, i, &status, &known);
  if (s >= 0) {
    char how[160];
    if (what)
      snprintf(how, sizeof how, "%s", what);
    else if (!known)
      snprintf(how, sizeof how,
               "died (its exit status was taken by "
               "someone else)");
    else if (WIFSIGNALED(status))
      snprintf(how, sizeof how, "died from signal %d (%s)", WTERMSIG(status),
               strsignal(WTERMSIG(status)));
    else
      snprintf(how, sizeof how, "exited with status %d",
               WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    sy_error_set(&p->tmp, SY_ECRASHED,
                 "worker %d (pid %ld) %s while running step %ld (%s)", i,
                 (long)pid, how, s, sy_job_step_label(p->job, (size_t)s));
    remote_failed(p, i, (size_t)s, SY_ECRASHED, p->tmp.message);
  }
  replace(p, i);
}

/* Sends step s to idle worker i. */
static void dispatch(pool *p, int i, size_t s) {
  worker *w = &p->w[i];
  size_t n_in = sy_job_step_input_count(p->job, s);
  const sy_value **in = malloc((n_in ? n_in : 1) * sizeof *in);
  wire_value *wire = calloc(n_in ? n_in : 1, sizeof *wire);
  int code = in && wire ? 0 : SY_ENOMEM;
  sy_job_set_worker(i);
  sy_job_emit(p->job, SY_EVENT_STARTED, s, 0, NULL);
  if (code == 0) {
    n_in = sy_job_step_input_values(p->job, s, in, n_in);
    code = encode_all(in, n_in, wire);
  }
  free(in);
  if (code) {
    /* Nothing was sent: the worker stays idle and the step fails alone. */
    free(wire);
    sy_error_set(&p->tmp, code,
                 "step %zu (%s): cannot send its inputs to "
                 "worker %d: %s",
                 s, sy_job_step_label(p->job, s), i, sy_strerror(code));
    remote_failed(p, i, s, code, p->tmp.message);
    return;
  }
  w->step = (long)s;
  uint32_t hdr[2] = {(uint32_t)s, (uint32_t)n_in};
  int r = send_encoded(w->fd, wire, n_in, send_all(w->fd, hdr, sizeof hdr));
  free(wire);
  if (r != 0) {
    /* It died before it had the whole request: its step fails with it. */
    worker_lost(p, i, true, NULL);
    return;
  }
  w->deadline = p->d->cfg.timeout > 0 ? now_ns() + p->d->cfg.timeout : 0;
}

/* Reads worker i's reply to its step. */
static void receive(pool *p, int i) {
  worker *w = &p->w[i];
  if (w->step < 0) {
    /* An idle worker only ever speaks by exiting. */
    worker_lost(p, i, true, NULL);
    return;
  }
  size_t s = (size_t)w->step;
  int32_t hdr[2];
  int r = recv_all(w->fd, hdr, sizeof hdr);
  if (r) {
    worker_lost(p, i, r < 0, NULL);
    return;
  }
  size_t n_out = sy_job_step_outputs(p->job, s);
  if (hdr[0] < 0) {
    char msg[SY_ERROR_MAX];
    if (hdr[1] < 0 || (size_t)hdr[1] >= sizeof msg) {
      worker_lost(p, i, true, "broke the reply protocol");
      return;
    }
    if ((r = recv_all(w->fd, msg, (size_t)hdr[1])) != 0) {
      worker_lost(p, i, r < 0, NULL);
      return;
    }
    msg[hdr[1]] = '\0';
    w->step = -1;
    w->deadline = 0;
    sy_error_set(&p->tmp, hdr[0], "step %zu (%s): %s", s,
                 sy_job_step_label(p->job, s), msg);
    remote_failed(p, i, s, hdr[0], p->tmp.message);
    return;
  }
  if (hdr[0] != 0 || (size_t)hdr[1] != n_out) {
    worker_lost(p, i, true, "broke the reply protocol");
    return;
  }
  sy_value **out = calloc(n_out ? n_out : 1, sizeof *out);
  int code = 0;
  sy_error derr;
  sy_error_clear(&derr);
  for (size_t k = 0; out && k < n_out && code == 0; k++) {
    r = recv_value(w->fd, &out[k], &code, &derr);
    if (r == 1 || r == -1) {
      for (size_t j = 0; j < k; j++)
        sy_value_unref(out[j]);
      free(out);
      worker_lost(p, i, r < 0, r < 0 ? "broke the reply protocol" : NULL);
      return;
    }
  }
  w->step = -1;
  w->deadline = 0;
  if (!out || code) {
    /* A value that will not decode leaves the rest of the reply unread:
     * the stream cannot be trusted, so the worker goes too. */
    for (size_t k = 0; out && k < n_out; k++)
      sy_value_unref(out[k]);
    free(out);
    if (!out)
      code = SY_ENOMEM;
    sy_error_set(&p->tmp, code,
                 "step %zu (%s): the result from worker %d "
                 "is damaged: %s",
                 s, sy_job_step_label(p->job, s), i,
                 out ? derr.message : "out of memory");
    char msg[SY_ERROR_MAX];
    snprintf(msg, sizeof msg, "%s", p->tmp.message);
    worker_lost(p, i, true, NULL);
    remote_failed(p, i, s, code, msg);
    return;
  }
  int rc = sy_job_step_done(p->job, s, out); /* takes the values */
  free(out);
  sy_job_set_worker(i);
  if (rc) {
    sy_error_set(&p->tmp, rc, "step %zu (%s): %s", s,
                 sy_job_step_label(p->job, s), sy_strerror(rc));
    sy_job_emit(p->job, SY_EVENT_FAILED, s, rc, p->tmp.message);
    sy_sched_failed(p->S, s, rc, p->tmp.message);
    return;
  }
  sy_job_emit(p->job, SY_EVENT_DONE, s, 0, NULL);
  sy_sched_done(p->S, s);
}

static void time_out(pool *p, int i) {
  size_t s = (size_t)p->w[i].step;
  char limit[32], msg[SY_ERROR_MAX];
  format_duration(p->d->cfg.timeout, limit, sizeof limit);
  snprintf(msg, sizeof msg,
           "step %zu (%s) ran longer than %s; its worker was killed", s,
           sy_job_step_label(p->job, s), limit);
  p->w[i].step = -1;
  worker_lost(p, i, true, NULL);
  remote_failed(p, i, s, SY_ETIMEOUT, msg);
}

/* Cancellation: kill the busy workers and fail their steps. */
static void cancel_running(pool *p) {
  for (int i = 0; i < p->nw; i++) {
    if (p->w[i].pid == 0 || p->w[i].step < 0)
      continue;
    size_t s = (size_t)p->w[i].step;
    char msg[SY_ERROR_MAX];
    snprintf(msg, sizeof msg,
             "step %zu (%s): canceled; its worker was "
             "killed",
             s, sy_job_step_label(p->job, s));
    p->w[i].step = -1;
    worker_lost(p, i, true, NULL); /* not replaced: the run is over */
    remote_failed(p, i, s, SY_ECANCELED, msg);
  }
}

/* How long poll() may sleep, in ms. */
static int poll_timeout(const pool *p, int64_t now) {
  int64_t until = -1, due = sy_sched_due(p->S);
  if (sy_sched_running(p->S) > 0 || due)
    until = now + TICK_NS;
  for (int i = 0; i < p->nw; i++)
    if (p->w[i].step >= 0 && p->w[i].deadline &&
        (until < 0 || p->w[i].deadline < until))
      until = p->w[i].deadline;
  if (due && (until < 0 || due < until))
    until = due;
  if (until < 0)
    until = now + TICK_NS; /* not expected: nothing runs or waits */
  int64_t ms = until > now ? (until - now + 999999) / 1000000 : 0;
  return (int)(ms > 1000 ? 1000 : ms);
}

/* Closes every socket and reaps every worker; idle workers exit on EOF,
 * and anything still alive after EXIT_GRACE_NS is killed. */
static void shutdown_workers(pool *p) {
  for (int i = 0; i < p->nw; i++) {
    if (p->w[i].pid == 0)
      continue;
    if (p->w[i].step >= 0)
      kill(p->w[i].pid, SIGKILL);
    close(p->w[i].fd);
    p->w[i].fd = -1;
  }
  int64_t give_up = now_ns() + EXIT_GRACE_NS;
  for (int i = 0; i < p->nw; i++) {
    pid_t pid = p->w[i].pid;
    if (pid == 0)
      continue;
    int status;
    for (;;) {
      pid_t r = waitpid(pid, &status, WNOHANG);
      if (r == pid || (r < 0 && errno != EINTR))
        break;
      if (r == 0 && now_ns() >= give_up) {
        kill(pid, SIGKILL);
        (void)reap(pid, &status);
        break;
      }
      struct timespec ts = {0, 5000000};
      nanosleep(&ts, NULL);
    }
    p->w[i].pid = 0;
  }
}

/* ---- the event loop ----------------------------------------------------- */

static int loop(pool *p, sy_error *err) {
  struct pollfd *pfd = calloc((size_t)p->nw + 1, sizeof *pfd);
  int *who = calloc((size_t)p->nw + 1, sizeof *who);
  int rc = 0;
  if (!pfd || !who) {
    rc = sy_error_set(err, SY_ENOMEM, "runner dask: out of memory");
    goto done;
  }
  for (;;) {
    if (sy_job_cancelled(p->job)) {
      cancel_running(p);
      rc = SY_ECANCELED;
      break;
    }
    size_t s;
    while (sy_sched_next(p->S, PARENT_STEPS, &s))
      run_local(p, s);
    for (int i = 0; i < p->nw; i++) {
      if (p->w[i].pid != 0 && p->w[i].step >= 0)
        continue; /* busy */
      if (!sy_sched_next(p->S, WORKER_STEPS, &s))
        break;
      if (p->w[i].pid == 0 && spawn(p, i, &p->tmp) != 0) {
        sy_sched_untake(p->S, s); /* not attempted: ready again */
        continue;
      }
      dispatch(p, i, s);
    }
    if (sy_sched_ready(p->S, PARENT_STEPS) > 0 && !sy_sched_stopping(p->S))
      continue; /* a dispatch failure made parent steps ready */
    if (sy_sched_running(p->S) == 0) {
      if (sy_sched_finished(p->S))
        break;
      if (sy_sched_ready(p->S, WORKER_STEPS) > 0) {
        bool any = false;
        for (int i = 0; i < p->nw; i++)
          any |= p->w[i].pid != 0;
        if (!any) {
          /* Every fork failed: nothing can run the actor steps. */
          rc = sy_error_set(err, p->tmp.code ? p->tmp.code : SY_EIO, "%s",
                            p->tmp.message);
          break;
        }
      }
    }
    int nfd = 0;
    for (int i = 0; i < p->nw; i++)
      if (p->w[i].pid != 0) {
        pfd[nfd] = (struct pollfd){p->w[i].fd, POLLIN, 0};
        who[nfd++] = i;
      }
    int r = poll(pfd, (nfds_t)nfd, poll_timeout(p, now_ns()));
    if (r < 0 && errno != EINTR) {
      rc = sy_error_set(err, SY_EIO, "runner dask: poll: %s", strerror(errno));
      break;
    }
    for (int k = 0; r > 0 && k < nfd; k++)
      if (pfd[k].revents && p->w[who[k]].pid != 0 &&
          p->w[who[k]].fd == pfd[k].fd)
        receive(p, who[k]);
    int64_t now = now_ns();
    for (int i = 0; i < p->nw; i++)
      if (p->w[i].pid != 0 && p->w[i].step >= 0 && p->w[i].deadline &&
          now >= p->w[i].deadline)
        time_out(p, i);
  }
done:
  free(pfd);
  free(who);
  return rc;
}

int dask_procs_run(dask *d, sy_job *job, sy_error *err) {
  pool p = {.d = d, .job = job, .n = sy_job_size(job)};
  sy_error_clear(&p.tmp);
  sy_sched_policy pol = {.size = sizeof pol,
                         .keep_going = d->cfg.keep_going,
                         .retries = (uint32_t)d->cfg.retries,
                         .backoff_ns = d->cfg.backoff};
  int rc = sy_sched_new(job, &pol, &p.S, err);
  if (rc)
    return rc;
  size_t n_actor = 0;
  for (size_t s = 0; s < p.n; s++)
    n_actor += sy_job_step_class(job, s) == SY_STEP_PURE;
  p.nw = d->workers < 1 ? 1 : d->workers;
  if ((size_t)p.nw > n_actor)
    p.nw = (int)n_actor;
  p.w = calloc((size_t)p.nw + 1, sizeof *p.w);
  if (!p.w) {
    rc = sy_error_set(err, SY_ENOMEM, "runner dask: out of memory");
    goto fail;
  }
  for (int i = 0; i < p.nw; i++)
    p.w[i] = (worker){0, -1, -1, 0};
  for (int i = 0; i < p.nw; i++)
    if ((rc = spawn(&p, i, err)) != 0)
      goto fail;

  rc = loop(&p, err);
  if (rc == 0 || rc == SY_ECANCELED)
    rc = sy_sched_result(p.S, err); /* a cancel, the failures, or 0 */
fail:
  if (p.w)
    shutdown_workers(&p);
  sy_job_set_worker(-1);
  free(p.w);
  sy_sched_free(p.S);
  return rc;
}
