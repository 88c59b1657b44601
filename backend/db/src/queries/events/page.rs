//! One page of events in a sort order, by page number or after a keyset cursor, and single
//! events by id or seq.

use crate::ids::{EventId, TenantId};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, NaiveDateTime};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text, Timestamp};
use serde::{Deserialize, Serialize};

use super::count::{count_or_estimate_by, Counting, EXACT_COUNT_TIME};
use super::filter::{keyword_plan, matching, matching_by, EventFilter, KeywordPlan, Lookup};
use crate::connection::{DbConnection, MultiBackend};
use crate::error::{StoreError, StoreResult};
use crate::models::{Event, EventRow};
use crate::schema::events;
use crate::visibility::{current, mask, visible_to, HiddenField, Viewer};

type EventQuery<'a> = events::BoxedQuery<'a, MultiBackend>;

/// Sortable columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    #[default]
    OccurredAt,
    /// By actor name.
    Actor,
    Module,
    Verb,
    Action,
    /// By IP address, numerically (the sortable key `ip_key`): IPv4 addresses before IPv6 ones,
    /// events without an address last (first when descending).
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
            SortKey::Ip => Some("ip_key"),
        }
    }
}

/// The sort direction: `asc` or `desc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
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
    pub id: EventId,
}

impl Cursor {
    fn after(row: &EventRow, sort: Sort) -> Self {
        let value = match sort.key {
            SortKey::OccurredAt => None,
            SortKey::Actor => Some(row.actor_name.clone()),
            SortKey::Module => Some(row.module.clone()),
            SortKey::Verb => Some(row.verb.clone()),
            SortKey::Action => Some(row.action.clone()),
            SortKey::Ip => Some(crate::derived::row_ip_key(row)),
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
}

#[derive(Debug, Clone)]
pub struct EventPage {
    pub items: Vec<Event>,
    /// What the page itself tells of the number of matching events.
    pub total: PageTotal,
    /// Where the next page starts, if there is one.
    pub next: Option<Cursor>,
}

/// What a page tells of the number of matching events in all pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageTotal {
    /// Cursor mode, which has no total.
    NotAsked,
    /// The page is the last: this many.
    Exact(i64),
    /// Not the last page (or one past the end): at least this many, the events up to and on the
    /// page; [`page_total`] counts or estimates the rest.
    AtLeast(i64),
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
    let viewer = &current(conn, viewer)?;
    // The cursor would carry the sort column's value, and the order itself tells of it.
    if request.sort.key == SortKey::Ip && viewer.hides(HiddenField::Ip) {
        return Err(StoreError::Forbidden(
            "sort=ip is not available: the IP address is hidden from your role".into(),
        ));
    }
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
    let total = match offset {
        None => PageTotal::NotAsked,
        // The last page, and it is not past the end: the total is right here.
        Some(offset) if !more && (!rows.is_empty() || offset == 0) => {
            PageTotal::Exact(offset + rows.len() as i64)
        }
        // What this page shows is known to exist (when it is not empty: a page past the end says
        // nothing of how far the end is).
        Some(_) if rows.is_empty() => PageTotal::AtLeast(0),
        Some(offset) => PageTotal::AtLeast(offset + rows.len() as i64),
    };
    rows.truncate(per_page as usize);
    let next = if more { rows.last().map(|row| Cursor::after(row, request.sort)) } else { None };
    let items = masked(viewer, rows)?;
    Ok(EventPage { items, total, next })
}

/// The total of a page that is not the last ([`PageTotal::AtLeast`]): counted when there are at
/// most `exact_limit` matches and counting is quick, else estimated (then flagged), never below
/// `at_least`. `plan` is the one the page was read with.
pub fn page_total(
    conn: &mut DbConnection,
    viewer: &Viewer,
    filter: &EventFilter,
    KeywordPlan(lookup): &KeywordPlan,
    at_least: i64,
    exact_limit: i64,
) -> StoreResult<(i64, bool)> {
    let counting = Counting { limit: exact_limit, time: EXACT_COUNT_TIME, at_least };
    count_or_estimate_by(conn, viewer, filter, counting, lookup)
}

/// Rows decoded and masked for `viewer` (already [`current`]).
fn masked(viewer: &Viewer, rows: Vec<EventRow>) -> StoreResult<Vec<Event>> {
    rows.into_iter()
        .map(|row| {
            let mut event = Event::try_from(row)?;
            mask(viewer, &mut event);
            Ok(event)
        })
        .collect()
}

/// One visible event, masked for `viewer`; another tenant's or an invisible one is simply not
/// found.
pub fn get(conn: &mut DbConnection, viewer: &Viewer, id: EventId) -> StoreResult<Event> {
    let viewer = current(conn, viewer)?;
    let row = get_row(conn, &viewer, id)?;
    Ok(masked(&viewer, vec![row])?.remove(0))
}

/// The stored row of an event `viewer` may see, unmasked: for a caller that serves none of its
/// fields withheld from `viewer` (the inclusion proof withholds the salt of its digests).
pub fn get_row(conn: &mut DbConnection, viewer: &Viewer, id: EventId) -> StoreResult<EventRow> {
    events::table
        .filter(visible_to(viewer))
        .filter(events::id.eq(id))
        .select(EventRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

/// Visible events matching `filter` with `seq` above `after`, in `seq` order, masked for
/// `viewer`: what a live tail or a feed has not delivered yet.
pub fn after_seq(
    conn: &mut DbConnection,
    viewer: &Viewer,
    filter: &EventFilter,
    after: i64,
    limit: i64,
) -> StoreResult<Vec<Event>> {
    let viewer = &current(conn, viewer)?;
    let rows: Vec<EventRow> = events::table
        .filter(matching(conn.backend(), viewer, filter))
        .filter(events::seq.gt(after))
        .order(events::seq.asc())
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)?;
    masked(viewer, rows)
}

/// Whether `actor_id` recorded `action` on the record `entity_type`/`entity_id` since `since`:
/// for logging a read once per reader, record and period.
pub fn recorded_since(
    conn: &mut DbConnection,
    tenant_id: crate::TenantId,
    action: &str,
    actor_id: &str,
    (entity_type, entity_id): (&str, &str),
    since: NaiveDateTime,
) -> StoreResult<bool> {
    Ok(events::table
        .filter(events::tenant_id.eq(tenant_id))
        .filter(events::entity_type.eq(entity_type))
        .filter(events::entity_id.eq(entity_id))
        .filter(events::occurred_at.ge(since))
        .filter(events::action.eq(action))
        .filter(events::actor_id.eq(actor_id))
        .select(events::id)
        .first::<EventId>(conn)
        .optional()?
        .is_some())
}

/// The id of the tenant's newest event (by seq).
pub fn latest_id(conn: &mut DbConnection, tenant_id: TenantId) -> StoreResult<Option<i64>> {
    Ok(events::table
        .filter(events::tenant_id.eq(tenant_id))
        .order(events::seq.desc())
        .select(events::id)
        .first(conn)
        .optional()?)
}
