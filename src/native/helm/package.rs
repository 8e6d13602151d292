//! `helm package`.

use std::path::{Path, PathBuf};

use super::args::flag;
use super::{loader, parse_flags, save, CmdResult};

const FLAGS: &[super::args::FlagSpec] = &[
    flag("sign", None, false),
    flag("key", None, true),
    flag("keyring", None, true),
    flag("passphrase-file", None, true),
    flag("version", None, true),
    flag("app-version", None, true),
    flag("destination", Some('d'), true),
    flag("dependency-update", Some('u'), false),
    flag("username", None, true),
    flag("password", None, true),
    flag("cert-file", None, true),
    flag("key-file", None, true),
    flag("ca-file", None, true),
    flag("insecure-skip-tls-verify", None, false),
    flag("plain-http", None, false),
    // oxtask extension: byte-reproducible archive (mtime = SOURCE_DATE_EPOCH or 0)
    flag("reproducible", None, false),
];

/// Default keyring: `$GNUPGHOME/pubring.gpg` or `~/.gnupg/pubring.gpg`.
pub fn default_keyring() -> PathBuf {
    if let Some(g) = std::env::var_os("GNUPGHOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(g).join("pubring.gpg");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    home.join(".gnupg").join("pubring.gpg")
}

/// One mtime for every entry: `SOURCE_DATE_EPOCH` when set (reproducible), else 0 with
/// `--reproducible`; `None` = Helm 4's rule (each file's own mtime, see [`save::archive`]).
pub fn archive_mtime(reproducible: bool) -> Result<Option<u64>, String> {
    if let Ok(s) = std::env::var("SOURCE_DATE_EPOCH") {
        if !s.trim().is_empty() {
            return s.trim().parse::<u64>().map(Some).map_err(|_| {
                format!("invalid SOURCE_DATE_EPOCH {s:?}: expected a non-negative integer")
            });
        }
    }
    Ok(reproducible.then_some(0))
}

pub fn run(args: &[String]) -> CmdResult {
    let p = parse_flags("package", args, FLAGS)?;
    if p.positional.is_empty() {
        return Err("need at least one argument, the path to the chart".into());
    }
    let sign = p.bool("sign");
    if sign {
        if p.str("key").is_empty() {
            return Err("--key is required for signing a package".into());
        }
        if !p.has("keyring") && !default_keyring().exists() {
            return Err("--keyring is required for signing a package".into());
        }
    }
    let keyring = p
        .get("keyring")
        .map(PathBuf::from)
        .unwrap_or_else(default_keyring);
    let passphrase = if sign {
        match p.get("passphrase-file") {
            Some(f) => Some(super::prov::read_passphrase_file(f)?),
            None => None,
        }
    } else {
        None
    };
    let dest_flag = p.get("destination").filter(|d| !d.is_empty() && *d != ".");
    for arg in &p.positional {
        let path = Path::new(arg);
        std::fs::metadata(path).map_err(|e| format!("stat {arg}: {}", loader::io_msg(&e)))?;
        if p.bool("dependency-update") {
            // As Helm: `dependency update` first (its output is discarded), then load.
            super::deps::update(
                path,
                &super::deps::Options {
                    flags: &p,
                    mtime: archive_mtime(p.bool("reproducible"))?,
                    reproducible: p.bool("reproducible"),
                    verbose: false,
                },
            )?;
        }
        let mut ch = loader::load_dir(path, &mut super::warn)?;
        if let Some(v) = p.get("version") {
            ch.metadata.version = v.to_string();
            super::semver::parse_lenient(v).map_err(|e| e.to_string())?;
        }
        if let Some(v) = p.get("app-version") {
            ch.metadata.app_version = v.to_string();
        }
        check_dependencies(&ch)?;
        ch.metadata
            .validate()
            .map_err(|e| format!("chart validation: {e}"))?;
        let dest = match dest_flag {
            Some(d) => PathBuf::from(d),
            None => std::env::current_dir().map_err(|e| e.to_string())?,
        };
        let out = package_to(&ch, &dest, archive_mtime(p.bool("reproducible"))?)?;
        if sign {
            super::prov::sign_archive(&out, &keyring, &p.str("key"), passphrase.as_deref())?;
        }
        println!(
            "Successfully packaged chart and saved it to: {}",
            out.display()
        );
    }
    Ok(())
}

/// `found in Chart.yaml, but missing in charts/ directory: …`
pub fn check_dependencies(ch: &loader::Chart) -> Result<(), String> {
    let Some(deps) = &ch.metadata.dependencies else {
        return Ok(());
    };
    let have: Vec<&str> = ch.dependencies.iter().map(|d| d.name()).collect();
    let missing: Vec<&str> = deps
        .iter()
        .flatten()
        .map(|d| d.name.as_str())
        .filter(|n| !have.contains(n))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "found in Chart.yaml, but missing in charts/ directory: {}",
            missing.join(", ")
        ))
    }
}

/// `chartutil.Save`: writes `<dest>/<name>-<version>.tgz` atomically and returns its path.
pub fn package_to(ch: &loader::Chart, dest: &Path, mtime: Option<u64>) -> Result<PathBuf, String> {
    let mut meta = ch.metadata.clone();
    meta.validate()
        .map_err(|e| format!("chart validation: {e}"))?;
    match std::fs::metadata(dest) {
        Ok(md) if !md.is_dir() => return Err(format!("is not a directory: {}", dest.display())),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut b = std::fs::DirBuilder::new();
            b.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o755);
            b.create(dest)
                .map_err(|e| format!("mkdir {}: {}", dest.display(), loader::io_msg(&e)))?;
        }
        Err(e) => return Err(format!("stat {}: {}", dest.display(), loader::io_msg(&e))),
    }
    let name = format!("{}-{}.tgz", meta.name, meta.version);
    let out = clean_join(dest, &name);
    let data = save::archive(ch, mtime)?;
    save::write_atomic(&out, &data, 0o666).map_err(|e| format!("failed to save: {e}"))?;
    Ok(out)
}

/// `filepath.Join` (cleaned) for the output path.
fn clean_join(dest: &Path, name: &str) -> PathBuf {
    let s = format!("{}/{}", dest.display(), name);
    PathBuf::from(loader::go_path_clean(&s))
}
