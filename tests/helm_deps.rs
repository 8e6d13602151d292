//! `helm package -u` resolving dependencies natively: `file://`, `oci://` (real
//! docker-registry on loopback, charts pushed with our `helm push`) and a classic chart
//! repository served over loopback HTTP by a thread in the test.

#[path = "support/registry.rs"]
mod registry;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

use registry::{helm, start_registry, stderr};
use sha2::{Digest, Sha256};

const EPOCH: &str = "1700000000";
const EPOCH_TEXT: &str = "2023-11-14T22:13:20Z";

fn write_chart(dir: &Path, name: &str, version: &str, deps: &str) {
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(
        dir.join("Chart.yaml"),
        format!("apiVersion: v2\nname: {name}\nversion: {version}\n{deps}"),
    )
    .unwrap();
    std::fs::write(dir.join("values.yaml"), format!("who: {name}\n")).unwrap();
    std::fs::write(
        dir.join("templates/cm.yaml"),
        "kind: ConfigMap\ndata:\n  who: {{ .Values.who }}\n",
    )
    .unwrap();
}

fn env() -> Vec<(&'static str, &'static str)> {
    vec![("SOURCE_DATE_EPOCH", EPOCH), ("TZ", "UTC")]
}

/// Packages `dir` with our helm into `out` and returns the archive bytes.
fn package(cwd: &Path, dir: &str, out: &str) -> Vec<u8> {
    let o = helm(cwd, &["package", dir, "-d", out], &env(), None);
    assert!(o.status.success(), "{}", stderr(&o));
    let name = std::fs::read_dir(cwd.join(out))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "tgz"))
        .unwrap();
    std::fs::read(name).unwrap()
}

fn entry_names(tgz: &[u8]) -> Vec<String> {
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(tgz));
    ar.entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect()
}

fn entry(tgz: &[u8], name: &str) -> Option<String> {
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(tgz));
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        if e.path().unwrap().display().to_string() == name {
            let mut s = String::new();
            e.read_to_string(&mut s).unwrap();
            return Some(s);
        }
    }
    None
}

fn charts_listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir.join("charts"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Helm's lock digest computed independently: sha256 of Go's JSON of [requirements, locked].
fn lock_digest(reqs_json: &str, locked_json: &str) -> String {
    let data = format!("[{reqs_json},{locked_json}]");
    format!("sha256:{}", hex::encode(Sha256::digest(data.as_bytes())))
}

fn no_tmp_left(dir: &Path) {
    for e in std::fs::read_dir(dir).unwrap() {
        let n = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!n.starts_with("tmpcharts-"), "left behind: {n}");
    }
}

#[test]
fn file_dependency_is_packaged_locked_and_stale_archives_removed() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write_chart(&d.join("child"), "child", "0.3.1", "");
    write_chart(
        &d.join("parent"),
        "parent",
        "1.0.0",
        "dependencies:\n- name: child\n  version: '>=0.3.0'\n  repository: file://../child\n",
    );
    // an outdated archive of the dependency and a non-chart file
    std::fs::create_dir_all(d.join("stale")).unwrap();
    write_chart(&d.join("stale/child"), "child", "0.2.0", "");
    let old = package(&d.join("stale"), "child", ".");
    std::fs::create_dir_all(d.join("parent/charts")).unwrap();
    std::fs::write(d.join("parent/charts/child-0.2.0.tgz"), old).unwrap();
    std::fs::write(d.join("parent/charts/extra.prov"), "keep me").unwrap();

    let o = helm(d, &["package", "-u", "parent", "-d", "out"], &env(), None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        charts_listing(&d.join("parent")),
        vec!["child-0.3.1.tgz", "extra.prov"]
    );
    let lock = std::fs::read_to_string(d.join("parent/Chart.lock")).unwrap();
    let digest = lock_digest(
        r#"[{"name":"child","version":"\u003e=0.3.0","repository":"file://../child"}]"#,
        r#"[{"name":"child","version":"0.3.1","repository":"file://../child"}]"#,
    );
    assert_eq!(
        lock,
        format!("dependencies:\n- name: child\n  repository: file://../child\n  version: 0.3.1\ndigest: {digest}\ngenerated: \"{EPOCH_TEXT}\"\n")
    );
    no_tmp_left(&d.join("parent"));

    let tgz = std::fs::read(d.join("out/parent-1.0.0.tgz")).unwrap();
    let names = entry_names(&tgz);
    // Helm expands charts/*.tgz into directories inside the packaged archive.
    assert!(
        names.contains(&"parent/charts/child/Chart.yaml".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"parent/Chart.lock".to_string()),
        "{names:?}"
    );
    assert_eq!(
        entry(&tgz, "parent/charts/child/Chart.yaml").unwrap(),
        "apiVersion: v2\nname: child\nversion: 0.3.1\n"
    );

    // Same requirements again: the lock is not rewritten (its digest is unchanged).
    let o = helm(
        d,
        &["package", "-u", "parent", "-d", "out"],
        &[("SOURCE_DATE_EPOCH", "1800000000")],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(d.join("parent/Chart.lock")).unwrap(),
        lock
    );

    // --reproducible without SOURCE_DATE_EPOCH: a new lock is stamped with the epoch
    std::fs::remove_file(d.join("parent/Chart.lock")).unwrap();
    let o = helm(
        d,
        &["package", "-u", "parent", "-d", "out", "--reproducible"],
        &[],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read_to_string(d.join("parent/Chart.lock"))
        .unwrap()
        .ends_with("generated: \"1970-01-01T00:00:00Z\"\n"));
}

#[test]
fn unsatisfiable_file_dependency_fails_cleanly() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write_chart(&d.join("child"), "child", "0.3.1", "");
    write_chart(
        &d.join("parent"),
        "parent",
        "1.0.0",
        "dependencies:\n- name: child\n  version: ^1.0.0\n  repository: file://../child\n",
    );
    let o = helm(d, &["package", "-u", "parent"], &env(), None);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "Error: can't get a valid version for 1 subchart(s): \"child\" (repository \"file://../child\", version \"^1.0.0\"). Make sure a matching chart version exists in the repo, or change the version constraint in Chart.yaml\n"
    );
    assert!(!d.join("parent/Chart.lock").exists());
    assert!(!d.join("parent-1.0.0.tgz").exists());
    no_tmp_left(&d.join("parent"));

    // a missing local path is Helm's error too
    write_chart(
        &d.join("p2"),
        "p2",
        "1.0.0",
        "dependencies:\n- name: nope\n  version: 1.0.0\n  repository: file://../nope\n",
    );
    let o = helm(d, &["package", "-u", "p2"], &env(), None);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        format!("Error: directory {}/nope not found\n", d.display())
    );
}

#[test]
fn oci_dependency_resolves_constraint_against_registry_tags() {
    let Some(reg) = start_registry(None) else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let host = reg.host();
    for v in ["0.1.0", "0.2.0", "1.0.0"] {
        let src = d.join(format!("src-{v}"));
        write_chart(&src.join("dep"), "dep", v, "");
        package(&src, "dep", "out");
        let o = helm(
            &src,
            &[
                "push",
                &format!("out/dep-{v}.tgz"),
                &format!("oci://{host}/charts"),
                "--plain-http",
            ],
            &env(),
            None,
        );
        assert!(o.status.success(), "{}", stderr(&o));
    }
    write_chart(
        &d.join("parent"),
        "parent",
        "2.0.0",
        &format!("dependencies:\n- name: dep\n  version: '>=0.1.0 <1.0.0'\n  repository: oci://{host}/charts\n"),
    );
    let o = helm(
        d,
        &["package", "-u", "parent", "-d", "out", "--plain-http"],
        &env(),
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(charts_listing(&d.join("parent")), vec!["dep-0.2.0.tgz"]);
    // the downloaded archive is exactly the pushed one
    assert_eq!(
        std::fs::read(d.join("parent/charts/dep-0.2.0.tgz")).unwrap(),
        std::fs::read(d.join("src-0.2.0/out/dep-0.2.0.tgz")).unwrap()
    );
    let lock = std::fs::read_to_string(d.join("parent/Chart.lock")).unwrap();
    let repo = format!("oci://{host}/charts");
    let digest = lock_digest(
        &format!(
            r#"[{{"name":"dep","version":"\u003e=0.1.0 \u003c1.0.0","repository":"{repo}"}}]"#
        ),
        &format!(r#"[{{"name":"dep","version":"0.2.0","repository":"{repo}"}}]"#),
    );
    assert_eq!(
        lock,
        format!("dependencies:\n- name: dep\n  repository: {repo}\n  version: 0.2.0\ndigest: {digest}\ngenerated: \"{EPOCH_TEXT}\"\n")
    );
    let tgz = std::fs::read(d.join("out/parent-2.0.0.tgz")).unwrap();
    assert_eq!(
        entry(&tgz, "parent/charts/dep/Chart.yaml").unwrap(),
        "apiVersion: v2\nname: dep\nversion: 0.2.0\n"
    );

    // nothing matches → Helm's error, charts/ untouched
    write_chart(
        &d.join("p2"),
        "p2",
        "1.0.0",
        &format!(
            "dependencies:\n- name: dep\n  version: ^3.0.0\n  repository: oci://{host}/charts\n"
        ),
    );
    let o = helm(d, &["package", "-u", "p2", "--plain-http"], &env(), None);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with("Error: can't get a valid version for 1 subchart(s): \"dep\""),
        "{}",
        stderr(&o)
    );
    assert!(!d.join("p2/charts").exists());
}

/// A minimal HTTP/1.1 file server on loopback; returns its base URL. Requests are logged.
fn serve(files: Vec<(String, Vec<u8>)>, log: Arc<Mutex<Vec<String>>>) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let mut buf = Vec::new();
            let mut b = [0u8; 1024];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut b) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&b[..n]),
                }
            }
            let req = String::from_utf8_lossy(&buf).into_owned();
            let path = req.split_whitespace().nth(1).unwrap_or("").to_string();
            log.lock().unwrap().push(path.clone());
            let (status, body) = match files.iter().find(|(p, _)| *p == path) {
                Some((_, b)) => ("200 OK", b.clone()),
                None => ("404 Not Found", b"not found".to_vec()),
            };
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(&body);
        }
    });
    format!("http://{addr}")
}

#[test]
fn classic_repository_dependency_uses_index_and_checks_digest() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let mut files = Vec::new();
    let mut index = String::from("apiVersion: v1\nentries:\n  web:\n");
    for v in ["1.0.0", "1.1.0", "2.0.0"] {
        let src = d.join(format!("src-{v}"));
        write_chart(&src.join("web"), "web", v, "");
        let data = package(&src, "web", "out");
        let digest = hex::encode(Sha256::digest(&data));
        // relative URLs: resolved against the repository URL
        index.push_str(&format!(
            "  - name: web\n    version: {v}\n    digest: {digest}\n    urls:\n    - pkgs/web-{v}.tgz\n"
        ));
        files.push((format!("/repo/pkgs/web-{v}.tgz"), data));
    }
    files.push(("/repo/index.yaml".into(), index.into_bytes()));
    // a second repo whose index lies about the digest
    let bad = files
        .iter()
        .find(|(p, _)| p.ends_with("web-1.1.0.tgz"))
        .unwrap()
        .1
        .clone();
    files.push(("/bad/web-1.1.0.tgz".into(), bad));
    files.push((
        "/bad/index.yaml".into(),
        format!("apiVersion: v1\nentries:\n  web:\n  - version: 1.1.0\n    digest: {}\n    urls:\n    - web-1.1.0.tgz\n", "0".repeat(64)).into_bytes(),
    ));
    let log = Arc::new(Mutex::new(Vec::new()));
    let base = serve(files, log.clone());

    write_chart(
        &d.join("parent"),
        "parent",
        "1.0.0",
        &format!("dependencies:\n- name: web\n  version: ^1.0.0\n  repository: {base}/repo/\n"),
    );
    let o = helm(d, &["package", "-u", "parent", "-d", "out"], &env(), None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(charts_listing(&d.join("parent")), vec!["web-1.1.0.tgz"]);
    assert!(log
        .lock()
        .unwrap()
        .contains(&"/repo/pkgs/web-1.1.0.tgz".to_string()));
    let lock = std::fs::read_to_string(d.join("parent/Chart.lock")).unwrap();
    assert!(
        lock.starts_with(&format!(
            "dependencies:\n- name: web\n  repository: {base}/repo/\n  version: 1.1.0\ndigest: sha256:"
        )),
        "{lock}"
    );
    let tgz = std::fs::read(d.join("out/parent-1.0.0.tgz")).unwrap();
    assert_eq!(
        entry(&tgz, "parent/charts/web/Chart.yaml").unwrap(),
        "apiVersion: v2\nname: web\nversion: 1.1.0\n"
    );

    write_chart(
        &d.join("p2"),
        "p2",
        "1.0.0",
        &format!("dependencies:\n- name: web\n  version: 1.1.0\n  repository: {base}/bad\n"),
    );
    let o = helm(d, &["package", "-u", "p2"], &env(), None);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("digest mismatch"), "{}", stderr(&o));
    assert!(charts_listing(&d.join("p2")).is_empty());
    assert!(!d.join("p2/Chart.lock").exists());
    no_tmp_left(&d.join("p2"));

    // an unreachable index is reported with the repository URL
    write_chart(
        &d.join("p3"),
        "p3",
        "1.0.0",
        &format!("dependencies:\n- name: web\n  version: 1.1.0\n  repository: {base}/missing\n"),
    );
    let o = helm(d, &["package", "-u", "p3"], &env(), None);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        format!("Error: looks like \"{base}/missing\" is not a valid chart repository or cannot be reached: failed to fetch {base}/missing/index.yaml : 404 Not Found\n")
    );
}
