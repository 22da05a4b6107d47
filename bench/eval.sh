#!/usr/bin/env bash
# bench/eval - a 5-fold `switchyard eval` (issue 14) on the parallel
# runner (runner-dask, threads) with 1 worker and with 2 workers: the
# folds are independent branches of one program, so 2 workers should
# come close to halving the wall time on 2 idle cores. The data are
# ROWS synthetic rows of 20 features and 3 classes; the flow scales them
# and fits std.logreg (EPOCHS gradient steps). The cache is off; each
# setting runs REPS times, interleaved; the medians of wall and CPU
# (user + sys) time are shown. Run from
# the top of the built tree:
#
#   bench/eval.sh [ROWS] [EPOCHS] [REPS]     (defaults 20000 300 3)
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
rows=${1:-20000}
epochs=${2:-300}
reps=${3:-3}
make -s plugins-dir >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/home"
python3 - "$rows" > "$tmp/synth.csv" <<'PY'
import random, sys
r = random.Random(1)
n = int(sys.argv[1])
print(",".join("x%d" % j for j in range(20)) + ",y")
for i in range(n):
    y = r.randrange(3)
    print(",".join("%.4f" % (r.gauss(0, 1) + (0.3 * y if j % 3 == y else 0)) for j in range(20)) + ",c%d" % y)
PY
cat > "$tmp/bench.flow" <<FLOW
name   = "evalbench";
source = { table = "synth"; label = "y"; };
actors = (
  { id = "scale"; actor = "std.scaler"; },
  { id = "model"; actor = "std.logreg"; params = { epochs = $epochs; rate = 0.5; }; }
);
FLOW
printf '[FEED.data]\nprovider = csv\npath = .\n' > "$tmp/switchyard.ini"
export HOME=$tmp/home
run() { # run WORKERS -> "wall_ms cpu_ms"
  /usr/bin/time -f "%e %U %S" -o "$tmp/time" "$top/switchyard" -q \
    -o RUNNER.parallel.workers="$1" eval "$tmp/bench.flow" --folds 5 \
    -R parallel --cache off --sink out > "$tmp/out.$1"
  awk '{ printf "%d %d\n", $1 * 1000, ($2 + $3) * 1000 }' "$tmp/time"
}
declare -a w1 w2 c1 c2
for ((i = 0; i < reps; i++)); do
  read -r w c < <(run 1)
  w1+=("$w") c1+=("$c")
  read -r w c < <(run 2)
  w2+=("$w") c2+=("$c")
done
cmp -s "$tmp/out.1" "$tmp/out.2" || { echo "eval: 1 and 2 workers disagree" >&2; exit 1; }
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
m1=$(median "${w1[@]}") m2=$(median "${w2[@]}")
printf '%-34s %10s %10s   %s\n' "5-fold eval, $rows x 20, $epochs ep." "wall (ms)" "cpu (ms)" "(walls)"
printf '%-34s %10s %10s   (%s)\n' "parallel runner, 1 worker" "$m1" "$(median "${c1[@]}")" "${w1[*]}"
printf '%-34s %10s %10s   (%s)\n' "parallel runner, 2 workers" "$m2" "$(median "${c2[@]}")" "${w2[*]}"
printf '%-34s %10s\n' "speedup 2 workers / 1 (medians)" "$(awk -v a="$m1" -v b="$m2" 'BEGIN { printf "%.2f", a / b }')"
printf 'load: %s\n' "$(uptime)"
