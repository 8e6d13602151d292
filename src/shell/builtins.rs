//! Builtins run in-process, with mvdan/sh's wording where it differs from bash.

use super::{go_err, Flow, Io, Shell};
use std::os::fd::AsRawFd;
use std::path::{Component, Path, PathBuf};

const NAMES: &[&str] = &[
    "echo",
    "printf",
    "test",
    "[",
    "cd",
    "export",
    "unset",
    "read",
    "true",
    "false",
    ":",
    "pwd",
    "shift",
    "set",
    "exit",
    "return",
    "eval",
    "command",
    "type",
    "local",
    "break",
    "continue",
    "exec",
    "trap",
    "wait",
    "source",
    ".",
    "declare",
    "typeset",
    "readonly",
    "let",
    "shopt",
    "hash",
    "builtin",
    "alias",
    "unalias",
    "times",
    "help",
    "mapfile",
    "readarray",
    "pushd",
    "popd",
    "dirs",
    "getopts",
    "kill",
    "umask",
    "jobs",
    "bg",
    "fg",
    "fc",
    "newgrp",
    "ulimit",
    "bind",
    "caller",
    "compgen",
    "complete",
    "compopt",
    "disown",
    "enable",
    "history",
    "logout",
    "suspend",
];

/// Builtins mvdan knows by name but does not implement: they fail with status 2.
const UNIMPLEMENTED: &[&str] = &[
    "kill", "umask", "jobs", "bg", "fg", "fc", "newgrp", "ulimit", "bind", "caller", "compgen",
    "complete", "compopt", "disown", "enable", "history", "logout", "suspend",
];

pub fn is_builtin(n: &str) -> bool {
    NAMES.contains(&n)
}

pub(super) fn run(sh: &mut Shell, argv: &[String], io: &Io) -> Flow {
    let args = &argv[1..];
    let mut flow = Flow::Next;
    let st = match argv[0].as_str() {
        "true" | ":" | "hash" => 0,
        "help" => super::help::run(args, io),
        "times" => {
            // mvdan reports no CPU times.
            io.out("0m0.000s 0m0.000s\n0m0.000s 0m0.000s\n");
            0
        }
        "builtin" => match args.first() {
            Some(n) if is_builtin(n) && n != "builtin" => {
                flow = run(sh, args, io);
                sh.status
            }
            _ => i32::from(!args.is_empty()),
        },
        "alias" => {
            // mvdan prints the alias's words (as parsed) and a space when it ends in one.
            let show = |n: &str, src: &str| {
                let mut v = src.split_whitespace().collect::<Vec<_>>().join(" ");
                if src.trim_end_matches([' ', '\t']) != src {
                    v.push(' ');
                }
                io.out(&format!("alias {n}='{v}'\n"));
            };
            if args.is_empty() {
                for (n, v) in sh.aliases.iter() {
                    show(n, v);
                }
            }
            for a in args {
                match a.split_once('=') {
                    Some((n, src)) => {
                        if let Err(e) = super::parse::words(src) {
                            io.err(&format!(
                                "alias: could not parse {src:?}: {}\n",
                                e.render(src)
                            ));
                            continue;
                        }
                        std::sync::Arc::make_mut(&mut sh.aliases)
                            .insert(n.to_string(), src.to_string());
                    }
                    None => match sh.aliases.get(a) {
                        Some(v) => {
                            show(a, v);
                        }
                        None => {
                            io.err(&format!("alias: {a:?} not found\n"));
                        }
                    },
                }
            }
            0
        }
        "unalias" => {
            for a in args {
                std::sync::Arc::make_mut(&mut sh.aliases).remove(a);
            }
            0
        }
        "mapfile" | "readarray" => mapfile(sh, &argv[0], args, io),
        "dirs" => {
            io.out(&format!(
                "{}\n",
                sh.dir_stack
                    .iter()
                    .rev()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" ")
            ));
            0
        }
        "pushd" | "popd" => {
            let st = pushd(sh, &argv[0], args, io);
            sh.sync_dirstack();
            st
        }
        "getopts" => getopts(sh, args, io),
        n if UNIMPLEMENTED.contains(&n) => {
            io.err(&format!("{n}: unsupported builtin\n"));
            2
        }
        "false" => 1,
        "echo" => echo(args, io),
        "printf" => printf(args, io),
        "test" => test(sh, args, io),
        "[" => {
            if args.last().map(|s| s.as_str()) != Some("]") {
                let (l, c) = sh.cmd_pos;
                io.err(&format!("{l}:{c}: [: missing matching ]\n"));
                2
            } else {
                test(sh, &args[..args.len() - 1], io)
            }
        }
        "pwd" => {
            // mvdan prints $PWD; -P resolves symlinks, -L (default) does not
            let mut physical = false;
            for a in args {
                match a.as_str() {
                    "-L" => physical = false,
                    "-P" => physical = true,
                    o => {
                        io.err(&format!("invalid option: {o:?}\n"));
                        sh.status = 2;
                        return Flow::Next;
                    }
                }
            }
            let pwd = sh
                .get("PWD")
                .unwrap_or_else(|| sh.cwd.display().to_string());
            if physical {
                match std::fs::canonicalize(&pwd) {
                    Ok(p) => {
                        io.out(&format!("{}\n", p.display()));
                    }
                    Err(e) => {
                        io.err(&format!("{}\n", super::go_err(&e)));
                        sh.status = 1;
                        return Flow::Next;
                    }
                }
            } else {
                io.out(&format!("{pwd}\n"));
            }
            0
        }
        "cd" => cd(sh, args, io),
        "export" if !sh.decl_arrays.is_empty() || args.iter().any(|a| a.starts_with('-')) => {
            declare(sh, "export", args, io)
        }
        "export" => {
            for a in args.iter().filter(|a| !a.starts_with('-')) {
                match a.split_once('=') {
                    // `export a+=v` appends to the value.
                    Some((n, v)) if n.ends_with('+') => {
                        let n = &n[..n.len() - 1];
                        let v = sh.get(n).unwrap_or_default() + v;
                        sh.vars.insert(n.to_string(), super::Var::str(v, true));
                    }
                    Some((n, v)) => {
                        sh.vars
                            .insert(n.to_string(), super::Var::str(v.to_string(), true));
                    }
                    None => {
                        if let Some(v) = sh.vars.get_mut(a) {
                            v.exported = true;
                        } else {
                            sh.vars
                                .insert(a.clone(), super::Var::str(String::new(), true));
                        }
                    }
                }
            }
            0
        }
        "local" | "declare" | "typeset" | "readonly" => declare(sh, &argv[0], args, io),
        "let" => {
            let mut st = 1;
            for a in args {
                match super::arith::eval(a, sh) {
                    Ok(n) => st = (n == 0) as i32,
                    Err(m) => {
                        io.err(&format!("{m}\n"));
                        st = 1;
                        break;
                    }
                }
            }
            st
        }
        "shopt" => shopt(sh, args, io),
        "trap" => trap(sh, args, io),
        "wait" => {
            if let Some(f) = args.iter().find(|a| a.starts_with('-')) {
                let what = if matches!(f.get(..2), Some("-n" | "-p")) {
                    "unsupported"
                } else {
                    "invalid"
                };
                io.err(&format!(
                    "wait: {what} option {:?}\n",
                    f.get(..2).unwrap_or(f)
                ));
                2
            } else if args.is_empty() {
                for j in sh.jobs.clone() {
                    j.wait();
                }
                0
            } else {
                let mut st = 0;
                for a in args {
                    let n = a.strip_prefix('g').and_then(|n| n.parse::<usize>().ok());
                    match n.filter(|n| *n >= 1 && *n <= sh.jobs.len()) {
                        Some(n) => st = sh.jobs[n - 1].clone().wait(),
                        None => {
                            io.err(&format!(
                                "wait: pid {} is not a child of this shell\n",
                                a.strip_prefix('g').unwrap_or(a)
                            ));
                            st = 1;
                            break;
                        }
                    }
                }
                st
            }
        }
        "source" | "." => {
            let (st, f) = source(sh, args, io);
            flow = f;
            st
        }
        "unset" => {
            // mvdan: no flag unsets the variable, or else the function, of that name.
            let (vars, funcs, names) = match args.first().map(|s| s.as_str()) {
                Some("-f") => (false, true, &args[1..]),
                Some("-v") => (true, false, &args[1..]),
                _ => (true, true, args),
            };
            for n in names {
                if let Some((a, sub)) = n
                    .strip_suffix(']')
                    .and_then(|m| m.split_once('['))
                    .filter(|(a, _)| vars && super::parse::is_name(a))
                {
                    // mvdan reports a bad subscript but unset's status stays 0.
                    unset_elem(sh, a, sub, io);
                    continue;
                }
                if vars && sh.readonly.contains(n) {
                    // mvdan's delVar reports it; unset's own status stays 0.
                    io.err(&format!("{n}: readonly variable\n"));
                } else if vars && sh.vars.contains_key(n) {
                    sh.vars.remove(n);
                } else if funcs {
                    sh.funcs.remove(n);
                }
            }
            0
        }
        "read" => read(sh, args, io),
        "exec" if args.is_empty() => {
            // Its redirections (already applied to `io`) stay for the rest of the script.
            sh.exec_io = Some(io.clone());
            0
        }
        "exec" => {
            // mvdan runs it as a program (never a builtin or function) and the script ends
            // with its status.
            flow = Flow::Exit;
            sh.external(args, &[], io)
        }
        "break" | "continue" => {
            if sh.loops == 0 {
                // mvdan's wording; the status stays 0.
                io.err(&format!("{} is only useful in a loop\n", argv[0]));
                0
            } else {
                let n = args
                    .first()
                    .and_then(|s| s.parse::<u32>().ok())
                    .unwrap_or(1)
                    .max(1);
                let n = n.min(sh.loops);
                flow = if argv[0] == "break" {
                    Flow::Break(n)
                } else {
                    Flow::Continue(n)
                };
                0
            }
        }
        "shift" => {
            // mvdan: shifting past the end empties the parameters, without an error.
            let n = match args {
                [] => Some(1),
                [a] => a.parse::<usize>().ok(),
                _ => None,
            };
            match n {
                Some(n) => {
                    let n = n.min(sh.pos.len());
                    sh.pos.drain(..n);
                    0
                }
                None => {
                    io.err("usage: shift [n]\n");
                    2
                }
            }
        }
        "set" => set(sh, args, io),
        "exit" | "return" => {
            let ret = argv[0] == "return";
            if ret && sh.in_func == 0 {
                io.err("return: can only be done from a func or sourced script\n");
                sh.status = 1;
                return Flow::Next;
            }
            if args.len() > 1 {
                // mvdan: the builtin fails and nothing exits or returns
                if ret {
                    io.err("return: too many arguments\n");
                    sh.status = 2;
                } else {
                    io.err("exit cannot take multiple arguments\n");
                    sh.status = 1;
                }
                return Flow::Next;
            }
            let code = match args.first() {
                // mvdan: `exit` keeps the last status, `return` returns 0
                None if ret => 0,
                None => sh.status,
                Some(s) => match s.parse::<i64>() {
                    Ok(n) => (n & 0xff) as i32,
                    Err(_) => {
                        let what = if ret { "return" } else { "exit" };
                        io.err(&format!("invalid {what} status code: {s:?}\n"));
                        2
                    }
                },
            };
            if argv[0] == "return" && sh.in_func == 0 {
                io.err("return: can only be done from a func or sourced script\n");
                sh.status = 1;
                return Flow::Next;
            }
            flow = if argv[0] == "return" {
                Flow::Return
            } else {
                Flow::Exit
            };
            code
        }
        "eval" => {
            let src = args.join(" ");
            match super::parse::parse(&src) {
                Ok(l) => {
                    sh.status = 0;
                    flow = sh.exec_list(&l, io);
                    sh.status
                }
                Err(e) => {
                    io.err(&format!("eval: {}\n", e.render(&src)));
                    1
                }
            }
        }
        "command"
            if args
                .first()
                .is_some_and(|a| a.starts_with('-') && a != "-v" && a != "-" && a != "--") =>
        {
            io.err(&format!("command: invalid option {:?}\n", args[0]));
            2
        }
        "command" => {
            if args.first().map(|s| s.as_str()) == Some("-v") {
                let mut st = 0;
                for n in &args[1..] {
                    if is_builtin(n) || sh.funcs.contains_key(n) {
                        io.out(&format!("{n}\n"));
                    } else {
                        match sh.look_path(n) {
                            Ok(p) => {
                                io.out(&format!("{}\n", p.display()));
                            }
                            Err(_) => st = 1,
                        }
                    }
                }
                st
            } else if args.is_empty() {
                0
            } else {
                flow = sh.call(args, vec![], io, false);
                sh.status
            }
        }
        "type" => type_builtin(sh, args, io),
        _ => 127,
    };
    sh.status = st;
    flow
}

/// `type [-p|-P|-t] NAME…` as go-task's mvdan answers it: keyword, alias (with
/// expand_aliases), function, builtin, then a program on PATH; `-a`/`-f` are not
/// implemented there (status 3).
fn type_builtin(sh: &mut Shell, args: &[String], io: &Io) -> i32 {
    let mut mode = "";
    let mut k = 0;
    while k < args.len() && args[k].starts_with('-') && args[k].len() > 1 {
        match args[k].as_str() {
            "--" => {
                k += 1;
                break;
            }
            "-a" | "-f" | "--help" => {
                io.err("type: NOT IMPLEMENTED\n");
                return 3;
            }
            "-p" | "-P" | "-t" => mode = if args[k] == "-t" { "-t" } else { "-p" },
            o => {
                io.err(&format!("type: invalid option {o:?}\n"));
                return 2;
            }
        }
        k += 1;
    }
    let mut not_found = false;
    for n in &args[k..] {
        if mode == "-p" {
            match sh.look_path(n) {
                Ok(p) => {
                    io.out(&format!("{}\n", p.display()));
                }
                Err(_) => not_found = true,
            }
            continue;
        }
        let (kind, text) = if super::parse::is_keyword(n) {
            ("keyword", format!("{n} is a shell keyword"))
        } else if let Some(a) = sh.aliases.get(n).filter(|_| sh.opts.expand_aliases) {
            ("alias", format!("{n} is aliased to `{}'", a.trim_end()))
        } else if sh.funcs.contains_key(n) {
            ("function", format!("{n} is a function"))
        } else if is_builtin(n) {
            ("builtin", format!("{n} is a shell builtin"))
        } else if let Ok(p) = sh.look_path(n) {
            ("file", format!("{n} is {}", p.display()))
        } else {
            if mode != "-t" {
                io.err(&format!("type: {n}: not found\n"));
            }
            not_found = true;
            continue;
        };
        io.out(&format!(
            "{}\n",
            if mode == "-t" { kind.to_string() } else { text }
        ));
    }
    i32::from(not_found)
}

fn echo(args: &[String], io: &Io) -> i32 {
    // mvdan: only the words -n, -e and -E are options (`-ne` is printed)
    let mut nl = true;
    let mut esc = false;
    let mut k = 0;
    while k < args.len() {
        match args[k].as_str() {
            "-n" => nl = false,
            "-e" => esc = true,
            "-E" => {}
            _ => break,
        }
        k += 1;
    }
    let mut s = String::new();
    for (i, a) in args[k..].iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        if esc {
            // mvdan's echo -e is expand.Format without arguments
            match format(a, None) {
                Ok((t, _)) => s.push_str(&t),
                Err(_) => s.push_str(a),
            }
        } else {
            s.push_str(a);
        }
    }
    if nl {
        s.push('\n');
    }
    io.out(&s);
    0
}

fn printf(args: &[String], io: &Io) -> i32 {
    let Some(fmt) = args.first() else {
        io.err("usage: printf format [arguments]\n");
        return 2;
    };
    let mut rest = &args[1..];
    // mvdan's printf: the format is reused while arguments remain and some were consumed.
    loop {
        match format(fmt, Some(rest)) {
            Ok((s, n)) => {
                io.out(&s);
                rest = &rest[n..];
                if n == 0 || rest.is_empty() {
                    return 0;
                }
            }
            Err(m) => {
                io.err(&format!("{m}\n"));
                return 1;
            }
        }
    }
}

/// mvdan's `expand.Format`: escapes, and with `args` the directives `%% %c %s %b %d %i %u
/// %o %x` with one flag (`+ - space`) and digits; anything else is an error.
fn format(f: &str, args: Option<&[String]>) -> Result<(String, usize), String> {
    let b = f.as_bytes();
    let mut out: Vec<u8> = vec![];
    let mut fmts: Vec<u8> = vec![];
    let mut used = 0;
    let next = |used: &mut usize| -> String {
        let a = args.and_then(|a| a.get(*used)).cloned();
        if a.is_some() {
            *used += 1;
        }
        a.unwrap_or_default()
    };
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'\\' {
            i += 1;
            if i >= b.len() {
                out.push(b'\\');
                break;
            }
            let e = b[i];
            let digits = |i: &mut usize, max: usize, hex: bool| {
                let st = *i;
                while *i < b.len()
                    && *i - st < max
                    && (b[*i].is_ascii_digit() || (hex && b[*i].is_ascii_hexdigit()))
                {
                    *i += 1;
                }
                let d = std::str::from_utf8(&b[st..*i]).unwrap_or("").to_string();
                *i -= 1;
                d
            };
            match e {
                b'a' => out.push(7),
                b'b' => out.push(8),
                b'e' | b'E' => out.push(0x1b),
                b'f' => out.push(0xc),
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b't' => out.push(b'\t'),
                b'v' => out.push(0xb),
                b'\\' | b'\'' | b'"' | b'?' => out.push(e),
                b'0'..=b'7' => {
                    let d = digits(&mut i, 3, false);
                    // strconv.ParseUint(d, 8, 8): too large is 0xff, a digit 8 or 9 is 0
                    out.push(match u16::from_str_radix(&d, 8) {
                        Ok(v) => v.min(255) as u8,
                        Err(_) => 0,
                    });
                }
                b'x' | b'u' | b'U' => {
                    i += 1;
                    let max = match e {
                        b'u' => 4,
                        b'U' => 8,
                        _ => 2,
                    };
                    let d = digits(&mut i, max, true);
                    if d.is_empty() {
                        out.push(b'\\');
                        out.push(e);
                    } else {
                        let n = u32::from_str_radix(&d, 16).unwrap_or(0);
                        if e == b'x' {
                            out.push(n as u8);
                        } else {
                            let mut t = [0u8; 4];
                            out.extend_from_slice(
                                char::from_u32(n)
                                    .unwrap_or('\u{fffd}')
                                    .encode_utf8(&mut t)
                                    .as_bytes(),
                            );
                        }
                    }
                }
                _ => {
                    out.push(b'\\');
                    out.push(e);
                }
            }
        } else if !fmts.is_empty() {
            match c {
                b'%' => {
                    out.push(b'%');
                    fmts.clear();
                }
                b'c' => {
                    let a = next(&mut used);
                    out.push(a.bytes().next().unwrap_or(0));
                    fmts.clear();
                }
                b'+' | b'-' | b' ' => {
                    if fmts.len() > 1 {
                        return Err(format!("invalid format char: {}", c as char));
                    }
                    fmts.push(c);
                }
                b'0'..=b'9' => fmts.push(c),
                b's' | b'b' | b'd' | b'i' | b'u' | b'o' | b'x' => {
                    let a = next(&mut used);
                    let spec = std::str::from_utf8(&fmts[1..]).unwrap_or("").to_string();
                    let body = match c {
                        b'b' => {
                            let (t, _) = format(&a, None)?;
                            out.extend_from_slice(t.as_bytes());
                            fmts.clear();
                            i += 1;
                            continue;
                        }
                        b's' => a,
                        _ => {
                            let n = go_parse_int(&a);
                            match c {
                                b'o' => format!("{:o}", n as u64),
                                b'x' => format!("{:x}", n as u64),
                                b'u' => (n as u64).to_string(),
                                _ => n.to_string(),
                            }
                        }
                    };
                    out.extend_from_slice(
                        go_pad(
                            &spec,
                            body,
                            c != b's' && c != b'o' && c != b'x' && c != b'u',
                        )
                        .as_bytes(),
                    );
                    fmts.clear();
                }
                _ => return Err(format!("invalid format char: {}", c as char)),
            }
        } else if args.is_some() && c == b'%' {
            fmts.push(c);
        } else {
            out.push(c);
        }
        i += 1;
    }
    if !fmts.is_empty() {
        return Err("missing format char".into());
    }
    Ok((String::from_utf8_lossy(&out).into_owned(), used))
}

/// strconv.ParseInt(s, 0, 0): base prefixes, 0 on a syntax error, out of range saturated.
fn go_parse_int(s: &str) -> i64 {
    use std::num::IntErrorKind;
    let (neg, d) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let d = d.replace('_', "");
    let v = if let Some(h) = d.strip_prefix("0x").or_else(|| d.strip_prefix("0X")) {
        u64::from_str_radix(h, 16)
    } else if let Some(o) = d.strip_prefix("0o").or_else(|| d.strip_prefix("0O")) {
        u64::from_str_radix(o, 8)
    } else if let Some(b) = d.strip_prefix("0b").or_else(|| d.strip_prefix("0B")) {
        u64::from_str_radix(b, 2)
    } else if d.len() > 1 && d.starts_with('0') {
        u64::from_str_radix(&d[1..], 8)
    } else {
        d.parse()
    };
    let v = match v {
        Ok(v) => i128::from(v),
        Err(e) if *e.kind() == IntErrorKind::PosOverflow => i128::from(u64::MAX),
        Err(_) => return 0,
    };
    let v = if neg { -v } else { v };
    v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// Go's fmt width and flags (`-`, `0`, `+`, space) applied to a formatted value.
fn go_pad(spec: &str, mut body: String, signed: bool) -> String {
    let flags: String = spec.chars().take_while(|c| "+- 0".contains(*c)).collect();
    let width: usize = spec[flags.len()..].parse().unwrap_or(0);
    let left = flags.contains('-');
    if signed && !body.starts_with('-') {
        if flags.contains('+') {
            body.insert(0, '+');
        } else if flags.contains(' ') {
            body.insert(0, ' ');
        }
    }
    let n = body.chars().count();
    if n >= width {
        return body;
    }
    let pad = width - n;
    if left {
        body + &" ".repeat(pad)
    } else if flags.contains('0') && signed {
        let (sign, digits) = if body.starts_with(['-', '+', ' ']) {
            body.split_at(1)
        } else {
            ("", body.as_str())
        };
        format!("{sign}{}{digits}", "0".repeat(pad))
    } else if flags.contains('0') {
        "0".repeat(pad) + &body
    } else {
        " ".repeat(pad) + &body
    }
}

pub(super) fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

fn cd(sh: &mut Shell, args: &[String], io: &Io) -> i32 {
    if args.len() > 1 {
        io.err("usage: cd [dir]\n");
        return 2;
    }
    let mut print = false;
    let target = match args.first().map(|s| s.as_str()) {
        None => sh.get("HOME").unwrap_or_default(),
        Some("-") => {
            print = true;
            let t = sh.get("OLDPWD").unwrap_or_default();
            if t.is_empty() {
                io.out("\n");
            }
            t
        }
        Some(t) => t.to_string(),
    };
    if target.is_empty() {
        io.err("cd: empty directory path\n");
        return 1;
    }
    let dir = normalize(&sh.cwd.join(&target));
    match std::fs::metadata(&dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            // mvdan reports a file the same way as a missing directory.
            io.err(&format!("cd: no such file or directory: {target:?}\n"));
            return 1;
        }
        Err(e) => {
            io.err(&format!("cd: {}: {target:?}\n", go_err(&e)));
            return 1;
        }
    }
    let old = sh.cwd.to_string_lossy().into_owned();
    sh.set_var("OLDPWD", old);
    sh.cwd = dir;
    sh.set_var("PWD", sh.cwd.to_string_lossy().into_owned());
    if print {
        io.out(&format!("{}\n", sh.cwd.display()));
    }
    0
}

fn read(sh: &mut Shell, args: &[String], io: &Io) -> i32 {
    let mut raw = false;
    let mut array = false;
    let mut k = 0;
    while k < args.len() && args[k].starts_with('-') && args[k].len() > 1 {
        if args[k] == "--" {
            k += 1;
            break;
        }
        let flags: Vec<char> = args[k][1..].chars().collect();
        for (j, c) in flags.iter().enumerate() {
            match c {
                'r' => raw = true,
                'a' => array = true,
                // No terminal echo to turn off: stdin is never a terminal here.
                's' => {}
                'p' => {
                    let rest: String = flags[j + 1..].iter().collect();
                    let prompt = if !rest.is_empty() {
                        rest
                    } else {
                        k += 1;
                        args.get(k).cloned().unwrap_or_default()
                    };
                    if prompt.is_empty() {
                        io.err("read: -p: option requires an argument\n");
                        return 2;
                    }
                    io.out(&prompt);
                    break;
                }
                _ => {
                    io.err(&format!("read: invalid option \"-{c}\"\n"));
                    return 2;
                }
            }
        }
        k += 1;
    }
    for n in &args[k..] {
        if !super::parse::is_name(n) {
            io.err(&format!("read: invalid identifier {n:?}\n"));
            return 2;
        }
    }
    let mut names: Vec<&String> = args[k..].iter().collect();
    let reply = "REPLY".to_string();
    if names.is_empty() {
        names.push(&reply);
    }
    let fd = io.fds[0].as_raw_fd();
    let mut line = vec![];
    let mut eof = false;
    loop {
        let mut b = [0u8; 1];
        let n = unsafe { libc::read(fd, b.as_mut_ptr().cast(), 1) };
        if n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        if n <= 0 {
            eof = true;
            break;
        }
        if b[0] == b'\n' {
            if !raw && line.last() == Some(&b'\\') {
                line.pop();
                continue;
            }
            break;
        }
        line.push(b[0]);
    }
    let s = String::from_utf8_lossy(&line).into_owned();
    let ifs = sh.get("IFS").unwrap_or_else(|| " \t\n".into());
    if array {
        // All the fields into one indexed array (REPLY when no name is given).
        let fields = read_fields(&ifs, &s, -1, raw);
        sh.set_array(names[0], fields.into_iter().map(Some).collect());
        return if eof { 1 } else { 0 };
    }
    if args[k..].is_empty() {
        // bare `read`: the whole line in REPLY, untrimmed, backslashes dropped unless -r
        let mut val = String::new();
        let mut esc = false;
        for c in s.chars() {
            if c == '\\' && !esc && !raw {
                esc = true;
                continue;
            }
            val.push(c);
            esc = false;
        }
        sh.set_var("REPLY", val);
    } else {
        let values = read_fields(&ifs, &s, names.len() as i64, raw);
        for (i, n) in names.iter().enumerate() {
            sh.set_var(n, values.get(i).cloned().unwrap_or_default());
        }
    }
    // End of input reports failure even when a partial last line was read.
    i32::from(eof)
}

/// mvdan's `expand.ReadFields`: fields separated by runs of IFS characters (whitespace or
/// not), a backslash escaping the next character unless `raw`; with `n` fields at most, the
/// last one runs to the end of the last field (`n == 1`: the line minus IFS whitespace at
/// both ends).
fn read_fields(ifs: &str, s: &str, n: i64, raw: bool) -> Vec<String> {
    let is_ifs = |c: char| ifs.contains(c);
    let ifs_ws = |c: char| matches!(c, ' ' | '\t' | '\n') && is_ifs(c);
    let mut runes: Vec<char> = Vec::with_capacity(s.len());
    let mut fpos: Vec<(usize, Option<usize>)> = Vec::new();
    let mut infield = false;
    let mut esc = false;
    for c in s.chars() {
        if infield {
            if is_ifs(c) && (raw || !esc) {
                if let Some(last) = fpos.last_mut() {
                    last.1 = Some(runes.len());
                }
                infield = false;
            }
        } else if !is_ifs(c) && (raw || !esc) {
            fpos.push((runes.len(), None));
            infield = true;
        }
        if c == '\\' {
            if raw || esc {
                runes.push(c);
            }
            esc = !esc;
            continue;
        }
        runes.push(c);
        esc = false;
    }
    if fpos.is_empty() {
        return vec![];
    }
    if infield {
        if let Some(last) = fpos.last_mut() {
            last.1 = Some(runes.len());
        }
    }
    let mut fpos: Vec<(usize, usize)> = fpos
        .into_iter()
        .map(|(a, b)| (a, b.unwrap_or(runes.len())))
        .collect();
    if n == 1 {
        let (mut lo, mut hi) = (0, runes.len());
        while lo < fpos[0].0 && ifs_ws(runes[lo]) {
            lo += 1;
        }
        while hi > fpos[fpos.len() - 1].1 && ifs_ws(runes[hi - 1]) {
            hi -= 1;
        }
        fpos = vec![(lo, hi)];
    } else if n != -1 && (n as usize) < fpos.len() {
        let end = fpos[fpos.len() - 1].1;
        fpos[n as usize - 1].1 = end;
        fpos.truncate(n as usize);
    }
    fpos.iter()
        .map(|&(a, b)| runes[a..b].iter().collect())
        .collect()
}

fn set(sh: &mut Shell, args: &[String], io: &Io) -> i32 {
    let mut k = 0;
    while k < args.len() {
        let a = &args[k];
        if a == "--" {
            sh.pos = args[k + 1..].to_vec();
            sh.set_params = true;
            return 0;
        }
        if a == "-" {
            // `set -` turns xtrace off; the words after it are the parameters
            sh.opts.xtrace = false;
            if k + 1 < args.len() {
                sh.pos = args[k + 1..].to_vec();
                sh.set_params = true;
            }
            return 0;
        }
        let on = a.starts_with('-');
        if !(on || a.starts_with('+')) || a.len() < 2 {
            sh.pos = args[k..].to_vec();
            sh.set_params = true;
            return 0;
        }
        if &a[1..] == "o" {
            k += 1;
            let Some(name) = args.get(k) else {
                // `set -o` lists the options as "name\ton"; `set +o` as commands.
                for (n, v) in posix_opts(sh) {
                    if on {
                        io.out(&format!("{n}\t{}\n", if v { "on" } else { "off" }));
                    } else {
                        io.out(&format!("set {}o {n}\n", if v { "-" } else { "+" }));
                    }
                }
                return 0;
            };
            if !sh.opts.set_posix(name, on) {
                io.err(&format!("set: invalid option: {name:?}\n"));
                return 2;
            }
        } else {
            for c in a[1..].chars() {
                if !"eufaxn".contains(c) || !sh.opts.set_posix(&c.to_string(), on) {
                    io.err(&format!("set: invalid option: \"{}{c}\"\n", &a[..1]));
                    return 2;
                }
            }
        }
        k += 1;
    }
    0
}

/// `test` / `[`, as mvdan: its testParser builds an expression from the arguments (every
/// parse error is printed, at the command's position, and the status is 2), then
/// bashTest evaluates it in the classic mode.
fn test(sh: &Shell, args: &[String], io: &Io) -> i32 {
    let mut p = TestParser {
        rem: args,
        val: String::new(),
        eof: false,
        errs: vec![],
    };
    p.next();
    let e = p.classic("[", false);
    if !p.errs.is_empty() {
        let (l, c) = sh.cmd_pos;
        for m in p.errs {
            io.err(&format!("{l}:{c}: {m}\n"));
        }
        return 2;
    }
    i32::from(e.map(|e| e.eval(sh)).unwrap_or_default().is_empty())
}

/// An expression of `test`'s arguments (mvdan's syntax.TestExpr of the classic parser).
enum ClassicTest {
    Word(String),
    Not(Option<Box<ClassicTest>>),
    Paren(Option<Box<ClassicTest>>),
    Unary(&'static str, Box<ClassicTest>),
    Binary(String, Box<ClassicTest>, Option<Box<ClassicTest>>),
}

impl ClassicTest {
    /// bashTest: "1" for true, "" for false, a word's own text.
    fn eval(&self, sh: &Shell) -> String {
        let truth = |b: bool| if b { "1".to_string() } else { String::new() };
        let ev = |e: &Option<Box<ClassicTest>>| e.as_ref().map(|e| e.eval(sh)).unwrap_or_default();
        match self {
            ClassicTest::Word(w) => w.clone(),
            ClassicTest::Paren(x) => ev(x),
            ClassicTest::Not(x) => truth(ev(x).is_empty()),
            ClassicTest::Unary(op, x) => truth(unary_test(sh, op, &x.eval(sh)).unwrap_or(false)),
            ClassicTest::Binary(op, x, y) => {
                let (a, b) = (x.eval(sh), ev(y));
                truth(
                    binary_test(sh, &a, op, &b)
                        .and_then(|r| r.ok())
                        .unwrap_or(false),
                )
            }
        }
    }
}

struct TestParser<'a> {
    rem: &'a [String],
    val: String,
    eof: bool,
    errs: Vec<String>,
}

impl TestParser<'_> {
    fn next(&mut self) {
        match self.rem.split_first() {
            Some((v, rest)) if !self.eof => {
                self.val = v.clone();
                self.rem = rest;
            }
            _ => {
                self.eof = true;
                self.val = String::new();
            }
        }
    }

    fn follow_word(&mut self, fval: &str) -> Box<ClassicTest> {
        if self.eof {
            self.errs.push(format!("{fval} must be followed by a word"));
        }
        let w = Box::new(ClassicTest::Word(self.val.clone()));
        self.next();
        w
    }

    fn classic(&mut self, fval: &str, past_and_or: bool) -> Option<Box<ClassicTest>> {
        let left = if past_and_or {
            self.base(fval)
        } else {
            self.classic(fval, true)
        };
        let left = left?;
        if self.eof || self.val == ")" {
            return Some(left);
        }
        let op = self.val.clone();
        const BINARY: &[&str] = &[
            "-a", "-o", "==", "=", "!=", "-nt", "-ot", "-ef", "-eq", "-ne", "-le", "-ge", "-lt",
            "-gt",
        ];
        if !BINARY.contains(&op.as_str()) {
            self.errs
                .push(format!("not a valid test operator: {}", go_quote(&op)));
        }
        self.next();
        let y = if op == "-a" || op == "-o" {
            let y = self.classic(&op, false);
            if y.is_none() {
                self.errs
                    .push(format!("{op} must be followed by an expression"));
            }
            y
        } else {
            Some(self.follow_word(&op))
        };
        Some(Box::new(ClassicTest::Binary(op, left, y)))
    }

    fn base(&mut self, fval: &str) -> Option<Box<ClassicTest>> {
        if self.eof || self.val == ")" {
            return None;
        }
        let op = match self.val.as_str() {
            "!" => {
                self.next();
                return Some(Box::new(ClassicTest::Not(self.classic("!", false))));
            }
            "(" => {
                self.next();
                let x = self.classic("(", false);
                if self.val != ")" {
                    self.errs.push(format!(
                        "reached {} without matching '(' with ')'",
                        self.val
                    ));
                }
                self.next();
                return Some(Box::new(ClassicTest::Paren(x)));
            }
            "-e" | "-a" => "-e",
            "-L" | "-h" => "-L",
            v => match UNARY_TESTS.iter().find(|o| **o == v) {
                Some(o) => o,
                None => return Some(self.follow_word(fval)),
            },
        };
        self.next();
        if self.eof {
            // `[ -e ]` is `[ -n -e ]`: the operator is the argument.
            return Some(Box::new(ClassicTest::Word(op.to_string())));
        }
        let x = self.follow_word(op);
        Some(Box::new(ClassicTest::Unary(op, x)))
    }
}

/// The unary test operators of `test` and `[[ ]]` (mvdan's testUnaryOp, `-a` and `-h`
/// aside).
pub(super) const UNARY_TESTS: &[&str] = &[
    "-e", "-f", "-d", "-c", "-b", "-p", "-S", "-L", "-k", "-g", "-u", "-G", "-O", "-N", "-r", "-w",
    "-x", "-s", "-t", "-z", "-n", "-o", "-v", "-R",
];

/// Go's `%#q` of a string: backquoted when it can be.
pub(super) fn go_quote(s: &str) -> String {
    if s.contains('`') || s.chars().any(char::is_control) {
        format!("{s:?}")
    } else {
        format!("`{s}`")
    }
}

/// mvdan's atoi: strconv.ParseInt(strings.TrimSpace(s), 10, 64), its error ignored (a
/// number out of range saturates, anything else is 0).
pub(super) fn go_atoi(s: &str) -> i64 {
    use std::num::IntErrorKind;
    match s.trim().parse::<i64>() {
        Ok(n) => n,
        Err(e) => match e.kind() {
            IntErrorKind::PosOverflow => i64::MAX,
            IntErrorKind::NegOverflow => i64::MIN,
            _ => 0,
        },
    }
}

pub(super) fn unary_test(sh: &Shell, op: &str, x: &str) -> Result<bool, String> {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let p = sh.cwd.join(x);
    let md = || std::fs::metadata(&p);
    let access = |mode: i32| {
        let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap_or_default();
        unsafe { libc::access(c.as_ptr(), mode) == 0 }
    };
    // mvdan stats "" itself: no file test holds for an empty path
    if x.is_empty() && !matches!(op, "-n" | "-z" | "-o" | "-v" | "-R" | "-t") {
        return Ok(false);
    }
    use std::os::unix::fs::MetadataExt;
    Ok(match op {
        "-o" => sh.opts.get_posix(x).unwrap_or(false),
        "-v" => sh.var(x).is_some() || sh.lookup(x).is_some(),
        "-R" => sh.vars.get(x).is_some_and(|v| v.nameref),
        // mvdan compares with user.Current()'s ids.
        "-O" => md().is_ok_and(|m| m.uid() == unsafe { libc::getuid() }),
        "-G" => md().is_ok_and(|m| m.gid() == unsafe { libc::getgid() }),
        "-N" => md().is_ok_and(|m| (m.mtime(), m.mtime_nsec()) > (m.atime(), m.atime_nsec())),
        "-n" => !x.is_empty(),
        "-z" => x.is_empty(),
        "-e" => md().is_ok(),
        "-f" => md().is_ok_and(|m| m.is_file()),
        "-d" => md().is_ok_and(|m| m.is_dir()),
        "-s" => md().is_ok_and(|m| m.len() > 0),
        "-L" | "-h" => std::fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink()),
        "-p" => md().is_ok_and(|m| m.file_type().is_fifo()),
        "-S" => md().is_ok_and(|m| m.file_type().is_socket()),
        "-b" => md().is_ok_and(|m| m.file_type().is_block_device()),
        "-c" => md().is_ok_and(|m| m.file_type().is_char_device()),
        "-r" => access(libc::R_OK),
        "-w" => access(libc::W_OK),
        "-x" => access(libc::X_OK),
        "-u" => md().is_ok_and(|m| m.permissions().mode() & 0o4000 != 0),
        "-g" => md().is_ok_and(|m| m.permissions().mode() & 0o2000 != 0),
        "-k" => md().is_ok_and(|m| m.permissions().mode() & 0o1000 != 0),
        "-t" => x
            .parse::<i32>()
            .is_ok_and(|fd| unsafe { libc::isatty(fd) } == 1),
        _ => return Err(format!("unknown unary operator {op}")),
    })
}

pub(super) fn binary_test(sh: &Shell, l: &str, op: &str, r: &str) -> Option<Result<bool, String>> {
    let num = |s: &str| -> Result<i64, String> { Ok(go_atoi(s)) };
    let mtime = |s: &str| {
        std::fs::metadata(sh.cwd.join(s))
            .and_then(|m| m.modified())
            .ok()
    };
    Some(match op {
        "=" | "==" => Ok(l == r),
        "!=" => Ok(l != r),
        "<" => Ok(l < r),
        ">" => Ok(l > r),
        "-eq" | "-ne" | "-lt" | "-le" | "-gt" | "-ge" => (|| {
            let (a, b) = (num(l)?, num(r)?);
            Ok(match op {
                "-eq" => a == b,
                "-ne" => a != b,
                "-lt" => a < b,
                "-le" => a <= b,
                "-gt" => a > b,
                _ => a >= b,
            })
        })(),
        "-nt" => Ok(match (mtime(l), mtime(r)) {
            (Some(a), Some(b)) => a > b,
            (Some(_), None) => true,
            _ => false,
        }),
        "-ot" => Ok(match (mtime(l), mtime(r)) {
            (Some(a), Some(b)) => a < b,
            (None, Some(_)) => true,
            _ => false,
        }),
        "-ef" => {
            use std::os::unix::fs::MetadataExt;
            let id = |s: &str| {
                std::fs::metadata(sh.cwd.join(s))
                    .map(|m| (m.dev(), m.ino()))
                    .ok()
            };
            Ok(matches!((id(l), id(r)), (Some(a), Some(b)) if a == b))
        }
        "-a" => Ok(!l.is_empty() && !r.is_empty()),
        "-o" => Ok(!l.is_empty() || !r.is_empty()),
        _ => return None,
    })
}

/// `declare`, `typeset`, `local`, `readonly`, `export` with flags (`-x -r -g -a -A -n -p
/// -f`) and array literals (`declare -a a=(…)`), as mvdan's DeclClause.
fn declare(sh: &mut Shell, name: &str, args: &[String], io: &Io) -> i32 {
    let arrays = std::mem::take(&mut sh.decl_arrays);
    let in_func = sh.in_func > 0;
    if name == "local" && !in_func {
        io.err("local: can only be used in a function\n");
        return 1;
    }
    let mut local = name == "local" || ((name == "declare" || name == "typeset") && in_func);
    let mut export = name == "export";
    let mut ro = name == "readonly";
    // `-a`, `-A` or `-n`; `-p` or `-f`.
    let mut kind: Option<char> = None;
    let mut query: Option<char> = None;
    let mut st = 0;
    for (i, a) in args.iter().enumerate() {
        let arr = arrays.iter().find(|(k, ..)| *k == i + 1);
        if arr.is_none() && a.starts_with('+') && a.len() > 1 {
            // mvdan's flag parser reads `+x` as a flag no declaration takes.
            io.err(&format!("declare: invalid option {:?}\n", &a[..2]));
            return 2;
        }
        if arr.is_none() && a.starts_with('-') && a.len() > 1 {
            for c in a[1..].chars() {
                match c {
                    'x' => export = true,
                    'r' => ro = true,
                    'g' => local = false,
                    'a' | 'A' | 'n' => kind = Some(c),
                    'p' | 'f' => query = Some(c),
                    _ => {
                        io.err(&format!("declare: invalid option \"-{c}\"\n"));
                        return 2;
                    }
                }
            }
            continue;
        }
        let (n, v) = match a.split_once('=') {
            Some((n, v)) if arr.is_none() => (n.to_string(), Some(v.to_string())),
            _ => (a.clone(), None),
        };
        let (n, append) = match n.strip_suffix('+') {
            Some(m) if v.is_some() => (m.to_string(), true),
            _ => (n, false),
        };
        if !super::parse::is_name(&n) {
            io.err(&format!("declare: invalid name {n:?}\n"));
            return 1;
        }
        match query {
            Some('f') => {
                // mvdan prints the definition with its printer; the name line is all
                // that is reproduced here (docs/shell.md).
                if sh.funcs.contains_key(&n) {
                    io.out(&format!("{n}()\n"));
                } else {
                    st = 1;
                }
                continue;
            }
            Some(_) => {
                if !declare_print(sh, &n, io) {
                    io.err(&format!("declare: {n}: not found\n"));
                    st = 1;
                }
                continue;
            }
            None => {}
        }
        if (v.is_some() || arr.is_some()) && sh.readonly.contains(&n) {
            io.err(&format!("{n}: readonly variable\n"));
            return 1;
        }
        if local {
            let old = sh.vars.get(&n).cloned();
            if let Some(frame) = sh.locals.last_mut() {
                if !frame.iter().any(|(m, _)| *m == n) {
                    frame.push((n.clone(), old));
                }
            }
        }
        if let Some((_, asg, items)) = arr {
            let k = kind.filter(|k| *k != 'n');
            if let Err(super::ExpErr::Fatal(m) | super::ExpErr::Skip(m)) =
                sh.assign_array(&n, asg.append, items, k, io)
            {
                io.err(&format!("{m}\n"));
                return 1;
            }
        } else if let Some(v) = v {
            if kind == Some('n') {
                let exported = sh.vars.get(&n).is_some_and(|o| o.exported);
                let mut var = super::Var::str(v, exported);
                var.nameref = true;
                sh.vars.insert(n.clone(), var);
            } else if append {
                let old = sh.get(&n).unwrap_or_default();
                sh.set_var(&n, old + &v);
            } else {
                sh.set_var(&n, v);
            }
        } else if kind == Some('A') && sh.assoc(&n).is_none() {
            sh.set_assoc(&n, Default::default());
        } else if export && !sh.vars.contains_key(&n) {
            // mvdan: a name without a value keeps its current value.
            sh.set_var(&n, String::new());
        }
        if export {
            let r = sh.resolve(&n);
            if let Some(var) = sh.vars.get_mut(&r) {
                var.exported = true;
            }
        }
        if ro {
            std::sync::Arc::make_mut(&mut sh.readonly).insert(n);
        }
    }
    st
}

/// `unset 'a[i]'` / `unset 'm[key]'`, as mvdan's unsetElem.
fn unset_elem(sh: &mut Shell, name: &str, sub: &str, io: &Io) {
    let name = sh.resolve(name);
    let Some(v) = sh.vars.get(&name).cloned() else {
        return;
    };
    if let Some(mut m) = v.map {
        if sub == "@" || sub == "*" {
            sh.vars.remove(&name);
        } else {
            m.remove(sub);
            sh.set_assoc(&name, m);
        }
        return;
    }
    if let Some(mut a) = v.arr {
        if sub == "@" || sub == "*" {
            sh.vars.remove(&name);
            return;
        }
        if sub.trim().is_empty() {
            return;
        }
        let k = match super::arith::eval(sub, sh) {
            Ok(k) => k,
            Err(_) => {
                io.err(&format!("unset: {name}[{sub}]: bad array subscript\n"));
                return;
            }
        };
        let k = if k < 0 { k + a.len() as i64 } else { k };
        if k < 0 {
            io.err(&format!("unset: {name}[{sub}]: bad array subscript\n"));
            return;
        }
        if let Some(e) = a.get_mut(k as usize) {
            *e = None;
        }
        while a.last().is_some_and(|e| e.is_none()) {
            a.pop();
        }
        sh.set_array(&name, a);
        return;
    }
    if sub == "0" {
        sh.vars.remove(&name);
    } else {
        io.err(&format!("unset: {name}: not an array variable\n"));
    }
}

/// `declare -p NAME`'s line, as mvdan prints it; false when NAME is not set.
fn declare_print(sh: &Shell, n: &str, io: &Io) -> bool {
    use crate::taskfile::dotenv::go_quote;
    let Some(v) = sh.vars.get(n) else {
        return false;
    };
    let mut flags = String::new();
    if v.arr.is_some() {
        flags.push('a');
    } else if v.map.is_some() {
        flags.push('A');
    } else if v.nameref {
        flags.push('n');
    }
    if sh.readonly.contains(n) {
        flags.push('r');
    }
    if v.exported {
        flags.push('x');
    }
    if flags.is_empty() {
        flags.push('-');
    }
    let body = if let Some(a) = &v.arr {
        let items: Vec<String> = a
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.as_ref().map(|e| format!("[{i}]={}", go_quote(e))))
            .collect();
        format!("({})", items.join(" "))
    } else if let Some(m) = &v.map {
        // Go's map order in mvdan (random); sorted here.
        let items: Vec<String> = m
            .iter()
            .map(|(k, e)| format!("[{k}]={}", go_quote(e)))
            .collect();
        format!("({})", items.join(" "))
    } else {
        go_quote(&v.value)
    };
    io.out(&format!("declare -{flags} {n}={body}\n"));
    true
}

fn shopt(sh: &mut Shell, args: &[String], io: &Io) -> i32 {
    let mut mode = "";
    let mut posix = false;
    let mut k = 0;
    while k < args.len() && args[k].starts_with('-') {
        match args[k].as_str() {
            "-s" | "-u" => mode = if args[k] == "-s" { "-s" } else { "-u" },
            "-o" => posix = true,
            f @ ("-p" | "-q") => {
                io.err(&format!("shopt: unsupported option {f:?}\n"));
                return 2;
            }
            f => {
                io.err(&format!("shopt: invalid option {f:?}\n"));
                return 2;
            }
        }
        k += 1;
    }
    let names = &args[k..];
    let on_off = |b: bool| if b { "on" } else { "off" };
    if names.is_empty() {
        if posix {
            for (n, v) in posix_opts(sh) {
                io.out(&format!("{n}\t{}\n", on_off(v)));
            }
        } else {
            for n in BASH_OPTS {
                match sh.opts.get_bash(n) {
                    Some(v) => io.out(&format!("{n}\t{}\n", on_off(v))),
                    None => {
                        let v = BASH_DEFAULT_ON.contains(n);
                        io.out(&format!(
                            "{n}\t{}\t({:?} not supported)\n",
                            on_off(v),
                            on_off(!v)
                        ))
                    }
                };
            }
        }
        return 0;
    }
    for n in names {
        let known = if posix {
            posix_opts(sh)
                .iter()
                .find(|(p, _)| p == n)
                .map(|(_, v)| (*v, true))
        } else if let Some(v) = sh.opts.get_bash(n) {
            Some((v, true))
        } else if BASH_OPTS.contains(&n.as_str()) {
            Some((BASH_DEFAULT_ON.contains(&n.as_str()), false))
        } else {
            None
        };
        let Some((cur, supported)) = known else {
            io.err(&format!("shopt: invalid option name {n:?}\n"));
            return 1;
        };
        match mode {
            "-s" | "-u" => {
                if !supported {
                    io.err(&format!("shopt: unsupported option {n:?}\n"));
                    return 1;
                }
                let on = mode == "-s";
                if posix {
                    sh.opts.set_posix(n, on);
                } else {
                    sh.opts.set_bash(n, on);
                }
            }
            _ => {
                if supported {
                    io.out(&format!("{n}\t{}\n", on_off(cur)));
                } else {
                    io.out(&format!(
                        "{n}\t{}\t({:?} not supported)\n",
                        on_off(cur),
                        on_off(!cur)
                    ));
                }
            }
        }
    }
    0
}

fn posix_opts(sh: &Shell) -> Vec<(&'static str, bool)> {
    let o = &sh.opts;
    vec![
        ("allexport", o.allexport),
        ("errexit", o.errexit),
        ("noexec", o.noexec),
        ("noglob", o.noglob),
        ("nounset", o.nounset),
        ("xtrace", o.xtrace),
        ("pipefail", o.pipefail),
    ]
}

/// mvdan's table of bash options (supported ones first), in its order.
const BASH_OPTS: &[&str] = &[
    "dotglob",
    "expand_aliases",
    "extglob",
    "globstar",
    "nocaseglob",
    "nullglob",
    "assoc_expand_once",
    "autocd",
    "cdable_vars",
    "cdspell",
    "checkhash",
    "checkjobs",
    "checkwinsize",
    "cmdhist",
    "compat31",
    "compat32",
    "compat40",
    "compat41",
    "compat42",
    "compat43",
    "compat44",
    "complete_fullquote",
    "direxpand",
    "dirspell",
    "execfail",
    "extdebug",
    "extquote",
    "failglob",
    "force_fignore",
    "globasciiranges",
    "gnu_errfmt",
    "histappend",
    "histreedit",
    "histverify",
    "hostcomplete",
    "huponexit",
    "inherit_errexit",
    "interactive_comments",
    "lastpipe",
    "lithist",
    "localvar_inherit",
    "localvar_unset",
    "login_shell",
    "mailwarn",
    "no_empty_cmd_completion",
    "nocasematch",
    "progcomp",
    "progcomp_alias",
    "promptvars",
    "restricted_shell",
    "shift_verbose",
    "sourcepath",
    "xpg_echo",
];

const BASH_DEFAULT_ON: &[&str] = &[
    "checkwinsize",
    "cmdhist",
    "complete_fullquote",
    "extquote",
    "force_fignore",
    "hostcomplete",
    "inherit_errexit",
    "interactive_comments",
    "progcomp",
    "promptvars",
    "sourcepath",
];

/// mvdan's flagParser: flags while the next argument starts with `-` or `+` (`--` ends
/// them), `-ab` read as `-a` then `-b`.
struct FlagParser<'a> {
    rest: &'a [String],
    current: String,
}

impl<'a> FlagParser<'a> {
    fn new(args: &'a [String]) -> Self {
        FlagParser {
            rest: args,
            current: String::new(),
        }
    }
    fn more(&mut self) -> bool {
        if !self.current.is_empty() {
            return true;
        }
        match self.rest.first() {
            None => false,
            Some(a) if a == "--" => {
                self.rest = &self.rest[1..];
                false
            }
            Some(a) => a.starts_with(['-', '+']),
        }
    }
    fn flag(&mut self) -> String {
        let mut arg = std::mem::take(&mut self.current);
        if arg.is_empty() {
            arg = self.rest[0].clone();
            self.rest = &self.rest[1..];
        }
        if arg.len() > 2 {
            let mut cs = arg.chars();
            let (sign, f) = (cs.next().unwrap_or('-'), cs.next().unwrap_or('-'));
            self.current = format!("{sign}{}", cs.as_str());
            arg = format!("{sign}{f}");
        }
        arg
    }
}

fn trap(sh: &mut Shell, args: &[String], io: &Io) -> i32 {
    let mut fp = FlagParser::new(args);
    while fp.more() {
        match fp.flag().as_str() {
            // `-`: the default callback (mvdan).
            "-" => {}
            f @ ("-l" | "-p") => {
                io.err(&format!("trap: {f:?}: NOT IMPLEMENTED flag\n"));
                return 2;
            }
            f => {
                io.err(&format!("trap: {f:?}: invalid option\n"));
                io.err("trap: usage: trap [-lp] [[arg] signal_spec ...]\n");
                return 2;
            }
        }
    }
    let rest = fp.rest;
    let (cb, sigs) = match rest.len() {
        0 => {
            if !sh.trap_exit.is_empty() {
                io.out(&format!("trap -- {:?} EXIT\n", sh.trap_exit));
            }
            if !sh.trap_err.is_empty() {
                io.out(&format!("trap -- {:?} ERR\n", sh.trap_err));
            }
            return 0;
        }
        1 => ("", rest),
        _ => (rest[0].as_str(), &rest[1..]),
    };
    let cb = if cb == "-" { "" } else { cb };
    for s in sigs {
        match s.as_str() {
            "ERR" => sh.trap_err = cb.to_string(),
            "EXIT" => sh.trap_exit = cb.to_string(),
            _ => {
                io.err(&format!("trap: {s}: invalid signal specification\n"));
                return 2;
            }
        }
    }
    0
}

/// `source FILE [ARGS]`: runs FILE in this shell (its `return` ends the file).
fn source(sh: &mut Shell, args: &[String], io: &Io) -> (i32, Flow) {
    let Some(file) = args.first() else {
        let (l, c) = sh.cmd_pos;
        io.err(&format!("{l}:{c}: source: need filename\n"));
        return (2, Flow::Next);
    };
    let mut path = normalize(&sh.cwd.join(file));
    if !file.contains('/') {
        // mvdan looks the file up in PATH first, then in the current directory.
        for d in sh.get("PATH").unwrap_or_default().split(':') {
            let p = sh.cwd.join(if d.is_empty() { "." } else { d }).join(file);
            if p.is_file() {
                path = p;
                break;
            }
        }
    }
    let text = match read_limited(&path) {
        Ok(t) => t,
        Err(e) => {
            // A directory opens and fails when read (Go's os.Open, then the parser's read).
            let op = if e.raw_os_error() == Some(libc::EISDIR) {
                "read"
            } else {
                "open"
            };
            io.err(&format!(
                "source: {op} {}: {}\n",
                path.display(),
                go_err(&e)
            ));
            return (1, Flow::Next);
        }
    };
    let list = match super::parse::parse(&text) {
        Ok(l) => l,
        Err(e) => {
            io.err(&format!("source: {}:{}\n", file, e.render(&text)));
            return (1, Flow::Next);
        }
    };
    let params = args.len() > 1;
    let old = if params {
        Some(std::mem::replace(&mut sh.pos, args[1..].to_vec()))
    } else {
        None
    };
    let old_set = std::mem::replace(&mut sh.set_params, false);
    sh.in_func += 1;
    let f = sh.exec_list(&list, io);
    sh.in_func -= 1;
    if let Some(p) = old {
        if !sh.set_params {
            sh.pos = p;
        }
    }
    sh.set_params = old_set;
    let f = match f {
        Flow::Return => Flow::Next,
        f => f,
    };
    (sh.status, f)
}

/// A sourced script, at most 16 MiB.
fn read_limited(p: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let f = std::fs::File::open(p)?;
    let mut buf = vec![];
    f.take(16 << 20).read_to_end(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// `mapfile` / `readarray [-t] [-d DELIM] [NAME]`: stdin's lines into an array.
fn mapfile(sh: &mut Shell, name: &str, args: &[String], io: &Io) -> i32 {
    let mut drop_delim = false;
    let mut delim = b'\n';
    let mut k = 0;
    while k < args.len() && args[k].starts_with('-') && args[k].len() > 1 {
        match args[k].as_str() {
            "-t" => drop_delim = true,
            "-d" => {
                k += 1;
                let Some(d) = args.get(k) else {
                    io.err(&format!("{name}: -d: option requires an argument\n"));
                    return 2;
                };
                delim = d.bytes().next().unwrap_or(0);
            }
            f => {
                io.err(&format!("{name}: invalid option {f:?}\n"));
                return 2;
            }
        }
        k += 1;
    }
    let rest = &args[k..];
    let var = match rest {
        [] => "MAPFILE".to_string(),
        [n] if super::parse::is_name(n) => n.clone(),
        [n] => {
            io.err(&format!("{name}: invalid identifier {n:?}\n"));
            return 2;
        }
        _ => {
            io.err(&format!(
                "{name}: Only one array name may be specified, [{}]\n",
                rest.join(" ")
            ));
            return 2;
        }
    };
    let mut data = vec![];
    let mut f = std::mem::ManuallyDrop::new(unsafe {
        <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(io.fds[0].as_raw_fd())
    });
    let _ = std::io::Read::read_to_end(&mut *f, &mut data);
    let mut items = vec![];
    let mut start = 0;
    for (i, b) in data.iter().enumerate() {
        if *b == delim {
            let end = if drop_delim { i } else { i + 1 };
            items.push(Some(
                String::from_utf8_lossy(&data[start..end]).into_owned(),
            ));
            start = i + 1;
        }
    }
    if start < data.len() {
        items.push(Some(String::from_utf8_lossy(&data[start..]).into_owned()));
    }
    sh.set_array(&var, items);
    0
}

fn pushd(sh: &mut Shell, name: &str, args: &[String], io: &Io) -> i32 {
    let (change, args) = match args.first().map(|s| s.as_str()) {
        Some("-n") => (false, &args[1..]),
        _ => (true, args),
    };
    let print = |sh: &Shell| {
        io.out(&format!(
            "{}\n",
            sh.dir_stack
                .iter()
                .rev()
                .cloned()
                .collect::<Vec<_>>()
                .join(" ")
        ));
    };
    let n = sh.dir_stack.len();
    if name == "popd" {
        if !args.is_empty() {
            io.err("popd: invalid argument\n");
            return 2;
        }
        if n < 2 {
            io.err("popd: directory stack empty\n");
            return 1;
        }
        let old = sh.dir_stack.pop().unwrap_or_default();
        if change {
            let top = sh.dir_stack[n - 2].clone();
            let st = cd(sh, &[top], io);
            if st != 0 {
                return st;
            }
        } else if let Some(t) = sh.dir_stack.last_mut() {
            *t = old;
        }
        print(sh);
        return 0;
    }
    match args {
        [] => {
            if !change {
                return 0;
            }
            if n < 2 {
                io.err("pushd: no other directory\n");
                return 1;
            }
            sh.dir_stack.swap(n - 1, n - 2);
            let top = sh.dir_stack[n - 1].clone();
            let st = cd(sh, &[top], io);
            if st != 0 {
                return st;
            }
        }
        [d] => {
            if change {
                let st = cd(sh, std::slice::from_ref(d), io);
                if st != 0 {
                    return st;
                }
                sh.dir_stack.push(sh.cwd.to_string_lossy().into_owned());
            } else {
                sh.dir_stack.push(d.clone());
                let n = sh.dir_stack.len();
                if n >= 2 {
                    sh.dir_stack.swap(n - 1, n - 2);
                }
            }
        }
        _ => {
            io.err("pushd: too many arguments\n");
            return 2;
        }
    }
    print(sh);
    0
}

/// `getopts OPTSTRING NAME [ARGS]`, with mvdan's state across calls (OPTIND).
fn getopts(sh: &mut Shell, args: &[String], io: &Io) -> i32 {
    if args.len() < 2 {
        io.err("getopts: usage: getopts optstring name [arg ...]\n");
        return 2;
    }
    let mut optind: i64 = sh.get("OPTIND").and_then(|v| v.parse().ok()).unwrap_or(0);
    if optind - 1 != sh.getopts.0 as i64 {
        if optind < 1 {
            optind = 1;
        }
        sh.getopts = ((optind - 1) as usize, 0);
    }
    let optstr = args[0].as_str();
    let name = &args[1];
    if !super::parse::is_name(name) {
        io.err(&format!("getopts: invalid identifier: {name:?}\n"));
        return 2;
    }
    let list: Vec<String> = if args.len() > 2 {
        args[2..].to_vec()
    } else {
        sh.pos.clone()
    };
    let diag = !optstr.starts_with(':');
    let (argidx, runeidx) = sh.getopts;
    let (opt, optarg, done, state) = (|| {
        if list.is_empty() || argidx >= list.len() {
            return ('?', String::new(), true, (argidx, runeidx));
        }
        let arg: Vec<char> = list[argidx].chars().collect();
        if arg.len() < 2 || arg[0] != '-' || arg[1] == '-' {
            return ('?', String::new(), true, (argidx, runeidx));
        }
        let opts = &arg[1..];
        let opt = opts[runeidx.min(opts.len() - 1)];
        let i = optstr.find(opt);
        if let Some(i) = i {
            if optstr[i + opt.len_utf8()..].starts_with(':') {
                if runeidx + 1 < opts.len() {
                    return (
                        opt,
                        opts[runeidx + 1..].iter().collect(),
                        false,
                        (argidx + 1, 0),
                    );
                } else if argidx + 1 < list.len() {
                    return (opt, list[argidx + 1].clone(), false, (argidx + 2, 0));
                } else {
                    return (':', opt.to_string(), false, (argidx + 1, 0));
                }
            }
        }
        let next = if runeidx + 1 < opts.len() {
            (argidx, runeidx + 1)
        } else {
            (argidx + 1, 0)
        };
        if i.is_none() {
            return ('?', opt.to_string(), false, next);
        }
        (opt, String::new(), false, next)
    })();
    sh.getopts = state;
    sh.set_var(name, opt.to_string());
    sh.vars.remove("OPTARG");
    if opt == '?' && diag && !done {
        io.err(&format!("getopts: illegal option -- {optarg:?}\n"));
    } else if opt == ':' && diag {
        io.err(&format!(
            "getopts: option requires an argument -- {optarg:?}\n"
        ));
    } else if !optarg.is_empty() {
        sh.set_var("OPTARG", optarg);
    }
    if optind - 1 != sh.getopts.0 as i64 {
        sh.set_var("OPTIND", (sh.getopts.0 + 1).to_string());
    }
    done as i32
}
