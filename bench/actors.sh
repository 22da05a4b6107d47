#!/usr/bin/env bash
# bench/actors - fit time of std.logreg (solver = "lbfgs", c = 1) on
# breast_cancer against scikit-learn's LogisticRegression(C=1, lbfgs,
# multinomial) on the same standardised data, same machine. Only the fit
# is timed on both sides. The scikit-learn column is left out (said so)
# when python3 cannot import sklearn (Debian: python3-sklearn).
#
#   bench/actors.sh [REPEATS]      (default 200)
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-200}
make -s bench/actors >/dev/null
data=tests/data/sklearn/breast_cancer.csv
echo "load: $(uptime | sed 's/.*load average: //')"
echo "== switchyard std.logreg (lbfgs, c = 1; tol on the mean loss's gradient)"
bench/actors "$data" "$reps"
py=""
for p in python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null && "$p" -c 'import sklearn' 2>/dev/null; then
    py=$p
    break
  fi
done
if [ -z "$py" ]; then
  echo "== scikit-learn: not installed (apt-get install python3-sklearn); column skipped"
  exit 0
fi
echo "== scikit-learn LogisticRegression(C=1, lbfgs, multinomial)"
"$py" - "$data" "$reps" <<'P'
import csv, sys, time, warnings
import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
warnings.simplefilter("ignore")
rows = list(csv.reader(open(sys.argv[1])))
head, body = rows[0], np.array(rows[1:], dtype=float)
t = head.index("target")
y = body[:, t].astype(int)
X = StandardScaler().fit_transform(np.delete(body, t, axis=1))
reps = int(sys.argv[2])
print("%-8s %6s %10s %10s %6s %s" % ("tol", "fits", "mean_us", "best_us", "iters", "version"))
for tol in (1e-4, 1e-10):
    times = []
    for _ in range(reps):
        m = LogisticRegression(C=1.0, multi_class="multinomial", solver="lbfgs", tol=tol, max_iter=1000)
        t0 = time.perf_counter()
        m.fit(X, y)
        times.append((time.perf_counter() - t0) * 1e6)
    print("%-8g %6d %10.1f %10.1f %6d %s" % (tol, reps, sum(times) / reps, min(times), m.n_iter_[0], sklearn.__version__))
P
