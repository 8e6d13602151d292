#!/usr/bin/env bash
# Real cosign binaries (v3 from Debian unstable, v2 from Debian 13) as independent oracles for the
# interop tests: they verify what oxtask signs, and sign what oxtask must verify. The base system
# has no cosign package, so the newer suites are read through apt with a private sources list made
# from the system's own (same mirror, same archive keyring), and the .debs unpacked, not installed.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.ci/tools
have() { [ -x "$dest/$1/usr/bin/cosign" ] && "$dest/$1/usr/bin/cosign" version >/dev/null 2>&1; }
if have cosign3 && have cosign2; then exit 0; fi

command -v apt-get >/dev/null || { echo "install-cosign-real: apt-get is required" >&2; exit 1; }
src=/etc/apt/sources.list.d/debian.sources
[ -f "$src" ] || { echo "install-cosign-real: $src not found" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
# First stanza of the system's sources (the main archive), with the suites swapped.
awk 'BEGIN{RS="";ORS="\n\n"} NR==1' "$src" | grep -v '^#' |
  sed -E 's/^Suites:.*/Suites: trixie sid/' > "$work/sources.sources"
opts=(-o "Dir::Etc::SourceList=$work/sources.sources" -o Dir::Etc::SourceParts=/dev/null
      -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o APT::Get::List-Cleanup=0 -o APT::Sandbox::User=root)
apt-get "${opts[@]}" update -qq
fetch() { # suite target
  local ver
  ver=$(apt-cache "${opts[@]}" madison cosign | awk -F'|' -v s="$1" '$3 ~ "/"s"/" || $3 ~ " "s"/" {gsub(/ /,"",$2); print $2; exit}')
  [ -n "$ver" ] || { echo "install-cosign-real: no cosign in $1" >&2; exit 1; }
  (cd "$work" && apt-get "${opts[@]}" download -qq "cosign=$ver")
  rm -rf "$dest/$2"; mkdir -p "$dest/$2"
  dpkg-deb -x "$work"/cosign_*.deb "$dest/$2"
  rm -f "$work"/cosign_*.deb
  echo "cosign $ver → $dest/$2"
}
fetch sid cosign3
fetch trixie cosign2
have cosign3 && have cosign2
