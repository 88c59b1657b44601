//! `serve` and `demo`: the server process, with its background upkeep.

use actix_web::HttpServer;
use auditlog_db::checkpoints::Notary;
use auditlog_db::DbPool;

use crate::cli::seed;
use crate::config::{Settings, CLIENT_DISCONNECT_TIMEOUT, CLIENT_REQUEST_TIMEOUT, KEEP_ALIVE};
use crate::http::app;
use crate::http::state::AppState;
use crate::{integrity, retention};

/// Builds the Merkle tree of tenants whose events predate it, signing their first checkpoint.
pub fn build_trees(pool: &DbPool, notary: &Notary, settings: &Settings) -> Result<(), String> {
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    for (slug, size) in integrity::build_trees(&mut conn, notary, settings).map_err(|e| e.to_string())? {
        println!(
            "{slug}: built the Merkle tree of its {size} existing events and signed its first checkpoint"
        );
    }
    Ok(())
}

pub fn seed_demo(pool: &DbPool) -> Result<(), String> {
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let added = seed::seed_demo(&mut conn)?;
    if added > 0 {
        println!("Seeded the demo tenant `{}` with {added} events.", seed::DEMO_TENANT);
    } else {
        println!("The demo tenant `{}` is already seeded.", seed::DEMO_TENANT);
    }
    Ok(())
}

/// Serves the API and dashboard until stopped; `show_demo_logins` prints the demo users.
pub fn serve(settings: Settings, pool: DbPool, show_demo_logins: bool) -> Result<(), String> {
    let keys = crate::auth::JwtKeys::new(&settings.jwt_secret()?, settings.token_ttl_seconds);
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
    // Alert deliveries: sent from the outbox by their own threads, never on a request's path.
    crate::alerts::deliver::Outbox::new(
        state.pool.clone(),
        state.settings.deliveries.clone(),
        state.notary.verifier().clone(),
        state.metrics.clone(),
    )
    .start();
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

/// The scheduled retention runs of a server process.
/// Background upkeep: the coming months' event partitions (PostgreSQL) are checked at start and
/// hourly; retention runs every `ARCHIVE_INTERVAL_SECONDS` (0: never) and then drops the closed
/// months it emptied.
fn schedule_maintenance(state: &AppState) {
    const PARTITION_CHECK: std::time::Duration = std::time::Duration::from_secs(3600);
    schedule_integrity(state);
    let (pool, settings, notary) = (state.pool.clone(), state.settings.clone(), state.notary.clone());
    let metrics = state.metrics.clone();
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
            metrics.archive_run(run.as_ref().ok().map(Vec::len));
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
    let metrics = state.metrics.clone();
    let every = std::time::Duration::from_secs(settings.checkpoint_interval_seconds.max(1));
    std::thread::spawn(move || loop {
        std::thread::sleep(every);
        if let Err(e) = integrity::checkpoint_all(&pool, &notary) {
            log::error!("periodic checkpoints failed: {e}");
        }
        // The checkpoint logs' copies in the object store follow them.
        if let Some(store) = &settings.archive_store {
            if let Err(e) = store.copy_logs(notary.dir()) {
                log::error!("checkpoint logs not copied to the object store: {e}");
            }
        }
        if settings.verify_interval_seconds > 0 {
            let run = integrity::verify_due(&pool, &notary, &settings);
            if let Ok((verified, failed)) = run {
                // Failures last, so the last result shows one when there was one.
                (0..verified - failed).for_each(|_| metrics.verified("schedule", true));
                (0..failed).for_each(|_| metrics.verified("schedule", false));
            }
            match run {
                Ok((0, _)) => {}
                Ok((verified, 0)) => log::info!("integrity: {verified} tenant(s) verified"),
                Ok((_, failed)) => log::error!("integrity: {failed} tenant(s) failed verification"),
                Err(e) => log::error!("scheduled verification failed: {e}"),
            }
        }
    });
}

/// `healthcheck`: asks `url` (default: `/readyz` on this host at `BIND`'s port) and succeeds on a
/// 200 within three seconds.
pub fn healthcheck(url: Option<String>) -> Result<(), String> {
    let url = match url {
        Some(url) => url,
        None => {
            let bind = std::env::var("BIND").unwrap_or_else(|_| crate::config::DEFAULT_BIND.to_string());
            let port = bind.rsplit_once(':').map(|(_, port)| port).unwrap_or("8080");
            format!("http://127.0.0.1:{port}/readyz")
        }
    };
    let agent = ureq::AgentBuilder::new().timeout(std::time::Duration::from_secs(3)).build();
    match agent.get(&url).call() {
        Ok(response) if response.status() == 200 => Ok(()),
        Ok(response) => Err(format!("{url} answered {}", response.status())),
        Err(ureq::Error::Status(code, _)) => Err(format!("{url} answered {code}")),
        Err(e) => Err(format!("{url}: {e}")),
    }
}
