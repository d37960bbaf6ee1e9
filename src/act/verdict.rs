//! Verdicts: the decoded meaning of a response or a transport failure, with the
//! next step to take. One table holds every meaning; the TUI, the journal and
//! the command line all read it.

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
    /// Nothing listens there (connection refused or reset).
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
    /// Short label for lists and the journal, e.g. `"4032 API access"`.
    pub fn label(self) -> &'static str {
        todo!("act helper: from the table")
    }

    /// What happened, in plain words.
    pub fn meaning(self) -> &'static str {
        todo!("act helper: from the table")
    }

    /// What the user should do next.
    pub fn next_step(self) -> &'static str {
        todo!("act helper: from the table")
    }

    /// The broad class (drives retry policy, colour and exit code).
    pub fn class(self) -> VerdictClass {
        todo!("act helper: from the table")
    }
}

impl Verdict {
    /// The success verdict.
    pub fn ok() -> Self {
        Self { kind: VerdictKind::Ok, detail: None }
    }

    /// A verdict of `kind` with what was seen.
    pub fn new(kind: VerdictKind, detail: impl Into<Option<String>>) -> Self {
        Self { kind, detail: detail.into() }
    }

    /// One line for the journal and stderr: label, meaning, and the detail when there is one.
    pub fn summary(&self) -> String {
        todo!("act helper")
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
