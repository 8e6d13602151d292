//! Hostile input (issue 15): each test feeds oxtask something an attacker controls (a
//! Taskfile, a template, a chart, a registry) and checks it is refused with a clear error,
//! within bounded time and memory, and that nothing is written where it should not be.
//! See docs/security.md for the threat model and the limits.

#[path = "support/gotask.rs"]
mod gotask;
#[path = "support/registry.rs"]
#[allow(dead_code)]
mod registry;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn task_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_task"))
}

/// Runs `cmd` and kills it after `limit` (a hang is a test failure, not a stuck CI job).
fn run_limited(mut cmd: Command, limit: Duration) -> (Output, Duration) {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd.spawn().expect("spawn");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = out.read_to_end(&mut b);
        b
    });
    let t_err = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = err.read_to_end(&mut b);
        b
    });
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let s = child.wait().unwrap();
            let o = Output {
                status: s,
                stdout: t_out.join().unwrap(),
                stderr: t_err.join().unwrap(),
            };
            panic!(
                "still running after {limit:?}; stderr: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = start.elapsed();
    (
        Output {
            status,
            stdout: t_out.join().unwrap(),
            stderr: t_err.join().unwrap(),
        },
        elapsed,
    )
}

fn task_in(dir: &Path, args: &[&str], limit: Duration) -> (Output, Duration) {
    let mut c = Command::new(task_bin());
    c.args(args).current_dir(dir).env_remove("TASK_X_REMOTE_TASKFILES");
    run_limited(c, limit)
}

fn go_task_in(go: &Path, dir: &Path, args: &[&str]) -> Output {
    let mut c = Command::new(go);
    c.args(args).current_dir(dir);
    run_limited(c, Duration::from_secs(60)).0
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (name, body) in files {
        let p = d.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(p, body).unwrap();
    }
    d
}

// ---- 7: tasks calling each other ------------------------------------------------------

const MUTUAL: &str = "version: '3'\ntasks:\n  a:\n    cmds:\n      - task: b\n  b:\n    cmds:\n      - task: a\n";

fn call_chain(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        s.push_str(if i % 2 == 0 {
            "task: Failed to run task \"a\": "
        } else {
            "task: Failed to run task \"b\": "
        });
    }
    s
}

#[test]
fn mutually_recursive_cmds_stop_at_the_call_limit() {
    let d = project(&[("Taskfile.yml", MUTUAL)]);
    // 999 calls of `a` and 999 of `b` wrap the error: exactly go-task's 1,998 frames.
    let want = format!(
        "{}task: Maximum task call exceeded (1000) for task \"a\": probably an cyclic dep or infinite loop\n",
        call_chain(1998)
    );
    for args in [&["a"][..], &["--dry", "a"][..]] {
        let (o, _) = task_in(d.path(), args, Duration::from_secs(120));
        assert_eq!(o.status.code(), Some(204), "{args:?}: {}", text(&o.stderr));
        assert_eq!(text(&o.stderr), want, "{args:?}");
    }
    if let Some(go) = gotask::require(".ci/install-e2e.sh") {
        let g = go_task_in(&go, d.path(), &["a"]);
        assert_eq!(g.status.code(), Some(204));
        assert_eq!(text(&g.stderr), want, "go-task's text changed");
    }
}

#[test]
fn mutual_recursion_in_a_small_thread_stack_still_ends_with_the_limit() {
    // Deps run on other threads than main; the limit must be reached there too.
    let d = project(&[(
        "Taskfile.yml",
        "version: '3'\ntasks:\n  top:\n    deps: [a]\n  a:\n    cmds:\n      - task: b\n  b:\n    cmds:\n      - task: a\n",
    )]);
    let (o, _) = task_in(d.path(), &["top"], Duration::from_secs(120));
    assert_eq!(o.status.code(), Some(204), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("Maximum task call exceeded (1000)"));
}

#[test]
fn flattened_include_calling_colon_name_is_not_found() {
    let d = project(&[
        (
            "Taskfile.yml",
            "version: '3'\nincludes:\n  inc:\n    taskfile: ./inc.yml\n    flatten: true\n",
        ),
        ("inc.yml", "version: '3'\ntasks:\n  test:\n    cmds:\n      - task: :test\n"),
    ]);
    let (o, _) = task_in(d.path(), &["test"], Duration::from_secs(60));
    assert_eq!(o.status.code(), Some(200), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).starts_with("task: Failed to run task \"test\": task: Task \":test\" does not exist"),
        "{}",
        text(&o.stderr)
    );
    if let Some(go) = gotask::require(".ci/install-e2e.sh") {
        let g = go_task_in(&go, d.path(), &["test"]);
        assert_eq!(g.status.code(), Some(200));
        assert!(text(&g.stderr).starts_with("task: Failed to run task \"test\": task: Task \":test\" does not exist"));
    }
}

#[test]
fn colon_names_resolve_from_included_files_only() {
    // go-task strips the leading `:` only when merging a namespaced include.
    let d = project(&[
        (
            "Taskfile.yml",
            "version: '3'\nincludes:\n  inc: ./inc.yml\ntasks:\n  x:\n    cmds: [echo x]\n  y:\n    cmds:\n      - task: :x\n",
        ),
        ("inc.yml", "version: '3'\ntasks:\n  v:\n    cmds:\n      - task: :x\n"),
    ]);
    let (o, _) = task_in(d.path(), &["inc:v"], Duration::from_secs(60));
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "x\n");
    let (o, _) = task_in(d.path(), &["y"], Duration::from_secs(60));
    assert_eq!(o.status.code(), Some(200));
    assert_eq!(
        text(&o.stderr),
        "task: Failed to run task \"y\": task: Task \":x\" does not exist\n"
    );
}

// ---- 5: YAML alias bombs ----------------------------------------------------------------

fn alias_bomb(indent: &str) -> String {
    let mut s = format!("{indent}a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    for i in 1..9 {
        s.push_str(&format!(
            "{indent}a{i}: &a{i} [{}]\n",
            vec![format!("*a{}", i - 1); 9].join(",")
        ));
    }
    s
}

#[test]
fn taskfile_alias_bomb_is_refused_like_go_task() {
    let tf = format!(
        "version: '3'\nvars:\n{}tasks:\n  default:\n    cmds: [echo hi]\n",
        alias_bomb("  ")
    );
    let d = project(&[("Taskfile.yml", &tf)]);
    let (o, took) = task_in(d.path(), &[], Duration::from_secs(30));
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(102), "{err}");
    let file = d.path().join("Taskfile.yml");
    let head = format!(
        "err:  yaml: document contains excessive aliasing\nfile: {}:6:7\n",
        file.display()
    );
    assert!(err.starts_with(&head), "{err}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    if let Some(go) = gotask::require(".ci/install-e2e.sh") {
        let g = go_task_in(&go, d.path(), &[]);
        assert_eq!(g.status.code(), Some(102));
        assert!(text(&g.stderr).starts_with(&head), "{}", text(&g.stderr));
    }
}

#[test]
fn chart_yaml_alias_bomb_is_refused() {
    let d = project(&[
        (
            "c/Chart.yaml",
            &format!("apiVersion: v2\nname: c\nversion: 0.1.0\nannotations:\n  x: y\nbomb:\n{}", alias_bomb("  ")),
        ),
        ("c/values.yaml", "{}\n"),
    ]);
    let mut cmd = Command::new(registry::helm_bin());
    cmd.args(["show", "chart", "c"])
        .current_dir(d.path())
        .env("HOME", d.path())
        .env("PATH", "/usr/bin:/bin");
    let (o, took) = run_limited(cmd, Duration::from_secs(30));
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("error converting YAML to JSON: yaml: document contains excessive aliasing"),
        "{err}"
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");
}
