//! The OCI image layout target (`oci-layout://DIR`) as other tools see it: native helm
//! pushes, pulls and shows charts there, native cosign signs and verifies there (legacy
//! `.sig` tags and Sigstore bundle referrers), skopeo reads the layout and copies it to a
//! real registry, where the signature still verifies. Missing tools skip with a reason, or
//! fail under CI=true.

#[path = "support/registry.rs"]
mod registry;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

struct Tools {
    dir: tempfile::TempDir,
}

impl Tools {
    fn new() -> Tools {
        let dir = tempfile::tempdir().unwrap();
        for t in ["helm", "cosign"] {
            std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_task"), dir.path().join(t)).unwrap();
        }
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        Tools { dir }
    }

    fn run(&self, tool: &str, cwd: &Path, args: &[&str]) -> Output {
        let mut c = Command::new(self.dir.path().join(tool));
        c.args(args).current_dir(cwd).env_clear();
        c.env("PATH", "/usr/bin:/bin")
            .env("HOME", self.dir.path().join("home"))
            .env("COSIGN_PASSWORD", "layout-test");
        c.stdin(Stdio::null());
        c.output().unwrap()
    }
}

fn all(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn ok(o: Output) -> Output {
    assert!(o.status.success(), "{}", all(&o));
    o
}

/// Writes a chart `name` at `version` under `dir` and packages it into `dir/dist`.
fn chart(t: &Tools, dir: &Path, version: &str) -> PathBuf {
    let c = dir.join("src/layout-chart");
    std::fs::create_dir_all(c.join("templates")).unwrap();
    std::fs::write(
        c.join("Chart.yaml"),
        format!("apiVersion: v2\nname: layout-chart\nversion: {version}\n"),
    )
    .unwrap();
    std::fs::write(c.join("values.yaml"), "x: 1\n").unwrap();
    ok(t.run(
        "helm",
        dir,
        &["package", "src/layout-chart", "--destination", "dist"],
    ));
    dir.join(format!("dist/layout-chart-{version}.tgz"))
}

fn pushed_digest(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Digest: ").map(str::to_string))
        .unwrap_or_else(|| panic!("no Digest line: {}", all(o)))
}

fn skopeo_layout(layout: &Path, r: &str) -> Vec<u8> {
    let o = Command::new("skopeo")
        .args(["inspect", "--raw"])
        .arg(format!("oci:{}:{r}", layout.display()))
        .output()
        .unwrap();
    assert!(o.status.success(), "skopeo: {}", all(&o));
    o.stdout
}

#[test]
fn helm_push_pull_show_in_a_layout() {
    if !registry::require("skopeo") {
        return;
    }
    let t = Tools::new();
    let w = tempfile::tempdir().unwrap();
    let w = w.path();
    let tgz1 = chart(&t, w, "0.1.0");
    let o = ok(t.run(
        "helm",
        w,
        &["push", tgz1.to_str().unwrap(), "oci-layout://out/charts"],
    ));
    let d1 = pushed_digest(&o);
    assert!(String::from_utf8_lossy(&o.stdout)
        .contains("Pushed: oci-layout://out/charts/layout-chart:0.1.0"));
    // Pushing the same chart again changes nothing but the tag's entry.
    let again = pushed_digest(&ok(t.run(
        "helm",
        w,
        &["push", tgz1.to_str().unwrap(), "oci-layout://out/charts/"],
    )));
    assert_eq!(again, d1);
    let tgz2 = chart(&t, w, "0.2.0+build.7");
    let o = ok(t.run(
        "helm",
        w,
        &["push", tgz2.to_str().unwrap(), "oci-layout://out/charts"],
    ));
    let d2 = pushed_digest(&o);
    let layout = w.join("out/charts/layout-chart");
    // Standard layout, read by skopeo: both versions under their tags (`+` → `_`).
    assert_eq!(
        oxtask::native::oci::sha256_digest(&skopeo_layout(&layout, "0.1.0")),
        d1
    );
    assert_eq!(
        oxtask::native::oci::sha256_digest(&skopeo_layout(&layout, "0.2.0_build.7")),
        d2
    );
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 2, "{index}");
    // No temp files left behind.
    for e in std::fs::read_dir(&layout).unwrap() {
        let n = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!n.ends_with(".tmp"), "{n}");
    }

    // show and pull read the layout; the newest version wins without --version.
    let o = ok(t.run(
        "helm",
        w,
        &["show", "chart", "oci-layout://out/charts/layout-chart"],
    ));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("version: 0.2.0+build.7"),
        "{}",
        all(&o)
    );
    ok(t.run(
        "helm",
        w,
        &[
            "pull",
            "oci-layout://out/charts/layout-chart",
            "--version",
            "0.1.0",
            "-d",
            "pulled",
        ],
    ));
    assert_eq!(
        std::fs::read(w.join("pulled/layout-chart-0.1.0.tgz")).unwrap(),
        std::fs::read(&tgz1).unwrap()
    );
    // Errors: no layout there, no such version, a malformed reference.
    let o = t.run(
        "helm",
        w,
        &[
            "pull",
            "oci-layout://nowhere/layout-chart",
            "--version",
            "0.1.0",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(all(&o).contains("not an OCI image layout"), "{}", all(&o));
    let o = t.run(
        "helm",
        w,
        &[
            "pull",
            "oci-layout://out/charts/layout-chart",
            "--version",
            "9.9.9",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(all(&o).contains("9.9.9"), "{}", all(&o));
    let o = t.run(
        "helm",
        w,
        &["push", tgz1.to_str().unwrap(), "oci-layout://"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", all(&o));
}

#[test]
fn cosign_in_a_layout_then_published_with_skopeo() {
    let Some(reg) = registry::start_registry(None) else {
        return;
    };
    if !registry::require("skopeo") {
        return;
    }
    let t = Tools::new();
    let w = tempfile::tempdir().unwrap();
    let w = w.path();
    let tgz = chart(&t, w, "1.0.0");
    let d = pushed_digest(&ok(t.run(
        "helm",
        w,
        &["push", tgz.to_str().unwrap(), "oci-layout://out"],
    )));
    ok(t.run("cosign", w, &["generate-key-pair"]));
    let image = format!("oci-layout://out/layout-chart@{d}");
    // Not signed yet: cosign's "no signatures" exit code.
    let o = t.run(
        "cosign",
        w,
        &[
            "verify",
            "--key",
            "cosign.pub",
            "--insecure-ignore-tlog",
            &image,
        ],
    );
    assert_eq!(o.status.code(), Some(10), "{}", all(&o));
    // Legacy layout (.sig tag) and a Sigstore bundle referrer, both offline.
    ok(t.run(
        "cosign",
        w,
        &["sign", "--key", "cosign.key", "--tlog-upload=false", &image],
    ));
    ok(t.run(
        "cosign",
        w,
        &[
            "sign",
            "--key",
            "cosign.key",
            "--tlog-upload=false",
            "--new-bundle-format",
            &image,
        ],
    ));
    for extra in [&[][..], &["--new-bundle-format"][..]] {
        let mut args = vec![
            "verify",
            "--key",
            "cosign.pub",
            "--insecure-ignore-tlog",
            "oci-layout://out/layout-chart:1.0.0",
        ];
        args.extend_from_slice(extra);
        let o = ok(t.run("cosign", w, &args));
        // The payload names the digest (in-toto subjects carry the bare hex).
        assert!(
            String::from_utf8_lossy(&o.stdout).contains(d.trim_start_matches("sha256:")),
            "{}",
            all(&o)
        );
    }
    // A missing layout is "image not found" (exit 11), not a crash or an empty success.
    let o = t.run(
        "cosign",
        w,
        &["sign", "--key", "cosign.key", "oci-layout://missing/x:1"],
    );
    assert_eq!(o.status.code(), Some(11), "{}", all(&o));

    // The layout is standard: skopeo publishes chart and signature to a registry as they
    // are (same digests), and the signature made offline verifies there.
    let layout = w.join("out/layout-chart");
    let sig_tag = format!("{}.sig", d.replace(':', "-"));
    for tag in ["1.0.0", sig_tag.as_str()] {
        let o = Command::new("skopeo")
            .args(["copy", "--preserve-digests", "--dest-tls-verify=false"])
            .arg(format!("oci:{}:{tag}", layout.display()))
            .arg(format!(
                "docker://{}/published/layout-chart:{tag}",
                reg.host()
            ))
            .output()
            .unwrap();
        assert!(o.status.success(), "skopeo copy {tag}: {}", all(&o));
    }
    let o = ok(t.run(
        "cosign",
        w,
        &[
            "verify",
            "--key",
            "cosign.pub",
            "--insecure-ignore-tlog",
            &format!("{}/published/layout-chart:1.0.0", reg.host()),
        ],
    ));
    assert!(String::from_utf8_lossy(&o.stdout).contains(&d));
}
