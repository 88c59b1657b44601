//! What several commands share: the database as the application opens it, the tenants a
//! command is for, and progress bars.

use auditlog_db::connection::{build_pool, grant_app_role, run_migrations, url_user};
use auditlog_db::queries::{reindex, tenants};
use auditlog_db::{Backend, DbPool};
use auditlog_tlog::note::Verifier;
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::Settings;

/// Migrates the database as its owner (`MIGRATION_DATABASE_URL`, else `DATABASE_URL`), gives
/// the application's role its privileges, and opens the application's pool.
pub fn pool(settings: &Settings) -> Result<DbPool, String> {
    let owner_url = settings.migration_database_url.as_ref().unwrap_or(&settings.database_url);
    let owner = build_pool(owner_url, 1)?;
    let mut conn = owner.get().map_err(|e| format!("cannot connect to the database: {e}"))?;
    let applied = run_migrations(&mut conn)?;
    if applied > 0 {
        log::info!("applied {applied} migration(s)");
    }
    // Events stored before their derived columns changed format are rewritten as the owner.
    for (slug, rewritten) in
        reindex::run(&mut conn).map_err(|e| format!("cannot rewrite the keyword index: {e}"))?
    {
        log::info!("{slug}: rewrote the keyword text and IP key of {rewritten} event(s)");
    }
    if settings.database_url.backend == Backend::Postgres {
        let app = url_user(&settings.database_url.target);
        match (app, url_user(&owner_url.target)) {
            (Some(app), Some(owner)) if app != owner => grant_app_role(&mut conn, &app)?,
            _ => log::warn!(
                "the application connects as the schema's owner: an insider with its credentials is detected by \
                 verification but not stopped (set MIGRATION_DATABASE_URL to the owner and DATABASE_URL to a second role)"
            ),
        }
    }
    drop(conn);
    build_pool(&settings.database_url, settings.db_pool_size)
}

pub fn tenant_ids(
    conn: &mut auditlog_db::DbConnection,
    slug: Option<&str>,
) -> Result<Vec<(auditlog_db::TenantId, String)>, String> {
    match slug {
        Some(slug) => tenants::find_by_slug(conn, slug)
            .map_err(|e| e.to_string())?
            .map(|t| vec![(t.id, t.slug)])
            .ok_or_else(|| format!("no tenant {slug:?}")),
        None => tenants::all(conn)
            .map(|all| all.into_iter().map(|t| (t.id, t.slug)).collect())
            .map_err(|e| e.to_string()),
    }
}

pub fn progress_bar(total: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{prefix}} [{{bar:40}}] {{pos}}/{{len}} {what} ({{per_sec}}, {{eta}} left)"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}

/// A verifier key read from a file (`auditlog public-key` writes one).
pub fn read_verifier(path: &std::path::Path) -> Result<Verifier, String> {
    std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))
        .and_then(|text| Verifier::parse(&text).map_err(|e| e.to_string()))
}
