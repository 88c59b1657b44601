//! Totals: counted exactly when that is cheap (kept facet or slot counts, or a bounded probe),
//! else estimated from an evenly spread sample; and events per 15-minute slot for the chart.

use std::time::Duration;

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};

use super::filter::{keyword_lookup, matching, matching_by, EventFilter, Lookup};
use crate::connection::{Backend, DbConnection};
use crate::error::StoreResult;
use crate::queries::slots::{self, Kept};
use crate::schema::events;
use crate::visibility::{EventPredicate, Viewer};

/// Visible matching events per 15-minute UTC slot (slot = seconds since the epoch / 900), the
/// grain from which any time zone's hours and days can be assembled exactly. A range on dates
/// alone is added up from the kept slot counts (see [`crate::queries::slots`]).
pub fn count_per_slot(
    conn: &mut DbConnection,
    viewer: &Viewer,
    filter: &EventFilter,
) -> StoreResult<Vec<(i64, i64)>> {
    let Some(Kept { mut kept, ends }) = slots::per_slot(conn, viewer, filter)? else {
        return events_per_slot(conn, viewer, filter);
    };
    for end in &ends {
        kept.extend(events_per_slot(conn, viewer, end)?);
    }
    Ok(kept)
}

/// [`count_per_slot`] read from the events themselves.
fn events_per_slot(
    conn: &mut DbConnection,
    viewer: &Viewer,
    filter: &EventFilter,
) -> StoreResult<Vec<(i64, i64)>> {
    // The only backend-specific SQL of the read path: epoch seconds of a stored timestamp.
    let slot = match conn.backend() {
        crate::Backend::Sqlite => "CAST(strftime('%s', events.occurred_at) AS INTEGER) / 900",
        crate::Backend::Postgres => "CAST(floor(extract(epoch FROM events.occurred_at) / 900) AS BIGINT)",
    };
    Ok(events::table
        .filter(matching(conn.backend(), viewer, filter))
        .group_by(sql::<BigInt>(slot))
        .select((sql::<BigInt>(slot), diesel::dsl::count_star()))
        .load::<(i64, i64)>(conn)?)
}

/// Events sampled to estimate a large total, in [`ESTIMATE_WINDOWS`] runs of consecutive `seq`
/// spread evenly over the tenant's live events: `seq` follows the time of recording, so a date
/// filter sees its share of the sample instead of all or nothing.
const ESTIMATE_SAMPLE: i64 = 10_000;
const ESTIMATE_WINDOWS: i64 = 20;

/// How long counting a page's matches may take before the total is estimated instead.
pub const EXACT_COUNT_TIME: Duration = Duration::from_millis(5);

/// What counting a total may cost, and what is known of it already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counting {
    /// Count exactly when there are at most this many matches…
    pub limit: i64,
    /// …and counting them takes at most this long.
    pub time: Duration,
    /// Matches known to exist (those before and on the page): no estimate says fewer.
    pub at_least: i64,
}

/// The number of matching events: exact when nothing narrows an admin's view (the chain head
/// says how many live events there are), when the filter asks only what the kept facet counts
/// hold (actors, module, verb, action) or only dates (the kept slot counts), or when there are at
/// most `limit` and a bounded probe finds them within `time`; else an estimate from the share of
/// matches in an evenly spread sample, never below what is known (`limit + 1` when the probe saw that many, and `at_least`),
/// unless the sample was every event, which makes it exact.
pub fn count_or_estimate(
    conn: &mut DbConnection,
    viewer: &Viewer,
    filter: &EventFilter,
    counting: Counting,
) -> StoreResult<(i64, bool)> {
    let lookup = keyword_lookup(conn, filter)?;
    count_or_estimate_by(conn, viewer, filter, counting, &lookup)
}

pub(super) fn count_or_estimate_by(
    conn: &mut DbConnection,
    viewer: &Viewer,
    filter: &EventFilter,
    counting: Counting,
    lookup: &Lookup,
) -> StoreResult<(i64, bool)> {
    if *filter == EventFilter::default() && viewer.role == crate::models::Role::Admin {
        let tenant = crate::queries::tenants::get(conn, viewer.tenant_id)?;
        return Ok((tenant.head_seq - tenant.chain_base_seq, false));
    }
    if let Some(counted) = crate::queries::facets::count_matching(conn, viewer, filter)? {
        return Ok((counted, false));
    }
    if let Some(Kept { kept, ends }) = slots::total(conn, viewer, filter)? {
        let mut counted = kept;
        for end in &ends {
            counted += count(conn, viewer, end)?;
        }
        return Ok((counted, false));
    }
    let backend = conn.backend();
    if *lookup == Lookup::Scan {
        // A word in more events than would be counted: estimate straight away.
        return estimate(conn, viewer, filter, counting.at_least);
    }
    let probe = crate::budget::within(conn, counting.time, |conn| {
        let mut query = events::table.into_boxed();
        if backend == Backend::Sqlite {
            // First, so that it is called for every row examined, matching or not.
            query = query.filter(sql::<Bool>(crate::budget::WITHIN_BUDGET));
        }
        query
            .filter(matching_by(backend, viewer, filter, lookup))
            .select(events::id)
            .limit(counting.limit + 1)
            .load::<i64>(conn)
    })?;
    let at_least = match probe {
        Some(ids) if ids.len() as i64 <= counting.limit => return Ok((ids.len() as i64, false)),
        Some(_) => counting.at_least.max(counting.limit + 1),
        None => counting.at_least,
    };
    estimate(conn, viewer, filter, at_least)
}

/// Matching events estimated from their share of an evenly spread sample of the tenant's (never
/// fewer than `at_least`, the matches known to exist), and whether that is an estimate: a tenant
/// with no more events than a sample is counted whole, exactly.
fn estimate(
    conn: &mut DbConnection,
    viewer: &Viewer,
    filter: &EventFilter,
    at_least: i64,
) -> StoreResult<(i64, bool)> {
    let tenant = crate::queries::tenants::get(conn, viewer.tenant_id)?;
    let live = tenant.head_seq - tenant.chain_base_seq;
    let windows = sample_windows(tenant.chain_base_seq, tenant.head_seq);
    let sampled: i64 = windows.iter().map(|(after, through)| through - after).sum();
    let window = |&(after, through): &(i64, i64)| -> EventPredicate {
        Box::new(
            events::tenant_id.eq(viewer.tenant_id).and(events::seq.gt(after)).and(events::seq.le(through)),
        )
    };
    let mut within = window(&windows[0]);
    for w in &windows[1..] {
        within = Box::new(within.or(window(w)));
    }
    // The filter is read as a value of each sampled row, not used as a condition: no index of
    // its columns then competes with the seq windows (PostgreSQL would otherwise AND a bitmap of,
    // say, every event holding a common word), and both planners read just the windows.
    let in_sample = events::table
        .filter(within)
        .select(matching_by(conn.backend(), viewer, filter, &Lookup::Scan).nullable())
        .load::<Option<bool>>(conn)?
        .into_iter()
        // NULL (a comparison with an empty column) is no match, as it is in a WHERE clause.
        .filter(|matched| *matched == Some(true))
        .count() as i64;
    Ok(if sampled >= live {
        (in_sample, false)
    } else {
        ((in_sample * live / sampled.max(1)).max(at_least), true)
    })
}

/// The `(after, through]` seq ranges sampled by [`count_or_estimate`]: [`ESTIMATE_WINDOWS`] runs
/// centred in equal slices of `(base, head]`, [`ESTIMATE_SAMPLE`] events in all (or everything).
fn sample_windows(base: i64, head: i64) -> Vec<(i64, i64)> {
    let live = head - base;
    if live <= ESTIMATE_SAMPLE {
        return vec![(base, head)];
    }
    let width = ESTIMATE_SAMPLE / ESTIMATE_WINDOWS;
    (0..ESTIMATE_WINDOWS)
        .map(|i| {
            let slice_start = base + live * i / ESTIMATE_WINDOWS;
            let slice_len = live * (i + 1) / ESTIMATE_WINDOWS - live * i / ESTIMATE_WINDOWS;
            let after = slice_start + (slice_len - width) / 2;
            (after, after + width)
        })
        .collect()
}

/// Number of visible matching events.
pub fn count(conn: &mut DbConnection, viewer: &Viewer, filter: &EventFilter) -> StoreResult<i64> {
    Ok(events::table.filter(matching(conn.backend(), viewer, filter)).count().get_result(conn)?)
}

/// Events of the tenant matching `filter` that `viewer`'s role does not show them, the keyword
/// looked for only in the fields they see ([`super::filter::matching_in_tenant`]).
pub fn count_hidden(conn: &mut DbConnection, viewer: &Viewer, filter: &EventFilter) -> StoreResult<i64> {
    let all: i64 = events::table
        .filter(super::filter::matching_in_tenant(conn.backend(), viewer, filter))
        .count()
        .get_result(conn)?;
    Ok((all - count(conn, viewer, filter)?).max(0))
}
