use actix_web::{get, web, HttpResponse};

use crate::error::{ApiError, Problem};
use crate::filters::{record_ref, EventFilterParams, Filtered, ListParams};
use crate::routes::events::{page_response, EventListResponse};
use crate::state::AppState;

/// A record's timeline.
///
/// The record's own events and those that list it in `related`, so a customer's history includes
/// its bookings' and invoices' events. Same filters, visibility and paging as `GET /events`.
#[utoipa::path(operation_id = "getRecordHistory", 
    tag = "events",
    security(("bearer" = [])),
    params(
        ("type" = String, Path, min_length = 1, max_length = 64, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$", description = "Record type, e.g. `customer`"),
        ("id" = String, Path, min_length = 1, max_length = 128, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$", description = "Record id"),
        EventFilterParams,
        ListParams,
    ),
    responses(
        (status = 200, body = EventListResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/entities/{type}/{id}/history")]
pub async fn history(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    filtered: Filtered<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let (entity_type, id) = path.into_inner();
    let (caller, mut request) = filtered.list_request()?;
    request.filter.record = Some(record_ref(&entity_type, &id)?);
    page_response(&state, &caller, request).await
}
