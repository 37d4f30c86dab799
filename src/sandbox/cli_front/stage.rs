//! CLI 2.x: `stage:dump` and `stage:apply`.

use super::commands::Call;
use super::failure::Failure;

pub(crate) async fn dump(_call: &Call<'_>) -> Result<(), Failure> {
    Err(Failure::new("stage:dump is not available yet"))
}

pub(crate) async fn apply(_call: &Call<'_>) -> Result<(), Failure> {
    Err(Failure::new("stage:apply is not available yet"))
}
