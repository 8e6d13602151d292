//! go-task 3.54.0 conformance: one test per recorded case in tests/conformance/corpus,
//! compared the way ../shared/conformance/run_conformance.py compares them.
//! Cases listed in tests/conformance/KNOWN_FAILURES.txt run as ignored tests.

#[path = "support/noshell.rs"]
mod noshell;
use libtest_mimic::{Arguments, Failed, Trial};
use noshell::no_shell_path;
use serde_json::Value as J;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/corpus")
}

struct Norm {
    pairs: Vec<(String, String)>,
    extra: Vec<(regex_lite::Regex, String)>,
}

impl Norm {
    fn text(&self, s: &str) -> String {
        let mut s = s.replace("\r\n", "\n");
        for (p, t) in &self.pairs {
            s = s.replace(p, t);
        }
        for (rx, rep) in &self.extra {
            s = rx
                .replace_all(&s, go_to_rust_repl(rep).as_str())
                .into_owned();
        }
        s
    }
    fn data(&self, b: &[u8]) -> Vec<u8> {
        match std::str::from_utf8(b) {
            Ok(s) => {
                let mut s = s.to_string();
                for (p, t) in &self.pairs {
                    s = s.replace(p, t);
                }
                for (rx, rep) in &self.extra {
                    s = rx
                        .replace_all(&s, go_to_rust_repl(rep).as_str())
                        .into_owned();
                }
                s.into_bytes()
            }
            Err(_) => b.to_vec(),
        }
    }
}

fn go_to_rust_repl(r: &str) -> String {
    // Python's \1 → regex's ${1}
    let mut out = String::new();
    let mut chars = r.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(d) = chars.peek().copied().filter(|d| d.is_ascii_digit()) {
                chars.next();
                out.push_str(&format!("${{{d}}}"));
                continue;
            }
        }
        if c == '$' {
            out.push_str("$$");
            continue;
        }
        out.push(c);
    }
    out
}

fn snapshot(root: &Path, norm: &Norm) -> BTreeMap<String, String> {
    let mut snap = BTreeMap::new();
    fn walk(dir: &Path, root: &Path, norm: &Norm, snap: &mut BTreeMap<String, String>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.file_type().is_symlink() {
                let t = std::fs::read_link(&p).unwrap();
                snap.insert(rel, format!("link:{}", norm.text(&t.to_string_lossy())));
            } else if meta.is_dir() {
                snap.insert(format!("{rel}/"), "dir".into());
                walk(&p, root, norm, snap);
            } else {
                match std::fs::read(&p) {
                    Ok(data) => {
                        let h = Sha256::digest(norm.data(&data));
                        snap.insert(rel, hex(&h)[..16].to_string());
                    }
                    Err(e) => {
                        snap.insert(rel, format!("unreadable:{}", e.raw_os_error().unwrap_or(0)));
                    }
                }
            }
        }
    }
    walk(root, root, norm, &mut snap);
    snap
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn diff(
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (k, v) in after {
        if before.get(k) != Some(v) {
            out.insert(k.clone(), v.clone());
        }
    }
    for k in before.keys() {
        if !after.contains_key(k) {
            out.insert(k.clone(), "<deleted>".into());
        }
    }
    out
}

fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap().flatten() {
        let p = e.path();
        let t = dst.join(e.file_name());
        let ft = std::fs::symlink_metadata(&p).unwrap().file_type();
        if ft.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&p).unwrap(), &t).unwrap();
        } else if ft.is_dir() {
            copy_dir(&p, &t);
        } else {
            std::fs::copy(&p, &t).unwrap();
        }
    }
}

fn apply_pre(root: &Path, actions: Option<&J>) {
    let Some(J::Array(actions)) = actions else {
        return;
    };
    for a in actions {
        if let Some(rm) = a.get("rm").and_then(J::as_str) {
            let p = root.join(rm);
            if p.is_dir() && !p.is_symlink() {
                let _ = std::fs::remove_dir_all(&p);
            } else {
                let _ = std::fs::remove_file(&p);
            }
        }
        if let Some(d) = a.get("mkdir").and_then(J::as_str) {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        if let Some(J::Object(w)) = a.get("write") {
            for (rel, content) in w {
                let p = root.join(rel);
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(&p, content.as_str().unwrap_or("")).unwrap();
            }
        }
        if let Some(f) = a.get("touch_future").and_then(J::as_str) {
            let t = std::time::SystemTime::now() + std::time::Duration::from_secs(10);
            let f = std::fs::File::options()
                .write(true)
                .open(root.join(f))
                .unwrap();
            f.set_modified(t).unwrap();
        }
        if let Some(s) = a.get("sleep") {
            let secs = s
                .as_f64()
                .or_else(|| s.as_str().and_then(|x| x.parse().ok()))
                .unwrap_or(0.0);
            std::thread::sleep(std::time::Duration::from_secs_f64(secs));
        }
    }
}

fn sorted_lines(s: &str) -> String {
    let mut l: Vec<&str> = s.lines().collect();
    l.sort();
    l.join("\n")
}

/// Whether a case runs a shell by name (`bash -c`, `sh script`): it cannot pass without one.
fn names_a_shell(name: &str) -> bool {
    let rx = regex_lite::Regex::new(r"(^|[^A-Za-z0-9_./-])(ba)?sh([ \t\n'\x22]|$)").unwrap();
    let mut stack = vec![corpus().join(name)];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(t) = std::fs::read_to_string(&p) {
                if t.starts_with("#!") || rx.is_match(&t) {
                    return true;
                }
            }
        }
    }
    false
}

fn run_case(name: &str) -> Result<(), Failed> {
    run_case_with(name, None)
}

fn run_case_with(name: &str, path: Option<&Path>) -> Result<(), Failed> {
    let dir = corpus().join(name);
    let case: J =
        serde_json::from_str(&std::fs::read_to_string(dir.join("case.json")).unwrap()).unwrap();
    let expected: J =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let tmp = tempfile::Builder::new()
        .prefix("taskconf-")
        .tempdir()
        .unwrap();
    let tmp_path = tmp.path().to_path_buf();
    let work = tmp_path.join("case");
    copy_dir(&dir.join("fixture"), &work.join("fixture"));
    let home = tmp_path.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let root = work.join("fixture");
    let mut pairs = vec![];
    for (p, tok) in [(&root, "<ROOT>"), (&home, "<HOME>"), (&tmp_path, "<TMP>")] {
        for q in [
            p.to_string_lossy().into_owned(),
            std::fs::canonicalize(p)
                .unwrap()
                .to_string_lossy()
                .into_owned(),
        ] {
            pairs.push((q, tok.to_string()));
        }
    }
    pairs.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
    pairs.dedup();
    let extra = case
        .get("normalize")
        .and_then(J::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|pair| {
                    let rx = regex_lite::Regex::new(pair.get(0)?.as_str()?).ok()?;
                    Some((rx, pair.get(1)?.as_str()?.to_string()))
                })
                .collect()
        })
        .unwrap_or_default();
    let norm = Norm { pairs, extra };
    let steps: Vec<J> = match case.get("steps").and_then(J::as_array) {
        Some(s) => s.clone(),
        None => vec![
            serde_json::json!({"args": case.get("args").cloned().unwrap_or(J::Array(vec![])), "stdin": case.get("stdin").cloned().unwrap_or(J::Null)}),
        ],
    };
    let exp_steps = expected["steps"].as_array().unwrap();
    if exp_steps.len() != steps.len() {
        return Err("step count differs".into());
    }
    let expect: Vec<String> = case
        .get("expect")
        .and_then(J::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_else(|| {
            vec![
                "exit".into(),
                "stdout".into(),
                "stderr".into(),
                "files".into(),
            ]
        });
    let bin = env!("CARGO_BIN_EXE_task");
    for (i, st) in steps.iter().enumerate() {
        apply_pre(&root, st.get("pre"));
        let before = snapshot(&root, &norm);
        let cwd = match st.get("dir").and_then(J::as_str) {
            Some(d) => work.join("fixture").join(d),
            None => work.join(case.get("dir").and_then(J::as_str).unwrap_or("fixture")),
        };
        std::fs::create_dir_all(&cwd).unwrap();
        let mut cmd = Command::new(bin);
        cmd.current_dir(&cwd).env_clear();
        cmd.env(
            "PATH",
            match path {
                Some(p) => p.to_string_lossy().into_owned(),
                None => {
                    std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into())
                }
            },
        )
        .env("HOME", &home)
        .env("USER", "tester")
        .env("LANG", "C.UTF-8")
        .env("NO_COLOR", "1")
        .env("TERM", "dumb");
        for src in [case.get("env"), st.get("env")] {
            if let Some(J::Object(m)) = src {
                for (k, v) in m {
                    cmd.env(k, v.as_str().unwrap_or(""));
                }
            }
        }
        for a in st.get("args").and_then(J::as_array).unwrap_or(&vec![]) {
            cmd.arg(a.as_str().unwrap_or(""));
        }
        let stdin = st.get("stdin").and_then(J::as_str).map(String::from);
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| format!("spawn: {e}"))?;
        if let Some(s) = stdin {
            use std::io::Write;
            let _ = child.stdin.take().unwrap().write_all(s.as_bytes());
        }
        let out = child.wait_with_output().map_err(|e| format!("wait: {e}"))?;
        let code = out.status.code().map(|c| c as i64).unwrap_or(-1);
        let stdout = norm.text(&String::from_utf8_lossy(&out.stdout));
        let stderr = norm.text(&String::from_utf8_lossy(&out.stderr));
        let after = snapshot(&root, &norm);
        let files = diff(&before, &after);
        let e = &exp_steps[i];
        let tag = if steps.len() > 1 {
            format!("step {}: ", i + 1)
        } else {
            String::new()
        };
        for k in &expect {
            match k.as_str() {
                "exit" if e["exit"].as_i64() != Some(code) => {
                    return Err(format!(
                        "{tag}exit {code}, expected {}\nstderr: {stderr}",
                        e["exit"]
                    )
                    .into());
                }
                "stdout" | "stderr" => {
                    let got = if k == "stdout" { &stdout } else { &stderr };
                    if e[k.as_str()].as_str() != Some(got.as_str()) {
                        return Err(format!(
                            "{tag}{k} differs:\n--- got\n{got}\n--- expected\n{}",
                            e[k.as_str()].as_str().unwrap_or("")
                        )
                        .into());
                    }
                }
                "stdout_sorted" | "stderr_sorted" => {
                    let kk = &k[..6];
                    let got = if kk == "stdout" { &stdout } else { &stderr };
                    if sorted_lines(e[kk].as_str().unwrap_or("")) != sorted_lines(got) {
                        return Err(format!(
                            "{tag}{kk} (sorted) differs:\n--- got\n{got}\n--- expected\n{}",
                            e[kk].as_str().unwrap_or("")
                        )
                        .into());
                    }
                }
                "files" => {
                    let exp: BTreeMap<String, String> = e["files"]
                        .as_object()
                        .map(|m| {
                            m.iter()
                                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                                .collect()
                        })
                        .unwrap_or_default();
                    if exp != files {
                        return Err(
                            format!("{tag}files differ: got {files:?}, expected {exp:?}").into(),
                        );
                    }
                }
                _ => {}
            }
        }
    }
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let known: Vec<String> = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/KNOWN_FAILURES.txt"),
    )
    .unwrap_or_default()
    .lines()
    .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    .map(|l| l.split_whitespace().next().unwrap_or("").to_string())
    .collect();
    let mut names: Vec<String> = std::fs::read_dir(corpus())
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("case.json").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    // Every case again with no shell on PATH (go-task needs none): the embedded shell must
    // run them all. Failing to build that PATH is a failure under CI=true.
    let noshell_root = tempfile::tempdir().unwrap().keep();
    let noshell = match no_shell_path(&noshell_root) {
        Ok(p) => Some(p),
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("cannot build a PATH without a shell: {e}")
        }
        Err(e) => {
            eprintln!("skipping the no-shell runs: {e}");
            None
        }
    };
    let known_noshell: Vec<String> = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/KNOWN_NOSHELL.txt"),
    )
    .unwrap_or_default()
    .lines()
    .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    .map(|l| l.split_whitespace().next().unwrap_or("").to_string())
    .collect();
    let mut extra = vec![];
    if let Some(bin) = &noshell {
        for n in &names {
            let case: J = serde_json::from_str(
                &std::fs::read_to_string(corpus().join(n).join("case.json")).unwrap(),
            )
            .unwrap();
            let ignored = case.get("exclude").is_some()
                || known.contains(n)
                || known_noshell.contains(n)
                || names_a_shell(n);
            let (name, bin) = (n.clone(), bin.clone());
            extra.push(
                Trial::test(format!("noshell::{n}"), move || {
                    run_case_with(&name, Some(&bin))
                })
                .with_ignored_flag(ignored),
            );
        }
    }
    let trials = names
        .into_iter()
        .map(|n| {
            let case: J = serde_json::from_str(
                &std::fs::read_to_string(corpus().join(&n).join("case.json")).unwrap(),
            )
            .unwrap();
            let excluded = case.get("exclude").is_some();
            let ignored = excluded || known.contains(&n);
            let name = n.clone();
            Trial::test(n, move || run_case(&name)).with_ignored_flag(ignored)
        })
        .chain(extra)
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
