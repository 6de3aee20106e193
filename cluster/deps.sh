#!/usr/bin/env bash
# Installs the Debian packages the test cluster needs, if any are missing. Called by up.sh; callable alone
# (selftest.sh does, so that its "before" recording of the host already has iptables-save to call).
# Packages stay installed after down.sh: they are tools, not cluster state.
set -euo pipefail
# shellcheck disable=SC2034  # read by log() in lib.sh
LOG_TAG=deps
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
require_root

PACKAGES=(
  containerd runc containernetworking-plugins   # container runtime + CNI plugins (bridge, host-local, ...)
  iptables conntrack socat                     # kube-proxy/kubelet rules; kubelet port-forward needs socat
  nftables                                     # iptables here is iptables-nft: down.sh deletes the nf_tables
                                               # tables the cluster created, which iptables itself cannot
  docker-registry                              # the local image registry (distribution 2.8)
  debootstrap umoci skopeo                     # making and pushing the JRE base image
  gcc libc6-dev                                # the static pause/httpd programs
  curl ca-certificates                         # health checks against the apiserver/registry/Services
  bind9-dnsutils                               # dig: up.sh checks that cluster DNS answers
  prometheus                                   # the e2e tier's Prometheus (the prometheus gate), run by the
                                               # tests themselves; its service is never started (below)
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if [ ${#missing[@]} = 0 ]; then
  log "Debian packages present"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
# Package install scripts would start containerd, docker-registry and prometheus as system services; we run our own
# instances with our own configs, so forbid service starts for the duration (policy-rc.d exit 101 is
# Debian's documented way), unless the host already has its own policy-rc.d.
policy=/usr/sbin/policy-rc.d
own_policy=false
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && own_policy=true
fi
cleanup() { if $own_policy; then rm -f "$policy"; fi; }
trap cleanup EXIT

aptlog="${TMPDIR:-/tmp}/modelship-apt.log"
log "apt-get update"
apt-get update -qq >"$aptlog" 2>&1 || { tail -n 20 "$aptlog" >&2; die "apt-get update failed (log: $aptlog)"; }
log "apt-get install ${missing[*]}"
apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$aptlog" 2>&1 \
  || { tail -n 20 "$aptlog" >&2; die "apt-get install failed (log: $aptlog)"; }
log "installed ${#missing[@]} packages in $(_elapsed "$SCRIPT_START")"
