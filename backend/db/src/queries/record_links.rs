//! The tenant's links into the host application (`tenants.record_links`): JSON text that the
//! API crate writes and checks again whenever it reads it.

use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::{StoreError, StoreResult};
use crate::ids::TenantId;
use crate::schema::tenants;

/// The stored text (`None`: never set).
pub fn get(conn: &mut DbConnection, tenant_id: TenantId) -> StoreResult<Option<String>> {
    tenants::table
        .find(tenant_id)
        .select(tenants::record_links)
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

/// Replaces the stored text.
pub fn set(conn: &mut DbConnection, tenant_id: TenantId, text: &str) -> StoreResult<()> {
    let updated = diesel::update(tenants::table.find(tenant_id))
        .set(tenants::record_links.eq(Some(text)))
        .execute(conn)?;
    if updated == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
