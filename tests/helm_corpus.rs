//! The committed sample of the public-chart corpus (tests/helm_corpus/sample, licences in
//! sample-manifest.tsv): `helm template`, `helm lint`, `helm show chart|values` and `helm
//! push`/`pull` (through a loopback registry) of each chart through oxtask and through
//! Helm 4.2.3 (helm-python-sdk), byte for byte, by
//! tests/helm_corpus/run.py — the script that runs the full corpus (docs/helm.md).

#[path = "support/registry.rs"]
mod registry;

use std::path::Path;
use std::process::Command;

use registry::{helm_bin, require, require_python_module};

#[test]
fn sample_charts_match_helm() {
    if !require_python_module("helm_python") || !require("docker-registry") {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/helm_corpus");
    let shim = tempfile::tempdir().unwrap();
    let exe = shim.path().join("helm");
    std::os::unix::fs::symlink(helm_bin(), &exe).unwrap();
    let out = Command::new("python3")
        .arg(root.join("run.py"))
        .args(["--corpus"])
        .arg(root.join("sample"))
        .arg("--manifest")
        .arg(root.join("sample-manifest.tsv"))
        .args([
            "--checks",
            "template,lint,show,push",
            "--min-identical",
            "100",
            "--oxtask",
        ])
        .arg(&exe)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    for check in [
        "template: 4 compared, 4 identical",
        "lint: 4 compared, 4 identical",
        "show: 4 compared, 4 identical",
        "push: 4 compared, 4 identical",
    ] {
        assert!(text.contains(check), "{text}");
    }
}
