//! Events the server records about itself: sign-ins, account and token changes, and reads of
//! the log (an event's details, exports, archives, verifications). They take their
//! IP and user agent from the request, believing `X-Forwarded-For` only from trusted proxies.

use auditlog_db::TenantId;
use std::net::IpAddr;

use actix_web::http::header;
use actix_web::HttpRequest;
use auditlog_db::connection::DbConnection;
use auditlog_db::models::{Actor, Change, EntityRef, EventDraft};
use auditlog_db::queries::events::recorded_since;
use auditlog_db::queries::ingest::{store_submitted, SYSTEM_SUBMITTER};
use chrono::Utc;
use serde_json::{Map, Value};

use crate::events::ingest::describe;
use crate::http::error::ApiError;

pub mod sentence;

/// Where a request came from, and who made it.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The principal whose request causes the events (`user:<id>`, `token:<id>`); the server
    /// itself when absent.
    pub submitter: Option<String>,
}

impl RequestMeta {
    pub fn from_request(req: &HttpRequest, trusted: &[ipnet::IpNet]) -> Self {
        let peer = req.peer_addr().map(|a| a.ip());
        let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
        let ip = match peer {
            Some(peer) if is_trusted(&peer) => {
                // Walk X-Forwarded-For from the right: the first address not of a trusted proxy
                // is the client; anything left of it could have been forged.
                let forwarded: Vec<IpAddr> = req
                    .headers()
                    .get_all("x-forwarded-for")
                    .filter_map(|v| v.to_str().ok())
                    .flat_map(|v| v.split(','))
                    .filter_map(|part| part.trim().parse().ok())
                    .collect();
                forwarded.iter().rev().find(|ip| !is_trusted(ip)).copied().or(Some(peer))
            }
            other => other,
        };
        let user_agent = req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(512).collect::<String>())
            .filter(|ua| !ua.trim().is_empty());
        RequestMeta { ip: ip.map(|ip| ip.to_string()), user_agent, submitter: None }
    }

    /// The same request, made by `submitter`.
    pub fn by(mut self, submitter: String) -> Self {
        self.submitter = Some(submitter);
        self
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn meta(peer: &str, forwarded: Option<&str>, trusted: &str) -> Option<String> {
        let mut req = TestRequest::default().peer_addr(format!("{peer}:4000").parse().unwrap());
        if let Some(f) = forwarded {
            req = req.insert_header(("x-forwarded-for", f));
        }
        RequestMeta::from_request(&req.to_http_request(), &crate::config::parse_proxies(trusted).unwrap()).ip
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        assert_eq!(meta("203.0.113.9", Some("1.2.3.4"), "").as_deref(), Some("203.0.113.9"));
        assert_eq!(meta("10.0.0.2", Some("1.2.3.4"), "10.0.0.0/8").as_deref(), Some("1.2.3.4"));
        // A forged left-most entry is skipped: the proxy appended the real client.
        assert_eq!(
            meta("10.0.0.2", Some("6.6.6.6, 1.2.3.4, 10.0.0.3"), "10.0.0.0/8").as_deref(),
            Some("1.2.3.4")
        );
        assert_eq!(meta("10.0.0.2", None, "10.0.0.2").as_deref(), Some("10.0.0.2"));
    }
}
