//! What changed between the plan a journal recorded and the plan given now, for the message
//! that refuses to resume a changed plan.

use serde_json::Value;

/// Paths where two JSON values differ (`migrations[1].options.min_storage: "20" -> "50"`).
pub fn diff_values(path: &str, old: &Value, new: &Value) -> Vec<String> {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .flat_map(|k| {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    diff_values(
                        &p,
                        a.get(k).unwrap_or(&Value::Null),
                        b.get(k).unwrap_or(&Value::Null),
                    )
                })
                .collect()
        }
        (Value::Array(a), Value::Array(b)) => (0..a.len().max(b.len()))
            .flat_map(|i| {
                diff_values(
                    &format!("{path}[{i}]"),
                    a.get(i).unwrap_or(&Value::Null),
                    b.get(i).unwrap_or(&Value::Null),
                )
            })
            .collect(),
        (a, b) if a == b => Vec::new(),
        (a, b) => vec![format!("{path}: {} -> {}", short(a), short(b))],
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    match s.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_each_changed_leaf() {
        let old = json!({"a": 1, "m": [{"t": "x", "o": {"k": "1"}}]});
        let new = json!({"a": 1, "m": [{"t": "y", "o": {}}], "b": true});
        assert_eq!(
            diff_values("", &old, &new),
            vec![
                "b: null -> true".to_owned(),
                "m[0].o.k: \"1\" -> null".to_owned(),
                "m[0].t: \"x\" -> \"y\"".to_owned(),
            ]
        );
    }
}
