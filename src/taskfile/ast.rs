//! The typed Taskfile, as written (nothing templated yet). Positions are kept where an
//! error or `--json` needs them.

use indexmap::IndexMap;
use std::path::PathBuf;

use crate::template::Value;

#[derive(Debug, Clone, Default)]
pub struct Taskfile {
    pub version: String,
    pub output: Option<Output>,
    pub method: Option<String>,
    pub includes: IndexMap<String, Include>,
    pub set: Vec<String>,
    pub shopt: Vec<String>,
    pub vars: Vars,
    pub env: Vars,
    pub tasks: IndexMap<String, Task>,
    pub silent: bool,
    pub dotenv: Vec<String>,
    pub run: Option<String>,
    pub interval: Option<String>,
    pub use_gitignore: bool,
    /// Absolute path of the file this came from.
    pub path: PathBuf,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    Interleaved,
    Group {
        begin: String,
        end: String,
        error_only: bool,
    },
    Prefixed,
    /// A style go-task does not know: accepted while decoding, refused when the run is set
    /// up (`output style "x" not recognized`, exit 1).
    Unknown(String),
}

#[derive(Debug, Clone, Default)]
pub struct Include {
    pub taskfile: String,
    pub dir: Option<String>,
    pub optional: bool,
    pub internal: bool,
    pub flatten: bool,
    pub aliases: Vec<String>,
    pub excludes: Vec<String>,
    pub vars: Vars,
    pub checksum: Option<String>,
    /// Written as a mapping (go-task's "advanced import"): only then do its tasks get the
    /// include's `dir`, its `vars:` and the including file's vars as their own scope.
    pub advanced: bool,
    pub line: usize,
    pub col: usize,
}

pub type Vars = IndexMap<String, Var>;

#[derive(Debug, Clone, PartialEq)]
pub enum VarValue {
    Static(Value),
    Sh(String),
    Ref(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Var {
    pub value: VarValue,
    pub secret: bool,
}

impl Var {
    pub fn stat(v: Value) -> Var {
        Var {
            value: VarValue::Static(v),
            secret: false,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Task {
    pub cmds: Vec<Cmd>,
    pub deps: Vec<Dep>,
    pub label: Option<String>,
    pub desc: String,
    pub prompt: Vec<String>,
    pub summary: String,
    pub aliases: Vec<String>,
    pub sources: Vec<Glob>,
    pub generates: Vec<Glob>,
    pub status: Vec<String>,
    pub preconditions: Vec<Precondition>,
    pub dir: Option<String>,
    pub set: Vec<String>,
    pub shopt: Vec<String>,
    pub vars: Vars,
    pub env: Vars,
    pub dotenv: Vec<String>,
    pub silent: bool,
    pub interactive: bool,
    pub internal: bool,
    pub method: Option<String>,
    pub prefix: Option<String>,
    pub ignore_error: bool,
    pub use_gitignore: Option<bool>,
    pub run: Option<String>,
    pub platforms: Vec<String>,
    pub if_: Option<String>,
    pub requires: Vec<Require>,
    pub watch: bool,
    pub failfast: bool,
    pub line: usize,
    pub col: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Glob {
    pub pattern: String,
    pub exclude: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Precondition {
    pub sh: String,
    pub msg: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Require {
    pub name: String,
    pub enum_: Option<EnumSpec>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EnumSpec {
    List(Vec<String>),
    Ref(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum For {
    List(Vec<Value>),
    Sources,
    Generates,
    Var {
        var: String,
        split: Option<String>,
        as_: Option<String>,
    },
    Matrix(Vec<(String, MatrixRow)>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum MatrixRow {
    List(Vec<Value>),
    Ref(String),
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Cmd {
    /// Shell command; `None` when this is a task call.
    pub cmd: Option<String>,
    pub task: Option<String>,
    pub vars: Vars,
    pub silent: bool,
    pub ignore_error: bool,
    pub defer: bool,
    pub set: Vec<String>,
    pub shopt: Vec<String>,
    pub platforms: Vec<String>,
    pub if_: Option<String>,
    pub timeout: Option<String>,
    pub for_: Option<For>,
    pub as_: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dep {
    pub task: String,
    pub vars: Vars,
    pub silent: bool,
    pub for_: Option<For>,
    pub if_: Option<String>,
    pub timeout: Option<String>,
}
