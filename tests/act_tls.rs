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
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from_pem_slice(CERT).unwrap()],
            PrivateKeyDer::from_pem_slice(KEY).unwrap(),
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
