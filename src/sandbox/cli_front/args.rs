//! The `setops` command line: `setops [scope flags] command[:sub] [args] [flags]`, scope flags
//! before or after the command, command flags checked against the command's own table (so `-f`
//! is `--force` for `backup:download` and `--file` for `stage:apply`).

use std::collections::BTreeMap;

use super::failure::Failure;
use super::generation::Generation;

/// Scope and output flags, valid with every command.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Globals {
    pub project: Option<String>,
    pub stage: Option<String>,
    pub service: Option<String>,
    pub app: Option<String>,
    /// `-o/--output plain`.
    pub plain: bool,
    pub help: bool,
}

/// A command flag: `--long`, maybe `-s`, maybe other spellings; with a value or a switch.
#[derive(Debug)]
pub(crate) struct Flag {
    pub long: &'static str,
    pub short: Option<char>,
    pub aliases: &'static [&'static str],
    pub takes_value: bool,
}

const fn switch(long: &'static str) -> Flag {
    Flag {
        long,
        short: None,
        aliases: &[],
        takes_value: false,
    }
}

const fn value(long: &'static str) -> Flag {
    Flag {
        long,
        short: None,
        aliases: &[],
        takes_value: true,
    }
}

/// What a command needs besides its arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Needs {
    Nothing,
    Project,
    Stage,
    Service,
    App,
}

#[derive(Debug)]
pub(crate) struct Spec {
    pub name: &'static str,
    /// `None`: both generations have it.
    pub only: Option<Generation>,
    /// Names of the positional arguments, all required.
    pub args: &'static [&'static str],
    /// Positional arguments that may follow the required ones.
    pub optional: &'static [&'static str],
    pub flags: &'static [Flag],
    pub needs: Needs,
    pub about: &'static str,
}

const fn spec(name: &'static str, needs: Needs, about: &'static str) -> Spec {
    Spec {
        name,
        only: None,
        args: &[],
        optional: &[],
        flags: &[],
        needs,
        about,
    }
}

const FORCE: Flag = Flag {
    long: "force",
    short: Some('f'),
    aliases: &[],
    takes_value: false,
};
const FILE: Flag = Flag {
    long: "file",
    short: Some('f'),
    aliases: &[],
    takes_value: true,
};
const ENV_KEY: Flag = Flag {
    long: "env-key",
    short: None,
    // The cheat sheet writes `--env` (reference section 2.3).
    aliases: &["env"],
    takes_value: true,
};
const WEEKDAY: Flag = Flag {
    long: "weekday",
    short: None,
    // The cheat sheet writes `--day` (reference section 2.2).
    aliases: &["day"],
    takes_value: true,
};

use Generation::{V1, V2};

/// Every command the front answers, in the order `--help` lists them.
pub(crate) const COMMANDS: &[Spec] = &[
    spec("version", Needs::Nothing, "Show the CLI version"),
    Spec {
        flags: &[switch("service-user"), value("url"), switch("no-setup")],
        ..spec(
            "login",
            Needs::Nothing,
            "Log in (--service-user: organization, user, password on stdin)",
        )
    },
    spec(
        "login:info",
        Needs::Nothing,
        "Show the organization, user and API of the session",
    ),
    spec("project", Needs::Nothing, "List the projects"),
    spec("stage", Needs::Project, "List the stages of a project"),
    spec("app", Needs::Stage, "List the apps of a stage"),
    spec("service", Needs::Stage, "List the services of a stage"),
    Spec {
        args: &["NAME"],
        ..spec("service:info", Needs::Stage, "Show a service")
    },
    Spec {
        only: Some(V1),
        args: &["NAME"],
        flags: &[value("type"), value("plan")],
        ..spec("service:create", Needs::Stage, "Stage a new service")
    },
    Spec {
        only: Some(V1),
        args: &["NAME"],
        ..spec(
            "service:destroy",
            Needs::Stage,
            "Stage destroying a service",
        )
    },
    spec("option", Needs::Service, "List the options of a service"),
    Spec {
        only: Some(V1),
        args: &["NAME", "VALUE"],
        ..spec(
            "option:set",
            Needs::Service,
            "Stage setting a service option",
        )
    },
    Spec {
        only: Some(V1),
        args: &["NAME"],
        ..spec(
            "option:unset",
            Needs::Service,
            "Stage unsetting a service option",
        )
    },
    spec("backup", Needs::Service, "List the backups of a service"),
    Spec {
        args: &["ID"],
        ..spec("backup:info", Needs::Service, "Show a backup")
    },
    spec("backup:create", Needs::Service, "Create a backup"),
    Spec {
        args: &["ID"],
        ..spec(
            "backup:restore",
            Needs::Service,
            "Restore a backup into its service",
        )
    },
    Spec {
        args: &["ID"],
        ..spec("backup:destroy", Needs::Service, "Delete a backup")
    },
    Spec {
        args: &["ID"],
        flags: &[FORCE, switch("print-url")],
        ..spec(
            "backup:download",
            Needs::Service,
            "Download a backup into the current directory",
        )
    },
    Spec {
        args: &["FILE"],
        flags: &[switch("print-url")],
        ..spec("backup:upload", Needs::Service, "Upload a backup file")
    },
    Spec {
        only: Some(V1),
        flags: &[value("hour"), WEEKDAY],
        ..spec("backup:schedule", Needs::Service, "Stage a backup schedule")
    },
    Spec {
        only: Some(V1),
        ..spec(
            "backup:unschedule",
            Needs::Service,
            "Stage removing the backup schedule",
        )
    },
    Spec {
        optional: &["NAME"],
        ..spec(
            "app:info",
            Needs::Stage,
            "Show an app (NAME, or --app NAME): its scale and ENVs",
        )
    },
    Spec {
        optional: &["NAME"],
        ..spec(
            "app:ps",
            Needs::Stage,
            "List an app's containers (NAME, or --app NAME)",
        )
    },
    Spec {
        only: Some(V2),
        ..spec("task", Needs::App, "List the app's containers")
    },
    Spec {
        only: Some(V1),
        args: &["NAME", "VALUE"],
        ..spec(
            "resource:set",
            Needs::App,
            "Stage setting an app resource (scale: 0 to 16 containers)",
        )
    },
    spec("link", Needs::App, "List the links of an app"),
    Spec {
        only: Some(V1),
        args: &["SERVICE"],
        flags: &[ENV_KEY, value("path"), switch("read-only")],
        ..spec(
            "link:create",
            Needs::App,
            "Stage linking a service to an app",
        )
    },
    Spec {
        only: Some(V1),
        args: &["SERVICE"],
        ..spec(
            "link:destroy",
            Needs::App,
            "Stage unlinking a service from an app",
        )
    },
    spec(
        "env",
        Needs::App,
        "Show what an app receives from its links",
    ),
    Spec {
        only: Some(V1),
        ..spec("changeset:info", Needs::Stage, "Show the pending changeset")
    },
    Spec {
        only: Some(V1),
        ..spec(
            "changeset:commit",
            Needs::Stage,
            "Commit the pending changeset",
        )
    },
    Spec {
        only: Some(V1),
        flags: &[switch("ignore-not-exist")],
        ..spec(
            "changeset:discard",
            Needs::Stage,
            "Drop the pending changeset",
        )
    },
    Spec {
        only: Some(V2),
        ..spec(
            "stage:dump",
            Needs::Stage,
            "Print the stage definition of a stage",
        )
    },
    Spec {
        only: Some(V2),
        flags: &[FILE, switch("auto-approve")],
        ..spec(
            "stage:apply",
            Needs::Stage,
            "Apply a stage definition file to a stage",
        )
    },
];

/// Scope flags that take a value, with their spellings.
const GLOBAL_VALUES: &[(&str, Option<char>)] = &[
    ("project", Some('p')),
    ("stage", Some('s')),
    ("service", None),
    ("app", None),
    ("output", Some('o')),
];

/// The command line split into scope flags, the command word and what follows it.
#[derive(Debug, Default)]
pub(crate) struct Invocation {
    pub globals: Globals,
    pub command: Option<String>,
    /// Everything that is neither a scope flag nor the command word, in order.
    pub rest: Vec<String>,
}

/// A flag token: `--name`, `--name=value`, `-x`, `-x=value`.
struct FlagToken<'a> {
    name: &'a str,
    short: bool,
    inline: Option<&'a str>,
}

fn flag_token(token: &str) -> Option<FlagToken<'_>> {
    let (body, short) = if let Some(long) = token.strip_prefix("--") {
        (long, false)
    } else if let Some(short) = token.strip_prefix('-') {
        (short, true)
    } else {
        return None;
    };
    if body.is_empty() {
        return None;
    }
    let (name, inline) = match body.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (body, None),
    };
    if short && name.chars().count() != 1 {
        return None;
    }
    Some(FlagToken {
        name,
        short,
        inline,
    })
}

fn is_command_name(word: &str) -> bool {
    COMMANDS.iter().any(|c| c.name == word)
}

/// Takes the scope flags out wherever they stand and finds the command word: the first word
/// that names a command, else the first word at all (an unknown command).
pub(crate) fn split(args: &[String]) -> Result<Invocation, Failure> {
    let mut inv = Invocation::default();
    let mut rest = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let token = &args[i];
        i += 1;
        if token == "--" {
            rest.extend(args[i..].iter().cloned());
            break;
        }
        let Some(flag) = flag_token(token) else {
            rest.push(token.clone());
            continue;
        };
        let matches = |long: &str, short: Option<char>| {
            if flag.short {
                short.is_some_and(|s| flag.name.starts_with(s))
            } else {
                flag.name == long
            }
        };
        if matches("debug", None) {
            continue;
        }
        if matches("help", Some('h')) {
            inv.globals.help = true;
            continue;
        }
        let Some((long, _)) = GLOBAL_VALUES
            .iter()
            .find(|(long, short)| matches(long, *short))
        else {
            rest.push(token.clone());
            continue;
        };
        let value = match flag.inline {
            Some(v) => v.to_owned(),
            None => {
                let Some(v) = args.get(i) else {
                    return Err(Failure::new(format!("flag needs an argument: {token}")));
                };
                i += 1;
                v.clone()
            }
        };
        let g = &mut inv.globals;
        match *long {
            "project" => g.project = Some(value),
            "stage" => g.stage = Some(value),
            "service" => g.service = Some(value),
            "app" => g.app = Some(value),
            _ => match value.as_str() {
                "plain" => g.plain = true,
                "human" | "default" => g.plain = false,
                other => {
                    return Err(Failure::new(format!(
                        "invalid argument {other:?} for \"-o, --output\" flag: the only output \
                         format is plain"
                    )));
                }
            },
        }
    }
    let words = rest.iter().enumerate().filter(|(_, t)| !t.starts_with('-'));
    let position = words
        .clone()
        .find(|(_, t)| is_command_name(t))
        .or_else(|| words.clone().next())
        .map(|(i, _)| i);
    if let Some(i) = position {
        inv.command = Some(rest.remove(i));
    }
    inv.rest = rest;
    Ok(inv)
}

/// A command's arguments and flags, checked against its [`Spec`].
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub args: Vec<String>,
    /// Flag (long name) -> every value given (a switch records an empty value).
    flags: BTreeMap<&'static str, Vec<String>>,
}

impl Parsed {
    pub(crate) fn switch(&self, long: &str) -> bool {
        self.flags.contains_key(long)
    }

    /// The last value given for a flag.
    pub(crate) fn value(&self, long: &str) -> Option<&str> {
        self.flags
            .get(long)
            .and_then(|v| v.last())
            .map(String::as_str)
    }

    pub(crate) fn values(&self, long: &str) -> &[String] {
        self.flags.get(long).map(Vec::as_slice).unwrap_or_default()
    }

    pub(crate) fn arg(&self, i: usize) -> &str {
        self.args.get(i).map(String::as_str).unwrap_or_default()
    }
}

pub(crate) fn parse(spec: &Spec, rest: &[String]) -> Result<Parsed, Failure> {
    let mut parsed = Parsed::default();
    let mut i = 0;
    while i < rest.len() {
        let token = &rest[i];
        i += 1;
        let Some(flag) = flag_token(token) else {
            parsed.args.push(token.clone());
            continue;
        };
        let found = spec.flags.iter().find(|f| {
            if flag.short {
                f.short.is_some_and(|s| flag.name.starts_with(s))
            } else {
                f.long == flag.name || f.aliases.contains(&flag.name)
            }
        });
        let Some(found) = found else {
            return Err(Failure::new(format!(
                "unknown flag: {token} (for \"{}\")",
                spec.name
            )));
        };
        let value = if found.takes_value {
            match flag.inline {
                Some(v) => v.to_owned(),
                None => {
                    let Some(v) = rest.get(i) else {
                        return Err(Failure::new(format!("flag needs an argument: {token}")));
                    };
                    i += 1;
                    v.clone()
                }
            }
        } else {
            if flag.inline.is_some_and(|v| v != "true") {
                return Err(Failure::new(format!(
                    "flag {token} takes no value (for \"{}\")",
                    spec.name
                )));
            }
            String::new()
        };
        parsed.flags.entry(found.long).or_default().push(value);
    }
    let (least, most) = (spec.args.len(), spec.args.len() + spec.optional.len());
    if !(least..=most).contains(&parsed.args.len()) {
        let optional = spec.optional.iter().map(|a| format!("[{a}]"));
        let names: Vec<String> = spec
            .args
            .iter()
            .map(|a| a.to_string())
            .chain(optional)
            .collect();
        return Err(Failure::new(format!(
            "\"{}\" takes {}{} argument(s){}, received {}",
            spec.name,
            least,
            if most > least {
                format!(" to {most}")
            } else {
                String::new()
            },
            if names.is_empty() {
                String::new()
            } else {
                format!(" ({})", names.join(" "))
            },
            parsed.args.len()
        )));
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    fn spec_of(name: &str) -> &'static Spec {
        COMMANDS.iter().find(|c| c.name == name).expect("known")
    }

    #[test]
    fn scope_flags_go_before_or_after_the_command() {
        let inv = split(&words(
            "-p shop --stage=production backup:download --service db ID -f -o plain --debug",
        ))
        .unwrap();
        assert_eq!(inv.command.as_deref(), Some("backup:download"));
        assert_eq!(inv.globals.project.as_deref(), Some("shop"));
        assert_eq!(inv.globals.stage.as_deref(), Some("production"));
        assert_eq!(inv.globals.service.as_deref(), Some("db"));
        assert!(inv.globals.plain);
        let parsed = parse(spec_of("backup:download"), &inv.rest).unwrap();
        assert_eq!(parsed.args, ["ID"]);
        assert!(parsed.switch("force"));
        assert!(!parsed.switch("print-url"));
    }

    #[test]
    fn command_flags_follow_the_command_table() {
        let inv = split(&words("stage:apply -f stage.yaml --auto-approve")).unwrap();
        let parsed = parse(spec_of("stage:apply"), &inv.rest).unwrap();
        assert_eq!(parsed.value("file"), Some("stage.yaml"));
        assert!(parsed.switch("auto-approve"));
        let inv = split(&words("--type volume service:create files2")).unwrap();
        assert_eq!(inv.command.as_deref(), Some("service:create"));
        let parsed = parse(spec_of("service:create"), &inv.rest).unwrap();
        assert_eq!(parsed.value("type"), Some("volume"));
        assert_eq!(parsed.args, ["files2"]);
        let inv = split(&words("backup:schedule --hour 3 --hour=15 --day Mon")).unwrap();
        let parsed = parse(spec_of("backup:schedule"), &inv.rest).unwrap();
        assert_eq!(parsed.values("hour"), ["3", "15"]);
        assert_eq!(parsed.values("weekday"), ["Mon"]);
    }

    #[test]
    fn unknown_flags_and_wrong_argument_counts_fail() {
        let inv = split(&words("service:info --bogus db")).unwrap();
        assert!(parse(spec_of("service:info"), &inv.rest).is_err());
        let inv = split(&words("service:info")).unwrap();
        let err = parse(spec_of("service:info"), &inv.rest).unwrap_err();
        assert!(err.message.contains("takes 1 argument"), "{}", err.message);
        assert!(split(&words("-o yaml service")).is_err());
        assert!(split(&words("service -p")).is_err());
    }

    #[test]
    fn an_unknown_command_is_still_found() {
        let inv = split(&words("-p shop frobnicate x")).unwrap();
        assert_eq!(inv.command.as_deref(), Some("frobnicate"));
    }
}
