#!/usr/bin/env bash
# End-to-end test of runner-mpi's message batching (issue 16 item 4): on 2
# ranks a chain of actor steps is sent to rank 1 in a few RUN messages and
# answered in a few DONE messages, not one of each per step (the `stats`
# option makes rank 0 count them); with prefetch = 0 every step still has
# its own pair. Failures inside a batch keep their meaning: fail-fast
# names the failing step, keep_going skips what is downstream, a retry
# that succeeds gives inline's output.
if [ -z "${MPIRUN:-}" ] || ! command -v "$MPIRUN" > /dev/null; then
  echo "mpi-batch: mpirun not found (apt-get install openmpi-bin, or run ./quickstart)"
  exit 1
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_mpi_yield_when_idle=1
if [ -n "${ASAN_OPTIONS:-}" ]; then
  export ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0"
fi
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
trap 'rm -rf "$tmp"' EXIT

cd "$tmp"
# bench.spin (bench/actor-bench.c, built with the tree): steps of a known
# length, since steps under 10 us report at once, unbatched.
mkdir -m 0755 plug
install -m 0755 "$top_builddir/bench/.libs/actor-bench.so" plug/
export SWITCHYARD_PLUGIN_PATH=$tmp/plug
mkdir -p data
printf 'a,b\n1,2\n3,4\n' > data/points.csv
cat > switchyard.ini <<'INI'
[FEED.data]
provider = csv
path = data

[RUNNER.cluster]
provider = mpi
stats = true
INI
# chain N [FAILING]: a chain of N bench.spin steps of 200 us; step FAILING
# is a sys.exec that fails once (until the file `flaked` exists).
chain() {
  {
    echo 'name = "chain"; source = { feed = "data"; table = "points"; };'
    echo 'actors = ('
    for i in $(seq 1 "$1"); do
      step="actor = \"bench.spin\"; params = { us = 200; };"
      [ "$i" = "${2:-}" ] && step="actor = \"sys.exec\"; params = { command = \"if [ -e flaked ]; then cat; else touch flaked; exit 3; fi\"; };"
      sep=","
      [ "$i" = "$1" ] && sep=""
      echo "  { id = \"s$i\"; $step }$sep"
    done
    echo '); sink = "out";'
  } > chain.flow
}
# counts FILE: "steps runs dones" from rank 0's stats line.
counts() {
  sed -n 's/.* \([0-9]*\) steps ran on other ranks, sent in \([0-9]*\) RUN messages and answered in \([0-9]*\) DONE messages.*/\1 \2 \3/p' "$1"
}

# 1. A chain of 20 on 2 ranks, default prefetch (64): at most half as many
# RUN and DONE messages as steps (each step its own pair before), same
# output.
chain 20
"$sy" -q run chain.flow --cache off > chain.inline 2> /dev/null
if timeout 120 "$MPIRUN" -np 2 "$sy" -q -o SINK.out.format=csv run chain.flow -R cluster --cache off \
  > chain.out 2> chain.err && cmp -s chain.inline chain.out; then
  read -r steps runs dones <<< "$(counts chain.err)"
  if [ "${steps:-0}" -eq 20 ] && [ "$runs" -le 10 ] && [ "$dones" -le 10 ]; then ok; else
    bad "chain of 20: want 20 steps in <= 10 RUN and <= 10 DONE messages: $(cat chain.err)"; fi
else
  bad "chain of 20: $(head -c 600 chain.err)"
fi

# 2. prefetch = 0: one step at a time, so one RUN and one DONE per step.
if timeout 120 "$MPIRUN" -np 2 "$sy" -q -o RUNNER.cluster.prefetch=0 \
  -o SINK.out.format=csv run chain.flow -R cluster --cache off \
  > chain0.out 2> chain0.err && cmp -s chain.inline chain0.out &&
  [ "$(counts chain0.err)" = "20 20 20" ]; then ok; else
  bad "prefetch 0: want '20 20 20', got '$(counts chain0.err)': $(head -c 600 chain0.err)"; fi

# 3. A step failing in the middle of a batch.
chain 20 7
rm -f flaked
timeout 120 "$MPIRUN" -np 2 "$sy" -o RUNNER.cluster.prefetch=16 run chain.flow \
  -R cluster --cache off > /dev/null 2> fail.err
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "s7 (sys.exec)) on rank 1" fail.err &&
  ! grep -q "s8 (bench.spin)" fail.err; then ok; else
  bad "fail-fast in a batch: rc=$rc $(head -c 600 fail.err)"; fi
rm -f flaked
timeout 120 "$MPIRUN" -np 2 "$sy" -o RUNNER.cluster.prefetch=16 \
  -o RUNNER.cluster.keep_going=true run chain.flow -R cluster --cache off \
  > /dev/null 2> kg.err
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "(1 step failed, 14 skipped)" kg.err; then ok; else
  bad "keep_going in a batch: rc=$rc $(head -c 600 kg.err)"; fi
rm -f flaked
if timeout 120 "$MPIRUN" -np 2 "$sy" -q -o RUNNER.cluster.prefetch=16 \
  -o RUNNER.cluster.retries=1 -o RUNNER.cluster.backoff=0 -o SINK.out.format=csv \
  run chain.flow -R cluster --cache off > retry.out 2> retry.err &&
  cmp -s chain.inline retry.out; then ok; else
  bad "retry in a batch: $(head -c 600 retry.err)"; fi

# 4. A fan-out on 3 ranks: past 4 queued steps only a chain's links are
# prefetched, so of 8 branches of one step at most 5 run on its rank (it
# and 4 queued) and rank 2, idle, takes the others as they become ready.
{
  echo 'name = "fan"; source = { feed = "data"; table = "points"; };'
  echo 'actors = ( { id = "root"; actor = "std.head"; params = { n = 10; }; }'
  for i in 1 2 3 4 5 6 7 8; do
    echo ", { id = \"b$i\"; actor = \"sys.exec\"; inputs = [\"root\"]; params = { command = \"sleep 0.1; cat\"; }; }"
  done
  echo ', { id = "all"; actor = "std.concat"; params = { axis = "rows"; }; inputs = ["b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8"]; }'
  echo '); sink = "out";'
} > fan.flow
if timeout 120 "$MPIRUN" -np 3 "$sy" -q -o RUNNER.cluster.ranks_execute_on_root=false \
  -o SINK.out.format=csv run fan.flow -R cluster --cache off --log fan.jsonl \
  > fan.out 2> fan.err; then
  most=$(jq -r 'select(.event == "done" and (.label | test("^apply b[0-9] "))) | .worker' fan.jsonl |
    sort | uniq -c | sort -rn | awk 'NR == 1 { print $1 }')
  if [ "${most:-9}" -le 5 ]; then ok; else
    bad "fan-out: $most of 8 branches ran on one rank: $(jq -c 'select(.event == "done")' fan.jsonl | head -c 800)"; fi
else
  bad "fan-out: $(head -c 600 fan.err)"
fi

# 5. A wide graph on 2 ranks (issue 16, round 3): 20 branches each read
# the source, and one step reads them all. With no idle rank the ready
# branches queue behind the busy one (before: one RUN per branch, each
# sent only once rank 1 had reported the one before), and a branch's DONE
# waits while a sibling the fan-in also reads is queued there. Same
# output as inline.
{
  echo 'name = "wide"; source = { feed = "data"; table = "points"; };'
  echo 'actors = ('
  for i in $(seq 1 20); do
    echo "  { id = \"b$i\"; actor = \"bench.spin\"; inputs = [\"source\"]; params = { us = 200; }; },"
  done
  printf '  { id = "all"; actor = "std.concat"; params = { axis = "rows"; }; inputs = ['
  for i in $(seq 1 20); do printf '"b%s"%s' "$i" "$([ "$i" = 20 ] || echo ", ")"; done
  echo ']; }'
  echo '); sink = "out";'
} > wide.flow
"$sy" -q run wide.flow --cache off > wide.inline 2> /dev/null
if timeout 120 "$MPIRUN" -np 2 "$sy" -q -o RUNNER.cluster.ranks_execute_on_root=false \
  -o SINK.out.format=csv run wide.flow -R cluster --cache off > wide.out 2> wide.err &&
  cmp -s wide.inline wide.out; then
  read -r steps runs dones <<< "$(counts wide.err)"
  if [ "${steps:-0}" -eq 21 ] && [ "$runs" -le 10 ] && [ "$dones" -le 10 ]; then ok; else
    bad "wide: want 21 steps in <= 10 RUN and <= 10 DONE messages: $(cat wide.err)"; fi
else
  bad "wide: $(head -c 600 wide.err)"
fi

# 6. Long steps report as they end: a DONE is held back at most 2 ms, so
# a chain of 8 steps of 5 ms is answered in 8 DONE messages (before: 2,
# rank 0 hearing of the first 7 only when the last was done).
{
  echo 'name = "slow"; source = { feed = "data"; table = "points"; };'
  echo 'actors = ('
  for i in $(seq 1 8); do
    echo "  { id = \"s$i\"; actor = \"bench.spin\"; params = { us = 5000; }; }$([ "$i" = 8 ] || echo ,)"
  done
  echo '); sink = "out";'
} > slow.flow
if timeout 120 "$MPIRUN" -np 2 "$sy" -q -o SINK.out.format=csv run slow.flow -R cluster \
  --cache off > slow.out 2> slow.err; then
  read -r steps runs dones <<< "$(counts slow.err)"
  if [ "${steps:-0}" -eq 8 ] && [ "$dones" -eq 8 ]; then ok; else
    bad "slow chain: want 8 steps in 8 DONE messages: $(cat slow.err)"; fi
else
  bad "slow chain: $(head -c 600 slow.err)"
fi

# 7. A layered graph on 2 ranks, rank 1 the only executor (issue 16,
# round 4): 6 layers of 8 steps, each after the first reading 2 of the
# layer before. Rank 1 holds a step's DONE while its queue is deep even
# when the readers are not queued yet (they have no other rank to run
# on), and the next layer is prefetched past 4 steps: 48 steps answered
# in at most 16 DONE messages (before: one DONE per step once a layer's
# readers were not queued, 35-40 here). Same output as inline.
{
  echo 'name = "layered"; source = { feed = "data"; table = "points"; };'
  echo 'actors = ('
  for l in 1 2 3 4 5 6; do
    for i in 1 2 3 4 5 6 7 8; do
      if [ "$l" = 1 ]; then ins='"source"'; else
        ins="\"l$((l - 1))n$i\", \"l$((l - 1))n$((i % 8 + 1))\""; fi
      echo "  { id = \"l${l}n$i\"; actor = \"bench.spin\"; inputs = [$ins]; params = { us = 200; }; },"
    done
  done
  printf '  { id = "all"; actor = "std.concat"; params = { axis = "rows"; }; inputs = ['
  for i in 1 2 3 4 5 6 7 8; do printf '"l6n%s"%s' "$i" "$([ "$i" = 8 ] || echo ", ")"; done
  echo ']; }'
  echo '); sink = "out";'
} > layered.flow
"$sy" -q run layered.flow --cache off > layered.inline 2> /dev/null
if timeout 120 "$MPIRUN" -np 2 "$sy" -q -o RUNNER.cluster.ranks_execute_on_root=false \
  -o SINK.out.format=csv run layered.flow -R cluster --cache off > layered.out 2> layered.err &&
  cmp -s layered.inline layered.out; then
  read -r steps runs dones <<< "$(counts layered.err)"
  if [ "${steps:-0}" -eq 49 ] && [ "$dones" -le 16 ]; then ok; else
    bad "layered: want 49 steps in <= 16 DONE messages: $(cat layered.err)"; fi
else
  bad "layered: $(head -c 600 layered.err)"
fi

echo "mpi-batch: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
