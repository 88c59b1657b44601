//! Password hashing, JWT issue and verification, and the [`AuthUser`] extractor through which
//! every authenticated request learns who is calling.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use auditlog_db::models::{Actor, Role, Tenant, User};
use auditlog_db::queries::{tenants, users};
use auditlog_db::visibility::Viewer;
use chrono::Utc;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::state::AppState;

/// Seconds of clock skew tolerated on `exp`.
const LEEWAY_SECONDS: u64 = 30;

pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash password: {e}"))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash to verify against when the account does not exist, so that the answer takes as long.
pub fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("not-a-real-password").unwrap_or_default())
}

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: String,
    /// Tenant id.
    pub tenant: i64,
    /// Role at issue time (the stored role is authoritative on every request).
    pub role: Role,
    pub iat: i64,
    pub exp: i64,
    /// Unique token id, the handle for revocation.
    pub jti: String,
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_seconds: i64,
}

impl JwtKeys {
    pub fn new(secret: &[u8], ttl_seconds: i64) -> Self {
        // Only HS256 is accepted: `alg: none` and every other algorithm are rejected.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECONDS;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl_seconds,
        }
    }

    pub fn ttl_seconds(&self) -> i64 {
        self.ttl_seconds
    }

    pub fn issue(&self, user: &User) -> Result<String, ApiError> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: user.id.to_string(),
            tenant: user.tenant_id,
            role: user.role(),
            iat: now,
            exp: now + self.ttl_seconds,
            jti: uuid::Uuid::new_v4().to_string(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ApiError::internal(format!("cannot sign token: {e}")))
    }

    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| ApiError::Unauthorized(format!("invalid access token: {e}")))
    }
}

/// The authenticated caller: an active dashboard user of one tenant.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user: User,
    pub tenant: Tenant,
    pub claims: Claims,
}

impl AuthUser {
    pub fn role(&self) -> Role {
        self.user.role()
    }

    /// The reader for the visibility rule.
    pub fn viewer(&self) -> Viewer {
        Viewer {
            tenant_id: self.tenant.id,
            role: self.role(),
            actor_id: self.user.actor_id.clone(),
        }
    }

    /// The actor recorded for events this caller causes or posts without naming one.
    pub fn actor(&self) -> Actor {
        Actor {
            id: self.user.actor_id.clone(),
            name: self.user.name.clone(),
            email: Some(self.user.email.clone()),
            role: Some(self.role().as_str().to_string()),
            actor_type: "user".into(),
        }
    }

    pub fn require_role(&self, allowed: &[Role]) -> Result<(), ApiError> {
        if allowed.contains(&self.role()) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "the {} role may not do this",
                self.role()
            )))
        }
    }
}

fn bearer_token(req: &HttpRequest) -> Result<String, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::Unauthorized("missing Authorization: Bearer token".into()))?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::Unauthorized("malformed Authorization header".into()))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim().to_string())
        }
        _ => Err(ApiError::Unauthorized(
            "the Authorization header must be `Bearer <token>`".into(),
        )),
    }
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("application state missing"))?;
            let claims = state.keys.verify(&token?)?;
            let user_id: i64 = claims
                .sub
                .parse()
                .map_err(|_| ApiError::Unauthorized("invalid access token subject".into()))?;
            let tenant_id = claims.tenant;
            let (user, tenant) = state
                .db(move |conn| {
                    let user = users::get(conn, tenant_id, user_id)?;
                    let tenant = tenants::get(conn, tenant_id)?;
                    Ok((user, tenant))
                })
                .await
                .map_err(|e| match e {
                    ApiError::NotFound(_) => {
                        ApiError::Unauthorized("the token's user no longer exists".into())
                    }
                    other => other,
                })?;
            if !user.active {
                return Err(ApiError::Unauthorized("this account is deactivated".into()));
            }
            Ok(AuthUser {
                user,
                tenant,
                claims,
            })
        })
    }
}
