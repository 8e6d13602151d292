//! Shared by tests/cosign_blob.rs and tests/cosign_attest.rs: the loopback Sigstore
//! fixture, the native cosign and a work directory holding the artifact, plus the small
//! assertion helpers both use. Include after `support/sigstore.rs` (as `mod support`).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::{text, Cosign, Sigstore};

/// The command succeeded; its stderr.
pub fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        text(&o.stdout),
        text(&o.stderr)
    );
    text(&o.stderr)
}

/// The command failed without a panic; its stderr.
pub fn fails(o: &Output) -> String {
    assert!(
        !o.status.success(),
        "expected a failure\nstdout: {}\nstderr: {}",
        text(&o.stdout),
        text(&o.stderr)
    );
    let err = text(&o.stderr);
    assert!(!err.contains("panicked"), "{err}");
    err
}

pub fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

pub fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

/// The fixture, oxtask's cosign and `work/chart-1.0.0.tgz`.
pub struct BlobEnv {
    pub sig: Sigstore,
    pub ox: Cosign,
    pub work: tempfile::TempDir,
    pub artifact: PathBuf,
}

impl BlobEnv {
    /// `None` when the fixture's tools are missing (a failure under `CI=true`).
    pub fn start() -> Option<BlobEnv> {
        let sig = Sigstore::start()?;
        let work = tempfile::tempdir().unwrap();
        let artifact = work.path().join("chart-1.0.0.tgz");
        std::fs::write(&artifact, b"the release artifact\n").unwrap();
        Some(BlobEnv {
            sig,
            ox: Cosign::new(),
            work,
            artifact,
        })
    }
    pub fn w(&self) -> &Path {
        self.work.path()
    }
    /// The fixture's trusted root file.
    pub fn tr(&self) -> String {
        s(&self.sig.trusted_root())
    }
    /// The fixture's signing config file.
    pub fn sc(&self) -> String {
        s(&self.sig.signing_config())
    }
}
