//! What every command needs: the output, the scope flags, and a platform connection made from
//! `--sandbox` or `--api` + token. Connecting is lazy, so `sandbox stop` never starts a server.

use std::path::Path;
use std::sync::Arc;

use crate::cli::GlobalArgs;
use crate::error::{Error, Result};
use crate::model::Scope;
use crate::platform::Platform;
use crate::platform::http::HttpPlatform;
#[cfg(feature = "sandbox")]
use crate::sandbox::process::ensure_running;
use crate::ui::Output;

#[cfg(feature = "sandbox")]
const NO_PLATFORM: &str = "no platform given: pass --sandbox DIR to use a local sandbox, or --api \
                           URL (or set SETOPS_API_URL) together with a token";
#[cfg(not(feature = "sandbox"))]
const NO_PLATFORM: &str =
    "no platform given: pass --api URL (or set SETOPS_API_URL) together with a token";

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
        }
    }

    pub async fn connect(&self) -> Result<Connection> {
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
        Ok(Scope { project, stage })
    }

    pub fn service(&self) -> Result<&str> {
        self.global.service.as_deref().ok_or_else(|| {
            Error::usage("missing --service NAME: this command works on one service (see `service` for the list)")
        })
    }

    pub fn app(&self) -> Result<&str> {
        self.global
            .app
            .as_deref()
            .ok_or_else(|| Error::usage("missing --app NAME: this command works on one app"))
    }
}

fn read_token_file(path: &Path) -> Result<String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| Error::io("reading token file", path, e))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(Error::usage(format!(
            "token file {} is empty; put the API token in it",
            path.display()
        )));
    }
    Ok(token.to_owned())
}
