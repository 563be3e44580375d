#!/usr/bin/env bash
# Compiles the in-container output recorder (src/executor/docker/shim/exec-stream-shim.c) into a static
# binary beside the service's compiled code, dist/src/executor/docker/shim/exec-stream-shim, which the
# service puts into every run container (docs/DURABILITY.md). With musl-gcc (Debian's musl-tools and
# gcc, installed here when missing) it is ~65 KB; where musl cannot be had, gcc -static makes it ~800 KB.
# Does nothing when the binary is newer than its source.
set -euo pipefail
cd "$(dirname "$0")/.."
src=src/executor/docker/shim/exec-stream-shim.c
out=dist/src/executor/docker/shim/exec-stream-shim
[ -x "$out" ] && [ "$out" -nt "$src" ] && exit 0
pkgs=()
command -v musl-gcc >/dev/null 2>&1 || pkgs+=(musl-tools)
command -v gcc >/dev/null 2>&1 || pkgs+=(gcc) # musl-gcc drives gcc
if [ ${#pkgs[@]} -gt 0 ]; then
  scripts/apt-install.sh "${pkgs[@]}" || echo "[build-shim] ${pkgs[*]} could not be installed" >&2
fi
cc=gcc
command -v musl-gcc >/dev/null 2>&1 && cc=musl-gcc
mkdir -p "$(dirname "$out")"
tmp=$(mktemp "$out.XXXXXX")
trap 'rm -f "$tmp"' EXIT
"$cc" -O2 -static -Wall -Wextra -o "$tmp" "$src"
strip "$tmp" 2>/dev/null || true
chmod 0755 "$tmp"
mv -f "$tmp" "$out"
trap - EXIT
