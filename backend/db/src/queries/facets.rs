//! Distinct values (with counts) of the visible events, for the dashboard's filter pickers: read
//! from `facet_counts`, which triggers keep in step with `events`, so each is a lookup over a few
//! thousand rows however many events there are.

use diesel::dsl::max;
use diesel::prelude::*;

use super::{contains_pattern, lower, summed_counts};
use crate::connection::DbConnection;
use crate::error::StoreResult;
use crate::queries::events::filter::EventFilter;
use crate::schema::facet_counts;
use crate::visibility::{facets_visible_to, FacetPredicate, HiddenField, Viewer};

#[derive(Debug, Clone, PartialEq)]
pub struct ActorFacet {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ValueFacet {
    pub value: String,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ActionFacet {
    pub action: String,
    pub module: String,
    pub verb: String,
    pub count: i64,
}

/// The exact number of events matching `filter`, from the kept counts, when the filter asks
/// only what they hold (actors, module, verb, action, "mine"): a lookup however many match.
/// `None` for any other filter.
pub(crate) fn count_matching(
    conn: &mut DbConnection,
    viewer: &Viewer,
    filter: &EventFilter,
) -> StoreResult<Option<i64>> {
    let EventFilter {
        from: None,
        until: None,
        actor_ids,
        module,
        verb,
        action,
        entity_type: None,
        entity_id: None,
        ip: None,
        q: None,
        mine,
        record: None,
        ids,
        through_seq: None,
        flag: None,
    } = filter
    else {
        return Ok(None);
    };
    if !ids.is_empty() {
        return Ok(None);
    }
    let mut query = facet_counts::table.filter(facets_visible_to(viewer)).into_boxed();
    if !actor_ids.is_empty() {
        query = query.filter(facet_counts::actor_id.eq_any(actor_ids.clone()));
    }
    if let Some(module) = module {
        query = query.filter(facet_counts::module.eq(module.clone()));
    }
    if let Some(verb) = verb {
        query = query.filter(facet_counts::verb.eq(verb.clone()));
    }
    if let Some(action) = action {
        query = query.filter(facet_counts::action.eq(action.clone()));
    }
    if *mine {
        query = query.filter(facet_counts::actor_id.eq(viewer.actor_id.clone()));
    }
    Ok(Some(query.select(summed_counts()).first(conn)?))
}

/// Actors of visible events whose name or e-mail contains `q` (or whose id is `q`), most active
/// first. A reader from whom the actor's e-mail is hidden neither finds actors by it nor gets it.
pub fn actors(
    conn: &mut DbConnection,
    viewer: &Viewer,
    q: Option<&str>,
    limit: i64,
) -> StoreResult<Vec<ActorFacet>> {
    // Deleted entries have no actor left to offer.
    let mut condition: FacetPredicate =
        Box::new(facets_visible_to(viewer).and(facet_counts::deleted.eq(false)));
    let viewer = &crate::visibility::current(conn, viewer)?;
    let email_hidden = viewer.hides(HiddenField::ActorEmail);
    if let Some(q) = q.filter(|q| !q.is_empty()) {
        let pattern = contains_pattern(&q.to_lowercase());
        let mut found: FacetPredicate = Box::new(
            lower(facet_counts::actor_name)
                .like(pattern.clone())
                .escape('\\')
                .or(facet_counts::actor_id.eq(q.to_string())),
        );
        if !email_hidden {
            found = Box::new(found.or(lower(facet_counts::actor_email).like(pattern).escape('\\')));
        }
        condition = Box::new(condition.and(found));
    }
    let rows: Vec<(String, Option<String>, Option<String>, i64)> = facet_counts::table
        .filter(condition)
        .group_by(facet_counts::actor_id)
        .select((
            facet_counts::actor_id,
            max(facet_counts::actor_name),
            max(facet_counts::actor_email),
            summed_counts(),
        ))
        .order((summed_counts().desc(), facet_counts::actor_id.asc()))
        .limit(limit)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, name, email, count)| ActorFacet {
            name: name.unwrap_or_else(|| id.clone()),
            id,
            email: email.filter(|e| !e.is_empty() && !email_hidden),
            count,
        })
        .collect())
}

/// Modules of visible events, alphabetically.
pub fn modules(conn: &mut DbConnection, viewer: &Viewer) -> StoreResult<Vec<ValueFacet>> {
    let rows: Vec<(String, i64)> = facet_counts::table
        .filter(facets_visible_to(viewer))
        .group_by(facet_counts::module)
        .select((facet_counts::module, summed_counts()))
        .order(facet_counts::module.asc())
        .load(conn)?;
    Ok(rows.into_iter().map(|(value, count)| ValueFacet { value, count }).collect())
}

/// Actions of visible events, alphabetically.
pub fn actions(conn: &mut DbConnection, viewer: &Viewer) -> StoreResult<Vec<ActionFacet>> {
    let rows: Vec<(String, String, String, i64)> = facet_counts::table
        .filter(facets_visible_to(viewer))
        .group_by((facet_counts::action, facet_counts::module, facet_counts::verb))
        .select((facet_counts::action, facet_counts::module, facet_counts::verb, summed_counts()))
        .order(facet_counts::action.asc())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(action, module, verb, count)| ActionFacet { action, module, verb, count })
        .collect())
}
