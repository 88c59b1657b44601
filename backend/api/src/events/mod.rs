//! Events: ingest (validation of posted events, storing, receipts), the list and a single event,
//! a record's history, and deletion.

pub mod ingest;
pub mod routes;
pub mod views;
