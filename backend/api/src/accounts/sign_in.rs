use actix_web::{get, post, web, HttpRequest};
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
use crate::http::error::{ApiError, FieldError, Problem};
use crate::http::json::StrictJson;
use crate::http::reply::NoContent;
use crate::http::state::AppState;

/// E-mail and password of a dashboard user.
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
            id: user.id.get(),
            email: user.email.clone(),
            name: user.name.clone(),
            role: user.role().into(),
            actor_id: user.actor_id.clone(),
            tenant: TenantInfo {
                id: tenant.id.get(),
                slug: tenant.slug.clone(),
                name: tenant.name.clone(),
                timezone: tenant.timezone.clone(),
            },
        }
    }
}

/// An access token and the user it signs in.
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

/// Sign-in attempts per account: 5, then a wait doubling from 1 minute up to an hour after each
/// further one; forgotten after a day without attempts or at a successful sign-in.
pub const ACCOUNT_POLICY: throttle::Policy = throttle::Policy {
    free: 5,
    base_delay: TimeDelta::minutes(1),
    max_delay: TimeDelta::hours(1),
    forget_after: TimeDelta::hours(24),
};
/// Failed sign-ins per IP (whatever the account): 20, then a wait doubling from 1 minute up to
/// 15 minutes; forgotten after an hour without failures.
pub const IP_POLICY: throttle::Policy = throttle::Policy {
    free: 20,
    base_delay: TimeDelta::minutes(1),
    max_delay: TimeDelta::minutes(15),
    forget_after: TimeDelta::hours(1),
};

/// The throttle keys of one guess: the IP's, and one per account it is tried against.
struct Guess {
    ip: String,
    accounts: Vec<String>,
}

impl Guess {
    /// Reserves every key, or none: the first blocked key releases the others and answers 429.
    fn reserve(&self, conn: &mut auditlog_db::DbConnection) -> Result<(), ApiError> {
        let now = Utc::now().naive_utc();
        let keys =
            std::iter::once((&self.ip, &IP_POLICY)).chain(self.accounts.iter().map(|k| (k, &ACCOUNT_POLICY)));
        let mut reserved = Vec::new();
        for (key, policy) in keys {
            match throttle::reserve(conn, key, policy, now)? {
                throttle::Reserved::Yes => reserved.push(key),
                throttle::Reserved::Blocked(until) => {
                    for key in reserved {
                        throttle::release(conn, key)?;
                    }
                    return Err(ApiError::throttled((until - now).num_seconds().max(1) as u64));
                }
            }
        }
        Ok(())
    }
}

/// The throttle key of an account: its own streak from an address it signed in from before
/// (strangers' failures cannot lock it out there), else the account's.
fn account_key(
    conn: &mut auditlog_db::DbConnection,
    user: &User,
    ip: Option<&str>,
) -> Result<String, ApiError> {
    let now = Utc::now().naive_utc();
    Ok(match ip {
        Some(ip) if throttle::is_known_address(conn, user.tenant_id, user.id, ip, now)? => {
            format!("account:{}@{ip}", user.id)
        }
        _ => format!("account:{}", user.id),
    })
}

/// Exchange e-mail and password for an access token.
///
/// Logged as `auth.login`, or `auth.login_failed` (with the e-mail tried) in the tenant of each
/// account the e-mail names. Every attempt is counted before the password is checked, so parallel
/// guesses never exceed the limits: 5 attempts per account, then a wait that doubles from 1 minute
/// up to 1 hour after each further one (a success ends the streak; an address the account signed
/// in from before has a streak of its own, so strangers cannot lock its owner out); 20 failures
/// per IP, then a wait doubling from 1 to 15 minutes. Beyond a limit sign-in answers 429 with
/// `Retry-After`. When the e-mail has accounts in several tenants, the password is checked against
/// each, and only a caller whose password matched more than one hears of the ambiguity (422).
#[utoipa::path(operation_id = "login", tag = "auth", request_body = LoginRequest, responses(
    (status = 200, body = LoginResponse),
    (status = 401, description = "Wrong e-mail or password", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "The password is right for accounts in several tenants and no tenant was given", body = Problem, content_type = "application/problem+json"),
    (status = 429, description = "Too many attempts", body = Problem, content_type = "application/problem+json",
        headers(("Retry-After" = String, description = "Seconds until sign-in is allowed again"))),
))]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: StrictJson<LoginRequest>,
) -> Result<web::Json<LoginResponse>, ApiError> {
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
    let ip = request.ip.clone();

    let lookup = email.clone();
    let (candidates, guess) = state
        .db(move |conn| {
            let candidates: Vec<(User, Tenant)> = users::find_active_by_email(conn, &lookup)?
                .into_iter()
                .filter(|(_, t)| tenant.as_deref().is_none_or(|slug| t.slug == slug))
                .collect();
            let accounts = if candidates.is_empty() {
                // An unknown address throttles exactly as a known one, so 429s tell nothing.
                vec![format!("email:{lookup}")]
            } else {
                candidates
                    .iter()
                    .map(|(user, _)| account_key(conn, user, ip.as_deref()))
                    .collect::<Result<_, _>>()?
            };
            let guess = Guess { ip: format!("ip:{}", ip.as_deref().unwrap_or("unknown")), accounts };
            guess.reserve(conn)?;
            Ok((candidates, guess))
        })
        .await
        .inspect_err(|e| {
            if matches!(e, ApiError::TooManyRequests { .. }) {
                state.metrics.sign_in_throttled();
            }
        })?;

    // Check the password against every candidate (or a dummy hash when there is none, so both
    // cases take as long) before saying anything about them.
    let hashes: Vec<String> = if candidates.is_empty() {
        vec![dummy_hash().to_string()]
    } else {
        candidates.iter().map(|(u, _)| u.password_hash.clone()).collect()
    };
    let verified =
        web::block(move || hashes.iter().map(|hash| verify_password(&password, hash)).collect::<Vec<_>>())
            .await
            .map_err(|e| ApiError::internal(e.to_string()))?;
    let matched: Vec<usize> = (0..candidates.len()).filter(|i| verified[*i]).collect();

    if matched.len() > 1 {
        // Proven, but ambiguous: nobody failed, so every attempt is given back.
        state
            .db(move |conn| {
                throttle::release(conn, &guess.ip)?;
                for key in &guess.accounts {
                    throttle::release(conn, key)?;
                }
                Ok(())
            })
            .await?;
        return Err(ApiError::validation(
            "this e-mail and password open accounts in several tenants: add `tenant` (the tenant's slug)",
            vec![FieldError::new("/tenant", "required: the e-mail has accounts in several tenants")],
        ));
    }
    if let [index] = matched[..] {
        let (user, tenant) = candidates[index].clone();
        let access_token = state.keys.issue(&user)?;
        let (logged_user, tenant_id) = (user.clone(), tenant.id);
        state
            .db(move |conn| {
                let now = Utc::now().naive_utc();
                throttle::release(conn, &guess.ip)?;
                for (i, key) in guess.accounts.iter().enumerate() {
                    if i == index {
                        throttle::succeeded(conn, key)?;
                    } else {
                        throttle::release(conn, key)?;
                    }
                }
                if let Some(ip) = &request.ip {
                    throttle::remember_address(conn, tenant_id, logged_user.id, ip, now)?;
                }
                users::record_sign_in(conn, logged_user.id, now)?;
                let request = request.by(format!("user:{}", logged_user.id));
                AuditEvent::new("auth.login", user_actor(&logged_user))
                    .meta("method", "password")
                    .record(conn, tenant_id, &request)
                    .map(|_| ())
            })
            .await?;
        return Ok(web::Json(LoginResponse {
            access_token,
            token_type: "Bearer",
            expires_in: state.keys.ttl_seconds(),
            user: UserInfo::new(&user, &tenant),
        }));
    }
    // A failure: the reserved attempts stay counted; each account's trail holds it.
    state
        .db(move |conn| {
            for (user, tenant) in &candidates {
                AuditEvent::new("auth.login_failed", user_actor(user))
                    .meta("email", email.clone())
                    .meta("reason", "wrong_password")
                    .record(conn, tenant.id, &request)?;
            }
            Ok(())
        })
        .await?;
    Err(ApiError::Unauthorized("wrong e-mail or password".into()))
}

/// The signed-in user.
///
/// The caller's own account: name, e-mail, role and actor id. An API token has no user: 403.
#[utoipa::path(operation_id = "getCurrentUser", tag = "auth", security(("bearer" = [])), responses(
    (status = 200, body = UserInfo),
    (status = 403, description = "Called with an API token", body = Problem, content_type = "application/problem+json"),
))]
#[get("/auth/me")]
pub async fn me(caller: Caller) -> Result<web::Json<UserInfo>, ApiError> {
    Ok(web::Json(UserInfo::new(caller.user()?, &caller.tenant)))
}

/// Sign out.
///
/// Revokes the access token the request carries, for good (also across restarts); other sessions
/// of the same user stay signed in. Logged as `auth.logout`.
#[utoipa::path(operation_id = "logout", tag = "auth", security(("bearer" = [])), responses(
    (status = 204, description = "Signed out"),
))]
#[post("/auth/logout")]
pub async fn logout(state: web::Data<AppState>, caller: Caller) -> Result<NoContent, ApiError> {
    let request = caller.request();
    let Principal::User { user, claims } = caller.principal else {
        return Err(ApiError::Forbidden("API tokens are revoked with DELETE /tokens/{id}".into()));
    };
    let tenant_id = caller.tenant.id;
    state
        .db(move |conn| {
            let expires = DateTime::from_timestamp(claims.exp, 0).unwrap_or_default().naive_utc();
            sessions::revoke(conn, tenant_id, &claims.jti, expires, Utc::now().naive_utc())?;
            AuditEvent::new("auth.logout", user_actor(&user)).record(conn, tenant_id, &request).map(|_| ())
        })
        .await?;
    Ok(NoContent)
}

/// The current password and the new one.
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
///
/// Every other session of the user ends; this one is re-issued: the answer carries a new access
/// token to use from now on (the one this request came with stops working). A wrong
/// `current_password` is logged as `auth.password_change_failed` and throttled as sign-in is:
/// 5 attempts, then a wait doubling from 1 minute up to 1 hour after each further one (429 with
/// `Retry-After`).
#[utoipa::path(operation_id = "changePassword", tag = "auth", security(("bearer" = [])), request_body = PasswordChange, responses(
    (status = 200, description = "Changed; the new access token replaces this session's", body = LoginResponse),
    (status = 422, description = "Current password wrong, or the new one too weak", body = Problem, content_type = "application/problem+json"),
    (status = 429, description = "Too many wrong current passwords", body = Problem, content_type = "application/problem+json",
        headers(("Retry-After" = String, description = "Seconds until the next attempt is allowed"))),
))]
#[post("/auth/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    caller: Caller,
    body: StrictJson<PasswordChange>,
) -> Result<web::Json<LoginResponse>, ApiError> {
    let user = caller.user()?.clone();
    let PasswordChange { current_password, new_password } = body.into_inner();
    let key = format!("password:{}", user.id);
    let reserve_key = key.clone();
    state
        .db(move |conn| {
            let now = Utc::now().naive_utc();
            match throttle::reserve(conn, &reserve_key, &ACCOUNT_POLICY, now)? {
                throttle::Reserved::Yes => Ok(()),
                throttle::Reserved::Blocked(until) => {
                    Err(ApiError::throttled((until - now).num_seconds().max(1) as u64))
                }
            }
        })
        .await?;
    // Every problem at once: the current password and the new one are checked independently.
    let (hash, current) = (user.password_hash.clone(), current_password.clone());
    let verified = web::block(move || verify_password(&current, &hash))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let request = caller.request();
    let tenant_id = caller.tenant.id;
    if !verified {
        let (failed_user, failed_request) = (user.clone(), request.clone());
        state
            .db(move |conn| {
                AuditEvent::new("auth.password_change_failed", user_actor(&failed_user))
                    .meta("reason", "wrong_password")
                    .record(conn, tenant_id, &failed_request)
                    .map(|_| ())
            })
            .await?;
    } else {
        let key = key.clone();
        state.db(move |conn| Ok(throttle::succeeded(conn, &key)?)).await?;
    }
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
    let changed = state
        .db(move |conn| {
            let changes = UserChanges { password_hash: Some(new_hash), ..Default::default() };
            let (_, after) = users::update(conn, tenant_id, user.id, &changes)?;
            AuditEvent::new("auth.password_changed", user_actor(&user)).record(conn, tenant_id, &request)?;
            Ok(after)
        })
        .await?;
    Ok(web::Json(LoginResponse {
        access_token: state.keys.issue(&changed)?,
        token_type: "Bearer",
        expires_in: state.keys.ttl_seconds(),
        user: UserInfo::new(&changed, &caller.tenant),
    }))
}
