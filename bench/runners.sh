#!/bin/sh
# bench/runners.sh - builds what bench/runners needs and runs it from the
# top of the built tree, passing its arguments on (--max N, --flow N, ...).
#   bench/runners.sh                 graphs up to 1e5 steps
#   bench/runners.sh --max 1000000   up to 1e6 (spin bodies stay at 1e5)
#   bench/runners.sh --flow-only --flow 30000
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
make -s bench/runners bench/actor-bench.la plugins-dir >/dev/null
exec ./bench/runners "$@"
