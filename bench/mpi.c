/*
 * bench/mpi - what a remote step costs on runner-mpi, against a raw MPI
 * round trip measured by the same program in the same launch.
 *
 *   mpirun -np 2 bench/mpi [--steps N] [--reps R] [--prefetch P]
 *                          [--spin-us US]   (bench.spin bodies of US us)
 *                          [--shape chain|wide|layered]... (default: all)
 *                                                        (or bench/mpi.sh)
 *
 * Without --prefetch the runner's default applies; BENCH_MPI_STATS=1 in
 * the environment turns on the runner's `stats` (message counts, per run,
 * on stderr). Run it from the top
 * of the built tree: it loads bench/.libs/actor-bench.so from a private
 * copy, plus ./plugins.d.
 *
 *   round trip   rank 0 sends a 64-byte message to rank 1, which answers
 *                with 64 bytes (MPI_Send/MPI_Recv), N times; a batch of
 *                round trips runs before each flow run (so both see the
 *                same machine load), median of --reps batches.
 *   shapes       flow files of N and N/5 actors (bench.empty, or bench.spin
 *                with --spin-us), compiled and bound on every rank:
 *                  chain    the source, then each actor reads the last one
 *                  wide     N - 1 actors each reading the source, and one
 *                           bench.empty reading them all
 *                  layered  layers of W ~ sqrt(N) actors, the first
 *                           bench.source, each later one reading 2 or 3
 *                           of the layer before (bench_write_layered_flow),
 *                           and one bench.empty joining the last layer
 *   remote step  the flow files run with runner-mpi
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

enum { CHAIN, WIDE, LAYERED, N_SHAPES };
static const char *const shape_names[N_SHAPES] = {"chain", "wide", "layered"};

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

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Seconds sy_job_run takes for the flow file (compiled and bound first),
 * and in *cpu the CPU seconds this process used meanwhile; a failure ends
 * the MPI job. */
static double timed_run(sy_platform *p, const char *path, const char *runner,
                        int rank, double *cpu) {
  sy_error err;
  sy_error_clear(&err);
  sy_program *prog = NULL;
  sy_job *job = NULL;
  int rc = sy_program_compile(p, path, SY_MODE_RUN, NULL, NULL, &prog, &err);
  if (rc == 0)
    rc = sy_job_new(p, prog, NULL, &job, &err);
  if (strcmp(runner, "inline") != 0)
    MPI_Barrier(MPI_COMM_WORLD);
  double t0 = now(), c0 = cpu_now();
  if (rc == 0)
    rc = sy_job_run(job, runner, &err);
  double t = now() - t0;
  *cpu = cpu_now() - c0;
  sy_job_free(job);
  sy_program_free(prog);
  if (rc) {
    fprintf(stderr, "bench/mpi: rank %d: %s\n", rank, err.message);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  return t;
}

/* The bench's own messages: runner-mpi receives any tag on
 * MPI_COMM_WORLD, and rank 1 may still be in the run's last steps when
 * rank 0 has finished its inline runs (a message of ours on
 * MPI_COMM_WORLD would be taken by the runner). */
static MPI_Comm own;

/* The other ranks wait for rank 0's inline runs without polling MPI (a
 * blocking receive would spin on a core), so inline runs with the other
 * core free, as it would alone. */
static void idle_until_told(void) {
  MPI_Request req;
  int done = 0;
  MPI_Irecv(NULL, 0, MPI_BYTE, 0, 9, own, &req);
  while (MPI_Test(&req, &done, MPI_STATUS_IGNORE), !done)
    usleep(200);
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
        MPI_Send(buf, sizeof buf, MPI_BYTE, 1, 7, own);
        MPI_Recv(buf, sizeof buf, MPI_BYTE, 1, 7, own, MPI_STATUS_IGNORE);
      } else if (rank == 1) {
        MPI_Recv(buf, sizeof buf, MPI_BYTE, 0, 7, own, MPI_STATUS_IGNORE);
        MPI_Send(buf, sizeof buf, MPI_BYTE, 0, 7, own);
      }
    }
    t = (now() - t0) / iters;
  }
  return t;
}

int main(int argc, char **argv) {
  long steps = 2000, reps = 5, prefetch = -1, spin_us = 0;
  int shapes = 0; /* bits of shape_names; 0: all */
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--steps") == 0 && i + 1 < argc)
      steps = atol(argv[++i]);
    else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
      reps = atol(argv[++i]);
    else if (strcmp(argv[i], "--prefetch") == 0 && i + 1 < argc)
      prefetch = atol(argv[++i]);
    else if (strcmp(argv[i], "--spin-us") == 0 && i + 1 < argc)
      spin_us = atol(argv[++i]);
    else if (strcmp(argv[i], "--shape") == 0 && i + 1 < argc) {
      int sh = N_SHAPES;
      ++i;
      for (int j = 0; j < N_SHAPES; j++)
        if (strcmp(argv[i], shape_names[j]) == 0)
          sh = j;
      if (sh == N_SHAPES) {
        fprintf(stderr, "bench/mpi: --shape %s: chain, wide or layered\n",
                argv[i]);
        return 2;
      }
      shapes |= 1 << sh;
    } else {
      fprintf(stderr, "usage: mpirun -np 2 bench/mpi [--steps N] [--reps R] "
                      "[--prefetch P] [--spin-us US]\n"
                      "                 [--shape chain|wide|layered]...\n");
      return 2;
    }
  }
  if (shapes == 0)
    shapes = (1 << N_SHAPES) - 1;
  if (steps < 5)
    steps = 5;
  if (reps < 1)
    reps = 1;
  if (reps > MAX_REPS)
    reps = MAX_REPS;
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Comm_dup(MPI_COMM_WORLD, &own);
  if (size < 2) {
    if (rank == 0)
      fprintf(stderr, "bench/mpi: start it with mpirun -np 2 (or more)\n");
    MPI_Finalize();
    return 2;
  }

  /* Each rank: a private 0755 plugin folder, a one-row table, the flow. */
  char dir[] = "/tmp/sy-bench-mpi-XXXXXX";
  char feed[4200], sink[4200];
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
                             NULL,
                             NULL};
  /* BENCH_MPI_STATS=1: the runner's message counts, per run (stderr). */
  if (getenv("BENCH_MPI_STATS"))
    overrides[prefetch >= 0 ? 8 : 7] = "RUNNER.cluster.stats=true";
  sy_platform_options opts = {sizeof opts, NULL, overrides, 1, 1, NULL};
  sy_error err;
  sy_error_clear(&err);
  if (sy_platform_open(&opts, &p, &err)) {
    fprintf(stderr, "bench/mpi: platform: %s\n", err.message);
    goto out;
  }
  /* Per shape, flows of N and N/5 steps (the layered file rounds N to
   * whole layers, and says how many steps it wrote). */
  char flows[N_SHAPES][2][4200];
  double nsteps[N_SHAPES][2];
  long few = steps / 5 > 0 ? steps / 5 : 1;
  for (int sh = 0; sh < N_SHAPES; sh++)
    for (int f = 0; f < 2 && (shapes & (1 << sh)); f++) {
      long n = f ? few : steps;
      size_t got = (size_t)n;
      snprintf(flows[sh][f], sizeof flows[sh][f], "%s/%s%d.flow", dir,
               shape_names[sh], f);
      int rc =
          sh == CHAIN  ? bench_write_spin_flow(flows[sh][f], (size_t)n, spin_us)
          : sh == WIDE ? bench_write_wide_flow(flows[sh][f], (size_t)n, spin_us)
                       : bench_write_layered_spin_flow(flows[sh][f], (size_t)n,
                                                       spin_us, &got);
      if (rc != 0)
        goto out;
      nsteps[sh][f] = (double)got;
    }

  /* Round trips, runs on the cluster and runs inline alternate, so that
   * all see the same load. Per step = (time of N steps - time of N/5
   * steps) / (N - N/5): the slope, so what a run costs once (feed, sink,
   * start-up) drops out. The inline runs are rank 0's alone (the others
   * sleep meanwhile, see idle_until_told()). */
  double per[N_SHAPES][MAX_REPS], rtts[N_SHAPES][MAX_REPS];
  double inl[N_SHAPES][MAX_REPS], wall_mpi[N_SHAPES][MAX_REPS];
  double wall_inl[N_SHAPES][MAX_REPS];
  /* CPU seconds per step, the same slope: this rank's on the cluster
   * (cpu[0]), and rank 0's inline (cpu[1]); rank 1's cluster figures are
   * sent to rank 0 at the end (cpu1). */
  double cpu[2][N_SHAPES][MAX_REPS], cpu1[N_SHAPES][MAX_REPS];
  double c_long, c_short;
  for (long r = 0; r < reps; r++)
    for (int sh = 0; sh < N_SHAPES; sh++) {
      if (!(shapes & (1 << sh)))
        continue;
      double dn = nsteps[sh][0] - nsteps[sh][1];
      rtts[sh][r] = round_trip(rank, (int)steps);
      double t_long = timed_run(p, flows[sh][0], "cluster", rank, &c_long);
      wall_mpi[sh][r] = t_long;
      double t_short = timed_run(p, flows[sh][1], "cluster", rank, &c_short);
      per[sh][r] = (t_long - t_short) / dn;
      cpu[0][sh][r] = (c_long - c_short) / dn;
      if (rank != 0) {
        idle_until_told();
        continue;
      }
      wall_inl[sh][r] = timed_run(p, flows[sh][0], "inline", rank, &c_long);
      inl[sh][r] = (wall_inl[sh][r] -
                    timed_run(p, flows[sh][1], "inline", rank, &c_short)) /
                   dn;
      cpu[1][sh][r] = (c_long - c_short) / dn;
      for (int i = 1; i < size; i++)
        MPI_Send(NULL, 0, MPI_BYTE, i, 9, own);
    }
  if (rank == 1)
    MPI_Send(cpu[0], N_SHAPES * MAX_REPS, MPI_DOUBLE, 0, 8, own);
  else if (rank == 0)
    MPI_Recv(cpu1, N_SHAPES * MAX_REPS, MPI_DOUBLE, 1, 8, own,
             MPI_STATUS_IGNORE);
  if (rank == 0) {
    printf("bench/mpi: %d ranks, %ld cores on this node, %ld remote steps "
           "(%s bodies), prefetch %s, median of %ld\n\n",
           size, sysconf(_SC_NPROCESSORS_ONLN), steps,
           spin_us > 0 ? "bench.spin" : "bench.empty",
           prefetch >= 0 ? pf + strlen("RUNNER.cluster.prefetch=") : "default",
           reps);
    printf("| shape   | steps | round trip us | remote step us | inline step "
           "us | overhead us | overhead / rtt | wall mpi / inline | cpu us "
           "rank 0 | cpu us rank 1 | cpu us inline |\n"
           "|---------|-------|---------------|----------------|------------"
           "----|-------------|----------------|-------------------|-------"
           "--------|---------------|---------------|\n");
    for (int sh = 0; sh < N_SHAPES; sh++) {
      if (!(shapes & (1 << sh)))
        continue;
      double step = median(per[sh], (int)reps);
      double rtt = median(rtts[sh], (int)reps);
      double work = median(inl[sh], (int)reps);
      double wm = median(wall_mpi[sh], (int)reps);
      double wi = median(wall_inl[sh], (int)reps);
      printf("| %-7s | %5.0f | %13.2f | %14.2f | %15.2f | %11.2f | %14.2f | "
             "%17.3f | %14.2f | %13.2f | %13.2f |\n",
             shape_names[sh], nsteps[sh][0], rtt * 1e6, step * 1e6, work * 1e6,
             (step - work) * 1e6, (step - work) / rtt, wm / wi,
             median(cpu[0][sh], (int)reps) * 1e6,
             median(cpu1[sh], (int)reps) * 1e6,
             median(cpu[1][sh], (int)reps) * 1e6);
    }
    printf("\noverhead = remote step - inline step (goal: <= 2x the round "
           "trip); wall = the N-step run (goal for a chain: <= 1.1);\n"
           "cpu = CPU time per step of each process (MPI waits by polling, "
           "so rank 1's includes its waits, not the time others took "
           "from it)\n");
  }
  status = 0;
out:
  sy_platform_close(p);
  if (bench_cleanup(dir) != 0)
    status = 1;
  MPI_Comm_free(&own);
  MPI_Finalize();
  return status;
}
