#!/usr/bin/env bash
# slurm-ci.sh up|down — throwaway single-node Slurm 22.05 on localhost (Debian bookworm, root, no systemd).
# After `up`: export SLURM_CONF=${SLURM_CI_DIR:-/tmp/slurm-ci}/slurm.conf
# SLURM_CI_ACCT=0: no slurmdbd/MariaDB (sacct then fails); SLURM_CI_CPUS=N: advertise N CPUs (oversubscribe);
# SLURM_CI_GPUS=N: N fake GPUs (char devices aliasing /dev/null) so --gpus* works and CUDA_VISIBLE_DEVICES is set.
# SLURM_CI_ACCT=0 also writes a sacct stand-in to $D/bin/sacct (put $D/bin first on PATH) that answers
# submitit's accounting query from slurmctld memory, so killed jobs do not hang submitit.
set -euo pipefail
D=${SLURM_CI_DIR:-/tmp/slurm-ci}; ACCT=${SLURM_CI_ACCT:-1}; export SLURM_CONF=$D/slurm.conf
down() {  # stop only the daemons recorded in $D (by PID), then delete $D
  for p in slurmd slurmctld slurmdbd mariadb munged; do
    [ -f "$D/$p.pid" ] && pid=$(cat "$D/$p.pid") && kill "$pid" 2>/dev/null || continue
    for i in $(seq 100); do case $(ps -o stat= -p "$pid") in ''|Z*) break;; esac; sleep 0.1; done
  done; rm -rf "$D"; }
[ "${1:-up}" = down ] && { down; exit 0; }
[ -f "$SLURM_CONF" ] && [[ $(scontrol ping 2>/dev/null) == *UP* ]] && { echo "slurm already up"; exit 0; }
down   # leftovers of a half-dead earlier run
PKGS="slurmctld slurmd slurm-client munge"; [ "$ACCT" = 1 ] && PKGS="$PKGS slurmdbd mariadb-server"
dpkg -s $PKGS >/dev/null 2>&1 || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $PKGS >/dev/null; }
mkdir -p "$D"/{state,spool,log}; install -d -o munge -g munge /run/munge
munge -n >/dev/null 2>&1 || { runuser -u munge -- /usr/sbin/munged; cp /run/munge/munged.pid "$D/munged.pid"; }
H=$(hostname -s); CPUS=${SLURM_CI_CPUS:-$(nproc)}; G=${SLURM_CI_GPUS:-0}; GT=; GN=
if [ "$G" -gt 0 ]; then GT=GresTypes=gpu; GN=Gres=gpu:$G; echo "Name=gpu File=$D/gpu[0-$((G-1))]" >"$D/gres.conf"
  for i in $(seq 0 $((G-1))); do mknod "$D/gpu$i" c 1 3; done; fi
cat > "$SLURM_CONF" <<CONF
ClusterName=ci
$GT
SlurmctldHost=$H(127.0.0.1)
SlurmUser=root
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
MpiDefault=none
ReturnToService=2
MinJobAge=3600
KillWait=5
AuthInfo=cred_expire=10
SchedulerParameters=sched_interval=2
AccountingStorageType=accounting_storage/$([ "$ACCT" = 1 ] && echo slurmdbd || echo none)
NodeName=$H NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$(( $(free -m | awk '/^Mem:/{print $2}') - 1024 )) $GN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
if [ "$ACCT" = 1 ]; then
  install -d -o mysql -g root /run/mysqld
  if ! mariadb -e 'select 1' >/dev/null 2>&1; then
    setsid /usr/sbin/mariadbd --user=mysql --skip-networking >"$D/log/mariadb.log" 2>&1 </dev/null &
    echo $! >"$D/mariadb.pid"
    for i in $(seq 150); do mariadb -e 'select 1' >/dev/null 2>&1 && break; sleep 0.2; done
  fi
  mariadb -e 'DROP DATABASE IF EXISTS slurm_ci_acct'   # job ids restart at 1 with a fresh state dir
  install -m 600 /dev/stdin "$D/slurmdbd.conf" <<CONF
AuthType=auth/munge
DbdHost=localhost
SlurmUser=root
StorageType=accounting_storage/mysql
StorageUser=root
StorageLoc=slurm_ci_acct
PidFile=$D/slurmdbd.pid
LogFile=$D/log/slurmdbd.log
CONF
  slurmdbd
  for i in $(seq 150); do sacctmgr -n list cluster >/dev/null 2>&1 && break; sleep 0.2; done
fi

if [ "$ACCT" != 1 ]; then  # sacct shim (recipe: slurm-single-node.md)
  mkdir -p "$D/bin"
  cat > "$D/bin/sacct" <<'SHIM'
#!/usr/bin/env bash
# sacct stand-in for submitit when AccountingStorageType=none: answers
# `sacct -o JobID,State,NodeList --parsable2 -j ID...` from slurmctld memory (needs a large MinJobAge).
ids=(); while [ $# -gt 0 ]; do [ "$1" = -j ] && { ids+=("$2"); shift; }; shift; done
echo "JobID|State|NodeList"
for id in "${ids[@]}"; do scontrol show job -o "$id" 2>/dev/null; done | awk '{
  delete v; for (i = 1; i <= NF; i++) { k = $i; sub(/=.*/, "", k); v[k] = substr($i, length(k) + 2) }
  id = v["JobId"]; t = v["ArrayTaskId"]
  if (v["ArrayJobId"] != "") id = v["ArrayJobId"] "_" (t ~ /[-,]/ ? "[" t "]" : t)
  print id "|" v["JobState"] "|" v["NodeList"] }'
SHIM
  chmod +x "$D/bin/sacct"
fi
slurmctld; slurmd
for i in $(seq 150); do [[ $(sinfo -h -o %T 2>/dev/null) == idle ]] && break; sleep 0.2; done
sinfo; [[ $(sinfo -h -o %T) == idle ]] || { tail -n 20 "$D"/log/*.log; exit 1; }
