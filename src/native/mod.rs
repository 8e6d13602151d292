//! Native tools reached as `helm …` / `cosign …` (multi-call on argv[0]).

/// If this process was started as `helm` or `cosign` (argv[0] basename), runs that
/// tool and returns its exit code; otherwise `None` and `task` proceeds.
pub fn dispatch_from_argv() -> Option<i32> {
    None
}
