#!/usr/bin/env bash
# Puts Istio's CRD file (manifests/charts/base/files/crd-all.gen.yaml), pinned
# in engine/crds/crds.go, where ckslab finds it offline: the Go module cache
# (`go mod download istio.io/istio@<pin>`; the Go module proxy serves Istio's
# repository as a module). ckslab verifies the sha256 before using it; users
# with internet get the same bytes from the pinned URL instead.
#
#   hack/istio-crds.sh                  # fetch the pinned version, verify
#   hack/istio-crds.sh <pseudo-version> # print the sha256 to pin another one
set -euo pipefail
cd "$(dirname "$0")/.."
pin() { sed -n "s/^[[:space:]]*$1[[:space:]]*= \"\(.*\)\"/\1/p" engine/crds/crds.go; }
VERSION="${1:-$(pin IstioModuleVersion)}"
FILE="$(pin IstioCRDPath)"
WANT="$(pin IstioCRDSHA256)"
[[ -n "$VERSION" && -n "$FILE" && -n "$WANT" ]] || { echo "istio-crds: cannot read the pins in engine/crds/crds.go" >&2; exit 1; }
DIR="$(GOFLAGS=-mod=mod go mod download -json "istio.io/istio@${VERSION}" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
[[ -f "$DIR/$FILE" ]] || { echo "istio-crds: $FILE not found in istio.io/istio@${VERSION} ($DIR)" >&2; exit 1; }
GOT="$(sha256sum "$DIR/$FILE" | cut -d' ' -f1)"
if [[ $# -gt 0 ]]; then
  echo "istio.io/istio@${VERSION} $FILE sha256 $GOT"
  exit 0
fi
[[ "$GOT" == "$WANT" ]] || { echo "istio-crds: $DIR/$FILE has sha256 $GOT, pinned $WANT" >&2; exit 1; }
echo "istio-crds: $DIR/$FILE (sha256 verified)"
