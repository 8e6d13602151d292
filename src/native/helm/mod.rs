//! Native helm.

use std::ffi::OsString;

/// Entry point for argv[0] = `helm`; returns the exit code.
pub fn main(args: Vec<OsString>) -> i32 {
    let what = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .find(|a| !a.starts_with('-'))
        .unwrap_or_default();
    super::fall_through("helm", &args, &what)
}
