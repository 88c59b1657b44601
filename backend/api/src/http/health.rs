use actix_web::{get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::error::{ApiError, Problem};
use crate::http::state::AppState;

/// The health or readiness of the server.
#[derive(Serialize, ToSchema)]
pub struct HealthResponse {
    /// `ok` when alive; `ready` when the database answers.
    pub status: &'static str,
}

/// Liveness.
///
/// Answers 200 while the process is up, whatever the database does. No sign-in needed.
#[utoipa::path(operation_id = "healthz", tag = "service", responses((status = 200, body = HealthResponse)))]
#[get("/healthz")]
pub async fn healthz() -> web::Json<HealthResponse> {
    web::Json(HealthResponse { status: "ok" })
}

/// Readiness.
///
/// Answers 200 when the database answers a query, 503 when it does not. No sign-in needed.
#[utoipa::path(operation_id = "readyz", tag = "service", responses(
    (status = 200, body = HealthResponse),
    (status = 503, description = "The database is unreachable", body = Problem, content_type = "application/problem+json"),
))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<web::Json<HealthResponse>, ApiError> {
    state.db(|conn| conn.ping().map_err(|e| ApiError::Unavailable(e.to_string()))).await?;
    Ok(web::Json(HealthResponse { status: "ready" }))
}
