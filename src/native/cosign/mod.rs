//! Native cosign (placeholder: the cosign work replaces this body). Until then every
//! invocation falls through to a real `cosign` on PATH.

use std::ffi::OsString;

/// Entry point for argv[0] = `cosign`; returns the process exit code.
pub fn main(args: Vec<OsString>) -> i32 {
    let what = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .find(|a| !a.starts_with('-'))
        .unwrap_or_default();
    super::fall_through("cosign", &args, &what)
}
