//! Activity Log HTTP API. The folders are the architecture: the web plumbing, one folder per
//! feature (its routes, the views it answers with, its service code), and the shared services
//! they build on.
//!
//! - [`http`]: the web plumbing: the app, its state, the one error type (problem+json), JSON
//!   bodies, the OpenAPI document, downloads, the route table
//! - features: [`events`] (ingest, list, one event, history, deletion), [`exports`] (CSV, PDF,
//!   manifests and their offline check), [`stream`] (the live tail), [`aggregates`] (facets, the
//!   activity chart, kept totals), [`accounts`] (sign-in, users, API tokens, which fields each role
//!   sees), [`integrity`] (checkpoints, receipts, proofs, verification), [`retention`] (the setting,
//!   archiving, archive files), [`review`] (the security review's settings and summary of flagged
//!   events), [`alerts`] (alert rules, their outbox's delivery worker, signed webhooks and e-mail),
//!   [`links`] (links from a record into the host application),
//!   [`feed`] (the SIEM feed as NDJSON)
//! - shared services: [`auth`] (tokens and the signed-in caller), [`filters`] (the one parser of
//!   event filters and the `Filtered` extractor), [`audit`] (the product's own records), [`text`]
//!   (rules for text in requests), [`config`] (settings)
//! - [`cli`]: the `auditlog` commands (server, verification, administration, demo data);
//!   `main.rs` only parses the command line

pub mod accounts;
pub mod aggregates;
pub mod alerts;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod config;
pub mod events;
pub mod exports;
pub mod feed;
pub mod filters;
pub mod http;
pub mod integrity;
pub mod links;
pub mod retention;
pub mod review;
pub mod stream;
pub mod text;
