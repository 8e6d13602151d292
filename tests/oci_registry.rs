//! Native helm against the real CNCF distribution registry (`docker-registry`) on loopback:
//! plain HTTP, and TLS + htpasswd basic auth; `skopeo` reads back what was pushed. The
//! bearer-token flow runs against the oracle mock registry from the vectors.

#[path = "support/registry.rs"]
mod registry;

use std::path::Path;

use registry::{helm, require, skopeo_raw, start_registry, stderr, stdout, vectors, MockRegistry};

const GOLDEN_DIGEST: &str =
    "sha256:fbbade96da6050f68f94f122881e3b80051a18f13ab5f4081868dd494538f5c2";

fn golden_chart(dir: &Path, with_prov: bool) {
    let g = vectors().join("oci-push-golden");
    std::fs::copy(g.join("signtest-0.1.0.tgz"), dir.join("signtest-0.1.0.tgz")).unwrap();
    if with_prov {
        std::fs::copy(
            g.join("signtest-0.1.0.tgz.prov"),
            dir.join("signtest-0.1.0.tgz.prov"),
        )
        .unwrap();
    }
    // 1977-09-02T22:04:05Z, the creation time in the golden manifest
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(242_085_845);
    let f = std::fs::File::options()
        .write(true)
        .open(dir.join("signtest-0.1.0.tgz"))
        .unwrap();
    f.set_modified(t).unwrap();
}

#[test]
fn plain_http_push_is_byte_identical_to_golden_and_reads_back() {
    let Some(reg) = start_registry(None) else {
        return;
    };
    if !require("skopeo") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    golden_chart(d, true);
    let host = reg.host();
    let remote = format!("oci://{host}/charts/");
    let o = helm(
        d,
        &["push", "signtest-0.1.0.tgz", &remote, "--plain-http"],
        &[("TZ", "UTC")],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        format!("Pushed: {host}/charts/signtest:0.1.0\nDigest: {GOLDEN_DIGEST}\n")
    );
    let raw = skopeo_raw(&format!("{host}/charts/signtest:0.1.0"), &reg);
    assert_eq!(
        raw,
        std::fs::read(vectors().join("oci-push-golden/manifest.json")).unwrap()
    );

    // pull it back (file identical), show chart, verify with the prov layer
    let o = helm(
        d,
        &[
            "pull",
            &format!("oci://{host}/charts/signtest"),
            "--version",
            "0.1.0",
            "--plain-http",
            "-d",
            "pulled",
        ],
        &[],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // Helm 4's registry client writes to the command's stdout
    assert_eq!(
        stdout(&o),
        format!("Pulled: {host}/charts/signtest:0.1.0\nDigest: {GOLDEN_DIGEST}\n")
    );
    assert_eq!(
        std::fs::read(d.join("pulled/signtest-0.1.0.tgz")).unwrap(),
        std::fs::read(d.join("signtest-0.1.0.tgz")).unwrap()
    );
    let o = helm(
        d,
        &[
            "show",
            "chart",
            &format!("oci://{host}/charts/signtest:0.1.0"),
            "--plain-http",
        ],
        &[],
        None,
    );
    assert_eq!(
        stdout(&o),
        format!("Pulled: {host}/charts/signtest:0.1.0\nDigest: {GOLDEN_DIGEST}\napiVersion: v1\ndescription: A Helm chart for Kubernetes\nname: signtest\nversion: 0.1.0\n\n")
    );
    let keyring = vectors().join("helm-testdata/pkg-downloader/helm-test-key.pub");
    let o = helm(
        d,
        &[
            "pull",
            &format!("oci://{host}/charts/signtest:0.1.0"),
            "--plain-http",
            "--verify",
            "--keyring",
            keyring.to_str().unwrap(),
            "-d",
            "v",
        ],
        &[],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("Chart Hash Verified: sha256:e5ef6116"));
    let o = helm(
        d,
        &[
            "pull",
            &format!("oci://{host}/charts/signtest"),
            "--plain-http",
            "--untar",
            "-d",
            "u",
        ],
        &[],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(d.join("u/signtest/Chart.yaml").is_file());
    // mismatch between tag and --version
    let o = helm(
        d,
        &[
            "pull",
            &format!("oci://{host}/charts/signtest:0.1.0"),
            "--version",
            "0.2.0",
            "--plain-http",
        ],
        &[],
        None,
    );
    assert_eq!(
        stderr(&o),
        "Error: chart reference and version mismatch: 0.2.0 is not 0.1.0\n"
    );

    // without the .prov: one layer; -o json
    let d2 = tempfile::tempdir().unwrap();
    golden_chart(d2.path(), false);
    let o = helm(
        d2.path(),
        &[
            "push",
            "signtest-0.1.0.tgz",
            &format!("oci://{host}/noprov"),
            "--plain-http",
            "-o",
            "json",
        ],
        &[],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["ref"], format!("{host}/noprov/signtest:0.1.0"));
    let raw2 = skopeo_raw(&format!("{host}/noprov/signtest:0.1.0"), &reg);
    let m: serde_json::Value = serde_json::from_slice(&raw2).unwrap();
    assert_eq!(m["layers"].as_array().unwrap().len(), 1);
    assert_eq!(
        v["digest"].as_str().unwrap(),
        format!("sha256:{}", sha256_hex(&raw2))
    );

    // a version with `+` is tagged with `_`, with Helm's notice on stderr, and pulls back
    let c = d.join("plus");
    std::fs::create_dir_all(&c).unwrap();
    std::fs::write(c.join("Chart.yaml"), "apiVersion: v2\nname: plus\nversion: 1.0.0+build.5\nannotations:\n  org.opencontainers.image.title: ignored\n  org.opencontainers.image.created: \"2001-01-01T00:00:00Z\"\n").unwrap();
    let o = helm(d, &["package", "plus", "-d", "pk"], &[], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = helm(
        d,
        &[
            "push",
            "pk/plus-1.0.0+build.5.tgz",
            &format!("oci://{host}/x"),
            "--plain-http",
        ],
        &[],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with(&format!(
        "Pushed: {host}/x/plus:1.0.0_build.5\nDigest: sha256:"
    )));
    assert!(
        stdout(&o).contains("contains an underscore.")
            && stdout(&o).contains("do not support the plus sign (+)")
    );
    let m: serde_json::Value =
        serde_json::from_slice(&skopeo_raw(&format!("{host}/x/plus:1.0.0_build.5"), &reg)).unwrap();
    assert_eq!(m["annotations"]["org.opencontainers.image.title"], "plus");
    assert_eq!(
        m["annotations"]["org.opencontainers.image.created"],
        "2001-01-01T00:00:00Z"
    );
    assert!(m.get("mediaType").is_none());
    let o = helm(
        d,
        &[
            "pull",
            &format!("oci://{host}/x/plus"),
            "--version",
            "1.0.0+build.5",
            "--plain-http",
            "-d",
            "pp",
        ],
        &[],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(d.join("pp/plus-1.0.0+build.5.tgz").is_file());
    // latest by semver from the tag list
    let o = helm(
        d,
        &[
            "show",
            "chart",
            &format!("oci://{host}/x/plus"),
            "--plain-http",
            "--version",
            ">=1.0.0-0",
        ],
        &[],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("name: plus"));
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(b))
}

#[test]
fn tls_htpasswd_login_push_logout() {
    let Some(reg) = start_registry(Some(("oxuser", "s3cret-pass"))) else {
        return;
    };
    if !require("skopeo") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    golden_chart(d, true);
    let host = reg.host();
    let ca = reg.ca.clone().unwrap();
    let ca_s = ca.to_str().unwrap();
    let cfg = d.join("regcfg/config.json");
    let env = [("HELM_REGISTRY_CONFIG", cfg.to_str().unwrap())];

    // wrong password: 401, exit 1, no secret in the output, nothing stored
    let o = helm(
        d,
        &[
            "registry",
            "login",
            &host,
            "-u",
            "oxuser",
            "--password-stdin",
            "--ca-file",
            ca_s,
        ],
        &env,
        Some(b"wrong-pass-123\n"),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with(&format!("Error: authenticating to \"{host}\": ")),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("401"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("wrong-pass-123") && !stdout(&o).contains("wrong-pass-123"));
    assert!(!cfg.exists());

    // TLS without trusting the CA fails
    let o = helm(
        d,
        &[
            "registry",
            "login",
            &host,
            "-u",
            "oxuser",
            "--password-stdin",
        ],
        &env,
        Some(b"s3cret-pass\n"),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).to_lowercase().contains("certificate"),
        "{}",
        stderr(&o)
    );

    let o = helm(
        d,
        &[
            "registry",
            "login",
            &format!("https://{host}/some/path"),
            "-u",
            "oxuser",
            "--password-stdin",
            "--ca-file",
            ca_s,
        ],
        &env,
        Some(b"s3cret-pass\n"),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "Login Succeeded\n");
    let text = std::fs::read_to_string(&cfg).unwrap();
    let auth = base64_std("oxuser:s3cret-pass");
    assert_eq!(
        text,
        format!(
            "{{\n\t\"auths\": {{\n\t\t\"{host}\": {{\n\t\t\t\"auth\": \"{auth}\"\n\t\t}}\n\t}}\n}}"
        )
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&cfg).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // push with the stored credential, trusting the CA through SSL_CERT_FILE
    let env2 = [
        ("HELM_REGISTRY_CONFIG", cfg.to_str().unwrap()),
        ("SSL_CERT_FILE", ca_s),
    ];
    let o = helm(
        d,
        &[
            "push",
            "signtest-0.1.0.tgz",
            &format!("oci://{host}/secure"),
        ],
        &env2,
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with(&format!("Pushed: {host}/secure/signtest:0.1.0\n")));
    let raw = skopeo_raw(&format!("{host}/secure/signtest:0.1.0"), &reg);
    assert_eq!(
        format!("sha256:{}", sha256_hex(&raw)),
        stdout(&o)
            .lines()
            .nth(1)
            .unwrap()
            .trim_start_matches("Digest: ")
    );

    // wrong explicit credentials on push: 401, no tag created, no secret printed
    let o = helm(
        d,
        &[
            "push",
            "signtest-0.1.0.tgz",
            &format!("oci://{host}/other"),
            "--ca-file",
            ca_s,
            "--username",
            "oxuser",
            "--password",
            "nope-nope-42",
        ],
        &[],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("401"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("nope-nope-42") && !stdout(&o).contains("nope-nope-42"));
    let o = helm(
        d,
        &[
            "show",
            "chart",
            &format!("oci://{host}/other/signtest:0.1.0"),
            "--ca-file",
            ca_s,
        ],
        &env,
        None,
    );
    assert_eq!(o.status.code(), Some(1), "the tag must not exist");

    // explicit good credentials + pull over TLS
    let o = helm(
        d,
        &[
            "pull",
            &format!("oci://{host}/secure/signtest"),
            "--version",
            "0.1.0",
            "--ca-file",
            ca_s,
            "--username",
            "oxuser",
            "--password",
            "s3cret-pass",
            "-d",
            "p",
        ],
        &[],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));

    // logout
    let o = helm(d, &["registry", "logout", &host], &env, None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        format!("Removing login credentials for {host}\n")
    );
    assert_eq!(
        std::fs::read_to_string(&cfg).unwrap(),
        "{\n\t\"auths\": {}\n}"
    );
    // anonymous now: push is refused
    let o = helm(
        d,
        &[
            "push",
            "signtest-0.1.0.tgz",
            &format!("oci://{host}/secure2"),
            "--ca-file",
            ca_s,
        ],
        &env,
        None,
    );
    assert_eq!(o.status.code(), Some(1));
}

fn base64_std(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[test]
fn bearer_token_flow_against_mock() {
    let Some(mock) = MockRegistry::start("bearer") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    golden_chart(d, true);
    let host = format!("127.0.0.1:{}", mock.port);
    let cfg = d.join("c.json");
    let env = [
        ("HELM_REGISTRY_CONFIG", cfg.to_str().unwrap()),
        ("TZ", "UTC"),
    ];
    let o = helm(
        d,
        &[
            "registry",
            "login",
            &host,
            "-u",
            "user",
            "-p",
            "pass",
            "--plain-http",
        ],
        &env,
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o)
        .contains("WARNING: Using --password via the CLI is insecure. Use --password-stdin."));
    let o = helm(
        d,
        &[
            "push",
            "signtest-0.1.0.tgz",
            &format!("oci://{host}/ns"),
            "--plain-http",
        ],
        &env,
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        format!("Pushed: {host}/ns/signtest:0.1.0\nDigest: {GOLDEN_DIGEST}\n")
    );
    let log = mock.stop();
    let reqs = log.as_array().unwrap();
    // token fetched with Basic credentials for the push scope
    assert!(reqs.iter().any(|r| r["method"] == "GET"
        && r["path"].as_str().unwrap().starts_with("/token?")
        && r["path"]
            .as_str()
            .unwrap()
            .contains("repository%3Ans%2Fsigntest%3Apull%2Cpush")
        && header(r, "authorization") == format!("Basic {}", base64_std("user:pass"))));
    // blobs uploaded (POST then PUT ?digest=) before the manifest PUT under the tag
    let pos = |pred: &dyn Fn(&serde_json::Value) -> bool| reqs.iter().rposition(pred).unwrap();
    let last_blob_put =
        pos(&|r| r["method"] == "PUT" && r["path"].as_str().unwrap().contains("/blobs/uploads/"));
    let manifest_put =
        pos(&|r| r["method"] == "PUT" && r["path"] == "/v2/ns/signtest/manifests/0.1.0");
    assert!(last_blob_put < manifest_put);
    assert_eq!(
        reqs.iter()
            .filter(
                |r| r["method"] == "PUT" && r["path"].as_str().unwrap().contains("/blobs/uploads/")
            )
            .count(),
        3
    );
    assert_eq!(
        header(&reqs[manifest_put], "content-type"),
        "application/vnd.oci.image.manifest.v1+json"
    );
    assert!(reqs
        .iter()
        .all(|r| header(r, "user-agent").starts_with("Helm/")));
}

/// A logged request header, whatever case the client used for its name.
fn header(r: &serde_json::Value, name: &str) -> String {
    r["headers"]
        .as_object()
        .and_then(|h| h.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
        .and_then(|(_, v)| v.as_str())
        .unwrap_or("")
        .to_string()
}

#[test]
fn push_input_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    golden_chart(d, false);
    let cases: &[(&[&str], &str)] = &[
        (
            &["push", "signtest-0.1.0.tgz", "127.0.0.1:1/x"],
            "Error: scheme prefix missing from remote (e.g. \"oci://\")\n",
        ),
        (
            &["push", "signtest-0.1.0.tgz", "https://127.0.0.1:1/x"],
            "Error: scheme \"https\" not supported\n",
        ),
        (
            &["push", "missing.tgz", "oci://127.0.0.1:1/x"],
            "Error: missing.tgz: no such file\n",
        ),
        (
            &["push", ".", "oci://127.0.0.1:1/x"],
            "Error: cannot push directory, must provide chart archive (.tgz)\n",
        ),
    ];
    for (args, want) in cases {
        let o = helm(d, args, &[], None);
        assert_eq!(o.status.code(), Some(1));
        assert_eq!(stderr(&o), *want);
    }
    // unreachable registry: clean error, exit 1
    let port = registry::free_port();
    let o = helm(
        d,
        &[
            "push",
            "signtest-0.1.0.tgz",
            &format!("oci://127.0.0.1:{port}/x"),
            "--plain-http",
        ],
        &[],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with("Error: HEAD \"http://127.0.0.1:"),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).to_lowercase().contains("refused"),
        "{}",
        stderr(&o)
    );
}

/// The client API cosign builds on, against the real registry: raw manifest bytes (with a
/// newline inside an annotation value) survive byte for byte, tags resolve, referrers are
/// detected as unsupported on distribution 2.8 (so callers use the tag fallback).
#[test]
fn client_api_raw_manifest_tags_referrers() {
    use oxtask::native::oci::{self, Client, ClientOptions, Referrers};
    let Some(reg) = start_registry(None) else {
        return;
    };
    let host = reg.host();
    let client = Client::new(ClientOptions {
        plain_http: true,
        anonymous: true,
        ..Default::default()
    })
    .unwrap();
    let res = oci::block_on(async {
        let layer = b"payload".to_vec();
        let config = b"{}".to_vec();
        let (ld, up) = client.push_blob(&host, "sig/x", &layer).await.unwrap();
        assert!(up);
        let (_, up_again) = client.push_blob(&host, "sig/x", &layer).await.unwrap();
        assert!(!up_again, "existing blob is not re-uploaded");
        let (cd, _) = client.push_blob(&host, "sig/x", &config).await.unwrap();
        // hand-written JSON with an escaped newline and unusual spacing: must not be re-serialised
        let manifest = format!(
            "{{\"schemaVersion\":2,\"mediaType\":\"{}\",\"config\":{{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"{cd}\",\"size\":2}},\"layers\":[{{\"mediaType\":\"application/vnd.dev.cosign.simplesigning.v1+json\",\"digest\":\"{ld}\",\"size\":7,\"annotations\":{{\"dev.sigstore.cosign/certificate\":\"-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n\"}}}}]}}",
            oci::OCI_MANIFEST
        );
        let d = client
            .push_manifest(
                &host,
                "sig/x",
                "sha256-abc.sig",
                oci::OCI_MANIFEST,
                manifest.as_bytes(),
            )
            .await
            .unwrap();
        assert_eq!(d, oci::sha256_digest(manifest.as_bytes()));
        let got = client
            .get_manifest(&host, "sig/x", "sha256-abc.sig")
            .await
            .unwrap();
        assert_eq!(got.bytes, manifest.as_bytes());
        assert_eq!(got.media_type, oci::OCI_MANIFEST);
        assert_eq!(
            client
                .resolve(&host, "sig/x", "sha256-abc.sig")
                .await
                .unwrap(),
            d
        );
        let by_digest = client.get_manifest(&host, "sig/x", &d).await.unwrap();
        assert_eq!(by_digest.digest, d);
        assert_eq!(
            client.list_tags(&host, "sig/x").await.unwrap(),
            vec!["sha256-abc.sig".to_string()]
        );
        assert_eq!(client.fetch_blob(&host, "sig/x", &ld).await.unwrap(), layer);
        assert!(matches!(
            client.referrers(&host, "sig/x", &d, None).await.unwrap(),
            Referrers::Unsupported
        ));
        let missing = client
            .get_manifest(&host, "sig/x", "nope")
            .await
            .unwrap_err();
        assert_eq!(missing.status(), Some(404));
    });
    res.unwrap();
}

/// Issue 14: `--version v0.1.0` (a version only the lenient SemVer parser accepts) is used
/// as the tag itself, as Helm does, instead of being matched against the strict tag list.
#[test]
fn lenient_version_is_used_as_the_tag() {
    let Some(reg) = start_registry(None) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("vc")).unwrap();
    std::fs::write(
        d.join("vc/Chart.yaml"),
        "apiVersion: v2\nname: vc\nversion: v0.1.0\n",
    )
    .unwrap();
    let env = [("SOURCE_DATE_EPOCH", "1700000000")];
    let o = helm(d, &["package", "vc"], &env, None);
    assert!(o.status.success(), "{}", stderr(&o));
    let host = reg.host();
    let o = helm(
        d,
        &[
            "push",
            "vc-v0.1.0.tgz",
            &format!("oci://{host}/charts"),
            "--plain-http",
        ],
        &env,
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let chart = format!("oci://{host}/charts/vc");
    let o = helm(
        d,
        &[
            "pull",
            &chart,
            "--version",
            "v0.1.0",
            "--plain-http",
            "-d",
            "out",
        ],
        &[],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(d.join("out/vc-v0.1.0.tgz").exists());
    let o = helm(
        d,
        &[
            "show",
            "chart",
            &chart,
            "--version",
            "v0.1.0",
            "--plain-http",
        ],
        &[],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("version: v0.1.0\n"), "{}", stdout(&o));
}
