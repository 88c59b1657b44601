//! Administration commands: users, signing keys, archiving now, benchmark data.

use std::path::Path;

use auditlog_db::models::Role;
use auditlog_db::queries::{tenants, users};
use auditlog_db::TenantSlug;
use auditlog_tlog::note::Signer;

use crate::auth::hash_password;
use crate::cli::seed;
use crate::cli::setup::{pool, progress_bar, tenant_ids};
use crate::config::{write_new_key, Settings};
use crate::retention;

/// `archive`: moves events past their tenant's retention period into archive files now.
pub fn archive(settings: &Settings, slug: Option<&str>) -> Result<(), String> {
    let pool = pool(settings)?;
    let notary = settings.notary()?;
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    for (tenant_id, slug) in tenant_ids(&mut conn, slug)? {
        let bar = progress_bar(0, "events archived");
        bar.set_prefix(slug.clone());
        let done = retention::run_for_tenant(&mut conn, &notary, settings, tenant_id, |a| {
            bar.inc(a.event_count as u64)
        })
        .map_err(|e| e.to_string())?;
        bar.finish_and_clear();
        match done {
            None => println!("{slug}: keeps events forever (no retention setting)"),
            Some(archives) if archives.is_empty() => println!("{slug}: nothing to archive"),
            Some(archives) => {
                for a in archives {
                    println!(
                        "{slug}: archived seq {}–{} ({} events) to {} sha256 {}",
                        a.first_seq, a.last_seq, a.event_count, a.file_name, a.sha256
                    );
                }
            }
        }
    }
    Ok(())
}

/// The new user's password for `create-user`: the first line of standard input
/// (`--password-stdin`) or of a file (`--password-file`), or typed twice at the terminal, never
/// echoed. Only the line's ending is taken off; spaces are part of the password.
pub fn read_password(from_stdin: bool, file: Option<&std::path::Path>) -> Result<String, String> {
    use std::io::{BufRead, IsTerminal};
    let first_line = |text: &str| text.lines().next().unwrap_or_default().to_string();
    if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the password file {}: {e}", path.display()))?;
        return Ok(first_line(&text));
    }
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        return Ok(first_line(&line));
    }
    if !std::io::stdin().is_terminal() {
        return Err("give the new user's password with --password-stdin or --password-file FILE".into());
    }
    let password = rpassword::prompt_password("Password for the new user: ").map_err(|e| e.to_string())?;
    let again = rpassword::prompt_password("The same password again: ").map_err(|e| e.to_string())?;
    if password != again {
        return Err("the two passwords differ; nothing was created".into());
    }
    Ok(password)
}

/// A new dashboard user, as `create-user` takes it.
pub struct NewUserArgs {
    pub tenant: TenantSlug,
    pub email: String,
    pub name: String,
    pub password: String,
    pub role: String,
    pub actor_id: Option<String>,
    pub timezone: String,
}

/// `create-user`: a dashboard user, and the tenant if it does not exist yet.
pub fn create_user(args: NewUserArgs) -> Result<(), String> {
    let NewUserArgs { tenant, email, name, password, role, actor_id, timezone } = args;
    let role: Role = role.parse()?;
    timezone.parse::<chrono_tz::Tz>().map_err(|_| format!("unknown IANA time zone {timezone:?}"))?;
    if password.chars().count() < 8 {
        return Err("the password must have at least 8 characters".into());
    }
    let pool = pool(&Settings::from_env()?)?;
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let tenant =
        tenants::ensure(&mut conn, &tenant, tenant.as_str(), &timezone).map_err(|e| e.to_string())?;
    let hash = hash_password(&password)?;
    let email = email.trim().to_lowercase();
    let user = users::create(
        &mut conn,
        &users::NewUser {
            tenant_id: tenant.id,
            email: &email,
            name: name.trim(),
            password_hash: &hash,
            role,
            actor_id: actor_id.as_deref(),
        },
    )
    .map_err(|e| e.to_string())?;
    println!(
        "Created {} user {} (id {}, actor id {}) in tenant `{}`.",
        role, user.email, user.id, user.actor_id, tenant.slug
    );
    Ok(())
}

/// `keygen`: a new signing key in a file that does not exist yet.
pub fn keygen(output: &Path) -> Result<(), String> {
    let settings = Settings::from_env()?;
    let signer = Signer::generate(&settings.log_name).map_err(|e| e.to_string())?;
    write_new_key(output, &signer.to_pem().map_err(|e| e.to_string())?)?;
    println!("Wrote a new signing key to {}. Its verifier key:\n{}", output.display(), signer.verifier());
    Ok(())
}

/// `seed-bench`: benchmark data through the normal ingest path.
pub fn seed_bench(events: usize, tenants: usize, users: usize, days: i64) -> Result<(), String> {
    let pool = pool(&Settings::from_env()?)?;
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let bar = progress_bar(events as u64, "events");
    bar.set_prefix("seed-bench");
    let started = std::time::Instant::now();
    seed::seed_bench(&mut conn, events, tenants, users, days, |n| bar.set_position(n as u64))?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    println!("Stored {events} events in {secs:.1} s ({:.0} events/s).", events as f64 / secs.max(0.001));
    Ok(())
}
