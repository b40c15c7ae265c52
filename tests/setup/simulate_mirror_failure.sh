#!/usr/bin/env bash
# Shows that scripts/setup.sh survives a package mirror caught mid-sync (run as root, by hand: it
# removes and reinstalls one small package and adds, then removes, one apt source):
#   1. On a machine with no package lists yet (as CI's fresh ones), `apt-get update` fails once
#      as a mirror mid-sync makes it fail (exit 100), then works: setup retries and installs.
#   2. An index that the needed packages do not come from fails every time (a local repository
#      whose Release file promises a Packages file of another size, the mid-sync symptom): setup
#      warns and goes on, because every needed package is installable without it.
#   3. A package that no index has: the update step fails, naming it.
set -euo pipefail
cd "$(dirname "$0")/../.."
export TERRA_APT_PAUSE=${TERRA_APT_PAUSE:-2} TERRA_APT_TRIES=${TERRA_APT_TRIES:-3}
victim=libcli11-dev  # header-only, needed by the build
work=$(mktemp -d)
server=""
cleanup() {
  rm -f /etc/apt/sources.list.d/terra-mid-sync.list
  [[ -n "$server" ]] && kill "$server" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# 1. An apt-get whose first `update` fails like a mirror mid-sync; everything else is the real one.
mkdir -p "$work/shim"
cat > "$work/shim/apt-get" <<SHIM
#!/bin/sh
if [ "\$1" = update ] && [ ! -e "$work/failed-once" ]; then
  touch "$work/failed-once"
  echo "E: Failed to fetch http://deb.debian.org/debian/dists/bookworm/main/binary-amd64/Packages.xz  File has unexpected size (1234 != 5678). Mirror sync in progress? [IP: 127.0.0.1 80]" >&2
  exit 100
fi
exec /usr/bin/apt-get "\$@"
SHIM
chmod +x "$work/shim/apt-get"
echo "== 1. apt-get update fails once, on a machine without package lists"
apt-get remove -y -qq "$victim" >/dev/null
find /var/lib/apt/lists -maxdepth 1 -type f -name '*_Packages*' -delete  # as a fresh machine
PATH="$work/shim:$PATH" ./scripts/setup.sh
dpkg-query -W -f='${Status}\n' "$victim" | grep -q "install ok installed"
echo "== 1. ok: $victim installed after a failed update"

# 2. A repository caught mid-sync, served on loopback.
repo=$work/repo/dists/midsync
mkdir -p "$repo/main/binary-amd64"
echo "Package: terra-demo" > "$repo/main/binary-amd64/Packages"
cat > "$repo/Release" <<REL
Suite: midsync
Codename: midsync
Architectures: amd64
Components: main
Date: $(date -Ru)
SHA256:
 0000000000000000000000000000000000000000000000000000000000000000 999 main/binary-amd64/Packages
REL
(cd "$work/repo" && exec python3 -m http.server 8765 --bind 127.0.0.1 >/dev/null 2>&1) &
server=$!
sleep 1
echo "deb [trusted=yes] http://127.0.0.1:8765 midsync main" > /etc/apt/sources.list.d/terra-mid-sync.list
echo "== 2. an index the needed packages do not come from fails every time"
if apt-get update -qq >/dev/null 2>&1; then echo "== 2. (apt-get update did not fail: the simulation is broken)"; exit 1; fi
apt-get remove -y -qq "$victim" >/dev/null
./scripts/setup.sh
dpkg-query -W -f='${Status}\n' "$victim" | grep -q "install ok installed"
echo "== 2. ok: $victim installed; the failing index was a warning"

echo "== 3. a package that no index has"
if (source scripts/apt.sh && apt_update terra-no-such-package); then echo "== 3. FAILED: no error"; exit 1; fi
echo "== 3. ok: refused, naming the package"
