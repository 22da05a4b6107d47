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
# gives the median over the rounds of each figure, and the load (uptime)
# at the start and the end.
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
  (cd "$tree" && mpirun -np "${RANKS:-2}" ./bench/mpi "$@") |
    awk -v l="$label" '
      /raw MPI round trip/ { split($0, f, "|"); rtt = f[3] + 0 }
      /runner-mpi remote step/ { split($0, f, "|"); step = f[3] + 0 }
      /runner-inline step/ { split($0, f, "|"); inl = f[3] + 0 }
      /^chain of/ { for (i = NF; i > 0; i--) if ($i == "=") ratio = $(i + 1) + 0 }
      END { printf "%s %f %f %f %f\n", l, rtt, step, inl, ratio }' \
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
echo "|        | round trip us | remote step us | inline step us | overhead us | overhead / rtt | chain mpi/inline |"
echo "|--------|---------------|----------------|----------------|-------------|----------------|------------------|"
for l in before after; do
  for c in 2 3 4 5 6 7; do
    grep "^$l " "$out/rows" | awk -v c="$c" '{
      if (c == 6) v = $3 - $4; else if (c == 7) v = ($3 - $4) / $2;
      else if (c == 6) v = 0; else v = $c; if (c == 5) v = $5; print v }' |
      sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
  done | tr '\n' ' ' |
    awk -v l="$l" '{ printf "| %-6s | %13.2f | %14.2f | %14.2f | %11.2f | %14.2f | %16.3f |\n",
      l, $1, $2, $3, $5, $6, $4 }'
done
