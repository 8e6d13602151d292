//! Differential generator: random Taskfile programs (tests/support/gen.rs) run through
//! go-task 3.54.0 and oxtask, each invocation in a fresh copy of the program, comparing
//! exit code, stdout, stderr and the files left behind. Invocations per program:
//! `--list-all`, `--list-all --json`, `--summary T`, `--dry T` and `T` itself.
//!
//! `GEN_SEED=N` (default 1) is the first seed, `GEN_COUNT=M` (default 500, the CI sample;
//! long runs pass a larger count) the number of programs (seeds N..N+M), `GEN_JOBS` the
//! worker threads (default 2), `GEN_SHOW` how many failing programs are printed in full
//! (default 3), `GEN_OXTASK=PATH` another oxtask binary, `GEN_REPORT=FILE` writes every
//! difference as JSON lines for triage. A failing program prints its seed: reproduce it
//! with `GEN_SEED=seed GEN_COUNT=1 cargo test --test gen_diff`.
//!
//! Where a program runs two or more deps of one task, go-task starts them in goroutines and
//! their order is up to the scheduler (even with `--concurrency 1`), so for those programs
//! the dry run and the real run compare sorted lines.

#[path = "support/gen.rs"]
mod gen;
#[path = "support/gotask.rs"]
mod gotask;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone)]
struct Out {
    rc: i32,
    stdout: String,
    stderr: String,
    files: String,
}

fn env_u64(k: &str, d: u64) -> u64 {
    std::env::var(k)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(d)
}

fn write_files(root: &Path, p: &gen::Program) {
    for (rel, text) in &p.files {
        let f = root.join(rel);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, text).unwrap();
    }
}

/// Every file under `root` but the program's own, as `path: content` lines (checksum and
/// timestamp state under `.task` by name only).
fn tree(root: &Path, p: &gen::Program) -> String {
    fn walk(dir: &Path, root: &Path, acc: &mut Vec<(String, String)>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let path = e.path();
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .to_string();
            if path.is_dir() {
                acc.push((format!("{rel}/"), String::new()));
                walk(&path, root, acc);
            } else if rel.starts_with(".task/") {
                acc.push((rel, "<state>".into()));
            } else {
                acc.push((
                    rel,
                    std::fs::read_to_string(&path).unwrap_or_else(|_| "<binary>".into()),
                ));
            }
        }
    }
    let mut acc = vec![];
    walk(root, root, &mut acc);
    acc.retain(|(rel, content)| {
        !p.files.iter().any(|(f, c)| f == rel && c == content)
            && !p
                .files
                .iter()
                .any(|(f, _)| f.starts_with(rel.as_str()) && rel.ends_with('/'))
    });
    acc.sort();
    acc.iter().map(|(r, c)| format!("{r}: {c:?}\n")).collect()
}

fn run(bin: &Path, root: &Path, home: &Path, args: &[String]) -> (i32, String, String) {
    let mut child = Command::new(bin)
        .args(args)
        .current_dir(root)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", home)
        .env("TERM", "dumb")
        .env("NO_COLOR", "1")
        // Less garbage collection in go-task's short runs; oxtask ignores it.
        .env("GOGC", "off")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t1 = std::thread::spawn(move || {
        let mut b = vec![];
        so.read_to_end(&mut b).ok();
        b
    });
    let t2 = std::thread::spawn(move || {
        let mut b = vec![];
        se.read_to_end(&mut b).ok();
        b
    });
    let start = Instant::now();
    let rc = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st.code().unwrap_or(-1);
        }
        if start.elapsed() > Duration::from_secs(20) {
            child.kill().ok();
            child.wait().ok();
            break -999;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let so = String::from_utf8_lossy(&t1.join().unwrap()).to_string();
    let se = String::from_utf8_lossy(&t2.join().unwrap()).to_string();
    (rc, so, se)
}

/// Milliseconds spent in go-task and in oxtask (wall clock, summed over workers).
static SPENT: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];

fn invoke(bin: &Path, base: &Path, tag: &str, p: &gen::Program, args: &[String]) -> Out {
    let root = base.join(tag).join("w");
    let home = base.join("home");
    std::fs::create_dir_all(&home).unwrap();
    write_files(&root, p);
    let t0 = Instant::now();
    let (rc, so, se) = run(bin, &root, &home, args);
    let who = usize::from(tag.starts_with("ox"));
    SPENT[who].fetch_add(t0.elapsed().as_millis() as u64, Ordering::Relaxed);
    let rs = root.to_string_lossy().to_string();
    let files = tree(&root, p);
    std::fs::remove_dir_all(&root).ok();
    Out {
        rc,
        stdout: so.replace(&rs, "<ROOT>"),
        stderr: se.replace(&rs, "<ROOT>"),
        files,
    }
}

fn sorted(s: &str) -> String {
    let mut l: Vec<&str> = s.lines().collect();
    l.sort();
    l.join("\n")
}

/// The differences of one program, each as (invocation, what differs, go-task, oxtask).
fn check(go: &Path, ox: &Path, p: &gen::Program) -> Vec<(String, String, String, String)> {
    let base = tempfile::tempdir().unwrap();
    let mut diffs = vec![];
    let invocations: Vec<(Vec<String>, bool)> = vec![
        (vec!["--list-all".into()], false),
        (vec!["--list-all".into(), "--json".into()], false),
        (vec!["--summary".into(), p.summary.clone()], false),
        ([vec!["--dry".into()], p.run.clone()].concat(), p.unordered),
        (p.run.clone(), p.unordered),
    ];
    for (k, (args, unordered)) in invocations.iter().enumerate() {
        let mut w = invoke(go, base.path(), &format!("go{k}"), p, args);
        let mut g = invoke(ox, base.path(), &format!("ox{k}"), p, args);
        // Some answers depend on timing in go-task itself: parallel deps that both fail race
        // for the reported error (its errgroup keeps the first), and `method: timestamp`
        // compares file mtimes (set from the kernel's coarse clock) with the time of the check.
        // On a difference both tools run again, up to eight more times each; the program
        // passes only if an answer of oxtask equals an answer go-task gave.
        if !same_out(&w, &g, *unordered) {
            let (mut gos, mut oxs) = (vec![w.clone()], vec![g.clone()]);
            for _ in 0..8 {
                gos.push(invoke(go, base.path(), &format!("go{k}"), p, args));
                oxs.push(invoke(ox, base.path(), &format!("ox{k}"), p, args));
                let hit = gos.iter().find_map(|a| {
                    oxs.iter()
                        .find(|b| same_out(a, b, *unordered))
                        .map(|b| (a.clone(), b.clone()))
                });
                if let Some((a, b)) = hit {
                    (w, g) = (a, b);
                    break;
                }
            }
        }
        let name = format!("task {}", args.join(" "));
        if w.rc != g.rc {
            diffs.push((
                name.clone(),
                "exit".into(),
                w.rc.to_string(),
                g.rc.to_string(),
            ));
        }
        for (what, a, b) in [
            ("stdout", &w.stdout, &g.stdout),
            ("stderr", &w.stderr, &g.stderr),
            ("files", &w.files, &g.files),
        ] {
            let same = if *unordered && what != "files" {
                sorted(a) == sorted(b)
            } else {
                a == b
            };
            if !same {
                diffs.push((name.clone(), what.into(), a.clone(), b.clone()));
            }
        }
    }
    diffs
}

fn same_out(w: &Out, g: &Out, unordered: bool) -> bool {
    let eq = |a: &String, b: &String| {
        if unordered {
            sorted(a) == sorted(b)
        } else {
            a == b
        }
    };
    w.rc == g.rc && eq(&w.stdout, &g.stdout) && eq(&w.stderr, &g.stderr) && w.files == g.files
}

#[test]
fn generated_programs_match_go_task() {
    let Some(go) = gotask::require(".ci/install-gotask.sh") else {
        return;
    };
    // GEN_OXTASK: another build of oxtask (a long run uses a copy, so rebuilding the
    // tree meanwhile does not swap the binary under it).
    let ox = std::env::var_os("GEN_OXTASK")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_task")));
    let seed0 = env_u64("GEN_SEED", 1);
    let count = env_u64("GEN_COUNT", 500);
    let jobs = env_u64("GEN_JOBS", 2).max(1);
    let show = env_u64("GEN_SHOW", 3) as usize;
    let report = std::env::var_os("GEN_REPORT").map(PathBuf::from);
    let next = Arc::new(AtomicU64::new(seed0));
    let failures: Arc<Mutex<Vec<(gen::Program, Vec<(String, String, String, String)>)>>> =
        Arc::default();
    let start = Instant::now();
    let workers: Vec<_> = (0..jobs)
        .map(|_| {
            let (next, failures, go, ox) = (next.clone(), failures.clone(), go.clone(), ox.clone());
            std::thread::spawn(move || loop {
                let seed = next.fetch_add(1, Ordering::SeqCst);
                if seed >= seed0 + count {
                    break;
                }
                let p = gen::program(seed);
                let d = check(&go, &ox, &p);
                if !d.is_empty() {
                    failures.lock().unwrap().push((p, d));
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let mut failures = std::mem::take(&mut *failures.lock().unwrap());
    failures.sort_by_key(|(p, _)| p.seed);
    eprintln!(
        "gen_diff: {count} programs from seed {seed0} in {:.1}s ({:.1}s in go-task, {:.1}s in oxtask), {} differ",
        start.elapsed().as_secs_f64(),
        SPENT[0].load(Ordering::Relaxed) as f64 / 1000.0,
        SPENT[1].load(Ordering::Relaxed) as f64 / 1000.0,
        failures.len()
    );
    if let Some(path) = report {
        let mut text = String::new();
        for (p, d) in &failures {
            for (inv, what, a, b) in d {
                let j = serde_json::json!({"seed": p.seed, "inv": inv, "what": what, "go": a, "ox": b, "program": p.text()});
                text.push_str(&j.to_string());
                text.push('\n');
            }
        }
        std::fs::write(path, text).unwrap();
    }
    if failures.is_empty() {
        return;
    }
    let mut msg = String::new();
    for (p, d) in failures.iter().take(show) {
        msg.push_str(&format!(
            "\n##### seed {} (GEN_SEED={} GEN_COUNT=1)\n{}",
            p.seed,
            p.seed,
            p.text()
        ));
        for (inv, what, a, b) in d {
            msg.push_str(&format!(
                "--- {inv}: {what}\n  go-task: {a:?}\n  oxtask:  {b:?}\n"
            ));
        }
    }
    let seeds: Vec<String> = failures.iter().map(|(p, _)| p.seed.to_string()).collect();
    panic!(
        "{} of {count} programs differ from go-task (seeds {}){msg}",
        failures.len(),
        seeds.join(" ")
    );
}
