# apt-get that survives a package mirror caught mid-sync. Sourced by scripts/setup.sh and
# toolchains/make_sysroot.sh:
#   apt_update PKG...     refresh the indexes until every PKG has an install candidate; an index
#                         that fails is only a warning when every PKG is installable without it
#   apt_install PKG...    install PKG... (retried)
#   apt_download PKG...   download the .deb files into the current folder (retried)
# A mirror mid-sync makes one index fail ("File has unexpected size ... Mirror sync in
# progress?", exit 100) and a try minutes later passes: each step is retried with a growing
# pause. TERRA_APT_TRIES (default 5) and TERRA_APT_PAUSE (first pause in seconds, default 15,
# doubled each time: 15+30+60+120 s at most) tune it.

APT_SUDO=""
if [[ $(id -u) -ne 0 ]]; then APT_SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

# _apt_retry WHAT CMD...: runs CMD until it succeeds, TERRA_APT_TRIES times at most.
_apt_retry() {
  local what=$1; shift
  local tries=${TERRA_APT_TRIES:-5} pause=${TERRA_APT_PAUSE:-15} try
  for ((try = 1; ; try++)); do
    if "$@"; then return 0; fi
    if ((try >= tries)); then
      echo "apt: $what failed $tries times" >&2
      return 1
    fi
    echo "apt: $what failed (try $try of $tries); retrying in ${pause}s" >&2
    sleep "$pause"
    pause=$((pause * 2))
  done
}

# True when apt knows a version of every package it is given (name or name:arch).
_apt_all_installable() {
  local p candidate ok=0
  for p in "$@"; do
    candidate=$(apt-cache policy "$p" 2>/dev/null | sed -n 's/^ *Candidate: *//p')
    if [[ -z "$candidate" || "$candidate" == "(none)" ]]; then
      echo "apt: no installable version of $p in the package indexes" >&2
      ok=1
    fi
  done
  return $ok
}

_apt_update_once() {
  if $APT_SUDO apt-get update -qq; then
    # apt-get exits 0 with only a warning for some index failures: check the packages are there.
    _apt_all_installable "$@"
    return
  fi
  if _apt_all_installable "$@" 2>/dev/null; then
    # An index failed, but the packages needed here do not come from it: no reason to stop.
    echo "apt: warning: some package indexes could not be refreshed; the ones needed here are available, going on" >&2
    return 0
  fi
  return 1
}

apt_update() {
  if _apt_retry "apt-get update" _apt_update_once "$@"; then return 0; fi
  _apt_all_installable "$@" || true  # name what is missing
  return 1
}

# A failed install or download may come from indexes that name files the mirror no longer has:
# refresh them (quietly, whatever the outcome) before the next try.
_apt_refresh_after() {
  if "$@"; then return 0; fi
  $APT_SUDO apt-get update -qq >/dev/null 2>&1 || true
  return 1
}

apt_install() {
  _apt_retry "apt-get install $*" _apt_refresh_after $APT_SUDO apt-get install -y -qq --no-install-recommends "$@"
}

apt_download() {
  # (As root, apt's download sandbox user cannot write to the current folder: download as root.)
  _apt_retry "apt-get download $*" _apt_refresh_after apt-get download -qq -o APT::Sandbox::User=root "$@"
}
