#!/usr/bin/env bash
# Runs an extra Docker engine NAME beside the shared one (/var/run/docker.sock), which it never touches.
#   docker-engine.sh NAME start   start it (idempotent; cleans stale pid files after a kill) and load
#                                 exec-stream/busybox:latest into it from the shared engine
#   docker-engine.sh NAME stop    SIGTERM to its dockerd and wait (dockerd then stops its containerd)
#   docker-engine.sh NAME kill    SIGKILL to its dockerd: its containerd dies with it (parent-death
#                                 signal), the containers' shims and processes live on; the next start
#                                 (no live-restore) kills those containers and records them exited 137
#   docker-engine.sh NAME socket  print the socket path (unix:///run/exec-stream-NAME/docker.sock)
# Everything of engine NAME lives under /run/exec-stream-NAME and /var/lib/exec-stream-NAME; its log is
# /var/log/exec-stream-NAME-dockerd.log. EXTRA_DOCKERD_ARGS (split on spaces) is added to dockerd's flags at
# start, e.g. a TLS listener: "--tlsverify --tlscacert ca.pem --tlscert s.pem --tlskey s-key.pem -H tcp://127.0.0.1:PORT". dockerd 20.10 starts its own containerd under its exec root when
# no --containerd is given and no system containerd socket exists; the containerd namespaces are set to
# NAME too, so two engines never share containers even if they did end up on one containerd.
set -euo pipefail

NAME="${1:-}"
CMD="${2:-}"
[[ "$NAME" =~ ^[a-z0-9][a-z0-9-]{0,30}$ ]] || { echo "usage: $0 NAME start|stop|kill|socket (NAME: [a-z0-9-], ≤ 31)" >&2; exit 2; }
RUN="/run/exec-stream-$NAME"
ROOT="/var/lib/exec-stream-$NAME"
SOCK="$RUN/docker.sock"
PIDFILE="$RUN/docker.pid"
LOG="/var/log/exec-stream-$NAME-dockerd.log"
IMAGE="${EXEC_BASE_IMAGE:-exec-stream/busybox:latest}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

say() { echo "[docker-engine $NAME] $*" >&2; }
dk() { docker -H "unix://$SOCK" "$@"; }
answers() { dk version --format '{{.Server.Version}}' >/dev/null 2>&1; }
pid_of() { local p; p=$(cat "$PIDFILE" 2>/dev/null || true); [ -n "$p" ] && kill -0 "$p" 2>/dev/null && echo "$p"; return 0; }

start() {
  if [ -z "$(pid_of)" ]; then
    # A killed dockerd leaves its pid file and socket; the next one would refuse to start.
    $SUDO rm -f "$PIDFILE" "$SOCK"
    $SUDO mkdir -p "$RUN" "$ROOT"
    say "starting dockerd (log: $LOG)"
    # The daemon gets no fd above 2 from us: it must not inherit a caller's lock or pipe.
    (
      for fd in /proc/$BASHPID/fd/*; do
        fd=${fd##*/}
        [ "$fd" -gt 2 ] && { eval "exec $fd>&-"; } 2>/dev/null
      done
      exec $SUDO setsid dockerd \
        --host "unix://$SOCK" --data-root "$ROOT" --exec-root "$RUN/exec" --pidfile "$PIDFILE" \
        --containerd-namespace "exec-stream-$NAME" --containerd-plugins-namespace "exec-stream-$NAME-plugins" \
        --bridge=none --iptables=false --ip6tables=false ${EXTRA_DOCKERD_ARGS:-} </dev/null >>"$LOG" 2>&1
    ) &
  fi
  for _ in $(seq 1 120); do
    answers && break
    sleep 0.5
  done
  answers || { say "dockerd did not answer; last log lines:"; tail -n 30 "$LOG" >&2; exit 1; }
  if ! dk image inspect "$IMAGE" >/dev/null 2>&1; then
    say "loading $IMAGE from the shared engine"
    docker save "$IMAGE" | dk load >/dev/null
  fi
  say "ready: $SOCK"
}

stop_with() {
  local sig="$1" pid
  pid=$(pid_of)
  [ -n "$pid" ] || { say "not running"; return 0; }
  $SUDO kill "-$sig" "$pid"
  for _ in $(seq 1 120); do
    kill -0 "$pid" 2>/dev/null || { say "dockerd $pid ended ($sig)"; return 0; }
    sleep 0.25
  done
  say "dockerd $pid still alive after $sig"; exit 1
}

case "$CMD" in
  start) start ;;
  stop) stop_with TERM ;;
  kill) stop_with KILL ;;
  socket) echo "unix://$SOCK" ;;
  *) echo "usage: $0 NAME start|stop|kill|socket" >&2; exit 2 ;;
esac
