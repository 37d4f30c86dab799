//! Go's `fmt` rendering of a map, as `changeset:info` shows a command's arguments:
//! `map[name:web plan:shared type:postgresql11]`, lists as `[3 4]`. Go prints keys sorted, which
//! is what makes the text readable at all: a value may hold spaces and even `word:` pieces, and a
//! new key can only start after a space, at bracket depth zero, with a name sorting after the
//! previous key.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GoValue {
    Text(String),
    /// `[a b c]`: Go's slice rendering, items split at spaces.
    List(Vec<String>),
}

impl GoValue {
    /// The value as Go printed it (`[a b]` for a list).
    pub fn as_text(&self) -> String {
        match self {
            GoValue::Text(t) => t.clone(),
            GoValue::List(items) => format!("[{}]", items.join(" ")),
        }
    }
}

/// The entries in printed order (sorted by key, as Go prints them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GoMap {
    pub entries: Vec<(String, GoValue)>,
}

impl GoMap {
    pub fn get(&self, key: &str) -> Option<&GoValue> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Parses `map[…]`; the error says what was expected.
    pub fn parse(text: &str) -> Result<GoMap, String> {
        let expected = || "a Go map such as `map[name:web type:volume]`".to_owned();
        let inner = text
            .trim()
            .strip_prefix("map[")
            .and_then(|s| s.strip_suffix(']'))
            .ok_or_else(expected)?;
        let bytes = inner.as_bytes();
        // (key start, colon) of every key.
        let mut keys: Vec<(usize, usize)> = Vec::new();
        let mut depth = 0usize;
        let mut i = 0;
        while i < bytes.len() {
            let at_start = i == 0 || (depth == 0 && bytes.get(i - 1) == Some(&b' '));
            if at_start && let Some(len) = key_length(inner.get(i..).unwrap_or_default()) {
                let key = inner.get(i..i + len).unwrap_or_default();
                let sorted_after = keys
                    .last()
                    .is_none_or(|&(s, c)| inner.get(s..c).is_some_and(|prev| key > prev));
                if sorted_after {
                    keys.push((i, i + len));
                    i += len + 1;
                    continue;
                }
            }
            match bytes.get(i) {
                Some(b'[') => depth += 1,
                Some(b']') => depth = depth.saturating_sub(1),
                _ => {}
            }
            i += 1;
        }
        if inner.is_empty() {
            return Ok(GoMap::default());
        }
        if keys.first().is_none_or(|&(start, _)| start != 0) {
            return Err(expected());
        }
        let mut entries = Vec::with_capacity(keys.len());
        for (n, &(start, colon)) in keys.iter().enumerate() {
            // The value runs to the space before the next key, or to the end.
            let end = keys
                .get(n + 1)
                .map_or(inner.len(), |&(next, _)| next.saturating_sub(1));
            let key = inner.get(start..colon).ok_or_else(expected)?;
            let value = inner
                .get(colon + 1..end.max(colon + 1))
                .ok_or_else(expected)?;
            entries.push((key.to_owned(), value_of(value)));
        }
        Ok(GoMap { entries })
    }
}

impl fmt::Display for GoMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: Vec<String> = self
            .entries
            .iter()
            .map(|(k, v)| format!("{k}:{}", v.as_text()))
            .collect();
        write!(f, "map[{}]", shown.join(" "))
    }
}

/// Length of a key (`[A-Za-z_][A-Za-z0-9_.-]*`) directly followed by `:`.
fn key_length(s: &str) -> Option<usize> {
    let first = s.chars().next()?;
    if !(first.is_ascii_alphabetic() || first == '_') {
        return None;
    }
    let len = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
        .unwrap_or(s.len());
    (s.as_bytes().get(len) == Some(&b':')).then_some(len)
}

/// `[a b]` whose first bracket closes at the end is a list; everything else is text.
fn value_of(text: &str) -> GoValue {
    let Some(inner) = text.strip_prefix('[').and_then(|s| s.strip_suffix(']')) else {
        return GoValue::Text(text.to_owned());
    };
    let mut depth = 0usize;
    for c in inner.chars() {
        match c {
            '[' => depth += 1,
            ']' if depth == 0 => return GoValue::Text(text.to_owned()),
            ']' => depth -= 1,
            _ => {}
        }
    }
    if depth != 0 {
        return GoValue::Text(text.to_owned());
    }
    GoValue::List(inner.split_whitespace().map(str::to_owned).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> GoValue {
        GoValue::Text(s.to_owned())
    }

    #[test]
    fn reads_sorted_keys_lists_and_values_with_spaces() {
        let m = GoMap::parse("map[name:web]").unwrap();
        assert_eq!(m.entries, [("name".to_owned(), text("web"))]);
        let m = GoMap::parse("map[hours:[3 4] service:db weekdays:[]]").unwrap();
        assert_eq!(
            m.get("hours"),
            Some(&GoValue::List(vec!["3".into(), "4".into()]))
        );
        assert_eq!(m.get("weekdays"), Some(&GoValue::List(vec![])));
        let m =
            GoMap::parse("map[option:extensions service:db value:uuid-ossp, postgis a:b]").unwrap();
        assert_eq!(m.get("value"), Some(&text("uuid-ossp, postgis a:b")));
        let m = GoMap::parse("map[app:web env_key: path:/data read_only:true]").unwrap();
        assert_eq!(m.get("env_key"), Some(&text("")));
        let m = GoMap::parse("map[a:map[b:c d:e] z:[x [y]]]").unwrap();
        assert_eq!(m.get("a"), Some(&text("map[b:c d:e]")));
        assert_eq!(m.to_string(), "map[a:map[b:c d:e] z:[x [y]]]");
        assert_eq!(GoMap::parse("map[]").unwrap(), GoMap::default());
    }

    #[test]
    fn other_shapes_are_refused() {
        for bad in [
            "",
            "map[",
            "name:web",
            "map[ name:web]",
            "{\"name\":\"web\"}",
            "map[[x]]",
        ] {
            assert!(GoMap::parse(bad).is_err(), "{bad:?}");
        }
    }
}
