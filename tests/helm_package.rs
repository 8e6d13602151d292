//! `helm package` / loader / .helmignore / metadata / provenance against Helm's own vectors,
//! gpg and (when installed) real Helm code via helm-python-sdk.

#[path = "support/registry.rs"]
mod registry;

use std::io::Read;
use std::path::Path;

use oxtask::native::helm::{chart::Metadata, ignore::Rules, loader, save};
use registry::{helm, require, require_python_module, stderr, stdout, vectors};
use serde_json::Value;

fn json(p: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(vectors().join(p)).unwrap()).unwrap()
}

#[test]
fn helmignore_vectors() {
    let v = json("ignore-cases.json");
    let cases = v["ignoreCases"].as_array().unwrap();
    assert!(cases.len() >= 38);
    for c in cases {
        let pats: Vec<&str> = c["patterns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        let rules = Rules::parse(pats.join("\n").as_bytes()).unwrap();
        let path = c["path"].as_str().unwrap();
        let got = rules.ignore(path, c["isDir"].as_bool().unwrap());
        assert_eq!(got, c["ignored"].as_bool().unwrap(), "case {c}");
    }
    for c in v["parseFailures"].as_array().unwrap() {
        let pats: Vec<&str> = c["patterns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        let err = Rules::parse(pats.join("\n").as_bytes()).unwrap_err();
        assert_eq!(err, c["parseError"].as_str().unwrap());
    }
    let ok = &v["parseOk"];
    let rules = Rules::parse(ok["input"].as_str().unwrap().as_bytes()).unwrap();
    let want: Vec<String> = ok["expectedPatterns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect();
    assert_eq!(rules.raw_patterns(), want);
}

#[test]
fn metadata_validation_vectors() {
    let v = json("metadata-validation-cases.json");
    for c in v["cases"].as_array().unwrap() {
        let yaml = serde_json::to_string(&c["metadata"]).unwrap();
        let res = Metadata::from_yaml(yaml.as_bytes()).and_then(|mut m| m.validate());
        match c["expectError"].as_str() {
            None => assert!(res.is_ok(), "case {c}: {res:?}"),
            Some(e) => assert_eq!(res.unwrap_err(), e, "case {c}"),
        }
    }
}

fn tgz_with(name: &str, mode: u32, body: &[u8]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(body.len() as u64);
    h.set_mode(mode);
    h.set_entry_type(tar::EntryType::Regular);
    {
        let raw = h.as_old_mut();
        raw.name[..name.len().min(100)].copy_from_slice(&name.as_bytes()[..name.len().min(100)]);
    }
    h.set_cksum();
    b.append(&h, body).unwrap();
    let tar = b.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &tar).unwrap();
    gz.finish().unwrap()
}

#[test]
fn hostile_archive_entries_rejected() {
    let v = json("archive-path-cases.json");
    let body = v["body"].as_str().unwrap().as_bytes();
    for c in v["cases"].as_array().unwrap() {
        let name = c["tarEntryName"].as_str().unwrap();
        let data = tgz_with(name, 0o755, body);
        let err = loader::load_archive(&data, &mut |_| {}).unwrap_err();
        assert!(
            err.contains(c["expectErrorContains"].as_str().unwrap()),
            "{name}: {err}"
        );
    }
    // `/Chart.yaml` and `c:\Chart.yaml` are read as Chart.yaml (so validation fails instead)
    for name in ["/Chart.yaml", "c:\\Chart.yaml"] {
        let err = loader::load_archive(&tgz_with(name, 0o755, body), &mut |_| {}).unwrap_err();
        assert_eq!(err, "validation: chart.metadata.name is required", "{name}");
    }
    // symlink entries are refused
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    b.append_link(&mut h, "c/evil", "/etc/passwd").unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &b.into_inner().unwrap()).unwrap();
    let err = loader::load_archive(&gz.finish().unwrap(), &mut |_| {}).unwrap_err();
    assert!(err.contains("link"), "{err}");
}

#[test]
fn gzip_header_is_helms() {
    let v = json("gzip-header.json");
    let want = hex::decode(v["helm_v3_21_4_and_v4_2_3"]["hex"].as_str().unwrap()).unwrap();
    let t = vectors().join("helm-testdata/cmd-helm/testcharts/alpine");
    let dir = tempfile::tempdir().unwrap();
    let o = helm(dir.path(), &["package", t.to_str().unwrap()], &[], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let data = std::fs::read(dir.path().join("alpine-0.1.0.tgz")).unwrap();
    assert_eq!(&data[..want.len()], &want[..]);
    // and readers accept the v4.2.4 header and GNU-tar archives
    let frob =
        std::fs::read(vectors().join("helm-testdata/pkg-chart-loader/frobnitz.v1.tgz")).unwrap();
    assert!(loader::load_archive(&frob, &mut |_| {}).is_ok());
    let v424 = hex::decode(v["helm_v4_2_4"]["hex"].as_str().unwrap()).unwrap();
    let mut alt = v424.clone();
    alt.extend_from_slice(&data[want.len()..]);
    assert!(loader::load_archive(&alt, &mut |_| {}).is_ok());
}

fn entries(p: &Path) -> Vec<(String, u32, u64, u64, Vec<u8>)> {
    let f = std::fs::File::open(p).unwrap();
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(f));
    ar.entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let h = e.header().clone();
            let mut d = Vec::new();
            e.read_to_end(&mut d).unwrap();
            (
                e.path().unwrap().display().to_string(),
                h.mode().unwrap(),
                h.uid().unwrap(),
                h.mtime().unwrap(),
                d,
            )
        })
        .collect()
}

#[test]
fn package_layout_and_message() {
    let src = vectors().join("helm-testdata/pkg-chart-loader/frobnitz");
    let dir = tempfile::tempdir().unwrap();
    let o = helm(
        dir.path(),
        &["package", src.to_str().unwrap(), "-d", "out"],
        &[],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "Successfully packaged chart and saved it to: out/frobnitz-1.2.3.tgz\n"
    );
    let e = entries(&dir.path().join("out/frobnitz-1.2.3.tgz"));
    let names: Vec<&str> = e.iter().map(|x| x.0.as_str()).collect();
    // Chart.yaml first, v1 drops Chart.lock, then values, templates, files; ignore/ is ignored;
    // charts/_ignore_me dropped; the mariner .tgz is expanded.
    assert_eq!(names[0], "frobnitz/Chart.yaml");
    assert_eq!(names[1], "frobnitz/values.yaml");
    assert_eq!(names[2], "frobnitz/templates/template.tpl");
    assert!(!names
        .iter()
        .any(|n| n.contains("/ignore/") || n.ends_with("Chart.lock") || n.contains("_ignore_me")));
    assert!(names.contains(&"frobnitz/charts/mariner/Chart.yaml"));
    assert!(!names.iter().any(|n| n.ends_with(".tgz")));
    assert!(e.iter().all(|x| x.1 == 0o644 && x.2 == 0));
    let chart_yaml = String::from_utf8(e[0].4.clone()).unwrap();
    assert!(
        !chart_yaml.contains("dependencies"),
        "v1 drops dependencies: {chart_yaml}"
    );
    assert!(chart_yaml.starts_with(
        "annotations:\n  anotherkey: anothervalue\n  extrakey: extravalue\napiVersion: v1\n"
    ));
    // default destination is the absolute cwd
    let o = helm(dir.path(), &["package", src.to_str().unwrap()], &[], None);
    let abs = dir
        .path()
        .canonicalize()
        .unwrap()
        .join("frobnitz-1.2.3.tgz");
    assert!(
        stdout(&o).contains(abs.to_str().unwrap())
            || stdout(&o).contains(dir.path().join("frobnitz-1.2.3.tgz").to_str().unwrap())
    );
}

#[test]
fn package_is_reproducible_with_source_date_epoch() {
    let src = vectors().join("helm-testdata/pkg-chart-loader/frobnitz");
    let dir = tempfile::tempdir().unwrap();
    let env = [("SOURCE_DATE_EPOCH", "1700000000")];
    let a = helm(
        dir.path(),
        &["package", src.to_str().unwrap(), "-d", "a"],
        &env,
        None,
    );
    let b = helm(
        dir.path(),
        &["package", src.to_str().unwrap(), "-d", "b"],
        &env,
        None,
    );
    assert!(a.status.success() && b.status.success());
    let x = std::fs::read(dir.path().join("a/frobnitz-1.2.3.tgz")).unwrap();
    let y = std::fs::read(dir.path().join("b/frobnitz-1.2.3.tgz")).unwrap();
    assert_eq!(x, y);
    assert!(entries(&dir.path().join("a/frobnitz-1.2.3.tgz"))
        .iter()
        .all(|e| e.3 == 1_700_000_000));
}

/// Issue 14: Helm 4 writes each file's own mtime into the archive (Chart.lock: its
/// `generated` time), where Helm 3 stamped the time of packaging.
#[test]
fn package_keeps_each_files_mtime_as_helm4() {
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path().join("c");
    std::fs::create_dir_all(c.join("templates")).unwrap();
    std::fs::create_dir_all(c.join("charts/sub")).unwrap();
    let files = [
        (
            "Chart.yaml",
            "apiVersion: v2\nname: c\nversion: 1.0.0\n",
            1_000_000_000u64,
        ),
        ("values.yaml", "a: 1\n", 1_100_000_000),
        ("templates/cm.yaml", "kind: ConfigMap\n", 1_200_000_000),
        ("README.md", "r\n", 1_300_000_000),
        (
            "charts/sub/Chart.yaml",
            "apiVersion: v2\nname: sub\nversion: 0.1.0\n",
            1_400_000_000,
        ),
        (
            "Chart.lock",
            "dependencies: []\ndigest: sha256:x\ngenerated: \"2020-01-02T03:04:05.6Z\"\n",
            1_500_000_000,
        ),
    ];
    for (rel, body, t) in files {
        let p = c.join(rel);
        std::fs::write(&p, body).unwrap();
        let f = std::fs::File::options().write(true).open(&p).unwrap();
        f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_millis(t * 1000 + 700))
            .unwrap();
    }
    let o = helm(dir.path(), &["package", "c", "-d", "out"], &[], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let e = entries(&dir.path().join("out/c-1.0.0.tgz"));
    let mtime = |n: &str| e.iter().find(|x| x.0 == n).unwrap().3;
    // rounded to the nearest second, as Go's tar writer does
    assert_eq!(mtime("c/Chart.yaml"), 1_000_000_001);
    assert_eq!(mtime("c/values.yaml"), 1_100_000_001);
    assert_eq!(mtime("c/templates/cm.yaml"), 1_200_000_001);
    assert_eq!(mtime("c/README.md"), 1_300_000_001);
    assert_eq!(mtime("c/charts/sub/Chart.yaml"), 1_400_000_001);
    // Chart.lock: 2020-01-02T03:04:05.6Z rounded
    assert_eq!(mtime("c/Chart.lock"), 1_577_934_246);
}

#[test]
fn package_errors_are_helms() {
    let t = vectors().join("helm-testdata");
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &[&str], &str)] = &[
        (
            "cmd-helm/testcharts/chart-missing-deps",
            &[],
            "Error: found in Chart.yaml, but missing in charts/ directory: reqsubchart2\n",
        ),
        (
            "cmd-helm/testcharts/chart-bad-type",
            &[],
            "Error: validation: chart.metadata.type must be application or library\n",
        ),
        (
            "pkg-chartutil/dotname",
            &[],
            "Error: validation: chart.metadata.name \".\" is not allowed\n",
        ),
        (
            "cmd-helm/testcharts/alpine",
            &["--version", "1.2.3.4"],
            "Error: invalid semantic version\n",
        ),
        (
            "cmd-helm/testcharts/alpine",
            &["--sign"],
            "Error: --key is required for signing a package\n",
        ),
        ("does-not-exist", &[], ""),
    ];
    for (chart, extra, want) in cases {
        let p = t.join(chart);
        let mut args = vec!["package", p.to_str().unwrap()];
        args.extend_from_slice(extra);
        let o = helm(dir.path(), &args, &[], None);
        assert_eq!(o.status.code(), Some(1), "{chart}");
        if want.is_empty() {
            assert!(
                stderr(&o).contains("no such file or directory"),
                "{}",
                stderr(&o)
            );
        } else {
            assert_eq!(stderr(&o), *want, "{chart}");
        }
    }
    let o = helm(dir.path(), &["package"], &[], None);
    assert_eq!(
        stderr(&o),
        "Error: need at least one argument, the path to the chart\n"
    );
    // irregular file (symlink to /dev/null) is refused
    let c = dir.path().join("devnull");
    std::fs::create_dir_all(&c).unwrap();
    std::fs::write(
        c.join("Chart.yaml"),
        "apiVersion: v2\nname: devnull\nversion: 1.0.0\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("/dev/null", c.join("null")).unwrap();
    let o = helm(dir.path(), &["package", "devnull"], &[], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("devnull/null as it has file mode type bits set"),
        "{}",
        stderr(&o)
    );
    // nothing half-written left behind
    assert!(std::fs::read_dir(dir.path()).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .ends_with(".tgz")));
}

#[test]
fn bad_chart_yaml_reports_cause() {
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path().join("c");
    std::fs::create_dir_all(&c).unwrap();
    std::fs::write(
        c.join("Chart.yaml"),
        "apiVersion: v2\nname: c\nversion: 1.0.0\nkeywords: notalist\n",
    )
    .unwrap();
    let o = helm(dir.path(), &["package", "c"], &[], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with("Error: cannot load Chart.yaml: "),
        "{}",
        stderr(&o)
    );
    std::fs::write(
        c.join("Chart.yaml"),
        "apiVersion: v2\nname: c\nversion: [\n",
    )
    .unwrap();
    let o = helm(dir.path(), &["package", "c"], &[], None);
    assert!(
        stderr(&o).contains("cannot load Chart.yaml") && stderr(&o).contains("line"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn provenance_vectors_verify() {
    let p = vectors().join("helm-testdata/pkg-provenance");
    let keyring = p.join("helm-test-key.pub");
    for tgz in [
        p.join("hashtest-1.2.3.tgz"),
        vectors().join("oracle-sign/hashtest-1.2.3.tgz"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let o = helm(
            dir.path(),
            &[
                "verify",
                tgz.to_str().unwrap(),
                "--keyring",
                keyring.to_str().unwrap(),
            ],
            &[],
            None,
        );
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(
            stdout(&o),
            "Signed by: Helm Testing (This key should only be used for testing. DO NOT TRUST.) <helm-testing@helm.sh>\nUsing Key With Fingerprint: 5E615389B53CA37F0EE60BD3843BBF981FC18762\nChart Hash Verified: sha256:c6841b3a895f1444a6738b5d04564a57e860ce42f8519c3be807fb6d9bee7888\n"
        );
    }
    // message block re-created from the archive equals Helm's
    let mb = oxtask::native::helm::prov::message_block(&p.join("hashtest-1.2.3.tgz")).unwrap();
    assert_eq!(
        mb,
        std::fs::read_to_string(p.join("msgblock.yaml")).unwrap()
    );
    // a tampered archive fails
    let dir = tempfile::tempdir().unwrap();
    let mut data = std::fs::read(p.join("hashtest-1.2.3.tgz")).unwrap();
    data.push(0);
    std::fs::write(dir.path().join("hashtest-1.2.3.tgz"), data).unwrap();
    std::fs::copy(
        p.join("hashtest-1.2.3.tgz.prov"),
        dir.path().join("hashtest-1.2.3.tgz.prov"),
    )
    .unwrap();
    let o = helm(
        dir.path(),
        &[
            "verify",
            "hashtest-1.2.3.tgz",
            "--keyring",
            keyring.to_str().unwrap(),
        ],
        &[],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with("Error: sha256 sum does not match for hashtest-1.2.3.tgz"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn sign_then_gpg_verifies() {
    let p = vectors().join("helm-testdata/pkg-provenance");
    let dir = tempfile::tempdir().unwrap();
    let o = helm(
        dir.path(),
        &[
            "package",
            p.join("hashtest").to_str().unwrap(),
            "--sign",
            "--key",
            "helm-test",
            "--keyring",
            p.join("helm-test-key.secret").to_str().unwrap(),
            "-d",
            "o",
        ],
        &[],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let prov = std::fs::read_to_string(dir.path().join("o/hashtest-1.2.3.tgz.prov")).unwrap();
    assert!(
        prov.starts_with("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\napiVersion: v1\n")
    );
    assert!(prov.contains("\n...\nfiles:\n  hashtest-1.2.3.tgz: sha256:"));
    assert!(
        prov.contains("\n\n-----BEGIN PGP SIGNATURE-----\n")
            && prov.ends_with("-----END PGP SIGNATURE-----")
    );
    // our verifier
    let o = helm(
        dir.path(),
        &[
            "verify",
            "o/hashtest-1.2.3.tgz",
            "--keyring",
            p.join("helm-test-key.pub").to_str().unwrap(),
        ],
        &[],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // encrypted key with passphrase file
    std::fs::write(dir.path().join("pw"), "secret\n").unwrap();
    let o = helm(
        dir.path(),
        &[
            "package",
            p.join("hashtest").to_str().unwrap(),
            "--sign",
            "--key",
            "fake",
            "--keyring",
            p.join("helm-password-key.secret").to_str().unwrap(),
            "--passphrase-file",
            "pw",
            "-d",
            "pw-out",
        ],
        &[],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // wrong key id
    let o = helm(
        dir.path(),
        &[
            "package",
            p.join("hashtest").to_str().unwrap(),
            "--sign",
            "--key",
            "nobody",
            "--keyring",
            p.join("helm-test-key.secret").to_str().unwrap(),
            "-d",
            "x",
        ],
        &[],
        None,
    );
    assert_eq!(stderr(&o), "Error: private key not found\n");
    // gpg checks the OpenPGP layer independently
    if require("gpg") {
        let home = tempfile::tempdir().unwrap();
        let g = |args: &[&str]| {
            std::process::Command::new("gpg")
                .env("GNUPGHOME", home.path())
                .args(["--batch", "--no-tty"])
                .args(args)
                .output()
                .unwrap()
        };
        assert!(
            g(&["--import", p.join("helm-test-key.pub").to_str().unwrap()])
                .status
                .success()
        );
        let out = g(&[
            "--verify",
            dir.path()
                .join("o/hashtest-1.2.3.tgz.prov")
                .to_str()
                .unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("Good signature"));
        let out = g(&[
            "--verify",
            dir.path()
                .join("pw-out/hashtest-1.2.3.tgz.prov")
                .to_str()
                .unwrap(),
        ]);
        // signed by another key that gpg does not know: not "Good"
        assert!(!out.status.success());
    }
}

/// Packaging parity with real Helm code (helm-python-sdk embeds Helm v4.2.3) on charts of
/// our own: same entries, same order (subcharts aside, which Helm orders randomly), same
/// bytes (including the re-serialised Chart.yaml), same headers.
#[test]
fn parity_with_helm_python_sdk() {
    if !require_python_module("helm_python") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mk = |rel: &str, body: &str| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    };
    mk("c1/Chart.yaml", "apiVersion: v2\nname: c1\nversion: 1.0\nappVersion: 1.10\ndescription: \"A long description that certainly exceeds the eighty column limit of the yaml.v2 emitter: it has colons and # hashes\"\nkeywords: [yes, \"no\", 1.5, '007', \"2001-12-14\", \"1:20\", \"\", \" lead\", \"@at\", \"a'b\", \"ünï\", \"null\", \"0x1F\"]\nkubeVersion: \">=1.20.0-0\"\ndeprecated: false\nannotations:\n  a10: x\n  a2: \"y\"\n  multi: |\n    line one\n    line two\n  trailing: \"space \"\nmaintainers:\n  - name: Me\n    email: me@example.com\ndependencies:\n  - name: sub\n    version: \">=0.1.0\"\n    repository: file://charts/sub\n    import-values:\n      - child: a\n        parent: b\n");
    mk("c1/values.yaml", "\u{feff}# comment kept\na: 1\n");
    mk("c1/templates/cm.yaml", "kind: ConfigMap\n");
    mk("c1/templates/.hidden", "x");
    mk("c1/.helmignore", "*.bak\nsecret/\n");
    mk("c1/x.bak", "b");
    mk("c1/secret/k", "k");
    mk("c1/.dotfile", "d");
    mk("c1/values.schema.json", "{\"type\":\"object\"}");
    mk(
        "c1/charts/sub/Chart.yaml",
        "apiVersion: v2\nname: sub\nversion: 0.1.0\ndescription: >\n  folded\n  text\n",
    );
    mk(
        "c2/Chart.yaml",
        "apiVersion: v1\nname: c2\nversion: v2.0.0-rc.1+build.7\n",
    );
    mk(
        "c2/requirements.yaml",
        "dependencies:\n- name: a\n  version: 1\n  repository: r\n",
    );
    mk("c2/charts/a/Chart.yaml", "name: a\nversion: 1.0.0\n");
    for c in ["c1", "c2"] {
        let ours_dir = root.join(format!("ours-{c}"));
        let o = helm(
            root,
            &["package", c, "-d", ours_dir.to_str().unwrap()],
            &[],
            None,
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let theirs_dir = root.join(format!("theirs-{c}"));
        let py = format!(
            "import helm_python as h; print(h.package({:?}, destination={:?}))",
            root.join(c).to_str().unwrap(),
            theirs_dir.to_str().unwrap()
        );
        let out = std::process::Command::new("python3")
            .args(["-c", &py])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let theirs = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let name = Path::new(&theirs).file_name().unwrap();
        let ours = ours_dir.join(name);
        assert!(ours.exists(), "we named the archive differently: {name:?}");
        // names, modes, owners, contents and (Helm 4) each file's own mtime
        let a = entries(&ours);
        let b = entries(Path::new(&theirs));
        assert_eq!(a, b, "{c}: entries differ");
        let gz_a = std::fs::read(&ours).unwrap();
        let gz_b = std::fs::read(&theirs).unwrap();
        assert_eq!(&gz_a[..58], &gz_b[..58], "gzip header");
    }
}

#[test]
fn save_entries_match_loader() {
    // round trip: package → load archive → same metadata and file set
    let src = vectors().join("helm-testdata/pkg-chartutil/frobnitz");
    let ch = loader::load_dir(&src, &mut |_| {}).unwrap();
    let data = save::archive(&ch, Some(0)).unwrap();
    let back = loader::load_archive(&data, &mut |_| {}).unwrap();
    let strip = |v: &[loader::BufferedFile]| {
        v.iter()
            .map(|f| (f.name.clone(), f.data.clone()))
            .collect::<Vec<_>>()
    };
    // v1 charts keep their dependencies in requirements.yaml, not in the saved Chart.yaml
    let (mut m1, mut m2) = (back.metadata.clone(), ch.metadata.clone());
    if m1.api_version == "v1" {
        m1.dependencies = None;
        m2.dependencies = None;
    }
    assert_eq!(m1, m2);
    assert_eq!(strip(&back.templates), strip(&ch.templates));
    assert_eq!(strip(&back.files), strip(&ch.files));
    assert_eq!(back.dependencies.len(), ch.dependencies.len());
}
