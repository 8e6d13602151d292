//! A fault-injecting registry (issue 15, point 3): small HTTP servers on 127.0.0.1 that
//! stall, cut bodies short, lie about digests and sizes, answer 5xx and 429 with
//! `Retry-After`, redirect to a second server (a CDN) or a third one (an attacker), and
//! record every request's headers. Each test checks that `helm pull`, `helm push`,
//! `helm registry login` and `cosign verify` end with a clear error within bounded time,
//! write nothing half-done (no partial file, no tag after a failed push), never send an
//! `Authorization` header to another host, and retry where Helm (oras-go) and cosign
//! (go-containerregistry) retry. See docs/security.md ("Retries", "Redirects").

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

// ---- the fault server -----------------------------------------------------------------

/// One request as the server saw it.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    /// Path with the query.
    target: String,
    /// Header names lower-cased.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or(&self.target)
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the server does with a request.
enum Reply {
    /// A complete answer (`Content-Length` from the body; no body for HEAD).
    Answer {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Announce `announced` bytes, send `body` (fewer), then close.
    Short {
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        announced: usize,
    },
    /// Send the header block announcing `announced` bytes and `body`, then say nothing
    /// (the connection is held for at most 30 s).
    Stall { body: Vec<u8>, announced: usize },
    /// Read the request and never answer (the connection is held for at most 30 s).
    Silent,
}

fn answer(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    Reply::Answer {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: body.to_vec(),
    }
}

fn not_found() -> Reply {
    answer(
        404,
        &[("Content-Type", "application/json")],
        br#"{"errors":[{"code":"NOT_FOUND","message":"not here"}]}"#,
    )
}

type Handler = Arc<dyn Fn(&Seen) -> Reply + Send + Sync>;

/// An HTTP/1.1 server on a free 127.0.0.1 port: one thread per connection, one request
/// per connection, at most 400 requests and 5 minutes; stopped on drop.
struct FaultServer {
    port: u16,
    log: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FaultServer {
    fn start(handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> FaultServer {
        let handler: Handler = Arc::new(handler);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(Vec::new()));
        let (s2, log2) = (stop.clone(), log.clone());
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(300);
            let mut served = 0;
            while !s2.load(Ordering::SeqCst) && Instant::now() < deadline && served < 400 {
                let (sock, _) = match listener.accept() {
                    Ok(x) => x,
                    Err(_) => {
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    }
                };
                served += 1;
                let (h, l, st) = (handler.clone(), log2.clone(), s2.clone());
                std::thread::spawn(move || serve(sock, &h, &l, &st));
            }
        });
        FaultServer {
            port,
            log,
            stop,
            thread: Some(thread),
        }
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn seen(&self) -> Vec<Seen> {
        self.log.lock().unwrap().clone()
    }

    fn count(&self, method: &str, path: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.method == method && s.path() == path)
            .count()
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(mut sock: TcpStream, h: &Handler, log: &Mutex<Vec<Seen>>, stop: &AtomicBool) {
    sock.set_nonblocking(false).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut first = [0u8; 1];
    if sock.peek(&mut first).ok() != Some(1) {
        return;
    }
    if first[0] == 0x16 {
        // A TLS ClientHello (cosign tries HTTPS first): answer as Go's server does.
        let _ = sock.write_all(
            b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n",
        );
        return;
    }
    let Some(seen) = read_request(&mut sock) else {
        return;
    };
    log.lock().unwrap().push(seen.clone());
    let head = |status: u16, headers: &[(String, String)], len: usize| {
        let mut s =
            format!("HTTP/1.1 {status} X\r\nContent-Length: {len}\r\nConnection: close\r\n");
        for (k, v) in headers {
            s.push_str(&format!("{k}: {v}\r\n"));
        }
        s.push_str("\r\n");
        s
    };
    match h(&seen) {
        Reply::Answer {
            status,
            headers,
            body,
        } => {
            let _ = sock.write_all(head(status, &headers, body.len()).as_bytes());
            if seen.method != "HEAD" {
                let _ = sock.write_all(&body);
            }
        }
        Reply::Short {
            headers,
            body,
            announced,
        } => {
            let _ = sock.write_all(head(200, &headers, announced).as_bytes());
            let _ = sock.write_all(&body);
            let _ = sock.flush();
        }
        r @ (Reply::Stall { .. } | Reply::Silent) => {
            if let Reply::Stall { body, announced } = r {
                let _ = sock.write_all(head(200, &[], announced).as_bytes());
                let _ = sock.write_all(&body);
            }
            let until = Instant::now() + Duration::from_secs(30);
            while Instant::now() < until && !stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

fn read_request(sock: &mut TcpStream) -> Option<Seen> {
    let mut buf = Vec::new();
    let mut b = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if buf.len() > 64 * 1024 || sock.read(&mut b).ok()? == 0 {
            return None;
        }
        buf.push(b[0]);
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split_whitespace();
    let method = first.next()?.to_string();
    let target = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len.min(16 << 20)];
    sock.read_exact(&mut body).ok()?;
    Some(Seen {
        method,
        target,
        headers,
        body,
    })
}

// ---- running helm and cosign ----------------------------------------------------------

fn bin(name: &str) -> PathBuf {
    let base = std::env::temp_dir().join(format!("oxtask-faults-bin-{}", std::process::id()));
    std::fs::create_dir_all(&base).unwrap();
    let link = base.join(name);
    if !link.exists() {
        let _ = std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_task"), &link);
    }
    link
}

/// Runs `tool args` in `cwd` with a clean registry configuration and
/// `OXTASK_REGISTRY_TIMEOUT=2`; killed (a test failure) after 60 s.
fn run(tool: &str, cwd: &Path, args: &[&str]) -> (Output, Duration) {
    let mut c = Command::new(bin(tool));
    c.args(args)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", cwd)
        .env("HELM_CONFIG_HOME", cwd.join(".helmcfg"))
        .env("HELM_REGISTRY_CONFIG", cwd.join(".helmcfg/registry.json"))
        .env("DOCKER_CONFIG", cwd.join(".docker"))
        .env("TUF_ROOT", cwd.join(".tuf"))
        .env("NO_COLOR", "1")
        .env("COSIGN_PASSWORD", "pw")
        .env("OXTASK_REGISTRY_TIMEOUT", "2")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = c.spawn().expect("spawn");
    let (mut so, mut se) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let to = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = so.read_to_end(&mut b);
        b
    });
    let te = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = se.read_to_end(&mut b);
        b
    });
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{tool} {args:?} still running after 60 s: {}",
                text(&te.join().unwrap())
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = start.elapsed();
    (
        Output {
            status,
            stdout: to.join().unwrap(),
            stderr: te.join().unwrap(),
        },
        took,
    )
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Regular files under `dir` (skipping the tools' configuration directories).
fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if p.is_dir() {
                if ![
                    ".helmcfg",
                    ".docker",
                    ".tuf",
                    ".sigstore",
                    ".cache",
                    ".config",
                ]
                .contains(&name.as_str())
                {
                    stack.push(p);
                }
            } else {
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

/// Ends with exit 1 and a one-line-or-more error naming `needle`, in under `limit`.
fn assert_fails(o: &Output, took: Duration, needle: &str, limit: Duration) -> String {
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "stderr: {err}");
    assert!(err.contains(needle), "expected {needle:?} in: {err}");
    assert!(took < limit, "took {took:?} (limit {limit:?}): {err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

// ---- a chart in a registry ------------------------------------------------------------

fn sha256(b: &[u8]) -> String {
    use sha2::Digest;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(b)))
}

fn chart_tgz() -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    let data = b"apiVersion: v2\nname: c\nversion: 1.0.0\n";
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    tar.append_data(&mut h, "c/Chart.yaml", &data[..]).unwrap();
    let raw = tar.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&raw).unwrap();
    gz.finish().unwrap()
}

const CONFIG: &[u8] = br#"{"name":"c","version":"1.0.0","apiVersion":"v2"}"#;
const MANIFEST_MT: &str = "application/vnd.oci.image.manifest.v1+json";

/// The chart `ns/c:1.0.0`: manifest bytes, its digest, the config and chart blob paths.
struct Chart {
    manifest: Vec<u8>,
    digest: String,
    chart: Vec<u8>,
    config_path: String,
    chart_path: String,
}

fn chart() -> Chart {
    let chart = chart_tgz();
    let m = serde_json::json!({
        "schemaVersion": 2,
        "config": {"mediaType": "application/vnd.cncf.helm.config.v1+json", "digest": sha256(CONFIG), "size": CONFIG.len()},
        "layers": [{"mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip", "digest": sha256(&chart), "size": chart.len()}],
    });
    let manifest = serde_json::to_vec(&m).unwrap();
    Chart {
        digest: sha256(&manifest),
        manifest,
        config_path: format!("/v2/ns/c/blobs/{}", sha256(CONFIG)),
        chart_path: format!("/v2/ns/c/blobs/{}", sha256(&chart)),
        chart,
    }
}

impl Chart {
    /// The honest answer for `s`, or `None` for an unknown path.
    fn serve(&self, s: &Seen) -> Option<Reply> {
        let p = s.path();
        if p == "/v2/" {
            return Some(answer(200, &[], b"{}"));
        }
        if p == "/v2/ns/c/manifests/1.0.0" || p == format!("/v2/ns/c/manifests/{}", self.digest) {
            return Some(answer(
                200,
                &[
                    ("Content-Type", MANIFEST_MT),
                    ("Docker-Content-Digest", &self.digest),
                ],
                &self.manifest,
            ));
        }
        if p == self.config_path {
            return Some(answer(200, &[], CONFIG));
        }
        if p == self.chart_path {
            return Some(answer(200, &[], &self.chart));
        }
        None
    }
}

fn pull(reg: &FaultServer, dir: &Path, extra: &[&str]) -> (Output, Duration) {
    let r = format!("oci://{}/ns/c", reg.host());
    let mut args = vec![
        "pull",
        r.as_str(),
        "--version",
        "1.0.0",
        "--plain-http",
        "-d",
        "out",
    ];
    args.extend_from_slice(extra);
    std::fs::create_dir_all(dir.join("out")).unwrap();
    run("helm", dir, &args)
}

fn no_authorization(server: &FaultServer, who: &str) {
    for s in server.seen() {
        assert!(
            s.header("authorization").is_none() && s.header("proxy-authorization").is_none(),
            "{who} got credentials: {s:?}"
        );
    }
}

// ---- retries --------------------------------------------------------------------------

#[test]
fn pull_retries_5xx_and_429_with_retry_after_then_succeeds() {
    let c = Arc::new(chart());
    let manifest_calls = Arc::new(AtomicUsize::new(0));
    let blob_calls = Arc::new(AtomicUsize::new(0));
    let (c2, m2, b2) = (c.clone(), manifest_calls.clone(), blob_calls.clone());
    let reg = FaultServer::start(move |s| {
        if s.path().starts_with("/v2/ns/c/manifests/") && m2.fetch_add(1, Ordering::SeqCst) < 2 {
            return answer(503, &[], b"busy");
        }
        if s.path() == c2.chart_path && b2.fetch_add(1, Ordering::SeqCst) < 1 {
            return answer(429, &[("Retry-After", "1")], b"slow down");
        }
        c2.serve(s).unwrap_or_else(not_found)
    });
    let d = tempfile::tempdir().unwrap();
    let (o, took) = pull(&reg, d.path(), &[]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(files_under(d.path()), ["out/c-1.0.0.tgz"]);
    assert_eq!(
        std::fs::read(d.path().join("out/c-1.0.0.tgz")).unwrap(),
        c.chart
    );
    // two 503s then the answer; one 429 then the blob
    assert!(manifest_calls.load(Ordering::SeqCst) >= 3);
    assert_eq!(reg.count("GET", &c.chart_path), 2);
    // Retry-After: 1 was honoured
    assert!(took >= Duration::from_secs(1), "took {took:?}");
}

#[test]
fn pull_gives_up_after_six_attempts_and_leaves_nothing() {
    let reg = FaultServer::start(|s| {
        if s.path() == "/v2/" {
            answer(200, &[], b"{}")
        } else {
            answer(
                500,
                &[("Content-Type", "application/json")],
                br#"{"errors":[{"code":"UNKNOWN","message":"storage on fire"}]}"#,
            )
        }
    });
    let d = tempfile::tempdir().unwrap();
    let (o, took) = pull(&reg, d.path(), &[]);
    let err = assert_fails(&o, took, "500", Duration::from_secs(30));
    assert!(err.contains("storage on fire"), "{err}");
    let tries: Vec<_> = reg
        .seen()
        .into_iter()
        .filter(|s| s.path() == "/v2/ns/c/manifests/1.0.0")
        .map(|s| s.method)
        .collect();
    // oras-go: 1 + 5 retries, per request
    assert!(!tries.is_empty() && tries.len() % 6 == 0, "{tries:?}");
    assert!(
        files_under(d.path()).is_empty(),
        "{:?}",
        files_under(d.path())
    );
}

#[test]
fn retry_after_is_capped_and_final_statuses_are_not_retried() {
    let c = Arc::new(chart());
    let first = Arc::new(AtomicBool::new(true));
    let (c2, f2) = (c.clone(), first.clone());
    let reg = FaultServer::start(move |s| {
        if s.path().starts_with("/v2/ns/c/manifests/") && f2.swap(false, Ordering::SeqCst) {
            // a day: must be cut to the 3 s cap
            return answer(429, &[("Retry-After", "86400")], b"");
        }
        c2.serve(s).unwrap_or_else(not_found)
    });
    let d = tempfile::tempdir().unwrap();
    let (o, took) = pull(&reg, d.path(), &[]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(took < Duration::from_secs(10), "took {took:?}");

    // 404 and 501 are answers, not hiccups: asked once.
    for status in [404u16, 501] {
        let reg = FaultServer::start(move |s| {
            if s.path() == "/v2/" {
                answer(200, &[], b"{}")
            } else {
                answer(status, &[], b"")
            }
        });
        let d = tempfile::tempdir().unwrap();
        let (o, took) = pull(&reg, d.path(), &[]);
        assert_fails(&o, took, &status.to_string(), Duration::from_secs(10));
        let n = reg
            .seen()
            .iter()
            .filter(|s| s.path() == "/v2/ns/c/manifests/1.0.0")
            .count();
        assert!((1..=2).contains(&n), "{status}: asked {n} times");
        assert!(files_under(d.path()).is_empty());
    }
}

/// `Retry-After` as an HTTP date (RFC 9110: recipients take both forms) is honoured and
/// capped as the seconds form is: a date an hour ahead costs the 3 s cap, not an hour;
/// a date already past costs only the minimum wait.
#[test]
fn retry_after_http_dates_are_honoured_and_capped() {
    // The date is made from the clock at request time, so the test holds on any day.
    let http_date =
        |d: chrono::DateTime<chrono::Utc>| d.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    for (ahead, min, max) in [
        (
            3600i64,
            Duration::from_millis(2700),
            Duration::from_secs(10),
        ),
        (-86400, Duration::ZERO, Duration::from_secs(2)),
    ] {
        let c = Arc::new(chart());
        let first = Arc::new(AtomicBool::new(true));
        let (c2, f2) = (c.clone(), first.clone());
        let reg = FaultServer::start(move |s| {
            if s.path().starts_with("/v2/ns/c/manifests/") && f2.swap(false, Ordering::SeqCst) {
                let when = http_date(chrono::Utc::now() + chrono::Duration::seconds(ahead));
                return answer(503, &[("Retry-After", when.as_str())], b"busy");
            }
            c2.serve(s).unwrap_or_else(not_found)
        });
        let d = tempfile::tempdir().unwrap();
        let (o, took) = pull(&reg, d.path(), &[]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        assert_eq!(files_under(d.path()), ["out/c-1.0.0.tgz"]);
        assert!(
            took >= min && took < max,
            "Retry-After {ahead:+} s as a date: took {took:?}"
        );
    }
}

/// A bearer registry whose token endpoint (its own `/token` realm) answers `fault` to the
/// first `faults` token requests.
fn token_fault_registry(c: Arc<Chart>, faults: usize, fault: u16) -> FaultServer {
    let port = Arc::new(Mutex::new(0u16));
    let calls = Arc::new(AtomicUsize::new(0));
    let p2 = port.clone();
    let srv = FaultServer::start(move |s| {
        if s.path() == "/token" {
            if calls.fetch_add(1, Ordering::SeqCst) < faults {
                return answer(
                    fault,
                    &[("Content-Type", "application/json")],
                    br#"{"errors":[{"code":"UNAVAILABLE","message":"token service busy"}]}"#,
                );
            }
            return if s.header("authorization") == Some("Basic dTpzM2NyZXQtcHc=") {
                answer(
                    200,
                    &[("Content-Type", "application/json")],
                    br#"{"token":"T0K3N"}"#,
                )
            } else {
                answer(401, &[], b"")
            };
        }
        if s.header("authorization") != Some("Bearer T0K3N") {
            let ch = format!(
                r#"Bearer realm="http://127.0.0.1:{}/token",service="reg""#,
                p2.lock().unwrap()
            );
            return answer(401, &[("WWW-Authenticate", ch.as_str())], b"");
        }
        c.serve(s).unwrap_or_else(not_found)
    });
    *port.lock().unwrap() = srv.port;
    srv
}

/// The token endpoint is retried as the registry's own idempotent requests are: a busy one
/// (503, 429) is asked again and the pull succeeds; a broken one fails after six attempts
/// with its error; a refusal (401) is final.
#[test]
fn token_endpoint_is_retried_like_other_registry_requests() {
    let c = Arc::new(chart());
    let creds = ["--username", "u", "--password", "s3cret-pw"];
    for fault in [503u16, 429] {
        let reg = token_fault_registry(c.clone(), 2, fault);
        let d = tempfile::tempdir().unwrap();
        let (o, _) = pull(&reg, d.path(), &creds);
        assert!(o.status.success(), "{fault}: {}", text(&o.stderr));
        assert_eq!(files_under(d.path()), ["out/c-1.0.0.tgz"]);
        assert!(reg.count("GET", "/token") >= 3, "{fault}: {:?}", reg.seen());
    }
    let reg = token_fault_registry(c.clone(), usize::MAX, 500);
    let d = tempfile::tempdir().unwrap();
    let (o, took) = pull(&reg, d.path(), &creds);
    let err = assert_fails(&o, took, "token service busy", Duration::from_secs(40));
    assert!(!err.contains("s3cret-pw"), "{err}");
    let n = reg.count("GET", "/token");
    assert!(n >= 6 && n % 6 == 0, "token asked {n} times");
    assert!(files_under(d.path()).is_empty());
    // Wrong credentials: the token endpoint's 401 is an answer, asked once per challenge.
    let reg = token_fault_registry(c, 0, 200);
    let d = tempfile::tempdir().unwrap();
    let (o, took) = pull(
        &reg,
        d.path(),
        &["--username", "u", "--password", "wrong-pw"],
    );
    assert_fails(&o, took, "401", Duration::from_secs(20));
    let n = reg.count("GET", "/token");
    assert!((1..=2).contains(&n), "token asked {n} times");
}

// ---- broken answers -------------------------------------------------------------------

#[test]
fn pull_refuses_bodies_cut_short_stalled_or_lying() {
    let c = Arc::new(chart());
    type Fault = Box<dyn Fn(&Chart) -> Reply + Send + Sync>;
    let cases: Vec<(&str, Fault, &str)> = vec![
        (
            "cut short",
            Box::new(|c: &Chart| Reply::Short {
                headers: vec![],
                body: c.chart[..c.chart.len() / 2].to_vec(),
                announced: c.chart.len(),
            }),
            "blob",
        ),
        (
            "stalled",
            Box::new(|c: &Chart| Reply::Stall {
                body: c.chart[..10].to_vec(),
                announced: c.chart.len(),
            }),
            "did not answer in time",
        ),
        (
            "other bytes, same size",
            Box::new(|c: &Chart| {
                let mut b = c.chart.clone();
                let n = b.len();
                b[n - 1] ^= 0xff;
                answer(200, &[], &b)
            }),
            "digest mismatch",
        ),
        (
            "more bytes than the descriptor",
            Box::new(|c: &Chart| {
                let mut b = c.chart.clone();
                b.extend_from_slice(b"trailing");
                answer(200, &[], &b)
            }),
            "over the",
        ),
        (
            "fewer bytes than the descriptor",
            Box::new(|c: &Chart| answer(200, &[], &c.chart[..c.chart.len() - 1])),
            "where the manifest says",
        ),
    ];
    for (name, fault, needle) in cases {
        let fault: Arc<Fault> = Arc::new(fault);
        let (c2, f2) = (c.clone(), fault.clone());
        let reg = FaultServer::start(move |s| {
            if s.path() == c2.chart_path {
                return f2(&c2);
            }
            c2.serve(s).unwrap_or_else(not_found)
        });
        let d = tempfile::tempdir().unwrap();
        let (o, took) = pull(&reg, d.path(), &[]);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{name}: {err}");
        assert!(err.contains(needle), "{name}: expected {needle:?} in {err}");
        assert!(took < Duration::from_secs(15), "{name}: took {took:?}");
        assert!(
            files_under(d.path()).is_empty(),
            "{name}: {:?}",
            files_under(d.path())
        );
        // not retried into a success either
        assert!(reg.count("GET", &c.chart_path) <= 6, "{name}");
    }
}

#[test]
fn pull_refuses_a_manifest_whose_digest_header_lies() {
    let c = Arc::new(chart());
    let c2 = c.clone();
    let reg = FaultServer::start(move |s| {
        if s.path() == "/v2/ns/c/manifests/1.0.0" {
            return answer(
                200,
                &[
                    ("Content-Type", MANIFEST_MT),
                    ("Docker-Content-Digest", &sha256(b"something else")),
                ],
                &c2.manifest,
            );
        }
        c2.serve(s).unwrap_or_else(not_found)
    });
    let d = tempfile::tempdir().unwrap();
    let (o, took) = pull(&reg, d.path(), &[]);
    assert_fails(&o, took, "digest mismatch", Duration::from_secs(15));
    assert!(files_under(d.path()).is_empty());
}

// ---- redirects and credentials --------------------------------------------------------

/// A registry that wants `Basic u:p` (or a bearer token from its own `/token` realm),
/// redirecting blob downloads to `target`.
fn authed_registry(c: Arc<Chart>, bearer: bool, target: String) -> FaultServer {
    let port = Arc::new(Mutex::new(0u16));
    let p2 = port.clone();
    let srv = FaultServer::start(move |s| {
        let basic = "Basic dTpzM2NyZXQtcHc="; // u:s3cret-pw
        if s.path() == "/token" {
            return if s.header("authorization") == Some(basic) {
                answer(
                    200,
                    &[("Content-Type", "application/json")],
                    br#"{"token":"T0K3N"}"#,
                )
            } else {
                answer(401, &[], b"")
            };
        }
        let ok = if bearer {
            s.header("authorization") == Some("Bearer T0K3N")
        } else {
            s.header("authorization") == Some(basic)
        };
        if !ok {
            let ch = if bearer {
                format!(
                    r#"Bearer realm="http://127.0.0.1:{}/token",service="reg""#,
                    p2.lock().unwrap()
                )
            } else {
                r#"Basic realm="reg""#.to_string()
            };
            return answer(401, &[("WWW-Authenticate", ch.as_str())], b"");
        }
        if s.path().starts_with("/v2/ns/c/blobs/") {
            let loc = format!("http://{target}{}", s.path());
            return answer(307, &[("Location", loc.as_str())], b"");
        }
        c.serve(s).unwrap_or_else(not_found)
    });
    *port.lock().unwrap() = srv.port;
    srv
}

#[test]
fn blob_redirects_to_a_cdn_carry_no_credentials() {
    let c = Arc::new(chart());
    let c2 = c.clone();
    let cdn = FaultServer::start(move |s| c2.serve(s).unwrap_or_else(not_found));
    for bearer in [false, true] {
        let reg = authed_registry(c.clone(), bearer, cdn.host());
        let d = tempfile::tempdir().unwrap();
        let (o, _) = pull(
            &reg,
            d.path(),
            &["--username", "u", "--password", "s3cret-pw"],
        );
        assert!(o.status.success(), "bearer={bearer}: {}", text(&o.stderr));
        assert_eq!(files_under(d.path()), ["out/c-1.0.0.tgz"]);
        // the registry got the credentials, the CDN never did
        assert!(reg
            .seen()
            .iter()
            .any(|s| s.header("authorization").is_some()));
        assert!(cdn.count("GET", &c.chart_path) >= 1);
        no_authorization(&cdn, "the CDN");
    }
}

#[test]
fn blob_redirects_to_an_attacker_get_no_credentials_and_no_file() {
    let c = Arc::new(chart());
    // The attacker serves other bytes, and asks for credentials too.
    let attacker = FaultServer::start(|s| {
        if s.path().ends_with("/ask") {
            return answer(401, &[("WWW-Authenticate", r#"Basic realm="give""#)], b"");
        }
        answer(200, &[], b"#!/bin/sh\nevil\n")
    });
    for bearer in [false, true] {
        let reg = authed_registry(c.clone(), bearer, attacker.host());
        let d = tempfile::tempdir().unwrap();
        let (o, took) = pull(
            &reg,
            d.path(),
            &["--username", "u", "--password", "s3cret-pw"],
        );
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(took < Duration::from_secs(15));
        assert!(files_under(d.path()).is_empty());
        assert!(
            !err.contains("dTpzM2NyZXQtcHc=") && !err.contains("T0K3N"),
            "{err}"
        );
    }
    let attacker_ask =
        FaultServer::start(|_| answer(401, &[("WWW-Authenticate", r#"Basic realm="give""#)], b""));
    let reg = authed_registry(c.clone(), false, attacker_ask.host());
    let d = tempfile::tempdir().unwrap();
    let (o, took) = pull(
        &reg,
        d.path(),
        &["--username", "u", "--password", "s3cret-pw"],
    );
    assert_fails(&o, took, "401", Duration::from_secs(15));
    assert!(files_under(d.path()).is_empty());
    assert!(attacker.seen().len() >= 2 && !attacker_ask.seen().is_empty());
    no_authorization(&attacker, "the attacker");
    no_authorization(&attacker_ask, "the attacker asking for credentials");
}

#[test]
fn login_redirected_to_another_host_sends_it_no_credentials() {
    let attacker =
        FaultServer::start(|_| answer(401, &[("WWW-Authenticate", r#"Basic realm="give""#)], b""));
    let target = attacker.host();
    let reg = FaultServer::start(move |s| {
        if s.header("authorization").is_none() {
            return answer(401, &[("WWW-Authenticate", r#"Basic realm="reg""#)], b"");
        }
        let loc = format!("http://{target}/v2/");
        answer(307, &[("Location", loc.as_str())], b"")
    });
    let d = tempfile::tempdir().unwrap();
    let (o, took) = run(
        "helm",
        d.path(),
        &[
            "registry",
            "login",
            &reg.host(),
            "-u",
            "u",
            "-p",
            "s3cret-pw",
            "--plain-http",
        ],
    );
    let err = assert_fails(&o, took, "401", Duration::from_secs(20));
    assert!(!err.contains("dTpzM2NyZXQtcHc="), "{err}");
    assert!(!attacker.seen().is_empty());
    no_authorization(&attacker, "the attacker");
    // nothing stored for a failed login
    assert!(
        !d.path().join(".helmcfg/registry.json").exists() || {
            let s = std::fs::read_to_string(d.path().join(".helmcfg/registry.json")).unwrap();
            !s.contains("dTpzM2NyZXQtcHc=")
        }
    );
}

#[test]
fn login_retries_a_busy_registry_and_gives_up_on_a_broken_one() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c2 = calls.clone();
    let reg = FaultServer::start(move |s| {
        if c2.fetch_add(1, Ordering::SeqCst) < 2 {
            return answer(503, &[("Retry-After", "1")], b"");
        }
        if s.header("authorization") == Some("Basic dTpzM2NyZXQtcHc=") {
            answer(200, &[], b"{}")
        } else {
            answer(401, &[("WWW-Authenticate", r#"Basic realm="reg""#)], b"")
        }
    });
    let d = tempfile::tempdir().unwrap();
    let (o, took) = run(
        "helm",
        d.path(),
        &[
            "registry",
            "login",
            &reg.host(),
            "-u",
            "u",
            "-p",
            "s3cret-pw",
            "--plain-http",
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        took >= Duration::from_secs(2),
        "Retry-After ignored: {took:?}"
    );

    let reg = FaultServer::start(|_| answer(502, &[], b"bad gateway"));
    let (o, took) = run(
        "helm",
        d.path(),
        &[
            "registry",
            "login",
            &reg.host(),
            "-u",
            "u",
            "-p",
            "s3cret-pw",
            "--plain-http",
        ],
    );
    assert_fails(&o, took, "502", Duration::from_secs(40));
    assert_eq!(reg.seen().len() % 6, 0, "{}", reg.seen().len());

    // A registry that never answers: a timeout is not retried. (A 200 whose body then
    // stalls is a successful login, in Helm too: only the status is looked at.)
    let reg = FaultServer::start(|_| Reply::Silent);
    let (o, took) = run(
        "helm",
        d.path(),
        &[
            "registry",
            "login",
            &reg.host(),
            "-u",
            "u",
            "-p",
            "s3cret-pw",
            "--plain-http",
        ],
    );
    assert_fails(&o, took, "did not answer in time", Duration::from_secs(15));
}

// ---- push -----------------------------------------------------------------------------

/// A registry taking uploads; `fault` may answer a request instead.
fn push_registry(
    location_host: Option<String>,
    fault: impl Fn(&Seen) -> Option<Reply> + Send + Sync + 'static,
) -> FaultServer {
    FaultServer::start(move |s| {
        if let Some(r) = fault(s) {
            return r;
        }
        if s.header("authorization") != Some("Basic dTpzM2NyZXQtcHc=") {
            return answer(401, &[("WWW-Authenticate", r#"Basic realm="reg""#)], b"");
        }
        match (s.method.as_str(), s.path()) {
            ("GET", "/v2/") => answer(200, &[], b"{}"),
            ("HEAD", p) if p.contains("/blobs/") => not_found(),
            ("POST", "/v2/ns/c/blobs/uploads/") => {
                let loc = match &location_host {
                    Some(h) => format!("http://{h}/v2/ns/c/blobs/uploads/u1"),
                    None => "/v2/ns/c/blobs/uploads/u1".to_string(),
                };
                answer(202, &[("Location", loc.as_str())], b"")
            }
            ("PUT", "/v2/ns/c/blobs/uploads/u1") => answer(201, &[], b""),
            ("PUT", p) if p.starts_with("/v2/ns/c/manifests/") => {
                answer(201, &[("Docker-Content-Digest", &sha256(&s.body))], b"")
            }
            _ => not_found(),
        }
    })
}

fn push(reg: &FaultServer, dir: &Path) -> (Output, Duration) {
    std::fs::write(dir.join("c-1.0.0.tgz"), chart_tgz()).unwrap();
    let r = format!("oci://{}/ns", reg.host());
    run(
        "helm",
        dir,
        &[
            "push",
            "c-1.0.0.tgz",
            &r,
            "--plain-http",
            "--username",
            "u",
            "--password",
            "s3cret-pw",
        ],
    )
}

fn manifest_puts(reg: &FaultServer) -> usize {
    reg.seen()
        .iter()
        .filter(|s| s.method == "PUT" && s.path().starts_with("/v2/ns/c/manifests/"))
        .count()
}

#[test]
fn push_retries_a_failed_blob_put_and_tags_once() {
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let reg = push_registry(None, move |s| {
        (s.method == "PUT"
            && s.path() == "/v2/ns/c/blobs/uploads/u1"
            && s.header("authorization").is_some()
            && n2.fetch_add(1, Ordering::SeqCst) == 0)
            .then(|| answer(503, &[], b""))
    });
    let d = tempfile::tempdir().unwrap();
    let (o, _) = push(&reg, d.path());
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(manifest_puts(&reg), 1);
    // the body was sent again in full
    let puts: Vec<_> = reg
        .seen()
        .into_iter()
        .filter(|s| s.method == "PUT" && s.path() == "/v2/ns/c/blobs/uploads/u1")
        .collect();
    assert!(puts.len() >= 3, "{}", puts.len());
    assert_eq!(puts[0].body, puts[1].body);
}

#[test]
fn failed_pushes_create_no_tag() {
    type PushFault = Box<dyn Fn(&Seen) -> Option<Reply> + Send + Sync>;
    let cases: Vec<(&str, PushFault, &str)> = vec![
        (
            "blob PUT always 500",
            Box::new(|s: &Seen| {
                (s.method == "PUT" && s.path().contains("/blobs/uploads/"))
                    .then(|| answer(500, &[], b""))
            }),
            "500",
        ),
        (
            "upload POST 503 (POST is not retried)",
            Box::new(|s: &Seen| (s.method == "POST").then(|| answer(503, &[], b""))),
            "503",
        ),
        (
            "blob PUT stalls",
            Box::new(|s: &Seen| {
                (s.method == "PUT" && s.path().contains("/blobs/uploads/")).then_some(Reply::Silent)
            }),
            "did not answer in time",
        ),
    ];
    for (name, fault, needle) in cases {
        let reg = push_registry(None, fault);
        let d = tempfile::tempdir().unwrap();
        let (o, took) = push(&reg, d.path());
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{name}: {err}");
        assert!(err.contains(needle), "{name}: {err}");
        assert!(took < Duration::from_secs(30), "{name}: {took:?}");
        assert_eq!(manifest_puts(&reg), 0, "{name}: a tag was written");
        if name.starts_with("upload POST") {
            assert_eq!(reg.count("POST", "/v2/ns/c/blobs/uploads/"), 1, "{name}");
        }
    }
}

#[test]
fn an_upload_location_on_another_host_gets_no_credentials() {
    let attacker =
        FaultServer::start(|_| answer(401, &[("WWW-Authenticate", r#"Basic realm="give""#)], b""));
    let reg = push_registry(Some(attacker.host()), |_| None);
    let d = tempfile::tempdir().unwrap();
    let (o, took) = push(&reg, d.path());
    assert_fails(&o, took, "401", Duration::from_secs(20));
    assert!(!attacker.seen().is_empty());
    no_authorization(&attacker, "the upload host");
    assert_eq!(manifest_puts(&reg), 0);
}

// ---- cosign verify (image lookup) -----------------------------------------------------

fn cosign_keys(dir: &Path) {
    let (o, _) = run("cosign", dir, &["generate-key-pair"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
}

fn verify(dir: &Path, reg: &FaultServer) -> (Output, Duration) {
    let image = format!("{}/ns/img:1", reg.host());
    run(
        "cosign",
        dir,
        &[
            "verify",
            "--key",
            "cosign.pub",
            "--insecure-ignore-tlog=true",
            &image,
        ],
    )
}

#[test]
fn cosign_verify_retries_image_lookup_and_ends_with_a_clear_error() {
    let d = tempfile::tempdir().unwrap();
    cosign_keys(d.path());
    let image = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#.to_vec();
    let digest = sha256(&image);
    let calls = Arc::new(AtomicUsize::new(0));
    let c2 = calls.clone();
    let reg = FaultServer::start(move |s| {
        let p = s.path();
        if p == "/v2/" {
            return answer(200, &[], b"{}");
        }
        if p == "/v2/ns/img/manifests/1" || p == format!("/v2/ns/img/manifests/{digest}") {
            if c2.fetch_add(1, Ordering::SeqCst) < 2 {
                return answer(503, &[], b"");
            }
            return answer(
                200,
                &[
                    ("Content-Type", MANIFEST_MT),
                    ("Docker-Content-Digest", &digest),
                ],
                &image,
            );
        }
        not_found()
    });
    let (o, took) = verify(d.path(), &reg);
    let err = text(&o.stderr);
    // found the image after two 503s; then no signatures (a 404, not retried)
    assert_ne!(o.status.code(), Some(0), "{err}");
    assert!(!err.contains("503"), "{err}");
    assert!(
        err.to_lowercase().contains("no signatures") || err.contains("no matching"),
        "{err}"
    );
    assert!(calls.load(Ordering::SeqCst) >= 3);
    assert!(took < Duration::from_secs(20));

    // always 500: six attempts, then the registry's error
    let reg = FaultServer::start(|s| {
        if s.path() == "/v2/" {
            answer(200, &[], b"{}")
        } else {
            answer(500, &[], b"")
        }
    });
    let (o, took) = verify(d.path(), &reg);
    let err = text(&o.stderr);
    assert_ne!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("500"), "{err}");
    assert!(took < Duration::from_secs(30), "{took:?}");
    let n = reg
        .seen()
        .iter()
        .filter(|s| s.path() == "/v2/ns/img/manifests/1")
        .count();
    assert_eq!(n % 6, 0, "{n}");

    // a stall ends with the timeout message
    let reg = FaultServer::start(|s| {
        if s.path() == "/v2/" {
            answer(200, &[], b"{}")
        } else {
            Reply::Stall {
                body: vec![],
                announced: 100,
            }
        }
    });
    let (o, took) = verify(d.path(), &reg);
    let err = text(&o.stderr);
    assert_ne!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("did not answer in time"), "{err}");
    assert!(took < Duration::from_secs(15), "{took:?}");
}

#[test]
fn a_tag_list_page_on_another_host_gets_no_credentials() {
    let attacker =
        FaultServer::start(|_| answer(401, &[("WWW-Authenticate", r#"Basic realm="give""#)], b""));
    let target = attacker.host();
    let c = Arc::new(chart());
    // page one of the tag list (for a pull without --version) links to the attacker
    let front = FaultServer::start(move |s| {
        if s.path() == "/v2/ns/c/tags/list" && s.header("authorization").is_some() {
            let link = format!("<http://{target}/v2/ns/c/tags/list?last=0.9.0>; rel=\"next\"");
            return answer(
                200,
                &[
                    ("Content-Type", "application/json"),
                    ("Link", link.as_str()),
                ],
                br#"{"name":"ns/c","tags":["0.9.0"]}"#,
            );
        }
        if s.header("authorization") != Some("Basic dTpzM2NyZXQtcHc=") {
            return answer(401, &[("WWW-Authenticate", r#"Basic realm="reg""#)], b"");
        }
        c.serve(s).unwrap_or_else(not_found)
    });
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("out")).unwrap();
    let r = format!("oci://{}/ns/c", front.host());
    let (o, took) = run(
        "helm",
        d.path(),
        &[
            "pull",
            &r,
            "--plain-http",
            "-d",
            "out",
            "--username",
            "u",
            "--password",
            "s3cret-pw",
        ],
    );
    let err = text(&o.stderr);
    assert_ne!(o.status.code(), Some(0), "{err}");
    assert!(took < Duration::from_secs(15));
    assert!(
        !attacker.seen().is_empty(),
        "the Link was not followed: {err}"
    );
    no_authorization(&attacker, "the next tag page's host");
    assert!(files_under(d.path()).is_empty());
}

#[test]
fn cosign_image_lookup_redirected_elsewhere_sends_no_credentials() {
    let d = tempfile::tempdir().unwrap();
    cosign_keys(d.path());
    let attacker =
        FaultServer::start(|_| answer(401, &[("WWW-Authenticate", r#"Basic realm="give""#)], b""));
    let target = attacker.host();
    let reg = FaultServer::start(move |s| {
        if s.header("authorization") != Some("Basic dTpzM2NyZXQtcHc=") {
            return answer(401, &[("WWW-Authenticate", r#"Basic realm="reg""#)], b"");
        }
        if s.path() == "/v2/" {
            return answer(200, &[], b"{}");
        }
        let loc = format!("http://{target}{}", s.target);
        answer(307, &[("Location", loc.as_str())], b"")
    });
    std::fs::create_dir_all(d.path().join(".docker")).unwrap();
    std::fs::write(
        d.path().join(".docker/config.json"),
        format!(
            r#"{{"auths":{{"{}":{{"auth":"dTpzM2NyZXQtcHc="}}}}}}"#,
            reg.host()
        ),
    )
    .unwrap();
    let (o, took) = verify(d.path(), &reg);
    let err = text(&o.stderr);
    assert_ne!(o.status.code(), Some(0), "{err}");
    assert!(took < Duration::from_secs(20), "{took:?}");
    assert!(!err.contains("dTpzM2NyZXQtcHc="), "{err}");
    assert!(
        reg.seen()
            .iter()
            .any(|s| s.header("authorization").is_some()),
        "no credentials used"
    );
    assert!(!attacker.seen().is_empty(), "{err}");
    no_authorization(&attacker, "the host cosign was redirected to");
}
