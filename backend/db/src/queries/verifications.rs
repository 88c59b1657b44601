//! Results of verification runs, kept so the dashboard can say when the log was last verified.

use crate::ids::TenantId;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::StoreResult;
use crate::integrity::Verification;
use crate::schema::verifications;

/// One stored run.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = verifications)]
pub struct VerificationRun {
    pub id: i64,
    pub tenant_id: TenantId,
    pub started_at: NaiveDateTime,
    pub finished_at: NaiveDateTime,
    pub tree_size: i64,
    pub ok: bool,
    pub events_checked: i64,
    pub checkpoints_checked: i64,
    pub first_bad_seq: Option<i64>,
    pub reason: Option<String>,
    /// What started it: `request`, `schedule` or `command`.
    pub trigger: String,
}

pub fn record(
    conn: &mut DbConnection,
    tenant_id: TenantId,
    started_at: NaiveDateTime,
    finished_at: NaiveDateTime,
    result: &Verification,
    trigger: &str,
) -> StoreResult<()> {
    diesel::insert_into(verifications::table)
        .values((
            verifications::tenant_id.eq(tenant_id),
            verifications::started_at.eq(started_at),
            verifications::finished_at.eq(finished_at),
            verifications::tree_size.eq(result.head_seq),
            verifications::ok.eq(result.ok),
            verifications::events_checked.eq(result.events_checked),
            verifications::checkpoints_checked.eq(result.checkpoints_checked),
            verifications::first_bad_seq.eq(result.first_bad_seq),
            verifications::reason.eq(&result.reason),
            verifications::trigger.eq(trigger),
        ))
        .execute(conn)?;
    Ok(())
}

/// The tenant's latest run, if any.
pub fn latest(conn: &mut DbConnection, tenant_id: TenantId) -> StoreResult<Option<VerificationRun>> {
    Ok(verifications::table
        .filter(verifications::tenant_id.eq(tenant_id))
        .order(verifications::id.desc())
        .select(VerificationRun::as_select())
        .first(conn)
        .optional()?)
}
