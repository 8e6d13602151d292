//! Ctrl-C and SIGTERM: forwarded to the running commands (which sit in their own process
//! groups); deferred commands still run. A third interrupt exits at once, as go-task does.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

static COUNT: AtomicUsize = AtomicUsize::new(0);
static CANCELLED: std::sync::OnceLock<Arc<AtomicBool>> = std::sync::OnceLock::new();
static ARMED: std::sync::Once = std::sync::Once::new();

/// Registers the flag a signal sets; the handler itself starts with the first command
/// (a run where everything is up to date never pays for it).
pub fn install(cancelled: Arc<AtomicBool>) {
    let _ = CANCELLED.set(cancelled);
}

/// Starts the signal handler once, before the first command is spawned.
pub fn arm() {
    let Some(cancelled) = CANCELLED.get().cloned() else {
        return;
    };
    ARMED.call_once(|| start(cancelled));
}

fn start(cancelled: Arc<AtomicBool>) {
    // Wait until the handlers are registered, so no signal meets the default action.
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
    on_signals(Some(ready_tx), move |sig| {
        cancelled.store(true, Ordering::SeqCst);
        let n = COUNT.fetch_add(1, Ordering::SeqCst) + 1;
        if n >= 3 {
            eprintln!("task: Received 3 signals, exiting");
            std::process::exit(130);
        }
        // go-task prints this on stdout.
        println!(
            "task: Signal received: \"{}\"",
            if sig == libc::SIGINT {
                "interrupt"
            } else {
                "terminated"
            }
        );
        super::shell::forward_signal(sig);
        true
    });
    let _ = ready_rx.recv_timeout(std::time::Duration::from_secs(1));
}

/// Calls `f` with each SIGINT/SIGTERM on a thread of its own (a one-thread tokio runtime)
/// until it returns false; `ready` is told once the handlers are registered.
pub(super) fn on_signals(
    ready: Option<std::sync::mpsc::Sender<()>>,
    mut f: impl FnMut(i32) -> bool + Send + 'static,
) {
    std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async move {
            use tokio::signal::unix::{signal, SignalKind};
            let (Ok(mut int), Ok(mut term)) = (
                signal(SignalKind::interrupt()),
                signal(SignalKind::terminate()),
            ) else {
                return;
            };
            if let Some(r) = ready {
                let _ = r.send(());
            }
            loop {
                let sig = tokio::select! {
                    _ = int.recv() => libc::SIGINT,
                    _ = term.recv() => libc::SIGTERM,
                };
                if !f(sig) {
                    return;
                }
            }
        });
    });
}
