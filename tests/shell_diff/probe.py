#!/usr/bin/env python3
"""Differential probe: go-task 3.54.0 beside oxtask on shell snippets (docs/shell.md,
"A probe beyond the corpus"); not part of `cargo test` (tests/shell_diff.rs runs the kept
cases).

    PROBE_GO_TASK=PATH PROBE_OXTASK=PATH PROBE_OUT=DIR \
        python3 tests/shell_diff/probe.py [--tag=T] FILE...

Each snippet runs as a task in a fresh directory, by both tools; exit code, stdout, stderr
and the files left behind are compared (a difference go-task itself does not repeat is
counted as nondeterministic). With --tag=T it writes OUT/results-T.json and prints
"ran N, differ M"; without, also OUT/differing.txt and OUT/all_diffs.md.
"""
import concurrent.futures as cf
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

GO = os.path.abspath(os.environ.get("PROBE_GO_TASK") or shutil.which("task") or "task")
OX = os.path.abspath(os.environ.get("PROBE_OXTASK", "target/debug/task"))
ROOT = os.environ.get("PROBE_OUT") or tempfile.mkdtemp(prefix="probe-")
WORK = None  # created in main()

# The same directory tests/shell_diff.rs `fixture` makes (keep the two in step): a probe
# snippet that passes here passes there once moved to cases.txt.
FIXTURE = [
    ("a.txt", "alpha\n"),
    ("b.txt", "beta\n"),
    ("c.md", "see\n"),
    ("sub/d.txt", "delta\n"),
    (".hidden", "h\n"),
    ("sp ace.txt", "s\n"),
    ("empty", ""),
]


def parse(path):
    cases = []
    cur = None
    for line in open(path, encoding="utf-8").read().split("\n"):
        if line.startswith("## "):
            cur = {"name": line[3:].strip(), "stdin": None, "set": [], "shopt": [], "script": ""}
            cases.append(cur)
            continue
        if cur is None:
            continue
        if cur["script"] == "" and line.startswith("#! stdin: "):
            cur["stdin"] = line[len("#! stdin: "):].replace("\\n", "\n").replace("\\t", "\t")
        elif cur["script"] == "" and line.startswith("#! set: "):
            cur["set"].append(line[len("#! set: "):].strip())
        elif cur["script"] == "" and line.startswith("#! shopt: "):
            cur["shopt"].append(line[len("#! shopt: "):].strip())
        else:
            cur["script"] += line + "\n"
    for c in cases:
        c["script"] = c["script"].rstrip("\n") + "\n"
    return cases


def taskfile(c):
    t = "version: '3'\n"
    if c["set"]:
        t += "set: [%s]\n" % ", ".join(c["set"])
    if c["shopt"]:
        t += "shopt: [%s]\n" % ", ".join(c["shopt"])
    t += "tasks:\n  t:\n    cmds:\n      - |\n"
    for l in c["script"].splitlines():
        t += ("        " + l + "\n") if l else "\n"
    return t


def make_dir(d, c):
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, "sub"))
    for f, body in FIXTURE:
        with open(os.path.join(d, f), "w") as fh:
            fh.write(body)
    with open(os.path.join(d, "Taskfile.yml"), "w") as fh:
        fh.write(taskfile(c))


def snapshot(d):
    out = {}
    for root, dirs, files in os.walk(d):
        dirs.sort()
        for f in sorted(files) + [x + "/" for x in dirs]:
            p = os.path.join(root, f.rstrip("/"))
            rel = os.path.relpath(p, d)
            if rel == "Taskfile.yml" or rel.startswith(".task"):
                continue
            if f.endswith("/"):
                out[rel + "/"] = ""
            elif os.path.islink(p):
                out[rel] = "->" + os.readlink(p)
            else:
                try:
                    with open(p, "rb") as fh:
                        out[rel] = fh.read().decode("utf-8", "replace")
                except OSError as e:
                    out[rel] = "ERR " + str(e)
    return out


def run_one(binary, d, c):
    make_dir(d, c)
    env = {"PATH": "/usr/bin:/bin", "HOME": "/home/tester", "X": "x  y", "EMPTY": "", "NO_COLOR": "1"}
    try:
        p = subprocess.run(["nice", "-n", "5", binary, "--silent", "t"], cwd=d, env=env,
                           input=(c["stdin"] or "").encode(), capture_output=True, timeout=10)
        rc, so, se = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        rc, so, se = "TIMEOUT", e.stdout or b"", e.stderr or b""
    clean = lambda b: b.decode("utf-8", "replace").replace(d, "DIR")
    files = snapshot(d)
    return {"rc": rc, "out": clean(so), "err": clean(se), "files": files}


def compare(args):
    k, c = args
    gd = os.path.join(WORK, "g%d" % k)
    od = os.path.join(WORK, "o%d" % k)
    # Use the same directory path for both so that paths in messages agree.
    d = os.path.join(WORK, "c%d" % k)
    g = run_one(GO, d, c)
    o = run_one(OX, d, c)
    key = lambda x: (x["rc"], x["out"], x["err"], x["files"])
    if key(g) != key(o):
        # Re-run go-task twice: if its own output varies, the case is nondeterministic.
        for _ in range(2):
            if key(run_one(GO, d, c)) != key(g):
                g["flaky"] = True
                break
    shutil.rmtree(d, ignore_errors=True)
    return c, g, o


def fmt_case(c):
    s = "## %s\n" % c["name"]
    if c["stdin"] is not None:
        s += "#! stdin: %s\n" % c["stdin"].replace("\n", "\\n").replace("\t", "\\t")
    for v in c["set"]:
        s += "#! set: %s\n" % v
    for v in c["shopt"]:
        s += "#! shopt: %s\n" % v
    return s + c["script"]


def block(t):
    t = t if t.endswith("\n") or t == "" else t + "\n"
    return "```\n" + t + "```\n"


def main():
    global WORK
    WORK = tempfile.mkdtemp(prefix="runs-", dir=ROOT)
    args = sys.argv[1:]
    tag = ""
    if args and args[0].startswith("--tag="):
        tag = args.pop(0)[len("--tag="):]
    files = args or sorted(glob.glob(os.path.join(ROOT, "cases", "*.txt")))
    cases = []
    for f in files:
        cases += parse(f)
    names = [c["name"] for c in cases]
    dups = {n for n in names if names.count(n) > 1}
    if dups:
        print("duplicate names:", dups)
    results = []
    with cf.ThreadPoolExecutor(max_workers=2) as ex:
        for c, g, o in ex.map(compare, enumerate(cases)):
            same = (g["rc"], g["out"], g["err"], g["files"]) == (o["rc"], o["out"], o["err"], o["files"])
            flaky = bool(g.get("flaky"))
            results.append({"case": c, "go": g, "ox": o, "same": same or flaky, "flaky": flaky})
            print(("FLAKY " if flaky else "SAME " if same else "DIFF ") + c["name"], flush=True)
    shutil.rmtree(WORK, ignore_errors=True)
    json.dump(results, open(os.path.join(ROOT, "results%s.json" % ("-" + tag if tag else "")), "w"), indent=1)
    if tag:
        print("ran %d, differ %d" % (len(results), sum(not r["same"] for r in results)))
        return
    with open(os.path.join(ROOT, "snippets.txt"), "w") as fh:
        fh.write("# Snippets run by /tmp/probe/run.py (format as existing_cases.txt)\n")
        for r in results:
            fh.write(fmt_case(r["case"]))
    diffs = [r for r in results if not r["same"]]
    flaky = [r for r in results if r.get("flaky")]
    with open(os.path.join(ROOT, "flaky.txt"), "w") as fh:
        fh.write("# Snippets whose go-task output is itself nondeterministic (not counted as differences)\n")
        for r in flaky:
            fh.write(fmt_case(r["case"]))
    with open(os.path.join(ROOT, "differing.txt"), "w") as fh:
        fh.write("# Snippets whose behaviour differs between go-task 3.54.0 and oxtask\n")
        for r in diffs:
            fh.write(fmt_case(r["case"]))
    with open(os.path.join(ROOT, "all_diffs.md"), "w") as fh:
        fh.write("# All differing snippets (%d of %d)\n\n" % (len(diffs), len(results)))
        for r in diffs:
            c, g, o = r["case"], r["go"], r["ox"]
            fh.write("### %s\n\n" % c["name"])
            fh.write(block(fmt_case(c)))
            for lab, x in (("go-task", g), ("oxtask", o)):
                fh.write("\n**%s**: exit %s\n\nstdout:\n%s\nstderr:\n%s" % (lab, x["rc"], block(x["out"]), block(x["err"])))
            if g["files"] != o["files"]:
                fh.write("\nfiles differ:\n")
                for k in sorted(set(g["files"]) | set(o["files"])):
                    if g["files"].get(k) != o["files"].get(k):
                        fh.write("- %s: go=%r ox=%r\n" % (k, g["files"].get(k), o["files"].get(k)))
            fh.write("\n")
    print("ran %d, differ %d" % (len(results), len(diffs)))


if __name__ == "__main__":
    main()
