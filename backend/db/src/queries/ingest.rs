//! Storing events: one transaction per request, the tenant row locked first so that `seq` stays
//! gap-free and the hash chain linear however many writers there are.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::events::SEARCH_SEPARATOR;
use crate::chain::{event_hash, stored_json};
use crate::connection::DbConnection;
use crate::error::{StoreError, StoreResult};
use crate::models::{EventDraft, NewEventRelated, NewEventRow, Role};
use crate::schema::{event_related, events, idempotency_keys, tenants, users};

/// Rows per multi-row INSERT, well under both backends' bind-parameter limits.
const INSERT_CHUNK: usize = 500;

/// A client's `Idempotency-Key` and the fingerprint of the request it came with.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub key: String,
    pub request_hash: String,
}

/// What an ingest request stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestOutcome {
    /// The id of every event of the request, in request order (an earlier id for a duplicate).
    pub ids: Vec<i64>,
    /// Events newly stored.
    pub accepted: usize,
    /// Events already stored under the same `external_id`.
    pub duplicates: usize,
}

/// Stores `drafts` all together or not at all. A repeated `Idempotency-Key` with the same request
/// returns the first outcome and `true`; with a different request it is a conflict.
pub fn store_events(
    conn: &mut DbConnection,
    tenant_id: i64,
    idempotency: Option<&IdempotencyKey>,
    drafts: &[EventDraft],
    recorded_at: NaiveDateTime,
) -> StoreResult<(IngestOutcome, bool)> {
    let recorded_at = to_micros(recorded_at);
    conn.transaction(|conn| {
        // Writing first takes the tenant's row lock on PostgreSQL and the write lock on SQLite
        // before anything is read, so concurrent requests queue here instead of conflicting.
        let locked = diesel::update(tenants::table.find(tenant_id))
            .set(tenants::head_seq.eq(tenants::head_seq))
            .execute(conn)?;
        if locked == 0 {
            return Err(StoreError::NotFound);
        }

        if let Some(idem) = idempotency {
            let earlier: Option<(String, String)> = idempotency_keys::table
                .filter(idempotency_keys::tenant_id.eq(tenant_id))
                .filter(idempotency_keys::idempotency_key.eq(&idem.key))
                .select((idempotency_keys::request_hash, idempotency_keys::response))
                .first(conn)
                .optional()?;
            if let Some((request_hash, response)) = earlier {
                if request_hash != idem.request_hash {
                    return Err(StoreError::Conflict(
                        "this Idempotency-Key was already used with a different request body".into(),
                    ));
                }
                let outcome = serde_json::from_str(&response)
                    .map_err(|e| StoreError::Corrupt(format!("stored idempotent response: {e}")))?;
                return Ok((outcome, true));
            }
        }

        let outcome = insert_new(conn, tenant_id, drafts, recorded_at)?;

        if let Some(idem) = idempotency {
            diesel::insert_into(idempotency_keys::table)
                .values((
                    idempotency_keys::tenant_id.eq(tenant_id),
                    idempotency_keys::idempotency_key.eq(&idem.key),
                    idempotency_keys::request_hash.eq(&idem.request_hash),
                    idempotency_keys::response.eq(serde_json::to_string(&outcome).unwrap_or_default()),
                    idempotency_keys::created_at.eq(recorded_at),
                ))
                .execute(conn)?;
        }
        Ok((outcome, false))
    })
}

/// Where each request slot's id comes from.
enum Slot {
    Existing(i64),
    /// Index into the rows inserted by this request.
    New(usize),
}

fn insert_new(
    conn: &mut DbConnection,
    tenant_id: i64,
    drafts: &[EventDraft],
    recorded_at: NaiveDateTime,
) -> StoreResult<IngestOutcome> {
    // Events already stored under the same external id are duplicates, not errors.
    let external_ids: Vec<&str> = drafts.iter().filter_map(|d| d.external_id.as_deref()).collect();
    let mut known: HashMap<String, i64> = if external_ids.is_empty() {
        HashMap::new()
    } else {
        events::table
            .filter(events::tenant_id.eq(tenant_id))
            .filter(events::external_id.eq_any(&external_ids))
            .select((events::external_id.assume_not_null(), events::id))
            .load::<(String, i64)>(conn)?
            .into_iter()
            .collect()
    };

    // Admin-private is decided by the actor's role at this moment: a dashboard user's stored role
    // when the actor id is one of them, else the role the event itself names.
    let actor_ids: Vec<&str> = drafts.iter().map(|d| d.actor.id.as_str()).collect();
    let user_roles: HashMap<String, String> = users::table
        .filter(users::tenant_id.eq(tenant_id))
        .filter(users::actor_id.eq_any(&actor_ids))
        .select((users::actor_id, users::role))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();

    let (mut seq, mut prev_hash): (i64, String) =
        tenants::table.find(tenant_id).select((tenants::head_seq, tenants::head_hash)).first(conn)?;
    let first_seq = seq + 1;

    let mut slots = Vec::with_capacity(drafts.len());
    let mut rows: Vec<NewEventRow> = Vec::with_capacity(drafts.len());
    let mut new_external: HashMap<String, usize> = HashMap::new();
    for draft in drafts {
        if let Some(ext) = &draft.external_id {
            if let Some(id) = known.get(ext) {
                slots.push(Slot::Existing(*id));
                continue;
            }
            if let Some(index) = new_external.get(ext) {
                slots.push(Slot::New(*index));
                continue;
            }
            new_external.insert(ext.clone(), rows.len());
        }
        let admin_private = match user_roles.get(&draft.actor.id) {
            Some(role) => role == Role::Admin.as_str(),
            None => draft.actor.role.as_deref() == Some(Role::Admin.as_str()),
        };
        seq += 1;
        let row = new_row(tenant_id, seq, draft, recorded_at, admin_private, prev_hash);
        prev_hash = row.hash.clone();
        slots.push(Slot::New(rows.len()));
        rows.push(row);
    }

    let mut new_ids = Vec::with_capacity(rows.len());
    if !rows.is_empty() {
        insert_rows(conn, &rows)?;
        let by_seq: HashMap<i64, i64> = events::table
            .filter(events::tenant_id.eq(tenant_id))
            .filter(events::seq.between(first_seq, seq))
            .select((events::seq, events::id))
            .load::<(i64, i64)>(conn)?
            .into_iter()
            .collect();
        for row in &rows {
            let id = by_seq.get(&row.seq).copied().ok_or_else(|| {
                StoreError::Corrupt(format!("event seq {} vanished during ingest", row.seq))
            })?;
            new_ids.push(id);
        }
        let related: Vec<NewEventRelated> =
            rows.iter().zip(&new_ids).flat_map(|(row, id)| related_rows(tenant_id, *id, row)).collect();
        insert_related(conn, &related)?;
        diesel::update(tenants::table.find(tenant_id))
            .set((tenants::head_seq.eq(seq), tenants::head_hash.eq(&prev_hash)))
            .execute(conn)?;
    }
    for (ext, index) in new_external {
        known.insert(ext, new_ids[index]);
    }

    let ids = slots
        .iter()
        .map(|slot| match slot {
            Slot::Existing(id) => *id,
            Slot::New(index) => new_ids[*index],
        })
        .collect::<Vec<_>>();
    Ok(IngestOutcome { accepted: rows.len(), duplicates: drafts.len() - rows.len(), ids })
}

fn new_row(
    tenant_id: i64,
    seq: i64,
    draft: &EventDraft,
    recorded_at: NaiveDateTime,
    admin_private: bool,
    prev_hash: String,
) -> NewEventRow {
    let entity = draft.entity.as_ref();
    let mut row = NewEventRow {
        tenant_id,
        seq,
        external_id: draft.external_id.clone(),
        occurred_at: to_micros(draft.occurred_at),
        recorded_at,
        actor_id: draft.actor.id.clone(),
        actor_type: draft.actor.actor_type.clone(),
        actor_name: draft.actor.name.clone(),
        actor_email: draft.actor.email.clone(),
        actor_role: draft.actor.role.clone(),
        admin_private,
        action: draft.action.clone(),
        module: draft.module.clone(),
        verb: draft.verb.clone(),
        entity_type: entity.map(|e| e.entity_type.clone()),
        entity_id: entity.map(|e| e.id.clone()),
        entity_label: entity.and_then(|e| e.label.clone()),
        description: draft.description.clone(),
        changes: stored_json(&draft.changes, "[]"),
        related: stored_json(&draft.related, "[]"),
        metadata: stored_json(&draft.metadata, "{}"),
        ip: draft.ip.clone().unwrap_or_default(),
        user_agent: draft.user_agent.clone(),
        search_text: search_text(draft),
        prev_hash,
        hash: String::new(),
    };
    row.hash = event_hash(&row.prev_hash, &row.chain_input());
    row
}

/// Both backends keep microseconds; the hash must cover exactly what is stored.
fn to_micros(t: NaiveDateTime) -> NaiveDateTime {
    chrono::DateTime::from_timestamp_micros(t.and_utc().timestamp_micros())
        .map(|t| t.naive_utc())
        .unwrap_or(t)
}

/// Lower-cased text the keyword filter searches: description, record label and id, actor name
/// and e-mail, action and IP.
fn search_text(draft: &EventDraft) -> String {
    let entity = draft.entity.as_ref();
    let parts = [
        Some(draft.description.as_str()),
        entity.and_then(|e| e.label.as_deref()),
        entity.map(|e| e.id.as_str()),
        Some(draft.actor.name.as_str()),
        draft.actor.email.as_deref(),
        Some(draft.action.as_str()),
        draft.ip.as_deref(),
    ];
    let joined = parts.into_iter().flatten().collect::<Vec<_>>().join(&SEARCH_SEPARATOR.to_string());
    joined.to_lowercase()
}

fn related_rows(tenant_id: i64, event_id: i64, row: &NewEventRow) -> Vec<NewEventRelated> {
    let related: Vec<crate::models::EntityRef> = serde_json::from_str(&row.related).unwrap_or_default();
    let mut seen = std::collections::HashSet::new();
    related
        .into_iter()
        .filter(|r| seen.insert((r.entity_type.clone(), r.id.clone())))
        .map(|r| NewEventRelated { tenant_id, entity_type: r.entity_type, entity_id: r.id, event_id })
        .collect()
}

// PostgreSQL takes the rows as one binary `COPY` (several times faster than multi-row INSERT for a
// batch); SQLite as multi-row INSERTs. Neither compiles through the connection enum, so both run
// on the inner connection.
fn insert_rows(conn: &mut DbConnection, rows: &[NewEventRow]) -> QueryResult<()> {
    match conn {
        DbConnection::Pg(c) => {
            diesel::copy_from(events::table).from_insertable(rows).execute(c)?;
        }
        DbConnection::Sqlite(c) => {
            for chunk in rows.chunks(INSERT_CHUNK) {
                diesel::insert_into(events::table).values(chunk).execute(c)?;
            }
        }
    }
    Ok(())
}

fn insert_related(conn: &mut DbConnection, rows: &[NewEventRelated]) -> QueryResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    match conn {
        DbConnection::Pg(c) => {
            diesel::copy_from(event_related::table).from_insertable(rows).execute(c)?;
        }
        DbConnection::Sqlite(c) => {
            for chunk in rows.chunks(INSERT_CHUNK * 2) {
                diesel::insert_into(event_related::table).values(chunk).execute(c)?;
            }
        }
    }
    Ok(())
}

#[derive(QueryableByName)]
struct IndexDefinition {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    definition: String,
}

/// Runs a bulk load into an empty `events` table. On PostgreSQL the non-unique indexes of
/// `events` (the trigram index above all) are dropped first and built once at the end, which
/// makes loading millions of events several times faster. The load itself commits as it goes (one
/// long transaction would make every batch's update of the tenant's chain head walk all earlier
/// versions of that row); the indexes are rebuilt whether it succeeds or fails, and a process
/// killed in between leaves them missing — this is for benchmark data in a fresh database.
/// Elsewhere, or when the table already holds events, `load` just runs.
pub fn bulk_load<T, E>(
    conn: &mut DbConnection,
    load: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    let empty = matches!(conn, DbConnection::Pg(_))
        && events::table.select(events::id).first::<i64>(conn).optional()?.is_none();
    let DbConnection::Pg(pg) = &mut *conn else { return load(conn) };
    if !empty {
        return load(conn);
    }
    // pg_get_indexdef writes `ON ONLY` for the index of a partitioned table; the rebuilt index
    // must cover the partitions again.
    let indexes: Vec<IndexDefinition> = pg.transaction(|pg| {
        let indexes: Vec<IndexDefinition> = diesel::sql_query(
            "SELECT c.relname::text AS name, \
                    replace(pg_get_indexdef(i.indexrelid), ' ON ONLY ', ' ON ') AS definition \
             FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
             WHERE i.indrelid = 'events'::regclass AND NOT i.indisunique AND NOT i.indisprimary",
        )
        .load(pg)?;
        for index in &indexes {
            diesel::sql_query(format!("DROP INDEX \"{}\"", index.name)).execute(pg)?;
        }
        Ok::<_, diesel::result::Error>(indexes)
    })?;
    let loaded = load(conn);
    let DbConnection::Pg(pg) = &mut *conn else { unreachable!() };
    pg.transaction(|pg| {
        diesel::sql_query("SET LOCAL maintenance_work_mem = '512MB'").execute(pg)?;
        for index in &indexes {
            diesel::sql_query(&index.definition).execute(pg)?;
        }
        Ok::<_, diesel::result::Error>(())
    })?;
    diesel::sql_query("ANALYZE events").execute(pg)?;
    loaded
}
