//! Threads for deps that outlive their job and take the next one. go-task starts a
//! goroutine per dep; a fresh thread per dep cost more than a small dep's own work (clone,
//! the stack and signal-stack mappings, their teardown: a third of the run time of 200
//! `true` deps, docs/shell.md "Speed"). Every job gets a thread at once — an idle one or a
//! new one — so deps run as concurrently as with a thread each, and none waits for a slot
//! (a fixed-size pool would deadlock deps that wait for their own deps).

use std::any::Any;
use std::marker::PhantomData;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc, Condvar, Mutex};

type Job = Box<dyn FnOnce() + Send + 'static>;

/// Workers waiting for a job, each behind its own channel.
static IDLE: Mutex<Vec<mpsc::Sender<Job>>> = Mutex::new(Vec::new());

fn submit(mut job: Job) {
    loop {
        let idle = IDLE.lock().unwrap_or_else(|e| e.into_inner()).pop();
        match idle {
            Some(tx) => match tx.send(job) {
                Ok(()) => return,
                // That worker is gone: try the next.
                Err(mpsc::SendError(j)) => job = j,
            },
            None => break,
        }
    }
    // The job is kept in a shared slot so that it can still run here if no thread starts.
    let slot = Arc::new(Mutex::new(Some(job)));
    let theirs = slot.clone();
    let started = std::thread::Builder::new().spawn(move || {
        if let Some(job) = theirs.lock().unwrap_or_else(|e| e.into_inner()).take() {
            worker(job);
        }
    });
    if started.is_err() {
        if let Some(job) = slot.lock().unwrap_or_else(|e| e.into_inner()).take() {
            job();
        }
    }
}

fn worker(first: Job) {
    let (tx, rx) = mpsc::channel::<Job>();
    let mut job = first;
    loop {
        job();
        IDLE.lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(tx.clone());
        match rx.recv() {
            Ok(j) => job = j,
            Err(_) => return,
        }
    }
}

struct Shared {
    pending: Mutex<usize>,
    done: Condvar,
    panic: Mutex<Option<Box<dyn Any + Send>>>,
}

/// Jobs started by [`scope`]; they may borrow anything that outlives the `scope` call.
pub struct Scope<'env> {
    shared: Arc<Shared>,
    // Invariant in 'env, as crossbeam's and std's scopes are.
    _env: PhantomData<&'env mut &'env ()>,
}

impl<'env> Scope<'env> {
    pub fn spawn<F: FnOnce() + Send + 'env>(&self, f: F) {
        *self
            .shared
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner()) += 1;
        let shared = self.shared.clone();
        let job: Box<dyn FnOnce() + Send + 'env> = Box::new(move || {
            if let Err(p) = catch_unwind(AssertUnwindSafe(f)) {
                shared
                    .panic
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get_or_insert(p);
            }
            let mut n = shared.pending.lock().unwrap_or_else(|e| e.into_inner());
            *n -= 1;
            if *n == 0 {
                shared.done.notify_all();
            }
        });
        // SAFETY: `scope` returns (or unwinds) only after every job spawned on its Scope
        // has finished — it waits for `pending` to reach zero even when its closure panics
        // — so nothing a job borrows for 'env is dropped while the job can still use it.
        let job: Job = unsafe {
            std::mem::transmute::<Box<dyn FnOnce() + Send + 'env>, Box<dyn FnOnce() + Send>>(job)
        };
        submit(job);
    }
}

/// Runs `f`, then waits for every job it spawned; a job's panic is resumed here.
pub fn scope<'env, R>(f: impl FnOnce(&Scope<'env>) -> R) -> R {
    let s = Scope {
        shared: Arc::new(Shared {
            pending: Mutex::new(0),
            done: Condvar::new(),
            panic: Mutex::new(None),
        }),
        _env: PhantomData,
    };
    let r = catch_unwind(AssertUnwindSafe(|| f(&s)));
    let mut n = s.shared.pending.lock().unwrap_or_else(|e| e.into_inner());
    while *n > 0 {
        n = s.shared.done.wait(n).unwrap_or_else(|e| e.into_inner());
    }
    drop(n);
    if let Some(p) = s
        .shared
        .panic
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
    {
        resume_unwind(p);
    }
    r.unwrap_or_else(|p| resume_unwind(p))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn jobs_borrow_the_caller_and_all_finish_before_scope_returns() {
        let count = AtomicUsize::new(0);
        let mut seen = vec![0usize; 64];
        super::scope(|s| {
            for slot in seen.iter_mut() {
                let count = &count;
                s.spawn(move || {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                    *slot = count.fetch_add(1, Ordering::SeqCst) + 1;
                });
            }
        });
        assert_eq!(count.load(Ordering::SeqCst), 64);
        seen.sort();
        assert_eq!(seen, (1..=64).collect::<Vec<_>>());
    }

    #[test]
    fn nested_jobs_waiting_for_their_own_jobs_do_not_deadlock() {
        // Deps of deps: every level waits for the level below, all at once.
        fn level(depth: u32, total: &AtomicUsize) {
            total.fetch_add(1, Ordering::SeqCst);
            if depth == 0 {
                return;
            }
            super::scope(|s| {
                for _ in 0..3 {
                    s.spawn(|| level(depth - 1, total));
                }
            });
        }
        let total = AtomicUsize::new(0);
        level(4, &total);
        assert_eq!(total.load(Ordering::SeqCst), 1 + 3 + 9 + 27 + 81);
    }

    #[test]
    fn a_panicking_job_is_resumed_in_the_caller_after_the_others_finish() {
        let done = AtomicUsize::new(0);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            super::scope(|s| {
                s.spawn(|| panic!("job failed"));
                for _ in 0..4 {
                    s.spawn(|| {
                        std::thread::sleep(std::time::Duration::from_millis(5));
                        done.fetch_add(1, Ordering::SeqCst);
                    });
                }
            })
        }));
        assert!(r.is_err());
        assert_eq!(done.load(Ordering::SeqCst), 4);
        // The pool still works after a job panicked.
        let n = AtomicUsize::new(0);
        super::scope(|s| {
            s.spawn(|| {
                n.fetch_add(1, Ordering::SeqCst);
            })
        });
        assert_eq!(n.load(Ordering::SeqCst), 1);
    }
}
