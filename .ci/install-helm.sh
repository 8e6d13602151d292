#!/usr/bin/env bash
# Tools the native helm / OCI tests need (idempotent). The tests fail under CI=true when
# one is missing, and skip with a reason otherwise.
set -euo pipefail
need_apt=()
command -v docker-registry >/dev/null 2>&1 || need_apt+=(docker-registry)
command -v skopeo >/dev/null 2>&1 || need_apt+=(skopeo)
command -v gpg >/dev/null 2>&1 || need_apt+=(gnupg)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3 python3-pip)
if [ ${#need_apt[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}"
fi
# The registry package may start a system service on :5000; the tests use their own ports.
# helm-python-sdk embeds real Helm (v4.2.3) code: the packaging-parity oracle.
if ! python3 -c 'import helm_python' >/dev/null 2>&1; then
  python3 -m pip install --quiet helm-python-sdk==0.2.2 || pip install --quiet helm-python-sdk==0.2.2
fi
