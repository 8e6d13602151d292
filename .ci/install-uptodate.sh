#!/usr/bin/env bash
# Tools for the up-to-date tests and bench/bench.py: go-task 3.54.0 (install-gotask.sh) and
# hyperfine (benchmark timing).
# Idempotent.
set -euo pipefail

bash "$(dirname "$0")/install-gotask.sh"

if ! command -v hyperfine >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1; then
        SUDO=""
        [ "$(id -u)" -ne 0 ] && SUDO="sudo"
        $SUDO apt-get update -qq >/dev/null
        $SUDO apt-get install -y -qq hyperfine >/dev/null
    fi
fi
