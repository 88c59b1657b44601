//! Rules for the text a request carries, shared by every handler that checks text, and the
//! `pattern`s that state them in the OpenAPI document, so that a client can tell valid text from
//! invalid without asking. Schema attributes must spell a pattern out as a literal: a test checks
//! that every pattern in the document is one of those named here.
//!
//! Lengths and control characters are checked on the text as sent (as `maxLength` and `pattern`
//! read it); surrounding whitespace is trimmed afterwards.

/// No control characters.
pub const LINE: &str = r"^[^\u0000-\u001F\u007F-\u009F]*$";
/// No control characters, and something besides whitespace.
pub const NON_BLANK_LINE: &str =
    r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$";
/// No control characters but tab and newline.
pub const TEXT: &str = r"^[^\u0000-\u0008\u000B-\u001F\u007F-\u009F]*$";
/// No control characters but tab and newline, and something besides whitespace.
pub const NON_BLANK_TEXT: &str = r"^[^\u0000-\u0008\u000B-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000B-\u001F\u007F-\u009F]*$";
/// An e-mail address as the server takes it: an `@`, no whitespace, no control characters.
pub const EMAIL: &str = r"^[^\s\u0000-\u001F\u007F-\u009F]*@[^\s\u0000-\u001F\u007F-\u009F]*$";

/// Whether `text` holds a control character; `multiline` text may hold tabs and newlines.
pub fn has_control(text: &str, multiline: bool) -> bool {
    text.chars().any(|c| c.is_control() && !(multiline && matches!(c, '\t' | '\n')))
}

/// Whether `text` is an e-mail address as [`EMAIL`] says.
pub fn is_email(text: &str) -> bool {
    text.contains('@') && !text.contains(char::is_whitespace) && !has_control(text, false)
}

/// A schema component written by hand, for a rule a derive cannot spell: the type `$type`, named
/// `$name` in the document, built by `$schema`.
macro_rules! component {
    ($(#[$meta:meta])* $type:ident = $name:literal, $schema:expr) => {
        $(#[$meta])*
        pub struct $type;

        impl utoipa::PartialSchema for $type {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
                utoipa::openapi::RefOr::T(utoipa::openapi::Schema::from($schema))
            }
        }

        impl utoipa::ToSchema for $type {
            fn name() -> std::borrow::Cow<'static, str> {
                $name.into()
            }
        }
    };
}
pub(crate) use component;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_in_the_document_is_one_of_ours() {
        let doc = serde_json::to_value(crate::http::openapi::document()).unwrap();
        let mut patterns = Vec::new();
        fn walk(value: &serde_json::Value, out: &mut Vec<String>) {
            match value {
                serde_json::Value::Object(map) => {
                    for (key, v) in map {
                        match (key.as_str(), v) {
                            ("pattern", serde_json::Value::String(p)) => out.push(p.clone()),
                            _ => walk(v, out),
                        }
                    }
                }
                serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
                _ => {}
            }
        }
        walk(&doc, &mut patterns);
        // Ours, and a few simple ones that state their own rule (ids, cursors, actions …).
        let ours = [LINE, NON_BLANK_LINE, TEXT, NON_BLANK_TEXT, EMAIL];
        for p in &patterns {
            let simple = !p.contains("\\u");
            assert!(ours.contains(&p.as_str()) || simple, "unknown pattern {p}: use a constant of text.rs");
        }
        assert!(patterns.iter().any(|p| p == NON_BLANK_LINE), "the patterns are in use");
    }

    #[test]
    fn whitespace_and_control_characters() {
        assert!(has_control("a\u{7}b", true) && has_control("a\rb", true));
        assert!(!has_control("a\tb\nc", true) && has_control("a\tb", false));
        assert!(is_email("a@b") && is_email("a@b@c") && !is_email("a b@c") && !is_email("ab"));
    }
}
