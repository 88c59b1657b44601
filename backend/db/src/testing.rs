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

pub struct TestDatabase {
    pub url: String,
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
                TestDatabase { url: format!("sqlite://{path}"), backend, cleanup: path }
            }
            Backend::Postgres => {
                let base = postgres_url();
                let mut conn = PgConnection::establish(&base)
                    .unwrap_or_else(|e| panic!("PostgreSQL at {base} is required by the test suite: {e}"));
                // Migrations of parallel tests would race to create the shared extension first.
                static EXTENSIONS: std::sync::Once = std::sync::Once::new();
                EXTENSIONS.call_once(|| {
                    let _ = conn.batch_execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public");
                });
                conn.batch_execute(&format!("CREATE SCHEMA {name}")).expect("create test schema");
                let separator = if base.contains('?') { '&' } else { '?' };
                let url = format!("{base}{separator}options=-csearch_path%3D{name}");
                TestDatabase { url, backend, cleanup: name }
            }
        }
    }

    /// A pool on this database with every migration applied.
    pub fn migrated_pool(&self, size: u32) -> DbPool {
        let pool = build_pool(&DatabaseUrl::parse(&self.url).expect("test URL"), size).expect("test pool");
        run_migrations(&mut pool.get().expect("test connection")).expect("migrations");
        pool
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
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
