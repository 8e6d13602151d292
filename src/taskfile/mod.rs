//! Taskfile loading: lookup, YAML with positions, typed AST, includes, dotenv.

pub mod ast;
pub mod decode;
pub mod dotenv;
pub mod remote;
pub mod yaml;

use indexmap::IndexMap;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use thiserror::Error;

use ast::{Include, Task, Taskfile, Vars};

/// The eight names go-task looks for, in order.
pub const TASKFILE_NAMES: [&str; 8] = [
    "Taskfile.yml",
    "taskfile.yml",
    "Taskfile.yaml",
    "taskfile.yaml",
    "Taskfile.dist.yml",
    "taskfile.dist.yml",
    "Taskfile.dist.yaml",
    "taskfile.dist.yaml",
];

#[derive(Debug, Error)]
pub enum LoadError {
    #[error("No Taskfile found at \"{0}\" (or any of the parent directories). Run `task --init` to create a new Taskfile.")]
    NotFoundWalk(String),
    #[error("No Taskfile found at \"{0}\"")]
    NotFound(String),
    #[error("Failed to parse {file}:\n{err}")]
    Yaml { file: String, err: yaml::YamlError },
    #[error("{0}")]
    Decode(DecodeReport),
    #[error("Missing schema version in Taskfile \"{0}\"")]
    MissingVersion(String),
    #[error("Invalid schema version in Taskfile \"{file}\":\nSchema version ({version}) no longer supported. Please use v3 or above")]
    OldVersion { file: String, version: String },
    #[error("include cycle detected between {0} <--> {1}")]
    IncludeCycle(String, String),
    #[error("Included Taskfiles can't have dotenv declarations. Please, move the dotenv declaration to the main Taskfile")]
    IncludedDotenv,
    #[error("Found multiple tasks ({0}) included by \"{1}\"\"")]
    FlattenClash(String, String),
    #[error("The checksum of the Taskfile at \"{file}\" does not match!\ngot: \"{got}\"\nwant: \"{want}\"")]
    ChecksumMismatch {
        file: String,
        got: String,
        want: String,
    },
    #[error("{0}")]
    Dotenv(String),
    /// Where go-task would crash; reported bare with Go's panic exit status.
    #[error("{0}")]
    Panic(String),
    #[error("{0}")]
    Other(String),
    #[error(transparent)]
    Remote(#[from] remote::RemoteError),
}

impl LoadError {
    /// go-task's exit codes for Taskfile errors.
    pub fn exit_code(&self) -> i32 {
        match self {
            LoadError::NotFoundWalk(_) | LoadError::NotFound(_) => 100,
            LoadError::Yaml { .. } => 109,
            LoadError::Decode(_) => 102,
            LoadError::MissingVersion(_) | LoadError::OldVersion { .. } => 107,
            LoadError::IncludeCycle(..) => 110,
            LoadError::IncludedDotenv => 1,
            LoadError::FlattenClash(..) => 203,
            LoadError::ChecksumMismatch { .. } => 111,
            LoadError::Dotenv(_) => 1,
            LoadError::Panic(_) => 2,
            LoadError::Other(_) => 1,
            LoadError::Remote(e) => e.exit_code(),
        }
    }
}

/// A decode error rendered like go-task: message, `file:line:col`, and a source snippet.
#[derive(Debug)]
pub struct DecodeReport {
    pub file: PathBuf,
    pub err: decode::DecodeError,
    pub source: String,
}

impl std::fmt::Display for DecodeReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render(false))
    }
}

impl DecodeReport {
    /// The report as go-task prints it; with `color`, its `err:`/`file:` lines and the
    /// `>`/`^` markers in fatih/color's fixed red (`color.RedString`, no `TASK_COLOR_*`).
    pub fn render(&self, color: bool) -> String {
        let red = |s: &str| {
            if color {
                format!("\x1b[31m{s}\x1b[0m")
            } else {
                s.to_string()
            }
        };
        // go-yaml's several type errors: an `errs:` list, each line on its own.
        let mut out = if self.err.errs.len() > 1 {
            let mut o = format!("{}\n", red("errs:"));
            for e in &self.err.errs {
                o.push_str(&format!("{}\n", red(&format!("- {e}"))));
            }
            o
        } else {
            format!("{}\n", red(&format!("err:  {}", self.err.msg)))
        };
        out.push_str(&red(&format!(
            "file: {}:{}:{}",
            self.file.display(),
            self.err.line,
            self.err.col
        )));
        out.push('\n');
        let lines: Vec<&str> = self.source.lines().collect();
        let first = self.err.line.saturating_sub(2).max(1);
        let last = (self.err.line + 2).min(lines.len());
        for n in first..=last {
            let text = lines.get(n - 1).copied().unwrap_or("");
            let mark = if n == self.err.line {
                red(">")
            } else {
                " ".into()
            };
            out.push_str(&format!("{mark} {n} | {}\n", highlight_yaml_line(text)));
            if n == self.err.line {
                out.push_str(&format!(
                    "    | {}{}\n",
                    " ".repeat(self.err.col.saturating_sub(1)),
                    red("^")
                ));
            }
        }
        out
    }
}

/// Token kinds of chroma's YAML lexer (lexers/embedded/yaml.xml), as go-task's snippet
/// colours them.
#[derive(Clone, Copy, PartialEq)]
enum Tok {
    Tag,
    Punct,
    Text,
    Space,
    Literal,
    Constant,
    Comment,
}

/// Colours a snippet line the way go-task's error report does (always, even with NO_COLOR):
/// chroma's YAML lexer, line by line (block scalars are not followed across lines).
fn highlight_yaml_line(line: &str) -> String {
    const PUNCT: &str = "\x1b[1m\x1b[30m";
    const RESET: &str = "\x1b[0m";
    let c: Vec<char> = line.chars().collect();
    let mut toks: Vec<(Tok, String)> = vec![];
    let mut push = |t: Tok, a: usize, b: usize| {
        if a < b {
            toks.push((t, c[a..b].iter().collect()));
        }
    };
    let word = |i: usize| c.get(i).is_some_and(|x| x.is_alphanumeric() || *x == '_');
    let mut p = 0;
    while p < c.len() {
        let rest: String = c[p..].iter().collect();
        // whitespace
        if c[p].is_whitespace() {
            let e = (p..c.len())
                .find(|&i| !c[i].is_whitespace())
                .unwrap_or(c.len());
            push(Tok::Space, p, e);
            p = e;
            continue;
        }
        // `[\n?]?\s*- `
        {
            let mut q = p;
            if c[q] == '?' {
                q += 1;
            }
            while q < c.len() && c[q].is_whitespace() {
                q += 1;
            }
            if rest.len() >= 2 && c.get(q) == Some(&'-') && c.get(q + 1) == Some(&' ') {
                push(Tok::Text, p, q + 2);
                p = q + 2;
                continue;
            }
        }
        if c[p] == '#' || rest.starts_with("//") {
            push(Tok::Comment, p, c.len());
            break;
        }
        if (rest.starts_with("!!") && c.len() > p + 2 && !c[p + 2].is_whitespace())
            || ((c[p] == '&' || c[p] == '*') && c.len() > p + 1 && !c[p + 1].is_whitespace())
        {
            let e = (p..c.len())
                .find(|&i| c[i].is_whitespace())
                .unwrap_or(c.len());
            push(Tok::Comment, p, e);
            p = e;
            continue;
        }
        // key: `"…": ` (the last `": `), then a lazy run of chars other than `"{#` (and
        // not `//`) up to the first `: ` or a `:` ending the line.
        if c[p] == '"' && c.len() > p + 1 && c[p + 1] != '"' && c[p + 1] != '#' {
            if let Some(k) = rest.rfind("\": ").filter(|k| *k > 0) {
                let e = p + rest[..k].chars().count() + 3;
                push(Tok::Tag, p, e);
                p = e;
                continue;
            }
        }
        {
            let mut q = p;
            let mut found = None;
            while q < c.len() {
                if c[q] == ':' && (q + 1 == c.len() || c[q + 1] == ' ') {
                    found = Some(q);
                    break;
                }
                if matches!(c[q], '"' | '{' | '#') || (c[q] == '/' && c.get(q + 1) == Some(&'/')) {
                    break;
                }
                q += 1;
            }
            if let Some(q) = found {
                push(Tok::Tag, p, q);
                push(Tok::Punct, q, q + 1);
                push(Tok::Space, q + 1, (q + 2).min(c.len()));
                p = (q + 2).min(c.len());
                continue;
            }
        }
        // values
        const CONSTANTS: [&str; 23] = [
            "false", "False", "FALSE", "true", "True", "TRUE", "null", "Off", "off", "yes", "Yes",
            "YES", "OFF", "On", "ON", "no", "No", "on", "NO", "n", "N", "Y", "y",
        ];
        if let Some(k) = CONSTANTS
            .iter()
            .find(|k| rest.starts_with(**k) && !word(p + k.len()))
        {
            push(Tok::Constant, p, p + k.len());
            p += k.len();
            continue;
        }
        if c[p] == '"' || c[p] == '\'' {
            let q0 = c[p];
            let mut q = p + 1;
            while q < c.len() && c[q] != q0 {
                q += if c[q] == '\\' { 2 } else { 1 };
            }
            if q < c.len() {
                push(Tok::Literal, p, q + 1);
                p = q + 1;
                continue;
            }
        }
        // `\b` before the number: a digit after a non-word character
        if c[p].is_ascii_digit() && !word(p.wrapping_sub(1)) {
            let mut q = p;
            while q < c.len() && c[q].is_ascii_digit() {
                q += 1;
            }
            if c.get(q) == Some(&'.') {
                q += 1;
                while q < c.len() && c[q].is_ascii_digit() {
                    q += 1;
                }
            }
            if q > p && !word(q) && !(c[q - 1] == '.' && word(q - 1)) {
                push(Tok::Literal, p, q);
                p = q;
                continue;
            }
        }
        if !matches!(
            c[p],
            '{' | '}' | '[' | ']' | '?' | ',' | ':' | '!' | '-' | '*' | '&' | '@'
        ) {
            // a trailing ` #…` (or ` //…`) comment, the last one, is split off
            let cut = (p + 1..c.len()).rev().find(|&i| {
                c[i - 1] == ' ' && (c[i] == '#' || (c[i] == '/' && c.get(i + 1) == Some(&'/')))
            });
            match cut {
                Some(i) => {
                    push(Tok::Literal, p, i - 1);
                    push(Tok::Space, i - 1, i);
                    push(Tok::Comment, i, c.len());
                }
                None => push(Tok::Literal, p, c.len()),
            }
            break;
        }
        let t = if matches!(c[p], '?' | ':' | ',' | '[' | ']') {
            Tok::Punct
        } else {
            Tok::Text
        };
        push(t, p, p + 1);
        p += 1;
    }
    // the line break is a whitespace token of its own (or ends the line's last one)
    toks.push((Tok::Space, String::new()));
    let mut out = String::new();
    let mut i = 0;
    while i < toks.len() {
        let t = toks[i].0;
        let mut text = String::new();
        while i < toks.len() && toks[i].0 == t {
            text.push_str(&toks[i].1);
            i += 1;
        }
        let colour = match t {
            Tok::Tag => "\x1b[33m",
            Tok::Punct | Tok::Text | Tok::Space => PUNCT,
            Tok::Literal => "\x1b[36m",
            Tok::Constant => "\x1b[32m",
            Tok::Comment => "\x1b[3m\x1b[33m",
        };
        out.push_str(&format!("{colour}{text}{RESET}"));
    }
    out
}

/// Where an included task came from; shared by every task of one include.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// `a:b` namespace ("" for the root file).
    pub namespace: String,
    pub taskfile: PathBuf,
    /// The include's `dir:` (already joined with the parent's dir), if any.
    pub dir: Option<String>,
    /// Vars given by the `includes:` entries that are mappings, merged innermost first (an
    /// outer include's value replaces an inner one's, in place): go-task's `IncludeVars`.
    pub include_vars: Vars,
    /// go-task's `IncludedTaskfileVars`: the including file's merged vars (its own, then its
    /// includes' so far) as they stood when the outermost mapping include merged this file;
    /// evaluated in the task's dir after `include_vars`. With the dirs of `sh:` vars.
    pub taskfile_vars: Option<Arc<(Vars, HashMap<String, String>)>>,
    /// The included file's own `use_gitignore:` (its tasks follow it, not the root's).
    pub use_gitignore: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct TaskEntry {
    pub name: String,
    pub task: Task,
    pub origin: Arc<Origin>,
    /// Aliases including the namespaced forms (`ns:alias`, `nsalias:task`, …).
    pub aliases: Vec<String>,
}

/// The root Taskfile with every include merged into one task table.
#[derive(Debug)]
pub struct Project {
    /// The root Taskfile; after loading, its `vars`/`env` are the one global scope: the
    /// root's own, then every included file's merged in (go-task's `Taskfile.Merge`).
    pub root: Taskfile,
    /// Directory in which a global `sh:` var runs, for vars merged from a mapping include
    /// (go-task sets the var's `Dir` to the include's dir); others run in the root dir.
    pub var_dirs: HashMap<String, String>,
    pub root_dir: PathBuf,
    pub entrypoint: PathBuf,
    pub tasks: IndexMap<String, TaskEntry>,
    /// Namespaces and their aliases, for `ns` → `ns:default`.
    pub namespaces: Vec<(String, Vec<String>)>,
}

impl Project {
    pub fn get(&self, name: &str) -> Option<&TaskEntry> {
        self.tasks.get(name)
    }
}

/// Finds the Taskfile: an explicit `-t` file or dir, else the eight names walking up from `dir`.
pub fn find(dir: &Path, explicit: Option<&Path>) -> Result<PathBuf, LoadError> {
    if let Some(p) = explicit {
        let p = if p.is_absolute() {
            p.to_path_buf()
        } else {
            dir.join(p)
        };
        if p.is_dir() {
            return first_in(&p).ok_or_else(|| LoadError::NotFound(p.display().to_string()));
        }
        if p.is_file() {
            return Ok(p);
        }
        return Err(LoadError::NotFound(p.display().to_string()));
    }
    // go-task stats the directory first: a missing `--dir` is not searched above.
    if !dir.is_dir() {
        return Err(LoadError::NotFoundWalk(String::new()));
    }
    let mut cur = Some(dir);
    while let Some(d) = cur {
        if let Some(f) = first_in(d) {
            return Ok(f);
        }
        cur = d.parent();
    }
    Err(LoadError::NotFoundWalk(String::new()))
}

fn first_in(dir: &Path) -> Option<PathBuf> {
    TASKFILE_NAMES
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
}

/// Reads and decodes one file, checking the schema version.
pub fn read(path: &Path, shown: &str) -> Result<Taskfile, LoadError> {
    let src = std::fs::read_to_string(path)
        .map_err(|e| LoadError::Other(format!("{}: {e}", path.display())))?;
    parse(&src, path, shown)
}

/// Decodes a Taskfile's text; `path` is its location (a URL for remote files).
pub fn parse(src: &str, path: &Path, shown: &str) -> Result<Taskfile, LoadError> {
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    let node = yaml::parse(src).map_err(|err| {
        if err.msg == yaml::EXCESSIVE_ALIASING {
            // go-yaml finds it while decoding, so go-task reports it as a decode error (102)
            return LoadError::Decode(DecodeReport {
                file: path.to_path_buf(),
                err: decode::DecodeError {
                    msg: format!("yaml: {}", err.msg),
                    line: err.line,
                    col: err.col,
                    errs: vec![],
                },
                source: src.to_string(),
            });
        }
        LoadError::Yaml {
            file: shown.to_string(),
            err,
        }
    })?;
    // go-task checks the schema version before any other key: a v1/v2-era file with no
    // `version:` is "Missing schema version", not an unknown key.
    if let yaml::NodeKind::Map(entries) = &node.kind {
        let has_version = entries.iter().any(
            |(k, _)| matches!(&k.kind, yaml::NodeKind::Scalar { text, .. } if text == "version"),
        );
        if !has_version {
            return Err(LoadError::MissingVersion(path.display().to_string()));
        }
    }
    let mut tf = decode::taskfile(&node).map_err(|err| {
        if err.msg == decode::GO_TIMESTAMP_PANIC {
            return LoadError::Panic(err.msg);
        }
        LoadError::Decode(DecodeReport {
            file: path.to_path_buf(),
            err,
            source: src.to_string(),
        })
    })?;
    let abs = path.display().to_string();
    if tf.version.is_empty() {
        return Err(LoadError::MissingVersion(abs));
    }
    let major = tf.version.split('.').next().unwrap_or("").trim();
    match major.parse::<u64>() {
        Ok(m) if m >= 3 => {}
        _ => {
            let v = if tf.version.contains('.') {
                tf.version.clone()
            } else {
                format!("{}.0.0", tf.version)
            };
            return Err(LoadError::OldVersion {
                file: abs,
                version: v,
            });
        }
    }
    tf.path = path.to_path_buf();
    Ok(tf)
}

/// Loads the entrypoint and all of its includes.
pub fn load(
    entrypoint: &Path,
    resolve_include: &dyn Fn(&str, &Taskfile) -> String,
) -> Result<Project, LoadError> {
    load_with(entrypoint, resolve_include, None, None)
}

/// `load`, reading http(s) entrypoints and includes through `remote`. A remote entrypoint
/// (`-t URL`) is given as a path holding the URL; its tasks run in `remote_dir`.
pub fn load_with(
    entrypoint: &Path,
    resolve_include: &dyn Fn(&str, &Taskfile) -> String,
    remote: Option<&remote::Remote>,
    remote_dir: Option<&Path>,
) -> Result<Project, LoadError> {
    let shown = rel_to_cwd(entrypoint);
    let ep = entrypoint.to_string_lossy();
    let (root, root_dir) = match remote {
        Some(r) if remote::is_remote(&ep) => {
            let f = r.fetch(&ep, None)?;
            let tf = parse(
                &String::from_utf8_lossy(&f.content),
                Path::new(&f.location),
                &f.location,
            )?;
            (
                tf,
                remote_dir
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| PathBuf::from(".")),
            )
        }
        _ => (
            read(entrypoint, &shown)?,
            entrypoint.parent().unwrap_or(Path::new("/")).to_path_buf(),
        ),
    };
    let mut project = Project {
        root_dir: root_dir.clone(),
        entrypoint: entrypoint.to_path_buf(),
        tasks: IndexMap::new(),
        namespaces: vec![],
        root,
        var_dirs: HashMap::new(),
    };
    let origin = Arc::new(Origin {
        taskfile: entrypoint.to_path_buf(),
        ..Default::default()
    });
    // The root's tasks and includes move into the merged table; its globals stay behind.
    let root = Taskfile {
        tasks: std::mem::take(&mut project.root.tasks),
        includes: std::mem::take(&mut project.root.includes),
        vars: project.root.vars.clone(),
        env: project.root.env.clone(),
        ..Default::default()
    };
    merge(
        &mut project,
        root,
        origin,
        false,
        &[],
        &mut vec![entrypoint.to_path_buf()],
        resolve_include,
        remote,
    )?;
    Ok(project)
}

#[allow(clippy::too_many_arguments)]
fn merge(
    project: &mut Project,
    mut tf: Taskfile,
    origin: Arc<Origin>,
    internal: bool,
    ns_aliases: &[String],
    stack: &mut Vec<PathBuf>,
    resolve: &dyn Fn(&str, &Taskfile) -> String,
    remote: Option<&remote::Remote>,
) -> Result<(), LoadError> {
    let prefix = |name: &str| {
        if origin.namespace.is_empty() {
            name.to_string()
        } else {
            format!("{}:{name}", origin.namespace)
        }
    };
    // The tasks move into the table (a copy of each cost as much as reading it); their
    // names stay, the includes below look them up.
    project.tasks.reserve(tf.tasks.len());
    for (name, task) in tf.tasks.iter_mut() {
        let mut task = std::mem::take(task);
        let full = prefix(name);
        if internal {
            task.internal = true;
        }
        if !origin.namespace.is_empty() {
            // Calls inside an included file are relative to its namespace; `:x` is the root's.
            // As in go-task, the `:` is removed here only: in the root Taskfile (and in files
            // flattened into it) `:x` stays literal and names no task.
            let ns = |n: &mut String| {
                *n = match n.strip_prefix(':') {
                    Some(abs) => abs.to_string(),
                    None => format!("{}:{n}", origin.namespace),
                }
            };
            for c in &mut task.cmds {
                if let Some(t) = &mut c.task {
                    ns(t);
                }
            }
            for d in &mut task.deps {
                ns(&mut d.task);
            }
        }
        let mut aliases: Vec<String> = task.aliases.iter().map(|a| prefix(a)).collect();
        for nsa in ns_aliases {
            let ns_parent = origin
                .namespace
                .rsplit_once(':')
                .map(|(p, _)| format!("{p}:"))
                .unwrap_or_default();
            aliases.push(format!("{ns_parent}{nsa}:{name}"));
            for a in &task.aliases {
                aliases.push(format!("{ns_parent}{nsa}:{a}"));
            }
        }
        if project.tasks.contains_key(&full) {
            return Err(LoadError::FlattenClash(
                full,
                origin.taskfile.display().to_string(),
            ));
        }
        project.tasks.insert(
            full.clone(),
            TaskEntry {
                name: full,
                task,
                origin: origin.clone(),
                aliases,
            },
        );
    }
    let parent_url = origin.taskfile.to_str().filter(|t| remote::is_remote(t));
    // A remote file's `dir:` entries are relative to the root's dir (it has no local dir).
    let base_dir = match parent_url {
        Some(_) => origin
            .dir
            .as_ref()
            .map(PathBuf::from)
            .unwrap_or_else(|| project.root_dir.clone()),
        None => origin
            .taskfile
            .parent()
            .unwrap_or(Path::new("/"))
            .to_path_buf(),
    };
    for (ns, inc) in &tf.includes {
        let path_str = resolve(&inc.taskfile, &tf);
        let inc_dir_str = inc.dir.as_ref().map(|d| resolve(d, &tf));
        // http(s) includes, and every include of a remote file (resolved against its URL).
        let url = match (parent_url, remote) {
            (Some(base), _) => Some(remote::join(base, &path_str)?),
            (None, Some(_)) if remote::is_remote(&path_str) => Some(path_str.clone()),
            _ => None,
        };
        let (file, child) = if let (Some(url), Some(r)) = (&url, remote) {
            if let Err(e) = r.check(url) {
                if inc.optional && e.skippable_when_optional() {
                    continue;
                }
                return Err(e.into());
            }
            let location = PathBuf::from(remote::redact(url));
            if stack.contains(&location) {
                let from = stack.last().cloned().unwrap_or_default();
                return Err(LoadError::IncludeCycle(
                    from.display().to_string(),
                    location.display().to_string(),
                ));
            }
            let f = r.fetch(url, inc.checksum.as_deref())?;
            let child = parse(&String::from_utf8_lossy(&f.content), &location, &f.location)?;
            (location, child)
        } else {
            let mut path = PathBuf::from(expand_home(&path_str));
            if path_str.is_empty() {
                path = PathBuf::from(inc_dir_str.clone().unwrap_or_default());
            }
            if !path.is_absolute() {
                path = base_dir.join(path);
            }
            let file = if path.is_dir() {
                first_in(&path)
            } else if path.is_file() {
                Some(path.clone())
            } else {
                None
            };
            let Some(file) = file else {
                if inc.optional {
                    continue;
                }
                return Err(LoadError::NotFound(clean(&path).display().to_string()));
            };
            let file = clean(&file);
            if let Some(pos) = stack.iter().position(|p| p == &file) {
                let next = stack.get(pos + 1).unwrap_or(&file);
                return Err(LoadError::IncludeCycle(
                    file.display().to_string(),
                    next.display().to_string(),
                ));
            }
            if let Some(want) = &inc.checksum {
                // A pinned include must be exactly the file that was reviewed.
                use sha2::Digest;
                let bytes = std::fs::read(&file)
                    .map_err(|e| LoadError::Other(format!("{}: {e}", file.display())))?;
                let got = hex::encode(sha2::Sha256::digest(&bytes));
                if &got != want {
                    return Err(LoadError::ChecksumMismatch {
                        file: file.display().to_string(),
                        got,
                        want: want.clone(),
                    });
                }
            }
            let child = read(&file, &rel_to_cwd(&file))?;
            (file, child)
        };
        if !child.dotenv.is_empty() {
            return Err(LoadError::IncludedDotenv);
        }
        let namespace = if inc.flatten {
            origin.namespace.clone()
        } else if origin.namespace.is_empty() {
            ns.clone()
        } else {
            format!("{}:{ns}", origin.namespace)
        };
        let dir = match &inc_dir_str {
            Some(d) => {
                let p = Path::new(d);
                Some(if p.is_absolute() {
                    d.clone()
                } else {
                    clean(&base_dir.join(p)).display().to_string()
                })
            }
            // A mapping include without `dir:` runs its tasks in the including file's dir
            // (go-task's reader: node.ResolveDir("")); a scalar one keeps the includer's.
            None if inc.advanced && base_dir != project.root_dir => {
                Some(base_dir.display().to_string())
            }
            None => origin.dir.clone(),
        };
        let child_origin = Arc::new(Origin {
            namespace: namespace.clone(),
            taskfile: file.clone(),
            dir: dir.clone(),
            include_vars: Vars::new(),
            taskfile_vars: None,
            use_gitignore: Some(child.use_gitignore),
        });
        let mut filtered = child.clone();
        // `silent: true` at the top of an included file silences its tasks.
        if child.silent {
            for t in filtered.tasks.values_mut() {
                t.silent = true;
            }
        }
        for ex in &inc.excludes {
            filtered.tasks.shift_remove(ex);
        }
        if !inc.flatten {
            project
                .namespaces
                .push((namespace.clone(), inc.aliases.clone()));
        }
        stack.push(file.clone());
        let aliases: Vec<String> = if inc.flatten {
            vec![]
        } else {
            inc.aliases.clone()
        };
        // The child's vars and env, with its own includes merged in by the recursion.
        let mut sub = Project {
            root: Taskfile {
                vars: child.vars.clone(),
                env: child.env.clone(),
                ..Default::default()
            },
            root_dir: project.root_dir.clone(),
            entrypoint: project.entrypoint.clone(),
            tasks: IndexMap::new(),
            namespaces: vec![],
            var_dirs: HashMap::new(),
        };
        let has_default = filtered.tasks.contains_key("default");
        let own: std::collections::HashSet<String> = filtered
            .tasks
            .keys()
            .map(|k| format!("{namespace}:{k}"))
            .collect();
        merge(
            &mut sub,
            filtered,
            child_origin,
            internal || inc.internal,
            &aliases,
            stack,
            resolve,
            remote,
        )?;
        stack.pop();
        // go-task merges an included file's vars and env into the including file's, so
        // they end up in one global scope: a name already there keeps its place and takes
        // the new value. Through a mapping include a var runs its `sh:` in the include's dir.
        let inc_dir = dir
            .clone()
            .unwrap_or_else(|| base_dir.display().to_string());
        for (k, v) in sub.root.vars {
            let vdir = if inc.advanced {
                Some(inc_dir.clone())
            } else {
                sub.var_dirs.get(&k).cloned()
            };
            match vdir {
                Some(d) => project.var_dirs.insert(k.clone(), d),
                None => project.var_dirs.remove(&k),
            };
            project.root.vars.insert(k, v);
        }
        for (k, v) in sub.root.env {
            project.root.env.insert(k, v);
        }
        let scope = inc
            .advanced
            .then(|| Arc::new((project.root.vars.clone(), project.var_dirs.clone())));
        let mut rescoped: HashMap<*const Origin, Arc<Origin>> = HashMap::new();
        // An included `default` answers to the namespace itself (and its aliases), listed as
        // aliases of `ns:default`, unless the including file has a task of that name.
        let default_full = format!("{namespace}:default");
        let ns_prefix = namespace
            .strip_suffix(ns.as_str())
            .unwrap_or("")
            .to_string();
        let default_aliases = !inc.flatten && has_default && !tf.tasks.contains_key(ns.as_str());
        for (name, mut entry) in sub.tasks {
            if default_aliases && name == default_full {
                for a in std::iter::once(ns).chain(inc.aliases.iter()) {
                    entry.aliases.push(format!("{ns_prefix}{a}"));
                }
            }
            if let Some(scope) = &scope {
                let key = Arc::as_ptr(&entry.origin);
                let o = rescoped.entry(key).or_insert_with(|| {
                    let mut o = (*entry.origin).clone();
                    for (k, v) in &inc.vars {
                        o.include_vars.insert(k.clone(), v.clone());
                    }
                    o.taskfile_vars = Some(scope.clone());
                    Arc::new(o)
                });
                entry.origin = o.clone();
            }
            // Excludes name tasks relative to the include (`task`, `ns:task`, `ns:*`).
            let rel = if inc.flatten {
                name.as_str()
            } else {
                name.strip_prefix(&format!("{namespace}:")).unwrap_or(&name)
            };
            if inc.excludes.iter().any(|e| {
                e == rel
                    || e.strip_suffix(":*")
                        .is_some_and(|p| rel.starts_with(&format!("{p}:")))
            }) {
                continue;
            }
            if project.tasks.contains_key(&name) {
                // tasks.go: the name as merged into the including file (`deep:w0` for a task
                // a flattened file itself includes).
                return Err(LoadError::FlattenClash(name.clone(), ns.clone()));
            }
            // Tasks of deeper includes also answer to this include's aliases, for their
            // name and for each alias they already have (`o:inner:leaf`, `o:i:lf`, …).
            if !inc.flatten && !own.contains(&name) {
                let ns_parent = namespace
                    .rsplit_once(':')
                    .map(|(p, _)| format!("{p}:"))
                    .unwrap_or_default();
                let ns_prefix = format!("{namespace}:");
                let before = entry.aliases.clone();
                for a in &inc.aliases {
                    for n in std::iter::once(&name).chain(before.iter()) {
                        if let Some(r) = n.strip_prefix(&ns_prefix) {
                            entry.aliases.push(format!("{ns_parent}{a}:{r}"));
                        }
                    }
                }
            }
            project.tasks.insert(name, entry);
        }
        project.namespaces.extend(sub.namespaces);
    }
    Ok(())
}

fn expand_home(p: &str) -> String {
    if let Some(rest) = p.strip_prefix('~') {
        if let Some(home) = std::env::var_os("HOME") {
            return format!("{}{rest}", home.to_string_lossy());
        }
    }
    p.to_string()
}

/// Lexical cleanup of `.` and `..` (like Go's filepath.Clean).
pub fn clean(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

pub use ast::Output;
pub type IncludeMap = IndexMap<String, Include>;

/// A path as go-task names a Taskfile in parse errors (`TryAbsToRel`): relative to the
/// working directory, with `..` where needed (Go's filepath.Rel), else as given.
pub fn rel_to_cwd(p: &Path) -> String {
    let Ok(wd) = std::env::current_dir() else {
        return p.display().to_string();
    };
    if !p.is_absolute() {
        return p.display().to_string();
    }
    let (a, b) = (clean(&wd), clean(p));
    let ac: Vec<_> = a.components().collect();
    let bc: Vec<_> = b.components().collect();
    let common = ac.iter().zip(&bc).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..ac.len() {
        out.push("..");
    }
    for c in &bc[common..] {
        out.push(c.as_os_str());
    }
    if out.as_os_str().is_empty() {
        ".".to_string()
    } else {
        out.display().to_string()
    }
}
