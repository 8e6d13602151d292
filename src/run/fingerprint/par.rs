//! Small parallel helpers on scoped std threads: a directory walk with a shared work
//! queue, and an order-keeping map over a slice. Both run inline when there is one core.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

/// Worker threads: two per core, 2 to 8. The work is `stat`/`readdir` syscalls; a
/// second thread per core keeps cores busy across the kernel's waits and holds its
/// share on a machine shared with other jobs.
pub fn threads() -> usize {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    (cores * 2).clamp(2, 8)
}

struct Shared {
    dirs: Vec<PathBuf>,
    /// Workers with nothing to do.
    idle: usize,
    done: bool,
}

/// Visits every directory reachable from `roots`. `visit(dir, subdirs, out)` lists one
/// directory, pushes the directories to visit next onto `subdirs` and its results onto
/// `out`. Results come back in no particular order.
///
/// Each worker walks depth first from its own stack and hands part of it over only when
/// another worker is idle, so a busy walk takes no locks and wakes no threads (which
/// matters most on a loaded machine, where every wake-up waits for a CPU).
pub fn walk<T, F>(roots: Vec<PathBuf>, visit: F) -> Vec<T>
where
    T: Send,
    F: Fn(&Path, &mut Vec<PathBuf>, &mut Vec<T>) + Sync,
{
    let n = threads();
    let mut out = Vec::new();
    // Breadth first on this thread until there is enough work to share.
    let mut frontier = roots;
    let mut next = Vec::new();
    while !frontier.is_empty() && frontier.len() < n {
        for d in frontier.drain(..) {
            visit(&d, &mut next, &mut out);
        }
        std::mem::swap(&mut frontier, &mut next);
    }
    if frontier.is_empty() {
        return out;
    }
    let shared = Mutex::new(Shared {
        dirs: frontier,
        idle: 0,
        done: false,
    });
    let idle_hint = AtomicUsize::new(0);
    let cv = Condvar::new();
    let worker = || {
        let mut out = Vec::new();
        let mut stack: Vec<PathBuf> = Vec::new();
        let mut next = Vec::new();
        loop {
            let dir = match stack.pop() {
                Some(d) => d,
                None => {
                    let mut g = shared.lock().unwrap_or_else(|e| e.into_inner());
                    loop {
                        if let Some(d) = g.dirs.pop() {
                            break d;
                        }
                        if g.done {
                            return out;
                        }
                        g.idle += 1;
                        idle_hint.store(g.idle, Ordering::Relaxed);
                        if g.idle == n {
                            g.done = true;
                            cv.notify_all();
                            return out;
                        }
                        g = cv.wait(g).unwrap_or_else(|e| e.into_inner());
                        g.idle -= 1;
                        idle_hint.store(g.idle, Ordering::Relaxed);
                    }
                }
            };
            visit(&dir, &mut next, &mut out);
            stack.append(&mut next);
            if stack.len() > 1 && idle_hint.load(Ordering::Relaxed) > 0 {
                let mut g = shared.lock().unwrap_or_else(|e| e.into_inner());
                let give = stack.len() / 2;
                g.dirs.extend(stack.drain(..give));
                cv.notify_all();
            }
        }
    };
    std::thread::scope(|s| {
        let helpers: Vec<_> = (1..n).map(|_| s.spawn(worker)).collect();
        out.extend(worker());
        for h in helpers {
            // A panicking visitor is a bug; surface it rather than lose results.
            out.extend(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        }
    });
    out
}

/// `items.iter().map(f).collect()`, on several threads when the slice is long enough.
pub fn map<I, R, F>(items: &[I], f: F) -> Vec<R>
where
    I: Sync,
    R: Send,
    F: Fn(&I) -> R + Sync,
{
    const CHUNK: usize = 64;
    let n = threads().min(items.len().div_ceil(CHUNK));
    if n <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done: Vec<(usize, Vec<R>)> = Vec::new();
        loop {
            let start = next.fetch_add(CHUNK, Ordering::Relaxed);
            if start >= items.len() {
                return done;
            }
            let end = (start + CHUNK).min(items.len());
            done.push((start, items[start..end].iter().map(&f).collect()));
        }
    };
    let mut chunks = std::thread::scope(|s| {
        let helpers: Vec<_> = (1..n).map(|_| s.spawn(work)).collect();
        let mut all = work();
        for h in helpers {
            all.extend(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        }
        all
    });
    chunks.sort_unstable_by_key(|(start, _)| *start);
    chunks.into_iter().flat_map(|(_, v)| v).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_keeps_order() {
        let v: Vec<u32> = (0..1000).collect();
        assert_eq!(
            map(&v, |x| x * 2),
            (0..1000).map(|x| x * 2).collect::<Vec<_>>()
        );
        assert!(map(&Vec::<u32>::new(), |x| *x).is_empty());
    }

    #[test]
    fn walk_visits_every_dir_once() {
        let t = tempfile::tempdir().unwrap();
        for a in 0..5 {
            for b in 0..4 {
                std::fs::create_dir_all(t.path().join(format!("d{a}/e{b}"))).unwrap();
            }
        }
        let mut seen: Vec<PathBuf> = walk(vec![t.path().to_path_buf()], |d, next, out| {
            out.push(d.to_path_buf());
            for e in std::fs::read_dir(d).unwrap() {
                let e = e.unwrap();
                if e.file_type().unwrap().is_dir() {
                    next.push(e.path());
                }
            }
        });
        seen.sort();
        assert_eq!(seen.len(), 1 + 5 + 20);
        seen.dedup();
        assert_eq!(seen.len(), 26);
    }
}
