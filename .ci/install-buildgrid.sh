#!/usr/bin/env bash
# BuildGrid 0.4.4 (Apache-2.0), the real REAPI server tests/cache_reapi.rs starts on loopback with
# an in-memory CAS and ActionCache. Installed into its own venv under .ci/tools/ (gitignored) so
# its pinned dependencies never touch the system Python. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.ci/tools/buildgrid
want=0.4.4
if [ -x "$venv/bin/bgd" ] && [ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("buildgrid"))' 2>/dev/null)" = "$want" ]; then
  exit 0
fi
command -v python3 >/dev/null 2>&1 || {
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends python3 python3-venv
}
rm -rf "$venv"
mkdir -p .ci/tools
if ! python3 -m venv "$venv"; then
  # Debian's python3 needs its venv module packaged separately.
  rm -rf "$venv"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends python3-venv
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check "buildgrid==$want"
"$venv/bin/bgd" --help >/dev/null
