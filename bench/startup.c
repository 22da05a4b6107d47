/*
 * bench/startup.c - what a start of a command costs, against /bin/true.
 *
 *   bench/startup RUNS LABEL=COMMAND [LABEL=COMMAND]...
 *
 * Each COMMAND (split at spaces; no shell) is started RUNS times with
 * posix_spawn, its output thrown away, the commands taking turns (A B C
 * A B C ...) so that the load of a shared machine falls on all of them
 * alike. The first command is the yardstick (bench/startup.sh passes
 * /bin/true): the table gives each command's median and mean wall time
 * from spawn to reaped exit, and its median minus the yardstick's, which
 * is what the command costs of its own. Three untimed rounds go first.
 * Exits 1 when a command fails (non-zero status) or cannot be started.
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_CMDS 8
#define MAX_ARGS 32

typedef struct cmd {
  const char *label;
  char *argv[MAX_ARGS + 1];
  double *us;
} cmd;

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

/* One start: microseconds from spawn to the reaped exit, or -1. */
static double run_once(const cmd *c, posix_spawn_file_actions_t *fa) {
  pid_t pid;
  double t0 = now_us();
  if (posix_spawn(&pid, c->argv[0], fa, NULL, c->argv, environ) != 0)
    return -1;
  int status;
  if (waitpid(pid, &status, 0) != pid)
    return -1;
  double t1 = now_us();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return -1;
  return t1 - t0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv) {
  if (argc < 3 || atoi(argv[1]) < 1) {
    fprintf(stderr, "usage: bench/startup RUNS LABEL=COMMAND...\n");
    return 2;
  }
  int runs = atoi(argv[1]);
  int n = 0;
  cmd cmds[MAX_CMDS];
  for (int i = 2; i < argc && n < MAX_CMDS; i++, n++) {
    char *eq = strchr(argv[i], '=');
    if (!eq) {
      fprintf(stderr, "startup: '%s' is not LABEL=COMMAND\n", argv[i]);
      return 2;
    }
    *eq = '\0';
    cmds[n].label = argv[i];
    int k = 0;
    for (char *save = NULL, *w = strtok_r(eq + 1, " ", &save);
         w && k < MAX_ARGS; w = strtok_r(NULL, " ", &save))
      cmds[n].argv[k++] = w;
    cmds[n].argv[k] = NULL;
    cmds[n].us = calloc((size_t)runs, sizeof(double));
    if (!k || !cmds[n].us) {
      fprintf(stderr, "startup: bad command for %s\n", argv[i]);
      return 2;
    }
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  for (int r = -3; r < runs; r++) {
    for (int c = 0; c < n; c++) {
      double us = run_once(&cmds[c], &fa);
      if (us < 0) {
        fprintf(stderr, "startup: %s failed (run it by hand to see why)\n",
                cmds[c].label);
        return 1;
      }
      if (r >= 0)
        cmds[c].us[r] = us;
    }
  }
  posix_spawn_file_actions_destroy(&fa);
  double base = 0;
  printf("%-40s %10s %10s %10s\n", "command (wall, us)", "median", "mean",
         "+ own");
  for (int c = 0; c < n; c++) {
    double sum = 0;
    for (int r = 0; r < runs; r++)
      sum += cmds[c].us[r];
    double med = median(cmds[c].us, runs);
    if (c == 0)
      base = med;
    printf("%-40s %10.0f %10.0f %10.0f\n", cmds[c].label, med, sum / runs,
           med - base);
    free(cmds[c].us);
  }
  printf("(%d runs each, interleaved; '+ own' is the median minus %s's)\n",
         runs, cmds[0].label);
  return 0;
}
