//! The per-tenant hash chain: `hash = SHA-256(prev_hash ‖ canonical bytes of the event)`.
//!
//! Canonical bytes are a JSON object with keys sorted by byte order, no insignificant white
//! space, strings escaped as `serde_json` does, and these members:
//! `action, admin_private, actor{email,id,name,role,type}, changes, description, entity, external_id,
//! ip, metadata, occurred_at, recorded_at, related, seq, tenant_id, user_agent`, where absent
//! values are `null`, timestamps are UTC RFC 3339 with exactly six fractional digits and a `Z`,
//! and nested JSON values (changes, related, metadata) are canonical the same way (they are stored
//! canonical, and hashed as stored).
//! `prev_hash` of a tenant's first event is 64 zeros; hashes are lower-case hex.

use crate::ids::TenantId;
use chrono::NaiveDateTime;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The hash that precedes a tenant's first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The stored fields that the chain covers, borrowed from a row.
#[derive(Clone, Copy)]
pub struct ChainInput<'a> {
    pub tenant_id: TenantId,
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

/// Formats a timestamp the one way the chain accepts: `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
pub fn canonical_time(t: NaiveDateTime) -> String {
    use chrono::{Datelike, Timelike};
    // Written by hand: this runs twice per event on every verification.
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.nanosecond() / 1000 % 1_000_000
    )
}

/// The canonical encoding of an event, written directly in key order. The stored JSON of
/// `changes`, `related` and `metadata` is already canonical (ingest stores it so) and is
/// included as stored: any later change to it, even to its formatting, breaks the hash.
pub fn canonical_bytes(input: &ChainInput<'_>) -> Vec<u8> {
    fn string(out: &mut Vec<u8>, s: &str) {
        let _ = serde_json::to_writer(&mut *out, s);
    }
    fn optional(out: &mut Vec<u8>, s: Option<&str>) {
        match s {
            Some(s) => string(out, s),
            None => out.extend_from_slice(b"null"),
        }
    }
    fn key(out: &mut Vec<u8>, name: &str, first: bool) {
        if !first {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\":");
    }
    let mut out = Vec::with_capacity(
        256 + input.description.len() + input.changes.len() + input.related.len() + input.metadata.len(),
    );
    out.push(b'{');
    key(&mut out, "action", true);
    string(&mut out, input.action);
    key(&mut out, "actor", false);
    out.push(b'{');
    key(&mut out, "email", true);
    optional(&mut out, input.actor_email);
    key(&mut out, "id", false);
    string(&mut out, input.actor_id);
    key(&mut out, "name", false);
    string(&mut out, input.actor_name);
    key(&mut out, "role", false);
    optional(&mut out, input.actor_role);
    key(&mut out, "type", false);
    string(&mut out, input.actor_type);
    out.push(b'}');
    key(&mut out, "admin_private", false);
    out.extend_from_slice(if input.admin_private { b"true" } else { b"false" });
    key(&mut out, "changes", false);
    out.extend_from_slice(input.changes.as_bytes());
    key(&mut out, "description", false);
    string(&mut out, input.description);
    key(&mut out, "entity", false);
    match (input.entity_type, input.entity_id) {
        (Some(entity_type), Some(id)) => {
            out.push(b'{');
            key(&mut out, "id", true);
            string(&mut out, id);
            key(&mut out, "label", false);
            optional(&mut out, input.entity_label);
            key(&mut out, "type", false);
            string(&mut out, entity_type);
            out.push(b'}');
        }
        _ => out.extend_from_slice(b"null"),
    }
    key(&mut out, "external_id", false);
    optional(&mut out, input.external_id);
    key(&mut out, "ip", false);
    string(&mut out, input.ip);
    key(&mut out, "metadata", false);
    out.extend_from_slice(input.metadata.as_bytes());
    key(&mut out, "occurred_at", false);
    string(&mut out, &canonical_time(input.occurred_at));
    key(&mut out, "recorded_at", false);
    string(&mut out, &canonical_time(input.recorded_at));
    key(&mut out, "related", false);
    out.extend_from_slice(input.related.as_bytes());
    key(&mut out, "seq", false);
    out.extend_from_slice(input.seq.to_string().as_bytes());
    key(&mut out, "tenant_id", false);
    out.extend_from_slice(input.tenant_id.to_string().as_bytes());
    key(&mut out, "user_agent", false);
    optional(&mut out, input.user_agent);
    out.push(b'}');
    out
}

/// Stored JSON text of a value, in canonical form (what ingest writes to `changes`, `related`
/// and `metadata`).
pub fn stored_json<T: serde::Serialize>(value: &T, empty: &str) -> String {
    serde_json::to_value(value).map(|v| canonical_json(&v)).unwrap_or_else(|_| empty.to_string())
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
    fn times_have_exactly_six_fractional_digits() {
        let t = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().naive_utc();
        assert_eq!(canonical_time(t("2026-01-02T03:04:05Z")), "2026-01-02T03:04:05.000000Z");
        assert_eq!(canonical_time(t("2026-12-31T23:59:59.123456789Z")), "2026-12-31T23:59:59.123456Z");
        assert_eq!(canonical_time(t("0999-01-01T00:00:00.5+00:00")), "0999-01-01T00:00:00.500000Z");
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_depth() {
        let v: Value = serde_json::from_str(r#"{"b":1,"a":{"z":[{"y":2,"x":1}],"c":null}}"#).unwrap();
        assert_eq!(canonical_json(&v), r#"{"a":{"c":null,"z":[{"x":1,"y":2}]},"b":1}"#);
    }

    /// The direct writer must produce exactly the sorted-key JSON of the same members.
    #[test]
    fn direct_encoding_equals_sorted_json() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05.1Z").unwrap().naive_utc();
        let changes = canonical_json(&serde_json::json!([{"new": "é\"\n", "field": "x"}]));
        let input = ChainInput {
            tenant_id: crate::TenantId(3),
            seq: 42,
            external_id: Some("ext\\1"),
            occurred_at: t,
            recorded_at: t,
            actor_id: "7",
            actor_type: "user",
            actor_name: "Zoë \"Z\"",
            actor_email: Some("z@x"),
            actor_role: None,
            admin_private: true,
            action: "booking.created",
            entity_type: Some("booking"),
            entity_id: Some("9"),
            entity_label: None,
            description: "tab\there",
            changes: &changes,
            related: "[]",
            metadata: "{\"a\":1}",
            ip: "::1",
            user_agent: Some("UA"),
        };
        let expected = serde_json::json!({
            "action": "booking.created", "admin_private": true,
            "actor": {"email": "z@x", "id": "7", "name": "Zoë \"Z\"", "role": null, "type": "user"},
            "changes": serde_json::from_str::<Value>(&changes).unwrap(), "description": "tab\there",
            "entity": {"id": "9", "label": null, "type": "booking"}, "external_id": "ext\\1", "ip": "::1",
            "metadata": {"a": 1}, "occurred_at": "2026-01-02T03:04:05.100000Z", "recorded_at": "2026-01-02T03:04:05.100000Z",
            "related": [], "seq": 42, "tenant_id": 3, "user_agent": "UA"
        });
        assert_eq!(String::from_utf8(canonical_bytes(&input)).unwrap(), canonical_json(&expected));
    }

    #[test]
    fn hash_changes_with_any_covered_field_and_with_the_predecessor() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05.123456Z").unwrap().naive_utc();
        let base = ChainInput {
            tenant_id: crate::TenantId(1),
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
