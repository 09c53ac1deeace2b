#!/usr/bin/env bash
# Builds trivy (the scanner/SBOM tool scenarios such as sbom-01 run on the
# node) from its Go module, pinned, into ckslab's tool cache outside the
# repository, keyed by version; nothing is committed.
#
#   hack/trivy.sh            # build if missing, print the binary's path
#   hack/trivy.sh --install  # also link it as $PREFIX/bin/trivy (default /usr/local)
#
# trivy v0.74.0 needs GOEXPERIMENT=jsonv2 (encoding/json/v2) with Go 1.26.
# Measured on the 2-core VM under load: module download 2.5 min, build see
# the printed time (cached afterwards: 0 s).
set -euo pipefail
TRIVY_VERSION="${TRIVY_VERSION:-v0.74.0}"
CACHE_ROOT="${CKSLAB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ckslab}"
DEST="${CACHE_ROOT}/tools/trivy-${TRIVY_VERSION}-$(go env GOOS)-$(go env GOARCH)/bin"
BIN="$DEST/trivy"
log() { printf '[trivy] %s\n' "$*" >&2; }

if [[ ! -x "$BIN" ]]; then
  mkdir -p "$DEST"
  start=$(date +%s)
  log "building github.com/aquasecurity/trivy/cmd/trivy@${TRIVY_VERSION} into $DEST"
  GOEXPERIMENT=jsonv2 CGO_ENABLED=0 GOFLAGS=-mod=mod GOBIN="$DEST" \
    nice -n 10 go install -trimpath -ldflags="-s -w -X github.com/aquasecurity/trivy/pkg/version/app.ver=${TRIVY_VERSION#v}" "github.com/aquasecurity/trivy/cmd/trivy@${TRIVY_VERSION}"
  log "built in $(( $(date +%s) - start )) s"
fi
got="$("$BIN" --version 2>/dev/null | sed -n 's/^Version: //p')"
if [[ "v${got}" != "$TRIVY_VERSION" ]]; then
  log "warning: $BIN reports version '${got}', expected ${TRIVY_VERSION}"
fi
if [[ "${1:-}" == "--install" ]]; then
  PREFIX="${PREFIX:-/usr/local}"
  mkdir -p "$PREFIX/bin"
  ln -sf "$BIN" "$PREFIX/bin/trivy"
  log "linked $PREFIX/bin/trivy -> $BIN"
fi
echo "$BIN"
