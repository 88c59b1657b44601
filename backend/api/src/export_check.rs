//! `auditlog verify-export`: proves offline, with the public key alone, that a CSV export is
//! unaltered and complete, from the export and the manifest downloaded with the same filters.
//!
//! 1. The manifest's checkpoint is signed by the key, and its prefix hashes, its leaf hashes seq
//!    by seq without a gap, and its suffix hashes recompute the signed root: every leaf of the
//!    range is in the signed tree.
//! 2. Every exported line's leaf bytes hash to its leaf hash (leaf format 1: its content hashes to
//!    the chain hash its leaf commits to).
//! 3. Every CSV row matches the leaf of its seq, field by field: plain fields against the leaf,
//!    personal data against its salted digest (cells that the export neutralised against formula
//!    injection are read back without the leading `'`, by the export's own rule: `formula`).
//! 4. Every exported line of the manifest appears in the CSV exactly once.

use std::collections::HashMap;

use auditlog_db::chain::canonical_json;
use auditlog_db::leaf::personal_digest;
use auditlog_db::manifest::{ManifestHeader, ManifestLine, FORMAT};
use auditlog_tlog::merkle::{decompose, leaf_hash, Frontier};
use auditlog_tlog::note::Verifier;
use auditlog_tlog::{Checkpoint, Hash};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::formula::unneutralise;

/// The CSV's columns of personal data (leaf format 2 holds their digests; `changes` is apart).
const PERSONAL_COLUMNS: [&str; 8] =
    ["actor_id", "actor_name", "actor_email", "entity_id", "entity_label", "description", "ip", "user_agent"];

/// What a successful check established.
#[derive(Debug, PartialEq, Eq)]
pub struct ExportProof {
    pub rows: usize,
    pub first_seq: i64,
    pub last_seq: i64,
    /// The signed checkpoint whose tree holds every row.
    pub checkpoint: Checkpoint,
}

/// The values a cell may stand for: the value the export's rule wrote it for (the rule of
/// [`crate::formula`], shared with the export), and the cell as it is, for exports written before
/// the rule last changed (it then left some cells without an apostrophe, or gave none to a value
/// that starts with its own apostrophe).
fn readings(cell: &str) -> impl Iterator<Item = &str> {
    let value = unneutralise(cell);
    std::iter::once(value).chain((value != cell).then_some(cell))
}

fn cell_matches(cell: &str, value: &str) -> bool {
    readings(cell).any(|reading| reading == value)
}

fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn hashes(list: &[String], what: &str) -> Result<Vec<Hash>, String> {
    list.iter()
        .map(|h| BASE64.decode(h).ok().and_then(|b| b.try_into().ok()))
        .collect::<Option<Vec<Hash>>>()
        .ok_or_else(|| format!("the manifest's {what} hashes are not hashes"))
}

/// An exported event as its manifest line proves it: the leaf (format 2) or the chain's canonical
/// content (format 1), with the line.
struct Proven {
    value: Value,
    line: ManifestLine,
}

pub fn verify(csv_text: &str, manifest_text: &str, key: &Verifier) -> Result<ExportProof, String> {
    let mut lines = manifest_text.lines().filter(|l| !l.trim().is_empty());
    let header: ManifestHeader = serde_json::from_str(lines.next().ok_or("the manifest is empty")?)
        .map_err(|e| format!("manifest header: {e}"))?;
    if header.format != FORMAT {
        return Err(format!("unknown manifest format {:?}", header.format));
    }
    let checkpoint =
        Checkpoint::open(&header.checkpoint, key).map_err(|e| format!("the manifest's checkpoint: {e}"))?;
    let expected_origin = format!("{}/{}", key.name(), header.tenant);
    if checkpoint.origin != expected_origin {
        return Err(format!("the checkpoint is of {}, not of {expected_origin}", checkpoint.origin));
    }
    if header.first_seq < 1 || header.last_seq < header.first_seq || header.last_seq as u64 > checkpoint.size
    {
        return Err("the manifest's range is not inside its checkpoint".into());
    }
    let prefix = hashes(&header.prefix, "prefix")?;
    let mut frontier = Frontier::new(header.first_seq as u64 - 1, &prefix)
        .ok_or("the manifest's prefix does not fit its first seq")?;
    let mut proven: HashMap<i64, Proven> = HashMap::new();
    let mut expected = header.first_seq;
    for raw in lines {
        let line: ManifestLine = serde_json::from_str(raw).map_err(|e| format!("manifest line: {e}"))?;
        if line.seq != expected {
            return Err(format!("the manifest skips from seq {} to {}", expected - 1, line.seq));
        }
        let hash: Hash = hex::decode(&line.hash)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(format!("seq {}: the hash is not a hash", line.seq))?;
        if let Some(leaf) = &line.leaf {
            if leaf_hash(leaf.as_bytes()) != hash {
                return Err(format!("seq {}: the leaf does not hash to its leaf hash", line.seq));
            }
            let value: Value = serde_json::from_str(leaf).map_err(|e| format!("seq {}: {e}", line.seq))?;
            if value["seq"].as_i64() != Some(line.seq) {
                return Err(format!("seq {}: the leaf is another event's", line.seq));
            }
            let value = match (&line.legacy, &line.prev_hash) {
                (Some(legacy), Some(prev)) => {
                    let mut hasher = Sha256::new();
                    hasher.update(prev.as_bytes());
                    hasher.update(legacy.as_bytes());
                    if value["chain_hash"].as_str() != Some(hex::encode(hasher.finalize()).as_str()) {
                        return Err(format!("seq {}: the content does not hash to the chain", line.seq));
                    }
                    serde_json::from_str(legacy).map_err(|e| format!("seq {}: {e}", line.seq))?
                }
                _ => value,
            };
            proven.insert(line.seq, Proven { value, line });
        }
        frontier.push(hash);
        expected += 1;
    }
    if expected - 1 != header.last_seq {
        return Err(format!("the manifest stops at seq {} of {}", expected - 1, header.last_seq));
    }
    let suffix = hashes(&header.suffix, "suffix")?;
    let ids = decompose(header.last_seq as u64, checkpoint.size);
    if ids.len() != suffix.len() {
        return Err("the manifest's suffix does not reach the checkpoint's size".into());
    }
    for (id, hash) in ids.iter().zip(suffix) {
        frontier.push_node(id.level, hash).ok_or("the manifest's suffix does not fit")?;
    }
    if frontier.root() != checkpoint.root {
        return Err("the manifest's hashes do not recompute the signed root: the events were changed".into());
    }
    if proven.len() as i64 != header.exported {
        return Err(format!(
            "the manifest holds {} exported events, its header says {}",
            proven.len(),
            header.exported
        ));
    }
    let rows = check_csv(csv_text, &proven)?;
    Ok(ExportProof { rows, first_seq: header.first_seq, last_seq: header.last_seq, checkpoint })
}

/// Checks every CSV row against its proven event; returns the rows' count.
fn check_csv(csv_text: &str, proven: &HashMap<i64, Proven>) -> Result<usize, String> {
    let mut reader = csv::Reader::from_reader(csv_text.trim_start_matches('\u{feff}').as_bytes());
    let columns: Vec<String> =
        reader.headers().map_err(|e| e.to_string())?.iter().map(String::from).collect();
    let at =
        |name: &str| columns.iter().position(|c| c == name).ok_or(format!("the CSV has no `{name}` column"));
    let mut seen = std::collections::HashSet::new();
    for (n, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("CSV row {}: {e}", n + 1))?;
        let seq: i64 = record[at("seq")?].parse().map_err(|_| format!("CSV row {}: bad seq", n + 1))?;
        let event =
            proven.get(&seq).ok_or(format!("CSV row {} (seq {seq}) is not in the manifest", n + 1))?;
        if !seen.insert(seq) {
            return Err(format!("seq {seq} appears twice in the CSV"));
        }
        let cell = |name: &str| at(name).map(|i| record[i].to_string());
        let altered = |name: &str| format!("seq {seq}: `{name}` was altered");
        if event.line.legacy.is_some() {
            check_legacy(&cell, &event.value, &altered)?;
        } else if event.line.deleted {
            check_plain(&cell, &event.value, &altered)?;
            for name in PERSONAL_COLUMNS {
                if !cell(name)?.is_empty() {
                    return Err(format!("seq {seq}: a deleted entry's `{name}` holds content"));
                }
            }
        } else {
            check_plain(&cell, &event.value, &altered)?;
            check_personal(&cell, event, &altered)?;
        }
        let expected_hash = if event.line.legacy.is_some() {
            event.value.get("chain_hash").and_then(Value::as_str).map(String::from)
        } else {
            Some(event.line.hash.clone())
        };
        if event.line.legacy.is_none()
            && (Some(cell("hash")?) != expected_hash || cell("prev_hash")? != text(&event.value["prev"]))
        {
            return Err(format!("seq {seq}: the hashes differ from the tree"));
        }
    }
    if seen.len() != proven.len() {
        return Err(format!("the CSV lacks {} exported events of the manifest", proven.len() - seen.len()));
    }
    Ok(seen.len())
}

type Cell<'a> = dyn Fn(&str) -> Result<String, String> + 'a;

/// Each `(column, JSON pointer)`: the cell holds the value the pointer finds in `value`.
fn same_cells(
    cell: &Cell<'_>,
    value: &Value,
    pairs: &[(&str, &str)],
    altered: &dyn Fn(&str) -> String,
) -> Result<(), String> {
    for (column, pointer) in pairs {
        let expected = value.pointer(pointer).map(text).unwrap_or_default();
        if !cell_matches(&cell(column)?, &expected) {
            return Err(altered(column));
        }
    }
    Ok(())
}

/// The plain fields of a row of leaf format 2 against the leaf.
fn check_plain(cell: &Cell<'_>, leaf: &Value, altered: &dyn Fn(&str) -> String) -> Result<(), String> {
    let plain = [
        ("id", "/id"),
        ("occurred_at", "/occurred_at"),
        ("recorded_at", "/recorded_at"),
        ("actor_role", "/actor/role"),
        ("actor_type", "/actor/type"),
        ("action", "/action"),
    ];
    same_cells(cell, leaf, &plain, altered)?;
    let action = text(&leaf["action"]);
    if Some((cell("module")?.as_str(), cell("verb")?.as_str())) != action.split_once('.') {
        return Err(altered("module"));
    }
    Ok(())
}

/// The record type and the personal fields of a live row of leaf format 2: the type against the
/// leaf, the others against their salted digests.
fn check_personal(cell: &Cell<'_>, event: &Proven, altered: &dyn Fn(&str) -> String) -> Result<(), String> {
    let leaf = &event.value;
    let entity_type = leaf.pointer("/entity/type").map(text).unwrap_or_default();
    if !cell_matches(&cell("entity_type")?, &entity_type) {
        return Err(altered("entity_type"));
    }
    let salt = event
        .line
        .salt
        .as_deref()
        .and_then(|s| hex::decode(s).ok())
        .ok_or("an exported event has no salt")?;
    let digest_of = |name: &str, json: &str| personal_digest(&salt, name, json.as_bytes());
    for name in PERSONAL_COLUMNS {
        let cell = cell(name)?;
        let wanted = leaf["personal"][name].as_str().unwrap_or_default();
        // An empty cell is an absent value (null) or an empty text.
        let ok = readings(&cell).any(|value| {
            digest_of(name, &serde_json::to_string(value).unwrap_or_default()) == wanted
                || (value.is_empty() && digest_of(name, "null") == wanted)
        });
        if !ok {
            return Err(altered(name));
        }
    }
    let cell = cell("changes")?;
    let wanted = leaf["personal"]["changes"].as_str().unwrap_or_default();
    let ok = readings(&cell).any(|text| {
        serde_json::from_str::<Value>(text)
            .is_ok_and(|changes| digest_of("changes", &canonical_json(&changes)) == wanted)
    });
    if !ok {
        return Err(altered("changes"));
    }
    Ok(())
}

/// A row of leaf format 1: every field against the chain's canonical content.
fn check_legacy(cell: &Cell<'_>, value: &Value, altered: &dyn Fn(&str) -> String) -> Result<(), String> {
    let checks = [
        ("occurred_at", "/occurred_at"),
        ("actor_id", "/actor/id"),
        ("actor_name", "/actor/name"),
        ("actor_email", "/actor/email"),
        ("actor_role", "/actor/role"),
        ("actor_type", "/actor/type"),
        ("action", "/action"),
        ("entity_type", "/entity/type"),
        ("entity_id", "/entity/id"),
        ("entity_label", "/entity/label"),
        ("description", "/description"),
        ("ip", "/ip"),
        ("user_agent", "/user_agent"),
    ];
    same_cells(cell, value, &checks, altered)?;
    let changes: Value = serde_json::from_str(&cell("changes")?).map_err(|_| altered("changes"))?;
    if Some(&changes) != value.get("changes") {
        return Err(altered("changes"));
    }
    Ok(())
}
