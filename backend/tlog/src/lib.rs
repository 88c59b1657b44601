//! Transparency-log primitives, free of any database or web framework:
//!
//! - [`merkle`]: RFC 9162 §2.1 tree hashing, inclusion (single and multi-leaf) and consistency
//!   proofs, and their checks
//! - [`note`]: c2sp.org/signed-note with Ed25519 keys (signing, verifier keys, verification)
//! - [`checkpoint`]: c2sp.org/tlog-checkpoint bodies (origin, tree size, root hash)

pub mod checkpoint;
pub mod merkle;
pub mod note;

pub use checkpoint::Checkpoint;
pub use merkle::Hash;
