//! `auditlog config check`: the effective settings, secrets redacted, and what is wrong with
//! them. `serve` runs the same checks and refuses to start on any of them.

use crate::config::Settings;

/// What makes a configuration unsafe or contradictory, in words; empty when it is fine.
pub fn problems(settings: &Settings) -> Vec<String> {
    let mut found = Vec::new();
    if let Err(e) = settings.jwt_secret() {
        found.push(e);
    }
    if settings.dev_mode {
        for (name, url) in [
            ("DATABASE_URL", Some(&settings.database_url)),
            ("MIGRATION_DATABASE_URL", settings.migration_database_url.as_ref()),
        ] {
            if let Some(url) = url.filter(|url| url.backend == auditlog_db::Backend::Postgres) {
                if !is_local(&url.target) {
                    found.push(format!(
                        "AUDITLOG_DEV=1 with a PostgreSQL server that is not on this machine ({name} names {}): \
                         development mode generates secrets and keys on its own; unset AUDITLOG_DEV",
                        host_of(&url.target).unwrap_or_default()
                    ));
                }
            }
        }
    }
    for (name, dir) in [("ARCHIVE_DIR", &settings.archive_dir), ("CHECKPOINT_DIR", &settings.checkpoint_dir)]
    {
        if let Err(e) = writable(dir) {
            found.push(format!("{name} ({}) is not writable: {e}", dir.display()));
        }
    }
    if let Err(e) = settings.signer() {
        found.push(e);
    }
    found
}

/// Whether files can be made in `dir`, or (when it does not exist yet, as the server creates it
/// on first use) in its nearest existing parent: a file is written there and removed.
fn writable(dir: &std::path::Path) -> std::io::Result<()> {
    let absolute = std::path::absolute(dir)?;
    let existing = absolute.ancestors().find(|p| p.exists()).unwrap_or(&absolute);
    if !existing.is_dir() {
        return Err(std::io::Error::other(format!("{} is not a folder", existing.display())));
    }
    let probe = existing.join(format!(".auditlog-write-check-{}", std::process::id()));
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(&probe)
}

/// The host a PostgreSQL URL names (`None` for a Unix socket or no host).
fn host_of(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    parsed.host_str().filter(|h| !h.is_empty()).map(|h| h.trim_matches(['[', ']']).to_string())
}

fn is_local(url: &str) -> bool {
    match host_of(url) {
        None => true,
        Some(host) => {
            host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }
    }
}

/// A URL with its password replaced by `***`.
fn redacted_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

/// The effective settings, one `NAME=value` a line; secrets show only whether they are set.
pub fn effective(settings: &Settings) -> Vec<String> {
    let set = |present: bool| if present { "(set)" } else { "(not set)" }.to_string();
    let database = |url: &auditlog_db::connection::DatabaseUrl| match url.backend {
        auditlog_db::Backend::Postgres => redacted_url(&url.target),
        auditlog_db::Backend::Sqlite => format!("sqlite://{}", url.target),
    };
    let lines: Vec<(&str, String)> = vec![
        ("DATABASE_URL", database(&settings.database_url)),
        (
            "MIGRATION_DATABASE_URL",
            settings
                .migration_database_url
                .as_ref()
                .map(database)
                .unwrap_or_else(|| "(same as DATABASE_URL)".into()),
        ),
        ("JWT_SECRET", set(crate::config::secret("JWT_SECRET").ok().flatten().is_some())),
        (
            "SIGNING_KEY_FILE",
            settings
                .signing_key_file
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "(not set)".into()),
        ),
        ("LOG_NAME", settings.log_name.clone()),
        ("CHECKPOINT_DIR", settings.checkpoint_dir.display().to_string()),
        ("ARCHIVE_DIR", settings.archive_dir.display().to_string()),
        (
            "ARCHIVE_URL",
            settings
                .archive_store
                .as_ref()
                .map(|s| s.url().to_string())
                .unwrap_or_else(|| "(not set)".into()),
        ),
        ("BIND", settings.bind.clone()),
        ("STATIC_DIR", settings.static_dir.display().to_string()),
        ("DATA_DIR", settings.data_dir.display().to_string()),
        ("AUDITLOG_DEV", if settings.dev_mode { "1" } else { "0" }.into()),
        ("DB_POOL_SIZE", settings.db_pool_size.to_string()),
        ("TOKEN_TTL_SECONDS", settings.token_ttl_seconds.to_string()),
        ("MAX_BODY_BYTES", settings.max_body_bytes.to_string()),
        ("MAX_BATCH_EVENTS", settings.max_batch_events.to_string()),
        ("ARCHIVE_INTERVAL_SECONDS", settings.archive_interval_seconds.to_string()),
        ("CHECKPOINT_INTERVAL_SECONDS", settings.checkpoint_interval_seconds.to_string()),
        ("VERIFY_INTERVAL_SECONDS", settings.verify_interval_seconds.to_string()),
        (
            "TRUSTED_PROXIES",
            settings.trusted_proxies.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(", "),
        ),
        ("CORS_ALLOWED_ORIGINS", settings.cors_allowed_origins.join(", ")),
        ("METRICS_TOKEN", set(settings.metrics_token.is_some())),
        (
            "SMTP_URL",
            settings.deliveries.smtp_url.as_deref().map(redacted_url).unwrap_or_else(|| "(not set)".into()),
        ),
        ("LOG_FORMAT", std::env::var("LOG_FORMAT").unwrap_or_else(|_| "text".into())),
    ];
    lines.into_iter().map(|(name, value)| format!("{name}={value}")).collect()
}

/// `config check`: prints the settings and the problems; fails when there is one.
pub fn run() -> Result<(), String> {
    let settings = Settings::from_env()?;
    for line in effective(&settings) {
        println!("{line}");
    }
    let found = problems(&settings);
    if found.is_empty() {
        println!("configuration: no problems found");
        return Ok(());
    }
    Err(refusal(&found))
}

/// The message `serve` and `config check` stop with.
pub fn refusal(found: &[String]) -> String {
    let list: Vec<String> = found.iter().map(|p| format!("  - {p}")).collect();
    format!("the configuration is not safe to run:\n{}", list.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_and_sockets_are_local() {
        assert!(is_local("postgres://u:p@localhost:5432/db"));
        assert!(is_local("postgres://u:p@127.0.0.1/db"));
        assert!(is_local("postgres://u:p@[::1]:5432/db"));
        assert!(is_local("postgres:///db?host=/var/run/postgresql"));
        assert!(!is_local("postgres://u:p@db.internal:5432/db"));
        assert!(!is_local("postgres://u:p@10.0.0.7/db"));
    }

    #[test]
    fn passwords_never_show() {
        assert_eq!(redacted_url("postgres://app:s3cret@db:5432/audit"), "postgres://app:***@db:5432/audit");
        assert_eq!(redacted_url("smtp://mail:pw@smtp.example:587"), "smtp://mail:***@smtp.example:587");
        assert_eq!(redacted_url("postgres://app@db/audit"), "postgres://app@db/audit");
    }
}
