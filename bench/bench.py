#!/usr/bin/env python3
"""oxtask beside go-task 3.54.0 on the benchmark workloads.

    python3 bench/bench.py [--runs N] [--only SUBSTR] [--keep DIR] [--interleave]

Builds the release binary (`task`) and the fingerprint probe example, installs go-task
3.54.0 if it is missing, generates the workloads with bench/gen.py (baseline figures of
go-task on them: bench/go-task-3.54-baseline.md), then times both binaries side
by side (hyperfine when present, else its own loop) and prints medians and ratios.

Rows where oxtask does not yet behave like go-task (exit code, or output compared as
sorted lines) are reported as "n/a" rather than timed. The "fingerprint probe" rows time
examples/fingerprint_check.rs: one process doing only the up-to-date check of the same
task through the library, beside go-task's full run.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GO_TASK_VERSION = "3.54.0"

# name, workload, args, runs, prepare (shell, run before each timing), target ratio
BENCHES = [
    ("version", "one", ["--version"], 30, None, None),
    ("list 1 task", "one", ["--list"], 30, None, None),
    ("list 1000 tasks", "thousand", ["--list"], 30, None, 0.10),
    ("list 10000 tasks", "tenk", ["--list"], 10, None, 0.10),
    ("list-all 1000 tasks", "thousand", ["--list-all"], 30, None, None),
    ("200 parallel deps", "deps200", [], 20, None, 0.1),
    ("200 parallel deps of ordinary commands", "ordinary200", [], 20, None, 0.5),
    ("200 parallel deps of : \"$HOME\"", "home200", [], 20, None, 0.5),
    ("500 parallel deps of ordinary commands", "ordinary500", [], 10, None, 0.5),
    ("up-to-date timestamp 100k", "big", ["timestamp"], 10, None, 0.2),
    ("up-to-date checksum 10k", "sources", ["checksum"], 20, None, 0.2),
    ("up-to-date timestamp 10k", "sources", ["timestamp"], 20, None, 0.2),
    ("status-flag checksum 10k", "sources", ["--status", "checksum"], 20, None, None),
    ("cold checksum build 10k", "sources", ["checksum"], 10,
     "rm -rf .task out-checksum.txt", None),
]


# The floor of each workload: what the same work costs without a task runner.
FLOORS = {
    "version": ["HELLO"],
    "list 1000 tasks": ["make", "-n"],
    "list 10000 tasks": ["make", "-n"],
    "up-to-date checksum 10k": ["find", "src", "-newer", "Taskfile.yml"],
    "up-to-date timestamp 10k": ["find", "src", "-newer", "Taskfile.yml"],
    "up-to-date timestamp 100k": ["find", "src", "-newer", "Taskfile.yml"],
    "200 parallel deps": ["true"],
}


def static_hello(work):
    """A static hello-world binary (the floor of process start-up), built with rustc."""
    src = os.path.join(work, "hello.rs")
    out = os.path.join(work, "hello")
    with open(src, "w") as f:
        f.write('fn main() { println!("hello"); }\n')
    run(["rustc", "-O", "-C", "target-feature=+crt-static", "-o", out, src],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return out


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def go_task_path():
    """go-task 3.54.0: $GO_TASK, else the `task` file of pip's go-task-bin package (found
    through the package's own file list, never PATH, where oxtask's `task` may come first).
    A binary that reports itself as oxtask is refused."""

    def check(p):
        out = subprocess.run([p, "--version"], capture_output=True, text=True, timeout=20)
        v = out.stdout + out.stderr
        if "oxtask" in v.lower():
            sys.exit(f"{p} is oxtask ({v.strip()}), not go-task")
        if GO_TASK_VERSION not in v:
            sys.exit(f"{p} reports {v.strip()!r}, not go-task {GO_TASK_VERSION}")
        return p

    cand = os.environ.get("GO_TASK")
    if cand:
        return check(cand)

    def from_pip():
        import importlib.metadata as md
        try:
            d = md.distribution("go-task-bin")
        except md.PackageNotFoundError:
            return None
        if d.version != GO_TASK_VERSION:
            return None
        files = [str(d.locate_file(f).resolve()) for f in (d.files or []) if f.name == "task"]
        return files[0] if files else None

    p = from_pip()
    if not p:
        log(f"installing go-task {GO_TASK_VERSION} (pip go-task-bin)")
        run([sys.executable, "-m", "pip", "install", "-q", f"go-task-bin=={GO_TASK_VERSION}"])
        import importlib
        importlib.invalidate_caches()
        p = from_pip()
    if not p:
        sys.exit("go-task-bin 3.54.0 did not install a task binary")
    return check(p)


def have_hyperfine():
    if shutil.which("hyperfine"):
        return True
    if shutil.which("apt-get") and os.geteuid() == 0:
        log("installing hyperfine (apt)")
        subprocess.run(["apt-get", "install", "-y", "-qq", "hyperfine"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return bool(shutil.which("hyperfine"))


def time_commands(cmds, cwd, runs, prepare, use_hyperfine):
    """(median wall seconds, mean CPU seconds user+system) of each command (argv)."""
    if use_hyperfine:
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
            out = f.name
        hf = ["hyperfine", "-N", "-i", "--warmup", "2", "--runs", str(runs), "--export-json", out,
              "--style", "none"]
        if prepare:
            hf += ["--prepare", prepare]
        hf += [" ".join(shlex_quote(a) for a in c) for c in cmds]
        run(hf, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(out) as fh:
            data = json.load(fh)
        os.unlink(out)
        return [(r["median"], r["user"] + r["system"]) for r in data["results"]]
    import resource
    times = [[] for _ in cmds]
    cpu = [[] for _ in cmds]
    for i in range(runs + 2):
        for k, c in enumerate(cmds):
            if prepare:
                subprocess.run(prepare, shell=True, cwd=cwd)
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run(c, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            dt = time.perf_counter() - t0
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            if i >= 2:
                times[k].append(dt)
                cpu[k].append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    return [(statistics.median(t), statistics.mean(c)) for t, c in zip(times, cpu)]


def shlex_quote(a):
    import shlex
    return shlex.quote(a)


def exit_code(cmd, cwd, prepare=None):
    return behaviour(cmd, cwd, prepare)[0]


def behaviour(cmd, cwd, prepare=None):
    """Exit code and the sorted lines of stdout and stderr (deps finish in any order)."""
    if prepare:
        subprocess.run(prepare, shell=True, cwd=cwd)
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    return p.returncode, sorted(p.stdout.splitlines()), sorted(p.stderr.splitlines())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, help="override the runs per benchmark")
    ap.add_argument("--only", action="append", help="benchmarks whose name contains this")
    ap.add_argument("--keep", help="generate the workloads here and keep them")
    ap.add_argument("--interleave", action="store_true",
                    help="time with our own loop, alternating the two tools run by run "
                         "(steadier than hyperfine's back-to-back series on a busy machine)")
    args = ap.parse_args()

    gen = os.path.join(REPO, "bench", "gen.py")

    log("building release binaries")
    run(["cargo", "build", "--release", "--quiet", "--bin", "task", "--example", "fingerprint_check"], cwd=REPO)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target"))
    ox = os.path.join(target, "release", "task")
    probe = os.path.join(target, "release", "examples", "fingerprint_check")
    go = go_task_path()
    hyper = not args.interleave and have_hyperfine()
    log(f"go-task: {go}; oxtask: {ox}; timing with {'hyperfine' if hyper else 'own loop'}")

    work = args.keep or tempfile.mkdtemp(prefix="oxtask-bench-")
    big = any("100k" in b[0] for b in BENCHES if not args.only or any(o in b[0] for o in args.only))
    env = dict(os.environ, BENCH_BIG="1" if big else "0")
    run([sys.executable, gen, work], stdout=subprocess.DEVNULL, env=env)
    hello = static_hello(work)
    sources = os.path.join(work, "sources")
    # Bring the 10k workload up to date once (both tools share go-task's state format).
    for t in ("checksum", "timestamp"):
        run([go, t], cwd=sources, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if big:
        run([go, "timestamp"], cwd=os.path.join(work, "big"), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)

    rows = []
    selected = [b for b in BENCHES if not args.only or any(o in b[0] for o in args.only)]
    for name, wl, targs, runs, prepare, goal in selected:
        runs = args.runs or runs
        cwd = os.path.join(work, wl)
        go_b = behaviour([go] + targs, cwd, prepare)
        ox_b = behaviour([ox] + targs, cwd, prepare)
        if "--status" in targs and ox_b == go_b:
            # A silent exit 0 proves little: both must also see a stale task.
            stale = "rm -rf .task/checksum"
            go_s = behaviour([go] + targs, cwd, stale)
            ox_s = behaviour([ox] + targs, cwd, stale)
            if go_s != ox_s:
                ox_b = ox_s
                go_b = go_s
            run([go, targs[-1]], cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if ox_b != go_b:
            g, = time_commands([[go] + targs], cwd, runs, prepare, hyper)
            what = "exit code" if ox_b[0] != go_b[0] else "output"
            rows.append((name, g, None, goal, f"oxtask not timed: its {what} differs from go-task's"))
        else:
            cmds = [[go] + targs, [ox] + targs]
            floor = FLOORS.get(name)
            if floor:
                cmds.append([hello if a == "HELLO" else a for a in floor])
            res = time_commands(cmds, cwd, runs, prepare, hyper)
            g, o = res[0], res[1]
            note = ""
            if floor:
                f = res[2]
                note = f"floor `{' '.join(floor).replace('HELLO', 'static hello')}` {f[0] * 1000:.1f} ms: oxtask {o[0] / f[0]:.2f}x floor"
            rows.append((name, g, o, goal, note))
        # The library probe beside go-task for the up-to-date rows.
        if wl == "sources" and prepare is None and targs[-1] in ("checksum", "timestamp") and "--status" not in targs:
            run([go] + targs, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            pcmd = [probe, ".", targs[-1]]
            if exit_code(pcmd, cwd) != 0:
                rows.append((name + " (fingerprint probe)", None, None, goal, "probe says not up to date"))
            else:
                g, o = time_commands([[go] + targs, pcmd], cwd, runs, None, hyper)
                rows.append((name + " (fingerprint probe)", g, o, goal, ""))
        log(f"done: {name}")

    try:
        load = "load average %.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        load = ""
    by = {r[0]: r for r in rows}
    a, b = by.get("list 1000 tasks"), by.get("list 10000 tasks")
    if a and b and a[2] and b[2]:
        rows.append(("list growth 1000 -> 10000 (oxtask)", None, None, None,
                     f"{b[2][0] / a[2][0]:.2f}x the time for 10x the tasks (target <= 11x)"))
    print(f"median wall time (ratio = oxtask / go-task); cpu = mean user+system per run; {load}")
    print(f"{'benchmark':44} {'go-task ms':>10} {'oxtask ms':>10} {'ratio':>7} {'target':>7} "
          f"{'go cpu':>7} {'ox cpu':>7} {'cpu ratio':>9}  note")
    for name, g, o, goal, note in rows:
        gs = f"{g[0] * 1000:10.1f}" if g else f"{'-':>10}"
        os_ = f"{o[0] * 1000:10.1f}" if o else f"{'n/a':>10}"
        ratio = f"{o[0] / g[0]:7.3f}" if (g and o) else f"{'-':>7}"
        gc = f"{g[1] * 1000:7.1f}" if g else f"{'-':>7}"
        oc = f"{o[1] * 1000:7.1f}" if o else f"{'-':>7}"
        cr = f"{o[1] / g[1]:9.3f}" if (g and o and g[1]) else f"{'-':>9}"
        tg = f"{goal:7.2f}" if goal else f"{'':>7}"
        ok = ""
        if g and o and goal:
            ok = "ok" if o[0] / g[0] <= goal else "MISSED"
        print(f"{name:44} {gs} {os_} {ratio} {tg} {gc} {oc} {cr}  {ok} {note}".rstrip())
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
