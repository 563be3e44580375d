#!/usr/bin/env bash
# How the built service runs (npm start, the demo, the benchmarks; a container image's CMD would be
# the same line). The Node flag is part of the service, not a tuning knob:
#   --max-semi-space-size=4  output flows through short-lived Buffers whose memory is released only when
#                            their small wrappers are collected; a small young generation collects them
#                            sooner. Measured with 256 MiB of output (docs/BENCHMARKS.md): peak RSS
#                            ~280 MiB by default, 215 MiB at 4 (throughput unchanged), 175 MiB at 1
#                            (throughput -10 %). V8 sizes it at start-up, so it must be a flag here;
#                            the other GC setting is set in src/main.ts.
# EXEC_NODE_ARGS adds more flags (the benchmarks' --cpu-prof). The Node is always the project's Node 24 from
# node_modules, never $NODE: npm sets NODE to its own (the system's Node 20) for every script.
set -euo pipefail
cd "$(dirname "$0")/.."
exec node_modules/.bin/node --max-semi-space-size=4 ${EXEC_NODE_ARGS:-} dist/src/main.js "$@"
