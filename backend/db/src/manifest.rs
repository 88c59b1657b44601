//! Export manifests: the chain evidence behind an exported file. For every `seq` from the first to
//! the last exported event, a manifest line holds `seq`, `prev_hash` and `hash`; exported events
//! also carry their canonical bytes. With it, anyone can check offline that exported rows are
//! unaltered (their content hashes to the chain) and complete for their range (every link is
//! there), without seeing events the exporter may not see.
//!
//! Format (JSON Lines): a header object (`format`, `tenant_id`, `tenant`, `first_seq`, `last_seq`,
//! `exported`, `generated_at`, `filters`), then one line per seq: `{"seq", "prev_hash", "hash",
//! "canonical"?, "deleted"?}`.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::chain::canonical_bytes;
use crate::connection::DbConnection;
use crate::error::StoreResult;
use crate::models::EventRow;
use crate::queries::events::{matching, EventFilter};
use crate::schema::events;
use crate::visibility::Viewer;

pub const FORMAT: &str = "activity-log-manifest/1";
const BATCH: i64 = 5000;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ManifestHeader {
    pub format: String,
    pub tenant_id: i64,
    pub tenant: String,
    /// Seq range covered; both 0 when nothing matched.
    pub first_seq: i64,
    pub last_seq: i64,
    /// Lines that carry canonical bytes (the exported events).
    pub exported: i64,
    pub generated_at: String,
    pub filters: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ManifestLine {
    pub seq: i64,
    pub prev_hash: String,
    pub hash: String,
    /// Canonical bytes (UTF-8 JSON text) of an exported event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canonical: Option<String>,
    /// A deleted entry: its content is gone, only its links remain.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}

/// Writes the manifest for the visible events matching `filter`, a line at a time, to `emit`
/// (which returns `false` to stop, e.g. when the client went away).
pub fn write(
    conn: &mut DbConnection,
    viewer: &Viewer,
    filter: &EventFilter,
    tenant_slug: &str,
    filters_text: &str,
    mut emit: impl FnMut(String) -> bool,
) -> StoreResult<i64> {
    let bounds: (Option<i64>, Option<i64>) = events::table
        .filter(matching(conn.backend(), viewer, filter))
        .select((diesel::dsl::min(events::seq), diesel::dsl::max(events::seq)))
        .first(conn)?;
    let (first, last) = (bounds.0.unwrap_or(0), bounds.1.unwrap_or(0));
    let exported = crate::queries::events::count(conn, viewer, filter)?;
    let header = ManifestHeader {
        format: FORMAT.into(),
        tenant_id: viewer.tenant_id,
        tenant: tenant_slug.into(),
        first_seq: first,
        last_seq: last,
        exported,
        generated_at: chrono::Utc::now().to_rfc3339(),
        filters: filters_text.into(),
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
            let deleted = row.deleted_at.is_some();
            let canonical = (chosen.contains(&row.seq) && !deleted)
                .then(|| String::from_utf8_lossy(&canonical_bytes(&row.chain_input())).into_owned());
            let line = ManifestLine {
                seq: row.seq,
                prev_hash: row.prev_hash.clone(),
                hash: row.hash.clone(),
                canonical,
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
