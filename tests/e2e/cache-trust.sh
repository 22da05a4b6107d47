#!/usr/bin/env bash
# End-to-end tests of what the result cache promises (docs/design.md,
# "Cache hits are verified"): an entry serves only the key it was put
# under, so a cache file copied over another one is a miss that is said
# at -v and rewritten, never another step's result with exit 0; and
# temporary files left by killed writers are shown by `cache list -v`
# and collected by `cache gc` once older than its grace period, while
# fresh ones (a writer may still be busy) are kept. Run by `make check`.
. "$(cd "$(dirname "$0")" && pwd)/common.sh"

iris=$ex/iris/pipeline.flow
cache=$HOME/.cache/switchyard
key_of() { # key_of LABEL: the cache key of the entry whose step is LABEL
  "$sy" cache list | awk -v l="$1" 'substr($0, 34, length(l)) == l { print $1 }'
}

# ---- a copied entry is a miss ---------------------------------------------
"$sy" -q run "$iris" > cold.csv || bad "cold run"
head -1 cold.csv | grep -q '^prediction,' && ok || bad "cold run: $(head -1 cold.csv)"
scaled=$(key_of "apply scale (std.scaler)")
model=$(key_of "apply model (std.logreg)")
[ -n "$scaled" ] && [ -n "$model" ] && ok || bad "no keys in: $("$sy" cache list)"
cp "$cache/${scaled:0:2}/$scaled" "$cache/${model:0:2}/$model"
expect 0 "records another key" -- "$sy" cache list
"$sy" -v run "$iris" --log copied.jsonl > copied.csv 2> copied.err
rc=$?
[ "$rc" -eq 0 ] && ok || bad "run over a copied entry exited $rc: $(cat copied.err)"
same cold.csv copied.csv "run over a copied entry (predictions, not features)"
grep -q "step 6 (apply model (std.logreg)).*cache entry $model records another key ($scaled)" copied.err &&
  ok || bad "-v does not report the mismatch: $(cat copied.err)"
grep -q '"event":"done".*"label":"apply model' copied.jsonl && ok ||
  bad "the mismatched step did not run again: $(grep 'apply model' copied.jsonl)"
# The step's entry was rewritten: the next run hits it, and says nothing.
"$sy" -v run "$iris" --log warm.jsonl > warm.csv 2> warm.err
same cold.csv warm.csv "run after the rewrite"
grep -q '"event":"cached".*"label":"apply model' warm.jsonl && ok ||
  bad "the rewritten entry is not used: $(grep 'apply model' warm.jsonl)"
grep -q "another key" warm.err && bad "a note after the rewrite: $(cat warm.err)" || ok
# Without -v, a mismatch is silent (a miss like any other).
cp "$cache/${scaled:0:2}/$scaled" "$cache/${model:0:2}/$model"
"$sy" run "$iris" > quiet.csv 2> quiet.err
same cold.csv quiet.csv "run over a copied entry without -v"
grep -q "another key" quiet.err && bad "a note without -v: $(cat quiet.err)" || ok

# ---- temporary files of killed writers ------------------------------------
# Named as put() names them: .tmp.<key>.<pid>.<16 hex digits>. Pid
# 999999999 is above any pid_max, so that writer is surely gone; $$ (this
# script) is a writer still running.
sub=$cache/${model:0:2}
stale1=$sub/.tmp.$model.999999999.00000000000000a1
stale2=$cache/${scaled:0:2}/.tmp.$scaled.999999999.00000000000000a2
fresh=$sub/.tmp.$model.999999999.00000000000000b1
live=$sub/.tmp.$model.$$.00000000000000c1
head -c 100000 /dev/zero > "$stale1"
head -c 5000 /dev/zero > "$stale2"
echo partial > "$fresh"
echo partial > "$live"
touch -d '3 hours ago' "$stale1" "$stale2" "$live"
touch -d '10 minutes ago' "$fresh"
# list: entries only on stdout; a count on stderr; every file at -v.
"$sy" cache list > list.out 2> list.err
grep -q '\.tmp\.' list.out && bad "cache list shows temporaries without -v: $(cat list.out)" || ok
grep -q '4 temporary files .* of unfinished writes' list.err && ok ||
  bad "cache list does not count the temporaries: $(cat list.err)"
"$sy" cache list -v > listv.out 2>&1
for f in "$stale1" "$stale2" "$fresh" "$live"; do
  grep -qF "${f#"$cache"/}" listv.out && ok || bad "cache list -v lacks $f: $(cat listv.out)"
done
"$sy" -v cache list > listv2.out 2>&1
# The age column may tick between the two listings (slow under ASan, or
# on a loaded machine): mid-line for temporaries, at the end for entries.
for f in listv.out listv2.out; do
  sed -E -e 's/ +[0-9]+[smhd]  / AGE  /' -e 's/ +[0-9]+[smhd]$/ AGE/' "$f" > "$f.noage"
done
same listv.out.noage listv2.out.noage "cache list -v vs -v cache list"
grep -qE "\.$$\.00000000000000c1 .*writer pid $$ running here" listv.out && ok ||
  bad "cache list -v does not say the live writer runs: $(cat listv.out)"
# gc: the stale ones of dead writers go, fresh and live ones stay, and so
# does every entry.
entries_before=$("$sy" cache list 2>/dev/null | wc -l)
expect 0 "removed 0 entries .* and 2 temporary files \(102\.5 KiB\)" -- "$sy" cache gc
[ ! -e "$stale1" ] && [ ! -e "$stale2" ] && ok || bad "gc left a stale temporary"
[ -e "$fresh" ] && ok || bad "gc removed a temporary younger than its grace period"
[ -e "$live" ] && ok || bad "gc removed the temporary of a running writer"
[ "$("$sy" cache list 2>/dev/null | wc -l)" -eq "$entries_before" ] && ok || bad "gc removed entries"
# --grace: a shorter one takes the 10-minute-old file too, never the live one.
expect 0 "and 0 temporary files" -- "$sy" cache gc --grace 1h
expect 0 "and 1 temporary files" -- "$sy" cache gc --grace 5m
[ ! -e "$fresh" ] && [ -e "$live" ] && ok || bad "gc --grace 5m: wrong files removed"
expect 2 "--grace: expected a duration" -- "$sy" cache gc --grace soon
expect 2 "usage" -- "$sy" cache list --grace 1h
rm -f "$live"
"$sy" cache list > list.out 2> list.err
[ ! -s list.err ] && ok || bad "cache list still reports temporaries: $(cat list.err)"
"$sy" -q run "$iris" > after.csv && same cold.csv after.csv "run after gc" || bad "run after gc"

echo "cache-trust.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
