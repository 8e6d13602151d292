//! Records the git commit and tree state oxtask is built from, for the native tools'
//! `version` commands (Helm's GitCommit/GitTreeState, cosign's release-utils table).
//! Outside a git checkout (a crates.io build) both stay unset and print empty.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let o = Command::new("git").args(args).output().ok()?;
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).trim().to_string())
}

fn main() {
    if let Some(commit) = git(&["rev-parse", "HEAD"]).filter(|c| c.len() == 40) {
        println!("cargo:rustc-env=OXTASK_GIT_COMMIT={commit}");
        let dirty =
            git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
        let state = if dirty { "dirty" } else { "clean" };
        println!("cargo:rustc-env=OXTASK_GIT_TREE_STATE={state}");
    }
    // A new commit or a staged change: look again. (Unstaged edits alone do not re-run
    // this script, so a tree edited since the last commit may still say "clean".)
    for p in ["HEAD", "index"] {
        if let Some(path) = git(&["rev-parse", "--git-path", p]) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    if let Some(r) = git(&["symbolic-ref", "-q", "HEAD"]) {
        if let Some(path) = git(&["rev-parse", "--git-path", &r]) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    // `task` as a position-dependent executable on Linux, as Go links go-task: a PIE of this
    // size spends most of a start-up applying ~37,500 relative relocations and faulting in
    // the pages they touch (`task --version`: 2.7 ms of CPU and 269 page faults as a PIE,
    // 0.9 ms and 103 as a fixed executable; docs/shell.md "Start-up"). Shared libraries,
    // stack and heap stay randomised.
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
