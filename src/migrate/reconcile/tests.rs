use std::collections::BTreeMap;

use chrono::Utc;
use uuid::Uuid;

use super::*;
use crate::migrate::inspect::Resolved;
use crate::model::{BackupOrigin, Link, RestoreOutcome, ServiceType};

fn resolved(links: Vec<Link>) -> Resolved {
    Resolved {
        target: "files2".into(),
        source: Some("files".into()),
        service_type: ServiceType::Volume,
        plan: None,
        options: BTreeMap::new(),
        schedule: None,
        links,
        manifest: Vec::new(),
        checked_backup: None,
    }
}

fn link(service: &str) -> Link {
    Link {
        app: "web".into(),
        service: service.into(),
        env_key: None,
        path: Some("/data".into()),
        read_only: false,
    }
}

fn service(links: Vec<Link>) -> Service {
    Service {
        name: "files2".into(),
        service_type: ServiceType::Volume,
        plan: None,
        options: BTreeMap::new(),
        links,
        backup_schedule: None,
        created_at: Utc::now(),
    }
}

fn row(id: Uuid, status: BackupStatus) -> BackupRow {
    BackupRow {
        id,
        status,
        created_at: Utc::now(),
        size: "1.0 kB".into(),
    }
}

fn backup(id: Uuid, restore_count: u32) -> Backup {
    Backup {
        id,
        service: "files2".into(),
        status: BackupStatus::Created,
        created_at: Utc::now(),
        size: Some(1000),
        sha256: None,
        shown_size: None,
        origin: BackupOrigin::Upload,
        last_restore: (restore_count > 0).then(|| crate::model::RestoreRecord {
            outcome: RestoreOutcome::Succeeded,
            started_at: Utc::now(),
            finished_at: Some(Utc::now()),
            error: None,
        }),
        restore_count,
    }
}

fn no_evidence() -> RelinkEvidence {
    RelinkEvidence::default()
}

#[test]
fn an_empty_target_is_used_only_when_the_journal_shows_this_plan_made_it() {
    let r = resolved(vec![link("files2")]);
    let made = JournalView {
        created_by_plan: true,
        ..Default::default()
    };
    assert_eq!(
        assess(&r, &service(vec![]), &[], &made, no_evidence()),
        Assessment::Proceed
    );
    // Made by hand, or by a run whose journal is gone: the platform cannot tell which.
    assert_eq!(
        assess(
            &r,
            &service(vec![]),
            &[],
            &JournalView::default(),
            no_evidence()
        ),
        Assessment::Unclaimed
    );
}

#[test]
fn without_a_journal_any_backup_on_the_target_is_ambiguous() {
    let r = resolved(vec![link("files2")]);
    for status in [
        BackupStatus::Created,
        BackupStatus::Restoring,
        BackupStatus::Uploading,
    ] {
        let id = Uuid::new_v4();
        let got = assess(
            &r,
            &service(vec![]),
            &[row(id, status)],
            &JournalView::default(),
            no_evidence(),
        );
        match got {
            Assessment::Ambiguous { found } => assert!(found.contains(&id.to_string())),
            other => panic!("{status}: {other:?}"),
        }
    }
}

#[test]
fn the_journal_explains_its_own_upload_only() {
    let r = resolved(vec![link("files2")]);
    let ours = Uuid::new_v4();
    let view = JournalView {
        created_by_plan: true,
        upload: Some(ours),
        known_before_upload: None,
        restore: RestoreRecord::NotRequested,
    };
    let target = service(vec![]);
    assert_eq!(
        assess(
            &r,
            &target,
            &[row(ours, BackupStatus::Created)],
            &view,
            no_evidence()
        ),
        Assessment::Proceed
    );
    let other = Uuid::new_v4();
    assert!(matches!(
        assess(
            &r,
            &target,
            &[
                row(ours, BackupStatus::Created),
                row(other, BackupStatus::Created)
            ],
            &view,
            no_evidence()
        ),
        Assessment::Ambiguous { .. }
    ));
    // Our upload RESTORING although we never asked: someone else restored it.
    assert!(matches!(
        assess(
            &r,
            &target,
            &[row(ours, BackupStatus::Restoring)],
            &view,
            no_evidence()
        ),
        Assessment::Ambiguous { .. }
    ));
}

#[test]
fn an_open_restore_intent_needs_restoring_to_go_on() {
    let r = resolved(vec![link("files2")]);
    let ours = Uuid::new_v4();
    let view = JournalView {
        created_by_plan: true,
        upload: Some(ours),
        known_before_upload: None,
        restore: RestoreRecord::Requested(ours),
    };
    let target = service(vec![]);
    assert_eq!(
        assess(
            &r,
            &target,
            &[row(ours, BackupStatus::Restoring)],
            &view,
            no_evidence()
        ),
        Assessment::Proceed
    );
    for rows in [vec![row(ours, BackupStatus::Created)], vec![]] {
        match assess(&r, &target, &rows, &view, no_evidence()) {
            Assessment::Ambiguous { found } => {
                assert!(
                    found.contains("no record of whether a restore ran"),
                    "{found}"
                )
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn a_failed_restore_is_ambiguous_and_a_started_one_goes_on() {
    let r = resolved(vec![link("files2")]);
    let ours = Uuid::new_v4();
    let rows = [row(ours, BackupStatus::Created)];
    let started = JournalView {
        created_by_plan: true,
        upload: Some(ours),
        known_before_upload: None,
        restore: RestoreRecord::Started(ours),
    };
    assert_eq!(
        assess(&r, &service(vec![]), &rows, &started, no_evidence()),
        Assessment::Proceed
    );
    let failed = JournalView {
        restore: RestoreRecord::Failed {
            upload: ours,
            error: "relation exists".into(),
        },
        ..started
    };
    assert!(matches!(
        assess(&r, &service(vec![]), &rows, &failed, no_evidence()),
        Assessment::Ambiguous { found } if found.contains("relation exists")
    ));
}

#[test]
fn relink_evidence_means_finished_whatever_the_backups() {
    let r = resolved(vec![link("files2")]);
    let rows = [row(Uuid::new_v4(), BackupStatus::Created)];
    for evidence in [
        RelinkEvidence {
            links_in_place: true,
            staged: false,
        },
        RelinkEvidence {
            links_in_place: false,
            staged: true,
        },
    ] {
        assert!(matches!(
            assess(
                &r,
                &service(vec![link("files2")]),
                &rows,
                &JournalView::default(),
                evidence
            ),
            Assessment::Finished { .. }
        ));
    }
}

#[test]
fn another_configuration_or_a_foreign_link_is_not_ours() {
    let r = resolved(vec![link("files2")]);
    let mut other_type = service(vec![]);
    other_type.service_type = ServiceType::S3;
    let mut scheduled = service(vec![]);
    scheduled.backup_schedule = Some(crate::model::BackupSchedule {
        hours: vec![3],
        weekdays: vec![],
    });
    let mut foreign_link = link("files2");
    foreign_link.app = "worker".into();
    for (target, says) in [
        (other_type, "it is s3"),
        (scheduled, "backup schedule (03:00 UTC)"),
        (service(vec![foreign_link]), "app worker links it"),
    ] {
        match assess(&r, &target, &[], &JournalView::default(), no_evidence()) {
            Assessment::Foreign { why } => assert!(why.contains(says), "{why}"),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn platform_restore_records_can_stop_but_never_allow() {
    let ours = Uuid::new_v4();
    let fresh = JournalView {
        created_by_plan: true,
        upload: Some(ours),
        known_before_upload: None,
        restore: RestoreRecord::NotRequested,
    };
    // Only the sandbox knows this upload was restored: stop.
    assert!(matches!(
        confirm(Assessment::Proceed, &[backup(ours, 1)], &fresh),
        Assessment::Ambiguous { .. }
    ));
    // Our own restore on record is no surprise.
    let started = JournalView {
        restore: RestoreRecord::Started(ours),
        ..fresh.clone()
    };
    assert_eq!(
        confirm(Assessment::Proceed, &[backup(ours, 1)], &started),
        Assessment::Proceed
    );
    // A record saying "never restored" does not turn a stop into a go.
    let stop = Assessment::Ambiguous { found: "x".into() };
    assert_eq!(confirm(stop.clone(), &[backup(ours, 0)], &fresh), stop);
}
