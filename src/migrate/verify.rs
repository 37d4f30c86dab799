//! After the restore: prove the target received exactly the bytes that left the source.

use serde_json::json;

use crate::error::{Error, Result};
use crate::model::Backup;
use crate::plan::Migration;

use super::data::Artifact;
use super::engine::{Engine, key};
use super::events::{Phase, Step};

/// Compares the target's uploaded backup with the artifact (size and SHA-256, both as the
/// platform reports them). A mismatch blocks the relink (exit 5).
pub async fn verify(
    engine: &Engine,
    m: &Migration,
    artifact: &Artifact,
    upload: &Backup,
) -> Result<()> {
    let k = key("verify", &m.target);
    if engine.done_data(&k).await.is_some() {
        engine.emit(
            Some(&m.target),
            Some(Step::Verify),
            Phase::Replayed,
            "verified by an earlier run",
        );
        return Ok(());
    }
    let size_ok = upload.size == Some(artifact.size);
    let sha_ok = upload.sha256.as_deref() == Some(artifact.sha256.as_str());
    if !(size_ok && sha_ok) {
        return Err(Error::Verification(format!(
            "{}: the target's backup {} ({} bytes, sha256 {}) differs from what left the source ({} bytes, sha256 {}); \
             nothing was relinked",
            m.target,
            upload.id,
            upload
                .size
                .map(|s| s.to_string())
                .unwrap_or_else(|| "?".into()),
            upload.sha256.as_deref().unwrap_or("?"),
            artifact.size,
            artifact.sha256
        )));
    }
    engine.emit(
        Some(&m.target),
        Some(Step::Verify),
        Phase::Done,
        "the target's backup matches the source's bytes (size and SHA-256); row- and file-level comparison is not done by this step",
    );
    engine
        .done(&k, json!({ "size": artifact.size, "sha256": artifact.sha256, "checked": ["size", "sha256"] }))
        .await
}
