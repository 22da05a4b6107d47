#!/usr/bin/env bash
# End-to-end test of the crash report (services/crash.c): an actor that brings
# the process down under the inline runner or runner-dask's threads mode
# is named on stderr with the signal and a hint, and the process still
# dies of the signal (non-zero exit); under process mode the worker's
# crash fails only its step and the worker itself says nothing. Uses the
# fault.* fixture actors (tests/providers/fx_faulty.c). Run by
# `make check`.
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
fixture=$top_builddir/tests/providers/.libs/fx_faulty.so
if [ ! -f "$fixture" ]; then
  echo "crash.sh: $fixture was not built"
  exit 1
fi
mkdir -p plugins
cp "$fixture" plugins/
export SWITCHYARD_PLUGIN_PATH=$tmp/plugins
cp "$ex/iris/iris.csv" .
flow() { # flow NAME ACTOR
  printf 'name = "%s";\nsource = { feed = "data"; table = "iris"; };\nactors = ( { id = "bad"; actor = "%s"; } );\n' "$1" "$2" >"$1.flow"
}
flow crash fault.crash
flow abort fault.abort
run() { "$sy" -q -o FEED.data.path="$tmp" run "$@" --cache off; }

# Runs, wants a non-zero exit and every pattern in the output.
crashes() { # crashes PATTERN... -- ARGS...
  local patterns=() out rc p
  while [ "$1" != "--" ]; do
    patterns+=("$1")
    shift
  done
  shift
  out=$(run "$@" 2>&1)
  rc=$?
  if [ "$rc" -eq 0 ]; then
    bad "'run $*' exited 0: $out"
    return
  fi
  for p in "${patterns[@]}"; do
    if ! grep -qE -- "$p" <<<"$out"; then
      bad "'run $*' (exit $rc) output lacks /$p/: $out"
      return
    fi
  done
  ok
}
for r in inline parallel; do
  crashes 'step 1 \(apply bad \(fault\.crash\)\) crashed this process: signal 11 \(SIGSEGV' \
    'mode = processes' -- crash.flow -R "$r"
  crashes 'step 1 \(apply bad \(fault\.abort\)\) crashed this process: signal 6 \(SIGABRT' \
    -- abort.flow -R "$r"
done

# Process mode: the parent names the worker's death (SIGSEGV, or SIGABRT
# under ASan, whose report aborts), the step fails, and
# the worker's inherited handler stays silent.
out=$(run crash.flow -R isolated 2>&1)
rc=$?
if [ "$rc" -ne 1 ]; then
  bad "isolated: exit $rc, expected 1: $out"
elif ! grep -qE 'died from signal [0-9]+' <<<"$out"; then
  bad "isolated: no worker death reported: $out"
elif grep -q 'crashed this process' <<<"$out"; then
  bad "isolated: the worker wrote a crash report: $out"
else
  ok
fi

echo "crash.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
