//! Integrity verification of the tenant's hash chain (admins).

use actix_web::{get, web, HttpResponse};
use auditlog_db::integrity::verify_chain;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

/// The result of recomputing the chain.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationOut {
    /// `true` when every event links to its predecessor and matches its hash.
    pub ok: bool,
    /// Live events checked (archived ones are vouched for by the checkpoint).
    pub events_checked: i64,
    /// The tenant's recorded chain head.
    pub head_seq: i64,
    pub head_hash: String,
    /// The first seq whose link is broken or missing.
    pub first_bad_seq: Option<i64>,
    /// What is wrong there.
    pub reason: Option<String>,
    /// Seq of the last archived event, where the live chain starts (0: nothing archived).
    pub checkpoint_seq: i64,
    pub checked_at: chrono::DateTime<chrono::Utc>,
}

/// Recompute the tenant's hash chain and name the first bad link, if any. Detects edited fields,
/// deleted, reordered and inserted rows made directly in the database.
#[utoipa::path(operation_id = "verifyIntegrity", tag = "integrity", security(("bearer" = [])), responses(
    (status = 200, body = VerificationOut),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
))]
#[get("/integrity/verify")]
pub async fn verify(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let tenant_id = caller.tenant.id;
    let (result, checkpoint_seq) = state
        .db(move |conn| {
            let result = verify_chain(conn, tenant_id, |_, _| {})?;
            let checkpoint = auditlog_db::queries::tenants::get(conn, tenant_id)?.chain_base_seq;
            Ok((result, checkpoint))
        })
        .await?;
    Ok(HttpResponse::Ok().json(VerificationOut {
        ok: result.ok,
        events_checked: result.events_checked,
        head_seq: result.head_seq,
        head_hash: result.head_hash,
        first_bad_seq: result.first_bad_seq,
        reason: result.reason,
        checkpoint_seq,
        checked_at: chrono::Utc::now(),
    }))
}
