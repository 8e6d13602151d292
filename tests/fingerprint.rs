//! Up-to-date checks against go-task's recorded behaviour: the checksum files of the
//! conformance corpus are recomputed from the same fixtures and compared with the hashes
//! the harness recorded (sha256 of the file, first 16 hex digits), then the check flows
//! (write/skip/dry/failure, timestamp, generates, excludes, gitignore, cache) on fixtures
//! built here.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use oxtask::run::fingerprint::{
    self, expand_globs, for_items, Fingerprint, GlobSpec, Method, SpecialVar,
};
use sha2::{Digest, Sha256};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/corpus")
}

/// The harness's file hash (`run_conformance.py` `sha()`).
fn harness_hash(data: &[u8]) -> String {
    let d = Sha256::digest(data);
    d.iter().map(|b| format!("{b:02x}")).collect::<String>()[..16].to_string()
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(e.path()).unwrap(), &dst).unwrap();
        } else if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dst);
        } else {
            fs::write(&dst, fs::read(e.path()).unwrap()).unwrap();
        }
    }
}

/// A writable copy of a corpus fixture.
fn fixture(case: &str) -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("fixture");
    copy_tree(&corpus().join(case).join("fixture"), &root);
    (t, root)
}

fn expected_hash(case: &str, step: usize, file: &str) -> String {
    let text = fs::read_to_string(corpus().join(case).join("expected.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["steps"][step]["files"][file]
        .as_str()
        .unwrap_or_else(|| panic!("{case}: no {file} in step {step}"))
        .to_string()
}

fn inc(p: &str) -> GlobSpec {
    GlobSpec::include(p)
}

fn exc(p: &str) -> GlobSpec {
    GlobSpec::exclude(p)
}

struct Task<'a> {
    name: &'a str,
    dir: PathBuf,
    sources: Vec<GlobSpec>,
    generates: Vec<GlobSpec>,
    method: Method,
    temp: PathBuf,
    dry: bool,
    gitignore: bool,
}

impl<'a> Task<'a> {
    fn new(name: &'a str, dir: &Path, sources: Vec<GlobSpec>) -> Self {
        Task {
            name,
            dir: dir.to_path_buf(),
            sources,
            generates: vec![],
            method: Method::Checksum,
            temp: dir.join(".task"),
            dry: false,
            gitignore: false,
        }
    }

    fn fp(&self) -> Fingerprint<'_> {
        Fingerprint {
            task: self.name,
            name: self.name,
            dir: &self.dir,
            sources: &self.sources,
            generates: &self.generates,
            method: &self.method,
            temp_dir: &self.temp,
            dry: self.dry,
            use_gitignore: self.gitignore,
        }
    }

    /// Runs the check, then returns the harness hash of the checksum file.
    fn check_and_hash(&self) -> (bool, String) {
        let up = self.fp().is_up_to_date().unwrap();
        let data = fs::read(self.fp().checksum_file()).unwrap();
        (up, harness_hash(&data))
    }
}

#[test]
fn corpus_checksum_build_with_excludes_and_missing_glob() {
    let (_t, root) = fixture("checksum_build");
    let task = Task::new(
        "build",
        &root,
        vec![
            inc("./**/glob-with-inexistent-file.txt"),
            inc("./*.txt"),
            exc("./ignore_me.txt"),
            exc("./generated.txt"),
        ],
    );
    let (up, h) = task.check_and_hash();
    assert!(!up);
    assert_eq!(
        h,
        expected_hash("checksum_build", 0, ".task/checksum/build")
    );
    assert_eq!(
        h,
        expected_hash("status_flag_after_build", 0, ".task/checksum/build")
    );
    // generated.txt is excluded, so creating it keeps the task up to date.
    fs::write(
        root.join("generated.txt"),
        fs::read(root.join("source.txt")).unwrap(),
    )
    .unwrap();
    let mut task = task;
    task.generates = vec![inc("./generated.txt")];
    assert!(task.fp().is_up_to_date().unwrap());
    // checksum_missing_generated: a deleted output makes it run again.
    fs::remove_file(root.join("generated.txt")).unwrap();
    assert!(!task.fp().is_up_to_date().unwrap());
}

#[test]
fn corpus_single_source_and_labels() {
    let (_t, root) = fixture("checksum_build_wildcard");
    let task = Task::new("build-wildcard", &root, vec![inc("./source.txt")]);
    let (_, h) = task.check_and_hash();
    assert_eq!(
        h,
        expected_hash(
            "checksum_build_wildcard",
            0,
            ".task/checksum/build-wildcard"
        )
    );

    let (_t, root) = fixture("dry_checksum");
    let mut task = Task::new("default", &root, vec![inc("source.txt")]);
    task.dry = true;
    assert!(!task.fp().is_up_to_date().unwrap());
    assert!(!root.join(".task").exists(), "--dry writes no state");
    task.dry = false;
    let (_, h) = task.check_and_hash();
    assert_eq!(
        h,
        expected_hash("dry_checksum", 1, ".task/checksum/default")
    );
}

#[test]
fn corpus_checksum_var_value() {
    // status_vars prints {{.CHECKSUM}} through a status command.
    let (_t, root) = fixture("status_vars");
    let task = Task::new("build-checksum", &root, vec![inc("./source.txt")]);
    assert_eq!(
        task.fp().special_var().unwrap(),
        Some(SpecialVar::Checksum(
            "3e464c4b03f4b65d740e1e130d4d108a".into()
        ))
    );
    let (_, h) = task.check_and_hash();
    assert_eq!(
        h,
        expected_hash("status_vars", 0, ".task/checksum/build-checksum")
    );
}

#[test]
fn corpus_status_sequence_empty_then_created_sources() {
    let (_t, root) = fixture("status_sequence");
    let task = Task::new("gen-foo", &root, vec![inc("./foo.txt")]);
    // No source file yet: the checksum of nothing.
    let (_, h) = task.check_and_hash();
    assert_eq!(
        h,
        expected_hash("status_sequence", 0, ".task/checksum/gen-foo")
    );
    fs::write(root.join("foo.txt"), b"").unwrap();
    let (up, h) = task.check_and_hash();
    assert!(!up);
    assert_eq!(
        h,
        expected_hash("status_sequence", 6, ".task/checksum/gen-foo")
    );
    assert!(task.fp().is_up_to_date().unwrap());
}

#[test]
fn corpus_globstar_sources() {
    for case in ["syn_sources_checksum", "syn_sources_env_temp_dir"] {
        let (_t, root) = fixture(case);
        let mut task = Task::new("cs", &root, vec![inc("src/**/*.txt")]);
        task.generates = vec![inc("out/cs.txt")];
        if case == "syn_sources_env_temp_dir" {
            task.temp = root.join("envtmp");
        }
        let (up, h) = task.check_and_hash();
        assert!(!up);
        let state = if case == "syn_sources_checksum" {
            ".task/checksum/cs"
        } else {
            "envtmp/checksum/cs"
        };
        assert_eq!(h, expected_hash(case, 0, state));
        if case == "syn_sources_checksum" {
            // Sources unchanged but out/cs.txt missing: not up to date.
            assert!(!task.fp().is_up_to_date().unwrap());
            fs::create_dir_all(root.join("out")).unwrap();
            fs::write(root.join("out/cs.txt"), b"x").unwrap();
            assert!(task.fp().is_up_to_date().unwrap());
            fs::write(root.join("src/deep/c.txt"), b"changed\n").unwrap();
            let (up, h) = task.check_and_hash();
            assert!(!up);
            assert_eq!(h, expected_hash(case, 3, ".task/checksum/cs"));
            assert!(task.fp().is_up_to_date().unwrap());
        }
    }
}

#[test]
fn corpus_symlinked_directories_are_followed() {
    // src/shared is a symlink to ../shared in the corpus copy.
    let (_t, root) = fixture("evaluate_symlinks");
    assert!(fs::symlink_metadata(root.join("src/shared"))
        .unwrap()
        .file_type()
        .is_symlink());
    let task = Task::new("default", &root, vec![inc("src/**/*")]);
    let (_, h) = task.check_and_hash();
    assert_eq!(
        h,
        expected_hash("evaluate_symlinks", 0, ".task/checksum/default")
    );
    fs::write(root.join("src/shared/b"), b"shared file source changed\n").unwrap();
    let (up, h) = task.check_and_hash();
    assert!(!up);
    assert_eq!(
        h,
        expected_hash("evaluate_symlinks", 2, ".task/checksum/default")
    );
    assert!(task.fp().is_up_to_date().unwrap());
}

#[test]
fn corpus_gitignore_cases() {
    // gitignore_checksum
    let (_t, root) = fixture("gitignore_checksum");
    fs::create_dir_all(root.join(".git")).unwrap();
    fs::write(root.join("ignored.txt"), "ignored\n").unwrap();
    let mut task = Task::new("build", &root, vec![inc("./*.txt"), exc("./generated.txt")]);
    task.gitignore = true;
    let (_, h) = task.check_and_hash();
    assert_eq!(
        h,
        expected_hash("gitignore_checksum", 0, ".task/checksum/build")
    );
    fs::write(root.join("ignored.txt"), "ignored modified\n").unwrap();
    assert!(task.fp().is_up_to_date().unwrap());
    fs::write(root.join("source.txt"), "source modified\n").unwrap();
    let (up, h) = task.check_and_hash();
    assert!(!up);
    assert_eq!(
        h,
        expected_hash("gitignore_checksum", 3, ".task/checksum/build")
    );
    // Without use_gitignore the ignored file counts.
    task.gitignore = false;
    assert!(!task.fp().is_up_to_date().unwrap());

    // gitignore_negation: sub/.gitignore re-includes debug.log
    let (_t, root) = fixture("gitignore_negation");
    fs::create_dir_all(root.join(".git")).unwrap();
    fs::write(root.join("sub/debug.log"), "debug\n").unwrap();
    fs::write(root.join("sub/other.log"), "other\n").unwrap();
    let mut task = Task::new("build", &root, vec![inc("./sub/*.log")]);
    task.gitignore = true;
    let (_, h) = task.check_and_hash();
    assert_eq!(
        h,
        expected_hash("gitignore_negation", 0, ".task/checksum/build")
    );
    fs::write(root.join("sub/other.log"), "other modified\n").unwrap();
    assert!(task.fp().is_up_to_date().unwrap());
    fs::write(root.join("sub/debug.log"), "debug modified\n").unwrap();
    let (up, h) = task.check_and_hash();
    assert!(!up);
    assert_eq!(
        h,
        expected_hash("gitignore_negation", 3, ".task/checksum/build")
    );

    // gitignore_nested
    let (_t, root) = fixture("gitignore_nested");
    fs::create_dir_all(root.join(".git")).unwrap();
    fs::write(root.join("sub/secret.dat"), "secret\n").unwrap();
    let mut task = Task::new("build", &root, vec![inc("./sub/*")]);
    task.gitignore = true;
    let (_, h) = task.check_and_hash();
    assert_eq!(
        h,
        expected_hash("gitignore_nested", 0, ".task/checksum/build")
    );
    fs::write(root.join("sub/secret.dat"), "secret modified\n").unwrap();
    assert!(task.fp().is_up_to_date().unwrap());
    fs::write(root.join("sub/keep.txt"), "keep modified\n").unwrap();
    let (_, h) = task.check_and_hash();
    assert_eq!(
        h,
        expected_hash("gitignore_nested", 3, ".task/checksum/build")
    );

    // gitignore_included: the included task runs in the root dir, state named ns-task.
    let (_t, root) = fixture("gitignore_included");
    fs::create_dir_all(root.join(".git")).unwrap();
    fs::write(root.join("ignored.txt"), "ignored\n").unwrap();
    let mut task = Task::new("included:build", &root, vec![inc("./*.txt")]);
    task.gitignore = true;
    let (_, h) = task.check_and_hash();
    assert_eq!(
        h,
        expected_hash("gitignore_included", 0, ".task/checksum/included-build")
    );
}

#[test]
fn failure_removes_checksum_and_methods_behave() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    fs::write(root.join("a.txt"), "a").unwrap();
    let mut task = Task::new("x:y", root, vec![inc("*.txt")]);
    assert!(!task.fp().is_up_to_date().unwrap());
    let f = task.fp().checksum_file();
    assert_eq!(f, root.join(".task/checksum/x-y"));
    assert!(f.exists());
    task.fp().on_task_failed().unwrap();
    assert!(!f.exists());
    assert!(
        !task.fp().is_up_to_date().unwrap(),
        "forgotten after a failure"
    );

    task.method = Method::None;
    assert!(!task.fp().is_up_to_date().unwrap());
    assert!(!task.fp().is_up_to_date().unwrap());
    assert_eq!(task.fp().special_var().unwrap(), None);

    task.method = Method::from_name("checksums");
    let err = task.fp().is_up_to_date().unwrap_err();
    assert_eq!(err.to_string(), "task: invalid method \"checksums\"");
    assert!(task.fp().validate_method().is_err());
    assert_eq!(task.fp().special_var().unwrap(), None);
}

fn set_mtime(p: &Path, t: SystemTime) {
    fs::File::options()
        .write(true)
        .open(p)
        .unwrap()
        .set_times(fs::FileTimes::new().set_modified(t).set_accessed(t))
        .unwrap();
}

#[test]
fn timestamp_method() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    let now = SystemTime::now();
    fs::write(root.join("src.txt"), "s").unwrap();
    set_mtime(&root.join("src.txt"), now - Duration::from_secs(100));
    let mut task = Task::new("ts", root, vec![inc("src.txt")]);
    task.method = Method::Timestamp;
    task.generates = vec![inc("out.txt")];
    // No output yet: runs, and no timestamp file is made before generates exist.
    assert!(!task.fp().is_up_to_date().unwrap());
    assert!(!task.fp().timestamp_file().exists());
    fs::write(root.join("out.txt"), "o").unwrap();
    set_mtime(&root.join("out.txt"), now - Duration::from_secs(50));
    assert!(task.fp().is_up_to_date().unwrap());
    let ts = task.fp().timestamp_file();
    assert_eq!(ts, root.join(".task/timestamp/ts"));
    assert_eq!(fs::read(&ts).unwrap(), b"", "an empty marker file");
    // A source newer than every output and the marker: runs.
    set_mtime(&root.join("src.txt"), now + Duration::from_secs(10));
    assert!(!task.fp().is_up_to_date().unwrap());
    // The marker was touched by that check, so a source older than it is fine.
    set_mtime(&root.join("src.txt"), now - Duration::from_secs(1));
    assert!(task.fp().is_up_to_date().unwrap());
    match task.fp().special_var().unwrap() {
        Some(SpecialVar::Timestamp(t)) => {
            assert_eq!(
                t,
                fs::metadata(root.join("src.txt"))
                    .unwrap()
                    .modified()
                    .unwrap()
            )
        }
        other => panic!("{other:?}"),
    }
    fs::remove_file(root.join("out.txt")).unwrap();
    assert!(!task.fp().is_up_to_date().unwrap());
}

#[test]
fn timestamp_dry_writes_nothing() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    fs::write(root.join("src.txt"), "s").unwrap();
    fs::write(root.join("out.txt"), "o").unwrap();
    let mut task = Task::new("ts", root, vec![inc("src.txt")]);
    task.method = Method::Timestamp;
    task.generates = vec![inc("out.txt")];
    task.dry = true;
    let _ = task.fp().is_up_to_date().unwrap();
    assert!(!root.join(".task").exists());
}

#[test]
fn fast_path_and_shell_path_differ_on_dot_files_like_go_task() {
    // Observed with go-task 3.54: `src/**/*.txt` (fast walk) includes dot files and
    // dot dirs; the shell globber used otherwise skips them.
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    for (p, c) in [
        ("src/a.txt", "a"),
        ("src/.b.txt", "b"),
        ("src/.hid/c.txt", "c"),
        ("src/d/d.txt", "d"),
        ("src/d/e f.txt", "e"),
    ] {
        fs::create_dir_all(root.join(p).parent().unwrap()).unwrap();
        fs::write(root.join(p), c).unwrap();
    }
    let items = |specs: &[GlobSpec]| for_items(root, specs, false);
    assert_eq!(
        items(&[inc("src/**/*.txt")]),
        [
            "src/.b.txt",
            "src/.hid/c.txt",
            "src/a.txt",
            "src/d/d.txt",
            "src/d/e f.txt"
        ]
    );
    assert_eq!(
        items(&[inc("src/*/*.txt"), inc("src/*.txt")]),
        ["src/a.txt", "src/d/d.txt", "src/d/e f.txt"]
    );
    assert_eq!(
        items(&[inc("src/**")]),
        ["src/a.txt", "src/d/d.txt", "src/d/e f.txt"]
    );
    assert_eq!(
        items(&[
            inc("src/.*.txt"),
            inc("src/{a,d/d}.txt"),
            inc("src/d/e f.txt")
        ]),
        ["src/.b.txt", "src/a.txt", "src/d/d.txt", "src/d/e f.txt"]
    );
    // A symlink to a directory sends `**` to the shell globber, which follows it.
    fs::create_dir_all(root.join("sub")).unwrap();
    fs::write(root.join("sub/s.txt"), "s").unwrap();
    std::os::unix::fs::symlink("../sub", root.join("src/lnk")).unwrap();
    assert_eq!(
        items(&[inc("src/**/*.txt")]),
        ["src/a.txt", "src/d/d.txt", "src/d/e f.txt", "src/lnk/s.txt"]
    );
    // A broken symlink makes the whole entry match nothing (go-task's stat error).
    std::os::unix::fs::symlink("nowhere", root.join("src/broken.txt")).unwrap();
    assert!(items(&[inc("src/**/*.txt")]).is_empty());
    assert_eq!(
        items(&[inc("src/*/*.txt"), inc("src/*.txt")]),
        ["src/d/d.txt", "src/d/e f.txt", "src/lnk/s.txt"]
    );
}

#[test]
fn excludes_apply_in_order_and_paths_sort_bytewise() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    for p in ["a-b/x", "a/b", "a.c", "keep.md", "drop.md"] {
        fs::create_dir_all(root.join(p).parent().unwrap()).unwrap();
        fs::write(root.join(p), p).unwrap();
    }
    let got = for_items(root, &[inc("**/*"), exc("*.md"), inc("keep.md")], false);
    // Bytewise: "a-b/x" < "a.c" < "a/b" ('-' < '.' < '/'), as Go sorts strings.
    assert_eq!(got, ["a-b/x", "a.c", "a/b", "keep.md"]);
    let abs = expand_globs(root, &[inc("../*/keep.md")], false);
    assert!(abs.iter().all(|p| p.is_absolute()));
    // generates outside the task dir come back relative with `..`.
    let sub = root.join("a");
    assert_eq!(for_items(&sub, &[inc("../keep.md")], false), ["../keep.md"]);
}

#[test]
fn checksum_cache_is_used_only_for_unchanged_old_trees() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    let old = SystemTime::now() - Duration::from_secs(3600);
    for i in 0..200 {
        let p = root.join(format!("src/d{}/f{i:03}.txt", i % 7));
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, format!("file {i}\n")).unwrap();
        set_mtime(&p, old);
    }
    let task = Task::new("big", root, vec![inc("src/**/*.txt")]);
    // ctime is "now" right after writing: too fresh, nothing cached yet.
    assert!(!task.fp().is_up_to_date().unwrap());
    let cache = root.join(".task/checksum/.oxtask-cache/big");
    assert!(!cache.exists(), "racy files are not cached");
    let reference = fs::read_to_string(task.fp().checksum_file()).unwrap();

    // ctime cannot be set back, so wait out the racy window.
    std::thread::sleep(fingerprint::RACY_WINDOW + Duration::from_millis(100));
    assert!(task.fp().is_up_to_date().unwrap());
    assert!(cache.exists(), "an old, unchanged tree is cached");
    let text = fs::read_to_string(&cache).unwrap();
    assert!(text.ends_with(&reference), "cache holds go-task's checksum");

    // A cache hit does not read contents: a doctored cached value comes back as is.
    let doctored = text.replace(reference.trim(), "abc123");
    fs::write(&cache, &doctored).unwrap();
    assert_eq!(
        task.fp().special_var().unwrap(),
        Some(SpecialVar::Checksum("abc123".into()))
    );
    // Any metadata change invalidates it and the real checksum is computed again.
    let f = root.join("src/d0/f000.txt");
    fs::write(&f, "file 0 changed\n").unwrap();
    match task.fp().special_var().unwrap() {
        Some(SpecialVar::Checksum(c)) => {
            assert_ne!(c, "abc123");
            assert_ne!(c, reference.trim());
        }
        other => panic!("{other:?}"),
    }
    fs::write(&f, "file 0\n").unwrap();
    assert_eq!(
        task.fp().special_var().unwrap(),
        Some(SpecialVar::Checksum(reference.trim().to_string())),
        "same content, same go-task checksum"
    );
}

#[test]
fn directories_matched_by_sources_are_dropped() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    fs::create_dir_all(root.join("d")).unwrap();
    fs::write(root.join("a.txt"), "a").unwrap();
    let task = Task::new("u", root, vec![inc("*.txt")]);
    assert!(!task.fp().is_up_to_date().unwrap());
    assert!(task.fp().is_up_to_date().unwrap());
    fs::remove_file(root.join("a.txt")).unwrap();
    std::os::unix::fs::symlink("d", root.join("a.txt")).unwrap();
    // `*.txt` now names a directory (through a symlink): no source left, sources changed.
    assert_eq!(
        for_items(root, &[inc("*.txt")], false),
        Vec::<String>::new()
    );
    assert!(!task.fp().is_up_to_date().unwrap());
}

#[test]
fn corpus_generates_sequence_timestamp_flow() {
    // generates_sequence: outputs outside the task dir (relative and absolute) and one
    // with spaces; the timestamp file appears on the first check that finds the outputs.
    let t = tempfile::tempdir().unwrap();
    let root = t.path().canonicalize().unwrap();
    let sub = root.join("sub");
    fs::create_dir_all(&sub).unwrap();
    fs::write(sub.join("src.txt"), "hello world\n").unwrap();
    set_mtime(
        &sub.join("src.txt"),
        SystemTime::now() - Duration::from_secs(60),
    );
    let abs_out = root.join("abs.txt");
    type Case<'a> = (&'a str, PathBuf, Vec<GlobSpec>, Vec<GlobSpec>, PathBuf);
    let cases: Vec<Case> = vec![
        (
            "rel.txt",
            sub.clone(),
            vec![inc("src.txt")],
            vec![inc("../rel.txt")],
            root.join("rel.txt"),
        ),
        (
            "abs.txt",
            sub.clone(),
            vec![inc("src.txt")],
            vec![inc(abs_out.to_str().unwrap())],
            abs_out.clone(),
        ),
        (
            "my text file.txt",
            root.clone(),
            vec![inc("sub/src.txt")],
            vec![inc("my text file.txt")],
            root.join("my text file.txt"),
        ),
    ];
    for (name, dir, sources, generates, out) in cases {
        let mut task = Task::new(name, &dir, sources);
        task.temp = root.join(".task");
        task.method = Method::Timestamp;
        task.generates = generates;
        assert!(!task.fp().is_up_to_date().unwrap(), "{name}: no output yet");
        assert!(!task.fp().timestamp_file().exists());
        fs::write(&out, "hello world\n").unwrap();
        assert!(task.fp().is_up_to_date().unwrap(), "{name}");
        let ts = task.fp().timestamp_file();
        assert_eq!(
            ts,
            root.join(".task/timestamp")
                .join(fingerprint::normalize_filename(name))
        );
        assert!(ts.exists());
        assert_eq!(
            for_items(&dir, &task.generates, false),
            [fingerprint::glob::rel(&dir, &out)
                .to_string_lossy()
                .into_owned()]
        );
    }
    assert!(root.join(".task/timestamp/my-text-file-txt").exists());
}

#[test]
fn symlink_loop_under_globstar_ends_like_go_task() {
    // go-task 3.54 lists s/a.txt and 40 s/loop/…/a.txt: the kernel's symlink limit
    // (ELOOP) ends the descent.
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    fs::create_dir_all(root.join("s")).unwrap();
    fs::write(root.join("s/a.txt"), "x\n").unwrap();
    std::os::unix::fs::symlink(".", root.join("s/loop")).unwrap();
    let items = for_items(root, &[inc("s/**/*.txt")], false);
    assert_eq!(items.len(), 41);
    assert_eq!(items[0], "s/a.txt");
    assert_eq!(items[40], format!("s/{}a.txt", "loop/".repeat(40)));
}
