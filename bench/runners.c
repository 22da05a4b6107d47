/*
 * bench/runners - what a runner costs per step: graphs of N steps that do
 * (almost) nothing, on runner-inline, runner-dask (threads) with one
 * worker and with one worker per core, and runner-dask (processes) with
 * one worker per core (graphs up to --procs-max steps, default 1e4).
 *
 *   bench/runners [--max N] [--spin-max N] [--reps R] [--spin-us US]
 *                 [--flow N] [--flow-only] [--flow-shape layered]
 *                 [--procs-max N] [--shape S] [--empty-only]
 *
 * Run it from the top of the built tree (it loads bench/.libs/actor-bench.so
 * from a private copy, plus ./plugins.d).
 *
 * Graphs (built directly with the core's program API, so that the flow
 * parser and compiler are not what is measured; one bench.source step per
 * root):
 *   chain    source -> body -> body -> ... (N steps in all)
 *   wide     source -> N-2 independent bodies -> one bench.empty reduce
 *   layered  L layers of W steps (W ~ sqrt N); layer 0 are sources, every
 *            later step reads 2 or 3 random steps of the layer before
 *            (a fixed seed, so every run builds the same graph)
 * Bodies: bench.empty, and bench.spin (a busy loop of --spin-us of CPU
 * time, 50 by default).
 *
 * Every configuration runs in a fresh forked child, so its peak RSS
 * (getrusage ru_maxrss after the run minus before the program was built)
 * is its own; each is repeated --reps times and the median reported.
 *
 *   overhead/step = (run wall - ideal work) / N, where ideal work is 0 for
 *                   empty bodies and, for spin bodies, the larger of
 *                   (spin steps x one spin / workers) and (spin steps on
 *                   the longest path x one spin): no schedule can beat
 *                   the critical path, which matters for chain. One spin
 *                   is calibrated here with the same loop as the actor.
 *   speedup       = median wall with workers = 1 / median wall, for the
 *                   same runner provider (dask), in the same run.
 *
 * --flow N also measures the whole path for a flow FILE: a chain of N
 * bench.empty actors written as a flow, timed through sy_program_compile
 * + sy_job_new + sy_job_run on inline, with bytes of peak RSS per step.
 * With --flow-shape layered the file is a layered graph without a source
 * (bench_write_layered_flow: the roots are bench.source actors with
 * inputs = []), run at 1e3 steps too, and the peak RSS growth per step
 * between the two sizes is printed: the issue 16 memory measure.
 * Each flow child is killed after --flow-timeout seconds (default 120).
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "switchyard/switchyard.h"

#define MAX_REPS 15

typedef enum { CHAIN, WIDE, LAYERED, N_SHAPES } shape;
static const char *const shape_names[] = {"chain", "wide", "layered"};

typedef struct runner_def {
  const char *instance; /* the instance sy_job_run is given */
  const char *label;
  int workers; /* for the ideal work */
  int base;    /* index of the workers=1 runner to compare with */
} runner_def;

/* What a child sends back through its pipe. */
typedef struct result {
  int rc;
  double build_s; /* program + job */
  double run_s;   /* sy_job_run */
  double compile_s, jobnew_s;
  long rss_kb;       /* ru_maxrss delta */
  double spin_s;     /* one spin's wall time, measured just before the run */
  double cpu_s;      /* user + system time of the whole process in the run */
  double spin_cpu_s; /* one spin's user + system time, measured likewise */
  char msg[240];
} result;

typedef struct graph_info {
  size_t n;      /* steps */
  size_t n_spin; /* steps with the body */
  size_t depth;  /* body steps on the longest path */
} graph_info;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 +
         (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
}

static long maxrss_kb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

/* ---- one spin, calibrated (the same loop as bench.spin) -------------- */

static int64_t thread_cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void spin_ns(int64_t ns) {
  int64_t end = thread_cpu_ns() + ns;
  volatile uint64_t x = 1;
  while (thread_cpu_ns() < end)
    for (int i = 0; i < 256; i++)
      x = x * 6364136223846793005u + 1442695040888963407u;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Wall seconds of one spin of `us`: the median of 5 batches of 20. It
 * runs in each child just before the graph, so that a machine that is
 * busier at that moment makes both the work and its ideal slower. */
static double calibrate_spin(long us, double *cpu_s) {
  double t[5], c[5];
  for (int r = 0; r < 5; r++) {
    double t0 = now(), c0 = cpu_seconds();
    for (int i = 0; i < 20; i++)
      spin_ns(us * 1000);
    t[r] = (now() - t0) / 20;
    c[r] = (cpu_seconds() - c0) / 20;
  }
  *cpu_s = median(c, 5);
  return median(t, 5);
}

/* ---- building a graph with the program API --------------------------- */

static const char *const spin_key[] = {"us"};

static int emit(sy_program *prog, const char *actor, const uint32_t *args,
                uint32_t n_args, const char *const *values, uint32_t n_params) {
  return sy_program_add_apply(prog, "b", actor, "1.0.0", args, n_args, spin_key,
                              values, n_params, 1);
}

/* A small LCG: the same graph on every run and every machine. */
static uint32_t next_rand(uint64_t *seed) {
  *seed = *seed * 6364136223846793005u + 1442695040888963407u;
  return (uint32_t)(*seed >> 33);
}

static void layered_dims(size_t n, size_t *layers, size_t *width) {
  size_t w = 1;
  while ((w + 1) * (w + 1) <= n)
    w++;
  if (w < 2)
    w = 2;
  *width = w;
  *layers = n / w < 2 ? 2 : n / w;
}

static void graph_shape(shape sh, size_t n, graph_info *g) {
  size_t layers, width;
  switch (sh) {
  case CHAIN:
    *g = (graph_info){n, n - 1, n - 1};
    break;
  case WIDE:
    *g = (graph_info){n, n - 2, 1};
    break;
  default:
    layered_dims(n, &layers, &width);
    *g = (graph_info){layers * width, (layers - 1) * width, layers - 1};
  }
}

static int build_graph(shape sh, size_t n, const char *body, long spin_us,
                       sy_program **out) {
  sy_program *prog = NULL;
  int rc = sy_program_new(SY_MODE_RUN, "bench", &prog, NULL);
  if (rc)
    return rc;
  char us[32];
  snprintf(us, sizeof us, "%ld", spin_us);
  const char *const param[] = {us};
  int spin = strcmp(body, "bench.spin") == 0;
  const char *const *params = spin ? param : NULL;
  uint32_t np = spin ? 1 : 0;
  uint32_t *args = NULL;
  if (n < 3)
    n = 3;
  if (sh == CHAIN) {
    rc = emit(prog, "bench.source", NULL, 0, NULL, 0);
    for (uint32_t i = 1; rc >= 0 && i < n; i++) {
      uint32_t prev = i - 1;
      rc = emit(prog, body, &prev, 1, params, np);
    }
  } else if (sh == WIDE) {
    rc = emit(prog, "bench.source", NULL, 0, NULL, 0);
    uint32_t src = 0;
    for (uint32_t i = 1; rc >= 0 && i < n - 1; i++)
      rc = emit(prog, body, &src, 1, params, np);
    args = malloc((n - 2) * sizeof *args);
    if (!args)
      rc = SY_ENOMEM;
    for (uint32_t i = 0; rc >= 0 && i < n - 2; i++)
      args[i] = i + 1;
    if (rc >= 0)
      rc = emit(prog, "bench.empty", args, (uint32_t)(n - 2), NULL, 0);
  } else {
    size_t layers, w;
    layered_dims(n, &layers, &w);
    uint64_t seed = 42;
    for (size_t i = 0; rc >= 0 && i < w; i++)
      rc = emit(prog, "bench.source", NULL, 0, NULL, 0);
    for (size_t l = 1; rc >= 0 && l < layers; l++) {
      uint32_t first = (uint32_t)((l - 1) * w);
      for (size_t i = 0; rc >= 0 && i < w; i++) {
        uint32_t a[3];
        uint32_t k = 2 + next_rand(&seed) % 2;
        for (uint32_t j = 0; j < k; j++)
          a[j] = first + next_rand(&seed) % (uint32_t)w;
        rc = emit(prog, body, a, k, params, np);
      }
    }
  }
  free(args);
  if (rc < 0) {
    sy_program_free(prog);
    return rc < 0 ? rc : SY_ENOMEM;
  }
  *out = prog;
  return 0;
}

/* ---- children --------------------------------------------------------- */

/* Runs fn in a forked child and reads its result; a child that dies or
 * outlives `timeout` seconds (0: none) reports why. */
typedef void (*child_fn)(void *ctx, result *r);

static result in_child(child_fn fn, void *ctx, unsigned timeout) {
  result r = {0};
  int fd[2];
  if (pipe(fd) != 0) {
    r.rc = SY_EIO;
    snprintf(r.msg, sizeof r.msg, "pipe: %s", strerror(errno));
    return r;
  }
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid == 0) {
    close(fd[0]);
    if (timeout)
      alarm(timeout);
    fn(ctx, &r);
    ssize_t w = write(fd[1], &r, sizeof r);
    _exit(w == (ssize_t)sizeof r ? 0 : 1);
  }
  close(fd[1]);
  if (pid < 0) {
    close(fd[0]);
    r.rc = SY_EIO;
    snprintf(r.msg, sizeof r.msg, "fork: %s", strerror(errno));
    return r;
  }
  ssize_t got = 0, n;
  while (got < (ssize_t)sizeof r &&
         (n = read(fd[0], (char *)&r + got, sizeof r - (size_t)got)) > 0)
    got += n;
  close(fd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (got != (ssize_t)sizeof r) {
    memset(&r, 0, sizeof r);
    r.rc = SY_EIO;
    if (WIFSIGNALED(status))
      snprintf(r.msg, sizeof r.msg, "child killed by signal %d%s",
               WTERMSIG(status),
               WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
    else
      snprintf(r.msg, sizeof r.msg, "child exited %d",
               WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  }
  return r;
}

typedef struct graph_job {
  sy_platform *p;
  shape sh;
  size_t n;
  const char *body;
  long spin_us;
  const char *runner;
} graph_job;

static void run_graph(void *ctx, result *r) {
  graph_job *g = ctx;
  sy_error err;
  sy_error_clear(&err);
  sy_program *prog = NULL;
  sy_job *job = NULL;
  if (strcmp(g->body, "bench.spin") == 0)
    r->spin_s = calibrate_spin(g->spin_us, &r->spin_cpu_s);
  long rss0 = maxrss_kb();
  double t0 = now();
  r->rc = build_graph(g->sh, g->n, g->body, g->spin_us, &prog);
  if (r->rc) {
    snprintf(r->msg, sizeof r->msg, "building the graph: %s",
             sy_strerror(r->rc));
    return;
  }
  if ((r->rc = sy_job_new(g->p, prog, NULL, &job, &err)) != 0)
    goto fail;
  double t1 = now(), c1 = cpu_seconds();
  r->rc = sy_job_run(job, g->runner, &err);
  double t2 = now();
  r->cpu_s = cpu_seconds() - c1;
  r->rss_kb = maxrss_kb() - rss0;
  r->build_s = t1 - t0;
  r->run_s = t2 - t1;
  if (r->rc)
    goto fail;
  /* No cleanup: the process ends, and freeing would only add time. */
  return;
fail:
  snprintf(r->msg, sizeof r->msg, "%.200s", err.message);
}

typedef struct flow_job {
  sy_platform *p;
  const char *path;
} flow_job;

static void run_flow(void *ctx, result *r) {
  flow_job *f = ctx;
  sy_error err;
  sy_error_clear(&err);
  sy_program *prog = NULL;
  sy_job *job = NULL;
  long rss0 = maxrss_kb();
  double t0 = now();
  r->rc =
      sy_program_compile(f->p, f->path, SY_MODE_RUN, NULL, NULL, &prog, &err);
  double t1 = now();
  if (r->rc == 0)
    r->rc = sy_job_new(f->p, prog, NULL, &job, &err);
  double t2 = now();
  if (r->rc == 0)
    r->rc = sy_job_run(job, "inline", &err);
  double t3 = now();
  r->rss_kb = maxrss_kb() - rss0;
  r->compile_s = t1 - t0;
  r->jobnew_s = t2 - t1;
  r->run_s = t3 - t2;
  if (r->rc)
    snprintf(r->msg, sizeof r->msg, "%.200s", err.message);
}

/* ---- setup -------------------------------------------------------------- */

static long parse_count(const char *s) {
  char *end = NULL;
  double v = strtod(s, &end);
  return end && *end == '\0' && v >= 0 ? (long)v : -1;
}

static void usage(void) {
  fprintf(stderr,
          "usage: bench/runners [--max N] [--spin-max N] [--reps R] "
          "[--spin-us US]\n"
          "                     [--flow N] [--flow-only] [--flow-timeout S]\n"
          "                     [--shape chain|wide|layered] [--empty-only]\n"
          "  --max N       largest graph (1e3, 1e4, ... up to N; default "
          "1e5)\n"
          "  --spin-max N  largest graph with spin bodies (default: --max, "
          "at most 1e5)\n"
          "  --reps R      runs per configuration, median reported "
          "(default 3)\n"
          "  --flow N      also compile and run a flow file of N chained "
          "actors\n"
          "  --procs-max N largest graph on dask processes (default 1e4)\n"
          "  --shape S     only graphs of shape S\n"
          "  --flow-shape layered  the --flow file is layered (no source; "
          "roots\n"
          "                make their data), also run at 1e3 for the growth "
          "per step\n"
          "  --empty-only  only empty bodies\n");
}

int main(int argc, char **argv) {
  long max_n = 100000, spin_max = -1, reps = 3, spin_us = 50, flow_n = 0;
  long flow_timeout = 120, procs_max = 10000;
  int graphs = 1, only_shape = -1, empty_only = 0, flow_layered = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    long *slot = NULL;
    if (strcmp(a, "--shape") == 0 && i + 1 < argc) {
      const char *name = argv[++i];
      for (int k = 0; k < N_SHAPES; k++)
        if (strcmp(name, shape_names[k]) == 0)
          only_shape = k;
      if (only_shape < 0) {
        usage();
        return 2;
      }
      continue;
    }
    if (strcmp(a, "--flow-shape") == 0 && i + 1 < argc) {
      flow_layered = strcmp(argv[++i], "layered") == 0;
      if (!flow_layered && strcmp(argv[i], "chain") != 0) {
        usage();
        return 2;
      }
      continue;
    }
    if (strcmp(a, "--empty-only") == 0) {
      empty_only = 1;
      continue;
    }
    if (strcmp(a, "--max") == 0)
      slot = &max_n;
    else if (strcmp(a, "--spin-max") == 0)
      slot = &spin_max;
    else if (strcmp(a, "--reps") == 0)
      slot = &reps;
    else if (strcmp(a, "--spin-us") == 0)
      slot = &spin_us;
    else if (strcmp(a, "--flow") == 0)
      slot = &flow_n;
    else if (strcmp(a, "--procs-max") == 0)
      slot = &procs_max;
    else if (strcmp(a, "--flow-timeout") == 0)
      slot = &flow_timeout;
    else if (strcmp(a, "--flow-only") == 0) {
      graphs = 0;
      continue;
    } else {
      usage();
      return strcmp(a, "--help") == 0 ? 0 : 2;
    }
    if (i + 1 >= argc || (*slot = parse_count(argv[++i])) < 0) {
      usage();
      return 2;
    }
  }
  if (spin_max < 0)
    spin_max = max_n < 100000 ? max_n : 100000;
  if (reps < 1)
    reps = 1;
  if (reps > MAX_REPS)
    reps = MAX_REPS;
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  if (cores < 1)
    cores = 1;

  /* The bench plugin, from a private 0755 folder the loader trusts, and
   * a one-row table for the flow's feed (a file sink for its end below). */
  char dir[] = "/tmp/sy-bench-runners-XXXXXX";
  if (bench_setup("bench/runners", dir) != 0)
    return 1;
  char path[4096];
  int status = 1;
  sy_platform *p = NULL;

  char nworkers[64], pworkers[64], feed_path[4200], sink_path[4200];
  snprintf(nworkers, sizeof nworkers, "RUNNER.daskn.workers=%ld", cores);
  snprintf(pworkers, sizeof pworkers, "RUNNER.daskp.workers=%ld", cores);
  snprintf(feed_path, sizeof feed_path, "FEED.data.path=%s", dir);
  snprintf(sink_path, sizeof sink_path, "SINK.out.path=%s/out.csv", dir);
  const char *overrides[] = {"RUNNER.inline.provider=inline",
                             "RUNNER.dask1.provider=dask",
                             "RUNNER.dask1.mode=threads",
                             "RUNNER.dask1.workers=1",
                             "RUNNER.daskn.provider=dask",
                             "RUNNER.daskn.mode=threads",
                             nworkers,
                             "RUNNER.daskp.provider=dask",
                             "RUNNER.daskp.mode=processes",
                             pworkers,
                             "FEED.data.provider=csv",
                             feed_path,
                             "SINK.out.provider=csv",
                             sink_path,
                             NULL};
  sy_platform_options opts = {sizeof opts, NULL, overrides, 1, 1, NULL};
  sy_error err;
  sy_error_clear(&err);
  if (sy_platform_open(&opts, &p, &err)) {
    fprintf(stderr, "bench/runners: platform: %s\n", err.message);
    goto cleanup;
  }
  if (!sy_catalog_find(sy_platform_catalog(p), SY_KIND_ACTOR, "bench.spin")) {
    fprintf(stderr, "bench/runners: bench.spin did not load\n");
    goto cleanup;
  }

  char dask_n_label[64], dask_p_label[64];
  snprintf(dask_n_label, sizeof dask_n_label, "dask threads w=%ld", cores);
  snprintf(dask_p_label, sizeof dask_p_label, "dask procs w=%ld", cores);
  const runner_def runners[] = {
      {"inline", "inline", 1, -1},
      {"dask1", "dask threads w=1", 1, 1},
      {"daskn", dask_n_label, (int)cores, 1},
      {"daskp", dask_p_label, (int)cores, 1},
  };
  const size_t n_runners = sizeof runners / sizeof runners[0];
  status = 0;

  if (graphs) {
    printf("# bench/runners: %ld cores, %ld reps (median); spin bodies "
           "spin %ld us of CPU time\n",
           cores, reps, spin_us);
    printf("%-8s %-5s %8s  %-17s %10s %12s %12s %8s %10s %9s\n", "shape",
           "body", "N", "runner", "run ms", "ovh us/step", "cpu us/step",
           "speedup", "RSS B/step", "build ms");
    printf(
        "(ovh = (run - ideal) / N; ideal = max(spin steps x one spin / "
        "workers, critical path x one spin), one spin's wall time being "
        "measured in each child just before its run;\n cpu = (user+sys "
        "time of the run - spin steps x one spin's user+sys) / N, which other "
        "processes on the machine disturb less)\n");
    const char *const bodies[] = {"bench.empty", "bench.spin"};
    for (long n = 1000; n <= max_n; n *= 10)
      for (int b = 0; b < 2; b++) {
        if (b == 1 && (n > spin_max || empty_only))
          continue;
        for (int sh = 0; sh < N_SHAPES; sh++) {
          if (only_shape >= 0 && sh != only_shape)
            continue;
          graph_info gi;
          graph_shape((shape)sh, (size_t)n, &gi);
          double med[8] = {0};
          for (size_t ri = 0; ri < n_runners; ri++) {
            if (strcmp(runners[ri].instance, "daskp") == 0 && n > procs_max)
              continue;
            double run[MAX_REPS], build[MAX_REPS], rss[MAX_REPS];
            double spin[MAX_REPS], cpu[MAX_REPS], spin_cpu[MAX_REPS];
            graph_job g = {p,         (shape)sh, (size_t)n,
                           bodies[b], spin_us,   runners[ri].instance};
            int failed = 0;
            for (long k = 0; k < reps && !failed; k++) {
              result r = in_child(run_graph, &g, 0);
              if (r.rc) {
                printf("%-8s %-5s %8ld  %-17s FAILED: %s\n", shape_names[sh],
                       bodies[b] + 6, n, runners[ri].label, r.msg);
                failed = 1;
                status = 1;
              }
              run[k] = r.run_s;
              build[k] = r.build_s;
              rss[k] = (double)r.rss_kb * 1024.0;
              spin[k] = r.spin_s;
              cpu[k] = r.cpu_s;
              spin_cpu[k] = r.spin_cpu_s;
            }
            if (failed)
              continue;
            double wall = median(run, (int)reps);
            med[ri] = wall;
            double ideal = 0;
            double cpu_ideal =
                b == 1 ? (double)gi.n_spin * median(spin_cpu, (int)reps) : 0;
            if (b == 1) {
              double t_spin = median(spin, (int)reps);
              double par = (double)gi.n_spin * t_spin / runners[ri].workers;
              double crit = (double)gi.depth * t_spin;
              ideal = par > crit ? par : crit;
            }
            char speed[16] = "-";
            int base = runners[ri].base;
            if (base >= 0 && med[base] > 0)
              snprintf(speed, sizeof speed, "%.2f", med[base] / wall);
            printf("%-8s %-5s %8zu  %-17s %10.2f %12.3f %12.3f %8s %10.0f "
                   "%9.1f\n",
                   shape_names[sh], bodies[b] + 6, gi.n, runners[ri].label,
                   wall * 1e3, (wall - ideal) / (double)gi.n * 1e6,
                   (median(cpu, (int)reps) - cpu_ideal) / (double)gi.n * 1e6,
                   speed, median(rss, (int)reps) / (double)gi.n,
                   median(build, (int)reps) * 1e3);
            fflush(stdout);
          }
        }
      }
  }

  if (flow_n > 0) {
    /* Layered: also a small flow, so that the growth per step leaves out
     * what any run costs (the plugins, the platform). */
    long sizes[2] = {flow_layered ? 1000 : 0, flow_n};
    long rss_at[2] = {0, 0};
    size_t steps_at[2] = {0, 0};
    for (int f = flow_layered ? 0 : 1; f < 2; f++) {
      size_t steps = (size_t)sizes[f];
      snprintf(path, sizeof path, "%s/%s%d.flow", dir,
               flow_layered ? "layered" : "chain", f);
      double t0 = now();
      if ((flow_layered
               ? bench_write_layered_flow(path, (size_t)sizes[f], &steps)
               : bench_write_flow(path, (size_t)sizes[f])) != 0) {
        fprintf(stderr, "bench/runners: cannot write %s\n", path);
        status = 1;
        goto cleanup;
      }
      steps_at[f] = steps;
      printf("# flow file: %s of %zu bench.empty actors (%.1f s to "
             "write), inline runner, %ld reps (median)\n",
             flow_layered ? "layers (no source)" : "a chain", steps, now() - t0,
             reps);
      printf("%8s %10s %10s %10s %10s %12s\n", "N", "compile s", "job_new s",
             "run s", "total s", "RSS B/step");
      double c[MAX_REPS], j[MAX_REPS], r[MAX_REPS], tot[MAX_REPS],
          rss[MAX_REPS];
      flow_job fj = {p, path};
      for (long k = 0; k < reps; k++) {
        result res = in_child(run_flow, &fj, (unsigned)flow_timeout);
        if (res.rc) {
          printf("%8zu FAILED: %s\n", steps, res.msg);
          status = 1;
          goto cleanup;
        }
        c[k] = res.compile_s;
        j[k] = res.jobnew_s;
        r[k] = res.run_s;
        tot[k] = res.compile_s + res.jobnew_s + res.run_s;
        rss[k] = (double)res.rss_kb * 1024.0;
      }
      rss_at[f] = (long)median(rss, (int)reps);
      printf("%8zu %10.3f %10.3f %10.3f %10.3f %12.0f\n", steps,
             median(c, (int)reps), median(j, (int)reps), median(r, (int)reps),
             median(tot, (int)reps), median(rss, (int)reps) / (double)steps);
    }
    if (flow_layered)
      printf("# peak RSS growth per step from %zu to %zu steps: %.0f B\n",
             steps_at[0], steps_at[1],
             (double)(rss_at[1] - rss_at[0]) /
                 (double)(steps_at[1] - steps_at[0]));
  }

cleanup:
  sy_platform_close(p);
  if (bench_cleanup(dir) != 0)
    status = 1;
  return status;
}
