//! Journal entries built from real exchanges against a loopback server: no password,
//! Basic base64, token or cookie value reaches an entry, its Debug print or the file.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use actsm::act::{ActClient, ClientOptions};
use actsm::config::{Connection, SecretSource, Settings};
use actsm::journal::{JournalFile, record};
use actsm::secret::{Secret, Token};
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use base64::Engine as _;

const USER: &str = "jdoe";
const PASSWORD: &str = "Sup3rSecretPassw0rd";
const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJqZG9lIn0.c2lnbmF0dXJlLWZvci10ZXN0cw";
const COOKIE: &str = "c00kieValueThatIsSecret42";

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}/act.web.api")
}

/// A server that refuses everything with a 401 whose body and headers echo secrets.
async fn echoing_server() -> String {
    serve(Router::new().route(
        "/act.web.api/authorize",
        get(|headers: axum::http::HeaderMap| async move {
            let auth = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            (
                StatusCode::UNAUTHORIZED,
                [
                    (
                        header::SET_COOKIE,
                        format!("session={COOKIE}; Path=/; HttpOnly"),
                    ),
                    (header::WWW_AUTHENTICATE, "Basic realm=\"act\"".to_owned()),
                    (header::HeaderName::from_static("x-echo"), auth.clone()),
                    (
                        header::HeaderName::from_static("x-access-token"),
                        TOKEN.to_owned(),
                    ),
                ],
                format!("denied for {auth} password {PASSWORD} token {TOKEN}"),
            )
                .into_response()
        }),
    ))
    .await
}

fn connection(url: &str) -> Connection {
    Connection {
        name: "acme".into(),
        url: url.into(),
        database: "Acme DB".into(),
        user: USER.into(),
        secret: SecretSource::Plain(Secret::new(PASSWORD.to_owned())),
        autostart: false,
        group: None,
        color: None,
        note: None,
        transport: actsm::config::Transport::default(),
    }
}

fn forbidden() -> Vec<String> {
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    vec![
        PASSWORD.to_owned(),
        basic,
        TOKEN.to_owned(),
        COOKIE.to_owned(),
    ]
}

fn assert_clean(what: &str, text: &str) {
    for secret in forbidden() {
        assert!(!text.contains(&secret), "{what} holds a secret: {text}");
    }
}

#[tokio::test]
async fn a_refused_authorize_keeps_no_secret_in_the_entry_its_debug_or_the_file() {
    let base = echoing_server().await;
    let client = ActClient::new(&ClientOptions::default()).unwrap();
    let conn = connection(&base);
    let (entry, result) =
        actsm::session::authorize_once(&client, &conn, &Settings::default()).await;
    assert!(result.is_err());
    let entry = entry.expect("an exchange happened");

    // The detail view's material is there...
    assert_eq!(entry.status, Some(401));
    assert!(entry.request_line().starts_with("GET http://127.0.0.1:"));
    assert!(entry.request_line().ends_with("/act.web.api/authorize"));
    let req: Vec<_> = entry.detail.request_headers.iter().collect();
    assert!(
        req.contains(&&("authorization".to_owned(), "Basic ***".to_owned())),
        "{req:?}"
    );
    assert!(
        req.contains(&&("act-database-name".to_owned(), "Acme DB".to_owned())),
        "{req:?}"
    );
    let resp = &entry.detail.response_headers;
    assert!(
        resp.contains(&("set-cookie".to_owned(), "session=***; Path=***".to_owned())),
        "{resp:?}"
    );
    // Shown (not a secret), though sanitizing hides what follows the word "Basic".
    assert!(
        resp.iter()
            .any(|(n, v)| n == "www-authenticate" && v.starts_with("Basic"))
    );
    assert!(resp.contains(&("x-access-token".to_owned(), "***".to_owned())));
    let body = entry
        .detail
        .body_excerpt
        .clone()
        .expect("a failure keeps a body excerpt");
    assert!(body.starts_with("denied for"), "{body}");
    assert!(body.len() <= 1024);

    // ...and no secret anywhere.
    assert_clean("the entry's Debug", &format!("{entry:?}"));
    assert_clean("the journal line", &record::to_line(&entry));
    let dir = tempfile::tempdir().unwrap();
    let file = JournalFile::new(dir.path());
    file.append(std::slice::from_ref(&entry)).unwrap();
    assert_clean(
        "the journal file",
        &std::fs::read_to_string(file.path()).unwrap(),
    );
}

#[tokio::test]
async fn a_successful_refresh_keeps_neither_the_token_sent_nor_the_one_received() {
    let base = serve(Router::new().route(
        "/act.web.api/authorize",
        get(|| async { (StatusCode::OK, TOKEN) }),
    ))
    .await;
    let client = ActClient::new(&ClientOptions::default()).unwrap();
    let old =
        Token::new("eyJhbGciOiJIUzI1NiJ9.eyJvbGQiOnRydWV9.b2xkLXNpZ25hdHVyZS1oZXJl".to_owned());
    let (exchange, _result) = client
        .refresh(&base, "Acme DB", &old, Duration::from_secs(3600))
        .await;
    assert_eq!(exchange.status, Some(200));
    assert_eq!(
        exchange.detail.body_excerpt, None,
        "a success body is never kept"
    );
    let debug = format!("{exchange:?}");
    assert!(
        !debug.contains(TOKEN) && !debug.contains(old.expose()),
        "{debug}"
    );
    assert!(
        exchange
            .detail
            .request_headers
            .contains(&("authorization".to_owned(), "Bearer ***".to_owned()))
    );
}
