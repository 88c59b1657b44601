//! The OpenAPI document, collected from the handlers' own `#[utoipa::path]` annotations.

use actix_web::App;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::{scope, AppExt};

use crate::http::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Activity Log API",
        description = "Audit trail service: host applications post events, the dashboard and auditors read them.\n\nErrors are RFC 9457 `application/problem+json` documents.",
        license(name = "MIT", identifier = "MIT"),
    ),
    servers(
        (url = "/", description = "The server that serves this document (at `/openapi.json`): each installation is self-hosted, so paths are relative to its own address"),
    ),
    modifiers(&BearerAuth),
    components(schemas(
        crate::filters::RangePreset,
        crate::filters::Scope,
        auditlog_db::queries::events::SortKey,
        auditlog_db::queries::events::SortOrder,
        crate::filters::TimeZoneName,
        crate::filters::FilterText,
        crate::filters::RecordType,
        crate::filters::Keyword,
        crate::filters::DateBound,
        crate::filters::IpAddress,
        crate::filters::IpFilter,
        crate::filters::FlagParam,
        crate::exports::columns::ColumnList,
        crate::exports::routes::ExportFormat,
        crate::aggregates::stats::Bucket,
    )),
    tags(
        (name = "auth", description = "Sign-in, sign-out and the current user"),
        (name = "users", description = "Dashboard users and their roles (admins)"),
        (name = "tokens", description = "API tokens for integrators (admins)"),
        (name = "events", description = "Ingest and search events"),
        (name = "facets", description = "Values for the dashboard's filter pickers"),
        (name = "stats", description = "Counts for the activity chart"),
        (name = "integrity", description = "Tamper evidence: signed checkpoints of each tenant's Merkle tree, receipts, inclusion and consistency proofs (RFC 9162), and verification against the checkpoint log (docs/INTEGRITY.md)"),
        (name = "retention", description = "Retention policy and archives (admins)"),
        (name = "review", description = "The security review: flags raised on suspicious events, their settings and summary (docs/ALERTS.md)"),
        (name = "links", description = "Links from a record into the host application: URL templates per record type"),
        (name = "service", description = "Health, readiness and Prometheus metrics"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("An access token from `POST /api/v1/auth/login`"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "metrics_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The server's `METRICS_TOKEN`, when it has one"))
                    .build(),
            ),
        );
    }
}

/// What a response with `status` means, where its handler says nothing more specific. OpenAPI
/// requires a description on every response.
fn standard_description(status: &str) -> &'static str {
    match status {
        "200" => "Success",
        "201" => "Created",
        "204" => "Done; no content",
        "400" => "Malformed request",
        "401" => "Not signed in, or the session or token is no longer valid",
        "403" => "Not allowed for the caller",
        "404" => "Not found",
        "409" => "In conflict with the current state",
        "413" => "Body too large",
        "415" => "Body is not JSON",
        "422" => "Invalid content",
        "429" => "Too many requests; retry later",
        "500" => "Unexpected error (logged)",
        "503" => "Database unavailable; retry later",
        _ => "See the operation's description",
    }
}

/// Failures any operation can answer, added where a handler does not document them itself:
/// 400 for a malformed request, 401 where a token is needed, 403 where the shared filters are
/// taken, 413/415/422 where there is a body, 500 and 503 everywhere. All are problem documents.
struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        use crate::http::error::problem_response as problem;
        for operation in operations(openapi) {
            let mut common = vec!["400", "500", "503"];
            if operation.security.as_ref().is_some_and(|s| !s.is_empty()) {
                common.push("401");
            }
            if operation.request_body.is_some() {
                common.extend(["413", "415", "422"]);
            }
            // The shared event filters: a filter or sort on a field the tenant hides from the
            // caller's role (`ip`) is refused.
            let filtered = operation.parameters.as_ref().is_some_and(|ps| {
                ps.iter().any(|p| matches!(p, utoipa::openapi::RefOr::T(p) if p.name == "ip"))
            });
            if filtered {
                operation.responses.responses.entry("403".to_string()).or_insert_with(|| {
                    problem(
                        "A filter or sort on a field the tenant hides from the caller's role (`ip`), \
                         or an operation the caller's role or token scope may not use",
                    )
                    .into()
                });
            }
            for status in common {
                operation
                    .responses
                    .responses
                    .entry(status.to_string())
                    .or_insert_with(|| problem(standard_description(status)).into());
            }
        }
    }
}

/// Every response gets a description (OpenAPI requires one): where a handler documents a status
/// without saying more (`(status = 401, body = Problem, …)`), the standard one for that status.
struct ResponseDescriptions;

impl Modify for ResponseDescriptions {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        for operation in operations(openapi) {
            for (status, response) in &mut operation.responses.responses {
                if let utoipa::openapi::RefOr::T(response) = response {
                    if response.description.trim().is_empty() {
                        response.description = standard_description(status).to_string();
                    }
                }
            }
        }
    }
}

/// An operation that needs no token (sign-in, health) says so with an empty `security` list:
/// leaving it out would read as "whatever the document's default is".
struct PublicOperations;

impl Modify for PublicOperations {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        for operation in operations(openapi) {
            operation.security.get_or_insert_with(Vec::new);
        }
    }
}

/// An optional query parameter sent empty (`?range=`) is read as absent, as HTML forms send them:
/// `allowEmptyValue` says so. (`cursor=` is the exception: empty asks for cursor mode, and its
/// schema admits the empty string itself.) utoipa does not model the field, so it goes in as an
/// extension, which is written into the parameter object as it is.
struct EmptyQueryValues;

impl Modify for EmptyQueryValues {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        use utoipa::openapi::path::ParameterIn;
        use utoipa::openapi::Required;
        for operation in operations(openapi) {
            let parameters = operation.parameters.iter_mut().flatten();
            for parameter in parameters.filter_map(|p| match p {
                utoipa::openapi::RefOr::T(parameter) => Some(parameter),
                utoipa::openapi::RefOr::Ref(_) => None,
            }) {
                if parameter.parameter_in == ParameterIn::Query
                    && parameter.required == Required::False
                    && parameter.name != "cursor"
                {
                    parameter
                        .extensions
                        .get_or_insert_with(Default::default)
                        .insert("allowEmptyValue".into(), true.into());
                }
            }
        }
    }
}

/// The `type` of a problem document lists every problem type, and the headers that come with
/// some statuses are documented wherever those statuses are: `WWW-Authenticate` with 401,
/// `Retry-After` with 429 and 503.
struct ProblemTypes;

impl Modify for ProblemTypes {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        use utoipa::openapi::header::HeaderBuilder;
        use utoipa::openapi::schema::{Schema, Type};
        use utoipa::openapi::{ObjectBuilder, RefOr};
        let kinds: Vec<String> = crate::http::error::ApiError::every_kind()
            .iter()
            .map(|error| {
                let problem = error.problem();
                format!("- `{}` ({}, {})", problem.problem_type, problem.status, problem.title)
            })
            .collect();
        let described = format!(
            "A URI naming the kind of problem, stable for clients to match on. One of:\n\n{}",
            kinds.join("\n")
        );
        if let Some(components) = openapi.components.as_mut() {
            if let Some(RefOr::T(Schema::Object(problem))) = components.schemas.get_mut("Problem") {
                if let Some(RefOr::T(Schema::Object(field))) = problem.properties.get_mut("type") {
                    field.description = Some(described);
                }
            }
        }
        let header = |description: &str| {
            HeaderBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .description(Some(description))
                .build()
        };
        for operation in operations(openapi) {
            for (status, response) in &mut operation.responses.responses {
                let RefOr::T(response) = response else { continue };
                let (name, description) = match status.as_str() {
                    "401" => ("WWW-Authenticate", "`Bearer`: how to authenticate"),
                    "429" | "503" => ("Retry-After", "Seconds to wait before trying again"),
                    _ => continue,
                };
                response.headers.entry(name.to_string()).or_insert_with(|| RefOr::T(header(description)));
            }
        }
    }
}

/// Every operation of the document.
fn operations(openapi: &mut OpenApiDoc) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    openapi.paths.paths.values_mut().flat_map(|item| {
        [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch]
            .into_iter()
            .flatten()
    })
}

/// An example request body and main response for each operation, taken from the demo tenant
/// (`examples.json`, by operation id: `request` for the JSON body, `response` for the first
/// successful JSON response, `responses` by media type for the others). `scripts/openapi-check`
/// holds every example to its schema.
struct Examples;

impl Modify for Examples {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        use serde_json::Value;
        use utoipa::openapi::RefOr;
        let examples: serde_json::Map<String, Value> =
            serde_json::from_str(include_str!("examples.json")).expect("examples.json is a JSON object");
        for operation in operations(openapi) {
            let Some(example) = operation.operation_id.as_ref().and_then(|id| examples.get(id)) else {
                continue;
            };
            if let (Some(RefOr::T(body)), Some(request)) =
                (operation.request_body.as_mut(), example.get("request"))
            {
                if let Some(RefOr::T(content)) = body.content.get_mut("application/json") {
                    content.example = Some(request.clone());
                }
            }
            let Some(success) =
                operation.responses.responses.iter_mut().find(|(status, _)| status.starts_with('2'))
            else {
                continue;
            };
            let RefOr::T(success) = success.1 else { continue };
            for (media_type, content) in success.content.iter_mut() {
                let RefOr::T(content) = content else { continue };
                let value = match media_type.as_str() {
                    "application/json" => example.get("response"),
                    other => example.get("responses").and_then(|r| r.get(other)),
                };
                if let Some(value) = value {
                    content.example = Some(value.clone());
                }
            }
        }
    }
}

/// The document as served at `/openapi.json` and written to `openapi.yaml`.
pub fn document() -> OpenApiDoc {
    let (_, doc) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .service(crate::http::health::healthz)
        .service(crate::http::health::readyz)
        .service(crate::http::health::metrics)
        .service(scope("/api/v1").configure(routes::configure))
        .split_for_parts();
    complete(doc)
}

/// Adds what can only be added once every handler's path is in the document.
pub fn complete(mut doc: OpenApiDoc) -> OpenApiDoc {
    CommonResponses.modify(&mut doc);
    ResponseDescriptions.modify(&mut doc);
    PublicOperations.modify(&mut doc);
    EmptyQueryValues.modify(&mut doc);
    Examples.modify(&mut doc);
    ProblemTypes.modify(&mut doc);
    doc
}

/// YAML text of the document, as checked in at the repository root.
pub fn yaml() -> Result<String, String> {
    let text = document().to_yaml().map_err(|e| format!("cannot render the OpenAPI document: {e}"))?;
    Ok(text.lines().map(quote_sexagesimal).collect::<Vec<_>>().join("\n") + "\n")
}

/// A plain scalar such as `20:00` is text in YAML 1.2 but the number 1200 in YAML 1.1, which
/// many tools still read (PyYAML among them): times of day are written quoted.
fn quote_sexagesimal(line: &str) -> std::borrow::Cow<'_, str> {
    let (head, value) = match line.rsplit_once(": ") {
        Some((head, value)) => (format!("{head}: "), value),
        None => match line.trim_start().strip_prefix("- ") {
            Some(value) => (line[..line.len() - value.len()].to_string(), value),
            None => return line.into(),
        },
    };
    let parts: Vec<&str> = value.split(':').collect();
    let sexagesimal = parts.len() >= 2
        && parts[0].len() <= 2
        && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && parts[1..].iter().all(|p| p.len() == 2);
    if sexagesimal {
        format!("{head}'{value}'").into()
    } else {
        line.into()
    }
}

#[cfg(test)]
mod tests {
    use super::quote_sexagesimal;

    #[test]
    fn times_of_day_are_quoted() {
        assert_eq!(quote_sexagesimal("          default: 20:00"), "          default: '20:00'");
        assert_eq!(quote_sexagesimal("          - 07:30"), "          - '07:30'");
        assert_eq!(quote_sexagesimal("  description: at 20:00 sharp"), "  description: at 20:00 sharp");
        assert_eq!(quote_sexagesimal("  example: 2026-12-07T20:00:00Z"), "  example: 2026-12-07T20:00:00Z");
        assert_eq!(quote_sexagesimal("  - 12"), "  - 12");
    }
}
