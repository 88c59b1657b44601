//! Distinct values (with counts) of the visible events, for the dashboard's filter pickers.

use diesel::dsl::{count_star, max};
use diesel::prelude::*;

use super::{contains_pattern, lower};
use crate::connection::DbConnection;
use crate::error::StoreResult;
use crate::schema::events;
use crate::visibility::{visible_to, EventPredicate, Viewer};

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

/// Actors of visible events whose name or e-mail contains `q` (or whose id is `q`), most active first.
pub fn actors(
    conn: &mut DbConnection,
    viewer: &Viewer,
    q: Option<&str>,
    limit: i64,
) -> StoreResult<Vec<ActorFacet>> {
    // Deleted entries have no actor left to offer.
    let mut condition: EventPredicate = Box::new(visible_to(viewer).and(events::deleted_at.is_null()));
    if let Some(q) = q.filter(|q| !q.is_empty()) {
        let pattern = contains_pattern(&q.to_lowercase());
        condition = Box::new(
            condition.and(
                lower(events::actor_name)
                    .like(pattern.clone())
                    .escape('\\')
                    .or(lower(events::actor_email.assume_not_null()).like(pattern).escape('\\'))
                    .or(events::actor_id.eq(q.to_string())),
            ),
        );
    }
    let rows: Vec<(String, Option<String>, Option<String>, i64)> = events::table
        .filter(condition)
        .group_by(events::actor_id)
        .select((events::actor_id, max(events::actor_name), max(events::actor_email), count_star()))
        .order((count_star().desc(), events::actor_id.asc()))
        .limit(limit)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, name, email, count)| ActorFacet {
            name: name.unwrap_or_else(|| id.clone()),
            id,
            email,
            count,
        })
        .collect())
}

/// Modules of visible events, alphabetically.
pub fn modules(conn: &mut DbConnection, viewer: &Viewer) -> StoreResult<Vec<ValueFacet>> {
    let rows: Vec<(String, i64)> = events::table
        .filter(visible_to(viewer))
        .group_by(events::module)
        .select((events::module, count_star()))
        .order(events::module.asc())
        .load(conn)?;
    Ok(rows.into_iter().map(|(value, count)| ValueFacet { value, count }).collect())
}

/// Actions of visible events, alphabetically.
pub fn actions(conn: &mut DbConnection, viewer: &Viewer) -> StoreResult<Vec<ActionFacet>> {
    let rows: Vec<(String, String, String, i64)> = events::table
        .filter(visible_to(viewer))
        .group_by((events::action, events::module, events::verb))
        .select((events::action, events::module, events::verb, count_star()))
        .order(events::action.asc())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(action, module, verb, count)| ActionFacet { action, module, verb, count })
        .collect())
}
