//! The `help` builtin as go-task's interpreter (mvdan/sh) answers it: its table of
//! synopses and one-line descriptions, a star on the builtins it knows but does not run.
//! The texts are output users see, so they are mvdan's, byte for byte.

use super::Io;

/// (name, synopsis, description), sorted by name as Go sorts strings (bytes).
const TABLE: &[(&str, &str, &str)] = &[
    (
        ".",
        ". filename [arguments]",
        "Execute commands from a file in the current shell.",
    ),
    (
        ":",
        ": ",
        "Null command; expands arguments and returns success.",
    ),
    (
        "[",
        "[ arg... ]",
        "Evaluate a conditional expression; a synonym for `test' requiring a closing `]'.",
    ),
    (
        "alias",
        "alias [-p] [name[=value] ... ]",
        "Define or display aliases. With no arguments, print the alias list.",
    ),
    ("bg", "bg [job_spec ...]", "Resume jobs in the background."),
    (
        "bind",
        "bind [-lpsvPSVX] [-m keymap] [keyseq:readline-function]",
        "Set readline key bindings and variables.",
    ),
    (
        "break",
        "break [n]",
        "Exit the enclosing for, while or until loop; with n, exit n levels.",
    ),
    (
        "builtin",
        "builtin [shell-builtin [arg ...]]",
        "Run a shell builtin, bypassing a function of the same name.",
    ),
    (
        "caller",
        "caller [expr]",
        "Return the context of the current subroutine call.",
    ),
    (
        "cd",
        "cd [-L|[-P [-e]]] [dir]",
        "Change the shell working directory.",
    ),
    (
        "command",
        "command [-pVv] command [arg ...]",
        "Run a command, bypassing shell function lookup.",
    ),
    (
        "compgen",
        "compgen [-abcdefgjksuv] [-o option] [word]",
        "Display possible completions for a word.",
    ),
    (
        "complete",
        "complete [-abcdefgjksuv] [-pr] [-o option] [name ...]",
        "Specify how arguments are to be completed by readline.",
    ),
    (
        "compopt",
        "compopt [-o|+o option] [name ...]",
        "Modify or display completion options.",
    ),
    (
        "continue",
        "continue [n]",
        "Resume the next iteration of the enclosing loop; with n, of the nth enclosing loop.",
    ),
    (
        "declare",
        "declare [-aAfFgiIlnrtux] [name[=value] ...]",
        "Set variable values and attributes, or display them.",
    ),
    (
        "dirs",
        "dirs [-clpv] [+N] [-N]",
        "Display the list of currently remembered directories.",
    ),
    (
        "disown",
        "disown [-h] [-ar] [jobspec ...]",
        "Remove jobs from the current shell's job table.",
    ),
    (
        "echo",
        "echo [-neE] [arg ...]",
        "Write arguments to standard output, separated by spaces.",
    ),
    (
        "enable",
        "enable [-a] [-dnps] [name ...]",
        "Enable and disable shell builtins.",
    ),
    (
        "eval",
        "eval [arg ...]",
        "Concatenate arguments into a single command and execute it.",
    ),
    (
        "exec",
        "exec [-cl] [-a name] [command [argument ...]]",
        "Replace the shell with the given command.",
    ),
    (
        "exit",
        "exit [n]",
        "Exit the shell with status n; without n, the status of the last command.",
    ),
    (
        "export",
        "export [-fn] [name[=value] ...] or export -p",
        "Mark names for automatic export to the environment.",
    ),
    ("false", "false", "Return an unsuccessful result."),
    (
        "fc",
        "fc [-e ename] [-lnr] [first] [last]",
        "Display or re-execute commands from the history list.",
    ),
    ("fg", "fg [job_spec]", "Move a job to the foreground."),
    (
        "for",
        "for NAME [in WORDS ... ] ; do COMMANDS; done",
        "Execute commands for each member in a list.",
    ),
    (
        "getopts",
        "getopts optstring name [arg ...]",
        "Parse option arguments, one at a time, as a shell script would.",
    ),
    (
        "hash",
        "hash [-lr] [-p pathname] [-dt] [name ...]",
        "Remember or display program locations.",
    ),
    (
        "help",
        "help [-dms] [pattern ...]",
        "Display information about builtin commands.",
    ),
    ("history", "history [-c] [n]", "Display the history list."),
    (
        "jobs",
        "jobs [-lnprs] [jobspec ...]",
        "Display status of jobs.",
    ),
    (
        "kill",
        "kill [-s sigspec | -n signum] pid | jobspec ...",
        "Send a signal to a job or process.",
    ),
    (
        "let",
        "let arg [arg ...]",
        "Evaluate arithmetic expressions.",
    ),
    (
        "local",
        "local [option] name[=value] ...",
        "Define local variables inside a shell function.",
    ),
    ("logout", "logout [n]", "Exit a login shell."),
    (
        "mapfile",
        "mapfile [-d delim] [-n count] [-O origin] [-s count] [-t] [array]",
        "Read lines from the standard input into an indexed array variable.",
    ),
    ("newgrp", "newgrp [group]", "Change the current group ID."),
    (
        "popd",
        "popd [-n] [+N | -N]",
        "Remove directories from the stack.",
    ),
    (
        "printf",
        "printf [-v var] format [arguments]",
        "Format and print arguments under control of the format.",
    ),
    (
        "pushd",
        "pushd [-n] [+N | -N | dir]",
        "Add directories to the stack and change to the top.",
    ),
    (
        "pwd",
        "pwd [-LP]",
        "Print the name of the current working directory.",
    ),
    (
        "read",
        "read [-Eers] [-a array] [-d delim] [-n nchars] [-p prompt] [-t timeout] [name ...]",
        "Read a line from the standard input and split it into fields.",
    ),
    (
        "readarray",
        "readarray [-d delim] [-n count] [-O origin] [-s count] [-t] [array]",
        "Read lines from a file into an indexed array variable; a synonym for `mapfile'.",
    ),
    (
        "readonly",
        "readonly [-aAf] [name[=value] ...] or readonly -p",
        "Mark names as unchangeable.",
    ),
    (
        "return",
        "return [n]",
        "Return from a shell function with status n.",
    ),
    (
        "set",
        "set [-abefhkmnptuvxBCEHPT] [-o option-name] [--] [arg ...]",
        "Set or unset shell options and positional parameters.",
    ),
    (
        "shift",
        "shift [n]",
        "Shift positional parameters left by n (default 1).",
    ),
    (
        "shopt",
        "shopt [-pqsu] [-o] [optname ...]",
        "Set and unset shell options.",
    ),
    (
        "source",
        "source filename [arguments]",
        "Execute commands from a file in the current shell; a synonym for `.'.",
    ),
    ("suspend", "suspend [-f]", "Suspend shell execution."),
    (
        "test",
        "test [expr]",
        "Evaluate a conditional expression and return 0 or 1.",
    ),
    (
        "times",
        "times",
        "Display process times for the shell and its children.",
    ),
    (
        "trap",
        "trap [-lp] [[action] signal_spec ...]",
        "Trap signals and other events.",
    ),
    ("true", "true", "Return a successful result."),
    (
        "type",
        "type [-afptP] name [name ...]",
        "Display information about the type of each name.",
    ),
    (
        "typeset",
        "typeset [-aAfFgiIlnrtux] name[=value] ...",
        "Set variable values and attributes; a synonym for `declare'.",
    ),
    (
        "ulimit",
        "ulimit [-SHabcdefiklmnpqrstuvxPRT] [limit]",
        "Modify or display shell resource limits.",
    ),
    (
        "umask",
        "umask [-p] [-S] [mode]",
        "Display or set the file mode creation mask.",
    ),
    (
        "unalias",
        "unalias [-a] name [name ...]",
        "Remove each name from the list of aliases.",
    ),
    (
        "unset",
        "unset [-f] [-v] [-n] [name ...]",
        "Unset values and attributes of shell variables and functions.",
    ),
    (
        "wait",
        "wait [-fn] [id ...]",
        "Wait for job completion and return exit status.",
    ),
];

/// Named by `help` with a star: recognised, not implemented.
const NOT_RUN: &[&str] = &[
    "bg", "bind", "caller", "compgen", "complete", "compopt", "disown", "enable", "fc", "fg",
    "history", "jobs", "kill", "logout", "newgrp", "suspend", "ulimit",
];

fn entry(name: &str) -> Option<&'static (&'static str, &'static str, &'static str)> {
    TABLE.iter().find(|(n, _, _)| *n == name)
}

fn line(name: &str, synopsis: &str) -> String {
    let star = if NOT_RUN.contains(&name) { "*" } else { " " };
    format!("{star}{synopsis}")
}

/// Names a pattern selects: an exact name alone, else every name it matches as a glob
/// or begins (bash's `help ex*` and `help ex`).
fn select(pat: &str) -> Vec<&'static (&'static str, &'static str, &'static str)> {
    if let Some(e) = entry(pat) {
        return vec![e];
    }
    TABLE
        .iter()
        .filter(|(n, _, _)| super::glob::matches(pat, n) || n.starts_with(pat))
        .collect()
}

pub(super) fn run(args: &[String], io: &Io) -> i32 {
    let (mut short, mut synopsis_only, mut man) = (false, false, false);
    let mut rest = args;
    while let Some(a) = rest.first() {
        if !a.starts_with('-') || a == "-" {
            break;
        }
        rest = &rest[1..];
        match a.as_str() {
            "-d" => short = true,
            "-s" => synopsis_only = true,
            "-m" => man = true,
            "--" => break,
            _ => {
                io.err(&format!("help: {a}: invalid option\n"));
                io.err(&format!(
                    "help: usage: {}\n",
                    entry("help").map_or("", |e| e.1)
                ));
                return 2;
            }
        }
    }
    if rest.is_empty() {
        let mut s = String::from(
            "A shell built on mvdan.cc/sh/v3. These shell commands are defined internally.\n\
             Type `help' to see this list.\n\
             Type `help name' to find out more about the function `name'.\n\n\
             A star (*) next to a name means that the command is not implemented.\n\n",
        );
        // Two columns: the first half down the left, the rest on the right.
        let half = TABLE.len().div_ceil(2);
        for i in 0..half {
            let left = line(TABLE[i].0, TABLE[i].1);
            match TABLE.get(i + half) {
                Some(r) => s.push_str(&format!("{left:<78}{}\n", line(r.0, r.1))),
                None => s.push_str(&format!("{left}\n")),
            }
        }
        io.out(&s);
        return 0;
    }
    let mut st = 0;
    for pat in rest {
        let found = select(pat);
        if found.is_empty() {
            io.err(&format!(
                "help: no help topics match `{pat}'.  Try `help help'.\n"
            ));
            st = 1;
            continue;
        }
        for (name, syn, desc) in found {
            let s = if synopsis_only {
                format!("{name}: {syn}\n")
            } else if short {
                format!("{name} - {desc}\n")
            } else if man {
                format!("NAME\n    {name} - {desc}\n\nSYNOPSIS\n    {syn}\n\nDESCRIPTION\n    {desc}\n\n")
            } else {
                let note = if NOT_RUN.contains(name) {
                    "    (recognized by this shell but not implemented)\n"
                } else {
                    ""
                };
                format!("{name}: {syn}\n    {desc}\n{note}\n")
            };
            io.out(&s);
        }
    }
    st
}
