#!/usr/bin/env bash
# Fake GPU capacity on the cluster's node, so GPU scheduling (and pods waiting for capacity) can be
# exercised with the real scheduler:
#   cluster/gpu.sh set <count>   node capacity and allocatable nvidia.com/gpu = count
#   cluster/gpu.sh clear         removes nvidia.com/gpu from the node
#   cluster/gpu.sh get           prints the allocatable count (0 if none)
# A JSON patch on nodes/<name>/status: the kubelet keeps extended resources it does not manage, also
# across its restarts. Pods that request nvidia.com/gpu then schedule and run as ordinary containers.
set -euo pipefail
# shellcheck disable=SC2034  # read by log() in lib.sh
LOG_TAG=gpu
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
export KUBECONFIG=${KUBECONFIG:-$KUBECONFIG_PATH}
KUBECTL="$BIN_DIR/kubectl"
RES=nvidia.com/gpu
PATH_KEY='nvidia.com~1gpu'   # "/" escaped as ~1 in a JSON pointer

current() {
  "$KUBECTL" get node "$NODE_NAME" --request-timeout=10s \
    -o jsonpath="{.status.allocatable.nvidia\.com/gpu}"
}

patch_status() {
  "$KUBECTL" patch node "$NODE_NAME" --subresource=status --type=json --request-timeout=10s -p "$1" >/dev/null
}

case ${1:-} in
  set)
    count=${2:-}
    [[ $count =~ ^[0-9]+$ ]] || die "usage: $0 set <count>"
    # "add" on an existing member replaces it, so set works whether or not the resource is there.
    patch_status "[{\"op\":\"add\",\"path\":\"/status/capacity/$PATH_KEY\",\"value\":\"$count\"},
                   {\"op\":\"add\",\"path\":\"/status/allocatable/$PATH_KEY\",\"value\":\"$count\"}]"
    log "node $NODE_NAME: $RES = $count"
    ;;
  clear)
    if [ -n "$(current)" ]; then
      patch_status "[{\"op\":\"remove\",\"path\":\"/status/capacity/$PATH_KEY\"},
                     {\"op\":\"remove\",\"path\":\"/status/allocatable/$PATH_KEY\"}]"
    fi
    log "node $NODE_NAME: no $RES"
    ;;
  get)
    c=$(current)
    echo "${c:-0}"
    ;;
  *) die "usage: $0 set <count> | clear | get" ;;
esac
