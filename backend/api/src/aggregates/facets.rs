use actix_web::{get, web, HttpRequest, HttpResponse};
use auditlog_db::queries::facets as facet_queries;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::aggregates::Read;
use crate::auth::Caller;
use crate::filters::{parse_query, Keyword};
use crate::http::error::ApiError;
use crate::http::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ActorFacetParams {
    /// Part of the actor's name or e-mail (case-insensitive), or an exact actor id.
    pub q: Option<Keyword>,
    /// How many actors to return, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

/// An actor with the number of visible events they performed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActorFacetOut {
    /// The actor id (filter with `actor_id`).
    pub id: String,
    /// The actor's display name.
    pub name: String,
    /// The actor's e-mail, if any event gave one.
    pub email: Option<String>,
    /// Visible events by this actor.
    pub count: i64,
}

/// Actors of the visible events matching the search, with their counts.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActorFacetList {
    /// Most active first.
    pub items: Vec<ActorFacetOut>,
}

/// A value and how many visible events have it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ValueFacetOut {
    /// The module name.
    pub value: String,
    /// Visible events in this module.
    pub count: i64,
}

/// Modules of the visible events, with their counts.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModuleFacetList {
    /// Alphabetical.
    pub items: Vec<ValueFacetOut>,
}

/// An action and how many visible events have it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionFacetOut {
    /// Action key, `<module>.<verb>`.
    pub action: String,
    /// The module part of the action.
    pub module: String,
    /// The verb part of the action.
    pub verb: String,
    /// Visible events with this action.
    pub count: i64,
}

/// Actions of the visible events, with their counts.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionFacetList {
    /// Alphabetical.
    pub items: Vec<ActionFacetOut>,
}

/// Actors of the events the caller may see, for search-as-you-type.
///
/// The counts are kept as events are written (and deleted, and archived), so an answer is a
/// lookup, current, whatever the number of events. Should one still be slow, it may be reused
/// for a short while, as the activity chart's are; a reused answer carries `Age` (seconds).
#[utoipa::path(operation_id = "listActorFacets", tag = "facets", security(("bearer" = [])), params(ActorFacetParams), responses(
    (status = 200, body = ActorFacetList, headers(("Age" = String, description = "Present when the answer is reused: its age in seconds"))),
))]
#[get("/facets/actors")]
pub async fn actors(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let params: ActorFacetParams = parse_query(req.query_string())?;
    let limit = params.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::bad_parameter("limit", "must be between 1 and 100"));
    }
    let q = params.q.and_then(Keyword::non_empty);
    state
        .aggregate(caller.viewer()?, Read::Actors { q: q.clone(), limit }, move |conn, viewer| {
            let items = facet_queries::actors(conn, viewer, q.as_deref(), limit)?;
            Ok(ActorFacetList {
                items: items
                    .into_iter()
                    .map(|a| ActorFacetOut { id: a.id, name: a.name, email: a.email, count: a.count })
                    .collect(),
            })
        })
        .await
}

/// Modules of the events the caller may see.
///
/// The counts are kept as events are written (and deleted, and archived), so an answer is a
/// lookup, current, whatever the number of events. Should one still be slow, it may be reused
/// for a short while, as the activity chart's are; a reused answer carries `Age` (seconds).
#[utoipa::path(operation_id = "listModuleFacets", tag = "facets", security(("bearer" = [])), responses(
    (status = 200, body = ModuleFacetList, headers(("Age" = String, description = "Present when the answer is reused: its age in seconds"))),
))]
#[get("/facets/modules")]
pub async fn modules(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    state
        .aggregate(caller.viewer()?, Read::Modules, |conn, viewer| {
            let items = facet_queries::modules(conn, viewer)?;
            Ok(ModuleFacetList {
                items: items.into_iter().map(|m| ValueFacetOut { value: m.value, count: m.count }).collect(),
            })
        })
        .await
}

/// Actions of the events the caller may see.
///
/// The counts are kept as events are written (and deleted, and archived), so an answer is a
/// lookup, current, whatever the number of events. Should one still be slow, it may be reused
/// for a short while, as the activity chart's are; a reused answer carries `Age` (seconds).
#[utoipa::path(operation_id = "listActionFacets", tag = "facets", security(("bearer" = [])), responses(
    (status = 200, body = ActionFacetList, headers(("Age" = String, description = "Present when the answer is reused: its age in seconds"))),
))]
#[get("/facets/actions")]
pub async fn actions(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    state
        .aggregate(caller.viewer()?, Read::Actions, |conn, viewer| {
            let items = facet_queries::actions(conn, viewer)?;
            Ok(ActionFacetList {
                items: items
                    .into_iter()
                    .map(|a| ActionFacetOut {
                        action: a.action,
                        module: a.module,
                        verb: a.verb,
                        count: a.count,
                    })
                    .collect(),
            })
        })
        .await
}
