//! The second real-world corpus (tests/realworld2/: 75 Taskfiles of 71 public projects,
//! kept outside the repository and rebuilt from `manifest.json`, recorded from go-task
//! 3.54.0 by `run2.py --record`) through `run2.py`, one test per comparison. A difference
//! only in line order passes, as the runner counts it; with go-task present, a differing
//! comparison that go-task itself answers differently on a re-run is dropped as unstable.
//! Comparisons listed in tests/realworld2/KNOWN_FAILURES.txt run as ignored tests.
//!
//! The corpus is `OXTASK_REALWORLD2=DIR` or `../shared/realworld2`; without it the suite
//! is one passing trial that says so (other projects' files cannot be committed here).
//! By default the first 12 comparisons of every case run (a fixed sample);
//! `OXTASK_REALWORLD2_FULL=1` runs them all.

#[path = "support/gotask.rs"]
mod gotask;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::Value as J;

fn corpus() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("OXTASK_REALWORLD2") {
        return Some(PathBuf::from(p));
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    [
        root.join("../shared/realworld2"),
        root.join("../../shared/realworld2"),
    ]
    .into_iter()
    .find(|p| p.join("cases").is_dir())
}

/// `case kind args…` → reason, from KNOWN_FAILURES.txt (`#` starts the reason).
fn known_failures() -> HashMap<String, String> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/realworld2/KNOWN_FAILURES.txt");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (k, why) = l.split_once(" # ").unwrap_or((l, ""));
            (k.trim().to_string(), why.trim().to_string())
        })
        .collect()
}

fn main() {
    let args = Arguments::from_args();
    let Some(dir) = corpus() else {
        let t = Trial::test("realworld2::corpus_present", move || {
            eprintln!(
                "skipped: corpus not found (set OXTASK_REALWORLD2; see tests/realworld2/README.md)"
            );
            Ok(())
        });
        libtest_mimic::run(&args, vec![t]).exit();
    };
    let results = tempfile::NamedTempFile::new().unwrap();
    let runner = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/realworld2/run2.py");
    let mut cmd = Command::new("python3");
    cmd.arg(runner)
        .arg("--corpus")
        .arg(&dir)
        .args([
            "--task",
            env!("CARGO_BIN_EXE_task"),
            "--jobs",
            "2",
            "--results",
        ])
        .arg(results.path());
    if std::env::var_os("OXTASK_REALWORLD2_FULL").is_none() {
        cmd.args(["--sample", "12"]);
    }
    if let Ok(go) = gotask::find() {
        cmd.arg("--ref").arg(go);
    }
    let out = cmd.output().expect("python3 run2.py");
    let summary = String::from_utf8_lossy(&out.stdout).to_string();
    let doc: J = serde_json::from_slice(&std::fs::read(results.path()).unwrap_or_default())
        .unwrap_or(J::Null);
    let known = known_failures();
    let mut trials = vec![];
    let Some(list) = doc.as_array() else {
        let t = Trial::test("realworld::runner", move || {
            Err(format!("run2.py wrote no results:\n{summary}").into())
        });
        libtest_mimic::run(&args, vec![t]).exit();
    };
    let mut seen: HashMap<String, usize> = HashMap::new();
    for r in list.iter().cloned() {
        let case = r["case"].as_str().unwrap_or("").to_string();
        let kind = r["kind"].as_str().unwrap_or("").to_string();
        let argv: Vec<String> = r["args"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        let key = format!("{case} {kind} {}", argv.join(" "));
        // The same comparison can be recorded twice (a task listed under two names).
        let n = seen.entry(key.clone()).or_default();
        *n += 1;
        let name = if *n == 1 {
            key.clone()
        } else {
            format!("{key} #{n}")
        };
        let ignored = known.contains_key(&key);
        let t = Trial::test(name, move || check(&r)).with_ignored_flag(ignored);
        trials.push(t);
    }
    libtest_mimic::run(&args, trials).exit();
}

fn check(r: &J) -> Result<(), Failed> {
    if r["ok"].as_bool() == Some(true) || r["order_only"].as_bool() == Some(true) {
        return Ok(());
    }
    let (w, g) = (&r["want"], &r["got"]);
    let mut msg = String::new();
    if w["rc"] != g["rc"] {
        msg.push_str(&format!("exit: go-task {}, oxtask {}\n", w["rc"], g["rc"]));
    }
    for s in ["stdout", "stderr", "files"] {
        if w[s] != g[s] {
            msg.push_str(&format!(
                "--- go-task {s}:\n{}\n--- oxtask {s}:\n{}\n",
                w[s].as_str().map_or_else(|| w[s].to_string(), String::from),
                g[s].as_str().map_or_else(|| g[s].to_string(), String::from)
            ));
        }
    }
    Err(msg.into())
}
