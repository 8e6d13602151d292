//! Ctrl-C and SIGTERM reach the running command; deferred commands still run; the task
//! fails with go-task's run-error exit code.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn run_and_signal(sig: i32) -> (i32, String, String, Duration) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Taskfile.yml"),
        "version: '3'\ntasks:\n  default:\n    cmds:\n      - defer: echo deferred-ran\n      - sleep 20\n      - echo not-reached\n",
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_task"))
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Give the command time to start before signalling `task` alone (not its group).
    std::thread::sleep(Duration::from_millis(700));
    let start = Instant::now();
    unsafe {
        libc::kill(child.id() as i32, sig);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(
            Instant::now() < deadline,
            "task did not stop after the signal"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = start.elapsed();
    let (mut out, mut err) = (String::new(), String::new());
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (status.code().unwrap_or(-1), out, err, took)
}

#[test]
fn sigterm_reaches_the_command_and_defers_run() {
    let (code, out, err, took) = run_and_signal(libc::SIGTERM);
    assert!(
        took < Duration::from_secs(5),
        "the running command was not stopped: {took:?}"
    );
    assert!(out.contains("deferred-ran"), "stdout: {out}\nstderr: {err}");
    assert!(!out.contains("not-reached"), "stdout: {out}");
    assert!(
        out.contains("task: Signal received: \"terminated\""),
        "stdout: {out}"
    );
    assert_eq!(code, 201, "stderr: {err}");
}

#[test]
fn sigint_reaches_the_command_and_defers_run() {
    let (code, out, err, took) = run_and_signal(libc::SIGINT);
    assert!(
        took < Duration::from_secs(5),
        "the running command was not stopped: {took:?}"
    );
    assert!(out.contains("deferred-ran"), "stdout: {out}\nstderr: {err}");
    assert!(
        err.contains("task: Failed to run task \"default\""),
        "stderr: {err}"
    );
    assert_eq!(code, 201);
}
