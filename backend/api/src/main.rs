//! `auditlog`: the Activity Log server and its administration commands.

use std::process::ExitCode;

use actix_web::HttpServer;
use auditlog_api::auth::{hash_password, JwtKeys};
use auditlog_api::config::Settings;
use auditlog_api::state::AppState;
use auditlog_api::{app, openapi, seed};
use auditlog_db::connection::{build_pool, run_migrations};
use auditlog_db::models::Role;
use auditlog_db::queries::{tenants, users};
use auditlog_db::DbPool;
use clap::{Parser, Subcommand};

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
    /// Migrate, seed the demo and serve, in development mode: the quickest way to try it out.
    Demo,
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

fn serve(settings: Settings, pool: DbPool, show_demo_logins: bool) -> Result<(), String> {
    let keys = JwtKeys::new(&settings.jwt_secret()?, settings.token_ttl_seconds);
    if !settings.static_dir.join("index.html").is_file() {
        log::warn!("no dashboard build in {}: only the API is served", settings.static_dir.display());
    }
    let bind = settings.bind.clone();
    let state = AppState::new(pool, keys, settings);
    let server = HttpServer::new(move || app::build(state.clone()))
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

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
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

fn main() -> ExitCode {
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
