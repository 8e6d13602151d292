//! Differential tests of the embedded shell: each snippet of tests/shell_diff/cases.txt runs
//! as a task's command under go-task 3.54.0 and under oxtask, in a fresh copy of the same
//! fixture directory; exit code, stdout and stderr must agree exactly. Each snippet the
//! embedded interpreter accepts runs a second time with PATH holding only symlinks to a
//! few coreutils (no bash, no sh): oxtask must then run it without bash and still agree.
//!
//! Needs go-task 3.54.0 (see tests/support/gotask.rs); skipped without it except under
//! CI=true, where it fails.

#[path = "support/gotask.rs"]
mod gotask;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use libtest_mimic::{Arguments, Failed, Trial};

struct Case {
    name: String,
    script: String,
    stdin: Option<String>,
    set: Vec<String>,
    shopt: Vec<String>,
}

fn unescape(s: &str) -> String {
    s.replace("\\n", "\n")
        .replace("\\t", "\t")
        .replace("\\\\", "\\")
}

fn cases() -> Vec<Case> {
    let text = include_str!("shell_diff/cases.txt");
    let mut out: Vec<Case> = vec![];
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("## ") {
            out.push(Case {
                name: name.trim().to_string(),
                script: String::new(),
                stdin: None,
                set: vec![],
                shopt: vec![],
            });
            continue;
        }
        let Some(c) = out.last_mut() else { continue };
        if let Some(v) = line.strip_prefix("#! stdin: ") {
            c.stdin = Some(unescape(v));
        } else if let Some(v) = line.strip_prefix("#! set: ") {
            c.set.push(v.trim().to_string());
        } else if let Some(v) = line.strip_prefix("#! shopt: ") {
            c.shopt.push(v.trim().to_string());
        } else {
            c.script.push_str(line);
            c.script.push('\n');
        }
    }
    out
}

fn taskfile(c: &Case) -> String {
    let mut t = String::from("version: '3'\n");
    if !c.set.is_empty() {
        t += &format!("set: [{}]\n", c.set.join(", "));
    }
    if !c.shopt.is_empty() {
        t += &format!("shopt: [{}]\n", c.shopt.join(", "));
    }
    t += "tasks:\n  t:\n    cmds:\n      - |\n";
    for l in c.script.lines() {
        t += &format!("        {l}\n");
    }
    t
}

fn fixture(dir: &Path, c: &Case) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    for (f, body) in [
        ("a.txt", "alpha\n"),
        ("b.txt", "beta\n"),
        ("c.md", "see\n"),
        ("sub/d.txt", "delta\n"),
        (".hidden", "h\n"),
        ("sp ace.txt", "s\n"),
        ("empty", ""),
    ] {
        std::fs::write(dir.join(f), body).unwrap();
    }
    std::fs::write(dir.join("Taskfile.yml"), taskfile(c)).unwrap();
}

/// Runs `bin` on the case in `dir`: (exit code, stdout, stderr).
fn run(bin: &Path, dir: &Path, c: &Case, path: &str) -> (i32, String, String) {
    fixture(dir, c);
    let mut cmd = Command::new(bin);
    cmd.args(["--silent", "t"])
        .current_dir(dir)
        .env_clear()
        .env("PATH", path)
        .env("HOME", "/home/tester")
        .env("X", "x  y")
        .env("EMPTY", "")
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    {
        use std::io::Write;
        let mut si = child.stdin.take().unwrap();
        if let Some(s) = &c.stdin {
            let _ = si.write_all(s.as_bytes());
        }
    }
    let o = child.wait_with_output().unwrap();
    let d = dir.to_string_lossy().to_string();
    let clean = |b: &[u8]| String::from_utf8_lossy(b).replace(&d, "DIR");
    (
        o.status.code().unwrap_or(-1),
        clean(&o.stdout),
        clean(&o.stderr),
    )
}

fn compare(go: &Path, ox: &Path, c: &Case, dir: &Path, path: &str) -> Result<(), Failed> {
    let want = run(go, dir, c, path);
    let got = run(ox, dir, c, path);
    if want == got {
        return Ok(());
    }
    Err(format!(
        "script:\n{}\ngo-task: exit {}\n--stdout--\n{}--stderr--\n{}\noxtask: exit {}\n--stdout--\n{}--stderr--\n{}",
        c.script, want.0, want.1, want.2, got.0, got.1, got.2
    )
    .into())
}

/// A PATH directory with symlinks to a few coreutils and nothing else.
fn bare_path(root: &Path) -> PathBuf {
    let bin = root.join("bare-bin");
    std::fs::create_dir_all(&bin).unwrap();
    for tool in [
        "cat", "ls", "env", "grep", "sed", "tr", "sort", "head", "wc", "chmod",
    ] {
        let real = ["/usr/bin", "/bin"]
            .iter()
            .map(|d| Path::new(d).join(tool))
            .find(|p| p.exists())
            .unwrap_or_else(|| panic!("{tool} not found"));
        let _ = std::os::unix::fs::symlink(real, bin.join(tool));
    }
    bin
}

fn main() {
    let args = Arguments::from_args();
    let Some(go) = gotask::require("pip install go-task-bin==3.54.0") else {
        libtest_mimic::run(&args, vec![]).exit();
    };
    let ox = PathBuf::from(env!("CARGO_BIN_EXE_task"));
    let root = tempfile::tempdir().unwrap().keep();
    let bare = bare_path(&root);
    let std_path = std::env::var("PATH").unwrap_or_default();
    let all = cases();
    assert!(all.len() >= 150, "only {} cases", all.len());
    let mut trials = vec![];
    let mut embedded = 0;
    for (k, c) in all.into_iter().enumerate() {
        let c = std::sync::Arc::new(c);
        // Syntax errors are the embedded shell's too (reported before anything runs).
        let supported = !matches!(
            oxtask::shell::prepare(&c.script, &c.set, &c.shopt),
            Err(oxtask::shell::Unsupported::Construct(_))
        );
        embedded += supported as usize;
        let (g, o, r, p) = (go.clone(), ox.clone(), root.clone(), std_path.clone());
        let c1 = c.clone();
        trials.push(Trial::test(format!("diff::{}", c.name), move || {
            compare(&g, &o, &c1, &r.join(format!("c{k}")), &p)
        }));
        if supported {
            let (g, o, r, b) = (go.clone(), ox.clone(), root.clone(), bare.clone());
            trials.push(Trial::test(format!("nosh::{}", c.name), move || {
                compare(&g, &o, &c, &r.join(format!("n{k}")), &b.to_string_lossy())
            }));
        }
    }
    // Most snippets must run in-process; a regression that sends them all to bash fails here.
    assert!(
        embedded >= 150,
        "only {embedded} snippets run by the embedded shell"
    );
    let conclusion = libtest_mimic::run(&args, trials);
    let _ = std::fs::remove_dir_all(&root);
    conclusion.exit();
}
