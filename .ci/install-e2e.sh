#!/usr/bin/env bash
# Tools the end-to-end tests (tests/e2e_*.rs) need, idempotent: the CNCF distribution
# registry, skopeo (independent reader of registries and OCI layouts), node + npm and the
# loopback Sigstore fixture's packages, go-task via install-gotask.sh. helm and cosign are deliberately NOT installed:
# the seed test asserts they are absent from its PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v docker-registry >/dev/null 2>&1 || [ -x /usr/bin/docker-registry ] || need_apt+=(docker-registry)
command -v skopeo >/dev/null 2>&1 || need_apt+=(skopeo)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
command -v awk >/dev/null 2>&1 || need_apt+=(gawk)
if [ ${#need_apt[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi
# The registry package may start a service on :5000; the tests start their own on free ports.
if command -v systemctl >/dev/null 2>&1; then systemctl disable --now docker-registry >/dev/null 2>&1 || true; fi

# go-task 3.54.0 (the example must stay valid for it): .ci/install-gotask.sh.

fixture=tests/fixtures/sigstore
if [ ! -d "$fixture/node_modules/@sigstore/mock" ]; then
  (cd "$fixture" && npm ci --no-audit --no-fund --loglevel=error)
fi
