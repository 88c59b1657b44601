//! Credentials: password hashing and its rules, dashboard access tokens (JWT), and integrator API
//! token secrets.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use auditlog_db::models::{Role, User};
use auditlog_db::TenantId;
use chrono::Utc;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::http::error::ApiError;

/// Seconds of clock skew tolerated on `exp`.
pub(super) const LEEWAY_SECONDS: u64 = 30;
/// Prefix of integrator API tokens: `alt_<tenant>_<id>_<secret>`.
pub const API_TOKEN_PREFIX: &str = "alt_";

pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash password: {e}"))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
        .unwrap_or(false)
}

/// A hash to verify against when the account does not exist, so that the answer takes as long.
pub fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("not-a-real-password").unwrap_or_default())
}

/// Why a new password is not acceptable, if it is not.
pub fn password_problem(password: &str, email: &str) -> Option<&'static str> {
    let length = password.chars().count();
    let distinct = password.chars().collect::<std::collections::BTreeSet<_>>().len();
    if length < 10 {
        Some("must have at least 10 characters")
    } else if length > 128 {
        Some("must have at most 128 characters")
    } else if distinct < 4 {
        Some("must use at least 4 different characters")
    } else if password.eq_ignore_ascii_case(email)
        || email.split('@').next().is_some_and(|local| password.eq_ignore_ascii_case(local))
    {
        Some("must not be the e-mail address")
    } else {
        None
    }
}

/// The claims of a dashboard access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: String,
    /// Tenant id.
    pub tenant: TenantId,
    /// Role at issue time (the stored role is authoritative on every request).
    pub role: Role,
    pub iat: i64,
    pub exp: i64,
    /// Unique token id, the handle for revocation.
    pub jti: String,
    /// The user's session epoch at issue time: a password change or a deactivation moves the
    /// stored one, and voids every token of an earlier epoch.
    #[serde(default)]
    pub epoch: i32,
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
            epoch: user.session_epoch,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ApiError::internal(format!("cannot sign token: {e}")))
    }

    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        use jsonwebtoken::errors::ErrorKind;
        decode::<Claims>(token, &self.decoding, &self.validation).map(|data| data.claims).map_err(|e| {
            // The library's reason is for the log; the client is told which case it is in words.
            log::debug!("access token refused: {e}");
            ApiError::Unauthorized(
                match e.kind() {
                    ErrorKind::ExpiredSignature => "the access token has expired; sign in again",
                    ErrorKind::InvalidSignature => "the access token's signature is not valid; sign in again",
                    _ => "the access token is not valid; sign in again",
                }
                .into(),
            )
        })
    }
}

/// A new integrator secret: the full token text and the hash that is stored.
pub fn new_api_secret() -> (String, String) {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let secret = hex::encode(bytes);
    let hash = secret_hash(&secret);
    (secret, hash)
}

pub fn api_token_text(tenant_id: TenantId, id: i64, secret: &str) -> String {
    format!("{API_TOKEN_PREFIX}{tenant_id}_{id}_{secret}")
}

pub(super) fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Equal-length comparison that does not stop at the first difference.
pub(super) fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
