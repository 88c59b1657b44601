//! The live tail: new events as Server-Sent Events, the caller checked again while it runs.

pub mod routes;
