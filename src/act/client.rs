//! HTTP calls to an Act! Web API server.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use reqwest::header::{ACCEPT, AUTHORIZATION, DATE, HeaderMap, HeaderName, HeaderValue};
use zeroize::Zeroizing;

use super::endpoint::{authorize_url, normalize_base, system_url};
use super::verdict::{decode_response, decode_transport, describe_body, sanitize};
use super::{Claims, Expiry, ExpirySource, Meter, Verdict, VerdictKind, jwt, meter};
use crate::config::{Connection, ProxyChoice, Settings, read_ca_file};
use crate::secret::{Secret, Token};

/// Largest response body read (64 KiB). A token is a few hundred bytes; anything past this
/// is not an Act! auth answer, and reading it whole would only cost memory and time.
pub const BODY_CAP: usize = 64 * 1024;

/// The database header every call sends.
pub const DATABASE_HEADER: &str = "act-database-name";

/// Most headers kept per direction in an exchange's [`HttpDetail`].
pub const DETAIL_HEADER_CAP: usize = 32;

/// Longest header value kept in an [`HttpDetail`], in characters.
pub const DETAIL_VALUE_MAX: usize = 200;

/// Longest body excerpt kept in an [`HttpDetail`], in bytes (1 KiB).
pub const DETAIL_EXCERPT_MAX: usize = 1024;

/// What the journal's detail view shows of one exchange: the request line, the headers
/// both ways and an excerpt of a failure's body, all redacted.
///
/// Built where the request is sent, so nothing secret is ever stored in the first place:
/// `Authorization` keeps its scheme only (`Basic ***`), cookies their names, headers whose
/// names speak of tokens or secrets nothing; other values go through [`sanitize`], which
/// masks anything JWT- or key-like. A success body (the token) is never kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpDetail {
    /// `GET` (every call of the protocol is a GET).
    pub method: String,
    /// The request headers sent, redacted, at most [`DETAIL_HEADER_CAP`].
    pub request_headers: Vec<(String, String)>,
    /// The response headers, redacted, at most [`DETAIL_HEADER_CAP`].
    pub response_headers: Vec<(String, String)>,
    /// A sanitized excerpt of a failure's body, at most [`DETAIL_EXCERPT_MAX`] bytes.
    pub body_excerpt: Option<String>,
}

/// Header names whose values are never shown at all (besides `Authorization` and cookies).
const SECRET_NAME_PARTS: [&str; 7] = [
    "token",
    "secret",
    "password",
    "session",
    "key",
    "auth",
    "credential",
];

/// One header as the journal may keep it: the name in lower case, the value redacted.
pub fn redact_header(name: &str, value: &[u8]) -> (String, String) {
    let name = name.to_ascii_lowercase();
    let text = String::from_utf8_lossy(value);
    let redacted = match name.as_str() {
        "authorization" | "proxy-authorization" => {
            let scheme = text.split_whitespace().next().unwrap_or("");
            if scheme.is_empty() || scheme.len() > 20 {
                "***".to_owned()
            } else {
                format!("{} ***", sanitize(scheme, 20))
            }
        }
        "set-cookie" | "cookie" => text
            .split(';')
            .filter_map(|part| {
                let (key, _) = part.split_once('=')?;
                let key = sanitize(key.trim(), 40);
                // Attributes of Set-Cookie (Path, HttpOnly, ...) carry no secret, but the
                // first pair's value does; hide every value alike, it costs nothing.
                (!key.is_empty()).then(|| format!("{key}=***"))
            })
            .collect::<Vec<_>>()
            .join("; "),
        // `WWW-Authenticate` names the schemes the server takes: useful, and never secret.
        n if n != DATABASE_HEADER
            && n != "www-authenticate"
            && SECRET_NAME_PARTS.iter().any(|p| n.contains(p)) =>
        {
            "***".to_owned()
        }
        _ => sanitize(&text, DETAIL_VALUE_MAX),
    };
    (sanitize(&name, 60), redacted)
}

/// The headers of `map` as the journal may keep them, at most [`DETAIL_HEADER_CAP`].
fn redact_headers(map: &HeaderMap) -> Vec<(String, String)> {
    map.iter()
        .take(DETAIL_HEADER_CAP)
        .map(|(name, value)| redact_header(name.as_str(), value.as_bytes()))
        .collect()
}

/// A failure body as the journal may keep it: scrubbed by the caller, sanitized (JWT-like
/// runs masked, control characters gone), at most [`DETAIL_EXCERPT_MAX`] bytes.
fn body_excerpt(body: &[u8]) -> Option<String> {
    let head = &body[..body.len().min(DETAIL_EXCERPT_MAX * 4)];
    let text = sanitize(&String::from_utf8_lossy(head), DETAIL_EXCERPT_MAX);
    let mut cut = text.len().min(DETAIL_EXCERPT_MAX);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let text = &text[..cut];
    (!text.is_empty()).then(|| text.to_owned())
}

/// Which of the protocol's calls an exchange was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CallKind {
    /// `GET /authorize` with Basic credentials.
    Authorize,
    /// `GET /authorize` with `Bearer` and the current token.
    Refresh,
    /// `GET /api/system`.
    System,
}

/// Per-client transport settings.
///
/// Comparable and hashable so that connections with equal settings can share one client.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientOptions {
    /// Total time allowed for one request, connect included.
    pub timeout: Duration,
    /// Time allowed to establish the connection.
    pub connect_timeout: Duration,
    /// A PEM bundle of CA certificates trusted in addition to the platform's roots.
    pub ca_file: Option<PathBuf>,
    /// Accept any server certificate (no verification at all).
    pub insecure_tls: bool,
    /// Which proxy requests go through.
    pub proxy: ProxyChoice,
    /// Every request goes over plain HTTP (an `http://` base and no TLS proxy), so the
    /// platform trust store is never loaded: reading and parsing it is most of the cost of
    /// a one-shot `actsm token --fresh`. Such a client refuses `https://` URLs.
    pub plain_http: bool,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(10),
            ca_file: None,
            insecure_tls: false,
            proxy: ProxyChoice::Environment,
            plain_http: false,
        }
    }
}

impl ClientOptions {
    /// The options for `connection`: its own transport overrides, `settings` for the rest.
    ///
    /// The engine and the command line both build their clients with this, so a connection
    /// behaves the same in the app and in a script. The connect timeout never exceeds the
    /// total one (a connect allowed to outlast the whole request would never be the cause).
    pub fn for_connection(settings: &Settings, connection: &Connection) -> ClientOptions {
        let transport = &connection.transport;
        let timeout = transport.timeout.unwrap_or(settings.timeout);
        let connect_timeout = transport
            .connect_timeout
            .unwrap_or(settings.connect_timeout)
            .min(timeout);
        ClientOptions {
            timeout,
            connect_timeout,
            ca_file: transport.ca_file.clone(),
            insecure_tls: transport.insecure_tls,
            proxy: transport.proxy.clone(),
            plain_http: is_plain_http(&connection.url) && !proxy_may_use_tls(&transport.proxy),
        }
    }
}

/// Whether `url` is an `http://` URL (scheme compared as URLs do, without case).
fn is_plain_http(url: &str) -> bool {
    url.trim_start()
        .get(..7)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("http://"))
}

/// Whether requests to an `http://` server could still need TLS: through a proxy reached
/// over `https://`, named in the connection or in the environment variables reqwest reads
/// for plain-HTTP requests.
fn proxy_may_use_tls(proxy: &ProxyChoice) -> bool {
    let https = |url: &str| {
        url.trim_start()
            .get(..8)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
    };
    match proxy {
        ProxyChoice::Direct => false,
        ProxyChoice::Url(url) => https(url.as_str()),
        ProxyChoice::Environment => ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
            .iter()
            .filter_map(|var| std::env::var(var).ok())
            .any(|value| https(&value)),
    }
}

/// What one HTTP exchange looked like, success or not: the journal's raw material.
///
/// Holds no secret: no credential, no token text, no response body beyond a
/// short excerpt of an error body.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// Which call this was.
    pub call: CallKind,
    /// The URL requested (no credentials are ever in it).
    pub url: String,
    /// HTTP status, when a response arrived.
    pub status: Option<u16>,
    /// Reason phrase, when the server sent a non-standard one.
    pub reason: Option<String>,
    /// From sending the request to having read the body (or failing).
    pub latency: Duration,
    /// The decoded meaning.
    pub verdict: Verdict,
    /// Rate-limit reading from this response's headers, if any were sent.
    pub meter: Option<Meter>,
    /// The server's clock, from the `Date` header.
    pub server_date: Option<DateTime<Utc>>,
    /// When the server asked us to come back (`Retry-After`, seconds or an HTTP date).
    pub retry_after: Option<DateTime<Utc>>,
    /// When the response (or failure) was seen, local clock.
    pub at: DateTime<Utc>,
    /// Headers both ways and a failure's body excerpt, redacted (the journal's detail view).
    pub detail: HttpDetail,
}

/// A token that `/authorize` issued, decoded.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The raw JWT.
    pub token: Token,
    /// Its decoded header and claims (unverified: the key is the server's).
    pub claims: Claims,
    /// When it expires and how we know.
    pub expiry: Expiry,
}

/// Version information from `/api/system`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SystemInfo {
    /// `apiVersion`.
    pub api_version: Option<String>,
    /// `sdkVersion`.
    pub sdk_version: Option<String>,
    /// `update`.
    pub update: Option<i64>,
    /// `culture.name`.
    pub culture: Option<String>,
}

/// An HTTP client for Act! servers. Cheap to clone; one per transport setting.
#[derive(Debug, Clone)]
pub struct ActClient {
    http: reqwest::Client,
    /// The proxy every request goes through, when the options named one: a connection
    /// refused or a name not found is then the proxy's, not the server's.
    proxy: Option<String>,
    /// True when the standard proxy variables decide (no `proxy` key).
    env_proxy: bool,
    /// Built without a trust store, for `http://` only ([`ClientOptions::plain_http`]).
    plain_http: bool,
}

/// A response read in full (within [`BODY_CAP`]).
struct Raw {
    status: u16,
    reason: Option<String>,
    headers: HeaderMap,
    body: Vec<u8>,
}

/// Why reading a body stopped.
enum BodyError {
    /// Past [`BODY_CAP`]; how much was seen (or announced).
    TooLarge(u64),
    /// The connection failed mid-body.
    Transport(reqwest::Error),
}

/// Reads a body chunk by chunk, giving up as soon as it passes [`BODY_CAP`].
async fn read_capped(response: &mut reqwest::Response) -> Result<Vec<u8>, BodyError> {
    // A declared length past the cap needs no reading at all.
    if let Some(declared) = response
        .content_length()
        .filter(|len| *len > BODY_CAP as u64)
    {
        return Err(BodyError::TooLarge(declared));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if body.len() + chunk.len() > BODY_CAP {
            return Err(BodyError::TooLarge((body.len() + chunk.len()) as u64));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `Authorization: Basic base64(user:password)`, built by hand so that a `:` in the password
/// (allowed after the first character, ACT-API.md) and spaces or `@` in the user name go
/// through byte for byte. A `:` in the user name cannot be expressed in Basic at all.
fn basic_header(user: &str, password: &Secret) -> (HeaderValue, Zeroizing<String>) {
    use base64::Engine as _;

    let mut plain = Zeroizing::new(String::with_capacity(
        user.len() + password.expose().len() + 1,
    ));
    plain.push_str(user);
    plain.push(':');
    plain.push_str(password.expose());
    let encoded =
        Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(plain.as_bytes()));
    let mut text = Zeroizing::new(String::with_capacity(encoded.len() + 6));
    text.push_str("Basic ");
    text.push_str(&encoded);
    let mut value = HeaderValue::from_str(&text)
        .expect("invariant: 'Basic ' plus base64 is visible ASCII, a valid header value");
    value.set_sensitive(true);
    (value, encoded)
}

/// Hides every occurrence of the given secrets in `text`.
///
/// Details come from what the server sent; a server (or a gateway) may echo a header back.
/// Very short secrets are left alone: replacing two letters everywhere would garble the text
/// and reveal more than it hides.
fn scrub(text: &mut String, secrets: &[&str]) {
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        if text.contains(*secret) {
            *text = text.replace(*secret, "[hidden]");
        }
    }
}

/// Hides the given secrets in raw response bytes, before anything reads them for a detail.
///
/// Scrubbing the finished detail alone would miss a secret that sanitizing had reshaped
/// (whitespace collapsed, cut at the length limit).
fn scrub_bytes(body: &mut Vec<u8>, secrets: &[&str]) {
    for secret in secrets
        .iter()
        .map(|s| s.as_bytes())
        .filter(|s| s.len() >= 4)
    {
        if !body.windows(secret.len()).any(|w| w == secret) {
            continue;
        }
        let mut out = Vec::with_capacity(body.len());
        let mut i = 0;
        while i < body.len() {
            if body[i..].starts_with(secret) {
                out.extend_from_slice(b"[hidden]");
                i += secret.len();
            } else {
                out.push(body[i]);
                i += 1;
            }
        }
        *body = out;
    }
}

/// Scrubs an exchange's and a verdict's free text.
fn scrub_all(exchange: &mut Exchange, extra: Option<&mut Verdict>, secrets: &[&str]) {
    if let Some(detail) = exchange.verdict.detail.as_mut() {
        scrub(detail, secrets);
    }
    if let Some(reason) = exchange.reason.as_mut() {
        scrub(reason, secrets);
    }
    if let Some(detail) = extra.and_then(|v| v.detail.as_mut()) {
        scrub(detail, secrets);
    }
    let http = &mut exchange.detail;
    for (_, value) in http
        .request_headers
        .iter_mut()
        .chain(http.response_headers.iter_mut())
    {
        scrub(value, secrets);
    }
    if let Some(excerpt) = http.body_excerpt.as_mut() {
        scrub(excerpt, secrets);
    }
}

/// A JSON object's field, by name in any case.
fn field<'v>(
    map: &'v serde_json::Map<String, serde_json::Value>,
    name: &str,
) -> Option<&'v serde_json::Value> {
    map.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// A JSON value as text: strings as they are, numbers in their JSON form.
fn text_of(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl SystemInfo {
    /// Reads `/api/system`'s JSON (field names in any case); `None` unless it is a JSON object.
    pub fn from_json(body: &[u8]) -> Option<SystemInfo> {
        let value: serde_json::Value = serde_json::from_slice(body).ok()?;
        let map = value.as_object()?;
        let update = field(map, "update").and_then(|v| match v {
            serde_json::Value::Number(n) => n.as_i64(),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        });
        let culture = field(map, "culture").and_then(|c| match c {
            serde_json::Value::Object(culture) => field(culture, "name").and_then(text_of),
            other => text_of(other),
        });
        Some(SystemInfo {
            api_version: field(map, "apiVersion").and_then(text_of),
            sdk_version: field(map, "sdkVersion").and_then(text_of),
            update,
            culture,
        })
    }
}

impl ActClient {
    /// Builds a client (rustls, platform roots, the `User-Agent` naming actsm and its version).
    ///
    /// Redirects are not followed: a redirect from `/authorize` is nearly always to a login
    /// page or to another scheme, and following it would resend the credentials to wherever
    /// it points. The verdict shows where it pointed instead.
    ///
    /// TLS goes through the platform verifier (the OS trust store); `ca_file` adds its
    /// certificates to it rather than replacing it. `insecure_tls` turns verification off.
    /// Proxies: [`ProxyChoice::Environment`] leaves reqwest's reading of `HTTPS_PROXY`,
    /// `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` in place; the other two replace it.
    ///
    /// Fails, with a message naming the file and what to do, when `ca_file` cannot be read
    /// or holds no certificate; and when the proxy URL is unusable.
    pub fn new(options: &ClientOptions) -> anyhow::Result<Self> {
        // reqwest is built without a default crypto provider (feature `rustls-no-provider`).
        // Installing ring is idempotent: a second call returns Err because one is installed.
        let _ = rustls::crypto::ring::default_provider().install_default();

        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("actsm/", env!("CARGO_PKG_VERSION")))
            .timeout(options.timeout)
            .connect_timeout(options.connect_timeout)
            .redirect(reqwest::redirect::Policy::none());

        if let Some(path) = &options.ca_file {
            let der = read_ca_file(path).map_err(|e| anyhow::anyhow!(e))?;
            let mut certs = Vec::with_capacity(der.len());
            for cert in der {
                certs.push(reqwest::Certificate::from_der(&cert).map_err(|e| {
                    anyhow::anyhow!("the CA file {} is not usable: {e}", path.display())
                })?);
            }
            // Merged with the platform's roots (rustls-platform-verifier's extra roots).
            builder = builder.tls_certs_merge(certs);
        }
        if options.insecure_tls {
            builder = builder.tls_danger_accept_invalid_certs(true);
        }
        if options.plain_http && options.ca_file.is_none() && !options.insecure_tls {
            // No TLS will ever be spoken: an empty root store instead of the platform's.
            builder = builder.tls_certs_only([]);
        }
        let mut fixed_proxy = None;
        match &options.proxy {
            // hyper-util's `NO_PROXY=*` bypasses host names only, not IP addresses;
            // on-premises servers are often reached by address, so honour it here.
            ProxyChoice::Environment if no_proxy_everywhere() => builder = builder.no_proxy(),
            ProxyChoice::Environment => {}
            ProxyChoice::Direct => builder = builder.no_proxy(),
            ProxyChoice::Url(url) => {
                fixed_proxy = Some(url.clone());
                let proxy = reqwest::Proxy::all(url.as_str())
                    .map_err(|e| anyhow::anyhow!("the proxy '{url}' is not usable: {e}"))?;
                builder = builder.proxy(proxy);
            }
        }

        let http = builder
            .build()
            .map_err(|e| anyhow::anyhow!("building the HTTP client failed: {e}"))?;
        Ok(Self {
            http,
            plain_http: options.plain_http,
            proxy: fixed_proxy,
            env_proxy: options.proxy == ProxyChoice::Environment && !no_proxy_everywhere(),
        })
    }

    /// `GET {base}/authorize` with Basic credentials and `Act-Database-Name`.
    ///
    /// `assumed_lifetime` is used when the token has no `exp` claim.
    pub async fn authorize(
        &self,
        base: &str,
        database: &str,
        user: &str,
        password: &Secret,
        assumed_lifetime: Duration,
    ) -> (Exchange, Result<Issued, Verdict>) {
        let (auth, encoded) = basic_header(user, password);
        let (mut exchange, raw) = self
            .send(
                CallKind::Authorize,
                base,
                authorize_url,
                database,
                Some(auth),
                None,
            )
            .await;
        let base_secrets = [password.expose(), encoded.as_str()];
        let mut result = token_outcome(
            &mut exchange,
            raw,
            CallKind::Authorize,
            assumed_lifetime,
            &base_secrets,
        );

        scrub_token_call(&mut exchange, &mut result, &base_secrets);
        (exchange, result)
    }

    /// `GET {base}/authorize` with `Bearer {token}` and `Act-Database-Name`: a fresh token.
    /// A 401 here yields [`super::VerdictKind::TokenRejected`].
    pub async fn refresh(
        &self,
        base: &str,
        database: &str,
        token: &Token,
        assumed_lifetime: Duration,
    ) -> (Exchange, Result<Issued, Verdict>) {
        let text = Zeroizing::new(format!("Bearer {}", token.expose()));
        let Ok(mut auth) = HeaderValue::from_str(&text) else {
            let verdict = Verdict::new(
                VerdictKind::TokenRejected,
                "the stored token contains characters that cannot be sent in a header".to_owned(),
            );
            let url = normalize_base(base)
                .map(|b| authorize_url(&b))
                .unwrap_or_default();
            return (
                failed_exchange(CallKind::Refresh, &url, verdict.clone()),
                Err(verdict),
            );
        };
        auth.set_sensitive(true);

        let (mut exchange, raw) = self
            .send(
                CallKind::Refresh,
                base,
                authorize_url,
                database,
                Some(auth),
                None,
            )
            .await;
        let mut result = token_outcome(
            &mut exchange,
            raw,
            CallKind::Refresh,
            assumed_lifetime,
            &[token.expose()],
        );

        scrub_token_call(&mut exchange, &mut result, &[token.expose()]);
        (exchange, result)
    }

    /// `GET {base}/api/system` with `Accept: application/json`, anonymous.
    pub async fn system(
        &self,
        base: &str,
        database: &str,
    ) -> (Exchange, Result<SystemInfo, Verdict>) {
        let (mut exchange, raw) = self
            .send(
                CallKind::System,
                base,
                system_url,
                database,
                None,
                Some("application/json"),
            )
            .await;
        let Some(raw) = raw else {
            let verdict = exchange.verdict.clone();
            return (exchange, Err(verdict));
        };

        if raw.status == 200 {
            if let Some(info) = SystemInfo::from_json(&raw.body) {
                return (exchange, Ok(info));
            }
            exchange.verdict = Verdict::new(
                VerdictKind::NotAToken,
                format!(
                    "expected JSON, got {}",
                    describe_body(&raw.headers, &raw.body)
                ),
            );
        } else {
            exchange.detail.body_excerpt = body_excerpt(&raw.body);
            exchange.verdict = decode_response(
                CallKind::System,
                raw.status,
                raw.reason.as_deref(),
                &raw.headers,
                &raw.body,
            );
        }
        let verdict = exchange.verdict.clone();
        (exchange, Err(verdict))
    }

    /// Why this client will not send to `url`: a plain-HTTP client
    /// ([`ClientOptions::plain_http`]) asked for `https://`.
    /// [`ClientOptions::for_connection`] never pairs the two; without this check a mix-up
    /// would read as an untrusted certificate.
    fn refuses(&self, url: &str) -> Option<Verdict> {
        (self.plain_http && !is_plain_http(url)).then(|| {
            Verdict::new(
                VerdictKind::Transport,
                "this HTTP client was built for plain http:// only; \
                 please report this as a bug in actsm"
                    .to_owned(),
            )
        })
    }

    /// Sends one GET and reads the answer within [`BODY_CAP`].
    ///
    /// Returns the exchange (verdict already set for failures; `Ok` for a response read in
    /// full, which the caller then judges) and the response, when one was read.
    async fn send(
        &self,
        call: CallKind,
        base: &str,
        route: fn(&str) -> String,
        database: &str,
        auth: Option<HeaderValue>,
        accept: Option<&'static str>,
    ) -> (Exchange, Option<Raw>) {
        let started = Instant::now();
        let base = match normalize_base(base) {
            Ok(base) => base,
            Err(e) => {
                return (
                    failed_exchange(
                        call,
                        "",
                        Verdict::new(VerdictKind::Transport, e.to_string()),
                    ),
                    None,
                );
            }
        };
        let url = route(&base);
        let mut exchange = failed_exchange(call, &url, Verdict::ok());
        if let Some(verdict) = self.refuses(&url) {
            exchange.verdict = verdict;
            return (exchange, None);
        }

        let Ok(database_value) = HeaderValue::from_bytes(database.as_bytes()) else {
            exchange.verdict = Verdict::new(
                VerdictKind::Transport,
                format!(
                    "the database name '{}' contains characters that cannot be sent in a header",
                    sanitize(database, 60)
                ),
            );
            return (exchange, None);
        };

        let mut request = match self.http.get(&url).build() {
            Ok(request) => request,
            Err(e) => {
                exchange.verdict = decode_transport(&e);
                return (exchange, None);
            }
        };
        let headers = request.headers_mut();
        headers.insert(HeaderName::from_static(DATABASE_HEADER), database_value);
        if let Some(auth) = auth {
            headers.insert(AUTHORIZATION, auth);
        }
        if let Some(accept) = accept {
            headers.insert(ACCEPT, HeaderValue::from_static(accept));
        }
        exchange.detail.request_headers = redact_headers(headers);

        let mut response = match self.http.execute(request).await {
            Ok(response) => response,
            Err(e) => {
                exchange.verdict = self.blame_proxy(decode_transport(&e), &url);
                exchange.latency = started.elapsed();
                exchange.at = Utc::now();
                return (exchange, None);
            }
        };

        let status = response.status().as_u16();
        // hyper keeps the reason phrase only when it differs from the standard one.
        let reason = response
            .extensions()
            .get::<hyper::ext::ReasonPhrase>()
            .map(|r| sanitize(&String::from_utf8_lossy(r.as_bytes()), 60))
            .filter(|r| !r.is_empty());
        let headers = response.headers().clone();
        exchange.detail.response_headers = redact_headers(&headers);
        let body = read_capped(&mut response).await;

        exchange.latency = started.elapsed();
        exchange.at = Utc::now();
        exchange.status = Some(status);
        exchange.reason.clone_from(&reason);
        exchange.meter = Meter::from_headers(&headers, exchange.at);
        exchange.retry_after = meter::retry_after(&headers, exchange.at);
        exchange.server_date = headers
            .get(DATE)
            .and_then(|d| d.to_str().ok())
            .and_then(|d| DateTime::parse_from_rfc2822(d.trim()).ok())
            .map(|d| d.with_timezone(&Utc));

        match body {
            Ok(body) => (
                exchange,
                Some(Raw {
                    status,
                    reason,
                    headers,
                    body,
                }),
            ),
            Err(BodyError::TooLarge(seen)) => {
                exchange.verdict = Verdict::new(
                    VerdictKind::BodyTooLarge,
                    format!("HTTP {status}, stopped reading past {seen} bytes (limit {BODY_CAP})"),
                );
                (exchange, None)
            }
            Err(BodyError::Transport(e)) => {
                exchange.verdict = decode_transport(&e);
                (exchange, None)
            }
        }
    }
}

impl ActClient {
    /// With a fixed proxy every connection goes to the proxy, so "refused" or "no such
    /// host" before any answer are about the proxy: say so, rather than blame the server.
    fn blame_proxy(&self, verdict: Verdict, url: &str) -> Verdict {
        if !matches!(verdict.kind, VerdictKind::Refused | VerdictKind::Dns) {
            return verdict;
        }
        let detail = verdict.detail.as_deref().unwrap_or("no detail");
        if let Some(proxy) = &self.proxy {
            return Verdict::new(
                VerdictKind::Proxy,
                Some(format!(
                    "cannot reach the proxy {proxy} (this connection's `proxy` setting): {detail}"
                )),
            );
        }
        if self.env_proxy
            && let Some((variable, proxy)) = env_proxy_for(url)
        {
            return Verdict::new(
                VerdictKind::Proxy,
                Some(format!(
                    "cannot reach the proxy {proxy} (from {variable}; add the server to NO_PROXY \
                     or set proxy = \"none\" on this connection to go direct): {detail}"
                )),
            );
        }
        verdict
    }
}

/// Reads a proxy variable, upper case first (as reqwest does), ignoring empty values.
fn proxy_var(name: &str) -> Option<(String, String)> {
    [name.to_ascii_uppercase(), name.to_ascii_lowercase()]
        .into_iter()
        .find_map(|var| {
            let value = std::env::var(&var).ok()?;
            (!value.trim().is_empty()).then_some((var, value))
        })
}

/// True when `NO_PROXY` is `*`: no request goes through a proxy from the environment.
fn no_proxy_everywhere() -> bool {
    proxy_var("no_proxy").is_some_and(|(_, v)| v.trim() == "*")
}

/// The environment proxy a request to `url` goes through, by the usual rules
/// (`HTTPS_PROXY` or `HTTP_PROXY` by scheme, then `ALL_PROXY`; a `NO_PROXY`
/// entry equal to the host or a domain suffix of it bypasses), with any
/// password in it hidden. Used to name the proxy in a verdict, not to route.
fn env_proxy_for(url: &str) -> Option<(String, String)> {
    let url = reqwest::Url::parse(url).ok()?;
    let host = url
        .host_str()?
        .trim_matches(['[', ']'])
        .to_ascii_lowercase();
    if let Some((_, list)) = proxy_var("no_proxy") {
        let bypassed = list.split(',').map(str::trim).any(|entry| {
            let entry = entry.trim_start_matches('*').trim_start_matches('.');
            let entry = entry.to_ascii_lowercase();
            entry == "*"
                || (!entry.is_empty() && (host == entry || host.ends_with(&format!(".{entry}"))))
        });
        if bypassed {
            return None;
        }
    }
    let by_scheme = if url.scheme() == "https" {
        "https_proxy"
    } else {
        "http_proxy"
    };
    let (variable, value) = proxy_var(by_scheme).or_else(|| proxy_var("all_proxy"))?;
    Some((variable, crate::config::redact_userinfo(&value)))
}

/// An exchange that failed before any request was sent.
fn failed_exchange(call: CallKind, url: &str, verdict: Verdict) -> Exchange {
    Exchange {
        call,
        url: url.to_owned(),
        status: None,
        reason: None,
        latency: Duration::ZERO,
        verdict,
        meter: None,
        server_date: None,
        retry_after: None,
        at: Utc::now(),
        detail: HttpDetail {
            method: "GET".to_owned(),
            ..HttpDetail::default()
        },
    }
}

/// Scrubs an authorize or refresh outcome of the credentials sent and of the
/// token issued, should an error detail have echoed any of them.
fn scrub_token_call(exchange: &mut Exchange, result: &mut Result<Issued, Verdict>, sent: &[&str]) {
    let issued = result
        .as_ref()
        .ok()
        .map(|i| Zeroizing::new(i.token.expose().to_owned()));
    let mut secrets = sent.to_vec();
    if let Some(token) = issued.as_deref() {
        secrets.push(token);
    }
    scrub_all(exchange, result.as_mut().err(), &secrets);
}

/// How far a token's `iat` may lie after the server's `Date` before it is refused:
/// `Date` has one-second resolution and the two may be read a moment apart.
const IAT_TOLERANCE: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

/// [`VerdictKind::IssuedInFuture`] when the token's `iat` lies more than
/// [`IAT_TOLERANCE`] after `server_now` (the server's `Date`, else our clock).
fn issued_in_future(claims: &Claims, server_now: DateTime<Utc>) -> Option<Verdict> {
    let iat = DateTime::from_timestamp(claims.iat?, 0)?;
    (iat > server_now + IAT_TOLERANCE).then(|| {
        Verdict::new(
            VerdictKind::IssuedInFuture,
            format!(
                "iat {} is {}s after the server's time {}",
                iat.to_rfc3339(),
                (iat - server_now).num_seconds(),
                server_now.to_rfc3339()
            ),
        )
    })
}

/// Judges an `/authorize` answer: 200 with a JWT is a token, everything else a verdict.
/// How far the `Date` header and the token's `iat` may disagree before one
/// of them is taken to be wrong.
const DATE_AGREEMENT: TimeDelta = TimeDelta::minutes(5);

/// Drops a `Date` header that neither the token nor our clock agrees with.
///
/// A server whose clock is off issues tokens on that same clock, so `Date`
/// and `iat` agree and the token is judged by them. When instead `iat` agrees
/// with our clock and `Date` with nothing (a proxy rewriting it, a broken
/// front end sending 1970), `Date` is the odd one out: believing it would
/// call a good token expired or not yet issued.
fn distrust_absurd_date(exchange: &mut Exchange, iat: Option<i64>) {
    let (Some(date), Some(iat)) = (
        exchange.server_date,
        iat.and_then(|s| DateTime::from_timestamp(s, 0)),
    ) else {
        return;
    };
    let near = |a: DateTime<Utc>, b: DateTime<Utc>| (a - b).abs() <= DATE_AGREEMENT;
    if !near(date, iat) && near(iat, exchange.at) {
        tracing::warn!(
            url = %exchange.url,
            date = %date.to_rfc3339(),
            "ignoring the server's Date header: the token's iat and this machine's clock agree and it does not"
        );
        exchange.server_date = None;
    }
}

fn token_outcome(
    exchange: &mut Exchange,
    raw: Option<Raw>,
    call: CallKind,
    assumed_lifetime: Duration,
    secrets: &[&str],
) -> Result<Issued, Verdict> {
    let Some(mut raw) = raw else {
        return Err(exchange.verdict.clone());
    };

    if raw.status == 200 {
        let found = std::str::from_utf8(&raw.body)
            .ok()
            .and_then(jwt::extract_token);
        if let Some(text) = found {
            let text = Zeroizing::new(text);
            if let Ok(claims) = jwt::decode(&text) {
                let expiry = Expiry::from_claims(&claims, exchange.at, assumed_lifetime);
                distrust_absurd_date(exchange, claims.iat);

                // Judge by the server's clock when it sent one: a skewed client
                // clock must not reject a good token, nor accept a dead one.
                let server_now = exchange.server_date.unwrap_or(exchange.at);
                if expiry.source == ExpirySource::Claim && expiry.expires_at <= server_now {
                    exchange.verdict = Verdict::new(
                        VerdictKind::ExpiredOnArrival,
                        format!(
                            "exp {} is not after the server's time {}",
                            expiry.expires_at.to_rfc3339(),
                            server_now.to_rfc3339()
                        ),
                    );
                    return Err(exchange.verdict.clone());
                }
                if let Some(verdict) = issued_in_future(&claims, server_now) {
                    exchange.verdict = verdict;
                    return Err(exchange.verdict.clone());
                }
                exchange.verdict = Verdict::ok();
                return Ok(Issued {
                    token: Token::new(text.to_string()),
                    claims,
                    expiry,
                });
            }
        }
    }

    scrub_bytes(&mut raw.body, secrets);
    exchange.detail.body_excerpt = body_excerpt(&raw.body);
    exchange.verdict = decode_response(
        call,
        raw.status,
        raw.reason.as_deref(),
        &raw.headers,
        &raw.body,
    );
    Err(exchange.verdict.clone())
}

#[cfg(test)]
mod detail_tests {
    use super::*;

    #[test]
    fn authorization_keeps_its_scheme_only() {
        let basic = redact_header("Authorization", b"Basic amRvZTpTdXAzclNlY3JldA==");
        assert_eq!(basic, ("authorization".to_owned(), "Basic ***".to_owned()));
        let bearer = redact_header("authorization", b"Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig");
        assert_eq!(bearer.1, "Bearer ***");
        assert_eq!(
            redact_header("Proxy-Authorization", b"weird").1,
            "weird ***"
        );
    }

    #[test]
    fn cookies_keep_their_names_only() {
        let (_, value) = redact_header(
            "Set-Cookie",
            b"ASP.NET_SessionId=abc123secret; path=/; HttpOnly",
        );
        assert_eq!(value, "ASP.NET_SessionId=***; path=***");
        assert!(!value.contains("abc123secret"));
    }

    #[test]
    fn token_like_names_and_values_are_hidden_and_the_database_shown() {
        assert_eq!(redact_header("X-Api-Key", b"1234").1, "***");
        assert_eq!(redact_header("X-Session-Token", b"abcd").1, "***");
        assert_eq!(redact_header("Act-Database-Name", b"Acme DB").1, "Acme DB");
        let jwt = b"see eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl here";
        let (_, value) = redact_header("X-Debug", jwt);
        assert!(!value.contains("eyJ"), "{value}");
        assert_eq!(redact_header("Content-Type", b"text/html").1, "text/html");
    }

    #[test]
    fn a_body_excerpt_is_short_sanitized_and_masks_a_jwt() {
        let mut body =
            b"error: token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl was \x07 bad "
                .to_vec();
        body.extend(std::iter::repeat_n(b'x', 5000));
        let excerpt = body_excerpt(&body).expect("text");
        assert!(excerpt.len() <= DETAIL_EXCERPT_MAX);
        assert!(!excerpt.contains("eyJ"));
        assert!(!excerpt.contains('\x07'));
        assert!(
            excerpt.starts_with("error: token [hidden] was bad"),
            "{excerpt}"
        );
        assert_eq!(body_excerpt(b"   "), None);
    }

    #[test]
    fn headers_are_capped() {
        let mut map = HeaderMap::new();
        for n in 0..100 {
            map.insert(
                HeaderName::from_bytes(format!("x-h{n}").as_bytes()).expect("valid name"),
                HeaderValue::from_static("v"),
            );
        }
        assert_eq!(redact_headers(&map).len(), DETAIL_HEADER_CAP);
    }
}
