//! Test support for the cosign tests: the project's loopback Sigstore fixture
//! (tests/fixtures/sigstore/server.js: Fulcio, Rekor, TSA and a GitHub Actions OIDC
//! stand-in), the CNCF distribution registry, and running the native `cosign`.
//!
//! Every service listens on 127.0.0.1 on a free port and is killed on drop. A missing
//! tool skips the test with a printed reason, except under `CI=true`, where it fails.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Identity the fixture's GitHub Actions tokens certify.
pub const GH_IDENTITY: &str =
    "https://github.com/acme/charts/.github/workflows/release.yml@refs/heads/main";
pub const GH_ISSUER: &str = "https://token.actions.githubusercontent.com";

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture_dir() -> PathBuf {
    repo_root().join("tests/fixtures/sigstore")
}

/// `Some(())` when the tool is there; otherwise skips (prints why) or, under CI, panics.
pub fn require(ok: bool, what: &str) -> Option<()> {
    if ok {
        return Some(());
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("required test tool missing under CI=true: {what} (run .ci/install-cosign.sh)");
    }
    eprintln!("SKIP: {what} is missing (run .ci/install-cosign.sh)");
    None
}

fn which(tool: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16, child: &mut Child, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(st)) = child.try_wait() {
            panic!("{what} exited early: {st}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{what} did not start listening on port {port}");
}

/// The loopback Sigstore fixture.
pub struct Sigstore {
    child: Child,
    pub url: String,
    pub dir: tempfile::TempDir,
}

impl Sigstore {
    pub fn start() -> Option<Sigstore> {
        require(which("node"), "node")?;
        require(
            fixture_dir().join("node_modules/@sigstore/mock").is_dir(),
            "the fixture's node packages (npm ci in tests/fixtures/sigstore)",
        )?;
        Some(Sigstore::start_with(&[]))
    }

    /// `extra` goes to server.js (e.g. `["--claims", "{...}"]`).
    pub fn start_with(extra: &[&str]) -> Sigstore {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new("node")
            .arg(fixture_dir().join("server.js"))
            .arg("--out")
            .arg(dir.path())
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting node");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("READY ")
            .unwrap_or_else(|| panic!("fixture did not start: {line:?}"))
            .to_string();
        Sigstore { child, url, dir }
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    pub fn trusted_root(&self) -> PathBuf {
        self.file("trusted_root.json")
    }
    pub fn signing_config(&self) -> PathBuf {
        self.file("signing_config.json")
    }
    pub fn token(&self) -> String {
        std::fs::read_to_string(self.file("token.jwt"))
            .unwrap()
            .trim()
            .to_string()
    }
    /// Environment of a GitHub Actions job with `id-token: write`.
    pub fn actions_env(&self) -> Vec<(String, String)> {
        let rd = |n: &str| {
            std::fs::read_to_string(self.file(n))
                .unwrap()
                .trim()
                .to_string()
        };
        vec![
            (
                "ACTIONS_ID_TOKEN_REQUEST_URL".into(),
                rd("actions_request_url"),
            ),
            (
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN".into(),
                rd("actions_request_token"),
            ),
        ]
    }
}

impl Drop for Sigstore {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The CNCF distribution registry (Debian's `docker-registry`), plain HTTP.
pub struct Registry {
    child: Child,
    pub host: String,
    _dir: tempfile::TempDir,
}

fn registry_binary() -> Option<PathBuf> {
    ["/usr/bin/docker-registry", "/usr/sbin/docker-registry"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .or_else(|| which("docker-registry").then(|| PathBuf::from("docker-registry")))
}

impl Registry {
    pub fn start() -> Option<Registry> {
        Registry::start_inner(None)
    }

    /// With htpasswd basic auth for `user`/`password`.
    pub fn start_with_auth(user: &str, password: &str) -> Option<Registry> {
        Registry::start_inner(Some((user, password)))
    }

    fn start_inner(auth: Option<(&str, &str)>) -> Option<Registry> {
        let bin = registry_binary();
        require(bin.is_some(), "docker-registry")?;
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let cfg = dir.path().join("config.yml");
        let mut yaml = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
            dir.path().join("data").display()
        );
        if let Some((user, password)) = auth {
            let htpasswd = dir.path().join("htpasswd");
            let hash = bcrypt::hash(password, 5).unwrap();
            std::fs::write(&htpasswd, format!("{user}:{hash}\n")).unwrap();
            yaml.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: test\n    path: {}\n",
                htpasswd.display()
            ));
        }
        std::fs::write(&cfg, yaml).unwrap();
        let mut child = Command::new(bin.unwrap())
            .arg("serve")
            .arg(&cfg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting docker-registry");
        wait_for_port(port, &mut child, "docker-registry");
        Some(Registry {
            child,
            host: format!("127.0.0.1:{port}"),
            _dir: dir,
        })
    }

    /// Restarts the registry on the same port and storage in read-only mode: reads work,
    /// every push is refused (a registry that refuses the signature).
    pub fn make_read_only(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let cfg = self._dir.path().join("config.yml");
        let mut yaml = std::fs::read_to_string(&cfg).unwrap();
        yaml = yaml.replace(
            "  delete:\n    enabled: true\n",
            "  delete:\n    enabled: true\n  maintenance:\n    readonly:\n      enabled: true\n",
        );
        std::fs::write(&cfg, yaml).unwrap();
        let port: u16 = self.host.rsplit(':').next().unwrap().parse().unwrap();
        let mut child = Command::new(registry_binary().unwrap())
            .arg("serve")
            .arg(&cfg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("restarting docker-registry");
        wait_for_port(port, &mut child, "docker-registry");
        self.child = child;
    }

    pub fn client(&self) -> oxtask::native::oci::Client {
        oxtask::native::oci::Client::new(oxtask::native::oci::ClientOptions {
            plain_http: true,
            anonymous: true,
            ..Default::default()
        })
        .unwrap()
    }

    /// Pushes a small distinct image to `repo:tag`; returns its manifest digest.
    pub fn push_image(&self, repo: &str, tag: &str, content: &str) -> String {
        use oxtask::native::oci::{block_on, sha256_digest};
        let c = self.client();
        let host = self.host.clone();
        block_on(async move {
            let config = br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
            let layer = content.as_bytes();
            c.push_blob(&host, repo, config).await.unwrap();
            c.push_blob(&host, repo, layer).await.unwrap();
            let m = format!(
                r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{}","size":{}}}]}}"#,
                sha256_digest(config),
                config.len(),
                sha256_digest(layer),
                layer.len()
            );
            c.push_manifest(&host, repo, tag, "application/vnd.oci.image.manifest.v1+json", m.as_bytes())
                .await
                .unwrap()
        })
        .unwrap()
    }

    pub fn get_manifest(&self, repo: &str, reference: &str) -> Option<(Vec<u8>, String)> {
        let c = self.client();
        let host = self.host.clone();
        oxtask::native::oci::block_on(
            async move { c.get_manifest(&host, repo, reference).await.ok() },
        )
        .unwrap()
        .map(|m| (m.bytes, m.digest))
    }

    pub fn blob(&self, repo: &str, digest: &str) -> Vec<u8> {
        let c = self.client();
        let host = self.host.clone();
        oxtask::native::oci::block_on(
            async move { c.fetch_blob(&host, repo, digest).await.unwrap() },
        )
        .unwrap()
    }

    pub fn put_blob(&self, repo: &str, data: &[u8]) -> String {
        let c = self.client();
        let host = self.host.clone();
        oxtask::native::oci::block_on(
            async move { c.push_blob(&host, repo, data).await.unwrap().0 },
        )
        .unwrap()
    }

    pub fn put_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> String {
        let c = self.client();
        let host = self.host.clone();
        oxtask::native::oci::block_on(async move {
            c.push_manifest(&host, repo, reference, media_type, bytes)
                .await
                .unwrap()
        })
        .unwrap()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs oxtask as `cosign` (argv[0] = cosign through a symlink) in `cwd`, with a clean
/// environment: no credentials, tokens or Sigstore settings from the host.
pub struct Cosign {
    dir: tempfile::TempDir,
    pub home: PathBuf,
}

impl Default for Cosign {
    fn default() -> Self {
        Self::new()
    }
}

impl Cosign {
    pub fn new() -> Cosign {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_task"), dir.path().join("cosign")).unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        Cosign { dir, home }
    }

    pub fn bin(&self) -> PathBuf {
        self.dir.path().join("cosign")
    }

    pub fn run(&self, cwd: &Path, args: &[&str], env: &[(String, String)]) -> Output {
        let mut cmd = Command::new(self.bin());
        cmd.current_dir(cwd).args(args).env_clear();
        cmd.env(
            "PATH",
            format!("{}:/usr/bin:/bin", self.dir.path().display()),
        );
        cmd.env("HOME", &self.home);
        cmd.env("DOCKER_CONFIG", self.home.join(".docker"));
        cmd.env("HELM_REGISTRY_CONFIG", self.home.join("registry.json"));
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::null());
        cmd.output().expect("running cosign")
    }
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

pub fn openssl_available() -> bool {
    which("openssl")
}

/// A real cosign (Debian's build, unpacked by .ci/install-cosign-real.sh): `cosign3` (v3.x) or
/// `cosign2` (v2.x). Runs with a clean environment, a private HOME and TUF cache, so it never
/// sees the host's credentials and never needs the public TUF repository.
pub struct RealCosign {
    pub bin: PathBuf,
    home: tempfile::TempDir,
}

impl RealCosign {
    pub fn find(which: &str) -> Option<RealCosign> {
        let bin = repo_root()
            .join(".ci/tools")
            .join(which)
            .join("usr/bin/cosign");
        if std::env::var("CI").is_ok_and(|v| v == "true") && !bin.exists() {
            panic!("required test tool missing under CI=true: real {which} (run .ci/install-cosign-real.sh)");
        }
        if !bin.exists() {
            eprintln!("SKIP: real {which} is missing (run .ci/install-cosign-real.sh)");
            return None;
        }
        Some(RealCosign {
            bin,
            home: tempfile::tempdir().unwrap(),
        })
    }

    pub fn run(&self, cwd: &Path, args: &[&str], env: &[(String, String)]) -> Output {
        let h = self.home.path();
        let mut cmd = Command::new(&self.bin);
        cmd.current_dir(cwd).args(args).env_clear();
        cmd.env("PATH", "/usr/bin:/bin")
            .env("HOME", h)
            .env("TUF_ROOT", h.join("tuf"))
            .env("DOCKER_CONFIG", h.join(".docker"));
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::null());
        cmd.output().expect("running the real cosign")
    }
}

impl Sigstore {
    /// cosign v2 reads custom trust material from these variables (its `--trusted-root`
    /// does not cover Rekor and CT keys), as Flux- and Kyverno-era deployments set them.
    pub fn v2_trust_env(&self) -> Vec<(String, String)> {
        let f = |n: &str| self.file(n).to_string_lossy().into_owned();
        vec![
            ("SIGSTORE_ROOT_FILE".into(), f("fulcio_root.pem")),
            ("SIGSTORE_REKOR_PUBLIC_KEY".into(), f("rekor.pub")),
            ("SIGSTORE_CT_LOG_PUBLIC_KEY_FILE".into(), f("ctfe.pub")),
        ]
    }

    /// A file holding the fixture's token without its newline (cosign reads a path given
    /// to --identity-token verbatim, and a long token itself is taken for a file name).
    pub fn token_file(&self, dir: &Path) -> PathBuf {
        let p = dir.join("token");
        std::fs::write(&p, self.token()).unwrap();
        p
    }
}
