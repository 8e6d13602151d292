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
    /// `output: prefixed`: each prefix's colour index, by order of first line
    /// (go-task's `Prefixed.seen`/`counter`, one per run).
    prefixes: Arc<Mutex<Vec<String>>>,
}

pub use crate::color::Color;

impl Printer {
    /// Colour as decided by `app::color_enabled`.
    pub fn new(color: bool) -> Self {
        Printer {
            lock: Arc::new(Mutex::new(())),
            color,
            prefixes: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// `msg` in `color` when colour is on (fatih/color wraps the whole formatted text,
    /// newline included).
    pub fn paint(&self, color: Color, msg: &str) -> String {
        crate::color::paint_if(self.color, color, msg)
    }

    /// A `task: …` message on stderr in colour when colour is on (go-task's `Errf`).
    pub fn log_color(&self, color: Color, msg: &str) {
        self.log(&self.paint(color, msg));
    }

    /// A message on stdout in colour when colour is on (go-task's `Outf`).
    pub fn out_color(&self, color: Color, msg: &str) {
        self.out(self.paint(color, msg).as_bytes());
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
            // An unknown style never gets this far (app.rs refuses it).
            Output::Interleaved | Output::Unknown(_) => Sink::Inherit,
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
                let name = t.prefix.clone();
                let p = self.clone();
                // go-task's prefixed writer is the task's stdout for both streams: a
                // command's stderr lines come out prefixed on stdout too.
                Sink::Lines(Box::new(move |line, _is_err| {
                    let shown = if p.color {
                        let mut seen = p.prefixes.lock().unwrap_or_else(|e| e.into_inner());
                        let i = match seen.iter().position(|x| *x == name) {
                            Some(i) => i,
                            None => {
                                seen.push(name.clone());
                                seen.len() - 1
                            }
                        };
                        let seq = &crate::color::PREFIX_SEQUENCE;
                        crate::color::paint(seq[i % seq.len()], &name)
                    } else {
                        name.clone()
                    };
                    let mut l = format!("[{shown}] ").into_bytes();
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
