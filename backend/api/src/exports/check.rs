//! `auditlog verify-export`: proves offline, with the public key alone, that a CSV export is
//! unaltered, from the export and the manifest downloaded with the same filters.
//!
//! 1. The manifest's checkpoint is signed by the key, for the tenant the manifest names.
//! 2. Every exported line's leaf bytes hash to its leaf hash (leaf format 1: its content hashes to
//!    the chain hash its leaf commits to).
//! 3. The leaves are in the signed tree. Format 3: the lines' leaf hashes at their indexes and
//!    the proof nodes of their gaps, each gap exactly the nodes between its neighbours, recompute
//!    the signed root (a multi-leaf inclusion proof). Format 2: the prefix, every leaf hash of the
//!    range seq by seq without a gap, and the suffix recompute it.
//! 4. Every CSV row matches the leaf of its seq, field by field: plain fields against the leaf,
//!    personal data against its salted digest (cells that the export neutralised against formula
//!    injection are read back without the leading `'`, by the export's own rule: `formula`).
//! 5. Every exported line of the manifest appears in the CSV exactly once.

use std::collections::HashMap;

use auditlog_db::chain::canonical_json;
use auditlog_db::leaf::{legacy_leaf_bytes, personal_digest};
use auditlog_db::manifest::{v2, ManifestEnd, ManifestHeader, ManifestLine, FORMAT};
use auditlog_db::visibility::HiddenField;
use auditlog_tlog::merkle::{decompose, leaf_hash, multi_inclusion_gap, verify_multi_inclusion, Frontier};
use auditlog_tlog::note::Verifier;
use auditlog_tlog::{Checkpoint, Hash};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::exports::formula::unneutralise;

/// The CSV's columns of personal data (leaf format 2 holds their digests; `changes` is apart).
const PERSONAL_COLUMNS: [&str; 8] =
    ["actor_id", "actor_name", "actor_email", "entity_id", "entity_label", "description", "ip", "user_agent"];

/// What a successful check established.
#[derive(Debug, PartialEq, Eq)]
pub struct ExportProof {
    pub rows: usize,
    /// Rows whose personal cells could not be checked: fields were withheld from the exporter's
    /// role, so the manifest carries no salt for them (their leaf and inclusion still verify, and
    /// the withheld cells must be blank).
    pub unchecked_personal: usize,
    /// The first and last exported seq (format 2: the range the manifest covers); 0 when none.
    pub first_seq: i64,
    pub last_seq: i64,
    /// The signed checkpoint whose tree holds every row.
    pub checkpoint: Checkpoint,
}

/// The values a cell may stand for: the value the export's rule wrote it for (the rule of
/// [`crate::exports::formula`], shared with the export), and the cell as it is, for exports written before
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

/// An exported event as its manifest line proves it.
struct Proven {
    /// The leaf (format 2) or the chain's canonical content (format 1); `None` for a deleted
    /// event of format 1, whose content is gone.
    value: Option<Value>,
    /// The tree's leaf hash (hex).
    hash: String,
    salt: Option<String>,
    /// Leaf format 1 (`value` is then the chain's content), and the chain hash it links to.
    legacy: bool,
    prev_hash: Option<String>,
    deleted: bool,
    /// Fields withheld from the exporter: no salt (nor a format-1 event's content) came with it.
    withheld: Vec<HiddenField>,
}

/// What a manifest line (of either format) says of one event.
struct LineParts<'a> {
    seq: i64,
    hash: &'a str,
    leaf: Option<&'a str>,
    salt: Option<&'a str>,
    legacy: Option<&'a str>,
    prev_hash: Option<&'a str>,
    deleted: bool,
    withheld: &'a [HiddenField],
}

/// Checks a line's leaf against its hash (and a format-1 event's content against the chain hash
/// its leaf commits to); returns the leaf hash and what the line proves.
fn prove_line(line: LineParts<'_>) -> Result<(Hash, Proven), String> {
    let LineParts { seq, hash, leaf, salt, legacy, prev_hash, deleted, withheld } = line;
    let tree_hash: Hash = hex::decode(hash)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(format!("seq {seq}: the hash is not a hash"))?;
    let mut value = None;
    let mut format_1 = legacy.is_some();
    if let Some(leaf) = leaf {
        if leaf_hash(leaf.as_bytes()) != tree_hash {
            return Err(format!("seq {seq}: the leaf does not hash to its leaf hash"));
        }
        let parsed: Value = serde_json::from_str(leaf).map_err(|e| format!("seq {seq}: {e}"))?;
        if parsed["seq"].as_i64() != Some(seq) {
            return Err(format!("seq {seq}: the leaf is another event's"));
        }
        // A format-1 leaf whose content was withheld proves its id, seq and chain hash only.
        format_1 |= parsed["v"].as_i64() == Some(1);
        value = Some(match (legacy, prev_hash) {
            (Some(legacy), Some(prev)) => {
                let mut hasher = Sha256::new();
                hasher.update(prev.as_bytes());
                hasher.update(legacy.as_bytes());
                if parsed["chain_hash"].as_str() != Some(hex::encode(hasher.finalize()).as_str()) {
                    return Err(format!("seq {seq}: the content does not hash to the chain"));
                }
                serde_json::from_str(legacy).map_err(|e| format!("seq {seq}: {e}"))?
            }
            _ if format_1 => {
                return Ok((
                    tree_hash,
                    Proven {
                        value: None,
                        hash: hash.to_string(),
                        salt: None,
                        legacy: true,
                        prev_hash: prev_hash.map(String::from),
                        deleted,
                        withheld: withheld.to_vec(),
                    },
                ))
            }
            _ => parsed,
        });
    }
    let proven = Proven {
        value,
        hash: hash.to_string(),
        salt: salt.map(String::from),
        // Only a deleted event of format 1 comes without its leaf.
        legacy: format_1 || (leaf.is_none() && deleted),
        prev_hash: prev_hash.map(String::from),
        deleted,
        withheld: withheld.to_vec(),
    };
    Ok((tree_hash, proven))
}

/// The checkpoint, signed by `key` for `tenant`'s tree.
fn signed_checkpoint(note: &str, tenant: &str, key: &Verifier) -> Result<Checkpoint, String> {
    let checkpoint = Checkpoint::open(note, key).map_err(|e| format!("the manifest's checkpoint: {e}"))?;
    let expected_origin = format!("{}/{tenant}", key.name());
    if checkpoint.origin != expected_origin {
        return Err(format!("the checkpoint is of {}, not of {expected_origin}", checkpoint.origin));
    }
    Ok(checkpoint)
}

/// The manifest's exported events, proven in its signed checkpoint.
struct ProvenManifest {
    proven: HashMap<i64, Proven>,
    exported: i64,
    first_seq: i64,
    last_seq: i64,
    checkpoint: Checkpoint,
}

pub fn verify(csv_text: &str, manifest_text: &str, key: &Verifier) -> Result<ExportProof, String> {
    let mut lines = manifest_text.lines().filter(|l| !l.trim().is_empty());
    let first = lines.next().ok_or("the manifest is empty")?;
    let format: Value = serde_json::from_str(first).map_err(|e| format!("manifest header: {e}"))?;
    let manifest = match format["format"].as_str() {
        Some(FORMAT) => verify_v3(first, lines, key)?,
        Some(v2::FORMAT) => verify_v2(first, lines, key)?,
        other => return Err(format!("unknown manifest format {other:?}")),
    };
    if manifest.proven.len() as i64 != manifest.exported {
        return Err(format!(
            "the manifest holds {} exported events, its header says {}",
            manifest.proven.len(),
            manifest.exported
        ));
    }
    let (rows, unchecked_personal) = check_csv(csv_text, &manifest.proven)?;
    Ok(ExportProof {
        rows,
        unchecked_personal,
        first_seq: manifest.first_seq,
        last_seq: manifest.last_seq,
        checkpoint: manifest.checkpoint,
    })
}

/// Format 3: a line per exported event, proven by a multi-leaf inclusion proof spread over the
/// lines' gaps and the end line.
fn verify_v3<'a>(
    header: &str,
    lines: impl Iterator<Item = &'a str>,
    key: &Verifier,
) -> Result<ProvenManifest, String> {
    let header: ManifestHeader = serde_json::from_str(header).map_err(|e| format!("manifest header: {e}"))?;
    let checkpoint = signed_checkpoint(&header.checkpoint, &header.tenant, key)?;
    let size = checkpoint.size;
    let mut proven: HashMap<i64, Proven> = HashMap::new();
    let mut leaves: Vec<(u64, Hash)> = Vec::new();
    let mut proof: Vec<Hash> = Vec::new();
    let mut previous: Option<u64> = None;
    let mut ended = false;
    // Each gap must hold exactly the nodes between its neighbours: a node moved to another gap,
    // added or left out is refused even where the concatenation would still fold to the root.
    let mut take_gap = |gap: &[String], before: Option<u64>, previous: Option<u64>, what: &str| {
        let nodes = hashes(gap, what)?;
        if nodes.len() != multi_inclusion_gap(previous, before, size).len() {
            return Err(format!("{what}: the gap does not hold the proof's nodes there"));
        }
        proof.extend(nodes);
        Ok::<(), String>(())
    };
    for raw in lines {
        if ended {
            return Err("the manifest goes on after its end line".into());
        }
        let value: Value = serde_json::from_str(raw).map_err(|e| format!("manifest line: {e}"))?;
        if value.get("end").is_some() {
            let end: ManifestEnd = serde_json::from_value(value).map_err(|e| format!("manifest end: {e}"))?;
            if !end.end {
                return Err("the manifest's end line is not one".into());
            }
            take_gap(&end.gap, None, previous, "the end line")?;
            ended = true;
            continue;
        }
        let line: ManifestLine = serde_json::from_value(value).map_err(|e| format!("manifest line: {e}"))?;
        if line.seq < 1 || line.seq as u64 > size {
            return Err(format!("seq {} is not in the checkpoint of {size} events", line.seq));
        }
        let index = line.seq as u64 - 1;
        if previous.is_some_and(|p| p >= index) {
            return Err(format!("seq {} is out of order or repeated", line.seq));
        }
        take_gap(&line.gap, Some(index), previous, &format!("seq {}", line.seq))?;
        let (hash, event) = prove_line(LineParts {
            seq: line.seq,
            hash: &line.hash,
            leaf: line.leaf.as_deref(),
            salt: line.salt.as_deref(),
            legacy: line.legacy.as_deref(),
            prev_hash: line.prev_hash.as_deref(),
            deleted: line.deleted,
            withheld: &line.withheld,
        })?;
        if event.value.is_none() && !line.deleted && line.withheld.is_empty() {
            return Err(format!("seq {}: an exported event without its leaf", line.seq));
        }
        leaves.push((index, hash));
        proven.insert(line.seq, event);
        previous = Some(index);
    }
    if !ended {
        return Err("the manifest has no end line: it was cut short".into());
    }
    verify_multi_inclusion(size, &leaves, &proof, &checkpoint.root).map_err(|e| {
        format!("the manifest's hashes do not recompute the signed root ({e}): the events were changed")
    })?;
    let seq = |leaf: Option<&(u64, Hash)>| leaf.map_or(0, |(index, _)| *index as i64 + 1);
    Ok(ProvenManifest {
        proven,
        exported: header.exported,
        first_seq: seq(leaves.first()),
        last_seq: seq(leaves.last()),
        checkpoint,
    })
}

/// Format 2: a line for every seq of a range, between the complete subtrees before and after it.
fn verify_v2<'a>(
    header: &str,
    lines: impl Iterator<Item = &'a str>,
    key: &Verifier,
) -> Result<ProvenManifest, String> {
    let header: v2::Header = serde_json::from_str(header).map_err(|e| format!("manifest header: {e}"))?;
    let checkpoint = signed_checkpoint(&header.checkpoint, &header.tenant, key)?;
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
        let line: v2::Line = serde_json::from_str(raw).map_err(|e| format!("manifest line: {e}"))?;
        if line.seq != expected {
            return Err(format!("the manifest skips from seq {} to {}", expected - 1, line.seq));
        }
        let (hash, event) = prove_line(LineParts {
            seq: line.seq,
            hash: &line.hash,
            leaf: line.leaf.as_deref(),
            salt: line.salt.as_deref(),
            legacy: line.legacy.as_deref(),
            prev_hash: line.prev_hash.as_deref(),
            deleted: line.deleted,
            withheld: &[],
        })?;
        // Lines without leaf bytes are events not exported: only their hash is in the range.
        if event.value.is_some() {
            proven.insert(line.seq, event);
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
    Ok(ProvenManifest {
        proven,
        exported: header.exported,
        first_seq: header.first_seq,
        last_seq: header.last_seq,
        checkpoint,
    })
}

/// Checks every CSV row against its proven event; returns the rows' count, and how many of them
/// had fields withheld (their personal cells are then unchecked).
fn check_csv(csv_text: &str, proven: &HashMap<i64, Proven>) -> Result<(usize, usize), String> {
    let mut reader = csv::Reader::from_reader(csv_text.trim_start_matches('\u{feff}').as_bytes());
    let columns: Vec<String> =
        reader.headers().map_err(|e| e.to_string())?.iter().map(String::from).collect();
    let at =
        |name: &str| columns.iter().position(|c| c == name).ok_or(format!("the CSV has no `{name}` column"));
    let mut seen = std::collections::HashSet::new();
    let mut unchecked = 0;
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
        let blank = || -> Result<(), String> {
            for name in PERSONAL_COLUMNS.iter().chain(&["changes"]) {
                if !matches!(cell(name)?.as_str(), "" | "[]") {
                    return Err(format!("seq {seq}: a deleted entry's `{name}` holds content"));
                }
            }
            Ok(())
        };
        // The cells of withheld fields are blank, as the export wrote them.
        let withheld_blank = || -> Result<(), String> {
            for field in &event.withheld {
                let name = field.as_str();
                if columns.iter().any(|c| c == name) && !matches!(cell(name)?.as_str(), "" | "[]" | "{}") {
                    return Err(format!(
                        "seq {seq}: `{name}` was withheld from the exporter but holds content"
                    ));
                }
            }
            Ok(())
        };
        if event.legacy {
            // A format-1 leaf is made of the id, seq and chain hash: the row's cells rebuild it.
            let id: i64 = cell("id")?.parse().map_err(|_| altered("id"))?;
            if hex::encode(leaf_hash(&legacy_leaf_bytes(id, seq, &cell("hash")?))) != event.hash {
                return Err(format!("seq {seq}: the hashes differ from the tree"));
            }
            match &event.value {
                Some(value) => {
                    check_legacy(&cell, value, &altered)?;
                    if Some(cell("prev_hash")?) != event.prev_hash {
                        return Err(format!("seq {seq}: the hashes differ from the tree"));
                    }
                }
                // Fields withheld: the content did not come with the manifest.
                None if !event.withheld.is_empty() && !event.deleted => {
                    withheld_blank()?;
                    unchecked += 1;
                }
                // Deleted: its content, which the chain hash covered, is gone.
                None => blank()?,
            }
            continue;
        }
        let value = event.value.as_ref().ok_or(format!("seq {seq}: an exported event without its leaf"))?;
        check_plain(&cell, value, &altered)?;
        if event.deleted {
            blank()?;
        } else if !event.withheld.is_empty() {
            withheld_blank()?;
            let entity_type = value.pointer("/entity/type").map(text).unwrap_or_default();
            if !cell_matches(&cell("entity_type")?, &entity_type) {
                return Err(altered("entity_type"));
            }
            unchecked += 1;
        } else {
            check_personal(&cell, value, event.salt.as_deref(), &altered)?;
        }
        if cell("hash")? != event.hash || cell("prev_hash")? != text(&value["prev"]) {
            return Err(format!("seq {seq}: the hashes differ from the tree"));
        }
    }
    if seen.len() != proven.len() {
        return Err(format!("the CSV lacks {} exported events of the manifest", proven.len() - seen.len()));
    }
    Ok((seen.len(), unchecked))
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
fn check_personal(
    cell: &Cell<'_>,
    leaf: &Value,
    salt: Option<&str>,
    altered: &dyn Fn(&str) -> String,
) -> Result<(), String> {
    let entity_type = leaf.pointer("/entity/type").map(text).unwrap_or_default();
    if !cell_matches(&cell("entity_type")?, &entity_type) {
        return Err(altered("entity_type"));
    }
    let salt = salt.and_then(|s| hex::decode(s).ok()).ok_or("an exported event has no salt")?;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Exports and their format-2 manifests as the server wrote them before format 3, with the
    /// verifier key of the log that signed them: a member's (events of others in its range, as
    /// bare hashes) and an admin's with a deleted entry.
    const KEY: &str = include_str!("../../tests/fixtures/manifest-v2/log.key");
    const MEMBER: (&str, &str) = (
        include_str!("../../tests/fixtures/manifest-v2/member.csv"),
        include_str!("../../tests/fixtures/manifest-v2/member.manifest.jsonl"),
    );
    const ADMIN: (&str, &str) = (
        include_str!("../../tests/fixtures/manifest-v2/admin-booking.csv"),
        include_str!("../../tests/fixtures/manifest-v2/admin-booking.manifest.jsonl"),
    );

    #[test]
    fn format_2_manifests_still_verify() {
        let key = Verifier::parse(KEY.trim()).unwrap();
        let member = verify(MEMBER.0, MEMBER.1, &key).expect("a member's format-2 manifest");
        assert_eq!((member.rows, member.first_seq, member.last_seq), (4, 1, 14));
        assert_eq!(member.checkpoint.size, 14);
        let admin =
            verify(ADMIN.0, ADMIN.1, &key).expect("an admin's format-2 manifest with a deleted entry");
        assert_eq!(admin.rows, 5);
        assert!(ADMIN.1.contains("\"deleted\":true"));

        // And they still fail when altered: a cell, a hash of an event not exported, the key.
        let edited = MEMBER.0.replacen("BOK-9", "BOK-8", 1);
        assert!(verify(&edited, MEMBER.1, &key).unwrap_err().contains("entity_label"));
        let hidden = MEMBER.1.lines().find(|l| l.contains("\"seq\"") && !l.contains("\"leaf\"")).unwrap();
        let hash = serde_json::from_str::<Value>(hidden).unwrap()["hash"].as_str().unwrap().to_string();
        let flipped = format!("{}{}", if hash.starts_with('0') { '1' } else { '0' }, &hash[1..]);
        let forged = MEMBER.1.replacen(&hash, &flipped, 1);
        assert!(verify(MEMBER.0, &forged, &key).unwrap_err().contains("signed root"));
        let filled = ADMIN.0.replacen(",,,,,,,[],", ",,,,,,,[1],", 1);
        assert_ne!(filled, ADMIN.0);
        assert!(verify(&filled, ADMIN.1, &key).unwrap_err().contains("deleted entry"));
        let other = auditlog_tlog::note::Signer::generate("activity-log.test").unwrap().verifier();
        assert!(verify(MEMBER.0, MEMBER.1, &other).unwrap_err().contains("checkpoint"));
    }

    #[test]
    fn unknown_formats_are_refused() {
        let key = Verifier::parse(KEY.trim()).unwrap();
        let other = MEMBER.1.replacen("activity-log-manifest/2", "activity-log-manifest/9", 1);
        assert!(verify(MEMBER.0, &other, &key).unwrap_err().contains("unknown manifest format"));
        assert!(verify(MEMBER.0, "", &key).unwrap_err().contains("empty"));
    }
}
