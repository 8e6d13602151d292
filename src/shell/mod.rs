//! The embedded shell: an interpreter with mvdan/sh's semantics (as go-task runs commands),
//! so commands need no bash and no shell start-up. State (cwd, variables) lives in the
//! interpreter, never in the process: many commands run at once in threads. A syntax error
//! is reported (mvdan's `line:col: message`) before anything runs; the few constructs not
//! implemented (docs/shell.md, "What falls back to bash") are refused by [`prepare`] and the
//! caller hands the script to bash.

mod arith;
pub mod ast;
mod braces;
mod builtins;
mod expand;
pub mod glob;
mod help;
pub mod parse;

use ast::*;
use std::collections::HashMap;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Why a script is not run by the embedded interpreter.
#[derive(Debug, Clone, PartialEq)]
pub enum Unsupported {
    /// A construct the interpreter does not implement.
    Construct(String),
    /// Not valid shell: mvdan's `line:col: message`, reported before anything runs.
    Syntax(String),
}

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unsupported::Construct(w) => write!(f, "unsupported by the embedded shell: {w}"),
            Unsupported::Syntax(m) => f.write_str(m),
        }
    }
}

/// A parsed script with its options, ready to run.
pub struct Prepared {
    list: Arc<List>,
    opts: Opts,
}

#[derive(Clone, Copy, Default, Debug)]
pub struct Opts {
    pub errexit: bool,
    pub nounset: bool,
    pub pipefail: bool,
    pub noglob: bool,
    pub nullglob: bool,
    pub allexport: bool,
    pub xtrace: bool,
    pub noexec: bool,
    pub dotglob: bool,
    pub globstar: bool,
    pub nocaseglob: bool,
    /// Accepted as mvdan does; extended patterns and aliases are refused by the parser.
    pub extglob: bool,
    pub expand_aliases: bool,
}

impl Opts {
    /// mvdan's `set -o` / `set NAME` options; false for a name it does not know.
    pub fn set_posix(&mut self, name: &str, on: bool) -> bool {
        match name {
            "e" | "errexit" => self.errexit = on,
            "u" | "nounset" => self.nounset = on,
            "pipefail" => self.pipefail = on,
            "f" | "noglob" => self.noglob = on,
            "a" | "allexport" => self.allexport = on,
            "x" | "xtrace" => self.xtrace = on,
            "n" | "noexec" => self.noexec = on,
            _ => return false,
        }
        true
    }
    /// mvdan's supported `shopt` options.
    /// A `set -o` option by its long name (mvdan's posixOptByName).
    pub fn get_posix(&self, name: &str) -> Option<bool> {
        Some(match name {
            "errexit" => self.errexit,
            "nounset" => self.nounset,
            "pipefail" => self.pipefail,
            "noglob" => self.noglob,
            "allexport" => self.allexport,
            "xtrace" => self.xtrace,
            "noexec" => self.noexec,
            _ => return None,
        })
    }
    pub fn set_bash(&mut self, name: &str, on: bool) -> bool {
        match name {
            "nullglob" => self.nullglob = on,
            "dotglob" => self.dotglob = on,
            "globstar" => self.globstar = on,
            "nocaseglob" => self.nocaseglob = on,
            "extglob" => self.extglob = on,
            "expand_aliases" => self.expand_aliases = on,
            _ => return false,
        }
        true
    }
    pub fn get_bash(&self, name: &str) -> Option<bool> {
        Some(match name {
            "nullglob" => self.nullglob,
            "dotglob" => self.dotglob,
            "globstar" => self.globstar,
            "nocaseglob" => self.nocaseglob,
            "extglob" => self.extglob,
            "expand_aliases" => self.expand_aliases,
            _ => return None,
        })
    }
}

/// Parses `script` and checks `set:` / `shopt:` options; `Err` when bash must run it.
pub fn prepare(script: &str, set: &[String], shopt: &[String]) -> Result<Prepared, Unsupported> {
    let mut opts = Opts {
        errexit: true,
        ..Opts::default()
    };
    for s in set {
        if !opts.set_posix(s, true) {
            return Err(Unsupported::Construct(format!("set: {s}")));
        }
    }
    for s in shopt {
        if !opts.set_bash(s, true) {
            return Err(Unsupported::Construct(format!("shopt: {s}")));
        }
    }
    let (list, _) = parse::parse_full(script).map_err(|e| match e {
        parse::ParseError::Unsupported(w) => Unsupported::Construct(w),
        e @ parse::ParseError::Syntax(..) => Unsupported::Syntax(e.render(script)),
    })?;
    Ok(Prepared {
        list: Arc::new(list),
        opts,
    })
}

/// The three standard descriptors a command reads and writes.
#[derive(Clone)]
pub struct Io {
    pub fds: [Arc<OwnedFd>; 3],
}

impl Io {
    pub fn new(stdin: OwnedFd, stdout: OwnedFd, stderr: OwnedFd) -> Io {
        Io {
            fds: [Arc::new(stdin), Arc::new(stdout), Arc::new(stderr)],
        }
    }
    fn put(&mut self, fd: i32, f: Arc<OwnedFd>) {
        self.fds[fd as usize] = f;
    }
    pub fn write(&self, fd: usize, b: &[u8]) -> bool {
        // The descriptor stays owned by `self`; the File only borrows it.
        let mut f = std::mem::ManuallyDrop::new(unsafe {
            std::fs::File::from_raw_fd(self.fds[fd].as_raw_fd())
        });
        f.write_all(b).is_ok()
    }
    pub fn out(&self, s: &str) -> bool {
        self.write(1, s.as_bytes())
    }
    pub fn err(&self, s: &str) -> bool {
        self.write(2, s.as_bytes())
    }
}

/// Shared by all the interpreters of one command: cancellation and child processes.
pub struct Rt {
    pub killed: AtomicBool,
    pub pids: Mutex<Vec<u32>>,
    pub interactive: bool,
    /// Process-wide list of running children (for signal forwarding).
    pub running: &'static Mutex<Vec<u32>>,
    /// Called before a program is spawned (the caller arms its signal forwarding lazily,
    /// so commands that stay in-process cost no signal thread).
    pub before_spawn: fn(),
    /// Named pipes of process substitutions (path, `>(…)`, opened by its thread), released
    /// at the script's end.
    fifos: Mutex<Vec<(PathBuf, bool, Arc<AtomicBool>)>>,
    /// An error that ended the script instead of a status, as mvdan's exec handler
    /// returns one (`chdir DIR: no such file or directory`); the caller reports it.
    pub fatal: Mutex<Option<String>>,
}

impl Rt {
    pub fn new(
        interactive: bool,
        running: &'static Mutex<Vec<u32>>,
        before_spawn: fn(),
    ) -> Arc<Rt> {
        Arc::new(Rt {
            killed: AtomicBool::new(false),
            pids: Mutex::new(vec![]),
            interactive,
            running,
            before_spawn,
            fifos: Mutex::new(vec![]),
            fatal: Mutex::new(None),
        })
    }
    /// Kills every child process group of this command and stops the interpreter.
    pub fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        for p in self.pids.lock().unwrap().iter() {
            unsafe {
                libc::killpg(*p as i32, libc::SIGKILL);
                libc::kill(*p as i32, libc::SIGKILL);
            }
        }
    }
}

#[derive(Clone, Debug)]
struct Var {
    value: String,
    exported: bool,
    /// An indexed array's elements (`value` is element 0); arrays are never exported.
    arr: Option<Vec<Option<String>>>,
    /// An associative array (`declare -A`); `value` is its key "0", as mvdan.
    map: Option<std::collections::BTreeMap<String, String>>,
    /// `declare -n`: `value` names the variable this one stands for.
    nameref: bool,
}

impl Var {
    fn str(value: String, exported: bool) -> Var {
        Var {
            value,
            exported,
            arr: None,
            map: None,
            nameref: false,
        }
    }
}

#[derive(Debug, PartialEq)]
enum Flow {
    Next,
    Exit,
    Return,
    /// `break N` / `continue N`, counting enclosing loops still to leave.
    Break(u32),
    Continue(u32),
}

/// What a loop does after its body ended with `f`: `None` to go on looping, or the flow
/// to return (`Next` when a `break` ends this loop).
fn loop_step(f: Flow) -> Option<Flow> {
    match f {
        Flow::Next | Flow::Continue(1) => None,
        Flow::Break(1) => Some(Flow::Next),
        Flow::Break(n) => Some(Flow::Break(n - 1)),
        Flow::Continue(n) => Some(Flow::Continue(n - 1)),
        f => Some(f),
    }
}

/// An expansion failure: `Fatal` stops the script with status 1; `Skip` (mvdan's arithmetic
/// errors) only skips the command.
enum ExpErr {
    Fatal(String),
    Skip(String),
}

#[derive(Clone)]
pub struct Shell {
    /// A `[[ =~ ]]` regex did not compile (mvdan: the test's status is 2).
    regex_failed: bool,
    vars: HashMap<String, Var>,
    funcs: HashMap<String, Arc<Cmd>>,
    cwd: PathBuf,
    pos: Vec<String>,
    /// `$0`: "gosh", or the command name of a script run for ENOEXEC.
    name0: String,
    /// The double quotes being expanded hold a single part (mvdan's quotedElemFields).
    dq_alone: bool,
    /// Line and column of the simple command being run.
    cmd_pos: (u32, u32),
    opts: Opts,
    status: i32,
    locals: Vec<Vec<(String, Option<Var>)>>,
    rt: Arc<Rt>,
    no_errexit: u32,
    in_func: u32,
    /// Status of the last command substitution of the command being expanded.
    sub_status: Option<i32>,
    /// Loops enclosing the running command (in this function or script).
    loops: u32,
    /// `trap CMD EXIT` / `trap CMD ERR` (the only signals mvdan traps).
    trap_exit: String,
    trap_err: String,
    in_trap: bool,
    /// Background jobs (`cmd &`), in start order: `wait` joins them.
    jobs: Vec<Arc<Job>>,
    /// Names declared read-only.
    readonly: Arc<std::collections::HashSet<String>>,
    /// Positional parameters set by `set --` inside a sourced file.
    set_params: bool,
    /// `pushd`/`popd`'s stack, the top last.
    dir_stack: Vec<String>,
    /// `DIRSTACK`: the stack as an indexed array, always (mvdan's lookupVar).
    dirstack_var: Var,
    /// `getopts` position: (argument index, character index).
    getopts: (usize, usize),
    /// Descriptors set by `exec` without a command, for the rest of the list.
    exec_io: Option<Io>,
    /// Array literals of the declaration being run (`declare -a a=(…)`): the index of the
    /// argument they replace, the assignment and its elements.
    decl_arrays: Vec<(usize, Assign, Vec<Word>)>,
    /// `alias` definitions (expanded only with expand_aliases, which is refused).
    aliases: Arc<std::collections::BTreeMap<String, String>>,
}

/// A background job: its final status once it has ended.
pub(crate) struct Job {
    status: Mutex<Option<i32>>,
    done: std::sync::Condvar,
}

impl Job {
    fn wait(&self) -> i32 {
        let mut g = self.status.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(s) = *g {
                return s;
            }
            g = self.done.wait(g).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// Runs a prepared script to its end; returns its exit status.
pub fn run(p: &Prepared, cwd: &Path, env: &[(String, String)], io: &Io, rt: Arc<Rt>) -> i32 {
    let cwd = std::path::absolute(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    // go-task's dirOption: a missing directory is accepted (made later, or a program's
    // `chdir` fails), but one that exists and is not a directory fails the runner before
    // anything of the command runs (interp.Dir's error).
    if std::fs::metadata(&cwd).is_ok_and(|m| !m.is_dir()) {
        let m = format!("{} is not a directory", cwd.display());
        *rt.fatal.lock().unwrap_or_else(|e| e.into_inner()) = Some(m);
        return 1;
    }
    Shell::new(cwd, env, p.opts, rt).run_main(&p.list, io)
}

impl Shell {
    /// A runner as mvdan's `interp.New` and `Runner.Reset` make it.
    fn new(cwd: PathBuf, env: &[(String, String)], opts: Opts, rt: Arc<Rt>) -> Shell {
        let mut vars: HashMap<String, Var> = env
            .iter()
            .map(|(k, v)| (k.clone(), Var::str(v.clone(), true)))
            .collect();
        // mvdan sets PWD to the runner's directory.
        vars.insert(
            "PWD".into(),
            Var::str(cwd.to_string_lossy().into_owned(), true),
        );
        // Runner.Reset: UID, EUID and GID (read-only) unless the environment has them; IFS
        // and OPTIND always (a script saving "$IFS" gets the default, getopts starts at 1).
        let mut readonly = std::collections::HashSet::new();
        // SAFETY: getuid/geteuid/getgid cannot fail.
        let ids = unsafe {
            [
                ("UID", libc::getuid()),
                ("EUID", libc::geteuid()),
                ("GID", libc::getgid()),
            ]
        };
        for (k, id) in ids {
            if !vars.contains_key(k) {
                vars.insert(k.into(), Var::str(id.to_string(), false));
                readonly.insert(k.to_string());
            }
        }
        vars.insert("IFS".into(), Var::str(" \t\n".into(), false));
        vars.insert("OPTIND".into(), Var::str("1".into(), false));
        let dir_stack = vec![cwd.to_string_lossy().into_owned()];
        Shell {
            regex_failed: false,
            vars,
            funcs: HashMap::new(),
            cwd,
            pos: vec![],
            name0: "gosh".into(),
            dq_alone: false,
            cmd_pos: (1, 1),
            opts,
            status: 0,
            locals: vec![],
            rt,
            no_errexit: 0,
            in_func: 0,
            sub_status: None,
            loops: 0,
            trap_exit: String::new(),
            trap_err: String::new(),
            in_trap: false,
            jobs: vec![],
            readonly: Arc::new(readonly),
            set_params: false,
            dirstack_var: Var::str(String::new(), false),
            dir_stack,
            getopts: (0, 0),
            aliases: Arc::new(Default::default()),
            exec_io: None,
            decl_arrays: vec![],
        }
    }

    /// A copy of this shell for a subshell, a pipeline stage, a command substitution or a
    /// background job: mvdan's Runner.subshell copies neither the EXIT nor the ERR trap.
    fn subshell(&self) -> Shell {
        let mut sub = self.clone();
        sub.trap_exit.clear();
        sub.trap_err.clear();
        sub
    }

    /// Makes `DIRSTACK` follow the directory stack.
    fn sync_dirstack(&mut self) {
        let mut v = Var::str(self.dir_stack.first().cloned().unwrap_or_default(), false);
        v.arr = Some(self.dir_stack.iter().cloned().map(Some).collect());
        self.dirstack_var = v;
    }

    /// Runs `list` as the whole script: its EXIT trap after it; returns its status.
    fn run_main(mut self, list: &List, io: &Io) -> i32 {
        self.sync_dirstack();
        self.exec_list(list, io);
        let t = std::mem::take(&mut self.trap_exit);
        self.run_trap(&t, "exit", io);
        self.release_fifos();
        self.status
    }

    /// mvdan's runScriptENOEXEC: a file the kernel refuses with ENOEXEC (a script without
    /// a shebang) runs as a script in a new runner: default options, the exported
    /// variables only, no functions, `$0` the command name and `$@` its arguments.
    fn run_enoexec(
        &self,
        path: &Path,
        argv: &[String],
        env: Vec<(String, String)>,
        io: &Io,
    ) -> i32 {
        // Far beyond any script; a huge file is surely not one and is not read whole.
        const LIMIT: u64 = 64 << 20;
        let mut b = vec![];
        let read = std::fs::File::open(path).and_then(|f| {
            std::io::Read::read_to_end(&mut std::io::Read::take(f, LIMIT + 1), &mut b)
        });
        if let Err(e) = read {
            io.err(&format!("open {}: {}\n", path.display(), go_err(&e)));
            return 126;
        }
        // Like bash, a NUL byte before the first newline means a binary file.
        let line = b.split(|c| *c == b'\n').next().unwrap_or_default();
        if line.contains(&0) || b.len() as u64 > LIMIT {
            io.err(&format!("{}: cannot execute binary file\n", argv[0]));
            return 126;
        }
        let src = String::from_utf8_lossy(&b);
        let list = match parse::parse_full(&src) {
            Ok((l, _)) => l,
            Err(e) => {
                io.err(&format!("{}:{}\n", argv[0], e.render(&src)));
                return 2;
            }
        };
        let mut sh = Shell::new(self.cwd.clone(), &env, Opts::default(), self.rt.clone());
        sh.name0 = argv[0].clone();
        sh.pos = argv[1..].to_vec();
        sh.run_main(&list, io)
    }
}

/// Go's wording of an OS error ("no such file or directory").
pub fn go_err(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => {
            let s = unsafe { std::ffi::CStr::from_ptr(libc::strerror(n)) }
                .to_string_lossy()
                .into_owned();
            let mut c = s.chars();
            match c.next() {
                Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
                None => s,
            }
        }
        None => e.to_string(),
    }
}

impl Shell {
    fn glob_opts(&self) -> glob::Opts {
        glob::Opts {
            dotglob: self.opts.dotglob,
            nocase: self.opts.nocaseglob,
            globstar: self.opts.globstar,
            ext: self.opts.extglob,
        }
    }

    /// The variable `name` stands for, following `declare -n` references (mvdan stops
    /// after 100).
    fn resolve(&self, name: &str) -> String {
        let mut n = name.to_string();
        for _ in 0..100 {
            match self.vars.get(&n) {
                Some(v) if v.nameref => n = v.value.clone(),
                _ => return n,
            }
        }
        n
    }

    fn var(&self, name: &str) -> Option<&Var> {
        if name == "DIRSTACK" {
            return Some(&self.dirstack_var);
        }
        match self.vars.get(name) {
            // A chain of namerefs too long (a cycle) is an unset variable (mvdan's Resolve).
            Some(v) if v.nameref => self.vars.get(&self.resolve(name)).filter(|v| !v.nameref),
            v => v,
        }
    }

    fn get(&self, name: &str) -> Option<String> {
        let v = self.var(name)?;
        match &v.map {
            Some(m) => m.get("0").cloned(),
            None => Some(v.value.clone()),
        }
    }

    /// The associative array `name`, if it is one.
    fn assoc(&self, name: &str) -> Option<&std::collections::BTreeMap<String, String>> {
        self.var(name)?.map.as_ref()
    }

    fn set_var(&mut self, name: &str, value: String) {
        let name = &self.resolve(name);
        let old = self.vars.get(name);
        let exported = self.opts.allexport || old.is_some_and(|v| v.exported);
        if let Some(mut m) = old.and_then(|v| v.map.clone()) {
            // mvdan: a string assigned to an associative array sets its key "".
            m.insert(String::new(), value);
            let mut v = Var::str(m.get("0").cloned().unwrap_or_default(), exported);
            v.map = Some(m);
            self.vars.insert(name.to_string(), v);
            return;
        }
        // A string assigned to an array sets its element 0.
        let arr = old.and_then(|v| v.arr.clone()).map(|mut a| {
            match a.first_mut() {
                Some(f) => *f = Some(value.clone()),
                None => a.push(Some(value.clone())),
            }
            a
        });
        let mut v = Var::str(value, exported);
        v.arr = arr;
        self.vars.insert(name.to_string(), v);
    }

    /// `${a[@]:=w}`: mvdan assigns through index `@`, which is element 0 of an indexed
    /// (or new) array and key "0" of an associative one.
    fn set_elem0(&mut self, name: &str, value: String) {
        let name = self.resolve(name);
        match self.vars.get(&name) {
            Some(Var { map: Some(m), .. }) => {
                let mut m = m.clone();
                m.insert("0".into(), value);
                self.set_assoc(&name, m);
            }
            Some(Var { arr: Some(_), .. }) => self.set_var(&name, value),
            _ => self.set_array(&name, vec![Some(value)]),
        }
    }

    fn set_array(&mut self, name: &str, a: Vec<Option<String>>) {
        let name = &self.resolve(name);
        let value = a.first().cloned().flatten().unwrap_or_default();
        let exported = self.opts.allexport || self.vars.get(name).is_some_and(|v| v.exported);
        let mut v = Var::str(value, exported);
        v.arr = Some(a);
        self.vars.insert(name.to_string(), v);
    }

    fn set_assoc(&mut self, name: &str, m: std::collections::BTreeMap<String, String>) {
        let name = &self.resolve(name);
        let exported = self.opts.allexport || self.vars.get(name).is_some_and(|v| v.exported);
        let mut v = Var::str(m.get("0").cloned().unwrap_or_default(), exported);
        v.map = Some(m);
        self.vars.insert(name.to_string(), v);
    }

    /// The slots of `name` (an array may have holes): a set string is element 0 alone.
    fn slots(&self, name: &str) -> Vec<Option<String>> {
        match self.var(name) {
            Some(Var { arr: Some(a), .. }) => a.clone(),
            Some(Var { map: Some(m), .. }) => {
                // mvdan lists an associative array's values sorted.
                let mut v: Vec<Option<String>> = m.values().map(|v| Some(v.clone())).collect();
                v.sort();
                v
            }
            Some(v) => vec![Some(v.value.clone())],
            None => vec![],
        }
    }

    /// The elements of `name` that are set, in index order.
    fn elements(&self, name: &str) -> Vec<String> {
        self.slots(name).into_iter().flatten().collect()
    }

    /// One assignment (`x=v`, `x+=v`, `a[i]=v`, `a=(…)`); the string value it set, if any.
    fn assign(&mut self, a: &Assign, io: &Io) -> Result<Option<String>, ExpErr> {
        if let Some(items) = &a.array {
            self.assign_array(&a.name, a.append, items, None, io)?;
            return Ok(None);
        }
        let v = self.expand_str(&a.value, io)?;
        if let Some(ix) = &a.index {
            if self.assoc(&a.name).is_some() {
                let key = self.expand_str(ix, io)?;
                let name = self.resolve(&a.name);
                let mut m = self.assoc(&name).cloned().unwrap_or_default();
                // mvdan: `m[k]+=v` stores "" (appending to a map is a TODO there).
                m.insert(key, if a.append { String::new() } else { v });
                self.set_assoc(&name, m);
                return Ok(None);
            }
            let e = self.arith_text(ix, io)?;
            let i = arith::eval(&e, self).map_err(ExpErr::Skip)?;
            let mut vals = self.slots(&a.name);
            let k = if i < 0 { vals.len() as i64 + i } else { i };
            if k < 0 {
                return Err(ExpErr::Fatal(format!("{}: bad array subscript", a.name)));
            }
            let k = k as usize;
            if k >= vals.len() {
                vals.resize(k + 1, None);
            }
            if a.append {
                vals[k].get_or_insert_with(String::new).push_str(&v);
            } else {
                vals[k] = Some(v);
            }
            self.set_array(&a.name, vals);
            return Ok(None);
        }
        let v = if a.append {
            self.get(&a.name).unwrap_or_default() + &v
        } else {
            v
        };
        self.set_var(&a.name, v.clone());
        Ok(Some(v))
    }

    /// `name=(…)` / `name+=(…)`, as mvdan's assignVal: `kind` is `declare`'s `-a` / `-A`;
    /// without one the array is associative when its first element's index is quoted.
    fn assign_array(
        &mut self,
        name: &str,
        append: bool,
        items: &[Word],
        kind: Option<char>,
        io: &Io,
    ) -> Result<(), ExpErr> {
        let elems: Vec<(Option<Word>, Word)> = items.iter().map(array_elem).collect();
        let assoc = match kind {
            Some(k) => k == 'A',
            None => elems.first().is_some_and(|(k, _)| {
                matches!(k.as_deref(), Some([Part::Quoted(_) | Part::Dq(_)]))
            }),
        };
        if assoc {
            if append {
                // mvdan leaves the variable as it is (a TODO there).
                return Ok(());
            }
            let mut m = std::collections::BTreeMap::new();
            for (k, v) in &elems {
                let key = match k {
                    Some(k) => self.expand_str(k, io)?,
                    None => String::new(),
                };
                m.insert(key, self.expand_str(v, io)?);
            }
            self.set_assoc(name, m);
            return Ok(());
        }
        let mut vals = match self.var(name) {
            Some(Var { map: Some(_), .. }) if append => return Ok(()),
            Some(_) if append => self.slots(name),
            _ => vec![],
        };
        let mut next = vals.len() as i64;
        for (k, v) in &elems {
            match k {
                Some(k) => {
                    let e = self.arith_text(k, io)?;
                    let mut i = arith::eval(&e, self).map_err(ExpErr::Skip)?;
                    if i < 0 {
                        i += vals.len() as i64;
                        if i < 0 {
                            io.err(&format!("{name}: bad array subscript\n"));
                            // The command's status (an assignment's is its last
                            // substitution's).
                            self.status = 1;
                            self.sub_status = Some(1);
                            break;
                        }
                    }
                    let v = self.expand_str(v, io)?;
                    let i = i as usize;
                    if i >= vals.len() {
                        vals.resize(i + 1, None);
                    }
                    vals[i] = Some(v);
                    next = i as i64 + 1;
                }
                None => {
                    for f in self.fields(std::slice::from_ref(v), io)? {
                        let i = next as usize;
                        if i >= vals.len() {
                            vals.resize(i + 1, None);
                        }
                        vals[i] = Some(f);
                        next += 1;
                    }
                }
            }
        }
        self.set_array(name, vals);
        Ok(())
    }

    fn env_list(&self, extra: &[(String, String)]) -> Vec<(String, String)> {
        let mut m: Vec<(String, String)> = self
            .vars
            .iter()
            .filter(|(_, v)| v.exported && v.arr.is_none() && v.map.is_none())
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .filter(|(k, _)| !extra.iter().any(|(e, _)| e == k))
            .collect();
        m.extend(extra.iter().cloned());
        m
    }

    fn exec_list(&mut self, l: &List, io: &Io) -> Flow {
        let mut cur: Option<Io> = None;
        for ao in l {
            let io = match self.exec_io.take() {
                // `exec >file` changed this shell's descriptors for what follows.
                Some(n) => &*cur.insert(n),
                None => cur.as_ref().unwrap_or(io),
            };
            if self.opts.noexec {
                return Flow::Next;
            }
            if ao.bg {
                self.background(ao, io);
                continue;
            }
            let f = self.exec_and_or(ao, io);
            if f != Flow::Next {
                return f;
            }
        }
        Flow::Next
    }

    fn exec_and_or(&mut self, ao: &AndOr, io: &Io) -> Flow {
        let n = ao.rest.len();
        // Every pipeline but the last of a chain is exempt from errexit.
        let mut ran_last = n == 0;
        if n > 0 {
            self.no_errexit += 1;
        }
        let f = self.exec_pipeline(&ao.first, io);
        if n > 0 {
            self.no_errexit -= 1;
        }
        if f != Flow::Next {
            return f;
        }
        let mut bang = ao.first.bang;
        for (k, (op, p)) in ao.rest.iter().enumerate() {
            let run = match op {
                AndOrOp::And => self.status == 0,
                AndOrOp::Or => self.status != 0,
            };
            if !run {
                continue;
            }
            let last = k + 1 == n;
            if !last {
                self.no_errexit += 1;
            }
            let f = self.exec_pipeline(p, io);
            if !last {
                self.no_errexit -= 1;
            }
            if f != Flow::Next {
                return f;
            }
            ran_last = last;
            bang = p.bang;
        }
        if ran_last && !bang && self.status != 0 && self.no_errexit == 0 {
            let t = self.trap_err.clone();
            self.run_trap(&t, "error", io);
            if self.opts.errexit {
                return Flow::Exit;
            }
        }
        Flow::Next
    }

    /// `cmd &`: runs in a copy of this shell on its own thread (mvdan's goroutine).
    fn background(&mut self, ao: &AndOr, io: &Io) {
        let job = Arc::new(Job {
            status: Mutex::new(None),
            done: std::sync::Condvar::new(),
        });
        let mut sub = self.subshell();
        sub.jobs = vec![];
        let ao = AndOr {
            bg: false,
            ..ao.clone()
        };
        let io = io.clone();
        let j = job.clone();
        std::thread::spawn(move || {
            sub.exec_and_or(&ao, &io);
            drop(io);
            *j.status.lock().unwrap_or_else(|e| e.into_inner()) = Some(sub.status);
            j.done.notify_all();
        });
        self.jobs.push(job);
        self.status = 0;
    }

    /// `select VAR in ITEMS`, as mvdan: the menu and `$PS3` (`#? `) on stderr, a line of
    /// stdin into `REPLY` and VAR (the item it numbers, or ""), until `break` or the end
    /// of input (status 1).
    fn select(&mut self, var: &str, items: &[String], body: &List, io: &Io) -> Flow {
        let mut menu = true;
        loop {
            if menu {
                for (i, w) in items.iter().enumerate() {
                    io.err(&format!("{}) {w}\n", i + 1));
                }
                menu = false;
            }
            let ps3 = self.get("PS3").filter(|s| !s.is_empty());
            io.err(ps3.as_deref().unwrap_or("#? "));
            let fd = io.fds[0].as_raw_fd();
            let mut line = vec![];
            let mut eof = false;
            loop {
                let mut b = [0u8; 1];
                let n = unsafe { libc::read(fd, b.as_mut_ptr().cast(), 1) };
                if n < 0
                    && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted
                {
                    continue;
                }
                if n <= 0 {
                    eof = line.is_empty();
                    break;
                }
                if b[0] == b'\n' {
                    break;
                }
                line.push(b[0]);
            }
            if eof {
                io.err("\n");
                self.status = 1;
                return Flow::Next;
            }
            if line.is_empty() {
                menu = true;
                continue;
            }
            let reply = String::from_utf8_lossy(&line).into_owned();
            let pick = reply
                .parse::<usize>()
                .ok()
                .filter(|c| (1..=items.len()).contains(c))
                .map(|c| items[c - 1].clone())
                .unwrap_or_default();
            self.set_var("REPLY", reply);
            self.set_var(var, pick);
            self.loops += 1;
            let f = self.exec_list(body, io);
            self.loops -= 1;
            if let Some(f) = loop_step(f) {
                return f;
            }
        }
    }

    /// `<(list)` / `>(list)` (`write`), as mvdan: a named pipe in the temporary directory
    /// with `list` on its other end, run in a copy of this shell on its own thread (a job
    /// `wait` waits for); its path is the expansion.
    fn proc_subst(&mut self, write: bool, l: &Arc<List>, io: &Io) -> Result<String, ExpErr> {
        use std::hash::{BuildHasher, Hasher};
        if l.is_empty() {
            return Ok("/dev/null".into());
        }
        let dir = std::env::temp_dir();
        let mut tries = 0;
        let path = loop {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_usize(tries);
            let p = dir.join(format!("sh-interp-{:x}", h.finish()));
            let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes())
                .map_err(|e| ExpErr::Fatal(e.to_string()))?;
            if unsafe { libc::mkfifo(c.as_ptr(), 0o666) } == 0 {
                break p;
            }
            let e = std::io::Error::last_os_error();
            tries += 1;
            if e.kind() != std::io::ErrorKind::AlreadyExists {
                return Err(ExpErr::Fatal(format!("cannot create fifo: {}", go_err(&e))));
            }
            if tries > 100 {
                return Err(ExpErr::Fatal(format!(
                    "giving up at creating fifo: {}",
                    go_err(&e)
                )));
            }
        };
        let job = Arc::new(Job {
            status: Mutex::new(None),
            done: std::sync::Condvar::new(),
        });
        let mut sub = self.subshell();
        sub.jobs = vec![];
        // Weak until the pipe is open: a pipeline stage's output must close when the stage
        // ends, as Go's shared descriptors do, even while nothing opened the fifo.
        let weak = io.fds.clone().map(|f| Arc::downgrade(&f));
        let opened = Arc::new(AtomicBool::new(false));
        let (l, j, p, o) = (l.clone(), job.clone(), path.clone(), opened.clone());
        std::thread::spawn(move || {
            // Blocks until the command opens the other end (or the script's end releases
            // it: `release_fifos`).
            let f = if write {
                std::fs::File::open(&p)
            } else {
                std::fs::OpenOptions::new().write(true).open(&p)
            };
            o.store(true, Ordering::SeqCst);
            let null = || open_null().ok().map(Arc::new);
            let fds = weak.map(|w| w.upgrade().or_else(null));
            if let [Some(i), Some(out), Some(e)] = fds {
                let mut io2 = Io { fds: [i, out, e] };
                match f {
                    Ok(f) => {
                        io2.put(if write { 0 } else { 1 }, Arc::new(OwnedFd::from(f)));
                        sub.exec_list(&l, &io2);
                    }
                    Err(e) => {
                        let what = if write { "stdin" } else { "stdout" };
                        io2.err(&format!("cannot open fifo for {what}: {}\n", go_err(&e)));
                    }
                }
            }
            let _ = std::fs::remove_file(&p);
            *j.status.lock().unwrap_or_else(|e| e.into_inner()) = Some(sub.status);
            j.done.notify_all();
        });
        self.jobs.push(job);
        let mut fifos = self.rt.fifos.lock().unwrap_or_else(|e| e.into_inner());
        fifos.push((path.clone(), write, opened));
        Ok(path.to_string_lossy().into_owned())
    }

    /// Opens (and closes) the far end of every process substitution's pipe that nothing
    /// opened, so its thread ends instead of blocking forever.
    fn release_fifos(&self) {
        let fifos = std::mem::take(&mut *self.rt.fifos.lock().unwrap_or_else(|e| e.into_inner()));
        for (p, write, opened) in fifos {
            if opened.load(Ordering::SeqCst) || !p.exists() {
                continue;
            }
            let mut o = std::fs::OpenOptions::new();
            if write {
                o.write(true);
            } else {
                o.read(true);
            }
            use std::os::unix::fs::OpenOptionsExt;
            let f = o.custom_flags(libc::O_NONBLOCK).open(&p);
            // Held until the thread's open has returned (bounded: 2 s).
            for _ in 0..2000 {
                if f.is_err() || opened.load(Ordering::SeqCst) {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            drop(f);
            let _ = std::fs::remove_file(&p);
        }
    }

    /// Runs a trap's command (EXIT or ERR) without changing the status, never recursively.
    fn run_trap(&mut self, cmd: &str, name: &str, io: &Io) {
        if cmd.is_empty() || self.in_trap {
            return;
        }
        match parse::parse(cmd) {
            Ok(l) => {
                self.in_trap = true;
                let st = self.status;
                self.exec_list(&l, io);
                self.status = st;
                self.in_trap = false;
            }
            Err(e) => {
                io.err(&format!("{name}trap: {name} trap:{}\n", e.render(cmd)));
            }
        }
    }

    fn exec_pipeline(&mut self, p: &Pipeline, io: &Io) -> Flow {
        if let Some(posix) = p.time {
            let t0 = std::time::Instant::now();
            let flow = if p.cmds.is_empty() {
                Flow::Next
            } else {
                self.exec_pipeline(
                    &Pipeline {
                        time: None,
                        ..p.clone()
                    },
                    io,
                )
            };
            // mvdan prints the times to stdout and reports no user or system time.
            let d = t0.elapsed().as_secs_f64();
            let (real, zero) = if posix {
                (format!("{d:.2}"), "0.00".to_string())
            } else {
                (
                    format!("{}m{:.3}s", (d / 60.0) as u64, d % 60.0),
                    "0m0.000s".to_string(),
                )
            };
            let (sep, nl) = if posix { (" ", "") } else { ("\t", "\n") };
            io.out(&format!(
                "{nl}real{sep}{real}\nuser{sep}{zero}\nsys{sep}{zero}\n"
            ));
            return flow;
        }
        // `!` only exempts the pipeline's own status from errexit (mvdan): the statements
        // inside it (`! { false; }`, a pipeline's last stage) are checked as usual.
        let flow = if p.cmds.len() == 1 {
            self.exec_cmd(&p.cmds[0], io)
        } else {
            self.exec_piped(&p.cmds, io)
        };
        if p.bang {
            if flow == Flow::Next {
                self.status = (self.status == 0) as i32;
            }
        }
        flow
    }

    fn exec_piped(&mut self, cmds: &[Cmd], io: &Io) -> Flow {
        let n = cmds.len();
        let mut stage_io = vec![];
        let mut next_in = io.fds[0].clone();
        for _ in 0..n - 1 {
            let (r, w) = match os_pipe::pipe() {
                Ok(p) => p,
                Err(e) => {
                    io.err(&format!("{}\n", go_err(&e)));
                    self.status = 1;
                    return Flow::Next;
                }
            };
            let mut sio = io.clone();
            sio.fds[0] = next_in;
            sio.fds[1] = Arc::new(OwnedFd::from(w));
            next_in = Arc::new(OwnedFd::from(r));
            stage_io.push(sio);
        }
        let mut lio = io.clone();
        lio.fds[0] = next_in;
        let (flow, mut statuses) = std::thread::scope(|s| {
            let mut hs = vec![];
            for (c, sio) in cmds[..n - 1].iter().zip(stage_io) {
                // All stages but the last run in subshells (the last in this shell, as mvdan).
                let mut sub = self.subshell();
                hs.push(s.spawn(move || {
                    sub.exec_cmd(c, &sio);
                    drop(sio);
                    sub.status
                }));
            }
            let f = self.exec_cmd(&cmds[n - 1], &lio);
            drop(lio);
            let st: Vec<i32> = hs.into_iter().map(|h| h.join().unwrap_or(1)).collect();
            (f, st)
        });
        let mut flow = flow;
        // The last stage is a statement of its own in mvdan (a pipe's Y), checked for the
        // ERR trap and errexit before the whole pipeline is.
        if flow == Flow::Next && self.status != 0 && self.no_errexit == 0 {
            let t = self.trap_err.clone();
            self.run_trap(&t, "error", io);
            if self.opts.errexit {
                flow = Flow::Exit;
            }
        }
        statuses.push(self.status);
        if self.opts.pipefail {
            if let Some(s) = statuses.iter().rev().find(|s| **s != 0) {
                self.status = *s;
            }
        }
        flow
    }

    fn exec_cmd(&mut self, c: &Cmd, io: &Io) -> Flow {
        if self.rt.killed.load(Ordering::Relaxed) {
            self.status = 130;
            return Flow::Exit;
        }
        match c {
            Cmd::FuncDef(name, body) => {
                self.funcs.insert(name.clone(), body.clone());
                self.status = 0;
                Flow::Next
            }
            Cmd::Compound(c, redirs) => {
                let io2 = match self.redirect(redirs, io) {
                    Ok(i) => i,
                    Err(f) => return f,
                };
                self.exec_compound(c, &io2)
            }
            Cmd::Simple {
                assigns,
                words,
                redirs,
                pos,
            } => {
                self.cmd_pos = *pos;
                self.exec_simple(assigns, words, redirs, io)
            }
        }
    }

    fn exec_compound(&mut self, c: &Compound, io: &Io) -> Flow {
        match c {
            Compound::Group(l) => self.exec_list(l, io),
            Compound::Subshell(l) => {
                let mut sub = self.subshell();
                // mvdan: a subshell applies errexit even where its caller is exempt.
                sub.no_errexit = 0;
                sub.exec_list(l, io);
                self.status = sub.status;
                Flow::Next
            }
            Compound::If(arms, els) => {
                for (cond, body) in arms {
                    self.no_errexit += 1;
                    let f = self.exec_list(cond, io);
                    self.no_errexit -= 1;
                    if f != Flow::Next {
                        return f;
                    }
                    if self.status == 0 {
                        return self.exec_list(body, io);
                    }
                }
                self.status = 0;
                match els {
                    Some(l) => self.exec_list(l, io),
                    None => Flow::Next,
                }
            }
            Compound::Loop { until, cond, body } => {
                let mut last = 0;
                loop {
                    self.no_errexit += 1;
                    let f = self.exec_list(cond, io);
                    self.no_errexit -= 1;
                    if f != Flow::Next {
                        return f;
                    }
                    if (self.status == 0) == *until {
                        break;
                    }
                    self.loops += 1;
                    let f = self.exec_list(body, io);
                    self.loops -= 1;
                    last = self.status;
                    if let Some(f) = loop_step(f) {
                        return f;
                    }
                }
                self.status = last;
                Flow::Next
            }
            Compound::Unhandled(m) => {
                io.err(&format!("{m}\n"));
                self.status = 1;
                Flow::Next
            }
            Compound::For {
                var,
                items,
                body,
                select,
                trace,
            } => {
                let items = match items {
                    None => self.pos.clone(),
                    Some(ws) => match self.fields(ws, io) {
                        Ok(v) => v,
                        Err(e) => return self.exp_failed(e, io),
                    },
                };
                self.status = 0;
                if *select {
                    return self.select(var, &items, body, io);
                }
                for it in items {
                    self.set_var(var, it);
                    if self.opts.xtrace {
                        io.err(&format!("+ {trace}\n"));
                    }
                    self.loops += 1;
                    let f = self.exec_list(body, io);
                    self.loops -= 1;
                    if let Some(f) = loop_step(f) {
                        return f;
                    }
                }
                Flow::Next
            }
            Compound::CFor {
                init,
                cond,
                post,
                body,
            } => {
                let eval = |sh: &mut Shell, ps: &[Part]| -> Result<i64, ExpErr> {
                    let e = sh.arith_text(ps, io)?;
                    if e.trim().is_empty() {
                        return Ok(1);
                    }
                    arith::eval(&e, sh).map_err(ExpErr::Skip)
                };
                if let Err(e) = eval(self, init) {
                    return self.exp_failed(e, io);
                }
                self.status = 0;
                loop {
                    match eval(self, cond) {
                        Ok(0) => break,
                        Ok(_) => {}
                        Err(e) => return self.exp_failed(e, io),
                    }
                    self.loops += 1;
                    let f = self.exec_list(body, io);
                    self.loops -= 1;
                    if let Some(f) = loop_step(f) {
                        return f;
                    }
                    if let Err(e) = eval(self, post) {
                        return self.exp_failed(e, io);
                    }
                }
                Flow::Next
            }
            Compound::Test(e) => match {
                self.regex_failed = false;
                self.test_expr(e, io)
            } {
                Ok(b) => {
                    self.status = if self.regex_failed { 2 } else { (!b) as i32 };
                    Flow::Next
                }
                Err(e) => self.exp_failed(e, io),
            },
            Compound::Case(w, arms, trace) => {
                if self.opts.xtrace {
                    io.err(&format!("+ {trace}\n"));
                }
                let s = match self.expand_str(w, io) {
                    Ok(s) => s,
                    Err(e) => return self.exp_failed(e, io),
                };
                self.status = 0;
                let mut fall = false;
                for (pats, body, term) in arms {
                    let mut hit = fall;
                    if !hit {
                        for p in pats {
                            let pat = match self.expand_pattern(p, io) {
                                Ok(s) => s,
                                Err(e) => return self.exp_failed(e, io),
                            };
                            // mvdan reports a `!(…)` it cannot match, which never matches.
                            if let Err(m) = glob::neg_check(&pat) {
                                io.err(&format!("{m}\n"));
                            }
                            if glob::matches_ext(&pat, &s) {
                                hit = true;
                                break;
                            }
                        }
                    }
                    if !hit {
                        continue;
                    }
                    let f = self.exec_list(body, io);
                    if f != Flow::Next {
                        return f;
                    }
                    match term {
                        CaseTerm::Break => return Flow::Next,
                        CaseTerm::Fall => fall = true,
                        CaseTerm::Resume => fall = false,
                    }
                }
                Flow::Next
            }
            Compound::Arith(ps) => {
                let e = match self.arith_text(ps, io) {
                    Ok(e) => e,
                    Err(e) => return self.exp_failed(e, io),
                };
                // go-task's mvdan neither traces `(( ))` nor survives its errors (fatal)
                match arith::eval(&e, self) {
                    Ok(n) => {
                        self.status = (n == 0) as i32;
                        Flow::Next
                    }
                    Err(m) => self.exp_failed(ExpErr::Fatal(m), io),
                }
            }
        }
    }

    /// `[[ … ]]`: operands expanded without splitting or globbing.
    fn test_expr(&mut self, e: &TestExpr, io: &Io) -> Result<bool, ExpErr> {
        Ok(match e {
            TestExpr::Word(w) => !self.expand_str(w, io)?.is_empty(),
            TestExpr::Not(e) => !self.test_expr(e, io)?,
            TestExpr::And(a, b) => self.test_expr(a, io)? && self.test_expr(b, io)?,
            TestExpr::Or(a, b) => self.test_expr(a, io)? || self.test_expr(b, io)?,
            TestExpr::Unary(op, w) => {
                let v = self.expand_str(w, io)?;
                builtins::unary_test(self, op, &v).unwrap_or(false)
            }
            TestExpr::Binary(l, op, r) => {
                let a = self.expand_str(l, io)?;
                match op.as_str() {
                    "==" | "=" | "!=" => {
                        let p = self.expand_pattern(r, io)?;
                        // mvdan reports a `!(…)` it cannot match, which never matches.
                        if let Err(m) = glob::neg_check(&p) {
                            io.err(&format!("{m}\n"));
                        }
                        glob::matches_ext(&p, &a) == (op != "!=")
                    }
                    "=~" => {
                        // mvdan takes the operand's literal value: quotes do not escape.
                        // A match sets BASH_REMATCH (an unmatched group: ""); a regex Go's
                        // RE2 refuses makes the test fail with status 2, silently.
                        let re = self.expand_str(r, io)?;
                        match regex::Regex::new(&re) {
                            Ok(re) => match re.captures(&a) {
                                Some(c) => {
                                    let m = c
                                        .iter()
                                        .map(|g| {
                                            Some(g.map(|g| g.as_str()).unwrap_or("").to_string())
                                        })
                                        .collect();
                                    self.set_array("BASH_REMATCH", m);
                                    true
                                }
                                None => false,
                            },
                            Err(_) => {
                                self.regex_failed = true;
                                false
                            }
                        }
                    }
                    // `-eq` and kin take mvdan's atoi of each side, as in `test`.
                    _ => {
                        let b = self.expand_str(r, io)?;
                        builtins::binary_test(self, &a, op, &b)
                            .and_then(|r| r.ok())
                            .unwrap_or(false)
                    }
                }
            }
        })
    }

    fn exp_failed(&mut self, e: ExpErr, io: &Io) -> Flow {
        match e {
            ExpErr::Fatal(m) => {
                io.err(&format!("{m}\n"));
                self.status = 1;
                Flow::Exit
            }
            ExpErr::Skip(m) => {
                io.err(&format!("{m}\n"));
                self.status = 0;
                Flow::Next
            }
        }
    }

    /// Applies redirections to a copy of `io`; on failure the message is printed and the
    /// command fails with status 1.
    fn redirect(&mut self, rs: &[Redir], io: &Io) -> Result<Io, Flow> {
        if rs.is_empty() {
            return Ok(io.clone());
        }
        let mut io2 = io.clone();
        for r in rs {
            let fd = r.fd;
            let res: Result<(), String> = (|| {
                // mvdan redirects only the three standard descriptors, and a here-document
                // (`3<<EOF` too) is always standard input.
                if !(0..=2).contains(&fd) && !matches!(r.op, RedirOp::HereDoc(_)) {
                    return Err(format!("unsupported redirect fd: {fd}"));
                }
                match &r.op {
                    RedirOp::Dup => {
                        let t = self.expand_str(&r.target, io).map_err(exp_msg)?;
                        match t.as_str() {
                            "-" => io2.put(fd, Arc::new(open_null().map_err(|e| go_err(&e))?)),
                            "1" | "2" if fd != 0 => {
                                io2.fds[fd as usize] = io2.fds[if t == "1" { 1 } else { 2 }].clone()
                            }
                            _ => {
                                let op = if fd == 0 { "<&" } else { ">&" };
                                return Err(format!("unhandled {op} arg: {t:?}"));
                            }
                        }
                    }
                    RedirOp::HereDoc(slot) => {
                        let body = match slot.get() {
                            Some(w) => self.expand_str(w, io).map_err(exp_msg)?,
                            None => String::new(),
                        };
                        // mvdan: whatever the descriptor, it becomes standard input.
                        io2.put(
                            0,
                            Arc::new(feed(body.into_bytes()).map_err(|e| go_err(&e))?),
                        );
                    }
                    RedirOp::ReadWrite => return Err("unhandled redirect op: <>".into()),
                    RedirOp::HereString => {
                        let mut body = self.expand_str(&r.target, io).map_err(exp_msg)?;
                        body.push('\n');
                        // mvdan: whatever the descriptor, it becomes standard input.
                        io2.put(
                            0,
                            Arc::new(feed(body.into_bytes()).map_err(|e| go_err(&e))?),
                        );
                    }
                    op => {
                        let t = self.expand_str(&r.target, io).map_err(exp_msg)?;
                        if t.is_empty() {
                            // mvdan opens "" itself, which no system has
                            return Err("open : no such file or directory".to_string());
                        }
                        let path = self.cwd.join(&t);
                        let mut o = std::fs::OpenOptions::new();
                        match op {
                            RedirOp::In => o.read(true),
                            RedirOp::Append | RedirOp::All { append: true } => {
                                o.append(true).create(true)
                            }
                            _ => o.write(true).create(true).truncate(true),
                        };
                        let f = o
                            .open(&path)
                            .map_err(|e| format!("open {}: {}", path.display(), go_err(&e)))?;
                        let f = Arc::new(OwnedFd::from(f));
                        if let RedirOp::All { .. } = op {
                            io2.fds[1] = f.clone();
                            io2.fds[2] = f;
                        } else {
                            io2.put(fd, f);
                        }
                    }
                }
                Ok(())
            })();
            if let Err(m) = res {
                io.err(&format!("{m}\n"));
                self.status = 1;
                return Err(Flow::Next);
            }
        }
        Ok(io2)
    }

    fn exec_simple(
        &mut self,
        assigns: &[Assign],
        words: &[Word],
        redirs: &[Redir],
        io: &Io,
    ) -> Flow {
        // `export`/`local` arguments that look like assignments are not split or globbed.
        let decl = matches!(words.first().map(|w| w.as_slice()), Some([Part::Lit(n)]) if matches!(n.as_str(), "export" | "local" | "declare" | "typeset" | "readonly"));
        let mut argv = vec![];
        self.sub_status = None;
        // mvdan's alias expansion: a literal first word is replaced by the alias's words,
        // and the next word too while an alias ends in a blank.
        let expanded;
        let words = if self.opts.expand_aliases && !self.aliases.is_empty() {
            let mut ws = words.to_vec();
            let mut i = 0;
            let mut seen = 0;
            while let Some([Part::Lit(name)]) = ws.get(i).map(|w| w.as_slice()) {
                let Some(src) = self.aliases.get(name) else {
                    break;
                };
                seen += 1;
                let Ok(als) = parse::words(src) else { break };
                let n = als.len();
                let blank = src.trim_end_matches([' ', '\t']) != src;
                ws.splice(i..i + 1, als);
                // An alias naming itself (`alias ls='ls -l'`) stops, as mvdan's single pass.
                if !blank || seen > 100 {
                    break;
                }
                i += n;
            }
            expanded = ws;
            &expanded[..]
        } else {
            words
        };
        let mut decl_arrays = vec![];
        for (k, w) in words.iter().enumerate() {
            if let (true, Some(Part::Array(items))) = (decl && k > 0, w.last()) {
                if let Some(a) = parse::assignment(&w[..w.len() - 1].to_vec()) {
                    argv.push(a.name.clone());
                    decl_arrays.push((argv.len() - 1, a, items.clone()));
                    continue;
                }
            }
            let is_let = matches!(words[0].as_slice(), [Part::Lit(n)] if n == "let");
            let r = if decl && k > 0 && matches!(w.first(), Some(Part::Lit(s)) if s.contains('=')) {
                self.expand_str(w, io).map(|s| vec![s])
            } else if is_let && k > 0 {
                self.let_text(w, io).map(|s| vec![s])
            } else {
                self.fields(std::slice::from_ref(w), io)
            };
            match r {
                Ok(v) => argv.extend(v),
                Err(e) => return self.exp_failed(e, io),
            }
        }
        // Assignments apply left to right: `x=1 y=$x` sees x.
        let mut values = vec![];
        let mut saved = vec![];
        for a in assigns {
            let n = &a.name;
            if self.readonly.contains(n) {
                io.err(&format!("{n}: readonly variable\n"));
                self.status = 1;
                return Flow::Next;
            }
            saved.push((n.clone(), self.vars.get(n).cloned()));
            match self.assign(a, io) {
                Ok(Some(v)) => values.push((n.clone(), v)),
                Ok(None) => {}
                Err(e) => return self.exp_failed(e, io),
            }
        }
        if argv.is_empty() {
            if self.opts.xtrace {
                if values.len() == 1 && values[0].1.is_empty() {
                    // mvdan prints an empty value's trace as an empty line
                    io.err("\n");
                } else {
                    for (n, v) in &values {
                        io.err(&format!("+ {n}={}\n", quote(v)));
                    }
                }
            }
            let st = self.sub_status.unwrap_or(0);
            let io2 = match self.redirect(redirs, io) {
                Ok(i) => i,
                Err(f) => return f,
            };
            drop(io2);
            self.status = st;
            return Flow::Next;
        }
        // For a command they are its environment only.
        for (n, v) in saved.into_iter().rev() {
            self.restore(n, v);
        }
        let io2 = match self.redirect(redirs, io) {
            Ok(i) => i,
            Err(f) => return f,
        };
        if self.opts.xtrace {
            io.err(&trace_call(&argv));
        }
        self.decl_arrays = decl_arrays;
        self.call(&argv, values, &io2, true)
    }

    /// Runs a command by name: function, builtin or program.
    fn call(
        &mut self,
        argv: &[String],
        values: Vec<(String, String)>,
        io: &Io,
        funcs: bool,
    ) -> Flow {
        let name = argv[0].as_str();
        if funcs {
            if let Some(body) = self.funcs.get(name).cloned() {
                let saved: Vec<(String, Option<Var>)> = values
                    .iter()
                    .map(|(n, _)| (n.clone(), self.vars.get(n).cloned()))
                    .collect();
                for (n, v) in &values {
                    self.set_var(n, v.clone());
                }
                let pos = std::mem::replace(&mut self.pos, argv[1..].to_vec());
                self.locals.push(vec![]);
                self.in_func += 1;
                let loops = std::mem::take(&mut self.loops);
                let f = self.exec_cmd(&body, io);
                self.loops = loops;
                self.in_func -= 1;
                for (n, v) in self.locals.pop().unwrap_or_default().into_iter().rev() {
                    self.restore(n, v);
                }
                self.pos = pos;
                for (n, v) in saved {
                    self.restore(n, v);
                }
                return match f {
                    Flow::Return | Flow::Break(_) | Flow::Continue(_) => Flow::Next,
                    f => f,
                };
            }
        }
        if builtins::is_builtin(name) {
            let saved: Vec<(String, Option<Var>)> = values
                .iter()
                .map(|(n, _)| (n.clone(), self.vars.get(n).cloned()))
                .collect();
            for (n, v) in &values {
                self.set_var(n, v.clone());
            }
            let f = builtins::run(self, argv, io);
            for (n, v) in saved {
                self.restore(n, v);
            }
            return f;
        }
        self.status = self.external(argv, &values, io);
        Flow::Next
    }

    fn restore(&mut self, n: String, v: Option<Var>) {
        match v {
            Some(v) => {
                self.vars.insert(n, v);
            }
            None => {
                self.vars.remove(&n);
            }
        }
    }

    /// The program `name` names, or mvdan's message for why there is none.
    fn look_path(&self, name: &str) -> Result<PathBuf, String> {
        self.look_path_in(name, self.get("PATH").unwrap_or_default())
    }

    /// `look_path` with the PATH a command's own prefix assignments may have set.
    fn look_path_in(&self, name: &str, path: String) -> Result<PathBuf, String> {
        use std::os::unix::fs::PermissionsExt;
        if name.contains('/') {
            // Go's filepath.Join cleans the path (`./x` reads as DIR/x).
            let p = builtins::normalize(&self.cwd.join(name));
            return match std::fs::metadata(&p) {
                Err(e) => Err(format!("stat {}: {}", p.display(), go_err(&e))),
                Ok(m) if m.is_dir() => Err("is a directory".into()),
                Ok(m) if m.permissions().mode() & 0o111 == 0 => Err("permission denied".into()),
                Ok(_) => Ok(p),
            };
        }
        for dir in path.split(':') {
            let d = if dir.is_empty() { "." } else { dir };
            let p = self.cwd.join(d).join(name);
            if let Ok(m) = std::fs::metadata(&p) {
                if m.is_file() && m.permissions().mode() & 0o111 != 0 {
                    return Ok(p);
                }
            }
        }
        Err(format!("{name:?}: executable file not found in $PATH"))
    }

    fn external(&mut self, argv: &[String], extra: &[(String, String)], io: &Io) -> i32 {
        use std::os::unix::process::{CommandExt, ExitStatusExt};
        let path = extra.iter().rev().find(|(k, _)| k == "PATH");
        let path = path.map(|(_, v)| v.clone());
        let path = path.unwrap_or_else(|| self.get("PATH").unwrap_or_default());
        let path = match self.look_path_in(&argv[0], path) {
            Ok(p) => p,
            Err(m) => {
                io.err(&format!("{m}\n"));
                return 127;
            }
        };
        let dup = |k: usize| io.fds[k].try_clone().map(std::process::Stdio::from);
        let (Ok(i), Ok(o), Ok(e)) = (dup(0), dup(1), dup(2)) else {
            io.err("too many open files\n");
            return 126;
        };
        // Go's exec checks the directory first; mvdan's handler returns that error, which
        // stops the script (go-task: `task: Failed to run task "t": chdir DIR: …`).
        if let Err(e) = std::fs::metadata(&self.cwd) {
            let m = format!("chdir {}: {}", self.cwd.display(), go_err(&e));
            *self.rt.fatal.lock().unwrap_or_else(|e| e.into_inner()) = Some(m);
            self.rt.killed.store(true, Ordering::SeqCst);
            return 1;
        }
        let mut cmd = std::process::Command::new(&path);
        cmd.arg0(&argv[0])
            .args(&argv[1..])
            .env_clear()
            .envs(self.env_list(extra))
            .current_dir(&self.cwd)
            .stdin(i)
            .stdout(o)
            .stderr(e);
        if !self.rt.interactive {
            // Own process group: a timeout or a forwarded signal reaches the whole job.
            cmd.process_group(0);
        }
        (self.rt.before_spawn)();
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) if e.raw_os_error() == Some(libc::ENOEXEC) => {
                return self.run_enoexec(&path, argv, self.env_list(extra), io);
            }
            Err(e) => {
                io.err(&format!("fork/exec {}: {}\n", path.display(), go_err(&e)));
                return 126;
            }
        };
        let pid = child.id();
        drop(cmd);
        self.rt.pids.lock().unwrap().push(pid);
        if !self.rt.interactive {
            self.rt.running.lock().unwrap().push(pid);
        }
        if self.rt.killed.load(Ordering::SeqCst) {
            unsafe {
                libc::killpg(pid as i32, libc::SIGKILL);
            }
            let _ = child.kill();
        }
        let st = child.wait();
        self.rt.pids.lock().unwrap().retain(|p| *p != pid);
        self.rt.running.lock().unwrap().retain(|p| *p != pid);
        match st {
            Ok(s) => s.code().unwrap_or_else(|| 128 + s.signal().unwrap_or(0)),
            Err(_) => 1,
        }
    }

    /// Runs `l` in a subshell with stdout captured (command substitution).
    fn capture(&mut self, l: &List, io: &Io) -> String {
        let Ok((r, w)) = os_pipe::pipe() else {
            return String::new();
        };
        let mut sio = io.clone();
        sio.fds[1] = Arc::new(OwnedFd::from(w));
        let mut sub = self.subshell();
        let out = std::thread::scope(|s| {
            let h = s.spawn(move || {
                let mut r = r;
                let mut v = vec![];
                let _ = std::io::Read::read_to_end(&mut r, &mut v);
                v
            });
            sub.exec_list(l, &sio);
            drop(sio);
            h.join().unwrap_or_default()
        });
        self.sub_status = Some(sub.status);
        let mut s = String::from_utf8_lossy(&out).into_owned();
        while s.ends_with('\n') {
            s.pop();
        }
        s
    }
}

fn exp_msg(e: ExpErr) -> String {
    match e {
        ExpErr::Fatal(m) | ExpErr::Skip(m) => m,
    }
}

pub fn open_null() -> std::io::Result<OwnedFd> {
    Ok(OwnedFd::from(
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/null")?,
    ))
}

/// A descriptor reading `data` (here-documents), written by a thread so any size works.
fn feed(data: Vec<u8>) -> std::io::Result<OwnedFd> {
    let (r, mut w) = os_pipe::pipe()?;
    if data.len() <= 16 * 1024 {
        // Fits in the pipe buffer: no thread needed.
        w.write_all(&data)?;
    } else {
        std::thread::spawn(move || {
            let _ = w.write_all(&data);
        });
    }
    Ok(OwnedFd::from(r))
}

/// mvdan's syntax.Quote for bash: the word as is when it needs no quoting, else quoted.
pub(crate) fn quote(s: &str) -> String {
    const KEYWORDS: &[&str] = &[
        "!", "[[", "]]", "case", "coproc", "do", "done", "elif", "else", "esac", "fi", "for",
        "function", "if", "in", "select", "then", "time", "until", "while", "{", "}",
    ];
    if s.is_empty() {
        return "''".into();
    }
    let special = s
        .chars()
        .any(|c| ";\"'()$|&><` \t\r\n\\#{~*?[=".contains(c));
    let nonprint = s.chars().any(|c| c.is_control() || c == '\u{fffd}');
    if !special && !nonprint && !KEYWORDS.contains(&s) {
        return s.into();
    }
    if nonprint {
        let mut b = String::from("$'");
        for c in s.chars() {
            match c {
                '\'' | '\\' => {
                    b.push('\\');
                    b.push(c);
                }
                '\x07' => b.push_str("\\a"),
                '\x08' => b.push_str("\\b"),
                '\x0c' => b.push_str("\\f"),
                '\n' => b.push_str("\\n"),
                '\r' => b.push_str("\\r"),
                '\t' => b.push_str("\\t"),
                '\x0b' => b.push_str("\\v"),
                c if (c as u32) < 0x80 && c.is_control() => {
                    b.push_str(&format!("\\x{:02x}", c as u32))
                }
                c if c.is_control() => b.push_str(&format!("\\u{:04x}", c as u32)),
                c => b.push(c),
            }
        }
        b.push('\'');
        return b;
    }
    if !s.contains('\'') {
        return format!("'{s}'");
    }
    let mut b = String::from("\"");
    for c in s.chars() {
        if matches!(c, '"' | '\\' | '`' | '$') {
            b.push('\\');
        }
        b.push(c);
    }
    b.push('"');
    b
}

/// mvdan's xtrace line for a call: builtins (`set` too, as go-task 3.54.0 prints
/// `+ set +x`) get their arguments quoted as one string, programs and functions get them
/// joined as they are.
fn trace_call(argv: &[String]) -> String {
    // declarations are not traced (mvdan's DeclClause)
    if matches!(
        argv[0].as_str(),
        "declare" | "typeset" | "local" | "readonly" | "export" | "nameref"
    ) {
        return String::new();
    }
    let rest = argv[1..].join(" ");
    if rest.trim().is_empty() {
        return format!("+ {}\n", argv[0]);
    }
    if builtins::is_builtin(&argv[0]) {
        return format!("+ {} {}\n", argv[0], quote(&rest));
    }
    format!("+ {} {}\n", argv[0], rest)
}

/// The home directory of user `name` (`~name`), from the password database.
pub(crate) fn user_home(name: &str) -> Option<String> {
    let c = std::ffi::CString::new(name).ok()?;
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut out: *mut libc::passwd = std::ptr::null_mut();
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: getpwnam_r writes only into `pw` and `buf`, whose sizes it is given.
    let r = unsafe { libc::getpwnam_r(c.as_ptr(), &mut pw, buf.as_mut_ptr(), buf.len(), &mut out) };
    if r != 0 || out.is_null() || pw.pw_dir.is_null() {
        return None;
    }
    Some(
        unsafe { std::ffi::CStr::from_ptr(pw.pw_dir) }
            .to_string_lossy()
            .into_owned(),
    )
}

/// An array literal's element: `[key]=value` split into its index and value words, or a
/// plain word.
fn array_elem(w: &Word) -> (Option<Word>, Word) {
    let plain = (None, w.clone());
    let Some(Part::Lit(first)) = w.first() else {
        return plain;
    };
    let Some(rest) = first.strip_prefix('[') else {
        return plain;
    };
    let mut key: Word = vec![];
    let mut cur = rest.to_string();
    let mut k = 0;
    loop {
        if let Some(p) = cur.find("]=") {
            if p > 0 {
                key.push(Part::Lit(cur[..p].to_string()));
            }
            let mut value: Word = vec![];
            if cur.len() > p + 2 {
                value.push(Part::Lit(cur[p + 2..].to_string()));
            }
            value.extend(w[k + 1..].iter().cloned());
            return (Some(key), value);
        }
        if !cur.is_empty() {
            key.push(Part::Lit(cur));
        }
        k += 1;
        match w.get(k) {
            Some(Part::Lit(s)) => cur = s.clone(),
            Some(p) => {
                key.push(p.clone());
                cur = String::new();
            }
            None => return plain,
        }
    }
}
