//! `auditlog`: the Activity Log server and its administration commands.

use std::process::ExitCode;

use actix_web::HttpServer;
use auditlog_api::auth::{hash_password, JwtKeys};
use auditlog_api::config::Settings;
use auditlog_api::state::AppState;
use auditlog_api::{app, openapi, retention, seed};
use auditlog_db::connection::{build_pool, run_migrations};
use auditlog_db::integrity::verify_chain;
use auditlog_db::models::Role;
use auditlog_db::queries::{tenants, users};
use auditlog_db::DbPool;
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
        /// Tenant slug, e.g. `acme`.
        #[arg(long)]
        tenant: String,
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
    /// Recompute the hash chain of one tenant (or all) and report the first bad link.
    Verify {
        /// Tenant slug; default: every tenant.
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Move events past their tenant's retention period into archive files now.
    Archive {
        /// Tenant slug; default: every tenant with a retention setting.
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Check an archive file on its own: checksum-free chain and hash verification.
    VerifyArchive { file: std::path::PathBuf },
    /// Prove offline that a CSV export is unaltered and complete, with the manifest downloaded for
    /// the same filters (`GET /api/v1/events/export?format=manifest&…`).
    VerifyExport { csv: std::path::PathBuf, manifest: std::path::PathBuf },
    /// Print the OpenAPI document as YAML (or write it to a file).
    Openapi {
        #[arg(long)]
        output: Option<std::path::PathBuf>,
    },
}

fn pool(settings: &Settings) -> Result<DbPool, String> {
    let pool = build_pool(&settings.database_url, settings.db_pool_size)?;
    let mut conn = pool.get().map_err(|e| format!("cannot connect to the database: {e}"))?;
    let applied = run_migrations(&mut conn)?;
    if applied > 0 {
        log::info!("applied {applied} migration(s)");
    }
    Ok(pool)
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
    let bind = settings.bind.clone();
    let state = AppState::new(pool, keys, settings);
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

fn verify(settings: &Settings, slug: Option<&str>) -> Result<bool, String> {
    let pool = pool(settings)?;
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let mut all_ok = true;
    for (tenant_id, slug) in tenant_ids(&mut conn, slug)? {
        let bar = progress_bar(0, "events");
        bar.set_prefix(slug.clone());
        let result = verify_chain(&mut conn, tenant_id, |checked, total| {
            bar.set_length(total.max(0) as u64);
            bar.set_position(checked.max(0) as u64);
        })
        .map_err(|e| e.to_string())?;
        bar.finish_and_clear();
        if result.ok {
            println!(
                "{slug}: ok — {} events checked, head seq {} {}",
                result.events_checked, result.head_seq, result.head_hash
            );
        } else {
            all_ok = false;
            println!(
                "{slug}: BROKEN at seq {} — {} ({} events checked before it)",
                result.first_bad_seq.unwrap_or_default(),
                result.reason.unwrap_or_default(),
                result.events_checked
            );
        }
    }
    Ok(all_ok)
}

fn archive(settings: &Settings, slug: Option<&str>) -> Result<(), String> {
    let pool = pool(settings)?;
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    for (tenant_id, slug) in tenant_ids(&mut conn, slug)? {
        let bar = progress_bar(0, "events archived");
        bar.set_prefix(slug.clone());
        let done =
            retention::run_for_tenant(&mut conn, settings, tenant_id, |a| bar.inc(a.event_count as u64))
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
    let (pool, settings) = (state.pool.clone(), state.settings.clone());
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
            let run = pool
                .get()
                .map_err(|e| e.to_string())
                .and_then(|mut conn| retention::run_all(&mut conn, &settings).map_err(|e| e.to_string()));
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

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Verify { tenant } => {
            if verify(&Settings::from_env()?, tenant.as_deref())? {
                Ok(())
            } else {
                Err("the hash chain is broken".into())
            }
        }
        Command::Archive { tenant } => archive(&Settings::from_env()?, tenant.as_deref()),
        Command::VerifyExport { csv, manifest } => {
            let read = |p: &std::path::Path| {
                std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))
            };
            let proof = auditlog_api::export_check::verify(&read(&csv)?, &read(&manifest)?)?;
            println!(
                "{}: ok — {} rows unaltered and complete for seq {}–{}; the range ends at hash {}",
                csv.display(),
                proof.rows,
                proof.first_seq,
                proof.last_seq,
                proof.last_hash
            );
            Ok(())
        }
        Command::VerifyArchive { file } => {
            let (sha256, size) = auditlog_db::archive::checksum(&file).map_err(|e| e.to_string())?;
            let header = auditlog_db::archive::verify_file(&file).map_err(|e| e.to_string())?;
            println!(
                "{}: ok — tenant {}, seq {}–{} ({} events), links to {}, ends at {}; {size} bytes, sha256 {sha256}",
                file.display(), header.tenant, header.first_seq, header.last_seq, header.count, header.prev_hash, header.last_hash
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
            pool(&Settings::from_env()?)?;
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
                tenants::ensure(&mut conn, &tenant, &tenant, &timezone).map_err(|e| e.to_string())?;
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
