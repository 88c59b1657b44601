//! Storing events: one transaction per request, the tenant row locked first so that `seq` stays
//! gap-free and the hash chain linear however many writers there are.

use crate::ids::{EventId, TenantId};
use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::chain::stored_json;
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
    pub ids: Vec<EventId>,
    /// Events newly stored.
    pub accepted: usize,
    /// Events already stored under the same `external_id`.
    pub duplicates: usize,
    /// The seq of every event of the request, as `ids` (absent from responses stored before the
    /// tree existed).
    #[serde(default)]
    pub seqs: Vec<i64>,
    /// The tree after this request, when it stored anything (not kept for replays).
    #[serde(skip)]
    pub tree: Option<TreeHead>,
}

/// A tenant's tree: how many leaves, and their root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeHead {
    pub size: u64,
    pub root: auditlog_tlog::Hash,
    /// The tree this one was grown from by appending leaves (size and root, the root computed
    /// from the stored right edge that was extended): a checkpoint of exactly that tree is
    /// extended by this one without a consistency proof.
    pub extends: Option<(u64, auditlog_tlog::Hash)>,
}

/// Who posts events: `user:<id>`, `token:<id>`, or the server itself.
pub const SYSTEM_SUBMITTER: &str = "system";

/// Stores events the server records itself ([`SYSTEM_SUBMITTER`]); see [`store_submitted`].
pub fn store_events(
    conn: &mut DbConnection,
    tenant_id: TenantId,
    idempotency: Option<&IdempotencyKey>,
    drafts: &[EventDraft],
    recorded_at: NaiveDateTime,
) -> StoreResult<(IngestOutcome, bool)> {
    store_submitted(conn, tenant_id, SYSTEM_SUBMITTER, idempotency, drafts, recorded_at)
}

/// Stores `drafts` all together or not at all, as posted by `submitter`, appending them to the
/// tenant's tree. A repeated `Idempotency-Key` of the same submitter with the same request returns
/// the first outcome and `true`; with a different request it is a conflict.
pub fn store_submitted(
    conn: &mut DbConnection,
    tenant_id: TenantId,
    submitter: &str,
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
                // A key is the caller's own: another user or token reusing it is a new request.
                .filter(idempotency_keys::submitted_by.eq(submitter))
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
                let mut outcome: IngestOutcome = serde_json::from_str(&response)
                    .map_err(|e| StoreError::Corrupt(format!("stored idempotent response: {e}")))?;
                if outcome.seqs.len() != outcome.ids.len() {
                    outcome.seqs = seqs_of(conn, tenant_id, &outcome.ids)?;
                }
                return Ok((outcome, true));
            }
        }

        let outcome = insert_new(conn, tenant_id, submitter, drafts, recorded_at)?;

        if let Some(idem) = idempotency {
            diesel::insert_into(idempotency_keys::table)
                .values((
                    idempotency_keys::tenant_id.eq(tenant_id),
                    idempotency_keys::submitted_by.eq(submitter),
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
    Existing(EventId),
    /// Index into the rows inserted by this request.
    New(usize),
}

/// The seq of each id (of events stored before seqs were kept with idempotent responses).
fn seqs_of(conn: &mut DbConnection, tenant_id: TenantId, ids: &[EventId]) -> StoreResult<Vec<i64>> {
    let by_id: HashMap<EventId, i64> = events::table
        .filter(events::tenant_id.eq(tenant_id))
        .filter(events::id.eq_any(ids))
        .select((events::id, events::seq))
        .load::<(EventId, i64)>(conn)?
        .into_iter()
        .collect();
    ids.iter().map(|id| by_id.get(id).copied().ok_or(StoreError::NotFound)).collect()
}

/// Ids for `count` new events, taken under the tenant's lock: from the table's sequence on
/// PostgreSQL, after the highest ever given on SQLite (whose write lock is database-wide).
fn allocate_ids(conn: &mut DbConnection, count: usize) -> StoreResult<Vec<i64>> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
    }
    match conn {
        DbConnection::Pg(pg) => {
            // The sequence named as a constant is resolved once per statement; looked up with
            // pg_get_serial_sequence it was resolved once per id, four times the cost.
            let ids: Vec<Id> =
                diesel::sql_query("SELECT nextval('events_id_seq') AS id FROM generate_series(1, $1)")
                    .bind::<diesel::sql_types::BigInt, _>(count as i64)
                    .load(pg)?;
            Ok(ids.into_iter().map(|i| i.id).collect())
        }
        DbConnection::Sqlite(lite) => {
            let last: Id = diesel::sql_query(
                "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0), \
                        COALESCE((SELECT MAX(id) FROM events), 0)) AS id",
            )
            .get_result(lite)?;
            Ok((1..=count as i64).map(|i| last.id + i).collect())
        }
    }
}

fn insert_new(
    conn: &mut DbConnection,
    tenant_id: TenantId,
    submitter: &str,
    drafts: &[EventDraft],
    recorded_at: NaiveDateTime,
) -> StoreResult<IngestOutcome> {
    // Events already stored under the same external id are duplicates, not errors.
    let external_ids: Vec<&str> = drafts.iter().filter_map(|d| d.external_id.as_deref()).collect();
    let mut known: HashMap<String, EventId> = if external_ids.is_empty() {
        HashMap::new()
    } else {
        events::table
            .filter(events::tenant_id.eq(tenant_id))
            .filter(events::external_id.eq_any(&external_ids))
            .select((events::external_id.assume_not_null(), events::id))
            .load::<(String, EventId)>(conn)?
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

    let (mut seq, mut prev_hash, tree_size, timezone, review): (i64, String, i64, String, Option<String>) =
        tenants::table
            .find(tenant_id)
            .select((
                tenants::head_seq,
                tenants::head_hash,
                tenants::tree_size,
                tenants::timezone,
                tenants::review_settings,
            ))
            .first(conn)?;
    if tree_size != seq {
        return Err(StoreError::Conflict(
            "this tenant's Merkle tree is not built yet: run `auditlog migrate` first".into(),
        ));
    }
    let new_count = count_new(drafts, &known);
    let mut ids = allocate_ids(conn, new_count)?.into_iter();
    let mut frontier = super::tree::frontier(conn, tenant_id, seq as u64)?;
    let extends = (seq > 0).then(|| (seq as u64, frontier.root()));
    let mut nodes = Vec::new();

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
        let id = ids.next().ok_or_else(|| StoreError::Corrupt("fewer ids than new events".into()))?;
        slots.push(Slot::New(rows.len()));
        rows.push(new_row(crate::EventId(id), tenant_id, seq, submitter, draft, recorded_at, admin_private));
    }
    let tz = timezone.parse::<chrono_tz::Tz>().unwrap_or(chrono_tz::Tz::UTC);
    crate::flags::assess(
        conn,
        tenant_id,
        tz,
        &crate::flags::ReviewSettings::from_stored(review.as_deref()),
        &mut rows,
    )?;
    // The personal digests stand alone per event (most of the hashing): on every core. The leaves
    // then follow one another, each naming the hash before it.
    let digests =
        crate::parallel::in_parallel(&rows, |_, row| crate::leaf::personal_digests(&row.leaf_input()));
    for (row, digests) in rows.iter_mut().zip(digests) {
        row.prev_hash = prev_hash;
        let leaf = auditlog_tlog::merkle::leaf_hash(&crate::leaf::leaf_bytes_with(
            &row.leaf_input(),
            &digests.map_err(StoreError::Corrupt)?,
        ));
        row.hash = hex::encode(leaf);
        nodes.extend(frontier.push(leaf));
        prev_hash = row.hash.clone();
    }

    let new_ids: Vec<EventId> = rows.iter().map(|row| row.id).collect();
    let mut tree = None;
    if !rows.is_empty() {
        insert_rows(conn, &rows)?;
        super::tree::store_new(conn, tenant_id, &nodes)?;
        let related: Vec<NewEventRelated> =
            rows.iter().flat_map(|row| related_rows(tenant_id, row.id, &row.related)).collect();
        insert_related(conn, &related)?;
        // What alert rules owe, committed with the events or not at all.
        super::alerts::enqueue(conn, tenant_id, &new_ids, recorded_at)?;
        diesel::update(tenants::table.find(tenant_id))
            .set((tenants::head_seq.eq(seq), tenants::head_hash.eq(&prev_hash), tenants::tree_size.eq(seq)))
            .execute(conn)?;
        tree = Some(TreeHead { size: seq as u64, root: frontier.root(), extends });
    }
    for (ext, index) in new_external {
        known.insert(ext, new_ids[index]);
    }

    let (ids, seqs): (Vec<EventId>, Vec<i64>) = slots
        .iter()
        .map(|slot| match slot {
            Slot::Existing(id) => (*id, 0),
            Slot::New(index) => (new_ids[*index], rows[*index].seq),
        })
        .unzip();
    let seqs = if seqs.contains(&0) { seqs_of(conn, tenant_id, &ids)? } else { seqs };
    Ok(IngestOutcome { accepted: rows.len(), duplicates: drafts.len() - rows.len(), ids, seqs, tree })
}

/// How many drafts are new: not stored under their external id, and not repeating an earlier
/// draft's external id.
fn count_new(drafts: &[EventDraft], known: &HashMap<String, EventId>) -> usize {
    let mut seen = std::collections::HashSet::new();
    drafts
        .iter()
        .filter(|d| match &d.external_id {
            Some(ext) => !known.contains_key(ext) && seen.insert(ext.as_str()),
            None => true,
        })
        .count()
}

/// The row of a new event, its salt drawn; `prev_hash` and `hash` are set once its place in the
/// chain is known.
fn new_row(
    id: EventId,
    tenant_id: TenantId,
    seq: i64,
    submitter: &str,
    draft: &EventDraft,
    recorded_at: NaiveDateTime,
    admin_private: bool,
) -> NewEventRow {
    let entity = draft.entity.as_ref();
    NewEventRow {
        id,
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
        search_text: draft_search_text(draft),
        ip_key: crate::derived::ip_key(draft.ip.as_deref().unwrap_or_default()),
        prev_hash: String::new(),
        hash: String::new(),
        leaf_version: crate::leaf::LEAF_FORMAT,
        submitted_by: Some(submitter.to_string()),
        salt: Some(crate::leaf::new_salt()),
        flags: 0,
        flag_reasons: None,
    }
}

/// Both backends keep microseconds; the hash must cover exactly what is stored.
fn to_micros(t: NaiveDateTime) -> NaiveDateTime {
    chrono::DateTime::from_timestamp_micros(t.and_utc().timestamp_micros())
        .map(|t| t.naive_utc())
        .unwrap_or(t)
}

fn draft_search_text(draft: &EventDraft) -> String {
    let entity = draft.entity.as_ref();
    crate::derived::search_text(&crate::derived::Searchable {
        description: &draft.description,
        entity_label: entity.and_then(|e| e.label.as_deref()),
        entity_id: entity.map(|e| e.id.as_str()),
        actor_name: &draft.actor.name,
        actor_email: draft.actor.email.as_deref(),
        action: &draft.action,
        related: &draft.related,
        ip: draft.ip.as_deref(),
        user_agent: draft.user_agent.as_deref(),
        changes: &draft.changes,
    })
}

/// The `event_related` rows of an event with this stored `related` JSON: derived from a hashed
/// field, so verification recomputes them.
pub fn related_rows(tenant_id: TenantId, event_id: EventId, related: &str) -> Vec<NewEventRelated> {
    let related: Vec<crate::models::EntityRef> = serde_json::from_str(related).unwrap_or_default();
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
/// makes loading millions of events several times faster; those the flags read as events are
/// stored (by verb and by action, `crate::flags`) stay, else each batch would scan the table. The load itself commits as it goes (one
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
             WHERE i.indrelid = 'events'::regclass AND NOT i.indisunique AND NOT i.indisprimary \
               AND pg_get_indexdef(i.indexrelid) NOT LIKE '%(tenant_id, verb, %' \
               AND pg_get_indexdef(i.indexrelid) NOT LIKE '%(tenant_id, action, %'",
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
