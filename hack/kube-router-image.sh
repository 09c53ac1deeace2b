#!/usr/bin/env bash
# Builds the CI-only NetworkPolicy engine image for the kind backend,
# offline: kube-router (firewall only) from its Go module
# (github.com/cloudnativelabs/kube-router/v2, KUBE_ROUTER_VERSION, what the
# module proxy serves) on a Debian rootfs with iptables/ipset/conntrack,
# assembled with hack/tools/ociimage into a docker-archive tarball. Prints
# the tarball's path on stdout; the kind backend imports it into every
# node's containerd at cluster up (CKSLAB_KIND_NETPOL=kube-router
# CKSLAB_KIND_NETPOL_IMAGE=<path>), so no registry is involved.
#
# CI ONLY: security flaws are reported for kube-router v2.1.0. It is what
# lets CI prove NetworkPolicy scenarios on kind where Calico cannot be
# fetched; learners keep Calico (the kind default).
#
# Cached by its inputs under ${CKSLAB_CACHE_DIR:-~/.cache/ckslab}/kube-router
# (never in the repository): warm ~0 s. Cold: the kube-router build (a few
# minutes on 2 cores) and, unless hack/kind-node-image.sh already cached the
# same Debian base rootfs, one debootstrap.
set -euo pipefail
cd "$(dirname "$0")/.."

KUBE_ROUTER_VERSION="${KUBE_ROUTER_VERSION:-v2.1.0}"
SUITE=bookworm
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# The package list and key formula of hack/kind-node-image.sh's "base"
# rootfs (kube-proxy's): the same tarball is shared when it is cached, and
# kube-router then uses the same iptables variant as kube-proxy.
BASE_PACKAGES="iptables,nftables,ipset,conntrack,kmod"

CACHE_ROOT="${CKSLAB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ckslab}"
CACHE="$CACHE_ROOT/kube-router"
NODE_CACHE="$CACHE_ROOT/kind-node"
GOARCH="$(go env GOARCH)"
mkdir -p "$CACHE/bin"

log() { printf '[kube-router-image] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
sha() { sha256sum | cut -c1-16; }

KEY="$( {
  cat "$0" hack/tools/ociimage/main.go hack/tools/ociimage/go.sum
  echo "$KUBE_ROUTER_VERSION $SUITE $BASE_PACKAGES $GOARCH $(go env GOVERSION)"
} | sha)"
REF="ckslab.local/kube-router:${KUBE_ROUTER_VERSION}-${KEY}"
OUT="$CACHE/kube-router-${KUBE_ROUTER_VERSION}-${KEY}.tar"
if [[ -s "$OUT" ]]; then
  log "image $REF cached in $OUT (inputs unchanged)"
  echo "$OUT"; exit 0
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/ckslab-kube-router.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
T0=$SECONDS
phase() { log "[$((SECONDS - T0))s] $*"; }

# Debian rootfs (debootstrap needs root), shared with hack/kind-node-image.sh.
base_key="$(echo "$SUITE $MIRROR $BASE_PACKAGES v2" | sha)"
BASE_TAR="$NODE_CACHE/rootfs-base-${base_key}.tar"
if [[ ! -s "$BASE_TAR" ]]; then
  [[ $(id -u) -eq 0 ]] || die "building the rootfs needs root (debootstrap)"
  command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install debootstrap"
  mkdir -p "$NODE_CACHE"
  dir="$WORK/rootfs"
  phase "debootstrap $SUITE: $BASE_PACKAGES"
  debootstrap --variant=minbase --include="$BASE_PACKAGES" "$SUITE" "$dir" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
    || { tail -20 "$WORK/debootstrap.log" >&2; die "debootstrap failed"; }
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* "$dir"/usr/share/doc/* \
    "$dir"/usr/share/man/* "$dir"/usr/share/locale/* "$dir"/usr/share/info/*
  tar --numeric-owner --xattrs -C "$dir" -cf "$BASE_TAR.tmp" .
  mv -f "$BASE_TAR.tmp" "$BASE_TAR"
  rm -rf "$dir"
fi

# kube-router, statically, in a throwaway module (its go.mod is used as is).
BIN="$CACHE/bin/kube-router-${KUBE_ROUTER_VERSION}-${GOARCH}-$(go env GOVERSION)"
if [[ ! -x "$BIN" ]]; then
  phase "go build github.com/cloudnativelabs/kube-router/v2@${KUBE_ROUTER_VERSION}"
  mod="$WORK/mod"
  mkdir -p "$mod"
  (cd "$mod" && go mod init ckslab.local/kube-router >/dev/null 2>&1 \
    && go get "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router@${KUBE_ROUTER_VERSION}" >"$WORK/get.log" 2>&1 \
    && CGO_ENABLED=0 go build -trimpath \
      -ldflags="-s -w -X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=${KUBE_ROUTER_VERSION}" \
      -o "$BIN.tmp" github.com/cloudnativelabs/kube-router/v2/cmd/kube-router) \
    || { tail -20 "$WORK/get.log" >&2; die "go build kube-router failed"; }
  mv -f "$BIN.tmp" "$BIN"
fi

OCIIMAGE="$CACHE/bin/ociimage-$(cat hack/tools/ociimage/main.go hack/tools/ociimage/go.sum | sha)"
if [[ ! -x "$OCIIMAGE" ]]; then
  phase "go build hack/tools/ociimage"
  (cd hack/tools/ociimage && CGO_ENABLED=0 go build -trimpath -o "$OCIIMAGE.tmp" .)
  mv -f "$OCIIMAGE.tmp" "$OCIIMAGE"
fi

phase "assemble $REF"
cat >"$WORK/images.json" <<EOF
[
 {"ref": "$REF", "entrypoint": ["/usr/local/bin/kube-router"],
  "layers": [{"tar": "$BASE_TAR"}, {"files": [{"src": "$BIN", "dst": "/usr/local/bin/kube-router", "mode": 493}]}]}
]
EOF
"$OCIIMAGE" -spec "$WORK/images.json" -o "$OUT.tmp"
mv -f "$OUT.tmp" "$OUT"
# Keep only this tarball.
find "$CACHE" -maxdepth 1 -name 'kube-router-*.tar' ! -name "$(basename "$OUT")" -delete
phase "image $REF ready: $OUT"
echo "$OUT"
