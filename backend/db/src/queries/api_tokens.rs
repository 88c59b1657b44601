//! Integrator API tokens.

use crate::ids::{TenantId, UserId};
use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::{StoreError, StoreResult};
use crate::models::{ApiToken, Scope, Tenant};
use crate::schema::{api_tokens, tenants};

pub struct NewApiToken<'a> {
    pub tenant_id: TenantId,
    pub name: &'a str,
    pub scopes: &'a [Scope],
    pub secret_hash: &'a str,
    pub created_by: UserId,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
}

pub fn create(conn: &mut DbConnection, new: &NewApiToken<'_>) -> StoreResult<ApiToken> {
    let scopes = new.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ");
    conn.transaction(|conn| {
        diesel::insert_into(api_tokens::table)
            .values((
                api_tokens::tenant_id.eq(new.tenant_id),
                api_tokens::name.eq(new.name),
                api_tokens::scopes.eq(&scopes),
                api_tokens::secret_hash.eq(new.secret_hash),
                api_tokens::created_by.eq(new.created_by),
                api_tokens::created_at.eq(new.created_at),
                api_tokens::expires_at.eq(new.expires_at),
            ))
            .execute(conn)?;
        Ok(api_tokens::table
            .filter(api_tokens::tenant_id.eq(new.tenant_id))
            .filter(api_tokens::secret_hash.eq(new.secret_hash))
            .select(ApiToken::as_select())
            .first(conn)?)
    })
}

pub fn list(conn: &mut DbConnection, tenant_id: TenantId) -> StoreResult<Vec<ApiToken>> {
    Ok(api_tokens::table
        .filter(api_tokens::tenant_id.eq(tenant_id))
        .order(api_tokens::id.desc())
        .select(ApiToken::as_select())
        .load(conn)?)
}

pub fn get(conn: &mut DbConnection, tenant_id: TenantId, id: i64) -> StoreResult<ApiToken> {
    api_tokens::table
        .filter(api_tokens::tenant_id.eq(tenant_id))
        .filter(api_tokens::id.eq(id))
        .select(ApiToken::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

/// A token with its tenant, in one read: what every request with an API token asks.
pub fn with_tenant(conn: &mut DbConnection, tenant_id: TenantId, id: i64) -> StoreResult<(ApiToken, Tenant)> {
    api_tokens::table
        .inner_join(tenants::table.on(tenants::id.eq(api_tokens::tenant_id)))
        .filter(api_tokens::tenant_id.eq(tenant_id))
        .filter(api_tokens::id.eq(id))
        .select((ApiToken::as_select(), Tenant::as_select()))
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

/// Revokes a live token; `false` when it was already revoked.
pub fn revoke(
    conn: &mut DbConnection,
    tenant_id: TenantId,
    id: i64,
    now: NaiveDateTime,
) -> StoreResult<bool> {
    get(conn, tenant_id, id)?;
    let changed = diesel::update(
        api_tokens::table
            .filter(api_tokens::tenant_id.eq(tenant_id))
            .filter(api_tokens::id.eq(id))
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(now))
    .execute(conn)?;
    Ok(changed > 0)
}

/// Notes use, at most once a minute per token, so busy integrators do not write on every request.
pub fn touch(conn: &mut DbConnection, token: &ApiToken, now: NaiveDateTime) -> StoreResult<()> {
    if token.last_used_at.is_some_and(|t| now - t < TimeDelta::minutes(1)) {
        return Ok(());
    }
    diesel::update(
        api_tokens::table
            .filter(api_tokens::tenant_id.eq(token.tenant_id))
            .filter(api_tokens::id.eq(token.id)),
    )
    .set(api_tokens::last_used_at.eq(now))
    .execute(conn)?;
    Ok(())
}
