//! `GET /stats/timeline`: event counts per hour or day in a time zone, for the activity chart.

use actix_web::{get, web, HttpResponse};
use auditlog_db::queries::events as event_queries;
use chrono::{DateTime, Days, NaiveDate, NaiveDateTime, TimeDelta, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::aggregates::Read;
use crate::filters::{EventFilterParams, Filtered};
use crate::http::error::{ApiError, Problem};
use crate::http::state::AppState;

const MAX_BUCKETS: usize = 2000;

/// The width of a timeline bucket: an hour or a day in the caller's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Bucket {
    Hour,
    Day,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TimelineParams {
    /// Bucket size: `hour` or `day` (default), in the request's time zone.
    pub bucket: Option<Bucket>,
}

/// One bar of the chart.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineBucket {
    /// Start of the bucket (UTC instant of the local hour or midnight).
    pub start: DateTime<Utc>,
    /// End of the bucket, exclusive; use `start`/`end` as `from`/`to` to narrow the list to it.
    pub end: DateTime<Utc>,
    /// The bucket in local terms: `2026-11-21` or `2026-11-21 14:00`.
    pub label: String,
    pub count: i64,
}

/// Event counts per bucket over a time range.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineResponse {
    pub bucket: Bucket,
    /// The time zone buckets follow.
    pub tz: String,
    /// Every bucket of the range, empty ones included, oldest first.
    pub buckets: Vec<TimelineBucket>,
    /// Sum of all buckets.
    pub total: i64,
}

/// The local bucket that contains `instant`, as its local start.
fn bucket_start(instant: NaiveDateTime, tz: Tz, bucket: Bucket) -> NaiveDateTime {
    let local = Utc.from_utc_datetime(&instant).with_timezone(&tz).naive_local();
    match bucket {
        Bucket::Hour => local
            .with_minute(0)
            .and_then(|t| t.with_second(0))
            .and_then(|t| t.with_nanosecond(0))
            .unwrap_or(local),
        Bucket::Day => local.date().and_hms_opt(0, 0, 0).unwrap_or(local),
    }
}

/// The UTC instant of a local bucket start (the earliest, if the local time is ambiguous; the
/// next valid one if it falls in a DST gap).
fn to_utc(local: NaiveDateTime, tz: Tz) -> NaiveDateTime {
    (0..=120)
        .step_by(15)
        .find_map(|m| tz.from_local_datetime(&(local + TimeDelta::minutes(m))).earliest())
        .map(|t| t.naive_utc())
        .unwrap_or(local)
}

fn next_bucket(local: NaiveDateTime, bucket: Bucket) -> NaiveDateTime {
    match bucket {
        Bucket::Hour => local + TimeDelta::hours(1),
        Bucket::Day => local
            .date()
            .checked_add_days(Days::new(1))
            .unwrap_or(NaiveDate::MAX)
            .and_hms_opt(0, 0, 0)
            .unwrap_or(local),
    }
}

/// Assembles per-bucket counts from 15-minute UTC slot counts; every zone's offset is a multiple
/// of 15 minutes, so no slot straddles a local hour or day.
pub fn assemble(
    slots: &[(i64, i64)],
    from: NaiveDateTime,
    until: NaiveDateTime,
    tz: Tz,
    bucket: Bucket,
) -> Result<Vec<TimelineBucket>, ApiError> {
    let mut buckets = Vec::new();
    let mut local = bucket_start(from, tz, bucket);
    while to_utc(local, tz) < until {
        if buckets.len() == MAX_BUCKETS {
            return Err(ApiError::validation(
                format!("the range holds more than {MAX_BUCKETS} buckets: use bucket=day or a shorter range"),
                Vec::new(),
            ));
        }
        let next = next_bucket(local, bucket);
        let label = match bucket {
            Bucket::Hour => local.format("%Y-%m-%d %H:00").to_string(),
            Bucket::Day => local.format("%Y-%m-%d").to_string(),
        };
        let start = to_utc(local, tz).and_utc();
        // A local hour skipped by a DST change has no bucket of its own.
        if buckets.last().is_some_and(|b: &TimelineBucket| b.start == start) {
            local = next;
            continue;
        }
        buckets.push(TimelineBucket { start, end: to_utc(next, tz).and_utc(), label, count: 0 });
        local = next;
    }
    for (slot, count) in slots {
        let instant = DateTime::from_timestamp(slot * 900, 0).unwrap_or_default().naive_utc();
        let start = to_utc(bucket_start(instant, tz, bucket), tz).and_utc();
        if let Ok(i) = buckets.binary_search_by_key(&start, |b| b.start) {
            buckets[i].count += count;
        }
    }
    Ok(buckets)
}

/// Event counts per hour or day.
///
/// Counts with the list's filters and visibility. Without `from`/`to`/`range` the last 30 days
/// (day buckets) or 48 hours (hour buckets) are counted. With no filter but dates, the counts come
/// from counts kept as events are written, so the chart costs the same for any number of events.
/// For a large tenant an answer may be reused for a short while; a reused answer carries an `Age`
/// header (seconds), and a fresh one is computed in the background for the next caller.
#[utoipa::path(operation_id = "getTimeline", tag = "stats", security(("bearer" = [])),
    params(EventFilterParams, TimelineParams),
    responses(
        (status = 200, body = TimelineResponse, headers(("Age" = String, description = "Present when the answer is reused: its age in seconds"))),
        (status = 422, description = "Too many buckets", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/stats/timeline")]
pub async fn timeline(
    state: web::Data<AppState>,
    filtered: Filtered<TimelineParams>,
) -> Result<HttpResponse, ApiError> {
    let Filtered { caller, mut filter, tz, params, now, .. } = filtered;
    let bucket = params.bucket.unwrap_or(Bucket::Day);
    let read = Read::Timeline { filter: filter.clone(), hourly: bucket == Bucket::Hour, tz };
    let now = now.naive_utc();
    let until = filter.until.unwrap_or(now + TimeDelta::microseconds(1));
    let from = filter.from.unwrap_or_else(|| match bucket {
        Bucket::Day => until - TimeDelta::days(30),
        Bucket::Hour => until - TimeDelta::hours(48),
    });
    (filter.from, filter.until) = (Some(from), Some(until));
    // Check the bucket count before touching the database.
    assemble(&[], from, until, tz, bucket)?;
    state
        .aggregate(caller.viewer()?, read, move |conn, viewer| {
            let slots = event_queries::count_per_slot(conn, viewer, &filter)?;
            let buckets = assemble(&slots, from, until, tz, bucket)?;
            let total = buckets.iter().map(|b| b.count).sum();
            Ok(TimelineResponse { bucket, tz: tz.name().to_string(), buckets, total })
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> NaiveDateTime {
        DateTime::parse_from_rfc3339(s).unwrap().naive_utc()
    }

    fn slot(s: &str) -> i64 {
        utc(s).and_utc().timestamp() / 900
    }

    #[test]
    fn days_follow_the_zone_including_half_hour_offsets() {
        let tz: Tz = "Asia/Kolkata".parse().unwrap();
        // 18:29 UTC is 23:59 on the 1st in India; 18:30 UTC is already the 2nd.
        let slots = [(slot("2026-11-01T18:15:00Z"), 2), (slot("2026-11-01T18:30:00Z"), 5)];
        let b = assemble(&slots, utc("2026-10-31T18:30:00Z"), utc("2026-11-02T18:30:00Z"), tz, Bucket::Day)
            .unwrap();
        let got: Vec<(&str, i64)> = b.iter().map(|b| (b.label.as_str(), b.count)).collect();
        assert_eq!(got, [("2026-11-01", 2), ("2026-11-02", 5)]);
        assert_eq!(b[0].start.to_rfc3339(), "2026-10-31T18:30:00+00:00");
    }

    #[test]
    fn empty_hours_are_included_and_dst_days_have_23_hours() {
        let tz: Tz = "Europe/London".parse().unwrap();
        let b = assemble(&[], utc("2026-03-29T00:00:00Z"), utc("2026-03-29T23:00:00Z"), tz, Bucket::Hour)
            .unwrap();
        assert_eq!(b.len(), 23, "the clocks go forward on 29 March 2026");
        assert!(b.iter().all(|b| b.count == 0));
        assert!(assemble(&[], utc("2020-01-01T00:00:00Z"), utc("2026-01-01T00:00:00Z"), tz, Bucket::Hour)
            .is_err());
    }
}
