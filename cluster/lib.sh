# shellcheck shell=bash disable=SC2034  # variables are used by the scripts that source this file
# Shared by build.sh, up.sh, down.sh, gpu.sh, env.sh, selftest.sh: paths, versions, logging.
# Sourcing it has no side effects beyond setting variables and functions.

CLUSTER_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
. "$CLUSTER_SRC/versions.env"

# The Go toolchain must never be swapped for a downloaded one (only the module proxy is reachable).
export GOTOOLCHAIN=local

# Everything built or downloaded once lives in the cache, keyed by the versions above, and survives down.sh.
CACHE_ROOT=${MODELSHIP_CACHE:-$HOME/.cache/modelship}
VERSIONS_KEY="k8s${K8S_VERSION#v}-etcd${ETCD_VERSION#v}-coredns${COREDNS_VERSION#v}-helm${HELM_VERSION#v}"
CACHE_DIR="$CACHE_ROOT/cluster-$VERSIONS_KEY"
BIN_DIR="$CACHE_DIR/bin"
# Registry storage: images pushed by us and by the Java build survive a teardown.
REGISTRY_STORAGE="$CACHE_DIR/registry"
IMAGES_DIR="$CACHE_DIR/images"

# Everything of one running cluster (configs, certs, etcd data, logs, pids) lives in the state dir,
# which down.sh removes.
STATE_DIR=${MODELSHIP_CLUSTER_DIR:-/var/lib/modelship-cluster}
LOG_DIR="$STATE_DIR/logs"
PID_DIR="$STATE_DIR/pids"
KUBECONFIG_PATH="$STATE_DIR/kubeconfig"
COREDNS_QUERY_LOG="$LOG_DIR/coredns.log"

# Fixed network layout. Chosen to stay clear of this machine's own addresses (192.0.2.0/24 on eth0,
# resolver 10.255.255.53).
POD_CIDR=10.244.0.0/16
NODE_POD_CIDR=10.244.0.0/24       # host-local IPAM range on our one node
BRIDGE=msbr0                      # our CNI bridge (a name no other tool uses, so teardown is exact)
BRIDGE_GW=10.244.0.1
SERVICE_CIDR=10.96.0.0/16
KUBERNETES_SVC_IP=10.96.0.1       # first address of the service CIDR: the "kubernetes" Service
DNS_SVC_IP=10.96.0.10             # kube-dns Service ClusterIP (kubelet clusterDNS)
CLUSTER_DOMAIN=cluster.local
NODE_NAME=modelship-node
REGISTRY_ADDR=127.0.0.1:5000
APISERVER_PORT=6443
ETCD_CLIENT_PORT=2379
ETCD_PEER_PORT=2380
JRE_IMAGE="$REGISTRY_ADDR/modelship/jre:$JRE_TAG"
PAUSE_IMAGE="$REGISTRY_ADDR/modelship/pause:3.10"
HTTPD_IMAGE="$REGISTRY_ADDR/modelship/httpd:1"
KUBECTL_IMAGE="$REGISTRY_ADDR/modelship/kubectl:$K8S_VERSION"

# The node IP: the address of the interface that holds the default route (the kubelet refuses loopback,
# and pods must reach the apiserver on it). MODELSHIP_NODE_IP overrides the detection.
detect_node_ip() {
  if [ -n "${MODELSHIP_NODE_IP:-}" ]; then echo "$MODELSHIP_NODE_IP"; return; fi
  local dev
  dev=$(ip -4 route show default | awk '{for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit }}')
  [ -n "$dev" ] || { echo "no default route: cannot pick a node IP (set MODELSHIP_NODE_IP)" >&2; return 1; }
  ip -4 -o addr show dev "$dev" scope global | awk '{split($4, a, "/"); print a[1]; exit}'
}

# --- logging -------------------------------------------------------------------------------------
SCRIPT_START=$(date +%s.%N)
_elapsed() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1fs", e - s }'; }
log() { printf '[%s %7s] %s\n' "${LOG_TAG:-cluster}" "$(_elapsed "$SCRIPT_START")" "$*"; }
die() { printf '[%s %7s] ERROR: %s\n' "${LOG_TAG:-cluster}" "$(_elapsed "$SCRIPT_START")" "$*" >&2; exit 1; }

# phase NAME CMD...: runs one step and prints one line with its duration.
phase() {
  local name=$1; shift
  local t0
  t0=$(date +%s.%N)
  "$@"
  log "$name ($(_elapsed "$t0"))"
}

# wait_until SECONDS DESCRIPTION CMD...: polls CMD every 0.25 s until it succeeds or the deadline passes.
wait_until() {
  local timeout=$1 what=$2; shift 2
  local deadline=$(( $(date +%s) + timeout ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || { log "timed out after ${timeout}s waiting for $what"; return 1; }
    sleep 0.25
  done
}

# pid_running PID: true while PID is a live process. Not kill -0 alone: a dead daemon stays a zombie until
# its parent reaps it (up.sh never waits for its daemons; this VM's PID 1 reaps orphans only now and then).
pid_running() {
  [ -n "${1:-}" ] && [ -r "/proc/$1/stat" ] || return 1
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }        # the command name may hold spaces and ")"; the state follows its last ")"
  [ "${stat%% *}" != Z ]
}

require_root() { [ "$(id -u)" = 0 ] || die "must run as root (it manages containerd, iptables, mounts)"; }
