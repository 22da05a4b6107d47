#!/usr/bin/env bash
# End-to-end test of runner dask's process mode with batched requests
# (issue 16, item 1): a chain goes to one worker in one request, and a
# worker that dies in the middle of it fails only the step it ran, named
# with the signal; the steps after it in the batch are taken back and run
# on a replacement worker after a retry; every step is DONE exactly once;
# the output is inline's. Each step of the chain is a sys.exec whose shell
# is the worker's child, so `kill -KILL $PPID` kills the worker. Run by
# `make check`.
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
cat >chain.flow <<'FLOW'
name = "chain";
actors = (
  { id = "a"; actor = "sys.exec"; inputs = []; params = { command = "echo 1"; }; },
  { id = "b"; actor = "sys.exec"; params = { command = "cat; echo 2"; }; },
  { id = "c"; actor = "sys.exec"; params = {
      command = "if [ -e killed ]; then cat; echo 3; else touch killed; kill -KILL $PPID; exit 1; fi"; }; },
  { id = "d"; actor = "sys.exec"; params = { command = "cat; echo 4"; }; },
  { id = "e"; actor = "sys.exec"; params = { command = "cat; echo 5"; }; }
);
FLOW
printf '1\n2\n3\n4\n5\n' >want.txt
run() { "$sy" -q -o RUNNER.isolated.workers="$1" -o RUNNER.isolated.backoff=0 "${@:2}"; }

# No retries: the run fails, naming step c and the signal.
for w in 1 2; do
  rm -f killed
  expect 1 "worker [0-9]+ \\(pid [0-9]+\\) died from signal 9 .* while running step [0-9]+ \\(apply c \\(sys\\.exec\\)\\)" \
    -- run "$w" run chain.flow -R isolated --cache off
done

# One retry: c runs again on a new worker, d and e after it, once each.
for w in 1 2; do
  rm -f killed
  if run "$w" -o RUNNER.isolated.retries=1 run chain.flow -R isolated --cache off \
    --log "log-$w.json" >"out-$w.txt" 2>"err-$w.txt"; then
    same want.txt "out-$w.txt" "retried chain on $w workers"
    n=$(python3 -c '
import json, sys
done = {}
failed = []
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("event") == "done":
        done[e["step"]] = done.get(e["step"], 0) + 1
    if e.get("event") == "failed":
        failed.append(e["step"])
print(len(done), max(done.values()), len(failed))
' "log-$w.json")
    [ "$n" = "6 1 1" ] && ok || bad "events on $w workers: (steps done, most DONE per step, failures) = $n, want 6 1 1"
  else
    bad "retried chain on $w workers failed: $(cat "err-$w.txt")"
  fi
done
echo "procs.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
