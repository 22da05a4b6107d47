#!/bin/sh
# bench/mpi-ab.sh - before/after comparison of runner-mpi, interleaved in
# one run so that both see the same machine load:
#
#   bench/mpi-ab.sh BEFORE ROUNDS [bench/mpi arguments...]
#
# BEFORE is a folder holding a plugins.d (e.g. a copy of the built tree's
# plugins.d from before a change) and a link `bench` to this tree's bench
# folder. Each round runs bench/mpi (see bench/mpi.c) once from this tree
# ("after") and once from BEFORE, alternating which goes first; the table
# gives, per shape (chain, wide, layered: see bench/mpi.c), the median over
# the rounds of each figure, and the load (uptime) at the start and the
# end; with MPI_AB_ROWS=1 it also prints every run's figures.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
before=$(cd "$1" && pwd)
rounds=$2
shift 2
cd "$top"
make -s bench/mpi bench/actor-bench.la plugins-dir > /dev/null
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
load0=$(uptime | sed 's/.*load average: //')
run() { # run TREE LABEL ARGS...
  tree=$1
  label=$2
  shift 2
  # One row per shape: LABEL SHAPE RTT REMOTE INLINE WALL-RATIO, and the
  # CPU us per step of rank 0, rank 1 and inline.
  (cd "$tree" && mpirun -np "${RANKS:-2}" ./bench/mpi "$@") |
    awk -v l="$label" -F'|' '
      $2 ~ /^ *(chain|wide|layered) *$/ {
        gsub(/ /, "", $2)
        printf "%s %s %f %f %f %f %f %f %f\n", l, $2, $4, $5, $6, $9, $10, $11, $12 }' \
      >> "$out/rows"
}
i=0
while [ "$i" -lt "$rounds" ]; do
  if [ $((i % 2)) -eq 0 ]; then
    run "$top" after "$@"
    run "$before" before "$@"
  else
    run "$before" before "$@"
    run "$top" after "$@"
  fi
  i=$((i + 1))
done
load1=$(uptime | sed 's/.*load average: //')
echo "bench/mpi-ab.sh: $rounds rounds of bench/mpi $*"
echo "load at start: $load0; at end: $load1"
echo
echo "| shape   | side   | round trip us | remote step us | inline step us | overhead us | overhead / rtt | wall mpi/inline | cpu rank 0 | cpu rank 1 | cpu inline |"
echo "|---------|--------|---------------|----------------|----------------|-------------|----------------|-----------------|------------|------------|------------|"
# Medians over the rounds; overhead and its ratio are the medians of each
# round's own remote - inline (so not the difference of the two columns).
for sh in chain wide layered; do
  for l in before after; do
    grep -q "^$l $sh " "$out/rows" || continue
    for c in 3 4 5 o r 6 7 8 9; do
      grep "^$l $sh " "$out/rows" | awk -v c="$c" '{
        if (c == "o") v = $4 - $5; else if (c == "r") v = ($4 - $5) / $3;
        else v = $c; print v }' |
        sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
    done | tr '\n' ' ' |
      awk -v l="$l" -v sh="$sh" '{ printf "| %-7s | %-6s | %13.2f | %14.2f | %14.2f | %11.2f | %14.2f | %15.3f | %10.2f | %10.2f | %10.2f |\n",
        sh, l, $1, $2, $3, $4, $5, $6, $7, $8, $9 }'
  done
done
if [ -n "$MPI_AB_ROWS" ]; then
  echo
  echo "every run (side shape rtt remote inline wall-ratio cpu0 cpu1 cpu-inline):"
  cat "$out/rows"
fi
