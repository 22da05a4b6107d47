#!/usr/bin/env python3
"""Reference numbers for tests/e2e/eval.sh, computed independently of
switchyard (no sklearn): the same fold assignment (splitmix64 shuffle,
stratified dealing) and each metric from its textbook definition.

usage: eval-ref.py CSV LABEL (folds K | holdout F) SEED METRIC...
prints "metric,mean,std,v1,...,vK" per metric."""
import csv
import math
import statistics
import sys

M64 = (1 << 64) - 1


def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & M64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return state, z ^ (z >> 31)


def parse(v):
    try:
        return int(v)
    except ValueError:
        try:
            return float(v)
        except ValueError:
            return v


path, label, mode, arg, seed = sys.argv[1:6]
metrics = sys.argv[6:]
rows = list(csv.DictReader(open(path)))
n = len(rows)
y = [parse(r[label]) for r in rows]
stratified = not isinstance(y[0], float)
perm = list(range(n))
st = int(seed)
for i in range(n, 1, -1):
    st, r = splitmix64(st)
    j = r % i
    perm[i - 1], perm[j] = perm[j], perm[i - 1]
classes = sorted(set(y)) if stratified else [None]
cls = [classes.index(v) if stratified else 0 for v in y]


def test_rows(k, K, h):
    test = [False] * n
    dealt = 0
    for c in range(len(classes)):
        members = [r for r in perm if cls[r] == c]
        cut = int(math.floor(h * len(members) + 0.5))
        for seen, r in enumerate(members):
            if h > 0:
                test[r] = seen < cut
            else:
                test[r] = dealt % K == k
                dealt += 1
    return test


def score(m, idx):
    t = [y[i] for i in idx]
    if m == "accuracy":
        return sum(str(parse(rows[i]["prediction"])) == str(y[i]) for i in idx) / len(idx)
    if m == "log_loss":
        s = 0.0
        for i in idx:
            p = float(rows[i]["p_%s" % y[i]])
            p = min(max(p, 1e-15), 1 - 1e-15)
            s -= math.log(p)
        return s / len(idx)
    if m == "roc_auc":
        pos = max(set(t))
        sc = sorted((float(rows[i]["p_%s" % pos]), y[i] == pos) for i in idx)
        ranks, i = 0.0, 0
        while i < len(sc):
            j = i
            while j < len(sc) and sc[j][0] == sc[i][0]:
                j += 1
            avg = (i + 1 + j) / 2
            ranks += sum(avg for q in range(i, j) if sc[q][1])
            i = j
        npos = sum(1 for v in t if v == pos)
        nneg = len(t) - npos
        return (ranks - npos * (npos + 1) / 2) / (npos * nneg)
    f = [float(rows[i]["prediction"]) for i in idx]
    t = [float(v) for v in t]
    if m == "r2":
        mean = sum(t) / len(t)
        return 1 - sum((a - b) ** 2 for a, b in zip(t, f)) / sum((a - mean) ** 2 for a in t)
    if m == "rmse":
        return math.sqrt(sum((a - b) ** 2 for a, b in zip(t, f)) / len(t))
    if m == "mae":
        return sum(abs(a - b) for a, b in zip(t, f)) / len(t)
    raise SystemExit("unknown metric " + m)


K = int(arg) if mode == "folds" else 1
h = float(arg) if mode == "holdout" else 0.0
for m in metrics:
    vals = []
    for k in range(K):
        test = test_rows(k, K, h)
        vals.append(score(m, [i for i in range(n) if test[i]]))
    mean = sum(vals) / K
    sd = statistics.stdev(vals) if K > 1 else 0.0
    print(",".join([m] + ["%.17g" % v for v in [mean, sd] + (vals if K > 1 else [])]))
