//! Shared helpers for the helm/OCI integration tests: the `helm` multi-call link, external
//! tools (skip with a reason locally, fail under `CI=true`), and a real CNCF distribution
//! registry (`docker-registry`) on a free loopback port, plain or TLS + htpasswd.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Path of the shared vectors (`../shared/helm/vectors` from the repository root, or
/// `$OXTASK_HELM_VECTORS`).
pub fn vectors() -> PathBuf {
    if let Ok(v) = std::env::var("OXTASK_HELM_VECTORS") {
        return PathBuf::from(v);
    }
    for cand in [
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/helm/vectors"),
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/helm/vectors"),
        PathBuf::from("/work/shared/helm/vectors"),
    ] {
        if cand.join("INDEX.md").exists() {
            return cand;
        }
    }
    panic!("helm vectors not found (set OXTASK_HELM_VECTORS)");
}

pub fn in_ci() -> bool {
    std::env::var("CI")
        .map(|v| v == "true" || v == "1")
        .unwrap_or(false)
}

/// True when `tool` is on PATH. Missing: panics under CI, otherwise prints why the test is
/// skipped and returns false.
pub fn require(tool: &str) -> bool {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        .unwrap_or(false);
    if !found {
        if in_ci() {
            panic!("required tool `{tool}` is not installed (run .ci/install-helm.sh)");
        }
        eprintln!("SKIP: `{tool}` not installed (run .ci/install-helm.sh)");
    }
    found
}

/// True when python3 can import `module` (same CI/skip policy as [`require`]).
pub fn require_python_module(module: &str) -> bool {
    if !require("python3") {
        return false;
    }
    let ok = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        if in_ci() {
            panic!("python module `{module}` is not installed (run .ci/install-helm.sh)");
        }
        eprintln!("SKIP: python module `{module}` not installed");
    }
    ok
}

/// A directory holding `helm` (and `cosign`) links to the built `task` binary.
pub fn helm_bin() -> PathBuf {
    let base = std::env::temp_dir().join(format!("oxtask-test-bin-{}", std::process::id()));
    std::fs::create_dir_all(&base).unwrap();
    let link = base.join("helm");
    if !link.exists() {
        let _ = std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_task"), &link);
    }
    link
}

/// Runs native helm with `args` in `cwd` and extra env; isolated Helm/Docker config.
pub fn helm(cwd: &Path, args: &[&str], env: &[(&str, &str)], stdin: Option<&[u8]>) -> Output {
    let mut c = Command::new(helm_bin());
    c.args(args).current_dir(cwd);
    c.env("HOME", cwd)
        .env_remove("HELM_REGISTRY_CONFIG")
        .env_remove("DOCKER_CONFIG");
    c.env("HELM_CONFIG_HOME", cwd.join(".helmcfg"));
    // only our helm: no fall-through to a real one
    c.env("PATH", "/usr/bin:/bin");
    for (k, v) in env {
        c.env(k, v);
    }
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn helm");
    {
        use std::io::Write;
        let mut si = child.stdin.take().unwrap();
        if let Some(d) = stdin {
            si.write_all(d).unwrap();
        }
    }
    child.wait_with_output().unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_port(port: u16, child: &mut Child) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(15) {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(st)) = child.try_wait() {
            panic!("server exited early: {st}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("server on port {port} did not come up");
}

/// A running registry; stopped (and its storage removed) on drop.
pub struct Registry {
    child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
    /// PEM CA bundle for TLS registries.
    pub ca: Option<PathBuf>,
    pub user: Option<(String, String)>,
}

impl Registry {
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Self-signed CA and a server certificate for 127.0.0.1/localhost: (ca.pem, cert.pem, key.pem).
pub fn make_tls(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
    let mut ca_p = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_p.distinguished_name
        .push(DnType::CommonName, "oxtask test CA");
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_p.self_signed(&ca_key).unwrap();
    let mut p = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    p.subject_alt_names
        .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    p.distinguished_name.push(DnType::CommonName, "127.0.0.1");
    let key = KeyPair::generate().unwrap();
    let cert = p.signed_by(&key, &ca, &ca_key).unwrap();
    let (cap, certp, keyp) = (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    );
    std::fs::write(&cap, ca.pem()).unwrap();
    std::fs::write(&certp, cert.pem()).unwrap();
    std::fs::write(&keyp, key.serialize_pem()).unwrap();
    (cap, certp, keyp)
}

/// Starts `docker-registry`; `tls_auth` = TLS with a fresh CA and htpasswd user/pass.
/// Returns None when the tool is missing outside CI.
pub fn start_registry(tls_auth: Option<(&str, &str)>) -> Option<Registry> {
    if !require("docker-registry") {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut cfg = format!(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
        dir.path().join("data").display()
    );
    let mut ca = None;
    let mut user = None;
    if let Some((u, pw)) = tls_auth {
        let (cap, certp, keyp) = make_tls(dir.path());
        cfg.push_str(&format!(
            "  tls:\n    certificate: {}\n    key: {}\n",
            certp.display(),
            keyp.display()
        ));
        let hash = bcrypt::hash(pw, 4).unwrap();
        let htp = dir.path().join("htpasswd");
        std::fs::write(&htp, format!("{u}:{hash}\n")).unwrap();
        cfg.push_str(&format!(
            "auth:\n  htpasswd:\n    realm: oxtask-test\n    path: {}\n",
            htp.display()
        ));
        ca = Some(cap);
        user = Some((u.to_string(), pw.to_string()));
    }
    let cfgp = dir.path().join("config.yml");
    std::fs::write(&cfgp, cfg).unwrap();
    let mut child = Command::new("docker-registry")
        .arg("serve")
        .arg(&cfgp)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start docker-registry");
    wait_port(port, &mut child);
    Some(Registry {
        child,
        port,
        dir,
        ca,
        user,
    })
}

/// The oracle mock registry from the vectors (basic or bearer mode), logging requests.
pub struct MockRegistry {
    child: Child,
    pub port: u16,
    pub log: PathBuf,
    _dir: tempfile::TempDir,
}

impl MockRegistry {
    pub fn start(mode: &str) -> Option<MockRegistry> {
        if !require("python3") {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let log = dir.path().join("log.json");
        let mut child = Command::new("python3")
            .arg(vectors().join("oracle-registry/mock-registry.py"))
            .arg(port.to_string())
            .arg(mode)
            .arg(&log)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start mock registry");
        wait_port(port, &mut child);
        Some(MockRegistry {
            child,
            port,
            log,
            _dir: dir,
        })
    }

    /// Stops the mock (SIGTERM makes it write its log) and returns the request log.
    pub fn stop(mut self) -> serde_json::Value {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
        let text = std::fs::read_to_string(&self.log).unwrap_or_else(|_| "[]".into());
        serde_json::from_str(&text).unwrap()
    }
}

impl Drop for MockRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `skopeo inspect --raw` of `reference` (independent reader).
pub fn skopeo_raw(reference: &str, reg: &Registry) -> Vec<u8> {
    let mut c = Command::new("skopeo");
    c.args(["inspect", "--raw"]);
    if let Some(ca) = &reg.ca {
        let certs = reg.dir.path().join("skopeo-certs");
        std::fs::create_dir_all(&certs).unwrap();
        std::fs::copy(ca, certs.join("ca.crt")).unwrap();
        c.arg("--cert-dir").arg(&certs);
    } else {
        c.arg("--tls-verify=false");
    }
    if let Some((u, p)) = &reg.user {
        c.arg("--creds").arg(format!("{u}:{p}"));
    }
    c.arg(format!("docker://{reference}"));
    let out = c.output().expect("run skopeo");
    assert!(
        out.status.success(),
        "skopeo failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
