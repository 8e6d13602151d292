#!/usr/bin/env bash
# Tools for the up-to-date tests and bench/bench.py: go-task 3.54.0 (differential test in
# tests/fingerprint_vs_go_task.rs, benchmark baseline) and hyperfine (benchmark timing).
# Idempotent.
set -euo pipefail

if ! command -v task >/dev/null 2>&1 || ! task --version 2>/dev/null | grep -q '3\.54\.0'; then
    python3 -m pip install --quiet 'go-task-bin==3.54.0'
fi

if ! command -v hyperfine >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1; then
        SUDO=""
        [ "$(id -u)" -ne 0 ] && SUDO="sudo"
        $SUDO apt-get update -qq >/dev/null
        $SUDO apt-get install -y -qq hyperfine >/dev/null
    fi
fi
