#!/usr/bin/env bash
# End-to-end tests of the Slurm runner (`-R batch`) when things go wrong,
# and of what it asks Slurm for, against a real one-node Slurm started
# for this script (tests/e2e/slurm-cluster.sh; exit 77 without Slurm): a
# failing step shows its name and the job's stderr (exit 1); a flaky step
# passes after a resubmission (the runner's retries, or the node's own);
# keep_going runs what does not need the failure and skips the rest;
# fail-fast and Ctrl-C leave no job in squeue; a node's resources become
# the job's cpus, memory, GPU and time limit in `scontrol show job`, and a
# chain asking for them is one job.
. "$(dirname "$0")/common.sh"
. "$top_srcdir/tests/e2e/slurm-cluster.sh"
slurm_start

mkdir -p data
printf 'x,y\n1,2\n3,4\n' > data/points.csv
cat > switchyard.ini <<'INI'
[RUNNER.batch]
poll = 0.1s
backoff = 0.1s
[FEED.data]
provider = csv
path = data
[SINK.res]
provider = csv
path = res.csv
INI
queue_empty() { # queue_empty WHAT: no job of ours pending or running
  local q
  q=$(squeue -h -o '%i %T %j')
  [ -z "$q" ] && ok || bad "$1: jobs left in squeue: $q"
}
job_named() { squeue -h -t all -o '%i %j' | awk -v n="$1" '$2 == n { print $1 }' | tail -1; }

# kg.flow: "bad" fails (its command is $1); "dep" needs it, "ind" does not.
kg_flow() {
  cat > kg.flow <<FLOW
name = "kg";
source = { feed = "data"; table = "points"; };
actors = (
  { id = "bad"; actor = "sys.exec"; inputs = ["source"]; params = { command = "$1"; }; },
  { id = "dep"; actor = "std.head"; inputs = ["bad"]; },
  { id = "ind"; actor = "sys.exec"; inputs = ["source"]; params = { command = "touch ind.ran; cat"; }; },
  { id = "all"; actor = "std.concat"; inputs = ["dep", "ind"]; params = { axis = "rows"; }; }
);
sink = "res";
FLOW
}

# A failing step: its name, its error and the job's stderr, exit 1.
kg_flow 'echo boom-on-stderr >&2; exit 3'
out=$("$sy" run kg.flow -R batch 2>&1)
rc=$?
[ "$rc" -eq 1 ] && ok || bad "a failing step: exit $rc, not 1: $out"
grep -q "step [0-9]* (apply bad (sys.exec))" <<<"$out" && ok || bad "the failure does not name the step: $out"
grep -q "boom-on-stderr" <<<"$out" && ok || bad "the job's stderr is not shown: $out"
grep -q "Slurm job [0-9]*" <<<"$out" && ok || bad "the Slurm job is not named: $out"
# fail-fast: what waited for the failure was cancelled, nothing is left
queue_empty "fail-fast"
kept=$(sed -n 's/.*the jobs. files are kept in \(.*\))$/\1/p' <<<"$out")
[ -n "$kept" ] && [ -e "$kept/program.syp" ] && ok || bad "the failed run's folder is not kept: $out"

# keep_going: ind runs, dep, all and the sink are skipped.
rm -f ind.ran
expect 1 "\(1 step failed, 3 skipped\)" -- "$sy" -o RUNNER.batch.keep_going=true \
  -o "STORAGE.cache.path=$tmp/st-kg" run kg.flow -R batch
[ -e ind.ran ] && ok || bad "keep_going: the independent step did not run"
queue_empty "keep_going"

# A flaky step passes on its second job (the runner's retries), and its
# RETRIED event reaches --log.
kg_flow 'if [ -e flaked ]; then cat; else touch flaked; exit 3; fi'
expect 0 "" -- "$sy" -q -o RUNNER.batch.retries=1 -o "STORAGE.cache.path=$tmp/st-r1" \
  run kg.flow -R batch --log retry.jsonl
[ -e flaked ] && [ -s res.csv ] && ok || bad "the retried run wrote no output"
grep -q '"event":"retried"' retry.jsonl && ok || bad "no RETRIED event: $(cat retry.jsonl)"
[ "$(job_named kg:bad | wc -l)" -ge 1 ] && [ "$(squeue -h -t all -o %j | grep -c '^kg:bad$')" -ge 2 ] &&
  ok || bad "the flaky step was not submitted twice: $(squeue -h -t all -o '%i %j %T')"
# The node's own retries override the runner's (0 here).
rm -f flaked
sed -i 's/params = { command = "if/retries = 1; params = { command = "if/' kg.flow
expect 0 "" -- "$sy" -q -o "STORAGE.cache.path=$tmp/st-r2" run kg.flow -R batch
[ -e flaked ] && ok || bad "node retries: the flaky step did not run"

# Ctrl-C: every job of the run is cancelled, none is left in squeue.
cat > slow.flow <<'FLOW'
name = "slow";
source = { feed = "data"; table = "points"; };
actors = (
  { id = "nap"; actor = "sys.exec"; params = { command = "sleep 60; cat"; }; },
  { id = "after"; actor = "std.head"; }
);
sink = "res";
FLOW
"$sy" -q -o "STORAGE.cache.path=$tmp/st-slow" run slow.flow -R batch > slow.out 2> slow.err &
pid=$!
for _ in $(seq 200); do
  [ "$(squeue -h -t running -o %j | grep -c '^slow:nap$')" -eq 1 ] && break
  sleep 0.1
done
[ "$(squeue -h -o %j | grep -c '^slow:')" -eq 2 ] && ok ||
  bad "Ctrl-C: expected the two jobs in squeue: $(squeue -h -o '%i %j %T')"
t0=$(date +%s)
kill -INT "$pid"
wait "$pid"
rc=$?
[ "$rc" -ne 0 ] && ok || bad "Ctrl-C: exit 0"
[ $(($(date +%s) - t0)) -lt 30 ] && ok || bad "Ctrl-C took $(($(date +%s) - t0)) s"
grep -q "cancel" slow.err && ok || bad "Ctrl-C: no word of the cancel: $(cat slow.err)"
queue_empty "Ctrl-C"

# Resources: a node's cpus, memory, GPUs and timeout are the job's.
cat > res.flow <<'FLOW'
name = "res";
source = { feed = "data"; table = "points"; };
actors = (
  { id = "model"; actor = "std.head";
    resources = { cpus = 2; memory = "100M"; gpus = 1; }; timeout = "5m"; }
);
sink = "res";
FLOW
"$sy" -q -o "STORAGE.cache.path=$tmp/st-res" run res.flow -R batch 2> res.err ||
  bad "resources: $(cat res.err)"
show=$(scontrol show job "$(job_named res:model)")
for want in "CPUs/Task=2" "MinMemoryNode=100M" "TimeLimit=00:05:00" "gres:gpu:1"; do
  grep -qF "$want" <<<"$show" && ok || bad "resources: no $want in: $show"
done
# A chain of three steps is one job: the most cpus, the sum of the times.
cat > chain.flow <<'FLOW'
name = "chain";
source = { feed = "data"; table = "points"; };
defaults = { timeout = "1m"; };
actors = (
  { id = "a"; actor = "std.head"; },
  { id = "b"; actor = "std.head"; resources = { cpus = 2; }; },
  { id = "c"; actor = "std.head"; }
);
sink = "res";
FLOW
expect 0 "" -- "$sy" -q -o RUNNER.batch.granularity=chain -o "STORAGE.cache.path=$tmp/st-ch" \
  run chain.flow -R batch
[ "$(squeue -h -t all -o %j | grep -c '^chain:')" -eq 1 ] && ok ||
  bad "chain: not one job: $(squeue -h -t all -o '%i %j')"
show=$(scontrol show job "$(job_named chain:a)")
for want in "CPUs/Task=2" "TimeLimit=00:03:00"; do
  grep -qF "$want" <<<"$show" && ok || bad "chain resources: no $want in: $show"
done

# The jobs' notes reach this process (-v prints them), as inline's do.
mkdir -p text
printf 'x,name\n1,a\n3,b\n' > text/points.csv
cat > note.flow <<'FLOW'
name = "note";
source = { feed = "data"; table = "points"; };
actors = ( { id = "sc"; actor = "std.scaler"; } );
FLOW
expect 0 "note: step [0-9]+ \(train sc \(std.scaler\)\): std.scaler: column 'name' is text" -- \
  "$sy" -v -o FEED.data.path=text -o RUNNER.batch.granularity=chain \
  -o "STORAGE.cache.path=$tmp/st-note" run note.flow -R batch

echo "slurm-fail.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
