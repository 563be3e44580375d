#!/usr/bin/env bash
# The one test command (README, .ci/run): sets up what it needs, then runs every jest project.
#   bash scripts/test.sh                  lint, then the unit project (2 workers), then e2e and reliability:
#                                         two workers on the one Docker engine, then SERIAL's files in band
#   bash scripts/test.sh <jest args>      a focused run (paths, -t, --selectProjects …), no lint; in band
#                                         unless the arguments set --maxWorkers; paths may follow the projects
# e2e and reliability build the service once per run (their globalSetup, test/support/global-setup.js).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$PATH"
jest_env() { NODE_OPTIONS="--experimental-vm-modules --disable-warning=ExperimentalWarning" "$@"; } # Jest (CommonJS mode) loads the ESM-only NestJS 12 packages through vm modules
if [ $# -gt 0 ]; then
  inband=--runInBand
  # Jest's --selectProjects takes every word after it, paths too (`npm run test:e2e -- test/x.e2e-spec.ts`
  # would run all of e2e): the project names (unit, e2e, reliability) are moved to the end.
  args=() projects=() taking=0
  for a in "$@"; do
    case $a in --maxWorkers* | -w) inband= ;; esac
    if [ "$a" = --selectProjects ]; then taking=1; continue; fi
    if [ $taking = 1 ]; then
      case $a in unit | e2e | reliability) projects+=("$a") && continue ;; esac
      taking=0
    fi
    args+=("$a")
  done
  [ ${#projects[@]} -eq 0 ] || args+=(--selectProjects "${projects[@]}")
  jest_env exec jest $inband "${args[@]}"
fi
started=$(date +%s)
phase() { echo "[test] $1 done, $(($(date +%s) - started)) s after the start" >&2; }
# The service's image (scripts/image-build.sh, once per tree), made while lint and unit run: after the
# service's build (tsc, the shim), it is mostly disk and dockerd (~48 s, 16 s of CPU on a fresh machine).
# image, testcontainers and doc-commands use it; made inside one of the two workers, it slowed both
# (docs/TOOLCHAIN.md).
image_log=$(mktemp /tmp/exec-stream-image-build.XXXXXX)
(bash scripts/build.sh && bash scripts/image-build.sh) >"$image_log" 2>&1 &
image_pid=$!
# Lint first (what `npm run lint` runs: ESLint, Prettier's check and the import rules of
# .dependency-cruiser.cjs, as `npm run depcruise` runs them), side by side.
echo "[test] lint: eslint . + prettier --check . + depcruise src" >&2
prettier --check --log-level warn . &
format_pid=$!
node_modules/.bin/node node_modules/.bin/depcruise src --config .dependency-cruiser.cjs --ignore-known &
depcruise_pid=$!
lint_rc=0
eslint . || lint_rc=$?
wait "$format_pid" || lint_rc=$?
wait "$depcruise_pid" || lint_rc=$?
if [ "$lint_rc" -ne 0 ]; then
  echo "[test] lint failed: \`npm run format\` fixes layout and fixable rules; an import rule named above is in .dependency-cruiser.cjs (docs/TOOLCHAIN.md)" >&2
  wait "$image_pid" || true # not left building behind the run
  rm -f "$image_log"
  exit "$lint_rc"
fi
phase lint
rc=0
jest_env jest --selectProjects unit --maxWorkers=2 || rc=$?
phase unit
# A failed image build is not the run's end: the files that need the image build it again and say why.
wait "$image_pid" || { echo "[test] scripts/image-build.sh failed (the image's files will try again):" >&2; tail -20 "$image_log" >&2; }
rm -f "$image_log"
phase "the image"
# Every e2e and reliability file keeps to its own containers (its replica id, labels), ports, folders
# and second engines, so two run side by side on the one engine (cluster/replicas too: its three engines,
# dnsmasq and services wait on kills and deadlines for half of its two minutes; the packed client, which
# client-package and error-details share, is made under a lock). These run after, alone:
#   bench-smoke      a benchmark: four bench programs at once keep both cores busy (it asserts what its runs
#                    checked, no figure); beside another file it made the run longer (2026-12-06: 22 min 59 s
#                    against 20 min 48 s, with cluster/replicas moved too) and that file's waits longer
#   newcomer         the demo and `npm start` on the default replica id (the host name); swaps dist/ files
#                    under other services' feet; holds setup.sh's lock free; three nested suites at once
#   reliability/fuzz bounds the service's RSS growth over thousands of calls: beside another file its
#                    calls pile up (55 s instead of 31) and the heap grows past the bound without a leak
SERIAL=(test/bench-smoke.e2e-spec.ts test/newcomer.e2e-spec.ts test/reliability/fuzz.rel-spec.ts)
ignore=/node_modules/
for f in "${SERIAL[@]}"; do ignore+="|/${f//./\\.}$"; done
# --forceExit: once every test has reported, a handle some file left open (a channel to a service it
# killed) must not keep the run from ending; a fresh run's jest once waited on one for ever.
jest_env jest --selectProjects e2e reliability --maxWorkers=2 --forceExit --testPathIgnorePatterns "$ignore" || rc=$?
phase "e2e and reliability, two workers"
jest_env jest --selectProjects e2e reliability --runInBand --forceExit --runTestsByPath "${SERIAL[@]}" || rc=$?
phase "e2e and reliability, the serial files"
bash scripts/leftover-containers.sh --remove || true # what the tests' services left stopped in the engine
exit "$rc"
