//! Which event fields each role sees: the tenant's field visibility (`GET/PUT /settings/fields`).
//! The setting is applied by the visibility rule itself (`auditlog_db::visibility::mask`), on
//! every read path; here it is only read and changed.

use actix_web::{get, put, web};
use auditlog_db::queries::tenants;
use auditlog_db::visibility::FieldVisibility;

use crate::audit::AuditEvent;
use crate::auth::{Admin, Caller};
use crate::http::error::{AdminOnly, ApiError};
use crate::http::json::StrictJson;
use crate::http::state::AppState;

/// Which event fields each role may not see.
///
/// Per field — `ip`, `user_agent`, `actor_email`, `changes`, `metadata` — whether it is hidden
/// from `nobody`, `members` or `members_and_managers` (API tokens read as managers). Admins always
/// see every field. Until an admin changes it: IP address and user agent hidden from members.
/// Any signed-in caller may read it (it says what their role is not shown, never a value).
#[utoipa::path(operation_id = "getFieldVisibility", tag = "users", security(("bearer" = [])), responses(
    (status = 200, body = FieldVisibility),
))]
#[get("/settings/fields")]
pub async fn get_setting(caller: Caller) -> web::Json<FieldVisibility> {
    web::Json(FieldVisibility::from_stored(caller.tenant.field_visibility.as_deref()))
}

/// Change which event fields each role may not see.
///
/// Replaces the setting; a field left out takes its default. Applies at once to every read,
/// those under way included: a live stream masks the events it sends from then on, an export the
/// pages it reads from then on. A hidden field is withheld from the list, the detail, a record's
/// history, the exports and their manifest, the live stream, the SIEM feed and the actor search:
/// absent (`null`, or empty for `changes` and `metadata`) and named in the event's `withheld`; a
/// filter, sort or search on it is refused or does not look at it; an inclusion proof leaves out
/// the salt of the event's personal-data digests. An unknown field or value is refused (422) and
/// nothing changes. Logged as `auditlog.field_visibility_changed`.
#[utoipa::path(operation_id = "setFieldVisibility", tag = "users", security(("bearer" = [])),
    request_body = FieldVisibility,
    responses(
        (status = 200, body = FieldVisibility),
        AdminOnly,
    )
)]
#[put("/settings/fields")]
pub async fn set_setting(
    state: web::Data<AppState>,
    caller: Admin,
    body: StrictJson<FieldVisibility>,
) -> Result<web::Json<FieldVisibility>, ApiError> {
    let setting = body.into_inner();
    let (tenant_id, actor) = (caller.tenant.id, caller.actor());
    let request = caller.request();
    state
        .db(move |conn| {
            conn.atomically(|conn| {
                tenants::lock(conn, tenant_id)?;
                let before = tenants::field_visibility(conn, tenant_id)?;
                tenants::set_field_visibility(conn, tenant_id, &setting)?;
                let (old, new) = (serde_json::to_value(before), serde_json::to_value(setting));
                let (Ok(serde_json::Value::Object(old)), Ok(serde_json::Value::Object(new))) = (old, new)
                else {
                    return Ok(());
                };
                let changes = crate::events::ingest::diff(Some(&old), Some(&new));
                if !changes.is_empty() {
                    AuditEvent::new("auditlog.field_visibility_changed", actor)
                        .on("settings", "fields", Some("Field visibility".into()))
                        .changes(changes)
                        .record(conn, tenant_id, &request)?;
                }
                Ok::<_, ApiError>(())
            })
        })
        .await?;
    Ok(web::Json(setting))
}
