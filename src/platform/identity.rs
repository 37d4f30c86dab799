//! A platform's stable identity: what journals and their locks are keyed by. Never a URL as it
//! was typed: a sandbox restarted on another port, or reached once as `--sandbox DIR` and once as
//! `--api http://localhost:PORT`, is one platform, so two runs of a plan find one journal and one
//! lock.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PlatformIdentity {
    /// A sandbox: the ID created once in its directory (it survives restarts on new ports).
    Sandbox { instance: String },
    /// An HTTP API without an instance ID of its own: its normalized origin and the organization
    /// the token belongs to.
    Api {
        origin: String,
        organization: String,
    },
    /// The `setops` CLI: the organization it is logged in to, and the API it talks to.
    Cli { organization: String, api: String },
}

impl fmt::Display for PlatformIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlatformIdentity::Sandbox { instance } => write!(f, "sandbox {instance}"),
            PlatformIdentity::Api {
                origin,
                organization,
            } => write!(f, "{origin} (organization {organization})"),
            PlatformIdentity::Cli { organization, api } => {
                write!(f, "setops CLI at {api} (organization {organization})")
            }
        }
    }
}

impl PlatformIdentity {
    /// The text journal file names are derived from; changing it would lose every journal.
    pub fn stable_key(&self) -> String {
        match self {
            PlatformIdentity::Sandbox { instance } => format!("sandbox\0{instance}"),
            PlatformIdentity::Api {
                origin,
                organization,
            } => format!("api\0{origin}\0{organization}"),
            PlatformIdentity::Cli { organization, api } => format!("cli\0{api}\0{organization}"),
        }
    }
}

/// The origin of an API base URL in one spelling: lowercase scheme and host, the default port
/// made explicit, every loopback name (`localhost`, `127.0.0.1`, `[::1]`) as `localhost`, and
/// the path prefix without a trailing slash. `None` when `base` is not an http(s) URL.
pub fn normalized_origin(base: &str) -> Option<String> {
    let url = url::Url::parse(base.trim()).ok()?;
    let scheme = url.scheme().to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let host = match url.host()? {
        url::Host::Domain(d) if d.eq_ignore_ascii_case("localhost") => "localhost".to_owned(),
        url::Host::Domain(d) => d.to_ascii_lowercase(),
        url::Host::Ipv4(ip) if ip.is_loopback() => "localhost".to_owned(),
        url::Host::Ipv6(ip) if ip.is_loopback() => "localhost".to_owned(),
        url::Host::Ipv4(ip) => ip.to_string(),
        url::Host::Ipv6(ip) => format!("[{ip}]"),
    };
    let port = url.port_or_known_default()?;
    let path = url.path().trim_end_matches('/');
    Some(format!("{scheme}://{host}:{port}{path}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_origin_are_one() {
        let one = normalized_origin("http://localhost:8080").unwrap();
        for other in [
            "http://127.0.0.1:8080/",
            "HTTP://LOCALHOST:8080",
            "http://[::1]:8080",
            "http://127.0.0.1:8080?x=1",
        ] {
            assert_eq!(
                normalized_origin(other).as_deref(),
                Some(one.as_str()),
                "{other}"
            );
        }
        assert_eq!(
            normalized_origin("https://API.setops.co").as_deref(),
            Some("https://api.setops.co:443")
        );
        assert_eq!(
            normalized_origin("https://api.setops.co:443/v1/").as_deref(),
            Some("https://api.setops.co:443/v1")
        );
    }

    #[test]
    fn other_ports_hosts_and_schemes_differ() {
        let a = normalized_origin("http://localhost:8080");
        assert_ne!(a, normalized_origin("http://localhost:8081"));
        assert_ne!(a, normalized_origin("https://localhost:8080"));
        assert_ne!(a, normalized_origin("http://example.org:8080"));
        assert_eq!(normalized_origin("ftp://x"), None);
        assert_eq!(normalized_origin("not a url"), None);
    }

    #[test]
    fn identities_read_as_text() {
        let s = PlatformIdentity::Sandbox {
            instance: "abc".into(),
        };
        assert_eq!(s.to_string(), "sandbox abc");
        let a = PlatformIdentity::Api {
            origin: "https://api.setops.co:443".into(),
            organization: "acme".into(),
        };
        assert_eq!(
            a.to_string(),
            "https://api.setops.co:443 (organization acme)"
        );
    }
}
