//! Node tree → typed AST. Every ill-typed key is an error with its position; unknown keys
//! are ignored, as go-task's yaml.v3 decoding into structs ignores them.

use super::ast::*;
use super::yaml::{Node, NodeKind};
use crate::template::Value;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct DecodeError {
    pub msg: String,
    pub line: usize,
    pub col: usize,
    /// go-yaml's type errors when there are several (go-task prints them as an `errs:` list).
    pub errs: Vec<String>,
}

type R<T> = Result<T, DecodeError>;

fn err<T>(node: &Node, msg: impl Into<String>) -> R<T> {
    Err(DecodeError {
        msg: msg.into(),
        line: node.line,
        col: node.col,
        errs: vec![],
    })
}

fn type_err<T>(node: &Node, want: &str) -> R<T> {
    Err(terror(node, want))
}

/// go-yaml's own type error (decoder.terror): the tag, a scalar's value (cut to 7 bytes and
/// `...` past 10), and the Go type.
fn terror(node: &Node, want: &str) -> DecodeError {
    let shown = match &node.kind {
        NodeKind::Scalar { text, .. } => {
            let v = if text.len() > 10 {
                // Go cuts bytes: a character cut in two is printed as its first bytes, which
                // a reader decodes as one U+FFFD — written here as that character.
                let mut end = 7;
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                let cut = if end < 7 { "\u{FFFD}" } else { "" };
                format!("{}{cut}...", &text[..end])
            } else {
                text.clone()
            };
            format!("{} `{v}`", node.kind_name())
        }
        _ => node.kind_name().to_string(),
    };
    DecodeError {
        msg: format!("cannot unmarshal {shown} into {want}"),
        line: node.line,
        col: node.col,
        errs: vec![],
    }
}

/// A custom unmarshaler's own type error (`WithTypeMessage`): the tag only, at the node.
fn type_msg(node: &Node, what: &str) -> DecodeError {
    DecodeError {
        msg: format!("cannot unmarshal {} into {what}", node.kind_name()),
        line: node.line,
        col: node.col,
        errs: vec![],
    }
}

/// Type errors of plain fields, collected as go-yaml collects them while it decodes a struct
/// inside one of go-task's custom unmarshalers (decoding goes on; an error of a nested
/// custom unmarshaler ends it at once and is returned as is).
type Errs = Vec<DecodeError>;

/// A mapping go-yaml decodes into a struct: its duplicate keys first (each pair a type error,
/// yaml.v3's uniqueKeys check; then nothing of it is decoded), else its entries.
fn struct_map<'a>(errs: &mut Errs, e: &'a [(Node, Node)]) -> &'a [(Node, Node)] {
    let before = errs.len();
    for (i, (a, _)) in e.iter().enumerate() {
        for (b, _) in &e[i + 1..] {
            if let (NodeKind::Scalar { text: x, .. }, NodeKind::Scalar { text: y, .. }) =
                (&a.kind, &b.kind)
            {
                if x == y {
                    errs.push(DecodeError {
                        msg: format!(
                            "mapping key {} already defined at line {}",
                            crate::template::go_quote(x),
                            a.line
                        ),
                        line: b.line,
                        col: b.col,
                        errs: vec![],
                    });
                }
            }
        }
    }
    // decoder.mapping: a mapping with a repeated key is not decoded at all.
    if errs.len() > before {
        return &[];
    }
    e
}

/// The collected errors, reported at the custom unmarshaler's node: `line N: …`, or the
/// `errs:` list when there are several.
fn finish(at: &Node, errs: Errs) -> R<()> {
    let lines: Vec<String> = errs
        .iter()
        .map(|e| format!("line {}: {}", e.line, e.msg))
        .collect();
    match lines.len() {
        0 => Ok(()),
        1 => Err(DecodeError {
            msg: lines[0].clone(),
            line: at.line,
            col: at.col,
            errs: vec![],
        }),
        _ => Err(DecodeError {
            msg: lines[0].clone(),
            line: at.line,
            col: at.col,
            errs: lines,
        }),
    }
}

/// A plain `string` field: a null is empty.
fn p_string(errs: &mut Errs, node: &Node) -> String {
    string(node).unwrap_or_else(|e| {
        errs.push(e);
        String::new()
    })
}

/// A plain `bool` field: a boolean, or one of YAML 1.1's words (`yes`, `on`, `N`, …) that
/// go-yaml v3 still accepts for a typed bool when the scalar resolves to a string (quoted
/// too); a null is false.
fn p_bool(errs: &mut Errs, node: &Node) -> bool {
    if let (NodeKind::Scalar { .. }, Value::Str(s)) = (&node.kind, node.to_value()) {
        match s.as_str() {
            "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => return true,
            "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => return false,
            _ => {}
        }
    }
    boolean(node).unwrap_or_else(|e| {
        errs.push(e);
        false
    })
}

/// A plain slice of a custom type (`[]*ast.Cmd`, …): each non-null item through its own
/// unmarshaler, whose error ends decoding.
fn custom_items<T>(errs: &mut Errs, node: &Node, want: &str, item: fn(&Node) -> R<T>) -> R<Vec<T>> {
    p_seq(errs, node, want)
        .iter()
        .filter(|it| !it.is_null())
        .map(item)
        .collect()
}

/// A `[]string` decoded inside a custom unmarshaler of its own (`Prompt`, `Enum`): its type
/// errors are reported at that node.
fn own_strings(v: &Node) -> R<Vec<String>> {
    let mut errs = Errs::new();
    let out = p_strings(&mut errs, v);
    finish(v, errs)?;
    Ok(out)
}

/// A plain `time.Duration` field: go-yaml takes a string Go's `time.ParseDuration` accepts.
fn p_duration(errs: &mut Errs, node: &Node) -> Option<String> {
    if node.is_null() {
        return None;
    }
    match (&node.kind, node.to_value()) {
        (NodeKind::Scalar { text, .. }, Value::Str(_))
            if crate::template::parse_go_duration(text).is_ok() =>
        {
            Some(text.clone())
        }
        _ => {
            errs.push(terror(node, "time.Duration"));
            None
        }
    }
}

/// A plain `[]string` field: each item a string (every bad item is an error of its own).
fn p_strings(errs: &mut Errs, node: &Node) -> Vec<String> {
    p_seq(errs, node, "[]string")
        .iter()
        .map(|it| p_string(errs, it))
        .collect()
}

/// A plain slice field's items; a null is empty, anything but a sequence a type error.
fn p_seq<'a>(errs: &mut Errs, node: &'a Node, want: &str) -> &'a [Node] {
    match &node.kind {
        NodeKind::Seq(items) => items,
        _ if node.is_null() => &[],
        _ => {
            errs.push(terror(node, want));
            &[]
        }
    }
}

fn key_str(k: &Node) -> R<&str> {
    k.as_str().ok_or_else(|| DecodeError {
        msg: "mapping keys must be strings".into(),
        line: k.line,
        col: k.col,
        errs: vec![],
    })
}

fn string(node: &Node) -> R<String> {
    match &node.kind {
        NodeKind::Scalar { text, .. } => Ok(if node.is_null() {
            String::new()
        } else {
            text.clone()
        }),
        _ => type_err(node, "string"),
    }
}

fn boolean(node: &Node) -> R<bool> {
    match node.to_value() {
        Value::Bool(b) => Ok(b),
        Value::Nil => Ok(false),
        _ => type_err(node, "bool"),
    }
}

pub fn taskfile(root: &Node) -> R<Taskfile> {
    let mut tf = Taskfile::default();
    let mut version_seen = false;
    let e: &[(Node, Node)] = match &root.kind {
        NodeKind::Map(e) => e,
        _ if root.is_null() => &[],
        _ => return Err(type_msg(root, "taskfile")),
    };
    let mut errs = Errs::new();
    for (k, v) in struct_map(&mut errs, e) {
        match key_str(k)? {
            "version" => {
                version_seen = true;
                tf.version = string(v)?;
            }
            "output" if !v.is_null() => tf.output = Some(output(v)?),
            "method" => tf.method = Some(p_string(&mut errs, v)),
            "includes" => {
                for (ik, iv) in custom_map(v, "includes")? {
                    tf.includes.insert(key_str(ik)?.to_string(), include(iv)?);
                }
            }
            "set" => tf.set = p_strings(&mut errs, v),
            "shopt" => tf.shopt = p_strings(&mut errs, v),
            "vars" => tf.vars = vars(v)?,
            "env" => tf.env = vars(v)?,
            "tasks" => {
                let entries = custom_map(v, "tasks")?;
                tf.tasks.reserve(entries.len());
                for (tk, tv) in entries {
                    let mut t = task(tv)?;
                    // `--json` reports where the task's key is.
                    (t.line, t.col) = (tk.line, tk.col);
                    tf.tasks.insert(key_str(tk)?.to_string(), t);
                }
            }
            "silent" => tf.silent = p_bool(&mut errs, v),
            "dotenv" => tf.dotenv = p_strings(&mut errs, v),
            "run" => tf.run = Some(p_string(&mut errs, v)),
            "interval" => tf.interval = p_duration(&mut errs, v),
            "use_gitignore" => tf.use_gitignore = p_bool(&mut errs, v),
            _ => {} // ignored, as yaml.v3 decoding into a struct does
        }
    }
    finish(root, errs)?;
    if !version_seen {
        tf.version.clear();
    }
    Ok(tf)
}

/// The entries of a mapping decoded by a custom unmarshaler (`Includes`, `Tasks`, `Vars`):
/// a null is empty (go-yaml calls no unmarshaler for it), anything else but a mapping is
/// the unmarshaler's own type error.
fn custom_map<'a>(node: &'a Node, what: &str) -> R<&'a [(Node, Node)]> {
    match &node.kind {
        NodeKind::Map(e) => Ok(e),
        _ if node.is_null() => Ok(&[]),
        _ => Err(type_msg(node, what)),
    }
}

fn output(v: &Node) -> R<Output> {
    match &v.kind {
        NodeKind::Scalar { text, .. } => Ok(match text.as_str() {
            "interleaved" | "" => Output::Interleaved,
            "group" => Output::Group {
                begin: String::new(),
                end: String::new(),
                error_only: false,
            },
            "prefixed" => Output::Prefixed,
            other => Output::Unknown(other.to_string()),
        }),
        NodeKind::Map(e) => {
            let mut errs = Errs::new();
            let mut group = None;
            for (k, val) in struct_map(&mut errs, e) {
                if key_str(k)? != "group" {
                    continue; // ignored, as yaml.v3 decoding into a struct does
                }
                let ge: &[(Node, Node)] = match &val.kind {
                    NodeKind::Map(ge) => ge,
                    _ if val.is_null() => {
                        group = None;
                        continue;
                    }
                    _ => {
                        errs.push(terror(val, "ast.OutputGroup"));
                        continue;
                    }
                };
                let (mut begin, mut end, mut error_only) = (String::new(), String::new(), false);
                for (gk, gv) in struct_map(&mut errs, ge) {
                    match key_str(gk)? {
                        "begin" => begin = p_string(&mut errs, gv),
                        "end" => end = p_string(&mut errs, gv),
                        "error_only" => error_only = p_bool(&mut errs, gv),
                        _ => {} // ignored, as yaml.v3 decoding into a struct does
                    }
                }
                group = Some(Output::Group {
                    begin,
                    end,
                    error_only,
                });
            }
            finish(v, errs)?;
            group.ok_or_else(|| DecodeError {
                msg: "output style must have the \"group\" key when in mapping form".into(),
                line: v.line,
                col: v.col,
                errs: vec![],
            })
        }
        NodeKind::Seq(_) => Err(type_msg(v, "output")),
    }
}

fn include(v: &Node) -> R<Include> {
    let mut inc = Include {
        line: v.line,
        col: v.col,
        ..Default::default()
    };
    match &v.kind {
        NodeKind::Scalar { .. } => inc.taskfile = string(v)?,
        NodeKind::Map(e) => {
            inc.advanced = true;
            let mut errs = Errs::new();
            for (k, val) in struct_map(&mut errs, e) {
                match key_str(k)? {
                    "taskfile" => inc.taskfile = p_string(&mut errs, val),
                    "dir" => inc.dir = Some(p_string(&mut errs, val)),
                    "optional" => inc.optional = p_bool(&mut errs, val),
                    "internal" => inc.internal = p_bool(&mut errs, val),
                    "flatten" => inc.flatten = p_bool(&mut errs, val),
                    "aliases" => inc.aliases = p_strings(&mut errs, val),
                    "excludes" => inc.excludes = p_strings(&mut errs, val),
                    "vars" => inc.vars = vars(val)?,
                    "checksum" => {
                        let c = p_string(&mut errs, val);
                        inc.checksum = (!c.is_empty()).then_some(c);
                    }
                    _ => {} // ignored, as yaml.v3 decoding into a struct does
                }
            }
            finish(v, errs)?;
            if inc.taskfile.trim().is_empty() && inc.dir.as_deref().unwrap_or("").trim().is_empty()
            {
                return err(v, "include must specify taskfile or dir");
            }
        }
        NodeKind::Seq(_) => return Err(type_msg(v, "include")),
    }
    Ok(inc)
}

pub fn vars(v: &Node) -> R<Vars> {
    let mut out = Vars::new();
    for (k, val) in custom_map(v, "vars")? {
        out.insert(key_str(k)?.to_string(), var(val)?);
    }
    Ok(out)
}

fn var(v: &Node) -> R<Var> {
    if let NodeKind::Map(e) = &v.kind {
        let mut value = None;
        let mut secret = false;
        let mut errs = Errs::new();
        for (k, val) in struct_map(&mut errs, e) {
            match key_str(k)? {
                // `Sh *string`: a null leaves it unset.
                "sh" if val.is_null() => {}
                "sh" => value = Some(VarValue::Sh(p_string(&mut errs, val))),
                "ref" => value = Some(VarValue::Ref(p_string(&mut errs, val))),
                // go-task drops nil entries of `map:` values (nested maps too).
                "map" => value = Some(VarValue::Static(drop_nil_entries(val.to_value()))),
                "value" => value = Some(VarValue::Static(val.to_value())),
                "secret" => secret = p_bool(&mut errs, val),
                _ => {}
            }
        }
        finish(v, errs)?;
        // taskfile/ast/var.go: the keys are checked after the struct decoded.
        let mut has_type = false;
        for (k, _) in e {
            match key_str(k)? {
                "sh" | "ref" | "map" | "value" => has_type = true,
                "secret" => {}
                o => {
                    return err(
                        v,
                        format!("{o:?} is not a valid variable type. Try \"sh\", \"ref\", \"map\", \"value\" or using a scalar value"),
                    )
                }
            }
        }
        if !has_type {
            return err(
                v,
                "a variable must define one of \"sh\", \"ref\", \"map\", \"value\" or be a scalar value",
            );
        }
        return Ok(Var {
            value: value.unwrap_or(VarValue::Static(Value::Nil)),
            secret,
        });
    }
    if holds_timestamp(v) {
        // go-task cannot store a YAML timestamp in a var: it panics (exit 2). Same outcome,
        // without the crash.
        return err(v, GO_TIMESTAMP_PANIC);
    }
    Ok(Var::stat(v.to_value()))
}

pub const GO_TIMESTAMP_PANIC: &str =
    "panic: reflect: reflect.Value.Set using value obtained using unexported field";

fn holds_timestamp(n: &Node) -> bool {
    match &n.kind {
        NodeKind::Scalar {
            text,
            plain: true,
            tag: None,
        } => {
            text.as_bytes().first().is_some_and(u8::is_ascii_digit)
                && matches!(crate::template::parse_yaml_value(text), Ok(Value::Time(_)))
        }
        NodeKind::Scalar { .. } => false,
        NodeKind::Seq(items) => items.iter().any(holds_timestamp),
        NodeKind::Map(entries) => entries.iter().any(|(_, v)| holds_timestamp(v)),
    }
}

fn task(v: &Node) -> R<Task> {
    let mut t = Task {
        line: v.line,
        col: v.col,
        ..Default::default()
    };
    let e = match &v.kind {
        // Short forms: a single command, or a list of commands.
        NodeKind::Scalar { .. } => {
            if !v.is_null() {
                t.cmds = vec![cmd(v)?];
            }
            return Ok(t);
        }
        NodeKind::Seq(_) => {
            t.cmds = custom_items(&mut Errs::new(), v, "[]*ast.Cmd", cmd)?;
            return Ok(t);
        }
        NodeKind::Map(e) => e,
    };
    let mut errs = Errs::new();
    let (mut cmds_set, mut cmd_one) = (false, None);
    for (k, val) in struct_map(&mut errs, e) {
        match key_str(k)? {
            "cmds" => {
                cmds_set = matches!(val.kind, NodeKind::Seq(_));
                t.cmds = custom_items(&mut errs, val, "[]*ast.Cmd", cmd)?;
            }
            "cmd" if val.is_null() => cmd_one = None,
            "cmd" => cmd_one = Some(cmd(val)?),
            "deps" => t.deps = custom_items(&mut errs, val, "[]*ast.Dep", dep)?,
            "label" => t.label = Some(p_string(&mut errs, val)),
            "desc" => t.desc = p_string(&mut errs, val),
            "prompt" => t.prompt = prompt(val)?,
            "summary" => t.summary = p_string(&mut errs, val),
            "aliases" => t.aliases = p_strings(&mut errs, val),
            "sources" => t.sources = globs(&mut errs, val)?,
            "generates" => t.generates = globs(&mut errs, val)?,
            "status" => t.status = p_strings(&mut errs, val),
            "preconditions" => {
                t.preconditions = custom_items(&mut errs, val, "[]*ast.Precondition", precondition)?
            }
            "dir" => t.dir = Some(p_string(&mut errs, val)),
            "set" => t.set = p_strings(&mut errs, val),
            "shopt" => t.shopt = p_strings(&mut errs, val),
            "vars" => t.vars = vars(val)?,
            "env" => t.env = vars(val)?,
            "dotenv" => t.dotenv = p_strings(&mut errs, val),
            "silent" => t.silent = p_bool(&mut errs, val),
            "interactive" => t.interactive = p_bool(&mut errs, val),
            "internal" => t.internal = p_bool(&mut errs, val),
            "method" => t.method = Some(p_string(&mut errs, val)),
            "prefix" => t.prefix = Some(p_string(&mut errs, val)),
            "ignore_error" => t.ignore_error = p_bool(&mut errs, val),
            "use_gitignore" if val.is_null() => t.use_gitignore = None,
            "use_gitignore" => t.use_gitignore = Some(p_bool(&mut errs, val)),
            "run" => t.run = Some(p_string(&mut errs, val)),
            "platforms" => t.platforms = platforms(&mut errs, val)?,
            "if" => t.if_ = Some(p_string(&mut errs, val)),
            "requires" => t.requires = requires(&mut errs, val)?,
            "watch" => t.watch = p_bool(&mut errs, val),
            "failfast" => t.failfast = p_bool(&mut errs, val),
            _ => {} // ignored (a task-level `output:` too), as yaml.v3 decoding into a struct does
        }
    }
    finish(v, errs)?;
    if let Some(c) = cmd_one {
        if cmds_set {
            return err(v, "task cannot have both cmd and cmds");
        }
        t.cmds = vec![c];
    }
    Ok(t)
}

/// `Prompt`: a string or a list of strings.
fn prompt(v: &Node) -> R<Vec<String>> {
    match &v.kind {
        NodeKind::Scalar { .. } if v.is_null() => Ok(vec![]),
        NodeKind::Scalar { .. } => Ok(vec![string(v)?]),
        NodeKind::Seq(_) => own_strings(v),
        NodeKind::Map(_) => Err(type_msg(v, "prompt")),
    }
}

/// `[]*Glob`: a pattern, or `{exclude: pattern}`.
fn globs(errs: &mut Errs, v: &Node) -> R<Vec<Glob>> {
    let mut out = vec![];
    for it in p_seq(errs, v, "[]*ast.Glob") {
        match &it.kind {
            NodeKind::Scalar { .. } if it.is_null() => {}
            // glob.go takes the node's text as it is.
            NodeKind::Scalar { text, .. } => out.push(Glob {
                pattern: text.clone(),
                exclude: false,
            }),
            NodeKind::Map(e) => {
                let mut inner = Errs::new();
                let mut pattern = String::new();
                for (k, val) in struct_map(&mut inner, e) {
                    if key_str(k)? == "exclude" {
                        pattern = p_string(&mut inner, val);
                    }
                }
                finish(it, inner)?;
                out.push(Glob {
                    pattern,
                    exclude: true,
                });
            }
            NodeKind::Seq(_) => return Err(type_msg(it, "glob")),
        }
    }
    Ok(out)
}

/// `[]*Platform`: each `OS`, `ARCH` or `OS/ARCH` of Go's known lists (platforms.go).
fn platforms(errs: &mut Errs, v: &Node) -> R<Vec<String>> {
    let mut out = vec![];
    for it in p_seq(errs, v, "[]*ast.Platform") {
        match &it.kind {
            NodeKind::Scalar { .. } if it.is_null() => {}
            NodeKind::Scalar { .. } => {
                let p = string(it)?;
                if !valid_platform(&p) {
                    return err(it, format!("invalid platform \"{p}\""));
                }
                out.push(p);
            }
            _ => return Err(type_msg(it, "platform")),
        }
    }
    Ok(out)
}

const KNOWN_OS: &[&str] = &[
    "aix",
    "android",
    "darwin",
    "dragonfly",
    "freebsd",
    "hurd",
    "illumos",
    "ios",
    "js",
    "linux",
    "nacl",
    "netbsd",
    "openbsd",
    "plan9",
    "solaris",
    "windows",
    "zos",
    "__test__",
];
const KNOWN_ARCH: &[&str] = &[
    "386",
    "amd64",
    "amd64p32",
    "arm",
    "armbe",
    "arm64",
    "arm64be",
    "loong64",
    "mips",
    "mipsle",
    "mips64",
    "mips64le",
    "mips64p32",
    "mips64p32le",
    "ppc",
    "ppc64",
    "ppc64le",
    "riscv",
    "riscv64",
    "s390",
    "s390x",
    "sparc",
    "sparc64",
    "wasm",
];

fn valid_platform(p: &str) -> bool {
    let parts: Vec<&str> = p.split('/').collect();
    let first_is_arch = match parts[0] {
        x if KNOWN_OS.contains(&x) => false,
        x if KNOWN_ARCH.contains(&x) => true,
        _ => return false,
    };
    match parts.len() {
        1 => true,
        2 => !first_is_arch && KNOWN_ARCH.contains(&parts[1]),
        _ => false,
    }
}

fn precondition(v: &Node) -> R<Precondition> {
    match &v.kind {
        // go-task's default message: `CMD` failed for the short form, CMD failed
        // (no backticks) for a mapping without `msg:`.
        NodeKind::Scalar { .. } => {
            let sh = string(v)?;
            Ok(Precondition {
                msg: Some(format!("`{sh}` failed")),
                sh,
            })
        }
        NodeKind::Map(e) => {
            let mut errs = Errs::new();
            let (mut sh, mut msg) = (String::new(), String::new());
            for (k, val) in struct_map(&mut errs, e) {
                match key_str(k)? {
                    "sh" => sh = p_string(&mut errs, val),
                    "msg" => msg = p_string(&mut errs, val),
                    _ => {} // ignored, as yaml.v3 decoding into a struct does
                }
            }
            finish(v, errs)?;
            Ok(Precondition {
                msg: Some(if msg.is_empty() {
                    format!("{sh} failed")
                } else {
                    msg
                }),
                sh,
            })
        }
        NodeKind::Seq(_) => Err(type_msg(v, "precondition")),
    }
}

/// `Requires` is a plain struct (`vars: []*VarsWithValidation`): its type errors are the task's.
fn requires(errs: &mut Errs, v: &Node) -> R<Vec<Require>> {
    let mut out = vec![];
    let e: &[(Node, Node)] = match &v.kind {
        NodeKind::Map(e) => e,
        _ if v.is_null() => &[],
        _ => {
            errs.push(terror(v, "ast.Requires"));
            &[]
        }
    };
    for (k, val) in struct_map(errs, e) {
        if key_str(k)? != "vars" {
            continue; // ignored, as yaml.v3 decoding into a struct does
        }
        out.clear();
        for it in p_seq(errs, val, "[]*ast.VarsWithValidation") {
            match &it.kind {
                NodeKind::Scalar { .. } if it.is_null() => {}
                NodeKind::Scalar { .. } => out.push(Require {
                    name: string(it)?,
                    enum_: None,
                }),
                NodeKind::Map(e) => {
                    let mut inner = Errs::new();
                    let mut r = Require {
                        name: String::new(),
                        enum_: None,
                    };
                    for (rk, rv) in struct_map(&mut inner, e) {
                        match key_str(rk)? {
                            "name" => r.name = p_string(&mut inner, rv),
                            "enum" if rv.is_null() => r.enum_ = None,
                            "enum" => r.enum_ = Some(enum_spec(rv)?),
                            _ => {} // ignored, as yaml.v3 decoding into a struct does
                        }
                    }
                    finish(it, inner)?;
                    out.push(r);
                }
                NodeKind::Seq(_) => return Err(type_msg(it, "requires")),
            }
        }
    }
    Ok(out)
}

/// `Enum`: a list of strings, or `{ref: .VAR}` (an empty ref is a type error).
fn enum_spec(v: &Node) -> R<EnumSpec> {
    match &v.kind {
        NodeKind::Seq(_) => Ok(EnumSpec::List(own_strings(v)?)),
        NodeKind::Map(e) => {
            let mut errs = Errs::new();
            let mut r = String::new();
            for (k, val) in struct_map(&mut errs, e) {
                if key_str(k)? == "ref" {
                    r = p_string(&mut errs, val);
                }
            }
            finish(v, errs)?;
            if r.is_empty() {
                return Err(type_msg(v, "enum"));
            }
            Ok(EnumSpec::Ref(r))
        }
        NodeKind::Scalar { .. } => Err(type_msg(v, "enum")),
    }
}

fn for_(v: &Node) -> R<For> {
    match &v.kind {
        NodeKind::Scalar { text, .. } => match text.as_str() {
            "sources" => Ok(For::Sources),
            "generates" => Ok(For::Generates),
            // go-task iterates over nothing for any other word (no error).
            _ => Ok(For::List(vec![])),
        },
        NodeKind::Seq(items) => Ok(For::List(items.iter().map(Node::to_value).collect())),
        NodeKind::Map(e) => {
            let mut errs = Errs::new();
            let (mut var, mut split, mut as_, mut matrix) = (None, None, None, None);
            for (k, val) in struct_map(&mut errs, e) {
                match key_str(k)? {
                    "var" => var = Some(p_string(&mut errs, val)),
                    "split" => split = Some(p_string(&mut errs, val)),
                    "as" => as_ = Some(p_string(&mut errs, val)),
                    "matrix" if val.is_null() => matrix = None,
                    "matrix" => matrix = Some(matrix_rows(val)?),
                    _ => {} // ignored, as yaml.v3 decoding into a struct does
                }
            }
            finish(v, errs)?;
            let var = var.filter(|s| !s.is_empty());
            let matrix = matrix.filter(|m: &Vec<(String, MatrixRow)>| !m.is_empty());
            match (var, matrix) {
                (None, None) => err(v, "invalid keys in for"),
                (Some(_), Some(_)) => err(v, "cannot use both var and matrix in for"),
                (None, Some(m)) => Ok(For::Matrix(m)),
                (Some(var), None) => Ok(For::Var { var, split, as_ }),
            }
        }
    }
}

/// `Matrix`: each row a list, or `{ref: .VAR}`; errors are reported at the matrix node.
fn matrix_rows(v: &Node) -> R<Vec<(String, MatrixRow)>> {
    let NodeKind::Map(e) = &v.kind else {
        return Err(type_msg(v, "matrix"));
    };
    let mut rows = vec![];
    for (mk, mv) in e {
        let row = match &mv.kind {
            NodeKind::Seq(items) => MatrixRow::List(items.iter().map(Node::to_value).collect()),
            NodeKind::Map(me) => {
                let mut errs = Errs::new();
                let mut r = String::new();
                for (rk, rv) in struct_map(&mut errs, me) {
                    if key_str(rk)? == "ref" {
                        r = p_string(&mut errs, rv);
                    }
                }
                finish(v, errs)?;
                MatrixRow::Ref(r)
            }
            _ => return err(v, "matrix values must be an array or a reference"),
        };
        rows.push((key_str(mk)?.to_string(), row));
    }
    Ok(rows)
}

/// cmd.go parseTimeout: a Go duration above zero, checked while decoding.
fn check_timeout(at: &Node, t: &str) -> R<()> {
    match crate::template::parse_go_duration(t) {
        Err(_) => err(at, "invalid timeout format"),
        Ok(n) if n <= 0 => err(at, "timeout must be greater than zero"),
        Ok(_) => Ok(()),
    }
}

fn cmd(v: &Node) -> R<Cmd> {
    let mut c = Cmd::default();
    let mut deferred = None;
    let e = match &v.kind {
        NodeKind::Scalar { .. } => {
            c.cmd = Some(string(v)?);
            return Ok(c);
        }
        NodeKind::Map(e) => e,
        NodeKind::Seq(_) => return Err(type_msg(v, "command")),
    };
    let mut errs = Errs::new();
    for (k, val) in struct_map(&mut errs, e) {
        match key_str(k)? {
            "cmd" => c.cmd = Some(p_string(&mut errs, val)),
            "task" => c.task = Some(p_string(&mut errs, val)),
            "vars" => c.vars = vars(val)?,
            "silent" => c.silent = p_bool(&mut errs, val),
            "ignore_error" => c.ignore_error = p_bool(&mut errs, val),
            "set" => c.set = p_strings(&mut errs, val),
            "shopt" => c.shopt = p_strings(&mut errs, val),
            "platforms" => c.platforms = platforms(&mut errs, val)?,
            "if" => c.if_ = Some(p_string(&mut errs, val)),
            "timeout" => c.timeout = Some(p_string(&mut errs, val)),
            "for" if val.is_null() => c.for_ = None,
            "for" => c.for_ = Some(for_(val)?),
            "defer" if val.is_null() => deferred = None,
            "defer" => deferred = Some(defer_(val)?),
            _ => {} // ignored, as yaml.v3 decoding into a struct does
        }
    }
    finish(v, errs)?;
    c.timeout = c.timeout.filter(|t| !t.is_empty());
    if let Some(t) = &c.timeout {
        check_timeout(v, t)?;
    }
    // taskfile/ast/cmd.go: with a `defer:` key the other keys only lend their `silent` and
    // `timeout` to a deferred command; a mapping holds `defer` (the command), `task`,
    // `vars`, `silent`, and no `timeout`. Neither command nor task: a no-op command.
    if let Some(d) = deferred {
        if !d.timeout.is_empty() {
            return err(v, "timeout must be set next to defer, not inside it");
        }
        let (outer_silent, outer_timeout) = (c.silent, c.timeout.take());
        c = Cmd {
            defer: true,
            timeout: outer_timeout,
            ..Default::default()
        };
        if !d.cmd.is_empty() {
            c.cmd = Some(d.cmd);
            c.silent = outer_silent;
        } else if !d.task.is_empty() {
            c.task = Some(d.task);
            c.vars = d.vars;
            c.silent = d.silent;
        } else {
            c.defer = false;
            c.cmd = Some(String::new());
        }
        return Ok(c);
    }
    c.cmd = c.cmd.filter(|s| !s.is_empty());
    c.task = c.task.filter(|s| !s.is_empty());
    if c.task.is_some() {
        // A task call takes no platforms in go-task (cmd.go copies them for commands only).
        c.platforms.clear();
    }
    if c.cmd.is_none() && c.task.is_none() {
        return err(v, "invalid keys in command");
    }
    Ok(c)
}

/// `Defer`: a command, or `{defer, task, vars, silent, timeout}`.
struct Deferred {
    cmd: String,
    task: String,
    vars: Vars,
    silent: bool,
    timeout: String,
}

fn defer_(v: &Node) -> R<Deferred> {
    let mut d = Deferred {
        cmd: String::new(),
        task: String::new(),
        vars: Vars::new(),
        silent: false,
        timeout: String::new(),
    };
    match &v.kind {
        NodeKind::Scalar { .. } => d.cmd = string(v)?,
        NodeKind::Map(e) => {
            let mut errs = Errs::new();
            for (k, x) in struct_map(&mut errs, e) {
                match key_str(k)? {
                    "defer" => d.cmd = p_string(&mut errs, x),
                    "task" => d.task = p_string(&mut errs, x),
                    "vars" => d.vars = vars(x)?,
                    "silent" => d.silent = p_bool(&mut errs, x),
                    "timeout" => d.timeout = p_string(&mut errs, x),
                    _ => {}
                }
            }
            finish(v, errs)?;
        }
        NodeKind::Seq(_) => return Err(type_msg(v, "defer")),
    }
    Ok(d)
}

fn dep(v: &Node) -> R<Dep> {
    let mut d = Dep::default();
    match &v.kind {
        NodeKind::Scalar { .. } => d.task = string(v)?,
        NodeKind::Map(e) => {
            let mut errs = Errs::new();
            for (k, val) in struct_map(&mut errs, e) {
                match key_str(k)? {
                    "task" => d.task = p_string(&mut errs, val),
                    "vars" => d.vars = vars(val)?,
                    "silent" => d.silent = p_bool(&mut errs, val),
                    "for" if val.is_null() => d.for_ = None,
                    "for" => d.for_ = Some(for_(val)?),
                    "timeout" => d.timeout = Some(p_string(&mut errs, val)),
                    // dep.go has no `if:`: go-task 3.54 ignores it on a dependency.
                    _ => {} // ignored, as yaml.v3 decoding into a struct does
                }
            }
            finish(v, errs)?;
            d.timeout = d.timeout.filter(|t| !t.is_empty());
            if let Some(t) = &d.timeout {
                check_timeout(v, t)?;
            }
        }
        NodeKind::Seq(_) => return Err(type_msg(v, "dependency")),
    }
    Ok(d)
}

fn drop_nil_entries(v: Value) -> Value {
    match v {
        Value::Map(m) => Value::Map(
            m.into_iter()
                .filter(|(_, x)| *x != Value::Nil)
                .map(|(k, x)| (k, drop_nil_entries(x)))
                .collect(),
        ),
        Value::List(l) => Value::List(l.into_iter().map(drop_nil_entries).collect()),
        other => other,
    }
}
