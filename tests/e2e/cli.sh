#!/usr/bin/env bash
# End-to-end tests of the command line: exit codes, error messages with
# file:line and hints, config layering and origins, providers output.
# Run by `make check` (top_builddir and top_srcdir are set there).
. "$(cd "$(dirname "$0")" && pwd)/common.sh"

expect 0 "^switchyard [0-9]+\.[0-9]+\.[0-9]+ \(plugin ABI 1\.[0-9]+" -- "$sy" --version
expect 0 "usage: switchyard" -- "$sy" --help
expect 2 "unknown command 'frobnicate'" -- "$sy" frobnicate
expect 2 "unknown command 'provders' \(did you mean 'providers'\?\)" -- "$sy" provders
expect 2 "unknown option '--nope'" -- "$sy" --nope providers
expect 2 "usage: switchyard" -- "$sy"
for cmd in run train apply check compile providers config version; do
  expect 0 "usage: switchyard \[global options\] $cmd" -- "$sy" "$cmd" --help
done

# providers
expect 0 "runner +inline +1\.0\.0" -- "$sy" providers
expect 0 "runner +inline" -- "$sy" providers list
expect 0 "^runner\.inline 1\.0\.0 - " -- "$sy" providers help runner.inline
expect 2 "no runner provider or instance named 'nope'" -- "$sy" providers help runner.nope
expect 2 "not KIND\.NAME" -- "$sy" providers help inline
"$sy" providers schema --json > schema.json 2>/dev/null
if command -v jq >/dev/null; then
  if jq -e '.schema_version == 1 and (.providers | length) > 0 and
            all(.providers[]; .kind and .name and .version and .description and
                all(.options[]; .name and .type and .help))' schema.json >/dev/null; then
    ok
  else
    bad "providers schema --json is not the expected JSON: $(head -c 400 schema.json)"
  fi
fi

# config: layering and origins
cat > a.ini <<'INI'
[PLATFORM]
log_level = warn

[RUNNER.fast]
provider = inline
INI
cat > b.ini <<'INI'
[PLATFORM]
log_level = debug
INI
expect 0 "log_level = debug +; .*b\.ini:2" -- "$sy" -c a.ini -c b.ini config
expect 0 "log_level = error +; -o" -- "$sy" -c a.ini -c b.ini -o PLATFORM.log_level=error config
expect 0 "\[RUNNER\.fast\]" -- "$sy" -c a.ini config
expect 0 "runner = fast +; -o" -- "$sy" -c a.ini -R fast config
cp b.ini switchyard.ini
expect 0 "log_level = debug +; \./switchyard\.ini:2" -- "$sy" config
rm switchyard.ini
mkdir -p "$HOME/.config/switchyard"
printf '[PLATFORM]\nlog_level = error\n' > "$HOME/.config/switchyard/switchyard.ini"
expect 0 "log_level = error +; .*\.config/switchyard/switchyard\.ini:2" -- "$sy" config
rm "$HOME/.config/switchyard/switchyard.ini"
expect 0 "config ok" -- "$sy" -c a.ini config --check

# config errors: file:line, what, and a hint
printf '[RUNER.x]\nprovider = inline\n' > e1.ini
expect 2 "e1\.ini:1: unknown section kind 'RUNER' .*did you mean 'RUNNER'" -- "$sy" -c e1.ini config --check
printf '[RUNNER.fast]\nprovider = inlin\n' > e2.ini
expect 2 "e2\.ini:2: unknown runner provider 'inlin' .*did you mean 'inline'.*try: switchyard providers list" -- "$sy" -c e2.ini config --check
printf '[PLATFORM]\nlog_levle = debug\n' > e3.ini
expect 2 "e3\.ini:2: unknown key 'log_levle' .*did you mean 'log_level'" -- "$sy" -c e3.ini config --check
printf '[PLATFORM]\nlog_level = loud\n' > e4.ini
expect 2 "e4\.ini:2: .*log_level: expected one of error, warn, info, debug" -- "$sy" -c e4.ini config --check
printf '[PLATFORM]\nrunner = a\nrunner = b\n' > e5.ini
expect 2 "e5\.ini:3: key 'runner' set twice in \[PLATFORM\] \(first at line 2\)" -- "$sy" -c e5.ini config
printf '[PLATFORM\n' > e6.ini
expect 2 "e6\.ini:1: unterminated section header" -- "$sy" -c e6.ini config
printf '[RUNNER.fast]\nprovider = inline\nworkers = 3\n' > e7.ini
expect 2 "e7\.ini:3: unknown key 'workers' in \[RUNNER\.fast\].*try: switchyard providers help runner\.fast" -- "$sy" -c e7.ini config --check
expect 2 "cannot open|No such file" -- "$sy" -c missing.ini config
expect 2 "PLATFORM|=" -- "$sy" -o garbage config
printf '[PLATFORM]\nplugin_path = ${SY_TEST_UNSET_VAR}\n' > e8.ini
expect 2 "SY_TEST_UNSET_VAR" -- "$sy" -c e8.ini config --check

# a bad plugin in a folder is reported and does not hide the others
mkdir -p plug && chmod 0755 plug
printf 'not an elf' > plug/broken.so && chmod 0644 plug/broken.so
expect 0 "broken\.so" -- env SWITCHYARD_PLUGIN_PATH="$tmp/plug" "$sy" providers
expect 0 "runner +inline" -- env SWITCHYARD_PLUGIN_PATH="$tmp/plug" "$sy" providers

# secrets are never printed
fx=$top_builddir/tests/providers/.libs/fx_good.so
if [ -f "$fx" ]; then
  mkdir -p fx && chmod 0755 fx && cp "$fx" fx/ && chmod 0755 fx/fx_good.so
  printf '[FEED.src]\nprovider = alpha\npath = /tmp\ntoken = hunter2\n' > secret.ini
  expect 0 "token = \(secret\) +; .*secret\.ini:4" -- env SWITCHYARD_PLUGIN_PATH="$tmp/fx" "$sy" -c secret.ini config
  out=$(SWITCHYARD_PLUGIN_PATH="$tmp/fx" "$sy" -c secret.ini config 2>&1)
  grep -q hunter2 <<<"$out" && bad "config printed a secret: $out" || ok
  expect 0 "token +string +default: \(none\) +\[secret\]" -- env SWITCHYARD_PLUGIN_PATH="$tmp/fx" "$sy" providers help feed.alpha
  expect 0 "rows +int +default: 10 +range: 0 \.\. 1000" -- env SWITCHYARD_PLUGIN_PATH="$tmp/fx" "$sy" -c secret.ini providers help feed.src
  expect 0 "mode +enum +default: fast +one of: fast, safe" -- env SWITCHYARD_PLUGIN_PATH="$tmp/fx" "$sy" providers help feed.alpha
  expect 2 "\[FEED\.bad\] missing required key 'path'" -- env SWITCHYARD_PLUGIN_PATH="$tmp/fx" "$sy" -o FEED.bad.provider=alpha config --check
  expect 2 "rows: expected an int between 0 and 1000, got '5000'.*try: switchyard providers help feed\.src" -- env SWITCHYARD_PLUGIN_PATH="$tmp/fx" "$sy" -c secret.ini -o FEED.src.rows=5000 config --check
else
  bad "fixture $fx not built"
fi

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
