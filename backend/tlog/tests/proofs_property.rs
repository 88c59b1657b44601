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
