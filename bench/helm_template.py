#!/usr/bin/env python3
"""`helm template` of oxtask beside Helm 4.2.3's render (helm-python-sdk) on the chart corpus.

    python3 bench/helm_template.py [--corpus DIR] [--oxtask PATH] [--runs N]

The corpus is tests/helm_corpus/manifest.tsv under --corpus (default /work/charts-corpus),
with dependencies vendored as tests/helm_corpus/run.py does. Helm's time is the SDK doing
what `helm template` does (load the chart, install --dry-run=client), in-process, so it
carries no process start; oxtask's is a whole `helm template` process (the release build,
`target/release/task` called as `helm`). Reports the median of --runs for the largest chart
(the one Helm takes longest on) and the sum over the corpus, and the ratio oxtask/Helm.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "helm_corpus"))
import run as corpus  # noqa: E402
import helm_python as helm  # noqa: E402


def sdk(path):
    t = time.perf_counter()
    try:
        c = helm.Chart.load(path)
        cfg = helm.Config(storage_driver="memory", namespace="default")
        cfg.install(c, "release-name", None, dry_run="client", namespace="default")
        ok = True
    except helm.HelmError:
        ok = False
    return time.perf_counter() - t, ok


def ox(exe, path):
    t = time.perf_counter()
    r = subprocess.run([exe, "template", "release-name", path], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    return time.perf_counter() - t, r.returncode == 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default="/work/charts-corpus")
    ap.add_argument("--oxtask", default=os.path.join(REPO, "target/release/task"))
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    shim = tempfile.mkdtemp(prefix="helm-bench-")
    exe = os.path.join(shim, "helm")
    os.symlink(os.path.abspath(a.oxtask), exe)
    rows = [ln.rstrip("\n").split("\t") for ln in open(os.path.join(REPO, "tests/helm_corpus/manifest.tsv"))
            if not ln.startswith("#")]
    by_name = {}
    for name, rel, *_ in rows:
        by_name.setdefault(name, os.path.join(a.corpus, rel))
    scratch = tempfile.mkdtemp(prefix="helm-bench-corpus-")
    charts = []
    for name, rel, *_ in rows:
        built, _ = corpus.vendor(os.path.join(a.corpus, rel), by_name, os.path.join(scratch, rel.replace("/", "_")))
        if built is not None and not corpus.is_library(built):
            charts.append((rel, built))
    # warm both (page cache, SDK library load)
    for _, p in charts:
        sdk(p)
        ox(exe, p)
    total_sdk, total_ox, per = [], [], {}
    for _ in range(a.runs):
        ts = to = 0.0
        for rel, p in charts:
            s, _ = sdk(p)
            o, _ = ox(exe, p)
            ts += s
            to += o
            per.setdefault(rel, ([], []))
            per[rel][0].append(s)
            per[rel][1].append(o)
        total_sdk.append(ts)
        total_ox.append(to)
    largest = max(per, key=lambda r: statistics.median(per[r][0]))
    ls, lo = statistics.median(per[largest][0]), statistics.median(per[largest][1])
    s, o = statistics.median(total_sdk), statistics.median(total_ox)
    print(f"charts: {len(charts)}, runs: {a.runs} (medians)")
    print(f"largest chart ({largest}): helm {ls*1000:.1f} ms, oxtask {lo*1000:.1f} ms, ratio {lo/ls:.2f}")
    print(f"whole corpus: helm {s:.2f} s, oxtask {o:.2f} s, ratio {o/s:.2f}")
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.rmtree(shim, ignore_errors=True)


if __name__ == "__main__":
    main()
