//! All of `task`'s own output goes through one printer: `task: …` log lines to stderr,
//! and the output modes (interleaved, group, prefixed) for command output.

use std::io::Write;
use std::sync::{Arc, Mutex};

use super::shell::Sink;
use crate::compile::{CompiledTask, Compiler};
use crate::taskfile::ast::Output;

#[derive(Clone)]
pub struct Printer {
    lock: Arc<Mutex<()>>,
    pub color: bool,
}

pub const GREEN: &str = "\x1b[32m";
pub const MAGENTA: &str = "\x1b[35m";
pub const RED: &str = "\x1b[31m";

impl Printer {
    /// Colour as decided by `app::color_enabled`.
    pub fn new(color: bool) -> Self {
        Printer {
            lock: Arc::new(Mutex::new(())),
            color,
        }
    }

    /// A `task: …` line in colour when colour is on.
    pub fn log_color(&self, color: &str, msg: &str) {
        if self.color {
            // fatih/color wraps the whole formatted text, newline included.
            self.log(&format!("{color}{msg}\x1b[0m"));
        } else {
            self.log(msg);
        }
    }

    /// A `task: …` message on stderr.
    pub fn log(&self, msg: &str) {
        let _g = self.lock.lock().unwrap();
        let mut e = std::io::stderr().lock();
        let _ = e.write_all(msg.as_bytes());
        let _ = e.flush();
    }

    pub fn log_bytes(&self, msg: &[u8]) {
        let _g = self.lock.lock().unwrap();
        let mut e = std::io::stderr().lock();
        let _ = e.write_all(msg);
        let _ = e.flush();
    }

    pub fn out(&self, msg: &[u8]) {
        let _g = self.lock.lock().unwrap();
        let mut o = std::io::stdout().lock();
        let _ = o.write_all(msg);
        let _ = o.flush();
    }

    /// Where one command of `t` writes, for the given output mode.
    pub fn sink(&self, mode: &Output, t: &CompiledTask, compiler: &Compiler) -> Sink {
        match mode {
            Output::Interleaved => Sink::Inherit,
            Output::Group {
                begin,
                end,
                error_only,
            } => {
                let render = |s: &str| {
                    if s.is_empty() {
                        String::new()
                    } else {
                        compiler
                            .render_with(s, &t.vars)
                            .map(|r| format!("{r}\n"))
                            .unwrap_or_default()
                    }
                };
                let (b, e, only) = (render(begin), render(end), *error_only);
                let p = self.clone();
                Sink::Buffer(Box::new(move |buf, ok| {
                    // go-task prints no group for a command that printed nothing.
                    if (only && ok) || buf.is_empty() {
                        return;
                    }
                    let mut all = b.into_bytes();
                    all.extend_from_slice(&buf);
                    all.extend_from_slice(e.as_bytes());
                    p.out(&all);
                }))
            }
            Output::Prefixed => {
                let prefix = format!("[{}] ", t.prefix);
                let p = self.clone();
                // go-task's prefixed writer is the task's stdout for both streams: a
                // command's stderr lines come out prefixed on stdout too.
                Sink::Lines(Box::new(move |line, _is_err| {
                    let mut l = prefix.clone().into_bytes();
                    l.extend_from_slice(line);
                    if !l.ends_with(b"\n") {
                        l.push(b'\n');
                    }
                    p.out(&l);
                }))
            }
        }
    }
}
