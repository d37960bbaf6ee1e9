//! What the simulator knows: its users, databases, scenarios and timings.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

/// How the simulator answers a user whose credentials are right.
///
/// Each variant mimics one answer a real Act! server (or something in front
/// of it, or a broken network) has been seen to give; see `ACT-API.md`. The
/// variants after [`Scenario::NotAToken`] are faults: they exist to prove that
/// a client stays calm and truthful against them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Scenario {
    /// 200 with a fresh token.
    #[default]
    Healthy,
    /// 403 with an ASP.NET error object carrying code 4030 (Web API and Act! do not match).
    Incompatible4030,
    /// 403 with an ASP.NET error object carrying code 4031 (subscription required).
    Subscription4031,
    /// 403 with an ASP.NET error object carrying code 4032 (no "Web API Access" permission).
    ApiAccess4032,
    /// 403 from a cloud API gateway in front of Act!: JSON `message` about the header.
    GatewayForbidden,
    /// Always 429 with `Retry-After: 30`.
    Throttled,
    /// 500 with an ASP.NET error object.
    ServerError,
    /// 200 whose body is an HTML login page instead of a token (alias `html-200`).
    NotAToken,
    /// Reads the request, then never answers (until the simulator shuts down).
    Hang,
    /// A healthy token, sent only after the given delay (`slow-5s`, alias `delay-5s`).
    Slow(Duration),
    /// Reads the request, then resets the TCP connection without any response.
    Reset,
    /// 200 with a 10 MB body, streamed without a `Content-Length`.
    HugeBody,
    /// A token without an `exp` claim (the server still ends it after the lifetime).
    NoExp,
    /// A token whose `exp` passed a minute before it was sent.
    Expired,
    /// A token whose `iat` and `nbf` lie ten minutes after the server's `Date`.
    FutureIat,
    /// The server's clock runs ten minutes ahead: `Date` and the token's claims
    /// both follow it, consistently.
    SkewedDate,
    /// A healthy token with non-numeric `X-RateLimit-*` headers.
    BadRateHeaders,
    /// 429, no `Retry-After`, `X-RateLimit-Reset` as seconds from now (`20`).
    ResetSeconds,
    /// 429, no `Retry-After`, `X-RateLimit-Reset` as Unix seconds.
    ResetEpoch,
    /// 429, no `Retry-After`, `X-RateLimit-Reset` as Unix milliseconds.
    ResetEpochMs,
    /// 429, no `Retry-After`, `X-RateLimit-Reset` as an HTTP date.
    ResetHttpDate,
    /// 429, no `Retry-After`, `X-RateLimit-Reset` as an RFC 3339 timestamp.
    ResetRfc3339,
    /// Always 429, with neither `Retry-After` nor rate-limit headers.
    ThrottledNoRetryAfter,
    /// Healthy tokens that the server revokes after a quarter of their
    /// lifetime: a Bearer refresh then gets 401 while the token has time left.
    DropEarly,
}

/// The delay of [`Scenario::Slow`] when none is given: shorter than the demo's 5 s timeout.
pub const DEFAULT_SLOW: Duration = Duration::from_secs(3);

/// How far [`Scenario::FutureIat`] and [`Scenario::SkewedDate`] move time, seconds.
pub const FAULT_SHIFT_SECS: i64 = 600;

/// How far away the `Reset*` scenarios put the rate-limit reset, seconds.
pub const FAULT_RESET_SECS: i64 = 20;

/// The prefix of database names that select a scenario: `fault-hang`, `fault-slow-2s`.
pub const FAULT_DATABASE_PREFIX: &str = "fault-";

/// The password every login to a `fault-*` database needs (any user name works).
pub const FAULT_PASSWORD: &str = "demo";

/// Token lifetime of `fault-drop-early` logins, short enough to watch in the demo.
pub const DROP_EARLY_LIFETIME: Duration = Duration::from_secs(120);

impl Scenario {
    /// Every scenario, in declaration order (for help texts and `--scenario` listings).
    /// [`Scenario::Slow`] appears with [`DEFAULT_SLOW`].
    pub const ALL: [Scenario; 24] = [
        Scenario::Healthy,
        Scenario::Incompatible4030,
        Scenario::Subscription4031,
        Scenario::ApiAccess4032,
        Scenario::GatewayForbidden,
        Scenario::Throttled,
        Scenario::ServerError,
        Scenario::NotAToken,
        Scenario::Hang,
        Scenario::Slow(DEFAULT_SLOW),
        Scenario::Reset,
        Scenario::HugeBody,
        Scenario::NoExp,
        Scenario::Expired,
        Scenario::FutureIat,
        Scenario::SkewedDate,
        Scenario::BadRateHeaders,
        Scenario::ResetSeconds,
        Scenario::ResetEpoch,
        Scenario::ResetEpochMs,
        Scenario::ResetHttpDate,
        Scenario::ResetRfc3339,
        Scenario::ThrottledNoRetryAfter,
        Scenario::DropEarly,
    ];

    /// The kebab-case name used on the command line and in logs. [`Scenario::Slow`]
    /// is `slow` here; its `Display` form carries the delay (`slow-3s`).
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Healthy => "healthy",
            Scenario::Incompatible4030 => "incompatible-4030",
            Scenario::Subscription4031 => "subscription-4031",
            Scenario::ApiAccess4032 => "api-access-4032",
            Scenario::GatewayForbidden => "gateway-forbidden",
            Scenario::Throttled => "throttled",
            Scenario::ServerError => "server-error",
            Scenario::NotAToken => "not-a-token",
            Scenario::Hang => "hang",
            Scenario::Slow(_) => "slow",
            Scenario::Reset => "reset",
            Scenario::HugeBody => "huge-body",
            Scenario::NoExp => "no-exp",
            Scenario::Expired => "expired",
            Scenario::FutureIat => "future-iat",
            Scenario::SkewedDate => "skewed-date",
            Scenario::BadRateHeaders => "bad-rate-headers",
            Scenario::ResetSeconds => "reset-seconds",
            Scenario::ResetEpoch => "reset-epoch",
            Scenario::ResetEpochMs => "reset-epoch-ms",
            Scenario::ResetHttpDate => "reset-http-date",
            Scenario::ResetRfc3339 => "reset-rfc3339",
            Scenario::ThrottledNoRetryAfter => "throttled-no-retry-after",
            Scenario::DropEarly => "drop-early",
        }
    }

    /// True for the fault scenarios (everything after [`Scenario::NotAToken`]).
    pub fn is_fault(self) -> bool {
        !matches!(
            self,
            Scenario::Healthy
                | Scenario::Incompatible4030
                | Scenario::Subscription4031
                | Scenario::ApiAccess4032
                | Scenario::GatewayForbidden
                | Scenario::Throttled
                | Scenario::ServerError
                | Scenario::NotAToken
        )
    }

    /// One line for help texts: what the simulator does in this scenario.
    pub fn describe(self) -> &'static str {
        match self {
            Scenario::Healthy => "200 with a fresh token",
            Scenario::Incompatible4030 => "403 with Act! code 4030",
            Scenario::Subscription4031 => "403 with Act! code 4031",
            Scenario::ApiAccess4032 => "403 with Act! code 4032",
            Scenario::GatewayForbidden => "403 from an API gateway",
            Scenario::Throttled => "429 with Retry-After: 30",
            Scenario::ServerError => "500 with an ASP.NET error",
            Scenario::NotAToken => "200 with an HTML login page (alias html-200)",
            Scenario::Hang => "reads the request, never answers",
            Scenario::Slow(_) => "a token after a delay (slow-5s, delay-5s; default 3s)",
            Scenario::Reset => "resets the connection without a response",
            Scenario::HugeBody => "200 with a 10 MB streamed body",
            Scenario::NoExp => "a token without exp",
            Scenario::Expired => "a token whose exp has passed",
            Scenario::FutureIat => "a token whose iat is 10 minutes ahead",
            Scenario::SkewedDate => "server clock 10 minutes ahead (Date and claims)",
            Scenario::BadRateHeaders => "a token with non-numeric X-RateLimit-* headers",
            Scenario::ResetSeconds => "429, X-RateLimit-Reset in seconds from now",
            Scenario::ResetEpoch => "429, X-RateLimit-Reset as Unix seconds",
            Scenario::ResetEpochMs => "429, X-RateLimit-Reset as Unix milliseconds",
            Scenario::ResetHttpDate => "429, X-RateLimit-Reset as an HTTP date",
            Scenario::ResetRfc3339 => "429, X-RateLimit-Reset as RFC 3339",
            Scenario::ThrottledNoRetryAfter => "429 without Retry-After",
            Scenario::DropEarly => "tokens revoked after a quarter of their lifetime",
        }
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scenario::Slow(delay) => write!(f, "slow-{}", humantime::format_duration(*delay)),
            other => f.write_str(other.name()),
        }
    }
}

/// Parses a scenario name as printed by `Display` (case-insensitive, `_` taken as `-`).
///
/// The bare codes `4030`, `4031` and `4032` are accepted too, `html-200` for
/// `not-a-token`, and `slow`, `slow-DURATION` or `delay-DURATION` (humantime,
/// e.g. `delay-5s`, `slow-1500ms`) for [`Scenario::Slow`].
pub fn parse_scenario(s: &str) -> Option<Scenario> {
    let wanted = s.trim().to_ascii_lowercase().replace('_', "-");
    match wanted.as_str() {
        "4030" => return Some(Scenario::Incompatible4030),
        "4031" => return Some(Scenario::Subscription4031),
        "4032" => return Some(Scenario::ApiAccess4032),
        "html-200" => return Some(Scenario::NotAToken),
        "slow" | "delay" => return Some(Scenario::Slow(DEFAULT_SLOW)),
        _ => {}
    }
    if let Some(delay) = wanted
        .strip_prefix("slow-")
        .or_else(|| wanted.strip_prefix("delay-"))
    {
        return humantime::parse_duration(delay).ok().map(Scenario::Slow);
    }
    Scenario::ALL
        .into_iter()
        .find(|sc| !matches!(sc, Scenario::Slow(_)) && sc.name() == wanted)
}

/// The scenario a database name selects: `fault-NAME` for any name
/// [`parse_scenario`] reads (case-insensitive), else `None`.
pub fn fault_database_scenario(database: &str) -> Option<Scenario> {
    let lower = database.trim().to_ascii_lowercase();
    lower
        .strip_prefix(FAULT_DATABASE_PREFIX)
        .and_then(parse_scenario)
}

/// One Act! login the simulator accepts.
#[derive(Clone, PartialEq, Eq)]
pub struct SimUser {
    /// The Act! database this login belongs to (matched case-insensitively).
    pub database: String,
    /// The login name (matched case-insensitively, like Act!).
    pub user: String,
    /// The password (matched exactly). Held in plain text: it is the
    /// simulator's own made-up credential, yet it is still never printed.
    pub password: String,
    /// How the simulator answers once the credentials are right.
    pub scenario: Scenario,
    /// Token lifetime for this user; `None` uses [`SimConfig::token_lifetime`].
    pub lifetime: Option<Duration>,
    /// Calls per minute for this user; `None` uses [`SimConfig::rate_limit`].
    pub rate_limit: Option<u64>,
}

impl SimUser {
    /// A healthy user with the server's default lifetime and rate limit.
    pub fn new(
        database: impl Into<String>,
        user: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        Self {
            database: database.into(),
            user: user.into(),
            password: password.into(),
            scenario: Scenario::Healthy,
            lifetime: None,
            rate_limit: None,
        }
    }

    /// Sets the scenario.
    #[must_use]
    pub fn with_scenario(mut self, scenario: Scenario) -> Self {
        self.scenario = scenario;
        self
    }

    /// Sets this user's token lifetime.
    #[must_use]
    pub fn with_lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = Some(lifetime);
        self
    }

    /// Sets this user's per-minute rate limit.
    #[must_use]
    pub fn with_rate_limit(mut self, per_minute: u64) -> Self {
        self.rate_limit = Some(per_minute);
        self
    }
}

impl fmt::Debug for SimUser {
    // Hand-written so the password never reaches a log line or a panic message.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimUser")
            .field("database", &self.database)
            .field("user", &self.user)
            .field("password", &"***")
            .field("scenario", &self.scenario)
            .field("lifetime", &self.lifetime)
            .field("rate_limit", &self.rate_limit)
            .finish()
    }
}

/// Everything a simulator instance is started with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimConfig {
    /// Lifetime of issued tokens unless a user overrides it (Act! on-premises: 65 minutes).
    pub token_lifetime: Duration,
    /// Calls per minute per user unless a user overrides it; `None` sends no
    /// rate-limit headers at all (like an on-premises server).
    pub rate_limit: Option<u64>,
    /// The logins the simulator accepts.
    pub users: Vec<SimUser>,
    /// Further databases that exist but have no login here: every Basic
    /// login to them gets the same bare 401 as an unknown database.
    /// Listed for completeness of the help page and the stats.
    pub databases: Vec<String>,
    /// The simulator's clock minus the real clock, in seconds. Shifts the
    /// token times, the rate windows and the `Date` header, so clients can
    /// be tested against skew. Can be moved later with
    /// [`SimServer::advance_clock`](super::SimServer::advance_clock).
    pub clock_offset_secs: i64,
    /// Whether a Bearer refresh revokes the token it was given. Unknown on
    /// real servers; off by default, so the old token stays good until it expires.
    pub revoke_on_refresh: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            token_lifetime: Duration::from_secs(65 * 60),
            rate_limit: None,
            users: Vec::new(),
            databases: Vec::new(),
            clock_offset_secs: 0,
            revoke_on_refresh: false,
        }
    }
}

/// One row of the demo's user table: database, user, password, scenario,
/// lifetime in seconds, rate limit per minute.
type DemoRow = (
    &'static str,
    &'static str,
    &'static str,
    Scenario,
    Option<u64>,
    Option<u64>,
);

/// The demo's logins. Kept as data so the demo can be tuned in one place.
const DEMO_USERS: [DemoRow; 6] = [
    (
        "Acme_Healthy",
        "Jane Doe",
        "demo",
        Scenario::Healthy,
        None,
        None,
    ),
    // Short tokens so refreshes happen while someone watches the demo.
    (
        "Bobs_Fast",
        "bob@example.com",
        "demo",
        Scenario::Healthy,
        Some(90),
        None,
    ),
    // The demo's connection file sends a wrong password for Carol on purpose.
    (
        "Carol_Wrong",
        "Carol",
        "right-password",
        Scenario::Healthy,
        None,
        None,
    ),
    (
        "Dave_4031",
        "Dave",
        "demo",
        Scenario::Subscription4031,
        None,
        None,
    ),
    (
        "Erin_4032",
        "Erin",
        "demo",
        Scenario::ApiAccess4032,
        None,
        None,
    ),
    (
        "Frank_Limited",
        "Frank",
        "demo",
        Scenario::Healthy,
        Some(60),
        Some(3),
    ),
];

impl SimConfig {
    /// The configuration `actsm demo` runs: six logins, one per thing worth seeing.
    ///
    /// | database        | user              | password         | behaviour                     |
    /// |-----------------|-------------------|------------------|-------------------------------|
    /// | `Acme_Healthy`  | `Jane Doe`        | `demo`           | 65-minute tokens              |
    /// | `Bobs_Fast`     | `bob@example.com` | `demo`           | 90-second tokens              |
    /// | `Carol_Wrong`   | `Carol`           | `right-password` | healthy (demo sends a wrong one) |
    /// | `Dave_4031`     | `Dave`            | `demo`           | 403 with 4031                 |
    /// | `Erin_4032`     | `Erin`            | `demo`           | 403 with 4032                 |
    /// | `Frank_Limited` | `Frank`           | `demo`           | 3 calls/min, 1-minute tokens  |
    pub fn demo() -> Self {
        let users = DEMO_USERS
            .iter()
            .map(
                |&(database, user, password, scenario, lifetime, rate_limit)| SimUser {
                    database: database.to_owned(),
                    user: user.to_owned(),
                    password: password.to_owned(),
                    scenario,
                    lifetime: lifetime.map(Duration::from_secs),
                    rate_limit,
                },
            )
            .collect();
        Self {
            users,
            ..Self::default()
        }
    }

    /// The effective token lifetime for `user`.
    pub fn lifetime_for(&self, user: &SimUser) -> Duration {
        user.lifetime.unwrap_or(self.token_lifetime)
    }

    /// The effective per-minute limit for `user`, `None` when unmetered.
    pub fn rate_limit_for(&self, user: &SimUser) -> Option<u64> {
        user.rate_limit.or(self.rate_limit)
    }

    /// The configured spelling of `name` when some user or listed database has it
    /// (case-insensitive, as SQL Server names are), else `None`.
    pub fn canonical_database(&self, name: &str) -> Option<&str> {
        self.users
            .iter()
            .map(|u| u.database.as_str())
            .chain(self.databases.iter().map(String::as_str))
            .find(|db| db.eq_ignore_ascii_case(name))
    }

    /// Like [`SimConfig::canonical_database`], and a `fault-NAME` database
    /// (see [`fault_database_scenario`]) is known too, under its lower-cased name.
    pub fn database_name(&self, name: &str) -> Option<Cow<'_, str>> {
        if let Some(db) = self.canonical_database(name) {
            return Some(Cow::Borrowed(db));
        }
        fault_database_scenario(name).map(|_| Cow::Owned(name.trim().to_ascii_lowercase()))
    }

    /// The login `user` in `database`: a configured one, or else, for a
    /// `fault-NAME` database, any user name with the password [`FAULT_PASSWORD`]
    /// answered with that scenario. Password not checked.
    pub fn login(&self, database: &str, user: &str) -> Option<Cow<'_, SimUser>> {
        if let Some(found) = self.find_user(database, user) {
            return Some(Cow::Borrowed(found));
        }
        let scenario = fault_database_scenario(database)?;
        let mut login = SimUser::new(database.trim().to_ascii_lowercase(), user, FAULT_PASSWORD)
            .with_scenario(scenario);
        if scenario == Scenario::DropEarly {
            login.lifetime = Some(DROP_EARLY_LIFETIME.min(self.token_lifetime));
        }
        Some(Cow::Owned(login))
    }

    /// The user named `user` in `database` (both case-insensitive), password not checked.
    pub fn find_user(&self, database: &str, user: &str) -> Option<&SimUser> {
        self.users.iter().find(|u| {
            u.database.eq_ignore_ascii_case(database) && u.user.eq_ignore_ascii_case(user)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_names_round_trip() {
        for sc in Scenario::ALL {
            assert_eq!(parse_scenario(&sc.to_string()), Some(sc));
        }
        assert_eq!(
            parse_scenario("API_ACCESS_4032"),
            Some(Scenario::ApiAccess4032)
        );
        assert_eq!(parse_scenario("4031"), Some(Scenario::Subscription4031));
        assert_eq!(parse_scenario("nonsense"), None);
        assert_eq!(parse_scenario("html-200"), Some(Scenario::NotAToken));
        assert_eq!(
            parse_scenario("delay-5s"),
            Some(Scenario::Slow(Duration::from_secs(5)))
        );
        assert_eq!(
            parse_scenario("slow-1500ms"),
            Some(Scenario::Slow(Duration::from_millis(1500)))
        );
        assert_eq!(parse_scenario("slow"), Some(Scenario::Slow(DEFAULT_SLOW)));
        assert_eq!(parse_scenario("slow-soon"), None);
        let faults = Scenario::ALL.iter().filter(|sc| sc.is_fault()).count();
        assert_eq!(faults, 16);
        assert!(!Scenario::Throttled.is_fault() && Scenario::Slow(DEFAULT_SLOW).is_fault());
    }

    #[test]
    fn fault_databases_select_their_scenario() {
        assert_eq!(fault_database_scenario("fault-hang"), Some(Scenario::Hang));
        assert_eq!(
            fault_database_scenario("FAULT-Delay-2s"),
            Some(Scenario::Slow(Duration::from_secs(2)))
        );
        assert_eq!(fault_database_scenario("fault-nonsense"), None);
        assert_eq!(fault_database_scenario("hang"), None);

        let config = SimConfig::demo();
        let login = config
            .login("Fault-Reset", "anyone")
            .expect("a fault login");
        assert_eq!(login.scenario, Scenario::Reset);
        assert_eq!(login.password, FAULT_PASSWORD);
        assert_eq!(login.database, "fault-reset");
        assert_eq!(
            config.database_name("FAULT-reset").as_deref(),
            Some("fault-reset")
        );
        assert!(config.login("Unknown_Db", "anyone").is_none());
        let drop = config
            .login("fault-drop-early", "x")
            .expect("a fault login");
        assert_eq!(config.lifetime_for(&drop), DROP_EARLY_LIFETIME);
    }

    #[test]
    fn user_debug_hides_password() {
        let u = SimUser::new("Db", "Jane", "s3cret-pw");
        let printed = format!("{u:?}");
        assert!(!printed.contains("s3cret-pw"));
        assert!(printed.contains("Jane"));
    }

    #[test]
    fn demo_has_the_six_databases() {
        let demo = SimConfig::demo();
        let dbs: Vec<&str> = demo.users.iter().map(|u| u.database.as_str()).collect();
        assert_eq!(
            dbs,
            [
                "Acme_Healthy",
                "Bobs_Fast",
                "Carol_Wrong",
                "Dave_4031",
                "Erin_4032",
                "Frank_Limited"
            ]
        );
        let frank = demo
            .find_user("frank_limited", "FRANK")
            .expect("Frank is in the demo");
        assert_eq!(demo.rate_limit_for(frank), Some(3));
        assert_eq!(demo.lifetime_for(frank), Duration::from_secs(60));
        let jane = demo
            .find_user("Acme_Healthy", "Jane Doe")
            .expect("Jane is in the demo");
        assert_eq!(demo.lifetime_for(jane), Duration::from_secs(65 * 60));
        assert_eq!(demo.canonical_database("BOBS_FAST"), Some("Bobs_Fast"));
    }
}
