#!/usr/bin/env bash
# Builds the client package (packages/client, @exec-stream/client): its own copy of proto/exec.proto and
# of the vendored google/rpc protos of status details (shipped in the tarball; the repository's proto/
# stays the one contract) and dist/ by tsc (incremental, with type declarations); a dist file whose
# source is gone is removed. scripts/build.sh runs it first: the service, the tests, the demo and the
# benchmarks load the client through the workspace link node_modules/@exec-stream/client, whose
# exports point at dist/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
pkg="$root/packages/client"
for f in exec.proto google/rpc/status.proto google/rpc/error_details.proto; do
  mkdir -p "$(dirname "$pkg/proto/$f")"
  cmp -s "$root/proto/$f" "$pkg/proto/$f" || cp "$root/proto/$f" "$pkg/proto/$f"
done
"$root/node_modules/.bin/tsc" -p "$pkg/tsconfig.json"
find "$pkg/dist" -name '*.js' -print0 | while IFS= read -r -d '' js; do
  rel=${js#"$pkg/dist/"}
  [ -f "$pkg/src/${rel%.js}.ts" ] || rm -f "$js" "$js.map" "${js%.js}.d.ts"
done
find "$pkg/dist" -type d -empty -delete
# The CLI (the package's bin): executable, and linked as node_modules/.bin/exec-stream. npm links a
# workspace's bin only when its target exists at install time, which on a fresh clone (npm ci before
# any build) it does not.
if [ -f "$pkg/dist/cli/main.js" ]; then
  chmod +x "$pkg/dist/cli/main.js"
  [ -e "$root/node_modules/.bin/exec-stream" ] || ln -sfn ../@exec-stream/client/dist/cli/main.js "$root/node_modules/.bin/exec-stream"
fi
