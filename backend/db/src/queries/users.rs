use crate::ids::{TenantId, UserId};
use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::{StoreError, StoreResult};
use crate::models::{Role, Tenant, User};
use crate::schema::{revoked_tokens, tenants, users};

/// What `create` needs; the password is already hashed.
pub struct NewUser<'a> {
    pub tenant_id: TenantId,
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    /// `None` links the user to events whose `actor.id` is their own user id.
    pub actor_id: Option<&'a str>,
}

/// Creates a user; a second user with the same e-mail in the tenant is a conflict.
pub fn create(conn: &mut DbConnection, new: &NewUser<'_>) -> StoreResult<User> {
    conn.transaction(|conn| {
        super::tenants::lock(conn, new.tenant_id)?;
        let taken = users::table
            .filter(users::tenant_id.eq(new.tenant_id))
            .filter(users::email.eq(new.email))
            .count()
            .get_result::<i64>(conn)?;
        if taken > 0 {
            return Err(StoreError::Conflict(format!("a user with e-mail {} already exists", new.email)));
        }
        let now = Utc::now().naive_utc();
        diesel::insert_into(users::table)
            .values((
                users::tenant_id.eq(new.tenant_id),
                users::email.eq(new.email),
                users::name.eq(new.name),
                users::password_hash.eq(new.password_hash),
                users::role.eq(new.role.as_str()),
                // Filled in below once the id is known, unless given.
                users::actor_id.eq(new.actor_id.unwrap_or("")),
                users::active.eq(true),
                users::created_at.eq(now),
                users::updated_at.eq(now),
            ))
            .execute(conn)?;
        let mut user: User = users::table
            .filter(users::tenant_id.eq(new.tenant_id))
            .filter(users::email.eq(new.email))
            .select(User::as_select())
            .first(conn)?;
        if new.actor_id.is_none() {
            user.actor_id = user.id.to_string();
            diesel::update(
                users::table.filter(users::tenant_id.eq(user.tenant_id)).filter(users::id.eq(user.id)),
            )
            .set(users::actor_id.eq(&user.actor_id))
            .execute(conn)?;
        }
        Ok(user)
    })
}

/// Active users with this e-mail, in any tenant, with their tenant.
pub fn find_active_by_email(conn: &mut DbConnection, email: &str) -> StoreResult<Vec<(User, Tenant)>> {
    Ok(users::table
        .inner_join(tenants::table.on(tenants::id.eq(users::tenant_id)))
        .filter(users::email.eq(email))
        .filter(users::active.eq(true))
        .select((User::as_select(), Tenant::as_select()))
        .load(conn)?)
}

pub fn get(conn: &mut DbConnection, tenant_id: TenantId, id: UserId) -> StoreResult<User> {
    users::table
        .filter(users::tenant_id.eq(tenant_id))
        .filter(users::id.eq(id))
        .select(User::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

/// A signed-in user as one read: the user, their tenant, and whether the session `jti` was signed
/// out. `None` when the user does not exist. Every request with an access token asks this.
pub fn signed_in(
    conn: &mut DbConnection,
    tenant_id: TenantId,
    id: UserId,
    jti: &str,
) -> StoreResult<Option<(User, Tenant, bool)>> {
    let revoked = diesel::dsl::exists(
        revoked_tokens::table
            .filter(revoked_tokens::tenant_id.eq(tenant_id))
            .filter(revoked_tokens::jti.eq(jti.to_string())),
    );
    Ok(users::table
        .inner_join(tenants::table.on(tenants::id.eq(users::tenant_id)))
        .filter(users::tenant_id.eq(tenant_id))
        .filter(users::id.eq(id))
        .select((User::as_select(), Tenant::as_select(), revoked))
        .first(conn)
        .optional()?)
}

pub fn find_by_email(conn: &mut DbConnection, tenant_id: TenantId, email: &str) -> StoreResult<Option<User>> {
    Ok(users::table
        .filter(users::tenant_id.eq(tenant_id))
        .filter(users::email.eq(email))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

/// Every user of a tenant, by name.
pub fn list(conn: &mut DbConnection, tenant_id: TenantId) -> StoreResult<Vec<User>> {
    Ok(users::table
        .filter(users::tenant_id.eq(tenant_id))
        .order((users::name.asc(), users::id.asc()))
        .select(User::as_select())
        .load(conn)?)
}

/// Notes that the user signed in at `now`.
pub fn record_sign_in(conn: &mut DbConnection, user_id: UserId, now: NaiveDateTime) -> StoreResult<()> {
    diesel::update(users::table.find(user_id)).set(users::last_sign_in_at.eq(now)).execute(conn)?;
    Ok(())
}

/// Changes to a user; `None` leaves a field as it is.
#[derive(Debug, Default, Clone)]
pub struct UserChanges {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub actor_id: Option<String>,
    pub active: Option<bool>,
    pub password_hash: Option<String>,
}

/// Applies `changes`, refusing to leave the tenant without an active admin. Returns the user
/// before and after.
pub fn update(
    conn: &mut DbConnection,
    tenant_id: TenantId,
    id: UserId,
    changes: &UserChanges,
) -> StoreResult<(User, User)> {
    conn.transaction(|conn| {
        // Lock the tenant first so two admins cannot demote each other at the same moment.
        diesel::update(tenants::table.find(tenant_id))
            .set(tenants::head_seq.eq(tenants::head_seq))
            .execute(conn)?;
        let before = get(conn, tenant_id, id)?;
        let stays_admin =
            changes.role.unwrap_or(before.role()) == Role::Admin && changes.active.unwrap_or(before.active);
        if before.role() == Role::Admin && before.active && !stays_admin {
            let other_admins: i64 = users::table
                .filter(users::tenant_id.eq(tenant_id))
                .filter(users::role.eq(Role::Admin.as_str()))
                .filter(users::active.eq(true))
                .filter(users::id.ne(id))
                .count()
                .get_result(conn)?;
            if other_admins == 0 {
                return Err(StoreError::Conflict(
                    "the tenant's last active admin cannot be demoted or deactivated".into(),
                ));
            }
        }
        let target = users::table.filter(users::tenant_id.eq(tenant_id)).filter(users::id.eq(id));
        let now = Utc::now().naive_utc();
        if let Some(name) = &changes.name {
            diesel::update(target).set(users::name.eq(name)).execute(conn)?;
        }
        if let Some(role) = changes.role {
            diesel::update(target).set(users::role.eq(role.as_str())).execute(conn)?;
        }
        if let Some(actor_id) = &changes.actor_id {
            diesel::update(target).set(users::actor_id.eq(actor_id)).execute(conn)?;
        }
        if let Some(active) = changes.active {
            diesel::update(target).set(users::active.eq(active)).execute(conn)?;
        }
        if let Some(hash) = &changes.password_hash {
            diesel::update(target).set(users::password_hash.eq(hash)).execute(conn)?;
        }
        // A new password or a deactivation ends every session issued before, for good: a token
        // of an earlier epoch never works again, not even after a re-activation.
        if changes.password_hash.is_some() || (before.active && changes.active == Some(false)) {
            diesel::update(target).set(users::session_epoch.eq(users::session_epoch + 1)).execute(conn)?;
        }
        diesel::update(target).set(users::updated_at.eq(now)).execute(conn)?;
        let after = get(conn, tenant_id, id)?;
        Ok((before, after))
    })
}
