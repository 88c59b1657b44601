//! Sanity checks of the independent RFC 9162 reference in `support/rfc9162.rs`.

#[path = "support/rfc9162.rs"]
mod rfc9162;

use rfc9162::{leaf_hash, mth, path, proof, verify_consistency, verify_inclusion, Hash};

const MAX: usize = 20;

fn leaves(n: usize) -> Vec<Hash> {
    (0..n).map(|i| leaf_hash(format!("leaf {i}").as_bytes())).collect()
}

/// roots[n] = MTH of the first n leaves.
fn roots(leaves: &[Hash]) -> Vec<Hash> {
    (0..=leaves.len()).map(|n| mth(&leaves[..n])).collect()
}

fn flipped(hash: &Hash, byte: usize) -> Hash {
    let mut out = *hash;
    out[byte % 32] ^= 0x01;
    out
}

/// `proof` with element `i` changed in one bit.
fn with_flipped(proof: &[Hash], i: usize, byte: usize) -> Vec<Hash> {
    let mut out = proof.to_vec();
    out[i] = flipped(&out[i], byte);
    out
}

fn unhex(text: &str) -> Hash {
    assert_eq!(text.len(), 64);
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).expect("hex digit");
    }
    out
}

#[test]
fn known_answers() {
    // SHA-256 of the empty string.
    assert_eq!(mth(&[]), unhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    // The RFC 6962 / certificate-transparency test leaves and the roots of
    // their first 1..=8 leaves.
    let data: [&[u8]; 8] = [
        b"",
        b"\x00",
        b"\x10",
        b"\x20\x21",
        b"\x30\x31",
        b"\x40\x41\x42\x43",
        b"\x50\x51\x52\x53\x54\x55\x56\x57",
        b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
    ];
    let expected = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];
    let hashes: Vec<Hash> = data.into_iter().map(leaf_hash).collect();
    for (n, want) in expected.into_iter().enumerate() {
        assert_eq!(mth(&hashes[..=n]), unhex(want), "root of {} leaves", n + 1);
    }
}

#[test]
fn every_path_verifies() {
    let l = leaves(MAX);
    let r = roots(&l);
    for n in 1..=MAX {
        for m in 0..n {
            let p = path(m, &l[..n]);
            assert!(verify_inclusion(m as u64, n as u64, &l[m], &p, &r[n]), "PATH({m}, D[{n}])");
        }
    }
}

#[test]
fn every_proof_verifies() {
    let l = leaves(MAX);
    let r = roots(&l);
    for n in 2..=MAX {
        for m in 1..n {
            let p = proof(m, &l[..n]);
            assert!(verify_consistency(m as u64, n as u64, &r[m], &r[n], &p), "PROOF({m}, D[{n}])");
        }
    }
}

#[test]
fn inclusion_rejects_tampering() {
    let l = leaves(MAX);
    let r = roots(&l);
    for n in 1..=MAX {
        let size = n as u64;
        for m in 0..n {
            let index = m as u64;
            let p = path(m, &l[..n]);
            // A flipped byte in any proof element, the leaf or the root.
            for i in 0..p.len() {
                let bad = with_flipped(&p, i, 7 * i + m);
                assert!(!verify_inclusion(index, size, &l[m], &bad, &r[n]), "flip {i} in PATH({m}, D[{n}])");
            }
            assert!(!verify_inclusion(index, size, &flipped(&l[m], m), &p, &r[n]));
            assert!(!verify_inclusion(index, size, &l[m], &p, &flipped(&r[n], n)));
            // The wrong leaf.
            let other = l[(m + 1) % MAX];
            assert!(!verify_inclusion(index, size, &other, &p, &r[n]), "wrong leaf for PATH({m}, D[{n}])");
            // Every wrong index.
            for j in (0..n).filter(|&j| j != m) {
                assert!(
                    !verify_inclusion(j as u64, size, &l[m], &p, &r[n]),
                    "PATH({m}, D[{n}]) at index {j}"
                );
            }
            // Every wrong size, together with the root of that size. (The
            // algorithm alone does not bind the size to the root: it can
            // accept a wrong size paired with the original root, so a
            // verifier must take both from the same signed tree head.)
            for n2 in (m + 1..=MAX).filter(|&n2| n2 != n) {
                assert!(
                    !verify_inclusion(index, n2 as u64, &l[m], &p, &r[n2]),
                    "PATH({m}, D[{n}]) as size {n2}"
                );
            }
            // Index outside the tree, short and long proofs.
            assert!(!verify_inclusion(size, size, &l[m], &p, &r[n]));
            if !p.is_empty() {
                assert!(!verify_inclusion(index, size, &l[m], &p[..p.len() - 1], &r[n]));
            }
            let mut long = p.clone();
            long.push(l[0]);
            assert!(!verify_inclusion(index, size, &l[m], &long, &r[n]));
        }
    }
}

#[test]
fn consistency_rejects_tampering() {
    let l = leaves(MAX);
    let r = roots(&l);
    for n in 2..=MAX {
        let second = n as u64;
        for m in 1..n {
            let first = m as u64;
            let p = proof(m, &l[..n]);
            // A flipped byte in any proof element or either root.
            for i in 0..p.len() {
                let bad = with_flipped(&p, i, 5 * i + n);
                assert!(
                    !verify_consistency(first, second, &r[m], &r[n], &bad),
                    "flip {i} in PROOF({m}, D[{n}])"
                );
            }
            assert!(!verify_consistency(first, second, &flipped(&r[m], m), &r[n], &p));
            assert!(!verify_consistency(first, second, &r[m], &flipped(&r[n], n), &p));
            // Every wrong first size with its root, every wrong second size with its root.
            for m2 in (1..n).filter(|&m2| m2 != m) {
                assert!(
                    !verify_consistency(m2 as u64, second, &r[m2], &r[n], &p),
                    "PROOF({m}, D[{n}]) from {m2}"
                );
            }
            for n2 in (m + 1..=MAX).filter(|&n2| n2 != n) {
                assert!(
                    !verify_consistency(first, n2 as u64, &r[m], &r[n2], &p),
                    "PROOF({m}, D[{n}]) to {n2}"
                );
            }
            // Empty, short and long proofs; sizes outside 0 < first < second.
            assert!(!verify_consistency(first, second, &r[m], &r[n], &[]));
            assert!(!verify_consistency(first, second, &r[m], &r[n], &p[..p.len() - 1]));
            let mut long = p.clone();
            long.push(l[0]);
            assert!(!verify_consistency(first, second, &r[m], &r[n], &long));
            assert!(!verify_consistency(0, second, &r[0], &r[n], &p));
            assert!(!verify_consistency(second, first, &r[n], &r[m], &p));
        }
    }
}

#[test]
fn proof_to_same_size_is_empty() {
    let l = leaves(5);
    for n in 1..=5 {
        assert!(proof(n, &l[..n]).is_empty());
    }
}
