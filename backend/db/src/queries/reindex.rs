//! Rewriting the derived columns (`crate::derived`) of events stored under an earlier format: run
//! by the schema's owner after migrations, through the `reindex` door of the immutability
//! triggers, which lets an update change those columns and nothing else. Verification
//! recomputes them, so a rewrite that did not follow from the hashed fields would be found.

use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::StoreResult;
use crate::ids::TenantId;
use crate::models::EventRow;
use crate::schema::{events, mutation_guard, tenants};

/// The format of the derived columns this code writes (`tenants.derived_format`).
pub const DERIVED_FORMAT: i32 = 2;
/// Events read and rewritten per transaction.
const BATCH: i64 = 2_000;

/// Brings every tenant's derived columns to [`DERIVED_FORMAT`]; the slug and number of rewritten
/// events of each tenant that needed it. Needs the owner's connection on PostgreSQL (the
/// application's role may not open the door). Safe to interrupt: a tenant is marked done last,
/// and rows already right are left alone.
pub fn run(conn: &mut DbConnection) -> StoreResult<Vec<(String, usize)>> {
    let stale: Vec<(TenantId, String)> = tenants::table
        .filter(tenants::derived_format.lt(DERIVED_FORMAT))
        .order(tenants::id.asc())
        .select((tenants::id, tenants::slug))
        .load(conn)?;
    let mut done = Vec::new();
    for (tenant_id, slug) in stale {
        let rewritten = tenant(conn, tenant_id)?;
        diesel::update(tenants::table.find(tenant_id))
            .set(tenants::derived_format.eq(DERIVED_FORMAT))
            .execute(conn)?;
        done.push((slug, rewritten));
    }
    Ok(done)
}

/// Rewrites the derived columns of one tenant's events where they differ from what their
/// hashed fields give; how many.
pub fn tenant(conn: &mut DbConnection, tenant_id: TenantId) -> StoreResult<usize> {
    let mut after = i64::MIN;
    let mut rewritten = 0;
    loop {
        let (read, changed) = conn.transaction(|conn| batch(conn, tenant_id, after))?;
        let Some(last) = read else { break };
        after = last;
        rewritten += changed;
    }
    Ok(rewritten)
}

/// One batch after seq `after`: the last seq read (none when there was nothing), and how many
/// rows were rewritten.
fn batch(conn: &mut DbConnection, tenant_id: TenantId, after: i64) -> QueryResult<(Option<i64>, usize)> {
    let rows: Vec<(EventRow, String, String)> = events::table
        .filter(events::tenant_id.eq(tenant_id))
        .filter(events::seq.gt(after))
        .order(events::seq.asc())
        .limit(BATCH)
        .select((EventRow::as_select(), events::search_text, events::ip_key))
        .load(conn)?;
    let Some(last) = rows.last().map(|(row, _, _)| row.seq) else { return Ok((None, 0)) };
    let changed: Vec<(i64, String, String)> = rows
        .iter()
        .filter_map(|(row, text, key)| {
            let (new_text, new_key) = (crate::derived::row_search_text(row), crate::derived::row_ip_key(row));
            (*text != new_text || *key != new_key).then_some((row.seq, new_text, new_key))
        })
        .collect();
    if changed.is_empty() {
        return Ok((Some(last), 0));
    }
    diesel::insert_into(mutation_guard::table).values(mutation_guard::mode.eq("reindex")).execute(conn)?;
    match conn {
        // One statement for the batch: the statement-level triggers of `events` run once.
        DbConnection::Pg(pg) => {
            use diesel::sql_types::{Array, BigInt, Text};
            let (seqs, (texts, keys)): (Vec<i64>, (Vec<String>, Vec<String>)) =
                changed.iter().cloned().map(|(seq, text, key)| (seq, (text, key))).unzip();
            diesel::sql_query(
                "UPDATE events e SET search_text = v.t, ip_key = v.k \
                 FROM unnest($2::bigint[], $3::text[], $4::text[]) AS v (seq, t, k) \
                 WHERE e.tenant_id = $1 AND e.seq = v.seq",
            )
            .bind::<BigInt, _>(tenant_id)
            .bind::<Array<BigInt>, _>(seqs)
            .bind::<Array<Text>, _>(texts)
            .bind::<Array<Text>, _>(keys)
            .execute(pg)?;
        }
        DbConnection::Sqlite(_) => {
            for (seq, text, key) in &changed {
                diesel::update(
                    events::table.filter(events::tenant_id.eq(tenant_id)).filter(events::seq.eq(seq)),
                )
                .set((events::search_text.eq(text), events::ip_key.eq(key)))
                .execute(conn)?;
            }
        }
    }
    diesel::delete(mutation_guard::table.filter(mutation_guard::mode.eq("reindex"))).execute(conn)?;
    Ok((Some(last), changed.len()))
}
