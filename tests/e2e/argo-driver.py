#!/usr/bin/env python3
"""argo-driver.py [options] WORKFLOW.yaml - runs an Argo Workflow written
by switchyard's runner-argo on this machine, the way Argo would, as far as
those Workflows use Argo:

  - the entrypoint's DAG: each task runs once its `depends` ("a && b")
    succeeded; every task that is ready is started at once, so two tasks
    run together wherever the DAG allows it; with failFast (the default)
    nothing new starts after a failure, with failFast: false every task
    not downstream of one still runs;
  - a task's template: a container (command + args, workingDir) with
    volumeMounts, and raw input artifacts (their data written to a file at
    their path before the container starts);
  - paths: the pod's file system is not this one, so paths are mapped.
    Every mountPath of a volume becomes --volume DIR (an empty scratch
    folder standing in for the claim), every raw artifact's path a file in
    a scratch folder of the task's own; an argument, working folder or
    command that is such a path, or begins with one and a '/', is
    rewritten; an argument equal to --exe-name (the `switchyard` in the
    image) becomes --exe. Nothing else is changed: the commands run as
    written (the stage task's sh and base64 from PATH).

Each task's stdout is kept; when all tasks are done, their stdouts are
printed in the Workflow's task order (the sink task's output is the flow's
output). With --timeline FILE, one line per task: name, start, end
(seconds, monotonic), exit status. --require-overlap fails unless two
tasks ran at the same time (one started before the other was reaped).
Exit status: 0 when every task succeeded, 1 when one failed, 2 when the
Workflow uses something this driver does not understand."""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

import yaml


def die(msg):
    print(f"argo-driver: {msg}", file=sys.stderr)
    sys.exit(2)


def parse_depends(expr, names):
    deps = [d.strip() for d in expr.split("&&")] if expr else []
    for d in deps:
        if d not in names:
            die(f"depends '{expr}': '{d}' is not a task (only 'a && b' is understood)")
    return deps


class Mapper:
    def __init__(self, mapping, exe_name, exe):
        # longest prefix first
        self.mapping = sorted(mapping.items(), key=lambda kv: -len(kv[0]))
        self.exe_name, self.exe = exe_name, exe

    def path(self, s):
        for src, dst in self.mapping:
            if s == src:
                return dst
            if s.startswith(src.rstrip("/") + "/"):
                return dst + s[len(src.rstrip("/")):]
        return s

    def arg(self, s):
        if s == self.exe_name:
            return self.exe
        return self.path(s)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--volume", required=True)
    ap.add_argument("--exe", required=True)
    ap.add_argument("--exe-name", default="switchyard")
    ap.add_argument("--timeline")
    ap.add_argument("--require-overlap", action="store_true")
    ap.add_argument("workflow")
    a = ap.parse_args()
    with open(a.workflow, encoding="utf-8") as f:
        wf = yaml.safe_load(f)
    if wf.get("apiVersion") != "argoproj.io/v1alpha1" or wf.get("kind") != "Workflow":
        die("not an argoproj.io/v1alpha1 Workflow")
    spec = wf["spec"]
    templates = {t["name"]: t for t in spec["templates"]}
    claims = {v["name"]: v["persistentVolumeClaim"]["claimName"] for v in spec.get("volumes", [])}
    main_t = templates[spec["entrypoint"]]
    if "dag" not in main_t:
        die("the entrypoint is not a DAG template")
    dag = main_t["dag"]
    fail_fast = dag.get("failFast", True)
    tasks = dag["tasks"]
    names = [t["name"] for t in tasks]
    if len(set(names)) != len(names):
        die("two tasks have the same name")
    deps = {t["name"]: parse_depends(t.get("depends", ""), names) for t in tasks}
    scratch = tempfile.mkdtemp(prefix="argo-pods.")
    os.makedirs(a.volume, exist_ok=True)

    def prepare(task):
        t = templates[task["template"]]
        c = t.get("container")
        if c is None:
            die(f"template {t['name']}: only container templates are understood")
        mapping = {}
        for m in c.get("volumeMounts", []):
            if m["name"] not in claims:
                die(f"template {t['name']}: volume {m['name']} is not declared")
            mapping[m["mountPath"]] = os.path.abspath(a.volume)
        pod = os.path.join(scratch, task["name"])
        os.makedirs(pod)
        for art in t.get("inputs", {}).get("artifacts", []):
            if "raw" not in art:
                die(f"template {t['name']}: only raw artifacts are understood")
            local = pod + art["path"]
            os.makedirs(os.path.dirname(local), exist_ok=True)
            with open(local, "w", encoding="utf-8") as f:
                f.write(art["raw"]["data"])
            mapping[art["path"]] = local
        mp = Mapper(mapping, a.exe_name, os.path.abspath(a.exe))
        argv = [mp.arg(x) for x in c.get("command", []) + c.get("args", [])]
        cwd = mp.path(c["workingDir"]) if "workingDir" in c else pod
        return argv, cwd, pod

    state = {n: "waiting" for n in names}
    procs, outs, times, codes = {}, {}, {}, {}
    failed = False

    def ready(n):
        return state[n] == "waiting" and all(state[d] == "succeeded" for d in deps[n])

    def doomed(n):
        return any(state[d] in ("failed", "omitted") for d in deps[n])

    while True:
        # skip what can never run, start what can
        changed = True
        while changed:
            changed = False
            for n in names:
                if state[n] == "waiting" and doomed(n):
                    state[n] = "omitted"
                    changed = True
        if not (failed and fail_fast):
            for task in tasks:
                n = task["name"]
                if ready(n):
                    argv, cwd, pod = prepare(task)
                    out = open(os.path.join(pod, "stdout"), "wb")
                    err = open(os.path.join(pod, "stderr"), "wb")
                    times[n] = [time.monotonic(), None]
                    p = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=err)
                    out.close()
                    err.close()
                    procs[p.pid] = (n, p)
                    outs[n] = pod
                    state[n] = "running"
        if not procs:
            break
        pid, status = os.wait()
        if pid not in procs:
            continue
        n, p = procs.pop(pid)
        p.returncode = os.waitstatus_to_exitcode(status)
        times[n][1] = time.monotonic()
        codes[n] = p.returncode
        if p.returncode == 0:
            state[n] = "succeeded"
        else:
            state[n] = "failed"
            failed = True
            with open(os.path.join(outs[n], "stderr"), encoding="utf-8", errors="replace") as f:
                sys.stderr.write(f"argo-driver: task {n} failed (exit {p.returncode}):\n{f.read()}")
    for n in names:
        if n in outs:
            with open(os.path.join(outs[n], "stdout"), "rb") as f:
                sys.stdout.buffer.write(f.read())
    sys.stdout.flush()
    shutil.rmtree(scratch, ignore_errors=True)
    if a.timeline:
        with open(a.timeline, "w", encoding="utf-8") as f:
            for n in names:
                if n in times:
                    f.write(f"{n} {times[n][0]:.6f} {times[n][1]:.6f} {codes[n]}\n")
    if a.require_overlap:
        iv = sorted(times.values())
        if not any(iv[i + 1][0] < iv[i][1] for i in range(len(iv) - 1)):
            print("argo-driver: no two tasks ran at the same time", file=sys.stderr)
            sys.exit(1)
    left = [n for n in names if state[n] != "succeeded"]
    if left:
        print(f"argo-driver: tasks not succeeded: {', '.join(left)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
