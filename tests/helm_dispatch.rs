//! The multi-call mechanism: argv[0] dispatch, the shim directory, fall-through to a real
//! `helm` further down PATH, the opt-out, and the error when no real binary exists.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

fn fake_tool(dir: &Path, name: &str) {
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\necho \"real {name}: $*\"\nexit 7\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn shim(base: &Path) -> std::path::PathBuf {
    // the same layout shim_dir() builds, pointing at the built binary
    let d = base.join("shims");
    std::fs::create_dir_all(&d).unwrap();
    for t in ["helm", "cosign"] {
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_task"), d.join(t)).unwrap();
    }
    d
}

fn run(
    shims: &Path,
    extra_path: Option<&Path>,
    tool: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> std::process::Output {
    let mut path = shims.display().to_string();
    if let Some(p) = extra_path {
        path = format!("{path}:{}", p.display());
    }
    // the shim dir twice: entries resolving to ourselves must all be skipped
    path = format!("{path}:{}:/usr/bin:/bin", shims.display());
    let mut c = Command::new(shims.join(tool));
    c.args(args).env("PATH", path).env_remove("OXTASK_NATIVE");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

#[test]
fn unknown_subcommand_falls_through_to_real_helm() {
    let t = tempfile::tempdir().unwrap();
    let shims = shim(t.path());
    let real = t.path().join("real");
    std::fs::create_dir_all(&real).unwrap();
    fake_tool(&real, "helm");
    fake_tool(&real, "cosign");
    let o = run(&shims, Some(&real), "helm", &["install", "x", "y"], &[]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "real helm: install x y\n"
    );
    assert_eq!(o.status.code(), Some(7));
    // an unimplemented flag of an implemented command also goes to the real binary
    let o = run(
        &shims,
        Some(&real),
        "helm",
        &["package", "--no-such-flag", "."],
        &[],
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "real helm: package --no-such-flag .\n"
    );
    // opt-out: everything goes to the real binary
    let o = run(
        &shims,
        Some(&real),
        "helm",
        &["package", "."],
        &[("OXTASK_NATIVE", "0")],
    );
    assert_eq!(String::from_utf8_lossy(&o.stdout), "real helm: package .\n");
    // cosign uses the same mechanism for what it does not implement
    let o = run(
        &shims,
        Some(&real),
        "cosign",
        &["no-such-subcommand", "img"],
        &[],
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "real cosign: no-such-subcommand img\n"
    );
}

#[test]
fn no_real_helm_gives_clear_error() {
    let t = tempfile::tempdir().unwrap();
    let shims = shim(t.path());
    let o = run(&shims, None, "helm", &["install", "x"], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "Error: oxtask's native helm does not implement \"install\" and no helm binary was found on PATH\n"
    );
    // native commands still work without any real helm
    let chart = t.path().join("c");
    std::fs::create_dir_all(&chart).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: c\nversion: 0.1.0\n",
    )
    .unwrap();
    let o = Command::new(shims.join("helm"))
        .args(["package", "c", "-d", "out"])
        .current_dir(t.path())
        .env("PATH", shims.display().to_string())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "Successfully packaged chart and saved it to: out/c-0.1.0.tgz\n"
    );
}

#[test]
fn task_binary_is_not_dispatched_as_helm() {
    // argv[0] = task: dispatch_from_argv returns None, helm is not run
    let o = Command::new(env!("CARGO_BIN_EXE_task"))
        .arg("package")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&o.stdout).contains("Successfully packaged"));
}
