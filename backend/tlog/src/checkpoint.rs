//! c2sp.org/tlog-checkpoint: the signed statement "the log `origin` has `size` leaves with this
//! root". The body is three lines — origin, decimal size, base64 root hash — each ending in a
//! newline; lines after them (extensions) are ignored when reading.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;

use crate::merkle::Hash;
use crate::note::{NoteError, Signer, Verifier};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

impl Checkpoint {
    /// The note text.
    pub fn body(&self) -> String {
        format!("{}\n{}\n{}\n", self.origin, self.size, BASE64.encode(self.root))
    }

    /// Reads a checkpoint body (the text of a note, without signatures).
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let bad = |why: &str| NoteError::Malformed(format!("not a checkpoint: {why}"));
        let mut lines = text.split_terminator('\n');
        let origin = lines.next().filter(|o| !o.is_empty()).ok_or_else(|| bad("no origin line"))?;
        let size = lines.next().ok_or_else(|| bad("no size line"))?;
        if size.is_empty()
            || (size.len() > 1 && size.starts_with('0'))
            || !size.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad("the size is not a decimal number"));
        }
        let size = size.parse().map_err(|_| bad("the size is too large"))?;
        let root = BASE64
            .decode(lines.next().ok_or_else(|| bad("no root line"))?)
            .map_err(|_| bad("the root is not base64"))?;
        let root: Hash = root.try_into().map_err(|_| bad("the root is not 32 bytes"))?;
        Ok(Checkpoint { origin: origin.into(), size, root })
    }

    /// Signs the checkpoint into a note.
    pub fn sign(&self, signer: &Signer) -> Result<String, NoteError> {
        signer.sign(&self.body())
    }

    /// Checks a signed checkpoint note and reads it.
    pub fn open(note: &str, verifier: &Verifier) -> Result<Self, NoteError> {
        Self::parse(verifier.verify(note)?)
    }

    /// The root hash in standard base64.
    pub fn root_base64(&self) -> String {
        BASE64.encode(self.root)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_sign_parse_and_refuse_forgery() {
        let signer = Signer::generate("auditlog.test").unwrap();
        let checkpoint = Checkpoint { origin: "auditlog.test/acme".into(), size: 12, root: [7; 32] };
        let note = checkpoint.sign(&signer).unwrap();
        assert!(note.starts_with("auditlog.test/acme\n12\nBwcH"));
        assert_eq!(Checkpoint::open(&note, &signer.verifier()).unwrap(), checkpoint);
        let forged = note.replace("\n12\n", "\n13\n");
        assert!(Checkpoint::open(&forged, &signer.verifier()).is_err());
        for bad in ["o\n012\nBwcH\n", "o\n-1\nBwcH\n", "o\n1\n", "\n1\nAAAA\n", "o\n1\nAAAA\n"] {
            assert!(Checkpoint::parse(bad).is_err(), "{bad:?}");
        }
    }
}
