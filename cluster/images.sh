#!/usr/bin/env bash
# Makes the cluster's own images and pushes them to the local registry, once: the registry's storage is
# in the cache, so a later run finds them there and only checks. Needs the registry running (up.sh
# starts it first) and the pause/httpd binaries from build.sh.
#   pause   the pod sandbox image (containerd's sandbox_image); nothing can be pulled from outside
#   httpd   a tiny HTTP responder, for self-tests of Services and probes
#   kubectl the static kubectl alone: a pod that talks to the API with its ServiceAccount (RBAC checks)
#   jre     the base image Jib builds the project's Java images FROM: Debian minbase + a headless JRE
# Each image's digest is written to <cache>/images/<name>.digest (e.g. sha256:...), and its full
# reference by digest to <name>.ref; the Java build reads jre.digest/jre.ref.
set -euo pipefail
# shellcheck disable=SC2034  # read by log() in lib.sh
LOG_TAG=images
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
require_root
mkdir -p "$IMAGES_DIR"

DEBIAN_MIRROR=${MODELSHIP_DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEBIAN_SECURITY_MIRROR=${MODELSHIP_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

# What an image is made from; a change rebuilds it even though its tag stays the same.
recipe_of() {
  case $1 in
    pause) sha256sum "$BIN_DIR/pause" ;;
    httpd) sha256sum "$BIN_DIR/httpd" ;;
    kubectl) sha256sum "$BIN_DIR/kubectl" ;;
    jre) echo "$JRE_DEBIAN_SUITE $JRE_PACKAGE"; sed -n '/^populate_jre()/,/^}/p' "$0" | sha256sum ;;
  esac | sha256sum | cut -c1-16
}

registry_has() { # REPO DIGEST
  curl -sfI -o /dev/null \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "http://$REGISTRY_ADDR/v2/$1/manifests/$2"
}

# Unmounted and removed on any exit, so a failed or killed build leaves no mount behind.
WORK=""
cleanup() {
  [ -n "$WORK" ] || return 0
  local m
  # Deepest first.
  for m in $(awk -v w="$WORK" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r); do umount -l "$m" || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# make_image NAME REF POPULATE_FN [umoci config options...]
# umoci builds an OCI image from a plain directory: unpack an empty image into a bundle, fill its rootfs,
# repack (one layer), set the config; skopeo pushes it. v2s2 (Docker) manifests, the format every client
# (containerd 1.6, Jib, skopeo) reads.
make_image() {
  local name=$1 ref=$2 populate=$3; shift 3
  local recipe
  recipe=$(recipe_of "$name")
  local digest_file="$IMAGES_DIR/$name.digest" repo=${ref#*/}
  repo=${repo%:*}
  if [ -s "$digest_file" ] && [ "$(cat "$IMAGES_DIR/$name.recipe" 2>/dev/null)" = "$recipe" ] \
     && registry_has "$repo" "$(cat "$digest_file")"; then
    log "$name image cached: $ref@$(cat "$digest_file")"
    return
  fi
  local t0
  t0=$(date +%s.%N)
  WORK=$(mktemp -d "$IMAGES_DIR/work-$name.XXXXXX")
  umoci init --layout "$WORK/oci"
  umoci new --image "$WORK/oci:img"
  umoci unpack --image "$WORK/oci:img" "$WORK/bundle" >/dev/null
  "$populate" "$WORK/bundle/rootfs"
  umoci repack --image "$WORK/oci:img" "$WORK/bundle"
  umoci config --image "$WORK/oci:img" --os linux --architecture amd64 "$@"
  skopeo copy --quiet --dest-tls-verify=false --format v2s2 --digestfile "$digest_file.tmp" \
    "oci:$WORK/oci:img" "docker://$ref"
  mv -f "$digest_file.tmp" "$digest_file"
  echo "$recipe" >"$IMAGES_DIR/$name.recipe"
  echo "${ref%:*}@$(cat "$digest_file")" >"$IMAGES_DIR/$name.ref"
  cleanup
  WORK=""
  log "$name image pushed in $(_elapsed "$t0"): $ref@$(cat "$digest_file")"
}

# A killed earlier run (SIGKILL skips the trap) may have left a work dir, with /proc mounted in it.
for stale in "$IMAGES_DIR"/work-*; do
  [ -e "$stale" ] || continue
  WORK=$stale
  cleanup
done
WORK=""

populate_pause() { install -m 0755 "$BIN_DIR/pause" "$1/pause"; }
populate_httpd() { install -m 0755 "$BIN_DIR/httpd" "$1/httpd"; }
populate_kubectl() { install -m 0755 "$BIN_DIR/kubectl" "$1/kubectl"; }

populate_jre() {
  local root=$1 log_file="$IMAGES_DIR/jre-build.log"
  : >"$log_file"
  log "jre: debootstrap $JRE_DEBIAN_SUITE minbase (log: $log_file)"
  debootstrap --variant=minbase "$JRE_DEBIAN_SUITE" "$root" "$DEBIAN_MIRROR" >>"$log_file" 2>&1 \
    || { tail -n 20 "$log_file" >&2; die "debootstrap failed (log: $log_file)"; }
  cat >"$root/etc/apt/sources.list" <<EOF
deb $DEBIAN_MIRROR $JRE_DEBIAN_SUITE main
deb $DEBIAN_MIRROR $JRE_DEBIAN_SUITE-updates main
deb $DEBIAN_SECURITY_MIRROR $JRE_DEBIAN_SUITE-security main
EOF
  # Never install docs, man pages or translations, now or when a derived image runs apt-get.
  cat >"$root/etc/dpkg/dpkg.cfg.d/01-modelship-nodoc" <<'EOF'
path-exclude /usr/share/doc/*
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
EOF
  cat >"$root/etc/apt/apt.conf.d/01-modelship-small" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
EOF
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  # ca-certificates-java's install script runs java, which needs /proc.
  mount -t proc proc "$root/proc"
  log "jre: apt-get install $JRE_PACKAGE"
  # libstdc++6 and libgomp1: ONNX Runtime's native library links them; glibc comes with the base.
  chroot "$root" /usr/bin/env DEBIAN_FRONTEND=noninteractive sh -c "
      apt-get update -qq && apt-get upgrade -y -qq &&
      apt-get install -y -qq $JRE_PACKAGE ca-certificates libstdc++6 libgomp1 &&
      apt-get clean" >>"$log_file" 2>&1 \
    || { tail -n 20 "$log_file" >&2; die "installing $JRE_PACKAGE failed (log: $log_file)"; }
  # A non-root user for pods that run as uid 1000: Java wants a passwd entry for user.home. The image
  # config does not select it (runAsUser does).
  chroot "$root" useradd --uid 1000 --user-group --create-home --shell /usr/sbin/nologin modelship
  chroot "$root" java -version >>"$log_file" 2>&1 || die "java does not run in the new image (log: $log_file)"
  umount "$root/proc"
  # Smaller: no docs, package lists, caches or logs. The kubelet/containerd provide resolv.conf and hosts.
  rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/* \
    "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/cache/debconf/*-old "$root"/var/log/* \
    "$root"/tmp/* "$root"/etc/hostname
  : >"$root/etc/resolv.conf"
  log "jre: rootfs $(du -sh "$root" | cut -f1)"
}

make_image pause "$PAUSE_IMAGE" populate_pause --config.entrypoint /pause
make_image httpd "$HTTPD_IMAGE" populate_httpd --config.entrypoint /httpd --config.exposedports 8080/tcp
make_image kubectl "$KUBECTL_IMAGE" populate_kubectl --config.entrypoint /kubectl
make_image jre "$JRE_IMAGE" populate_jre \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --config.env JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 \
  --config.env LANG=C.UTF-8 \
  --config.workingdir /
