#!/usr/bin/env bash
# lazy.sh - a start loads only the plugins it uses.
#
# The built-in plugins.d gets its manifest (.switchyard-manifest) at the
# first start; after that a run with the inline runner must not map
# libgvc, libmpi or libarchive (the libraries of runner-graphviz,
# runner-mpi and registry-archive), while `providers` still lists their
# providers. What the dynamic linker maps is read from LD_DEBUG=files
# (glibc). A private folder with the fx_ctor fixture (its constructor
# leaves a marker file) shows when a plugin is loaded, and takes the
# stale, removed and corrupt manifests.
# shellcheck source=tests/e2e/common.sh
. "$(dirname "$0")/common.sh"
fx=$top_builddir/tests/providers/.libs
plugins=$top_builddir/plugins.d

# What a command maps: every shared object the dynamic linker opened.
maps() { LD_DEBUG=files "$@" 2>&1 >/dev/null | grep -o 'file=[^ ]*' | sort -u; }

# ---- a run maps none of the heavy libraries ---------------------------------
"$sy" providers > first.out 2>&1 && ok || bad "providers failed: $(cat first.out)"
[ -f "$plugins/.switchyard-manifest" ] && ok || bad "no manifest in $plugins"
heavy='libgvc|libmpi|libarchive'
maps "$sy" run "$ex/iris/pipeline.flow" > run.maps
grep -q 'libswitchyard' run.maps && ok || bad "LD_DEBUG shows nothing: $(cat run.maps)"
if grep -E "$heavy" run.maps; then
  bad "a run with the inline runner mapped one of $heavy"
else
  ok
fi
"$sy" run "$ex/iris/pipeline.flow" > run.out 2> run.err && [ -s run.out ] &&
  ok || bad "the iris run failed: $(cat run.err)"
# `providers` lists every provider and maps none of them either.
maps "$sy" providers > list.maps
grep -E "$heavy" list.maps && bad "providers mapped one of $heavy" || ok
"$sy" providers > list.out
for so in "$plugins"/*.so; do
  grep -qF "$so" list.out && ok || bad "providers does not list $so"
done
# What needs everything loads everything: the positive control, so that
# the checks above cannot pass for want of a library to see.
maps "$sy" providers schema --json > schema.maps
for pair in runner-graphviz:libgvc runner-mpi:libmpi registry-archive:libarchive; do
  [ -f "$plugins/${pair%%:*}.so" ] || continue
  grep -q "${pair#*:}" schema.maps && ok ||
    bad "providers schema did not map ${pair#*:}: $(cat schema.maps)"
done
# And a flow on the graphviz runner loads just that one.
if [ -f "$plugins/runner-graphviz.so" ]; then
  maps "$sy" -R draw run "$ex/iris/pipeline.flow" > draw.maps
  grep -q libgvc draw.maps && ok || bad "-R draw did not map libgvc"
  grep -qE 'libmpi|libarchive' draw.maps && bad "-R draw mapped more" || ok
fi

# ---- when a plugin is loaded --------------------------------------------------
mkdir -m 0755 plug
install -m 0755 "$fx/fx_ctor.so" plug/ctor.so
export SWITCHYARD_PLUGIN_PATH=$tmp/plug FX_CTOR_MARKER=$tmp/ran
"$sy" providers > /dev/null 2>&1
[ -e ran ] && ok || bad "a plugin with no manifest record was not read"
[ -f plug/.switchyard-manifest ] && ok || bad "no manifest written in plug/"
rm -f ran
"$sy" providers > p.out 2>&1
grep -q '^runner *ctor ' p.out && ok || bad "ctor not listed: $(cat p.out)"
[ ! -e ran ] && ok || bad "providers loaded a plugin it only lists"
"$sy" providers help runner.ctor > help.out 2>&1
[ -e ran ] && grep -q 'fx-ctor' help.out && ok ||
  bad "providers help did not load the plugin: $(cat help.out)"

# ---- a stale manifest is read again --------------------------------------------
rm -f ran
touch plug/ctor.so
"$sy" providers > /dev/null 2>&1
[ -e ran ] && ok || bad "a touched plugin was not read again"
rm -f ran
"$sy" providers > /dev/null 2>&1
[ ! -e ran ] && ok || bad "the manifest was not rewritten after the touch"
# Another plugin under the same name (another size).
install -m 0755 "$fx/fx_good.so" plug/ctor.so
"$sy" providers > p.out 2>&1
grep -q '^runner *zeta ' p.out && ! grep -q '^runner *ctor ' p.out && ok ||
  bad "a replaced plugin is listed as it was: $(cat p.out)"
grep -q 'zeta' plug/.switchyard-manifest && ok || bad "manifest not updated"
# Removed.
rm plug/ctor.so
"$sy" providers > p.out 2>&1
grep -q 'zeta' p.out && bad "a removed plugin is still listed" || ok
grep -q 'ctor.so' plug/.switchyard-manifest && bad "manifest keeps a removed file" || ok

# ---- a corrupt manifest is ignored and rebuilt, never a crash ---------------
install -m 0755 "$fx/fx_ctor.so" plug/ctor.so
"$sy" providers > /dev/null 2>&1
for junk in garbage cut nul huge; do
  case $junk in
  garbage) printf '\177ELF\001 [plugin ctor.so]\n= = =\n' > plug/.switchyard-manifest ;;
  cut) head -c 150 plug/.switchyard-manifest > m.cut && cat m.cut > plug/.switchyard-manifest ;;
  nul) printf '[switchyard-manifest]\n\000format = 1\n' > plug/.switchyard-manifest ;;
  huge) head -c 2000000 /dev/zero | tr '\0' '[' > plug/.switchyard-manifest ;;
  esac
  rm -f ran
  "$sy" providers > p.out 2> p.err
  rc=$?
  [ "$rc" -eq 0 ] && grep -q '^runner *ctor ' p.out && [ -e ran ] && ok ||
    bad "$junk manifest: exit $rc, $(cat p.out p.err)"
  head -n 4 plug/.switchyard-manifest | grep -q '^\[switchyard-manifest\]$' &&
    ok || bad "$junk manifest was not rebuilt"
  rm -f ran
  "$sy" providers > /dev/null 2>&1
  [ ! -e ran ] && ok || bad "after the $junk manifest, the rebuilt one is not used"
done

# ---- a folder the user cannot write: the manifest goes to the cache --------
if [ "$(id -u)" -ne 0 ]; then
  mkdir -m 0755 ro && install -m 0755 "$fx/fx_ctor.so" ro/ctor.so && chmod 0555 ro
  SWITCHYARD_PLUGIN_PATH=$tmp/ro "$sy" providers > /dev/null 2>&1
  ls "$HOME"/.cache/switchyard-plugins/*.manifest > /dev/null 2>&1 && ok ||
    bad "no manifest in the user's cache"
  rm -f ran
  SWITCHYARD_PLUGIN_PATH=$tmp/ro "$sy" providers > p.out 2>&1
  [ ! -e ran ] && grep -q '^runner *ctor ' p.out && ok ||
    bad "the cached manifest was not used: $(cat p.out)"
  chmod 0755 ro
fi

echo "lazy: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
