/*
 * bench/actors - fit time of std.logreg's L-BFGS on a data set (default
 * tests/data/sklearn/breast_cancer.csv, label column "target"), on
 * features standardised by std.scaler first, as bench/actors.sh compares
 * with scikit-learn's lbfgs on the same machine.
 *
 *   bench/actors [CSV [REPEATS]]
 *
 * Prints one line per setting: tol, the fits timed, the mean and the best
 * wall time of one train() in microseconds, the iterations it took and
 * whether it converged. Only train() is timed: reading the CSV and
 * scaling happen once, before.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <switchyard/csv.h>
#include <switchyard/file.h>

#include "std.h"

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static const sy_provider *find(const char *name) {
  const sy_plugin *pl = sy_plugin_entry();
  for (size_t i = 0; pl->providers[i]; i++)
    if (strcmp(pl->providers[i]->name, name) == 0)
      return pl->providers[i];
  return NULL;
}

static void die(const char *what, const sy_error *err) {
  fprintf(stderr, "bench/actors: %s: %s\n", what, err ? err->message : "");
  exit(1);
}

int main(int argc, char **argv) {
  const char *path =
      argc > 1 ? argv[1] : "tests/data/sklearn/breast_cancer.csv";
  int reps = argc > 2 ? atoi(argv[2]) : 200;
  sy_error err = {0};
  void *data = NULL;
  size_t len = 0;
  sy_value *all = NULL, *X = NULL, *Y = NULL, *Xs = NULL;
  if (reps < 1 || sy_file_read(path, (size_t)1 << 30, &data, &len, &err))
    die(path, &err);
  if (sy_csv_read(data, len, NULL, &all, &err))
    die(path, &err);
  free(data);
  size_t rows = sy_frame_rows(all);
  int label = sy_frame_col_index(all, "target");
  if (label < 0)
    die("no column 'target'", NULL);
  if (sy_frame_new(rows, &X) || sy_frame_new(rows, &Y))
    die("out of memory", NULL);
  for (size_t c = 0; c < sy_frame_cols(all); c++)
    if (sy_frame_add_column_from((int)c == label ? Y : X, NULL, all, c))
      die("out of memory", NULL);

  const sy_provider *sp = find("std.scaler"), *lp = find("std.logreg");
  std_scaler_config sc = {true, true, NULL};
  void *s = NULL;
  const sy_value *in[1] = {X};
  if (sp->create(&sc, &s, &err) ||
      ((const sy_actor_ops *)sp->ops)->train(s, in, 1, NULL, &err) ||
      ((const sy_actor_ops *)sp->ops)->apply(s, in, 1, &Xs, &err))
    die("std.scaler", &err);
  sp->destroy(s);

  static const double tols[] = {1e-4, 1e-8};
  const sy_actor_ops *ops = lp->ops;
  printf("%-8s %6s %10s %10s %6s %s\n", "tol", "fits", "mean_us", "best_us",
         "iters", "converged");
  for (size_t t = 0; t < sizeof tols / sizeof *tols; t++) {
    std_logreg_config cfg = {1,   0.1,     0,   "prediction", STD_SOLVER_LBFGS,
                             1.0, tols[t], 1000};
    double total = 0, best = 1e300;
    void *a = NULL;
    const sy_value *xin[1] = {Xs};
    for (int r = 0; r < reps; r++) {
      if (a)
        lp->destroy(a);
      a = NULL;
      if (lp->create(&cfg, &a, &err))
        die("std.logreg", &err);
      double t0 = now_us();
      if (ops->train(a, xin, 1, Y, &err))
        die("std.logreg train", &err);
      double dt = now_us() - t0;
      total += dt;
      if (dt < best)
        best = dt;
    }
    /* iterations and convergence, from the state's description */
    sy_value *st = NULL;
    sy_buf b = SY_BUF_INIT;
    if (ops->state_save(a, &st, &err) || ops->describe_state(st, &b, &err))
      die("describe", &err);
    json_t *j = json_loads(b.data, 0, NULL);
    printf("%-8g %6d %10.1f %10.1f %6lld %s\n", tols[t], reps, total / reps,
           best,
           (long long)json_integer_value(json_object_get(j, "iterations")),
           json_is_true(json_object_get(j, "converged")) ? "yes" : "no");
    json_decref(j);
    sy_buf_free(&b);
    sy_value_unref(st);
    lp->destroy(a);
  }
  sy_value_unref(all);
  sy_value_unref(X);
  sy_value_unref(Y);
  sy_value_unref(Xs);
  return 0;
}
