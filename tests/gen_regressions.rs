//! Differences the generator (tests/gen_diff.rs) found and that are fixed, each as the
//! minimal Taskfile run through go-task 3.54.0 and oxtask: exit code, stdout, stderr and
//! the files left behind must agree. Skipped without go-task, except under CI=true.

#[path = "support/gotask.rs"]
mod gotask;

use std::path::Path;
use std::process::Command;

fn run(bin: &Path, dir: &Path, args: &[&str]) -> (i32, String, String, Vec<String>) {
    let o = Command::new(bin)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let root = dir.to_string_lossy().to_string();
    let clean = |b: &[u8]| String::from_utf8_lossy(b).replace(&root, "<ROOT>");
    let mut files = vec![];
    fn walk(d: &Path, root: &Path, acc: &mut Vec<String>) {
        for e in std::fs::read_dir(d).unwrap().flatten() {
            let p = e.path();
            acc.push(p.strip_prefix(root).unwrap().to_string_lossy().to_string());
            if p.is_dir() {
                walk(&p, root, acc);
            }
        }
    }
    walk(dir, dir, &mut files);
    files.sort();
    (
        o.status.code().unwrap_or(-1),
        clean(&o.stdout),
        clean(&o.stderr),
        files,
    )
}

/// Runs `args` against `taskfile` (plus `extra` files) with both binaries.
fn same(taskfile: &str, extra: &[(&str, &str)], args: &[&str]) {
    let Some(go) = gotask::require(".ci/install-gotask.sh") else {
        return;
    };
    let ox = Path::new(env!("CARGO_BIN_EXE_task"));
    let mut out = vec![];
    for bin in [go.as_path(), ox] {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("Taskfile.yml"), taskfile).unwrap();
        for (p, c) in extra {
            let f = d.path().join(p);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(f, c).unwrap();
        }
        out.push(run(bin, d.path(), args));
    }
    assert_eq!(
        out[0], out[1],
        "go-task (left) and oxtask (right) differ for {args:?}"
    );
}

/// Fast compile (listing): a template error is ignored but sticks (templater.Cache), so
/// the failing label and every later text (desc, summary) stay raw.
#[test]
fn listing_leaves_text_raw_after_first_template_error() {
    let tf = r#"version: '3'
vars:
  F: true
tasks:
  a:
    label: 'L{{.S | upper}}'
    desc: 'D{{.F}}'
    summary: 'S{{.F}}'
    cmds: [echo hi]
  b:
    desc: 'B {{splitList "-" .T | first}} {{.F}}'
    cmds: [echo hi]
"#;
    same(tf, &[], &["--list-all"]);
    same(tf, &[], &["--list-all", "--json"]);
}

/// An unevaluated `sh:` var is no value in fast-mode templates, even over a global of
/// the same name (ToCacheMap skips it).
#[test]
fn fast_mode_sh_var_is_no_value() {
    let tf = r#"version: '3'
vars:
  T: global
tasks:
  a:
    desc: 'A {{printf "%q" .T}} {{kindOf .T}}'
    vars:
      T:
        sh: echo hi
    cmds: [echo hi]
"#;
    same(tf, &[], &["--list-all"]);
    same(tf, &[], &["--summary", "a"]);
}

/// `--summary` shows a deferred command raw, and each echo line is templated on its own
/// (LogCmd), even after the task's first template error.
#[test]
fn summary_defer_raw_and_log_cmd() {
    let tf = r#"version: '3'
vars:
  M:
    map: {k: v}
tasks:
  a:
    label: 'L{{.S | upper}}'
    cmds:
      - defer: echo deferred {{.M.k}}
      - echo "{{.TASK}} {{.M}}"
      - for: [x, y]
        cmd: echo it={{.ITEM}}
"#;
    same(tf, &[], &["--summary", "a"]);
}

/// A root `dotenv:` makes go-task evaluate every global var at setup: an error there
/// ends even a listing, with exit 1 and the bare message.
#[test]
fn root_dotenv_evaluates_global_vars_at_setup() {
    let tf = r#"version: '3'
vars:
  T: '{{.S | lower}}-x'
dotenv: ['.env']
tasks:
  a:
    desc: A
    cmds: [echo hi]
"#;
    same(tf, &[(".env", "FE=1\n")], &["--list-all"]);
    same(tf, &[(".env", "FE=1\n")], &["a"]);
}

/// The JSON listing fingerprints the list-compiled task (no `sh:` runs), so a task whose
/// full compile would fail still gets its checksum file written.
#[test]
fn json_listing_writes_checksum_of_fast_compiled_task() {
    let tf = r#"version: '3'
tasks:
  a:
    sources: ['*.txt']
    vars:
      X:
        sh: exit 3
    cmds: [echo hi]
"#;
    same(tf, &[("a.txt", "x\n")], &["--list-all", "--json"]);
}

/// Missing required vars: the task is named by its (fast-compiled) label.
#[test]
fn missing_required_vars_names_the_label() {
    let tf = r#"version: '3'
vars:
  S: s1
tasks:
  a:
    label: 'lbl-{{.S}}'
    requires:
      vars: [Q]
    cmds: [echo hi]
  b:
    deps: [a]
"#;
    same(tf, &[], &["a"]);
    same(tf, &[], &["--dry", "b"]);
}

/// "is up to date" is quiet for a silent call too, and names the prefix in prefixed output.
#[test]
fn up_to_date_message_silent_call_and_prefix() {
    let tf = r#"version: '3'
tasks:
  a:
    cmds:
      - task: b
        silent: true
      - task: b
      - task: c
  b:
    label: lb
    status: ['true']
  c:
    label: lc
    prefix: pc
    status: ['true']
"#;
    same(tf, &[], &["a"]);
    same(tf, &[], &["a", "--output", "prefixed"]);
}

/// A dry run still makes the task's dir (go-task's mkdir is not dry-guarded).
#[test]
fn dry_run_makes_task_dir() {
    let tf = r#"version: '3'
tasks:
  a:
    dir: sub/inner
    cmds: [echo hi > out.txt]
"#;
    same(tf, &[], &["--dry", "a"]);
}

/// A nested mapping include without `dir:` runs its tasks in the including file's dir;
/// a scalar one keeps the includer's task dir.
#[test]
fn nested_mapping_include_runs_in_includer_dir() {
    let lib = "version: '3'\nincludes:\n  deep: ./deep\n  d2:\n    taskfile: ./deep\n  d3:\n    taskfile: ./deep\n    dir: x\n";
    let deep = "version: '3'\ntasks:\n  w: echo w > out.txt\n";
    let tf = "version: '3'\nincludes:\n  lib: ./lib\n";
    let files = [("lib/Taskfile.yml", lib), ("lib/deep/Taskfile.yml", deep)];
    same(tf, &files, &["lib:deep:w"]);
    same(tf, &files, &["lib:d2:w"]);
    same(tf, &files, &["lib:d3:w"]);
}

/// `--summary` env: each group (global env, task dotenv, task env) goes through the
/// sticky cache; after the first error a whole group is dropped (ReplaceVars returns nil),
/// so env names show up among the vars instead, and `for: sources` has no items.
#[test]
fn summary_env_and_sources_after_template_error() {
    let tf = r#"version: '3'
env:
  GE: 'ge-{{.T}}'
tasks:
  a:
    desc: 'A {{splitList "-" .S | first}}'
    env:
      FE: 'fe-{{.T}}'
    sources: ['*.txt']
    cmds:
      - for: sources
        cmd: echo {{.ITEM}}
  b:
    env:
      FE: 'fe-{{.S | upper}}'
      XE: 'x-{{.T}}'
    cmds: [echo hi]
"#;
    same(tf, &[("a.txt", "x\n")], &["--summary", "a"]);
    same(tf, &[("a.txt", "x\n")], &["--summary", "b"]);
}

/// A deferred command's template error is ignored: the raw text runs.
#[test]
fn deferred_template_error_runs_raw() {
    let tf = r#"version: '3'
tasks:
  a:
    cmds:
      - defer: echo deferred {{len .L}}
      - echo main
"#;
    same(tf, &[], &["a"]);
    same(tf, &[], &["--dry", "a"]);
}

/// Outside a task (set-up with a root dotenv) TASK, TASK_DIR, ALIAS… are empty strings,
/// so a global env templating them does not fail.
#[test]
fn special_vars_outside_a_task_are_empty() {
    let tf = r#"version: '3'
env:
  GE: 'ge-{{.TASK_DIR | base | len}}{{.TASKFILE | base}}{{.TASK}}'
dotenv: ['.env']
tasks:
  a: echo "$GE"
"#;
    same(tf, &[(".env", "FE=1\n")], &["--list-all"]);
    same(tf, &[(".env", "FE=1\n")], &["a"]);
}

/// Task-level `ignore_error` ignores a command's own failure only, not a called task's
/// missing required vars; an enum violation names the task by its label.
#[test]
fn ignore_error_only_for_command_failures() {
    let tf = r#"version: '3'
tasks:
  a:
    ignore_error: true
    cmds:
      - exit 3
      - task: b
      - echo after
  b:
    label: 'lbl-b'
    requires:
      vars: [Q]
  c:
    label: 'lbl-c'
    vars:
      T: z
    requires:
      vars:
        - name: T
          enum: [x, y]
"#;
    same(tf, &[], &["a"]);
    same(tf, &[], &["c"]);
}

/// `sh:` results are cached by command text: another task's dir reuses the first result
/// and is not created by it.
#[test]
fn sh_cache_is_keyed_by_command_text() {
    let tf = r#"version: '3'
vars:
  G:
    sh: echo g
tasks:
  a:
    dir: d1
    vars:
      T:
        sh: pwd
    cmds: ['echo {{.T}} {{.G}}']
  c:
    dir: d2
    vars:
      T:
        sh: pwd
    cmds: ['echo {{.T}}']
  b:
    label: 'lbl-{{splitList "-" .T | first}}'
    requires:
      vars: [Q]
"#;
    same(tf, &[], &["a", "c"]);
    same(tf, &[], &["b"]);
}

/// A `sh:` var runs in a dir that may not exist yet without creating it: builtins work
/// there, and go-task leaves no directory behind (seed 475: an included Taskfile's
/// global `sh:` var with the include's `dir:`).
#[test]
fn dynamic_var_does_not_create_its_dir() {
    let tf = r#"version: '3'
includes:
  lib:
    taskfile: ./lib
    dir: ./other
tasks:
  t1:
    cmds:
      - exit 2
  a:
    dir: nodir
    vars:
      X: {sh: "echo x"}
    cmds:
      - echo "{{.X}}"
"#;
    let lib = "version: '3'\nvars:\n  S:\n    sh: echo sh-u3\ntasks:\n  u0:\n    cmds:\n      - echo \"{{.S}}\"\n";
    same(tf, &[("lib/Taskfile.yml", lib)], &["t1"]);
    same(tf, &[("lib/Taskfile.yml", lib)], &["lib:u0"]);
    same(tf, &[("lib/Taskfile.yml", lib)], &["a"]);
}

// ---- Found on real projects (tests/realworld2) and go-task's CHANGELOG ----

/// `ignore_error` on a `task:` call ignores the called task's command failure
/// (task.go runCommand, since 3.46.1).
#[test]
fn ignore_error_on_task_call() {
    let tf = "version: '3'\ntasks:\n  a:\n    cmds:\n      - task: b\n        ignore_error: true\n      - echo after\n  b: {cmds: ['exit 1']}\n";
    same(tf, &[], &["a"]);
    same(tf, &[], &["--verbose", "a"]);
}

/// yaml.v3 decoding into structs ignores unknown keys: at the top level, in tasks,
/// commands, deps and includes a misspelt key is no error.
#[test]
fn unknown_keys_are_ignored() {
    let tf = "version: '3'\nfoo: 1\nincludes:\n  x: {taskfile: ./x.yml, foo: 1}\ntasks:\n  a:\n    descr: typo\n    deps: [{task: b, foo: 1}]\n    cmds:\n      - cmd: echo a\n        foo: 1\n  b: {cmds: [echo b], bar: [1]}\n";
    let x = [(
        "x.yml",
        "version: '3'\ntasks:\n  c: {cmds: [echo c], zzz: 1}\n",
    )];
    same(tf, &x, &["a"]);
    same(tf, &x, &["--list-all"]);
}

/// A var mapping's keys are checked after it decoded: go-task's own messages.
#[test]
fn var_mapping_key_messages() {
    same(
        // Block style: go-task's snippet colours flow mappings differently (not modelled).
        "version: '3'\nvars:\n  A:\n    shh: x\ntasks:\n  a:\n    cmds:\n      - echo a\n",
        &[],
        &["a"],
    );
    same(
        "version: '3'\nvars:\n  A:\n    secret: true\ntasks:\n  a:\n    cmds:\n      - echo a\n",
        &[],
        &["a"],
    );
}

/// `defer:` (taskfile/ast/cmd.go): a mapping holds `defer`, `task`, `vars`, `silent`;
/// `cmd:` inside it is ignored (a no-op), a `timeout` inside it is an error, and a `defer:`
/// key makes the other keys of the command (but `silent`/`timeout`) irrelevant.
#[test]
fn defer_mapping_forms() {
    same("version: '3'\ntasks:\n  a:\n    cmds:\n      - defer: {cmd: echo d, silent: true}\n      - echo main\n", &[], &["a"]);
    same("version: '3'\ntasks:\n  a:\n    cmds:\n      - defer: {defer: echo inner, silent: true}\n        silent: true\n      - echo main\n", &[], &["a"]);
    same("version: '3'\ntasks:\n  a:\n    cmds:\n      - defer: echo d\n        task: b\n      - echo main\n  b: {cmds: [echo b]}\n", &[], &["a"]);
    same("version: '3'\ntasks:\n  a:\n    cmds:\n      - defer: {task: b, silent: true, vars: {X: 1}}\n      - echo main\n  b: {cmds: ['echo b {{.X}}']}\n", &[], &["a"]);
    let (rc, ..) = {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join("Taskfile.yml"),
            "version: '3'\ntasks:\n  a:\n    cmds:\n      - defer: {defer: echo d, timeout: 1s}\n",
        )
        .unwrap();
        run(Path::new(env!("CARGO_BIN_EXE_task")), d.path(), &["a"])
    };
    assert_eq!(rc, 102);
}

/// `--verbose` logs `task: "x" failed: ERR` for a failing task (3.53.1), before its
/// deferred commands.
#[test]
fn verbose_logs_failed_task() {
    let tf = "version: '3'\ntasks:\n  a:\n    cmds:\n      - defer: echo cleanup\n      - exit 2\n  b: {cmds: [{task: a}]}\n";
    same(tf, &[], &["--verbose", "a"]);
    same(tf, &[], &["--verbose", "b"]);
}

/// A wildcard alias runs the task under its own name with the `*`s filled in.
#[test]
fn wildcard_alias_names_the_task() {
    let tf = "version: '3'\ntasks:\n  start-*:\n    aliases: [s-*]\n    cmds: ['echo start {{index .MATCH 0}}']\n";
    same(tf, &[], &["s-foo"]);
    same(tf, &[], &["start-bar"]);
}

/// `--list-all --json` checks every listed task's method (help.go ToEditorOutput builds a
/// sources checker for each): an invalid one fails the listing, sources or not.
#[test]
fn json_listing_rejects_invalid_method() {
    let tf = "version: '3'\ntasks:\n  a: {desc: A, cmds: [echo a]}\n  b:\n    method: watch\n    cmds: [echo b]\n";
    same(tf, &[], &["--list-all", "--json"]);
    same(tf, &[], &["--list-all"]);
    same(tf, &[], &["--list-all", "--json", "--no-status"]);
}

/// A block scalar that ends the file without a final line break has no trailing newline
/// (go-yaml), seen in the summary and the echo line.
#[test]
fn block_scalar_at_end_of_file_without_newline() {
    let tf = "version: '3'\ntasks:\n  a:\n    cmds:\n      - |\n        echo one\n        echo two";
    same(tf, &[], &["--summary", "a"]);
    same(tf, &[], &["a"]);
    same(tf, &[], &["--dry", "a"]);
}

/// A YAML scanner error at the end of a file without a final line break: go-yaml's
/// message and line.
#[test]
fn yaml_error_at_end_of_file_without_newline() {
    let tf = "version: '3'\ntasks:\n  t:\n    cmds:\n      - go test\n\n\n      docker run -v ${PWD}:/x img:latest";
    same(tf, &[], &["--list-all"]);
}

/// `--summary` prints a command that templates to nothing as a task call (summary.go).
#[test]
fn summary_of_empty_command() {
    let tf = "version: '3'\ntasks:\n  a:\n    cmds:\n      - '{{if false}}x{{end}}'\n      - defer: {cmd: echo d}\n      - echo main\n";
    same(tf, &[], &["--summary", "a"]);
    same(tf, &[], &["a"]);
}

/// `--init PATH` takes a file, a directory or a bare extension from the working directory.
#[test]
fn init_with_path() {
    same("version: '3'\n", &[], &["--init", "sub/My.yml"]);
    same(
        "version: '3'\n",
        &[("sub/x", "")],
        &["--init", "sub/My.yml"],
    );
    same("version: '3'\n", &[("sub/x", "")], &["--init", "sub"]);
    same("version: '3'\n", &[("sub/x", "")], &["--init", "sub/.yaml"]);
    same("version: '3'\n", &[], &["--init", "."]);
}

/// Colour (internal/flags): `CI=true` or `FORCE_COLOR` turns it on without a terminal
/// unless `NO_COLOR` is set; fatih/color puts the reset after the newline.
#[test]
fn ci_turns_colour_on() {
    let Some(go) = gotask::require(".ci/install-gotask.sh") else {
        return;
    };
    let ox = Path::new(env!("CARGO_BIN_EXE_task"));
    for env in [
        &[("CI", "true")][..],
        &[("FORCE_COLOR", "1")],
        &[("CI", "true"), ("NO_COLOR", "1")],
        &[("CI", "1"), ("TASK_COLOR", "false")],
    ] {
        let mut out = vec![];
        for bin in [go.as_path(), ox] {
            let d = tempfile::tempdir().unwrap();
            std::fs::write(
                d.path().join("Taskfile.yml"),
                "version: '3'\ntasks:\n  a: {cmds: [echo hi, 'exit 3']}\n",
            )
            .unwrap();
            let o = Command::new(bin)
                .arg("a")
                .current_dir(d.path())
                .env_clear()
                .env("PATH", "/usr/local/bin:/usr/bin:/bin")
                .env("HOME", d.path())
                .envs(env.iter().copied())
                .output()
                .unwrap();
            out.push((
                o.status.code(),
                String::from_utf8_lossy(&o.stdout).to_string(),
                String::from_utf8_lossy(&o.stderr).to_string(),
            ));
        }
        assert_eq!(
            out[0], out[1],
            "go-task (left) and oxtask (right) differ with {env:?}"
        );
    }
}

/// go-task copies a var's value while templating it (deepcopy.TraverseStringsFunc), which
/// drops every map entry whose value is nil, at any depth (`[x: ~]` reads as `[{}]`); nil
/// list items stay. An explicit `for:` list is used as written: not templated, nils kept.
/// Found on the YAML flow `?` cases (`[?x]` is `[{}]`).
#[test]
fn nil_map_entries_are_dropped_from_var_values() {
    same(
        "version: '3'\nvars:\n  A: [x: ~, {y: 1, z: null}, [~], ?k]\n  B:\n    - k:\n      v: 1\n\
         tasks:\n  default:\n    vars:\n      C: {map: {n: ~, m: 2}}\n    cmds:\n      \
         - echo '{{printf \"%#v\" .A}} {{printf \"%#v\" .B}} {{printf \"%#v\" .C}}'\n      \
         - for: [{a: ~, b: 1}, {c: ~}, \"{{.A}}\"]\n        cmd: echo '{{printf \"%#v\" .ITEM}}'\n",
        &[],
        &[],
    );
}

/// Seed 101240: errors_task.go quotes a task name with `%q`, so a label holding quotes
/// reads `"lbl-{\"k\":1}"` in `Failed to run task`.
#[test]
fn failed_task_name_is_go_quoted() {
    same(
        "version: '3'\ntasks:\n  t0:\n    label: 'lbl-{{toJson .M}}'\n    vars:\n      M: {map: {k: 1}}\n    cmds: ['exit 3']\n",
        &[],
        &["t0"],
    );
}

/// Seed 100622: a task whose `dir` is an existing file fails each command before it runs
/// (`… is not a directory`, exit 201), builtins and deferred commands too.
#[test]
fn dir_that_is_a_file_fails_the_command() {
    same(
        "version: '3'\ntasks:\n  d:\n    dir: '{{.S}}'\n    cmds:\n      - defer: echo deferred\n      - echo hi\n",
        &[("a.txt", "alpha\n")],
        &["d", "S=a.txt"],
    );
}

/// Seed 100055: a flatten clash names the task as merged into the included file (`deep:w0`
/// for a task the flattened file itself includes).
#[test]
fn flatten_clash_names_the_nested_task() {
    same(
        "version: '3'\nincludes:\n  lib:\n    taskfile: ./lib\n    flatten: true\ntasks:\n  deep:w0: echo root\n",
        &[
            ("lib/Taskfile.yml", "version: '3'\nincludes:\n  deep: ./deep\ntasks:\n  u: echo u\n"),
            ("lib/deep/Taskfile.yml", "version: '3'\ntasks:\n  w0: echo w0\n"),
        ],
        &["--list-all"],
    );
}

/// Seed 300322: `{{.EXIT_CODE}}` in a deferred command after a failed task *call* is the
/// exit status of the command that failed inside it (go-task's interp.IsExitStatus
/// unwraps); a failure ignored by `ignore_error` sets none.
#[test]
fn exit_code_of_a_failed_task_call_reaches_defer() {
    let tf = "version: '3'\ntasks:\n  w0:\n    cmds:\n      - defer: 'echo deferred {{.EXIT_CODE}}'\n      - task: w1\n  w1:\n    cmds: ['exit 3']\n  i:\n    ignore_error: true\n    cmds:\n      - defer: 'echo deferred [{{.EXIT_CODE}}]'\n      - exit 4\n      - echo after\n";
    same(tf, &[], &["w0"]);
    same(tf, &[], &["i"]);
}

/// A shell syntax error is not an exit status in go-task: `ignore_error` on the task does
/// not ignore it and a deferred `{{.EXIT_CODE}}` stays empty (exit 201, also with
/// `--exit-code`).
#[test]
fn syntax_error_is_not_an_exit_status() {
    let tf = "version: '3'\ntasks:\n  a:\n    ignore_error: true\n    cmds:\n      - defer: 'echo \"[{{.EXIT_CODE}}]\"'\n      - 'echo ( '\n      - echo after\n";
    same(tf, &[], &["a"]);
    same(tf, &[], &["--exit-code", "a"]);
}

/// Seed 301828: task.go prints the up-to-date notice with `%q`, so a label holding quotes
/// reads `Task "lbl-\"x\"" is up to date` (also in `--dry`).
#[test]
fn up_to_date_notice_quotes_the_label() {
    let tf = "version: '3'\ntasks:\n  t:\n    label: 'lbl-\"x\"'\n    status: ['true']\n    cmds: ['echo never']\n";
    same(tf, &[], &["t"]);
    same(tf, &[], &["--dry", "t"]);
    same(tf, &[], &["--verbose", "t"]);
}
