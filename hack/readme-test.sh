#!/usr/bin/env bash
# Runs the README's set-up block literally, as a newcomer would: a fresh
# clone, a fresh HOME, the commands read from README.md (the fenced block
# after the `<!-- readme-test: setup -->` marker), so the README and this
# test cannot drift. Then the first lab's loop: check fails on the seeded
# lab, solution --yes shows the fix, reset and cluster down leave no process
# or cluster directory behind, and the learner's ~/.kube/config is untouched.
#
# README=path/to/README.md overrides the file (used to prove the step fails
# when the README's first command is broken). The backend is pinned to local
# (CKSLAB_BACKEND=local): CI has no registry for kind's node image. The Go
# module and build caches are shared with the caller so nothing is
# downloaded twice; GOPATH (where `go install` puts ckslab) is the fresh
# HOME's. CKSLAB_BIN_DIR, when set (make test sets it), points at the
# already-built Kubernetes binaries.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$(pwd)"
README="${README:-$REPO/README.md}"

fail() { echo "readme-test: FAIL: $*" >&2; exit 1; }

# lab_procs prints the processes started for the fresh HOME: the supervisor
# and the components it runs (they inherit its environment, which names
# the node dir under HOME, even where their command lines show exam paths).
lab_procs() {
  local d pid
  for d in /proc/[0-9]*; do
    pid="${d#/proc/}"
    [[ "$pid" == "$$" || "$pid" == "$BASHPID" ]] && continue
    if grep -qsF "$FRESH_HOME" "$d/environ" 2>/dev/null || tr '\0' ' ' 2>/dev/null <"$d/cmdline" | grep -qF "$FRESH_HOME"; then
      echo "$pid $(tr '\0' ' ' 2>/dev/null <"$d/cmdline" | cut -c1-120)"
    fi
  done
}

block="$(awk '
  /<!-- readme-test: setup -->/ { armed = 1; next }
  armed && /^```/ { if (inside) exit; inside = 1; next }
  inside { print }
' "$README")"
[[ -n "$block" ]] || fail "no fenced block after <!-- readme-test: setup --> in $README"
grep -q 'ckslab start ' <<<"$block" || fail "the set-up block of $README does not start a lab"
echo "readme-test: the README's set-up block:"
sed 's/^/    /' <<<"$block"

GOMODCACHE="$(go env GOMODCACHE)"
GOCACHE="$(go env GOCACHE)"
GOROOT_BIN="$(dirname "$(command -v go)")"
REAL_GOPATH_BIN="$(go env GOPATH)/bin"
WORK="$(mktemp -d /tmp/ckslab-readme.XXXXXX)"
FRESH_HOME="$WORK/home"
mkdir -p "$FRESH_HOME/.kube"
printf 'apiVersion: v1\nkind: Config\n# the learner'"'"'s own kubeconfig: ckslab must never touch it\n' >"$FRESH_HOME/.kube/config"
kube_before="$(sha256sum <"$FRESH_HOME/.kube/config")"

# PATH without the caller's GOPATH/bin, so an old ckslab cannot stand in
# for the one the README installs.
clean_path="$(tr ':' '\n' <<<"$PATH" | grep -vxF "$REAL_GOPATH_BIN" | grep -vxF "$REPO/bin" | paste -sd: -)"
run_env=(env -i HOME="$FRESH_HOME" PATH="$GOROOT_BIN:$clean_path" TERM=dumb LANG=C.UTF-8
  GOMODCACHE="$GOMODCACHE" GOCACHE="$GOCACHE" GOFLAGS="${GOFLAGS:-}" GOPROXY="${GOPROXY:-$(go env GOPROXY)}"
  CKSLAB_BACKEND=local ${CKSLAB_BIN_DIR:+CKSLAB_BIN_DIR="$CKSLAB_BIN_DIR"})

in_home() { (cd "$WORK/clone" && "${run_env[@]}" bash -c 'export PATH="$(go env GOPATH)/bin:$PATH"; '"$1"); }

cleanup() {
  local rc=$?
  if [[ -d "$WORK/clone" ]]; then in_home 'ckslab cluster down >/dev/null 2>&1' || true; fi
  lab_procs | awk '{print $1}' | xargs -r kill 2>/dev/null || true
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT

git clone -q "$REPO" "$WORK/clone"
echo "readme-test: fresh clone of $(git -C "$WORK/clone" rev-parse --short HEAD) in $WORK/clone, HOME=$FRESH_HOME"

echo "readme-test: running the block"
t0=$(date +%s)
if ! (cd "$WORK/clone" && "${run_env[@]}" bash -euo pipefail -c "$block") >"$WORK/setup.log" 2>&1; then
  sed 's/^/    /' "$WORK/setup.log" | tail -n 40
  fail "the README's set-up block failed (log above)"
fi
echo "readme-test: set-up block ok in $(( $(date +%s) - t0 ))s"
sed 's/^/    /' "$WORK/setup.log" | tail -n 15
[[ -x "$FRESH_HOME/go/bin/ckslab" ]] || fail "the set-up block did not install ckslab into the fresh GOPATH ($FRESH_HOME/go/bin)"
grep -q "team-a" "$WORK/setup.log" || fail "ckslab start psp-01 did not print the task"

if in_home 'ckslab check' >"$WORK/check.log" 2>&1; then
  cat "$WORK/check.log"; fail "ckslab check passed on the freshly seeded lab"
fi
grep -Eqi 'fail' "$WORK/check.log" || { cat "$WORK/check.log"; fail "ckslab check exited non-zero without naming a failing objective"; }
echo "readme-test: ckslab check fails on the seeded lab, as it must"

in_home 'ckslab solution --yes' >"$WORK/solution.log" 2>&1 || { cat "$WORK/solution.log"; fail "ckslab solution --yes failed"; }
grep -q 'pod-security.kubernetes.io/enforce' "$WORK/solution.log" || { cat "$WORK/solution.log"; fail "ckslab solution --yes did not show the fix"; }
echo "readme-test: ckslab solution --yes shows the fix"

in_home 'ckslab reset' >"$WORK/reset.log" 2>&1 || { cat "$WORK/reset.log"; fail "ckslab reset failed"; }
in_home 'ckslab cluster down' >"$WORK/down.log" 2>&1 || { cat "$WORK/down.log"; fail "ckslab cluster down failed"; }
sleep 1
left="$(lab_procs)"
[[ -z "$left" ]] || { echo "$left"; fail "processes of the lab are still running after cluster down"; }
if compgen -G "$FRESH_HOME/.cache/ckslab/local/*" >/dev/null; then
  ls -la "$FRESH_HOME/.cache/ckslab/local/"; fail "cluster directories left behind after cluster down"
fi
[[ "$(sha256sum <"$FRESH_HOME/.kube/config")" == "$kube_before" ]] || fail "~/.kube/config was modified"
echo "readme-test: reset and cluster down left nothing behind; ~/.kube/config untouched"
echo "readme-test: PASS"
