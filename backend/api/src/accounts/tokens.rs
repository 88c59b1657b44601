//! Integrator API tokens of the caller's tenant (admins only).

use actix_web::{delete, get, post, web};
use auditlog_db::models::{ApiToken, Scope};
use auditlog_db::queries::api_tokens::{self, NewApiToken};
use auditlog_db::StoreError;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::AuditEvent;
use crate::auth::{api_token_text, new_api_secret, Admin};
use crate::http::error::{AdminOnly, ApiError, FieldError, NotFound};
use crate::http::json::StrictJson;
use crate::http::reply::{Created, NoContent};
use crate::http::state::AppState;
use crate::text::text_type;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum ScopeSchema {
    /// Post events.
    #[serde(rename = "events:write")]
    EventsWrite,
    /// Read events as a manager would.
    #[serde(rename = "events:read")]
    EventsRead,
}

impl From<ScopeSchema> for Scope {
    fn from(s: ScopeSchema) -> Self {
        match s {
            ScopeSchema::EventsWrite => Scope::EventsWrite,
            ScopeSchema::EventsRead => Scope::EventsRead,
        }
    }
}

impl From<Scope> for ScopeSchema {
    fn from(s: Scope) -> Self {
        match s {
            Scope::EventsWrite => ScopeSchema::EventsWrite,
            Scope::EventsRead => ScopeSchema::EventsRead,
        }
    }
}

/// An API token, without its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenOut {
    /// Token id.
    pub id: i64,
    /// What the token is for, e.g. `CRM production`.
    pub name: String,
    pub scopes: Vec<ScopeSchema>,
    /// The admin who created it.
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
    /// When it stops working; null: never.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked; null: not revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Last use, to the minute.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<&ApiToken> for TokenOut {
    fn from(t: &ApiToken) -> Self {
        TokenOut {
            id: t.id,
            name: t.name.clone(),
            scopes: t.scopes().into_iter().map(Into::into).collect(),
            created_by: t.created_by.get(),
            created_at: t.created_at.and_utc(),
            expires_at: t.expires_at.map(|t| t.and_utc()),
            revoked_at: t.revoked_at.map(|t| t.and_utc()),
            last_used_at: t.last_used_at.map(|t| t.and_utc()),
        }
    }
}

/// The tenant's API tokens, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    /// Newest first, revoked ones included.
    pub items: Vec<TokenOut>,
}

text_type!(
    /// What an API token is for: 1 to 100 characters on one line.
    TokenName: NonBlankLine, 100
);

/// A new API token's name, scopes and optional expiry.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTokenRequest {
    /// What the token is for.
    pub name: TokenName,
    /// At least one scope.
    #[schema(min_items = 1)]
    pub scopes: Vec<ScopeSchema>,
    /// Lifetime in days (1–3650); omit for a token that does not expire.
    #[serde(default, deserialize_with = "crate::http::json::optional_integer")]
    #[schema(minimum = 1, maximum = 3650)]
    pub expires_in_days: Option<i64>,
}

/// A new API token, with its secret: shown in this response only.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    pub token: TokenOut,
    /// Send as `Authorization: Bearer <secret>`. Shown only now: only a hash is kept.
    pub secret: String,
}

/// The tenant's API tokens.
///
/// Every API token of the tenant, newest first, revoked ones included, with its scopes and when it
/// was last used. Secrets are never shown again after creation.
#[utoipa::path(operation_id = "listTokens", tag = "tokens", security(("bearer" = [])), responses(
    (status = 200, body = TokenList),
    AdminOnly,
))]
#[get("/tokens")]
pub async fn list(state: web::Data<AppState>, caller: Admin) -> Result<web::Json<TokenList>, ApiError> {
    let tenant_id = caller.tenant.id;
    let items = state.db(move |conn| Ok(api_tokens::list(conn, tenant_id)?)).await?;
    Ok(web::Json(TokenList { items: items.iter().map(TokenOut::from).collect() }))
}

/// Create an API token.
///
/// Creates a token with the given name and scopes; its secret is in this response only. Logged as
/// `token.created`.
#[utoipa::path(operation_id = "createToken", tag = "tokens", security(("bearer" = [])), request_body = NewTokenRequest, responses(
    (status = 201, body = CreatedToken),
    AdminOnly,
))]
#[post("/tokens")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Admin,
    body: StrictJson<NewTokenRequest>,
) -> Result<Created<CreatedToken>, ApiError> {
    let admin = caller.user().clone();
    let body = body.into_inner();
    let mut errors = Vec::new();
    let name = body.name.into_inner();
    if body.scopes.is_empty() {
        errors.push(FieldError::new("/scopes", "give at least one scope"));
    }
    if body.expires_in_days.is_some_and(|d| !(1..=3650).contains(&d)) {
        errors.push(FieldError::new("/expires_in_days", "must be between 1 and 3650"));
    }
    ApiError::check_fields(errors)?;
    let mut scopes: Vec<Scope> = body.scopes.into_iter().map(Into::into).collect();
    scopes.sort_by_key(|s| s.as_str());
    scopes.dedup();
    let now = Utc::now().naive_utc();
    let expires_at = body.expires_in_days.map(|d| now + TimeDelta::days(d));
    let (secret, secret_hash) = new_api_secret();
    let request = caller.request();
    let tenant_id = caller.tenant.id;
    let actor = caller.actor();
    let token = state
        .db(move |conn| {
            let token = api_tokens::create(
                conn,
                &NewApiToken {
                    tenant_id,
                    name: &name,
                    scopes: &scopes,
                    secret_hash: &secret_hash,
                    created_by: admin.id,
                    created_at: now,
                    expires_at,
                },
            )?;
            AuditEvent::new("token.created", actor)
                .on("token", token.id, Some(token.name.clone()))
                .meta("scopes", token.scopes.clone())
                .meta("expires_at", expires_at.map(|t| t.and_utc().to_rfc3339()))
                .record(conn, tenant_id, &request)?;
            Ok(token)
        })
        .await?;
    let secret = api_token_text(tenant_id, token.id, &secret);
    Ok(Created(CreatedToken { token: TokenOut::from(&token), secret }))
}

/// Revoke an API token.
///
/// Revokes the token for good: requests and open streams using it are refused from then on. Logged
/// as `token.revoked`.
#[utoipa::path(operation_id = "revokeToken", tag = "tokens", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Token id")), responses(
    (status = 204, description = "Revoked (or already was)"),
    AdminOnly,
    NotFound,
))]
#[delete("/tokens/{id}")]
pub async fn revoke(
    state: web::Data<AppState>,
    caller: Admin,
    id: web::Path<i64>,
) -> Result<NoContent, ApiError> {
    let id = id.into_inner();
    let request = caller.request();
    let tenant_id = caller.tenant.id;
    let actor = caller.actor();
    state
        .db(move |conn| {
            let token = api_tokens::get(conn, tenant_id, id).map_err(|e| match e {
                StoreError::NotFound => ApiError::NotFound(format!("token {id} not found")),
                other => other.into(),
            })?;
            if api_tokens::revoke(conn, tenant_id, id, Utc::now().naive_utc())? {
                AuditEvent::new("token.revoked", actor)
                    .on("token", token.id, Some(token.name))
                    .record(conn, tenant_id, &request)?;
            }
            Ok(())
        })
        .await?;
    Ok(NoContent)
}
