//! `helm registry login|logout`, `helm push`, `helm pull`, `helm show`.

use super::{CmdError, CmdResult};

pub fn registry_cmd(_args: &[String]) -> CmdResult {
    Err(CmdError::FallThrough("registry".into()))
}
pub fn push(_args: &[String]) -> CmdResult {
    Err(CmdError::FallThrough("push".into()))
}
pub fn pull(_args: &[String]) -> CmdResult {
    Err(CmdError::FallThrough("pull".into()))
}
pub fn show(_args: &[String]) -> CmdResult {
    Err(CmdError::FallThrough("show".into()))
}
