#!/usr/bin/env bash
# startup.sh - what a start costs, checked by what it does, not by time
# (bench/startup.sh times it).
#
# A run with the inline runner maps no library of `serve`: libmicrohttpd
# and GnuTLS behind it are dlopen()ed by the serve command only
# (cli/mhd_lazy.c). What the dynamic linker maps is read from
# LD_DEBUG=files (glibc), as in lazy.sh.
#
# And what a warm run asks of the kernel (strace, skipped where it cannot
# trace): two plugin files loaded (base and actor-std), no mkdir walk for a
# cache folder that is there, one getuid per plugin loaded (not one per
# folder above it), and each plugin's
# /proc/self/fd name opened once, by dlopen: not again at exit to ask
# whether it is still mapped.
# shellcheck source=tests/e2e/common.sh
. "$(dirname "$0")/common.sh"

maps() { LD_DEBUG=files "$@" 2>&1 >/dev/null | grep -o 'file=[^ ]*' | sort -u; }

printf 'x,y\n1,2\n3,4\n' > t.csv
cat > tiny.flow <<'FLOW'
name = "tiny";
source = { feed = "data"; table = "t"; };
actors = ( { id = "h"; actor = "std.head"; params = { n = 1; }; } );
sink = "out";
FLOW
printf '[FEED.data]\nprovider = csv\npath = .\n' > switchyard.ini

# ---- a start maps nothing of serve ---------------------------------------------
"$sy" -q run tiny.flow > first.out 2>&1 && ok || bad "run failed: $(cat first.out)"
printf 'x,y\n1,2\n' | cmp -s - first.out && ok || bad "run printed: $(cat first.out)"
for cmd in "version" "-q run tiny.flow" "providers"; do
  # shellcheck disable=SC2086
  maps "$sy" $cmd > m.out
  grep -q libswitchyard m.out && ok || bad "LD_DEBUG shows nothing for $cmd"
  if grep -E 'libmicrohttpd|libgnutls' m.out; then
    bad "'switchyard $cmd' mapped a library of serve"
  else
    ok
  fi
done

# ---- libraries loaded at first use -----------------------------------------------
# libxxhash is compiled in (core/xxh.c, storage-file), libconfig is
# dlopen()ed only when the fast flow parser leaves a flow to it
# (core/libconfig_lazy.c): neither is mapped by a start that needs neither.
for cmd in "version" "-q run tiny.flow"; do
  # shellcheck disable=SC2086
  maps "$sy" $cmd > m.out
  if grep -E 'libconfig|libxxhash' m.out; then
    bad "'switchyard $cmd' mapped libconfig or libxxhash"
  else
    ok
  fi
done
# A flow only libconfig reads (@include) loads it then, and runs the same.
printf 'actors = ( { id = "h"; actor = "std.head"; params = { n = 1; }; } );\n' \
  > actors.inc
cat > incl.flow <<'FLOW'
name = "tiny";
source = { feed = "data"; table = "t"; };
@include "actors.inc"
sink = "out";
FLOW
"$sy" -q run incl.flow > incl.out 2>&1 && ok || bad "run incl.flow: $(cat incl.out)"
same first.out incl.out "a flow read by libconfig"
maps "$sy" -q run incl.flow > m.out
grep -q libconfig m.out && ok || bad "a flow with @include did not load libconfig"

# ---- what a warm run asks of the kernel ------------------------------------------
if strace -f -o /dev/null true 2> /dev/null; then
  "$sy" -q run tiny.flow > /dev/null 2>&1
  # LeakSanitizer cannot stop the world under ptrace (tests/run-asan.sh).
  ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
    strace -f -o trace.out "$sy" -q run tiny.flow > second.out 2>&1
  same first.out second.out "a traced run"
  loaded=$(grep -c 'readlink("/proc/self/fd/' trace.out)
  reopened=$(grep -c 'open[a-z]*(.*"/proc/self/fd/' trace.out)
  uids=$(grep -c 'getuid()' trace.out)
  # Two plugin files: base (csv feed, stdout sink, inline runner, file
  # storage) and actor-std; each of the five used to be a file of its own.
  [ "$loaded" -eq 2 ] && ok || bad "the trace shows $loaded plugin files loaded"
  grep -q 'openat(.*plugins.d/base.so"' trace.out && ok ||
    bad "base.so was not loaded"
  grep -q 'openat(.*plugins.d/actor-std.so"' trace.out && ok ||
    bad "actor-std.so was not loaded"
  [ "$reopened" -eq "$loaded" ] && ok ||
    bad "$loaded plugins, /proc/self/fd opened $reopened times"
  # One getuid per plugin loaded, plus the folder scan, the manifest and
  # the cache's (not one per folder above each plugin: that was 5 each).
  [ "$uids" -le $((loaded + 4)) ] && ok || bad "$uids getuid for $loaded plugins"
  grep 'mkdir(' trace.out && bad "a warm run made folders" || ok
else
  echo "startup: strace cannot trace here; the system call checks are skipped"
fi

echo "startup: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
