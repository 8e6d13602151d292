//! The real go-task 3.54.0 for differential tests, identified for certain: `GO_TASK`, or the
//! `task` binary that pip's `go-task-bin` package installed (found through the package's own
//! file list, never by searching PATH, where oxtask's `task` may come first). Any candidate
//! that reports itself as oxtask is refused, so a test can never compare oxtask with itself.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

const WANT: &str = "3.54.0";

/// Why a candidate is not go-task 3.54.0, or `Ok` with its path.
fn check(p: PathBuf) -> Result<PathBuf, String> {
    let o = Command::new(&p)
        .arg("--version")
        .output()
        .map_err(|e| format!("{}: {e}", p.display()))?;
    let v = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
    if v.to_lowercase().contains("oxtask") {
        return Err(format!(
            "{} is oxtask ({}), not go-task",
            p.display(),
            v.trim()
        ));
    }
    if !v.contains(WANT) {
        return Err(format!(
            "{} reports {:?}, not go-task {WANT}",
            p.display(),
            v.trim()
        ));
    }
    Ok(p)
}

/// The path of the `task` file in pip's go-task-bin distribution.
fn from_pip() -> Result<PathBuf, String> {
    let script = "import importlib.metadata as m\n\
d = m.distribution('go-task-bin')\n\
assert d.version == '3.54.0', 'go-task-bin ' + d.version\n\
print([str(d.locate_file(f).resolve()) for f in d.files if f.name in ('task', 'task.exe')][0])";
    let o = Command::new("python3")
        .args(["-c", script])
        .output()
        .map_err(|e| format!("python3: {e}"))?;
    if !o.status.success() {
        return Err(format!(
            "pip package go-task-bin==3.54.0 not installed: {}",
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .last()
                .unwrap_or("")
        ));
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
}

/// go-task 3.54.0, or why none was found.
pub fn find() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("GO_TASK") {
        return check(PathBuf::from(p));
    }
    check(from_pip()?)
}

/// go-task for a test: `None` (with a message) when missing locally; a panic under `CI=true`.
pub fn require(install_hint: &str) -> Option<PathBuf> {
    match find() {
        Ok(p) => Some(p),
        Err(why) if std::env::var_os("CI").is_some() => {
            panic!("go-task 3.54.0 not found: {why} (run {install_hint})")
        }
        Err(why) => {
            eprintln!(
                "skipped: go-task 3.54.0 not found: {why} (set GO_TASK or run {install_hint})"
            );
            None
        }
    }
}
