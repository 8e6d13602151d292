#!/usr/bin/env python3
"""Build the second real-world corpus from git snapshots of public repositories.

  python3 build_corpus.py --mirror DIR --out CORPUS [--manifest manifest.json] [--scan]

--scan   : look at every DIR/<owner>+<name>/repo, pick the Taskfiles, write the manifest
           (repo, commit, licence, Taskfile, run dir) and the corpus.
otherwise: read the manifest and (re)build CORPUS/cases/<case>/tree from the snapshots at the
           recorded commits.

The trees stay outside this repository: they are other projects' files. Each tree is the
project's files at the commit (files over 512 KiB left out); a repository over 3000 files or
20 MiB keeps only its YAML files, dotenv files and Taskfiles. The licence file is copied along.
"""
import argparse, json, os, re, subprocess, sys

SKIP_REPOS = {  # already in ../shared/realworld
    'go-task/task', 'wailsapp/wails', 'arduino/arduino-cli', 'arduino/arduino-lint',
    'arduino/arduino-create-agent', 'arduino/tooling-project-assets', 'FerretDB/FerretDB',
    'filebrowser/filebrowser', 'vektra/mockery',
}
TASKFILE = re.compile(r'(^|/)(Taskfile|taskfile)(\.dist)?\.ya?ml$')
MAX_FILE = 512 * 1024


def git(gd, *args):
    return subprocess.run(['git', '--git-dir', gd] + list(args), capture_output=True, check=True).stdout


def licence_of(gd, commit):
    names = git(gd, 'ls-tree', '--name-only', commit).decode().split('\n')
    lic = next((n for n in names if re.match(r'(?i)^(licen[cs]e|copying)', n)), None)
    if not lic:
        return None, 'none'
    text = git(gd, 'show', f'{commit}:{lic}').decode('utf-8', 'replace')
    t = ' '.join(text.split()).lower()
    # the title first: GPL-3.0's text mentions the Affero licence, MPL notices mention others
    for hay in (t[:400], t):
        for key, name in LICENCES:
            if key in hay:
                return lic, name
    return lic, 'other'


LICENCES = [('apache license', 'Apache-2.0'), ('mit license', 'MIT'),
                      ('permission is hereby granted, free of charge', 'MIT'),
                      ('gnu affero general public license', 'AGPL-3.0'),
                      ('gnu lesser general public license', 'LGPL'),
                      ('gnu general public license', 'GPL'), ('mozilla public license', 'MPL-2.0'),
                      ('creative commons', 'CC'), ('unlicense', 'Unlicense'),
                      ('redistribution and use in source and binary forms', 'BSD'), ('isc license', 'ISC')]


def files_of(gd, commit):
    out = git(gd, 'ls-tree', '-r', '-l', commit).decode('utf-8', 'replace')
    res = []
    for line in out.splitlines():
        meta, path = line.split('\t', 1)
        mode, typ, sha, size = meta.split()
        if typ != 'blob':
            continue
        if not size.isdigit():
            continue  # blob absent from the snapshot
        res.append((path, mode, sha, int(size)))
    return res


def wanted(files):
    small = [f for f in files if f[3] <= MAX_FILE]
    if len(small) <= 3000 and sum(f[3] for f in small) <= 20 * 1024 * 1024:
        return small
    keep = re.compile(r'(?i)(\.ya?ml$|(^|/)\.env[^/]*$|(^|/)\.taskrc|(^|/)taskfile)')
    return [f for f in small if keep.search(f[0])]


def extract(gd, commit, files, dest):
    for path, mode, sha, _ in files:
        p = os.path.join(dest, path)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        if mode == '120000':
            try:
                os.symlink(git(gd, 'cat-file', 'blob', sha).decode(), p)
            except OSError:
                pass
            continue
        if mode == '160000':
            continue
        with open(p, 'wb') as f:
            f.write(git(gd, 'cat-file', 'blob', sha))
        if mode == '100755':
            os.chmod(p, 0o755)


def included_paths(root_dir, tf_path, seen=None):
    """Taskfiles reachable through includes (best effort; templated paths are skipped)."""
    import yaml
    seen = seen if seen is not None else set()
    if tf_path in seen:
        return seen
    seen.add(tf_path)
    try:
        y = yaml.safe_load(open(os.path.join(root_dir, tf_path)))
    except Exception:
        return seen
    inc = (y or {}).get('includes') if isinstance(y, dict) else None
    if not isinstance(inc, dict):
        return seen
    base = os.path.dirname(tf_path)
    for v in inc.values():
        p = v.get('taskfile') if isinstance(v, dict) else v
        if not isinstance(p, str) or '{{' in p or '://' in p:
            continue
        full = os.path.normpath(os.path.join(base, p))
        if os.path.isdir(os.path.join(root_dir, full)):
            for n in ('Taskfile.yml', 'taskfile.yml', 'Taskfile.yaml', 'taskfile.yaml'):
                if os.path.isfile(os.path.join(root_dir, full, n)):
                    full = os.path.join(full, n)
                    break
        included_paths(root_dir, full, seen)
    return seen


def scan(mirror, out):
    manifest = []
    for d in sorted(os.listdir(mirror)):
        gd = os.path.join(mirror, d, 'repo')
        if '+' not in d or not os.path.isdir(gd):
            continue
        repo = d.replace('+', '/', 1)
        if repo in SKIP_REPOS:
            continue
        try:
            commit = git(gd, 'rev-parse', 'HEAD').decode().strip()
            files = files_of(gd, commit)
        except subprocess.CalledProcessError:
            continue
        tfs = sorted((f[0] for f in files if TASKFILE.search(f[0]) and not f[0].startswith('testdata/')),
                     key=lambda p: (p.count('/'), p))
        if not tfs:
            continue
        lic, spdx = licence_of(gd, commit)
        case_base = d.replace('+', '__')
        tree = os.path.join(out, 'cases', case_base, 'tree')
        if not os.path.isdir(tree):
            extract(gd, commit, wanted(files), tree)
        covered = set()
        n = 0
        for tf in tfs:
            if tf in covered or n >= 3:
                continue
            covered |= included_paths(tree, tf)
            name = case_base if n == 0 else case_base + '__' + re.sub(r'[^A-Za-z0-9_.-]', '_', os.path.dirname(tf))
            manifest.append({'case': name, 'repo': repo, 'commit': commit, 'licence': spdx,
                             'licence_file': lic, 'taskfile': tf, 'dir': os.path.dirname(tf) or '.',
                             'tree': case_base})
            n += 1
    return manifest


def write_cases(out, manifest):
    for m in manifest:
        cdir = os.path.join(out, 'cases', m['case'])
        os.makedirs(cdir, exist_ok=True)
        if m['case'] != m['tree'] and not os.path.exists(os.path.join(cdir, 'tree')):
            os.symlink(os.path.join('..', m['tree'], 'tree'), os.path.join(cdir, 'tree'))
        with open(os.path.join(cdir, 'case.json'), 'w') as f:
            json.dump({k: m[k] for k in ('repo', 'commit', 'licence', 'taskfile', 'dir')}, f, indent=1)


def rebuild(mirror, out, manifest):
    for m in manifest:
        if m['case'] != m['tree']:
            continue
        gd = os.path.join(mirror, m['repo'].replace('/', '+', 1), 'repo')
        tree = os.path.join(out, 'cases', m['tree'], 'tree')
        if os.path.isdir(tree):
            continue
        extract(gd, m['commit'], wanted(files_of(gd, m['commit'])), tree)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--mirror', default='/work/.mirror')
    ap.add_argument('--out', required=True)
    ap.add_argument('--manifest', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), 'manifest.json'))
    ap.add_argument('--scan', action='store_true')
    a = ap.parse_args()
    if a.scan:
        manifest = scan(a.mirror, a.out)
        for m in manifest:
            gd = os.path.join(a.mirror, m['repo'].replace('/', '+', 1), 'repo')
            m['licence_file'], m['licence'] = licence_of(gd, m['commit'])
        with open(a.manifest, 'w') as f:
            json.dump(manifest, f, indent=1)
            f.write('\n')
    else:
        manifest = json.load(open(a.manifest))
        rebuild(a.mirror, a.out, manifest)
    write_cases(a.out, manifest)
    print(f'{len(manifest)} cases from {len({m["repo"] for m in manifest})} repositories')


if __name__ == '__main__':
    main()
