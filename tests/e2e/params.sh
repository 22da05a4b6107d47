#!/usr/bin/env bash
# End-to-end tests of flow parameters (issue 14, point 1): declarations
# checked with file:line, -p and --params on every flow command, unknown
# or ill-typed values refused with exit 2 and a did-you-mean, parameters
# entering cache keys exactly where they are used, and releases recording
# the values they were made with. Run by `make check`.
. "$(cd "$(dirname "$0")" && pwd)/common.sh"

cp "$ex/iris/iris.csv" .
printf '[FEED.data]\nprovider = csv\npath = .\n' > switchyard.ini
cat > p.flow <<'FLOW'
name    = "irisp";
source  = { feed = "data"; table = "iris"; label = "species"; };
params  = {
  rate   = { type = "float"; default = 0.5; help = "learning rate"; };
  epochs = { type = "int"; default = 40; };
};
actors  = (
  { id = "scale"; actor = "std.scaler"; },
  { id = "model"; actor = "std.logreg"; inputs = ["scale"];
    params = { epochs = { param = "epochs"; }; rate = { param = "rate"; }; }; }
);
sink    = "out";
FLOW
expect 0 "p.flow: ok" -- "$sy" check p.flow

# A default is the same as the literal: same keys as a flow without params.
sed -e '/^params/,/^};/d' \
  -e 's/epochs = { param = "epochs"; }; rate = { param = "rate"; };/epochs = 40; rate = 0.5;/' \
  p.flow > lit.flow
"$sy" compile p.flow | grep -o 'key [0-9a-f]*' > keys.p
"$sy" compile lit.flow | grep -o 'key [0-9a-f]*' > keys.lit
same keys.p keys.lit "defaults vs literal parameters"
"$sy" compile p.flow -p rate=0.25 | grep -o 'key [0-9a-f]*' > keys.r
# Only the model's steps change with rate: the feed and the scaler keep
# theirs; the model's train and apply and the sink after them change.
[ "$(head -5 keys.p)" = "$(head -5 keys.r)" ] && ok || bad "rate changed other keys: $(diff keys.p keys.r)"
[ "$(diff keys.p keys.r | grep -c '^>')" = 3 ] && ok || bad "rate changed too few keys: $(diff keys.p keys.r)"

# Errors: unknown (did-you-mean), ill-typed, bad form, from a file.
expect 2 "-p rat: unknown parameter 'rat' \(did you mean 'rate'\?\)" -- "$sy" run p.flow -p rat=1
expect 2 "-p rate: .*expected a float, got 'abc'" -- "$sy" run p.flow -p rate=abc
expect 2 "-p epochs: .*expected an int, got '1.5'" -- "$sy" train p.flow --state s -p epochs=1.5
expect 2 "expected NAME=VALUE" -- "$sy" run p.flow -p rate
expect 2 "unknown parameter 'rate': lit.flow declares no parameters" -- "$sy" run lit.flow -p rate=1
printf 'rate = 0.2;\nepochs = "x";\n' > bad.params
expect 2 "bad.params:2: parameter 'epochs' .*expected an int, got a string" -- "$sy" compile p.flow --params bad.params
printf 'rate = = 0.2;\n' > syntax.params
expect 2 "syntax.params:[0-9]+: syntax error" -- "$sy" run p.flow --params syntax.params
expect 2 "cannot open" -- "$sy" release p.flow --version 9 --params missing.params

# Declarations and references are checked with file:line.
sed 's/default = 0.5; //' p.flow > req.flow
expect 2 "req.flow:10: model.params.rate: flow parameter 'rate' has no value" -- "$sy" check req.flow
expect 0 "req.flow: ok" -- "$sy" check req.flow -p rate=1
sed 's/param = "rate"/param = "rtae"/' p.flow > ref.flow
expect 2 "ref.flow:10: .*unknown flow parameter 'rtae' \(did you mean 'rate'\?\)" -- "$sy" check ref.flow
sed 's/type = "float"/type = "flaot"/' p.flow > type.flow
expect 2 "type.flow:4: params.rate.type: .*did you mean 'float'" -- "$sy" check type.flow
sed 's/default = 40/default = 4.5/' p.flow > def.flow
expect 2 "def.flow:5: params.epochs.default: expected an int, got a float" -- "$sy" check def.flow
sed 's/type = "int"; default = 40/type = "float"; default = 40.5/' p.flow > mis.flow
expect 2 "mis.flow:10: model.params.epochs: expected an int, got a float \(flow parameter 'epochs'\)" -- "$sy" check mis.flow

# The cache: changing rate reruns only the steps that read it.
"$sy" -q run p.flow --log run1.jsonl > out1.csv || bad "run 1"
"$sy" -q run p.flow --log run2.jsonl -p rate=0.25 > out2.csv || bad "run 2"
for s in "feed data:iris" "train scale" "apply scale"; do
  grep "\"label\":\"$s" run2.jsonl | grep -q '"event":"cached"' && ok || bad "$s ran again"
done
for s in "train model" "apply model"; do
  grep "\"label\":\"$s" run2.jsonl | grep -q '"event":"done"' && ok || bad "$s did not rerun"
done
cmp -s out1.csv out2.csv && bad "rate changed nothing" || ok
# -p wins over --params, and the last -p wins.
printf 'rate = 0.25;\n' > r.params
"$sy" -q run p.flow --params r.params > out3.csv && same out2.csv out3.csv "--params rate"
"$sy" -q run p.flow --params r.params -p rate=0.5 > out4.csv && same out1.csv out4.csv "-p over --params"
"$sy" -q run p.flow -p rate=0.1 -p rate=0.25 > out5.csv && same out2.csv out5.csv "last -p"

# A release records the values it was made with; registry show prints
# them; training the release uses them.
expect 0 "released" -- "$sy" release p.flow --version 1.0 -p rate=0.25 -p epochs=40
expect 0 'rate = \{ type = "float"; default = 0.25; help = "learning rate"; \}' -- "$sy" registry show irisp:1.0
expect 0 "committed generation 1" -- "$sy" train irisp
"$sy" -q apply irisp > out6.csv && same out2.csv out6.csv "release with rate 0.25"
"$sy" -q train p.flow --state st -p rate=0.25 && "$sy" -q apply p.flow --state st -p rate=0.25 > out7.csv &&
  same out2.csv out7.csv "train/apply with -p"

echo "params: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
