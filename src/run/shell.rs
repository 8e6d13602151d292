//! Commands run in the embedded interpreter (crate::shell: a fresh state per command,
//! errexit on, `set:`/`shopt:` applied, mvdan's messages), as go-task runs them in mvdan/sh.
//! No command needs bash: a construct the interpreter does not run fails before anything
//! runs (docs/shell.md). Only OXTASK_SHELL=bash, for comparison, sends every command to a
//! fresh bash with a prelude reproducing mvdan's "not found" message.

use std::io::Read;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::sync::Arc;

use crate::shell::{Io, Prepared, Rt, Unsupported};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Reproduces mvdan/sh's wording for a missing program (and keeps status 127).
const PRELUDE: &str = concat!(
    "command_not_found_handle() { printf '\"%s\": executable file not found in $PATH\\n' \"$1\" >&2; return 127; }\n",
    // mvdan prints `shopt NAME` as "NAME\ton|off", without bash's column padding.
    "shopt() { if [ $# -gt 0 ] && [ \"${1#-}\" = \"$1\" ]; then local o r=0; for o in \"$@\"; do ",
    "if builtin shopt -q \"$o\" 2>/dev/null || builtin shopt -oq \"$o\" 2>/dev/null; then printf '%s\\ton\\n' \"$o\"; ",
    "else printf '%s\\toff\\n' \"$o\"; r=1; fi; done; return $r; fi; ",
    "if [ $# -eq 0 ]; then local l; builtin shopt | while IFS= read -r l; do printf '%s\\n' \"${l// /}\"; done; return; fi; ",
    "builtin shopt \"$@\"; }\n",
);

const SET_LISTING: &str = "set() { if [ $# -eq 1 ] && { [ \"$1\" = -o ] || [ \"$1\" = +o ]; }; then local l; builtin set \"$1\" | while IFS= read -r l; do printf '%s\\n' \"${l// /}\"; done; return; fi; builtin set \"$@\"; }\n";

fn lists_set_options(script: &str) -> bool {
    let b = script.as_bytes();
    ["set -o", "set +o"].iter().any(|pat| {
        script.match_indices(pat).any(|(i, _)| {
            let before_ok = i == 0
                || matches!(
                    b[i - 1],
                    b' ' | b'\t' | b'\n' | b';' | b'(' | b'|' | b'&' | b'{'
                );
            let rest = script[i + pat.len()..].trim_start_matches([' ', '\t']);
            before_ok && (rest.is_empty() || rest.starts_with(['|', ';', '\n', ')', '&', '>']))
        })
    })
}

pub struct ShellSpec<'a> {
    pub script: &'a str,
    pub dir: &'a Path,
    pub env: &'a [(String, String)],
    pub set: &'a [String],
    pub shopt: &'a [String],
    pub timeout: Option<Duration>,
    /// Interactive commands keep the terminal's process group.
    pub interactive: bool,
    pub cancelled: &'a Arc<AtomicBool>,
}

#[cfg(test)]
mod tests {
    use super::trivial;

    #[test]
    fn trivial_commands_match_the_shell() {
        assert_eq!(trivial("true"), Some((0, vec![])));
        assert_eq!(trivial("false"), Some((1, vec![])));
        assert_eq!(trivial("echo a b-c"), Some((0, b"a b-c\n".to_vec())));
        assert_eq!(trivial("echo $HOME"), None);
        assert_eq!(trivial("echo -n x"), None);
        assert_eq!(trivial("echo 'a'"), None);
        assert_eq!(trivial("true && false"), None);
    }

    #[test]
    fn only_option_listings_get_the_set_wrapper() {
        use super::lists_set_options;
        assert!(lists_set_options("set -o | grep pipefail"));
        assert!(lists_set_options("set +o"));
        assert!(!lists_set_options("set -o pipefail; echo x"));
        assert!(!lists_set_options("set -- a b"));
        assert!(!lists_set_options("reset -o"));
    }
}

#[derive(Debug)]
pub enum ShellError {
    Exit(i32),
    /// mvdan's `line:col: message` for a command that is not valid shell (nothing ran).
    Syntax(String),
    Timeout,
    Io(String),
}

/// Where a command's output goes.
pub enum Sink {
    Inherit,
    /// stdout and stderr merged into one buffer, handed over when the command ends.
    Buffer(Box<dyn FnOnce(Vec<u8>, bool) + Send>),
    /// Each line of stdout / stderr handed over as it arrives.
    Lines(Box<dyn Fn(&[u8], bool) + Send + Sync>),
    /// Like `Inherit` (each stream to ours as it arrives), and also recorded per stream
    /// for the task cache.
    Tee(Arc<Captured>),
}

/// A command's stdout and stderr as recorded by [`Sink::Tee`].
#[derive(Default)]
pub struct Captured {
    pub out: Mutex<Vec<u8>>,
    pub err: Mutex<Vec<u8>>,
}

/// Forwards `r` to our own stream (`is_err`: stderr) chunk by chunk, recording it too.
fn tee_pump(r: os_pipe::PipeReader, done: &AtomicBool, cap: &Captured, is_err: bool) {
    use std::io::Write;
    pump(r, done, |c| {
        if is_err {
            let mut e = std::io::stderr().lock();
            let _ = e.write_all(c);
            let _ = e.flush();
            cap.err.lock().unwrap().extend_from_slice(c);
        } else {
            let mut o = std::io::stdout().lock();
            let _ = o.write_all(c);
            let _ = o.flush();
            cap.out.lock().unwrap().extend_from_slice(c);
        }
    })
}

type TeePipes = Option<(os_pipe::PipeReader, os_pipe::PipeReader)>;

/// Process groups of running commands, so that signals can be forwarded to them.
static RUNNING: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// Sends `sig` to every running command's process group.
pub fn forward_signal(sig: i32) {
    for pid in RUNNING.lock().unwrap().iter() {
        unsafe {
            libc::killpg(*pid as i32, sig);
        }
    }
}

fn bash_args(set: &[String], shopt: &[String], script: &str) -> Vec<String> {
    let mut args = vec![
        "--noprofile".to_string(),
        "--norc".to_string(),
        "-e".to_string(),
    ];
    for s in set {
        if s.len() == 1 {
            args.push(format!("-{s}"));
        } else {
            args.push("-o".into());
            args.push(s.clone());
        }
    }
    for s in shopt {
        args.push("-O".into());
        args.push(s.clone());
    }
    args.push("-c".into());
    // `set -o` alone lists options; mvdan prints "name\ton". Only scripts that list options
    // get the wrapper, since a `set` function cannot set the script's positional parameters.
    let set_wrapper = if lists_set_options(script) {
        SET_LISTING
    } else {
        ""
    };
    args.push(format!("{PRELUDE}{set_wrapper}{script}"));
    args
}

fn expr(spec: &ShellSpec) -> duct::Expression {
    let mut e = duct::cmd("bash", bash_args(spec.set, spec.shopt, spec.script))
        .dir(spec.dir)
        .full_env(spec.env.iter().map(|(k, v)| (k.clone(), v.clone())))
        .unchecked();
    if !spec.interactive {
        // Own process group: a timeout or a forwarded signal reaches the whole pipeline.
        e = e.before_spawn(|cmd| {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
            Ok(())
        });
    }
    e
}

/// Trivial commands (`true`, `:`, `false`, `echo` of plain words) run in-process, as
/// go-task's embedded interpreter runs them: no shell start-up for the commonest no-ops.
fn trivial(script: &str) -> Option<(i32, Vec<u8>)> {
    let script = script.trim();
    let plain = |w: &str| {
        !w.is_empty()
            && w.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_./,:=@%+-".contains(&b))
    };
    let mut words = script.split(' ');
    match words.next()? {
        "true" | ":" if script.len() <= 4 && !script.contains(' ') => Some((0, vec![])),
        "false" if script == "false" => Some((1, vec![])),
        "echo" => {
            let args: Vec<&str> = words.collect();
            if args.iter().all(|w| plain(w) && !w.starts_with('-')) {
                let mut out = args.join(" ").into_bytes();
                out.push(b'\n');
                Some((0, out))
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The script prepared for the embedded interpreter; `Construct` only under
/// `OXTASK_SHELL=bash` (every command to bash, for comparison).
fn embedded(script: &str, set: &[String], shopt: &[String]) -> Result<Prepared, Unsupported> {
    if std::env::var_os("OXTASK_SHELL").is_some_and(|v| v == "bash") {
        return Err(Unsupported::Construct("OXTASK_SHELL=bash".into()));
    }
    // No construct falls back to bash (docs/shell.md): one the interpreter does not run is
    // an error reported before anything of the command runs, as a syntax error is.
    crate::shell::prepare(script, set, shopt).map_err(|e| match e {
        Unsupported::Construct(_) => Unsupported::Syntax(e.to_string()),
        e => e,
    })
}

fn dup_std(fd: i32) -> std::io::Result<OwnedFd> {
    unsafe { BorrowedFd::borrow_raw(fd) }.try_clone_to_owned()
}

/// A failure to start bash, naming why the embedded interpreter did not run the script.
fn bash_error(e: impl std::fmt::Display, why: &Unsupported) -> ShellError {
    ShellError::Io(format!("{e} (bash runs this command: {why})"))
}

fn run_embedded(spec: &ShellSpec, prep: Prepared, sink: Sink) -> Result<(), ShellError> {
    let io_err = |e: std::io::Error| ShellError::Io(e.to_string());
    let stdin = dup_std(0)
        .or_else(|_| crate::shell::open_null())
        .map_err(io_err)?;
    let mut tee: TeePipes = None;
    let (io, reader) = match &sink {
        Sink::Inherit => (
            Io::new(
                stdin,
                dup_std(1).map_err(io_err)?,
                dup_std(2).map_err(io_err)?,
            ),
            None,
        ),
        Sink::Tee(_) => {
            let (ro, wo) = os_pipe::pipe().map_err(io_err)?;
            let (re, we) = os_pipe::pipe().map_err(io_err)?;
            tee = Some((ro, re));
            (Io::new(stdin, OwnedFd::from(wo), OwnedFd::from(we)), None)
        }
        _ => {
            // One pipe for both streams (see `run`).
            let (r, w) = os_pipe::pipe().map_err(io_err)?;
            let w2 = w.try_clone().map_err(io_err)?;
            (Io::new(stdin, OwnedFd::from(w), OwnedFd::from(w2)), Some(r))
        }
    };
    let rt = Rt::new(spec.interactive, &RUNNING, super::signals::arm);
    let shell_done = AtomicBool::new(false);
    let (status, buf) = std::thread::scope(|s| {
        let done = &shell_done;
        let lines = match &sink {
            Sink::Lines(f) => Some(f),
            _ => None,
        };
        if let (Sink::Tee(cap), Some((ro, re))) = (&sink, tee.take()) {
            s.spawn(move || tee_pump(ro, done, cap, false));
            s.spawn(move || tee_pump(re, done, cap, true));
        }
        let reader = reader.map(|r| {
            s.spawn(move || {
                let mut buf = vec![];
                match lines {
                    Some(f) => {
                        let mut line: Vec<u8> = vec![];
                        pump(r, done, |c| {
                            line.extend_from_slice(c);
                            while let Some(i) = line.iter().position(|&b| b == b'\n') {
                                let rest = line.split_off(i + 1);
                                f(&line, false);
                                line = rest;
                            }
                        });
                        if !line.is_empty() {
                            f(&line, false);
                        }
                    }
                    None => pump(r, done, |c| buf.extend_from_slice(c)),
                }
                buf
            })
        });
        // The interpreter runs on this thread; one shared watchdog stops it on a timeout
        // or a failfast abort (a thread per command cost more than a `true` itself).
        let deadline = spec.timeout.map(|d| Instant::now() + d);
        let watch = watchdog::Watch::new(&rt, deadline, spec.cancelled);
        let code = stacker::maybe_grow(1 << 20, 2 << 20, || {
            crate::shell::run(&prep, spec.dir, spec.env, &io, rt.clone())
        });
        // Close our ends of the output pipe before waiting, so readers see EOF.
        drop(io);
        let status = match watch.finish() {
            Some(watchdog::Fired::Timeout) => Err(ShellError::Timeout),
            Some(watchdog::Fired::Cancelled) => Err(ShellError::Exit(130)),
            None => Ok(code),
        };
        shell_done.store(true, Ordering::SeqCst);
        let buf = reader.map(|t| t.join().unwrap_or_default());
        (status, buf)
    });
    let code = match status {
        Ok(c) => c,
        Err(e) => {
            if let (Sink::Buffer(f), Some(b)) = (sink, buf) {
                f(b, false);
            }
            return Err(e);
        }
    };
    let fatal = rt.fatal.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let (Sink::Buffer(f), Some(b)) = (sink, buf) {
        f(b, code == 0 && fatal.is_none());
    }
    if let Some(m) = fatal {
        return Err(ShellError::Syntax(m));
    }
    if code == 0 {
        Ok(())
    } else {
        Err(ShellError::Exit(code))
    }
}

pub fn run(spec: &ShellSpec, sink: Sink) -> Result<(), ShellError> {
    let why = match embedded(spec.script, spec.set, spec.shopt) {
        Ok(p) => return run_embedded(spec, p, sink),
        Err(Unsupported::Syntax(m)) => return Err(ShellError::Syntax(m)),
        Err(why) => why,
    };
    if let Some((code, out)) = trivial(spec.script) {
        match sink {
            Sink::Inherit => {
                use std::io::Write;
                let mut o = std::io::stdout().lock();
                let _ = o.write_all(&out);
                let _ = o.flush();
            }
            Sink::Buffer(f) => f(out, code == 0),
            Sink::Lines(f) => {
                if !out.is_empty() {
                    f(&out, false)
                }
            }
            Sink::Tee(cap) => {
                use std::io::Write;
                let mut o = std::io::stdout().lock();
                let _ = o.write_all(&out);
                let _ = o.flush();
                cap.out.lock().unwrap().extend_from_slice(&out);
            }
        }
        return if code == 0 {
            Ok(())
        } else {
            Err(ShellError::Exit(code))
        };
    }
    super::signals::arm();
    let e = expr(spec);
    let mut readers = vec![];
    let mut tee: TeePipes = None;
    let (e, merged) = match &sink {
        Sink::Inherit => (e, None),
        Sink::Tee(_) => {
            let (ro, wo) = os_pipe::pipe().map_err(|e| ShellError::Io(e.to_string()))?;
            let (re, we) = os_pipe::pipe().map_err(|e| ShellError::Io(e.to_string()))?;
            tee = Some((ro, re));
            (e.stdout_file(wo).stderr_file(we), None)
        }
        Sink::Buffer(_) => {
            let (r, w) = os_pipe::pipe().map_err(|e| ShellError::Io(e.to_string()))?;
            let w2 = w.try_clone().map_err(|e| ShellError::Io(e.to_string()))?;
            (e.stdout_file(w).stderr_file(w2), Some(r))
        }
        Sink::Lines(_) => {
            // One pipe for both streams: go-task's prefixed writer is shared by stdout and
            // stderr, so lines come out in the order the command wrote them.
            let (r, w) = os_pipe::pipe().map_err(|e| ShellError::Io(e.to_string()))?;
            let w2 = w.try_clone().map_err(|e| ShellError::Io(e.to_string()))?;
            readers.push((r, false));
            (e.stdout_file(w).stderr_file(w2), None)
        }
    };
    let handle = e.start().map_err(|e| bash_error(e, &why))?;
    // The expression holds the pipe writers; drop it so readers see EOF.
    drop(e);
    let pids = handle.pids();
    if !spec.interactive {
        RUNNING.lock().unwrap().extend(pids.iter().copied());
    }
    // Set when the shell has exited: a background process (`daemon &`) may hold the pipes
    // open for ever, so readers then stop once the pipe is idle (as go-task, which does not
    // wait for background jobs).
    let shell_done = AtomicBool::new(false);
    let result = std::thread::scope(|s| {
        let done = &shell_done;
        let buf_thread = merged.map(|r| {
            s.spawn(move || {
                let mut buf = vec![];
                pump(r, done, |c| buf.extend_from_slice(c));
                buf
            })
        });
        if let (Sink::Tee(cap), Some((ro, re))) = (&sink, tee.take()) {
            s.spawn(move || tee_pump(ro, done, cap, false));
            s.spawn(move || tee_pump(re, done, cap, true));
        }
        if let Sink::Lines(f) = &sink {
            for (r, is_err) in readers.drain(..) {
                s.spawn(move || {
                    let mut line: Vec<u8> = vec![];
                    pump(r, done, |c| {
                        line.extend_from_slice(c);
                        while let Some(i) = line.iter().position(|&b| b == b'\n') {
                            let rest = line.split_off(i + 1);
                            f(&line, is_err);
                            line = rest;
                        }
                    });
                    if !line.is_empty() {
                        f(&line, is_err);
                    }
                });
            }
        }
        let deadline = spec.timeout.map(|d| Instant::now() + d);
        let status = loop {
            let step = Duration::from_millis(20);
            match handle.wait_timeout(step) {
                Ok(Some(out)) => break Ok(out.status),
                Ok(None) => {}
                Err(e) => break Err(ShellError::Io(e.to_string())),
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                for p in &pids {
                    unsafe {
                        libc::killpg(*p as i32, libc::SIGKILL);
                    }
                }
                let _ = handle.kill();
                break Err(ShellError::Timeout);
            }
            if spec.cancelled.load(Ordering::Relaxed) {
                for p in &pids {
                    unsafe {
                        libc::killpg(*p as i32, libc::SIGKILL);
                    }
                }
                let _ = handle.kill();
                break Err(ShellError::Exit(130));
            }
        };
        shell_done.store(true, Ordering::SeqCst);
        let buf = buf_thread.map(|t| t.join().unwrap_or_default());
        (status, buf)
    });
    RUNNING.lock().unwrap().retain(|p| !pids.contains(p));
    let (status, buf) = result;
    let code = match status {
        Ok(st) => exit_code(&st),
        Err(e) => {
            if let (Sink::Buffer(f), Some(b)) = (sink, buf) {
                f(b, false);
            }
            return Err(e);
        }
    };
    if let (Sink::Buffer(f), Some(b)) = (sink, buf) {
        f(b, code == 0);
    }
    if code == 0 {
        Ok(())
    } else {
        Err(ShellError::Exit(code))
    }
}

/// After the shell exits, how long a pipe may stay silent before its reader stops, and the
/// most time spent reading output of background processes.
const DRAIN_IDLE: Duration = Duration::from_millis(50);
const DRAIN_MAX: Duration = Duration::from_secs(2);

/// Reads `r` until EOF, handing each chunk to `out`; once `done` is set, stops after the
/// pipe has been idle for [`DRAIN_IDLE`] or after [`DRAIN_MAX`] in all.
fn pump(mut r: os_pipe::PipeReader, done: &AtomicBool, mut out: impl FnMut(&[u8])) {
    use std::os::fd::AsRawFd;
    let fd = r.as_raw_fd();
    let mut buf = vec![0u8; 64 * 1024];
    let mut done_at: Option<Instant> = None;
    loop {
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        let wait = if done_at.is_some() {
            DRAIN_IDLE
        } else {
            Duration::from_millis(20)
        };
        let n = unsafe { libc::poll(&mut pfd, 1, wait.as_millis() as libc::c_int) };
        if n < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return;
        }
        if n == 0 {
            match done_at {
                Some(_) => return, // idle after the shell exited
                None if done.load(Ordering::SeqCst) => done_at = Some(Instant::now()),
                None => {}
            }
            continue;
        }
        match r.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(k) => out(&buf[..k]),
        }
        if done_at.is_none() && done.load(Ordering::SeqCst) {
            done_at = Some(Instant::now());
        }
        if done_at.is_some_and(|t| t.elapsed() > DRAIN_MAX) {
            return;
        }
    }
}

fn exit_code(st: &std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    st.code().unwrap_or_else(|| 128 + st.signal().unwrap_or(0))
}

/// Runs a check (`status`, `if`, `preconditions`) and reports success; output discarded
/// except stderr, as go-task does.
pub fn status(
    cmd: &str,
    dir: &Path,
    env: &[(String, String)],
    set: &[String],
    shopt: &[String],
) -> bool {
    match embedded(cmd, set, shopt) {
        Ok(p) => return quiet_embedded(&p, dir, env) == Some(0),
        // A check that does not parse fails (go-task: the task runs, the precondition fails).
        Err(Unsupported::Syntax(_)) => return false,
        Err(_) => {}
    }
    // go-task runs status, precondition and `if:` commands with no stdio: their output,
    // stderr included, is discarded.
    duct::cmd("bash", bash_args(set, shopt, cmd))
        .dir(dir)
        .full_env(env.iter().map(|(k, v)| (k.clone(), v.clone())))
        .stdout_null()
        .stderr_null()
        .unchecked()
        .run()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Runs a `sh:` variable: stdout captured, stderr passed through.
pub fn capture(cmd: &str, dir: &Path, env: &[(String, String)]) -> Result<String, String> {
    let prepared = match embedded(cmd, &[], &[]) {
        Err(Unsupported::Syntax(m)) => return Err(m),
        p => p,
    };
    if let Ok(p) = prepared {
        let io_err = |e: std::io::Error| e.to_string();
        let (mut r, w) = os_pipe::pipe().map_err(io_err)?;
        // go-task gives `sh:` no stdin; stderr goes to ours.
        let io = Io::new(
            crate::shell::open_null().map_err(io_err)?,
            OwnedFd::from(w),
            dup_std(2).map_err(io_err)?,
        );
        let (code, out, fatal) = std::thread::scope(|s| {
            let h = s.spawn(move || {
                let mut v = vec![];
                let _ = r.read_to_end(&mut v);
                v
            });
            let rt = Rt::new(false, &RUNNING, super::signals::arm);
            let code = crate::shell::run(&p, dir, env, &io, rt.clone());
            drop(io);
            let fatal = rt.fatal.lock().unwrap_or_else(|e| e.into_inner()).take();
            (code, h.join().unwrap_or_default(), fatal)
        });
        if let Some(m) = fatal {
            return Err(m);
        }
        if code != 0 {
            return Err(format!("exit status {code}"));
        }
        return Ok(String::from_utf8_lossy(&out).into_owned());
    }
    let out = duct::cmd("bash", bash_args(&[], &[], cmd))
        .dir(dir)
        .full_env(env.iter().map(|(k, v)| (k.clone(), v.clone())))
        .stdout_capture()
        .unchecked()
        .run()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("exit status {}", exit_code(&out.status)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs a check with no stdio (go-task gives status, precondition and `if:` commands none).
fn quiet_embedded(p: &Prepared, dir: &Path, env: &[(String, String)]) -> Option<i32> {
    quiet_run(p, dir, env, Rt::new(false, &RUNNING, super::signals::arm))
}

fn quiet_run(p: &Prepared, dir: &Path, env: &[(String, String)], rt: Arc<Rt>) -> Option<i32> {
    let null = || crate::shell::open_null().ok();
    let io = Io::new(null()?, null()?, null()?);
    Some(crate::shell::run(p, dir, env, &io, rt))
}

/// Like [`status`], bounded by `limit`: `None` when it ran out of time (and was killed).
pub fn status_within(
    cmd: &str,
    dir: &Path,
    env: &[(String, String)],
    set: &[String],
    shopt: &[String],
    limit: Option<Duration>,
) -> Option<bool> {
    let Some(limit) = limit else {
        return Some(status(cmd, dir, env, set, shopt));
    };
    let prepared = match embedded(cmd, set, shopt) {
        Err(Unsupported::Syntax(_)) => return Some(false),
        p => p,
    };
    if let Ok(p) = prepared {
        // Owned copies: on timeout the interpreter thread is abandoned (its children killed).
        let (dir, env) = (dir.to_path_buf(), env.to_vec());
        let rt = Rt::new(false, &RUNNING, super::signals::arm);
        let rt2 = rt.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(quiet_run(&p, &dir, &env, rt2));
        });
        return match rx.recv_timeout(limit) {
            Ok(code) => Some(code == Some(0)),
            Err(_) => {
                rt.kill();
                None
            }
        };
    }
    let h = duct::cmd("bash", bash_args(set, shopt, cmd))
        .dir(dir)
        .full_env(env.iter().map(|(k, v)| (k.clone(), v.clone())))
        .stdout_null()
        .stderr_null()
        .unchecked()
        .before_spawn(|c| {
            use std::os::unix::process::CommandExt;
            c.process_group(0);
            Ok(())
        })
        .start()
        .ok()?;
    match h.wait_timeout(limit) {
        Ok(Some(out)) => Some(out.status.success()),
        _ => {
            for p in h.pids() {
                unsafe {
                    libc::killpg(p as i32, libc::SIGKILL);
                }
            }
            let _ = h.kill();
            None
        }
    }
}

/// One thread for every embedded command that may have to be stopped from outside: it
/// kills a command whose `timeout:` has passed or whose run was aborted (failfast).
mod watchdog {
    use crate::shell::Rt;
    use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
    use std::sync::{Arc, Condvar, Mutex};
    use std::time::{Duration, Instant};

    #[derive(Debug, Clone, Copy, PartialEq)]
    pub enum Fired {
        Timeout,
        Cancelled,
    }

    struct Entry {
        id: u64,
        rt: Arc<Rt>,
        deadline: Option<Instant>,
        cancelled: Arc<AtomicBool>,
        fired: Arc<AtomicU8>,
    }

    struct State {
        next: u64,
        entries: Vec<Entry>,
        started: bool,
    }

    static STATE: Mutex<State> = Mutex::new(State {
        next: 0,
        entries: Vec::new(),
        started: false,
    });
    static WAKE: Condvar = Condvar::new();
    /// How often deadlines and the abort flag are looked at.
    const STEP: Duration = Duration::from_millis(20);

    /// A command under watch until [`Watch::finish`] (or drop).
    pub struct Watch {
        id: u64,
        fired: Arc<AtomicU8>,
    }

    impl Watch {
        pub fn new(rt: &Arc<Rt>, deadline: Option<Instant>, cancelled: &Arc<AtomicBool>) -> Watch {
            let fired = Arc::new(AtomicU8::new(0));
            let mut st = STATE.lock().unwrap_or_else(|e| e.into_inner());
            let id = st.next;
            st.next += 1;
            st.entries.push(Entry {
                id,
                rt: rt.clone(),
                deadline,
                cancelled: cancelled.clone(),
                fired: fired.clone(),
            });
            if !st.started {
                st.started = true;
                std::thread::spawn(run);
            }
            drop(st);
            WAKE.notify_one();
            Watch { id, fired }
        }

        /// Stops watching; what stopped the command, if the watchdog did.
        pub fn finish(self) -> Option<Fired> {
            match self.fired.load(Ordering::SeqCst) {
                1 => Some(Fired::Timeout),
                2 => Some(Fired::Cancelled),
                _ => None,
            }
        }
    }

    impl Drop for Watch {
        fn drop(&mut self) {
            let mut st = STATE.lock().unwrap_or_else(|e| e.into_inner());
            st.entries.retain(|e| e.id != self.id);
        }
    }

    fn run() {
        let mut st = STATE.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            // Nothing to watch: sleep until a command registers.
            while st.entries.is_empty() {
                st = WAKE.wait(st).unwrap_or_else(|e| e.into_inner());
            }
            let now = Instant::now();
            for e in &st.entries {
                if e.fired.load(Ordering::SeqCst) != 0 {
                    continue;
                }
                let why = if e.deadline.is_some_and(|d| now >= d) {
                    1
                } else if e.cancelled.load(Ordering::Relaxed) {
                    2
                } else {
                    continue;
                };
                e.fired.store(why, Ordering::SeqCst);
                e.rt.kill();
            }
            st = WAKE
                .wait_timeout(st, STEP)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}
