//! Native helm: `package`, `push`, `pull`, `show chart|values|readme`, `verify`,
//! `registry login|logout`. Anything else (or an unknown flag) falls through to a real
//! `helm` further down PATH (see [`crate::native::fall_through`]).

use std::ffi::OsString;

pub mod args;
pub mod chart;
pub mod deps;
pub mod ignore;
pub mod loader;
pub mod package;
pub mod progress;
pub mod prov;
pub mod registry;
pub mod save;
pub mod semver;
pub mod yaml;

use args::{flag, ArgError, FlagSpec, Parsed};

/// The Helm version whose behaviour is reproduced (used in `User-Agent`).
pub const HELM_COMPAT_VERSION: &str = "3.21.4";

/// How a subcommand ended when it did not succeed.
#[derive(Debug)]
pub enum CmdError {
    /// Printed as `Error: <msg>`, exit 1.
    Fail(String),
    /// Not implemented natively: hand the whole command line to a real helm.
    FallThrough(String),
}

impl From<String> for CmdError {
    fn from(s: String) -> Self {
        CmdError::Fail(s)
    }
}

impl From<&str> for CmdError {
    fn from(s: &str) -> Self {
        CmdError::Fail(s.to_string())
    }
}

pub type CmdResult = Result<(), CmdError>;

/// Flags every helm command accepts (cobra persistent flags); only some have an effect.
pub const GLOBAL_FLAGS: &[FlagSpec] = &[
    flag("debug", None, false),
    flag("registry-config", None, true),
    flag("repository-config", None, true),
    flag("repository-cache", None, true),
    flag("namespace", Some('n'), true),
    flag("kube-context", None, true),
    flag("kubeconfig", None, true),
    flag("burst-limit", None, true),
    flag("qps", None, true),
];

/// Parses `args` with the command's flags plus the global ones.
pub fn parse_flags(cmd: &str, args: &[String], specs: &[FlagSpec]) -> Result<Parsed, CmdError> {
    let mut all: Vec<FlagSpec> = specs.to_vec();
    all.extend_from_slice(GLOBAL_FLAGS);
    match args::parse(args, &all) {
        Ok(p) => Ok(p),
        Err(ArgError::Unknown(f)) => Err(CmdError::FallThrough(format!("{cmd} {f}"))),
        Err(ArgError::Usage(m)) => Err(CmdError::Fail(m)),
    }
}

/// Entry point for argv[0] = `helm`; returns the exit code.
pub fn main(args: Vec<OsString>) -> i32 {
    let sargs: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    // The subcommand is the first word that is not a (global) flag or its value.
    let mut idx = None;
    let mut i = 0;
    while i < sargs.len() {
        let a = &sargs[i];
        if !a.starts_with('-') {
            idx = Some(i);
            break;
        }
        let name = a.trim_start_matches('-');
        let takes = GLOBAL_FLAGS.iter().any(|f| {
            f.takes_value && (f.long == name || (a.len() == 2 && f.short == name.chars().next()))
        });
        i += if takes { 2 } else { 1 };
    }
    let Some(idx) = idx else {
        return crate::native::fall_through("helm", &args, "");
    };
    let sub = sargs[idx].as_str();
    let mut rest: Vec<String> = sargs[..idx].to_vec();
    rest.extend_from_slice(&sargs[idx + 1..]);
    let res = match sub {
        "package" => package::run(&rest),
        "push" => registry::push(&rest),
        "pull" | "fetch" => registry::pull(&rest),
        "show" | "inspect" => registry::show(&rest),
        "verify" => prov::verify_cmd(&rest),
        "registry" => registry::registry_cmd(&rest),
        _ => Err(CmdError::FallThrough(sub.to_string())),
    };
    match res {
        Ok(()) => 0,
        Err(CmdError::Fail(msg)) => {
            eprintln!("Error: {}", crate::native::redact_secrets(&msg, &sargs));
            1
        }
        Err(CmdError::FallThrough(what)) => crate::native::fall_through("helm", &args, &what),
    }
}

/// Warnings go to stderr like Helm's `log.Printf`.
pub fn warn(msg: String) {
    eprintln!("{msg}");
}
