//! Which server program runs each service type the sandbox emulates: `postgresql11` on a
//! PostgreSQL 11 server, `postgresql13` on 13, `redis6` on Redis 6. The builds come from the
//! servers directory that `scripts/install-servers` fills (npm and PyPI packages), from Debian's
//! `/usr/lib/postgresql/<major>/bin`, or from PATH; the first one of the wanted major wins.
//!
//! When no build of the wanted major is installed, the newest installed one stands in (so the
//! demo and `sandbox serve` run on a machine with only Debian's packages), and every listing
//! says so. `SETOPS_SANDBOX_EXACT_VERSIONS=1` refuses stand-ins instead: the tests set it, so a
//! missing version fails them loudly with the install command.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, PoisonError};

use super::procs::{PROGRAM_PATH_ENV, is_executable};
use crate::model::ServiceType;
use crate::sandbox::{Error, Result};

/// The directory `scripts/install-servers` unpacks the server builds into.
pub const SERVERS_DIR_ENV: &str = "SETOPS_SANDBOX_SERVERS";
/// `1`: a service type whose server version is not installed is unavailable, instead of being
/// run on another version.
pub const EXACT_VERSIONS_ENV: &str = "SETOPS_SANDBOX_EXACT_VERSIONS";

const DEBIAN_POSTGRES: &str = "/usr/lib/postgresql";
/// What `scripts/install-servers` installs; other versions come from elsewhere.
const INSTALLED_BY_SCRIPT: [(Product, u32); 3] = [
    (Product::Postgres, 11),
    (Product::Postgres, 13),
    (Product::Redis, 6),
];

/// How to get `major` of `product`, for messages.
fn install_hint(product: Product, major: u32) -> String {
    if INSTALLED_BY_SCRIPT.contains(&(product, major)) {
        return "run scripts/install-servers from the setops-migrate repository".to_owned();
    }
    let dir = servers_dir()
        .map(|d| {
            d.join(product.install_dir(major))
                .join("bin")
                .display()
                .to_string()
        })
        .unwrap_or_else(|| format!("$SETOPS_SANDBOX_SERVERS/{}/bin", product.install_dir(major)));
    format!(
        "install {} {major} (a Debian package, or a build whose programs are in {dir})",
        product.name()
    )
}

/// A server product the sandbox runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Product {
    Postgres,
    /// psql, pg_dump and pg_restore: the newest installed is used for every server version.
    PostgresClient,
    Redis,
}

impl Product {
    fn name(self) -> &'static str {
        match self {
            Product::Postgres => "PostgreSQL",
            Product::PostgresClient => "the PostgreSQL client",
            Product::Redis => "Redis",
        }
    }

    /// The programs a usable build has in its bin directory; the last one reports the version.
    fn programs(self) -> &'static [&'static str] {
        match self {
            Product::Postgres => &["initdb", "pg_ctl", "postgres"],
            Product::PostgresClient => &["psql", "pg_restore", "pg_dump"],
            Product::Redis => &["redis-server"],
        }
    }

    /// The subdirectory of the servers directory holding `major`.
    fn install_dir(self, major: u32) -> String {
        match self {
            Product::Postgres | Product::PostgresClient => format!("postgresql-{major}"),
            Product::Redis => format!("redis-{major}"),
        }
    }
}

/// The server product and major version that emulates a service type, if it runs one.
pub fn wanted(service_type: ServiceType) -> Option<(Product, u32)> {
    match (service_type.postgresql_major(), service_type.redis_major()) {
        (Some(major), _) => Some((Product::Postgres, major)),
        (_, Some(major)) => Some((Product::Redis, major)),
        (None, None) => None,
    }
}

/// An installed server build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Build {
    pub product: Product,
    /// The directory holding its programs.
    pub bin: PathBuf,
    /// As the server reports it, e.g. `11.22` or `6.2.14`.
    pub version: String,
    pub major: u32,
}

impl Build {
    pub fn program(&self, name: &str) -> PathBuf {
        self.bin.join(name)
    }
}

/// The build chosen for a wanted major version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub build: Build,
    /// The major version that was asked for.
    pub wanted: u32,
}

impl Choice {
    pub fn exact(&self) -> bool {
        self.build.major == self.wanted
    }

    /// "PostgreSQL 11.22 (/var/cache/…/postgresql-11/bin)", with the stand-in note when it is one.
    pub fn describe(&self) -> String {
        let product = self.build.product.name();
        let mut text = format!(
            "{product} {} ({})",
            self.build.version,
            self.build.bin.display()
        );
        if !self.exact() {
            text.push_str(&format!(
                ", standing in for {product} {}, which is not installed: {}",
                self.wanted,
                install_hint(self.build.product, self.wanted)
            ));
        }
        text
    }
}

/// The build that runs `major` of `product`: an exact one, else (unless `exact`) the newest
/// installed. Looked up once per process.
pub fn choose(product: Product, major: u32, exact: bool) -> Result<Choice> {
    type Chosen = BTreeMap<(Product, u32, bool), Result<Choice>>;
    static CHOSEN: Mutex<Chosen> = Mutex::new(BTreeMap::new());
    let mut chosen = CHOSEN.lock().unwrap_or_else(PoisonError::into_inner);
    chosen
        .entry((product, major, exact))
        .or_insert_with(|| choose_from(&candidates(product, major), product, major, exact))
        .as_ref()
        .cloned()
        .map_err(Error::repeated)
}

/// The newest installed build of `product` (for the PostgreSQL client, which restores into
/// every server version, as a platform's newest client would). Looked up once per process.
pub fn newest(product: Product) -> Result<Build> {
    static NEWEST: Mutex<BTreeMap<Product, Result<Build>>> = Mutex::new(BTreeMap::new());
    let mut newest = NEWEST.lock().unwrap_or_else(PoisonError::into_inner);
    newest
        .entry(product)
        .or_insert_with(|| {
            candidates(product, 0)
                .into_iter()
                .max_by(|a, b| version_key(&a.version).cmp(&version_key(&b.version)))
                .ok_or_else(|| {
                    Error::Engine(format!(
                        "{} ({}) was not found {}",
                        product.name(),
                        product.programs().join(", "),
                        looked_in(product, 0)
                    ))
                })
        })
        .as_ref()
        .cloned()
        .map_err(Error::repeated)
}

/// Whether [`EXACT_VERSIONS_ENV`] asks for exact versions.
pub fn exact_versions_from_env() -> bool {
    std::env::var_os(EXACT_VERSIONS_ENV).is_some_and(|v| v == "1")
}

fn choose_from(
    candidates: &[Build],
    product: Product,
    major: u32,
    exact_only: bool,
) -> Result<Choice> {
    if let Some(build) = candidates.iter().find(|b| b.major == major) {
        return Ok(Choice {
            build: build.clone(),
            wanted: major,
        });
    }
    let newest = candidates.iter().max_by(|a, b| {
        version_key(&a.version)
            .cmp(&version_key(&b.version))
            .then_with(|| b.bin.cmp(&a.bin))
    });
    match newest {
        Some(build) if !exact_only => Ok(Choice {
            build: build.clone(),
            wanted: major,
        }),
        _ => {
            let found: Vec<String> = candidates
                .iter()
                .map(|b| format!("{} in {}", b.version, b.bin.display()))
                .collect();
            Err(Error::Engine(format!(
                "{} {major} is not installed (looked {}; found: {}); {}, or set \
                 {SERVERS_DIR_ENV} to the directory it installed into",
                product.name(),
                looked_in(product, major),
                if found.is_empty() {
                    "none".to_owned()
                } else {
                    found.join(", ")
                },
                install_hint(product, major)
            )))
        }
    }
}

fn version_key(version: &str) -> Vec<u32> {
    version
        .split('.')
        .map(|part| part.parse().unwrap_or(0))
        .collect()
}

/// Every build of `product` in the places it is looked up, in order of preference for `major`.
fn candidates(product: Product, major: u32) -> Vec<Build> {
    let dirs: Vec<PathBuf> = match std::env::var_os(PROGRAM_PATH_ENV) {
        Some(list) => std::env::split_paths(&list).collect(),
        None => {
            let mut dirs = Vec::new();
            if let Some(servers) = servers_dir().filter(|_| product != Product::PostgresClient) {
                dirs.push(servers.join(product.install_dir(major)).join("bin"));
            }
            if product != Product::Redis {
                dirs.extend(debian_postgres_dirs());
            }
            if let Some(path) = std::env::var_os("PATH") {
                dirs.extend(std::env::split_paths(&path));
            }
            dirs
        }
    };
    let mut builds: Vec<Build> = Vec::new();
    for dir in dirs {
        if builds.iter().any(|b| b.bin == dir) {
            continue;
        }
        if let Some(build) = inspect(product, &dir) {
            builds.push(build);
        }
    }
    builds
}

/// Where [`candidates`] looks, for messages.
fn looked_in(product: Product, major: u32) -> String {
    if let Some(list) = std::env::var_os(PROGRAM_PATH_ENV) {
        return format!("in {PROGRAM_PATH_ENV} ({})", list.to_string_lossy());
    }
    let mut places = Vec::new();
    if let Some(servers) = servers_dir().filter(|_| product != Product::PostgresClient) {
        places.push(
            servers
                .join(product.install_dir(major))
                .join("bin")
                .display()
                .to_string(),
        );
    }
    if product != Product::Redis {
        places.push(format!("{DEBIAN_POSTGRES}/*/bin"));
    }
    places.push("PATH".to_owned());
    format!("in {}", places.join(", "))
}

/// The servers directory: the variable, else the default `scripts/install-servers` uses.
pub fn servers_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(SERVERS_DIR_ENV).filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    if nix::unistd::geteuid().is_root() {
        // PostgreSQL runs as `nobody` under root, and `nobody` cannot enter /root.
        return Some(PathBuf::from("/var/cache/setops-migrate/servers"));
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(cache.join("setops-migrate").join("servers"))
}

/// `/usr/lib/postgresql/<v>/bin`, newest first.
fn debian_postgres_dirs() -> Vec<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(DEBIAN_POSTGRES)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            Some((v, e.path().join("bin")))
        })
        .collect();
    versions.sort();
    versions.into_iter().rev().map(|(_, dir)| dir).collect()
}

/// The build in `dir`, when it holds every program of `product` and its server reports a
/// version.
fn inspect(product: Product, dir: &Path) -> Option<Build> {
    if !product
        .programs()
        .iter()
        .all(|p| is_executable(&dir.join(p)))
    {
        return None;
    }
    let server = dir.join(product.programs().last()?);
    let output = Command::new(&server)
        .arg("--version")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let version = parse_version(product, &String::from_utf8_lossy(&output.stdout))?;
    let major = version.split('.').next()?.parse().ok()?;
    Some(Build {
        product,
        bin: dir.to_path_buf(),
        version,
        major,
    })
}

/// `postgres (PostgreSQL) 11.22` -> `11.22`; `Redis server v=6.2.14 sha=…` -> `6.2.14`.
fn parse_version(product: Product, text: &str) -> Option<String> {
    let token = match product {
        Product::Postgres | Product::PostgresClient => text.split_whitespace().nth(2)?,
        Product::Redis => text.split_whitespace().find_map(|t| t.strip_prefix("v="))?,
    };
    let version: String = token
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    (!version.is_empty() && version.starts_with(|c: char| c.is_ascii_digit())).then_some(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(version: &str, bin: &str) -> Build {
        Build {
            product: Product::Postgres,
            bin: PathBuf::from(bin),
            version: version.to_owned(),
            major: version_key(version)[0],
        }
    }

    #[test]
    fn versions_are_read_from_what_the_servers_print() {
        assert_eq!(
            parse_version(Product::Postgres, "postgres (PostgreSQL) 11.22\n").as_deref(),
            Some("11.22")
        );
        assert_eq!(
            parse_version(
                Product::Postgres,
                "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n"
            )
            .as_deref(),
            Some("15.18")
        );
        assert_eq!(
            parse_version(
                Product::Redis,
                "Redis server v=6.2.14 sha=40305114:0 malloc=libc bits=64 build=dff95a8e7a99d269\n"
            )
            .as_deref(),
            Some("6.2.14")
        );
        assert_eq!(parse_version(Product::Redis, "Redis server\n"), None);
        assert_eq!(parse_version(Product::Postgres, "postgres\n"), None);
    }

    #[test]
    fn the_wanted_major_wins_over_newer_ones() {
        let found = [
            build("15.18", "/a"),
            build("11.22", "/b"),
            build("13.23", "/c"),
        ];
        let choice = choose_from(&found, Product::Postgres, 13, false).unwrap();
        assert_eq!(choice.build.bin, PathBuf::from("/c"));
        assert!(choice.exact());
        assert!(!choice.describe().contains("standing in"));
    }

    #[test]
    fn without_the_wanted_major_the_newest_stands_in_unless_exact_versions_are_required() {
        let found = [build("13.23", "/c"), build("15.18", "/a")];
        let choice = choose_from(&found, Product::Postgres, 11, false).unwrap();
        assert_eq!(choice.build.version, "15.18");
        assert!(!choice.exact());
        assert!(
            choice.describe().contains(
                "standing in for PostgreSQL 11, which is not installed: run scripts/install-servers"
            ),
            "{}",
            choice.describe()
        );
        let refused = choose_from(&found, Product::Postgres, 11, true)
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains("PostgreSQL 11 is not installed"),
            "{refused}"
        );
        assert!(refused.contains("15.18 in /a"), "{refused}");
        assert!(refused.contains("scripts/install-servers"), "{refused}");
    }

    #[test]
    fn nothing_installed_names_the_install_command() {
        let refused = choose_from(&[], Product::Redis, 6, false)
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains("Redis 6 is not installed (looked in ")
                && refused.contains("; found: none)"),
            "{refused}"
        );
        assert!(refused.contains("scripts/install-servers"), "{refused}");
    }
}
