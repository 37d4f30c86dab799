//! What can go wrong reading or editing a stage definition. Messages name paths
//! (`services.database.type`), never values: a definition holds app env values, which may be
//! secrets.

/// The command whose output a definition is read from.
pub const DUMP_COMMAND: &str = "setops stage:dump";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StageDefError {
    #[error("the output of `{DUMP_COMMAND}` is not YAML we can read{}: {message}", at(*line, *column))]
    Yaml {
        line: Option<u64>,
        column: Option<u64>,
        message: String,
    },
    #[error("the output of `{DUMP_COMMAND}` has {found} at `{path}`: expected {expected}")]
    Shape {
        path: String,
        expected: String,
        found: String,
    },
    #[error(
        "service {name} is {description}, which setops-migrate has no service type for; it \
         supports postgresql (shared, or version 13 to 16), redis 6 and 7, s3, volume, \
         elasticsearch 7 and documentdb 4"
    )]
    UnsupportedService { name: String, description: String },
    #[error("the stage definition already has a service {0}")]
    ServiceExists(String),
    #[error("the stage definition has no service {0}")]
    NoSuchService(String),
    #[error("{name} is not a valid service name ({reason})")]
    InvalidServiceName { name: String, reason: String },
    #[error("service {service} is still linked by {}; relink or unlink those apps first", apps.join(", "))]
    ServiceLinked { service: String, apps: Vec<String> },
    #[error("the stage definition has no app {0}")]
    NoSuchApp(String),
    #[error("app {app} has no link to service {service}")]
    NoLink { app: String, service: String },
    #[error("app {app} already links service {service}")]
    LinkExists { app: String, service: String },
    #[error(
        "app {app} cannot run {scale} containers: a scale is 0 to {}",
        crate::model::MAX_SCALE
    )]
    ScaleOutOfRange { app: String, scale: u64 },
    #[error("the stage definition cannot be written as YAML: {0}")]
    Serialize(String),
}

fn at(line: Option<u64>, column: Option<u64>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(" (line {l}, column {c})"),
        (Some(l), None) => format!(" (line {l})"),
        _ => String::new(),
    }
}
