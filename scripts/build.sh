#!/usr/bin/env bash
# Builds dist/ from src/ and bench/ (tsc -p tsconfig.build.json, incremental), then removes what no
# source produces any more: a stale dist/src/exec/session.js would shadow dist/src/exec/session/index.js
# for require('./session'). Used by npm run build / start, the demo, the benchmarks and the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
# The compilers run unless every input is as at the last build that succeeded (sha256 of the sources,
# the configs, the lockfile and these scripts, kept in dist/): a build with nothing to do takes a
# fraction of a second instead of two tsc runs (the tests and the npm scripts build again and again).
# test/support counts: bench/ imports fixtures from it (tar.ts, retained-sessions.ts), built to dist/test/.
stamp=dist/.build-inputs.sha256
inputs=$(find src bench test/support packages/client/src proto/exec.proto packages/client/package.json packages/client/tsconfig.json \
  tsconfig.json tsconfig.build.json package.json package-lock.json scripts/build.sh scripts/build-client.sh -type f -print0 |
  sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
# tsc builds incrementally from a .tsbuildinfo listing what it emitted: an output deleted since (by hand,
# or a dist/ copied without it) would never be written again, and the build would pass without it. An
# output missing for any source makes that compiler start over.
missing_output() { # SRC OUT: true when some SRC/**/x.ts (not a spec) has no OUT/**/x.js
  local ts
  while IFS= read -r -d '' ts; do
    ts=${ts#"$1"/}
    [ -f "$2/${ts%.ts}.js" ] || return 0
  done < <(find "$1" -name '*.ts' ! -name '*.spec.ts' ! -name '*.d.ts' -print0)
  return 1
}
if missing_output src dist/src || missing_output bench dist/bench; then rm -f "$stamp" dist/.tsbuildinfo; fi
if missing_output packages/client/src packages/client/dist; then rm -f "$stamp" packages/client/dist/.tsbuildinfo; fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$inputs" ] || [ ! -f dist/src/main.js ] || [ ! -f packages/client/dist/index.js ] ||
  [ ! -e node_modules/.bin/exec-stream ]; then
  rm -f "$stamp"
  bash scripts/build-client.sh
  node_modules/.bin/tsc -p tsconfig.build.json
  echo "$inputs" >"$stamp"
fi
bash scripts/build-shim.sh
for top in src bench test; do
  [ -d "dist/$top" ] || continue
  find "dist/$top" -name '*.js' -print0 | while IFS= read -r -d '' js; do
    rel=${js#dist/}
    [ -f "${rel%.js}.ts" ] || rm -f "$js" "$js.map"
  done
  find "dist/$top" -type d -empty -delete
done
