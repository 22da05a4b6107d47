#!/usr/bin/env bash
# End-to-end tests of issue 10, items 3 and 17: one bad cell in a numeric
# column fails the run with file:line:column instead of silently dropping
# the feature; `check` finds what `run` would fail on (unknown feed or
# sink instance, a missing label column, unknown std.select / std.drop
# columns) from the feed's description of the table, reading only its
# header. Run by `make check`.
. "$(cd "$(dirname "$0")" && pwd)/common.sh"

mkdir -p data
printf 'x,y,species\n1,0.5,a\n2,1.5,b\n3,oops,a\n4,3.5,b\n' > data/bad.csv
printf 'x,y,species\n1,0.5,a\n2,1.5,b\n3,2.5,a\n4,3.5,b\n' > data/good.csv
printf 'x,y,species\n1,0.5\n"unterminated\n' > data/broken.csv
printf '[FEED.data]\nprovider = csv\npath = data\n' > switchyard.ini
flow() { cat > "$1"; }

# ---- item 3: a bad cell is an error, not a text column --------------------
flow bad.flow <<'F'
name = "bad";
source = { feed = "data"; table = "bad"; label = "species"; };
actors = (
  { id = "scale"; actor = "std.scaler"; },
  { id = "model"; actor = "std.logreg"; }
);
sink = "out";
F
expect 1 "data/bad\.csv:4:3: column 'y': 'oops' is not a number, but 3 of the column's 4 values are" -- "$sy" run bad.flow
# declared text: the run goes on, and says at -v what the actors ignore
printf '[FEED.data]\nprovider = csv\npath = data\ntypes = bad.y:string\n' > typed.ini
expect 0 "note: step [0-9]+ \(train scale \(std\.scaler\)\): std\.scaler: column 'y' is text \(string\), not scaled" -- "$sy" -v -c typed.ini run bad.flow --cache off
expect 0 "note: step [0-9]+ \(train model \(std\.logreg\)\): std\.logreg: column 'y' is text \(string\), not a feature" -- "$sy" -v -c typed.ini run bad.flow --cache off
"$sy" -c typed.ini run bad.flow --cache off >/dev/null 2>quiet.err && ! grep -q "note:" quiet.err && ok || bad "notes without -v: $(cat quiet.err)"
# a model trained on y as a number refuses y as text
printf 'x,y,species\n1,0.5,a\n2,1.5,b\n3,2.5,a\n4,3.5,b\n' > data/bad.csv
"$sy" train bad.flow --state bad.state 2>train.err && ok || bad "train: $(cat train.err)"
printf 'x,y,species\n1,0.5,a\n2,1.5,b\n3,oops,a\n4,3.5,b\n' > data/bad.csv
expect 1 "std\.scaler: column 'y' is not numeric \(f64 or i64\): it is text \(string\) here, but was trained as a number" -- "$sy" -c typed.ini apply bad.flow --state bad.state

# ---- item 17: check finds what run would fail on ------------------------
flow good.flow <<'F'
name = "good";
source = { feed = "data"; table = "good"; label = "species"; };
actors = (
  { id = "pick"; actor = "std.select"; params = { columns = ["x", "y"]; }; },
  { id = "less"; actor = "std.drop"; params = { columns = ["y"]; }; },
  { id = "model"; actor = "std.logreg"; }
);
sink = "out";
F
expect 0 "good\.flow: ok" -- "$sy" check good.flow
expect 0 "" -- "$sy" run good.flow

sed 's/feed = "data"/feed = "dta"/' good.flow > nofeed.flow
expect 2 "nofeed\.flow:2: source\.feed: unknown feed instance 'dta'.*did you mean 'data'" -- "$sy" check nofeed.flow
sed 's/sink = "out"/sink = "nowhere"/' good.flow > nosink.flow
expect 2 "nosink\.flow:8: sink: unknown sink instance 'nowhere'" -- "$sy" check nosink.flow
sed 's/label = "species"/label = "kind"/' good.flow > nolabel.flow
expect 2 "nolabel\.flow:2: source\.label: table 'good' of feed 'data' has no column 'kind' \(columns: x, y, species\); node 'model' \(std\.logreg\) trains on it" -- "$sy" check nolabel.flow
sed 's/columns = \["x", "y"\]/columns = ["x", "z"]/' good.flow > select.flow
expect 2 "select\.flow:4: node 'pick' \(std\.select\): unknown column 'z' \(available: x, y\)" -- "$sy" check select.flow
sed 's/columns = \["y"\]/columns = ["w"]/' good.flow > drop.flow
expect 2 "drop\.flow:5: node 'less' \(std\.drop\): unknown column 'w' \(available: x, y\)" -- "$sy" check drop.flow
sed 's/columns = \["x", "y"\]/columns = ["x", "species"]/' good.flow > labelsel.flow
expect 2 "labelsel\.flow:4: node 'pick' \(std\.select\): column 'species' is the label" -- "$sy" check labelsel.flow
sed 's/table = "good"/table = "goood"/' good.flow > notable.flow
expect 2 "notable\.flow:2: source: feed 'data', table 'goood': no table 'goood'" -- "$sy" check notable.flow
# every mistake is reported, not only the first
cat > many.flow <<'F'
name = "many";
source = { feed = "data"; table = "good"; label = "kind"; };
actors = (
  { id = "pick"; actor = "std.select"; params = { columns = ["z"]; }; },
  { id = "model"; actor = "std.logreg"; }
);
sink = "nowhere";
F
out=$("$sy" check many.flow 2>&1)
[ "$(grep -cE '^many\.flow:[0-9]+: ' <<<"$out")" -eq 3 ] && ok || bad "check many.flow: expected 3 problems: $out"
# the run the checks stand for does fail
expect 1 "unknown column 'z'" -- "$sy" run select.flow
# describe reads only the header: a broken body still checks, run fails
sed 's/table = "good"/table = "broken"/' good.flow > broken.flow
expect 0 "broken\.flow: ok" -- "$sy" check broken.flow
expect 1 "broken\.csv:2:1: 2 fields, header has 3" -- "$sy" run broken.flow

echo "data: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
