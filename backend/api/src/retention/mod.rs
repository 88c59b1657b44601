//! Running retention: for each tenant with a setting, archive what is older, and log each
//! archive as an `auditlog.archived` event. Shared by the server's schedule and `auditlog archive`.

pub mod routes;
pub mod store;

use auditlog_db::archive::{self, archive_expired};
use auditlog_db::checkpoints::Notary;
use auditlog_db::connection::DbConnection;
use auditlog_db::models::{Actor, Archive};
use auditlog_db::queries::tenants;
use auditlog_db::TenantId;
use chrono::{TimeDelta, Utc};

use crate::audit::{AuditEvent, RequestMeta};
use crate::config::Settings;
use crate::http::error::ApiError;

/// Events per archive file.
pub const EVENTS_PER_FILE: i64 = 100_000;

/// The actor of events the server records on its own.
pub fn system_actor() -> Actor {
    Actor {
        id: "system:retention".into(),
        name: "Retention job".into(),
        email: None,
        role: None,
        actor_type: "system".into(),
    }
}

/// Archives one tenant's expired events; `None` when it keeps events forever.
pub fn run_for_tenant(
    conn: &mut DbConnection,
    notary: &Notary,
    settings: &Settings,
    tenant_id: TenantId,
    mut progress: impl FnMut(&Archive),
) -> Result<Option<Vec<Archive>>, ApiError> {
    let tenant = tenants::get(conn, tenant_id)?;
    let Some(days) = tenant.retention_days else { return Ok(None) };
    let cutoff = Utc::now().naive_utc() - TimeDelta::days(i64::from(days));
    // With an object store, each file is uploaded and read back before its events go.
    let mut publish = |path: &std::path::Path, file_name: &str, sha256: &str| match &settings.archive_store {
        Some(store) => store
            .put_checked(path, &store.key(&tenant.slug, file_name), sha256)
            .map_err(|e| auditlog_db::StoreError::Conflict(format!("archive not stored: {e}"))),
        None => Ok(()),
    };
    let done = archive_expired(
        conn,
        notary,
        tenant_id,
        cutoff,
        &settings.archive_dir,
        EVENTS_PER_FILE,
        &mut publish,
        |a| progress(a),
    )?;
    for a in &done {
        AuditEvent::new("auditlog.archived", system_actor())
            .on("archive", a.id, Some(a.file_name.clone()))
            .meta("first_seq", a.first_seq)
            .meta("last_seq", a.last_seq)
            .meta("events", a.event_count)
            .meta("sha256", a.sha256.clone())
            .meta("retention_days", days)
            .record(conn, tenant_id, &RequestMeta::default())?;
    }
    Ok(Some(done))
}

/// Every tenant with a retention setting.
pub fn run_all(
    conn: &mut DbConnection,
    notary: &Notary,
    settings: &Settings,
) -> Result<Vec<Archive>, ApiError> {
    let mut all = Vec::new();
    for (tenant_id, _) in archive::tenants_with_retention(conn)? {
        // A slug stored before the rule cannot name an archive folder: that tenant waits for a
        // rename, the others are archived as usual.
        let slug = tenants::get(conn, tenant_id)?.slug;
        if !auditlog_db::slug::is_valid(&slug) {
            log::error!(
                "retention: tenant {tenant_id} is not archived: {}",
                auditlog_db::slug::InvalidSlug(slug)
            );
            continue;
        }
        all.extend(run_for_tenant(conn, notary, settings, tenant_id, |_| {})?.unwrap_or_default());
    }
    // Closed months whose every event is now archived go as whole partitions (PostgreSQL).
    for name in auditlog_db::partitions::drop_emptied(conn)? {
        log::info!("retention: dropped the emptied partition {name}");
    }
    if let Some(store) = &settings.archive_store {
        store
            .copy_logs(notary.dir())
            .map_err(|e| ApiError::Unavailable(format!("checkpoint logs not copied: {e}")))?;
    }
    Ok(all)
}

/// Makes sure the archive file `file_name` of tenant `slug` is in `ARCHIVE_DIR`, fetching it from
/// the object store when this process did not write it (or its disk was replaced). Names that
/// are not plain, or slugs that break the rule, are left to the path checks that refuse them.
pub fn ensure_local(settings: &Settings, slug: &str, file_name: &str) -> Result<(), ApiError> {
    let Some(store) = &settings.archive_store else { return Ok(()) };
    let Ok(checked) = auditlog_db::TenantSlug::parse(slug) else { return Ok(()) };
    if !archive::is_plain_name(file_name) {
        return Ok(());
    }
    let dir = archive::tenant_dir(&settings.archive_dir, &checked);
    let path = dir.join(file_name);
    if path.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(&dir)
        .map_err(|e| ApiError::internal(format!("cannot create the archive folder: {e}")))?;
    store.fetch(&store.key(slug, file_name), &path).map_err(|e| {
        ApiError::Unavailable(format!("archive {file_name} could not be read from the object store: {e}"))
    })
}
