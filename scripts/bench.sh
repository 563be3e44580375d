#!/usr/bin/env bash
# npm run bench [-- --mode=quick|full|smoke --s1-bytes=256M --scenarios=1,4 …]
# Sets up (node_modules, dockerd, base image), builds src/ and bench/, runs the scenarios against the
# service as a child process and the docker CLI as baseline. Sizes: bench/config.ts (BENCH_* env vars
# or flags). Results: terminal table and .data/bench/<date>-<mode>.json; with --write-docs (recording a
# run for the project) bench/results/<date>-<mode>.json and docs/BENCHMARKS.md's generated block.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >&2
export PATH="$PWD/node_modules/.bin:$PATH"
bash scripts/build.sh
exec node dist/bench/main.js "$@"
