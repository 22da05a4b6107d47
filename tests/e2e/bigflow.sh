#!/usr/bin/env bash
# End-to-end test of loading a large flow with little memory (issue 16,
# item 2): the fast parser gives back the text behind it and the loader
# gives back the parse tree of the actors it has read (flow.c,
# actors_parsed and discard_behind), which only happens in a flow of more
# than 4 MiB and 1024 actors. The program it compiles to must be the one
# libconfig's parser gives (the same file with CRLF line ends, which the
# fast parser leaves to libconfig), step by step. Run by `make check`.
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
printf 'a\n1\n' >t.csv
awk 'BEGIN {
  n = 60000
  print "name = \"big\";"
  print "source = { feed = \"data\"; table = \"t\"; };"
  print "actors = ("
  for (i = 0; i < n; i++) {
    ins = i < 3 ? "\"source\"" : "\"a" (i - 1) "\", \"a" (i - 3) "\""
    printf "  { id = \"a%d\"; actor = \"sys.exec\"; inputs = [%s]; params = { command = \"cat {in0}\"; }; }%s\n", i, ins, (i < n - 1 ? "," : "")
  }
  print ");"
}' >big.flow
sed 's/$/\r/' big.flow >crlf.flow
size=$(wc -c <big.flow)
[ "$size" -gt 4194304 ] || bad "big.flow is only $size bytes"
"$sy" -q -o FEED.data.path="$tmp" compile big.flow --explain >fast.txt 2>&1 || bad "compile big.flow: $(head -3 fast.txt)"
"$sy" -q -o FEED.data.path="$tmp" compile crlf.flow --explain >slow.txt 2>&1 || bad "compile crlf.flow: $(head -3 slow.txt)"
grep -q '^program big (flow big.flow), mode run, 60002 steps' fast.txt && ok || bad "fast.txt: $(head -1 fast.txt)"
tail -n +2 fast.txt >fast.body
tail -n +2 slow.txt >slow.body
same fast.body slow.body "the programs of the fast parser and libconfig"
expect 0 'big.flow: ok' -- "$sy" -o FEED.data.path="$tmp" check big.flow
echo "bigflow.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
