//! The Sigstore conformance suite's offline verification cases
//! (tests/sigstore-conformance/bundle-verify, vendored from sigstore/sigstore-conformance:
//! see its NOTICE) through oxtask's `cosign verify-blob`, one test per run.
//!
//! The suite's CLI protocol (`verify-bundle --bundle B [--certificate-identity I
//! --certificate-oidc-issuer O | --key K] [--trusted-root R] ARTIFACT_OR_DIGEST`) is mapped
//! onto `cosign verify-blob` the way cosign's own conformance wrapper
//! (cosign/cmd/conformance) maps it: `--use-signed-timestamps` when the bundle carries
//! RFC 3161 timestamps, every other flag passed as is. Each case runs twice, with the
//! artifact file and with its `sha256:HEX` digest. A case whose directory name ends in
//! `_fail` must be refused (any non-zero exit), every other one accepted (exit 0 and
//! `Verified OK`). Cases without a `trusted_root.json` use the production instance: its
//! trusted root is vendored (public-good-trusted-root.json) and given as
//! `SIGSTORE_TRUSTED_ROOT`, so nothing touches the network.
//!
//! Runs listed in tests/sigstore-conformance/KNOWN_FAILURES.txt (`case mode # reason`) run
//! as ignored tests. When the real cosign 3.1.1 is unpacked (`.ci/install-cosign-real.sh`),
//! the same runs are made with it (`cosign3::…`, with `--trusted-root` for the production
//! cases, as it does not read `SIGSTORE_TRUSTED_ROOT`); under CI=true its absence fails.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use libtest_mimic::{Arguments, Failed, Trial};
use sha2::{Digest, Sha256};

const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sigstore-conformance")
}

/// `case mode` → reason.
fn known_failures() -> HashMap<String, String> {
    let text = std::fs::read_to_string(root().join("KNOWN_FAILURES.txt")).unwrap_or_default();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (k, why) = l.split_once(" # ").unwrap_or((l, ""));
            (k.trim().to_string(), why.trim().to_string())
        })
        .collect()
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    File,
    Digest,
}

#[derive(Clone, Copy, PartialEq)]
enum Client {
    Oxtask,
    Cosign3,
}

struct Case {
    name: String,
    dir: PathBuf,
}

impl Case {
    fn artifact(&self) -> PathBuf {
        let own = self.dir.join("artifact");
        if own.is_file() {
            own
        } else {
            root().join("bundle-verify/a.txt")
        }
    }

    fn expect_pass(&self) -> bool {
        !self.name.ends_with("_fail")
    }

    /// The suite's `verify-bundle` arguments, mapped onto `cosign verify-blob`.
    fn args(&self, mode: Mode, client: Client) -> Vec<String> {
        let bundle = self.dir.join("bundle.sigstore.json");
        let mut a = vec!["verify-blob".to_string()];
        // cosign's conformance wrapper: signed timestamps are required when present.
        let has_timestamps = std::fs::read(&bundle)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| {
                v["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]
                    .as_array()
                    .map(|a| !a.is_empty())
            })
            .unwrap_or(false);
        if has_timestamps {
            a.push("--use-signed-timestamps".into());
        }
        a.push("--bundle".into());
        a.push(bundle.display().to_string());
        let key = self.dir.join("key.pub");
        if key.is_file() {
            a.push("--key".into());
            a.push(key.display().to_string());
        } else {
            let read = |f: &str, d: &str| {
                std::fs::read_to_string(self.dir.join(f))
                    .map(|s| s.trim().to_string())
                    .unwrap_or_else(|_| d.to_string())
            };
            a.push("--certificate-identity".into());
            a.push(read("identity", IDENTITY));
            a.push("--certificate-oidc-issuer".into());
            a.push(read("issuer", ISSUER));
        }
        let tr = self.dir.join("trusted_root.json");
        if tr.is_file() {
            a.push("--trusted-root".into());
            a.push(tr.display().to_string());
        } else if client == Client::Cosign3 {
            a.push("--trusted-root".into());
            a.push(
                root()
                    .join("public-good-trusted-root.json")
                    .display()
                    .to_string(),
            );
        }
        let art = self.artifact();
        a.push(match mode {
            Mode::File => art.display().to_string(),
            Mode::Digest => {
                let bytes = std::fs::read(&art).expect("reading the case's artifact");
                format!("sha256:{}", hex(&Sha256::digest(&bytes)))
            }
        });
        a
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn cases() -> Vec<Case> {
    let dir = root().join("bundle-verify");
    let mut out: Vec<Case> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| Case {
            name: e.file_name().to_string_lossy().into_owned(),
            dir: e.path(),
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// oxtask as `cosign` (argv[0]), in a scrubbed environment without any other cosign.
fn oxtask_bin(tmp: &Path) -> PathBuf {
    let bin = tmp.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let link = bin.join("cosign");
    if !link.exists() {
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_task"), &link).unwrap();
    }
    link
}

fn cosign3() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".ci/tools/cosign3/usr/bin/cosign")
}

fn run(case: &Case, mode: Mode, client: Client, bin: &Path, home: &Path) -> Result<(), Failed> {
    let args = case.args(mode, client);
    let mut cmd = Command::new(bin);
    cmd.args(&args)
        .env_clear()
        .env(
            "PATH",
            format!("{}:/usr/bin:/bin", bin.parent().unwrap().display()),
        )
        .env("HOME", home)
        .env("TUF_ROOT", home.join("tuf"))
        .env(
            "SIGSTORE_TRUSTED_ROOT",
            root().join("public-good-trusted-root.json"),
        )
        .current_dir(home);
    let out = cmd
        .output()
        .map_err(|e| format!("running {}: {e}", bin.display()))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report = || {
        format!(
            "cosign {}\nexit {:?}\nstdout: {}\nstderr: {}",
            args.join(" "),
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            stderr
        )
    };
    if stderr.contains("panicked") {
        return Err(format!("panic\n{}", report()).into());
    }
    match (case.expect_pass(), out.status.success()) {
        (true, true) if stderr.contains("Verified OK") => Ok(()),
        (true, true) => Err(format!("exit 0 without \"Verified OK\"\n{}", report()).into()),
        (true, false) => Err(format!("expected to verify, was refused\n{}", report()).into()),
        (false, true) => Err(format!("expected a refusal, verified\n{}", report()).into()),
        (false, false) if client == Client::Oxtask && !stderr.starts_with("Error: ") => {
            Err(format!("refusal without an \"Error: …\" message\n{}", report()).into())
        }
        (false, false) => Ok(()),
    }
}

fn main() {
    let args = Arguments::from_args();
    let known = known_failures();
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let ox = oxtask_bin(tmp.path());
    let real = cosign3();
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let mut trials = Vec::new();
    for client in [Client::Oxtask, Client::Cosign3] {
        let prefix = match client {
            Client::Oxtask => "oxtask",
            Client::Cosign3 => "cosign3",
        };
        if client == Client::Cosign3 && !real.is_file() {
            trials.push(Trial::test("cosign3::installed", move || {
                if in_ci {
                    Err("cosign 3.1.1 not found: run .ci/install-cosign-real.sh".into())
                } else {
                    eprintln!("skipped: cosign 3.1.1 not found (run .ci/install-cosign-real.sh)");
                    Ok(())
                }
            }));
            continue;
        }
        let bin = match client {
            Client::Oxtask => ox.clone(),
            Client::Cosign3 => real.clone(),
        };
        for case in cases() {
            let case = std::sync::Arc::new(case);
            for mode in [Mode::File, Mode::Digest] {
                let m = match mode {
                    Mode::File => "file",
                    Mode::Digest => "digest",
                };
                let key = format!("{} {m}", case.name);
                let ignored = client == Client::Oxtask && known.contains_key(&key);
                let (c, b, h) = (case.clone(), bin.clone(), home.clone());
                trials.push(
                    Trial::test(format!("{prefix}::{}::{m}", case.name), move || {
                        run(&c, mode, client, &b, &h)
                    })
                    .with_ignored_flag(ignored),
                );
            }
        }
    }
    let conclusion = libtest_mimic::run(&args, trials);
    drop(tmp);
    conclusion.exit();
}
