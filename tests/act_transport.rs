//! Transport settings end to end: per-connection timeouts, per-connection proxies and the
//! standard proxy variables (checked on the `actsm` binary, whose environment is its own),
//! and a connection whose client cannot be built failing alone.
//!
//! Everything here talks to loopback only: the simulator, a tiny HTTP proxy written below,
//! and a listener that never answers.

// Helpers outside #[test] fns are not covered by clippy.toml's allow-unwrap-in-tests.
#![allow(clippy::unwrap_used)]

mod cli_common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use actsm::act::{ActClient, ClientOptions, VerdictKind};
use actsm::config::{Connection, ProxyChoice, SecretSource, Settings, Transport};
use actsm::secret::Secret;
use actsm::session::{Command as EngineCommand, Engine, Event, SessionState};
use cli_common::{Fixture, stderr, stdout};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A loopback HTTP proxy for plain `http://` targets: reads the absolute-form request line,
/// records it, and forwards the request to the (loopback) origin.
struct LoopbackProxy {
    url: String,
    seen: Arc<std::sync::Mutex<Vec<String>>>,
    count: Arc<AtomicUsize>,
}

impl LoopbackProxy {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let count = Arc::new(AtomicUsize::new(0));
        let (seen2, count2) = (Arc::clone(&seen), Arc::clone(&count));
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (seen, count) = (Arc::clone(&seen2), Arc::clone(&count2));
                tokio::spawn(async move {
                    let _ = relay(socket, &seen, &count).await;
                });
            }
        });
        Self {
            url: format!("http://{addr}"),
            seen,
            count,
        }
    }

    fn requests(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }

    fn lines(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

/// Serves one client connection of the proxy: one request, then the origin's answer.
async fn relay(
    mut client: TcpStream,
    seen: &std::sync::Mutex<Vec<String>>,
    count: &AtomicUsize,
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut byte = [0_u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if client.read(&mut byte).await? == 0 || head.len() > 64 * 1024 {
            return Ok(());
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let (line, rest) = text.split_once("\r\n").unwrap_or((&text, ""));
    seen.lock().unwrap().push(line.to_owned());
    count.fetch_add(1, Ordering::SeqCst);

    // "GET http://127.0.0.1:PORT/path HTTP/1.1" -> origin 127.0.0.1:PORT, "GET /path HTTP/1.1".
    let mut parts = line.splitn(3, ' ');
    let (method, target, version) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let Some(after_scheme) = target.strip_prefix("http://") else {
        client
            .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            .await?;
        return Ok(());
    };
    let (authority, path) = after_scheme
        .find('/')
        .map_or((after_scheme, "/"), |i| after_scheme.split_at(i));
    // This proxy forwards to loopback only, whatever it is asked.
    assert!(
        authority.starts_with("127.0.0.1:"),
        "the test proxy was asked for {authority}"
    );
    let mut origin = TcpStream::connect(authority).await?;
    // One request per connection keeps the count exact.
    let rest = rest
        .split("\r\n")
        .filter(|h| {
            let lower = h.to_ascii_lowercase();
            !lower.starts_with("connection:") && !lower.starts_with("proxy-connection:")
        })
        .collect::<Vec<_>>()
        .join("\r\n");
    let forwarded = format!("{method} {path} {version}\r\nConnection: close\r\n{rest}");
    origin.write_all(forwarded.as_bytes()).await?;
    let mut answer = Vec::new();
    origin.read_to_end(&mut answer).await?;
    client.write_all(&answer).await?;
    client.shutdown().await
}

/// The demo simulator's healthy connection, as a connections file entry.
fn config_text(fx: &Fixture, settings: &str, extra: &str) -> String {
    format!(
        r#"
[settings]
{settings}

[[connection]]
name = "acme"
url = "{}"
database = "Acme_Healthy"
user = "Jane Doe"
password_env = "ACTSM_TEST_ACME_PW"
{extra}
"#,
        fx.sim.base_url()
    )
}

/// `actsm token acme` with these extra environment variables (and no inherited proxy ones).
async fn token_with_env(fx: &Fixture, env: &[(&str, &str)]) -> std::process::Output {
    let mut command = fx.command(&["token", "acme"]);
    for name in ["NO_PROXY", "no_proxy", "all_proxy", "REQUEST_METHOD"] {
        command.env_remove(name);
    }
    for (name, value) in env {
        command.env(name, value);
    }
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_proxy_from_the_environment_is_used() {
    let fx = Fixture::new().await;
    let proxy = LoopbackProxy::start().await;
    fx.write_config(&config_text(&fx, "timeout = \"5s\"", ""));

    let out = token_with_env(&fx, &[("HTTP_PROXY", &proxy.url)]).await;

    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("ey"), "{}", stdout(&out));
    assert_eq!(proxy.requests(), 1, "{:?}", proxy.lines());
    let line = &proxy.lines()[0];
    assert!(
        line.starts_with(&format!("GET {}/authorize", fx.sim.base_url())),
        "{line}"
    );
    assert_eq!(fx.sim.stats().authorize_basic, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_proxy_covering_the_host_bypasses_the_environment_proxy() {
    let fx = Fixture::new().await;
    let proxy = LoopbackProxy::start().await;
    fx.write_config(&config_text(&fx, "timeout = \"5s\"", ""));

    let out = token_with_env(
        &fx,
        &[
            ("HTTP_PROXY", &proxy.url),
            ("NO_PROXY", "localhost,127.0.0.1"),
        ],
    )
    .await;

    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(proxy.requests(), 0, "{:?}", proxy.lines());
    assert_eq!(fx.sim.stats().authorize_basic, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_none_ignores_the_environment_proxy() {
    let fx = Fixture::new().await;
    let proxy = LoopbackProxy::start().await;
    fx.write_config(&config_text(&fx, "timeout = \"5s\"", "proxy = \"none\""));

    let out = token_with_env(&fx, &[("HTTP_PROXY", &proxy.url)]).await;

    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(proxy.requests(), 0, "{:?}", proxy.lines());
    assert_eq!(fx.sim.stats().authorize_basic, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_per_connection_proxy_is_used_by_the_command_line() {
    let fx = Fixture::new().await;
    let proxy = LoopbackProxy::start().await;
    fx.write_config(&config_text(
        &fx,
        "timeout = \"5s\"",
        &format!("proxy = \"{}\"", proxy.url),
    ));

    // No proxy variable at all: the connection's own proxy is what sends it there.
    let out = token_with_env(&fx, &[]).await;

    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(proxy.requests(), 1, "{:?}", proxy.lines());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_per_connection_proxy_overrides_no_proxy() {
    let fx = Fixture::new().await;
    let proxy = LoopbackProxy::start().await;
    fx.write_config(&config_text(
        &fx,
        "timeout = \"5s\"",
        &format!("proxy = \"{}\"", proxy.url),
    ));

    let out = token_with_env(&fx, &[("NO_PROXY", "127.0.0.1")]).await;

    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(proxy.requests(), 1, "{:?}", proxy.lines());
}

#[tokio::test]
async fn a_per_connection_proxy_sees_the_client_request() {
    let fx = Fixture::new().await;
    let proxy = LoopbackProxy::start().await;
    let client = ActClient::new(&ClientOptions {
        proxy: ProxyChoice::Url(proxy.url.clone()),
        ..ClientOptions::default()
    })
    .unwrap();

    let (exchange, result) = client
        .authorize(
            &fx.sim.base_url(),
            "Acme_Healthy",
            "Jane Doe",
            &Secret::from("demo"),
            Duration::from_secs(60),
        )
        .await;

    assert!(result.is_ok(), "{:?}", exchange.verdict);
    assert_eq!(proxy.requests(), 1);
    assert_eq!(fx.sim.stats().authorize_basic, 1);
}

#[tokio::test]
async fn a_dead_per_connection_proxy_is_a_proxy_verdict() {
    let fx = Fixture::new().await;
    // A loopback port where nothing listens.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let client = ActClient::new(&ClientOptions {
        proxy: ProxyChoice::Url(proxy.clone()),
        ..ClientOptions::default()
    })
    .unwrap();

    let (_, result) = client
        .authorize(
            &fx.sim.base_url(),
            "Acme_Healthy",
            "Jane Doe",
            &Secret::from("demo"),
            Duration::from_secs(60),
        )
        .await;

    let verdict = result.unwrap_err();
    assert_eq!(verdict.kind, VerdictKind::Proxy, "{verdict:?}");
    let detail = verdict.detail.unwrap();
    assert!(
        detail.contains(&format!("cannot reach the proxy {proxy}")),
        "{detail}"
    );
    assert_eq!(fx.sim.stats().total, 0);
}

/// A loopback listener that accepts connections and never answers; it keeps them open.
async fn silent_listener() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    format!("http://{addr}/act.web.api")
}

fn connection(name: &str, url: &str, transport: Transport) -> Connection {
    Connection {
        name: name.to_owned(),
        url: url.to_owned(),
        database: "Acme_Healthy".to_owned(),
        user: "Jane Doe".to_owned(),
        secret: SecretSource::Plain(Secret::from("demo")),
        autostart: true,
        group: None,
        color: None,
        note: None,
        transport,
    }
}

#[tokio::test]
async fn a_per_connection_timeout_beats_the_settings_default() {
    let base = silent_listener().await;
    let settings = Settings {
        timeout: Duration::from_secs(60),
        connect_timeout: Duration::from_secs(60),
        ..Settings::default()
    };
    let conn = connection(
        "slow",
        &base,
        Transport {
            timeout: Some(Duration::from_millis(300)),
            ..Transport::default()
        },
    );
    let options = ClientOptions::for_connection(&settings, &conn);
    assert_eq!(options.timeout, Duration::from_millis(300));
    // A connect timeout never outlasts the whole request.
    assert_eq!(options.connect_timeout, Duration::from_millis(300));
    let client = ActClient::new(&options).unwrap();

    let begun = Instant::now();
    let (_, result) = client
        .authorize(
            &base,
            "Acme_Healthy",
            "Jane Doe",
            &Secret::from("demo"),
            Duration::from_secs(60),
        )
        .await;

    let verdict = result.unwrap_err();
    assert_eq!(verdict.kind, VerdictKind::Timeout, "{verdict:?}");
    // Far below the 60 s the settings allow; generous for a slow machine.
    assert!(
        begun.elapsed() < Duration::from_secs(5),
        "{:?}",
        begun.elapsed()
    );
}

#[test]
fn options_come_from_the_connection_first_then_the_settings() {
    let settings = Settings {
        timeout: Duration::from_secs(20),
        connect_timeout: Duration::from_secs(7),
        ..Settings::default()
    };
    let plain = connection("a", "http://127.0.0.1:1/act.web.api", Transport::default());
    let options = ClientOptions::for_connection(&settings, &plain);
    assert_eq!(options.timeout, Duration::from_secs(20));
    assert_eq!(options.connect_timeout, Duration::from_secs(7));
    assert_eq!(options.ca_file, None);
    assert!(!options.insecure_tls);
    assert_eq!(options.proxy, ProxyChoice::Environment);

    let custom = connection(
        "b",
        "http://127.0.0.1:1/act.web.api",
        Transport {
            timeout: Some(Duration::from_secs(3)),
            connect_timeout: Some(Duration::from_secs(2)),
            ca_file: Some("/etc/company-ca.pem".into()),
            insecure_tls: true,
            proxy: ProxyChoice::Direct,
        },
    );
    let options = ClientOptions::for_connection(&settings, &custom);
    assert_eq!(options.timeout, Duration::from_secs(3));
    assert_eq!(options.connect_timeout, Duration::from_secs(2));
    assert_eq!(options.ca_file, Some("/etc/company-ca.pem".into()));
    assert!(options.insecure_tls);
    assert_eq!(options.proxy, ProxyChoice::Direct);
    assert_ne!(options, ClientOptions::for_connection(&settings, &plain));
}

#[tokio::test]
async fn a_connection_whose_client_cannot_be_built_fails_alone() {
    let fx = Fixture::new().await;
    let dir = tempfile::tempdir().unwrap();
    // Loaded fine once, gone by the time the session starts.
    let missing = dir.path().join("removed-ca.pem");
    let good = connection("good", &fx.sim.base_url(), Transport::default());
    let broken = connection(
        "broken",
        &fx.sim.base_url(),
        Transport {
            ca_file: Some(missing.clone()),
            ..Transport::default()
        },
    );
    let config = Arc::new(actsm::config::Config {
        settings: Settings {
            timeout: Duration::from_secs(5),
            ..Settings::default()
        },
        connections: vec![good, broken],
        ..actsm::config::Config::default()
    });
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let engine = Engine::spawn(config, tx);

    let mut good_valid = false;
    let mut broken_verdict = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !(good_valid && broken_verdict.is_some()) {
        let event = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("both sessions settle within 10 s")
            .expect("engine alive");
        if let Event::SessionChanged(snap) = event {
            match snap.name.as_str() {
                "good" if snap.state == SessionState::Valid => good_valid = true,
                "broken" if snap.state == SessionState::Failed => {
                    broken_verdict = snap.last_verdict.clone();
                }
                _ => {}
            }
        }
    }
    let verdict = broken_verdict.unwrap();
    let detail = verdict.detail.unwrap_or_default();
    assert!(detail.contains("removed-ca.pem"), "{detail}");
    assert!(detail.contains("cannot read the CA file"), "{detail}");
    // Only the good connection reached the server.
    assert_eq!(fx.sim.stats().authorize_basic, 1);
    engine.send(EngineCommand::Stop("good".into()));
}

#[tokio::test]
async fn a_reload_that_changes_ca_file_restarts_the_session_with_the_new_client() {
    let fx = Fixture::new().await;
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        timeout: Duration::from_secs(5),
        ..Settings::default()
    };
    let make = |transport: Transport| {
        Arc::new(actsm::config::Config {
            settings: settings.clone(),
            connections: vec![connection("acme", &fx.sim.base_url(), transport)],
            ..actsm::config::Config::default()
        })
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let engine = Engine::spawn(make(Transport::default()), tx);

    let mut wait_for = async |want: SessionState| {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let event = tokio::time::timeout_at(deadline, rx.recv())
                .await
                .expect("the session settles within 10 s")
                .expect("engine alive");
            if let Event::SessionChanged(snap) = event
                && snap.name == "acme"
                && snap.state == want
            {
                return snap;
            }
        }
    };
    wait_for(SessionState::Valid).await;

    let missing = dir.path().join("new-ca.pem");
    engine.send(EngineCommand::Reload(make(Transport {
        ca_file: Some(missing),
        ..Transport::default()
    })));
    let failed = wait_for(SessionState::Failed).await;
    let detail = failed
        .last_verdict
        .and_then(|v| v.detail)
        .unwrap_or_default();
    assert!(detail.contains("new-ca.pem"), "{detail}");
    // The restart never reached the server: one authorize, from the first start.
    assert_eq!(fx.sim.stats().authorize_basic, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_proxy_star_bypasses_the_environment_proxy_for_an_ip_address() {
    let fx = Fixture::new().await;
    let proxy = LoopbackProxy::start().await;
    // The simulator's URL is http://127.0.0.1:PORT: an address, not a name.
    fx.write_config(&config_text(&fx, "timeout = \"5s\"", ""));

    let out = token_with_env(&fx, &[("HTTP_PROXY", &proxy.url), ("NO_PROXY", "*")]).await;

    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(proxy.requests(), 0, "{:?}", proxy.lines());
    assert_eq!(fx.sim.stats().authorize_basic, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_environment_proxy_is_named_not_the_server() {
    let fx = Fixture::new().await;
    fx.write_config(&config_text(&fx, "timeout = \"5s\"", ""));
    let dead = cli_common::closed_port_url();
    let dead = dead.trim_end_matches("/act.web.api");
    let with_password = dead.replacen("http://", "http://proxyuser:Pr0xy-Secret@", 1);

    let out = token_with_env(&fx, &[("HTTP_PROXY", &with_password)]).await;

    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("proxy"), "{err}");
    assert!(err.contains("from HTTP_PROXY"), "{err}");
    assert!(
        !err.contains("Pr0xy-Secret"),
        "the proxy password is hidden: {err}"
    );
    assert_eq!(fx.sim.stats().total, 0);
}
