//! `/_sandbox/faults`: read and change the fault knobs; `/_sandbox/live-writes`: what the live
//! apps wrote (sandbox only; both need a bearer token).

use axum::Json;
use axum::extract::State;

use crate::api::{Faults, LiveWrites};
use crate::sandbox::auth::AuthUser;
use crate::sandbox::extract::ApiJson;
use crate::sandbox::lookup::AppState;

pub(super) async fn show(State(st): State<AppState>, _: AuthUser) -> Json<Faults> {
    Json(st.sandbox.knobs().snapshot())
}

/// Fields present replace the current values; the answer is every knob's value after the merge.
pub(super) async fn update(
    State(st): State<AppState>,
    _: AuthUser,
    ApiJson(update): ApiJson<Faults>,
) -> Json<Faults> {
    Json(st.sandbox.knobs().merge(update))
}

pub(super) async fn live_writes(State(st): State<AppState>, _: AuthUser) -> Json<LiveWrites> {
    Json(st.sandbox.live().snapshot())
}
