//! `verify`, `verify-export` and `verify-archive`: checking the stored trees against the signed
//! checkpoints, and exports and archives offline.

use std::path::Path;

use auditlog_db::queries::tenants;

use crate::cli::setup::{pool, progress_bar, read_verifier, tenant_ids};
use crate::config::Settings;
use crate::integrity;

/// Verifies one tenant (or every one) and prints each result; false if any failed.
pub fn verify(settings: &Settings, slug: Option<&str>, public_key: Option<&Path>) -> Result<bool, String> {
    let pool = pool(settings)?;
    let key = match public_key {
        Some(path) => read_verifier(path)?,
        None => settings.signer()?.verifier(),
    };
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let mut all_ok = true;
    for (tenant_id, slug) in tenant_ids(&mut conn, slug)? {
        let tenant = tenants::get(&mut conn, tenant_id).map_err(|e| e.to_string())?;
        let bar = progress_bar(0, "events");
        bar.set_prefix(slug.clone());
        let result = integrity::verify_tenant(
            &mut conn,
            &key,
            &settings.checkpoint_dir,
            settings,
            &tenant,
            "command",
            |checked, total| {
                bar.set_length(total.max(0) as u64);
                bar.set_position(checked.max(0) as u64);
            },
        )
        .map_err(|e| e.to_string())?;
        bar.finish_and_clear();
        if result.ok {
            println!(
                "{slug}: ok — {} events checked, head seq {}, {} signed checkpoints matched (latest of {} events)",
                result.events_checked,
                result.head_seq,
                result.checkpoints_checked,
                result.checkpoint_size.unwrap_or(0)
            );
        } else {
            all_ok = false;
            println!(
                "{slug}: FAILED at seq {} — {} ({} events checked before it)",
                result.first_bad_seq.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
                result.reason.unwrap_or_default(),
                result.events_checked
            );
        }
    }
    Ok(all_ok)
}

/// `verify-export`: a CSV export against its manifest and the verifier key.
pub fn verify_export(csv: &Path, manifest: &Path, public_key: &Path) -> Result<(), String> {
    let read = |p: &Path| std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()));
    let key = read_verifier(public_key)?;
    let proof = crate::exports::check::verify(&read(csv)?, &read(manifest)?, &key)?;
    println!(
        "{}: ok — {} rows unaltered and complete for seq {}–{}, in the checkpoint of {} ({} events, root {}) signed by {}",
        csv.display(),
        proof.rows,
        proof.first_seq,
        proof.last_seq,
        proof.checkpoint.origin,
        proof.checkpoint.size,
        proof.checkpoint.root_base64(),
        key.name()
    );
    if proof.unchecked_personal > 0 {
        println!(
            "{}: {} of those rows had fields withheld from the exporter's role: their names, addresses and \
             other personal cells could not be checked (no salt was given), their withheld cells are blank",
            csv.display(),
            proof.unchecked_personal
        );
    }
    Ok(())
}

/// `verify-archive`: an archive file, and its signed boundary when a key is given.
pub fn verify_archive(file: &Path, public_key: Option<&Path>) -> Result<(), String> {
    let key = public_key.map(read_verifier).transpose()?;
    let (sha256, size) = auditlog_db::archive::checksum(file).map_err(|e| e.to_string())?;
    let proof = auditlog_db::archive::verify_file(file, key.as_ref()).map_err(|e| e.to_string())?;
    let header = &proof.header;
    let signed = match (&proof.boundary, proof.signature_checked) {
        (Some(b), true) => {
            format!("recompute the signed boundary of {} ({} events), signature checked", b.origin, b.size)
        }
        (Some(b), false) => format!(
            "recompute the boundary of {} ({} events); give --public-key to check its signature",
            b.origin, b.size
        ),
        (None, _) => "an archive written before signed checkpoints: its chain checked only".into(),
    };
    println!(
        "{}: ok — tenant {}, seq {}–{} ({} events) {signed}; {size} bytes, sha256 {sha256}",
        file.display(),
        header.tenant,
        header.first_seq,
        header.last_seq,
        header.count
    );
    Ok(())
}
