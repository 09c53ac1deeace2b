#!/usr/bin/env bash
# Builds etcd, kube-apiserver and kube-controller-manager for the pinned
# Kubernetes version from the Go module proxy into ckslab's binary cache.
# This is the fallback ckslab itself uses when the official release download
# is unreachable; CI calls it so tests never depend on a hand-installed binary.
# Binaries are cached outside the repository and never committed.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.37.2}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
GOOS_ARCH="$(go env GOOS)-$(go env GOARCH)"
CACHE_ROOT="${CKSLAB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ckslab}"
DEST="${CACHE_ROOT}/bin/k8s-${K8S_VERSION}-${GOOS_ARCH}"
STAGING="v0${K8S_VERSION#v1}"   # v1.37.2 -> v0.37.2
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$DEST"

log() { printf '[build-k8s] %s\n' "$*" >&2; }

install_bin() { # atomically move a freshly built binary into the cache
  local src="$1" name="$2"
  chmod 0755 "$src"
  mv -f "$src" "$DEST/.${name}.tmp"
  mv -f "$DEST/.${name}.tmp" "$DEST/$name"
}

need=()
if [[ -n "${K8S_BINARIES:-}" ]]; then
  # An explicit list (hack/kind-node-image.sh asks for the node's binaries).
  read -r -a wanted <<<"$K8S_BINARIES"
else
  wanted=(etcd kube-apiserver kube-controller-manager)
  # kubectl is what learners type; build it too on machines without one.
  command -v kubectl >/dev/null 2>&1 || wanted+=(kubectl)
fi
for b in "${wanted[@]}"; do
  [[ -x "$DEST/$b" ]] || need+=("$b")
done
if [[ ${#need[@]} -eq 0 ]]; then log "all binaries present in $DEST"; echo "$DEST"; exit 0; fi

if [[ " ${need[*]} " == *" etcd "* ]]; then
  log "building etcd ${ETCD_VERSION}"
  mkdir -p "$WORK/etcd"
  cat > "$WORK/etcd/main.go" <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  (cd "$WORK/etcd" && go mod init ckslab.local/etcd >/dev/null 2>&1 \
    && go get "go.etcd.io/etcd/server/v3@${ETCD_VERSION}" >/dev/null 2>&1 \
    && go mod tidy >/dev/null 2>&1 \
    && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$WORK/etcd.bin" .)
  install_bin "$WORK/etcd.bin" etcd
fi

k8s_need=()
for b in "${need[@]}"; do [[ "$b" == etcd ]] || k8s_need+=("$b"); done
if [[ ${#k8s_need[@]} -gt 0 ]]; then
  log "building ${k8s_need[*]} ${K8S_VERSION} (several minutes when the Go cache is cold)"
  mkdir -p "$WORK/k8s"
  cd "$WORK/k8s"
  go mod init ckslab.local/k8s >/dev/null 2>&1
  # Kubernetes' own go.mod points staging modules at ./staging; point them
  # at their published versions instead.
  modfile="$(go mod download -json "k8s.io/kubernetes@${K8S_VERSION}" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  {
    echo "require k8s.io/kubernetes ${K8S_VERSION}"
    sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#replace \1 => \1 '"${STAGING}"'#p' "$modfile"
  } >> go.mod
  {
    printf '//go:build tools\n\npackage tools\n\nimport (\n'
    for b in $(printf '%s\n' kube-apiserver kube-controller-manager kubectl "${k8s_need[@]}" | sort -u); do
      printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$b"
    done
    printf ')\n'
  } > tools.go
  go mod tidy >/dev/null 2>&1 || go mod tidy
  for b in "${k8s_need[@]}"; do
    log "go build k8s.io/kubernetes/cmd/$b"
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X k8s.io/component-base/version.gitVersion=${K8S_VERSION} -X k8s.io/client-go/pkg/version.gitVersion=${K8S_VERSION}" \
      -o "$WORK/$b.bin" "k8s.io/kubernetes/cmd/$b"
    install_bin "$WORK/$b.bin" "$b"
  done
fi
log "binaries ready in $DEST"
echo "$DEST"
