use actix_web::http::header;
use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use auditlog_db::flags::ReviewSettings;
use auditlog_db::models::Role;
use auditlog_db::queries::events::{self as event_queries, ListRequest, PageTotal, Paging};
use auditlog_db::queries::ingest::{store_submitted, IdempotencyKey};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ingest::{parse_body, IngestBody};
use super::views::{DeletionOut, EventListResponse, EventOut, HistoryResponse};
use crate::aggregates::Read;
use crate::audit::AuditEvent;
use crate::auth::{Admin, Caller};
use crate::filters::{record_ref, EventFilterParams, Filtered, ListParams, EXACT_COUNT_LIMIT};
use crate::http::error::{AdminOnly, ApiError, FieldError, Problem};
use crate::http::json::StrictJson;
use crate::http::state::AppState;
use crate::integrity::Receipt;
use crate::text::text_type;

/// What `POST /events` stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct IngestResponse {
    /// The id of each posted event, in request order; a duplicate gets the id stored first.
    pub ids: Vec<i64>,
    /// Events newly stored.
    pub accepted: usize,
    /// Events already stored under the same `external_id`.
    pub duplicates: usize,
    /// A signed checkpoint whose tree holds every posted event, and each one's leaf index: keep
    /// it to demand proofs later (docs/INTEGRITY.md).
    pub receipt: Receipt,
}

/// Answers one page of the events `caller` may see (list and record history). A page that does
/// not show its total counts it, or estimates it when there are many; an estimate made moments
/// ago for the same reader and filter is answered again (never below what the pages up to this
/// one show), so that paging shows one total.
pub async fn page_response(
    state: &AppState,
    caller: &Caller,
    request: ListRequest,
) -> Result<web::Json<EventListResponse>, ApiError> {
    let viewer = caller.viewer()?;
    let key = Read::Total(request.filter.clone()).by(&viewer);
    let recent = state.reads.recent_total(&key);
    let (page, total, request) = state
        .db(move |conn| {
            let plan = event_queries::keyword_plan(conn, &request.filter)?;
            let page = event_queries::list_planned(conn, &viewer, &request, &plan)?;
            let total = match (page.total, recent) {
                (PageTotal::NotAsked, _) => None,
                (PageTotal::Exact(n), _) => Some((n, false)),
                (PageTotal::AtLeast(at_least), Some(recent)) => Some((recent.max(at_least), true)),
                (PageTotal::AtLeast(at_least), None) => Some(event_queries::page_total(
                    conn,
                    &viewer,
                    &request.filter,
                    &plan,
                    at_least,
                    EXACT_COUNT_LIMIT,
                )?),
            };
            Ok((page, total, request))
        })
        .await?;
    if let Some((_, true)) = total {
        state.metrics.read("total", recent.is_some());
    }
    if let (Some((n, true)), None) = (total, recent) {
        state.reads.keep_total(key, n);
    }
    Ok(web::Json(EventListResponse::new(page, total, &request)))
}

const MAX_IDEMPOTENCY_KEY: usize = 255;

/// Record one event or a batch.
///
/// Records one event, or a batch of up to 1000 (`{"events": [...]}`), all together or not at all.
/// Safe to retry: with the same `Idempotency-Key` header the first response is returned and
/// nothing is stored twice (the same key with a different body is a 409; a replay carries
/// `Idempotent-Replayed: true`). Keys are the caller's own: another user or API token using the
/// same key makes an independent request. An event whose `external_id` is already stored is
/// counted as a duplicate and answered with its first id. Admins and API tokens with
/// `events:write` may post; an event that names no actor is recorded with the caller as actor (for
/// a token: type `api`, id `token:<id>`). The answer carries a signed receipt.
#[utoipa::path(operation_id = "ingestEvents", 
    tag = "events",
    security(("bearer" = [])),
    request_body(content = IngestBody, description = "One event, or `{\"events\": [...]}`"),
    params(("Idempotency-Key" = Option<String>, Header, nullable = false, min_length = 1, max_length = 255, pattern = r"^[ -~]*[!-~][ -~]*$",
        description = "1 to 255 printable ASCII characters; a retry by the same caller with the same key and body stores nothing new and gets the first response.")),
    responses(
        (status = 201, body = IngestResponse, headers(("Idempotent-Replayed" = String, description = "`true` when this is the stored response of an earlier request"))),
        (status = 400, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller may not post events", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "The body stopped arriving (10 seconds without data); nothing was stored", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Idempotency-Key reused with another body", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body or batch too large", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid events, a key repeated within an object, or JSON nested more than 127 levels deep; `errors` names each event index and field; nothing was stored", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/events")]
pub async fn ingest(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.require_event_writer()?;
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !content_type.to_ascii_lowercase().starts_with("application/json") {
        return Err(ApiError::UnsupportedMediaType("send events as Content-Type: application/json".into()));
    }
    let key = match req.headers().get("Idempotency-Key") {
        None => None,
        Some(value) => {
            // Printable ASCII (spaces inside allowed) as the header's schema says; no tabs.
            let printable =
                |k: &&str| k.len() <= MAX_IDEMPOTENCY_KEY && k.bytes().all(|b| (b' '..=b'~').contains(&b));
            match value.to_str().ok().filter(printable).map(str::trim).filter(|k| !k.is_empty()) {
                Some(key) => Some(key.to_string()),
                None => {
                    return Err(ApiError::bad_request(
                        "Idempotency-Key must be 1 to 255 printable ASCII characters",
                    ))
                }
            }
        }
    };
    let body = crate::http::json::read_body(
        payload,
        crate::http::json::content_length(&req),
        state.settings.max_body_bytes,
    )
    .await?;
    let now = Utc::now();
    let parsed = parse_body(&body, &caller.actor(), now, state.settings.max_batch_events)?;
    let idempotency = key.map(|key| IdempotencyKey { key, request_hash: parsed.request_hash.clone() });
    let (tenant_id, submitter) = (caller.tenant.id, caller.submitter());
    let batch = parsed.drafts.len();
    let (outcome, replayed) = state
        .db(move |conn| {
            Ok(store_submitted(
                conn,
                tenant_id,
                &submitter,
                idempotency.as_ref(),
                &parsed.drafts,
                now.naive_utc(),
            )?)
        })
        .await?;
    if outcome.accepted > 0 {
        state.announce_events();
    }
    let size = outcome.tree.as_ref().map_or(caller.tenant.head_seq, |tree| tree.size as i64);
    state.metrics.ingested(batch, if replayed { 0 } else { outcome.accepted }, size);
    // The checkpoint is logged (and synced) before the events are acknowledged.
    let receipt = crate::integrity::routes::receipt(&state, &caller, &outcome.seqs, outcome.tree).await?;
    let mut response = HttpResponse::Created();
    if replayed {
        response.insert_header(("Idempotent-Replayed", "true"));
    }
    Ok(response.json(IngestResponse {
        ids: outcome.ids.iter().map(|id| id.get()).collect(),
        accepted: outcome.accepted,
        duplicates: outcome.duplicates,
        receipt,
    }))
}

/// Search events: every filter combines with the others; newest first by default.
///
/// Page mode (`page`) answers `total`; cursor mode (`cursor`, from `next_cursor`) is keyset
/// paging that costs the same at any depth. Both modes return `next_cursor`.
#[utoipa::path(operation_id = "listEvents", 
    tag = "events",
    security(("bearer" = [])),
    params(EventFilterParams, ListParams),
    responses(
        (status = 200, body = EventListResponse),
        (status = 400, description = "Invalid or unknown query parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/events")]
pub async fn list(
    state: web::Data<AppState>,
    filtered: Filtered<ListParams>,
) -> Result<web::Json<EventListResponse>, ApiError> {
    let (caller, request) = filtered.list_request()?;
    page_response(&state, &caller, request).await
}

/// One event.
///
/// One event with everything stored about it: actor, record, changes, related records, request
/// context, its flags, and its place in the tenant's tree (`seq`, `hash`). An event the caller may
/// not see is a 404, as an unknown id is. Reading it is logged as `auditlog.viewed`, once per
/// reader and event within an hour (a tenant setting, `log_views`, turns this off).
#[utoipa::path(operation_id = "getEvent", 
    tag = "events",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Event id")),
    responses(
        (status = 200, body = EventOut),
        (status = 404, description = "No such event visible to the caller (also another tenant's)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/events/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<web::Json<EventOut>, ApiError> {
    let id = id.into_inner();
    let viewer = caller.viewer()?;
    let logged = ReviewSettings::from_stored(caller.tenant.review_settings.as_deref()).log_views;
    let (tenant_id, actor) = (caller.tenant.id, caller.actor());
    let request = caller.request();
    let event = state
        .db(move |conn| {
            let event = event_queries::get(conn, &viewer, auditlog_db::EventId(id)).map_err(|e| match e {
                auditlog_db::StoreError::NotFound => ApiError::NotFound(format!("event {id} not found")),
                other => other.into(),
            })?;
            let deletion = auditlog_db::queries::deletion::record_of(conn, &viewer, &event)?;
            if logged {
                AuditEvent::new("auditlog.viewed", actor)
                    .on("event", id, Some(event.draft.action.clone()))
                    .record_once_within(conn, tenant_id, &request, VIEWS_COALESCED)?;
            }
            Ok((event, deletion))
        })
        .await?;
    let (event, deletion) = event;
    Ok(web::Json(EventOut { deletion: deletion.map(DeletionOut::from_record), ..EventOut::from(event) }))
}

/// Reads of one event by one reader within this long are logged once.
const VIEWS_COALESCED: chrono::TimeDelta = chrono::TimeDelta::hours(1);

text_type!(
    /// Why events are deleted: 1 to 500 characters on one line.
    DeletionReason: NonBlankLine, 500
);

/// Which events to delete, and why.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteEventsRequest {
    /// 1 to 1000 event ids of the tenant.
    #[serde(deserialize_with = "crate::http::json::integers")]
    #[schema(min_items = 1, max_items = 1000)]
    pub ids: Vec<i64>,
    /// Why they are deleted, kept in the `auditlog.deleted` event.
    pub reason: DeletionReason,
}

/// What a deletion did: the events it blanked now, those already blanked, and its record.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeleteEventsResponse {
    /// Ids whose payload was removed now.
    pub deleted: Vec<i64>,
    /// Ids that already were deleted entries.
    pub already_deleted: Vec<i64>,
    /// The id of the `auditlog.deleted` event recording this deletion (absent if nothing changed).
    pub deletion_event_id: Option<i64>,
}

/// Delete events (admins).
///
/// First one `auditlog.deleted` event records who deleted which ids and why, then each payload is
/// removed; a tombstone with id, `seq`, `hash` and `prev_hash` stays, so the event's leaf stays in
/// the signed tree, and takes the record's time and actor. All or nothing: an unknown id (or
/// another tenant's), or one of the product's own records (`alert_rule.*`, `auditlog.*`, `auth.*`,
/// `integrity.*`, `token.*`, `user.*`), is a 422.
#[utoipa::path(operation_id = "deleteEvents", tag = "events", security(("bearer" = [])),
    request_body = DeleteEventsRequest,
    responses(
        (status = 200, body = DeleteEventsResponse),
        AdminOnly,
        (status = 422, description = "Missing reason, too many ids, ids not found, or a record of the product's own", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/events")]
pub async fn delete_events(
    state: web::Data<AppState>,
    caller: Admin,
    body: StrictJson<DeleteEventsRequest>,
) -> Result<web::Json<DeleteEventsResponse>, ApiError> {
    let DeleteEventsRequest { mut ids, reason } = body.into_inner();
    if ids.is_empty() || ids.len() > 1000 {
        ApiError::check_fields(vec![FieldError::new("/ids", "give 1 to 1000 event ids")])?;
    }
    let reason = reason.into_inner();
    ids.sort_unstable();
    ids.dedup();
    let request = caller.request();
    let (tenant_id, actor) = (caller.tenant.id, caller.actor());
    let response = state
        .db(move |conn| {
            conn.atomically(|conn| {
                let plan = auditlog_db::queries::deletion::plan(conn, tenant_id, &ids).map_err(|e| match e {
                    auditlog_db::StoreError::NotFound => ApiError::validation(
                        "some ids are not events of this tenant; nothing was deleted",
                        vec![FieldError::new("/ids", "unknown event id in the list")],
                    ),
                    other => other.into(),
                })?;
                if !plan.protected.is_empty() {
                    return Err(ApiError::validation(
                        format!(
                            "events {:?} are the product's own records (sign-ins, deletions, exports, accounts), which are never deleted; nothing was deleted",
                            plan.protected
                        ),
                        vec![FieldError::new("/ids", "names a record of the product's own")],
                    ));
                }
                let mut deletion_event_id = None;
                if !plan.live.is_empty() {
                    // The record comes first: a tombstone is only ever made for a record naming it.
                    let record = AuditEvent::new("auditlog.deleted", actor.clone())
                        .meta("ids", plan.live.clone())
                        .meta("count", plan.live.len())
                        .meta("reason", reason.clone())
                        .record(conn, tenant_id, &request)?;
                    let blanked = auditlog_db::queries::deletion::tombstone(conn, tenant_id, record)?;
                    if blanked != plan.live.len() {
                        return Err(ApiError::internal(format!("{blanked} of {} events were deleted", plan.live.len())));
                    }
                    deletion_event_id = Some(record.get());
                }
                Ok(DeleteEventsResponse {
                    deleted: plan.live,
                    already_deleted: plan.already_deleted,
                    deletion_event_id,
                })
            })
        })
        .await?;
    state.announce_events();
    Ok(web::Json(response))
}

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
        (status = 200, body = HistoryResponse),
    )
)]
#[get("/entities/{type}/{id}/history")]
pub async fn history(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    filtered: Filtered<ListParams>,
) -> Result<web::Json<HistoryResponse>, ApiError> {
    let (entity_type, id) = path.into_inner();
    let (caller, mut request) = filtered.list_request()?;
    let record = record_ref(&entity_type, &id)?;
    if let Some(named) = request.filter.record.as_ref().filter(|named| **named != record) {
        let name = if named.entity_type != record.entity_type { "record_type" } else { "record_id" };
        return Err(ApiError::bad_parameter(
            name,
            "must name the record of the path, or be left out: the path names the record",
        ));
    }
    request.filter.record = Some(record);
    let viewer = caller.viewer()?;
    let filter = request.filter.clone();
    // A page reached by a cursor continues the first one, which told the count for these filters.
    let first_page = !matches!(request.paging, Paging::Cursor(Some(_)));
    let page = page_response(&state, &caller, request).await?.into_inner();
    // What the role hides: the same filters counted with an admin's sight, less the caller's.
    let hidden = if !first_page {
        None
    } else if viewer.role == Role::Admin {
        Some(0)
    } else {
        Some(state.db(move |conn| Ok(event_queries::count_hidden(conn, &viewer, &filter)?)).await?)
    };
    Ok(web::Json(HistoryResponse { page, hidden }))
}
