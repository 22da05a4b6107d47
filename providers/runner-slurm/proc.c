/*
 * proc.c - runs Slurm's commands (sbatch, squeue, scontrol, sacct,
 * scancel) for runner-slurm: fork and exec with an argument vector, never
 * a shell, so no text of the user's (a node id, a partition, a path) is
 * ever parsed by one; standard input is /dev/null, standard output and
 * error are captured.
 */
#include "slurm.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* What a child keeps of each stream: Slurm's commands print little; a
 * flood is cut (read and dropped) rather than held. */
#define KEEP_BYTES (1u << 20)

static void add(sy_buf *b, const char *p, size_t n) {
  if (!b)
    return;
  if (b->len + n > KEEP_BYTES)
    n = b->len < KEEP_BYTES ? KEEP_BYTES - b->len : 0;
  if (n)
    sy_buf_add(b, p, n);
}

int slurm_cmd(char *const argv[], sy_buf *out, sy_buf *errb, sy_error *err) {
  int po[2] = {-1, -1}, pe[2] = {-1, -1}, px[2] = {-1, -1};
  if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC) || pipe2(px, O_CLOEXEC)) {
    int e = errno;
    for (int i = 0; i < 2; i++) {
      if (po[i] >= 0)
        close(po[i]);
      if (pe[i] >= 0)
        close(pe[i]);
      if (px[i] >= 0)
        close(px[i]);
    }
    return sy_error_set(err, sy_code_from_errno(e), "runner slurm: pipe: %s",
                        strerror(e));
  }
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(po[0]), close(po[1]), close(pe[0]), close(pe[1]);
    close(px[0]), close(px[1]);
    return sy_error_set(err, sy_code_from_errno(e), "runner slurm: fork: %s",
                        strerror(e));
  }
  if (pid == 0) {
    /* The child: the parent's handlers (Ctrl-C cancels the run) are not
     * the command's; exec resets caught signals, but not ignored ones. */
    signal(SIGPIPE, SIG_DFL);
    int in = open("/dev/null", O_RDONLY);
    if (in < 0 || dup2(in, 0) < 0 || dup2(po[1], 1) < 0 || dup2(pe[1], 2) < 0)
      _exit(126);
    execvp(argv[0], argv);
    int e = errno;
    ssize_t w = write(px[1], &e, sizeof e); /* exec failed: say why */
    (void)w;
    _exit(127);
  }
  close(po[1]), close(pe[1]), close(px[1]);
  struct pollfd p[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
  sy_buf *to[2] = {out, errb};
  int open_fds = 2;
  char chunk[4096];
  while (open_fds > 0) {
    int r = poll(p, 2, -1);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      break;
    for (int i = 0; i < 2; i++) {
      if (p[i].fd < 0 || !p[i].revents)
        continue;
      ssize_t n = read(p[i].fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0) {
        close(p[i].fd);
        p[i].fd = -1;
        open_fds--;
        continue;
      }
      add(to[i], chunk, (size_t)n);
    }
  }
  for (int i = 0; i < 2; i++)
    if (p[i].fd >= 0)
      close(p[i].fd);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  int exec_errno = 0;
  ssize_t got;
  while ((got = read(px[0], &exec_errno, sizeof exec_errno)) < 0 &&
         errno == EINTR)
    ;
  close(px[0]);
  if (got == (ssize_t)sizeof exec_errno)
    return sy_error_set(err, SY_ECONFIG,
                        "runner slurm: cannot run %s: %s; the runner needs "
                        "Slurm's commands (sbatch, squeue, scontrol, "
                        "scancel) on PATH (Debian: apt-get install "
                        "slurm-client)",
                        argv[0], strerror(exec_errno));
  if (out)
    sy_buf_add(out, "", 0);
  if (errb)
    sy_buf_add(errb, "", 0);
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* The last line of a command's error output that says something, for a
 * message: "sbatch: error: invalid partition specified: x". */
const char *slurm_last_line(sy_buf *b, char *line, size_t cap) {
  line[0] = '\0';
  if (!b->data)
    return line;
  const char *end = b->data + b->len;
  while (end > b->data && (end[-1] == '\n' || end[-1] == ' '))
    end--;
  const char *start = end;
  while (start > b->data && start[-1] != '\n')
    start--;
  size_t n = (size_t)(end - start);
  if (n >= cap)
    n = cap - 1;
  memcpy(line, start, n);
  line[n] = '\0';
  return line;
}
