#!/usr/bin/env bash
# bench/startup - cold start of `switchyard providers` (a new process that
# reads the config layers and dlopen()s every built-in provider) against
# /bin/true, as a ratio measured in one run.
#
#   bench/startup.sh [RUNS]      (default 200 runs of each, interleaved)
#
# Run from the built tree (./quickstart builds it). Prints a table.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-200}
sy=./switchyard
[ -x "$sy" ] || { echo "build first: ./quickstart" >&2; exit 2; }
# libtool's wrapper script would be timed too: run the real binary.
real=.libs/switchyard
[ -x "$real" ] && sy=$real
export LD_LIBRARY_PATH=$PWD/core/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
# The real binary sits in .libs/, whose parent holds plugins.d: same tree.
nprov=$("$sy" -q providers | tail -n +2 | wc -l)

now() { date +%s%N; }
# Blocks of 20 runs, alternating, so that load on the machine hits both;
# the loop's own fork+exec cost is in both numbers, as it is for any
# command a user runs.
block=20
t_true=0 t_sy=0
for ((i = 0; i < runs / block; i++)); do
  a=$(now)
  for ((j = 0; j < block; j++)); do /bin/true; done
  b=$(now)
  for ((j = 0; j < block; j++)); do "$sy" -q providers >/dev/null; done
  c=$(now)
  t_true=$((t_true + b - a))
  t_sy=$((t_sy + c - b))
done
runs=$((runs / block * block))
us_true=$((t_true / runs / 1000))
us_sy=$((t_sy / runs / 1000))
ratio=$(awk -v a="$t_sy" -v b="$t_true" 'BEGIN { printf "%.1f", a / b }')
printf '%-36s %10s\n' "command ($runs runs, mean)" "time (us)"
printf '%-36s %10s\n' "/bin/true" "$us_true"
printf '%-36s %10s\n' "switchyard providers ($nprov providers)" "$us_sy"
printf '%-36s %10s\n' "ratio" "$ratio"
