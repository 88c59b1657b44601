//! A tenant's Merkle tree as stored: leaves are the events' hashes (by `seq − 1`), interior nodes
//! of level [`LOWEST_STORED_LEVEL`] and up are rows of `merkle_nodes`, the two levels between are
//! hashed again from their leaves. Roots and proofs read O(log n) nodes in two queries; appending
//! stores the nodes the new leaves complete.

use crate::ids::TenantId;
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
    tenant_id: TenantId,
    level: i32,
    idx: i64,
    hash: Vec<u8>,
}

/// The lowest level of interior nodes kept as rows. Nodes below it (levels 1 and 2) are hashed
/// again from their at most 4 leaves whenever they are read: that stores a quarter of the rows an
/// append completes, and a proof reads at most 7 more leaves, next to the one it reads anyway.
/// (Rows of those levels stored before are still read where their leaves are gone.)
pub const LOWEST_STORED_LEVEL: u32 = 3;

/// Whether an interior node an append completes is kept as a row (see [`LOWEST_STORED_LEVEL`]).
pub fn is_stored(id: &NodeId) -> bool {
    id.level >= LOWEST_STORED_LEVEL
}

/// The leaf hashes of the events with these seqs (1-based), by leaf index.
fn event_leaves(
    conn: &mut DbConnection,
    tenant_id: TenantId,
    seqs: &[i64],
) -> StoreResult<HashMap<u64, Hash>> {
    let mut found = HashMap::with_capacity(seqs.len());
    if seqs.is_empty() {
        return Ok(found);
    }
    let rows: Vec<(i64, i64, String, i32)> = events::table
        .filter(events::tenant_id.eq(tenant_id))
        .filter(events::seq.eq_any(seqs))
        .select((events::seq, events::id, events::hash, events::leaf_version))
        .load(conn)?;
    for (seq, id, hash, version) in rows {
        let leaf = if version == crate::leaf::LEGACY_FORMAT {
            Some(merkle::leaf_hash(&crate::leaf::legacy_leaf_bytes(id, seq, &hash)))
        } else {
            crate::leaf::decode_hash(&hash)
        };
        if let Some(leaf) = leaf {
            found.insert(seq as u64 - 1, leaf);
        }
    }
    Ok(found)
}

/// The hash of the low subtree `id` (below [`LOWEST_STORED_LEVEL`]): from its leaves, from
/// stored rows of its own or of its parts where leaves are gone (an archived prefix's edge),
/// `None` when neither has it.
fn compose(id: NodeId, leaves: &HashMap<u64, Hash>, rows: &HashMap<NodeId, Hash>) -> Option<Hash> {
    if id.level == 0 {
        return leaves.get(&id.index).or_else(|| rows.get(&id)).copied();
    }
    let left = compose(NodeId::new(id.level - 1, id.index * 2), leaves, rows);
    let right = compose(NodeId::new(id.level - 1, id.index * 2 + 1), leaves, rows);
    match (left, right) {
        (Some(left), Some(right)) => Some(merkle::node_hash(&left, &right)),
        _ => rows.get(&id).copied(),
    }
}

/// `id` and every node below it.
fn with_parts(id: NodeId) -> impl Iterator<Item = NodeId> {
    (0..=id.level).flat_map(move |down| {
        let level = id.level - down;
        (id.index << down..(id.index + 1) << down).map(move |index| NodeId::new(level, index))
    })
}

/// The hashes of complete subtrees of `tenant_id`'s tree, in the order asked, in at most two
/// queries. Leaves come from the events, and so do the nodes below [`LOWEST_STORED_LEVEL`];
/// the rest are rows of `merkle_nodes`, which also hold what an archived prefix's right edge
/// needs once its events are gone.
pub fn nodes(conn: &mut DbConnection, tenant_id: TenantId, ids: &[NodeId]) -> StoreResult<Vec<Hash>> {
    let mut seqs: Vec<i64> = ids
        .iter()
        .filter(|id| !is_stored(id))
        .flat_map(|id| id.start() as i64 + 1..=id.end() as i64)
        .collect();
    seqs.sort_unstable();
    seqs.dedup();
    let leaves = event_leaves(conn, tenant_id, &seqs)?;
    let none = HashMap::new();
    let mut found: HashMap<NodeId, Hash> = HashMap::with_capacity(ids.len());
    for id in ids.iter().filter(|id| !is_stored(id)) {
        if let Some(hash) = compose(*id, &leaves, &none) {
            found.insert(*id, hash);
        }
    }
    // Stored nodes, and for a low node whose leaves are not all there, its stored parts.
    let mut wanted: Vec<NodeId> = ids
        .iter()
        .filter(|id| !found.contains_key(id))
        .flat_map(|id| if is_stored(id) { vec![*id] } else { with_parts(*id).collect() })
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    if !wanted.is_empty() {
        // Integers only: the list is written into the statement.
        let pairs: Vec<String> = wanted.iter().map(|id| format!("({}, {})", id.level, id.index)).collect();
        let rows: HashMap<NodeId, Hash> = diesel::sql_query(format!(
            "SELECT level, idx, hash FROM merkle_nodes WHERE tenant_id = {tenant_id} AND (level, idx) IN ({})",
            pairs.join(", ")
        ))
        .load::<StoredNode>(conn)?
        .into_iter()
        .filter_map(|row| Some((NodeId::new(row.level as u32, row.idx as u64), row.hash.try_into().ok()?)))
        .collect();
        for id in ids {
            if found.contains_key(id) {
                continue;
            }
            let hash = if is_stored(id) { rows.get(id).copied() } else { compose(*id, &leaves, &rows) };
            if let Some(hash) = hash {
                found.insert(*id, hash);
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

fn fetch(
    conn: &mut DbConnection,
    tenant_id: TenantId,
) -> impl FnOnce(&[NodeId]) -> StoreResult<Vec<Hash>> + '_ {
    move |ids| nodes(conn, tenant_id, ids)
}

/// The root of the first `size` leaves.
pub fn root(conn: &mut DbConnection, tenant_id: TenantId, size: u64) -> StoreResult<Hash> {
    merkle::root(size, fetch(conn, tenant_id))
}

/// The right edge of the tree of `size` leaves, ready to append to.
pub fn frontier(conn: &mut DbConnection, tenant_id: TenantId, size: u64) -> StoreResult<Frontier> {
    let hashes = nodes(conn, tenant_id, &merkle::decompose(0, size))?;
    Frontier::new(size, &hashes)
        .ok_or_else(|| StoreError::Corrupt("the tree's right edge is incomplete".into()))
}

pub fn inclusion_proof(
    conn: &mut DbConnection,
    tenant_id: TenantId,
    index: u64,
    size: u64,
) -> StoreResult<Vec<Hash>> {
    merkle::inclusion_proof(index, size, fetch(conn, tenant_id))
}

pub fn consistency_proof(
    conn: &mut DbConnection,
    tenant_id: TenantId,
    first: u64,
    second: u64,
) -> StoreResult<Vec<Hash>> {
    merkle::consistency_proof(first, second, fetch(conn, tenant_id))
}

/// The rows of `nodes` of a tenant's tree.
fn node_rows(tenant_id: TenantId, nodes: &[(NodeId, Hash)]) -> Vec<NewNode> {
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

/// Stores those of the interior nodes new leaves completed that are kept ([`is_stored`]), which
/// no one stored before: one binary `COPY` on PostgreSQL (a node already there, which nothing but
/// tampering puts there, fails the append), multi-row INSERTs on SQLite.
pub fn store_new(conn: &mut DbConnection, tenant_id: TenantId, nodes: &[(NodeId, Hash)]) -> QueryResult<()> {
    let kept: Vec<(NodeId, Hash)> = nodes.iter().filter(|(id, _)| is_stored(id)).copied().collect();
    let DbConnection::Pg(pg) = conn else { return store(conn, tenant_id, &kept) };
    if kept.is_empty() {
        return Ok(());
    }
    let rows = node_rows(tenant_id, &kept);
    diesel::copy_from(merkle_nodes::table).from_insertable(rows.as_slice()).execute(pg)?;
    Ok(())
}

/// Stores nodes (leaves a retention boundary keeps, a tree built for existing events). A node
/// already stored is left as it is (the same position always has the same hash).
pub fn store(conn: &mut DbConnection, tenant_id: TenantId, nodes: &[(NodeId, Hash)]) -> QueryResult<()> {
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

/// The nodes of the right edge of an archived prefix of `size` leaves that are not stored
/// ([`is_stored`]): roots and proofs of later sizes need them once the prefix's events are gone,
/// so archiving keeps them as rows.
pub fn archived_edge(size: u64) -> Vec<NodeId> {
    merkle::decompose(0, size).into_iter().filter(|id| !is_stored(id)).collect()
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
    tenant_id: TenantId,
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
            pending.extend(frontier.push(leaf).into_iter().filter(|(id, _)| is_stored(id)));
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
            let edge = archived_edge(boundary.size);
            if !edge.is_empty() {
                let leaves = crate::archive::read_nodes(conn, archive_dir, &tenant, &edge)?;
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
