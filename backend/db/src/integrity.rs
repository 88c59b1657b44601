//! Verifying a tenant's hash chain: every live event must follow its predecessor by one `seq`,
//! link to its hash, and hash to what it stores; the last must be the head the tenant recorded.

use diesel::prelude::*;
use serde::Serialize;

use crate::chain::event_hash;
use crate::connection::DbConnection;
use crate::error::StoreResult;
use crate::models::EventRow;
use crate::queries::tenants;
use crate::schema::events;

const BATCH: i64 = 5000;

/// The outcome of a verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    pub ok: bool,
    pub events_checked: i64,
    /// The tenant's recorded chain head.
    pub head_seq: i64,
    pub head_hash: String,
    /// The first seq whose link is wrong (or missing).
    pub first_bad_seq: Option<i64>,
    pub reason: Option<String>,
}

/// Recomputes `tenant_id`'s chain from its checkpoint. `progress` hears (checked, total).
pub fn verify_chain(
    conn: &mut DbConnection,
    tenant_id: i64,
    mut progress: impl FnMut(i64, i64),
) -> StoreResult<Verification> {
    let tenant = tenants::get(conn, tenant_id)?;
    let total = tenant.head_seq - tenant.chain_base_seq;
    let mut expected_seq = tenant.chain_base_seq + 1;
    let mut prev = tenant.chain_base_hash.clone();
    let mut checked = 0i64;
    let bad = |seq: i64, reason: String, checked: i64| Verification {
        ok: false,
        events_checked: checked,
        head_seq: tenant.head_seq,
        head_hash: tenant.head_hash.clone(),
        first_bad_seq: Some(seq),
        reason: Some(reason),
    };
    let mut after = tenant.chain_base_seq;
    loop {
        let rows: Vec<EventRow> = events::table
            .filter(events::tenant_id.eq(tenant_id))
            .filter(events::seq.gt(after))
            .order(events::seq.asc())
            .limit(BATCH)
            .select(EventRow::as_select())
            .load(conn)?;
        let Some(last) = rows.last() else { break };
        after = last.seq;
        for row in &rows {
            if row.seq != expected_seq {
                let reason = if row.seq > expected_seq {
                    format!("event seq {expected_seq} is missing")
                } else {
                    format!("event seq {} appears out of order", row.seq)
                };
                return Ok(bad(expected_seq.min(row.seq), reason, checked));
            }
            if row.prev_hash != prev {
                return Ok(bad(row.seq, "prev_hash does not link to the previous event".into(), checked));
            }
            // A tombstone's payload is gone by design; its stored hash still carries the chain.
            if row.deleted_at.is_none() && event_hash(&prev, &row.chain_input()) != row.hash {
                return Ok(bad(row.seq, "the event's content does not match its hash".into(), checked));
            }
            prev = row.hash.clone();
            expected_seq += 1;
            checked += 1;
        }
        progress(checked, total);
    }
    let last_seq = expected_seq - 1;
    if last_seq != tenant.head_seq {
        let reason = if last_seq < tenant.head_seq {
            format!("events after seq {last_seq} are missing (the head is seq {})", tenant.head_seq)
        } else {
            format!("events beyond the recorded head (seq {}) were inserted", tenant.head_seq)
        };
        return Ok(bad(last_seq.min(tenant.head_seq) + 1, reason, checked));
    }
    if prev != tenant.head_hash {
        return Ok(bad(last_seq, "the last event's hash differs from the recorded head".into(), checked));
    }
    progress(checked, total);
    Ok(Verification {
        ok: true,
        events_checked: checked,
        head_seq: tenant.head_seq,
        head_hash: tenant.head_hash,
        first_bad_seq: None,
        reason: None,
    })
}
