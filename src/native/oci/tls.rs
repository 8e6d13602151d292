//! rustls configuration: system roots + `SSL_CERT_FILE`/`SSL_CERT_DIR` + `--ca-file`,
//! optional client certificate, optional "skip verify".

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::OciError;

/// Bundles that Linux distributions ship; read in addition to what rustls-native-certs found
/// because that crate reads *only* `SSL_CERT_FILE`/`SSL_CERT_DIR` when either is set.
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

fn add_pem_file(store: &mut RootCertStore, path: &Path) -> usize {
    let Ok(data) = std::fs::read(path) else {
        return 0;
    };
    let mut n = 0;
    for cert in CertificateDer::pem_slice_iter(&data).flatten() {
        if store.add(cert).is_ok() {
            n += 1;
        }
    }
    n
}

pub(crate) fn build_config(
    insecure: bool,
    ca_file: Option<&Path>,
    cert_file: Option<&Path>,
    key_file: Option<&Path>,
) -> Result<rustls::ClientConfig, OciError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| OciError::Tls(e.to_string()))?;
    let builder = if insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
    } else {
        let mut roots = RootCertStore::empty();
        let native = rustls_native_certs::load_native_certs();
        for c in native.certs {
            let _ = roots.add(c);
        }
        for b in SYSTEM_BUNDLES {
            if add_pem_file(&mut roots, Path::new(b)) > 0 {
                break;
            }
        }
        if let Some(f) = std::env::var_os("SSL_CERT_FILE") {
            add_pem_file(&mut roots, Path::new(&f));
        }
        if let Some(dirs) = std::env::var_os("SSL_CERT_DIR") {
            for d in std::env::split_paths(&dirs) {
                if let Ok(rd) = std::fs::read_dir(&d) {
                    for e in rd.flatten() {
                        add_pem_file(&mut roots, &e.path());
                    }
                }
            }
        }
        if let Some(ca) = ca_file {
            let data = std::fs::read(ca).map_err(|e| {
                OciError::Tls(format!(
                    "can't read CA file {:?}: {e}",
                    ca.display().to_string()
                ))
            })?;
            let mut n = 0;
            for c in CertificateDer::pem_slice_iter(&data) {
                let c = c.map_err(|e| OciError::Tls(format!("{}: {e}", ca.display())))?;
                roots
                    .add(c)
                    .map_err(|e| OciError::Tls(format!("{}: {e}", ca.display())))?;
                n += 1;
            }
            if n == 0 {
                return Err(OciError::Tls(format!(
                    "failed to append certificates from file: {}",
                    ca.display()
                )));
            }
        }
        builder.with_root_certificates(roots)
    };
    match (cert_file, key_file) {
        (Some(c), Some(k)) => {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(c)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| {
                    OciError::Tls(format!(
                        "can't load client certificate {}: {e}",
                        c.display()
                    ))
                })?;
            let key = PrivateKeyDer::from_pem_file(k).map_err(|e| {
                OciError::Tls(format!("can't load client key {}: {e}", k.display()))
            })?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| OciError::Tls(format!("can't load client certificate: {e}")))
        }
        (None, None) => Ok(builder.with_no_client_auth()),
        _ => Err(OciError::Tls(
            "both --cert-file and --key-file are required for client certificates".into(),
        )),
    }
}

/// `--insecure-skip-tls-verify`: accept any server certificate (signatures are still checked
/// so the handshake itself is sound).
#[derive(Debug)]
struct NoVerify(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
