//! Differential check of source globbing and checksums against the real go-task 3.54.0:
//! for many pattern shapes, go-task prints its `for: sources` items and writes its
//! checksum file; ours must agree exactly.
//!
//! Needs go-task 3.54.0 (`GO_TASK=/path`, or `task` on PATH reporting 3.54.0; see
//! .ci/install-uptodate.sh). Without it the test is skipped with a message, except under
//! CI=true where it fails.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use oxtask::run::fingerprint::{for_items, Fingerprint, GlobSpec, Method, SpecialVar};

fn go_task() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(p) = std::env::var_os("GO_TASK") {
        candidates.push(PathBuf::from(p));
    }
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|d| d.join("task")));
    }
    candidates.into_iter().find(|p| {
        Command::new(p)
            .arg("--version")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("3.54.0"))
    })
}

fn write(root: &Path, rel: &str, content: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, content).unwrap();
}

/// Pattern sets: `!x` marks an `exclude:` entry.
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
    &["src/**/*.txt", "!src/d/*"],
    &["!src/a.txt", "src/*.txt"],
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
    &["src/d/*", "!src/d/x.md", "src/d/x.md"],
];

#[test]
fn globbing_and_checksums_match_go_task() {
    let Some(go) = go_task() else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("go-task 3.54.0 not found (run .ci/install-uptodate.sh)");
        }
        eprintln!("skipped: go-task 3.54.0 not found (set GO_TASK or run .ci/install-uptodate.sh)");
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

    let mut yaml = String::from("version: '3'\ntasks:\n");
    for (i, case) in CASES.iter().enumerate() {
        yaml.push_str(&format!("  t{i}:\n    sources:\n"));
        for p in *case {
            match p.strip_prefix('!') {
                Some(x) => yaml.push_str(&format!("      - exclude: '{x}'\n")),
                None => yaml.push_str(&format!("      - '{p}'\n")),
            }
        }
        yaml.push_str(
            "    cmds:\n      - for: sources\n        cmd: printf '%s\\n' \"{{.ITEM}}\"\n",
        );
    }
    fs::write(proj.join("Taskfile.yml"), yaml).unwrap();

    let mut failures = Vec::new();
    let mut total_items = 0;
    for (i, case) in CASES.iter().enumerate() {
        let name = format!("t{i}");
        let out = Command::new(&go)
            .args(["-s", &name])
            .current_dir(&proj)
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
            .map(|p| match p.strip_prefix('!') {
                Some(x) => GlobSpec::exclude(x),
                None => GlobSpec::include(*p),
            })
            .collect();
        total_items += go_items.len();
        let ours = for_items(&proj, &specs, false);
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
            dir: &proj,
            sources: &specs,
            generates: &[],
            method: &method,
            temp_dir: &temp,
            dry: true,
            use_gitignore: false,
        };
        match fp.special_var().unwrap() {
            Some(SpecialVar::Checksum(c)) if c == go_sum.trim() => {}
            other => failures.push(format!("{case:?}: checksum {other:?}, go-task {go_sum:?}")),
        }
    }
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
