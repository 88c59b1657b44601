//! Alert rules and their outbox (`deliveries`).
//!
//! A rule is a filter of the list plus a destination. When events are stored, [`enqueue`] runs in
//! the same transaction: each active rule's filter is applied to the new events alone, through
//! the one filter of every read ([`matching`], with an admin's sight), and what matches is owed
//! to the rule's destination as a delivery row. A delivery waits up to the rule's batch time for
//! more events; the worker ([`due`], [`claim`], [`finish`]) leases it, sends it and records what
//! happened. Nothing matched is lost (the row commits with the events) and a delivery is sent
//! until a destination takes it (at least once: a lease that runs out is sent again, with the same
//! `message_id`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::checkpoints::Notary;
use crate::connection::DbConnection;
use crate::error::{StoreError, StoreResult};
use crate::ids::{EventId, TenantId};
use crate::queries::events::{matching, EventFilter};
use crate::schema::{alert_rules, deliveries, events};
use crate::visibility::Viewer;
use auditlog_tlog::note::Verifier;

/// A stored rule.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = alert_rules)]
pub struct AlertRule {
    pub id: i64,
    pub tenant_id: TenantId,
    pub name: String,
    /// The filter as the admin wrote it: the list's query parameters.
    pub query: String,
    /// The filter resolved, as JSON.
    pub filter: String,
    /// Where deliveries go, as JSON (the API's `Destination`).
    pub destination: String,
    /// The webhook signing secret (`whsec_…`).
    pub secret: String,
    pub batch_max_events: i32,
    pub batch_max_seconds: i32,
    pub paused: bool,
    /// `daily` or `weekly` for a digest, which matches no single event.
    pub schedule: Option<String>,
    /// The end of the last period a digest owes.
    pub last_digest_at: Option<NaiveDateTime>,
    pub disabled_at: Option<NaiveDateTime>,
    pub disabled_reason: Option<String>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The server's signed note over what the rule is ([`seal_text`]); `None` for a rule kept
    /// before seals, which is refused until saved again.
    pub seal: Option<String>,
}

impl AlertRule {
    /// Whether new events are matched against it.
    pub fn active(&self) -> bool {
        !self.paused && self.disabled_at.is_none()
    }
}

/// What a rule is made of (create and replace).
#[derive(Debug, Clone)]
pub struct RuleFields {
    pub name: String,
    pub query: String,
    pub filter: EventFilter,
    pub destination: String,
    pub batch_max_events: i32,
    pub batch_max_seconds: i32,
    pub paused: bool,
    pub schedule: Option<String>,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Not sent yet, or to be sent again.
    Pending,
    Delivered,
    /// Given up on after failing for too long; an admin may send it again.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> StoreResult<Self> {
        match text {
            "pending" => Ok(DeliveryStatus::Pending),
            "delivered" => Ok(DeliveryStatus::Delivered),
            "failed" => Ok(DeliveryStatus::Failed),
            other => Err(StoreError::Corrupt(format!("unknown delivery status {other:?}"))),
        }
    }
}

/// A stored delivery.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = deliveries)]
pub struct Delivery {
    pub id: i64,
    pub tenant_id: TenantId,
    pub rule_id: i64,
    /// The `webhook-id`: the same on every attempt.
    pub message_id: String,
    /// JSON array of event ids.
    pub event_ids: String,
    pub event_count: i32,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub next_attempt_at: NaiveDateTime,
    pub leased_until: Option<NaiveDateTime>,
    pub attempts: i32,
    pub last_attempt_at: Option<NaiveDateTime>,
    pub response_code: Option<i32>,
    pub latency_ms: Option<i32>,
    pub error: Option<String>,
    pub delivered_at: Option<NaiveDateTime>,
    /// A digest's period.
    pub period_start: Option<NaiveDateTime>,
    pub period_end: Option<NaiveDateTime>,
}

impl Delivery {
    pub fn event_ids(&self) -> StoreResult<Vec<EventId>> {
        serde_json::from_str(&self.event_ids)
            .map_err(|e| StoreError::Corrupt(format!("delivery {}: event ids: {e}", self.id)))
    }

    pub fn status(&self) -> StoreResult<DeliveryStatus> {
        DeliveryStatus::parse(&self.status)
    }
}

fn filter_json(filter: &EventFilter) -> StoreResult<String> {
    serde_json::to_string(filter).map_err(|e| StoreError::Corrupt(format!("alert filter: {e}")))
}

pub fn create(
    conn: &mut DbConnection,
    notary: &Notary,
    tenant_id: TenantId,
    fields: &RuleFields,
    secret: &str,
    created_by: &str,
    now: NaiveDateTime,
) -> StoreResult<AlertRule> {
    let filter = filter_json(&fields.filter)?;
    conn.transaction(|conn| {
        diesel::insert_into(alert_rules::table)
            .values((
                alert_rules::tenant_id.eq(tenant_id),
                alert_rules::name.eq(&fields.name),
                alert_rules::query.eq(&fields.query),
                alert_rules::filter.eq(&filter),
                alert_rules::destination.eq(&fields.destination),
                alert_rules::secret.eq(secret),
                alert_rules::batch_max_events.eq(fields.batch_max_events),
                alert_rules::batch_max_seconds.eq(fields.batch_max_seconds),
                alert_rules::paused.eq(fields.paused),
                alert_rules::schedule.eq(&fields.schedule),
                alert_rules::created_by.eq(created_by),
                alert_rules::created_at.eq(now),
                alert_rules::updated_at.eq(now),
            ))
            .execute(conn)?;
        let id: i64 = alert_rules::table
            .filter(alert_rules::tenant_id.eq(tenant_id))
            .order(alert_rules::id.desc())
            .select(alert_rules::id)
            .first(conn)?;
        seal(conn, notary, tenant_id, id)
    })
}

/// The tenant's rules, oldest first.
pub fn list(conn: &mut DbConnection, tenant_id: TenantId) -> StoreResult<Vec<AlertRule>> {
    Ok(alert_rules::table
        .filter(alert_rules::tenant_id.eq(tenant_id))
        .order(alert_rules::id.asc())
        .select(AlertRule::as_select())
        .load(conn)?)
}

pub fn get(conn: &mut DbConnection, tenant_id: TenantId, id: i64) -> StoreResult<AlertRule> {
    alert_rules::table
        .filter(alert_rules::tenant_id.eq(tenant_id))
        .filter(alert_rules::id.eq(id))
        .select(AlertRule::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

/// What a rule's seal signs: the rule's tenant and id, and a digest of every field an admin sets
/// (bookkeeping such as `disabled_at` is left out: the server changes it by itself).
pub fn seal_text(rule: &AlertRule) -> String {
    use sha2::{Digest, Sha256};
    let fields = serde_json::json!([
        rule.tenant_id,
        rule.id,
        rule.name,
        rule.query,
        rule.filter,
        rule.destination,
        rule.secret,
        rule.batch_max_events,
        rule.batch_max_seconds,
        rule.paused,
        rule.schedule,
    ]);
    let digest = hex::encode(Sha256::digest(fields.to_string().as_bytes()));
    format!("activity-log alert rule\n{}\n{}\n{digest}\n", rule.tenant_id, rule.id)
}

/// Signs the rule as it is stored now and keeps the seal (called by every change an admin
/// makes, in its transaction).
fn seal(conn: &mut DbConnection, notary: &Notary, tenant_id: TenantId, id: i64) -> StoreResult<AlertRule> {
    let rule = get(conn, tenant_id, id)?;
    let note = notary.sign_note(&seal_text(&rule))?;
    diesel::update(alert_rules::table.filter(alert_rules::id.eq(id)))
        .set(alert_rules::seal.eq(&note))
        .execute(conn)?;
    Ok(AlertRule { seal: Some(note), ..rule })
}

/// Whether a rule is as an admin last saved it through the product: its seal is this
/// deployment's signature over its fields as they are stored now. A rule written to from outside
/// (another receiver, another tenant, a wider filter, a copied seal) is not.
pub fn sealed(rule: &AlertRule, verifier: &Verifier) -> bool {
    rule.seal
        .as_deref()
        .and_then(|note| verifier.verify(note).ok())
        .is_some_and(|text| text == seal_text(rule))
}

/// Takes the write lock before anything is read (a no-op write of the rule): on SQLite a
/// transaction that reads first cannot always write after, when another connection wrote
/// meanwhile. `NotFound` when the tenant has no such rule.
fn lock_rule(conn: &mut DbConnection, tenant_id: TenantId, id: i64) -> StoreResult<()> {
    let locked = diesel::update(
        alert_rules::table.filter(alert_rules::tenant_id.eq(tenant_id)).filter(alert_rules::id.eq(id)),
    )
    .set(alert_rules::updated_at.eq(alert_rules::updated_at))
    .execute(conn)?;
    if locked == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Replaces a rule's fields. Resuming a disabled rule (`paused: false`) enables it again and
/// makes its waiting deliveries due now.
pub fn replace(
    conn: &mut DbConnection,
    notary: &Notary,
    tenant_id: TenantId,
    id: i64,
    fields: &RuleFields,
    now: NaiveDateTime,
) -> StoreResult<AlertRule> {
    let filter = filter_json(&fields.filter)?;
    conn.transaction(|conn| {
        lock_rule(conn, tenant_id, id)?;
        let before = get(conn, tenant_id, id)?;
        let enable = !fields.paused && before.disabled_at.is_some();
        diesel::update(
            alert_rules::table.filter(alert_rules::tenant_id.eq(tenant_id)).filter(alert_rules::id.eq(id)),
        )
        .set((
            alert_rules::name.eq(&fields.name),
            alert_rules::query.eq(&fields.query),
            alert_rules::filter.eq(&filter),
            alert_rules::destination.eq(&fields.destination),
            alert_rules::batch_max_events.eq(fields.batch_max_events),
            alert_rules::batch_max_seconds.eq(fields.batch_max_seconds),
            alert_rules::paused.eq(fields.paused),
            alert_rules::updated_at.eq(now),
        ))
        .execute(conn)?;
        if enable {
            diesel::update(alert_rules::table.filter(alert_rules::id.eq(id)))
                .set((
                    alert_rules::disabled_at.eq(None::<NaiveDateTime>),
                    alert_rules::disabled_reason.eq(None::<String>),
                ))
                .execute(conn)?;
            diesel::update(
                deliveries::table
                    .filter(deliveries::rule_id.eq(id))
                    .filter(deliveries::status.eq(DeliveryStatus::Pending.as_str())),
            )
            .set(deliveries::next_attempt_at.eq(now))
            .execute(conn)?;
        }
        seal(conn, notary, tenant_id, id)
    })
}

/// Replaces a rule's signing secret.
pub fn set_secret(
    conn: &mut DbConnection,
    notary: &Notary,
    tenant_id: TenantId,
    id: i64,
    secret: &str,
    now: NaiveDateTime,
) -> StoreResult<AlertRule> {
    conn.transaction(|conn| {
        let changed = diesel::update(
            alert_rules::table.filter(alert_rules::tenant_id.eq(tenant_id)).filter(alert_rules::id.eq(id)),
        )
        .set((alert_rules::secret.eq(secret), alert_rules::updated_at.eq(now)))
        .execute(conn)?;
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        seal(conn, notary, tenant_id, id)
    })
}

/// Deletes a rule and what it still owed.
pub fn delete(conn: &mut DbConnection, tenant_id: TenantId, id: i64) -> StoreResult<AlertRule> {
    conn.transaction(|conn| {
        lock_rule(conn, tenant_id, id)?;
        let rule = get(conn, tenant_id, id)?;
        diesel::delete(deliveries::table.filter(deliveries::rule_id.eq(id))).execute(conn)?;
        diesel::delete(alert_rules::table.filter(alert_rules::id.eq(id))).execute(conn)?;
        Ok(rule)
    })
}

/// Stops a rule whose deliveries failed for too long; returns whether it was active until now.
pub fn disable(conn: &mut DbConnection, rule_id: i64, reason: &str, now: NaiveDateTime) -> StoreResult<bool> {
    Ok(diesel::update(
        alert_rules::table.filter(alert_rules::id.eq(rule_id)).filter(alert_rules::disabled_at.is_null()),
    )
    .set((alert_rules::disabled_at.eq(now), alert_rules::disabled_reason.eq(reason)))
    .execute(conn)?
        == 1)
}

/// Owes each active rule of the tenant the events among `new_ids` that its filter matches.
/// Called in the transaction that stores them, under the tenant's lock: a rule's open delivery
/// (not yet tried, not full) takes them first, then new ones of at most the batch size.
pub fn enqueue(
    conn: &mut DbConnection,
    tenant_id: TenantId,
    new_ids: &[EventId],
    now: NaiveDateTime,
) -> StoreResult<()> {
    if new_ids.is_empty() {
        return Ok(());
    }
    let rules: Vec<AlertRule> = alert_rules::table
        .filter(alert_rules::tenant_id.eq(tenant_id))
        .filter(alert_rules::paused.eq(false))
        .filter(alert_rules::disabled_at.is_null())
        .filter(alert_rules::schedule.is_null())
        .select(AlertRule::as_select())
        .load(conn)?;
    if rules.is_empty() {
        return Ok(());
    }
    // A rule reads as an admin does: every event of the tenant.
    let viewer = Viewer::admin(tenant_id);
    let backend = conn.backend();
    for rule in rules {
        let filter: EventFilter = match serde_json::from_str(&rule.filter) {
            Ok(filter) => filter,
            Err(e) => {
                log::error!("alert rule {} has an unreadable filter, skipped: {e}", rule.id);
                continue;
            }
        };
        let mut matched: Vec<EventId> = Vec::new();
        for chunk in new_ids.chunks(1000) {
            matched.extend(
                events::table
                    .filter(matching(backend, &viewer, &filter))
                    .filter(events::id.eq_any(chunk))
                    .order(events::seq.asc())
                    .select(events::id)
                    .load::<EventId>(conn)?,
            );
        }
        if !matched.is_empty() {
            owe(conn, &rule, &matched, now)?;
        }
    }
    Ok(())
}

fn owe(
    conn: &mut DbConnection,
    rule: &AlertRule,
    matched: &[EventId],
    now: NaiveDateTime,
) -> StoreResult<()> {
    let size = rule.batch_max_events.max(1) as usize;
    let wait = chrono::TimeDelta::seconds(rule.batch_max_seconds.max(0) as i64);
    let mut rest = matched;
    // The open delivery: never tried, not leased, not full.
    if size > 1 {
        let open: Option<Delivery> = deliveries::table
            .filter(deliveries::rule_id.eq(rule.id))
            .filter(deliveries::status.eq(DeliveryStatus::Pending.as_str()))
            .filter(deliveries::attempts.eq(0))
            .filter(deliveries::leased_until.is_null())
            .filter(deliveries::event_count.lt(size as i32))
            .order(deliveries::id.desc())
            .select(Delivery::as_select())
            .first(conn)
            .optional()?;
        if let Some(open) = open {
            let mut ids = open.event_ids()?;
            let take = (size - ids.len()).min(rest.len());
            ids.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            let full = ids.len() >= size;
            let due = if full { now.min(open.next_attempt_at) } else { open.next_attempt_at };
            // Taken only while still open: a worker that leased it meanwhile wins.
            let updated = diesel::update(
                deliveries::table
                    .filter(deliveries::id.eq(open.id))
                    .filter(deliveries::leased_until.is_null()),
            )
            .set((
                deliveries::event_ids.eq(ids_json(&ids)),
                deliveries::event_count.eq(ids.len() as i32),
                deliveries::next_attempt_at.eq(due),
            ))
            .execute(conn)?;
            if updated == 0 {
                rest = matched;
            }
        }
    }
    for chunk in rest.chunks(size) {
        let due = if chunk.len() >= size { now } else { now + wait };
        diesel::insert_into(deliveries::table)
            .values((
                deliveries::tenant_id.eq(rule.tenant_id),
                deliveries::rule_id.eq(rule.id),
                deliveries::message_id.eq(format!("msg_{}", uuid_like())),
                deliveries::event_ids.eq(ids_json(chunk)),
                deliveries::event_count.eq(chunk.len() as i32),
                deliveries::status.eq(DeliveryStatus::Pending.as_str()),
                deliveries::created_at.eq(now),
                deliveries::next_attempt_at.eq(due),
            ))
            .execute(conn)?;
    }
    Ok(())
}

fn ids_json(ids: &[EventId]) -> String {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".into())
}

/// 128 random bits as hex: a message id no two deliveries share.
fn uuid_like() -> String {
    let bytes: [u8; 16] = rand::random();
    hex::encode(bytes)
}

/// The oldest due delivery of each of up to `limit` rules, the rules whose oldest due delivery
/// waited longest first.
///
/// One per rule, chosen per rule rather than from the oldest rows overall: a rule with a long
/// backlog (a dead receiver, a burst) cannot fill a worker's batch and starve other rules or
/// tenants. Rules in `busy` (being sent by this process) and rules with a delivery leased by any
/// process are skipped, so a rule has one delivery in flight at a time.
pub fn due(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    busy: &[i64],
    limit: i64,
) -> StoreResult<Vec<(Delivery, AlertRule)>> {
    let held = diesel::alias!(deliveries as held);
    let rules: Vec<i64> = deliveries::table
        .inner_join(alert_rules::table)
        .filter(deliveries::status.eq(DeliveryStatus::Pending.as_str()))
        .filter(deliveries::next_attempt_at.le(now))
        .filter(deliveries::leased_until.is_null().or(deliveries::leased_until.lt(now)))
        .filter(alert_rules::disabled_at.is_null())
        .filter(deliveries::rule_id.ne_all(busy))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            held.filter(held.field(deliveries::rule_id).eq(deliveries::rule_id))
                .filter(held.field(deliveries::status).eq(DeliveryStatus::Pending.as_str()))
                .filter(held.field(deliveries::leased_until).ge(now)),
        )))
        .group_by(deliveries::rule_id)
        .select(deliveries::rule_id)
        .order(diesel::dsl::min(deliveries::next_attempt_at).asc())
        .limit(limit)
        .load(conn)?;
    let mut due = Vec::with_capacity(rules.len());
    for rule_id in rules {
        let oldest = deliveries::table
            .inner_join(alert_rules::table)
            .filter(deliveries::rule_id.eq(rule_id))
            .filter(deliveries::status.eq(DeliveryStatus::Pending.as_str()))
            .filter(deliveries::next_attempt_at.le(now))
            .filter(deliveries::leased_until.is_null().or(deliveries::leased_until.lt(now)))
            .order((deliveries::next_attempt_at.asc(), deliveries::id.asc()))
            .select((Delivery::as_select(), AlertRule::as_select()))
            .first(conn)
            .optional()?;
        due.extend(oldest);
    }
    Ok(due)
}

/// Leases a due delivery until `until`; `false` when another worker took it, or another delivery
/// of its rule, first.
///
/// The rule's row is locked first (a no-op write), so two processes claiming deliveries of one
/// rule at once take turns and the second sees the first one's lease: a rule has one delivery
/// in flight across every process.
pub fn claim(
    conn: &mut DbConnection,
    delivery: &Delivery,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> StoreResult<bool> {
    conn.transaction(|conn| {
        diesel::update(alert_rules::table.filter(alert_rules::id.eq(delivery.rule_id)))
            .set(alert_rules::updated_at.eq(alert_rules::updated_at))
            .execute(conn)?;
        let held: i64 = deliveries::table
            .filter(deliveries::rule_id.eq(delivery.rule_id))
            .filter(deliveries::status.eq(DeliveryStatus::Pending.as_str()))
            .filter(deliveries::leased_until.ge(now))
            .count()
            .get_result(conn)?;
        if held > 0 {
            return Ok(false);
        }
        Ok(diesel::update(
            deliveries::table
                .filter(deliveries::id.eq(delivery.id))
                .filter(deliveries::status.eq(DeliveryStatus::Pending.as_str()))
                .filter(deliveries::leased_until.is_null().or(deliveries::leased_until.lt(now))),
        )
        .set(deliveries::leased_until.eq(until))
        .execute(conn)?
            == 1)
    })
}

/// Gives a leased delivery back untried (its rule was stopped before it was sent).
pub fn release(conn: &mut DbConnection, id: i64) -> StoreResult<()> {
    diesel::update(deliveries::table.filter(deliveries::id.eq(id)))
        .set(deliveries::leased_until.eq(None::<NaiveDateTime>))
        .execute(conn)?;
    Ok(())
}

/// What one attempt found.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub at: NaiveDateTime,
    pub response_code: Option<i32>,
    pub latency_ms: i32,
    /// Why it failed; `None`: delivered.
    pub error: Option<String>,
    /// When to try again after a failure; `None`: give up.
    pub retry_at: Option<NaiveDateTime>,
}

/// Records an attempt and releases the lease.
pub fn finish(conn: &mut DbConnection, id: i64, attempt: &Attempt) -> StoreResult<()> {
    let status = match (&attempt.error, attempt.retry_at) {
        (None, _) => DeliveryStatus::Delivered,
        (Some(_), Some(_)) => DeliveryStatus::Pending,
        (Some(_), None) => DeliveryStatus::Failed,
    };
    diesel::update(deliveries::table.filter(deliveries::id.eq(id)))
        .set((
            deliveries::status.eq(status.as_str()),
            deliveries::attempts.eq(deliveries::attempts + 1),
            deliveries::last_attempt_at.eq(attempt.at),
            deliveries::response_code.eq(attempt.response_code),
            deliveries::latency_ms.eq(attempt.latency_ms),
            deliveries::error.eq(&attempt.error),
            deliveries::leased_until.eq(None::<NaiveDateTime>),
            deliveries::next_attempt_at.eq(attempt.retry_at.unwrap_or(attempt.at)),
            deliveries::delivered_at.eq(attempt.error.is_none().then_some(attempt.at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// A rule's deliveries, newest first, before `before` (an id) when given.
pub fn deliveries_of(
    conn: &mut DbConnection,
    tenant_id: TenantId,
    rule_id: i64,
    before: Option<i64>,
    limit: i64,
) -> StoreResult<Vec<Delivery>> {
    let mut query = deliveries::table
        .filter(deliveries::tenant_id.eq(tenant_id))
        .filter(deliveries::rule_id.eq(rule_id))
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(deliveries::id.lt(before));
    }
    Ok(query.order(deliveries::id.desc()).limit(limit).select(Delivery::as_select()).load(conn)?)
}

pub fn delivery(conn: &mut DbConnection, tenant_id: TenantId, id: i64) -> StoreResult<Delivery> {
    deliveries::table
        .filter(deliveries::tenant_id.eq(tenant_id))
        .filter(deliveries::id.eq(id))
        .select(Delivery::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

/// Sends a delivery again, now, with the same message id (a delivered or failed one too).
/// Refused while it is being sent.
pub fn redeliver(
    conn: &mut DbConnection,
    tenant_id: TenantId,
    id: i64,
    now: NaiveDateTime,
) -> StoreResult<Delivery> {
    conn.transaction(|conn| {
        // A no-op write first, for the write lock (see `lock_rule`).
        let locked = diesel::update(
            deliveries::table.filter(deliveries::tenant_id.eq(tenant_id)).filter(deliveries::id.eq(id)),
        )
        .set(deliveries::attempts.eq(deliveries::attempts))
        .execute(conn)?;
        if locked == 0 {
            return Err(StoreError::NotFound);
        }
        let before = delivery(conn, tenant_id, id)?;
        if before.leased_until.is_some_and(|until| until > now) {
            return Err(StoreError::Conflict("this delivery is being sent right now".into()));
        }
        diesel::update(deliveries::table.filter(deliveries::id.eq(id)))
            .set((
                deliveries::status.eq(DeliveryStatus::Pending.as_str()),
                deliveries::next_attempt_at.eq(now),
                deliveries::leased_until.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?;
        delivery(conn, tenant_id, id)
    })
}

/// Whether the rule delivered anything since `since`.
pub fn delivered_since(conn: &mut DbConnection, rule_id: i64, since: NaiveDateTime) -> StoreResult<bool> {
    Ok(deliveries::table
        .filter(deliveries::rule_id.eq(rule_id))
        .filter(deliveries::delivered_at.ge(since))
        .select(deliveries::id)
        .first::<i64>(conn)
        .optional()?
        .is_some())
}

/// Every active digest rule, of every tenant.
pub fn digest_rules(conn: &mut DbConnection) -> StoreResult<Vec<AlertRule>> {
    Ok(alert_rules::table
        .filter(alert_rules::schedule.is_not_null())
        .filter(alert_rules::paused.eq(false))
        .filter(alert_rules::disabled_at.is_null())
        .order(alert_rules::id.asc())
        .select(AlertRule::as_select())
        .load(conn)?)
}

/// Owes a digest rule the summary of `start..end`, once: `false` when that period (or a later
/// one) is owed already, as another process found it first.
pub fn owe_digest(
    conn: &mut DbConnection,
    rule: &AlertRule,
    start: NaiveDateTime,
    end: NaiveDateTime,
    now: NaiveDateTime,
) -> StoreResult<bool> {
    conn.transaction(|conn| {
        let taken = diesel::update(
            alert_rules::table
                .filter(alert_rules::id.eq(rule.id))
                .filter(alert_rules::last_digest_at.is_null().or(alert_rules::last_digest_at.lt(end))),
        )
        .set(alert_rules::last_digest_at.eq(end))
        .execute(conn)?;
        if taken == 0 {
            return Ok(false);
        }
        diesel::insert_into(deliveries::table)
            .values((
                deliveries::tenant_id.eq(rule.tenant_id),
                deliveries::rule_id.eq(rule.id),
                deliveries::message_id.eq(format!("msg_{}", uuid_like())),
                deliveries::event_ids.eq("[]"),
                deliveries::event_count.eq(0),
                deliveries::status.eq(DeliveryStatus::Pending.as_str()),
                deliveries::created_at.eq(now),
                deliveries::next_attempt_at.eq(now),
                deliveries::period_start.eq(start),
                deliveries::period_end.eq(end),
            ))
            .execute(conn)?;
        Ok(true)
    })
}

/// How many visible events matching `filter` each module holds, most first.
pub fn count_by_module(
    conn: &mut DbConnection,
    viewer: &Viewer,
    filter: &EventFilter,
) -> StoreResult<Vec<(String, i64)>> {
    let backend = conn.backend();
    let mut counts: Vec<(String, i64)> = events::table
        .filter(matching(backend, viewer, filter))
        .group_by(events::module)
        .select((events::module, diesel::dsl::count_star()))
        .load(conn)?;
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(counts)
}
