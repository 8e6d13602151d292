#!/usr/bin/env python3
"""Runs each probe(name, taskfile, args, files, env) of the given file with go-task and oxtask in
fresh temp dirs and prints SAME or DIFF (exit code, stdout, stderr, files).

  GO_TASK=... OXTASK=target/debug/task python3 probe.py probes/changelog1.py
"""
import os, subprocess, sys, tempfile, shutil, json
GO = os.environ.get('GO_TASK', '/root/.pyenv/versions/3.11.7/bin/task')
OX = os.path.abspath(os.environ.get('OXTASK', 'target/debug/task'))

def run(bin, tf, files, args, env_extra):
    d = tempfile.mkdtemp(prefix='probe-')
    try:
        open(os.path.join(d, 'Taskfile.yml'), 'w').write(tf)
        for p, c in files.items():
            f = os.path.join(d, p); os.makedirs(os.path.dirname(f), exist_ok=True); open(f, 'w').write(c)
        env = {'PATH': '/usr/local/bin:/usr/bin:/bin', 'HOME': d, 'NO_COLOR': '1'}
        env.update(env_extra)
        p = subprocess.run([bin] + args, cwd=d, env=env, capture_output=True, timeout=20, stdin=subprocess.DEVNULL)
        files_after = sorted(os.path.relpath(os.path.join(dp, n), d) for dp, dns, fns in os.walk(d) for n in dns + fns)
        clean = lambda b: b.decode('utf-8', 'replace').replace(d, '<ROOT>')
        return (p.returncode, clean(p.stdout), clean(p.stderr), files_after)
    finally:
        shutil.rmtree(d, ignore_errors=True)

def probe(name, tf, args, files={}, env={}):
    a = run(GO, tf, files, args, env)
    b = run(OX, tf, files, args, env)
    if a == b:
        print(f'SAME {name}')
    else:
        print(f'DIFF {name} {args}')
        for i, lab in enumerate(['rc', 'stdout', 'stderr', 'files']):
            if a[i] != b[i]:
                print(f'  {lab}:\n    go: {a[i]!r}\n    ox: {b[i]!r}')

exec(open(sys.argv[1]).read())
