//! What the API says about input it cannot read. Libraries (serde, serde_json, the query-string
//! and path deserialisers) explain a failure in their own terms — Rust type names, `invalid type:
//! …, expected …`, positions as `at line 1 column 5`. A client gets the product's sentence
//! instead, built here from the library's error category; the library's text goes to the debug log.

/// A deserialisation failure, by serde's categories (see `serde::de::Error`'s provided methods,
/// whose messages [`Flaw::parse`] recognises).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flaw {
    /// A member (or parameter) the type does not have; `known` lists the ones it has.
    Unknown { name: String, known: Vec<String> },
    /// A required member is absent.
    Missing { name: String },
    /// The same member twice.
    Duplicate { name: String },
    /// A text that is none of the allowed values.
    NotAllowed { allowed: Vec<String> },
    /// A value of the wrong JSON type: what it must be, and what was sent, when known.
    WrongType { must_be: Option<String>, sent: Option<&'static str> },
    /// A value of the right type that is out of range or otherwise not accepted.
    WrongValue { must_be: Option<String> },
    /// An array or tuple with the wrong number of items.
    WrongLength,
    /// A query or path value that is not an integer of the type's range (`str::parse`'s error,
    /// which names neither: `-1` for an unsigned type is an "invalid digit").
    NotAnInteger,
    /// A query or path value that is not a number.
    NotANumber,
    /// A query or path value whose number does not fit.
    OutOfRange,
    /// `true` or `false` was needed.
    NotABoolean,
    /// A query parameter given several times where it takes one value.
    Repeated,
    /// A message of this crate's own deserialisers, which are written as product sentences
    /// starting with `must` (see [`crate::http::json`] and [`crate::events::ingest`]).
    Own(String),
    /// Anything else: the text is the library's, so it is not shown.
    Unreadable,
}

impl Flaw {
    /// Classifies a serde error message (without serde_json's ` at line … column …`).
    pub fn parse(message: &str) -> Flaw {
        let message = message.trim();
        if let Some(rest) = message.strip_prefix("unknown field ") {
            let (name, rest) = quoted(rest);
            return Flaw::Unknown { name, known: listed(rest) };
        }
        if let Some(rest) = message.strip_prefix("missing field ") {
            return Flaw::Missing { name: quoted(rest).0 };
        }
        if let Some(rest) = message.strip_prefix("duplicate field ") {
            return Flaw::Duplicate { name: quoted(rest).0 };
        }
        if let Some(rest) = message.strip_prefix("unknown variant ") {
            return Flaw::NotAllowed { allowed: listed(quoted(rest).1) };
        }
        if let Some(rest) = message.strip_prefix("invalid type: ") {
            let (sent, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
            return Flaw::WrongType { must_be: must_be(expected), sent: sent_kind(sent) };
        }
        if let Some(rest) = message.strip_prefix("invalid value: ") {
            let expected = rest.split_once(", expected ").map(|(_, e)| e).unwrap_or("");
            return Flaw::WrongValue { must_be: must_be(expected) };
        }
        if let Some(rest) = message.strip_prefix("invalid length ") {
            // A struct read from an array (serde takes one): say it is to be an object.
            let expected = rest.split_once(", expected ").map(|(_, e)| e).unwrap_or("");
            if expected.starts_with("struct ") {
                return Flaw::WrongType { must_be: must_be(expected), sent: Some("an array") };
            }
            return Flaw::WrongLength;
        }
        if message.starts_with("must ") {
            return Flaw::Own(message.to_string());
        }
        // `str::parse` errors, which the query-string and path deserialisers pass on as they are.
        match message {
            "invalid digit found in string" | "cannot parse integer from empty string" => Flaw::NotAnInteger,
            "invalid float literal" => Flaw::NotANumber,
            "number too large to fit in target type" | "number too small to fit in target type" => {
                Flaw::OutOfRange
            }
            "provided string was not `true` or `false`" => Flaw::NotABoolean,
            "unsupported value" => Flaw::Repeated,
            _ => {
                if let Some(rest) = message.strip_prefix("can not parse ") {
                    // actix-router: `can not parse "abc" to a i64`.
                    let target = rest.rsplit_once(" to a ").map(|(_, t)| t).unwrap_or("");
                    return Flaw::WrongType { must_be: must_be(target), sent: None };
                }
                Flaw::Unreadable
            }
        }
    }

    /// The member or parameter the flaw itself names (unknown, missing, twice), if any.
    pub fn name(&self) -> Option<&str> {
        match self {
            Flaw::Unknown { name, .. } | Flaw::Missing { name } | Flaw::Duplicate { name } => Some(name),
            _ => None,
        }
    }

    /// What is wrong, as a phrase to follow the field's pointer or the parameter's name
    /// (`/role: must be one of …`); `noun` is what the input is made of (`field`, `parameter`).
    pub fn message(&self, noun: &str) -> String {
        match self {
            Flaw::Unknown { known, .. } if known.is_empty() => {
                format!("is not a known {noun}; this takes none")
            }
            Flaw::Unknown { known, .. } => {
                format!("is not a known {noun}; the {noun}s are {}", known.join(", "))
            }
            Flaw::Missing { .. } => "is required".into(),
            Flaw::Duplicate { name } => repeated_key(name),
            Flaw::NotAllowed { allowed } if allowed.is_empty() => "is not an accepted value".into(),
            Flaw::NotAllowed { allowed } => format!("must be one of {}", backticked(allowed)),
            Flaw::WrongType { must_be: Some(want), sent: Some(sent) } => {
                format!("must be {want}, not {sent}")
            }
            Flaw::WrongType { must_be: Some(want), sent: None }
            | Flaw::WrongValue { must_be: Some(want) } => {
                format!("must be {want}")
            }
            Flaw::WrongType { must_be: None, sent: Some(sent) } => format!("has the wrong type ({sent})"),
            Flaw::WrongType { must_be: None, sent: None } => "has the wrong type".into(),
            Flaw::WrongValue { must_be: None } => "has a value that is not accepted".into(),
            Flaw::WrongLength => "has the wrong number of items".into(),
            Flaw::NotAnInteger => format!("must be a whole number in the range the {noun} takes"),
            Flaw::NotANumber => "must be a number".into(),
            Flaw::OutOfRange => format!("is a number out of the range the {noun} takes"),
            Flaw::NotABoolean => "must be `true` or `false`".into(),
            Flaw::Repeated => "may be given only once".into(),
            Flaw::Own(message) => message.clone(),
            Flaw::Unreadable => "has a value that cannot be read".into(),
        }
    }
}

/// What is wrong with a member whose key appears twice in its object, however it was found.
pub fn repeated_key(key: &str) -> String {
    let key = serde_json::to_string(key).unwrap_or_default();
    format!("the key {key} appears more than once in its object; give each key once")
}

/// The text between the first pair of backticks, and what follows it.
fn quoted(text: &str) -> (String, &str) {
    let Some(inner) = text.strip_prefix('`') else {
        return (String::new(), text);
    };
    // A name can hold a backtick itself: the closing one is the one before `, ` or the end.
    let end = inner.find("`, ").or_else(|| inner.rfind('`')).unwrap_or(inner.len());
    (inner[..end].to_string(), inner.get(end + 1..).unwrap_or(""))
}

/// The names of serde's `, expected `a``, `, expected `a` or `b`` or `, expected one of `a`,
/// `b`, `c`` tail.
fn listed(tail: &str) -> Vec<String> {
    let Some(list) = tail.strip_prefix(", expected ") else {
        return Vec::new();
    };
    let separator = if list.starts_with("one of ") { "`, `" } else { "` or `" };
    let list = list.strip_prefix("one of ").unwrap_or(list);
    let list = list.strip_prefix('`').and_then(|l| l.strip_suffix('`')).unwrap_or(list);
    list.split(separator).map(str::to_string).filter(|n| !n.is_empty()).collect()
}

fn backticked(names: &[String]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

/// The JSON kind of serde's `Unexpected` as serde and serde_json write it.
fn sent_kind(unexpected: &str) -> Option<&'static str> {
    let kinds = [
        ("boolean", "a boolean"),
        ("integer", "a number"),
        ("floating point", "a number"),
        ("string", "a string"),
        ("character", "a string"),
        ("null", "null"),
        ("unit value", "null"),
        ("sequence", "an array"),
        ("map", "an object"),
    ];
    kinds.iter().find(|(prefix, _)| unexpected.starts_with(prefix)).map(|(_, kind)| *kind)
}

/// The product's words for what serde's `Expected` says a value must be; `None` for anything it
/// does not know (a Rust type name must not reach the client).
fn must_be(expected: &str) -> Option<String> {
    macro_rules! integers {
        ($($t:ty),*) => {
            $(
                if expected == stringify!($t) {
                    return Some(format!("an integer from {} to {}", <$t>::MIN, <$t>::MAX));
                }
            )*
        };
    }
    integers!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);
    let words = match expected {
        "a boolean" | "bool" => "`true` or `false`",
        "f32" | "f64" | "a JSON number" => "a number",
        "a string" | "a borrowed string" | "a character" | "char" | "string" => "a string",
        "a sequence" => "an array",
        "a map" => "an object",
        "any valid JSON value" => "a JSON value",
        e if e.starts_with("struct ") => "an object",
        e if e.starts_with("a tuple") || e.starts_with("tuple") => "an array",
        // An enum read from text, or (`string or map`) from a parsed value.
        e if e.starts_with("enum ") || e == "variant identifier" || e == "string or map" => {
            "a string naming one of the accepted values"
        }
        _ => return None,
    };
    Some(words.to_string())
}

/// serde_json's position suffix ` at line L column C` taken off its message; the position is
/// given back separately so that it can be said in the product's words.
pub fn without_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(at) if error.line() > 0 => text[..at].to_string(),
        _ => text,
    }
}

/// `(line L, column C)`, or nothing when serde_json knows no position.
pub fn position(error: &serde_json::Error) -> String {
    if error.line() == 0 {
        String::new()
    } else {
        format!(" (line {}, column {})", error.line(), error.column())
    }
}

/// Why a body is not JSON, from serde_json's syntax messages; `None` for a generic sentence.
pub fn syntax_reason(message: &str) -> Option<&'static str> {
    let reasons = [
        ("EOF while parsing", "it ends before the JSON value is complete"),
        ("trailing characters", "something follows the JSON value"),
        ("trailing comma", "a comma is followed by no item"),
        ("key must be a string", "an object key is not a string"),
        ("control character", "a string holds an unescaped control character"),
        ("invalid escape", "a string holds an invalid escape"),
        ("invalid unicode code point", "a string holds an invalid \\u escape"),
        ("lone leading surrogate", "a string holds an invalid \\u escape"),
        ("unexpected end of hex escape", "a string holds an invalid \\u escape"),
        ("number out of range", "a number is too large"),
        ("invalid number", "a number is malformed"),
    ];
    reasons.iter().find(|(prefix, _)| message.starts_with(prefix)).map(|(_, reason)| *reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_categories_become_product_sentences() {
        let cases = [
            (
                "unknown field `colour`, expected one of `action`, `actor`",
                Some("colour"),
                "is not a known field; the fields are action, actor",
            ),
            ("unknown field `x`, there are no fields", Some("x"), "is not a known field; this takes none"),
            ("missing field `email`", Some("email"), "is required"),
            (
                "duplicate field `email`",
                Some("email"),
                "the key \"email\" appears more than once in its object; give each key once",
            ),
            (
                "unknown variant `boss`, expected one of `admin`, `manager`, `member`",
                None,
                "must be one of `admin`, `manager`, `member`",
            ),
            ("unknown variant `x`, expected `only`", None, "must be one of `only`"),
            ("unknown variant `x`, expected `a` or `b, c`", None, "must be one of `a`, `b, c`"),
            (
                "invalid type: string \"x\", expected u32",
                None,
                "must be an integer from 0 to 4294967295, not a string",
            ),
            ("invalid type: null, expected a string", None, "must be a string, not null"),
            ("invalid type: sequence, expected struct ActorInput", None, "must be an object, not an array"),
            ("invalid type: map, expected a sequence", None, "must be an array, not an object"),
            ("invalid type: boolean `true`, expected a map", None, "must be an object, not a boolean"),
            (
                "invalid type: integer `5`, expected enum RoleSchema",
                None,
                "must be a string naming one of the accepted values, not a number",
            ),
            ("invalid type: integer `5`, expected SomethingElse", None, "has the wrong type (a number)"),
            (
                "invalid value: integer `-1`, expected u64",
                None,
                "must be an integer from 0 to 18446744073709551615",
            ),
            ("invalid length 3, expected a tuple of size 2", None, "has the wrong number of items"),
            (
                "invalid length 0, expected struct Outer with 3 elements",
                None,
                "must be an object, not an array",
            ),
            ("must be a string or an integer", None, "must be a string or an integer"),
            ("invalid digit found in string", None, "must be a whole number in the range the field takes"),
            ("number too large to fit in target type", None, "is a number out of the range the field takes"),
            ("invalid float literal", None, "must be a number"),
            (
                "invalid type: integer `7`, expected string or map",
                None,
                "must be a string naming one of the accepted values, not a number",
            ),
            ("provided string was not `true` or `false`", None, "must be `true` or `false`"),
            ("unsupported value", None, "may be given only once"),
            (
                "can not parse \"abc\" to a i64",
                None,
                "must be an integer from -9223372036854775808 to 9223372036854775807",
            ),
            ("data did not match any variant of untagged enum X", None, "has a value that cannot be read"),
        ];
        for (raw, name, message) in cases {
            let flaw = Flaw::parse(raw);
            assert_eq!(flaw.name(), name, "{raw}");
            assert_eq!(flaw.message("field"), message, "{raw}");
        }
    }

    #[test]
    fn serde_json_positions_are_said_in_our_words() {
        let error = serde_json::from_str::<serde_json::Value>("{\"a\": tru}").unwrap_err();
        assert!(!without_position(&error).contains("line"), "{error}");
        assert_eq!(position(&error), " (line 1, column 10)");
        let eof = serde_json::from_str::<serde_json::Value>("[1, 2").unwrap_err();
        assert_eq!(syntax_reason(&without_position(&eof)), Some("it ends before the JSON value is complete"));
    }
}
