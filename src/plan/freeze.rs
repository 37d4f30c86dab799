//! `freeze:` rules: the apps scaled to 0 for the cutover, each once, by SetOps' app name rules,
//! with an optional scale to restore (0–16) for when the platform can no longer show it.

use std::collections::HashMap;

use serde_saphyr::Spanned;

use super::FreezeApp;
use super::issues::Issues;
use super::raw::RawFreeze;
use super::rules::{NameKind, name_rule, quote};
use crate::model::{MAX_SCALE, validate_app_name};

pub(super) fn check_freeze(
    raw: Option<&Spanned<Vec<Spanned<RawFreeze>>>>,
    issues: &mut Issues,
) -> Vec<FreezeApp> {
    let Some(raw) = raw else {
        return Vec::new();
    };
    if raw.value.is_empty() {
        issues.at(
            &raw.referenced,
            "freeze",
            "`freeze:` lists no app; name the apps that write to the sources, or remove the key",
        );
    }
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut apps = Vec::new();
    for (i, entry) in raw.value.iter().enumerate() {
        let field = format!("freeze[{i}]");
        let (name, at, scale) = match &entry.value {
            RawFreeze::Name(name) => (name.as_str(), &entry.referenced, None),
            RawFreeze::App(app) => (
                app.app.value.as_str(),
                &app.app.referenced,
                app.scale.as_ref(),
            ),
        };
        if let Err(v) = validate_app_name(name) {
            issues.at(
                at,
                format!("{field}.app"),
                name_rule(NameKind::App, name, v),
            );
            continue;
        }
        if let Some(line) = seen.get(name) {
            issues.at(
                at,
                format!("{field}.app"),
                format!(
                    "app {} is already frozen on line {line}; name each app once",
                    quote(name)
                ),
            );
            continue;
        }
        seen.insert(name.to_owned(), at.line());
        let scale = match scale {
            Some(s) if !(1..=i64::from(MAX_SCALE)).contains(&s.value) => {
                issues.at(
                    &s.referenced,
                    format!("{field}.scale"),
                    format!(
                        "scale {} is not a scale to restore; give the app's usual scale, 1 to \
                         {MAX_SCALE}",
                        s.value
                    ),
                );
                continue;
            }
            Some(s) => u8::try_from(s.value).ok(),
            None => None,
        };
        apps.push(FreezeApp {
            app: name.to_owned(),
            scale,
        });
    }
    apps
}
