use actix_web::{get, web, HttpRequest, HttpResponse};
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

/// Prometheus metrics.
///
/// Every series in the Prometheus text exposition format (docs/OPERATIONS.md lists them). When
/// the server has a `METRICS_TOKEN`, the scrape must send it as a bearer token (401 otherwise);
/// without one the endpoint is open, for a scraper on a private network.
#[utoipa::path(operation_id = "metrics", tag = "service", security((), ("metrics_token" = [])), responses(
    (status = 200, description = "The metrics", content_type = "text/plain", body = String,
        example = json!("# HELP auditlog_streams_open Live event streams (SSE) open now\n# TYPE auditlog_streams_open gauge\nauditlog_streams_open 0\n")),
    (status = 401, description = "`METRICS_TOKEN` is set and the request does not carry it", body = Problem, content_type = "application/problem+json",
        headers(("WWW-Authenticate" = String, description = "`Bearer`"))),
))]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    if let Some(token) = &state.settings.metrics_token {
        let sent = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, sent)| sent.trim());
        use crate::auth::credentials::{constant_time_eq, secret_hash};
        // Digests of equal length, so the comparison's time says nothing of the token.
        if !sent.is_some_and(|sent| constant_time_eq(&secret_hash(sent), &secret_hash(token))) {
            return Err(ApiError::Unauthorized(
                "this server's metrics need its METRICS_TOKEN as a bearer token".into(),
            ));
        }
    }
    let pool = state.pool.state();
    let text = state.metrics.render(
        state.streams.total(),
        pool.connections,
        pool.idle_connections,
        state.pool.max_size(),
    );
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(text))
}
