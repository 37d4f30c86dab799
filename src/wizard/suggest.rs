//! The suggested target name: the source's name with a suffix (`files2`; `database13` for an
//! upgrade to postgresql13), cut to SetOps' 18 characters, never a name already taken.

use crate::model::{ServiceType, validate_service_name};

const MAX_NAME: usize = 18;
/// How many numbered variants to try before giving up on a suggestion.
const ATTEMPTS: u32 = 50;

/// The version a type's name ends in (`postgresql13` -> `13`); `s3` names a protocol, not one.
fn version(service_type: ServiceType) -> Option<&'static str> {
    match service_type {
        ServiceType::Postgresql11 => Some("11"),
        ServiceType::Postgresql13 => Some("13"),
        ServiceType::Postgresql14 => Some("14"),
        ServiceType::Postgresql15 => Some("15"),
        ServiceType::Postgresql16 => Some("16"),
        ServiceType::Redis6 => Some("6"),
        ServiceType::Redis7 => Some("7"),
        ServiceType::Elasticsearch7 => Some("7"),
        ServiceType::Mongodb4 => Some("4"),
        ServiceType::S3 | ServiceType::Volume => None,
    }
}

/// `base` + `suffix`, with `base` cut so the whole fits in 18 characters. `base` starts with a
/// letter (it is a service name), so the result does too, and it ends in the suffix's digits.
fn join(base: &str, suffix: &str) -> String {
    let room = MAX_NAME.saturating_sub(suffix.len());
    let head: String = base.chars().take(room.max(1)).collect();
    format!("{head}{suffix}")
}

/// A valid name for the target that is not in `taken`, or `None` when none was found.
/// `target_type` is known only when given before the name is asked (e.g. `--type`).
pub fn suggest_target(
    source: &str,
    source_type: ServiceType,
    target_type: Option<ServiceType>,
    taken: &[String],
) -> Option<String> {
    let upgrade = target_type
        .filter(|t| *t != source_type)
        .and_then(|t| version(t).map(|v| (t, v)));
    let (base, first) = match upgrade {
        Some((_, new_version)) => {
            // `db11` -> `db13`, not `db1113`.
            let base = version(source_type)
                .and_then(|old| source.strip_suffix(old))
                .filter(|b| !b.is_empty())
                .unwrap_or(source);
            (base, new_version.to_owned())
        }
        None => (source, "2".to_owned()),
    };
    let candidates = std::iter::once(join(base, &first)).chain((2..ATTEMPTS).map(|n| {
        if upgrade.is_some() {
            join(base, &format!("{first}-{n}"))
        } else {
            join(base, &(n + 1).to_string())
        }
    }));
    candidates
        .filter(|name| validate_service_name(name).is_ok())
        .find(|name| name != source && !taken.iter().any(|t| t == name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ServiceType::*;

    fn taken(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_copy_gets_a_two() {
        assert_eq!(
            suggest_target("files", Volume, None, &taken(&["files", "media"])).unwrap(),
            "files2"
        );
        assert_eq!(
            suggest_target("files", Volume, Some(Volume), &[]).unwrap(),
            "files2"
        );
    }

    #[test]
    fn an_upgrade_gets_the_new_version() {
        assert_eq!(
            suggest_target("database", Postgresql11, Some(Postgresql13), &[]).unwrap(),
            "database13"
        );
        assert_eq!(
            suggest_target("db11", Postgresql11, Some(Postgresql13), &[]).unwrap(),
            "db13"
        );
        assert_eq!(
            suggest_target("db-11", Postgresql11, Some(Postgresql13), &[]).unwrap(),
            "db-13"
        );
    }

    #[test]
    fn long_names_are_cut_to_eighteen_keeping_the_suffix() {
        let long = "abcdefghijklmnopqr"; // 18
        let name = suggest_target(long, Postgresql11, Some(Postgresql13), &[]).unwrap();
        assert_eq!(name, "abcdefghijklmnop13");
        assert_eq!(
            suggest_target(long, Volume, None, &[]).unwrap(),
            "abcdefghijklmnopq2"
        );
        // A cut that would end before a dash still ends in digits, never in a dash.
        let dashed = "abcdefghijklmnopq-";
        assert_eq!(
            suggest_target("abcdefghijklmnop-x", Volume, None, &[]).unwrap(),
            "abcdefghijklmnop-2"
        );
        assert!(
            suggest_target(dashed, Volume, None, &[])
                .unwrap()
                .ends_with('2')
        );
    }

    #[test]
    fn taken_names_move_on_to_the_next_number() {
        assert_eq!(
            suggest_target("files", Volume, None, &taken(&["files2", "files3"])).unwrap(),
            "files4"
        );
        assert_eq!(
            suggest_target(
                "database",
                Postgresql11,
                Some(Postgresql13),
                &taken(&["database13"])
            )
            .unwrap(),
            "database13-2"
        );
    }

    #[test]
    fn the_same_input_gives_the_same_name() {
        let a = suggest_target(
            "abcdefghijklmnopqr",
            Volume,
            None,
            &taken(&["abcdefghijklmnopq2"]),
        );
        let b = suggest_target(
            "abcdefghijklmnopqr",
            Volume,
            None,
            &taken(&["abcdefghijklmnopq2"]),
        );
        assert_eq!(a, b);
        assert_eq!(a.unwrap(), "abcdefghijklmnopq3");
    }

    #[test]
    fn types_without_a_version_count_as_copies() {
        assert_eq!(
            suggest_target("files", Volume, Some(S3), &[]).unwrap(),
            "files2"
        );
        assert_eq!(version(Postgresql13), Some("13"));
        assert_eq!(version(Volume), None);
        assert_eq!(version(S3), None);
    }
}
