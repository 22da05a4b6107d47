#!/usr/bin/env bash
# Builds a copy of the tree with ASan+UBSan and runs `make check` there.
# A copy, not a VPATH build: the source tree is configured in place (so
# that ./switchyard runs uninstalled), and autotools refuses VPATH builds
# of a configured tree.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${1:-2}
dst=_build-asan
mkdir -p "$dst"
# Sync the sources (tracked and untracked-but-not-ignored files).
# (tar replaces files that exist, where cp --parents sometimes fails with
# EEXIST on a tree it copied into before.)
git ls-files -z --cached --others --exclude-standard |
  tar --null -T - -cf - | tar -xf - -C "$dst"
cd "$dst"
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt configure ]; then
  ./autogen.sh >/dev/null
fi
if [ ! -f Makefile ] || [ configure -nt Makefile ]; then
  ./configure -q --enable-sanitizers
fi
make -s -j"$jobs"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_odr_violation=0
# Leaks inside graphviz's libraries (tests that draw with -R draw).
export LSAN_OPTIONS=suppressions=$(pwd)/tests/lsan.supp
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
if ! make -s -j"$jobs" check; then
  failed=$(grep -lE '^:test-result: (FAIL|ERROR)' $(find tests -name '*.trs'))
  # LeakSanitizer's own stop-the-world tracer sometimes segfaults at exit
  # on a loaded machine ("Tracer caught signal 11 ... LeakSanitizer has
  # encountered a fatal error": google/sanitizers#1353), which is no leak
  # and no failure of the test. A test that failed only that way runs once
  # more; any other failure, or the same crash twice, fails the stage.
  again=()
  for t in $failed; do
    log=${t%.trs}.log
    if grep -q 'Tracer caught signal' "$log" &&
      grep -q 'LeakSanitizer has encountered a fatal error' "$log"; then
      echo "note: ${t%.trs}: LeakSanitizer's tracer crashed; running it again"
      again+=("${t%.trs}")
    else
      echo "--- $log"; tail -60 "$log"
      bad=1
    fi
  done
  if [ "${bad:-0}" = 1 ]; then exit 1; fi
  if ! make -s check TESTS="${again[*]}"; then
    for t in "${again[@]}"; do
      echo "--- $t.log"; tail -60 "$t.log"
    done
    exit 1
  fi
fi
