#!/usr/bin/env bash
# Builds, offline, CI stand-ins for the workload images scenarios name that
# the offline kind node image does not carry, and prints the path of one
# docker-archive tarball holding them (what `ctr images import` and
# `docker load` read):
#
#   docker.io/library/nginx:1.27                  Debian bookworm's real nginx
#   docker.io/nginxinc/nginx-unprivileged:1.27    (nginx-light) on a minbase
#                                                 rootfs, configured like the
#                                                 upstream images
#
# They are NOT the upstream images (nginx 1.22 from Debian, not 1.27): they
# exist so CI can run the workloads of immutable-01, secctx-01, seccomp-01
# and netpol-01/02 on kind without a registry. What the scenarios rely on is
# kept as upstream has it:
#   nginx:1.27              master as root, workers as user nginx (uid 101),
#                           listens on 80, pid /var/run/nginx.pid, temp
#                           files under /var/cache/nginx, HTML from
#                           /usr/share/nginx/html, logs to stdout/stderr
#   nginx-unprivileged:1.27 no user switch, listens on 8080, pid
#                           /tmp/nginx.pid, temp files under /tmp
# (so a read-only root filesystem without the emptyDirs upstream needs
# makes nginx exit here as it does upstream). Both have bash, coreutils and
# getent, as the Debian-based upstream images do; neither has nc.
# Limitation: the image tool sets no USER, so the unprivileged stand-in runs
# as root unless the pod sets runAsUser (upstream: USER 101).
#
# Cached by its inputs under ${CKSLAB_CACHE_DIR:-~/.cache/ckslab}/kind-node/workloads.
set -euo pipefail
cd "$(dirname "$0")/.."

SUITE=bookworm
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
PACKAGES="nginx-light"
CACHE_ROOT="${CKSLAB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ckslab}"
CACHE="$CACHE_ROOT/kind-node/workloads"
log() { printf '[ci-workload-images] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
sha() { sha256sum | cut -c1-16; }

KEY="$( { cat "$0" hack/tools/ociimage/main.go hack/tools/ociimage/go.sum; echo "$SUITE $MIRROR $PACKAGES $(go env GOVERSION)"; } | sha)"
OUT="$CACHE/workload-images-$KEY.tar"
if [[ -s "$OUT" ]]; then
  log "cached: $OUT"
  echo "$OUT"; exit 0
fi
[[ $(id -u) -eq 0 ]] || die "building the rootfs needs root (debootstrap, file ownership)"
command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install debootstrap"
mkdir -p "$CACHE"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/ckslab-workloads.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
T0=$SECONDS

OCIIMAGE="$WORK/ociimage"
(cd hack/tools/ociimage && CGO_ENABLED=0 go build -trimpath -o "$OCIIMAGE" .)

R="$WORK/rootfs"
log "[$((SECONDS - T0))s] debootstrap $SUITE minbase + $PACKAGES"
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$R" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
  || { tail -20 "$WORK/debootstrap.log" >&2; die "debootstrap failed"; }
rm -rf "$R"/var/cache/apt/archives/*.deb "$R"/var/lib/apt/lists/* "$R"/usr/share/doc/* \
  "$R"/usr/share/man/* "$R"/usr/share/locale/* "$R"/usr/share/info/*
# Upstream's layout: user nginx 101:101, /etc/nginx/conf.d, logs to the
# container's stdout/stderr, the default page.
grep -q '^nginx:' "$R/etc/group" || echo 'nginx:x:101:' >>"$R/etc/group"
grep -q '^nginx:' "$R/etc/passwd" || echo 'nginx:x:101:101:nginx user:/nonexistent:/usr/sbin/nologin' >>"$R/etc/passwd"
[[ "$(awk -F: '$3 == 101 {print $1}' "$R/etc/passwd")" == nginx ]] || die "uid 101 is not nginx in the rootfs"
rm -rf "$R/etc/nginx/sites-enabled" "$R/etc/nginx/sites-available" "$R/etc/nginx/modules-enabled"
mkdir -p "$R/etc/nginx/conf.d" "$R/var/cache/nginx" "$R/usr/share/nginx/html" "$R/var/log/nginx"
ln -sf /dev/stdout "$R/var/log/nginx/access.log"
ln -sf /dev/stderr "$R/var/log/nginx/error.log"
chown 101:101 "$R/var/cache/nginx"
cat >"$R/usr/share/nginx/html/index.html" <<'EOF'
<!DOCTYPE html><html><head><title>Welcome to nginx!</title></head>
<body><h1>Welcome to nginx!</h1><p>ckslab CI stand-in (Debian's nginx).</p></body></html>
EOF
tar --numeric-owner --xattrs -C "$R" -cf "$WORK/rootfs.tar" .

conf() { # conf FILE USERLINE PIDFILE TEMPDIR
  cat >"$1" <<EOF
$2
worker_processes  auto;
error_log  /var/log/nginx/error.log notice;
pid        $3;
events { worker_connections 1024; }
http {
    include       /etc/nginx/mime.types;
    default_type  application/octet-stream;
    access_log    /var/log/nginx/access.log;
    sendfile      on;
    keepalive_timeout 65;
    client_body_temp_path $4/client_temp;
    proxy_temp_path       $4/proxy_temp;
    fastcgi_temp_path     $4/fastcgi_temp;
    uwsgi_temp_path       $4/uwsgi_temp;
    scgi_temp_path        $4/scgi_temp;
    include /etc/nginx/conf.d/*.conf;
}
EOF
}
site() { # site FILE PORT
  cat >"$1" <<EOF
server {
    listen       $2;
    server_name  localhost;
    location / {
        root   /usr/share/nginx/html;
        index  index.html index.htm;
    }
}
EOF
}
conf "$WORK/nginx.conf" "user  nginx;" /var/run/nginx.pid /var/cache/nginx
site "$WORK/default.conf" 80
conf "$WORK/nginx-unpriv.conf" "" /tmp/nginx.pid /tmp
site "$WORK/default-unpriv.conf" 8080

cat >"$WORK/images.json" <<EOF
[
 {"ref": "docker.io/library/nginx:1.27", "entrypoint": [], "cmd": ["nginx", "-g", "daemon off;"],
  "layers": [{"tar": "$WORK/rootfs.tar"},
             {"files": [{"src": "$WORK/nginx.conf", "dst": "/etc/nginx/nginx.conf", "mode": 420},
                        {"src": "$WORK/default.conf", "dst": "/etc/nginx/conf.d/default.conf", "mode": 420}]}]},
 {"ref": "docker.io/nginxinc/nginx-unprivileged:1.27", "entrypoint": [], "cmd": ["nginx", "-g", "daemon off;"],
  "layers": [{"tar": "$WORK/rootfs.tar"},
             {"files": [{"src": "$WORK/nginx-unpriv.conf", "dst": "/etc/nginx/nginx.conf", "mode": 420},
                        {"src": "$WORK/default-unpriv.conf", "dst": "/etc/nginx/conf.d/default.conf", "mode": 420}]}]}
]
EOF
log "[$((SECONDS - T0))s] assemble images"
"$OCIIMAGE" -spec "$WORK/images.json" -o "$OUT.tmp"
mv -f "$OUT.tmp" "$OUT"
log "[$((SECONDS - T0))s] wrote $OUT"
echo "$OUT"
