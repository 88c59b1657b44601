//! `GET /events/stream`: a live tail as Server-Sent Events, with the list's filters and visibility.
//!
//! The stream is pulled by the socket: events are read from the database only as fast as the
//! client takes them (at most one batch waits per client), so a slow client falls behind and
//! catches up from the database instead of growing the server's memory. `Last-Event-ID` (the
//! event's `seq`) resumes without gaps.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use auditlog_db::models::Event;
use auditlog_db::queries::events::{self as event_queries, EventFilter};
use auditlog_db::visibility::Viewer;
use bytes::Bytes;
use chrono::Utc;

use crate::auth::{Caller, Principal};
use crate::error::{ApiError, Problem};
use crate::filters::{parse_filtered, EventFilterParams};
use crate::routes::events::{filter_context, EventOut};
use crate::state::AppState;

const BATCH: i64 = 100;
const POLL: Duration = Duration::from_secs(1);
const HEARTBEAT: Duration = Duration::from_secs(15);
/// A stream ends after this long (or when the session token expires); clients reconnect with
/// `Last-Event-ID`.
const MAX_STREAM: Duration = Duration::from_secs(3600);

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StreamParams {
    /// Resume after this `seq` (as the `Last-Event-ID` header does; the header wins).
    #[param(minimum = 0)]
    pub last_event_id: Option<i64>,
}

/// One event of the stream, as an SSE client reads it from its `id:`, `event:` and `data:` lines.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Documents the stream; the handler writes the lines itself.
pub struct StreamEvent {
    /// The event's `seq`: send it back as `Last-Event-ID` to resume after it.
    #[schema(pattern = "^[0-9]+$")]
    id: String,
    event: StreamEventType,
    #[schema(schema_with = event_data_schema)]
    data: String,
}

/// The type of every event of the stream.
#[derive(utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum StreamEventType {
    Activity,
}

/// `data`: the event as JSON, an `EventOut`.
fn event_data_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .description(Some("The event, as JSON."))
        .content_media_type("application/json")
        .content_schema(Some(utoipa::openapi::Ref::from_schema_name("EventOut")))
        .build()
}

/// `Last-Event-ID`, or the `last_event_id` parameter: a seq, 0 or more (each checked, even when
/// the header wins).
fn resume_after(req: &HttpRequest, param: Option<i64>) -> Result<Option<i64>, ApiError> {
    if param.is_some_and(|seq| seq < 0) {
        return Err(ApiError::bad_parameter("last_event_id", "must be 0 or more"));
    }
    let seq = match req.headers().get("last-event-id") {
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<i64>().ok())
                .ok_or_else(|| ApiError::bad_request("Last-Event-ID must be an event seq"))?,
        ),
        None => param,
    };
    match seq {
        Some(seq) if seq < 0 => Err(ApiError::bad_request("Last-Event-ID must be 0 or more")),
        seq => Ok(seq),
    }
}

struct Tail {
    state: AppState,
    viewer: Viewer,
    filter: EventFilter,
    last_seq: i64,
    pending: VecDeque<Event>,
    wake: tokio::sync::watch::Receiver<u64>,
    last_sent: Instant,
    ends: Instant,
    started: bool,
}

impl Tail {
    async fn next_chunk(&mut self) -> Option<Result<Bytes, ApiError>> {
        if !self.started {
            self.started = true;
            return Some(Ok(Bytes::from_static(b"retry: 3000\n: connected\n\n")));
        }
        loop {
            if let Some(event) = self.pending.pop_front() {
                self.last_seq = event.seq;
                self.last_sent = Instant::now();
                let data = serde_json::to_string(&EventOut::from(event)).unwrap_or_default();
                return Some(Ok(Bytes::from(format!(
                    "id: {}\nevent: activity\ndata: {data}\n\n",
                    self.last_seq
                ))));
            }
            if Instant::now() >= self.ends {
                return None;
            }
            let (viewer, filter, after) = (self.viewer.clone(), self.filter.clone(), self.last_seq);
            match self
                .state
                .db(move |conn| Ok(event_queries::after_seq(conn, &viewer, &filter, after, BATCH)?))
                .await
            {
                Ok(events) if !events.is_empty() => {
                    self.pending.extend(events);
                    continue;
                }
                Ok(_) => {}
                // A database hiccup ends the stream; the client reconnects and resumes.
                Err(e) => return Some(Err(e)),
            }
            if self.last_sent.elapsed() >= HEARTBEAT {
                self.last_sent = Instant::now();
                return Some(Ok(Bytes::from_static(b": heartbeat\n\n")));
            }
            let _ = tokio::time::timeout(POLL, self.wake.changed()).await;
        }
    }
}

/// Live tail of new events, as `text/event-stream`: each event is `id: <seq>`, `event: activity`,
/// `data: <Event JSON>`; a comment line every 15 s keeps the connection alive. Starts with events
/// stored after the request (or after `Last-Event-ID`).
#[utoipa::path(operation_id = "streamEvents", tag = "events", security(("bearer" = [])),
    params(EventFilterParams, StreamParams,
        ("Last-Event-ID" = Option<i64>, Header, nullable = false, minimum = 0, description = "Resume after this `seq`")),
    responses(
        (status = 200, description = "Server-Sent Events; each event's `data` is an Event as JSON", content_type = "text/event-stream", body = StreamEvent),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/events/stream")]
pub async fn stream(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (filter_params, params): (EventFilterParams, StreamParams) = parse_filtered(req.query_string())?;
    let filter = filter_params.filter(&filter_context(&caller))?;
    let resume = resume_after(&req, params.last_event_id)?;
    let lifetime = match &caller.principal {
        Principal::User { claims, .. } => Duration::from_secs(
            (claims.exp - Utc::now().timestamp()).clamp(0, MAX_STREAM.as_secs() as i64) as u64,
        ),
        Principal::Token(_) => MAX_STREAM,
    };
    let tail = Tail {
        viewer: caller.viewer()?,
        filter,
        last_seq: resume.unwrap_or(caller.tenant.head_seq).max(0),
        pending: VecDeque::new(),
        wake: state.watch_events(),
        last_sent: Instant::now(),
        ends: Instant::now() + lifetime,
        started: false,
        state: state.get_ref().clone(),
    };
    let body =
        futures_util::stream::unfold(
            tail,
            |mut tail| async move { tail.next_chunk().await.map(|c| (c, tail)) },
        );
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body))
}
