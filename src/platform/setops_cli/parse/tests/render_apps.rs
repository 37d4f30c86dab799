//! `app:info`, `resource:set scale` and `app:ps` as our sandbox front prints them (the building
//! blocks' renderers), read back; and what is refused, with the line.

use chrono::{TimeZone, Utc};

use super::super::*;
use crate::model::{App, EnvVar, Task};

fn task(id: &str, status: &str, started: Option<u32>, stopped: Option<u32>) -> Task {
    let at = |s: u32| Utc.with_ymd_and_hms(2024, 5, 6, 7, 8, s).unwrap();
    Task {
        id: id.into(),
        release: None,
        last_status: status.into(),
        health_status: "UNKNOWN".into(),
        started_at: started.map(at),
        stopped_at: stopped.map(at),
    }
}

#[test]
fn app_info_reads_the_scale_and_tells_an_unknown_one() {
    let app = App {
        name: "web".into(),
        links: Vec::new(),
        scale: Some(3),
    };
    let envs = [EnvVar {
        key: "DATABASE_URL".into(),
        value: "postgresql://web:secret@127.0.0.1:5432/db".into(),
        description: Some("postgresql11 service database".into()),
        secret: true,
    }];
    let printed = crate::commands::app_info_block(&app, &envs).render();
    assert!(!printed.contains("secret"), "{printed}");
    assert_eq!(
        parse_app_info(&printed),
        Ok(AppInfo {
            name: "web".into(),
            scale: Some(3)
        })
    );
    let unknown = App { scale: None, ..app };
    let printed = crate::commands::app_info_block(&unknown, &[]).render();
    assert_eq!(parse_app_info(&printed).map(|i| i.scale), Ok(None));
    // The documented `Scale:   N` block, and padding as `resource:set` prints it.
    assert_eq!(crate::commands::scale_block(0).render(), "Scale:   0");
    assert_eq!(
        parse_app_info("Name:     web\nCPU:      256\nMemory:   512\nScale:    16\n")
            .map(|i| i.scale),
        Ok(Some(16))
    );
}

#[test]
fn a_bad_scale_or_a_missing_name_names_the_line() {
    for (output, line) in [
        ("Name:   web\nScale:   17\n", 2),
        ("Name:   web\nScale:   two\n", 2),
        ("Name:   web\nScale:   -1\n", 2),
        ("Name:   web\nScale:\n", 2),
        ("Scale:   1\n", 2),
    ] {
        let e = parse_app_info(output).expect_err(output);
        assert_eq!((e.command(), e.line()), ("setops app:info", line), "{e}");
    }
}

#[test]
fn the_tasks_table_reads_back_into_the_model() {
    let tasks = [
        task("0123456789abcdef0123456789abcdef", "RUNNING", Some(1), None),
        task(
            "fedcba9876543210fedcba9876543210",
            "STOPPED",
            Some(2),
            Some(9),
        ),
        task("00000000000000000000000000000001", "PENDING", None, None),
    ];
    let printed = crate::commands::tasks_table(&tasks).render();
    assert_eq!(
        parse_tasks("setops app:ps", &printed).as_deref(),
        Ok(&tasks[..])
    );
    let running: Vec<bool> = tasks.iter().map(Task::may_run).collect();
    assert_eq!(running, [true, false, true]);
    let empty = crate::commands::tasks_table(&[]).render();
    assert_eq!(parse_tasks("setops app:ps", &empty), Ok(Vec::new()));
    assert_eq!(
        parse_tasks("setops task", "No tasks running.\n"),
        Ok(Vec::new())
    );
    // CLI 2.x names the image tag; a release or tag is kept as printed.
    let tagged = "+------+-----------+-------------+\n\
                  |  ID  | IMAGE TAG | LAST STATUS |\n\
                  +------+-----------+-------------+\n\
                  | abc1 | v42       | running     |\n\
                  +------+-----------+-------------+\n";
    let read = parse_tasks("setops task", tagged).expect("tagged");
    assert_eq!(read[0].release.as_deref(), Some("v42"));
    assert_eq!(read[0].last_status, "RUNNING");
    assert_eq!(read[0].health_status, "UNKNOWN");
}

#[test]
fn a_broken_tasks_table_names_the_line() {
    let tasks = [task(
        "0123456789abcdef0123456789abcdef",
        "RUNNING",
        Some(1),
        None,
    )];
    let printed = crate::commands::tasks_table(&tasks).render();
    for (output, line) in [
        (printed.replace("2024-05-06T07:08:01Z", "yesterday"), 4),
        (printed.replace("LAST STATUS", "STATE      "), 2),
        (
            printed.replace(
                "| 0123456789abcdef0123456789abcdef",
                "| ??????????????????????????????? ",
            ),
            4,
        ),
        (printed.lines().take(4).collect::<Vec<_>>().join("\n"), 5),
        ("some words\n".to_owned(), 1),
        (String::new(), 1),
    ] {
        let e = parse_tasks("setops app:ps", &output).expect_err(&output);
        assert_eq!(
            (e.command(), e.line()),
            ("setops app:ps", line),
            "{e}\n{output}"
        );
    }
}
