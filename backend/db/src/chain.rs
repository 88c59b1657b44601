//! The per-tenant hash chain: `hash = SHA-256(prev_hash ‖ canonical bytes of the event)`.
//!
//! Canonical bytes are a JSON object with keys sorted by byte order, no insignificant white
//! space, strings escaped as `serde_json` does, and these members:
//! `action, admin_private, actor{email,id,name,role,type}, changes, description, entity, external_id,
//! ip, metadata, occurred_at, recorded_at, related, seq, tenant_id, user_agent`, where absent
//! values are `null`, timestamps are UTC RFC 3339 with exactly six fractional digits and a `Z`,
//! and nested JSON values (changes, related, metadata) are canonicalised the same way.
//! `prev_hash` of a tenant's first event is 64 zeros; hashes are lower-case hex.

use chrono::NaiveDateTime;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The hash that precedes a tenant's first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The stored fields that the chain covers, borrowed from a row.
#[derive(Clone, Copy)]
pub struct ChainInput<'a> {
    pub tenant_id: i64,
    pub seq: i64,
    pub external_id: Option<&'a str>,
    pub occurred_at: NaiveDateTime,
    pub recorded_at: NaiveDateTime,
    pub actor_id: &'a str,
    pub actor_type: &'a str,
    pub actor_name: &'a str,
    pub actor_email: Option<&'a str>,
    pub actor_role: Option<&'a str>,
    pub admin_private: bool,
    pub action: &'a str,
    pub entity_type: Option<&'a str>,
    pub entity_id: Option<&'a str>,
    pub entity_label: Option<&'a str>,
    pub description: &'a str,
    /// Stored JSON text of the changes, related records and metadata.
    pub changes: &'a str,
    pub related: &'a str,
    pub metadata: &'a str,
    pub ip: &'a str,
    pub user_agent: Option<&'a str>,
}

/// Formats a timestamp the one way the chain accepts.
pub fn canonical_time(t: NaiveDateTime) -> String {
    t.and_utc().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// The canonical encoding of an event; stored JSON that does not parse is hashed as its raw text,
/// so corruption shows up as a hash mismatch rather than an error.
pub fn canonical_bytes(input: &ChainInput<'_>) -> Vec<u8> {
    let parse =
        |text: &str| serde_json::from_str::<Value>(text).unwrap_or_else(|_| Value::String(text.to_string()));
    let entity = match (input.entity_type, input.entity_id) {
        (Some(t), Some(id)) => json!({ "type": t, "id": id, "label": input.entity_label }),
        _ => Value::Null,
    };
    let value = json!({
        "action": input.action,
        "admin_private": input.admin_private,
        "actor": {
            "email": input.actor_email,
            "id": input.actor_id,
            "name": input.actor_name,
            "role": input.actor_role,
            "type": input.actor_type,
        },
        "changes": parse(input.changes),
        "description": input.description,
        "entity": entity,
        "external_id": input.external_id,
        "ip": input.ip,
        "metadata": parse(input.metadata),
        "occurred_at": canonical_time(input.occurred_at),
        "recorded_at": canonical_time(input.recorded_at),
        "related": parse(input.related),
        "seq": input.seq,
        "tenant_id": input.tenant_id,
        "user_agent": input.user_agent,
    });
    let mut out = Vec::with_capacity(512);
    write_canonical(&value, &mut out);
    out
}

/// `SHA-256(prev_hash ‖ canonical bytes)` as lower-case hex.
pub fn event_hash(prev_hash: &str, input: &ChainInput<'_>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(canonical_bytes(input));
    hex::encode(hasher.finalize())
}

/// Writes JSON with object keys sorted, whatever map order serde_json was built with.
pub fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push(b'{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(Value::String(key.clone()).to_string().as_bytes());
                out.push(b':');
                write_canonical(&map[key.as_str()], out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        scalar => out.extend_from_slice(scalar.to_string().as_bytes()),
    }
}

/// Canonical JSON text of a value (used to fingerprint idempotent requests, too).
pub fn canonical_json(value: &Value) -> String {
    let mut out = Vec::new();
    write_canonical(value, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_at_every_depth() {
        let v: Value = serde_json::from_str(r#"{"b":1,"a":{"z":[{"y":2,"x":1}],"c":null}}"#).unwrap();
        assert_eq!(canonical_json(&v), r#"{"a":{"c":null,"z":[{"x":1,"y":2}]},"b":1}"#);
    }

    #[test]
    fn hash_changes_with_any_covered_field_and_with_the_predecessor() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05.123456Z").unwrap().naive_utc();
        let base = ChainInput {
            tenant_id: 1,
            seq: 1,
            external_id: None,
            occurred_at: t,
            recorded_at: t,
            actor_id: "7",
            actor_type: "user",
            actor_name: "Ann",
            actor_email: None,
            actor_role: None,
            admin_private: false,
            action: "booking.created",
            entity_type: None,
            entity_id: None,
            entity_label: None,
            description: "Ann created a booking",
            changes: "[]",
            related: "[]",
            metadata: "{}",
            ip: "",
            user_agent: None,
        };
        let h = event_hash(GENESIS_HASH, &base);
        assert_eq!(h.len(), 64);
        assert_eq!(h, event_hash(GENESIS_HASH, &base), "deterministic");
        assert_ne!(h, event_hash(&h, &base), "depends on prev_hash");
        assert_ne!(h, event_hash(GENESIS_HASH, &ChainInput { description: "x", ..base }));
        let text = String::from_utf8(canonical_bytes(&base)).unwrap();
        assert!(text.contains(r#""occurred_at":"2026-01-02T03:04:05.123456Z""#), "{text}");
    }
}
