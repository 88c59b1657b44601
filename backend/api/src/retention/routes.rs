//! Retention policy and archives (admins).

use actix_files::NamedFile;
use actix_web::http::header;
use actix_web::{get, put, web, HttpRequest, HttpResponse};
use auditlog_db::archive::{self, ArchivePathError};
use auditlog_db::models::Archive;
use auditlog_db::StoreError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::audit::AuditEvent;
use crate::auth::Admin;
use crate::http::error::{AdminOnly, ApiError, FieldError, NotFound, Problem};
use crate::http::json::StrictJson;
use crate::http::state::AppState;

/// How long events stay live.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetentionSetting {
    /// Days to keep events before they move to an archive (e.g. 90, 365, 1095; at least 1,
    /// at most 36500); `null` keeps them forever (the default).
    #[serde(default, deserialize_with = "crate::http::json::optional_integer")]
    #[schema(minimum = 1, maximum = 36500)]
    pub days: Option<i32>,
}

/// An archive file of expired events.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArchiveOut {
    /// Archive id (download with `GET /archives/{id}`).
    pub id: i64,
    pub file_name: String,
    /// Seq range of the events inside.
    pub first_seq: i64,
    pub last_seq: i64,
    pub event_count: i64,
    /// When the first and the last archived event were stored.
    pub first_recorded_at: DateTime<Utc>,
    pub last_recorded_at: DateTime<Utc>,
    /// Chain checkpoint: the hash the first event links to, and the last event's hash.
    pub prev_hash: String,
    pub last_hash: String,
    /// SHA-256 of the file (hex).
    pub sha256: String,
    pub size_bytes: i64,
    pub created_at: DateTime<Utc>,
}

impl From<Archive> for ArchiveOut {
    fn from(a: Archive) -> Self {
        ArchiveOut {
            id: a.id,
            file_name: a.file_name,
            first_seq: a.first_seq,
            last_seq: a.last_seq,
            event_count: a.event_count,
            first_recorded_at: a.first_recorded_at.and_utc(),
            last_recorded_at: a.last_recorded_at.and_utc(),
            prev_hash: a.prev_hash,
            last_hash: a.last_hash,
            sha256: a.sha256,
            size_bytes: a.size_bytes,
            created_at: a.created_at.and_utc(),
        }
    }
}

/// The tenant's archive files, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArchiveList {
    /// Newest first.
    pub items: Vec<ArchiveOut>,
}

/// The retention setting.
///
/// How many days the tenant keeps events in the database (`null`: for ever). Older events are
/// archived to files, which stay listed under `GET /archives`.
#[utoipa::path(operation_id = "getRetention", tag = "retention", security(("bearer" = [])), responses(
    (status = 200, body = RetentionSetting),
    AdminOnly,
))]
#[get("/settings/retention")]
pub async fn get_retention(caller: Admin) -> Result<web::Json<RetentionSetting>, ApiError> {
    Ok(web::Json(RetentionSetting { days: caller.tenant.retention_days }))
}

/// Change the retention setting.
///
/// Sets how many days events are kept (`null`: for ever). Logged as `auditlog.retention_changed`;
/// expired events are archived by the next scheduled run (or `auditlog archive`).
#[utoipa::path(operation_id = "setRetention", tag = "retention", security(("bearer" = [])), request_body = RetentionSetting, responses(
    (status = 200, body = RetentionSetting),
    AdminOnly,
))]
#[put("/settings/retention")]
pub async fn set_retention(
    state: web::Data<AppState>,
    caller: Admin,
    body: StrictJson<RetentionSetting>,
) -> Result<web::Json<RetentionSetting>, ApiError> {
    let days = body.into_inner().days;
    if days.is_some_and(|d| !(1..=36_500).contains(&d)) {
        return Err(ApiError::validation(
            "days must be between 1 and 36500, or null to keep events forever",
            vec![FieldError::new("/days", "between 1 and 36500, or null")],
        ));
    }
    let (tenant_id, before, actor) = (caller.tenant.id, caller.tenant.retention_days, caller.actor());
    let request = caller.request();
    state
        .db(move |conn| {
            archive::set_retention(conn, tenant_id, days)?;
            if before != days {
                AuditEvent::new("auditlog.retention_changed", actor)
                    .on("settings", "retention", Some("Retention".into()))
                    .changes(vec![auditlog_db::models::Change {
                        field: "retention_days".into(),
                        old: Some(json!(before)),
                        new: Some(json!(days)),
                    }])
                    .record(conn, tenant_id, &request)?;
            }
            Ok(())
        })
        .await?;
    Ok(web::Json(RetentionSetting { days }))
}

/// The tenant's archive files.
///
/// Every archive file retention wrote for the tenant, newest first, with the seq range and times it
/// holds, its size and its SHA-256.
#[utoipa::path(operation_id = "listArchives", tag = "retention", security(("bearer" = [])), responses(
    (status = 200, body = ArchiveList),
    AdminOnly,
))]
#[get("/archives")]
pub async fn list_archives(
    state: web::Data<AppState>,
    caller: Admin,
) -> Result<web::Json<ArchiveList>, ApiError> {
    let tenant_id = caller.tenant.id;
    let items = state.db(move |conn| Ok(archive::list(conn, tenant_id)?)).await?;
    Ok(web::Json(ArchiveList { items: items.into_iter().map(Into::into).collect() }))
}

/// Download an archive file.
///
/// The file as written: gzip-compressed JSON Lines, a header line, then one event per line. It
/// checks on its own against the signed boundary it records (`auditlog verify-archive`). Logged
/// as `auditlog.archive_downloaded`.
#[utoipa::path(operation_id = "downloadArchive", tag = "retention", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Archive id")), responses(
    (status = 200, description = "The archive file", content_type = "application/gzip", body = inline(crate::http::download::BinaryFile),
        headers(("Content-Disposition" = String, description = "`attachment` with the file's name"))),
    AdminOnly,
    NotFound,
    (status = 409, description = "The archive's record names a file outside the archive folder: it is not served", body = Problem, content_type = "application/problem+json"),
))]
#[get("/archives/{id}")]
pub async fn download_archive(
    state: web::Data<AppState>,
    caller: Admin,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (tenant_id, id) = (caller.tenant.id, id.into_inner());
    let found = state
        .db(move |conn| {
            archive::get(conn, tenant_id, id).map_err(|e| match e {
                StoreError::NotFound => ApiError::NotFound(format!("archive {id} not found")),
                other => other.into(),
            })
        })
        .await?;
    let (name, actor) = (found.file_name.clone(), caller.actor());
    let request = caller.request();
    state
        .db(move |conn| {
            AuditEvent::new("auditlog.archive_downloaded", actor)
                .on("archive", id, Some(name))
                .record(conn, tenant_id, &request)
        })
        .await?;
    // From the object store when another process wrote it.
    let (settings, slug, name) =
        (state.settings.clone(), caller.tenant.slug.clone(), found.file_name.clone());
    state.db(move |_| super::ensure_local(&settings, &slug, &name)).await?;
    // Only a file inside the tenant's archive folder is served, whatever the row says
    // (`recorded_path` logs a refusal).
    let path = archive::recorded_path(&state.settings.archive_dir, &caller.tenant.slug, &found.file_name)
        .map_err(|e| match e {
            ArchivePathError::Outside(_) => ApiError::Conflict(format!(
                "archive {id} is not served: its record names a file outside the archive folder; \
                 the incident is logged"
            )),
            ArchivePathError::Unreadable(e) => ApiError::internal(format!("archive {id} is unreadable: {e}")),
        })?;
    let file = NamedFile::open(&path)
        .map_err(|e| ApiError::internal(format!("archive {id} is recorded but unreadable: {e}")))?
        .set_content_type("application/gzip".parse().unwrap_or(mime_guess_fallback()))
        .disable_content_disposition();
    let mut response = file.into_response(&req);
    response
        .headers_mut()
        .insert(header::CONTENT_DISPOSITION, crate::http::download::attachment(&found.file_name));
    Ok(response)
}

fn mime_guess_fallback() -> actix_web::mime::Mime {
    actix_web::mime::APPLICATION_OCTET_STREAM
}
