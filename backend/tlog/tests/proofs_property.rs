//! The crate's Merkle tree, proofs and verifiers checked against the
//! independent RFC 9162 reference in `support/rfc9162.rs`.

#[path = "support/rfc9162.rs"]
mod rfc9162;

use auditlog_tlog::merkle::{self, MemoryTree};
use proptest::prelude::*;
use proptest::sample::Index;
use rfc9162::Hash;

/// Random leaf data, 1 or 2 ..300 leaves.
fn leaf_data(min_leaves: usize) -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..24), min_leaves..300)
}

/// Builds the crate's tree and the reference list of leaf hashes. Each leaf's
/// data is prefixed with its index so that all leaves are distinct: with equal
/// leaves a proof can legitimately verify at another index.
fn build(data: &[Vec<u8>]) -> (MemoryTree, Vec<Hash>) {
    let mut tree = MemoryTree::new();
    let mut hashes = Vec::with_capacity(data.len());
    for (i, bytes) in data.iter().enumerate() {
        let mut leaf = (i as u64).to_be_bytes().to_vec();
        leaf.extend_from_slice(bytes);
        let hash = rfc9162::leaf_hash(&leaf);
        assert_eq!(merkle::leaf_hash(&leaf), hash, "leaf_hash of leaf {i}");
        tree.push(hash);
        hashes.push(hash);
    }
    assert_eq!(tree.len(), hashes.len() as u64);
    (tree, hashes)
}

fn flip(hash: &Hash, byte: Index, bit: u8) -> Hash {
    let mut out = *hash;
    out[byte.index(32)] ^= 1 << bit;
    out
}

/// (reference accepts, crate accepts) for an inclusion proof.
fn inclusion(index: u64, size: u64, leaf: &Hash, proof: &[Hash], root: &Hash) -> (bool, bool) {
    (
        rfc9162::verify_inclusion(index, size, leaf, proof, root),
        merkle::verify_inclusion(index, size, leaf, proof, root).is_ok(),
    )
}

/// (reference accepts, crate accepts) for a consistency proof.
fn consistency(
    first: u64,
    second: u64,
    first_root: &Hash,
    second_root: &Hash,
    proof: &[Hash],
) -> (bool, bool) {
    (
        rfc9162::verify_consistency(first, second, first_root, second_root, proof),
        merkle::verify_consistency(first, second, first_root, second_root, proof).is_ok(),
    )
}

const ACCEPT: (bool, bool) = (true, true);
const REJECT: (bool, bool) = (false, false);

#[test]
fn empty_tree_and_known_leaf() {
    let tree = MemoryTree::new();
    assert_eq!(tree.len(), 0);
    assert_eq!(tree.root(0), rfc9162::mth(&[]));
    assert_eq!(merkle::leaf_hash(b""), rfc9162::leaf_hash(b""));
}

#[test]
fn small_trees_exhaustive() {
    let data: Vec<Vec<u8>> = (0..24u8).map(|i| vec![i; i as usize]).collect();
    let (tree, hashes) = build(&data);
    for n in 1..=hashes.len() {
        let size = n as u64;
        let root = tree.root(size);
        assert_eq!(root, rfc9162::mth(&hashes[..n]), "root({n})");
        for m in 0..n {
            let proof = tree.inclusion_proof(m as u64, size);
            assert_eq!(proof, rfc9162::path(m, &hashes[..n]), "inclusion_proof({m}, {n})");
            assert_eq!(inclusion(m as u64, size, &hashes[m], &proof, &root), ACCEPT, "PATH({m}, D[{n}])");
        }
        for m in 1..n {
            let proof = tree.consistency_proof(m as u64, size);
            assert_eq!(proof, rfc9162::proof(m, &hashes[..n]), "consistency_proof({m}, {n})");
            let first_root = tree.root(m as u64);
            assert_eq!(consistency(m as u64, size, &first_root, &root, &proof), ACCEPT, "PROOF({m}, D[{n}])");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn inclusion_proofs_match_reference(
        data in leaf_data(1),
        size_pick in any::<Index>(),
        index_pick in any::<Index>(),
        other_pick in any::<Index>(),
        element_pick in any::<Index>(),
        byte in any::<Index>(),
        bit in 0u8..8,
    ) {
        let (tree, hashes) = build(&data);
        let len = hashes.len();
        let size = 1 + size_pick.index(len);
        let index = index_pick.index(size);
        let (n, i) = (size as u64, index as u64);
        let leaf = hashes[index];

        let root = tree.root(n);
        prop_assert_eq!(root, rfc9162::mth(&hashes[..size]));
        let proof = tree.inclusion_proof(i, n);
        let reference = rfc9162::path(index, &hashes[..size]);
        prop_assert_eq!(&proof, &reference);
        prop_assert_eq!(inclusion(i, n, &leaf, &proof, &root), ACCEPT);
        prop_assert_eq!(inclusion(i, n, &leaf, &reference, &root), ACCEPT);

        // Wrong leaf: a flipped leaf hash, and another leaf of the tree.
        prop_assert_eq!(inclusion(i, n, &flip(&leaf, byte, bit), &proof, &root), REJECT);
        if len > 1 {
            let other = hashes[(index + 1 + other_pick.index(len - 1)) % len];
            prop_assert_eq!(inclusion(i, n, &other, &proof, &root), REJECT, "other leaf");
        }
        // Wrong index inside the tree, and the first index outside it.
        if size > 1 {
            let j = (index + 1 + other_pick.index(size - 1)) % size;
            prop_assert_eq!(inclusion(j as u64, n, &leaf, &proof, &root), REJECT, "index {}", j);
        }
        prop_assert_eq!(inclusion(n, n, &leaf, &proof, &root), REJECT);
        // Wrong size, with the root of that size (sizes index+1..=len other than size).
        // (Paired with the original root a wrong size can be accepted by the
        // RFC algorithm; the size and root must come from one tree head.)
        if len - index > 1 {
            let mut n2 = index + 1 + other_pick.index(len - index - 1);
            if n2 >= size {
                n2 += 1;
            }
            let root2 = tree.root(n2 as u64);
            prop_assert_eq!(inclusion(i, n2 as u64, &leaf, &proof, &root2), REJECT, "size {}", n2);
        }
        // Wrong root, flipped proof byte, short and long proofs.
        prop_assert_eq!(inclusion(i, n, &leaf, &proof, &flip(&root, byte, bit)), REJECT);
        if !proof.is_empty() {
            let mut bad = proof.clone();
            let k = element_pick.index(bad.len());
            bad[k] = flip(&bad[k], byte, bit);
            prop_assert_eq!(inclusion(i, n, &leaf, &bad, &root), REJECT, "flipped element {}", k);
            prop_assert_eq!(inclusion(i, n, &leaf, &proof[..proof.len() - 1], &root), REJECT);
        }
        let mut long = proof.clone();
        long.push(leaf);
        prop_assert_eq!(inclusion(i, n, &leaf, &long, &root), REJECT);
    }

    #[test]
    fn consistency_proofs_match_reference(
        data in leaf_data(2),
        second_pick in any::<Index>(),
        first_pick in any::<Index>(),
        other_pick in any::<Index>(),
        element_pick in any::<Index>(),
        byte in any::<Index>(),
        bit in 0u8..8,
    ) {
        let (tree, hashes) = build(&data);
        let len = hashes.len();
        let second = 2 + second_pick.index(len - 1);
        let first = 1 + first_pick.index(second - 1);
        let (m, n) = (first as u64, second as u64);

        let first_root = tree.root(m);
        let second_root = tree.root(n);
        prop_assert_eq!(first_root, rfc9162::mth(&hashes[..first]));
        prop_assert_eq!(second_root, rfc9162::mth(&hashes[..second]));
        let proof = tree.consistency_proof(m, n);
        let reference = rfc9162::proof(first, &hashes[..second]);
        prop_assert_eq!(&proof, &reference);
        prop_assert_eq!(consistency(m, n, &first_root, &second_root, &proof), ACCEPT);
        prop_assert_eq!(consistency(m, n, &first_root, &second_root, &reference), ACCEPT);

        // A flipped byte in a proof element or in either root.
        let mut bad = proof.clone();
        let k = element_pick.index(bad.len());
        bad[k] = flip(&bad[k], byte, bit);
        prop_assert_eq!(consistency(m, n, &first_root, &second_root, &bad), REJECT, "flipped element {}", k);
        prop_assert_eq!(consistency(m, n, &flip(&first_root, byte, bit), &second_root, &proof), REJECT);
        prop_assert_eq!(consistency(m, n, &first_root, &flip(&second_root, byte, bit), &proof), REJECT);
        // Wrong first size (1..second other than first) with its root.
        if second > 2 {
            let mut m2 = 1 + other_pick.index(second - 2);
            if m2 >= first {
                m2 += 1;
            }
            let root2 = tree.root(m2 as u64);
            prop_assert_eq!(consistency(m2 as u64, n, &root2, &second_root, &proof), REJECT, "first {}", m2);
        }
        // Wrong second size (first+1..=len other than second) with its root.
        if len - first > 1 {
            let mut n2 = first + 1 + other_pick.index(len - first - 1);
            if n2 >= second {
                n2 += 1;
            }
            let root2 = tree.root(n2 as u64);
            prop_assert_eq!(consistency(m, n2 as u64, &first_root, &root2, &proof), REJECT, "second {}", n2);
        }
        // A wrong (forked) first tree: one leaf of the first tree replaced.
        let mut forked = hashes[..first].to_vec();
        let f = other_pick.index(first);
        forked[f] = flip(&forked[f], byte, bit);
        let forked_root = rfc9162::mth(&forked);
        prop_assert_eq!(consistency(m, n, &forked_root, &second_root, &proof), REJECT, "forked leaf {}", f);
        // Empty, short and long proofs.
        prop_assert_eq!(consistency(m, n, &first_root, &second_root, &[]), REJECT);
        prop_assert_eq!(consistency(m, n, &first_root, &second_root, &proof[..proof.len() - 1]), REJECT);
        let mut long = proof.clone();
        long.push(hashes[0]);
        prop_assert_eq!(consistency(m, n, &first_root, &second_root, &long), REJECT);
    }
}

/// (leaf index, leaf hash) of the chosen leaves, by index.
fn chosen(hashes: &[Hash], size: usize, picks: &[bool]) -> Vec<(u64, Hash)> {
    (0..size).filter(|&i| picks[i % picks.len()]).map(|i| (i as u64, hashes[i])).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A multi-leaf inclusion proof of a random subset of a random tree: every node is the RFC 9162
    /// hash of its range, the proof recomputes the reference root, and any change fails.
    #[test]
    fn multi_inclusion_proofs_verify_and_tampering_fails(
        data in leaf_data(1),
        size_pick in any::<Index>(),
        picks in prop::collection::vec(any::<bool>(), 1..64),
        a in any::<Index>(),
        b in any::<Index>(),
        byte in any::<Index>(),
        bit in 0u8..8,
    ) {
        let (tree, hashes) = build(&data);
        let len = hashes.len();
        let size = 1 + size_pick.index(len);
        let n = size as u64;
        let leaves = chosen(&hashes, size, &picks);
        let indexes: Vec<u64> = leaves.iter().map(|(i, _)| *i).collect();
        let root = tree.root(n);
        prop_assert_eq!(root, rfc9162::mth(&hashes[..size]));
        let ids = merkle::multi_inclusion_nodes(&indexes, n).unwrap();
        let proof = tree.multi_inclusion_proof(&indexes, n).unwrap();
        prop_assert_eq!(ids.len(), proof.len());
        for (id, hash) in ids.iter().zip(&proof) {
            prop_assert!(id.end() <= n);
            prop_assert_eq!(*hash, rfc9162::mth(&hashes[id.start() as usize..id.end() as usize]));
        }
        let verify = |size: u64, leaves: &[(u64, Hash)], proof: &[Hash], root: &Hash| {
            merkle::verify_multi_inclusion(size, leaves, proof, root).is_ok()
        };
        prop_assert!(verify(n, &leaves, &proof, &root));

        if !proof.is_empty() {
            // A node removed, or changed in one bit.
            let k = a.index(proof.len());
            let mut removed = proof.clone();
            removed.remove(k);
            prop_assert!(!verify(n, &leaves, &removed, &root), "node {} removed", k);
            let mut flipped = proof.clone();
            flipped[k] = flip(&flipped[k], byte, bit);
            prop_assert!(!verify(n, &leaves, &flipped, &root), "node {} flipped", k);
            // Two different nodes swapped.
            let j = b.index(proof.len());
            if proof[j] != proof[k] {
                let mut swapped = proof.clone();
                swapped.swap(j, k);
                prop_assert!(!verify(n, &leaves, &swapped, &root), "nodes {} and {} swapped", j, k);
            }
        }
        // A node added, anywhere.
        let mut added = proof.clone();
        added.insert(a.index(proof.len() + 1), hashes[b.index(len)]);
        prop_assert!(!verify(n, &leaves, &added, &root), "a node added");
        if !leaves.is_empty() {
            // A leaf changed, or proven at an index it is not at.
            let k = a.index(leaves.len());
            let mut changed = leaves.clone();
            changed[k].1 = flip(&changed[k].1, byte, bit);
            prop_assert!(!verify(n, &changed, &proof, &root), "leaf {} changed", k);
            let free: Vec<u64> = (0..n).filter(|i| !indexes.contains(i)).collect();
            if !free.is_empty() {
                let mut moved = leaves.clone();
                moved[k].0 = free[b.index(free.len())];
                moved.sort_by_key(|(i, _)| *i);
                prop_assert!(!verify(n, &moved, &proof, &root), "leaf {} moved to {}", k, moved[k].0);
            }
            // One leaf left out of the set.
            let mut fewer = leaves.clone();
            fewer.remove(k);
            prop_assert!(!verify(n, &fewer, &proof, &root), "leaf {} left out", k);
        }
        // Another size, with the root of that size (every leaf still inside it). (With this root a
        // wrong size can fold to it, as for RFC 9162 proofs: size and root come from one tree head.)
        let least = indexes.last().map_or(1, |i| i + 1);
        if (len as u64) > least {
            let mut n2 = least + b.index(len - least as usize) as u64;
            if n2 >= n {
                n2 += 1;
            }
            if n2 <= len as u64 {
                prop_assert!(!verify(n2, &leaves, &proof, &tree.root(n2)), "size {}", n2);
            }
        }
    }
}

/// A single leaf's multi-leaf proof is its RFC 9162 inclusion proof, siblings left to right, the
/// ones on the right edge cut into complete subtrees: folding them gives the reference path.
#[test]
fn a_single_leaf_multi_proof_is_its_inclusion_path() {
    let data: Vec<Vec<u8>> = (0..40u8).map(|i| vec![i; 3]).collect();
    let (tree, hashes) = build(&data);
    for n in 1..=hashes.len() {
        for m in 0..n {
            let ids = merkle::multi_inclusion_nodes(&[m as u64], n as u64).unwrap();
            let reference = rfc9162::path(m, &hashes[..n]);
            // Each sibling of the path is one range; group the nodes by sibling range.
            let ranges = merkle::inclusion_ranges(m as u64, n as u64);
            let mut covered = 0;
            for ((start, end), sibling) in ranges.iter().zip(&reference) {
                let parts: Vec<_> =
                    ids.iter().filter(|id| id.start() >= *start && id.end() <= *end).collect();
                covered += parts.len();
                assert_eq!(rfc9162::mth(&hashes[*start as usize..*end as usize]), *sibling);
                let hashes_of: Vec<Hash> = tree.nodes(&parts.iter().map(|id| **id).collect::<Vec<_>>());
                let folded =
                    hashes_of.iter().rev().copied().reduce(|right, left| rfc9162::node_hash(&left, &right));
                assert_eq!(folded, Some(*sibling), "leaf {m} of {n}");
            }
            assert_eq!(covered, ids.len(), "every node belongs to one sibling: leaf {m} of {n}");
        }
    }
}
