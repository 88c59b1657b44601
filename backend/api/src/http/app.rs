//! Assembling the HTTP application: API, docs, health checks and the dashboard's static files.

use std::path::PathBuf;

use actix_files::{Files, NamedFile};
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::DefaultHeaders;
use actix_web::{web, App, HttpRequest};
use utoipa_actix_web::{scope, AppExt};
use utoipa_swagger_ui::SwaggerUi;

use crate::http::error::ApiError;
use crate::http::openapi::ApiDoc;
use crate::http::rejections::{json_error, path_error, query_error};
use crate::http::request_id::{self, RequestSpan};
use crate::http::routes;
use crate::http::state::AppState;

/// Responses sent as they are, whatever the client accepts: compressed formats, and live
/// streams, whose events a compressor would hold back.
const UNCOMPRESSED_TYPES: [&str; 6] = [
    "text/event-stream",
    "application/pdf",
    "application/gzip",
    "application/zip",
    "application/vnd.openxmlformats-officedocument",
    "image/png",
];
const IDENTITY: &str = "identity";

/// Content Security Policy of the dashboard and API: only this origin, no inline script, no framing.
const APP_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
     connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";
/// The API docs page (Swagger UI) starts itself with an inline script.
const DOCS_POLICY: &str =
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'";

pub fn build(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    use utoipa::OpenApi;
    let static_dir = state.settings.static_dir.clone();
    let cors = cors(&state.settings.cors_allowed_origins);
    let json_limit = state.settings.max_body_bytes;
    let (app, api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .app_data(web::Data::new(state))
        .app_data(web::JsonConfig::default().limit(json_limit).error_handler(json_error))
        .app_data(web::PathConfig::default().error_handler(path_error))
        .app_data(web::QueryConfig::default().error_handler(query_error))
        .service(super::health::healthz)
        .service(super::health::readyz)
        .service(super::health::metrics)
        .service(scope("/api/v1").configure(routes::configure))
        .split_for_parts();
    let api = crate::http::openapi::complete(api);
    let spec = api.clone();
    let mut app = app
        .wrap(actix_web::middleware::Condition::new(cors.is_some(), cors.unwrap_or_default()))
        .wrap(tracing_actix_web::TracingLogger::<RequestSpan>::new())
        .wrap(
            DefaultHeaders::new()
                .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                .add((header::REFERRER_POLICY, "no-referrer"))
                .add((header::X_FRAME_OPTIONS, "DENY")),
        )
        .wrap_fn(|mut req, srv| {
            let payload = actix_web::HttpMessage::take_payload(&mut req);
            req.set_payload(idle_limited(payload));
            srv.call(req)
        })
        .wrap_fn(|req, srv| {
            // The dashboard runs no inline script; the bundled API docs page needs one.
            let policy = if req.path().starts_with("/docs") { DOCS_POLICY } else { APP_POLICY };
            let response = srv.call(req);
            async move {
                let mut response = response.await?;
                response
                    .headers_mut()
                    .insert(header::CONTENT_SECURITY_POLICY, header::HeaderValue::from_static(policy));
                Ok(response)
            }
        })
        .wrap_fn(|req, srv| {
            // What is compressed already (PDF, XLSX, gzip archives) or must reach the client
            // event by event (a live stream) is marked so that Compress leaves it as it is.
            let response = srv.call(req);
            async move {
                let mut response = response.await?;
                let keep = response
                    .headers()
                    .get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|t| UNCOMPRESSED_TYPES.iter().any(|kept| t.starts_with(kept)));
                if keep && !response.headers().contains_key(header::CONTENT_ENCODING) {
                    response
                        .headers_mut()
                        .insert(header::CONTENT_ENCODING, header::HeaderValue::from_static(IDENTITY));
                }
                Ok(response)
            }
        })
        .wrap(actix_web::middleware::Compress::default())
        .wrap_fn(|req, srv| {
            // The mark is for Compress only: "identity" is not a content coding to send.
            let response = srv.call(req);
            async move {
                let mut response = response.await?;
                if response.headers().get(header::CONTENT_ENCODING).is_some_and(|v| v == IDENTITY) {
                    response.headers_mut().remove(header::CONTENT_ENCODING);
                }
                Ok(response)
            }
        })
        .wrap_fn(|req, srv| {
            // Counted by the matched route's template, so paths with ids or the dashboard's
            // client routes do not each make a series.
            let started = std::time::Instant::now();
            let metrics = req.app_data::<web::Data<AppState>>().map(|state| state.metrics.clone());
            let method = req.method().clone();
            let response = srv.call(req);
            async move {
                let response = response.await;
                if let Some(metrics) = metrics {
                    let (route, status) = match &response {
                        Ok(res) => (res.request().match_pattern(), res.status()),
                        Err(e) => (None, e.as_response_error().status_code()),
                    };
                    metrics.request(route.as_deref(), method.as_str(), status.as_u16(), started.elapsed());
                }
                response
            }
        })
        .wrap_fn(|req, srv| {
            // Outermost: every response carries the id.
            let trusted = req
                .app_data::<web::Data<AppState>>()
                .map(|state| state.settings.trusted_proxies.clone())
                .unwrap_or_default();
            let assigned = request_id::assign(&req, &trusted);
            let id = assigned.id.clone();
            actix_web::HttpMessage::extensions_mut(&req).insert(assigned);
            request_id::scope(id.clone(), move || {
                let call = srv.call(req);
                async move {
                    // Handlers and extractors answer their errors as responses; an error only a
                    // layer outside them could raise passes as it is.
                    let mut response = call.await?;
                    if let Ok(value) = header::HeaderValue::from_str(&id) {
                        response
                            .headers_mut()
                            .insert(header::HeaderName::from_static(request_id::HEADER), value);
                    }
                    Ok(response)
                }
            })
        })
        .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", api));
    if static_dir.join("index.html").is_file() {
        // The build names each asset by its content's hash: a name never changes its bytes,
        // so browsers may keep them for a year (index.html, which names them, is `no-cache`).
        app = app.service(
            web::scope("/assets")
                .wrap(
                    DefaultHeaders::new().add((header::CACHE_CONTROL, "public, max-age=31536000, immutable")),
                )
                .service(Files::new("", static_dir.join("assets")).prefer_utf8(true).default_handler(
                    web::to(
                        // A missing asset is a 404, never the dashboard's page in its place.
                        |req: HttpRequest| async move {
                            Err::<actix_web::HttpResponse, _>(ApiError::NotFound(format!(
                                "no asset {}",
                                req.path()
                            )))
                        },
                    ),
                )),
        );
    }
    let routes = std::sync::Arc::new(RouteTable::from_spec(&spec));
    app.default_service(web::to(move |req: HttpRequest| fallback(req, static_dir.clone(), routes.clone())))
}

/// The body's chunks, failing with a `TimedOut` I/O error when none comes for [`BODY_IDLE_TIMEOUT`](crate::config::BODY_IDLE_TIMEOUT).
fn idle_limited(payload: actix_web::dev::Payload) -> actix_web::dev::Payload {
    use futures_util::StreamExt;
    let chunks = futures_util::stream::unfold(Some(payload), |payload| async move {
        let mut payload = payload?;
        match tokio::time::timeout(crate::config::BODY_IDLE_TIMEOUT, payload.next()).await {
            Ok(Some(chunk)) => Some((chunk, Some(payload))),
            Ok(None) => None,
            Err(_) => {
                let stalled =
                    std::io::Error::new(std::io::ErrorKind::TimedOut, "the request body stopped arriving");
                Some((Err(actix_web::error::PayloadError::Io(stalled)), None))
            }
        }
    });
    actix_web::dev::Payload::Stream { payload: Box::pin(chunks) }
}

/// Cross-origin access for the configured origins only; `None` (no header ever sent) when the
/// allowlist is empty. Requests from other origins still reach the API — same-origin calls from
/// the dashboard carry an `Origin` too — but get no CORS headers, so browsers withhold the answer.
fn cors(origins: &[String]) -> Option<actix_cors::Cors> {
    if origins.is_empty() {
        return None;
    }
    let cors = origins.iter().fold(actix_cors::Cors::default(), |cors, origin| cors.allowed_origin(origin));
    Some(
        cors.allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
            .allowed_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::ACCEPT,
                header::HeaderName::from_static("idempotency-key"),
                header::HeaderName::from_static("last-event-id"),
            ])
            .expose_headers([
                header::CONTENT_DISPOSITION,
                header::RETRY_AFTER,
                header::HeaderName::from_static("x-through-seq"),
                header::HeaderName::from_static("x-withheld-fields"),
                header::HeaderName::from_static("x-request-id"),
            ])
            .block_on_origin_mismatch(false)
            .max_age(3600),
    )
}

/// The documented paths and their methods, to answer a wrong method with 405 and `Allow`.
struct RouteTable {
    routes: Vec<(Vec<String>, Vec<String>)>,
}

impl RouteTable {
    fn from_spec(spec: &utoipa::openapi::OpenApi) -> Self {
        let routes = spec
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let segments = path.trim_matches('/').split('/').map(String::from).collect();
                let value = serde_json::to_value(item).unwrap_or_default();
                let methods = ["get", "put", "post", "delete", "patch", "head", "options"]
                    .iter()
                    .filter(|m| value.get(**m).is_some())
                    .map(|m| m.to_uppercase())
                    .collect();
                (segments, methods)
            })
            .collect();
        RouteTable { routes }
    }

    /// The methods of the documented path that `path` matches, if any.
    fn allowed(&self, path: &str) -> Option<Vec<String>> {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let mut found: Vec<String> = Vec::new();
        for (segments, methods) in &self.routes {
            let matches = segments.len() == parts.len()
                && segments.iter().zip(&parts).all(|(s, p)| (s.starts_with('{') && !p.is_empty()) || s == p);
            if matches {
                found.extend(methods.iter().cloned());
            }
        }
        (!found.is_empty()).then_some(found)
    }
}

/// Paths of the service itself, outside `/api/`: none of them, nor anything below them, is ever
/// answered with the dashboard.
const SERVICE_PATHS: [&str; 5] = ["/healthz", "/readyz", "/metrics", "/docs", "/openapi.json"];

/// Unknown API and service paths get a problem document, a documented path with another method a
/// 405, `/docs` a redirect to `/docs/`; any other GET gets the dashboard (client routing).
async fn fallback(
    req: HttpRequest,
    static_dir: PathBuf,
    routes: std::sync::Arc<RouteTable>,
) -> Result<actix_web::HttpResponse, ApiError> {
    let path = req.path();
    // A documented path asked with another method. (The same method reaching here means the
    // path only looked alike, e.g. with a trailing slash: that is a 404 below.)
    if let Some(allowed) =
        routes.allowed(path).filter(|allowed| !allowed.iter().any(|m| m == req.method().as_str()))
    {
        return Err(ApiError::MethodNotAllowed { method: req.method().to_string(), allowed });
    }
    if path.starts_with("/api/") || path == "/api" {
        return Err(ApiError::NotFound(format!("no API route {} {path}", req.method())));
    }
    // The API docs live at `/docs/` (as the README links them, without the slash too).
    if path == "/docs" {
        return Ok(actix_web::HttpResponse::PermanentRedirect()
            .insert_header((header::LOCATION, "/docs/"))
            .finish());
    }
    // The service paths are never the dashboard: a scraper or a probe must not read its page as
    // a healthy answer.
    if SERVICE_PATHS
        .iter()
        .any(|p| path == *p || path.strip_prefix(p).is_some_and(|rest| rest.starts_with('/')))
    {
        return Err(ApiError::NotFound(format!("no route {} {path}", req.method())));
    }
    if req.method() != actix_web::http::Method::GET && req.method() != actix_web::http::Method::HEAD {
        return Err(ApiError::NotFound(format!("no route {} {path}", req.method())));
    }
    // A file at the top of the build (favicon, robots.txt …), else the single-page app itself.
    let relative = path.trim_start_matches('/');
    let candidate = static_dir.join(relative);
    let file = if !relative.is_empty() && !relative.contains("..") && candidate.is_file() {
        candidate
    } else {
        static_dir.join("index.html")
    };
    let named = NamedFile::open(&file).map_err(|_| {
        ApiError::NotFound("the dashboard is not built: run `npm run build` in frontend/".into())
    })?;
    let mut response = named.into_response(&req);
    if file.ends_with("index.html") {
        response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-cache"));
    }
    Ok(response)
}
