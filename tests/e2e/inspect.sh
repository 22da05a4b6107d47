#!/usr/bin/env bash
# Inspection (issue 14): `switchyard state show FILE` and `registry show
# REF --states` print each stateful actor's trained state as one valid
# JSON document (parsed here with jq and python3 -m json.tool): the
# scaler's means and scales, linreg's coefficients, intercept and R^2,
# logreg's coefficients per class, loss, iterations and convergence.
# Run by `make check`.
. "$(cd "$(dirname "$0")" && pwd)/common.sh"

# ---- the README's commands, verbatim from the repo root ----------------
cd "$top_srcdir" || exit 1
"$sy" train examples/iris/pipeline.flow --state ~/iris.state 2> /dev/null || bad "train iris"
"$sy" state show ~/iris.state > "$tmp/show.json" || bad "state show"
cd "$tmp" || exit 1
cp ~/iris.state iris.state
python3 -m json.tool show.json > /dev/null && ok || bad "state show is not JSON: $(head -c 300 show.json)"
[ "$(jq -r 'keys_unsorted | join(",")' show.json)" = "scale,model" ] && ok || bad "nodes: $(jq -c 'keys_unsorted' show.json)"
[ "$(jq -r '.scale.actor, .model.actor' show.json | tr '\n' ' ')" = "std.scaler std.logreg " ] && ok || bad "actors"
# the scaler's numbers are the data's: mean and population sd of sepal_length
python3 - "$ex/iris/iris.csv" show.json <<'P' && ok || bad "scaler means/scales do not match the data"
import csv, json, math, sys
rows = list(csv.DictReader(open(sys.argv[1])))
s = json.load(open(sys.argv[2]))["scale"]["state"]
for col in s["columns"]:
    v = [float(r[col]) for r in rows]
    m = sum(v) / len(v)
    sd = math.sqrt(sum((x - m) ** 2 for x in v) / len(v))
    assert abs(s["means"][col] - m) < 1e-12 and abs(s["scales"][col] - sd) < 1e-12, col
    assert s["counts"][col] == len(v)
P
# logreg: one coefficient per class and feature; gd has no convergence
c=$(jq -r '.model.state | [(.classes | length), (.coefficients | length), (.coefficients[.classes[0]] | length), .solver, (.converged | tostring), .iterations, (.loss > 0)] | @tsv' show.json)
[ "$c" = "$(printf '3\t3\t4\tgd\tnull\t500\ttrue')" ] && ok || bad "logreg state: '$c'"
# the described model is the one apply uses: its probabilities from the
# JSON coefficients equal the apply output's
"$sy" -q apply "$ex/iris/pipeline.flow" --state iris.state > apply.csv || bad "apply iris"
python3 - "$ex/iris/iris.csv" show.json apply.csv <<'P' && ok || bad "probabilities from the JSON model differ from apply's"
import csv, json, math, sys
rows = list(csv.DictReader(open(sys.argv[1])))
st = json.load(open(sys.argv[2]))
sc, lg = st["scale"]["state"], st["model"]["state"]
out = list(csv.DictReader(open(sys.argv[3])))
for r, o in zip(rows, out):
    x = {c: (float(r[c]) - sc["means"][c]) / sc["scales"][c] for c in sc["columns"]}
    z = {k: lg["intercepts"][k] + sum(w * x[f] for f, w in lg["coefficients"][k].items()) for k in lg["classes"]}
    mx = max(z.values()); e = {k: math.exp(v - mx) for k, v in z.items()}; t = sum(e.values())
    for k in lg["classes"]:
        assert abs(e[k] / t - float(o["p_" + k])) < 1e-12, (k, e[k] / t, o["p_" + k])
P

# ---- linreg: coefficients, intercept and R^2 on the training data --------
mkdir data
printf 'x1,x2,y\n1,0,3.1\n2,1,5.9\n3,0,7.2\n4,1,9.8\n5,0,11.1\n6,1,13.9\n' > data/lin.csv
printf '[FEED.data]\nprovider = csv\npath = data\n' > switchyard.ini
cat > lin.flow <<'F'
name = "lin";
source = { feed = "data"; table = "lin"; label = "y"; };
actors = ( { id = "fit"; actor = "std.linreg"; } );
sink = "out";
F
"$sy" train lin.flow --state lin.state 2> /dev/null || bad "train lin"
"$sy" state show lin.state > lin.json && python3 -m json.tool lin.json > /dev/null && ok || bad "lin state show: $(cat lin.json)"
python3 - lin.json <<'P' && ok || bad "linreg coefficients / R^2 wrong: $(cat lin.json)"
import json, sys
s = json.load(open(sys.argv[1]))["fit"]["state"]
X = [(1, 0), (2, 1), (3, 0), (4, 1), (5, 0), (6, 1)]; y = [3.1, 5.9, 7.2, 9.8, 11.1, 13.9]
f = [s["intercept"] + s["coefficients"]["x1"] * a + s["coefficients"]["x2"] * b for a, b in X]
m = sum(y) / len(y)
r2 = 1 - sum((u - v) ** 2 for u, v in zip(y, f)) / sum((u - m) ** 2 for u in y)
assert abs(s["r2"] - r2) < 1e-12 and 0.99 < r2 < 1, (s["r2"], r2)
# least squares: the residuals are orthogonal to every feature
for j in range(2):
    assert abs(sum((u - v) * x[j] for u, v, x in zip(y, f, X))) < 1e-9
P

# ---- registry show --states: the latest generation, or the one named ----
rel=$HOME/rel
cp "$ex/iris/pipeline.flow" iris.flow
printf '[FEED.data]\nprovider = csv\npath = %s\n' "$ex/iris" > switchyard.ini
expect 0 "released" -- "$sy" release iris.flow --version 1.0
expect 2 "no generation trained yet" -- "$sy" registry show iris:1.0 --states
"$sy" train iris 2> /dev/null || bad "train iris (registry)"
"$sy" registry show iris --states > reg.json && jq -e '.model.state.coefficients' reg.json > /dev/null && ok || bad "registry show --states: $(head -c 300 reg.json)"
"$sy" registry show iris:1.0:1 --states > reg1.json && cmp -s reg.json reg1.json && ok || bad "generation 1 differs from latest"
jq -e '.scale.state == input.scale.state' reg.json show.json > /dev/null && ok || bad "registry and file states differ"
expect 2 "no generation 7|generation 7" -- "$sy" registry show iris:1.0:7 --states
expect 2 "--states goes with 'registry show' only" -- "$sy" registry list --states

# ---- errors: a missing file, a file that is not states ------------------
expect 2 "nothere\.state" -- "$sy" state show nothere.state
echo "not states" > junk.state
expect 1 "junk\.state" -- "$sy" state show junk.state
expect 2 "usage: switchyard state show FILE" -- "$sy" state list

echo "inspect: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
