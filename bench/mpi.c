/*
 * bench/mpi - what a remote step costs on runner-mpi, against a raw MPI
 * round trip measured by the same program in the same launch.
 *
 *   mpirun -np 2 bench/mpi [--steps N] [--reps R] [--prefetch P]
 *                          [--spin-us US]   (bench.spin bodies of US us)
 *                                                        (or bench/mpi.sh)
 *
 * Without --prefetch the runner's default applies. Run it from the top
 * of the built tree: it loads bench/.libs/actor-bench.so from a private
 * copy, plus ./plugins.d.
 *
 *   round trip   rank 0 sends a 64-byte message to rank 1, which answers
 *                with 64 bytes (MPI_Send/MPI_Recv), N times; a batch of
 *                round trips runs before each flow run (so both see the
 *                same machine load), median of --reps batches.
 *   remote step  flow files of N and N/5 chained bench.empty actors,
 *                compiled and bound on every rank, run with runner-mpi
 *                with ranks_execute_on_root = false, so that every actor
 *                step runs on another rank than the scheduler; per step =
 *                the difference of the sy_job_run wall times over the
 *                difference of steps (so feed, sink and start-up, paid
 *                once per run, drop out), median of --reps.
 *   inline step  the same on runner-inline, rank 0 alone.
 *   overhead     remote step - inline step: what running the step on
 *                another rank adds to the step's own cost.
 *   ratios       remote step / round trip, and overhead / round trip (the
 *                issue's goal: <= 2). Without prefetch a step needs one
 *                round trip (RUN, then DONE), so 1 is the floor; prefetch
 *                overlaps the round trips of a chain with its work.
 *
 * Every rank runs the same code; rank 0 prints the table.
 */
#include <mpi.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <switchyard/switchyard.h>

#include "common.h"

#define MAX_REPS 15

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return v[n / 2];
}

/* Seconds sy_job_run takes for the flow file (compiled and bound first);
 * a failure ends the MPI job. */
static double timed_run(sy_platform *p, const char *path, const char *runner,
                        int rank) {
  sy_error err;
  sy_error_clear(&err);
  sy_program *prog = NULL;
  sy_job *job = NULL;
  int rc = sy_program_compile(p, path, SY_MODE_RUN, NULL, NULL, &prog, &err);
  if (rc == 0)
    rc = sy_job_new(p, prog, NULL, &job, &err);
  if (strcmp(runner, "inline") != 0)
    MPI_Barrier(MPI_COMM_WORLD);
  double t0 = now();
  if (rc == 0)
    rc = sy_job_run(job, runner, &err);
  double t = now() - t0;
  sy_job_free(job);
  sy_program_free(prog);
  if (rc) {
    fprintf(stderr, "bench/mpi: rank %d: %s\n", rank, err.message);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  return t;
}

/* Seconds per round trip of `iters` 64-byte ping-pongs 0 <-> 1. */
static double round_trip(int rank, int iters) {
  char buf[64] = {0};
  double t = 0;
  for (int r = 0; r < 2; r++) { /* r = 0 warms up */
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = now();
    for (int i = 0; i < iters; i++) {
      if (rank == 0) {
        MPI_Send(buf, sizeof buf, MPI_BYTE, 1, 7, MPI_COMM_WORLD);
        MPI_Recv(buf, sizeof buf, MPI_BYTE, 1, 7, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE);
      } else if (rank == 1) {
        MPI_Recv(buf, sizeof buf, MPI_BYTE, 0, 7, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE);
        MPI_Send(buf, sizeof buf, MPI_BYTE, 0, 7, MPI_COMM_WORLD);
      }
    }
    t = (now() - t0) / iters;
  }
  return t;
}

int main(int argc, char **argv) {
  long steps = 2000, reps = 5, prefetch = -1, spin_us = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--steps") == 0 && i + 1 < argc)
      steps = atol(argv[++i]);
    else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
      reps = atol(argv[++i]);
    else if (strcmp(argv[i], "--prefetch") == 0 && i + 1 < argc)
      prefetch = atol(argv[++i]);
    else if (strcmp(argv[i], "--spin-us") == 0 && i + 1 < argc)
      spin_us = atol(argv[++i]);
    else {
      fprintf(stderr, "usage: mpirun -np 2 bench/mpi [--steps N] [--reps R] "
                      "[--prefetch P] [--spin-us US]\n");
      return 2;
    }
  }
  if (steps < 1)
    steps = 1;
  if (reps < 1)
    reps = 1;
  if (reps > MAX_REPS)
    reps = MAX_REPS;
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size < 2) {
    if (rank == 0)
      fprintf(stderr, "bench/mpi: start it with mpirun -np 2 (or more)\n");
    MPI_Finalize();
    return 2;
  }

  /* Each rank: a private 0755 plugin folder, a one-row table, the flow. */
  char dir[] = "/tmp/sy-bench-mpi-XXXXXX";
  char path[4096], feed[4200], sink[4200];
  int status = 1;
  sy_platform *p = NULL;
  if (bench_setup("bench/mpi", dir) != 0) {
    MPI_Finalize();
    return 1;
  }
  char pf[64]; /* the runner's default unless --prefetch */
  snprintf(pf, sizeof pf, "RUNNER.cluster.prefetch=%ld", prefetch);
  snprintf(feed, sizeof feed, "FEED.data.path=%s", dir);
  snprintf(sink, sizeof sink, "SINK.out.path=%s/out.csv", dir);
  const char *overrides[] = {"RUNNER.cluster.provider=mpi",
                             "RUNNER.cluster.ranks_execute_on_root=false",
                             "RUNNER.inline.provider=inline",
                             "FEED.data.provider=csv",
                             feed,
                             "SINK.out.provider=csv",
                             sink,
                             prefetch >= 0 ? pf : NULL,
                             NULL};
  sy_platform_options opts = {sizeof opts, NULL, overrides, 1, 1, NULL};
  sy_error err;
  sy_error_clear(&err);
  if (sy_platform_open(&opts, &p, &err)) {
    fprintf(stderr, "bench/mpi: platform: %s\n", err.message);
    goto out;
  }
  char small[4200];
  long few = steps / 5 > 0 ? steps / 5 : 1;
  snprintf(path, sizeof path, "%s/chain.flow", dir);
  snprintf(small, sizeof small, "%s/short.flow", dir);
  if (bench_write_spin_flow(path, (size_t)steps, spin_us) != 0 ||
      bench_write_spin_flow(small, (size_t)few, spin_us) != 0)
    goto out;

  /* Round trips and runs alternate, so that both see the same load. Per
   * step = (time of N steps - time of N/5 steps) / (N - N/5): the slope,
   * so what a run costs once (feed, sink, start-up) drops out. */
  double per[MAX_REPS], rtts[MAX_REPS], inl[MAX_REPS];
  double wall_mpi[MAX_REPS], wall_inl[MAX_REPS];
  for (long r = 0; r < reps; r++) {
    rtts[r] = round_trip(rank, (int)steps);
    double t_long = timed_run(p, path, "cluster", rank);
    wall_mpi[r] = t_long;
    double t_short = timed_run(p, small, "cluster", rank);
    per[r] = (t_long - t_short) / (double)(steps - few);
  }
  /* The same flows on the inline runner, on rank 0 alone: what the step
   * itself costs in any runner. */
  for (long r = 0; rank == 0 && r < reps; r++) {
    wall_inl[r] = timed_run(p, path, "inline", rank);
    inl[r] = (wall_inl[r] - timed_run(p, small, "inline", rank)) /
             (double)(steps - few);
  }
  double step = median(per, (int)reps), rtt = median(rtts, (int)reps);
  if (rank == 0) {
    printf("bench/mpi: %d ranks, %ld cores on this node, %ld chained remote "
           "steps, prefetch %s, median of %ld\n\n",
           size, sysconf(_SC_NPROCESSORS_ONLN), steps,
           prefetch >= 0 ? pf + strlen("RUNNER.cluster.prefetch=") : "default",
           reps);
    printf("| measure                          | us     |\n"
           "|----------------------------------|--------|\n");
    printf("| raw MPI round trip (64 B)        | %6.2f |\n", rtt * 1e6);
    printf("| runner-mpi remote step           | %6.2f |\n", step * 1e6);
    double work = median(inl, (int)reps);
    printf("| runner-inline step (same flow)   | %6.2f |\n", work * 1e6);
    printf("| overhead: remote - inline step   | %6.2f |\n",
           (step - work) * 1e6);
    printf("\nratio remote step / round trip: %.2f\n", step / rtt);
    printf("ratio per-step overhead / round trip: %.2f (goal <= 2)\n",
           (step - work) / rtt);
    printf("chain of %ld: wall mpi %.3f s / inline %.3f s = %.3f (goal "
           "<= 1.1)\n",
           steps, median(wall_mpi, (int)reps), median(wall_inl, (int)reps),
           median(wall_mpi, (int)reps) / median(wall_inl, (int)reps));
  }
  status = 0;
out:
  sy_platform_close(p);
  if (bench_cleanup(dir) != 0)
    status = 1;
  MPI_Finalize();
  return status;
}
