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

echo "cache-trust.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
