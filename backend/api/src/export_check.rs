//! `auditlog verify-export`: proves offline that a CSV export is unaltered and complete, from the
//! export and the manifest downloaded with the same filters.
//!
//! 1. The manifest's lines run seq by seq without a gap, each linking to the previous hash, and
//!    every exported line's canonical bytes hash to its recorded hash.
//! 2. Every CSV row matches the canonical content of its seq, field by field (cells that the
//!    export neutralised against formula injection are read back without the leading `'`).
//! 3. Every exported line of the manifest appears in the CSV exactly once.

use std::collections::HashMap;

use auditlog_db::manifest::{ManifestHeader, ManifestLine, FORMAT};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// What a successful check established.
#[derive(Debug, PartialEq, Eq)]
pub struct ExportProof {
    pub rows: usize,
    pub first_seq: i64,
    pub last_seq: i64,
    /// The hash at the end of the range, to compare with a published chain head.
    pub last_hash: String,
}

fn cell_matches(cell: &str, value: &str) -> bool {
    cell == value
        || (cell.strip_prefix('\'') == Some(value) && value.starts_with(['=', '+', '-', '@', '\t', '\r']))
}

fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub fn verify(csv_text: &str, manifest_text: &str) -> Result<ExportProof, String> {
    let mut lines = manifest_text.lines().filter(|l| !l.trim().is_empty());
    let header: ManifestHeader = serde_json::from_str(lines.next().ok_or("the manifest is empty")?)
        .map_err(|e| format!("manifest header: {e}"))?;
    if header.format != FORMAT {
        return Err(format!("unknown manifest format {:?}", header.format));
    }
    let mut canonical: HashMap<i64, (Value, String, String)> = HashMap::new();
    let (mut expected, mut prev, mut last_hash) = (header.first_seq, None::<String>, String::new());
    for raw in lines {
        let line: ManifestLine = serde_json::from_str(raw).map_err(|e| format!("manifest line: {e}"))?;
        if line.seq != expected {
            return Err(format!("the manifest skips from seq {} to {}", expected - 1, line.seq));
        }
        if prev.as_ref().is_some_and(|p| *p != line.prev_hash) {
            return Err(format!("seq {} does not link to seq {}", line.seq, line.seq - 1));
        }
        if let Some(bytes) = &line.canonical {
            let mut hasher = Sha256::new();
            hasher.update(line.prev_hash.as_bytes());
            hasher.update(bytes.as_bytes());
            if hex::encode(hasher.finalize()) != line.hash {
                return Err(format!("seq {}: the content does not hash to the chain", line.seq));
            }
            let value: Value = serde_json::from_str(bytes).map_err(|e| format!("seq {}: {e}", line.seq))?;
            canonical.insert(line.seq, (value, line.prev_hash.clone(), line.hash.clone()));
        }
        prev = Some(line.hash.clone());
        last_hash = line.hash;
        expected += 1;
    }
    if header.exported > 0 && expected - 1 != header.last_seq {
        return Err(format!("the manifest stops at seq {} of {}", expected - 1, header.last_seq));
    }
    if canonical.len() as i64 != header.exported {
        return Err(format!(
            "the manifest holds {} exported events, its header says {}",
            canonical.len(),
            header.exported
        ));
    }

    let mut reader = csv::Reader::from_reader(csv_text.trim_start_matches('\u{feff}').as_bytes());
    let columns: Vec<String> =
        reader.headers().map_err(|e| e.to_string())?.iter().map(String::from).collect();
    let at =
        |name: &str| columns.iter().position(|c| c == name).ok_or(format!("the CSV has no `{name}` column"));
    let checks: Vec<(usize, &str)> = vec![
        (at("occurred_at")?, "/occurred_at"),
        (at("actor_id")?, "/actor/id"),
        (at("actor_name")?, "/actor/name"),
        (at("actor_email")?, "/actor/email"),
        (at("actor_role")?, "/actor/role"),
        (at("actor_type")?, "/actor/type"),
        (at("action")?, "/action"),
        (at("entity_type")?, "/entity/type"),
        (at("entity_id")?, "/entity/id"),
        (at("entity_label")?, "/entity/label"),
        (at("description")?, "/description"),
        (at("ip")?, "/ip"),
        (at("user_agent")?, "/user_agent"),
    ];
    let (seq_at, changes_at, hash_at, prev_at) = (at("seq")?, at("changes")?, at("hash")?, at("prev_hash")?);
    let mut seen = std::collections::HashSet::new();
    for (n, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("CSV row {}: {e}", n + 1))?;
        let seq: i64 = record[seq_at].parse().map_err(|_| format!("CSV row {}: bad seq", n + 1))?;
        let (value, prev_hash, hash) =
            canonical.get(&seq).ok_or(format!("CSV row {} (seq {seq}) is not in the manifest", n + 1))?;
        if !seen.insert(seq) {
            return Err(format!("seq {seq} appears twice in the CSV"));
        }
        for (column, pointer) in &checks {
            let expected = value.pointer(pointer).map(text).unwrap_or_default();
            if !cell_matches(&record[*column], &expected) {
                return Err(format!("seq {seq}: `{}` was altered", columns[*column]));
            }
        }
        let changes: Value = serde_json::from_str(&record[changes_at])
            .map_err(|_| format!("seq {seq}: `changes` was altered"))?;
        if Some(&changes) != value.get("changes") {
            return Err(format!("seq {seq}: `changes` was altered"));
        }
        if record[hash_at] != **hash || record[prev_at] != **prev_hash {
            return Err(format!("seq {seq}: the hashes differ from the chain"));
        }
    }
    if seen.len() != canonical.len() {
        return Err(format!(
            "the CSV lacks {} exported events of the manifest",
            canonical.len() - seen.len()
        ));
    }
    Ok(ExportProof { rows: seen.len(), first_seq: header.first_seq, last_seq: header.last_seq, last_hash })
}
