//! `task __complete WORDS…`: the completion protocol go-task 3.54's shell scripts speak.
//!
//! The words are the command line after `task`, the last one being the word under the
//! cursor. The answer is one candidate a line (`value` or `value<TAB>description`) and a
//! final `:N` line, N being a bitfield of directives (cobra's ShellCompDirective):
//! 2 no space after the candidate, 4 no file completion, 8 the candidates are file
//! extensions to filter on, 16 complete directories only, 32 keep the given order.
//! Leading `--no-aliases` / `--no-descriptions` words trim the answer. Completion never
//! fails: a missing or broken Taskfile only means no task names.

use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;

use crate::cli::{Cli, FLAGS};
use crate::run::Executor;
use crate::taskfile::ast::EnumSpec;
use crate::template::{self, Value};

pub const COMMAND: &str = "__complete";

const NO_SPACE: u32 = 1 << 1;
const NO_FILE_COMP: u32 = 1 << 2;
const FILTER_FILE_EXT: u32 = 1 << 3;
const FILTER_DIRS: u32 = 1 << 4;
const KEEP_ORDER: u32 = 1 << 5;

const SHELLS: [&str; 5] = ["bash", "zsh", "fish", "powershell", "nu"];

#[derive(Default, Clone, Copy)]
struct Options {
    no_aliases: bool,
    no_descriptions: bool,
}

/// One command-line flag as completion sees it.
struct Flag {
    long: &'static str,
    short: &'static str,
    help: &'static str,
    takes_value: bool,
}

fn gentle_force() -> bool {
    std::env::var("TASK_X_GENTLE_FORCE").is_ok_and(|v| v.trim() == "1")
}

/// go-task's flag set; the gentle-force experiment rewords `--force` and adds `--force-all`.
fn flags() -> Vec<Flag> {
    let gentle = gentle_force();
    let mut out: Vec<Flag> = FLAGS
        .iter()
        .map(|(short, long, ty, help, _)| Flag {
            long,
            short,
            help: if gentle && *long == "force" {
                "Forces execution of the directly called task."
            } else {
                help
            },
            takes_value: !ty.is_empty(),
        })
        .collect();
    if gentle {
        out.push(Flag {
            long: "force-all",
            short: "",
            help: "Forces execution of the called task and all its dependant tasks.",
            takes_value: false,
        });
    }
    out
}

/// `--name` or `-x` exactly (no inline value, no bundled shorthands).
fn match_flag<'a>(fs: &'a [Flag], word: &str) -> Option<&'a Flag> {
    if let Some(name) = word.strip_prefix("--") {
        return fs.iter().find(|f| f.long == name);
    }
    if word.len() == 2 && word.starts_with('-') {
        return fs
            .iter()
            .find(|f| !f.short.is_empty() && f.short == &word[1..]);
    }
    None
}

/// Entry point: prints the answer for `words` and returns the exit code (always 0).
pub fn main(words: &[String]) -> i32 {
    let (opts, words) = parse_options(words);
    let fs = flags();
    let (suggestions, directive) = complete(&fs, words, opts);
    let mut out = String::new();
    for (value, desc) in suggestions {
        let value = sanitize(&value);
        let desc = sanitize(&desc);
        out.push_str(&value);
        if !desc.is_empty() {
            out.push('\t');
            out.push_str(&desc);
        }
        out.push('\n');
    }
    out.push_str(&format!(":{directive}\n"));
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    0
}

fn parse_options(mut words: &[String]) -> (Options, &[String]) {
    let mut opts = Options::default();
    while let Some(w) = words.first() {
        match w.as_str() {
            "--no-aliases" => opts.no_aliases = true,
            "--no-descriptions" => opts.no_descriptions = true,
            _ => break,
        }
        words = &words[1..];
    }
    (opts, words)
}

fn sanitize(s: &str) -> String {
    s.replace(['\n', '\r', '\t'], " ")
}

type Suggestions = Vec<(String, String)>;

fn complete(fs: &[Flag], words: &[String], opts: Options) -> (Suggestions, u32) {
    let to_complete = words.last().map(String::as_str).unwrap_or("");
    let prev = if words.len() >= 2 {
        words[words.len() - 2].as_str()
    } else {
        ""
    };
    let before = &words[..words.len().saturating_sub(1)];
    if before.iter().any(|w| w == "--") {
        return (vec![], 0);
    }
    if let Some(f) = match_flag(fs, prev).filter(|f| f.takes_value) {
        return flag_value(f.long, "");
    }
    if to_complete.starts_with('-') {
        if let Some((flag_word, _)) = to_complete.split_once('=') {
            if let Some(f) = match_flag(fs, flag_word).filter(|f| f.takes_value) {
                return flag_value(f.long, &format!("{flag_word}="));
            }
        }
        return (list_flags(fs), NO_FILE_COMP);
    }

    let parsed = parse_flags(fs, words);
    if parsed.taskfile.as_deref() == Some("-") {
        return (vec![], NO_FILE_COMP);
    }
    let Some(exec) = load(&parsed) else {
        return (vec![], NO_FILE_COMP);
    };
    if words.len() > 1 {
        if let Some(found) = required_vars(&exec, fs, before) {
            return (found, NO_SPACE | NO_FILE_COMP | KEEP_ORDER);
        }
    }
    (task_names(&exec, &parsed, opts), NO_FILE_COMP)
}

fn flag_value(long: &str, prefix: &str) -> (Suggestions, u32) {
    let values: &[&str] = match long {
        "taskfile" => {
            let exts = ["yml", "yaml"].map(|e| (e.to_string(), String::new()));
            return (exts.to_vec(), FILTER_FILE_EXT);
        }
        "dir" | "remote-cache-dir" | "temp-dir" => return (vec![], FILTER_DIRS),
        "output" => &["interleaved", "group", "prefixed"],
        "sort" => &["default", "alphanumeric", "none"],
        "completion" => &SHELLS,
        _ => return (vec![], 0),
    };
    let out = values
        .iter()
        .map(|v| (format!("{prefix}{v}"), String::new()))
        .collect();
    (out, NO_FILE_COMP)
}

fn list_flags(fs: &[Flag]) -> Suggestions {
    let mut out: Suggestions = vec![];
    for f in fs {
        out.push((format!("--{}", f.long), f.help.to_string()));
        if !f.short.is_empty() {
            out.push((format!("-{}", f.short), f.help.to_string()));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The flags that decide which Taskfile is read and how names are ordered.
#[derive(Default)]
struct Parsed {
    dir: Option<String>,
    taskfile: Option<String>,
    global: bool,
    sort: Option<String>,
}

/// Reads the words as pflag would with unknown flags allowed: a parse error (a missing or
/// malformed value) ends the parse and keeps what was read before it.
fn parse_flags(fs: &[Flag], words: &[String]) -> Parsed {
    let mut p = Parsed::default();
    let mut i = 0;
    // Applies one flag's value; false when pflag would reject it.
    let set = |p: &mut Parsed, f: &Flag, value: &str| -> bool {
        let ty = FLAGS
            .iter()
            .find(|(_, l, ..)| *l == f.long)
            .map(|(_, _, t, ..)| *t)
            .unwrap_or("");
        let ok = match ty {
            "" => parse_go_bool(value).is_some(),
            "int" => value.parse::<i64>().is_ok(),
            "duration" => crate::taskfile::remote::parse_go_duration(value).is_ok(),
            _ => true,
        };
        if !ok {
            return false;
        }
        match f.long {
            "dir" => p.dir = Some(value.to_string()),
            "taskfile" => p.taskfile = Some(value.to_string()),
            "sort" => p.sort = Some(value.to_string()),
            "global" => p.global = parse_go_bool(value) == Some(true),
            _ => {}
        }
        true
    };
    while i < words.len() {
        let w = &words[i];
        i += 1;
        if w == "--" {
            break;
        }
        if let Some(rest) = w.strip_prefix("--") {
            let (name, inline) = match rest.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (rest, None),
            };
            let Some(f) = fs.iter().find(|f| f.long == name) else {
                // An unknown flag takes the next word along unless it looks like a flag.
                if inline.is_none() && i < words.len() && !words[i].starts_with('-') {
                    i += 1;
                }
                continue;
            };
            let value = match inline {
                Some(v) => v.to_string(),
                None if !f.takes_value => "true".to_string(),
                None if i < words.len() => {
                    i += 1;
                    words[i - 1].clone()
                }
                None => return p,
            };
            if !set(&mut p, f, &value) {
                return p;
            }
            continue;
        }
        if w.len() > 1 && w.starts_with('-') {
            let mut shorts = &w[1..];
            while !shorts.is_empty() {
                let c = shorts.chars().next().unwrap_or('-');
                let clen = c.len_utf8();
                let Some(f) = fs
                    .iter()
                    .find(|f| f.short.starts_with(c) && f.short.len() == clen)
                else {
                    if shorts.len() > clen && shorts[clen..].starts_with('=') {
                        break;
                    }
                    if shorts.len() == clen && i < words.len() && !words[i].starts_with('-') {
                        i += 1;
                    }
                    shorts = &shorts[clen..];
                    continue;
                };
                let rest = &shorts[clen..];
                let value = if let Some(v) = rest.strip_prefix('=') {
                    shorts = "";
                    v.to_string()
                } else if !f.takes_value {
                    shorts = rest;
                    "true".to_string()
                } else if !rest.is_empty() {
                    shorts = "";
                    rest.to_string()
                } else if i < words.len() {
                    shorts = "";
                    i += 1;
                    words[i - 1].clone()
                } else {
                    return p;
                };
                if !set(&mut p, f, &value) {
                    return p;
                }
            }
        }
    }
    p
}

fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// The project, quietly and offline; `None` when it cannot be read.
fn load(parsed: &Parsed) -> Option<Executor> {
    let cwd = std::env::current_dir().ok()?;
    let cli = Cli {
        dir: parsed.dir.as_ref().map(PathBuf::from),
        taskfile: parsed.taskfile.as_ref().map(PathBuf::from),
        global: parsed.global,
        sort: parsed.sort.clone(),
        offline: true,
        silent: true,
        color: false,
        ..Cli::default()
    };
    let dir = match &cli.dir {
        Some(d) if d.is_absolute() => d.clone(),
        Some(d) => cwd.join(d),
        None => cwd.clone(),
    };
    let (project, _) = crate::app::load_project(&cli, &dir).ok()?;
    crate::app::make_executor(&cli, &cwd, project).ok()
}

/// Task names and aliases in listing order; a wildcard task offers the text before its `*`.
fn task_names(exec: &Executor, parsed: &Parsed, opts: Options) -> Suggestions {
    let sort = parsed.sort.as_deref().unwrap_or("default");
    let tasks: Vec<_> = crate::run::list::sorted(exec, sort)
        .into_iter()
        .filter(|e| !e.task.internal)
        .collect();
    let templated = !opts.no_descriptions && tasks.iter().any(|e| e.task.desc.contains("{{"));
    let mut out = Suggestions::new();
    let mut seen = HashSet::new();
    let mut add = |name: &str, desc: &str| {
        let (value, partial) = match name.split_once('*') {
            Some((prefix, _)) => (prefix, true),
            None => (name.trim_end_matches(':'), false),
        };
        if value.is_empty() || !seen.insert(value.to_string()) {
            return;
        }
        let desc = if partial && desc.is_empty() && !opts.no_descriptions {
            name
        } else {
            desc
        };
        out.push((value.to_string(), desc.to_string()));
    };
    for e in tasks {
        let desc = if opts.no_descriptions {
            String::new()
        } else if templated && e.task.desc.contains("{{") {
            let vars = exec.compiler.fast_vars(e).unwrap_or_default();
            template::render(&e.task.desc, &vars).unwrap_or_else(|_| e.task.desc.clone())
        } else {
            e.task.desc.clone()
        };
        add(&e.name, &desc);
        if opts.no_aliases {
            continue;
        }
        for a in &e.aliases {
            add(a, &desc);
        }
    }
    out
}

/// The still-unset `requires` vars of the tasks named before the cursor, in declaration
/// order; `None` when there are none (task names are offered instead).
fn required_vars(exec: &Executor, fs: &[Flag], prior: &[String]) -> Option<Suggestions> {
    let mut names = vec![];
    let mut set = HashSet::new();
    let mut skip = false;
    for w in prior {
        if skip {
            skip = false;
            continue;
        }
        if w.starts_with('-') {
            if !w.contains('=') && match_flag(fs, w).is_some_and(|f| f.takes_value) {
                skip = true;
            }
            continue;
        }
        match w.split_once('=') {
            Some((k, _)) => {
                set.insert(k.to_string());
            }
            None => names.push(w.as_str()),
        }
    }
    let mut out = Suggestions::new();
    let mut seen = HashSet::new();
    for name in names {
        let Ok((entry, _, _)) = exec.resolve(name) else {
            continue;
        };
        if entry.task.requires.is_empty() {
            continue;
        }
        let vars = exec.compiler.fast_vars(&entry).ok();
        for r in &entry.task.requires {
            if r.name.is_empty() || set.contains(&r.name) || !seen.insert(r.name.clone()) {
                continue;
            }
            let values: Vec<String> = match &r.enum_ {
                Some(EnumSpec::List(l)) => l.clone(),
                Some(EnumSpec::Ref(expr)) => match vars
                    .as_ref()
                    .and_then(|v| crate::compile::resolve_ref(expr, v).ok())
                {
                    Some(Value::List(items)) => items.iter().map(template::go_format).collect(),
                    Some(Value::StrList(items)) => items,
                    _ => vec![],
                },
                None => vec![],
            };
            if values.is_empty() {
                out.push((format!("{}=", r.name), String::new()));
            }
            for v in values {
                out.push((format!("{}={v}", r.name), String::new()));
            }
        }
    }
    (!out.is_empty()).then_some(out)
}
