#!/usr/bin/env bash
# std.logreg's L-BFGS against scikit-learn (issue 14, "A real solver"):
# with the same objective (c = 1 as LogisticRegression(C=1), multinomial,
# on standardised features) its probabilities on breast_cancer and wine
# agree with the numbers tests/data/sklearn/make_reference.py wrote with
# scikit-learn's lbfgs to 1e-4 (no scikit-learn needed here); it warns
# when it stops before converging, and refuses bad settings.
# Run by `make check`.
. "$(cd "$(dirname "$0")" && pwd)/common.sh"

data=$top_srcdir/tests/data/sklearn
printf '[FEED.data]\nprovider = csv\npath = %s\n' "$data" > switchyard.ini
flow() { # flow NAME TABLE PARAMS
  cat > "$1.flow" <<F
name = "$1";
source = { feed = "data"; table = "$2"; label = "target"; };
actors = (
  { id = "scale"; actor = "std.scaler"; },
  { id = "model"; actor = "std.logreg"; inputs = ["scale"];
    params = { $3 }; }
);
sink = "out";
F
}
# max |ours - reference| over every probability column of the reference
maxdiff() {
  python3 - "$1" "$2" <<'P'
import csv, sys
ours = list(csv.DictReader(open(sys.argv[1])))
ref = list(csv.DictReader(open(sys.argv[2])))
assert len(ours) == len(ref) and ref, (len(ours), len(ref))
print(max(abs(float(o[k]) - float(r[k])) for o, r in zip(ours, ref) for k in r))
P
}
within() { python3 -c "import sys; sys.exit(0 if float('$1') <= $2 else 1)"; }

for t in breast_cancer wine; do
  flow "$t" "$t" 'solver = "lbfgs"; c = 1.0; tol = 1e-8; max_iter = 1000;'
  if "$sy" run "$t.flow" --cache off > "$t.out" 2> "$t.err"; then
    ok
    ! grep -q "warning" "$t.err" && ok || bad "$t: converged run warned: $(cat "$t.err")"
    d=$(maxdiff "$t.out" "$data/$t.proba.csv") || d=nan
    within "$d" 1e-4 && ok || bad "$t: probabilities differ from scikit-learn's by $d (> 1e-4)"
    # the predicted class is the most probable one, as scikit-learn's
    python3 - "$t.out" <<'P' && ok || bad "$t: predictions are not the argmax"
import csv, sys
for r in csv.DictReader(open(sys.argv[1])):
    p = {k[2:]: float(v) for k, v in r.items() if k.startswith("p_")}
    assert r["prediction"] == max(p, key=p.get), r
P
  else
    bad "$t: run failed: $(cat "$t.err")"
  fi
done


# stopping early warns (unless -q) and says what to do; the run succeeds
flow short breast_cancer 'solver = "lbfgs"; c = 1.0; max_iter = 2;'
expect 0 "warning: step [0-9]+ \(train model \(std\.logreg\)\): std\.logreg: lbfgs did not converge.* after 2 iterations \(max_iter = 2\); raise max_iter" -- "$sy" run short.flow --cache off
"$sy" -q run short.flow --cache off > /dev/null 2> quiet.err && ! grep -q warning quiet.err && ok || bad "-q still warns: $(cat quiet.err)"
# the state says so too
"$sy" train short.flow --state short.state 2> /dev/null || bad "train short"
c=$("$sy" state show short.state | jq -r '.model.state.converged, .model.state.iterations' | tr '\n' ' ')
[ "$c" = "false 2 " ] && ok || bad "state of a short fit: converged/iterations '$c'"
"$sy" train wine.flow --state wine.state 2> /dev/null || bad "train wine"
c=$("$sy" state show wine.state | jq -r '.model.state | [.converged, .solver, (.iterations > 2), (.loss > 0)] | @tsv')
[ "$c" = "$(printf 'true\tlbfgs\ttrue\ttrue')" ] && ok || bad "state of a converged fit: '$c'"

# gd stays the default, and says nothing about convergence
flow gd wine 'epochs = 5;'
"$sy" run gd.flow --cache off > /dev/null 2> gd.err && ! grep -q warning gd.err && ok || bad "gd warned: $(cat gd.err)"

# c is scikit-learn's C: l2 = 1 / (c * rows) is the same model
flow viac wine 'solver = "lbfgs"; c = 0.5; tol = 1e-9; max_iter = 1000;'
flow vial2 wine 'solver = "lbfgs"; l2 = 0.011235955056179775; tol = 1e-9; max_iter = 1000;'
"$sy" -q run viac.flow --cache off > viac.out && "$sy" -q run vial2.flow --cache off > vial2.out || bad "c vs l2 runs"
d=$(maxdiff viac.out vial2.out) || d=nan
within "$d" 1e-9 && ok || bad "c = 0.5 and l2 = 1/(0.5*178) differ by $d"

# bad settings: exit 2, naming the parameter
flow both wine 'solver = "lbfgs"; c = 1.0; l2 = 0.1;'
expect 2 "set either 'c' or 'l2', not both" -- "$sy" run both.flow
flow badtol wine 'solver = "lbfgs"; tol = 0.0;'
expect 2 "'tol' must be a finite number > 0" -- "$sy" run badtol.flow
flow badsolver wine 'solver = "newton";'
expect 2 "solver" -- "$sy" check badsolver.flow

echo "sklearn: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
