//! The real-world corpus (`../shared/realworld/`: real projects' Taskfiles recorded from
//! go-task 3.54.0) through its own runner, one test per comparison. `run.py` runs every
//! comparison in a fresh copy of the project with a scrubbed environment; this harness
//! turns each recorded comparison into a trial. A difference only in line order (go-task
//! runs deps in parallel and merges includes in a random order) passes, as the runner
//! counts it. Comparisons listed in tests/realworld/KNOWN_FAILURES.txt (with the reason)
//! run as ignored tests; `--include-ignored` shows whether they still fail.
//!
//! `OXTASK_REALWORLD=DIR` points at another corpus of the same layout.
//!
//! Every comparison runs a second time (`noshell::`) with run.py's PATH replaced by a
//! directory of symlinks to every program except the shells (tests/support/noshell.rs):
//! go-task needs no shell, so neither may oxtask. Under CI=true failing to build that
//! PATH is a failure.

#[path = "support/noshell.rs"]
mod noshell;

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
    let known = known_failures();
    let mut trials = vec![];
    let noshell_root = tempfile::tempdir().unwrap();
    let noshell = match noshell::no_shell_path(noshell_root.path()) {
        Ok(p) => Some(p),
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("cannot build a PATH without a shell: {e}")
        }
        Err(e) => {
            eprintln!("skipping the no-shell runs: {e}");
            None
        }
    };
    for (prefix, path) in [("", None), ("noshell::", noshell.as_deref())] {
        if prefix == "noshell::" && path.is_none() {
            continue;
        }
        match run_corpus(&dir, path) {
            Ok(list) => trials.extend(comparisons(prefix, list, &known)),
            Err(summary) => trials.push(Trial::test(
                format!("{prefix}realworld::runner"),
                move || Err(format!("run.py wrote no results:\n{summary}").into()),
            )),
        }
    }
    libtest_mimic::run(&args, trials).exit();
}

/// run.py's per-comparison results, its PATH replaced by `path` when given.
fn run_corpus(dir: &std::path::Path, path: Option<&std::path::Path>) -> Result<Vec<J>, String> {
    let results = tempfile::NamedTempFile::new().unwrap();
    let mut cmd = Command::new("python3");
    match path {
        // run.py sets PATH from its ENV_PATH constant: load it as a module and change that.
        Some(p) => {
            cmd.arg("-c")
                .arg(
                    "import runpy,sys; sys.argv=sys.argv[1:]; g=runpy.run_path(sys.argv[0]); \
                     g['main'].__globals__['ENV_PATH']=sys.argv.pop(1); g['main']()",
                )
                .arg(dir.join("run.py"))
                .arg(p);
        }
        None => {
            cmd.arg(dir.join("run.py"));
        }
    }
    let out = cmd
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
    let summary =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let doc: J = serde_json::from_slice(&std::fs::read(results.path()).unwrap_or_default())
        .unwrap_or(J::Null);
    match doc {
        J::Array(list) => Ok(list),
        _ => Err(summary),
    }
}

fn comparisons(prefix: &str, list: Vec<J>, known: &HashMap<String, String>) -> Vec<Trial> {
    let mut trials = vec![];
    let mut seen: HashMap<String, usize> = HashMap::new();
    for r in list {
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
        let t =
            Trial::test(format!("{prefix}{name}"), move || check(&r)).with_ignored_flag(ignored);
        trials.push(t);
    }
    trials
}

/// Today's date as a template's `now` prints it (`20261207`, `2026-12-07`), masked: some
/// projects put `{{now | date "20060102"}}` into a var, so a recording made on one day
/// differs from a run on the next in that date alone, and no test may depend on the day.
fn mask_dates(s: &str) -> String {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"20\d\d(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])|20\d\d-\d\d-\d\d").unwrap()
    })
    .replace_all(s, "<DATE>")
    .into_owned()
}

fn check(r: &J) -> Result<(), Failed> {
    if r["ok"].as_bool() == Some(true) || r["order_only"].as_bool() == Some(true) {
        return Ok(());
    }
    let (w, g) = (&r["want"], &r["got"]);
    let same_but_dates = w["rc"] == g["rc"]
        && ["stdout", "stderr"].iter().all(|s| {
            mask_dates(w[*s].as_str().unwrap_or("")) == mask_dates(g[*s].as_str().unwrap_or(""))
        });
    if same_but_dates {
        return Ok(());
    }
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
