use actix_web::{delete, get, post, put, web, HttpRequest};
use auditlog_db::queries::alerts::{self, AlertRule, Delivery, RuleFields};
use auditlog_db::queries::events::EventFilter;
use auditlog_db::StoreError;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::digest::Schedule;
use super::{new_secret, BodyFormat, Destination, Header, RuleName, WebhookUrl};
use crate::audit::AuditEvent;
use crate::auth::{Admin, Caller};
use crate::filters::{filter_context, parse_filtered, parse_query, EventFilterParams, NoParams};
use crate::http::error::{AdminOnly, ApiError, FieldError, NotFound, Problem};
use crate::http::json::StrictJson;
use crate::http::reply::{Accepted, Created, NoContent};
use crate::http::state::AppState;
use crate::text::{text_type, Email};

/// Most events one delivery carries, and the longest it waits for more.
const MAX_BATCH_EVENTS: i64 = 1000;
const MAX_BATCH_SECONDS: i64 = 3600;
/// An e-mail destination batches by default: a burst of matches is one message.
const EMAIL_BATCH: (i64, i64) = (100, 60);
/// Deliveries shown with each rule.
const RECENT_DELIVERIES: i64 = 5;

text_type!(
    /// The list's filters as its query string (`flag=any&module=booking`): any filter of
    /// `GET /events` but the time filters (`from`, `to`, `range`, `tz`) and `scope`, as a rule
    /// looks at each event as it is stored. Empty: every event. At most 2000 characters.
    RuleFilter: Line, 2000
);

/// How a rule batches: a delivery carries up to `max_events` events and waits at most
/// `max_seconds` for more (0: sent at once).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    #[serde(deserialize_with = "crate::http::json::integer")]
    #[schema(minimum = 1, maximum = 1000)]
    pub max_events: i64,
    #[serde(deserialize_with = "crate::http::json::integer")]
    #[schema(minimum = 0, maximum = 3600)]
    pub max_seconds: i64,
}

/// An alert rule as an admin writes it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleIn {
    pub name: RuleName,
    #[serde(default)]
    #[schema(value_type = Option<RuleFilter>)]
    pub filter: Option<RuleFilter>,
    #[schema(value_type = DestinationSchema)]
    pub destination: DestinationIn,
    /// Default: each event at once for a webhook (`1`, `0`); up to 100 events a minute for
    /// e-mail.
    #[serde(default)]
    pub batch: Option<Batch>,
    /// A paused rule matches nothing. Resuming a rule that was disabled after failing
    /// deliveries enables it and sends what it still owes.
    #[serde(default)]
    pub paused: bool,
    /// Makes the rule a digest: instead of single events, a summary of each day or week (sent at
    /// 07:00 tenant time; weeks end on Monday) of the events its filter matches: counts by
    /// module, flagged events by kind, deletions and exports with their actors, and the
    /// integrity status. `batch` does not apply.
    #[serde(default)]
    pub schedule: Option<Schedule>,
}

/// Where a rule's deliveries go: a webhook or e-mail, told by `type`.
#[derive(ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // Documents `DestinationIn`, which reads each member in its own place.
pub enum DestinationSchema {
    Webhook(WebhookDestination),
    Email(EmailDestination),
}

/// `webhook`.
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum WebhookType {
    Webhook,
}

/// `email`.
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum EmailType {
    Email,
}

/// An HTTP POST to `url`, signed as the Standard Webhooks specification says.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct WebhookDestination {
    #[serde(rename = "type")]
    kind: WebhookType,
    url: WebhookUrl,
    /// Default `json`.
    format: Option<BodyFormat>,
    /// Headers sent with every delivery (at most 5), e.g. a collector's credentials. When a rule
    /// is replaced without `headers`, it keeps those it has.
    #[schema(max_items = 5)]
    headers: Option<Vec<Header>>,
    /// Ignored: what a rule's description answers (the names of its headers), accepted so that a
    /// rule read with `GET` can be sent back as it is.
    header_names: Option<Vec<String>>,
}

/// A plain-text message to each address through the server's SMTP relay (`SMTP_URL`).
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct EmailDestination {
    #[serde(rename = "type")]
    kind: EmailType,
    /// 1 to 10 addresses.
    #[schema(min_items = 1, max_items = 10)]
    to: Vec<Email>,
}

/// What a destination's `type` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DestinationKind {
    Webhook,
    Email,
}

/// A destination as read: every member optional here, and checked against its `type` after.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DestinationIn {
    #[serde(rename = "type")]
    pub kind: DestinationKind,
    pub url: Option<WebhookUrl>,
    pub format: Option<BodyFormat>,
    pub headers: Option<Vec<Header>>,
    pub to: Option<Vec<Email>>,
    /// What `GET` answers in place of `headers`: ignored.
    #[allow(dead_code)]
    pub header_names: Option<Vec<String>>,
}

impl DestinationIn {
    /// The destination, or what its `type` misses or does not take (pointers under it).
    fn resolve(self, kept_headers: Vec<Header>) -> Result<Destination, Vec<(String, String)>> {
        let mut problems = Vec::new();
        let mut refuse = |member: &str, given: bool| {
            if given {
                problems
                    .push((format!("/{member}"), "is not a member of this type of destination".to_string()));
            }
        };
        match self.kind {
            DestinationKind::Webhook => {
                refuse("to", self.to.is_some());
                match self.url {
                    Some(url) if problems.is_empty() => Ok(Destination::Webhook {
                        url,
                        format: self.format.unwrap_or_default(),
                        headers: self.headers.unwrap_or(kept_headers),
                    }),
                    url => {
                        if url.is_none() {
                            problems.push(("/url".into(), "give the URL deliveries are posted to".into()));
                        }
                        Err(problems)
                    }
                }
            }
            DestinationKind::Email => {
                refuse("url", self.url.is_some());
                refuse("format", self.format.is_some());
                refuse("headers", self.headers.is_some());
                refuse("header_names", self.header_names.is_some());
                match self.to {
                    Some(to) if problems.is_empty() => Ok(Destination::Email { to }),
                    to => {
                        if to.is_none() {
                            problems.push(("/to".into(), "give 1 to 10 addresses".into()));
                        }
                        Err(problems)
                    }
                }
            }
        }
    }
}

/// Where a rule's deliveries go, as shown: header values are never shown again.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum DestinationOut {
    Webhook {
        url: String,
        format: BodyFormat,
        /// The names of the headers sent with every delivery.
        header_names: Vec<String>,
    },
    Email {
        to: Vec<String>,
    },
}

impl From<Destination> for DestinationOut {
    fn from(destination: Destination) -> Self {
        match destination {
            Destination::Webhook { url, format, headers } => DestinationOut::Webhook {
                url: url.as_str().to_string(),
                format,
                header_names: headers.iter().map(|h| h.name.as_str().to_string()).collect(),
            },
            Destination::Email { to } => {
                DestinationOut::Email { to: to.into_iter().map(|a| a.into_inner()).collect() }
            }
        }
    }
}

/// Where a delivery stands.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatusOut {
    /// Waiting: for its batch to fill, for its first attempt, or for a retry.
    Pending,
    Delivered,
    /// Given up on after failing for too long; it can be sent again by hand.
    Failed,
}

/// One delivery of a rule: what it carried and what its attempts found.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryOut {
    pub id: i64,
    pub rule_id: i64,
    /// Its `webhook-id` (the same on every attempt): receivers dedupe by it.
    pub message_id: String,
    pub status: DeliveryStatusOut,
    /// The events it carries, oldest first.
    pub event_ids: Vec<i64>,
    pub created_at: DateTime<Utc>,
    /// Attempts made so far.
    pub attempts: i32,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The receiver's HTTP status of the last attempt, if it answered.
    pub response_code: Option<i32>,
    /// How long the last attempt took.
    pub latency_ms: Option<i32>,
    /// Why the last attempt failed.
    pub error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// When it is tried next (pending only).
    pub next_attempt_at: Option<DateTime<Utc>>,
}

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

impl TryFrom<Delivery> for DeliveryOut {
    type Error = ApiError;

    fn try_from(d: Delivery) -> Result<Self, ApiError> {
        let status = match d.status()? {
            alerts::DeliveryStatus::Pending => DeliveryStatusOut::Pending,
            alerts::DeliveryStatus::Delivered => DeliveryStatusOut::Delivered,
            alerts::DeliveryStatus::Failed => DeliveryStatusOut::Failed,
        };
        let pending = matches!(status, DeliveryStatusOut::Pending);
        Ok(DeliveryOut {
            id: d.id,
            rule_id: d.rule_id,
            event_ids: d.event_ids()?.into_iter().map(|id| id.get()).collect(),
            message_id: d.message_id,
            status,
            created_at: utc(d.created_at),
            attempts: d.attempts,
            last_attempt_at: d.last_attempt_at.map(utc),
            response_code: d.response_code,
            latency_ms: d.latency_ms,
            error: d.error,
            delivered_at: d.delivered_at.map(utc),
            next_attempt_at: pending.then(|| utc(d.next_attempt_at)),
        })
    }
}

/// An alert rule.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleOut {
    pub id: i64,
    pub name: String,
    /// The filters, as the list's query string.
    pub filter: String,
    pub destination: DestinationOut,
    pub batch: Batch,
    pub paused: bool,
    /// Set on a digest: `daily` or `weekly`.
    pub schedule: Option<Schedule>,
    /// Set when the rule was stopped because its deliveries kept failing; resume it with
    /// `paused: false`.
    pub disabled_at: Option<DateTime<Utc>>,
    pub disabled_reason: Option<String>,
    /// Actor id of the admin who created it.
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Its latest deliveries, newest first (at most 5).
    pub recent_deliveries: Vec<DeliveryOut>,
}

impl RuleOut {
    fn new(rule: AlertRule, recent: Vec<Delivery>) -> Result<Self, ApiError> {
        let destination: Destination = serde_json::from_str(&rule.destination)
            .map_err(|e| ApiError::internal(format!("alert rule {}: destination: {e}", rule.id)))?;
        Ok(RuleOut {
            id: rule.id,
            name: rule.name,
            filter: rule.query,
            destination: destination.into(),
            batch: Batch {
                max_events: rule.batch_max_events as i64,
                max_seconds: rule.batch_max_seconds as i64,
            },
            paused: rule.paused,
            schedule: rule.schedule.as_deref().and_then(Schedule::parse),
            disabled_at: rule.disabled_at.map(utc),
            disabled_reason: rule.disabled_reason,
            created_by: rule.created_by,
            created_at: utc(rule.created_at),
            updated_at: utc(rule.updated_at),
            recent_deliveries: recent.into_iter().map(DeliveryOut::try_from).collect::<Result<_, _>>()?,
        })
    }
}

/// The tenant's alert rules.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleList {
    /// Oldest first.
    pub items: Vec<RuleOut>,
}

/// A new rule, with its webhook signing secret: shown in this response only.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedRule {
    pub rule: RuleOut,
    /// The key of `webhook-signature` (`whsec_` and base64; docs/ALERTS.md). Shown only now.
    pub secret: String,
}

/// A rule's new signing secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleSecret {
    /// Shown only now; the old secret stops signing at once.
    pub secret: String,
}

/// A page of a rule's deliveries.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryList {
    /// Newest first.
    pub items: Vec<DeliveryOut>,
    /// Pass as `before` for the next (older) page; absent on the last.
    pub next_before: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryParams {
    /// Only deliveries older than this id (the previous page's `next_before`).
    #[param(minimum = 1)]
    pub before: Option<i64>,
    /// Page size: 1 to 100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

/// The rule's filter resolved, or why it cannot be a rule's.
fn resolve_filter(text: &str, caller: &Caller) -> Result<EventFilter, FieldError> {
    let field = |message: String| FieldError::new("/filter", message);
    let text = text.trim().trim_start_matches('?');
    let (params, _): (EventFilterParams, NoParams) =
        parse_filtered(text).map_err(|e| field(e.problem().detail))?;
    let timed = [
        ("from", params.from.is_some()),
        ("to", params.to.is_some()),
        ("range", params.range.is_some()),
        ("tz", params.tz.is_some()),
        ("scope", params.scope.is_some()),
    ];
    if let Some((name, _)) = timed.iter().find(|(_, given)| *given) {
        return Err(field(format!(
            "`{name}` is not a filter of an alert rule: a rule looks at each event as it is stored"
        )));
    }
    params.filter(&filter_context(caller)).map_err(|e| field(e.problem().detail))
}

/// The rule's fields from a request, every problem at once; `kept_headers` are a replaced
/// webhook's headers, kept when the request names none.
fn fields_of(
    body: RuleIn,
    caller: &Caller,
    state: &AppState,
    kept_headers: Vec<Header>,
) -> Result<RuleFields, ApiError> {
    let mut errors = Vec::new();
    let query = body.filter.map(RuleFilter::into_inner).unwrap_or_default();
    let query = query.trim_start_matches('?').to_string();
    let filter = resolve_filter(&query, caller).map_err(|e| errors.push(e)).unwrap_or_default();
    let destination = body.destination.resolve(kept_headers);
    let problems = match &destination {
        Ok(destination) => destination.problems(state.settings.deliveries.smtp_url.is_some()),
        Err(problems) => problems.clone(),
    };
    for (pointer, message) in problems {
        errors.push(FieldError::new(format!("/destination{pointer}"), message));
    }
    let destination = match destination {
        Ok(destination) => destination,
        Err(_) => {
            ApiError::check_fields(errors)?;
            return Err(ApiError::internal("a destination was refused without a reason"));
        }
    };
    let default = match destination {
        Destination::Webhook { .. } => (1, 0),
        Destination::Email { .. } => EMAIL_BATCH,
    };
    let batch = body.batch.unwrap_or(Batch { max_events: default.0, max_seconds: default.1 });
    if !(1..=MAX_BATCH_EVENTS).contains(&batch.max_events) {
        errors
            .push(FieldError::new("/batch/max_events", format!("must be between 1 and {MAX_BATCH_EVENTS}")));
    }
    if !(0..=MAX_BATCH_SECONDS).contains(&batch.max_seconds) {
        errors.push(FieldError::new(
            "/batch/max_seconds",
            format!("must be between 0 and {MAX_BATCH_SECONDS}"),
        ));
    }
    ApiError::check_fields(errors)?;
    Ok(RuleFields {
        name: body.name.into_inner(),
        query,
        filter,
        destination: serde_json::to_string(&destination).map_err(|e| ApiError::internal(e.to_string()))?,
        batch_max_events: batch.max_events as i32,
        batch_max_seconds: batch.max_seconds as i32,
        paused: body.paused,
        schedule: body.schedule.map(|s| s.as_str().to_string()),
    })
}

fn rule_not_found(id: i64) -> impl Fn(StoreError) -> ApiError {
    move |e| match e {
        StoreError::NotFound => ApiError::NotFound(format!("alert rule {id} not found")),
        other => other.into(),
    }
}

fn with_recent(conn: &mut auditlog_db::DbConnection, rule: AlertRule) -> Result<RuleOut, ApiError> {
    let recent = alerts::deliveries_of(conn, rule.tenant_id, rule.id, None, RECENT_DELIVERIES)?;
    RuleOut::new(rule, recent)
}

/// A rule as its product events describe it (no secret, no header values).
fn described(fields: &RuleFields) -> serde_json::Map<String, serde_json::Value> {
    let destination: serde_json::Value = serde_json::from_str::<Destination>(&fields.destination)
        .ok()
        .and_then(|d| serde_json::to_value(DestinationOut::from(d)).ok())
        .unwrap_or_default();
    let value = serde_json::json!({
        "name": fields.name,
        "filter": fields.query,
        "destination": destination,
        "batch": {"max_events": fields.batch_max_events, "max_seconds": fields.batch_max_seconds},
        "paused": fields.paused,
        "schedule": fields.schedule,
    });
    value.as_object().cloned().unwrap_or_default()
}

/// The tenant's alert rules.
///
/// Every rule, oldest first, each with its latest deliveries.
#[utoipa::path(operation_id = "listAlertRules", tag = "alerts", security(("bearer" = [])), responses(
    (status = 200, body = RuleList),
    AdminOnly,
))]
#[get("/alerts/rules")]
pub async fn list(state: web::Data<AppState>, caller: Admin) -> Result<web::Json<RuleList>, ApiError> {
    let tenant_id = caller.tenant.id;
    let items = state
        .db(move |conn| {
            alerts::list(conn, tenant_id)?
                .into_iter()
                .map(|rule| with_recent(conn, rule))
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    Ok(web::Json(RuleList { items }))
}

/// Create an alert rule.
///
/// From now on, each stored event that matches the filter is delivered to the destination (in
/// batches, if the rule says so). The answer holds the webhook signing secret, shown only now.
/// Logged as `alert_rule.created`.
#[utoipa::path(operation_id = "createAlertRule", tag = "alerts", security(("bearer" = [])),
    request_body = RuleIn,
    responses(
        (status = 201, body = CreatedRule),
        AdminOnly,
    )
)]
#[post("/alerts/rules")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Admin,
    body: StrictJson<RuleIn>,
) -> Result<Created<CreatedRule>, ApiError> {
    let fields = fields_of(body.into_inner(), &caller, &state, Vec::new())?;
    let secret = new_secret();
    let request = caller.request();
    let (tenant_id, actor) = (caller.tenant.id, caller.actor());
    let (kept, notary) = (secret.clone(), state.notary.clone());
    let rule = state
        .db(move |conn| {
            conn.atomically(|conn| {
                let rule = alerts::create(
                    conn,
                    &notary,
                    tenant_id,
                    &fields,
                    &kept,
                    &actor.id,
                    Utc::now().naive_utc(),
                )?;
                let mut event = AuditEvent::new("alert_rule.created", actor).on(
                    "alert_rule",
                    rule.id,
                    Some(rule.name.clone()),
                );
                for (key, value) in described(&fields) {
                    event = event.meta(&key, value);
                }
                event.record(conn, tenant_id, &request)?;
                RuleOut::new(rule, Vec::new())
            })
        })
        .await?;
    Ok(Created(CreatedRule { rule, secret }))
}

/// One alert rule.
///
/// The rule with its latest deliveries (at most 5); `GET /alerts/rules/{id}/deliveries` pages
/// through all of them.
#[utoipa::path(operation_id = "getAlertRule", tag = "alerts", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Rule id")),
    responses(
        (status = 200, body = RuleOut),
        AdminOnly,
        NotFound,
    )
)]
#[get("/alerts/rules/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    caller: Admin,
    id: web::Path<i64>,
) -> Result<web::Json<RuleOut>, ApiError> {
    let (tenant_id, id) = (caller.tenant.id, id.into_inner());
    let rule = state
        .db(move |conn| {
            let rule = alerts::get(conn, tenant_id, id).map_err(rule_not_found(id))?;
            with_recent(conn, rule)
        })
        .await?;
    Ok(web::Json(rule))
}

/// Replace an alert rule.
///
/// Replaces its name, filter, destination, batching and pause; its secret stays (a webhook's
/// headers too, when `headers` is left out). Applies to events stored from now on. Resuming a
/// disabled rule (`paused: false`) enables it and sends what it still owes. Logged as
/// `alert_rule.updated` when something changed.
#[utoipa::path(operation_id = "replaceAlertRule", tag = "alerts", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Rule id")),
    request_body = RuleIn,
    responses(
        (status = 200, body = RuleOut),
        AdminOnly,
        NotFound,
    )
)]
#[put("/alerts/rules/{id}")]
pub async fn replace(
    state: web::Data<AppState>,
    caller: Admin,
    id: web::Path<i64>,
    body: StrictJson<RuleIn>,
) -> Result<web::Json<RuleOut>, ApiError> {
    let (tenant_id, id) = (caller.tenant.id, id.into_inner());
    let before = state.db(move |conn| alerts::get(conn, tenant_id, id).map_err(rule_not_found(id))).await?;
    let kept_headers = match serde_json::from_str::<Destination>(&before.destination) {
        Ok(Destination::Webhook { headers, .. }) => headers,
        _ => Vec::new(),
    };
    let fields = fields_of(body.into_inner(), &caller, &state, kept_headers)?;
    let request = caller.request();
    let (actor, notary) = (caller.actor(), state.notary.clone());
    let rule = state
        .db(move |conn| {
            conn.atomically(|conn| {
                let old = RuleFields {
                    name: before.name.clone(),
                    query: before.query.clone(),
                    filter: EventFilter::default(),
                    destination: before.destination.clone(),
                    batch_max_events: before.batch_max_events,
                    batch_max_seconds: before.batch_max_seconds,
                    paused: before.paused,
                    schedule: before.schedule.clone(),
                };
                let rule = alerts::replace(conn, &notary, tenant_id, id, &fields, Utc::now().naive_utc())
                    .map_err(rule_not_found(id))?;
                let changes = crate::events::ingest::diff(Some(&described(&old)), Some(&described(&fields)));
                // Header values are not described (they may be credentials): that they changed is.
                let values_changed = changes.is_empty() && before.destination != fields.destination;
                let enabled_again = before.disabled_at.is_some() && rule.disabled_at.is_none();
                if !changes.is_empty() || values_changed || enabled_again {
                    let mut event = AuditEvent::new("alert_rule.updated", actor)
                        .on("alert_rule", rule.id, Some(rule.name.clone()))
                        .changes(changes);
                    if values_changed {
                        event = event.meta("header_values_replaced", true);
                    }
                    if enabled_again {
                        event = event.meta("enabled_again", true);
                    }
                    event.record(conn, tenant_id, &request)?;
                }
                with_recent(conn, rule)
            })
        })
        .await?;
    Ok(web::Json(rule))
}

/// Delete an alert rule.
///
/// The rule and the deliveries it still owed are removed. Logged as `alert_rule.deleted`.
#[utoipa::path(operation_id = "deleteAlertRule", tag = "alerts", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Rule id")),
    responses(
        (status = 204, description = "Deleted"),
        AdminOnly,
        NotFound,
    )
)]
#[delete("/alerts/rules/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    caller: Admin,
    id: web::Path<i64>,
) -> Result<NoContent, ApiError> {
    let (tenant_id, id) = (caller.tenant.id, id.into_inner());
    let request = caller.request();
    let actor = caller.actor();
    state
        .db(move |conn| {
            conn.atomically(|conn| {
                let rule = alerts::delete(conn, tenant_id, id).map_err(rule_not_found(id))?;
                AuditEvent::new("alert_rule.deleted", actor)
                    .on("alert_rule", rule.id, Some(rule.name))
                    .record(conn, tenant_id, &request)
            })
        })
        .await?;
    Ok(NoContent)
}

/// Replace a rule's signing secret.
///
/// A new secret signs every delivery from now on, retries of earlier ones included; shown only
/// in this response. Logged as `alert_rule.secret_rotated`.
#[utoipa::path(operation_id = "rotateAlertRuleSecret", tag = "alerts", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Rule id")),
    responses(
        (status = 200, body = RuleSecret),
        AdminOnly,
        NotFound,
    )
)]
#[post("/alerts/rules/{id}/secret")]
pub async fn rotate_secret(
    state: web::Data<AppState>,
    caller: Admin,
    id: web::Path<i64>,
) -> Result<web::Json<RuleSecret>, ApiError> {
    let (tenant_id, id) = (caller.tenant.id, id.into_inner());
    let request = caller.request();
    let actor = caller.actor();
    let secret = new_secret();
    let (kept, notary) = (secret.clone(), state.notary.clone());
    state
        .db(move |conn| {
            conn.atomically(|conn| {
                // Written first: the write lock before any read (SQLite).
                let rule = alerts::set_secret(conn, &notary, tenant_id, id, &kept, Utc::now().naive_utc())
                    .map_err(rule_not_found(id))?;
                AuditEvent::new("alert_rule.secret_rotated", actor)
                    .on("alert_rule", rule.id, Some(rule.name))
                    .record(conn, tenant_id, &request)
            })
        })
        .await?;
    Ok(web::Json(RuleSecret { secret }))
}

/// A rule's deliveries.
///
/// Newest first, with each one's status, attempts, last response code, latency and error.
#[utoipa::path(operation_id = "listAlertDeliveries", tag = "alerts", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Rule id"), DeliveryParams),
    responses(
        (status = 200, body = DeliveryList),
        AdminOnly,
        NotFound,
    )
)]
#[get("/alerts/rules/{id}/deliveries")]
pub async fn deliveries(
    state: web::Data<AppState>,
    caller: Admin,
    id: web::Path<i64>,
    req: HttpRequest,
) -> Result<web::Json<DeliveryList>, ApiError> {
    let params: DeliveryParams = parse_query(req.query_string())?;
    let limit = params.limit.unwrap_or(25);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::bad_parameter("limit", "must be between 1 and 100"));
    }
    if params.before.is_some_and(|b| b < 1) {
        return Err(ApiError::bad_parameter("before", "must be 1 or more"));
    }
    let (tenant_id, id) = (caller.tenant.id, id.into_inner());
    let rows = state
        .db(move |conn| {
            alerts::get(conn, tenant_id, id).map_err(rule_not_found(id))?;
            Ok(alerts::deliveries_of(conn, tenant_id, id, params.before, limit + 1)?)
        })
        .await?;
    let more = rows.len() as i64 > limit;
    let items: Vec<DeliveryOut> =
        rows.into_iter().take(limit as usize).map(DeliveryOut::try_from).collect::<Result<_, _>>()?;
    let next_before = if more { items.last().map(|d| d.id) } else { None };
    Ok(web::Json(DeliveryList { items, next_before }))
}

/// Send a delivery again.
///
/// Sends it again at once, with the same `webhook-id` (receivers dedupe by it), whatever its
/// status; a delivery being sent right now is refused with 409. Logged as `alert_rule.redelivered`.
#[utoipa::path(operation_id = "redeliverAlert", tag = "alerts", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Delivery id")),
    responses(
        (status = 202, description = "Queued to be sent again", body = DeliveryOut),
        AdminOnly,
        NotFound,
        (status = 409, description = "Being sent right now", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/alerts/deliveries/{id}/redeliver")]
pub async fn redeliver(
    state: web::Data<AppState>,
    caller: Admin,
    id: web::Path<i64>,
) -> Result<Accepted<DeliveryOut>, ApiError> {
    let (tenant_id, id) = (caller.tenant.id, id.into_inner());
    let request = caller.request();
    let actor = caller.actor();
    let delivery = state
        .db(move |conn| {
            conn.atomically(|conn| {
                let delivery =
                    alerts::redeliver(conn, tenant_id, id, Utc::now().naive_utc()).map_err(|e| match e {
                        StoreError::NotFound => ApiError::NotFound(format!("delivery {id} not found")),
                        other => other.into(),
                    })?;
                let rule = alerts::get(conn, tenant_id, delivery.rule_id)?;
                AuditEvent::new("alert_rule.redelivered", actor)
                    .on("alert_rule", rule.id, Some(rule.name))
                    .meta("delivery_id", delivery.id)
                    .meta("message_id", delivery.message_id.clone())
                    .record(conn, tenant_id, &request)?;
                DeliveryOut::try_from(delivery)
            })
        })
        .await?;
    Ok(Accepted(delivery))
}
