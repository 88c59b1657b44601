//! Independent reference implementation of RFC 9162 section 2.1 Merkle trees,
//! written straight from the RFC text. Test code only: it favours being
//! obviously faithful to the text over speed.
//!
//! `mth`, `path` and `proof` take the leaves already hashed with `leaf_hash`,
//! i.e. `leaf_hashes[i] = SHA-256(0x00 || d(i))`.
//!
//! Include from an integration test with:
//! `#[path = "support/rfc9162.rs"] mod rfc9162;`
#![allow(dead_code)]

use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

fn finish(hasher: Sha256) -> Hash {
    let mut out = [0u8; 32];
    out.copy_from_slice(&hasher.finalize());
    out
}

/// 2.1.1: MTH({d(0)}) = SHA-256(0x00 || d(0)).
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x00u8]);
    hasher.update(data);
    finish(hasher)
}

/// 2.1.1: SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x01u8]);
    hasher.update(left);
    hasher.update(right);
    finish(hasher)
}

/// "let k be the largest power of two smaller than n (i.e., k < n <= 2k)".
fn split(n: usize) -> usize {
    assert!(n > 1, "k is only defined for n > 1");
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// 2.1.1 Merkle Tree Hash over leaf hashes.
pub fn mth(leaf_hashes: &[Hash]) -> Hash {
    match leaf_hashes.len() {
        // MTH({}) = SHA-256()
        0 => finish(Sha256::new()),
        // MTH({d(0)}) = SHA-256(0x00 || d(0)), already applied by the caller.
        1 => leaf_hashes[0],
        // MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))
        n => {
            let k = split(n);
            node_hash(&mth(&leaf_hashes[..k]), &mth(&leaf_hashes[k..]))
        }
    }
}

/// 2.1.3.1 PATH(m, D[n]), for 0 <= m < n.
pub fn path(m: usize, leaf_hashes: &[Hash]) -> Vec<Hash> {
    let n = leaf_hashes.len();
    assert!(m < n, "PATH(m, D[n]) needs m < n");
    // PATH(0, {d(0)}) = {}
    if n == 1 {
        return Vec::new();
    }
    let k = split(n);
    if m < k {
        // PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n])
        let mut p = path(m, &leaf_hashes[..k]);
        p.push(mth(&leaf_hashes[k..]));
        p
    } else {
        // PATH(m, D[n]) = PATH(m - k, D[k:n]) : MTH(D[0:k])
        let mut p = path(m - k, &leaf_hashes[k..]);
        p.push(mth(&leaf_hashes[..k]));
        p
    }
}

/// 2.1.4.1 PROOF(m, D[n]) = SUBPROOF(m, D[n], true), for 0 < m <= n.
pub fn proof(m: usize, leaf_hashes: &[Hash]) -> Vec<Hash> {
    assert!(m > 0, "PROOF(m, D[n]) needs 0 < m");
    assert!(m <= leaf_hashes.len(), "PROOF(m, D[n]) needs m <= n");
    subproof(m, leaf_hashes, true)
}

/// 2.1.4.1 SUBPROOF(m, D[n], b).
fn subproof(m: usize, leaf_hashes: &[Hash], b: bool) -> Vec<Hash> {
    let n = leaf_hashes.len();
    if m == n {
        // SUBPROOF(m, D[m], true) = {}
        // SUBPROOF(m, D[m], false) = {MTH(D[m])}
        return if b { Vec::new() } else { vec![mth(leaf_hashes)] };
    }
    // m < n
    let k = split(n);
    if m <= k {
        // SUBPROOF(m, D[n], b) = SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
        let mut p = subproof(m, &leaf_hashes[..k], b);
        p.push(mth(&leaf_hashes[k..]));
        p
    } else {
        // SUBPROOF(m, D[n], b) = SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
        let mut p = subproof(m - k, &leaf_hashes[k..], false);
        p.push(mth(&leaf_hashes[..k]));
        p
    }
}

/// 2.1.3.2 Verifying an inclusion proof.
pub fn verify_inclusion(
    leaf_index: u64,
    tree_size: u64,
    leaf_hash: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> bool {
    // 1. If leaf_index >= tree_size, fail.
    if leaf_index >= tree_size {
        return false;
    }
    // 2. Set fn to leaf_index and sn to tree_size - 1.
    let mut fn_ = leaf_index;
    let mut sn = tree_size - 1;
    // 3. Set r to hash.
    let mut r = *leaf_hash;
    // 4. For each value p in the inclusion_path array:
    for p in proof {
        // a. If sn is 0, then stop the iteration and fail the proof verification.
        if sn == 0 {
            return false;
        }
        // b. If LSB(fn) is set, or if fn is equal to sn, then:
        if fn_ & 1 == 1 || fn_ == sn {
            // i. Set r to HASH(0x01 || p || r).
            r = node_hash(p, &r);
            // ii. If LSB(fn) is not set, then right-shift both fn and sn
            //     equally until either LSB(fn) is set or fn is 0.
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            // Otherwise: i. Set r to HASH(0x01 || r || p).
            r = node_hash(&r, p);
        }
        // c. Finally, right-shift both fn and sn one time.
        fn_ >>= 1;
        sn >>= 1;
    }
    // 5. If sn is equal to 0 and r and the root_hash are equal, the
    //    inclusion is proven. Otherwise, fail.
    sn == 0 && r == *root
}

/// 2.1.4.2 Verifying consistency between two tree heads. The RFC states the
/// algorithm for 0 < first < second; anything else is rejected here.
pub fn verify_consistency(
    first: u64,
    second: u64,
    first_root: &Hash,
    second_root: &Hash,
    proof: &[Hash],
) -> bool {
    if first == 0 || first >= second {
        return false;
    }
    // 1. If consistency_path is an empty array, stop and fail the proof verification.
    if proof.is_empty() {
        return false;
    }
    // 2. If first is an exact power of 2, then prepend first_hash to the
    //    consistency_path array.
    let mut consistency_path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if first.is_power_of_two() {
        consistency_path.push(*first_root);
    }
    consistency_path.extend_from_slice(proof);
    // 3. Set fn to first - 1 and sn to second - 1.
    let mut fn_ = first - 1;
    let mut sn = second - 1;
    // 4. If LSB(fn) is set, then right-shift both fn and sn equally until
    //    LSB(fn) is not set.
    if fn_ & 1 == 1 {
        while fn_ & 1 == 1 {
            fn_ >>= 1;
            sn >>= 1;
        }
    }
    // 5. Set both fr and sr to the first value in the consistency_path array.
    let mut fr = consistency_path[0];
    let mut sr = consistency_path[0];
    // 6. For each subsequent value c in the consistency_path array:
    for c in &consistency_path[1..] {
        // a. If sn is 0, then stop the iteration and fail the proof verification.
        if sn == 0 {
            return false;
        }
        // b. If LSB(fn) is set, or if fn is equal to sn, then:
        if fn_ & 1 == 1 || fn_ == sn {
            // i. Set fr to HASH(0x01 || c || fr).
            fr = node_hash(c, &fr);
            // ii. Set sr to HASH(0x01 || c || sr).
            sr = node_hash(c, &sr);
            // iii. If LSB(fn) is not set, then right-shift both fn and sn
            //      equally until either LSB(fn) is set or fn is 0.
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            // Otherwise: i. Set sr to HASH(0x01 || sr || c).
            sr = node_hash(&sr, c);
        }
        // c. Finally, right-shift both fn and sn one time.
        fn_ >>= 1;
        sn >>= 1;
    }
    // 7. Verify that fr equals first_hash, sr equals second_hash, and sn is 0.
    fr == *first_root && sr == *second_root && sn == 0
}
