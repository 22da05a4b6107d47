#!/usr/bin/env bash
# End-to-end tests of the command line as a new user meets it: global
# options after the command, unknown [PLATFORM] keys failing every
# command, and the progress line never sharing a line with sink output
# or an error. Run by `make check` (top_builddir and top_srcdir are set).
. "$(cd "$(dirname "$0")" && pwd)/common.sh"

iris=$ex/iris/pipeline.flow

# ---- global options after the command (as -R already was) -------------
"$sy" run "$iris" > plain.csv 2> /dev/null
# -o after the command is the global -o
expect 2 "unknown runner instance 'nope'" -- "$sy" run "$iris" -o PLATFORM.runner=nope
expect 2 "unknown runner instance 'nope'" -- "$sy" run "$iris" --option=PLATFORM.runner=nope
"$sy" run "$iris" -o SINK.out.format=table > table.txt 2> /dev/null
head -1 table.txt | grep -q '^prediction  ' && ok || bad "-o after run was ignored: $(head -1 table.txt)"
# -q after the command silences the train summary; -v is accepted
out=$("$sy" train "$iris" --state s.state -q 2>&1)
[ -z "$out" ] && [ -s s.state ] && ok || bad "train ... -q printed: $out"
out=$("$sy" train "$iris" --state s.state 2>&1)
grep -q "trained states written" <<<"$out" && ok || bad "train without -q: $out"
"$sy" run "$iris" -v --cache off > v.csv 2> /dev/null && same plain.csv v.csv "run FLOW -v"
# -c after the command adds a config layer
printf '[SINK.out]\nformat = table\n' > table.ini
"$sy" run "$iris" -c table.ini > c.txt 2> /dev/null
same table.txt c.txt "run FLOW -c FILE"
"$sy" run "$iris" --config table.ini > c2.txt 2> /dev/null
same table.txt c2.txt "run FLOW --config FILE"
# later wins, before or after the command
"$sy" -o SINK.out.format=csv run "$iris" -o SINK.out.format=table > late.txt 2> /dev/null
same table.txt late.txt "-o before and after the command"
# a missing value is a usage error
expect 2 "run: option -o needs an argument" -- "$sy" run "$iris" -o
# a command's own option value is never taken for a global option
expect 2 "cache mode .-q. is not one of" -- "$sy" run "$iris" --cache -q
# compile keeps -o PROGRAM for itself
"$sy" compile "$iris" -o prog.bin -q > compile.out 2>&1 && [ -s prog.bin ] && [ ! -s compile.out ] &&
  ok || bad "compile -o PROGRAM -q: $(cat compile.out)"
# after --, nothing is a global option
expect 2 "expected one FLOW file" -- "$sy" run "$iris" -- -q

# ---- unknown [PLATFORM] keys fail every command -------------------------
expect 2 "^switchyard: -o: unknown key 'registy' in \[PLATFORM\] \(did you mean 'registry'\?\)" -- \
  "$sy" -o PLATFORM.registy=shelf train iris
expect 2 "unknown key 'registy' in \[PLATFORM\]" -- "$sy" -o PLATFORM.registy=shelf run "$iris"
expect 2 "unknown key 'registy' in \[PLATFORM\]" -- "$sy" -o PLATFORM.registy=shelf providers
expect 2 "unknown key 'registy' in \[PLATFORM\]" -- "$sy" -o PLATFORM.registy=shelf registry list
printf '[PLATFORM]\nrunner = inline\nrunnr = parallel\n' > typo.ini
expect 2 "typo.ini:3: unknown key 'runnr' in \[PLATFORM\] \(did you mean 'runner'\?\)" -- \
  "$sy" -c typo.ini run "$iris"
expect 2 "typo.ini:3: unknown key 'runnr'" -- "$sy" run "$iris" -c typo.ini
expect 2 "typo.ini:3: unknown key 'runnr'" -- "$sy" -c typo.ini config
expect 2 "\[PLATFORM\] cache: expected one of off, read, write, readwrite" -- \
  "$sy" -o PLATFORM.cache=sometimes run "$iris"

# ---- the progress line and what else is printed on the terminal ---------
# `script` gives the command a terminal; render() keeps what a terminal
# shows of each line: the text after the last carriage return, without
# escape sequences. A line the sink or an error wrote must not also show
# the progress line.
if command -v script > /dev/null; then
  mkdir -p prog
  printf 'x\n1\n' > prog/t.csv
  printf '[FEED.data]\nprovider = csv\npath = .\n' > prog/switchyard.ini
  for f in slow:"sleep 0.3; cat" fail:"sleep 0.3; exit 3"; do
    cat > "prog/${f%%:*}.flow" <<EOF
name   = "${f%%:*}";
source = { feed = "data"; table = "t"; };
actors = ( { id = "nap"; actor = "sys.exec"; params = { command = "${f#*:}"; }; } );
sink   = "out";
EOF
  done
  render() { sed -e 's/\r$//' -e 's/.*\r//' -e 's/\x1b\[[0-9;]*[A-Za-z]//g' "$1"; }
  script -qec "'$sy' run prog/slow.flow --cache off" /dev/null > tty.out 2>&1
  grep -q 'running' tty.out && ok || bad "no progress line was drawn: $(cat -v tty.out)"
  render tty.out > tty.txt
  grep -qx 'x' tty.txt && ok || bad "the sink's output shares a line: $(cat -v tty.out)"
  script -qec "'$sy' run prog/fail.flow --cache off" /dev/null > tty.out 2>&1
  render tty.out > tty.txt
  grep -q '^switchyard: step 1' tty.txt && ok ||
    bad "the error shares a line with the progress: $(cat -v tty.out)"
fi

echo "cmdline: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
