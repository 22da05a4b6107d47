#!/usr/bin/env bash
# End-to-end tests of what the registry promises (issue 10, "registry"
# in docs/design.md): release versions follow a grammar, `registry rm`
# removes a release or a generation whose number is never reused, a
# truncated archive registry is an error that nothing overwrites,
# references are parsed strictly, export and import are all or nothing
# and an import rerun completes, and a release carries its project's
# switchyard.ini so the README's lifecycle commands work from anywhere.
# Run by `make check`.
. "$(cd "$(dirname "$0")" && pwd)/common.sh"

iris=$ex/iris/pipeline.flow
gen=$top_builddir/bench/registry
reg=$HOME/.local/share/switchyard/registry
shelf=$HOME/.local/share/switchyard/registry.tar
"$sy" -q run "$iris" --cache off > run.csv || bad "iris run"

# ---- the README's lifecycle, verbatim from the repo root, empty HOME ----
# (the release carries examples/iris/switchyard.ini: no ./switchyard.ini)
cd "$top_srcdir" || exit 1
expect 0 "released" -- "$sy" release examples/iris/pipeline.flow --version 1.0
expect 0 "committed generation 1 of iris:1\.0" -- "$sy" train iris
"$sy" -q apply iris > "$tmp/readme.csv" || bad "apply iris from the repo root"
cd "$tmp" || exit 1
same run.csv readme.csv "apply iris from the repo root"
# ... and from another folder, which has no switchyard.ini either
mkdir elsewhere && cd elsewhere || exit 1
expect 0 "committed generation 2 of iris:1\.0" -- "$sy" train iris
"$sy" -q apply iris > ../elsewhere.csv || bad "apply iris from another folder"
cd .. || exit 1
same run.csv elsewhere.csv "apply iris from another folder"
expect 0 "# config: \[FEED\.data\] path = /.*/examples/iris" -- "$sy" registry show iris:1.0
# the layer sits where a flow's switchyard.ini would: -o still wins
expect 2 "nowhere" -- "$sy" train iris -o FEED.data.path=/nowhere
rm -rf "$reg"

# ---- strict references (both registries) ---------------------------------
printf '[FEED.data]\nprovider = csv\npath = %s\n' "$ex/iris" > switchyard.ini
for r in local shelf; do
  R="--registry $r"
  "$sy" -q release "$iris" --version 1.0 $R || bad "release on $r"
  "$sy" -q train iris $R || bad "train on $r"
  for ref in iris:1.0:4294967297 iris:1.0:abc iris:1.0:0 iris:1.0:01 iris:1.0:-1 \
    iris:1.0:1:2 'iris:' iris::1 .iris:1.0 'iris:1.0:'; do
    expect 2 "not a valid .*reference" -- "$sy" registry show "$ref" $R
  done
  expect 2 "not a valid|is neither" -- "$sy" apply iris:1.0:4294967297 $R
  expect 2 "not a valid|is neither" -- "$sy" apply iris:1.0:abc $R
  expect 2 "is neither" -- "$sy" apply iris:1.0:+1 $R
  expect 2 "is neither" -- "$sy" apply iris:1.0:01 $R
  expect 2 "not a generation" -- "$sy" train iris:1.0:1 $R
  expect 2 "not a valid" -- "$sy" registry list iris:1.0:1 $R
  expect 2 "not a valid .*a release is needed" -- "$sy" registry rm iris $R
  expect 0 "# generation 1" -- "$sy" registry show iris:1.0:1 $R
done

# ---- version grammar and registry rm -------------------------------------
for r in local shelf; do
  R="--registry $r"
  for v in -1 1.0. 1..0 a 01 1.02 v2 '1.0-' 1.0+x; do
    expect 2 "not valid" -- "$sy" release "$iris" --version "$v" $R
  done
  expect 2 "not newer" -- "$sy" release "$iris" --version 1.0-rc.1 $R
  expect 0 "version 1\.1-rc\.1" -- "$sy" release "$iris" --version 1.1-rc.1 $R
  expect 0 "version 1\.1" -- "$sy" release "$iris" --version 1.1 $R
  expect 0 "generation 1 of iris:1\.1" -- "$sy" train iris $R
  expect 0 "generation 2 of iris:1\.1" -- "$sy" train iris $R
  expect 0 "removed iris:1\.1:2" -- "$sy" registry rm iris:1.1:2 $R
  expect 2 "removed" -- "$sy" registry rm iris:1.1:2 $R
  expect 2 "removed" -- "$sy" apply iris:1.1:2 $R
  # the number is not given out again
  expect 0 "generation 3 of iris:1\.1" -- "$sy" train iris $R
  out=$("$sy" registry list iris:1.1 $R)
  grep -qE "^iris +1\.1 +2 " <<<"$out" && bad "generation 2 still listed on $r: $out" || ok
  expect 0 "removed iris:1\.1-rc\.1" -- "$sy" registry rm iris:1.1-rc.1 $R
  expect 2 "no release|has no release" -- "$sy" registry show iris:1.1-rc.1 $R
  expect 2 "no release|has no release|no project" -- "$sy" registry rm nope:1.0 $R
done
# a version stored before the grammar (hand-made here) blocks nothing and
# can be removed
mkdir "$reg/iris/a" && cp "$reg/iris/1.0/manifest" "$reg/iris/a/" || bad "make iris:a"
expect 0 "version 1\.2" -- "$sy" release "$iris" --version 1.2
expect 0 "generation 1 of iris:1\.2" -- "$sy" train iris
expect 0 "removed iris:a" -- "$sy" registry rm iris:a
"$sy" registry list iris | grep -qE "^iris +a " && bad "iris:a still listed" || ok

# ---- a truncated archive registry ----------------------------------------
cp "$shelf" whole.tar
size=$(stat -c %s whole.tar)
for cut in 0 100 512 1536 $((size / 2)) $((size - 1024)) $((size - 512)) $((size - 1)); do
  head -c "$cut" whole.tar > "$shelf"
  cp "$shelf" cut.tar
  expect 1 "registry\.tar.*(truncated|empty)|registry\.tar.*runcated|registry\.tar'" -- "$sy" registry list --registry shelf
  out=$("$sy" train iris --registry shelf 2>&1) && bad "train on a cut archive ($cut): $out" || ok
  grep -q "registry.tar" <<<"$out" && ok || bad "train's error does not name the file: $out"
  cmp -s cut.tar "$shelf" && ok || bad "a cut archive ($cut bytes) was overwritten"
done
cp whole.tar "$shelf"
expect 0 "iris +1\.1 +3" -- "$sy" registry list --registry shelf

# ---- export: whole or nothing --------------------------------------------
expect 0 "exported 3 entries" -- "$sy" registry export iris:1.1 one.tar
[ -z "$(ls -A | grep '\.export-')" ] && ok || bad "export left scratch: $(ls -A)"
# a failure half-way (generation 3 damaged) leaves no FILE and no scratch
cp "$reg/iris/1.1/3/states" states.bak
printf 'damaged' > "$reg/iris/1.1/3/states"
expect 1 "damaged" -- "$sy" registry export iris:1.1 two.tar
[ ! -e two.tar ] && ok || bad "a failed export left two.tar"
# ... and an existing FILE keeps its old contents
cp one.tar keep.tar
expect 1 "damaged" -- "$sy" registry export iris:1.1 one.tar
cmp -s one.tar keep.tar && ok || bad "a failed export changed an existing FILE"
[ -z "$(ls -A | grep '\.export-')" ] && ok || bad "failed export left scratch: $(ls -A)"
cp states.bak "$reg/iris/1.1/3/states"
# FILE must be a regular file (or not exist); a link is written through
mkdir adir
expect 2 "is a folder" -- "$sy" registry export iris:1.1 adir
mkfifo afifo
expect 2 "is a FIFO" -- "$sy" registry export iris:1.1 afifo
[ -p afifo ] && ok || bad "the FIFO was replaced"
ln -s one.tar link.tar
expect 0 "exported 3 entries" -- "$sy" registry export iris:1.1 link.tar
[ -L link.tar ] && ok || bad "export replaced the symbolic link"

# ---- import: whole or nothing, and a rerun completes ---------------------
printf '[REGISTRY.fresh]\nprovider = file\npath = %s/fresh\n' "$tmp" >> switchyard.ini
expect 0 "imported 3 entries" -- "$sy" registry import one.tar --registry fresh
expect 0 "imported 0 entries .*3 there already" -- "$sy" registry import one.tar --registry fresh
"$sy" -q apply iris:1.1 --registry fresh > imported.csv || bad "apply after import"
same run.csv imported.csv "apply after import"
# a release that stopped half-way (here: its last generation removed)
# gets the generations it lacks; those it holds are skipped
"$sy" -q registry rm iris:1.1:2 --registry fresh || bad "rm in fresh"
expect 0 "imported 1 entries .*2 there already" -- "$sy" registry import one.tar --registry fresh
# a conflicting release stops the import with exit 2, naming it
"$sy" -q registry rm iris:1.1 --registry fresh || bad "rm release in fresh"
"$sy" -q release "$ex/iris/pipeline.flow" --version 1.1 --registry fresh 2>/dev/null
sed 's/epochs = 500/epochs = 400/' "$iris" > other.flow
"$sy" -q registry rm iris:1.1 --registry fresh
"$sy" -q release other.flow --version 1.1 --registry fresh || bad "release other flow"
expect 2 "another flow" -- "$sy" registry import one.tar --registry fresh
"$sy" -q registry rm iris:1.1 --registry fresh
expect 0 "imported 3 entries" -- "$sy" registry import one.tar --registry fresh
expect 2 "cannot read" -- "$sy" registry import missing.tar --registry fresh

# killed: an import or an export interrupted at any moment leaves all or
# nothing, and the rerun completes
SWITCHYARD_PLUGIN_PATH=$top_builddir/plugins.d "$gen" big.tar 3000 4096 || bad "bench/registry big.tar"
"$sy" registry import big.tar --registry fresh > /dev/null 2>&1 &
pid=$!
sleep 0.3
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
n=$("$sy" registry list bench --registry fresh 2>/dev/null | grep -c '^bench ')
{ [ "$n" -eq 0 ] || [ "$n" -eq 3001 ]; } && ok || bad "a killed import left $n entries of 3001"
expect 0 "imported (3001|0) entries" -- "$sy" registry import big.tar --registry fresh
n=$("$sy" registry list bench --registry fresh | grep -c '^bench ')
[ "$n" -eq 3001 ] && ok || bad "import rerun: $n entries of 3001"
printf '[REGISTRY.check]\nprovider = file\npath = %s/check\n' "$tmp" > check.ini
for delay in 0.05 0.15 0.3; do
  rm -rf out.tar "$tmp/check"
  "$sy" registry export bench:1.0 out.tar --registry fresh > /dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  if [ -e out.tar ]; then # finished before the kill: then it is whole
    expect 0 "imported 3001 entries" -- "$sy" -c check.ini registry import out.tar --registry check
  else
    ok
  fi
done
expect 0 "exported 3001 entries" -- "$sy" registry export bench:1.0 out.tar --registry fresh

echo "registry: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
