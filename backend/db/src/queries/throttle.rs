//! Counting failed sign-ins per key (an account or an IP) in fixed windows. Every statement is a
//! single atomic UPDATE or INSERT, so concurrent workers and processes never lose a count.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::{StoreError, StoreResult};
use crate::schema::login_throttle as lt;

/// If `key` has reached `limit` failures in the window that started at most `window` ago,
/// when that window ends.
pub fn blocked_until(
    conn: &mut DbConnection,
    key: &str,
    limit: i32,
    window: TimeDelta,
    now: NaiveDateTime,
) -> StoreResult<Option<NaiveDateTime>> {
    let row: Option<(i32, NaiveDateTime)> = lt::table
        .filter(lt::throttle_key.eq(key))
        .select((lt::failures, lt::window_started_at))
        .first(conn)
        .optional()?;
    Ok(row.and_then(|(failures, started)| {
        let ends = started + window;
        (failures >= limit && ends > now).then_some(ends)
    }))
}

/// Counts one failure for `key`.
pub fn record_failure(
    conn: &mut DbConnection,
    key: &str,
    window: TimeDelta,
    now: NaiveDateTime,
) -> StoreResult<()> {
    let cutoff = now - window;
    for _ in 0..3 {
        let counted = diesel::update(
            lt::table.filter(lt::throttle_key.eq(key)).filter(lt::window_started_at.gt(cutoff)),
        )
        .set(lt::failures.eq(lt::failures + 1))
        .execute(conn)?;
        if counted > 0 {
            return Ok(());
        }
        let restarted = diesel::update(
            lt::table.filter(lt::throttle_key.eq(key)).filter(lt::window_started_at.le(cutoff)),
        )
        .set((lt::failures.eq(1), lt::window_started_at.eq(now)))
        .execute(conn)?;
        if restarted > 0 {
            return Ok(());
        }
        let inserted = diesel::insert_into(lt::table)
            .values((lt::throttle_key.eq(key), lt::failures.eq(1), lt::window_started_at.eq(now)))
            .execute(conn);
        match inserted {
            Ok(_) => return Ok(()),
            // Another worker inserted it first: count on its row.
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::Conflict(format!("could not count a failure for {key}")))
}

/// Forgets the failures of `key` (after a successful sign-in).
pub fn clear(conn: &mut DbConnection, key: &str) -> StoreResult<()> {
    diesel::delete(lt::table.filter(lt::throttle_key.eq(key))).execute(conn)?;
    Ok(())
}
