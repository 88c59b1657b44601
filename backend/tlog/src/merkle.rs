//! RFC 9162 §2.1 Merkle trees: hashing, proofs and their verification.
//!
//! A tree of `n` leaves is stored as its *complete subtrees*: the node at `level` L and `index` i
//! covers leaves `[i·2^L, (i+1)·2^L)`. Every hash in an RFC 9162 proof, and every root, is the
//! hash of a range whose split points are powers of two, so it folds from at most `log2 n`
//! complete subtrees. Proofs are therefore built in two steps: list the complete subtrees a proof
//! needs ([`NodeId`]s, known from the sizes alone), fetch them in one go from wherever they are
//! kept, then fold. That keeps a proof at O(log n) stored reads at any tree size.

use sha2::{Digest, Sha256};

/// A SHA-256 tree hash.
pub type Hash = [u8; 32];

/// `SHA-256(0x00 ‖ data)`: the hash of a leaf.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0u8]);
    hasher.update(data);
    hasher.finalize().into()
}

/// `SHA-256(0x01 ‖ left ‖ right)`: the hash of an interior node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([1u8]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The hash of a complete subtree from its leaf hashes (a power of two of them, in order).
pub fn subtree_hash(leaves: &[Hash]) -> Hash {
    debug_assert!(leaves.len().is_power_of_two());
    let mut level = leaves.to_vec();
    while level.len() > 1 {
        level = level.chunks(2).map(|pair| node_hash(&pair[0], &pair[1])).collect();
    }
    level[0]
}

/// The root of the empty tree: `SHA-256()` of nothing.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// A complete subtree: `level` 0 is a leaf; the node covers leaves `[index·2^level, (index+1)·2^level)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    pub level: u32,
    pub index: u64,
}

impl NodeId {
    pub fn new(level: u32, index: u64) -> Self {
        NodeId { level, index }
    }

    /// The first leaf it covers.
    pub fn start(&self) -> u64 {
        self.index << self.level
    }

    /// One past the last leaf it covers.
    pub fn end(&self) -> u64 {
        (self.index + 1) << self.level
    }
}

/// Why a proof did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("leaf index {index} is outside a tree of {size} leaves")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("the first tree size {first} is larger than the second {second}")]
    SizesOutOfOrder { first: u64, second: u64 },
    #[error("the proof has the wrong number of hashes")]
    WrongLength,
    #[error("the proof does not lead to the expected root")]
    RootMismatch,
    #[error("the leaf indexes are not strictly increasing")]
    IndexesOutOfOrder,
}

/// The complete subtrees whose hashes, folded from the right, give the hash of leaves
/// `[start, end)`, as RFC 9162 splits it (left part the largest power of two below the size).
/// `start` must be aligned as the RFC's recursion leaves it (0, or a multiple of a power of two
/// at least as large as the range).
pub fn decompose(start: u64, end: u64) -> Vec<NodeId> {
    let mut nodes = Vec::new();
    let mut at = start;
    while at < end {
        let mut level = 0u32;
        // Grow while the node stays aligned at `at` and inside the range.
        while level < 63 && at.is_multiple_of(1u64 << (level + 1)) && at + (1u64 << (level + 1)) <= end {
            level += 1;
        }
        nodes.push(NodeId::new(level, at >> level));
        at += 1u64 << level;
    }
    nodes
}

/// Folds the hashes of [`decompose`]'s subtrees into the hash of their range.
fn fold(hashes: &[Hash]) -> Hash {
    let mut iter = hashes.iter().rev();
    let Some(last) = iter.next() else { return empty_root() };
    iter.fold(*last, |right, left| node_hash(left, &right))
}

/// The largest power of two strictly below `n` (n ≥ 2).
fn split_point(n: u64) -> u64 {
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The leaf ranges whose hashes make up the inclusion proof of leaf `index` in a tree of `size`
/// (RFC 9162 §2.1.3.1 `PATH`), bottom first.
pub fn inclusion_ranges(index: u64, size: u64) -> Vec<(u64, u64)> {
    fn path(m: u64, start: u64, end: u64, out: &mut Vec<(u64, u64)>) {
        let n = end - start;
        if n <= 1 {
            return;
        }
        let k = split_point(n);
        if m < k {
            path(m, start, start + k, out);
            out.push((start + k, end));
        } else {
            path(m - k, start + k, end, out);
            out.push((start, start + k));
        }
    }
    let mut out = Vec::new();
    if index < size {
        path(index, 0, size, &mut out);
    }
    out
}

/// The leaf ranges whose hashes make up the consistency proof from tree size `first` to `second`
/// (RFC 9162 §2.1.4.1 `PROOF`); empty when `first` is 0 or equals `second`.
pub fn consistency_ranges(first: u64, second: u64) -> Vec<(u64, u64)> {
    fn subproof(m: u64, start: u64, end: u64, whole: bool, out: &mut Vec<(u64, u64)>) {
        let n = end - start;
        if m == n {
            if !whole {
                out.push((start, end));
            }
            return;
        }
        let k = split_point(n);
        if m <= k {
            subproof(m, start, start + k, whole, out);
            out.push((start + k, end));
        } else {
            subproof(m - k, start + k, end, false, out);
            out.push((start, start + k));
        }
    }
    let mut out = Vec::new();
    if 0 < first && first < second {
        subproof(first, 0, second, true, &mut out);
    }
    out
}

/// Hashes of leaf ranges, from complete subtrees fetched with one call of `fetch` (which returns
/// the hashes of the ids it is given, in the same order).
pub fn range_hashes<E>(
    ranges: &[(u64, u64)],
    fetch: impl FnOnce(&[NodeId]) -> Result<Vec<Hash>, E>,
) -> Result<Vec<Hash>, E> {
    let parts: Vec<Vec<NodeId>> = ranges.iter().map(|(s, e)| decompose(*s, *e)).collect();
    let mut wanted: Vec<NodeId> = parts.iter().flatten().copied().collect();
    wanted.sort_unstable();
    wanted.dedup();
    let fetched = fetch(&wanted)?;
    let lookup = |id: &NodeId| wanted.binary_search(id).ok().and_then(|i| fetched.get(i)).copied();
    Ok(parts
        .iter()
        .map(|ids| fold(&ids.iter().map(|id| lookup(id).unwrap_or_default()).collect::<Vec<_>>()))
        .collect())
}

/// The root of the first `size` leaves.
pub fn root<E>(size: u64, fetch: impl FnOnce(&[NodeId]) -> Result<Vec<Hash>, E>) -> Result<Hash, E> {
    if size == 0 {
        return Ok(empty_root());
    }
    Ok(range_hashes(&[(0, size)], fetch)?[0])
}

/// RFC 9162 inclusion proof of leaf `index` in the tree of `size` leaves.
pub fn inclusion_proof<E>(
    index: u64,
    size: u64,
    fetch: impl FnOnce(&[NodeId]) -> Result<Vec<Hash>, E>,
) -> Result<Vec<Hash>, E> {
    range_hashes(&inclusion_ranges(index, size), fetch)
}

/// RFC 9162 consistency proof from tree size `first` to `second`.
pub fn consistency_proof<E>(
    first: u64,
    second: u64,
    fetch: impl FnOnce(&[NodeId]) -> Result<Vec<Hash>, E>,
) -> Result<Vec<Hash>, E> {
    range_hashes(&consistency_ranges(first, second), fetch)
}

/// Checks an inclusion proof (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return Err(ProofError::WrongLength);
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(ProofError::WrongLength);
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Checks a consistency proof (RFC 9162 §2.1.4.2). Equal sizes need an empty proof and equal
/// roots; every tree is consistent with the empty one.
pub fn verify_consistency(
    first: u64,
    second: u64,
    first_root: &Hash,
    second_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if first > second {
        return Err(ProofError::SizesOutOfOrder { first, second });
    }
    if first == 0 || first == second {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength);
        }
        if first == second && first_root != second_root {
            return Err(ProofError::RootMismatch);
        }
        return Ok(());
    }
    if proof.is_empty() {
        return Err(ProofError::WrongLength);
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if first.is_power_of_two() {
        path.push(*first_root);
    }
    path.extend_from_slice(proof);
    let (mut f, mut s) = (first - 1, second - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if s == 0 {
            return Err(ProofError::WrongLength);
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(ProofError::WrongLength);
    }
    if fr != *first_root || sr != *second_root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// The complete subtrees of a multi-leaf inclusion proof: with the leaves `indexes` (strictly
/// increasing, each below `size`) they recompute the root of the tree of `size` leaves.
///
/// Run RFC 9162's recursion over `[0, size)`; every range it meets that holds none of the leaves
/// and is a complete subtree is a proof node (a right-edge range that is not complete is split
/// further). The nodes are listed left to right and tile, with the leaves, the whole tree. `None`
/// when the indexes are out of order or out of range.
pub fn multi_inclusion_nodes(indexes: &[u64], size: u64) -> Option<Vec<NodeId>> {
    fn walk(lo: u64, hi: u64, leaves: &[u64], out: &mut Vec<NodeId>) {
        let n = hi - lo;
        if leaves.is_empty() {
            if n.is_power_of_two() {
                // Ranges of the recursion start at a multiple of their width: an aligned node.
                let level = n.trailing_zeros();
                out.push(NodeId::new(level, lo >> level));
                return;
            }
        } else if n == 1 {
            return;
        }
        let mid = lo + split_point(n);
        let at = leaves.partition_point(|&i| i < mid);
        walk(lo, mid, &leaves[..at], out);
        walk(mid, hi, &leaves[at..], out);
    }
    if indexes.windows(2).any(|w| w[0] >= w[1]) || indexes.last().is_some_and(|&i| i >= size) {
        return None;
    }
    let mut out = Vec::new();
    if size > 0 {
        walk(0, size, indexes, &mut out);
    }
    Some(out)
}

/// The nodes of a multi-leaf inclusion proof that lie between two consecutive proven leaves
/// `after` and `before` (`None`: the tree's start, or its end). They depend on these two leaves
/// and the size alone, never on the other proven leaves, so a proof can be written, and checked,
/// a leaf at a time: the gaps between consecutive leaves, concatenated, are
/// [`multi_inclusion_nodes`].
pub fn multi_inclusion_gap(after: Option<u64>, before: Option<u64>, size: u64) -> Vec<NodeId> {
    let leaves: Vec<u64> = after.into_iter().chain(before).collect();
    multi_inclusion_nodes(&leaves, size)
        .unwrap_or_default()
        .into_iter()
        .filter(|id| after.is_none_or(|a| id.start() > a) && before.is_none_or(|b| id.end() <= b))
        .collect()
}

/// A multi-leaf inclusion proof: the hashes of [`multi_inclusion_nodes`], in its order.
pub fn multi_inclusion_proof<E>(
    indexes: &[u64],
    size: u64,
    fetch: impl FnOnce(&[NodeId]) -> Result<Vec<Hash>, E>,
) -> Result<Option<Vec<Hash>>, E> {
    match multi_inclusion_nodes(indexes, size) {
        Some(ids) if ids.is_empty() => Ok(Some(Vec::new())),
        Some(ids) => fetch(&ids).map(Some),
        None => Ok(None),
    }
}

/// Checks a multi-leaf inclusion proof: `leaves` (index, leaf hash), strictly increasing, and the
/// proof's nodes recompute `root` of the tree of `size` leaves, each node used exactly once.
pub fn verify_multi_inclusion(
    size: u64,
    leaves: &[(u64, Hash)],
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    fn fold<'a>(
        lo: u64,
        hi: u64,
        leaves: &[(u64, Hash)],
        proof: &mut impl Iterator<Item = &'a Hash>,
    ) -> Result<Hash, ProofError> {
        let n = hi - lo;
        if leaves.is_empty() && n.is_power_of_two() {
            return proof.next().copied().ok_or(ProofError::WrongLength);
        }
        if n == 1 {
            return Ok(leaves[0].1);
        }
        let mid = lo + split_point(n);
        let at = leaves.partition_point(|(i, _)| *i < mid);
        let left = fold(lo, mid, &leaves[..at], proof)?;
        let right = fold(mid, hi, &leaves[at..], proof)?;
        Ok(node_hash(&left, &right))
    }
    if leaves.windows(2).any(|w| w[0].0 >= w[1].0) {
        return Err(ProofError::IndexesOutOfOrder);
    }
    if let Some(&(index, _)) = leaves.iter().find(|(i, _)| *i >= size) {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut nodes = proof.iter();
    let computed = if size == 0 { empty_root() } else { fold(0, size, leaves, &mut nodes)? };
    if nodes.next().is_some() {
        return Err(ProofError::WrongLength);
    }
    if computed != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// The right edge of a growing tree: the complete subtrees of [`decompose`]`(0, size)`. Appending
/// a leaf completes the subtrees it closes, which is all a writer has to store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// Left to right, levels strictly decreasing.
    nodes: Vec<(u32, Hash)>,
}

impl Frontier {
    /// The frontier of a tree of `size` leaves from the hashes of `decompose(0, size)`.
    pub fn new(size: u64, hashes: &[Hash]) -> Option<Self> {
        let ids = decompose(0, size);
        if ids.len() != hashes.len() {
            return None;
        }
        Some(Frontier { size, nodes: ids.iter().zip(hashes).map(|(id, h)| (id.level, *h)).collect() })
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf hash; returns the interior nodes (level ≥ 1) it completed, lowest first.
    pub fn push(&mut self, leaf: Hash) -> Vec<(NodeId, Hash)> {
        let index = self.size;
        let (mut level, mut hash) = (0u32, leaf);
        let mut completed = Vec::new();
        while let Some(&(top, left)) = self.nodes.last() {
            if top != level {
                break;
            }
            self.nodes.pop();
            hash = node_hash(&left, &hash);
            level += 1;
            completed.push((NodeId::new(level, index >> level), hash));
        }
        self.nodes.push((level, hash));
        self.size += 1;
        completed
    }

    /// Appends a whole complete subtree of `level` (its hash); `None` when the tree's size is
    /// not a multiple of its width, where no such subtree can start.
    pub fn push_node(&mut self, level: u32, hash: Hash) -> Option<()> {
        if level >= 64 || !self.size.is_multiple_of(1u64 << level) {
            return None;
        }
        let (mut level_now, mut hash) = (level, hash);
        while let Some(&(top, left)) = self.nodes.last() {
            if top != level_now {
                break;
            }
            self.nodes.pop();
            hash = node_hash(&left, &hash);
            level_now += 1;
        }
        self.nodes.push((level_now, hash));
        self.size += 1u64 << level;
        Some(())
    }

    /// The tree's root.
    pub fn root(&self) -> Hash {
        fold(&self.nodes.iter().map(|(_, h)| *h).collect::<Vec<_>>())
    }
}

/// A whole tree in memory, every complete subtree kept: for tests, exports and archive checks.
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    /// `levels[l][i]` is the node (l, i).
    levels: Vec<Vec<Hash>>,
    frontier: Frontier,
}

impl MemoryTree {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, leaf: Hash) {
        if self.levels.is_empty() {
            self.levels.push(Vec::new());
        }
        self.levels[0].push(leaf);
        for (id, hash) in self.frontier.push(leaf) {
            let level = id.level as usize;
            if self.levels.len() <= level {
                self.levels.push(Vec::new());
            }
            self.levels[level].push(hash);
        }
    }

    pub fn len(&self) -> u64 {
        self.frontier.size()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Hashes of complete subtrees of this tree.
    pub fn nodes(&self, ids: &[NodeId]) -> Vec<Hash> {
        ids.iter()
            .map(|id| {
                self.levels
                    .get(id.level as usize)
                    .and_then(|l| l.get(id.index as usize))
                    .copied()
                    .unwrap_or_default()
            })
            .collect()
    }

    fn fetch(&self) -> impl FnOnce(&[NodeId]) -> Result<Vec<Hash>, std::convert::Infallible> + '_ {
        move |ids| Ok(self.nodes(ids))
    }

    /// The root of the first `size` leaves.
    pub fn root(&self, size: u64) -> Hash {
        match root(size, self.fetch()) {
            Ok(hash) => hash,
            Err(never) => match never {},
        }
    }

    pub fn inclusion_proof(&self, index: u64, size: u64) -> Vec<Hash> {
        match inclusion_proof(index, size, self.fetch()) {
            Ok(proof) => proof,
            Err(never) => match never {},
        }
    }

    pub fn consistency_proof(&self, first: u64, second: u64) -> Vec<Hash> {
        match consistency_proof(first, second, self.fetch()) {
            Ok(proof) => proof,
            Err(never) => match never {},
        }
    }

    /// `None` when the indexes are out of order or out of range.
    pub fn multi_inclusion_proof(&self, indexes: &[u64], size: u64) -> Option<Vec<Hash>> {
        match multi_inclusion_proof(indexes, size, self.fetch()) {
            Ok(proof) => proof,
            Err(never) => match never {},
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9162's recursive definition, for comparison.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split_point(n as u64) as usize;
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    fn tree(n: u64) -> (MemoryTree, Vec<Hash>) {
        let leaves: Vec<Hash> = (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut tree = MemoryTree::new();
        leaves.iter().for_each(|l| tree.push(*l));
        (tree, leaves)
    }

    #[test]
    fn roots_follow_the_recursive_definition() {
        let (tree, leaves) = tree(70);
        for size in 0..=70u64 {
            assert_eq!(tree.root(size), mth(&leaves[..size as usize]), "size {size}");
        }
        assert_eq!(hex(&empty_root()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }

    #[test]
    fn proofs_verify_and_wrong_ones_do_not() {
        let (tree, leaves) = tree(40);
        for size in 1..=40u64 {
            let root = tree.root(size);
            for index in 0..size {
                let proof = tree.inclusion_proof(index, size);
                verify_inclusion(index, size, &leaves[index as usize], &proof, &root).unwrap();
                let other = leaves[((index + 1) % 40) as usize];
                if size > 1 {
                    assert!(verify_inclusion(index, size, &other, &proof, &root).is_err());
                }
            }
            for first in 1..=size {
                let proof = tree.consistency_proof(first, size);
                verify_consistency(first, size, &tree.root(first), &root, &proof).unwrap();
                if first < size {
                    assert!(verify_consistency(first, size, &tree.root(first - 1), &root, &proof).is_err());
                }
            }
        }
    }

    #[test]
    fn the_frontier_reopens_from_its_stored_nodes() {
        let (tree, leaves) = tree(37);
        for size in 0..=37u64 {
            let hashes = tree.nodes(&decompose(0, size));
            let mut frontier = Frontier::new(size, &hashes).unwrap();
            assert_eq!(frontier.root(), tree.root(size));
            if size < 37 {
                let completed = frontier.push(leaves[size as usize]);
                for (id, hash) in completed {
                    assert_eq!(tree.nodes(&[id])[0], hash);
                }
                assert_eq!(frontier.root(), tree.root(size + 1));
            }
        }
    }

    /// A range of leaves between two stretches of complete subtrees gives the root: what an
    /// export manifest carries.
    #[test]
    fn subtrees_around_a_range_give_the_root() {
        let (tree, leaves) = tree(45);
        for first in 1..=45u64 {
            for last in first..=45u64 {
                let prefix = tree.nodes(&decompose(0, first - 1));
                let mut frontier = Frontier::new(first - 1, &prefix).unwrap();
                for leaf in &leaves[(first - 1) as usize..last as usize] {
                    frontier.push(*leaf);
                }
                for id in decompose(last, 45) {
                    frontier.push_node(id.level, tree.nodes(&[id])[0]).unwrap();
                }
                assert_eq!(frontier.root(), tree.root(45), "{first}..{last}");
            }
        }
        assert!(Frontier::new(3, &tree.nodes(&decompose(0, 3))).unwrap().push_node(1, [0; 32]).is_none());
    }

    /// Every subset of the leaves of small trees: the proof's nodes and the leaves tile the tree
    /// left to right, the gaps between consecutive leaves make up the proof, and it verifies.
    #[test]
    fn multi_inclusion_proofs_of_every_subset() {
        let (tree, leaves) = tree(11);
        for size in 0..=11u64 {
            let root = tree.root(size);
            for mask in 0u32..(1 << size) {
                let set: Vec<u64> = (0..size).filter(|i| mask & (1 << i) != 0).collect();
                let ids = multi_inclusion_nodes(&set, size).unwrap();
                let mut tiles: Vec<(u64, u64)> = ids.iter().map(|id| (id.start(), id.end())).collect();
                tiles.extend(set.iter().map(|&i| (i, i + 1)));
                tiles.sort_unstable();
                let mut at = 0;
                for (start, end) in tiles {
                    assert_eq!(start, at, "size {size} set {set:?}");
                    at = end;
                }
                assert_eq!(at, size);
                let mut gaps = Vec::new();
                let mut prev = None;
                for &i in &set {
                    gaps.extend(multi_inclusion_gap(prev, Some(i), size));
                    prev = Some(i);
                }
                gaps.extend(multi_inclusion_gap(prev, None, size));
                assert_eq!(gaps, ids, "size {size} set {set:?}");
                let proof = tree.multi_inclusion_proof(&set, size).unwrap();
                let proven: Vec<(u64, Hash)> = set.iter().map(|&i| (i, leaves[i as usize])).collect();
                verify_multi_inclusion(size, &proven, &proof, &root).unwrap();
                if !proof.is_empty() {
                    let mut short = proof.clone();
                    short.pop();
                    assert_eq!(
                        verify_multi_inclusion(size, &proven, &short, &root),
                        Err(ProofError::WrongLength)
                    );
                }
                let mut long = proof.clone();
                long.push(root);
                assert!(verify_multi_inclusion(size, &proven, &long, &root).is_err());
            }
        }
        // A single leaf's proof is its inclusion proof, the right siblings cut into complete subtrees.
        assert_eq!(
            multi_inclusion_nodes(&[5], 7).unwrap(),
            [NodeId::new(2, 0), NodeId::new(0, 4), NodeId::new(0, 6)]
        );
        assert_eq!(multi_inclusion_nodes(&[0], 7).unwrap(), decompose(1, 7));
        assert!(multi_inclusion_nodes(&[3, 3], 7).is_none());
        assert!(multi_inclusion_nodes(&[4, 2], 7).is_none());
        assert!(multi_inclusion_nodes(&[7], 7).is_none());
        let root = tree.root(7);
        let proven = [(4, leaves[4]), (2, leaves[2])];
        assert_eq!(verify_multi_inclusion(7, &proven, &[], &root), Err(ProofError::IndexesOutOfOrder));
        assert!(matches!(
            verify_multi_inclusion(7, &[(7, leaves[7])], &[], &root),
            Err(ProofError::IndexOutOfRange { .. })
        ));
        verify_multi_inclusion(0, &[], &[], &empty_root()).unwrap();
    }

    fn hex(h: &Hash) -> String {
        h.iter().map(|b| format!("{b:02x}")).collect()
    }
}
