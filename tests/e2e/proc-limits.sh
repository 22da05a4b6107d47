#!/usr/bin/env bash
# End-to-end test of per-step limits in runner dask's process mode
# (issue 16, item 1, with the resources of issue 12): a node's `timeout`
# kills its worker when the step runs past it (the step fails naming
# itself and the limit; the node's `retries` run it again on a new
# worker), and a node's `resources.memory` caps what the step may
# allocate (RLIMIT_AS in the worker: the step fails, naming itself and
# the limit, while one within its limit runs). Uses the fault.hang and
# fault.alloc fixture actors (tests/providers/fx_faulty.c). Run by
# `make check`.
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
fixture=$top_builddir/tests/providers/.libs/fx_faulty.so
if [ ! -f "$fixture" ]; then
  echo "proc-limits.sh: $fixture was not built"
  exit 1
fi
mkdir -p plugins
cp "$fixture" plugins/
export SWITCHYARD_PLUGIN_PATH=$tmp/plugins
cp "$ex/iris/iris.csv" .
flow() { # flow NAME NODE-TEXT
  printf 'name = "%s";\nsource = { feed = "data"; table = "iris"; };\nactors = ( { id = "x"; %s } );\n' "$1" "$2" >"$1.flow"
}
run() { timeout 60 "$sy" -q -o FEED.data.path="$tmp" -o RUNNER.isolated.backoff=0 run "$@" -R isolated --cache off; }

# timeout: the worker is killed at 1 s; retries = 1 runs it once more.
flow slow 'actor = "fault.hang"; timeout = "1s"; retries = 1;'
expect 1 'step [0-9]+ \(apply x \(fault\.hang\)\) ran longer than 1s; its worker was killed' \
  -- run slow.flow --log slow.json
n=$(grep -c '"failed"' slow.json)
r=$(grep -c '"retried"' slow.json)
[ "$n" -ge 2 ] && [ "$r" -eq 1 ] && ok ||
  bad "timeout with retries = 1: $n FAILED and $r RETRIED events, want 2 and 1"
# The runner's own option still applies where the node sets none.
flow slow2 'actor = "fault.hang";'
expect 1 'apply x \(fault\.hang\)\) ran longer than 1s' \
  -- run slow2.flow -o RUNNER.isolated.timeout=1s

# memory: 512 MiB under a 64M limit fails, naming the step and limit.
flow big 'actor = "fault.alloc"; params = { mb = 512; }; resources = { memory = "64M"; };'
expect 1 'apply x \(fault\.alloc\).*\(its memory limit: 64M\)' -- run big.flow
# Within the limit it runs, and the worker's limit is put back after.
flow small 'actor = "fault.alloc"; params = { mb = 16; }; resources = { memory = "256M"; };'
expect 0 '' -- run small.flow
cat >both.flow <<'FLOW'
name = "both";
source = { feed = "data"; table = "iris"; };
actors = (
  { id = "a"; actor = "fault.alloc"; params = { mb = 16; };
    resources = { memory = "256M"; }; },
  { id = "b"; actor = "fault.alloc"; params = { mb = 400; }; }
);
FLOW
expect 0 '' -- run both.flow -o RUNNER.isolated.workers=1
echo "proc-limits.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
