//! Events the server records about itself: sign-ins, account and token changes, and reads of
//! the log (an event's details, exports, archives, verifications). They take their
//! IP and user agent from the request, believing `X-Forwarded-For` only from trusted proxies.

use auditlog_db::TenantId;

use auditlog_db::connection::DbConnection;
use auditlog_db::models::{Actor, Change, EntityRef, EventDraft};
use auditlog_db::queries::events::recorded_since;
use auditlog_db::queries::ingest::{store_submitted, SYSTEM_SUBMITTER};
use chrono::Utc;
use serde_json::{Map, Value};

use crate::events::ingest::describe;
use crate::http::error::ApiError;
pub use crate::http::origin::RequestMeta;

pub mod sentence;

/// One event the server records.
pub struct AuditEvent {
    pub action: &'static str,
    pub actor: Actor,
    pub entity: Option<EntityRef>,
    pub changes: Vec<Change>,
    pub metadata: Map<String, Value>,
}

impl AuditEvent {
    pub fn new(action: &'static str, actor: Actor) -> Self {
        AuditEvent { action, actor, entity: None, changes: Vec::new(), metadata: Map::new() }
    }

    pub fn on(mut self, entity_type: &str, id: impl ToString, label: Option<String>) -> Self {
        self.entity = Some(EntityRef { entity_type: entity_type.into(), id: id.to_string(), label });
        self
    }

    pub fn changes(mut self, changes: Vec<Change>) -> Self {
        self.changes = changes;
        self
    }

    pub fn meta(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// Stores the event unless its actor recorded the same action on the same record within
    /// `window` (reads are logged once per reader, record and period, so that the log does not
    /// drown in itself). A read already recorded is found without a lock (most reads: nothing
    /// to write); otherwise the check is made again under the tenant's lock, with the write:
    /// parallel reads record one event.
    pub fn record_once_within(
        self,
        conn: &mut DbConnection,
        tenant_id: TenantId,
        request: &RequestMeta,
        window: chrono::TimeDelta,
    ) -> Result<Option<auditlog_db::EventId>, ApiError> {
        let Some(entity) = self.entity.clone() else {
            return self.record(conn, tenant_id, request).map(Some);
        };
        let since = Utc::now().naive_utc() - window;
        let target = (entity.entity_type.as_str(), entity.id.as_str());
        if recorded_since(conn, tenant_id, self.action, &self.actor.id, target, since)? {
            return Ok(None);
        }
        conn.atomically(|conn| {
            auditlog_db::queries::tenants::lock(conn, tenant_id)?;
            if recorded_since(conn, tenant_id, self.action, &self.actor.id, target, since)? {
                return Ok(None);
            }
            self.record(conn, tenant_id, request).map(Some)
        })
    }

    /// Stores the event in `tenant_id`'s trail; returns its id.
    pub fn record(
        self,
        conn: &mut DbConnection,
        tenant_id: TenantId,
        request: &RequestMeta,
    ) -> Result<auditlog_db::EventId, ApiError> {
        let now = Utc::now();
        let (module, verb) = self.action.split_once('.').unwrap_or((self.action, ""));
        let draft = EventDraft {
            external_id: None,
            occurred_at: now.naive_utc(),
            description: sentence::sentence(&self)
                .unwrap_or_else(|| describe(&self.actor, verb, module, self.entity.as_ref())),
            actor: self.actor,
            action: self.action.into(),
            module: module.into(),
            verb: verb.into(),
            entity: self.entity,
            related: Vec::new(),
            changes: self.changes,
            ip: request.ip.clone(),
            user_agent: request.user_agent.clone(),
            metadata: self.metadata,
        };
        let submitter = request.submitter.as_deref().unwrap_or(SYSTEM_SUBMITTER);
        let (outcome, _) = store_submitted(conn, tenant_id, submitter, None, &[draft], now.naive_utc())?;
        outcome.ids.first().copied().ok_or_else(|| ApiError::internal("the event was not stored"))
    }
}
