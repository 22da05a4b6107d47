#!/usr/bin/env bash
# End-to-end tests of `switchyard eval` and sweeps (issue 14, points 2
# and 3): k-fold and holdout splits whose metric values match numbers
# computed independently (tests/e2e/eval-ref.py, from the same data), the
# same table on every runner, folds cached, sweep branches labelled and
# the best one picked and trained (train --best), and errors. Run by
# `make check`.
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
ref=$top_srcdir/tests/e2e/eval-ref.py

# Data whose "model" is given: the predictions are columns of the table,
# so the reference needs no model, only the split and the metrics.
python3 - <<'PY'
import random
r = random.Random(7)
with open("bin.csv", "w") as f:
    f.write("y,prediction,p_0,p_1\n")
    for i in range(137):
        y = 1 if r.random() < 0.4 else 0
        p1 = round(min(max(0.35 * y + r.random() * 0.65, 0.0), 1.0), 2)
        f.write("%d,%d,%.2f,%.2f\n" % (y, 1 if p1 > 0.5 else 0, 1 - p1, p1))
with open("reg.csv", "w") as f:
    f.write("y,prediction\n")
    for i in range(101):
        x = r.uniform(-3, 3)
        f.write("%.6f,%.6f\n" % (2 * x + 1 + r.gauss(0, 0.5), 2 * x + 1))
PY
printf '[FEED.data]\nprovider = csv\npath = .\n[SINK.csv]\nprovider = stdout\nformat = csv\n' > switchyard.ini
cat > bin.flow <<'FLOW'
name   = "bin";
source = { table = "bin"; label = "y"; };
actors = ( { id = "model"; actor = "std.select";
             params = { columns = ["prediction", "p_0", "p_1"]; }; } );
FLOW
cat > reg.flow <<'FLOW'
name   = "reg";
source = { table = "reg"; label = "y"; };
actors = ( { id = "model"; actor = "std.select"; params = { columns = ["prediction"]; }; } );
FLOW

# Compares switchyard's table (CSV from --sink) with the reference.
check() { # check NAME FLOW CSV (folds K | holdout F) SEED METRICS
  local name=$1 flow=$2 data=$3 mode=$4 arg=$5 seed=$6 metrics=$7
  "$sy" -q eval "$flow" --"$mode" "$arg" --seed "$seed" --metric "$metrics" \
    --sink csv > "$name.got" 2> "$name.err" || { bad "$name: eval failed: $(cat "$name.err")"; return; }
  # shellcheck disable=SC2086
  python3 "$ref" "$data" y "$mode" "$arg" "$seed" ${metrics//,/ } > "$name.want"
  python3 - "$name.got" "$name.want" <<'PY' && ok || bad "$name: $(paste -d'|' "$name.got" "$name.want")"
import csv, sys
got = {r["metric"]: r for r in csv.DictReader(open(sys.argv[1]))}
want = [l.strip().split(",") for l in open(sys.argv[2])]
for w in want:
    g = got[w[0]]
    vals = [g["mean"], g["std"]] + [g["fold%d" % k] for k in range(1, len(w) - 2)]
    for a, b in zip(vals, w[1:]):
        if abs(float(a) - float(b)) > 1e-12 * max(1.0, abs(float(b))):
            sys.exit("%s: %s != %s" % (w[0], a, b))
PY
}
check bin5 bin.flow bin.csv folds 5 0 accuracy,log_loss,roc_auc
check bin3 bin.flow bin.csv folds 3 42 accuracy,roc_auc
check binh bin.flow bin.csv holdout 0.25 9 accuracy,log_loss,roc_auc
check reg4 reg.flow reg.csv folds 4 1 r2,rmse,mae
check regh reg.flow reg.csv holdout 0.3 5 r2,rmse,mae

# Stratified: every fold of a 3-class label keeps the class proportions.
cp "$ex/iris/iris.csv" .
cat > iris.flow <<'FLOW'
name   = "iris";
source = { table = "iris"; label = "species"; };
actors = (
  { id = "scale"; actor = "std.scaler"; },
  { id = "model"; actor = "std.logreg"; params = { epochs = 30; rate = 0.5; }; }
);
FLOW
"$sy" -q compile iris.flow > /dev/null || bad "compile iris.flow"
# The table is the same on every runner; the folds run as parallel steps.
for r in inline parallel isolated; do
  "$sy" -q eval iris.flow --folds 5 -R "$r" --sink csv --cache off > "iris.$r" || bad "eval on $r"
done
same iris.inline iris.parallel "eval inline vs parallel"
same iris.inline iris.isolated "eval inline vs isolated"
grep -q '^accuracy,' iris.inline && grep -q '^log_loss,' iris.inline && ok || bad "default classifier metrics: $(cat iris.inline)"
expect 0 "5-fold cross-validation, seed 0" -- "$sy" eval iris.flow
expect 0 "^accuracy +0\.[0-9]{6} +0\.[0-9]{6}( +0\.[0-9]{6}){5}$" -- "$sy" eval iris.flow --metric accuracy
# Folds are cached: a second eval runs nothing but the table's readers.
"$sy" -q eval iris.flow --folds 5 --log e1.jsonl > /dev/null || bad "eval 1"
"$sy" -q eval iris.flow --folds 5 --log e2.jsonl > /dev/null || bad "eval 2"
grep -c '"event":"done"' e1.jsonl | grep -qv '^0$' && ok || bad "eval 1 ran nothing"
grep '"event":"done"' e2.jsonl | grep -q '"label":"train' && bad "eval 2 trained again" || ok
grep -q '"label":"train model@3 (std.logreg)".*"event":"cached"\|"event":"cached".*"label":"train model@3 (std.logreg)"' e2.jsonl && ok ||
  bad "fold 3's model was not cached"

# Sweeps: branches labelled by value, the best picked by a named metric.
cat > sweep.flow <<'FLOW'
name   = "sweep";
source = { table = "iris"; label = "species"; };
actors = (
  { id = "scale"; actor = "std.scaler"; },
  { id = "model"; actor = "std.logreg"; params = { epochs = 30; rate = 0.5; };
    sweep = { rate = [0.01, 0.1, 1.0]; }; }
);
FLOW
expect 0 "sweep.flow: ok" -- "$sy" check sweep.flow
"$sy" eval sweep.flow --folds 3 --best log_loss --log sw.jsonl > sweep.out || bad "eval sweep"
grep -qE '^model\.rate=0\.01 +log_loss' sweep.out && grep -qE '^model\.rate=0\.1 +log_loss' sweep.out &&
  grep -qE '^model\.rate=1 +log_loss' sweep.out && ok || bad "sweep labels: $(cat sweep.out)"
grep -qE '^best by log_loss: model\.rate=1 \(mean' sweep.out && ok || bad "best branch: $(cat sweep.out)"
# The scaler no sweep reaches is trained once per fold, not per branch.
[ "$(grep -c '"label":"train scale@1 (std.scaler)".*"event":"started"\|"event":"started".*"label":"train scale@1 ' sw.jsonl)" = 1 ] && ok ||
  bad "scaler trained per branch"
[ "$(grep '"event":"started"' sw.jsonl | grep -c '"label":"train model\[')" = 9 ] && ok || bad "not 3 x 3 model fits"
expect 2 "sweep.flow:6: model sweeps 'rate' over 3 values" -- "$sy" run sweep.flow
# train --best trains the winner: the same states as training it by hand.
expect 0 "best by accuracy: model.rate=1" -- "$sy" train sweep.flow --best accuracy --folds 3 --state best.st
sed -e 's/sweep = .*; }; }/}/' -e 's/rate = 0.5;/rate = 1.0;/' sweep.flow > fixed.flow
"$sy" -q train fixed.flow --state fixed.st || bad "train fixed.flow"
same best.st fixed.st "train --best vs the best value by hand"
expect 0 "released" -- "$sy" release sweep.flow --version 1.0
expect 0 "committed generation 1 of sweep:1.0" -- "$sy" train sweep --best accuracy --holdout 0.3 --seed 2
expect 0 "model.rate=1 +accuracy" -- "$sy" eval sweep:1.0 --holdout 0.3 --seed 2 --metric accuracy
# A release's evaluation is stored with its generation (the note "eval")
# and printed by registry show (the archive registry too: ml-gaps.sh).
expect 0 "stored the evaluation with generation 1 of sweep:1.0" -- "$sy" eval sweep:1.0:1 --folds 3 --metric accuracy
out=$("$sy" registry show sweep:1.0:1)
grep -q '^# eval (switchyard eval sweep:1.0:1)$' <<<"$out" &&
  grep -qE '^#   model\.rate=1,accuracy,0\.9[0-9]*,' <<<"$out" && ok || bad "registry show lacks the evaluation: $out"
expect 2 "has no generation 7" -- "$sy" eval sweep:1.0:7 --folds 3
expect 0 "released" -- "$sy" release iris.flow --version 1.0
expect 0 "iris:1.0 has no generation yet: the evaluation is not stored" -- "$sy" eval iris:1.0 --folds 2
expect 0 "released" -- "$sy" release iris.flow --version 1.0 --registry shelf
expect 0 "committed" -- "$sy" train iris --registry shelf
expect 0 "stored the evaluation with generation 1 of iris:1.0" -- "$sy" eval iris --registry shelf --folds 2

# Errors.
expect 2 "--folds takes a number of folds from 2" -- "$sy" eval iris.flow --folds 1
expect 2 "--holdout takes the test fraction" -- "$sy" eval iris.flow --holdout 1.5
expect 2 "--folds and --holdout exclude each other" -- "$sy" eval iris.flow --folds 3 --holdout 0.2
expect 2 "unknown metric 'acuracy' \(did you mean 'accuracy'\?\)" -- "$sy" eval iris.flow --metric acuracy
expect 2 "--best: unknown metric" -- "$sy" eval iris.flow --best nope
expect 1 "ROC AUC needs a binary label: the truth has 3 classes" -- "$sy" eval iris.flow --metric roc_auc
sed '/label/s/; label = "species"//' iris.flow > nolabel.flow
expect 2 "eval compares predictions with the label: set source.label" -- "$sy" eval nolabel.flow
expect 2 "nope" -- "$sy" eval nope:1.0
expect 2 "go with --best" -- "$sy" train iris.flow --state x --folds 3
sed 's/0.01, 0.1, 1.0/0.1, 0.1/' sweep.flow > twice.flow
expect 2 "twice.flow:6: model.sweep.rate: value 0.1.* is listed twice" -- "$sy" check twice.flow
sed 's/sweep = { rate/sweep = { rtae/' sweep.flow > sweepkey.flow
expect 2 "sweepkey.flow:6: .*unknown parameter of std.logreg \(did you mean 'rate'\?\)" -- "$sy" check sweepkey.flow

# The README's commands ("Parameters, sweeps and evaluation"), verbatim
# from the top of the source tree.
readme() { (cd "$top_srcdir" && "$sy" "$@"); }
readme run examples/iris/params.flow -p rate=0.25 -p epochs=100 > readme1.out &&
  grep -q '^prediction,p_setosa' readme1.out && ok || bad "README run -p"
readme eval examples/iris/sweep.flow --folds 3 --best accuracy > readme2.out &&
  grep -q '^best by accuracy: model.rate=1 ' readme2.out && ok || bad "README sweep: $(cat readme2.out)"
readme eval examples/iris/params.flow --folds 5 > readme3.out &&
  grep -qE '^log_loss +0\.' readme3.out && ok || bad "README eval: $(cat readme3.out)"
readme eval examples/iris/params.flow --holdout 0.2 --seed 7 --metric accuracy > readme4.out &&
  grep -qE '^accuracy +0\.' readme4.out && ok || bad "README holdout: $(cat readme4.out)"

echo "eval: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
