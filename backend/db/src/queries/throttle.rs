//! Throttling guesses (sign-ins, password changes) per key: an account, an IP, an account from an
//! address it is known at.
//!
//! An attempt is counted **before** the password is checked ([`reserve`]) and settled after
//! ([`succeeded`], [`release`]; a failure stays counted), so however many requests arrive at
//! once, no more than the policy allows are ever evaluated. Every change is one atomic UPDATE or
//! INSERT, or a compare-and-set on the row's `version`, so concurrent workers and processes never
//! lose or double a count.
//!
//! A policy lets `free` attempts through; after that each further attempt must wait a delay that
//! doubles from `base_delay` up to `max_delay` after the one before (an exponential back-off, not
//! a flat lock). A key's streak is forgotten after `forget_after` without attempts, or at once by
//! a success.

use crate::ids::{TenantId, UserId};
use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::StoreResult;
use crate::schema::{login_throttle as lt, sign_in_addresses as known};

/// How many attempts a key gets, and how it backs off after them.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub free: i32,
    pub base_delay: TimeDelta,
    pub max_delay: TimeDelta,
    pub forget_after: TimeDelta,
}

impl Policy {
    /// How long after the last of `attempts` counted attempts the next one may start.
    pub fn delay_after(&self, attempts: i32) -> TimeDelta {
        if attempts < self.free {
            return TimeDelta::zero();
        }
        // 2^20 minutes is years: any cap in use is reached well before the shift overflows.
        let doublings = (attempts - self.free).min(20) as u32;
        (self.base_delay * (1i32 << doublings)).min(self.max_delay)
    }
}

/// Rows untouched for this long are pruned: longer than any policy's `forget_after`.
pub const LONGEST_WINDOW: TimeDelta = TimeDelta::hours(24);

/// The outcome of [`reserve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reserved {
    /// The attempt is counted and may be evaluated.
    Yes,
    /// Not before this time.
    Blocked(NaiveDateTime),
}

#[derive(Queryable)]
struct Row {
    attempts: i32,
    last_at: NaiveDateTime,
    version: i64,
}

/// Counts one attempt for `key` if `policy` allows one now.
pub fn reserve(
    conn: &mut DbConnection,
    key: &str,
    policy: &Policy,
    now: NaiveDateTime,
) -> StoreResult<Reserved> {
    // The common case in one statement: free attempts left, streak still current.
    let counted = diesel::update(
        lt::table
            .filter(lt::throttle_key.eq(key))
            .filter(lt::attempts.lt(policy.free))
            .filter(lt::last_at.gt(now - policy.forget_after)),
    )
    .set((lt::attempts.eq(lt::attempts + 1), lt::last_at.eq(now), lt::version.eq(lt::version + 1)))
    .execute(conn)?;
    if counted > 0 {
        return Ok(Reserved::Yes);
    }
    // Otherwise read, decide, and write only if nobody changed the row in between.
    for _ in 0..16 {
        let row: Option<Row> = lt::table
            .filter(lt::throttle_key.eq(key))
            .select((lt::attempts, lt::last_at, lt::version))
            .first(conn)
            .optional()?;
        let Some(row) = row else {
            let inserted = diesel::insert_into(lt::table)
                .values((
                    lt::throttle_key.eq(key),
                    lt::attempts.eq(1),
                    lt::first_at.eq(now),
                    lt::last_at.eq(now),
                    lt::version.eq(1i64),
                ))
                .execute(conn);
            match inserted {
                Ok(_) => {
                    prune(conn, now)?;
                    return Ok(Reserved::Yes);
                }
                // Another worker inserted it first: decide on its row.
                Err(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                )) => continue,
                Err(e) => return Err(e.into()),
            }
        };
        let allowed_at = row.last_at + policy.delay_after(row.attempts);
        if now < allowed_at {
            return Ok(Reserved::Blocked(allowed_at));
        }
        let forgotten = now - row.last_at >= policy.forget_after.max(policy.delay_after(row.attempts));
        let target = lt::table.filter(lt::throttle_key.eq(key)).filter(lt::version.eq(row.version));
        let written = if forgotten {
            diesel::update(target)
                .set((
                    lt::attempts.eq(1),
                    lt::first_at.eq(now),
                    lt::last_at.eq(now),
                    lt::version.eq(row.version + 1),
                ))
                .execute(conn)?
        } else {
            diesel::update(target)
                .set((
                    lt::attempts.eq(row.attempts + 1),
                    lt::last_at.eq(now),
                    lt::version.eq(row.version + 1),
                ))
                .execute(conn)?
        };
        if written > 0 {
            return Ok(Reserved::Yes);
        }
    }
    // So many attempts on one key at once are an attack: refuse this one, briefly.
    Ok(Reserved::Blocked(now + TimeDelta::seconds(1)))
}

/// Gives back an attempt that did not count as a failure (a success against a shared key such as
/// an IP, or an attempt that was never evaluated).
pub fn release(conn: &mut DbConnection, key: &str) -> StoreResult<()> {
    diesel::update(lt::table.filter(lt::throttle_key.eq(key)).filter(lt::attempts.gt(0)))
        .set((lt::attempts.eq(lt::attempts - 1), lt::version.eq(lt::version + 1)))
        .execute(conn)?;
    Ok(())
}

/// Ends `key`'s streak (the account proved its password).
pub fn succeeded(conn: &mut DbConnection, key: &str) -> StoreResult<()> {
    diesel::delete(lt::table.filter(lt::throttle_key.eq(key))).execute(conn)?;
    Ok(())
}

/// The attempts counted for `key` in its current streak (0 without one).
pub fn attempts(conn: &mut DbConnection, key: &str) -> StoreResult<i32> {
    Ok(lt::table.filter(lt::throttle_key.eq(key)).select(lt::attempts).first(conn).optional()?.unwrap_or(0))
}

/// Forgets keys untouched for longer than any policy remembers.
fn prune(conn: &mut DbConnection, now: NaiveDateTime) -> StoreResult<()> {
    diesel::delete(lt::table.filter(lt::last_at.lt(now - LONGEST_WINDOW))).execute(conn)?;
    Ok(())
}

/// How long a successful sign-in keeps an address known for its account.
pub const KNOWN_ADDRESS_DAYS: i64 = 90;

/// Whether `user_id` signed in successfully from `ip` within [`KNOWN_ADDRESS_DAYS`].
pub fn is_known_address(
    conn: &mut DbConnection,
    tenant_id: TenantId,
    user_id: UserId,
    ip: &str,
    now: NaiveDateTime,
) -> StoreResult<bool> {
    let count: i64 = known::table
        .filter(known::tenant_id.eq(tenant_id))
        .filter(known::user_id.eq(user_id))
        .filter(known::ip.eq(ip))
        .filter(known::last_success_at.gt(now - TimeDelta::days(KNOWN_ADDRESS_DAYS)))
        .count()
        .get_result(conn)?;
    Ok(count > 0)
}

/// Remembers that `user_id` signed in from `ip` now.
pub fn remember_address(
    conn: &mut DbConnection,
    tenant_id: TenantId,
    user_id: UserId,
    ip: &str,
    now: NaiveDateTime,
) -> StoreResult<()> {
    let target = known::table
        .filter(known::tenant_id.eq(tenant_id))
        .filter(known::user_id.eq(user_id))
        .filter(known::ip.eq(ip));
    if diesel::update(target).set(known::last_success_at.eq(now)).execute(conn)? == 0 {
        let inserted = diesel::insert_into(known::table)
            .values((
                known::tenant_id.eq(tenant_id),
                known::user_id.eq(user_id),
                known::ip.eq(ip),
                known::last_success_at.eq(now),
            ))
            .execute(conn);
        match inserted {
            // A concurrent sign-in from the same address remembered it first.
            Ok(_)
            | Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => {}
            Err(e) => return Err(e.into()),
        }
    }
    diesel::delete(
        known::table
            .filter(known::user_id.eq(user_id))
            .filter(known::last_success_at.lt(now - TimeDelta::days(KNOWN_ADDRESS_DAYS))),
    )
    .execute(conn)?;
    Ok(())
}
