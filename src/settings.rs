//! One settings layer, as go-task builds its flags: a flag given on the command line
//! wins, then its `TASK_*` environment variable, then `.taskrc.yml`, then the default.
//! Taskrc files merge in go-task's order — `$XDG_CONFIG_HOME/task/taskrc.yml`, then
//! `~/.taskrc.yml`, then every `.taskrc.yml` from the filesystem root down to the
//! directory (`--dir`, or the Taskfile's directory), a nearer file overriding a farther
//! one. Like go-task, an unreadable or malformed taskrc is ignored.
//! Experiments (`experiments:` in a taskrc) become `TASK_X_*` unless the environment
//! already sets them.

use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
use clap::ArgMatches;
use indexmap::IndexMap;

use crate::cli::Cli;
use crate::taskfile::yaml::{self, Node, NodeKind};

/// The keys of a taskrc (go-task's `taskrc/ast.TaskRC`), each unset unless written.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct TaskRc {
    pub verbose: Option<bool>,
    pub silent: Option<bool>,
    pub color: Option<bool>,
    pub disable_fuzzy: Option<bool>,
    pub concurrency: Option<usize>,
    pub interactive: Option<bool>,
    pub failfast: Option<bool>,
    pub temp_dir: Option<String>,
    pub experiments: IndexMap<String, i64>,
    pub insecure: Option<bool>,
    pub offline: Option<bool>,
    pub timeout: Option<String>,
    pub cache_expiry: Option<String>,
    pub cache_dir: Option<String>,
    pub trusted_hosts: Vec<String>,
    pub cacert: Option<String>,
    pub cert: Option<String>,
    pub cert_key: Option<String>,
}

fn scalar(n: &Node) -> Option<&str> {
    match &n.kind {
        NodeKind::Scalar { text, .. } => Some(text),
        _ => None,
    }
}

fn boolean(n: &Node) -> Option<bool> {
    match scalar(n)? {
        "true" | "True" | "TRUE" | "yes" | "on" => Some(true),
        "false" | "False" | "FALSE" | "no" | "off" => Some(false),
        _ => None,
    }
}

fn entries(n: &Node) -> &[(Node, Node)] {
    match &n.kind {
        NodeKind::Map(e) => e,
        _ => &[],
    }
}

impl TaskRc {
    /// A taskrc's text; keys of the wrong type are left unset.
    pub fn parse(src: &str) -> Option<TaskRc> {
        let root = yaml::parse(src).ok()?;
        let mut rc = TaskRc::default();
        for (k, v) in entries(&root) {
            let s = || scalar(v).map(str::to_string);
            match scalar(k)? {
                "verbose" => rc.verbose = boolean(v),
                "silent" => rc.silent = boolean(v),
                "color" => rc.color = boolean(v),
                "disable-fuzzy" => rc.disable_fuzzy = boolean(v),
                "concurrency" => rc.concurrency = scalar(v).and_then(|c| c.parse().ok()),
                "interactive" => rc.interactive = boolean(v),
                "failfast" => rc.failfast = boolean(v),
                "temp-dir" => rc.temp_dir = s(),
                "experiments" => {
                    for (ek, ev) in entries(v) {
                        if let (Some(name), Some(n)) =
                            (scalar(ek), scalar(ev).and_then(|x| x.parse().ok()))
                        {
                            rc.experiments.insert(name.to_string(), n);
                        }
                    }
                }
                "remote" => {
                    for (rk, rv) in entries(v) {
                        let s = || scalar(rv).map(str::to_string);
                        match scalar(rk).unwrap_or("") {
                            "insecure" => rc.insecure = boolean(rv),
                            "offline" => rc.offline = boolean(rv),
                            "timeout" => rc.timeout = s(),
                            "cache-expiry" => rc.cache_expiry = s(),
                            "cache-dir" => rc.cache_dir = s(),
                            "cacert" => rc.cacert = s(),
                            "cert" => rc.cert = s(),
                            "cert-key" => rc.cert_key = s(),
                            "trusted-hosts" => {
                                if let NodeKind::Seq(items) = &rv.kind {
                                    rc.trusted_hosts =
                                        items.iter().filter_map(scalar).map(String::from).collect();
                                }
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        Some(rc)
    }

    /// go-task's `TaskRC.Merge`: what `other` sets wins.
    pub fn merge(&mut self, o: TaskRc) {
        fn or<T>(a: &mut Option<T>, b: Option<T>) {
            if b.is_some() {
                *a = b;
            }
        }
        or(&mut self.verbose, o.verbose);
        or(&mut self.silent, o.silent);
        or(&mut self.color, o.color);
        or(&mut self.disable_fuzzy, o.disable_fuzzy);
        or(&mut self.concurrency, o.concurrency);
        or(&mut self.interactive, o.interactive);
        or(&mut self.failfast, o.failfast);
        or(&mut self.temp_dir, o.temp_dir);
        or(&mut self.insecure, o.insecure);
        or(&mut self.offline, o.offline);
        or(&mut self.timeout, o.timeout);
        or(&mut self.cache_expiry, o.cache_expiry);
        or(&mut self.cache_dir, o.cache_dir);
        or(&mut self.cacert, o.cacert);
        or(&mut self.cert, o.cert);
        or(&mut self.cert_key, o.cert_key);
        for (k, v) in o.experiments {
            self.experiments.insert(k, v);
        }
        if !o.trusted_hosts.is_empty() {
            let mut all = o.trusted_hosts;
            all.extend(std::mem::take(&mut self.trusted_hosts));
            all.sort();
            all.dedup();
            self.trusted_hosts = all;
        }
    }
}

const LOCAL: [&str; 2] = [".taskrc.yml", ".taskrc.yaml"];

fn read_first(dir: &Path, names: &[&str]) -> Option<TaskRc> {
    // Bounded: a taskrc is a few lines; anything huge is not one.
    let p = names.iter().map(|n| dir.join(n)).find(|p| p.is_file())?;
    if std::fs::metadata(&p).ok()?.len() > 1 << 20 {
        return None;
    }
    TaskRc::parse(&std::fs::read_to_string(p).ok()?)
}

/// The merged taskrc for a run in `dir`.
pub fn taskrc(dir: &Path) -> TaskRc {
    let mut rc = TaskRc::default();
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|x| !x.is_empty()) {
        if let Some(c) = read_first(
            &PathBuf::from(x).join("task"),
            &["taskrc.yml", "taskrc.yaml"],
        ) {
            rc.merge(c);
        }
    }
    if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        // go-task reads the home file separately unless the home path contains `dir`.
        if !home.to_string_lossy().contains(&*dir.to_string_lossy()) {
            if let Some(c) = read_first(Path::new(&home), &LOCAL) {
                rc.merge(c);
            }
        }
    }
    let abs = if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(dir)
    };
    let mut chain: Vec<&Path> = abs.ancestors().collect();
    chain.reverse();
    for d in chain {
        if let Some(c) = read_first(d, &LOCAL) {
            rc.merge(c);
        }
    }
    rc
}

fn from_cli(m: &ArgMatches, id: &str) -> bool {
    matches!(m.value_source(id), Some(ValueSource::CommandLine))
}

fn env(key: &str) -> Option<String> {
    std::env::var(format!("TASK_{key}"))
        .ok()
        .filter(|v| !v.is_empty())
}

/// Go's strconv.ParseBool.
pub(crate) fn parse_go_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// Fills every setting the command line left alone from `TASK_*`, then the taskrc.
pub fn apply(cli: &mut Cli, m: &ArgMatches) {
    let dir = match (&cli.dir, &cli.taskfile) {
        (Some(d), _) => d.clone(),
        (None, Some(t)) => t.parent().map(Path::to_path_buf).unwrap_or_default(),
        (None, None) => PathBuf::from("."),
    };
    let dir = if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir
    };
    let rc = taskrc(&dir);
    // go-task reads its colour overrides once, at start-up.
    crate::color::install(crate::color::Palette::from_env(env));
    macro_rules! flag {
        ($field:ident, $id:literal, $key:literal, $rc:expr) => {
            if !from_cli(m, $id) {
                if let Some(v) = env($key).and_then(|v| parse_go_bool(&v)) {
                    cli.$field = v;
                } else if let Some(v) = $rc {
                    cli.$field = v;
                }
            }
        };
    }
    macro_rules! text {
        ($field:ident, $id:literal, $key:literal, $rc:expr) => {
            if !from_cli(m, $id) {
                if let Some(v) = env($key) {
                    cli.$field = Some(v.into());
                } else if let Some(v) = $rc.clone() {
                    cli.$field = Some(v.into());
                }
            }
        };
    }
    flag!(verbose, "verbose", "VERBOSE", rc.verbose);
    flag!(silent, "silent", "SILENT", rc.silent);
    flag!(
        disable_fuzzy,
        "disable_fuzzy",
        "DISABLE_FUZZY",
        rc.disable_fuzzy
    );
    flag!(yes, "yes", "ASSUME_YES", None);
    flag!(interactive, "interactive", "INTERACTIVE", rc.interactive);
    flag!(dry, "dry", "DRY", None);
    flag!(failfast, "failfast", "FAILFAST", rc.failfast);
    flag!(insecure, "insecure", "REMOTE_INSECURE", rc.insecure);
    flag!(offline, "offline", "REMOTE_OFFLINE", rc.offline);
    flag!(
        output_group_error_only,
        "output_group_error_only",
        "OUTPUT_GROUP_ERROR_ONLY",
        None
    );
    text!(temp_dir, "temp_dir", "TEMP_DIR", rc.temp_dir);
    text!(output, "output", "OUTPUT", None::<String>);
    text!(
        output_group_begin,
        "output_group_begin",
        "OUTPUT_GROUP_BEGIN",
        None::<String>
    );
    text!(
        output_group_end,
        "output_group_end",
        "OUTPUT_GROUP_END",
        None::<String>
    );
    text!(timeout, "timeout", "REMOTE_TIMEOUT", rc.timeout);
    text!(expiry, "expiry", "REMOTE_CACHE_EXPIRY", rc.cache_expiry);
    text!(
        remote_cache_dir,
        "remote_cache_dir",
        "REMOTE_CACHE_DIR",
        rc.cache_dir
    );
    text!(cacert, "cacert", "REMOTE_CACERT", rc.cacert);
    text!(cert, "cert", "REMOTE_CERT", rc.cert);
    text!(cert_key, "cert_key", "REMOTE_CERT_KEY", rc.cert_key);
    if !from_cli(m, "concurrency") {
        if let Some(n) = env("CONCURRENCY").and_then(|v| v.parse().ok()) {
            cli.concurrency = n;
        } else if let Some(n) = rc.concurrency {
            cli.concurrency = n;
        }
    }
    if !from_cli(m, "trusted_hosts") {
        if let Some(v) = env("REMOTE_TRUSTED_HOSTS") {
            cli.trusted_hosts = v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect();
        } else if !rc.trusted_hosts.is_empty() {
            cli.trusted_hosts = rc.trusted_hosts.clone();
        }
    }
    // Colour: flag > TASK_COLOR > taskrc > NO_COLOR > FORCE_COLOR/CI > terminal.
    if !from_cli(m, "color") {
        if let Some(v) = env("COLOR").and_then(|v| parse_go_bool(&v)) {
            cli.color = v;
            cli.color_explicit = true;
        } else if let Some(v) = rc.color {
            cli.color = v;
            cli.color_explicit = true;
        }
    } else {
        cli.color_explicit = true;
    }
    // oxtask's own settings: flag, then `OXTASK_*` (no taskrc keys: go-task's schema).
    let ox = |key: &str| {
        std::env::var(format!("OXTASK_{key}"))
            .ok()
            .filter(|v| !v.is_empty())
    };
    macro_rules! ox_text {
        ($field:ident, $id:literal, $key:literal) => {
            if !from_cli(m, $id) {
                if let Some(v) = ox($key) {
                    cli.$field = Some(v);
                }
            }
        };
    }
    ox_text!(cache, "cache", "CACHE");
    ox_text!(cache_mode, "cache_mode", "CACHE_MODE");
    ox_text!(cache_verify_key, "cache_verify_key", "CACHE_VERIFY_KEY");
    ox_text!(cache_sign_key, "cache_sign_key", "CACHE_SIGN_KEY");
    ox_text!(cache_timeout, "cache_timeout", "CACHE_TIMEOUT");
    ox_text!(cache_max_size, "cache_max_size", "CACHE_MAX_SIZE");
    if !from_cli(m, "cache_plain_http") {
        if let Some(v) = ox("CACHE_PLAIN_HTTP").and_then(|v| parse_go_bool(&v)) {
            cli.cache_plain_http = v;
        }
    }
    if !from_cli(m, "fingerprint_definition") {
        if let Some(v) = ox("FINGERPRINT_DEFINITION").and_then(|v| parse_go_bool(&v)) {
            cli.fingerprint_definition = v;
        }
    }
    for (name, n) in &rc.experiments {
        let key = format!("TASK_X_{name}");
        if std::env::var_os(&key).is_none() {
            // Set before any thread starts: every later reader sees one value.
            std::env::set_var(key, n.to_string());
        }
    }
}
