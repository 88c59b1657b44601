//! Date ranges answered from `slot_counts` (events per 15-minute UTC slot, kept by triggers):
//! the whole slots inside a range are added up here, and the filters of its partial slots at
//! either end are handed back, for the caller to count from the events
//! ([`crate::queries::events::count`]). Used by the activity chart and by page totals of
//! date-only filters.

use chrono::{DateTime, NaiveDateTime};
use diesel::prelude::*;

use super::summed_counts;
use crate::connection::DbConnection;
use crate::error::StoreResult;
use crate::queries::events::filter::EventFilter;
use crate::schema::slot_counts;
use crate::visibility::{slots_visible_to, SlotPredicate, Viewer};

const SLOT_SECONDS: i64 = 900;

/// How a date range splits: slots `first..end` wholly inside it, and the filters of the partial
/// slots at its ends.
struct Plan {
    visible: SlotPredicate,
    first: i64,
    end: i64,
    ends: Vec<EventFilter>,
}

fn slot_of(t: NaiveDateTime) -> i64 {
    t.and_utc().timestamp().div_euclid(SLOT_SECONDS)
}

fn start_of(slot: i64) -> Option<NaiveDateTime> {
    DateTime::from_timestamp(slot * SLOT_SECONDS, 0).map(|t| t.naive_utc())
}

/// The plan for `filter`, when the slot counts can answer it: a filter on nothing but dates
/// (from 1970 on, the slots' epoch) read by someone who does not see only their own events, and
/// a range that holds at least one whole slot.
fn plan(viewer: &Viewer, filter: &EventFilter) -> Option<Plan> {
    let undated = EventFilter { from: None, until: None, ..filter.clone() };
    if undated != EventFilter::default() {
        return None;
    }
    let epoch = DateTime::UNIX_EPOCH.naive_utc();
    if filter.from.is_some_and(|t| t < epoch) || filter.until.is_some_and(|t| t < epoch) {
        return None;
    }
    let visible = slots_visible_to(viewer)?;
    let mut ends = Vec::new();
    let first = match filter.from {
        None => i64::MIN,
        Some(from) => {
            let slot = slot_of(from);
            let first = if start_of(slot)? == from { slot } else { slot + 1 };
            ends.push(EventFilter { from: Some(from), until: Some(start_of(first)?), ..Default::default() });
            first
        }
    };
    let end = match filter.until {
        None => i64::MAX,
        Some(until) => {
            let end = slot_of(until);
            ends.push(EventFilter { from: Some(start_of(end)?), until: Some(until), ..Default::default() });
            end
        }
    };
    if first >= end {
        return None;
    }
    ends.retain(|e| e.from < e.until);
    Some(Plan { visible, first, end, ends })
}

/// What the slot counts say of a date-only filter's range: the kept part, and the filters of the
/// partial slots at its ends, still to be read from the events.
pub(crate) struct Kept<T> {
    pub kept: T,
    pub ends: Vec<EventFilter>,
}

/// The visible events in the whole slots of a date-only filter's range, or `None` when the slot
/// counts cannot answer it.
pub(crate) fn total(
    conn: &mut DbConnection,
    viewer: &Viewer,
    filter: &EventFilter,
) -> StoreResult<Option<Kept<i64>>> {
    let Some(plan) = plan(viewer, filter) else { return Ok(None) };
    let kept: i64 = slot_counts::table
        .filter(plan.visible)
        .filter(slot_counts::slot.ge(plan.first))
        .filter(slot_counts::slot.lt(plan.end))
        .select(summed_counts())
        .first(conn)?;
    Ok(Some(Kept { kept, ends: plan.ends }))
}

/// `(slot, events)` pairs.
pub(crate) type SlotCounts = Vec<(i64, i64)>;

/// Visible events per whole slot of a date-only filter's range, or `None` when the slot counts
/// cannot answer it.
pub(crate) fn per_slot(
    conn: &mut DbConnection,
    viewer: &Viewer,
    filter: &EventFilter,
) -> StoreResult<Option<Kept<SlotCounts>>> {
    let Some(plan) = plan(viewer, filter) else { return Ok(None) };
    let kept: SlotCounts = slot_counts::table
        .filter(plan.visible)
        .filter(slot_counts::slot.ge(plan.first))
        .filter(slot_counts::slot.lt(plan.end))
        .group_by(slot_counts::slot)
        .select((slot_counts::slot, summed_counts()))
        .load(conn)?;
    Ok(Some(Kept { kept, ends: plan.ends }))
}
