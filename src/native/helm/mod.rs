//! Native helm: `package`, `push`, `pull`, `show chart|values|readme`, `verify`,
//! `registry login|logout`. Anything else (or an unknown flag) falls through to a real
//! `helm` further down PATH (see [`crate::native::fall_through`]).

use std::ffi::OsString;

pub mod args;
pub mod chart;
pub mod chartrepo;
pub mod create;
pub mod depcmd;
pub mod deps;
pub mod env;
pub mod help;
pub mod ignore;
pub mod jsonpath;
pub mod lint;
pub mod loader;
pub mod package;
pub mod progress;
pub mod prov;
pub mod registry;
pub mod render;
pub mod repo;
pub mod repoindex;
pub mod save;
pub mod schema;
pub mod search;
pub mod semver;
pub mod tmplcmd;
pub mod values;
pub mod yaml;

use args::{ArgError, FlagSpec, Parsed};

/// The Helm version whose behaviour is reproduced (used in `User-Agent`).
pub const HELM_COMPAT_VERSION: &str = "3.21.4";

/// How a subcommand ended when it did not succeed.
#[derive(Debug)]
pub enum CmdError {
    /// Printed as `Error: <msg>`, exit 1.
    Fail(String),
    /// Not implemented natively: hand the whole command line to a real helm.
    FallThrough(String),
    /// A flag the native command does not know (command, flag): a real helm gets the
    /// command line, else cobra's `unknown flag` error.
    UnknownFlag(String, String),
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
pub fn global_flags() -> Vec<FlagSpec> {
    help::GLOBAL
        .iter()
        .map(|(short, long, ty, _, _)| FlagSpec {
            long,
            short: short.chars().next(),
            takes_value: !ty.is_empty(),
        })
        .collect()
}

/// Parses `args` with the command's flags plus the global ones.
pub fn parse_flags(cmd: &str, args: &[String], specs: &[FlagSpec]) -> Result<Parsed, CmdError> {
    let mut all: Vec<FlagSpec> = specs.to_vec();
    all.extend(global_flags());
    match args::parse(args, &all) {
        Ok(p) => Ok(p),
        Err(ArgError::Unknown(f)) => Err(CmdError::UnknownFlag(cmd.to_string(), f)),
        Err(ArgError::Usage(m)) => Err(CmdError::Fail(m)),
    }
}

/// Entry point for argv[0] = `helm`; returns the exit code.
pub fn main(args: Vec<OsString>) -> i32 {
    // A Go program writing to a closed stdout pipe dies of SIGPIPE (`helm env | head`);
    // Rust ignores the signal and println! would panic instead.
    #[cfg(unix)]
    // SAFETY: resetting a signal disposition to its default has no preconditions.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let sargs: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let globals = global_flags();
    // The subcommand is the first word that is not a (global) flag or its value.
    let mut idx = None;
    let mut i = 0;
    while i < sargs.len() {
        let a = &sargs[i];
        if !a.starts_with('-') {
            idx = Some(i);
            break;
        }
        if a == "--" {
            break;
        }
        let name = a.trim_start_matches('-');
        let takes = !a.contains('=')
            && globals.iter().any(|f| {
                f.takes_value
                    && (f.long == name || (a.len() == 2 && f.short == name.chars().next()))
            });
        i += if takes { 2 } else { 1 };
    }
    let wants_help = |words: &[String]| {
        words
            .iter()
            .take_while(|a| *a != "--")
            .any(|a| a == "-h" || a == "--help")
    };
    let Some(idx) = idx else {
        // `helm`, `helm --help`, `helm -h` (and only global flags): the native overview.
        if sargs.is_empty() || wants_help(&sargs) {
            print!("{}", help::help("").unwrap_or_default());
            return 0;
        }
        if let Some(bad) = sargs.iter().find(|a| {
            let name = a.trim_start_matches('-').split('=').next().unwrap_or("");
            a.starts_with('-')
                && !globals
                    .iter()
                    .any(|f| f.long == name || (a.len() == 2 && f.short == name.chars().next()))
        }) {
            return unknown_flag(&args, "", bad);
        }
        return crate::native::fall_through("helm", &args, "");
    };
    let sub = sargs[idx].as_str();
    let mut rest: Vec<String> = sargs[..idx].to_vec();
    rest.extend_from_slice(&sargs[idx + 1..]);
    if sub == "help" {
        // `helm help [command…]`: the words that name a native command.
        let words: Vec<&str> = rest
            .iter()
            .filter(|a| !a.starts_with('-'))
            .map(String::as_str)
            .collect();
        let path = canonical(&words.join(" "));
        if let Some(h) = help::help(&path) {
            print!("{h}");
            return 0;
        }
        return crate::native::fall_through("helm", &args, &path);
    }
    if wants_help(&rest) {
        let words: Vec<&str> = std::iter::once(sub)
            .chain(
                rest.iter()
                    .take_while(|a| !a.starts_with('-'))
                    .map(String::as_str)
                    .take(1),
            )
            .collect();
        // `helm show chart --help` names two words; `helm push x --help` only one.
        let two = canonical(&words.join(" "));
        let one = canonical(sub);
        if let Some(h) = help::help(&two).or_else(|| help::help(&one)) {
            print!("{h}");
            return 0;
        }
        return crate::native::fall_through("helm", &args, sub);
    }
    let res = match sub {
        "package" => package::run(&rest),
        "push" => registry::push(&rest),
        "pull" | "fetch" => registry::pull(&rest),
        "show" | "inspect" => registry::show(&rest),
        "verify" => prov::verify_cmd(&rest),
        "template" => tmplcmd::run(&rest),
        "lint" => lint::run(&rest),
        "registry" => registry::registry_cmd(&rest),
        "version" => help::version(&rest).map(|v| print!("{v}")),
        "create" => create::run(&rest),
        "env" => env::run(&rest),
        "dependency" | "dep" | "dependencies" => depcmd::run(&rest),
        "repo" => repo::run(&rest),
        "search" => search::run(&rest),
        _ => Err(CmdError::FallThrough(sub.to_string())),
    };
    match res {
        Ok(()) => 0,
        Err(CmdError::Fail(msg)) => {
            eprintln!("Error: {}", crate::native::redact_secrets(&msg, &sargs));
            1
        }
        Err(CmdError::FallThrough(what)) => crate::native::fall_through("helm", &args, &what),
        Err(CmdError::UnknownFlag(cmd, flag)) => unknown_flag(&args, &cmd, &flag),
    }
}

/// Aliases to the names the help table uses.
fn canonical(path: &str) -> String {
    let mut words: Vec<&str> = path.split_whitespace().collect();
    if let Some(w) = words.first_mut() {
        *w = match *w {
            "fetch" => "pull",
            "inspect" => "show",
            "dep" | "dependencies" => "dependency",
            o => o,
        };
    }
    if words.len() > 1 && words[0] == "dependency" {
        words[1] = match words[1] {
            "up" => "update",
            "ls" => "list",
            o => o,
        };
    }
    words.join(" ")
}

/// A flag no native command knows: a real helm further down PATH gets the command line;
/// without one, cobra's error (exit 1).
fn unknown_flag(args: &[OsString], cmd: &str, flag: &str) -> i32 {
    let path = std::env::var_os("PATH").unwrap_or_default();
    if crate::native::find_real("helm", &path).0.is_some() {
        return crate::native::fall_through("helm", args, cmd);
    }
    eprintln!("Error: {}", crate::native::unknown_flag_message(flag));
    1
}

/// Warnings go to stderr like Helm's `log.Printf`.
pub fn warn(msg: String) {
    eprintln!("{msg}");
}
