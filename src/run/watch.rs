//! Watch mode (`--watch`/`-w`, `watch: true`): run the called tasks, then re-run them when
//! a file in their `sources` (or their deps' and called tasks' sources) changes.
//!
//! Event-based (notify: inotify/FSEvents/kqueue), debounced by `--interval` / the
//! Taskfile's `interval:` (default 100ms): events are gathered until the interval passes
//! without a new one, then handled as one batch. Only the calls whose source set contains a
//! changed path (or whose set gained or lost files) run again; a run still going is
//! cancelled first. Messages are go-task 3.54's. SIGINT/SIGTERM end the loop: the running
//! commands get the signal, and the process exits 0 as go-task does.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use notify::{EventKind, RecursiveMode, Watcher};

use super::output::{Color, Printer};
use super::{fingerprint, Executor, TaskError};
use crate::compile::{Call, CompiledCmd};

/// go-task's debounce when neither `--interval` nor `interval:` is set.
pub const DEFAULT_INTERVAL: Duration = Duration::from_millis(100);

/// New directories can appear under a glob without an event we saw (created before their
/// watch was added); the sources are re-globbed this often, as go-task does.
const RESCAN: Duration = Duration::from_secs(5);

/// Directories go-task never watches.
const IGNORED: [&str; 4] = ["/.task", "/.git", "/.hg", "/node_modules"];

pub struct WatchOptions {
    pub interval: Duration,
    pub verbose: bool,
    pub color: bool,
    /// Relative paths in verbose messages are shown from here.
    pub root_dir: PathBuf,
}

/// Builds a fresh executor (and compiler) for each run, so caches of dynamic variables,
/// `run: once` state and call counters start over as in go-task's watch loop.
pub type MakeExecutor = dyn Fn() -> Executor + Send + Sync;

pub fn should_ignore(path: &Path) -> bool {
    let s = path.to_string_lossy();
    IGNORED
        .iter()
        .any(|p| s.contains(&format!("{p}/")) || s.ends_with(p))
}

enum Msg {
    Fs(notify::Result<notify::Event>),
    Signal,
    Done {
        cycle: u64,
        idx: usize,
        result: Result<(), TaskError>,
    },
}

/// What one call depends on: the files its globs match now, the directories to watch, and
/// the bases of `**` globs (where new subdirectories must be watched too).
#[derive(Default, Clone, PartialEq)]
struct Sources {
    files: HashSet<PathBuf>,
    dirs: HashSet<PathBuf>,
    deep: HashSet<PathBuf>,
}

struct Cycle {
    id: u64,
    exec: Arc<Executor>,
    running: HashSet<usize>,
    aborted: bool,
}

/// Runs `calls` and watches their sources until SIGINT/SIGTERM. Returns the exit code.
pub fn watch(calls: &[Call], make: Arc<MakeExecutor>, opts: &WatchOptions) -> i32 {
    let printer = Printer::new(opts.color);
    let names: Vec<&str> = calls.iter().map(|c| c.task.as_str()).collect();
    printer.log_color(
        Color::Green,
        &format!("task: Started watching for tasks: {}\n", names.join(", ")),
    );

    let (tx, rx) = mpsc::channel::<Msg>();
    install_signals(tx.clone());
    let fs_tx = tx.clone();
    let mut watcher = match notify::recommended_watcher(move |res| {
        let _ = fs_tx.send(Msg::Fs(res));
    }) {
        Ok(w) => w,
        Err(e) => {
            printer.log_color(Color::Red, &format!("{e}\n"));
            return 1;
        }
    };

    let mut state = State {
        opts,
        printer: printer.clone(),
        watched: HashSet::new(),
        deep: HashSet::new(),
        sources: vec![],
    };
    let scan_exec = make();
    state.sources = calls.iter().map(|c| state.collect(&scan_exec, c)).collect();
    state.register(&mut watcher);

    let mut next_id = 0u64;
    let start = |ids: &[usize], next_id: &mut u64| -> Cycle {
        *next_id += 1;
        let exec = Arc::new(make());
        for &i in ids {
            let (exec, call, tx, id) = (exec.clone(), calls[i].clone(), tx.clone(), *next_id);
            std::thread::spawn(move || {
                let result = exec.run_task(&call);
                let _ = tx.send(Msg::Done {
                    cycle: id,
                    idx: i,
                    result,
                });
            });
        }
        Cycle {
            id: *next_id,
            exec,
            running: ids.iter().copied().collect(),
            aborted: false,
        }
    };
    let all: Vec<usize> = (0..calls.len()).collect();
    let mut cycle = start(&all, &mut next_id);

    // path → the last operation seen for it, while the debounce runs.
    let mut pending: BTreeMap<PathBuf, &'static str> = BTreeMap::new();
    let mut last_event = Instant::now();
    let mut last_scan = Instant::now();
    loop {
        let wait = if pending.is_empty() {
            RESCAN.saturating_sub(last_scan.elapsed())
        } else {
            opts.interval.saturating_sub(last_event.elapsed())
        };
        match rx.recv_timeout(wait.max(Duration::from_millis(1))) {
            Ok(Msg::Signal) => {
                // The commands got the signal; give them a moment, then make sure they end
                // (they are in their own process groups: exiting would not stop them).
                drain(&rx, &mut cycle, Duration::from_secs(2));
                if !cycle.running.is_empty() {
                    cycle.exec.abort();
                    drain(&rx, &mut cycle, Duration::from_secs(2));
                }
                return 0;
            }
            Ok(Msg::Done {
                cycle: id,
                idx,
                result,
            }) => {
                if id != cycle.id {
                    continue;
                }
                cycle.running.remove(&idx);
                match result {
                    Ok(()) => printer.log_color(
                        Color::Green,
                        &format!("task: task \"{}\" finished running\n", calls[idx].task),
                    ),
                    Err(_) if cycle.aborted => {}
                    Err(e) => printer.log_color(Color::Red, &format!("{e}\n")),
                }
            }
            Ok(Msg::Fs(Ok(ev))) => {
                let op = match ev.kind {
                    EventKind::Create(_) => "CREATE",
                    EventKind::Remove(_) => "REMOVE",
                    EventKind::Modify(notify::event::ModifyKind::Name(_)) => "RENAME",
                    EventKind::Modify(notify::event::ModifyKind::Metadata(_)) => continue,
                    EventKind::Modify(_) => "WRITE",
                    _ => continue,
                };
                for p in ev.paths {
                    let p = crate::taskfile::clean(&p);
                    // A new directory under a `**` glob: watch it (and what it holds) now.
                    if op == "CREATE"
                        && p.is_dir()
                        && !should_ignore(&p)
                        && state.deep.iter().any(|b| p.starts_with(b))
                    {
                        state.watch_tree(&mut watcher, &p);
                    }
                    pending.insert(p, op);
                }
                last_event = Instant::now();
            }
            Ok(Msg::Fs(Err(e))) => printer.log_color(Color::Red, &format!("{e}\n")),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if !pending.is_empty() && last_event.elapsed() >= opts.interval {
                    let batch = std::mem::take(&mut pending);
                    let affected = state.affected(&make, calls, &batch);
                    state.register(&mut watcher);
                    if !affected.is_empty() {
                        cycle = restart(cycle, &rx, &affected, &start, &mut next_id);
                    }
                    last_scan = Instant::now();
                } else if pending.is_empty() && last_scan.elapsed() >= RESCAN {
                    // Files that appeared where no event reached us still count as changes.
                    let exec = make();
                    let fresh: Vec<Sources> =
                        calls.iter().map(|c| state.collect(&exec, c)).collect();
                    let changed: Vec<usize> = (0..calls.len())
                        .filter(|&i| fresh[i].files != state.sources[i].files)
                        .collect();
                    state.sources = fresh;
                    state.register(&mut watcher);
                    if !changed.is_empty() {
                        cycle = restart(cycle, &rx, &changed, &start, &mut next_id);
                    }
                    last_scan = Instant::now();
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => return 0,
        }
    }
}

/// Cancels what still runs of `cycle` and starts `ids` (plus the cancelled calls) afresh.
fn restart(
    mut cycle: Cycle,
    rx: &mpsc::Receiver<Msg>,
    ids: &[usize],
    start: &dyn Fn(&[usize], &mut u64) -> Cycle,
    next_id: &mut u64,
) -> Cycle {
    let mut ids: Vec<usize> = ids.to_vec();
    if !cycle.running.is_empty() {
        cycle.aborted = true;
        cycle.exec.abort();
        ids.extend(cycle.running.iter().copied());
        // Wait for the cancelled calls so their commands are gone before the new run.
        drain(rx, &mut cycle, Duration::from_secs(10));
    }
    ids.sort_unstable();
    ids.dedup();
    start(&ids, next_id)
}

/// Waits up to `limit` for the running calls of `cycle` to report back.
fn drain(rx: &mpsc::Receiver<Msg>, cycle: &mut Cycle, limit: Duration) {
    let deadline = Instant::now() + limit;
    while !cycle.running.is_empty() && Instant::now() < deadline {
        if let Ok(Msg::Done { cycle: id, idx, .. }) = rx.recv_timeout(Duration::from_millis(50)) {
            if id == cycle.id {
                cycle.running.remove(&idx);
            }
        }
    }
}

struct State<'a> {
    opts: &'a WatchOptions,
    printer: Printer,
    watched: HashSet<PathBuf>,
    deep: HashSet<PathBuf>,
    sources: Vec<Sources>,
}

impl State<'_> {
    fn verbose(&self, color: Color, msg: &str) {
        if self.opts.verbose {
            self.printer.log_color(color, msg);
        }
    }

    fn rel(&self, p: &Path) -> String {
        fingerprint::glob::rel(&self.opts.root_dir, p)
            .display()
            .to_string()
    }

    /// The sources of `call`, its deps and the tasks it calls. Errors are printed (go-task
    /// keeps watching).
    fn collect(&self, exec: &Executor, call: &Call) -> Sources {
        let mut out = Sources::default();
        let mut seen = HashSet::new();
        if let Err(e) = visit(exec, call, &mut out, &mut seen, 0) {
            self.printer.log_color(Color::Red, &format!("{e}\n"));
        }
        out
    }

    /// Which calls a batch of changed paths concerns; refreshes the source sets.
    fn affected(
        &mut self,
        make: &Arc<MakeExecutor>,
        calls: &[Call],
        batch: &BTreeMap<PathBuf, &'static str>,
    ) -> Vec<usize> {
        let exec = make();
        let fresh: Vec<Sources> = calls.iter().map(|c| self.collect(&exec, c)).collect();
        let mut hit: HashSet<usize> = HashSet::new();
        for (path, op) in batch {
            self.verbose(
                Color::Magenta,
                &format!(
                    "task: received watch event: {op:<13} {:?}\n",
                    path.display().to_string()
                ),
            );
            if should_ignore(path) {
                self.verbose(
                    Color::Magenta,
                    &format!(
                        "task: event skipped for being an ignored dir: {}\n",
                        path.display()
                    ),
                );
                continue;
            }
            let mut any = false;
            for (i, f) in fresh.iter().enumerate() {
                if f.files.contains(path) || self.sources[i].files.contains(path) {
                    hit.insert(i);
                    any = true;
                }
            }
            if !any {
                self.verbose(
                    Color::Magenta,
                    &format!(
                        "task: skipped for file not in sources: {}\n",
                        self.rel(path)
                    ),
                );
            }
        }
        // Files that appeared or went without an event of their own (a new directory's
        // content, written before its watch existed).
        for (i, f) in fresh.iter().enumerate() {
            if f.files != self.sources[i].files {
                hit.insert(i);
            }
        }
        self.sources = fresh;
        let mut v: Vec<usize> = hit.into_iter().collect();
        v.sort_unstable();
        v
    }

    /// Watches every directory the source sets need that is not watched yet.
    fn register(&mut self, w: &mut notify::RecommendedWatcher) {
        let mut want: Vec<PathBuf> = self
            .sources
            .iter()
            .flat_map(|s| s.dirs.iter().cloned())
            .collect();
        want.sort();
        want.dedup();
        for d in want {
            self.add(w, &d);
        }
        let deep: Vec<PathBuf> = self
            .sources
            .iter()
            .flat_map(|s| s.deep.iter().cloned())
            .collect();
        for b in deep {
            if self.deep.insert(b.clone()) {
                self.watch_tree(w, &b);
            }
        }
    }

    fn add(&mut self, w: &mut notify::RecommendedWatcher, d: &Path) {
        if self.watched.contains(d) || should_ignore(d) || !d.is_dir() {
            return;
        }
        match w.watch(d, RecursiveMode::NonRecursive) {
            Ok(()) => {
                self.watched.insert(d.to_path_buf());
                if self.opts.verbose {
                    let msg = format!("task: watching new dir: {}\n", self.rel(d));
                    self.printer.out_color(Color::Green, &msg);
                }
            }
            Err(e) => self.printer.log_color(Color::Red, &format!("{e}\n")),
        }
    }

    /// A directory and its subdirectories (below a `**`), ignored ones left out.
    fn watch_tree(&mut self, w: &mut notify::RecommendedWatcher, root: &Path) {
        let mut stack = vec![root.to_path_buf()];
        while let Some(d) = stack.pop() {
            if should_ignore(&d) {
                continue;
            }
            self.add(w, &d);
            if let Ok(rd) = std::fs::read_dir(&d) {
                for e in rd.flatten() {
                    if e.file_type().is_ok_and(|t| t.is_dir()) {
                        stack.push(e.path());
                    }
                }
            }
        }
    }
}

/// The literal directory a glob starts from (`src/**/*.go` → `src`).
fn glob_base(dir: &Path, pattern: &str) -> PathBuf {
    let joined = fingerprint::glob::smart_join(dir, pattern);
    let mut base = PathBuf::new();
    let parts: Vec<&str> = joined.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        // The last element is a file name pattern even without metacharacters.
        if i == parts.len() - 1 || part.contains(['*', '?', '[', '{']) {
            break;
        }
        base.push(if part.is_empty() { "/" } else { part });
    }
    base
}

fn visit(
    exec: &Executor,
    call: &Call,
    out: &mut Sources,
    seen: &mut HashSet<String>,
    depth: usize,
) -> Result<(), TaskError> {
    if depth > 100 {
        return Ok(());
    }
    let (mut entry, alias, matches) = exec.resolve(&call.task)?;
    if !matches.is_empty() {
        entry.name = call.task.trim_start_matches(':').to_string();
    }
    let call = Call {
        task: entry.name.clone(),
        alias: if alias.is_empty() {
            call.alias.clone()
        } else {
            alias
        },
        matches: if matches.is_empty() {
            call.matches.clone()
        } else {
            matches
        },
        ..call.clone()
    };
    if !seen.insert(format!("{}\u{0}{:?}", call.task, call.vars)) {
        return Ok(());
    }
    let compile_err =
        |e: crate::compile::CompileError| TaskError::Compile(format!("task: {e}"), e.exit_code());
    let t = exec.compiler.compile(&entry, &call).map_err(compile_err)?;
    for d in &t.deps {
        visit(exec, &d.call, out, seen, depth + 1)?;
    }
    for c in &t.cmds {
        if let CompiledCmd::Task { call, .. } = c {
            visit(exec, call, out, seen, depth + 1)?;
        }
    }
    if t.sources.is_empty() {
        return Ok(());
    }
    let (specs, _, _) = exec
        .compiler
        .fingerprint_inputs(t.task(), &t.vars)
        .map_err(compile_err)?;
    for f in fingerprint::expand_globs(&t.dir, &specs, exec.compiler.use_gitignore(&t.entry)) {
        let f = crate::taskfile::clean(&fingerprint::glob::abs(&f));
        if let Some(p) = f.parent() {
            out.dirs.insert(p.to_path_buf());
        }
        out.files.insert(f);
    }
    for s in specs.iter().filter(|s| !s.exclude) {
        let base = crate::taskfile::clean(&fingerprint::glob::abs(&glob_base(&t.dir, &s.pattern)));
        if s.pattern.contains("**") {
            out.deep.insert(base.clone());
        }
        out.dirs.insert(base);
    }
    Ok(())
}

/// SIGINT/SIGTERM: forwarded to the running commands (they sit in their own process
/// groups, unlike go-task's), then the loop is told to finish.
fn install_signals(tx: mpsc::Sender<Msg>) {
    super::signals::on_signals(None, move |sig| {
        super::shell::forward_signal(sig);
        let _ = tx.send(Msg::Signal);
        false
    });
}

/// The watch interval: `--interval`, else the Taskfile's `interval:`, else 100ms.
pub fn interval(cli: Option<Duration>, taskfile: Option<&str>) -> Result<Duration, String> {
    if let Some(d) = cli.filter(|d| !d.is_zero()) {
        return Ok(d);
    }
    match taskfile.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => match super::parse_duration(s) {
            Some(d) if !d.is_zero() => Ok(d),
            Some(_) => Ok(DEFAULT_INTERVAL),
            None => Err(format!(
                "task: Failed to parse interval \"{s}\": time: invalid duration \"{s}\""
            )),
        },
        None => Ok(DEFAULT_INTERVAL),
    }
}

/// Calls that go to watch mode: all with `--watch`, else those whose task has `watch: true`.
pub fn split_calls(exec: &Executor, calls: Vec<Call>, cli_watch: bool) -> (Vec<Call>, Vec<Call>) {
    let mut regular = vec![];
    let mut watched = vec![];
    for c in calls {
        let w = cli_watch
            || exec
                .resolve(&c.task)
                .map(|(e, _, _)| e.task.watch)
                .unwrap_or(false);
        if w {
            watched.push(c);
        } else {
            regular.push(c);
        }
    }
    (regular, watched)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_bases() {
        assert_eq!(
            glob_base(Path::new("/p"), "src/**/*.go"),
            PathBuf::from("/p/src")
        );
        assert_eq!(glob_base(Path::new("/p"), "*.txt"), PathBuf::from("/p"));
        assert_eq!(
            glob_base(Path::new("/p"), "a/b/file.txt"),
            PathBuf::from("/p/a/b")
        );
        assert_eq!(
            glob_base(Path::new("/p"), "/abs/{x,y}/*.c"),
            PathBuf::from("/abs")
        );
    }

    #[test]
    fn ignored_dirs() {
        assert!(should_ignore(Path::new("/p/.git/index")));
        assert!(should_ignore(Path::new("/p/node_modules")));
        assert!(should_ignore(Path::new("/p/.task/checksum/x")));
        assert!(!should_ignore(Path::new("/p/src/.gitkeep")));
    }

    #[test]
    fn intervals() {
        assert_eq!(interval(None, None), Ok(DEFAULT_INTERVAL));
        assert_eq!(
            interval(Some(Duration::from_millis(300)), Some("1s")),
            Ok(Duration::from_millis(300))
        );
        assert_eq!(interval(None, Some("2s")), Ok(Duration::from_secs(2)));
        assert!(interval(None, Some("x")).is_err());
    }
}
