//! The security review: the flags raised as events are stored (`auditlog_db::flags`), the
//! tenant's settings of what counts as unusual, and the review's summary of flagged events.

pub mod routes;
