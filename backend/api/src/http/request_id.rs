//! A request id on every request: taken from `X-Request-Id` when a trusted proxy sent a sane one
//! (so one id follows a request through the proxy's logs and ours), else a new UUID. It is
//! answered in `X-Request-Id` on every response, named in every problem body (`request_id`) and
//! carried by every log line of the request, through its span.

use std::future::Future;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::HttpMessage;
use tracing::Span;
use tracing_actix_web::RootSpanBuilder;

pub const HEADER: &str = "x-request-id";

tokio::task_local! {
    static CURRENT: String;
}

/// The id of a request, and when it arrived; kept in the request's extensions.
#[derive(Debug, Clone)]
pub struct RequestId {
    pub id: String,
    pub arrived: Instant,
}

/// The id of the request being answered on this task, if any.
pub fn current() -> Option<String> {
    CURRENT.try_with(Clone::clone).ok()
}

/// Runs `make` and the future it makes as the request `id`: what they log and the problems they
/// answer name it.
pub fn scope<F: Future>(
    id: String,
    make: impl FnOnce() -> F,
) -> tokio::task::futures::TaskLocalFuture<String, F> {
    let future = CURRENT.sync_scope(id.clone(), make);
    CURRENT.scope(id, future)
}

/// The id for `req`: the one a trusted proxy sent, when it is 1 to 128 characters of letters,
/// digits and `-_.:/+=`; otherwise a new one. A client that is not a trusted proxy cannot choose
/// the id its request is logged under.
pub fn assign(req: &ServiceRequest, trusted: &[ipnet::IpNet]) -> RequestId {
    let from_proxy = req.peer_addr().is_some_and(|peer| trusted.iter().any(|net| net.contains(&peer.ip())));
    let sent = req.headers().get(HEADER).and_then(|v| v.to_str().ok()).map(str::trim);
    let id = match sent {
        Some(id) if from_proxy && well_formed(id) => id.to_string(),
        _ => uuid::Uuid::new_v4().to_string(),
    };
    RequestId { id, arrived: Instant::now() }
}

fn well_formed(id: &str) -> bool {
    (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:/+=".contains(&b))
}

/// The span of each request, through `tracing-actix-web`: its id, method and path (never the
/// query string, which can hold personal data, nor a download link's token), then its status
/// and time in one `auditlog::access` line when it ends.
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let id = request.extensions().get::<RequestId>().map(|r| r.id.clone()).unwrap_or_default();
        let span = tracing::info_span!(
            "request",
            request_id = %id,
            method = %request.method(),
            path = %logged_path(request.path()),
            client = tracing::field::Empty,
        );
        // The client's address only when debugging, as before.
        if tracing::enabled!(target: "auditlog::access", tracing::Level::DEBUG) {
            if let Some(peer) = request.peer_addr() {
                span.record("client", tracing::field::display(peer.ip()));
            }
        }
        span
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, actix_web::Error>) {
        let (status, elapsed) = match outcome {
            Ok(response) => (
                response.status(),
                response.request().extensions().get::<RequestId>().map(|r| r.arrived.elapsed()),
            ),
            Err(error) => (error.as_response_error().status_code(), None),
        };
        let elapsed_ms = elapsed.map(|e| e.as_secs_f64() * 1000.0).unwrap_or_default();
        span.in_scope(|| {
            tracing::info!(target: "auditlog::access", status = status.as_u16(), elapsed_ms, "answered");
        });
    }
}

/// The path as the logs show it: a download link's token (a credential for a minute) is left out.
pub fn logged_path(path: &str) -> String {
    match path.strip_prefix("/api/v1/downloads/") {
        Some(_) => "/api/v1/downloads/…".to_string(),
        None => path.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn a_download_links_token_stays_out_of_the_logs() {
        assert_eq!(logged_path("/api/v1/downloads/eyJhbGciOi.x.y"), "/api/v1/downloads/…");
        assert_eq!(logged_path("/api/v1/events/export"), "/api/v1/events/export");
    }

    #[test]
    fn only_a_trusted_proxy_chooses_the_id_and_only_a_sane_one() {
        let trusted = crate::config::parse_proxies("10.0.0.0/8").unwrap();
        let from = |peer: &str, id: &str| {
            let req = TestRequest::default()
                .peer_addr(format!("{peer}:4000").parse().unwrap())
                .insert_header((HEADER, id))
                .to_srv_request();
            assign(&req, &trusted).id
        };
        assert_eq!(from("10.1.2.3", "lb-7f3a:12"), "lb-7f3a:12");
        let chosen_by_client = from("203.0.113.9", "lb-7f3a:12");
        assert_ne!(chosen_by_client, "lb-7f3a:12");
        assert!(uuid::Uuid::parse_str(&chosen_by_client).is_ok());
        for bad in ["", "has space", "tab\there", &"x".repeat(129), "quote\"d", "ünïcode"] {
            assert!(uuid::Uuid::parse_str(&from("10.1.2.3", bad)).is_ok(), "{bad:?} was taken");
        }
    }
}
