#!/usr/bin/env bash
# Brings up a real Docker engine on a machine of this kind and makes the base image the project uses.
# Idempotent: where `docker info` already answers and the image exists, it does nothing.
# No registry is reachable here, so the base image is a tar of Debian's static busybox fed to
# `docker import`.
set -euo pipefail

IMAGE="${EXEC_BASE_IMAGE:-exec-stream/busybox:latest}"
NOCMD_IMAGE="exec-stream/busybox-nocmd:latest"
LOG="${DOCKERD_LOG:-/var/log/exec-stream-dockerd.log}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

say() { echo "[docker-up] $*" >&2; }

need_pkgs=()
command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
[ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -qx head || need_pkgs+=(busybox-static)
if [ ${#need_pkgs[@]} -gt 0 ] && ! docker info >/dev/null 2>&1; then
  "$(dirname "$0")/apt-install.sh" "${need_pkgs[@]}"
fi

if ! docker info >/dev/null 2>&1; then
  # A dockerd killed with its session leaves its pid file; the next one refuses to start.
  for pidfile in /var/run/docker.pid /var/run/docker/containerd/containerd.pid; do
    if [ -f "$pidfile" ] && ! kill -0 "$(cat "$pidfile" 2>/dev/null)" 2>/dev/null; then
      say "removing stale $pidfile"
      $SUDO rm -f "$pidfile"
    fi
  done
  say "starting dockerd (log: $LOG)"
  # Bridge and iptables off: containers run with network none and nothing leaves loopback. The daemon
  # gets no fd above 2 from us: it must not inherit a caller's lock (setup.sh's flock) or pipe, which
  # it would hold for as long as it lives.
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      [ "$fd" -gt 2 ] && { eval "exec $fd>&-"; } 2>/dev/null
    done
    exec $SUDO setsid dockerd --bridge=none --iptables=false --ip6tables=false </dev/null >>"$LOG" 2>&1
  ) &
  for _ in $(seq 1 120); do
    docker info >/dev/null 2>&1 && break
    sleep 0.5
  done
  docker info >/dev/null 2>&1 || { say "dockerd did not answer; last log lines:"; tail -n 30 "$LOG" >&2; exit 1; }
fi

if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
  [ -x /bin/busybox ] || { say "busybox-static missing"; exit 1; }
  say "importing $IMAGE from static busybox"
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/proc" "$root/sys" "$root/dev"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
  echo 'root:x:0:' >"$root/etc/group"
  tar -C "$root" -c . | docker import \
    --change 'ENV PATH=/bin' --change 'CMD ["/bin/sh"]' - "$IMAGE" >/dev/null
fi
# The same files without a default command: tests use it for "image without command".
if ! docker image inspect "$NOCMD_IMAGE" >/dev/null 2>&1; then
  cid=$(docker create "$IMAGE" true)
  docker export "$cid" | docker import --change 'ENV PATH=/bin' - "$NOCMD_IMAGE" >/dev/null
  docker rm "$cid" >/dev/null
fi
say "ready: $(docker version --format '{{.Server.Version}}') with $IMAGE"
