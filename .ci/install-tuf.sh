#!/usr/bin/env bash
# Tools the TUF tests (tests/cosign_tuf.rs) need, idempotent: python3 with python-tuf, the
# independent implementation that writes the test repositories
# (tests/fixtures/tuf/make_repo.py). The keyless case also needs .ci/install-cosign.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

TUF_VERSION=7.0.1
if ! command -v python3 >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends python3 python3-pip
fi
have=$(python3 -c 'import tuf; print(tuf.__version__)' 2>/dev/null || true)
if [ "$have" != "$TUF_VERSION" ]; then
  python3 -m pip install --quiet "tuf==$TUF_VERSION" \
    || python3 -m pip install --quiet --break-system-packages "tuf==$TUF_VERSION"
fi
python3 -c 'import tuf.api.metadata, securesystemslib.signer' >/dev/null
