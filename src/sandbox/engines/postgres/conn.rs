//! Reaching a PostgreSQL server with its client programs: where it listens, who logs in, and
//! the quoting of what goes into SQL and libpq connection strings. Passwords travel in
//! PGPASSWORD only, never in argv (any local user can read another process's argv).

use std::path::Path;
use std::process::Command;

use crate::sandbox::engines::urlencode;
use crate::sandbox::{Error, Result};

/// How long a client waits for a connection before giving up (libpq seconds).
const CONNECT_TIMEOUT_SECS: &str = "10";

/// Where a server listens, plus libpq parameters an admin URL carried (`sslmode`, ...).
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    pub host: String,
    pub port: u16,
    pub params: Vec<(String, String)>,
}

/// Who connects to which database.
#[derive(Clone, Copy)]
pub(crate) struct Login<'a> {
    pub user: &'a str,
    pub password: &'a str,
    pub database: &'a str,
}

/// A superuser login: what an admin URL says, or the sandbox's own cluster's superuser.
#[derive(Clone)]
pub(crate) struct Superuser {
    pub endpoint: Endpoint,
    pub user: String,
    pub password: String,
    /// The database admin statements run in (`CREATE ROLE`, `DROP DATABASE`).
    pub database: String,
}

impl std::fmt::Debug for Superuser {
    /// Without the password: this may end up in a panic message or a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Superuser({}@{}:{}/{})",
            self.user, self.endpoint.host, self.endpoint.port, self.database
        )
    }
}

impl Superuser {
    /// Reads `postgresql://user:password@host:port/database?param=value`. The error names what
    /// is wrong but never repeats the URL (it holds a password).
    pub(crate) fn from_url(text: &str) -> Result<Superuser> {
        const WHAT: &str = "the PostgreSQL admin URL (--postgres-url)";
        let url = url::Url::parse(text).map_err(|e| {
            Error::Engine(format!("{WHAT} is not a URL ({e}); write it as postgresql://USER:PASSWORD@HOST:PORT/DATABASE"))
        })?;
        if !matches!(url.scheme(), "postgresql" | "postgres") {
            return Err(Error::Engine(format!(
                "{WHAT} starts with {:?}; it must start with postgresql://",
                url.scheme()
            )));
        }
        let user = percent_decode(url.username(), WHAT)?;
        if user.is_empty() {
            return Err(Error::Engine(format!(
                "{WHAT} names no user; write it as postgresql://USER:PASSWORD@HOST:PORT/DATABASE"
            )));
        }
        let password = percent_decode(url.password().unwrap_or(""), WHAT)?;
        let host = match url.host() {
            Some(url::Host::Ipv6(addr)) => addr.to_string(),
            Some(host) => host.to_string(),
            None => "localhost".to_owned(),
        };
        let database = match url.path().trim_start_matches('/') {
            "" => "postgres".to_owned(),
            path => percent_decode(path, WHAT)?,
        };
        let mut su = Superuser {
            endpoint: Endpoint {
                host,
                port: url.port().unwrap_or(5432),
                params: Vec::new(),
            },
            user,
            password,
            database,
        };
        for (key, value) in url.query_pairs() {
            let value = value.into_owned();
            match &*key {
                "host" => su.endpoint.host = value,
                "port" => {
                    su.endpoint.port = value.parse().map_err(|_| {
                        Error::Engine(format!("{WHAT} has port={value:?}, not a port number"))
                    })?
                }
                "user" => su.user = value,
                "password" => su.password = value,
                "dbname" => su.database = value,
                _ => su.endpoint.params.push((key.into_owned(), value)),
            }
        }
        Ok(su)
    }

    /// The superuser as a URL, for whoever shares the server (tests hand it to sandboxes).
    pub(crate) fn url(&self) -> String {
        let mut url = self
            .endpoint
            .url(&self.user, &self.password, &self.database);
        for (i, (key, value)) in self.endpoint.params.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(&format!("{}={}", urlencode(key), urlencode(value)));
        }
        url
    }

    pub(crate) fn login(&self) -> Login<'_> {
        self.login_to(&self.database)
    }

    /// The superuser in another database (a service's, to create extensions there).
    pub(crate) fn login_to<'a>(&'a self, database: &'a str) -> Login<'a> {
        Login {
            user: &self.user,
            password: &self.password,
            database,
        }
    }
}

impl Endpoint {
    /// `postgresql://user:password@host:port/database`, what a linked app receives.
    pub(crate) fn url(&self, user: &str, password: &str, database: &str) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        format!(
            "postgresql://{}:{}@{host}:{}/{}",
            urlencode(user),
            urlencode(password),
            self.port,
            urlencode(database)
        )
    }

    /// `program -w -d '<conninfo>'` with the password in PGPASSWORD. The caller adds the
    /// program's other arguments. PG* variables of this process are cleared so that a PGDATABASE
    /// or PGSERVICE set by the user cannot redirect the sandbox's statements.
    pub(crate) fn command(&self, program: &Path, login: Login<'_>) -> Command {
        let mut conninfo = format!(
            "host={} port={} user={} dbname={}",
            conninfo_value(&self.host),
            self.port,
            conninfo_value(login.user),
            conninfo_value(login.database)
        );
        for (key, value) in &self.params {
            conninfo.push_str(&format!(" {key}={}", conninfo_value(value)));
        }
        let mut cmd = Command::new(program);
        clear_pg_env(&mut cmd);
        cmd.env("PGPASSWORD", login.password)
            .env("PGCONNECT_TIMEOUT", CONNECT_TIMEOUT_SECS)
            .env("PGAPPNAME", "setops-sandbox")
            .arg("-w")
            .arg("-d")
            .arg(conninfo);
        cmd
    }
}

/// Removes every PG* variable this process has from `cmd`'s environment.
pub(crate) fn clear_pg_env(cmd: &mut Command) {
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PG") {
            cmd.env_remove(key);
        }
    }
}

/// A value in a libpq `key=value` connection string.
fn conninfo_value(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// An SQL identifier, quoted so any name is taken literally.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// An SQL string literal; an `E'...'` literal when backslashes are in it, so the result does
/// not depend on the server's `standard_conforming_strings`.
pub(crate) fn quote_literal(value: &str) -> String {
    let doubled = value.replace('\'', "''");
    if value.contains('\\') {
        format!("E'{}'", doubled.replace('\\', "\\\\"))
    } else {
        format!("'{doubled}'")
    }
}

fn percent_decode(text: &str, what: &str) -> Result<String> {
    // The crate passes a malformed escape through as text; a URL we were given must not mean
    // something other than what was typed, so a malformed one is refused first.
    let bytes = text.as_bytes();
    let well_formed = bytes.iter().enumerate().all(|(i, &b)| {
        b != b'%'
            || bytes
                .get(i + 1..i + 3)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
    });
    if !well_formed {
        return Err(Error::Engine(format!(
            "{what} has a bad %-escape; write %XX with two hex digits"
        )));
    }
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| Error::Engine(format!("{what} has %-escapes that are not UTF-8")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_urls_are_read_with_defaults_and_escapes() {
        let su = Superuser::from_url(
            "postgresql://ad%40min:p%2Fw%3A@db.example:6543/main?sslmode=require",
        )
        .expect("parses");
        assert_eq!(su.user, "ad@min");
        assert_eq!(su.password, "p/w:");
        assert_eq!(su.endpoint.host, "db.example");
        assert_eq!(su.endpoint.port, 6543);
        assert_eq!(su.database, "main");
        assert_eq!(
            su.endpoint.params,
            vec![("sslmode".to_owned(), "require".to_owned())]
        );
        assert_eq!(
            Superuser::from_url(&su.url()).expect("round trip").password,
            "p/w:"
        );

        let su = Superuser::from_url("postgres://root:x@[::1]").expect("parses");
        assert_eq!(su.endpoint.host, "::1");
        assert_eq!(su.endpoint.port, 5432);
        assert_eq!(su.database, "postgres");
        assert_eq!(
            su.endpoint.url("a", "b c", "d"),
            "postgresql://a:b%20c@[::1]:5432/d"
        );
    }

    #[test]
    fn bad_admin_urls_say_what_is_wrong_without_the_password() {
        let err = Superuser::from_url("mysql://u:secret@h/db")
            .expect_err("scheme")
            .to_string();
        assert!(err.contains("postgresql://"), "{err}");
        assert!(!err.contains("secret"), "{err}");
        let err = Superuser::from_url("postgresql://h:5432/db")
            .expect_err("no user")
            .to_string();
        assert!(err.contains("names no user"), "{err}");
        let err = Superuser::from_url("postgresql://u:se%zzcret@h/db")
            .expect_err("escape")
            .to_string();
        assert!(err.contains("%-escape") && !err.contains("cret"), "{err}");
    }

    #[test]
    fn quoting_takes_names_and_values_literally() {
        assert_eq!(quote_ident(r#"a"b"#), r#""a""b""#);
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_literal(r"a\'b"), r"E'a\\''b'");
        assert_eq!(conninfo_value(r"a'b\c"), r"'a\'b\\c'");
    }
}
