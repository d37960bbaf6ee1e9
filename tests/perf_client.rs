//! Issue 7, `ClientOptions::plain_http`: a connection to an `http://` server with no TLS
//! proxy gets a client without a trust store, and such a client refuses `https://` URLs
//! with a Transport verdict before sending a byte.
//!
//! Only the public API; no process environment is changed here (the proxy variables are
//! covered in `perf_client_env.rs`, a binary of its own). The connections below name their
//! proxy (`Direct` or a URL), so the environment of the test run cannot change a result.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actsm::act::{ActClient, ClientOptions, VerdictKind};
use actsm::config::{Connection, ProxyChoice, SecretSource, Settings, Transport};
use actsm::secret::Secret;

fn connection(url: &str, proxy: ProxyChoice) -> Connection {
    Connection {
        name: "acme".into(),
        url: url.into(),
        database: "Acme".into(),
        user: "Jane".into(),
        secret: SecretSource::Plain(Secret::from("pw")),
        autostart: false,
        group: None,
        color: None,
        note: None,
        transport: Transport {
            proxy,
            ..Transport::default()
        },
    }
}

fn options(url: &str, proxy: ProxyChoice) -> ClientOptions {
    ClientOptions::for_connection(&Settings::default(), &connection(url, proxy))
}

#[test]
fn http_without_a_proxy_is_plain_http() {
    assert!(options("http://127.0.0.1:9/act.web.api", ProxyChoice::Direct).plain_http);
    // The scheme is compared as URLs compare it: without case.
    assert!(options("HTTP://127.0.0.1:9/act.web.api", ProxyChoice::Direct).plain_http);
}

#[test]
fn https_is_never_plain_http() {
    assert!(!options("https://127.0.0.1:9/act.web.api", ProxyChoice::Direct).plain_http);
    assert!(
        !options(
            "https://127.0.0.1:9/act.web.api",
            ProxyChoice::Url("http://127.0.0.1:9".into())
        )
        .plain_http
    );
    // Not even a scheme that only starts like `http`.
    assert!(!options("httpx://127.0.0.1:9/act.web.api", ProxyChoice::Direct).plain_http);
}

#[test]
fn http_through_an_https_proxy_keeps_tls_roots() {
    let opts = options(
        "http://127.0.0.1:9/act.web.api",
        ProxyChoice::Url("https://127.0.0.1:9".into()),
    );
    assert!(!opts.plain_http, "the proxy is reached over TLS");
    // An http:// proxy speaks no TLS either.
    let opts = options(
        "http://127.0.0.1:9/act.web.api",
        ProxyChoice::Url("http://127.0.0.1:9".into()),
    );
    assert!(opts.plain_http);
}

#[test]
fn the_default_options_are_not_plain_http() {
    assert!(!ClientOptions::default().plain_http);
}

/// A loopback listener that counts accepted connections and answers each request with a
/// 500 (any answer will do: the count is what matters).
async fn counting_listener() -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let _ = socket
                    .write_all(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (addr, accepted)
}

fn plain_client() -> ActClient {
    let opts = ClientOptions {
        timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(5),
        proxy: ProxyChoice::Direct,
        plain_http: true,
        ..ClientOptions::default()
    };
    ActClient::new(&opts).unwrap()
}

#[tokio::test]
async fn a_plain_http_client_refuses_https_without_sending() {
    let (addr, accepted) = counting_listener().await;
    let client = plain_client();
    let https = format!("https://{addr}/act.web.api");

    let (exchange, result) = client
        .authorize(
            &https,
            "Acme",
            "Jane",
            &Secret::from("pw"),
            Duration::from_secs(3600),
        )
        .await;
    let verdict = result.expect_err("refused");
    assert_eq!(verdict.kind, VerdictKind::Transport);
    let detail = verdict.detail.clone().unwrap_or_default();
    assert!(detail.contains("plain http:// only"), "{detail}");
    assert_eq!(exchange.verdict.kind, VerdictKind::Transport);
    assert_eq!(exchange.status, None, "no response: nothing was sent");

    let (_, result) = client.system(&https, "Acme").await;
    assert_eq!(result.expect_err("refused").kind, VerdictKind::Transport);

    // Give a connection that was (wrongly) opened time to be accepted; then none was.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(accepted.load(Ordering::SeqCst), 0, "not one connection");

    // The control: the same client does reach the same listener over http://, so the
    // count above would have seen a connection.
    let (exchange, _) = client
        .authorize(
            &format!("http://{addr}/act.web.api"),
            "Acme",
            "Jane",
            &Secret::from("pw"),
            Duration::from_secs(3600),
        )
        .await;
    assert_eq!(exchange.status, Some(500));
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}
