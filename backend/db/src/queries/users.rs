use chrono::Utc;
use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::{StoreError, StoreResult};
use crate::models::{Role, Tenant, User};
use crate::schema::{tenants, users};

/// What `create` needs; the password is already hashed.
pub struct NewUser<'a> {
    pub tenant_id: i64,
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
        let taken = users::table
            .filter(users::tenant_id.eq(new.tenant_id))
            .filter(users::email.eq(new.email))
            .count()
            .get_result::<i64>(conn)?;
        if taken > 0 {
            return Err(StoreError::Conflict(format!(
                "a user with e-mail {} already exists",
                new.email
            )));
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
                users::table
                    .filter(users::tenant_id.eq(user.tenant_id))
                    .filter(users::id.eq(user.id)),
            )
            .set(users::actor_id.eq(&user.actor_id))
            .execute(conn)?;
        }
        Ok(user)
    })
}

/// Active users with this e-mail, in any tenant, with their tenant.
pub fn find_active_by_email(
    conn: &mut DbConnection,
    email: &str,
) -> StoreResult<Vec<(User, Tenant)>> {
    Ok(users::table
        .inner_join(tenants::table.on(tenants::id.eq(users::tenant_id)))
        .filter(users::email.eq(email))
        .filter(users::active.eq(true))
        .select((User::as_select(), Tenant::as_select()))
        .load(conn)?)
}

pub fn get(conn: &mut DbConnection, tenant_id: i64, id: i64) -> StoreResult<User> {
    users::table
        .filter(users::tenant_id.eq(tenant_id))
        .filter(users::id.eq(id))
        .select(User::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

pub fn find_by_email(
    conn: &mut DbConnection,
    tenant_id: i64,
    email: &str,
) -> StoreResult<Option<User>> {
    Ok(users::table
        .filter(users::tenant_id.eq(tenant_id))
        .filter(users::email.eq(email))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}
