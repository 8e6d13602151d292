//! Remote Taskfiles against a loopback HTTP(S) server started by each test: trust prompt,
//! --yes, --trusted-hosts, checksum pinning, cache, --offline/--download/--expiry,
//! --timeout, --insecure, --cacert, `-t URL`. Expected messages and cache names are
//! go-task 3.54's.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

#[derive(Clone)]
struct Page {
    status: u16,
    ctype: &'static str,
    body: String,
    /// Accept the request and never answer (for --timeout).
    hang: bool,
    /// A different status for GET than for HEAD.
    get_status: Option<u16>,
}

impl Page {
    fn new(status: u16, ctype: &'static str, body: &str) -> Page {
        Page {
            status,
            ctype,
            body: body.to_string(),
            hang: false,
            get_status: None,
        }
    }
}

#[derive(Default)]
struct State {
    pages: HashMap<String, Page>,
    /// "METHOD /path" of every request, in order.
    log: Vec<String>,
}

struct Server {
    port: u16,
    state: Arc<Mutex<State>>,
}

impl Server {
    fn start() -> Server {
        Self::start_with(None)
    }

    /// With a TLS config the server speaks https only.
    fn start_with(tls: Option<Arc<rustls::ServerConfig>>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State::default()));
        let st = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let st = st.clone();
                let tls = tls.clone();
                std::thread::spawn(move || {
                    let _ = conn.set_read_timeout(Some(Duration::from_secs(20)));
                    match tls {
                        Some(cfg) => {
                            let Ok(sc) = rustls::ServerConnection::new(cfg) else {
                                return;
                            };
                            serve(rustls::StreamOwned::new(sc, conn), &st);
                        }
                        None => serve(conn, &st),
                    }
                });
            }
        });
        Server { port, state }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn put(&self, path: &str, body: &str) {
        self.put_page(path, Page::new(200, "text/yaml", body));
    }

    fn put_page(&self, path: &str, page: Page) {
        self.state
            .lock()
            .unwrap()
            .pages
            .insert(path.to_string(), page);
    }

    fn requests(&self) -> Vec<String> {
        self.state.lock().unwrap().log.clone()
    }
}

fn serve<S: Read + Write>(stream: S, st: &Mutex<State>) {
    let mut r = BufReader::new(stream);
    let mut first = String::new();
    if r.read_line(&mut first).unwrap_or(0) == 0 {
        return;
    }
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" || h == "\n" {
            break;
        }
    }
    let mut parts = first.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let page = {
        let mut s = st.lock().unwrap();
        s.log.push(format!("{method} {path}"));
        s.pages.get(&path).cloned()
    };
    let mut page = page.unwrap_or(Page::new(404, "text/plain", "404 page not found\n"));
    if page.hang {
        std::thread::sleep(Duration::from_secs(30));
        return;
    }
    if method == "GET" {
        page.status = page.get_status.unwrap_or(page.status);
    }
    let reason = match page.status {
        200 => "OK",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Other",
    };
    let mut resp = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        page.status,
        page.ctype,
        page.body.len()
    )
    .into_bytes();
    if method != "HEAD" {
        resp.extend_from_slice(page.body.as_bytes());
    }
    let s = r.get_mut();
    let _ = s.write_all(&resp);
    let _ = s.flush();
}

fn sha256(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs our binary in `dir` without a terminal (stdin is /dev/null), bounded in time.
fn task(dir: &Path, args: &[&str]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_task"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("TASK_TEMP_DIR")
        .env_remove("TASK_REMOTE_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn task");
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("task {args:?} did not finish within 60s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().unwrap();
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

const REMOTE: &str = "version: '3'\nincludes:\n  nested: ./sub/Other.yml\ntasks:\n  hello:\n    cmds:\n      - echo hello-from-remote > marker.txt\n      - echo hello-from-remote\n";
const NESTED: &str = "version: '3'\ntasks:\n  hi:\n    cmds:\n      - echo hi-nested\n";

fn project(srv: &Server, extra_include: &str) -> tempfile::TempDir {
    srv.put("/Taskfile.yml", REMOTE);
    srv.put("/sub/Other.yml", NESTED);
    let d = tempfile::tempdir().unwrap();
    let tf = format!(
        "version: '3'\nincludes:\n  r: {}\n{extra_include}tasks:\n  local: echo local\n",
        srv.url("/Taskfile.yml")
    );
    std::fs::write(d.path().join("Taskfile.yml"), tf).unwrap();
    d
}

fn cache_dir(root: &Path) -> PathBuf {
    root.join(".task/remote")
}

fn untrusted_prompt(url: &str) -> String {
    format!("The task you are attempting to run depends on the remote Taskfile at \"{url}\".\n--- Make sure you trust the source of this Taskfile before continuing ---\nContinue? [assuming yes]\n")
}

#[test]
fn yes_trusts_and_caches_like_go_task() {
    let srv = Server::start();
    let d = project(&srv, "");
    let r = task(d.path(), &["--insecure", "--yes", "r:hello", "r:nested:hi"]);
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    assert!(
        r.stdout
            .starts_with(&untrusted_prompt(&srv.url("/Taskfile.yml"))),
        "stdout: {}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains(&untrusted_prompt(&srv.url("/sub/Other.yml"))),
        "nested include resolved against the URL: {}",
        r.stdout
    );
    assert!(r.stdout.contains("hello-from-remote\n") && r.stdout.contains("hi-nested\n"));
    // Included tasks run in the root Taskfile's directory.
    assert_eq!(
        std::fs::read_to_string(d.path().join("marker.txt")).unwrap(),
        "hello-from-remote\n"
    );

    // go-task's cache names: http.<host>.<file>.<sha256(url)> and the content's sha256.
    let key = format!(
        "http.{}.Taskfile.yml.{}",
        srv.host(),
        sha256(&srv.url("/Taskfile.yml"))
    );
    let c = cache_dir(d.path());
    assert_eq!(
        std::fs::read_to_string(c.join(format!("{key}.yaml"))).unwrap(),
        REMOTE
    );
    assert_eq!(
        std::fs::read_to_string(c.join(format!("{key}.checksum"))).unwrap(),
        sha256(REMOTE)
    );
    let ts = std::fs::read_to_string(c.join(format!("{key}.timestamp"))).unwrap();
    assert!(
        ts.len() == 20 && ts.ends_with('Z'),
        "RFC3339 UTC timestamp: {ts}"
    );
    let nested = format!(
        "http.{}.sub.Other.yml.{}.yaml",
        srv.host(),
        sha256(&srv.url("/sub/Other.yml"))
    );
    assert!(c.join(nested).is_file());

    // Trusted now: the same content runs without --yes and without a prompt.
    let r = task(d.path(), &["--insecure", "r:hello"]);
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    assert!(!r.stdout.contains("Continue?"));
}

#[test]
fn untrusted_without_terminal_is_refused_and_nothing_runs() {
    let srv = Server::start();
    let d = project(&srv, "");
    let r = task(d.path(), &["--insecure", "r:hello"]);
    assert_eq!(r.code, 104);
    assert_eq!(
        r.stderr,
        format!(
            "task: Taskfile \"{}\" not trusted by user\n",
            srv.url("/Taskfile.yml")
        )
    );
    assert!(!d.path().join("marker.txt").exists());
    // No trust recorded.
    assert!(
        !cache_dir(d.path()).exists()
            || std::fs::read_dir(cache_dir(d.path()))
                .unwrap()
                .next()
                .is_none()
    );
}

#[test]
fn trusted_hosts_match_host_and_port_exactly() {
    let srv = Server::start();
    let d = project(&srv, "");
    let r = task(
        d.path(),
        &["--insecure", "--trusted-hosts", "127.0.0.1", "r:hello"],
    );
    assert_eq!(
        r.code, 104,
        "a host without the port does not match: {}",
        r.stderr
    );
    let r = task(
        d.path(),
        &[
            "--insecure",
            "--trusted-hosts",
            &format!("example.com,{}", srv.host()),
            "r:hello",
        ],
    );
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    assert!(!r.stdout.contains("Continue?"));
    assert!(d.path().join("marker.txt").exists());
}

#[test]
fn changed_content_asks_again() {
    let srv = Server::start();
    let d = project(&srv, "");
    assert_eq!(task(d.path(), &["--insecure", "--yes", "r:hello"]).code, 0);
    srv.put("/Taskfile.yml", &format!("{REMOTE}  bye: echo bye\n"));
    let r = task(d.path(), &["--insecure", "r:bye"]);
    assert_eq!(r.code, 104, "stderr: {}", r.stderr);
    let r = task(d.path(), &["--insecure", "--yes", "r:bye"]);
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    let url = srv.url("/Taskfile.yml");
    assert!(
        r.stdout.starts_with(&format!("The Taskfile at \"{url}\" has changed since you last used it!\n--- Make sure you trust the source of this Taskfile before continuing ---\nContinue? [assuming yes]\n")),
        "stdout: {}",
        r.stdout
    );
    assert!(r.stdout.ends_with("bye\n"));
}

#[test]
fn pinned_checksum_mismatch_is_111_and_a_match_needs_no_prompt() {
    let srv = Server::start();
    srv.put("/sub/Other.yml", NESTED);
    let d = tempfile::tempdir().unwrap();
    let write = |sum: &str| {
        let tf = format!(
            "version: '3'\nincludes:\n  r:\n    taskfile: {}\n    checksum: {sum}\ntasks: {{}}\n",
            srv.url("/sub/Other.yml")
        );
        std::fs::write(d.path().join("Taskfile.yml"), tf).unwrap();
    };
    write("abc123");
    let r = task(d.path(), &["--insecure", "r:hi"]);
    assert_eq!(r.code, 111);
    assert_eq!(
        r.stderr,
        format!(
            "task: The checksum of the Taskfile at \"{}\" does not match!\ngot: \"{}\"\nwant: \"abc123\"\n",
            srv.url("/sub/Other.yml"),
            sha256(NESTED)
        )
    );
    assert!(r.stdout.is_empty());

    write(&sha256(NESTED));
    let r = task(d.path(), &["--insecure", "r:hi"]);
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    assert_eq!(r.stdout, "hi-nested\n");

    // The pin is checked on the cached copy too.
    write("abc123");
    let r = task(d.path(), &["--insecure", "--offline", "r:hi"]);
    assert_eq!(r.code, 111);
}

#[test]
fn offline_uses_only_the_cache() {
    let srv = Server::start();
    let d = project(&srv, "");
    let r = task(d.path(), &["--insecure", "--offline", "r:hello"]);
    assert_eq!(r.code, 106);
    assert_eq!(
        r.stderr,
        format!("task: Taskfile \"{}\" was not found in the cache. Remove the --offline flag to use a remote copy or download it using the --download flag\n", srv.url("/Taskfile.yml"))
    );
    assert!(
        srv.requests().is_empty(),
        "offline made requests: {:?}",
        srv.requests()
    );

    assert_eq!(task(d.path(), &["--insecure", "--yes", "r:hello"]).code, 0);
    let before = srv.requests().len();
    // Even a server that now fails is not asked.
    srv.put_page(
        "/Taskfile.yml",
        Page {
            get_status: Some(500),
            ..Page::new(200, "text/yaml", "boom")
        },
    );
    let r = task(d.path(), &["--insecure", "--offline", "r:nested:hi"]);
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    assert_eq!(r.stdout, "hi-nested\n");
    assert_eq!(srv.requests().len(), before);

    // Online, the failing server is an error (the cache is expired by default).
    let r = task(d.path(), &["--insecure", "r:nested:hi"]);
    assert_eq!(r.code, 103);
    assert_eq!(
        r.stderr,
        format!(
            "task: Download of \"{}\" failed with status code 500 (Internal Server Error)\n",
            srv.url("/Taskfile.yml")
        )
    );
    // A failing HEAD makes go-task look for the default names under the URL instead.
    srv.put_page("/Taskfile.yml", Page::new(500, "text/plain", "boom"));
    let r = task(d.path(), &["--insecure", "r:nested:hi"]);
    assert_eq!(
        (r.code, r.stderr),
        (
            100,
            format!(
                "task: No Taskfile found at \"{}\"\n",
                srv.url("/Taskfile.yml")
            )
        )
    );
    assert!(srv
        .requests()
        .iter()
        .any(|l| l == "HEAD /Taskfile.yml/Taskfile.yml"));
}

#[test]
fn expiry_keeps_the_cache_and_download_refreshes_it() {
    let srv = Server::start();
    let d = project(&srv, "");
    assert_eq!(
        task(
            d.path(),
            &["--insecure", "--yes", "--expiry", "1h", "r:hello"]
        )
        .code,
        0
    );
    let n = srv.requests().len();
    let r = task(d.path(), &["--insecure", "--expiry", "1h", "r:hello"]);
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    assert_eq!(
        srv.requests().len(),
        n,
        "a fresh cache is used without asking the server"
    );
    let r = task(
        d.path(),
        &["--insecure", "--expiry", "1h", "--download", "r:hello"],
    );
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    assert!(
        srv.requests()[n..].iter().any(|l| l == "GET /Taskfile.yml"),
        "{:?}",
        srv.requests()
    );
    let r = task(d.path(), &["--download", "--offline", "r:hello"]);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (
            1,
            "task: You can't set both --download and --offline flags\n"
        )
    );
}

#[test]
fn clear_cache_removes_the_remote_dir() {
    let srv = Server::start();
    let d = project(&srv, "");
    assert_eq!(task(d.path(), &["--insecure", "--yes", "r:hello"]).code, 0);
    assert!(cache_dir(d.path()).is_dir());
    std::fs::remove_file(d.path().join("marker.txt")).unwrap();
    let r = task(d.path(), &["--insecure", "--clear-cache", "r:hello"]);
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    assert!(!cache_dir(d.path()).exists());
    assert!(
        !d.path().join("marker.txt").exists(),
        "--clear-cache runs nothing"
    );
}

#[test]
fn remote_cache_dir_flag_moves_the_cache() {
    let srv = Server::start();
    let d = project(&srv, "");
    let r = task(
        d.path(),
        &[
            "--insecure",
            "--yes",
            "--remote-cache-dir",
            "cachehere",
            "r:hello",
        ],
    );
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    assert!(d.path().join("cachehere/remote").is_dir());
    assert!(!cache_dir(d.path()).exists());
}

#[test]
fn plain_http_needs_insecure() {
    let srv = Server::start();
    let d = project(&srv, "");
    let r = task(d.path(), &["--yes", "r:hello"]);
    assert_eq!(r.code, 105);
    assert_eq!(
        r.stderr,
        format!("task: Taskfile \"{}\" cannot be downloaded over an insecure connection. You can override this by using the --insecure flag\n", srv.url("/Taskfile.yml"))
    );
    assert!(srv.requests().is_empty());
}

#[test]
fn optional_insecure_include_is_skipped() {
    let srv = Server::start();
    let d = tempfile::tempdir().unwrap();
    let tf = format!("version: '3'\nincludes:\n  r:\n    taskfile: {}\n    optional: true\ntasks:\n  local: echo local\n", srv.url("/x.yml"));
    std::fs::write(d.path().join("Taskfile.yml"), tf).unwrap();
    let r = task(d.path(), &["local"]);
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    assert_eq!(r.stdout, "local\n");
}

#[test]
fn taskfile_flag_takes_a_url() {
    let srv = Server::start();
    srv.put("/sub/Other.yml", NESTED);
    let d = tempfile::tempdir().unwrap();
    let r = task(
        d.path(),
        &[
            "--insecure",
            "--yes",
            "-t",
            &srv.url("/sub/Other.yml"),
            "hi",
        ],
    );
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    assert_eq!(
        r.stdout,
        format!(
            "{}hi-nested\n",
            untrusted_prompt(&srv.url("/sub/Other.yml"))
        )
    );
    assert!(
        cache_dir(d.path()).is_dir(),
        "cache next to where task runs"
    );

    // A directory URL: the default names are tried under it.
    srv.put("/dir/Taskfile.yml", NESTED);
    srv.put_page("/dir/", Page::new(200, "text/html", "<html/>"));
    let r = task(
        d.path(),
        &["--insecure", "--yes", "-t", &srv.url("/dir/"), "hi"],
    );
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    assert!(srv.requests().iter().any(|l| l == "GET /dir/Taskfile.yml"));

    let r = task(
        d.path(),
        &["--insecure", "--yes", "-t", &srv.url("/nope.yml"), "hi"],
    );
    assert_eq!(
        (r.code, r.stderr),
        (
            100,
            format!("task: No Taskfile found at \"{}\"\n", srv.url("/nope.yml"))
        )
    );
}

#[test]
fn timeout_is_108_and_names_the_root_taskfile() {
    let srv = Server::start();
    srv.put_page(
        "/slow.yml",
        Page {
            hang: true,
            ..Page::new(200, "text/yaml", "")
        },
    );
    let d = tempfile::tempdir().unwrap();
    let tf = format!(
        "version: '3'\nincludes:\n  r: {}\ntasks: {{}}\n",
        srv.url("/slow.yml")
    );
    std::fs::write(d.path().join("Taskfile.yml"), tf).unwrap();
    let start = Instant::now();
    let r = task(
        d.path(),
        &["--insecure", "--yes", "--timeout", "700ms", "r:x"],
    );
    let took = start.elapsed();
    assert_eq!(r.code, 108, "stderr: {}", r.stderr);
    let root = d.path().canonicalize().unwrap().join("Taskfile.yml");
    let root_shown = d.path().join("Taskfile.yml");
    let ok = [root, root_shown].iter().any(|p| {
        r.stderr == format!("task: Network connection timed out after 700ms while attempting to download Taskfile \"{}\"\n", p.display())
    });
    assert!(ok, "stderr: {}", r.stderr);
    assert!(took < Duration::from_secs(5), "took {took:?}");

    let r = task(d.path(), &["--timeout", "5", "r:x"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.ends_with(
        "invalid argument \"5\" for \"--timeout\" flag: time: missing unit in duration \"5\"\n"
    ));
}

#[test]
fn passwords_in_urls_never_reach_messages() {
    let srv = Server::start();
    let d = tempfile::tempdir().unwrap();
    let url = format!("http://user:s3cr3t@127.0.0.1:{}/nope.yml", srv.port);
    std::fs::write(
        d.path().join("Taskfile.yml"),
        format!("version: '3'\nincludes:\n  r: {url}\ntasks: {{}}\n"),
    )
    .unwrap();
    for args in [
        &["--yes", "r:x"][..],
        &["--insecure", "--yes", "r:x"][..],
        &["--insecure", "--offline", "r:x"][..],
    ] {
        let r = task(d.path(), args);
        assert_ne!(r.code, 0);
        assert!(
            !r.stderr.contains("s3cr3t") && !r.stdout.contains("s3cr3t"),
            "{args:?}: {}",
            r.stderr
        );
        assert!(r.stderr.contains("user:xxxxx@"), "{args:?}: {}", r.stderr);
    }
}

#[test]
fn https_with_cacert_or_insecure() {
    let ck =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .unwrap();
    let cert_pem = ck.cert.pem();
    let key_der = rustls::pki_types::PrivateKeyDer::Pkcs8(ck.key_pair.serialize_der().into());
    let cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![ck.cert.der().clone()], key_der)
    .unwrap();
    let srv = Server::start_with(Some(Arc::new(cfg)));
    srv.put("/Taskfile.yml", NESTED);
    let url = format!("https://127.0.0.1:{}/Taskfile.yml", srv.port);
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("ca.pem"), &cert_pem).unwrap();

    // Unknown CA: the download fails.
    let r = task(d.path(), &["--yes", "-t", &url, "hi"]);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (
            103,
            format!("task: Download of \"{url}\" failed\n").as_str()
        )
    );
    let r = task(d.path(), &["--yes", "--cacert", "ca.pem", "-t", &url, "hi"]);
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    assert!(r.stdout.ends_with("hi-nested\n"));
    let r = task(
        d.path(),
        &["--yes", "--insecure", "--download", "-t", &url, "hi"],
    );
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    let r = task(d.path(), &["--yes", "--cert", "ca.pem", "-t", &url, "hi"]);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (1, "task: --cert and --cert-key must be provided together\n")
    );
    let r = task(
        d.path(),
        &["--yes", "--cacert", "missing.pem", "-t", &url, "hi"],
    );
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (
            1,
            "failed to read CA certificate: open missing.pem: no such file or directory\n"
        )
    );
}

/// Runs `task` with stdin and stdout on a pseudo-terminal, answering the trust prompt.
fn task_on_tty(dir: &Path, args: &[&str], answer: &str) -> (i32, String) {
    use std::os::fd::FromRawFd;
    let (mut master, mut slave) = (0, 0);
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty");
    let slave_out = unsafe { libc::dup(slave) };
    let mut child = Command::new(env!("CARGO_BIN_EXE_task"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(unsafe { Stdio::from_raw_fd(slave) })
        .stdout(unsafe { Stdio::from_raw_fd(slave_out) })
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let master = unsafe { std::fs::File::from_raw_fd(master) };
    let mut reader = master.try_clone().unwrap();
    let seen = Arc::new(Mutex::new(String::new()));
    let s2 = seen.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 1024];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            s2.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    // Each prompt gets the answer as it appears.
    let start = Instant::now();
    let mut answered = 0;
    let code = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st.code().unwrap_or(-1);
        }
        if seen.lock().unwrap().matches("[y/N]: ").count() > answered {
            (&master).write_all(answer.as_bytes()).unwrap();
            answered += 1;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "task did not finish: {}",
            seen.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    std::thread::sleep(Duration::from_millis(100));
    let out = seen.lock().unwrap().clone();
    (code, out)
}

#[test]
fn terminal_prompt_accepts_y_and_refuses_anything_else() {
    let srv = Server::start();
    let d = project(&srv, "");
    let url = srv.url("/Taskfile.yml");
    let (code, out) = task_on_tty(d.path(), &["--insecure", "r:hello"], "n\n");
    assert_eq!(code, 104, "{out}");
    assert!(out.contains(&format!("depends on the remote Taskfile at \"{url}\".\r\n--- Make sure you trust the source of this Taskfile before continuing ---\r\nContinue? [y/N]: ")), "{out}");
    assert!(!d.path().join("marker.txt").exists());
    let (code, out) = task_on_tty(d.path(), &["--insecure", "r:hello"], "yes\n");
    assert_eq!(code, 0, "{out}");
    // One prompt per remote file (the nested include asks too).
    assert_eq!(out.matches("[y/N]: ").count(), 2, "{out}");
    assert!(d.path().join("marker.txt").exists());
}
