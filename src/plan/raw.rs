//! The plan file's shape as written (design.md section 4), before any rule is checked. Every
//! value a rule may point at keeps its line and column. Unknown keys are left to
//! src/plan/keys.rs, which reports all of them at once (serde's `deny_unknown_fields` would stop
//! at the first and hide every other issue); it reads the accepted keys from these structs.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

#[derive(Debug, Deserialize)]
pub(super) struct RawPlan {
    // Required keys are optional here, so a missing one is reported with every other issue
    // (src/plan/check.rs) instead of stopping the read.
    pub version: Option<Spanned<u32>>,
    pub project: Option<Spanned<String>>,
    pub stage: Option<Spanned<String>>,
    pub defaults: Option<Spanned<RawDefaults>>,
    pub migrations: Option<Spanned<Vec<Spanned<RawMigration>>>>,
    pub freeze: Option<Spanned<Vec<Spanned<RawFreeze>>>>,
}

#[derive(Debug, Deserialize)]
pub(super) struct RawDefaults {
    pub backup: Option<Spanned<String>>,
    pub wait_timeout: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
pub(super) struct RawMigration {
    pub source: Option<Spanned<String>>,
    /// Required; see [`RawPlan`].
    pub target: Option<Spanned<String>>,
    #[serde(rename = "type")]
    pub service_type: Option<Spanned<String>>,
    pub plan: Option<Spanned<String>>,
    /// In file order, so issues come out in file order; `null` values unset an option.
    pub options: Option<Spanned<Entries<Spanned<Option<String>>>>>,
    pub backup: Option<Spanned<String>>,
    pub wait_timeout: Option<Spanned<String>>,
    pub relink: Option<Spanned<RawRelink>>,
}

#[derive(Debug, Deserialize)]
pub(super) struct RawLink {
    pub app: Spanned<String>,
    pub env_key: Option<Spanned<String>>,
    pub path: Option<Spanned<String>>,
    pub read_only: Option<Spanned<bool>>,
}

/// One app of `freeze:`: its name alone, or `{app, scale}` with the scale to restore.
#[derive(Debug)]
pub(super) enum RawFreeze {
    Name(String),
    App(RawFreezeApp),
}

#[derive(Debug, Deserialize)]
pub(super) struct RawFreezeApp {
    pub app: Spanned<String>,
    pub scale: Option<Spanned<i64>>,
}

impl<'de> Deserialize<'de> for RawFreeze {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FreezeVisitor;
        impl<'de> Visitor<'de> for FreezeVisitor {
            type Value = RawFreeze;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an app name or {app, scale}")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawFreeze, E> {
                Ok(RawFreeze::Name(v.to_owned()))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawFreeze, A::Error> {
                RawFreezeApp::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawFreeze::App)
            }
        }
        deserializer.deserialize_any(FreezeVisitor)
    }
}

/// `relink: all`, `relink: none`, or a list of links.
#[derive(Debug)]
pub(super) enum RawRelink {
    Keyword(String),
    List(Vec<Spanned<RawLink>>),
}

impl<'de> Deserialize<'de> for RawRelink {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RelinkVisitor;
        impl<'de> Visitor<'de> for RelinkVisitor {
            type Value = RawRelink;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("`all`, `none` or a list of {app, env_key} / {app, path} links")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawRelink, E> {
                Ok(RawRelink::Keyword(v.to_owned()))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawRelink, A::Error> {
                let mut links = Vec::new();
                while let Some(link) = seq.next_element()? {
                    links.push(link);
                }
                Ok(RawRelink::List(links))
            }
        }
        // Not an untagged enum: that would buffer the list and lose every link's location.
        deserializer.deserialize_any(RelinkVisitor)
    }
}

/// A mapping read as ordered `(key, value)` pairs, each key with its location.
#[derive(Debug)]
pub(super) struct Entries<V>(pub Vec<(Spanned<String>, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Entries<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for EntriesVisitor<V> {
            type Value = Entries<V>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping of option names to values")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries<V>, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key()? {
                    entries.push((key, map.next_value()?));
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(EntriesVisitor(PhantomData))
    }
}
