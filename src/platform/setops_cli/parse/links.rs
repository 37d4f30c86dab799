//! `setops --app A link`: the app's links. The real CLI's format is undocumented; our sandbox
//! front prints a table (SERVICE, ENV KEY, PATH, READ ONLY). `-- SERVICE   (TARGET)` lines as in
//! `service:info` are read too, and a message such as "No links" means none. Anything else is
//! an error: a link that goes unseen would not be relinked.

use std::sync::LazyLock;

use regex::Regex;

use crate::model::Link;

use super::block::Item;
use super::error::ParseError;
use super::lines::split;
use super::services::link_target;
use super::table::find_table;

const COMMAND: &str = "setops link";

static NO_LINKS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*(?:no\s+(?:service\s+)?links\b.*|\(none\)|none)\s*$")
        .expect("static regex compiles")
});

/// The links of `app` as the list shows them.
pub fn parse_link_list(app: &str, output: &str) -> Result<Vec<Link>, ParseError> {
    let lines = split(output);
    let Some(table) = find_table(COMMAND, &lines)? else {
        return item_lines(app, &lines);
    };
    let service = table.require_column(COMMAND, "SERVICE")?;
    let env_key = table.column("ENV KEY");
    let path = table.column("PATH");
    let read_only = table.column("READ ONLY");
    let cell = |row, column: Option<usize>| column.map_or("", |c| table.cell(row, c));
    table
        .rows
        .iter()
        .map(|row| {
            let fail = |what: &str| ParseError::on(COMMAND, row.line, &row.text, what);
            let service = table.cell(row, service);
            if service.is_empty() {
                return Err(fail("a service name in the SERVICE column"));
            }
            let key = cell(row, env_key);
            let mount = cell(row, path);
            let read_only = match cell(row, read_only).to_ascii_lowercase().as_str() {
                "true" | "yes" => true,
                "false" | "no" | "" | "-" => false,
                _ => return Err(fail("true or false in the READ ONLY column")),
            };
            let some = |s: &str| (!s.is_empty() && s != "-").then(|| s.to_owned());
            let (env_key, path) = (some(key), some(mount));
            if env_key.is_some() == path.is_some() || (read_only && path.is_none()) {
                return Err(fail("a link with either an env key or a mount path"));
            }
            Ok(Link {
                app: app.to_owned(),
                service: service.to_owned(),
                env_key,
                path,
                read_only,
            })
        })
        .collect()
}

/// `-- SERVICE   (TARGET)` lines, or a "no links" message.
fn item_lines(app: &str, lines: &[super::lines::Line<'_>]) -> Result<Vec<Link>, ParseError> {
    let mut links = Vec::new();
    let mut understood = false;
    for line in lines.iter().filter(|l| !l.is_blank()) {
        let t = line.trimmed();
        if let Some(rest) = t.strip_prefix("--") {
            let item = Item {
                line: line.number,
                text: rest.trim().to_owned(),
            };
            let (service, target) = item.pair();
            let (env_key, path, read_only) =
                link_target(target).map_err(|what| ParseError::at(COMMAND, line, what))?;
            links.push(Link {
                app: app.to_owned(),
                service: service.to_owned(),
                env_key,
                path,
                read_only,
            });
            understood = true;
        } else if NO_LINKS.is_match(t) || t.eq_ignore_ascii_case("Links:") {
            understood = true;
        } else {
            return Err(ParseError::at(
                COMMAND,
                line,
                "a table of links, `-- SERVICE   (ENV_KEY)` lines or a \"no links\" message",
            ));
        }
    }
    if understood {
        Ok(links)
    } else {
        Err(ParseError::at_end(
            COMMAND,
            lines,
            "a table of links, `-- SERVICE   (ENV_KEY)` lines or a \"no links\" message",
        ))
    }
}
