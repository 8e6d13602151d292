//! Threads for dependencies, reused: go-task runs each dependency on a goroutine; a thread
//! per dependency made 200 `clone`s (with their stacks and signal stacks) most of the cost
//! of 200 short deps. A thread that finished a dependency waits a moment for the next one.
//! There is no bound: every dependency still runs at once (a dependency that blocks on a
//! long command must not hold another back; `--concurrency` limits them elsewhere).

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::mpsc::{channel, RecvTimeoutError, Sender};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

type Job = Box<dyn FnOnce() + Send + 'static>;

/// How long an idle thread waits for another job before it ends.
const IDLE: Duration = Duration::from_millis(200);

static IDLE_WORKERS: Mutex<Vec<(u64, Sender<Job>)>> = Mutex::new(Vec::new());
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn submit(job: Job) {
    let mut job = job;
    loop {
        let tx = IDLE_WORKERS.lock().unwrap_or_else(|e| e.into_inner()).pop();
        match tx {
            Some((_, tx)) => match tx.send(job) {
                Ok(()) => return,
                // That worker timed out meanwhile: try the next one.
                Err(e) => job = e.0,
            },
            None => break,
        }
    }
    std::thread::spawn(move || worker(job));
}

fn worker(first: Job) {
    let id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut job = first;
    loop {
        job();
        let (tx, rx) = channel::<Job>();
        IDLE_WORKERS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((id, tx));
        job = match rx.recv_timeout(IDLE) {
            Ok(next) => next,
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                let mut idle = IDLE_WORKERS.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(pos) = idle.iter().position(|(i, _)| *i == id) {
                    idle.remove(pos);
                    return;
                }
                drop(idle);
                // A submitter took our sender just now: its job is on the way.
                match rx.recv() {
                    Ok(next) => next,
                    Err(_) => return,
                }
            }
        };
    }
}

/// Waits for a set of jobs; the first panic among them is raised again by the waiter.
struct Latch {
    left: Mutex<(usize, Option<Box<dyn std::any::Any + Send>>)>,
    done: Condvar,
}

/// Runs every job at once on reused threads and returns when all have finished (a panic in
/// one is raised here after all have finished). Jobs may borrow from the caller: nothing
/// of them outlives this call.
pub fn run_all<'a>(jobs: Vec<Box<dyn FnOnce() + Send + 'a>>) {
    if jobs.is_empty() {
        return;
    }
    let latch = Arc::new(Latch {
        left: Mutex::new((jobs.len(), None)),
        done: Condvar::new(),
    });
    for job in jobs {
        // SAFETY: the job only runs inside the worker below, which counts it down on the
        // latch when it returns or panics; this function does not return (nor unwind)
        // before the latch reaches zero, so every borrow the job holds outlives its run.
        let job: Job = unsafe {
            std::mem::transmute::<Box<dyn FnOnce() + Send + 'a>, Box<dyn FnOnce() + Send + 'static>>(
                job,
            )
        };
        let latch = latch.clone();
        submit(Box::new(move || {
            let r = catch_unwind(AssertUnwindSafe(job));
            let mut g = latch.left.lock().unwrap_or_else(|e| e.into_inner());
            if let Err(p) = r {
                g.1.get_or_insert(p);
            }
            g.0 -= 1;
            if g.0 == 0 {
                latch.done.notify_all();
            }
        }));
    }
    let mut g = latch.left.lock().unwrap_or_else(|e| e.into_inner());
    while g.0 > 0 {
        g = latch.done.wait(g).unwrap_or_else(|e| e.into_inner());
    }
    if let Some(p) = g.1.take() {
        drop(g);
        resume_unwind(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn runs_every_job_at_once_and_borrows() {
        let n = AtomicUsize::new(0);
        let barrier = std::sync::Barrier::new(50);
        // 50 jobs that each wait for all the others: only possible if all run at once.
        let jobs: Vec<Box<dyn FnOnce() + Send + '_>> = (0..50)
            .map(|_| {
                let (n, barrier) = (&n, &barrier);
                Box::new(move || {
                    barrier.wait();
                    n.fetch_add(1, Ordering::SeqCst);
                }) as Box<dyn FnOnce() + Send + '_>
            })
            .collect();
        run_all(jobs);
        assert_eq!(n.load(Ordering::SeqCst), 50);
        // Again, on the threads the first round left idle.
        let jobs: Vec<Box<dyn FnOnce() + Send + '_>> = (0..10)
            .map(|_| {
                let n = &n;
                Box::new(move || {
                    n.fetch_add(1, Ordering::SeqCst);
                }) as Box<dyn FnOnce() + Send + '_>
            })
            .collect();
        run_all(jobs);
        assert_eq!(n.load(Ordering::SeqCst), 60);
    }

    #[test]
    fn a_panic_is_raised_after_every_job_finished() {
        let n = AtomicUsize::new(0);
        let r = catch_unwind(AssertUnwindSafe(|| {
            let jobs: Vec<Box<dyn FnOnce() + Send + '_>> = (0..8)
                .map(|i| {
                    let n = &n;
                    Box::new(move || {
                        if i == 3 {
                            panic!("boom");
                        }
                        std::thread::sleep(Duration::from_millis(20));
                        n.fetch_add(1, Ordering::SeqCst);
                    }) as Box<dyn FnOnce() + Send + '_>
                })
                .collect();
            run_all(jobs);
        }));
        assert!(r.is_err());
        assert_eq!(n.load(Ordering::SeqCst), 7);
    }
}
