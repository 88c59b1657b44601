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

/// Who a download link is for: read only by [`JwtKeys::verify_download`], and refused as an
/// access token (it names an audience, which access tokens never do).
const DOWNLOAD_AUDIENCE: &str = "activity-log:export-download";
/// How long a download link works.
pub const DOWNLOAD_LINK_SECONDS: i64 = 60;

/// A signed, short-lived link to one export, for the browser to download without an
/// `Authorization` header: the session it was made in and the export's query.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct DownloadClaims {
    aud: String,
    /// The session's claims; the session is checked again when the link is used.
    sub: String,
    tenant: TenantId,
    role: Role,
    session_iat: i64,
    session_exp: i64,
    jti: String,
    epoch: i32,
    /// When the link stops working.
    exp: i64,
    /// The export's query string.
    query: String,
}

impl JwtKeys {
    /// A link token for `query`, made in `session`; it works for [`DOWNLOAD_LINK_SECONDS`].
    pub fn issue_download(&self, session: &Claims, query: &str) -> Result<(String, i64), ApiError> {
        let exp = Utc::now().timestamp() + DOWNLOAD_LINK_SECONDS;
        let claims = DownloadClaims {
            aud: DOWNLOAD_AUDIENCE.into(),
            sub: session.sub.clone(),
            tenant: session.tenant,
            role: session.role,
            session_iat: session.iat,
            session_exp: session.exp,
            jti: session.jti.clone(),
            epoch: session.epoch,
            exp,
            query: query.into(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map(|token| (token, exp))
            .map_err(|e| ApiError::internal(format!("cannot sign a download link: {e}")))
    }

    /// The session and the export query of a link token, if it is ours, for downloads, and not
    /// expired (no leeway: a link is made to be used at once).
    pub fn verify_download(&self, token: &str) -> Result<(Claims, String), ApiError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub", "aud"]);
        validation.set_audience(&[DOWNLOAD_AUDIENCE]);
        let claims =
            decode::<DownloadClaims>(token, &self.decoding, &validation).map(|d| d.claims).map_err(|e| {
                log::debug!("download link refused: {e}");
                ApiError::Unauthorized(
                    match e.kind() {
                        jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                            "this download link has expired; start the export again"
                        }
                        _ => "this download link is not valid; start the export again",
                    }
                    .into(),
                )
            })?;
        let session = Claims {
            sub: claims.sub,
            tenant: claims.tenant,
            role: claims.role,
            iat: claims.session_iat,
            exp: claims.session_exp,
            jti: claims.jti,
            epoch: claims.epoch,
        };
        Ok((session, claims.query))
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

pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Equal-length comparison that does not stop at the first difference.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_download_link_is_not_an_access_token_and_an_access_token_is_not_a_link() {
        let keys = JwtKeys::new(b"a-secret-long-enough-for-the-test-of-links", 3600);
        let session = Claims {
            sub: "7".into(),
            tenant: TenantId(3),
            role: Role::Member,
            iat: 1,
            exp: Utc::now().timestamp() + 3600,
            jti: "j".into(),
            epoch: 2,
        };
        let (link, _) = keys.issue_download(&session, "format=csv&module=booking").unwrap();
        let (back, query) = keys.verify_download(&link).unwrap();
        assert_eq!(
            (back.sub.as_str(), back.jti.as_str(), back.epoch, query.as_str()),
            ("7", "j", 2, "format=csv&module=booking")
        );
        assert!(keys.verify(&link).is_err(), "a link does not sign anyone in");
        let access = encode(&Header::new(Algorithm::HS256), &session, &keys.encoding).unwrap();
        assert!(keys.verify_download(&access).is_err(), "a session token is not a link");
        let other = JwtKeys::new(b"another-secret-long-enough-for-the-test", 3600);
        assert!(other.verify_download(&link).is_err());
    }
}
