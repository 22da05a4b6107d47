/*
 * crash.c - saying which step brought the process down.
 *
 * Under the inline runner and runner-dask's threads mode, actors run
 * inside the switchyard process: an actor that dereferences a bad pointer
 * kills it, and without a word the user would see only "Segmentation
 * fault". The step executor records, per thread, the step it is running
 * (two thread-local stores per step, read back here with the
 * async-signal-safe sy_job_running_step); sy_crash_report_install() adds
 * handlers for the fatal signals that write one line naming that step and
 * the signal, and a hint, with async-signal-safe calls only, and then let
 * the signal take its course through whatever handler was there before
 * (the default: exit status and core dump as without; or a sanitizer's).
 *
 * An actor that calls exit() (exit(0) above all) ends the process just as
 * surely, but with a status that says success and no output. So the
 * install also registers an atexit handler: while a run is in progress
 * (sy_job_runs_in_progress) an exit() is reported, naming the step the
 * exiting thread runs, and the status becomes 1. _exit() and quick_exit()
 * bypass it, as they bypass every handler.
 *
 * Forked children (runner-dask's process workers) inherit the handlers
 * but stay silent: their parent reports the crash of a worker and carries
 * on. A library does not install signal handlers on its own; programs that
 * run flows in-process call this (the switchyard command does).
 */
#include "switchyard/flow.h"
#include "switchyard/platform.h"
#include "switchyard/runner.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
#define N_FATAL (sizeof fatal / sizeof fatal[0])
static struct sigaction previous[N_FATAL];
static pid_t installer;

typedef struct line {
  char buf[1024];
  size_t n;
} line;

static void put(line *l, const char *s) {
  while (s && *s && l->n < sizeof l->buf - 1)
    l->buf[l->n++] = *s++;
}

static void put_u(line *l, unsigned long v) {
  char d[24];
  size_t k = 0;
  do {
    d[k++] = (char)('0' + v % 10);
    v /= 10;
  } while (v && k < sizeof d);
  while (k && l->n < sizeof l->buf - 1)
    l->buf[l->n++] = d[--k];
}

/* "step 3 (apply model (std.logreg))": the step this thread runs. */
static void put_step(line *l, size_t step, sy_op op, const char *node,
                     const char *target) {
  put(l, "step ");
  put_u(l, (unsigned long)step);
  put(l, " (");
  put(l, sy_op_name(op));
  put(l, " ");
  put(l, node);
  put(l, " (");
  put(l, target);
  put(l, "))");
}

static const char *signal_name(int sig) {
  switch (sig) {
  case SIGSEGV:
    return "SIGSEGV, invalid memory access";
  case SIGBUS:
    return "SIGBUS, bad memory access";
  case SIGFPE:
    return "SIGFPE, arithmetic error";
  case SIGILL:
    return "SIGILL, illegal instruction";
  case SIGABRT:
    return "SIGABRT, aborted";
  default:
    return "fatal";
  }
}

static void on_fatal(int sig, siginfo_t *info, void *uctx) {
  (void)uctx;
  int saved = errno;
  if (getpid() == installer) {
    line l = {.n = 0};
    size_t step = 0;
    sy_op op = SY_OP_FEED;
    const char *node = NULL, *target = NULL;
    int job = sy_job_running_step(&step, &op, &node, &target);
    put(&l, "switchyard: ");
    if (job) {
      put_step(&l, step, op, node, target);
      put(&l, " crashed this process: signal ");
    } else {
      put(&l, "crashed outside any step: signal ");
    }
    put_u(&l, (unsigned long)sig);
    put(&l, " (");
    put(&l, signal_name(sig));
    put(&l, ")\n");
    if (job)
      put(&l, "switchyard: this runner runs actors inside its own process; "
              "a runner in process mode (runner-dask with mode = processes, "
              "e.g. -R isolated in the default config) contains a crashing "
              "actor and fails only its step\n");
    else
      put(&l, "switchyard: this is a bug in switchyard or in a plugin; "
              "please report it with the command that did it\n");
    ssize_t w = write(STDERR_FILENO, l.buf, l.n);
    (void)w;
  }
  /* Hand the signal to whoever had it before us. */
  for (size_t i = 0; i < N_FATAL; i++)
    if (fatal[i] == sig)
      sigaction(sig, &previous[i], NULL);
  errno = saved;
  /* A fault raised by the CPU happens again when the handler returns,
   * now under the previous disposition; one sent (kill, raise, abort)
   * is sent again. */
  if (!info || info->si_code <= 0 || sig == SIGABRT)
    raise(sig);
}

/* exit() while a run is in progress: an actor (or a runner) ended this
 * process in the middle of the job, and its status (0 for exit(0)) would
 * pass for a successful run that printed nothing. Handlers registered
 * with atexit run on the thread that called exit(), so this thread's step,
 * if any, is the one that did it. The status becomes 1. */
static void on_exit_during_run(void) {
  if (getpid() != installer || sy_job_runs_in_progress() == 0)
    return;
  line l = {.n = 0};
  size_t step = 0;
  sy_op op = SY_OP_FEED;
  const char *node = NULL, *target = NULL;
  int job = sy_job_running_step(&step, &op, &node, &target);
  put(&l, "switchyard: ");
  if (job) {
    put_step(&l, step, op, node, target);
    put(&l, " called exit() inside this process; the run failed\n");
  } else {
    put(&l, "exit() was called while a run was in progress (by a step on "
            "another thread, or by the runner); the run failed\n");
  }
  put(&l, "switchyard: an actor must return an error, never exit; a runner "
          "in process mode (runner-dask with mode = processes, e.g. -R "
          "isolated in the default config) fails only its step\n");
  ssize_t w = write(STDERR_FILENO, l.buf, l.n);
  (void)w;
  _exit(1);
}

int sy_crash_report_install(void) {
  static atomic_int exit_hooked;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fatal;
  sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  installer = getpid();
  /* Resolve now, not in a handler, what the handlers call in the core
   * (lazy binding would run the dynamic linker inside a signal). */
  (void)sy_job_running_step(NULL, NULL, NULL, NULL);
  (void)sy_job_runs_in_progress();
  (void)sy_op_name(SY_OP_FEED);
  for (size_t i = 0; i < N_FATAL; i++)
    if (sigaction(fatal[i], &sa, &previous[i]) != 0)
      return SY_EIO;
  if (atomic_exchange(&exit_hooked, 1) == 0 && atexit(on_exit_during_run) != 0)
    return SY_EIO;
  return 0;
}
