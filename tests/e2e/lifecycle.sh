#!/usr/bin/env bash
# End-to-end tests of the lifecycle and the result cache: release, train,
# apply, generations, the file and archive registries, export/import, and
# cached reruns (only what changed runs again; a failed run resumes).
# Run by `make check`.
. "$(cd "$(dirname "$0")" && pwd)/common.sh"

iris=$ex/iris/pipeline.flow
"$sy" -q run "$iris" --cache off > run.csv || bad "iris run"
# Training a release by name reads the platform's feed: point it at the
# example's data, as a deployment's switchyard.ini would.
printf '[FEED.data]\nprovider = csv\npath = %s\n' "$ex/iris" > switchyard.ini

for r in local shelf; do
  R="--registry $r"
  expect 0 "released .* as version 1\.0" -- "$sy" release "$iris" --version 1.0 $R
  expect 2 "exists|not newer" -- "$sy" release "$iris" --version 1.0 $R
  expect 2 "not newer" -- "$sy" release "$iris" --version 0.9 $R
  expect 0 "committed generation 1 of iris:1\.0" -- "$sy" train iris $R
  "$sy" -q apply iris $R > "apply1.$r.csv" || bad "apply iris on $r"
  same run.csv "apply1.$r.csv" "apply from registry $r vs run"
  expect 0 "committed generation 2 of iris:1\.0" -- "$sy" train "$iris" $R
  "$sy" -q apply iris:1.0:1 $R > "apply-g1.$r.csv" || bad "apply iris:1.0:1 on $r"
  same run.csv "apply-g1.$r.csv" "apply of generation 1 on $r"
  out=$("$sy" registry list $R)
  grep -qE "^iris +1\.0 +2 " <<<"$out" && grep -qE "^iris +1\.0 +1 " <<<"$out" && ok ||
    bad "registry list on $r: $out"
  expect 0 "# flow-hash: [0-9a-f]{32}" -- "$sy" registry show iris:1.0 $R
  expect 0 "rows: 150" -- "$sy" registry show iris:1.0:2 $R
  expect 2 "iris:1\.0:7|generation 7|no generation" -- "$sy" apply iris:1.0:7 $R
done
expect 2 "nope" -- "$sy" apply nope:1.0
# incremental training: the scaler continues from generation 1's state,
# the model (not incremental) trains afresh
"$sy" -q train iris --registry local --from 1 --log from.jsonl || bad "train --from 1"
grep -q '"label":"load scale (std.scaler)"' from.jsonl && ok || bad "train --from did not load the scaler's state"
grep -q '"label":"load model' from.jsonl && bad "train --from loaded a non-incremental actor" || ok
expect 2 "--from takes a generation" -- "$sy" train iris --from zero
for g in +1 01 " 1" 1x 4294967297; do
  expect 2 "--from takes a generation" -- "$sy" train iris --registry local --from "$g"
done
expect 2 "generation 99|no generation" -- "$sy" train iris --registry local --from 99
# a flow that differs from every release must be released first
sed 's/epochs = 500/epochs = 400/' "$iris" > changed.flow
expect 2 "release it first" -- "$sy" train changed.flow

# export / import: file -> archive file -> a fresh file registry
expect 0 "exported 4 entries" -- "$sy" registry export iris:1.0 moved.tar
printf '[REGISTRY.fresh]\nprovider = file\npath = %s/fresh\n' "$tmp" > fresh.ini
expect 0 "imported 4 entries" -- "$sy" -c fresh.ini registry import moved.tar --registry fresh
"$sy" -q -c fresh.ini apply iris:1.0 --registry fresh > imported.csv || bad "apply after import"
same run.csv imported.csv "apply after export/import"
rm switchyard.ini

# ---- the result cache -------------------------------------------------
clean=$ex/cleaning/pipeline.flow
"$sy" -q run "$clean" --log cold.jsonl > cold.csv || bad "cold run"
"$sy" -q run "$clean" --log warm.jsonl > warm.csv || bad "warm run"
same cold.csv warm.csv "cached rerun output"
cached=$(grep -c '"event":"cached"' warm.jsonl)
done_=$(grep -c '"event":"done"' warm.jsonl)
[ "$cached" -ge 4 ] && ok || bad "warm run: only $cached steps cached"
grep '"event":"done"' warm.jsonl | grep -qE 'apply|feed' &&
  bad "warm run recomputed a cacheable step: $(grep '"event":"done"' warm.jsonl)" || ok
expect 0 "cached: its result is in the storage" -- "$sy" run "$clean" --explain
expect 0 "runs: a side effect, never cached" -- "$sy" run "$clean" --explain
expect 0 "runs: the cache is off" -- "$sy" run "$clean" --explain --cache off
# change one parameter: only that step and what follows it run again
cp "$clean" c2.flow
sed -i 's/n = 20;/n = 5;/' c2.flow
printf '[FEED.data]\nprovider = csv\npath = %s\n' "$ex/cleaning" > switchyard.ini
"$sy" -q run c2.flow --log changed.jsonl > changed.csv || bad "changed run"
[ "$(wc -l < changed.csv)" -eq 6 ] && ok || bad "changed run: $(wc -l < changed.csv) lines"
grep '"event":"done"' changed.jsonl | grep -q 'apply first' && ok || bad "head did not rerun"
grep '"event":"done"' changed.jsonl | grep -qE 'apply (tidy|trim)|feed' &&
  bad "steps upstream of the change reran" || ok
# --cache off recomputes everything
"$sy" -q run c2.flow --cache off --log off.jsonl > /dev/null || bad "cache off run"
grep -q '"event":"cached"' off.jsonl && bad "--cache off used the cache" || ok
rm switchyard.ini

# resume: a failed run, rerun unchanged after the cause is fixed, runs
# only the steps that did not finish
mkdir -p data && printf 'x\n1\n2\n3\n' > data/t.csv
printf '[FEED.data]\nprovider = csv\npath = data\n' > switchyard.ini
cat > resume.flow <<F
name = "resume";
source = { table = "t"; };
actors = (
  { id = "slow"; actor = "sys.exec"; params = { command = "echo ran >> $tmp/slow.count; cat"; }; },
  { id = "gate"; actor = "sys.exec"; params = { command = "test -f $tmp/ready && cat"; }; }
);
F
expect 1 "gate" -- "$sy" run resume.flow
touch ready
"$sy" -q run resume.flow --log resume.jsonl > /dev/null || bad "resumed run failed"
[ "$(wc -l < slow.count)" -eq 1 ] && ok || bad "the finished step ran again on resume"

# cache list / rm / gc
expect 0 "apply tidy \(sys\.exec\)" -- "$sy" cache list
expect 0 "removed [1-9][0-9]* entries" -- "$sy" cache rm 'apply gate*'
out=$("$sy" cache list 'apply gate*')
[ "$(wc -l <<<"$out")" -eq 1 ] && ok || bad "cache rm left entries: $out"
expect 0 "removed [1-9][0-9]* entries" -- "$sy" cache gc --max-size 0
out=$("$sy" cache list)
[ "$(wc -l <<<"$out")" -eq 1 ] && ok || bad "cache gc left entries: $out"
expect 2 "max-size" -- "$sy" cache gc --max-size lots

echo "lifecycle: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
