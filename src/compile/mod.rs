//! Variables, env and precedence: turns AST tasks into concrete commands.
//!
//! Precedence follows go-task's `getVariables`: OS env < special vars < Taskfile env <
//! Taskfile vars < include vars < included Taskfile vars < call vars < task vars, each
//! evaluated in order with everything before it visible to its templates.

use indexmap::IndexMap;
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use thiserror::Error;

use crate::run::fingerprint::{self, Fingerprint, GlobSpec, Method, SpecialVar};
use crate::taskfile::ast::{Cmd, Dep, For, MatrixRow, Task, Var, VarValue, Vars};
use crate::taskfile::{Project, TaskEntry};
use crate::template::{self, Map, Value};

#[derive(Debug, Error, Clone)]
pub enum CompileError {
    #[error("{0}")]
    Template(#[from] template::TemplateError),
    #[error("task: Command \"{cmd}\" failed: {err}")]
    DynamicVar { cmd: String, err: String },
    #[error("task: Failed to parse {file}:\n{msg}")]
    Matrix { file: String, msg: String },
    #[error("{0}")]
    Other(String),
}

impl CompileError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CompileError::Matrix { .. } => 109,
            _ => 1,
        }
    }
}

/// Runs a `sh:` command and returns its stdout; injected by the runner so that this
/// stage does not depend on how commands are executed.
pub type ShellFn = dyn Fn(&str, &Path, &[(String, String)]) -> Result<String, String> + Send + Sync;

/// Run-wide facts behind the special variables.
#[derive(Clone, Default)]
pub struct Context {
    pub user_working_dir: String,
    pub task_exe: String,
    pub cli_args: String,
    pub cli_args_list: Vec<String>,
    pub force: bool,
    pub silent: bool,
    pub verbose: bool,
    /// Colour on for `task: …` notes (settings' decision).
    pub color: bool,
    pub offline: bool,
    pub assume_yes: bool,
    pub env_precedence: bool,
    pub os_env: IndexMap<String, String>,
    /// `.task/` (or --temp-dir / TASK_TEMP_DIR): fingerprint state.
    pub temp_dir: PathBuf,
    pub dry: bool,
}

pub struct Compiler {
    pub project: Arc<Project>,
    pub ctx: Context,
    shell: Box<ShellFn>,
    sh_cache: Mutex<HashMap<(String, String), String>>,
}

/// A resolved call: which task, under which name it was called, and its call vars.
#[derive(Clone, Debug)]
pub struct Call {
    pub task: String,
    pub alias: String,
    pub vars: Vars,
    pub matches: Vec<String>,
    pub silent: bool,
    pub indirect: bool,
}

#[derive(Clone, Debug)]
pub struct CompiledTask {
    pub name: String,
    pub label: Option<String>,
    pub entry: TaskEntry,
    pub vars: Map,
    pub secrets: Vec<String>,
    pub dir: PathBuf,
    /// Env to add to commands (OS env precedence already applied).
    pub env: Vec<(String, String)>,
    pub cmds: Vec<CompiledCmd>,
    pub deps: Vec<CompiledDep>,
    pub desc: String,
    pub summary: String,
    pub prompt: Vec<String>,
    pub status: Vec<String>,
    pub preconditions: Vec<(String, Option<String>)>,
    pub sources: Vec<crate::taskfile::ast::Glob>,
    pub generates: Vec<crate::taskfile::ast::Glob>,
    pub prefix: String,
    /// Fast compile only: the env as go-task's summary shows it (global env, task dotenv,
    /// task env, each templated through the sticky cache; a group after the first error
    /// is dropped whole, as templater.ReplaceVars returns nil).
    pub env_shown: Vec<(String, ShownVar)>,
}

/// An env entry as go-task's summary formats it (formatVarValue).
#[derive(Clone, Debug)]
pub enum ShownVar {
    Secret,
    Sh(String),
    Value(Value),
}

impl CompiledTask {
    /// The name shown in logs: the label when set.
    pub fn display(&self) -> &str {
        self.label.as_deref().unwrap_or(&self.name)
    }
    pub fn task(&self) -> &Task {
        &self.entry.task
    }
}

#[derive(Clone, Debug)]
pub enum CompiledCmd {
    Shell {
        cmd: String,
        /// The command with secret values masked, for the echo line.
        shown: String,
        /// The echo line's exact bytes when the command is not valid UTF-8 (Go strings
        /// are bytes: `trunc` can cut a character).
        shown_raw: Option<Vec<u8>>,
        silent: bool,
        ignore_error: bool,
        defer: bool,
        set: Vec<String>,
        shopt: Vec<String>,
        platforms: Vec<String>,
        if_: Option<String>,
        timeout: Option<String>,
        /// Raw command, re-templated for deferred commands (EXIT_CODE).
        raw: Cmd,
        item_vars: Map,
    },
    Task {
        call: Call,
        defer: bool,
        /// `ignore_error` on the call: the called task's command failure is ignored.
        ignore_error: bool,
        if_: Option<String>,
        timeout: Option<String>,
        platforms: Vec<String>,
    },
}

#[derive(Clone, Debug)]
pub struct CompiledDep {
    pub call: Call,
    pub if_: Option<String>,
    pub timeout: Option<String>,
}

pub fn to_env_string(v: &Value) -> Option<String> {
    match v {
        Value::Str(s) => Some(s.clone()),
        Value::Bool(_) | Value::Int(_) | Value::Uint(_) | Value::Float(_) => {
            Some(template::go_format(v))
        }
        _ => None,
    }
}

fn slash(p: &Path) -> String {
    p.display().to_string().replace('\\', "/")
}

impl Compiler {
    pub fn new(project: Arc<Project>, ctx: Context, shell: Box<ShellFn>) -> Self {
        Compiler {
            project,
            ctx,
            shell,
            sh_cache: Mutex::new(HashMap::new()),
        }
    }

    fn render(&self, s: &str, data: &Map) -> Result<String, CompileError> {
        Ok(template::render(s, data)?)
    }

    /// Runs a dynamic variable once per command text.
    fn dynamic(
        &self,
        cmd: &str,
        dir: &Path,
        env: &[(String, String)],
    ) -> Result<String, CompileError> {
        // go-task's dynamicCache is keyed by the command text alone: the same command
        // in another dir (or with another env) reuses the first result (compiler.go).
        let key = (cmd.to_string(), String::new());
        if let Some(v) = self.sh_cache.lock().unwrap().get(&key) {
            return Ok(v.clone());
        }
        // go-task does not create the dir here: builtins run in a missing dir, programs
        // fail with `chdir DIR: …` (execext's dirOption).
        let out = (self.shell)(cmd, dir, env).map_err(|err| CompileError::DynamicVar {
            cmd: cmd.to_string(),
            err,
        })?;
        let out = out
            .strip_suffix("\r\n")
            .or_else(|| out.strip_suffix('\n'))
            .unwrap_or(&out)
            .to_string();
        self.sh_cache.lock().unwrap().insert(key, out.clone());
        Ok(out)
    }

    /// Templates a var definition with `data` and, when `eval_sh`, runs `sh:`.
    fn eval_var(
        &self,
        var: &Var,
        data: &Map,
        dir: &Path,
        eval_sh: bool,
    ) -> Result<Value, CompileError> {
        match &var.value {
            VarValue::Static(v) => self.render_value(v, data),
            VarValue::Ref(r) => Ok(resolve_ref(r, data)?),
            VarValue::Sh(cmd) => {
                let cmd = self.render(cmd, data)?;
                if !eval_sh {
                    // Unevaluated, it is no value in templates (ToCacheMap skips a var
                    // whose `sh:` is not empty), whatever an outer scope gave the name.
                    return Ok(if cmd.is_empty() {
                        Value::str("")
                    } else {
                        Value::Nil
                    });
                }
                let env = env_from_vars(data);
                let out = self.dynamic(&cmd, dir, &env)?;
                if self.ctx.verbose {
                    let shown = if var.secret { "*****" } else { out.as_str() };
                    let msg = format!(
                        "task: dynamic variable: {} result: {}\n",
                        template::go_quote(&cmd),
                        template::go_quote(shown)
                    );
                    let msg =
                        crate::color::paint_if(self.ctx.color, crate::color::Color::Magenta, &msg);
                    let _ =
                        std::io::Write::write_all(&mut std::io::stderr().lock(), msg.as_bytes());
                }
                Ok(Value::Str(out))
            }
        }
    }

    /// Strings inside values are templates too (recursively). go-task's copy while
    /// templating (deepcopy.TraverseStringsFunc) drops every map entry whose value is nil
    /// (`[x: ~]` reads as `[{}]`); a nil list item stays.
    fn render_value(&self, v: &Value, data: &Map) -> Result<Value, CompileError> {
        Ok(match v {
            Value::Str(s) => Value::Str(self.render(s, data)?),
            Value::List(items) => Value::List(
                items
                    .iter()
                    .map(|i| self.render_value(i, data))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Map(m) => {
                let mut out = Map::new();
                for (k, val) in m {
                    if !matches!(val, Value::Nil) {
                        out.insert(k.clone(), self.render_value(val, data)?);
                    }
                }
                Value::Map(out.into())
            }
            Value::Nil => Value::Nil,
            other => other.clone(),
        })
    }

    /// `apply`, where a var named in `dirs` runs its `sh:` in that dir instead of `dir`.
    fn apply_in(
        &self,
        vars: &Vars,
        dirs: Option<&HashMap<String, String>>,
        result: &mut Map,
        dir: &Path,
        eval_sh: bool,
        secrets: &mut Vec<String>,
        trace: &mut Option<HashMap<String, String>>,
    ) -> Result<(), CompileError> {
        for (k, v) in vars {
            let own = dirs.and_then(|d| d.get(k)).map(PathBuf::from);
            // Without evaluation (listing, summary) go-task ignores a var's template error:
            // the var keeps its text as written (an `sh:` var its command, value empty).
            let mut val = match self.eval_var(v, result, own.as_deref().unwrap_or(dir), eval_sh) {
                Ok(val) => val,
                Err(_) if !eval_sh => match &v.value {
                    VarValue::Static(raw) => raw.clone(),
                    VarValue::Sh(_) => Value::Nil,
                    _ => Value::str(""),
                },
                Err(e) => return Err(e),
            };
            if let Some(trace) = trace.as_mut() {
                match &v.value {
                    VarValue::Sh(cmd) if !eval_sh => {
                        let shown = self.render(cmd, result).unwrap_or_else(|_| cmd.clone());
                        trace.insert(k.clone(), shown);
                    }
                    _ => {
                        trace.remove(k);
                    }
                }
            }
            if !eval_sh && val == Value::Nil && !matches!(v.value, VarValue::Sh(_)) {
                val = Value::str("");
            }
            if v.secret {
                secrets.push(k.clone());
            }
            result.insert(k.clone(), val);
        }
        Ok(())
    }

    pub fn special_vars(&self, entry: Option<&TaskEntry>, call: Option<&Call>) -> Map {
        let p = &self.project;
        let mut m = Map::new();
        if let (Some(e), Some(c)) = (entry, call) {
            m.insert("TASK".into(), Value::str(&e.name));
            m.insert(
                "ALIAS".into(),
                Value::str(if c.alias.is_empty() {
                    &e.name
                } else {
                    &c.alias
                }),
            );
            let tf = &e.origin.taskfile;
            m.insert("TASKFILE".into(), Value::str(slash(tf)));
            m.insert(
                "TASKFILE_DIR".into(),
                Value::str(slash(tf.parent().unwrap_or(Path::new("/")))),
            );
            m.insert("TASK_DIR".into(), Value::str(slash(&self.raw_task_dir(e))));
            m.insert("MATCH".into(), Value::StrList(c.matches.clone()));
        } else {
            // Outside a task (go-task's GetTaskfileVariables): empty, but defined.
            for k in ["TASK", "ALIAS", "TASK_DIR", "TASKFILE", "TASKFILE_DIR"] {
                m.insert(k.into(), Value::str(""));
            }
        }
        m.insert("ROOT_TASKFILE".into(), Value::str(slash(&p.entrypoint)));
        m.insert("ROOT_DIR".into(), Value::str(slash(&p.root_dir)));
        m.insert(
            "USER_WORKING_DIR".into(),
            Value::str(&self.ctx.user_working_dir),
        );
        m.insert("TASK_EXE".into(), Value::str(&self.ctx.task_exe));
        m.insert("TASK_VERSION".into(), Value::str(crate::cli::TASK_VERSION));
        m.insert("CLI_ARGS".into(), Value::str(&self.ctx.cli_args));
        m.insert(
            "CLI_ARGS_LIST".into(),
            Value::StrList(self.ctx.cli_args_list.clone()),
        );
        m.insert("CLI_FORCE".into(), Value::Bool(self.ctx.force));
        m.insert("CLI_SILENT".into(), Value::Bool(self.ctx.silent));
        m.insert("CLI_VERBOSE".into(), Value::Bool(self.ctx.verbose));
        m.insert("CLI_OFFLINE".into(), Value::Bool(self.ctx.offline));
        m.insert("CLI_ASSUME_YES".into(), Value::Bool(self.ctx.assume_yes));
        m.insert("PATH_LIST_SEPARATOR".into(), Value::str(":"));
        m.insert("FILE_PATH_SEPARATOR".into(), Value::str("/"));
        m
    }

    /// The task's dir before templating (used for TASK_DIR, as go-task does).
    fn raw_task_dir(&self, e: &TaskEntry) -> PathBuf {
        let base = match &e.origin.dir {
            Some(d) => PathBuf::from(d),
            None => self.project.root_dir.clone(),
        };
        match &e.task.dir {
            Some(d) => smart_join(&base, d),
            None => base,
        }
    }

    /// All vars for a task call, in go-task's precedence order.
    pub fn vars(
        &self,
        entry: Option<&TaskEntry>,
        call: Option<&Call>,
        eval_sh: bool,
    ) -> Result<(Map, Vec<String>), CompileError> {
        self.vars_traced(entry, call, eval_sh, &mut None)
    }

    /// `vars`, recording (when `sh` is given) the templated command of each var whose
    /// final definition is an unevaluated `sh:` (go-task's summary shows `sh: CMD`).
    fn vars_traced(
        &self,
        entry: Option<&TaskEntry>,
        call: Option<&Call>,
        eval_sh: bool,
        sh: &mut Option<HashMap<String, String>>,
    ) -> Result<(Map, Vec<String>), CompileError> {
        let mut result = Map::new();
        for (k, v) in &self.ctx.os_env {
            result.insert(k.clone(), Value::str(v));
        }
        for (k, v) in self.special_vars(entry, call) {
            result.insert(k, v);
        }
        let root_dir = self.project.root_dir.clone();
        let mut secrets = vec![];
        self.apply_in(
            &self.project.root.env,
            None,
            &mut result,
            &root_dir,
            eval_sh,
            &mut secrets,
            sh,
        )?;
        // The global scope: the root's vars with every included file's merged in.
        self.apply_in(
            &self.project.root.vars,
            Some(&self.project.var_dirs),
            &mut result,
            &root_dir,
            eval_sh,
            &mut secrets,
            sh,
        )?;
        let (Some(e), Some(call)) = (entry, call) else {
            return Ok((result, secrets));
        };
        let task_dir = self.task_dir(e, &result)?;
        self.apply_in(
            &e.origin.include_vars,
            None,
            &mut result,
            &root_dir,
            eval_sh,
            &mut secrets,
            sh,
        )?;
        if let Some(scope) = &e.origin.taskfile_vars {
            let (vars, dirs) = &**scope;
            self.apply_in(
                vars,
                Some(dirs),
                &mut result,
                &task_dir,
                eval_sh,
                &mut secrets,
                sh,
            )?;
        }
        self.apply_in(
            &call.vars,
            None,
            &mut result,
            &root_dir,
            eval_sh,
            &mut secrets,
            sh,
        )?;
        self.apply_in(
            &e.task.vars,
            None,
            &mut result,
            &task_dir,
            eval_sh,
            &mut secrets,
            sh,
        )?;
        Ok((result, secrets))
    }

    fn task_dir(&self, e: &TaskEntry, data: &Map) -> Result<PathBuf, CompileError> {
        let base = match &e.origin.dir {
            Some(d) => PathBuf::from(self.render(d, data)?),
            None => self.project.root_dir.clone(),
        };
        Ok(match &e.task.dir {
            Some(d) => smart_join(&base, &expand_home(&self.render(d, data)?)),
            None => base,
        })
    }

    /// Only what `--list`/`--summary` need: no `sh:` evaluation, no commands.
    pub fn fast_vars(&self, entry: &TaskEntry) -> Result<Map, CompileError> {
        let call = Call {
            task: entry.name.clone(),
            alias: String::new(),
            vars: Vars::new(),
            matches: vec![],
            silent: false,
            indirect: false,
        };
        self.vars(Some(entry), Some(&call), false).map(|(m, _)| m)
    }

    /// The fingerprint inputs of a task: templated globs and its effective method.
    pub fn fingerprint_inputs(
        &self,
        t: &Task,
        vars: &Map,
    ) -> Result<(Vec<GlobSpec>, Vec<GlobSpec>, Method), CompileError> {
        let spec = |g: &crate::taskfile::ast::Glob| -> Result<GlobSpec, CompileError> {
            Ok(GlobSpec {
                pattern: self.render(&g.pattern, vars)?,
                exclude: g.exclude,
            })
        };
        let sources = t.sources.iter().map(spec).collect::<Result<_, _>>()?;
        let generates = t.generates.iter().map(spec).collect::<Result<_, _>>()?;
        let method = t
            .method
            .clone()
            .or_else(|| self.project.root.method.clone())
            .unwrap_or_default();
        Ok((sources, generates, Method::from_name(&method)))
    }

    pub fn use_gitignore(&self, e: &TaskEntry) -> bool {
        e.task
            .use_gitignore
            .or(e.origin.use_gitignore)
            .unwrap_or(self.project.root.use_gitignore)
    }

    pub fn compile(&self, entry: &TaskEntry, call: &Call) -> Result<CompiledTask, CompileError> {
        self.compile_with(entry, call, true, &mut None)
    }

    /// go-task's `FastCompiledTask` (for `--summary`): no `sh:` var or env runs; returns
    /// the templated command of each var left as `sh:`.
    pub fn compile_fast(
        &self,
        entry: &TaskEntry,
        call: &Call,
    ) -> Result<(CompiledTask, HashMap<String, String>), CompileError> {
        let mut sh = Some(HashMap::new());
        let t = self.compile_with(entry, call, false, &mut sh)?;
        Ok((t, sh.unwrap_or_default()))
    }

    fn compile_with(
        &self,
        entry: &TaskEntry,
        call: &Call,
        eval_sh: bool,
        sh: &mut Option<HashMap<String, String>>,
    ) -> Result<CompiledTask, CompileError> {
        let (mut vars, secrets) = self.vars_traced(Some(entry), Some(call), eval_sh, sh)?;
        let t = &entry.task;
        let dir = self.task_dir(entry, &vars)?;
        // {{.CHECKSUM}} / {{.TIMESTAMP}}: computed only when something reads them.
        if !t.sources.is_empty() && task_mentions(t, &["CHECKSUM", "TIMESTAMP"]) {
            let (sources, generates, method) = self.fingerprint_inputs(t, &vars)?;
            let label = t
                .label
                .as_ref()
                .map(|l| self.render(l, &vars))
                .transpose()?
                .unwrap_or_else(|| entry.name.clone());
            let fp = Fingerprint {
                task: &entry.name,
                name: &label,
                dir: &dir,
                sources: &sources,
                generates: &generates,
                method: &method,
                temp_dir: &self.ctx.temp_dir,
                dry: self.ctx.dry,
                use_gitignore: self.use_gitignore(entry),
            };
            match fp.special_var() {
                Ok(Some(SpecialVar::Checksum(c))) => {
                    vars.insert("CHECKSUM".into(), Value::Str(c));
                }
                Ok(Some(SpecialVar::Timestamp(ts))) => {
                    // A Go time.Time keeps the mtime's nanoseconds; `String()` prints them.
                    let (secs, nanos) = ts
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| (d.as_secs() as i64, d.subsec_nanos()))
                        .unwrap_or((0, 0));
                    let mut t = template::GoTime::from_unix(secs, template::Loc::Local);
                    t.nanos = nanos;
                    vars.insert("TIMESTAMP".into(), Value::Time(t));
                }
                Ok(None) => {}
                Err(e) => return Err(CompileError::Other(format!("task: {e}"))),
            }
        }
        let masked = mask(&vars, &secrets);
        // go-task's templater.Cache: the first template error sticks. A full compile
        // reports it; a fast one (listing, summary) ignores it, but that text and every
        // later one stay raw, in go-task's order (variables.go compiledTask): label, desc,
        // prompt, summary, globs, prefix, env, cmds, deps, preconditions, status.
        let failed = std::cell::Cell::new(false);
        let r = |s: &str| -> Result<String, CompileError> {
            if eval_sh {
                return self.render(s, &vars);
            }
            if failed.get() || !s.contains("{{") {
                return Ok(s.to_string());
            }
            match self.render(s, &vars) {
                Ok(v) => Ok(v),
                Err(_) => {
                    failed.set(true);
                    Ok(s.to_string())
                }
            }
        };
        let label = t.label.as_ref().map(|l| r(l)).transpose()?;
        let desc = r(&t.desc)?;
        let prompt = t
            .prompt
            .iter()
            .map(|p| r(p))
            .collect::<Result<Vec<_>, _>>()?;
        let summary = r(&t.summary)?;
        let globs = |gs: &[crate::taskfile::ast::Glob]| {
            gs.iter()
                .map(|g| {
                    Ok(crate::taskfile::ast::Glob {
                        pattern: r(&g.pattern)?,
                        exclude: g.exclude,
                    })
                })
                .collect::<Result<Vec<_>, CompileError>>()
        };
        // templater.ReplaceGlobs returns nil once the cache holds an error, so a fast
        // compile then has no sources (and `for: sources` no items).
        let no_globs = failed.get();
        let (sources, generates) = if no_globs {
            (vec![], vec![])
        } else {
            (globs(&t.sources)?, globs(&t.generates)?)
        };
        let prefix = match &t.prefix {
            Some(p) => r(p)?,
            None => entry.name.clone(),
        };
        // A fast compile never fails on a template: it leaves the text raw from there on.
        let tolerate = |res: Result<(), CompileError>| -> Result<bool, CompileError> {
            match res {
                Ok(()) => Ok(true),
                Err(_) if !eval_sh => {
                    failed.set(true);
                    Ok(false)
                }
                Err(e) => Err(e),
            }
        };

        let mut env_shown: Vec<(String, ShownVar)> = vec![];
        let task_dotenv: Vec<(String, String)> = if t.dotenv.is_empty() {
            vec![]
        } else {
            let files: Vec<PathBuf> = t
                .dotenv
                .iter()
                .map(|f| Ok(smart_join(&dir, &expand_home(&r(f)?))))
                .collect::<Result<_, CompileError>>()?;
            crate::taskfile::dotenv::load(&files).map_err(|e| CompileError::Other(e.to_string()))?
        };
        if !eval_sh {
            let dotenv_vars: Vars = task_dotenv
                .iter()
                .map(|(k, v)| (k.clone(), Var::stat(Value::Str(v.clone()))))
                .collect();
            for group in [&self.project.root.env, &dotenv_vars, &t.env] {
                if failed.get() || group.is_empty() {
                    continue;
                }
                for (k, v) in group {
                    let shown = match &v.value {
                        _ if v.secret => ShownVar::Secret,
                        VarValue::Sh(cmd) => ShownVar::Sh(r(cmd)?),
                        VarValue::Ref(rf) if !failed.get() => match resolve_ref(rf, &vars) {
                            Ok(val) => ShownVar::Value(val),
                            Err(_) => {
                                failed.set(true);
                                ShownVar::Value(Value::Nil)
                            }
                        },
                        VarValue::Ref(_) => ShownVar::Value(Value::Nil),
                        VarValue::Static(Value::Str(s)) => ShownVar::Value(Value::Str(r(s)?)),
                        VarValue::Static(val) => ShownVar::Value(val.clone()),
                    };
                    match env_shown.iter_mut().find(|(n, _)| n == k) {
                        Some(slot) => slot.1 = shown,
                        None => env_shown.push((k.clone(), shown)),
                    }
                }
            }
        }
        let mut env_map = Map::new();
        // Global env (templated with the task's vars), task dotenv, task env.
        let global_env = self.project.root.env.clone();
        for (k, v) in &global_env {
            if failed.get() {
                break;
            }
            let val = match &v.value {
                VarValue::Sh(_) => self.eval_var(v, &vars, &self.project.root_dir, eval_sh),
                _ => self.eval_var(v, &vars, &dir, eval_sh),
            };
            match val {
                Ok(val) => {
                    env_map.insert(k.clone(), val);
                }
                Err(e) => {
                    tolerate(Err(e))?;
                }
            }
        }
        // Task dotenv files: the first file naming a key wins; they override the global env.
        for (k, v) in task_dotenv {
            env_map.insert(k, Value::Str(v));
        }
        for (k, v) in &t.env {
            if failed.get() {
                break;
            }
            match self.eval_var(v, &vars, &dir, eval_sh) {
                Ok(val) => {
                    env_map.insert(k.clone(), val);
                }
                Err(e) => {
                    tolerate(Err(e))?;
                }
            }
        }
        let mut env = vec![];
        for (k, v) in &env_map {
            let Some(s) = to_env_string(v) else { continue };
            if !self.ctx.env_precedence && self.ctx.os_env.contains_key(k) {
                continue;
            }
            env.push((k.clone(), s));
        }

        let mut cmds = vec![];
        for c in &t.cmds {
            let n = cmds.len();
            let res = self.compile_cmd(c, &vars, &masked, entry, &mut cmds, failed.get(), no_globs);
            if !tolerate(res)? {
                cmds.truncate(n);
                self.compile_cmd(c, &vars, &masked, entry, &mut cmds, true, no_globs)?;
            }
        }
        let mut deps = vec![];
        for d in &t.deps {
            let n = deps.len();
            let res = self.compile_dep(d, &vars, entry, &mut deps, failed.get(), no_globs);
            if !tolerate(res)? {
                deps.truncate(n);
                self.compile_dep(d, &vars, entry, &mut deps, true, no_globs)?;
            }
        }
        let preconditions = t
            .preconditions
            .iter()
            .map(|p| Ok((r(&p.sh)?, p.msg.as_ref().map(|m| r(m)).transpose()?)))
            .collect::<Result<_, CompileError>>()?;
        let status = t.status.iter().map(|p| r(p)).collect::<Result<_, _>>()?;
        Ok(CompiledTask {
            name: entry.name.clone(),
            label,
            entry: entry.clone(),
            desc,
            summary,
            prompt,
            status,
            preconditions,
            sources,
            generates,
            vars,
            secrets,
            dir,
            env,
            cmds,
            deps,
            prefix,
            env_shown,
        })
    }

    /// Expands a `for:` into (item vars) per iteration.
    fn iterations(
        &self,
        f: &For,
        vars: &Map,
        entry: &TaskEntry,
        as_: Option<&str>,
    ) -> Result<Vec<Map>, CompileError> {
        let name = as_.unwrap_or("ITEM").to_string();
        let items: Vec<(Value, Option<Value>)> = match f {
            // go-task's itemsFromFor returns an explicit list as written: not templated,
            // nil map entries kept.
            For::List(items) => items.iter().map(|v| (v.clone(), None)).collect(),
            For::Var { var, split, .. } => {
                let v = vars.get(var).cloned().unwrap_or(Value::Nil);
                match v {
                    Value::Str(s) => {
                        let parts: Vec<String> = match split {
                            Some(sep) => s.split(sep.as_str()).map(str::to_string).collect(),
                            None => s.split_whitespace().map(str::to_string).collect(),
                        };
                        parts.into_iter().map(|p| (Value::Str(p), None)).collect()
                    }
                    Value::List(items) => items.into_iter().map(|i| (i, None)).collect(),
                    Value::StrList(items) => {
                        items.into_iter().map(|i| (Value::Str(i), None)).collect()
                    }
                    Value::IntList(items) => {
                        items.into_iter().map(|i| (Value::Int(i), None)).collect()
                    }
                    Value::Map(m) => m
                        .into_iter()
                        .map(|(k, v)| (v, Some(Value::Str(k))))
                        .collect(),
                    Value::Nil => vec![],
                    other => {
                        return Err(CompileError::Other(format!(
                        "task: loop var must be a delimiter-separated string, list or map, got {}",
                        template::go_format(&other)
                    )))
                    }
                }
            }
            For::Sources | For::Generates => {
                let (sources, generates, _) = self.fingerprint_inputs(&entry.task, vars)?;
                let dir = self.task_dir(entry, vars)?;
                let specs = if matches!(f, For::Sources) {
                    sources
                } else {
                    generates
                };
                fingerprint::for_items(&dir, &specs, self.use_gitignore(entry))
                    .into_iter()
                    .map(|f| (Value::Str(f), None))
                    .collect()
            }
            For::Matrix(rows) => {
                let mut combos: Vec<Map> = vec![Map::new()];
                for (k, row) in rows {
                    let vals = match row {
                        MatrixRow::List(l) => l.clone(),
                        MatrixRow::Ref(r) => match resolve_ref(r, vars)? {
                            Value::List(l) => l,
                            Value::StrList(l) => l.into_iter().map(Value::Str).collect(),
                            Value::IntList(l) => l.into_iter().map(Value::Int).collect(),
                            _ => {
                                return Err(CompileError::Matrix {
                                    file: slash(&entry.origin.taskfile),
                                    msg: format!("matrix reference \"{r}\" must resolve to a list"),
                                })
                            }
                        },
                    };
                    let mut next = vec![];
                    for c in &combos {
                        for v in &vals {
                            let mut c2 = c.clone();
                            c2.insert(k.clone(), v.clone());
                            next.push(c2);
                        }
                    }
                    combos = next;
                }
                combos
                    .into_iter()
                    .map(|m| (Value::Map(m.into()), None))
                    .collect()
            }
        };
        Ok(items
            .into_iter()
            .map(|(item, key)| {
                let mut m = Map::new();
                m.insert(name.clone(), item);
                if let Some(k) = key {
                    m.insert("KEY".into(), k);
                }
                m
            })
            .collect())
    }

    /// The item vars of each iteration of a `for:` (one empty map without a loop).
    fn loop_items(
        &self,
        f: Option<&For>,
        vars: &Map,
        entry: &TaskEntry,
        no_globs: bool,
    ) -> Result<Vec<Map>, CompileError> {
        let Some(f) = f else {
            return Ok(vec![Map::new()]);
        };
        if no_globs && matches!(f, For::Sources | For::Generates) {
            return Ok(vec![]);
        }
        let as_ = match f {
            For::Var { as_, .. } => as_.as_deref(),
            _ => None,
        };
        self.iterations(f, vars, entry, as_)
    }

    fn compile_cmd(
        &self,
        c: &Cmd,
        vars: &Map,
        masked: &Map,
        entry: &TaskEntry,
        out: &mut Vec<CompiledCmd>,
        raw: bool,
        no_globs: bool,
    ) -> Result<(), CompileError> {
        // `raw`: go-task's templater after a first error in fast mode (text left as is).
        let render = |s: &str, v: &Map| -> Result<String, CompileError> {
            if raw {
                Ok(s.to_string())
            } else {
                self.render(s, v)
            }
        };
        let iters = self.loop_items(c.for_.as_ref(), vars, entry, no_globs)?;
        for item in iters {
            // Without a loop item the task's own maps serve (a copy per command cost more
            // than a small command).
            let (v, mv) = if item.is_empty() {
                (Cow::Borrowed(vars), Cow::Borrowed(masked))
            } else {
                let mut v = vars.clone();
                let mut mv = masked.clone();
                for (k, val) in &item {
                    v.insert(k.clone(), val.clone());
                    mv.insert(k.clone(), val.clone());
                }
                (Cow::Owned(v), Cow::Owned(mv))
            };
            let (v, mv): (&Map, &Map) = (&v, &mv);
            if let Some(task) = &c.task {
                let name = render(task, &v)?;
                let mut call_vars = Vars::new();
                for (k, var) in &c.vars {
                    call_vars.insert(
                        k.clone(),
                        if raw {
                            var.clone()
                        } else {
                            self.resolve_call_var(var, &v)?
                        },
                    );
                }
                out.push(CompiledCmd::Task {
                    call: Call {
                        task: name,
                        alias: String::new(),
                        vars: call_vars,
                        matches: vec![],
                        silent: c.silent,
                        indirect: true,
                    },
                    defer: c.defer,
                    ignore_error: c.ignore_error,
                    if_: c.if_.as_ref().map(|i| render(i, &v)).transpose()?,
                    timeout: c.timeout.clone(),
                    platforms: c.platforms.clone(),
                });
            } else if let Some(cmd) = &c.cmd {
                // Deferred commands are templated when they run (EXIT_CODE is known then).
                let mut shown_raw = None;
                // The summary shows a deferred command raw, as go-task's compiled task
                // holds it (a deep copy, templated only when it runs).
                let (rendered, shown) = if c.defer {
                    (String::new(), cmd.clone())
                } else {
                    let rendered = render(cmd, &v)?;
                    if !raw && rendered.contains('\u{fffd}') && !masked_differs(vars, masked) {
                        let raw = template::render_bytes(cmd, &v)?;
                        if std::str::from_utf8(&raw).is_err() {
                            shown_raw = Some(raw);
                        }
                    }
                    // The echo line is go-task's LogCmd (templater.MaskSecrets): its own
                    // templating, raw where that fails, whatever came before.
                    let shown = if raw {
                        self.render(cmd, &mv).unwrap_or_else(|_| cmd.clone())
                    } else if masked_differs(vars, masked) {
                        render(cmd, &mv)?
                    } else {
                        rendered.clone()
                    };
                    (rendered, shown)
                };
                out.push(CompiledCmd::Shell {
                    shown_raw,
                    cmd: rendered,
                    shown,
                    silent: c.silent,
                    ignore_error: c.ignore_error,
                    defer: c.defer,
                    set: c.set.clone(),
                    shopt: c.shopt.clone(),
                    platforms: c.platforms.clone(),
                    if_: c.if_.as_ref().map(|i| render(i, &v)).transpose()?,
                    timeout: c.timeout.clone(),
                    raw: c.clone(),
                    item_vars: item,
                });
            }
        }
        Ok(())
    }

    /// Renders a deferred shell command with EXIT_CODE (and the loop item) set.
    pub fn render_deferred(
        &self,
        t: &CompiledTask,
        raw: &Cmd,
        item: &Map,
        exit_code: Option<i32>,
    ) -> Result<(String, String), CompileError> {
        let mut v = t.vars.clone();
        v.insert(
            "EXIT_CODE".into(),
            Value::str(exit_code.map(|c| c.to_string()).unwrap_or_default()),
        );
        for (k, val) in item {
            v.insert(k.clone(), val.clone());
        }
        let cmd = raw.cmd.as_deref().unwrap_or("");
        // go-task's runDeferred ignores template errors: the command (and its echo line,
        // templated on its own) stay as written, and the shell gets the raw text.
        let rendered = self.render(cmd, &v).unwrap_or_else(|_| cmd.to_string());
        let mv = mask(&v, &t.secrets);
        let shown = if t.secrets.is_empty() {
            rendered.clone()
        } else {
            self.render(cmd, &mv).unwrap_or_else(|_| cmd.to_string())
        };
        Ok((rendered, shown))
    }

    /// Call vars are templated in the caller's scope; `ref:` resolves there too.
    fn resolve_call_var(&self, var: &Var, data: &Map) -> Result<Var, CompileError> {
        Ok(match &var.value {
            VarValue::Static(v) => Var {
                value: VarValue::Static(self.render_value(v, data)?),
                secret: var.secret,
            },
            VarValue::Ref(r) => Var {
                value: VarValue::Static(resolve_ref(r, data)?),
                secret: var.secret,
            },
            VarValue::Sh(s) => Var {
                value: VarValue::Sh(self.render(s, data)?),
                secret: var.secret,
            },
        })
    }

    fn compile_dep(
        &self,
        d: &Dep,
        vars: &Map,
        entry: &TaskEntry,
        out: &mut Vec<CompiledDep>,
        raw: bool,
        no_globs: bool,
    ) -> Result<(), CompileError> {
        let iters = self.loop_items(d.for_.as_ref(), vars, entry, no_globs)?;
        for item in iters {
            let mut v = vars.clone();
            for (k, val) in &item {
                v.insert(k.clone(), val.clone());
            }
            let name = if raw {
                d.task.clone()
            } else {
                self.render(&d.task, &v)?
            };
            let mut call_vars = Vars::new();
            for (k, var) in &d.vars {
                let cv = if raw {
                    var.clone()
                } else {
                    self.resolve_call_var(var, &v)?
                };
                call_vars.insert(k.clone(), cv);
            }
            out.push(CompiledDep {
                call: Call {
                    task: name,
                    alias: String::new(),
                    vars: call_vars,
                    matches: vec![],
                    silent: d.silent,
                    indirect: true,
                },
                if_: d.if_.as_ref().map(|i| self.render(i, &v)).transpose()?,
                timeout: d.timeout.clone(),
            });
        }
        Ok(())
    }

    /// Env for `sh:`/status/precondition commands outside a compiled task.
    pub fn render_with(&self, s: &str, data: &Map) -> Result<String, CompileError> {
        self.render(s, data)
    }
}

fn masked_differs(vars: &Map, masked: &Map) -> bool {
    vars.len() == masked.len() && vars.iter().zip(masked.iter()).any(|(a, b)| a.1 != b.1)
}

fn mask(vars: &Map, secrets: &[String]) -> Map {
    let mut m = vars.clone();
    for s in secrets {
        if m.contains_key(s) {
            m.insert(s.clone(), Value::str("*****"));
        }
    }
    m
}

/// `ref:` is a template expression evaluated for its value, not its text.
pub fn resolve_ref(r: &str, data: &Map) -> Result<Value, CompileError> {
    let r = r.trim();
    if let Some(name) = r.strip_prefix('.') {
        if !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_') {
            return Ok(data.get(name).cloned().unwrap_or(Value::Nil));
        }
    }
    Ok(template::resolve_ref(r, data)?)
}

fn env_from_vars(data: &Map) -> Vec<(String, String)> {
    data.iter()
        .filter_map(|(k, v)| to_env_string(v).map(|s| (k.clone(), s)))
        .collect()
}

pub fn expand_home(p: &str) -> String {
    if p == "~" || p.starts_with("~/") {
        if let Ok(home) = std::env::var("HOME") {
            return format!("{home}{}", &p[1..]);
        }
    }
    p.to_string()
}

/// Joins like go-task's filepathext.SmartJoin: absolute paths win.
pub fn smart_join(base: &Path, p: &str) -> PathBuf {
    let pp = Path::new(p);
    if pp.is_absolute() {
        crate::taskfile::clean(pp)
    } else {
        crate::taskfile::clean(&base.join(pp))
    }
}

/// Whether any templated field of the task names one of `words`.
fn task_mentions(t: &Task, words: &[&str]) -> bool {
    let has = |s: &str| words.iter().any(|w| s.contains(w));
    t.cmds.iter().any(|c| {
        c.cmd.as_deref().is_some_and(has)
            || c.vars.values().any(|v| {
                format!("{:?}", v.value).contains("CHECKSUM")
                    || format!("{:?}", v.value).contains("TIMESTAMP")
            })
    }) || t.status.iter().any(|s| has(s))
        || t.preconditions.iter().any(|p| has(&p.sh))
        || t.env.values().any(|v| {
            format!("{:?}", v.value).contains("CHECKSUM")
                || format!("{:?}", v.value).contains("TIMESTAMP")
        })
}
