//! Exports: CSV, XLSX and PDF files of the events a filter selects, the manifest that proves a CSV
//! export against a signed checkpoint, and the offline check of that proof.

pub mod check;
pub mod columns;
pub mod formula;
pub mod pdf;
pub mod routes;
pub mod xlsx;
