#!/usr/bin/env bash
# Installs the build into a temporary prefix and checks what a user and a
# third-party provider author get from it:
#   - the installed switchyard runs and finds its built-in providers
#   - examples/provider-hello builds with nothing but
#       cc -shared -fPIC $(pkg-config --cflags --libs switchyard)
#     and shows up through SWITCHYARD_PLUGIN_PATH and through
#     [PLATFORM] plugin_path
#   - examples/runner-min (the provider guide's runner on the runner SDK)
#     builds the same way and runs a flow to the inline runner's output
#   - make uninstall leaves no file behind
# libtool bakes the install prefix into what it links, so this builds a
# copy of the tree (_build-install) configured for a temporary prefix.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
tmp=$(mktemp -d)
prefix=/tmp/switchyard-install-test
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp" "$prefix"' EXIT
fail() { echo "install.sh: FAIL: $*" >&2; exit 1; }

build=$top/_build-install
mkdir -p "$build"
# (tar replaces files that exist, where cp --parents sometimes fails with
# EEXIST on a tree it copied into before.)
git ls-files -z --cached --others --exclude-standard |
  tar --null -T - -cf - | tar -xf - -C "$build"
cd "$build"
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt configure ]; then
  ./autogen.sh >/dev/null 2>&1
fi
if [ ! -f Makefile ] || [ configure -nt Makefile ]; then
  ./configure -q --prefix="$prefix" 2>&1 | grep -v "cannot remove 'core'" || true
fi
make -s -j"$jobs" >/dev/null
rm -rf "$prefix"
# A plugin file an older switchyard installed whose providers moved into
# base.so would clash with base's at every start: make install drops it.
mkdir -p "$prefix/lib/switchyard/plugins.d"
printf 'old\n' > "$prefix/lib/switchyard/plugins.d/feed-csv.so"
make -s install >/dev/null
[ ! -e "$prefix/lib/switchyard/plugins.d/feed-csv.so" ] ||
  fail "make install left a retired plugin file (feed-csv.so)"
[ -e "$prefix/lib/switchyard/plugins.d/base.so" ] || fail "no base.so installed"
for f in bin/switchyard include/switchyard/switchyard.h include/switchyard/plugin.h \
         lib/pkgconfig/switchyard.pc etc/switchyard.ini share/man/man1/switchyard.1 \
         lib/switchyard/serve-simdjson.so; do
  [ -e "$prefix/$f" ] || fail "make install did not install $f"
done
ls "$prefix"/lib/libswitchyard.so* >/dev/null || fail "no libswitchyard.so"
ls "$prefix"/lib/switchyard/plugins.d/*.so >/dev/null || fail "no built-in providers in plugins.d"

export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
export LD_LIBRARY_PATH=$prefix/lib
export HOME=$tmp/home XDG_CONFIG_HOME=
mkdir -p "$HOME"
cd "$tmp"
sy=$prefix/bin/switchyard

# The installed binary uses the installed plugins.d, not the build tree's.
out=$("$sy" providers)
echo "$out" | grep -q "runner *inline" || fail "installed switchyard lists no inline runner: $out"
echo "$out" | grep -q "$prefix/lib/switchyard/plugins.d" || fail "providers not from the installed plugins.d"

# A provider built out of tree, exactly as the author's guide says.
mkdir -p "$tmp/hello"
cc -shared -fPIC -fvisibility=hidden -o "$tmp/hello/hello.so" \
  "$top/examples/provider-hello/hello.c" $(pkg-config --cflags --libs switchyard)
chmod 0755 "$tmp/hello" "$tmp/hello/hello.so"
SWITCHYARD_PLUGIN_PATH=$tmp/hello "$sy" providers | grep -q "actor *hello.greet" ||
  fail "hello.greet not listed through SWITCHYARD_PLUGIN_PATH"
printf '[PLATFORM]\nplugin_path = %s\n' "$tmp/hello" > "$tmp/plugins.ini"
"$sy" -c "$tmp/plugins.ini" providers | grep -q "actor *hello.greet" ||
  fail "hello.greet not listed through [PLATFORM] plugin_path"
SWITCHYARD_PLUGIN_PATH=$tmp/hello "$sy" providers help actor.hello.greet | grep -q "greeting" ||
  fail "providers help does not show hello.greet's options"

# A third-party runner on the runner SDK (docs/provider-guide.md, "A
# complete runner"), built against the installed headers, runs a flow to
# the same output as the installed inline runner.
mkdir -p "$tmp/rmin"
cc -shared -fPIC -fvisibility=hidden -o "$tmp/rmin/runner-min.so" \
  "$top/examples/runner-min/runner-min.c" $(pkg-config --cflags --libs switchyard)
chmod 0755 "$tmp/rmin" "$tmp/rmin/runner-min.so"
cp -r "$top/examples/iris" "$tmp/iris"
"$sy" -q run "$tmp/iris/pipeline.flow" > "$tmp/iris/inline.out" ||
  fail "the installed inline runner cannot run examples/iris"
SWITCHYARD_PLUGIN_PATH=$tmp/rmin "$sy" -q -o RUNNER.m.provider=min \
  run "$tmp/iris/pipeline.flow" -R m > "$tmp/iris/min.out" ||
  fail "runner-min (built against the installed headers) cannot run examples/iris"
[ -s "$tmp/iris/inline.out" ] && cmp -s "$tmp/iris/inline.out" "$tmp/iris/min.out" ||
  fail "runner-min's output differs from the inline runner's"

# A group-writable plugin is refused, with the file named, others still load.
cp "$tmp/hello/hello.so" "$tmp/hello/bad.so"
chmod 0775 "$tmp/hello/bad.so"
err=$(SWITCHYARD_PLUGIN_PATH=$tmp/hello "$sy" providers 2>&1 >/dev/null || true)
echo "$err" | grep -q "bad.so" || fail "writable plugin not reported: $err"
rm -f "$tmp/hello/bad.so"

cd "$build"
make -s uninstall >/dev/null
left=$(find "$prefix" -type f | head -5)
[ -z "$left" ] || fail "make uninstall left files behind: $left"
echo "install.sh: ok"
