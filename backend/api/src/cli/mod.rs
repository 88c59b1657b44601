//! The `auditlog` commands: the server, and what an operator or auditor runs beside it. The
//! binary (`main.rs`) only parses the command line and calls [`run`].

pub mod admin;
pub mod config_check;
pub mod logging;
pub mod seed;
pub mod serve;
pub mod setup;
pub mod verify;

use auditlog_db::TenantSlug;
use clap::{Parser, Subcommand};

use crate::config::Settings;
use crate::http::openapi;
use admin::NewUserArgs;
use setup::pool;

#[derive(Parser)]
#[command(name = "auditlog", version, about = "Activity Log: audit-trail service and dashboard")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// What `config` does.
#[derive(Debug, clap::Subcommand)]
pub enum ConfigAction {
    /// Print the effective settings, secrets redacted, and fail on an unsafe one.
    Check,
}

#[derive(Subcommand)]
pub enum Command {
    /// Apply migrations and serve the API and dashboard.
    Serve,
    /// The server's settings: `config check` prints them (secrets redacted) and fails on an
    /// unsafe or contradictory one, as `serve` would refuse to start.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Exit 0 when the server answers `GET /readyz` with 200 (a container's health check, with
    /// no other tool in the image).
    Healthcheck {
        /// What to ask; default `http://127.0.0.1:<port of BIND>/readyz`.
        #[arg(long)]
        url: Option<String>,
    },
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
        /// Read the password from the first line of standard input.
        #[arg(long, conflicts_with = "password_file")]
        password_stdin: bool,
        /// Read the password from the first line of this file.
        #[arg(long, value_name = "FILE")]
        password_file: Option<std::path::PathBuf>,
        /// For scripts only, with a warning: a password on the command line stays in shell
        /// history and shows in `ps`; prefer --password-stdin or --password-file.
        #[arg(long, conflicts_with_all = ["password_stdin", "password_file"])]
        password: Option<String>,
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

/// Runs a command; the error is the message to print.
pub fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Verify { tenant, public_key } => {
            if verify::verify(&Settings::from_env()?, tenant.as_deref(), public_key.as_deref())? {
                Ok(())
            } else {
                Err("verification failed".into())
            }
        }
        Command::Keygen { output } => admin::keygen(&output),
        Command::PublicKey => {
            println!("{}", Settings::from_env()?.signer()?.verifier());
            Ok(())
        }
        Command::Archive { tenant } => admin::archive(&Settings::from_env()?, tenant.as_deref()),
        Command::VerifyExport { csv, manifest, public_key } => {
            verify::verify_export(&csv, &manifest, &public_key)
        }
        Command::VerifyArchive { file, public_key } => verify::verify_archive(&file, public_key.as_deref()),
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
            serve::build_trees(&pool, &settings.notary()?, &settings)?;
            println!("Database is up to date.");
            Ok(())
        }
        Command::SeedDemo => serve::seed_demo(&pool(&Settings::from_env()?)?),
        Command::SeedBench { events, tenants, users, days } => {
            admin::seed_bench(events, tenants, users, days)
        }
        Command::Healthcheck { url } => serve::healthcheck(url),
        Command::Config { action: ConfigAction::Check } => config_check::run(),
        Command::Serve => {
            let settings = Settings::from_env()?;
            let found = config_check::problems(&settings);
            if !found.is_empty() {
                return Err(config_check::refusal(&found));
            }
            let pool = pool(&settings)?;
            serve::serve(settings, pool, false)
        }
        Command::Demo => {
            let mut settings = Settings::from_env()?;
            settings.dev_mode = true;
            let pool = pool(&settings)?;
            serve::seed_demo(&pool)?;
            serve::serve(settings, pool, true)
        }
        Command::CreateUser {
            tenant,
            email,
            name,
            password_stdin,
            password_file,
            password,
            role,
            actor_id,
            timezone,
        } => {
            let password = match password {
                Some(password) => {
                    eprintln!(
                        "warning: --password leaves the password in shell history and in `ps`; use \
                         --password-stdin, --password-file FILE, or a terminal to be asked for it"
                    );
                    password
                }
                None => admin::read_password(password_stdin, password_file.as_deref())?,
            };
            admin::create_user(NewUserArgs { tenant, email, name, password, role, actor_id, timezone })
        }
    }
}
