/*
 * submit.c - `submit = true`: hands the Workflow file to the cluster's own
 * client and follows it to its end.
 *
 *   argo on PATH:     argo submit --wait FILE; argo follows the Workflow
 *                     and exits non-zero when it fails
 *   else kubectl:     kubectl create -f FILE -o name prints the object's
 *                     name; kubectl get NAME -o json every `poll` until
 *                     .status.phase is Succeeded, Failed or Error; the
 *                     status's nodes (one per task, by displayName) give
 *                     the steps' events, so the progress line and --log
 *                     follow the Workflow task by task
 *   neither:          a configuration error that says what to install
 *
 * The clients are started with posix_spawn and an argv (no shell, so no
 * quoting of the file name); their stdout and stderr pass through, except
 * kubectl's answers, which are read from a pipe.
 */
#include "argo.h"

#include <errno.h>
#include <jansson.h>
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

/* ---- following the tasks ----------------------------------------------
 * What each task was last seen doing, so each event is emitted once. */
enum { T_WAITING = 0, T_RUNNING, T_ENDED };

typedef struct follow {
  sy_job *job;
  const argo_tasks *tasks;
  uint8_t *seen; /* per task */
  sy_buf failed; /* "task (message); ..." of the tasks that failed */
} follow;

static void emit_task(follow *f, size_t k, sy_event_type type,
                      const char *message) {
  size_t n = sy_job_size(f->job);
  for (size_t s = 0; s < n; s++)
    if (f->tasks->unit_of[s] == k)
      sy_job_emit(f->job, type, s, type == SY_EVENT_FAILED ? SY_EIO : 0,
                  message);
}

static const char *json_str(json_t *obj, const char *key) {
  const char *v = json_string_value(json_object_get(obj, key));
  return v ? v : "";
}

/* One task's node: Pending, Running, Succeeded, Failed, Error, Skipped or
 * Omitted (a Retry node stands for its task while it retries). */
static void follow_node(follow *f, size_t k, const char *phase,
                        const char *message) {
  int running = strcmp(phase, "Running") == 0;
  int ok = strcmp(phase, "Succeeded") == 0;
  int bad = strcmp(phase, "Failed") == 0 || strcmp(phase, "Error") == 0;
  int skipped = strcmp(phase, "Skipped") == 0 || strcmp(phase, "Omitted") == 0;
  if (f->seen[k] == T_ENDED)
    return;
  if (skipped) {
    emit_task(f, k, SY_EVENT_SKIPPED, NULL);
    f->seen[k] = T_ENDED;
    return;
  }
  if (!running && !ok && !bad)
    return;
  if (f->seen[k] == T_WAITING) {
    emit_task(f, k, SY_EVENT_STARTED, NULL);
    f->seen[k] = T_RUNNING;
  }
  if (ok || bad) {
    char msg[600];
    snprintf(msg, sizeof msg, "task %s ended in phase %s%s%s",
             f->tasks->name[k], phase, *message ? ": " : "", message);
    emit_task(f, k, ok ? SY_EVENT_DONE : SY_EVENT_FAILED, ok ? NULL : msg);
    if (bad)
      sy_buf_printf(&f->failed, "%s%s", f->failed.len ? "; " : "", msg);
    f->seen[k] = T_ENDED;
  }
}

/* Reads `kubectl get -o json`'s answer: the Workflow's phase (copied to
 * phase, "" while it has none) and its nodes' events. 0, or -1 when the
 * answer is not a Workflow's JSON. */
static int follow_status(follow *f, const char *text, char *phase, size_t cap) {
  json_error_t jerr;
  json_t *root = json_loads(text, 0, &jerr);
  if (!root || !json_is_object(root)) {
    json_decref(root);
    return -1;
  }
  json_t *status = json_object_get(root, "status");
  snprintf(phase, cap, "%s", json_str(status, "phase"));
  json_t *nodes = json_object_get(status, "nodes");
  const char *id;
  json_t *node;
  json_object_foreach(nodes, id, node) {
    const char *name = json_str(node, "displayName");
    const char *type = json_str(node, "type");
    if (strcmp(type, "DAG") == 0 || strcmp(type, "Steps") == 0)
      continue;
    for (size_t k = 0; k < f->tasks->n; k++)
      if (strcmp(f->tasks->name[k], name) == 0) {
        follow_node(f, k, json_str(node, "phase"), json_str(node, "message"));
        break;
      }
  }
  json_decref(root);
  return 0;
}

static int with_kubectl(sy_job *job, char *kubectl, const char *file,
                        int64_t poll_ns, const argo_tasks *tasks,
                        sy_error *err) {
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
  follow f = {job, tasks, calloc(tasks->n ? tasks->n : 1, 1), SY_BUF_INIT};
  if (!f.seen) {
    free(name);
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  }
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
    char *get[] = {kubectl, "get", name, "-o", "json", NULL};
    char *answer = NULL, phase[64] = "";
    st = run(get, &answer, err);
    if (st < 0) {
      rc = SY_EIO;
    } else if (st != 0) {
      rc = sy_error_set(err, SY_EIO,
                        "runner.argo: `kubectl get %s` failed (exit %d)", name,
                        st);
    } else if (follow_status(&f, answer, phase, sizeof phase) != 0) {
      rc = sy_error_set(err, SY_EIO,
                        "runner.argo: `kubectl get %s -o json` printed no "
                        "Workflow JSON",
                        name);
    } else if (strcmp(phase, "Succeeded") == 0) {
      fprintf(stderr, "switchyard: %s succeeded\n", name);
    } else if (strcmp(phase, "Failed") == 0 || strcmp(phase, "Error") == 0) {
      rc = sy_error_set(err, SY_EIO,
                        "runner.argo: %s ended in phase %s%s%s; see `argo "
                        "logs` or `kubectl describe %s`",
                        name, phase, f.failed.len ? ": " : "",
                        f.failed.len ? f.failed.data : "", name);
    } else {
      free(answer);
      sleep_ns(job, poll_ns);
      continue;
    }
    free(answer);
    break;
  }
  free(f.seen);
  sy_buf_free(&f.failed);
  free(name);
  return rc;
}

int argo_submit(sy_job *job, const char *file, int64_t poll_ns,
                const argo_tasks *tasks, sy_error *err) {
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
    int rc = with_kubectl(job, exe, file, poll_ns, tasks, err);
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
