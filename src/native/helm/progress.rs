//! A one-line progress display for long pushes. Drawn on stderr, and only when stderr is
//! an interactive terminal (`TERM` not `dumb`): CI logs and redirected output (the seed's
//! `helm push … > .digest` captures stdout) never see it. Silent for the first second, so
//! quick pushes print nothing extra; the line is erased when the push ends.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Shared {
    done: AtomicUsize,
    stop: AtomicBool,
}

pub struct Progress {
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Whether progress may be drawn: stderr is a terminal that understands `\r` and erase.
pub fn enabled() -> bool {
    std::io::stderr().is_terminal()
        && std::env::var("TERM").map_or(true, |t| t != "dumb")
        && std::env::var_os("OXTASK_NO_PROGRESS").is_none()
}

/// `1.5 MiB` style sizes.
pub fn human(n: usize) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

impl Progress {
    /// Starts the display for `total` bytes (a no-op unless [`enabled`]).
    pub fn start(label: &'static str, total: usize) -> Progress {
        let shared = Arc::new(Shared {
            done: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
        });
        let mut p = Progress {
            shared,
            thread: None,
        };
        if enabled() {
            p.spawn(
                label,
                total,
                Box::new(std::io::stderr()),
                Duration::from_secs(1),
            );
        }
        p
    }

    fn spawn(
        &mut self,
        label: &'static str,
        total: usize,
        out: Box<dyn Write + Send>,
        quiet: Duration,
    ) {
        let s = self.shared.clone();
        self.thread = Some(std::thread::spawn(move || {
            draw_loop(label, total, &s, out, quiet)
        }));
    }

    /// `n` more bytes are done.
    pub fn advance(&self, n: usize) {
        self.shared.done.fetch_add(n, Ordering::Relaxed);
    }

    /// Stops and erases the line.
    pub fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Redraws every 200 ms once `quiet` has passed; erases the line at the end if it drew.
fn draw_loop(
    label: &str,
    total: usize,
    s: &Shared,
    mut out: Box<dyn Write + Send>,
    quiet: Duration,
) {
    let start = Instant::now();
    let mut drawn = false;
    const SPIN: [char; 4] = ['|', '/', '-', '\\'];
    let mut i = 0;
    while !s.stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
        let el = start.elapsed();
        if el < quiet || i % 2 == 1 {
            i += 1;
            continue;
        }
        let done = s.done.load(Ordering::Relaxed).min(total);
        let line = format!(
            "\r{} {label} {} / {}  {}s",
            SPIN[(i / 2) % 4],
            human(done),
            human(total),
            el.as_secs()
        );
        let _ = out.write_all(line.as_bytes());
        let _ = out.flush();
        drawn = true;
        i += 1;
    }
    if drawn {
        let _ = out.write_all(b"\r\x1b[K");
        let _ = out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(human(512), "512 B");
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(human(5 * 1024 * 1024), "5.0 MiB");
    }

    #[test]
    fn off_without_terminal_and_stops_cleanly() {
        // Under `cargo test` stderr is captured (not a terminal): no thread is started.
        let p = Progress::start("Pushing", 10);
        if !std::io::stderr().is_terminal() {
            assert!(p.thread.is_none());
        }
        p.advance(10);
        p.finish();
    }

    #[derive(Clone, Default)]
    struct Buf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn draws_after_the_quiet_period_and_erases() {
        let buf = Buf::default();
        let mut p = Progress {
            shared: Arc::new(Shared {
                done: AtomicUsize::new(0),
                stop: AtomicBool::new(false),
            }),
            thread: None,
        };
        p.spawn("Pushing", 2048, Box::new(buf.clone()), Duration::ZERO);
        p.advance(1024);
        std::thread::sleep(Duration::from_millis(450));
        p.finish();
        let out = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert!(out.contains("Pushing 1.0 KiB / 2.0 KiB"), "{out:?}");
        assert!(out.ends_with("\r\x1b[K"), "{out:?}");
        // A push that ends within the quiet period prints nothing.
        let quiet = Buf::default();
        let mut p = Progress {
            shared: Arc::new(Shared {
                done: AtomicUsize::new(0),
                stop: AtomicBool::new(false),
            }),
            thread: None,
        };
        p.spawn(
            "Pushing",
            1,
            Box::new(quiet.clone()),
            Duration::from_secs(5),
        );
        std::thread::sleep(Duration::from_millis(250));
        p.finish();
        assert!(quiet.0.lock().unwrap().is_empty());
    }
}
