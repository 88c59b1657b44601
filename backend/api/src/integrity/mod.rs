//! Tamper evidence (docs/INTEGRITY.md): signed checkpoints of each tenant's Merkle tree, receipts
//! for ingest, inclusion and consistency proofs, and verification of the stored events against
//! the checkpoint log.
//!
//! - [`routes`]: the endpoints
//! - this module: the views they answer with, and the work shared with the schedule and the CLI

pub mod routes;

use std::path::Path;

use auditlog_db::checkpoints::{read_log, CheckpointKind, LoggedCheckpoint, Notary};
use auditlog_db::connection::DbConnection;
use auditlog_db::integrity::{verify_tree, LogEvidence, Verification};
use auditlog_db::models::{Actor, Tenant};
use auditlog_db::queries::{tenants, verifications};
use auditlog_db::DbPool;
use auditlog_tlog::note::Verifier;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::audit::{AuditEvent, RequestMeta};
use crate::config::Settings;
use crate::http::error::ApiError;

/// A signed checkpoint: the tenant's tree had `tree_size` events with this root.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CheckpointOut {
    /// The log's name: `<deployment>/<tenant slug>` (`…/archived` for a retention boundary).
    pub origin: String,
    /// Events in the tree (the last one is seq `tree_size`).
    pub tree_size: i64,
    /// The tree's root hash, standard base64.
    pub root_hash: String,
    /// When the server signed it (its word; not part of the signed text).
    pub signed_at: DateTime<Utc>,
    /// The checkpoint as a c2sp.org signed note: check it with the public key
    /// (`GET /integrity/public-key`). `origin`, `tree_size` and `root_hash` repeat its text.
    pub note: String,
}

impl From<&LoggedCheckpoint> for CheckpointOut {
    fn from(c: &LoggedCheckpoint) -> Self {
        CheckpointOut {
            origin: c.checkpoint.origin.clone(),
            tree_size: c.checkpoint.size as i64,
            root_hash: c.checkpoint.root_base64(),
            signed_at: c.signed_at,
            note: c.note.clone(),
        }
    }
}

/// What an integrator keeps of an ingest: a signed checkpoint whose tree includes the batch, and
/// where each event is in it. With it, `GET /integrity/consistency?first=<tree_size>&second=…`
/// proves later that the history it covers was not changed, and `GET /events/{id}/proof` that
/// an event is in it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Receipt {
    pub checkpoint: CheckpointOut,
    /// The leaf index (`seq − 1`) of each posted event, in request order.
    pub leaf_indexes: Vec<i64>,
}

/// The result of verifying the stored events against the checkpoint log.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationOut {
    /// `true` when every event matches its hash and links to its predecessor, the tree
    /// recomputed from them has the signed root at every checkpointed size, the retention boundary
    /// is the signed one, and every deleted entry is named by a deletion record (and vice versa).
    pub ok: bool,
    /// Live events whose content was checked (archived ones are vouched for by the signed
    /// retention boundary and their archive files).
    pub events_checked: i64,
    /// The tenant's recorded head: its last seq and that event's hash.
    pub head_seq: i64,
    pub head_hash: String,
    /// The first seq that cannot be vouched for; when the tree differs from a checkpoint, the first
    /// seq after the previous checkpoint that matched.
    pub first_bad_seq: Option<i64>,
    /// What is wrong there.
    pub reason: Option<String>,
    /// Seq of the last archived event (the signed retention boundary; 0: nothing archived).
    pub checkpoint_seq: i64,
    /// Signed checkpoints whose root was recomputed and matched.
    pub checkpoints_checked: i64,
    /// Events covered by the latest signed checkpoint.
    pub checkpoint_size: Option<i64>,
    pub checked_at: DateTime<Utc>,
}

impl VerificationOut {
    pub fn new(v: Verification, checked_at: DateTime<Utc>) -> Self {
        VerificationOut {
            ok: v.ok,
            events_checked: v.events_checked,
            head_seq: v.head_seq,
            head_hash: v.head_hash,
            first_bad_seq: v.first_bad_seq,
            reason: v.reason,
            checkpoint_seq: v.boundary_seq,
            checkpoints_checked: v.checkpoints_checked,
            checkpoint_size: v.checkpoint_size,
            checked_at,
        }
    }
}

/// The actor of integrity events.
fn integrity_actor() -> Actor {
    Actor {
        id: "system:integrity".into(),
        name: "Integrity check".into(),
        email: None,
        role: None,
        actor_type: "system".into(),
    }
}

/// Verifies one tenant against its checkpoint log in `log_dir`, with the public key `key` alone,
/// and stores the run; a failure is logged at `error` level and recorded as an `integrity.failed`
/// event. `trigger` says what started it.
pub fn verify_tenant(
    conn: &mut DbConnection,
    key: &Verifier,
    log_dir: &Path,
    settings: &Settings,
    tenant: &Tenant,
    trigger: &str,
    progress: impl FnMut(i64, i64),
) -> Result<Verification, ApiError> {
    let lines = read_log(&log_dir.join(auditlog_db::checkpoints::log_file_name(&tenant.slug)), key)?;
    let origin = format!("{}/{}", key.name(), tenant.slug);
    let boundary_origin = format!("{origin}/archived");
    let evidence = LogEvidence {
        lines: &lines,
        origin: &origin,
        boundary_origin: &boundary_origin,
        archive_dir: Some(&settings.archive_dir),
    };
    // Archives this process did not write are checked from the object store's copies.
    for archived in auditlog_db::archive::list(conn, tenant.id)? {
        crate::retention::ensure_local(settings, &tenant.slug, &archived.file_name)?;
    }
    let started = Utc::now().naive_utc();
    let result = verify_tree(conn, tenant.id, &evidence, progress)?;
    verifications::record(conn, tenant.id, started, Utc::now().naive_utc(), &result, trigger)?;
    if !result.ok {
        log::error!(
            "integrity: tenant {} fails verification at seq {:?}: {}",
            tenant.slug,
            result.first_bad_seq,
            result.reason.as_deref().unwrap_or_default()
        );
        let mut event = AuditEvent::new("integrity.failed", integrity_actor()).meta("trigger", trigger);
        if let Some(seq) = result.first_bad_seq {
            event = event.meta("first_bad_seq", seq);
        }
        event.meta("reason", result.reason.clone().unwrap_or_default()).record(
            conn,
            tenant.id,
            &RequestMeta::default(),
        )?;
    }
    Ok(result)
}

/// Signs a checkpoint for every tenant whose tree grew since its latest one (the periodic
/// checkpoint). A tree that does not extend its log is not signed, and is reported.
pub fn checkpoint_all(pool: &DbPool, notary: &Notary) -> Result<usize, ApiError> {
    let mut conn = pool.get().map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let mut signed = 0;
    for tenant in tenants::all(&mut conn)? {
        if tenant.head_seq == 0 || tenant.tree_size != tenant.head_seq {
            continue;
        }
        let latest = notary.latest(&tenant.slug)?.map(|c| c.size()).unwrap_or(0);
        if latest >= tenant.head_seq as u64 {
            continue;
        }
        match notary.cover(&mut conn, &tenant, tenant.head_seq as u64, None, CheckpointKind::Periodic) {
            Ok(_) => signed += 1,
            Err(e) => log::error!("integrity: no checkpoint for tenant {}: {e}", tenant.slug),
        }
    }
    Ok(signed)
}

/// Verifies every tenant whose last verification is older than `VERIFY_INTERVAL_SECONDS` (or
/// that was never verified): the scheduled check, which restarts do not postpone. Returns how
/// many were verified and how many failed.
pub fn verify_due(pool: &DbPool, notary: &Notary, settings: &Settings) -> Result<(usize, usize), ApiError> {
    let mut conn = pool.get().map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let due_before =
        Utc::now().naive_utc() - chrono::TimeDelta::seconds(settings.verify_interval_seconds as i64);
    let (mut verified, mut failed) = (0, 0);
    for tenant in tenants::all(&mut conn)? {
        if verifications::latest(&mut conn, tenant.id)?.is_some_and(|run| run.finished_at > due_before) {
            continue;
        }
        verified += 1;
        if !verify_tenant(
            &mut conn,
            notary.verifier(),
            notary.dir(),
            settings,
            &tenant,
            "schedule",
            |_, _| {},
        )?
        .ok
        {
            failed += 1;
        }
    }
    Ok((verified, failed))
}

/// Builds the tree of every tenant whose events predate it, and signs its first checkpoint (and
/// its retention boundary, when it has archived events); returns what was built, by slug.
pub fn build_trees(
    conn: &mut DbConnection,
    notary: &Notary,
    settings: &Settings,
) -> Result<Vec<(String, u64)>, ApiError> {
    let mut built = Vec::new();
    for tenant in tenants::all(conn)? {
        let Some(done) = auditlog_db::queries::tree::build(conn, tenant.id, &settings.archive_dir)? else {
            continue;
        };
        if let Some(boundary) = done.boundary {
            notary.sign_boundary(&tenant.slug, boundary.size, boundary.root)?;
        }
        notary.cover(conn, &tenant, done.head.size, Some(done.head.root), CheckpointKind::Migration)?;
        built.push((tenant.slug, done.head.size));
    }
    Ok(built)
}
