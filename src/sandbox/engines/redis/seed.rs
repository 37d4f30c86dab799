//! Deterministic demo keys for a seeded redis6 service: strings, hashes, lists, sets and sorted
//! sets with names like `session:0042`, `user:17:profile` or `queue:emails`, some with a TTL of
//! hours. Everything derives from the seed number alone (a local splitmix64), so every new
//! sandbox holds exactly the same keys.

use ::redis::{Connection, Pipeline};

use super::super::KeySpec;
use crate::sandbox::content::SplitMix64;
use crate::sandbox::{Error, Result};

/// Keys created per round trip (two or three commands each).
const KEYS_PER_ROUND_TRIP: usize = 200;

const WORDS: [&str; 12] = [
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
    "kilo", "lima",
];
const QUEUES: [&str; 6] = [
    "emails",
    "webhooks",
    "thumbnails",
    "exports",
    "invoices",
    "reports",
];
const PLANS: [&str; 3] = ["free", "team", "business"];

/// One generated key: what to run to create it. Kept as data so tests can compare plans.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Planned {
    String {
        key: String,
        value: String,
        ttl_secs: Option<u64>,
    },
    Hash {
        key: String,
        fields: Vec<(String, String)>,
    },
    List {
        key: String,
        items: Vec<String>,
    },
    Set {
        key: String,
        members: Vec<String>,
        ttl_secs: Option<u64>,
    },
    SortedSet {
        key: String,
        members: Vec<(f64, String)>,
    },
}

impl Planned {
    pub(super) fn key(&self) -> &str {
        match self {
            Planned::String { key, .. }
            | Planned::Hash { key, .. }
            | Planned::List { key, .. }
            | Planned::Set { key, .. }
            | Planned::SortedSet { key, .. } => key,
        }
    }

    /// Appends the commands that create this key from scratch (DEL first, so seeding a key that
    /// exists gives the same result).
    fn append_to(&self, pipe: &mut Pipeline) {
        pipe.cmd("DEL").arg(self.key()).ignore();
        match self {
            Planned::String {
                key,
                value,
                ttl_secs,
            } => {
                pipe.cmd("SET").arg(key).arg(value);
                if let Some(ttl) = ttl_secs {
                    pipe.arg("EX").arg(*ttl);
                }
                pipe.ignore();
            }
            Planned::Hash { key, fields } => {
                pipe.cmd("HSET").arg(key);
                for (field, value) in fields {
                    pipe.arg(field).arg(value);
                }
                pipe.ignore();
            }
            Planned::List { key, items } => {
                pipe.cmd("RPUSH").arg(key).arg(items).ignore();
            }
            Planned::Set {
                key,
                members,
                ttl_secs,
            } => {
                pipe.cmd("SADD").arg(key).arg(members).ignore();
                if let Some(ttl) = ttl_secs {
                    pipe.cmd("EXPIRE").arg(key).arg(*ttl).ignore();
                }
            }
            Planned::SortedSet { key, members } => {
                pipe.cmd("ZADD").arg(key);
                for (score, member) in members {
                    pipe.arg(*score).arg(member);
                }
                pipe.ignore();
            }
        }
    }
}

/// The keys a spec creates, in order; names are unique.
pub(super) fn plan(spec: &KeySpec) -> Vec<Planned> {
    let mut rng = SplitMix64(spec.seed);
    let mut lists = 0usize;
    (0..spec.count)
        .map(|i| match rng.below(5) {
            0 => Planned::String {
                key: format!("session:{i:04}"),
                value: format!("{:016x}", rng.next()),
                // A third of the sessions expire within 1 to 48 hours.
                ttl_secs: (rng.below(3) == 0).then(|| 3600 * (1 + rng.below(48))),
            },
            1 => Planned::Hash {
                key: format!("user:{i}:profile"),
                fields: vec![
                    ("name".to_owned(), rng.pick(&WORDS).to_owned()),
                    (
                        "email".to_owned(),
                        format!("{}{i}@example.com", rng.pick(&WORDS)),
                    ),
                    ("plan".to_owned(), rng.pick(&PLANS).to_owned()),
                    ("logins".to_owned(), rng.below(1000).to_string()),
                ],
            },
            2 => {
                let queue = QUEUES[lists % QUEUES.len()];
                // The first round of queues gets the plain names; later ones a number.
                let key = match lists / QUEUES.len() {
                    0 => format!("queue:{queue}"),
                    n => format!("queue:{queue}:{n}"),
                };
                lists += 1;
                let len = 1 + rng.below(8);
                let items = (0..len)
                    .map(|_| format!("{{\"job\":\"{queue}\",\"id\":{}}}", rng.below(1_000_000)))
                    .collect();
                Planned::List { key, items }
            }
            3 => {
                let len = 1 + rng.below(6);
                let mut members: Vec<String> =
                    (0..len).map(|_| rng.pick(&WORDS).to_owned()).collect();
                members.sort();
                members.dedup();
                Planned::Set {
                    key: format!("tags:{i}"),
                    members,
                    ttl_secs: (rng.below(4) == 0).then(|| 3600 * (1 + rng.below(24))),
                }
            }
            _ => {
                let len = 1 + rng.below(6);
                let members = (0..len)
                    .map(|n| (rng.below(10_000) as f64, format!("player:{n}")))
                    .collect();
                Planned::SortedSet {
                    key: format!("leaderboard:{i}"),
                    members,
                }
            }
        })
        .collect()
}

/// Creates the planned keys, pipelined.
pub(super) fn load(con: &mut Connection, spec: &KeySpec) -> Result<()> {
    let planned = plan(spec);
    for chunk in planned.chunks(KEYS_PER_ROUND_TRIP) {
        let mut pipe = ::redis::pipe();
        for key in chunk {
            key.append_to(&mut pipe);
        }
        pipe.exec(con)
            .map_err(|e| Error::Engine(format!("writing seed keys: {e}")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_unique_keys_of_every_type() {
        let spec = KeySpec {
            seed: 7,
            count: 200,
        };
        let a = plan(&spec);
        assert_eq!(a, plan(&spec));
        assert_ne!(
            a,
            plan(&KeySpec {
                seed: 8,
                count: 200
            })
        );
        let mut names: Vec<&str> = a.iter().map(Planned::key).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 200);
        for kind in ["session:", "user:", "queue:", "tags:", "leaderboard:"] {
            assert!(names.iter().any(|n| n.starts_with(kind)), "no {kind} key");
        }
        assert!(names.contains(&"queue:emails"));
        let with_ttl = a
            .iter()
            .filter(|p| {
                matches!(
                    p,
                    Planned::String {
                        ttl_secs: Some(_),
                        ..
                    } | Planned::Set {
                        ttl_secs: Some(_),
                        ..
                    }
                )
            })
            .count();
        assert!(with_ttl > 0);
    }
}
