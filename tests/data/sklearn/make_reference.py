#!/usr/bin/python3
"""Writes the scikit-learn reference numbers that tests/e2e/sklearn.sh
checks std.logreg (solver = "lbfgs") against.

Run once, by hand, where python3-sklearn is installed (Debian:
apt-get install python3-sklearn); the tests only read what it wrote:

  breast_cancer.csv, wine.csv   the data sets as scikit-learn ships them
                                (feature names with '_' for spaces and
                                no parentheses; the class in "target")
  breast_cancer.proba.csv,      predict_proba of LogisticRegression(C=1,
  wine.proba.csv                multinomial, lbfgs) fitted on the
                                standardised features (StandardScaler,
                                as std.scaler in the flow), one column
                                p_<class> per class, every row

tol is tightened so that both sides sit at the optimum of the same
objective (the summed log loss times C plus ||W||^2 / 2, intercepts not
penalised), where any two good solvers agree far below 1e-4.
"""
import csv
import os
import re
import sys

import sklearn
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))


def clean(name):
    return re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_")


def write(name, ds):
    cols = [clean(c) for c in ds.feature_names]
    X, y = ds.data, ds.target
    with open(os.path.join(HERE, name + ".csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(cols + ["target"])
        for row, t in zip(X, y):
            w.writerow([repr(float(v)) for v in row] + [int(t)])
    Xs = StandardScaler().fit_transform(X)
    model = LogisticRegression(C=1.0, multi_class="multinomial",
                               solver="lbfgs", tol=1e-10, max_iter=10000)
    model.fit(Xs, y)
    proba = model.predict_proba(Xs)
    with open(os.path.join(HERE, name + ".proba.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["p_%d" % c for c in model.classes_])
        for row in proba:
            w.writerow(["%.17g" % v for v in row])
    print("%s: %d rows, %d features, %d classes, %d iterations" %
          (name, X.shape[0], X.shape[1], len(model.classes_),
           int(model.n_iter_[0])), file=sys.stderr)


if __name__ == "__main__":
    print("scikit-learn", sklearn.__version__, file=sys.stderr)
    write("breast_cancer", load_breast_cancer())
    write("wine", load_wine())
