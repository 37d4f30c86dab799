//! An app's containers (tasks). Each has the time it runs from and, once a scale-down picked it,
//! the time it stops; its status is read off the clock (PENDING, RUNNING, STOPPING, STOPPED), so
//! no background work is needed and a restart finds them where the clock says. A commit that
//! changes an app's scale starts or stops containers after the `task_delay_ms` knob, so a caller
//! that scales to 0 really has to wait until no container runs.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::state::StageState;
use crate::model::Task;

/// Stopped containers an app's list keeps, newest first, as `app:ps` shows recent ones.
const STOPPED_KEPT: usize = 5;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TaskEntry {
    /// 32 hex characters, as SetOps prints task IDs.
    pub id: String,
    /// When the container runs; PENDING before.
    pub start_at: DateTime<Utc>,
    /// When it stops; STOPPING from the scale-down until then.
    pub stop_at: Option<DateTime<Utc>>,
}

impl TaskEntry {
    fn new(start_at: DateTime<Utc>) -> TaskEntry {
        TaskEntry {
            id: Uuid::new_v4().simple().to_string(),
            start_at,
            stop_at: None,
        }
    }

    fn stopped(&self, now: DateTime<Utc>) -> bool {
        self.stop_at.is_some_and(|t| t <= now)
    }

    /// Whether the container is up at `now` (RUNNING or STOPPING): what a live app writes from.
    pub fn runs(&self, now: DateTime<Utc>) -> bool {
        self.start_at <= now && !self.stopped(now)
    }

    /// The task as `app:ps` shows it at `now`. The sandbox has no releases and no health checks.
    pub fn to_model(&self, now: DateTime<Utc>) -> Task {
        let started = match self.stop_at {
            Some(stop) if stop <= self.start_at => None,
            _ => Some(self.start_at).filter(|t| *t <= now),
        };
        let status = if self.stopped(now) {
            "STOPPED"
        } else if self.start_at > now {
            "PENDING"
        } else if self.stop_at.is_some() {
            "STOPPING"
        } else {
            "RUNNING"
        };
        Task {
            id: self.id.clone(),
            release: None,
            last_status: status.to_owned(),
            health_status: "UNKNOWN".to_owned(),
            started_at: started,
            stopped_at: self.stop_at.filter(|t| *t <= now),
        }
    }
}

/// Brings an app's containers towards `scale`: missing ones start after `delay`, surplus ones
/// (those not yet running first, then the newest) stop after `delay`. Containers already on
/// their way out are not counted, and old stopped ones are forgotten.
pub(crate) fn converge(tasks: &mut Vec<TaskEntry>, scale: u8, now: DateTime<Utc>, delay: Duration) {
    let later =
        now + chrono::Duration::from_std(delay).unwrap_or_else(|_| chrono::Duration::zero());
    let wanted = usize::from(scale);
    let mut alive: Vec<usize> = (0..tasks.len())
        .filter(|&i| tasks[i].stop_at.is_none())
        .collect();
    // Not yet running before running; newest first among each.
    alive.sort_by_key(|&i| {
        (
            tasks[i].start_at <= now,
            std::cmp::Reverse(tasks[i].start_at),
        )
    });
    for &i in alive.iter().skip(wanted) {
        let task = &mut tasks[i];
        task.stop_at = Some(if task.start_at > now { now } else { later });
    }
    for _ in alive.len()..wanted {
        tasks.push(TaskEntry::new(later));
    }
    let mut stopped: Vec<DateTime<Utc>> = tasks
        .iter()
        .filter(|t| t.stopped(now))
        .filter_map(|t| t.stop_at)
        .collect();
    stopped.sort_unstable_by(|a, b| b.cmp(a));
    if let Some(&oldest_kept) = stopped.get(STOPPED_KEPT - 1) {
        tasks.retain(|t| !t.stopped(now) || t.stop_at.is_some_and(|s| s >= oldest_kept));
    }
    tasks.sort_by_key(|t| t.start_at);
}

/// Every app of the stage at its committed scale; containers of apps that are gone are dropped.
pub(crate) fn converge_stage(stage: &mut StageState, now: DateTime<Utc>, delay: Duration) {
    let apps = &stage.config.apps;
    stage.tasks.retain(|app, _| apps.contains_key(app));
    for (app, cfg) in apps {
        let tasks = stage.tasks.entry(app.clone()).or_default();
        converge(tasks, cfg.scale, now, delay);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statuses(tasks: &[TaskEntry], now: DateTime<Utc>) -> Vec<String> {
        tasks.iter().map(|t| t.to_model(now).last_status).collect()
    }

    #[test]
    fn scaling_starts_and_stops_containers_after_the_delay() {
        let t0 = Utc::now();
        let delay = Duration::from_secs(2);
        let later = |s| t0 + chrono::Duration::seconds(s);
        let mut tasks = Vec::new();
        converge(&mut tasks, 2, t0, Duration::ZERO);
        assert_eq!(statuses(&tasks, t0), ["RUNNING", "RUNNING"]);
        assert!(tasks.iter().all(|t| t.id.len() == 32));

        converge(&mut tasks, 0, later(1), delay);
        assert_eq!(statuses(&tasks, later(2)), ["STOPPING", "STOPPING"]);
        assert!(tasks.iter().all(|t| t.runs(later(2))));
        assert_eq!(statuses(&tasks, later(3)), ["STOPPED", "STOPPED"]);
        assert!(!tasks.iter().any(|t| t.runs(later(3))));
        let stopped = tasks[0].to_model(later(3));
        assert_eq!(stopped.stopped_at, Some(later(3)));
        assert_eq!(stopped.started_at, Some(t0));

        converge(&mut tasks, 1, later(4), delay);
        assert_eq!(
            statuses(&tasks, later(5)),
            ["STOPPED", "STOPPED", "PENDING"]
        );
        assert_eq!(statuses(&tasks, later(6))[2], "RUNNING");
        // Converging again at the same scale changes nothing.
        let before = tasks.clone();
        converge(&mut tasks, 1, later(7), delay);
        assert_eq!(tasks, before);
    }

    #[test]
    fn a_container_that_never_ran_stops_at_once_and_old_ones_are_forgotten() {
        let t0 = Utc::now();
        let delay = Duration::from_secs(1);
        let mut tasks = Vec::new();
        converge(&mut tasks, 1, t0, delay);
        converge(&mut tasks, 0, t0, delay);
        let shown = tasks[0].to_model(t0);
        assert_eq!(shown.last_status, "STOPPED");
        assert_eq!(shown.started_at, None);
        for i in 0..10 {
            let now = t0 + chrono::Duration::seconds(10 * (i + 1));
            converge(&mut tasks, 1, now, Duration::ZERO);
            converge(
                &mut tasks,
                0,
                now + chrono::Duration::seconds(1),
                Duration::ZERO,
            );
        }
        let now = t0 + chrono::Duration::seconds(200);
        converge(&mut tasks, 0, now, Duration::ZERO);
        assert_eq!(tasks.len(), STOPPED_KEPT);
    }
}
