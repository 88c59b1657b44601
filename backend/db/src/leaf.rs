//! The bytes of an event's Merkle leaf (docs/INTEGRITY.md).
//!
//! **Format 2** (every event stored since the tree exists) is canonical JSON — keys sorted by byte
//! order, no insignificant white space, strings escaped as `serde_json` does, timestamps UTC with
//! six fractional digits — with these members:
//! `action, actor{role,type}, admin_private, entity{type}|null, id, occurred_at, personal{…},
//! prev, recorded_at, seq, submitter, tenant, v` (= 2).
//! Whatever may identify a person — [`PERSONAL_FIELDS`]: the actor's id, name and e-mail, the
//! record's id and label, the host's event id, description, changes, related records, metadata,
//! IP and user agent — is not in the leaf itself: `personal` maps each name to
//! `hex(SHA-256(salt ‖ name ‖ 0x00 ‖ canonical JSON of the value))`, with a random 16-byte salt
//! kept beside the event. A tombstone keeps the digests and loses the values and the salt, so its
//! leaf still recomputes from what it kept; erasing a person's data later works the same way.
//! `prev` is the previous event's `hash`, so the leaves also form a chain that a sequential check
//! can follow.
//!
//! **Format 1** is the leaf of an event stored before the tree existed: `{"chain_hash", "id",
//! "seq", "v": 1}`, committing to the event's hash-chain link ([`crate::chain`]), which in turn
//! covers its content.

use crate::ids::TenantId;
use chrono::NaiveDateTime;
use sha2::{Digest, Sha256};

use crate::chain::canonical_time;

/// The current leaf format.
pub const LEAF_FORMAT: i32 = 2;
/// Format of events stored before the tree existed.
pub const LEGACY_FORMAT: i32 = 1;
/// Bytes of a personal-data salt.
pub const SALT_BYTES: usize = 16;

/// The stored fields a format-2 leaf covers, borrowed from a row.
#[derive(Clone, Copy)]
pub struct LeafInput<'a> {
    pub id: i64,
    pub tenant_id: TenantId,
    pub seq: i64,
    pub prev_hash: &'a str,
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
    /// Stored (canonical) JSON text.
    pub changes: &'a str,
    pub related: &'a str,
    pub metadata: &'a str,
    /// `""` when unknown.
    pub ip: &'a str,
    pub user_agent: Option<&'a str>,
    pub submitted_by: &'a str,
    /// Hex of the personal-data salt, while the values are there.
    pub salt: Option<&'a str>,
    /// The personal-data digests kept once the values and salt are gone (a JSON object).
    pub digests: Option<&'a str>,
}

/// The personal fields, by name, in the order of the leaf's `personal` object.
pub const PERSONAL_FIELDS: [&str; 12] = [
    "actor_email",
    "actor_id",
    "actor_name",
    "changes",
    "description",
    "entity_id",
    "entity_label",
    "external_id",
    "ip",
    "metadata",
    "related",
    "user_agent",
];

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

/// The personal fields of an event, in [`PERSONAL_FIELDS`] order, each as the canonical JSON its
/// digest covers.
pub fn personal_values(input: &LeafInput<'_>) -> [Vec<u8>; 12] {
    let text = |s: Option<&str>| {
        let mut out = Vec::new();
        optional(&mut out, s);
        out
    };
    [
        text(input.actor_email),
        text(Some(input.actor_id)),
        text(Some(input.actor_name)),
        input.changes.as_bytes().to_vec(),
        text(Some(input.description)),
        text(input.entity_id),
        text(input.entity_label),
        text(input.external_id),
        text(Some(input.ip).filter(|ip| !ip.is_empty())),
        input.metadata.as_bytes().to_vec(),
        input.related.as_bytes().to_vec(),
        text(input.user_agent),
    ]
}

/// The digests of an event's personal data: from its values and salt while they are there, else
/// the ones kept with its tombstone. In [`PERSONAL_FIELDS`] order.
pub fn personal_digests(input: &LeafInput<'_>) -> Result<Vec<String>, String> {
    if let Some(salt) = input.salt {
        let salt =
            hex::decode(salt).ok().filter(|s| s.len() == SALT_BYTES).ok_or("the salt is not 16 bytes")?;
        return Ok(PERSONAL_FIELDS
            .iter()
            .zip(personal_values(input))
            .map(|(name, value)| personal_digest(&salt, name, &value))
            .collect());
    }
    let kept: serde_json::Map<String, serde_json::Value> = input
        .digests
        .and_then(|d| serde_json::from_str(d).ok())
        .ok_or("neither the personal data's salt nor its digests are there")?;
    PERSONAL_FIELDS
        .iter()
        .map(|name| {
            kept.get(*name)
                .and_then(|d| d.as_str())
                .filter(|d| d.len() == 64 && d.bytes().all(|b| b.is_ascii_hexdigit()))
                .map(String::from)
                .ok_or_else(|| format!("the kept digest of `{name}` is missing"))
        })
        .collect()
}

/// The digests as the JSON object a tombstone keeps.
pub fn digests_json(input: &LeafInput<'_>) -> Result<String, String> {
    let digests = personal_digests(input)?;
    let map: serde_json::Map<String, serde_json::Value> =
        PERSONAL_FIELDS.iter().zip(digests).map(|(n, d)| (n.to_string(), d.into())).collect();
    Ok(serde_json::Value::Object(map).to_string())
}

/// `hex(SHA-256(salt ‖ name ‖ 0x00 ‖ value))`.
pub fn personal_digest(salt: &[u8], name: &str, value: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(salt);
    hasher.update(name.as_bytes());
    hasher.update([0u8]);
    hasher.update(value);
    hex::encode(hasher.finalize())
}

/// A new random salt, as hex.
pub fn new_salt() -> String {
    let mut salt = [0u8; SALT_BYTES];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut salt);
    hex::encode(salt)
}

/// The format-2 leaf bytes, or why they cannot be made (no salt and no kept digests, a bad salt).
pub fn leaf_bytes(input: &LeafInput<'_>) -> Result<Vec<u8>, String> {
    Ok(leaf_bytes_with(input, &personal_digests(input)?))
}

/// The format-2 leaf bytes with the personal digests already made ([`personal_digests`]).
pub fn leaf_bytes_with(input: &LeafInput<'_>, digests: &[String]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1536);
    out.push(b'{');
    key(&mut out, "action", true);
    string(&mut out, input.action);
    key(&mut out, "actor", false);
    out.push(b'{');
    key(&mut out, "role", true);
    optional(&mut out, input.actor_role);
    key(&mut out, "type", false);
    string(&mut out, input.actor_type);
    out.push(b'}');
    key(&mut out, "admin_private", false);
    out.extend_from_slice(if input.admin_private { b"true" } else { b"false" });
    key(&mut out, "entity", false);
    match input.entity_type {
        Some(entity_type) => {
            out.push(b'{');
            key(&mut out, "type", true);
            string(&mut out, entity_type);
            out.push(b'}');
        }
        None => out.extend_from_slice(b"null"),
    }
    key(&mut out, "id", false);
    out.extend_from_slice(input.id.to_string().as_bytes());
    key(&mut out, "occurred_at", false);
    string(&mut out, &canonical_time(input.occurred_at));
    key(&mut out, "personal", false);
    out.push(b'{');
    for (i, (name, digest)) in PERSONAL_FIELDS.iter().zip(digests).enumerate() {
        key(&mut out, name, i == 0);
        string(&mut out, digest);
    }
    out.push(b'}');
    key(&mut out, "prev", false);
    string(&mut out, input.prev_hash);
    key(&mut out, "recorded_at", false);
    string(&mut out, &canonical_time(input.recorded_at));
    key(&mut out, "seq", false);
    out.extend_from_slice(input.seq.to_string().as_bytes());
    key(&mut out, "submitter", false);
    string(&mut out, input.submitted_by);
    key(&mut out, "tenant", false);
    out.extend_from_slice(input.tenant_id.to_string().as_bytes());
    key(&mut out, "v", false);
    out.extend_from_slice(LEAF_FORMAT.to_string().as_bytes());
    out.push(b'}');
    out
}

/// The format-1 leaf bytes of an event stored before the tree existed.
pub fn legacy_leaf_bytes(id: i64, seq: i64, chain_hash: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    out.extend_from_slice(b"{\"chain_hash\":");
    string(&mut out, chain_hash);
    out.extend_from_slice(format!(",\"id\":{id},\"seq\":{seq},\"v\":{LEGACY_FORMAT}}}").as_bytes());
    out
}

/// Decodes a stored hex hash.
pub fn decode_hash(text: &str) -> Option<auditlog_tlog::Hash> {
    hex::decode(text).ok().and_then(|b| b.try_into().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::canonical_json;
    use serde_json::{json, Value};

    fn input<'a>(salt: &'a str, changes: &'a str) -> LeafInput<'a> {
        let t = chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05.1Z").unwrap().naive_utc();
        LeafInput {
            id: 99,
            tenant_id: crate::TenantId(3),
            seq: 42,
            prev_hash: "ab",
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
            changes,
            related: "[]",
            metadata: "{\"a\":1}",
            ip: "",
            user_agent: Some("UA"),
            submitted_by: "token:4",
            salt: Some(salt),
            digests: None,
        }
    }

    /// The direct writer must produce exactly the sorted-key JSON of the same members.
    #[test]
    fn leaf_bytes_are_sorted_json_with_salted_personal_digests() {
        let salt = "000102030405060708090a0b0c0d0e0f";
        let changes = canonical_json(&json!([{"new": "é\"\n", "field": "x"}]));
        let leaf = leaf_bytes(&input(salt, &changes)).unwrap();
        let salt_bytes = hex::decode(salt).unwrap();
        let digest = |name: &str, value: &str| personal_digest(&salt_bytes, name, value.as_bytes());
        let expected = json!({
            "action": "booking.created",
            "actor": {"role": null, "type": "user"},
            "admin_private": true,
            "entity": {"type": "booking"},
            "id": 99,
            "occurred_at": "2026-01-02T03:04:05.100000Z",
            "personal": {
                "actor_email": digest("actor_email", "\"z@x\""),
                "actor_id": digest("actor_id", "\"7\""),
                "actor_name": digest("actor_name", "\"Zoë \\\"Z\\\"\""),
                "changes": digest("changes", &changes),
                "description": digest("description", "\"tab\\there\""),
                "entity_id": digest("entity_id", "\"9\""),
                "entity_label": digest("entity_label", "null"),
                "external_id": digest("external_id", "\"ext\\\\1\""),
                "ip": digest("ip", "null"),
                "metadata": digest("metadata", "{\"a\":1}"),
                "related": digest("related", "[]"),
                "user_agent": digest("user_agent", "\"UA\""),
            },
            "prev": "ab",
            "recorded_at": "2026-01-02T03:04:05.100000Z",
            "seq": 42,
            "submitter": "token:4",
            "tenant": 3,
            "v": 2
        });
        assert_eq!(String::from_utf8(leaf.clone()).unwrap(), canonical_json(&expected));
        let other_salt = "ff0102030405060708090a0b0c0d0e0f";
        assert_ne!(leaf_bytes(&input(other_salt, &changes)).unwrap(), leaf);
        assert!(leaf_bytes(&input("00", &changes)).is_err());
        // A tombstone: values and salt gone, digests kept, the same leaf.
        let kept = digests_json(&input(salt, &changes)).unwrap();
        let tomb = LeafInput {
            actor_id: "",
            actor_name: "",
            actor_email: None,
            entity_id: None,
            external_id: None,
            description: "",
            changes: "[]",
            metadata: "{}",
            user_agent: None,
            salt: None,
            digests: Some(&kept),
            ..input(salt, &changes)
        };
        assert_eq!(leaf_bytes(&tomb).unwrap(), leaf);
        assert!(leaf_bytes(&LeafInput { digests: None, ..tomb }).is_err());
        let legacy: Value = serde_json::from_slice(&legacy_leaf_bytes(5, 6, "cd")).unwrap();
        assert_eq!(legacy, json!({"chain_hash": "cd", "id": 5, "seq": 6, "v": 1}));
    }
}
