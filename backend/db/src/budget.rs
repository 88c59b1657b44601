//! Queries that give up when they cost too much: [`within`] runs one and answers `None` once it has
//! taken longer than its time. PostgreSQL enforces the time itself (`statement_timeout`, local to
//! a transaction); SQLite has no such setting, so its queries call [`WITHIN_BUDGET`] first in
//! their `WHERE` clause, once per row examined, and that function fails the statement when the
//! time is up.

use std::cell::Cell;
use std::time::{Duration, Instant};

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Bool;
use diesel::sqlite::Sqlite;

use crate::connection::{Backend, DbConnection};
use crate::error::StoreResult;

/// The SQLite function a bounded query puts first in its `WHERE` clause (see [`within`]).
pub const WITHIN_BUDGET: &str = "auditlog_within_budget()";

thread_local! {
    /// When the bounded SQLite query running on this thread must stop (none: no bound).
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
    /// Whether it did.
    static SPENT: Cell<bool> = const { Cell::new(false) };
}

/// The value of `auditlog_within_budget()`: true, or an error that ends the statement once the
/// deadline has passed.
#[derive(Debug)]
struct WithinBudget;

impl ToSql<Bool, Sqlite> for WithinBudget {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        if DEADLINE.get().is_some_and(|deadline| Instant::now() >= deadline) {
            SPENT.set(true);
            return Err("the query ran out of time".into());
        }
        <bool as ToSql<Bool, Sqlite>>::to_sql(&true, out)
    }
}

/// Makes `auditlog_within_budget()` callable on a new SQLite connection.
pub(crate) fn register(conn: &SqliteConnection) -> QueryResult<()> {
    // Not deterministic: SQLite must call it for every row, never once for the whole statement.
    conn.register_noarg_sql_function::<Bool, _, _>("auditlog_within_budget", false, || WithinBudget)
}

/// Runs `query`, or gives up after `time`: `Ok(None)` then. Any other failure is an error as
/// usual. A zero `time` gives up at once (without asking the database).
pub fn within<T>(
    conn: &mut DbConnection,
    time: Duration,
    query: impl FnOnce(&mut DbConnection) -> QueryResult<T>,
) -> StoreResult<Option<T>> {
    if time.is_zero() {
        return Ok(None);
    }
    let outcome = match conn.backend() {
        Backend::Sqlite => {
            /// Lifts the deadline however the query ends (a panic included).
            struct Lift;
            impl Drop for Lift {
                fn drop(&mut self) {
                    DEADLINE.set(None);
                }
            }
            DEADLINE.set(Some(Instant::now() + time));
            SPENT.set(false);
            let outcome = {
                let _lift = Lift;
                query(conn)
            };
            match outcome {
                Err(_) if SPENT.get() => return Ok(None),
                outcome => outcome,
            }
        }
        Backend::Postgres => {
            let millis = time.as_millis().clamp(1, i32::MAX as u128);
            // Inside a caller's transaction ours is a savepoint, whose release would keep the
            // settings: they are put back then. Otherwise the commit ends them.
            let nested = match conn {
                DbConnection::Pg(pg) => {
                    AnsiTransactionManager::transaction_manager_status_mut(pg).transaction_depth()?.is_some()
                }
                DbConnection::Sqlite(_) => false,
            };
            // No parallel workers either: starting them costs more than a short query gains.
            let outcome = conn.transaction(|conn| {
                conn.batch_execute(&format!(
                    "SET LOCAL statement_timeout = {millis}; SET LOCAL max_parallel_workers_per_gather = 0"
                ))?;
                let outcome = query(conn)?;
                if nested {
                    conn.batch_execute(
                        "SET LOCAL statement_timeout TO DEFAULT; SET LOCAL max_parallel_workers_per_gather TO DEFAULT",
                    )?;
                }
                Ok(outcome)
            });
            match outcome {
                // Nothing else cancels our statements. A timeout that fires as a statement ends
                // reaches the next one, which PostgreSQL then says was cancelled "due to user
                // request": that is the time running out too.
                Err(diesel::result::Error::DatabaseError(_, info))
                    if info.message().starts_with("canceling statement due to") =>
                {
                    return Ok(None)
                }
                outcome => outcome,
            }
        }
    };
    Ok(Some(outcome?))
}
