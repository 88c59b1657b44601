//! Retention: events older than a tenant's setting move into compressed archive files (JSON Lines,
//! gzip) with a SHA-256 checksum and the chain checkpoint, then leave the live table.
//!
//! Archives always take a prefix of the chain (by `seq`), so the live chain continues from the
//! checkpoint (`tenants.chain_base_seq` / `chain_base_hash`). Age is judged by `recorded_at`,
//! which grows with `seq`. Each file is written and synced before, in the same locked
//! transaction, its rows are removed: a crash leaves either a stray file that the next run
//! rewrites identically, or a finished archive — never a lost or doubled event.
//!
//! File format (`activity-log-archive/2`): the first line is a header object (`format`, `tenant`,
//! `first_seq`, `last_seq`, `count`, `prev_hash`, `last_hash`, `prefix`, `checkpoint`); every other
//! line is one stored event row as JSON. `checkpoint` is the signed retention boundary: the tree
//! of the first `last_seq` events and its root. `prefix` holds the hashes (base64) of the complete
//! subtrees of the events before `first_seq`, so that they and the file's own events recompute
//! that root: anyone with the public key checks the file offline (`auditlog verify-archive`).
//! Files of format 1 (before the tree) carry only the chain.

use crate::ids::TenantId;
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

use auditlog_tlog::merkle::{self, Frontier, NodeId};
use auditlog_tlog::note::Verifier;
use auditlog_tlog::{Checkpoint, Hash};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;

use crate::checkpoints::{CheckpointKind, Notary};
use crate::connection::DbConnection;
use crate::error::{StoreError, StoreResult};
use crate::models::{Archive, EventRow};
use crate::queries::deletion::{close_guard, open_guard};
use crate::queries::{tenants, tree};
use crate::schema::{archives, event_related, events, tenants as tenants_table};
use crate::slug::TenantSlug;

pub const FORMAT: &str = "activity-log-archive/2";
/// Files written before the tree existed.
pub const LEGACY_FORMAT: &str = "activity-log-archive/1";
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
    /// Base64 hashes of the complete subtrees of the events before `first_seq` (format 2).
    #[serde(default)]
    pub prefix: Vec<String>,
    /// The signed retention boundary at `last_seq` (format 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<String>,
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Corrupt(format!("archive file: {e}"))
}

/// The folder of a tenant's archives: `root/<slug>`, from a slug that follows the rule.
pub fn tenant_dir(root: &Path, slug: &TenantSlug) -> PathBuf {
    root.join(slug.as_str())
}

/// Why a recorded archive file is not read.
#[derive(Debug)]
pub enum ArchivePathError {
    /// The recorded name, the tenant's slug or a link on the way leads out of the tenant's
    /// archive folder. The text says how, for the log only: it names paths.
    Outside(String),
    /// The file or a folder on the way cannot be resolved (usually: it is missing).
    Unreadable(std::io::Error),
}

impl std::fmt::Display for ArchivePathError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ArchivePathError::Outside(how) => write!(f, "archive file outside the archive folder: {how}"),
            ArchivePathError::Unreadable(e) => write!(f, "archive file unreadable: {e}"),
        }
    }
}

impl From<ArchivePathError> for StoreError {
    fn from(error: ArchivePathError) -> Self {
        StoreError::Corrupt(error.to_string())
    }
}

/// One ordinary path component: not empty, no separator, not `.` or `..`, no NUL.
pub fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0'])
}

/// The file an archive row names, `root/<slug>/<file_name>` with every link resolved, provided it
/// is a file inside the tenant's folder and that folder inside `root` (both resolved too). The
/// slug may predate the rule of [`crate::slug`]: a stored one is taken as it is when it is a plain
/// name. A row that leads elsewhere is refused and logged at `error`: the database was edited by
/// hand or by an attacker, and serving or trusting the file could expose any file of the host.
pub fn recorded_path(root: &Path, slug: &str, file_name: &str) -> Result<PathBuf, ArchivePathError> {
    let outside = |how: String| {
        log::error!("refusing archive file {file_name:?} of tenant {slug:?}: {how}");
        Err(ArchivePathError::Outside(how))
    };
    if !is_plain_name(slug) || !is_plain_name(file_name) {
        return outside("the slug or the file name is not a plain file name".into());
    }
    let root = fs::canonicalize(root).map_err(ArchivePathError::Unreadable)?;
    let dir = fs::canonicalize(root.join(slug)).map_err(ArchivePathError::Unreadable)?;
    let path = fs::canonicalize(dir.join(file_name)).map_err(ArchivePathError::Unreadable)?;
    if dir == root || !dir.starts_with(&root) {
        return outside(format!(
            "the tenant's folder resolves to {}, outside {}",
            dir.display(),
            root.display()
        ));
    }
    if !path.starts_with(&dir) {
        return outside(format!("the file resolves to {}, outside {}", path.display(), dir.display()));
    }
    if !path.is_file() {
        return outside(format!("{} is not a file", path.display()));
    }
    Ok(path)
}

/// The folder new archives of `slug` go to, created if missing and resolved through links; refused
/// unless it is inside the resolved `root`.
fn writable_dir(root: &Path, slug: &TenantSlug) -> StoreResult<PathBuf> {
    fs::create_dir_all(root).map_err(io)?;
    let root = fs::canonicalize(root).map_err(io)?;
    let dir = tenant_dir(&root, slug);
    fs::create_dir_all(&dir).map_err(io)?;
    let resolved = fs::canonicalize(&dir).map_err(io)?;
    if resolved == root || !resolved.starts_with(&root) {
        log::error!(
            "refusing to archive tenant {slug}: its folder {} resolves to {}, outside {}",
            dir.display(),
            resolved.display(),
            root.display()
        );
        return Err(StoreError::Corrupt(format!(
            "the archive folder of tenant {slug} leads out of ARCHIVE_DIR"
        )));
    }
    Ok(resolved)
}

/// What happens to a written archive file before its events are removed: `(path, file name,
/// SHA-256)`. An error leaves the events where they are (the file stays, to be written again).
pub type Publish<'a> = &'a mut dyn FnMut(&Path, &str, &str) -> StoreResult<()>;

/// Archives, one file per call, until nothing older than `cutoff` is left; at most
/// `max_per_file` events per file. `publish` stores each file durably elsewhere (or does
/// nothing); `progress` hears each finished archive.
#[allow(clippy::too_many_arguments)]
pub fn archive_expired(
    conn: &mut DbConnection,
    notary: &Notary,
    tenant_id: TenantId,
    cutoff: NaiveDateTime,
    root: &Path,
    max_per_file: i64,
    publish: Publish,
    mut progress: impl FnMut(&Archive),
) -> StoreResult<Vec<Archive>> {
    let mut done = Vec::new();
    while let Some(archive) =
        archive_next(conn, notary, tenant_id, cutoff, root, max_per_file, &mut *publish)?
    {
        progress(&archive);
        done.push(archive);
    }
    Ok(done)
}

/// Archives the next batch: writes the file, has `publish` store it (an object store uploads it
/// and reads it back), and only then removes the events, in the transaction that records the
/// archive. A `publish` error rolls all of it back, as a crash at that moment would.
#[allow(clippy::too_many_arguments)]
pub fn archive_next(
    conn: &mut DbConnection,
    notary: &Notary,
    tenant_id: TenantId,
    cutoff: NaiveDateTime,
    root: &Path,
    max_per_file: i64,
    publish: Publish,
) -> StoreResult<Option<Archive>> {
    // The log gets a checkpoint of everything stored first, after checking that the stored tree
    // extends the log: the boundary below is then checked against it.
    let tenant = tenants::get(conn, tenant_id)?;
    // A slug stored before the rule existed could name a folder anywhere: such a tenant is not
    // archived until it is renamed.
    let slug = TenantSlug::parse(&tenant.slug)
        .map_err(|e| StoreError::Conflict(format!("tenant {} cannot be archived: {e}", tenant.id)))?;
    if tenant.head_seq > 0 {
        notary.cover(conn, &tenant, tenant.head_seq as u64, None, CheckpointKind::Periodic)?;
    }
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
        let dir = writable_dir(root, &slug)?;
        // Built from the checked slug and numbers only: always a plain name.
        let file_name = format!("{slug}_{first_seq:012}-{last_seq:012}.jsonl.gz");
        let path = dir.join(&file_name);
        let boundary = sign_boundary(conn, notary, &tenant, first_seq, last_seq)?;
        let (count, last_hash, first_at, last_at) = write_file(
            conn,
            tenant_id,
            &tenant.slug,
            first_seq,
            last_seq,
            &tenant.chain_base_hash,
            &boundary,
            &path,
        )?;
        let (sha256, size) = checksum(&path)?;
        publish(&path, &file_name, &sha256)?;
        // Roots and proofs of later sizes need the archived prefix's right edge: the part of it
        // that is hashed from leaves, which are about to go.
        let edge = tree::archived_edge(last_seq as u64);
        let leaves = tree::nodes(conn, tenant_id, &edge)?;
        tree::store(conn, tenant_id, &edge.into_iter().zip(leaves).collect::<Vec<_>>())?;
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
        let removed = remove_prefix(conn, tenant_id, base, last_seq, &last_hash)?;
        if removed != count {
            return Err(StoreError::Corrupt(format!("archived {count} events but removed {removed}")));
        }
        let archive = archives::table
            .filter(archives::tenant_id.eq(tenant_id))
            .filter(archives::first_seq.eq(first_seq))
            .select(Archive::as_select())
            .first(conn)?;
        Ok(Some(archive))
    });
    result
}

/// What a file's header carries of the tree.
struct Boundary {
    prefix: Vec<String>,
    note: String,
}

/// Recomputes the root of the first `last` leaves from the stored right edge before `first` and
/// the leaves of `first..=last` themselves, checks it against the latest logged checkpoint with a
/// consistency proof, and signs it as the retention boundary.
fn sign_boundary(
    conn: &mut DbConnection,
    notary: &Notary,
    tenant: &crate::models::Tenant,
    first: i64,
    last: i64,
) -> StoreResult<Boundary> {
    let prefix = tree::nodes(conn, tenant.id, &merkle::decompose(0, first as u64 - 1))?;
    let mut frontier = Frontier::new(first as u64 - 1, &prefix)
        .ok_or_else(|| StoreError::Corrupt("the archived prefix's right edge is incomplete".into()))?;
    let mut after = first - 1;
    loop {
        let rows: Vec<(i64, i64, String, i32)> = events::table
            .filter(events::tenant_id.eq(tenant.id))
            .filter(events::seq.gt(after))
            .filter(events::seq.le(last))
            .order(events::seq.asc())
            .limit(READ_BATCH)
            .select((events::seq, events::id, events::hash, events::leaf_version))
            .load(conn)?;
        let Some(tail) = rows.last() else { break };
        after = tail.0;
        for (seq, id, hash, version) in rows {
            let leaf = if version == crate::leaf::LEGACY_FORMAT {
                Some(merkle::leaf_hash(&crate::leaf::legacy_leaf_bytes(id, seq, &hash)))
            } else {
                crate::leaf::decode_hash(&hash)
            };
            frontier.push(leaf.ok_or_else(|| StoreError::Corrupt(format!("event seq {seq} has no hash")))?);
        }
    }
    if frontier.size() != last as u64 {
        return Err(StoreError::Corrupt(format!("seq {first}..{last} has a gap: the chain is broken")));
    }
    let root = frontier.root();
    let latest = notary
        .latest(&tenant.slug)?
        .ok_or_else(|| StoreError::Corrupt("no checkpoint is logged to archive against".into()))?;
    let proof = tree::consistency_proof(conn, tenant.id, last as u64, latest.size())?;
    merkle::verify_consistency(last as u64, latest.size(), &root, &latest.checkpoint.root, &proof).map_err(
        |e| {
            StoreError::Corrupt(format!(
                "refusing to archive: the events up to seq {last} are not the ones signed at {} ({e})",
                latest.signed_at
            ))
        },
    )?;
    let logged = notary.sign_boundary(&tenant.slug, last as u64, root)?;
    Ok(Boundary { prefix: prefix.iter().map(|h| BASE64.encode(h)).collect(), note: logged.note })
}

/// Removes the archived events `base+1..=last` and moves the tenant's base: on PostgreSQL through
/// the owner's function (the application's role may not delete events), on SQLite through the
/// guarded door. Returns how many events went.
fn remove_prefix(
    conn: &mut DbConnection,
    tenant_id: TenantId,
    base: i64,
    last: i64,
    last_hash: &str,
) -> StoreResult<i64> {
    if let DbConnection::Pg(pg) = conn {
        #[derive(QueryableByName)]
        struct Removed {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            removed: i64,
        }
        let done: Removed = diesel::sql_query("SELECT auditlog_retain($1, $2, $3) AS removed")
            .bind::<diesel::sql_types::BigInt, _>(tenant_id)
            .bind::<diesel::sql_types::BigInt, _>(last)
            .bind::<diesel::sql_types::Text, _>(last_hash)
            .get_result(pg)?;
        return Ok(done.removed);
    }
    let ids = events::table
        .filter(events::tenant_id.eq(tenant_id))
        .filter(events::seq.gt(base))
        .filter(events::seq.le(last))
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
            .filter(events::seq.gt(base))
            .filter(events::seq.le(last)),
    )
    .execute(conn)?;
    close_guard(conn, "retention")?;
    diesel::update(tenants_table::table.find(tenant_id))
        .set((tenants_table::chain_base_seq.eq(last), tenants_table::chain_base_hash.eq(last_hash)))
        .execute(conn)?;
    Ok(removed as i64)
}

/// Streams rows `first..=last` into a gzip file (via a temporary name, synced, then renamed).
#[allow(clippy::too_many_arguments)]
fn write_file(
    conn: &mut DbConnection,
    tenant_id: TenantId,
    slug: &str,
    first: i64,
    last: i64,
    prev_hash: &str,
    boundary: &Boundary,
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
        prefix: boundary.prefix.clone(),
        checkpoint: Some(boundary.note.clone()),
    };
    let temp = path.with_extension("gz.partial");
    // A fresh file, never through a link left in its place (`create_new` does not follow one).
    match fs::remove_file(&temp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(e)),
        _ => {}
    }
    let file = fs::OpenOptions::new().write(true).create_new(true).open(&temp).map_err(io)?;
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

/// Every event row of an archive file, in order (check the file with [`verify_file`] first).
pub fn read_rows(path: &Path) -> StoreResult<Vec<EventRow>> {
    let reader = BufReader::new(GzDecoder::new(File::open(path).map_err(io)?));
    reader
        .lines()
        .skip(1)
        .map(|line| {
            serde_json::from_str(&line.map_err(io)?).map_err(|e| StoreError::Corrupt(format!("bad row: {e}")))
        })
        .collect()
}

/// The hashes of complete subtrees of archived leaves (low ones: each is hashed from its leaves),
/// read from the tenant's archive files.
pub fn read_nodes(
    conn: &mut DbConnection,
    root: &Path,
    tenant: &crate::models::Tenant,
    nodes: &[NodeId],
) -> StoreResult<Vec<Hash>> {
    let mut found = Vec::with_capacity(nodes.len());
    for id in nodes {
        let (first, last) = (id.start() as i64 + 1, id.end() as i64);
        let name: String = archives::table
            .filter(archives::tenant_id.eq(tenant.id))
            .filter(archives::first_seq.le(first))
            .filter(archives::last_seq.ge(last))
            .select(archives::file_name)
            .first(conn)?;
        let rows = read_rows(&recorded_path(root, &tenant.slug, &name)?)?;
        let leaves = (first..=last)
            .map(|seq| {
                let row = rows
                    .iter()
                    .find(|r| r.seq == seq)
                    .ok_or_else(|| StoreError::Corrupt(format!("{name} lacks seq {seq}")))?;
                row.tree_leaf().ok_or_else(|| StoreError::Corrupt(format!("{name}: seq {seq} has no hash")))
            })
            .collect::<StoreResult<Vec<Hash>>>()?;
        found.push(merkle::subtree_hash(&leaves));
    }
    Ok(found)
}

/// What an archive file proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveProof {
    pub header: ArchiveHeader,
    /// The signed boundary the file's events recompute to (format 2), and whether its signature
    /// was checked (a public key was given).
    pub boundary: Option<Checkpoint>,
    pub signature_checked: bool,
}

/// Checks an archive file on its own: every row's position, link and content, and (format 2)
/// that the stored prefix and the rows recompute the root of the signed boundary, whose
/// signature is checked when `verifier` is given.
pub fn verify_file(path: &Path, verifier: Option<&Verifier>) -> StoreResult<ArchiveProof> {
    let reader = BufReader::new(GzDecoder::new(File::open(path).map_err(io)?));
    let mut lines = reader.lines();
    let corrupt = |m: String| StoreError::Corrupt(m);
    let header: ArchiveHeader =
        serde_json::from_str(&lines.next().ok_or_else(|| corrupt("empty archive".into()))?.map_err(io)?)
            .map_err(|e| corrupt(format!("bad header: {e}")))?;
    let tree = match header.format.as_str() {
        FORMAT => {
            let prefix: Vec<Hash> = header
                .prefix
                .iter()
                .map(|h| BASE64.decode(h).ok().and_then(|b| b.try_into().ok()))
                .collect::<Option<_>>()
                .ok_or_else(|| corrupt("the header's prefix hashes are not hashes".into()))?;
            Some(
                Frontier::new(header.first_seq as u64 - 1, &prefix)
                    .ok_or_else(|| corrupt("the header's prefix does not fit its first seq".into()))?,
            )
        }
        LEGACY_FORMAT => None,
        other => return Err(corrupt(format!("unknown archive format {other:?}"))),
    };
    let mut frontier = tree.clone();
    let (mut expected, mut prev, mut count) = (header.first_seq, header.prev_hash.clone(), 0i64);
    for line in lines {
        let row: EventRow =
            serde_json::from_str(&line.map_err(io)?).map_err(|e| corrupt(format!("bad row: {e}")))?;
        crate::integrity::check_content(&row, expected, &prev)
            .map_err(|(seq, reason)| corrupt(format!("seq {seq}: {reason}")))?;
        if let Some(frontier) = frontier.as_mut() {
            frontier.push(row.tree_leaf().ok_or_else(|| corrupt(format!("seq {}: no hash", row.seq)))?);
        }
        prev = row.hash;
        expected += 1;
        count += 1;
    }
    if count != header.count || expected - 1 != header.last_seq || prev != header.last_hash {
        return Err(corrupt("the archive is incomplete".into()));
    }
    let Some(frontier) = frontier else {
        return Ok(ArchiveProof { header, boundary: None, signature_checked: false });
    };
    let note = header
        .checkpoint
        .as_deref()
        .ok_or_else(|| corrupt("the archive carries no signed boundary".into()))?;
    let boundary = match verifier {
        Some(verifier) => Checkpoint::open(note, verifier),
        None => auditlog_tlog::note::split(note).and_then(|(text, _)| Checkpoint::parse(text)),
    }
    .map_err(|e| corrupt(format!("the archive's boundary checkpoint: {e}")))?;
    if !boundary.origin.ends_with(&format!("/{}/archived", header.tenant))
        || boundary.size != header.last_seq as u64
    {
        return Err(corrupt("the archive's checkpoint is not the retention boundary at its last seq".into()));
    }
    if boundary.root != frontier.root() {
        return Err(corrupt("the archive's events do not recompute the signed boundary's root".into()));
    }
    Ok(ArchiveProof { header, boundary: Some(boundary), signature_checked: verifier.is_some() })
}

pub fn list(conn: &mut DbConnection, tenant_id: TenantId) -> StoreResult<Vec<Archive>> {
    Ok(archives::table
        .filter(archives::tenant_id.eq(tenant_id))
        .order(archives::first_seq.desc())
        .select(Archive::as_select())
        .load(conn)?)
}

pub fn get(conn: &mut DbConnection, tenant_id: TenantId, id: i64) -> StoreResult<Archive> {
    archives::table
        .filter(archives::tenant_id.eq(tenant_id))
        .filter(archives::id.eq(id))
        .select(Archive::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

/// Sets (or with `None` clears) a tenant's retention in days.
pub fn set_retention(conn: &mut DbConnection, tenant_id: TenantId, days: Option<i32>) -> StoreResult<()> {
    diesel::update(tenants_table::table.find(tenant_id))
        .set(tenants_table::retention_days.eq(days))
        .execute(conn)?;
    Ok(())
}

/// Tenants with a retention setting, for the scheduled job.
pub fn tenants_with_retention(conn: &mut DbConnection) -> StoreResult<Vec<(TenantId, i32)>> {
    Ok(tenants_table::table
        .filter(tenants_table::retention_days.is_not_null())
        .select((tenants_table::id, tenants_table::retention_days.assume_not_null()))
        .load(conn)?)
}
