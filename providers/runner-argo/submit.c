/*
 * submit.c - `submit = true`: hands the Workflow file to the cluster's own
 * client and follows it to its end.
 *
 *   argo on PATH:     argo submit --wait FILE; argo follows the Workflow
 *                     and exits non-zero when it fails
 *   else kubectl:     kubectl create -f FILE -o name prints the object's
 *                     name; kubectl get NAME -o jsonpath={.status.phase}
 *                     every `poll` until Succeeded, Failed or Error
 *   neither:          a configuration error that says what to install
 *
 * The clients are started with posix_spawn and an argv (no shell, so no
 * quoting of the file name); their stdout and stderr pass through, except
 * kubectl's answers, which are read from a pipe.
 */
#include "argo.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int argo_which(const char *name, char **out) {
  const char *path = getenv("PATH");
  if (!path || !*path)
    return 0;
  size_t nlen = strlen(name);
  for (const char *p = path;;) {
    const char *colon = strchr(p, ':');
    size_t dlen = colon ? (size_t)(colon - p) : strlen(p);
    char *full = malloc(dlen + nlen + 3);
    if (!full)
      return 0;
    if (dlen == 0)
      snprintf(full, dlen + nlen + 3, "./%s", name);
    else
      snprintf(full, dlen + nlen + 3, "%.*s/%s", (int)dlen, p, name);
    struct stat st;
    if (stat(full, &st) == 0 && S_ISREG(st.st_mode) &&
        access(full, X_OK) == 0) {
      *out = full;
      return 1;
    }
    free(full);
    if (!colon)
      return 0;
    p = colon + 1;
  }
}

/* Runs argv; with `capture`, its stdout is read into *captured (malloc'ed,
 * NUL-terminated, trailing newlines cut). Returns the exit status (0..255),
 * 128 + N for a signal, or -1 with err set when it cannot start. */
static int run(char *const argv[], char **captured, sy_error *err) {
  int fds[2] = {-1, -1};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (captured) {
    *captured = NULL;
    if (pipe(fds) != 0) {
      posix_spawn_file_actions_destroy(&fa);
      sy_error_set(err, SY_EIO, "runner.argo: pipe: %s", strerror(errno));
      return -1;
    }
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
  }
  pid_t pid;
  int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (captured)
    close(fds[1]);
  if (rc != 0) {
    if (captured)
      close(fds[0]);
    sy_error_set(err, SY_EIO, "runner.argo: cannot start %s: %s", argv[0],
                 strerror(rc));
    return -1;
  }
  int read_rc = 0;
  if (captured) {
    void *data = NULL;
    size_t len = 0;
    sy_error rerr;
    sy_error_clear(&rerr);
    read_rc = sy_file_read_fd(fds[0], argv[0], 1u << 20, &data, &len, &rerr);
    close(fds[0]);
    if (read_rc == 0) {
      char *s = data;
      while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
        s[--len] = '\0';
      *captured = s;
    }
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      sy_error_set(err, SY_EIO, "runner.argo: waiting for %s: %s", argv[0],
                   strerror(errno));
      return -1;
    }
  }
  if (read_rc != 0) {
    sy_error_set(err, SY_EIO, "runner.argo: cannot read what %s printed",
                 argv[0]);
    return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Sleeps ns in slices of at most 50 ms; returns early on a cancel. */
static void sleep_ns(sy_job *job, int64_t ns) {
  while (ns > 0 && !sy_job_cancelled(job)) {
    int64_t slice = ns < 50000000 ? ns : 50000000;
    struct timespec ts = {0, (long)slice};
    nanosleep(&ts, NULL);
    ns -= slice;
  }
}

static int with_kubectl(sy_job *job, char *kubectl, const char *file,
                        int64_t poll_ns, sy_error *err) {
  char *create[] = {kubectl,      "create", "-f", (char *)file,
                    (char *)"-o", "name",   NULL};
  char *name = NULL;
  int st = run(create, &name, err);
  if (st < 0)
    return SY_EIO;
  if (st != 0 || !name || !*name) {
    free(name);
    return sy_error_set(err, SY_EIO,
                        "runner.argo: `kubectl create -f %s` failed (exit "
                        "%d); its message is above",
                        file, st);
  }
  fprintf(stderr, "switchyard: submitted %s; following its phase\n", name);
  int rc = 0;
  for (;;) {
    if (sy_job_cancelled(job)) {
      /* Ctrl-C: the Workflow is deleted (its pods go with it), as the
       * other runners stop their steps */
      char *del[] = {kubectl, "delete", name, NULL};
      int dst = run(del, NULL, err);
      rc = sy_error_set(err, SY_ECANCELED, "canceled: %s %s", name,
                        dst == 0 ? "was deleted"
                                 : "may still run: `kubectl delete` it");
      break;
    }
    char *get[] = {kubectl, "get", name, "-o", "jsonpath={.status.phase}",
                   NULL};
    char *phase = NULL;
    st = run(get, &phase, err);
    if (st < 0) {
      rc = SY_EIO;
    } else if (st != 0) {
      rc = sy_error_set(err, SY_EIO,
                        "runner.argo: `kubectl get %s` failed (exit %d)", name,
                        st);
    } else if (strcmp(phase, "Succeeded") == 0) {
      fprintf(stderr, "switchyard: %s succeeded\n", name);
    } else if (strcmp(phase, "Failed") == 0 || strcmp(phase, "Error") == 0) {
      rc = sy_error_set(err, SY_EIO,
                        "runner.argo: %s ended in phase %s; see `argo get` "
                        "or `kubectl describe %s`",
                        name, phase, name);
    } else {
      free(phase);
      sleep_ns(job, poll_ns);
      continue;
    }
    free(phase);
    break;
  }
  free(name);
  return rc;
}

int argo_submit(sy_job *job, const char *file, int64_t poll_ns, sy_error *err) {
  char *exe = NULL;
  if (argo_which("argo", &exe)) {
    char *argv[] = {exe, "submit", "--wait", (char *)file, NULL};
    int st = run(argv, NULL, err);
    free(exe);
    if (st < 0)
      return SY_EIO;
    if (st != 0 && sy_job_cancelled(job))
      return sy_error_set(err, SY_ECANCELED,
                          "canceled: the Workflow may still run; `argo "
                          "stop @latest` stops it");
    if (st != 0)
      return sy_error_set(err, SY_EIO,
                          "runner.argo: `argo submit --wait %s` failed (exit "
                          "%d): the Workflow was refused or one of its tasks "
                          "failed; `argo logs @latest` shows the tasks' output",
                          file, st);
    return 0;
  }
  if (argo_which("kubectl", &exe)) {
    int rc = with_kubectl(job, exe, file, poll_ns, err);
    free(exe);
    return rc;
  }
  return sy_error_set(err, SY_ECONFIG,
                      "runner.argo: submit = true needs the `argo` CLI or "
                      "`kubectl` on PATH, and neither is there; install one "
                      "(https://argo-workflows.readthedocs.io), or drop "
                      "submit and run `argo submit --wait FILE` on a machine "
                      "that reaches the cluster");
}
