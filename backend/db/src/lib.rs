//! Activity Log storage: one code path over PostgreSQL and SQLite.
//!
//! - [`connection`]: the connection enum, pool and migrations per backend
//! - [`schema`] and [`models`]: tables and rows; [`ids`]: row ids as types
//! - [`visibility`]: the one rule deciding which events a reader may see, and the one mask of the
//!   fields their role may not see
//! - [`queries`]: every SQL statement
//! - [`derived`]: the columns derived from an event's hashed fields (keyword text, IP key)
//! - [`chain`]: the tamper-evidence hash chain; [`integrity`] verifies it
//! - [`flags`]: the security review's flags, raised as events are stored
//! - [`budget`]: queries that give up when they take too long
//! - [`archive`]: retention, moving expired events into compressed archive files
//! - [`slug`]: the rule every new tenant's slug follows
//! - [`partitions`]: PostgreSQL's monthly partitions of `events`

pub mod archive;
pub mod budget;
pub mod chain;
pub mod checkpoints;
pub mod connection;
pub mod derived;
pub mod error;
pub mod flags;
pub mod ids;
pub mod integrity;
pub mod leaf;
pub mod manifest;
pub mod models;
pub mod parallel;
pub mod partitions;
pub mod queries;
pub mod schema;
pub mod slug;
pub mod testing;
pub mod visibility;

pub use connection::{Backend, DatabaseUrl, DbConnection, DbPool};
pub use error::{StoreError, StoreResult};
pub use ids::{EventId, TenantId, UserId};
pub use slug::TenantSlug;
