//! Verdicts: the decoded meaning of a response or a transport failure, with the
//! next step to take. One table holds every meaning; the TUI, the journal and
//! the command line all read it.

use reqwest::header::HeaderMap;

use super::CallKind;

/// What kind of outcome an exchange had. Each kind has one row in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictKind {
    /// 200 with a token (or `/api/system` answered).
    Ok,
    /// 401: wrong user, wrong password or unknown database (Act! does not say which).
    Unauthorized,
    /// 401 on a Bearer refresh: the token was refused (expired or revoked).
    TokenRejected,
    /// 403 from Act! itself, no Act! code: no permission.
    Forbidden,
    /// 403 from a gateway in front of Act! (JSON `message` about the Authorization header).
    GatewayForbidden,
    /// 403 from IIS (IP restriction) or another front end.
    IisForbidden,
    /// 4030: incompatibility between the Web API and Act!.
    Incompatible,
    /// 4031: the subscription does not include API access.
    SubscriptionRequired,
    /// 4032: the user lacks the "Web API Access" permission.
    ApiAccessRequired,
    /// 404: wrong base path.
    NotFound,
    /// 429 or 503 with rate-limit signs: throttled.
    Throttled,
    /// 5xx: the server failed.
    ServerError,
    /// Another unexpected HTTP status.
    UnexpectedStatus,
    /// 200 whose body is not a JWT (a login page, a proxy page, ...).
    NotAToken,
    /// A response body larger than we accept.
    BodyTooLarge,
    /// The host name did not resolve.
    Dns,
    /// Nothing listens there: the connection was refused.
    Refused,
    /// No answer in time.
    Timeout,
    /// TLS failed (certificate expired, untrusted or for another name).
    Tls,
    /// A proxy refused or failed.
    Proxy,
    /// Another transport failure.
    Transport,
    /// The password could not be obtained from its source.
    Secret,
    /// A 200 with a token whose `exp` had already passed when it arrived.
    ExpiredOnArrival,
    /// A 200 with a token whose `iat` lies in the future by the server's own clock.
    IssuedInFuture,
    /// The connection was accepted, then reset or closed before a whole answer came.
    ConnectionDropped,
}

/// Broad classes of verdicts, for exit codes, colours and retry policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictClass {
    /// It worked.
    Ok,
    /// The server refused the credentials or the user's rights; retrying will not help.
    Refused,
    /// The server could not be reached or did not answer; retry with backoff.
    Unreachable,
    /// The server answered badly (5xx, not a token, wrong path); retry with backoff.
    ServerFault,
    /// Rate limited; wait for the reset.
    Throttled,
    /// Local problem (the secret source failed).
    Local,
}

/// A decoded outcome: its kind plus the specifics seen (reason phrase, message).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Verdict {
    /// Which row of the table.
    pub kind: VerdictKind,
    /// What was seen that led here: a reason phrase, an error message, a body
    /// excerpt. Never holds a secret.
    pub detail: Option<String>,
}

impl VerdictKind {
    /// Every kind, in table order.
    pub const ALL: [VerdictKind; 25] = [
        VerdictKind::Ok,
        VerdictKind::Unauthorized,
        VerdictKind::TokenRejected,
        VerdictKind::Forbidden,
        VerdictKind::GatewayForbidden,
        VerdictKind::IisForbidden,
        VerdictKind::Incompatible,
        VerdictKind::SubscriptionRequired,
        VerdictKind::ApiAccessRequired,
        VerdictKind::NotFound,
        VerdictKind::Throttled,
        VerdictKind::ServerError,
        VerdictKind::UnexpectedStatus,
        VerdictKind::NotAToken,
        VerdictKind::BodyTooLarge,
        VerdictKind::Dns,
        VerdictKind::Refused,
        VerdictKind::Timeout,
        VerdictKind::Tls,
        VerdictKind::Proxy,
        VerdictKind::Transport,
        VerdictKind::Secret,
        VerdictKind::ExpiredOnArrival,
        VerdictKind::IssuedInFuture,
        VerdictKind::ConnectionDropped,
    ];

    /// This kind's row of [`TABLE`].
    fn row(self) -> &'static Row {
        TABLE
            .iter()
            .find(|row| row.kind == self)
            .expect("TABLE has a row for every VerdictKind (checked by the table tests)")
    }

    /// Short label for lists and the journal, e.g. `"4032 API access"`.
    pub fn label(self) -> &'static str {
        self.row().label
    }

    /// What happened, in plain words.
    pub fn meaning(self) -> &'static str {
        self.row().meaning
    }

    /// What the user should do next.
    pub fn next_step(self) -> &'static str {
        self.row().next_step
    }

    /// The broad class (drives retry policy, colour and exit code).
    pub fn class(self) -> VerdictClass {
        self.row().class
    }
}

impl Verdict {
    /// The success verdict.
    pub fn ok() -> Self {
        Self {
            kind: VerdictKind::Ok,
            detail: None,
        }
    }

    /// A verdict of `kind` with what was seen.
    pub fn new(kind: VerdictKind, detail: impl Into<Option<String>>) -> Self {
        Self {
            kind,
            detail: detail.into(),
        }
    }

    /// One line for the journal and stderr: label, meaning, and the detail when there is one.
    pub fn summary(&self) -> String {
        match &self.detail {
            Some(detail) => format!("{}: {} ({detail})", self.kind.label(), self.kind.meaning()),
            None => format!("{}: {}", self.kind.label(), self.kind.meaning()),
        }
    }

    /// Shorthand for `self.kind.class()`.
    pub fn class(&self) -> VerdictClass {
        self.kind.class()
    }

    /// True for [`VerdictKind::Ok`].
    pub fn is_ok(&self) -> bool {
        self.kind == VerdictKind::Ok
    }
}

/// One row of the verdict table: a kind and everything said about it.
#[derive(Debug)]
pub struct Row {
    /// The kind this row describes.
    pub kind: VerdictKind,
    /// Short label (fits a 28-column list cell).
    pub label: &'static str,
    /// What happened, in plain words.
    pub meaning: &'static str,
    /// What to do next.
    pub next_step: &'static str,
    /// The broad class.
    pub class: VerdictClass,
}

/// The verdict table: the only place where meanings live (ACT-API.md, "Errors").
pub static TABLE: [Row; 25] = [
    Row {
        kind: VerdictKind::Ok,
        label: "ok",
        meaning: "The server answered as expected.",
        next_step: "Nothing to do.",
        class: VerdictClass::Ok,
    },
    Row {
        kind: VerdictKind::Unauthorized,
        label: "401 unauthorized",
        meaning: "Act! refused the login (401). Act! gives this same answer for a wrong user \
            name, a wrong password and an unknown database, and does not tell which of the \
            three is wrong.",
        next_step: "Check all three: the user name exactly as Act! knows it (sometimes a display \
            name with spaces, sometimes an e-mail address), the password, and the database \
            name. Logging in with them in Act! itself tells which one is off.",
        class: VerdictClass::Refused,
    },
    Row {
        kind: VerdictKind::TokenRejected,
        label: "401 token refused",
        meaning: "The server refused the current token on a Bearer refresh: it has expired, \
            was revoked, or the server was restarted.",
        next_step: "Authorize again with user name and password (actsm does this once by \
            itself); if that fails too, its own verdict says why.",
        class: VerdictClass::Refused,
    },
    Row {
        kind: VerdictKind::Forbidden,
        label: "403 forbidden (Act!)",
        meaning: "Act! accepted the login but answered 403 without an Act! code: this user has \
            no permission for the resource.",
        next_step: "Ask an Act! administrator to check this user's role and permissions in \
            Act! Manage Users, \"Web API Access\" included.",
        class: VerdictClass::Refused,
    },
    Row {
        kind: VerdictKind::GatewayForbidden,
        label: "403 from API gateway",
        meaning: "The 403 came from an API gateway in front of Act!, not from Act!: the call \
            never reached Act! (typically the Authorization header was missing or malformed, \
            or this path is not published by the gateway).",
        next_step: "Check the base URL (Cloud form https://server/customer-api/act.web.api) and \
            that no proxy between here and the server strips or rewrites the Authorization \
            header.",
        class: VerdictClass::Refused,
    },
    Row {
        kind: VerdictKind::IisForbidden,
        label: "403 from IIS",
        meaning: "The 403 came from the web server (IIS) in front of Act!, not from Act!: most \
            often an IP address restriction (IIS 403.6) or a denied directory.",
        next_step: "Ask the server's administrator to allow this machine's IP address for the \
            act.web.api site in IIS, or connect from an allowed network (VPN).",
        class: VerdictClass::Refused,
    },
    Row {
        kind: VerdictKind::Incompatible,
        label: "4030 incompatible",
        meaning: "Act! reported 4030: the Web API and the Act! installation do not match \
            (different versions or updates).",
        next_step: "Compare the versions with `actsm system` (apiVersion, sdkVersion, update) \
            against the Act! installation, and have the administrator install the matching \
            Web API or Act! update.",
        class: VerdictClass::Refused,
    },
    Row {
        kind: VerdictKind::SubscriptionRequired,
        label: "4031 subscription",
        meaning: "Act! reported 4031: the Act! subscription does not include, or no longer \
            includes, API access.",
        next_step: "Ask the Act! account owner to renew the subscription or move to a plan \
            that includes Web API access.",
        class: VerdictClass::Refused,
    },
    Row {
        kind: VerdictKind::ApiAccessRequired,
        label: "4032 API access",
        meaning: "Act! reported 4032: the login is valid but this Act! user lacks the \
            \"Web API Access\" permission.",
        next_step: "An Act! administrator grants \"Web API Access\" to this user in Act! \
            Manage Users; then try again.",
        class: VerdictClass::Refused,
    },
    Row {
        kind: VerdictKind::NotFound,
        label: "404 wrong base path",
        meaning: "Nothing answers at this path (404): the base URL is wrong.",
        next_step: "Fix the base URL: on-premises https://host/act.web.api, Act! Cloud \
            https://server/customer-api/act.web.api (the customer name from the browser login \
            URL, lower-cased, with -api appended).",
        class: VerdictClass::ServerFault,
    },
    Row {
        kind: VerdictKind::Throttled,
        label: "throttled",
        meaning: "The server is rate limiting this account (Act! Cloud allows a fixed number \
            of calls a minute).",
        next_step: "Wait for the reset shown in the meter; actsm pauses this connection until \
            then. If it keeps happening, reduce other API use on the same account.",
        class: VerdictClass::Throttled,
    },
    Row {
        kind: VerdictKind::ServerError,
        label: "5xx server error",
        meaning: "The server failed while handling the call (an error inside the Act! Web API, \
            IIS, or a proxy in front of it).",
        next_step: "actsm retries with backoff. If it persists, the Act! administrator should \
            check the Web API's logs and the Windows event log; the detail shows the server's \
            message.",
        class: VerdictClass::ServerFault,
    },
    Row {
        kind: VerdictKind::UnexpectedStatus,
        label: "unexpected status",
        meaning: "The server answered with a status the Act! auth protocol does not use for \
            this call.",
        next_step: "Check the base URL and whether a proxy or another service answers at that \
            address; the detail shows what came back.",
        class: VerdictClass::ServerFault,
    },
    Row {
        kind: VerdictKind::NotAToken,
        label: "200 but not a token",
        meaning: "The server answered 200, but not with what this call returns (a JWT from \
            /authorize, JSON from /api/system): something else answered, often a login page, \
            a proxy or captive-portal page, or a web site at the wrong path.",
        next_step: "Check that the base URL points at the Web API (it ends in act.web.api), \
            not at the Act! web client; open it in a browser to see what answers.",
        class: VerdictClass::ServerFault,
    },
    Row {
        kind: VerdictKind::BodyTooLarge,
        label: "response too large",
        meaning: "The response was larger than any Act! auth answer can be (64 KiB), so actsm \
            stopped reading: something other than the Act! Web API answered.",
        next_step: "Check the base URL; open it in a browser to see what answers there.",
        class: VerdictClass::ServerFault,
    },
    Row {
        kind: VerdictKind::Dns,
        label: "host not found (DNS)",
        meaning: "The host name in the base URL did not resolve to an address.",
        next_step: "Check the host name for typos; an internal name may need the VPN or the \
            company's DNS.",
        class: VerdictClass::Unreachable,
    },
    Row {
        kind: VerdictKind::Refused,
        label: "connection refused",
        meaning: "The host was reached but nothing accepted the connection on that port.",
        next_step: "Check the port and the scheme (http:// or https://) in the base URL, and \
            that IIS / the Act! web server is running.",
        class: VerdictClass::Unreachable,
    },
    Row {
        kind: VerdictKind::Timeout,
        label: "timed out",
        meaning: "No answer came within the timeout.",
        next_step: "Check that the server is up and reachable from here (firewall, VPN); a slow \
            server may need a longer timeout.",
        class: VerdictClass::Unreachable,
    },
    Row {
        kind: VerdictKind::Tls,
        label: "TLS failed",
        meaning: "The secure connection failed: the server's certificate is expired, not \
            issued by an authority this machine trusts, issued for another host name, or the \
            port does not speak TLS (the detail says which when it can tell).",
        next_step: "Follow the detail: use the host name the certificate was issued for, \
            point ca_file at the company CA's PEM file, have the administrator renew an \
            expired certificate, or fix the scheme or port in the url.",
        class: VerdictClass::Unreachable,
    },
    Row {
        kind: VerdictKind::Proxy,
        label: "proxy failed",
        meaning: "The proxy between here and the server refused or failed the connection.",
        next_step: "Check HTTPS_PROXY, HTTP_PROXY and NO_PROXY; an internal server usually \
            belongs in NO_PROXY.",
        class: VerdictClass::Unreachable,
    },
    Row {
        kind: VerdictKind::Transport,
        label: "network error",
        meaning: "The request could not be made or completed for a reason other than DNS, \
            refusal, timeout, TLS or proxy.",
        next_step: "Read the detail; check the base URL and the network path to the server.",
        class: VerdictClass::Unreachable,
    },
    Row {
        kind: VerdictKind::Secret,
        label: "password unavailable",
        meaning: "The password could not be obtained from the connection's secret source \
            (variable unset, command failed, keyring locked or entry missing).",
        next_step: "Check the connection's secret source; the detail names what failed.",
        class: VerdictClass::Local,
    },
    Row {
        kind: VerdictKind::ExpiredOnArrival,
        label: "token already expired",
        meaning: "The server answered 200 with a token whose exp had already passed when it \
            arrived, by the server's own clock: the token cannot be used. The server's clock \
            or its token lifetime setting is wrong.",
        next_step: "Check the server's clock and the token lifetime in the Act! Web API \
            configuration; actsm retries with backoff rather than in a loop.",
        class: VerdictClass::ServerFault,
    },
    Row {
        kind: VerdictKind::IssuedInFuture,
        label: "token issued in future",
        meaning: "The server answered 200 with a token whose iat (issue time) lies more than a \
            minute after the server's own Date: the part that issues tokens and the web server \
            disagree about the time, so the token's times cannot be trusted.",
        next_step: "Have the server's administrator check its clock and time zone (and NTP); \
            actsm retries with backoff rather than in a loop.",
        class: VerdictClass::ServerFault,
    },
    Row {
        kind: VerdictKind::ConnectionDropped,
        label: "connection dropped",
        meaning: "The server accepted the connection, then reset or closed it before a whole \
            answer came: a crashed worker, a load balancer or firewall cutting the line, or a \
            service that does not speak HTTP on that port.",
        next_step: "actsm retries with backoff. If it goes on, check the server's event log and \
            any proxy, load balancer or firewall in front of it, and that the port serves HTTP.",
        class: VerdictClass::Unreachable,
    },
];

/// Longest detail text we keep from a response: enough to recognise it, never a whole page.
const DETAIL_MAX: usize = 120;

/// Act! codes that travel inside another status (ACT-API.md, "Errors").
fn code_kind(code: u64) -> Option<VerdictKind> {
    match code {
        4030 => Some(VerdictKind::Incompatible),
        4031 => Some(VerdictKind::SubscriptionRequired),
        4032 => Some(VerdictKind::ApiAccessRequired),
        _ => None,
    }
}

/// Finds 4030, 4031 or 4032 standing alone in text: not part of a longer number, a word or
/// a version string like `1.1.4031.0`.
fn code_in_text(text: &str) -> Option<VerdictKind> {
    let b = text.as_bytes();
    (0..b.len().saturating_sub(3)).find_map(|i| {
        if &b[i..i + 3] != b"403" || !(b'0'..=b'2').contains(&b[i + 3]) {
            return None;
        }
        let before_ok = i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'.');
        let after_ok = match b.get(i + 4) {
            Some(c) if c.is_ascii_alphanumeric() => false,
            // "4032." ends a sentence; "4032.1" is a version.
            Some(b'.') => !b.get(i + 5).is_some_and(u8::is_ascii_digit),
            _ => true,
        };
        if before_ok && after_ok {
            code_kind(u64::from(b[i + 3] - b'0') + 4030)
        } else {
            None
        }
    })
}

/// JSON keys (lower-cased, `_` removed) whose values may carry an Act! code.
fn is_code_key(key: &str) -> bool {
    let key: String = key
        .chars()
        .filter(|c| *c != '_')
        .collect::<String>()
        .to_lowercase();
    matches!(
        key.as_str(),
        "message"
            | "exceptionmessage"
            | "error"
            | "errors"
            | "code"
            | "errorcode"
            | "errormessage"
            | "errordescription"
            | "status"
            | "statuscode"
            | "detail"
            | "title"
    )
}

/// Finds an Act! code in a JSON error object, at any depth.
fn code_in_json(value: &serde_json::Value) -> Option<VerdictKind> {
    use serde_json::Value;

    /// A code-carrying value: a string containing the code, or the number itself.
    fn direct(value: &Value) -> Option<VerdictKind> {
        match value {
            Value::String(s) => code_in_text(s),
            Value::Number(n) => n
                .as_u64()
                .and_then(code_kind)
                .or_else(|| n.as_f64().and_then(float_code)),
            _ => None,
        }
    }

    match value {
        Value::Object(map) => map.iter().find_map(|(key, v)| {
            let here = if is_code_key(key) { direct(v) } else { None };
            here.or_else(|| code_in_json(v))
        }),
        Value::Array(items) => items
            .iter()
            .find_map(|item| code_in_json(item).or_else(|| direct(item))),
        _ => None,
    }
}

/// A code sent as a float (`4032.0`).
fn float_code(f: f64) -> Option<VerdictKind> {
    // Only whole numbers in 4030..=4032 get here, so the cast is exact.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    if f.fract() == 0.0 && (4030.0..=4032.0).contains(&f) {
        code_kind(f as u64)
    } else {
        None
    }
}

/// The value of the first key matching `names` (case-insensitive) at the top of a JSON object,
/// as text.
fn json_field(value: &serde_json::Value, names: &[&str]) -> Option<String> {
    let map = value.as_object()?;
    names.iter().find_map(|name| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| match v {
                serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
    })
}

/// True when `run` looks like a credential: a JWT, a lone base64 JSON part, or a long
/// base64 blob. Such runs are hidden from every detail text.
fn looks_secret(run: &str) -> bool {
    let dots = run.bytes().filter(|b| *b == b'.').count();
    let has_digit = run.bytes().any(|b| b.is_ascii_digit());
    let has_lower = run.bytes().any(|b| b.is_ascii_lowercase());
    let has_upper = run.bytes().any(|b| b.is_ascii_uppercase());
    (run.starts_with("eyJ") && run.len() >= 16)
        || (dots >= 2 && run.len() >= 24 && has_digit && has_lower && has_upper)
        || (dots == 0 && run.len() >= 20 && has_digit && has_lower && has_upper)
}

/// Makes server text safe and short for a detail: control characters become spaces,
/// whitespace collapses, anything credential-like (and the word after `Basic`/`Bearer`)
/// is hidden, and the result is cut to `max` characters.
pub fn sanitize(text: &str, max: usize) -> String {
    let mut out = String::new();
    let mut hide_next = false;
    for word in text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        if hide_next {
            out.push_str("[hidden]");
            hide_next = false;
            continue;
        }
        let lower = word.to_ascii_lowercase();
        hide_next = lower.trim_matches(|c: char| !c.is_ascii_alphabetic()) == "basic"
            || lower.trim_matches(|c: char| !c.is_ascii_alphabetic()) == "bearer";
        // Hide credential-like runs inside the word (quotes and punctuation around them stay).
        let mut rest = word;
        while !rest.is_empty() {
            let is_run = |c: char| c.is_ascii_alphanumeric() || "-_.=+/".contains(c);
            let start = rest.find(is_run).unwrap_or(rest.len());
            out.push_str(&rest[..start]);
            rest = &rest[start..];
            let end = rest.find(|c: char| !is_run(c)).unwrap_or(rest.len());
            let run = &rest[..end];
            if looks_secret(run) {
                out.push_str("[hidden]");
            } else {
                out.push_str(run);
            }
            rest = &rest[end..];
        }
        if out.chars().count() > max {
            break;
        }
    }
    truncate_chars(&out, max)
}

/// Cuts to at most `max` characters, marking the cut with `…`.
fn truncate_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// The `Content-Type` without parameters, sanitized.
fn content_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(reqwest::header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next().unwrap_or_default().trim();
    (!essence.is_empty()).then(|| sanitize(essence, 40))
}

/// The text of an HTML `<title>`, when there is one.
fn html_title(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let open = lower.find("<title")?;
    let start = open + lower[open..].find('>')? + 1;
    let end = start + lower[start..].find("</title")?;
    // `to_ascii_lowercase` keeps byte offsets, so they index `text` too; `get` guards anyway.
    let title = sanitize(text.get(start..end)?, 60);
    (!title.is_empty()).then_some(title)
}

/// Text with tags dropped, for a glimpse of an HTML page.
fn strip_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(4096));
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// True when the body is (or says it is) an HTML page.
fn is_html(headers: &HeaderMap, text: &str) -> bool {
    let lower: String = text
        .trim_start()
        .chars()
        .take(512)
        .collect::<String>()
        .to_ascii_lowercase();
    let markup = lower.starts_with('<')
        && (lower.contains("<html")
            || lower.contains("<!doctype html")
            || lower.contains("<title")
            || lower.contains("<body")
            || lower.contains("<head"));
    markup
        || (content_type(headers).is_some_and(|ct| ct.contains("html")) && lower.starts_with('<'))
}

/// Says what a body is, for a detail: e.g. `an HTML page titled 'Login' (text/html, 5120
/// bytes)`. Never more than 120 characters, never a credential.
pub fn describe_body(headers: &HeaderMap, body: &[u8]) -> String {
    let ct = content_type(headers);
    let size = body.len();
    let label = |kind: &str| match &ct {
        Some(ct) => format!("{kind} ({ct}, {size} bytes)"),
        None => format!("{kind} ({size} bytes)"),
    };

    if body.iter().all(u8::is_ascii_whitespace) {
        return match &ct {
            Some(ct) if size > 0 => format!("a blank body ({ct})"),
            _ => "an empty body".to_owned(),
        };
    }
    let Ok(text) = std::str::from_utf8(body) else {
        return truncate_chars(&label("binary data"), DETAIL_MAX);
    };

    let described = if is_html(headers, text) {
        match html_title(text) {
            Some(title) => label(&format!("an HTML page titled '{title}'")),
            None => format!(
                "{}: '{}'",
                label("an HTML page"),
                sanitize(&strip_tags(text), 50)
            ),
        }
    } else if serde_json::from_str::<serde_json::Value>(text).is_ok() {
        format!("{}: {}", label("JSON"), sanitize(text, 60))
    } else if text.trim_start().starts_with("<?xml")
        || ct.as_deref().is_some_and(|c| c.contains("xml"))
    {
        format!("{}: '{}'", label("XML"), sanitize(&strip_tags(text), 50))
    } else {
        format!("{}: '{}'", label("text"), sanitize(text, 60))
    };
    truncate_chars(&described, DETAIL_MAX)
}

/// The reason phrase when it differs from the standard one for `status`.
fn unusual_reason(status: u16, reason: Option<&str>) -> Option<String> {
    let reason = reason?.trim();
    let canonical = reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason());
    if reason.is_empty() || canonical.is_some_and(|c| c.eq_ignore_ascii_case(reason)) {
        return None;
    }
    Some(sanitize(reason, 60))
}

/// Joins the present parts of a detail with `; `.
fn join_detail(parts: impl IntoIterator<Item = Option<String>>) -> Option<String> {
    let parts: Vec<String> = parts
        .into_iter()
        .flatten()
        .filter(|p| !p.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// True when a 403 carries the signs of an API gateway in front of Act!.
fn is_gateway_403(headers: &HeaderMap, json: Option<&serde_json::Value>) -> bool {
    const PHRASES: [&str; 4] = [
        "authorization header",
        "missing authentication token",
        "not authorized to access",
        "invalid key=value pair",
    ];
    let message = json
        .and_then(|v| json_field(v, &["message"]))
        .map(|m| m.to_lowercase());
    let phrase = message
        .as_deref()
        .is_some_and(|m| PHRASES.iter().any(|p| m.contains(p)));
    let gateway_header = ["x-amzn-errortype", "x-amz-apigw-id"]
        .iter()
        .any(|h| headers.contains_key(*h));
    phrase || (gateway_header && json.is_some())
}

/// True when a 403 is an IIS error page (IP restriction, denied directory).
fn is_iis_403(headers: &HeaderMap, text: &str) -> bool {
    if !is_html(headers, text) {
        return false;
    }
    let lower = text.to_lowercase();
    let iis_word = lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| w == "iis");
    iis_word
        || ["403.6", "403.503", "ip address", "denied"]
            .iter()
            .any(|m| lower.contains(m))
}

/// True when any `X-RateLimit-*` header or `Retry-After` is present.
fn has_throttle_headers(headers: &HeaderMap) -> bool {
    headers.contains_key(reqwest::header::RETRY_AFTER)
        || [
            super::meter::LIMIT_HEADER,
            super::meter::REMAINING_HEADER,
            super::meter::RESET_HEADER,
        ]
        .iter()
        .any(|h| headers.contains_key(*h))
}

/// The throttling headers as seen, for a detail.
fn throttle_detail(headers: &HeaderMap) -> Option<String> {
    let shown: Vec<String> = ["Retry-After", "X-RateLimit-Remaining", "X-RateLimit-Reset"]
        .iter()
        .filter_map(|name| {
            let value = headers.get(*name)?.to_str().ok()?;
            Some(format!("{name}: {}", sanitize(value, 40)))
        })
        .collect();
    (!shown.is_empty()).then(|| shown.join(", "))
}

/// The ASP.NET error object's `message` and `exceptionMessage`, for a 5xx detail.
fn aspnet_messages(json: Option<&serde_json::Value>) -> Option<String> {
    let json = json?;
    let message = json_field(json, &["message"]);
    let exception = json_field(json, &["exceptionMessage"]);
    let kind = json_field(json, &["exceptionType"]);
    let text = match (message, exception) {
        (Some(m), Some(e)) if m != e => format!("{m} / {e}"),
        (Some(m), _) => m,
        (None, Some(e)) => e,
        (None, None) => return None,
    };
    let text = match kind {
        Some(k) => format!("{text} [{k}]"),
        None => text,
    };
    Some(format!("server says '{}'", sanitize(&text, 90)))
}

/// Decodes an HTTP response that was not a success into a verdict.
///
/// Looks for Act!'s 4030/4031/4032 wherever they may travel (a JSON error
/// object's `Message`/`ExceptionMessage`/`message`/`error`/`code` fields at any
/// depth, the body as plain text, the reason phrase), then tells apart where a
/// 403 came from, throttling, server failures and wrong paths. `reason` is the
/// reason phrase as sent. Never panics, whatever the bytes.
pub fn decode_response(
    call: CallKind,
    status: u16,
    reason: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Verdict {
    let text = String::from_utf8_lossy(body);
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let reason_note = unusual_reason(status, reason).map(|r| format!("reason phrase '{r}'"));
    let html = is_html(headers, &text);

    // Act! codes first: they are the most specific thing a response can say. HTML pages only
    // count on error statuses, where an error page may spell the code out.
    let code = json
        .as_ref()
        .and_then(code_in_json)
        .or_else(|| reason.and_then(code_in_text))
        .or_else(|| {
            // A JSON object was searched field by field above; its other numbers (ids, counts)
            // are not codes. A bare JSON string or number is read as text.
            let structured = json.as_ref().is_some_and(|j| j.is_object() || j.is_array());
            if structured || (html && status < 400) {
                None
            } else {
                code_in_text(&text)
            }
        });
    if let Some(kind) = code {
        let seen = if json.is_some() {
            aspnet_messages(json.as_ref())
        } else {
            None
        };
        let excerpt = seen.or_else(|| (!body.is_empty()).then(|| describe_body(headers, body)));
        return Verdict::new(
            kind,
            join_detail([Some(format!("HTTP {status}")), reason_note, excerpt]),
        );
    }

    by_status(
        call,
        status,
        reason_note,
        headers,
        body,
        json.as_ref(),
        &text,
    )
}

/// The status-driven half of [`decode_response`], once no Act! code was found.
fn by_status(
    call: CallKind,
    status: u16,
    reason_note: Option<String>,
    headers: &HeaderMap,
    body: &[u8],
    json: Option<&serde_json::Value>,
    text: &str,
) -> Verdict {
    let body_note =
        || (!body.iter().all(u8::is_ascii_whitespace)).then(|| describe_body(headers, body));
    match status {
        200..=299 => Verdict::new(
            VerdictKind::NotAToken,
            join_detail([
                Some(format!("got {}", describe_body(headers, body))),
                reason_note,
            ]),
        ),
        300..=399 => {
            let location = headers
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .map(|l| format!("redirected to '{}'", sanitize(l, 80)));
            let hint = location.as_ref().map(|l| {
                if l.to_lowercase().contains("login") {
                    "a login page: the base URL points at the web client, not the Web API"
                } else {
                    "if that is the API's new address, use it as the base URL"
                }
                .to_owned()
            });
            Verdict::new(
                VerdictKind::UnexpectedStatus,
                join_detail([Some(format!("HTTP {status}")), location, hint, reason_note]),
            )
        }
        401 => {
            let kind = if call == CallKind::Refresh {
                VerdictKind::TokenRejected
            } else {
                VerdictKind::Unauthorized
            };
            Verdict::new(kind, join_detail([reason_note, body_note()]))
        }
        403 => {
            let kind = if is_gateway_403(headers, json) {
                VerdictKind::GatewayForbidden
            } else if is_iis_403(headers, text) {
                VerdictKind::IisForbidden
            } else {
                VerdictKind::Forbidden
            };
            Verdict::new(kind, join_detail([reason_note, body_note()]))
        }
        404 => Verdict::new(
            VerdictKind::NotFound,
            join_detail([reason_note, body_note()]),
        ),
        407 => Verdict::new(
            VerdictKind::Proxy,
            join_detail([
                Some("HTTP 407: the proxy wants credentials".to_owned()),
                reason_note,
            ]),
        ),
        408 => Verdict::new(
            VerdictKind::Timeout,
            join_detail([Some("HTTP 408".to_owned()), reason_note]),
        ),
        429 => Verdict::new(
            VerdictKind::Throttled,
            join_detail([
                Some("HTTP 429".to_owned()),
                throttle_detail(headers),
                reason_note,
            ]),
        ),
        503 if has_throttle_headers(headers) => Verdict::new(
            VerdictKind::Throttled,
            join_detail([
                Some("HTTP 503".to_owned()),
                throttle_detail(headers),
                reason_note,
            ]),
        ),
        500..=599 => {
            let said = aspnet_messages(json).or_else(body_note);
            Verdict::new(
                VerdictKind::ServerError,
                join_detail([Some(format!("HTTP {status}")), reason_note, said]),
            )
        }
        _ => Verdict::new(
            VerdictKind::UnexpectedStatus,
            join_detail([Some(format!("HTTP {status}")), reason_note, body_note()]),
        ),
    }
}

/// What a TLS failure's error text says about its cause, in plain words.
fn tls_cause(lower: &str) -> &'static str {
    if lower.contains("expired") {
        "the server's certificate has expired (the server's administrator must renew it; \
         insecure_tls = true gets through meanwhile)"
    } else if lower.contains("notvalidyet") || lower.contains("not valid yet") {
        "the server's certificate is not valid yet (check this machine's clock)"
    } else if lower.contains("notvalidforname") || lower.contains("not valid for name") {
        "the certificate was issued for another host name (use the name it was issued for in \
         the url)"
    } else if lower.contains("caused as end entity") || lower.contains("causedasendentity") {
        // webpki's answer for a certificate marked as a CA (openssl's default for a
        // self-signed one) presented as the server's own, trusted or not.
        "the server's certificate is marked as a CA (basicConstraints CA:TRUE, openssl's \
         default for a self-signed one), which TLS refuses as a server's own certificate even \
         when ca_file trusts it; re-issue it with basicConstraints CA:FALSE (see README.md, \
         ca_file), or set insecure_tls = true for this connection"
    } else if lower.contains("unknownissuer")
        || lower.contains("unknown issuer")
        || lower.contains("self-signed")
        || lower.contains("self signed")
        || lower.contains("untrusted")
    {
        "the certificate is not issued by an authority this machine trusts (self-signed or a \
         company CA: point ca_file at that CA's PEM file)"
    } else if lower.contains("revoked") {
        "the certificate has been revoked"
    } else if lower.contains("corrupt message")
        || lower.contains("invalidcontenttype")
        || lower.contains("wrong version number")
    {
        "the server does not speak TLS on that port (try http:// or the right port)"
    } else {
        "the TLS handshake failed"
    }
}

/// Classifies a transport failure from its error chain text (`outer: inner: ...`).
///
/// Separate from [`decode_transport`] so that it can be tested without a live error.
pub fn classify_transport(is_timeout: bool, chain: &str) -> Verdict {
    let lower = chain.to_lowercase();
    let detail = Some(sanitize(chain, 200));
    let has = |needles: &[&str]| needles.iter().any(|n| lower.contains(n));

    if is_timeout || has(&["timed out", "deadline has elapsed", "operation timed out"]) {
        Verdict::new(VerdictKind::Timeout, detail)
    } else if has(&["proxy", "tunnel"]) {
        Verdict::new(VerdictKind::Proxy, detail)
    } else if has(&[
        "dns error",
        "failed to lookup",
        "name or service not known",
        "no such host",
        "nodename nor servname",
        "name resolution",
        "no address associated",
    ]) {
        Verdict::new(VerdictKind::Dns, detail)
    } else if has(&[
        "certificate",
        "tls",
        "handshake",
        "invalid peer",
        "corrupt message",
        "wrong version number",
    ]) {
        Verdict::new(
            VerdictKind::Tls,
            Some(format!("{}: {}", tls_cause(&lower), sanitize(chain, 160))),
        )
    } else if has(&[
        "connection refused",
        "actively refused",
        "os error 111",
        "os error 10061",
    ]) {
        Verdict::new(VerdictKind::Refused, detail)
    } else if has(&[
        "connection reset",
        "os error 104",
        "os error 10054",
        "connection closed before message completed",
        "incomplete message",
        "broken pipe",
        "os error 32",
    ]) {
        Verdict::new(VerdictKind::ConnectionDropped, detail)
    } else {
        Verdict::new(VerdictKind::Transport, detail)
    }
}

/// Decodes a transport failure (no usable response) by walking the error's source chain.
pub fn decode_transport(err: &reqwest::Error) -> Verdict {
    let mut parts: Vec<String> = Vec::new();
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        let mut text = e.to_string();
        // The URL in reqwest's outer message could contain words like "proxy" or "tls" in a
        // host name and mislead the matching below; the exchange records the URL anyway.
        if let Some(url) = err.url() {
            text = text
                .replace(&format!(" ({url})"), "")
                .replace(url.as_str(), "");
        }
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        source = e.source();
    }
    classify_transport(err.is_timeout(), &parts.join(": "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn decode(
        status: u16,
        reason: Option<&str>,
        h: &[(&'static str, &str)],
        body: &str,
    ) -> Verdict {
        decode_response(
            CallKind::Authorize,
            status,
            reason,
            &headers(h),
            body.as_bytes(),
        )
    }

    /// Fails to compile when a kind is added without being listed here, so `ALL` stays whole.
    fn position(kind: VerdictKind) -> usize {
        use VerdictKind as K;
        match kind {
            K::Ok => 0,
            K::Unauthorized => 1,
            K::TokenRejected => 2,
            K::Forbidden => 3,
            K::GatewayForbidden => 4,
            K::IisForbidden => 5,
            K::Incompatible => 6,
            K::SubscriptionRequired => 7,
            K::ApiAccessRequired => 8,
            K::NotFound => 9,
            K::Throttled => 10,
            K::ServerError => 11,
            K::UnexpectedStatus => 12,
            K::NotAToken => 13,
            K::BodyTooLarge => 14,
            K::Dns => 15,
            K::Refused => 16,
            K::Timeout => 17,
            K::Tls => 18,
            K::Proxy => 19,
            K::Transport => 20,
            K::Secret => 21,
            K::ExpiredOnArrival => 22,
            K::IssuedInFuture => 23,
            K::ConnectionDropped => 24,
        }
    }

    #[test]
    fn table_has_exactly_one_complete_row_per_kind() {
        for (i, kind) in VerdictKind::ALL.iter().enumerate() {
            assert_eq!(position(*kind), i);
            assert_eq!(
                TABLE.iter().filter(|r| r.kind == *kind).count(),
                1,
                "{kind:?}"
            );
            assert!(
                !kind.label().is_empty() && kind.label().len() <= 28,
                "{kind:?}"
            );
            assert!(kind.meaning().len() > 20, "{kind:?}");
            assert!(kind.next_step().len() > 10, "{kind:?}");
        }
        assert_eq!(TABLE.len(), VerdictKind::ALL.len());
    }

    #[test]
    fn meanings_are_specific() {
        let m = VerdictKind::Unauthorized.meaning().to_lowercase();
        assert!(m.contains("user") && m.contains("password") && m.contains("database"));
        assert!(VerdictKind::Unauthorized.next_step().contains("all three"));
        assert!(
            VerdictKind::ApiAccessRequired
                .next_step()
                .contains("Web API Access")
        );
        assert!(
            VerdictKind::ApiAccessRequired
                .next_step()
                .contains("Manage Users")
        );
        assert!(
            VerdictKind::SubscriptionRequired
                .meaning()
                .contains("subscription")
        );
        assert!(
            VerdictKind::Incompatible
                .next_step()
                .contains("actsm system")
        );
        assert!(VerdictKind::NotFound.next_step().contains("/act.web.api"));
        assert!(
            VerdictKind::NotFound
                .next_step()
                .contains("customer-api/act.web.api")
        );
        assert!(VerdictKind::IisForbidden.meaning().contains("IIS"));
        assert!(VerdictKind::GatewayForbidden.meaning().contains("gateway"));
        assert_eq!(VerdictKind::Secret.class(), VerdictClass::Local);
        assert_eq!(VerdictKind::Throttled.class(), VerdictClass::Throttled);
        assert_eq!(VerdictKind::Dns.class(), VerdictClass::Unreachable);
        assert_eq!(
            VerdictKind::ApiAccessRequired.class(),
            VerdictClass::Refused
        );
    }

    #[test]
    fn summary_is_label_meaning_detail() {
        let v = Verdict::new(VerdictKind::Timeout, "after 15s".to_owned());
        assert_eq!(
            v.summary(),
            format!("timed out: {} (after 15s)", VerdictKind::Timeout.meaning())
        );
        assert_eq!(
            Verdict::ok().summary(),
            format!("ok: {}", VerdictKind::Ok.meaning())
        );
    }

    #[test]
    fn act_code_in_plain_body_text() {
        assert_eq!(
            decode(403, None, &[], "4032").kind,
            VerdictKind::ApiAccessRequired
        );
        assert_eq!(
            decode(403, None, &[], " Error 4031.\n").kind,
            VerdictKind::SubscriptionRequired
        );
        assert_eq!(
            decode(400, None, &[], "code=4030").kind,
            VerdictKind::Incompatible
        );
        // Not a code: part of a version, a longer number, a word.
        assert_eq!(
            decode(403, None, &[], "version 1.1.4032.0").kind,
            VerdictKind::Forbidden
        );
        assert_eq!(decode(403, None, &[], "40321").kind, VerdictKind::Forbidden);
        assert_eq!(decode(403, None, &[], "x4032").kind, VerdictKind::Forbidden);
    }

    #[test]
    fn act_code_in_json_error_objects() {
        let v = decode(
            403,
            None,
            &[],
            r#"{"Message":"4031 Subscription required"}"#,
        );
        assert_eq!(v.kind, VerdictKind::SubscriptionRequired);
        assert!(
            v.detail
                .as_deref()
                .unwrap()
                .contains("Subscription required"),
            "{v:?}"
        );

        let v = decode(
            403,
            None,
            &[],
            r#"{"message":"An error has occurred.","exceptionMessage":"4032"}"#,
        );
        assert_eq!(v.kind, VerdictKind::ApiAccessRequired);
        let v = decode(
            403,
            None,
            &[],
            r#"{"EXCEPTIONMESSAGE":"Act! error 4030: mismatch"}"#,
        );
        assert_eq!(v.kind, VerdictKind::Incompatible);
        let v = decode(
            403,
            None,
            &[],
            r#"{"error":{"code":4032,"message":"denied"}}"#,
        );
        assert_eq!(v.kind, VerdictKind::ApiAccessRequired);
        assert_eq!(
            decode(403, None, &[], "\"4032\"").kind,
            VerdictKind::ApiAccessRequired
        );
        let v = decode(403, None, &[], r#"{"Code":"4031"}"#);
        assert_eq!(v.kind, VerdictKind::SubscriptionRequired);
        let v = decode(400, None, &[], r#"{"errors":[{"error_code":4030.0}]}"#);
        assert_eq!(v.kind, VerdictKind::Incompatible);
        // A number outside a code-carrying field does not count.
        let v = decode(403, None, &[], r#"{"requestId":4032}"#);
        assert_eq!(v.kind, VerdictKind::Forbidden);
    }

    #[test]
    fn act_code_in_reason_phrase() {
        let v = decode(403, Some("4032 API Access Required"), &[], "");
        assert_eq!(v.kind, VerdictKind::ApiAccessRequired);
        assert!(
            v.detail
                .unwrap()
                .contains("reason phrase '4032 API Access Required'")
        );
        let v = decode(401, Some("4031"), &[], "");
        assert_eq!(v.kind, VerdictKind::SubscriptionRequired);
    }

    #[test]
    fn unauthorized_shows_unusual_reason_only() {
        let v = decode(401, Some("Unauthorized"), &[], "");
        assert_eq!(v, Verdict::new(VerdictKind::Unauthorized, None));
        let v = decode(401, Some("Invalid database"), &[], "");
        assert_eq!(v.kind, VerdictKind::Unauthorized);
        assert_eq!(
            v.detail.as_deref(),
            Some("reason phrase 'Invalid database'")
        );

        let v = decode_response(CallKind::Refresh, 401, None, &HeaderMap::new(), b"");
        assert_eq!(v.kind, VerdictKind::TokenRejected);
    }

    #[test]
    fn gateway_and_iis_and_act_403s_are_told_apart() {
        let v = decode(
            403,
            None,
            &[("content-type", "application/json")],
            r#"{"message":"Missing Authentication Token"}"#,
        );
        assert_eq!(v.kind, VerdictKind::GatewayForbidden);
        let v = decode(
            403,
            None,
            &[],
            r#"{"message":"'Zm9vOmJhcg==' not a valid key=value pair (missing equal-sign) in Authorization header"}"#,
        );
        assert_eq!(v.kind, VerdictKind::GatewayForbidden);
        let v = decode(
            403,
            None,
            &[],
            r#"{"message":"User is not authorized to access this resource"}"#,
        );
        assert_eq!(v.kind, VerdictKind::GatewayForbidden);

        let iis = "<!DOCTYPE html><html><head><title>403 - Forbidden: Access is denied.</title></head>\
                   <body><h2>403.6 - The IP address of the client has been rejected.</h2>\
                   <p>Internet Information Services (IIS)</p></body></html>";
        let v = decode(403, None, &[("content-type", "text/html")], iis);
        assert_eq!(v.kind, VerdictKind::IisForbidden);
        assert!(
            v.detail
                .unwrap()
                .contains("HTML page titled '403 - Forbidden: Access is denied.'")
        );

        let v = decode(
            403,
            None,
            &[],
            r#"{"Message":"Authorization has been denied for this request."}"#,
        );
        assert_eq!(v.kind, VerdictKind::Forbidden);
        assert_eq!(decode(403, None, &[], "").kind, VerdictKind::Forbidden);
    }

    #[test]
    fn not_found_throttled_and_server_errors() {
        assert_eq!(
            decode(404, None, &[], "<html><title>Not Found</title></html>").kind,
            VerdictKind::NotFound
        );
        assert_eq!(decode(429, None, &[], "").kind, VerdictKind::Throttled);

        let v = decode(503, None, &[("retry-after", "30")], "");
        assert_eq!(v.kind, VerdictKind::Throttled);
        assert!(v.detail.unwrap().contains("Retry-After: 30"));
        assert_eq!(
            decode(503, None, &[("x-ratelimit-remaining", "0")], "").kind,
            VerdictKind::Throttled
        );
        assert_eq!(
            decode(503, None, &[], "Service Unavailable").kind,
            VerdictKind::ServerError
        );

        let v = decode(
            500,
            None,
            &[("content-type", "application/json; charset=utf-8")],
            r#"{"message":"An error has occurred.","exceptionMessage":"Object reference not set to an instance of an object.","exceptionType":"System.NullReferenceException","stackTrace":"   at Act.Web..."}"#,
        );
        assert_eq!(v.kind, VerdictKind::ServerError);
        let d = v.detail.unwrap();
        assert!(
            d.contains("HTTP 500") && d.contains("Object reference not set"),
            "{d}"
        );
        assert!(!d.contains("stackTrace"), "{d}");

        assert_eq!(
            decode(502, None, &[], "Bad gateway").kind,
            VerdictKind::ServerError
        );
        assert_eq!(
            decode(418, None, &[], "").kind,
            VerdictKind::UnexpectedStatus
        );
        assert_eq!(decode(407, None, &[], "").kind, VerdictKind::Proxy);
    }

    #[test]
    fn redirect_names_the_target() {
        let v = decode(
            302,
            None,
            &[("location", "https://server/Bob/Login.aspx?ReturnUrl=%2f")],
            "",
        );
        assert_eq!(v.kind, VerdictKind::UnexpectedStatus);
        let d = v.detail.unwrap();
        assert!(
            d.contains("redirected to 'https://server/Bob/Login.aspx") && d.contains("login page"),
            "{d}"
        );
    }

    #[test]
    fn ok_status_without_token_says_what_came() {
        let page = format!(
            "<!DOCTYPE html>\n<html><head><title>Login</title></head><body>{}</body></html>",
            "x".repeat(5000)
        );
        let v = decode(
            200,
            None,
            &[("content-type", "text/html; charset=utf-8")],
            &page,
        );
        assert_eq!(v.kind, VerdictKind::NotAToken);
        let d = v.detail.unwrap();
        assert!(
            d.starts_with("got an HTML page titled 'Login' (text/html"),
            "{d}"
        );
        assert!(d.chars().count() <= DETAIL_MAX + 5, "{d}");

        let v = decode(200, None, &[], "");
        assert_eq!(v.detail.as_deref(), Some("got an empty body"));
        let v = decode(
            200,
            None,
            &[("content-type", "text/plain")],
            "Service is starting, try later",
        );
        assert_eq!(
            v.detail.as_deref(),
            Some("got text (text/plain, 30 bytes): 'Service is starting, try later'")
        );
        // A short plain answer with a code is that code even on 200.
        assert_eq!(
            decode(200, None, &[], "4032").kind,
            VerdictKind::ApiAccessRequired
        );
        // ...but not a code buried in an HTML page.
        assert_eq!(
            decode(200, None, &[], "<html><body>#4032</body></html>").kind,
            VerdictKind::NotAToken
        );
    }

    #[test]
    fn details_hide_credentials_and_stay_short() {
        let jwt =
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJqYW5lIiwiZXhwIjoxNzAwMDAwMDAwfQ.abcDEF123ghiJKL456";
        let v = decode(200, None, &[], &format!(r#"{{"token":"{jwt}"}}"#));
        assert_eq!(v.kind, VerdictKind::NotAToken);
        assert!(!v.detail.as_deref().unwrap().contains("eyJ"), "{v:?}");

        let v = decode(
            403,
            None,
            &[],
            r#"{"message":"Invalid Authorization header: Basic amFuZTpodW50ZXIy"}"#,
        );
        let d = v.detail.unwrap();
        assert!(!d.contains("amFuZTpodW50ZXIy"), "{d}");

        let long = "word ".repeat(1000);
        let v = decode(404, None, &[], &long);
        assert!(v.detail.unwrap().chars().count() <= DETAIL_MAX);
    }

    #[test]
    fn never_panics_on_arbitrary_bytes() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let pieces: [&[u8]; 8] = [
            b"<title>",
            b"</title",
            b"4032",
            b"{\"message\":",
            b"\xff\xfe",
            b"\xe2\x82",
            b".",
            b"<",
        ];
        for _ in 0..500 {
            let mut body = Vec::new();
            for _ in 0..(next() % 12) {
                if next() % 2 == 0 {
                    body.extend_from_slice(pieces[(next() % 8) as usize]);
                } else {
                    body.push(next().to_le_bytes()[0]);
                }
            }
            let status = [200, 401, 403, 404, 429, 500, 503, 302, 999][(next() % 9) as usize];
            let v = decode_response(
                CallKind::Refresh,
                status,
                Some("\u{0}é"),
                &HeaderMap::new(),
                &body,
            );
            let _ = v.summary();
        }
    }

    #[test]
    fn transport_chains_are_classified() {
        let c = |chain| classify_transport(false, chain).kind;
        assert_eq!(
            c(
                "error sending request: client error (Connect): dns error: failed to lookup address information: Name or service not known"
            ),
            VerdictKind::Dns
        );
        assert_eq!(
            c("client error (Connect): tcp connect error: Connection refused (os error 111)"),
            VerdictKind::Refused
        );
        assert_eq!(
            c("client error (SendRequest): connection reset by peer (os error 104)"),
            VerdictKind::ConnectionDropped
        );
        assert_eq!(
            c("client error (SendRequest): connection closed before message completed"),
            VerdictKind::ConnectionDropped
        );
        assert_eq!(
            c("An existing connection was forcibly closed by the remote host. (os error 10054)"),
            VerdictKind::ConnectionDropped
        );
        assert_eq!(
            classify_transport(true, "whatever").kind,
            VerdictKind::Timeout
        );
        assert_eq!(c("operation timed out"), VerdictKind::Timeout);
        assert_eq!(c("tunnel error: unsuccessful"), VerdictKind::Proxy);
        assert_eq!(c("something odd happened"), VerdictKind::Transport);

        let tls = |chain| classify_transport(false, chain).detail.unwrap_or_default();
        assert!(
            tls("client error (Connect): invalid peer certificate: Expired").contains("expired")
        );
        assert!(
            tls("invalid peer certificate: UnknownIssuer").contains("not issued by an authority")
        );
        assert!(
            tls("invalid peer certificate: Other(OtherError(CaUsedAsEndEntity))")
                .contains("marked as a CA")
        );
        assert!(
            tls("invalid peer certificate: certificate not valid for name \"a.example\"")
                .contains("another host name")
        );
        assert!(
            tls("received corrupt message of type InvalidContentType")
                .contains("does not speak TLS")
        );
        assert_eq!(
            c("invalid peer certificate: BadSignature"),
            VerdictKind::Tls
        );
    }
}
