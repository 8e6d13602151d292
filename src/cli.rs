//! go-task's command-line flags.
