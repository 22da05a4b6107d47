#!/usr/bin/env bash
# startup.sh - what a start costs, checked by what it does, not by time
# (bench/startup.sh times it).
#
# A run with the inline runner maps no library of `serve`: libmicrohttpd
# and GnuTLS behind it are dlopen()ed by the serve command only
# (cli/mhd_lazy.c). What the dynamic linker maps is read from
# LD_DEBUG=files (glibc), as in lazy.sh.
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

echo "startup: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
