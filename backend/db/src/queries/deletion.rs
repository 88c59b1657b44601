//! Deleting events: the payload goes, a tombstone with id, `seq`, `hash` and `prev_hash` stays, so
//! the event's leaf stays in the tree. A tombstone needs its deletion record: an `auditlog.deleted`
//! event stored first, naming the ids; the tombstones take its time and actor. On PostgreSQL the
//! blanking runs in a function owned by the schema's owner (the application's role may not
//! UPDATE events); on SQLite through the guarded door.

use crate::ids::TenantId;
use std::collections::BTreeSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::{StoreError, StoreResult};
use crate::models::{EventRow, PRODUCT_NAMESPACES};
use crate::schema::{event_related, events, mutation_guard};

/// Opens one of the guarded doors for the rest of the current transaction.
pub(crate) fn open_guard(conn: &mut DbConnection, mode: &str) -> QueryResult<()> {
    diesel::insert_into(mutation_guard::table).values(mutation_guard::mode.eq(mode)).execute(conn).map(|_| ())
}

/// Closes it again before the transaction commits.
pub(crate) fn close_guard(conn: &mut DbConnection, mode: &str) -> QueryResult<()> {
    diesel::delete(mutation_guard::table.filter(mutation_guard::mode.eq(mode))).execute(conn).map(|_| ())
}

/// What a deletion request would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletionPlan {
    /// Ids whose payload would be removed.
    pub live: Vec<i64>,
    /// Ids that already are tombstones.
    pub already_deleted: Vec<i64>,
    /// Ids of the product's own records, which are never deleted.
    pub protected: Vec<i64>,
}

/// Sorts `ids` (all of `tenant_id`, else `NotFound`) by what deleting them would do. Takes the
/// tenant's lock: call it inside the deleting transaction.
pub fn plan(conn: &mut DbConnection, tenant_id: TenantId, ids: &[i64]) -> StoreResult<DeletionPlan> {
    crate::queries::tenants::lock(conn, tenant_id)?;
    let found: Vec<(i64, Option<NaiveDateTime>, String)> = events::table
        .filter(events::tenant_id.eq(tenant_id))
        .filter(events::id.eq_any(ids))
        .select((events::id, events::deleted_at, events::module))
        .load(conn)?;
    if found.len() != ids.iter().collect::<BTreeSet<_>>().len() {
        return Err(StoreError::NotFound);
    }
    let mut plan = DeletionPlan { live: Vec::new(), already_deleted: Vec::new(), protected: Vec::new() };
    for (id, deleted_at, module) in found {
        if deleted_at.is_some() {
            plan.already_deleted.push(id);
        } else if PRODUCT_NAMESPACES.contains(&module.as_str()) {
            plan.protected.push(id);
        } else {
            plan.live.push(id);
        }
    }
    plan.live.sort_unstable();
    plan.already_deleted.sort_unstable();
    plan.protected.sort_unstable();
    Ok(plan)
}

/// The personal-data digests of the live events `ids`, as the tombstones will keep them:
/// `[{"id", "digests"}]`.
fn kept_digests(
    conn: &mut DbConnection,
    tenant_id: TenantId,
    ids: &[i64],
) -> StoreResult<Vec<(crate::EventId, String)>> {
    let rows: Vec<EventRow> = events::table
        .filter(events::tenant_id.eq(tenant_id))
        .filter(events::id.eq_any(ids))
        .filter(events::deleted_at.is_null())
        .filter(events::leaf_version.eq(crate::leaf::LEAF_FORMAT))
        .select(EventRow::as_select())
        .load(conn)?;
    rows.iter()
        .map(|row| {
            crate::leaf::digests_json(&row.leaf_input()).map(|d| (row.id, d)).map_err(StoreError::Corrupt)
        })
        .collect()
}

/// Blanks the events named by the deletion record `record_id` (an `auditlog.deleted` event of the
/// tenant, stored before them in this transaction); returns how many were blanked. Each keeps the
/// digests of its personal data, so that its leaf still recomputes.
pub fn tombstone(
    conn: &mut DbConnection,
    tenant_id: TenantId,
    record_id: crate::EventId,
) -> StoreResult<usize> {
    let metadata: Option<String> = events::table
        .filter(events::tenant_id.eq(tenant_id))
        .filter(events::id.eq(record_id))
        .select(events::metadata)
        .first(conn)
        .optional()?;
    let named = named_ids(metadata.as_deref().unwrap_or("{}"));
    let digests = kept_digests(conn, tenant_id, &named)?;
    if let DbConnection::Pg(pg) = conn {
        let list: Vec<serde_json::Value> =
            digests.iter().map(|(id, d)| serde_json::json!({"id": id, "digests": d})).collect();
        #[derive(QueryableByName)]
        struct Blanked {
            #[diesel(sql_type = diesel::sql_types::Integer)]
            blanked: i32,
        }
        let done: Blanked = diesel::sql_query("SELECT auditlog_tombstone($1, $2, $3) AS blanked")
            .bind::<diesel::sql_types::BigInt, _>(tenant_id)
            .bind::<diesel::sql_types::BigInt, _>(record_id)
            .bind::<diesel::sql_types::Text, _>(serde_json::Value::Array(list).to_string())
            .get_result(pg)?;
        return Ok(done.blanked as usize);
    }
    // SQLite: the same steps as the PostgreSQL function.
    let (seq, recorded_at, actor_id): (i64, NaiveDateTime, String) = events::table
        .filter(events::tenant_id.eq(tenant_id))
        .filter(events::id.eq(record_id))
        .filter(events::action.eq("auditlog.deleted"))
        .filter(events::deleted_at.is_null())
        .select((events::seq, events::recorded_at, events::actor_id))
        .first(conn)
        .optional()?
        .ok_or_else(|| StoreError::Conflict(format!("event {record_id} is not a deletion record")))?;
    open_guard(conn, "tombstone")?;
    let mut blanked = Vec::new();
    for (id, kept) in &digests {
        let done = diesel::update(
            events::table
                .filter(events::tenant_id.eq(tenant_id))
                .filter(events::id.eq(id))
                .filter(events::seq.lt(seq))
                .filter(events::deleted_at.is_null())
                .filter(events::module.ne_all(PRODUCT_NAMESPACES)),
        )
        .set((
            events::external_id.eq(None::<String>),
            events::actor_id.eq(""),
            events::actor_name.eq(""),
            events::actor_email.eq(None::<String>),
            events::entity_id.eq(None::<String>),
            events::entity_label.eq(None::<String>),
            events::description.eq(""),
            events::changes.eq("[]"),
            events::related.eq("[]"),
            events::metadata.eq("{}"),
            events::ip.eq(""),
            events::user_agent.eq(None::<String>),
            events::search_text.eq(""),
            events::ip_key.eq(crate::derived::NO_IP_KEY),
            events::salt.eq(kept),
            events::deleted_at.eq(recorded_at),
            events::deleted_by.eq(&actor_id),
        ))
        .execute(conn)?;
        if done == 1 {
            blanked.push(*id);
        }
    }
    close_guard(conn, "tombstone")?;
    diesel::delete(
        event_related::table
            .filter(event_related::tenant_id.eq(tenant_id))
            .filter(event_related::event_id.eq_any(&blanked)),
    )
    .execute(conn)?;
    Ok(blanked.len())
}

/// The deletion record that made `tombstone` one, if `viewer` may see it: the `auditlog.deleted`
/// event its deleter recorded at the moment of the deletion (a tombstone's `deleted_at` is that
/// record's `recorded_at`) and which names it.
pub fn record_of(
    conn: &mut DbConnection,
    viewer: &crate::visibility::Viewer,
    tombstone: &crate::models::Event,
) -> StoreResult<Option<crate::models::Event>> {
    let Some((at, by)) = &tombstone.deleted else {
        return Ok(None);
    };
    let rows: Vec<EventRow> = events::table
        .filter(crate::visibility::visible_to(viewer))
        .filter(events::action.eq("auditlog.deleted"))
        .filter(events::occurred_at.ge(*at - chrono::TimeDelta::minutes(1)))
        .filter(events::occurred_at.le(*at))
        .filter(events::recorded_at.eq(*at))
        .filter(events::actor_id.eq(by))
        .select(EventRow::as_select())
        .load(conn)?;
    let id = tombstone.id.get();
    rows.into_iter()
        .find(|row| named_ids(&row.metadata).contains(&id))
        .map(crate::models::Event::try_from)
        .transpose()
}

/// The ids a deletion record names (`metadata.ids`).
pub fn named_ids(metadata: &str) -> Vec<i64> {
    serde_json::from_str::<serde_json::Value>(metadata)
        .ok()
        .and_then(|m| m.get("ids").and_then(|ids| ids.as_array().cloned()))
        .unwrap_or_default()
        .iter()
        .filter_map(serde_json::Value::as_i64)
        .collect()
}
