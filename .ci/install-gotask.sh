#!/usr/bin/env bash
# go-task 3.54.0, the reference for the differential tests and the benchmark, from pip's
# go-task-bin. Checked through the package's metadata, never through `task` on PATH, which
# may be oxtask itself (cargo install puts it first). Idempotent.
set -euo pipefail
have=$(python3 -c 'import importlib.metadata as m; print(m.version("go-task-bin"))' 2>/dev/null || true)
if [ "$have" != "3.54.0" ]; then
  python3 -m pip install --quiet 'go-task-bin==3.54.0' \
    || python3 -m pip install --quiet --break-system-packages 'go-task-bin==3.54.0'
fi
path=$(python3 -c 'import importlib.metadata as m; d=m.distribution("go-task-bin"); print([str(d.locate_file(f).resolve()) for f in d.files if f.name=="task"][0])')
"$path" --version | grep -q '3\.54\.0'
! "$path" --version | grep -qi oxtask
echo "go-task 3.54.0: $path"
