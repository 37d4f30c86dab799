//! What every command needs: the output, the scope flags, and a platform connection made from
//! `--sandbox` or `--api` + token. Connecting is lazy, so `sandbox stop` never starts a server.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::args;
use crate::cli::{GlobalArgs, PlatformKind};
use crate::error::{Error, Result};
use crate::model::Scope;
use crate::platform::Platform;
use crate::platform::http::HttpPlatform;
use crate::platform::setops_cli::SetopsCli;
#[cfg(feature = "sandbox")]
use crate::sandbox::process::ensure_running;
use crate::ui::Output;

#[cfg(feature = "sandbox")]
const NO_PLATFORM: &str = "no platform given: pass --sandbox DIR to use a local sandbox, or --api \
                           URL (or set SETOPS_API_URL) together with a token";
#[cfg(not(feature = "sandbox"))]
const NO_PLATFORM: &str =
    "no platform given: pass --api URL (or set SETOPS_API_URL) together with a token";

/// Where the sandbox's setops front finds its sandbox.
#[cfg(feature = "sandbox")]
pub(super) use crate::sandbox::cli_front::SANDBOX_DIR_ENV as FRONT_DIR_ENV;

pub struct Context {
    pub global: GlobalArgs,
    pub output: Output,
}

/// A connected platform plus the HTTP client used for pre-signed transfer URLs.
pub struct Connection {
    pub platform: Arc<dyn Platform>,
    pub transfers: reqwest::Client,
}

impl Context {
    pub fn new(global: GlobalArgs) -> Self {
        let output = Output::new(global.output);
        Context { global, output }
    }

    /// Settings for a sandbox this command starts.
    #[cfg(feature = "sandbox")]
    pub fn engine_config(&self) -> crate::sandbox::EngineConfig {
        crate::sandbox::EngineConfig {
            postgres_url: self.global.postgres_url.clone().filter(|u| !u.is_empty()),
            exact_versions: crate::sandbox::servers::exact_versions_from_env(),
        }
    }

    pub async fn connect(&self) -> Result<Connection> {
        if let Some(bin) = self.setops_bin()? {
            let transfers = crate::platform::http::client()?;
            let cli = SetopsCli::connect(bin, self.front_env().await?, transfers.clone()).await?;
            return Ok(Connection {
                platform: Arc::new(cli),
                transfers,
            });
        }
        let (url, token) = match self.sandbox_connection().await? {
            Some(conn) => conn,
            None => {
                let url = self
                    .global
                    .api
                    .clone()
                    .or_else(|| {
                        std::env::var("SETOPS_API_URL")
                            .ok()
                            .filter(|v| !v.is_empty())
                    })
                    .ok_or_else(|| Error::usage(NO_PLATFORM))?;
                (url, self.token()?)
            }
        };
        let http = HttpPlatform::new(&url, token)?;
        let transfers = http.http_client().clone();
        Ok(Connection {
            platform: Arc::new(http),
            transfers,
        })
    }

    /// The `setops` binary to drive, when the platform is the CLI: asked for with `--platform
    /// cli`, or chosen because `setops` is on PATH and no other platform was named. With
    /// `--sandbox DIR` it is the sandbox's own front (this program under the name `setops`).
    fn setops_bin(&self) -> Result<Option<PathBuf>> {
        let named_other = self.global.api.is_some()
            || std::env::var_os("SETOPS_API_URL").is_some_and(|v| !v.is_empty())
            || self.sandbox_dir().is_some();
        match self.global.platform {
            Some(PlatformKind::Api) => Ok(None),
            Some(PlatformKind::Cli) => {
                if self.global.api.is_some() {
                    return Err(Error::usage(
                        "--platform cli drives the setops CLI, which knows its own API; drop --api",
                    ));
                }
                if let Some(dir) = self.sandbox_dir() {
                    return front_bin(dir).map(Some);
                }
                locate_setops().map(Some).ok_or_else(|| {
                    Error::usage(
                        "--platform cli: the setops CLI is not on PATH; install it (README, \
                         \"The real SetOps\") or point SETOPS_BIN at it",
                    )
                })
            }
            None if named_other => Ok(None),
            None => Ok(locate_setops()),
        }
    }

    #[cfg(feature = "sandbox")]
    fn sandbox_dir(&self) -> Option<&Path> {
        self.global.sandbox.as_deref()
    }

    #[cfg(not(feature = "sandbox"))]
    fn sandbox_dir(&self) -> Option<&Path> {
        None
    }

    /// What the sandbox front needs to find its sandbox (started now if none runs).
    #[cfg(feature = "sandbox")]
    async fn front_env(&self) -> Result<Vec<(OsString, OsString)>> {
        let Some(dir) = self.sandbox_dir() else {
            return Ok(Vec::new());
        };
        self.sandbox_connection().await?;
        Ok(vec![(
            OsString::from(FRONT_DIR_ENV),
            std::path::absolute(dir)
                .map_err(|e| Error::io("resolving", dir, e))?
                .into_os_string(),
        )])
    }

    #[cfg(not(feature = "sandbox"))]
    async fn front_env(&self) -> Result<Vec<(OsString, OsString)>> {
        Ok(Vec::new())
    }

    /// `--sandbox DIR`: the URL and token of DIR's server, started in the background when none
    /// runs; `None` without the flag.
    #[cfg(feature = "sandbox")]
    async fn sandbox_connection(&self) -> Result<Option<(String, String)>> {
        let Some(dir) = &self.global.sandbox else {
            return Ok(None);
        };
        if self.global.api.is_some() {
            return Err(Error::usage(
                "--sandbox and --api name two different platforms; pass only one of them",
            ));
        }
        let program = std::env::current_exe()
            .map_err(|e| Error::io("locating the running program", "setops-migrate", e))?;
        let conn = ensure_running(dir, None, &program, &self.engine_config()).await?;
        if conn.started {
            let dir = super::plans::shell_word(&dir.display().to_string());
            self.output.note(&format!(
                "Started the sandbox of {dir} in the background at {}; it keeps running \
                 (stop it with `setops-migrate sandbox stop --dir {dir}`)",
                conn.url
            ));
        }
        Ok(Some((conn.url, conn.token)))
    }

    #[cfg(not(feature = "sandbox"))]
    async fn sandbox_connection(&self) -> Result<Option<(String, String)>> {
        Ok(None)
    }

    fn token(&self) -> Result<String> {
        if let Some(file) = &self.global.token_file {
            return read_token_file(file);
        }
        match std::env::var("SETOPS_TOKEN") {
            Ok(token) if !token.trim().is_empty() => Ok(token.trim().to_owned()),
            _ => Err(Error::usage(
                "no API token: set SETOPS_TOKEN or pass --token-file FILE",
            )),
        }
    }

    pub fn scope(&self) -> Result<Scope> {
        let project = self.global.project.clone().ok_or_else(|| {
            Error::usage("missing -p/--project: this command works on one stage of a project (for example -p shop -s production)")
        })?;
        let stage = self.global.stage.clone().ok_or_else(|| {
            Error::usage("missing -s/--stage: this command works on one stage of a project (for example -p shop -s production)")
        })?;
        args::project(&project)?;
        args::stage(&stage)?;
        Ok(Scope { project, stage })
    }

    pub fn service(&self) -> Result<&str> {
        let service = self.global.service.as_deref().ok_or_else(|| {
            Error::usage("missing --service NAME: this command works on one service (see `service` for the list)")
        })?;
        args::service("--service", service)?;
        Ok(service)
    }

    pub fn app(&self) -> Result<&str> {
        let app = self
            .global
            .app
            .as_deref()
            .ok_or_else(|| Error::usage("missing --app NAME: this command works on one app"))?;
        args::app("--app", app)?;
        Ok(app)
    }
}

/// `SETOPS_BIN`, else `setops` on PATH.
fn locate_setops() -> Option<PathBuf> {
    if let Some(bin) = std::env::var_os("SETOPS_BIN").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(bin));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("setops"))
        .find(|candidate| candidate.is_file())
}

/// `DIR/bin/setops`, a link to this program: invoked under that name it is the sandbox's
/// setops-compatible front.
#[cfg(feature = "sandbox")]
pub(super) fn front_bin(dir: &Path) -> Result<PathBuf> {
    let program = std::env::current_exe()
        .map_err(|e| Error::io("locating the running program", "setops-migrate", e))?;
    let bin_dir = dir.join("bin");
    std::fs::create_dir_all(&bin_dir).map_err(|e| Error::io("creating", &bin_dir, e))?;
    let link = bin_dir.join("setops");
    let points_here = std::fs::read_link(&link).is_ok_and(|target| target == program);
    if !points_here {
        // A link left by another build of this program is replaced.
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&program, &link)
            .map_err(|e| Error::io("linking the sandbox's setops front at", &link, e))?;
    }
    Ok(link)
}

#[cfg(not(feature = "sandbox"))]
fn front_bin(_dir: &Path) -> Result<PathBuf> {
    Err(Error::usage("this build has no sandbox"))
}

/// An API token is one line; a token file is never larger. `/dev/zero` or a log given by mistake
/// stops here instead of filling memory.
const MAX_TOKEN_FILE_BYTES: u64 = 64 * 1024;

fn read_token_file(path: &Path) -> Result<String> {
    let text = crate::fsio::read_text_bounded(path, MAX_TOKEN_FILE_BYTES).map_err(|e| {
        if crate::fsio::is_too_large(&e) {
            Error::usage(format!(
                "--token-file {}: {e}; a token file holds only the API token, on one line",
                path.display()
            ))
        } else {
            Error::io("reading token file", path, e)
        }
    })?;
    let token = text.trim();
    if token.is_empty() {
        return Err(Error::usage(format!(
            "token file {} is empty; put the API token in it",
            path.display()
        )));
    }
    if token.chars().any(char::is_control) {
        return Err(Error::usage(format!(
            "--token-file {}: holds more than one line (or control characters); a token file \
             holds only the API token, on one line",
            path.display()
        )));
    }
    Ok(token.to_owned())
}
