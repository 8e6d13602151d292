//! The seed pipeline end to end: `examples/signed-helm-chart`'s Taskfile run by oxtask with
//! no helm and no cosign on PATH, its command lines as written (only the registry host
//! differs: the Taskfile reads REGISTRY), against
//! - the CNCF distribution registry on loopback, TLS with htpasswd (CA via SSL_CERT_FILE),
//! - the project's loopback Sigstore fixture (SIGSTORE_SIGNING_CONFIG / SIGSTORE_TRUSTED_ROOT),
//! - its stand-in for GitHub's OIDC token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN);
//!
//! then the consumer's side (`task verify`: signature and SLSA provenance attestation,
//! `task pull-verified`), and the laptop mode (OCI image layout + a key made on the spot)
//! with skopeo as the independent reader.
//! Missing tools skip with a reason, or fail under CI=true.

#[path = "support/gotask.rs"]
mod gotask;
#[path = "support/registry.rs"]
mod registry;
#[path = "support/sigstore.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use support::{GH_IDENTITY, GH_ISSUER};

const OWNER: &str = "acme";
const CR_PAT: &str = "cr-pat-s3cret-4711";

fn example_dir() -> PathBuf {
    support::repo_root().join("examples/signed-helm-chart")
}

/// A fresh copy of the example (Taskfile, chart, workflow), without earlier outputs.
fn copy_example(to: &Path) {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            let name = e.file_name();
            let n = name.to_string_lossy();
            if ["dist", "pulled", ".digest", ".task"].contains(&n.as_ref()) {
                continue;
            }
            let (src, dst) = (e.path(), to.join(&name));
            if e.file_type().unwrap().is_dir() {
                copy(&src, &dst);
            } else {
                std::fs::copy(&src, &dst).unwrap();
            }
        }
    }
    copy(&example_dir(), to);
}

/// The machine of the test: PATH holds system directories and oxtask (as `task`) only.
struct Machine {
    _dir: tempfile::TempDir,
    bin: PathBuf,
    home: PathBuf,
    work: PathBuf,
    env: Vec<(String, String)>,
}

impl Machine {
    fn new() -> Machine {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_task"), bin.join("task")).unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let work = dir.path().join("work");
        copy_example(&work);
        let m = Machine {
            bin,
            home,
            work,
            env: Vec::new(),
            _dir: dir,
        };
        // The point of the exercise: neither tool exists on this machine.
        for tool in ["helm", "cosign"] {
            let o = m.sh(&format!("which {tool}"));
            assert!(
                !o.status.success(),
                "{tool} must not be on PATH for this test, found {}",
                text(&o.stdout)
            );
        }
        m
    }

    fn path(&self) -> String {
        format!("{}:/usr/bin:/bin", self.bin.display())
    }

    /// Runs `script` with bash in the work directory, in a clean environment.
    fn sh(&self, script: &str) -> Output {
        let mut c = Command::new("/bin/bash");
        c.arg("-c").arg(script).current_dir(&self.work).env_clear();
        c.env("PATH", self.path())
            .env("HOME", &self.home)
            .env("NO_COLOR", "1")
            .env("LANG", "C.UTF-8");
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c.stdin(Stdio::null());
        c.output().expect("running bash")
    }

    fn task(&self, args: &str) -> Output {
        self.sh(&format!("task {args}"))
    }

    fn set(&mut self, k: &str, v: impl Into<String>) {
        self.env.retain(|(x, _)| x != k);
        self.env.push((k.to_string(), v.into()));
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn all(o: &Output) -> String {
    format!("{}{}", text(&o.stdout), text(&o.stderr))
}

/// `sha256:<hex>` of `b`.
fn sha256(b: &[u8]) -> String {
    oxtask::native::oci::sha256_digest(b)
}

/// The digest `.digest` names, as the seed's awk extracts it.
fn digest_file(work: &Path) -> String {
    let d = std::fs::read_to_string(work.join(".digest")).unwrap();
    d.lines()
        .find(|l| l.contains("Digest"))
        .and_then(|l| l.split([',', ' ']).rfind(|s| !s.is_empty()))
        .unwrap_or_else(|| panic!(".digest has no Digest line: {d:?}"))
        .to_string()
}

/// The in-toto statement inside the one DSSE envelope `cosign verify-attestation` printed
/// on stdout (a JSON line with `payloadType`).
fn verified_statement(stdout: &str) -> serde_json::Value {
    use base64::Engine;
    let envs: Vec<serde_json::Value> = stdout
        .lines()
        .filter(|l| l.starts_with("{\"payload\""))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        envs.len(),
        1,
        "one attestation envelope expected in:\n{stdout}"
    );
    assert_eq!(envs[0]["payloadType"], "application/vnd.in-toto+json");
    let payload = base64::engine::general_purpose::STANDARD
        .decode(envs[0]["payload"].as_str().unwrap())
        .unwrap();
    serde_json::from_slice(&payload).unwrap()
}

/// The statement is SLSA provenance v1 about `digest` (the chart manifest), naming the
/// chart archive `tgz` as a byproduct and `builder` as its builder.
fn check_provenance(st: &serde_json::Value, digest: &str, tgz: &[u8], builder: &str) {
    assert_eq!(st["_type"], "https://in-toto.io/Statement/v1", "{st}");
    assert_eq!(
        st["predicateType"], "https://slsa.dev/provenance/v1",
        "{st}"
    );
    assert_eq!(
        st["subject"][0]["digest"]["sha256"].as_str(),
        Some(digest.trim_start_matches("sha256:")),
        "{st}"
    );
    let p = &st["predicate"];
    assert_eq!(p["runDetails"]["builder"]["id"], builder, "{st}");
    assert_eq!(
        p["runDetails"]["byproducts"][0]["digest"]["sha256"].as_str(),
        Some(sha256(tgz).trim_start_matches("sha256:")),
        "{st}"
    );
    assert_eq!(
        p["buildDefinition"]["externalParameters"]["version"],
        "0.1.0"
    );
}

/// The `run:` line of the workflow step that runs the pipeline.
fn workflow_run_line() -> String {
    let wf = std::fs::read_to_string(example_dir().join(".github/workflows/release.yml")).unwrap();
    let install: Vec<&str> = wf
        .lines()
        .filter(|l| l.trim_start().starts_with("run:"))
        .collect();
    // Its only install step is oxtask itself.
    assert!(
        !wf.contains("cosign-installer") && !wf.contains("azure/setup-helm"),
        "the workflow must not install helm or cosign"
    );
    assert!(wf.contains("id-token: write") && wf.contains("packages: write"));
    install
        .iter()
        .map(|l| l.trim_start().trim_start_matches("run:").trim().to_string())
        .find(|l| l.contains("task "))
        .expect("workflow step running task")
}

#[test]
fn seed_pipeline_keyless_with_tls_registry() {
    let Some(reg) = registry::start_registry(Some((OWNER, CR_PAT))) else {
        return;
    };
    let Some(sig) = support::Sigstore::start() else {
        return;
    };
    if !registry::require("skopeo") {
        return;
    }
    let mut m = Machine::new();
    m.set("REGISTRY", reg.host());
    m.set("OWNER", OWNER);
    m.set("CR_PAT", CR_PAT);
    m.set(
        "SSL_CERT_FILE",
        reg.ca.as_ref().unwrap().display().to_string(),
    );
    m.set(
        "SIGSTORE_SIGNING_CONFIG",
        sig.signing_config().display().to_string(),
    );
    m.set(
        "SIGSTORE_TRUSTED_ROOT",
        sig.trusted_root().display().to_string(),
    );
    for (k, v) in sig.actions_env() {
        m.set(&k, v);
    }
    m.set("GITHUB_ACTIONS", "true");
    // As GitHub Actions sets it: the workflow file and ref, the identity Fulcio certifies.
    m.set(
        "GITHUB_WORKFLOW_REF",
        GH_IDENTITY.trim_start_matches("https://github.com/"),
    );

    // The workflow's own command line (output folded into ::group:: blocks).
    let o = m.sh(&workflow_run_line());
    let out = all(&o);
    assert!(o.status.success(), "pipeline failed:\n{out}");
    for want in [
        "task: [purge] echo \"Purging...\"",
        "Login Succeeded",
        "Successfully packaged chart and saved it to: dist/signed-helm-chart-0.1.0.tgz",
        "Successfully verified SCT...",
        "tlog entry created with index",
        "Pushing signature to:",
        &format!(
            "task: [release] helm push dist/signed-helm-chart-*.tgz oci://{}/$OWNER/ > .digest",
            reg.host()
        ),
        &format!(
            "task: [release] cosign attest --type slsaprovenance1 --predicate dist/provenance.json {}/$OWNER/signed-helm-chart@",
            reg.host()
        ),
        "Pushing attestation to:",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    let stdout = text(&o.stdout);
    assert!(
        stdout.contains("::group::release\n") && stdout.contains("::endgroup::\n"),
        "no GitHub Actions groups in:\n{stdout}"
    );
    assert!(
        !out.contains(CR_PAT),
        "the registry password leaked:\n{out}"
    );
    assert!(!out.contains(&sig.token()), "the OIDC token leaked");

    // .digest names the manifest the registry holds (read back by skopeo).
    let digest = digest_file(&m.work);
    let image = format!("{}/{OWNER}/signed-helm-chart", reg.host());
    let raw = registry::skopeo_raw(&format!("{image}:0.1.0"), &reg);
    assert_eq!(digest, sha256(&raw));
    let manifest: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.cncf.helm.config.v1+json"
    );
    // The signature sits where cosign puts it, keyless: certificate and Rekor bundle.
    let sig_raw = registry::skopeo_raw(&format!("{image}:{}.sig", digest.replace(':', "-")), &reg);
    let sig_m: serde_json::Value = serde_json::from_slice(&sig_raw).unwrap();
    let ann = &sig_m["layers"][0]["annotations"];
    assert!(ann["dev.sigstore.cosign/certificate"]
        .as_str()
        .is_some_and(|c| c.contains("BEGIN CERTIFICATE")));
    assert!(ann["dev.sigstore.cosign/bundle"].is_string());
    // The provenance attestation: a Sigstore bundle attached as an OCI referrer of the chart
    // (under the referrers tag: this registry has no referrers API), its predicate type
    // annotated as cosign 3 does.
    let idx: serde_json::Value = serde_json::from_slice(&registry::skopeo_raw(
        &format!("{image}:{}", digest.replace(':', "-")),
        &reg,
    ))
    .unwrap();
    let att = idx["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| {
            m["annotations"]["dev.sigstore.bundle.predicateType"]
                == "https://slsa.dev/provenance/v1"
        })
        .unwrap_or_else(|| panic!("no provenance referrer in {idx}"));
    assert_eq!(
        att["artifactType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );

    // The consumer: no push credentials or OIDC token, the registry's CA, the trust root,
    // and (this registry wants a login for reads too) the stored login.
    let mut c = m;
    for k in [
        "CR_PAT",
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "SIGSTORE_SIGNING_CONFIG",
        "GITHUB_ACTIONS",
    ] {
        c.env.retain(|(x, _)| x != k);
    }
    c.set("REPOSITORY", "acme/charts");
    let o = c.task("verify");
    let out = all(&o);
    assert!(o.status.success(), "verify failed:\n{out}");
    assert!(
        out.contains(&format!(
            "cosign verify {image}:0.1.0 --certificate-identity {GH_IDENTITY} --certificate-oidc-issuer {GH_ISSUER}"
        )),
        "{out}"
    );
    assert!(
        out.contains("The code-signing certificate was verified"),
        "{out}"
    );
    assert!(
        out.contains(&format!("\"docker-manifest-digest\":\"{digest}\"")),
        "{out}"
    );
    // …and its provenance: signed by the release workflow, about this manifest, naming the
    // archive that was built.
    assert!(
        out.contains(&format!(
            "cosign verify-attestation {image}:0.1.0 --type slsaprovenance1 --certificate-identity {GH_IDENTITY} --certificate-oidc-issuer {GH_ISSUER}"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("Certificate subject: {GH_IDENTITY}")),
        "{out}"
    );
    let tgz = std::fs::read(c.work.join("dist/signed-helm-chart-0.1.0.tgz")).unwrap();
    check_provenance(
        &verified_statement(&text(&o.stdout)),
        &digest,
        &tgz,
        GH_IDENTITY,
    );

    // A consumer with the real cosign (v3) instead of oxtask accepts the same signature:
    // its own registry login (Docker config) and the registry's CA.
    if let Some(c3) = support::RealCosign::find("cosign3") {
        use base64::Engine;
        let dc = tempfile::tempdir().unwrap();
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("{OWNER}:{CR_PAT}"));
        std::fs::write(
            dc.path().join("config.json"),
            format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, reg.host()),
        )
        .unwrap();
        let ca = reg.ca.as_ref().unwrap().display().to_string();
        let tr = sig.trusted_root().display().to_string();
        let o = c3.run(
            &c.work,
            &[
                "verify",
                "--trusted-root",
                &tr,
                "--certificate-identity",
                GH_IDENTITY,
                "--certificate-oidc-issuer",
                GH_ISSUER,
                &format!("{image}:0.1.0"),
            ],
            &[
                ("SSL_CERT_FILE".into(), ca.clone()),
                ("DOCKER_CONFIG".into(), dc.path().display().to_string()),
            ],
        );
        assert!(
            o.status.success(),
            "real cosign verify failed:\n{}",
            all(&o)
        );
        assert!(
            text(&o.stdout).contains(&format!("\"docker-manifest-digest\":\"{digest}\"")),
            "{}",
            all(&o)
        );
        // …and the provenance attestation, as the Taskfile's consumer checks it.
        let env3: [(String, String); 2] = [
            ("SSL_CERT_FILE".into(), ca.clone()),
            ("DOCKER_CONFIG".into(), dc.path().display().to_string()),
        ];
        let va = |ty: &str, id: &str| {
            c3.run(
                &c.work,
                &[
                    "verify-attestation",
                    "--trusted-root",
                    &tr,
                    "--type",
                    ty,
                    "--certificate-identity",
                    id,
                    "--certificate-oidc-issuer",
                    GH_ISSUER,
                    &format!("{image}:0.1.0"),
                ],
                &env3,
            )
        };
        let o = va("slsaprovenance1", GH_IDENTITY);
        assert!(
            o.status.success(),
            "real cosign verify-attestation failed:\n{}",
            all(&o)
        );
        check_provenance(
            &verified_statement(&text(&o.stdout)),
            &digest,
            &tgz,
            GH_IDENTITY,
        );
        // Refusals: exit 1 from both, as oxtask's consumer task shows below.
        let o = va("spdxjson", GH_IDENTITY);
        assert_eq!(o.status.code(), Some(1), "{}", all(&o));
        assert!(
            all(&o).contains("none of the attestations matched the predicate type"),
            "{}",
            all(&o)
        );
        let o = va("slsaprovenance1", "https://github.com/evil/x");
        assert_eq!(o.status.code(), Some(1), "{}", all(&o));
    }

    // Another identity (a fork's workflow) is refused, and so is another issuer.
    let o = c.task("verify IDENTITY=https://github.com/evil/charts/.github/workflows/release.yml@refs/heads/main");
    assert!(!o.status.success(), "verify passed for another identity");
    assert!(all(&o).contains("no matching signatures"), "{}", all(&o));
    let o = c.task("verify ISSUER=https://accounts.google.com");
    assert!(!o.status.success(), "verify passed for another issuer");
    // The consumer's attestation check on its own (as `task verify` runs it): exit 1 with
    // cosign 3.1.1's messages for another predicate type or identity.
    let own = c.work.join("consumer-bin");
    std::fs::create_dir_all(&own).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_task"), own.join("cosign")).unwrap();
    let va = |ty: &str, id: &str| {
        c.sh(&format!(
            "consumer-bin/cosign verify-attestation {image}:0.1.0 --type {ty} \
             --certificate-identity {id} --certificate-oidc-issuer {GH_ISSUER}"
        ))
    };
    let o = va("spdxjson", GH_IDENTITY);
    assert_eq!(o.status.code(), Some(1), "{}", all(&o));
    assert!(
        all(&o).contains(
            "Error: none of the attestations matched the predicate type: spdxjson, found: https://slsa.dev/provenance/v1"
        ),
        "{}",
        all(&o)
    );
    let o = va("slsaprovenance1", "https://github.com/evil/x");
    assert_eq!(o.status.code(), Some(1), "{}", all(&o));
    assert!(
        all(&o).contains("Error: no matching attestations:"),
        "{}",
        all(&o)
    );

    // pull-verified: the chart arrives only when its signature verifies.
    let o = c.task("pull-verified");
    let out = all(&o);
    assert!(o.status.success(), "pull-verified failed:\n{out}");
    assert!(
        out.contains(&format!("Verified: cosign signature by {GH_IDENTITY}")),
        "{out}"
    );
    let pulled = std::fs::read(c.work.join("pulled/signed-helm-chart-0.1.0.tgz")).unwrap();
    let built = std::fs::read(c.work.join("dist/signed-helm-chart-0.1.0.tgz")).unwrap();
    assert_eq!(pulled, built);
    let o = c.task("pull-verified IDENTITY=https://github.com/evil/charts/.github/workflows/release.yml@refs/heads/main");
    assert!(
        !o.status.success(),
        "pull-verified passed for another identity"
    );
    assert!(all(&o).contains("nothing was written"), "{}", all(&o));
    assert!(!c.work.join("pulled/signed-helm-chart-0.1.0.tgz").exists());

    // helm pull --verify-cosign with the CA given by --ca-file only: both the chart and its
    // signature are fetched through it.
    c.env.retain(|(x, _)| x != "SSL_CERT_FILE");
    let tools = c.work.join("tools");
    std::fs::create_dir_all(&tools).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_task"), tools.join("helm")).unwrap();
    let pull = format!(
        "tools/helm pull oci://{image} --version 0.1.0 -d pulled2 --verify-cosign \
         --certificate-identity {GH_IDENTITY} --certificate-oidc-issuer {GH_ISSUER}"
    );
    let o = c.sh(&pull);
    assert!(
        !o.status.success(),
        "TLS without the CA succeeded: {}",
        all(&o)
    );
    let o = c.sh(&format!(
        "{pull} --ca-file {}",
        reg.ca.as_ref().unwrap().display()
    ));
    assert!(o.status.success(), "{}", all(&o));
    assert!(c.work.join("pulled2/signed-helm-chart-0.1.0.tgz").exists());
}

#[test]
fn laptop_mode_with_oci_layout_and_fresh_key() {
    if !registry::require("skopeo") {
        return;
    }
    let m = Machine::new();
    // Default settings: no OWNER, no registry, no OIDC provider, no COSIGN_PASSWORD.
    let o = m.task("");
    let out = all(&o);
    assert!(o.status.success(), "laptop mode failed:\n{out}");
    for want in [
        "task: [purge] echo \"Purging...\"",
        "Successfully packaged chart and saved it to: dist/signed-helm-chart-0.1.0.tgz",
        "task: [laptop] helm push dist/signed-helm-chart-*.tgz oci-layout://dist/oci/ > .digest",
        "Private key written to dist/cosign.key",
        "Pushing signature to: oci-layout://dist/oci/signed-helm-chart",
        "The signatures were verified against the specified public key",
        "task: [laptop] cosign attest --key dist/cosign.key --tlog-upload=false --type slsaprovenance1 --predicate dist/provenance.json oci-layout://dist/oci/signed-helm-chart@",
        "Pushing attestation to: oci-layout://dist/oci/signed-helm-chart",
        "task: [verify-laptop] cosign verify-attestation --key dist/cosign.pub --insecure-ignore-tlog --type slsaprovenance1 oci-layout://dist/oci/signed-helm-chart:0.1.0",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    assert!(
        !out.contains("::group::"),
        "groups outside GitHub Actions:\n{out}"
    );

    // An OCI image layout skopeo reads: the chart under its version tag, `.digest` naming it.
    let layout = m.work.join("dist/oci/signed-helm-chart");
    for f in ["oci-layout", "index.json", "blobs/sha256"] {
        assert!(layout.join(f).exists(), "{f} missing from the layout");
    }
    let digest = digest_file(&m.work);
    let skopeo = |r: &str| {
        let o = Command::new("skopeo")
            .args(["inspect", "--raw"])
            .arg(format!("oci:{}:{r}", layout.display()))
            .output()
            .unwrap();
        assert!(o.status.success(), "skopeo: {}", text(&o.stderr));
        o.stdout
    };
    let raw = skopeo("0.1.0");
    assert_eq!(digest, sha256(&raw));
    // The consumer's check in the run above verified the provenance about this manifest.
    let tgz = std::fs::read(m.work.join("dist/signed-helm-chart-0.1.0.tgz")).unwrap();
    check_provenance(
        &verified_statement(&text(&o.stdout)),
        &digest,
        &tgz,
        "urn:signed-helm-chart:laptop",
    );
    // Stored in the layout as an OCI 1.1 referrer: a manifest listed in index.json whose
    // subject is the chart's manifest, its predicate type annotated as cosign 3 does.
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let referrer = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| {
            let hex = d["digest"].as_str()?.strip_prefix("sha256:")?;
            let b = std::fs::read(layout.join("blobs/sha256").join(hex)).ok()?;
            serde_json::from_slice::<serde_json::Value>(&b).ok()
        })
        .find(|m| m["subject"]["digest"] == digest.as_str())
        .unwrap_or_else(|| panic!("no referrer of {digest} in {index}"));
    assert_eq!(
        referrer["annotations"]["dev.sigstore.bundle.predicateType"],
        "https://slsa.dev/provenance/v1"
    );
    assert_eq!(
        referrer["artifactType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    // The key file is private.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(m.work.join("dist/cosign.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "cosign.key is readable by others");

    // pull-verified from the layout.
    let o = m.task("pull-verified");
    assert!(o.status.success(), "{}", all(&o));
    assert_eq!(
        std::fs::read(m.work.join("pulled/signed-helm-chart-0.1.0.tgz")).unwrap(),
        std::fs::read(m.work.join("dist/signed-helm-chart-0.1.0.tgz")).unwrap()
    );
    // Another key: verify and pull-verified refuse, nothing is pulled. (The tools are
    // called through links outside PATH, as a consumer's own scripts would.)
    let tools = m.work.join("tools");
    std::fs::create_dir_all(&tools).unwrap();
    for t in ["helm", "cosign"] {
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_task"), tools.join(t)).unwrap();
    }
    let o = m.sh("rm -rf pulled && COSIGN_PASSWORD=x tools/cosign generate-key-pair --output-key-prefix tools/other");
    assert!(o.status.success(), "{}", all(&o));
    let o = m.sh("tools/cosign verify --key tools/other.pub --insecure-ignore-tlog oci-layout://dist/oci/signed-helm-chart:0.1.0");
    assert!(!o.status.success(), "verify with another key passed");
    // The attestation: another key, or another predicate type, is refused with exit 1
    // (cosign 3.1.1's code for attestation failures).
    let o = m.sh("tools/cosign verify-attestation --key tools/other.pub --insecure-ignore-tlog --type slsaprovenance1 oci-layout://dist/oci/signed-helm-chart:0.1.0");
    assert_eq!(o.status.code(), Some(1), "{}", all(&o));
    assert!(
        all(&o).contains("Error: no matching attestations:"),
        "{}",
        all(&o)
    );
    let o = m.sh("tools/cosign verify-attestation --key dist/cosign.pub --insecure-ignore-tlog --type cyclonedx oci-layout://dist/oci/signed-helm-chart:0.1.0");
    assert_eq!(o.status.code(), Some(1), "{}", all(&o));
    assert!(
        all(&o).contains("none of the attestations matched the predicate type: cyclonedx"),
        "{}",
        all(&o)
    );
    let o = m.sh("tools/helm pull oci-layout://dist/oci/signed-helm-chart --version 0.1.0 --destination pulled --verify-cosign --cosign-key tools/other.pub --insecure-ignore-tlog");
    assert!(!o.status.success(), "pull with another key succeeded");
    assert!(all(&o).contains("nothing was written"), "{}", all(&o));
    assert!(!m.work.join("pulled/signed-helm-chart-0.1.0.tgz").exists());

    // A re-run starts from scratch (purge) and still succeeds.
    let o = m.task("");
    assert!(o.status.success(), "second run:\n{}", all(&o));
    assert_ne!(digest_file(&m.work), "");
}

/// The example stays a valid go-task Taskfile, and go-task would run exactly the command
/// lines oxtask runs, in both modes and for the consumer tasks (`--dry` listings compared).
#[test]
fn taskfile_runs_the_same_commands_under_go_task() {
    let Some(go) = gotask::require(".ci/install-e2e.sh") else {
        return;
    };
    let m = Machine::new();
    let cases: [(&str, &[(&str, &str)]); 6] = [
        ("", &[]),
        ("verify", &[]),
        ("pull-verified", &[]),
        ("", &[("OWNER", "acme"), ("REGISTRY", "127.0.0.1:5000")]),
        (
            "verify",
            &[("OWNER", "acme"), ("REPOSITORY", "acme/charts")],
        ),
        ("pull-verified IDENTITY=https://x/y", &[("OWNER", "acme")]),
    ];
    for (args, env) in cases {
        let run = |bin: &Path| {
            let mut c = Command::new(bin);
            c.arg("--dry")
                .args(args.split_whitespace())
                .current_dir(&m.work)
                .env_clear()
                .env("PATH", "/usr/bin:/bin")
                .env("HOME", &m.home)
                .env("NO_COLOR", "1");
            for (k, v) in env {
                c.env(k, v);
            }
            c.output().unwrap()
        };
        let (ours, theirs) = (run(Path::new(env!("CARGO_BIN_EXE_task"))), run(&go));
        assert!(
            theirs.status.success(),
            "go-task --dry {args}: {}",
            all(&theirs)
        );
        assert!(ours.status.success(), "oxtask --dry {args}: {}", all(&ours));
        assert_eq!(
            text(&ours.stderr),
            text(&theirs.stderr),
            "--dry {args} with {env:?}: command lines differ"
        );
        assert!(text(&ours.stderr).contains("task: ["), "{}", all(&ours));
    }
}
