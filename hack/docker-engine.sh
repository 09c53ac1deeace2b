#!/usr/bin/env bash
# Makes a Docker daemon answer on this machine, for the kind backend and
# hack/ci-kind.sh. Idempotent: when `docker info` already works it only says so.
#
#   1. no dockerd: install Debian's docker.io (and jq) with apt-get;
#   2. a capability bounding set smaller than the kernel's capability list
#      (these CI VMs lack CAP_SYS_RESOURCE): install a runc wrapper that drops
#      the missing capabilities from the OCI config.json (create/run) and from
#      the --process file (exec), and register it as dockerd's default runtime.
#      Without it `docker run --privileged` (every kind node) and `docker exec`
#      into such a container fail with "unable to apply caps: operation not
#      permitted";
#   3. start dockerd in the background (log: /var/log/ckslab-dockerd.log) and
#      wait until it answers.
#
# Needs root for steps 1-3. Prints the reason and exits 1 when it cannot.
set -euo pipefail

log() { printf '[docker-engine] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

WRAPPER=/usr/local/sbin/ckslab-runc
DAEMON_JSON=/etc/docker/daemon.json
DOCKERD_LOG=/var/log/ckslab-dockerd.log

answers() { docker info --format '{{.ServerVersion}}' >/dev/null 2>&1; }

# missing_caps prints the capabilities the kernel knows but the bounding set
# of this process lacks, as CAP_NAMES separated by spaces.
missing_caps() {
  local last bnd full miss
  last="$(cat /proc/sys/kernel/cap_last_cap)"
  bnd="$(awk '/^CapBnd:/ {print $2}' /proc/self/status)"
  full=$(( (1 << (last + 1)) - 1 ))
  miss=$(( full & ~0x$bnd ))
  [[ $miss -eq 0 ]] && return 0
  capsh --decode="$(printf '%x' "$miss")" | sed 's/^[^=]*=//; s/,/ /g' | tr '[:lower:]' '[:upper:]'
}

write_wrapper() { # $1: runc path, $2: space-separated capabilities to drop
  local real="$1" drop="$2" json
  json="$(printf '%s\n' $drop | jq -R . | jq -sc .)"
  mkdir -p "$(dirname "$WRAPPER")"
  cat >"$WRAPPER.tmp" <<EOF
#!/bin/sh
# Written by ckslab hack/docker-engine.sh: runs $real after removing
# capabilities this host's bounding set lacks ($drop) from the OCI
# config.json (create/run --bundle) and the process file (exec --process).
REAL=$real
DROP='$json'
EOF
  cat >>"$WRAPPER.tmp" <<'EOF'
strip() { # $1: file, $2: jq path of the capabilities object
  [ -f "$1" ] || return 0
  tmp="$1.ckslab.$$"
  jq --argjson drop "$DROP" "($2 // {}) |= map_values(if type == \"array\" then . - \$drop else . end)" "$1" >"$tmp" && mv "$tmp" "$1"
}
cmd="" bundle="" process="" prev=""
for a in "$@"; do
  case "$prev" in
    --bundle|-b) bundle="$a" ;;
    --process|-p) process="$a" ;;
  esac
  case "$a" in
    --bundle=*) bundle="${a#--bundle=}" ;;
    --process=*) process="${a#--process=}" ;;
  esac
  if [ -z "$cmd" ]; then
    case "$prev" in
      --root|--log|--log-format|--criu) ;;
      *) case "$a" in create|run|exec) cmd="$a" ;; esac ;;
    esac
  fi
  prev="$a"
done
case "$cmd" in
  create|run) strip "${bundle:-.}/config.json" .process.capabilities ;;
  exec) [ -n "$process" ] && strip "$process" .capabilities ;;
esac
exec "$REAL" "$@"
EOF
  chmod 0755 "$WRAPPER.tmp"
  mv -f "$WRAPPER.tmp" "$WRAPPER"
}

if answers; then
  log "a Docker daemon answers ($(docker info --format '{{.ServerVersion}}'))"
  exit 0
fi
[[ $(id -u) -eq 0 ]] || die "no Docker daemon answers and this is not root: start Docker yourself (or run as root)"

if ! command -v dockerd >/dev/null 2>&1 || ! command -v jq >/dev/null 2>&1; then
  log "installing docker.io and jq from apt"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || die "apt-get update failed"
  apt-get install -y -qq docker.io jq >/dev/null || die "apt-get install docker.io jq failed"
fi

drop="$(missing_caps | xargs)"
if [[ -n "$drop" ]]; then
  real="$(command -v runc || true)"
  [[ -n "$real" && "$real" != "$WRAPPER" ]] || die "runc not found (docker.io should have installed it)"
  log "capability bounding set lacks ${drop}: dockerd's default runtime becomes $WRAPPER (drops them, then runs $real)"
  write_wrapper "$real" "$drop"
  mkdir -p "$(dirname "$DAEMON_JSON")"
  if [[ -s "$DAEMON_JSON" ]]; then
    jq --arg p "$WRAPPER" '.runtimes["ckslab-runc"] = {path: $p} | ."default-runtime" = "ckslab-runc"' "$DAEMON_JSON" >"$DAEMON_JSON.tmp"
  else
    jq -n --arg p "$WRAPPER" '{runtimes: {"ckslab-runc": {path: $p}}, "default-runtime": "ckslab-runc"}' >"$DAEMON_JSON.tmp"
  fi
  mv -f "$DAEMON_JSON.tmp" "$DAEMON_JSON"
fi

if pgrep -x dockerd >/dev/null 2>&1; then
  log "dockerd runs but does not answer yet; waiting"
else
  log "starting dockerd (log: $DOCKERD_LOG)"
  setsid nohup dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
fi
for _ in $(seq 1 60); do
  if answers; then
    log "Docker $(docker info --format '{{.ServerVersion}}') answers (default runtime: $(docker info --format '{{.DefaultRuntime}}'))"
    exit 0
  fi
  sleep 1
done
die "dockerd did not answer within 60 s; see $DOCKERD_LOG"
