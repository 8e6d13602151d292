//! `--list`, `--list-all`, `--json` and `--summary`.

use super::output::Color;
use super::{Executor, TaskError};
use crate::cli::Cli;
use crate::compile::Call;
use crate::taskfile::ast::Vars;
use crate::taskfile::TaskEntry;
use crate::template;

/// One cell of go-task's tabwriter (github.com/Ladicle/tabwriter, a fork of Go's
/// text/tabwriter): its text and its width in runes, ANSI escapes (ESC up to `m`) counting zero.
struct Cell {
    text: String,
    width: usize,
}

/// go-task's `--list` tabwriter (minwidth 0, padding 6, ' '): `\t` ends a cell, `\n` a
/// line; a column's width is set by each run of consecutive lines that have a tab-terminated
/// cell in it; a line's last cell is never padded. An ANSI escape sequence is zero width and
/// its bytes (tabs and newlines included) do not split cells, so colour does not shift columns.
pub fn tabwrite(text: &str) -> String {
    tabwrite_padded(text, 6)
}

/// [`tabwrite`] with another padding (`--experiments` uses 0).
pub fn tabwrite_padded(text: &str, padding: usize) -> String {
    let mut out = String::new();
    let mut lines: Vec<Vec<Cell>> = vec![vec![]];
    let (mut cur, mut width, mut esc) = (String::new(), 0usize, false);
    for ch in text.chars() {
        if esc {
            cur.push(ch);
            esc = ch != 'm';
            continue;
        }
        match ch {
            '\t' | '\n' | '\x0b' | '\x0c' => {
                let line = lines.last_mut().unwrap();
                line.push(Cell {
                    text: std::mem::take(&mut cur),
                    width: std::mem::take(&mut width),
                });
                let ncells = line.len();
                if ch == '\n' || ch == '\x0c' {
                    lines.push(vec![]);
                    // a one-cell line cannot shape the lines after it: the writer flushes
                    if ch == '\x0c' || ncells == 1 {
                        format_block(&mut out, &lines, &mut vec![], 0, lines.len(), padding);
                        lines = vec![vec![]];
                    }
                }
            }
            '\x1b' => {
                cur.push(ch);
                esc = true;
            }
            _ => {
                cur.push(ch);
                width += 1;
            }
        }
    }
    if !cur.is_empty() {
        lines.last_mut().unwrap().push(Cell { text: cur, width });
    }
    format_block(&mut out, &lines, &mut vec![], 0, lines.len(), padding);
    out
}

/// text/tabwriter's `format`: column blocks, recursively, then the lines between them.
fn format_block(
    out: &mut String,
    lines: &[Vec<Cell>],
    widths: &mut Vec<usize>,
    mut line0: usize,
    line1: usize,
    padding: usize,
) {
    let column = widths.len();
    let mut this = line0;
    while this < line1 {
        if column + 1 >= lines[this].len() {
            this += 1;
            continue;
        }
        write_lines(out, lines, widths, line0, this);
        line0 = this;
        let mut width = 0;
        while this < line1 && column + 1 < lines[this].len() {
            width = width.max(lines[this][column].width + padding);
            this += 1;
        }
        widths.push(width);
        format_block(out, lines, widths, line0, this, padding);
        widths.pop();
        line0 = this;
    }
    write_lines(out, lines, widths, line0, line1);
}

fn write_lines(out: &mut String, lines: &[Vec<Cell>], widths: &[usize], from: usize, to: usize) {
    for (i, line) in lines.iter().enumerate().take(to).skip(from) {
        for (j, c) in line.iter().enumerate() {
            out.push_str(&c.text);
            if j < widths.len() {
                out.push_str(&" ".repeat(widths[j].saturating_sub(c.width)));
            }
        }
        // the writer's last line is the unfinished one: no newline after it
        if i + 1 < lines.len() {
            out.push('\n');
        }
    }
}

pub(crate) fn sorted<'a>(exec: &'a Executor, mode: &str) -> Vec<&'a TaskEntry> {
    let mut tasks: Vec<&TaskEntry> = exec.compiler.project.tasks.values().collect();
    match mode {
        "none" => {}
        "alphanumeric" => tasks.sort_by(|a, b| a.name.cmp(&b.name)),
        _ => tasks
            .sort_by(|a, b| (a.name.contains(':'), &a.name).cmp(&(b.name.contains(':'), &b.name))),
    }
    tasks
}

/// go-task's CompiledTaskForTaskList: label, desc, prompt and summary templated in that
/// order with the fast vars through one templater.Cache, whose first error sticks: that
/// text and every later one stay raw.
fn list_texts(exec: &Executor, e: &TaskEntry) -> (Option<String>, String, String) {
    let vars = exec.compiler.fast_vars(e).unwrap_or_default();
    let mut failed = false;
    let mut r = |s: &str| -> String {
        if failed || !s.contains("{{") {
            return s.to_string();
        }
        match template::render(s, &vars) {
            Ok(v) => v.replace("<no value>", ""),
            Err(_) => {
                failed = true;
                s.to_string()
            }
        }
    };
    let label = e.task.label.as_ref().map(|l| r(l));
    let desc = r(&e.task.desc);
    for p in &e.task.prompt {
        r(p);
    }
    let summary = r(&e.task.summary);
    (label, desc, summary)
}

fn listed<'a>(exec: &'a Executor, all: bool, sort: &str) -> Vec<(&'a TaskEntry, String)> {
    sorted(exec, sort)
        .into_iter()
        .filter(|e| !e.task.internal)
        .filter_map(|e| {
            let desc = if !e.task.desc.contains("{{") {
                e.task.desc.clone()
            } else {
                list_texts(exec, e).1
            };
            if !all && desc.is_empty() && e.task.desc.is_empty() {
                return None;
            }
            Some((e, desc))
        })
        .collect()
}

pub fn list(exec: &Executor, cli: &Cli) -> Result<(), i32> {
    let sort = cli.sort.as_deref().unwrap_or("default");
    let items = listed(exec, cli.list_all, sort);
    // `--silent` lists bare names, then each alias, one a line, for scripts; it wins over
    // `--json` and prints nothing (exit 0) when no task qualifies, as go-task does.
    if cli.silent {
        let mut out = String::new();
        for (e, _) in &items {
            out.push_str(&e.name);
            out.push('\n');
            for a in &e.aliases {
                out.push_str(a);
                out.push('\n');
            }
        }
        exec.printer.out(out.as_bytes());
        return Ok(());
    }
    if cli.json {
        // help.go ToEditorOutput: every listed task's up-to-date check builds a sources
        // checker, which rejects an invalid method, sources or not.
        if !cli.no_status {
            let root = exec.compiler.project.root.method.as_deref();
            for (e, _) in &items {
                let m = e.task.method.as_deref().or(root).unwrap_or("checksum");
                if !matches!(m, "checksum" | "timestamp" | "none") {
                    exec.printer
                        .log_color(Color::Red, &format!("task: invalid method \"{m}\"\n"));
                    return Err(1);
                }
            }
        }
        print!("{}", json(exec, &items, cli));
        // go-task prints the (empty) list, then exits 1 when no task qualified.
        return if items.is_empty() { Err(1) } else { Ok(()) };
    }
    if items.is_empty() {
        if cli.list_all {
            no_tasks(exec, "task: No tasks available\n");
        } else {
            no_tasks(
                exec,
                "task: No tasks with description available. Try --list-all to list all tasks\n",
            );
        }
        return Err(1);
    }
    print!("{}", render_list(&items, exec.printer.color));
    Ok(())
}

/// go-task's ListTasks: each piece printed through its logger colour (fatih/color wraps it
/// in `ESC[<attr>m … ESC[0m`) into the tabwriter, whose widths ignore the escapes.
fn render_list(items: &[(&TaskEntry, String)], color: bool) -> String {
    let paint = |c: Color, s: &str| crate::color::paint_if(color, c, s);
    let mut text = String::new();
    for (e, desc) in items {
        text.push_str(&paint(Color::Yellow, "* "));
        text.push_str(&paint(Color::Green, &e.name));
        // go-task lists a multi-line description on one line: newlines become spaces.
        text.push_str(&paint(
            Color::Default,
            &format!(": \t{}", desc.replace('\n', " ")),
        ));
        if !e.aliases.is_empty() {
            text.push_str(&paint(
                Color::Cyan,
                &format!("\t(aliases: {})", e.aliases.join(", ")),
            ));
        }
        text.push('\n');
    }
    format!(
        "{}{}",
        paint(Color::Default, "task: Available tasks for this project:\n"),
        tabwrite(&text)
    )
}

/// go-task prints "no tasks" notices in yellow.
fn no_tasks(exec: &Executor, msg: &str) {
    exec.printer.out_color(Color::Yellow, msg);
}

/// Printed on stdout before the "does not exist" error, as go-task does.
pub fn list_for_unknown(exec: &Executor) {
    let items = listed(exec, false, "default");
    if items.is_empty() {
        no_tasks(
            exec,
            "task: No tasks with description available. Try --list-all to list all tasks\n",
        );
        return;
    }
    exec.printer
        .out(render_list(&items, exec.printer.color).as_bytes());
}

fn json(exec: &Executor, items: &[(&TaskEntry, String)], cli: &Cli) -> String {
    let tasks = json_tasks(exec, items, cli);
    let mut v = serde_json::Map::new();
    if cli.nested {
        // Root tasks stay in "tasks"; namespaced ones nest under "namespaces" by segment.
        let (root, nested): (Vec<_>, Vec<_>) = items
            .iter()
            .zip(tasks)
            .partition(|((e, _), _)| !e.name.contains(':'));
        v.insert(
            "tasks".into(),
            serde_json::Value::Array(root.into_iter().map(|(_, t)| t).collect()),
        );
        let mut ns = serde_json::Map::new();
        for ((e, _), t) in nested {
            let segs: Vec<&str> = e.name.split(':').collect();
            let mut cur = &mut ns;
            for (i, seg) in segs[..segs.len() - 1].iter().enumerate() {
                let node = cur
                    .entry(seg.to_string())
                    .or_insert_with(|| serde_json::json!({"tasks": []}));
                let obj = node.as_object_mut().expect("namespace node");
                if i == segs.len() - 2 {
                    obj.get_mut("tasks")
                        .and_then(|x| x.as_array_mut())
                        .expect("tasks")
                        .push(t.clone());
                    break;
                }
                cur = obj
                    .entry("namespaces")
                    .or_insert_with(|| serde_json::json!({}))
                    .as_object_mut()
                    .expect("namespaces");
            }
        }
        let mut keys: Vec<String> = ns.keys().cloned().collect();
        keys.sort();
        let sorted: serde_json::Map<String, serde_json::Value> = keys
            .into_iter()
            .map(|k| {
                let v = ns[&k].clone();
                (k, v)
            })
            .collect();
        v.insert("namespaces".into(), serde_json::Value::Object(sorted));
    } else {
        v.insert("tasks".into(), serde_json::Value::Array(tasks));
    }
    v.insert(
        "location".into(),
        exec.compiler
            .project
            .entrypoint
            .display()
            .to_string()
            .into(),
    );
    let s = serde_json::to_string_pretty(&serde_json::Value::Object(v)).unwrap_or_default();
    let mut s = go_json_escape(&s);
    s.push('\n');
    s
}

/// Go's encoding/json escapes `<`, `>`, `&`, U+2028 and U+2029 inside strings; in JSON
/// text those characters only occur inside strings, so replacing them everywhere is exact.
fn go_json_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

fn json_tasks(
    exec: &Executor,
    items: &[(&TaskEntry, String)],
    cli: &Cli,
) -> Vec<serde_json::Value> {
    let mut tasks = vec![];
    for (e, desc) in items {
        // Like go-task: only the sources fingerprint counts here (not `status:`).
        let up_to_date = serde_json::Value::Bool(
            !cli.no_status
                && !e.task.sources.is_empty()
                && exec
                    .sources_up_to_date(&Call {
                        task: e.name.clone(),
                        alias: String::new(),
                        vars: Vars::new(),
                        matches: vec![],
                        silent: false,
                        indirect: false,
                    })
                    .unwrap_or(false),
        );
        // The name is the label, templated with the fast vars (go-task's task.Name()).
        let (label, _, summary) = list_texts(exec, e);
        let name = label.unwrap_or_else(|| e.name.clone());
        let mut obj = serde_json::Map::new();
        obj.insert("name".into(), name.into());
        obj.insert("task".into(), e.name.clone().into());
        obj.insert("desc".into(), desc.clone().into());
        obj.insert("summary".into(), summary.into());
        obj.insert(
            "aliases".into(),
            serde_json::Value::Array(e.aliases.iter().map(|a| a.clone().into()).collect()),
        );
        if !cli.no_status {
            obj.insert("up_to_date".into(), up_to_date);
            // oxtask: only with --cache, whether the shared cache holds the task's outputs.
            let call = Call {
                task: e.name.clone(),
                alias: String::new(),
                vars: Vars::new(),
                matches: vec![],
                silent: false,
                indirect: false,
            };
            if let Some(hit) = exec.cache_hit(&call) {
                obj.insert("cached".into(), hit.into());
            }
        }
        obj.insert(
            "location".into(),
            serde_json::json!({"line": e.task.line, "column": e.task.col, "taskfile": e.origin.taskfile.display().to_string()}),
        );
        tasks.push(serde_json::Value::Object(obj));
    }
    tasks
}

/// `--summary`: go-task's `summary.PrintTask` over the fast-compiled task (no `sh:` runs).
/// A task that fails to compile ends the output there, with exit 0, as in go-task.
pub fn summary(exec: &Executor, names: &[String]) -> Result<(), TaskError> {
    let mut out = String::new();
    for (i, n) in names.iter().enumerate() {
        let (entry, alias, _) = exec.resolve(n)?;
        let call = Call {
            task: entry.name.clone(),
            alias,
            vars: Vars::new(),
            matches: vec![],
            silent: false,
            indirect: false,
        };
        let Ok((ct, sh)) = exec.compiler.compile_fast(&entry, &call) else {
            break;
        };
        if i > 0 {
            let nl = exec.printer.paint(Color::Default, "\n");
            out.push_str(&nl);
            out.push_str(&nl);
        }
        summary_of(exec, &ct, &sh, &mut out);
    }
    exec.printer.out(out.as_bytes());
    Ok(())
}

/// Names go-task's summary never lists: its own variables.
fn special_name(k: &str) -> bool {
    k.starts_with("TASK_")
        || k.starts_with("CLI_")
        || k.starts_with("ROOT_")
        || matches!(
            k,
            "TASK"
                | "TASKFILE"
                | "TASKFILE_DIR"
                | "USER_WORKING_DIR"
                | "ALIAS"
                | "MATCH"
                | "PATH_LIST_SEPARATOR"
                | "FILE_PATH_SEPARATOR"
        )
}

/// go-task's `formatVarValue`: `"%v"` of the value, `sh: CMD`, a map as indented lines.
fn shown_value(v: &template::Value) -> String {
    match v {
        template::Value::Map(m) if m.is_empty() => "{}".to_string(),
        template::Value::Map(m) => {
            let mut s = String::from("\n");
            for (k, val) in m {
                s.push_str(&format!("    {k}: {}\n", template::go_format(val)));
            }
            s
        }
        template::Value::Nil => "\"\"".to_string(),
        other => format!("\"{}\"", template::go_format(other)),
    }
}

fn summary_of(
    exec: &Executor,
    ct: &crate::compile::CompiledTask,
    sh: &std::collections::HashMap<String, String>,
    out: &mut String,
) {
    // internal/summary: each piece is one logger call, coloured on its own.
    let mut put = |c: Color, s: &str| out.push_str(&exec.printer.paint(c, s));
    let t = ct.task();
    let os_env = &exec.compiler.ctx.os_env;
    put(Color::Default, "task: ");
    put(Color::Green, &format!("{}\n", ct.display()));
    put(Color::Default, "\n");
    let text = if !ct.summary.is_empty() {
        &ct.summary
    } else {
        &ct.desc
    };
    if text.is_empty() {
        put(
            Color::Default,
            "(task does not have description or summary)\n",
        );
    } else if !ct.summary.is_empty() {
        // Every line, but not the empty one after a final newline.
        let lines: Vec<&str> = text.split('\n').collect();
        for (i, l) in lines.iter().enumerate() {
            if i + 1 < lines.len() || !l.is_empty() {
                put(Color::Default, &format!("{l}\n"));
            }
        }
    } else {
        put(Color::Default, &format!("{text}\n"));
    }
    let secret = |k: &str| ct.secrets.iter().any(|s| s == k);
    // The compiled env's names (go-task's t.Env): vars of those names are not listed.
    let env_names: Vec<&String> = ct.env_shown.iter().map(|(k, _)| k).collect();
    let listed = |k: &str| !special_name(k) && !os_env.contains_key(k);
    let vars: Vec<(&String, &template::Value)> = ct
        .vars
        .iter()
        .filter(|(k, _)| listed(k) && !env_names.contains(k))
        .collect();
    if !vars.is_empty() {
        put(Color::Default, "\n");
        put(Color::Default, "vars:\n");
        for (k, v) in vars {
            let shown = if secret(k) {
                "*****".to_string()
            } else if let Some(cmd) = sh.get(k.as_str()) {
                format!("sh: {cmd}")
            } else {
                shown_value(v)
            };
            put(Color::Yellow, &format!("  {k}: {shown}\n"));
        }
    }
    let env: Vec<&(String, crate::compile::ShownVar)> =
        ct.env_shown.iter().filter(|(k, _)| listed(k)).collect();
    if !env.is_empty() {
        put(Color::Default, "\n");
        put(Color::Default, "env:\n");
        for (k, v) in env {
            let shown = match v {
                crate::compile::ShownVar::Secret => "*****".to_string(),
                crate::compile::ShownVar::Sh(cmd) => format!("sh: {cmd}"),
                crate::compile::ShownVar::Value(val) => shown_value(val),
            };
            put(Color::Yellow, &format!("  {k}: {shown}\n"));
        }
    }
    if !t.requires.is_empty() {
        put(Color::Default, "\n");
        put(Color::Default, "requires:\n");
        put(Color::Default, "  vars:\n");
        for req in &t.requires {
            match &req.enum_ {
                Some(crate::taskfile::ast::EnumSpec::List(l)) if !l.is_empty() => {
                    put(Color::Yellow, &format!("    - {}:\n", req.name));
                    put(Color::Yellow, "        enum:\n");
                    for e in l {
                        put(Color::Yellow, &format!("          - {e}\n"));
                    }
                }
                Some(crate::taskfile::ast::EnumSpec::Ref(r)) if !r.is_empty() => {
                    put(Color::Yellow, &format!("    - {}:\n", req.name));
                    put(Color::Yellow, "        enum:\n");
                    put(Color::Yellow, &format!("          ref: {r}\n"));
                }
                _ => put(Color::Yellow, &format!("    - {}\n", req.name)),
            }
        }
    }
    if !ct.deps.is_empty() {
        put(Color::Default, "\n");
        put(Color::Default, "dependencies:\n");
        for d in &ct.deps {
            put(Color::Default, &format!(" - {}\n", d.call.task));
        }
    }
    if !entry_aliases(ct).is_empty() {
        put(Color::Default, "\n");
        put(Color::Default, "aliases:\n");
        for a in entry_aliases(ct) {
            put(Color::Default, " - ");
            put(Color::Cyan, &format!("{a}\n"));
        }
    }
    if !ct.cmds.is_empty() {
        put(Color::Default, "\n");
        put(Color::Default, "commands:\n");
        for c in &ct.cmds {
            put(Color::Default, " - ");
            match c {
                // summary.go: a command that templates to nothing prints as a task call.
                crate::compile::CompiledCmd::Shell { cmd, shown, .. }
                    if cmd.is_empty() && shown.is_empty() =>
                {
                    put(Color::Green, "Task: \n")
                }
                crate::compile::CompiledCmd::Shell { shown, .. } => {
                    put(Color::Yellow, &format!("{shown}\n"))
                }
                crate::compile::CompiledCmd::Task { call, .. } => {
                    put(Color::Green, &format!("Task: {}\n", call.task))
                }
            }
        }
    }
}

/// The task's aliases as go-task's merged task holds them (namespaced).
fn entry_aliases(ct: &crate::compile::CompiledTask) -> &[String] {
    &ct.entry.aliases
}
