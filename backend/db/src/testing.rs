//! Private databases for tests: an SQLite file or a PostgreSQL schema per test, removed on drop,
//! so suites run in parallel against real servers.

use std::sync::atomic::{AtomicU64, Ordering};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use crate::connection::{build_pool, run_migrations, Backend, DatabaseUrl, DbPool};

/// The PostgreSQL server tests run against (`TEST_POSTGRES_URL`); it must be reachable: the
/// suite fails rather than skip PostgreSQL.
pub fn postgres_url() -> String {
    std::env::var("TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn unique_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!(
        "t_{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000_000,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// The role tests run the application as on PostgreSQL: it has only what `grant_app_role` gives,
/// while migrations and tampering run as the superuser of `TEST_POSTGRES_URL`.
pub const TEST_APP_ROLE: &str = "auditlog_test_app";

pub struct TestDatabase {
    /// Where the application connects: on PostgreSQL as [`TEST_APP_ROLE`].
    pub url: String,
    /// Where migrations run and an insider with every right connects (the same file on SQLite).
    pub owner_url: String,
    pub backend: Backend,
    cleanup: String,
}

impl TestDatabase {
    pub fn new(backend: Backend) -> Self {
        let name = unique_name();
        match backend {
            Backend::Sqlite => {
                let path =
                    std::env::temp_dir().join(format!("auditlog-{name}.db")).to_string_lossy().to_string();
                let url = format!("sqlite://{path}");
                TestDatabase { owner_url: url.clone(), url, backend, cleanup: path }
            }
            Backend::Postgres => {
                let base = postgres_url();
                let mut conn = PgConnection::establish(&base)
                    .unwrap_or_else(|e| panic!("PostgreSQL at {base} is required by the test suite: {e}"));
                // Migrations of parallel tests would race to create the shared extension first.
                static EXTENSIONS: std::sync::Once = std::sync::Once::new();
                EXTENSIONS.call_once(|| {
                    let _ = conn.batch_execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public");
                    let _ = conn.batch_execute(&format!(
                        "DO $$ BEGIN CREATE ROLE {TEST_APP_ROLE} LOGIN; \
                         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
                    ));
                });
                conn.batch_execute(&format!("CREATE SCHEMA {name}")).expect("create test schema");
                let separator = if base.contains('?') { '&' } else { '?' };
                let owner_url = format!("{base}{separator}options=-csearch_path%3D{name}");
                let url = crate::connection::url_with_user(&owner_url, TEST_APP_ROLE);
                TestDatabase { url, owner_url, backend, cleanup: name }
            }
        }
    }

    /// The application's pool on this database, every migration applied (by the owner, who
    /// then grants the application's role its privileges).
    pub fn migrated_pool(&self, size: u32) -> DbPool {
        let owner = self.owner_pool(1);
        let mut conn = owner.get().expect("owner connection");
        run_migrations(&mut conn).expect("migrations");
        crate::connection::grant_app_role(&mut conn, TEST_APP_ROLE).expect("grants");
        build_pool(&DatabaseUrl::parse(&self.url).expect("test URL"), size).expect("test pool")
    }

    /// What a server process of the real binary needs on this database besides `DATABASE_URL`:
    /// the owner's URL for migrations, a signing key of its own and a checkpoint folder (kept for
    /// the database's lifetime, so a restarted server continues the same log).
    pub fn server_env(&self) -> Vec<(&'static str, String)> {
        let dir = std::env::temp_dir().join(format!("auditlog-{}-integrity", self.cleanup));
        let key = dir.join("signing-key.pem");
        if !key.exists() {
            std::fs::create_dir_all(&dir).expect("integrity folder");
            let signer = auditlog_tlog::note::Signer::generate("activity-log.test").expect("key");
            std::fs::write(&key, signer.to_pem().expect("pem")).expect("key file");
        }
        vec![
            ("MIGRATION_DATABASE_URL", self.owner_url.clone()),
            ("SIGNING_KEY_FILE", key.to_string_lossy().into_owned()),
            ("CHECKPOINT_DIR", dir.join("checkpoints").to_string_lossy().into_owned()),
            ("LOG_NAME", "activity-log.test".into()),
        ]
    }

    /// A pool with every right on this database: the schema's owner on PostgreSQL.
    pub fn owner_pool(&self, size: u32) -> DbPool {
        build_pool(&DatabaseUrl::parse(&self.owner_url).expect("test URL"), size).expect("owner pool")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(
            std::env::temp_dir().join(format!("auditlog-{}-integrity", self.cleanup)),
        );
        match self.backend {
            Backend::Sqlite => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", self.cleanup));
                }
            }
            Backend::Postgres => {
                if let Ok(mut conn) = PgConnection::establish(&postgres_url()) {
                    let _ = conn.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.cleanup));
                }
            }
        }
    }
}
