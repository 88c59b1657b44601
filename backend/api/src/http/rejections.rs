//! Problem documents for the failures of actix-web's own extractors (`web::Json`, `web::Path`,
//! `web::Query`), in the same words as the API's own checks.

use crate::http::error::{ApiError, FieldError};
use crate::http::wording::{self, Flaw};

/// Problem documents for `web::Json`'s failures (the sign-in and password bodies; the other
/// endpoints read theirs with [`crate::http::json::StrictJson`]).
pub fn json_error(
    err: actix_web::error::JsonPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as E;
    let api = match &err {
        E::OverflowKnownLength { limit, .. } | E::Overflow { limit } => {
            ApiError::PayloadTooLarge(format!("the request body exceeds {limit} bytes"))
        }
        E::ContentType => ApiError::UnsupportedMediaType("send the body as application/json".into()),
        E::Deserialize(e) if e.is_data() => {
            log::debug!("request body refused: {e}");
            let flaw = Flaw::parse(&wording::without_position(e));
            let message = flaw.message("field");
            match flaw.name() {
                // serde names the field but not its object; `web::Json` reads only flat objects
                // here (sign-in, password change), so the field is a member of the body itself.
                Some(name) => {
                    let pointer = format!("/{}", crate::http::json::escape(name));
                    ApiError::validation(
                        format!("{pointer}: {message}"),
                        vec![FieldError::new(pointer, message)],
                    )
                }
                None => ApiError::validation(
                    format!("a field of the body {message}{}", wording::position(e)),
                    Vec::new(),
                ),
            }
        }
        E::Deserialize(e) => crate::http::json::not_json(e),
        E::Payload(e) => ApiError::from_payload(e),
        other => {
            log::debug!("request body unreadable: {other}");
            ApiError::bad_request("the request body could not be read")
        }
    };
    api.into()
}

/// Problem documents for `web::Path`'s failures: the segment that is not of its type.
pub fn path_error(err: actix_web::error::PathError, req: &actix_web::HttpRequest) -> actix_web::Error {
    log::debug!("path parameter refused: {err}");
    let actix_web::error::PathError::Deserialize(inner) = &err else {
        return ApiError::bad_request("a path parameter is not valid").into();
    };
    let message = inner.to_string();
    let flaw = Flaw::parse(&message);
    // actix-router says `can not parse "abc" to a i64`: find the segment it quotes.
    let quoted =
        message.strip_prefix("can not parse ").and_then(|rest| rest.rsplit_once(" to a ")).map(|(v, _)| v);
    let name = req
        .match_info()
        .iter()
        .find(|(_, value)| quoted.is_some_and(|q| q == format!("{value:?}")))
        .map(|(name, _)| name.to_string());
    match name {
        Some(name) => {
            ApiError::bad_request(format!("path parameter `{name}`: {}", flaw.message("parameter")))
        }
        None => ApiError::bad_request(format!("a path parameter {}", flaw.message("parameter"))),
    }
    .into()
}

/// Problem documents for `web::Query`'s failures (the endpoints read their query strings with
/// [`crate::filters::parse_query`]; this keeps any other reader in the same words).
pub fn query_error(
    err: actix_web::error::QueryPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    log::debug!("query string refused: {err}");
    let actix_web::error::QueryPayloadError::Deserialize(inner) = &err else {
        return ApiError::bad_request("the query string is not valid").into();
    };
    let flaw = Flaw::parse(&inner.to_string());
    match flaw.name() {
        Some(name) => ApiError::bad_parameter(name, flaw.message("parameter")),
        None => ApiError::bad_request(format!("a query parameter {}", flaw.message("parameter"))),
    }
    .into()
}
