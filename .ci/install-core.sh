#!/usr/bin/env bash
# The core runner's tests need bash (commands run in it) and python3 (vector runners).
set -euo pipefail
command -v bash >/dev/null
command -v python3 >/dev/null
