//! Execution: DAG scheduling, shell, fingerprints, output modes, watch.

mod cached;
pub mod fingerprint;
pub mod fuzzy;
pub mod graph;
pub mod list;
pub mod output;
mod pool;
pub mod shell;
pub mod signals;
pub mod watch;

use indexmap::IndexMap;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;
use thiserror::Error;

use crate::compile::{Call, CompileError, CompiledCmd, CompiledTask, Compiler};
use crate::taskfile::ast::{EnumSpec, Output};
use crate::taskfile::TaskEntry;
use crate::template::{self, Value};
use output::{Color, Printer};
use shell::{ShellError, ShellSpec};

thread_local! {
    /// The deadline a `timeout:` on a task call or dep puts on everything it runs:
    /// (when, the duration as written, the task that set it).
    static DEADLINE: std::cell::RefCell<Option<(std::time::Instant, Duration, String)>> = const { std::cell::RefCell::new(None) };
}

fn current_deadline() -> Option<(std::time::Instant, Duration, String)> {
    DEADLINE.with(|d| d.borrow().clone())
}

/// Runs `f` under a deadline (the earlier of the current one and `d` from now).
fn with_deadline<T>(d: Option<(Duration, String)>, f: impl FnOnce() -> T) -> T {
    let Some((dur, who)) = d else { return f() };
    let new = (std::time::Instant::now() + dur, dur, who);
    let prev = current_deadline();
    let chosen = match &prev {
        Some(p) if p.0 <= new.0 => p.clone(),
        _ => new,
    };
    DEADLINE.with(|x| *x.borrow_mut() = Some(chosen));
    let r = f();
    DEADLINE.with(|x| *x.borrow_mut() = prev);
    r
}

/// go-task's guard against infinite recursion.
const MAX_TASK_CALLS: u32 = 1000;

/// Go's `%q` of a task name (errors_task.go quotes names so; a label may hold quotes).
fn q(s: &str) -> String {
    template::go_quote(s)
}

#[derive(Debug, Error, Clone)]
pub enum TaskError {
    #[error("task: Task {} does not exist{}", q(name), suggestion.as_ref().map(|s| format!(". Did you mean {}?", q(s))).unwrap_or_default())]
    NotFound {
        name: String,
        suggestion: Option<String>,
    },
    #[error("task: Failed to run task {}: {inner}", q(task))]
    Run { task: String, inner: Box<TaskError> },
    #[error("{msg}")]
    Command {
        msg: String,
        code: i32,
        timeout: bool,
    },
    #[error("task: Task \"{0}\" is internal")]
    Internal(String),
    #[error("task: Found multiple tasks ({}) that match {}", .0, q(.1))]
    Ambiguous(String, String),
    #[error("task: Maximum task call exceeded ({MAX_TASK_CALLS}) for task {}: probably an cyclic dep or infinite loop", q(.0))]
    TooMany(String),
    #[error("task: Task {} cancelled because it has a prompt and the environment is not a terminal. Use --yes (-y) to run anyway.", q(.0))]
    PromptNoTty(String),
    #[error("task: Task {} cancelled by user", q(.0))]
    Cancelled(String),
    // go-task formats the name with %q (a raw label keeps its quotes escaped).
    #[error("task: Task {} cancelled because it is missing required variables: {vars}", q(.task))]
    MissingVars { task: String, vars: String },
    #[error("task: Task {} cancelled because it is missing required variables:\n{lines}", q(.task))]
    DisallowedValues { task: String, lines: String },
    #[error("task: precondition not met")]
    Precondition,
    #[error("task: Task \"{0}\" is not up-to-date")]
    NotUpToDate(String),
    #[error("{0}")]
    Compile(String, i32),
    #[error("{0}")]
    Other(String),
    /// A dependency cycle found before running (go-task's text, exit 204).
    #[error("{0}")]
    Cycle(String),
    /// An inherited deadline passed; the call that set it reports it.
    #[error("context deadline exceeded")]
    Deadline,
}

impl TaskError {
    /// The exit status of the command at the bottom of this error, if one failed.
    fn command_status(&self) -> Option<i32> {
        match self {
            TaskError::Command { code, .. } => Some(*code),
            TaskError::Run { inner, .. } => inner.command_status(),
            _ => None,
        }
    }

    fn is_deadline(&self) -> bool {
        match self {
            TaskError::Deadline => true,
            TaskError::Run { inner, .. } => inner.is_deadline(),
            _ => false,
        }
    }

    pub fn exit_code(&self, pass_through: bool) -> i32 {
        match self {
            TaskError::NotFound { .. } => 200,
            TaskError::Run { inner, .. } => match inner.as_ref() {
                TaskError::Command { code, timeout, .. } if pass_through => {
                    if *timeout {
                        124
                    } else {
                        *code
                    }
                }
                TaskError::Command { timeout: true, .. } => 208,
                // A failing `sh:` var of a called task is a run error (201); a call to a
                // task that does not exist keeps its own code (200), as go-task 3.54 exits.
                TaskError::Command { .. }
                | TaskError::Precondition
                | TaskError::Other(_)
                | TaskError::Compile(..) => 201,
                other => other.exit_code(pass_through),
            },
            TaskError::Command { code, timeout, .. } => {
                if pass_through {
                    if *timeout {
                        124
                    } else {
                        *code
                    }
                } else if *timeout {
                    208
                } else {
                    201
                }
            }
            TaskError::Internal(_) => 202,
            TaskError::Ambiguous(..) => 203,
            TaskError::TooMany(_) => 204,
            TaskError::PromptNoTty(_) | TaskError::Cancelled(_) => 205,
            TaskError::MissingVars { .. } => 206,
            TaskError::DisallowedValues { .. } => 207,
            TaskError::Precondition => 201,
            TaskError::NotUpToDate(_) => 1,
            TaskError::Compile(_, c) => *c,
            TaskError::Other(_) => 1,
            TaskError::Deadline => 208,
            TaskError::Cycle(_) => 204,
        }
    }

    fn from_compile(e: CompileError) -> Self {
        let code = e.exit_code();
        // go-task prints template errors as they are (`template: :1: …`), no `task: `.
        let msg = e.to_string();
        TaskError::Compile(msg, code)
    }
}

#[derive(Clone, Debug, Default)]
pub struct Options {
    pub dry: bool,
    pub force: bool,
    pub force_all: bool,
    pub silent: bool,
    pub verbose: bool,
    pub concurrency: usize,
    pub failfast: bool,
    pub assume_yes: bool,
    /// `--interactive`: prompt for missing required vars.
    pub interactive: bool,
    pub output: Option<Output>,
    pub temp_dir: PathBuf,
    pub color: bool,
    /// Put a PATH entry first that makes `helm`/`cosign` resolve to this binary.
    pub native_tools: bool,
    /// `--disable-fuzzy`: no "Did you mean" in task-not-found errors.
    pub disable_fuzzy: bool,
    /// `--cache URL`: the shared task cache (crate::cache).
    pub cache: Option<Arc<crate::cache::Cache>>,
    /// `--fingerprint-definition`: a changed task definition makes the task stale.
    pub fingerprint_definition: bool,
}

/// A counting semaphore for `--concurrency`.
struct Limit {
    max: usize,
    used: Mutex<usize>,
    cv: Condvar,
}

impl Limit {
    fn acquire(&self) {
        if self.max == 0 {
            return;
        }
        let mut u = self.used.lock().unwrap();
        while *u >= self.max {
            u = self.cv.wait(u).unwrap();
        }
        *u += 1;
    }
    fn release(&self) {
        if self.max == 0 {
            return;
        }
        *self.used.lock().unwrap() -= 1;
        self.cv.notify_one();
    }
}

type Shared = Arc<(Mutex<Option<Result<(), TaskError>>>, Condvar)>;

pub struct Executor {
    pub compiler: Arc<Compiler>,
    pub opts: Options,
    pub printer: Printer,
    limit: Limit,
    calls: Mutex<HashMap<String, u32>>,
    executions: Mutex<HashMap<String, Shared>>,
    /// Set by a signal: start nothing new.
    pub cancelled: Arc<AtomicBool>,
    /// Set by a failfast failure: also kill what runs.
    abort: Arc<AtomicBool>,
    shim: std::sync::OnceLock<Option<PathBuf>>,
}

impl Executor {
    pub fn new(compiler: Arc<Compiler>, opts: Options) -> Self {
        let printer = Printer::new(opts.color);
        Executor {
            compiler,
            limit: Limit {
                max: opts.concurrency,
                used: Mutex::new(0),
                cv: Condvar::new(),
            },
            opts,
            printer,
            calls: Mutex::new(HashMap::new()),
            executions: Mutex::new(HashMap::new()),
            cancelled: Arc::new(AtomicBool::new(false)),
            abort: Arc::new(AtomicBool::new(false)),
            shim: std::sync::OnceLock::new(),
        }
    }

    /// Starts nothing new and kills what runs (watch mode cancels a run this way).
    pub fn abort(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        self.abort.store(true, Ordering::SeqCst);
    }

    fn project(&self) -> &crate::taskfile::Project {
        &self.compiler.project
    }

    /// Resolves a name (exact, alias, namespace default, wildcard) to a task entry.
    pub fn resolve(&self, name: &str) -> Result<(TaskEntry, String, Vec<String>), TaskError> {
        let p = self.project();
        if let Some(e) = p.get(name) {
            return Ok((e.clone(), String::new(), vec![]));
        }
        let matches: Vec<&TaskEntry> = p
            .tasks
            .values()
            .filter(|e| e.aliases.iter().any(|a| a == name))
            .collect();
        match matches.len() {
            1 => return Ok((matches[0].clone(), name.to_string(), vec![])),
            n if n > 1 => {
                let names: Vec<&str> = matches.iter().map(|e| e.name.as_str()).collect();
                return Err(TaskError::Ambiguous(names.join(", "), name.to_string()));
            }
            _ => {}
        }
        // A namespace (or a namespace alias) alone runs its default task.
        let default_name = format!("{name}:default");
        if let Some(e) = p.get(&default_name) {
            return Ok((e.clone(), String::new(), vec![]));
        }
        if let Some(e) = p
            .tasks
            .values()
            .find(|e| e.aliases.iter().any(|a| a == &default_name))
        {
            return Ok((e.clone(), String::new(), vec![]));
        }
        for e in p.tasks.values() {
            for pat in std::iter::once(&e.name).chain(e.aliases.iter()) {
                if pat.contains('*') {
                    if let Some(caps) = wildcard_match(pat, name) {
                        return Ok((e.clone(), String::new(), caps));
                    }
                }
            }
        }
        // As go-task's GetTask: every lookup that fails suggests a near name.
        Err(TaskError::NotFound {
            name: name.to_string(),
            suggestion: if self.opts.disable_fuzzy {
                None
            } else {
                self.suggest(name)
            },
        })
    }

    /// go-task's "Did you mean": its spelling model over every non-internal task name and
    /// alias (see `fuzzy`).
    pub fn suggest(&self, name: &str) -> Option<String> {
        let p = self.project();
        let words = p.tasks.values().filter(|e| !e.task.internal).flat_map(|e| {
            std::iter::once(e.name.as_str()).chain(e.aliases.iter().map(|a| a.as_str()))
        });
        fuzzy::Model::train(words).spell_check(name)
    }

    /// A top-level call that can only end in a dependency cycle fails before anything runs.
    pub fn check_cycles(&self, call: &Call) -> Result<(), TaskError> {
        let name = match self.resolve(&call.task) {
            Ok((e, _, m)) if m.is_empty() => e.name,
            _ => return Ok(()),
        };
        match graph::doomed_call(self.project(), &name, MAX_TASK_CALLS) {
            Some((msg, cycle)) => {
                self.verbose(
                    Color::Magenta,
                    &format!(
                        "task: dependency cycle: {} -> {}\n",
                        cycle.join(" -> "),
                        cycle.first().cloned().unwrap_or_default()
                    ),
                );
                Err(TaskError::Cycle(msg))
            }
            None => Ok(()),
        }
    }

    /// Runs one task call and everything it needs.
    ///
    /// Calls nest (a `task:` cmd or a dep runs inside its caller), up to go-task's limit of
    /// [`MAX_TASK_CALLS`] per task; the stack grows on the heap as needed so that limit is
    /// reached with go-task's error instead of a stack overflow, on any thread.
    pub fn run_task(&self, call: &Call) -> Result<(), TaskError> {
        stacker::maybe_grow(256 * 1024, 8 * 1024 * 1024, || self.run_task_inner(call))
    }

    fn run_task_inner(&self, call: &Call) -> Result<(), TaskError> {
        if self.cancelled.load(Ordering::SeqCst) || self.abort.load(Ordering::SeqCst) {
            return Err(TaskError::Other("task: context canceled".into()));
        }
        let (entry, alias, matches) = self.resolve(&call.task)?;
        if entry.task.internal && !call.indirect {
            return Err(TaskError::Internal(call.task.clone()));
        }
        let mut entry = entry;
        if !matches.is_empty() {
            // variables.go: a wildcard task's name is its own with each `*` replaced by the
            // matched values in turn (so a wildcard alias names the task, not the alias).
            let mut name = entry.name.clone();
            for m in &matches {
                name = name.replacen('*', m, 1);
            }
            entry.name = name;
        }
        let call = Call {
            task: entry.name.clone(),
            alias: if alias.is_empty() {
                call.alias.clone()
            } else {
                alias
            },
            matches: if matches.is_empty() {
                call.matches.clone()
            } else {
                matches
            },
            ..call.clone()
        };
        if !platform_ok(&entry.task.platforms) {
            // task.go writes this one in a raw string: a literal `\n`, no newline, on stdout.
            self.verbose_out(
                Color::Yellow,
                &format!(
                    "task: {} not for current platform - ignored\\n",
                    crate::template::go_quote(&call.task)
                ),
            );
            return Ok(());
        }
        let call = self.prompt_missing_vars(&entry, call)?;
        // Required vars are checked on the fast-compiled vars, before any `sh:` var runs
        // (go-task: a clear "missing required variables" rather than a failing command).
        // The error names the task by its fast-compiled label (go-task's t.Name()).
        if !entry.task.requires.is_empty() {
            let (fast, _) = self
                .compiler
                .compile_fast(&entry, &call)
                .map_err(TaskError::from_compile)?;
            missing_required(fast.display(), &entry.task.requires, &fast.vars)?;
        }
        let t = self
            .compiler
            .compile(&entry, &call)
            .map_err(TaskError::from_compile)?;
        self.check_requires(&t)?;
        {
            let mut calls = self.calls.lock().unwrap();
            let n = calls.entry(t.name.clone()).or_insert(0);
            *n += 1;
            if *n >= MAX_TASK_CALLS {
                return Err(TaskError::TooMany(t.name.clone()));
            }
        }
        self.limit.acquire();
        let r = self.run_compiled(&t, &call);
        self.limit.release();
        if r.as_ref().is_err_and(TaskError::is_deadline) {
            self.verbose(
                Color::Red,
                &format!("task: \"{}\" failed: context deadline exceeded\n", t.name),
            );
        }
        r
    }

    /// `--interactive`: asks on the terminal for required vars that have no value.
    fn prompt_missing_vars(&self, entry: &TaskEntry, mut call: Call) -> Result<Call, TaskError> {
        use std::io::{BufRead, IsTerminal};
        if !self.opts.interactive
            || entry.task.requires.is_empty()
            || !std::io::stdin().is_terminal()
        {
            return Ok(call);
        }
        let vars = self
            .compiler
            .vars(Some(entry), Some(&call), false)
            .map_err(TaskError::from_compile)?
            .0;
        for r in &entry.task.requires {
            if vars.contains_key(&r.name) || call.vars.contains_key(&r.name) {
                continue;
            }
            let hint = match &r.enum_ {
                Some(EnumSpec::List(l)) => format!(" [{}]", l.join("/")),
                _ => String::new(),
            };
            self.printer.log(&format!("? {}{hint}: ", r.name));
            let mut line = String::new();
            if std::io::stdin().lock().read_line(&mut line).unwrap_or(0) == 0 {
                return Err(TaskError::Cancelled(entry.name.clone()));
            }
            let value = line.trim_end_matches(['\n', '\r']).to_string();
            call.vars.insert(
                r.name.clone(),
                crate::taskfile::ast::Var::stat(Value::Str(value)),
            );
        }
        Ok(call)
    }

    fn check_requires(&self, t: &CompiledTask) -> Result<(), TaskError> {
        let reqs = &t.task().requires;
        if reqs.is_empty() {
            return Ok(());
        }
        missing_required(t.display(), reqs, &t.vars)?;
        let mut lines = vec![];
        for r in reqs {
            let Some(spec) = &r.enum_ else { continue };
            let allowed: Vec<String> = match spec {
                EnumSpec::List(l) => l.clone(),
                EnumSpec::Ref(expr) => match crate::compile::resolve_ref(expr, &t.vars) {
                    Ok(Value::List(items)) => items.iter().map(template::go_format).collect(),
                    Ok(Value::StrList(items)) => items,
                    _ => {
                        return Err(TaskError::Other(format!(
                            "enum reference \"{expr}\" must resolve to a list"
                        )))
                    }
                },
            };
            let val = t
                .vars
                .get(&r.name)
                .map(template::go_format)
                .unwrap_or_default();
            if !allowed.contains(&val) {
                lines.push(format!(
                    "  - {} has an invalid value : '{}' (allowed values : [{}])",
                    r.name,
                    val,
                    allowed.join(" ")
                ));
            }
        }
        if !lines.is_empty() {
            return Err(TaskError::DisallowedValues {
                task: t.display().to_string(),
                lines: format!("{}\n", lines.join("\n")),
            });
        }
        Ok(())
    }

    fn run_compiled(&self, t: &CompiledTask, call: &Call) -> Result<(), TaskError> {
        if let Some(cond) = &t.task().if_ {
            let cond = self
                .compiler
                .render_with(cond, &t.vars)
                .map_err(TaskError::from_compile)?;
            if !self.condition(&cond, t) {
                self.verbose_out(
                    Color::Yellow,
                    &format!("task: if condition not met - skipped: {}\n", q(&t.name)),
                );
                return Ok(());
            }
        }
        // Keyed like go-task: the file and the task's local name, so one file included
        // under two namespaces still runs once.
        let local = t
            .entry
            .name
            .strip_prefix(&format!("{}:", t.entry.origin.namespace))
            .unwrap_or(&t.entry.name);
        let base = format!("{}:{local}", t.entry.origin.taskfile.display());
        let key = match t
            .task()
            .run
            .as_deref()
            .or(self.project().root.run.as_deref())
            .unwrap_or("always")
        {
            "once" => Some(base),
            "when_changed" => Some(format!("{base}:{}", call_hash(call))),
            _ => None,
        };
        let Some(key) = key else {
            return self.execute(t, call);
        };
        let (shared, first) = {
            let mut ex = self.executions.lock().unwrap();
            match ex.get(&key) {
                Some(s) => (s.clone(), false),
                None => {
                    let s: Shared = Arc::new((Mutex::new(None), Condvar::new()));
                    ex.insert(key.clone(), s.clone());
                    (s, true)
                }
            }
        };
        if first {
            let r = self.execute(t, call);
            *shared.0.lock().unwrap() = Some(r.clone());
            shared.1.notify_all();
            r
        } else {
            // Free our slot while the first execution finishes.
            self.limit.release();
            let mut g = shared.0.lock().unwrap();
            while g.is_none() {
                match current_deadline() {
                    Some((when, ..)) => {
                        let now = std::time::Instant::now();
                        if now >= when {
                            drop(g);
                            self.limit.acquire();
                            return Err(TaskError::Deadline);
                        }
                        g = shared.1.wait_timeout(g, when - now).unwrap().0;
                    }
                    None => g = shared.1.wait(g).unwrap(),
                }
            }
            let r = g.clone().unwrap();
            drop(g);
            self.limit.acquire();
            r
        }
    }

    fn execute(&self, t: &CompiledTask, call: &Call) -> Result<(), TaskError> {
        self.verbose(
            Color::Magenta,
            &format!("task: {} started\n", q(&call.task)),
        );
        self.run_deps(t).map_err(|e| TaskError::Run {
            task: t.display().to_string(),
            inner: Box::new(e),
        })?;
        let skip_fp = self.opts.force_all || (!call.indirect && self.opts.force);
        if !skip_fp {
            self.check_preconditions(t).map_err(|e| TaskError::Run {
                task: t.display().to_string(),
                inner: Box::new(e),
            })?;
            if self.is_up_to_date(t, call)? {
                let quiet = self.opts.silent
                    || t.task().silent
                    || call.silent
                    || self.project().root.silent;
                if !quiet || self.opts.verbose {
                    // go-task names the task by its prefix in prefixed output.
                    let name = if matches!(self.output_mode(), Output::Prefixed) {
                        t.prefix.as_str()
                    } else {
                        t.display()
                    };
                    self.printer.log_color(
                        Color::Magenta,
                        &format!("task: Task {} is up to date\n", q(&name)),
                    );
                }
                return Ok(());
            }
        }
        // The shared cache: a hit restores the outputs and runs nothing (not with --force).
        let keyed = if skip_fp {
            None
        } else {
            self.cache_key(t, call)
        };
        if let Some(k) = &keyed {
            if self.try_restore(t, call, k) {
                self.save_definition(t, call);
                return Ok(());
            }
        }
        let recording = keyed
            .as_ref()
            .filter(|_| !self.opts.dry)
            .map(|_| self.start_recording());
        let result = self.execute_cmds(t, call);
        if let Some((rec, prev)) = recording {
            self.stop_recording(prev);
            if let (Ok(()), Some(k)) = (&result, &keyed) {
                self.record(t, k, &rec);
            }
        }
        if result.is_ok() {
            self.save_definition(t, call);
        }
        result
    }

    fn execute_cmds(&self, t: &CompiledTask, call: &Call) -> Result<(), TaskError> {
        if !t.prompt.is_empty() && !self.opts.dry {
            self.prompt(t).map_err(|e| TaskError::Run {
                task: t.display().to_string(),
                inner: Box::new(e),
            })?;
        }
        // go-task makes the task's dir even in a dry run (task.go mkdir, not dry-guarded).
        let _ = std::fs::create_dir_all(&t.dir);
        let mut deferred: Vec<usize> = vec![];
        let mut exit_code: Option<i32> = None;
        let mut result = Ok(());
        for (i, c) in t.cmds.iter().enumerate() {
            let is_defer = matches!(
                c,
                CompiledCmd::Shell { defer: true, .. } | CompiledCmd::Task { defer: true, .. }
            );
            if is_defer {
                deferred.push(i);
                continue;
            }
            if let Err(e) = self.run_cmd(t, call, c) {
                self.on_task_failed(t);
                // Only a command's own failure (exit status, its timeout) is ignored, not
                // Task failing to run it, e.g. a called task's missing required vars.
                let ignored = t.task().ignore_error && is_command_failure(&e);
                if !ignored {
                    // go-task's interp.IsExitStatus unwraps: a failed task call gives
                    // the exit status of the command that failed inside it.
                    exit_code = e.command_status().or(exit_code);
                }
                if ignored {
                    cached::taint();
                    if self.opts.verbose {
                        self.verbose(Color::Yellow, &format!("task: task error ignored: {e}\n"));
                    }
                    continue;
                }
                // task.go: logged before the deferred commands run (a deadline is logged
                // by the caller, once the task returns).
                // Formatted only when shown: a chain of 2,000 nested calls is deep to format.
                if self.opts.verbose && !e.is_deadline() {
                    let msg = stacker::maybe_grow(64 * 1024, 16 * 1024 * 1024, || {
                        format!(
                            "task: {} failed: {e}\n",
                            crate::template::go_quote(&call.task)
                        )
                    });
                    self.verbose(Color::Red, &msg);
                }
                result = Err(TaskError::Run {
                    task: t.display().to_string(),
                    inner: Box::new(e),
                });
                break;
            }
        }
        if result.is_ok() {
            self.verbose(
                Color::Magenta,
                &format!("task: {} finished\n", q(&call.task)),
            );
        }
        for &i in deferred.iter().rev() {
            self.run_deferred(t, call, &t.cmds[i], exit_code);
        }
        result
    }

    fn run_deferred(&self, t: &CompiledTask, call: &Call, c: &CompiledCmd, exit_code: Option<i32>) {
        let c = match c {
            CompiledCmd::Shell {
                raw,
                item_vars,
                silent,
                ignore_error,
                set,
                shopt,
                platforms,
                if_,
                timeout,
                ..
            } => match self.compiler.render_deferred(t, raw, item_vars, exit_code) {
                Ok((cmd, shown)) => CompiledCmd::Shell {
                    cmd,
                    shown,
                    shown_raw: None,
                    silent: *silent,
                    ignore_error: *ignore_error,
                    defer: false,
                    set: set.clone(),
                    shopt: shopt.clone(),
                    platforms: platforms.clone(),
                    if_: if_.clone(),
                    timeout: timeout.clone(),
                    raw: raw.clone(),
                    item_vars: item_vars.clone(),
                },
                Err(e) => {
                    self.printer
                        .log(&format!("{}\n", TaskError::from_compile(e)));
                    return;
                }
            },
            CompiledCmd::Task {
                call: c2,
                if_,
                timeout,
                platforms,
                ..
            } => {
                let mut c2 = c2.clone();
                if let Some(code) = exit_code {
                    let _ = code;
                }
                c2.indirect = true;
                CompiledCmd::Task {
                    call: c2,
                    defer: false,
                    ignore_error: false,
                    if_: if_.clone(),
                    timeout: timeout.clone(),
                    platforms: platforms.clone(),
                }
            }
        };
        if let Err(e) = self.run_cmd(t, call, &c) {
            self.verbose(
                Color::Yellow,
                &format!("task: ignored error in deferred cmd: {e}\n"),
            );
        }
    }

    fn run_deps(&self, t: &CompiledTask) -> Result<(), TaskError> {
        if t.deps.is_empty() {
            return Ok(());
        }
        let failfast = self.opts.failfast || t.task().failfast;
        // Deps do not hold a concurrency slot of their parent while they run.
        self.limit.release();
        let first_err: Mutex<Option<TaskError>> = Mutex::new(None);
        let stop = AtomicBool::new(false);
        pool::scope(|s| {
            let inherited = current_deadline();
            // go-task starts each dep in a goroutine; Go's scheduler runs the newest one
            // first (the `runnext` slot), then the rest in order. Starting the threads in
            // that order gives the same bias where deps race (whose failure is reported).
            let n = t.deps.len();
            let order = std::iter::once(n - 1).chain(0..n - 1);
            for d in order.map(|i| &t.deps[i]) {
                let first_err = &first_err;
                let stop = &stop;
                let inherited = inherited.clone();
                s.spawn(move || {
                    // A pooled thread starts as a fresh one would: no recording, the
                    // caller's deadline.
                    cached::RECORDING.with(|r| *r.borrow_mut() = None);
                    DEADLINE.with(|x| *x.borrow_mut() = inherited);
                    if failfast && stop.load(Ordering::SeqCst) {
                        return;
                    }
                    if let Some(cond) = &d.if_ {
                        if !self.condition(cond, t) {
                            return;
                        }
                    }
                    let timeout = d.timeout.as_deref().and_then(parse_duration);
                    let r = with_deadline(timeout.map(|x| (x, t.display().to_string())), || {
                        self.run_task(&d.call)
                    });
                    let r = match (r, timeout) {
                        (Err(e), Some(dur)) if e.is_deadline() => {
                            Err(timeout_error(&d.call.task, dur))
                        }
                        (r, _) => r,
                    };
                    if let Err(e) = r {
                        stop.store(true, Ordering::SeqCst);
                        if failfast {
                            self.abort.store(true, Ordering::SeqCst);
                        }
                        let mut fe = first_err.lock().unwrap();
                        if fe.is_none() {
                            *fe = Some(e);
                        }
                    }
                });
            }
        });
        self.limit.acquire();
        match first_err.into_inner().unwrap() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn run_cmd(&self, t: &CompiledTask, call: &Call, c: &CompiledCmd) -> Result<(), TaskError> {
        match c {
            CompiledCmd::Task {
                call: sub,
                if_,
                platforms,
                timeout,
                ignore_error,
                ..
            } => {
                if !platform_ok(platforms) {
                    return Ok(());
                }
                if let Some(cond) = if_ {
                    if !self.condition(cond, t) {
                        self.verbose_out(
                            Color::Yellow,
                            &format!("task: if condition not met - skipped: {}\n", q(&sub.task)),
                        );
                        return Ok(());
                    }
                }
                self.limit.release();
                let timeout = timeout.as_deref().and_then(parse_duration);
                let r = with_deadline(timeout.map(|x| (x, t.display().to_string())), || {
                    self.run_task(sub)
                });
                self.limit.acquire();
                let r = match (r, timeout) {
                    (Err(e), Some(dur)) if e.is_deadline() => Err(timeout_error(t.display(), dur)),
                    (r, _) => r,
                };
                match r {
                    // task.go runCommand: a call's ignore_error covers the called task's
                    // command failures (exit status, timeout), not Task failing to run it.
                    Err(e) if *ignore_error && is_command_failure(&e) => {
                        self.verbose(
                            Color::Yellow,
                            &format!("task: [{}] task error ignored: {e}\n", t.display()),
                        );
                        Ok(())
                    }
                    r => r,
                }
            }
            CompiledCmd::Shell {
                cmd,
                shown,
                shown_raw,
                silent,
                ignore_error,
                set,
                shopt,
                platforms,
                if_,
                timeout,
                ..
            } => {
                if !platform_ok(platforms) {
                    return Ok(());
                }
                if let Some(cond) = if_ {
                    let limit = timeout.as_deref().and_then(parse_duration);
                    match shell::status_within(
                        cond,
                        &t.dir,
                        &self.command_env(t),
                        &self.project().root.set,
                        &self.project().root.shopt,
                        limit,
                    ) {
                        Some(true) => {}
                        Some(false) => {
                            self.verbose_out(
                                Color::Yellow,
                                &format!(
                                    "task: [{}] if condition not met - skipped\n",
                                    t.display()
                                ),
                            );
                            return Ok(());
                        }
                        None => return Err(timeout_error(t.display(), limit.unwrap_or_default())),
                    }
                }
                let quiet = *silent
                    || t.task().silent
                    || self.opts.silent
                    || call.silent
                    || self.project().root.silent;
                if (!quiet || self.opts.verbose) && !cmd.is_empty() {
                    match shown_raw {
                        Some(raw) => {
                            let mut line = format!("task: [{}] ", t.display()).into_bytes();
                            line.extend_from_slice(raw);
                            line.push(b'\n');
                            self.printer.log_bytes(&line);
                        }
                        None => self.printer.log_color(
                            Color::Green,
                            &format!("task: [{}] {}\n", t.display(), shown),
                        ),
                    }
                }
                if self.opts.dry || cmd.is_empty() {
                    return Ok(());
                }
                let mut set_all = self.project().root.set.clone();
                set_all.extend(t.task().set.iter().cloned());
                set_all.extend(set.iter().cloned());
                let mut shopt_all = self.project().root.shopt.clone();
                shopt_all.extend(t.task().shopt.iter().cloned());
                shopt_all.extend(shopt.iter().cloned());
                let own = match timeout {
                    Some(s) => Some(parse_duration(s).ok_or_else(|| {
                        TaskError::Other(format!("task: invalid timeout \"{s}\""))
                    })?),
                    None => None,
                };
                // The inherited deadline applies when it is sooner than the command's own.
                let inherited = current_deadline()
                    .map(|(when, ..)| when.saturating_duration_since(std::time::Instant::now()));
                let (timeout_d, is_own) = match (own, inherited) {
                    (Some(o), Some(i)) if i < o => (Some(i), false),
                    (Some(o), _) => (Some(o), true),
                    (None, Some(i)) => (Some(i), false),
                    (None, None) => (None, true),
                };
                let out_mode = self.output_mode();
                let spec = ShellSpec {
                    script: cmd,
                    dir: &t.dir,
                    env: &self.command_env(t),
                    set: &set_all,
                    shopt: &shopt_all,
                    timeout: timeout_d,
                    interactive: t.task().interactive,
                    cancelled: &self.abort,
                };
                let sink = cached::record_sink(self.printer.sink(&out_mode, t, &self.compiler));
                let r = shell::run(&spec, sink);
                match r {
                    Ok(()) => Ok(()),
                    Err(ShellError::Exit(code)) => {
                        if *ignore_error {
                            cached::taint();
                            self.verbose(
                                Color::Yellow,
                                &format!(
                                    "task: [{}] command error ignored: exit status {code}\n",
                                    t.display()
                                ),
                            );
                            return Ok(());
                        }
                        Err(TaskError::Command {
                            msg: format!("exit status {code}"),
                            code,
                            timeout: false,
                        })
                    }
                    Err(ShellError::Timeout) if !is_own => Err(TaskError::Deadline),
                    Err(ShellError::Timeout) => {
                        let d = timeout.clone().unwrap_or_default();
                        let msg = format!(
                            "task: [{}] command timeout exceeded ({})",
                            t.display(),
                            format_duration(timeout_d.unwrap_or_default(), &d)
                        );
                        if *ignore_error {
                            cached::taint();
                            self.verbose(
                                Color::Yellow,
                                &format!("task: [{}] command error ignored: {msg}\n", t.display()),
                            );
                            return Ok(());
                        }
                        Err(TaskError::Command {
                            msg,
                            code: 124,
                            timeout: true,
                        })
                    }
                    Err(ShellError::Io(e)) => Err(TaskError::Other(format!("task: {e}"))),
                    // go-task: the parse error itself, exit 201 even with --exit-code; not
                    // an exit status, so no `ignore_error` ignores it and no EXIT_CODE.
                    Err(ShellError::Syntax(m)) => Err(TaskError::Other(m)),
                }
            }
        }
    }

    fn output_mode(&self) -> Output {
        self.opts
            .output
            .clone()
            .or_else(|| self.project().root.output.clone())
            .unwrap_or(Output::Interleaved)
    }

    /// The native-tools directory, made on first use (up-to-date runs never need it).
    fn shim_dir(&self) -> Option<&PathBuf> {
        if !self.opts.native_tools {
            return None;
        }
        self.shim
            .get_or_init(|| {
                crate::native::shim_base().and_then(|b| crate::native::shim_dir(&b).ok())
            })
            .as_ref()
    }

    /// The environment commands see: ours, the task's env (OS precedence applied), and
    /// the native-tools PATH entry.
    pub fn command_env(&self, t: &CompiledTask) -> Vec<(String, String)> {
        let mut env: IndexMap<String, String> = self.compiler.ctx.os_env.clone();
        for (k, v) in &t.env {
            env.insert(k.clone(), v.clone());
        }
        if let Some(shim) = self.shim_dir() {
            let native_off = env
                .get("OXTASK_NATIVE")
                .is_some_and(|v| v == "0" || v.eq_ignore_ascii_case("false"));
            if !native_off {
                let path = env.get("PATH").cloned().unwrap_or_default();
                env.insert("PATH".into(), format!("{}:{path}", shim.display()));
            }
        }
        env.into_iter().collect()
    }

    /// `if:`/status-style checks: a command whose exit status decides.
    fn condition(&self, cmd: &str, t: &CompiledTask) -> bool {
        let env = self.command_env(t);
        shell::status(
            cmd,
            &t.dir,
            &env,
            &self.project().root.set,
            &self.project().root.shopt,
        )
    }

    fn check_preconditions(&self, t: &CompiledTask) -> Result<(), TaskError> {
        for (sh, msg) in &t.preconditions {
            if !self.condition(sh, t) {
                let m = msg.clone().unwrap_or_else(|| format!("{sh} failed"));
                self.printer
                    .log_color(Color::Magenta, &format!("task: {m}\n"));
                return Err(TaskError::Precondition);
            }
        }
        Ok(())
    }

    /// Runs `f` with the task's fingerprint (go-task's `.task/` state).
    fn with_fingerprint<R>(
        &self,
        t: &CompiledTask,
        f: impl FnOnce(&fingerprint::Fingerprint) -> R,
    ) -> Result<R, TaskError> {
        let (sources, generates, method) = self
            .compiler
            .fingerprint_inputs(t.task(), &t.vars)
            .map_err(TaskError::from_compile)?;
        let fp = fingerprint::Fingerprint {
            task: &t.name,
            name: t.display(),
            dir: &t.dir,
            sources: &sources,
            generates: &generates,
            method: &method,
            temp_dir: &self.opts.temp_dir,
            dry: self.opts.dry,
            use_gitignore: self.compiler.use_gitignore(&t.entry),
        };
        Ok(f(&fp))
    }

    /// go-task's verdict: status commands and sources must all pass; with neither, run.
    fn is_up_to_date(&self, t: &CompiledTask, call: &Call) -> Result<bool, TaskError> {
        if !self.sources_and_status_current(t)? {
            return Ok(false);
        }
        // Opt-in (go-task#455): a task whose definition changed is stale. Only tasks that
        // can be up to date at all are concerned; without the flag this is go-task's check.
        Ok(self.definition_current(t, call))
    }

    fn sources_and_status_current(&self, t: &CompiledTask) -> Result<bool, TaskError> {
        let wrap = |e: fingerprint::FingerprintError| TaskError::Run {
            task: t.display().to_string(),
            inner: Box::new(TaskError::Other(e.to_string())),
        };
        // One set of templated inputs serves the method check and the sources check.
        self.with_fingerprint(t, |fp| {
            fp.validate_method().map_err(wrap)?;
            let status_ok = if t.status.is_empty() {
                None
            } else {
                let mut ok = true;
                for s in &t.status {
                    if self.condition(s, t) {
                        self.verbose_out(
                            Color::Yellow,
                            &format!("task: status command {s} exited zero\n"),
                        );
                    } else {
                        self.verbose_out(
                            Color::Yellow,
                            &format!("task: status command {s} exited non-zero: exit status 1\n"),
                        );
                        ok = false;
                        break;
                    }
                }
                Some(ok)
            };
            let sources_ok = if t.sources.is_empty() {
                None
            } else {
                Some(fp.is_up_to_date().map_err(wrap)?)
            };
            Ok(fingerprint::combine(status_ok, sources_ok))
        })?
    }

    fn on_task_failed(&self, t: &CompiledTask) {
        if !t.sources.is_empty() {
            let _ = self.with_fingerprint(t, |fp| fp.on_task_failed());
        }
    }

    fn prompt(&self, t: &CompiledTask) -> Result<(), TaskError> {
        use std::io::IsTerminal;
        // task.go: an empty prompt is no prompt.
        let prompts = t.prompt.iter().filter(|p| !p.is_empty());
        if self.opts.assume_yes {
            for p in prompts {
                self.printer
                    .out_color(Color::Yellow, &format!("{p} [assuming yes]\n"));
            }
            return Ok(());
        }
        let mut prompts = prompts.peekable();
        if prompts.peek().is_none() {
            return Ok(());
        }
        // internal/term.IsTerminal: stdin and stdout.
        if !(std::io::stdin().is_terminal() && std::io::stdout().is_terminal()) {
            return Err(TaskError::PromptNoTty(t.name.clone()));
        }
        for p in prompts {
            // logger.Prompt: on stdout, in yellow, no `task: ` prefix.
            self.printer
                .out_color(Color::Yellow, &format!("{p} [y/N]: "));
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
            let a = line.trim().to_lowercase();
            if a != "y" && a != "yes" {
                return Err(TaskError::Cancelled(t.name.clone()));
            }
        }
        Ok(())
    }

    /// go-task's VerboseOutf: verbose notes that go to stdout.
    fn verbose_out(&self, color: Color, msg: &str) {
        if self.opts.verbose {
            self.printer.out_color(color, msg);
        }
    }

    /// go-task's VerboseErrf: verbose notes that go to stderr.
    fn verbose(&self, color: Color, msg: &str) {
        if self.opts.verbose {
            self.printer.log_color(color, msg);
        }
    }

    /// `--status`: every named task must be up to date.
    /// Whether a task's sources fingerprint is current (what `--json` reports).
    pub fn sources_up_to_date(&self, call: &Call) -> Result<bool, TaskError> {
        let (entry, _, _) = self.resolve(&call.task)?;
        // go-task's JSON listing fingerprints the list-compiled task: fast vars, no `sh:`
        // run, so a task whose full compile would fail still gets its checksum written.
        let (t, _) = self
            .compiler
            .compile_fast(&entry, call)
            .map_err(TaskError::from_compile)?;
        self.with_fingerprint(&t, |fp| fp.is_up_to_date().unwrap_or(false))
    }

    pub fn status(&self, call: &Call) -> Result<(), TaskError> {
        let (entry, _, _) = self.resolve(&call.task)?;
        let t = self
            .compiler
            .compile(&entry, call)
            .map_err(TaskError::from_compile)?;
        if !self.is_up_to_date(&t, call)? && !self.cached_status(&t, call) {
            return Err(TaskError::NotUpToDate(t.display().to_string()));
        }
        Ok(())
    }
}

fn timeout_error(task: &str, d: Duration) -> TaskError {
    TaskError::Command {
        msg: format!(
            "task: [{task}] command timeout exceeded ({})",
            format_duration(d, "")
        ),
        code: 124,
        timeout: true,
    }
}

fn call_hash(call: &Call) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for (k, v) in &call.vars {
        k.hash(&mut h);
        format!("{:?}", v.value).hash(&mut h);
    }
    format!("{:x}", h.finish())
}

pub fn platform_ok(platforms: &[String]) -> bool {
    if platforms.is_empty() {
        return true;
    }
    let os = go_os();
    let arch = go_arch();
    platforms.iter().any(|p| match p.split_once('/') {
        Some((o, a)) => o == os && a == arch,
        None => p == os || p == arch,
    })
}

pub fn go_os() -> &'static str {
    match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    }
}

pub fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    }
}

/// Go's `time.ParseDuration`.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    if s == "0" {
        return Some(Duration::ZERO);
    }
    let mut total = 0f64;
    let mut rest = s;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_end == 0 {
            return None;
        }
        let n: f64 = rest[..num_end].parse().ok()?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let mult = match &rest[..unit_end] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += n * mult;
        rest = &rest[unit_end..];
    }
    Some(Duration::from_secs_f64(total))
}

/// Go's `Duration.String()`.
fn format_duration(d: Duration, _orig: &str) -> String {
    let total = d.as_secs_f64();
    if total == 0.0 {
        return "0s".into();
    }
    if total < 1.0 {
        let ms = d.as_nanos() as f64 / 1e6;
        if ms >= 1.0 {
            return format!("{}ms", trim_float(ms));
        }
        return format!("{}µs", trim_float(d.as_nanos() as f64 / 1e3));
    }
    let h = (total / 3600.0).floor() as u64;
    let m = ((total - h as f64 * 3600.0) / 60.0).floor() as u64;
    let s = total - h as f64 * 3600.0 - m as f64 * 60.0;
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if h > 0 || m > 0 {
        out.push_str(&format!("{m}m"));
    }
    out.push_str(&format!("{}s", trim_float(s)));
    out
}

fn trim_float(f: f64) -> String {
    let s = format!("{f:.9}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// `*` in a task name matches any run of characters; captures become MATCH.
pub fn wildcard_match(pat: &str, name: &str) -> Option<Vec<String>> {
    let parts: Vec<&str> = pat.split('*').collect();
    let mut caps = vec![];
    let mut rest = name.strip_prefix(parts[0])?;
    for (i, part) in parts.iter().enumerate().skip(1) {
        if i == parts.len() - 1 {
            let cap = rest.strip_suffix(part)?;
            caps.push(cap.to_string());
            rest = "";
        } else {
            let idx = rest.find(part)?;
            caps.push(rest[..idx].to_string());
            rest = &rest[idx + part.len()..];
        }
    }
    if rest.is_empty() {
        Some(caps)
    } else {
        None
    }
}

/// go-task's `areTaskRequiredVarsSet`: every required var must be defined.
/// go-task's isCommandFailure: an exit status or a command timeout anywhere in the chain.
fn is_command_failure(e: &TaskError) -> bool {
    match e {
        TaskError::Command { .. } => true,
        TaskError::Run { inner, .. } => is_command_failure(inner),
        _ => false,
    }
}

fn missing_required(
    task: &str,
    reqs: &[crate::taskfile::ast::Require],
    vars: &template::Map,
) -> Result<(), TaskError> {
    let missing: Vec<String> = reqs
        .iter()
        .filter(|r| !vars.contains_key(&r.name))
        .map(|r| match &r.enum_ {
            Some(EnumSpec::List(l)) => format!("{} (allowed values: [{}])", r.name, l.join(" ")),
            _ => r.name.clone(),
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(TaskError::MissingVars {
        task: task.to_string(),
        vars: missing.join(", "),
    })
}
