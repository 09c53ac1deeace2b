#!/usr/bin/env bash
# Proves the release build: runs GoReleaser (the pinned version, see
# hack/tool.sh) in snapshot mode on a clone of HEAD in a temporary directory
# and checks what a release would publish: the four archives (linux and
# darwin, amd64 and arm64), checksums.txt that verifies them, and that the
# linux/amd64 binary prints the version GoReleaser stamped into it.
# Builds what is committed (a clone), so a dirty working tree is not released
# by accident and the shared checkout gets no dist/.
#   OUT=dir hack/release-snapshot.sh   # keep the artifacts in dir (default: removed)
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$(pwd)"

fail() { echo "release-snapshot: FAIL: $*" >&2; exit 1; }

GORELEASER="$(hack/tool.sh goreleaser)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/ckslab-release.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

git clone -q --no-checkout "$REPO" "$WORK/src"
git -C "$WORK/src" checkout -q "$(git rev-parse HEAD)"
cd "$WORK/src"
"$GORELEASER" check
t0=$SECONDS
"$GORELEASER" release --snapshot --clean --skip=publish ${GORELEASER_FLAGS:-}
echo "release-snapshot: goreleaser took $((SECONDS - t0))s"

DIST="$WORK/src/dist"
VERSION="$(sed -n 's/.*"version":[[:space:]]*"\([^"]*\)".*/\1/p' "$DIST/metadata.json" | head -n1)"
[[ -n "$VERSION" ]] || fail "no version in dist/metadata.json"
for p in linux_amd64 linux_arm64 darwin_amd64 darwin_arm64; do
  a="ckslab_${VERSION}_${p}.tar.gz"
  [[ -s "$DIST/$a" ]] || fail "missing archive $a (dist has: $(cd "$DIST" && ls))"
  grep -qF "  $a" "$DIST/checksums.txt" || fail "checksums.txt does not list $a"
  tar -tzf "$DIST/$a" | grep -qx ckslab || fail "$a holds no ckslab binary"
done
n="$(grep -c '\.tar\.gz$' "$DIST/checksums.txt")"
[[ "$n" -eq 4 ]] || fail "checksums.txt lists $n archives, want 4"
(cd "$DIST" && sha256sum --quiet -c checksums.txt) || fail "checksums.txt does not verify"

mkdir "$WORK/x"
tar -xzf "$DIST/ckslab_${VERSION}_linux_amd64.tar.gz" -C "$WORK/x"
got="$(HOME="$WORK/home" "$WORK/x/ckslab" version)"
[[ "$got" == "ckslab $VERSION "* ]] || fail "linux/amd64 binary prints \"$got\", want \"ckslab $VERSION ...\""
echo "release-snapshot: ok: $got"
(cd "$DIST" && ls -l ./*.tar.gz checksums.txt)

if [[ -n "${OUT:-}" ]]; then
  mkdir -p "$OUT"
  cp "$DIST"/*.tar.gz "$DIST/checksums.txt" "$OUT/"
  echo "release-snapshot: artifacts copied to $OUT"
fi
