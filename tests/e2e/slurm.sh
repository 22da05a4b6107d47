#!/usr/bin/env bash
# End-to-end tests of the Slurm runner (providers/runner-slurm, `-R batch`)
# against a real one-node Slurm started for this script
# (tests/e2e/slurm-cluster.sh; skipped, exit 77, where Slurm is not
# installed): the examples and random DAGs give byte-identical output to
# the inline runner, one job per actor step or one per chain, the events
# reach --log, a train commits the same states, and a rerun resumes
# through the cache. Failures, retries, keep_going, Ctrl-C and resources
# are in slurm-fail.sh.
. "$(dirname "$0")/common.sh"
. "$top_srcdir/tests/e2e/slurm-cluster.sh"
slurm_start

# Poll often: the tests wait for short jobs. The jobs start in this folder
# and read this switchyard.ini too.
printf '[RUNNER.batch]\npoll = 0.1s\n[FEED.data]\nprovider = csv\npath = data\n' > switchyard.ini
jobs_so_far() { squeue -h -t all -o %i | wc -l; }
n_pure() { "$sy" exec "$1" --list | awk -F'\t' '$2 == "apply" || $2 == "train"' | wc -l; }

# compare NAME FLOW [batch options...]: inline vs -R batch, each with a
# storage of its own (so that the batch run computes every step).
compare() {
  local name=$1 flow=$2
  shift 2
  "$sy" -q -o "STORAGE.cache.path=$tmp/st-$name-i" run "$flow" > "$name.inline" 2> "$name.ierr" ||
    bad "$name: inline failed: $(cat "$name.ierr")"
  "$sy" -q -o "STORAGE.cache.path=$tmp/st-$name-b" "$@" run "$flow" -R batch \
    --log "$name.jsonl" > "$name.batch" 2> "$name.berr" ||
    bad "$name: batch failed: $(cat "$name.berr")"
  [ -s "$name.inline" ] && same "$name.inline" "$name.batch" "$name: inline vs batch"
}

# iris: a labelled feed, GETs, two trains; one job per actor step.
cp -r "$ex/iris" iris
"$sy" compile iris/pipeline.flow -o iris.prog
before=$(jobs_so_far)
compare iris iris/pipeline.flow
jobs=$(($(jobs_so_far) - before))
want=$(n_pure iris.prog)
[ "$jobs" -eq "$want" ] && ok || bad "iris: $jobs Slurm jobs for $want actor steps"
# every step's DONE reached this process's log, the actors' from the jobs
for s in $(seq 0 $(($("$sy" exec iris.prog --list | wc -l) - 1))); do
  grep -q "\"event\":\"done\",\"step\":$s," iris.jsonl || bad "iris: no DONE of step $s in --log"
done
ok
# the run's folder is gone after a success
[ -z "$(ls "$HOME/.cache/switchyard/slurm")" ] && ok ||
  bad "the run's folder was left: $(ls "$HOME/.cache/switchyard/slurm")"

# granularity = chain: iris's actor steps are one chain (the label they also
# read comes from the feed): one job.
before=$(jobs_so_far)
compare iris-chain iris/pipeline.flow -o RUNNER.batch.granularity=chain
jobs=$(($(jobs_so_far) - before))
[ "$jobs" -eq 1 ] && ok || bad "iris, chain: $jobs Slurm jobs, not 1"

# A rerun resumes through the cache: every result is stored, so the
# runner submits no job at all (by step and by chain), says so at -v, and
# prints the same bytes.
before=$(jobs_so_far)
"$sy" -v -o "STORAGE.cache.path=$tmp/st-iris-b" run iris/pipeline.flow -R batch \
  --log again.jsonl > again.out 2> again.err || bad "rerun: $(cat again.err)"
same iris.inline again.out "rerun vs inline"
cached=$(grep -c '"event":"cached"' again.jsonl)
[ "$cached" -ge "$want" ] && ok || bad "rerun: $cached steps cached, expected at least $want"
grep -q "no job for step.*in the storage" again.err && ok || bad "rerun: no note at -v: $(cat again.err)"
"$sy" -q -o "STORAGE.cache.path=$tmp/st-iris-chain-b" -o RUNNER.batch.granularity=chain \
  run iris/pipeline.flow -R batch > again-chain.out 2> again.err || bad "chain rerun: $(cat again.err)"
same iris.inline again-chain.out "chain rerun vs inline"
jobs=$(($(jobs_so_far) - before))
[ "$jobs" -eq 0 ] && ok || bad "rerun through the cache: $jobs Slurm jobs, not 0"
# --cache write recomputes: the jobs are submitted again.
before=$(jobs_so_far)
"$sy" -q -o "STORAGE.cache.path=$tmp/st-iris-chain-b" -o RUNNER.batch.granularity=chain \
  run iris/pipeline.flow -R batch --cache write > again-w.out 2> again.err || bad "write rerun: $(cat again.err)"
same iris.inline again-w.out "write rerun vs inline"
jobs=$(($(jobs_so_far) - before))
[ "$jobs" -eq 1 ] && ok || bad "rerun with --cache write: $jobs Slurm jobs, not 1"

# sys.exec steps (the cleaning example) run in the jobs.
compare cleaning "$ex/cleaning/pipeline.flow"

# train: the commit runs here and writes the same states as inline.
"$sy" -q -o "STORAGE.cache.path=$tmp/st-tr-i" train iris/pipeline.flow --state inline.state ||
  bad "inline train"
"$sy" -q -o "STORAGE.cache.path=$tmp/st-tr-b" train iris/pipeline.flow -R batch \
  --state batch.state 2> train.err || bad "batch train: $(cat train.err)"
same inline.state batch.state "train states, inline vs batch"

# The registry: a release trained and applied by batch (by chain: one job
# each); the commit, run here, reports its generation as inline does.
"$sy" -q release iris/pipeline.flow --version 1.0 || bad "release"
expect 0 "committed generation 1 of iris:1.0" -- "$sy" -o RUNNER.batch.granularity=chain \
  -o "STORAGE.cache.path=$tmp/st-reg" train iris -R batch
"$sy" -q apply iris > apply.inline 2> apply.err || bad "inline apply: $(cat apply.err)"
"$sy" -q -o RUNNER.batch.granularity=chain -o "STORAGE.cache.path=$tmp/st-reg" \
  apply iris -R batch > apply.batch 2> apply.err || bad "batch apply: $(cat apply.err)"
[ -s apply.inline ] && same apply.inline apply.batch "apply iris, inline vs batch"

# Random DAGs (tests/e2e/gen-dag.sh): parallel branches, joins; by step
# and by chain.
mkdir -p data
awk 'BEGIN { srand(7); print "a,b,c";
  for (i = 0; i < 60; i++) printf "%.4f,%.4f,%.4f\n", rand() * 10, rand() * 100 - 50, rand() }' > data/points.csv
for seed in 3 5; do
  "$top_srcdir/tests/e2e/gen-dag.sh" "$seed" 6 > "dag$seed.flow"
  compare "dag$seed" "dag$seed.flow"
done
compare dag5-chain dag5.flow -o RUNNER.batch.granularity=chain

# The README's commands ("### Slurm"), verbatim, from a tree-like folder.
awk '
  /^### /                       { in_s = ($0 == "### Slurm"); next }
  /^## /                        { in_s = 0 }
  in_s && /^```sh[[:space:]]*$/ { in_sh = 1; next }
  in_sh && /^```/               { in_sh = 0; next }
  in_s && in_sh                 { print }
' "$top_srcdir/README.md" | sed -e 's/[[:space:]]\{1,\}#[^"'\'']*$//' | grep -v '^$' > readme.txt
[ "$(wc -l < readme.txt)" -ge 3 ] && ok || bad "README section has $(wc -l < readme.txt) commands"
mkdir tree
printf '#!/bin/sh\nexec "%s" "$@"\n' "$sy" > tree/switchyard
chmod +x tree/switchyard
ln -s "$top_srcdir/examples" tree/examples
before=$(jobs_so_far)
while IFS= read -r line; do
  (cd tree && bash -c "$line") > readme.out 2>&1 && ok || bad "README: '$line': $(head -c 400 readme.out)"
done < readme.txt
# iris/resources.flow by chain: one job with the model's 2 cpus and 1G,
# and the sum of its steps' timeouts (10m twice, 1h30m twice).
show=$(scontrol show job "$(squeue -h -t all -o '%i %j' | awk '$2 == "iris:scale" { print $1 }' | tail -1)")
for want in "CPUs/Task=2" "MinMemoryNode=1G" "TimeLimit=03:20:00"; do
  grep -qF "$want" <<<"$show" && ok || bad "README chain: no $want in: $show"
done
grep -q '"event":"done"' tree/batch.jsonl && ok || bad "README: no --log"

# What the runner cannot work with is refused before any job, exit 2.
expect 2 "cache is off.*values move between the Slurm jobs through the storage" -- \
  "$sy" run iris/pipeline.flow -R batch --cache off
# Without Slurm's commands: a clear error, exit 2.
mkdir -p nobin
# (A storage of its own: with every result stored, no sbatch is needed.)
expect 2 "cannot run sbatch.*Slurm's commands" -- \
  env PATH="$tmp/nobin" "$sy" -o "STORAGE.cache.path=$tmp/st-nobin" run iris/pipeline.flow -R batch
[ -z "$(squeue -h -o %i)" ] && ok || bad "jobs left in squeue: $(squeue -h)"

echo "slurm.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
