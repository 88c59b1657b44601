//! Revoked access tokens: a signed-out token stays refused until it would have expired.

use crate::ids::TenantId;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::StoreResult;
use crate::schema::revoked_tokens;

pub fn revoke(
    conn: &mut DbConnection,
    tenant_id: TenantId,
    jti: &str,
    expires_at: NaiveDateTime,
    now: NaiveDateTime,
) -> StoreResult<()> {
    if is_revoked(conn, tenant_id, jti)? {
        return Ok(());
    }
    diesel::insert_into(revoked_tokens::table)
        .values((
            revoked_tokens::tenant_id.eq(tenant_id),
            revoked_tokens::jti.eq(jti),
            revoked_tokens::expires_at.eq(expires_at),
            revoked_tokens::revoked_at.eq(now),
        ))
        .execute(conn)?;
    // Entries past their token's expiry are no longer needed.
    diesel::delete(revoked_tokens::table.filter(revoked_tokens::expires_at.lt(now))).execute(conn)?;
    Ok(())
}

pub fn is_revoked(conn: &mut DbConnection, tenant_id: TenantId, jti: &str) -> StoreResult<bool> {
    let count: i64 = revoked_tokens::table
        .filter(revoked_tokens::tenant_id.eq(tenant_id))
        .filter(revoked_tokens::jti.eq(jti))
        .count()
        .get_result(conn)?;
    Ok(count > 0)
}
