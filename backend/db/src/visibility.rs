//! Who may see which events (SPEC §3). Every read path starts from [`visible_to`].

use diesel::prelude::*;
use diesel::sql_types::Bool;

use crate::connection::MultiBackend;
use crate::models::Role;
use crate::schema::events;

/// The reader on whose behalf a query runs.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub tenant_id: i64,
    pub role: Role,
    /// The `actor.id` that marks an event as this reader's own.
    pub actor_id: String,
}

/// A condition on `events`, combinable and usable in plain, boxed and grouped queries.
pub type EventPredicate = Box<dyn BoxableExpression<events::table, MultiBackend, SqlType = Bool>>;

/// The events `viewer` may see: always only their tenant's; a member only their own; a manager
/// everything but admin-private events; an admin everything, tombstones of deleted events included
/// (nobody else sees those).
pub fn visible_to(viewer: &Viewer) -> EventPredicate {
    let tenant = events::tenant_id.eq(viewer.tenant_id);
    match viewer.role {
        Role::Admin => Box::new(tenant),
        Role::Manager => {
            Box::new(tenant.and(events::deleted_at.is_null()).and(events::admin_private.eq(false)))
        }
        Role::Member => Box::new(
            tenant.and(events::deleted_at.is_null()).and(events::actor_id.eq(viewer.actor_id.clone())),
        ),
    }
}
