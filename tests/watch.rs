//! Watch mode through the binary: start `task -w` (or a `watch: true` task) on a temp
//! Taskfile, change files from the test, read the output until the task ran again, then
//! SIGINT and check the clean exit. Every wait is bounded.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Watch {
    child: Child,
    out: Arc<Mutex<String>>,
    err: Arc<Mutex<String>>,
}

fn pump(mut r: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    let buf = Arc::new(Mutex::new(String::new()));
    let b = buf.clone();
    std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        while let Ok(n) = r.read(&mut chunk) {
            if n == 0 {
                break;
            }
            b.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&chunk[..n]));
        }
    });
    buf
}

impl Watch {
    fn start(dir: &Path, args: &[&str]) -> Watch {
        let mut child = Command::new(env!("CARGO_BIN_EXE_task"))
            .args(args)
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn task");
        let out = pump(child.stdout.take().unwrap());
        let err = pump(child.stderr.take().unwrap());
        Watch { child, out, err }
    }

    fn stdout(&self) -> String {
        self.out.lock().unwrap().clone()
    }

    fn stderr(&self) -> String {
        self.err.lock().unwrap().clone()
    }

    /// Waits until `f(stdout, stderr)` holds, at most `secs`.
    fn wait_for(&self, what: &str, secs: u64, f: impl Fn(&str, &str) -> bool) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(secs) {
            if f(&self.stdout(), &self.stderr()) {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!(
            "timed out waiting for {what}\n--- stdout:\n{}\n--- stderr:\n{}",
            self.stdout(),
            self.stderr()
        );
    }

    fn count(&self, needle: &str) -> usize {
        self.stdout().matches(needle).count()
    }

    /// SIGINT, then the exit code (bounded).
    fn interrupt(mut self) -> (i32, String, String) {
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGINT);
        }
        let start = Instant::now();
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                // Let the pumps drain.
                std::thread::sleep(Duration::from_millis(50));
                return (st.code().unwrap_or(-1), self.stdout(), self.stderr());
            }
            if start.elapsed() > Duration::from_secs(10) {
                let _ = self.child.kill();
                panic!(
                    "task did not exit within 10s of SIGINT\n--- stderr:\n{}",
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn write(dir: &Path, rel: &str, content: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, content).unwrap();
}

#[test]
fn reruns_on_source_change_and_exits_cleanly_on_sigint() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "Taskfile.yml",
        "version: '3'\ntasks:\n  build:\n    sources: ['src/*.txt']\n    cmds:\n      - echo RUN-build\n",
    );
    write(d.path(), "src/a.txt", "one\n");
    let w = Watch::start(d.path(), &["-w", "build"]);
    w.wait_for("the first run", 20, |o, e| {
        o.contains("RUN-build") && e.contains("task: task \"build\" finished running")
    });
    assert!(
        w.stderr()
            .starts_with("task: Started watching for tasks: build\n"),
        "{}",
        w.stderr()
    );

    // A file outside the sources changes nothing.
    write(d.path(), "src/notes.md", "x\n");
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(w.count("RUN-build"), 1, "stdout: {}", w.stdout());

    write(d.path(), "src/a.txt", "two\n");
    w.wait_for("the second run", 20, |o, _| {
        o.matches("RUN-build").count() == 2
    });
    // A new file matching the glob is a change too.
    write(d.path(), "src/b.txt", "new\n");
    w.wait_for("the third run", 20, |o, _| {
        o.matches("RUN-build").count() == 3
    });
    w.wait_for("the third finish", 20, |_, e| {
        e.matches("finished running").count() == 3
    });

    let (code, _, err) = w.interrupt();
    assert_eq!(code, 0, "stderr: {err}");
    assert_eq!(
        err.matches("task: task \"build\" finished running\n")
            .count(),
        3,
        "{err}"
    );
}

#[test]
fn watch_true_in_the_taskfile_follows_dep_sources_with_its_interval() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "Taskfile.yml",
        "version: '3'\ninterval: 200ms\ntasks:\n  serve:\n    watch: true\n    deps: [gen]\n    cmds:\n      - echo RUN-serve\n  gen:\n    sources: ['proto/**/*.proto']\n    cmds:\n      - echo RUN-gen\n",
    );
    write(d.path(), "proto/a.proto", "a\n");
    let w = Watch::start(d.path(), &["serve"]);
    w.wait_for("the first run", 20, |o, _| o.contains("RUN-serve"));
    assert!(
        w.stderr()
            .starts_with("task: Started watching for tasks: serve\n"),
        "{}",
        w.stderr()
    );
    // A new directory below a `**` glob is watched as soon as it appears.
    write(d.path(), "proto/v2/b.proto", "b\n");
    w.wait_for("a run after the dep's new source", 20, |o, _| {
        o.matches("RUN-serve").count() == 2
    });
    assert_eq!(w.count("RUN-gen"), 2);
    let (code, _, err) = w.interrupt();
    assert_eq!(code, 0, "stderr: {err}");
}

#[test]
fn only_the_call_whose_sources_changed_runs_again() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "Taskfile.yml",
        "version: '3'\ntasks:\n  a:\n    sources: ['a/*']\n    cmds: [echo RUN-a]\n  b:\n    sources: ['b/*']\n    cmds: [echo RUN-b]\n",
    );
    write(d.path(), "a/1", "1");
    write(d.path(), "b/1", "1");
    let w = Watch::start(d.path(), &["-w", "a", "b"]);
    w.wait_for("both first runs", 20, |o, e| {
        o.contains("RUN-a") && o.contains("RUN-b") && e.matches("finished running").count() == 2
    });
    assert!(
        w.stderr()
            .starts_with("task: Started watching for tasks: a, b\n"),
        "{}",
        w.stderr()
    );
    write(d.path(), "b/1", "2");
    w.wait_for("b again", 20, |o, _| o.matches("RUN-b").count() == 2);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(w.count("RUN-a"), 1, "stdout: {}", w.stdout());
    let (code, _, err) = w.interrupt();
    assert_eq!(code, 0, "stderr: {err}");
}

#[test]
fn a_change_cancels_the_running_command_and_sigint_leaves_nothing_behind() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "Taskfile.yml",
        "version: '3'\ntasks:\n  slow:\n    sources: ['in/*.txt']\n    cmds:\n      - echo START $$; echo $$ >> pids; sleep 30; echo END\n",
    );
    write(d.path(), "in/x.txt", "1");
    let w = Watch::start(d.path(), &["-w", "-I", "150ms", "slow"]);
    w.wait_for("the first start", 20, |o, _| o.contains("START"));
    write(d.path(), "in/x.txt", "2");
    w.wait_for("a restart", 20, |o, _| o.matches("START").count() == 2);
    let start = Instant::now();
    let (code, out, err) = w.interrupt();
    assert_eq!(code, 0, "stderr: {err}");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "SIGINT took {:?}",
        start.elapsed()
    );
    assert!(!out.contains("END"), "a cancelled command finished: {out}");
    // Neither the cancelled nor the interrupted command's process group survives.
    let pids = std::fs::read_to_string(d.path().join("pids")).unwrap();
    assert_eq!(pids.lines().count(), 2);
    for p in pids.lines() {
        let pid: i32 = p.trim().parse().unwrap();
        let gone = Instant::now() + Duration::from_secs(3);
        while unsafe { libc::kill(-pid, 0) } == 0 && Instant::now() < gone {
            std::thread::sleep(Duration::from_millis(50));
        }
        let ps = Command::new("ps")
            .args(["-eo", "pid,ppid,pgid,stat,cmd"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        assert!(
            unsafe { libc::kill(-pid, 0) } != 0,
            "process group {pid} still runs (of {pids:?})\n{ps}"
        );
    }
}

#[test]
fn bad_interval_flag_is_a_usage_error() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "Taskfile.yml",
        "version: '3'\ntasks:\n  a: echo a\n",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_task"))
        .args(["-w", "-I", "soon", "a"])
        .current_dir(d.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).ends_with(
        "invalid argument \"soon\" for \"--interval\" flag: time: invalid duration \"soon\"\n"
    ));
}
