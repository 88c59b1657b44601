//! Export manifests: the evidence behind an exported file, checked offline with the public key.
//!
//! A manifest names a signed checkpoint and has one line per exported event — its leaf hash, leaf
//! bytes and the salt of its personal-data digests — and nothing about any other event: the lines
//! and a multi-leaf inclusion proof ([`merkle::multi_inclusion_nodes`]) recompute the signed root.
//! The proof's nodes are complete subtrees that hold no exported event; each line carries, as its
//! `gap`, those between the previous exported event (or the tree's start) and its own, and a
//! closing line those after the last. What the proof reveals beyond the exported events is what the
//! checkpoint (the tenant's tree size and root) and their own leaf indexes already do: which
//! subtrees lie between them follows from these alone, and each is an opaque hash.
//!
//! Format `activity-log-manifest/3` (JSON Lines): a header object (`format`, `tenant_id`, `tenant`,
//! `exported`, `generated_at`, `filters`, `checkpoint`); one line per exported event in `seq` order,
//! `{"seq", "hash", "leaf"?, "salt"?, "legacy"?, "prev_hash"?, "deleted"?, "gap"}`; then
//! `{"end": true, "gap"}`. `legacy` and `prev_hash` are for an event stored before the tree (leaf
//! format 1), whose leaf commits to its chain hash, `SHA-256(prev_hash ‖ legacy)`; such an event
//! once deleted has no content left and its line only its `hash`.
//!
//! Format `activity-log-manifest/2` ([`v2`]), written before, listed every seq from the first to
//! the last exported event, the hashes of events the exporter could not see included; it is no
//! longer written, but `auditlog verify-export` still checks such files.

use crate::ids::TenantId;
use std::collections::HashMap;

use auditlog_tlog::merkle::{self, NodeId};
use auditlog_tlog::Hash;
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

pub const FORMAT: &str = "activity-log-manifest/3";
/// Exported events read per query.
const BATCH: i64 = 1000;
/// Tree nodes read per query: keeps each statement's list of nodes short.
const NODES_PER_READ: usize = 2000;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ManifestHeader {
    pub format: String,
    pub tenant_id: TenantId,
    pub tenant: String,
    /// The number of event lines (the exported events).
    pub exported: i64,
    pub generated_at: String,
    pub filters: String,
    /// The signed checkpoint (a c2sp.org signed note) whose tree holds the exported events; empty
    /// when the tenant has no events.
    pub checkpoint: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ManifestLine {
    /// The event's seq: its leaf index is `seq − 1`.
    pub seq: i64,
    /// The leaf hash (hex).
    pub hash: String,
    /// The leaf bytes (UTF-8 canonical JSON); absent only for a deleted event of leaf format 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leaf: Option<String>,
    /// The salt (hex) of the personal-data digests; absent once deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
    /// Leaf format 1: the event's canonical bytes as the hash chain covered them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legacy: Option<String>,
    /// Leaf format 1: the chain hash the event links to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev_hash: Option<String>,
    /// A deleted entry: its personal data is gone, its leaf remains.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    /// Fields withheld from the exporter's role (`visibility::FieldVisibility`): their CSV cells
    /// are blank, and the line has neither `salt` nor `legacy`, which would let the exporter test
    /// guesses of the withheld values against the leaf's digests (or read them). The leaf and its
    /// inclusion still verify; the personal cells cannot be checked without the salt.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withheld: Vec<crate::visibility::HiddenField>,
    /// Base64 hashes of the proof's nodes between the previous exported event and this one.
    pub gap: Vec<String>,
}

/// The closing line: the proof's nodes after the last exported event.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ManifestEnd {
    /// Always `true`: marks the line as the last.
    pub end: bool,
    pub gap: Vec<String>,
}

/// Format 2, for reading manifests written before format 3.
pub mod v2 {
    use serde::{Deserialize, Serialize};

    use crate::ids::TenantId;

    pub const FORMAT: &str = "activity-log-manifest/2";

    #[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
    pub struct Header {
        pub format: String,
        pub tenant_id: TenantId,
        pub tenant: String,
        /// Seq range covered; both 0 when nothing matched.
        pub first_seq: i64,
        pub last_seq: i64,
        /// Lines that carry leaf bytes (the exported events).
        pub exported: i64,
        pub generated_at: String,
        pub filters: String,
        pub checkpoint: String,
        /// Base64 hashes of the complete subtrees before `first_seq`.
        pub prefix: Vec<String>,
        /// Base64 hashes of the complete subtrees after `last_seq`, up to the checkpoint's size.
        pub suffix: Vec<String>,
    }

    /// One line per seq of the range; leaf bytes only for the exported events.
    #[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
    pub struct Line {
        pub seq: i64,
        pub hash: String,
        #[serde(default)]
        pub leaf: Option<String>,
        #[serde(default)]
        pub salt: Option<String>,
        #[serde(default)]
        pub legacy: Option<String>,
        #[serde(default)]
        pub prev_hash: Option<String>,
        #[serde(default)]
        pub deleted: bool,
    }
}

/// The hashes of tree nodes, read a bounded number per query.
fn read_nodes(
    conn: &mut DbConnection,
    tenant_id: TenantId,
    ids: &[NodeId],
) -> StoreResult<HashMap<NodeId, Hash>> {
    let mut found = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(NODES_PER_READ) {
        found.extend(chunk.iter().copied().zip(tree::nodes(conn, tenant_id, chunk)?));
    }
    Ok(found)
}

fn encode(ids: &[NodeId], hashes: &HashMap<NodeId, Hash>) -> Vec<String> {
    ids.iter().filter_map(|id| hashes.get(id)).map(|h| BASE64.encode(h)).collect()
}

/// The manifest line of an exported event, for `viewer`.
fn line_of(viewer: &Viewer, row: &EventRow, gap: Vec<String>) -> StoreResult<ManifestLine> {
    let withheld = viewer.withheld();
    let hash =
        row.tree_leaf().ok_or_else(|| StoreError::Corrupt(format!("event seq {} has no hash", row.seq)))?;
    let deleted = row.deleted_at.is_some();
    let legacy = row.leaf_version == crate::leaf::LEGACY_FORMAT;
    // A deleted event of leaf format 1 lost the content its chain hash covers: only its hash stays.
    let shown = !(deleted && legacy);
    Ok(ManifestLine {
        seq: row.seq,
        hash: hex::encode(hash),
        leaf: if shown {
            row.leaf_bytes().map_err(StoreError::Corrupt)?.map(|b| String::from_utf8_lossy(&b).into_owned())
        } else {
            None
        },
        // A tombstone keeps its digests where the salt was; they are in its leaf already.
        salt: if deleted || !withheld.is_empty() { None } else { row.salt.clone() },
        legacy: (shown && legacy && withheld.is_empty())
            .then(|| String::from_utf8_lossy(&canonical_bytes(&row.chain_input())).into_owned()),
        prev_hash: (shown && legacy).then(|| row.prev_hash.clone()),
        deleted,
        withheld,
        gap,
    })
}

/// Writes the manifest for the visible events matching `filter` against `checkpoint` (whose tree
/// must hold them), a line at a time, to `emit` (which returns `false` to stop, e.g. when the
/// client went away). Returns the number of event lines written.
pub fn write(
    conn: &mut DbConnection,
    viewer: &Viewer,
    filter: &EventFilter,
    tenant_slug: &str,
    filters_text: &str,
    checkpoint: Option<&LoggedCheckpoint>,
    mut emit: impl FnMut(String) -> bool,
) -> StoreResult<i64> {
    let size = checkpoint.map(|c| c.size()).unwrap_or(0);
    let last: Option<i64> = events::table
        .filter(matching(conn.backend(), viewer, filter))
        .select(diesel::dsl::max(events::seq))
        .first(conn)?;
    if last.is_some_and(|last| last as u64 > size) {
        return Err(StoreError::Conflict(format!(
            "the checkpoint of {size} events does not hold seq {}",
            last.unwrap_or_default()
        )));
    }
    let header = ManifestHeader {
        format: FORMAT.into(),
        tenant_id: viewer.tenant_id,
        tenant: tenant_slug.into(),
        exported: crate::queries::events::count(conn, viewer, filter)?,
        generated_at: chrono::Utc::now().to_rfc3339(),
        filters: filters_text.into(),
        checkpoint: checkpoint.map(|c| c.note.clone()).unwrap_or_default(),
    };
    if !emit(serde_json::to_string(&header).unwrap_or_default()) {
        return Ok(0);
    }
    let mut written = 0;
    let mut previous: Option<u64> = None;
    let mut after = 0i64;
    loop {
        // The setting as it stands for each batch: a tightening applies to a manifest under way.
        let viewer = &crate::visibility::current(conn, viewer)?;
        let rows: Vec<EventRow> = events::table
            .filter(matching(conn.backend(), viewer, filter))
            .filter(events::seq.gt(after))
            .order(events::seq.asc())
            .limit(BATCH)
            .select(EventRow::as_select())
            .load(conn)?;
        let Some(last_row) = rows.last() else { break };
        after = last_row.seq;
        let gaps: Vec<Vec<NodeId>> = rows
            .iter()
            .map(|row| {
                let index = row.seq as u64 - 1;
                let gap = merkle::multi_inclusion_gap(previous, Some(index), size);
                previous = Some(index);
                gap
            })
            .collect();
        let mut wanted: Vec<NodeId> = gaps.iter().flatten().copied().collect();
        wanted.sort_unstable();
        wanted.dedup();
        let hashes = read_nodes(conn, viewer.tenant_id, &wanted)?;
        for (row, gap) in rows.iter().zip(&gaps) {
            let line = line_of(viewer, row, encode(gap, &hashes))?;
            if !emit(serde_json::to_string(&line).unwrap_or_default()) {
                return Ok(written);
            }
            written += 1;
        }
    }
    let gap = merkle::multi_inclusion_gap(previous, None, size);
    let hashes = read_nodes(conn, viewer.tenant_id, &gap)?;
    emit(serde_json::to_string(&ManifestEnd { end: true, gap: encode(&gap, &hashes) }).unwrap_or_default());
    Ok(written)
}
