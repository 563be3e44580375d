#!/usr/bin/env bash
# The one test command (README, .ci/run): sets up what it needs, then runs every jest project.
# e2e suites share one Docker engine and two cores, so they run one at a time (--runInBand).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$PATH"
# Jest (CommonJS mode) loads the ESM-only NestJS 12 packages through vm modules.
export NODE_OPTIONS="--experimental-vm-modules --disable-warning=ExperimentalWarning"
exec jest --runInBand "$@"
