//! Which extensions a target's PostgreSQL version has. The lists are the extensions the
//! PostgreSQL 11.22 and 13.23 server builds ship (their `share/extension/*.control` files: the
//! contrib modules of appendix F of the PostgreSQL 11 and 13 manuals, plus the procedural
//! languages), so "available" means "shipped with that major version". Whether SetOps turns one
//! on is its `extensions` option's business; an extension outside these lists (PostGIS, for
//! one) may or may not be offered, which is said as such rather than guessed.

/// PostgreSQL 11's extensions. `timetravel` was removed in 12; `jsonb_plperl` and
/// `jsonb_plpython*` are new in 11.
const PG11: &[&str] = &[
    "adminpack",
    "amcheck",
    "autoinc",
    "bloom",
    "btree_gin",
    "btree_gist",
    "citext",
    "cube",
    "dblink",
    "dict_int",
    "dict_xsyn",
    "earthdistance",
    "file_fdw",
    "fuzzystrmatch",
    "hstore",
    "hstore_plperl",
    "hstore_plperlu",
    "hstore_plpython2u",
    "hstore_plpython3u",
    "hstore_plpythonu",
    "insert_username",
    "intagg",
    "intarray",
    "isn",
    "jsonb_plperl",
    "jsonb_plperlu",
    "jsonb_plpython2u",
    "jsonb_plpython3u",
    "jsonb_plpythonu",
    "lo",
    "ltree",
    "ltree_plpython2u",
    "ltree_plpython3u",
    "ltree_plpythonu",
    "moddatetime",
    "pageinspect",
    "pg_buffercache",
    "pg_freespacemap",
    "pg_prewarm",
    "pg_stat_statements",
    "pg_trgm",
    "pg_visibility",
    "pgcrypto",
    "pgrowlocks",
    "pgstattuple",
    "plperl",
    "plperlu",
    "plpgsql",
    "plpython3u",
    "pltcl",
    "pltclu",
    "postgres_fdw",
    "refint",
    "seg",
    "sslinfo",
    "tablefunc",
    "tcn",
    "timetravel",
    "tsm_system_rows",
    "tsm_system_time",
    "unaccent",
    "uuid-ossp",
    "xml2",
];

/// PostgreSQL 13's extensions: 11's without `timetravel`, with `bool_plperl(u)` (new in 13).
const PG13: &[&str] = &[
    "adminpack",
    "amcheck",
    "autoinc",
    "bloom",
    "bool_plperl",
    "bool_plperlu",
    "btree_gin",
    "btree_gist",
    "citext",
    "cube",
    "dblink",
    "dict_int",
    "dict_xsyn",
    "earthdistance",
    "file_fdw",
    "fuzzystrmatch",
    "hstore",
    "hstore_plperl",
    "hstore_plperlu",
    "hstore_plpython2u",
    "hstore_plpython3u",
    "hstore_plpythonu",
    "insert_username",
    "intagg",
    "intarray",
    "isn",
    "jsonb_plperl",
    "jsonb_plperlu",
    "jsonb_plpython2u",
    "jsonb_plpython3u",
    "jsonb_plpythonu",
    "lo",
    "ltree",
    "ltree_plpython2u",
    "ltree_plpython3u",
    "ltree_plpythonu",
    "moddatetime",
    "pageinspect",
    "pg_buffercache",
    "pg_freespacemap",
    "pg_prewarm",
    "pg_stat_statements",
    "pg_trgm",
    "pg_visibility",
    "pgcrypto",
    "pgrowlocks",
    "pgstattuple",
    "plperl",
    "plperlu",
    "plpgsql",
    "plpython3u",
    "pltcl",
    "pltclu",
    "postgres_fdw",
    "refint",
    "seg",
    "sslinfo",
    "tablefunc",
    "tcn",
    "tsm_system_rows",
    "tsm_system_time",
    "unaccent",
    "uuid-ossp",
    "xml2",
];

/// Contrib modules of later versions (14: `old_snapshot`, `pg_surgery`; 15: `pg_walinspect`),
/// and `chkpass` (removed in 11): known, and known to be missing from 11 and 13.
const OTHER_VERSIONS: &[&str] = &["chkpass", "old_snapshot", "pg_surgery", "pg_walinspect"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    Shipped,
    /// A contrib module of another PostgreSQL version, not of this one.
    NotShipped,
    /// Not a contrib module of any version in these lists.
    Unknown,
}

/// Whether PostgreSQL `major` ships extension `name`; `None` for a major without a list here
/// (14 to 16: no server build of theirs was at hand to take one from), whose extensions are not
/// checked.
pub fn availability(name: &str, major: u32) -> Option<Availability> {
    let list = match major {
        11 => PG11,
        13 => PG13,
        _ => return None,
    };
    Some(if list.contains(&name) {
        Availability::Shipped
    } else if PG11.contains(&name) || PG13.contains(&name) || OTHER_VERSIONS.contains(&name) {
        Availability::NotShipped
    } else {
        Availability::Unknown
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contrib_modules_by_version() {
        assert_eq!(availability("pgcrypto", 11), Some(Availability::Shipped));
        assert_eq!(availability("uuid-ossp", 13), Some(Availability::Shipped));
        assert_eq!(availability("timetravel", 11), Some(Availability::Shipped));
        assert_eq!(
            availability("timetravel", 13),
            Some(Availability::NotShipped)
        );
        assert_eq!(
            availability("bool_plperl", 11),
            Some(Availability::NotShipped)
        );
        assert_eq!(
            availability("pg_surgery", 13),
            Some(Availability::NotShipped)
        );
        assert_eq!(availability("postgis", 13), Some(Availability::Unknown));
        assert_eq!(availability("citext", 15), None);
    }

    #[test]
    fn the_lists_are_sorted_and_without_duplicates() {
        for list in [PG11, PG13, OTHER_VERSIONS] {
            assert!(list.windows(2).all(|w| w[0] < w[1]), "{list:?}");
        }
    }
}
