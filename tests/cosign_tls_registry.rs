//! `helm registry login` then `cosign sign`/`verify` against a TLS registry with basic
//! auth: the credentials Helm stored and the CA from SSL_CERT_FILE are what cosign uses.

#[path = "support/registry.rs"]
mod registry;
#[path = "support/sigstore.rs"]
mod support;

use support::{text, Cosign};

#[test]
fn tls_registry_with_helm_login() {
    let Some(reg) = registry::start_registry(Some(("robot", "tls-pass-789"))) else {
        return;
    };
    let host = reg.host();
    let ca = reg.ca.clone().unwrap();
    let c = Cosign::new();
    let w = tempfile::tempdir().unwrap();
    let cfg = c.home.join("registry.json");
    let o = registry::helm(
        w.path(),
        &[
            "registry",
            "login",
            &host,
            "--username",
            "robot",
            "--password-stdin",
            "--ca-file",
            ca.to_str().unwrap(),
        ],
        &[("HELM_REGISTRY_CONFIG", cfg.to_str().unwrap())],
        Some(b"tls-pass-789\n"),
    );
    assert!(
        o.status.success(),
        "helm registry login: {}",
        registry::stderr(&o)
    );

    // An image to sign, pushed with the same credentials.
    let digest = {
        use oxtask::native::oci::{block_on, sha256_digest, Client, ClientOptions, Credential};
        let client = Client::new(ClientOptions {
            ca_file: Some(ca.clone()),
            credential: Some(Credential::basic("robot", "tls-pass-789")),
            ..Default::default()
        })
        .unwrap();
        let h = host.clone();
        block_on(async move {
            let cfgb = b"{}";
            client.push_blob(&h, "tls/app", cfgb).await.unwrap();
            let m = format!(
                r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":2}},"layers":[]}}"#,
                sha256_digest(cfgb)
            );
            client
                .push_manifest(&h, "tls/app", "1", "application/vnd.oci.image.manifest.v1+json", m.as_bytes())
                .await
                .unwrap()
        })
        .unwrap()
    };
    let image = format!("{host}/tls/app@{digest}");
    let pw = ("COSIGN_PASSWORD".to_string(), String::new());
    let cert_env = ("SSL_CERT_FILE".to_string(), ca.display().to_string());
    assert!(c
        .run(w.path(), &["generate-key-pair"], std::slice::from_ref(&pw))
        .status
        .success());

    // Unknown CA: refused (no silent fallback to plain HTTP on a TLS registry).
    let o = c.run(
        w.path(),
        &["sign", "--key", "cosign.key", "--tlog-upload=false", &image],
        std::slice::from_ref(&pw),
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("certificate"),
        "{}",
        text(&o.stderr)
    );
    // CA from SSL_CERT_FILE: signed with the credentials `helm registry login` stored.
    let o = c.run(
        w.path(),
        &["sign", "--key", "cosign.key", "--tlog-upload=false", &image],
        &[pw.clone(), cert_env.clone()],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(!text(&o.stderr).contains("tls-pass-789"));
    // --allow-insecure-registry skips certificate verification.
    let o = c.run(
        w.path(),
        &[
            "verify",
            "--key",
            "cosign.pub",
            "--insecure-ignore-tlog",
            "--allow-insecure-registry",
            &image,
        ],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = c.run(
        w.path(),
        &[
            "verify",
            "--key",
            "cosign.pub",
            "--insecure-ignore-tlog",
            &image,
        ],
        &[cert_env],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
}
