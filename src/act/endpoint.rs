//! API base URLs: validation and the routes under them.
//!
//! Two base forms exist (ACT-API.md, "Base URL"): on-premises
//! `https://host/act.web.api` and Act! Premium Cloud
//! `https://server/<customer>-api/act.web.api`. Path case varies between
//! installs and IIS ignores it, so we keep whatever case the user wrote.

use url::{Host, Url};

/// The hint every base-URL error ends with: the two forms a base can take.
const FORMS_HINT: &str = "the base URL should end in 'act.web.api': on-premises \
    'https://host/act.web.api', Act! Cloud 'https://server/customer-api/act.web.api'";

/// Why a base URL (or a login URL) cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    /// Nothing was given.
    #[error("the base URL is empty; {FORMS_HINT}")]
    Empty,
    /// The text does not parse as a URL at all.
    #[error("'{value}' is not a URL ({reason}); {FORMS_HINT}")]
    Invalid {
        /// The value as given (trimmed).
        value: String,
        /// What the parser objected to.
        reason: String,
    },
    /// A scheme other than `http` or `https`.
    #[error(
        "'{value}' uses scheme '{scheme}'; use https:// (or http:// for a plain on-premises server); {FORMS_HINT}"
    )]
    Scheme {
        /// The value as given (trimmed).
        value: String,
        /// The scheme found.
        scheme: String,
    },
    /// No host name.
    #[error("'{value}' has no host name; {FORMS_HINT}")]
    NoHost {
        /// The value as given (trimmed).
        value: String,
    },
    /// User name or password inside the URL: they belong in the connection's user and secret.
    #[error(
        "the base URL contains a user name or password; remove it (the user and the secret source are set separately)"
    )]
    Credentials,
    /// A `?query` or `#fragment`, which would end up in the middle of every route.
    #[error("'{value}' has a query or fragment ('?...' or '#...'); remove it; {FORMS_HINT}")]
    QueryOrFragment {
        /// The value as given (trimmed).
        value: String,
    },
}

/// Validates and normalizes an API base URL.
///
/// Trims whitespace, requires an `http` or `https` scheme and a host, refuses
/// credentials, queries and fragments, and drops trailing slashes. The path's
/// case is kept (IIS ignores it, and the user may want to see what they typed).
pub fn normalize_base(url: &str) -> Result<String, EndpointError> {
    let value = url.trim();
    if value.is_empty() {
        return Err(EndpointError::Empty);
    }

    let parsed = parse(value)?;
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(EndpointError::QueryOrFragment {
            value: value.to_owned(),
        });
    }

    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

/// The value with any `user:password@` hidden, for quoting in an error.
fn redacted(value: &str) -> String {
    let Some((scheme, rest)) = value.split_once("://") else {
        return value.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => value.to_owned(),
    }
}

/// Parses and checks scheme, host and credentials; shared by both entry points.
fn parse(raw: &str) -> Result<Url, EndpointError> {
    let shown = redacted(raw);
    let value = shown.as_str();
    // The URL standard reads "https:///act.web.api" as host "act.web.api": catch the slip.
    if value
        .split_once("://")
        .is_some_and(|(_, rest)| rest.is_empty() || rest.starts_with('/'))
    {
        return Err(EndpointError::NoHost {
            value: value.to_owned(),
        });
    }
    let parsed = Url::parse(raw).map_err(|e| {
        // "relative URL without a base" means the scheme was left out: say so plainly.
        let reason = if e == url::ParseError::RelativeUrlWithoutBase {
            "it has no scheme; start it with https://".to_owned()
        } else {
            e.to_string()
        };
        EndpointError::Invalid {
            value: value.to_owned(),
            reason,
        }
    })?;

    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(EndpointError::Credentials);
    }
    match parsed.scheme() {
        "http" | "https" => {}
        other => {
            return Err(EndpointError::Scheme {
                value: value.to_owned(),
                scheme: other.to_owned(),
            });
        }
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(EndpointError::NoHost {
            value: value.to_owned(),
        });
    }
    Ok(parsed)
}

/// Joins a base and a route without doubling or losing the slash.
fn join(base: &str, route: &str) -> String {
    format!("{}/{route}", base.trim().trim_end_matches('/'))
}

/// `{base}/authorize`: where tokens come from.
pub fn authorize_url(base: &str) -> String {
    join(base, "authorize")
}

/// `{base}/api/system`: the anonymous version endpoint.
pub fn system_url(base: &str) -> String {
    join(base, "api/system")
}

/// True when the base's last path segment is `act.web.api`, in any case.
///
/// Config validation warns (not fails) when this is false: a reverse proxy may
/// publish the API under another path.
pub fn ends_with_act_web_api(base: &str) -> bool {
    base.trim()
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .is_some_and(|last| last.eq_ignore_ascii_case("act.web.api"))
}

/// True when the base points at this machine (`localhost`, `127.0.0.0/8`, `::1`).
///
/// Plain `http://` is only unremarkable there: anywhere else the password travels in clear.
pub fn is_loopback(base: &str) -> bool {
    let Ok(parsed) = Url::parse(base.trim()) else {
        return false;
    };
    match parsed.host() {
        Some(Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        None => false,
    }
}

/// Derives the API base from what a user has at hand: the browser login URL.
///
/// - Act! Cloud login `https://server/CustomerName/...` gives
///   `https://server/customername-api/act.web.api` (the customer segment,
///   lower-cased, with `-api`; ACT-API.md, "Base URL").
/// - A URL that already is an API base (or a route under one, like
///   `.../act.web.api/authorize`) is returned normalized, cut after `act.web.api`.
/// - A bare on-premises host `https://host` or `https://host/` gives `https://host/act.web.api`.
///
/// Query and fragment of a login URL are ignored (browsers add them freely).
pub fn cloud_base_from_login_url(login: &str) -> Result<String, EndpointError> {
    let value = login.trim();
    if value.is_empty() {
        return Err(EndpointError::Empty);
    }
    let mut parsed = parse(value)?;
    parsed.set_query(None);
    parsed.set_fragment(None);

    let segments: Vec<String> = parsed
        .path_segments()
        .map(|s| s.filter(|seg| !seg.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();

    // Already an API base, or a route below one: keep everything up to act.web.api.
    if let Some(pos) = segments
        .iter()
        .position(|s| s.eq_ignore_ascii_case("act.web.api"))
    {
        parsed.set_path(&segments[..=pos].join("/"));
        return normalize_base(parsed.as_str());
    }

    let path = match segments.first() {
        None => "act.web.api".to_owned(),
        Some(customer) => {
            let customer = customer.to_lowercase();
            if customer.ends_with("-api") {
                format!("{customer}/act.web.api")
            } else {
                format!("{customer}-api/act.web.api")
            }
        }
    };
    parsed.set_path(&path);
    normalize_base(parsed.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_trims_and_drops_trailing_slashes_keeping_path_case() {
        assert_eq!(
            normalize_base("  https://Acme.example/Act.Web.API//  ").unwrap(),
            "https://acme.example/Act.Web.API"
        );
        assert_eq!(
            normalize_base("http://localhost:8080/act.web.api").unwrap(),
            "http://localhost:8080/act.web.api"
        );
        assert_eq!(normalize_base("https://host/").unwrap(), "https://host");
    }

    #[test]
    fn normalize_errors_say_what_to_fix() {
        let e = normalize_base("").unwrap_err();
        assert_eq!(e, EndpointError::Empty);
        assert!(e.to_string().contains("act.web.api"));

        let e = normalize_base("host.example/act.web.api").unwrap_err();
        assert!(matches!(e, EndpointError::Invalid { .. }), "{e:?}");
        assert!(e.to_string().contains("https://"), "{e}");
        assert!(
            e.to_string()
                .contains("https://server/customer-api/act.web.api"),
            "{e}"
        );

        let e = normalize_base("ftp://host/act.web.api").unwrap_err();
        assert!(matches!(e, EndpointError::Scheme { ref scheme, .. } if scheme == "ftp"));
        assert!(e.to_string().contains("https://host/act.web.api"), "{e}");

        let e = normalize_base("https://jane:pw@host/act.web.api").unwrap_err();
        assert_eq!(e, EndpointError::Credentials);
        assert!(!e.to_string().contains("pw"));

        let e = normalize_base("ftp://jane:hunter2@host/x").unwrap_err();
        assert_eq!(e, EndpointError::Credentials);
        let e = normalize_base("https://jane:hunter2@ho st/x").unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");

        let e = normalize_base("https://host/act.web.api?x=1").unwrap_err();
        assert!(matches!(e, EndpointError::QueryOrFragment { .. }));

        assert!(normalize_base("https:///act.web.api").is_err());
    }

    #[test]
    fn routes_join_with_one_slash() {
        assert_eq!(
            authorize_url("https://h/act.web.api/"),
            "https://h/act.web.api/authorize"
        );
        assert_eq!(
            authorize_url("https://h/act.web.api"),
            "https://h/act.web.api/authorize"
        );
        assert_eq!(
            system_url("https://h/Act.Web.API"),
            "https://h/Act.Web.API/api/system"
        );
    }

    #[test]
    fn act_web_api_suffix_is_case_insensitive() {
        assert!(ends_with_act_web_api("https://h/act.web.api"));
        assert!(ends_with_act_web_api("https://h/x-api/Act.Web.API/"));
        assert!(!ends_with_act_web_api("https://h/api"));
        assert!(!ends_with_act_web_api("https://h/act.web.api/authorize"));
        assert!(!ends_with_act_web_api("https://h/myact.web.api"));
    }

    #[test]
    fn loopback_detection() {
        assert!(is_loopback("http://localhost/act.web.api"));
        assert!(is_loopback("http://LOCALHOST:5000"));
        assert!(is_loopback("http://127.0.0.1:8080/act.web.api"));
        assert!(is_loopback("http://127.1.2.3"));
        assert!(is_loopback("http://[::1]:9000/act.web.api"));
        assert!(!is_loopback("https://act.example/act.web.api"));
        assert!(!is_loopback("http://10.0.0.1/act.web.api"));
        assert!(!is_loopback("http://localhost.example.com/"));
        assert!(!is_loopback("not a url"));
    }

    #[test]
    fn cloud_base_from_browser_login() {
        assert_eq!(
            cloud_base_from_login_url("https://server.example/BobsOldRed/").unwrap(),
            "https://server.example/bobsoldred-api/act.web.api"
        );
        assert_eq!(
            cloud_base_from_login_url("https://server.example/BobsOldRed/Login.aspx?x=1#top")
                .unwrap(),
            "https://server.example/bobsoldred-api/act.web.api"
        );
        assert_eq!(
            cloud_base_from_login_url("https://server.example/bobsoldred-api").unwrap(),
            "https://server.example/bobsoldred-api/act.web.api"
        );
    }

    #[test]
    fn cloud_base_keeps_api_bases_and_completes_bare_hosts() {
        assert_eq!(
            cloud_base_from_login_url(" https://s.example/bob-api/Act.Web.API/ ").unwrap(),
            "https://s.example/bob-api/Act.Web.API"
        );
        assert_eq!(
            cloud_base_from_login_url("https://s.example/act.web.api/authorize").unwrap(),
            "https://s.example/act.web.api"
        );
        assert_eq!(
            cloud_base_from_login_url("https://host.example").unwrap(),
            "https://host.example/act.web.api"
        );
        assert_eq!(
            cloud_base_from_login_url("http://host.example:8080/").unwrap(),
            "http://host.example:8080/act.web.api"
        );
        assert!(cloud_base_from_login_url("mailto:x@y").is_err());
        assert!(cloud_base_from_login_url("   ").is_err());
    }
}
