#!/usr/bin/env python3
"""Collect the helm corpus: every top-level chart of the mirrored chart repositories.

Usage: collect.py MIRROR_DIR OUT_DIR [MANIFEST]

MIRROR_DIR holds bare/normal git snapshots as OWNER+NAME/repo (what the `fetch` tool makes).
Each chart directory (a Chart.yaml not inside another chart's charts/ dir, not under test
data) is exported at HEAD to OUT_DIR/OWNER+NAME/PATH. The manifest (tab-separated: name,
path in OUT_DIR, source repo, commit, licence) goes to MANIFEST (default:
tests/helm_corpus/manifest.tsv beside this script).
"""
import os
import subprocess
import sys

REPOS = [
    "argoproj/argo-helm", "bitnami/charts", "elastic/helm-charts", "grafana/helm-charts",
    "jetstack/cert-manager", "kubernetes/ingress-nginx", "open-telemetry/opentelemetry-helm-charts",
    "prometheus-community/helm-charts", "traefik/traefik-helm-chart", "aws/eks-charts",
    "deliveryhero/helm-charts", "DataDog/helm-charts", "kedacore/charts", "fluent/helm-charts",
    "falcosecurity/charts", "jenkinsci/helm-charts", "codecentric/helm-charts",
    "external-secrets/external-secrets", "kubernetes-sigs/external-dns", "hashicorp/vault-helm",
    "stakater/Reloader", "kyverno/kyverno", "cloudnative-pg/charts",
]
SKIP_PARTS = ("testdata", "test-data", "/tests/", "/ci/", "/e2e/", "/hack/", "/examples/")


def git(gd, *args):
    return subprocess.run(["git", "--git-dir", gd, *args], check=True, capture_output=True).stdout


def licence(gd):
    names = git(gd, "ls-tree", "--name-only", "HEAD").decode().split("\n")
    for n in names:
        if n.upper().startswith(("LICENSE", "LICENCE", "COPYING")):
            text = git(gd, "show", f"HEAD:{n}").decode("utf-8", "replace")
            for key, spdx in (("Apache License", "Apache-2.0"), ("MIT License", "MIT"),
                              ("Permission is hereby granted, free of charge", "MIT"),
                              ("Mozilla Public License", "MPL-2.0"),
                              ("GNU GENERAL PUBLIC", "GPL"), ("BSD", "BSD")):
                if key in text:
                    return spdx
            return "see " + n
    return "unknown"


def main():
    mirror, out = sys.argv[1], sys.argv[2]
    manifest = sys.argv[3] if len(sys.argv) > 3 else os.path.join(os.path.dirname(__file__), "manifest.tsv")
    rows = []
    for repo in REPOS:
        base = os.path.join(mirror, repo.replace("/", "+"), "repo")
        gd = os.path.join(base, ".git") if os.path.isdir(os.path.join(base, ".git")) else base
        if not os.path.isdir(gd):
            print(f"missing {repo}", file=sys.stderr)
            continue
        commit = git(gd, "rev-parse", "HEAD").decode().strip()
        lic = licence(gd)
        files = git(gd, "ls-tree", "-r", "--name-only", "HEAD").decode().split("\n")
        dirs = sorted(os.path.dirname(f) for f in files if f == "Chart.yaml" or f.endswith("/Chart.yaml"))
        tops = []
        for d in dirs:
            p = "/" + d + "/"
            if any(s in p for s in SKIP_PARTS):
                continue
            if any(d.startswith(t + "/charts/") or (t == "" and d.startswith("charts/") and False) for t in tops):
                continue
            if "/charts/" in p and any(p.startswith("/" + t + "/") for t in tops if t):
                continue
            tops.append(d)
        dest_root = os.path.join(out, repo.replace("/", "+"))
        os.makedirs(dest_root, exist_ok=True)
        for d in tops:
            arch = subprocess.run(["git", "--git-dir", gd, "archive", "HEAD", d or "."], check=True, capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", dest_root], input=arch, check=True)
            chart_lic = lic
            rel = os.path.join(repo.replace("/", "+"), d)
            name = None
            try:
                for line in open(os.path.join(out, rel, "Chart.yaml"), encoding="utf-8", errors="replace"):
                    if line.startswith("name:"):
                        name = line.split(":", 1)[1].strip().strip("'\"")
                        break
            except OSError:
                pass
            rows.append((name or os.path.basename(d), rel, repo, commit, chart_lic))
    with open(manifest, "w") as f:
        f.write("# name\tpath\trepo\tcommit\tlicence\n")
        for r in rows:
            f.write("\t".join(r) + "\n")
    print(f"{len(rows)} charts", file=sys.stderr)


main()
