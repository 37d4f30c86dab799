//! `--postgres-url`: superuser URLs of PostgreSQL servers the sandbox uses instead of running
//! its own clusters. One URL serves every emulated major version; `11=URL 13=URL` gives each
//! major its own server (so tests share one real server per version between sandboxes).

use std::collections::BTreeMap;

use crate::sandbox::{Error, Result};

/// Holds passwords, so it has no Debug.
#[derive(Clone, Default)]
pub struct PostgresUrls {
    every: Option<String>,
    by_major: BTreeMap<u32, String>,
}

impl PostgresUrls {
    /// `URL`, or `MAJOR=URL` entries separated by whitespace; empty is none.
    pub fn parse(text: &str) -> Result<PostgresUrls> {
        let mut urls = PostgresUrls::default();
        for entry in text.split_whitespace() {
            match entry.split_once('=') {
                Some((major, url)) if !major.contains(':') => {
                    let major: u32 = major.parse().map_err(|_| {
                        Error::Engine(format!(
                            "--postgres-url: {major:?} is not a PostgreSQL major version; write \
                             URL, or MAJOR=URL entries such as 11=postgresql://…"
                        ))
                    })?;
                    if urls.by_major.insert(major, url.to_owned()).is_some() {
                        return Err(Error::Engine(format!(
                            "--postgres-url names PostgreSQL {major} twice"
                        )));
                    }
                }
                _ if urls.every.is_some() => {
                    return Err(Error::engine(
                        "--postgres-url holds two URLs without a version; write MAJOR=URL \
                         entries such as `11=URL 13=URL`",
                    ));
                }
                _ => urls.every = Some(entry.to_owned()),
            }
        }
        Ok(urls)
    }

    /// The URL of the server for `major`, if one was given.
    pub(crate) fn for_major(&self, major: u32) -> Option<&str> {
        self.by_major
            .get(&major)
            .or(self.every.as_ref())
            .map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_url_serves_every_version() {
        let urls = PostgresUrls::parse("postgresql://u:p@127.0.0.1:5432/postgres").unwrap();
        assert_eq!(
            urls.for_major(11),
            Some("postgresql://u:p@127.0.0.1:5432/postgres")
        );
        assert_eq!(urls.for_major(13), urls.for_major(11));
    }

    #[test]
    fn versions_get_their_own_servers_and_round_trip() {
        let text = "11=postgresql://a@h:1/postgres 13=postgresql://b@h:2/postgres?x=a=b";
        let urls = PostgresUrls::parse(text).unwrap();
        assert_eq!(urls.for_major(11), Some("postgresql://a@h:1/postgres"));
        assert_eq!(
            urls.for_major(13),
            Some("postgresql://b@h:2/postgres?x=a=b")
        );
        assert_eq!(urls.for_major(15), None);
        assert_eq!(PostgresUrls::parse("").unwrap().for_major(11), None);
    }

    #[test]
    fn bad_lists_are_refused_with_the_form_to_use() {
        let two = PostgresUrls::parse("postgresql://a@h/x postgresql://b@h/x")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(two.contains("MAJOR=URL"), "{two}");
        let twice = PostgresUrls::parse("11=postgresql://a@h/x 11=postgresql://b@h/x")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(twice.contains("PostgreSQL 11 twice"), "{twice}");
        let word = PostgresUrls::parse("eleven=postgresql://a@h/x")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            word.contains("\"eleven\" is not a PostgreSQL major"),
            "{word}"
        );
    }
}
