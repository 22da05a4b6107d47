/*
 * exec.c - the `sys.exec` actor: runs a shell command line on its inputs.
 *
 * Design note.
 *
 * Trust. The command is run with /bin/sh -c exactly as the flow author
 * wrote it; sys.exec is a way to run arbitrary code and gives no sandbox.
 * Whoever may write a flow may run commands as the user who runs it. The
 * only text switchyard puts into the command line is the temp paths of the
 * placeholders, and those are single-quoted, so write placeholders bare:
 * `paste -d, {in0} {in1}`, not `paste '{in0}'`.
 *
 * Placeholders. `{in}` is `{in0}`; `{inN}` is a temp file holding input N
 * (a frame as CSV through sy_csv_write, bytes raw); `{out}` is a temp path
 * the command may write its result to: when that file exists after a
 * successful run it is the output, else stdout is. Any other brace text
 * (awk's `{print $1}`, the shell's `${HOME}`) is left alone. The temp files
 * live in a fresh mkdtemp() folder under $TMPDIR (default /tmp), which is
 * created only when the command has a placeholder and is removed with
 * everything in it on every path out of apply.
 *
 * Process. apply forks a child in its own process group (so a timeout can
 * kill everything the shell started), with stdin a pipe (or /dev/null),
 * stdout and stderr pipes, and every other descriptor closed: the host's
 * descriptors, and the pipes of other sys.exec runs on other threads, must
 * not leak into the command (a leaked write end would keep another run's
 * reader from seeing EOF). Between fork and exec the child calls only
 * async-signal-safe functions; argv, envp and paths are built before the
 * fork. A close-on-exec report pipe tells the parent when chdir or exec
 * failed in the child, so that failure gets its own message.
 *
 * The parent feeds stdin and drains stdout and stderr in one poll() loop
 * over non-blocking descriptors, so neither a large input nor a chatty
 * stderr can deadlock the two processes. stdout is kept whole up to
 * SY_VALUE_MAX_BYTES (beyond that the run fails with SY_ETOOBIG); of
 * stderr only the last 4 KiB are kept, for error messages. SIGPIPE is
 * blocked in the calling thread while it writes the child's stdin (a
 * command may well stop reading early) and a SIGPIPE raised by that write
 * is consumed before the mask is restored, so the host is never killed by
 * it and its own pending signals are untouched.
 *
 * Timeout. After `timeout` the parent closes its pipe ends, sends SIGTERM
 * to the process group, waits up to one second for the shell to exit, then
 * sends SIGKILL to the group and reaps the shell. The shell is waited for
 * with WNOWAIT until the SIGKILL, so its pid, and with it the process
 * group id, cannot be reused by an unrelated process before the kill.
 * Without a timeout, a background process that keeps stdout open (`cmd &`)
 * keeps the run waiting until it exits, as with any shell pipeline.
 *
 * Dependencies. What a command reads besides its inputs (a script, a
 * lookup table) is invisible to the cache: the key of a step hashes the
 * command line, not the files it names. `deps` lists such files; the
 * fingerprint op (ABI 1.3) hashes each one's content (sy_hasher, in order)
 * when the flow is compiled, so editing a dependency changes the step's
 * key and the step runs again. A relative dep is resolved like the
 * command's own relative paths: against `cwd` when it is set, else the
 * current folder. A dep that cannot be read, or is not a regular file, is
 * an error then, before anything runs.
 *
 * Concurrency. The instance is read-only after create(); everything a run
 * needs lives on its stack or heap, so apply may run on several threads at
 * once. There is no chdir() in the parent (cwd applies in the child only)
 * and no global state. A host that ignores SIGCHLD or reaps every child
 * from a handler takes the exit status away; sys.exec then reports that.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <switchyard/actor.h>
#include <switchyard/buf.h>
#include <switchyard/csv.h>
#include <switchyard/error.h>
#include <switchyard/file.h>
#include <switchyard/option.h>
#include <switchyard/plugin.h>
#include <switchyard/value.h>

#include <switchyard/hash.h>

#include "actor_sys.h"

extern char **environ;

#define SYS_EXEC_VERSION "1.1.0"
/* How much of stderr error messages may quote. */
#define STDERR_KEEP 4096
/* The most bytes moved per read() or write() on a pipe. */
#define IO_CHUNK 65536
/* From SIGTERM to SIGKILL after a timeout. */
#define KILL_GRACE_NS 1000000000LL
/* How often an exit is polled for when a deadline is running. */
#define WAIT_STEP_NS 10000000LL
/* The deepest folder tree cleanup descends into. */
#define RM_MAX_DEPTH 32

/* ---- options ------------------------------------------------------------ */

static const char *const stdin_choices[] = {"none", "in0", "auto", NULL};
static const char *const output_choices[] = {"csv", "bytes", NULL};

static const sy_option exec_options[] = {
    {"command", SY_OPT_STRING, SY_OPT_REQUIRED, NULL, NULL, NULL, NULL,
     offsetof(sys_exec_config, command),
     "Shell command line run with /bin/sh -c as the flow author wrote it; "
     "{in}, {inN} and {out} become quoted temp file paths."},
    {"stdin", SY_OPT_ENUM, 0, "auto", NULL, NULL, stdin_choices,
     offsetof(sys_exec_config, stdin_mode),
     "What the command reads on stdin: none, in0 (the first input), or "
     "auto (in0 when there is an input and no {in} placeholder)."},
    {"output", SY_OPT_ENUM, 0, "csv", NULL, NULL, output_choices,
     offsetof(sys_exec_config, output),
     "How stdout (or the {out} file) becomes the output: csv parses it "
     "into a frame, bytes keeps it as it is."},
    {"media_type", SY_OPT_STRING, 0, "application/octet-stream", NULL, NULL,
     NULL, offsetof(sys_exec_config, media_type),
     "Media type of the output value when output is bytes."},
    {"timeout", SY_OPT_DURATION, 0, "0", "0", NULL, NULL,
     offsetof(sys_exec_config, timeout),
     "Kill the command's process group (SIGTERM, then SIGKILL one second "
     "later) and fail after this long; 0 means no limit."},
    {"env", SY_OPT_LIST, 0, NULL, NULL, NULL, NULL,
     offsetof(sys_exec_config, env),
     "NAME=VALUE entries added to the command's environment, replacing "
     "inherited variables of the same name."},
    {"cwd", SY_OPT_PATH, 0, NULL, NULL, NULL, NULL,
     offsetof(sys_exec_config, cwd),
     "Folder the command runs in; by default the caller's working "
     "folder."},
    {"deps", SY_OPT_LIST, 0, NULL, NULL, NULL, NULL,
     offsetof(sys_exec_config, deps),
     "Files the command reads besides its inputs (scripts, tables); their "
     "content goes into the cache key, so editing one reruns the step. "
     "Relative to cwd when it is set."},
    SY_OPTION_END};

static const sy_actor_ops exec_ops = {
    .size = (uint32_t)sizeof(sy_actor_ops),
    .min_inputs = 0,
    .max_inputs = SY_ARITY_MANY,
    .n_outputs = 1,
    .flags = 0, /* stateless: no train, no state */
    .apply = sys_exec_apply,
    .fingerprint = sys_exec_fingerprint,
};

const sy_provider sys_exec_provider = {
    .size = (uint32_t)sizeof(sy_provider),
    .kind = SY_KIND_ACTOR,
    .name = "sys.exec",
    .version = SYS_EXEC_VERSION,
    .description = "Runs a shell command line on the inputs and reads its "
                   "output as a CSV frame or as bytes.",
    .options = exec_options,
    .config_size = sizeof(sys_exec_config),
    .create = sys_exec_create,
    .destroy = sys_exec_destroy,
    .ops = &exec_ops,
};

/* ---- small helpers ------------------------------------------------------ */

/* The sy_write_fn that collects CSV in memory (for stdin). */
static int buf_write_fn(void *ud, const void *data, size_t len) {
  return sy_buf_add(ud, data, len);
}

/* Writes all of data to fd; returns 0 or an errno value. */
static int write_all(int fd, const void *data, size_t len) {
  const char *p = data;

  while (len > 0) {
    ssize_t n = write(fd, p, len > IO_CHUNK ? IO_CHUNK : len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return errno;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/* The sy_write_fn that writes CSV to an input's temp file. */
typedef struct fd_sink {
  int fd;
  int error; /* errno of the first failed write */
} fd_sink;

static int fd_write_fn(void *ud, const void *data, size_t len) {
  fd_sink *s = ud;

  s->error = write_all(s->fd, data, len);
  return s->error ? SY_EIO : 0;
}

static int64_t now_ns(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_ns(int64_t ns) {
  struct timespec ts = {(time_t)(ns / 1000000000LL), (long)(ns % 1000000000LL)};

  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* Formats a duration the way users write it: "200ms", "2s", "1500us". */
static void format_duration(int64_t ns, char *out, size_t cap) {
  if (ns % 1000000000LL == 0)
    snprintf(out, cap, "%llds", (long long)(ns / 1000000000LL));
  else if (ns % 1000000LL == 0)
    snprintf(out, cap, "%lldms", (long long)(ns / 1000000LL));
  else if (ns % 1000LL == 0)
    snprintf(out, cap, "%lldus", (long long)(ns / 1000LL));
  else
    snprintf(out, cap, "%lldns", (long long)ns);
}

static void close_fd(int *fd) {
  if (*fd >= 0) {
    close(*fd);
    *fd = -1;
  }
}

/* Moves fd to a number >= 3 so the child's dup2() onto 0, 1 and 2 can
 * never clobber another of its descriptors (a host may run with stdin
 * closed, and then pipe() hands out 0). Keeps close-on-exec. Returns 0 or
 * an errno value; on failure fd is closed. */
static int lift_fd(int *fd) {
  int moved;

  if (*fd >= 3)
    return 0;
  moved = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
  close(*fd);
  *fd = moved;
  return moved < 0 ? errno : 0;
}

/* A close-on-exec pipe with both ends >= 3. Returns 0 or an errno value. */
static int make_pipe(int fds[2]) {
  int e;

  if (pipe2(fds, O_CLOEXEC) != 0)
    return errno;
  if ((e = lift_fd(&fds[0])) != 0 || (e = lift_fd(&fds[1])) != 0) {
    close_fd(&fds[0]);
    close_fd(&fds[1]);
    return e;
  }
  return 0;
}

static int set_nonblock(int fd) {
  int fl = fcntl(fd, F_GETFL);

  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0)
    return errno;
  return 0;
}

/* ---- placeholders ------------------------------------------------------- */

enum { PH_NONE = 0, PH_IN = 1, PH_OUT = 2 };

/* Whether p (at a '{') starts a placeholder. Returns PH_*, with the input
 * index in *idx and the placeholder's length in *len. */
static int match_placeholder(const char *p, size_t *idx, size_t *len) {
  size_t i, n = 0;

  if (strncmp(p, "{out}", 5) == 0) {
    *len = 5;
    return PH_OUT;
  }
  if (strncmp(p, "{in", 3) != 0)
    return PH_NONE;
  /* Up to 6 digits: no flow has a million inputs, and it bounds n. */
  for (i = 3; i < 9 && p[i] >= '0' && p[i] <= '9'; i++)
    n = n * 10 + (size_t)(p[i] - '0');
  if (p[i] != '}')
    return PH_NONE;
  *idx = n; /* "{in}" gives 0 */
  *len = i + 1;
  return PH_IN;
}

/* Appends s to b single-quoted for /bin/sh. */
static int shell_quote(sy_buf *b, const char *s) {
  int rc = sy_buf_puts(b, "'");

  for (; rc == 0 && *s; s++)
    rc = *s == '\'' ? sy_buf_puts(b, "'\\''") : sy_buf_add(b, s, 1);
  return rc ? rc : sy_buf_puts(b, "'");
}

/* The temp path of input k ("<dir>/in0.csv" for a frame, "<dir>/in0" for
 * bytes) or of the output ("<dir>/out"), into b (reset first). */
static int temp_path(sy_buf *b, const char *dir, const sy_value *v, size_t k) {
  char name[32];

  if (v)
    snprintf(name, sizeof name, "/in%zu%s", k,
             sy_value_type_of(v) == SY_VALUE_FRAME ? ".csv" : "");
  else
    snprintf(name, sizeof name, "/out");
  sy_buf_reset(b);
  if (sy_buf_puts(b, dir) != 0 || sy_buf_puts(b, name) != 0)
    return SY_ENOMEM;
  return 0;
}

/* Replaces the placeholders of cmd with quoted temp paths into *out and
 * marks in wanted[] the inputs whose files must be written. */
static int expand_command(const char *cmd, const char *dir,
                          const sy_value *const *in, size_t n_in, bool *wanted,
                          sy_buf *out, sy_error *err) {
  sy_buf path = SY_BUF_INIT;
  size_t idx = 0, len = 0;
  int rc = 0;

  while (*cmd && rc == 0) {
    int ph = *cmd == '{' ? match_placeholder(cmd, &idx, &len) : PH_NONE;
    if (ph == PH_NONE) {
      rc = sy_buf_add(out, cmd, 1);
      cmd++;
      continue;
    }
    if (ph == PH_IN && idx >= n_in) {
      rc = sy_error_set(err, SY_EINVAL,
                        "sys.exec: the command uses {in%zu} but the step "
                        "has %zu input%s",
                        idx, n_in, n_in == 1 ? "" : "s");
      break;
    }
    if (ph == PH_IN)
      wanted[idx] = true;
    rc = temp_path(&path, dir, ph == PH_IN ? in[idx] : NULL, idx);
    if (rc == 0)
      rc = shell_quote(out, path.data);
    cmd += len;
  }
  if (rc == SY_ENOMEM)
    rc = sy_error_set(err, SY_ENOMEM, "sys.exec: out of memory");
  free(path.data);
  return rc;
}

/* Writes input v to a new file at path: a frame as CSV, bytes raw. */
static int write_input(const char *path, const sy_value *v, sy_error *err) {
  fd_sink sink = {-1, 0};
  int rc = 0;

  sink.fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (sink.fd < 0) {
    rc = sy_error_set(err, SY_EIO, "sys.exec: cannot create %s: %s", path,
                      strerror(errno));
    goto done;
  }
  if (sy_value_type_of(v) == SY_VALUE_FRAME) {
    rc = sy_csv_write(v, ',', fd_write_fn, &sink, err);
  } else {
    size_t len = 0;
    const void *data = sy_bytes_data(v, &len);
    sink.error = write_all(sink.fd, data, len);
    rc = sink.error ? SY_EIO : 0;
  }
  if (rc == 0 && close(sink.fd) != 0) {
    sink.error = errno;
    rc = SY_EIO;
  }
  sink.fd = -1;
  if (rc != 0 && sink.error)
    rc = sy_error_set(err, SY_EIO, "sys.exec: cannot write %s: %s", path,
                      strerror(sink.error));
  else if (rc != 0)
    sy_error_prefix(err, "sys.exec: cannot write %s", path);
done:
  if (sink.fd >= 0)
    close(sink.fd);
  return rc;
}

/* Removes everything in the folder open at dfd (taking dfd), without
 * following symbolic links: the command may leave anything there. */
static void remove_contents(int dfd, int depth) {
  DIR *d = fdopendir(dfd);
  struct dirent *e;

  if (!d) {
    close(dfd);
    return;
  }
  while ((e = readdir(d)) != NULL) {
    int sub;
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    if (unlinkat(dirfd(d), e->d_name, 0) == 0 || depth >= RM_MAX_DEPTH)
      continue;
    sub = openat(dirfd(d), e->d_name,
                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub >= 0) {
      remove_contents(sub, depth + 1);
      unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR);
    }
  }
  closedir(d);
}

static void remove_tree(const char *dir) {
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

  if (dfd >= 0)
    remove_contents(dfd, 0);
  rmdir(dir);
}

/* A fresh private folder under $TMPDIR (default /tmp), into *dir. */
static int make_temp_dir(char **dir, sy_error *err) {
  const char *base = getenv("TMPDIR");
  sy_buf b = SY_BUF_INIT;

  if (!base || !*base)
    base = "/tmp";
  if (sy_buf_puts(&b, base) != 0 || sy_buf_puts(&b, "/sy-exec-XXXXXX") != 0) {
    free(b.data);
    return sy_error_set(err, SY_ENOMEM, "sys.exec: out of memory");
  }
  if (!mkdtemp(b.data)) {
    int e = errno;
    free(b.data);
    return sy_error_set(err, SY_EIO,
                        "sys.exec: cannot create a temp folder in %s: %s", base,
                        strerror(e));
  }
  *dir = b.data;
  return 0;
}

/* ---- environment -------------------------------------------------------- */

static bool same_name(const char *a, const char *b) {
  while (*a && *a != '=' && *a == *b) {
    a++;
    b++;
  }
  return (*a == '=' || *a == '\0') && (*b == '=' || *b == '\0');
}

/* The child's environment: the caller's, with the `env` entries added or
 * replacing same-named ones. The array is malloc()ed, its strings are
 * borrowed. NULL on OOM. */
static char **build_env(const char *const *extra) {
  size_t n = 0, m = 0, k = 0, i, j;
  char **envp;

  while (environ && environ[n])
    n++;
  while (extra && extra[m])
    m++;
  envp = calloc(n + m + 1, sizeof *envp);
  if (!envp)
    return NULL;
  for (i = 0; i < n; i++) {
    bool replaced = false;
    for (j = 0; j < m && !replaced; j++)
      replaced = same_name(environ[i], extra[j]);
    if (!replaced)
      envp[k++] = environ[i];
  }
  for (j = 0; j < m; j++)
    envp[k++] = (char *)extra[j];
  envp[k] = NULL;
  return envp;
}

/* ---- the child ---------------------------------------------------------- */

/* What the child reports on the report pipe when it cannot exec. */
enum { STAGE_SETUP = 1, STAGE_CHDIR = 2, STAGE_EXEC = 3 };
typedef struct child_report {
  int stage;
  int error;
} child_report;

/* Everything the child needs, prepared before fork(). */
typedef struct child_plan {
  char *const *argv;
  char *const *envp;
  const char *cwd;
  int in_fd, out_fd, err_fd, report_fd;
  int max_fd; /* for closing descriptors when close_range() is missing */
} child_plan;

static void child_fail(int report_fd, int stage) {
  child_report r = {stage, errno};
  ssize_t n = write(report_fd, &r, sizeof r);

  (void)n;
  _exit(127);
}

/* Closes descriptors first..last (inclusive) in the child. */
static void child_close_range(int first, int last) {
  if (first > last)
    return;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
  if (close_range((unsigned)first, (unsigned)last, 0) == 0)
    return;
#endif
  for (; first <= last; first++)
    close(first);
}

/* Runs in the child after fork(): async-signal-safe calls only. */
static void child_main(const child_plan *p) {
  struct sigaction dfl;
  sigset_t none;
  static const int reset[] = {SIGPIPE, SIGINT, SIGQUIT,
                              SIGTERM, SIGHUP, SIGCHLD};
  size_t i;

  /* A fresh process group, so a timeout kills the whole command. */
  setpgid(0, 0);
  /* Signals the host ignores would stay ignored across exec; a command
   * expects the defaults and an empty mask. */
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  for (i = 0; i < sizeof reset / sizeof reset[0]; i++)
    sigaction(reset[i], &dfl, NULL);
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  if (dup2(p->in_fd, 0) < 0 || dup2(p->out_fd, 1) < 0 || dup2(p->err_fd, 2) < 0)
    child_fail(p->report_fd, STAGE_SETUP);
  /* Everything else goes, except the report pipe, which is close-on-exec
   * and so tells the parent that exec succeeded by reaching EOF. */
  child_close_range(3, p->report_fd - 1);
  child_close_range(p->report_fd + 1, p->max_fd);
  if (p->cwd && chdir(p->cwd) != 0)
    child_fail(p->report_fd, STAGE_CHDIR);
  execve("/bin/sh", p->argv, p->envp);
  child_fail(p->report_fd, STAGE_EXEC);
}

/* ---- the run ------------------------------------------------------------ */

typedef struct run {
  pid_t pid;
  bool reaped;
  int status;
  int in_w, out_r, err_r; /* the parent's ends; -1 once closed */
  const char *in_data;    /* what goes to stdin */
  size_t in_len, in_off;
  sy_buf out; /* stdout */
  size_t max_out;
  char err[2 * STDERR_KEEP]; /* the end of stderr */
  size_t err_len;
  bool err_cut; /* stderr had more than err holds */
} run;

/* Reaps the child, blocking. Returns 0 or an errno value. */
static int reap(run *r) {
  while (!r->reaped) {
    if (waitpid(r->pid, &r->status, 0) == r->pid)
      r->reaped = true;
    else if (errno != EINTR)
      return errno;
  }
  return 0;
}

/* Whether the child has exited, without reaping it (so its pid, which is
 * the process group id, stays taken). */
static bool has_exited(const run *r) {
  siginfo_t info;

  memset(&info, 0, sizeof info);
  if (waitid(P_PID, (id_t)r->pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0)
    return errno != EINTR; /* ECHILD: someone else reaped it */
  return info.si_pid == r->pid;
}

static void close_pipes(run *r) {
  close_fd(&r->in_w);
  close_fd(&r->out_r);
  close_fd(&r->err_r);
}

/* Ends the whole process group: SIGTERM, up to `grace_ns` for the shell to
 * exit, then SIGKILL, and reaps the shell. */
static void terminate(run *r, int64_t grace_ns) {
  int64_t until = now_ns() + grace_ns;

  close_pipes(r);
  if (kill(-r->pid, SIGTERM) != 0)
    kill(r->pid, SIGTERM);
  while (grace_ns > 0 && !has_exited(r) && now_ns() < until)
    sleep_ns(WAIT_STEP_NS);
  if (kill(-r->pid, SIGKILL) != 0)
    kill(r->pid, SIGKILL);
  reap(r);
}

/* Keeps the last STDERR_KEEP bytes of stderr. */
static int drain_stderr(run *r) {
  ssize_t n = read(r->err_r, r->err + r->err_len, sizeof r->err - r->err_len);

  if (n < 0)
    return errno == EAGAIN || errno == EINTR ? 0 : errno;
  if (n == 0) {
    close_fd(&r->err_r);
    return 0;
  }
  r->err_len += (size_t)n;
  if (r->err_len > STDERR_KEEP) {
    memmove(r->err, r->err + r->err_len - STDERR_KEEP, STDERR_KEEP);
    r->err_len = STDERR_KEEP;
    r->err_cut = true;
  }
  return 0;
}

/* Reads what stdout has. Returns 0, an errno value, or SY_ETOOBIG /
 * SY_ENOMEM (negative). */
static int drain_stdout(run *r) {
  ssize_t n;

  /* Never more than one byte past the limit, to notice it. */
  size_t room = r->max_out + 1 - r->out.len;
  if (room == 0)
    return SY_ETOOBIG;
  if (room > IO_CHUNK)
    room = IO_CHUNK;
  if (sy_buf_reserve(&r->out, room) != 0)
    return SY_ENOMEM;
  n = read(r->out_r, r->out.data + r->out.len, room);
  if (n < 0)
    return errno == EAGAIN || errno == EINTR ? 0 : errno;
  if (n == 0) {
    close_fd(&r->out_r);
    return 0;
  }
  r->out.len += (size_t)n;
  r->out.data[r->out.len] = '\0';
  return r->out.len > r->max_out ? SY_ETOOBIG : 0;
}

/* Writes the next piece of stdin. A command that stops reading (EPIPE) is
 * its own business: stdin is just closed. */
static void feed_stdin(run *r) {
  size_t left = r->in_len - r->in_off;
  ssize_t n =
      write(r->in_w, r->in_data + r->in_off, left > IO_CHUNK ? IO_CHUNK : left);

  if (n > 0)
    r->in_off += (size_t)n;
  else if (n < 0 && errno != EAGAIN && errno != EINTR)
    r->in_off = r->in_len;
  if (r->in_off == r->in_len)
    close_fd(&r->in_w);
}

/* The poll loop: feeds stdin, drains stdout and stderr until all three are
 * closed or the deadline (0 = none) passes. Returns 0, SY_ETIMEOUT, or a
 * failure with err set. */
static int pump(run *r, int64_t deadline, sy_error *err) {
  while (r->in_w >= 0 || r->out_r >= 0 || r->err_r >= 0) {
    struct pollfd p[3];
    int n = 0, wait_ms = -1, k, e = 0;
    int i_in = -1, i_out = -1, i_err = -1;

    if (deadline) {
      int64_t left = deadline - now_ns();
      if (left <= 0)
        return SY_ETIMEOUT;
      wait_ms = left / 1000000 >= INT_MAX ? INT_MAX
                                          : (int)((left + 999999) / 1000000);
    }
    if (r->in_w >= 0) {
      i_in = n;
      p[n++] = (struct pollfd){r->in_w, POLLOUT, 0};
    }
    if (r->out_r >= 0) {
      i_out = n;
      p[n++] = (struct pollfd){r->out_r, POLLIN, 0};
    }
    if (r->err_r >= 0) {
      i_err = n;
      p[n++] = (struct pollfd){r->err_r, POLLIN, 0};
    }
    k = poll(p, (nfds_t)n, wait_ms);
    if (k < 0 && errno != EINTR)
      return sy_error_set(err, SY_EIO, "sys.exec: poll failed: %s",
                          strerror(errno));
    if (k <= 0)
      continue;
    if (i_in >= 0 && p[i_in].revents)
      feed_stdin(r);
    if (i_err >= 0 && p[i_err].revents)
      e = drain_stderr(r);
    if (e == 0 && i_out >= 0 && p[i_out].revents)
      e = drain_stdout(r);
    if (e == SY_ETOOBIG)
      return sy_error_set(err, SY_ETOOBIG,
                          "sys.exec: command output exceeds %zu bytes",
                          r->max_out);
    if (e == SY_ENOMEM)
      return sy_error_set(err, SY_ENOMEM, "sys.exec: out of memory");
    if (e != 0)
      return sy_error_set(err, SY_EIO,
                          "sys.exec: cannot read the command's output: %s",
                          strerror(e));
  }
  return 0;
}

/* Waits for the child's exit once its pipes are closed, honouring the
 * deadline. Returns 0, SY_ETIMEOUT or a failure with err set. */
static int await_exit(run *r, int64_t deadline, sy_error *err) {
  int e = 0;

  if (deadline) {
    while (!has_exited(r)) {
      if (now_ns() >= deadline)
        return SY_ETIMEOUT;
      sleep_ns(WAIT_STEP_NS);
    }
  }
  e = reap(r);
  if (e != 0)
    return sy_error_set(err, SY_EFAILED,
                        "sys.exec: cannot get the command's exit status: %s",
                        strerror(e));
  return 0;
}

/* Sets err to head, followed by ": " and as much of the stderr tail as
 * fits in an sy_error (its end, which says the most). */
static int fail_with_stderr(sy_error *err, int code, const char *head, run *r) {
  size_t len = r->err_len, start = 0, room, i;
  char *tail = r->err;
  bool cut = r->err_cut;

  while (len > 0 && (tail[len - 1] == '\n' || tail[len - 1] == '\r' ||
                     tail[len - 1] == ' ' || tail[len - 1] == '\t'))
    len--;
  if (len == 0)
    return sy_error_set(err, code, "%s", head);
  for (i = 0; i < len; i++)
    if (tail[i] == '\0')
      tail[i] = ' ';
  /* head + ": " + "..." + tail + NUL must fit. */
  room = SY_ERROR_MAX - 1 - strlen(head) - 2 - 3;
  if (len > room) {
    start = len - room;
    cut = true;
  }
  return sy_error_set(err, code, "%s: %s%.*s", head, cut ? "..." : "",
                      (int)(len - start), tail + start);
}

/* Turns a reaped child's status into 0 or an error. */
static int check_status(run *r, sy_error *err) {
  char head[160];

  if (WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0)
    return 0;
  if (WIFEXITED(r->status)) {
    snprintf(head, sizeof head, "sys.exec: command exited with status %d",
             WEXITSTATUS(r->status));
  } else if (WIFSIGNALED(r->status)) {
    int sig = WTERMSIG(r->status);
    const char *name = strsignal(sig);
    snprintf(head, sizeof head, "sys.exec: command killed by signal %d (%s)",
             sig, name ? name : "unknown signal");
  } else {
    snprintf(head, sizeof head, "sys.exec: command ended with status 0x%x",
             (unsigned)r->status);
  }
  return fail_with_stderr(err, SY_EFAILED, head, r);
}

/* Reads the {out} file, if the command wrote one, into b (taking
 * the place of stdout). Returns 0 with *found false when there is none. */
static int read_out_file(const char *path, size_t max, sy_buf *b, bool *found,
                         sy_error *err) {
  struct stat st;
  int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

  *found = false;
  if (fd < 0) {
    if (errno == ENOENT)
      return 0;
    return sy_error_set(err, SY_EIO, "sys.exec: cannot open {out}: %s",
                        strerror(errno));
  }
  *found = true;
  b->len = 0;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    rc = sy_error_set(err, SY_EIO, "sys.exec: {out} is not a regular file");
    goto done;
  }
  void *data = NULL;
  size_t len = 0;
  rc = sy_file_read_fd(fd, "sys.exec: {out}", max, &data, &len, err);
  if (rc == SY_ETOOBIG)
    rc = sy_error_set(err, SY_ETOOBIG,
                      "sys.exec: command output exceeds %zu bytes", max);
  else if (rc == 0) {
    free(b->data);
    b->data = data;
    b->len = len;
    b->cap = len + 1;
  }
done:
  close(fd);
  return rc;
}

/* Makes the output value from the captured bytes, taking b's buffer. */
static int make_output(const sys_exec *x, sy_buf *b, const char *source,
                       sy_value **out, sy_error *err) {
  int rc;

  if (x->cfg->output == SYS_OUTPUT_BYTES) {
    if (b->len == 0) {
      rc = sy_bytes_new(NULL, 0, x->cfg->media_type, out);
    } else {
      char *shrunk = realloc(b->data, b->len);
      if (shrunk)
        b->data = shrunk;
      rc = sy_bytes_wrap(b->data, b->len, x->cfg->media_type, free, out);
      if (rc == 0)
        *b = (sy_buf)SY_BUF_INIT;
    }
    if (rc != 0)
      return sy_error_set(err, rc, "sys.exec: cannot make the output: %s",
                          sy_strerror(rc));
    return 0;
  } else {
    sy_csv_options opts;
    memset(&opts, 0, sizeof opts);
    opts.size = (uint32_t)sizeof opts;
    opts.delimiter = ',';
    opts.name = source;
    rc = sy_csv_read(b->data ? b->data : "", b->len, &opts, out, err);
    if (rc != 0)
      sy_error_prefix(err, "sys.exec");
    return rc;
  }
}

/* ---- the provider ------------------------------------------------------- */

int sys_exec_create(const void *config, void **self, sy_error *err) {
  const sys_exec_config *cfg = config;
  sys_exec *x = NULL;
  const char *p;
  size_t idx, len, i;
  int uses_in = 0, uses_out = 0;

  if (!cfg || !self)
    return sy_error_set(err, SY_EINVAL, "sys.exec: no config");
  if (!cfg->command || !*cfg->command)
    return sy_error_set(err, SY_ECONFIG, "sys.exec: command is empty");
  if (cfg->stdin_mode < SYS_STDIN_NONE || cfg->stdin_mode > SYS_STDIN_AUTO)
    return sy_error_set(err, SY_ECONFIG, "sys.exec: bad stdin mode %d",
                        cfg->stdin_mode);
  if (cfg->output != SYS_OUTPUT_CSV && cfg->output != SYS_OUTPUT_BYTES)
    return sy_error_set(err, SY_ECONFIG, "sys.exec: bad output mode %d",
                        cfg->output);
  for (i = 0; cfg->env && cfg->env[i]; i++) {
    const char *eq = strchr(cfg->env[i], '=');
    if (!eq || eq == cfg->env[i])
      return sy_error_set(err, SY_ECONFIG,
                          "sys.exec: env entry '%s' is not NAME=VALUE",
                          cfg->env[i]);
  }
  if (cfg->output == SYS_OUTPUT_BYTES) {
    /* Refuse a bad media type now rather than after every run. */
    sy_value *probe = NULL;
    int rc = sy_bytes_new(NULL, 0, cfg->media_type, &probe);
    sy_value_unref(probe);
    if (rc != 0)
      return sy_error_set(err, SY_ECONFIG,
                          "sys.exec: media_type '%s' is not a media type",
                          cfg->media_type ? cfg->media_type : "");
  }
  for (p = cfg->command; (p = strchr(p, '{')) != NULL;) {
    int ph = match_placeholder(p, &idx, &len);
    uses_in |= ph == PH_IN;
    uses_out |= ph == PH_OUT;
    p += ph == PH_NONE ? 1 : len;
  }
  x = calloc(1, sizeof *x);
  if (!x)
    return sy_error_set(err, SY_ENOMEM, "sys.exec: out of memory");
  x->cfg = cfg;
  x->uses_in = uses_in;
  x->uses_out = uses_out;
  x->max_output = SY_VALUE_MAX_BYTES;
  *self = x;
  return 0;
}

void sys_exec_destroy(void *self) {
  free(self);
}

/* The content hash (sy_hasher) of the whole content at fd into out. 0 or
 * the errno. */
static int hash_file_fd(int fd, uint8_t out[16]) {
  sy_hasher *st = NULL;
  char chunk[IO_CHUNK];
  ssize_t n;
  int e = 0;

  if (sy_hasher_new(&st) < 0)
    return ENOMEM;
  for (;;) {
    n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      e = n < 0 ? errno : 0;
      break;
    }
    sy_hasher_update(st, chunk, (size_t)n);
  }
  if (e == 0)
    sy_hasher_digest(st, out);
  sy_hasher_free(st);
  return e;
}

int sys_exec_fingerprint(const void *self, uint8_t key[16], sy_error *err) {
  const sys_exec *x = self;
  const sys_exec_config *cfg = x->cfg;
  sy_hasher *all = NULL;
  sy_buf path = SY_BUF_INIT;
  int rc = 0;
  size_t i;

  memset(key, 0, 16);
  if (!cfg->deps || !cfg->deps[0])
    return 0;
  if (sy_hasher_new(&all) < 0)
    return sy_error_set(err, SY_ENOMEM, "sys.exec: out of memory");
  for (i = 0; rc == 0 && cfg->deps[i]; i++) {
    const char *dep = cfg->deps[i];
    uint8_t one[16];
    struct stat st;
    int fd, e;

    path.len = 0;
    if (dep[0] != '/' && cfg->cwd && *cfg->cwd &&
        (sy_buf_puts(&path, cfg->cwd) != 0 || sy_buf_puts(&path, "/") != 0)) {
      rc = sy_error_set(err, SY_ENOMEM, "sys.exec: out of memory");
      break;
    }
    if (sy_buf_puts(&path, dep) != 0) {
      rc = sy_error_set(err, SY_ENOMEM, "sys.exec: out of memory");
      break;
    }
    /* O_NONBLOCK: a FIFO named as a dep must not block the compile. */
    /* The path the dep was resolved to, when cwd changed it. */
    const char *at = strcmp(path.data, dep) ? path.data : NULL;
    fd = open(path.data, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
      e = errno;
      rc = sy_error_set(err, e == ENOENT ? SY_ENOENT : SY_EIO,
                        "sys.exec: dep '%s'%s%s%s cannot be read: %s; deps "
                        "lists files whose content goes into the cache key",
                        dep, at ? " (" : "", at ? at : "", at ? ")" : "",
                        strerror(e));
      break;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      close(fd);
      rc = sy_error_set(err, SY_EINVAL,
                        "sys.exec: dep '%s'%s%s%s is not a regular file; "
                        "deps lists files whose content goes into the cache "
                        "key",
                        dep, at ? " (" : "", at ? at : "", at ? ")" : "");
      break;
    }
    e = hash_file_fd(fd, one);
    close(fd);
    if (e != 0) {
      rc = sy_error_set(err, SY_EIO, "sys.exec: dep '%s'%s%s%s: %s", dep,
                        at ? " (" : "", at ? at : "", at ? ")" : "",
                        strerror(e));
      break;
    }
    sy_hasher_update(all, one, sizeof one);
  }
  if (rc == 0)
    sy_hasher_digest(all, key);
  sy_hasher_free(all);
  free(path.data);
  return rc;
}

int sys_exec_apply(void *self, const sy_value *const *in, size_t n_in,
                   sy_value **out, sy_error *err) {
  const sys_exec *x = self;
  const sys_exec_config *cfg = x->cfg;
  run r;
  sy_buf cmd = SY_BUF_INIT, csv_in = SY_BUF_INIT, path = SY_BUF_INIT,
         result = SY_BUF_INIT;
  char *dir = NULL, **envp = NULL;
  char *argv[4];
  bool *wanted = NULL, feed = false, found = false, sigpipe_blocked = false;
  int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
  int report[2] = {-1, -1}, devnull = -1, rc = 0, e = 0;
  int64_t deadline = 0;
  sigset_t pipe_set, old_mask, pending;
  bool pipe_was_pending = false;
  child_plan plan;
  child_report rep;
  ssize_t got;
  size_t k;
  long max_fd;

  memset(&r, 0, sizeof r);
  r.pid = -1;
  r.in_w = r.out_r = r.err_r = -1;
  r.max_out = x->max_output;
  *out = NULL;

  for (k = 0; k < n_in; k++) {
    sy_value_type t = sy_value_type_of(in[k]);
    if (t != SY_VALUE_FRAME && t != SY_VALUE_BYTES) {
      rc = sy_error_set(err, SY_ETYPE,
                        "sys.exec: input %zu is neither a frame nor bytes", k);
      goto fail;
    }
  }
  feed = cfg->stdin_mode == SYS_STDIN_IN0 ||
         (cfg->stdin_mode == SYS_STDIN_AUTO && n_in > 0 && !x->uses_in);
  if (feed && n_in == 0) {
    rc = sy_error_set(err, SY_EINVAL,
                      "sys.exec: stdin = in0 but the step has no input");
    goto fail;
  }

  /* The command line, with its placeholders' files written. */
  if (x->uses_in || x->uses_out) {
    wanted = calloc(n_in ? n_in : 1, sizeof *wanted);
    if (!wanted) {
      rc = sy_error_set(err, SY_ENOMEM, "sys.exec: out of memory");
      goto fail;
    }
    if ((rc = make_temp_dir(&dir, err)) != 0)
      goto fail;
    if ((rc = expand_command(cfg->command, dir, in, n_in, wanted, &cmd, err)) !=
        0)
      goto fail;
    for (k = 0; k < n_in; k++) {
      if (!wanted[k])
        continue;
      if ((rc = temp_path(&path, dir, in[k], k)) != 0) {
        rc = sy_error_set(err, SY_ENOMEM, "sys.exec: out of memory");
        goto fail;
      }
      if ((rc = write_input(path.data, in[k], err)) != 0)
        goto fail;
    }
  } else if (sy_buf_puts(&cmd, cfg->command) != 0) {
    rc = sy_error_set(err, SY_ENOMEM, "sys.exec: out of memory");
    goto fail;
  }

  /* What goes to stdin. */
  if (feed && sy_value_type_of(in[0]) == SY_VALUE_FRAME) {
    if ((rc = sy_csv_write(in[0], ',', buf_write_fn, &csv_in, err)) != 0) {
      sy_error_prefix(err, "sys.exec: cannot write input 0 as CSV");
      goto fail;
    }
    r.in_data = csv_in.data;
    r.in_len = csv_in.len;
  } else if (feed) {
    r.in_data = sy_bytes_data(in[0], &r.in_len);
  }

  /* Everything the child needs, before the fork. */
  envp = cfg->env ? build_env(cfg->env) : environ;
  if (!envp) {
    rc = sy_error_set(err, SY_ENOMEM, "sys.exec: out of memory");
    goto fail;
  }
  argv[0] = "sh";
  argv[1] = "-c";
  argv[2] = cmd.data;
  argv[3] = NULL;
  if ((e = make_pipe(out_pipe)) != 0 || (e = make_pipe(err_pipe)) != 0 ||
      (e = make_pipe(report)) != 0 ||
      (feed ? (e = make_pipe(in_pipe)) : 0) != 0) {
    rc = sy_error_set(err, SY_EIO, "sys.exec: cannot make a pipe: %s",
                      strerror(e));
    goto fail;
  }
  if (!feed) {
    devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull < 0 || (e = lift_fd(&devnull)) != 0) {
      rc = sy_error_set(err, SY_EIO, "sys.exec: cannot open /dev/null: %s",
                        strerror(devnull < 0 ? errno : e));
      goto fail;
    }
  }
  max_fd = sysconf(_SC_OPEN_MAX);
  plan.argv = argv;
  plan.envp = envp;
  plan.cwd = cfg->cwd;
  plan.in_fd = feed ? in_pipe[0] : devnull;
  plan.out_fd = out_pipe[1];
  plan.err_fd = err_pipe[1];
  plan.report_fd = report[1];
  plan.max_fd = max_fd < 0 || max_fd > 65536 ? 65536 : (int)max_fd - 1;

  /* A command that stops reading its stdin must not kill the host with
   * SIGPIPE: block it in this thread while we write (see the top). */
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  sigpending(&pending);
  pipe_was_pending = sigismember(&pending, SIGPIPE) == 1;
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);
  sigpipe_blocked = true;

  r.pid = fork();
  if (r.pid < 0) {
    rc =
        sy_error_set(err, SY_EIO, "sys.exec: cannot fork: %s", strerror(errno));
    goto fail;
  }
  if (r.pid == 0) {
    child_main(&plan); /* does not return */
    _exit(127);
  }
  /* Also here, so that a kill before the child ran setpgid still hits
   * its group; EACCES after its exec is harmless. */
  setpgid(r.pid, r.pid);
  close_fd(&in_pipe[0]);
  close_fd(&out_pipe[1]);
  close_fd(&err_pipe[1]);
  close_fd(&report[1]);
  close_fd(&devnull);
  r.in_w = in_pipe[1];
  r.out_r = out_pipe[0];
  r.err_r = err_pipe[0];
  in_pipe[1] = out_pipe[0] = err_pipe[0] = -1;

  /* EOF on the report pipe means exec succeeded. */
  do
    got = read(report[0], &rep, sizeof rep);
  while (got < 0 && errno == EINTR);
  close_fd(&report[0]);
  if (got == (ssize_t)sizeof rep) {
    close_pipes(&r);
    reap(&r);
    if (rep.stage == STAGE_CHDIR)
      rc = sy_error_set(err, SY_EFAILED,
                        "sys.exec: cannot change to folder %s: %s", cfg->cwd,
                        strerror(rep.error));
    else
      rc = sy_error_set(err, SY_EFAILED, "sys.exec: cannot run /bin/sh: %s",
                        strerror(rep.error));
    goto fail;
  }

  if ((e = set_nonblock(r.out_r)) != 0 || (e = set_nonblock(r.err_r)) != 0 ||
      (r.in_w >= 0 && (e = set_nonblock(r.in_w)) != 0)) {
    rc = sy_error_set(err, SY_EIO, "sys.exec: cannot set up the pipes: %s",
                      strerror(e));
    goto fail;
  }
  if (r.in_w >= 0 && r.in_len == 0)
    close_fd(&r.in_w);

  if (cfg->timeout > 0) {
    int64_t now = now_ns();
    deadline = cfg->timeout > INT64_MAX - now ? INT64_MAX : now + cfg->timeout;
  }
  rc = pump(&r, deadline, err);
  if (rc == 0)
    rc = await_exit(&r, deadline, err);
  if (rc == SY_ETIMEOUT) {
    char head[96], d[32];
    terminate(&r, KILL_GRACE_NS);
    format_duration(cfg->timeout, d, sizeof d);
    snprintf(head, sizeof head, "sys.exec: command timed out after %s", d);
    rc = fail_with_stderr(err, SY_ETIMEOUT, head, &r);
    goto fail;
  }
  if (rc != 0)
    goto fail;
  if ((rc = check_status(&r, err)) != 0)
    goto fail;

  /* The output: the {out} file when the command wrote one, else stdout. */
  if (x->uses_out) {
    if ((rc = temp_path(&path, dir, NULL, 0)) != 0) {
      rc = sy_error_set(err, SY_ENOMEM, "sys.exec: out of memory");
      goto fail;
    }
    if ((rc = read_out_file(path.data, r.max_out, &result, &found, err)) != 0)
      goto fail;
  }
  rc = found ? make_output(x, &result, "{out}", out, err)
             : make_output(x, &r.out, "stdout", out, err);

fail:
  if (r.pid > 0 && !r.reaped)
    terminate(&r, 0);
  close_pipes(&r);
  if (sigpipe_blocked) {
    /* Consume a SIGPIPE our writes raised; leave one the host had. */
    sigpending(&pending);
    if (!pipe_was_pending && sigismember(&pending, SIGPIPE) == 1) {
      struct timespec zero = {0, 0};
      while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
  }
  close_fd(&in_pipe[0]);
  close_fd(&in_pipe[1]);
  close_fd(&out_pipe[0]);
  close_fd(&out_pipe[1]);
  close_fd(&err_pipe[0]);
  close_fd(&err_pipe[1]);
  close_fd(&report[0]);
  close_fd(&report[1]);
  close_fd(&devnull);
  if (dir) {
    remove_tree(dir);
    free(dir);
  }
  if (envp != environ)
    free(envp);
  free(r.out.data);
  free(result.data);
  free(path.data);
  free(csv_in.data);
  free(cmd.data);
  free(wanted);
  return rc;
}
