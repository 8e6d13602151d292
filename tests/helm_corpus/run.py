#!/usr/bin/env python3
"""Full corpus run: oxtask's native helm against Helm 4.2.3 (helm-python-sdk).

Usage: run.py [--corpus DIR] [--oxtask PATH] [--only SUBSTR] [--checks template,lint,show,package,deps,push]
              [--report FILE] [--bench]

For every chart of manifest.tsv (under --corpus, default /work/charts-corpus):
  template  `helm template release-name CHART` vs the SDK's install --dry-run=client manifest
            followed by the hook documents of its render (what `helm template` prints)
  lint      `helm lint CHART` lines and verdict vs the SDK's lint report
  show      `helm show chart|values` vs the SDK's show
  package   `helm package` vs the SDK's package: entries, owners, modes, mtimes, bytes
  push      `helm push`/`helm pull` vs the SDK's push/pull through a loopback registry:
            manifest bytes, digest, output lines, pulled bytes, both directions
A chart whose dependencies are not in its charts/ directory is built in a scratch copy
from the corpus itself (the dependency of that name, wherever it lives in the corpus),
which is what `helm dependency build` does from a vendored repository; a dependency the
corpus does not hold makes the chart skipped, with the reason.
--bench times the template step of both (SDK in-process, oxtask as a process).
Prints a summary; --report writes one line per chart and check.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import helm_python as helm

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SEP = re.compile(r"(?:^|\s*\n)---\s*")
EVENTS = {"pre-install", "post-install", "pre-delete", "post-delete", "pre-upgrade",
          "post-upgrade", "pre-rollback", "post-rollback", "test", "test-success"}


def split(s):
    return [d.strip() for d in SEP.split(s.strip()) if d.strip() != ""]


def is_hook(doc):
    for line in doc.split("\n"):
        line = line.strip().replace('"', "").replace("'", "")
        if line.startswith("helm.sh/hook:"):
            return all(e.strip().lower() in EVENTS for e in line[len("helm.sh/hook:"):].split(","))
    return False


def chart_yaml_deps(path):
    """(name, alias) of each dependency, via the SDK's own loader."""
    try:
        return [(d.get("name"), d.get("alias")) for d in helm.Chart.load(path).dependencies()]
    except Exception:  # noqa
        return None


def read_name(path):
    try:
        for line in open(os.path.join(path, "Chart.yaml"), encoding="utf-8", errors="replace"):
            if line.startswith("name:"):
                return line.split(":", 1)[1].strip().strip("'\"")
    except OSError:
        return None


def vendor(chart, by_name, scratch, depth=0):
    """Copies chart into scratch with missing dependencies filled from the corpus.
    Returns (path, None) or (None, reason)."""
    if depth > 5:
        return None, "dependency cycle"
    meta_path = os.path.join(chart, "Chart.yaml")
    text = open(meta_path, encoding="utf-8", errors="replace").read()
    if "dependencies:" not in text and not os.path.exists(os.path.join(chart, "requirements.yaml")):
        return chart, None
    lst = helm.dependency_list(chart) if os.path.isdir(chart) else []
    missing = [d for d in lst if d.get("status") == "missing"]
    if not missing:
        return chart, None
    dest = os.path.join(scratch, str(depth), os.path.basename(chart))
    if os.path.exists(dest):
        shutil.rmtree(dest)
    shutil.copytree(chart, dest, symlinks=False)
    os.makedirs(os.path.join(dest, "charts"), exist_ok=True)
    for d in missing:
        src = by_name.get(d["name"])
        if src is None:
            return None, f"dependency {d['name']} ({d.get('repository')}) not in the corpus"
        sub, why = vendor(src, by_name, scratch, depth + 1)
        if sub is None:
            return None, why
        target = os.path.join(dest, "charts", d["name"])
        if not os.path.exists(target):  # several aliases of one chart
            shutil.copytree(sub, target, symlinks=False)
    return dest, None


def sdk_template(path):
    c = helm.Chart.load(path)
    cfg = helm.Config(storage_driver="memory", namespace="default")
    rel = cfg.install(c, "release-name", None, dry_run="client", namespace="default")
    tpls = c.render(None, name="release-name", namespace="default", revision=1, is_install=True)
    return rel.get("manifest", ""), tpls


def ox(oxtask, args, env=None):
    e = dict(os.environ, NO_COLOR="1", HELM_NAMESPACE="default")
    e.pop("SOURCE_DATE_EPOCH", None)
    if env:
        e.update(env)
    # bytes decoded here: text=True would turn a template's CRLF into LF (universal newlines)
    o = subprocess.run([oxtask, *args], capture_output=True, env=e, timeout=300)
    o.stdout = o.stdout.decode("utf-8", "replace")
    o.stderr = o.stderr.decode("utf-8", "replace")
    return o


def is_library(path):
    try:
        return helm.Chart.load(path).metadata.get("type") == "library"
    except Exception:  # noqa
        return False


def check_template(oxtask, path):
    if is_library(path):
        # `helm template` (pkg/cmd/install.go) refuses these; the SDK's action does not
        o = ox(oxtask, ["template", "release-name", path])
        ok = o.returncode == 1 and o.stderr == "Error: library charts are not installable\n"
        return ("helm-refuses", "library chart") if ok else ("differ", "library chart: " + o.stderr[:200])
    try:
        manifest, tpls = sdk_template(path)
        want_err = None
    except helm.HelmError as e:  # noqa
        want_err = str(e).strip()
    o = ox(oxtask, ["template", "release-name", path])
    if want_err is not None:
        if o.returncode == 0:
            return "differ", f"helm fails ({want_err[:300]}) but oxtask rendered"
        got = o.stderr[o.stderr.find("Error: ") + 7:] if "Error: " in o.stderr else o.stderr
        got = got.strip().removesuffix("Use --debug flag to render out invalid YAML").strip()
        return ("helm-refuses", want_err[:200]) if got == want_err else ("error-text", f"helm: {want_err[:300]}\noxtask: {got[:300]}")
    if o.returncode != 0:
        return "differ", "oxtask failed: " + o.stderr[:600]
    got = o.stdout
    head = manifest.strip() + "\n"
    if not got.startswith(head) and masked_same(path, head, got):
        return "same-random", "identical but for lines Helm itself renders differently each time"
    if not got.startswith(head):
        at = next((i for i, (a, b) in enumerate(zip(got, head)) if a != b), min(len(got), len(head)))
        return "differ", f"manifest at byte {at}:\n--- helm\n{head[max(0, at-300):at+300]}\n--- oxtask\n{got[max(0, at-300):at+300]}"
    rest = got[len(head):]
    docs = split(rest)
    random = False
    for doc in docs:
        if not doc.startswith("# Source: "):
            return "differ", "hook without source: " + doc[:200]
        src, _, body = doc[len("# Source: "):].partition("\n")
        t = tpls.get(src)
        if t is None or not any(d.rstrip() == body.rstrip() for d in split(t)):
            if t is None or not hook_masked_same(path, src, t, body):
                return "differ", f"hook {src} differs"
            random = True
    n = sum(1 for t in tpls.values() for d in split(t) if is_hook(d))
    if n != len(docs):
        return "differ", f"{len(docs)} hooks printed, helm rendered {n}"
    if random:
        return "same-random", "identical but for hook lines Helm itself renders differently each time"
    return "same", ""


def hook_masked_same(path, src, t, body):
    """masked_same for one hook document: a document of Helm's render of `src` equals `body`
    on every line where Helm's second render of that document agrees with its first."""
    try:
        t2 = sdk_template(path)[1].get(src, "")
    except helm.HelmError:  # noqa
        return False
    ours = body.rstrip().split("\n")
    for d1, d2 in zip(split(t), split(t2)):
        a, b = d1.rstrip().split("\n"), d2.rstrip().split("\n")
        if d1 == d2 or len(a) != len(b) or len(a) != len(ours):
            continue
        masked = [i for i in range(len(a)) if a[i] != b[i]]
        if all(ours[i] == a[i] for i in range(len(a)) if a[i] == b[i]) and all(
                shape(ours[i]) == shape(a[i]) for i in masked):
            return True
    return False


def shape(line):
    """What a masked line must keep: its key (text before the value), or for a line that is
    all value (a base64 block line) its indentation and length."""
    if ": " in line or line.endswith(":"):
        return line.split(":")[0]
    return (len(line) - len(line.lstrip(" ")), len(line))


def masked_same(path, head, got):
    """Charts that call randAlphaNum, genCA, uuidv4… render differently on every run, in
    Helm too: render again with the SDK; the lines where Helm's two renders differ are
    masked, and oxtask's manifest must equal Helm's on every other line (same line count)."""
    try:
        again = sdk_template(path)[0].strip() + "\n"
    except helm.HelmError:  # noqa
        return False
    if again == head:
        return False
    # both end with "\n": drop the empty last element
    a, b = head.split("\n")[:-1], again.split("\n")[:-1]
    ours = got.split("\n")[:len(a)]
    if len(a) != len(b) or len(ours) != len(a):
        return False
    masked = [i for i in range(len(a)) if a[i] != b[i]]
    ok = all(ours[i] == a[i] for i in range(len(a)) if a[i] == b[i])
    keys = all(shape(ours[i]) == shape(a[i]) for i in masked)
    return ok and keys


def check_lint(oxtask, path):
    try:
        want = helm.lint(path, None, strict=False, namespace="default")
    except helm.HelmError as e:  # noqa
        return "skip", "sdk lint error: " + str(e)[:200]
    sev = ["UNKNOWN", "INFO", "WARNING", "ERROR"]
    want_lines = [f"[{sev[m['severity']]}] {m['path']}: {m['error']}" for m in want.get("messages", [])]
    want_failed = bool(want.get("errors"))
    o = ox(oxtask, ["lint", path])
    # everything between `==> Linting` and the summary (messages may span lines)
    body = o.stdout.split("\n", 1)[1] if "\n" in o.stdout else ""
    body = re.sub(r"\d+ chart\(s\) linted, \d+ chart\(s\) failed\n?$", "", body)
    lines = [body.rstrip("\n")]
    tmp = tempfile.gettempdir() + "/"
    norm = lambda s: re.sub(re.escape(tmp) + r"[^:]*", "<tmp>", s)  # noqa
    got_text = norm("\n".join(lines))
    want_text = norm("\n".join(want_lines).rstrip("\n"))
    if got_text == want_text and (o.returncode != 0) == want_failed:
        return "same", ""
    return "differ", f"--- helm (failed={want_failed})\n{want_text[:800]}\n--- oxtask (rc={o.returncode})\n{got_text[:800]}"


def check_show(oxtask, path):
    for fmt in ("chart", "values"):
        try:
            want = helm.show(path, output_format=fmt)
        except helm.HelmError as e:  # noqa
            return "skip", "sdk show error: " + str(e)[:200]
        o = ox(oxtask, ["show", fmt, path])
        if o.returncode != 0 or o.stdout != want:
            at = next((i for i, (a, b) in enumerate(zip(o.stdout, want)) if a != b), 0)
            return "differ", f"show {fmt} at {at}: helm {want[at:at+120]!r} oxtask {o.stdout[at:at+120]!r} {o.stderr[:200]}"
    return "same", ""


def archive_entries(path):
    """(name, mode, uid, gid, uname, gname, mtime, content) of each entry, in order; and the
    gzip header (the first 10 bytes and the stored name Helm writes)."""
    import tarfile
    with open(path, "rb") as f:
        head = f.read(64)
    out = []
    with tarfile.open(path, "r:gz") as t:
        for m in t.getmembers():
            data = t.extractfile(m).read() if m.isfile() else b""
            out.append((m.name, m.mode, m.uid, m.gid, m.uname, m.gname, m.mtime, m.type, data))
    return out, head[:10]


def check_package(oxtask, path):
    """`helm package CHART` beside the SDK's package: the same archive name, the same entries
    (names, modes, owners, Helm 4's per-file mtimes, contents — the re-serialised Chart.yaml
    included) in the same order, the same gzip header. Helm orders the files of vendored
    subcharts from a Go map, so entries under charts/ are compared as a set."""
    work = tempfile.mkdtemp(prefix="pkg-")
    try:
        theirs_dir, ours_dir = os.path.join(work, "theirs"), os.path.join(work, "ours")
        try:
            theirs = helm.package(path, destination=theirs_dir)
        except helm.HelmError as e:  # noqa
            o = ox(oxtask, ["package", path, "-d", ours_dir])
            return ("helm-refuses" if o.returncode != 0 else "differ"), "sdk package error: " + str(e)[:200]
        o = ox(oxtask, ["package", path, "-d", ours_dir])
        if o.returncode != 0:
            return "differ", f"oxtask failed: {o.stderr[:300]}"
        ours = os.path.join(ours_dir, os.path.basename(theirs))
        if not os.path.exists(ours):
            return "differ", f"archive name: helm {os.path.basename(theirs)}, oxtask {os.listdir(ours_dir)}"
        (a, ha), (b, hb) = archive_entries(ours), archive_entries(theirs)
        top = lambda es: [e for e in es if "/charts/" not in e[0]]  # noqa
        sub = lambda es: sorted(e for e in es if "/charts/" in e[0])  # noqa
        if top(a) != top(b) or sub(a) != sub(b):
            names_a, names_b = [e[0] for e in a], [e[0] for e in b]
            if names_a != names_b:
                return "differ", f"entries: helm {names_b[:20]} oxtask {names_a[:20]}"
            for x, y in zip(a, b):
                if x != y:
                    return "differ", f"entry {x[0]}: helm {y[:8]} {y[8][:200]!r} oxtask {x[:8]} {x[8][:200]!r}"
            return "differ", "subchart entries differ"
        if ha != hb:
            return "differ", f"gzip header: helm {hb!r} oxtask {ha!r}"
        return "same", ""
    finally:
        shutil.rmtree(work, ignore_errors=True)


class DepRepo:
    """A chart repository on loopback holding the corpus's charts, packaged by the SDK, for
    `dependency update|build`: every remote repository a chart names (https://, oci://) is
    pointed here, so both tools resolve the same index and download the same archives."""

    def __init__(self, by_name, all_by_name):
        import http.server
        import threading
        self.by_name = by_name
        self.all_by_name = all_by_name
        self.dir = tempfile.mkdtemp(prefix="dep-repo-")
        self.have = set()
        d = self.dir

        class H(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *a, **k):
                super().__init__(*a, directory=d, **k)

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}/"
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def ensure(self, names):
        added = False
        for n in names:
            if n in self.have or n not in self.by_name:
                continue
            self.have.add(n)
            # every corpus chart of that name (several versions), each packaged with its own
            # dependencies vendored, as Helm's package demands
            for i, src in enumerate(self.all_by_name.get(n, [])):
                built, _ = vendor(src, self.by_name, os.path.join(self.dir + "-src", n, str(i)))
                if built is None:
                    continue
                try:
                    helm.package(built, destination=self.dir)
                    added = True
                except helm.HelmError:  # noqa
                    pass
        if added or not os.path.exists(os.path.join(self.dir, "index.yaml")):
            helm.repo_index_generate(self.dir, base_url=self.url.rstrip("/"))


DEP_REPO = None


def check_deps(oxtask, path):
    """`helm dependency update`, then `list`, beside the SDK's dependency_update/_list, on a
    copy of the chart whose remote repositories point at DEP_REPO: the same success or
    failure, Chart.lock (but its `generated` time), the archive names and bytes in charts/,
    and each dependency's status. (`dependency build` from a chart repository needs `helm
    repo add` first, as Helm's hasAllRepos demands; oxtask has no native `repo add` yet.)"""
    import yaml
    meta = yaml.safe_load(open(os.path.join(path, "Chart.yaml"), encoding="utf-8"))
    deps = meta.get("dependencies") or []
    if not deps:
        return "skip", "no dependencies"
    if any(str(d.get("repository", "")).startswith("file://") for d in deps):
        return "skip", "a file:// dependency"
    DEP_REPO.ensure([d.get("name") for d in deps])
    work = tempfile.mkdtemp(prefix="deps-")
    try:
        dirs = {}
        for who in ("theirs", "ours"):
            dst = os.path.join(work, who, os.path.basename(path))
            shutil.copytree(path, dst, symlinks=False)
            shutil.rmtree(os.path.join(dst, "charts"), ignore_errors=True)
            for f in ("Chart.lock", "requirements.lock"):
                if os.path.exists(os.path.join(dst, f)):
                    os.remove(os.path.join(dst, f))
            m = yaml.safe_load(open(os.path.join(dst, "Chart.yaml"), encoding="utf-8"))
            for d in m.get("dependencies") or []:
                if str(d.get("repository", "")).startswith(("http://", "https://", "oci://")):
                    d["repository"] = DEP_REPO.url
            with open(os.path.join(dst, "Chart.yaml"), "w", encoding="utf-8") as f:
                yaml.safe_dump(m, f, sort_keys=False)
            dirs[who] = dst

        def state(d):
            lock = ""
            if os.path.exists(os.path.join(d, "Chart.lock")):
                lock = "\n".join(ln for ln in open(os.path.join(d, "Chart.lock")).read().splitlines()
                                 if not ln.startswith("generated:"))
            cd = os.path.join(d, "charts")
            files = {}
            if os.path.isdir(cd):
                for n in sorted(os.listdir(cd)):
                    p = os.path.join(cd, n)
                    files[n] = open(p, "rb").read() if os.path.isfile(p) else b"<dir>"
            return lock, files

        env = {"SOURCE_DATE_EPOCH": "1700000000", "HELM_REPOSITORY_CONFIG": os.path.join(work, "repos.yaml"),
               "HELM_REPOSITORY_CACHE": os.path.join(work, "cache")}
        for step in ("update",):
            try:
                getattr(helm, f"dependency_{step}")(dirs["theirs"])
                theirs_ok = True
            except helm.HelmError as e:  # noqa
                theirs_ok, err = False, str(e)
            o = ox(oxtask, ["dependency", step, dirs["ours"]], env)
            if (o.returncode == 0) != theirs_ok:
                return "differ", f"{step}: helm ok={theirs_ok} {'' if theirs_ok else err[:200]}; oxtask rc={o.returncode} {o.stderr[:300]}"
            if not theirs_ok:
                return ("helm-refuses" if step == "update" else "differ"), f"{step}: {err[:200]}"
            a, b = state(dirs["ours"]), state(dirs["theirs"])
            if a[0] != b[0]:
                return "differ", f"{step}: Chart.lock\n--- helm\n{b[0][:600]}\n--- oxtask\n{a[0][:600]}"
            if list(a[1]) != list(b[1]):
                return "differ", f"{step}: charts/ helm {list(b[1])} oxtask {list(a[1])}"
            if a[1] != b[1]:
                return "differ", f"{step}: archive bytes differ in charts/"
        want = [x["status"] for x in helm.dependency_list(dirs["theirs"])]
        o = ox(oxtask, ["dependency", "list", dirs["ours"]])
        got = [ln.split("\t")[-1].strip() for ln in o.stdout.splitlines()[1:] if ln.strip()]
        if got != want:
            return "differ", f"list: helm {want} oxtask {got}"
        return "same", ""
    finally:
        shutil.rmtree(work, ignore_errors=True)


class Registry:
    """The CNCF distribution registry (`docker-registry`) on a free loopback port, plain HTTP,
    for the push/pull check; one repository path per chart and tool."""

    def __init__(self):
        import socket
        self.dir = tempfile.mkdtemp(prefix="corpus-registry-")
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        cfg = (f"version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
               f"storage:\n  filesystem:\n    rootdirectory: {self.dir}/data\n"
               f"http:\n  addr: 127.0.0.1:{self.port}\n")
        with open(os.path.join(self.dir, "config.yml"), "w") as f:
            f.write(cfg)
        self.proc = subprocess.Popen(["docker-registry", "serve", os.path.join(self.dir, "config.yml")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        self.host = f"127.0.0.1:{self.port}"
        self.n = 0

    def manifest(self, repo, ref):
        import urllib.request
        req = urllib.request.Request(f"http://{self.host}/v2/{repo}/manifests/{ref}",
                                     headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.read(), r.headers.get("Docker-Content-Digest")

    def stop(self):
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


REGISTRY = None


def check_push(oxtask, path):
    """`helm push` and `helm pull` beside the SDK's push/pull through a real registry: the
    archive (packaged by the SDK) pushed by each tool to its own repository gives the same
    manifest bytes and digest (oxtask's `Digest:` line names it), and each tool pulls the
    other's push back to the very bytes that were pushed, with Helm's `Pulled:`/`Digest:`."""
    import hashlib
    work = tempfile.mkdtemp(prefix="push-")
    try:
        try:
            tgz = helm.package(path, destination=os.path.join(work, "pkg"))
        except helm.HelmError as e:  # noqa
            return "skip", "sdk package error: " + str(e)[:200]
        data = open(tgz, "rb").read()
        base = os.path.basename(tgz)[:-4]
        meta = helm.Chart.load(path).metadata
        name, version = meta["name"], meta["version"]
        tag = version.replace("+", "_")
        REGISTRY.n += 1
        sdk_repo, ox_repo = f"sdk{REGISTRY.n}", f"ox{REGISTRY.n}"
        try:
            helm.push(tgz, f"oci://{REGISTRY.host}/{sdk_repo}", plain_http=True)
            theirs_ok, err = True, ""
        except helm.HelmError as e:  # noqa
            theirs_ok, err = False, str(e)
        o = ox(oxtask, ["push", tgz, f"oci://{REGISTRY.host}/{ox_repo}", "--plain-http"])
        if (o.returncode == 0) != theirs_ok:
            return "differ", f"push: helm ok={theirs_ok} {err[:200]}; oxtask rc={o.returncode} {o.stderr[:300]}"
        if not theirs_ok:
            return "helm-refuses", f"push: {err[:200]}"
        mb, db = REGISTRY.manifest(f"{sdk_repo}/{name}", tag)
        ma, da = REGISTRY.manifest(f"{ox_repo}/{name}", tag)
        if ma != mb:
            return "differ", f"manifest\n--- helm\n{mb[:800]!r}\n--- oxtask\n{ma[:800]!r}"
        want = f"Pushed: {REGISTRY.host}/{ox_repo}/{name}:{tag}\nDigest: {da}\n"
        if o.stdout != want or da != db:
            return "differ", f"push output: want {want!r} got {o.stdout!r} (helm digest {db})"
        # each pulls the other's push
        dst = os.path.join(work, "ours")
        os.makedirs(dst)
        o = ox(oxtask, ["pull", f"oci://{REGISTRY.host}/{sdk_repo}/{name}", "--version", version,
                        "-d", dst, "--plain-http"])
        if o.returncode != 0:
            return "differ", f"pull: oxtask rc={o.returncode} {o.stderr[:300]}"
        want = f"Pulled: {REGISTRY.host}/{sdk_repo}/{name}:{tag}\nDigest: {db}\n"
        if o.stdout != want:
            return "differ", f"pull output: want {want!r} got {o.stdout!r}"
        if os.listdir(dst) != [base + ".tgz"] or open(os.path.join(dst, base + ".tgz"), "rb").read() != data:
            return "differ", f"pull: oxtask wrote {os.listdir(dst)}, not the pushed bytes of {base}.tgz"
        dst = os.path.join(work, "theirs")
        os.makedirs(dst)
        try:
            helm.pull(f"oci://{REGISTRY.host}/{ox_repo}/{name}", destination=dst, version=version,
                      plain_http=True)
        except helm.HelmError as e:  # noqa
            return "differ", f"pull of oxtask's push: helm error {str(e)[:300]}"
        got = os.listdir(dst)
        if got != [base + ".tgz"] or hashlib.sha256(open(os.path.join(dst, got[0]), "rb").read()).digest() != hashlib.sha256(data).digest():
            return "differ", f"pull of oxtask's push: helm wrote {got}, not the pushed bytes"
        return "same", ""
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default="/work/charts-corpus")
    ap.add_argument("--oxtask", default=os.path.join(ROOT, "target/debug/helm-shim/helm"))
    ap.add_argument("--only", default="")
    ap.add_argument("--checks", default="template,lint,show")
    ap.add_argument("--report", default="")
    ap.add_argument("--bench", action="store_true")
    ap.add_argument("--manifest", default=os.path.join(HERE, "manifest.tsv"))
    ap.add_argument("--charts", default="", help="file of chart paths (one a line): only these")
    ap.add_argument("--min-identical", type=float, default=0.0,
                    help="exit 1 when a check's identical share (percent) is lower")
    a = ap.parse_args()
    if not os.path.exists(a.oxtask):
        os.makedirs(os.path.dirname(a.oxtask), exist_ok=True)
        os.symlink(os.path.join(ROOT, "target/debug/task"), a.oxtask)
    rows = [ln.rstrip("\n").split("\t") for ln in open(a.manifest) if not ln.startswith("#")]
    by_name = {}
    for name, rel, *_ in rows:
        by_name.setdefault(name, os.path.join(a.corpus, rel))
    checks = a.checks.split(",")
    results = {c: {} for c in checks}
    if "deps" in checks:
        global DEP_REPO
        all_by_name = {}
        for name, rel, *_ in rows:
            all_by_name.setdefault(name, []).append(os.path.join(a.corpus, rel))
        DEP_REPO = DepRepo(by_name, all_by_name)
    if "push" in checks:
        global REGISTRY
        REGISTRY = Registry()
    report = []
    scratch = tempfile.mkdtemp(prefix="helm-corpus-")
    bench = {"sdk": 0.0, "oxtask": 0.0, "largest": None}
    only = set(open(a.charts).read().split()) if a.charts else None
    try:
        for name, rel, repo, *_ in rows:
            if a.only and a.only not in rel:
                continue
            if only is not None and rel not in only:
                continue
            path = os.path.join(a.corpus, rel)
            built, why = vendor(path, by_name, os.path.join(scratch, rel.replace("/", "_")))
            for c in checks:
                if built is None:
                    st, msg = "skip", why
                else:
                    try:
                        fn = {"template": check_template, "lint": check_lint, "show": check_show,
                              "package": check_package, "deps": check_deps,
                              "push": check_push}[c]
                        # deps starts from the chart as published (its own charts/ removed)
                        st, msg = fn(a.oxtask, path if c == "deps" else built)
                    except subprocess.TimeoutExpired:
                        st, msg = "differ", "oxtask timed out"
                results[c].setdefault(st, []).append(rel)
                report.append(f"{c}\t{st}\t{rel}\t{msg}")
                print(f"{c}\t{st}\t{rel}", file=sys.stderr, flush=True)
                if st not in ("same", "helm-refuses", "same-random") and c == "template":
                    print(f"== {c} {st} {rel}\n{msg}\n", file=sys.stderr)
            if a.bench and built is not None:
                t = time.perf_counter()
                try:
                    sdk_template(built)
                except helm.HelmError:  # noqa
                    pass
                ts = time.perf_counter() - t
                t = time.perf_counter()
                ox(a.oxtask, ["template", "release-name", built])
                to = time.perf_counter() - t
                bench["sdk"] += ts
                bench["oxtask"] += to
                if bench["largest"] is None or ts > bench["largest"][1]:
                    bench["largest"] = (rel, ts, to)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if REGISTRY is not None:
            REGISTRY.stop()
    failed = False
    for c in checks:
        r = results[c]
        same = len(r.get("same", [])) + len(r.get("helm-refuses", [])) + len(r.get("same-random", []))
        compared = same + len(r.get("differ", [])) + len(r.get("error-text", []))
        pct = 100.0 * same / compared if compared else 0
        failed |= compared == 0 or pct < a.min_identical
        print(f"{c}: {compared} compared, {same} identical ({pct:.1f}%), "
              + ", ".join(f"{k} {len(v)}" for k, v in sorted(r.items())))
    if a.bench:
        print(json.dumps(bench))
    if a.report:
        with open(a.report, "w") as f:
            f.write("\n".join(report) + "\n")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
