//! Reaching the sandbox as the `setops` CLI reaches SetOps: the sandbox of `SETOPS_SANDBOX_DIR`
//! (started in the background when none runs, as `--sandbox DIR` does), and a login session.
//!
//! Sessions: `login --service-user` checks organization, user and password (a sandbox user's
//! password is its API token, `DIR/users/<user>.token`) against the sandbox and keeps them in
//! `$HOME/.setops-sandbox/<instance>.json` (0600), one file per sandbox instance, so a session
//! survives the sandbox restarting on another port. Without a session the front acts as the
//! sandbox's default user (`DIR/token`), the user `--sandbox DIR` acts as. A session whose token
//! the sandbox no longer knows answers 401 `SessionInvalid` on every command.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::failure::Failure;
use crate::commands::Connection;
use crate::error::Error;
use crate::model::codes;
use crate::platform::http::HttpPlatform;
use crate::platform::{Platform, PlatformIdentity};
use crate::sandbox::process::ensure_running;
use crate::sandbox::{EngineConfig, POSTGRES_URL_ENV};

pub const DIR_ENV: &str = "SETOPS_SANDBOX_DIR";

/// The sandbox this invocation talks to, as the session's user.
pub(crate) struct Front {
    pub connection: Connection,
    /// `sandbox:<instance>`: the same for one sandbox directory whatever its port.
    pub api: String,
}

impl Front {
    pub(crate) fn platform(&self) -> &dyn Platform {
        self.connection.platform.as_ref()
    }
}

/// The running sandbox: its URL, default token and instance ID.
struct Sandbox {
    url: String,
    default_token: String,
    instance: String,
}

fn sandbox_dir() -> Result<PathBuf, Failure> {
    match std::env::var_os(DIR_ENV) {
        Some(dir) if !dir.is_empty() => Ok(PathBuf::from(dir)),
        _ => Err(Failure::new(format!(
            "{DIR_ENV} is not set: this `setops` is the sandbox's front and talks to the sandbox \
             whose state lives in that directory (the DIR of `setops-migrate --sandbox DIR`); \
             set it, for example `export {DIR_ENV}=$PWD/sandbox`"
        ))),
    }
}

async fn reach_sandbox() -> Result<Sandbox, Failure> {
    let dir = sandbox_dir()?;
    let program = std::env::current_exe()
        .map_err(|e| Error::io("locating the running program", "setops", e))?;
    let config = EngineConfig {
        postgres_url: std::env::var(POSTGRES_URL_ENV)
            .ok()
            .filter(|u| !u.is_empty()),
        exact_versions: crate::sandbox::servers::exact_versions_from_env(),
    };
    let running = ensure_running(&dir, None, &program, &config).await?;
    let probe = HttpPlatform::new(&running.url, running.token.clone())?;
    let instance = match probe.identity().await? {
        PlatformIdentity::Sandbox { instance } => instance,
        other => {
            return Err(Failure::new(format!(
                "the server of {} is not a sandbox (it calls itself {other})",
                dir.display()
            )));
        }
    };
    Ok(Sandbox {
        url: running.url,
        default_token: running.token,
        instance,
    })
}

fn connection(url: &str, token: String) -> Result<Connection, Failure> {
    let http = HttpPlatform::new(url, token)?;
    let transfers = http.http_client().clone();
    Ok(Connection {
        platform: Arc::new(http),
        transfers,
    })
}

/// Connects as the session's user (the default user when nobody logged in).
pub(crate) async fn connect() -> Result<Front, Failure> {
    let sandbox = reach_sandbox().await?;
    let token = match read_session(&sandbox.instance)? {
        Some(session) => session.token,
        None => sandbox.default_token,
    };
    Ok(Front {
        connection: connection(&sandbox.url, token)?,
        api: api_identity(&sandbox.instance),
    })
}

fn api_identity(instance: &str) -> String {
    format!("sandbox:{instance}")
}

/// What `login` keeps. The token never reaches any output.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Session {
    organization: String,
    user: String,
    token: String,
}

fn session_path(instance: &str) -> Result<PathBuf, Failure> {
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .ok_or_else(|| {
            Failure::new("HOME is not set: the session lives in $HOME/.setops-sandbox")
        })?;
    Ok(Path::new(&home)
        .join(".setops-sandbox")
        .join(format!("{instance}.json")))
}

fn read_session(instance: &str) -> Result<Option<Session>, Failure> {
    let Ok(path) = session_path(instance) else {
        return Ok(None);
    };
    // A session is three short strings.
    let text = match crate::fsio::read_text_bounded(&path, 64 * 1024) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("reading the session", &path, e).into()),
    };
    serde_json::from_str(&text).map(Some).map_err(|e| {
        Failure::new(format!(
            "the session file {} is damaged ({e}); run `setops login` to log in again",
            path.display()
        ))
    })
}

fn write_session(instance: &str, session: &Session) -> Result<(), Failure> {
    let path = session_path(instance)?;
    let dir = crate::fsio::parent_of(&path);
    crate::fsio::create_private_dir(dir).map_err(|e| Error::io("creating", dir, e))?;
    let json = serde_json::to_vec_pretty(session).map_err(|e| Error::encoding("the session", e))?;
    crate::fsio::write_atomic(&path, &json).map_err(|e| Error::io("writing", &path, e))?;
    Ok(())
}

/// `login --service-user`: organization, user and password from stdin, one a line.
pub(crate) async fn login(service_user: bool) -> Result<String, Failure> {
    if !service_user {
        return Err(Failure::new(
            "interactive login needs a browser and a terminal; log in non-interactively with \
             `setops login --service-user`, writing organization, user and password (one a line) \
             to its stdin",
        ));
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Err(Failure::new(
            "`login --service-user` reads organization, user and password from stdin and never \
             prompts; pipe them in, one a line",
        ));
    }
    let mut text = String::new();
    stdin
        .lock()
        .read_to_string(&mut text)
        .map_err(|e| Error::io("reading", "stdin", e))?;
    let mut lines = text.lines().map(str::trim);
    let (Some(organization), Some(user), Some(password)) =
        (lines.next(), lines.next(), lines.next())
    else {
        return Err(Failure::new(
            "`login --service-user` reads three lines from stdin: organization, user, password",
        ));
    };
    let sandbox = reach_sandbox().await?;
    let rejected = |request_id: &str| {
        Failure::new(format!(
            "login as {user:?} in organization {organization:?} failed: wrong organization, user \
             or password (a sandbox user's password is its token, DIR/users/<user>.token) \
             (code: {}, request_id: {request_id})",
            codes::CREDENTIALS_INVALID
        ))
    };
    if password.is_empty() || !password.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(rejected("none"));
    }
    let probe = connection(&sandbox.url, password.to_owned())?;
    let me = match probe.platform.whoami().await {
        Ok(me) => me,
        Err(Error::Platform { error, .. }) if error.code == codes::SESSION_INVALID => {
            return Err(rejected(&error.request_id));
        }
        Err(e) => return Err(e.into()),
    };
    if me.name != user || me.organization.as_deref() != Some(organization) {
        return Err(rejected("none"));
    }
    write_session(
        &sandbox.instance,
        &Session {
            organization: organization.to_owned(),
            user: user.to_owned(),
            token: password.to_owned(),
        },
    )?;
    Ok(me.name)
}
