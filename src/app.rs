//! The `task` program: flags → load → list/summary/run. Returns go-task's exit codes.

use indexmap::IndexMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::cli::Cli;
use crate::compile::{Call, Compiler, Context};
use crate::run::{Executor, Options, TaskError};
use crate::taskfile::ast::{Output, Var, VarValue, Vars};
use crate::taskfile::{self, remote, LoadError, Project};
use crate::template::{self, Value};

pub const INIT_TASKFILE: &str = "# yaml-language-server: $schema=https://taskfile.dev/schema.json\n\nversion: '3'\n\nvars:\n  GREETING: Hello, world!\n\ntasks:\n  default:\n    desc: Print a greeting message\n    cmds:\n      - echo \"{{.GREETING}}\"\n    silent: true\n";

/// `task --version`: go-task's shape, naming oxtask's own version.
fn version_line() -> String {
    format!(
        "Task version: v{} (oxtask {})",
        crate::cli::TASK_VERSION,
        env!("CARGO_PKG_VERSION")
    )
}

fn eprint(msg: &str) {
    use std::io::Write;
    let mut e = std::io::stderr().lock();
    let _ = e.write_all(msg.as_bytes());
}

pub fn main(args: Vec<OsString>) -> i32 {
    // `task --version` alone needs none of the flag machinery (building clap's command is
    // most of a start-up): answered before it, as the full path would answer it.
    if args.len() == 2 && args[1] == "--version" {
        println!("{}", version_line());
        return 0;
    }
    // Before flag parsing: the words after `__complete` are the user's half-typed line.
    if args.get(1).is_some_and(|a| a == crate::complete::COMMAND) {
        let words: Vec<String> = args[2..]
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        return crate::complete::main(&words);
    }
    use clap::{CommandFactory, FromArgMatches};
    let parsed = Cli::command()
        .try_get_matches_from(&args)
        .and_then(|m| Cli::from_arg_matches(&m).map(|c| (c, m)));
    let cli = match parsed {
        Ok((mut c, m)) => {
            // Flags the command line left alone come from TASK_* and .taskrc.yml.
            crate::settings::apply(&mut c, &m);
            c
        }
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return 0;
            }
            // pflag's wording: the usage, then what was wrong.
            let what = match e.get(clap::error::ContextKind::InvalidArg) {
                Some(clap::error::ContextValue::String(a)) => {
                    let flag = a.split(['=', ' ']).next().unwrap_or(a).to_string();
                    if flag.starts_with("--") {
                        format!("unknown flag: {flag}")
                    } else {
                        format!(
                            "unknown shorthand flag: '{}' in {flag}",
                            flag.trim_start_matches('-').chars().next().unwrap_or(' ')
                        )
                    }
                }
                _ => e.kind().to_string(),
            };
            eprint(&format!("{}{what}\n", crate::cli::usage()));
            return 2;
        }
    };
    if cli.help {
        print!("{}", crate::cli::usage());
        return 0;
    }
    if cli.version {
        println!("{}", version_line());
        return 0;
    }
    if cli.experiments {
        // logger.PrintExperiments: coloured pieces through a tabwriter that skips escapes.
        use crate::color::{paint_if, Color};
        let color = color_enabled(&cli);
        let on = |n: &str| if env_flag(n) { "on (1)" } else { "off" };
        let mut text = String::new();
        for (name, var) in [
            ("GENTLE_FORCE", "TASK_X_GENTLE_FORCE"),
            ("ENV_PRECEDENCE", "TASK_X_ENV_PRECEDENCE"),
        ] {
            text.push_str(&paint_if(color, Color::Yellow, "* "));
            text.push_str(&paint_if(color, Color::Green, name));
            text.push_str(&paint_if(
                color,
                Color::Default,
                &format!(": \t{}\n", on(var)),
            ));
        }
        print!("{}", crate::run::list::tabwrite_padded(&text, 0));
        return 0;
    }
    if let Some(shell) = &cli.completion {
        return completion(shell);
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let dir = match &cli.dir {
        Some(d) if d.is_absolute() => d.clone(),
        Some(d) => cwd.join(d),
        None => cwd.clone(),
    };
    if cli.init {
        return init(&cwd, &cli);
    }
    // cmd/task/task.go: the final error goes through the logger in red.
    let red = color_enabled(&cli);
    let eprint_red =
        |msg: &str| eprint(&crate::color::paint_if(red, crate::color::Color::Red, msg));
    match run(&cli, &cwd, &dir) {
        Ok(()) => 0,
        // go-task prints plain (non-Task) errors without the `task: ` prefix.
        Err(Failure::Load(LoadError::Remote(remote::RemoteError::Other(m)))) => {
            github_annotation(None, &m);
            eprint_red(&format!("{m}\n"));
            1
        }
        Err(Failure::Load(e)) => {
            if let LoadError::Dotenv(msg) | LoadError::Panic(msg) = &e {
                // go-task prints dotenv errors bare, without `task: `.
                if matches!(e, LoadError::Dotenv(_)) {
                    github_annotation(None, msg);
                }
                eprint_red(&format!("{msg}\n"));
            } else if let LoadError::Decode(report) = &e {
                github_annotation(None, e.to_string().trim_end_matches('\n'));
                eprint_red(&report.render(red));
            } else {
                github_annotation(None, &format!("task: {e}"));
                eprint_red(&format!("task: {e}\n"));
            }
            e.exit_code()
        }
        Err(Failure::Task(e, x)) => {
            match &e {
                TaskError::Run { task, inner } => github_annotation(Some(task), &inner.to_string()),
                other => github_annotation(None, &other.to_string()),
            }
            eprint_red(&format!("{e}\n"));
            e.exit_code(x)
        }
        Err(Failure::Code(c)) => c,
    }
}

pub(crate) enum Failure {
    Load(LoadError),
    Task(TaskError, bool),
    Code(i32),
}

impl From<LoadError> for Failure {
    fn from(e: LoadError) -> Self {
        Failure::Load(e)
    }
}

/// `--init [PATH]` (cmd/task/task.go, init.go): PATH (a file, a directory, or only an
/// extension such as `.yaml`) is taken from the working directory; an existing file, or a
/// directory that holds any default Taskfile, is refused (101).
fn init(wd: &Path, cli: &Cli) -> i32 {
    let color = color_enabled(cli);
    let path = match cli.args.first() {
        Some(name) => {
            // filepathext.IsExtOnly: Base(name) == Ext(name), e.g. `.yaml` or `.`.
            let trimmed = name.trim_end_matches('/');
            let (parent, base) = trimmed.rsplit_once('/').unwrap_or(("", trimmed));
            let name = if base.starts_with('.') && !base[1..].contains('.') {
                Path::new(parent).join(format!("Taskfile{base}"))
            } else {
                PathBuf::from(name)
            };
            wd.join(name)
        }
        None => wd.to_path_buf(),
    };
    let target = if path.is_dir() {
        if taskfile::TASKFILE_NAMES
            .iter()
            .any(|n| path.join(n).exists())
        {
            eprint(&crate::color::paint_if(
                color,
                crate::color::Color::Red,
                "task: A Taskfile already exists\n",
            ));
            return 101;
        }
        path.join("Taskfile.yml")
    } else if path.exists() {
        eprint(&crate::color::paint_if(
            color,
            crate::color::Color::Red,
            "task: A Taskfile already exists\n",
        ));
        return 101;
    } else {
        path
    };
    if let Err(e) = std::fs::write(&target, INIT_TASKFILE) {
        // Go's *PathError text.
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ => e.to_string(),
        };
        eprint(&crate::color::paint_if(
            color,
            crate::color::Color::Red,
            &format!("open {}: {why}\n", target.display()),
        ));
        return 1;
    }
    if !cli.silent {
        use crate::color::{paint_if, Color};
        if cli.verbose {
            print!(
                "{}",
                paint_if(color, Color::Default, &format!("{INIT_TASKFILE}\n"))
            );
        }
        let shown = target.strip_prefix(wd).unwrap_or(&target);
        let msg = format!("Taskfile created: {}\n", shown.display());
        print!("{}", paint_if(color, Color::Green, &msg));
    }
    0
}

/// The shell scripts behind `--completion`: thin wrappers around `task __complete`.
fn completion(shell: &str) -> i32 {
    let script = match shell {
        "bash" => include_str!("completion/task.bash"),
        "zsh" => include_str!("completion/task.zsh"),
        "fish" => include_str!("completion/task.fish"),
        "powershell" => include_str!("completion/task.ps1"),
        // go-task 3.54.0's own nushell script, verbatim (MIT, go-task's authors): it is
        // already a thin wrapper around `task __complete`, which oxtask answers as go-task does.
        "nu" | "nushell" => include_str!("completion/task.nu"),
        other => {
            eprint(&format!("unknown shell: {other}\n"));
            return 1;
        }
    };
    print!("{script}");
    0
}

/// An experiment is on only with the value 1 (go-task parses the value as an integer and
/// accepts only its allowed values; `true` leaves it off).
fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| v.trim() == "1")
}

/// Finds and loads the Taskfile (with includes, CLI vars and dotenv) as `cli` asks.
pub(crate) fn load_project(cli: &Cli, dir: &Path) -> Result<(Project, remote::Remote), Failure> {
    let remote_entry = cli
        .taskfile
        .as_ref()
        .and_then(|t| t.to_str())
        .filter(|t| remote::is_remote(t));
    let entry = if let Some(url) = remote_entry {
        PathBuf::from(url)
    } else if cli.global {
        let home = PathBuf::from(std::env::var("HOME").unwrap_or_default());
        taskfile::find(&home, cli.taskfile.as_deref())?
    } else {
        taskfile::find(dir, cli.taskfile.as_deref())?
    };
    let os_env: IndexMap<String, String> = std::env::vars().collect();
    let (_, cli_vars) = cli.tasks_and_vars();

    let resolve_env = os_env.clone();
    let resolve = move |s: &str, tf: &taskfile::ast::Taskfile| -> String {
        if !s.contains("{{") {
            return s.to_string();
        }
        let mut data = template::Map::new();
        for (k, v) in &resolve_env {
            data.insert(k.clone(), Value::str(v));
        }
        for (k, v) in tf.env.iter().chain(tf.vars.iter()) {
            if let VarValue::Static(val) = &v.value {
                let val = match val {
                    Value::Str(s) => Value::Str(template::render(s, &data).unwrap_or_default()),
                    o => o.clone(),
                };
                data.insert(k.clone(), val);
            }
        }
        template::render(s, &data).unwrap_or_else(|_| s.to_string())
    };
    let entry_dir = if remote_entry.is_some() {
        dir.to_path_buf()
    } else {
        entry.parent().unwrap_or(dir).to_path_buf()
    };
    let remote = remote::Remote::new(remote_options(cli, &entry_dir)?, &entry.to_string_lossy());
    let mut project: Project = taskfile::load_with(&entry, &resolve, Some(&remote), Some(dir))?;
    // `task: … VAR=value` replaces a global var of that name (or adds one).
    for (k, v) in &cli_vars {
        project.root.vars.insert(
            k.clone(),
            Var {
                value: VarValue::Static(Value::str(v)),
                secret: false,
            },
        );
    }
    apply_dotenv(&mut project, &os_env)?;
    Ok((project, remote))
}

/// The executor for a loaded project, configured by `cli`.
/// setup.go setupOutput: a style go-task does not know (flag or Taskfile), exit 1.
fn unknown_output(name: &str, color: bool) -> Failure {
    let msg = format!(
        "task: output style {} not recognized\n",
        crate::template::go_quote(name)
    );
    eprint(&crate::color::paint_if(
        color,
        crate::color::Color::Red,
        &msg,
    ));
    Failure::Code(1)
}

pub(crate) fn make_executor(cli: &Cli, cwd: &Path, project: Project) -> Result<Executor, Failure> {
    let os_env: IndexMap<String, String> = std::env::vars().collect();
    let project = Arc::new(project);

    let temp_dir = cli
        .temp_dir
        .clone()
        .or_else(|| std::env::var_os("TASK_TEMP_DIR").map(PathBuf::from))
        .map(|p| {
            if p.is_absolute() {
                p
            } else {
                project.root_dir.join(p)
            }
        })
        .unwrap_or_else(|| project.root_dir.join(".task"));
    let gentle = env_flag("TASK_X_GENTLE_FORCE");
    let cli_args_list = cli.cli_args.clone();
    let use_color = color_enabled(cli);
    let ctx = Context {
        user_working_dir: cwd.display().to_string(),
        task_exe: std::env::args()
            .next()
            .unwrap_or_else(|| "task".into())
            .replace('\\', "/"),
        cli_args: cli_args_list
            .iter()
            .map(|a| shell_quote(a))
            .collect::<Vec<_>>()
            .join(" "),
        cli_args_list,
        force: cli.force || cli.force_all,
        silent: cli.silent,
        verbose: cli.verbose,
        color: use_color,
        offline: cli.offline,
        assume_yes: cli.yes,
        env_precedence: env_flag("TASK_X_ENV_PRECEDENCE"),
        os_env: os_env.clone(),
        temp_dir: temp_dir.clone(),
        // `--status` only reads the fingerprint state (go-task leaves no `.task/` behind).
        dry: cli.dry || cli.status,
    };
    let compiler = Arc::new(Compiler::new(
        project.clone(),
        ctx,
        Box::new(|cmd: &str, dir: &Path, env: &[(String, String)]| {
            crate::run::shell::capture(cmd, dir, env)
        }),
    ));

    // setup.go setupOutput, before the dotenv vars: a style go-task does not know.
    if cli.output.is_none() {
        if let Some(Output::Unknown(name)) = &project.root.output {
            return Err(unknown_output(name, use_color));
        }
    }
    // go-task's readDotEnvFiles (setup.go) evaluates every global var, `sh:` included,
    // before anything else runs when the root Taskfile has `dotenv:`; an error there ends
    // every mode (listing, summary, dry run) with exit 1 and the bare message.
    if !project.root.dotenv.is_empty() {
        if let Err(e) = compiler.vars(None, None, true) {
            eprint(&format!("{e}\n"));
            return Err(Failure::Code(1));
        }
    }
    let output = match cli.output.as_deref() {
        None => None,
        Some("interleaved") => Some(Output::Interleaved),
        Some("prefixed") => Some(Output::Prefixed),
        Some("group") => Some(Output::Group {
            begin: cli.output_group_begin.clone().unwrap_or_default(),
            end: cli.output_group_end.clone().unwrap_or_default(),
            error_only: cli.output_group_error_only,
        }),
        Some(other) => {
            return Err(unknown_output(other, use_color));
        }
    };
    let cache = cache_from(cli, use_color)?;
    let opts = Options {
        // `--status` only reads the fingerprint state (go-task leaves no `.task/` behind).
        dry: cli.dry || cli.status,
        force: cli.force,
        force_all: cli.force_all || (cli.force && !gentle),
        silent: cli.silent,
        verbose: cli.verbose,
        concurrency: cli.concurrency,
        failfast: cli.failfast,
        assume_yes: cli.yes,
        interactive: cli.interactive,
        output,
        temp_dir,
        color: use_color,
        native_tools: !cli.list && !cli.list_all && !cli.summary,
        disable_fuzzy: cli.disable_fuzzy,
        cache,
        fingerprint_definition: cli.fingerprint_definition,
    };
    Ok(Executor::new(compiler, opts))
}

/// The shared task cache `--cache`/`OXTASK_CACHE` names (nothing is contacted until a
/// cacheable task runs).
fn cache_from(cli: &Cli, color: bool) -> Result<Option<Arc<crate::cache::Cache>>, Failure> {
    let Some(url) = cli.cache.as_deref().filter(|u| !u.trim().is_empty()) else {
        return Ok(None);
    };
    let mode = match cli.cache_mode.as_deref() {
        None => crate::cache::Mode::ReadWrite,
        Some(m) => match crate::cache::Mode::parse(m) {
            Some(m) => m,
            None => {
                eprint(&format!(
                    "task: invalid cache mode \"{m}\" (use read or readwrite)\n"
                ));
                return Err(Failure::Code(1));
            }
        },
    };
    let timeout = match cli.cache_timeout.as_deref() {
        None => crate::cache::FAILURE_BUDGET,
        Some(v) => match remote::parse_go_duration(v) {
            Ok(d) if !d.is_zero() => d,
            Ok(_) => {
                eprint("task: invalid cache timeout \"0s\": must be more than zero\n");
                return Err(Failure::Code(1));
            }
            Err(e) => {
                eprint(&format!("task: invalid cache timeout \"{v}\": {e}\n"));
                return Err(Failure::Code(1));
            }
        },
    };
    let max_size = match cli.cache_max_size.as_deref() {
        None => None,
        Some(v) => match crate::cache::parse_size(v) {
            Ok(n) => Some(n),
            Err(e) => {
                eprint(&format!("task: invalid cache max size \"{v}\": {e}\n"));
                return Err(Failure::Code(1));
            }
        },
    };
    let settings = crate::cache::Settings {
        url: url.to_string(),
        mode,
        verify_key: cli.cache_verify_key.clone(),
        sign_key: cli.cache_sign_key.clone(),
        plain_http: cli.cache_plain_http,
        timeout,
        max_size,
    };
    let printer = crate::run::output::Printer::new(color);
    Ok(Some(Arc::new(crate::cache::Cache::new(
        settings,
        Box::new(move |m| printer.log_color(crate::color::Color::Red, m)),
    ))))
}

fn run(cli: &Cli, cwd: &Path, dir: &Path) -> Result<(), Failure> {
    check_remote_flags(cli)?;
    let cli_interval = duration_flag(
        "interval",
        cli.interval.as_deref(),
        std::time::Duration::ZERO,
    )?;
    let (project, remote) = load_project(cli, dir)?;
    let (task_names, _) = cli.tasks_and_vars();
    if cli.clear_cache {
        // go-task clears after reading the Taskfiles, and does nothing else.
        let _ = std::fs::remove_dir_all(remote.options().cache_path());
        return Ok(());
    }
    let exec = make_executor(cli, cwd, project)?;

    if cli.list || cli.list_all {
        return crate::run::list::list(&exec, cli).map_err(Failure::Code);
    }
    let names = if task_names.is_empty() {
        vec!["default".to_string()]
    } else {
        task_names
    };
    let calls: Vec<Call> = names
        .iter()
        .map(|n| Call {
            task: n.clone(),
            alias: String::new(),
            vars: Vars::new(),
            matches: vec![],
            silent: false,
            indirect: false,
        })
        .collect();
    // Unknown or internal names are reported before anything runs.
    for c in &calls {
        match exec.resolve(&c.task) {
            Err(TaskError::NotFound { name, .. }) => {
                let suggestion = if cli.disable_fuzzy {
                    None
                } else {
                    exec.suggest(&name)
                };
                crate::run::list::list_for_unknown(&exec);
                return Err(Failure::Task(
                    TaskError::NotFound { name, suggestion },
                    cli.exit_code,
                ));
            }
            Err(e) => return Err(Failure::Task(e, cli.exit_code)),
            Ok((entry, _, _)) if entry.task.internal => {
                return Err(Failure::Task(
                    TaskError::Internal(c.task.clone()),
                    cli.exit_code,
                ));
            }
            Ok(_) => {}
        }
    }
    // go-task checks every name first, then prints the summaries.
    if cli.summary {
        return crate::run::list::summary(&exec, &names)
            .map_err(|e| Failure::Task(e, cli.exit_code));
    }
    if cli.status {
        for c in &calls {
            exec.status(c)
                .map_err(|e| Failure::Task(e, cli.exit_code))?;
        }
        return Ok(());
    }
    for c in &calls {
        exec.check_cycles(c)
            .map_err(|e| Failure::Task(e, cli.exit_code))?;
    }
    // `--watch` / `watch: true`: those calls go to the watch loop once the others ran.
    let (calls, watch_calls) = crate::run::watch::split_calls(&exec, calls, cli.watch);
    if !cli.watch {
        crate::run::signals::install(exec.cancelled.clone());
    }
    if cli.parallel {
        let errs: Vec<TaskError> = std::thread::scope(|s| {
            let hs: Vec<_> = calls.iter().map(|c| s.spawn(|| exec.run_task(c))).collect();
            hs.into_iter()
                .filter_map(|h| h.join().ok().and_then(|r| r.err()))
                .collect()
        });
        if let Some(e) = errs.into_iter().next() {
            return Err(Failure::Task(e, cli.exit_code));
        }
    } else {
        for c in &calls {
            exec.run_task(c)
                .map_err(|e| Failure::Task(e, cli.exit_code))?;
        }
    }
    if !watch_calls.is_empty() {
        return watch_mode(cli, &exec, watch_calls, cli_interval);
    }
    Ok(())
}

/// Root `dotenv:` files fill the Taskfile env; the first file that sets a key wins,
/// and keys already in `env:` keep their value.
fn apply_dotenv(project: &mut Project, os_env: &IndexMap<String, String>) -> Result<(), LoadError> {
    if project.root.dotenv.is_empty() {
        return Ok(());
    }
    let mut data = template::Map::new();
    for (k, v) in os_env {
        data.insert(k.clone(), Value::str(v));
    }
    // Vars are templated in order, so a dotenv path can use vars built from vars.
    for (k, v) in project.root.env.iter().chain(project.root.vars.iter()) {
        if let VarValue::Static(val) = &v.value {
            let val = match val {
                Value::Str(s) => {
                    Value::Str(template::render(s, &data).unwrap_or_else(|_| s.clone()))
                }
                other => other.clone(),
            };
            data.insert(k.clone(), val);
        }
    }
    let files: Vec<PathBuf> = project
        .root
        .dotenv
        .iter()
        .map(|f| {
            let f = template::render(f, &data).unwrap_or_else(|_| f.clone());
            crate::compile::smart_join(&project.root_dir, &crate::compile::expand_home(&f))
        })
        .collect();
    let dotenv_vars =
        crate::taskfile::dotenv::load(&files).map_err(|e| LoadError::Dotenv(e.to_string()))?;
    for (k, v) in dotenv_vars {
        if !project.root.env.contains_key(&k) {
            project.root.env.insert(k, Var::stat(Value::Str(v)));
        }
    }
    Ok(())
}

/// Quotes like mvdan/sh's syntax.Quote for CLI_ARGS.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c))
    {
        return s.to_string();
    }
    if !s.contains('\'') {
        return format!("'{s}'");
    }
    format!(
        "\"{}\"",
        s.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('$', "\\$")
            .replace('`', "\\`")
    )
}

// ---- remote Taskfiles (src/taskfile/remote.rs) ----

/// go-task's flag validation for the remote flags (exit 1).
fn check_remote_flags(cli: &Cli) -> Result<(), Failure> {
    let conflict = if cli.download && cli.offline {
        Some("--download and --offline")
    } else if cli.download && cli.clear_cache {
        Some("--download and --clear-cache")
    } else {
        None
    };
    if let Some(c) = conflict {
        eprint(&format!("task: You can't set both {c} flags\n"));
        return Err(Failure::Code(1));
    }
    if cli.cert.is_some() != cli.cert_key.is_some() {
        eprint("task: --cert and --cert-key must be provided together\n");
        return Err(Failure::Code(1));
    }
    Ok(())
}

/// A duration flag, or pflag's complaint (usage, then the error; exit 2).
fn duration_flag(
    flag: &str,
    value: Option<&str>,
    default: std::time::Duration,
) -> Result<std::time::Duration, Failure> {
    match value {
        None => Ok(default),
        Some(v) => remote::parse_go_duration(v).map_err(|e| {
            eprint(&format!(
                "{}invalid argument \"{v}\" for \"--{flag}\" flag: {e}\n",
                crate::cli::usage()
            ));
            Failure::Code(2)
        }),
    }
}

/// The remote reader's settings from the flags; the cache dir follows go-task's setupTempDir
/// (`--temp-dir`/TASK_TEMP_DIR, overridden by `--remote-cache-dir`/TASK_REMOTE_DIR).
fn remote_options(cli: &Cli, root_dir: &Path) -> Result<remote::RemoteOptions, Failure> {
    let place = |p: PathBuf| -> PathBuf {
        let s = p.to_string_lossy();
        if p.is_absolute() {
            p
        } else if s.starts_with('~') {
            PathBuf::from(crate::compile::expand_home(&s))
        } else {
            root_dir.join(p)
        }
    };
    let non_empty = |v: std::ffi::OsString| (!v.is_empty()).then(|| PathBuf::from(v));
    let temp = cli
        .temp_dir
        .clone()
        .or_else(|| std::env::var_os("TASK_TEMP_DIR").and_then(non_empty))
        .unwrap_or_else(|| ".task".into());
    let cache_dir = match cli
        .remote_cache_dir
        .clone()
        .or_else(|| std::env::var_os("TASK_REMOTE_DIR").and_then(non_empty))
    {
        Some(d) => place(d),
        None => place(temp),
    };
    Ok(remote::RemoteOptions {
        insecure: cli.insecure,
        download: cli.download,
        offline: cli.offline,
        trusted_hosts: cli
            .trusted_hosts
            .iter()
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .collect(),
        timeout: duration_flag("timeout", cli.timeout.as_deref(), remote::DEFAULT_TIMEOUT)?,
        expiry: duration_flag("expiry", cli.expiry.as_deref(), std::time::Duration::ZERO)?,
        cache_dir,
        cacert: cli.cacert.clone(),
        cert: cli.cert.clone(),
        cert_key: cli.cert_key.clone(),
        assume_yes: cli.yes,
        verbose: cli.verbose,
        color: color_enabled(cli),
    })
}

/// go-task's colour decision (internal/flags): an explicit setting (flag, `TASK_COLOR`,
/// taskrc) wins even without a terminal; else a non-empty `NO_COLOR` turns colour off and
/// a non-empty `FORCE_COLOR` or a true `CI` on; else fatih/color's own test: `TERM` is not
/// `dumb` and stdout is a terminal.
pub fn color_enabled(cli: &Cli) -> bool {
    use std::io::IsTerminal;
    let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
    if cli.color_explicit {
        return cli.color;
    }
    if set("NO_COLOR") {
        return false;
    }
    let ci = std::env::var("CI")
        .ok()
        .and_then(|v| crate::settings::parse_go_bool(&v))
        .unwrap_or(false);
    if set("FORCE_COLOR") || ci {
        return true;
    }
    cli.color
        && std::env::var("TERM").map_or(true, |t| t != "dumb")
        && std::io::stdout().is_terminal()
}

// ---- watch mode (src/run/watch.rs) ----

fn watch_mode(
    cli: &Cli,
    exec: &Executor,
    calls: Vec<Call>,
    cli_interval: std::time::Duration,
) -> Result<(), Failure> {
    use crate::run::watch;
    let project = exec.compiler.project.clone();
    let interval =
        watch::interval(Some(cli_interval), project.root.interval.as_deref()).map_err(|m| {
            eprint(&format!("{m}\n"));
            Failure::Code(1)
        })?;
    let (ctx, opts, root_dir) = (
        exec.compiler.ctx.clone(),
        exec.opts.clone(),
        project.root_dir.clone(),
    );
    let make: Arc<watch::MakeExecutor> = Arc::new(move || {
        let shell = |cmd: &str, dir: &Path, env: &[(String, String)]| {
            crate::run::shell::capture(cmd, dir, env)
        };
        Executor::new(
            Arc::new(Compiler::new(project.clone(), ctx.clone(), Box::new(shell))),
            opts.clone(),
        )
    });
    let wopts = watch::WatchOptions {
        interval,
        verbose: cli.verbose,
        color: exec.opts.color,
        root_dir,
    };
    match watch::watch(&calls, make, &wopts) {
        0 => Ok(()),
        c => Err(Failure::Code(c)),
    }
}

/// Under GitHub Actions (`GITHUB_ACTIONS` true as Go's ParseBool reads it) go-task writes
/// a workflow annotation for the error to stdout before the error itself.
fn github_annotation(task: Option<&str>, msg: &str) {
    let on = std::env::var("GITHUB_ACTIONS")
        .is_ok_and(|v| matches!(v.as_str(), "1" | "t" | "T" | "true" | "TRUE" | "True"));
    if !on {
        return;
    }
    let line = match task {
        Some(t) => format!("::error title=Task '{t}' failed::{msg}\n"),
        None => format!("::error title=Task failed::{msg}\n"),
    };
    use std::io::Write;
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(line.as_bytes());
    let _ = o.flush();
}
