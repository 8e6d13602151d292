//! A PATH without any shell (shared by tests/conformance.rs and tests/realworld.rs): a
//! directory of symlinks to every program on PATH except the shells.

use std::path::{Path, PathBuf};

/// Shells kept off the no-shell PATH.
pub const SHELLS: &[&str] = &[
    "sh", "bash", "dash", "zsh", "ksh", "mksh", "fish", "busybox", "rbash",
];

/// A directory of symlinks to every program on PATH except the shells: the PATH of a
/// machine without bash or sh (distroless images, Windows), where go-task still runs.
pub fn no_shell_path(root: &Path) -> Result<PathBuf, String> {
    use std::os::unix::fs::PermissionsExt;
    let bin = root.join("noshell-bin");
    std::fs::create_dir_all(&bin).map_err(|e| e.to_string())?;
    let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into());
    for dir in path.split(':').filter(|d| !d.is_empty()) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            continue;
        };
        for e in rd.flatten() {
            let name = e.file_name();
            let n = name.to_string_lossy();
            if SHELLS.contains(&n.as_ref()) || bin.join(&name).exists() {
                continue;
            }
            let p = e.path();
            let exec = std::fs::metadata(&p)
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false);
            if exec {
                let _ = std::os::unix::fs::symlink(&p, bin.join(&name));
            }
        }
    }
    for s in SHELLS {
        if bin.join(s).exists() {
            return Err(format!("{s} on the no-shell PATH"));
        }
    }
    if !bin.join("cat").exists() {
        return Err("no coreutils found for the no-shell PATH".into());
    }
    Ok(bin)
}
