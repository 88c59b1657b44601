//! Tenant slugs: the one rule for them, checked wherever a tenant is created.
//!
//! A slug names the tenant's folder of archives and its checkpoint log, and appears in file names
//! and response headers, so it is held to a set of characters that is safe in all of them. Slugs
//! stored before the rule existed are still read as they are (see `archive::recorded_path` and
//! `Content-Disposition` in the API): only new tenants must follow it.

use std::fmt;
use std::str::FromStr;

/// The rule, as a pattern.
pub const PATTERN: &str = "^[a-z0-9][a-z0-9-]{0,62}$";

/// The rule, in words, for error messages.
pub const RULE: &str =
    "a tenant slug is 1 to 63 characters, each a lowercase letter a-z, a digit or a hyphen, \
                        the first a letter or digit (^[a-z0-9][a-z0-9-]{0,62}$)";

/// Whether `text` follows the rule.
pub fn is_valid(text: &str) -> bool {
    let bytes = text.as_bytes();
    matches!(bytes.first(), Some(b'a'..=b'z' | b'0'..=b'9'))
        && bytes.len() <= 63
        && bytes.iter().all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-'))
}

/// A file name stem for a stored slug: the slug itself when it follows the rule, else `tenant-`
/// and the hex of its bytes, so that a slug stored before the rule (`../x`, `a/b`) can never
/// name a path outside the folder it is used in.
pub fn file_stem(slug: &str) -> String {
    if is_valid(slug) {
        slug.to_string()
    } else {
        format!("tenant-{}", hex::encode(slug.as_bytes()))
    }
}

/// A slug that follows the rule: only this type can create a tenant.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TenantSlug(String);

impl TenantSlug {
    pub fn parse(text: &str) -> Result<Self, InvalidSlug> {
        if is_valid(text) {
            Ok(TenantSlug(text.to_string()))
        } else {
            Err(InvalidSlug(text.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for TenantSlug {
    type Err = InvalidSlug;

    fn from_str(text: &str) -> Result<Self, InvalidSlug> {
        TenantSlug::parse(text)
    }
}

impl fmt::Display for TenantSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for TenantSlug {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A text that is not a valid slug; its message names the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidSlug(pub String);

impl fmt::Display for InvalidSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Debug quoting: the text may hold newlines or other controls.
        write!(f, "{:?} is not a valid tenant slug: {RULE}", self.0)
    }
}

impl std::error::Error for InvalidSlug {}

#[cfg(test)]
mod tests {
    #[test]
    fn file_stems_stay_in_their_folder() {
        assert_eq!(super::file_stem("acme-2"), "acme-2");
        for bad in ["../x", "a/b", "..", "", "A", "x\u{0}y"] {
            let stem = super::file_stem(bad);
            assert!(
                super::is_valid(&stem) || stem.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'),
                "{stem}"
            );
            assert!(stem.starts_with("tenant-") && !stem.contains(['/', '.']), "{stem}");
        }
        assert_ne!(super::file_stem("a/b"), super::file_stem("a\\b"));
    }

    use super::*;

    #[test]
    fn slugs_follow_the_rule() {
        let longest = format!("a{}", "-".repeat(62));
        for good in ["acme", "a", "0", "bench-1", "acme--2", "x-", longest.as_str()] {
            assert!(TenantSlug::parse(good).is_ok(), "{good:?}");
        }
        let too_long = format!("a{}", "b".repeat(63));
        for bad in [
            "",
            "-acme",
            "Acme",
            "../../evil",
            "..",
            ".",
            "a/b",
            "a\\b",
            "a\"b",
            "a\nb",
            "a b",
            "a_b",
            "a.b",
            "café",
            "acme\0",
            too_long.as_str(),
        ] {
            let error = TenantSlug::parse(bad).unwrap_err();
            assert!(error.to_string().contains(PATTERN), "{error}");
        }
        assert_eq!("bench-7".parse::<TenantSlug>().unwrap().as_str(), "bench-7");
    }
}
