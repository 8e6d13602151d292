#!/usr/bin/env python3
"""The shared task cache measured as "two CI machines" (issue 17, docs/cache.md).

    python3 bench/cache.py [--binary PATH] [--tasks 50] [--seconds 1] [--skip-oci] [--skip-reapi]

One generated project of N tasks, each with `sources`/`generates` and a command that
takes S seconds, run one after another (a `default` task calling them in order). For each
backend (a `file://` directory, then an OCI registry: the CNCF distribution registry
`docker-registry` started on a free loopback port), two fresh clones share the cache:

  * clone 1 runs everything (all misses, entries stored);
  * clone 2 must run zero commands and end with byte-identical `generates`.

Printed: the time of a run without any cache, of each clone, clone 2 / clone 1 (target
< 5%), and the miss overhead clone 1 / no cache - 1 (target <= 5%); then the time of a run
against an unreachable and a hanging cache server (target: at most 2 s over no cache, one
warning). The binary defaults to target/release/task, else target/debug/task.
"""
import argparse
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def taskfile(n, seconds):
    lines = ["version: '3'", "tasks:", "  default:", "    cmds:"]
    lines += [f"      - task: t{i:02d}" for i in range(n)]
    for i in range(n):
        lines += [
            f"  t{i:02d}:",
            f"    sources: [src/t{i:02d}.txt]",
            f"    generates: [out/t{i:02d}.bin]",
            "    cmds:",
            f"      - sleep {seconds}",
            f"      - mkdir -p out && sha256sum src/t{i:02d}.txt > out/t{i:02d}.bin",
            '      - echo ran >> "$RUN_LOG"',
            f"      - echo built t{i:02d}",
        ]
    return "\n".join(lines) + "\n"


def make_project(path, n, seconds):
    os.makedirs(os.path.join(path, "src"))
    with open(os.path.join(path, "Taskfile.yml"), "w") as f:
        f.write(taskfile(n, seconds))
    for i in range(n):
        with open(os.path.join(path, "src", f"t{i:02d}.txt"), "w") as f:
            f.write(f"input {i}\n" * 100)


def fresh_clone(base, name, template):
    dst = os.path.join(base, name)
    shutil.copytree(template, dst)
    return dst


def run(binary, cwd, args, env_extra=None):
    env = dict(os.environ)
    env.update({"NO_COLOR": "1", "RUN_LOG": os.path.join(cwd, ".runs")})
    for k in list(env):
        if k.startswith("OXTASK_CACHE"):
            del env[k]
    env.update(env_extra or {})
    t = time.monotonic()
    p = subprocess.run([binary] + args, cwd=cwd, env=env, capture_output=True)
    took = time.monotonic() - t
    if p.returncode != 0:
        log(p.stderr.decode(errors="replace"))
        raise SystemExit(f"run failed in {cwd}: exit {p.returncode}")
    return took, p


def runs(cwd):
    try:
        with open(os.path.join(cwd, ".runs")) as f:
            return len(f.read().splitlines())
    except FileNotFoundError:
        return 0


def outputs(cwd):
    out = {}
    d = os.path.join(cwd, "out")
    for name in sorted(os.listdir(d)):
        p = os.path.join(d, name)
        with open(p, "rb") as f:
            out[name] = (hashlib.sha256(f.read()).hexdigest(), os.stat(p).st_mode & 0o777)
    return out


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_registry(base):
    exe = shutil.which("docker-registry")
    if not exe:
        return None, None
    port = free_port()
    cfg = os.path.join(base, "registry.yml")
    with open(cfg, "w") as f:
        f.write(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
            f"storage:\n  filesystem:\n    rootdirectory: {base}/registry-data\n"
            f"http:\n  addr: 127.0.0.1:{port}\n"
        )
    proc = subprocess.Popen([exe, "serve", cfg], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("docker-registry did not start")


def start_buildgrid(base):
    """BuildGrid 0.4.4 (.ci/install-buildgrid.sh) with an in-memory CAS and ActionCache."""
    exe = os.path.join(REPO, ".ci/tools/buildgrid/bin/bgd")
    if not os.path.exists(exe):
        exe = shutil.which("bgd")
    if not exe:
        return None, None
    port = free_port()
    cfg = os.path.join(base, "bgd.yml")
    with open(cfg, "w") as f:
        f.write(
            f'server:\n  - !channel\n    address: "127.0.0.1:{port}"\n    insecure-mode: true\n\n'
            'instances:\n  - name: ""\n    storages:\n'
            "      - !lru-storage &cas-storage\n        size: 1024M\n"
            "    caches:\n      - !lru-action-cache &action-cache\n        storage: *cas-storage\n"
            "        max-cached-refs: 10000\n        allow-updates: true\n"
            "    services:\n      - !cas\n        storage: *cas-storage\n"
            "      - !bytestream\n        storage: *cas-storage\n"
            "      - !action-cache\n        cache: *action-cache\n"
        )
    proc = subprocess.Popen([exe, "server", "start", cfg], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(1800):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"127.0.0.1:{port}"
        except OSError:
            if proc.poll() is not None:
                raise SystemExit("bgd exited")
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("BuildGrid did not start")


def hanging_server():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    held = []

    def serve():
        while True:
            try:
                c, _ = s.accept()
            except OSError:
                return
            held.append(c)

    threading.Thread(target=serve, daemon=True).start()
    return s, s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary")
    ap.add_argument("--tasks", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--skip-oci", action="store_true")
    ap.add_argument("--skip-reapi", action="store_true")
    a = ap.parse_args()
    binary = a.binary
    if not binary:
        for prof in ("release", "debug"):
            p = os.path.join(REPO, "target", prof, "task")
            if os.path.exists(p):
                binary = p
                break
    if not binary:
        raise SystemExit("no task binary: build it (cargo build --release) or pass --binary")
    binary = os.path.abspath(binary)
    log(f"binary: {binary}")
    base = tempfile.mkdtemp(prefix="oxtask-cache-bench-")
    rows = []
    try:
        template = os.path.join(base, "template")
        make_project(template, a.tasks, a.seconds)

        c0 = fresh_clone(base, "nocache", template)
        t0, _ = run(binary, c0, [])
        log(f"no cache: {t0:.2f}s ({runs(c0)} commands)")
        rows.append(("no cache", t0, None))

        backends = [("file", f"file://{base}/file-cache")]
        reg = None
        if not a.skip_oci:
            reg, host = start_registry(base)
            if reg:
                backends.append(("oci", f"oci://{host}/bench/cache"))
            else:
                log("docker-registry not installed: OCI rows skipped")
        bg = None
        if not a.skip_reapi:
            bg, addr = start_buildgrid(base)
            if bg:
                backends.append(("reapi", f"grpc://{addr}"))
            else:
                log("BuildGrid not installed (.ci/install-buildgrid.sh): REAPI rows skipped")
        for name, url in backends:
            c1 = fresh_clone(base, f"{name}-1", template)
            c2 = fresh_clone(base, f"{name}-2", template)
            t1, _ = run(binary, c1, ["--cache", url])
            t2, p2 = run(binary, c2, ["--cache", url])
            n1, n2 = runs(c1), runs(c2)
            same = outputs(c1) == outputs(c2)
            log(f"{name}: clone 1 {t1:.2f}s ({n1} commands), clone 2 {t2:.2f}s ({n2} commands), "
                f"generates identical: {same}")
            if n2 != 0 or not same:
                raise SystemExit(f"{name}: clone 2 ran {n2} commands / outputs differ")
            rows.append((f"{name}: clone 1 (misses)", t1, t1 / t0 - 1))
            rows.append((f"{name}: clone 2 (hits)", t2, t2 / t1))
        for proc in (reg, bg):
            if proc:
                proc.kill()
                proc.wait()

        # Faulty servers: the run goes on; the cache costs at most 2 s, one warning.
        for what in ("unreachable", "hanging"):
            if what == "unreachable":
                url, srv = f"oci://127.0.0.1:{free_port()}/x/cache", None
            else:
                srv, port = hanging_server()
                url = f"oci://127.0.0.1:{port}/x/cache"
            c = fresh_clone(base, f"{what}", template)
            t, p = run(binary, c, ["--cache", url])
            warns = p.stderr.decode(errors="replace").count("warning: cache")
            log(f"{what} server: {t:.2f}s, {warns} warning(s), {runs(c)} commands")
            rows.append((f"{what} server", t, t - t0))
            if srv:
                srv.close()
    finally:
        shutil.rmtree(base, ignore_errors=True)

    print(f"\n{a.tasks} tasks x {a.seconds:g} s, run one after another\n")
    print(f"| {'run':<28} | {'time':>8} | {'ratio':>24} |")
    print(f"|{'-' * 30}|{'-' * 10}|{'-' * 26}|")
    for name, t, r in rows:
        if r is None:
            rs = ""
        elif "hits" in name:
            rs = f"{r * 100:.2f}% of clone 1"
        elif "server" in name:
            rs = f"+{r:.2f} s over no cache"
        else:
            rs = f"{r * 100:+.2f}% over no cache"
        print(f"| {name:<28} | {t:>7.2f}s | {rs:>24} |")


if __name__ == "__main__":
    main()
