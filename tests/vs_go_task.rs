//! Differential checks against the real go-task 3.54.0: source globbing, checksums,
//! gitignore filtering and dotenv parsing. For globbing:
//! for many pattern shapes, go-task prints its `for: sources` items and writes its
//! checksum file; ours must agree exactly.
//!
//! Needs go-task 3.54.0 (`GO_TASK=/path`, or pip's go-task-bin; see tests/support/gotask.rs
//! and .ci/install-uptodate.sh). Without it the test is skipped with a message, except under
//! CI=true where it fails.

#[path = "support/gotask.rs"]
mod gotask;

use std::fs;
use std::path::Path;
use std::process::Command;

use oxtask::run::fingerprint::{for_items, Fingerprint, GlobSpec, Method, SpecialVar};

fn write(root: &Path, rel: &str, content: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, content).unwrap();
}

/// Pattern sets: `exclude:x` marks an `exclude:` entry (a leading `!` is no negation in
/// go-task 3.54, just part of the name).
const CASES: &[&[&str]] = &[
    &["src/**/*.txt"],
    &["src/**"],
    &["src/*"],
    &["src/*/*.txt"],
    &["./src/{a,b}.txt"],
    &["src/.*"],
    &["src/[ab].txt"],
    &["src/[!a]*.txt"],
    &["src/?.txt"],
    &["src/**/*.md"],
    &["src/**/*.txt", "exclude:src/d/*"],
    &["exclude:src/a.txt", "src/*.txt"],
    &["src/*.txt", "!src/b.txt", "src/!n.txt"],
    &["src/d/e f.txt"],
    &["src/missing.txt", "src/a.txt"],
    &["../outside/*.txt"],
    &["src/*.TXT"],
    &["src/**/d/*.txt"],
    &["src/{1..2}.txt"],
    &["src2/**/*.txt"],
    &["src2/*/*.txt"],
    &["src2/lnk/*.txt"],
    &["src2/**"],
    &["src/deep/**/*"],
    &["src/**/[0-9].txt"],
    &["src/*.{txt,md}"],
    &["src/d/*", "exclude:src/d/x.md", "src/d/x.md"],
    &["@DIR@/src/*.txt"],
    &["@DIR@/src/**/*.md"],
    &["src/./d/../*.txt"],
    &["src/**/"],
    &["src/d/"],
    &["src/*/"],
    &["src/[[:digit:]].txt"],
    &["src/\\*.txt"],
    &["src/d/e\\ f.txt"],
    &["src/*\\.txt"],
    &["src/\\[a].txt", "src/[a]\\.txt"],
    &["src/\\a.txt"],
    &["src/\"*\".txt", "src/'a'.txt"],
    &["src/\"[a]\".txt", "src/d/\"e f\".txt"],
    &["src/{a,\"*\"}.txt"],
    &["src/**/{d,z}.txt"],
    &["src/*/**/*.txt"],
    &["src/deep/**/**/*.txt"],
];

#[test]
fn globbing_and_checksums_match_go_task() {
    let Some(go) = gotask::require(".ci/install-uptodate.sh") else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let root = t.path().canonicalize().unwrap();
    let proj = root.join("proj");
    for (rel, c) in [
        ("src/a.txt", "a"),
        ("src/b.txt", "b"),
        ("src/1.txt", "1"),
        ("src/2.txt", "2"),
        ("src/!n.txt", "n"),
        ("src/*.txt", "star"),
        ("src/[a].txt", "bracket"),
        ("src/.h.txt", "h"),
        ("src/.hid/c.txt", "c"),
        ("src/d/d.txt", "d"),
        ("src/d/e f.txt", "e"),
        ("src/d/x.md", "x"),
        ("src/A.TXT", "A"),
        ("src/deep/1/2/3/z.txt", "z"),
        ("src/deep/1/y.md", "y"),
        ("src2/t.txt", "t"),
        ("sub/s.txt", "s"),
        ("sub/.dot/q.txt", "q"),
    ] {
        write(&proj, rel, c);
    }
    write(&root, "outside/o.txt", "o");
    std::os::unix::fs::symlink("../sub", proj.join("src2/lnk")).unwrap();

    let (failures, total_items) = compare(&go, &root, &proj, CASES, false);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        total_items > 60,
        "go-task listed only {total_items} items in all"
    );
    eprintln!(
        "{} pattern sets, {total_items} items agree with go-task",
        CASES.len()
    );
}

/// Runs each pattern set through go-task and through oxtask; returns the disagreements
/// and how many items go-task listed.
fn compare(
    go: &Path,
    root: &Path,
    proj: &Path,
    cases: &[&[&str]],
    gitignore: bool,
) -> (Vec<String>, usize) {
    let mut yaml = String::from("version: '3'\ntasks:\n");
    for (i, case) in cases.iter().enumerate() {
        yaml.push_str(&format!("  t{i}:\n    sources:\n"));
        for p in *case {
            // YAML single quotes: a quote is written twice.
            let p = p
                .replace("@DIR@", &proj.to_string_lossy())
                .replace('\'', "''");
            match p.strip_prefix("exclude:") {
                Some(x) => yaml.push_str(&format!("      - exclude: '{x}'\n")),
                None => yaml.push_str(&format!("      - '{p}'\n")),
            }
        }
        yaml.push_str(
            "    cmds:\n      - for: sources\n        cmd: printf '%s\\n' \"{{.ITEM}}\"\n",
        );
    }
    if gitignore {
        yaml = yaml.replacen("tasks:\n", "use_gitignore: true\ntasks:\n", 1);
    }
    fs::write(proj.join("Taskfile.yml"), yaml).unwrap();

    let mut failures = Vec::new();
    let mut total_items = 0;
    for (i, case) in cases.iter().enumerate() {
        let name = format!("t{i}");
        let out = Command::new(go)
            .args(["-s", &name])
            .current_dir(proj)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "go-task {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let go_items: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        let specs: Vec<GlobSpec> = case
            .iter()
            .map(|p| p.replace("@DIR@", &proj.to_string_lossy()))
            .map(|p| match p.strip_prefix("exclude:") {
                Some(x) => GlobSpec::exclude(x),
                None => GlobSpec::include(p.as_str()),
            })
            .collect();
        total_items += go_items.len();
        let ours = for_items(proj, &specs, gitignore);
        if ours != go_items {
            failures.push(format!("{case:?}: go-task {go_items:?}, oxtask {ours:?}"));
            continue;
        }
        let go_sum = fs::read_to_string(proj.join(".task/checksum").join(&name)).unwrap();
        let method = Method::Checksum;
        let temp = root.join("ourstate");
        let fp = Fingerprint {
            task: &name,
            name: &name,
            dir: proj,
            sources: &specs,
            generates: &[],
            method: &method,
            temp_dir: &temp,
            dry: true,
            use_gitignore: gitignore,
        };
        match fp.special_var().unwrap() {
            Some(SpecialVar::Checksum(c)) if c == go_sum.trim() => {}
            other => failures.push(format!("{case:?}: checksum {other:?}, go-task {go_sum:?}")),
        }
    }
    (failures, total_items)
}

const GITIGNORE_CASES: &[&[&str]] = &[
    &["**/*.txt"],
    &["*.log", "src/*.log"],
    &["src/**/*"],
    &["src/*/*"],
    &["build/*", "src/build/*"],
    &["*.txt", "src/sub/*.txt"],
];

#[test]
fn gitignore_filtering_matches_go_task() {
    let Some(go) = gotask::require(".ci/install-uptodate.sh") else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let root = t.path().canonicalize().unwrap();
    let proj = root.join("repo");
    fs::create_dir_all(proj.join(".git")).unwrap();
    write(&proj, ".gitignore", "*.log\nbuild/\n/top.txt\n!keep.log\n");
    write(&proj, "src/.gitignore", "secret*\n!important.log\n");
    write(&proj, "src/sub/.gitignore", "*.tmp\n# comment\n\n");
    for rel in [
        "top.txt",
        "a.txt",
        "x.log",
        "keep.log",
        "build/out.txt",
        "src/a.txt",
        "src/secret.txt",
        "src/important.log",
        "src/other.log",
        "src/sub/t.tmp",
        "src/sub/k.txt",
        "src/sub/top.txt",
        "src/build/b.txt",
    ] {
        write(&proj, rel, rel);
    }
    let (failures, total_items) = compare(&go, &root, &proj, GITIGNORE_CASES, true);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        total_items > 10,
        "go-task listed only {total_items} items in all"
    );
    eprintln!(
        "{} gitignore pattern sets, {total_items} items agree with go-task",
        GITIGNORE_CASES.len()
    );
}

/// .env files fed to go-task (its values read back with `env -0`) and to our parser.
const DOTENV_CASES: &[&str] = &[
    "A=1\nB=2\n",
    "# c\nexport A=1\n  B = spaced  \nC: yaml\nexportD=x\n",
    "A=x # c\nB=x#nc\nC='q # not comment'\nD=\"dq # not\" # comment\n",
    "S='raw \\n $A'\nA=1\nD=\"l1\\nl2 \\\"q\\\" \\$A ${A} $A\"\n",
    "M=\"multi\nline\"\nN=after\n",
    "LATER=$B\nB=bee\nU=$B-${B}-$NOPE-$lower-$HOME\n",
    "A=1\nA=2\n",
    "A B=1\nX=$(A)\nZ=${A\n",
    "K.dotted=1\n_U=2\n",
    "A=1\r\nB=2\r\n",
    "E=\nF=  \nG=\t x \t\n",
    "Q=\"a\\\\nb\\\\\\\\c\"\nR=\"tab\\tx\"\n",
    "U=h\u{e9}llo w\u{f6}rld\n",
    "A=\"unterminated\nB=2\n",
    "A-B=1\n",
    "FOO\n",
    "OK=1\nBAD LINE\n",
    "\u{c4}=1\n",
    "V='it''s'\n",
];

#[test]
fn dotenv_matches_go_task() {
    use oxtask::taskfile::dotenv;
    let Some(go) = gotask::require(".ci/install-uptodate.sh") else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().canonicalize().unwrap();
    fs::write(
        dir.join("Taskfile.yml"),
        "version: '3'\ndotenv: ['.env']\ntasks:\n  default:\n    cmds: ['env -0']\n",
    )
    .unwrap();
    let run = |content: &str| {
        fs::write(dir.join(".env"), content).unwrap();
        let out = Command::new(&go)
            .arg("-s")
            .current_dir(&dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", "/home/tester")
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let env: Vec<(String, String)> = String::from_utf8_lossy(&out.stdout)
            .split('\0')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        (
            out.status.code(),
            env,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (_, base, _) = run("");
    let mut failures = Vec::new();
    for case in DOTENV_CASES {
        let (code, env, stderr) = run(case);
        let ours = dotenv::read_file(&dir.join(".env"));
        match ours {
            Ok(vars) => {
                if code != Some(0) {
                    failures.push(format!(
                        "{case:?}: go-task failed ({stderr:?}), we parsed {vars:?}"
                    ));
                    continue;
                }
                // What go-task added on top of its own environment.
                let mut go_added: Vec<(String, String)> =
                    env.into_iter().filter(|kv| !base.contains(kv)).collect();
                go_added.sort();
                let mut ours: Vec<(String, String)> = vars
                    .into_iter()
                    .filter(|(k, v)| !base.contains(&(k.clone(), v.clone())))
                    .collect();
                ours.sort();
                if go_added != ours {
                    failures.push(format!("{case:?}: go-task {go_added:?}, oxtask {ours:?}"));
                }
            }
            Err(e) => {
                if code != Some(e.exit_code()) || stderr.trim_end() != e.to_string() {
                    failures.push(format!(
                        "{case:?}: go-task exit {code:?} {stderr:?}, oxtask {:?}",
                        e.to_string()
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!("{} dotenv files agree with go-task", DOTENV_CASES.len());
}

/// Runs go-task and oxtask with the same arguments in `dir`; returns the differences in
/// exit code, stdout and stderr (each stream compared on its own).
fn side_by_side(go: &Path, dir: &Path, args: &[&str]) -> Vec<String> {
    side_by_side_env(go, dir, args, &[])
}

fn side_by_side_env(go: &Path, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Vec<String> {
    let run = |exe: &Path| {
        Command::new(exe)
            .args(args)
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .envs(env.iter().copied())
            .output()
            .unwrap()
    };
    let (g, o) = (run(go), run(Path::new(env!("CARGO_BIN_EXE_task"))));
    let mut diffs = vec![];
    if g.status.code() != o.status.code() {
        diffs.push(format!(
            "{args:?}: exit go-task {:?}, oxtask {:?}",
            g.status.code(),
            o.status.code()
        ));
    }
    for (what, a, b) in [
        ("stdout", &g.stdout, &o.stdout),
        ("stderr", &g.stderr, &o.stderr),
    ] {
        if a != b {
            diffs.push(format!(
                "{args:?}: {what}\n go-task: {:?}\n oxtask:  {:?}",
                String::from_utf8_lossy(a),
                String::from_utf8_lossy(b)
            ));
        }
    }
    diffs
}

/// Scripts read `task --list --silent` / `-a -s` as bare names (aliases after their task,
/// one a line), and `--output prefixed` sends a command's stderr, prefixed, to stdout.
#[test]
fn silent_listing_and_output_streams_match_go_task() {
    let Some(go) = gotask::require(".ci/install-uptodate.sh") else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write(
        d,
        "Taskfile.yml",
        "version: '3'\nincludes:\n  inc: ./inc\ntasks:\n  default:\n    desc: d\n    aliases: [d, dd]\n  b:\n    cmds: [echo b]\n  c:\n    desc: '{{.NOPE}}'\n  x:\n    internal: true\n    desc: hidden\n  out:\n    cmds:\n      - echo out; echo err >&2\n      - printf 'no newline' >&2\n      - echo two >&2; echo three\n",
    );
    write(d, "inc/Taskfile.yml", "version: '3'\ntasks:\n  t:\n    desc: included\n    aliases: [tt]\n  u: {cmds: [echo u]}\n");
    write(
        d,
        "empty/Taskfile.yml",
        "version: '3'\ntasks:\n  a: {cmds: [echo a]}\n",
    );
    let mut diffs = vec![];
    for args in [
        &["--list", "--silent"][..],
        &["-l", "-s"],
        &["-a", "-s"],
        &["--list-all", "--silent", "--sort", "none"],
        &["--list-all", "--silent", "--sort", "alphanumeric"],
        &["--list", "--silent", "--json"],
        &["-d", "empty", "--list", "--silent"],
        &["-d", "empty", "-a", "-s"],
        &["--output", "prefixed", "out"],
        &["--output", "group", "out"],
        &["--output", "interleaved", "out"],
    ] {
        diffs.extend(side_by_side(&go, d, args));
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

/// "Did you mean": go-task's spelling model, on the command line and for calls inside a run.
#[test]
fn did_you_mean_matches_go_task() {
    let Some(go) = gotask::require(".ci/install-uptodate.sh") else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write(
        d,
        "Taskfile.yml",
        "version: '3'\nincludes:\n  docs:\n    taskfile: ./docs\n    aliases: [d]\ntasks:\n  build:\n    aliases: [b]\n    cmds: [echo b]\n  test:unit: {cmds: [echo u]}\n  test:integration: {cmds: [echo i]}\n  lint: {cmds: [echo l]}\n  x: {cmds: [echo x]}\n  hidden-task:\n    internal: true\n    cmds: [echo h]\n  release:\n    cmds:\n      - task: biuld\n  deploy:\n    deps: [tset:unit]\n",
    );
    write(
        d,
        "docs/Taskfile.yml",
        "version: '3'\ntasks:\n  default: {cmds: [echo docs]}\n  serve: {cmds: [echo s]}\n",
    );
    let mut diffs = vec![];
    for name in [
        "biuld",
        "buld",
        "buildd",
        "BUILD",
        "tset:unit",
        "test:unt",
        "test:integ",
        "lnt",
        "lints",
        "z",
        "xx",
        "hiden-task",
        "docs:serv",
        "doc:serve",
        "d:serv",
        "dcos",
        "release",
        "deploy",
        "totally-unrelated",
        "bb",
    ] {
        diffs.extend(side_by_side(&go, d, &[name]));
        diffs.extend(side_by_side(&go, d, &["--disable-fuzzy", name]));
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

/// Under GITHUB_ACTIONS go-task writes a `::error` workflow annotation to stdout.
#[test]
fn github_actions_annotations_match_go_task() {
    let Some(go) = gotask::require(".ci/install-uptodate.sh") else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write(
        d,
        "Taskfile.yml",
        "version: '3'\ntasks:\n  fail:\n    cmds: ['exit 3']\n  labelled:\n    label: 'lab-{{.X}}'\n    vars: {X: one}\n    cmds: ['false']\n  pre:\n    preconditions: ['test -f nope']\n  calls:\n    cmds: [task: fail]\n  ok: {cmds: [echo ok]}\n",
    );
    write(
        d,
        "bad/Taskfile.yml",
        "version: '3'\ntasks:\n  a:\n    cmds: [echo\n",
    );
    write(d, "old/Taskfile.yml", "tasks: {}\n");
    let mut diffs = vec![];
    for v in ["true", "1", "false", "yes"] {
        for args in [
            &["fail"][..],
            &["labelled"],
            &["pre"],
            &["calls"],
            &["ok"],
            &["nope"],
            &["-d", "bad", "a"],
            &["-d", "old"],
            &["-x", "fail"],
        ] {
            diffs.extend(side_by_side_env(&go, d, args, &[("GITHUB_ACTIONS", v)]));
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

/// YAML syntax errors: go-yaml's (libyaml's) wording and the file named relative to the
/// working directory. Known differences (line numbers of some scanner errors at end of
/// input, duplicate keys in flow mappings) are left out and listed in docs/semantics.md.
#[test]
fn yaml_syntax_errors_match_go_task() {
    let Some(go) = gotask::require(".ci/install-uptodate.sh") else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let cases = [
        "tasks:\n  a:\n    cmds: [echo\n",
        "tasks:\n  a: {cmds: [echo]\n",
        "tasks:\n  a:\n  b: c: d\n",
        "tasks:\n  a:\n\tcmds: []\n",
        "tasks:\n  a:\n    cmds:\n    - \"unterminated\n",
        "tasks:\n  a:\n    cmds:\n    - 'unterminated\n",
        "tasks:\n  - a\n  b: 1\n",
        "tasks:\n  a: *nope\n",
        "tasks:\n  a:\n    cmds: [*nope, x]\n",
        "tasks: @x\n",
        "tasks: `x\n",
        "tasks: %x\n",
        "tasks:\n  a:\n    x: 1\n   y: 2\n",
        // Unterminated flow collections and keys spread over lines inside one.
        "tasks:\n  x:\n    cmds: [a, b\n  y: 1\n",
        "tasks:\n  x: [\n",
        "tasks:\n  x: {\n",
        "tasks:\n  x: [a, \n\n",
        "tasks:\n  x:\n    cmds: [a, [b, c]\n    desc: x\n",
        "vars: {A: [a\n  b: c]}\ntasks: {}\n",
        "vars:\n  A: {x: [a\n    b: c]}\ntasks: {}\n",
    ];
    let mut diffs = vec![];
    for (i, c) in cases.iter().enumerate() {
        write(
            d,
            &format!("c{i}/Taskfile.yml"),
            &format!("version: '3'\n{c}"),
        );
        diffs.extend(side_by_side(&go, d, &["-d", &format!("c{i}"), "--list"]));
    }
    // From inside the directory, and from a sibling (`../`).
    diffs.extend(side_by_side(&go, &d.join("c0"), &["--list"]));
    std::fs::create_dir_all(d.join("sib")).unwrap();
    diffs.extend(side_by_side(
        &go,
        &d.join("sib"),
        &["-d", "../c1", "--list"],
    ));
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

/// The repository's own Taskfile is the project's (build, test, lint, fmt, bench, example)
/// and reads the same under go-task: same listing, same commands in `--dry`.
#[test]
fn repository_taskfile_is_valid_for_go_task() {
    let Some(go) = gotask::require(".ci/install-uptodate.sh") else {
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut diffs = vec![];
    for args in [
        &["--list-all"][..],
        &["--list"],
        &["--dry", "default"],
        &["--dry", "test"],
        &["--dry", "lint"],
        &["--dry", "fmt"],
        &["--dry", "bench"],
        &["--dry", "example"],
        &["--summary", "build"],
    ] {
        diffs.extend(side_by_side(&go, root, args));
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    let list = Command::new(env!("CARGO_BIN_EXE_task"))
        .args(["--list-all", "--silent"])
        .current_dir(root)
        .output()
        .unwrap();
    let names = String::from_utf8_lossy(&list.stdout).to_string();
    for want in [
        "build", "test", "lint", "fmt", "bench", "example", "default",
    ] {
        assert!(
            names.lines().any(|l| l == want),
            "no task {want:?} in {names:?}"
        );
    }
}

/// `.taskrc.yml` (XDG, home, and every directory up to the project) and `TASK_*`
/// environment variables set what the command line does not, as go-task reads them.
#[test]
fn taskrc_and_task_env_match_go_task() {
    let Some(go) = gotask::require(".ci/install-uptodate.sh") else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let base = t.path();
    let home = base.join("home");
    let xdg = base.join("xdg");
    let proj = base.join("ws/proj");
    write(
        &proj,
        "Taskfile.yml",
        "version: '3'\ntasks:\n  default:\n    cmds: [echo one, echo two >&2]\n  typo:\n    cmds: [task: defualt]\n  two:\n    deps: [a, b]\n  a: {cmds: [echo a]}\n  b: {cmds: [echo b]}\n",
    );
    let cases: &[(&[(&str, &str)], &[(&str, &str)], &[&str])] = &[
        // (files as path=content, env, args)
        (&[("proj/.taskrc.yml", "silent: true\n")], &[], &[]),
        (
            &[
                ("ws/.taskrc.yml", "silent: true\n"),
                ("proj/.taskrc.yml", "silent: false\n"),
            ],
            &[],
            &[],
        ),
        (&[("ws/.taskrc.yml", "verbose: true\n")], &[], &[]),
        (&[("home/.taskrc.yml", "silent: true\n")], &[], &[]),
        (
            &[
                ("xdg/task/taskrc.yml", "silent: true\n"),
                ("proj/.taskrc.yml", "verbose: true\n"),
            ],
            &[],
            &[],
        ),
        (
            &[("proj/.taskrc.yml", "silent: true\n")],
            &[("TASK_SILENT", "false")],
            &[],
        ),
        (
            &[("proj/.taskrc.yml", "silent: true\n")],
            &[],
            &["--silent=false"],
        ),
        (&[], &[("TASK_SILENT", "1")], &[]),
        (&[], &[("TASK_VERBOSE", "true")], &[]),
        (&[], &[("TASK_DRY", "true")], &[]),
        (&[], &[("TASK_OUTPUT", "prefixed")], &[]),
        (&[], &[("TASK_DISABLE_FUZZY", "true")], &["typo"]),
        (
            &[("proj/.taskrc.yml", "disable-fuzzy: true\n")],
            &[],
            &["typo"],
        ),
        (&[("proj/.taskrc.yml", "silent: [not a bool]\n")], &[], &[]),
        (&[("proj/.taskrc.yml", "{{{ not yaml\n")], &[], &[]),
        (
            &[("proj/.taskrc.yml", "experiments:\n  GENTLE_FORCE: 1\n")],
            &[],
            &["--experiments"],
        ),
        (&[], &[("TASK_X_GENTLE_FORCE", "1")], &["--experiments"]),
        (&[], &[("TASK_X_GENTLE_FORCE", "true")], &["--experiments"]),
    ];
    let mut diffs = vec![];
    for (files, env, args) in cases {
        for rel in [
            "proj/.taskrc.yml",
            "ws/.taskrc.yml",
            "home/.taskrc.yml",
            "xdg/task/taskrc.yml",
        ] {
            let _ = std::fs::remove_file(base.join(if rel.starts_with("proj") {
                format!("ws/{rel}")
            } else {
                rel.to_string()
            }));
        }
        for (rel, content) in *files {
            let rel = if rel.starts_with("proj/") {
                format!("ws/{rel}")
            } else {
                rel.to_string()
            };
            write(base, &rel, content);
        }
        let mut e: Vec<(&str, &str)> = vec![
            ("HOME", home.to_str().unwrap()),
            ("XDG_CONFIG_HOME", xdg.to_str().unwrap()),
        ];
        e.extend(env.iter().copied());
        for d in side_by_side_env(&go, &proj, args, &e) {
            diffs.push(format!("files {files:?} env {env:?}: {d}"));
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

/// `silent:` on an included Taskfile silences its tasks; `--status` reads the fingerprint
/// state and leaves none behind; a task call skipped by `if:` and a task with a false
/// `if:` print what go-task prints.
#[test]
fn include_silent_status_and_if_match_go_task() {
    let Some(go) = gotask::require(".ci/install-uptodate.sh") else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write(
        d,
        "Taskfile.yml",
        "version: '3'\nincludes:\n  inc: ./inc\n  quiet:\n    taskfile: ./inc/Quiet.yml\ntasks:\n  call-if:\n    cmds:\n      - task: other\n        if: 'false'\n      - echo after\n  other: {cmds: [echo other]}\n  src:\n    sources: [Taskfile.yml]\n    generates: [out.txt]\n    cmds: [echo hi > out.txt]\n  taskif:\n    if: 'false'\n    cmds: [echo never]\n",
    );
    write(
        d,
        "inc/Taskfile.yml",
        "version: '3'\ntasks:\n  a: {cmds: [echo a]}\n",
    );
    write(
        d,
        "inc/Quiet.yml",
        "version: '3'\nsilent: true\ntasks:\n  q: {cmds: [echo q]}\n",
    );
    let mut diffs = vec![];
    for args in [
        &["call-if"][..],
        &["quiet:q"],
        &["inc:a"],
        &["taskif"],
        &["-v", "taskif"],
    ] {
        diffs.extend(side_by_side(&go, d, args));
    }
    // --status before any run: not up to date, and no state written by either tool.
    diffs.extend(side_by_side(&go, d, &["--status", "src"]));
    assert!(!d.join(".task").exists(), "--status wrote .task/");
    // After a run (state written by go-task, readable by both): up to date.
    let ran = Command::new(&go)
        .arg("src")
        .current_dir(d)
        .output()
        .unwrap();
    assert!(ran.status.success());
    diffs.extend(side_by_side(&go, d, &["--status", "src"]));
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

/// A program run after its task's `dir:` was removed: go-task's exec handler fails with Go's
/// `chdir DIR: no such file or directory` and stops the command (exit 201), rather than a
/// status of the program.
#[test]
fn program_in_removed_dir_matches_go_task() {
    let Some(go) = gotask::require(".ci/install-uptodate.sh") else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let d = t.path().canonicalize().unwrap();
    write(
        &d,
        "Taskfile.yml",
        "version: '3'\ntasks:\n  t:\n    dir: gone\n    cmds:\n      - rmdir ../gone\n      - ls\n  v:\n    dir: gone\n    cmds:\n      - rmdir ../gone; ls; echo after\n  w:\n    dir: gone\n    cmds:\n      - rmdir ../gone; echo builtins still run; cd .. && ls -d gone2 || echo no\n",
    );
    let mut diffs = vec![];
    for args in [&["t"][..], &["v"], &["w"]] {
        diffs.extend(side_by_side(&go, &d, args));
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

/// go-yaml v3's scanner in flow context: `?` ends a plain scalar and starts an explicit
/// key (`[one?, two?]` is refused, `[?x]` is a one-pair mapping), and a plain scalar may
/// not start with `:`; errors at go-yaml's 0-based context line, or none on line 1. Lines
/// inside flow collections and quoted scalars may be indented less than YAML 1.2 allows.
#[test]
fn yaml_flow_question_mark_matches_go_task() {
    let Some(go) = gotask::require(".ci/install-uptodate.sh") else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    // Refused by go-yaml: the same message wherever the value is.
    let refused = [
        "[one?, two?]",
        "[a?]",
        "[a?b]",
        "[a ?, c]",
        "{a?: b}",
        "{a: b?}",
        "[a: b?]",
        "[[a?]]",
        "[\n    a?]",
        "[?x?]",
        "{a: ?x}",
        "{:x}",
        "[a, :x]",
        "[a?b, c]",
    ];
    // Loaded: compared as a var's value, and as aliases (a decode error).
    let accepted = ["[?x]", "[?x: y]", "[?x:y]", "[a, ?x]", "[a, 'b?', \"c?\"]"];
    let mut cases: Vec<String> = vec![];
    for f in refused.iter().chain(&accepted) {
        cases.push(format!(
            "version: '3'\nvars:\n  V: {f}\ntasks:\n  default: echo '{{{{toJson .V}}}}'\n"
        ));
    }
    for f in refused.iter().chain(&accepted) {
        cases.push(format!(
            "version: '3'\ntasks:\n  default:\n    aliases: {f}\n    cmds: [echo hi]\n"
        ));
    }
    for f in ["{?x: y}", "{?x}", "{? x}"] {
        cases.push(format!(
            "version: '3'\nvars:\n  V: {f}\ntasks:\n  default: echo\n"
        ));
    }
    // go-yaml checks no indentation inside flow collections or quoted scalars.
    for body in [
        "    cmds: [\n      echo a\n    ]\n",
        "    cmds: [\n    echo a\n    ]\n",
        "    cmds: [\n  echo a\n  ]\n",
        "    cmds: [\necho a]\n",
        "    cmds: [echo a,\n echo b]\n",
        "    vars: {A: 1,\n  B: 2}\n    cmds: [\"echo {{.A}}{{.B}}\"]\n",
        "    cmds:\n      - \"echo a\n  b\"\n",
        "    cmds:\n      - 'echo a\n b\n  c'\n",
        "    cmds: [\n  echo a, {cmd: \"echo\n b\"\n}\n]\n",
    ] {
        cases.push(format!("version: '3'\ntasks:\n  default:\n{body}"));
    }
    // go-yaml ends a plain scalar at `:` only before a blank: `a:,` is the scalar `a:`.
    for f in [
        "[a:, b]",
        "[a:]",
        "[a:b:, c::, d: e]",
        "{k:, j: v}",
        "[{a:, b: c}]",
        "[x, a:]",
    ] {
        cases.push(format!(
            "version: '3'\nvars:\n  V: {f}\ntasks:\n  default: echo '{{{{toJson .V}}}}'\n"
        ));
        cases.push(format!("version: '3'\ntasks:\n  default:\n    cmds: {f}\n"));
    }
    cases.push("x: [a?]\nversion: '3'\ntasks: {}\n".into());
    cases.push("x: [\n a?]\nversion: '3'\ntasks: {}\n".into());
    let mut diffs = vec![];
    for (i, c) in cases.iter().enumerate() {
        write(d, &format!("c{i}/Taskfile.yml"), c);
        diffs.extend(side_by_side(&go, d, &["-d", &format!("c{i}")]));
        diffs.extend(side_by_side(
            &go,
            d,
            &["-d", &format!("c{i}"), "--list-all"],
        ));
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

/// Under colour (FORCE_COLOR=1, NO_COLOR unset) `--list` paints each piece as go-task's
/// logger does and aligns the columns ignoring the escapes (Ladicle/tabwriter), aliases,
/// empty descriptions and the "no tasks" notices included.
#[test]
fn coloured_listing_matches_go_task() {
    let Some(go) = gotask::require(".ci/install-uptodate.sh") else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write(
        d,
        "Taskfile.yml",
        "version: '3'\nincludes:\n  lib: ./lib\ntasks:\n  build:\n    desc: Build it\n    aliases: [b, bld]\n  \
         test-long-name:\n    desc: \"Tést ünïcode\"\n  nodesc:\n    cmds: [echo]\n  multi:\n    desc: \"line one\\nline two\"\n    \
         aliases: [m]\n  tabbed:\n    desc: \"a\\tb\"\n  secret:\n    internal: true\n    desc: hidden\n",
    );
    write(
        d,
        "lib/Taskfile.yml",
        "version: '3'\ntasks:\n  x:\n    desc: from lib\n    aliases: [lx]\n",
    );
    write(d, "empty/Taskfile.yml", "version: '3'\ntasks:\n  a: echo\n");
    write(d, "none/Taskfile.yml", "version: '3'\ntasks: {}\n");
    let run = |exe: &Path, args: &[&str]| {
        let o = Command::new(exe)
            .args(args)
            .current_dir(d)
            .env_remove("NO_COLOR")
            .env("FORCE_COLOR", "1")
            .output()
            .unwrap();
        (o.status.code(), o.stdout, o.stderr)
    };
    let mut diffs = vec![];
    for args in [
        &["--list"][..],
        &["--list-all"],
        &["-d", "empty", "--list"],
        &["-d", "none", "--list-all"],
        &["nope"],
    ] {
        let (g, o) = (
            run(&go, args),
            run(Path::new(env!("CARGO_BIN_EXE_task")), args),
        );
        if g != o {
            diffs.push(format!(
                "{args:?}:\n go-task: {:?} {:?} {:?}\n oxtask:  {:?} {:?} {:?}",
                g.0,
                String::from_utf8_lossy(&g.1),
                String::from_utf8_lossy(&g.2),
                o.0,
                String::from_utf8_lossy(&o.1),
                String::from_utf8_lossy(&o.2)
            ));
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

/// A type error in a plain struct field (string, bool, []string) is go-yaml's own: go-task
/// reports it at the nearest custom unmarshaler's node (Taskfile, task, include or command
/// mapping) with the offending line in the message.
#[test]
fn native_type_errors_match_go_task() {
    let Some(go) = gotask::require(".ci/install-uptodate.sh") else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let cases = [
        "tasks:\n  default:\n    cmds:\n      - echo\n    aliases:\n      - a: b\n",
        "tasks:\n  default:\n    cmds:\n      - echo\n    desc:\n      - a\n",
        "tasks:\n  default:\n    cmds:\n      - echo\n    status:\n      - - x\n",
        "silent:\n  - x\ntasks:\n  default:\n    cmds:\n      - echo\n",
        "# c\nrun:\n  - x\ntasks: {}\n",
        "includes:\n  x:\n    taskfile: ./x.yml\n    aliases:\n      - a: b\n",
        "tasks:\n  default:\n    cmds:\n     - cmd:\n         - echo\n",
        "tasks:\n  default:\n    cmds:\n     - echo\n    internal: 3\n",
        // snippet lines as chroma's YAML lexer colours them
        "tasks:\n  default:\n    x: 3\n    \"q k\": &a 1.5 # c\n    y: *a\n    cmds: [echo]\n             z: !!str 2024-01-01\n    desc: [a]\n    w: a // b\n    v: {a: 1}\n",
        "tasks:\n  default:\n\n    aliases: [{a: b}]\n\n    # trailing\n",
        "tasks:\n  default:\n    env: {A: 1e5, B: 0x1F, C: -3, D: .5}\n    desc: [x]\n             status: [+1, n-1, nope]\n",
        "tasks:\n  default:\n    cmds:\n      - echo \"a: b\" # x\n      - task: x\n    desc: [a]\n             summary: |\n      hello: x\n",
        "tasks:\n  default:\n    cmds:\n      - 'it''s': 1\n      - \"{{.A}}\"\n             desc: [\"a\", 'b']\n    dir: -x\n    run: 08:00\n",
    ];
    let mut diffs = vec![];
    for (i, c) in cases.iter().enumerate() {
        write(
            d,
            &format!("c{i}/Taskfile.yml"),
            &format!("version: '3'\n{c}"),
        );
        diffs.extend(side_by_side(
            &go,
            d,
            &["-d", &format!("c{i}"), "--list-all"],
        ));
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

/// Under `CI=true` (GitHub Actions) or `FORCE_COLOR`, every `task: …` note, the summary, the
/// prefixes of `output: prefixed`, a decode report and `--experiments` are coloured piece by
/// piece as go-task's logger colours them, and `TASK_COLOR_*` replaces any colour.
#[test]
fn coloured_messages_match_go_task() {
    let Some(go) = gotask::require(".ci/install-uptodate.sh") else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write(
        d,
        "Taskfile.yml",
        "version: '3'\nvars:\n  G: g1\n  D:\n    sh: echo dyn\ntasks:\n  default:\n    desc: the default\n    \
         summary: |\n      Long summary\n      second line\n    aliases: [d]\n    vars: {X: 1}\n    env: {E: e}\n    \
         requires: {vars: [G, {name: M, enum: [a, b]}]}\n    deps: [b]\n    cmds:\n      - echo hi\n      - task: b\n  \
         b:\n    cmds: [echo b-out]\n  pre:\n    preconditions: [{sh: 'false', msg: nope}]\n    cmds: [echo x]\n  \
         up:\n    status: ['true']\n    cmds: [echo no]\n  pfx:\n    cmds: [{task: p1}, {task: p2}, {task: p1}, {task: p3}]\n  \
         p1: {output: prefixed, cmds: [echo one]}\n  p2: {output: prefixed, cmds: [echo two]}\n  p3: {output: prefixed, prefix: third, cmds: [echo three]}\n  \
         ask:\n    prompt: Sure?\n    cmds: [echo asked]\n  other-os:\n    platforms: [plan9]\n    cmds: [echo no]\n  \
         iff:\n    cmds: [{cmd: echo skipped, if: 'false'}, echo ran]\n  fail:\n    cmds: ['exit 3']\n  \
         ign:\n    cmds: [{cmd: 'exit 2', ignore_error: true}]\n",
    );
    write(
        d,
        "bad/Taskfile.yml",
        "version: '3'\ntasks:\n  a:\n    cmds: [echo]\n    desc: [x]\n",
    );
    let run = |exe: &Path, args: &[&str], env: &[(&str, &str)]| {
        let o = Command::new(exe)
            .args(args)
            .current_dir(d)
            .env_remove("NO_COLOR")
            .env_remove("CI")
            .env("FORCE_COLOR", "1")
            .envs(env.iter().copied())
            .output()
            .unwrap();
        let clean = |b: &[u8]| String::from_utf8_lossy(b).replace(&d.display().to_string(), "<D>");
        (o.status.code(), clean(&o.stdout), clean(&o.stderr))
    };
    let mut diffs = vec![];
    let cases: &[(&[&str], &[(&str, &str)])] = &[
        (&["--summary", "default", "b"], &[]),
        (
            &["--summary", "d"],
            &[
                ("TASK_COLOR_YELLOW", "1;33"),
                ("TASK_COLOR_CYAN", "10,20,30"),
            ],
        ),
        (&["-v", "up"], &[]),
        (&["-v", "default"], &[]),
        (&["-v", "pre"], &[]),
        (&["pfx"], &[]),
        (
            &["pfx"],
            &[("TASK_COLOR_YELLOW", "x"), ("TASK_COLOR_BLUE", "4;34")],
        ),
        (&["--yes", "ask"], &[]),
        (&["-v", "other-os"], &[]),
        (&["-v", "iff"], &[]),
        (&["fail"], &[("TASK_COLOR_RED", "91")]),
        (&["-v", "ign"], &[]),
        (
            &["--list"],
            &[("TASK_COLOR_GREEN", "255,0,0"), ("TASK_COLOR_RESET", "2")],
        ),
        (&["--experiments"], &[]),
        (&["-d", "bad"], &[]),
        (&["nope"], &[]),
    ];
    for (args, env) in cases {
        let (g, o) = (
            run(&go, args, env),
            run(Path::new(env!("CARGO_BIN_EXE_task")), args, env),
        );
        if g != o {
            diffs.push(format!(
                "{args:?} {env:?}:\n go-task: {g:?}\n oxtask:  {o:?}"
            ));
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

/// `{{.TIMESTAMP}}` is a Go time.Time of the newest source: its `String()` keeps the mtime's
/// nanoseconds.
#[test]
fn timestamp_var_keeps_nanoseconds_as_go_task() {
    let Some(go) = gotask::require(".ci/install-uptodate.sh") else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write(
        d,
        "Taskfile.yml",
        "version: '3'\ntasks:\n  ts:\n    method: timestamp\n    sources: [src.txt]\n    \
         cmds: [\"echo '{{.TIMESTAMP}}' {{.TIMESTAMP.Unix}}\"]\n",
    );
    write(d, "src.txt", "x");
    // A fixed mtime with nanoseconds, so the test does not depend on the clock.
    let f = fs::File::options()
        .write(true)
        .open(d.join("src.txt"))
        .unwrap();
    f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::new(1_700_000_000, 123_456_700))
        .unwrap();
    drop(f);
    let mut diffs = vec![];
    for _ in 0..1 {
        diffs.extend(side_by_side_env(&go, d, &["--dry", "ts"], &[("TZ", "UTC")]));
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    let o = Command::new(env!("CARGO_BIN_EXE_task"))
        .args(["--dry", "ts"])
        .current_dir(d)
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("2023-11-14 22:13:20.1234567 +0000 UTC"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Generated ill-typed Taskfiles: every task, command, dependency, include, variable and
/// top-level field given values of every YAML shape, plus repeated keys and several errors at
/// once. go-task decodes each custom type (task, command, dependency, glob, platform, …) on
/// its own and collects go-yaml's type errors of plain fields at that node; the message,
/// position and exit code must be go-task's, and what go-task accepts (`silent: yes`, a null
/// anywhere, a repeated task or var name) must load.
#[test]
fn ill_typed_taskfiles_match_go_task() {
    let Some(go) = gotask::require(".ci/install-uptodate.sh") else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let vals = [
        "{a: 1}",
        "[a]",
        "[[a]]",
        "[{a: 1}]",
        "x",
        "5",
        "true",
        "~",
        "yes",
        "{sh: 1}",
        "[{sh: [a]}]",
        "{cmd: {a: 1}}",
        "abcdefghijklmnop",
    ];
    let task_fields = [
        "cmds",
        "cmd",
        "deps",
        "label",
        "desc",
        "prompt",
        "summary",
        "aliases",
        "sources",
        "generates",
        "status",
        "preconditions",
        "dir",
        "set",
        "vars",
        "env",
        "dotenv",
        "silent",
        "internal",
        "method",
        "prefix",
        "ignore_error",
        "run",
        "platforms",
        "if",
        "requires",
        "watch",
        "for",
        "output",
        "use_gitignore",
    ];
    let mut docs = vec![];
    for f in task_fields {
        for v in vals {
            docs.push(format!("tasks:\n  b: echo\n  a:\n    {f}: {v}\n"));
        }
    }
    for (outer, inner) in [
        ("cmds", "for"),
        ("cmds", "vars"),
        ("cmds", "platforms"),
        ("cmds", "timeout"),
        ("cmds", "silent"),
        ("deps", "vars"),
        ("deps", "for"),
        ("deps", "timeout"),
        ("preconditions", "msg"),
        ("cmds", "defer"),
    ] {
        for v in vals {
            docs.push(format!(
                "tasks:\n  b: echo\n  a:\n    {outer}:\n      - task: b\n        {inner}: {v}\n"
            ));
        }
    }
    for f in [
        "output",
        "method",
        "includes",
        "set",
        "vars",
        "env",
        "tasks",
        "silent",
        "run",
        "interval",
        "use_gitignore",
    ] {
        for v in vals {
            docs.push(format!("{f}: {v}\n"));
        }
    }
    for f in [
        "taskfile", "dir", "optional", "flatten", "aliases", "excludes", "vars", "checksum",
    ] {
        for v in vals {
            docs.push(format!(
                "includes:\n  inc:\n    taskfile: ./x.yml\n    {f}: {v}\n"
            ));
        }
    }
    for f in ["sh", "ref", "map", "value", "secret"] {
        for v in vals {
            docs.push(format!("vars:\n  V:\n    {f}: {v}\ntasks: {{}}\n"));
        }
    }
    docs.extend(
        [
            "tasks:\n  a:\n    desc: [a]\n    summary: [b]\n    silent: x\n",
            "tasks:\n  a:\n    aliases: [a, [b], {c: 1}]\n",
            "silent: x\nrun: [a]\ntasks: {}\n",
            "tasks:\n  a:\n    desc: [a]\n    cmds: [[x]]\n",
            "tasks:\n  a:\n    cmd: echo\n    cmds: []\n",
            "tasks:\n  a:\n    cmd: echo\n    cmds: ~\n",
            "tasks:\n  a:\n    platforms: [linux/amd64, amd64, windows/arm64, amd64/linux]\n",
            "tasks:\n  a: echo 1\n  a: echo 2\n",
            "vars:\n  A: 1\n  A: 2\ntasks:\n  a: echo {{.A}}\n",
            "version: '3'\ntasks:\n  a: echo 1\n",
            "tasks:\n  a:\n    cmds: [echo 1]\n    cmds: [echo 2]\n",
            "x: {a: 1, a: 2}\ntasks:\n  a: echo 1\n",
            "tasks:\n  a:\n    cmds:\n      - cmd: echo\n        timeout: 0s\n",
            "tasks:\n  a:\n    cmds:\n      - cmd: echo\n        timeout: abc\n",
            "tasks:\n  a:\n    cmds:\n      - for: {matrix: {A: {x: 1}}}\n        cmd: echo\n",
            "tasks:\n  a:\n    cmds:\n      - for: {var: X, matrix: {A: [1]}}\n        cmd: echo\n",
            "output: {group: {begin: b}, x: 1}\ntasks: {}\n",
        ]
        .map(String::from),
    );
    // Four directories side by side: the pairs of runs dominate the time.
    let diffs: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|w| {
                let (go, docs) = (&go, &docs);
                s.spawn(move || {
                    let dir = d.join(format!("w{w}"));
                    write(&dir, "x.yml", "version: '3'\ntasks:\n  t: echo\n");
                    let mut out = vec![];
                    for (i, doc) in docs.iter().enumerate().skip(w).step_by(4) {
                        write(&dir, "Taskfile.yml", &format!("version: '3'\n{doc}"));
                        for diff in side_by_side(go, &dir, &["--list-all"]) {
                            out.push(format!("#{i} {doc:?}\n{diff}"));
                        }
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(
        diffs.is_empty(),
        "{} of {} differ:\n{}",
        diffs.len(),
        docs.len(),
        diffs.join("\n")
    );
}

/// go-yaml cuts a long scalar in a type error to 7 bytes; a character cut in two reads as
/// one U+FFFD once the output is decoded (Go writes its first bytes).
#[test]
fn type_error_cut_inside_a_character_matches_go_task() {
    let Some(go) = gotask::require(".ci/install-uptodate.sh") else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    for (i, v) in [
        "abcdef\u{e9}xyz",
        "abcde\u{65e5}\u{672c}\u{8a9e}",
        "a\u{1f600}\u{1f600}bcd",
    ]
    .iter()
    .enumerate()
    {
        let d = t.path().join(format!("c{i}"));
        fs::create_dir_all(&d).unwrap();
        fs::write(
            d.join("Taskfile.yml"),
            format!("version: '3'\ntasks:\n  a:\n    silent: {v}\n    cmds: [echo]\n"),
        )
        .unwrap();
        let run = |bin: &Path| {
            let o = Command::new(bin)
                .args(["--list-all"])
                .current_dir(&d)
                .env("NO_COLOR", "1")
                .output()
                .unwrap();
            (
                o.status.code(),
                String::from_utf8_lossy(&o.stderr).replace(&*d.to_string_lossy(), "<D>"),
            )
        };
        let (g, o) = (run(&go), run(Path::new(env!("CARGO_BIN_EXE_task"))));
        assert!(g.1.contains("cannot unmarshal"), "{}", g.1);
        assert_eq!(g, o, "value {v:?}");
    }
}
