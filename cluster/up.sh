#!/usr/bin/env bash
# Brings up a real one-node Kubernetes cluster on this machine, from nothing:
#   Debian packages (if missing) -> binaries (build.sh, cached) -> local registry + images (images.sh,
#   cached) -> containerd, etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubelet,
#   kube-proxy, CoreDNS, each a plain host process with its log in $STATE/logs.
# Idempotent: if the cluster is already up and healthy it says so and exits 0; a partial or dead one is
# torn down (down.sh) and started again. On failure it exits non-zero and names the log that explains it;
# cluster/down.sh cleans up after a failed start too.
# Prints `export KUBECONFIG=...` at the end; cluster/env.sh prints every path the tests need.
set -euo pipefail
# shellcheck disable=SC2034  # read by log() in lib.sh
LOG_TAG=up
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
require_root

# One up/down at a time. The lock lives in the cache (which survives teardown), never in the state dir.
mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/cluster.lock"
flock -w 900 9 || die "another cluster/up.sh or down.sh holds $CACHE_ROOT/cluster.lock"
export MODELSHIP_CLUSTER_LOCKED=1   # lets the down.sh we may call run under our lock

export KUBECONFIG="$KUBECONFIG_PATH"
KUBECTL="$BIN_DIR/kubectl"
ETC="$STATE_DIR/etc"
PKI="$STATE_DIR/pki"
HOST_RECORD="$STATE_DIR/host"

# --- daemons ---------------------------------------------------------------------------------------

# start_daemon NAME CMD...: runs CMD detached (own session, stdin from /dev/null, output appended to
# $LOG_DIR/NAME.log, the lock fd closed so a daemon never holds it) and records its PID. Started
# directly, not in a subshell, so $! is the daemon itself.
start_daemon() {
  local name=$1; shift
  setsid "$@" </dev/null >>"$LOG_DIR/$name.log" 2>&1 9>&- &
  echo $! >"$PID_DIR/$name.pid"
}

daemon_alive() { local p; p=$(cat "$PID_DIR/$1.pid" 2>/dev/null) && pid_running "$p"; }

# wait_daemon NAME SECONDS WHAT CMD...: polls CMD until it succeeds; fails at once, with the log, if the
# daemon died, or after SECONDS.
wait_daemon() {
  local name=$1 timeout=$2 what=$3; shift 3
  local deadline=$(( $(date +%s) + timeout ))
  until "$@" >/dev/null 2>&1; do
    if ! daemon_alive "$name"; then fail_with_log "$name" "$name exited before $what"; fi
    [ "$(date +%s)" -lt "$deadline" ] || fail_with_log "$name" "timed out after ${timeout}s waiting for $what"
    sleep 0.25
  done
}

fail_with_log() {
  local name=$1 msg=$2
  echo "---- last lines of $LOG_DIR/$name.log ----" >&2
  tail -n 25 "$LOG_DIR/$name.log" >&2 || true
  echo "----" >&2
  die "$msg; see $LOG_DIR/$name.log (cluster/down.sh cleans up and keeps the logs in $CACHE_DIR/last-run-logs)"
}

# --- health ----------------------------------------------------------------------------------------
DAEMONS=(registry containerd etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy coredns)

node_ready() {
  [ "$("$KUBECTL" get node "$NODE_NAME" --request-timeout=5s \
        -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}

# The query goes to the kube-dns Service IP, so it proves kube-proxy's rules as well as CoreDNS.
dns_answers() {
  [ "$(dig +time=1 +tries=1 +short @"$DNS_SVC_IP" "kubernetes.default.svc.$CLUSTER_DOMAIN" A 2>/dev/null)" \
      = "$KUBERNETES_SVC_IP" ]
}

cluster_healthy() {
  [ -f "$STATE_DIR/up-complete" ] || return 1
  local d
  for d in "${DAEMONS[@]}"; do daemon_alive "$d" || return 1; done
  curl -sfk --max-time 5 "https://$NODE_IP:$APISERVER_PORT/readyz" >/dev/null || return 1
  node_ready && dns_answers
}

# --- host record: what down.sh restores ---------------------------------------------------------------
# Sysctls the kubelet (panic/overcommit/keys), the CNI bridge plugin (ip_forward) and kube-proxy may change.
RECORDED_SYSCTLS=(
  kernel.panic kernel.panic_on_oops vm.overcommit_memory vm.panic_on_oom
  kernel.keys.root_maxkeys kernel.keys.root_maxbytes
  net.ipv4.ip_forward net.ipv6.conf.all.forwarding net.ipv4.conf.all.route_localnet
  net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables
  net.netfilter.nf_conntrack_max net.netfilter.nf_conntrack_tcp_timeout_established
  net.netfilter.nf_conntrack_tcp_timeout_close_wait net.netfilter.nf_conntrack_tcp_be_liberal
)
# Places outside the state dir that the kubelet, containerd and the CNI plugins create whatever their
# configured dirs are; down.sh removes those that did not exist before.
OUTSIDE_PATHS=(/var/lib/kubelet /var/log/pods /var/log/containers /var/lib/cni /run/containerd /run/netns
               /etc/cni /opt/cni /opt/containerd /var/lib/containerd /etc/kubernetes)

record_host() {
  mkdir -p "$HOST_RECORD"
  local s p
  : >"$HOST_RECORD/sysctls"
  for s in "${RECORDED_SYSCTLS[@]}"; do
    if v=$(sysctl -n "$s" 2>/dev/null); then echo "$s=$v" >>"$HOST_RECORD/sysctls"; fi
  done
  : >"$HOST_RECORD/created-paths"
  for p in "${OUTSIDE_PATHS[@]}"; do [ -e "$p" ] || echo "$p" >>"$HOST_RECORD/created-paths"; done
  # iptables here is the nf_tables flavour: its tables stay behind (empty) once created, so down.sh
  # deletes the ones that were not there before.
  nft list tables 2>/dev/null >"$HOST_RECORD/nft-tables" || : >"$HOST_RECORD/nft-tables"
  echo "$NODE_IP" >"$HOST_RECORD/node-ip"
}

# --- network safety --------------------------------------------------------------------------------
# Set up before anything can send: our own bridge (the CNI bridge plugin reuses it), routes that keep the
# pod and service ranges on it, and a filter that drops forwarded pod traffic to anywhere but the cluster.
setup_network() {
  ip link add "$BRIDGE" type bridge
  ip addr add "$BRIDGE_GW/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  # Pod addresses outside this node's range must never follow the default route out of eth0.
  ip route add unreachable "$POD_CIDR"
  # Service IPs exist only as kube-proxy's DNAT rules. With this route, a packet to one that has no rule
  # (kube-proxy not up yet, or gone) goes onto the bridge, where nobody answers, instead of out of eth0.
  # Not "unreachable": the host's own connections to a ClusterIP need a route to exist before the nat
  # OUTPUT rules rewrite their destination.
  ip route add "$SERVICE_CIDR" dev "$BRIDGE" src "$BRIDGE_GW"
  # In mangle FORWARD, which the kernel runs before filter FORWARD, so no ACCEPT that kube-proxy or a CNI
  # plugin later puts into filter FORWARD can get ahead of it. It also sees the destination after
  # kube-proxy's DNAT: a Service whose endpoints point outside is dropped too.
  iptables -t mangle -N MODELSHIP-POD-EGRESS
  iptables -t mangle -A MODELSHIP-POD-EGRESS -d "$POD_CIDR" -j RETURN
  iptables -t mangle -A MODELSHIP-POD-EGRESS -d "$SERVICE_CIDR" -j RETURN
  iptables -t mangle -A MODELSHIP-POD-EGRESS -d "$NODE_IP/32" -j RETURN
  iptables -t mangle -A MODELSHIP-POD-EGRESS -m comment --comment "modelship: pods reach only the cluster" -j DROP
  iptables -t mangle -I FORWARD 1 -i "$BRIDGE" -j MODELSHIP-POD-EGRESS
}

# --- registry ----------------------------------------------------------------------------------------
start_registry() {
  mkdir -p "$REGISTRY_STORAGE"
  cat >"$ETC/registry.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $REGISTRY_STORAGE
  delete:
    enabled: true
http:
  addr: $REGISTRY_ADDR
EOF
  start_daemon registry docker-registry serve "$ETC/registry.yml"
  wait_daemon registry 30 "the registry to answer" curl -sf "http://$REGISTRY_ADDR/v2/"
}

# --- PKI, tokens, kubeconfigs ----------------------------------------------------------------------
rand_token() { head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# sign_cert NAME SUBJECT EXT_LINES: an EC key and a certificate signed by our CA.
sign_cert() {
  local name=$1 subj=$2 ext=$3
  openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/$name.key" 2>/dev/null
  openssl req -new -key "$PKI/$name.key" -subj "$subj" -out "$PKI/$name.csr"
  printf '%s\n' "$ext" >"$PKI/$name.ext"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 365 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null
}

make_pki() {
  mkdir -p "$PKI"
  openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/ca.key" 2>/dev/null
  openssl req -x509 -new -key "$PKI/ca.key" -subj "/CN=modelship-cluster-ca" -days 3650 -out "$PKI/ca.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
  # In-cluster clients reach the apiserver as kubernetes.default.svc / 10.96.0.1; the host via the node IP.
  sign_cert apiserver "/CN=kube-apiserver" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.$CLUSTER_DOMAIN,DNS:localhost,IP:$KUBERNETES_SVC_IP,IP:$NODE_IP,IP:127.0.0.1"
  # The apiserver's client cert towards the kubelet (logs, exec, port-forward).
  sign_cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
  # Service-account tokens: the apiserver signs them, the controller manager too (legacy token secrets).
  openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
  openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  chmod 600 "$PKI"/*.key
}

# write_kubeconfig FILE USER TOKEN
write_kubeconfig() {
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: modelship
  cluster:
    server: https://$NODE_IP:$APISERVER_PORT
    certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
users:
- name: $2
  user:
    token: $3
contexts:
- name: modelship
  context:
    cluster: modelship
    user: $2
current-context: modelship
EOF
  chmod 600 "$1"
}

# Static bearer tokens (the token file authenticator): simplest auth for a throwaway cluster. The groups
# and user names are the ones the apiserver's bootstrap RBAC already binds (system:kube-proxy,
# system:kube-scheduler, ...); the kubelet's "system:node:<name>" is what Node authorization and
# NodeRestriction expect.
make_credentials() {
  local admin kubelet proxy ctrl sched dns
  admin=$(rand_token); kubelet=$(rand_token); proxy=$(rand_token)
  ctrl=$(rand_token); sched=$(rand_token); dns=$(rand_token)
  cat >"$PKI/tokens.csv" <<EOF
$admin,modelship-admin,modelship-admin,"system:masters"
$kubelet,system:node:$NODE_NAME,system:node:$NODE_NAME,"system:nodes"
$proxy,system:kube-proxy,system:kube-proxy
$ctrl,system:kube-controller-manager,system:kube-controller-manager
$sched,system:kube-scheduler,system:kube-scheduler
$dns,system:coredns,system:coredns
EOF
  chmod 600 "$PKI/tokens.csv"
  write_kubeconfig "$KUBECONFIG_PATH" modelship-admin "$admin"
  write_kubeconfig "$ETC/kubelet.kubeconfig" "system:node:$NODE_NAME" "$kubelet"
  write_kubeconfig "$ETC/kube-proxy.kubeconfig" system:kube-proxy "$proxy"
  write_kubeconfig "$ETC/kube-controller-manager.kubeconfig" system:kube-controller-manager "$ctrl"
  write_kubeconfig "$ETC/kube-scheduler.kubeconfig" system:kube-scheduler "$sched"
  write_kubeconfig "$ETC/coredns.kubeconfig" system:coredns "$dns"
}

# --- component configs -----------------------------------------------------------------------------
write_configs() {
  local cd="$STATE_DIR/containerd"
  mkdir -p "$cd/certs.d/$REGISTRY_ADDR" "$STATE_DIR/cni/net.d" "$STATE_DIR/cni/ipam" "$STATE_DIR/kubelet"
  # containerd 1.6 (config version 2). Everything it owns is under the state dir, except what it hard-codes
  # under /run/containerd (shim sockets, runc state).
  cat >"$ETC/containerd.toml" <<EOF
version = 2
root = "$cd/root"
state = "$cd/state"
# Snapshotters that cannot work here; disabling them keeps the log to real problems.
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
                    "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]

[grpc]
  address = "$cd/containerd.sock"

[plugins."io.containerd.internal.v1.opt"]
  path = "$cd/opt"

[plugins."io.containerd.grpc.v1.cri"]
  # No image can be pulled from outside: the sandbox is our static pause in the local registry.
  sandbox_image = "$PAUSE_IMAGE"
  # Root here lacks CAP_SYS_RESOURCE, so a negative oom_score_adj is refused and every sandbox would fail
  # with "can't get final child's PID from pipe"; this clamps containers' values to containerd's own.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        # cgroups v1 with the cgroupfs driver, like the kubelet: there is no systemd here.
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$STATE_DIR/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".registry]
    # hosts.toml per registry: ours speaks plain http.
    config_path = "$cd/certs.d"
EOF
  cat >"$cd/certs.d/$REGISTRY_ADDR/hosts.toml" <<EOF
server = "http://$REGISTRY_ADDR"

[host."http://$REGISTRY_ADDR"]
  capabilities = ["pull", "resolve"]
  skip_verify = true
EOF
  # One bridge (ours, made by setup_network), host-local IPAM. No ipMasq: pod traffic is never NATed to
  # the outside. hairpinMode lets a pod reach itself through its own Service.
  cat >"$STATE_DIR/cni/net.d/10-modelship.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "modelship",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$STATE_DIR/cni/ipam",
        "ranges": [[{"subnet": "$NODE_POD_CIDR", "gateway": "$BRIDGE_GW"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    }
  ]
}
EOF
  # Pods with dnsPolicy Default would get the host's resolver from /etc/resolv.conf; give them nothing.
  : >"$ETC/resolv.conf"
  cat >"$ETC/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: unix://$cd/containerd.sock
address: $NODE_IP
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
  x509:
    clientCAFile: $PKI/ca.crt
authorization:
  mode: Webhook
# cgroups v1 hybrid here, no systemd: cgroupfs, and 1.35+ refuses v1 unless told not to.
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
# Root lacks CAP_SYS_RESOURCE: the default -999 for the kubelet itself is refused.
oomScoreAdj: 0
clusterDNS: [$DNS_SVC_IP]
clusterDomain: $CLUSTER_DOMAIN
resolvConf: $ETC/resolv.conf
serializeImagePulls: false
# Test machines run with a busy disk; never evict test pods for it.
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%
  nodefs.inodesFree: 1%
  imagefs.available: 1%
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
EOF
  cat >"$ETC/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: $ETC/kube-proxy.kubeconfig
hostnameOverride: $NODE_NAME
mode: iptables
clusterCIDR: $POD_CIDR
bindAddress: $NODE_IP
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
oomScoreAdj: 0
# NodePorts only on the node IP; and not on 127.0.0.1, which would flip net.ipv4.conf.all.route_localnet.
nodePortAddresses: ["$NODE_IP/32"]
iptables:
  localhostNodePorts: false
# All zero: kube-proxy leaves the host's conntrack sysctls alone.
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
EOF
  # CoreDNS as a host process bound to the bridge address (reachable from every pod, never from outside
  # the machine) behind the kube-dns Service. No "forward": names outside the cluster get NXDOMAIN, so
  # pods can never resolve internet or host names. "log" records every query (tests grep it).
  cat >"$ETC/Corefile" <<EOF
$CLUSTER_DOMAIN:53 in-addr.arpa:53 ip6.arpa:53 {
    bind $BRIDGE_GW
    log
    errors
    ready 127.0.0.1:8181
    kubernetes $CLUSTER_DOMAIN in-addr.arpa ip6.arpa {
        kubeconfig $ETC/coredns.kubeconfig modelship
        pods insecure
        ttl 5
        fallthrough in-addr.arpa ip6.arpa
    }
    template ANY ANY in-addr.arpa ip6.arpa {
        rcode NXDOMAIN
    }
}
.:53 {
    bind $BRIDGE_GW
    log
    errors
    template ANY ANY {
        rcode NXDOMAIN
    }
}
EOF
}

# Objects the cluster needs before CoreDNS: its RBAC, and the kube-dns Service whose only endpoint is
# the host's CoreDNS on the bridge address (a selector-less Service with a hand-made EndpointSlice).
bootstrap_objects() {
  "$KUBECTL" apply --request-timeout=20s -f - >/dev/null <<EOF
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: modelship:coredns
rules:
- apiGroups: [""]
  resources: [endpoints, services, pods, namespaces]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: modelship:coredns
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: modelship:coredns
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: User
  name: system:coredns
---
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels:
    k8s-app: kube-dns
spec:
  clusterIP: $DNS_SVC_IP
  ports:
  - name: dns
    port: 53
    protocol: UDP
  - name: dns-tcp
    port: 53
    protocol: TCP
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kube-dns-host
  namespace: kube-system
  labels:
    kubernetes.io/service-name: kube-dns
    endpointslice.kubernetes.io/managed-by: modelship.local-up.sh
addressType: IPv4
endpoints:
- addresses: [$BRIDGE_GW]
  conditions:
    ready: true
ports:
- name: dns
  port: 53
  protocol: UDP
- name: dns-tcp
  port: 53
  protocol: TCP
EOF
}

# --- start -------------------------------------------------------------------------------------------
start_containerd() {
  start_daemon containerd containerd --config "$ETC/containerd.toml"
}
wait_containerd() {
  wait_daemon containerd 30 "its socket" ctr --address "$STATE_DIR/containerd/containerd.sock" version
}

start_etcd() {
  # A throwaway single-member etcd on loopback; no fsync: its data dies with the cluster anyway and the
  # test disks are slow.
  start_daemon etcd "$BIN_DIR/etcd" --name modelship --data-dir "$STATE_DIR/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" \
    --advertise-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "modelship=http://127.0.0.1:$ETCD_PEER_PORT" \
    --unsafe-no-fsync --log-level warn
}
wait_etcd() {
  wait_daemon etcd 30 "etcd health" curl -sf "http://127.0.0.1:$ETCD_CLIENT_PORT/health"
}

start_apiserver() {
  # Bound to the node IP, not loopback: pods reach it through the kubernetes Service (10.96.0.1:443),
  # which kube-proxy DNATs to the advertised address.
  start_daemon kube-apiserver "$BIN_DIR/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$ETCD_CLIENT_PORT" \
    --bind-address "$NODE_IP" --advertise-address "$NODE_IP" --secure-port "$APISERVER_PORT" \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
    --client-ca-file "$PKI/ca.crt" \
    --token-auth-file "$PKI/tokens.csv" \
    --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
    --kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$PKI/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types InternalIP \
    --service-account-issuer "https://kubernetes.default.svc.$CLUSTER_DOMAIN" \
    --service-account-key-file "$PKI/sa.pub" \
    --service-account-signing-key-file "$PKI/sa.key" \
    --allow-privileged=true --profiling=false
}
wait_apiserver() {
  wait_daemon kube-apiserver 90 "apiserver /readyz" \
    curl -sf --cacert "$PKI/ca.crt" "https://$NODE_IP:$APISERVER_PORT/readyz"
}

start_controllers() {
  # --root-ca-file: published into every namespace as kube-root-ca.crt, the CA in-cluster clients (the
  # operator pod) use to verify the apiserver. One instance: no leader election, faster start.
  start_daemon kube-controller-manager "$BIN_DIR/kube-controller-manager" \
    --kubeconfig "$ETC/kube-controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --leader-elect=false \
    --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
    --use-service-account-credentials=true \
    --service-cluster-ip-range "$SERVICE_CIDR" --cluster-cidr "$POD_CIDR" --allocate-node-cidrs=false \
    --profiling=false
  start_daemon kube-scheduler "$BIN_DIR/kube-scheduler" \
    --kubeconfig "$ETC/kube-scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --leader-elect=false --profiling=false
}

start_node() {
  start_daemon kubelet "$BIN_DIR/kubelet" --config "$ETC/kubelet.yaml" \
    --kubeconfig "$ETC/kubelet.kubeconfig" --hostname-override "$NODE_NAME" --node-ip "$NODE_IP" \
    --root-dir "$STATE_DIR/kubelet"
  start_daemon kube-proxy "$BIN_DIR/kube-proxy" --config "$ETC/kube-proxy.yaml"
}

start_coredns() {
  start_daemon coredns "$BIN_DIR/coredns" -conf "$ETC/Corefile"
  wait_daemon coredns 30 "CoreDNS /ready" curl -sf http://127.0.0.1:8181/ready
}

wait_cluster() {
  wait_daemon kubelet 60 "node $NODE_NAME Ready" node_ready
  wait_daemon kube-controller-manager 60 "the default ServiceAccount and kube-root-ca.crt" \
    "$KUBECTL" get serviceaccount/default configmap/kube-root-ca.crt -n default --request-timeout=5s
  wait_daemon kube-proxy 60 "DNS answers through the kube-dns Service ($DNS_SVC_IP)" dns_answers
  wait_daemon kube-scheduler 30 "scheduler health" curl -sfk https://127.0.0.1:10259/healthz
}

write_env_file() {
  "$CLUSTER_SRC/env.sh" >"$STATE_DIR/cluster.env"
}

# --- main --------------------------------------------------------------------------------------------
NODE_IP=$(detect_node_ip) || die "cannot detect the node IP"
[ -n "$NODE_IP" ] || die "cannot detect the node IP (set MODELSHIP_NODE_IP)"

# The steps run without the lock fd: if up.sh is killed, an orphaned step must not keep the lock and make
# down.sh wait for it (an orphaned build just finishes into the cache; down.sh stops an image build).
phase "Debian packages" "$CLUSTER_SRC/deps.sh" 9>&-
phase "binaries ($BIN_DIR)" "$CLUSTER_SRC/build.sh" 9>&-

if [ -d "$STATE_DIR" ]; then
  if cluster_healthy; then
    log "cluster already up and healthy (state: $STATE_DIR)"
    echo "export KUBECONFIG=$KUBECONFIG_PATH"
    exit 0
  fi
  log "found a stopped or partial cluster in $STATE_DIR: tearing it down first"
  "$CLUSTER_SRC/down.sh"
fi

mkdir -p "$LOG_DIR" "$PID_DIR" "$ETC"
cd "$STATE_DIR"   # the daemons' working directory: never the caller's
phase "recorded host state (node IP $NODE_IP)" record_host
phase "network: bridge $BRIDGE, routes, pod egress filter" setup_network
phase "registry on $REGISTRY_ADDR" start_registry
phase "images (pause, httpd, kubectl, jre)" "$CLUSTER_SRC/images.sh" 9>&-
phase "certificates, tokens, configs" eval 'make_pki; make_credentials; write_configs'
start_containerd
start_etcd
phase "etcd" wait_etcd
start_apiserver
phase "containerd" wait_containerd
phase "kube-apiserver" wait_apiserver
start_controllers
start_node
phase "kube-dns Service, CoreDNS RBAC" bootstrap_objects
phase "CoreDNS on $BRIDGE_GW:53" start_coredns
phase "node Ready, default ServiceAccount, DNS" wait_cluster
write_env_file
touch "$STATE_DIR/up-complete"
log "cluster up in $(_elapsed "$SCRIPT_START"); logs in $LOG_DIR"
echo "export KUBECONFIG=$KUBECONFIG_PATH"
