//! Who is calling: the [`Caller`] extractor through which every authenticated request learns it,
//! from a dashboard access token or an integrator's API token, checked again on every use.
//! Passwords, access tokens and API secrets themselves are [`credentials`].

use auditlog_db::TenantId;
use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use auditlog_db::models::{Actor, ApiToken, Role, Scope, Tenant, User};
use auditlog_db::queries::{api_tokens, users};
use auditlog_db::visibility::{FieldVisibility, Viewer};
use chrono::Utc;

use crate::http::error::ApiError;
use crate::http::origin::RequestMeta;
use crate::http::state::AppState;

pub mod credentials;

pub use credentials::{
    api_token_text, dummy_hash, hash_password, new_api_secret, password_problem, verify_password, Claims,
    JwtKeys, API_TOKEN_PREFIX,
};
use credentials::{constant_time_eq, secret_hash, LEEWAY_SECONDS};

/// Who is calling.
#[derive(Debug, Clone)]
pub enum Principal {
    /// A dashboard user with a session token.
    User { user: User, claims: Claims },
    /// An integrator's API token.
    Token(ApiToken),
}

/// The authenticated caller, always of exactly one tenant.
#[derive(Debug, Clone)]
pub struct Caller {
    pub tenant: Tenant,
    pub principal: Principal,
    /// Where the request came from (IP, user agent), for the events it causes.
    origin: RequestMeta,
}

impl Caller {
    /// The dashboard user, or 403 for API tokens.
    pub fn user(&self) -> Result<&User, ApiError> {
        match &self.principal {
            Principal::User { user, .. } => Ok(user),
            Principal::Token(_) => {
                Err(ApiError::Forbidden("API tokens cannot do this; sign in as a user".into()))
            }
        }
    }

    /// The session's claims, or 403 for API tokens.
    pub fn session(&self) -> Result<&Claims, ApiError> {
        match &self.principal {
            Principal::User { claims, .. } => Ok(claims),
            Principal::Token(_) => {
                Err(ApiError::Forbidden("API tokens download exports directly; sign in as a user".into()))
            }
        }
    }

    pub fn require_admin(&self) -> Result<&User, ApiError> {
        let user = self.user()?;
        if user.role() == Role::Admin {
            Ok(user)
        } else {
            Err(ApiError::Forbidden(format!("only admins may do this (you are a {})", user.role())))
        }
    }

    /// May post events: admins, and tokens with `events:write`.
    pub fn require_event_writer(&self) -> Result<(), ApiError> {
        match &self.principal {
            Principal::Token(token) if token.has_scope(Scope::EventsWrite) => Ok(()),
            Principal::Token(_) => {
                Err(ApiError::Forbidden("this API token lacks the events:write scope".into()))
            }
            Principal::User { .. } => self.require_admin().map(|_| ()),
        }
    }

    /// The reader for the visibility rule, with the fields the tenant hides from their role as
    /// the tenant was read for this request. A token with `events:read` reads as a manager would.
    pub fn viewer(&self) -> Result<Viewer, ApiError> {
        let fields = FieldVisibility::from_stored(self.tenant.field_visibility.as_deref());
        match &self.principal {
            Principal::User { user, .. } => Ok(Viewer {
                tenant_id: self.tenant.id,
                role: user.role(),
                actor_id: user.actor_id.clone(),
                fields,
            }),
            Principal::Token(token) if token.has_scope(Scope::EventsRead) => Ok(Viewer {
                tenant_id: self.tenant.id,
                role: Role::Manager,
                actor_id: token_actor_id(token),
                fields,
            }),
            Principal::Token(_) => {
                Err(ApiError::Forbidden("this API token lacks the events:read scope".into()))
            }
        }
    }

    /// Who submits what this caller posts: `user:<id>` or `token:<id>`.
    pub fn submitter(&self) -> String {
        match &self.principal {
            Principal::User { user, .. } => format!("user:{}", user.id),
            Principal::Token(token) => format!("token:{}", token.id),
        }
    }

    /// This request as the events it causes record it: where it came from, submitted by the caller.
    pub fn request(&self) -> RequestMeta {
        self.origin.clone().by(self.submitter())
    }

    /// The actor recorded for events this caller causes, or posts without naming one.
    pub fn actor(&self) -> Actor {
        match &self.principal {
            Principal::User { user, .. } => user_actor(user),
            Principal::Token(token) => Actor {
                id: token_actor_id(token),
                name: token.name.clone(),
                email: None,
                role: None,
                actor_type: "api".into(),
            },
        }
    }
}

fn token_actor_id(token: &ApiToken) -> String {
    format!("token:{}", token.id)
}

/// The actor of events a dashboard user causes.
pub fn user_actor(user: &User) -> Actor {
    Actor {
        id: user.actor_id.clone(),
        name: user.name.clone(),
        email: Some(user.email.clone()),
        role: Some(user.role().as_str().to_string()),
        actor_type: "user".into(),
    }
}

fn bearer_token(req: &HttpRequest) -> Result<String, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::Unauthorized("missing Authorization: Bearer token".into()))?;
    let value =
        value.to_str().map_err(|_| ApiError::Unauthorized("malformed Authorization header".into()))?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            Ok(token.trim().to_string())
        }
        _ => Err(ApiError::Unauthorized("the Authorization header must be `Bearer <token>`".into())),
    }
}

async fn authenticate(state: &AppState, token: String, origin: RequestMeta) -> Result<Caller, ApiError> {
    if let Some(rest) = token.strip_prefix(API_TOKEN_PREFIX) {
        let invalid = || ApiError::Unauthorized("invalid API token".into());
        let mut parts = rest.splitn(3, '_');
        let tenant_id: TenantId = parts.next().and_then(|p| p.parse().ok()).ok_or_else(invalid)?;
        let id: i64 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(invalid)?;
        let secret = parts.next().ok_or_else(invalid)?.to_string();
        return state
            .db(move |conn| {
                let (token, tenant) = api_tokens::with_tenant(conn, tenant_id, id).map_err(|_| invalid())?;
                if !constant_time_eq(&secret_hash(&secret), &token.secret_hash) {
                    return Err(invalid());
                }
                let now = Utc::now().naive_utc();
                let caller = token_caller(token, tenant, now, origin)?;
                if let Principal::Token(token) = &caller.principal {
                    api_tokens::touch(conn, token, now)?;
                }
                Ok(caller)
            })
            .await;
    }
    let claims = state.keys.verify(&token)?;
    state.db(move |conn| user_caller(conn, claims, origin)).await
}

/// The caller of a session as the database says now (for a download link, which carries the
/// session it was made in): refused as a request with the session's token would be.
pub async fn session_caller(state: &AppState, claims: Claims, req: &HttpRequest) -> Result<Caller, ApiError> {
    let origin = RequestMeta::from_request(req, &state.settings.trusted_proxies);
    state.db(move |conn| user_caller(conn, claims, origin)).await
}

/// The caller of an API token as stored now, or why it may no longer call.
fn token_caller(
    token: ApiToken,
    tenant: Tenant,
    now: chrono::NaiveDateTime,
    origin: RequestMeta,
) -> Result<Caller, ApiError> {
    if !token.is_live(now) {
        return Err(ApiError::Unauthorized("this API token is revoked or expired".into()));
    }
    Ok(Caller { tenant, principal: Principal::Token(token), origin })
}

/// The caller of a session as stored now, or why the session no longer holds: signed out,
/// expired, the account deactivated, or its epoch moved (a password change, a deactivation).
fn user_caller(
    conn: &mut auditlog_db::DbConnection,
    claims: Claims,
    origin: RequestMeta,
) -> Result<Caller, ApiError> {
    let user_id: auditlog_db::UserId =
        claims.sub.parse().map_err(|_| ApiError::Unauthorized("invalid access token subject".into()))?;
    let (user, tenant, signed_out) = users::signed_in(conn, claims.tenant, user_id, &claims.jti)?
        .ok_or_else(|| ApiError::Unauthorized("the token's user does not exist".into()))?;
    if signed_out {
        return Err(ApiError::Unauthorized("this session has been signed out".into()));
    }
    if !user.active {
        return Err(ApiError::Unauthorized("this account is deactivated".into()));
    }
    if claims.epoch != user.session_epoch {
        return Err(ApiError::Unauthorized(
            "this session has ended: the password was changed or the account deactivated since; sign in again".into(),
        ));
    }
    if claims.exp + LEEWAY_SECONDS as i64 <= Utc::now().timestamp() {
        return Err(ApiError::Unauthorized("this session has expired; sign in again".into()));
    }
    Ok(Caller { tenant, principal: Principal::User { user, claims }, origin })
}

impl Caller {
    /// The caller as the database says now: for a long-lived request (a stream), which must stop
    /// as soon as a sign-out, a revocation, a deactivation, an expiry or a password change ends
    /// what the request started with. A changed role or scope is the caller's to compare.
    pub fn recheck(&self, conn: &mut auditlog_db::DbConnection) -> Result<Caller, ApiError> {
        match &self.principal {
            Principal::User { claims, .. } => user_caller(conn, claims.clone(), self.origin.clone()),
            Principal::Token(token) => {
                let (token, tenant) = api_tokens::with_tenant(conn, self.tenant.id, token.id)
                    .map_err(|_| ApiError::Unauthorized("this API token no longer exists".into()))?;
                token_caller(token, tenant, Utc::now().naive_utc(), self.origin.clone())
            }
        }
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req);
        let origin =
            state.as_ref().map(|state| RequestMeta::from_request(req, &state.settings.trusted_proxies));
        Box::pin(async move {
            let (state, origin) =
                state.zip(origin).ok_or_else(|| ApiError::internal("application state missing"))?;
            authenticate(&state, token?, origin).await
        })
    }
}

/// A caller who is a signed-in admin: an operation that takes one refuses anyone else (403)
/// before it reads its body or parameters. Reads as the [`Caller`] it is.
pub struct Admin {
    caller: Caller,
    user: User,
}

impl Admin {
    /// The admin's user row.
    pub fn user(&self) -> &User {
        &self.user
    }
}

impl std::ops::Deref for Admin {
    type Target = Caller;

    fn deref(&self) -> &Caller {
        &self.caller
    }
}

impl FromRequest for Admin {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let caller = Caller::from_request(req, payload);
        Box::pin(async move {
            let caller = caller.await?;
            let user = caller.require_admin()?.clone();
            Ok(Admin { caller, user })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_passwords_are_refused() {
        assert!(password_problem("short", "a@b.c").is_some());
        assert!(password_problem("aaaaaaaaaaaa", "a@b.c").is_some());
        assert!(password_problem("ann.lee@example.com", "ann.lee@example.com").is_some());
        assert!(password_problem("ann.lee.ann", "ann.lee.ann@example.com").is_some());
        assert_eq!(password_problem("correct horse battery", "a@b.c"), None);
    }

    #[test]
    fn api_secrets_are_random_and_only_their_hash_matches() {
        let (a, hash_a) = new_api_secret();
        let (b, _) = new_api_secret();
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert!(constant_time_eq(&secret_hash(&a), &hash_a));
        assert!(!constant_time_eq(&secret_hash(&b), &hash_a));
    }
}
