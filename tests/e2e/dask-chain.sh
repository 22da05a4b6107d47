#!/usr/bin/env bash
# End-to-end test of runner dask's lazy start (issue 16, item 3): with two
# workers, a chain runs on the calling thread alone (the second worker is
# never started, so a core the graph cannot use costs nothing), and a fan
# starts it as soon as there is a step to share. Each sys.exec step prints
# how many threads its parent, the switchyard process, has (Threads: in
# /proc/PID/status); the output is those counts, in order. Run by
# `make check`.
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
if [ ! -r /proc/self/status ]; then
  echo "dask-chain.sh: no /proc; skipped"
  exit 77
fi
count="awk '/^Threads/{print \$2}' /proc/\$PPID/status"
cat >chain.flow <<FLOW
name = "chain";
actors = (
  { id = "a"; actor = "sys.exec"; inputs = []; params = { command = "$count"; }; },
  { id = "b"; actor = "sys.exec"; params = { command = "cat; $count"; }; },
  { id = "c"; actor = "sys.exec"; params = { command = "cat; $count"; }; }
);
FLOW
cat >fan.flow <<FLOW
name = "fan";
actors = (
  { id = "a"; actor = "sys.exec"; inputs = []; params = { command = "echo 0"; }; },
  { id = "b"; actor = "sys.exec"; inputs = ["a"]; params = { command = "$count"; }; },
  { id = "c"; actor = "sys.exec"; inputs = ["a"]; params = { command = "$count"; }; },
  { id = "d"; actor = "sys.exec"; inputs = ["b", "c"]; params = { command = "cat {in0} {in1}"; }; }
);
FLOW
run() { "$sy" -q -o RUNNER.parallel.workers=2 run "$1" -R parallel --cache off; }
out=$(run chain.flow 2>&1)
[ "$out" = "$(printf '1\n1\n1')" ] && ok ||
  bad "chain on 2 workers: the switchyard process had threads '$out', want 1 at every step"
out=$(run fan.flow 2>&1)
[ "$out" = "$(printf '2\n2')" ] && ok ||
  bad "fan on 2 workers: the switchyard process had threads '$out', want 2 at both branches"
echo "dask-chain.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
