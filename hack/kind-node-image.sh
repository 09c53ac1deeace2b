#!/usr/bin/env bash
# Builds a kind node image offline, only from Debian packages and the Go
# module proxy, and loads it into the Docker daemon. Prints the image name
# (ckslab.local/kind-node:<k8s version>-<inputs hash>) on stdout.
#
#   rootfs      debootstrap bookworm (systemd, Debian's containerd 1.6 and runc,
#               iptables/nftables/ipset, Debian's CNI plugins, busybox-static)
#               + kind's own base files from the kind module in the module cache
#               ($(go env GOMODCACHE)/sigs.k8s.io/kind@<go.mod version>/images/base/)
#   binaries    kubelet, kubeadm, kubectl and the control-plane binaries of
#               k8s.io/kubernetes $K8S_VERSION, etcd/etcdctl, CoreDNS, crictl
#               (sigs.k8s.io/cri-tools), a pause binary: built with `go build`
#               (hack/build-k8s-binaries.sh does the Kubernetes part)
#   images      kube-apiserver, kube-controller-manager, kube-scheduler,
#               kube-proxy, etcd, coredns, pause (the exact names and tags
#               kubeadm $K8S_VERSION uses) and busybox:1.36 for workloads,
#               assembled with go-containerregistry (hack/tools/ociimage) and
#               preloaded into the node's containerd content store
#   add-ons     (what CKSLAB_KIND_ADDON_SOURCE=cache installs at cluster up,
#               see engine/cluster/kind/addonsource.go; users download them)
#               gvisor: runsc and containerd-shim-runsc-v1 built from the
#               gvisor.dev/gvisor module (`go` branch, $GVISOR_VERSION) into
#               /usr/local/bin; the shim built with one constant changed
#               (oomScoreMax -999 -> 0, see build_runsc_shim: these hosts
#               refuse any negative oom_score_adj)
#               through the two wrappers of hack/tools/kindnode (Debian's
#               containerd 1.6 and kind on cgroup v1 hosts, see those files)
#               and its options in /etc/containerd/runsc.toml
#               gatekeeper: the manager binary of
#               github.com/open-policy-agent/gatekeeper/v3 at the version
#               engine/cluster/kind/pins.go pins, as the image the release
#               manifest names; the manifest itself (deploy/gatekeeper.yaml
#               of that module, checked against the pinned sha256) in
#               /kind/ckslab/addons/gatekeeper.yaml
#
# Everything is cached by its inputs under ${CKSLAB_CACHE_DIR:-~/.cache/ckslab}
# (kind-node/), never in the repository. Warm (image in the daemon): ~1 s;
# image tarball cached but daemon new: one `docker load`.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"

K8S_VERSION="${K8S_VERSION:-v1.35.4}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.6}"      # kubeadm v1.35 DefaultEtcdVersion 3.6.6-0
COREDNS_VERSION="${COREDNS_VERSION:-v1.13.1}" # kubeadm v1.35 CoreDNSVersion
PAUSE_TAG="${PAUSE_TAG:-3.10.1}"              # kubeadm v1.35 PauseVersion
CRICTL_VERSION="${CRICTL_VERSION:-v1.37.0}"
# gVisor publishes Go-buildable sources on its `go` branch only; the proxy
# serves them as pseudo-versions (`go list -m gvisor.dev/gvisor@go`).
GVISOR_VERSION="${GVISOR_VERSION:-v0.0.0-20260905035102-160fafc42237}"
# Gatekeeper: the version and manifest checksum ckslab pins for users.
PINS=engine/cluster/kind/pins.go
GATEKEEPER_VERSION="$(sed -n 's/^[[:space:]]*GatekeeperVersion[[:space:]]*=[[:space:]]*"\(.*\)"/\1/p' "$PINS")"
GATEKEEPER_SHA256="$(sed -n 's/^[[:space:]]*GatekeeperSHA256[[:space:]]*=[[:space:]]*"\(.*\)"/\1/p' "$PINS")"
SUITE=bookworm
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
NODE_PACKAGES="systemd,systemd-sysv,dbus,containerd,runc,iptables,nftables,ipset,iproute2,kmod,procps,ca-certificates,conntrack,ethtool,fuse-overlayfs,jq,curl,pigz,containernetworking-plugins,libseccomp2,util-linux,mount,e2fsprogs,bash,busybox-static"
BASE_PACKAGES="iptables,nftables,ipset,conntrack,kmod"

CACHE_ROOT="${CKSLAB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ckslab}"
CACHE="$CACHE_ROOT/kind-node"
GOARCH="$(go env GOARCH)"
KIND_VERSION="$(go list -m -f '{{.Version}}' sigs.k8s.io/kind)"
KIND_BASE="$(go env GOMODCACHE)/sigs.k8s.io/kind@${KIND_VERSION}/images/base"
mkdir -p "$CACHE"

log() { printf '[kind-node-image] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
sha() { sha256sum | cut -c1-16; }

[[ -n "$GATEKEEPER_VERSION" && -n "$GATEKEEPER_SHA256" ]] || die "GatekeeperVersion/GatekeeperSHA256 not found in $PINS"
[[ -d "$KIND_BASE/files" ]] || go mod download sigs.k8s.io/kind
[[ -d "$KIND_BASE/files" ]] || die "kind base files not found in $KIND_BASE"
[[ $(id -u) -eq 0 ]] || die "building the node image needs root (debootstrap, image file ownership)"
docker info >/dev/null 2>&1 || die "no Docker daemon answers (run hack/docker-engine.sh)"

# The image is keyed by every input: this script, the image tool, the kind
# base files, versions and package lists.
KEY="$( {
  cat "$0" hack/build-k8s-binaries.sh hack/tools/ociimage/main.go hack/tools/ociimage/go.sum hack/tools/kindnode/*
  (cd "$KIND_BASE" && find files -type f | sort | xargs sha256sum)
  echo "$K8S_VERSION $ETCD_VERSION $COREDNS_VERSION $PAUSE_TAG $CRICTL_VERSION $SUITE $NODE_PACKAGES $BASE_PACKAGES $GOARCH $(go env GOVERSION)"
  echo "$GVISOR_VERSION $GATEKEEPER_VERSION $GATEKEEPER_SHA256"
} | sha)"
IMAGE="ckslab.local/kind-node:${K8S_VERSION}-${KEY}"
TARBALL="$CACHE/node-${K8S_VERSION}-${KEY}.tar"

if [[ "$(docker image inspect -f '{{index .Config.Labels "dev.ckslab.inputs"}}' "$IMAGE" 2>/dev/null)" == "$KEY" ]]; then
  log "node image $IMAGE is in the daemon (inputs unchanged)"
  echo "$IMAGE"; exit 0
fi
if [[ -s "$TARBALL" ]]; then
  log "loading cached node image from $TARBALL"
  docker load -i "$TARBALL" >&2
  echo "$IMAGE"; exit 0
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/ckslab-node.XXXXXX")"
CTRD_PID=""
cleanup() {
  [[ -n "$CTRD_PID" ]] && kill "$CTRD_PID" 2>/dev/null && wait "$CTRD_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
T0=$SECONDS
phase() { log "[$((SECONDS - T0))s] $*"; }

# debootstrap_cached NAME PACKAGES: a trimmed rootfs tarball cached by its package list.
debootstrap_cached() {
  local name="$1" pkgs="$2" key out dir
  key="$(echo "$SUITE $MIRROR $pkgs v2" | sha)"
  out="$CACHE/rootfs-${name}-${key}.tar"
  if [[ ! -s "$out" ]]; then
    command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install debootstrap"
    dir="$WORK/debootstrap-$name"
    phase "debootstrap $SUITE ($name): $pkgs"
    debootstrap --variant=minbase --include="$pkgs" "$SUITE" "$dir" "$MIRROR" >"$WORK/debootstrap-$name.log" 2>&1 \
      || { tail -20 "$WORK/debootstrap-$name.log" >&2; die "debootstrap failed"; }
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* "$dir"/usr/share/doc/* \
      "$dir"/usr/share/man/* "$dir"/usr/share/locale/* "$dir"/usr/share/info/*
    tar --numeric-owner --xattrs -C "$dir" -cf "$out.tmp" .
    mv -f "$out.tmp" "$out"
    rm -rf "$dir"
  fi
  echo "$out"
}

# gobuild_cached NAME MODULE@VERSION PACKAGE [LDFLAGS]: a static binary built
# in a throwaway module (modules with replace directives cannot be `go install`ed).
gobuild_cached() {
  local name="$1" modver="$2" pkg="$3" ldflags="${4:-}" out dir
  out="$CACHE/bin/${name}-${modver##*@}-$GOARCH"
  if [[ ! -x "$out" ]]; then
    phase "go build $pkg ($modver)"
    dir="$WORK/mod-$name"
    mkdir -p "$dir" "$CACHE/bin"
    (cd "$dir" && go mod init ckslab.local/"$name" >/dev/null 2>&1 \
      && go get "$pkg@${modver##*@}" >/dev/null 2>&1 \
      && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w $ldflags" -o "$out.tmp" "$pkg") \
      || die "go build $pkg failed"
    mv -f "$out.tmp" "$out"
  fi
  echo "$out"
}

# build_runsc_shim: gVisor's containerd shim with one constant changed, in a
# copy of the module (a replace directive; `go build -overlay` refuses files
# of the module cache, which stays untouched).
# pkg/shim/v1/manager.go sets the oom_score_adj of the shim it starts to
# oomScoreMax = -999 and fails the pod sandbox when that write fails; it has
# no option to skip it. On these hosts CAP_SYS_RESOURCE is absent from every
# capability bounding set (Firecracker VMs), so no process may lower
# oom_score_adj below 0 and every runsc pod failed with "failed to set OOM
# Score on shim: permission denied". oomScoreMax = 0 keeps the shim at
# containerd's own score (what restrict_oom_score_adj does for runc pods).
# Users' nodes run the unmodified release shim (addons.go).
build_runsc_shim() {
  local out="$CACHE/bin/containerd-shim-runsc-v1-oom0-${GVISOR_VERSION}-$GOARCH" dir src
  if [[ ! -x "$out" ]]; then
    phase "go build gvisor.dev/gvisor/shim ($GVISOR_VERSION, oomScoreMax 0)"
    dir="$WORK/mod-runsc-shim"
    mkdir -p "$dir" "$CACHE/bin"
    (cd "$dir" && go mod init ckslab.local/runsc-shim >/dev/null 2>&1 \
      && go get "gvisor.dev/gvisor/shim@$GVISOR_VERSION" >/dev/null 2>&1) || die "go get gvisor.dev/gvisor/shim@$GVISOR_VERSION failed"
    src="$(cd "$dir" && go list -m -f '{{.Dir}}' gvisor.dev/gvisor)"
    cp -r --no-preserve=mode "$src" "$dir/gvisor"
    sed -i 's/^\([[:space:]]*oomScoreMax[[:space:]]*=[[:space:]]*\)-999$/\10/' "$dir/gvisor/pkg/shim/v1/manager.go"
    grep -q '^[[:space:]]*oomScoreMax[[:space:]]*=[[:space:]]*0$' "$dir/gvisor/pkg/shim/v1/manager.go" \
      || die "gVisor $GVISOR_VERSION: oomScoreMax = -999 not found in pkg/shim/v1/manager.go (the shim changed: revisit build_runsc_shim)"
    (cd "$dir" && go mod edit -replace gvisor.dev/gvisor=./gvisor \
      && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$out.tmp" gvisor.dev/gvisor/shim) \
      || die "go build gvisor.dev/gvisor/shim failed"
    mv -f "$out.tmp" "$out"
  fi
  echo "$out"
}

phase "inputs $KEY: Kubernetes $K8S_VERSION, etcd $ETCD_VERSION, CoreDNS $COREDNS_VERSION, crictl $CRICTL_VERSION, kind base files $KIND_VERSION"

NODE_TAR="$(debootstrap_cached node "$NODE_PACKAGES")"
BASE_TAR="$(debootstrap_cached base "$BASE_PACKAGES")"
# `hack/kind-node-image.sh rootfs|tools` stops after that stage (to warm
# caches in parallel with a long Kubernetes build).
[[ "${1:-}" == rootfs ]] && exit 0
if [[ "${1:-}" == tools ]]; then
  gobuild_cached etcdctl "go.etcd.io/etcd/etcdctl/v3@${ETCD_VERSION}" go.etcd.io/etcd/etcdctl/v3 >/dev/null
  gobuild_cached coredns "github.com/coredns/coredns@${COREDNS_VERSION}" github.com/coredns/coredns >/dev/null
  gobuild_cached crictl "sigs.k8s.io/cri-tools@${CRICTL_VERSION}" sigs.k8s.io/cri-tools/cmd/crictl >/dev/null
  gobuild_cached runsc "gvisor.dev/gvisor@${GVISOR_VERSION}" gvisor.dev/gvisor/runsc >/dev/null
  build_runsc_shim >/dev/null
  gobuild_cached gatekeeper "github.com/open-policy-agent/gatekeeper/v3@${GATEKEEPER_VERSION}" github.com/open-policy-agent/gatekeeper/v3 \
    "-X github.com/open-policy-agent/gatekeeper/v3/pkg/version.Version=${GATEKEEPER_VERSION}" >/dev/null
  exit 0
fi

K8S_DIR="$(K8S_VERSION="$K8S_VERSION" ETCD_VERSION="$ETCD_VERSION" \
  K8S_BINARIES="etcd kubelet kubeadm kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy" \
  hack/build-k8s-binaries.sh)"
ETCDCTL="$(gobuild_cached etcdctl "go.etcd.io/etcd/etcdctl/v3@${ETCD_VERSION}" go.etcd.io/etcd/etcdctl/v3)"
COREDNS="$(gobuild_cached coredns "github.com/coredns/coredns@${COREDNS_VERSION}" github.com/coredns/coredns)"
CRICTL="$(gobuild_cached crictl "sigs.k8s.io/cri-tools@${CRICTL_VERSION}" sigs.k8s.io/cri-tools/cmd/crictl)"
RUNSC="$(gobuild_cached runsc "gvisor.dev/gvisor@${GVISOR_VERSION}" gvisor.dev/gvisor/runsc)"
RUNSC_SHIM="$(build_runsc_shim)"
GATEKEEPER="$(gobuild_cached gatekeeper "github.com/open-policy-agent/gatekeeper/v3@${GATEKEEPER_VERSION}" github.com/open-policy-agent/gatekeeper/v3 \
  "-X github.com/open-policy-agent/gatekeeper/v3/pkg/version.Version=${GATEKEEPER_VERSION}")"
# The release manifest ckslab pins, from the same module, byte for byte.
GATEKEEPER_MANIFEST="$(go mod download -json "github.com/open-policy-agent/gatekeeper/v3@${GATEKEEPER_VERSION}" | jq -r .Dir)/deploy/gatekeeper.yaml"
[[ "$(sha256sum <"$GATEKEEPER_MANIFEST" | cut -d' ' -f1)" == "$GATEKEEPER_SHA256" ]] \
  || die "$GATEKEEPER_MANIFEST does not match GatekeeperSHA256 in $PINS"
PAUSE="$CACHE/bin/pause-$GOARCH"
OCIIMAGE="$CACHE/bin/ociimage-$(cat hack/tools/ociimage/main.go hack/tools/ociimage/go.sum | sha)"
if [[ ! -x "$PAUSE" || ! -x "$OCIIMAGE" ]]; then
  phase "go build hack/tools/ociimage"
  mkdir -p "$CACHE/bin"
  (cd hack/tools/ociimage && CGO_ENABLED=0 go build -trimpath -o "$OCIIMAGE.tmp" . \
    && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$PAUSE.tmp" ./pause)
  mv -f "$OCIIMAGE.tmp" "$OCIIMAGE"; mv -f "$PAUSE.tmp" "$PAUSE"
fi

# --- workload and control-plane images -------------------------------------
phase "assemble images with go-containerregistry"
BB="$WORK/busybox"
mkdir -p "$BB/bin"
tar -C "$BB" -xf "$NODE_TAR" ./usr/bin/busybox
mv "$BB/usr/bin/busybox" "$BB/bin/busybox"; rm -rf "$BB/usr"
for applet in $("$BB/bin/busybox" --list); do [[ "$applet" == busybox ]] || ln -s busybox "$BB/bin/$applet"; done
cat >"$WORK/images.json" <<EOF
[
 {"ref": "registry.k8s.io/kube-apiserver:${K8S_VERSION}", "entrypoint": ["/usr/local/bin/kube-apiserver"],
  "layers": [{"files": [{"src": "$K8S_DIR/kube-apiserver", "dst": "/usr/local/bin/kube-apiserver", "mode": 493}]}]},
 {"ref": "registry.k8s.io/kube-controller-manager:${K8S_VERSION}", "entrypoint": ["/usr/local/bin/kube-controller-manager"],
  "layers": [{"files": [{"src": "$K8S_DIR/kube-controller-manager", "dst": "/usr/local/bin/kube-controller-manager", "mode": 493}]}]},
 {"ref": "registry.k8s.io/kube-scheduler:${K8S_VERSION}", "entrypoint": ["/usr/local/bin/kube-scheduler"],
  "layers": [{"files": [{"src": "$K8S_DIR/kube-scheduler", "dst": "/usr/local/bin/kube-scheduler", "mode": 493}]}]},
 {"ref": "registry.k8s.io/kube-proxy:${K8S_VERSION}", "entrypoint": ["/usr/local/bin/kube-proxy"],
  "layers": [{"tar": "$BASE_TAR"}, {"files": [{"src": "$K8S_DIR/kube-proxy", "dst": "/usr/local/bin/kube-proxy", "mode": 493}]}]},
 {"ref": "registry.k8s.io/etcd:${ETCD_VERSION#v}-0", "entrypoint": [],
  "layers": [{"files": [{"src": "$K8S_DIR/etcd", "dst": "/usr/local/bin/etcd", "mode": 493},
                        {"src": "$ETCDCTL", "dst": "/usr/local/bin/etcdctl", "mode": 493}]}]},
 {"ref": "registry.k8s.io/coredns/coredns:${COREDNS_VERSION}", "entrypoint": ["/coredns"],
  "layers": [{"files": [{"src": "$COREDNS", "dst": "/coredns", "mode": 493}]}]},
 {"ref": "registry.k8s.io/pause:${PAUSE_TAG}", "entrypoint": ["/pause"],
  "layers": [{"files": [{"src": "$PAUSE", "dst": "/pause", "mode": 493}]}]},
 {"ref": "docker.io/library/busybox:1.36", "entrypoint": [], "cmd": ["sh"],
  "layers": [{"dir": "$BB"}]},
 {"ref": "docker.io/openpolicyagent/gatekeeper:${GATEKEEPER_VERSION}", "entrypoint": ["/manager"],
  "layers": [{"files": [{"src": "$GATEKEEPER", "dst": "/manager", "mode": 493}]}]}
]
EOF
"$OCIIMAGE" -spec "$WORK/images.json" -o "$WORK/images.tar"

# --- node rootfs ------------------------------------------------------------
phase "node rootfs: kind base files $KIND_VERSION, binaries, containerd config"
R="$WORK/rootfs"
mkdir -p "$R"
tar --numeric-owner --xattrs -C "$R" -xf "$NODE_TAR"
F="$KIND_BASE/files"
install -m 0755 "$F"/usr/local/bin/* "$R/usr/local/bin/"
mkdir -p "$R/kind/bin" "$R/etc/containerd" "$R/etc/default" "$R/etc/sysctl.d" "$R/etc/systemd/system/kubelet.service.d" "$R/LICENSES"
cp -r "$F/kind/." "$R/kind/"; chmod 0755 "$R/kind" "$R/kind/bin" "$R"/kind/bin/*
install -m 0644 "$F/LICENSES/"* "$R/LICENSES/"
install -m 0644 "$F/etc/crictl.yaml" "$R/etc/"
install -m 0644 "$F/etc/default/"* "$R/etc/default/"
install -m 0644 "$F/etc/sysctl.d/"* "$R/etc/sysctl.d/"
install -m 0644 "$F/etc/systemd/system/"*.service "$F/etc/systemd/system/"*.slice "$R/etc/systemd/system/"
install -m 0644 "$F/etc/systemd/system/kubelet.service.d/"* "$R/etc/systemd/system/kubelet.service.d/"
# kind's containerd config, for Debian's containerd 1.6: the sandbox image
# kubeadm pins, and restrict_oom_score_adj (these hosts refuse a negative
# oom_score_adj to every process, so runc fails the pod sandbox otherwise).
sed -e "s#sandbox_image = .*#sandbox_image = \"registry.k8s.io/pause:${PAUSE_TAG}\"#" \
    -e 's/restrict_oom_score_adj = false/restrict_oom_score_adj = true/' \
    "$F/etc/containerd/config.toml" >"$R/etc/containerd/config.toml"
ctr oci spec \
  | jq '.hooks.createContainer[.hooks.createContainer| length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' \
  | jq 'del(.process.rlimits)' >"$R/etc/containerd/cri-base.json"
# Debian installs containerd in /usr/bin; kind's unit runs /usr/local/bin/containerd.
ln -sf /usr/bin/containerd "$R/usr/local/bin/containerd"
# kind's Dockerfile clean-up of units a node must not run.
find "$R/lib/systemd/system/sysinit.target.wants/" -name systemd-tmpfiles-setup.service -delete
rm -f "$R"/lib/systemd/system/multi-user.target.wants/* "$R"/etc/systemd/system/*.wants/* \
  "$R"/lib/systemd/system/local-fs.target.wants/* "$R"/lib/systemd/system/sockets.target.wants/*udev* \
  "$R"/lib/systemd/system/sockets.target.wants/*initctl* "$R"/lib/systemd/system/basic.target.wants/*
echo "ReadKMsg=no" >>"$R/etc/systemd/journald.conf"
mkdir -p "$R/etc/systemd/system/multi-user.target.wants"
for u in kubelet containerd undo-mount-hacks; do
  ln -sf "/etc/systemd/system/$u.service" "$R/etc/systemd/system/multi-user.target.wants/$u.service"
done
ln -sf /dev/null "$R/etc/systemd/system/systemd-binfmt.service"
mkdir -p "$R/etc/kubernetes/manifests" "$R/opt/cni/bin" "$R/etc/cni/net.d"
for p in "$R"/usr/lib/cni/*; do ln -sf "/usr/lib/cni/$(basename "$p")" "$R/opt/cni/bin/"; done
install -m 0755 "$K8S_DIR/kubelet" "$K8S_DIR/kubeadm" "$K8S_DIR/kubectl" "$R/usr/bin/"
install -m 0755 "$CRICTL" "$R/usr/local/bin/crictl"
# Add-ons for CKSLAB_KIND_ADDON_SOURCE=cache (registered at cluster up by the
# same add-on steps users run, without their downloads).
install -m 0755 "$RUNSC" "$R/usr/local/bin/runsc"
install -D -m 0755 "$RUNSC_SHIM" "$R/usr/local/lib/ckslab/containerd-shim-runsc-v1"
install -m 0755 hack/tools/kindnode/containerd-shim-runsc-v1 "$R/usr/local/bin/containerd-shim-runsc-v1"
install -m 0755 hack/tools/kindnode/runsc-cgv1 "$R/usr/local/lib/ckslab/runsc-cgv1"
install -m 0644 hack/tools/kindnode/runsc.toml "$R/etc/containerd/runsc.toml"
install -D -m 0644 "$GATEKEEPER_MANIFEST" "$R/kind/ckslab/addons/gatekeeper.yaml"
echo "$K8S_VERSION" >"$R/kind/version"
rm -f "$R/etc/machine-id" "$R/var/lib/dbus/machine-id"; : >"$R/etc/machine-id"

# Preload the images into the node's containerd content store with the
# host's containerd (Debian's, the same 1.6 as the node's), unpacked lazily
# by the node's containerd on first use (as kind's own node images do).
phase "preload images into the node's containerd"
cat >"$WORK/containerd.toml" <<EOF
version = 2
root = "$R/var/lib/containerd"
state = "$WORK/ctrd-state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$WORK/ctrd.sock"
EOF
containerd --config "$WORK/containerd.toml" >"$WORK/containerd.log" 2>&1 &
CTRD_PID=$!
for _ in $(seq 1 50); do [[ -S "$WORK/ctrd.sock" ]] && break; sleep 0.2; done
ctr --address "$WORK/ctrd.sock" -n k8s.io images import --no-unpack "$WORK/images.tar" >&2
ctr --address "$WORK/ctrd.sock" -n k8s.io images ls -q >&2
kill "$CTRD_PID"; wait "$CTRD_PID" 2>/dev/null || true; CTRD_PID=""

phase "docker import"
tar --numeric-owner --xattrs -C "$R" -c . | docker import \
  --change 'ENV container=docker' \
  --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' - "ckslab.local/kind-node-rootfs:$KEY" >&2
# Docker 20.10's import rejects STOPSIGNAL: set it (and the inputs label) in a build step.
printf 'FROM ckslab.local/kind-node-rootfs:%s\nSTOPSIGNAL SIGRTMIN+3\nLABEL dev.ckslab.inputs=%s dev.ckslab.kubernetes=%s\n' "$KEY" "$KEY" "$K8S_VERSION" \
  | docker build -q -t "$IMAGE" - >&2
docker rmi "ckslab.local/kind-node-rootfs:$KEY" >/dev/null 2>&1 || true
phase "save $TARBALL"
docker save -o "$TARBALL.tmp" "$IMAGE" && mv -f "$TARBALL.tmp" "$TARBALL"
# Keep only this tarball of the node image (each is ~1 GB).
find "$CACHE" -maxdepth 1 -name 'node-*.tar' ! -name "$(basename "$TARBALL")" -delete
phase "node image $IMAGE ready"
echo "$IMAGE"
