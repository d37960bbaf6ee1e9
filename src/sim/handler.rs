//! Request handling: one fallback handler that routes by lower-cased path,
//! because IIS ignores path case and axum's router does not.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::header::{ACCEPT, ALLOW, AUTHORIZATION, CONTENT_TYPE, DATE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::config::{FAULT_RESET_SECS, FAULT_SHIFT_SECS, Scenario, SimConfig, SimUser};
use super::conn::ConnHandle;
use super::state::{RateReading, Shared, lock};
use super::token::Shape;
use crate::secret::{Secret, Token};

/// The header naming the Act! database.
const DATABASE_HEADER: &str = "act-database-name";

/// `Retry-After` seconds of the [`Scenario::Throttled`] answer.
const THROTTLED_RETRY_AFTER: u64 = 30;

/// Size of the [`Scenario::HugeBody`] answer: 160 chunks of 64 KiB, 10 MiB.
const HUGE_CHUNK: usize = 64 * 1024;
const HUGE_CHUNKS: usize = 160;

/// One chunk of the huge body; static so the 10 MiB are never held at once.
static HUGE_FILLER: [u8; HUGE_CHUNK] = [b'A'; HUGE_CHUNK];

const HTML: &str = "text/html; charset=utf-8";
const JSON: &str = "application/json; charset=utf-8";

/// Where a request path leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    /// `{base}/`: the help page. Holds the cloud customer segment, if any.
    Help(Option<String>),
    /// `{base}/authorize`.
    Authorize,
    /// `{base}/api/system`.
    System,
    /// Anything else.
    NotFound,
}

/// Maps a request path to a route, ignoring case and one trailing slash.
///
/// The base is `/act.web.api` (on-premises) or `/{customer}-api/act.web.api` (cloud).
pub(crate) fn route(path: &str) -> Route {
    let lower = path.to_ascii_lowercase();
    let mut segments: Vec<&str> = lower.trim_start_matches('/').split('/').collect();
    if segments.len() > 1 && segments.last() == Some(&"") {
        segments.pop();
    }

    let (customer, rest) = match segments.as_slice() {
        ["act.web.api", rest @ ..] => (None, rest),
        [customer, "act.web.api", rest @ ..]
            if customer.len() > "-api".len() && customer.ends_with("-api") =>
        {
            (Some((*customer).to_owned()), rest)
        }
        _ => return Route::NotFound,
    };
    match rest {
        [] => Route::Help(customer),
        ["authorize"] => Route::Authorize,
        ["api", "system"] => Route::System,
        _ => Route::NotFound,
    }
}

/// What the client presented in `Authorization`.
enum Credentials {
    Basic {
        user: String,
        password: Secret,
    },
    Bearer(Token),
    /// Missing, malformed or another scheme.
    Absent,
}

fn credentials(headers: &HeaderMap) -> Credentials {
    let Some(value) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return Credentials::Absent;
    };
    let Some((scheme, rest)) = value.trim().split_once(' ') else {
        return Credentials::Absent;
    };
    let rest = rest.trim();

    if scheme.eq_ignore_ascii_case("basic") {
        let Some(decoded) = STANDARD
            .decode(rest)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
        else {
            return Credentials::Absent;
        };
        let decoded = Secret::new(decoded);
        // The first ':' ends the user name; later ones belong to the password.
        return match decoded.expose().split_once(':') {
            Some((user, password)) => Credentials::Basic {
                user: user.to_owned(),
                password: Secret::from(password),
            },
            None => Credentials::Absent,
        };
    }
    if scheme.eq_ignore_ascii_case("bearer") && !rest.is_empty() {
        return Credentials::Bearer(Token::new(rest.to_owned()));
    }
    Credentials::Absent
}

fn database_header(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(DATABASE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// How a response reaches the client: the fault scenarios bend this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Delivery {
    /// At once.
    Now,
    /// After a delay.
    After(Duration),
    /// Never: the request waits until the simulator shuts down.
    Hang,
    /// The connection is reset instead.
    Reset,
}

/// A response plus what the log line and counters need to know about it.
struct Outcome {
    response: Response,
    /// The database the call concerned, as configured (known databases only).
    database: Option<String>,
    /// The user name presented or identified.
    user: Option<String>,
    /// How the response is delivered.
    delivery: Delivery,
    /// Seconds added to the `Date` header (a server whose clock runs ahead).
    date_shift: i64,
}

impl Outcome {
    fn new(response: Response) -> Self {
        Self {
            response,
            database: None,
            user: None,
            delivery: Delivery::Now,
            date_shift: 0,
        }
    }

    /// An outcome for `database` and `user`, with `response` delivered at once.
    fn about(response: Response, database: Option<String>, user: Option<String>) -> Self {
        Self {
            database,
            user,
            ..Self::new(response)
        }
    }

    /// Takes over an answer's response and its way of delivery.
    fn answered(&mut self, answer: Answer, reading: Option<RateReading>) {
        self.response = with_rate(answer.response, reading);
        self.delivery = answer.delivery;
        self.date_shift = answer.date_shift;
    }
}

/// What a scenario answers: the response, whether it issued a token, how it is delivered.
struct Answer {
    response: Response,
    issued: bool,
    delivery: Delivery,
    date_shift: i64,
}

impl Answer {
    fn now(response: Response, issued: bool) -> Self {
        Self {
            response,
            issued,
            delivery: Delivery::Now,
            date_shift: 0,
        }
    }
}

/// The one handler: routes, answers, stamps `Date`, counts and logs.
pub(crate) async fn dispatch(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<ConnHandle>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let path = uri.path();
    let is_get = method == Method::GET;
    let outcome = match route(path) {
        Route::NotFound => Outcome::new(not_found()),
        Route::Help(customer) if is_get || method == Method::HEAD => {
            Outcome::new(help_page(customer.as_deref()))
        }
        Route::Authorize if is_get => authorize(&shared, &headers),
        Route::System if is_get => system(&shared, &headers),
        Route::Help(_) | Route::Authorize | Route::System => {
            Outcome::new(method_not_allowed(&method))
        }
    };

    let Outcome {
        mut response,
        database,
        user,
        delivery,
        date_shift,
    } = outcome;
    {
        let mut stats = lock(&shared.stats);
        stats.total += 1;
        if let Some(db) = &database {
            *stats.per_database.entry(db.clone()).or_default() += 1;
        }
    }

    // The server's clock travels in `Date`; it must be the simulated one.
    let date = (shared.now_utc() + chrono::Duration::seconds(date_shift))
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    if let Ok(value) = HeaderValue::from_str(&date) {
        response.headers_mut().insert(DATE, value);
    }

    tracing::info!(
        target: "actsm::sim",
        method = %method,
        path,
        database = database.as_deref().unwrap_or("-"),
        user = user.as_deref().unwrap_or("-"),
        status = response.status().as_u16(),
        delivery = ?delivery,
        "sim request"
    );

    match delivery {
        Delivery::Now => {}
        Delivery::After(delay) => {
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = shared.stop.cancelled() => conn.kill(),
            }
        }
        Delivery::Hang => {
            shared.stop.cancelled().await;
            conn.kill();
        }
        Delivery::Reset => conn.kill(),
    }
    response
}

/// `GET {base}/authorize`, Basic or Bearer.
fn authorize(shared: &Shared, headers: &HeaderMap) -> Outcome {
    let now = shared.now();
    let db_header = database_header(headers);
    let config = lock(&shared.config);

    let (outcome, issued) = match credentials(headers) {
        Credentials::Basic { user, password } => {
            lock(&shared.stats).authorize_basic += 1;
            authorize_basic(shared, &config, db_header, user, &password, now)
        }
        Credentials::Bearer(token) => {
            lock(&shared.stats).authorize_bearer += 1;
            authorize_bearer(shared, &config, db_header, &token, now)
        }
        Credentials::Absent => {
            let database = db_header
                .and_then(|d| config.database_name(d))
                .map(std::borrow::Cow::into_owned);
            (Outcome::about(unauthorized(), database, None), false)
        }
    };

    if !issued {
        lock(&shared.stats).rejected += 1;
    }
    outcome
}

/// Basic: database header, user, password, then the user's scenario.
fn authorize_basic(
    shared: &Shared,
    config: &SimConfig,
    db_header: Option<&str>,
    user: String,
    password: &Secret,
    now: i64,
) -> (Outcome, bool) {
    let Some(database) = db_header.and_then(|d| config.database_name(d)) else {
        return (Outcome::about(unauthorized(), None, Some(user)), false);
    };
    let account = config.login(&database, &user);
    let account = account.as_deref();
    let mut outcome = Outcome::about(unauthorized(), Some(database.into_owned()), Some(user));

    // A known login name is metered even when its password is wrong: the call still cost.
    let reading = account.and_then(|a| meter(shared, config, a, now));
    if let Some(r) = reading.filter(|r| r.exhausted) {
        outcome.response = with_rate(rate_exhausted(r, now), Some(r));
        return (outcome, false);
    }

    let Some(account) = account.filter(|a| a.password == password.expose()) else {
        outcome.response = with_rate(unauthorized(), reading);
        return (outcome, false);
    };
    let answer = answer(shared, config, account, now);
    let issued = answer.issued;
    outcome.answered(answer, reading);
    (outcome, issued)
}

/// Bearer: a live token from this server, matching database header if sent.
fn authorize_bearer(
    shared: &Shared,
    config: &SimConfig,
    db_header: Option<&str>,
    token: &Token,
    now: i64,
) -> (Outcome, bool) {
    let holder = lock(&shared.mint).verify(token.expose(), now);
    let Some(holder) = holder else {
        let database = db_header
            .and_then(|d| config.database_name(d))
            .map(std::borrow::Cow::into_owned);
        return (Outcome::about(unauthorized(), database, None), false);
    };
    let mut outcome = Outcome::about(
        unauthorized(),
        Some(holder.database.clone()),
        Some(holder.user.clone()),
    );
    if db_header.is_some_and(|d| !d.eq_ignore_ascii_case(&holder.database)) {
        return (outcome, false);
    }
    // The login may have been removed since the token was issued.
    let Some(account) = config.login(&holder.database, &holder.user) else {
        return (outcome, false);
    };

    let reading = meter(shared, config, &account, now);
    if let Some(r) = reading.filter(|r| r.exhausted) {
        outcome.response = with_rate(rate_exhausted(r, now), Some(r));
        return (outcome, false);
    }
    let answer = answer(shared, config, &account, now);
    let issued = answer.issued;
    if issued && config.revoke_on_refresh {
        lock(&shared.mint).revoke(&holder.jti);
    }
    outcome.answered(answer, reading);
    (outcome, issued)
}

/// Counts the call against the user's window, if the user is metered.
fn meter(shared: &Shared, config: &SimConfig, user: &SimUser, now: i64) -> Option<RateReading> {
    let limit = config.rate_limit_for(user)?;
    Some(shared.meter(&user.database, &user.user, limit, now))
}

/// A 200 carrying a token of `shape` for `user`.
fn token_response(shared: &Shared, user: &SimUser, shape: Shape) -> Response {
    let token = lock(&shared.mint).issue_shaped(&user.database, &user.user, shape);
    // Act! sends the bare token, labelled as HTML.
    (StatusCode::OK, [(CONTENT_TYPE, HTML)], token).into_response()
}

/// The user's token lifetime in seconds.
fn lifetime_secs(config: &SimConfig, user: &SimUser) -> i64 {
    i64::try_from(config.lifetime_for(user).as_secs()).unwrap_or(i64::MAX)
}

/// The answer for an authenticated user: their scenario.
fn answer(shared: &Shared, config: &SimConfig, user: &SimUser, now: i64) -> Answer {
    let healthy = Shape::healthy(now, lifetime_secs(config, user));
    match user.scenario {
        Scenario::Healthy => Answer::now(token_response(shared, user, healthy), true),
        Scenario::Incompatible4030 => Answer::now(
            asp_error(
                StatusCode::FORBIDDEN,
                "4030: Incompatibility issue with Act!.",
                "4030: The Act! Web API version is not compatible with the installed version \
                 of Act!. Install the Web API that matches your Act! update.",
                "Act.Web.Api.Exceptions.ActIncompatibleException",
            ),
            false,
        ),
        Scenario::Subscription4031 => Answer::now(
            asp_error(
                StatusCode::FORBIDDEN,
                "4031: Subscription required.",
                "4031: The Act! subscription for this database does not include access to \
                 the Act! Web API.",
                "Act.Web.Api.Exceptions.SubscriptionRequiredException",
            ),
            false,
        ),
        Scenario::ApiAccess4032 => Answer::now(
            asp_error(
                StatusCode::FORBIDDEN,
                "4032: API access permission required.",
                "4032: The user does not have the Web API Access permission. An Act! \
                 administrator can grant it in Manage Users.",
                "Act.Web.Api.Exceptions.ApiAccessPermissionException",
            ),
            false,
        ),
        Scenario::GatewayForbidden => Answer::now(gateway_forbidden(), false),
        Scenario::Throttled => Answer::now(throttled(Some(THROTTLED_RETRY_AFTER), None), false),
        Scenario::ServerError => Answer::now(
            asp_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "An error has occurred.",
                "Object reference not set to an instance of an object.",
                "System.NullReferenceException",
            ),
            false,
        ),
        Scenario::NotAToken => Answer::now(
            (StatusCode::OK, [(CONTENT_TYPE, HTML)], LOGIN_PAGE).into_response(),
            false,
        ),
        _ => fault_answer(shared, config, user, now),
    }
}

/// The answer of a fault scenario (see [`Scenario::is_fault`]).
fn fault_answer(shared: &Shared, config: &SimConfig, user: &SimUser, now: i64) -> Answer {
    let lifetime = lifetime_secs(config, user);
    let mint = |shape: Shape| token_response(shared, user, shape);
    let healthy = Shape::healthy(now, lifetime);

    match user.scenario {
        Scenario::Hang => Answer {
            delivery: Delivery::Hang,
            ..Answer::now(StatusCode::SERVICE_UNAVAILABLE.into_response(), false)
        },
        Scenario::Slow(delay) => Answer {
            delivery: Delivery::After(delay),
            ..Answer::now(mint(healthy), true)
        },
        Scenario::Reset => Answer {
            delivery: Delivery::Reset,
            ..Answer::now(StatusCode::SERVICE_UNAVAILABLE.into_response(), false)
        },
        Scenario::HugeBody => Answer::now(huge_body(), false),
        Scenario::NoExp => Answer::now(
            mint(Shape {
                exp: None,
                ..healthy
            }),
            true,
        ),
        Scenario::Expired => {
            let exp = now - 60;
            let shape = Shape {
                iat: exp.saturating_sub(lifetime),
                exp: Some(exp),
                valid_until: exp,
                revoke_at: None,
            };
            Answer::now(mint(shape), true)
        }
        Scenario::FutureIat => {
            let iat = now + FAULT_SHIFT_SECS;
            Answer::now(mint(Shape::healthy(iat, lifetime)), true)
        }
        Scenario::SkewedDate => Answer {
            date_shift: FAULT_SHIFT_SECS,
            ..Answer::now(mint(Shape::healthy(now + FAULT_SHIFT_SECS, lifetime)), true)
        },
        Scenario::BadRateHeaders => {
            let mut response = mint(healthy);
            let headers = response.headers_mut();
            for (name, value) in [
                ("x-ratelimit-limit", "unlimited"),
                ("x-ratelimit-remaining", "n/a"),
                ("x-ratelimit-reset", "soon"),
            ] {
                headers.insert(
                    HeaderName::from_static(name),
                    HeaderValue::from_static(value),
                );
            }
            Answer::now(response, true)
        }
        Scenario::ResetSeconds
        | Scenario::ResetEpoch
        | Scenario::ResetEpochMs
        | Scenario::ResetHttpDate
        | Scenario::ResetRfc3339 => Answer::now(reset_form(user.scenario, now), false),
        Scenario::ThrottledNoRetryAfter => Answer::now(throttled(None, None), false),
        Scenario::DropEarly => {
            let shape = Shape {
                revoke_at: Some(now + (lifetime / 4).max(1)),
                ..healthy
            };
            Answer::now(mint(shape), true)
        }
        // The answering scenarios are handled by `answer`, which sends only faults here.
        _ => Answer::now(mint(healthy), true),
    }
}

/// 200 with 10 MiB of filler, streamed in chunks with no `Content-Length`,
/// so a client learns the size only by reading.
fn huge_body() -> Response {
    let chunks = futures::stream::iter(
        (0..HUGE_CHUNKS).map(|_| Ok::<_, Infallible>(Bytes::from_static(&HUGE_FILLER))),
    );
    (
        StatusCode::OK,
        [(CONTENT_TYPE, HTML)],
        Body::from_stream(chunks),
    )
        .into_response()
}

/// 429 without `Retry-After`, whose `X-RateLimit-Reset` (in the form the
/// scenario names) lies [`FAULT_RESET_SECS`] after `now`.
fn reset_form(scenario: Scenario, now: i64) -> Response {
    let reset = now + FAULT_RESET_SECS;
    let at = chrono::DateTime::from_timestamp(reset, 0).unwrap_or_default();
    let value = match scenario {
        Scenario::ResetSeconds => FAULT_RESET_SECS.to_string(),
        Scenario::ResetEpochMs => (reset * 1000).to_string(),
        Scenario::ResetHttpDate => at.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
        Scenario::ResetRfc3339 => at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        _ => reset.to_string(),
    };
    let mut response = throttled(None, Some(60));
    let headers = response.headers_mut();
    headers.insert(
        HeaderName::from_static("x-ratelimit-limit"),
        HeaderValue::from(60),
    );
    headers.insert(
        HeaderName::from_static("x-ratelimit-remaining"),
        HeaderValue::from(0),
    );
    if let Ok(value) = HeaderValue::from_str(&value) {
        headers.insert(HeaderName::from_static("x-ratelimit-reset"), value);
    }
    response
}

/// `GET {base}/api/system`: anonymous; metered when the caller can be identified.
fn system(shared: &Shared, headers: &HeaderMap) -> Outcome {
    let now = shared.now();
    lock(&shared.stats).system += 1;
    let config = lock(&shared.config);

    // Identify the caller only to meter: a live token, or a known login name.
    let account = match credentials(headers) {
        Credentials::Bearer(token) => {
            let holder = lock(&shared.mint).verify(token.expose(), now);
            holder.and_then(|h| config.login(&h.database, &h.user))
        }
        Credentials::Basic { user, .. } => {
            database_header(headers).and_then(|db| config.login(db, &user))
        }
        Credentials::Absent => None,
    };
    let reading = account
        .as_deref()
        .and_then(|a| meter(shared, &config, a, now));
    let database = account.as_ref().map(|a| a.database.clone()).or_else(|| {
        database_header(headers)
            .and_then(|d| config.database_name(d))
            .map(std::borrow::Cow::into_owned)
    });
    let user = account.as_ref().map(|a| a.user.clone());

    if let Some(r) = reading.filter(|r| r.exhausted) {
        return Outcome::about(with_rate(rate_exhausted(r, now), Some(r)), database, user);
    }

    let wants_json = headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("json"));
    let response = if wants_json {
        (
            StatusCode::OK,
            [(CONTENT_TYPE, JSON)],
            system_json().to_string(),
        )
            .into_response()
    } else {
        (
            StatusCode::OK,
            [(CONTENT_TYPE, "application/xml; charset=utf-8")],
            SYSTEM_XML,
        )
            .into_response()
    };
    Outcome::about(with_rate(response, reading), database, user)
}

/// The version document of an on-premises Act! 24.0 Update 8.
fn system_json() -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "1.1.524.0",
        "sdkVersion": "24.0.0.0",
        "update": 8,
        "culture": {
            "name": "en-US",
            "displayName": "English (United States)",
            "shortDatePattern": "M/d/yyyy",
            "longDatePattern": "dddd, MMMM d, yyyy",
            "shortTimePattern": "h:mm tt",
            "longTimePattern": "h:mm:ss tt",
            "firstDayOfWeek": 0,
            "currencySymbol": "$",
            "decimalSeparator": ".",
            "groupSeparator": ","
        }
    })
}

const SYSTEM_XML: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<SystemInfo xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><ApiVersion>1.1.524.0</ApiVersion><SdkVersion>24.0.0.0</SdkVersion><Update>8</Update><Culture><Name>en-US</Name><DisplayName>English (United States)</DisplayName><ShortDatePattern>M/d/yyyy</ShortDatePattern><LongDatePattern>dddd, MMMM d, yyyy</LongDatePattern></Culture></SystemInfo>"#;

const LOGIN_PAGE: &str = r#"<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Act! Premium - Log In</title></head>
<body>
<form method="post" action="/APFW/Login.aspx">
<h1>Welcome to Act! Premium</h1>
<label>User name <input name="username"></label>
<label>Password <input name="password" type="password"></label>
<button type="submit">Log In</button>
</form>
</body>
</html>
"#;

/// Act!'s answer to bad credentials: a bare 401, no body, no hint which part was wrong.
fn unauthorized() -> Response {
    StatusCode::UNAUTHORIZED.into_response()
}

/// An ASP.NET Web API error object.
fn asp_error(status: StatusCode, message: &str, exception: &str, exception_type: &str) -> Response {
    let body = serde_json::json!({
        "Message": message,
        "ExceptionMessage": exception,
        "ExceptionType": exception_type,
        "StackTrace": null,
    });
    (status, [(CONTENT_TYPE, JSON)], body.to_string()).into_response()
}

/// What a cloud API gateway in front of Act! says about an Authorization header it dislikes.
fn gateway_forbidden() -> Response {
    let body = serde_json::json!({
        "message": "Authorization header requires 'Credential' parameter. Authorization header \
                    requires 'Signature' parameter. Authorization header requires \
                    'SignedHeaders' parameter. Authorization header requires existence of \
                    either a 'X-Amz-Date' or a 'Date' header."
    });
    (
        StatusCode::FORBIDDEN,
        [
            (CONTENT_TYPE, "application/json"),
            (
                HeaderName::from_static("x-amzn-errortype"),
                "IncompleteSignatureException",
            ),
        ],
        body.to_string(),
    )
        .into_response()
}

/// 429, with `Retry-After` when given, worded like a common ASP.NET rate limiter.
fn throttled(retry_after: Option<u64>, limit: Option<u64>) -> Response {
    let body = match limit {
        Some(limit) => format!("API calls quota exceeded! maximum admitted {limit} per 1m."),
        None => "API calls quota exceeded! Please retry later.".to_owned(),
    };
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        [(CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response();
    if let Some(retry_after) = retry_after {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(retry_after));
    }
    response
}

/// 429 for a used-up window: retry when it resets.
fn rate_exhausted(reading: RateReading, now: i64) -> Response {
    let wait = u64::try_from(reading.reset - now).unwrap_or(0).max(1);
    throttled(Some(wait), Some(reading.limit))
}

/// Adds the `X-RateLimit-*` headers when the caller is metered.
fn with_rate(mut response: Response, reading: Option<RateReading>) -> Response {
    if let Some(r) = reading {
        let headers = response.headers_mut();
        headers.insert(
            HeaderName::from_static("x-ratelimit-limit"),
            HeaderValue::from(r.limit),
        );
        headers.insert(
            HeaderName::from_static("x-ratelimit-remaining"),
            HeaderValue::from(r.remaining),
        );
        headers.insert(
            HeaderName::from_static("x-ratelimit-reset"),
            HeaderValue::from(r.reset),
        );
    }
    response
}

/// IIS's 404 for a path it does not know.
fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(CONTENT_TYPE, HTML)],
        "<!DOCTYPE html><html><head><title>404 - File or directory not found.</title></head>\
         <body><h2>404 - File or directory not found.</h2>\
         <p>The resource you are looking for might have been removed, had its name changed, \
         or is temporarily unavailable.</p></body></html>",
    )
        .into_response()
}

/// ASP.NET Web API's answer to a method a route does not take.
fn method_not_allowed(method: &Method) -> Response {
    let body = serde_json::json!({
        "Message": format!("The requested resource does not support http method '{method}'.")
    });
    (
        StatusCode::METHOD_NOT_ALLOWED,
        [(CONTENT_TYPE, JSON), (ALLOW, "GET")],
        body.to_string(),
    )
        .into_response()
}

/// The help page at the base URL: a cheap reachability check, as on a real server.
fn help_page(customer: Option<&str>) -> Response {
    let base = match customer {
        Some(c) => format!("/{c}/act.web.api"),
        None => "/act.web.api".to_owned(),
    };
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">\
         <title>Act! Web API Help Page</title></head>\n<body>\n\
         <h1>Act! Web API</h1>\n\
         <p>This is the actsm simulator of the Act! Web API authorization routes.</p>\n\
         <ul>\n\
         <li><code>GET {base}/authorize</code> with <code>Authorization: Basic</code> and \
         <code>Act-Database-Name</code>: returns a token.</li>\n\
         <li><code>GET {base}/authorize</code> with <code>Authorization: Bearer</code>: \
         returns a new token.</li>\n\
         <li><code>GET {base}/api/system</code>: version information.</li>\n\
         </ul>\n</body>\n</html>\n"
    );
    (StatusCode::OK, [(CONTENT_TYPE, HTML)], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_ignore_case_and_know_the_cloud_base() {
        assert_eq!(route("/act.web.api/authorize"), Route::Authorize);
        assert_eq!(route("/Act.Web.API/Authorize"), Route::Authorize);
        assert_eq!(route("/act.web.api/authorize/"), Route::Authorize);
        assert_eq!(
            route("/BobsOldRed-API/act.web.api/api/System"),
            Route::System
        );
        assert_eq!(route("/act.web.api/"), Route::Help(None));
        assert_eq!(route("/act.web.api"), Route::Help(None));
        assert_eq!(
            route("/acme-api/act.web.api"),
            Route::Help(Some("acme-api".into()))
        );
        assert_eq!(route("/-api/act.web.api/authorize"), Route::NotFound);
        assert_eq!(route("/acme/act.web.api/authorize"), Route::NotFound);
        assert_eq!(route("/act.web.api/api/contacts"), Route::NotFound);
        assert_eq!(route("/"), Route::NotFound);
    }

    #[test]
    fn basic_credentials_split_at_the_first_colon() {
        let mut headers = HeaderMap::new();
        let encoded = STANDARD.encode("Jane Doe:pa:ss:word");
        headers.insert(
            AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {encoded}")).unwrap(),
        );
        match credentials(&headers) {
            Credentials::Basic { user, password } => {
                assert_eq!(user, "Jane Doe");
                assert_eq!(password.expose(), "pa:ss:word");
            }
            _ => panic!("expected Basic credentials"),
        }

        headers.insert(
            AUTHORIZATION,
            HeaderValue::from_static("Basic !!!not-base64"),
        );
        assert!(matches!(credentials(&headers), Credentials::Absent));
        headers.insert(AUTHORIZATION, HeaderValue::from_static("bearer a.b.c"));
        assert!(matches!(credentials(&headers), Credentials::Bearer(t) if t.expose() == "a.b.c"));
    }
}
