#!/bin/bash
# End-to-end tests of plugins as the command sees them (issue 10): a
# rebuilt plugin's results are never served from the cache, nor are those
# of a sys.exec step whose deps changed; a saved program refuses to run a
# plugin rebuilt since it was compiled; the loader refuses an untrusted
# file before its code runs and names the file in every refusal; a
# kind+name clash refuses only the clashing provider; plugin_path is
# relative to the INI file that sets it.
. "${top_srcdir:-.}/tests/e2e/common.sh"
fx=$top_builddir/tests/providers/.libs

mkdir -p data && printf 'x\n1\n2\n' > data/t.csv
printf '[FEED.data]\nprovider = csv\npath = data\n' > switchyard.ini

# ---- actor code is part of the cache key ---------------------------------
# fx_code_a and fx_code_b are one actor (fx.mark 1.0.0) built twice with
# different results: swapping the file must not serve the old result.
mkdir -m 0755 plug
install -m 0755 "$fx/fx_code_a.so" plug/fx_code.so
cat > mark.flow <<'F'
name = "mark";
source = { table = "t"; };
actors = ( { id = "m"; actor = "fx.mark"; } );
F
export SWITCHYARD_PLUGIN_PATH=$tmp/plug
"$sy" -q run mark.flow --log a.jsonl > a.csv || bad "run with build A"
grep -q '^1,A$' a.csv && ok || bad "build A output: $(cat a.csv)"
"$sy" -q run mark.flow --log a2.jsonl > a2.csv || bad "rerun with build A"
same a.csv a2.csv "rerun with build A"
grep '"event":"cached"' a2.jsonl | grep -q 'apply m' && ok ||
  bad "the unchanged plugin's step was not cached: $(cat a2.jsonl)"
install -m 0755 "$fx/fx_code_b.so" plug/fx_code.so
"$sy" -q run mark.flow --log b.jsonl > b.csv || bad "run with build B"
grep -q '^1,B$' b.csv && ok || bad "stale result after rebuilding the plugin: $(cat b.csv)"
grep '"event":"done"' b.jsonl | grep -q 'apply m' && ok ||
  bad "the rebuilt plugin's step did not run: $(cat b.jsonl)"
"$sy" -q providers list | grep 'fx.mark *1.0.0' >/dev/null && ok || bad "same version"

# ---- a saved program names the plugin code it was compiled against --------
# compile with build A, then exec its steps as a cluster engine would: with
# nothing changed they run; with build B in place, the actor's step is
# refused (its result would be stored under build A's key) and nothing is
# stored under that key.
px() { "$sy" -q -o "STORAGE.cache.path=$tmp/$1" exec "${@:2}"; }
install -m 0755 "$fx/fx_code_a.so" plug/fx_code.so
"$sy" -q compile mark.flow -o mark.prog || bad "compile with build A"
"$sy" exec mark.prog --list > mark.tsv || bad "exec --list"
step=$(awk -F'\t' '$3 ~ /^apply m / { print $1 }' mark.tsv)
key=$(awk -F'\t' '$3 ~ /^apply m / { print $4 }' mark.tsv)
last=$(($(wc -l < mark.tsv) - 1))
[ -n "$step" ] && [ -n "$key" ] && ok || bad "no apply m step: $(cat mark.tsv)"
for s in $(seq 0 $last); do
  px same mark.prog --step "$s" > "same.$s" || bad "exec --step $s, build A"
done
grep -q '^1,A$' "same.$last" && ok || bad "exec with build A: $(cat "same.$last")"
[ -n "$(find same -name "$key")" ] && ok || bad "build A's result not stored"
install -m 0755 "$fx/fx_code_b.so" plug/fx_code.so
px changed mark.prog --step 0 || bad "exec the feed step with build B"
expect 1 "m \(fx.mark\): plugin $tmp/plug/fx_code.so changed since the program was compiled .*recompile the flow: switchyard compile mark.flow -o PROGRAM" -- \
  px changed mark.prog --step "$step"
[ -z "$(find changed -name "$key")" ] && ok ||
  bad "build B's result was stored under build A's key"
# recompiled, it runs build B under a new key
"$sy" -q compile mark.flow -o mark2.prog || bad "recompile with build B"
for s in $(seq 0 $last); do
  px changed mark2.prog --step "$s" > "changed.$s" || bad "exec mark2 --step $s"
done
grep -q '^1,B$' "changed.$last" && ok || bad "recompiled: $(cat "changed.$last")"
export SWITCHYARD_PLUGIN_PATH=

# ---- sys.exec deps --------------------------------------------------------
printf 'v\n1\n' > dep.csv
cat > deps.flow <<'F'
name = "deps";
source = { table = "t"; };
actors = (
  { id = "read"; actor = "sys.exec";
    params = { command = "cat dep.csv"; stdin = "none"; deps = ["dep.csv"]; }; }
);
F
"$sy" -q run deps.flow --log d1.jsonl > d1.csv || bad "deps run"
grep -qx 1 d1.csv && ok || bad "deps run output: $(cat d1.csv)"
"$sy" -q run deps.flow --log d2.jsonl > d2.csv || bad "deps rerun"
grep '"event":"cached"' d2.jsonl | grep -q 'apply read' && ok ||
  bad "unchanged deps: not cached: $(cat d2.jsonl)"
printf 'v\n2\n' > dep.csv
"$sy" -q run deps.flow --log d3.jsonl > d3.csv || bad "changed deps run"
grep -qx 2 d3.csv && ok || bad "stale result after a dep changed: $(cat d3.csv)"
grep '"event":"done"' d3.jsonl | grep -q 'apply read' && ok ||
  bad "a changed dep did not rerun the step: $(cat d3.jsonl)"
# relative to cwd when it is set
mkdir -p work && printf 'v\n7\n' > work/dep.csv
sed 's/deps = \["dep.csv"\];/deps = ["dep.csv"]; cwd = "work";/' deps.flow > cwd.flow
"$sy" -q run cwd.flow > cwd.csv || bad "deps with cwd"
grep -qx 7 cwd.csv && ok || bad "deps with cwd output: $(cat cwd.csv)"
# a missing dep is an error naming the flow file:line and the dep
sed 's/deps = \["dep.csv"\]/deps = ["dep.csv", "nope.csv"]/' deps.flow > missing.flow
expect 2 "missing.flow:4: read \(sys.exec\): .*dep 'nope.csv' cannot be read: No such file" -- \
  "$sy" run missing.flow
sed 's/deps = \["dep.csv"\]/deps = ["data"]/' deps.flow > dirdep.flow
expect 2 "dirdep.flow:4: .*dep 'data' is not a regular file" -- "$sy" run dirdep.flow
sed 's/deps = \["dep.csv"\];/deps = ["gone.csv"]; cwd = "work";/' deps.flow > cwdgone.flow
expect 2 "dep 'gone.csv' \(work/gone.csv\) cannot be read" -- "$sy" run cwdgone.flow

# ---- a clash refuses only the clashing provider ---------------------------
# fx_clash offers std.head, which actor-std also offers, and fx.other.
# Found first (SWITCHYARD_PLUGIN_PATH), it keeps std.head; actor-std loses
# only std.head.
mkdir -m 0755 clash
install -m 0755 "$fx/fx_clash.so" clash/fx_clash.so
SWITCHYARD_PLUGIN_PATH=$tmp/clash "$sy" providers list > clash.out 2> clash.err ||
  bad "providers list with a clash: $(cat clash.err)"
grep -q '^actor *std.scaler ' clash.out && ok || bad "std.scaler gone after a clash"
grep -q '^actor *fx.other ' clash.out && ok || bad "fx.other not loaded"
grep -E "^actor +std.head .*$tmp/clash/fx_clash.so\$" clash.out >/dev/null && ok ||
  bad "std.head is not the first file's: $(grep std.head clash.out)"
grep -F "warning: $top_builddir/plugins.d/actor-std.so: actor 'std.head' not loaded: already provided by $tmp/clash/fx_clash.so" clash.err >/dev/null &&
  ok || bad "the clash warning does not name both files: $(cat clash.err)"
[ "$(grep -c warning clash.err)" -eq 1 ] && ok || bad "more warnings: $(cat clash.err)"

# ---- every refusal names the file -----------------------------------------
mkdir -m 0755 refused
for f in fx_noentry fx_abi_major fx_abi_minor fx_badopts fx_signature fx_small; do
  install -m 0755 "$fx/$f.so" "refused/$f.so"
done
SWITCHYARD_PLUGIN_PATH=$tmp/refused "$sy" providers list > /dev/null 2> refused.err
for want in "fx_noentry.so: not loaded: no entry symbol sy_plugin_entry" \
  "fx_abi_major.so: not loaded: built for plugin ABI 2.x" \
  "fx_abi_minor.so: not loaded: needs ABI 1.99" \
  "fx_badopts.so: not loaded: runner 'badopts': option 'retries' has no help text" \
  "fx_signature.so: not loaded: built with signature" \
  "fx_small.so: not loaded: descriptor is"; do
  grep -F "warning: $tmp/refused/$want" refused.err > /dev/null && ok ||
    bad "no warning '$want': $(cat refused.err)"
done

# ---- the trust chain -------------------------------------------------------
# A link in a trusted folder to a file in a world-writable (not sticky)
# folder is refused before dlopen(): fx_ctor's constructor never runs.
mkdir -m 0755 linked && mkdir -m 0777 open
install -m 0755 "$fx/fx_ctor.so" open/fx_ctor.so
ln -s "$tmp/open/fx_ctor.so" linked/fx_ctor.so
FX_CTOR_MARKER=$tmp/ran SWITCHYARD_PLUGIN_PATH=$tmp/linked \
  "$sy" providers list > /dev/null 2> trust.err
[ ! -e ran ] && ok || bad "the untrusted plugin's constructor ran"
grep -F "warning: $tmp/linked/fx_ctor.so: not loaded: folder $tmp/open is world-writable" trust.err >/dev/null &&
  ok || bad "trust warning: $(cat trust.err)"
chmod 0755 open
FX_CTOR_MARKER=$tmp/ran SWITCHYARD_PLUGIN_PATH=$tmp/linked \
  "$sy" providers list > trusted.out 2>&1
[ -e ran ] && grep -q 'runner *ctor ' trusted.out && ok ||
  bad "the trusted link did not load: $(cat trusted.out)"

# ---- plugin_path is relative to the INI file that sets it -----------------
rm switchyard.ini
mkdir -p proj/plugins elsewhere && chmod 0755 proj proj/plugins
install -m 0755 "$fx/fx_code_a.so" proj/plugins/fx_code.so
printf '[PLATFORM]\nplugin_path = plugins\n' > proj/switchyard.ini
(cd elsewhere && "$sy" -c ../proj/switchyard.ini providers list) > rel.out 2> rel.err
grep -q '^actor *fx.mark ' rel.out && ok || bad "plugin_path not relative to its file: $(cat rel.err)"
[ ! -s rel.err ] && ok || bad "warnings: $(cat rel.err)"
"$sy" -c proj/switchyard.ini providers list | grep '^actor *fx.mark ' >/dev/null && ok ||
  bad "plugin_path from proj/switchyard.ini, run from its parent"
# from -o: relative to the current folder
"$sy" -o PLATFORM.plugin_path=proj/plugins providers list | grep '^actor *fx.mark ' >/dev/null &&
  ok || bad "plugin_path from -o"
(cd proj && "$sy" -o PLATFORM.plugin_path=proj/plugins providers list) > o.out 2> o.err
grep -qF -- "warning: -o: [PLATFORM] plugin_path: folder proj/plugins does not exist" o.err &&
  ok || bad "-o plugin_path relative to the current folder: $(cat o.err)"
# a folder that does not exist is a warning with file:line
printf '[PLATFORM]\n\nplugin_path = plugins:nothere\n' > proj/switchyard.ini
"$sy" -c proj/switchyard.ini providers list > miss.out 2> miss.err
grep -qF "warning: proj/switchyard.ini:3: [PLATFORM] plugin_path: folder proj/nothere does not exist" miss.err &&
  ok || bad "missing plugin_path folder: $(cat miss.err)"
grep -q '^actor *fx.mark ' miss.out && ok || bad "the existing folder still loads"

echo "plugins.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
