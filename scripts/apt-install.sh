#!/usr/bin/env bash
# Installs Debian packages the scripts and tests need: `scripts/apt-install.sh PKG...`.
# Idempotent and safe on a machine that was cut off mid-install: packages already installed are
# skipped; a dpkg left interrupted (a machine stopped during an earlier install) is configured first,
# as apt itself demands; the dpkg lock is waited for (another install running) rather than failed on;
# the package lists are fetched only when an install from the current lists fails. Installs by this
# project are serialized by a lock held only around apt (no daemon started here inherits it).
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 PKG..." >&2; exit 2; }
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive

missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "[apt-install] installing ${missing[*]}" >&2

lock=/var/lock/exec-stream-apt.lock
apt_opts=(-y -qq --no-install-recommends -o DPkg::Lock::Timeout=600)
run() { $SUDO flock -w 900 "$lock" "$@"; }

# "dpkg was interrupted, you must manually run 'dpkg --configure -a'": apt refuses every install until
# it has been done.
if [ -n "$(dpkg --audit 2>/dev/null)" ] || [ -n "$(ls -A /var/lib/dpkg/updates 2>/dev/null)" ]; then
  echo "[apt-install] an earlier install was interrupted; configuring what it left" >&2
  run env DEBIAN_FRONTEND=noninteractive dpkg --configure -a --force-confdef --force-confold >/dev/null 2>&1 || true
fi
if ! run env DEBIAN_FRONTEND=noninteractive apt-get install "${apt_opts[@]}" "${missing[@]}" >/dev/null 2>&1; then
  run apt-get update -qq -o DPkg::Lock::Timeout=600 >/dev/null 2>&1 || true
  run env DEBIAN_FRONTEND=noninteractive apt-get install "${apt_opts[@]}" "${missing[@]}" >/dev/null
fi
