//! `relink:` rules: `all` needs a source, each app once, a link is an env key or (volumes only) a
//! mount path, env keys and paths follow SetOps' rules.

use std::collections::HashMap;

use serde_saphyr::Spanned;

use super::issues::Issues;
use super::raw::{RawLink, RawMigration, RawRelink};
use super::rules::{NameKind, env_key_rule, mount_path_rule, name_rule, quote};
use super::{LinkSpec, Relink};
use crate::model::{
    LinkKind, ServiceType, validate_app_name, validate_env_key, validate_mount_path,
};

pub(super) fn check_relink(
    i: usize,
    raw: &Spanned<RawMigration>,
    known_type: Option<ServiceType>,
    issues: &mut Issues,
) -> Option<Relink> {
    let has_source = raw.value.source.is_some();
    let field = format!("migrations[{i}].relink");
    let Some(relink) = &raw.value.relink else {
        return Some(if has_source {
            Relink::All
        } else {
            Relink::None
        });
    };
    match &relink.value {
        RawRelink::Keyword(word) if word == "all" => {
            if has_source {
                Some(Relink::All)
            } else {
                issues.at(
                    &relink.referenced,
                    field,
                    "`relink: all` moves the source's links, and an import has no source; list \
                     the links ({app, env_key} or {app, path}) or write `relink: none`",
                );
                None
            }
        }
        RawRelink::Keyword(word) if word == "none" => Some(Relink::None),
        RawRelink::Keyword(word) => {
            issues.at(
                &relink.referenced,
                field,
                format!(
                    "relink {} is not valid; write all, none, or a list of {{app, env_key}} / \
                     {{app, path}} links",
                    quote(word)
                ),
            );
            None
        }
        RawRelink::List(links) if links.is_empty() => {
            issues.at(
                &relink.referenced,
                field,
                "relink is an empty list; write `relink: none` to leave every app as it is",
            );
            None
        }
        RawRelink::List(links) => check_links(i, links, known_type, issues).map(Relink::Only),
    }
}

fn check_links(
    i: usize,
    links: &[Spanned<RawLink>],
    known_type: Option<ServiceType>,
    issues: &mut Issues,
) -> Option<Vec<LinkSpec>> {
    let before = issues.count();
    let mut apps: HashMap<&str, u64> = HashMap::new();
    let mut first_kind: Option<LinkKind> = None;
    let mut specs = Vec::new();
    for (j, link) in links.iter().enumerate() {
        let field = |name: &str| format!("migrations[{i}].relink[{j}].{name}");
        let l = &link.value;
        if let Err(v) = validate_app_name(&l.app.value) {
            issues.at(
                &l.app.referenced,
                field("app"),
                name_rule(NameKind::App, &l.app.value, v),
            );
        }
        if let Some(line) = apps.get(l.app.value.as_str()) {
            issues.at(
                &l.app.referenced,
                field("app"),
                format!(
                    "app {} is already relinked on line {line}; an app has one link per service",
                    quote(&l.app.value)
                ),
            );
        } else {
            apps.insert(&l.app.value, l.app.referenced.line());
        }

        let kind = match (&l.env_key, &l.path) {
            (Some(_), Some(path)) => {
                issues.at(
                    &path.referenced,
                    field("path"),
                    "a link has env_key or path, not both: env_key for most types, path for a \
                     volume",
                );
                None
            }
            (None, None) => {
                issues.at(
                    &link.referenced,
                    field("env_key"),
                    "a link needs env_key (the variable the app reads) or, for a volume, path \
                     (where it is mounted)",
                );
                None
            }
            (Some(key), None) => {
                if let Err(v) = validate_env_key(&key.value) {
                    issues.at(
                        &key.referenced,
                        field("env_key"),
                        env_key_rule(&key.value, v),
                    );
                }
                if known_type.is_some_and(|t| t.link_kind() == LinkKind::Path) {
                    issues.at(
                        &key.referenced,
                        field("env_key"),
                        "a volume is linked by path (the mount directory), not env_key; write \
                         `path: /data`",
                    );
                }
                Some(LinkKind::EnvKey)
            }
            (None, Some(path)) => {
                if let Err(v) = validate_mount_path(&path.value) {
                    issues.at(
                        &path.referenced,
                        field("path"),
                        mount_path_rule(&path.value, v),
                    );
                }
                if let Some(t) = known_type.filter(|t| t.link_kind() == LinkKind::EnvKey) {
                    issues.at(
                        &path.referenced,
                        field("path"),
                        format!(
                            "only a volume is linked by path; {t} is linked by env_key (the \
                             variable the app reads, such as DATABASE_URL)"
                        ),
                    );
                }
                Some(LinkKind::Path)
            }
        };
        if let Some(read_only) = &l.read_only
            && l.path.is_none()
        {
            issues.at(
                &read_only.referenced,
                field("read_only"),
                "read_only applies to path links (volumes) only; remove it",
            );
        }
        // Without a stated type the list itself must agree on one kind.
        match (first_kind, kind) {
            (None, Some(k)) => first_kind = Some(k),
            (Some(first), Some(k)) if first != k && known_type.is_none() => issues.at(
                &link.referenced,
                field(if k == LinkKind::Path {
                    "path"
                } else {
                    "env_key"
                }),
                "this list mixes env_key and path links; one service is linked either by env \
                 key or, for a volume, by path",
            ),
            _ => {}
        }
        specs.push(LinkSpec {
            app: l.app.value.clone(),
            env_key: l.env_key.as_ref().map(|k| k.value.clone()),
            path: l.path.as_ref().map(|p| p.value.clone()),
            read_only: l.read_only.as_ref().is_some_and(|r| r.value),
        });
    }
    (issues.count() == before).then_some(specs)
}
