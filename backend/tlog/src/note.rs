//! c2sp.org/signed-note with Ed25519 keys.
//!
//! A note is UTF-8 text ending in a newline, a blank line, then signature lines
//! `— <key name> <base64(key id ‖ signature)>`. The key id is the first four bytes of
//! `SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)`; a verifier key is written
//! `<name>+<key id, 8 hex digits>+<base64(0x01 ‖ public key)>`.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use sha2::{Digest, Sha256};

/// The signature type byte of Ed25519 keys.
const ED25519: u8 = 0x01;
const DASH: &str = "\u{2014} ";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("invalid key name {0:?}: it must be non-empty, without spaces or '+'")]
    BadName(String),
    #[error("the verifier key is malformed: {0}")]
    BadVerifierKey(String),
    #[error("the signing key is not a PKCS#8 PEM Ed25519 key: {0}")]
    BadSigningKey(String),
    #[error("the note is malformed: {0}")]
    Malformed(String),
    #[error("the note carries no signature by key {0}")]
    NotSigned(String),
    #[error("the signature by key {0} does not match the note")]
    BadSignature(String),
}

fn valid_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty() || name.chars().any(|c| c == '+' || c.is_whitespace() || c.is_control()) {
        return Err(NoteError::BadName(name.into()));
    }
    Ok(())
}

/// The 32-bit key id of an Ed25519 public key under `name`.
pub fn key_id(name: &str, public: &VerifyingKey) -> u32 {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update(b"\n");
    hasher.update([ED25519]);
    hasher.update(public.as_bytes());
    let digest = hasher.finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// A named Ed25519 signing key.
#[derive(Clone)]
pub struct Signer {
    name: String,
    key: SigningKey,
    id: u32,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signer({}+{:08x})", self.name, self.id)
    }
}

impl Signer {
    pub fn new(name: &str, key: SigningKey) -> Result<Self, NoteError> {
        valid_name(name)?;
        let id = key_id(name, &key.verifying_key());
        Ok(Signer { name: name.into(), key, id })
    }

    /// A key from PKCS#8 PEM text, as `openssl genpkey -algorithm ed25519` writes it.
    pub fn from_pem(name: &str, pem: &str) -> Result<Self, NoteError> {
        let key = SigningKey::from_pkcs8_pem(pem).map_err(|e| NoteError::BadSigningKey(e.to_string()))?;
        Self::new(name, key)
    }

    /// A new random key.
    pub fn generate(name: &str) -> Result<Self, NoteError> {
        Self::new(name, SigningKey::generate(&mut rand_core::OsRng))
    }

    /// The key as PKCS#8 PEM text.
    pub fn to_pem(&self) -> Result<String, NoteError> {
        self.key
            .to_pkcs8_pem(Default::default())
            .map(|pem| pem.to_string())
            .map_err(|e| NoteError::BadSigningKey(e.to_string()))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn verifier(&self) -> Verifier {
        Verifier { name: self.name.clone(), id: self.id, key: self.key.verifying_key() }
    }

    /// Signs `text` (which must end in a newline and hold no blank line) into a note.
    pub fn sign(&self, text: &str) -> Result<String, NoteError> {
        check_text(text)?;
        let signature = self.key.sign(text.as_bytes());
        let mut blob = self.id.to_be_bytes().to_vec();
        blob.extend_from_slice(&signature.to_bytes());
        Ok(format!("{text}\n{DASH}{} {}\n", self.name, BASE64.encode(blob)))
    }
}

fn check_text(text: &str) -> Result<(), NoteError> {
    if !text.ends_with('\n') || text.contains("\n\n") || text.starts_with('\n') {
        return Err(NoteError::Malformed(
            "the text must be non-empty lines, each ending in a newline".into(),
        ));
    }
    Ok(())
}

/// A named Ed25519 public key that checks notes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verifier {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl Verifier {
    /// Reads `<name>+<hex id>+<base64(0x01 ‖ key)>`.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let bad = |why: &str| NoteError::BadVerifierKey(why.into());
        let mut parts = text.trim().splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("expected <name>+<key id>+<key>"));
        };
        valid_name(name)?;
        if id.len() != 8 {
            return Err(bad("the key id must be 8 hex digits"));
        }
        let id = u32::from_str_radix(id, 16).map_err(|_| bad("the key id must be 8 hex digits"))?;
        let bytes = BASE64.decode(key).map_err(|_| bad("the key is not base64"))?;
        if bytes.len() != 33 || bytes[0] != ED25519 {
            return Err(bad("not an Ed25519 key (type 0x01, 32 bytes)"));
        }
        let raw: [u8; 32] = bytes[1..].try_into().map_err(|_| bad("wrong key length"))?;
        let key = VerifyingKey::from_bytes(&raw).map_err(|_| bad("not a valid Ed25519 point"))?;
        if key_id(name, &key) != id {
            return Err(bad("the key id does not match the name and key"));
        }
        Ok(Verifier { name: name.into(), id, key })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        self.id
    }

    /// Checks that `note` carries a valid signature by this key; returns its text. Signatures by
    /// other keys are ignored.
    pub fn verify<'a>(&self, note: &'a str) -> Result<&'a str, NoteError> {
        let (text, signatures) = split(note)?;
        let mut seen = false;
        for line in signatures.lines() {
            let Some(rest) = line.strip_prefix(DASH) else {
                return Err(NoteError::Malformed("a signature line does not start with an em dash".into()));
            };
            let Some((name, blob)) = rest.split_once(' ') else {
                return Err(NoteError::Malformed("a signature line has no signature".into()));
            };
            if name != self.name {
                continue;
            }
            let blob =
                BASE64.decode(blob).map_err(|_| NoteError::Malformed("a signature is not base64".into()))?;
            if blob.len() < 4 || u32::from_be_bytes([blob[0], blob[1], blob[2], blob[3]]) != self.id {
                continue;
            }
            seen = true;
            let signature =
                Signature::from_slice(&blob[4..]).map_err(|_| NoteError::BadSignature(self.to_string()))?;
            if self.key.verify(text.as_bytes(), &signature).is_ok() {
                return Ok(text);
            }
        }
        Err(if seen {
            NoteError::BadSignature(self.to_string())
        } else {
            NoteError::NotSigned(self.to_string())
        })
    }
}

impl std::fmt::Display for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut bytes = vec![ED25519];
        bytes.extend_from_slice(self.key.as_bytes());
        write!(f, "{}+{:08x}+{}", self.name, self.id, BASE64.encode(bytes))
    }
}

/// A note's text (with its final newline) and its signature block.
pub fn split(note: &str) -> Result<(&str, &str), NoteError> {
    let at = note
        .rfind("\n\n")
        .ok_or_else(|| NoteError::Malformed("no blank line before the signatures".into()))?;
    let (text, signatures) = (&note[..=at], &note[at + 2..]);
    check_text(text)?;
    if signatures.is_empty() || !signatures.ends_with('\n') {
        return Err(NoteError::Malformed("the signature block must end in a newline".into()));
    }
    Ok((text, signatures))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_round_trip_and_reject_changes() {
        let signer = Signer::generate("auditlog.test").unwrap();
        let verifier = Verifier::parse(&signer.verifier().to_string()).unwrap();
        assert_eq!(verifier, signer.verifier());
        let note = signer.sign("example.com/log\n3\nAAAA\n").unwrap();
        assert_eq!(verifier.verify(&note).unwrap(), "example.com/log\n3\nAAAA\n");
        assert!(matches!(verifier.verify(&note.replace("\n3\n", "\n4\n")), Err(NoteError::BadSignature(_))));
        let other = Signer::generate("auditlog.test").unwrap().verifier();
        assert!(matches!(other.verify(&note), Err(NoteError::NotSigned(_))));
        let renamed = Signer::new("other", signer.key.clone()).unwrap().verifier();
        assert!(matches!(renamed.verify(&note), Err(NoteError::NotSigned(_))));
        assert!(signer.sign("no newline").is_err());
        assert!(Verifier::parse("name+00000000+AQ==").is_err());
    }

    /// The example verifier key of the signed-note specification (c2sp.org/signed-note).
    #[test]
    fn key_ids_follow_the_specification() {
        let verifier =
            Verifier::parse("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW").unwrap();
        assert_eq!(verifier.key_id(), 0xc74f20a3);
        let note = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
        assert!(verifier.verify(note).unwrap().starts_with("If you think"));
    }

    #[test]
    fn pem_keys_load() {
        let signer = Signer::generate("k").unwrap();
        let again = Signer::from_pem("k", &signer.to_pem().unwrap()).unwrap();
        assert_eq!(again.verifier(), signer.verifier());
        assert!(Signer::from_pem("k", "not a key").is_err());
    }
}
