//! `GET /stats/timeline`: event counts per hour or day in a time zone, for the activity chart.

use actix_web::{get, web, HttpResponse};
use auditlog_db::queries::events as event_queries;
use auditlog_db::queries::events::EventFilter;
use chrono::{
    DateTime, Datelike, Days, Months, NaiveDate, NaiveDateTime, TimeDelta, TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::aggregates::Read;
use crate::filters::{EventFilterParams, Filtered};
use crate::http::error::{ApiError, Problem};
use crate::http::state::AppState;

const MAX_BUCKETS: usize = 2000;

/// The width of a timeline bucket, in the caller's time zone: an hour, a day, a week (from
/// Monday) or a calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Bucket {
    Hour,
    Day,
    Week,
    Month,
}

impl Bucket {
    /// The buckets from narrowest to widest.
    const ALL: [Bucket; 4] = [Bucket::Hour, Bucket::Day, Bucket::Week, Bucket::Month];

    /// The shortest a bucket can be (a day with the clocks going forward, February).
    fn shortest(self) -> TimeDelta {
        match self {
            Bucket::Hour => TimeDelta::hours(1),
            Bucket::Day => TimeDelta::hours(23),
            Bucket::Week => TimeDelta::days(7) - TimeDelta::hours(1),
            Bucket::Month => TimeDelta::days(28) - TimeDelta::hours(1),
        }
    }

    /// `self`, or the narrowest wider bucket that shows the span in at most [`MAX_BUCKETS`] bars.
    fn widened_for(self, from: NaiveDateTime, until: NaiveDateTime) -> Bucket {
        let fits =
            |b: &Bucket| (until - from).num_seconds() / b.shortest().num_seconds() < MAX_BUCKETS as i64;
        Bucket::ALL.into_iter().skip_while(|b| *b != self).find(fits).unwrap_or(Bucket::Month)
    }

    /// The narrowest bucket that shows a span in a chart's worth of bars: hours up to two days,
    /// days up to about three months, weeks up to three years, months beyond.
    pub fn fitting(from: NaiveDateTime, until: NaiveDateTime) -> Bucket {
        let span = until - from;
        if span <= TimeDelta::days(2) {
            Bucket::Hour
        } else if span <= TimeDelta::days(92) {
            Bucket::Day
        } else if span <= TimeDelta::days(3 * 366) {
            Bucket::Week
        } else {
            Bucket::Month
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TimelineParams {
    /// Bucket size, in the request's time zone: `hour`, `day`, `week` (from Monday) or `month`.
    /// Without it, the narrowest that shows the range in at most about a hundred bars: hours up
    /// to two days, days up to 92 days, weeks up to three years, months beyond. Without a start
    /// (`from` or `range`), a bucket that would need more than 2 000 bars over the data's own
    /// span is widened (the answer's `bucket` says which); with a start given, such a range is
    /// refused (422).
    pub bucket: Option<Bucket>,
}

/// One bar of the chart.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineBucket {
    /// Start of the bucket (UTC instant of the local hour, midnight, Monday or first of the month).
    pub start: DateTime<Utc>,
    /// End of the bucket, exclusive; use `start`/`end` as `from`/`to` to narrow the list to it.
    pub end: DateTime<Utc>,
    /// The bucket in local terms: `2026-11-21 14:00` (hour), `2026-11-21` (day; a week by its
    /// Monday) or `2026-11` (month).
    pub label: String,
    pub count: i64,
    /// The range covers only part of the bucket (it starts or ends inside it), or the bucket is
    /// not over yet: its count is not comparable with a whole bucket's.
    pub partial: bool,
}

/// Event counts per bucket over a time range.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineResponse {
    pub bucket: Bucket,
    /// The time zone buckets follow.
    pub tz: String,
    /// The range counted, as the list reads the same filters: its start (an open start: the
    /// start of the bucket holding the earliest matching event)…
    pub from: DateTime<Utc>,
    /// …and its end, exclusive (an open end: now, or later when events are dated ahead).
    pub until: DateTime<Utc>,
    /// Every bucket of the range, empty ones included, oldest first.
    pub buckets: Vec<TimelineBucket>,
    /// Sum of all buckets: the number of matching events in the range.
    pub total: i64,
}

/// The local bucket that contains `instant`, as its local start.
fn bucket_start(instant: NaiveDateTime, tz: Tz, bucket: Bucket) -> NaiveDateTime {
    let local = Utc.from_utc_datetime(&instant).with_timezone(&tz).naive_local();
    let midnight = |d: NaiveDate| d.and_hms_opt(0, 0, 0).unwrap_or(local);
    match bucket {
        Bucket::Hour => local
            .with_minute(0)
            .and_then(|t| t.with_second(0))
            .and_then(|t| t.with_nanosecond(0))
            .unwrap_or(local),
        Bucket::Day => midnight(local.date()),
        Bucket::Week => {
            let back = Days::new(u64::from(local.date().weekday().num_days_from_monday()));
            midnight(local.date().checked_sub_days(back).unwrap_or(local.date()))
        }
        Bucket::Month => midnight(local.date().with_day(1).unwrap_or(local.date())),
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
    let date = local.date();
    let next = match bucket {
        Bucket::Hour => return local + TimeDelta::hours(1),
        Bucket::Day => date.checked_add_days(Days::new(1)),
        Bucket::Week => date.checked_add_days(Days::new(7)),
        Bucket::Month => date.checked_add_months(Months::new(1)),
    };
    next.unwrap_or(NaiveDate::MAX).and_hms_opt(0, 0, 0).unwrap_or(local)
}

/// Assembles per-bucket counts over `[from, until)` from 15-minute UTC slot counts; every zone's offset is a multiple of 15 minutes, so no slot
/// straddles a local hour or day. A bucket the range cuts, or one that ends after `now`, is
/// partial.
pub fn assemble(
    slots: &[(i64, i64)],
    (from, until): (NaiveDateTime, NaiveDateTime),
    tz: Tz,
    bucket: Bucket,
    now: NaiveDateTime,
) -> Result<Vec<TimelineBucket>, ApiError> {
    let mut buckets = Vec::new();
    let mut local = bucket_start(from, tz, bucket);
    while to_utc(local, tz) < until {
        if buckets.len() == MAX_BUCKETS {
            return Err(ApiError::validation(
                format!(
                    "the range holds more than {MAX_BUCKETS} buckets: use a wider bucket or a shorter range"
                ),
                Vec::new(),
            ));
        }
        let next = next_bucket(local, bucket);
        let label = match bucket {
            Bucket::Hour => local.format("%Y-%m-%d %H:00").to_string(),
            Bucket::Day | Bucket::Week => local.format("%Y-%m-%d").to_string(),
            Bucket::Month => local.format("%Y-%m").to_string(),
        };
        let (start, end) = (to_utc(local, tz), to_utc(next, tz));
        // A local hour skipped by a DST change has no bucket of its own.
        if buckets.last().is_some_and(|b: &TimelineBucket| b.start == start.and_utc()) {
            local = next;
            continue;
        }
        let partial = start < from || end > until || end > now;
        buckets.push(TimelineBucket { start: start.and_utc(), end: end.and_utc(), label, count: 0, partial });
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

/// The range the chart covers: the filter's own ends where it has them; an open start begins at
/// the bucket holding the earliest counted slot, an open end at now (or the end of the latest
/// slot, for events dated ahead). Without any event the open start is 30 days (48 hours for
/// hourly buckets) back.
fn span(
    filter: &EventFilter,
    slots: &[(i64, i64)],
    now: NaiveDateTime,
    asked: Option<Bucket>,
    tz: Tz,
) -> ((NaiveDateTime, NaiveDateTime), Bucket) {
    let slot_time = |slot: i64| DateTime::from_timestamp(slot * 900, 0).map(|t| t.naive_utc());
    let counted = slots.iter().filter(|(_, count)| *count > 0).map(|(slot, _)| *slot);
    let (first, last) =
        (counted.clone().min().and_then(slot_time), counted.max().and_then(|s| slot_time(s + 1)));
    let until = filter.until.unwrap_or_else(|| last.map_or(now, |last| last.max(now)));
    let Some(from) = filter.from else {
        let from = first.filter(|f| *f < until).unwrap_or_else(|| match asked {
            Some(Bucket::Hour) => until - TimeDelta::hours(48),
            _ => until - TimeDelta::days(30),
        });
        // A bucket asked for over the data's own span is widened when the span needs too many.
        let bucket = asked.map_or_else(|| Bucket::fitting(from, until), |b| b.widened_for(from, until));
        // An open start is no cut: it begins with its bucket.
        return ((to_utc(bucket_start(from, tz, bucket), tz), until), bucket);
    };
    // A start given with a bucket: the caller's choice, refused (422) when it needs too many.
    ((from, until), asked.unwrap_or_else(|| Bucket::fitting(from, until)))
}

/// Event counts per hour, day, week or month.
///
/// Counts with the list's filters and visibility, over the same range as the list: the filter's
/// dates where it has them; an open start (no `from` or `range`: "any time") begins with the
/// earliest matching event, an open end is now. `from`/`until` in the answer say what was
/// counted, and a bucket the range covers only in part (or that is still going on) is marked
/// `partial`. With no filter but dates, the counts come from counts kept as events are written, so
/// the chart costs the same for any number of events. For a large tenant an answer may be reused
/// for a short while; a reused answer carries an `Age` header (seconds), and a fresh one is
/// computed in the background for the next caller.
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
    let Filtered { caller, filter, tz, params, now, .. } = filtered;
    let asked = params.bucket;
    let read = Read::Timeline { filter: filter.clone(), bucket: asked, tz };
    let now = now.naive_utc();
    // A closed range's bucket count is checked before touching the database.
    if let (Some(from), Some(until)) = (filter.from, filter.until) {
        assemble(&[], (from, until), tz, asked.unwrap_or_else(|| Bucket::fitting(from, until)), now)?;
    }
    state
        .aggregate(caller.viewer()?, read, move |conn, viewer| {
            let slots = event_queries::count_per_slot(conn, viewer, &filter)?;
            let (range, bucket) = span(&filter, &slots, now, asked, tz);
            let buckets = assemble(&slots, range, tz, bucket, now)?;
            let total = buckets.iter().map(|b| b.count).sum();
            let (from, until) = (range.0.and_utc(), range.1.and_utc());
            Ok(TimelineResponse { bucket, tz: tz.name().to_string(), from, until, buckets, total })
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

    fn later() -> NaiveDateTime {
        utc("2100-01-01T00:00:00Z")
    }

    #[test]
    fn days_follow_the_zone_including_half_hour_offsets() {
        let tz: Tz = "Asia/Kolkata".parse().unwrap();
        // 18:29 UTC is 23:59 on the 1st in India; 18:30 UTC is already the 2nd.
        let slots = [(slot("2026-11-01T18:15:00Z"), 2), (slot("2026-11-01T18:30:00Z"), 5)];
        let range = (utc("2026-10-31T18:30:00Z"), utc("2026-11-02T18:30:00Z"));
        let b = assemble(&slots, range, tz, Bucket::Day, later()).unwrap();
        let got: Vec<(&str, i64, bool)> = b.iter().map(|b| (b.label.as_str(), b.count, b.partial)).collect();
        assert_eq!(got, [("2026-11-01", 2, false), ("2026-11-02", 5, false)]);
        assert_eq!(b[0].start.to_rfc3339(), "2026-10-31T18:30:00+00:00");
    }

    #[test]
    fn empty_hours_are_included_and_dst_days_have_23_hours() {
        let tz: Tz = "Europe/London".parse().unwrap();
        let range = (utc("2026-03-29T00:00:00Z"), utc("2026-03-29T23:00:00Z"));
        let b = assemble(&[], range, tz, Bucket::Hour, later()).unwrap();
        assert_eq!(b.len(), 23, "the clocks go forward on 29 March 2026");
        assert!(b.iter().all(|b| b.count == 0 && !b.partial));
        let years = (utc("2020-01-01T00:00:00Z"), utc("2026-01-01T00:00:00Z"));
        assert!(assemble(&[], years, tz, Bucket::Hour, later()).is_err());
        assert_eq!(assemble(&[], years, tz, Bucket::Month, later()).unwrap().len(), 72);
    }

    #[test]
    fn a_bucket_the_range_cuts_or_that_is_not_over_is_partial() {
        let tz = Tz::UTC;
        let slots = [
            (slot("2026-11-01T15:00:00Z"), 3),
            (slot("2026-11-02T09:00:00Z"), 4),
            (slot("2026-11-03T10:00:00Z"), 1),
        ];
        // From mid-afternoon of the 1st to "now", the morning of the 3rd.
        let range = (utc("2026-11-01T14:30:00Z"), utc("2026-11-03T11:00:00Z"));
        let b = assemble(&slots, range, tz, Bucket::Day, utc("2026-11-03T11:00:00Z")).unwrap();
        let got: Vec<(&str, i64, bool)> = b.iter().map(|b| (b.label.as_str(), b.count, b.partial)).collect();
        assert_eq!(got, [("2026-11-01", 3, true), ("2026-11-02", 4, false), ("2026-11-03", 1, true)]);
        // A whole day that is still going on is partial too.
        let today = (utc("2026-11-03T00:00:00Z"), utc("2026-11-04T00:00:00Z"));
        assert!(assemble(&[], today, tz, Bucket::Day, utc("2026-11-03T11:00:00Z")).unwrap()[0].partial);
    }

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first_in_the_zone() {
        let tz: Tz = "Europe/Warsaw".parse().unwrap();
        // Sunday 29 November 23:30 in Warsaw is still week 48; 23:00 UTC on the 30th is 1 December.
        let slots = [
            (slot("2026-11-29T22:30:00Z"), 2),
            (slot("2026-11-29T23:00:00Z"), 5),
            (slot("2026-11-30T23:00:00Z"), 7),
        ];
        let range = (utc("2026-11-01T00:00:00Z"), utc("2026-12-10T00:00:00Z"));
        let weeks = assemble(&slots, range, tz, Bucket::Week, later()).unwrap();
        let got: Vec<(&str, i64)> =
            weeks.iter().filter(|b| b.count > 0).map(|b| (b.label.as_str(), b.count)).collect();
        assert_eq!(got, [("2026-11-23", 2), ("2026-11-30", 12)]);
        assert_eq!(weeks[0].label, "2026-10-26");
        assert!(weeks[0].partial && weeks.last().unwrap().partial);
        assert_eq!(weeks[1].end - weeks[1].start, TimeDelta::days(7));
        let months = assemble(&slots, range, tz, Bucket::Month, later()).unwrap();
        let got: Vec<(&str, i64)> = months.iter().map(|b| (b.label.as_str(), b.count)).collect();
        assert_eq!(got, [("2026-11", 7), ("2026-12", 7)]);
        // Midnight UTC on the 1st is 01:00 in Warsaw: November, cut by an hour.
        assert_eq!(months[0].start.to_rfc3339(), "2026-10-31T23:00:00+00:00");
        assert!(months[0].partial);
    }

    #[test]
    fn an_open_range_spans_the_data_with_a_bucket_that_fits() {
        let tz = Tz::UTC;
        let now = utc("2026-12-07T12:00:00Z");
        let open = EventFilter::default();
        // Events over four months: weeks, from the Monday of the first event, to now.
        let slots = [(slot("2026-08-05T10:00:00Z"), 1), (slot("2026-12-07T09:00:00Z"), 1)];
        let ((from, until), bucket) = span(&open, &slots, now, None, tz);
        assert_eq!((from, until, bucket), (utc("2026-08-03T00:00:00Z"), now, Bucket::Week));
        let b = assemble(&slots, (from, until), tz, bucket, now).unwrap();
        assert!(!b[0].partial && b.last().unwrap().partial, "only the week still going on is partial");
        assert_eq!(b.iter().map(|b| b.count).sum::<i64>(), 2);
        // A day of events: hours. An event dated ahead stretches the end.
        let slots = [(slot("2026-12-07T08:00:00Z"), 1), (slot("2026-12-07T12:00:00Z"), 1)];
        let ((from, until), bucket) = span(&open, &slots, now, None, tz);
        assert_eq!(
            (from, until, bucket),
            (utc("2026-12-07T08:00:00Z"), utc("2026-12-07T12:15:00Z"), Bucket::Hour)
        );
        // Years: months. Nothing at all: the last 30 days.
        let slots = [(slot("2019-03-01T00:00:00Z"), 1)];
        assert_eq!(span(&open, &slots, now, None, tz).1, Bucket::Month);
        let ((from, _), bucket) = span(&open, &[], now, None, tz);
        assert_eq!((from, bucket), (utc("2026-11-07T00:00:00Z"), Bucket::Day));
        // A bucket asked for over an open span of decades is widened to fit; a closed range is not.
        let decades = [(slot("1971-01-01T00:00:00Z"), 1)];
        assert_eq!(span(&open, &decades, now, Some(Bucket::Day), tz).1, Bucket::Month);
        assert_eq!(
            span(&open, &slots, now, Some(Bucket::Day), tz).1,
            Bucket::Week,
            "seven years of days do not"
        );
        let three_years = [(slot("2024-01-01T00:00:00Z"), 1)];
        assert_eq!(
            span(&open, &three_years, now, Some(Bucket::Day), tz).1,
            Bucket::Day,
            "three years of days fit"
        );
        assert_eq!(span(&open, &decades, now, Some(Bucket::Hour), tz).1, Bucket::Month);
        // A closed range stays as asked, however little of it has events.
        let closed =
            EventFilter { from: Some(utc("2026-11-01T00:00:00Z")), until: Some(now), ..Default::default() };
        let ((from, until), bucket) = span(&closed, &slots, now, Some(Bucket::Day), tz);
        assert_eq!((from, until, bucket), (utc("2026-11-01T00:00:00Z"), now, Bucket::Day));
    }
}
