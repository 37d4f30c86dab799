//! Finding, locking and opening a plan's journal: its file name comes from the platform's
//! stable identity, project and stage (so every spelling of one platform finds one journal and
//! one lock); a changed plan, an unreadable file and a legacy journal are handled here, before
//! anything touches the platform.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use chrono::Utc;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::error::JournalError;
use super::legacy::{self, LegacyJournal};
use super::plan_diff::diff_values;
use super::{FORMAT, Journal, JournalData, JournalKey};
use crate::fsio;
use crate::plan::Plan;
use crate::platform::{PlatformIdentity, normalized_origin};

/// A journal file is at most this big; anything larger is not one of ours.
const MAX_JOURNAL_BYTES: u64 = 16 * 1024 * 1024;
const HASH_LEN: usize = 10;

pub struct OpenRequest<'a> {
    pub state_dir: &'a Path,
    pub plan: &'a Plan,
    pub platform: PlatformIdentity,
    /// The URL in use now, for display and for recognising a legacy journal.
    pub endpoint: String,
    /// Move an unreadable journal, or one of an earlier version of the plan, aside.
    pub restart: bool,
}

/// A journal found beside a plan, readable or not (for `status`).
pub struct Found {
    pub path: PathBuf,
    pub data: std::result::Result<JournalData, String>,
}

/// `<state_dir>/<plan stem>-<hash of platform identity, project, stage>.json`.
fn journal_path(state_dir: &Path, plan_path: &Path, key: &JournalKey) -> PathBuf {
    let mut h = Sha256::new();
    for part in [
        key.platform.stable_key().as_str(),
        key.project.as_str(),
        key.stage.as_str(),
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    let digest = hex::encode(h.finalize());
    state_dir.join(format!("{}-{}.json", stem(plan_path), &digest[..HASH_LEN]))
}

fn stem(plan_path: &Path) -> String {
    plan_path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "plan".into())
}

/// Whether `name` is a journal file of the plan with `stem` (today's or a legacy one).
fn is_journal_name(name: &str, stem: &str) -> bool {
    name.strip_prefix(stem)
        .and_then(|rest| rest.strip_prefix('-'))
        .and_then(|rest| rest.strip_suffix(".json"))
        .is_some_and(|hash| hash.len() == HASH_LEN && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

impl Journal {
    /// Locks and opens the journal of `request.plan` on this platform and stage, converting a
    /// legacy journal of the same platform. Nothing on the platform is touched here.
    pub fn open(request: OpenRequest<'_>) -> Result<Journal, JournalError> {
        let key = JournalKey {
            platform: request.platform.clone(),
            project: request.plan.scope.project.clone(),
            stage: request.plan.scope.stage.clone(),
        };
        let path = journal_path(request.state_dir, &request.plan.path, &key);
        fsio::create_private_dir(request.state_dir)
            .map_err(|e| JournalError::io("creating the state directory", request.state_dir, e))?;
        let lock = lock(&path.with_extension("lock"))?;
        let mut notes = Vec::new();
        let existing = match read(&path, &key.platform) {
            Ok(None) => adopt_legacy(&request, &key, &path, &mut notes)?,
            Ok(Some(data)) if data.key != key => Err(format!(
                "it belongs to {} in {}/{}, not to {} in {}/{}",
                data.key.platform,
                data.key.project,
                data.key.stage,
                key.platform,
                key.project,
                key.stage
            ))
            .or_else(|why| unusable(&request, &path, &why, &mut notes))?,
            Ok(Some(data)) => Some(data),
            Err(why) => unusable(&request, &path, &why, &mut notes)?,
        };
        let plan_json = serde_json::to_value(request.plan).map_err(JournalError::Encode)?;
        let mut data = match existing {
            Some(_) if request.restart => {
                let aside = move_aside(&path)?;
                notes.push(format!(
                    "--restart: the journal was moved to {}; this run starts from what the \
                     platform shows",
                    aside.display()
                ));
                fresh(request.plan, key, &request.endpoint, plan_json)
            }
            Some(d) if d.plan_hash == request.plan.content_hash => d,
            Some(d) => return Err(plan_changed(request.plan, &path, &d.plan, &plan_json)),
            None => fresh(request.plan, key, &request.endpoint, plan_json),
        };
        data.endpoint = request.endpoint.clone();
        let journal = Journal {
            path,
            data,
            notes,
            _lock: Some(lock),
            persist: true,
        };
        journal.save()?;
        Ok(journal)
    }

    /// The journal as [`Journal::open`] would find it, for `run --dry-run`: the same refusals
    /// (another run holds the lock, an unusable journal, a changed plan), the same data
    /// (`--restart` starting empty, a legacy journal converted), but nothing is created, moved
    /// or written, here or later. The lock is taken only where a run made its file already.
    pub fn peek(request: OpenRequest<'_>) -> Result<Journal, JournalError> {
        let key = JournalKey {
            platform: request.platform.clone(),
            project: request.plan.scope.project.clone(),
            stage: request.plan.scope.stage.clone(),
        };
        let path = journal_path(request.state_dir, &request.plan.path, &key);
        let lock_path = path.with_extension("lock");
        let lock = match OpenOptions::new().read(true).write(true).open(&lock_path) {
            Ok(file) => Some(try_lock(file, &lock_path)?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(JournalError::io("opening the journal lock", &lock_path, e)),
        };
        let unusable = |why: String| {
            if request.restart {
                Ok(None)
            } else {
                Err(JournalError::Unusable {
                    path: path.clone(),
                    why,
                })
            }
        };
        let existing = match read(&path, &key.platform) {
            Ok(None) => legacy(&request, &key, &path)?.map(|(_, data)| data),
            Ok(Some(data)) if data.key != key => unusable(format!(
                "it belongs to {} in {}/{}, not to {} in {}/{}",
                data.key.platform,
                data.key.project,
                data.key.stage,
                key.platform,
                key.project,
                key.stage
            ))?,
            Ok(Some(data)) => Some(data),
            Err(why) => unusable(why)?,
        };
        let plan_json = serde_json::to_value(request.plan).map_err(JournalError::Encode)?;
        let data = match existing {
            Some(d) if !request.restart && d.plan_hash != request.plan.content_hash => {
                return Err(plan_changed(request.plan, &path, &d.plan, &plan_json));
            }
            Some(d) if !request.restart => d,
            _ => fresh(request.plan, key, &request.endpoint, plan_json),
        };
        Ok(Journal {
            path,
            data,
            notes: Vec::new(),
            _lock: lock,
            persist: false,
        })
    }
}

/// Takes the exclusive lock; a second run of the same plan on the same platform stops here,
/// naming the holder.
fn lock(lock_path: &Path) -> Result<File, JournalError> {
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .mode(fsio::PRIVATE_FILE)
        .open(lock_path)
        .map_err(|e| JournalError::io("opening the journal lock", lock_path, e))?;
    let mut lock = try_lock(lock, lock_path)?;
    // Say who holds the lock, for the error a second run shows.
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "this machine".into());
    let _ = lock.set_len(0);
    let _ = writeln!(
        lock,
        "pid {} on {host} since {}",
        std::process::id(),
        Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    Ok(lock)
}

/// The exclusive lock on an open lock file, or who holds it.
fn try_lock(lock: File, lock_path: &Path) -> Result<File, JournalError> {
    // This process's own record ("pid N on host …"): a lock it just released, still held by a
    // child another thread forked, goes in a moment.
    let ours = format!("pid {} on ", std::process::id());
    match fsio::lock::try_lock_patiently(&lock, |holder| holder.starts_with(&ours)) {
        Ok(()) => Ok(lock),
        Err(std::fs::TryLockError::WouldBlock) => {
            // One line written by the holder; anything longer is not worth showing.
            let holder = fsio::read_text_bounded(lock_path, 4096).unwrap_or_default();
            let holder: String = holder.trim().chars().take(200).collect();
            Err(JournalError::Locked {
                lock: lock_path.to_path_buf(),
                holder: if holder.is_empty() {
                    "holder unknown".into()
                } else {
                    holder
                },
            })
        }
        Err(std::fs::TryLockError::Error(e)) => {
            Err(JournalError::io("locking the journal", lock_path, e))
        }
    }
}

/// The journal at `path`: `Ok(None)` when there is none, `Err(why)` when it cannot be used.
fn read(
    path: &Path,
    platform: &PlatformIdentity,
) -> std::result::Result<Option<JournalData>, String> {
    let bytes = match read_bounded(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("it cannot be read ({e})")),
    };
    decode(&bytes, platform).map(Some)
}

fn read_bounded(path: &Path) -> std::io::Result<Vec<u8>> {
    fsio::read_bounded(path, MAX_JOURNAL_BYTES).map_err(|e| {
        if fsio::is_too_large(&e) {
            std::io::Error::other(format!(
                "it is larger than {MAX_JOURNAL_BYTES} bytes, far more than a journal holds"
            ))
        } else {
            e
        }
    })
}

/// Today's format, or a legacy one converted (keyed by `platform`).
fn decode(bytes: &[u8], platform: &PlatformIdentity) -> std::result::Result<JournalData, String> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        format!(
            "it is not valid JSON (line {}, column {}: {e})",
            e.line(),
            e.column()
        )
    })?;
    match value.get("format").and_then(Value::as_u64) {
        Some(f) if f == u64::from(FORMAT) => {
            serde_path_to_error::deserialize::<_, JournalData>(&value).map_err(|e| {
                format!(
                    "it does not have a journal's shape (at {}: {})",
                    e.path(),
                    e.inner()
                )
            })
        }
        Some(f) if f == u64::from(legacy::FORMAT) => {
            let old: LegacyJournal = serde_json::from_value(value)
                .map_err(|e| format!("it does not have a format 1 journal's shape ({e})"))?;
            legacy::convert(old, platform.clone())
        }
        Some(f) if f > u64::from(FORMAT) => Err(format!(
            "it was written by a newer setops-migrate (format {f}; this version reads {FORMAT} and \
             {}); finish the run with that version",
            legacy::FORMAT
        )),
        _ => Err("it has no journal format number".into()),
    }
}

/// An unreadable or foreign journal: exit 3 with the ways out, or moved aside with `--restart`.
fn unusable(
    request: &OpenRequest<'_>,
    path: &Path,
    why: &str,
    notes: &mut Vec<String>,
) -> Result<Option<JournalData>, JournalError> {
    if request.restart {
        let aside = move_aside(path)?;
        notes.push(format!(
            "the journal could not be used ({why}); it was moved to {} and this run starts from \
             what the platform shows",
            aside.display()
        ));
        return Ok(None);
    }
    Err(JournalError::Unusable {
        path: path.to_path_buf(),
        why: why.to_owned(),
    })
}

fn move_aside(path: &Path) -> Result<PathBuf, JournalError> {
    let aside = path.with_extension(format!(
        "replaced-{}.json",
        Utc::now().format("%Y%m%dT%H%M%S%.3f")
    ));
    std::fs::rename(path, &aside)
        .map_err(|e| JournalError::io("moving the old journal aside", path, e))?;
    fsio::sync_dir(fsio::parent_of(path)).map_err(|e| JournalError::io("syncing", path, e))?;
    Ok(aside)
}

fn plan_changed(plan: &Plan, path: &Path, old: &Value, new: &Value) -> JournalError {
    let mut changes = diff_values("", old, new);
    changes.retain(|c| !c.starts_with("content_hash"));
    JournalError::PlanChanged {
        plan: plan.path.clone(),
        journal: path.to_path_buf(),
        changes,
    }
}

fn fresh(plan: &Plan, key: JournalKey, endpoint: &str, plan_json: Value) -> JournalData {
    JournalData {
        format: FORMAT,
        key,
        endpoint: endpoint.to_owned(),
        plan_path: plan.path.display().to_string(),
        plan_hash: plan.content_hash.clone(),
        plan: plan_json,
        run_id: uuid::Uuid::new_v4().simple().to_string()[..12].to_owned(),
        created_at: Utc::now(),
        updated_at: Utc::now(),
        finished: false,
        steps: Default::default(),
    }
}

/// A format 1 journal of this plan, project and stage, written against the same origin as the
/// one in use now: converted, written under today's name, and the old file removed. Its own
/// lock is taken first, so a run of the older version still going on is not disturbed.
fn adopt_legacy(
    request: &OpenRequest<'_>,
    key: &JournalKey,
    path: &Path,
    notes: &mut Vec<String>,
) -> Result<Option<JournalData>, JournalError> {
    let Some((found, _)) = legacy_candidate(request, key, path)? else {
        return Ok(None);
    };
    let old_lock_path = found.with_extension("lock");
    let _old_lock = lock(&old_lock_path)?;
    let Some((found, data)) = legacy(request, key, path)? else {
        return Ok(None);
    };
    let bytes = serde_json::to_vec_pretty(&data).map_err(JournalError::Encode)?;
    fsio::write_atomic(path, &bytes)
        .map_err(|e| JournalError::io("writing the journal", path, e))?;
    std::fs::remove_file(&found).map_err(|e| JournalError::io("removing", &found, e))?;
    let _ = std::fs::remove_file(&old_lock_path);
    notes.push(format!(
        "adopted the journal {} of an earlier version (now {})",
        found.display(),
        path.display()
    ));
    Ok(Some(data))
}

/// The legacy journal [`adopt_legacy`] would adopt, converted, where it was found; nothing is
/// written.
fn legacy(
    request: &OpenRequest<'_>,
    key: &JournalKey,
    path: &Path,
) -> Result<Option<(PathBuf, JournalData)>, JournalError> {
    let Some((found, old)) = legacy_candidate(request, key, path)? else {
        return Ok(None);
    };
    let data =
        legacy::convert(old, key.platform.clone()).map_err(|why| JournalError::Unconvertible {
            path: found.clone(),
            why,
        })?;
    Ok(Some((found, data)))
}

/// The first format 1 journal beside `path` of the same plan, project, stage and origin.
fn legacy_candidate(
    request: &OpenRequest<'_>,
    key: &JournalKey,
    path: &Path,
) -> Result<Option<(PathBuf, LegacyJournal)>, JournalError> {
    let Some(origin) = normalized_origin(&request.endpoint) else {
        return Ok(None);
    };
    for found in candidates(request.state_dir, &request.plan.path)? {
        if found == path {
            continue;
        }
        let Ok(bytes) = read_bounded(&found) else {
            continue;
        };
        let Ok(old) = serde_json::from_slice::<LegacyJournal>(&bytes) else {
            continue;
        };
        let same = old.format == legacy::FORMAT
            && old.key.project == key.project
            && old.key.stage == key.stage
            && normalized_origin(&old.key.endpoint).as_deref() == Some(origin.as_str());
        if same {
            return Ok(Some((found, old)));
        }
    }
    Ok(None)
}

/// Files in `state_dir` named like a journal of the plan at `plan_path`.
fn candidates(state_dir: &Path, plan_path: &Path) -> Result<Vec<PathBuf>, JournalError> {
    let stem = stem(plan_path);
    let entries = match std::fs::read_dir(state_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(JournalError::io(
                "reading the state directory",
                state_dir,
                e,
            ));
        }
    };
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| is_journal_name(&e.file_name().to_string_lossy(), &stem))
        .map(|e| e.path())
        .collect();
    out.sort();
    Ok(out)
}

/// Whether the plan finished on this platform and stage, by its journal alone: no lock taken,
/// nothing written (an unreadable journal counts as not finished; opening it says why).
pub fn finished(state_dir: &Path, plan: &Plan, platform: &PlatformIdentity) -> bool {
    let key = JournalKey {
        platform: platform.clone(),
        project: plan.scope.project.clone(),
        stage: plan.scope.stage.clone(),
    };
    matches!(
        read(&journal_path(state_dir, &plan.path, &key), platform),
        Ok(Some(d)) if d.finished && d.key == key && d.plan_hash == plan.content_hash
    )
}

/// The platform a finished run of this very plan was keyed by, when that run last reached the
/// platform at the same origin as `endpoint`: lets `run` say "already done" while the platform
/// cannot be reached to tell who it is.
pub fn finished_identity(
    state_dir: &Path,
    plan: &Plan,
    endpoint: &str,
) -> Option<PlatformIdentity> {
    let origin = normalized_origin(endpoint)?;
    find_for_plan(state_dir, &plan.path)
        .ok()?
        .into_iter()
        .filter_map(|f| f.data.ok())
        .find(|d| {
            d.finished
                && d.plan_hash == plan.content_hash
                && d.key.project == plan.scope.project
                && d.key.stage == plan.scope.stage
                && normalized_origin(&d.endpoint).as_deref() == Some(origin.as_str())
        })
        .map(|d| d.key.platform)
}

/// Every journal of the plan at `plan_path` in `state_dir` (one per platform and stage it ran
/// against), for `status`. Legacy journals are shown converted; none is changed.
pub fn find_for_plan(state_dir: &Path, plan_path: &Path) -> Result<Vec<Found>, JournalError> {
    let placeholder = PlatformIdentity::Api {
        origin: "(recorded before platform identities)".into(),
        organization: "-".into(),
    };
    Ok(candidates(state_dir, plan_path)?
        .into_iter()
        .map(|path| {
            let data = read_bounded(&path)
                .map_err(|e| format!("it cannot be read ({e})"))
                .and_then(|bytes| decode(&bytes, &placeholder));
            Found { path, data }
        })
        .collect())
}
