//! What the `auditlog` commands need beyond the API.

pub mod seed;
