#!/usr/bin/env bash
# A loopback DNS server NAME for tests: dnsmasq answering only from a conf file of srv-host= and
# host-record= lines (no upstream, no /etc/hosts; any other name is REFUSED), on 127.0.0.1:PORT (UDP and TCP).
#   dns-server.sh NAME start PORT CONF   start it (a running one is stopped first, so a new CONF applies);
#                                        installs Debian's dnsmasq-base (no system service) when missing
#   dns-server.sh NAME stop              SIGTERM and wait
# Its pid file lives in /run/exec-stream-dns-NAME/, its log is /var/log/exec-stream-dns-NAME.log.
set -euo pipefail

NAME="${1:-}"
CMD="${2:-}"
[[ "$NAME" =~ ^[a-z0-9][a-z0-9-]{0,30}$ && "$CMD" =~ ^(start|stop)$ ]] || { echo "usage: $0 NAME start PORT CONF | NAME stop (NAME: [a-z0-9-], ≤ 31)" >&2; exit 2; }
RUN="/run/exec-stream-dns-$NAME"
PIDFILE="$RUN/dnsmasq.pid"
LOG="/var/log/exec-stream-dns-$NAME.log"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

say() { echo "[dns-server $NAME] $*" >&2; }
pid_of() { local p; p=$(cat "$PIDFILE" 2>/dev/null || true); [ -n "$p" ] && kill -0 "$p" 2>/dev/null && echo "$p"; return 0; }

install_package() {
  command -v dnsmasq >/dev/null 2>&1 || [ -x /usr/sbin/dnsmasq ] && return 0
  "$(dirname "$0")/apt-install.sh" dnsmasq-base
}

stop() {
  local pid
  pid=$(pid_of)
  [ -n "$pid" ] || { $SUDO rm -f "$PIDFILE"; return 0; }
  $SUDO kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  $SUDO kill -9 "$pid" 2>/dev/null || true
  $SUDO rm -f "$PIDFILE"
}

start() {
  local port="${1:-}" conf="${2:-}"
  [[ "$port" =~ ^[0-9]{2,5}$ && -f "$conf" ]] || { echo "usage: $0 NAME start PORT CONF (CONF an existing file)" >&2; exit 2; }
  install_package
  stop
  $SUDO mkdir -p "$RUN"
  local from
  from=$(($( { wc -l <"$LOG"; } 2>/dev/null || echo 0) + 1))
  # In the foreground of its own session (it forks nothing, so its pid is its pid file's), logging to
  # stderr → LOG, and with no fd above 2 from us: it must not inherit a caller's lock or pipe.
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      [ "$fd" -gt 2 ] && { eval "exec $fd>&-"; } 2>/dev/null
    done
    exec $SUDO setsid "$(command -v dnsmasq || echo /usr/sbin/dnsmasq)" --keep-in-foreground --log-facility=- \
      --port="$port" --listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts --no-poll \
      --pid-file="$PIDFILE" --conf-file="$(realpath "$conf")" </dev/null >>"$LOG" 2>&1
  ) &
  for _ in $(seq 1 100); do
    # dnsmasq logs "started" once its sockets are bound; it exits on a bad conf or a taken port.
    tail -n "+$from" "$LOG" 2>/dev/null | grep -q 'started, version' && [ -n "$(pid_of)" ] && { say "ready: 127.0.0.1:$port (log: $LOG)"; return 0; }
    tail -n "+$from" "$LOG" 2>/dev/null | grep -qE 'FAILED|failed|bad |error' && break
    sleep 0.05
  done
  say "dnsmasq did not start; its log:"
  tail -n "+$from" "$LOG" >&2 || true
  stop
  exit 1
}

case "$CMD" in
  start) start "${3:-}" "${4:-}" ;;
  stop) stop ;;
esac
