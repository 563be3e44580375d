#!/usr/bin/env bash
# Everything a fresh machine of this kind needs before the service or its tests can run:
# node_modules (with the Node 24 binary, see docs/TOOLCHAIN.md), jemalloc (the service's allocator) and
# a Docker engine with the base images. Idempotent and quick when all is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

# Several test runs may start at once (developers' parallel runs): one installs, the others wait.
# The lock is held only around the install, in a subshell, so that no daemon started later (dockerd
# by docker-up.sh) inherits it: a daemon holding fd 9 would hold the lock for ever.
stamp=node_modules/.exec-stream-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
(
  flock 9
  if [ ! -x node_modules/.bin/node ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "[setup] npm ci" >&2
    npm ci --no-audit --no-fund --loglevel=error >&2
    echo "$want" >"$stamp"
  fi
) 9>/tmp/exec-stream-setup.lock
node_modules/.bin/node -e 'const [M,m]=process.versions.node.split(".").map(Number); if (M<24||(M===24&&m<9)) { console.error("[setup] node_modules/.bin/node is "+process.version+"; need >= 24.9"); process.exit(1) }'

# The service's allocator (scripts/serve.sh preloads it; the image carries it too).
bash scripts/apt-install.sh libjemalloc2
bash scripts/docker-up.sh
