//! `to_command` is exactly inverse to `ChangesetCommand::{name, arguments_display}`.

use super::super::*;
use super::render_changesets::every_command;
use crate::model::ChangesetCommand;

#[test]
fn every_variant_round_trips_through_its_printed_form() {
    let commands = every_command();
    // Every variant is in the list (a new variant must be added there and here).
    let mut names: Vec<&str> = commands.iter().map(ChangesetCommand::name).collect();
    names.dedup();
    assert_eq!(
        names,
        [
            "service:create",
            "service:destroy",
            "service:option:set",
            "service:option:unset",
            "service:backup:schedule",
            "service:backup:unschedule",
            "app:link:create",
            "app:link:destroy",
        ]
    );
    for command in commands {
        let args = GoMap::parse(&command.arguments_display()).unwrap();
        assert_eq!(args.to_string(), command.arguments_display());
        assert_eq!(to_command(command.name(), &args), Some(command.clone()));
        // Another name with the same arguments is not this command.
        assert_ne!(to_command("app:create", &args), Some(command.clone()));
    }
}

#[test]
fn near_misses_stay_foreign() {
    let cases = [
        ("service:create", "map[name:db]"),
        (
            "service:create",
            "map[name:db plan:shared type:postgresql11 zone:eu]",
        ),
        ("service:destroy", "map[force:true name:db]"),
        (
            "service:backup:schedule",
            "map[hours:3 service:db weekdays:[]]",
        ),
        (
            "service:backup:schedule",
            "map[hours:[25x] service:db weekdays:[]]",
        ),
        ("app:link:create", "map[app:web env_key:A service:db]"),
        (
            "app:link:create",
            "map[app:web env_key:A read_only:maybe service:db]",
        ),
        ("app:link:destroy", "map[app:web]"),
        ("app:create", "map[name:web]"),
    ];
    for (name, args) in cases {
        let map = GoMap::parse(args).unwrap();
        assert_eq!(to_command(name, &map), None, "{name} {args}");
    }
    let pending = parse_changeset_info(
        "Created At:   2021-04-23T12:03:10Z\n+------+------+\n| NAME | ARGUMENTS |\n+------+------+\n\
         | service:destroy | not a map |\n+------+------+\n",
    )
    .unwrap()
    .unwrap();
    assert_eq!(
        pending.commands,
        [PendingCommand::Other {
            name: "service:destroy".into(),
            arguments: "not a map".into()
        }]
    );
}
