//! The Act! client against small axum servers on loopback: headers sent, bodies judged,
//! transport failures named, secrets kept out of every printable value.

// Helpers outside #[test] fns are not covered by clippy.toml's allow-unwrap-in-tests.
#![allow(clippy::unwrap_used)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actsm::act::{
    ActClient, CallKind, ClientOptions, Exchange, ExpirySource, Issued, Verdict, VerdictKind,
};
use actsm::secret::{Secret, Token};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const USER: &str = "Jane Doe";
const PASSWORD: &str = "p:ss wörd";
const DATABASE: &str = "Acme DB";
const LIFETIME: Duration = Duration::from_secs(65 * 60);

/// A JWT with the given claims and a fake signature (the client never verifies).
fn jwt(claims: &str) -> String {
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    format!(
        "{}.{}.c2lnbmF0dXJlLW9ubHktdGhlLXNlcnZlci1rbm93cw",
        b64(r#"{"alg":"HS256","typ":"JWT"}"#),
        b64(claims)
    )
}

fn token_with_exp() -> String {
    let exp = chrono::Utc::now().timestamp() + 3900;
    jwt(&format!(r#"{{"sub":"jane","exp":{exp}}}"#))
}

/// Serves `router` on an ephemeral loopback port; returns the API base.
async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}/act.web.api")
}

/// Serves one raw HTTP response per connection (for reason phrases axum cannot send).
async fn serve_raw(response: &'static str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf).await;
            let _ = socket.write_all(response.as_bytes()).await;
            let _ = socket.shutdown().await;
        }
    });
    format!("http://{addr}/act.web.api")
}

fn client() -> ActClient {
    ActClient::new(&ClientOptions::default()).unwrap()
}

fn short_client() -> ActClient {
    ActClient::new(&ClientOptions {
        timeout: Duration::from_millis(400),
        connect_timeout: Duration::from_millis(400),
        ..ClientOptions::default()
    })
    .unwrap()
}

async fn authorize(base: &str) -> (Exchange, Result<Issued, Verdict>) {
    client()
        .authorize(base, DATABASE, USER, &Secret::from(PASSWORD), LIFETIME)
        .await
}

/// Keeps the request headers a handler saw.
type Seen = Arc<Mutex<Option<HeaderMap>>>;

#[tokio::test]
async fn authorize_sends_exact_basic_bytes_and_database_header() {
    let seen: Seen = Arc::default();
    let token = token_with_exp();
    let router = Router::new().route(
        "/act.web.api/authorize",
        get({
            let seen = Arc::clone(&seen);
            let token = token.clone();
            move |headers: HeaderMap| async move {
                *seen.lock().unwrap() = Some(headers);
                token
            }
        }),
    );
    let base = serve(router).await;

    let (exchange, result) = authorize(&base).await;
    let issued = result.unwrap();

    let headers = seen.lock().unwrap().clone().unwrap();
    // base64("Jane Doe:p:ss wörd") with UTF-8 bytes, computed independently.
    assert_eq!(
        headers["authorization"].as_bytes(),
        b"Basic SmFuZSBEb2U6cDpzcyB3w7ZyZA=="
    );
    assert_eq!(headers["act-database-name"].as_bytes(), DATABASE.as_bytes());
    assert_eq!(
        headers["user-agent"].to_str().unwrap(),
        format!("actsm/{}", env!("CARGO_PKG_VERSION"))
    );

    assert_eq!(issued.token.expose(), token);
    assert_eq!(issued.expiry.source, ExpirySource::Claim);
    assert_eq!(exchange.call, CallKind::Authorize);
    assert_eq!(exchange.status, Some(200));
    assert_eq!(exchange.reason, None);
    assert!(exchange.verdict.is_ok());
    assert_eq!(exchange.url, format!("{base}/authorize"));
    assert_eq!(
        exchange.meter, None,
        "no rate-limit headers: no reading, not zero"
    );
    assert!(exchange.server_date.is_some(), "axum sends a Date header");
}

#[tokio::test]
async fn refresh_sends_bearer_and_database_and_maps_401_to_token_rejected() {
    let seen: Seen = Arc::default();
    let old = token_with_exp();
    let new = jwt(r#"{"sub":"jane","exp":4102444800}"#);
    let router = Router::new().route(
        "/act.web.api/authorize",
        get({
            let seen = Arc::clone(&seen);
            let (old, new) = (old.clone(), new.clone());
            move |headers: HeaderMap| async move {
                let ok = headers["authorization"].to_str().unwrap() == format!("Bearer {old}");
                *seen.lock().unwrap() = Some(headers);
                if ok {
                    (StatusCode::OK, new)
                } else {
                    (StatusCode::UNAUTHORIZED, String::new())
                }
            }
        }),
    );
    let base = serve(router).await;

    let (exchange, result) = client()
        .refresh(&base, DATABASE, &Token::new(old.clone()), LIFETIME)
        .await;
    assert_eq!(result.unwrap().token.expose(), new);
    assert_eq!(exchange.call, CallKind::Refresh);
    let headers = seen.lock().unwrap().clone().unwrap();
    assert_eq!(headers["act-database-name"].as_bytes(), DATABASE.as_bytes());

    let stale = Token::new(jwt(r#"{"exp":1}"#));
    let (exchange, result) = client().refresh(&base, DATABASE, &stale, LIFETIME).await;
    assert_eq!(result.unwrap_err().kind, VerdictKind::TokenRejected);
    assert_eq!(exchange.status, Some(401));
}

#[tokio::test]
async fn quoted_token_labelled_html_is_accepted() {
    let token = token_with_exp();
    let body = format!("\"{token}\"\r\n");
    let router = Router::new().route(
        "/act.web.api/authorize",
        get(move || async move { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body) }),
    );
    let (_, result) = authorize(&serve(router).await).await;
    assert_eq!(result.unwrap().token.expose(), token);
}

#[tokio::test]
async fn login_page_with_200_is_not_a_token() {
    let page = "<!DOCTYPE html><html><head><title>Login</title></head><body><form>...</form></body></html>";
    let router = Router::new().route(
        "/act.web.api/authorize",
        get(move || async move { ([(header::CONTENT_TYPE, "text/html")], page) }),
    );
    let (exchange, result) = authorize(&serve(router).await).await;
    let verdict = result.unwrap_err();
    assert_eq!(verdict.kind, VerdictKind::NotAToken);
    let detail = verdict.detail.unwrap();
    assert!(detail.contains("HTML page titled 'Login'"), "{detail}");
    assert_eq!(exchange.status, Some(200));
    assert_eq!(exchange.verdict.kind, VerdictKind::NotAToken);
}

#[tokio::test]
async fn ten_megabyte_bodies_are_cut_short() {
    let router = Router::new()
        // Declared length: refused before reading.
        .route(
            "/sized/act.web.api/authorize",
            get(|| async { vec![b'x'; 10 * 1024 * 1024] }),
        )
        // Streamed without a length: reading stops past the cap.
        .route(
            "/streamed/act.web.api/authorize",
            get(|| async {
                let chunks =
                    (0..160).map(|_| Ok::<_, Infallible>(Bytes::from(vec![b'y'; 64 * 1024])));
                Body::from_stream(futures::stream::iter(chunks))
            }),
        );
    let base = serve(router).await;
    let root = base.trim_end_matches("/act.web.api");

    for variant in ["sized", "streamed"] {
        let started = Instant::now();
        let (exchange, result) = authorize(&format!("{root}/{variant}/act.web.api")).await;
        assert_eq!(
            result.unwrap_err().kind,
            VerdictKind::BodyTooLarge,
            "{variant}"
        );
        assert_eq!(exchange.status, Some(200));
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{variant} took {:?}",
            started.elapsed()
        );
    }
}

#[tokio::test]
async fn hanging_server_times_out_within_the_configured_timeout() {
    let router = Router::new().route(
        "/act.web.api/authorize",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            "late"
        }),
    );
    let base = serve(router).await;

    let started = Instant::now();
    let (exchange, result) = short_client()
        .authorize(&base, DATABASE, USER, &Secret::from(PASSWORD), LIFETIME)
        .await;
    assert_eq!(result.unwrap_err().kind, VerdictKind::Timeout);
    assert_eq!(exchange.status, None);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    assert!(exchange.latency >= Duration::from_millis(300));
}

#[tokio::test]
async fn closed_port_is_refused() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let (exchange, result) = authorize(&format!("http://127.0.0.1:{port}/act.web.api")).await;
    let verdict = result.unwrap_err();
    assert_eq!(verdict.kind, VerdictKind::Refused, "{verdict:?}");
    assert_eq!(exchange.status, None);
}

#[tokio::test]
async fn unresolvable_host_is_dns() {
    let (_, result) = short_client()
        .authorize(
            "http://something.invalid/act.web.api",
            DATABASE,
            USER,
            &Secret::from(PASSWORD),
            LIFETIME,
        )
        .await;
    let verdict = result.unwrap_err();
    // `.invalid` never resolves (RFC 6761), with or without a reachable resolver.
    assert!(matches!(verdict.kind, VerdictKind::Dns), "{verdict:?}");
}

#[tokio::test]
async fn rate_limit_headers_fill_the_meter_and_429_throttles() {
    let reset = chrono::Utc::now().timestamp() + 40;
    let token = token_with_exp();
    let router = Router::new()
        .route(
            "/act.web.api/authorize",
            get(move || async move {
                let headers = [
                    ("x-ratelimit-limit", "60".to_owned()),
                    ("x-ratelimit-remaining", "57".to_owned()),
                    ("x-ratelimit-reset", reset.to_string()),
                ];
                (headers, token).into_response()
            }),
        )
        .route(
            "/busy/act.web.api/authorize",
            get(|| async {
                let headers = [("retry-after", "30"), ("x-ratelimit-remaining", "0")];
                (StatusCode::TOO_MANY_REQUESTS, headers, "slow down").into_response()
            }),
        );
    let base = serve(router).await;

    let (exchange, result) = authorize(&base).await;
    assert!(result.is_ok());
    let meter = exchange.meter.unwrap();
    assert_eq!((meter.limit, meter.remaining), (Some(60), Some(57)));
    assert_eq!(meter.reset_at.unwrap().timestamp(), reset);
    assert_eq!(meter.used(), Some(3));

    let root = base.trim_end_matches("/act.web.api");
    let (exchange, result) = authorize(&format!("{root}/busy/act.web.api")).await;
    assert_eq!(result.unwrap_err().kind, VerdictKind::Throttled);
    let meter = exchange.meter.unwrap();
    assert!(meter.exhausted(exchange.at), "remaining 0, no reset known");
    let wait = exchange.retry_after.unwrap() - exchange.at;
    assert_eq!(wait.num_seconds(), 30);
}

#[tokio::test]
async fn token_without_exp_gets_assumed_expiry() {
    let token = jwt(r#"{"sub":"jane"}"#);
    let router = Router::new().route("/act.web.api/authorize", get(move || async move { token }));
    let (exchange, result) = authorize(&serve(router).await).await;
    let issued = result.unwrap();
    assert_eq!(issued.expiry.source, ExpirySource::Assumed);
    assert_eq!(issued.expiry.issued_at, exchange.at);
    assert_eq!(
        (issued.expiry.expires_at - exchange.at).num_seconds(),
        65 * 60
    );
}

#[tokio::test]
async fn a_token_expired_on_arrival_is_an_error_not_a_success() {
    let token = jwt(r#"{"sub":"jane","exp":1000}"#);
    let router = Router::new().route("/act.web.api/authorize", get(move || async move { token }));
    let (exchange, result) = authorize(&serve(router).await).await;

    let verdict = result.expect_err("a dead token is no success");
    assert_eq!(verdict.kind, VerdictKind::ExpiredOnArrival);
    assert_eq!(exchange.verdict, verdict);
    assert_eq!(exchange.status, Some(200));
    assert!(
        verdict
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("1970")),
        "{verdict:?}"
    );
}

#[tokio::test]
async fn a_server_clock_behind_ours_does_not_reject_its_own_good_token() {
    // The server's clock is two hours behind; its token is good for 65 minutes of its time.
    let server_now = chrono::Utc::now() - chrono::Duration::hours(2);
    let exp = server_now.timestamp() + 3900;
    let token = jwt(&format!(r#"{{"sub":"jane","exp":{exp}}}"#));
    let date = server_now.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let router = Router::new().route(
        "/act.web.api/authorize",
        get(move || async move { ([("date", date)], token) }),
    );
    let (_, result) = authorize(&serve(router).await).await;
    assert!(result.is_ok(), "{result:?}");
}

/// A `Date` header that neither the token's `iat` nor our clock agrees with
/// (1970, year 9999) is ignored, not used to call a good token dead.
#[tokio::test]
async fn an_absurd_date_header_does_not_condemn_a_good_token() {
    for date in [
        "Thu, 01 Jan 1970 00:00:00 GMT",
        "Fri, 31 Dec 9999 23:59:59 GMT",
    ] {
        let now = chrono::Utc::now().timestamp();
        let token = jwt(&format!(
            r#"{{"sub":"jane","iat":{now},"exp":{}}}"#,
            now + 3900
        ));
        let router = Router::new().route(
            "/act.web.api/authorize",
            get(move || async move { ([("date", date)], token) }),
        );
        let (exchange, result) = authorize(&serve(router).await).await;
        assert!(result.is_ok(), "Date {date}: {result:?}");
        assert_eq!(exchange.server_date, None, "Date {date} is not believed");
    }
}

#[tokio::test]
async fn act_codes_and_non_standard_reason_phrases_reach_the_verdict() {
    let router = Router::new().route(
        "/act.web.api/authorize",
        get(|| async {
            (
                StatusCode::FORBIDDEN,
                [(header::CONTENT_TYPE, "application/json")],
                r#"{"Message":"An error has occurred.","ExceptionMessage":"4032: API access permission required"}"#,
            )
        }),
    );
    let (exchange, result) = authorize(&serve(router).await).await;
    assert_eq!(result.unwrap_err().kind, VerdictKind::ApiAccessRequired);
    assert_eq!(exchange.status, Some(403));

    // hyper keeps a reason phrase only when it is not the standard one.
    let base = serve_raw(
        "HTTP/1.1 401 Bad Database Name\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    )
    .await;
    let (exchange, result) = authorize(&base).await;
    let verdict = result.unwrap_err();
    assert_eq!(verdict.kind, VerdictKind::Unauthorized);
    assert_eq!(exchange.reason.as_deref(), Some("Bad Database Name"));
    assert!(
        verdict
            .summary()
            .contains("reason phrase 'Bad Database Name'"),
        "{}",
        verdict.summary()
    );

    let base =
        serve_raw("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .await;
    let (exchange, result) = authorize(&base).await;
    assert_eq!(exchange.reason, None);
    assert_eq!(
        result.unwrap_err(),
        Verdict::new(VerdictKind::Unauthorized, None)
    );

    let base = serve_raw(
        "HTTP/1.1 403 4031 Subscription Required\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    )
    .await;
    let (_, result) = authorize(&base).await;
    assert_eq!(result.unwrap_err().kind, VerdictKind::SubscriptionRequired);
}

#[tokio::test]
async fn system_reads_versions_case_insensitively() {
    let seen: Seen = Arc::default();
    let router = Router::new()
        .route(
            "/act.web.api/api/system",
            get({
                let seen = Arc::clone(&seen);
                move |headers: HeaderMap| async move {
                    *seen.lock().unwrap() = Some(headers);
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        r#"{"ApiVersion":"1.1.524.0","sdkversion":"24.0.0.0","Update":8,"culture":{"Name":"en-US","displayName":"English"}}"#,
                    )
                }
            }),
        )
        .route(
            "/xml/act.web.api/api/system",
            get(|| async { ([(header::CONTENT_TYPE, "application/xml")], "<System><ApiVersion>1</ApiVersion></System>") }),
        );
    let base = serve(router).await;

    let (exchange, result) = client().system(&base, DATABASE).await;
    let info = result.unwrap();
    assert_eq!(info.api_version.as_deref(), Some("1.1.524.0"));
    assert_eq!(info.sdk_version.as_deref(), Some("24.0.0.0"));
    assert_eq!(info.update, Some(8));
    assert_eq!(info.culture.as_deref(), Some("en-US"));
    assert_eq!(exchange.call, CallKind::System);
    let headers = seen.lock().unwrap().clone().unwrap();
    assert_eq!(headers["accept"], "application/json");
    assert!(
        headers.get("authorization").is_none(),
        "system is anonymous"
    );

    let root = base.trim_end_matches("/act.web.api");
    let (_, result) = client()
        .system(&format!("{root}/xml/act.web.api"), DATABASE)
        .await;
    let verdict = result.unwrap_err();
    assert_eq!(verdict.kind, VerdictKind::NotAToken);
    assert!(verdict.detail.unwrap().contains("expected JSON, got XML"));

    let (_, result) = client().system(&format!("{root}/nowhere"), DATABASE).await;
    assert_eq!(result.unwrap_err().kind, VerdictKind::NotFound);
}

#[tokio::test]
async fn invalid_base_fails_without_a_request() {
    let (exchange, result) = client()
        .authorize(
            "https://jane:hunter2@host.invalid/act.web.api",
            DATABASE,
            USER,
            &Secret::from(PASSWORD),
            LIFETIME,
        )
        .await;
    let verdict = result.unwrap_err();
    assert_eq!(exchange.status, None);
    assert!(!format!("{exchange:?} {verdict:?}").contains("hunter2"));
    assert!(
        verdict.summary().contains("user name or password"),
        "{}",
        verdict.summary()
    );
}

/// Renders everything printable about an outcome.
fn printable(exchange: &Exchange, result: &Result<Issued, Verdict>) -> String {
    let verdict = match result {
        Ok(_) => exchange.verdict.clone(),
        Err(v) => v.clone(),
    };
    format!(
        "{exchange:?}\n{result:?}\n{}\n{}\n{}",
        verdict.summary(),
        exchange.verdict.summary(),
        serde_json::to_string(&verdict).unwrap()
    )
}

#[tokio::test]
async fn no_secret_in_debug_or_verdict_text() {
    let token = token_with_exp();
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    let router = Router::new()
        .route(
            "/ok/act.web.api/authorize",
            get({
                let token = token.clone();
                move || async move { token }
            }),
        )
        // A careless gateway that echoes the Authorization header back.
        .route(
            "/echo/act.web.api/authorize",
            get(|headers: HeaderMap| async move {
                let auth = headers["authorization"].to_str().unwrap().to_owned();
                let body = format!(
                    r#"{{"message":"'{auth}' not a valid key=value pair in Authorization header"}}"#
                );
                (StatusCode::FORBIDDEN, body).into_response()
            }),
        )
        // A broken server that prints the decoded password in its error.
        .route(
            "/leak/act.web.api/authorize",
            get(|| async {
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("login failed for {USER} with {PASSWORD}"),
                )
                    .into_response()
            }),
        )
        // A 200 whose body carries the token inside JSON (not a bare token).
        .route(
            "/wrapped/act.web.api/authorize",
            get({
                let token = token.clone();
                move || async move {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        format!(r#"{{"access_token":"{token}"}}"#),
                    )
                }
            }),
        );
    let base = serve(router).await;
    let root = base.trim_end_matches("/act.web.api");

    for path in ["ok", "echo", "leak", "wrapped"] {
        let (exchange, result) = authorize(&format!("{root}/{path}/act.web.api")).await;
        if path == "ok" {
            assert!(result.is_ok());
        } else {
            assert!(result.is_err(), "{path}");
        }
        let text = printable(&exchange, &result);
        for secret in [PASSWORD, basic.as_str(), token.as_str()] {
            assert!(
                !text.contains(secret),
                "{path}: secret leaked into:\n{text}"
            );
        }
    }

    // Refresh: the sent token and the issued one stay hidden too.
    let (exchange, result) = client()
        .refresh(
            &format!("{root}/echo/act.web.api"),
            DATABASE,
            &Token::new(token.clone()),
            LIFETIME,
        )
        .await;
    assert_eq!(
        result.as_ref().unwrap_err().kind,
        VerdictKind::GatewayForbidden
    );
    assert!(!printable(&exchange, &result).contains(&token));

    let (exchange, result) = client()
        .refresh(
            &format!("{root}/ok/act.web.api"),
            DATABASE,
            &Token::new(jwt("{}")),
            LIFETIME,
        )
        .await;
    assert!(result.is_ok());
    assert!(!printable(&exchange, &result).contains(&token));
}

#[tokio::test]
async fn building_twice_reuses_the_installed_crypto_provider() {
    // The rustls provider install is process-wide; a second client must still build.
    let _a = ActClient::new(&ClientOptions::default()).unwrap();
    let _b = ActClient::new(&ClientOptions::default()).unwrap();
}

#[tokio::test]
async fn redirect_is_reported_not_followed() {
    let hits = Arc::new(Mutex::new(0u32));
    let router = Router::new()
        .route(
            "/act.web.api/authorize",
            get(|| async {
                Response::builder()
                    .status(StatusCode::FOUND)
                    .header(header::LOCATION, "/Login.aspx")
                    .body(Body::empty())
                    .unwrap()
            }),
        )
        .route(
            "/Login.aspx",
            get({
                let hits = Arc::clone(&hits);
                move || async move {
                    *hits.lock().unwrap() += 1;
                    "login"
                }
            }),
        );
    let (exchange, result) = authorize(&serve(router).await).await;
    let verdict = result.unwrap_err();
    assert_eq!(verdict.kind, VerdictKind::UnexpectedStatus);
    assert!(
        verdict
            .detail
            .unwrap()
            .contains("redirected to '/Login.aspx'")
    );
    assert_eq!(exchange.status, Some(302));
    assert_eq!(
        *hits.lock().unwrap(),
        0,
        "credentials were not resent to the redirect target"
    );
}
