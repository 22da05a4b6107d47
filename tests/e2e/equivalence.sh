#!/usr/bin/env bash
# The equivalence suite: every example flow and a set of seeded random
# DAGs run on the inline runner, the parallel runner with threads and with
# processes, and must write byte-identical sink output. Train + apply of
# the iris example must agree across runners too.
# Run by `make check`; EQUIV_DAGS (default 12) sets how many random DAGs.
# EQUIV_RUNNERS overrides the runner list; a runner named cluster* runs
# under the launcher in EQUIV_MPIRUN (e.g. "mpirun -np 3"; tests/e2e/mpi.sh).
# Sinks write CSV everywhere: mpirun gives ranks a terminal, where the
# stdout sink would otherwise draw a table.
. "$(cd "$(dirname "$0")" && pwd)/common.sh"

# Runner instances under test: inline, threads (4 workers, more than the
# cores, to interleave), processes (3 workers).
cat > runners.ini <<'INI'
[RUNNER.eq_threads]
provider = dask
mode = threads
workers = 4

[RUNNER.eq_procs]
provider = dask
mode = processes
workers = 3
INI
if [ -n "${EQUIV_MPIRUN:-}" ]; then
  printf '\n[RUNNER.cluster]\nprovider = mpi\n\n[RUNNER.cluster_noroot]\nprovider = mpi\nranks_execute_on_root = false\neager_limit = 0\n' >> runners.ini
fi
runners=${EQUIV_RUNNERS:-"inline eq_threads eq_procs"}
# launch RUNNER: the launcher a runner needs (nothing, or mpirun ...)
launch() { case $1 in cluster*) echo "${EQUIV_MPIRUN:-}" ;; esac; }

# compare NAME ARGS...: run `switchyard ARGS` on every runner, outputs equal
compare() {
  local name=$1
  shift
  local first="" r
  for r in $runners; do
    if ! $(launch "$r") "$sy" -q -c runners.ini -o SINK.out.format=csv -R "$r" "$@" \
        > "$name.$r.out" 2> "$name.$r.err"; then
      bad "$name on $r failed: $(head -c 600 "$name.$r.err")"
      return
    fi
    if [ -z "$first" ]; then
      first=$r
      [ -s "$name.$r.out" ] || { bad "$name on $r wrote nothing"; return; }
    elif ! cmp -s "$name.$first.out" "$name.$r.out"; then
      bad "$name: $r output differs from $first"
      return
    fi
  done
  ok
}

compare iris run "$ex/iris/pipeline.flow"
compare cleaning run "$ex/cleaning/pipeline.flow"
"$sy" -q train "$ex/iris/pipeline.flow" --state iris.state || bad "iris train"
compare iris-apply apply "$ex/iris/pipeline.flow" --state iris.state
# train itself on each runner: the state files must be identical
for r in $runners; do
  $(launch "$r") "$sy" -q -c runners.ini -R "$r" train "$ex/iris/pipeline.flow" --state "iris.$r.state" ||
    bad "iris train on $r"
done
same=1; for r in $runners; do cmp -s iris.inline.state "iris.$r.state" || same=0; done; [ $same = 1 ] &&
  ok || bad "iris: trained states differ between runners"

# random DAGs over a table of f64 columns
mkdir -p data
awk 'BEGIN { srand(7); print "a,b,c";
  for (i = 0; i < 60; i++) printf "%.4f,%.4f,%.4f\n", rand() * 10, rand() * 100 - 50, rand() }' > data/points.csv
printf '[FEED.data]\nprovider = csv\npath = data\n' > switchyard.ini
for seed in $(seq 1 "${EQUIV_DAGS:-12}"); do
  nodes=$((5 + (seed * 7) % 36))
  "$top_srcdir/tests/e2e/gen-dag.sh" "$seed" "$nodes" > "dag$seed.flow"
  compare "dag$seed" run "dag$seed.flow"
done

echo "equivalence: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
