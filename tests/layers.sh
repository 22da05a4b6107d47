#!/bin/bash
# layers.sh - the layers the build enforces (issue 11, docs/design.md
# "Layers the build enforces"):
#   1. libswitchyard.so exports no sy__ (internal) symbol: nm -D;
#   2. providers, services/, the CLI, benchmarks and examples include no
#      core header (core/*.h): only the core and the tests of its
#      internals may;
#   3. no cycle of calls between the files of core/: for each pair of
#      core objects, who defines a symbol the other uses (nm), and no file
#      reaches itself through those ties.
# shellcheck shell=bash
set -uo pipefail
top_builddir=${top_builddir:-$(pwd)}
top_srcdir=${top_srcdir:-$top_builddir}
passed=0 failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }

# 1. exports
lib=$top_builddir/core/.libs/libswitchyard.so
if [ ! -f "$lib" ]; then
  bad "$lib not built"
else
  leaked=$(nm -D --defined-only "$lib" | awk '$3 ~ /^sy__/ {print $3}')
  [ -z "$leaked" ] && ok || bad "libswitchyard.so exports internal symbols:" $leaked
  exported=$(nm -D --defined-only "$lib")
  grep -q ' T sy_job_run$' <<<"$exported" && ok ||
    bad "libswitchyard.so does not export sy_job_run (the check above proves nothing)"
fi

# 2. includes: a quoted include that names a header of core/ (by its base
# name, as -I core would find it, or by a path into core/).
core_headers=$(cd "$top_srcdir/core" && ls -- *.h)
scan() { # scan FOLDER...: prints file:line: include of a core header
  local h
  for h in $core_headers; do
    grep -rnE --include='*.c' --include='*.h' --include='*.cc' \
      "^[[:space:]]*#[[:space:]]*include[[:space:]]*\"([^\"]*/)?$h\"" "$@" |
      grep -vE "\"switchyard/" || true
  done
}
dirs=()
for d in providers services cli bench examples; do
  [ -d "$top_srcdir/$d" ] && dirs+=("$top_srcdir/$d")
done
found=$(scan "${dirs[@]}")
[ -z "$found" ] && ok || bad "core headers included outside core/:"$'\n'"$found"
# The check itself must see an offender.
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
mkdir -p "$probe/cli"
printf '#include "job.h"\n' >"$probe/cli/x.c"
[ -n "$(scan "$probe/cli")" ] && ok || bad "the include check misses #include \"job.h\""
# -I core in the Makefile: the library's flags and the internal tests' only.
if grep -nE '^AM_CPPFLAGS.*core' "$top_srcdir/Makefile.am"; then
  bad "AM_CPPFLAGS gives -I core to every target"
else
  ok
fi

# 3. no cycle of calls between core files
# The objects of the sources core/ holds now (not those a build left of
# files since moved away).
objs=$(for c in "$top_srcdir"/core/*.c; do
  o=$top_builddir/core/.libs/core_libswitchyard_la-$(basename "$c" .c).o
  [ -f "$o" ] && echo "$o"
done)
if [ -z "$objs" ]; then
  bad "no core objects in core/.libs"
else
  edges=$(for o in $objs; do
    f=${o##*/core_libswitchyard_la-}; f=${f%.o}
    nm "$o" | awk -v f="$f" '$1 == "U" {print "U", f, $2}
      NF == 3 && $2 ~ /^[TDBR]$/ {print "D", f, $3}'
  done | awk '$1 == "D" {def[$3] = $2; next} {use[++n] = $2 " " $3}
    END {for (i = 1; i <= n; i++) {split(use[i], a, " ");
      if ((a[2] in def) && def[a[2]] != a[1]) print a[1], def[a[2]], a[2]}}' |
    sort -u)
  # Transitive closure over the files; a file that reaches itself is on
  # a cycle (Warshall on a few dozen files).
  cycles=$(awk '{e[$1 " " $2] = 1; f[$1]; f[$2]}
    END {for (k in f) for (i in f) if ((i " " k) in e)
           for (j in f) if ((k " " j) in e) e[i " " j] = 1;
         for (i in f) if ((i " " i) in e) print i}' <<<"$edges" | sort)
  if [ -z "$cycles" ]; then
    ok
  else
    bad "core files on a cycle of calls:" $cycles
    for c in $cycles; do
      awk -v c="$c" '$1 == c' <<<"$edges" | while read -r a b s; do
        grep -q "^$b " <<<"$(echo "$cycles" | sed 's/$/ /')" && echo "  $a -> $b ($s)"
      done
    done
  fi
fi
echo "layers: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
