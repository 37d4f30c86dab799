//! One `setops` installation as the adapter uses it: which CLI (version, generation), which
//! session (organization, user, API), and calls that either succeed or become the crate's error.

use chrono::{DateTime, Utc};

use crate::error::Result;
use crate::model::Scope;

use super::super::parse::{self, CliVersion, Generation, LoginInfo, ParseError};
use super::failure::{failed, unreadable};
use super::runner::{Ran, Runner};

/// `setops changeset:commit|discard` with nothing pending (reference section 2.1).
pub const NOTHING_PENDING: i32 = 78;

pub struct Session {
    runner: Runner,
    pub version: CliVersion,
    pub login: LoginInfo,
}

impl Session {
    /// Asks the CLI what it is and who is logged in; both are recorded in the journal.
    pub async fn open(runner: Runner) -> Result<Session> {
        let ran = runner.run(None, &["version"]).await?;
        let version = read(
            &ran,
            "asking the setops CLI its version",
            parse::parse_version,
        )?;
        let ran = runner.run(None, &["login:info"]).await?;
        let login = read(
            &ran,
            "asking the setops CLI who is logged in",
            parse::parse_login_info,
        )?;
        Ok(Session {
            runner,
            version,
            login,
        })
    }

    pub fn generation(&self) -> Generation {
        self.version.generation
    }

    /// A call that must succeed.
    pub async fn call(&self, scope: Option<&Scope>, args: &[&str], context: &str) -> Result<Ran> {
        let ran = self.runner.run(scope, args).await?;
        if ran.ok() {
            Ok(ran)
        } else {
            Err(failed(&ran, context))
        }
    }

    /// A call that may also end with exit 78 (nothing pending): `Ok(None)` then.
    pub async fn call_unless_nothing_pending(
        &self,
        scope: &Scope,
        args: &[&str],
        context: &str,
    ) -> Result<Option<Ran>> {
        let ran = self.runner.run(Some(scope), args).await?;
        match ran.code {
            Some(0) => Ok(Some(ran)),
            Some(NOTHING_PENDING) => Ok(None),
            _ => Err(failed(&ran, context)),
        }
    }

    /// A call whose output goes through `parser`.
    pub async fn read<T>(
        &self,
        scope: Option<&Scope>,
        args: &[&str],
        context: &str,
        parser: impl FnOnce(&str) -> std::result::Result<T, ParseError>,
    ) -> Result<T> {
        let ran = self.call(scope, args, context).await?;
        read(&ran, context, parser)
    }
}

fn read<T>(
    ran: &Ran,
    context: &str,
    parser: impl FnOnce(&str) -> std::result::Result<T, ParseError>,
) -> Result<T> {
    if !ran.ok() {
        return Err(failed(ran, context));
    }
    parser(&ran.stdout).map_err(|e| unreadable(ran, e))
}

/// When the CLI does not print a time (`service:info`, `backup:create`): the moment it was read.
pub fn unprinted_time() -> DateTime<Utc> {
    Utc::now()
}
