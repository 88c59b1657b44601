//! Deleting events: the payload goes, a tombstone with `seq`, `hash` and `prev_hash` stays, so the
//! chain still verifies. The only UPDATE the immutability triggers let through.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::{StoreError, StoreResult};
use crate::schema::{event_related, events, mutation_guard};

/// Opens one of the guarded doors for the rest of the current transaction.
pub(crate) fn open_guard(conn: &mut DbConnection, mode: &str) -> QueryResult<()> {
    diesel::insert_into(mutation_guard::table).values(mutation_guard::mode.eq(mode)).execute(conn).map(|_| ())
}

/// Closes it again before the transaction commits.
pub(crate) fn close_guard(conn: &mut DbConnection, mode: &str) -> QueryResult<()> {
    diesel::delete(mutation_guard::table.filter(mutation_guard::mode.eq(mode))).execute(conn).map(|_| ())
}

/// What a deletion found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tombstoned {
    /// Ids whose payload was removed now.
    pub deleted: Vec<i64>,
    /// Ids that already were tombstones.
    pub already_deleted: Vec<i64>,
}

/// Blanks the payload of `ids` (all of `tenant_id`), inside the caller's transaction. Unknown ids
/// make the whole call fail with `NotFound` and change nothing.
pub fn tombstone(
    conn: &mut DbConnection,
    tenant_id: i64,
    ids: &[i64],
    deleted_by: &str,
    now: NaiveDateTime,
) -> StoreResult<Tombstoned> {
    crate::queries::tenants::lock(conn, tenant_id)?;
    let found: Vec<(i64, Option<NaiveDateTime>)> = events::table
        .filter(events::tenant_id.eq(tenant_id))
        .filter(events::id.eq_any(ids))
        .select((events::id, events::deleted_at))
        .load(conn)?;
    if found.len() != ids.iter().collect::<std::collections::BTreeSet<_>>().len() {
        return Err(StoreError::NotFound);
    }
    let (already, live): (Vec<_>, Vec<_>) = found.into_iter().partition(|(_, at)| at.is_some());
    let mut live: Vec<i64> = live.into_iter().map(|(id, _)| id).collect();
    live.sort_unstable();
    if !live.is_empty() {
        open_guard(conn, "tombstone")?;
        diesel::update(
            events::table.filter(events::tenant_id.eq(tenant_id)).filter(events::id.eq_any(&live)),
        )
        .set((
            events::external_id.eq(None::<String>),
            events::actor_id.eq(""),
            events::actor_name.eq(""),
            events::actor_email.eq(None::<String>),
            events::actor_role.eq(None::<String>),
            events::entity_type.eq(None::<String>),
            events::entity_id.eq(None::<String>),
            events::entity_label.eq(None::<String>),
            events::description.eq(""),
            events::changes.eq("[]"),
            events::related.eq("[]"),
            events::metadata.eq("{}"),
            events::ip.eq(""),
            events::user_agent.eq(None::<String>),
            events::search_text.eq(""),
            events::deleted_at.eq(now),
            events::deleted_by.eq(deleted_by),
        ))
        .execute(conn)?;
        close_guard(conn, "tombstone")?;
        diesel::delete(
            event_related::table
                .filter(event_related::tenant_id.eq(tenant_id))
                .filter(event_related::event_id.eq_any(&live)),
        )
        .execute(conn)?;
    }
    let mut already_deleted: Vec<i64> = already.into_iter().map(|(id, _)| id).collect();
    already_deleted.sort_unstable();
    Ok(Tombstoned { deleted: live, already_deleted })
}
