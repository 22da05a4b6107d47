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
 * nothing but the step numbers and their input values. Parent and worker
 * talk over one socketpair per worker (send() with MSG_NOSIGNAL, so a
 * write to a dead worker is an EPIPE, never a SIGPIPE, and the host's
 * signal mask is left alone). Frames, in host byte order (both ends are
 * the same binary on the same machine):
 *
 *   request  u64 length, u32 n_steps, u32 n_values, the values (each u64
 *            length + bytes of sy_value_encode()), then per step u32
 *            step, u32 n_inputs and n_inputs u32 references: a value of
 *            the request, or (REF_BATCH | k) output 0 of the k-th step of
 *            the same request
 *   reply    one per step, in order, sent as soon as the step ran: i32
 *            code, u32 count; code 0: count outputs, each u64 length +
 *            encoded bytes; code < 0: a message of count bytes, and the
 *            batch ends there
 *
 * Batches (issue 16: a round trip per step cost 115-145 us). A request
 * carries up to SPREAD_MAX ready steps (the ready ones shared out over the
 * idle workers), each followed by its *followers*: a waiting actor step
 * whose every input is a step of the same request is taken early
 * (sy_sched_take) and runs in the worker right after it, reading its
 * inputs there, so a chain goes to one worker in one request and its
 * values never wait on the parent. A value several steps of a request
 * read is sent once. Every output still comes back (the job keeps the
 * values and counts each step done), but as a stream the parent reads in
 * large chunks. The parent knows which step a worker runs: the first of
 * its batch without a reply, so timeouts, cancels and crashes name it as
 * before; the rest of a batch that ends early (a failure, a crash, a
 * timeout) goes back to the scheduler unattempted (sy_sched_untake) and
 * is dispatched again, or skipped, like any waiting step.
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
 * runs, so cancellation is noticed quickly. Requests are sent whole,
 * blocking, and only to an idle worker, whose replies are all read: the
 * other end is always ready for them, so this never waits on a step.
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
 * Per-step limits (a flow node's resources, issue 12). `timeout` replaces
 * the option for the node's steps: the deadline is set when the step
 * becomes its worker's current one. `retries` is the scheduler's.
 * `memory`: before running such a step the worker lowers its soft
 * RLIMIT_AS to its address space at that moment plus `memory` (relative,
 * because the worker is a fork of a host whose own mappings, or a
 * sanitizer's shadow, may already exceed any sensible absolute figure),
 * and puts the old limit back afterwards (a soft limit may be raised up
 * to the hard one). A step that fails or dies under a limit has it named
 * in its message. cgroup v2 would count resident memory rather than
 * address space, but needs a delegated hierarchy that a plain user (and
 * this CI's containers, cgroup v1) does not have.
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
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <switchyard/buf.h>

/* The longest encoded value a frame may claim: a value's body is at most
 * SY_VALUE_MAX_BYTES; the rest is room for its header and column names. */
#define WIRE_MAX_VALUE ((uint64_t)SY_VALUE_MAX_BYTES + ((uint64_t)1 << 24))
/* Most inputs a request may claim (a step reads far fewer). */
#define WIRE_MAX_INPUTS (1u << 20)
/* Longest poll() while steps run, so that a cancel is noticed. */
#define TICK_NS 100000000LL
/* How long a worker may take to exit after its socket is closed. */
#define EXIT_GRACE_NS 2000000000LL
/* Most steps in one request, followers included. */
#define BATCH_MAX 256
/* Most steps of one request that are ready when it is sent (each with
 * its inputs from the parent); the rest of a batch are followers. */
#define SPREAD_MAX 128
/* Stop adding ready steps to a request once its values reach this. */
#define BATCH_BYTES ((size_t)64 << 20)
/* An input reference to output 0 of an earlier step of the same batch
 * (else: the index of a value sent with the request). */
#define REF_BATCH 0x80000000u

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

static int put_u32(sy_buf *b, uint32_t v) {
  return sy_buf_add(b, &v, sizeof v);
}

/* Appends u64 length + the encoding of v; 0 or the encoder's code. */
static int put_value(sy_buf *b, const sy_value *v) {
  void *enc;
  size_t len;
  int rc = sy_value_encode(v, &enc, &len);
  if (rc)
    return rc;
  uint64_t n = len;
  rc = sy_buf_add(b, &n, sizeof n) || sy_buf_add(b, enc, len) ? SY_ENOMEM : 0;
  free(enc);
  return rc;
}

/* A cursor over a received frame: reads fail (return -1) past its end. */
typedef struct cursor {
  const char *p;
  size_t left;
} cursor;

static int get_bytes(cursor *c, void *out, size_t n) {
  if (c->left < n)
    return -1;
  memcpy(out, c->p, n);
  c->p += n;
  c->left -= n;
  return 0;
}

/* A u64 length + that many bytes: sets *at and *len, or returns -1. */
static int get_blob(cursor *c, const char **at, uint64_t *len) {
  if (get_bytes(c, len, sizeof *len) || *len > WIRE_MAX_VALUE || *len > c->left)
    return -1;
  *at = c->p;
  c->p += *len;
  c->left -= (size_t)*len;
  return 0;
}

/* ---- the worker --------------------------------------------------------- */

/* The worker's address space now, in bytes; 0 when unknown. */
static uint64_t address_space(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  unsigned long long pages = 0;
  if (f) {
    if (fscanf(f, "%llu", &pages) != 1)
      pages = 0;
    fclose(f);
  }
  long size = sysconf(_SC_PAGESIZE);
  return pages * (uint64_t)(size > 0 ? size : 4096);
}

/* A step's `memory`: the worker's address space may grow by that much
 * while the step runs (RLIMIT_AS, soft limit only, so it can be put back
 * afterwards; commands the step starts inherit it). Returns 1 when a
 * limit was set (*old holds what to put back), else 0. */
static int limit_memory(sy_job *job, size_t step, struct rlimit *old) {
  sy_step_resources res = {.size = sizeof res};
  if (sy_job_step_resources(job, step, &res) != 0 || res.memory == 0 ||
      getrlimit(RLIMIT_AS, old) != 0)
    return 0;
  uint64_t want = address_space();
  want = want > UINT64_MAX - res.memory ? UINT64_MAX : want + res.memory;
  struct rlimit lim = *old;
  if (lim.rlim_cur == RLIM_INFINITY || want < (uint64_t)lim.rlim_cur)
    lim.rlim_cur = (rlim_t)want;
  if (lim.rlim_max != RLIM_INFINITY && lim.rlim_cur > lim.rlim_max)
    lim.rlim_cur = lim.rlim_max;
  return setrlimit(RLIMIT_AS, &lim) == 0;
}

/* Appends an error reply: i32 code (< 0), u32 message length, message. */
static void put_error(sy_buf *b, int code, const char *message) {
  size_t len = strlen(message);
  int32_t hdr[2] = {code < 0 ? code : SY_EFAILED, (int32_t)len};
  sy_buf_add(b, hdr, sizeof hdr);
  sy_buf_add(b, message, len);
}

/* Runs one request (a batch of steps, in order): each step's reply is
 * sent as soon as it ran, so that a crash in a later step cannot lose
 * it. A step that fails ends the batch (the parent takes the rest back).
 * Returns -1 when the parent is gone or the request is malformed. */
static int serve(sy_job *job, int fd, const char *req, size_t len,
                 sy_buf *rep) {
  cursor c = {req, len};
  uint32_t n_steps, n_vals;
  if (get_bytes(&c, &n_steps, 4) || get_bytes(&c, &n_vals, 4) || n_steps == 0 ||
      n_steps > BATCH_MAX || n_vals > WIRE_MAX_INPUTS)
    return -1;
  sy_value **vals = calloc(n_vals ? n_vals : 1, sizeof *vals);
  sy_value ***outs = calloc(n_steps, sizeof *outs);
  size_t *n_outs = calloc(n_steps, sizeof *n_outs);
  const sy_value **in = NULL;
  size_t in_cap = 0;
  int broken = 0, failed = 0, bad_val = 0;
  sy_error err;
  sy_error_clear(&err);
  if (!vals || !outs || !n_outs) {
    broken = 1;
    goto done;
  }
  for (uint32_t v = 0; v < n_vals; v++) {
    const char *at;
    uint64_t n;
    if (get_blob(&c, &at, &n)) {
      broken = 1;
      goto done;
    }
    if (!bad_val && sy_value_decode(at, (size_t)n, &vals[v], &err) != 0) {
      bad_val = 1;
      sy_error_prefix(&err, "input value %u did not reach the worker intact",
                      v);
    }
  }
  size_t job_n = sy_job_size(job);
  for (uint32_t k = 0; k < n_steps && !failed; k++) {
    uint32_t step, n_in;
    if (get_bytes(&c, &step, 4) || get_bytes(&c, &n_in, 4) || step >= job_n ||
        n_in > WIRE_MAX_INPUTS || c.left / 4 < n_in) {
      broken = 1;
      goto done;
    }
    if (n_in > in_cap) {
      const sy_value **g = realloc(in, n_in * sizeof *in);
      if (!g) {
        broken = 1;
        goto done;
      }
      in = g;
      in_cap = n_in;
    }
    for (uint32_t i = 0; i < n_in; i++) {
      uint32_t ref = 0;
      (void)get_bytes(&c, &ref, 4);
      if (ref & REF_BATCH) {
        ref &= ~REF_BATCH;
        if (ref >= k || !outs[ref] || n_outs[ref] == 0 || !outs[ref][0]) {
          broken = 1;
          goto done;
        }
        in[i] = outs[ref][0];
      } else if (ref < n_vals) {
        in[i] = vals[ref];
      } else {
        broken = 1;
        goto done;
      }
    }
    size_t n_out = sy_job_step_outputs(job, step);
    sy_buf_reset(rep);
    int rc = bad_val ? SY_ECORRUPT : 0;
    if (rc == 0) {
      outs[k] = calloc(n_out ? n_out : 1, sizeof **outs);
      n_outs[k] = outs[k] ? n_out : 0;
      struct rlimit old;
      int limited = outs[k] && limit_memory(job, step, &old);
      rc = outs[k] ? sy_step_execute(job, step, in, n_in, outs[k], &err)
                   : sy_error_set(&err, SY_ENOMEM, "out of memory");
      if (limited)
        (void)setrlimit(RLIMIT_AS, &old);
    }
    if (rc == 0) {
      int32_t hdr[2] = {0, (int32_t)n_out};
      sy_buf_add(rep, hdr, sizeof hdr);
      for (size_t o = 0; o < n_out && rc == 0; o++)
        if ((rc = put_value(rep, outs[k][o])) != 0)
          sy_error_set(&err, rc, "cannot send the result back: %s",
                       sy_strerror(rc));
      if (rc == 0 && rep->failed)
        rc = sy_error_set(&err, SY_ENOMEM, "out of memory");
      if (rc)
        sy_buf_reset(rep);
    }
    if (rc) {
      put_error(rep, rc, err.message);
      failed = 1;
    }
    /* Whatever the actor printed goes out now, before the parent moves
     * on. */
    fflush(stdout);
    fflush(stderr);
    if (rep->failed || send_all(fd, rep->data, rep->len) != 0) {
      broken = 1;
      goto done;
    }
  }
done:
  for (uint32_t v = 0; vals && v < n_vals; v++)
    sy_value_unref(vals[v]);
  for (uint32_t k = 0; outs && k < n_steps; k++) {
    for (size_t o = 0; outs[k] && o < n_outs[k]; o++)
      sy_value_unref(outs[k][o]);
    free(outs[k]);
  }
  free(n_outs);
  free(vals);
  free(outs);
  free(in);
  return broken ? -1 : 0;
}

static _Noreturn void worker_main(sy_job *job, int fd) {
  signal(SIGINT, SIG_IGN);
  sy_buf req = SY_BUF_INIT, rep = SY_BUF_INIT;
  for (;;) {
    uint64_t len;
    int r = recv_all(fd, &len, sizeof len);
    if (r == 1)
      _exit(0); /* the parent closed the socket: the run is over */
    if (r != 0 || len > SIZE_MAX / 2)
      _exit(1);
    sy_buf_reset(&req);
    if (sy_buf_reserve(&req, (size_t)len) != 0 ||
        recv_all(fd, req.data, (size_t)len) != 0 ||
        serve(job, fd, req.data, (size_t)len, &rep) != 0)
      _exit(1);
  }
}

/* ---- the parent's state ------------------------------------------------- */

typedef struct worker {
  pid_t pid;        /* 0 when the slot has no process */
  int fd;           /* the parent's end of the socketpair; -1 when none */
  uint32_t *batch;  /* the steps of its request, in order */
  uint32_t n_batch; /* how many; 0 when idle */
  uint32_t got;     /* replies read: batch[got] is the step it runs */
  int64_t deadline; /* monotonic ns when that step times out; 0 = never */
  sy_buf in;        /* bytes read, not yet a whole reply */
} worker;

typedef struct pool {
  const dask *d;
  sy_job *job;
  size_t n;
  worker *w;
  int nw;
  sy_sched *S;           /* ready steps, retries, the first failure */
  uint16_t *slot;        /* per step: 1 + its index in the batch being built */
  sy_buf vals;           /* a request being built: its values */
  sy_buf steps;          /* ... and its steps */
  const sy_value **seen; /* the values already in it (borrowed) */
  size_t n_seen, cap_seen;
  const sy_value **tmp_in; /* a step's input values */
  size_t cap_in;
  sy_error tmp;
} pool;

static int busy(const worker *w) {
  return w->pid != 0 && w->got < w->n_batch;
}

static long current(const worker *w) {
  return busy(w) ? (long)w->batch[w->got] : -1;
}

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

/* Step s's timeout in ns: the flow node's `timeout`, else the runner's
 * option; 0 = none. */
static int64_t timeout_of(const pool *p, size_t s) {
  sy_step_resources res = {.size = sizeof res};
  if (sy_job_step_resources(p->job, s, &res) == 0 && res.timeout > 0)
    return res.timeout > (uint64_t)INT64_MAX / 1000000000
               ? INT64_MAX / 2
               : (int64_t)res.timeout * 1000000000;
  return p->d->cfg.timeout;
}

/* When step s, starting now, times out (monotonic ns); 0 = never. */
static int64_t deadline_of(const pool *p, size_t s) {
  int64_t t = timeout_of(p, s);
  return t > 0 ? now_ns() + t : 0;
}

/* Appends " (its memory limit: 100M)" to msg when step s has one: a step
 * that fails or dies under its limit most likely ran into it. */
static void note_memory(const pool *p, size_t s, char *msg, size_t cap) {
  sy_step_resources res = {.size = sizeof res};
  if (sy_job_step_resources(p->job, s, &res) != 0 || res.memory == 0)
    return;
  sy_step_resources only = {
      .size = sizeof only, .retries = -1, .memory = res.memory};
  char lim[64];
  sy_step_resources_format(&only, lim, sizeof lim);
  const char *eq = strchr(lim, '=');
  size_t len = strlen(msg);
  if (len < cap)
    snprintf(msg + len, cap - len, " (its memory limit: %s)",
             eq ? eq + 1 : lim);
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
  worker *w = &p->w[i];
  w->pid = pid;
  w->fd = sv[0];
  w->n_batch = w->got = 0;
  w->deadline = 0;
  sy_buf_reset(&w->in);
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
  w->pid = 0;
  w->fd = -1;
  w->n_batch = w->got = 0;
  w->deadline = 0;
  sy_buf_reset(&w->in);
}

/* Replaces a lost worker unless nothing more will be dispatched; a fork
 * that fails leaves the slot empty, and dispatch tries again. */
static void replace(pool *p, int i) {
  if (!sy_sched_stopping(p->S))
    (void)spawn(p, i, &p->tmp);
}

/* ---- step outcomes ------------------------------------------------------ */

/* Fails step s of worker i (its batch is already over). */
static void remote_failed(pool *p, int i, size_t s, int code,
                          const char *message) {
  sy_job_set_worker(i);
  sy_job_emit(p->job, SY_EVENT_FAILED, s, code, message);
  sy_sched_failed(p->S, s, code, message);
}

/* Hands the steps batch[from..n) back to the scheduler, unattempted (they
 * wait again, or are skipped under keep_going when an input failed). */
static void untake_rest(pool *p, const uint32_t *batch, uint32_t from,
                        uint32_t n) {
  for (uint32_t k = from; k < n; k++)
    sy_sched_untake(p->S, batch[k]);
}

/* Ends worker i's batch at its current step, which failed with code and
 * message: the step fails, the steps after it go back unattempted. The
 * batch is copied first: failing may replace the worker. */
static void batch_failed(pool *p, int i, size_t s, uint32_t *rest,
                         uint32_t n_rest, int code, const char *message) {
  remote_failed(p, i, s, code, message);
  untake_rest(p, rest, 0, n_rest);
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
 * first; kills and timeouts pass `what`, and the code of the failure).
 * Fails the step it ran, if any, takes the rest of its batch back and
 * replaces it. */
static void worker_lost(pool *p, int i, bool kill_it, int code,
                        const char *what) {
  worker *w = &p->w[i];
  pid_t pid = w->pid;
  long s = current(w);
  uint32_t n_rest = s >= 0 ? w->n_batch - w->got - 1 : 0;
  uint32_t *rest = NULL;
  if (n_rest) {
    rest = malloc(n_rest * sizeof *rest);
    if (rest)
      memcpy(rest, w->batch + w->got + 1, n_rest * sizeof *rest);
    else
      n_rest = 0; /* they stay RUNNING: the run ends failed */
  }
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
    if (code == SY_ECRASHED)
      sy_error_set(&p->tmp, SY_ECRASHED,
                   "worker %d (pid %ld) %s while running step %ld (%s)", i,
                   (long)pid, how, s, sy_job_step_label(p->job, (size_t)s));
    else
      sy_error_set(&p->tmp, code, "%s", what);
    char msg[SY_ERROR_MAX];
    snprintf(msg, sizeof msg, "%s", p->tmp.message);
    if (code == SY_ECRASHED)
      note_memory(p, (size_t)s, msg, sizeof msg);
    batch_failed(p, i, (size_t)s, rest, n_rest, code, msg);
  }
  free(rest);
  replace(p, i);
}

/* Adds step s (taken from the scheduler) to the request being built for
 * worker i as its k-th step. A ready step sends its input values along
 * (each distinct value once per request); a follower names the earlier
 * steps of the batch. Returns 0, or the code of a value that would not
 * encode (the request is then as it was). */
static int add_step(pool *p, uint32_t s, uint32_t k, int follower) {
  size_t vals_len = p->vals.len, steps_len = p->steps.len, n_seen = p->n_seen;
  size_t n_in = sy_job_step_input_count(p->job, s);
  int rc = 0;
  put_u32(&p->steps, s);
  put_u32(&p->steps, (uint32_t)n_in);
  if (follower) {
    const uint32_t *args;
    size_t na = sy_job_step_inputs(p->job, s, &args);
    for (size_t a = 0; a < na; a++)
      put_u32(&p->steps, REF_BATCH | (uint32_t)(p->slot[args[a]] - 1));
  } else {
    if (n_in > p->cap_in) {
      const sy_value **g = realloc(p->tmp_in, n_in * sizeof *g);
      if (!g)
        return SY_ENOMEM;
      p->tmp_in = g;
      p->cap_in = n_in;
    }
    n_in = sy_job_step_input_values(p->job, s, p->tmp_in, n_in);
    for (size_t a = 0; a < n_in && rc == 0; a++) {
      const sy_value *v = p->tmp_in[a];
      size_t j = 0;
      while (j < p->n_seen && p->seen[j] != v)
        j++;
      if (j == p->n_seen) {
        if (p->n_seen == p->cap_seen) {
          size_t cap = p->cap_seen ? 2 * p->cap_seen : 64;
          const sy_value **g = realloc(p->seen, cap * sizeof *g);
          if (!g) {
            rc = SY_ENOMEM;
            break;
          }
          p->seen = g;
          p->cap_seen = cap;
        }
        if ((rc = put_value(&p->vals, v)) != 0)
          break;
        p->seen[p->n_seen++] = v;
      }
      put_u32(&p->steps, (uint32_t)j);
    }
  }
  if (rc == 0 && (p->vals.failed || p->steps.failed))
    rc = SY_ENOMEM;
  if (rc) {
    p->vals.len = vals_len;
    p->steps.len = steps_len;
    p->vals.failed = p->steps.failed = 0;
    p->n_seen = n_seen;
    return rc;
  }
  p->slot[s] = (uint16_t)(k + 1);
  return 0;
}

/* A consumer of step s that can follow it in the same request: an actor
 * step, still waiting, whose every input is a step of the batch (so its
 * inputs never leave the worker). Returns it, or -1. */
static long follower_of(pool *p, size_t s) {
  const uint32_t *cons;
  size_t nc = sy_job_step_consumers(p->job, s, &cons);
  for (size_t c = 0; c < nc; c++) {
    uint32_t f = cons[c];
    if (p->slot[f] || sy_job_step_class(p->job, f) != SY_STEP_PURE ||
        sy_sched_state(p->S, f) != SY_STEP_WAITING)
      continue;
    const uint32_t *args;
    size_t na = sy_job_step_inputs(p->job, f, &args);
    size_t a = 0;
    while (a < na && p->slot[args[a]])
      a++;
    if (a == na && na > 0)
      return f;
  }
  return -1;
}

/* Builds and sends idle worker i a request of at most `share` ready steps
 * (each followed by the chain of steps that only read the batch). */
static void dispatch(pool *p, int i, size_t share) {
  worker *w = &p->w[i];
  uint32_t n = 0;
  size_t s;
  sy_buf_reset(&p->vals);
  sy_buf_reset(&p->steps);
  p->n_seen = 0;
  while (n < BATCH_MAX && share > 0 && p->vals.len < BATCH_BYTES &&
         sy_sched_next(p->S, WORKER_STEPS, &s)) {
    int code = add_step(p, (uint32_t)s, n, 0);
    if (code) {
      /* Nothing was sent for it: the step fails alone. */
      sy_job_set_worker(i);
      sy_job_emit(p->job, SY_EVENT_STARTED, s, 0, NULL);
      sy_error_set(&p->tmp, code,
                   "step %zu (%s): cannot send its inputs to "
                   "worker %d: %s",
                   s, sy_job_step_label(p->job, s), i, sy_strerror(code));
      char msg[SY_ERROR_MAX];
      snprintf(msg, sizeof msg, "%s", p->tmp.message);
      remote_failed(p, i, s, code, msg);
      continue;
    }
    w->batch[n++] = (uint32_t)s;
    share--;
    long f;
    while (n < BATCH_MAX && (f = follower_of(p, s)) >= 0 &&
           sy_sched_take(p->S, (size_t)f) == 0) {
      if (add_step(p, (uint32_t)f, n, 1) != 0) {
        sy_sched_untake(p->S, (size_t)f);
        break;
      }
      w->batch[n++] = (uint32_t)f;
      s = (size_t)f;
    }
  }
  for (uint32_t k = 0; k < n; k++)
    p->slot[w->batch[k]] = 0;
  if (n == 0)
    return;
  uint64_t len = 8 + p->vals.len + p->steps.len;
  uint32_t hdr[2] = {n, (uint32_t)p->n_seen};
  w->n_batch = n;
  w->got = 0;
  sy_job_set_worker(i);
  sy_job_emit(p->job, SY_EVENT_STARTED, w->batch[0], 0, NULL);
  if (send_all(w->fd, &len, sizeof len) || send_all(w->fd, hdr, sizeof hdr) ||
      send_all(w->fd, p->vals.data, p->vals.len) ||
      send_all(w->fd, p->steps.data, p->steps.len)) {
    /* It died before it had the whole request: its first step fails
     * with it. */
    worker_lost(p, i, true, SY_ECRASHED, NULL);
    return;
  }
  w->deadline = deadline_of(p, w->batch[0]);
}

/* The length of the whole reply at the start of buf[0..len) for a step of
 * n_out outputs; 0 when it is not all there yet, -1 when it cannot be a
 * reply. */
static long reply_size(const char *buf, size_t len, size_t n_out) {
  int32_t hdr[2];
  if (len < sizeof hdr)
    return 0;
  memcpy(hdr, buf, sizeof hdr);
  if (hdr[0] < 0)
    return hdr[1] < 0 || hdr[1] >= SY_ERROR_MAX ? -1
           : len < sizeof hdr + (size_t)hdr[1]  ? 0
                                                : (long)(sizeof hdr + hdr[1]);
  if (hdr[0] != 0 || (size_t)hdr[1] != n_out)
    return -1;
  size_t at = sizeof hdr;
  for (size_t k = 0; k < n_out; k++) {
    uint64_t n;
    if (len - at < sizeof n)
      return 0;
    memcpy(&n, buf + at, sizeof n);
    if (n > WIRE_MAX_VALUE)
      return -1;
    at += sizeof n;
    if (len - at < n)
      return 0;
    at += (size_t)n;
  }
  return (long)at;
}

/* Handles worker i's whole reply at buf for its current step. */
static void handle_reply(pool *p, int i, const char *buf, size_t len) {
  worker *w = &p->w[i];
  size_t s = w->batch[w->got];
  int32_t hdr[2];
  memcpy(hdr, buf, sizeof hdr);
  if (hdr[0] < 0) {
    char msg[SY_ERROR_MAX];
    memcpy(msg, buf + sizeof hdr, (size_t)hdr[1]);
    msg[hdr[1]] = '\0';
    uint32_t from = w->got + 1, n = w->n_batch;
    w->got = w->n_batch = 0; /* the worker ends its batch at a failure */
    w->deadline = 0;
    sy_error_set(&p->tmp, hdr[0], "step %zu (%s): %s", s,
                 sy_job_step_label(p->job, s), msg);
    snprintf(msg, sizeof msg, "%s", p->tmp.message);
    note_memory(p, s, msg, sizeof msg);
    remote_failed(p, i, s, hdr[0], msg);
    untake_rest(p, w->batch, from, n);
    return;
  }
  size_t n_out = (size_t)hdr[1];
  sy_value *one[4] = {0};
  sy_value **out = n_out <= 4 ? one : calloc(n_out, sizeof *out);
  int code = out ? 0 : SY_ENOMEM;
  sy_error derr;
  sy_error_clear(&derr);
  cursor c = {buf + sizeof hdr, len - sizeof hdr};
  for (size_t k = 0; k < n_out && code == 0; k++) {
    const char *at = NULL;
    uint64_t n = 0;
    (void)get_blob(&c, &at, &n); /* reply_size checked the lengths */
    code = sy_value_decode(at, (size_t)n, &out[k], &derr);
  }
  if (code) {
    for (size_t k = 0; out && k < n_out; k++)
      sy_value_unref(out[k]);
    sy_error_set(&p->tmp, code,
                 "step %zu (%s): the result from worker %d "
                 "is damaged: %s",
                 s, sy_job_step_label(p->job, s), i,
                 out ? derr.message : "out of memory");
    if (out != one)
      free(out);
    char msg[SY_ERROR_MAX];
    snprintf(msg, sizeof msg, "%s", p->tmp.message);
    /* The stream cannot be trusted: the worker goes too. */
    worker_lost(p, i, true, code, msg);
    return;
  }
  int rc = sy_job_step_done(p->job, s, out); /* takes the values */
  if (out != one)
    free(out);
  w->got++;
  sy_job_set_worker(i);
  if (rc) {
    /* The job did not take the outputs: the steps after it in the batch,
     * which read them in the worker, must not count. The worker goes
     * (idle, so no other step fails) and they are taken back. */
    sy_error_set(&p->tmp, rc, "step %zu (%s): %s", s,
                 sy_job_step_label(p->job, s), sy_strerror(rc));
    sy_job_emit(p->job, SY_EVENT_FAILED, s, rc, p->tmp.message);
    sy_sched_failed(p->S, s, rc, p->tmp.message);
    uint32_t from = w->got, n = w->n_batch;
    uint32_t *rest = n > from ? malloc((n - from) * sizeof *rest) : NULL;
    if (rest)
      memcpy(rest, w->batch + from, (n - from) * sizeof *rest);
    w->got = w->n_batch = 0;
    worker_lost(p, i, true, SY_ECRASHED, NULL);
    if (rest)
      untake_rest(p, rest, 0, n - from);
    free(rest);
    return;
  }
  sy_job_emit(p->job, SY_EVENT_DONE, s, 0, NULL);
  sy_sched_done(p->S, s);
  if (w->got < w->n_batch) {
    sy_job_emit(p->job, SY_EVENT_STARTED, w->batch[w->got], 0, NULL);
    w->deadline = deadline_of(p, w->batch[w->got]);
  } else {
    w->got = w->n_batch = 0;
    w->deadline = 0;
  }
}

/* Reads what worker i sent and handles every whole reply in it. */
static void receive(pool *p, int i) {
  worker *w = &p->w[i];
  int eof = 0;
  for (;;) {
    if (sy_buf_reserve(&w->in, 65536) != 0) {
      worker_lost(p, i, true, SY_ENOMEM, "runner dask: out of memory");
      return;
    }
    ssize_t k = recv(w->fd, w->in.data + w->in.len, 65536, MSG_DONTWAIT);
    if (k < 0 && errno == EINTR)
      continue;
    if (k > 0) {
      w->in.len += (size_t)k;
      if (k == 65536)
        continue;
      break;
    }
    if (k == 0 || errno == ECONNRESET)
      eof = 1;
    else if (errno != EAGAIN && errno != EWOULDBLOCK) {
      worker_lost(p, i, true, SY_ECRASHED, NULL);
      return;
    }
    break;
  }
  size_t at = 0;
  pid_t pid = w->pid;
  while (busy(w)) {
    size_t s = w->batch[w->got];
    long n = reply_size(w->in.data + at, w->in.len - at,
                        sy_job_step_outputs(p->job, s));
    if (n < 0) {
      w->in.len = 0;
      worker_lost(p, i, true, SY_ECRASHED, "broke the reply protocol");
      return;
    }
    if (n == 0)
      break;
    handle_reply(p, i, w->in.data + at, (size_t)n);
    if (w->pid != pid)
      return; /* the worker is gone (and perhaps replaced) */
    at += (size_t)n;
  }
  if (at < w->in.len && !busy(w)) {
    /* An idle worker only ever speaks by exiting. */
    w->in.len = 0;
    worker_lost(p, i, true, SY_ECRASHED, NULL);
    return;
  }
  memmove(w->in.data, w->in.data + at, w->in.len - at);
  w->in.len -= at;
  if (eof)
    worker_lost(p, i, false, SY_ECRASHED, NULL);
}

static void time_out(pool *p, int i) {
  size_t s = (size_t)current(&p->w[i]);
  char limit[32], msg[SY_ERROR_MAX];
  format_duration(timeout_of(p, s), limit, sizeof limit);
  snprintf(msg, sizeof msg,
           "step %zu (%s) ran longer than %s; its worker was killed", s,
           sy_job_step_label(p->job, s), limit);
  worker_lost(p, i, true, SY_ETIMEOUT, msg);
}

/* Cancellation: kill the busy workers and fail their steps. */
static void cancel_running(pool *p) {
  for (int i = 0; i < p->nw; i++) {
    if (!busy(&p->w[i]))
      continue;
    size_t s = (size_t)current(&p->w[i]);
    char msg[SY_ERROR_MAX];
    snprintf(msg, sizeof msg,
             "step %zu (%s): canceled; its worker was "
             "killed",
             s, sy_job_step_label(p->job, s));
    worker_lost(p, i, true, SY_ECANCELED, msg); /* not replaced */
  }
}

/* How long poll() may sleep, in ms. */
static int poll_timeout(const pool *p, int64_t now) {
  int64_t until = -1, due = sy_sched_due(p->S);
  if (sy_sched_running(p->S) > 0 || due)
    until = now + TICK_NS;
  for (int i = 0; i < p->nw; i++)
    if (busy(&p->w[i]) && p->w[i].deadline &&
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
    if (busy(&p->w[i]))
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
    /* Ready actor steps, spread over the idle workers. */
    int idle = 0;
    for (int i = 0; i < p->nw; i++)
      idle += !busy(&p->w[i]);
    for (int i = 0; i < p->nw && idle > 0; i++) {
      if (busy(&p->w[i]))
        continue;
      size_t ready = sy_sched_ready(p->S, WORKER_STEPS);
      if (ready == 0 || sy_sched_stopping(p->S))
        break;
      if (p->w[i].pid == 0 && spawn(p, i, &p->tmp) != 0) {
        idle--;
        continue;
      }
      size_t share = (ready + (size_t)idle - 1) / (size_t)idle;
      dispatch(p, i, share < SPREAD_MAX ? share : SPREAD_MAX);
      idle--;
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
      if (busy(&p->w[i]) && p->w[i].deadline && now >= p->w[i].deadline)
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
  p.slot = calloc(p.n ? p.n : 1, sizeof *p.slot);
  if (!p.w || !p.slot) {
    rc = sy_error_set(err, SY_ENOMEM, "runner dask: out of memory");
    goto fail;
  }
  for (int i = 0; i < p.nw; i++) {
    p.w[i].fd = -1;
    p.w[i].batch = malloc(BATCH_MAX * sizeof *p.w[i].batch);
    if (!p.w[i].batch) {
      rc = sy_error_set(err, SY_ENOMEM, "runner dask: out of memory");
      goto fail;
    }
  }
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
  for (int i = 0; p.w && i < p.nw; i++) {
    free(p.w[i].batch);
    sy_buf_free(&p.w[i].in);
  }
  free(p.w);
  free(p.slot);
  sy_buf_free(&p.vals);
  sy_buf_free(&p.steps);
  free((void *)p.seen);
  free((void *)p.tmp_in);
  sy_sched_free(p.S);
  return rc;
}
