#!/usr/bin/env bash
# A loopback image registry for tests: Debian's docker-registry (the CNCF distribution registry) with
# htpasswd (bcrypt) auth, plain HTTP on 127.0.0.1:PORT (Docker treats 127.0.0.0/8 registries as insecure,
# so it pulls and pushes over HTTP without configuration).
#   registry.sh start PORT USER PASSWORD   start it (idempotent: a running one on PORT is kept, its
#                                          password file rewritten); installs docker-registry and
#                                          apache2-utils (htpasswd) when missing; prints 127.0.0.1:PORT
#   registry.sh stop PORT                  SIGTERM and wait; its config, data and log are removed
# Everything of the registry on PORT lives in /tmp/exec-stream-registry-PORT (config.yml, htpasswd,
# data/, registry.log, pid).
set -euo pipefail

CMD="${1:-}"
PORT="${2:-}"
[[ "$CMD" =~ ^(start|stop)$ && "$PORT" =~ ^[0-9]{2,5}$ ]] || { echo "usage: $0 start PORT USER PASSWORD | stop PORT" >&2; exit 2; }
DIR="/tmp/exec-stream-registry-$PORT"
PIDFILE="$DIR/pid"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

say() { echo "[registry $PORT] $*" >&2; }
pid_of() { local p; p=$(cat "$PIDFILE" 2>/dev/null || true); [ -n "$p" ] && kill -0 "$p" 2>/dev/null && echo "$p"; return 0; }
# The registry answers /v2/ with 401 when auth is on and it is up.
answers() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/v2/" 2>/dev/null || true)" = "401" ]; }

install_packages() {
  local missing=()
  command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
  command -v htpasswd >/dev/null 2>&1 || missing+=(apache2-utils)
  [ ${#missing[@]} -eq 0 ] && return 0
  "$(dirname "$0")/apt-install.sh" "${missing[@]}"
}

start() {
  local user="${1:-}" password="${2:-}"
  [ -n "$user" ] && [ -n "$password" ] || { echo "usage: $0 start PORT USER PASSWORD" >&2; exit 2; }
  install_packages
  mkdir -p "$DIR/data"
  htpasswd -Bbc "$DIR/htpasswd" "$user" "$password" 2>/dev/null
  if [ -n "$(pid_of)" ] && answers; then
    say "already running"
    echo "127.0.0.1:$PORT"
    return 0
  fi
  cat > "$DIR/config.yml" <<YAML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $DIR/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$PORT
  secret: $(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
auth:
  htpasswd:
    realm: exec-stream-test
    path: $DIR/htpasswd
YAML
  # Detached, no fd of ours inherited (setsid; stdin from /dev/null, output to its log).
  setsid docker-registry serve "$DIR/config.yml" </dev/null >"$DIR/registry.log" 2>&1 &
  echo $! > "$PIDFILE"
  for _ in $(seq 1 200); do
    answers && { echo "127.0.0.1:$PORT"; return 0; }
    [ -n "$(pid_of)" ] || break
    sleep 0.05
  done
  say "did not start; its log:"
  tail -20 "$DIR/registry.log" >&2 || true
  exit 1
}

stop() {
  local pid
  pid=$(pid_of)
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -rf "$DIR"
}

case "$CMD" in
  start) start "${3:-}" "${4:-}" ;;
  stop) stop ;;
esac
