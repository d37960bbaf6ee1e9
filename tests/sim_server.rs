//! The simulator over real HTTP on loopback, driven by reqwest.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use actsm::sim::{Scenario, SimConfig, SimServer, SimStats, SimUser};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use reqwest::StatusCode;

const LOOPBACK: &str = "127.0.0.1:0";

fn loopback() -> SocketAddr {
    LOOPBACK.parse().expect("loopback address parses")
}

fn client() -> reqwest::Client {
    // The crate builds reqwest without a TLS provider; plain http needs none,
    // but the builder still wants a process default to exist.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().build().expect("client builds")
}

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

async fn authorize(
    client: &reqwest::Client,
    base: &str,
    database: Option<&str>,
    authorization: Option<&str>,
) -> reqwest::Response {
    let mut req = client.get(format!("{base}/authorize"));
    if let Some(db) = database {
        req = req.header("Act-Database-Name", db);
    }
    if let Some(auth) = authorization {
        req = req.header("Authorization", auth);
    }
    req.send().await.expect("request reaches the simulator")
}

fn decode_part(part: &str) -> serde_json::Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url part"))
        .expect("JSON part")
}

/// (header, claims) of a JWT.
fn decode_jwt(token: &str) -> (serde_json::Value, serde_json::Value) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWT has three parts");
    (decode_part(parts[0]), decode_part(parts[1]))
}

fn header<'a>(resp: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    resp.headers()
        .get(name)
        .map(|v| v.to_str().expect("ASCII header"))
}

fn num_header(resp: &reqwest::Response, name: &str) -> i64 {
    header(resp, name)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("numeric {name}"))
}

fn one_user(user: SimUser) -> SimConfig {
    SimConfig {
        users: vec![user],
        ..SimConfig::default()
    }
}

#[tokio::test]
async fn basic_success_returns_a_bare_jwt_labelled_html() {
    let lifetime = Duration::from_secs(65 * 60);
    let server = SimServer::start(loopback(), one_user(SimUser::new("Acme", "Jane Doe", "pw")))
        .await
        .unwrap();
    let c = client();

    let resp = authorize(
        &c,
        &server.base_url(),
        Some("Acme"),
        Some(&basic("Jane Doe", "pw")),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        header(&resp, "content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(
        header(&resp, "x-ratelimit-limit").is_none(),
        "no limit configured, no headers"
    );
    assert!(header(&resp, "date").is_some());
    let token = resp.text().await.unwrap();
    assert!(
        !token.starts_with('"') && !token.contains(char::is_whitespace),
        "bare token"
    );

    let (jose, claims) = decode_jwt(&token);
    assert_eq!(jose, serde_json::json!({"alg": "HS256", "typ": "JWT"}));
    assert_eq!(claims["sub"], "Jane Doe");
    assert_eq!(claims["unique_name"], "Jane Doe");
    assert_eq!(claims["database"], "Acme");
    assert_eq!(claims["iss"], "act.web.api");
    let iat = claims["iat"].as_i64().unwrap();
    let exp = claims["exp"].as_i64().unwrap();
    assert_eq!(exp - iat, i64::try_from(lifetime.as_secs()).unwrap());
    let now = chrono::Utc::now().timestamp();
    assert!((iat - now).abs() <= 5, "iat is about now");
    assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 16));

    server.shutdown().await;
}

#[tokio::test]
async fn per_user_lifetime_overrides_the_default() {
    let config = SimConfig {
        token_lifetime: Duration::from_secs(600),
        users: vec![
            SimUser::new("Db", "short", "pw").with_lifetime(Duration::from_secs(90)),
            SimUser::new("Db", "default", "pw"),
        ],
        ..SimConfig::default()
    };
    let server = SimServer::start(loopback(), config).await.unwrap();
    let c = client();
    for (user, secs) in [("short", 90), ("default", 600)] {
        let resp = authorize(&c, &server.base_url(), Some("Db"), Some(&basic(user, "pw"))).await;
        let (_, claims) = decode_jwt(&resp.text().await.unwrap());
        assert_eq!(
            claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
            secs
        );
    }
}

#[tokio::test]
async fn password_may_contain_colons_and_names_ignore_case() {
    let server = SimServer::start(
        loopback(),
        one_user(SimUser::new("Acme_DB", "bob@example.com", "a:b::c:")),
    )
    .await
    .unwrap();
    let c = client();

    let resp = authorize(
        &c,
        &server.base_url(),
        Some("acme_db"),
        Some(&basic("BOB@example.com", "a:b::c:")),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let (_, claims) = decode_jwt(&resp.text().await.unwrap());
    // Claims carry the configured spelling, not the one sent.
    assert_eq!(claims["database"], "Acme_DB");
    assert_eq!(claims["sub"], "bob@example.com");

    // The password is exact: a prefix up to a colon is not enough.
    let resp = authorize(
        &c,
        &server.base_url(),
        Some("Acme_DB"),
        Some(&basic("bob@example.com", "a")),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bad_credentials_all_get_a_bare_401() {
    let config = SimConfig {
        users: vec![SimUser::new("Acme", "Jane", "pw")],
        databases: vec!["Empty_DB".into()],
        ..SimConfig::default()
    };
    let server = SimServer::start(loopback(), config).await.unwrap();
    let c = client();
    let base = server.base_url();

    let cases: [(&str, Option<&str>, Option<String>); 7] = [
        ("wrong password", Some("Acme"), Some(basic("Jane", "PW"))),
        ("wrong user", Some("Acme"), Some(basic("John", "pw"))),
        ("unknown database", Some("Nope"), Some(basic("Jane", "pw"))),
        (
            "database without users",
            Some("Empty_DB"),
            Some(basic("Jane", "pw")),
        ),
        ("no database header", None, Some(basic("Jane", "pw"))),
        ("no authorization", Some("Acme"), None),
        (
            "garbage authorization",
            Some("Acme"),
            Some("Basic %%%".into()),
        ),
    ];
    for (what, db, auth) in cases {
        let resp = authorize(&c, &base, db, auth.as_deref()).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{what}");
        assert!(
            header(&resp, "content-type").is_none(),
            "{what}: no content type"
        );
        assert_eq!(resp.text().await.unwrap(), "", "{what}: empty body");
    }
    assert_eq!(server.stats().rejected, 7);
}

#[tokio::test]
async fn each_scenario_answers_as_documented() {
    // The fault scenarios (hang, reset, ...) have their own tests in tests/sim_faults.rs.
    let answering: Vec<Scenario> = Scenario::ALL
        .into_iter()
        .filter(|sc| !sc.is_fault())
        .collect();
    let users = answering
        .iter()
        .map(|sc| SimUser::new("Db", sc.to_string(), "pw").with_scenario(*sc))
        .collect();
    let server = SimServer::start(
        loopback(),
        SimConfig {
            users,
            ..SimConfig::default()
        },
    )
    .await
    .unwrap();
    let c = client();
    let base = server.base_url();

    for sc in answering {
        let resp = authorize(&c, &base, Some("Db"), Some(&basic(&sc.to_string(), "pw"))).await;
        let status = resp.status();
        let content_type = header(&resp, "content-type").unwrap_or_default().to_owned();
        let retry_after = header(&resp, "retry-after").map(str::to_owned);
        let body = resp.text().await.unwrap();
        let json = || serde_json::from_str::<serde_json::Value>(&body).expect("JSON body");
        match sc {
            Scenario::Healthy => {
                assert_eq!(status, StatusCode::OK);
                decode_jwt(&body);
            }
            Scenario::Incompatible4030 | Scenario::Subscription4031 | Scenario::ApiAccess4032 => {
                let code = match sc {
                    Scenario::Incompatible4030 => "4030",
                    Scenario::Subscription4031 => "4031",
                    _ => "4032",
                };
                assert_eq!(status, StatusCode::FORBIDDEN, "{sc}");
                assert!(content_type.starts_with("application/json"), "{sc}");
                let v = json();
                assert!(
                    v["Message"].as_str().unwrap().starts_with(code),
                    "{sc}: {v}"
                );
                assert!(
                    v["ExceptionMessage"].as_str().unwrap().contains(code),
                    "{sc}"
                );
                assert!(v["ExceptionType"].is_string(), "{sc}");
            }
            Scenario::GatewayForbidden => {
                assert_eq!(status, StatusCode::FORBIDDEN);
                let v = json();
                assert!(
                    v["message"]
                        .as_str()
                        .unwrap()
                        .contains("Authorization header")
                );
                assert!(v.get("Message").is_none(), "a gateway, not ASP.NET");
            }
            Scenario::Throttled => {
                assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
                assert_eq!(retry_after.as_deref(), Some("30"));
            }
            Scenario::ServerError => {
                assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
                let v = json();
                assert_eq!(v["Message"], "An error has occurred.");
                assert!(v["ExceptionType"].as_str().unwrap().starts_with("System."));
            }
            Scenario::NotAToken => {
                assert_eq!(status, StatusCode::OK);
                assert_eq!(content_type, "text/html; charset=utf-8");
                assert!(body.contains("<html") && body.contains("Log In"));
                assert_ne!(body.split('.').count(), 3, "not shaped like a JWT");
            }
            fault => panic!("{fault} is a fault scenario, filtered out above"),
        }
    }

    let stats = server.stats();
    assert_eq!(stats.authorize_basic, 8);
    assert_eq!(stats.rejected, 7, "only Healthy issued a token");
}

#[tokio::test]
async fn scenario_can_change_while_running() {
    let server = SimServer::start(loopback(), one_user(SimUser::new("Db", "Erin", "pw")))
        .await
        .unwrap();
    let c = client();
    let auth = basic("Erin", "pw");
    let resp = authorize(&c, &server.base_url(), Some("Db"), Some(&auth)).await;
    let token = resp.text().await.unwrap();

    assert!(server.set_scenario("db", "erin", Scenario::ApiAccess4032));
    assert!(!server.set_scenario("db", "nobody", Scenario::Healthy));
    let resp = authorize(&c, &server.base_url(), Some("Db"), Some(&auth)).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    // The scenario applies to refreshes too.
    let resp = authorize(
        &c,
        &server.base_url(),
        None,
        Some(&format!("Bearer {token}")),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn bearer_refresh_and_its_refusals() {
    let lifetime = Duration::from_secs(120);
    let server = SimServer::start(
        loopback(),
        one_user(SimUser::new("Acme", "Jane", "pw").with_lifetime(lifetime)),
    )
    .await
    .unwrap();
    let c = client();
    let base = server.base_url();

    let first = authorize(&c, &base, Some("Acme"), Some(&basic("Jane", "pw"))).await;
    let first = first.text().await.unwrap();

    // Refresh, with and without the database header.
    let resp = authorize(&c, &base, Some("Acme"), Some(&format!("Bearer {first}"))).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        header(&resp, "content-type"),
        Some("text/html; charset=utf-8")
    );
    let second = resp.text().await.unwrap();
    assert_ne!(first, second);
    let (_, c1) = decode_jwt(&first);
    let (_, c2) = decode_jwt(&second);
    assert_eq!((&c2["sub"], &c2["database"]), (&c1["sub"], &c1["database"]));
    assert_ne!(c1["jti"], c2["jti"]);
    let resp = authorize(&c, &base, None, Some(&format!("Bearer {second}"))).await;
    assert_eq!(resp.status(), StatusCode::OK);

    // Another database header than the token's.
    let resp = authorize(&c, &base, Some("Other"), Some(&format!("Bearer {second}"))).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(resp.text().await.unwrap(), "");

    // Tampered claims (a longer lifetime) keep the old signature: refused.
    let parts: Vec<&str> = second.split('.').collect();
    let mut claims = decode_part(parts[1]);
    claims["exp"] = (claims["exp"].as_i64().unwrap() + 86_400).into();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        parts[2]
    );
    let resp = authorize(&c, &base, Some("Acme"), Some(&format!("Bearer {forged}"))).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    // A token from another simulator (another key) is not ours.
    let other = SimServer::start(loopback(), one_user(SimUser::new("Acme", "Jane", "pw")))
        .await
        .unwrap();
    let foreign = authorize(
        &c,
        &other.base_url(),
        Some("Acme"),
        Some(&basic("Jane", "pw")),
    )
    .await;
    let foreign = foreign.text().await.unwrap();
    let resp = authorize(&c, &base, Some("Acme"), Some(&format!("Bearer {foreign}"))).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    // Expired: move the simulated clock past the lifetime.
    let fresh = authorize(&c, &base, Some("Acme"), Some(&basic("Jane", "pw"))).await;
    let fresh = fresh.text().await.unwrap();
    server.advance_clock(lifetime + Duration::from_secs(1));
    assert_eq!(server.clock_offset_secs(), 121);
    let resp = authorize(&c, &base, Some("Acme"), Some(&format!("Bearer {fresh}"))).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    // Revoked: good signature and time, but the server no longer honours it.
    let live = authorize(&c, &base, Some("Acme"), Some(&basic("Jane", "pw"))).await;
    let live = live.text().await.unwrap();
    server.revoke_all();
    let resp = authorize(&c, &base, Some("Acme"), Some(&format!("Bearer {live}"))).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    let stats = server.stats();
    assert_eq!(stats.authorize_bearer, 7);
    assert_eq!(stats.authorize_basic, 3);
}

#[tokio::test]
async fn expiry_in_real_time_with_a_one_second_lifetime() {
    let server = SimServer::start(
        loopback(),
        one_user(SimUser::new("Acme", "Jane", "pw").with_lifetime(Duration::from_secs(1))),
    )
    .await
    .unwrap();
    let c = client();
    let token = authorize(
        &c,
        &server.base_url(),
        Some("Acme"),
        Some(&basic("Jane", "pw")),
    )
    .await;
    let token = token.text().await.unwrap();
    // exp is whole seconds: after two seconds it has passed whatever the rounding.
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let resp = authorize(
        &c,
        &server.base_url(),
        None,
        Some(&format!("Bearer {token}")),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn revoke_on_refresh_retires_the_old_token() {
    let config = SimConfig {
        revoke_on_refresh: true,
        ..one_user(SimUser::new("Acme", "Jane", "pw"))
    };
    let server = SimServer::start(loopback(), config).await.unwrap();
    let c = client();
    let base = server.base_url();
    let old = authorize(&c, &base, Some("Acme"), Some(&basic("Jane", "pw"))).await;
    let old = old.text().await.unwrap();
    let resp = authorize(&c, &base, Some("Acme"), Some(&format!("Bearer {old}"))).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = authorize(&c, &base, Some("Acme"), Some(&format!("Bearer {old}"))).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn clock_offset_shows_in_date_and_claims() {
    let config = SimConfig {
        clock_offset_secs: 3_600,
        ..one_user(SimUser::new("Acme", "Jane", "pw"))
    };
    let server = SimServer::start(loopback(), config).await.unwrap();
    let c = client();
    let resp = authorize(
        &c,
        &server.base_url(),
        Some("Acme"),
        Some(&basic("Jane", "pw")),
    )
    .await;
    let date = chrono::DateTime::parse_from_rfc2822(header(&resp, "date").unwrap()).unwrap();
    let now = chrono::Utc::now().timestamp();
    assert!(
        (date.timestamp() - (now + 3_600)).abs() <= 5,
        "Date is an hour ahead"
    );
    let (_, claims) = decode_jwt(&resp.text().await.unwrap());
    assert!((claims["iat"].as_i64().unwrap() - (now + 3_600)).abs() <= 5);
}

#[tokio::test]
async fn cloud_paths_and_any_path_case_work() {
    let server = SimServer::start(loopback(), one_user(SimUser::new("Acme", "Jane", "pw")))
        .await
        .unwrap();
    let c = client();
    let auth = basic("Jane", "pw");
    let origin = format!("http://{}", server.addr());

    let cloud = server.cloud_base_url("BobsOldRed");
    assert_eq!(cloud, format!("{origin}/bobsoldred-api/act.web.api"));
    assert_eq!(server.base_url(), format!("{origin}/act.web.api"));

    for base in [
        cloud,
        format!("{origin}/Act.Web.API"),
        format!("{origin}/ACT.WEB.API"),
        format!("{origin}/SomeCustomer-API/Act.Web.Api"),
    ] {
        let resp = authorize(&c, &base, Some("Acme"), Some(&auth)).await;
        assert_eq!(resp.status(), StatusCode::OK, "{base}");
        decode_jwt(&resp.text().await.unwrap());
    }
    let resp = c
        .get(format!("{origin}/Act.Web.Api/AUTHORIZE"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::UNAUTHORIZED,
        "route found, no credentials"
    );
}

#[tokio::test]
async fn rate_limit_counts_down_then_throttles_until_reset() {
    let config = SimConfig {
        rate_limit: Some(3),
        users: vec![
            SimUser::new("Acme", "Jane", "pw"),
            SimUser::new("Acme", "John", "pw"),
        ],
        ..SimConfig::default()
    };
    let server = SimServer::start(loopback(), config).await.unwrap();
    let c = client();
    let base = server.base_url();
    let auth = basic("Jane", "pw");

    let mut resets = Vec::new();
    for expected_remaining in [2, 1, 0] {
        let resp = authorize(&c, &base, Some("Acme"), Some(&auth)).await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(num_header(&resp, "x-ratelimit-limit"), 3);
        assert_eq!(
            num_header(&resp, "x-ratelimit-remaining"),
            expected_remaining
        );
        resets.push(num_header(&resp, "x-ratelimit-reset"));
    }
    assert!(resets.windows(2).all(|w| w[0] == w[1]), "one fixed window");
    let now = chrono::Utc::now().timestamp();
    assert!(
        (resets[0] - (now + 60)).abs() <= 5,
        "reset is Unix seconds, a minute ahead"
    );

    // The fourth call in the window is refused.
    let resp = authorize(&c, &base, Some("Acme"), Some(&auth)).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(num_header(&resp, "x-ratelimit-remaining"), 0);
    assert_eq!(num_header(&resp, "x-ratelimit-reset"), resets[0]);
    let retry_after = num_header(&resp, "retry-after");
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");

    // Another user has a window of their own.
    let resp = authorize(&c, &base, Some("Acme"), Some(&basic("John", "pw"))).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(num_header(&resp, "x-ratelimit-remaining"), 2);

    // After the window a new one opens.
    server.advance_clock(Duration::from_secs(61));
    let resp = authorize(&c, &base, Some("Acme"), Some(&auth)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(num_header(&resp, "x-ratelimit-remaining"), 2);
    assert!(num_header(&resp, "x-ratelimit-reset") > resets[0]);
}

#[tokio::test]
async fn per_user_rate_limit_and_unmetered_users() {
    let config = SimConfig {
        users: vec![
            SimUser::new("Frank_Limited", "Frank", "pw").with_rate_limit(1),
            SimUser::new("Open", "Olga", "pw"),
        ],
        ..SimConfig::default()
    };
    let server = SimServer::start(loopback(), config).await.unwrap();
    let c = client();
    let base = server.base_url();

    // A wrong password still costs a call.
    let resp = authorize(
        &c,
        &base,
        Some("Frank_Limited"),
        Some(&basic("Frank", "bad")),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(num_header(&resp, "x-ratelimit-remaining"), 0);
    let resp = authorize(
        &c,
        &base,
        Some("Frank_Limited"),
        Some(&basic("Frank", "pw")),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);

    let resp = authorize(&c, &base, Some("Open"), Some(&basic("Olga", "pw"))).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(header(&resp, "x-ratelimit-limit").is_none());
    assert!(header(&resp, "x-ratelimit-remaining").is_none());
}

#[tokio::test]
async fn system_speaks_json_and_xml_anonymously() {
    let server = SimServer::start(loopback(), one_user(SimUser::new("Acme", "Jane", "pw")))
        .await
        .unwrap();
    let c = client();
    let url = format!("{}/api/system", server.base_url());

    let resp = c
        .get(&url)
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        header(&resp, "content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let v: serde_json::Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert_eq!(v["apiVersion"], "1.1.524.0");
    assert_eq!(v["sdkVersion"], "24.0.0.0");
    assert_eq!(v["update"], 8);
    assert_eq!(v["culture"]["name"], "en-US");
    assert_eq!(v["culture"]["displayName"], "English (United States)");

    let resp = c.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(header(&resp, "content-type").unwrap().contains("xml"));
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("<ApiVersion>1.1.524.0</ApiVersion>")
    );

    let cloud = format!("{}/API/System", server.cloud_base_url("acme"));
    let resp = c
        .get(cloud)
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(server.stats().system, 3);
}

#[tokio::test]
async fn help_page_unknown_paths_and_methods() {
    let server = SimServer::start(loopback(), SimConfig::default())
        .await
        .unwrap();
    let c = client();
    let origin = format!("http://{}", server.addr());

    for url in [
        format!("{}/", server.base_url()),
        server.cloud_base_url("acme"),
    ] {
        let resp = c.get(&url).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{url}");
        assert!(
            header(&resp, "content-type")
                .unwrap()
                .starts_with("text/html")
        );
        assert!(resp.text().await.unwrap().contains("Act! Web API"));
    }

    for path in [
        "/",
        "/act.web.api/api/contacts",
        "/acme/act.web.api/authorize",
        "/favicon.ico",
    ] {
        let resp = c.get(format!("{origin}{path}")).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
    }

    let resp = c
        .post(format!("{}/authorize", server.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header(&resp, "allow"), Some("GET"));
}

#[tokio::test]
async fn stats_count_every_call() {
    let config = SimConfig {
        users: vec![
            SimUser::new("Acme", "Jane", "pw"),
            SimUser::new("Bobs", "Bob", "pw"),
        ],
        ..SimConfig::default()
    };
    let server = SimServer::start(loopback(), config).await.unwrap();
    let c = client();
    let base = server.base_url();

    let token = authorize(&c, &base, Some("Acme"), Some(&basic("Jane", "pw"))).await;
    let token = token.text().await.unwrap();
    authorize(&c, &base, Some("ACME"), Some(&format!("Bearer {token}"))).await;
    authorize(&c, &base, Some("Bobs"), Some(&basic("Bob", "wrong"))).await;
    authorize(&c, &base, Some("Unknown"), Some(&basic("Bob", "pw"))).await;
    authorize(&c, &base, None, Some("Bearer not.a.token")).await;
    c.get(format!("{base}/api/system")).send().await.unwrap();
    c.get(format!("{base}/nowhere")).send().await.unwrap();

    let expected = SimStats {
        authorize_basic: 3,
        authorize_bearer: 2,
        system: 1,
        rejected: 3,
        total: 7,
        per_database: BTreeMap::from([("Acme".to_owned(), 2), ("Bobs".to_owned(), 1)]),
    };
    assert_eq!(server.stats(), expected);
    server.shutdown().await;
}

#[tokio::test]
async fn demo_config_behaves_as_the_demo_expects() {
    let server = SimServer::start(loopback(), SimConfig::demo())
        .await
        .unwrap();
    let c = client();
    let base = server.base_url();

    let resp = authorize(
        &c,
        &base,
        Some("Acme_Healthy"),
        Some(&basic("Jane Doe", "demo")),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let (_, claims) = decode_jwt(&resp.text().await.unwrap());
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        65 * 60
    );

    let resp = authorize(
        &c,
        &base,
        Some("Bobs_Fast"),
        Some(&basic("bob@example.com", "demo")),
    )
    .await;
    let (_, claims) = decode_jwt(&resp.text().await.unwrap());
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        90
    );

    let resp = authorize(
        &c,
        &base,
        Some("Carol_Wrong"),
        Some(&basic("Carol", "demo")),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    let resp = authorize(&c, &base, Some("Dave_4031"), Some(&basic("Dave", "demo"))).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(resp.text().await.unwrap().contains("4031"));

    let resp = authorize(&c, &base, Some("Erin_4032"), Some(&basic("Erin", "demo"))).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(resp.text().await.unwrap().contains("4032"));

    let resp = authorize(
        &c,
        &base,
        Some("Frank_Limited"),
        Some(&basic("Frank", "demo")),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(num_header(&resp, "x-ratelimit-limit"), 3);
    assert_eq!(num_header(&resp, "x-ratelimit-remaining"), 2);
}

#[tokio::test]
async fn shutdown_frees_the_port() {
    let server = SimServer::start(loopback(), SimConfig::default())
        .await
        .unwrap();
    let addr = server.addr();
    server.shutdown().await;
    let err = client()
        .get(format!("http://{addr}/act.web.api/"))
        .send()
        .await;
    assert!(err.is_err(), "nothing listens after shutdown");
}
