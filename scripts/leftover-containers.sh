#!/usr/bin/env bash
# The stopped containers a test's service left in the engine (a service a test kills does not remove its
# own): the service's label, replica e2e-…-<pid>, and that test process gone. Any other's (a bench's, a
# test run's beside this one whose workers live, a developer's service) are not among them.
#   bash scripts/leftover-containers.sh            their ids, one a line
#   bash scripts/leftover-containers.sh --remove   removes them (scripts/test.sh, at the end of a full run)
set -uo pipefail
ids=$(docker ps -a --no-trunc --filter label=exec-stream.managed=true --filter status=exited --filter status=created \
  --format '{{.ID}} {{.Label "exec-stream.replica"}}' |
  while read -r id replica; do
    if [[ $replica =~ ^e2e-.*-([0-9]+)$ ]] && ! kill -0 "${BASH_REMATCH[1]}" 2>/dev/null; then echo "$id"; fi
  done)
[ -n "$ids" ] || exit 0
if [ "${1:-}" = --remove ]; then
  echo "[test] removing $(wc -l <<<"$ids") stopped containers the tests' services left in the engine" >&2
  xargs docker rm -f <<<"$ids" >/dev/null
else
  echo "$ids"
fi
