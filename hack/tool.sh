#!/usr/bin/env bash
# hack/tool.sh NAME: prints the path of a pinned developer tool, building it
# once with `go build` from the tool module's own go.mod/go.sum (fetched and
# checksummed through the Go module proxy) into a cache outside the repo:
#   ${CKSLAB_TOOLS_DIR:-~/.cache/ckslab/tools}/<name>-<version>/<name>
# The directory is keyed by version, so changing a pin rebuilds and nothing
# stale is reused. No binary is committed and nothing runs `go run` at a
# floating version. Tools (pin overridable by environment):
#   golangci-lint  github.com/golangci/golangci-lint/v2  GOLANGCI_LINT_VERSION (v2.15.0)
#   goreleaser     github.com/goreleaser/goreleaser/v2   GORELEASER_VERSION    (v2.15.1; newer need a newer Go)
set -euo pipefail

NAME="${1:?usage: hack/tool.sh golangci-lint|goreleaser}"
case "$NAME" in
  golangci-lint)
    MODULE=github.com/golangci/golangci-lint/v2
    VERSION="${GOLANGCI_LINT_VERSION:-v2.15.0}"
    PKG=./cmd/golangci-lint
    LDFLAGS="-X main.version=${VERSION#v} -X main.commit=$VERSION -X main.date=module-proxy"
    CHECK=(version --short) ;;
  goreleaser)
    MODULE=github.com/goreleaser/goreleaser/v2
    VERSION="${GORELEASER_VERSION:-v2.15.1}"
    PKG=.
    LDFLAGS="-X main.version=${VERSION#v} -X main.commit=$VERSION -X main.builtBy=ckslab-hack-tool.sh"
    CHECK=(--version) ;;
  *) echo "hack/tool.sh: unknown tool $NAME (golangci-lint, goreleaser)" >&2; exit 2 ;;
esac

TOOLS="${CKSLAB_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ckslab/tools}"
DEST="$TOOLS/$NAME-$VERSION"
BIN="$DEST/$NAME"

if [[ -x "$BIN" ]] && "$BIN" "${CHECK[@]}" 2>/dev/null | grep -qF "${VERSION#v}"; then
  echo "$BIN"
  exit 0
fi

echo "building $NAME $VERSION into $DEST (once; minutes)" >&2
SRC="$(GOFLAGS=-mod=mod go mod download -json "$MODULE@$VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
if [[ -z "$SRC" || ! -f "$SRC/go.mod" ]]; then
  echo "hack/tool.sh: could not download $MODULE@$VERSION through the Go module proxy" >&2
  exit 1
fi
mkdir -p "$DEST"
TMP="$(mktemp "$DEST/.$NAME.XXXXXX")"
trap 'rm -f "$TMP"' EXIT
# Built inside the module, so its go.mod and go.sum pin every dependency
# exactly as `go install $MODULE@$VERSION` would, with the version stamped
# the way the upstream release build does.
(cd "$SRC" && GOFLAGS=-mod=readonly CGO_ENABLED=0 go build -trimpath -ldflags "-s -w $LDFLAGS" -o "$TMP" "$PKG")
chmod 0755 "$TMP"
mv -f "$TMP" "$BIN"
echo "$BIN"
