//! Settings, read from the environment (and a `.env` file). `.env.example` documents each one.

use std::path::PathBuf;

use auditlog_db::checkpoints::Notary;
use auditlog_db::DatabaseUrl;
use auditlog_tlog::note::Signer;
use rand::RngCore;

/// The default store: an SQLite file under `./data/`.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/auditlog.db";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// HS256 needs at least this much key material.
pub const MIN_SECRET_BYTES: usize = 32;
/// A request body that stops arriving for this long is abandoned with 408: a client trickling a
/// body cannot hold a connection (and a half-read body) open for ever. (The request head has its
/// own limit, [`CLIENT_REQUEST_TIMEOUT`].)
pub const BODY_IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// A client must send the whole request head (line and headers) within this time, else it gets
/// 408 and is disconnected: slow-loris clients cannot hold connections open. (A head larger than
/// 128 KiB, or with more than 96 headers, gets 431: fixed limits of actix-http.)
pub const CLIENT_REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// Time a client gets to acknowledge the end of a connection before it is dropped.
pub const CLIENT_DISCONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);
/// Idle keep-alive connections are closed after this long.
pub const KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(15);

/// The deployment's name when `LOG_NAME` is not set.
pub const DEFAULT_LOG_NAME: &str = "activity-log.local";

#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: DatabaseUrl,
    /// Where migrations run: the schema owner's URL (`MIGRATION_DATABASE_URL`); `None` uses
    /// `database_url` for both (one role: T1 is then detected, not prevented).
    pub migration_database_url: Option<DatabaseUrl>,
    /// The Ed25519 key checkpoints are signed with (`SIGNING_KEY_FILE`, PKCS#8 PEM); in
    /// development mode `DATA_DIR/signing-key.pem`, generated when missing.
    pub signing_key_file: Option<PathBuf>,
    /// The deployment's name: the key's name and the first part of every checkpoint origin.
    pub log_name: String,
    /// Where the checkpoint logs are written (one file per tenant).
    pub checkpoint_dir: PathBuf,
    /// Seconds between periodic checkpoints of tenants that received events.
    pub checkpoint_interval_seconds: u64,
    /// Seconds between scheduled verifications of every tenant; 0 turns them off.
    pub verify_interval_seconds: u64,
    pub bind: String,
    /// Where the built dashboard lives; served at `/` when present.
    pub static_dir: PathBuf,
    /// Where development secrets are kept.
    pub data_dir: PathBuf,
    pub token_ttl_seconds: i64,
    pub max_body_bytes: usize,
    pub max_batch_events: usize,
    pub db_pool_size: u32,
    /// Where archive files of expired events are written.
    pub archive_dir: PathBuf,
    /// Seconds between scheduled retention runs; 0 turns the schedule off.
    pub archive_interval_seconds: u64,
    /// Seconds an estimated page total is answered again to the same reader for the same filters;
    /// 0 estimates every time.
    pub estimate_reuse_seconds: u64,
    /// Live streams (`/events/stream`) one user or API token may hold open at once, per process.
    pub max_streams_per_user: usize,
    /// Live streams one tenant may hold open at once, per process.
    pub max_streams_per_tenant: usize,
    pub dev_mode: bool,
    /// Proxies whose `X-Forwarded-For` is believed; from anyone else it is ignored.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Origins whose browser pages may call the API (`CORS_ALLOWED_ORIGINS`); empty: CORS is off.
    pub cors_allowed_origins: Vec<String>,
    /// How alert deliveries are sent (webhooks and e-mail).
    pub deliveries: DeliverySettings,
    /// The bearer token `GET /metrics` asks for (`METRICS_TOKEN`); open when unset.
    pub metrics_token: Option<String>,
    /// Where archives are kept for good (`ARCHIVE_URL`, an S3 bucket); `None`: `ARCHIVE_DIR` only.
    pub archive_store: Option<std::sync::Arc<crate::retention::store::ArchiveStore>>,
}

/// How alert deliveries are sent.
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    /// The SMTP relay for e-mail alerts (`SMTP_URL`: `smtp://host:25`, `smtps://user:pw@host`,
    /// `smtp://host:587?tls=required`); `None`: e-mail alerts are refused.
    pub smtp_url: Option<String>,
    /// The sender of e-mail alerts (`SMTP_FROM`).
    pub smtp_from: String,
    /// The dashboard's address, for links in e-mails (`PUBLIC_URL`).
    pub public_url: Option<String>,
    /// Seconds one attempt may take (`DELIVERY_TIMEOUT_SECONDS`).
    pub timeout_seconds: u64,
    /// The first retry's wait; each next one doubles, with jitter, up to an hour
    /// (`DELIVERY_RETRY_BASE_SECONDS`).
    pub retry_base_seconds: u64,
    /// How long a delivery is retried before it fails for good (`DELIVERY_GIVE_UP_SECONDS`);
    /// a rule that delivered nothing for that long is disabled.
    pub give_up_seconds: u64,
    /// How long a worker holds a delivery it is sending (`DELIVERY_LEASE_SECONDS`); a process
    /// that dies while sending leaves it to be sent again after that.
    pub lease_seconds: u64,
    /// Deliveries sent at once, per process (`DELIVERY_WORKERS`).
    pub workers: usize,
    /// Whether webhooks may go to private, loopback and link-local addresses
    /// (`WEBHOOK_ALLOW_PRIVATE`; default: only in development mode).
    pub allow_private: bool,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        DeliverySettings {
            smtp_url: None,
            smtp_from: "Activity Log <activity-log@localhost>".into(),
            public_url: None,
            timeout_seconds: 10,
            retry_base_seconds: 5,
            give_up_seconds: 24 * 3600,
            lease_seconds: 60,
            workers: 8,
            allow_private: false,
        }
    }
}

impl DeliverySettings {
    fn from_env(dev_mode: bool) -> Result<Self, String> {
        let defaults = DeliverySettings::default();
        let settings = DeliverySettings {
            smtp_url: secret("SMTP_URL")?,
            smtp_from: var("SMTP_FROM").unwrap_or(defaults.smtp_from),
            public_url: var("PUBLIC_URL").map(|url| url.trim_end_matches('/').to_string()),
            timeout_seconds: number("DELIVERY_TIMEOUT_SECONDS", defaults.timeout_seconds)?,
            retry_base_seconds: number("DELIVERY_RETRY_BASE_SECONDS", defaults.retry_base_seconds)?,
            give_up_seconds: number("DELIVERY_GIVE_UP_SECONDS", defaults.give_up_seconds)?,
            lease_seconds: number("DELIVERY_LEASE_SECONDS", defaults.lease_seconds)?,
            workers: number("DELIVERY_WORKERS", defaults.workers)?,
            allow_private: match var("WEBHOOK_ALLOW_PRIVATE").as_deref() {
                None => dev_mode,
                Some("1" | "true" | "yes") => true,
                Some("0" | "false" | "no") => false,
                Some(other) => {
                    return Err(format!("WEBHOOK_ALLOW_PRIVATE must be true or false, got {other:?}"))
                }
            },
        };
        if settings.timeout_seconds == 0 || settings.retry_base_seconds == 0 || settings.workers == 0 {
            return Err("DELIVERY_TIMEOUT_SECONDS, DELIVERY_RETRY_BASE_SECONDS and DELIVERY_WORKERS must be greater than zero".into());
        }
        if settings.lease_seconds <= settings.timeout_seconds {
            return Err("DELIVERY_LEASE_SECONDS must be longer than DELIVERY_TIMEOUT_SECONDS".into());
        }
        Ok(settings)
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// A secret setting: `NAME`, or the contents of the file `NAME_FILE` names (a mounted secret,
/// so the value stays out of the process environment and `docker inspect`). Both set is an error.
pub fn secret(name: &str) -> Result<Option<String>, String> {
    let file_var = format!("{name}_FILE");
    match (var(name), var(&file_var)) {
        (Some(_), Some(_)) => Err(format!("set {name} or {file_var}, not both")),
        (Some(value), None) => Ok(Some(value)),
        (None, Some(path)) => {
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{file_var}: cannot read {path}: {e}"))?;
            let value = text.trim().to_string();
            if value.is_empty() {
                return Err(format!("{file_var}: {path} is empty"));
            }
            Ok(Some(value))
        }
        (None, None) => Ok(None),
    }
}

fn number<T: std::str::FromStr>(name: &str, default: T) -> Result<T, String> {
    match var(name) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| format!("{name} must be a positive whole number, got {v:?}")),
    }
}

impl Settings {
    pub fn from_env() -> Result<Self, String> {
        let database_url =
            DatabaseUrl::parse(&secret("DATABASE_URL")?.unwrap_or_else(|| DEFAULT_DATABASE_URL.into()))?;
        let data_dir = PathBuf::from(var("DATA_DIR").unwrap_or_else(|| "data".into()));
        let dev_mode = matches!(var("AUDITLOG_DEV").as_deref(), Some("1" | "true" | "yes"));
        let settings = Settings {
            database_url,
            migration_database_url: secret("MIGRATION_DATABASE_URL")?
                .map(|url| DatabaseUrl::parse(&url))
                .transpose()?,
            signing_key_file: var("SIGNING_KEY_FILE").map(PathBuf::from),
            log_name: var("LOG_NAME").unwrap_or_else(|| DEFAULT_LOG_NAME.into()),
            checkpoint_dir: var("CHECKPOINT_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| data_dir.join("checkpoints")),
            checkpoint_interval_seconds: number("CHECKPOINT_INTERVAL_SECONDS", 60)?,
            verify_interval_seconds: number("VERIFY_INTERVAL_SECONDS", 86_400)?,
            bind: var("BIND").unwrap_or_else(|| DEFAULT_BIND.into()),
            static_dir: PathBuf::from(var("STATIC_DIR").unwrap_or_else(|| "frontend/dist".into())),
            data_dir,
            token_ttl_seconds: number("TOKEN_TTL_SECONDS", 8 * 3600)?,
            max_body_bytes: number("MAX_BODY_BYTES", 8 * 1024 * 1024)?,
            max_batch_events: number("MAX_BATCH_EVENTS", 1000)?,
            db_pool_size: number("DB_POOL_SIZE", 8)?,
            archive_dir: PathBuf::from(var("ARCHIVE_DIR").unwrap_or_else(|| "data/archives".into())),
            archive_interval_seconds: number("ARCHIVE_INTERVAL_SECONDS", 3600)?,
            estimate_reuse_seconds: number("ESTIMATE_REUSE_SECONDS", 30)?,
            max_streams_per_user: number("MAX_STREAMS_PER_USER", 5)?,
            max_streams_per_tenant: number("MAX_STREAMS_PER_TENANT", 100)?,
            dev_mode,
            trusted_proxies: parse_proxies(&var("TRUSTED_PROXIES").unwrap_or_default())?,
            cors_allowed_origins: parse_origins(&var("CORS_ALLOWED_ORIGINS").unwrap_or_default())?,
            deliveries: DeliverySettings::from_env(dev_mode)?,
            metrics_token: secret("METRICS_TOKEN")?,
            archive_store: var("ARCHIVE_URL")
                .map(|url| crate::retention::store::ArchiveStore::from_url(&url).map(std::sync::Arc::new))
                .transpose()?,
        };
        if settings.log_name.is_empty() || settings.log_name.contains(['+', ' ', '/']) {
            return Err("LOG_NAME must be a name without spaces, '+' or '/', e.g. audit.example.com".into());
        }
        if settings.token_ttl_seconds <= 0 || settings.max_batch_events == 0 || settings.db_pool_size == 0 {
            return Err(
                "TOKEN_TTL_SECONDS, MAX_BATCH_EVENTS and DB_POOL_SIZE must be greater than zero".into()
            );
        }
        Ok(settings)
    }

    /// `JWT_SECRET`, or in development mode a generated secret kept in `DATA_DIR/jwt-secret`.
    pub fn jwt_secret(&self) -> Result<Vec<u8>, String> {
        if let Some(secret) = secret("JWT_SECRET")? {
            if secret.len() < MIN_SECRET_BYTES {
                return Err(format!("JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes long"));
            }
            return Ok(secret.into_bytes());
        }
        if !self.dev_mode {
            return Err(
                "JWT_SECRET is not set (set it, or AUDITLOG_DEV=1 to generate one for development)".into()
            );
        }
        let path = self.data_dir.join("jwt-secret");
        if let Ok(existing) = std::fs::read_to_string(&path) {
            if existing.trim().len() >= MIN_SECRET_BYTES {
                return Ok(existing.trim().as_bytes().to_vec());
            }
        }
        let mut bytes = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut bytes);
        let secret = hex::encode(bytes);
        std::fs::create_dir_all(&self.data_dir)
            .and_then(|_| write_private(&path, &secret))
            .map_err(|e| format!("cannot store the development secret in {}: {e}", path.display()))?;
        log::warn!("development mode: generated a JWT secret in {}", path.display());
        Ok(secret.into_bytes())
    }
}

impl Settings {
    /// The signer of checkpoints: the key in `SIGNING_KEY_FILE`, or in development mode one kept
    /// in (and generated into) `DATA_DIR/signing-key.pem`. The key never goes into the database.
    pub fn signer(&self) -> Result<Signer, String> {
        let path = match (&self.signing_key_file, self.dev_mode) {
            (Some(path), _) => path.clone(),
            (None, true) => {
                let path = self.data_dir.join("signing-key.pem");
                if !path.exists() {
                    let signer = Signer::generate(&self.log_name).map_err(|e| e.to_string())?;
                    std::fs::create_dir_all(&self.data_dir)
                        .and_then(|_| {
                            write_private(
                                &path,
                                &signer.to_pem().map_err(|e| std::io::Error::other(e.to_string()))?,
                            )
                        })
                        .map_err(|e| {
                            format!("cannot store the development signing key in {}: {e}", path.display())
                        })?;
                    log::warn!("development mode: generated a checkpoint signing key in {}", path.display());
                }
                path
            }
            (None, false) => {
                return Err("SIGNING_KEY_FILE is not set (create one with `auditlog keygen --output FILE`, \
                     or set AUDITLOG_DEV=1 to generate one for development)"
                    .into())
            }
        };
        let pem = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read the signing key {}: {e}", path.display()))?;
        Signer::from_pem(&self.log_name, &pem).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The notary of this deployment: its signer and checkpoint logs.
    pub fn notary(&self) -> Result<Notary, String> {
        Ok(Notary::new(self.signer()?, self.checkpoint_dir.clone()))
    }
}

/// Writes a new private key file (owner-only on Unix); refuses to replace one.
pub fn write_new_key(path: &std::path::Path, pem: &str) -> Result<(), String> {
    if path.exists() {
        return Err(format!("{} exists already; it is never overwritten", path.display()));
    }
    write_private(path, pem).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// `10.0.0.0/8, 192.168.1.5` → networks (a bare address is a /32 or /128).
pub fn parse_proxies(text: &str) -> Result<Vec<ipnet::IpNet>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<ipnet::IpNet>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| format!("TRUSTED_PROXIES: {s:?} is not an IP address or CIDR network"))
        })
        .collect()
}

/// `https://crm.example.com, http://localhost:3000` → the origins, each checked to be exactly
/// `scheme://host[:port]` (a browser's `Origin` never has a path or a trailing slash).
pub fn parse_origins(text: &str) -> Result<Vec<String>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|origin| {
            let rest = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
            let valid = rest.is_some_and(|host| {
                !host.is_empty()
                    && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
            });
            if valid {
                Ok(origin.to_ascii_lowercase())
            } else {
                Err(format!(
                    "CORS_ALLOWED_ORIGINS: {origin:?} is not an origin like https://app.example.com (no path, no wildcard)"
                ))
            }
        })
        .collect()
}

#[cfg(unix)]
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file =
        std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_comes_from_its_variable_or_its_file_never_both() {
        // Names of this test's own, so parallel tests do not see them.
        let dir = std::env::temp_dir().join(format!("auditlog-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("token");
        std::fs::write(&file, "  from-a-file\n").unwrap();
        // SAFETY: no other test reads or writes these variables.
        unsafe {
            std::env::set_var("AUDITLOG_TEST_SECRET_A", "plain");
            std::env::set_var("AUDITLOG_TEST_SECRET_B_FILE", &file);
            std::env::set_var("AUDITLOG_TEST_SECRET_C", "plain");
            std::env::set_var("AUDITLOG_TEST_SECRET_C_FILE", &file);
            std::env::set_var("AUDITLOG_TEST_SECRET_D_FILE", dir.join("missing"));
        }
        assert_eq!(secret("AUDITLOG_TEST_SECRET_A").unwrap().as_deref(), Some("plain"));
        assert_eq!(secret("AUDITLOG_TEST_SECRET_B").unwrap().as_deref(), Some("from-a-file"));
        assert!(secret("AUDITLOG_TEST_SECRET_C").unwrap_err().contains("not both"));
        let missing = secret("AUDITLOG_TEST_SECRET_D").unwrap_err();
        assert!(missing.contains("AUDITLOG_TEST_SECRET_D_FILE"), "{missing}");
        assert_eq!(secret("AUDITLOG_TEST_SECRET_E").unwrap(), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn cors_origins_must_be_bare_origins() {
        assert_eq!(
            parse_origins(" https://CRM.example.com, http://localhost:3000 ,").unwrap(),
            ["https://crm.example.com", "http://localhost:3000"]
        );
        assert!(parse_origins("").unwrap().is_empty());
        for bad in ["*", "crm.example.com", "https://crm.example.com/", "https://a.example/path", "ftp://x"] {
            let error = parse_origins(bad).unwrap_err();
            assert!(error.contains("CORS_ALLOWED_ORIGINS"), "{bad}: {error}");
        }
    }
}
