//! The shared task cache (issue 17, docs/cache.md): hits and misses between two clones of
//! one project, byte-identical restores, hostile entries (wrong digest, `..`, absolute
//! paths, a symlink pointing out, truncated blobs, paths outside `generates`), concurrent
//! writers, an unreachable or hanging backend (bounded, one warning), the OCI backend on
//! the CNCF distribution registry (`docker-registry`) with cosign-signed entries, and the
//! opt-in definition fingerprint.

#[path = "support/registry.rs"]
mod registry;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use oxtask::cache::{self, format, Backend, Entry, OutputFile};

const TASKFILE: &str = r#"version: '3'
tasks:
  build:
    sources: [src.txt]
    generates: [out/*.txt]
    cmds:
      - mkdir -p out && tr a-z A-Z < src.txt > out/up.txt && chmod 750 out/up.txt
      - printf '\001\002binary' > out/raw.txt
      - echo "ran" >> "$RUN_LOG"
      - echo built-stdout; echo built-stderr >&2
  other:
    sources: [src.txt]
    generates: [other.out]
    cmds:
      - cp src.txt other.out
      - echo "ran" >> "$RUN_LOG"
"#;

struct Clone {
    dir: PathBuf,
    log: PathBuf,
}

fn clone(base: &Path, name: &str) -> Clone {
    let dir = base.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("Taskfile.yml"), TASKFILE).unwrap();
    std::fs::write(dir.join("src.txt"), "hello cache\n").unwrap();
    Clone {
        log: base.join(format!("{name}.runs")),
        dir,
    }
}

impl Clone {
    fn task(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_task"));
        c.args(args)
            .current_dir(&self.dir)
            .env("NO_COLOR", "1")
            .env("RUN_LOG", &self.log)
            .env("HOME", &self.dir)
            .env("DOCKER_CONFIG", self.dir.join(".docker"))
            .env("HELM_REGISTRY_CONFIG", self.dir.join(".helm-registry.json"));
        for k in [
            "OXTASK_CACHE",
            "OXTASK_CACHE_MODE",
            "OXTASK_CACHE_VERIFY_KEY",
            "OXTASK_CACHE_SIGN_KEY",
            "OXTASK_CACHE_PLAIN_HTTP",
            "OXTASK_FINGERPRINT_DEFINITION",
            "OXTASK_CACHE_TIMEOUT",
            "OXTASK_CACHE_MAX_SIZE",
        ] {
            c.env_remove(k);
        }
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    }

    fn runs(&self) -> usize {
        std::fs::read_to_string(&self.log)
            .map(|s| s.lines().count())
            .unwrap_or(0)
    }

    fn outputs(&self) -> Vec<(String, u32, Vec<u8>)> {
        let mut v = vec![];
        let out = self.dir.join("out");
        if let Ok(rd) = std::fs::read_dir(&out) {
            for e in rd {
                let e = e.unwrap();
                let m = std::fs::symlink_metadata(e.path()).unwrap();
                v.push((
                    e.file_name().to_string_lossy().into_owned(),
                    m.permissions().mode() & 0o777,
                    std::fs::read(e.path()).unwrap_or_default(),
                ));
            }
        }
        v.sort();
        v
    }

    /// Forgets local state so only the cache can make the task current.
    fn wipe(&self) {
        let _ = std::fs::remove_dir_all(self.dir.join("out"));
        let _ = std::fs::remove_dir_all(self.dir.join(".task"));
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        text(&o.stdout),
        text(&o.stderr)
    );
}

/// The single entry file in a file:// cache, and its key.
fn only_entry(cache: &Path) -> (PathBuf, [u8; 32]) {
    let mut found = vec![];
    for d in std::fs::read_dir(cache.join("v1")).unwrap() {
        for f in std::fs::read_dir(d.unwrap().path()).unwrap() {
            found.push(f.unwrap().path());
        }
    }
    assert_eq!(found.len(), 1, "{found:?}");
    let name = found[0].file_name().unwrap().to_string_lossy().into_owned();
    let key: [u8; 32] = hex::decode(&name).unwrap().try_into().unwrap();
    (found[0].clone(), key)
}

#[test]
fn second_clone_restores_byte_identical_outputs_and_runs_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let url = format!("file://{}", store.display());
    let a = clone(tmp.path(), "a");
    let b = clone(tmp.path(), "b");

    let first = a.task(&["--cache", &url, "build"], &[]);
    ok(&first);
    assert_eq!(a.runs(), 1);
    assert!(text(&first.stdout).contains("built-stdout"));

    let second = b.task(&["--cache", &url, "build"], &[]);
    ok(&second);
    assert_eq!(b.runs(), 0, "{}", text(&second.stderr));
    assert_eq!(a.outputs(), b.outputs());
    assert_eq!(a.outputs().len(), 2);
    assert_eq!(a.outputs()[1].1, 0o750);
    // The output is replayed: stdout to stdout, stderr to stderr.
    assert_eq!(text(&second.stdout), "built-stdout\n");
    assert!(text(&second.stderr).contains("restored from cache"));
    assert!(text(&second.stderr).contains("built-stderr"));
    // Up to date locally afterwards (the fingerprint saw the restored files).
    let again = b.task(&["--cache", &url, "build"], &[]);
    ok(&again);
    assert!(text(&again.stderr).contains("is up to date"));

    // A changed source is a miss: the task runs.
    b.wipe();
    std::fs::write(b.dir.join("src.txt"), "changed\n").unwrap();
    ok(&b.task(&["--cache", &url, "build"], &[]));
    assert_eq!(b.runs(), 1);
    assert_eq!(
        std::fs::read(b.dir.join("out/up.txt")).unwrap(),
        b"CHANGED\n"
    );

    // A changed command is a miss too.
    a.wipe();
    let tf = TASKFILE.replace("echo built-stdout", "echo built-stdout-2");
    std::fs::write(a.dir.join("Taskfile.yml"), tf).unwrap();
    let o = a.task(&["--cache", &url, "build"], &[]);
    ok(&o);
    assert_eq!(a.runs(), 2);
    assert!(text(&o.stdout).contains("built-stdout-2"));
}

#[test]
fn read_mode_never_writes_and_force_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let url = format!("file://{}", store.display());
    let a = clone(tmp.path(), "a");
    ok(&a.task(&["--cache", &url, "--cache-mode", "read", "build"], &[]));
    assert!(std::fs::read_dir(store.join("v1"))
        .unwrap()
        .next()
        .is_none());
    a.wipe();
    ok(&a.task(&["build"], &[("OXTASK_CACHE", &url)]));
    assert_eq!(a.runs(), 2);
    a.wipe();
    ok(&a.task(&["--cache", &url, "--force", "build"], &[]));
    assert_eq!(a.runs(), 3, "--force runs the commands");
    a.wipe();
    ok(&a.task(
        &["build"],
        &[("OXTASK_CACHE", &url), ("OXTASK_CACHE_MODE", "read")],
    ));
    assert_eq!(a.runs(), 3, "a hit in read mode");
    let bad = a.task(
        &["--cache", &url, "--cache-mode", "sometimes", "build"],
        &[],
    );
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad.stderr).contains("invalid cache mode"));
}

#[test]
fn dry_status_and_json_report_hits() {
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("file://{}", tmp.path().join("store").display());
    let a = clone(tmp.path(), "a");
    let b = clone(tmp.path(), "b");
    ok(&a.task(&["--cache", &url, "build"], &[]));

    let st = b.task(&["--status", "build"], &[]);
    assert_ne!(
        st.status.code(),
        Some(0),
        "not up to date without the cache"
    );
    let st = b.task(&["--cache", &url, "--status", "build"], &[]);
    ok(&st);
    assert!(
        text(&st.stderr).contains("cached in"),
        "{}",
        text(&st.stderr)
    );

    let dry = b.task(&["--cache", &url, "--dry", "build"], &[]);
    ok(&dry);
    assert!(text(&dry.stderr).contains("would be restored from cache"));
    assert!(!b.dir.join("out").exists(), "--dry writes nothing");

    let js = b.task(&["--cache", &url, "--json", "--list-all"], &[]);
    ok(&js);
    let v: serde_json::Value = serde_json::from_slice(&js.stdout).unwrap();
    let tasks = v["tasks"].as_array().unwrap();
    let get = |n: &str| tasks.iter().find(|t| t["name"] == n).unwrap().clone();
    assert_eq!(get("build")["cached"], serde_json::json!(true));
    assert_eq!(get("other")["cached"], serde_json::json!(false));
    // Without --cache the JSON is go-task's (no extra key).
    let plain = b.task(&["--json", "--list-all"], &[]);
    assert!(!text(&plain.stdout).contains("\"cached\""));
    assert_eq!(b.runs(), 0);
}

/// Replaces the entry of `key` in a file:// store with `bytes`.
fn poison(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap();
}

fn entry_with(files: Vec<(&str, &[u8])>) -> Entry {
    Entry {
        files: files
            .into_iter()
            .map(|(p, c)| OutputFile {
                path: p.into(),
                mode: 0o644,
                content: c.to_vec(),
            })
            .collect(),
        stdout: b"POISON-STDOUT\n".to_vec(),
        stderr: vec![],
    }
}

/// An entry whose tree names `path` as written (no checks: what an attacker would store).
fn raw_entry(key_hex: &str, path: &str, content: &[u8]) -> Vec<u8> {
    let mut h = tar::Header::new_gnu();
    let name = &mut h.as_gnu_mut().unwrap().name;
    name[..path.len()].copy_from_slice(path.as_bytes());
    h.set_entry_type(tar::EntryType::Regular);
    h.set_size(content.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    let mut b = tar::Builder::new(Vec::new());
    b.append(&h, content).unwrap();
    let tree = b.into_inner().unwrap();
    let logs = format::encode_logs(&entry_with(vec![]));
    format::encode_entry_parts(key_hex, &tree, &logs)
}

#[test]
fn hostile_entries_are_ignored_and_the_task_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let url = format!("file://{}", store.display());
    let a = clone(tmp.path(), "a");
    ok(&a.task(&["--cache", &url, "build"], &[]));
    let (path, key) = only_entry(&store);
    let good = std::fs::read(&path).unwrap();
    let hexkey = hex::encode(key);
    let outside = tmp.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();

    let mut wrong_digest = good.clone();
    let n = wrong_digest.len();
    wrong_digest[n - 10] ^= 0x20;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("wrong digest", wrong_digest),
        ("truncated", good[..good.len() - 7].to_vec()),
        (
            "other key",
            format::encode_entry(
                &"0".repeat(64),
                &entry_with(vec![("out/up.txt", b"POISON")]),
            )
            .unwrap(),
        ),
        (
            "dot-dot",
            raw_entry(&hexkey, "out/../../outside/evil.txt", b"POISON"),
        ),
        (
            "absolute",
            raw_entry(
                &hexkey,
                outside.join("abs.txt").to_str().unwrap(),
                b"POISON",
            ),
        ),
        (
            "outside generates",
            format::encode_entry(&hexkey, &entry_with(vec![("Taskfile.yml", b"POISON")])).unwrap(),
        ),
    ];
    for (what, bytes) in cases {
        a.wipe();
        poison(&path, &bytes);
        let before = a.runs();
        let o = a.task(&["--cache", &url, "build"], &[]);
        ok(&o);
        assert_eq!(a.runs(), before + 1, "{what}: the task must run");
        assert!(
            text(&o.stderr).contains("cache entry ignored") || text(&o.stderr).contains("refused"),
            "{what}: {}",
            text(&o.stderr)
        );
        assert!(!text(&o.stdout).contains("POISON"), "{what}");
        assert_eq!(
            std::fs::read(a.dir.join("out/up.txt")).unwrap(),
            b"HELLO CACHE\n",
            "{what}"
        );
        assert!(
            std::fs::read_dir(&outside).unwrap().next().is_none(),
            "{what}"
        );
        assert!(std::fs::read_to_string(a.dir.join("Taskfile.yml"))
            .unwrap()
            .starts_with("version"));
    }

    // A symlink in the task dir pointing out: the restore must not write through it.
    a.wipe();
    std::os::unix::fs::symlink(&outside, a.dir.join("out")).unwrap();
    poison(
        &path,
        &format::encode_entry(&hexkey, &entry_with(vec![("out/up.txt", b"POISON")])).unwrap(),
    );
    let o = a.task(&["--cache", &url, "--cache-mode", "read", "build"], &[]);
    ok(&o);
    assert!(text(&o.stderr).contains("symlink"), "{}", text(&o.stderr));
    let written = std::fs::read(outside.join("up.txt")).unwrap_or_default();
    assert_ne!(written, b"POISON", "the cache wrote through a symlink");
    std::fs::remove_file(a.dir.join("out")).unwrap();
}

#[test]
fn restore_refuses_hostile_trees_before_writing_anything() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("task");
    std::fs::create_dir_all(&dir).unwrap();
    let gen = cache::Generates::new(&dir, &[("out/**/*".into(), false)]);
    // One good file then one bad one: nothing at all may be written.
    let e = entry_with(vec![("out/ok.txt", b"fine"), ("out/../../x", b"POISON")]);
    assert!(cache::restore(&dir, &e, &gen).is_err());
    assert!(!dir.join("out").exists());
    // A tar holding a symlink or a hard link is refused when decoded.
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    b.append_link(&mut h, "out/link", "/etc/passwd").unwrap();
    let t = b.into_inner().unwrap();
    assert!(format::decode_tree(&t).is_err());
    // A file and a directory of the same name.
    let e = entry_with(vec![("out/a", b"1"), ("out/a/b", b"2")]);
    assert!(cache::validate(&e, &gen).is_err());
    // Modes keep only the permission bits.
    let mut e = entry_with(vec![("out/s", b"x")]);
    e.files[0].mode = 0o4755;
    cache::restore(&dir, &e, &gen).unwrap();
    let m = std::fs::metadata(dir.join("out/s"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(m & 0o7777, 0o755);
}

#[test]
fn concurrent_writers_of_one_key() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let be = std::sync::Arc::new(cache::file::FileBackend::open(&store, None).unwrap());
    let key = [7u8; 32];
    let entry = entry_with(vec![("out/a.txt", &[9u8; 100_000])]);
    std::thread::scope(|s| {
        for i in 0..8 {
            let be = be.clone();
            let entry = entry.clone();
            s.spawn(move || {
                for _ in 0..20 {
                    if i % 2 == 0 {
                        be.put(&key, &entry).unwrap();
                    } else {
                        // Readers see nothing or the whole entry, never half of one.
                        match be.get(&key) {
                            Ok(None) => {}
                            Ok(Some(e)) => assert_eq!(e, entry),
                            Err(e) => panic!("reader saw a broken entry: {e}"),
                        }
                    }
                }
            });
        }
    });
    assert_eq!(be.get(&key).unwrap(), Some(entry));
    // No temp files left behind.
    let dir = be.path_of(&key).parent().unwrap().to_path_buf();
    assert_eq!(std::fs::read_dir(dir).unwrap().count(), 1);

    // Two clones running the same task at once into one store.
    let url = format!("file://{}", tmp.path().join("store2").display());
    let a = clone(tmp.path(), "a");
    let b = clone(tmp.path(), "b");
    let (oa, ob) = std::thread::scope(|s| {
        let ha = s.spawn(|| a.task(&["--cache", &url, "build"], &[]));
        let hb = s.spawn(|| b.task(&["--cache", &url, "build"], &[]));
        (ha.join().unwrap(), hb.join().unwrap())
    });
    ok(&oa);
    ok(&ob);
    let c = clone(tmp.path(), "c");
    ok(&c.task(&["--cache", &url, "build"], &[]));
    assert_eq!(c.runs(), 0);
    assert_eq!(c.outputs(), a.outputs());
}

fn warnings(o: &Output) -> usize {
    text(&o.stderr).matches("warning: cache").count()
}

#[test]
fn unreachable_backend_costs_one_warning_and_the_run_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    let a = clone(tmp.path(), "a");
    let port = registry::free_port();
    let start = Instant::now();
    let o = a.task(
        &[
            "--cache",
            &format!("oci://127.0.0.1:{port}/x/cache"),
            "build",
            "other",
        ],
        &[],
    );
    ok(&o);
    assert!(start.elapsed() < Duration::from_secs(20));
    assert_eq!(warnings(&o), 1, "{}", text(&o.stderr));
    assert_eq!(a.runs(), 2);

    // A file:// store that cannot be made.
    a.wipe();
    std::fs::write(tmp.path().join("plainfile"), "x").unwrap();
    let o = a.task(
        &[
            "--cache",
            &format!("file://{}/sub", tmp.path().join("plainfile").display()),
            "build",
            "other",
        ],
        &[],
    );
    ok(&o);
    assert_eq!(warnings(&o), 1, "{}", text(&o.stderr));

    // Credentials in the URL are refused, and never echoed.
    a.wipe();
    let o = a.task(
        &[
            "--cache",
            &format!("oci://bob:s3cr3t-pw@127.0.0.1:{port}/x"),
            "build",
        ],
        &[],
    );
    ok(&o);
    assert!(
        !text(&o.stderr).contains("s3cr3t-pw"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(warnings(&o), 1);
}

#[test]
fn hanging_backend_is_bounded() {
    // Accepts connections and never answers.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut keep = vec![];
        for c in l.incoming() {
            keep.push(c);
        }
    });
    let tmp = tempfile::tempdir().unwrap();
    let a = clone(tmp.path(), "a");
    let start = Instant::now();
    let o = a.task(
        &[
            "--cache",
            &format!("oci://127.0.0.1:{port}/x/cache"),
            "build",
            "other",
        ],
        &[],
    );
    let took = start.elapsed();
    ok(&o);
    assert_eq!(warnings(&o), 1, "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("no answer"), "{}", text(&o.stderr));
    // The registry client's own timeouts are 30 s and more: the cache's budget is 1.5 s.
    assert!(took < Duration::from_secs(15), "took {took:?}");
    assert!(
        text(&o.stderr).contains("no answer within 1.5s"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(a.runs(), 2);

    // The budget is a setting: flag, then environment.
    a.wipe();
    let url = format!("oci://127.0.0.1:{port}/x/cache");
    let o = a.task(&["--cache", &url, "--cache-timeout", "300ms", "build"], &[]);
    ok(&o);
    assert!(
        text(&o.stderr).contains("no answer within 300ms"),
        "{}",
        text(&o.stderr)
    );
    a.wipe();
    let o = a.task(
        &["--cache", &url, "build"],
        &[("OXTASK_CACHE_TIMEOUT", "700ms")],
    );
    ok(&o);
    assert!(
        text(&o.stderr).contains("no answer within 700ms"),
        "{}",
        text(&o.stderr)
    );
    // A bad value is an error before anything runs.
    a.wipe();
    let o = a.task(&["--cache", &url, "--cache-timeout", "soon", "build"], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("invalid cache timeout \"soon\""),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(a.runs(), 4, "a bad timeout runs nothing");
}

/// Entry files of a file:// store.
fn entries(store: &Path) -> Vec<PathBuf> {
    let mut found = vec![];
    for d in std::fs::read_dir(store.join("v1")).unwrap() {
        for f in std::fs::read_dir(d.unwrap().path()).unwrap() {
            found.push(f.unwrap().path());
        }
    }
    found.sort();
    found
}

#[test]
fn file_store_is_pruned_to_its_size_bound_least_recently_used_first() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let url = format!("file://{}", store.display());
    let a = clone(tmp.path(), "a");
    // Three entries of the same task: one per source content.
    let mut sizes = vec![];
    for (i, src) in ["one\n", "two\n", "three\n"].iter().enumerate() {
        a.wipe();
        std::fs::write(a.dir.join("src.txt"), src).unwrap();
        ok(&a.task(&["--cache", &url, "build"], &[]));
        let e = entries(&store);
        assert_eq!(e.len(), i + 1);
        sizes.push(
            e.iter()
                .map(|p| std::fs::metadata(p).unwrap().len())
                .sum::<u64>(),
        );
    }
    // Ages the entries explicitly (no reliance on the clock's resolution): "one" oldest.
    let by_content = |c: &str| -> PathBuf {
        a.wipe();
        std::fs::write(a.dir.join("src.txt"), c).unwrap();
        let o = a.task(&["--cache", &url, "--dry", "build"], &[]);
        ok(&o);
        assert!(
            text(&o.stderr).contains("would be restored"),
            "{}",
            text(&o.stderr)
        );
        let before = entries(&store);
        // The --dry lookup names no file; find the entry by restoring into a scratch copy.
        before
            .into_iter()
            .find(|p| {
                let data = std::fs::read(p).unwrap();
                let needle = c.trim().to_uppercase();
                data.windows(needle.len()).any(|w| w == needle.as_bytes())
            })
            .unwrap()
    };
    let (one, two, three) = (
        by_content("one\n"),
        by_content("two\n"),
        by_content("three\n"),
    );
    let t = |secs: u64| std::time::UNIX_EPOCH + Duration::from_secs(secs);
    for (p, secs) in [(&one, 1_000_000), (&two, 2_000_000), (&three, 3_000_000)] {
        let f = std::fs::File::options().write(true).open(p).unwrap();
        f.set_modified(t(secs)).unwrap();
    }
    // A hit under a size bound marks its entry used: "one" becomes the most recent.
    a.wipe();
    std::fs::write(a.dir.join("src.txt"), "one\n").unwrap();
    let o = a.task(&["--cache", &url, "--cache-max-size", "1GiB", "build"], &[]);
    ok(&o);
    assert!(text(&o.stderr).contains("restored from cache"));
    assert!(std::fs::metadata(&one).unwrap().modified().unwrap() > t(3_000_000));
    assert_eq!(entries(&store).len(), 3, "nothing stored, nothing pruned");

    // A fourth entry with a bound that holds about three: the least recently used ("two") goes.
    let each = sizes[0];
    let bound = (3 * each + each / 2).to_string();
    a.wipe();
    std::fs::write(a.dir.join("src.txt"), "four\n").unwrap();
    ok(&a.task(
        &["--cache", &url, "build"],
        &[("OXTASK_CACHE_MAX_SIZE", &bound)],
    ));
    let left = entries(&store);
    assert_eq!(left.len(), 3, "{left:?}");
    assert!(!two.exists(), "the least recently used entry is pruned");
    assert!(one.exists() && three.exists());
    let total: u64 = left
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    assert!(total <= 3 * each + each / 2, "{total} > bound");

    // Without a bound nothing is ever deleted.
    for c in ["five\n", "six\n"] {
        a.wipe();
        std::fs::write(a.dir.join("src.txt"), c).unwrap();
        ok(&a.task(&["--cache", &url, "build"], &[]));
    }
    assert_eq!(entries(&store).len(), 5);

    // A bad size is refused before anything runs.
    let runs = a.runs();
    let o = a.task(&["--cache", &url, "--cache-max-size", "lots", "build"], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("invalid cache max size"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(a.runs(), runs);
}

#[test]
fn oci_backend_on_the_distribution_registry() {
    let Some(reg) = registry::start_registry(None) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("oci://{}/oxtask/cache", reg.host());
    let a = clone(tmp.path(), "a");
    let b = clone(tmp.path(), "b");
    ok(&a.task(&["--cache", &url, "build"], &[]));
    assert_eq!(a.runs(), 1);
    let o = b.task(&["--cache", &url, "build"], &[]);
    ok(&o);
    assert_eq!(b.runs(), 0, "{}", text(&o.stderr));
    assert_eq!(a.outputs(), b.outputs());
    assert_eq!(text(&o.stdout), "built-stdout\n");

    // The artifact as the registry holds it, under the key a file:// store also uses.
    let fstore = tmp.path().join("fs");
    let c = clone(tmp.path(), "c");
    ok(&c.task(
        &["--cache", &format!("file://{}", fstore.display()), "build"],
        &[],
    ));
    let (_, key) = only_entry(&fstore);
    let be = cache::oci::OciBackend::connect(&url, &cache::Settings::default()).unwrap();
    let e = be.get(&key).unwrap().unwrap();
    assert_eq!(e.files.len(), 2);
    // Forced plain HTTP works the same.
    b.wipe();
    let o = b.task(&["--cache", &url, "--cache-plain-http", "build"], &[]);
    ok(&o);
    assert_eq!(b.runs(), 0);
}

/// Stores `e` through the library (the attacker's write). Retried: this is set-up, and a
/// loaded machine can push one call past the cache's 1.5 s budget.
fn put_retrying(url: &str, s: &cache::Settings, k: &[u8; 32], e: &Entry) {
    let mut last = String::new();
    for _ in 0..3 {
        match cache::oci::OciBackend::connect(url, s).and_then(|b| b.put(k, e)) {
            Ok(()) => return,
            Err(err) => last = err.to_string(),
        }
    }
    panic!("storing the attacker's entry: {last}");
}

#[test]
fn signed_entries_and_a_poisoned_unsigned_entry() {
    let Some(reg) = registry::start_registry(None) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    // A cosign key pair (our native cosign writes cosign's format).
    let keys = tmp.path().join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let link = keys.join("cosign");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_task"), &link).unwrap();
    let g = Command::new(&link)
        .arg("generate-key-pair")
        .current_dir(&keys)
        .env("COSIGN_PASSWORD", "pw")
        .output()
        .unwrap();
    ok(&g);
    let (key, pubkey) = (keys.join("cosign.key"), keys.join("cosign.pub"));
    let signed = format!("oci://{}/oxtask/signed", reg.host());
    let a = clone(tmp.path(), "a");
    let b = clone(tmp.path(), "b");
    ok(&a.task(
        &[
            "--cache",
            &signed,
            "--cache-sign-key",
            key.to_str().unwrap(),
            "build",
        ],
        &[("COSIGN_PASSWORD", "pw")],
    ));
    let o = b.task(
        &[
            "--cache",
            &signed,
            "--cache-verify-key",
            pubkey.to_str().unwrap(),
            "build",
        ],
        &[],
    );
    ok(&o);
    assert_eq!(b.runs(), 0, "{}", text(&o.stderr));
    assert_eq!(a.outputs(), b.outputs());

    // Someone without the key overwrites the signed entry's tag with their own entry:
    // the signature names the old manifest, so the new one is never restored.
    let fstore = tmp.path().join("fs");
    let c = clone(tmp.path(), "c");
    ok(&c.task(
        &["--cache", &format!("file://{}", fstore.display()), "build"],
        &[],
    ));
    let (_, k) = only_entry(&fstore);
    let poisoned = entry_with(vec![("out/up.txt", b"POISON")]);
    let unsigned = signed.clone();
    put_retrying(&unsigned, &cache::Settings::default(), &k, &poisoned);
    b.wipe();
    let o = b.task(
        &[
            "--cache",
            &unsigned,
            "--cache-verify-key",
            pubkey.to_str().unwrap(),
            "build",
        ],
        &[],
    );
    ok(&o);
    assert!(
        text(&o.stderr).contains("not signed"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(b.runs(), 1);
    assert_eq!(
        std::fs::read(b.dir.join("out/up.txt")).unwrap(),
        b"HELLO CACHE\n"
    );
    // (Without a verify key the overwritten tag is what a reader gets: the check above
    // is what stood in the way.)
    b.wipe();
    ok(&b.task(
        &["--cache", &unsigned, "--cache-mode", "read", "build"],
        &[],
    ));
    assert_eq!(b.runs(), 1);
    assert_eq!(std::fs::read(b.dir.join("out/up.txt")).unwrap(), b"POISON");

    // Signed by another key: refused too.
    let other = tmp.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    ok(&Command::new(&link)
        .arg("generate-key-pair")
        .current_dir(&other)
        .env("COSIGN_PASSWORD", "")
        .output()
        .unwrap());
    let mallory = format!("oci://{}/oxtask/mallory", reg.host());
    std::env::set_var("COSIGN_PASSWORD", "");
    let s = cache::Settings {
        sign_key: Some(other.join("cosign.key").to_string_lossy().into_owned()),
        ..Default::default()
    };
    put_retrying(&mallory, &s, &k, &poisoned);
    b.wipe();
    let o = b.task(
        &[
            "--cache",
            &mallory,
            "--cache-verify-key",
            pubkey.to_str().unwrap(),
            "build",
        ],
        &[],
    );
    ok(&o);
    assert!(
        text(&o.stderr).contains("not signed"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(b.runs(), 2);

    // The signer (verifying too) refuses the overwritten entry, runs, and replaces it with
    // a signed one that readers restore again.
    a.wipe();
    ok(&a.task(
        &[
            "--cache",
            &signed,
            "--cache-sign-key",
            key.to_str().unwrap(),
            "--cache-verify-key",
            pubkey.to_str().unwrap(),
            "build",
        ],
        &[("COSIGN_PASSWORD", "pw")],
    ));
    assert_eq!(a.runs(), 2);
    b.wipe();
    let before = b.runs();
    let o = b.task(
        &[
            "--cache",
            &signed,
            "--cache-verify-key",
            pubkey.to_str().unwrap(),
            "build",
        ],
        &[],
    );
    ok(&o);
    assert_eq!(b.runs(), before, "{}", text(&o.stderr));
    assert_eq!(
        std::fs::read(b.dir.join("out/up.txt")).unwrap(),
        b"HELLO CACHE\n"
    );
}

#[test]
fn definition_fingerprint_is_opt_in() {
    let tmp = tempfile::tempdir().unwrap();
    let a = clone(tmp.path(), "a");
    ok(&a.task(&["build"], &[]));
    let edited = TASKFILE.replace("echo built-stdout", "echo edited");
    std::fs::write(a.dir.join("Taskfile.yml"), &edited).unwrap();
    // go-task's behaviour: an edited command does not make the task stale.
    let o = a.task(&["build"], &[]);
    ok(&o);
    assert!(text(&o.stderr).contains("is up to date"));
    assert_eq!(a.runs(), 1);
    // Opted in: the first run records the definition, an edit makes the task stale.
    let on = [("OXTASK_FINGERPRINT_DEFINITION", "1")];
    ok(&a.task(&["build"], &on));
    assert_eq!(a.runs(), 2);
    let o = a.task(&["build"], &on);
    assert!(text(&o.stderr).contains("is up to date"));
    std::fs::write(a.dir.join("Taskfile.yml"), TASKFILE).unwrap();
    let o = a.task(&["--fingerprint-definition", "build"], &[]);
    ok(&o);
    assert_eq!(a.runs(), 3, "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("built-stdout"));
    let o = a.task(&["--status", "--fingerprint-definition", "build"], &[]);
    ok(&o);
}
