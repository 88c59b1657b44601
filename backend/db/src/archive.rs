//! Retention: events older than a tenant's setting move into compressed archive files (JSON Lines,
//! gzip) with a SHA-256 checksum and the chain checkpoint, then leave the live table.
//!
//! Archives always take a prefix of the chain (by `seq`), so the live chain continues from the
//! checkpoint (`tenants.chain_base_seq` / `chain_base_hash`). Age is judged by `recorded_at`,
//! which grows with `seq`. Each file is written and synced before, in the same locked
//! transaction, its rows are removed: a crash leaves either a stray file that the next run
//! rewrites identically, or a finished archive — never a lost or doubled event.
//!
//! File format: the first line is a header object (`format`, `tenant`, `first_seq`, `last_seq`,
//! `count`, `prev_hash`, `last_hash`); every other line is one stored event row as JSON.

use std::fs::{self, File};
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::chain::event_hash;
use crate::connection::DbConnection;
use crate::error::{StoreError, StoreResult};
use crate::models::{Archive, EventRow};
use crate::queries::deletion::{close_guard, open_guard};
use crate::queries::tenants;
use crate::schema::{archives, event_related, events, tenants as tenants_table};

pub const FORMAT: &str = "activity-log-archive/1";
const READ_BATCH: i64 = 5000;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ArchiveHeader {
    pub format: String,
    pub tenant: String,
    pub first_seq: i64,
    pub last_seq: i64,
    pub count: i64,
    /// Hash the first event links to.
    pub prev_hash: String,
    /// Hash of the last event.
    pub last_hash: String,
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Corrupt(format!("archive file: {e}"))
}

/// The folder of a tenant's archives.
pub fn tenant_dir(root: &Path, slug: &str) -> PathBuf {
    root.join(slug)
}

/// Archives, one file per call, until nothing older than `cutoff` is left; at most
/// `max_per_file` events per file. `progress` hears each finished archive.
pub fn archive_expired(
    conn: &mut DbConnection,
    tenant_id: i64,
    cutoff: NaiveDateTime,
    root: &Path,
    max_per_file: i64,
    mut progress: impl FnMut(&Archive),
) -> StoreResult<Vec<Archive>> {
    let mut done = Vec::new();
    while let Some(archive) = archive_next(conn, tenant_id, cutoff, root, max_per_file, false)? {
        progress(&archive);
        done.push(archive);
    }
    Ok(done)
}

/// Archives the next batch. With `crash_before_removal` the file is written and the transaction
/// then rolled back, as a crash at that moment would leave things (for tests of recovery).
pub fn archive_next(
    conn: &mut DbConnection,
    tenant_id: i64,
    cutoff: NaiveDateTime,
    root: &Path,
    max_per_file: i64,
    crash_before_removal: bool,
) -> StoreResult<Option<Archive>> {
    let result = conn.transaction(|conn| {
        // The tenant lock keeps ingest and other archivers away while the prefix moves.
        diesel::update(tenants_table::table.find(tenant_id))
            .set(tenants_table::head_seq.eq(tenants_table::head_seq))
            .execute(conn)?;
        let tenant = tenants::get(conn, tenant_id)?;
        let base = tenant.chain_base_seq;
        let first_young: Option<i64> = events::table
            .filter(events::tenant_id.eq(tenant_id))
            .filter(events::seq.gt(base))
            .filter(events::recorded_at.ge(cutoff))
            .select(diesel::dsl::min(events::seq))
            .first(conn)?;
        let last_seq = first_young.map(|s| s - 1).unwrap_or(tenant.head_seq).min(base + max_per_file);
        if last_seq <= base {
            return Ok(None);
        }
        let first_seq = base + 1;
        let dir = tenant_dir(root, &tenant.slug);
        fs::create_dir_all(&dir).map_err(io)?;
        let file_name = format!("{}_{first_seq:012}-{last_seq:012}.jsonl.gz", tenant.slug);
        let path = dir.join(&file_name);
        let (count, last_hash, first_at, last_at) =
            write_file(conn, tenant_id, &tenant.slug, first_seq, last_seq, &tenant.chain_base_hash, &path)?;
        let (sha256, size) = checksum(&path)?;
        if crash_before_removal {
            return Err(StoreError::Conflict("simulated crash before removal".into()));
        }

        let ids = events::table
            .filter(events::tenant_id.eq(tenant_id))
            .filter(events::seq.between(first_seq, last_seq))
            .select(events::id);
        diesel::delete(
            event_related::table
                .filter(event_related::tenant_id.eq(tenant_id))
                .filter(event_related::event_id.eq_any(ids)),
        )
        .execute(conn)?;
        open_guard(conn, "retention")?;
        let removed = diesel::delete(
            events::table
                .filter(events::tenant_id.eq(tenant_id))
                .filter(events::seq.between(first_seq, last_seq)),
        )
        .execute(conn)?;
        close_guard(conn, "retention")?;
        if removed as i64 != count {
            return Err(StoreError::Corrupt(format!("archived {count} events but removed {removed}")));
        }
        diesel::update(tenants_table::table.find(tenant_id))
            .set((tenants_table::chain_base_seq.eq(last_seq), tenants_table::chain_base_hash.eq(&last_hash)))
            .execute(conn)?;
        diesel::insert_into(archives::table)
            .values((
                archives::tenant_id.eq(tenant_id),
                archives::file_name.eq(&file_name),
                archives::first_seq.eq(first_seq),
                archives::last_seq.eq(last_seq),
                archives::event_count.eq(count),
                archives::first_recorded_at.eq(first_at),
                archives::last_recorded_at.eq(last_at),
                archives::prev_hash.eq(&tenant.chain_base_hash),
                archives::last_hash.eq(&last_hash),
                archives::sha256.eq(&sha256),
                archives::size_bytes.eq(size as i64),
                archives::created_at.eq(chrono::Utc::now().naive_utc()),
            ))
            .execute(conn)?;
        let archive = archives::table
            .filter(archives::tenant_id.eq(tenant_id))
            .filter(archives::first_seq.eq(first_seq))
            .select(Archive::as_select())
            .first(conn)?;
        Ok(Some(archive))
    });
    result
}

/// Streams rows `first..=last` into a gzip file (via a temporary name, synced, then renamed).
#[allow(clippy::too_many_arguments)]
fn write_file(
    conn: &mut DbConnection,
    tenant_id: i64,
    slug: &str,
    first: i64,
    last: i64,
    prev_hash: &str,
    path: &Path,
) -> StoreResult<(i64, String, NaiveDateTime, NaiveDateTime)> {
    let last_row: EventRow = events::table
        .filter(events::tenant_id.eq(tenant_id))
        .filter(events::seq.eq(last))
        .select(EventRow::as_select())
        .first(conn)?;
    let header = ArchiveHeader {
        format: FORMAT.into(),
        tenant: slug.into(),
        first_seq: first,
        last_seq: last,
        count: last - first + 1,
        prev_hash: prev_hash.into(),
        last_hash: last_row.hash.clone(),
    };
    let temp = path.with_extension("gz.partial");
    let file = File::create(&temp).map_err(io)?;
    let mut out = GzEncoder::new(BufWriter::new(file), Compression::default());
    serde_json::to_writer(&mut out, &header).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    out.write_all(b"\n").map_err(io)?;
    let (mut count, mut after, mut first_at, mut last_at) = (0i64, first - 1, None, last_row.recorded_at);
    loop {
        let rows: Vec<EventRow> = events::table
            .filter(events::tenant_id.eq(tenant_id))
            .filter(events::seq.gt(after))
            .filter(events::seq.le(last))
            .order(events::seq.asc())
            .limit(READ_BATCH)
            .select(EventRow::as_select())
            .load(conn)?;
        let Some(tail) = rows.last() else { break };
        after = tail.seq;
        for row in &rows {
            first_at.get_or_insert(row.recorded_at);
            last_at = row.recorded_at;
            serde_json::to_writer(&mut out, row).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            out.write_all(b"\n").map_err(io)?;
            count += 1;
        }
    }
    if count != header.count {
        return Err(StoreError::Corrupt(format!(
            "seq {first}..{last} holds {count} events: the chain has a gap"
        )));
    }
    let file = out.finish().map_err(io)?.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)?;
    fs::rename(&temp, path).map_err(io)?;
    if let Some(dir) = path.parent() {
        // Make the rename itself durable.
        File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
    }
    Ok((count, header.last_hash, first_at.unwrap_or(last_at), last_at))
}

/// SHA-256 (hex) and size of a file.
pub fn checksum(path: &Path) -> StoreResult<(String, u64)> {
    let mut file = File::open(path).map_err(io)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buffer).map_err(io)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buffer[..n]);
    }
    Ok((hex::encode(hasher.finalize()), size))
}

/// Checks an archive file on its own: header, seq continuity, links and hashes. Returns the
/// header and the rows' count.
pub fn verify_file(path: &Path) -> StoreResult<ArchiveHeader> {
    let reader = BufReader::new(GzDecoder::new(File::open(path).map_err(io)?));
    let mut lines = reader.lines();
    let corrupt = |m: String| StoreError::Corrupt(m);
    let header: ArchiveHeader =
        serde_json::from_str(&lines.next().ok_or_else(|| corrupt("empty archive".into()))?.map_err(io)?)
            .map_err(|e| corrupt(format!("bad header: {e}")))?;
    if header.format != FORMAT {
        return Err(corrupt(format!("unknown archive format {:?}", header.format)));
    }
    let (mut expected, mut prev, mut count) = (header.first_seq, header.prev_hash.clone(), 0i64);
    for line in lines {
        let row: EventRow =
            serde_json::from_str(&line.map_err(io)?).map_err(|e| corrupt(format!("bad row: {e}")))?;
        if row.seq != expected || row.prev_hash != prev {
            return Err(corrupt(format!("the chain breaks at seq {expected}")));
        }
        if row.deleted_at.is_none() && event_hash(&prev, &row.chain_input()) != row.hash {
            return Err(corrupt(format!("event seq {} does not match its hash", row.seq)));
        }
        prev = row.hash;
        expected += 1;
        count += 1;
    }
    if count != header.count || expected - 1 != header.last_seq || prev != header.last_hash {
        return Err(corrupt("the archive is incomplete".into()));
    }
    Ok(header)
}

pub fn list(conn: &mut DbConnection, tenant_id: i64) -> StoreResult<Vec<Archive>> {
    Ok(archives::table
        .filter(archives::tenant_id.eq(tenant_id))
        .order(archives::first_seq.desc())
        .select(Archive::as_select())
        .load(conn)?)
}

pub fn get(conn: &mut DbConnection, tenant_id: i64, id: i64) -> StoreResult<Archive> {
    archives::table
        .filter(archives::tenant_id.eq(tenant_id))
        .filter(archives::id.eq(id))
        .select(Archive::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

/// Sets (or with `None` clears) a tenant's retention in days.
pub fn set_retention(conn: &mut DbConnection, tenant_id: i64, days: Option<i32>) -> StoreResult<()> {
    diesel::update(tenants_table::table.find(tenant_id))
        .set(tenants_table::retention_days.eq(days))
        .execute(conn)?;
    Ok(())
}

/// Tenants with a retention setting, for the scheduled job.
pub fn tenants_with_retention(conn: &mut DbConnection) -> StoreResult<Vec<(i64, i32)>> {
    Ok(tenants_table::table
        .filter(tenants_table::retention_days.is_not_null())
        .select((tenants_table::id, tenants_table::retention_days.assume_not_null()))
        .load(conn)?)
}
