//! `auditlog`: the Activity Log server and its administration commands.

use std::process::ExitCode;

use actix_web::HttpServer;
use auditlog_api::auth::{hash_password, JwtKeys};
use auditlog_api::cli::seed;
use auditlog_api::config::write_new_key;
use auditlog_api::config::Settings;
use auditlog_api::http::state::AppState;
use auditlog_api::http::{app, openapi};
use auditlog_api::{integrity, retention};
use auditlog_db::checkpoints::Notary;
use auditlog_db::connection::{build_pool, grant_app_role, run_migrations, url_user};
use auditlog_db::models::Role;
use auditlog_db::queries::{tenants, users};
use auditlog_db::Backend;
use auditlog_db::DbPool;
use auditlog_db::TenantSlug;
use auditlog_tlog::note::{Signer, Verifier};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Parser)]
#[command(name = "auditlog", version, about = "Activity Log: audit-trail service and dashboard")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply migrations and serve the API and dashboard.
    Serve,
    /// Apply pending database migrations.
    Migrate,
    /// Create a dashboard user (and the tenant, if it does not exist yet).
    CreateUser {
        /// Tenant slug, e.g. `acme`: 1 to 63 lowercase letters, digits and hyphens, the first a
        /// letter or digit.
        #[arg(long)]
        tenant: TenantSlug,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        password: String,
        #[arg(long, value_parser = ["admin", "manager", "member"])]
        role: String,
        /// The user's id in the host application, linking them to events' `actor.id`
        /// (default: their own user id).
        #[arg(long)]
        actor_id: Option<String>,
        /// Business time zone of a tenant created by this command.
        #[arg(long, default_value = "UTC")]
        timezone: String,
    },
    /// Create the demo tenant, users and ~5 000 events (does nothing if already seeded).
    SeedDemo,
    /// Generate benchmark data: realistic events through the normal ingest path (chain on).
    SeedBench {
        #[arg(long, default_value_t = 100_000)]
        events: usize,
        #[arg(long, default_value_t = 1)]
        tenants: usize,
        #[arg(long, default_value_t = 50)]
        users: usize,
        #[arg(long, default_value_t = 365)]
        days: i64,
    },
    /// Migrate, seed the demo and serve, in development mode: the quickest way to try it out.
    Demo,
    /// Recompute the Merkle tree of one tenant (or all) from the stored events, check it against
    /// every signed checkpoint in the log, and report the first bad seq (exit 1 if any).
    Verify {
        /// Tenant slug; default: every tenant.
        #[arg(long)]
        tenant: Option<String>,
        /// A file holding the verifier key (`auditlog public-key`): an auditor needs no signing key.
        /// Default: the key of SIGNING_KEY_FILE.
        #[arg(long)]
        public_key: Option<std::path::PathBuf>,
    },
    /// Write a new Ed25519 signing key (PKCS#8 PEM, as `openssl genpkey -algorithm ed25519`
    /// writes it) for SIGNING_KEY_FILE; an existing file is never overwritten.
    Keygen {
        #[arg(long)]
        output: std::path::PathBuf,
    },
    /// Print the verifier key of checkpoints (`<name>+<key id>+<key>`, c2sp.org/signed-note).
    PublicKey,
    /// Move events past their tenant's retention period into archive files now.
    Archive {
        /// Tenant slug; default: every tenant with a retention setting.
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Check an archive file offline: every event's content and link, and that they recompute the
    /// root of the signed retention boundary the file carries (its signature, with the key).
    VerifyArchive {
        file: std::path::PathBuf,
        /// A file holding the verifier key (`auditlog public-key`); without it the signature is
        /// not checked.
        #[arg(long)]
        public_key: Option<std::path::PathBuf>,
    },
    /// Prove offline that a CSV export is unaltered and complete, with the manifest downloaded for
    /// the same filters (`GET /api/v1/events/export?format=manifest&…`): every row is in the
    /// signed checkpoint the manifest carries.
    VerifyExport {
        csv: std::path::PathBuf,
        manifest: std::path::PathBuf,
        /// A file holding the verifier key (`auditlog public-key`).
        #[arg(long)]
        public_key: std::path::PathBuf,
    },
    /// Print the OpenAPI document as YAML (or write it to a file).
    Openapi {
        #[arg(long)]
        output: Option<std::path::PathBuf>,
    },
}

/// Migrates the database as its owner (`MIGRATION_DATABASE_URL`, else `DATABASE_URL`), gives
/// the application's role its privileges, and opens the application's pool.
fn pool(settings: &Settings) -> Result<DbPool, String> {
    let owner_url = settings.migration_database_url.as_ref().unwrap_or(&settings.database_url);
    let owner = build_pool(owner_url, 1)?;
    let mut conn = owner.get().map_err(|e| format!("cannot connect to the database: {e}"))?;
    let applied = run_migrations(&mut conn)?;
    if applied > 0 {
        log::info!("applied {applied} migration(s)");
    }
    if settings.database_url.backend == Backend::Postgres {
        let app = url_user(&settings.database_url.target);
        match (app, url_user(&owner_url.target)) {
            (Some(app), Some(owner)) if app != owner => grant_app_role(&mut conn, &app)?,
            _ => log::warn!(
                "the application connects as the schema's owner: an insider with its credentials is detected by \
                 verification but not stopped (set MIGRATION_DATABASE_URL to the owner and DATABASE_URL to a second role)"
            ),
        }
    }
    drop(conn);
    build_pool(&settings.database_url, settings.db_pool_size)
}

/// Builds the Merkle tree of tenants whose events predate it, signing their first checkpoint.
fn build_trees(pool: &DbPool, notary: &Notary, settings: &Settings) -> Result<(), String> {
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    for (slug, size) in integrity::build_trees(&mut conn, notary, settings).map_err(|e| e.to_string())? {
        println!(
            "{slug}: built the Merkle tree of its {size} existing events and signed its first checkpoint"
        );
    }
    Ok(())
}

fn seed_demo(pool: &DbPool) -> Result<(), String> {
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let added = seed::seed_demo(&mut conn)?;
    if added > 0 {
        println!("Seeded the demo tenant `{}` with {added} events.", seed::DEMO_TENANT);
    } else {
        println!("The demo tenant `{}` is already seeded.", seed::DEMO_TENANT);
    }
    Ok(())
}

/// A client must send the whole request head (line and headers) within this time, else it gets
/// 408 and is disconnected: slow-loris clients cannot hold connections open. (A head larger than
/// 128 KiB, or with more than 96 headers, gets 431: fixed limits of actix-http.)
const CLIENT_REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// Time a client gets to acknowledge the end of a connection before it is dropped.
const CLIENT_DISCONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);
/// Idle keep-alive connections are closed after this long.
const KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(15);

fn serve(settings: Settings, pool: DbPool, show_demo_logins: bool) -> Result<(), String> {
    let keys = JwtKeys::new(&settings.jwt_secret()?, settings.token_ttl_seconds);
    if !settings.static_dir.join("index.html").is_file() {
        log::warn!("no dashboard build in {}: only the API is served", settings.static_dir.display());
    }
    let notary = settings.notary()?;
    build_trees(&pool, &notary, &settings)?;
    // Whatever was stored while no server ran (seeding, a crash before signing) is signed now.
    integrity::checkpoint_all(&pool, &notary).map_err(|e| e.to_string())?;
    let bind = settings.bind.clone();
    let state = AppState::new(pool, keys, notary, settings);
    schedule_maintenance(&state);
    let server = HttpServer::new(move || app::build(state.clone()))
        .client_request_timeout(CLIENT_REQUEST_TIMEOUT)
        .client_disconnect_timeout(CLIENT_DISCONNECT_TIMEOUT)
        .keep_alive(KEEP_ALIVE)
        .bind(&bind)
        .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    let url = format!("http://{}", server.addrs().first().map(|a| a.to_string()).unwrap_or(bind));
    println!("Activity Log is running at {url}  (API docs: {url}/docs)");
    if show_demo_logins {
        for (email, password, _, role, _) in seed::DEMO_USERS {
            println!("  log in as {role:<7}  {email} / {password}");
        }
    }
    actix_web::rt::System::new().block_on(server.run()).map_err(|e| format!("server error: {e}"))
}

fn tenant_ids(
    conn: &mut auditlog_db::DbConnection,
    slug: Option<&str>,
) -> Result<Vec<(i64, String)>, String> {
    match slug {
        Some(slug) => tenants::find_by_slug(conn, slug)
            .map_err(|e| e.to_string())?
            .map(|t| vec![(t.id, t.slug)])
            .ok_or_else(|| format!("no tenant {slug:?}")),
        None => tenants::all(conn)
            .map(|all| all.into_iter().map(|t| (t.id, t.slug)).collect())
            .map_err(|e| e.to_string()),
    }
}

fn progress_bar(total: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{prefix}} [{{bar:40}}] {{pos}}/{{len}} {what} ({{per_sec}}, {{eta}} left)"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}

fn verify(
    settings: &Settings,
    slug: Option<&str>,
    public_key: Option<&std::path::Path>,
) -> Result<bool, String> {
    let pool = pool(settings)?;
    let key = match public_key {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))
            .and_then(|text| Verifier::parse(&text).map_err(|e| e.to_string()))?,
        None => settings.signer()?.verifier(),
    };
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let mut all_ok = true;
    for (tenant_id, slug) in tenant_ids(&mut conn, slug)? {
        let tenant = tenants::get(&mut conn, tenant_id).map_err(|e| e.to_string())?;
        let bar = progress_bar(0, "events");
        bar.set_prefix(slug.clone());
        let result = integrity::verify_tenant(
            &mut conn,
            &key,
            &settings.checkpoint_dir,
            settings,
            &tenant,
            "command",
            |checked, total| {
                bar.set_length(total.max(0) as u64);
                bar.set_position(checked.max(0) as u64);
            },
        )
        .map_err(|e| e.to_string())?;
        bar.finish_and_clear();
        if result.ok {
            println!(
                "{slug}: ok — {} events checked, head seq {}, {} signed checkpoints matched (latest of {} events)",
                result.events_checked,
                result.head_seq,
                result.checkpoints_checked,
                result.checkpoint_size.unwrap_or(0)
            );
        } else {
            all_ok = false;
            println!(
                "{slug}: FAILED at seq {} — {} ({} events checked before it)",
                result.first_bad_seq.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
                result.reason.unwrap_or_default(),
                result.events_checked
            );
        }
    }
    Ok(all_ok)
}

fn archive(settings: &Settings, slug: Option<&str>) -> Result<(), String> {
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

/// The scheduled retention runs of a server process.
/// Background upkeep: the coming months' event partitions (PostgreSQL) are checked at start and
/// hourly; retention runs every `ARCHIVE_INTERVAL_SECONDS` (0: never) and then drops the closed
/// months it emptied.
fn schedule_maintenance(state: &AppState) {
    const PARTITION_CHECK: std::time::Duration = std::time::Duration::from_secs(3600);
    schedule_integrity(state);
    let (pool, settings, notary) = (state.pool.clone(), state.settings.clone(), state.notary.clone());
    let prepare_partitions = move |pool: &DbPool| {
        let prepared = pool
            .get()
            .map_err(|e| e.to_string())
            .and_then(|mut conn| auditlog_db::partitions::prepare(&mut conn).map_err(|e| e.to_string()));
        match prepared {
            Ok(0) => {}
            Ok(n) => log::info!("created {n} monthly partition(s) of events ahead"),
            Err(e) => log::error!("could not create the coming months' event partitions: {e}"),
        }
    };
    prepare_partitions(&pool);
    std::thread::spawn(move || {
        let interval = settings.archive_interval_seconds;
        let mut last_retention = std::time::Instant::now();
        loop {
            let wait = if interval == 0 {
                PARTITION_CHECK
            } else {
                PARTITION_CHECK.min(std::time::Duration::from_secs(interval))
            };
            std::thread::sleep(wait);
            prepare_partitions(&pool);
            if interval == 0 || last_retention.elapsed() < std::time::Duration::from_secs(interval) {
                continue;
            }
            last_retention = std::time::Instant::now();
            let run = pool.get().map_err(|e| e.to_string()).and_then(|mut conn| {
                retention::run_all(&mut conn, &notary, &settings).map_err(|e| e.to_string())
            });
            match run {
                Ok(archives) if !archives.is_empty() => {
                    log::info!("retention: wrote {} archive file(s)", archives.len())
                }
                Ok(_) => {}
                Err(e) => log::error!("retention run failed: {e}"),
            }
        }
    });
}

/// Periodic checkpoints (every `CHECKPOINT_INTERVAL_SECONDS` for tenants that received events)
/// and scheduled verification (every `VERIFY_INTERVAL_SECONDS`).
fn schedule_integrity(state: &AppState) {
    let (pool, settings, notary) = (state.pool.clone(), state.settings.clone(), state.notary.clone());
    let every = std::time::Duration::from_secs(settings.checkpoint_interval_seconds.max(1));
    std::thread::spawn(move || loop {
        std::thread::sleep(every);
        if let Err(e) = integrity::checkpoint_all(&pool, &notary) {
            log::error!("periodic checkpoints failed: {e}");
        }
        if settings.verify_interval_seconds > 0 {
            match integrity::verify_due(&pool, &notary, &settings) {
                Ok((0, _)) => {}
                Ok((verified, 0)) => log::info!("integrity: {verified} tenant(s) verified"),
                Ok((_, failed)) => log::error!("integrity: {failed} tenant(s) failed verification"),
                Err(e) => log::error!("scheduled verification failed: {e}"),
            }
        }
    });
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Verify { tenant, public_key } => {
            if verify(&Settings::from_env()?, tenant.as_deref(), public_key.as_deref())? {
                Ok(())
            } else {
                Err("verification failed".into())
            }
        }
        Command::Keygen { output } => {
            let settings = Settings::from_env()?;
            let signer = Signer::generate(&settings.log_name).map_err(|e| e.to_string())?;
            write_new_key(&output, &signer.to_pem().map_err(|e| e.to_string())?)?;
            println!(
                "Wrote a new signing key to {}. Its verifier key:\n{}",
                output.display(),
                signer.verifier()
            );
            Ok(())
        }
        Command::PublicKey => {
            println!("{}", Settings::from_env()?.signer()?.verifier());
            Ok(())
        }
        Command::Archive { tenant } => archive(&Settings::from_env()?, tenant.as_deref()),
        Command::VerifyExport { csv, manifest, public_key } => {
            let read = |p: &std::path::Path| {
                std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))
            };
            let key = Verifier::parse(&read(&public_key)?).map_err(|e| e.to_string())?;
            let proof = auditlog_api::exports::check::verify(&read(&csv)?, &read(&manifest)?, &key)?;
            println!(
                "{}: ok — {} rows unaltered and complete for seq {}–{}, in the checkpoint of {} ({} events, root {}) signed by {}",
                csv.display(),
                proof.rows,
                proof.first_seq,
                proof.last_seq,
                proof.checkpoint.origin,
                proof.checkpoint.size,
                proof.checkpoint.root_base64(),
                key.name()
            );
            Ok(())
        }
        Command::VerifyArchive { file, public_key } => {
            let key = public_key
                .map(|p| {
                    std::fs::read_to_string(&p)
                        .map_err(|e| format!("cannot read {}: {e}", p.display()))
                        .and_then(|text| Verifier::parse(&text).map_err(|e| e.to_string()))
                })
                .transpose()?;
            let (sha256, size) = auditlog_db::archive::checksum(&file).map_err(|e| e.to_string())?;
            let proof = auditlog_db::archive::verify_file(&file, key.as_ref()).map_err(|e| e.to_string())?;
            let header = &proof.header;
            let signed = match (&proof.boundary, proof.signature_checked) {
                (Some(b), true) => format!(
                    "recompute the signed boundary of {} ({} events), signature checked",
                    b.origin, b.size
                ),
                (Some(b), false) => format!(
                    "recompute the boundary of {} ({} events); give --public-key to check its signature",
                    b.origin, b.size
                ),
                (None, _) => "an archive written before signed checkpoints: its chain checked only".into(),
            };
            println!(
                "{}: ok — tenant {}, seq {}–{} ({} events) {signed}; {size} bytes, sha256 {sha256}",
                file.display(),
                header.tenant,
                header.first_seq,
                header.last_seq,
                header.count
            );
            Ok(())
        }
        Command::Openapi { output } => {
            let yaml = openapi::yaml()?;
            match output {
                Some(path) => {
                    std::fs::write(&path, yaml).map_err(|e| format!("cannot write {}: {e}", path.display()))
                }
                None => {
                    print!("{yaml}");
                    Ok(())
                }
            }
        }
        Command::Migrate => {
            let settings = Settings::from_env()?;
            let pool = pool(&settings)?;
            build_trees(&pool, &settings.notary()?, &settings)?;
            println!("Database is up to date.");
            Ok(())
        }
        Command::SeedDemo => seed_demo(&pool(&Settings::from_env()?)?),
        Command::SeedBench { events, tenants, users, days } => {
            let pool = pool(&Settings::from_env()?)?;
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            let bar = progress_bar(events as u64, "events");
            bar.set_prefix("seed-bench");
            let started = std::time::Instant::now();
            seed::seed_bench(&mut conn, events, tenants, users, days, |n| bar.set_position(n as u64))?;
            bar.finish_and_clear();
            let secs = started.elapsed().as_secs_f64();
            println!(
                "Stored {events} events in {secs:.1} s ({:.0} events/s).",
                events as f64 / secs.max(0.001)
            );
            Ok(())
        }
        Command::Serve => {
            let settings = Settings::from_env()?;
            let pool = pool(&settings)?;
            serve(settings, pool, false)
        }
        Command::Demo => {
            let mut settings = Settings::from_env()?;
            settings.dev_mode = true;
            let pool = pool(&settings)?;
            seed_demo(&pool)?;
            serve(settings, pool, true)
        }
        Command::CreateUser { tenant, email, name, password, role, actor_id, timezone } => {
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
    }
}

/// glibc's allocator, left alone, makes a long-running server grow: it gives each thread that
/// allocates while others do an arena of its own (up to eight per core) and keeps what an arena
/// once held, and after a large block is freed (a password hash takes 19 MB) it serves blocks of
/// that size from the arenas instead of the system, where they stay. Two arenas and a fixed
/// 128 KiB threshold for blocks taken from and given back to the system keep the server flat
/// (docs/RELIABILITY.md). An explicit `MALLOC_ARENA_MAX`, `MALLOC_MMAP_THRESHOLD_` or glibc
/// tunable still decides.
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let tunables = std::env::var("GLIBC_TUNABLES").unwrap_or_default();
        let set = |name: &str, tunable: &str| std::env::var_os(name).is_some() || tunables.contains(tunable);
        // SAFETY: the first thing `main` does, while this is the only thread.
        unsafe {
            if !set("MALLOC_ARENA_MAX", "arena_max") {
                libc::mallopt(libc::M_ARENA_MAX, 2);
            }
            if !set("MALLOC_MMAP_THRESHOLD_", "mmap_threshold") {
                libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
            }
        }
    }
}

fn main() -> ExitCode {
    tune_allocator();
    dotenvy::dotenv().ok();
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info,actix_server=warn"))
        .init();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
