use actix_web::{get, post, web, HttpRequest, HttpResponse};
use auditlog_db::models::{Role, Tenant, User};
use auditlog_db::queries::users::{self, UserChanges};
use auditlog_db::queries::{sessions, throttle};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::{AuditEvent, RequestMeta};
use crate::auth::{
    dummy_hash, hash_password, password_problem, user_actor, verify_password, Caller, Principal,
};
use crate::error::{ApiError, FieldError, Problem};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The account's e-mail (case-insensitive).
    #[schema(example = "admin@acme.example")]
    pub email: String,
    /// The account's password.
    pub password: String,
    /// Tenant slug; needed only when the e-mail has accounts in several tenants.
    pub tenant: Option<String>,
}

/// A tenant (company account).
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantInfo {
    /// Tenant id.
    pub id: i64,
    /// Short unique name, e.g. `acme`.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// The business time zone (IANA), the default for date ranges and the dashboard's clock.
    #[schema(example = "Europe/London")]
    pub timezone: String,
}

/// A dashboard user.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserInfo {
    /// User id.
    pub id: i64,
    /// Login e-mail.
    pub email: String,
    /// Display name.
    pub name: String,
    pub role: RoleSchema,
    /// The `actor.id` that marks events as this user's own.
    pub actor_id: String,
    pub tenant: TenantInfo,
}

/// `admin`, `manager` or `member` (SPEC §3).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RoleSchema {
    Admin,
    Manager,
    Member,
}

impl From<Role> for RoleSchema {
    fn from(role: Role) -> Self {
        match role {
            Role::Admin => RoleSchema::Admin,
            Role::Manager => RoleSchema::Manager,
            Role::Member => RoleSchema::Member,
        }
    }
}

impl UserInfo {
    pub fn new(user: &User, tenant: &Tenant) -> Self {
        UserInfo {
            id: user.id,
            email: user.email.clone(),
            name: user.name.clone(),
            role: user.role().into(),
            actor_id: user.actor_id.clone(),
            tenant: TenantInfo {
                id: tenant.id,
                slug: tenant.slug.clone(),
                name: tenant.name.clone(),
                timezone: tenant.timezone.clone(),
            },
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: i64,
    pub user: UserInfo,
}

/// Failed sign-ins allowed per account, and per IP, in one window before answering 429.
const ACCOUNT_FAILURE_LIMIT: i32 = 5;
const IP_FAILURE_LIMIT: i32 = 20;
const FAILURE_WINDOW: TimeDelta = TimeDelta::minutes(15);

/// Exchange e-mail and password for an access token.
///
/// Logged as `auth.login`, or `auth.login_failed` (with the e-mail tried) in the tenant of the
/// account. After 5 failures for one account, or 20 from one IP, within 15 minutes, sign-in answers
/// 429 with `Retry-After` until the window ends.
#[utoipa::path(operation_id = "login", tag = "auth", request_body = LoginRequest, responses(
    (status = 200, body = LoginResponse),
    (status = 401, description = "Wrong e-mail or password", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "The e-mail has accounts in several tenants and no tenant was given", body = Problem, content_type = "application/problem+json"),
    (status = 429, description = "Too many failed attempts", body = Problem, content_type = "application/problem+json",
        headers(("Retry-After" = String, description = "Seconds until sign-in is allowed again"))),
))]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let LoginRequest { email, password, tenant } = body.into_inner();
    let email = email.trim().to_lowercase();
    // No account has such an address, and PostgreSQL cannot even compare text holding NUL.
    if email.chars().any(char::is_control) {
        return Err(ApiError::validation(
            "/email: not an e-mail address",
            vec![FieldError::new("/email", "not an e-mail address")],
        ));
    }
    let request = RequestMeta::from_request(&req, &state.settings.trusted_proxies);
    let account_key = format!("account:{email}");
    let ip_key = format!("ip:{}", request.ip.as_deref().unwrap_or("unknown"));

    let (keys, lookup) = ((account_key.clone(), ip_key.clone()), email.clone());
    let candidates = state
        .db(move |conn| {
            let now = Utc::now().naive_utc();
            let blocks = [
                throttle::blocked_until(conn, &keys.0, ACCOUNT_FAILURE_LIMIT, FAILURE_WINDOW, now)?,
                throttle::blocked_until(conn, &keys.1, IP_FAILURE_LIMIT, FAILURE_WINDOW, now)?,
            ];
            if let Some(until) = blocks.into_iter().flatten().max() {
                return Err(ApiError::TooManyRequests {
                    retry_after: (until - now).num_seconds().max(1) as u64,
                });
            }
            Ok(users::find_active_by_email(conn, &lookup)?)
        })
        .await?;
    let candidates: Vec<_> =
        candidates.into_iter().filter(|(_, t)| tenant.as_deref().is_none_or(|slug| t.slug == slug)).collect();
    if candidates.len() > 1 {
        return Err(ApiError::validation(
            "this e-mail has accounts in several tenants: add `tenant` (the tenant's slug)",
            vec![FieldError::new("/tenant", "required: the e-mail has accounts in several tenants")],
        ));
    }
    // Verify against a dummy hash when there is no such account, so both cases take as long.
    let hash =
        candidates.first().map(|(u, _)| u.password_hash.clone()).unwrap_or_else(|| dummy_hash().to_string());
    let verified = web::block(move || verify_password(&password, &hash))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let account = candidates.into_iter().next();

    match account {
        Some((user, tenant)) if verified => {
            let access_token = state.keys.issue(&user)?;
            let (logged_user, tenant_id) = (user.clone(), tenant.id);
            state
                .db(move |conn| {
                    throttle::clear(conn, &account_key)?;
                    let request = request.by(format!("user:{}", logged_user.id));
                    AuditEvent::new("auth.login", user_actor(&logged_user))
                        .meta("method", "password")
                        .record(conn, tenant_id, &request)
                        .map(|_| ())
                })
                .await?;
            Ok(HttpResponse::Ok().json(LoginResponse {
                access_token,
                token_type: "Bearer",
                expires_in: state.keys.ttl_seconds(),
                user: UserInfo::new(&user, &tenant),
            }))
        }
        account => {
            state
                .db(move |conn| {
                    let now = Utc::now().naive_utc();
                    throttle::record_failure(conn, &account_key, FAILURE_WINDOW, now)?;
                    throttle::record_failure(conn, &ip_key, FAILURE_WINDOW, now)?;
                    // Only an existing account has a tenant whose trail can hold the attempt.
                    if let Some((user, tenant)) = account {
                        AuditEvent::new("auth.login_failed", user_actor(&user))
                            .meta("email", email)
                            .meta("reason", "wrong_password")
                            .record(conn, tenant.id, &request)?;
                    }
                    Ok(())
                })
                .await?;
            Err(ApiError::Unauthorized("wrong e-mail or password".into()))
        }
    }
}

/// The signed-in user.
#[utoipa::path(operation_id = "getCurrentUser", tag = "auth", security(("bearer" = [])), responses(
    (status = 200, body = UserInfo),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "Called with an API token", body = Problem, content_type = "application/problem+json"),
))]
#[get("/auth/me")]
pub async fn me(caller: Caller) -> Result<web::Json<UserInfo>, ApiError> {
    Ok(web::Json(UserInfo::new(caller.user()?, &caller.tenant)))
}

/// Sign out: the access token is revoked for good (also across restarts). Logged as `auth.logout`.
#[utoipa::path(operation_id = "logout", tag = "auth", security(("bearer" = [])), responses(
    (status = 204, description = "Signed out"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
))]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let Principal::User { user, claims } = caller.principal else {
        return Err(ApiError::Forbidden("API tokens are revoked with DELETE /tokens/{id}".into()));
    };
    let request =
        RequestMeta::from_request(&req, &state.settings.trusted_proxies).by(format!("user:{}", user.id));
    let tenant_id = caller.tenant.id;
    state
        .db(move |conn| {
            let expires = DateTime::from_timestamp(claims.exp, 0).unwrap_or_default().naive_utc();
            sessions::revoke(conn, tenant_id, &claims.jti, expires, Utc::now().naive_utc())?;
            AuditEvent::new("auth.logout", user_actor(&user)).record(conn, tenant_id, &request).map(|_| ())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// The password in use now.
    pub current_password: String,
    /// 10 to 128 characters, 4 of them different, not the e-mail address.
    #[schema(min_length = 10, max_length = 128)]
    pub new_password: String,
}

/// Change the signed-in user's password. Logged as `auth.password_changed`.
#[utoipa::path(operation_id = "changePassword", tag = "auth", security(("bearer" = [])), request_body = PasswordChange, responses(
    (status = 204, description = "Changed"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Current password wrong, or the new one too weak", body = Problem, content_type = "application/problem+json"),
))]
#[post("/auth/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: web::Json<PasswordChange>,
) -> Result<HttpResponse, ApiError> {
    let user = caller.user()?.clone();
    let PasswordChange { current_password, new_password } = body.into_inner();
    // Every problem at once: the current password and the new one are checked independently.
    let (hash, current) = (user.password_hash.clone(), current_password.clone());
    let verified = web::block(move || verify_password(&current, &hash))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let mut errors = Vec::new();
    if !verified {
        errors.push(FieldError::new("/current_password", "not correct"));
    }
    if let Some(problem) = password_problem(&new_password, &user.email) {
        errors.push(FieldError::new("/new_password", problem));
    } else if current_password == new_password {
        errors.push(FieldError::new("/new_password", "same as the current password"));
    }
    ApiError::check_fields(errors)?;
    let new_hash = web::block(move || hash_password(&new_password))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .map_err(ApiError::internal)?;
    let request = RequestMeta::from_request(&req, &state.settings.trusted_proxies).by(caller.submitter());
    let tenant_id = caller.tenant.id;
    state
        .db(move |conn| {
            let changes = UserChanges { password_hash: Some(new_hash), ..Default::default() };
            users::update(conn, tenant_id, user.id, &changes)?;
            AuditEvent::new("auth.password_changed", user_actor(&user))
                .record(conn, tenant_id, &request)
                .map(|_| ())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
