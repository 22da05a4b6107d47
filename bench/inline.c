/*
 * bench/inline - one-row apply through a 4-actor flow via the callable,
 * against the same arithmetic written by hand in C, as a ratio measured
 * in the same run.
 *
 * The flow: std.select (4 features) -> std.scaler -> std.linreg ->
 * std.head (n = 1), trained on 1000 synthetic rows. The hand-written
 * version standardises the same 4 numbers with the same means and
 * deviations and takes the same dot product; the benchmark first checks
 * that both give the same prediction, so the comparison is of equal work.
 * Each result is dropped before the next call, as a server answering one
 * request at a time would, which lets the callable rewrite its frames in
 * place (services/callable.c) instead of building new ones.
 *
 *   bench/inline [CALLS]        (run from the top of the built tree)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <switchyard/switchyard.h>

#define ROWS 1000
#define NF 4

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double data[ROWS][NF], label[ROWS];

/* Least squares on standardised features, for the hand-written path:
 * the normal equations of [1, z1..z4], solved by Gaussian elimination. */
static void fit(double mean[NF], double sd[NF], double coef[NF + 1]) {
  for (int f = 0; f < NF; f++) {
    double s = 0, ss = 0;
    for (int r = 0; r < ROWS; r++)
      s += data[r][f];
    mean[f] = s / ROWS;
    for (int r = 0; r < ROWS; r++)
      ss += (data[r][f] - mean[f]) * (data[r][f] - mean[f]);
    sd[f] = sqrt(ss / ROWS);
  }
  double a[NF + 1][NF + 2] = {{0}};
  for (int r = 0; r < ROWS; r++) {
    double z[NF + 1] = {1};
    for (int f = 0; f < NF; f++)
      z[f + 1] = (data[r][f] - mean[f]) / sd[f];
    for (int i = 0; i <= NF; i++) {
      for (int j = 0; j <= NF; j++)
        a[i][j] += z[i] * z[j];
      a[i][NF + 1] += z[i] * label[r];
    }
  }
  for (int i = 0; i <= NF; i++)
    for (int k = i + 1; k <= NF; k++) {
      double m = a[k][i] / a[i][i];
      for (int j = i; j <= NF + 1; j++)
        a[k][j] -= m * a[i][j];
    }
  for (int i = NF; i >= 0; i--) {
    double s = a[i][NF + 1];
    for (int j = i + 1; j <= NF; j++)
      s -= a[i][j] * coef[j];
    coef[i] = s / a[i][i];
  }
}

/* Not inlined: a server calls its predict function once per request, on
 * a row it has not seen. Inlined into the timing loop, the compiler hoists
 * the three features that never change out of the loop (it did: 2.0 ns
 * against 2.4 ns), which is no longer the same arithmetic per call. */
__attribute__((noinline)) static double by_hand(const double x[NF],
                                                const double mean[NF],
                                                const double sd[NF],
                                                const double coef[NF + 1]) {
  double y = coef[0];
  for (int f = 0; f < NF; f++)
    y += coef[f + 1] * ((x[f] - mean[f]) / sd[f]);
  return y;
}

static int die(const char *what, const sy_error *err) {
  fprintf(stderr, "bench/inline: %s: %s\n", what, err->message);
  return 1;
}

int main(int argc, char **argv) {
  long calls = argc > 1 ? atol(argv[1]) : 200000;
  char dir[] = "/tmp/sy-bench-inline-XXXXXX";
  if (!mkdtemp(dir))
    return 1;
  char path[256];
  unsigned s = 7;
  snprintf(path, sizeof path, "%s/points.csv", dir);
  FILE *f = fopen(path, "w");
  fprintf(f, "a,b,c,d,e,y\n");
  for (int r = 0; r < ROWS; r++) {
    for (int k = 0; k < NF; k++) {
      s = s * 1103515245u + 12345u;
      data[r][k] = (double)((s >> 8) % 100000) / 1000.0;
    }
    label[r] = 3 + 0.5 * data[r][0] - 2 * data[r][1] + data[r][2] +
               0.25 * data[r][3] + (r % 13) * 0.01;
    fprintf(f, "%.17g,%.17g,%.17g,%.17g,1,%.17g\n", data[r][0], data[r][1],
            data[r][2], data[r][3], label[r]);
  }
  fclose(f);
  snprintf(path, sizeof path, "%s/bench.flow", dir);
  f = fopen(path, "w");
  fputs("name = \"bench\";\n"
        "source = { feed = \"data\"; table = \"points\"; label = \"y\"; };\n"
        "actors = (\n"
        "  { id = \"pick\"; actor = \"std.select\";"
        " params = { columns = [\"a\", \"b\", \"c\", \"d\"]; }; },\n"
        "  { id = \"scale\"; actor = \"std.scaler\"; },\n"
        "  { id = \"model\"; actor = \"std.linreg\"; },\n"
        "  { id = \"one\"; actor = \"std.head\"; params = { n = 1; }; }\n"
        ");\n",
        f);
  fclose(f);

  char feed[300], state[300], plugins[300];
  snprintf(feed, sizeof feed, "FEED.data.path=%s", dir);
  snprintf(state, sizeof state, "%s/bench.state", dir);
  snprintf(plugins, sizeof plugins, "%s/plugins.d", getcwd(path, 200));
  setenv("SWITCHYARD_PLUGIN_PATH", plugins, 0);
  const char *overrides[] = {"FEED.data.provider=csv", feed, NULL};
  sy_platform_options opts = {sizeof opts, NULL, overrides, 1, 1, NULL};
  sy_platform *p = NULL;
  sy_error err;
  sy_error_clear(&err);
  if (sy_platform_open(&opts, &p, &err))
    return die("platform", &err);

  /* Train once, to a state file. */
  snprintf(path, sizeof path, "%s/bench.flow", dir);
  sy_program *prog = NULL;
  sy_job *job = NULL;
  sy_compile_options copts = {sizeof copts, NULL};
  sy_job_options jopts = {sizeof jopts, state, "off"};
  if (sy_program_compile(p, path, SY_MODE_TRAIN, &copts, stderr, &prog, &err) ||
      sy_job_new(p, prog, &jopts, &job, &err) ||
      sy_job_run(job, "inline", &err))
    return die("train", &err);
  sy_job_free(job);
  sy_program_free(prog);

  sy_callable *call = NULL;
  if (sy_callable_new(p, path, state, &call, &err))
    return die("callable", &err);
  double x[NF] = {12.5, 47.25, 80.0, 3.75};
  sy_value *req = NULL, *out = NULL;
  static const char *const names[NF] = {"a", "b", "c", "d"};
  sy_frame_new(1, &req);
  for (int k = 0; k < NF; k++)
    sy_frame_add_f64(req, names[k], &x[k], NULL);

  double mean[NF], sd[NF], coef[NF + 1];
  fit(mean, sd, coef);
  if (sy_callable_call(call, req, &out, &err))
    return die("call", &err);
  double got = sy_frame_f64(out, 0)[0];
  double want = by_hand(x, mean, sd, coef);
  sy_value_unref(out);
  if (fabs(got - want) > 1e-6 * fabs(want)) {
    fprintf(stderr, "bench/inline: results differ: %.17g vs %.17g\n", got,
            want);
    return 1;
  }

  /* The row path: bound once to the request's columns. */
  sy_row_call *row = NULL;
  if (sy_callable_bind_row(call, names, NF, &row, &err))
    return die("bind_row", &err);
  double y = NAN;
  sy_row_call_run(row, x, &y);
  if (sy_row_call_width(row) != 1 || memcmp(&y, &got, sizeof y) != 0) {
    fprintf(stderr, "bench/inline: the row call differs: %.17g vs %.17g\n", y,
            got);
    return 1;
  }

  /* Interleave rounds of the three so that machine noise hits them
   * alike. Every call sees a new first feature. */
  double t_call = 0, t_row = 0, t_hand = 0, sink = 0;
  long rounds = 10, per = calls / rounds;
  for (long r = 0; r < rounds; r++) {
    double t0 = now();
    for (long i = 0; i < per; i++) {
      sy_callable_call(call, req, &out, &err);
      sy_value_unref(out);
    }
    double t1 = now();
    for (long i = 0; i < per; i++) {
      x[0] += 1e-9;
      sy_row_call_run(row, x, &y);
      sink += y;
    }
    double t2 = now();
    for (long i = 0; i < per; i++) {
      x[0] += 1e-9;
      sink += by_hand(x, mean, sd, coef);
    }
    double t3 = now();
    t_call += t1 - t0;
    t_row += t2 - t1;
    t_hand += t3 - t2;
  }
  long n = per * rounds;
  printf("%-44s %12s\n", "one-row apply, 4-actor flow", "ns per call");
  printf("%-44s %12.1f\n", "hand-written C (same arithmetic)",
         t_hand / n * 1e9);
  printf("%-44s %12.1f\n", "sy_row_call_run (row kernels)", t_row / n * 1e9);
  printf("%-44s %12.1f\n", "sy_callable_call (frames)", t_call / n * 1e9);
  printf("%-44s %12.2f\n", "ratio row call / hand-written", t_row / t_hand);
  printf("%-44s %12.1f\n", "ratio frame call / hand-written", t_call / t_hand);
  printf("(%ld calls each; checksum %.3g)\n", n, sink);
  sy_row_call_free(row);

  sy_value_unref(req);
  sy_callable_free(call);
  sy_platform_close(p);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : 1;
}
