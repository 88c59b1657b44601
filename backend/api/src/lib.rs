//! Activity Log HTTP API.
//!
//! - [`app`]: assembles routes, docs and the dashboard
//! - [`routes`]: one module per resource, where requests enter
//! - [`auth`]: tokens and the authenticated-user extractor
//! - [`filters`]: the one parser of event filters
//! - [`events`]: ingest (validation of posted events), the list, one event, a record's history,
//!   deletion, and the event as served
//! - [`integrity`]: signed checkpoints, receipts, proofs and verification against the log
//! - [`text`]: rules for text in requests, and the patterns that state them
//! - [`formula`]: CSV cells kept from running as spreadsheet formulas, and read back
//! - [`download`]: the `Content-Disposition` of downloads
//! - [`json`]: JSON request bodies: strict parsing, problems with pointers, numbers as the
//!   schemas read them
//! - [`error`]: the one error type (problem+json)
//! - [`wording`]: library error texts turned into the product's sentences

pub mod aggregates;
pub mod app;
pub mod audit;
pub mod auth;
pub mod config;
pub mod download;
pub mod error;
pub mod events;
pub mod export_check;
pub mod filters;
pub mod formula;
pub mod integrity;
pub mod json;
pub mod openapi;
pub mod pdf;
pub mod retention;
pub mod routes;
pub mod seed;
pub mod state;
pub mod text;
pub mod totals;
pub mod wording;
