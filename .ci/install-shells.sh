#!/usr/bin/env bash
# zsh and fish, for tests/completion.rs (our completion scripts run in them). Idempotent.
set -euo pipefail
need=()
command -v zsh >/dev/null || need+=(zsh)
command -v fish >/dev/null || need+=(fish)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get install -y --no-install-recommends "${need[@]}" \
    || { $sudo apt-get update && $sudo apt-get install -y --no-install-recommends "${need[@]}"; }
fi
zsh --version
fish --version
