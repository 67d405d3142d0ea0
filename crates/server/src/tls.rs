//! TLS for the server: `warden serve --init-tls DIR` makes a private CA and a
//! server certificate; serving wraps each accepted connection in rustls.
//!
//! Why a private CA: agents pin it (`warden agent --ca DIR/ca.pem`), so they
//! trust this server and nothing else, without a public PKI. rustls uses the
//! aws-lc-rs provider, the project's one TLS crypto provider.

use std::future::Future;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// The files `--init-tls` writes.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    /// The CA certificate agents pin.
    pub ca_cert: PathBuf,
    /// The CA key (keep it offline once certificates are made).
    pub ca_key: PathBuf,
    /// The server certificate.
    pub cert: PathBuf,
    /// The server key.
    pub key: PathBuf,
}

/// Makes a CA and a server certificate for `names` (DNS names or IP
/// addresses; `localhost`, `127.0.0.1` and `::1` are always included) in
/// `dir`. Refuses to overwrite existing files. Keys are written 0600.
pub fn init(dir: &Path, names: &[String]) -> Result<TlsFiles, String> {
    let files = TlsFiles {
        ca_cert: dir.join("ca.pem"),
        ca_key: dir.join("ca.key"),
        cert: dir.join("server.pem"),
        key: dir.join("server.key"),
    };
    for p in [&files.ca_cert, &files.ca_key, &files.cert, &files.key] {
        if p.exists() {
            return Err(format!("{}: already exists; remove it to make new certificates", p.display()));
        }
    }
    let err = |e: rcgen::Error| format!("certificate generation failed: {e}");
    let ca_key = KeyPair::generate().map_err(err)?;
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.distinguished_name.push(DnType::CommonName, "Warden fleet CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let ca_cert = ca.self_signed(&ca_key).map_err(err)?;

    let mut sans: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
    for n in names {
        if !sans.contains(n) {
            sans.push(n.clone());
        }
    }
    for n in &sans {
        if n.parse::<IpAddr>().is_err() && !n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') {
            return Err(format!("--tls-name {n:?}: not a DNS name or IP address"));
        }
    }
    let server_key = KeyPair::generate().map_err(err)?;
    let mut server = CertificateParams::new(sans).map_err(err)?;
    server.distinguished_name.push(DnType::CommonName, "Warden server");
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let ca_key_pem = ca_key.serialize_pem();
    let issuer = Issuer::new(ca, ca_key);
    let server_cert = server.signed_by(&server_key, &issuer).map_err(err)?;

    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    crate::write_secret_file(&files.ca_key, &ca_key_pem)?;
    crate::write_secret_file(&files.key, &server_key.serialize_pem())?;
    std::fs::write(&files.ca_cert, ca_cert.pem()).map_err(|e| format!("{}: {e}", files.ca_cert.display()))?;
    std::fs::write(&files.cert, server_cert.pem() + &ca_cert.pem())
        .map_err(|e| format!("{}: {e}", files.cert.display()))?;
    Ok(files)
}

/// A rustls acceptor from a PEM certificate chain and key.
pub fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| format!("{}: {e}", cert.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no certificate found", cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{}: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("TLS certificate and key: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Serves `app` over TLS until `shutdown` completes, then waits for open
/// connections to finish. A failed handshake closes only its connection.
pub async fn serve(
    listener: tokio::net::TcpListener,
    acceptor: TlsAcceptor,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(_) => continue,
            },
            _ = &mut shutdown => break,
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let handshake = tokio::time::timeout(std::time::Duration::from_secs(10), acceptor.accept(stream)).await;
            let Ok(Ok(tls)) = handshake else { return };
            let service = hyper_util::service::TowerToHyperService::new(app);
            let conn = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tls), service);
            let _ = watcher.watch(conn).await;
        });
    }
    graceful.shutdown().await;
}
