//! Node tree → typed AST. Every ill-typed key is an error with its position; unknown keys
//! are ignored, as go-task's yaml.v3 decoding into structs ignores them.

use super::ast::*;
use super::yaml::{Node, NodeKind};
use crate::template::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct DecodeError {
    pub msg: String,
    pub line: usize,
    pub col: usize,
}

type R<T> = Result<T, DecodeError>;

fn err<T>(node: &Node, msg: impl Into<String>) -> R<T> {
    Err(DecodeError {
        msg: msg.into(),
        line: node.line,
        col: node.col,
    })
}

fn type_err<T>(node: &Node, want: &str) -> R<T> {
    let shown = match &node.kind {
        NodeKind::Scalar { text, .. } => format!("{} `{}`", node.kind_name(), text),
        _ => node.kind_name().to_string(),
    };
    err(node, format!("cannot unmarshal {shown} into {want}"))
}

/// A type error from go-yaml's own decoding of a plain struct field (string, bool,
/// []string): go-task reports it at the node of the nearest custom unmarshaler (the
/// Taskfile, task, include or command mapping), the offending line in the message.
fn native<T>(at: &Node, r: R<T>) -> R<T> {
    r.map_err(|e| DecodeError {
        msg: format!("line {}: {}", e.line, e.msg),
        line: at.line,
        col: at.col,
    })
}

fn entries<'a>(node: &'a Node, what: &str) -> R<&'a [(Node, Node)]> {
    match &node.kind {
        NodeKind::Map(e) => Ok(e),
        NodeKind::Scalar { .. } if node.is_null() => Ok(&[]),
        _ => type_err(node, what),
    }
}

fn key_str(k: &Node) -> R<&str> {
    k.as_str().ok_or_else(|| DecodeError {
        msg: "mapping keys must be strings".into(),
        line: k.line,
        col: k.col,
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

/// A string or a list of strings (go-task accepts both for several keys).
fn strings(node: &Node) -> R<Vec<String>> {
    match &node.kind {
        NodeKind::Seq(items) => items.iter().map(string).collect(),
        NodeKind::Scalar { .. } if node.is_null() => Ok(vec![]),
        NodeKind::Scalar { .. } => Ok(vec![string(node)?]),
        _ => type_err(node, "[]string"),
    }
}

fn string_list(node: &Node) -> R<Vec<String>> {
    match &node.kind {
        NodeKind::Seq(items) => items.iter().map(string).collect(),
        NodeKind::Scalar { .. } if node.is_null() => Ok(vec![]),
        _ => type_err(node, "[]string"),
    }
}

pub fn taskfile(root: &Node) -> R<Taskfile> {
    let mut tf = Taskfile::default();
    let mut version_seen = false;
    for (k, v) in entries(root, "ast.Taskfile")? {
        match key_str(k)? {
            "version" => {
                version_seen = true;
                tf.version = string(v)?;
            }
            "output" => tf.output = Some(output(v)?),
            "method" => tf.method = Some(native(root, string(v))?),
            "includes" => {
                for (ik, iv) in entries(v, "ast.Includes")? {
                    tf.includes.insert(key_str(ik)?.to_string(), include(iv)?);
                }
            }
            "set" => tf.set = native(root, string_list(v))?,
            "shopt" => tf.shopt = native(root, string_list(v))?,
            "vars" => tf.vars = vars(v)?,
            "env" => tf.env = vars(v)?,
            "tasks" => {
                for (tk, tv) in entries(v, "ast.Tasks")? {
                    let mut t = task(tv)?;
                    // `--json` reports where the task's key is.
                    (t.line, t.col) = (tk.line, tk.col);
                    tf.tasks.insert(key_str(tk)?.to_string(), t);
                }
            }
            "silent" => tf.silent = native(root, boolean(v))?,
            "dotenv" => tf.dotenv = native(root, string_list(v))?,
            "run" => tf.run = Some(native(root, string(v))?),
            "interval" => tf.interval = Some(native(root, string(v))?),
            "use_gitignore" => tf.use_gitignore = native(root, boolean(v))?,
            _ => {} // ignored, as yaml.v3 decoding into a struct does
        }
    }
    if !version_seen {
        tf.version.clear();
    }
    Ok(tf)
}

fn output(v: &Node) -> R<Output> {
    match &v.kind {
        NodeKind::Scalar { text, .. } => match text.as_str() {
            "interleaved" | "" => Ok(Output::Interleaved),
            "group" => Ok(Output::Group {
                begin: String::new(),
                end: String::new(),
                error_only: false,
            }),
            "prefixed" => Ok(Output::Prefixed),
            other => err(v, format!("output style \"{other}\" is not supported")),
        },
        NodeKind::Map(e) => {
            let mut out = None;
            for (k, val) in e {
                match key_str(k)? {
                    "group" => {
                        let (mut begin, mut end, mut error_only) =
                            (String::new(), String::new(), false);
                        for (gk, gv) in entries(val, "output group")? {
                            match key_str(gk)? {
                                "begin" => begin = string(gv)?,
                                "end" => end = string(gv)?,
                                "error_only" => error_only = boolean(gv)?,
                                _ => {} // ignored, as yaml.v3 decoding into a struct does
                            }
                        }
                        out = Some(Output::Group {
                            begin,
                            end,
                            error_only,
                        });
                    }
                    o => return err(k, format!("output style \"{o}\" is not supported")),
                }
            }
            out.ok_or_else(|| DecodeError {
                msg: "output must name a style".into(),
                line: v.line,
                col: v.col,
            })
        }
        _ => type_err(v, "ast.Output"),
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
            for (k, val) in e {
                match key_str(k)? {
                    "taskfile" => inc.taskfile = native(v, string(val))?,
                    "dir" => inc.dir = Some(native(v, string(val))?),
                    "optional" => inc.optional = native(v, boolean(val))?,
                    "internal" => inc.internal = native(v, boolean(val))?,
                    "flatten" => inc.flatten = native(v, boolean(val))?,
                    "aliases" => inc.aliases = native(v, strings(val))?,
                    "excludes" => inc.excludes = native(v, strings(val))?,
                    "vars" => inc.vars = vars(val)?,
                    "checksum" => inc.checksum = Some(native(v, string(val))?),
                    _ => {} // ignored, as yaml.v3 decoding into a struct does
                }
            }
            if inc.taskfile.is_empty() && inc.dir.is_none() {
                return err(v, "include must specify taskfile or dir");
            }
        }
        _ => return type_err(v, "ast.Include"),
    }
    Ok(inc)
}

pub fn vars(v: &Node) -> R<Vars> {
    let mut out = Vars::new();
    for (k, val) in entries(v, "ast.Vars")? {
        out.insert(key_str(k)?.to_string(), var(val)?);
    }
    Ok(out)
}

fn var(v: &Node) -> R<Var> {
    if let NodeKind::Map(e) = &v.kind {
        let mut value = None;
        let mut secret = false;
        for (k, val) in e {
            match key_str(k)? {
                "sh" => value = Some(VarValue::Sh(string(val)?)),
                "ref" => value = Some(VarValue::Ref(string(val)?)),
                // go-task drops nil entries of `map:` values (nested maps too).
                "map" => value = Some(VarValue::Static(drop_nil_entries(val.to_value()))),
                "value" => value = Some(VarValue::Static(val.to_value())),
                "secret" => secret = boolean(val)?,
                _ => {}
            }
        }
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
    match &v.kind {
        // Short forms: a single command, or a list of commands.
        NodeKind::Scalar { .. } => {
            if !v.is_null() {
                t.cmds = vec![Cmd {
                    cmd: Some(string(v)?),
                    ..Default::default()
                }];
            }
            return Ok(t);
        }
        NodeKind::Seq(items) => {
            t.cmds = cmds(items)?;
            return Ok(t);
        }
        NodeKind::Map(_) => {}
    }
    for (k, val) in entries(v, "ast.Task")? {
        match key_str(k)? {
            "cmds" => match &val.kind {
                NodeKind::Seq(items) => t.cmds = cmds(items)?,
                NodeKind::Scalar { .. } if val.is_null() => {}
                _ => return type_err(val, "[]*ast.Cmd"),
            },
            "cmd" => t.cmds = cmds(std::slice::from_ref(val))?,
            "deps" => match &val.kind {
                NodeKind::Seq(items) => {
                    for it in items {
                        if !it.is_null() {
                            t.deps.push(dep(it)?);
                        }
                    }
                }
                NodeKind::Scalar { .. } if val.is_null() => {}
                _ => return type_err(val, "[]*ast.Dep"),
            },
            "label" => t.label = Some(native(v, string(val))?),
            "desc" => t.desc = native(v, string(val))?,
            "prompt" => t.prompt = strings(val)?,
            "summary" => t.summary = native(v, string(val))?,
            "aliases" => t.aliases = native(v, strings(val))?,
            "sources" => t.sources = globs(val)?,
            "generates" => t.generates = globs(val)?,
            "status" => t.status = native(v, string_list(val))?,
            "preconditions" => t.preconditions = preconditions(val)?,
            "dir" => t.dir = Some(native(v, string(val))?),
            "set" => t.set = native(v, string_list(val))?,
            "shopt" => t.shopt = native(v, string_list(val))?,
            "vars" => t.vars = vars(val)?,
            "env" => t.env = vars(val)?,
            "dotenv" => t.dotenv = native(v, string_list(val))?,
            "silent" => t.silent = native(v, boolean(val))?,
            "interactive" => t.interactive = native(v, boolean(val))?,
            "internal" => t.internal = native(v, boolean(val))?,
            "method" => t.method = Some(native(v, string(val))?),
            "prefix" => t.prefix = Some(native(v, string(val))?),
            "ignore_error" => t.ignore_error = native(v, boolean(val))?,
            "use_gitignore" => t.use_gitignore = Some(native(v, boolean(val))?),
            "run" => t.run = Some(native(v, string(val))?),
            "platforms" => t.platforms = strings(val)?,
            "if" => t.if_ = Some(native(v, string(val))?),
            "requires" => t.requires = requires(val)?,
            "watch" => t.watch = native(v, boolean(val))?,
            "failfast" => t.failfast = native(v, boolean(val))?,
            // go-task accepts and ignores a task-level `output:`.
            "output" => {}
            _ => {} // ignored, as yaml.v3 decoding into a struct does
        }
    }
    Ok(t)
}

fn globs(v: &Node) -> R<Vec<Glob>> {
    let NodeKind::Seq(items) = &v.kind else {
        if v.is_null() {
            return Ok(vec![]);
        }
        return type_err(v, "[]*ast.Glob");
    };
    let mut out = vec![];
    for it in items {
        match &it.kind {
            NodeKind::Scalar { .. } => out.push(Glob {
                pattern: string(it)?,
                exclude: false,
            }),
            NodeKind::Map(e) => {
                for (k, val) in e {
                    match key_str(k)? {
                        "exclude" => out.push(Glob {
                            pattern: string(val)?,
                            exclude: true,
                        }),
                        _ => {} // ignored, as yaml.v3 decoding into a struct does
                    }
                }
            }
            _ => return type_err(it, "ast.Glob"),
        }
    }
    Ok(out)
}

fn preconditions(v: &Node) -> R<Vec<Precondition>> {
    let NodeKind::Seq(items) = &v.kind else {
        return type_err(v, "[]*ast.Precondition");
    };
    let mut out = vec![];
    for it in items {
        match &it.kind {
            // go-task's default message: `CMD` failed for the short form, CMD failed
            // (no backticks) for a mapping without `msg:`.
            NodeKind::Scalar { .. } => {
                let sh = string(it)?;
                out.push(Precondition {
                    msg: Some(format!("`{sh}` failed")),
                    sh,
                })
            }
            NodeKind::Map(e) => {
                let mut p = Precondition {
                    sh: String::new(),
                    msg: None,
                };
                for (k, val) in e {
                    match key_str(k)? {
                        "sh" => p.sh = string(val)?,
                        "msg" => p.msg = Some(string(val)?),
                        _ => {} // ignored, as yaml.v3 decoding into a struct does
                    }
                }
                out.push(p);
            }
            _ => return type_err(it, "ast.Precondition"),
        }
    }
    Ok(out)
}

fn requires(v: &Node) -> R<Vec<Require>> {
    let mut out = vec![];
    for (k, val) in entries(v, "ast.Requires")? {
        match key_str(k)? {
            "vars" => {
                let NodeKind::Seq(items) = &val.kind else {
                    return type_err(val, "[]*ast.VarsWithValidation");
                };
                for it in items {
                    match &it.kind {
                        NodeKind::Scalar { .. } => out.push(Require {
                            name: string(it)?,
                            enum_: None,
                        }),
                        NodeKind::Map(e) => {
                            let mut r = Require {
                                name: String::new(),
                                enum_: None,
                            };
                            for (rk, rv) in e {
                                match key_str(rk)? {
                                    "name" => r.name = string(rv)?,
                                    "enum" => {
                                        r.enum_ = Some(match &rv.kind {
                                            NodeKind::Seq(_) => EnumSpec::List(string_list(rv)?),
                                            NodeKind::Map(em) => {
                                                let mut refv = None;
                                                for (ek, ev) in em {
                                                    match key_str(ek)? {
                                                        "ref" => refv = Some(string(ev)?),
                                                        _ => {} // ignored, as yaml.v3 decoding into a struct does
                                                    }
                                                }
                                                EnumSpec::Ref(refv.unwrap_or_default())
                                            }
                                            _ => return type_err(rv, "enum"),
                                        })
                                    }
                                    _ => {} // ignored, as yaml.v3 decoding into a struct does
                                }
                            }
                            out.push(r);
                        }
                        _ => return type_err(it, "ast.VarsWithValidation"),
                    }
                }
            }
            _ => {} // ignored, as yaml.v3 decoding into a struct does
        }
    }
    Ok(out)
}

fn for_(v: &Node) -> R<For> {
    match &v.kind {
        NodeKind::Scalar { text, .. } => match text.as_str() {
            "sources" => Ok(For::Sources),
            "generates" => Ok(For::Generates),
            other => err(v, format!("invalid keyword in for: {other}")),
        },
        NodeKind::Seq(items) => Ok(For::List(items.iter().map(Node::to_value).collect())),
        NodeKind::Map(e) => {
            let (mut var, mut split, mut as_, mut matrix) = (None, None, None, None);
            for (k, val) in e {
                match key_str(k)? {
                    "var" => var = Some(string(val)?),
                    "split" => split = Some(string(val)?),
                    "as" => as_ = Some(string(val)?),
                    "matrix" => {
                        let mut rows = vec![];
                        for (mk, mv) in entries(val, "matrix")? {
                            let row = match &mv.kind {
                                NodeKind::Seq(items) => {
                                    MatrixRow::List(items.iter().map(Node::to_value).collect())
                                }
                                NodeKind::Map(me) => {
                                    let mut r = None;
                                    for (rk, rv) in me {
                                        if key_str(rk)? == "ref" {
                                            r = Some(string(rv)?);
                                        } else {
                                            return err(rk, "matrix rows must be a list or a ref");
                                        }
                                    }
                                    MatrixRow::Ref(r.unwrap_or_default())
                                }
                                _ => return type_err(mv, "matrix row"),
                            };
                            rows.push((key_str(mk)?.to_string(), row));
                        }
                        matrix = Some(rows);
                    }
                    _ => {} // ignored, as yaml.v3 decoding into a struct does
                }
            }
            if let Some(m) = matrix {
                return Ok(For::Matrix(m));
            }
            match var {
                Some(var) => Ok(For::Var { var, split, as_ }),
                None => err(v, "invalid keys in for"),
            }
        }
    }
}

fn cmds(items: &[Node]) -> R<Vec<Cmd>> {
    let mut out = vec![];
    for it in items {
        if it.is_null() {
            continue;
        }
        out.push(cmd(it)?);
    }
    Ok(out)
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
        NodeKind::Seq(_) => return type_err(v, "ast.Cmd"),
    };
    for (k, val) in e {
        match key_str(k)? {
            "cmd" => c.cmd = Some(native(v, string(val))?),
            "task" => c.task = Some(native(v, string(val))?),
            "vars" => c.vars = vars(val)?,
            "silent" => c.silent = native(v, boolean(val))?,
            "ignore_error" => c.ignore_error = native(v, boolean(val))?,
            "set" => c.set = native(v, string_list(val))?,
            "shopt" => c.shopt = native(v, string_list(val))?,
            "platforms" => c.platforms = strings(val)?,
            "if" => c.if_ = Some(native(v, string(val))?),
            "timeout" => c.timeout = Some(native(v, string(val))?),
            "for" => c.for_ = Some(for_(val)?),
            "defer" => deferred = Some(val),
            _ => {} // ignored, as yaml.v3 decoding into a struct does
        }
    }
    // taskfile/ast/cmd.go: with a `defer:` key the other keys only lend their `silent` and
    // `timeout` to a deferred command; a mapping holds `defer` (the command), `task`,
    // `vars`, `silent`, and no `timeout`. Neither command nor task: a no-op command.
    if let Some(val) = deferred {
        let (outer_silent, outer_timeout) = (c.silent, c.timeout.take());
        c = Cmd {
            defer: true,
            timeout: outer_timeout,
            ..Default::default()
        };
        match &val.kind {
            NodeKind::Scalar { .. } => {
                c.cmd = Some(string(val)?);
                c.silent = outer_silent;
            }
            NodeKind::Map(e) => {
                let (mut dcmd, mut dtask, mut dvars, mut dsilent) =
                    (String::new(), String::new(), Vars::new(), false);
                let mut dtimeout = String::new();
                for (k, x) in e {
                    match key_str(k)? {
                        "defer" => dcmd = string(x)?,
                        "task" => dtask = string(x)?,
                        "vars" => dvars = vars(x)?,
                        "silent" => dsilent = boolean(x)?,
                        "timeout" => dtimeout = string(x)?,
                        _ => {}
                    }
                }
                if !dtimeout.is_empty() {
                    return err(v, "timeout must be set next to defer, not inside it");
                }
                if !dcmd.is_empty() {
                    c.cmd = Some(dcmd);
                    c.silent = outer_silent;
                } else if !dtask.is_empty() {
                    c.task = Some(dtask);
                    c.vars = dvars;
                    c.silent = dsilent;
                } else {
                    c.defer = false;
                    c.cmd = Some(String::new());
                }
            }
            NodeKind::Seq(_) => return type_err(val, "defer"),
        }
        return Ok(c);
    }
    c.cmd = c.cmd.filter(|s| !s.is_empty());
    c.task = c.task.filter(|s| !s.is_empty());
    if c.task.is_some() {
        // A task call takes no platforms in go-task (cmd.go copies them for commands only).
        c.platforms.clear();
    }
    if c.cmd.is_none() && c.task.is_none() && !c.defer {
        return err(v, "invalid keys in command");
    }
    Ok(c)
}

fn dep(v: &Node) -> R<Dep> {
    let mut d = Dep::default();
    match &v.kind {
        NodeKind::Scalar { .. } => d.task = string(v)?,
        NodeKind::Map(e) => {
            for (k, val) in e {
                match key_str(k)? {
                    "task" => d.task = string(val)?,
                    "vars" => d.vars = vars(val)?,
                    "silent" => d.silent = boolean(val)?,
                    "for" => d.for_ = Some(for_(val)?),
                    "if" => d.if_ = Some(string(val)?),
                    "timeout" => d.timeout = Some(string(val)?),
                    _ => {} // ignored, as yaml.v3 decoding into a struct does
                }
            }
        }
        _ => return type_err(v, "ast.Dep"),
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
