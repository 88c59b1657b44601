use crate::ids::TenantId;
use chrono::Utc;
use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::{StoreError, StoreResult};
use crate::models::Tenant;
use crate::schema::tenants;
use crate::slug::TenantSlug;
use crate::visibility::FieldVisibility;

pub fn find_by_slug(conn: &mut DbConnection, slug: &str) -> StoreResult<Option<Tenant>> {
    Ok(tenants::table.filter(tenants::slug.eq(slug)).select(Tenant::as_select()).first(conn).optional()?)
}

/// Takes the tenant's lock for the rest of the current transaction: its row on PostgreSQL, the
/// database's write lock on SQLite. A transaction that writes must do this before it reads: on
/// SQLite a transaction that has read cannot start writing once another one has committed in
/// the meantime (it fails at once with "database is locked", whatever `busy_timeout` says),
/// while one that writes first waits its turn.
pub fn lock(conn: &mut DbConnection, id: TenantId) -> StoreResult<()> {
    let locked =
        diesel::update(tenants::table.find(id)).set(tenants::head_seq.eq(tenants::head_seq)).execute(conn)?;
    if locked == 0 {
        return Err(crate::error::StoreError::NotFound);
    }
    Ok(())
}

pub fn get(conn: &mut DbConnection, id: TenantId) -> StoreResult<Tenant> {
    tenants::table.find(id).select(Tenant::as_select()).first(conn).optional()?.ok_or(StoreError::NotFound)
}

/// Returns the tenant with `slug`, creating it (with `name` and business `timezone`) if missing.
/// The slug's type makes every new tenant follow the rule of [`crate::slug`].
pub fn ensure(conn: &mut DbConnection, slug: &TenantSlug, name: &str, timezone: &str) -> StoreResult<Tenant> {
    let slug = slug.as_str();
    if let Some(tenant) = find_by_slug(conn, slug)? {
        return Ok(tenant);
    }
    diesel::insert_into(tenants::table)
        .values((
            tenants::slug.eq(slug),
            tenants::name.eq(name),
            tenants::timezone.eq(timezone),
            tenants::created_at.eq(Utc::now().naive_utc()),
        ))
        .execute(conn)?;
    find_by_slug(conn, slug)?.ok_or(StoreError::NotFound)
}

/// Every tenant, by slug.
pub fn all(conn: &mut DbConnection) -> StoreResult<Vec<Tenant>> {
    Ok(tenants::table.order(tenants::slug.asc()).select(Tenant::as_select()).load(conn)?)
}

/// The tenant's field visibility as stored now (the defaults when none is stored).
pub fn field_visibility(conn: &mut DbConnection, id: TenantId) -> StoreResult<FieldVisibility> {
    let stored: Option<String> =
        tenants::table.find(id).select(tenants::field_visibility).first(conn).optional()?.flatten();
    Ok(FieldVisibility::from_stored(stored.as_deref()))
}

/// Keeps the tenant's field visibility.
pub fn set_field_visibility(
    conn: &mut DbConnection,
    id: TenantId,
    setting: &FieldVisibility,
) -> StoreResult<()> {
    let text = serde_json::to_string(setting).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    diesel::update(tenants::table.find(id)).set(tenants::field_visibility.eq(Some(text))).execute(conn)?;
    Ok(())
}
