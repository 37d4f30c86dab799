//! One `setops` command about to run: what it was given, the scope flags it needs, and where
//! its output goes. Shared by the commands of both generations.

use super::args::{Globals, Needs, Parsed, Spec};
use super::failure::Failure;
use super::generation::Generation;
use crate::model::Scope;
use crate::ui::Output;

/// One command about to run: what it was given and where its output goes.
pub(crate) struct Call<'a> {
    pub generation: Generation,
    pub spec: &'static Spec,
    pub globals: &'a Globals,
    pub parsed: Parsed,
    pub output: Output,
}

impl Call<'_> {
    pub(crate) fn scope(&self) -> Result<Scope, Failure> {
        let missing = |flag: &str| {
            Failure::new(format!(
                "\"{}\" needs {flag}: it works on one stage of a project (for example -p shop -s \
                 production)",
                self.spec.name
            ))
        };
        Ok(Scope {
            project: self
                .globals
                .project
                .clone()
                .ok_or_else(|| missing("-p/--project"))?,
            stage: self
                .globals
                .stage
                .clone()
                .ok_or_else(|| missing("-s/--stage"))?,
        })
    }

    pub(crate) fn project(&self) -> Result<&str, Failure> {
        self.globals.project.as_deref().ok_or_else(|| {
            Failure::new(format!(
                "\"{}\" needs -p/--project: it lists the stages of one project",
                self.spec.name
            ))
        })
    }

    pub(crate) fn service(&self) -> Result<&str, Failure> {
        self.globals.service.as_deref().ok_or_else(|| {
            Failure::new(format!(
                "\"{}\" needs --service NAME: it works on one service",
                self.spec.name
            ))
        })
    }

    pub(crate) fn app(&self) -> Result<&str, Failure> {
        self.globals.app.as_deref().ok_or_else(|| {
            Failure::new(format!(
                "\"{}\" needs --app NAME: it works on one app",
                self.spec.name
            ))
        })
    }

    /// Checks the scope flags the command needs before anything is contacted.
    pub(crate) fn check_needs(&self) -> Result<(), Failure> {
        match self.spec.needs {
            Needs::Nothing => Ok(()),
            Needs::Project => self.project().map(drop),
            Needs::Stage => self.scope().map(drop),
            Needs::Service => self.scope().and(self.service().map(drop)),
            Needs::App => self.scope().and(self.app().map(drop)),
        }
    }

    pub(crate) fn print(&self, text: &str) {
        self.output.line(text);
    }
}
