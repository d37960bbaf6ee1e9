//! Micro benchmarks (issue 7): the hot pure functions and one full TUI frame.
//!
//! Run with `cargo bench --bench micro`. The group/name pairs (`jwt/decode`,
//! `render/frame_200x50`, ...) are quoted in the README's Performance table:
//! keep them stable.
//!
//! Every input is built from the public API, the way the app builds it: headers and
//! bodies like an Act! server's here, and in `fixture` tokens shaped like the
//! simulator's, a consultant's connections file, and an `App` fed the same snapshots
//! and journal entries the engine would send.

mod fixture;

use std::time::Duration;

use actsm::act::verdict::decode_response;
use actsm::act::{CallKind, Meter, jwt};
use actsm::tui::Message;
use criterion::{Criterion, criterion_group, criterion_main};
use fixture::{CONNECTIONS, act_token, connections_toml, now, populated_app};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use reqwest::header::{HeaderMap, HeaderValue};

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

fn bench_config(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temporary folder for the connections file");
    let path = dir.path().join("connections.toml");
    std::fs::write(&path, connections_toml(CONNECTIONS)).expect("the temporary file is written");
    // Check once that the file is what the bench claims: all of it loads.
    let loaded = actsm::config::load(&path).expect("the generated file is valid");
    assert_eq!(loaded.connections.len(), CONNECTIONS);

    // Milliseconds a load: fewer samples keep criterion within its time budget.
    let mut group = c.benchmark_group("config");
    group.sample_size(20);
    group.bench_function("load_1000", |b| {
        b.iter(|| actsm::config::load(std::hint::black_box(&path)));
    });
    group.finish();
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
