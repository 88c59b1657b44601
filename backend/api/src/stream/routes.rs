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
use auditlog_db::visibility::{self, Viewer};
use bytes::Bytes;
use chrono::Utc;

use crate::auth::{Caller, Principal};
use crate::events::views::EventOut;
use crate::filters::{EventFilterParams, Filtered};
use crate::http::error::{ApiError, Problem};
use crate::http::state::{AppState, StreamSlot};

const BATCH: i64 = 100;
const POLL: Duration = Duration::from_secs(1);
const HEARTBEAT: Duration = Duration::from_secs(15);
/// An idle stream checks its caller this often; one sending events, before each event once this
/// long has passed since the last check (and always after reading new events).
const IDLE_RECHECK: Duration = Duration::from_secs(5);
const SEND_RECHECK: Duration = Duration::from_secs(1);
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
    /// The last event of a stream that no longer holds; `data` is a problem document.
    Error,
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
    /// Who opened the stream, as authenticated then; checked again while it runs.
    caller: Caller,
    viewer: Viewer,
    filter: EventFilter,
    last_seq: i64,
    pending: VecDeque<Event>,
    wake: tokio::sync::watch::Receiver<u64>,
    last_sent: Instant,
    /// When the caller was last found to still hold.
    checked: Instant,
    ends: Instant,
    started: bool,
    finished: bool,
    /// Counts this stream against the caller's and the tenant's limits until it is dropped.
    _slot: StreamSlot,
}

impl Tail {
    async fn next_chunk(&mut self) -> Option<Result<Bytes, ApiError>> {
        if self.finished {
            return None;
        }
        if !self.started {
            self.started = true;
            return Some(Ok(Bytes::from_static(b"retry: 3000\n: connected\n\n")));
        }
        loop {
            if !self.pending.is_empty() && self.checked.elapsed() >= SEND_RECHECK {
                if let Err(e) = self.recheck().await {
                    return Some(Ok(self.end(e)));
                }
            }
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
                    // Checked after the read: nothing read is sent unless the caller still held
                    // once it was read.
                    if let Err(e) = self.recheck().await {
                        return Some(Ok(self.end(e)));
                    }
                    self.pending.extend(events);
                    continue;
                }
                Ok(_) => {}
                // A database hiccup ends the stream; the client reconnects and resumes.
                Err(e) => return Some(Ok(self.end(e))),
            }
            if self.checked.elapsed() >= IDLE_RECHECK {
                if let Err(e) = self.recheck().await {
                    return Some(Ok(self.end(e)));
                }
            }
            if self.last_sent.elapsed() >= HEARTBEAT {
                self.last_sent = Instant::now();
                return Some(Ok(Bytes::from_static(b": heartbeat\n\n")));
            }
            let _ = tokio::time::timeout(POLL, self.wake.changed()).await;
        }
    }

    /// Whether the caller still holds as the stream started: the session or token still valid,
    /// the account active, and the same view of the events (role, actor id, scope).
    async fn recheck(&mut self) -> Result<(), ApiError> {
        let caller = self.caller.clone();
        let now = self.state.db(move |conn| caller.recheck(conn)).await?;
        let viewer = now.viewer()?;
        if viewer.role != self.viewer.role || viewer.actor_id != self.viewer.actor_id {
            return Err(ApiError::Forbidden(
                "your role or actor id changed since this stream started: connect again".into(),
            ));
        }
        // The fields the role may see changed: the stream goes on, masked as the setting now
        // says (events already read but not sent included).
        if viewer.fields != self.viewer.fields {
            for event in &mut self.pending {
                visibility::mask(&viewer, event);
            }
            self.viewer = viewer;
        }
        self.checked = Instant::now();
        Ok(())
    }

    /// The stream's last message: `event: error` with the problem as `data`.
    fn end(&mut self, error: ApiError) -> Bytes {
        self.finished = true;
        self.pending.clear();
        if let ApiError::Internal(detail) | ApiError::Unavailable(detail) = &error {
            log::warn!("live stream ended: {detail}");
        }
        let problem = serde_json::to_string(&error.problem()).unwrap_or_default();
        Bytes::from(format!("event: error\ndata: {problem}\n\n"))
    }
}

/// Live tail of new events.
///
/// A `text/event-stream`: each event is `id: <seq>`, `event: activity`, `data: <Event JSON>`; a
/// comment line now and then keeps the connection alive. Starts with events stored after the
/// request (or after `Last-Event-ID`). The caller is checked again while the stream runs (every
/// few seconds, and before sending): when the session is signed out or expires, the password
/// changes, the account is deactivated, the API token is revoked, or the caller's role, actor id or
/// scope changes, the stream ends with `event: error` whose `data` is a problem document (as JSON).
/// A user or API token may hold a few streams open at once, a tenant a configured number
/// (`MAX_STREAMS_PER_USER`, `MAX_STREAMS_PER_TENANT`); beyond, 429.
#[utoipa::path(operation_id = "streamEvents", tag = "events", security(("bearer" = [])),
    params(EventFilterParams, StreamParams,
        ("Last-Event-ID" = Option<i64>, Header, nullable = false, minimum = 0, description = "Resume after this `seq`")),
    responses(
        (status = 200, description = "Server-Sent Events; each event's `data` is an Event as JSON", content_type = "text/event-stream", body = StreamEvent),
        (status = 429, description = "Too many live streams open for this caller or tenant", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = String, description = "Seconds to wait before trying again"))),
    )
)]
#[get("/events/stream")]
pub async fn stream(
    state: web::Data<AppState>,
    filtered: Filtered<StreamParams>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let Filtered { caller, filter, params, .. } = filtered;
    let resume = resume_after(&req, params.last_event_id)?;
    let lifetime = match &caller.principal {
        Principal::User { claims, .. } => Duration::from_secs(
            (claims.exp - Utc::now().timestamp()).clamp(0, MAX_STREAM.as_secs() as i64) as u64,
        ),
        Principal::Token(_) => MAX_STREAM,
    };
    let slot = state.streams.open(
        caller.tenant.id,
        &caller.submitter(),
        state.settings.max_streams_per_user,
        state.settings.max_streams_per_tenant,
    )?;
    let tail = Tail {
        viewer: caller.viewer()?,
        filter,
        last_seq: resume.unwrap_or(caller.tenant.head_seq).max(0),
        pending: VecDeque::new(),
        wake: state.watch_events(),
        last_sent: Instant::now(),
        checked: Instant::now(),
        ends: Instant::now() + lifetime,
        started: false,
        finished: false,
        _slot: slot,
        state: state.get_ref().clone(),
        caller,
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
