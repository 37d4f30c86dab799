//! Secrets the sandbox generates once per service and keeps in its state: S3 keys, database
//! logins. A leaf, so the state and the engines both use it without importing each other.

use rand::Rng;
use rand::distributions::Alphanumeric;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::ServiceType;

/// Secrets generated once when a service is created, kept in the sandbox state.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum Credentials {
    S3 {
        access_key: String,
        secret_key: String,
    },
    /// A login for a database server (PostgreSQL role, Redis `default` user).
    Password { user: String, password: String },
}

/// Secrets stay out of debug output (a failing assertion, a log line).
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::S3 { access_key, .. } => f
                .debug_struct("S3")
                .field("access_key", access_key)
                .field("secret_key", &"***")
                .finish(),
            Credentials::Password { user, .. } => f
                .debug_struct("Password")
                .field("user", user)
                .field("password", &"***")
                .finish(),
        }
    }
}

impl Credentials {
    /// Fresh credentials for a new service of `service_type`; `None` for types without any.
    pub(crate) fn generate(service_type: ServiceType, uid: Uuid) -> Option<Credentials> {
        match service_type {
            ServiceType::S3 => Some(Credentials::S3 {
                access_key: format!("SBX{}", random_alnum(17, true)),
                secret_key: random_alnum(40, false),
            }),
            ServiceType::Postgresql11
            | ServiceType::Postgresql13
            | ServiceType::Postgresql14
            | ServiceType::Postgresql15
            | ServiceType::Postgresql16 => Some(Credentials::Password {
                // Unique across sandboxes sharing one cluster (`--postgres-url`), and a valid
                // unquoted identifier.
                user: format!("sbx_{}", &uid.simple().to_string()[..16]),
                password: random_alnum(32, false),
            }),
            ServiceType::Redis6 | ServiceType::Redis7 => Some(Credentials::Password {
                user: "default".to_owned(),
                password: random_alnum(32, false),
            }),
            ServiceType::Volume | ServiceType::Mongodb4 | ServiceType::Elasticsearch7 => None,
        }
    }

    /// `(user, password)` of a database login.
    pub(crate) fn login(&self) -> Option<(&str, &str)> {
        match self {
            Credentials::Password { user, password } => Some((user, password)),
            Credentials::S3 { .. } => None,
        }
    }
}

/// `len` random letters and digits (upper-case letters when `upper`).
pub(crate) fn random_alnum(len: usize, upper: bool) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(|b| {
            let c = char::from(b);
            if upper { c.to_ascii_uppercase() } else { c }
        })
        .collect()
}
