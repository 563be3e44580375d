#!/usr/bin/env bash
# How the built service runs (npm start, the demo, the benchmarks; a container image's CMD would be
# the same line). The Node flag is part of the service, not a tuning knob:
#   --max-semi-space-size=4  output flows through short-lived Buffers whose memory is released only when
#                            their small wrappers are collected; a small young generation collects them
#                            sooner. Measured with 256 MiB of output (docs/BENCHMARKS.md): peak RSS
#                            ~280 MiB by default, 215 MiB at 4 (throughput unchanged), 175 MiB at 1
#                            (throughput -10 %). V8 sizes it at start-up, so it must be a flag here;
#                            the other GC setting is set in src/main.ts.
# So is the allocator: Buffers' memory comes from malloc, and after a burst of output (clients replaying
# a session from disk) glibc's malloc keeps the freed pages; jemalloc gives them back (measured:
# docs/BENCHMARKS.md "The allocator"), with
#   background_thread:true   a thread of its own returns them (after jemalloc's 10 s decay) also while
#                            the service is idle. A faster decay (1 s, no lazily freed pages) returned
#                            them sooner but cost ~12 % more CPU in the tests' short sessions.
# EXEC_ALLOCATOR picks it:
#   jemalloc  (the default) Debian's libjemalloc2 (scripts/setup.sh installs it; the image carries it);
#             where the library is missing the service runs on glibc's malloc and this script says so.
#             A MALLOC_CONF already set is kept.
#   system    glibc's malloc (the benchmarks' comparison: --server-env=EXEC_ALLOCATOR=system); a jemalloc
#             preloaded from outside (LD_PRELOAD) is taken off.
# EXEC_NODE_ARGS adds more flags (the benchmarks' --cpu-prof). The Node is always the project's Node 24 from
# node_modules, never $NODE: npm sets NODE to its own (the system's Node 20) for every script.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${EXEC_ALLOCATOR:-jemalloc}" in
  jemalloc)
    # The package's own file (the machine's architecture) where dpkg knows it, else the usual places.
    lib=$({ dpkg -L libjemalloc2 2>/dev/null || ls /usr/lib/*/libjemalloc.so.2 /usr/lib/libjemalloc.so.2 2>/dev/null; } | grep -m 1 '/libjemalloc\.so\.2$' || true)
    if [ -n "$lib" ]; then
      export LD_PRELOAD="$lib${LD_PRELOAD:+:$LD_PRELOAD}"
      export MALLOC_CONF="${MALLOC_CONF:-background_thread:true}"
    else
      echo "[serve] libjemalloc.so.2 not found (Debian: apt-get install libjemalloc2): running on glibc's malloc" >&2
    fi
    ;;
  system)
    LD_PRELOAD=$(printf '%s' "${LD_PRELOAD:-}" | tr ': ' '\n\n' | { grep -v '/libjemalloc\.so' || true; } | paste -s -d : -)
    if [ -n "$LD_PRELOAD" ]; then export LD_PRELOAD; else unset LD_PRELOAD; fi
    ;;
  *)
    echo "[serve] EXEC_ALLOCATOR=${EXEC_ALLOCATOR}: expected jemalloc or system" >&2
    exit 2
    ;;
esac
exec node_modules/.bin/node --max-semi-space-size=4 ${EXEC_NODE_ARGS:-} dist/src/main.js "$@"
