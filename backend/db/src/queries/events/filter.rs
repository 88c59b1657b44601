//! The one event filter and how it becomes a condition: visibility first, then each filter, the
//! keyword through each backend's text index (or by reading rows, as [`KeywordPlan`] decides).

use crate::flags::FlagKind;
use crate::ids::EventId;
use chrono::NaiveDateTime;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};

use crate::connection::{Backend, DbConnection};
use crate::derived::SearchPart;
use crate::error::StoreResult;
use crate::models::EntityRef;
use crate::queries::contains_pattern;
use crate::schema::{event_related, events};
use crate::visibility::{visible_to, EventPredicate, HiddenField, Viewer};

pub use crate::derived::SEARCH_SEPARATOR;

/// Every filter of the list, export, stats and stream endpoints, already validated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(default)]
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
    /// An address (`10.1.2.3`) or a network in CIDR notation (`10.1.0.0/16`), as
    /// [`crate::derived::ip_filter_range`] reads it.
    pub ip: Option<String>,
    /// Keyword, lower-cased; an integer also matches the event id.
    pub q: Option<String>,
    /// Only the reader's own events ("My dashboard").
    pub mine: bool,
    /// A record whose history is wanted: its own events and those naming it in `related`.
    pub record: Option<EntityRef>,
    /// Only these event ids (selected rows).
    pub ids: Vec<EventId>,
    /// Only events up to this `seq` (an export's fixed end, so it and its manifest agree).
    pub through_seq: Option<i64>,
    /// Only flagged events: any flag, or one kind ([`crate::flags`]).
    pub flag: Option<FlagFilter>,
}

/// Which flagged events a filter keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagFilter {
    Any,
    Kind(FlagKind),
}

/// The condition selecting the events `viewer` may see that match `filter`, written for the
/// `backend` the query will run on (the keyword search uses each backend's own index).
pub fn matching(backend: Backend, viewer: &Viewer, filter: &EventFilter) -> EventPredicate {
    matching_by(backend, viewer, filter, &Lookup::Index)
}

/// How a keyword is found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Lookup {
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
pub struct KeywordPlan(pub(super) Lookup);

/// How to find the filter's keyword: on SQLite, from what its FTS index says first (it stops
/// reading after [`COMMON_WORD`] rows, a few milliseconds even for a common word); PostgreSQL's
/// planner knows from its statistics.
pub fn keyword_plan(conn: &mut DbConnection, filter: &EventFilter) -> StoreResult<KeywordPlan> {
    keyword_lookup(conn, filter).map(KeywordPlan)
}

pub(super) fn keyword_lookup(conn: &mut DbConnection, filter: &EventFilter) -> StoreResult<Lookup> {
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

pub(super) fn matching_by(
    backend: Backend,
    viewer: &Viewer,
    filter: &EventFilter,
    lookup: &Lookup,
) -> EventPredicate {
    matching_as(backend, visible_to(viewer), viewer, filter, lookup)
}

/// The events of `viewer`'s whole tenant matching `filter` as `viewer` may ask it: the keyword
/// looked for only in the fields they see. What their role hides of a record's history is these
/// less the ones [`matching`] gives them: counted with an admin's sight but the caller's fields, or
/// a hit on a hidden IP would show as one more hidden entry.
pub fn matching_in_tenant(backend: Backend, viewer: &Viewer, filter: &EventFilter) -> EventPredicate {
    let tenant: EventPredicate = Box::new(events::tenant_id.eq(viewer.tenant_id));
    matching_as(backend, tenant, viewer, filter, &Lookup::Index)
}

/// `sight` (which events) and `filter` as asked by `viewer` (which fields).
fn matching_as(
    backend: Backend,
    sight: EventPredicate,
    viewer: &Viewer,
    filter: &EventFilter,
    lookup: &Lookup,
) -> EventPredicate {
    let mut p = sight;
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
        // The API refuses it first; matching nothing here tells nothing either way.
        if viewer.hides(HiddenField::Ip) {
            and!(sql::<Bool>("1 = 0"));
        } else {
            // A range of the sortable key: one range scan of its index, an address or a network.
            match crate::derived::ip_filter_range(ip) {
                Some((low, high)) if low == high => and!(events::ip_key.eq(low)),
                Some((low, high)) => and!(events::ip_key.between(low, high)),
                None => and!(sql::<Bool>("1 = 0")),
            }
        }
    }
    if let Some(q) = &filter.q {
        let mut text = keyword(backend, q, lookup);
        if hides_searched(viewer) {
            text = Box::new(text.and(in_visible_parts(viewer, q)));
        }
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
    // `flags <> 0` in every case, the condition of the partial index of flagged events.
    match filter.flag {
        None => {}
        Some(FlagFilter::Any) => and!(events::flags.ne(0)),
        Some(FlagFilter::Kind(kind)) => and!(events::flags.ne(0).and(
            sql::<Bool>("(events.flags & ").bind::<diesel::sql_types::Integer, _>(kind.bit()).sql(") <> 0")
        )),
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

/// `q` (lower-case) is in a part of the keyword text that `viewer` sees: the text holds the
/// e-mail, IP address, user agent and change values too, each in its own part, and a hit there
/// alone would tell a reader they are hidden from what they hold. Checked on the rows the index
/// found, on the same text.
fn in_visible_parts(viewer: &Viewer, q: &str) -> EventPredicate {
    let mut found: Option<EventPredicate> = None;
    for part in SearchPart::ALL.into_iter().filter(|part| !part.field().is_some_and(|f| viewer.hides(f))) {
        let like: EventPredicate = Box::new(events::search_text.like(part.pattern(q)).escape('\\'));
        found = Some(match found {
            None => like,
            Some(found) => Box::new(found.or(like)),
        });
    }
    found.unwrap_or_else(|| Box::new(sql::<Bool>("1 = 0")))
}

/// Whether `viewer` is forbidden a field whose value the keyword text holds.
fn hides_searched(viewer: &Viewer) -> bool {
    SearchPart::ALL.iter().filter_map(|part| part.field()).any(|field| viewer.hides(field))
}

/// `q` as an FTS5 phrase: the substring itself, quotes doubled.
fn fts_phrase(q: &str) -> String {
    format!("\"{}\"", q.replace('"', "\"\""))
}
