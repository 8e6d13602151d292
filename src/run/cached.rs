//! The runner's side of the task cache (crate::cache) and of the opt-in definition
//! fingerprint: which tasks are cacheable, their key material, restoring a hit (files,
//! then the recorded output through the task's output mode), recording a miss.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;

use super::output::Color;
use super::shell::{Captured, Sink};
use super::{fingerprint, Executor};
use crate::cache::{self, Generates, Key, KeyMaterial, Lookup};
use crate::compile::{Call, CompiledCmd, CompiledTask};
use crate::taskfile::ast::Output;

/// What the commands of the task being recorded on this thread wrote.
pub(super) struct Recording {
    pub cap: Arc<Captured>,
    /// False once an error was ignored: only clean (exit 0) runs are cached.
    pub clean: std::cell::Cell<bool>,
}

thread_local! {
    pub(super) static RECORDING: RefCell<Option<Rc<Recording>>> = const { RefCell::new(None) };
}

/// A task's cache key and what its `generates` allow.
pub(super) struct Keyed {
    pub key: Key,
    pub gen: Generates,
    pub gen_specs: Vec<fingerprint::GlobSpec>,
}

/// Wraps a command's sink so its output is also recorded (when a recording is on).
pub(super) fn record_sink(sink: Sink) -> Sink {
    let Some(rec) = RECORDING.with(|r| r.borrow().clone()) else {
        return sink;
    };
    let cap = rec.cap.clone();
    match sink {
        Sink::Inherit => Sink::Tee(cap),
        Sink::Tee(c) => Sink::Tee(c),
        // Group and prefixed modes merge the streams: recorded as stdout, replayed through
        // the same mode.
        Sink::Buffer(f) => Sink::Buffer(Box::new(move |buf, ok| {
            cap.out.lock().unwrap().extend_from_slice(&buf);
            f(buf, ok)
        })),
        Sink::Lines(f) => Sink::Lines(Box::new(move |line, is_err| {
            cap.out.lock().unwrap().extend_from_slice(line);
            if !line.ends_with(b"\n") {
                cap.out.lock().unwrap().push(b'\n');
            }
            f(line, is_err)
        })),
    }
}

/// Marks the current recording as not cacheable (an error was ignored).
pub(super) fn taint() {
    RECORDING.with(|r| {
        if let Some(rec) = r.borrow().as_ref() {
            rec.clean.set(false);
        }
    });
}

impl Executor {
    /// The key material of `t` (without the sources, which the caller adds).
    fn definition(&self, t: &CompiledTask, call: &Call) -> KeyMaterial {
        let p = self.project();
        let mut cmds = vec![];
        for c in &t.cmds {
            match c {
                CompiledCmd::Shell {
                    cmd,
                    defer,
                    if_,
                    platforms,
                    set,
                    shopt,
                    ignore_error,
                    ..
                } => cmds.push(format!(
                    "{}{cmd}\0if={}\0platforms={}\0set={}\0shopt={}\0ignore={ignore_error}",
                    if *defer { "defer:" } else { "" },
                    if_.as_deref().unwrap_or(""),
                    platforms.join(","),
                    set.join(","),
                    shopt.join(",")
                )),
                CompiledCmd::Task { call, .. } => cmds.push(format!("task:{}", call.task)),
            }
        }
        // Vars the Taskfiles declare for this call (not the OS environment, which would make
        // every CI machine's key different).
        let e = &t.entry;
        let mut names: Vec<&String> = p.root.vars.keys().collect();
        names.extend(e.origin.include_vars.keys());
        if let Some(tv) = &e.origin.taskfile_vars {
            names.extend(tv.0.keys());
        }
        names.extend(call.vars.keys());
        names.extend(e.task.vars.keys());
        names.sort();
        names.dedup();
        let vars = names
            .into_iter()
            .filter_map(|n| {
                t.vars
                    .get(n)
                    .map(|v| (n.clone(), crate::template::go_format(v)))
            })
            .collect();
        let mut root_set = p.root.set.clone();
        root_set.extend(p.root.shopt.iter().map(|s| format!("shopt:{s}")));
        cmds.push(format!("\0root-set={}", root_set.join(",")));
        KeyMaterial {
            root: p.root_dir.clone(),
            taskfile: e.origin.taskfile.clone(),
            dir: t.dir.clone(),
            cmds,
            env: t.env.clone(),
            vars,
            generates: vec![],
            sources: vec![],
        }
    }

    /// A task is cached when a cache is configured, it declares `sources` and `generates`,
    /// and everything it does is in its own commands (no `task:` calls, not interactive).
    fn cacheable(&self, t: &CompiledTask) -> bool {
        self.opts.cache.is_some()
            && !t.sources.is_empty()
            && !t.generates.is_empty()
            && !t.task().interactive
            && !t.cmds.iter().any(|c| matches!(c, CompiledCmd::Task { .. }))
    }

    pub(super) fn cache_key(&self, t: &CompiledTask, call: &Call) -> Option<Keyed> {
        if !self.cacheable(t) {
            return None;
        }
        let (sources, generates, _) = self.compiler.fingerprint_inputs(t.task(), &t.vars).ok()?;
        let gitignore = self.compiler.use_gitignore(&t.entry);
        let mut m = self.definition(t, call);
        m.sources = fingerprint::expand_globs(&t.dir, &sources, gitignore);
        m.generates = generates
            .iter()
            .map(|g| {
                if g.exclude {
                    format!("!{}", g.pattern)
                } else {
                    g.pattern.clone()
                }
            })
            .collect();
        let platform = format!("{}/{}", super::go_os(), super::go_arch());
        let key = match m.key(&platform) {
            Ok(k) => k,
            Err(e) => {
                self.verbose(
                    Color::Magenta,
                    &format!("task: [{}] not cached: reading sources: {e}\n", t.display()),
                );
                return None;
            }
        };
        let pats: Vec<(String, bool)> = generates
            .iter()
            .map(|g| (g.pattern.clone(), g.exclude))
            .collect();
        Some(Keyed {
            key,
            gen: Generates::new(&t.dir, &pats),
            gen_specs: generates,
        })
    }

    fn quiet(&self, t: &CompiledTask, call: &Call) -> bool {
        self.opts.silent || t.task().silent || call.silent || self.project().root.silent
    }

    /// Looks `k` up; on a hit restores the files and replays the output. True when the
    /// task is done. With `--dry` a hit is reported and nothing is written.
    pub(super) fn try_restore(&self, t: &CompiledTask, call: &Call, k: &Keyed) -> bool {
        let Some(c) = &self.opts.cache else {
            return false;
        };
        let entry = match c.get(&k.key) {
            Lookup::Hit(e) => e,
            Lookup::Refused(why) => {
                self.printer.log(&format!(
                    "task: [{}] cache entry ignored: {why}\n",
                    t.display()
                ));
                return false;
            }
            Lookup::Miss => {
                self.verbose(
                    Color::Magenta,
                    &format!(
                        "task: [{}] cache miss {}\n",
                        t.display(),
                        cache::key_hex(&k.key)
                    ),
                );
                return false;
            }
            Lookup::Off => return false,
        };
        if let Err(e) = cache::validate(&entry, &k.gen) {
            self.printer.log(&format!(
                "task: [{}] cache entry ignored: {e}\n",
                t.display()
            ));
            return false;
        }
        if self.opts.dry {
            self.printer.log(&format!(
                "task: [{}] would be restored from cache {} ({} files)\n",
                t.display(),
                c.name(),
                entry.files.len()
            ));
            return true;
        }
        let _ = std::fs::create_dir_all(&t.dir);
        if let Err(e) = cache::restore(&t.dir, &entry, &k.gen) {
            self.printer.log(&format!(
                "task: [{}] cache entry ignored: {e}\n",
                t.display()
            ));
            return false;
        }
        if !self.quiet(t, call) || self.opts.verbose {
            self.printer.log_color(
                Color::Green,
                &format!(
                    "task: [{}] restored from cache {} ({} files)\n",
                    t.display(),
                    c.name(),
                    entry.files.len()
                ),
            );
        }
        self.replay(t, &entry);
        true
    }

    /// The recorded output, as the task's output mode would have shown it.
    fn replay(&self, t: &CompiledTask, e: &cache::Entry) {
        match self.output_mode() {
            Output::Interleaved => {
                if !e.stdout.is_empty() {
                    self.printer.out(&e.stdout);
                }
                if !e.stderr.is_empty() {
                    self.printer.log_bytes(&e.stderr);
                }
            }
            mode => {
                let mut all = e.stdout.clone();
                all.extend_from_slice(&e.stderr);
                match self.printer.sink(&mode, t, &self.compiler) {
                    Sink::Buffer(f) => f(all, true),
                    Sink::Lines(f) => {
                        for line in all.split_inclusive(|&b| b == b'\n') {
                            f(line, false);
                        }
                    }
                    _ => self.printer.out(&all),
                }
            }
        }
    }

    /// Starts recording the commands' output on this thread; returns the previous state.
    pub(super) fn start_recording(&self) -> (Rc<Recording>, Option<Rc<Recording>>) {
        let rec = Rc::new(Recording {
            cap: Arc::new(Captured::default()),
            clean: std::cell::Cell::new(true),
        });
        let prev = RECORDING.with(|r| r.borrow_mut().replace(rec.clone()));
        (rec, prev)
    }

    pub(super) fn stop_recording(&self, prev: Option<Rc<Recording>>) {
        RECORDING.with(|r| *r.borrow_mut() = prev);
    }

    /// After a clean run: stores the generated files and the output under `k`.
    pub(super) fn record(&self, t: &CompiledTask, k: &Keyed, rec: &Recording) {
        let Some(c) = &self.opts.cache else { return };
        if !rec.clean.get() || c.mode() == cache::Mode::Read {
            return;
        }
        let gitignore = self.compiler.use_gitignore(&t.entry);
        let files: Vec<PathBuf> = fingerprint::expand_globs(&t.dir, &k.gen_specs, gitignore);
        let Some(files) = cache::collect(&t.dir, &files, &k.gen) else {
            self.verbose(
                Color::Magenta,
                &format!(
                "task: [{}] not cached: its generates are not plain files inside the task dir\n",
                t.display()
            ),
            );
            return;
        };
        let entry = cache::Entry {
            files,
            stdout: std::mem::take(&mut *rec.cap.out.lock().unwrap()),
            stderr: std::mem::take(&mut *rec.cap.err.lock().unwrap()),
        };
        c.put(&k.key, entry);
    }

    // ---- definition fingerprint (opt-in) ---------------------------------------------

    fn definition_file(&self, t: &CompiledTask) -> PathBuf {
        self.opts
            .temp_dir
            .join("definition")
            .join(fingerprint::normalize_filename(t.display()))
    }

    fn definition_digest(&self, t: &CompiledTask, call: &Call) -> String {
        let mut m = self.definition(t, call);
        m.generates = t.generates.iter().map(|g| g.pattern.clone()).collect();
        // Sources are the fingerprint's own business; the globs themselves are definition.
        m.cmds
            .extend(t.sources.iter().map(|g| format!("\0source={}", g.pattern)));
        m.cmds
            .extend(t.status.iter().map(|s| format!("\0status={s}")));
        let platform = format!("{}/{}", super::go_os(), super::go_arch());
        m.key(&platform)
            .map(|k| cache::key_hex(&k))
            .unwrap_or_default()
    }

    /// With `--fingerprint-definition`: false when the task's definition changed since its
    /// last successful run (or was never recorded).
    pub(super) fn definition_current(&self, t: &CompiledTask, call: &Call) -> bool {
        if !self.opts.fingerprint_definition {
            return true;
        }
        let want = self.definition_digest(t, call);
        let have = std::fs::read_to_string(self.definition_file(t)).unwrap_or_default();
        let same = have.trim() == want;
        if !same {
            self.verbose(
                Color::Magenta,
                &format!(
                    "task: [{}] definition changed since its last run\n",
                    t.display()
                ),
            );
        }
        same
    }

    pub(super) fn save_definition(&self, t: &CompiledTask, call: &Call) {
        if !self.opts.fingerprint_definition
            || self.opts.dry
            || (t.sources.is_empty() && t.status.is_empty())
        {
            return;
        }
        let f = self.definition_file(t);
        if let Some(d) = f.parent() {
            let _ = std::fs::create_dir_all(d);
        }
        let _ = cache::write_file(
            &f,
            format!("{}\n", self.definition_digest(t, call)).as_bytes(),
            0o644,
        );
    }

    /// `--status` with a cache: a task the cache holds counts as current.
    pub(super) fn cached_status(&self, t: &CompiledTask, call: &Call) -> bool {
        let (Some(c), Some(k)) = (&self.opts.cache, self.cache_key(t, call)) else {
            return false;
        };
        match c.get(&k.key) {
            Lookup::Hit(e) if cache::validate(&e, &k.gen).is_ok() => {
                self.printer.log(&format!(
                    "task: Task \"{}\" is not up to date here, but cached in {}\n",
                    t.display(),
                    c.name()
                ));
                true
            }
            _ => false,
        }
    }

    /// `--json`: whether the cache holds the task (None: not cacheable or no cache).
    pub fn cache_hit(&self, call: &Call) -> Option<bool> {
        self.opts.cache.as_ref()?;
        let (entry, _, _) = self.resolve(&call.task).ok()?;
        let (t, _) = self.compiler.compile_fast(&entry, call).ok()?;
        let k = self.cache_key(&t, call)?;
        let c = self.opts.cache.as_ref()?;
        Some(matches!(c.get(&k.key), Lookup::Hit(e) if cache::validate(&e, &k.gen).is_ok()))
    }
}
