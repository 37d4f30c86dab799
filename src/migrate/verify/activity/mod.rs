//! PLACEHOLDER until the measuring module lands (same API).
use serde::{Deserialize, Serialize};

use crate::api::ServiceConnection;
use crate::error::Result;
use crate::verdict::Difference;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Activity {
    Files { at_ms: u64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GapUnit {
    Rows,
    Keys,
    Files,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteGap {
    pub parts: Vec<(String, u64)>,
    pub writes: u64,
    pub unit: GapUnit,
}

impl WriteGap {
    pub fn is_empty(&self) -> bool {
        self.writes == 0
    }
    pub fn explains(&self, _difference: &Difference) -> bool {
        false
    }
}

pub async fn measure(_connection: &ServiceConnection, _label: &str) -> Result<Option<Activity>> {
    Ok(None)
}

pub async fn since(
    _before: &Activity,
    _connection: &ServiceConnection,
    _label: &str,
) -> Result<Option<WriteGap>> {
    Ok(None)
}
