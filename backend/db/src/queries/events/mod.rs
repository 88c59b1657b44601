//! Reading events: one filter ([`filter`]), one sort and two paging modes, page number or keyset
//! cursor ([`page`]), and totals counted or estimated ([`count`]).

pub mod count;
pub mod filter;
pub mod page;

pub use count::{count, count_hidden, count_or_estimate, count_per_slot, Counting, EXACT_COUNT_TIME};
pub use filter::{keyword_plan, matching, EventFilter, FlagFilter, KeywordPlan, SEARCH_SEPARATOR};
pub use page::{
    after_seq, get, get_row, latest_id, list, list_planned, page_total, recorded_since, Cursor, EventPage,
    ListRequest, PageTotal, Paging, Sort, SortKey, SortOrder,
};
