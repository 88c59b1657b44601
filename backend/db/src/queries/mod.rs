//! The queries of the product's requests (reads, ingest, accounts, the stored tree) live below
//! this module. The integrity machinery at the crate root (`integrity`, `archive`, `checkpoints`,
//! `manifest`) runs the few statements of its own next to the checks they serve.

pub mod alerts;
pub mod api_tokens;
pub mod deletion;
pub mod events;
pub mod facets;
pub mod ingest;
pub mod record_links;
pub mod reindex;
pub mod sessions;
pub mod slots;
pub mod tenants;
pub mod throttle;
pub mod tree;
pub mod users;
pub mod verifications;

diesel::define_sql_function! {
    /// SQL `lower()`, the same on both backends for the ASCII and Unicode text we store.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern that matches `needle` anywhere.
pub fn contains_pattern(needle: &str) -> String {
    let mut pattern = String::with_capacity(needle.len() + 2);
    pattern.push('%');
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The events counted by the selected (or grouped) rows of `facet_counts` or `slot_counts`: a
/// BIGINT on both backends, 0 for no rows (diesel's `sum` of a BIGINT is a nullable NUMERIC).
pub(crate) fn summed_counts() -> diesel::expression::SqlLiteral<diesel::sql_types::BigInt> {
    diesel::dsl::sql("CAST(COALESCE(SUM(event_count), 0) AS BIGINT)")
}
