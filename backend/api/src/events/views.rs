//! What the API answers about events: the event as served, and a page of them.

use auditlog_db::flags::FlagKind;
use auditlog_db::models::{Actor, Change, EntityRef, Event};
use auditlog_db::queries::events::{EventPage, ListRequest, Paging};
use auditlog_db::visibility::HiddenField;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// Who performed an event.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActorOut {
    /// The actor's id in the host application (or a dashboard user's `actor_id`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// E-mail address, if known.
    pub email: Option<String>,
    /// The actor's role when the event was recorded, if known.
    pub role: Option<String>,
    /// `user`, `system` or `api`.
    #[serde(rename = "type")]
    pub actor_type: String,
}

impl From<Actor> for ActorOut {
    fn from(a: Actor) -> Self {
        ActorOut { id: a.id, name: a.name, email: a.email, role: a.role, actor_type: a.actor_type }
    }
}

/// A record: the one an event is about, or one it relates to.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntityOut {
    /// Record type, e.g. `booking`.
    #[serde(rename = "type")]
    pub entity_type: String,
    /// Record id in the host application.
    pub id: String,
    /// Human-readable label, e.g. `BOK-12345`.
    pub label: Option<String>,
}

impl From<EntityRef> for EntityOut {
    fn from(e: EntityRef) -> Self {
        EntityOut { entity_type: e.entity_type, id: e.id, label: e.label }
    }
}

/// One changed field. `old` is absent for a created record, `new` for a deleted one.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeOut {
    /// Name of the changed field.
    pub field: String,
    /// Previous value (any JSON); absent for a created record.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Value>)]
    pub old: Option<Value>,
    /// New value (any JSON); absent for a deleted record.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Value>)]
    pub new: Option<Value>,
}

impl From<Change> for ChangeOut {
    fn from(c: Change) -> Self {
        ChangeOut { field: c.field, old: c.old, new: c.new }
    }
}

/// A stored event (SPEC §2).
#[derive(Debug, Serialize, ToSchema)]
pub struct EventOut {
    /// Unique event id, stable forever.
    pub id: i64,
    /// Position in the tenant's hash chain, gap-free from 1.
    pub seq: i64,
    /// When it happened (UTC).
    pub occurred_at: DateTime<Utc>,
    /// When the server stored it (UTC).
    pub recorded_at: DateTime<Utc>,
    pub actor: ActorOut,
    /// `<module>.<verb>`.
    pub action: String,
    /// First segment of the action.
    pub module: String,
    /// Second segment of the action.
    pub verb: String,
    /// The affected record ("Event On"), if any.
    pub entity: Option<EntityOut>,
    /// Other records this event belongs to.
    pub related: Vec<EntityOut>,
    /// Human-readable summary.
    pub description: String,
    /// Field-level diff.
    pub changes: Vec<ChangeOut>,
    /// IP address of the actor (v4 or v6), if known.
    pub ip: Option<String>,
    /// User agent of the actor, if known.
    pub user_agent: Option<String>,
    /// Free JSON object sent with the event.
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
    /// The host application's id for the event, if it gave one.
    pub external_id: Option<String>,
    /// The event's Merkle leaf hash, SHA-256(0x00 ‖ leaf bytes), hex (docs/INTEGRITY.md). For an
    /// event stored before the tree existed (leaf format 1), its hash-chain link, to which its
    /// leaf commits; `GET /events/{id}/proof` gives the leaf hash of either.
    pub hash: String,
    /// The `hash` of the tenant's previous event (64 zeros for the first); it is part of the leaf,
    /// so the events also form a chain that a sequential check follows.
    pub prev_hash: String,
    /// Set on a deleted entry (a tombstone, shown to admins only): when its payload was removed.
    pub deleted_at: Option<DateTime<Utc>>,
    /// The actor id of the admin who deleted it.
    pub deleted_by: Option<String>,
    /// Why the server finds the event worth a security review (docs/ALERTS.md); empty for most.
    /// Not part of the signed record: the server's opinion, not the host application's.
    pub flags: Vec<FlagOut>,
    /// On a tombstone, in `GET /events/{id}` only: the deletion record that removed it (who,
    /// when, why), when the caller may see that record. Absent everywhere else.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion: Option<DeletionOut>,
    /// The fields the tenant hides from the caller's role (`GET /settings/fields`), whatever
    /// their values: `ip`, `user_agent` and `actor.email` are then `null`, `changes` empty and
    /// `metadata` `{}`, and a flag's reason that would tell of them reads "The details are hidden
    /// from your role." Absent when the caller sees every field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withheld: Vec<HiddenField>,
}

/// Who deleted a tombstone's payload, when and why: its deletion record, in short.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeletionOut {
    /// The `auditlog.deleted` event that records the deletion.
    pub record_id: i64,
    /// Who deleted it, as the record names them (name and role).
    pub actor: ActorOut,
    /// When (UTC).
    pub at: DateTime<Utc>,
    /// The reason given.
    pub reason: Option<String>,
}

impl DeletionOut {
    pub fn from_record(record: Event) -> Self {
        let reason = record.draft.metadata.get("reason").and_then(Value::as_str).map(String::from);
        DeletionOut {
            record_id: record.id.get(),
            actor: record.draft.actor.into(),
            at: record.recorded_at.and_utc(),
            reason,
        }
    }
}

/// A flag the server raised on an event when it was stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlagOut {
    #[schema(value_type = FlagKindSchema)]
    pub kind: FlagKind,
    /// Why, in words, e.g. "Sat 23:12 in Europe/London, outside business hours (Mon–Fri
    /// 07:00–20:00)".
    pub reason: String,
}

crate::text::component!(
    /// The kinds of flag, from the db crate's one list.
    FlagKindSchema = "FlagKind",
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .description(Some(
            "What a flag says: `odd_hours` (outside business hours), `new_ip` (the actor's first event \
             from this network in a while), `new_user_agent` (a new browser or system), \
             `failed_login_burst`, `bulk_delete`, `bulk_export`, `privilege_change`.",
        ))
        .enum_values(Some(FlagKind::ALL.map(FlagKind::as_str)))
        .build()
);

impl From<Event> for EventOut {
    fn from(e: Event) -> Self {
        let d = e.draft;
        EventOut {
            id: e.id.get(),
            seq: e.seq,
            occurred_at: d.occurred_at.and_utc(),
            recorded_at: e.recorded_at.and_utc(),
            actor: d.actor.into(),
            action: d.action,
            module: d.module,
            verb: d.verb,
            entity: d.entity.map(Into::into),
            related: d.related.into_iter().map(Into::into).collect(),
            description: d.description,
            changes: d.changes.into_iter().map(Into::into).collect(),
            ip: d.ip,
            user_agent: d.user_agent,
            metadata: d.metadata,
            external_id: d.external_id,
            hash: e.hash,
            prev_hash: e.prev_hash,
            deleted_at: e.deleted.as_ref().map(|(at, _)| at.and_utc()),
            deleted_by: e.deleted.map(|(_, by)| by),
            flags: e.flags.into_iter().map(|f| FlagOut { kind: f.kind, reason: f.reason }).collect(),
            deletion: None,
            withheld: e.withheld,
        }
    }
}

/// A page of events.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventListResponse {
    /// The events of this page, in the requested order.
    pub items: Vec<EventOut>,
    /// The page number, in page mode; null in cursor mode.
    pub page: Option<u32>,
    /// Page size used.
    pub per_page: u32,
    /// Matching events across all pages, in page mode; null in cursor mode.
    pub total: Option<i64>,
    /// `true` when `total` is an estimate, which it may be for large results (many matches, or a
    /// count that would be slow). Filters on nothing but actors, module, verb and action, or on
    /// nothing but dates, are counted exactly at any size (such counts are kept as events are
    /// written). An estimate is never less than the events up to and on this page, and is answered
    /// again to the same caller for the same filters for a while (the server's
    /// `ESTIMATE_REUSE_SECONDS`), so paging shows one total; an exact total is always current, and
    /// the last page's is always exact. docs/SCALING.md says how estimates are made.
    pub total_is_estimate: bool,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// A record's history: a page of its events, and how many of its entries the caller's role
/// does not show.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryResponse {
    #[serde(flatten)]
    pub page: EventListResponse,
    /// Entries of this record matching the same filters that the caller's role does not show
    /// (another user's activity for a member, admin-only entries for a manager); always 0 for an
    /// admin. Only the number is told, never what they are. Absent on a page reached by a cursor:
    /// the first page's count holds for the same filters.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub hidden: Option<i64>,
}

impl EventListResponse {
    /// A page, with its total and whether that is an estimate (page mode).
    pub fn new(page: EventPage, total: Option<(i64, bool)>, request: &ListRequest) -> Self {
        EventListResponse {
            items: page.items.into_iter().map(Into::into).collect(),
            page: match request.paging {
                Paging::Page(n) => Some(n),
                Paging::Cursor(_) => None,
            },
            per_page: request.per_page,
            total: total.map(|(n, _)| n),
            total_is_estimate: total.is_some_and(|(_, estimated)| estimated),
            next_cursor: page.next.map(|c| c.encode()),
        }
    }
}
