#!/usr/bin/env bash
# End-to-end tests of [PLATFORM] log_level: it sets the command's
# verbosity (error: as -q; warn and info: the default; debug: as -v),
# and -q or -v on the command line wins over it. Run by `make check`.
. "$(cd "$(dirname "$0")" && pwd)/common.sh"

iris=$ex/iris/pipeline.flow
cache=$HOME/.cache/switchyard

# error: as quiet. `check` says "ok" unless quiet.
expect 0 "pipeline\.flow: ok" -- "$sy" check "$iris"
out=$("$sy" -o PLATFORM.log_level=error check "$iris" 2>&1)
[ $? -eq 0 ] && [ -z "$out" ] && ok || bad "log_level=error still speaks: $out"
printf '[PLATFORM]\nlog_level = error\n' > quiet.ini
out=$("$sy" -c quiet.ini check "$iris" 2>&1)
[ $? -eq 0 ] && [ -z "$out" ] && ok || bad "log_level=error (file) still speaks: $out"
# ... and -v, before or after the command, wins over it.
expect 0 "pipeline\.flow: ok" -- "$sy" -c quiet.ini -v check "$iris"
expect 0 "pipeline\.flow: ok" -- "$sy" -c quiet.ini check "$iris" -v
# warn and info: the default.
expect 0 "pipeline\.flow: ok" -- "$sy" -o PLATFORM.log_level=warn check "$iris"
expect 0 "pipeline\.flow: ok" -- "$sy" -o PLATFORM.log_level=info check "$iris"

# debug: as -v. `cache list` shows the temporary files of unfinished
# writes only when verbose.
"$sy" -q run "$iris" > run.csv || bad "run"
key=$("$sy" cache list | awk 'NR == 2 { print $1 }')
[ -n "$key" ] && ok || bad "no cache entry after a run"
tmpf=.tmp.$key.999999999.00000000000000a1
echo partial > "$cache/${key:0:2}/$tmpf"
"$sy" cache list > plain.out 2>&1
grep -qF "$tmpf" plain.out && bad "cache list shows a temporary file: $(cat plain.out)" || ok
"$sy" -o PLATFORM.log_level=debug cache list > debug.out 2>&1
grep -qF "$tmpf" debug.out && ok || bad "log_level=debug is not verbose: $(cat debug.out)"
# ... and -q wins over it.
"$sy" -o PLATFORM.log_level=debug -q cache list > q.out 2>&1
grep -qF "$tmpf" q.out && bad "-q does not win over log_level=debug: $(cat q.out)" || ok
"$sy" -o PLATFORM.log_level=debug cache list -q > q2.out 2>&1
grep -qF "$tmpf" q2.out && bad "-q after the command does not win: $(cat q2.out)" || ok

echo "log-level: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
