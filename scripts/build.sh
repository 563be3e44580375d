#!/usr/bin/env bash
# Builds dist/ from src/ and bench/ (tsc -p tsconfig.build.json, incremental), then removes what no
# source produces any more: a stale dist/src/exec/session.js would shadow dist/src/exec/session/index.js
# for require('./session'). Used by npm run build / start, the demo, the benchmarks and the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-client.sh
node_modules/.bin/tsc -p tsconfig.build.json
bash scripts/build-shim.sh
for top in src bench; do
  [ -d "dist/$top" ] || continue
  find "dist/$top" -name '*.js' -print0 | while IFS= read -r -d '' js; do
    rel=${js#dist/}
    [ -f "${rel%.js}.ts" ] || rm -f "$js" "$js.map"
  done
  find "dist/$top" -type d -empty -delete
done
