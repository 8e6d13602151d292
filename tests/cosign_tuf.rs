//! The native cosign's TUF client against repositories written by python-tuf (an
//! independent implementation; tests/fixtures/tuf/make_repo.py), served over loopback by
//! `python3 -m http.server`; and `cosign initialize` + keyless sign/verify with the trust
//! material coming only from TUF. Every test uses its own TUF cache directory.

#[path = "support/sigstore.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use oxtask::native::cosign::tuf::{url_to_path, Client, TufOptions, DEFAULT_CACHE_VALIDITY};
use oxtask::native::oci::block_on;
use support::*;

fn python_tuf_available() -> bool {
    Command::new("python3")
        .args(["-c", "import tuf.api.metadata, securesystemslib.signer"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `Some(())` when python-tuf is there; else skips, or fails under `CI=true`.
fn need_tuf() -> Option<()> {
    if python_tuf_available() {
        return Some(());
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("required test tool missing under CI=true: python3 with python-tuf (run .ci/install-tuf.sh)");
    }
    eprintln!("SKIP: python3 with python-tuf is missing (run .ci/install-tuf.sh)");
    None
}

/// A repository made by make_repo.py plus a server for its `live` tree.
struct Repo {
    dir: tempfile::TempDir,
    server: Option<Child>,
    port: u16,
}

const TRUSTED_ROOT: &[u8] =
    br#"{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","tlogs":[],"certificateAuthorities":[],"ctlogs":[]}"#;
const SIGNING_CONFIG: &[u8] = br#"{"mediaType":"application/vnd.dev.sigstore.signingconfig.v0.2+json","caUrls":[{"url":"http://127.0.0.1:1/ca","majorApiVersion":1}],"rekorTlogUrls":[{"url":"http://127.0.0.1:1/rekor","majorApiVersion":1}]}"#;

impl Repo {
    /// A repository publishing the loopback Sigstore fixture's trusted root and signing
    /// config, with a root rotation (so clients follow v1 → v3 first).
    fn for_sigstore(sig: &Sigstore) -> Repo {
        let tr = std::fs::read(sig.trusted_root()).unwrap();
        let sc = std::fs::read(sig.signing_config()).unwrap();
        Repo::make(
            "rotation",
            "ecdsa",
            &[
                ("trusted_root.json", &tr),
                ("signing_config.v0.2.json", &sc),
            ],
            &[],
        )
    }

    /// `targets`: name → content; `extra`: more make_repo.py arguments.
    fn make(scenario: &str, keytype: &str, targets: &[(&str, &[u8])], extra: &[&str]) -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new("python3");
        cmd.arg(repo_root().join("tests/fixtures/tuf/make_repo.py"))
            .arg("--out")
            .arg(dir.path().join("repo"))
            .args(["--scenario", scenario, "--keytype", keytype])
            .args(extra);
        for (name, content) in targets {
            let p = dir.path().join(format!("in-{name}"));
            std::fs::write(&p, content).unwrap();
            cmd.arg("--target").arg(format!("{name}={}", p.display()));
        }
        let o = cmd.output().unwrap();
        assert!(o.status.success(), "make_repo.py: {}", text(&o.stderr));
        let mut r = Repo {
            dir,
            server: None,
            port: free_port(),
        };
        r.stage(1);
        r.start();
        r
    }

    fn basic() -> Repo {
        Repo::make(
            "basic",
            "ecdsa",
            &[
                ("trusted_root.json", TRUSTED_ROOT),
                ("signing_config.v0.2.json", SIGNING_CONFIG),
            ],
            &[],
        )
    }

    fn repo(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    /// Serves stage N from now on (the server resolves paths per request).
    fn stage(&self, n: u32) {
        let live = self.repo().join("live");
        let _ = std::fs::remove_dir_all(&live);
        std::fs::rename(self.repo().join(format!("stage{n}")), &live).unwrap();
    }

    fn start(&mut self) {
        let mut child = Command::new("python3")
            .args([
                "-m",
                "http.server",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
            ])
            .arg("--directory")
            .arg(self.repo().join("live"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting python3 -m http.server");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Ok(Some(st)) = child.try_wait() {
                panic!("http.server exited: {st}");
            }
            assert!(Instant::now() < deadline, "http.server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        self.server = Some(child);
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.server.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn root_file(&self) -> PathBuf {
        self.repo().join("root.json")
    }

    fn opts(&self, cache: &Path, validity: Option<Duration>) -> TufOptions {
        TufOptions {
            cache_dir: cache.to_path_buf(),
            mirror: self.url(),
            root: Some(std::fs::read(self.root_file()).unwrap()),
            cache_validity: validity,
            now: None,
        }
    }
}

impl Drop for Repo {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Opens the repository and fetches `target`: Ok(content) or the error text.
fn fetch(opts: &TufOptions, target: &str) -> Result<Option<Vec<u8>>, String> {
    block_on(async {
        let mut c = Client::open(opts).await.map_err(|e| e.to_string())?;
        c.get_target(target).await.map_err(|e| e.to_string())
    })
    .unwrap()
}

fn fetch_ok(opts: &TufOptions, target: &str) -> Vec<u8> {
    match fetch(opts, target) {
        Ok(Some(b)) => b,
        Ok(None) => panic!("target {target} not found"),
        Err(e) => panic!("fetching {target}: {e}"),
    }
}

fn fetch_err(opts: &TufOptions, target: &str) -> String {
    match fetch(opts, target) {
        Err(e) => e,
        Ok(_) => panic!("fetching {target} succeeded, expected a failure"),
    }
}

#[test]
fn first_fetch_gives_the_published_targets_and_caches_them() {
    let Some(()) = need_tuf() else { return };
    let repo = Repo::basic();
    let cache = tempfile::tempdir().unwrap();
    let opts = repo.opts(cache.path(), Some(DEFAULT_CACHE_VALIDITY));
    assert_eq!(fetch_ok(&opts, "trusted_root.json"), TRUSTED_ROOT);
    assert_eq!(fetch_ok(&opts, "signing_config.v0.2.json"), SIGNING_CONFIG);
    assert_eq!(fetch(&opts, "no_such_target.json").unwrap(), None);

    // sigstore-go's layout: <cache>/<mirror as path>/{root,timestamp,snapshot,targets}.json
    // and targets/<name>, plus <cache>/<mirror as path>.json with the refresh time.
    let name = url_to_path(&repo.url());
    assert_eq!(name, format!("127.0.0.1-{}", repo.port));
    let md = cache.path().join(&name);
    for f in [
        "root.json",
        "timestamp.json",
        "snapshot.json",
        "targets.json",
    ] {
        assert!(md.join(f).is_file(), "{f} cached");
    }
    assert_eq!(
        std::fs::read(md.join("targets/trusted_root.json")).unwrap(),
        TRUSTED_ROOT
    );
    let stamp: serde_json::Value =
        serde_json::from_slice(&std::fs::read(cache.path().join(format!("{name}.json"))).unwrap())
            .unwrap();
    assert!(stamp["lastTimestamp"].as_str().unwrap().ends_with('Z'));
    // Cached metadata is what the server published (python-tuf's bytes, unchanged).
    assert_eq!(
        std::fs::read(md.join("timestamp.json")).unwrap(),
        std::fs::read(repo.repo().join("live/timestamp.json")).unwrap()
    );
    // No temporary files left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&md)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn ed25519_and_rsa_pss_repositories() {
    let Some(()) = need_tuf() else { return };
    for kt in ["ed25519", "rsa"] {
        let repo = Repo::make("basic", kt, &[("trusted_root.json", TRUSTED_ROOT)], &[]);
        let cache = tempfile::tempdir().unwrap();
        assert_eq!(
            fetch_ok(&repo.opts(cache.path(), None), "trusted_root.json"),
            TRUSTED_ROOT,
            "{kt}"
        );
    }
}

#[test]
fn root_rotation_is_followed_from_v1_to_v3() {
    let Some(()) = need_tuf() else { return };
    let repo = Repo::make(
        "rotation",
        "ecdsa",
        &[("trusted_root.json", TRUSTED_ROOT)],
        &[],
    );
    let cache = tempfile::tempdir().unwrap();
    let opts = repo.opts(cache.path(), None);
    let v = block_on(async {
        let mut c = Client::open(&opts).await.unwrap();
        assert_eq!(
            c.get_target("trusted_root.json").await.unwrap().unwrap(),
            TRUSTED_ROOT
        );
        c.root_version()
    })
    .unwrap();
    assert_eq!(v, 3);
    let cached = cache
        .path()
        .join(url_to_path(&repo.url()))
        .join("root.json");
    assert_eq!(
        std::fs::read(&cached).unwrap(),
        std::fs::read(repo.repo().join("live/3.root.json")).unwrap()
    );
    // The next run starts from the cached v3 (v1's keys no longer sign anything) and
    // still works.
    assert_eq!(fetch_ok(&opts, "trusted_root.json"), TRUSTED_ROOT);
}

#[test]
fn root_not_signed_by_the_previous_keys_is_rejected() {
    let Some(()) = need_tuf() else { return };
    let repo = Repo::make(
        "bad-rotation",
        "ecdsa",
        &[("trusted_root.json", TRUSTED_ROOT)],
        &[],
    );
    let cache = tempfile::tempdir().unwrap();
    let e = fetch_err(&repo.opts(cache.path(), None), "trusted_root.json");
    assert!(e.contains(&repo.url()), "{e}");
    assert!(
        e.contains("2.root.json: not signed by the keys of root version 1"),
        "{e}"
    );
}

#[test]
fn expired_timestamp_is_rejected() {
    let Some(()) = need_tuf() else { return };
    let repo = Repo::make(
        "expired-timestamp",
        "ecdsa",
        &[("trusted_root.json", TRUSTED_ROOT)],
        &[],
    );
    let cache = tempfile::tempdir().unwrap();
    let e = fetch_err(&repo.opts(cache.path(), None), "trusted_root.json");
    assert!(e.contains("timestamp.json: version 1 expired at"), "{e}");
}

#[test]
fn bad_signature_on_targets_is_rejected() {
    let Some(()) = need_tuf() else { return };
    let repo = Repo::make(
        "bad-targets-sig",
        "ecdsa",
        &[("trusted_root.json", TRUSTED_ROOT)],
        &[],
    );
    let cache = tempfile::tempdir().unwrap();
    let e = fetch_err(&repo.opts(cache.path(), None), "trusted_root.json");
    assert!(
        e.contains("1.targets.json: not signed by the targets role: 0 valid signature(s), the threshold is 1"),
        "{e}"
    );
    assert!(!cache
        .path()
        .join(url_to_path(&repo.url()))
        .join("targets.json")
        .exists());
}

#[test]
fn tampered_target_is_rejected() {
    let Some(()) = need_tuf() else { return };
    let repo = Repo::make(
        "tampered-target",
        "ecdsa",
        &[
            ("trusted_root.json", TRUSTED_ROOT),
            ("signing_config.v0.2.json", SIGNING_CONFIG),
        ],
        &[],
    );
    let cache = tempfile::tempdir().unwrap();
    let opts = repo.opts(cache.path(), None);
    let e = fetch_err(&opts, "trusted_root.json");
    assert!(
        e.contains("target trusted_root.json: sha256 hash does not match"),
        "{e}"
    );
    let tdir = cache.path().join(url_to_path(&repo.url())).join("targets");
    assert!(!tdir.join("trusted_root.json").exists());
    // The untouched target of the same repository is fine.
    assert_eq!(fetch_ok(&opts, "signing_config.v0.2.json"), SIGNING_CONFIG);
}

/// Stage 1 is fetched into the cache, then stage 2 (older versions) is served.
fn rollback_case(scenario: &str, want: &str) {
    let repo = Repo::make(
        scenario,
        "ecdsa",
        &[("trusted_root.json", TRUSTED_ROOT)],
        &[],
    );
    let cache = tempfile::tempdir().unwrap();
    assert_eq!(
        fetch_ok(&repo.opts(cache.path(), None), "trusted_root.json"),
        TRUSTED_ROOT
    );
    repo.stage(2);
    // Within the cache validity window the mirror is not asked at all.
    assert_eq!(
        fetch_ok(
            &repo.opts(cache.path(), Some(DEFAULT_CACHE_VALIDITY)),
            "trusted_root.json"
        ),
        TRUSTED_ROOT
    );
    // A refresh sees the rollback and refuses it.
    let e = fetch_err(&repo.opts(cache.path(), None), "trusted_root.json");
    assert!(e.contains(want), "{scenario}: {e}");
    assert!(e.contains("(rollback)"), "{scenario}: {e}");
}

#[test]
fn timestamp_version_rollback_is_rejected() {
    let Some(()) = need_tuf() else { return };
    rollback_case(
        "rollback-timestamp",
        "timestamp.json: version 3 is older than the trusted version 5",
    );
}

#[test]
fn snapshot_version_rollback_is_rejected() {
    let Some(()) = need_tuf() else { return };
    rollback_case(
        "rollback-snapshot",
        "timestamp.json: names snapshot version 4, older than the trusted 5",
    );
}

#[test]
fn targets_version_rollback_is_rejected() {
    let Some(()) = need_tuf() else { return };
    rollback_case(
        "rollback-targets",
        "2.snapshot.json: targets.json version 4 is older than the trusted version 5",
    );
}

#[test]
fn delegated_targets_are_found_depth_first() {
    let Some(()) = need_tuf() else { return };
    let repo = Repo::make(
        "delegation",
        "ecdsa",
        &[
            ("trusted_root.json", TRUSTED_ROOT),
            ("signing_config.v0.2.json", SIGNING_CONFIG),
        ],
        &[],
    );
    let cache = tempfile::tempdir().unwrap();
    let opts = repo.opts(cache.path(), None);
    assert_eq!(fetch_ok(&opts, "trusted_root.json"), TRUSTED_ROOT);
    let md = cache.path().join(url_to_path(&repo.url()));
    // "decoy" (matches, empty) and "sigstore" were visited; "fenced" (other/*) was not.
    assert!(md.join("decoy.json").is_file());
    assert!(md.join("sigstore.json").is_file());
    assert!(!md.join("fenced.json").exists());
    // A path only the terminating role covers ends the search there.
    assert_eq!(fetch(&opts, "other/x.json").unwrap(), None);
    assert!(md.join("fenced.json").is_file());
}

#[test]
fn cache_serves_while_the_mirror_is_down() {
    let Some(()) = need_tuf() else { return };
    let mut repo = Repo::basic();
    let cache = tempfile::tempdir().unwrap();
    assert_eq!(
        fetch_ok(&repo.opts(cache.path(), None), "trusted_root.json"),
        TRUSTED_ROOT
    );
    repo.stop();
    // Recent cache: the mirror is not needed.
    assert_eq!(
        fetch_ok(
            &repo.opts(cache.path(), Some(DEFAULT_CACHE_VALIDITY)),
            "trusted_root.json"
        ),
        TRUSTED_ROOT
    );
    // A refresh that cannot reach the mirror falls back to the verified, unexpired cache.
    assert_eq!(
        fetch_ok(&repo.opts(cache.path(), None), "trusted_root.json"),
        TRUSTED_ROOT
    );
    // Without a cache the failure names the mirror and the cause.
    let empty = tempfile::tempdir().unwrap();
    let e = fetch_err(&repo.opts(empty.path(), None), "trusted_root.json");
    assert!(e.contains(&format!("TUF repository {}", repo.url())), "{e}");
    assert!(e.contains("connection failed"), "{e}");
    assert!(e.contains("no usable cache"), "{e}");
}

#[test]
fn expired_cache_is_not_used_when_the_mirror_is_down() {
    let Some(()) = need_tuf() else { return };
    // Fixed instants, not the wall clock: metadata made at T0, timestamp.json valid for an
    // hour; fetched at T0 + 10 s, judged again at T0 + 1 h 10 s.
    const T0: u64 = 1_893_456_000; // 2030-01-01T00:00:00Z
    let mut repo = Repo::make(
        "basic",
        "ecdsa",
        &[("trusted_root.json", TRUSTED_ROOT)],
        &[
            "--now",
            "2030-01-01T00:00:00Z",
            "--timestamp-expires-in",
            "3600",
        ],
    );
    let cache = tempfile::tempdir().unwrap();
    let at = |repo: &Repo, validity, now| TufOptions {
        now: Some(now),
        ..repo.opts(cache.path(), validity)
    };
    assert_eq!(
        fetch_ok(&at(&repo, None, T0 + 10), "trusted_root.json"),
        TRUSTED_ROOT
    );
    // Still fresh just before expiry, from the cache alone.
    repo.stop();
    assert_eq!(
        fetch_ok(
            &at(&repo, Some(DEFAULT_CACHE_VALIDITY), T0 + 3599),
            "trusted_root.json"
        ),
        TRUSTED_ROOT
    );
    // Even a recent refresh does not make expired metadata usable.
    for validity in [Some(DEFAULT_CACHE_VALIDITY), None] {
        let e = fetch_err(&at(&repo, validity, T0 + 3610), "trusted_root.json");
        assert!(e.contains("connection failed"), "{e}");
        assert!(
            e.contains("no usable cache: cached timestamp.json expired at"),
            "{e}"
        );
    }
}

#[test]
fn refresh_picks_up_new_targets() {
    let Some(()) = need_tuf() else { return };
    let new_root: &[u8] =
        br#"{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","tlogs":[]}"#;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("new.json");
    std::fs::write(&p, new_root).unwrap();
    let repo = Repo::make(
        "update",
        "ecdsa",
        &[("trusted_root.json", TRUSTED_ROOT)],
        &["--target2", &format!("trusted_root.json={}", p.display())],
    );
    let cache = tempfile::tempdir().unwrap();
    assert_eq!(
        fetch_ok(&repo.opts(cache.path(), None), "trusted_root.json"),
        TRUSTED_ROOT
    );
    repo.stage(2);
    assert_eq!(
        fetch_ok(
            &repo.opts(cache.path(), Some(DEFAULT_CACHE_VALIDITY)),
            "trusted_root.json"
        ),
        TRUSTED_ROOT
    );
    assert_eq!(
        fetch_ok(&repo.opts(cache.path(), None), "trusted_root.json"),
        new_root
    );
}

fn tuf_env(tuf_root: &Path) -> Vec<(String, String)> {
    vec![("TUF_ROOT".into(), tuf_root.display().to_string())]
}

#[test]
fn initialize_records_the_mirror_and_checks_the_root_checksum() {
    let Some(()) = need_tuf() else { return };
    let repo = Repo::basic();
    let c = Cosign::new();
    let tuf_root = tempfile::tempdir().unwrap();
    let env = tuf_env(tuf_root.path());
    let root = repo.root_file();
    let w = tuf_root.path();

    let o = c.run(
        w,
        &[
            "initialize",
            "--mirror",
            &repo.url(),
            "--root",
            root.to_str().unwrap(),
            "--root-checksum",
            &"0".repeat(64),
        ],
        &env,
    );
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(err.contains("incorrect checksum for file"), "{err}");
    assert!(!w.join("remote.json").exists());

    use sha2::Digest;
    let sum = hex::encode(sha2::Sha256::digest(std::fs::read(&root).unwrap()));
    let o = c.run(
        w,
        &[
            "initialize",
            "--mirror",
            &repo.url(),
            "--root",
            root.to_str().unwrap(),
            "--root-checksum",
            &sum,
        ],
        &env,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    // cosign prints nothing when the repository has trusted_root.json.
    assert_eq!(text(&o.stdout), "");
    assert_eq!(text(&o.stderr), "");
    let remote: serde_json::Value =
        serde_json::from_slice(&std::fs::read(w.join("remote.json")).unwrap()).unwrap();
    assert_eq!(remote, serde_json::json!({ "mirror": repo.url() }));
    let md = w.join(url_to_path(&repo.url()));
    assert_eq!(
        std::fs::read(md.join("targets/trusted_root.json")).unwrap(),
        TRUSTED_ROOT
    );
    assert_eq!(
        std::fs::read(md.join("targets/signing_config.v0.2.json")).unwrap(),
        SIGNING_CONFIG
    );
    // Nothing landed in HOME.
    assert!(!c.home.join(".sigstore").exists());

    // A repository without the signing config: warning, as cosign; without the trusted
    // root: an error.
    let repo2 = Repo::make(
        "basic",
        "ecdsa",
        &[("trusted_root.json", TRUSTED_ROOT)],
        &[],
    );
    let o = c.run(
        w,
        &[
            "initialize",
            "--mirror",
            &repo2.url(),
            "--root",
            repo2.root_file().to_str().unwrap(),
        ],
        &env,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stderr)
        .contains("WARNING: Could not fetch signing_config.json from the TUF mirror"));
    let repo3 = Repo::make("basic", "ecdsa", &[("other.json", b"{}")], &[]);
    let o = c.run(
        w,
        &[
            "initialize",
            "--mirror",
            &repo3.url(),
            "--root",
            repo3.root_file().to_str().unwrap(),
        ],
        &env,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("target \"trusted_root.json\" not found"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn keyless_sign_and_verify_with_trust_from_tuf_only() {
    let Some(()) = need_tuf() else { return };
    let Some(sig) = Sigstore::start() else { return };
    let Some(reg) = Registry::start() else { return };
    let repo = Repo::for_sigstore(&sig);
    let c = Cosign::new();
    let tuf_root = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let env = tuf_env(tuf_root.path());
    let o = c.run(
        work.path(),
        &[
            "initialize",
            "--mirror",
            &repo.url(),
            "--root",
            repo.root_file().to_str().unwrap(),
        ],
        &env,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));

    let digest = reg.push_image("tuf/app", "1.0", "tuf-signed");
    let image = format!("{}/tuf/app@{digest}", reg.host);
    let mut sign_env = env.clone();
    sign_env.extend(sig.actions_env());
    // No --trusted-root, --signing-config, --fulcio-url, --rekor-url, nor SIGSTORE_* env:
    // Fulcio and Rekor come from the TUF signing config, the CA keys from trusted_root.json.
    let o = c.run(work.path(), &["sign", "--yes", &image], &sign_env);
    let err = text(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("tlog entry created with index: "), "{err}");

    // The mirror goes away: verification runs from the cache.
    drop(repo);
    let o = c.run(
        work.path(),
        &[
            "verify",
            "--certificate-identity",
            GH_IDENTITY,
            "--certificate-oidc-issuer",
            GH_ISSUER,
            &image,
        ],
        &env,
    );
    let err = text(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("The cosign claims were validated"), "{err}");
    let out: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(out.as_array().unwrap().len(), 1);

    // Without TUF (a fresh, empty TUF root and no mirror) keyless verify cannot get trust
    // material, and says where it looked.
    let empty = tempfile::tempdir().unwrap();
    let o = c.run(
        work.path(),
        &[
            "verify",
            "--certificate-identity",
            GH_IDENTITY,
            "--certificate-oidc-issuer",
            GH_ISSUER,
            &image,
        ],
        &tuf_env(empty.path()),
    );
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.contains("TUF repository https://tuf-repo-cdn.sigstore.dev"),
        "{err}"
    );
}

/// The cache layout is sigstore-go's: what the real cosign v3 initializes, oxtask signs
/// with, and what oxtask initializes, the real cosign verifies from, neither given any
/// trust file.
#[test]
fn tuf_cache_is_shared_with_the_real_cosign_v3() {
    let Some(()) = need_tuf() else { return };
    let Some(c3) = RealCosign::find("cosign3") else {
        return;
    };
    let Some(sig) = Sigstore::start() else { return };
    let Some(reg) = Registry::start() else { return };
    let repo = Repo::for_sigstore(&sig);
    let ox = Cosign::new();
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let root = repo.root_file();
    let init = [
        "initialize",
        "--mirror",
        &repo.url(),
        "--root",
        root.to_str().unwrap(),
    ];
    let verify = |image: &str, env: &[(String, String)]| {
        c3.run(
            w,
            &[
                "verify",
                "--allow-http-registry",
                "--certificate-identity",
                GH_IDENTITY,
                "--certificate-oidc-issuer",
                GH_ISSUER,
                image,
            ],
            env,
        )
    };

    // Real cosign initializes; oxtask signs from that cache; real cosign verifies.
    let a = tempfile::tempdir().unwrap();
    let env_a = tuf_env(a.path());
    let o = c3.run(w, &init, &env_a);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let image = format!(
        "{}/tuf/shared@{}",
        reg.host,
        reg.push_image("tuf/shared", "1", "shared-a")
    );
    let mut sign_env = env_a.clone();
    sign_env.extend(sig.actions_env());
    let o = ox.run(w, &["sign", "--yes", &image], &sign_env);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = verify(&image, &env_a);
    assert!(o.status.success(), "{}", text(&o.stderr));

    // oxtask initializes; real cosign verifies from oxtask's cache.
    let b = tempfile::tempdir().unwrap();
    let env_b = tuf_env(b.path());
    let o = ox.run(w, &init, &env_b);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = verify(&image, &env_b);
    assert!(o.status.success(), "{}", text(&o.stderr));
    // The oracle does look at the TUF trust: an unrelated CA published instead fails.
    let other = Repo::make(
        "basic",
        "ecdsa",
        &[(
            "trusted_root.json",
            &std::fs::read(sig.file("other_trusted_root.json")).unwrap(),
        )],
        &[],
    );
    let c = tempfile::tempdir().unwrap();
    let env_c = tuf_env(c.path());
    let o = ox.run(
        w,
        &[
            "initialize",
            "--mirror",
            &other.url(),
            "--root",
            other.root_file().to_str().unwrap(),
        ],
        &env_c,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(!verify(&image, &env_c).status.success());
}
