#!/usr/bin/env bash
# bench/cache - a flow of N steps (default 1e4) of ~1 ms each (bench.spin),
# run cold (empty cache) and then again unchanged (every step cached), with
# the ratio of the two wall times. Run from the top of the built tree.
#
#   bench/cache.sh [N] [US]      (US: microseconds per step, default 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
n=${1:-10000}
us=${2:-1000}
make -s bench/actor-bench.la plugins-dir >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/plugins" "$tmp/data" "$tmp/home"
chmod 0755 "$tmp/plugins"
install -m 0755 bench/.libs/actor-bench.so "$tmp/plugins/"
printf 'x\n1\n2\n3\n' > "$tmp/data/t.csv"
{
  echo 'name = "cachebench";'
  echo 'source = { table = "t"; };'
  echo 'actors = ('
  for ((i = 1; i <= n; i++)); do
    sep=","
    [ "$i" -eq "$n" ] && sep=""
    echo "  { id = \"s$i\"; actor = \"bench.spin\"; params = { us = $us; }; }$sep"
  done
  echo ');'
} > "$tmp/bench.flow"
printf '[FEED.data]\nprovider = csv\npath = data\n[STORAGE.cache]\nprovider = file\npath = %s/cache\n' "$tmp" > "$tmp/switchyard.ini"
export HOME=$tmp/home SWITCHYARD_PLUGIN_PATH=$tmp/plugins
now() { date +%s%N; }
run() { "$top/switchyard" -q run "$tmp/bench.flow" --log "$tmp/$1.jsonl" > /dev/null; }
t0=$(now); run cold; t1=$(now); run warm; t2=$(now)
cold=$(( (t1 - t0) / 1000000 )) warm=$(( (t2 - t1) / 1000000 ))
hits=$(grep -c '"event":"cached"' "$tmp/warm.jsonl" || true)
printf '%-44s %10s\n' "flow of $n steps x ${us} us (chain)" "wall (ms)"
printf '%-44s %10s\n' "cold run (cache empty)" "$cold"
printf '%-44s %10s\n' "rerun, unchanged ($hits steps cached)" "$warm"
printf '%-44s %10s\n' "ratio cold / cached" "$(awk -v a="$cold" -v b="$warm" 'BEGIN { printf "%.1f", a / b }')"
