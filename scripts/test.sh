#!/usr/bin/env bash
# The one test command (README, .ci/run): sets up what it needs, then runs every jest project.
# e2e suites share one Docker engine and two cores, so they run one at a time (--runInBand).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$PATH"
# Lint first (what `npm run lint` runs: ESLint, and Prettier's check), side by side, on a full run
# (`npm test`, CI); a run given jest arguments (paths, -t, --selectProjects) is focused and skips it.
if [ $# -eq 0 ]; then
  echo "[test] lint: eslint . + prettier --check ." >&2
  prettier --check --log-level warn . &
  format_pid=$!
  lint_rc=0
  eslint . || lint_rc=$?
  wait "$format_pid" || lint_rc=$?
  if [ "$lint_rc" -ne 0 ]; then
    echo "[test] lint failed: \`npm run format\` fixes layout and fixable rules (docs/TOOLCHAIN.md)" >&2
    exit "$lint_rc"
  fi
fi
# Jest (CommonJS mode) loads the ESM-only NestJS 12 packages through vm modules.
export NODE_OPTIONS="--experimental-vm-modules --disable-warning=ExperimentalWarning"
exec jest --runInBand "$@"
