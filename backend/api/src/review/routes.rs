use actix_web::{get, put, web};
use auditlog_db::flags::{self, FlagKind, ReviewSettings};
use serde::Serialize;
use utoipa::ToSchema;

use crate::audit::AuditEvent;
use crate::auth::Admin;
use crate::events::views::FlagKindSchema;
use crate::filters::{EventFilterParams, Filtered, NoParams};
use crate::http::error::{AdminOnly, ApiError, FieldError};
use crate::http::json::StrictJson;
use crate::http::state::AppState;

/// What the tenant's flags take as unusual.
///
/// Business hours (in the tenant's time zone) and the thresholds of each flag; the defaults
/// until an admin changes them.
#[utoipa::path(operation_id = "getReviewSettings", tag = "review", security(("bearer" = [])), responses(
    (status = 200, body = ReviewSettings),
    AdminOnly,
))]
#[get("/settings/review")]
pub async fn get_settings(caller: Admin) -> web::Json<ReviewSettings> {
    web::Json(ReviewSettings::from_stored(caller.tenant.review_settings.as_deref()))
}

/// Change what the tenant's flags take as unusual.
///
/// Replaces the settings; a member left out takes its default. Applies to events stored from now
/// on: flags already raised stay as they are. Logged as `auditlog.review_settings_changed`.
#[utoipa::path(operation_id = "setReviewSettings", tag = "review", security(("bearer" = [])),
    request_body = ReviewSettings,
    responses(
        (status = 200, body = ReviewSettings),
        AdminOnly,
    )
)]
#[put("/settings/review")]
pub async fn set_settings(
    state: web::Data<AppState>,
    caller: Admin,
    body: StrictJson<ReviewSettings>,
) -> Result<web::Json<ReviewSettings>, ApiError> {
    let settings = body.into_inner().normalised();
    let problems = settings.problems().into_iter();
    ApiError::check_fields(
        problems.map(|(field, message)| FieldError::new(format!("/{field}"), message)).collect(),
    )?;
    let before = ReviewSettings::from_stored(caller.tenant.review_settings.as_deref());
    let (tenant_id, actor) = (caller.tenant.id, caller.actor());
    let request = caller.request();
    let kept = settings.clone();
    state
        .db(move |conn| {
            flags::set_settings(conn, tenant_id, &kept)?;
            let (old, new) = (serde_json::to_value(&before), serde_json::to_value(&kept));
            let (Ok(serde_json::Value::Object(old)), Ok(serde_json::Value::Object(new))) = (old, new) else {
                return Ok(());
            };
            let changes = crate::events::ingest::diff(Some(&old), Some(&new));
            if !changes.is_empty() {
                AuditEvent::new("auditlog.review_settings_changed", actor)
                    .on("settings", "review", Some("Security review".into()))
                    .changes(changes)
                    .record(conn, tenant_id, &request)?;
            }
            Ok(())
        })
        .await?;
    Ok(web::Json(settings))
}

/// How many events carry one kind of flag.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlagCount {
    #[schema(value_type = FlagKindSchema)]
    pub kind: FlagKind,
    /// Visible events matching the filters that carry it.
    pub count: i64,
}

/// Flagged events by kind: the security review's summary.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlagSummary {
    /// Flagged events matching the filters (an event may carry several flags).
    pub total: i64,
    /// Every kind, in a fixed order, with its count (zero included).
    pub kinds: Vec<FlagCount>,
}

/// Flagged events by kind.
///
/// Counts the visible flagged events matching the list's filters (without `range`, `from` and
/// `to`: all of them), by kind of flag: the security review's groups, each of which the list
/// opens with `flag=<kind>`.
#[utoipa::path(operation_id = "getFlagSummary", tag = "review", security(("bearer" = [])),
    params(EventFilterParams),
    responses((status = 200, body = FlagSummary))
)]
#[get("/stats/flags")]
pub async fn summary(
    state: web::Data<AppState>,
    filtered: Filtered<NoParams>,
) -> Result<web::Json<FlagSummary>, ApiError> {
    let viewer = filtered.caller.viewer()?;
    let filter = filtered.filter;
    let (total, kinds) = state.db(move |conn| Ok(flags::summary(conn, &viewer, &filter)?)).await?;
    Ok(web::Json(FlagSummary {
        total,
        kinds: kinds.into_iter().map(|(kind, count)| FlagCount { kind, count }).collect(),
    }))
}
