use actix_web::{get, put, web};
use auditlog_db::queries::{record_links, tenants};

use super::views::RecordLinks;
use crate::audit::AuditEvent;
use crate::auth::{Admin, Caller};
use crate::http::error::{AdminOnly, ApiError};
use crate::http::json::StrictJson;
use crate::http::state::AppState;

/// The tenant's links into the host application.
///
/// For every signed-in user: the dashboard draws "Open in <app_name>" beside each record whose
/// type has a template. Stored templates are checked again as they are read; one that breaks the
/// rules of `setRecordLinks` is left out.
#[utoipa::path(operation_id = "getRecordLinks", tag = "links", security(("bearer" = [])), responses(
    (status = 200, body = RecordLinks),
))]
#[get("/settings/record-links")]
pub async fn get_links(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<web::Json<RecordLinks>, ApiError> {
    let tenant_id = caller.tenant.id;
    let stored = state.db(move |conn| Ok(record_links::get(conn, tenant_id)?)).await?;
    Ok(web::Json(RecordLinks::from_stored(stored.as_deref())))
}

/// Set the tenant's links into the host application.
///
/// Replaces the name and every template. Logged as `auditlog.record_links_changed`, naming what
/// changed; a request that changes nothing records nothing.
#[utoipa::path(operation_id = "setRecordLinks", tag = "links", security(("bearer" = [])),
    request_body = RecordLinks,
    responses(
        (status = 200, body = RecordLinks),
        AdminOnly,
    )
)]
#[put("/settings/record-links")]
pub async fn set_links(
    state: web::Data<AppState>,
    caller: Admin,
    body: StrictJson<RecordLinks>,
) -> Result<web::Json<RecordLinks>, ApiError> {
    let links = body.into_inner();
    let (tenant_id, actor) = (caller.tenant.id, caller.actor());
    let request = caller.request();
    let kept = links.clone();
    state
        .db(move |conn| {
            // Under the tenant's lock: the change recorded is from what was stored just before.
            conn.atomically(|conn| {
                tenants::lock(conn, tenant_id)?;
                let before = RecordLinks::from_stored(record_links::get(conn, tenant_id)?.as_deref());
                record_links::set(conn, tenant_id, &kept.to_stored())?;
                let changes = kept.changes_from(&before);
                if !changes.is_empty() {
                    AuditEvent::new("auditlog.record_links_changed", actor)
                        .on("settings", "record_links", Some("Links into the host application".into()))
                        .meta("app_name", kept.app_name.as_str())
                        .changes(changes)
                        .record(conn, tenant_id, &request)?;
                }
                Ok::<_, ApiError>(())
            })
        })
        .await?;
    Ok(web::Json(links))
}
