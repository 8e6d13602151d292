//! Native `cosign`: `generate-key-pair`, `sign` and `verify` for OCI images and
//! `sign-blob` / `verify-blob` for files, key-based
//! or keyless (Fulcio + Rekor), in cosign's legacy signature layout or as Sigstore
//! bundles (OCI referrers). See docs/cosign.md.
//!
//! Library API: [`verify_image`] / [`verify_image_async`] with [`VerifyOptions`];
//! [`sign_image`] / [`sign::sign`] with [`SignOptions`]; [`Error::exit_code`] gives
//! cosign's exit code for an error.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{ArgAction, Parser, Subcommand};
use indexmap::IndexMap;

pub mod attest;
pub mod blob;
pub mod crypto;
pub mod fulcio;
pub mod keys;
pub mod oidc;
pub mod payload;
pub mod pki;
pub mod rekor;
pub mod sign;
mod sigverify;
pub mod store;
pub mod trust;
pub mod tsa;
pub mod tuf;
pub mod verify;
pub mod version;

pub use sign::{sign_image, SignOptions};
pub use store::RegistryOpts;
pub use verify::{
    verify_image, verify_image_async, Verification, VerifiedSignature, VerifyOptions,
};

/// Errors of the cosign tool. None of them ever carries a key, password or token.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Key(String),
    #[error("{0}")]
    Token(String),
    #[error("{0}")]
    Trust(String),
    #[error("{0}")]
    Fulcio(String),
    #[error("{0}")]
    Rekor(String),
    /// The timestamp authority could not be reached or answered wrongly.
    #[error("{0}")]
    Timestamp(String),
    #[error("{0}")]
    Registry(String),
    #[error("{0}")]
    Verify(String),
    #[error("{0}")]
    Io(String),
    /// The image has no signatures (exit 10).
    #[error("{0}")]
    NoSignatures(String),
    /// The image (tag or digest) does not exist (exit 11).
    #[error("{0}")]
    NotFound(String),
    /// Signatures exist but none passes (exit 12).
    #[error("{0}")]
    NoMatching(String),
    /// Keyless verification of a signature without certificate (exit 13).
    #[error("{0}")]
    NoCertificate(String),
}

impl Error {
    /// cosign's exit codes.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::NoSignatures(_) => 10,
            Error::NotFound(_) => 11,
            Error::NoMatching(_) => 12,
            Error::NoCertificate(_) => 13,
            _ => 1,
        }
    }
}

/// An HTTP error's text without URL credentials or query strings that may hold secrets.
pub(crate) fn http_error(e: &reqwest::Error) -> String {
    let mut s = if e.is_timeout() {
        "request timed out".to_string()
    } else if e.is_connect() {
        "connection failed".to_string()
    } else if e.is_decode() {
        "invalid response body".to_string()
    } else {
        "request failed".to_string()
    };
    let mut src = std::error::Error::source(e);
    while let Some(c) = src {
        s.push_str(": ");
        s.push_str(&c.to_string());
        src = c.source();
    }
    s
}

/// `registry/repo[:tag|@digest]`; Docker Hub short names get `index.docker.io` as
/// cosign's reference parser does.
pub fn parse_image_ref(s: &str) -> Result<crate::native::oci::Reference, Error> {
    let first = s.split('/').next().unwrap_or_default();
    let has_host =
        s.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    let full = if has_host {
        s.to_string()
    } else if s.contains('/') {
        format!("index.docker.io/{s}")
    } else {
        format!("index.docker.io/library/{s}")
    };
    crate::native::oci::Reference::parse(&full)
        .map_err(|e| Error::Usage(format!("parsing reference {s:?}: {e}")))
}

/// Go's `time.ParseDuration` for the units cosign users write (h, m, s, ms).
fn go_duration(s: &str) -> Result<std::time::Duration, String> {
    let mut total = 0f64;
    let mut rest = s.trim();
    if rest.is_empty() {
        return Err("empty duration".into());
    }
    if rest == "0" {
        return Ok(std::time::Duration::ZERO);
    }
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let v: f64 = rest[..n]
            .parse()
            .map_err(|_| format!("invalid duration {s:?}"))?;
        rest = &rest[n..];
        let u = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let mult = match &rest[..u] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            _ => return Err(format!("invalid duration {s:?}")),
        };
        total += v * mult;
        rest = &rest[u..];
    }
    Ok(std::time::Duration::from_secs_f64(total))
}

/// cobra-style booleans: `--flag`, `--flag=true|false`.
fn bool_flag(s: &str) -> Result<bool, String> {
    match s {
        "true" | "1" | "t" | "T" | "TRUE" | "True" => Ok(true),
        "false" | "0" | "f" | "F" | "FALSE" | "False" => Ok(false),
        _ => Err(format!("invalid boolean {s:?}")),
    }
}

#[derive(Parser, Debug)]
#[command(
    name = "cosign",
    about = "Container signing and verification (oxtask's native cosign)",
    version = concat!("v3.1.1 (oxtask ", env!("CARGO_PKG_VERSION"), ")")
)]
struct Cli {
    /// Log debug output (accepted for compatibility).
    #[arg(short = 'd', long, global = true)]
    verbose: bool,
    /// Timeout for each image's operation, Go duration syntax (`90s`, `3m`, `1h30m`).
    #[arg(short = 't', long, global = true, default_value = "3m", value_parser = go_duration)]
    timeout: std::time::Duration,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(clap::Args, Debug, Clone, Default)]
struct RegistryArgs {
    /// Whether to allow using HTTP protocol while connecting to registries.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = bool_flag, action = ArgAction::Set, default_value = "false")]
    allow_http_registry: bool,
    /// Whether to allow insecure connections to registries (e.g. self-signed TLS).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = bool_flag, action = ArgAction::Set, default_value = "false")]
    allow_insecure_registry: bool,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Generates a key pair (cosign.key encrypted with COSIGN_PASSWORD, cosign.pub).
    GenerateKeyPair {
        /// Prefix of the output files.
        #[arg(long, default_value = "cosign")]
        output_key_prefix: String,
        /// Overwrite existing files without asking.
        #[arg(short = 'f', long)]
        force: bool,
    },
    /// Signs an image digest.
    Sign(Box<SignArgs>),
    /// Verifies an image's signatures.
    Verify(Box<VerifyArgs>),
    /// Signs a file (a Sigstore bundle, or cosign's legacy signature and bundle).
    SignBlob(Box<SignBlobArgs>),
    /// Verifies a file's signature (a Sigstore bundle, or cosign's legacy formats).
    VerifyBlob(Box<VerifyBlobArgs>),
    /// Attests to a file: an in-toto statement (subject: the file's SHA-256) signed as a
    /// DSSE envelope, written as a Sigstore bundle.
    AttestBlob(Box<AttestBlobArgs>),
    /// Verifies a file's attestation (a Sigstore bundle holding a DSSE envelope).
    VerifyBlobAttestation(Box<VerifyBlobAttestationArgs>),
    /// Attests to an image digest: an in-toto statement in a Sigstore bundle, attached as
    /// an OCI 1.1 referrer.
    Attest(Box<AttestArgs>),
    /// Verifies an image's attestations (Sigstore bundle referrers).
    VerifyAttestation(Box<VerifyAttestationArgs>),
    /// Initializes the Sigstore TUF root: records the mirror and fetches the trust
    /// material (trusted_root.json, signing config) into $TUF_ROOT or ~/.sigstore/root.
    Initialize {
        /// TUF repository base URL.
        #[arg(long, default_value = tuf::DEFAULT_MIRROR)]
        mirror: String,
        /// Trusted initial root.json (file, http(s) URL or env://VAR); default: the
        /// embedded public-good root.
        #[arg(long)]
        root: Option<String>,
        /// Checksum of the initial root: HEX (sha256), sha256:HEX or sha512:HEX.
        #[arg(long)]
        root_checksum: Option<String>,
    },
    /// Prints the version: the cosign release followed and the oxtask build.
    Version {
        /// Print the version as JSON.
        #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = bool_flag, action = ArgAction::Set, default_value = "false")]
        json: bool,
    },
}

#[derive(clap::Args, Debug)]
struct SignArgs {
    /// Private key: a file or env://VAR. Keyless (Fulcio) when absent.
    #[arg(long)]
    key: Option<String>,
    /// Skip the confirmation prompt.
    #[arg(short = 'y', long)]
    yes: bool,
    /// Extra key=value pairs to sign (repeatable, comma-separated).
    #[arg(short = 'a', long = "annotations", action = ArgAction::Append)]
    annotations: Vec<String>,
    /// Upload the signature to the transparency log.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = bool_flag, action = ArgAction::Set, default_value = "true")]
    tlog_upload: bool,
    /// Push the signature to the registry.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = bool_flag, action = ArgAction::Set, default_value = "true")]
    upload: bool,
    /// Fulcio address (overrides the signing config).
    #[arg(long)]
    fulcio_url: Option<String>,
    /// Rekor address (overrides the signing config).
    #[arg(long)]
    rekor_url: Option<String>,
    /// Sigstore signing config JSON (else SIGSTORE_SIGNING_CONFIG).
    #[arg(long)]
    signing_config: Option<PathBuf>,
    /// Sigstore trusted root JSON (else SIGSTORE_TRUSTED_ROOT).
    #[arg(long)]
    trusted_root: Option<PathBuf>,
    /// OIDC token (or a file holding it) for Fulcio.
    #[arg(long)]
    identity_token: Option<String>,
    /// Store a Sigstore bundle as an OCI 1.1 referrer instead of the .sig tag.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = bool_flag, action = ArgAction::Set, default_value = "false")]
    new_bundle_format: bool,
    #[arg(long)]
    output_signature: Option<PathBuf>,
    #[arg(long)]
    output_certificate: Option<PathBuf>,
    #[arg(long)]
    output_payload: Option<PathBuf>,
    /// Accepted for compatibility (the OIDC issuer comes from the token).
    #[arg(long, hide = true)]
    oidc_issuer: Option<String>,
    #[arg(long, hide = true)]
    oidc_client_id: Option<String>,
    #[command(flatten)]
    registry: RegistryArgs,
    /// Image reference(s): REGISTRY/REPO@DIGEST (a tag is resolved, with a warning).
    #[arg(required = true)]
    images: Vec<String>,
}

/// The key, identity and trust flags of verify, verify-blob, verify-attestation and
/// verify-blob-attestation (one definition, so the four cannot drift apart).
#[derive(clap::Args, Debug, Clone, Default)]
struct VerifyTrustArgs {
    #[arg(long)]
    key: Option<String>,
    #[arg(long)]
    certificate_identity: Option<String>,
    #[arg(long)]
    certificate_identity_regexp: Option<String>,
    #[arg(long)]
    certificate_oidc_issuer: Option<String>,
    #[arg(long)]
    certificate_oidc_issuer_regexp: Option<String>,
    #[arg(long)]
    trusted_root: Option<PathBuf>,
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = bool_flag, action = ArgAction::Set, default_value = "false")]
    insecure_ignore_tlog: bool,
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = bool_flag, action = ArgAction::Set, default_value = "false")]
    insecure_ignore_sct: bool,
    /// Accepted for compatibility (verification is offline).
    #[arg(long, hide = true)]
    rekor_url: Option<String>,
}

impl VerifyTrustArgs {
    fn options(self, use_signed_timestamps: bool) -> VerifyOptions {
        VerifyOptions {
            key: self.key,
            certificate_identity: self.certificate_identity,
            certificate_identity_regexp: self.certificate_identity_regexp,
            certificate_oidc_issuer: self.certificate_oidc_issuer,
            certificate_oidc_issuer_regexp: self.certificate_oidc_issuer_regexp,
            trusted_root: self.trusted_root,
            insecure_ignore_tlog: self.insecure_ignore_tlog,
            insecure_ignore_sct: self.insecure_ignore_sct,
            use_signed_timestamps,
            ..Default::default()
        }
    }
}

#[derive(clap::Args, Debug)]
struct VerifyArgs {
    #[command(flatten)]
    trust: VerifyTrustArgs,
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = bool_flag, action = ArgAction::Set, default_value = "false")]
    new_bundle_format: bool,
    /// Annotations the signature must carry.
    #[arg(short = 'a', long = "annotations", action = ArgAction::Append)]
    annotations: Vec<String>,
    /// Output format: json (default) or text.
    #[arg(short = 'o', long, default_value = "json")]
    output: String,
    #[command(flatten)]
    registry: RegistryArgs,
    #[arg(required = true)]
    images: Vec<String>,
}

#[derive(clap::Args, Debug)]
struct SignBlobArgs {
    /// Private key: a file or env://VAR. Keyless (Fulcio) when absent.
    #[arg(long)]
    key: Option<String>,
    /// Skip the confirmation prompt.
    #[arg(short = 'y', long)]
    yes: bool,
    /// Write the bundle to this file.
    #[arg(long)]
    bundle: Option<PathBuf>,
    /// Write a Sigstore bundle (cosign v3's default); `=false` for the legacy outputs.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = bool_flag, action = ArgAction::Set, default_value = "true")]
    new_bundle_format: bool,
    /// Upload the signature to the transparency log.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = bool_flag, action = ArgAction::Set, default_value = "true")]
    tlog_upload: bool,
    /// Legacy format: write the base64 signature here instead of stdout.
    #[arg(long)]
    output_signature: Option<PathBuf>,
    /// Legacy format: write the (base64 PEM) certificate here.
    #[arg(long)]
    output_certificate: Option<PathBuf>,
    #[arg(long)]
    fulcio_url: Option<String>,
    #[arg(long)]
    rekor_url: Option<String>,
    #[arg(long)]
    signing_config: Option<PathBuf>,
    #[arg(long)]
    trusted_root: Option<PathBuf>,
    #[arg(long)]
    identity_token: Option<String>,
    /// Accepted for compatibility (base64 output is the only encoding).
    #[arg(long, hide = true, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = bool_flag, action = ArgAction::Set, default_value = "true")]
    b64: bool,
    #[arg(long, hide = true)]
    oidc_issuer: Option<String>,
    #[arg(long, hide = true)]
    oidc_client_id: Option<String>,
    /// The file to sign (`-` for stdin).
    blob: String,
}

#[derive(clap::Args, Debug)]
struct VerifyBlobArgs {
    #[command(flatten)]
    trust: VerifyTrustArgs,
    /// Sigstore bundle (or cosign's legacy blob bundle).
    #[arg(long)]
    bundle: Option<PathBuf>,
    /// Signature: base64 text or a file (legacy verification).
    #[arg(long)]
    signature: Option<String>,
    /// PEM certificate (legacy verification).
    #[arg(long)]
    certificate: Option<PathBuf>,
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = bool_flag, action = ArgAction::Set, default_value = "true")]
    new_bundle_format: bool,
    /// Require an RFC 3161 timestamp from a trusted timestamp authority.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = bool_flag, action = ArgAction::Set, default_value = "false")]
    use_signed_timestamps: bool,
    /// Accepted for compatibility (verification is always offline).
    #[arg(long, hide = true, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = bool_flag, action = ArgAction::Set, default_value = "false")]
    offline: bool,
    /// The file (`-` for stdin) or its digest `sha256:HEX`.
    blob: String,
}

#[derive(clap::Args, Debug)]
struct AttestBlobArgs {
    /// Private key: a file or env://VAR. Keyless (Fulcio) when absent.
    #[arg(long)]
    key: Option<String>,
    /// Skip the confirmation prompt.
    #[arg(short = 'y', long)]
    yes: bool,
    /// Path to the predicate file.
    #[arg(long)]
    predicate: Option<PathBuf>,
    /// Path to a complete in-toto statement (instead of a predicate).
    #[arg(long)]
    statement: Option<PathBuf>,
    /// Predicate type: slsaprovenance|slsaprovenance02|slsaprovenance1|link|spdx|spdxjson|cyclonedx|vuln|openvex|custom, or a URI.
    #[arg(long = "type", default_value = "custom")]
    predicate_type: String,
    /// The artifact's SHA-256 (hex) instead of reading the file.
    #[arg(long)]
    hash: Option<String>,
    /// Write the bundle to this file.
    #[arg(long)]
    bundle: Option<PathBuf>,
    /// Write a Sigstore bundle (the only output oxtask writes; `=false` is refused).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = bool_flag, action = ArgAction::Set, default_value = "true")]
    new_bundle_format: bool,
    /// Upload the attestation to the transparency log.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = bool_flag, action = ArgAction::Set, default_value = "true")]
    tlog_upload: bool,
    /// Log entry type: dsse (oxtask writes dsse entries only).
    #[arg(long, default_value = "dsse")]
    rekor_entry_type: String,
    #[arg(long)]
    fulcio_url: Option<String>,
    #[arg(long)]
    rekor_url: Option<String>,
    #[arg(long)]
    signing_config: Option<PathBuf>,
    #[arg(long)]
    trusted_root: Option<PathBuf>,
    #[arg(long)]
    identity_token: Option<String>,
    #[arg(long, hide = true)]
    oidc_issuer: Option<String>,
    #[arg(long, hide = true)]
    oidc_client_id: Option<String>,
    /// The file to attest to (`-` for stdin); optional when a whole statement is given.
    blob: Option<String>,
}

#[derive(clap::Args, Debug)]
struct AttestArgs {
    /// Private key: a file or env://VAR. Keyless (Fulcio) when absent.
    #[arg(long)]
    key: Option<String>,
    /// Skip the confirmation prompt.
    #[arg(short = 'y', long)]
    yes: bool,
    /// Path to the predicate file.
    #[arg(long, required = true)]
    predicate: PathBuf,
    /// Predicate type: slsaprovenance|slsaprovenance02|slsaprovenance1|link|spdx|spdxjson|cyclonedx|vuln|openvex|custom, or a URI.
    #[arg(long = "type", default_value = "custom")]
    predicate_type: String,
    /// Upload the attestation to the transparency log.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = bool_flag, action = ArgAction::Set, default_value = "true")]
    tlog_upload: bool,
    /// Do not push the attestation to the registry.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = bool_flag, action = ArgAction::Set, default_value = "false")]
    no_upload: bool,
    /// Attach a Sigstore bundle as an OCI referrer (cosign 3's default; `=false` is refused).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = bool_flag, action = ArgAction::Set, default_value = "true")]
    new_bundle_format: bool,
    #[arg(long)]
    fulcio_url: Option<String>,
    #[arg(long)]
    rekor_url: Option<String>,
    #[arg(long)]
    signing_config: Option<PathBuf>,
    #[arg(long)]
    trusted_root: Option<PathBuf>,
    #[arg(long)]
    identity_token: Option<String>,
    #[arg(long, hide = true)]
    oidc_issuer: Option<String>,
    #[arg(long, hide = true)]
    oidc_client_id: Option<String>,
    #[command(flatten)]
    registry: RegistryArgs,
    /// Image reference(s): REGISTRY/REPO@DIGEST (a tag is resolved, with a warning).
    #[arg(required = true)]
    images: Vec<String>,
}

#[derive(clap::Args, Debug)]
struct VerifyAttestationArgs {
    #[command(flatten)]
    trust: VerifyTrustArgs,
    /// Predicate type the statement must have (a name as for attest, or a URI).
    #[arg(long = "type", default_value = "custom")]
    predicate_type: String,
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = bool_flag, action = ArgAction::Set, default_value = "false")]
    use_signed_timestamps: bool,
    /// Accepted for compatibility (only bundle referrers are read).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = bool_flag, action = ArgAction::Set, default_value = "true")]
    new_bundle_format: bool,
    #[command(flatten)]
    registry: RegistryArgs,
    #[arg(required = true)]
    images: Vec<String>,
}

#[derive(clap::Args, Debug)]
struct VerifyBlobAttestationArgs {
    #[command(flatten)]
    trust: VerifyTrustArgs,
    /// Sigstore bundle holding the DSSE envelope.
    #[arg(long)]
    bundle: Option<PathBuf>,
    /// Predicate type the statement must have (a name as for attest-blob, or a URI).
    #[arg(long = "type", default_value = "custom")]
    predicate_type: String,
    /// The artifact's digest (hex), when the artifact is not given.
    #[arg(long)]
    digest: Option<String>,
    /// Algorithm of the digest flag (sha256).
    #[arg(long = "digestAlg")]
    digest_alg: Option<String>,
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = bool_flag, action = ArgAction::Set, default_value = "true")]
    new_bundle_format: bool,
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = bool_flag, action = ArgAction::Set, default_value = "false")]
    use_signed_timestamps: bool,
    #[arg(long, hide = true, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = bool_flag, action = ArgAction::Set, default_value = "false")]
    offline: bool,
    /// The file (`-` for stdin) or `sha256:HEX`; else its digest as a flag.
    blob: Option<String>,
}

fn parse_annotations(a: &[String]) -> Result<IndexMap<String, String>, Error> {
    let mut out = IndexMap::new();
    for item in a.iter().flat_map(|s| s.split(',')) {
        if item.is_empty() {
            continue;
        }
        let (k, v) = item
            .split_once('=')
            .ok_or_else(|| Error::Usage(format!("unable to parse annotation: {item}")))?;
        out.insert(k.to_string(), v.to_string());
    }
    Ok(out)
}

/// Entry point for argv[0] = `cosign` (args exclude argv[0]); returns the exit code.
pub fn main(args: Vec<OsString>) -> i32 {
    let argv = std::iter::once(OsString::from("cosign")).chain(args.iter().cloned());
    let cli = match Cli::try_parse_from(argv) {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                    let _ = e.print();
                    return 0;
                }
                // A flag no native command knows: a real cosign gets the command line;
                // without one, cobra's error naming the flag (exit 1).
                ErrorKind::UnknownArgument if !has_real_cosign() => {
                    let flag = match e.get(clap::error::ContextKind::InvalidArg) {
                        Some(clap::error::ContextValue::String(a)) => a.clone(),
                        _ => String::new(),
                    };
                    if flag.starts_with('-') {
                        eprintln!("Error: {}", super::unknown_flag_message(&flag));
                    } else {
                        eprintln!("Error: unknown command {flag:?} for \"cosign\"");
                    }
                    return 1;
                }
                // Subcommands and flags this build does not implement go to a real cosign.
                ErrorKind::InvalidSubcommand | ErrorKind::UnknownArgument => {
                    let what = args
                        .iter()
                        .map(|a| a.to_string_lossy().into_owned())
                        .find(|a| !a.starts_with('-'))
                        .unwrap_or_default();
                    return super::fall_through("cosign", &args, &what);
                }
                _ => {
                    let _ = e.print();
                    return 1;
                }
            }
        }
    };
    match run(cli) {
        Ok(()) => 0,
        Err(e) => {
            let sargs: Vec<String> = args
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            eprintln!(
                "Error: {}",
                crate::native::redact_secrets(&e.to_string(), &sargs)
            );
            e.exit_code()
        }
    }
}

fn has_real_cosign() -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    super::find_real("cosign", &path).0.is_some()
}

fn registry_opts(r: &RegistryArgs) -> RegistryOpts {
    RegistryOpts {
        allow_http: r.allow_http_registry,
        allow_insecure: r.allow_insecure_registry,
        ca_file: None,
    }
}

async fn with_timeout<T>(
    d: std::time::Duration,
    f: impl std::future::Future<Output = Result<T, Error>>,
) -> Result<Result<T, Error>, Error> {
    if d.is_zero() {
        return Ok(f.await);
    }
    tokio::time::timeout(d, f)
        .await
        .map_err(|_| Error::Io(format!("timed out after {d:?} (--timeout)")))
}

fn run(cli: Cli) -> Result<(), Error> {
    let timeout = cli.timeout;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Io(format!("starting runtime: {e}")))?;
    match cli.cmd {
        Cmd::Version { json } => {
            print!("{}", version::render(json));
            Ok(())
        }
        Cmd::GenerateKeyPair {
            output_key_prefix,
            force,
        } => keys::generate_key_pair(&output_key_prefix, |p| force || confirm_overwrite(p)),
        Cmd::Initialize {
            mirror,
            root,
            root_checksum,
        } => rt.block_on(with_timeout(
            timeout,
            tuf::initialize(Some(&mirror), root.as_deref(), root_checksum.as_deref()),
        ))?,
        Cmd::Sign(a) => {
            let o = SignOptions {
                key: a.key,
                annotations: parse_annotations(&a.annotations)?,
                tlog_upload: a.tlog_upload,
                upload: a.upload,
                fulcio_url: a.fulcio_url,
                rekor_url: a.rekor_url,
                signing_config: a.signing_config,
                trusted_root: a.trusted_root,
                identity_token: a.identity_token,
                new_bundle_format: a.new_bundle_format,
                registry: registry_opts(&a.registry),
                yes: a.yes,
                output_signature: a.output_signature,
                output_certificate: a.output_certificate,
                output_payload: a.output_payload,
            };
            for img in &a.images {
                rt.block_on(with_timeout(timeout, sign::sign(img, &o)))??;
            }
            Ok(())
        }
        c @ (Cmd::SignBlob(_)
        | Cmd::VerifyBlob(_)
        | Cmd::AttestBlob(_)
        | Cmd::VerifyBlobAttestation(_)) => run_blob(c, &rt, timeout),
        c @ (Cmd::Attest(_) | Cmd::VerifyAttestation(_)) => run_attest(c, &rt, timeout),
        Cmd::Verify(a) => {
            let o = VerifyOptions {
                new_bundle_format: a.new_bundle_format,
                annotations: parse_annotations(&a.annotations)?,
                registry: registry_opts(&a.registry),
                ..a.trust.options(false)
            };
            if o.insecure_ignore_tlog {
                eprintln!("WARNING: Skipping tlog verification is an insecure practice that lacks transparency and auditability verification for the signature.");
            }
            for img in &a.images {
                let v = rt.block_on(with_timeout(timeout, verify_image_async(img, &o)))??;
                eprint!("{}", verify::header(img, &v, o.key.is_some()));
                if a.output == "text" {
                    for s in &v.signatures {
                        if let Some(sub) = &s.subject {
                            eprintln!("Certificate subject: {sub}");
                        }
                        if let Some(i) = &s.issuer {
                            eprintln!("Certificate issuer URL: {i}");
                        }
                        println!("{}", String::from_utf8_lossy(&s.payload));
                    }
                } else {
                    println!("{}", verify::json_output(&v));
                }
            }
            Ok(())
        }
    }
}

fn run_blob(
    cmd: Cmd,
    rt: &tokio::runtime::Runtime,
    timeout: std::time::Duration,
) -> Result<(), Error> {
    match cmd {
        Cmd::SignBlob(a) => {
            let o = blob::SignBlobOptions {
                sign: SignOptions {
                    key: a.key,
                    tlog_upload: a.tlog_upload,
                    fulcio_url: a.fulcio_url,
                    rekor_url: a.rekor_url,
                    signing_config: a.signing_config,
                    trusted_root: a.trusted_root,
                    identity_token: a.identity_token,
                    new_bundle_format: a.new_bundle_format,
                    yes: a.yes,
                    output_signature: a.output_signature,
                    output_certificate: a.output_certificate,
                    ..Default::default()
                },
                bundle: a.bundle,
            };
            rt.block_on(with_timeout(timeout, blob::sign_blob(&a.blob, &o)))?
        }
        Cmd::VerifyBlob(a) => {
            let o = blob::VerifyBlobOptions {
                verify: a.trust.options(a.use_signed_timestamps),
                bundle: a.bundle,
                signature: a.signature,
                certificate: a.certificate,
                new_bundle_format: a.new_bundle_format,
            };
            if o.verify.insecure_ignore_tlog {
                eprintln!("WARNING: Skipping tlog verification is an insecure practice that lacks transparency and auditability verification for the signature.");
            }
            rt.block_on(with_timeout(timeout, blob::verify_blob(&a.blob, &o)))?
        }
        Cmd::AttestBlob(a) => {
            match a.rekor_entry_type.as_str() {
                "dsse" => {}
                "intoto" => {
                    return Err(Error::Usage(
                        "--rekor-entry-type intoto is not supported by oxtask (dsse entries only)"
                            .into(),
                    ))
                }
                _ => return Err(Error::Usage("unknown value for rekor-entry-type".into())),
            }
            let o = attest::AttestBlobOptions {
                sign: SignOptions {
                    key: a.key,
                    tlog_upload: a.tlog_upload,
                    fulcio_url: a.fulcio_url,
                    rekor_url: a.rekor_url,
                    signing_config: a.signing_config,
                    trusted_root: a.trusted_root,
                    identity_token: a.identity_token,
                    new_bundle_format: a.new_bundle_format,
                    yes: a.yes,
                    ..Default::default()
                },
                bundle: a.bundle,
                predicate: a.predicate,
                statement: a.statement,
                predicate_type: a.predicate_type,
                hash: a.hash,
            };
            rt.block_on(with_timeout(
                timeout,
                attest::attest_blob(a.blob.as_deref(), &o),
            ))?
        }
        Cmd::VerifyBlobAttestation(a) => {
            let o = attest::VerifyBlobAttestationOptions {
                verify: a.trust.options(a.use_signed_timestamps),
                bundle: a.bundle,
                predicate_type: a.predicate_type,
                digest: a.digest,
                digest_alg: a.digest_alg,
                new_bundle_format: a.new_bundle_format,
            };
            if o.verify.insecure_ignore_tlog {
                eprintln!("WARNING: Skipping tlog verification is an insecure practice that lacks transparency and auditability verification for the signature.");
            }
            rt.block_on(with_timeout(
                timeout,
                attest::verify_blob_attestation(a.blob.as_deref(), &o),
            ))?
        }
        _ => unreachable!("run_blob is only called for blob commands"),
    }
}

fn run_attest(
    cmd: Cmd,
    rt: &tokio::runtime::Runtime,
    timeout: std::time::Duration,
) -> Result<(), Error> {
    match cmd {
        Cmd::Attest(a) => {
            let o = attest::AttestOptions {
                sign: SignOptions {
                    key: a.key,
                    tlog_upload: a.tlog_upload,
                    upload: !a.no_upload,
                    fulcio_url: a.fulcio_url,
                    rekor_url: a.rekor_url,
                    signing_config: a.signing_config,
                    trusted_root: a.trusted_root,
                    identity_token: a.identity_token,
                    new_bundle_format: a.new_bundle_format,
                    registry: registry_opts(&a.registry),
                    yes: a.yes,
                    ..Default::default()
                },
                predicate: a.predicate,
                predicate_type: a.predicate_type,
            };
            for img in &a.images {
                rt.block_on(with_timeout(timeout, attest::attest_image(img, &o)))??;
            }
            Ok(())
        }
        Cmd::VerifyAttestation(a) => {
            let o = VerifyOptions {
                new_bundle_format: a.new_bundle_format,
                annotations: IndexMap::new(),
                registry: registry_opts(&a.registry),
                ..a.trust.options(a.use_signed_timestamps)
            };
            if o.insecure_ignore_tlog {
                eprintln!("WARNING: Skipping tlog verification is an insecure practice that lacks transparency and auditability verification for the attestation.");
            }
            for img in &a.images {
                let v = rt.block_on(with_timeout(
                    timeout,
                    attest::verify_attestation(img, &o, &a.predicate_type),
                ))??;
                eprint!("{}", verify::header(img, &v.verification, o.key.is_some()));
                for (s, env) in v.verification.signatures.iter().zip(&v.envelopes) {
                    if let Some(sub) = &s.subject {
                        eprintln!("Certificate subject: {sub}");
                    }
                    if let Some(i) = &s.issuer {
                        eprintln!("Certificate issuer URL: {i}");
                    }
                    println!("{env}");
                }
            }
            Ok(())
        }
        _ => unreachable!("run_attest is only called for attest commands"),
    }
}

fn confirm_overwrite(p: &std::path::Path) -> bool {
    use std::io::{IsTerminal, Write};
    if !std::io::stdin().is_terminal() {
        return false;
    }
    eprint!("File {} already exists. Overwrite (y/n)? ", p.display());
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).is_ok() && matches!(line.trim(), "y" | "Y")
}

/// POSTs JSON to a Sigstore service and returns its JSON answer; errors say what was being
/// done (`doing URL: …`) and carry the service's own `message` when it gives one.
pub(crate) async fn post_json(
    http: &reqwest::Client,
    url: &str,
    body: &serde_json::Value,
    service: &str,
    doing: &str,
) -> Result<serde_json::Value, String> {
    let resp = http
        .post(url)
        .header("Content-Type", "application/json")
        .header("Accept", "application/json")
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| format!("{doing} {url}: {}", http_error(&e)))?;
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    if !status.is_success() {
        let msg = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_string))
            .unwrap_or_else(|| text.chars().take(300).collect());
        return Err(format!("{doing} {url}: HTTP {status}: {msg}"));
    }
    serde_json::from_str(&text).map_err(|_| format!("{service} answer is not JSON"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(go_duration("3m").unwrap().as_secs(), 180);
        assert_eq!(go_duration("1h30m").unwrap().as_secs(), 5400);
        assert_eq!(go_duration("1.5s").unwrap().as_millis(), 1500);
        assert_eq!(go_duration("0").unwrap().as_secs(), 0);
        assert!(go_duration("3 minutes").is_err());
        assert!(go_duration("").is_err());
    }

    #[test]
    fn annotations_and_refs() {
        let a = parse_annotations(&["a=1,b=2".into(), "c=x=y".into()]).unwrap();
        assert_eq!(a.get("a").unwrap(), "1");
        assert_eq!(a.get("c").unwrap(), "x=y");
        assert!(parse_annotations(&["novalue".into()]).is_err());
        let r = parse_image_ref("ghcr.io/acme/chart@sha256:".to_string().as_str());
        assert!(r.is_err());
        let r = parse_image_ref("busybox:1").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str()),
            ("index.docker.io", "library/busybox")
        );
        let r = parse_image_ref("localhost:5000/a/b:c").unwrap();
        assert_eq!(
            (
                r.registry.as_str(),
                r.repository.as_str(),
                r.reference.as_str()
            ),
            ("localhost:5000", "a/b", "c")
        );
    }
}
