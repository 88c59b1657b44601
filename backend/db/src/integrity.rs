//! Verifying a tenant's events against the checkpoint log, not against the database's word.
//!
//! The tree is recomputed from the stored events in `seq` order and its root compared, at every
//! size the log holds a signed checkpoint for, with the signed root; the retention boundary must
//! be the signed one. Along the way every row is checked on its own: its content gives its leaf
//! hash (format 1: its chain link), it links to its predecessor, its derived columns (module, verb,
//! keyword text, related-record rows) follow from hashed fields, stored tree nodes match, and a
//! tombstone is blank and named by a later deletion record, which names only tombstones.

use crate::ids::TenantId;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use auditlog_tlog::merkle::{Frontier, NodeId};
use auditlog_tlog::Hash;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::chain::{event_hash, GENESIS_HASH};
use crate::checkpoints::LoggedCheckpoint;
use crate::connection::DbConnection;
use crate::error::StoreResult;
use crate::models::EventRow;
use crate::queries::ingest::related_rows;
use crate::queries::{tenants, tree};
use crate::schema::{archives, event_related, events, merkle_nodes};

const BATCH: i64 = 5000;

/// The outcome of a verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    pub ok: bool,
    /// Live events whose content was checked.
    pub events_checked: i64,
    /// The tenant's recorded head: last seq and its hash.
    pub head_seq: i64,
    pub head_hash: String,
    /// The first seq that cannot be vouched for (for a root that differs from its checkpoint, the
    /// first seq after the previous matching checkpoint).
    pub first_bad_seq: Option<i64>,
    pub reason: Option<String>,
    /// Signed tree checkpoints whose root was recomputed and matched.
    pub checkpoints_checked: i64,
    /// The largest checkpointed size, if any.
    pub checkpoint_size: Option<i64>,
    /// Seq of the last archived event (the signed retention boundary); 0 when nothing is archived.
    pub boundary_seq: i64,
}

/// What verification needs from the log: every line, with the origins it belongs to.
pub struct LogEvidence<'a> {
    pub lines: &'a [Result<LoggedCheckpoint, String>],
    pub origin: &'a str,
    pub boundary_origin: &'a str,
    /// Where archive files are, to check that the archived prefix was written out.
    pub archive_dir: Option<&'a Path>,
}

struct Failure {
    seq: Option<i64>,
    reason: String,
}

fn fail<T>(seq: impl Into<Option<i64>>, reason: impl Into<String>) -> Result<T, Failure> {
    Err(Failure { seq: seq.into(), reason: reason.into() })
}

/// A row's deletion bookkeeping.
struct DeletionRecord {
    seq: i64,
    actor_id: String,
    recorded_at: NaiveDateTime,
    exact_time: bool,
    ids: Vec<i64>,
}

/// Checks `tenant_id`'s stored events on their own, without a checkpoint log: contents, links,
/// derived columns, stored nodes and deletion records — what a crash or a bug could break. Only
/// [`verify_tree`] with the log detects a consistent rewrite.
pub fn verify_chain(
    conn: &mut DbConnection,
    tenant_id: TenantId,
    progress: impl FnMut(i64, i64),
) -> StoreResult<Verification> {
    let evidence = LogEvidence { lines: &[], origin: "", boundary_origin: "", archive_dir: None };
    verify_tree(conn, tenant_id, &evidence, progress)
}

/// Recomputes `tenant_id`'s tree and checks it against the log. `progress` hears (checked, total).
pub fn verify_tree(
    conn: &mut DbConnection,
    tenant_id: TenantId,
    log: &LogEvidence<'_>,
    mut progress: impl FnMut(i64, i64),
) -> StoreResult<Verification> {
    conn.snapshot(|conn| verify_snapshot(conn, tenant_id, log, &mut progress))
}

/// [`verify_tree`] on one snapshot: the head and the rows read as they stood together, so events
/// committed while the check runs are neither missing from it nor "beyond the recorded head".
fn verify_snapshot(
    conn: &mut DbConnection,
    tenant_id: TenantId,
    log: &LogEvidence<'_>,
    progress: &mut impl FnMut(i64, i64),
) -> StoreResult<Verification> {
    let tenant = tenants::get(conn, tenant_id)?;
    let mut result = Verification {
        ok: false,
        events_checked: 0,
        head_seq: tenant.head_seq,
        head_hash: tenant.head_hash.clone(),
        first_bad_seq: None,
        reason: None,
        checkpoints_checked: 0,
        checkpoint_size: None,
        boundary_seq: tenant.chain_base_seq,
    };
    match check(conn, &tenant, log, &mut result, progress)? {
        Ok(()) => result.ok = true,
        Err(failure) => {
            result.first_bad_seq = failure.seq;
            result.reason = Some(failure.reason);
        }
    }
    Ok(result)
}

fn check(
    conn: &mut DbConnection,
    tenant: &crate::models::Tenant,
    log: &LogEvidence<'_>,
    result: &mut Verification,
    progress: &mut impl FnMut(i64, i64),
) -> StoreResult<Result<(), Failure>> {
    // The log: every line signed, of this tenant, tree sizes never shrinking, one root per size.
    let mut tree_points: Vec<&LoggedCheckpoint> = Vec::new();
    let mut boundaries: Vec<&LoggedCheckpoint> = Vec::new();
    for line in log.lines {
        let logged = match line {
            Ok(logged) => logged,
            Err(e) => return Ok(fail(None, format!("the checkpoint log does not verify: {e}"))),
        };
        if logged.checkpoint.origin == log.origin {
            if let Some(last) = tree_points.last() {
                if last.size() > logged.size()
                    || (last.size() == logged.size() && last.checkpoint.root != logged.checkpoint.root)
                {
                    return Ok(fail(
                        logged.size() as i64,
                        format!(
                            "the checkpoint log forks: two signed trees disagree at {} events",
                            logged.size()
                        ),
                    ));
                }
            }
            tree_points.push(logged);
        } else if logged.checkpoint.origin == log.boundary_origin {
            boundaries.push(logged);
        } else {
            return Ok(fail(
                None,
                format!("the checkpoint log holds a checkpoint of another log: {}", logged.checkpoint.origin),
            ));
        }
    }
    result.checkpoint_size = tree_points.last().map(|c| c.size() as i64);

    // The retention boundary: the database's must be a signed one (a retention run that failed
    // after signing leaves a later boundary unused), its archives present, and the stored nodes
    // of the prefix must give the signed root.
    let base = tenant.chain_base_seq;
    let boundary = boundaries.iter().rev().find(|b| b.size() as i64 == base).copied();
    if base > 0 && boundary.is_none() {
        return Ok(fail(
            1,
            format!("the events up to seq {base} are gone from the database, but no signed retention boundary says so"),
        ));
    }
    let mut frontier = Frontier::default();
    if let Some(boundary) = boundary {
        if let Err(failure) = check_archives(conn, tenant, base, log.archive_dir)? {
            return Ok(Err(failure));
        }
        frontier = match tree::frontier(conn, tenant.id, base as u64) {
            Ok(frontier) => frontier,
            Err(e) => return Ok(fail(base, format!("the archived prefix's tree nodes are unreadable: {e}"))),
        };
        if frontier.root() != boundary.checkpoint.root {
            return Ok(fail(
                base,
                "the archived prefix's stored tree nodes differ from the signed retention boundary",
            ));
        }
    }
    let mut pending = tree_points.iter().filter(|c| c.size() as i64 > base).peekable();
    let mut last_good = base;

    let total = tenant.head_seq - base;
    let mut expected = base + 1;
    let mut prev = if base > 0 { tenant.chain_base_hash.clone() } else { GENESIS_HASH.to_string() };
    let mut tombstones: HashMap<i64, (i64, String, NaiveDateTime)> = HashMap::new();
    let mut records: Vec<DeletionRecord> = Vec::new();
    loop {
        let rows: Vec<EventRow> = events::table
            .filter(events::tenant_id.eq(tenant.id))
            .filter(events::seq.ge(expected))
            .order(events::seq.asc())
            .limit(BATCH)
            .select(EventRow::as_select())
            .load(conn)?;
        let Some(last) = rows.last() else { break };
        let (first_seq, last_seq) = (rows[0].seq, last.seq);
        let texts: HashMap<i64, (String, String)> = events::table
            .filter(events::tenant_id.eq(tenant.id))
            .filter(events::seq.between(first_seq, last_seq))
            .select((events::seq, events::search_text, events::ip_key))
            .load::<(i64, String, String)>(conn)?
            .into_iter()
            .map(|(seq, text, ip_key)| (seq, (text, ip_key)))
            .collect();
        let ids: Vec<crate::EventId> = rows.iter().map(|r| r.id).collect();
        let mut related: HashMap<crate::EventId, BTreeSet<(String, String)>> = HashMap::new();
        for (event_id, entity_type, entity_id) in event_related::table
            .filter(event_related::tenant_id.eq(tenant.id))
            .filter(event_related::event_id.eq_any(&ids))
            .select((event_related::event_id, event_related::entity_type, event_related::entity_id))
            .load::<(i64, String, String)>(conn)?
        {
            related.entry(crate::EventId(event_id)).or_default().insert((entity_type, entity_id));
        }
        // Each row checks on its own against the stored hash before it — the bulk of the work,
        // spread over the cores; the first failure in seq order is the one reported.
        let previous: Vec<&str> =
            std::iter::once(prev.as_str()).chain(rows.iter().map(|r| r.hash.as_str())).collect();
        let checks = crate::parallel::in_parallel(&rows, |i, row| {
            check_row(row, expected + i as i64, previous[i], texts.get(&row.seq), related.get(&row.id))
        });
        let mut completed: Vec<(NodeId, Hash)> = Vec::new();
        for (row, check) in rows.iter().zip(checks) {
            if let Err(failure) = check {
                return Ok(Err(failure));
            }
            if row.deleted_at.is_some() {
                tombstones.insert(
                    row.id.get(),
                    (row.seq, row.deleted_by.clone().unwrap_or_default(), row.deleted_at.unwrap_or_default()),
                );
            } else {
                result.events_checked += 1;
                if row.action == "auditlog.deleted" {
                    records.push(DeletionRecord {
                        seq: row.seq,
                        actor_id: row.actor_id.clone(),
                        recorded_at: row.recorded_at,
                        exact_time: row.leaf_version == crate::leaf::LEAF_FORMAT,
                        ids: crate::queries::deletion::named_ids(&row.metadata),
                    });
                }
            }
            let Some(leaf) = row.tree_leaf() else {
                return Ok(fail(row.seq, "the event's hash is not a hash"));
            };
            completed.extend(frontier.push(leaf));
            while let Some(point) = pending.next_if(|c| c.size() as i64 == row.seq) {
                if frontier.root() != point.checkpoint.root {
                    return Ok(fail(
                        last_good + 1,
                        format!(
                            "the events up to seq {} do not match the checkpoint signed at {}: an event from seq {} on was changed, inserted, removed or reordered",
                            row.seq, point.signed_at.to_rfc3339(), last_good + 1
                        ),
                    ));
                }
                result.checkpoints_checked += 1;
                last_good = row.seq;
            }
            prev = row.hash.clone();
            expected += 1;
        }
        if let Err(failure) = check_nodes(conn, tenant.id, &completed)? {
            return Ok(Err(failure));
        }
        progress(expected - 1 - base, total);
    }

    let last_seq = expected - 1;
    if let Some(point) = pending.next() {
        return Ok(fail(
            last_seq + 1,
            format!(
                "events up to seq {} were signed at {}, but the database ends at seq {last_seq}",
                point.size(),
                point.signed_at.to_rfc3339()
            ),
        ));
    }
    if last_seq != tenant.head_seq {
        let reason = if last_seq < tenant.head_seq {
            format!("events after seq {last_seq} are missing (the head is seq {})", tenant.head_seq)
        } else {
            format!("events beyond the recorded head (seq {}) were inserted", tenant.head_seq)
        };
        return Ok(fail(last_seq.min(tenant.head_seq) + 1, reason));
    }
    if prev != tenant.head_hash {
        return Ok(fail(last_seq, "the last event's hash differs from the recorded head"));
    }
    if tenant.tree_size != tenant.head_seq {
        return Ok(fail(tenant.tree_size.min(tenant.head_seq) + 1, "the tree is not built up to the head"));
    }
    if let Err(failure) = check_deletions(&tombstones, &records) {
        return Ok(Err(failure));
    }
    // Named ids that are not tombstones must be events archived since, not live ones.
    let mut stray: Vec<(i64, i64)> = records
        .iter()
        .flat_map(|r| r.ids.iter().filter(|id| !tombstones.contains_key(id)).map(move |id| (r.seq, *id)))
        .collect();
    stray.sort_unstable();
    for chunk in stray.chunks(1000) {
        let ids: Vec<i64> = chunk.iter().map(|(_, id)| *id).collect();
        let live: BTreeSet<i64> = events::table
            .filter(events::tenant_id.eq(tenant.id))
            .filter(events::id.eq_any(&ids))
            .select(events::id)
            .load::<i64>(conn)?
            .into_iter()
            .collect();
        if let Some((seq, id)) = chunk.iter().find(|(_, id)| live.contains(id)) {
            return Ok(fail(
                *seq,
                format!("the deletion record at seq {seq} names event {id}, which is not deleted"),
            ));
        }
    }
    Ok(Ok(()))
}

/// One row on its own: position, link, content (a tombstone: blank), then derived columns.
fn check_row(
    row: &EventRow,
    expected: i64,
    prev: &str,
    derived: Option<&(String, String)>,
    related: Option<&BTreeSet<(String, String)>>,
) -> Result<(), Failure> {
    check_content(row, expected, prev).map_err(|(seq, reason)| Failure { seq: Some(seq), reason })?;
    let (text, ip_key) = derived.map(|(t, k)| (t.as_str(), k.as_str())).unwrap_or_default();
    if row.deleted_at.is_some() {
        if !text.is_empty() || related.is_some() || ip_key != crate::derived::NO_IP_KEY {
            return fail(row.seq, "a deleted entry (tombstone) still carries content");
        }
        return Ok(());
    }
    if text != crate::derived::row_search_text(row) {
        return fail(row.seq, "the event's keyword text does not follow from its content");
    }
    if ip_key != crate::derived::row_ip_key(row) {
        return fail(row.seq, "the event's IP sort key does not follow from its address");
    }
    let expected_related: BTreeSet<(String, String)> = related_rows(row.tenant_id, row.id, &row.related)
        .into_iter()
        .map(|r| (r.entity_type, r.entity_id))
        .collect();
    if related.cloned().unwrap_or_default() != expected_related {
        return fail(row.seq, "the event's related-record rows do not follow from its content");
    }
    Ok(())
}

/// What a row says of itself, wherever it is kept (the table or an archive file): its position,
/// its link to `prev`, its content against its hash (format 1: against its chain link), module and
/// verb from the action, and a tombstone's blankness. The seq and reason of the first problem.
pub(crate) fn check_content(row: &EventRow, expected: i64, prev: &str) -> Result<(), (i64, String)> {
    if row.seq != expected {
        return Err(if row.seq > expected {
            (expected, format!("event seq {expected} is missing"))
        } else {
            (row.seq, format!("event seq {} appears out of order", row.seq))
        });
    }
    let bad = |reason: &str| Err((row.seq, reason.to_string()));
    if row.prev_hash != prev {
        return bad("the event's link (prev_hash) does not lead to the previous event");
    }
    let deleted = row.deleted_at.is_some();
    if deleted {
        // A tombstone keeps its leaf's plain fields; its personal data is gone, only the digests
        // of it remain (format 2), which its leaf is recomputed from below.
        let blank = row.external_id.is_none()
            && row.actor_id.is_empty()
            && row.actor_name.is_empty()
            && row.actor_email.is_none()
            && row.entity_id.is_none()
            && row.entity_label.is_none()
            && row.description.is_empty()
            && row.changes == "[]"
            && row.related == "[]"
            && row.metadata == "{}"
            && row.ip.is_empty()
            && row.user_agent.is_none();
        if !blank {
            return bad("a deleted entry (tombstone) still carries content");
        }
        let kept_digests = row.salt.as_deref().is_some_and(|s| s.starts_with('{'));
        if row.leaf_version == crate::leaf::LEAF_FORMAT && !kept_digests {
            return bad("a deleted entry (tombstone) has lost the digests its leaf is made of");
        }
    }
    match row.leaf_bytes() {
        Err(e) => return Err((row.seq, format!("the event's content cannot be encoded: {e}"))),
        Ok(Some(bytes)) => {
            if row.tree_leaf() != Some(auditlog_tlog::merkle::leaf_hash(&bytes)) {
                return bad("the event's content does not match its hash");
            }
            if row.leaf_version == crate::leaf::LEGACY_FORMAT
                && !deleted
                && event_hash(prev, &row.chain_input()) != row.hash
            {
                return bad("the event's content does not match its hash");
            }
        }
        Ok(None) => {}
    }
    if row.action.split_once('.') != Some((row.module.as_str(), row.verb.as_str())) {
        return bad("the event's module or verb does not follow from its action");
    }
    Ok(())
}

/// The stored interior nodes the batch completed must be the recomputed ones; of several wrong
/// ones, the failure names the one that covers the earliest seq.
fn check_nodes(
    conn: &mut DbConnection,
    tenant_id: TenantId,
    completed: &[(NodeId, Hash)],
) -> StoreResult<Result<(), Failure>> {
    let mut by_level: BTreeMap<u32, Vec<(u64, Hash)>> = BTreeMap::new();
    for (id, hash) in completed {
        by_level.entry(id.level).or_default().push((id.index, *hash));
    }
    let mut earliest: Option<(i64, u32, u64)> = None;
    for (level, nodes) in by_level {
        let (lo, hi) = (nodes[0].0 as i64, nodes[nodes.len() - 1].0 as i64);
        let stored: HashMap<i64, Vec<u8>> = merkle_nodes::table
            .filter(merkle_nodes::tenant_id.eq(tenant_id))
            .filter(merkle_nodes::level.eq(level as i32))
            .filter(merkle_nodes::idx.between(lo, hi))
            .select((merkle_nodes::idx, merkle_nodes::hash))
            .load::<(i64, Vec<u8>)>(conn)?
            .into_iter()
            .collect();
        // Below the lowest stored level a row is optional (written before that level was
        // hashed from leaves instead, or kept for an archived edge), but one that is there must
        // be right.
        let required = level >= tree::LOWEST_STORED_LEVEL;
        let wrong = nodes.iter().find(|(index, hash)| {
            let row = stored.get(&(*index as i64)).map(Vec::as_slice);
            (required || row.is_some()) && row != Some(&hash[..])
        });
        if let Some((index, _)) = wrong {
            let first_seq = (index << level) as i64 + 1;
            if earliest.is_none_or(|(seq, _, _)| first_seq < seq) {
                earliest = Some((first_seq, level, *index));
            }
        }
    }
    Ok(match earliest {
        None => Ok(()),
        Some((first_seq, level, index)) => fail(
            first_seq,
            format!("the stored tree node at level {level} index {index} is wrong or missing"),
        ),
    })
}

/// Archives must cover seq 1 to the boundary without a gap, and their files must be there.
fn check_archives(
    conn: &mut DbConnection,
    tenant: &crate::models::Tenant,
    base: i64,
    dir: Option<&Path>,
) -> StoreResult<Result<(), Failure>> {
    let files: Vec<(i64, i64, String, i64)> = archives::table
        .filter(archives::tenant_id.eq(tenant.id))
        .order(archives::first_seq.asc())
        .select((archives::first_seq, archives::last_seq, archives::file_name, archives::size_bytes))
        .load(conn)?;
    let mut next = 1;
    for (first, last, name, size) in files {
        if first != next {
            return Ok(fail(next, format!("no archive holds the events from seq {next}")));
        }
        if let Some(dir) = dir {
            let path = match crate::archive::recorded_path(dir, &tenant.slug, &name) {
                Ok(path) => Some(path),
                Err(crate::archive::ArchivePathError::Outside(_)) => {
                    return Ok(fail(
                        first,
                        format!("the archive of seq {first}–{last} is recorded outside the archive folder"),
                    ));
                }
                Err(crate::archive::ArchivePathError::Unreadable(_)) => None,
            };
            if path.and_then(|p| std::fs::metadata(p).ok()).map(|m| m.len() as i64) != Some(size) {
                return Ok(fail(first, format!("the archive file {name} is missing or changed size")));
            }
        }
        next = last + 1;
    }
    if next != base + 1 {
        return Ok(fail(
            next,
            format!("events from seq {next} to the boundary {base} were removed without an archive"),
        ));
    }
    Ok(Ok(()))
}

/// Every tombstone is named by a later deletion record of the same actor (at the same time, for
/// records of format 2).
fn check_deletions(
    tombstones: &HashMap<i64, (i64, String, NaiveDateTime)>,
    records: &[DeletionRecord],
) -> Result<(), Failure> {
    let mut named: HashMap<i64, &DeletionRecord> = HashMap::new();
    for record in records {
        for id in &record.ids {
            named.entry(*id).or_insert(record);
        }
    }
    let mut unnamed: Vec<(i64, i64)> = Vec::new();
    for (id, (seq, by, at)) in tombstones {
        let matches = named
            .get(id)
            .is_some_and(|r| r.seq > *seq && r.actor_id == *by && (!r.exact_time || r.recorded_at == *at));
        if !matches {
            unnamed.push((*seq, *id));
        }
    }
    if let Some((seq, id)) = unnamed.into_iter().min() {
        return fail(seq, format!("event {id} was deleted without a deletion record naming it"));
    }
    Ok(())
}
