# slurm-cluster.sh - a real one-node Slurm cluster on this machine, for the
# batch runner's tests (runner-slurm). Sourced after common.sh:
#
#   . "$top_srcdir/tests/e2e/slurm-cluster.sh"
#   slurm_start    # or the script exits 77 (skipped) without Slurm
#
# It writes slurm.conf for localhost into $tmp/slurm (free ports of its own,
# state, spool, pid and log files there; proctrack/linuxproc, task/none, no
# accounting daemon; SlurmUser and SlurmdUser the current user, root or
# not), makes a munge key there and starts munged (its socket there too),
# slurmctld and slurmd as the current user, and waits until sinfo shows the
# node idle. SLURM_CONF is exported: every Slurm client, the runner's
# included, finds this cluster through it, as on any cluster. Several
# scripts may each run their own cluster at once: nothing is shared but
# the host name. slurm_stop (installed in the EXIT trap, before common.sh's
# rm -rf) stops the daemons and waits until they are gone.
# shellcheck shell=bash

slurm_dir=$tmp/slurm
slurm_pids=()

slurm_stop() {
  local pid
  # Jobs first (their processes are slurmstepd's children), then daemons.
  if [ -n "${SLURM_CONF:-}" ] && [ ${#slurm_pids[@]} -gt 1 ]; then
    scancel --quiet --user="$(id -un)" >/dev/null 2>&1
    for _ in $(seq 50); do
      [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
      sleep 0.1
    done
  fi
  for pid in "${slurm_pids[@]}"; do
    kill "$pid" 2>/dev/null
  done
  for pid in "${slurm_pids[@]}"; do
    for _ in $(seq 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null
  done
  slurm_pids=()
}

slurm_trap() {
  slurm_stop
  bg_stop
  rm -rf "$tmp"
}

# Starts the cluster, or exits 77 when Slurm or munge is not installed.
slurm_start() {
  local cmd
  for cmd in slurmctld slurmd munged sbatch squeue scontrol scancel sinfo; do
    if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$cmd" ]; then
      echo "SKIP: $cmd is not installed (Debian: apt-get install slurm-wlm munge)"
      exit 77
    fi
  done
  PATH=$PATH:/usr/sbin
  trap slurm_trap EXIT
  mkdir -p "$slurm_dir"/{state,spool,munge,log}
  chmod 755 "$slurm_dir/munge"
  local me host cpus mem ctld_port d_port
  me=$(id -un)
  host=$(hostname -s)
  # The node as slurmd sees it: CPUs and memory of this machine.
  read -r cpus mem < <(slurmd -C | sed -n 's/.*CPUs=\([0-9]*\).*RealMemory=\([0-9]*\).*/\1 \2/p')
  # The tests ask for 2 cpus: a 1-cpu machine pretends to have 2.
  local overrides=
  if [ "${cpus:-1}" -lt 2 ]; then
    cpus=2 overrides=SlurmdParameters=config_overrides
  fi
  ctld_port=$(free_port)
  d_port=$(free_port)
  # munge: a key of our own; --force lets it run as root and in /tmp.
  dd if=/dev/urandom of="$slurm_dir/munge/munge.key" bs=1024 count=1 2>/dev/null
  chmod 400 "$slurm_dir/munge/munge.key"
  munged --force --socket="$slurm_dir/munge/munge.socket" \
    --key-file="$slurm_dir/munge/munge.key" \
    --pid-file="$slurm_dir/munge/munged.pid" \
    --log-file="$slurm_dir/log/munged.log" \
    --seed-file="$slurm_dir/munge/munged.seed" 2>"$slurm_dir/log/munged.err" || {
    echo "slurm-cluster: munged did not start: $(cat "$slurm_dir/log/munged.err")"
    exit 1
  }
  slurm_pids+=("$(cat "$slurm_dir/munge/munged.pid")")
  cat >"$slurm_dir/slurm.conf" <<EOF
ClusterName=sytest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
SlurmUser=$me
SlurmdUser=$me
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$slurm_dir/munge/munge.socket
StateSaveLocation=$slurm_dir/state
SlurmdSpoolDir=$slurm_dir/spool
SlurmctldPidFile=$slurm_dir/slurmctld.pid
SlurmdPidFile=$slurm_dir/slurmd.pid
SlurmctldLogFile=$slurm_dir/log/slurmctld.log
SlurmdLogFile=$slurm_dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
PlugStackConfig=$slurm_dir/plugstack.conf
SwitchType=switch/none
ReturnToService=2
SchedulerType=sched/builtin
SchedulerParameters=sched_interval=1,sched_min_interval=0,batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MinJobAge=600
KillWait=2
InactiveLimit=0
MessageTimeout=10
SlurmdTimeout=30
GresTypes=gpu
$overrides
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem Gres=gpu:1 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:8
EOF
  : >"$slurm_dir/plugstack.conf"
  # One make-believe GPU (its "device" is /dev/null): --gres=gpu:1 is
  # accepted and shows in scontrol, which is what the tests look at.
  echo "NodeName=$host Name=gpu File=/dev/null" >"$slurm_dir/gres.conf"
  export SLURM_CONF=$slurm_dir/slurm.conf
  slurmctld -D -i >"$slurm_dir/log/slurmctld.out" 2>&1 &
  slurm_pids+=("$!")
  slurmd -D -N "$host" >"$slurm_dir/log/slurmd.out" 2>&1 &
  slurm_pids+=("$!")
  local i state
  for i in $(seq 300); do
    state=$(sinfo -h -N -o '%T' 2>/dev/null)
    [ "$state" = idle ] && return 0
    sleep 0.1
  done
  echo "slurm-cluster: the node did not become idle (state '$state'); logs:"
  tail -n 20 "$slurm_dir"/log/*
  exit 1
}
