//! Shell completion: `task __complete WORDS…` must answer exactly as go-task 3.54 does
//! (candidates, descriptions, the `:N` directive line), and our `--completion` scripts must
//! turn those answers into completions in a real shell.
//!
//! The differential test needs go-task 3.54.0 (`GO_TASK=/path`, or pip's go-task-bin; see
//! tests/support/gotask.rs and .ci/install-gotask.sh): skipped with a message without it,
//! failing under CI=true.

#[path = "support/gotask.rs"]
mod gotask;

use std::path::Path;
use std::process::Command;

const OXTASK: &str = env!("CARGO_BIN_EXE_task");

/// A copy of tests/fixtures/completion in a fresh directory (nothing is written to the repo).
fn fixture() -> tempfile::TempDir {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/completion");
    let dst = tempfile::tempdir().unwrap();
    copy_dir(&src, dst.path());
    dst
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// stdout and exit code of `exe __complete words…` run in `dir`.
fn complete(exe: &Path, dir: &Path, words: &[&str]) -> (String, Option<i32>) {
    let o = Command::new(exe)
        .arg("__complete")
        .args(words)
        .current_dir(dir)
        .env_remove("TASK_X_GENTLE_FORCE")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        o.status.code(),
    )
}

/// (subdirectory of the fixture, words after `__complete`).
const VECTORS: &[(&str, &[&str])] = &[
    // Task names: root first, aliases after their task, internal tasks and internal
    // includes hidden, namespaces and namespace aliases, wildcard prefixes, sanitised text.
    ("", &[""]),
    ("", &["b"]),
    ("", &["build", ""]),
    ("", &["d", ""]),
    ("", &["docs:"]),
    ("", &["docs:serve", ""]),
    ("", &["start-x", ""]),
    ("", &["--no-descriptions", ""]),
    ("", &["--no-aliases", ""]),
    ("", &["--no-aliases", "--no-descriptions", ""]),
    ("", &["--no-descriptions", "-"]),
    ("", &["--sort", "alphanumeric", ""]),
    ("", &["--sort", "none", ""]),
    ("", &["--sort=default", ""]),
    ("plain", &[""]),
    ("plain", &["--sort", "none", ""]),
    ("plain", &["l", ""]),
    ("nested", &[""]),
    ("nested", &["--sort", "none", ""]),
    ("nested", &["--no-aliases", ""]),
    ("nested", &["o:i:lf", ""]),
    ("broken", &[""]),
    ("broken", &["-"]),
    // Which Taskfile: --dir / --taskfile in every spelling, stdin never read.
    ("", &["-d", "other", ""]),
    ("", &["--dir=other", ""]),
    ("", &["--dir", "other", ""]),
    ("", &["-dother", ""]),
    ("", &["-d", "plain", "lint", ""]),
    ("", &["-t", "other/alt.yml", ""]),
    ("", &["--taskfile", "other/alt.yml", ""]),
    ("", &["--taskfile=other/alt.yml", ""]),
    ("", &["-t", "-", ""]),
    ("", &["-d", "nonexist", ""]),
    ("", &["--dir", "deploy", ""]),
    ("", &["-s", "-d", "other", ""]),
    ("", &["--unknown", "other", ""]),
    ("", &["-C", "x", "-d", "other", ""]),
    ("", &["-d", "other", "-C", "x", ""]),
    ("other", &["-g", ""]),
    // Flags and flag values.
    ("", &["-"]),
    ("", &["--"]),
    ("", &["--o"]),
    ("", &["--output", ""]),
    ("", &["-o", ""]),
    ("", &["-o", "gr"]),
    ("", &["--output="]),
    ("", &["--output=gr"]),
    ("", &["-o="]),
    ("", &["--sort", ""]),
    ("", &["--sort="]),
    ("", &["--completion", ""]),
    ("", &["--completion=z"]),
    ("", &["-t", ""]),
    ("", &["--taskfile="]),
    ("", &["-d", ""]),
    ("", &["--dir", "x"]),
    ("", &["--temp-dir", ""]),
    ("", &["--remote-cache-dir", ""]),
    ("", &["--color", ""]),
    ("", &["--timeout", ""]),
    ("", &["-C", ""]),
    ("", &["-I", ""]),
    ("", &["--cacert", ""]),
    ("", &["--trusted-hosts", ""]),
    ("", &["--list", ""]),
    ("", &["build", "--output", ""]),
    // Everything after `--` is CLI_ARGS.
    ("", &["build", "--", ""]),
    ("", &["--", "x"]),
    // Required vars of the tasks already named (enum lists and enum refs).
    ("", &["deploy", ""]),
    ("", &["deploy", "R"]),
    ("", &["deploy", "ENV=x", ""]),
    ("", &["deploy", "REGION=eu", ""]),
    ("", &["deploy", "ENV=1", "REGION=eu", "STAGE=dev", ""]),
    ("", &["-s", "deploy", ""]),
    ("", &["-o", "group", "deploy", ""]),
    ("", &["--dir", "deploy", ""]),
    ("", &["build", "deploy", ""]),
];

#[test]
fn complete_matches_go_task() {
    let Some(go) = gotask::require(".ci/install-gotask.sh") else {
        return;
    };
    let fx = fixture();
    let mut failures = vec![];
    for (sub, words) in VECTORS {
        let dir = fx.path().join(sub);
        let want = complete(&go, &dir, words);
        let got = complete(Path::new(OXTASK), &dir, words);
        assert!(
            want.0.ends_with('\n') && want.0.lines().last().unwrap().starts_with(':'),
            "go-task gave no directive for {sub:?} {words:?}: {want:?}"
        );
        // With `--sort none` the order of included tasks is the order go-task merged the
        // includes in, which is random (its graph's topological sort iterates a Go map):
        // compare those as sets.
        let sorted = |s: &str| {
            let mut l: Vec<&str> = s.lines().collect();
            l.sort();
            l.join("\n")
        };
        let reordered =
            words.contains(&"none") && want.1 == got.1 && sorted(&want.0) == sorted(&got.0);
        if want != got && !reordered {
            failures.push(format!(
                "dir {sub:?} words {words:?}\n--- go-task ({:?})\n{}--- oxtask ({:?})\n{}",
                want.1, want.0, got.1, got.0
            ));
        }
    }
    assert!(VECTORS.len() >= 40);
    assert!(
        failures.is_empty(),
        "{} of {} vectors differ:\n{}",
        failures.len(),
        VECTORS.len(),
        failures.join("\n")
    );
}

/// The gentle-force experiment changes the flag set; completion follows it.
#[test]
fn complete_flags_follow_gentle_force() {
    let fx = fixture();
    let o = Command::new(OXTASK)
        .args(["__complete", "--force"])
        .current_dir(fx.path())
        .env("TASK_X_GENTLE_FORCE", "1")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("--force-all\t"), "{out}");
    assert!(
        out.contains("--force\tForces execution of the directly called task."),
        "{out}"
    );
}

/// Runs the bash script's `_task` with bash's completion variables set as bash would for
/// `line` (split into `words` at blanks and at `:`/`=`), and returns COMPREPLY.
fn bash_complete(dir: &Path, line: &str, words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words
        .iter()
        .map(|w| format!("'{}'", w.replace('\'', "'\\''")))
        .collect();
    let script = format!(
        "source <(\"$TASK_EXE\" --completion bash) || exit 9\n\
         COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}\n\
         COMP_WORDS=({words}); COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))\n\
         _task task \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        words = quoted.join(" ")
    );
    let o = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &script])
        .current_dir(dir)
        .env("TASK_EXE", OXTASK)
        .output()
        .expect("bash");
    assert!(
        o.status.success(),
        "bash failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_script_completes_task_names() {
    let fx = fixture();
    let d = fx.path();
    assert_eq!(bash_complete(d, "task b", &["task", "b"]), ["build", "b"]);
    let all = bash_complete(d, "task ", &["task", ""]);
    for name in ["build", "clean", "deploy", "docs:serve", "flatone"] {
        assert!(
            all.contains(&name.to_string()),
            "{name} missing from {all:?}"
        );
    }
    assert!(!all
        .iter()
        .any(|n| n.contains("secret") || n.contains("hidden")));
    // Bash split `docs:s` at the colon: the replies replace only the part after it.
    assert_eq!(
        bash_complete(d, "task docs:s", &["task", "docs", ":", "s"]),
        ["serve", "s"]
    );
    // Flag values, inline or not, and required vars.
    assert_eq!(
        bash_complete(d, "task --output=g", &["task", "--output", "=", "g"]),
        ["group"]
    );
    assert_eq!(
        bash_complete(d, "task -o ", &["task", "-o", ""]),
        ["interleaved", "group", "prefixed"]
    );
    assert_eq!(
        bash_complete(d, "task deploy R", &["task", "deploy", "R"]),
        ["REGION=eu", "REGION=us"]
    );
    assert_eq!(
        bash_complete(d, "task -d other ", &["task", "-d", "other", ""]),
        ["alpha", "zeta"]
    );
    // --dir completes directories only.
    let dirs = bash_complete(d, "task -d ", &["task", "-d", ""]);
    assert!(dirs.contains(&"other".to_string()), "{dirs:?}");
    assert!(!dirs.contains(&"Taskfile.yml".to_string()), "{dirs:?}");
}

#[test]
fn scripts_call_complete_and_honour_task_exe() {
    for shell in ["bash", "zsh", "fish", "powershell", "nu"] {
        let o = Command::new(OXTASK)
            .args(["--completion", shell])
            .output()
            .unwrap();
        assert!(o.status.success(), "{shell}");
        let s = String::from_utf8_lossy(&o.stdout);
        assert!(
            s.contains("__complete"),
            "{shell} script does not call __complete"
        );
        assert!(s.contains("TASK_EXE"), "{shell} script ignores TASK_EXE");
    }
    let o = Command::new(OXTASK)
        .args(["--completion", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&o.stderr), "unknown shell: tcsh\n");
}

/// go-task 3.54's nushell script is already a wrapper around `__complete`: oxtask prints it
/// byte for byte, with go-task's exit code.
#[test]
fn nu_script_is_go_tasks() {
    let Some(go) = gotask::require(".ci/install-gotask.sh") else {
        return;
    };
    // `nushell` is go-task's other name for it
    for name in ["nu", "nushell"] {
        let run = |exe: &Path| {
            Command::new(exe)
                .args(["--completion", name])
                .env("NO_COLOR", "1")
                .output()
                .unwrap()
        };
        let (want, got) = (run(&go), run(Path::new(OXTASK)));
        assert_eq!(got.status.code(), want.status.code(), "{name}");
        assert!(!want.stdout.is_empty());
        assert_eq!(
            String::from_utf8_lossy(&got.stdout),
            String::from_utf8_lossy(&want.stdout)
        );
        assert_eq!(got.stderr, want.stderr);
    }
}

/// `shell` on PATH; missing: a skip message, or a failure under CI=true.
fn require_shell(shell: &str) -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(shell).is_file()));
    if !found {
        if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
            panic!("{shell} is not installed (run .ci/install-shells.sh)");
        }
        eprintln!("skipped: {shell} not installed (run .ci/install-shells.sh)");
    }
    found
}

fn script(shell: &str) -> tempfile::NamedTempFile {
    let o = Command::new(OXTASK)
        .args(["--completion", shell])
        .output()
        .unwrap();
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), o.stdout).unwrap();
    f
}

/// fish's own completion engine (`complete -C`) driving our script.
#[test]
fn fish_script_completes() {
    if !require_shell("fish") {
        return;
    }
    let fx = fixture();
    let s = script("fish");
    let run = |line: &str| -> Vec<String> {
        let o = Command::new("fish")
            .args(["--no-config", "-c"])
            .arg(format!(
                "source {}; complete -C '{line}'",
                s.path().display()
            ))
            .current_dir(fx.path())
            .env("TASK_EXE", OXTASK)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    };
    assert_eq!(
        run("task b"),
        ["build\tBuild the thing", "b\tBuild the thing"]
    );
    assert_eq!(
        run("task docs:s"),
        ["docs:serve\tServe docs", "docs:s\tServe docs"]
    );
    assert_eq!(run("task -o "), ["interleaved", "group", "prefixed"]);
    assert_eq!(run("task --output=g"), ["--output=group"]);
    assert_eq!(run("task deploy R"), ["REGION=eu", "REGION=us"]);
    assert_eq!(run("task -d other "), ["alpha", "zeta\tlast"]);
}

/// The zsh function with compsys' builtins stubbed: what it hands to `compadd`/`_files`.
#[test]
fn zsh_script_completes() {
    if !require_shell("zsh") {
        return;
    }
    let fx = fixture();
    let s = script("zsh");
    let run = |words: &str, current: usize| -> String {
        let prog = format!(
            "compdef() {{ }}\n\
             _files() {{ print -r -- \"FILES $*\" }}\n\
             compadd() {{\n\
               local -a opts\n\
               while (( $# )); do\n\
                 case $1 in\n\
                   (-a) shift; print -rl -- \"${{(@P)1}}\" ;;\n\
                   (-d) shift; print -rl -- \"${{(@P)1/#/shown: }}\" ;;\n\
                   (-S|-J|-V) opts+=(\"$1=$2\"); shift ;;\n\
                 esac\n\
                 shift\n\
               done\n\
               print -r -- \"opts: ${{opts[*]}}\"\n\
             }}\n\
             source {}\n\
             words=({words}); CURRENT={current}; _task",
            s.path().display()
        );
        let o = Command::new("zsh")
            .args(["-f", "-c", &prog])
            .current_dir(fx.path())
            .env("TASK_EXE", OXTASK)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    assert_eq!(
        run("task -d other ''", 4),
        "shown: alpha\nshown: zeta  -- last\nalpha\nzeta\nopts: -J=task\n"
    );
    // Required vars: no space after `=`, declaration order kept.
    assert_eq!(
        run("task deploy ''", 3),
        "shown: ENV=\nshown: REGION=eu\nshown: REGION=us\nshown: STAGE=dev\nshown: STAGE=prod\n\
         ENV=\nREGION=eu\nREGION=us\nSTAGE=dev\nSTAGE=prod\nopts: -S= -V=task-ordered\n"
    );
    assert_eq!(run("task -t ''", 3), "FILES -g *.(yml|yaml)\n");
    assert_eq!(run("task --dir ''", 3), "FILES -/\n");
}

/// A shell that is installed must at least parse its script.
#[test]
fn scripts_parse_in_installed_shells() {
    let have = |exe: &str| {
        std::env::var_os("PATH")
            .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(exe).is_file()))
    };
    for (shell, exe, args) in [
        ("bash", "bash", &["-n"][..]),
        ("zsh", "zsh", &["-n"][..]),
        ("fish", "fish", &["--no-execute"][..]),
    ] {
        if !have(exe) {
            eprintln!("skipped: {exe} not installed");
            continue;
        }
        let script = Command::new(OXTASK)
            .args(["--completion", shell])
            .output()
            .unwrap()
            .stdout;
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), script).unwrap();
        let o = Command::new(exe).args(args).arg(f.path()).output().unwrap();
        assert!(
            o.status.success(),
            "{shell}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}
