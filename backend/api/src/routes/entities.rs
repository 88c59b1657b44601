use actix_web::{get, web, HttpRequest, HttpResponse};

use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::filters::{list_request, record_ref, EventFilterParams, ListParams};
use crate::routes::events::{filter_context, page_response, EventListResponse};
use crate::state::AppState;

/// A record's timeline: its own events and those that list it in `related` (so a customer's
/// history includes its bookings' and invoices' events). Same filters and paging as `/events`.
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
    caller: Caller,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (entity_type, id) = path.into_inner();
    let mut request = list_request(req.query_string(), &filter_context(&caller))?;
    request.filter.record = Some(record_ref(&entity_type, &id)?);
    page_response(&state, &caller, request).await
}
