#!/usr/bin/env bash
# End-to-end tests of runner-mpi under mpirun ($MPIRUN, found by configure):
# the equivalence suite (every example and random DAGs) on 3 ranks, with and
# without the root executing steps, must write byte-identical sink output to
# inline; a failing step, a killed rank and ranks that compiled different
# programs each end the job with a clear error, and nothing hangs (every
# launch is bounded by `timeout`).
if [ -z "${MPIRUN:-}" ] || ! command -v "$MPIRUN" > /dev/null; then
  echo "mpi: mpirun not found (apt-get install openmpi-bin, or run ./quickstart)"
  exit 1
fi
# As root (CI containers) Open MPI wants both of these; more ranks than
# cores needs oversubscription, and then idle ranks must yield the CPU.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_mpi_yield_when_idle=1
# Under tests/run-asan.sh: memory errors still abort, but leak detection is
# off for MPI jobs. Open MPI leaks at exit from components it has already
# unloaded, which LeakSanitizer can neither attribute nor suppress.
if [ -n "${ASAN_OPTIONS:-}" ]; then
  export ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0"
fi
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
trap 'pkill -f "sleep 4747" 2> /dev/null; rm -rf "$tmp"' EXIT

# 1. Equivalence on 3 ranks (the runner list includes inline as reference).
if EQUIV_MPIRUN="timeout 120 $MPIRUN -np 3" EQUIV_DAGS=${EQUIV_DAGS:-8} \
  EQUIV_RUNNERS="inline cluster cluster_noroot" \
  "$top_srcdir/tests/e2e/equivalence.sh" > "$tmp/equiv.log" 2>&1; then
  ok
else
  bad "equivalence under $MPIRUN -np 3: $(tail -n 5 "$tmp/equiv.log")"
fi

cd "$tmp"
mkdir -p data
printf 'a,b\n1,2\n3,4\n' > data/points.csv
cat > switchyard.ini <<'INI'
[FEED.data]
provider = csv
path = data

[RUNNER.cluster]
provider = mpi
INI
flow() { # flow NAME COMMAND: a one-step sys.exec flow
  cat > "$1.flow" <<EOF
name   = "$1";
source = { feed = "data"; table = "points"; };
actors = ( { id = "$1"; actor = "sys.exec"; params = { command = "$2"; }; } );
sink   = "out";
EOF
}

# 2. One rank (rank 0 alone runs everything).
flow pass "cat"
"$sy" -q run pass.flow > one.inline 2> /dev/null
if timeout 60 "$MPIRUN" -np 1 "$sy" -q -o SINK.out.format=csv run pass.flow -R cluster \
  > one.out 2> one.err && cmp -s one.inline one.out; then ok; else
  bad "one rank: $(head -c 400 one.err)"; fi

# 2b. No format set: under mpirun the stdout sink writes CSV, not the table
# that rank 0's stdout (mpirun's pseudo-terminal) would get, so `mpirun
# ... > out.csv` holds the same bytes as a plain run's `> out.csv`.
if timeout 60 "$MPIRUN" -np 3 "$sy" -q run pass.flow -R cluster \
  > three.out 2> three.err && cmp -s one.inline three.out; then ok; else
  bad "mpirun -np 3 without a format: $(head -c 300 three.out) $(head -c 300 three.err)"; fi

# 3. A failing step: exit status 1, the step and its rank named, no hang.
flow broken "exit 3"
timeout 60 "$MPIRUN" -np 3 "$sy" run broken.flow -R cluster > /dev/null 2> fail.err
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "broken (sys.exec)) on rank" fail.err; then ok; else
  bad "failing step: rc=$rc $(head -c 600 fail.err)"; fi

# 3b. A chain on one rank, where later steps are queued (prefetched)
# behind a failing one: fail-fast names the failing step, not a queued
# one; keep_going skips what is downstream; a retry that succeeds lets the
# queued steps run after all, with the same output as inline.
cat > chain.flow <<'EOF'
name   = "chain";
source = { feed = "data"; table = "points"; };
actors = (
  { id = "first"; actor = "sys.exec"; params = { command = "cat"; }; },
  { id = "flaky"; actor = "sys.exec";
    params = { command = "if [ -e flaked ]; then cat; else touch flaked; exit 3; fi"; }; },
  { id = "third"; actor = "sys.exec"; params = { command = "cat"; }; },
  { id = "last";  actor = "sys.exec"; params = { command = "cat"; }; }
);
sink   = "out";
EOF
rm -f flaked
timeout 60 "$MPIRUN" -np 2 "$sy" run chain.flow -R cluster --cache off > /dev/null 2> chain.err
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "flaky (sys.exec)) on rank" chain.err &&
  ! grep -q "third\|last" chain.err; then ok; else
  bad "chain fail-fast: rc=$rc $(head -c 600 chain.err)"; fi
rm -f flaked
timeout 60 "$MPIRUN" -np 2 "$sy" -o RUNNER.cluster.keep_going=true run chain.flow -R cluster \
  --cache off > /dev/null 2> chain-kg.err
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "(1 step failed, 3 skipped)" chain-kg.err; then ok; else
  bad "chain keep_going: rc=$rc $(head -c 600 chain-kg.err)"; fi
touch flaked # the flaky step passes on inline
"$sy" -q run chain.flow --cache off > chain.inline 2> /dev/null
rm -f flaked
if timeout 60 "$MPIRUN" -np 2 "$sy" -q -o RUNNER.cluster.retries=1 -o RUNNER.cluster.backoff=0 \
  -o SINK.out.format=csv run chain.flow -R cluster --cache off --log chain.jsonl \
  > chain.out 2> chain-retry.err && cmp -s chain.out chain.inline &&
  [ "$(jq -r 'select(.event == "failed") | .step' chain.jsonl | tr '\n' ' ')" = "2 " ]; then ok; else
  bad "chain retry: $(head -c 600 chain-retry.err)"; fi

# 4. A rank killed while it runs a step: the job ends (no hang) with an
# error, and rank 0 names the step that was lost.
flow nap "exec sleep 4747"
timeout 90 "$MPIRUN" -np 3 "$sy" run nap.flow -R cluster > kill.out 2> kill.err &
job=$!
victim=
for _ in $(seq 1 300); do
  sleeper=$(pgrep -f "sleep 4747" | head -n 1)
  if [ -n "$sleeper" ]; then
    victim=$(ps -o ppid= -p "$sleeper" | tr -d ' ')
    break
  fi
  sleep 0.1
done
if [ -z "$victim" ]; then
  bad "kill: the step never started"
  kill "$job" 2> /dev/null
  wait "$job"
else
  kill -9 "$victim"
  wait "$job"
  rc=$?
  # Open MPI's mpirun sends the survivors SIGTERM, and rank 0 names the
  # lost step; MPICH's Hydra SIGKILLs them, so only its own report is left.
  if "$MPIRUN" --version 2>&1 | grep -q "Open MPI"; then
    named=$(grep -c "nap (sys.exec)) on rank" kill.err)
  else
    named=$(cat kill.out kill.err | grep -ci "killed\|signal 9")
  fi
  if [ $rc -ne 0 ] && [ $rc -ne 124 ] && [ "$named" -gt 0 ]; then ok; else
    bad "killed rank: rc=$rc $(cat kill.out kill.err | head -c 800)"; fi
fi
pkill -f "sleep 4747" 2> /dev/null

# 5. Ranks that compiled different programs are refused by name.
flow other "cat; true"
timeout 60 "$MPIRUN" -np 1 "$sy" run pass.flow -R cluster : -np 1 "$sy" run other.flow -R cluster \
  > /dev/null 2> mismatch.err
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "rank 1 compiled a different program" mismatch.err; then ok; else
  bad "different programs: rc=$rc $(head -c 600 mismatch.err)"; fi

# 7. Placement: iris's actor steps form a chain, each reading the state
# or table the step before made; they all run where those values are (one
# rank, not rank 0, which has other ranks idle), so nothing moves.
printf '[RUNNER.cluster]\nprovider = mpi\n' > cluster.ini
if timeout 60 "$MPIRUN" -np 3 "$sy" -q -c cluster.ini -o SINK.out.format=csv \
  run "$top_srcdir/examples/iris/pipeline.flow" -R cluster --log iris.jsonl > /dev/null 2> iris.err; then
  where=$(jq -r 'select(.event == "done" and (.label | test("^(train|apply) "))) | .worker' iris.jsonl | sort -u)
  steps=$(jq -r 'select(.event == "done" and (.label | test("^(train|apply) "))) | .step' iris.jsonl | wc -l)
  if [ "$steps" -eq 4 ] && [ "$(echo "$where" | wc -l)" -eq 1 ] && [ "$where" != 0 ]; then ok; else
    bad "placement: $steps actor steps ran on ranks: $(echo $where)"; fi
else
  bad "iris with --log: $(head -c 400 iris.err)"
fi

# 6. Without mpirun (a singleton), the runner still runs the flow alone.
if timeout 60 "$sy" -q -o SINK.out.format=csv run pass.flow -R cluster > single.out 2> single.err &&
  cmp -s one.inline single.out; then ok; else bad "singleton: $(head -c 400 single.err)"; fi

echo "mpi: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
