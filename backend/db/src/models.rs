//! Rows as stored, and the domain types they decode into.

use crate::ids::{EventId, TenantId, UserId};
use std::fmt;
use std::str::FromStr;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::chain::ChainInput;
use crate::error::StoreError;
use crate::leaf::LeafInput;
use crate::schema::{event_related, events, tenants, users};

/// Action namespaces the product writes itself: clients may not post them, and their events are
/// never deleted.
pub const PRODUCT_NAMESPACES: [&str; 6] = ["alert_rule", "auditlog", "auth", "integrity", "token", "user"];

/// A dashboard user's role (SPEC §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Manager,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Member => "member",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "admin" => Ok(Role::Admin),
            "manager" => Ok(Role::Manager),
            "member" => Ok(Role::Member),
            other => Err(format!("unknown role {other:?}: expected admin, manager or member")),
        }
    }
}

impl TryFrom<String> for Role {
    type Error = String;
    fn try_from(stored: String) -> Result<Self, String> {
        stored.parse()
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tenants)]
pub struct Tenant {
    pub id: TenantId,
    pub slug: String,
    pub name: String,
    pub timezone: String,
    pub head_seq: i64,
    pub head_hash: String,
    pub created_at: NaiveDateTime,
    /// Days events are kept before archiving; `None` keeps them forever.
    pub retention_days: Option<i32>,
    /// Seq and hash of the last archived event: where the live chain starts.
    pub chain_base_seq: i64,
    pub chain_base_hash: String,
    /// How many leaves of the tenant's Merkle tree have their nodes stored (equal to `head_seq`
    /// once built).
    pub tree_size: i64,
    /// What its flags take as unusual, as JSON (`None`: the defaults); see
    /// [`crate::flags::ReviewSettings::from_stored`].
    pub review_settings: Option<String>,
    /// Which event fields each role may not see, as JSON (`None`: the defaults); see
    /// [`crate::visibility::FieldVisibility::from_stored`].
    pub field_visibility: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: UserId,
    pub tenant_id: TenantId,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    /// Read through [`Role`]'s `TryFrom<String>`: a stored value that is not a role fails the
    /// query instead of reading as some default.
    #[diesel(deserialize_as = String)]
    pub role: Role,
    pub actor_id: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Moves on a password change or a deactivation: access tokens of earlier epochs are void.
    pub session_epoch: i32,
    /// The last successful password sign-in.
    pub last_sign_in_at: Option<NaiveDateTime>,
}

impl User {
    pub fn role(&self) -> Role {
        self.role
    }
}

/// Who performed an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Actor {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub role: Option<String>,
    /// `user`, `system` or `api`.
    pub actor_type: String,
}

/// A record an event is about or related to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EntityRef {
    #[serde(rename = "type")]
    pub entity_type: String,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// One field-level change. `old`/`new` are absent (not null) when the side does not exist:
/// a created record has only `new`, a deleted one only `old`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub field: String,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
}

/// Keeps an explicit JSON `null` as `Some(Null)`; only a missing key is `None`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// A validated event, ready to be stored (no seq, hash or id yet).
#[derive(Debug, Clone, PartialEq)]
pub struct EventDraft {
    pub external_id: Option<String>,
    pub occurred_at: NaiveDateTime,
    pub actor: Actor,
    pub action: String,
    pub module: String,
    pub verb: String,
    pub entity: Option<EntityRef>,
    pub related: Vec<EntityRef>,
    pub description: String,
    pub changes: Vec<Change>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub metadata: Map<String, Value>,
}

/// A stored event row; also the line format of archive files.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, Deserialize)]
#[diesel(table_name = events)]
pub struct EventRow {
    pub id: EventId,
    pub tenant_id: TenantId,
    pub seq: i64,
    pub external_id: Option<String>,
    pub occurred_at: NaiveDateTime,
    pub recorded_at: NaiveDateTime,
    pub actor_id: String,
    pub actor_type: String,
    pub actor_name: String,
    pub actor_email: Option<String>,
    pub actor_role: Option<String>,
    pub admin_private: bool,
    pub action: String,
    pub module: String,
    pub verb: String,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub entity_label: Option<String>,
    pub description: String,
    pub changes: String,
    pub related: String,
    pub metadata: String,
    pub ip: String,
    pub user_agent: Option<String>,
    pub prev_hash: String,
    pub hash: String,
    pub deleted_at: Option<NaiveDateTime>,
    pub deleted_by: Option<String>,
    /// 2 for events stored with the tree ([`crate::leaf`]), 1 for older ones.
    #[serde(default = "legacy_format")]
    pub leaf_version: i32,
    /// Who posted it: `user:<id>`, `token:<id>` or `system`.
    #[serde(default)]
    pub submitted_by: Option<String>,
    /// Format 2: the salt of the personal-data digests (hex) while the values are there; a
    /// tombstone keeps the digests themselves here (a JSON object), to recompute its leaf.
    #[serde(default)]
    pub salt: Option<String>,
    /// The flags raised when it was stored ([`crate::flags`]): a bit set, and the reasons.
    #[serde(default)]
    pub flags: i32,
    #[serde(default)]
    pub flag_reasons: Option<String>,
}

fn legacy_format() -> i32 {
    crate::leaf::LEGACY_FORMAT
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = events, treat_none_as_default_value = false)]
pub struct NewEventRow {
    pub id: EventId,
    pub tenant_id: TenantId,
    pub seq: i64,
    pub external_id: Option<String>,
    pub occurred_at: NaiveDateTime,
    pub recorded_at: NaiveDateTime,
    pub actor_id: String,
    pub actor_type: String,
    pub actor_name: String,
    pub actor_email: Option<String>,
    pub actor_role: Option<String>,
    pub admin_private: bool,
    pub action: String,
    pub module: String,
    pub verb: String,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub entity_label: Option<String>,
    pub description: String,
    pub changes: String,
    pub related: String,
    pub metadata: String,
    pub ip: String,
    pub user_agent: Option<String>,
    pub search_text: String,
    pub ip_key: String,
    pub prev_hash: String,
    pub hash: String,
    pub leaf_version: i32,
    pub submitted_by: Option<String>,
    pub salt: Option<String>,
    pub flags: i32,
    pub flag_reasons: Option<String>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = event_related, treat_none_as_default_value = false)]
pub struct NewEventRelated {
    pub tenant_id: TenantId,
    pub entity_type: String,
    pub entity_id: String,
    pub event_id: EventId,
}

/// A stored event, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: EventId,
    pub tenant_id: TenantId,
    pub seq: i64,
    pub recorded_at: NaiveDateTime,
    pub admin_private: bool,
    pub prev_hash: String,
    pub hash: String,
    /// Set on a tombstone: when its payload was removed, and by which admin (actor id).
    pub deleted: Option<(NaiveDateTime, String)>,
    /// Raised when it was stored; not part of the signed record.
    pub flags: Vec<crate::flags::Flag>,
    pub draft: EventDraft,
    /// The fields masked for the reader it was read for ([`crate::visibility::mask`]); empty
    /// when they see everything.
    pub withheld: Vec<crate::visibility::HiddenField>,
}

impl TryFrom<EventRow> for Event {
    type Error = StoreError;

    fn try_from(row: EventRow) -> Result<Self, StoreError> {
        let deleted = row.deleted_at.map(|at| (at, row.deleted_by.clone().unwrap_or_default()));
        let corrupt = |what: &str, e: serde_json::Error| {
            StoreError::Corrupt(format!("event {} has unreadable {what}: {e}", row.id))
        };
        let changes = serde_json::from_str(&row.changes).map_err(|e| corrupt("changes", e))?;
        let related = serde_json::from_str(&row.related).map_err(|e| corrupt("related", e))?;
        let metadata = serde_json::from_str(&row.metadata).map_err(|e| corrupt("metadata", e))?;
        let entity = match (row.entity_type, row.entity_id) {
            (Some(entity_type), Some(id)) => Some(EntityRef { entity_type, id, label: row.entity_label }),
            _ => None,
        };
        Ok(Event {
            id: row.id,
            tenant_id: row.tenant_id,
            seq: row.seq,
            recorded_at: row.recorded_at,
            admin_private: row.admin_private,
            prev_hash: row.prev_hash,
            hash: row.hash,
            deleted,
            flags: crate::flags::decode(row.flags, row.flag_reasons.as_deref()),
            draft: EventDraft {
                external_id: row.external_id,
                occurred_at: row.occurred_at,
                actor: Actor {
                    id: row.actor_id,
                    name: row.actor_name,
                    email: row.actor_email,
                    role: row.actor_role,
                    actor_type: row.actor_type,
                },
                action: row.action,
                module: row.module,
                verb: row.verb,
                entity,
                related,
                description: row.description,
                changes,
                ip: Some(row.ip).filter(|ip| !ip.is_empty()),
                user_agent: row.user_agent,
                metadata,
            },
            withheld: Vec::new(),
        })
    }
}

/// The fields the hash chain covers, identical for a row about to be stored and a stored one.
macro_rules! chain_input {
    ($row:ty) => {
        impl $row {
            pub fn chain_input(&self) -> ChainInput<'_> {
                ChainInput {
                    tenant_id: self.tenant_id,
                    seq: self.seq,
                    external_id: self.external_id.as_deref(),
                    occurred_at: self.occurred_at,
                    recorded_at: self.recorded_at,
                    actor_id: &self.actor_id,
                    actor_type: &self.actor_type,
                    actor_name: &self.actor_name,
                    actor_email: self.actor_email.as_deref(),
                    actor_role: self.actor_role.as_deref(),
                    admin_private: self.admin_private,
                    action: &self.action,
                    entity_type: self.entity_type.as_deref(),
                    entity_id: self.entity_id.as_deref(),
                    entity_label: self.entity_label.as_deref(),
                    description: &self.description,
                    changes: &self.changes,
                    related: &self.related,
                    metadata: &self.metadata,
                    ip: &self.ip,
                    user_agent: self.user_agent.as_deref(),
                }
            }
        }
    };
}
chain_input!(NewEventRow);
chain_input!(EventRow);

/// The fields a format-2 leaf covers, identical for a row about to be stored and a stored one.
macro_rules! leaf_input {
    ($row:ty) => {
        impl $row {
            pub fn leaf_input(&self) -> LeafInput<'_> {
                LeafInput {
                    id: self.id.get(),
                    tenant_id: self.tenant_id,
                    seq: self.seq,
                    prev_hash: &self.prev_hash,
                    external_id: self.external_id.as_deref(),
                    occurred_at: self.occurred_at,
                    recorded_at: self.recorded_at,
                    actor_id: &self.actor_id,
                    actor_type: &self.actor_type,
                    actor_name: &self.actor_name,
                    actor_email: self.actor_email.as_deref(),
                    actor_role: self.actor_role.as_deref(),
                    admin_private: self.admin_private,
                    action: &self.action,
                    entity_type: self.entity_type.as_deref(),
                    entity_id: self.entity_id.as_deref(),
                    entity_label: self.entity_label.as_deref(),
                    description: &self.description,
                    changes: &self.changes,
                    related: &self.related,
                    metadata: &self.metadata,
                    ip: &self.ip,
                    user_agent: self.user_agent.as_deref(),
                    submitted_by: self.submitted_by.as_deref().unwrap_or_default(),
                    salt: self.salt.as_deref().filter(|s| !s.starts_with('{')),
                    digests: self.salt.as_deref().filter(|s| s.starts_with('{')),
                }
            }
        }
    };
}
leaf_input!(NewEventRow);
leaf_input!(EventRow);

impl EventRow {
    /// The leaf bytes its stored content gives: format 2 from the row (a tombstone's from its kept
    /// fields and digests), format 1 from its chain hash. (`Option` for callers that show none.)
    pub fn leaf_bytes(&self) -> Result<Option<Vec<u8>>, String> {
        match self.leaf_version {
            crate::leaf::LEGACY_FORMAT => {
                Ok(Some(crate::leaf::legacy_leaf_bytes(self.id.get(), self.seq, &self.hash)))
            }
            crate::leaf::LEAF_FORMAT => crate::leaf::leaf_bytes(&self.leaf_input()).map(Some),
            other => Err(format!("unknown leaf format {other}")),
        }
    }

    /// The leaf hash the row stands for in the tree: `hash` itself for format 2, the hash of its
    /// format-1 leaf otherwise.
    pub fn tree_leaf(&self) -> Option<auditlog_tlog::Hash> {
        if self.leaf_version == crate::leaf::LEGACY_FORMAT {
            Some(auditlog_tlog::merkle::leaf_hash(&crate::leaf::legacy_leaf_bytes(
                self.id.get(),
                self.seq,
                &self.hash,
            )))
        } else {
            crate::leaf::decode_hash(&self.hash)
        }
    }
}

/// What an integrator token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scope {
    #[serde(rename = "events:write")]
    EventsWrite,
    #[serde(rename = "events:read")]
    EventsRead,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::EventsWrite => "events:write",
            Scope::EventsRead => "events:read",
        }
    }
}

impl FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "events:write" => Ok(Scope::EventsWrite),
            "events:read" => Ok(Scope::EventsRead),
            other => Err(format!("unknown scope {other:?}: expected events:write or events:read")),
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = crate::schema::api_tokens)]
pub struct ApiToken {
    pub id: i64,
    pub tenant_id: TenantId,
    pub name: String,
    /// Space-separated scopes.
    pub scopes: String,
    pub secret_hash: String,
    pub created_by: UserId,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
}

impl ApiToken {
    pub fn scopes(&self) -> Vec<Scope> {
        self.scopes.split_whitespace().filter_map(|s| s.parse().ok()).collect()
    }

    pub fn has_scope(&self, scope: Scope) -> bool {
        self.scopes().contains(&scope)
    }

    /// Usable now: neither revoked nor expired.
    pub fn is_live(&self, now: NaiveDateTime) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|t| t > now)
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = crate::schema::archives)]
pub struct Archive {
    pub id: i64,
    pub tenant_id: TenantId,
    /// File name inside the tenant's folder of `ARCHIVE_DIR`.
    pub file_name: String,
    pub first_seq: i64,
    pub last_seq: i64,
    pub event_count: i64,
    pub first_recorded_at: NaiveDateTime,
    pub last_recorded_at: NaiveDateTime,
    /// Hash the first archived event links to.
    pub prev_hash: String,
    /// Hash of the last archived event: the checkpoint the live chain continues from.
    pub last_hash: String,
    /// SHA-256 of the file.
    pub sha256: String,
    pub size_bytes: i64,
    pub created_at: NaiveDateTime,
}
