//! The web plumbing every feature shares: the app and its state, the one error type, JSON
//! request bodies, typed replies, downloads, the OpenAPI document, health checks and the route
//! table.

pub mod app;
pub mod download;
pub mod error;
pub mod health;
pub mod json;
pub mod metrics;
pub mod openapi;
pub mod origin;
pub mod rejections;
pub mod reply;
pub mod request_id;
pub mod routes;
pub mod state;
pub mod wording;
