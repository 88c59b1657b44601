//! Who may see which events (SPEC §3), and which of their fields. Every read path starts from
//! [`visible_to`], or, for the counts kept beside the events, [`facets_visible_to`] and
//! [`slots_visible_to`]: all translate one rule, [`sight`]. The fields a tenant hides from a role
//! ([`FieldVisibility`]) are masked in one place, [`mask`], which the queries that read events
//! for a viewer apply before they return them.

use crate::ids::TenantId;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use serde::{Deserialize, Serialize};

use crate::connection::{DbConnection, MultiBackend};
use crate::error::StoreResult;
use crate::flags::FlagKind;
use crate::models::{Event, Role};
use crate::schema::{events, facet_counts, slot_counts};

/// The reader on whose behalf a query runs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Viewer {
    pub tenant_id: TenantId,
    pub role: Role,
    /// The `actor.id` that marks an event as this reader's own.
    pub actor_id: String,
    /// The tenant's field visibility as the request found it (see [`current`]).
    pub fields: FieldVisibility,
}

impl Viewer {
    /// A reader who sees every event and every field of a tenant: the server's own work (alert
    /// deliveries and digests, which admins set up).
    pub fn admin(tenant_id: TenantId) -> Self {
        Viewer { tenant_id, role: Role::Admin, actor_id: String::new(), fields: FieldVisibility::default() }
    }

    /// Whether `field` is withheld from this reader.
    pub fn hides(&self, field: HiddenField) -> bool {
        self.fields.of(field).hides(self.role)
    }

    /// The fields withheld from this reader, in [`HiddenField::ALL`] order.
    pub fn withheld(&self) -> Vec<HiddenField> {
        HiddenField::ALL.into_iter().filter(|f| self.hides(*f)).collect()
    }
}

/// An event field a tenant may hide from members, or from members and managers.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum HiddenField {
    /// `ip`: the IP address.
    Ip,
    /// `user_agent`.
    UserAgent,
    /// `actor.email`.
    ActorEmail,
    /// `changes`: the before/after values.
    Changes,
    /// `metadata`.
    Metadata,
}

impl HiddenField {
    pub const ALL: [HiddenField; 5] = [
        HiddenField::Ip,
        HiddenField::UserAgent,
        HiddenField::ActorEmail,
        HiddenField::Changes,
        HiddenField::Metadata,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HiddenField::Ip => "ip",
            HiddenField::UserAgent => "user_agent",
            HiddenField::ActorEmail => "actor_email",
            HiddenField::Changes => "changes",
            HiddenField::Metadata => "metadata",
        }
    }
}

/// Which roles may not see a field. Admins always see every field.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum HiddenFrom {
    /// Every role sees it.
    #[default]
    Nobody,
    /// Hidden from members.
    Members,
    /// Hidden from members and managers (and API tokens, which read as managers).
    MembersAndManagers,
}

impl HiddenFrom {
    pub fn hides(self, role: Role) -> bool {
        match (self, role) {
            (_, Role::Admin) | (HiddenFrom::Nobody, _) => false,
            (HiddenFrom::Members, role) => role == Role::Member,
            (HiddenFrom::MembersAndManagers, _) => true,
        }
    }
}

/// Which event fields each role of a tenant may not see (`tenants.field_visibility`; absent: the
/// defaults). Every member may be left out: it then takes its default. A hidden field is withheld
/// from every read of that role: list, detail, history, exports, stream, feed, facets, proofs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct FieldVisibility {
    /// The IP address (default `members`). Also keeps the `ip` filter, `sort=ip` and keyword hits
    /// on the address from those it is hidden from.
    #[schema(default = "members")]
    pub ip: HiddenFrom,
    /// The user agent (default `members`).
    #[schema(default = "members")]
    pub user_agent: HiddenFrom,
    /// The actor's e-mail address (default `nobody`). Also keeps keyword and actor-search hits on it
    /// from those it is hidden from.
    #[schema(default = "nobody")]
    pub actor_email: HiddenFrom,
    /// The before/after values (default `nobody`).
    #[schema(default = "nobody")]
    pub changes: HiddenFrom,
    /// The free metadata object (default `nobody`).
    #[schema(default = "nobody")]
    pub metadata: HiddenFrom,
}

impl Default for FieldVisibility {
    fn default() -> Self {
        FieldVisibility {
            ip: HiddenFrom::Members,
            user_agent: HiddenFrom::Members,
            actor_email: HiddenFrom::Nobody,
            changes: HiddenFrom::Nobody,
            metadata: HiddenFrom::Nobody,
        }
    }
}

impl FieldVisibility {
    /// The setting stored for a tenant (unreadable text counts as none: the defaults).
    pub fn from_stored(text: Option<&str>) -> Self {
        text.and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default()
    }

    /// Who may not see `field`.
    pub fn of(&self, field: HiddenField) -> HiddenFrom {
        match field {
            HiddenField::Ip => self.ip,
            HiddenField::UserAgent => self.user_agent,
            HiddenField::ActorEmail => self.actor_email,
            HiddenField::Changes => self.changes,
            HiddenField::Metadata => self.metadata,
        }
    }

    /// Each field hidden from whoever either setting hides it from.
    pub fn strictest(self, other: FieldVisibility) -> FieldVisibility {
        FieldVisibility {
            ip: self.ip.max(other.ip),
            user_agent: self.user_agent.max(other.user_agent),
            actor_email: self.actor_email.max(other.actor_email),
            changes: self.changes.max(other.changes),
            metadata: self.metadata.max(other.metadata),
        }
    }
}

/// `viewer` with the fields hidden as the tenant's setting stands now, and as it stood when the
/// viewer was made: a tightening applies at once, even to a read under way (an export, a stream),
/// a relaxation from the next request. Admins are never masked, and read nothing.
pub fn current(conn: &mut DbConnection, viewer: &Viewer) -> StoreResult<Viewer> {
    if viewer.role == Role::Admin {
        return Ok(viewer.clone());
    }
    let stored = crate::queries::tenants::field_visibility(conn, viewer.tenant_id)?;
    Ok(Viewer { fields: viewer.fields.strictest(stored), ..viewer.clone() })
}

/// The one mask: `event` as `viewer` may see it, the fields withheld from them emptied (absent
/// values, no changes, an empty metadata object) and named in [`Event::withheld`]. A flag whose
/// reason tells of a withheld field keeps its kind and loses its words.
pub fn mask(viewer: &Viewer, event: &mut Event) {
    let withheld = viewer.withheld();
    if withheld.is_empty() {
        return;
    }
    let draft = &mut event.draft;
    for field in &withheld {
        match field {
            HiddenField::Ip => draft.ip = None,
            HiddenField::UserAgent => draft.user_agent = None,
            HiddenField::ActorEmail => draft.actor.email = None,
            HiddenField::Changes => draft.changes.clear(),
            HiddenField::Metadata => draft.metadata.clear(),
        }
    }
    for flag in &mut event.flags {
        let told_by: &[HiddenField] = match flag.kind {
            FlagKind::NewIp | FlagKind::FailedLoginBurst => &[HiddenField::Ip],
            FlagKind::NewUserAgent => &[HiddenField::UserAgent],
            FlagKind::BulkDelete => &[HiddenField::Metadata],
            FlagKind::PrivilegeChange => &[HiddenField::Changes, HiddenField::Metadata],
            FlagKind::OddHours | FlagKind::BulkExport => &[],
        };
        if told_by.iter().any(|f| withheld.contains(f)) {
            flag.reason = "The details are hidden from your role.".to_string();
        }
    }
    // Masked twice (a stream's events when the setting changes): what either hid stays named.
    event.withheld.extend(withheld);
    event.withheld.sort_unstable();
    event.withheld.dedup();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flags::Flag;
    use crate::models::{Actor, Change, EventDraft};

    fn event() -> Event {
        Event {
            id: crate::EventId(1),
            tenant_id: TenantId(1),
            seq: 1,
            recorded_at: Default::default(),
            admin_private: false,
            prev_hash: String::new(),
            hash: String::new(),
            deleted: None,
            flags: vec![
                Flag { kind: FlagKind::NewIp, reason: "the network 10.9.8.0/24 (address 10.9.8.7)".into() },
                Flag { kind: FlagKind::OddHours, reason: "Sat 23:12".into() },
            ],
            draft: EventDraft {
                external_id: None,
                occurred_at: Default::default(),
                actor: Actor {
                    id: "u1".into(),
                    name: "Mia".into(),
                    email: Some("mia@acme.test".into()),
                    role: None,
                    actor_type: "user".into(),
                },
                action: "booking.updated".into(),
                module: "booking".into(),
                verb: "updated".into(),
                entity: None,
                related: Vec::new(),
                description: String::new(),
                changes: vec![Change { field: "status".into(), old: None, new: Some("closed".into()) }],
                ip: Some("10.9.8.7".into()),
                user_agent: Some("Probe/1.0".into()),
                metadata: serde_json::json!({"k": 1}).as_object().cloned().unwrap_or_default(),
            },
            withheld: Vec::new(),
        }
    }

    fn viewer(role: Role, fields: FieldVisibility) -> Viewer {
        Viewer { tenant_id: TenantId(1), role, actor_id: "u1".into(), fields }
    }

    #[test]
    fn the_defaults_hide_ip_and_user_agent_from_members_only() {
        let mut seen = event();
        mask(&viewer(Role::Member, FieldVisibility::default()), &mut seen);
        assert_eq!((seen.draft.ip.as_deref(), seen.draft.user_agent.as_deref()), (None, None));
        assert_eq!(seen.withheld, [HiddenField::Ip, HiddenField::UserAgent]);
        assert_eq!(seen.draft.actor.email.as_deref(), Some("mia@acme.test"));
        assert!(!seen.flags[0].reason.contains("10.9.8"), "a flag's reason does not tell the address");
        assert_eq!(seen.flags[1].reason, "Sat 23:12");
        for role in [Role::Manager, Role::Admin] {
            let mut seen = event();
            mask(&viewer(role, FieldVisibility::default()), &mut seen);
            assert_eq!(seen, event(), "{role}");
        }
    }

    #[test]
    fn admins_see_everything_whatever_the_setting() {
        let all = FieldVisibility {
            ip: HiddenFrom::MembersAndManagers,
            user_agent: HiddenFrom::MembersAndManagers,
            actor_email: HiddenFrom::MembersAndManagers,
            changes: HiddenFrom::MembersAndManagers,
            metadata: HiddenFrom::MembersAndManagers,
        };
        let mut seen = event();
        mask(&viewer(Role::Admin, all), &mut seen);
        assert_eq!(seen, event());
        let mut seen = event();
        mask(&viewer(Role::Manager, all), &mut seen);
        assert_eq!(seen.withheld, HiddenField::ALL);
        assert!(
            seen.draft.changes.is_empty()
                && seen.draft.metadata.is_empty()
                && seen.draft.actor.email.is_none()
        );
    }

    #[test]
    fn masking_twice_names_what_either_hid_and_the_strictest_setting_wins() {
        let mut seen = event();
        mask(&viewer(Role::Member, FieldVisibility::default()), &mut seen);
        let relaxed = FieldVisibility { ip: HiddenFrom::Nobody, ..FieldVisibility::default() };
        mask(&viewer(Role::Member, relaxed), &mut seen);
        assert_eq!(seen.withheld, [HiddenField::Ip, HiddenField::UserAgent]);
        assert_eq!(FieldVisibility::default().strictest(relaxed), FieldVisibility::default());
        assert_eq!(FieldVisibility::from_stored(Some("not json")), FieldVisibility::default());
        assert_eq!(FieldVisibility::from_stored(Some(r#"{"ip":"nobody"}"#)), relaxed);
    }
}
