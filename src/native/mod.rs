//! Native tools reached as `helm …` / `cosign …` (multi-call on argv[0]).
//!
//! How it fits together:
//! - `task` calls [`shim_dir`] once and prepends the returned directory to the `PATH` of every
//!   command it runs (unless [`native_enabled`] says the user opted out). In that directory
//!   `helm` and `cosign` are links to the `task` executable itself.
//! - When the binary starts, `main` calls [`dispatch_from_argv`] first: if argv[0]'s basename is
//!   `helm` or `cosign`, the native tool runs and its exit code is returned.
//! - A tool that meets a subcommand or flag it does not implement calls [`fall_through`], which
//!   execs the next real binary of that name on `PATH` (skipping every entry that resolves to
//!   this executable), or fails with a message naming the subcommand (for an unknown flag,
//!   cobra's `Error: unknown flag: --foo`, see [`unknown_flag_message`]).

use std::ffi::{OsStr, OsString};
use std::io;
use std::path::{Path, PathBuf};

pub mod cosign;
pub mod helm;
pub mod oci;

/// The tools this binary can impersonate.
pub const TOOLS: [&str; 2] = ["helm", "cosign"];

/// Environment variable that disables the native tools when `0` or `false`.
pub const NATIVE_ENV: &str = "OXTASK_NATIVE";

/// If this process was started as `helm` or `cosign` (argv[0] basename), runs that
/// tool and returns its exit code; otherwise `None` and `task` proceeds.
pub fn dispatch_from_argv() -> Option<i32> {
    let mut argv = std::env::args_os();
    let argv0 = argv.next()?;
    let tool = tool_name(&argv0)?;
    let args: Vec<OsString> = argv.collect();
    if !native_enabled(|k| std::env::var(k).ok()) {
        let what = first_word(&args);
        return Some(fall_through(tool, &args, &what));
    }
    Some(match tool {
        "helm" => helm::main(args),
        _ => cosign::main(args),
    })
}

/// The tool name (`helm`/`cosign`) if argv[0] names one of them.
fn tool_name(argv0: &OsStr) -> Option<&'static str> {
    let base = Path::new(argv0).file_name()?.to_str()?;
    let base = base.strip_suffix(".exe").unwrap_or(base);
    TOOLS.iter().copied().find(|t| *t == base)
}

/// First non-flag argument, used to name what was not implemented.
fn first_word(args: &[OsString]) -> String {
    args.iter()
        .map(|a| a.to_string_lossy().into_owned())
        .find(|a| !a.starts_with('-'))
        .unwrap_or_default()
}

/// False when the user opted out of the native tools (`OXTASK_NATIVE=0|false`). The runner
/// also passes the Taskfile's `env:` through this, so a Taskfile can opt out and stay valid
/// for go-task.
pub fn native_enabled(env: impl Fn(&str) -> Option<String>) -> bool {
    match env(NATIVE_ENV) {
        Some(v) => {
            let v = v.trim().to_ascii_lowercase();
            !(v == "0" || v == "false")
        }
        None => true,
    }
}

/// Creates (idempotently, safe against concurrent callers) `<base>/oxtask-shims-<id>/` holding
/// `helm` and `cosign` links to the current executable and returns its path. `<id>` depends on
/// the executable path so two oxtask builds never share a directory.
pub fn shim_dir(base: &Path) -> io::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let exe = exe.canonicalize().unwrap_or(exe);
    let dir = base.join(format!("oxtask-shims-{:016x}", fnv1a(exe.as_os_str())));
    std::fs::create_dir_all(&dir)?;
    for tool in TOOLS {
        let link = dir.join(tool);
        if points_to(&link, &exe) {
            continue;
        }
        // Build the link under a unique name, then rename over the final one: rename is
        // atomic, so a concurrent caller sees either no link or a complete one.
        let tmp = dir.join(format!(".{tool}.{}.{}", std::process::id(), unique()));
        let _ = std::fs::remove_file(&tmp);
        make_link(&exe, &tmp)?;
        if let Err(e) = std::fs::rename(&tmp, &link) {
            let _ = std::fs::remove_file(&tmp);
            if !points_to(&link, &exe) {
                return Err(e);
            }
        }
    }
    Ok(dir)
}

fn points_to(link: &Path, exe: &Path) -> bool {
    match std::fs::canonicalize(link) {
        Ok(target) => target == exe && link.exists(),
        Err(_) => false,
    }
}

fn make_link(exe: &Path, at: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        if std::os::unix::fs::symlink(exe, at).is_ok() {
            return Ok(());
        }
    }
    #[cfg(windows)]
    {
        if std::os::windows::fs::symlink_file(exe, at).is_ok() {
            return Ok(());
        }
    }
    if std::fs::hard_link(exe, at).is_ok() {
        return Ok(());
    }
    std::fs::copy(exe, at).map(|_| ())
}

fn fnv1a(s: &OsStr) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in s.as_encoded_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

fn unique() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// Runs the next real `tool` on PATH with `args` (never returns on Unix when it is found).
/// Entries resolving to this executable (the shim directory, or a PATH entry holding `task`
/// under the tool's name) are skipped and removed from the child's PATH so that it cannot
/// loop back into us. `what` names the unimplemented subcommand in the error message.
/// `msg` with every secret `args` carry blanked: passwords of `scheme://user:pw@host`
/// references (also where an error quotes the reference without its scheme) and values of
/// flags named like `--password`/`--token` become `xxxxx` (see [`mask_secret`] for where).
pub fn redact_secrets(msg: &str, args: &[String]) -> String {
    let mut secrets: Vec<String> = Vec::new();
    let mut prev_secret_flag = false;
    for a in args {
        if prev_secret_flag {
            secrets.push(a.clone());
        }
        let flag = a.starts_with('-') && {
            let name = a.trim_start_matches('-');
            let name = name.split('=').next().unwrap_or(name);
            name.contains("password") || name.contains("token") || name == "p"
        };
        prev_secret_flag = flag && !a.contains('=');
        if flag {
            if let Some((_, v)) = a.split_once('=') {
                secrets.push(v.to_string());
            }
        }
        for part in a.split("://").skip(1) {
            let authority = part.split('/').next().unwrap_or(part);
            if let Some((userinfo, _)) = authority.rsplit_once('@') {
                if let Some((_, pw)) = userinfo.split_once(':') {
                    secrets.push(pw.to_string());
                }
            }
        }
    }
    let mut out = oci::redact_userinfo(msg);
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        out = mask_secret(&out, s);
    }
    out
}

/// Secrets at least this many characters long are masked wherever they occur.
pub const MASK_ANYWHERE_CHARS: usize = 6;

/// `text` with `secret` replaced by `xxxxx`. A secret of [`MASK_ANYWHERE_CHARS`] or more
/// is masked everywhere. A shorter one is masked wherever it stands as a value of its own:
/// not glued to a letter, digit or `_` on a side where the secret itself begins or ends
/// with one (so `u:pw@h`, `"pw"`, `pw,` and a lone word `pw` are masked, but the `pw` in
/// `pwd` is not). Masking every substring would shred a message for a password such as
/// `a`; and an occurrence glued to other word characters cannot be told from ordinary
/// text, so it reveals nothing. A whole word equal to the secret is masked even when it is
/// a coincidence: nothing can tell the two apart.
pub fn mask_secret(text: &str, secret: &str) -> String {
    const MASK: &str = "xxxxx";
    if secret.is_empty() {
        return text.to_string();
    }
    if secret.chars().count() >= MASK_ANYWHERE_CHARS {
        return text.replace(secret, MASK);
    }
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let starts_word = secret.chars().next().is_some_and(word);
    let ends_word = secret.chars().next_back().is_some_and(word);
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while let Some(off) = text[i..].find(secret) {
        let start = i + off;
        let end = start + secret.len();
        let free_before = !starts_word || !text[..start].chars().next_back().is_some_and(word);
        let free_after = !ends_word || !text[end..].chars().next().is_some_and(word);
        if free_before && free_after {
            out.push_str(&text[i..start]);
            out.push_str(MASK);
            i = end;
        } else {
            // Glued to a word: keep its first character and look again from the next one
            // (occurrences may overlap).
            let step = start + text[start..].chars().next().map_or(1, char::len_utf8);
            out.push_str(&text[i..step]);
            i = step;
        }
    }
    out.push_str(&text[i..]);
    out
}

pub fn fall_through(tool: &str, args: &[OsString], what: &str) -> i32 {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let (real, clean_path) = find_real(tool, &path);
    let Some(real) = real else {
        let what = if what.is_empty() { tool } else { what };
        eprintln!(
            "Error: oxtask's native {tool} does not implement \"{what}\" and no {tool} binary was found on PATH"
        );
        return 1;
    };
    let mut cmd = std::process::Command::new(&real);
    cmd.args(args).env("PATH", clean_path);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.arg0(tool);
        let err = cmd.exec();
        eprintln!("Error: cannot run {}: {err}", real.display());
        1
    }
    #[cfg(not(unix))]
    {
        match cmd.status() {
            Ok(st) => st.code().unwrap_or(1),
            Err(err) => {
                eprintln!("Error: cannot run {}: {err}", real.display());
                1
            }
        }
    }
}

/// cobra's wording for a flag that is not defined: `unknown flag: --foo`, or for a
/// shorthand `unknown shorthand flag: 'x' in -x`.
pub fn unknown_flag_message(flag: &str) -> String {
    let flag = flag.split('=').next().unwrap_or(flag);
    if flag.starts_with("--") {
        format!("unknown flag: {flag}")
    } else {
        let c = flag.trim_start_matches('-').chars().next().unwrap_or('-');
        format!("unknown shorthand flag: '{c}' in {flag}")
    }
}

/// Finds the first `tool` on `path` that is not this executable; also returns `path` without
/// the directories whose `tool` is this executable.
pub fn find_real(tool: &str, path: &OsStr) -> (Option<PathBuf>, OsString) {
    let me = std::env::current_exe()
        .ok()
        .and_then(|p| p.canonicalize().ok());
    let mut kept = Vec::new();
    let mut found = None;
    for dir in std::env::split_paths(path) {
        let cand = dir.join(exe_name(tool));
        let resolved = cand.canonicalize().ok();
        if resolved.is_some() && resolved == me {
            continue;
        }
        if found.is_none() && is_executable(&cand) {
            found = Some(cand);
        }
        kept.push(dir);
    }
    let joined = std::env::join_paths(kept).unwrap_or_default();
    (found, joined)
}

fn exe_name(tool: &str) -> String {
    if cfg!(windows) {
        format!("{tool}.exe")
    } else {
        tool.to_string()
    }
}

fn is_executable(p: &Path) -> bool {
    let Ok(md) = std::fs::metadata(p) else {
        return false;
    };
    if !md.is_file() {
        return false;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        md.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        true
    }
}

/// A private per-user directory for the native-tool links: $XDG_RUNTIME_DIR, else
/// `$TMPDIR/oxtask-<uid>` created 0700 and owned by us (never a directory someone else made).
pub fn shim_base() -> Option<PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    if let Some(x) = std::env::var_os("XDG_RUNTIME_DIR").filter(|x| !x.is_empty()) {
        return Some(PathBuf::from(x));
    }
    let uid = unsafe { libc::getuid() };
    let dir = std::env::temp_dir().join(format!("oxtask-{uid}"));
    let _ = std::fs::DirBuilder::new().mode(0o700).create(&dir);
    let meta = std::fs::symlink_metadata(&dir).ok()?;
    (meta.is_dir() && meta.uid() == uid && meta.mode() & 0o022 == 0).then_some(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn short_secrets_are_masked_as_values_without_shredding_text() {
        // A one-character password: every place it stands as a value is masked, the
        // letters of other words are not.
        let a = args(&["pull", "oci://u:p@h/c", "--password", "p"]);
        let msg = "invalid reference: credentials in a reference are not supported (\"u:p@h\"); password p, --password=p, 'p'";
        let out = redact_secrets(msg, &a);
        assert_eq!(
            out,
            "invalid reference: credentials in a reference are not supported (\"u:xxxxx@h\"); password xxxxx, --password=xxxxx, 'xxxxx'"
        );
        // Two characters, also at the very start and end of the message.
        let a = args(&["-p", "ab"]);
        assert_eq!(
            redact_secrets("ab: about tabs, cab ab", &a),
            "xxxxx: about tabs, cab xxxxx"
        );
        // A secret of non-word characters has no word to be glued to: masked everywhere.
        let a = args(&["--password=#!"]);
        assert_eq!(redact_secrets("a#!b #!", &a), "axxxxxb xxxxx");
        // Mixed: a word edge is checked only on the side the secret has one.
        let a = args(&["--token", "x!"]);
        assert_eq!(redact_secrets("ax! x!y x!", &a), "ax! xxxxxy xxxxx");
        // Multi-byte text around and inside secrets.
        let a = args(&["--password", "é"]);
        assert_eq!(redact_secrets("café é ü", &a), "café xxxxx ü");
    }

    #[test]
    fn long_secrets_are_masked_everywhere() {
        let a = args(&["--password", "hunter2"]);
        assert_eq!(
            redact_secrets("xhunter2y hunter2 user:hunter2@h", &a),
            "xxxxxxy xxxxx user:xxxxx@h"
        );
        // Longest first: a secret containing another is masked whole.
        let a = args(&["--password", "s3cret-pw", "--token", "pw"]);
        assert_eq!(redact_secrets("s3cret-pw pw pwd", &a), "xxxxx xxxxx pwd");
    }

    #[test]
    fn no_short_secret_ever_survives_as_a_value() {
        // Every single-character and two-character secret, quoted, delimited or alone,
        // is gone from the output.
        let alphabet: Vec<char> = "aZ0_-:@/\"'x é".chars().collect();
        for &c1 in &alphabet {
            for c2 in std::iter::once(None).chain(alphabet.iter().copied().map(Some)) {
                let secret: String = std::iter::once(c1).chain(c2).collect();
                if secret.trim().is_empty() {
                    continue;
                }
                let a = args(&["--password", &secret]);
                for msg in [
                    secret.clone(),
                    format!("\"{secret}\""),
                    format!("u:{secret}@h"),
                    format!("pw {secret} end"),
                    format!("--password={secret}"),
                ] {
                    let out = redact_secrets(&msg, &a);
                    assert!(
                        out.contains("xxxxx"),
                        "{secret:?} in {msg:?} not masked: {out:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn tool_names() {
        assert_eq!(tool_name(OsStr::new("/usr/bin/helm")), Some("helm"));
        assert_eq!(tool_name(OsStr::new("cosign")), Some("cosign"));
        assert_eq!(tool_name(OsStr::new("/x/task")), None);
        assert_eq!(tool_name(OsStr::new("helmx")), None);
    }

    #[test]
    fn opt_out() {
        assert!(native_enabled(|_| None));
        assert!(native_enabled(|_| Some("1".into())));
        assert!(!native_enabled(|_| Some("0".into())));
        assert!(!native_enabled(|_| Some("FALSE".into())));
    }

    #[test]
    fn shim_dir_is_idempotent() {
        let base = tempfile::tempdir().unwrap();
        let a = shim_dir(base.path()).unwrap();
        let b = shim_dir(base.path()).unwrap();
        assert_eq!(a, b);
        let exe = std::env::current_exe().unwrap().canonicalize().unwrap();
        for t in TOOLS {
            assert_eq!(a.join(t).canonicalize().unwrap(), exe);
        }
        // The shim dir is skipped when looking for the real tool.
        let (real, clean) = find_real("helm", a.as_os_str());
        assert!(real.is_none());
        assert!(clean.is_empty());
    }
}
