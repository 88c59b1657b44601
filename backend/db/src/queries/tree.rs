//! A tenant's Merkle tree as stored: leaves are the events' hashes (by `seq − 1`), interior nodes
//! of level 1 and up are rows of `merkle_nodes`. Roots and proofs read O(log n) nodes in two
//! queries; appending stores the nodes the new leaves complete.

use std::collections::HashMap;

use auditlog_tlog::merkle::{self, Frontier, NodeId};
use auditlog_tlog::Hash;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Binary, Integer};

use crate::connection::DbConnection;
use crate::error::{StoreError, StoreResult};
use crate::schema::{events, merkle_nodes};

/// Rows per multi-row INSERT of nodes.
const NODE_CHUNK: usize = 1000;

#[derive(QueryableByName)]
struct StoredNode {
    #[diesel(sql_type = Integer)]
    level: i32,
    #[diesel(sql_type = BigInt)]
    idx: i64,
    #[diesel(sql_type = Binary)]
    hash: Vec<u8>,
}

#[derive(Insertable)]
#[diesel(table_name = merkle_nodes, treat_none_as_default_value = false)]
struct NewNode {
    tenant_id: i64,
    level: i32,
    idx: i64,
    hash: Vec<u8>,
}

/// The hashes of complete subtrees of `tenant_id`'s tree, in the order asked. Leaves come from
/// the events (or, once archived, from the few stored with a retention boundary).
pub fn nodes(conn: &mut DbConnection, tenant_id: i64, ids: &[NodeId]) -> StoreResult<Vec<Hash>> {
    let mut found: HashMap<NodeId, Hash> = HashMap::with_capacity(ids.len());
    let seqs: Vec<i64> = ids.iter().filter(|id| id.level == 0).map(|id| id.index as i64 + 1).collect();
    if !seqs.is_empty() {
        let rows: Vec<(i64, i64, String, i32)> = events::table
            .filter(events::tenant_id.eq(tenant_id))
            .filter(events::seq.eq_any(&seqs))
            .select((events::seq, events::id, events::hash, events::leaf_version))
            .load(conn)?;
        for (seq, id, hash, version) in rows {
            let leaf = if version == crate::leaf::LEGACY_FORMAT {
                Some(merkle::leaf_hash(&crate::leaf::legacy_leaf_bytes(id, seq, &hash)))
            } else {
                crate::leaf::decode_hash(&hash)
            };
            if let Some(leaf) = leaf {
                found.insert(NodeId::new(0, seq as u64 - 1), leaf);
            }
        }
    }
    let stored: Vec<&NodeId> = ids.iter().filter(|id| id.level > 0 || !found.contains_key(id)).collect();
    if !stored.is_empty() {
        // Integers only: the list is written into the statement.
        let pairs: Vec<String> = stored.iter().map(|id| format!("({}, {})", id.level, id.index)).collect();
        let rows: Vec<StoredNode> = diesel::sql_query(format!(
            "SELECT level, idx, hash FROM merkle_nodes WHERE tenant_id = {tenant_id} AND (level, idx) IN ({})",
            pairs.join(", ")
        ))
        .load(conn)?;
        for row in rows {
            if let Ok(hash) = row.hash.try_into() {
                found.insert(NodeId::new(row.level as u32, row.idx as u64), hash);
            }
        }
    }
    ids.iter()
        .map(|id| {
            found.get(id).copied().ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "the tree node at level {} index {} of tenant {tenant_id} is missing",
                    id.level, id.index
                ))
            })
        })
        .collect()
}

fn fetch(conn: &mut DbConnection, tenant_id: i64) -> impl FnOnce(&[NodeId]) -> StoreResult<Vec<Hash>> + '_ {
    move |ids| nodes(conn, tenant_id, ids)
}

/// The root of the first `size` leaves.
pub fn root(conn: &mut DbConnection, tenant_id: i64, size: u64) -> StoreResult<Hash> {
    merkle::root(size, fetch(conn, tenant_id))
}

/// The right edge of the tree of `size` leaves, ready to append to.
pub fn frontier(conn: &mut DbConnection, tenant_id: i64, size: u64) -> StoreResult<Frontier> {
    let hashes = nodes(conn, tenant_id, &merkle::decompose(0, size))?;
    Frontier::new(size, &hashes)
        .ok_or_else(|| StoreError::Corrupt("the tree's right edge is incomplete".into()))
}

pub fn inclusion_proof(
    conn: &mut DbConnection,
    tenant_id: i64,
    index: u64,
    size: u64,
) -> StoreResult<Vec<Hash>> {
    merkle::inclusion_proof(index, size, fetch(conn, tenant_id))
}

pub fn consistency_proof(
    conn: &mut DbConnection,
    tenant_id: i64,
    first: u64,
    second: u64,
) -> StoreResult<Vec<Hash>> {
    merkle::consistency_proof(first, second, fetch(conn, tenant_id))
}

/// The rows of `nodes` of a tenant's tree.
fn node_rows(tenant_id: i64, nodes: &[(NodeId, Hash)]) -> Vec<NewNode> {
    nodes
        .iter()
        .map(|(id, hash)| NewNode {
            tenant_id,
            level: id.level as i32,
            idx: id.index as i64,
            hash: hash.to_vec(),
        })
        .collect()
}

/// Stores the interior nodes new leaves completed, which no one stored before: one binary `COPY`
/// on PostgreSQL (a node already there, which nothing but tampering puts there, fails the
/// append), multi-row INSERTs on SQLite.
pub fn store_new(conn: &mut DbConnection, tenant_id: i64, nodes: &[(NodeId, Hash)]) -> QueryResult<()> {
    let DbConnection::Pg(pg) = conn else { return store(conn, tenant_id, nodes) };
    if nodes.is_empty() {
        return Ok(());
    }
    let rows = node_rows(tenant_id, nodes);
    diesel::copy_from(merkle_nodes::table).from_insertable(rows.as_slice()).execute(pg)?;
    Ok(())
}

/// Stores nodes (leaves a retention boundary keeps, a tree built for existing events). A node
/// already stored is left as it is (the same position always has the same hash).
pub fn store(conn: &mut DbConnection, tenant_id: i64, nodes: &[(NodeId, Hash)]) -> QueryResult<()> {
    let rows = node_rows(tenant_id, nodes);
    match conn {
        DbConnection::Pg(c) => {
            for chunk in rows.chunks(NODE_CHUNK) {
                diesel::insert_into(merkle_nodes::table).values(chunk).on_conflict_do_nothing().execute(c)?;
            }
        }
        DbConnection::Sqlite(c) => {
            for chunk in rows.chunks(NODE_CHUNK) {
                diesel::insert_or_ignore_into(merkle_nodes::table).values(chunk).execute(c)?;
            }
        }
    }
    Ok(())
}

/// What building a tree for existing events found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Built {
    pub head: super::ingest::TreeHead,
    /// The root of the archived prefix, when there is one (`chain_base_seq` leaves).
    pub boundary: Option<super::ingest::TreeHead>,
}

/// Builds the stored tree of a tenant whose events predate it (`tree_size` below `head_seq`):
/// the leaves of its archived prefix come from the archive files (checked on the way), the
/// others from its events. `None` when there is nothing to build.
pub fn build(
    conn: &mut DbConnection,
    tenant_id: i64,
    archive_dir: &std::path::Path,
) -> StoreResult<Option<Built>> {
    use crate::schema::{archives, tenants};
    conn.transaction(|conn| {
        super::tenants::lock(conn, tenant_id)?;
        let tenant = super::tenants::get(conn, tenant_id)?;
        if tenant.tree_size == tenant.head_seq {
            return Ok(None);
        }
        if tenant.tree_size != 0 {
            return Err(StoreError::Corrupt(format!("tenant {}'s tree is built halfway", tenant.slug)));
        }
        let mut frontier = Frontier::default();
        let mut pending: Vec<(NodeId, Hash)> = Vec::new();
        let mut push = |conn: &mut DbConnection, frontier: &mut Frontier, leaf: Hash| -> StoreResult<()> {
            pending.extend(frontier.push(leaf));
            if pending.len() >= NODE_CHUNK * 10 {
                store(conn, tenant_id, &pending)?;
                pending.clear();
            }
            Ok(())
        };
        let files: Vec<String> = archives::table
            .filter(archives::tenant_id.eq(tenant_id))
            .order(archives::first_seq.asc())
            .select(archives::file_name)
            .load(conn)?;
        for name in files {
            let path = crate::archive::recorded_path(archive_dir, &tenant.slug, &name)?;
            crate::archive::verify_file(&path, None)?;
            for row in crate::archive::read_rows(&path)? {
                let leaf = row
                    .tree_leaf()
                    .ok_or_else(|| StoreError::Corrupt(format!("{name}: seq {} has no hash", row.seq)))?;
                push(conn, &mut frontier, leaf)?;
            }
        }
        if frontier.size() != tenant.chain_base_seq as u64 {
            return Err(StoreError::Corrupt(format!(
                "the archives of tenant {} hold {} events, its archived prefix {}",
                tenant.slug,
                frontier.size(),
                tenant.chain_base_seq
            )));
        }
        let boundary = (tenant.chain_base_seq > 0).then(|| super::ingest::TreeHead {
            size: frontier.size(),
            root: frontier.root(),
            extends: None,
        });
        let mut after = tenant.chain_base_seq;
        loop {
            let rows: Vec<(i64, i64, String, i32)> = events::table
                .filter(events::tenant_id.eq(tenant_id))
                .filter(events::seq.gt(after))
                .order(events::seq.asc())
                .limit(5000)
                .select((events::seq, events::id, events::hash, events::leaf_version))
                .load(conn)?;
            let Some(last) = rows.last() else { break };
            after = last.0;
            for (seq, id, hash, version) in rows {
                if seq as u64 != frontier.size() + 1 {
                    return Err(StoreError::Corrupt(format!(
                        "tenant {}: event seq {} is missing",
                        tenant.slug,
                        frontier.size() + 1
                    )));
                }
                let leaf = if version == crate::leaf::LEGACY_FORMAT {
                    Some(merkle::leaf_hash(&crate::leaf::legacy_leaf_bytes(id, seq, &hash)))
                } else {
                    crate::leaf::decode_hash(&hash)
                };
                push(
                    conn,
                    &mut frontier,
                    leaf.ok_or_else(|| StoreError::Corrupt(format!("seq {seq} has no hash")))?,
                )?;
            }
        }
        store(conn, tenant_id, &pending)?;
        if frontier.size() != tenant.head_seq as u64 {
            return Err(StoreError::Corrupt(format!(
                "tenant {}: events after seq {} are missing",
                tenant.slug,
                frontier.size()
            )));
        }
        if let Some(boundary) = boundary {
            let edge: Vec<NodeId> =
                merkle::decompose(0, boundary.size).into_iter().filter(|id| id.level == 0).collect();
            if !edge.is_empty() {
                let leaves = crate::archive::read_leaves(conn, archive_dir, &tenant, &edge)?;
                store(conn, tenant_id, &edge.into_iter().zip(leaves).collect::<Vec<_>>())?;
            }
        }
        diesel::update(tenants::table.find(tenant_id))
            .set(tenants::tree_size.eq(tenant.head_seq))
            .execute(conn)?;
        Ok(Some(Built {
            head: super::ingest::TreeHead { size: frontier.size(), root: frontier.root(), extends: None },
            boundary,
        }))
    })
}
