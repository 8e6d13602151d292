//! Hostile input (issue 15): each test feeds oxtask something an attacker controls (a
//! Taskfile, a template, a chart, a registry) and checks it is refused with a clear error,
//! within bounded time and memory, and that nothing is written where it should not be.
//! See docs/security.md for the threat model and the limits.

#[path = "support/gotask.rs"]
mod gotask;
#[path = "support/registry.rs"]
#[allow(dead_code)]
mod registry;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn task_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_task"))
}

/// Runs `cmd` and kills it after `limit` (a hang is a test failure, not a stuck CI job).
fn run_limited(mut cmd: Command, limit: Duration) -> (Output, Duration) {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd.spawn().expect("spawn");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = out.read_to_end(&mut b);
        b
    });
    let t_err = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = err.read_to_end(&mut b);
        b
    });
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let s = child.wait().unwrap();
            let o = Output {
                status: s,
                stdout: t_out.join().unwrap(),
                stderr: t_err.join().unwrap(),
            };
            panic!(
                "still running after {limit:?}; stderr: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = start.elapsed();
    (
        Output {
            status,
            stdout: t_out.join().unwrap(),
            stderr: t_err.join().unwrap(),
        },
        elapsed,
    )
}

fn task_in(dir: &Path, args: &[&str], limit: Duration) -> (Output, Duration) {
    let mut c = Command::new(task_bin());
    // Compared as plain text: under CI=true both tools colour their output.
    c.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("TASK_X_REMOTE_TASKFILES");
    run_limited(c, limit)
}

fn go_task_in(go: &Path, dir: &Path, args: &[&str]) -> Output {
    let mut c = Command::new(go);
    c.args(args).current_dir(dir).env("NO_COLOR", "1");
    run_limited(c, Duration::from_secs(60)).0
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (name, body) in files {
        let p = d.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(p, body).unwrap();
    }
    d
}

// ---- 7: tasks calling each other ------------------------------------------------------

const MUTUAL: &str =
    "version: '3'\ntasks:\n  a:\n    cmds:\n      - task: b\n  b:\n    cmds:\n      - task: a\n";

fn call_chain(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        s.push_str(if i % 2 == 0 {
            "task: Failed to run task \"a\": "
        } else {
            "task: Failed to run task \"b\": "
        });
    }
    s
}

#[test]
fn mutually_recursive_cmds_stop_at_the_call_limit() {
    let d = project(&[("Taskfile.yml", MUTUAL)]);
    // 999 calls of `a` and 999 of `b` wrap the error: exactly go-task's 1,998 frames.
    let want = format!(
        "{}task: Maximum task call exceeded (1000) for task \"a\": probably an cyclic dep or infinite loop\n",
        call_chain(1998)
    );
    for args in [&["a"][..], &["--dry", "a"][..]] {
        let (o, _) = task_in(d.path(), args, Duration::from_secs(120));
        assert_eq!(o.status.code(), Some(204), "{args:?}: {}", text(&o.stderr));
        assert_eq!(text(&o.stderr), want, "{args:?}");
    }
    if let Some(go) = gotask::require(".ci/install-e2e.sh") {
        let g = go_task_in(&go, d.path(), &["a"]);
        assert_eq!(g.status.code(), Some(204));
        assert_eq!(text(&g.stderr), want, "go-task's text changed");
    }
}

#[test]
fn mutual_recursion_in_a_small_thread_stack_still_ends_with_the_limit() {
    // Deps run on other threads than main; the limit must be reached there too.
    let d = project(&[(
        "Taskfile.yml",
        "version: '3'\ntasks:\n  top:\n    deps: [a]\n  a:\n    cmds:\n      - task: b\n  b:\n    cmds:\n      - task: a\n",
    )]);
    let (o, _) = task_in(d.path(), &["top"], Duration::from_secs(120));
    assert_eq!(o.status.code(), Some(204), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("Maximum task call exceeded (1000)"));
}

#[test]
fn flattened_include_calling_colon_name_is_not_found() {
    let d = project(&[
        (
            "Taskfile.yml",
            "version: '3'\nincludes:\n  inc:\n    taskfile: ./inc.yml\n    flatten: true\n",
        ),
        (
            "inc.yml",
            "version: '3'\ntasks:\n  test:\n    cmds:\n      - task: :test\n",
        ),
    ]);
    let (o, _) = task_in(d.path(), &["test"], Duration::from_secs(60));
    assert_eq!(o.status.code(), Some(200), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr)
            .starts_with("task: Failed to run task \"test\": task: Task \":test\" does not exist"),
        "{}",
        text(&o.stderr)
    );
    if let Some(go) = gotask::require(".ci/install-e2e.sh") {
        let g = go_task_in(&go, d.path(), &["test"]);
        assert_eq!(g.status.code(), Some(200));
        assert!(text(&g.stderr)
            .starts_with("task: Failed to run task \"test\": task: Task \":test\" does not exist"));
    }
}

#[test]
fn colon_names_resolve_from_included_files_only() {
    // go-task strips the leading `:` only when merging a namespaced include.
    let d = project(&[
        (
            "Taskfile.yml",
            "version: '3'\nincludes:\n  inc: ./inc.yml\ntasks:\n  x:\n    cmds: [echo x]\n  y:\n    cmds:\n      - task: :x\n",
        ),
        ("inc.yml", "version: '3'\ntasks:\n  v:\n    cmds:\n      - task: :x\n"),
    ]);
    let (o, _) = task_in(d.path(), &["inc:v"], Duration::from_secs(60));
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "x\n");
    let (o, _) = task_in(d.path(), &["y"], Duration::from_secs(60));
    assert_eq!(o.status.code(), Some(200));
    assert_eq!(
        text(&o.stderr),
        "task: Failed to run task \"y\": task: Task \":x\" does not exist\n"
    );
}

// ---- 5: YAML alias bombs ----------------------------------------------------------------

fn alias_bomb(indent: &str) -> String {
    let mut s = format!("{indent}a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    for i in 1..9 {
        s.push_str(&format!(
            "{indent}a{i}: &a{i} [{}]\n",
            vec![format!("*a{}", i - 1); 9].join(",")
        ));
    }
    s
}

#[test]
fn taskfile_alias_bomb_is_refused_like_go_task() {
    let tf = format!(
        "version: '3'\nvars:\n{}tasks:\n  default:\n    cmds: [echo hi]\n",
        alias_bomb("  ")
    );
    let d = project(&[("Taskfile.yml", &tf)]);
    let (o, took) = task_in(d.path(), &[], Duration::from_secs(30));
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(102), "{err}");
    let file = d.path().join("Taskfile.yml");
    let head = format!(
        "err:  yaml: document contains excessive aliasing\nfile: {}:6:7\n",
        file.display()
    );
    assert!(err.starts_with(&head), "{err}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    if let Some(go) = gotask::require(".ci/install-e2e.sh") {
        let g = go_task_in(&go, d.path(), &[]);
        assert_eq!(g.status.code(), Some(102));
        assert!(text(&g.stderr).starts_with(&head), "{}", text(&g.stderr));
    }
}

#[test]
fn chart_yaml_alias_bomb_is_refused() {
    let d = project(&[
        (
            "c/Chart.yaml",
            &format!(
                "apiVersion: v2\nname: c\nversion: 0.1.0\nannotations:\n  x: y\nbomb:\n{}",
                alias_bomb("  ")
            ),
        ),
        ("c/values.yaml", "{}\n"),
    ]);
    let mut cmd = Command::new(registry::helm_bin());
    cmd.args(["show", "chart", "c"])
        .current_dir(d.path())
        .env("HOME", d.path())
        .env("PATH", "/usr/bin:/bin");
    let (o, took) = run_limited(cmd, Duration::from_secs(30));
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("error converting YAML to JSON: yaml: document contains excessive aliasing"),
        "{err}"
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

// ---- a scriptable registry on loopback ----------------------------------------------------

/// One canned answer: status, extra headers, body (HEAD gets the headers only).
#[derive(Clone)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn ok(content_type: &str, body: Vec<u8>) -> Answer {
        Answer {
            status: 200,
            headers: vec![("Content-Type".into(), content_type.into())],
            body,
        }
    }
    fn header(mut self, k: &str, v: &str) -> Answer {
        self.headers.push((k.into(), v.into()));
        self
    }
}

enum Behaviour {
    /// Answer by path; unknown paths are 404.
    Routes(Vec<(String, Answer)>),
    /// Accept connections and never answer.
    Silent,
    /// Send a complete header block announcing a body, then stall.
    HeadersThenStall,
}

/// A registry on a free 127.0.0.1 port, served by one thread; stopped on drop.
struct FakeRegistry {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeRegistry {
    fn start(b: Behaviour) -> FakeRegistry {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let s2 = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut held: Vec<TcpStream> = Vec::new();
            // bounded: at most 10 minutes, whatever happens
            let deadline = Instant::now() + Duration::from_secs(600);
            while !s2.load(Ordering::SeqCst) && Instant::now() < deadline {
                let (mut sock, _) = match listener.accept() {
                    Ok(x) => x,
                    Err(_) => {
                        std::thread::sleep(Duration::from_millis(10));
                        continue;
                    }
                };
                sock.set_nonblocking(false).unwrap();
                sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                match &b {
                    Behaviour::Silent => held.push(sock),
                    Behaviour::HeadersThenStall => {
                        let _ = read_head(&mut sock);
                        let _ = sock.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: 1000\r\n\r\n{\"sch");
                        held.push(sock);
                    }
                    Behaviour::Routes(routes) => {
                        let Some((method, path)) = read_head(&mut sock) else {
                            continue;
                        };
                        let a = routes
                            .iter()
                            .find(|(p, _)| *p == path)
                            .map(|(_, a)| a.clone())
                            .unwrap_or(Answer {
                                status: 404,
                                headers: vec![("Content-Type".into(), "application/json".into())],
                                body: br#"{"errors":[{"code":"NOT_FOUND","message":"not here"}]}"#
                                    .to_vec(),
                            });
                        let mut head = format!(
                            "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                            a.status,
                            a.body.len()
                        );
                        for (k, v) in &a.headers {
                            head.push_str(&format!("{k}: {v}\r\n"));
                        }
                        head.push_str("\r\n");
                        let _ = sock.write_all(head.as_bytes());
                        if method != "HEAD" {
                            let _ = sock.write_all(&a.body);
                        }
                    }
                }
            }
        });
        FakeRegistry {
            port,
            stop,
            thread: Some(thread),
        }
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for FakeRegistry {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads a request head; returns (method, path without query).
fn read_head(sock: &mut TcpStream) -> Option<(String, String)> {
    let mut buf = Vec::new();
    let mut b = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") && buf.len() < 64 * 1024 {
        if sock.read(&mut b).ok()? == 0 {
            return None;
        }
        buf.push(b[0]);
    }
    let head = String::from_utf8_lossy(&buf);
    let mut parts = head.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.split('?').next()?.to_string();
    Some((method, path))
}

fn sha256(b: &[u8]) -> String {
    use sha2::Digest;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(b)))
}

/// A valid chart archive `c-1.0.0` (Chart.yaml only).
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

const CONFIG_MT: &str = "application/vnd.cncf.helm.config.v1+json";
const CHART_MT: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
const MANIFEST_MT: &str = "application/vnd.oci.image.manifest.v1+json";

/// Routes serving `ns/c:1.0.0` with `config` as the config blob; `tweak` edits the
/// manifest JSON (sizes, digests) before it is served.
fn chart_routes(
    config: &[u8],
    tweak: impl Fn(&mut serde_json::Value),
) -> (Vec<(String, Answer)>, String) {
    let chart = chart_tgz();
    let mut m = serde_json::json!({
        "schemaVersion": 2,
        "config": {"mediaType": CONFIG_MT, "digest": sha256(config), "size": config.len()},
        "layers": [{"mediaType": CHART_MT, "digest": sha256(&chart), "size": chart.len()}],
    });
    tweak(&mut m);
    let mbytes = serde_json::to_vec(&m).unwrap();
    let md = sha256(&mbytes);
    let routes = vec![
        (
            "/v2/ns/c/manifests/1.0.0".to_string(),
            Answer::ok(MANIFEST_MT, mbytes.clone()).header("Docker-Content-Digest", &md),
        ),
        (
            format!("/v2/ns/c/manifests/{md}"),
            Answer::ok(MANIFEST_MT, mbytes).header("Docker-Content-Digest", &md),
        ),
        (
            format!("/v2/ns/c/blobs/{}", sha256(config)),
            Answer::ok("application/octet-stream", config.to_vec()),
        ),
        (
            format!("/v2/ns/c/blobs/{}", sha256(&chart)),
            Answer::ok("application/octet-stream", chart),
        ),
        (
            "/v2/ns/c/tags/list".to_string(),
            Answer::ok(
                "application/json",
                br#"{"name":"ns/c","tags":["1.0.0"]}"#.to_vec(),
            ),
        ),
    ];
    (routes, md)
}

const GOOD_CONFIG: &[u8] = br#"{"name":"c","version":"1.0.0","apiVersion":"v2"}"#;

fn helm_pull(
    cwd: &Path,
    reference: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (Output, Duration) {
    let mut c = Command::new(registry::helm_bin());
    c.arg("pull")
        .arg(reference)
        .args(["--plain-http"])
        .args(extra)
        .current_dir(cwd)
        .env("HOME", cwd)
        .env("HELM_CONFIG_HOME", cwd.join(".helmcfg"))
        .env_remove("HELM_REGISTRY_CONFIG")
        .env_remove("DOCKER_CONFIG")
        .env_remove("OXTASK_REGISTRY_TIMEOUT")
        .env("PATH", "/usr/bin:/bin");
    for (k, v) in env {
        c.env(k, v);
    }
    run_limited(c, Duration::from_secs(120))
}

/// Every regular file under `dir`, relative, sorted (ignoring the helm config dir).
fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                if !p.ends_with(".helmcfg") {
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

// ---- 1: file names come from the reference ------------------------------------------------

#[test]
fn pull_names_the_file_from_the_reference_not_the_registrys_config() {
    let root = tempfile::tempdir().unwrap();
    let cwd = root.path().join("a/b");
    std::fs::create_dir_all(&cwd).unwrap();
    let evil = br#"{"name":"../../x","version":"1.0.0","apiVersion":"v2"}"#;
    let (routes, _) = chart_routes(evil, |_| {});
    let reg = FakeRegistry::start(Behaviour::Routes(routes));
    let (o, _) = helm_pull(
        &cwd,
        &format!("oci://{}/ns/c:1.0.0", reg.host()),
        &["-d", "out"],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(
        files_under(root.path()),
        vec!["a/b/out/c-1.0.0.tgz".to_string()]
    );
    // --version resolves the tag; the name is still the reference's
    let (o, _) = helm_pull(
        &cwd,
        &format!("oci://{}/ns/c", reg.host()),
        &["--version", "1.0.0", "-d", "v"],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(cwd.join("v/c-1.0.0.tgz").is_file());
    assert!(!root.path().join("x-1.0.0.tgz").exists());
}

// ---- 2: digests ---------------------------------------------------------------------------

#[test]
fn pull_refuses_a_manifest_that_does_not_match_docker_content_digest() {
    let d = tempfile::tempdir().unwrap();
    let (mut routes, _) = chart_routes(GOOD_CONFIG, |_| {});
    let wrong = sha256(b"something else");
    routes[0].1 = Answer {
        headers: vec![
            ("Content-Type".into(), MANIFEST_MT.into()),
            ("Docker-Content-Digest".into(), wrong.clone()),
        ],
        ..routes[0].1.clone()
    };
    let reg = FakeRegistry::start(Behaviour::Routes(routes));
    let (o, _) = helm_pull(
        d.path(),
        &format!("oci://{}/ns/c:1.0.0", reg.host()),
        &[],
        &[],
    );
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("Docker-Content-Digest")
            && err.contains("digest mismatch")
            && err.contains(&wrong),
        "{err}"
    );
    assert!(
        files_under(d.path()).is_empty(),
        "{:?}",
        files_under(d.path())
    );
}

#[test]
fn pull_by_digest_refuses_other_bytes() {
    let d = tempfile::tempdir().unwrap();
    let (mut routes, md) = chart_routes(GOOD_CONFIG, |_| {});
    // the digest URL serves a different (valid) manifest, without a header to compare
    let (other, _) = chart_routes(GOOD_CONFIG, |m| {
        m["annotations"] = serde_json::json!({"x": "y"})
    });
    routes[1].1 = Answer::ok(MANIFEST_MT, other[0].1.body.clone());
    let reg = FakeRegistry::start(Behaviour::Routes(routes));
    let (o, _) = helm_pull(
        d.path(),
        &format!("oci://{}/ns/c@{md}", reg.host()),
        &[],
        &[],
    );
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("digest mismatch: expected ") && err.contains(&md),
        "{err}"
    );
    assert!(files_under(d.path()).is_empty());
}

#[test]
fn pull_checks_each_blob_against_its_descriptor_size() {
    let d = tempfile::tempdir().unwrap();
    let (routes, _) = chart_routes(GOOD_CONFIG, |m| {
        let n = m["layers"][0]["size"].as_u64().unwrap();
        m["layers"][0]["size"] = (n - 1).into();
    });
    let reg = FakeRegistry::start(Behaviour::Routes(routes));
    let (o, _) = helm_pull(
        d.path(),
        &format!("oci://{}/ns/c:1.0.0", reg.host()),
        &[],
        &[],
    );
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("over the") || err.contains("where the manifest says"),
        "{err}"
    );
    assert!(files_under(d.path()).is_empty());
}

// ---- 3: size limits -----------------------------------------------------------------------

#[test]
fn pull_refuses_oversized_manifests_configs_and_tag_lists() {
    let d = tempfile::tempdir().unwrap();
    // a 5 MiB manifest (valid JSON: a long annotation)
    let (mut routes, _) = chart_routes(GOOD_CONFIG, |m| {
        m["annotations"] = serde_json::json!({"pad": "a".repeat(5 << 20)});
    });
    // the config descriptor claims 5 MiB
    let (cfg_routes, _) = chart_routes(GOOD_CONFIG, |m| m["config"]["size"] = (5u64 << 20).into());
    routes.push((
        "/v2/ns/big-config/manifests/1.0.0".into(),
        cfg_routes[0].1.clone(),
    ));
    // a 5 MiB tag list
    let tags: Vec<String> = (0..400_000).map(|i| format!("0.0.{i}")).collect();
    routes.push((
        "/v2/ns/many/tags/list".into(),
        Answer::ok(
            "application/json",
            serde_json::to_vec(&serde_json::json!({"name": "ns/many", "tags": tags})).unwrap(),
        ),
    ));
    let reg = FakeRegistry::start(Behaviour::Routes(routes));
    let (o, _) = helm_pull(
        d.path(),
        &format!("oci://{}/ns/c:1.0.0", reg.host()),
        &[],
        &[],
    );
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("manifest ns/c:1.0.0: over the 4194304-byte limit (refused)"),
        "{err}"
    );
    let (o, _) = helm_pull(
        d.path(),
        &format!("oci://{}/ns/big-config:1.0.0", reg.host()),
        &[],
        &[],
    );
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("config layer") && err.contains("over the 4194304-byte limit"),
        "{err}"
    );
    let (o, _) = helm_pull(d.path(), &format!("oci://{}/ns/many", reg.host()), &[], &[]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("tag list of ns/many: over the 4194304-byte limit"),
        "{err}"
    );
    assert!(files_under(d.path()).is_empty());
}

// ---- 4: timeouts --------------------------------------------------------------------------

#[test]
fn pull_gives_up_on_a_registry_that_never_answers() {
    let d = tempfile::tempdir().unwrap();
    for b in [Behaviour::Silent, Behaviour::HeadersThenStall] {
        let reg = FakeRegistry::start(b);
        let (o, took) = helm_pull(
            d.path(),
            &format!("oci://{}/ns/c:1.0.0", reg.host()),
            &[],
            &[("OXTASK_REGISTRY_TIMEOUT", "1")],
        );
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(
            err.contains("did not answer in time") && err.contains("OXTASK_REGISTRY_TIMEOUT"),
            "{err}"
        );
        assert!(took < Duration::from_secs(30), "took {took:?}");
        drop(reg);
    }
    assert!(files_under(d.path()).is_empty());
}

// ---- 8: credentials in references ---------------------------------------------------------

#[test]
fn passwords_in_references_are_never_echoed() {
    let d = tempfile::tempdir().unwrap();
    let reg = FakeRegistry::start(Behaviour::Routes(vec![]));
    for r in [
        format!("oci://bob:Sup3rSecretPW@{}/ns/c:1.0.0", reg.host()),
        format!("oci://bob:Sup3rSecretPW@{}/ns/c", reg.host()),
    ] {
        let (o, _) = helm_pull(
            d.path(),
            &r,
            &["--password", "OtherSecretPW", "--username", "bob"],
            &[],
        );
        let all = format!("{}{}", text(&o.stdout), text(&o.stderr));
        assert_eq!(o.status.code(), Some(1), "{all}");
        assert!(
            !all.contains("Sup3rSecretPW") && !all.contains("OtherSecretPW"),
            "{all}"
        );
        assert!(
            all.contains("credentials in a reference are not supported"),
            "{all}"
        );
    }
}

/// A one- or two-character password is still never echoed, and the rest of the message
/// is not shredded by masking every occurrence of its letters.
#[test]
fn short_passwords_are_masked_without_shredding_the_message() {
    let d = tempfile::tempdir().unwrap();
    let reg = FakeRegistry::start(Behaviour::Routes(vec![]));
    for pw in ["p", "e", "re"] {
        let r = format!("oci://bob:{pw}@{}/ns/c:1.0.0", reg.host());
        let (o, _) = helm_pull(d.path(), &r, &["--password", pw, "--username", "bob"], &[]);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(
            err.contains("credentials in a reference are not supported"),
            "{pw}: message shredded: {err}"
        );
        assert!(!err.contains(&format!(":{pw}@")), "{pw} leaked: {err}");
        assert!(!err.contains("xxxxxxxxxx"), "{pw}: {err}");
    }
}

// ---- 6: deeply nested templates -----------------------------------------------------------

fn nested_parens_taskfile(n: usize) -> String {
    format!(
        "version: '3'\ntasks:\n  default:\n    deps: [dep]\n    cmds:\n      - echo \"{{{{{p}1{q}}}}}\"\n  dep:\n    cmds:\n      - echo \"{{{{{p}2{q}}}}}\"\n",
        p = "(".repeat(n),
        q = ")".repeat(n)
    )
}

#[test]
fn ten_thousand_nested_parentheses_run_in_main_and_worker_threads() {
    let d = project(&[("Taskfile.yml", &nested_parens_taskfile(10_000))]);
    let (o, _) = task_in(d.path(), &["--silent"], Duration::from_secs(120));
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "2\n1\n");
}

#[test]
fn nesting_beyond_gos_limit_is_go_tasks_error() {
    let d = project(&[(
        "Taskfile.yml",
        &format!(
            "version: '3'\ntasks:\n  default:\n    cmds:\n      - echo \"{{{{{}1{}}}}}\"\n",
            "(".repeat(10_001),
            ")".repeat(10_001)
        ),
    )]);
    let (o, _) = task_in(d.path(), &[], Duration::from_secs(120));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert_eq!(
        text(&o.stderr),
        "template: :1: max expression depth exceeded\n"
    );
    if let Some(go) = gotask::require(".ci/install-e2e.sh") {
        let g = go_task_in(&go, d.path(), &[]);
        assert_eq!(g.status.code(), Some(1));
        assert_eq!(
            text(&g.stderr),
            "template: :1: max expression depth exceeded\n"
        );
    }
}

// ---- 9: background processes holding the output pipes --------------------------------------

#[test]
fn a_background_daemon_does_not_hold_prefixed_or_group_output() {
    for (mode, want) in [
        ("prefixed", "[default] started\n[default] next\n"),
        ("group", "started\nnext\n"),
    ] {
        let d = project(&[(
            "Taskfile.yml",
            &format!("version: '3'\noutput: {mode}\ntasks:\n  default:\n    cmds:\n      - sleep 600 & echo $! > daemon.pid; echo started\n      - echo next\n"),
        )]);
        let (o, took) = task_in(d.path(), &["--silent"], Duration::from_secs(60));
        // stop the daemon this test started
        if let Ok(pid) = std::fs::read_to_string(d.path().join("daemon.pid")) {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
        assert!(o.status.success(), "{mode}: {}", text(&o.stderr));
        assert_eq!(text(&o.stdout), want, "{mode}");
        assert!(took < Duration::from_secs(10), "{mode}: took {took:?}");
    }
}
