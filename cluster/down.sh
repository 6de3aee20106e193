#!/usr/bin/env bash
# Tears the cluster down and restores the host as it was before up.sh, also after a failed, partial or
# killed up.sh; running it twice is safe. Order matters:
#   1. delete pods through the API (containers outlive containerd and the kubelet);
#   2. stop our daemons (recorded PIDs, then any stray process running our binaries or our state dir);
#   3. kill what is left in the kubepods cgroups, unmount everything under the state dir, the kubelet's and
#      containerd's outside dirs and the cni-* netns;
#   4. remove the bridge, routes, iptables/ip6tables rules and chains (kube-proxy --cleanup, then every
#      KUBE-*, CNI-* and MODELSHIP-* chain and the rules that jump to them) and nf_tables tables that the
#      cluster created; the kubepods cgroups; restore recorded sysctls; remove directories it created;
#   5. keep the daemons' logs in <cache>/last-run-logs, remove the state dir.
# Keeps the cache (binaries, registry storage, images). --purge removes the cluster caches too.
set -euo pipefail
# shellcheck disable=SC2034  # read by log() in lib.sh
LOG_TAG=down
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
require_root

PURGE=false
for a in "$@"; do
  case $a in
    --purge) PURGE=true ;;
    *) die "usage: $0 [--purge]" ;;
  esac
done

if [ "${MODELSHIP_CLUSTER_LOCKED:-}" != 1 ]; then
  mkdir -p "$CACHE_ROOT"
  exec 9>"$CACHE_ROOT/cluster.lock"
  flock -w 900 9 || die "another cluster/up.sh or down.sh holds $CACHE_ROOT/cluster.lock"
fi

HOST_RECORD="$STATE_DIR/host"
KUBECTL="$BIN_DIR/kubectl"
export KUBECONFIG="$KUBECONFIG_PATH"
PROBLEMS=()
problem() { PROBLEMS+=("$*"); log "WARNING: $*"; }

pid_of() { cat "$PID_DIR/$1.pid" 2>/dev/null || true; }
alive() { pid_running "$1"; }

# stop_pids SECONDS PID...: SIGTERM, wait up to SECONDS for all, then SIGKILL the rest.
stop_pids() {
  local timeout=$1; shift
  [ $# -gt 0 ] || return 0
  kill -TERM "$@" 2>/dev/null || true
  local deadline=$(( $(date +%s) + timeout )) p left
  while :; do
    left=()
    for p in "$@"; do alive "$p" && left+=("$p"); done
    [ ${#left[@]} -gt 0 ] || return 0
    [ "$(date +%s)" -lt "$deadline" ] || break
    sleep 0.2
  done
  log "still running after ${timeout}s, killing: $(for p in "${left[@]}"; do cat "/proc/$p/comm" 2>/dev/null; done | tr '\n' ' ')"
  kill -KILL "${left[@]}" 2>/dev/null || true
}

stop_daemons() { # NAME...
  local n p pids=()
  for n in "$@"; do
    p=$(pid_of "$n")
    alive "$p" && pids+=("$p")
  done
  stop_pids 15 "${pids[@]}"
  for n in "$@"; do rm -f "$PID_DIR/$n.pid"; done
}

# In waves: the apiserver's graceful shutdown waits for etcd, so etcd must outlive it.
stop_all_daemons() {
  stop_daemons coredns kube-proxy kubelet kube-scheduler kube-controller-manager
  stop_daemons kube-apiserver
  stop_daemons etcd containerd registry
}

# Our ancestors (up.sh calling us, a test harness) must never match the stray scan.
ancestors() {
  local p=$$
  while [ -n "$p" ] && [ "$p" -gt 1 ]; do
    echo "$p"
    p=$(awk '/^PPid:/ { print $2 }' "/proc/$p/status" 2>/dev/null || true)
  done
}

# Processes we started, found without PID files: they run a binary from our cache (any versions key) or
# name our state dir on their command line (containerd, its shims, the registry).
stray_pids() {
  local mine d pid exe
  mine=" $(ancestors | tr '\n' ' ') "
  for d in /proc/[0-9]*; do
    pid=${d#/proc/}
    case $mine in *" $pid "*) continue ;; esac
    exe=$(readlink "$d/exe" 2>/dev/null) || continue
    case $exe in "$CACHE_ROOT"/cluster-*/bin/*) echo "$pid"; continue ;; esac
    # An image build images.sh left running: debootstrap names its work dir, apt runs chrooted into it.
    case $(readlink "$d/root" 2>/dev/null) in "$IMAGES_DIR"/work-*) echo "$pid"; continue ;; esac
    if tr '\0' '\n' <"$d/cmdline" 2>/dev/null | grep -qF -e "$STATE_DIR" -e "$IMAGES_DIR/work-" -e "$CLUSTER_SRC/images.sh"; then echo "$pid"; fi
  done
}

# Every process in a kubepods cgroup: the pods' containers and pause processes.
pod_processes() {
  find /sys/fs/cgroup -path '*/kubepods*' -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u
}

# --- 1. pods through the API ---------------------------------------------------------------------
delete_pods() {
  [ -x "$KUBECTL" ] && [ -f "$KUBECONFIG_PATH" ] || return 0
  alive "$(pid_of kube-apiserver)" && alive "$(pid_of kubelet)" || return 0
  "$KUBECTL" get --raw /readyz --request-timeout=5s >/dev/null 2>&1 || return 0
  # No controller may recreate what we delete.
  stop_daemons kube-controller-manager kube-scheduler
  "$KUBECTL" delete pods --all --all-namespaces --grace-period=1 --wait=false --request-timeout=20s \
    >/dev/null 2>&1 || true
  # The kubelet removes each pod object once its containers are gone.
  if ! wait_until 45 "the kubelet to stop every pod" \
       bash -c '[ -z "$("$0" get pods -A -o name --request-timeout=5s)" ]' "$KUBECTL"; then
    log "some pods did not stop in time; their processes are killed below"
  fi
}

# --- 3. processes, mounts -------------------------------------------------------------------------
kill_leftovers() {
  local pids
  pids=$(pod_processes)
  if [ -n "$pids" ]; then
    log "killing $(wc -w <<<"$pids") leftover container processes"
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
  fi
  pids=$(stray_pids)
  if [ -n "$pids" ]; then
    log "stopping stray processes: $(for p in $pids; do cat "/proc/$p/comm" 2>/dev/null; done | sort | uniq -c | awk '{printf "%s%s(%s)", sep, $2, $1; sep=", "}')"
    # shellcheck disable=SC2086
    stop_pids 10 $pids
  fi
  wait_until 15 "container processes to exit" bash -c '[ -z "$(find /sys/fs/cgroup -path "*/kubepods*" -name cgroup.procs -exec cat {} + 2>/dev/null)" ]' \
    || problem "processes remain in kubepods cgroups"
}

# Mount points at or under the given directories, deepest first.
mounts_under() {
  local d
  for d in "$@"; do
    awk -v d="$d" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/mounts
  done | awk '{ print length($0) " " $0 }' | sort -rn | cut -d' ' -f2- | uniq
}

# (and the /proc a killed image build left mounted in its work dir in the cache)
MOUNT_ROOTS=("$STATE_DIR" /var/lib/kubelet /run/containerd /var/lib/containerd "$IMAGES_DIR")
unmount_all() {
  local m n=0
  # The cni-* network namespaces containerd pinned with bind mounts (never other netns on the host).
  for m in $(awk '$2 ~ "^/run/netns/cni-" { print $2 }' /proc/mounts); do umount "$m" 2>/dev/null || umount -l "$m"; n=$((n + 1)); done
  while read -r m; do
    [ -n "$m" ] || continue
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || problem "cannot unmount $m"
    n=$((n + 1))
  done < <(mounts_under "${MOUNT_ROOTS[@]}")
  [ "$n" = 0 ] || log "unmounted $n mounts"
  rm -f /run/netns/cni-* 2>/dev/null || true
  for m in "$IMAGES_DIR"/work-*; do
    [ -e "$m" ] || continue
    if [ -z "$(mounts_under "$m")" ]; then rm -rf --one-file-system "$m"; else problem "mounts remain under $m"; fi
  done
}

# --- 4. network ----------------------------------------------------------------------------------
remove_network() {
  if ip link show "$BRIDGE" >/dev/null 2>&1; then ip link del "$BRIDGE"; fi
  # veths whose pod end lived in a now-deleted netns disappear with it; any left on our bridge's names go.
  ip route del unreachable "$POD_CIDR" 2>/dev/null || true
  ip route del "$SERVICE_CIDR" 2>/dev/null || true
}

# Deletes, in one iptables-restore --noflush transaction per family, every rule that jumps to one of the
# cluster's chains (KUBE-*, CNI-*, MODELSHIP-*) and then those chains. iptables-save lines are already
# in restore syntax, so "-A X ..." becomes "-D X ...".
clean_iptables_family() {
  local save=$1 restore=$2 script
  command -v "$save" >/dev/null || return 0
  script=$("$save" 2>/dev/null | awk '
    /^\*/ { if (table != "") flush(); table = $0; nd = 0; nc = 0; next }
    /^:/ { name = substr($1, 2); if (name ~ /^(KUBE-|CNI-|MODELSHIP-)/) chains[nc++] = name; next }
    /^-A / {
      chain = $2
      if (chain ~ /^(KUBE-|CNI-|MODELSHIP-)/) next          # flushed with its chain below
      if ($0 ~ / -[jg] (KUBE-|CNI-|MODELSHIP-)/) { sub(/^-A /, "-D "); dels[nd++] = $0 }
      next
    }
    /^COMMIT/ { flush(); table = ""; next }
    function flush(  i) {
      if (nd + nc == 0) return
      print table
      for (i = 0; i < nd; i++) print dels[i]
      for (i = 0; i < nc; i++) print "-F " chains[i]
      for (i = 0; i < nc; i++) print "-X " chains[i]
      print "COMMIT"
      nd = 0; nc = 0
    }')
  [ -n "$script" ] || return 0
  printf '%s\n' "$script" | "$restore" --noflush || problem "$restore could not remove the cluster's rules"
}

# iptables-nft creates whole nf_tables tables (ip filter, ip nat, ...) that stay, empty, after the rules
# are gone; delete those the host did not have before up.sh, if nothing else put rules into them.
clean_nft_tables() {
  command -v nft >/dev/null || return 0
  local before="" fam name
  [ -f "$HOST_RECORD/nft-tables" ] && before=$(cat "$HOST_RECORD/nft-tables")
  while read -r _ fam name; do
    if grep -qxF "table $fam $name" <<<"$before"; then continue; fi
    # Without a record (up.sh never got that far) only kube-proxy's own table is surely ours.
    if [ ! -f "$HOST_RECORD/nft-tables" ] && [ "$name" != kube-proxy ]; then continue; fi
    # Chain bodies are indented by two tabs; anything there but the chain's "type ... policy" line is
    # a rule (or set element) that someone else may own.
    if nft list table "$fam" "$name" 2>/dev/null | grep -qvP '^(\t\ttype |\t?[^\t]|$)'; then
      problem "nf_tables table $fam $name still holds rules; left in place"
      continue
    fi
    nft delete table "$fam" "$name"
  done < <(nft list tables 2>/dev/null)
}

clean_firewall() {
  if [ -x "$BIN_DIR/kube-proxy" ]; then
    # Removes kube-proxy's iptables, ipvs and nftables-mode state.
    "$BIN_DIR/kube-proxy" --cleanup >"${LOG_DIR}/kube-proxy-cleanup.log" 2>&1 \
      || log "kube-proxy --cleanup reported errors (see $LOG_DIR/kube-proxy-cleanup.log); cleaning generically"
  fi
  clean_iptables_family iptables-save iptables-restore
  clean_iptables_family ip6tables-save ip6tables-restore
  clean_nft_tables
}

remove_cgroups() {
  local d
  while read -r d; do
    find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
    [ ! -d "$d" ] || problem "cannot remove cgroup $d"
  done < <(find /sys/fs/cgroup -mindepth 2 -maxdepth 2 -type d -name 'kubepods*' 2>/dev/null)
}

restore_sysctls() {
  [ -f "$HOST_RECORD/sysctls" ] || return 0
  local line key val
  while IFS= read -r line; do
    key=${line%%=*}; val=${line#*=}
    [ "$(sysctl -n "$key" 2>/dev/null)" = "$val" ] && continue
    sysctl -q -w "$key=$val" >/dev/null || problem "cannot restore $key=$val"
  done <"$HOST_RECORD/sysctls"
}

remove_created_paths() {
  [ -f "$HOST_RECORD/created-paths" ] || return 0
  local p
  while IFS= read -r p; do
    [ -e "$p" ] || continue
    if [ -n "$(mounts_under "$p")" ]; then problem "$p still has mounts; left in place"; continue; fi
    rm -rf --one-file-system "$p"
  done <"$HOST_RECORD/created-paths"
}

remove_state() {
  [ -d "$STATE_DIR" ] || return 0
  if [ -d "$LOG_DIR" ]; then
    rm -rf "$CACHE_DIR/last-run-logs"
    mkdir -p "$CACHE_DIR"
    cp -a "$LOG_DIR" "$CACHE_DIR/last-run-logs"
  fi
  # Never rm -rf through a mount: a pod's hostPath or subPath bind mount would take host files with it.
  if [ -n "$(mounts_under "$STATE_DIR")" ]; then
    problem "mounts remain under $STATE_DIR; not removing it: $(mounts_under "$STATE_DIR" | head -3 | tr '\n' ' ')"
    return
  fi
  rm -rf --one-file-system "$STATE_DIR"
}

# --- main ----------------------------------------------------------------------------------------
if [ ! -d "$STATE_DIR" ] && [ -z "$(stray_pids)" ] && ! ip link show "$BRIDGE" >/dev/null 2>&1 \
   && [ -z "$(mounts_under "$IMAGES_DIR")" ]; then
  log "nothing to tear down"
else
  mkdir -p "$LOG_DIR"
  phase "pods deleted through the API" delete_pods
  phase "daemons stopped" stop_all_daemons
  phase "leftover processes killed" kill_leftovers
  phase "mounts removed" unmount_all
  phase "bridge, routes removed" remove_network
  phase "iptables/ip6tables/nf_tables cleaned" clean_firewall
  phase "cgroups removed" remove_cgroups
  phase "sysctls restored" restore_sysctls
  phase "created directories removed" remove_created_paths
  phase "state dir removed (logs kept in $CACHE_DIR/last-run-logs)" remove_state
fi

if $PURGE; then
  log "purging caches: $CACHE_ROOT/cluster-*"
  rm -rf "$CACHE_ROOT"/cluster-*
fi

remaining=$(stray_pids)
[ -z "$remaining" ] || problem "processes still running: $(echo "$remaining" | tr '\n' ' ')"
if [ ${#PROBLEMS[@]} -gt 0 ]; then
  die "teardown incomplete (${#PROBLEMS[@]} problems above)"
fi
log "down in $(_elapsed "$SCRIPT_START")"
