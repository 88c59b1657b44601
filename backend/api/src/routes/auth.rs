use actix_web::{get, post, web, HttpResponse};
use auditlog_db::models::{Role, Tenant, User};
use auditlog_db::queries::users;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{dummy_hash, verify_password, AuthUser};
use crate::error::{ApiError, Problem};
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
#[derive(Debug, Serialize, ToSchema)]
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

/// Exchange e-mail and password for an access token.
#[utoipa::path(operation_id = "login", tag = "auth", request_body = LoginRequest, responses(
    (status = 200, body = LoginResponse),
    (status = 401, description = "Wrong e-mail or password", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "The e-mail has accounts in several tenants and no tenant was given", body = Problem, content_type = "application/problem+json"),
))]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let LoginRequest {
        email,
        password,
        tenant,
    } = body.into_inner();
    let email = email.trim().to_lowercase();
    let candidates = state
        .db(move |conn| Ok(users::find_active_by_email(conn, &email)?))
        .await?;
    let candidates: Vec<_> = candidates
        .into_iter()
        .filter(|(_, t)| tenant.as_deref().is_none_or(|slug| t.slug == slug))
        .collect();
    if candidates.len() > 1 {
        return Err(ApiError::validation(
            "this e-mail has accounts in several tenants: add `tenant` (the tenant's slug)",
            Vec::new(),
        ));
    }
    // Verify against a dummy hash when there is no such account, so both cases take as long.
    let (hash, found) = match candidates.first() {
        Some((user, _)) => (user.password_hash.clone(), true),
        None => (dummy_hash().to_string(), false),
    };
    let verified = web::block(move || verify_password(&password, &hash))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let Some((user, tenant)) = candidates.into_iter().next().filter(|_| found && verified) else {
        return Err(ApiError::Unauthorized("wrong e-mail or password".into()));
    };
    let access_token = state.keys.issue(&user)?;
    Ok(HttpResponse::Ok().json(LoginResponse {
        access_token,
        token_type: "Bearer",
        expires_in: state.keys.ttl_seconds(),
        user: UserInfo::new(&user, &tenant),
    }))
}

/// The signed-in user.
#[utoipa::path(operation_id = "getCurrentUser", tag = "auth", security(("bearer" = [])), responses(
    (status = 200, body = UserInfo),
    (status = 401, body = Problem, content_type = "application/problem+json"),
))]
#[get("/auth/me")]
pub async fn me(auth: AuthUser) -> web::Json<UserInfo> {
    web::Json(UserInfo::new(&auth.user, &auth.tenant))
}
