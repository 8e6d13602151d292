//! The real-world corpus (`../shared/realworld/`: real projects' Taskfiles recorded from
//! go-task 3.54.0) through its own runner, one test per comparison. `run.py` runs every
//! comparison in a fresh copy of the project with a scrubbed environment; this harness
//! turns each recorded comparison into a trial. A difference only in line order (go-task
//! runs deps in parallel and merges includes in a random order) passes, as the runner
//! counts it. Comparisons listed in tests/realworld/KNOWN_FAILURES.txt (with the reason)
//! run as ignored tests; `--include-ignored` shows whether they still fail.
//!
//! `OXTASK_REALWORLD=DIR` points at another corpus of the same layout.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::Value as J;

fn corpus() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("OXTASK_REALWORLD") {
        return Some(PathBuf::from(p));
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    [
        root.join("../shared/realworld"),
        root.join("../../shared/realworld"),
    ]
    .into_iter()
    .find(|p| p.join("run.py").is_file())
}

/// `case kind args…` → reason, from KNOWN_FAILURES.txt (`#` starts the reason).
fn known_failures() -> HashMap<String, String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/realworld/KNOWN_FAILURES.txt");
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
        let in_ci = std::env::var_os("CI").is_some();
        let t = Trial::test("realworld::corpus_present", move || {
            if in_ci {
                Err("../shared/realworld not found (set OXTASK_REALWORLD)".into())
            } else {
                eprintln!("skipped: ../shared/realworld not found (set OXTASK_REALWORLD)");
                Ok(())
            }
        });
        libtest_mimic::run(&args, vec![t]).exit();
    };
    let results = tempfile::NamedTempFile::new().unwrap();
    let out = Command::new("python3")
        .arg(dir.join("run.py"))
        .args([
            "--task",
            env!("CARGO_BIN_EXE_task"),
            "--jobs",
            "2",
            "--results",
        ])
        .arg(results.path())
        .output()
        .expect("python3 run.py");
    let summary = String::from_utf8_lossy(&out.stdout).to_string();
    let doc: J = serde_json::from_slice(&std::fs::read(results.path()).unwrap_or_default())
        .unwrap_or(J::Null);
    let known = known_failures();
    let mut trials = vec![];
    let Some(list) = doc.as_array() else {
        let t = Trial::test("realworld::runner", move || {
            Err(format!("run.py wrote no results:\n{summary}").into())
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
    for s in ["stdout", "stderr"] {
        if w[s] != g[s] {
            msg.push_str(&format!(
                "--- go-task {s}:\n{}\n--- oxtask {s}:\n{}\n",
                w[s].as_str().unwrap_or(""),
                g[s].as_str().unwrap_or("")
            ));
        }
    }
    Err(msg.into())
}
