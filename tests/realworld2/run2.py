#!/usr/bin/env python3
"""Differential runner for the second real-world corpus (go-task 3.54.0 beside oxtask).

  python3 run2.py --corpus DIR --record --ref GO_TASK [--jobs N] [CASE...]
  python3 run2.py --corpus DIR --task OXTASK [--ref GO_TASK] [--diff] [--results F] [--sample N] [CASE...]

The corpus (built by build_corpus.py, kept outside this repository) holds
cases/<case>/{case.json,tree}. --record runs go-task once per comparison (twice with --twice) and
stores its answers under cases/<case>/expected/; without --record, oxtask runs once per
comparison and is compared exactly. With --ref, a comparison that differs is run by go-task
twice more, and if go-task's answers vary it is marked unstable (not compared).

Every invocation runs in a fresh copy of the tree, in a new network namespace (`unshare -rn`:
no network), under `env -i` with HOME/TMPDIR in fresh temp dirs, TERM=dumb, NO_COLOR=1, and a
PATH of stubs: a directory holding only a POSIX userland (no git, date, curl, docker, go, ...),
so `sh:` vars and commands that reach for other tools fail the same way in both, and nothing
depends on the clock. Timeout 20 s. The temp root is replaced by <ROOT> in outputs.

Comparisons per case (task names from go-task's `--list-all --json`):
  list, list-all, list-all-json, summary T (listed tasks + internal tasks of the root file),
  dry T (--dry --yes, listed tasks), dry-default, and run T for each listed task whose
  commands (with those of the tasks it calls or depends on, statically) are only echo/printf
  and a few harmless builtins on relative paths: exit code, stdout, stderr and the files the
  run created, changed or removed in the copy are compared.
A difference with equal exit codes and the same lines in another order is ORDER, not counted
(go-task runs deps in parallel and merges sibling includes in a random order).
"""
import argparse, concurrent.futures as cf, hashlib, json, os, re, shutil, subprocess, sys, tempfile

TIMEOUT = 20
USERLAND = ['sh', 'bash', 'echo', 'printf', 'cat', 'ls', 'grep', 'egrep', 'sed', 'awk', 'tr', 'cut',
            'head', 'tail', 'wc', 'sort', 'uniq', 'mkdir', 'rm', 'cp', 'mv', 'touch', 'test', '[',
            'true', 'false', 'env', 'basename', 'dirname', 'pwd', 'uname', 'find', 'xargs', 'tee',
            'expr', 'seq', 'sleep', 'ln', 'chmod', 'readlink', 'realpath', 'cmp', 'diff', 'od',
            'printenv', 'yes', 'id', 'whoami', 'nproc', 'dd', 'paste', 'rev', 'fold']
HARMLESS = {'echo', 'printf', 'true', 'false', ':', 'test', '[', 'exit', 'cat', 'ls', 'mkdir', 'touch',
            'pwd', 'sleep', 'basename', 'dirname', 'wc', 'head', 'tail', 'sort', 'uniq', 'tr', 'cut'}


def stub_path(base):
    d = os.path.join(base, 'rw2-stubs')
    if not os.path.isdir(d):
        os.makedirs(d + '.part', exist_ok=True)
        for n in USERLAND:
            for src in ('/usr/bin/' + n, '/bin/' + n):
                if os.path.exists(src):
                    os.symlink(src, os.path.join(d + '.part', n))
                    break
        os.rename(d + '.part', d)
    return d


def load_case(corpus, name):
    with open(os.path.join(corpus, 'cases', name, 'case.json')) as f:
        return json.load(f)


def tree_state(top):
    """path -> content hash (or '<dir>', '<link>target') of everything under top."""
    st = {}
    for dp, dns, fns in os.walk(top):
        for n in dns:
            p = os.path.join(dp, n)
            if os.path.islink(p):
                st[os.path.relpath(p, top)] = '<link>' + os.readlink(p)
            else:
                st[os.path.relpath(p, top) + '/'] = '<dir>'
        for n in fns:
            p = os.path.join(dp, n)
            if os.path.islink(p):
                st[os.path.relpath(p, top)] = '<link>' + os.readlink(p)
            else:
                try:
                    st[os.path.relpath(p, top)] = hashlib.sha256(open(p, 'rb').read()).hexdigest()[:16]
                except OSError:
                    st[os.path.relpath(p, top)] = '<unreadable>'
    return st


def run_one(binary, corpus, case, meta, args, stubs, files=False):
    root = tempfile.mkdtemp(prefix='rw2-')
    try:
        work = os.path.join(root, 'w')
        home = os.path.join(root, 'h')
        tmp = os.path.join(root, 't')
        src = os.path.realpath(os.path.join(corpus, 'cases', case, 'tree'))
        shutil.copytree(src, work, symlinks=True)
        os.makedirs(home)
        os.makedirs(tmp)
        before = tree_state(work) if files else None
        cwd = os.path.normpath(os.path.join(work, meta.get('dir', '.')))
        env = {'PATH': stubs, 'HOME': home, 'TMPDIR': tmp, 'TERM': 'dumb', 'NO_COLOR': '1'}
        try:
            p = subprocess.run(['unshare', '-rn', 'env', '-i'] + [f'{k}={v}' for k, v in env.items()]
                               + [binary] + args, cwd=cwd, capture_output=True, timeout=TIMEOUT,
                               stdin=subprocess.DEVNULL)
            rc, out, err = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            rc, out, err = 124, e.stdout or b'', (e.stderr or b'') + b'\n<TIMEOUT>'
        out = out.decode('utf-8', 'replace')
        err = err.decode('utf-8', 'replace')
        real = os.path.realpath(root)
        for r in sorted({real, root}, key=len, reverse=True):
            out = out.replace(r, '<ROOT>')
            err = err.replace(r, '<ROOT>')
        res = {'rc': rc, 'stdout': out, 'stderr': err}
        if files:
            after = tree_state(work)
            res['files'] = sorted(f'{k} {after.get(k, "<gone>")}' for k in set(before) | set(after)
                                  if before.get(k) != after.get(k))
        return res
    finally:
        shutil.rmtree(root, ignore_errors=True)


def safe(s):
    return re.sub(r'[^A-Za-z0-9_.-]', lambda m: '%%%02X' % ord(m.group()), s)


def load_yaml(path):
    import yaml
    try:
        return yaml.safe_load(open(path))
    except Exception:
        return None


def root_tasks(corpus, case, meta):
    y = load_yaml(os.path.join(corpus, 'cases', case, 'tree', meta['taskfile']))
    t = (y or {}).get('tasks') if isinstance(y, dict) else None
    return t if isinstance(t, dict) else {}


SEP = re.compile(r'&&|\|\||[;|\n]')


def cmd_harmless(text):
    if re.search(r'[`$<>]|\.\.|~', text):  # substitutions, redirections, parent paths
        return False
    for part in SEP.split(text):
        words = part.split()
        if not words:
            continue
        if words[0] not in HARMLESS or any(w.startswith('/') for w in words[1:]):
            return False
    return True


def task_harmless(tasks, name, seen):
    """A task of the root file whose commands (and those of the tasks it calls) are harmless."""
    if name in seen:
        return True
    seen.add(name)
    t = tasks.get(name)
    if t is None:
        return False
    if isinstance(t, str):
        return cmd_harmless(t)
    if isinstance(t, list):
        return all(isinstance(c, str) and cmd_harmless(c) for c in t)
    if not isinstance(t, dict):
        return False
    if any(k in t for k in ('sources', 'generates', 'status', 'preconditions', 'dotenv', 'watch',
                            'interactive', 'prompt', 'requires')):
        return False
    for v in (t.get('vars') or {}).values():
        if isinstance(v, dict) and 'sh' in v:
            return False
    cmds = t.get('cmds') or []
    if isinstance(cmds, str):
        cmds = [cmds]
    if not cmds and 'cmd' in t:
        cmds = [t['cmd']]
    for c in cmds:
        if isinstance(c, str):
            if not cmd_harmless(c):
                return False
        elif isinstance(c, dict):
            if 'task' in c:
                if not isinstance(c['task'], str) or not task_harmless(tasks, c['task'], seen):
                    return False
            elif 'cmd' in c:
                if not isinstance(c['cmd'], str) or not cmd_harmless(c['cmd']) or 'for' in c:
                    return False
            elif 'defer' in c:
                d = c['defer']
                if not (isinstance(d, str) and cmd_harmless(d)):
                    return False
            else:
                return False
        else:
            return False
    for d in t.get('deps') or []:
        n = d if isinstance(d, str) else (d.get('task') if isinstance(d, dict) else None)
        if not isinstance(n, str) or not task_harmless(tasks, n, seen):
            return False
    return True


def comparisons(corpus, case, meta, listing_json):
    comps = [('list', ['--list']), ('list-all', ['--list-all']), ('list-all-json', ['--list-all', '--json'])]
    names = []
    if listing_json is not None:
        try:
            names = [t['name'] for t in json.loads(listing_json)['tasks']]
        except Exception:
            names = []
    tasks = root_tasks(corpus, case, meta)
    internal = sorted(k for k, t in tasks.items() if isinstance(t, dict) and t.get('internal') is True)
    for t in names + [t for t in internal if t not in names]:
        comps.append(('summary', ['--summary', t]))
    for t in names:
        comps.append(('dry', ['--dry', '--yes', t]))
    comps.append(('dry-default', ['--dry', '--yes']))
    for t in names:
        if t in tasks and task_harmless(tasks, t, set()):
            comps.append(('run', ['--yes', t]))
    return comps


def cid(kind, args):
    return kind + ('__' + safe(args[-1]) if kind in ('summary', 'dry', 'run') else '')


def record(corpus, ref, cases, jobs, stubs, twice):
    for case in cases:
        meta = load_case(corpus, case)
        exp = os.path.join(corpus, 'cases', case, 'expected')
        shutil.rmtree(exp, ignore_errors=True)
        os.makedirs(exp)
        lj = run_one(ref, corpus, case, meta, ['--list-all', '--json'], stubs)
        comps = comparisons(corpus, case, meta, lj['stdout'] if lj['rc'] == 0 else None)

        def both(k, a):
            f = k == 'run'
            r1 = run_one(ref, corpus, case, meta, a, stubs, f)
            return (r1, run_one(ref, corpus, case, meta, a, stubs, f) if twice else r1)

        index, unstable = [], 0
        with cf.ThreadPoolExecutor(jobs) as ex:
            futs = [(k, a, ex.submit(both, k, a)) for k, a in comps]
            for k, a, fu in futs:
                r1, r2 = fu.result()
                stable = r1 == r2
                unstable += not stable
                rec = dict(r1, args=a, kind=k, stable=stable)
                if not stable:
                    rec['second'] = r2
                name = cid(k, a)
                with open(os.path.join(exp, name + '.json'), 'w') as f:
                    json.dump(rec, f, indent=1, ensure_ascii=False)
                index.append({'id': name, 'kind': k, 'args': a})
        with open(os.path.join(exp, 'index.json'), 'w') as f:
            json.dump(index, f, indent=1, ensure_ascii=False)
        print(f'recorded {case}: {len(comps)} comparisons, {unstable} unstable', flush=True)


def first_diff(a, b):
    al, bl = a.splitlines(), b.splitlines()
    for i in range(max(len(al), len(bl))):
        x = al[i] if i < len(al) else '<EOF>'
        y = bl[i] if i < len(bl) else '<EOF>'
        if x != y:
            return f'line {i + 1}: want {x[:160]!r} got {y[:160]!r}'
    return 'trailing whitespace/newline'


def check(corpus, binary, cases, jobs, show_diff, results_path, stubs, sample, ref):
    passed = failed = unstable = reordered = 0
    per_kind, crashes, results = {}, [], []
    case_ok = {}
    for case in cases:
        meta = load_case(corpus, case)
        exp = os.path.join(corpus, 'cases', case, 'expected')
        if not os.path.exists(os.path.join(exp, 'index.json')):
            print(f'NOREC {case}: no recording (run with --record)')
            continue
        index = json.load(open(os.path.join(exp, 'index.json')))
        if sample:
            index = index[:sample]
        case_ok.setdefault(case, True)
        with cf.ThreadPoolExecutor(jobs) as ex:
            futs = [(e, ex.submit(run_one, binary, corpus, case, meta, e['args'], stubs, e['kind'] == 'run'))
                    for e in index]
            for e, fu in futs:
                want = json.load(open(os.path.join(exp, e['id'] + '.json')))
                got = fu.result()
                k = e['kind']
                pk = per_kind.setdefault(k, [0, 0, 0, 0])
                if got['rc'] == 124 or 'panicked' in got['stderr'] or got['rc'] < 0 or got['rc'] == 101:
                    crashes.append(f'{case} {" ".join(e["args"])}: rc={got["rc"]} {got["stderr"][-300:]!r}')
                if not want['stable']:
                    unstable += 1
                    pk[2] += 1
                    continue
                bad = []
                if want['rc'] != got['rc']:
                    bad.append(f'rc want {want["rc"]} got {got["rc"]}')
                for s in ('stdout', 'stderr'):
                    if want[s] != got[s]:
                        bad.append(s + ' ' + first_diff(want[s], got[s]))
                if want.get('files') != got.get('files'):
                    bad.append(f'files want {want.get("files")} got {got.get("files")}')
                if bad and ref and want['stable'] and not want.get('rechecked'):
                    # recorded once: a difference counts only if go-task answers the same twice more
                    again = [run_one(ref, corpus, case, meta, e['args'], stubs, k == 'run') for _ in range(2)]
                    want['rechecked'] = True
                    if any(x != {y: want[y] for y in x} for x in again):
                        want['stable'] = False
                        want['second'] = next(x for x in again if x != {y: want[y] for y in x})
                    with open(os.path.join(exp, e['id'] + '.json'), 'w') as f:
                        json.dump(want, f, indent=1, ensure_ascii=False)
                    if not want['stable']:
                        unstable += 1
                        pk[2] += 1
                        continue
                order_only = bool(bad) and want['rc'] == got['rc'] and want.get('files') == got.get('files') and all(
                    sorted(want[s].splitlines()) == sorted(got[s].splitlines()) for s in ('stdout', 'stderr'))
                results.append({'case': case, 'kind': k, 'args': e['args'], 'ok': not bad, 'order_only': order_only,
                                'want': {x: want.get(x) for x in ('rc', 'stdout', 'stderr', 'files')},
                                'got': got})
                if order_only:
                    reordered += 1
                    pk[3] += 1
                elif bad:
                    failed += 1
                    pk[1] += 1
                    case_ok[case] = False
                    print(f'FAIL {case} [{k}] {" ".join(e["args"])}: ' + '; '.join(bad))
                    if show_diff:
                        for s in ('stdout', 'stderr'):
                            if want[s] != got[s]:
                                print(f'  --- want {s}:\n' + want[s][:1500] + f'\n  --- got {s}:\n' + got[s][:1500])
                else:
                    passed += 1
                    pk[0] += 1
    if results_path:
        with open(results_path, 'w') as f:
            json.dump(results, f, indent=1, ensure_ascii=False)
    for c in crashes:
        print('CRASH/HANG ' + c)
    for k, (p, f_, u, o) in sorted(per_kind.items()):
        print(f'  {k}: {p} passed, {f_} failed, {u} unstable (not compared), {o} order-only (not counted)')
    print(f'{unstable} unstable reference comparisons skipped; {reordered} order-only differences not counted')
    print(f'projects: {sum(case_ok.values())} of {len(case_ok)} match on every comparison')
    print(f'{passed} passed, {failed} failed')
    return failed == 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--corpus', required=True)
    ap.add_argument('--task')
    ap.add_argument('--ref')
    ap.add_argument('--record', action='store_true')
    ap.add_argument('--diff', action='store_true')
    ap.add_argument('--jobs', type=int, default=2)
    ap.add_argument('--results')
    ap.add_argument('--twice', action='store_true', help='record each comparison twice; mark differing ones unstable')
    ap.add_argument('--sample', type=int, default=0, help='compare only the first N comparisons of each case')
    ap.add_argument('cases', nargs='*')
    a = ap.parse_args()
    corpus = os.path.abspath(a.corpus)
    stubs = stub_path(corpus)
    cases = a.cases or sorted(d for d in os.listdir(os.path.join(corpus, 'cases'))
                              if os.path.isfile(os.path.join(corpus, 'cases', d, 'case.json')))
    if a.record:
        record(corpus, os.path.abspath(a.ref), cases, a.jobs, stubs, a.twice)
    else:
        sys.exit(0 if check(corpus, os.path.abspath(a.task), cases, a.jobs, a.diff, a.results, stubs, a.sample,
                           os.path.abspath(a.ref) if a.ref else None) else 1)


if __name__ == '__main__':
    main()
