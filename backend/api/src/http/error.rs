//! The one error type of the API, rendered as RFC 9457 `application/problem+json`.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use auditlog_db::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem, stable for clients to match on.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request, in words.
    pub detail: String,
    /// Each invalid input, when there are several or their location matters.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// The request's id, as in its `X-Request-Id` header and the server's logs: quote it when
    /// asking about a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// A problem document response, described by `description`.
pub fn problem_response(description: &str) -> utoipa::openapi::Response {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build(),
        )
        .build()
}

/// The refusal of an operation only admins may call, for its `responses(…)` list.
pub struct AdminOnly;

impl utoipa::IntoResponses for AdminOnly {
    fn responses() -> std::collections::BTreeMap<String, utoipa::openapi::RefOr<utoipa::openapi::Response>> {
        [("403".to_string(), problem_response("Not an admin").into())].into()
    }
}

/// The refusal of an operation on one resource named by its id: none such in the caller's tenant.
pub struct NotFound;

impl utoipa::IntoResponses for NotFound {
    fn responses() -> std::collections::BTreeMap<String, utoipa::openapi::RefOr<utoipa::openapi::Response>> {
        [("404".to_string(), problem_response("Not found").into())].into()
    }
}

/// One invalid input.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FieldError {
    /// JSON Pointer (RFC 6901) into the request body, e.g. `/events/3/ip`, or the query parameter name.
    pub pointer: String,
    /// What is wrong with it.
    pub message: String,
}

impl FieldError {
    pub fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self { pointer: pointer.into(), message: message.into() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed request: unparsable JSON, bad query parameter.
    #[error("{detail}")]
    BadRequest { detail: String, errors: Vec<FieldError> },
    /// Well-formed but invalid content.
    #[error("{detail}")]
    Validation { detail: String, errors: Vec<FieldError> },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// The path exists, the method does not.
    #[error("method {method} not allowed")]
    MethodNotAllowed { method: String, allowed: Vec<String> },
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The client stopped sending the request body.
    #[error("{0}")]
    RequestTimeout(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Rate limited; retry after this many seconds. `detail` says which limit.
    #[error("{detail}")]
    TooManyRequests { detail: String, retry_after: u64 },
    /// The database cannot be reached; the client should retry.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// Anything unexpected; logged in full, answered with a generic 500.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn bad_request(detail: impl Into<String>) -> Self {
        ApiError::BadRequest { detail: detail.into(), errors: Vec::new() }
    }

    pub fn bad_parameter(name: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError::BadRequest {
            detail: format!("query parameter `{name}`: {message}"),
            errors: vec![FieldError::new(name, message)],
        }
    }

    /// Too many attempts at guessing a password; the next one is allowed in `retry_after` seconds.
    pub fn throttled(retry_after: u64) -> Self {
        ApiError::TooManyRequests {
            detail: format!("too many attempts; retry in {retry_after} seconds"),
            retry_after,
        }
    }

    pub fn validation(detail: impl Into<String>, errors: Vec<FieldError>) -> Self {
        ApiError::Validation { detail: detail.into(), errors }
    }

    /// `Ok` when `errors` is empty, else a 422 naming every invalid field (the first in `detail`).
    pub fn check_fields(errors: Vec<FieldError>) -> Result<(), ApiError> {
        match errors.first() {
            None => Ok(()),
            Some(first) => Err(ApiError::validation(format!("{}: {}", first.pointer, first.message), errors)),
        }
    }

    /// A body that could not be read: stalled (408, see `config::BODY_IDLE_TIMEOUT`) or broken (400).
    pub fn from_payload(error: &actix_web::error::PayloadError) -> Self {
        use actix_web::error::PayloadError as E;
        log::debug!("request body unreadable: {error}");
        match error {
            E::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => ApiError::RequestTimeout(format!(
                "the request body stopped arriving for {} seconds; nothing was changed",
                crate::config::BODY_IDLE_TIMEOUT.as_secs()
            )),
            E::Overflow => ApiError::PayloadTooLarge("the request body is too large".into()),
            E::EncodingCorrupted => ApiError::bad_request(
                "the request body could not be decompressed: it does not match its Content-Encoding",
            ),
            E::Incomplete(_) => ApiError::bad_request("the request body ended before it was complete"),
            _ => ApiError::bad_request("the request body could not be read"),
        }
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        ApiError::Internal(detail.into())
    }

    /// One error of every kind, for the document's list of problem types.
    pub fn every_kind() -> Vec<ApiError> {
        let d = String::new;
        vec![
            ApiError::BadRequest { detail: d(), errors: Vec::new() },
            ApiError::Validation { detail: d(), errors: Vec::new() },
            ApiError::Unauthorized(d()),
            ApiError::Forbidden(d()),
            ApiError::NotFound(d()),
            ApiError::MethodNotAllowed { method: d(), allowed: Vec::new() },
            ApiError::RequestTimeout(d()),
            ApiError::Conflict(d()),
            ApiError::PayloadTooLarge(d()),
            ApiError::UnsupportedMediaType(d()),
            ApiError::TooManyRequests { detail: d(), retry_after: 0 },
            ApiError::Internal(d()),
            ApiError::Unavailable(d()),
        ]
    }

    fn kind(&self) -> (&'static str, &'static str) {
        match self {
            ApiError::BadRequest { .. } => ("bad-request", "Bad request"),
            ApiError::Validation { .. } => ("validation-failed", "Validation failed"),
            ApiError::Unauthorized(_) => ("unauthorized", "Unauthorized"),
            ApiError::Forbidden(_) => ("forbidden", "Forbidden"),
            ApiError::NotFound(_) => ("not-found", "Not found"),
            ApiError::Conflict(_) => ("conflict", "Conflict"),
            ApiError::MethodNotAllowed { .. } => ("method-not-allowed", "Method not allowed"),
            ApiError::PayloadTooLarge(_) => ("payload-too-large", "Payload too large"),
            ApiError::RequestTimeout(_) => ("request-timeout", "Request timeout"),
            ApiError::UnsupportedMediaType(_) => ("unsupported-media-type", "Unsupported media type"),
            ApiError::TooManyRequests { .. } => ("too-many-requests", "Too many requests"),
            ApiError::Unavailable(_) => ("service-unavailable", "Service unavailable"),
            ApiError::Internal(_) => ("internal-error", "Internal server error"),
        }
    }

    pub fn problem(&self) -> Problem {
        let (slug, title) = self.kind();
        let (detail, errors) = match self {
            ApiError::BadRequest { detail, errors } | ApiError::Validation { detail, errors } => {
                (detail.clone(), errors.clone())
            }
            ApiError::Unavailable(_) => {
                ("the database is unavailable; retry shortly".to_string(), Vec::new())
            }
            ApiError::Internal(_) => {
                ("an unexpected error occurred; it has been logged".to_string(), Vec::new())
            }
            ApiError::TooManyRequests { detail, .. } => (detail.clone(), Vec::new()),
            ApiError::MethodNotAllowed { method, allowed } => {
                (format!("{method} is not allowed here; use {}", allowed.join(", ")), Vec::new())
            }
            ApiError::Unauthorized(d)
            | ApiError::Forbidden(d)
            | ApiError::NotFound(d)
            | ApiError::Conflict(d)
            | ApiError::PayloadTooLarge(d)
            | ApiError::RequestTimeout(d)
            | ApiError::UnsupportedMediaType(d) => (d.clone(), Vec::new()),
        };
        Problem {
            problem_type: format!("urn:activity-log:problem:{slug}"),
            title: title.to_string(),
            status: self.status_code().as_u16(),
            detail,
            errors,
            request_id: crate::http::request_id::current(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Internal(detail) => log::error!("internal error: {detail}"),
            ApiError::Unavailable(detail) => log::warn!("database unavailable: {detail}"),
            _ => {}
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json")));
        match self {
            ApiError::Unauthorized(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
            }
            ApiError::Unavailable(_) => {
                response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("5")));
            }
            ApiError::TooManyRequests { retry_after, .. } => {
                response.insert_header((header::RETRY_AFTER, retry_after.to_string()));
            }
            ApiError::MethodNotAllowed { allowed, .. } => {
                response.insert_header((header::ALLOW, allowed.join(", ")));
            }
            _ => {}
        }
        response.body(serde_json::to_string(&self.problem()).unwrap_or_default())
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => ApiError::NotFound("not found".into()),
            StoreError::Conflict(detail) => ApiError::Conflict(detail),
            StoreError::Forbidden(detail) => ApiError::Forbidden(detail),
            e if e.is_transient() => ApiError::Unavailable(e.to_string()),
            StoreError::Pool(e) => ApiError::Unavailable(e.to_string()),
            StoreError::Database(e) => ApiError::Internal(e.to_string()),
            StoreError::Corrupt(detail) => ApiError::Internal(detail),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_lists_each_kind_once() {
        let kinds = ApiError::every_kind();
        let slugs: std::collections::BTreeSet<&str> = kinds.iter().map(|e| e.kind().0).collect();
        assert_eq!(slugs.len(), kinds.len());
        for error in &kinds {
            // A new variant stops this from compiling: add it to `every_kind` too.
            match error {
                ApiError::BadRequest { .. }
                | ApiError::Validation { .. }
                | ApiError::Unauthorized(_)
                | ApiError::Forbidden(_)
                | ApiError::NotFound(_)
                | ApiError::MethodNotAllowed { .. }
                | ApiError::RequestTimeout(_)
                | ApiError::Conflict(_)
                | ApiError::PayloadTooLarge(_)
                | ApiError::UnsupportedMediaType(_)
                | ApiError::TooManyRequests { .. }
                | ApiError::Internal(_)
                | ApiError::Unavailable(_) => {}
            }
        }
    }
}
