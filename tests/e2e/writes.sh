#!/usr/bin/env bash
# End-to-end tests of the files a user names as outputs (train --state,
# compile -o, --log, --trace, the csv sink's path, the graphviz runner's
# output) and reads as states (apply --state): a device, FIFO, socket or
# folder is refused with a message naming it and is left as it was,
# nothing hangs, a symlink is written through, and a state file that is
# not a regular file or is too large is refused without being read.
# Run by `make check` (top_builddir and top_srcdir are set there).
. "$(cd "$(dirname "$0")" && pwd)/common.sh"

iris=$ex/iris/pipeline.flow
is_chr() { [ -c "$1" ] && ok || bad "$1 is no longer a character device: $(ls -l "$1")"; }

# ---- train --state /dev/null: refused before training; /dev/null stays a
# device (as root the old code replaced it with a regular file).
expect 2 "'/dev/null' is a character device, not a regular file" -- \
  "$sy" -q train "$iris" --state /dev/null
is_chr /dev/null
# the same through a symlink: the message names the link and its target
ln -s /dev/null null.state
expect 2 "null.state \(-> /dev/null\)' is a character device" -- \
  "$sy" -q train "$iris" --state null.state
[ -L null.state ] && ok || bad "the link null.state was replaced"
is_chr /dev/null
expect 2 "'$tmp' is a directory" -- "$sy" -q train "$iris" --state "$tmp"

# ---- a symlinked state file is written through: the link stays, its
# target gets the states, and apply reads them back.
mkdir states
echo old > states/real.state
ln -s states/real.state iris.state
"$sy" -q train "$iris" --state iris.state 2> train.err || bad "train through a link: $(cat train.err)"
[ -L iris.state ] && ok || bad "train replaced the link iris.state"
echo old | cmp -s - states/real.state && bad "the link's target kept its old content" || ok
[ "$(ls states)" = real.state ] && ok || bad "litter beside the target: $(ls states)"
"$sy" -q apply "$iris" --state iris.state > applied.csv 2> apply.err && [ -s applied.csv ] &&
  ok || bad "apply from the linked state: $(cat apply.err)"

# ---- apply --state /dev/zero: refused at once (exit 2), not read forever;
# a FIFO with no writer does not hang; a huge file is refused unread.
expect 2 "/dev/zero: is a character device, not a regular file" -- \
  timeout 20 "$sy" -q apply "$iris" --state /dev/zero
mkfifo states.fifo
expect 2 "states.fifo: is a FIFO" -- timeout 20 "$sy" -q apply "$iris" --state states.fifo
truncate -s 3G huge.state
expect 2 "huge.state: 3221225472 bytes, more than the limit" -- \
  timeout 20 "$sy" -q apply "$iris" --state huge.state
rm -f huge.state

# ---- compile -o, --log, --trace
expect 2 "'/dev/null' is a character device" -- "$sy" compile "$iris" -o /dev/null
is_chr /dev/null
expect 2 "'$tmp' is a directory" -- "$sy" compile "$iris" -o "$tmp"
expect 2 "run log \(--log\): '/dev/null' is a character device" -- \
  "$sy" -q run "$iris" --log /dev/null
is_chr /dev/null
mkfifo trace.fifo
expect 2 "trace \(--trace\): 'trace.fifo' is a FIFO" -- \
  timeout 20 "$sy" -q run "$iris" --trace trace.fifo
[ -p trace.fifo ] && ok || bad "trace.fifo was replaced"
# a log through a symlink lands in the link's target
echo old > real.log
ln -s real.log link.log
"$sy" -q run "$iris" --log link.log > /dev/null 2> log.err || bad "--log through a link: $(cat log.err)"
[ -L link.log ] && grep -q '"event":"done"' real.log && ok || bad "--log did not write through the link"

# ---- the csv sink on a FIFO: refused, and the run does not hang (no
# reader is ever attached).
mkfifo out.fifo
sed 's/^sink .*/sink = "file";/' "$iris" > tofile.flow
cat > switchyard.ini <<EOF
[FEED.data]
provider = csv
path = $ex/iris

[SINK.file]
provider = csv
path = $tmp/out.fifo
EOF
expect 1 "'$tmp/out.fifo' is a FIFO \(named pipe\), not a regular file" -- \
  timeout 20 "$sy" -q run tofile.flow --cache off
[ -p out.fifo ] && ok || bad "out.fifo was replaced"
# ... and on /dev/null and a folder
expect 1 "'/dev/null' is a character device" -- \
  timeout 20 "$sy" -q -o SINK.file.path=/dev/null run tofile.flow --cache off
is_chr /dev/null
expect 1 "'$tmp' is a directory" -- \
  timeout 20 "$sy" -q -o SINK.file.path="$tmp" run tofile.flow --cache off
# ... and writes through a symlink
echo old > real.csv
ln -s real.csv link.csv
"$sy" -q -o SINK.file.path="$tmp/link.csv" run tofile.flow 2> sink.err &&
  [ -L link.csv ] && head -1 real.csv | grep -q '^prediction,' && ok ||
  bad "csv sink through a link: $(cat sink.err)"
rm switchyard.ini

# ---- the graphviz runner's output
expect 1 "'/dev/null' is a character device" -- \
  "$sy" -q -R draw -o RUNNER.draw.output=/dev/null run "$iris"
is_chr /dev/null

echo "writes: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
