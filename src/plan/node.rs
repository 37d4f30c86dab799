//! A generic YAML tree with a source location on every node. The loader parses into it first:
//! that pass applies the parse budget to the whole document whatever its shape, lets the
//! credential scan see every string, and turns a type error's line:column into a field path.

use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Location, Spanned};

#[derive(Debug)]
pub(super) enum Node {
    /// Any scalar, as its text (numbers and booleans included).
    Scalar(String),
    Null,
    Seq(Vec<Spanned<Node>>),
    Map(Vec<(Spanned<Node>, Spanned<Node>)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Scalar(v.to_owned()))
    }

    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Scalar(v.to_string()))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Scalar(v.to_string()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Scalar(v.to_string()))
    }

    fn visit_i128<E>(self, v: i128) -> Result<Node, E> {
        Ok(Node::Scalar(v.to_string()))
    }

    fn visit_u128<E>(self, v: u128) -> Result<Node, E> {
        Ok(Node::Scalar(v.to_string()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Scalar(v.to_string()))
    }

    fn visit_bytes<E>(self, v: &[u8]) -> Result<Node, E> {
        Ok(Node::Scalar(String::from_utf8_lossy(v).into_owned()))
    }

    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key()? {
            entries.push((key, map.next_value()?));
        }
        Ok(Node::Map(entries))
    }
}

/// `parent.key` or `key` at the top.
pub(super) fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

fn key_text(key: &Node) -> &str {
    match key {
        Node::Scalar(text) => text,
        _ => "?",
    }
}

/// Calls `visit(path, text, location)` for every scalar, keys included (a key's path is the
/// path of its entry).
pub(super) fn walk_scalars(root: &Spanned<Node>, visit: &mut dyn FnMut(&str, &str, &Location)) {
    fn walk(path: &str, node: &Spanned<Node>, visit: &mut dyn FnMut(&str, &str, &Location)) {
        match &node.value {
            Node::Scalar(text) => visit(path, text, &node.referenced),
            Node::Null => {}
            Node::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(&format!("{path}[{i}]"), item, visit);
                }
            }
            Node::Map(entries) => {
                for (key, value) in entries {
                    let child = join(path, key_text(&key.value));
                    walk(&child, key, visit);
                    walk(&child, value, visit);
                }
            }
        }
    }
    walk("", root, visit);
}

/// The field path of the deepest node that starts at `line`:`column`. With `mapping_only`, the
/// deepest mapping that starts there or has a key there (a "missing key" error points at one of
/// the mapping's keys).
pub(super) fn path_at(
    root: &Spanned<Node>,
    line: u64,
    column: u64,
    mapping_only: bool,
) -> Option<String> {
    fn at(node: &Spanned<Node>, line: u64, column: u64) -> bool {
        node.referenced.line() == line && node.referenced.column() == column
    }
    fn find(path: &str, node: &Spanned<Node>, pos: (u64, u64, bool), found: &mut Option<String>) {
        let (line, column, mapping_only) = pos;
        let holds_key = match &node.value {
            Node::Map(entries) => {
                at(node, line, column) || entries.iter().any(|(k, _)| at(k, line, column))
            }
            _ => false,
        };
        if (mapping_only && holds_key) || (!mapping_only && at(node, line, column)) {
            *found = Some(path.to_owned());
        }
        match &node.value {
            Node::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    find(&format!("{path}[{i}]"), item, pos, found);
                }
            }
            Node::Map(entries) => {
                for (key, value) in entries {
                    let child = join(path, key_text(&key.value));
                    if !mapping_only && at(key, line, column) {
                        *found = Some(child.clone());
                    }
                    find(&child, value, pos, found);
                }
            }
            Node::Scalar(_) | Node::Null => {}
        }
    }
    let mut found = None;
    find("", root, (line, column, mapping_only), &mut found);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Spanned<Node> {
        serde_saphyr::from_str_with_options(text, super::super::yaml_error::parse_options())
            .unwrap()
    }

    #[test]
    fn paths_name_keys_and_list_positions() {
        let root = parse("a: 1\nlist:\n  - x: yes\n    y: [p, q]\n");
        let mut seen = Vec::new();
        walk_scalars(&root, &mut |path, text, loc| {
            seen.push(format!("{path}={text}@{}:{}", loc.line(), loc.column()))
        });
        assert_eq!(
            seen,
            [
                "a=a@1:1",
                "a=1@1:4",
                "list=list@2:1",
                "list[0].x=x@3:5",
                "list[0].x=yes@3:8",
                "list[0].y=y@4:5",
                "list[0].y[0]=p@4:9",
                "list[0].y[1]=q@4:12",
            ]
        );
    }

    #[test]
    fn path_at_finds_keys_values_and_mappings() {
        let root = parse("a: 1\nlist:\n  - x: yes\n    y: [p, q]\n");
        assert_eq!(path_at(&root, 1, 4, false).as_deref(), Some("a"));
        assert_eq!(path_at(&root, 4, 5, false).as_deref(), Some("list[0].y"));
        assert_eq!(
            path_at(&root, 4, 12, false).as_deref(),
            Some("list[0].y[1]")
        );
        assert_eq!(path_at(&root, 3, 5, true).as_deref(), Some("list[0]"));
        assert_eq!(path_at(&root, 4, 5, true).as_deref(), Some("list[0]"));
        assert_eq!(path_at(&root, 2, 1, true).as_deref(), Some(""));
        assert_eq!(path_at(&root, 1, 1, true).as_deref(), Some(""));
        assert_eq!(path_at(&root, 9, 9, false), None);
    }
}
