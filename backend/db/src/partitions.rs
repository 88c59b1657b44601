//! PostgreSQL keeps `events` in monthly partitions of `recorded_at` (SQLite keeps one table):
//! the coming months are created ahead, and a closed month is detached and dropped once
//! retention has archived every event in it. The SQL functions live in the migration.

use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};

use crate::connection::DbConnection;
use crate::error::StoreResult;

/// Partitions kept ready beyond the current month.
pub const MONTHS_AHEAD: i32 = 3;

#[derive(QueryableByName)]
struct Created {
    #[diesel(sql_type = Integer)]
    created: i32,
}

#[derive(QueryableByName, Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    #[diesel(sql_type = Text)]
    pub name: String,
    /// `FOR VALUES FROM (…) TO (…)`, or `DEFAULT`.
    #[diesel(sql_type = Text)]
    pub bounds: String,
}

/// Creates the current month's partition and the next [`MONTHS_AHEAD`] if missing; returns how
/// many were created (always 0 on SQLite).
pub fn prepare(conn: &mut DbConnection) -> StoreResult<i32> {
    let DbConnection::Pg(pg) = conn else { return Ok(0) };
    let row: Created = diesel::sql_query("SELECT events_prepare_partitions($1) AS created")
        .bind::<Integer, _>(MONTHS_AHEAD)
        .get_result(pg)?;
    Ok(row.created)
}

/// The partitions of `events`, oldest first (empty on SQLite).
pub fn list(conn: &mut DbConnection) -> StoreResult<Vec<Partition>> {
    let DbConnection::Pg(pg) = conn else { return Ok(Vec::new()) };
    Ok(diesel::sql_query(
        "SELECT c.relname::text AS name, pg_get_expr(c.relpartbound, c.oid) AS bounds \
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
         WHERE i.inhparent = 'events'::regclass ORDER BY c.relname",
    )
    .load(pg)?)
}

/// Detaches and drops each month partition that ended before the current month began and holds
/// no events any more (retention archived and removed them all); returns their names. A month
/// still holding any tenant's events stays.
pub fn drop_emptied(conn: &mut DbConnection) -> StoreResult<Vec<String>> {
    let DbConnection::Pg(_) = conn else { return Ok(Vec::new()) };
    let current = chrono::Utc::now().format("events_%Y_%m").to_string();
    let mut dropped = Vec::new();
    for partition in list(conn)? {
        // Month partitions are named events_YYYY_MM and sort by month: only closed ones qualify.
        let month = partition.name.strip_prefix("events_").unwrap_or_default();
        let is_month = month.len() == 7 && month.chars().all(|c| c.is_ascii_digit() || c == '_');
        if !is_month || partition.name >= current {
            continue;
        }
        let DbConnection::Pg(pg) = &mut *conn else { unreachable!() };
        // The owner's function locks the month, checks it holds no event (none can arrive in a
        // closed month: recorded_at is the ingest clock) and drops it.
        #[derive(QueryableByName)]
        struct Gone {
            #[diesel(sql_type = diesel::sql_types::Bool)]
            gone: bool,
        }
        let gone: Gone = diesel::sql_query("SELECT events_drop_emptied_partition($1) AS gone")
            .bind::<Text, _>(&partition.name)
            .get_result(pg)?;
        if gone.gone {
            dropped.push(partition.name);
        }
    }
    Ok(dropped)
}
