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
# intercept_tls_get_addr=0: `switchyard config` loads every provider, and
# with them libmpi, libpq's krb5 and gnutls, graphviz; at exit
# LeakSanitizer's tracer then walks a dynamic-TLS range of one of them
# that is no longer valid ("DTLS 8 at 0x00000000000d3-...", "Tracer caught
# signal 11") and aborts, every time. Not tracking dynamic TLS makes
# LeakSanitizer skip those blocks as roots, which can only report more
# leaks, never hide one.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_odr_violation=0:intercept_tls_get_addr=0
# Leaks inside graphviz's libraries (tests that draw with -R draw).
export LSAN_OPTIONS=suppressions=$(pwd)/tests/lsan.supp
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
if ! make -s -j"$jobs" check; then
  for t in $(grep -lE '^:test-result: (FAIL|ERROR)' $(find tests -name '*.trs')); do
    echo "--- ${t%.trs}.log"; tail -60 "${t%.trs}.log"
  done
  exit 1
fi
