#!/usr/bin/env bash
# Prints, as KEY=VALUE lines (shell- and Java-Properties-readable), every path and name the tests need to
# use the cluster. Changes nothing and works whether or not the cluster is up; up.sh also writes this
# output to $STATE/cluster.env.
#   eval "$(cluster/env.sh)"      # in a shell
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

node_ip=$(detect_node_ip 2>/dev/null || true)
jre_digest=$(cat "$IMAGES_DIR/jre.digest" 2>/dev/null || true)
cat <<EOF
KUBECONFIG=$KUBECONFIG_PATH
MODELSHIP_CLUSTER_DIR=$STATE_DIR
MODELSHIP_CLUSTER_LOGS=$LOG_DIR
MODELSHIP_CLUSTER_BIN=$BIN_DIR
MODELSHIP_KUBECTL=$BIN_DIR/kubectl
MODELSHIP_HELM=$BIN_DIR/helm
MODELSHIP_NODE_NAME=$NODE_NAME
MODELSHIP_NODE_IP=$node_ip
MODELSHIP_REGISTRY=$REGISTRY_ADDR
MODELSHIP_JRE_IMAGE=$JRE_IMAGE
MODELSHIP_JRE_DIGEST_FILE=$IMAGES_DIR/jre.digest
MODELSHIP_JRE_DIGEST=$jre_digest
MODELSHIP_JRE_IMAGE_BY_DIGEST=${JRE_IMAGE%:*}${jre_digest:+@$jre_digest}
MODELSHIP_HTTPD_IMAGE=$HTTPD_IMAGE
MODELSHIP_KUBECTL_IMAGE=$KUBECTL_IMAGE
MODELSHIP_PAUSE_IMAGE=$PAUSE_IMAGE
MODELSHIP_COREDNS_QUERY_LOG=$COREDNS_QUERY_LOG
MODELSHIP_DNS_SERVICE_IP=$DNS_SVC_IP
MODELSHIP_POD_CIDR=$POD_CIDR
MODELSHIP_SERVICE_CIDR=$SERVICE_CIDR
MODELSHIP_CLUSTER_DOMAIN=$CLUSTER_DOMAIN
EOF
