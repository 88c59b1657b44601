//! Rules for the text a request carries. Each text field of a request is a type made by
//! [`text_type!`]: reading it checks it, and its schema states the same rule, with one of the
//! `pattern`s below, so that a client can tell valid text from invalid without asking. A test
//! checks that every pattern in the document is one of those named here.
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

/// What a text field may hold besides its length: each form is one of the patterns above.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// One line ([`LINE`]).
    Line,
    /// One line, not blank ([`NON_BLANK_LINE`]).
    NonBlankLine,
    /// Tabs and newlines allowed ([`TEXT`]).
    Text,
    /// Tabs and newlines allowed, not blank ([`NON_BLANK_TEXT`]).
    NonBlankText,
    /// An e-mail address ([`EMAIL`]).
    Email,
}

impl Form {
    /// The pattern that states this form in the OpenAPI document.
    pub const fn pattern(self) -> &'static str {
        match self {
            Form::Line => LINE,
            Form::NonBlankLine => NON_BLANK_LINE,
            Form::Text => TEXT,
            Form::NonBlankText => NON_BLANK_TEXT,
            Form::Email => EMAIL,
        }
    }

    /// Why `raw` (as sent, before trimming: as `maxLength` and `pattern` read it) is not text of
    /// this form of at most `max` characters, as a sentence starting with "must"; `None` if it is.
    pub fn flaw(self, raw: &str, max: usize) -> Option<String> {
        let multiline = matches!(self, Form::Text | Form::NonBlankText);
        if raw.chars().count() > max {
            return Some(format!("must be at most {max} characters"));
        }
        if self == Form::Email {
            return (!is_email(raw)).then(|| "must be an e-mail address: an `@`, no whitespace".into());
        }
        if has_control(raw, multiline) {
            return Some(if multiline {
                "must not hold control characters other than tab and newline".into()
            } else {
                "must not hold control characters".into()
            });
        }
        if matches!(self, Form::NonBlankLine | Form::NonBlankText) && raw.trim().is_empty() {
            return Some("must not be empty".into());
        }
        None
    }

    /// The schema of text of this form of at most `max` characters.
    pub fn schema(self, max: usize) -> utoipa::openapi::ObjectBuilder {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .max_length(Some(max))
            .pattern(Some(self.pattern()))
    }
}

/// A doc comment's lines as one description: lines joined, paragraphs kept.
pub fn description(lines: &[&str]) -> String {
    let mut out = String::new();
    for line in lines.iter().map(|l| l.trim()) {
        if line.is_empty() {
            out.push_str("\n\n");
        } else {
            if !out.is_empty() && !out.ends_with('\n') {
                out.push(' ');
            }
            out.push_str(line);
        }
    }
    out.trim().to_string()
}

/// A request's text field: a type whose deserialisation is its check (length and [`Form`] on
/// the text as sent, then trimmed) and whose schema, a named component described by the type's
/// doc comment, states the same rule. `Label: Text, 256` is at most 256 characters of [`TEXT`].
/// The long form names its own reader (`read`, a `deserialize_with` function giving text),
/// check (`flaw`, as [`Form::flaw`]) and schema (`schema`, given the description).
macro_rules! text_type {
    ($(#[doc = $doc:literal])* $name:ident: $form:ident, $max:expr) => {
        $crate::text::text_type!(
            $(#[doc = $doc])*
            $name {
                read: <String as serde::Deserialize>::deserialize,
                flaw: |raw: &str| $crate::text::Form::$form.flaw(raw, $max),
                schema: |description: String| {
                    $crate::text::Form::$form.schema($max).description(Some(description)).build().into()
                },
            }
        );
        impl $name {
            /// Most characters it takes.
            #[allow(dead_code)]
            pub const MAX: usize = $max;
        }
    };
    ($(#[doc = $doc:literal])* $name:ident { read: $read:expr, flaw: $flaw:expr, schema: $schema:expr, }) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        #[allow(dead_code)]
        impl $name {
            /// The text, trimmed.
            pub fn into_inner(self) -> String {
                self.0
            }

            /// The text, trimmed; `None` when nothing is left.
            pub fn non_empty(self) -> Option<String> {
                Some(self.0).filter(|text| !text.is_empty())
            }

            /// The text, trimmed.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw: String = ($read)(deserializer)?;
                let flaw: fn(&str) -> Option<String> = $flaw;
                match flaw(&raw) {
                    Some(flaw) => Err(serde::de::Error::custom(flaw)),
                    None => Ok($name(raw.trim().to_string())),
                }
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
                let schema: fn(String) -> utoipa::openapi::Schema = $schema;
                schema($crate::text::description(&[$($doc),*])).into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
        }
    };
}
pub(crate) use text_type;

text_type!(
    /// An e-mail address: an `@`, no whitespace, at most 254 characters.
    Email: Email, 254
);

/// A schema component written by hand, for a rule a derive cannot spell: the type `$type`, named
/// `$name` in the document, built by `$schema`. With `for`, the schema of a type declared
/// elsewhere.
macro_rules! component {
    ($(#[$meta:meta])* $type:ident = $name:literal, $schema:expr) => {
        $(#[$meta])*
        pub struct $type;

        $crate::text::component!(for $type = $name, $schema);
    };
    (for $type:ident = $name:literal, $schema:expr) => {
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

/// `1204` as "1,204", as the dashboard writes counts (in sentences and the PDF export).
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1204), "1,204");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }

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
