//! Micro benchmarks (issue 7): the hot pure functions and one full TUI frame.
//!
//! Run with `cargo bench --bench micro`. The group/name pairs (`jwt/decode`,
//! `render/frame_200x50`, ...) are quoted in the README's Performance table:
//! keep them stable.
//!
//! Every input is built here from the public API, the way the app builds it:
//! tokens shaped like the simulator's, headers and bodies like an Act! server's,
//! a connections file written to a temporary folder, and an [`App`] fed the
//! same snapshots and journal entries the engine would send.

use std::path::Path;
use std::time::Duration;

use actsm::act::verdict::decode_response;
use actsm::act::{CallKind, Expiry, HttpDetail, Meter, Unreadable, Verdict, VerdictKind, jwt};
use actsm::config::Config;
use actsm::journal::{JournalEntry, Loaded};
use actsm::secret::Token;
use actsm::session::{Event, SessionSnapshot, SessionState, TokenStatus};
use actsm::tui::{App, Message, TuiOptions};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeZone as _, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use reqwest::header::{HeaderMap, HeaderValue};

/// Connections in the config and render benches (issue 7: "hundreds of connections").
const CONNECTIONS: usize = 1_000;

/// Journal entries in the render bench: the default in-memory journal size.
const JOURNAL_ENTRIES: usize = 10_000;

/// The fixed "now" of every bench, so runs compare.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 14, 12, 0, 0)
        .single()
        .expect("2025-03-14 12:00:00 UTC is one unambiguous instant")
}

/// A token shaped like the simulator's (and a real Act! server's): HS256 header,
/// user and database claims, `iat`/`nbf`/`exp`, a random-looking id and signature.
fn act_token(database: &str, user: &str, iat: i64, lifetime: i64) -> String {
    let header = r#"{"alg":"HS256","typ":"JWT"}"#;
    let claims = serde_json::json!({
        "sub": user,
        "unique_name": user,
        "ActDatabase": database,
        "database": database,
        "iss": "act.web.api",
        "aud": "act.web.api",
        "iat": iat,
        "nbf": iat,
        "exp": iat + lifetime,
        "jti": "9f3c2a7be0d14c6a8f51e2d3b4a59687",
    });
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode([0x5a_u8; 32]),
    )
}

fn bench_jwt(c: &mut Criterion) {
    let token = act_token("ACME_Production", "Jane Doe", now().timestamp(), 65 * 60);
    c.bench_function("jwt/decode", |b| {
        b.iter(|| jwt::decode(std::hint::black_box(&token)));
    });
}

/// Response headers as an Act! Premium Cloud server sends them, rate limit included.
fn cloud_headers(reset: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("content-type", "text/html; charset=utf-8"),
        ("cache-control", "no-cache"),
        ("server", "Microsoft-IIS/10.0"),
        ("x-aspnet-version", "4.0.30319"),
        ("x-powered-by", "ASP.NET"),
        ("date", "Fri, 14 Mar 2025 12:00:00 GMT"),
        ("x-ratelimit-limit", "60"),
        ("x-ratelimit-remaining", "57"),
        ("x-ratelimit-reset", reset),
    ] {
        headers.insert(
            name,
            HeaderValue::from_str(value).expect("a visible ASCII value"),
        );
    }
    headers
}

fn bench_meter(c: &mut Criterion) {
    let seconds = cloud_headers("42");
    let date = cloud_headers("Fri, 14 Mar 2025 12:00:42 GMT");
    let mut group = c.benchmark_group("meter");
    group.bench_function("parse", |b| {
        b.iter(|| Meter::from_headers(std::hint::black_box(&seconds), now()));
    });
    group.bench_function("parse_http_date", |b| {
        b.iter(|| Meter::from_headers(std::hint::black_box(&date), now()));
    });
    group.finish();
}

fn bench_verdict(c: &mut Criterion) {
    // A 403 whose ASP.NET error object carries Act!'s 4032: the answer a user
    // without the "Web API Access" permission gets from /authorize.
    let mut headers = cloud_headers("42");
    headers.insert(
        "content-type",
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    let body = br#"{"Message":"An error has occurred.","ExceptionMessage":"4032: API access permission required","ExceptionType":"Act.Web.Api.Exceptions.ApiAccessRequiredException","StackTrace":null}"#;
    c.bench_function("verdict/decode", |b| {
        b.iter(|| {
            decode_response(
                CallKind::Authorize,
                403,
                Some("Forbidden"),
                std::hint::black_box(&headers),
                std::hint::black_box(body),
            )
        });
    });
}

/// A connections file with `count` `[[connection]]` tables: groups, colours,
/// notes and `password_env` sources, as a consultant's file would have.
fn connections_toml(count: usize) -> String {
    use std::fmt::Write as _;

    let mut text = String::from(
        "# Generated for the micro benchmarks.\n[settings]\nrefresh_before = \"5m\"\n\
         assumed_lifetime = \"1h 5m\"\ntimeout = \"30s\"\n",
    );
    for i in 0..count {
        let group = ["clients", "internal", "staging", "partners"][i % 4];
        let color = ["cyan", "green", "magenta", "yellow", "#ff8800"][i % 5];
        // `write!` to a String cannot fail.
        let _ = write!(
            text,
            "\n[[connection]]\nname = \"client-{i:04}\"\n\
             url = \"https://client-{i:04}.example.invalid/act.web.api/\"\n\
             database = \"Client{i:04}_Production\"\nuser = \"consultant{}\"\n\
             password_env = \"ACT_PW_CLIENT_{i:04}\"\ngroup = \"{group}\"\ncolor = \"{color}\"\n\
             note = \"Contract renewed 2025, ask for Sam\"\nautostart = {}\n",
            i % 7,
            i.is_multiple_of(3),
        );
    }
    text
}

fn bench_config(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temporary folder for the connections file");
    let path = dir.path().join("connections.toml");
    std::fs::write(&path, connections_toml(CONNECTIONS)).expect("the temporary file is written");
    // Check once that the file is what the bench claims: all of it loads.
    let loaded = actsm::config::load(&path).expect("the generated file is valid");
    assert_eq!(loaded.connections.len(), CONNECTIONS);

    c.bench_function("config/load_1000", |b| {
        b.iter(|| actsm::config::load(std::hint::black_box(&path)));
    });
}

/// The live session of connection `i`: most hold a valid token (with a meter on
/// some), every 17th has failed, every 23rd is backing off, every 50th is idle.
fn snapshot(name: &str, i: usize) -> SessionSnapshot {
    let now = now();
    let offset = i64::try_from(i).expect("fewer connections than i64::MAX");
    if i % 50 == 49 {
        return SessionSnapshot::idle(name);
    }
    if i % 17 == 16 {
        return SessionSnapshot {
            state: SessionState::Failed,
            failures: 1,
            last_verdict: Some(Verdict::new(
                VerdictKind::ApiAccessRequired,
                Some("HTTP 403, server says '4032'".to_owned()),
            )),
            ..SessionSnapshot::idle(name)
        };
    }
    let meter = i.is_multiple_of(3).then(|| Meter {
        limit: Some(60),
        remaining: Some(60 - u64::try_from(i % 60).expect("i % 60 fits")),
        reset_at: Some(now + chrono::Duration::seconds(offset % 60)),
        read_at: now - chrono::Duration::seconds(2),
        unreadable: Unreadable::default(),
    });
    if i % 23 == 22 {
        return SessionSnapshot {
            state: SessionState::Backoff,
            failures: 3,
            retry_at: Some(now + chrono::Duration::seconds(5 + offset % 40)),
            last_verdict: Some(Verdict::new(VerdictKind::Refused, None)),
            meter,
            ..SessionSnapshot::idle(name)
        };
    }

    // Issued at different times, so the countdowns (and the Left sort) differ.
    let iat = now.timestamp() - 60 - (offset * 37) % 3_600;
    let raw = act_token("Client_Production", "consultant", iat, 65 * 60);
    let claims = jwt::decode(&raw).expect("the bench's own token decodes");
    let expiry = Expiry::from_claims(&claims, now, Duration::from_secs(65 * 60));
    SessionSnapshot {
        name: name.to_owned(),
        state: SessionState::Valid,
        token: Some(TokenStatus {
            token: Token::new(raw),
            claims,
            expiry,
            obtained_at: expiry.issued_at,
            clock_offset: chrono::TimeDelta::zero(),
        }),
        next_refresh_at: Some(expiry.expires_at - chrono::Duration::minutes(5)),
        retry_at: None,
        failures: 0,
        last_verdict: Some(Verdict::ok()),
        meter,
        tokens_obtained: 1 + u32::try_from(i % 9).expect("i % 9 fits"),
        skew: None,
        held_until: None,
    }
}

/// Journal entry `i` (0 is the newest): authorizes and refreshes, a few failures.
fn journal_entry(config: &Config, i: usize) -> JournalEntry {
    let connection = &config.connections[i % config.connections.len()];
    let secs_ago = i64::try_from(i).expect("fewer entries than i64::MAX") * 7;
    let (call, status, verdict, rule) = match i % 10 {
        0 => (
            CallKind::Authorize,
            Some(403),
            Verdict::new(VerdictKind::ApiAccessRequired, None),
            "start: authorize",
        ),
        1 => (
            CallKind::Authorize,
            None,
            Verdict::new(VerdictKind::Refused, None),
            "backoff: retry authorize",
        ),
        2..=4 => (
            CallKind::Authorize,
            Some(200),
            Verdict::ok(),
            "start: authorize",
        ),
        _ => (
            CallKind::Refresh,
            Some(200),
            Verdict::ok(),
            "timer: refresh before expiry",
        ),
    };
    JournalEntry {
        at: now() - chrono::Duration::seconds(secs_ago),
        connection: connection.name.clone(),
        call,
        status,
        reason: None,
        latency: Duration::from_millis(40 + (i % 200) as u64),
        verdict,
        meter: None,
        rule: rule.to_owned(),
        url: format!("{}/authorize", connection.url.trim_end_matches('/')),
        detail: HttpDetail::default(),
    }
}

/// An app at [`now`] showing 1,000 connections with live sessions and a full journal.
fn populated_app() -> App {
    let config = actsm::config::parse(
        &connections_toml(CONNECTIONS),
        Path::new("/home/jdoe/.config/actsm/connections.toml"),
    )
    .expect("the generated file is valid");
    let options = TuiOptions {
        title: "/home/jdoe/.config/actsm/connections.toml".into(),
        ..TuiOptions::default()
    };
    let mut app = App::new(&config, &options);
    app.update(Message::Tick(now()));
    for (i, connection) in config.connections.iter().enumerate() {
        app.update(Message::Engine(Event::SessionChanged(snapshot(
            &connection.name,
            i,
        ))));
    }
    // The journal as read back at start: newest first, the default capacity full.
    app.load_journal(Loaded {
        entries: (0..JOURNAL_ENTRIES)
            .map(|i| journal_entry(&config, i))
            .collect(),
        skipped: 0,
    });
    assert_eq!(app.journal().count(), JOURNAL_ENTRIES);
    app
}

fn bench_render(c: &mut Criterion) {
    let mut app = populated_app();
    let mut terminal =
        Terminal::new(TestBackend::new(200, 50)).expect("a test backend always opens");
    let mut group = c.benchmark_group("render");

    // Nothing changes between frames: the cost of drawing alone.
    group.bench_function("frame_200x50", |b| {
        b.iter(|| {
            terminal
                .draw(|frame| app.render(frame))
                .expect("drawing on a test backend cannot fail")
                .area
        });
    });

    // What the idle TUI does once a second: the clock moves, every countdown
    // changes, a frame is drawn. The clock cycles through one minute so that a
    // long run never lets the tokens expire (which would change the workload).
    let mut second = 0_i64;
    group.bench_function("frame_200x50_tick", |b| {
        b.iter(|| {
            second = (second + 1) % 60;
            app.update(Message::Tick(now() + chrono::Duration::seconds(second)));
            terminal
                .draw(|frame| app.render(frame))
                .expect("drawing on a test backend cannot fail")
                .area
        });
    });
    group.finish();
}

/// Short warm-up and measurement: these functions run in microseconds, so a
/// second of samples is plenty for a stable mean, and the whole run stays
/// under a minute on a small shared machine (issue 7 runs it from a fresh clone).
fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
}

criterion_group! {
    name = micro;
    config = config();
    targets = bench_jwt, bench_meter, bench_verdict, bench_config, bench_render
}
criterion_main!(micro);
