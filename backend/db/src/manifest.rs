//! Export manifests: the evidence behind an exported file, checked offline with the public key.
//!
//! A manifest names a signed checkpoint and lists, for every `seq` from the first to the last
//! exported event, that event's leaf hash; an exported event also carries its leaf bytes (and the
//! salt of its personal-data digests). With the complete subtrees before the range (`prefix`)
//! and after it up to the checkpoint's size (`suffix`), the hashes recompute the signed root: every
//! exported row is then proven unaltered, and the range complete, without seeing the events the
//! exporter may not see.
//!
//! Format (JSON Lines): a header object (`format`, `tenant_id`, `tenant`, `first_seq`, `last_seq`,
//! `exported`, `generated_at`, `filters`, `checkpoint`, `prefix`, `suffix`), then one line per seq:
//! `{"seq", "hash", "leaf"?, "salt"?, "legacy"?, "prev_hash"?, "deleted"?}` — `legacy` and
//! `prev_hash` for an event stored before the tree (leaf format 1), whose leaf commits to its chain
//! hash, `SHA-256(prev_hash ‖ legacy)`.

use auditlog_tlog::merkle;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::chain::canonical_bytes;
use crate::checkpoints::LoggedCheckpoint;
use crate::connection::DbConnection;
use crate::error::{StoreError, StoreResult};
use crate::models::EventRow;
use crate::queries::events::{matching, EventFilter};
use crate::queries::tree;
use crate::schema::events;
use crate::visibility::Viewer;

pub const FORMAT: &str = "activity-log-manifest/2";
const BATCH: i64 = 5000;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ManifestHeader {
    pub format: String,
    pub tenant_id: i64,
    pub tenant: String,
    /// Seq range covered; both 0 when nothing matched.
    pub first_seq: i64,
    pub last_seq: i64,
    /// Lines that carry leaf bytes (the exported events).
    pub exported: i64,
    pub generated_at: String,
    pub filters: String,
    /// The signed checkpoint (a c2sp.org signed note) whose tree holds the range; empty when the
    /// tenant has no events.
    pub checkpoint: String,
    /// Base64 hashes of the complete subtrees before `first_seq`.
    pub prefix: Vec<String>,
    /// Base64 hashes of the complete subtrees after `last_seq`, up to the checkpoint's size.
    pub suffix: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ManifestLine {
    pub seq: i64,
    /// The leaf hash (hex).
    pub hash: String,
    /// The leaf bytes (UTF-8 canonical JSON) of an exported event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leaf: Option<String>,
    /// The salt (hex) of an exported event's personal-data digests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
    /// Leaf format 1: the event's canonical bytes as the hash chain covered them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legacy: Option<String>,
    /// Leaf format 1: the chain hash the event links to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev_hash: Option<String>,
    /// A deleted entry: its content is gone, only its leaf hash remains.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}

/// Writes the manifest for the visible events matching `filter` against `checkpoint` (whose tree
/// must hold them), a line at a time, to `emit` (which returns `false` to stop, e.g. when the
/// client went away).
pub fn write(
    conn: &mut DbConnection,
    viewer: &Viewer,
    filter: &EventFilter,
    tenant_slug: &str,
    filters_text: &str,
    checkpoint: Option<&LoggedCheckpoint>,
    mut emit: impl FnMut(String) -> bool,
) -> StoreResult<i64> {
    let bounds: (Option<i64>, Option<i64>) = events::table
        .filter(matching(conn.backend(), viewer, filter))
        .select((diesel::dsl::min(events::seq), diesel::dsl::max(events::seq)))
        .first(conn)?;
    let (first, last) = (bounds.0.unwrap_or(0), bounds.1.unwrap_or(0));
    let size = checkpoint.map(|c| c.size()).unwrap_or(0);
    if last as u64 > size {
        return Err(StoreError::Conflict(format!(
            "the checkpoint of {size} events does not hold seq {last}"
        )));
    }
    let exported = crate::queries::events::count(conn, viewer, filter)?;
    let encode =
        |hashes: Vec<auditlog_tlog::Hash>| hashes.iter().map(|h| BASE64.encode(h)).collect::<Vec<_>>();
    let (prefix, suffix) = if exported == 0 {
        (Vec::new(), Vec::new())
    } else {
        (
            encode(tree::nodes(conn, viewer.tenant_id, &merkle::decompose(0, first as u64 - 1))?),
            encode(tree::nodes(conn, viewer.tenant_id, &merkle::decompose(last as u64, size))?),
        )
    };
    let header = ManifestHeader {
        format: FORMAT.into(),
        tenant_id: viewer.tenant_id,
        tenant: tenant_slug.into(),
        first_seq: first,
        last_seq: last,
        exported,
        generated_at: chrono::Utc::now().to_rfc3339(),
        filters: filters_text.into(),
        checkpoint: checkpoint.map(|c| c.note.clone()).unwrap_or_default(),
        prefix,
        suffix,
    };
    if !emit(serde_json::to_string(&header).unwrap_or_default()) || exported == 0 {
        return Ok(0);
    }
    let mut written = 0;
    let mut start = first;
    while start <= last {
        let end = (start + BATCH - 1).min(last);
        let rows: Vec<EventRow> = events::table
            .filter(events::tenant_id.eq(viewer.tenant_id))
            .filter(events::seq.between(start, end))
            .order(events::seq.asc())
            .select(EventRow::as_select())
            .load(conn)?;
        let chosen: std::collections::HashSet<i64> = events::table
            .filter(matching(conn.backend(), viewer, filter))
            .filter(events::seq.between(start, end))
            .select(events::seq)
            .load::<i64>(conn)?
            .into_iter()
            .collect();
        for row in &rows {
            let hash = row
                .tree_leaf()
                .ok_or_else(|| StoreError::Corrupt(format!("event seq {} has no hash", row.seq)))?;
            let deleted = row.deleted_at.is_some();
            let legacy = row.leaf_version == crate::leaf::LEGACY_FORMAT;
            // A deleted entry is exported as a blank row; its leaf (format 2) still proves it.
            let shown = chosen.contains(&row.seq) && !(deleted && legacy);
            let line = ManifestLine {
                seq: row.seq,
                hash: hex::encode(hash),
                leaf: if shown {
                    row.leaf_bytes()
                        .map_err(StoreError::Corrupt)?
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                } else {
                    None
                },
                salt: if shown { row.salt.clone() } else { None },
                legacy: (shown && legacy)
                    .then(|| String::from_utf8_lossy(&canonical_bytes(&row.chain_input())).into_owned()),
                prev_hash: (shown && legacy).then(|| row.prev_hash.clone()),
                deleted,
            };
            if !emit(serde_json::to_string(&line).unwrap_or_default()) {
                return Ok(written);
            }
            written += 1;
        }
        start = end + 1;
    }
    Ok(written)
}
