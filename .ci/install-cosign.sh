#!/usr/bin/env bash
# Tools the cosign tests need (idempotent): the CNCF distribution registry, openssl,
# node + npm, and the loopback Sigstore fixture's node packages.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v docker-registry >/dev/null 2>&1 || [ -x /usr/bin/docker-registry ] || need_apt+=(docker-registry)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
if [ ${#need_apt[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi
# The package's service would hold port 5000; tests start their own instances.
if command -v systemctl >/dev/null 2>&1; then systemctl disable --now docker-registry >/dev/null 2>&1 || true; fi

fixture=tests/fixtures/sigstore
# Reinstall whenever the lock file changed since the last install (a stale node_modules from
# an older lock would run different package versions).
stamp="$fixture/node_modules/.oxtask-lock.sha256"
want=$(sha256sum "$fixture/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  (cd "$fixture" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" > "$stamp"
fi
