//! Runner behaviour beyond the recorded corpus, through the binary, with a small builder.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

struct Run {
    dir: tempfile::TempDir,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
    took: Duration,
}

impl Run {
    fn taskfile(yaml: &str) -> Run {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Taskfile.yml"), yaml).unwrap();
        Run {
            dir,
            args: vec![],
            env: vec![],
        }
    }
    fn file(self, name: &str, text: &str) -> Run {
        std::fs::write(self.dir.path().join(name), text).unwrap();
        self
    }
    fn args(mut self, a: &[&str]) -> Run {
        self.args = a.iter().map(|s| s.to_string()).collect();
        self
    }
    fn env(mut self, k: &str, v: &str) -> Run {
        self.env.push((k.into(), v.into()));
        self
    }
    fn path(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }
    fn run(&self) -> Out {
        let start = Instant::now();
        let mut c = Command::new(env!("CARGO_BIN_EXE_task"));
        c.current_dir(self.dir.path())
            .args(&self.args)
            .env("NO_COLOR", "1")
            .env_remove("OXTASK_NATIVE");
        for (k, v) in &self.env {
            c.env(k, v);
        }
        let o = c.output().unwrap();
        Out {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            took: start.elapsed(),
        }
    }
}

/// go-task decodes with yaml.v3 into structs: an unknown key is ignored, an ill-typed
/// one is an error (102) that names the file, and nothing runs.
#[test]
fn ill_typed_key_names_file_and_runs_nothing_unknown_key_is_ignored() {
    let r = Run::taskfile("version: '3'\ntasks:\n  a:\n    cmds: [touch ran]\n    deps: {x: 1}\n");
    let o = r.run();
    assert_eq!(o.code, 102, "{}", o.stderr);
    assert!(
        o.stderr.contains("cannot unmarshal !!map into []*ast.Dep"),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr
            .contains(&format!("{}:", r.path().join("Taskfile.yml").display())),
        "{}",
        o.stderr
    );
    assert!(!r.path().join("ran").exists());
    let r =
        Run::taskfile("version: '3'\ntasks:\n  default:\n    cmds: [touch ran]\n    depz: [b]\n");
    let o = r.run();
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(r.path().join("ran").exists());
}

#[test]
fn ill_typed_key_is_a_decode_error() {
    let o =
        Run::taskfile("version: '3'\ntasks:\n  a:\n    silent: [x]\n    cmds: [echo a]\n").run();
    assert_eq!(o.code, 102);
    assert!(
        o.stderr.contains("cannot unmarshal !!seq into bool"),
        "{}",
        o.stderr
    );
}

#[test]
fn dependency_cycle_fails_at_once_with_exit_204() {
    let o = Run::taskfile(
        "version: '3'\ntasks:\n  a:\n    deps: [b]\n    cmds: [echo a]\n  b:\n    deps: [a]\n",
    )
    .args(&["a"])
    .run();
    assert_eq!(o.code, 204);
    assert!(o.stderr.ends_with("Maximum task call exceeded (1000) for task \"a\": probably an cyclic dep or infinite loop\n"));
    assert!(o.took < Duration::from_secs(2), "took {:?}", o.took);
    assert!(o.stdout.is_empty());
}

#[test]
fn helm_and_cosign_resolve_to_oxtask_inside_tasks_unless_opted_out() {
    let yaml = "version: '3'\ntasks:\n  default:\n    cmds:\n      - readlink -f \"$(command -v helm)\"\n      - readlink -f \"$(command -v cosign)\"\n";
    let o = Run::taskfile(yaml).args(&["-s"]).run();
    assert_eq!(o.code, 0, "{}", o.stderr);
    let exe = std::fs::canonicalize(env!("CARGO_BIN_EXE_task")).unwrap();
    for line in o.stdout.lines() {
        assert_eq!(PathBuf::from(line), exe);
    }
    assert_eq!(o.stdout.lines().count(), 2);
    // Opted out in the Taskfile's env: (still valid for go-task): no shim on PATH.
    let yaml = "version: '3'\nenv:\n  OXTASK_NATIVE: 'false'\ntasks:\n  default:\n    cmds:\n      - echo \"$PATH\"\n";
    let o = Run::taskfile(yaml).args(&["-s"]).run();
    assert!(!o.stdout.contains("oxtask-shims"), "{}", o.stdout);
}

#[test]
fn missing_native_subcommand_names_it() {
    let o = Run::taskfile("version: '3'\ntasks:\n  default: helm nosuchcmd\n")
        .env("PATH", "/usr/bin:/bin")
        .run();
    assert_eq!(o.code, 201);
    assert!(
        o.stderr.contains("does not implement \"nosuchcmd\""),
        "{}",
        o.stderr
    );
}

#[test]
fn json_reports_sources_up_to_date() {
    let yaml = "version: '3'\ntasks:\n  gen:\n    desc: generate\n    sources: [in.txt]\n    generates: [out.txt]\n    cmds: [cp in.txt out.txt]\n";
    let r = Run::taskfile(yaml).file("in.txt", "x\n");
    let json = |r: &Run| -> serde_json::Value { serde_json::from_str(&r.run().stdout).unwrap() };
    let before = json(&Run {
        args: vec!["--list".into(), "--json".into()],
        ..Run::taskfile(yaml).file("in.txt", "x\n")
    });
    assert_eq!(before["tasks"][0]["up_to_date"], false);
    let built = Run {
        args: vec!["gen".into()],
        dir: r.dir,
        env: vec![],
    };
    assert_eq!(built.run().code, 0);
    let listed = Run {
        args: vec!["--list".into(), "--json".into()],
        dir: built.dir,
        env: vec![],
    };
    assert_eq!(json(&listed)["tasks"][0]["up_to_date"], true);
}

#[test]
fn cli_vars_and_args_reach_the_task() {
    let yaml =
        "version: '3'\ntasks:\n  default:\n    cmds:\n      - echo \"{{.NAME}} {{.CLI_ARGS}}\"\n";
    let o = Run::taskfile(yaml)
        .args(&["-s", "default", "NAME=world", "--", "a", "b c"])
        .run();
    assert_eq!(o.stdout, "world a 'b c'\n", "{}", o.stderr);
}
