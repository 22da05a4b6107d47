#!/usr/bin/env bash
# End-to-end tests of runner-argo ([RUNNER.k8s] in etc/switchyard.ini). No
# cluster is reachable from CI, so every Workflow the runner writes is
# checked twice:
#   - against the Argo Workflows JSON schema (tests/schemas/, a copy of
#     ../shared/schemas/argo-workflows.schema.json) with python3-jsonschema
#     (tests/e2e/argo-validate.py);
#   - by running it: tests/e2e/argo-driver.py runs each task's command in
#     `depends` order, ready tasks at once, with an empty scratch folder
#     standing in for the volume, and the sink output the tasks print must
#     be byte-identical to `switchyard run`'s.
# On the iris example and random DAGs of tests/e2e/gen-dag.sh, one task
# per step and one per chain; plus the size limit's refusal, stage = DIR,
# keep_going/retries/timeout in the YAML, submit = true with fake argo and
# kubectl commands that record their arguments (the process handling, not
# Argo), and the README's "Argo Workflows" commands verbatim. Run by
# `make check`.
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
iris=$ex/iris/pipeline.flow
schema=$top_srcdir/tests/schemas/argo-workflows.schema.json
validate=$top_srcdir/tests/e2e/argo-validate.py
driver=$top_srcdir/tests/e2e/argo-driver.py

# valid FILE...: every Workflow validates against the schema; the files
# are collected (copied: some are overwritten later) and validated in one
# python3 call at the end, which loads the 600 KB schema once.
mkdir -p wfs
valid() {
  local f
  for f in "$@"; do
    [ -f "$f" ] && cp "$f" "wfs/$(printf '%03d' "$(ls wfs | wc -l)").yaml" ||
      bad "schema: no Workflow $f"
  done
}
# drive NAME WF.yaml [driver options]: runs the Workflow from an empty
# volume into NAME.out
drive() {
  local name=$1 wf=$2
  shift 2
  rm -rf "vol.$name"
  python3 "$driver" --volume "vol.$name" --exe "$sy" --timeline "$name.tl" \
    "$@" "$wf" > "$name.out" 2> "$name.err" && ok ||
    bad "$name: the Workflow failed: $(cat "$name.err")"
}
tasks() { python3 -c 'import sys, yaml; w = yaml.safe_load(open(sys.argv[1])); print(len([t for t in w["spec"]["templates"] if t["name"] == "main"][0]["dag"]["tasks"]))' "$1"; }
ytext() { python3 -c 'import sys, yaml, json; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))' "$1"; }

# ---- iris, one task per step ------------------------------------------------
"$sy" -R k8s run "$iris" > iris.yaml 2> iris.gen.err || bad "iris: -R k8s failed: $(cat iris.gen.err)"
# no step ran in this process: nothing went to the cache
[ ! -e "$HOME/.cache/switchyard" ] || [ -z "$(ls -A "$HOME/.cache/switchyard")" ] && ok ||
  bad "the runner ran steps locally (the cache is not empty)"
"$sy" -q run "$iris" > iris.ref || bad "iris: run failed"
valid iris.yaml
# 8 steps + the stage task
[ "$(tasks iris.yaml)" = 9 ] && ok || bad "iris.yaml: expected 9 tasks, got $(tasks iris.yaml)"
# iris's two GET steps both read the feed only: the driver runs them together
drive iris iris.yaml --require-overlap
same iris.out iris.ref "iris per step"
# the tasks' command is switchyard exec PROGRAM --step N
grep -qF '"exec"' iris.yaml && grep -qF '"--step"' iris.yaml && ok || bad "iris.yaml: no exec --step command"
# nothing was written outside the volume: the program, the config and the
# data came out of the Workflow
[ -f vol.iris/runs/*/program ] && [ -f vol.iris/runs/*/data/data/iris.csv ] && ok ||
  bad "iris: the stage task did not write the program and data: $(find vol.iris)"
cmp -s vol.iris/runs/*/data/data/iris.csv "$ex/iris/iris.csv" && ok || bad "iris: the data travelled changed"

# ---- iris, one task per chain -------------------------------------------------
"$sy" -R k8s -o RUNNER.k8s.granularity=chain run "$iris" > iris-chain.yaml || bad "iris chain failed"
valid iris-chain.yaml
n=$(tasks iris-chain.yaml)
# stage, the feed (with its GETs), scale and model as one chain (the
# model's label comes from the feed, ready before any actor: runner.h's
# rule, the same as -R batch's one job), the sink
[ "$n" = 4 ] && ok || bad "iris-chain.yaml: per chain should need 4 tasks, got $n"
drive iris-chain iris-chain.yaml
same iris-chain.out iris.ref "iris per chain"

# ---- a straight chain is one task (plus the stage task) --------------------------
mkdir -p data
awk 'BEGIN { srand(7); print "a,b,c";
  for (i = 0; i < 60; i++) printf "%.4f,%.4f,%.4f\n", rand() * 10, rand() * 100 - 50, rand() }' > data/points.csv
printf '[FEED.data]\nprovider = csv\npath = data\n' > switchyard.ini
cat > line.flow <<'EOF'
name = "line";
source = { feed = "data"; table = "points"; };
actors = (
  { id = "h1"; actor = "std.head"; params = { n = 40; }; },
  { id = "c1"; actor = "sys.exec"; inputs = ["h1"]; params = { command = "cat"; }; },
  { id = "h2"; actor = "std.head"; inputs = ["c1"]; params = { n = 20; }; }
);
sink = "out";
EOF
"$sy" -q run line.flow > line.ref || bad "line: run failed"
"$sy" -R k8s -o RUNNER.k8s.granularity=chain run line.flow > line.yaml || bad "line chain failed"
valid line.yaml
# stage, feed, the three actors as one chain, sink
[ "$(tasks line.yaml)" = 4 ] && ok || bad "line.yaml: expected 4 tasks, got $(tasks line.yaml)"
python3 -c '
import sys, yaml
w = yaml.safe_load(open(sys.argv[1]))
t = [t for t in w["spec"]["templates"] if t["name"].startswith("c1-")][0]["container"]
assert t["command"][:2] == ["sh", "-c"] and t["args"][3:] == ["1", "2", "3"], t
' line.yaml && ok || bad "line.yaml: the chain task does not run steps 1, 2, 3"
"$sy" -R k8s run line.flow > line-step.yaml || bad "line per step failed"
[ "$(tasks line-step.yaml)" = 6 ] && ok || bad "line-step.yaml: expected 6 tasks, got $(tasks line-step.yaml)"
drive line line.yaml
same line.out line.ref "line per chain"

# ---- random DAGs, per step and per chain ------------------------------------------
for seed in 3 5 11; do
  nodes=$((6 + seed))
  "$top_srcdir/tests/e2e/gen-dag.sh" "$seed" "$nodes" > "dag$seed.flow"
  "$sy" -q run "dag$seed.flow" > "dag$seed.ref" || bad "dag$seed: run failed"
  for g in step chain; do
    "$sy" -R k8s -o RUNNER.k8s.granularity=$g run "dag$seed.flow" > "dag$seed-$g.yaml" ||
      bad "dag$seed $g: -R k8s failed"
    drive "dag$seed-$g" "dag$seed-$g.yaml"
    same "dag$seed-$g.out" "dag$seed.ref" "dag$seed per $g"
  done
done
valid dag*-step.yaml dag*-chain.yaml

# ---- what the options become ---------------------------------------------------------
"$sy" -R k8s -o RUNNER.k8s.keep_going=true -o RUNNER.k8s.retries=3 -o RUNNER.k8s.timeout=90s \
  -o RUNNER.k8s.image=reg.example/sy:1.0 -o RUNNER.k8s.image_pull_policy=Always \
  -o RUNNER.k8s.service_account=runner -o RUNNER.k8s.namespace=ml \
  -o RUNNER.k8s.volume=shared -o RUNNER.k8s.mount=/mnt/sy run "$iris" > opts.yaml || bad "options: failed"
valid opts.yaml
python3 - opts.yaml > opts.check 2>&1 <<'EOF' && ok || bad "opts.yaml: $(cat opts.check)"
import sys, yaml
w = yaml.safe_load(open(sys.argv[1]))
s = w["spec"]
assert w["metadata"]["namespace"] == "ml"
assert s["serviceAccountName"] == "runner"
assert s["volumes"][0]["persistentVolumeClaim"]["claimName"] == "shared"
main = [t for t in s["templates"] if t["name"] == "main"][0]
assert main["dag"]["failFast"] is False
steps = [t for t in s["templates"] if t["name"] not in ("main", "stage")]
assert len(steps) == 8
for t in steps:
    assert t["retryStrategy"]["limit"] == "3", t
    assert t["activeDeadlineSeconds"] == "90", t
    c = t["container"]
    assert c["image"] == "reg.example/sy:1.0" and c["imagePullPolicy"] == "Always"
    assert c["volumeMounts"][0]["mountPath"] == "/mnt/sy"
    assert c["command"][0] == "switchyard" and c["command"][3] == "exec"
    assert c["command"][2].startswith("/mnt/sy/runs/"), c
EOF
# the same run with another mount point runs the same way
drive opts opts.yaml
same opts.out iris.ref "iris with mount /mnt/sy"
# a hostile flow name stays one quoted scalar
sed 's/^name    = "iris";/name = "a\\"b: c\\n- d";/' "$iris" > "$tmp/odd.flow"
cp "$ex/iris/iris.csv" .
printf '[FEED.data]\nprovider = csv\npath = .\n' > odd.ini
"$sy" -c odd.ini -R k8s run "$tmp/odd.flow" > odd.yaml || bad "odd name: failed"
valid odd.yaml

# ---- a sink that writes a file: the file lands on the volume --------------------------
mkdir -p sinkdir
cp "$ex/iris/iris.csv" sinkdir/
printf '[FEED.data]\nprovider = csv\npath = .\n[SINK.file]\nprovider = csv\npath = result-{name}.csv\n' \
  > sinkdir/switchyard.ini
sed 's/^sink    = "out";/sink = "file";/' "$iris" > sinkdir/f.flow
(cd sinkdir && "$sy" -q run f.flow && "$sy" -R k8s run f.flow > ../sink.yaml) || bad "sink file: failed"
valid sink.yaml
drive sink sink.yaml
cmp -s vol.sink/runs/*/out/file/result-model.csv sinkdir/result-model.csv && ok ||
  bad "sink file: the file on the volume differs from run's: $(find vol.sink -name '*.csv')"

# ---- per-step resources, retries and timeouts ---------------------------------------
# The flow's own (and its defaults) override the runner's options; a
# feed with its default path (the current folder) still travels.
mkdir -p resdir
cp "$ex/iris/iris.csv" resdir/
cat > resdir/res.flow <<'EOF'
name    = "iris";
source  = { feed = "data"; table = "iris"; label = "species"; };
defaults = { resources = { memory = "1G"; }; timeout = "1h"; };
actors  = (
  { id = "scale"; actor = "std.scaler"; resources = { cpus = 2; }; retries = 2; },
  { id = "model"; actor = "std.logreg"; inputs = ["scale"];
    params = { epochs = 500; rate = 0.5; };
    resources = { cpus = 4; memory = "512M"; gpus = 1; }; timeout = "90s"; retries = 0; }
);
sink    = "out";
EOF
(cd resdir && "$sy" -R k8s -o RUNNER.k8s.retries=1 -o RUNNER.k8s.timeout=5m run res.flow) > res.yaml ||
  bad "res: failed"
valid res.yaml
drive res res.yaml
same res.out iris.ref "iris with resources"
python3 - res.yaml > res.check 2>&1 <<'EOF' && ok || bad "res.yaml: $(cat res.check)"
import sys, yaml
w = yaml.safe_load(open(sys.argv[1]))
t = {x["name"].split("-", 1)[1]: x for x in w["spec"]["templates"] if x["name"][0] == "s" and x["name"][1].isdigit()}
def res(n): return t[n]["container"].get("resources")
def limit(n): return t[n].get("retryStrategy", {}).get("limit")
def deadline(n): return t[n].get("activeDeadlineSeconds")
want = {"cpu": "2", "memory": "1Gi"}
assert res("train-scale") == {"requests": want, "limits": want}, res("train-scale")
want = {"cpu": "4", "memory": "512Mi", "nvidia.com/gpu": "1"}
assert res("apply-model") == {"requests": want, "limits": want}, res("apply-model")
assert res("feed-data") is None and res("sink-out") is None
# per-node retries override the runner's (1); 0 writes no retryStrategy
assert limit("train-scale") == "2" and limit("feed-data") == "1", (limit("train-scale"), limit("feed-data"))
assert limit("train-model") is None
# timeouts: the node's, its defaults', else the runner's 5m
assert deadline("train-model") == "90" and deadline("apply-scale") == "3600", deadline("train-model")
assert deadline("feed-data") == "300"
EOF
(cd resdir && "$sy" -R k8s -o RUNNER.k8s.gpu_resource=amd.com/gpu run res.flow) > res-amd.yaml ||
  bad "gpu_resource: failed"
grep -q '"amd.com/gpu": "1"' res-amd.yaml && ok || bad "gpu_resource is not used"
# the example flow with resources, and what `providers help` says
"$sy" -q run "$ex/iris/resources.flow" > ires.ref || bad "resources.flow: run failed"
"$sy" -R k8s -o RUNNER.k8s.granularity=chain run "$ex/iris/resources.flow" > ires.yaml ||
  bad "resources.flow: -R k8s failed"
valid ires.yaml
grep -q 'cpu: "2"' ires.yaml && ok || bad "ires.yaml: no cpu request"
drive ires ires.yaml
same ires.out ires.ref "examples/iris/resources.flow"
"$sy" providers help runner.k8s > help.txt || bad "providers help runner.k8s failed"
for key in cpus memory gpus retries timeout; do
  grep -q "^  $key: .*\(resources\|retryStrategy\|activeDeadlineSeconds\|gpu_resource\)" help.txt && ok ||
    bad "providers help runner.k8s does not say what $key becomes: $(cat help.txt)"
done
# a chain task runs its steps one after the other: it asks for the most
# any of them needs, the most retries, and the sum of their timeouts
cat > resline.flow <<'EOF'
name = "resline";
source = { feed = "data"; table = "points"; };
actors = (
  { id = "h1"; actor = "std.head"; params = { n = 40; }; resources = { cpus = 1; }; timeout = "10s"; },
  { id = "c1"; actor = "sys.exec"; inputs = ["h1"]; params = { command = "cat"; };
    resources = { cpus = 3; memory = "2G"; }; timeout = "20s"; retries = 2; },
  { id = "h2"; actor = "std.head"; inputs = ["c1"]; params = { n = 20; }; timeout = "30s"; }
);
sink = "out";
EOF
"$sy" -R k8s -o RUNNER.k8s.granularity=chain run resline.flow > resline.yaml || bad "resline: failed"
valid resline.yaml
drive resline resline.yaml
same resline.out line.ref "resline per chain"
python3 - resline.yaml > res.check 2>&1 <<'EOF' && ok || bad "resline.yaml: $(cat res.check)"
import sys, yaml
w = yaml.safe_load(open(sys.argv[1]))
t = [x for x in w["spec"]["templates"] if x["name"].startswith("c1-")][0]
want = {"cpu": "3", "memory": "2Gi"}
assert t["container"]["resources"] == {"requests": want, "limits": want}, t
assert t["activeDeadlineSeconds"] == "60", t
assert t["retryStrategy"]["limit"] == "2", t
EOF

# strings with quotes, backslashes, colons and spaces stay what they were
"$sy" -R k8s -o 'RUNNER.k8s.image=reg/x:"1"\y: #z' -o "RUNNER.k8s.mount=/mnt/a b'c" \
  -o 'RUNNER.k8s.service_account=- [x]' run "$iris" > quoted.yaml || bad "quoted: failed"
valid quoted.yaml
python3 - quoted.yaml > quoted.check 2>&1 <<'EOF' && ok || bad "quoted.yaml: $(cat quoted.check)"
import sys, yaml
w = yaml.safe_load(open(sys.argv[1]))
assert w["spec"]["serviceAccountName"] == "- [x]", w["spec"]["serviceAccountName"]
for t in w["spec"]["templates"][1:]:
    assert t["container"]["image"] == 'reg/x:"1"\\y: #z', t["container"]["image"]
    assert t["container"]["volumeMounts"][0]["mountPath"] == "/mnt/a b'c"
EOF
drive quoted quoted.yaml
same quoted.out iris.ref "iris with a mount path that needs quoting"

# ---- the size limit and stage = DIR ----------------------------------------------------
mkdir -p big
awk 'BEGIN { srand(3); print "a,b,c";
  for (i = 0; i < 40000; i++) printf "%.6f,%.6f,%.6f\n", rand() * 10, rand() * 100 - 50, rand() }' > big/points.csv
printf '[FEED.data]\nprovider = csv\npath = big\n' > big.ini
sed 's/table = "points"/table = "points"/' line.flow > big.flow
expect 2 'larger than the Workflow.s limit.*stage = DIR' -- "$sy" -c big.ini -R k8s run big.flow
# under the 1 MiB data limit but past a small one: the whole Workflow is measured
expect 2 'Workflow would be [0-9]+ bytes, past the limit of 4096.*stage = DIR' -- \
  "$sy" -R k8s -o RUNNER.k8s.limit=4KiB run "$iris"
# nothing half-written
expect 2 'stage = DIR' -- "$sy" -c big.ini -R k8s -o RUNNER.k8s.output=big.yaml run big.flow
[ ! -e big.yaml ] && ok || bad "a refused Workflow was written"
# stage = DIR: the files go to DIR, the Workflow has no stage task and fits
"$sy" -q -c big.ini run big.flow > big.ref || bad "big: run failed"
"$sy" -c big.ini -R k8s -o RUNNER.k8s.stage=staged -o RUNNER.k8s.output=big.yaml run big.flow 2> big.gen.err ||
  bad "stage: failed: $(cat big.gen.err)"
grep -q 'copy .*staged' big.gen.err && ok || bad "stage: no hint where to copy: $(cat big.gen.err)"
valid big.yaml
[ "$(wc -c < big.yaml)" -lt 65536 ] && ok || bad "big.yaml: the staged Workflow still carries the data"
grep -q '"stage"' big.yaml && bad "big.yaml: a staged Workflow has a stage task" || ok
[ -f staged/runs/*/program ] && [ -f staged/runs/*/switchyard.ini ] && cmp -s staged/runs/*/data/data/points.csv big/points.csv &&
  ok || bad "stage: DIR lacks the program, config or data: $(find staged)"
# the user copies DIR to the volume: the volume starts with DIR's contents
rm -rf vol.big && mkdir vol.big && cp -R staged/. vol.big/
python3 "$driver" --volume vol.big --exe "$sy" big.yaml > big.out 2> big.err && ok || bad "big: $(cat big.err)"
same big.out big.ref "big via stage"

# ---- bad config (train and apply: tests/e2e/argo-lifecycle.sh) ------------------------------
expect 2 'not an absolute path' -- "$sy" -R k8s -o RUNNER.k8s.mount=rel run "$iris"
expect 2 'granularity' -- "$sy" -R k8s -o RUNNER.k8s.granularity=pod run "$iris"

# ---- submit = true ---------------------------------------------------------------------
# A PATH with only the fake clients on it (the build's switchyard wrapper
# needs nothing from PATH; the fakes set their own).
mkdir -p fake empty
bare=$tmp/empty
# neither: a clear error
expect 2 'needs the .argo. CLI or .kubectl. on PATH' -- env PATH="$bare" "$sy" -R k8s -o RUNNER.k8s.submit=true run "$iris"
# argo: `argo submit --wait FILE`, the file a valid Workflow while it runs
cat > fake/argo <<EOF
#!/bin/sh
PATH=/usr/bin:/bin
printf '%s\n' "\$@" > "$tmp/argo.argv"
cp "\$3" "$tmp/argo.submitted"
exit \${FAKE_ARGO_STATUS:-0}
EOF
chmod +x fake/argo
PATH=$tmp/fake "$sy" -R k8s -o RUNNER.k8s.submit=true run "$iris" > submit.out 2> submit.err ||
  bad "submit with argo failed: $(cat submit.err)"
[ "$(head -2 argo.argv | tr '\n' ' ')" = "submit --wait " ] && ok || bad "argo got: $(cat argo.argv)"
valid argo.submitted
cmp -s argo.submitted iris.yaml && ok || bad "the submitted Workflow differs from -R k8s's"
[ ! -s submit.out ] && ok || bad "submit printed the Workflow on stdout too"
[ ! -e "$(sed -n 3p argo.argv)" ] && ok || bad "the temporary Workflow file was left behind"
# output = FILE and submit: that file is submitted and kept
PATH=$tmp/fake "$sy" -R k8s -o RUNNER.k8s.submit=true -o RUNNER.k8s.output=kept.yaml run "$iris" ||
  bad "submit output=FILE failed"
[ "$(sed -n 3p argo.argv)" = kept.yaml ] && [ -f kept.yaml ] && ok || bad "submit did not use output: $(cat argo.argv)"
# a failed Workflow fails the run
expect 1 'argo submit --wait .* failed \(exit 1\)' -- \
  env FAKE_ARGO_STATUS=1 PATH="$tmp/fake" "$sy" -R k8s -o RUNNER.k8s.submit=true run "$iris"
# kubectl only: create, then the phase until it ends
rm fake/argo
cat > fake/kubectl <<EOF
#!/bin/sh
PATH=/usr/bin:/bin
echo "\$*" >> "$tmp/kubectl.log"
case \$1 in
create) cp "\$3" "$tmp/kubectl.submitted"; echo workflow.argoproj.io/iris-x7k2p ;;
get) n=\$(grep -c '^get' "$tmp/kubectl.log")
  if [ "\$n" -lt 3 ]; then p=Running; else p=\${FAKE_PHASE:-Succeeded}; fi
  echo "{\"status\": {\"phase\": \"\$p\"}}" ;;
delete) ;;
esac
EOF
chmod +x fake/kubectl
PATH=$tmp/fake "$sy" -R k8s -o RUNNER.k8s.submit=true -o RUNNER.k8s.poll=10ms run "$iris" 2> kube.err ||
  bad "submit with kubectl failed: $(cat kube.err)"
grep -q '^create -f .* -o name$' kubectl.log && ok || bad "kubectl create: $(cat kubectl.log)"
[ "$(grep -c '^get workflow.argoproj.io/iris-x7k2p -o json$' kubectl.log)" = 3 ] && ok ||
  bad "kubectl get was not polled until the end: $(cat kubectl.log)"
valid kubectl.submitted
rm kubectl.log
expect 1 'iris-x7k2p ended in phase Failed' -- \
  env FAKE_PHASE=Failed PATH="$tmp/fake" "$sy" -R k8s -o RUNNER.k8s.submit=true -o RUNNER.k8s.poll=10ms run "$iris"

# Ctrl-C (SIGINT; SIGTERM alike) while following: the Workflow is deleted
rm -f kubectl.log
FAKE_PHASE=Running PATH=$tmp/fake "$sy" -R k8s -o RUNNER.k8s.submit=true -o RUNNER.k8s.poll=20ms \
  run "$iris" > /dev/null 2> cancel.err &
pid=$!
for _ in $(seq 1 100); do
  [ -f kubectl.log ] && [ "$(grep -c '^get' kubectl.log)" -ge 4 ] && break
  sleep 0.1
done
kill -TERM "$pid"
wait "$pid"
st=$?
[ "$st" = 1 ] && grep -q 'canceled: workflow.argoproj.io/iris-x7k2p was deleted' cancel.err && ok ||
  bad "cancel: exit $st: $(cat cancel.err)"
grep -q '^delete workflow.argoproj.io/iris-x7k2p$' kubectl.log && ok || bad "cancel: no kubectl delete: $(cat kubectl.log)"

# ---- the README's commands, verbatim from the tree's root ---------------------------------
readme=$top_srcdir/README.md
awk '
  /^### /                          { in_a = ($0 == "### Argo Workflows"); next }
  /^## /                           { in_a = 0; next }
  in_a && /^```sh[[:space:]]*$/    { in_sh = 1; next }
  in_sh && /^```/                  { in_sh = 0; next }
  in_a && in_sh                    { print }
' "$readme" | sed -e 's/^[[:space:]]*#.*$//' -e 's/[[:space:]]*$//' | grep -v '^$' > readme.cmds
[ "$(wc -l < readme.cmds)" -ge 2 ] && ok || bad "README: no Argo Workflows commands found"
grep -q '^argo submit --wait ' readme.cmds && ok || bad "README: no argo submit line"
mkdir -p tree
printf '#!/bin/sh\nexec "%s" "$@"\n' "$sy" > tree/switchyard
chmod +x tree/switchyard
ln -s "$top_srcdir/examples" tree/examples
cat > fake/argo <<EOF
#!/bin/sh
printf '%s\n' "\$@" > "$tmp/argo.argv"
EOF
chmod +x fake/argo
# the states the README fetches from the volume with kubectl cp
"$sy" -q train "$iris" --state tree/iris.state || bad "README: train failed"
while IFS= read -r line; do
  (cd tree && PATH=$tmp/fake:$PATH bash -c "$line") > readme.out 2>&1 && ok ||
    bad "README command failed: $line: $(cat readme.out)"
done < readme.cmds
for f in tree/*.yaml; do valid "$f"; done

# every Workflow written above, against the schema
out=$(python3 "$validate" "$schema" wfs/*.yaml 2>&1) && ok || bad "schema: $out"
# and the validator does catch a wrong type (an int where Argo's
# int-or-string is typed as a string by the schema)
sed 's/limit: "3"/limit: 3/' opts.yaml > wrong.yaml
expect 1 'retryStrategy/limit: 3 is not of type' -- python3 "$validate" "$schema" wrong.yaml

echo "argo: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
