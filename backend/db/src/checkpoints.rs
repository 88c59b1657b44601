//! Signed checkpoints and the log that keeps them outside the database.
//!
//! Every checkpoint the server signs is appended to a file per tenant, `<CHECKPOINT_DIR>/<tenant
//! slug>.log`, one JSON object a line (`kind`, `signed_at`, `note`), synced before the request that
//! caused it is answered. The note is a c2sp.org/tlog-checkpoint signed with the deployment's
//! Ed25519 key: origin `<deployment>/<tenant slug>` for the tree, `<deployment>/<tenant
//! slug>/archived` for a retention boundary (the archived prefix's size and root). Only the
//! note is evidence; `kind` and `signed_at` are the server's word.
//!
//! Before signing, the server checks that the tree it is about to sign extends the latest
//! checkpoint in the log (a consistency proof from the stored nodes): it never signs a history that
//! someone rewrote in the database.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use auditlog_tlog::merkle::verify_consistency;
use auditlog_tlog::note::{Signer, Verifier};
use auditlog_tlog::{Checkpoint, Hash};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::connection::DbConnection;
use crate::error::{StoreError, StoreResult};
use crate::models::Tenant;
use crate::queries::tree;

/// Why the server signed a checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckpointKind {
    /// For an ingest request, whose receipt it is.
    Ingest,
    /// The periodic checkpoint of a tenant that received events.
    Periodic,
    /// The first checkpoint of a tree built for existing events.
    Migration,
    /// A retention boundary: the archived prefix.
    Boundary,
}

/// One line of a checkpoint log.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct LogLine {
    kind: CheckpointKind,
    signed_at: DateTime<Utc>,
    note: String,
}

/// A checkpoint as logged: the signed note and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedCheckpoint {
    pub kind: CheckpointKind,
    pub signed_at: DateTime<Utc>,
    pub note: String,
    pub checkpoint: Checkpoint,
}

impl LoggedCheckpoint {
    pub fn size(&self) -> u64 {
        self.checkpoint.size
    }

    fn read(line: &str, verifier: &Verifier) -> Result<Self, String> {
        let parsed: LogLine = serde_json::from_str(line).map_err(|e| format!("unreadable line: {e}"))?;
        let checkpoint = Checkpoint::open(&parsed.note, verifier).map_err(|e| e.to_string())?;
        Ok(LoggedCheckpoint { kind: parsed.kind, signed_at: parsed.signed_at, note: parsed.note, checkpoint })
    }
}

fn io(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Corrupt(format!("checkpoint log {}: {e}", path.display()))
}

/// Where a tenant's checkpoints are logged, and the positions of its lines read so far.
#[derive(Default)]
struct LogIndex {
    /// Bytes of the file read so far.
    read_to: u64,
    /// (tree size, byte offset, length) of each tree checkpoint line, in file order.
    tree: Vec<(u64, u64, usize)>,
    /// The same for retention boundaries.
    boundaries: Vec<(u64, u64, usize)>,
}

/// Signs checkpoints with the deployment's key and keeps their logs.
pub struct Notary {
    signer: Signer,
    verifier: Verifier,
    dir: PathBuf,
    /// Per tenant slug: appends are serialised in this process (and by a file lock across
    /// processes), and the log's index is kept.
    logs: Mutex<HashMap<String, Arc<Mutex<LogIndex>>>>,
}

impl Notary {
    /// `signer`'s name is the deployment's, the first part of every origin.
    pub fn new(signer: Signer, dir: PathBuf) -> Self {
        Notary { verifier: signer.verifier(), signer, dir, logs: Mutex::new(HashMap::new()) }
    }

    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The tree's origin line for a tenant.
    pub fn origin(&self, slug: &str) -> String {
        format!("{}/{slug}", self.signer.name())
    }

    /// The origin of a tenant's retention boundaries.
    pub fn boundary_origin(&self, slug: &str) -> String {
        format!("{}/{slug}/archived", self.signer.name())
    }

    pub fn log_path(&self, slug: &str) -> PathBuf {
        self.dir.join(log_file_name(slug))
    }

    fn index(&self, slug: &str) -> Arc<Mutex<LogIndex>> {
        let mut logs = self.logs.lock().unwrap_or_else(|e| e.into_inner());
        logs.entry(slug.to_string()).or_default().clone()
    }

    /// Reads what was appended to the log since the index last looked (by any process).
    fn refresh(&self, slug: &str, index: &mut LogIndex) -> StoreResult<()> {
        let path = self.log_path(slug);
        let mut file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io(&path, e)),
        };
        let len = file.metadata().map_err(|e| io(&path, e))?.len();
        if len <= index.read_to {
            return Ok(());
        }
        file.seek(SeekFrom::Start(index.read_to)).map_err(|e| io(&path, e))?;
        let mut tail = Vec::with_capacity((len - index.read_to) as usize);
        file.take(len - index.read_to).read_to_end(&mut tail).map_err(|e| io(&path, e))?;
        // Only whole lines: a line being appended right now is read next time.
        let whole = tail.iter().rposition(|b| *b == b'\n').map(|i| i + 1).unwrap_or(0);
        let boundary = self.boundary_origin(slug);
        let mut offset = index.read_to;
        for line in tail[..whole].split_inclusive(|b| *b == b'\n') {
            let text = std::str::from_utf8(line).unwrap_or_default();
            // The index trusts what it reads only for finding lines; every answer is verified.
            if let Ok(parsed) = serde_json::from_str::<LogLine>(text) {
                if let Ok(checkpoint) = Checkpoint::parse(
                    auditlog_tlog::note::split(&parsed.note).map(|(t, _)| t).unwrap_or_default(),
                ) {
                    let entry = (checkpoint.size, offset, line.len());
                    if checkpoint.origin == boundary {
                        index.boundaries.push(entry);
                    } else {
                        index.tree.push(entry);
                    }
                }
            }
            offset += line.len() as u64;
        }
        index.read_to = offset;
        Ok(())
    }

    fn read_at(&self, slug: &str, (_, offset, len): (u64, u64, usize)) -> StoreResult<LoggedCheckpoint> {
        let path = self.log_path(slug);
        let mut file = File::open(&path).map_err(|e| io(&path, e))?;
        file.seek(SeekFrom::Start(offset)).map_err(|e| io(&path, e))?;
        let mut line = vec![0u8; len];
        file.read_exact(&mut line).map_err(|e| io(&path, e))?;
        LoggedCheckpoint::read(std::str::from_utf8(&line).unwrap_or_default(), &self.verifier)
            .map_err(|e| StoreError::Corrupt(format!("checkpoint log {}: {e}", path.display())))
    }

    /// The latest tree checkpoint of a tenant, if any.
    pub fn latest(&self, slug: &str) -> StoreResult<Option<LoggedCheckpoint>> {
        let index = self.index(slug);
        let mut index = index.lock().unwrap_or_else(|e| e.into_inner());
        self.refresh(slug, &mut index)?;
        index.tree.last().copied().map(|entry| self.read_at(slug, entry)).transpose()
    }

    /// The latest retention boundary of a tenant, if any.
    pub fn latest_boundary(&self, slug: &str) -> StoreResult<Option<LoggedCheckpoint>> {
        let index = self.index(slug);
        let mut index = index.lock().unwrap_or_else(|e| e.into_inner());
        self.refresh(slug, &mut index)?;
        index.boundaries.last().copied().map(|entry| self.read_at(slug, entry)).transpose()
    }

    /// The tree checkpoint of exactly `size` leaves, if one was signed.
    pub fn at_size(&self, slug: &str, size: u64) -> StoreResult<Option<LoggedCheckpoint>> {
        let index = self.index(slug);
        let mut index = index.lock().unwrap_or_else(|e| e.into_inner());
        self.refresh(slug, &mut index)?;
        // Sizes never decrease along the log.
        let at = index.tree.partition_point(|(s, _, _)| *s < size);
        match index.tree.get(at) {
            Some(entry) if entry.0 == size => self.read_at(slug, *entry).map(Some),
            _ => Ok(None),
        }
    }

    /// Up to `limit` tree checkpoints with more than `after` leaves, oldest first.
    pub fn list_after(&self, slug: &str, after: u64, limit: usize) -> StoreResult<Vec<LoggedCheckpoint>> {
        let index = self.index(slug);
        let mut index = index.lock().unwrap_or_else(|e| e.into_inner());
        self.refresh(slug, &mut index)?;
        let at = index.tree.partition_point(|(s, _, _)| *s <= after);
        index.tree[at..].iter().take(limit).map(|entry| self.read_at(slug, *entry)).collect()
    }

    /// A checkpoint covering at least `size` leaves of `tenant`'s tree: the latest logged one if
    /// it does, else a new one of `size` leaves and `root` (read from the stored tree when not
    /// given), signed and logged after checking that it extends the latest.
    pub fn cover(
        &self,
        conn: &mut DbConnection,
        tenant: &Tenant,
        size: u64,
        root: Option<Hash>,
        kind: CheckpointKind,
    ) -> StoreResult<LoggedCheckpoint> {
        self.cover_grown(conn, tenant, size, root, None, kind)
    }

    /// As [`Notary::cover`], for a tree of `size` leaves and `root` known to have been grown from
    /// the tree `extends` (size, root) by appending leaves: when the latest checkpoint is exactly
    /// that tree, it is extended by construction and no consistency proof is read.
    pub fn cover_grown(
        &self,
        conn: &mut DbConnection,
        tenant: &Tenant,
        size: u64,
        root: Option<Hash>,
        extends: Option<(u64, Hash)>,
        kind: CheckpointKind,
    ) -> StoreResult<LoggedCheckpoint> {
        let index = self.index(&tenant.slug);
        let mut index = index.lock().unwrap_or_else(|e| e.into_inner());
        let path = self.log_path(&tenant.slug);
        fs::create_dir_all(&self.dir).map_err(|e| io(&self.dir, e))?;
        let mut file = OpenOptions::new().create(true).append(true).open(&path).map_err(|e| io(&path, e))?;
        // Other server processes append to the same file.
        file.lock().map_err(|e| io(&path, e))?;
        self.refresh(&tenant.slug, &mut index)?;
        let latest = index.tree.last().copied().map(|entry| self.read_at(&tenant.slug, entry)).transpose()?;
        if let Some(latest) = latest.as_ref().filter(|l| l.size() >= size) {
            return Ok(latest.clone());
        }
        // Only a root computed by the grower itself comes with what it was grown from.
        let grown_from_latest = root.is_some()
            && latest.as_ref().is_some_and(|l| extends == Some((l.checkpoint.size, l.checkpoint.root)));
        let root = match root {
            Some(root) => root,
            None => tree::root(conn, tenant.id, size)?,
        };
        if let Some(latest) = latest.as_ref().filter(|_| !grown_from_latest) {
            let old = &latest.checkpoint;
            let proof = tree::consistency_proof(conn, tenant.id, old.size, size)?;
            verify_consistency(old.size, size, &old.root, &root, &proof).map_err(|e| {
                StoreError::Corrupt(format!(
                    "refusing to sign tenant {}'s tree of {size} events: it does not extend the checkpoint of {} \
                     events signed {} ({e}); the stored history was changed",
                    tenant.slug, old.size, latest.signed_at
                ))
            })?;
        }
        let checkpoint = Checkpoint { origin: self.origin(&tenant.slug), size, root };
        self.append(&mut file, &path, &mut index, &tenant.slug, checkpoint, kind)
    }

    /// Signs a note of this deployment's own (not a checkpoint: nothing is logged), such as an
    /// alert rule's seal.
    pub fn sign_note(&self, text: &str) -> StoreResult<String> {
        self.signer.sign(text).map_err(|e| crate::StoreError::Corrupt(format!("cannot sign a note: {e}")))
    }

    /// Signs and logs a retention boundary: the first `size` leaves of the tree have `root`.
    pub fn sign_boundary(&self, slug: &str, size: u64, root: Hash) -> StoreResult<LoggedCheckpoint> {
        let index = self.index(slug);
        let mut index = index.lock().unwrap_or_else(|e| e.into_inner());
        let path = self.log_path(slug);
        fs::create_dir_all(&self.dir).map_err(|e| io(&self.dir, e))?;
        let mut file = OpenOptions::new().create(true).append(true).open(&path).map_err(|e| io(&path, e))?;
        file.lock().map_err(|e| io(&path, e))?;
        self.refresh(slug, &mut index)?;
        let checkpoint = Checkpoint { origin: self.boundary_origin(slug), size, root };
        self.append(&mut file, &path, &mut index, slug, checkpoint, CheckpointKind::Boundary)
    }

    fn append(
        &self,
        file: &mut File,
        path: &Path,
        index: &mut LogIndex,
        slug: &str,
        checkpoint: Checkpoint,
        kind: CheckpointKind,
    ) -> StoreResult<LoggedCheckpoint> {
        // A new log's name must survive a crash as well as its first line.
        let new_file = file.metadata().map(|m| m.len() == 0).unwrap_or(false);
        let note = checkpoint.sign(&self.signer).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let logged = LoggedCheckpoint { kind, signed_at: Utc::now(), note, checkpoint };
        let line = LogLine { kind, signed_at: logged.signed_at, note: logged.note.clone() };
        let mut text = serde_json::to_string(&line).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        text.push('\n');
        file.write_all(text.as_bytes()).map_err(|e| io(path, e))?;
        file.sync_data().map_err(|e| io(path, e))?;
        if new_file {
            File::open(&self.dir).and_then(|d| d.sync_all()).map_err(|e| io(&self.dir, e))?;
        }
        self.refresh(slug, index)?;
        Ok(logged)
    }

    /// Every checkpoint in a tenant's log, each signature checked: the tree's and the boundaries,
    /// in log order. A line that does not verify is an error naming it.
    pub fn read_all(&self, slug: &str) -> StoreResult<Vec<Result<LoggedCheckpoint, String>>> {
        read_log(&self.log_path(slug), &self.verifier)
    }
}

/// The name of a tenant's checkpoint log in its folder, safe for any stored slug.
pub fn log_file_name(slug: &str) -> String {
    format!("{}.log", crate::slug::file_stem(slug))
}

/// Reads a checkpoint log file with a verifier key: each line's checkpoint, or why it is bad.
pub fn read_log(path: &Path, verifier: &Verifier) -> StoreResult<Vec<Result<LoggedCheckpoint, String>>> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(path, e)),
    };
    Ok(text
        .lines()
        .enumerate()
        .map(|(n, line)| LoggedCheckpoint::read(line, verifier).map_err(|e| format!("line {}: {e}", n + 1)))
        .collect())
}
