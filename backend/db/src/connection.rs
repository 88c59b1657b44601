//! Connections and pooling for both backends. The backend is chosen explicitly from the URL
//! scheme: `postgres://` / `postgresql://` select PostgreSQL, `sqlite://` (or a bare path) SQLite.

use std::path::PathBuf;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

/// One connection type for both stores; queries written against it run on either.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

pub type DbPool = r2d2::Pool<DbManager>;
pub type PooledConnection = r2d2::PooledConnection<DbManager>;

const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// Which store a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// A parsed `DATABASE_URL`.
#[derive(Debug, Clone)]
pub struct DatabaseUrl {
    pub backend: Backend,
    /// What the driver is given: the URL itself for PostgreSQL, a file path for SQLite.
    pub target: String,
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        if url.is_empty() {
            return Err("DATABASE_URL is empty".into());
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self { backend: Backend::Postgres, target: url.to_string() });
        }
        let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
        if path.is_empty() {
            return Err("the SQLite URL names no file".into());
        }
        if path.contains("://") {
            return Err(format!(
                "unsupported database URL scheme in {:?}: use postgres://… or sqlite://PATH",
                url.split("://").next().unwrap_or_default()
            ));
        }
        Ok(Self { backend: Backend::Sqlite, target: path.to_string() })
    }
}

/// An r2d2 manager that opens the right backend and applies the SQLite pragmas on connect.
#[derive(Debug, Clone)]
pub struct DbManager {
    url: DatabaseUrl,
}

impl DbManager {
    pub fn new(url: DatabaseUrl) -> Self {
        Self { url }
    }

    pub fn backend(&self) -> Backend {
        self.url.backend
    }

    fn open(&self) -> ConnectionResult<DbConnection> {
        match self.url.backend {
            Backend::Postgres => {
                // Fail fast when the server is unreachable instead of hanging a request.
                let url = if self.url.target.contains("connect_timeout") {
                    self.url.target.clone()
                } else {
                    let separator = if self.url.target.contains('?') { '&' } else { '?' };
                    format!("{}{separator}connect_timeout=5", self.url.target)
                };
                Ok(DbConnection::Pg(PgConnection::establish(&url)?))
            }
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(&self.url.target)?;
                // busy_timeout makes writers queue instead of failing; foreign keys are off by
                // default in SQLite. (WAL is set once per file, in `build_pool`.)
                conn.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
                )
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
                crate::budget::register(&conn).map_err(ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
}

impl ManageConnection for DbManager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        self.open().map_err(r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1").map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut DbConnection) -> bool {
        false
    }
}

/// Builds a pool, creating the SQLite file's folder when needed.
pub fn build_pool(url: &DatabaseUrl, max_size: u32) -> Result<DbPool, String> {
    if url.backend == Backend::Sqlite && url.target != ":memory:" {
        if let Some(dir) = PathBuf::from(&url.target).parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("cannot create the database folder {}: {e}", dir.display()))?;
            }
        }
    }
    if url.backend == Backend::Sqlite {
        // WAL lets readers proceed during writes. It is a property of the file, switched once
        // here before the pool's connections open at the same time.
        let mut conn =
            SqliteConnection::establish(&url.target).map_err(|e| format!("cannot open the database: {e}"))?;
        conn.batch_execute("PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL;")
            .map_err(|e| format!("cannot switch the database to WAL: {e}"))?;
    }
    r2d2::Pool::builder()
        .max_size(max_size)
        .connection_timeout(Duration::from_secs(5))
        .test_on_check_out(true)
        .build(DbManager::new(url.clone()))
        .map_err(|e| format!("cannot connect to the database: {e}"))
}

/// Applies every pending migration of the connection's backend.
pub fn run_migrations(conn: &mut DbConnection) -> Result<usize, String> {
    let applied = match conn {
        DbConnection::Pg(c) => c.run_pending_migrations(PG_MIGRATIONS).map(|v| v.len()),
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
    };
    applied.map_err(|e| format!("migration failed: {e}"))
}

/// The user a PostgreSQL URL connects as, if it names one.
pub fn url_user(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    let (credentials, _) = authority.rsplit_once('@')?;
    let user = credentials.split(':').next()?;
    (!user.is_empty()).then(|| user.to_string())
}

/// The same PostgreSQL URL, connecting as `user` (without a password; give one in the URL).
pub fn url_with_user(url: &str, user: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let cut = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(cut);
    let host = authority.rsplit_once('@').map(|(_, host)| host).unwrap_or(authority);
    format!("{scheme}://{user}@{host}{tail}")
}

/// Gives the application's role what it needs on the schema `owner` migrated, and nothing more
/// (PostgreSQL): it reads everything; it inserts events, tree nodes, verifications and archives
/// but never updates or deletes them; it cannot open the guarded doors (`mutation_guard`) and
/// tombstones or archives only through the owner's functions; of a tenant it may update only
/// its head, name, time zone and retention setting. Run by `migrate` and at start.
pub fn grant_app_role(owner: &mut DbConnection, role: &str) -> Result<(), String> {
    let DbConnection::Pg(pg) = owner else { return Ok(()) };
    if role.is_empty() || !role.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Err(format!("the application's database role {role:?} must be letters, digits, '_' or '-'"));
    }
    #[derive(QueryableByName)]
    struct Schema {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    let schema: Schema = diesel::sql_query("SELECT current_schema()::text AS name")
        .get_result(pg)
        .map_err(|e| e.to_string())?;
    let (schema, role) = (format!("\"{}\"", schema.name.replace('"', "\"\"")), format!("\"{role}\""));
    pg.batch_execute(&format!(
        "GRANT USAGE ON SCHEMA {schema} TO {role};
         GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role};
         GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role};
         REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA {schema} FROM {role};
         REVOKE ALL ON mutation_guard FROM {role};
         GRANT INSERT ON events, event_related, merkle_nodes, verifications, archives, tenants TO {role};
         GRANT INSERT, UPDATE, DELETE ON users, idempotency_keys, revoked_tokens, api_tokens, login_throttle, sign_in_addresses TO {role};
         GRANT UPDATE (head_seq, head_hash, tree_size, name, timezone, retention_days, review_settings, field_visibility, record_links) ON tenants TO {role};
         GRANT INSERT, UPDATE ON actor_sightings TO {role};
         GRANT INSERT, UPDATE, DELETE ON alert_rules, deliveries TO {role};"
    ))
    .map_err(|e| format!("cannot grant the application's role its privileges: {e}"))
}

impl DbConnection {
    /// Runs `work` in one transaction: all of it is committed, or none of it.
    pub fn atomically<T, E>(&mut self, work: impl FnOnce(&mut Self) -> Result<T, E>) -> Result<T, E>
    where
        E: From<crate::StoreError>,
    {
        enum Failure<E> {
            Work(E),
            Database(diesel::result::Error),
        }
        impl<E> From<diesel::result::Error> for Failure<E> {
            fn from(e: diesel::result::Error) -> Self {
                Failure::Database(e)
            }
        }
        self.transaction(|conn| work(conn).map_err(Failure::Work)).map_err(|failure| match failure {
            Failure::Work(e) => e,
            Failure::Database(e) => crate::StoreError::from(e).into(),
        })
    }

    /// Runs the reads of `work` on one snapshot of the database: rows committed by others
    /// meanwhile are not seen, so a long check (a verification) reads a head and the rows after
    /// it as they were at one moment. PostgreSQL: a read-only REPEATABLE READ transaction;
    /// SQLite (WAL): a deferred transaction, whose first read fixes what it sees. Call it outside
    /// any transaction; `work` must not write.
    pub fn snapshot<T, E>(&mut self, work: impl FnOnce(&mut Self) -> Result<T, E>) -> Result<T, E>
    where
        E: From<crate::StoreError>,
    {
        self.atomically(|conn| {
            if let DbConnection::Pg(pg) = conn {
                pg.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    .map_err(crate::StoreError::from)?;
            }
            work(conn)
        })
    }

    /// A trivial round trip, for readiness checks.
    pub fn ping(&mut self) -> QueryResult<()> {
        self.batch_execute("SELECT 1")
    }

    pub fn backend(&self) -> Backend {
        match self {
            DbConnection::Pg(_) => Backend::Postgres,
            DbConnection::Sqlite(_) => Backend::Sqlite,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_their_user() {
        assert_eq!(url_user("postgres://app:pw@db:5432/x?sslmode=require").as_deref(), Some("app"));
        assert_eq!(url_user("postgres://db/x"), None);
        assert_eq!(url_with_user("postgres://owner:pw@db:5432/x?a=b", "app"), "postgres://app@db:5432/x?a=b");
        assert_eq!(url_with_user("postgres://db/x", "app"), "postgres://app@db/x");
    }

    #[test]
    fn backend_is_chosen_from_the_scheme() {
        assert_eq!(DatabaseUrl::parse("postgres://u@h/db").unwrap().backend, Backend::Postgres);
        assert_eq!(DatabaseUrl::parse("postgresql://u@h/db").unwrap().backend, Backend::Postgres);
        let sqlite = DatabaseUrl::parse("sqlite://data/x.db").unwrap();
        assert_eq!((sqlite.backend, sqlite.target.as_str()), (Backend::Sqlite, "data/x.db"));
        assert_eq!(DatabaseUrl::parse("sqlite:///tmp/x.db").unwrap().target, "/tmp/x.db");
        assert_eq!(DatabaseUrl::parse("plain.db").unwrap().target, "plain.db");
        assert!(DatabaseUrl::parse("mysql://h/db").is_err());
        assert!(DatabaseUrl::parse("").is_err());
    }
}
