#!/usr/bin/env bash
# Proves the test cluster works and leaves the host as it found it:
#   record host state -> up.sh -> workloads (JRE pod, Service, DNS, in-cluster API with a ServiceAccount,
#   GPU scheduling) -> down.sh -> compare host state with the recording, fail on any difference.
#   cluster/selftest.sh                    the full test
#   cluster/selftest.sh --kill-up-at NAME  kill up.sh (its whole process group, like a killed test JVM)
#                                          as soon as daemon NAME has started, then down.sh, then compare
#   cluster/selftest.sh --crash            the full test, then SIGKILL every daemon while pods run (no
#                                          API left to delete them through), then down.sh, then compare
set -euo pipefail
# shellcheck disable=SC2034  # read by log() in lib.sh
LOG_TAG=selftest
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
require_root

KILL_AT=""
CRASH=false
while [ $# -gt 0 ]; do
  case $1 in
    --kill-up-at) KILL_AT=${2:?daemon name}; shift 2 ;;
    --crash) CRASH=true; shift ;;
    *) die "usage: $0 [--kill-up-at <daemon> | --crash]" ;;
  esac
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/modelship-selftest.XXXXXX")
KUBECTL="$BIN_DIR/kubectl"
export KUBECONFIG="$KUBECONFIG_PATH"
SUMMARY=()
FAILED=false
ok() { SUMMARY+=("PASS  $*"); log "PASS $*"; }
bad() { SUMMARY+=("FAIL  $*"); log "FAIL $*"; FAILED=true; }
timed() { # NAME CMD...: runs CMD, records its duration in the summary
  local name=$1; shift
  local t0 rc=0
  t0=$(date +%s.%N)
  "$@" || rc=$?
  SUMMARY+=("TIME  $name: $(_elapsed "$t0")$([ $rc = 0 ] || echo " (exit $rc)")")
  return $rc
}

# --- host state ------------------------------------------------------------------------------------
# Our daemons, their children and the ports they use: differences in these always count. Other processes
# and sockets may come and go on a shared machine; their differences are reported, not failed.
OUR_NAMES='kube-|kubelet|etcd|containerd|coredns|docker-registry|pause|httpd|runc'
OUR_PORTS=':(53|2379|2380|5000|6443|8181|102[0-9][0-9]|3[0-2][0-9]{3})$'

record_state() {
  local d=$1
  mkdir -p "$d"
  # Counters and generation comments change on their own.
  iptables-save 2>/dev/null | sed '/^#/d; s/\[[0-9]*:[0-9]*\]//' >"$d/iptables"
  ip6tables-save 2>/dev/null | sed '/^#/d; s/\[[0-9]*:[0-9]*\]//' >"$d/ip6tables"
  nft list ruleset 2>/dev/null | sed 's/counter packets [0-9]* bytes [0-9]*/counter/' >"$d/nft"
  ip -o link show | sed 's/^[0-9]*: //; s/ qlen [0-9]*//' | sort >"$d/links"
  { ip -4 route show table all; ip -6 route show table all; ip rule show; } | sort >"$d/routes"
  ip -o addr show | awk '{ $1 = ""; print }' | sed 's/valid_lft.*//' | sort >"$d/addrs"
  ip netns list | sort >"$d/netns"
  awk '{ print $2, $3 }' /proc/mounts | sort >"$d/mounts"
  # process_api/* are this VM's per-command cgroups, made and removed by its supervisor.
  find /sys/fs/cgroup -maxdepth 3 -type d 2>/dev/null | grep -v '/process_api/' | sort >"$d/cgroups"
  # Values that change by themselves (counters, entropy, PIDs) are not host configuration.
  sysctl -a 2>/dev/null | grep -vE '^(kernel\.random\.|fs\.(dentry-state|file-nr|inode-nr|inode-state|aio-nr|dquot|quota)|kernel\.ns_last_pid|kernel\.pty\.nr|net\.netfilter\.nf_conntrack_count|kernel\.sched_|vm\.stat|kernel\.perf_event)' \
    | sort >"$d/sysctls"
  find /etc /var/lib /var/log /run /opt /usr/local -maxdepth 2 -not -path '/run/user*' 2>/dev/null \
    | grep -vE '^/var/lib/(apt|dpkg)/|^/var/log/(apt|dpkg)|^/var/cache' | sort >"$d/paths"
  ss -Hltun | awk '{ print $1, $5 }' | sort -u >"$d/sockets"
  ps --ppid 2 -p 2 --deselect -o comm= | sort -u >"$d/processes"   # without kernel threads
}

compare_state() {
  local before=$1 after=$2 f diffs=0
  for f in iptables ip6tables nft links routes addrs netns mounts cgroups sysctls paths; do
    if ! diff -u "$before/$f" "$after/$f" >"$WORK/diff-$f"; then
      bad "host state differs after down: $f"
      sed 's/^/        /' "$WORK/diff-$f" | head -40
      diffs=$((diffs + 1))
    fi
  done
  # Sockets and processes: only ours count.
  for f in sockets processes; do
    diff "$before/$f" "$after/$f" | grep -E '^[<>]' >"$WORK/diff-$f" || true
    if grep -qE "$OUR_NAMES|$OUR_PORTS" "$WORK/diff-$f"; then
      bad "host state differs after down: $f"; sed 's/^/        /' "$WORK/diff-$f"
      diffs=$((diffs + 1))
    elif [ -s "$WORK/diff-$f" ]; then
      log "note: $f changed, but nothing of the cluster's (other work on this machine): $(tr '\n' ' ' <"$WORK/diff-$f")"
    fi
  done
  [ "$diffs" = 0 ] && ok "host restored exactly (iptables, ip6tables, nf_tables, links, routes, addresses, netns, mounts, cgroups, sysctls, paths, sockets, processes)"
  for d in kubelet kube-apiserver containerd etcd; do
    if pgrep -x "$d" >/dev/null; then bad "a $d process is still running"; fi
  done
}

# --- network safety ------------------------------------------------------------------------------
# An outside-looking destination that can never leave this machine: TEST-NET-2 routed into a local veth
# pair whose other end answers nothing. A pod connecting there must be dropped by the egress filter.
SINK_NET=198.51.100.0/24
SINK_IP=198.51.100.7
sink_up() {
  ip link add ms-sink0 type veth peer name ms-sink1
  ip link set ms-sink1 up
  ip link set ms-sink0 up
  ip route add "$SINK_NET" dev ms-sink0
}
sink_down() { ip link del ms-sink0 2>/dev/null || true; }
trap sink_down EXIT

egress_drops() {
  iptables -t mangle -L MODELSHIP-POD-EGRESS -v -x -n | awk '$3 == "DROP" { print $1 }'
}

check_network_safety() {
  local r
  r=$(ip route get 10.96.123.45 2>&1)
  if [[ $r == *"dev $BRIDGE"* ]]; then ok "service CIDR routes onto $BRIDGE, never eth0 (${r%%$'\n'*})"; else bad "service CIDR route: $r"; fi
  r=$(ip route get 10.244.200.1 2>&1 || true)
  if [[ $r == *unreachable* || $r == *"No route to host"* ]]; then ok "pod CIDR outside this node is unreachable, never eth0"; else bad "pod CIDR route: $r"; fi
  r=$(iptables -t mangle -S FORWARD | sed -n 2p)
  if [[ $r == "-A FORWARD -i $BRIDGE -j MODELSHIP-POD-EGRESS" ]]; then ok "pod egress filter is the first mangle FORWARD rule"; else bad "mangle FORWARD starts with: $r"; fi
  if iptables -t nat -S | grep -- '-j MASQUERADE' | grep -qv 'KUBE-POSTROUTING'; then
    bad "a MASQUERADE rule outside kube-proxy's marked-packet rule: $(iptables -t nat -S | grep -- '-j MASQUERADE')"
  else
    ok "no masquerading except kube-proxy's (marked Service traffic)"
  fi
}

# --- workloads -------------------------------------------------------------------------------------
k() { "$KUBECTL" --request-timeout=30s "$@"; }

apply_workloads() {
  k apply -f - >/dev/null <<EOF
apiVersion: v1
kind: ServiceAccount
metadata:
  name: selftest
  namespace: default
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: selftest-pod-reader
  namespace: default
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: selftest-pod-reader
  namespace: default
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: selftest-pod-reader
subjects:
- kind: ServiceAccount
  name: selftest
  namespace: default
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: httpd
  namespace: default
spec:
  replicas: 1
  selector:
    matchLabels: {app: httpd}
  template:
    metadata:
      labels: {app: httpd}
    spec:
      securityContext: {runAsNonRoot: true, runAsUser: 1000}
      containers:
      - name: httpd
        image: $HTTPD_IMAGE
        ports: [{containerPort: 8080}]
        readinessProbe:
          httpGet: {path: /, port: 8080}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata:
  name: httpd
  namespace: default
spec:
  selector: {app: httpd}
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: jre-check
  namespace: default
data:
  Check.java: |
    import java.net.InetAddress;
    import java.net.URI;
    import java.net.UnknownHostException;
    import java.net.http.HttpClient;
    import java.net.http.HttpRequest;
    import java.net.http.HttpResponse;

    // Runs in a pod from the JRE base image: cluster DNS (short and full names), a Service, and no
    // resolution of names outside the cluster.
    public class Check {
        public static void main(String[] args) throws Exception {
            System.out.println("java " + System.getProperty("java.version") + " user.home=" + System.getProperty("user.home"));
            System.out.println("httpd -> " + InetAddress.getByName("httpd").getHostAddress());
            System.out.println("httpd.default.svc.$CLUSTER_DOMAIN -> "
                    + InetAddress.getByName("httpd.default.svc.$CLUSTER_DOMAIN").getHostAddress());
            HttpResponse<String> r = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create("http://httpd/")).build(), HttpResponse.BodyHandlers.ofString());
            System.out.println("GET http://httpd/ -> " + r.statusCode() + " " + r.body().trim());
            if (r.statusCode() != 200) System.exit(1);
            for (String lib : new String[] {"/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
                    "/usr/lib/x86_64-linux-gnu/libgomp.so.1", "/etc/ssl/certs/java/cacerts"}) {
                if (!java.nio.file.Files.exists(java.nio.file.Path.of(lib))) {
                    System.out.println("MISSING " + lib);
                    System.exit(3);
                }
            }
            System.out.println("libstdc++, libgomp, cacerts present");
            // The self-test routes $SINK_NET into a local veth that leads nowhere: if the pod egress
            // filter let this through, it still would not leave the machine.
            try (java.net.Socket s = new java.net.Socket()) {
                s.connect(new java.net.InetSocketAddress("$SINK_IP", 80), 1500);
                System.out.println("REACHED AN OUTSIDE ADDRESS");
                System.exit(4);
            } catch (java.io.IOException expected) {
                System.out.println("$SINK_IP: unreachable from the pod (" + expected.getMessage() + ")");
            }
            try {
                InetAddress.getByName("telemetry.example.com");
                System.out.println("RESOLVED AN OUTSIDE NAME");
                System.exit(2);
            } catch (UnknownHostException expected) {
                System.out.println("telemetry.example.com: not resolvable");
            }
            System.out.println("JRE-CHECK-OK");
        }
    }
---
apiVersion: v1
kind: Pod
metadata:
  name: jre-check
  namespace: default
spec:
  restartPolicy: Never
  securityContext: {runAsNonRoot: true, runAsUser: 1000}
  containers:
  - name: java
    image: $JRE_IMAGE
    command: [java, -XX:TieredStopAtLevel=1, /check/Check.java]
    volumeMounts: [{name: check, mountPath: /check}]
  volumes:
  - name: check
    configMap: {name: jre-check}
---
# In-cluster API access with a ServiceAccount token, the way the operator pod works: allowed by its Role...
apiVersion: v1
kind: Pod
metadata:
  name: api-allowed
  namespace: default
spec:
  restartPolicy: Never
  serviceAccountName: selftest
  containers:
  - name: kubectl
    image: $KUBECTL_IMAGE
    args: [get, pods, -n, default, -o, name]
---
# ...and refused what the Role does not grant.
apiVersion: v1
kind: Pod
metadata:
  name: api-denied
  namespace: default
spec:
  restartPolicy: Never
  serviceAccountName: selftest
  containers:
  - name: kubectl
    image: $KUBECTL_IMAGE
    args: [get, secrets, -n, default]
---
apiVersion: v1
kind: Pod
metadata:
  name: gpu-user
  namespace: default
spec:
  containers:
  - name: pause
    image: $PAUSE_IMAGE
    resources:
      limits: {nvidia.com/gpu: 1}
EOF
}

phase_of() { k get pod "$1" -o jsonpath='{.status.phase}' 2>/dev/null; }
pod_is() { [ "$(phase_of "$1")" = "$2" ]; }
gpu_pod_unschedulable() {
  [ "$(k get pod gpu-user -o jsonpath='{.status.conditions[?(@.type=="PodScheduled")].reason}')" = Unschedulable ]
}

check_workloads() {
  local t0
  t0=$(date +%s.%N)
  if k rollout status deployment/httpd --timeout=90s >/dev/null; then
    ok "httpd Deployment Ready (readiness probe passed) in $(_elapsed "$t0")"
  else
    bad "httpd Deployment not Ready"; k describe pods -l app=httpd | tail -20
  fi

  local ip body
  ip=$(k get service httpd -o jsonpath='{.spec.clusterIP}')
  if wait_until 20 "the httpd ClusterIP" curl -sf --max-time 2 "http://$ip/" \
     && body=$(curl -sf --max-time 2 "http://$ip/") && [[ $body == ok\ httpd-* ]]; then
    ok "Service ClusterIP $ip answers from the host: $body"
  else
    bad "Service ClusterIP $ip does not answer from the host"
  fi
  local dns
  dns=$(dig +short +time=2 @"$DNS_SVC_IP" "httpd.default.svc.$CLUSTER_DOMAIN" A)
  if [ "$dns" = "$ip" ]; then ok "httpd.default.svc.$CLUSTER_DOMAIN -> $dns via kube-dns $DNS_SVC_IP"; else bad "DNS from host gave '$dns', want $ip"; fi
  if [ "$(dig +short +time=2 @"$DNS_SVC_IP" example.com A)" = "" ] \
     && dig +time=2 @"$DNS_SVC_IP" example.com A | grep -q 'status: NXDOMAIN'; then
    ok "names outside the cluster get NXDOMAIN (no upstream)"
  else
    bad "example.com got an answer or no NXDOMAIN"
  fi

  if wait_until 120 "jre-check to finish" bash -c '[[ $("$0" get pod jre-check -o jsonpath={.status.phase}) =~ Succeeded|Failed ]]' "$KUBECTL" \
     && pod_is jre-check Succeeded && k logs jre-check | grep -q JRE-CHECK-OK; then
    ok "pod from $JRE_IMAGE (uid 1000): $(k logs jre-check | tr '\n' ';' | sed 's/;$//')"
  else
    bad "jre-check pod: phase $(phase_of jre-check)"; k logs jre-check 2>&1 | tail -20 || true
  fi
  if grep -q 'telemetry.example.com' "$COREDNS_QUERY_LOG" && grep -q '"A IN httpd.default.svc' "$COREDNS_QUERY_LOG"; then
    ok "CoreDNS query log $COREDNS_QUERY_LOG records pod lookups (httpd, telemetry.example.com)"
  else
    bad "CoreDNS query log lacks the pod's lookups"
  fi

  if wait_until 60 "api-allowed" pod_is api-allowed Succeeded \
     && k logs api-allowed | grep -q '^pod/api-allowed$'; then
    ok "in-cluster API call with a ServiceAccount token (kubernetes.default.svc, RBAC Role) allowed"
  else
    bad "api-allowed pod: phase $(phase_of api-allowed)"; k logs api-allowed 2>&1 | tail -5 || true
  fi
  if wait_until 60 "api-denied" pod_is api-denied Failed && k logs api-denied | grep -q forbidden; then
    ok "in-cluster API call outside the Role is forbidden"
  else
    bad "api-denied pod: phase $(phase_of api-denied)"; k logs api-denied 2>&1 | tail -5 || true
  fi

  if wait_until 30 "gpu-user unschedulable" gpu_pod_unschedulable && pod_is gpu-user Pending; then
    ok "pod requesting nvidia.com/gpu: 1 is Pending (Unschedulable) without GPU capacity"
  else
    bad "gpu-user pod is not Unschedulable: phase $(phase_of gpu-user)"
  fi
  "$CLUSTER_SRC/gpu.sh" set 1 >/dev/null
  t0=$(date +%s.%N)
  if wait_until 60 "gpu-user Running" pod_is gpu-user Running; then
    ok "after gpu.sh set 1 the GPU pod is Running ($(_elapsed "$t0"))"
  else
    bad "gpu-user not Running after gpu.sh set 1: phase $(phase_of gpu-user)"
  fi
  "$CLUSTER_SRC/gpu.sh" clear >/dev/null
  [ "$("$CLUSTER_SRC/gpu.sh" get)" = 0 ] && ok "gpu.sh clear removes the capacity" || bad "gpu.sh clear left capacity"
}

# Starts up.sh in its own process group and kills the whole group once daemon $KILL_AT has a PID file.
up_and_kill() {
  setsid "$CLUSTER_SRC/up.sh" >"$WORK/up.log" 2>&1 &
  local up=$!
  if ! wait_until 900 "up.sh to start $KILL_AT" test -s "$PID_DIR/$KILL_AT.pid"; then
    kill -KILL -- "-$up" 2>/dev/null || true
    return 1
  fi
  kill -KILL -- "-$up"
  wait "$up" 2>/dev/null || true
  log "killed up.sh after it started $KILL_AT; last lines:"
  tail -n 3 "$WORK/up.log" | sed 's/^/        /'
  # Make sure it really was mid-way: daemons are running.
  local running
  running=$(for f in "$PID_DIR"/*.pid; do kill -0 "$(cat "$f")" 2>/dev/null && basename "$f" .pid; done | tr '\n' ' ')
  ok "up.sh killed mid-way; daemons left running: $running"
}

# --- main --------------------------------------------------------------------------------------------
"$CLUSTER_SRC/deps.sh" >/dev/null   # so that the "before" recording already has the tools it uses
[ ! -d "$STATE_DIR" ] || die "a cluster state dir exists ($STATE_DIR): run cluster/down.sh first"
record_state "$WORK/before"

if [ -n "$KILL_AT" ]; then
  timed "up.sh until killed" up_and_kill || bad "up.sh never started $KILL_AT (see $WORK/up.log)"
else
  if timed "up.sh" "$CLUSTER_SRC/up.sh"; then
    ok "cluster up"
    if timed "second up.sh (idempotent)" bash -c '"$0" >"$1"' "$CLUSTER_SRC/up.sh" "$WORK/up2.log" \
       && grep -q 'already up and healthy' "$WORK/up2.log"; then
      ok "second up.sh finds the cluster healthy"
    else
      bad "second up.sh did not find the cluster healthy"; cat "$WORK/up2.log"
    fi
    check_network_safety
    sink_up
    drops_before=$(egress_drops)
    timed "apply workloads" apply_workloads
    timed "workload checks" check_workloads
    drops_after=$(egress_drops)
    if [ "$drops_after" -gt "$drops_before" ]; then
      ok "the pod's connection to $SINK_IP was dropped by the egress filter ($((drops_after - drops_before)) packets)"
    else
      bad "the egress filter dropped nothing ($drops_before -> $drops_after)"
    fi
    sink_down
    if $CRASH; then
      running=$(pgrep -c -x httpd || true)
      for f in "$PID_DIR"/*.pid; do kill -KILL "$(cat "$f")" 2>/dev/null || true; done
      ok "crashed every daemon with SIGKILL while $running httpd container(s) ran"
    fi
  else
    bad "up.sh failed"
  fi
fi

timed "down.sh" "$CLUSTER_SRC/down.sh" || bad "down.sh failed"
timed "second down.sh" "$CLUSTER_SRC/down.sh" >/dev/null || bad "second down.sh failed"
record_state "$WORK/after"
compare_state "$WORK/before" "$WORK/after"

echo
echo "==== selftest summary ($(_elapsed "$SCRIPT_START") total) ===="
printf '%s\n' "${SUMMARY[@]}"
if $FAILED; then
  echo "SELFTEST FAILED (recordings kept in $WORK)"
  exit 1
fi
rm -rf "$WORK"
echo "SELFTEST PASSED"
