#!/usr/bin/env bash
# End-to-end tests of the core's check of a runner's work (docs/design.md,
# "The core checks the runner's work"): a runner that reports success
# must have run every step exactly once, or the run fails (exit 1) naming
# the runner and the first step that did not; a failure without a message
# gets one naming the runner; train never says "the runner ran no step"
# when one did; and an actor that calls exit(0) inside the switchyard
# process fails the run, naming its step, instead of passing for a
# success with no output. Uses the fixture runners badrun.* of
# tests/providers/fx_runner.c and the actor fault.exit of fx_faulty.c.
# Run by `make check`.
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
for f in fx_runner fx_faulty; do
  if [ ! -f "$top_builddir/tests/providers/.libs/$f.so" ]; then
    echo "runner-check.sh: tests/providers/.libs/$f.so was not built"
    exit 1
  fi
done
mkdir -p plugins
cp "$top_builddir/tests/providers/.libs/fx_runner.so" \
  "$top_builddir/tests/providers/.libs/fx_faulty.so" plugins/
export SWITCHYARD_PLUGIN_PATH=$tmp/plugins
for r in skip none twice echo mute plus; do
  printf '[RUNNER.%s]\nprovider = badrun.%s\n' "$r" "$r"
done > switchyard.ini
printf '[RUNNER.remote]\nprovider = remote.commit\n' >> switchyard.ini

iris=$ex/iris/pipeline.flow
"$sy" -q run "$iris" --cache off > good.csv || bad "iris run"

# Fails with exit 1, prints nothing on stdout, and says every pattern.
fails() { # fails PATTERN... -- ARGS...
  local patterns=() out rc p
  while [ "$1" != "--" ]; do
    patterns+=("$1")
    shift
  done
  shift
  out=$("$sy" "$@" 2>&1 >out.csv)
  rc=$?
  if [ "$rc" -ne 1 ]; then
    bad "'$*' exited $rc, expected 1: $out"
    return
  fi
  for p in "${patterns[@]}"; do
    if ! grep -qE -- "$p" <<<"$out"; then
      bad "'$*' output lacks /$p/: $out"
      return
    fi
  done
  ok
}

# A runner that skips the last step (the sink): exit 1, not an empty
# success, naming the runner and the step.
fails "runner skip \(badrun\.skip\) reported success, but step 7 \(sink out\) never ran \(7 of 8 steps did\)" \
  -- run "$iris" --cache off -R skip
[ -s out.csv ] && bad "skip: wrote output: $(head -2 out.csv)" || ok
fails "runner none \(badrun\.none\) reported success, but step 0 \(feed data:iris\) never ran \(0 of 8" \
  -- run "$iris" --cache off -R none
# Twice: sy_job_run_step refuses the second run of a step.
fails "step 0 \(feed data:iris\) already ran; a runner runs each step once" \
  -- run "$iris" --cache off -R twice
# Reported done twice (a runner running steps elsewhere): exit 1.
fails "runner echo \(badrun\.echo\) reported success, but step 0 \(feed data:iris\) ran 2 times" \
  -- run "$iris" --cache off -R echo
# An error code with no message, and a code that is not an error code.
fails "runner mute \(badrun\.mute\) failed with SY_EIO \(input/output error\) and gave no message" \
  -- run "$iris" --cache off -R mute
fails "runner plus \(badrun\.plus\) returned 1, which is not an error code" \
  -- run "$iris" --cache off -R plus
# The cache does not hide a skipped step: with every result cached, a
# runner that skips the sink still fails.
"$sy" -q run "$iris" > /dev/null || bad "warm-up run"
fails "step 7 \(sink out\) never ran" -- run "$iris" -R skip

# train: a runner that skips the commit fails, instead of saying that the
# runner "ran no step" with exit 0; a runner that runs no step by design
# (graphviz) still says so, with exit 0.
fails "runner skip \(badrun\.skip\) reported success, but step [0-9]+ \(commit" \
  -- train "$iris" --state skip.state --cache off -R skip
grep -q "ran no step" <<<"$("$sy" train "$iris" --state skip.state -R skip 2>&1)" &&
  bad "train -R skip says the runner ran no step" || ok
[ -e skip.state ] && bad "train -R skip wrote a state" || ok
expect 0 "nothing was trained or committed \(the runner ran no step\)" -- \
  "$sy" -R draw train "$iris" --state draw.state
expect 0 "trained states written to ok\.state" -- "$sy" train "$iris" --state ok.state
# A runner that commits in another process: this one holds no states, but
# steps ran, so train reports the commit, not "ran no step".
out=$("$sy" train "$iris" --state remote.state -R remote 2>&1)
rc=$?
[ "$rc" -eq 0 ] && ok || bad "train -R remote exited $rc: $out"
grep -q "ran no step" <<<"$out" && bad "train -R remote says the runner ran no step: $out" || ok
grep -q "trained states written to remote\.state" <<<"$out" && ok || bad "train -R remote: $out"
[ -s remote.state ] && ok || bad "train -R remote wrote no state"
# The good runners pass the check.
for r in inline parallel isolated; do
  "$sy" -q run "$iris" --cache off -R "$r" > "$r.csv" && same good.csv "$r.csv" "run -R $r" ||
    bad "run -R $r failed"
done

# ---- exit() inside the process --------------------------------------------
cp "$ex/iris/iris.csv" .
printf 'name = "quit";\nsource = { feed = "data"; table = "iris"; };\nactors = ( { id = "bye"; actor = "fault.exit"; } );\n' > quit.flow
for r in inline parallel; do
  fails "step 1 \(apply bye \(fault\.exit\)\) called exit\(\) inside this process; the run failed" \
    'mode = processes' -- -o FEED.data.path="$tmp" run quit.flow --cache off -R "$r"
done
# In process mode the worker's exit fails only its step.
fails "bye|fault\.exit" -- -o FEED.data.path="$tmp" run quit.flow --cache off -R isolated

echo "runner-check.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
