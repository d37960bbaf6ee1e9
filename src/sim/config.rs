//! What the simulator knows: its users, databases, scenarios and timings.

use std::fmt;
use std::time::Duration;

/// How the simulator answers a user whose credentials are right.
///
/// Each variant mimics one answer a real Act! server (or something in front
/// of it) has been seen to give; see `ACT-API.md`.
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
    /// 200 whose body is an HTML login page instead of a token.
    NotAToken,
}

impl Scenario {
    /// Every scenario, in declaration order (for help texts and `--scenario` listings).
    pub const ALL: [Scenario; 8] = [
        Scenario::Healthy,
        Scenario::Incompatible4030,
        Scenario::Subscription4031,
        Scenario::ApiAccess4032,
        Scenario::GatewayForbidden,
        Scenario::Throttled,
        Scenario::ServerError,
        Scenario::NotAToken,
    ];

    /// The kebab-case name used on the command line and in logs.
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
        }
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Parses a scenario name as printed by `Display` (case-insensitive, `_` taken as `-`).
///
/// The bare codes `4030`, `4031` and `4032` are accepted too.
pub fn parse_scenario(s: &str) -> Option<Scenario> {
    let wanted = s.trim().to_ascii_lowercase().replace('_', "-");
    match wanted.as_str() {
        "4030" => return Some(Scenario::Incompatible4030),
        "4031" => return Some(Scenario::Subscription4031),
        "4032" => return Some(Scenario::ApiAccess4032),
        _ => {}
    }
    Scenario::ALL.into_iter().find(|sc| sc.name() == wanted)
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
