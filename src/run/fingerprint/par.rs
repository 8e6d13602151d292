//! Small parallel helpers on scoped std threads: a directory walk with a shared work
//! queue, and an order-keeping map over a slice. Both run inline when there is one core.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

/// Worker threads to use: the cores there are, at most 8 (the work is syscall-bound).
pub fn threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8)
}

struct Queue {
    dirs: Vec<PathBuf>,
    active: usize,
}

/// Visits every directory reachable from `roots`. `visit(dir, subdirs, out)` lists one
/// directory, pushes the directories to visit next onto `subdirs` and its results onto
/// `out`. Results come back in no particular order.
pub fn walk<T, F>(roots: Vec<PathBuf>, visit: F) -> Vec<T>
where
    T: Send,
    F: Fn(&Path, &mut Vec<PathBuf>, &mut Vec<T>) + Sync,
{
    let n = threads();
    if n == 1 {
        let mut out = Vec::new();
        let mut stack = roots;
        let mut next = Vec::new();
        while let Some(d) = stack.pop() {
            visit(&d, &mut next, &mut out);
            stack.append(&mut next);
        }
        return out;
    }
    let queue = Mutex::new(Queue {
        dirs: roots,
        active: 0,
    });
    let cv = Condvar::new();
    let worker = || {
        let mut out = Vec::new();
        let mut next = Vec::new();
        let mut guard = queue.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(d) = guard.dirs.pop() {
                guard.active += 1;
                drop(guard);
                visit(&d, &mut next, &mut out);
                guard = queue.lock().unwrap_or_else(|e| e.into_inner());
                guard.active -= 1;
                let added = !next.is_empty();
                guard.dirs.append(&mut next);
                if added || guard.active == 0 {
                    cv.notify_all();
                }
            } else if guard.active == 0 {
                cv.notify_all();
                return out;
            } else {
                guard = cv.wait(guard).unwrap_or_else(|e| e.into_inner());
            }
        }
    };
    std::thread::scope(|s| {
        let helpers: Vec<_> = (1..n).map(|_| s.spawn(worker)).collect();
        let mut all = worker();
        for h in helpers {
            // A panicking visitor is a bug; surface it rather than lose results.
            all.extend(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        }
        all
    })
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
