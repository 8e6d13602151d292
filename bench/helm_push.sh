#!/usr/bin/env bash
# Benchmark: package + push of a typical chart (helm create-like layout, ~20 files) to a
# real docker-registry on loopback, with the release build. Prints per-step timings.
# Usage: bench/helm_push.sh [iterations]   (needs docker-registry; see .ci/install-helm.sh)
set -euo pipefail
N=${1:-20}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml"
WORK=$(mktemp -d)
REG_PID=""
cleanup() { [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
mkdir -p "$WORK/bin"
ln -s "$ROOT/target/release/task" "$WORK/bin/helm"
PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
cat > "$WORK/reg.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $WORK/data
http:
  addr: 127.0.0.1:$PORT
YML
docker-registry serve "$WORK/reg.yml" >/dev/null 2>&1 &
REG_PID=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.05; done

# a typical chart: like `helm create`, with a 40 KiB values file and a README
C="$WORK/mychart"
mkdir -p "$C/templates/tests" "$C/charts"
cat > "$C/Chart.yaml" <<'Y'
apiVersion: v2
name: mychart
description: A Helm chart for Kubernetes
type: application
version: 0.1.0
appVersion: "1.16.0"
Y
printf '.DS_Store\n.git/\n*.swp\n*.bak\n' > "$C/.helmignore"
python3 - "$C" <<'PY'
import sys, os
c = sys.argv[1]
open(os.path.join(c, "values.yaml"), "w").write("".join(f"key{i}:\n  nested: value-{i}\n  list: [a, b, c]\n" for i in range(1200)))
open(os.path.join(c, "README.md"), "w").write("# mychart\n" + "Lorem ipsum dolor sit amet. " * 300)
for n in ["deployment", "service", "ingress", "hpa", "serviceaccount", "configmap", "secret", "pdb", "networkpolicy", "role", "rolebinding", "cronjob", "job", "statefulset", "daemonset"]:
    open(os.path.join(c, "templates", n + ".yaml"), "w").write(f"apiVersion: v1\nkind: {n}\nmetadata:\n  name: {{{{ include \"mychart.fullname\" . }}}}\n" * 20)
open(os.path.join(c, "templates", "_helpers.tpl"), "w").write('{{- define "mychart.fullname" -}}x{{- end }}\n' * 30)
open(os.path.join(c, "templates", "NOTES.txt"), "w").write("notes\n" * 50)
open(os.path.join(c, "templates", "tests", "test-connection.yaml"), "w").write("kind: Pod\n" * 10)
PY
HELM="$WORK/bin/helm"
now() { date +%s%N; }
pk=0; pu=0
for i in $(seq "$N"); do
  t0=$(now); "$HELM" package "$C" -d "$WORK/out" --version "0.1.$i" >/dev/null; t1=$(now)
  "$HELM" push "$WORK/out/mychart-0.1.$i.tgz" "oci://127.0.0.1:$PORT/charts" --plain-http >/dev/null; t2=$(now)
  pk=$((pk + t1 - t0)); pu=$((pu + t2 - t1))
done
SIZE=$(stat -c %s "$WORK/out/mychart-0.1.1.tgz")
FILES=$(find "$C" -type f | wc -l)
echo "chart: $FILES files, archive $SIZE bytes; iterations: $N"
echo "package: $((pk / N / 1000)) us/op"
echo "push:    $((pu / N / 1000)) us/op (new tag each time; blobs mostly new)"
echo "total:   $(((pk + pu) / N / 1000)) us/op"
