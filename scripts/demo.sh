#!/usr/bin/env bash
# The main job on a fresh machine: install what is needed, start the service, and run a command in a
# container through the exec-stream CLI (its output as produced, its exit code, a second client). The service
# stops when the demo ends unless DEMO_KEEP_RUNNING=1 (then Ctrl-C stops it). Exits with the command's
# exit code, like `docker run`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$PATH"
bash scripts/build.sh

export EXEC_LISTEN="${EXEC_LISTEN:-127.0.0.1:50051}"
export EXEC_DATA_DIR="${EXEC_DATA_DIR:-$PWD/.data}"
log="${EXEC_DATA_DIR}/service.log"
mkdir -p "$EXEC_DATA_DIR"
bash scripts/serve.sh >"$log" 2>&1 &
service=$!
trap 'kill -TERM $service 2>/dev/null || true; wait $service 2>/dev/null || true' EXIT

# Ready when the gRPC health service answers SERVING (enums as names: SERVING, not 1); never ready = stop.
ready=0
for _ in $(seq 1 100); do
  if node -e '
    const grpc = require("@grpc/grpc-js"); const loader = require("@grpc/proto-loader");
    const def = loader.loadSync(require.resolve("grpc-health-check/proto/health/v1/health.proto"), { enums: String });
    const H = grpc.loadPackageDefinition(def).grpc.health.v1.Health;
    new H(process.env.EXEC_LISTEN, grpc.credentials.createInsecure()).check({ service: "" }, (e, r) => process.exit(!e && r.status === "SERVING" ? 0 : 1));
  ' 2>/dev/null; then ready=1; break; fi
  kill -0 $service 2>/dev/null || { echo "service exited; its log:" >&2; cat "$log" >&2; exit 1; }
  sleep 0.2
done
[ "$ready" = 1 ] || { echo "the service never answered SERVING on $EXEC_LISTEN; its log:" >&2; cat "$log" >&2; exit 1; }
echo "[demo] exec-stream listening on $EXEC_LISTEN (log: $log)"
# The demo is the CLI (docs/CLI.md): start a command, follow it live, then read it again as a second
# client. It exits with the command's exit code (125 if the CLI or the service failed).
image="${EXEC_BASE_IMAGE:-exec-stream/busybox:latest}"
script="${*:-for i in 1 2 3 4 5; do echo \"line \$i from \$(hostname)\"; [ \$i = 3 ] && echo \"a warning on stderr\" >&2; sleep 0.4; done}"
cli() { node packages/client/dist/cli/main.js --addr "$EXEC_LISTEN" "$@"; }
rc=0
echo "[demo] \$ exec-stream run -d $image sh -c '$script'"
if session=$(cli run -d "$image" sh -c "$script"); then
  echo "[demo] session $session; following it: exec-stream attach $session"
  cli attach "$session" || rc=$?
  echo "[demo] exit code $rc"
  echo "[demo] a second client, after the exit: exec-stream logs $session"
  cli logs "$session" | sed 's/^/[demo]   | /' || true
else
  rc=$?
fi
if [ "${DEMO_KEEP_RUNNING:-0}" = 1 ]; then
  echo "[demo] service keeps running; Ctrl-C stops it"
  wait $service || true
fi
exit $rc
