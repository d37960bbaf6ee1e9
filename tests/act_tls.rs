//! TLS failures against loopback servers: the platform verifier runs on this OS and its
//! errors turn into plain-worded verdicts.

// Helpers outside #[test] fns are not covered by clippy.toml's allow-unwrap-in-tests.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use actsm::act::{ActClient, ClientOptions, VerdictKind};
use actsm::secret::Secret;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::AsyncWriteExt;

/// A self-signed certificate for `127.0.0.1`, made with openssl for these tests. Its subject is
/// unusual on purpose: a trust store may hold some other "localhost" certificate.
const CERT: &[u8] = include_bytes!("fixtures/act_selfsigned.cert.pem");
const KEY: &[u8] = include_bytes!("fixtures/act_selfsigned.key.pem");

/// Serves TLS with the self-signed certificate on an ephemeral loopback port.
async fn serve_tls() -> String {
    serve_tls_with(CERT, KEY).await
}

/// Serves TLS with `cert` (and its `key`) on an ephemeral loopback port; every request gets
/// an empty 200.
async fn serve_tls_with(cert: &'static [u8], key: &'static [u8]) -> String {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from_pem_slice(cert).unwrap()],
            PrivateKeyDer::from_pem_slice(key).unwrap(),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(socket).await {
                    let _ = tls
                        .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                        .await;
                }
            });
        }
    });
    format!("https://{addr}/act.web.api")
}

fn client() -> ActClient {
    ActClient::new(&ClientOptions {
        timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(5),
        ..ClientOptions::default()
    })
    .unwrap()
}

#[tokio::test]
async fn self_signed_certificate_is_untrusted() {
    let base = serve_tls().await;
    let (exchange, result) = client()
        .authorize(
            &base,
            "db",
            "jane",
            &Secret::from("pw-123456"),
            Duration::from_secs(60),
        )
        .await;
    let verdict = result.unwrap_err();
    assert_eq!(verdict.kind, VerdictKind::Tls, "{verdict:?}");
    let detail = verdict.detail.unwrap();
    assert!(
        detail.contains("not issued by an authority this machine trusts"),
        "{detail}"
    );
    assert_eq!(exchange.status, None);
}

#[tokio::test]
async fn https_to_a_plain_http_port_says_no_tls_there() {
    // A plain-text server: answers anything with an HTTP response, as IIS on port 80 would.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let _ = socket
                .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                .await;
        }
    });
    let (_, result) = client()
        .authorize(
            &format!("https://{addr}/act.web.api"),
            "db",
            "jane",
            &Secret::from("pw-123456"),
            Duration::from_secs(60),
        )
        .await;
    let verdict = result.unwrap_err();
    assert_eq!(verdict.kind, VerdictKind::Tls, "{verdict:?}");
    assert!(verdict.detail.unwrap().contains("does not speak TLS"));
}

// --- Per-connection trust: ca_file and insecure_tls (issue 5, "Transport") ---
//
// tests/fixtures/act_transport holds a test CA and three leaves it signed (see its README):
// one for 127.0.0.1, one for another host name, one that expired in 2021.

const TEST_CA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/act_transport/ca.cert.pem"
);
const LEAF_CERT: &[u8] = include_bytes!("fixtures/act_transport/leaf.cert.pem");
const LEAF_KEY: &[u8] = include_bytes!("fixtures/act_transport/leaf.key.pem");
const OTHER_NAME_CERT: &[u8] = include_bytes!("fixtures/act_transport/othername.cert.pem");
const OTHER_NAME_KEY: &[u8] = include_bytes!("fixtures/act_transport/othername.key.pem");
const EXPIRED_CERT: &[u8] = include_bytes!("fixtures/act_transport/expired.cert.pem");
const EXPIRED_KEY: &[u8] = include_bytes!("fixtures/act_transport/expired.key.pem");

fn client_with(ca_file: Option<&str>, insecure_tls: bool) -> ActClient {
    ActClient::new(&ClientOptions {
        timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(5),
        ca_file: ca_file.map(std::path::PathBuf::from),
        insecure_tls,
        ..ClientOptions::default()
    })
    .unwrap()
}

async fn authorize_with(
    client: &ActClient,
    base: &str,
) -> (Option<u16>, Option<actsm::act::Verdict>) {
    let (exchange, result) = client
        .authorize(
            base,
            "db",
            "jane",
            &Secret::from("pw-123456"),
            Duration::from_secs(60),
        )
        .await;
    (exchange.status, result.err())
}

#[tokio::test]
async fn ca_file_makes_a_certificate_of_that_ca_trusted() {
    let base = serve_tls_with(LEAF_CERT, LEAF_KEY).await;
    let (status, verdict) = authorize_with(&client_with(Some(TEST_CA), false), &base).await;
    // The handshake passed: the server's (empty) 200 arrived. The verdict is then about the
    // body, not about TLS.
    assert_eq!(status, Some(200), "{verdict:?}");
    assert_ne!(verdict.map(|v| v.kind), Some(VerdictKind::Tls));
}

#[tokio::test]
async fn without_ca_file_the_test_ca_is_an_unknown_issuer() {
    let base = serve_tls_with(LEAF_CERT, LEAF_KEY).await;
    let (status, verdict) = authorize_with(&client_with(None, false), &base).await;
    let verdict = verdict.unwrap();
    assert_eq!(status, None);
    assert_eq!(verdict.kind, VerdictKind::Tls, "{verdict:?}");
    let detail = verdict.detail.unwrap();
    assert!(
        detail.contains("not issued by an authority this machine trusts"),
        "{detail}"
    );
}

#[tokio::test]
async fn insecure_tls_accepts_a_self_signed_certificate() {
    let base = serve_tls().await;
    let (status, verdict) = authorize_with(&client_with(None, true), &base).await;
    assert_eq!(status, Some(200), "{verdict:?}");
}

#[tokio::test]
async fn insecure_tls_accepts_an_expired_certificate_for_another_name() {
    let base = serve_tls_with(OTHER_NAME_CERT, OTHER_NAME_KEY).await;
    let (status, verdict) = authorize_with(&client_with(None, true), &base).await;
    assert_eq!(status, Some(200), "{verdict:?}");
    let base = serve_tls_with(EXPIRED_CERT, EXPIRED_KEY).await;
    let (status, verdict) = authorize_with(&client_with(None, true), &base).await;
    assert_eq!(status, Some(200), "{verdict:?}");
}

#[tokio::test]
async fn a_certificate_for_another_host_name_says_so() {
    let base = serve_tls_with(OTHER_NAME_CERT, OTHER_NAME_KEY).await;
    let (status, verdict) = authorize_with(&client_with(Some(TEST_CA), false), &base).await;
    let verdict = verdict.unwrap();
    assert_eq!(status, None);
    assert_eq!(verdict.kind, VerdictKind::Tls, "{verdict:?}");
    let detail = verdict.detail.unwrap();
    assert!(detail.contains("issued for another host name"), "{detail}");
}

#[tokio::test]
async fn an_expired_certificate_says_so() {
    let base = serve_tls_with(EXPIRED_CERT, EXPIRED_KEY).await;
    let (status, verdict) = authorize_with(&client_with(Some(TEST_CA), false), &base).await;
    let verdict = verdict.unwrap();
    assert_eq!(status, None);
    assert_eq!(verdict.kind, VerdictKind::Tls, "{verdict:?}");
    let detail = verdict.detail.unwrap();
    assert!(detail.contains("certificate has expired"), "{detail}");
}

#[test]
fn a_missing_ca_file_fails_the_client_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-ca.pem");
    let err = ActClient::new(&ClientOptions {
        ca_file: Some(missing.clone()),
        ..ClientOptions::default()
    })
    .unwrap_err()
    .to_string();
    assert!(err.contains(&missing.display().to_string()), "{err}");
    assert!(err.contains("cannot read the CA file"), "{err}");
}

#[test]
fn a_ca_file_without_pem_certificates_fails_the_client_saying_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let der = dir.path().join("ca.der");
    std::fs::write(&der, [0x30_u8, 0x82, 0x01, 0x0a, 0x02, 0x82]).unwrap();
    let err = ActClient::new(&ClientOptions {
        ca_file: Some(der.clone()),
        ..ClientOptions::default()
    })
    .unwrap_err()
    .to_string();
    assert!(err.contains(&der.display().to_string()), "{err}");
    assert!(err.contains("BEGIN CERTIFICATE"), "{err}");
}
