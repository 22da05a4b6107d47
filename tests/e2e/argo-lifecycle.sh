#!/usr/bin/env bash
# End-to-end tests of runner-argo with trained states, other feeds, and
# following a submitted Workflow (tests/e2e/argo.sh has the rest). Every
# Workflow is validated against the Argo JSON schema and run by
# tests/e2e/argo-driver.py from an empty volume, and the output compared
# byte for byte with the same command run locally:
#   - `train FLOW --state FILE -R k8s`: the commit task writes the states
#     on the volume (RUN/trained/FILE's name), byte-identical to a local
#     train; then `apply FLOW --state FETCHED -R k8s` with the file fetched
#     from that volume gives the local train + apply's predictions, the
#     states travelling in the Workflow (the local file is removed before
#     the tasks run); per step and per chain;
#   - `apply PROJECT -R k8s`: a registry generation's states travel the
#     same way; `train PROJECT -R k8s` is refused, saying what to do;
#   - an SQLite feed's database file travels like a CSV table; a feed
#     whose path is a folder is refused unless stage = DIR, which writes
#     the folder for the volume;
#   - submit = true with a fake kubectl answering canned Workflow status
#     JSON: the tasks' nodes become the steps' started/done/failed/skipped
#     events in --log.
# Run by `make check`.
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
iris=$ex/iris/pipeline.flow
schema=$top_srcdir/tests/schemas/argo-workflows.schema.json
validate=$top_srcdir/tests/e2e/argo-validate.py
driver=$top_srcdir/tests/e2e/argo-driver.py
mkdir -p wfs nohome
valid() { cp "$1" "wfs/$(printf '%03d' "$(ls wfs | wc -l)").yaml" || bad "no Workflow $1"; }
# drive NAME WF.yaml: runs the Workflow from an empty volume vol.NAME into
# NAME.out, with an empty HOME (no registry, no config of this machine)
drive() {
  rm -rf "vol.$1"
  HOME=$tmp/nohome python3 "$driver" --volume "vol.$1" --exe "$sy" "$2" > "$1.out" 2> "$1.err" && ok ||
    bad "$1: the Workflow failed: $(cat "$1.err")"
}

# ---- train --state FILE, then apply --state the volume's file -----------------------
"$sy" -q train "$iris" --state local.state || bad "local train failed"
"$sy" -q apply "$iris" --state local.state > local.out || bad "local apply failed"
for g in step chain; do
  "$sy" -R k8s -o RUNNER.k8s.granularity=$g train "$iris" --state k8s.state > "train-$g.yaml" 2> "train-$g.gen" ||
    bad "train $g: -R k8s failed: $(cat "train-$g.gen")"
  valid "train-$g.yaml"
  grep -qE 'commit task writes the trained states to /switchyard/runs/[0-9a-f]+/trained/k8s.state on volume claim switchyard.*kubectl cp' \
    "train-$g.gen" && ok || bad "train $g: no word on where the states land: $(cat "train-$g.gen")"
  [ ! -e k8s.state ] && ok || bad "train $g: states written here, not on the volume"
  drive "train-$g" "train-$g.yaml"
  f=$(ls vol.train-$g/runs/*/trained/k8s.state 2> /dev/null)
  [ -n "$f" ] && cmp -s "$f" local.state && ok ||
    bad "train $g: the volume's states differ from a local train's: $(find "vol.train-$g")"
  # the user fetches the file (kubectl cp) and applies it on the cluster
  cp "$f" fetched.state
  "$sy" -R k8s -o RUNNER.k8s.granularity=$g apply "$iris" --state fetched.state > "apply-$g.yaml" ||
    bad "apply $g: -R k8s failed"
  valid "apply-$g.yaml"
  rm fetched.state # the tasks read the states that travelled
  drive "apply-$g" "apply-$g.yaml"
  same "apply-$g.out" local.out "train + apply -R k8s ($g) vs local"
  [ -f vol.apply-$g/runs/*/states ] && ok || bad "apply $g: no states on the volume"
done
# stage = DIR writes the states too
"$sy" -q train "$iris" --state fetched.state
"$sy" -R k8s -o RUNNER.k8s.stage=staged apply "$iris" --state fetched.state > staged.yaml 2> /dev/null ||
  bad "apply with stage failed"
valid staged.yaml
[ -f staged/runs/*/states ] && ok || bad "stage: no states in DIR: $(find staged)"
rm -rf vol.staged && cp -R staged vol.staged && rm fetched.state
HOME=$tmp/nohome python3 "$driver" --volume vol.staged --exe "$sy" staged.yaml > staged.out 2> staged.err ||
  bad "staged apply: $(cat staged.err)"
same staged.out local.out "staged apply vs local"

# ---- a registry's generation ------------------------------------------------------------
printf '[FEED.data]\nprovider = csv\npath = %s\n' "$ex/iris" > switchyard.ini
"$sy" -q release "$iris" --version 1.0 > /dev/null 2>&1 && "$sy" -q train iris || bad "registry train failed"
"$sy" -q apply iris > reg.out || bad "registry apply failed"
"$sy" -R k8s apply iris > reg-apply.yaml || bad "apply PROJECT -R k8s failed"
valid reg-apply.yaml
drive reg-apply reg-apply.yaml # HOME is empty there: no registry
same reg-apply.out reg.out "apply PROJECT -R k8s vs local"
expect 1 'training into the registry \(iris:1.0\) is not supported yet under -R k8s.*--state FILE' -- \
  "$sy" -R k8s train iris
rm switchyard.ini

# ---- an SQLite feed's database file travels ------------------------------------------
cp "$ex/iris/iris.csv" .
cat > switchyard.ini <<'EOF'
[FEED.csv]
provider = csv
path = .
[SINK.lite]
provider = sqlite
path = iris.db
[FEED.lite]
provider = sqlite
path = iris.db
EOF
cat > build.flow <<'EOF'
name = "build";
source = { feed = "csv"; table = "iris"; };
actors = ( { id = "iris"; actor = "std.concat"; } );
sink = "lite";
EOF
"$sy" -q run build.flow || bad "sqlite: building the database failed"
sed 's/feed *= *"data"/feed = "lite"/' "$iris" > lite.flow
grep -q '"lite"' lite.flow && ok || bad "lite.flow does not read the sqlite feed"
"$sy" -q run lite.flow > lite.ref || bad "sqlite: run failed"
"$sy" -R k8s run lite.flow > lite.yaml || bad "sqlite: -R k8s failed"
valid lite.yaml
drive lite lite.yaml
same lite.out lite.ref "sqlite feed -R k8s vs run"
cmp -s vol.lite/runs/*/data/lite/iris.db iris.db && ok || bad "sqlite: the database did not travel whole"

# ---- a feed whose path is a folder: refused, or staged --------------------------------
mkdir -p oldfeed tables
install -m 0755 "$top_builddir/tests/providers/.libs/fx_oldfeed.so" oldfeed/
cp "$ex/iris/iris.csv" tables/
printf '[FEED.old]\nprovider = old\npath = tables\n' > switchyard.ini
sed 's/feed *= *"data"/feed = "old"/' "$iris" > old.flow
SWITCHYARD_PLUGIN_PATH=$tmp/oldfeed "$sy" -q run old.flow > old.ref || bad "old feed: run failed"
expect 2 '\[FEED.old\] path = .*tables \(provider old\) names a folder.*set stage = DIR' -- \
  env SWITCHYARD_PLUGIN_PATH="$tmp/oldfeed" "$sy" -R k8s run old.flow
SWITCHYARD_PLUGIN_PATH=$tmp/oldfeed "$sy" -R k8s -o RUNNER.k8s.stage=oldstage run old.flow > old.yaml 2> old.gen ||
  bad "old feed: stage failed: $(cat old.gen)"
valid old.yaml
cmp -s oldstage/runs/*/data/old/tables/iris.csv tables/iris.csv && ok || bad "stage: the folder was not written: $(find oldstage)"
rm -rf vol.old && cp -R oldstage vol.old
SWITCHYARD_PLUGIN_PATH=$tmp/oldfeed HOME=$tmp/nohome python3 "$driver" --volume vol.old --exe "$sy" old.yaml > old.out 2> old.err ||
  bad "old feed staged: $(cat old.err)"
same old.out old.ref "a folder feed via stage"
rm switchyard.ini

# ---- following a submitted Workflow: the nodes become events --------------------------
"$sy" -R k8s run "$iris" > follow.yaml || bad "follow: -R k8s failed"
# canned `kubectl get -o json` answers, as Argo's controller writes status
# nodes: the DAG's node, the stage pod, a Pod node per task (displayName =
# task name); status.1 running, status.2 further, status.3 the end
python3 - follow.yaml <<'EOF' || bad "follow: cannot write the canned status"
import json, sys, yaml
w = yaml.safe_load(open(sys.argv[1]))
tasks = [t["name"] for t in [t for t in w["spec"]["templates"] if t["name"] == "main"][0]["dag"]["tasks"]]
def status(phase, phases):
    nodes = {"iris-x7k2p": {"id": "iris-x7k2p", "displayName": "iris-x7k2p", "type": "DAG", "phase": phase}}
    for i, (t, p) in enumerate(zip(tasks, phases)):
        if p:
            nodes[f"iris-x7k2p-{i}"] = {"id": f"iris-x7k2p-{i}", "displayName": t, "type": "Pod", "phase": p,
                                        **({"message": "Error (exit code 1)"} if p == "Failed" else {})}
    return {"metadata": {"name": "iris-x7k2p"}, "status": {"phase": phase, "nodes": nodes}}
n = len(tasks)
S = "Succeeded"
runs = {
    "ok": [status("Running", [S, "Running"]), status("Running", [S] * 5 + ["Running"]), status(S, [S] * n)],
    # the model's training fails: what reads it is omitted
    "fail": [status("Running", [S, "Running"]), status("Running", [S] * 5 + ["Running"]),
             status("Failed", [S] * 6 + ["Failed", "Omitted", "Omitted"])],
}
assert tasks[6].startswith("s5-train-model"), tasks
for name, seq in runs.items():
    for i, st in enumerate(seq, 1):
        json.dump(st, open(f"status.{name}.{i}", "w"))
EOF
mkdir -p fake
cat > fake/kubectl <<EOF
#!/bin/sh
PATH=/usr/bin:/bin
echo "\$*" >> "$tmp/kubectl.log"
case \$1 in
create) echo workflow.argoproj.io/iris-x7k2p ;;
get) n=\$(grep -c '^get' "$tmp/kubectl.log"); [ "\$n" -gt 3 ] && n=3
  cat "$tmp/status.\$FAKE_RUN.\$n" ;;
esac
EOF
chmod +x fake/kubectl
FAKE_RUN=ok PATH=$tmp/fake "$sy" -R k8s -o RUNNER.k8s.submit=true -o RUNNER.k8s.poll=10ms run "$iris" \
  --log ok.jsonl 2> ok.err || bad "follow: submit failed: $(cat ok.err)"
grep -q '^get workflow.argoproj.io/iris-x7k2p -o json$' kubectl.log && ok || bad "follow: $(cat kubectl.log)"
python3 - ok.jsonl <<'EOF' > ok.check 2>&1 && ok || bad "follow ok: $(cat ok.check)"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
steps = sorted({e["step"] for e in ev if e["event"] == "queued"})
assert len(steps) == 8, steps
for s in steps:
    seq = [e["event"] for e in ev if e["step"] == s and e["event"] != "queued"]
    assert seq == ["started", "done"], (s, seq)
# the feed started at the first poll, the sink at the last: in that order
t = {(e["step"], e["event"]): e["t"] for e in ev}
assert t[(0, "started")] < t[(7, "started")], t
EOF
rm kubectl.log
expect 1 'iris-x7k2p ended in phase Failed: task s5-train-model ended in phase Failed: Error \(exit code 1\)' -- \
  env FAKE_RUN=fail PATH="$tmp/fake" "$sy" -R k8s -o RUNNER.k8s.submit=true -o RUNNER.k8s.poll=10ms \
  run "$iris" --log fail.jsonl
python3 - fail.jsonl <<'EOF' > fail.check 2>&1 && ok || bad "follow fail: $(cat fail.check)"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
last = {}
for e in ev:
    if e["event"] != "queued":
        last[e["step"]] = e["event"]
assert last == {0: "done", 1: "done", 2: "done", 3: "done", 4: "done", 5: "failed",
                6: "skipped", 7: "skipped"}, last
f = [e for e in ev if e["event"] == "failed"][0]
assert "Error (exit code 1)" in f.get("message", f.get("error", "")), f
EOF

out=$(python3 "$validate" "$schema" wfs/*.yaml 2>&1) && ok || bad "schema: $out"
echo "argo-lifecycle: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
