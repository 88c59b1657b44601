//! Who may see which events (SPEC §3). Every read path starts from [`visible_to`], or, for the
//! counts kept beside the events, [`facets_visible_to`] and [`slots_visible_to`]: all translate
//! one rule, [`sight`].

use crate::ids::TenantId;
use diesel::prelude::*;
use diesel::sql_types::Bool;

use crate::connection::MultiBackend;
use crate::models::Role;
use crate::schema::{events, facet_counts, slot_counts};

/// The reader on whose behalf a query runs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Viewer {
    pub tenant_id: TenantId,
    pub role: Role,
    /// The `actor.id` that marks an event as this reader's own.
    pub actor_id: String,
}

/// A condition on `events`, combinable and usable in plain, boxed and grouped queries.
pub type EventPredicate = Box<dyn BoxableExpression<events::table, MultiBackend, SqlType = Bool>>;
/// The same for `facet_counts`.
pub type FacetPredicate = Box<dyn BoxableExpression<facet_counts::table, MultiBackend, SqlType = Bool>>;
/// The same for `slot_counts`.
pub type SlotPredicate = Box<dyn BoxableExpression<slot_counts::table, MultiBackend, SqlType = Bool>>;

/// Which of their tenant's events a reader sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sight<'a> {
    /// Every event, tombstones of deleted events included (nobody else sees those).
    Everything,
    /// Every event but tombstones and admin-private events.
    AllButPrivate,
    /// Only the reader's own events (this actor id), tombstones excluded.
    Own(&'a str),
}

/// The rule: always only their tenant's events; a member only their own; a manager everything
/// but admin-private events; an admin everything.
pub fn sight(viewer: &Viewer) -> Sight<'_> {
    match viewer.role {
        Role::Admin => Sight::Everything,
        Role::Manager => Sight::AllButPrivate,
        Role::Member => Sight::Own(&viewer.actor_id),
    }
}

/// The events `viewer` may see.
pub fn visible_to(viewer: &Viewer) -> EventPredicate {
    let tenant = events::tenant_id.eq(viewer.tenant_id);
    match sight(viewer) {
        Sight::Everything => Box::new(tenant),
        Sight::AllButPrivate => {
            Box::new(tenant.and(events::deleted_at.is_null()).and(events::admin_private.eq(false)))
        }
        Sight::Own(actor) => {
            Box::new(tenant.and(events::deleted_at.is_null()).and(events::actor_id.eq(actor.to_string())))
        }
    }
}

/// The facet counts of the events `viewer` may see.
pub fn facets_visible_to(viewer: &Viewer) -> FacetPredicate {
    let tenant = facet_counts::tenant_id.eq(viewer.tenant_id);
    match sight(viewer) {
        Sight::Everything => Box::new(tenant),
        Sight::AllButPrivate => {
            Box::new(tenant.and(facet_counts::deleted.eq(false)).and(facet_counts::admin_private.eq(false)))
        }
        Sight::Own(actor) => Box::new(
            tenant.and(facet_counts::deleted.eq(false)).and(facet_counts::actor_id.eq(actor.to_string())),
        ),
    }
}

/// The slot counts of the events `viewer` may see; `None` for a reader who sees only their own
/// events (slot counts are not kept per actor).
pub fn slots_visible_to(viewer: &Viewer) -> Option<SlotPredicate> {
    let tenant = slot_counts::tenant_id.eq(viewer.tenant_id);
    match sight(viewer) {
        Sight::Everything => Some(Box::new(tenant)),
        Sight::AllButPrivate => Some(Box::new(
            tenant.and(slot_counts::deleted.eq(false)).and(slot_counts::admin_private.eq(false)),
        )),
        Sight::Own(_) => None,
    }
}
