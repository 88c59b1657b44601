use actix_web::{get, web, HttpResponse};
use auditlog_db::queries::events as event_queries;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::filters::{EventFilterParams, Filtered};
use crate::http::error::ApiError;
use crate::http::state::AppState;

use super::{ndjson, FeedLine};

/// Lines per response unless `limit` says otherwise, and the most it may ask.
const DEFAULT_LIMIT: u32 = 1000;
const MAX_LIMIT: u32 = 5000;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedParams {
    /// Resume after this position: the `cursor` of the last line read, or the `Feed-Cursor`
    /// header of the last response. Absent, empty or `0`: from the tenant's first event.
    #[param(pattern = "^[0-9]{0,18}$", example = "5011")]
    pub cursor: Option<String>,
    /// Most lines in this response: 1 to 5000 (default 1000).
    #[param(minimum = 1, maximum = 5000)]
    pub limit: Option<u32>,
}

fn cursor_of(text: Option<&str>) -> Result<i64, ApiError> {
    match text {
        None | Some("") => Ok(0),
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|seq| *seq >= 0 && text.len() <= 18 && text.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| ApiError::bad_parameter("cursor", "must be a cursor from the feed: digits only")),
    }
}

/// The SIEM feed: events in the order they were stored, as NDJSON.
///
/// Every visible event matching the filters, oldest first by `seq`, one JSON line each
/// (`application/x-ndjson`): `{"cursor", "leaf_index", "event"}`. Resume with `cursor` set to the
/// last line's `cursor` (also in the `Feed-Cursor` header, which stays as sent when nothing new
/// came); `Feed-More: true` says the next call has more at once. A poller asks again every few
/// seconds; nothing is missed or repeated between calls. Reading the feed is not logged as an
/// event (its readers poll, and each poll would add to what they read).
#[utoipa::path(operation_id = "readFeed", tag = "events", security(("bearer" = [])),
    params(EventFilterParams, FeedParams),
    responses(
        (status = 200, description = "One JSON line per event", content_type = "application/x-ndjson", body = FeedLine,
            headers(
                ("Feed-Cursor" = String, description = "Pass as `cursor` to read on"),
                ("Feed-More" = bool, description = "Whether more events are ready now"),
            )),
    )
)]
#[get("/events/feed")]
pub async fn feed(
    state: web::Data<AppState>,
    filtered: Filtered<FeedParams>,
) -> Result<HttpResponse, ApiError> {
    let Filtered { caller, filter, params, .. } = filtered;
    let after = cursor_of(params.cursor.as_deref())?;
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_parameter("limit", format!("must be between 1 and {MAX_LIMIT}")));
    }
    let viewer = caller.viewer()?;
    let events = state
        .db(move |conn| Ok(event_queries::after_seq(conn, &viewer, &filter, after, limit as i64)?))
        .await?;
    let next = events.last().map(|e| e.seq).unwrap_or(after);
    let more = events.len() == limit as usize;
    Ok(HttpResponse::Ok()
        .content_type("application/x-ndjson")
        .insert_header(("Feed-Cursor", next.to_string()))
        .insert_header(("Feed-More", more.to_string()))
        .insert_header(("Cache-Control", "no-store"))
        .body(ndjson(events)))
}
