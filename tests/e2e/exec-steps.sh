#!/usr/bin/env bash
# `switchyard exec PROGRAM --step N,M,...`: several steps in one process,
# in the order given, through the storage (what one Slurm job of a chain
# runs, providers/runner-slurm); the first failure ends it; bad lists are
# usage errors (exit 2).
. "$(dirname "$0")/common.sh"
cp -r "$ex/iris" iris
"$sy" -q run iris/pipeline.flow > run.csv || bad "run"
"$sy" compile iris/pipeline.flow -o iris.prog || bad "compile"
n=$("$sy" exec iris.prog --list | wc -l)
all=$(seq -s, 0 $((n - 1)))
# every step at once, in a fresh storage: the sink's output is run's
"$sy" -q -o "STORAGE.cache.path=$tmp/one" exec iris.prog --step "$all" \
  --log all.jsonl > all.csv || bad "exec --step $all"
same run.csv all.csv "exec --step $all vs run"
[ "$(grep -c '"event":"started"' all.jsonl)" -eq "$n" ] && ok ||
  bad "exec --step $all did not start $n steps: $(cat all.jsonl)"
# out of order: the first step whose input is missing ends it (exit 2)
expect 2 "step 3 .*is not in the storage" -- "$sy" -o "STORAGE.cache.path=$tmp/two" \
  exec iris.prog --step 0,3,1
for b in 1,x 1, ,1 1,,2 -1 '1 2'; do
  expect 2 "--step takes a step number.*several separated by commas, not '$b'" -- \
    "$sy" exec iris.prog --step "$b"
done
expect 2 "step $n is out of range" -- "$sy" exec iris.prog --step "0,$n"
echo "exec-steps.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
