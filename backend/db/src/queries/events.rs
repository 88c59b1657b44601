//! Reading events: one filter, one sort, two paging modes (page number or keyset cursor).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text, Timestamp};
use serde::{Deserialize, Serialize};

use super::contains_pattern;
use crate::connection::MultiBackend;
use crate::connection::{Backend, DbConnection};
use crate::error::{StoreError, StoreResult};
use crate::models::{EntityRef, Event, EventRow};
use crate::schema::{event_related, events};
use crate::visibility::{visible_to, EventPredicate, Viewer};

type EventQuery<'a> = events::BoxedQuery<'a, MultiBackend>;

/// Separates the fields of `search_text`; keyword searches may not contain it.
pub const SEARCH_SEPARATOR: char = '\u{1f}';

/// Every filter of the list, export, stats and stream endpoints, already validated.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventFilter {
    /// Inclusive lower bound on `occurred_at` (UTC).
    pub from: Option<NaiveDateTime>,
    /// Exclusive upper bound on `occurred_at` (UTC).
    pub until: Option<NaiveDateTime>,
    /// Any of these `actor.id`s.
    pub actor_ids: Vec<String>,
    pub module: Option<String>,
    pub verb: Option<String>,
    pub action: Option<String>,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub ip: Option<String>,
    /// Keyword, lower-cased; an integer also matches the event id.
    pub q: Option<String>,
    /// Only the reader's own events ("My dashboard").
    pub mine: bool,
    /// A record whose history is wanted: its own events and those naming it in `related`.
    pub record: Option<EntityRef>,
    /// Only these event ids (selected rows).
    pub ids: Vec<i64>,
    /// Only events up to this `seq` (an export's fixed end, so it and its manifest agree).
    pub through_seq: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    #[default]
    OccurredAt,
    Actor,
    Module,
    Verb,
    Action,
    Ip,
}

impl SortKey {
    /// The column sorted on before `occurred_at` and `id` (each has an index on
    /// `(tenant_id, column, occurred_at, id)`); none when sorting by time alone.
    pub fn column(self) -> Option<&'static str> {
        match self {
            SortKey::OccurredAt => None,
            SortKey::Actor => Some("actor_name"),
            SortKey::Module => Some("module"),
            SortKey::Verb => Some("verb"),
            SortKey::Action => Some("action"),
            SortKey::Ip => Some("ip"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SortOrder {
    Asc,
    #[default]
    Desc,
}

/// A sort column; ties are broken by `occurred_at`, then by `id`, in the same direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sort {
    pub key: SortKey,
    pub order: SortOrder,
}

/// Position after the last row of a page, for keyset paging.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    #[serde(rename = "k")]
    pub key: SortKey,
    #[serde(rename = "o")]
    pub order: SortOrder,
    /// The sort column's value (absent when sorting by time).
    #[serde(rename = "v", default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// `occurred_at` in microseconds since the epoch.
    #[serde(rename = "t")]
    pub occurred_at_us: i64,
    #[serde(rename = "i")]
    pub id: i64,
}

impl Cursor {
    fn after(row: &EventRow, sort: Sort) -> Self {
        let value = match sort.key {
            SortKey::OccurredAt => None,
            SortKey::Actor => Some(row.actor_name.clone()),
            SortKey::Module => Some(row.module.clone()),
            SortKey::Verb => Some(row.verb.clone()),
            SortKey::Action => Some(row.action.clone()),
            SortKey::Ip => Some(row.ip.clone()),
        };
        Cursor {
            key: sort.key,
            order: sort.order,
            value,
            occurred_at_us: row.occurred_at.and_utc().timestamp_micros(),
            id: row.id,
        }
    }

    /// The opaque text form handed to clients.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// Parses a client's cursor; it must have been made for the same sort.
    pub fn decode(text: &str, sort: Sort) -> Result<Self, String> {
        let invalid = || "cursor is not valid: pass back a next_cursor exactly as received".to_string();
        let bytes = URL_SAFE_NO_PAD.decode(text.trim()).map_err(|_| invalid())?;
        let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        if cursor.key != sort.key || cursor.order != sort.order {
            return Err("cursor was made for another sort or order: restart paging without it".into());
        }
        if (cursor.key == SortKey::OccurredAt) != cursor.value.is_none() {
            return Err(invalid());
        }
        // No stored value holds NUL (PostgreSQL cannot even compare it), and no stored time lies
        // outside the years 1 to 9999 (PostgreSQL cannot represent some of those chrono can).
        if cursor.value.as_deref().is_some_and(|v| v.contains('\0')) {
            return Err(invalid());
        }
        let time = DateTime::from_timestamp_micros(cursor.occurred_at_us).ok_or_else(invalid)?;
        if !(1..=9999).contains(&chrono::Datelike::year(&time)) {
            return Err(invalid());
        }
        Ok(cursor)
    }

    fn occurred_at(&self) -> NaiveDateTime {
        DateTime::from_timestamp_micros(self.occurred_at_us).map(|t| t.naive_utc()).unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Paging {
    /// 1-based page number; the response carries the total.
    Page(u32),
    /// Keyset paging from after this position (or from the start).
    Cursor(Option<Cursor>),
}

#[derive(Debug, Clone)]
pub struct ListRequest {
    pub filter: EventFilter,
    pub sort: Sort,
    pub per_page: u32,
    pub paging: Paging,
    /// Above this many matches (or when counting them takes longer than [`EXACT_COUNT_TIME`]),
    /// page mode estimates the total instead of counting every row.
    pub exact_count_limit: i64,
    /// An estimate of this filter's total made moments ago for the same reader: page mode answers
    /// it (flagged, and never below the events up to and on the page) instead of estimating again.
    pub recent_estimate: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct EventPage {
    pub items: Vec<Event>,
    /// Matching events in all pages (page mode only).
    pub total: Option<i64>,
    /// Whether `total` is an estimate (more matches than `exact_count_limit`, or too slow to count).
    pub total_is_estimate: bool,
    /// Where the next page starts, if there is one.
    pub next: Option<Cursor>,
}

/// The condition selecting the events `viewer` may see that match `filter`, written for the
/// `backend` the query will run on (the keyword search uses each backend's own index).
pub fn matching(backend: Backend, viewer: &Viewer, filter: &EventFilter) -> EventPredicate {
    matching_by(backend, viewer, filter, &Lookup::Index)
}

/// How a keyword is found.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Lookup {
    /// Through the backend's text index, inside the query.
    Index,
    /// By reading each row's text: for rows already few (an estimate's sample), or for a word so
    /// common that reading the list's rows in order soon finds a page of it.
    Scan,
    /// Among these rows, which SQLite's index named beforehand, so that its planner knows how
    /// few they are (inside the query it would guess, and may read every event in order).
    Rows(Vec<i64>),
}

/// A word in more events than this is common: scanned ([`Lookup::Scan`]).
const COMMON_WORD: i64 = 10_000;
/// A word in at most this many events is rare: looked up by its rows ([`Lookup::Rows`]). In
/// between, reading the list's index in order and testing each event against the word's rows
/// (gathered once) finds a page soonest.
const RARE_WORD: usize = 1_000;

/// How a filter's keyword is best found, decided once for all the pages of a list or export
/// (see [`keyword_plan`] and [`list_planned`]).
#[derive(Debug, Clone)]
pub struct KeywordPlan(Lookup);

/// How to find the filter's keyword: on SQLite, from what its FTS index says first (it stops
/// reading after [`COMMON_WORD`] rows, a few milliseconds even for a common word); PostgreSQL's
/// planner knows from its statistics.
pub fn keyword_plan(conn: &mut DbConnection, filter: &EventFilter) -> StoreResult<KeywordPlan> {
    keyword_lookup(conn, filter).map(KeywordPlan)
}

fn keyword_lookup(conn: &mut DbConnection, filter: &EventFilter) -> StoreResult<Lookup> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let Some(q) = filter.q.as_deref().filter(|q| q.chars().count() >= 3) else {
        return Ok(Lookup::Index);
    };
    if conn.backend() != Backend::Sqlite {
        return Ok(Lookup::Index);
    }
    let rows: Vec<Row> =
        diesel::sql_query("SELECT rowid AS id FROM events_search WHERE events_search MATCH ? LIMIT ?")
            .bind::<Text, _>(fts_phrase(q))
            .bind::<BigInt, _>(COMMON_WORD + 1)
            .load(conn)?;
    Ok(if rows.len() as i64 > COMMON_WORD {
        Lookup::Scan
    } else if rows.len() > RARE_WORD {
        Lookup::Index
    } else {
        Lookup::Rows(rows.into_iter().map(|row| row.id).collect())
    })
}

fn matching_by(backend: Backend, viewer: &Viewer, filter: &EventFilter, lookup: &Lookup) -> EventPredicate {
    let mut p = visible_to(viewer);
    macro_rules! and {
        ($cond:expr) => {
            p = Box::new(p.and($cond))
        };
    }
    if let Some(from) = filter.from {
        and!(events::occurred_at.ge(from));
    }
    if let Some(until) = filter.until {
        and!(events::occurred_at.lt(until));
    }
    if !filter.actor_ids.is_empty() {
        and!(events::actor_id.eq_any(filter.actor_ids.clone()));
    }
    if let Some(module) = &filter.module {
        and!(events::module.eq(module.clone()));
    }
    if let Some(verb) = &filter.verb {
        and!(events::verb.eq(verb.clone()));
    }
    if let Some(action) = &filter.action {
        and!(events::action.eq(action.clone()));
    }
    if let Some(entity_type) = &filter.entity_type {
        and!(events::entity_type.eq(entity_type.clone()).assume_not_null());
    }
    if let Some(entity_id) = &filter.entity_id {
        and!(events::entity_id.eq(entity_id.clone()).assume_not_null());
    }
    if let Some(ip) = &filter.ip {
        and!(events::ip.eq(ip.clone()));
    }
    if let Some(q) = &filter.q {
        let text = keyword(backend, q, lookup);
        match q.parse::<i64>() {
            Ok(id) => and!(text.or(events::id.eq(id))),
            Err(_) => and!(text),
        }
    }
    if filter.mine {
        and!(events::actor_id.eq(viewer.actor_id.clone()));
    }
    if !filter.ids.is_empty() {
        and!(events::id.eq_any(filter.ids.clone()));
    }
    if let Some(seq) = filter.through_seq {
        and!(events::seq.le(seq));
    }
    if let Some(record) = &filter.record {
        let via_related = event_related::table
            .filter(event_related::tenant_id.eq(viewer.tenant_id))
            .filter(event_related::entity_type.eq(record.entity_type.clone()))
            .filter(event_related::entity_id.eq(record.id.clone()))
            .select(event_related::event_id);
        and!(events::entity_type
            .eq(record.entity_type.clone())
            .and(events::entity_id.eq(record.id.clone()))
            .assume_not_null()
            .or(events::id.eq_any(via_related)));
    }
    p
}

/// `search_text` contains `q` (already lower-case, as the text is). PostgreSQL answers the
/// LIKE from its trigram index; SQLite from the FTS5 trigram table `events_search`, whose phrase
/// query is the same substring match (it needs three characters: shorter ones scan).
fn keyword(backend: Backend, q: &str, lookup: &Lookup) -> EventPredicate {
    match lookup {
        Lookup::Index if backend == Backend::Sqlite && q.chars().count() >= 3 => Box::new(
            sql::<Bool>("events.id IN (SELECT rowid FROM events_search WHERE events_search MATCH ")
                .bind::<Text, _>(fts_phrase(q))
                .sql(")"),
        ),
        Lookup::Rows(ids) => Box::new(events::id.eq_any(ids.clone())),
        _ => Box::new(events::search_text.like(contains_pattern(q)).escape('\\')),
    }
}

/// `q` as an FTS5 phrase: the substring itself, quotes doubled.
fn fts_phrase(q: &str) -> String {
    format!("\"{}\"", q.replace('"', "\"\""))
}

/// `ORDER BY` of `sort`: its column, then `occurred_at` and `id`, each prefixed with `prefix`.
fn order_clause(sort: Sort, prefix: &str) -> String {
    let direction = match sort.order {
        SortOrder::Asc => "ASC",
        SortOrder::Desc => "DESC",
    };
    let columns = sort.key.column().into_iter().chain(["occurred_at", "id"]);
    columns.map(|c| format!("{prefix}events.{c} {direction}")).collect::<Vec<_>>().join(", ")
}

/// The order of [`ordered`], written with SQLite's no-op `+` so that its planner does not read
/// an index in that order (hoping to stop early) when a few rows are named: it fetches those
/// and sorts them. (SQLite only: [`Lookup::Rows`] is not used on PostgreSQL.)
fn sorted_apart(query: EventQuery<'_>, sort: Sort) -> EventQuery<'_> {
    query.order(sql::<Text>(&order_clause(sort, "+")))
}

/// The order of `sort`, which the `(tenant_id, column, occurred_at, id)` indexes serve.
fn ordered(query: EventQuery<'_>, sort: Sort) -> EventQuery<'_> {
    query.order(sql::<Text>(&order_clause(sort, "")))
}

/// Rows strictly after `cursor` in the sort order, as one row-value comparison both backends
/// can answer from the (tenant_id, column, occurred_at, id) index.
fn after_cursor<'a>(query: EventQuery<'a>, cursor: &Cursor) -> EventQuery<'a> {
    let op = match cursor.order {
        SortOrder::Asc => ">",
        SortOrder::Desc => "<",
    };
    match (cursor.key.column(), &cursor.value) {
        (Some(column), Some(value)) => query.filter(
            sql::<Bool>(&format!("(events.{column}, events.occurred_at, events.id) {op} ("))
                .bind::<Text, _>(value.clone())
                .sql(", ")
                .bind::<Timestamp, _>(cursor.occurred_at())
                .sql(", ")
                .bind::<BigInt, _>(cursor.id)
                .sql(")"),
        ),
        _ => query.filter(
            sql::<Bool>(&format!("(events.occurred_at, events.id) {op} ("))
                .bind::<Timestamp, _>(cursor.occurred_at())
                .sql(", ")
                .bind::<BigInt, _>(cursor.id)
                .sql(")"),
        ),
    }
}

/// One page of visible events.
pub fn list(conn: &mut DbConnection, viewer: &Viewer, request: &ListRequest) -> StoreResult<EventPage> {
    let plan = keyword_plan(conn, &request.filter)?;
    list_planned(conn, viewer, request, &plan)
}

/// One page of visible events, the keyword found as `plan` (made by [`keyword_plan`] for this
/// filter) says: for a caller that reads many pages of one filter.
pub fn list_planned(
    conn: &mut DbConnection,
    viewer: &Viewer,
    request: &ListRequest,
    KeywordPlan(lookup): &KeywordPlan,
) -> StoreResult<EventPage> {
    let per_page = i64::from(request.per_page.max(1));
    let query =
        events::table.into_boxed().filter(matching_by(conn.backend(), viewer, &request.filter, lookup));
    let mut query = match lookup {
        Lookup::Rows(_) => sorted_apart(query, request.sort),
        _ => ordered(query, request.sort),
    };
    let mut offset = None;
    match &request.paging {
        Paging::Page(page) => {
            offset = Some(i64::from(page.saturating_sub(1)) * per_page);
            query = query.offset(offset.unwrap_or_default());
        }
        Paging::Cursor(Some(cursor)) => query = after_cursor(query, cursor),
        Paging::Cursor(None) => {}
    }
    let mut rows: Vec<EventRow> = query.limit(per_page + 1).select(EventRow::as_select()).load(conn)?;
    let more = rows.len() as i64 > per_page;
    let (total, total_is_estimate) = match offset {
        None => (None, false),
        // The last page, and it is not past the end: the total is right here.
        Some(offset) if !more && (!rows.is_empty() || offset == 0) => {
            (Some(offset + rows.len() as i64), false)
        }
        Some(offset) => {
            // What this page shows is known to exist (when it is not empty: a page past the end
            // says nothing of how far the end is).
            let at_least = if rows.is_empty() { 0 } else { offset + rows.len() as i64 };
            let (n, estimated) = match request.recent_estimate {
                Some(recent) => (recent.max(at_least), true),
                None => {
                    let counting =
                        Counting { limit: request.exact_count_limit, time: EXACT_COUNT_TIME, at_least };
                    count_or_estimate_by(conn, viewer, &request.filter, counting, lookup)?
                }
            };
            (Some(n), estimated)
        }
    };
    rows.truncate(per_page as usize);
    let next = if more { rows.last().map(|row| Cursor::after(row, request.sort)) } else { None };
    let items = rows.into_iter().map(Event::try_from).collect::<StoreResult<Vec<_>>>()?;
    Ok(EventPage { items, total, total_is_estimate, next })
}

/// One visible event; another tenant's or an invisible one is simply not found.
pub fn get(conn: &mut DbConnection, viewer: &Viewer, id: i64) -> StoreResult<Event> {
    Event::try_from(get_row(conn, viewer, id)?)
}

/// The stored row of an event `viewer` may see.
pub fn get_row(conn: &mut DbConnection, viewer: &Viewer, id: i64) -> StoreResult<EventRow> {
    events::table
        .filter(visible_to(viewer))
        .filter(events::id.eq(id))
        .select(EventRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

/// Visible events matching `filter` with `seq` above `after`, in `seq` order: what a live tail
/// has not delivered yet.
pub fn after_seq(
    conn: &mut DbConnection,
    viewer: &Viewer,
    filter: &EventFilter,
    after: i64,
    limit: i64,
) -> StoreResult<Vec<Event>> {
    let rows: Vec<EventRow> = events::table
        .filter(matching(conn.backend(), viewer, filter))
        .filter(events::seq.gt(after))
        .order(events::seq.asc())
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)?;
    rows.into_iter().map(Event::try_from).collect()
}

/// Visible matching events per 15-minute UTC slot (slot = seconds since the epoch / 900), the
/// grain from which any time zone's hours and days can be assembled exactly. A range on dates
/// alone is added up from the kept slot counts (see [`super::slots`]).
pub fn count_per_slot(
    conn: &mut DbConnection,
    viewer: &Viewer,
    filter: &EventFilter,
) -> StoreResult<Vec<(i64, i64)>> {
    match super::slots::per_slot(conn, viewer, filter)? {
        Some(slots) => Ok(slots),
        None => events_per_slot(conn, viewer, filter),
    }
}

/// [`count_per_slot`] read from the events themselves.
pub(crate) fn events_per_slot(
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

fn count_or_estimate_by(
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
    if let Some(counted) = super::slots::count_matching(conn, viewer, filter)? {
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

/// The id of the tenant's newest event (by seq).
pub fn latest_id(conn: &mut DbConnection, tenant_id: i64) -> StoreResult<Option<i64>> {
    Ok(events::table
        .filter(events::tenant_id.eq(tenant_id))
        .order(events::seq.desc())
        .select(events::id)
        .first(conn)
        .optional()?)
}
