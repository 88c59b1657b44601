//! The SIEM feed: every visible event in the order it was stored, as NDJSON, resumable from a
//! cursor (`GET /events/feed`). Alert rules send the same lines to a webhook in batches.

pub mod routes;

use auditlog_db::models::Event;
use serde::Serialize;
use utoipa::ToSchema;

use crate::events::views::EventOut;

/// One line of the feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedLine {
    /// Resume after this line: pass it as `cursor` (the event's `seq`).
    #[schema(pattern = "^[0-9]+$")]
    pub cursor: String,
    /// The event's leaf index in the tenant's Merkle tree (`seq - 1`): a receiver that keeps it
    /// can later prove the event against a signed checkpoint (`GET /events/{id}/proof`,
    /// docs/INTEGRITY.md).
    pub leaf_index: i64,
    pub event: EventOut,
}

impl From<Event> for FeedLine {
    fn from(event: Event) -> Self {
        FeedLine { cursor: event.seq.to_string(), leaf_index: event.seq - 1, event: EventOut::from(event) }
    }
}

/// Events as NDJSON: one JSON line each, each ending in a newline.
pub fn ndjson(events: Vec<Event>) -> String {
    let mut out = String::new();
    for event in events {
        out.push_str(&serde_json::to_string(&FeedLine::from(event)).unwrap_or_default());
        out.push('\n');
    }
    out
}
